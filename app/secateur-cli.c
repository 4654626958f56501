/* secateur-cli: the headless face of Secateur's engine.
 *
 *   secateur-cli info MODEL_DIR
 *   secateur-cli translate -m MODEL_DIR -s SRC -t TGT [--beam N] [--max-len N]
 *                          [--batch N] [-i FILE] [-o FILE] [--hf-defaults]
 */
#include "cli-commands.h"
#include "sc-bloom.h"
#include "sc-backend-select.h"
#include "sc-generate.h"
#include "sc-memory-plan.h"
#include "sc-model.h"
#include "sc-distributed.h"

#include <gio/gio.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void
print_usage (FILE *f)
{
  fprintf (f, "Usage:\n"
              "  secateur-cli info [-m] MODEL_DIR [--device cpu|cuda[:N]] [--budget-gb G]\n"
              "                    [--batch B] [--len N] [--memory-gb G]\n"
              "                    [--experts-per-layer N[,N]]\n"
              "  secateur-cli translate -m MODEL_DIR -s SRC_LANG -t TGT_LANG [--beam N]\n"
              "                         [--max-len N] [--batch N] [-i FILE] [-o FILE]\n"
              "                         [--experts INDEX.json] [--hf-defaults]\n"
              "\n"
              "  secateur-cli COMMAND --help   (for the commands below)\n"
              "\n"
              "Languages are NLLB-200 codes such as eng_Latn, fra_Latn, zho_Hans.\n"
              "translate reads one sentence a line (stdin by default) and writes one\n"
              "translation a line (stdout by default); when the model's num_return_sequences\n"
              "is n > 1, the n best a sentence, best first, then a blank line.\n");
  for (const ScCliCommand *c = sc_cli_extra_commands; c->name != NULL; c++)
    fprintf (f, "%s  %-10s %s\n", c == sc_cli_extra_commands ? "\nMore commands:\n" : "", c->name,
             c->summary);
}

static double
gib (guint64 bytes)
{
  return bytes / (1024.0 * 1024.0 * 1024.0);
}

/* "5.49 GiB", or "12.3 MiB" below a gibibyte. */
static const char *
size_str (guint64 bytes, char buf[32])
{
  if (bytes >= (1ULL << 30))
    g_snprintf (buf, 32, "%.2f GiB", gib (bytes));
  else
    g_snprintf (buf, 32, "%.1f MiB", bytes / 1048576.0);
  return buf;
}

/* One plan (full or pruned) as `info` prints it. */
static void
print_plan (const char *title, const ScConfig *c, const ScMemoryPlanOptions *o, guint64 device)
{
  ScMemoryPlan p;
  sc_memory_plan_compute (c, o, &p);
  char a[32], b[32], e[32];
  printf ("  %s:\n", title);
  printf ("    Dense part:       %s\n", size_str (p.dense_bytes, a));
  if (p.n_kept > 0 && p.expert_cache_bytes < p.kept_expert_bytes)
    printf ("    Expert cache:     %s of %s (%d experts of %s)\n",
            size_str (p.expert_cache_bytes, a), size_str (p.kept_expert_bytes, b), p.n_kept,
            size_str (p.expert_bytes, e));
  else if (p.n_kept > 0)
    printf ("    Experts:          %s (%d experts of %s)\n", size_str (p.kept_expert_bytes, a),
            p.n_kept, size_str (p.expert_bytes, e));
  printf ("    KV cache:         %s (batch %d, %d + %d tokens)\n", size_str (p.kv_cache_bytes, a),
          o->batch, o->src_len, o->tgt_len);
  printf ("    Activations:      %s\n", size_str (p.activation_bytes, a));
  if (p.reserve_bytes > 0)
    printf ("    Reserved:         %s (CUDA context and cuBLAS workspace)\n",
            size_str (p.reserve_bytes, a));
  int max_batch = sc_memory_plan_max_batch (c, o, device, 4096);
  printf ("    Total:            %s: %s; largest batch that fits: %d\n",
          size_str (p.total_bytes, a), sc_memory_plan_fits (&p, device) ? "fits" : "does NOT fit",
          max_batch);
}

static void
print_memory_plan (const ScConfig *c, ScMemoryPlanOptions *plan, const int *kept,
                   const char *device, guint64 device_bytes)
{
  printf ("Memory plan:   %s, %.2f GiB; weights %s, batch %d x %d beam(s), %d + %d tokens\n",
          device != NULL ? device : "cpu", gib (device_bytes), sc_dtype_name (plan->weight_dtype),
          plan->batch, plan->beams, plan->src_len, plan->tgt_len);
  if (device == NULL || g_str_equal (device, "cpu"))
    {
      g_autofree char *cpu = sc_backend_cpu_describe ();
      printf ("CPU:           %s\n", cpu);
    }
  plan->kept_per_layer = NULL;
  print_plan ("full model", c, plan, device_bytes);
  if (kept != NULL)
    {
      int n = 0;
      for (int m = 0; m < sc_config_n_moe_layers (c); m++)
        n += kept[m];
      g_autofree char *title = g_strdup_printf ("pruned to %d experts", n);
      plan->kept_per_layer = kept;
      print_plan (title, c, plan, device_bytes);
      plan->kept_per_layer = NULL;
    }
}

/* The layer shapes; encoder and decoder apart when they differ. */
static void
print_layer_shapes (const ScConfig *c)
{
  if (c->encoder_heads == c->decoder_heads && c->encoder_ffn_dim == c->decoder_ffn_dim)
    printf ("Layers:        %d encoder + %d decoder, d_model %d, %d heads, FFN %d\n",
            c->encoder_layers, c->decoder_layers, c->d_model, c->encoder_heads, c->encoder_ffn_dim);
  else
    printf ("Layers:        %d encoder (%d heads, FFN %d) + %d decoder (%d heads, FFN %d), "
            "d_model %d\n",
            c->encoder_layers, c->encoder_heads, c->encoder_ffn_dim, c->decoder_layers,
            c->decoder_heads, c->decoder_ffn_dim, c->d_model);
}

/* "every 2 encoder layer", or "no encoder MoE layer" for a sparse step 0 */
static char *
sparse_step_str (int step, const char *side)
{
  if (step <= 0)
    return g_strdup_printf ("no %s MoE layer", side);
  return g_strdup_printf ("every %d %s layer", step, side);
}

/* The layer shapes and, for a MoE model, where its experts are. */
static void
print_layers (const ScConfig *c)
{
  print_layer_shapes (c);
  if (c->arch != SC_ARCH_NLLB_MOE)
    return;
  g_autofree char *enc = sparse_step_str (c->encoder_sparse_step, "encoder");
  g_autofree char *dec = sparse_step_str (c->decoder_sparse_step, "decoder");
  printf ("Experts:       %d per MoE layer, %d MoE layers (%s / %s)\n", c->num_experts,
          sc_config_n_moe_layers (c), enc, dec);
}

/* Whether `dir` holds weight files (info also works on a bare config). */
static gboolean
has_weights (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (name, ".safetensors") || g_str_has_suffix (name, ".bin"))
      return TRUE;
  return FALSE;
}

static int
cmd_info (int argc, char **argv)
{
  g_autofree char *model_dir = NULL, *device = NULL, *dtype_name = NULL, *kept_spec = NULL;
  double budget_gb = 0.0, memory_gb = 0.0;
  int batch = 16, len = 256, beams = 1;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_dir, "Model directory", "DIR" },
    { "device", 0, 0, G_OPTION_ARG_STRING, &device, "Plan for cpu or cuda[:N] (default cpu)",
      "DEVICE" },
    { "memory-gb", 0, 0, G_OPTION_ARG_DOUBLE, &memory_gb,
      "Plan for this much device memory (default: the device's own)", "GIB" },
    { "budget-gb", 0, 0, G_OPTION_ARG_DOUBLE, &budget_gb,
      "Expert cache budget (default: every expert resident)", "GIB" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "Sentences per batch (default 16)", "N" },
    { "len", 0, 0, G_OPTION_ARG_INT, &len, "Source and target tokens (default 256)", "N" },
    { "beams", 0, 0, G_OPTION_ARG_INT, &beams, "Beams per sentence (default 1)", "N" },
    { "dtype", 0, 0, G_OPTION_ARG_STRING, &dtype_name,
      "Weight dtype F32, F16 or BF16 (default: stored, or F16 without weights)", "DTYPE" },
    { "experts-per-layer", 0, 0, G_OPTION_ARG_STRING, &kept_spec,
      "Also plan a pruned model keeping N experts per MoE layer (ENC,DEC for both sides)",
      "N[,N]" },
    { NULL }
  };
  const ScCliRange ranges[] = {
    { "memory-gb", 0, SC_CLI_MAX_GIB }, { "budget-gb", 0, SC_CLI_MAX_GIB },
    { "batch", 1, G_MAXINT },           { "len", 1, G_MAXINT },
    { "beams", 1, SC_CLI_MAX_BEAMS },   { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("[MODEL_DIR] - describe a model");
  sc_cli_add_main_entries (ctx, entries, ranges);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "secateur-cli info: %s\n", error->message);
      return 2;
    }
  if (model_dir == NULL && argc == 2)
    model_dir = g_strdup (argv[1]);
  else if (argc > 1)
    model_dir = NULL;
  if (model_dir == NULL)
    {
      print_usage (stderr);
      return 2;
    }
  if (sc_bloom_is_bloom_dir (model_dir))
    return sc_cli_bloom_info (model_dir);

  g_autoptr (ScConfig) config = sc_config_load (model_dir, &error);
  if (config == NULL)
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }
  guint64 device_bytes = (guint64) (memory_gb * 1073741824.0);
  if (device_bytes == 0 && !sc_cli_device_memory (device, &device_bytes, &error))
    {
      fprintf (stderr, "secateur-cli: %s (give --memory-gb to plan anyway)\n", error->message);
      return 1;
    }
  ScMemoryPlanOptions plan;
  sc_memory_plan_options_init (&plan);
  plan.batch = batch;
  plan.beams = beams;
  plan.src_len = plan.tgt_len = len;
  plan.expert_budget = (guint64) (budget_gb * 1073741824.0);
  plan.reserve = device != NULL && g_str_has_prefix (device, "cuda") ? 512ULL << 20 : 0;
  int n_moe = sc_config_n_moe_layers (config);
  g_autofree int *kept = NULL;
  if (kept_spec != NULL)
    {
      g_auto (GStrv) parts = g_strsplit (kept_spec, ",", 2);
      int enc = atoi (parts[0]), dec = parts[1] ? atoi (parts[1]) : enc;
      if (n_moe == 0 || enc < 1 || dec < 1 || enc > config->num_experts ||
          dec > config->num_experts)
        {
          fprintf (stderr,
                   "secateur-cli info: --experts-per-layer needs 1..%d experts of an "
                   "MoE model\n",
                   config->num_experts);
          return 2;
        }
      kept = g_new (int, n_moe);
      int m = 0;
      for (int i = 0; i < config->encoder_layers; i++)
        if (sc_config_is_sparse (config, FALSE, i))
          kept[m++] = enc;
      for (int i = 0; i < config->decoder_layers; i++)
        if (sc_config_is_sparse (config, TRUE, i))
          kept[m++] = dec;
    }

  if (!has_weights (model_dir))
    {
      /* A bare config.json still tells how much memory the model needs. */
      if (dtype_name != NULL && !sc_dtype_from_name (dtype_name, &plan.weight_dtype))
        {
          fprintf (stderr, "secateur-cli info: unknown dtype %s\n", dtype_name);
          return 2;
        }
      ScMemoryPlan p;
      sc_memory_plan_compute (config, &plan, &p);
      printf ("Model:         %s (config only, no weights)\n", model_dir);
      print_layers (config);
      printf ("Parameters:    %.2f B parameters = %.2f B dense + %.2f B in %d experts\n",
              (p.dense_params + p.all_expert_params) / 1e9, p.dense_params / 1e9,
              p.all_expert_params / 1e9, p.n_experts);
      print_memory_plan (config, &plan, kept, device, device_bytes);
      return 0;
    }

  g_autoptr (ScModel) model = sc_model_load (model_dir, NULL, &error);
  if (model == NULL)
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }
  plan.weight_dtype = sc_model_get_dtype (model);
  if (dtype_name != NULL && !sc_dtype_from_name (dtype_name, &plan.weight_dtype))
    {
      fprintf (stderr, "secateur-cli info: unknown dtype %s\n", dtype_name);
      return 2;
    }
  const ScConfig *c = sc_model_get_config (model);
  ScCheckpoint *ckpt = sc_model_get_checkpoint (model);
  ScTokenizer *tok = sc_model_get_tokenizer (model);
  guint64 dense = sc_model_n_params_dense (model);
  guint64 experts = sc_model_n_params_experts (model);
  guint64 total = dense + experts;

  printf ("Model:         %s\n", model_dir);
  printf ("Architecture:  %s (%s)\n",
          c->arch == SC_ARCH_NLLB_MOE ? "NLLB-200 Mixture-of-Experts" : "NLLB-200 dense (M2M100)",
          c->model_type);
  print_layers (c);
  if (c->kept_experts != NULL)
    {
      /* an export: what it kept, in original ids, and for which directions */
      printf ("Pruned export: %s; kept experts per MoE layer (original ids):\n",
              c->experts_per_layer    ? "NllbMoe with a count per layer (transformers loads it "
                                        "with trust_remote_code)"
              : c->experts_renumbered ? "plain NllbMoe form (transformers loads it)"
                                      : "Secateur's earlier form (experts under original ids)");
      for (int side = 0, m = 0; side < 2; side++)
        for (int l = 0; l < (side ? c->decoder_layers : c->encoder_layers); l++)
          {
            if (!sc_config_is_sparse (c, side, l))
              continue;
            GArray *ids = g_ptr_array_index (c->kept_experts, m++);
            GString *line = g_string_new (NULL);
            for (guint i = 0; i < ids->len; i++)
              g_string_append_printf (line, " %d", g_array_index (ids, int, i));
            printf ("  %s layer %d: %u of %d:%s\n", side ? "decoder" : "encoder", l, ids->len,
                    c->num_experts, line->str);
            g_string_free (line, TRUE);
          }
      g_autofree char *served = c->served ? g_strjoinv (", ", c->served) : NULL;
      printf ("Serves:        %s\n", served && *served ? served : "(not recorded)");
    }
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
  if (sc_model_get_dtype (model) == SC_DTYPE_F32)
    printf ("At f16:        %.3f GiB of weights instead of %.3f GiB, %.3f GiB less "
            "(export --dtype f16)\n",
            gib (total * 2), gib (total * 4), gib (total * 2));
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
  print_memory_plan (c, &plan, kept, device, device_bytes);
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
  gboolean quiet = FALSE, hf_defaults = FALSE;
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
    { "hf-defaults", 0, 0, G_OPTION_ARG_NONE, &hf_defaults,
      "Where the model sets no length, use transformers' default (20) instead of 200", NULL },
    { "experts", 0, 0, G_OPTION_ARG_FILENAME, &experts,
      "Prune: keep only this index's experts for the direction", "INDEX.json" },
    { NULL }
  };
  const ScCliRange ranges[] = {
    { "beam", 1, SC_CLI_MAX_BEAMS, 0, "the model's default" },
    { "max-len", 2, SC_CLI_MAX_LEN, 0, "the model's default" },
    { "batch", 1, G_MAXINT },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- translate lines of text");
  sc_cli_add_main_entries (ctx, entries, ranges);
  g_auto (ScCliDeviceOptions) dev = { 0 };
  sc_cli_device_add_options (ctx, &dev);
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
  g_autoptr (ScModel) model = sc_cli_load_model (model_dir, SC_MODEL_LOAD_DEFAULT, &dev, &error);
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
  sc_cli_warn_unserved (model, src, tgt);
  /* Masked pruning: the router sees only the kept experts. */
  g_autofree guint8 *keep =
      experts != NULL ? sc_cli_keep_from_index (model, experts, src, tgt, &error) : NULL;
  g_autoptr (ScView) view =
      experts == NULL || keep != NULL ? sc_view_new_from_keep (model, keep, &error) : NULL;
  if (view == NULL)
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
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
  if (hf_defaults)
    sc_generate_options_init_hf (&opts, model);
  else
    sc_generate_options_init (&opts, model);
  if (beam > 0)
    opts.num_beams = beam;
  if (max_len > 0)
    opts.max_length = max_len;
  else
    sc_cli_note_default_length (model, hf_defaults);
  /* the model's n best per sentence, as transformers' generate() returns them */
  int per = sc_model_get_config (model)->num_return_sequences;
  if (per > opts.num_beams)
    {
      fprintf (stderr,
               "secateur-cli: the model asks for %d translations per sentence "
               "(num_return_sequences), which needs at least %d beams (--beam %d)\n",
               per, per, opts.num_beams);
      return 1;
    }
  opts.num_return_sequences = per;

  /* the source side: at most what the positions allow */
  batch = sc_cli_fit_batch (model, &dev, batch, opts.num_beams,
                            sc_model_get_config (model)->max_position_embeddings, opts.max_length,
                            FALSE, &error);
  if (batch == 0)
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }
  gboolean show = !quiet && isatty (fileno (stderr));
  g_auto (GStrv) out = sc_translate_n (view, (const char *const *) lines, n, src, tgt, &opts, batch,
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
      /* several per sentence: best first, a blank line after each group */
      for (int j = 0; j < per; j++)
        {
          g_string_append (result, out[i * per + j]);
          g_string_append_c (result, '\n');
        }
      if (per > 1)
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
  sc_distributed_init (&argc, &argv);
  /* Only these split their work over MPI ranks; others would run N times
   * and write the same files at once. */
  if (sc_distributed_size () > 1 && !g_str_equal (argv[1], "calibrate") &&
      !g_str_equal (argv[1], "evaluate") && !g_str_equal (argv[1], "compare") &&
      !g_str_equal (argv[1], "sparsify"))
    {
      if (sc_distributed_rank () == 0)
        fprintf (stderr,
                 "secateur-cli: %s does not run across MPI ranks (calibrate, evaluate, "
                 "compare and sparsify do); run it as one process\n",
                 argv[1]);
      return sc_distributed_finish (2);
    }
  if (g_str_equal (argv[1], "info"))
    return sc_distributed_finish (cmd_info (argc - 1, argv + 1));
  if (g_str_equal (argv[1], "translate"))
    return sc_distributed_finish (cmd_translate (argc - 1, argv + 1));
  for (const ScCliCommand *c = sc_cli_extra_commands; c->name != NULL; c++)
    if (g_str_equal (argv[1], c->name))
      return sc_distributed_finish (c->run (argc - 1, argv + 1));
  fprintf (stderr, "secateur-cli: unknown command '%s'\n", argv[1]);
  print_usage (stderr);
  return sc_distributed_finish (2);
}
