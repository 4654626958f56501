/* secateur-cli: the headless face of Secateur's engine.
 *
 *   secateur-cli info MODEL_DIR
 *   secateur-cli translate -m MODEL_DIR -s SRC -t TGT [--beam N] [--max-len N]
 *                          [--batch N] [-i FILE] [-o FILE]
 */
#include "cli-commands.h"
#include "sc-bloom.h"
#include "sc-generate.h"
#include "sc-model.h"

#include <gio/gio.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void
print_usage (FILE *f)
{
  fprintf (f, "Usage:\n"
              "  secateur-cli info MODEL_DIR\n"
              "  secateur-cli translate -m MODEL_DIR -s SRC_LANG -t TGT_LANG [--beam N]\n"
              "                         [--max-len N] [--batch N] [-i FILE] [-o FILE]\n"
              "                         [--experts INDEX.json]\n"
              "\n"
              "  secateur-cli COMMAND --help   (for the commands below)\n"
              "\n"
              "Languages are NLLB-200 codes such as eng_Latn, fra_Latn, zho_Hans.\n"
              "translate reads one sentence a line (stdin by default) and writes one\n"
              "translation a line (stdout by default).\n");
  for (const ScCliCommand *c = sc_cli_extra_commands; c->name != NULL; c++)
    fprintf (f, "%s  %-10s %s\n", c == sc_cli_extra_commands ? "\nMore commands:\n" : "", c->name,
             c->summary);
}

static double
gib (guint64 bytes)
{
  return bytes / (1024.0 * 1024.0 * 1024.0);
}

static int
cmd_info (int argc, char **argv)
{
  if (argc != 2)
    {
      print_usage (stderr);
      return 2;
    }
  if (sc_bloom_is_bloom_dir (argv[1]))
    return sc_cli_bloom_info (argv[1]);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScModel) model = sc_model_load (argv[1], NULL, &error);
  if (model == NULL)
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }
  const ScConfig *c = sc_model_get_config (model);
  ScCheckpoint *ckpt = sc_model_get_checkpoint (model);
  ScTokenizer *tok = sc_model_get_tokenizer (model);
  guint64 dense = sc_model_n_params_dense (model);
  guint64 experts = sc_model_n_params_experts (model);
  guint64 total = dense + experts;

  printf ("Model:         %s\n", argv[1]);
  printf ("Architecture:  %s (%s)\n",
          c->arch == SC_ARCH_NLLB_MOE ? "NLLB-200 Mixture-of-Experts" : "NLLB-200 dense (M2M100)",
          c->model_type);
  printf ("Layers:        %d encoder + %d decoder, d_model %d, %d heads, FFN %d\n",
          c->encoder_layers, c->decoder_layers, c->d_model, c->encoder_heads, c->encoder_ffn_dim);
  if (c->arch == SC_ARCH_NLLB_MOE)
    printf (
        "Experts:       %d per MoE layer, %d MoE layers (every %d encoder / %d decoder layer)\n",
        c->num_experts, sc_config_n_moe_layers (c), c->encoder_sparse_step, c->decoder_sparse_step);
  printf ("Parameters:    %" G_GUINT64_FORMAT " total = %" G_GUINT64_FORMAT
          " dense + %" G_GUINT64_FORMAT " in experts\n",
          total, dense, experts);
  printf ("Stored dtype:  %s\n", sc_dtype_name (sc_model_get_dtype (model)));
  printf ("Checkpoint:    %s, %u file(s), %.3f GiB on disk\n",
          sc_checkpoint_format (ckpt) == SC_CHECKPOINT_SAFETENSORS ? "safetensors"
                                                                   : "PyTorch zip (.bin)",
          sc_checkpoint_n_files (ckpt), gib (sc_checkpoint_file_bytes (ckpt)));
  printf ("Memory needed: %.3f GiB at f32, %.3f GiB at f16 (weights; dense part %.3f / %.3f GiB)\n",
          gib (total * 4), gib (total * 2), gib (dense * 4), gib (dense * 2));
  printf ("Vocabulary:    %d ids (%d in the tokenizer)\n", c->vocab_size,
          sc_tokenizer_vocab_size (tok));
  printf ("Languages:     %u\n", sc_tokenizer_n_languages (tok));
  GString *langs = g_string_new ("  ");
  for (guint i = 0; i < sc_tokenizer_n_languages (tok); i++)
    {
      const char *code = sc_tokenizer_language (tok, i);
      if (langs->len + strlen (code) > 78)
        {
          printf ("%s\n", langs->str);
          g_string_assign (langs, "  ");
        }
      g_string_append_printf (langs, "%s ", code);
    }
  printf ("%s\n", langs->str);
  g_string_free (langs, TRUE);
  printf ("Backend:       %s, %u threads\n", sc_model_get_backend (model)->name,
          g_get_num_processors ());
  return 0;
}

static void
report_progress (int done, int total, gpointer user_data)
{
  if (GPOINTER_TO_INT (user_data))
    fprintf (stderr, "\rtranslated %d/%d", done, total);
}

static int
cmd_translate (int argc, char **argv)
{
  g_autofree char *model_dir = NULL, *src = NULL, *tgt = NULL, *input = NULL, *output = NULL;
  g_autofree char *experts = NULL;
  int beam = 0, max_len = 0, batch = 16;
  gboolean quiet = FALSE;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_dir, "Model directory", "DIR" },
    { "source", 's', 0, G_OPTION_ARG_STRING, &src, "Source language code", "LANG" },
    { "target", 't', 0, G_OPTION_ARG_STRING, &tgt, "Target language code", "LANG" },
    { "beam", 0, 0, G_OPTION_ARG_INT, &beam, "Beams (1 = greedy; default from the model)", "N" },
    { "max-len", 0, 0, G_OPTION_ARG_INT, &max_len, "Maximum output length in tokens", "N" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "Sentences per batch (default 16)", "N" },
    { "input", 'i', 0, G_OPTION_ARG_FILENAME, &input, "Input file (default stdin)", "FILE" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Output file (default stdout)", "FILE" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress on stderr", NULL },
    { "experts", 0, 0, G_OPTION_ARG_FILENAME, &experts,
      "Prune: keep only this index's experts for the direction", "INDEX.json" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- translate lines of text");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "secateur-cli translate: %s\n", error->message);
      return 2;
    }
  if (model_dir == NULL || src == NULL || tgt == NULL || argc > 1)
    {
      fprintf (stderr, "secateur-cli translate: -m, -s and -t are required\n");
      print_usage (stderr);
      return 2;
    }
  if (beam < 0 || max_len < 0 || max_len == 1 || batch < 1)
    {
      fprintf (stderr, "secateur-cli translate: --beam, --max-len and --batch must be positive "
                       "(--max-len at least 2)\n");
      return 2;
    }

  g_autoptr (ScModel) model = sc_model_load (model_dir, NULL, &error);
  if (model == NULL)
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }
  /* Check the languages before reading any input. */
  ScTokenizer *tok = sc_model_get_tokenizer (model);
  if (sc_tokenizer_lang_id (tok, src, &error) < 0 || sc_tokenizer_lang_id (tok, tgt, &error) < 0)
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }
  if (experts != NULL)
    {
      /* Masked pruning: the router sees only the kept experts. */
      g_autofree guint8 *keep = sc_cli_keep_from_index (model, experts, src, tgt, &error);
      if (keep == NULL || !sc_model_set_expert_mask (model, keep, &error))
        {
          fprintf (stderr, "secateur-cli: %s\n", error->message);
          return 1;
        }
    }

  g_autofree char *text = NULL;
  gsize len = 0;
  if (input != NULL && !g_str_equal (input, "-"))
    {
      if (!g_file_get_contents (input, &text, &len, &error))
        {
          fprintf (stderr, "secateur-cli: %s\n", error->message);
          return 1;
        }
    }
  else
    {
      GString *buf = g_string_new (NULL);
      char chunk[65536];
      size_t got;
      while ((got = fread (chunk, 1, sizeof chunk, stdin)) > 0)
        g_string_append_len (buf, chunk, got);
      len = buf->len;
      text = g_string_free (buf, FALSE);
    }
  if (memchr (text, '\0', len) != NULL || !g_utf8_validate (text, len, NULL))
    {
      fprintf (stderr, "secateur-cli: the input is not UTF-8 text\n");
      return 1;
    }

  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  int n = g_strv_length (lines);
  if (n > 0 && lines[n - 1][0] == '\0')
    n--; /* the final newline ends the last line, it does not start one */
  for (int i = 0; i < n; i++)
    g_strchomp (lines[i]); /* also drops '\r' of CRLF files */

  ScGenerateOptions opts;
  sc_generate_options_init (&opts, model);
  if (beam > 0)
    opts.num_beams = beam;
  if (max_len > 0)
    opts.max_length = max_len;

  gboolean show = !quiet && isatty (fileno (stderr));
  g_auto (GStrv) out = sc_translate (model, (const char *const *) lines, n, src, tgt, &opts, batch,
                                     report_progress, GINT_TO_POINTER (show), NULL, &error);
  if (show)
    fprintf (stderr, "\n");
  if (out == NULL)
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }

  GString *result = g_string_new (NULL);
  for (int i = 0; i < n; i++)
    {
      g_string_append (result, out[i]);
      g_string_append_c (result, '\n');
    }
  gboolean ok;
  if (output != NULL && !g_str_equal (output, "-"))
    {
      /* g_file_set_contents writes a temporary file and renames it: a full
     * disk never leaves a half-written translation behind. */
      ok = g_file_set_contents (output, result->str, result->len, &error);
    }
  else
    {
      ok = fwrite (result->str, 1, result->len, stdout) == result->len && fflush (stdout) == 0;
      if (!ok)
        g_set_error (&error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot write to standard output");
    }
  g_string_free (result, TRUE);
  if (!ok)
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }
  return 0;
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  if (argc < 2 || g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"))
    {
      print_usage (argc < 2 ? stderr : stdout);
      return argc < 2 ? 2 : 0;
    }
  if (g_str_equal (argv[1], "info"))
    return cmd_info (argc - 1, argv + 1);
  if (g_str_equal (argv[1], "translate"))
    return cmd_translate (argc - 1, argv + 1);
  for (const ScCliCommand *c = sc_cli_extra_commands; c->name != NULL; c++)
    if (g_str_equal (argv[1], c->name))
      return c->run (argc - 1, argv + 1);
  fprintf (stderr, "secateur-cli: unknown command '%s'\n", argv[1]);
  print_usage (stderr);
  return 2;
}
