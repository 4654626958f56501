/* fuzz-expert-index.c: libFuzzer target for the expert index reader (the
 * paper authors' experts.json, `--experts`) and the keep file reader
 * (`export --keep`). Whatever the index reader accepts must write and read
 * back equal. */
#include "sc-expert-index.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  return 0;
}

/* NLLB-MoE 54B: 12 MoE layers (6 in the encoder) of 128 experts. */
#define L 12
#define L_ENC 6
#define E 128

static gboolean
same_ids (GArray *a, GArray *b)
{
  /* an empty GArray may have no data at all */
  return (a == NULL) == (b == NULL) &&
         (a == NULL || (a->len == b->len &&
                        (a->len == 0 || memcmp (a->data, b->data, a->len * sizeof (int)) == 0)));
}

static void
check_index (ScExpertIndex *idx)
{
  gsize len = 0;
  char *json = sc_expert_index_to_json (idx, &len);
  GError *error = NULL;
  ScExpertIndex *back = sc_expert_index_from_json (json, (gssize) len, L, L_ENC, E, &error);
  if (back == NULL)
    abort (); /* written but not read back */
  if (sc_expert_index_is_global (idx) != sc_expert_index_is_global (back) ||
      !same_ids (sc_expert_index_get (idx, NULL), sc_expert_index_get (back, NULL)))
    abort ();
  char **keys = sc_expert_index_keys (idx), **keys2 = sc_expert_index_keys (back);
  if (g_strv_length (keys) != g_strv_length (keys2))
    abort ();
  for (guint i = 0; keys[i] != NULL; i++)
    {
      GArray *ids = sc_expert_index_get (idx, keys[i]);
      if (strcmp (keys[i], keys2[i]) != 0 || !same_ids (ids, sc_expert_index_get (back, keys[i])))
        abort ();
      for (guint k = 0; k < ids->len; k++)
        if (g_array_index (ids, int, k) < 0 || g_array_index (ids, int, k) >= L * E ||
            (k > 0 && g_array_index (ids, int, k) <= g_array_index (ids, int, k - 1)))
          abort ();
    }
  /* a pair through the composition rule, or a NOT_FOUND error */
  GArray *pair = sc_expert_index_for_pair (idx, "eng_Latn", "fra_Latn", &error);
  if ((pair == NULL) != (error != NULL))
    abort ();
  if (pair != NULL)
    g_array_unref (pair);
  g_clear_error (&error);
  gsize len2 = 0;
  char *json2 = sc_expert_index_to_json (back, &len2);
  if (len != len2 || memcmp (json, json2, len) != 0)
    abort ();
  g_free (json2);
  g_strfreev (keys);
  g_strfreev (keys2);
  sc_expert_index_free (back);
  g_free (json);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  GError *error = NULL;
  ScExpertIndex *idx =
      sc_expert_index_from_json ((const char *) data, (gssize) size, L, L_ENC, E, &error);
  if ((idx == NULL) != (error != NULL) || (error != NULL && error->domain != SC_EXPERT_INDEX_ERROR))
    abort ();
  g_clear_error (&error);
  if (idx != NULL)
    {
      check_index (idx);
      sc_expert_index_free (idx);
    }

  guint8 *keep =
      sc_expert_keep_from_json ((const char *) data, (gssize) size, L, E, "keep.json", &error);
  if ((keep == NULL) != (error != NULL) ||
      (error != NULL && error->domain != SC_EXPERT_INDEX_ERROR))
    abort ();
  g_clear_error (&error);
  if (keep != NULL)
    {
      volatile guint8 sink = 0;
      for (int i = 0; i < L * E; i++)
        {
          if (keep[i] > 1)
            abort ();
          sink ^= keep[i];
        }
      (void) sink;
    }
  g_free (keep);
  return 0;
}
