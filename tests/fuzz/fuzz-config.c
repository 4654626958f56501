/* fuzz-config.c: libFuzzer target for the model's small JSON files, read
 * through the guarded JSON reader: config.json (sc_config_parse), the same
 * bytes as generation_config.json over a parsed config, and as
 * tokenizer_config.json (sc_tokenizer_config_parse). */
#include "sc-config.h"
#include "sc-tensor.h"
#include "sc-tokenizer-config.h"

#include <stdint.h>
#include <stdlib.h>

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  return 0;
}

/* A failure must carry an SC_ERROR GError, a success none. */
static void
check_error (gboolean ok, GError **error)
{
  if (ok != (*error == NULL) || (*error != NULL && (*error)->domain != SC_ERROR))
    abort ();
  g_clear_error (error);
}

/* What the model code relies on once a config is accepted. */
static void
check_config (const ScConfig *c)
{
  if (c->d_model < 2 || c->encoder_heads < 1 || c->decoder_heads < 1 ||
      c->d_model % c->encoder_heads != 0 || c->d_model % c->decoder_heads != 0 ||
      c->vocab_size < 4 || c->pad_token_id >= c->vocab_size || c->eos_token_id >= c->vocab_size ||
      c->decoder_start_token_id >= c->vocab_size || c->max_length < 1 || c->num_beams < 1)
    abort ();
  if (c->kept_experts != NULL)
    {
      if ((int) c->kept_experts->len != sc_config_n_moe_layers (c))
        abort ();
      for (guint m = 0; m < c->kept_experts->len; m++)
        {
          GArray *kept = c->kept_experts->pdata[m];
          if (kept->len < 1)
            abort ();
          for (guint i = 0; i < kept->len; i++)
            {
              int id = g_array_index (kept, int, i);
              if (id < 0 || id >= c->num_experts ||
                  (i > 0 && id <= g_array_index (kept, int, i - 1)))
                abort ();
            }
        }
    }
}

static const char base_config[] =
    "{\"model_type\": \"nllb-moe\", \"d_model\": 16, \"encoder_layers\": 2, \"decoder_layers\": 2,"
    " \"encoder_attention_heads\": 2, \"decoder_attention_heads\": 2, \"encoder_ffn_dim\": 32,"
    " \"decoder_ffn_dim\": 32, \"vocab_size\": 64, \"max_position_embeddings\": 64,"
    " \"scale_embedding\": true, \"tie_word_embeddings\": true, \"num_experts\": 4,"
    " \"encoder_sparse_step\": 2, \"decoder_sparse_step\": 2}";

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *text = (const char *) data;
  GError *error = NULL;

  ScConfig *c = sc_config_parse (text, (gssize) size, &error);
  check_error (c != NULL, &error);
  if (c != NULL)
    {
      check_config (c);
      sc_config_free (c);
    }

  /* generation_config.json over a known-good config */
  c = sc_config_parse (base_config, -1, &error);
  if (c == NULL)
    abort ();
  check_error (sc_config_parse_generation (c, text, (gssize) size, &error), &error);
  check_config (c);
  sc_config_free (c);

  ScTokenizerConfig *t =
      sc_tokenizer_config_parse (text, (gssize) size, "tokenizer_config.json", &error);
  check_error (t != NULL, &error);
  if (t != NULL && t->codes != NULL)
    for (guint i = 0; i < t->codes->len; i++)
      if (((const char *) t->codes->pdata[i])[0] == '\0')
        abort ();
  sc_tokenizer_config_free (t);
  return 0;
}
