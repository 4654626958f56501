/* cli-generate.c: `secateur-cli generate`, greedy continuation of prompts
 * with a causal language model (BLOOM), and the BLOOM part of `info`.
 *
 *   secateur-cli generate -m MODEL [--prompt TEXT] [--max-new N] [--ids]
 *
 * Without --prompt, reads one prompt a line from stdin and writes one
 * continuation a line (newlines inside a continuation are written as \n).
 */
#include "cli-commands.h"
#include "sc-bloom.h"

#include <stdio.h>
#include <string.h>

static double
gib (guint64 bytes)
{
  return bytes / (1024.0 * 1024.0 * 1024.0);
}

int
sc_cli_bloom_info (const char *dir)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ScBloom) model = sc_bloom_load (dir, NULL, &error);
  if (model == NULL)
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }
  const ScBloomConfig *c = sc_bloom_get_config (model);
  ScCheckpoint *ckpt = sc_bloom_get_checkpoint (model);
  ScBpe *bpe = sc_bloom_get_tokenizer (model);
  guint64 n = sc_bloom_n_params (model);

  printf ("Model:         %s\n", dir);
  printf ("Architecture:  BLOOM causal LM (bloom), ALiBi attention\n");
  printf ("Layers:        %d, hidden %d, %d heads of %d, FFN %d%s\n", c->n_layer, c->hidden_size,
          c->n_head, c->head_dim, 4 * c->hidden_size,
          c->apply_residual_connection_post_layernorm ? ", post-LN residuals" : "");
  printf ("Parameters:    %" G_GUINT64_FORMAT "\n", n);
  printf ("Stored dtype:  %s\n", sc_dtype_name (sc_bloom_get_dtype (model)));
  printf ("Checkpoint:    %s, %u file(s), %.3f GiB on disk\n",
          sc_checkpoint_format (ckpt) == SC_CHECKPOINT_SAFETENSORS ? "safetensors"
                                                                   : "PyTorch zip (.bin)",
          sc_checkpoint_n_files (ckpt), gib (sc_checkpoint_file_bytes (ckpt)));
  printf ("Memory needed: %.3f GiB at f32, %.3f GiB at f16 (weights)\n", gib (n * 4), gib (n * 2));
  if (bpe != NULL)
    printf ("Vocabulary:    %d ids (%d in tokenizer.json, byte-level BPE, %u merges)\n",
            c->vocab_size, sc_bpe_vocab_size (bpe), sc_bpe_n_merges (bpe));
  else
    printf ("Vocabulary:    %d ids (no tokenizer.json)\n", c->vocab_size);
  printf ("Backend:       cpu, %u threads\n", g_get_num_processors ());
  return 0;
}

static gboolean
generate_one (ScBloom *model, const char *prompt, int max_new, gboolean show_ids, GError **error)
{
  ScBpe *bpe = sc_bloom_get_tokenizer (model);
  g_autoptr (GArray) ids = sc_bpe_encode (bpe, prompt, -1, error);
  if (ids == NULL)
    return FALSE;
  if (ids->len == 0)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_SHAPE, "The prompt is empty");
      return FALSE;
    }
  g_autoptr (GArray) out =
      sc_bloom_generate_greedy (model, (const int *) ids->data, (int) ids->len, max_new, error);
  if (out == NULL)
    return FALSE;
  if (show_ids)
    {
      for (guint i = 0; i < out->len; i++)
        printf ("%s%d", i ? " " : "", g_array_index (out, int, i));
      printf ("\n");
      return TRUE;
    }
  g_autofree char *text = sc_bpe_decode (bpe, (const int *) out->data, out->len, TRUE);
  for (const char *p = text; *p; p++)
    {
      if (*p == '\n')
        fputs ("\\n", stdout);
      else
        fputc (*p, stdout);
    }
  fputc ('\n', stdout);
  return TRUE;
}

int
sc_cli_generate (int argc, char **argv)
{
  g_autofree char *model_dir = NULL, *prompt = NULL;
  int max_new = 20;
  gboolean show_ids = FALSE;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_dir, "Model directory (BLOOM)", "DIR" },
    { "prompt", 'p', 0, G_OPTION_ARG_STRING, &prompt, "Prompt (default: one a line on stdin)",
      "TEXT" },
    { "max-new", 'n', 0, G_OPTION_ARG_INT, &max_new, "New tokens at most (default 20)", "N" },
    { "ids", 0, 0, G_OPTION_ARG_NONE, &show_ids, "Print token ids instead of text", NULL },
    { NULL }
  };
  /* at most the model's context, checked once it is loaded */
  const ScCliRange ranges[] = {
    { "max-new", 1, G_MAXINT },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- greedy continuation of prompts");
  sc_cli_add_main_entries (ctx, entries, ranges);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "secateur-cli generate: %s\n", error->message);
      return 2;
    }
  if (model_dir == NULL || argc > 1)
    {
      fprintf (stderr, "secateur-cli generate: -m MODEL is required\n");
      return 2;
    }
  if (!sc_bloom_is_bloom_dir (model_dir))
    {
      fprintf (stderr,
               "secateur-cli generate: %s is not a BLOOM model (config.json model_type \"bloom\"); "
               "use translate for NLLB models\n",
               model_dir);
      return 1;
    }
  g_autoptr (ScBloom) model = sc_bloom_load (model_dir, NULL, &error);
  if (model != NULL && sc_bloom_get_tokenizer (model) == NULL)
    g_set_error (&error, SC_ERROR, SC_ERROR_MISSING, "%s has no tokenizer.json", model_dir);
  if (error != NULL)
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }
  const ScCliRange context = { NULL, 1, sc_bloom_context_length (model) - 1 };
  if (!sc_cli_check_int ("max-new", max_new, &context, &error))
    {
      fprintf (stderr, "secateur-cli generate: %s (the model's context is %d tokens)\n",
               error->message, sc_bloom_context_length (model));
      return 2;
    }

  if (prompt != NULL)
    {
      if (!generate_one (model, prompt, max_new, show_ids, &error))
        {
          fprintf (stderr, "secateur-cli: %s\n", error->message);
          return 1;
        }
      return 0;
    }
  char line[65536];
  while (fgets (line, sizeof line, stdin) != NULL)
    {
      line[strcspn (line, "\r\n")] = '\0';
      if (!generate_one (model, line, max_new, show_ids, &error))
        {
          fprintf (stderr, "secateur-cli: %s\n", error->message);
          return 1;
        }
      fflush (stdout);
    }
  return 0;
}
