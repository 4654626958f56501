/* cli-calibrate.c: `secateur-cli calibrate`, gate statistics from text.
 *
 *   secateur-cli calibrate -m MODEL -s SRC -t TGT --source FILE [--target FILE] ...
 *   secateur-cli calibrate -m MODEL --pairs SRC-TGT[,...]
 *                          [--corpus udhr|flores:DIR|tsv:FILE|bitext:FILE]
 *                          [--sampling proportional|uniform|pairs] [--size N] [--seed S] ...
 *     common: [--mode teacher|decode] [--batch N] [--beam N] [--max-len N]
 *             (-o STATS.json [--append] [--capture N] | --project DIR)
 *
 * With --pairs, sentences come from a corpus (the bundled UDHR's calibration
 * split by default) and are sampled across directions as Multilingual Brain
 * Surgeon does: in proportion to each language's share of the training data
 * (the model's own `language-shares.tsv` when it has one, else NLLB-200's
 * resources/language-shares/nllb-200.tsv, or --shares FILE), at least one
 * per direction.
 *
 * The work is the calibrate job (engine/jobs/sc-calibrate-job.h), the
 * application's too; this file reads options and files and prints. Ctrl-C
 * stops after the current batch and saves what was gathered. With
 * --project the run is added to the project's statistics (as --append
 * does), the project created for the model when absent. */
#include "cli-commands.h"
#include "sc-calibrate-job.h"
#include "sc-distributed.h"
#include "sc-reconstruct.h"

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static volatile sig_atomic_t interrupted;

static void
on_sigint (int sig)
{
  interrupted = 1;
}

typedef struct
{
  GCancellable *cancel;
  gboolean show;
} Progress;

static void
report (const ScProgress *progress, gpointer user_data)
{
  Progress *p = user_data;
  if (interrupted)
    g_cancellable_cancel (p->cancel);
  if (p->show && progress->done > 0)
    fprintf (stderr,
             "\rcalibrated %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT
             " sentences, %.1f sentences/s, %.0f s left   ",
             progress->done, progress->total, progress->rate, MAX (progress->eta_s, 0));
}

static void
waiting (const char *path, gpointer quiet)
{
  if (!GPOINTER_TO_INT (quiet))
    fprintf (stderr, "secateur-cli: waiting for another process adding to %s\n", path);
}

static char **
read_lines (const char *path, int *n, GError **error)
{
  g_autofree char *text = NULL;
  gsize len;
  if (!g_file_get_contents (path, &text, &len, error))
    return NULL;
  if (!g_utf8_validate (text, len, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s is not UTF-8 text", path);
      return NULL;
    }
  char **lines = g_strsplit (text, "\n", -1);
  *n = g_strv_length (lines);
  if (*n > 0 && lines[*n - 1][0] == '\0')
    (*n)--;
  for (int i = 0; i < *n; i++)
    g_strchomp (lines[i]);
  return lines;
}

/* This rank's share of the items under MPI (all of them otherwise), in
 * contiguous shards balanced by source and target tokens. */
static void
shard_items (ScModel *model, const ScCalibrationItem *items, guint n, int *first, int *last,
             gpointer data)
{
  g_autofree guint64 *tokens = NULL;
  if (sc_distributed_size () > 1)
    {
      ScTokenizer *tok = sc_model_get_tokenizer (model);
      tokens = g_new (guint64, MAX (n, 1));
      for (guint i = 0; i < n; i++)
        {
          const ScCalibrationItem *it = &items[i];
          g_autoptr (GArray) s = sc_tokenizer_encode (tok, it->source, it->src_lang, NULL);
          g_autoptr (GArray) t =
              it->target ? sc_tokenizer_encode_pieces (tok, it->target, NULL) : NULL;
          tokens[i] = 1 + (s ? s->len : 0) + (t ? t->len : 0);
        }
    }
  sc_distributed_shard (tokens, n, first, last);
}

/* Under MPI rank 0 adds the other ranks' counts, in rank order, and alone
 * writes; a stop on any rank makes the run a partial one. */
static gboolean
gather_stats (ScStats *stats, gboolean *stopped, gpointer data, GError **error)
{
  *stopped = !sc_distributed_all (!*stopped);
  return sc_distributed_reduce_stats (stats, error);
}

static const ScCalibrateRanks ranks = { shard_items, gather_stats, NULL };

static void
print_summary (const char *summary, gpointer data)
{
  if (sc_distributed_rank () == 0)
    fprintf (stderr, "%s", summary);
}

int
sc_cli_calibrate (int argc, char **argv)
{
  g_autofree char *model_dir = NULL, *src = NULL, *tgt = NULL, *source = NULL, *target = NULL;
  g_autofree char *mode = NULL, *output = NULL, *pairs = NULL, *corpus = NULL, *sampling = NULL;
  g_autofree char *shares = NULL, *project_dir = NULL;
  int batch = 16, beam = 1, max_len = 0, size = 256, seed = 1;
  gboolean append = FALSE, quiet = FALSE;
  int capture = 0;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_dir, "Model directory", "DIR" },
    { "source-lang", 's', 0, G_OPTION_ARG_STRING, &src, "Source language code", "LANG" },
    { "target-lang", 't', 0, G_OPTION_ARG_STRING, &tgt, "Target language code", "LANG" },
    { "source", 0, 0, G_OPTION_ARG_FILENAME, &source, "Source sentences, one a line", "FILE" },
    { "target", 0, 0, G_OPTION_ARG_FILENAME, &target, "Reference translations (teacher mode)",
      "FILE" },
    { "pairs", 0, 0, G_OPTION_ARG_STRING, &pairs, "Directions to sample from a corpus",
      "SRC-TGT,..." },
    { "corpus", 0, 0, G_OPTION_ARG_STRING, &corpus,
      "udhr (default), flores:DIR, tsv:FILE or bitext:FILE", "CORPUS" },
    { "sampling", 0, 0, G_OPTION_ARG_STRING, &sampling,
      "proportional (default, training-data shares), uniform or pairs", "MODE" },
    { "shares", 0, 0, G_OPTION_ARG_FILENAME, &shares,
      "Language shares for proportional sampling (default: the model's language-shares.tsv, "
      "else NLLB-200's)",
      "FILE" },
    { "size", 0, 0, G_OPTION_ARG_INT, &size, "Sentences to sample (default 256)", "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &seed, "Sampling seed (default 1)", "S" },
    { "mode", 0, 0, G_OPTION_ARG_STRING, &mode, "teacher (default) or decode", "MODE" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "Sentences per batch (default 16)", "N" },
    { "beam", 0, 0, G_OPTION_ARG_INT, &beam, "Beams when decoding (default 1)", "N" },
    { "max-len", 0, 0, G_OPTION_ARG_INT, &max_len, "Longest output when decoding", "N" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Statistics file to write", "FILE" },
    { "append", 0, 0, G_OPTION_ARG_NONE, &append, "Add to the statistics already in FILE", NULL },
    { "project", 0, 0, G_OPTION_ARG_FILENAME, &project_dir,
      "Add to the statistics of this project (created for the model when absent) instead of -o",
      "DIR" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress on stderr", NULL },
    { "capture", 0, 0, G_OPTION_ARG_INT, &capture,
      "Also sample up to N router inputs per direction and MoE layer into STATS.capture "
      "(for select --algo reconstruct)",
      "N" },
    { NULL }
  };
  const ScCliRange ranges[] = {
    { "capture", 1, G_MAXINT32 },
    { "size", 1, SC_CLI_MAX_SAMPLES },
    { "seed", G_MININT, G_MAXINT },
    { "batch", 1, G_MAXINT },
    { "beam", 1, SC_CLI_MAX_BEAMS },
    { "max-len", 2, SC_CLI_MAX_LEN, 0, "the model's default" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- gather expert statistics");
  sc_cli_add_main_entries (ctx, entries, ranges);
  g_auto (ScCliDeviceOptions) dev = { 0 };
  sc_cli_device_add_options (ctx, &dev);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "secateur-cli calibrate: %s\n", error->message);
      return 2;
    }
  ScCalibrateMode cmode = SC_CALIBRATE_TEACHER_FORCED;
  if (mode != NULL && g_str_equal (mode, "decode"))
    cmode = SC_CALIBRATE_DECODE;
  else if (mode != NULL && !g_str_equal (mode, "teacher"))
    {
      fprintf (stderr, "secateur-cli calibrate: --mode is teacher or decode\n");
      return 2;
    }
  gboolean from_files = pairs == NULL;
  if (project_dir != NULL && (output != NULL || append || capture > 0))
    {
      fprintf (stderr, "secateur-cli calibrate: --project adds to the project's statistics; it "
                       "goes with neither -o, --append nor --capture\n");
      return 2;
    }
  /* the project's model when -m is not given; refused early when it
   * belongs to another model */
  g_autoptr (ScProject) project = NULL;
  if (project_dir != NULL &&
      (project = sc_cli_open_project ("calibrate", project_dir, model_dir)) == NULL)
    return 1;
  g_autofree char *project_stats = project ? sc_project_stats_path (project) : NULL;
  if (project != NULL)
    {
      if (model_dir == NULL)
        model_dir = g_strdup (sc_project_get_model_dir (project));
      output = g_strdup (project_stats);
      append = TRUE;
    }
  if (model_dir == NULL || output == NULL ||
      (from_files && (src == NULL || tgt == NULL || source == NULL ||
                      (cmode == SC_CALIBRATE_TEACHER_FORCED && target == NULL))))
    {
      fprintf (stderr, "secateur-cli calibrate: -m and -o (or --project) are required, and "
                       "either --pairs or "
                       "-s, -t and --source (with --target in teacher mode)\n");
      return 2;
    }

  ScCalibrateJobOptions opts;
  sc_calibrate_job_options_init (&opts);
  ScSampleMode smode = SC_SAMPLE_PROPORTIONAL;
  if (sampling != NULL && g_str_equal (sampling, "uniform"))
    smode = SC_SAMPLE_UNIFORM;
  else if (sampling != NULL && g_str_equal (sampling, "pairs"))
    smode = SC_SAMPLE_PAIRS;
  else if (sampling != NULL && !g_str_equal (sampling, "proportional"))
    {
      fprintf (stderr, "secateur-cli calibrate: --sampling is proportional, uniform or pairs\n");
      return 2;
    }
  if (!from_files && !sc_corpus_spec_parse (corpus, &opts.corpus, &error))
    {
      fprintf (stderr, "secateur-cli calibrate: %s\n", error->message);
      return 2;
    }
  g_autoptr (ScModel) model = sc_cli_load_model (model_dir, SC_MODEL_LOAD_DEFAULT, &dev, &error);
  if (model == NULL)
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }
  int ns = 0, nt = 0;
  g_auto (GStrv) src_lines = NULL;
  g_auto (GStrv) tgt_lines = NULL;
  g_autoptr (GArray) items = g_array_new (FALSE, FALSE, sizeof (ScCalibrationItem));
  g_auto (GStrv) directions = from_files ? NULL : g_strsplit (pairs, ",", -1);
  g_autofree char *files_corpus = from_files ? g_path_get_basename (source) : NULL;
  g_autoptr (ScShareTable) share_table = NULL;
  if (from_files)
    {
      src_lines = read_lines (source, &ns, &error);
      if (src_lines != NULL && target != NULL)
        tgt_lines = read_lines (target, &nt, &error);
      if (src_lines == NULL || (target != NULL && tgt_lines == NULL))
        {
          fprintf (stderr, "secateur-cli: %s\n", error->message);
          return 1;
        }
      if (target != NULL && nt != ns)
        {
          fprintf (stderr, "secateur-cli: %s has %d lines but %s has %d\n", source, ns, target, nt);
          return 1;
        }
      for (int i = 0; i < ns; i++)
        {
          if (src_lines[i][0] == '\0')
            continue;
          ScCalibrationItem it = { src, tgt, src_lines[i], tgt_lines ? tgt_lines[i] : NULL };
          g_array_append_val (items, it);
        }
      if (items->len == 0)
        {
          fprintf (stderr, "secateur-cli: %s has no sentences\n", source);
          return 1;
        }
    }
  else if (shares != NULL && smode == SC_SAMPLE_PROPORTIONAL &&
           (share_table = sc_share_table_load (shares, &error)) == NULL)
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }

  /* With --append, a file of another model is refused before the work;
   * it is read again (under a lock) when the new counts are added. */
  const ScStatsShape *shape = sc_model_get_moe_shape (model);
  g_autoptr (ScStats) earlier = NULL;
  if (append && g_file_test (output, G_FILE_TEST_EXISTS))
    earlier = sc_stats_load (output, shape, &error);
  if (error != NULL)
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }
  g_clear_pointer (&earlier, sc_stats_free);
  g_autoptr (ScStats) stats = sc_stats_new (shape);

  ScGenerateOptions gen;
  sc_generate_options_init (&gen, model);
  int max_tgt = max_len > 1 ? max_len : gen.max_length;
  int len = sc_model_get_config (model)->max_position_embeddings;
  opts.batch_size =
      sc_cli_fit_batch (model, &dev, batch, beam, len, cmode == SC_CALIBRATE_DECODE ? max_tgt : len,
                        cmode != SC_CALIBRATE_DECODE, &error);
  if (opts.batch_size == 0)
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }

  /* Reservoir samples do not add up as counters do: capture from one run
   * in one process. */
  if (capture > 0 && (append || sc_distributed_size () > 1))
    {
      fprintf (stderr, "secateur-cli calibrate: --capture writes a new capture file from one "
                       "process; it goes with neither --append nor an MPI run\n");
      return 2;
    }
  g_autoptr (ScCapture) cap = NULL;
  if (capture > 0)
    cap = sc_capture_new (shape->n_moe_layers, shape->n_encoder_moe, shape->d_model, capture,
                          SC_CAPTURE_DEFAULT_SEED);

  opts.directions = (const char *const *) directions;
  opts.sampling = smode;
  opts.shares = share_table;
  opts.size = size;
  opts.seed = (guint32) seed;
  opts.items = (const ScCalibrationItem *) items->data;
  opts.n_items = items->len;
  opts.items_name = files_corpus;
  opts.mode = cmode;
  opts.beam = beam;
  opts.max_length = max_len > 1 ? max_len : 0;
  opts.capture = cap;
  opts.ranks = &ranks;
  opts.sampled = print_summary;

  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  Progress p = { cancel, !quiet && isatty (fileno (stderr)) };
  signal (SIGINT, on_sigint);
  ScCalibrateJobResult result = { 0 };
  gboolean ok = sc_calibrate_job_run (model, &opts, stats, &result, report, &p, cancel, &error);
  if (p.show)
    fprintf (stderr, "\n");
  gboolean cancelled = !ok && result.interrupted;
  guint n_sentences = result.n_sentences;
  if (!ok && !cancelled)
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }
  g_clear_error (&error);
  if (sc_distributed_rank () != 0)
    return 0;
  /* Interrupted runs keep what they gathered: statistics are additive. */
  if (append)
    {
      ScStats *sum =
          project != NULL
              ? sc_project_add_stats (project, stats, waiting, GINT_TO_POINTER (quiet), &error)
              : sc_stats_append_to_file (stats, output, waiting, GINT_TO_POINTER (quiet), &error);
      if (sum != NULL)
        {
          sc_stats_free (stats);
          stats = sum;
        }
    }
  if (append ? error != NULL : !sc_stats_save (stats, output, &error))
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }
  g_autofree char *cap_path = cap != NULL ? sc_capture_path_for_stats (output) : NULL;
  if (cap != NULL && !sc_capture_save (cap, cap_path, &error))
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }
  if (cancelled)
    {
      fprintf (stderr, "secateur-cli: interrupted; partial statistics saved to %s\n", output);
      return 1;
    }
  if (!quiet)
    fprintf (stderr, "%u sentences, %" G_GUINT64_FORMAT " tokens: statistics in %s\n", n_sentences,
             sc_stats_total_tokens (stats), output);
  if (!quiet && cap != NULL)
    fprintf (stderr, "router inputs (at most %d per direction and MoE layer) in %s\n", capture,
             cap_path);
  return 0;
}
