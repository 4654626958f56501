/* sc-torch-zip.h: PyTorch checkpoints (`torch.save` zip format), read safely.
 *
 * The zip is mapped; `archive/data.pkl` is read by the restricted
 * unpickler of sc-pickle.h (which executes nothing) and each tensor points
 * into its stored (uncompressed) `archive/data/<key>` entry.
 */
#pragma once

#include "sc-tensor.h"

G_BEGIN_DECLS

typedef struct _ScTorchZip ScTorchZip;

ScTorchZip *sc_torch_zip_open    (const char *path, GError **error);
void        sc_torch_zip_free    (ScTorchZip *tz);
GPtrArray  *sc_torch_zip_tensors (ScTorchZip *tz);

/* Parse a whole zip image already in memory (used by open and by the
 * fuzzer). On success returns an array of ScTensor whose data point into
 * `buf`; free with g_ptr_array_unref. */
GPtrArray  *sc_torch_zip_parse   (const guint8 *buf, gsize len, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScTorchZip, sc_torch_zip_free)

G_END_DECLS
