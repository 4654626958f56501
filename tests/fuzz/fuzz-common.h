/* fuzz-common.h: shared bits of the libFuzzer targets. */
#pragma once

#include "sc-tensor.h"

#include <stdint.h>
#include <stdlib.h>

/* GLib criticals and warnings (a g_return_if_fail tripping) are bugs:
 * make them abort so the fuzzer reports them. */
int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  return 0;
}

/* Read every byte of every returned tensor, so a view that points outside
 * the input trips AddressSanitizer, and convert a few elements. */
static inline void
fuzz_touch (GPtrArray *tensors)
{
  volatile guint8 sink = 0;

  for (guint i = 0; i < tensors->len; i++)
    {
      const ScTensor *t = tensors->pdata[i];
      const guint8 *p = t->data;
      float f[4];
      int64_t n = sc_tensor_numel (t);

      for (guint64 k = 0; k < t->nbytes; k++)
        sink ^= p[k];
      sc_tensor_read_f32 (t, 0, MIN (n, 4), f);
      sc_tensor_read_f32 (t, n - MIN (n, 4), MIN (n, 4), f);
    }
  (void) sink;
}
