/* cli-calibrate.c: `secateur-cli calibrate`, gate statistics from text.
 *
 *   secateur-cli calibrate -m MODEL -s SRC -t TGT --source FILE [--target FILE]
 *                          [--mode teacher|decode] [--batch N] [--beam N]
 *                          [--max-len N] -o STATS.json [--append]
 *
 * Ctrl-C stops after the current batch and saves what was gathered. */
#include "cli-commands.h"
#include "sc-calibrate.h"

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static volatile sig_atomic_t interrupted;

static void
on_sigint (int sig)
{
  interrupted = 1;
}

typedef struct {
  GCancellable *cancel;
  gboolean      show;
} Progress;

static void
report (int done, int total, double rate, double eta, gpointer user_data)
{
  Progress *p = user_data;
  if (interrupted)
    g_cancellable_cancel (p->cancel);
  if (p->show)
    fprintf (stderr, "\rcalibrated %d/%d sentences, %.1f sentences/s, %.0f s left   ", done,
             total, rate, eta);
}

static char **
read_lines (const char *path, int *n, GError **error)
{
  g_autofree char *text = NULL;
  gsize len;
  if (!g_file_get_contents (path, &text, &len, error))
    return NULL;
  if (!g_utf8_validate (text, len, NULL)) {
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

int
sc_cli_calibrate (int argc, char **argv)
{
  g_autofree char *model_dir = NULL, *src = NULL, *tgt = NULL, *source = NULL, *target = NULL;
  g_autofree char *mode = NULL, *output = NULL;
  int batch = 16, beam = 1, max_len = 0;
  gboolean append = FALSE, quiet = FALSE;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_dir, "Model directory", "DIR" },
    { "source-lang", 's', 0, G_OPTION_ARG_STRING, &src, "Source language code", "LANG" },
    { "target-lang", 't', 0, G_OPTION_ARG_STRING, &tgt, "Target language code", "LANG" },
    { "source", 0, 0, G_OPTION_ARG_FILENAME, &source, "Source sentences, one a line", "FILE" },
    { "target", 0, 0, G_OPTION_ARG_FILENAME, &target, "Reference translations (teacher mode)",
      "FILE" },
    { "mode", 0, 0, G_OPTION_ARG_STRING, &mode, "teacher (default) or decode", "MODE" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "Sentences per batch (default 16)", "N" },
    { "beam", 0, 0, G_OPTION_ARG_INT, &beam, "Beams when decoding (default 1)", "N" },
    { "max-len", 0, 0, G_OPTION_ARG_INT, &max_len, "Longest output when decoding", "N" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Statistics file to write", "FILE" },
    { "append", 0, 0, G_OPTION_ARG_NONE, &append, "Add to the statistics already in FILE", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress on stderr", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- gather expert statistics");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    fprintf (stderr, "secateur-cli calibrate: %s\n", error->message);
    return 2;
  }
  ScCalibrateMode cmode = SC_CALIBRATE_TEACHER_FORCED;
  if (mode != NULL && g_str_equal (mode, "decode"))
    cmode = SC_CALIBRATE_DECODE;
  else if (mode != NULL && !g_str_equal (mode, "teacher")) {
    fprintf (stderr, "secateur-cli calibrate: --mode is teacher or decode\n");
    return 2;
  }
  if (model_dir == NULL || src == NULL || tgt == NULL || source == NULL || output == NULL ||
      (cmode == SC_CALIBRATE_TEACHER_FORCED && target == NULL) || batch < 1 || beam < 1) {
    fprintf (stderr, "secateur-cli calibrate: -m, -s, -t, --source and -o are required, and "
                     "--target in teacher mode\n");
    return 2;
  }

  g_autoptr (ScModel) model = sc_model_load (model_dir, NULL, &error);
  if (model == NULL) {
    fprintf (stderr, "secateur-cli: %s\n", error->message);
    return 1;
  }
  int ns = 0, nt = 0;
  g_auto (GStrv) src_lines = read_lines (source, &ns, &error);
  g_auto (GStrv) tgt_lines = NULL;
  if (src_lines != NULL && target != NULL)
    tgt_lines = read_lines (target, &nt, &error);
  if (src_lines == NULL || (target != NULL && tgt_lines == NULL)) {
    fprintf (stderr, "secateur-cli: %s\n", error->message);
    return 1;
  }
  if (target != NULL && nt != ns) {
    fprintf (stderr, "secateur-cli: %s has %d lines but %s has %d\n", source, ns, target, nt);
    return 1;
  }

  ScStatsShape shape;
  g_autofree char *name = g_path_get_basename (model_dir);
  sc_calibrate_shape (model, name, &shape);
  g_autoptr (ScStats) stats = NULL;
  if (append && g_file_test (output, G_FILE_TEST_EXISTS))
    stats = sc_stats_load (output, &shape, &error);
  else
    stats = sc_stats_new (&shape);
  g_free (shape.name);
  if (stats == NULL) {
    fprintf (stderr, "secateur-cli: %s\n", error->message);
    return 1;
  }

  g_autoptr (GArray) items = g_array_new (FALSE, FALSE, sizeof (ScCalibrationItem));
  for (int i = 0; i < ns; i++) {
    if (src_lines[i][0] == '\0')
      continue;
    ScCalibrationItem it = { src, tgt, src_lines[i], tgt_lines ? tgt_lines[i] : NULL };
    g_array_append_val (items, it);
  }

  ScCalibrateOptions opts;
  sc_calibrate_options_init (&opts, model);
  opts.mode = cmode;
  opts.batch_size = batch;
  opts.generate.num_beams = beam;
  if (max_len > 1)
    opts.generate.max_length = max_len;

  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  Progress p = { cancel, !quiet && isatty (fileno (stderr)) };
  signal (SIGINT, on_sigint);
  gboolean ok = sc_calibrate (model, stats, (ScCalibrationItem *) items->data, items->len, &opts,
                              report, &p, cancel, &error);
  if (p.show)
    fprintf (stderr, "\n");
  gboolean cancelled = !ok && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  if (!ok && !cancelled) {
    fprintf (stderr, "secateur-cli: %s\n", error->message);
    return 1;
  }
  g_clear_error (&error);
  /* Interrupted runs keep what they gathered: statistics are additive. */
  if (!sc_stats_save (stats, output, &error)) {
    fprintf (stderr, "secateur-cli: %s\n", error->message);
    return 1;
  }
  if (cancelled) {
    fprintf (stderr, "secateur-cli: interrupted; partial statistics saved to %s\n", output);
    return 1;
  }
  if (!quiet)
    fprintf (stderr, "%u sentences, %" G_GUINT64_FORMAT " tokens: statistics in %s\n", items->len,
             sc_stats_total_tokens (stats), output);
  return 0;
}
