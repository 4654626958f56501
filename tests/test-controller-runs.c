/* test-controller-runs.c: the controller's quality runs without any
 * widget, on the demo model (4 MoE layers of 16 experts): every sweep kept
 * as a run with what it measured, the slider's ratio measured with the
 * default points, picking a run applying its settings, the estimate keyed
 * on the kept set, a run restored from its record, and the export's report
 * drawing the current run at the shares actually pruned. Runs in every
 * build that has Cairo, the sanitizer builds included. */
#include "sc-sweep-record.h"
#include "sc-test-controller.h"
#include "sc-test-util.h"
#include "secateur-controller.h"

#include <cairo.h>
#include <string.h>
#ifdef HAVE_FONTCONFIG
#include <fontconfig/fontconfig.h>
#endif

static SecateurController *c;
static ScTestWait w;

static void
sweep (const ScPruneSettings *settings)
{
  g_autoptr (GError) error = NULL;
  secateur_controller_sweep_async (c, settings, NULL, sc_test_got_result, &w);
  g_autoptr (GAsyncResult) r = sc_test_wait_result (&w);
  g_assert_true (secateur_controller_sweep_finish (c, r, &error));
  g_assert_no_error (error);
}

static int
point_keeping (const ScSweepJobResult *run, int kept)
{
  for (int i = 0; i < run->n_ratios; i++)
    if (run->kept[i] == kept)
      return i;
  return -1;
}

static void
on_sweep_updated (SecateurController *controller, int *count)
{
  (*count)++;
}

static void
test_runs (void)
{
  g_autofree char *dir = sc_test_path ("resources/models/demo");
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_test_skip ("the demo model is not shipped");
      return;
    }
  g_autoptr (GError) error = NULL;
  c = secateur_controller_new ();
  w.loop = g_main_loop_new (NULL, FALSE);
  secateur_controller_set_threads (c, 2);
  secateur_controller_set_eval_limits (c, 2, 8);
  sc_test_controller_load (c, dir, &w);
  const char *pair[] = { "eng_Latn-fra_Latn", NULL };
  sc_test_controller_calibrate (c, pair, SC_CORPUS_UDHR, 4, 0, &w);
  int updates = 0;
  g_signal_connect (c, "sweep-updated", G_CALLBACK (on_sweep_updated), &updates);

  /* no run yet: no estimate */
  GPtrArray *runs = secateur_controller_get_runs (c);
  SecateurEstimate e;
  g_assert_cmpuint (runs->len, ==, 0);
  g_assert_cmpint (secateur_controller_get_current_run (c), ==, -1);
  g_assert_false (secateur_controller_estimate (c, NULL, &e));

  /* the pages' settings (importance, 3:1, 50 %): the default points */
  sweep (NULL);
  g_assert_cmpuint (runs->len, ==, 1);
  g_assert_cmpint (updates, ==, 1);
  const ScSweepJobResult *first = runs->pdata[0];
  static const int kept[] = { 64, 48, 32, 16, 4 };
  g_assert_cmpint (first->n_ratios, ==, 5);
  for (int i = 0; i < 5; i++)
    g_assert_cmpint (first->kept[i], ==, kept[i]);
  g_assert_cmpint (first->experts_total, ==, 64);
  g_assert_cmpint (first->sentences[0], ==, 2);
  g_assert_cmpint (first->max_length, ==, 8);
  g_assert_cmpint (first->num_beams, ==, 1);
  g_assert_cmpint (first->settings.metric, ==, SC_EXPERT_METRIC_IMPORTANCE);
  g_assert_nonnull (first->held_out);
  /* the statistics it rests on, from their provenance */
  g_assert_nonnull (strstr (first->calibration, "4 sentences"));

  /* other settings, at 62.5 %: a sixth point (24 kept) */
  ScPruneSettings other;
  sc_prune_settings_init (&other);
  other.metric = SC_EXPERT_METRIC_FREQUENCY;
  other.ratio = 0.625;
  sweep (&other);
  g_assert_cmpuint (runs->len, ==, 2);
  g_assert_cmpint (secateur_controller_get_current_run (c), ==, 1);
  const ScSweepJobResult *second = runs->pdata[1];
  g_assert_cmpint (second->n_ratios, ==, 6);
  g_assert_cmpint (point_keeping (second, 24), ==, 3);
  g_assert_cmpint (second->settings.metric, ==, SC_EXPERT_METRIC_FREQUENCY);

  /* picking the first applies its settings; the ratio stays */
  SecateurPruneSettings *settings = secateur_controller_get_prune_settings (c);
  g_object_set (settings, "metric", SC_EXPERT_METRIC_REAP, "ratio", 0.5, NULL);
  secateur_controller_select_run (c, 0);
  g_assert_cmpint (secateur_controller_get_current_run (c), ==, 0);
  g_assert_cmpint (secateur_prune_settings_peek (settings)->metric, ==,
                   SC_EXPERT_METRIC_IMPORTANCE);
  g_assert_cmpfloat (secateur_prune_settings_peek (settings)->ratio, ==, 0.5);
  g_assert_cmpint (updates, ==, 3);

  /* its kept set at 50 % was measured: the value itself, for the pair and
   * for the mean over the run's pairs */
  g_assert_true (secateur_controller_estimate (c, pair[0], &e));
  g_assert_cmpint (e.kind, ==, SC_SWEEP_MEASURED);
  g_assert_cmpfloat (e.chrf, ==, first->scores[2]);
  g_assert_true (secateur_controller_estimate (c, NULL, &e));
  g_assert_cmpint (e.kind, ==, SC_SWEEP_MEASURED);
  g_assert_cmpfloat (e.chrf, ==, first->chrf[2]);
  g_assert_cmpint (e.n_directions, ==, 1);
  /* 62.5 % (24 kept): between 32 and 16 kept */
  g_object_set (settings, "ratio", 0.625, NULL);
  g_assert_true (secateur_controller_estimate (c, pair[0], &e));
  g_assert_cmpint (e.kind, ==, SC_SWEEP_INTERPOLATED);
  g_assert_cmpfloat_with_epsilon (e.chrf, (first->scores[2] + first->scores[3]) / 2, 1e-9);
  /* a pair the run did not measure */
  g_assert_true (secateur_controller_estimate (c, "fra_Latn-eng_Latn", &e));
  g_assert_cmpint (e.kind, ==, SC_SWEEP_NOT_MEASURED);

  /* a run restored from its record is listed, not made current */
  g_autofree char *record = sc_sweep_record_to_data (second, NULL, &error);
  g_assert_no_error (error);
  secateur_controller_add_run (c, sc_sweep_record_parse (record, -1, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (runs->len, ==, 3);
  g_assert_cmpint (secateur_controller_get_current_run (c), ==, 0);
  secateur_controller_select_run (c, 2);
  g_assert_true (secateur_controller_estimate (c, pair[0], &e));
  g_assert_cmpint (e.kind, ==, SC_SWEEP_MEASURED);
  g_assert_cmpfloat (e.chrf, ==, second->scores[3]);

  /* the export's report draws the current run at the shares pruned */
  g_autofree char *tmp = g_dir_make_tmp ("controller-runs-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *out = g_build_filename (tmp, "out", NULL);
  secateur_controller_select_run (c, 0);
  secateur_controller_export_async (c, out, pair, NULL, FALSE, NULL, NULL, sc_test_got_result, &w);
  g_autoptr (GAsyncResult) exported = sc_test_wait_result (&w);
  g_assert_true (secateur_controller_export_finish (c, exported, &error));
  g_assert_no_error (error);
  g_autofree char *csv_path = g_build_filename (out, "report", "scores.csv", NULL);
  g_autofree char *csv = NULL;
  g_assert_true (g_file_get_contents (csv_path, &csv, NULL, NULL));
  g_auto (GStrv) lines = g_strsplit (csv, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 7);                        /* header, 5 points, "" */
  g_assert_true (g_str_has_prefix (lines[5], "eng_Latn-fra_Latn,0.94,")); /* 4 of 64 */
  sc_test_rm_tree (tmp);

  g_main_loop_unref (w.loop);
  g_clear_object (&c);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/controller-runs/runs", test_runs);
  int status = g_test_run ();
  /* the report's text leaves font caches in Cairo and fontconfig */
  cairo_debug_reset_static_data ();
#ifdef HAVE_FONTCONFIG
  FcFini ();
#endif
  return status;
}
