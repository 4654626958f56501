/* fuzz-bpe.c: libFuzzer target for the tokenizer.json loader and the
 * byte-level BPE encoder/decoder it sets up. */
#include "sc-bpe.h"
#include "sc-tensor.h"

#include <stdint.h>
#include <stdlib.h>

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  GError *error = NULL;
  ScBpe *bpe = sc_bpe_parse ((const char *) data, (gssize) size, &error);

  if (bpe == NULL)
    {
      if (error == NULL || error->domain != SC_ERROR)
        abort (); /* failure without a proper error */
      g_clear_error (&error);
      return 0;
    }
  /* encode text that reaches every pre-tokenizer branch and the added
   * tokens, then decode every id around the vocabulary */
  static const char text[] = "Hello,  world! f(x)|y … 人人生而自由。 <s>a</s> \t\n 😀 "
                             "سبھی । 12 345\xc2\xa0z";
  GArray *ids = sc_bpe_encode (bpe, text, -1, &error);
  if (ids == NULL)
    abort ();
  char *s = sc_bpe_decode (bpe, (const int *) ids->data, ids->len, FALSE);
  g_free (s);
  g_array_unref (ids);
  int n = MIN (sc_bpe_vocab_size (bpe) + 2, 4096);
  int *all = g_new (int, n + 1);
  for (int i = 0; i <= n; i++)
    all[i] = i - 1;
  s = sc_bpe_decode (bpe, all, n + 1, TRUE);
  g_free (s);
  g_free (all);
  sc_bpe_free (bpe);
  return 0;
}
