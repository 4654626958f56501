/* test-ui-runs.c: several quality runs on the Prune page, under Xvfb, on
 * the demo model (4 MoE layers of 16 experts, 2 encoder and 2 decoder):
 * two sweeps with different metrics overlaid on the curve, each named by
 * its settings; picking the first applies its settings; the estimate at a
 * measured kept set is the measured value, elsewhere interpolated between
 * measured kept counts and never beyond them; the slider lands only on
 * ratios the 3:1 budget can give and the page says "N of M experts kept";
 * a run read back from its record is measured like the others. */
#include "sc-test-async.h"
#include "sc-test-ui.h"
#include "secateur-prune-page.h"
#include "secateur-quality-curve.h"
#include "sc-sweep-record.h"

#include <math.h>

static SecateurWindow *window;
static char *tmp;

static SecateurController *
controller (void)
{
  return secateur_window_get_controller (window);
}

static SecateurPrunePage *
prune_page (void)
{
  return SECATEUR_PRUNE_PAGE (secateur_window_get_page (window, "prune"));
}

static void
calibrate (void)
{
  ScTestWait w = { g_main_loop_new (NULL, FALSE), NULL };
  SecateurCalibrateRequest req = {
    { SC_CORPUS_UDHR, NULL }, SC_SAMPLE_PROPORTIONAL, 4, SC_CALIBRATE_TEACHER_FORCED, 0
  };
  secateur_controller_calibrate_async (controller (), &req, NULL, sc_test_got_result, &w);
  g_autoptr (GAsyncResult) result = sc_test_wait_result (&w);
  g_autoptr (GError) error = NULL;
  g_assert_true (secateur_controller_calibrate_finish (controller (), result, &error));
  g_assert_no_error (error);
  g_main_loop_unref (w.loop);
}

/* Measure Quality as the button does, then waits for the sweep's end. */
static void
measure (guint runs_before)
{
  secateur_prune_page_measure_quality (prune_page ());
  g_assert_true (secateur_controller_get_busy (controller ()));
  g_assert_true (sc_ui_wait ((gboolean (*) (gpointer)) sc_ui_controller_idle, window, 600));
  g_assert_cmpuint (secateur_controller_get_runs (controller ())->len, ==, runs_before + 1);
}

static void
set_metric (ScExpertMetric metric)
{
  SecateurPruneSettings *settings = secateur_controller_get_prune_settings (controller ());
  g_object_set (settings, "metric", metric, NULL);
}

/* The point of `run` that kept `kept` experts, or -1. */
static int
point_keeping (const ScSweepJobResult *run, int kept)
{
  for (int i = 0; i < run->n_ratios; i++)
    if (run->kept[i] == kept)
      return i;
  return -1;
}

static void
test_runs (void)
{
  window = sc_ui_open_demo (2, 12);
  if (window == NULL)
    return;
  const char *pair[] = { "eng_Latn-fra_Latn", NULL };
  secateur_controller_set_directions (controller (), pair);
  calibrate ();
  secateur_window_show_page (window, "prune");
  SecateurPrunePage *page = prune_page ();
  SecateurQualityCurve *curve = sc_ui_child (page, "curve");
  GtkRange *slider = sc_ui_child (page, "scale");

  /* two runs: importance, then frequency */
  set_metric (SC_EXPERT_METRIC_IMPORTANCE);
  measure (0);
  /* the second at the slider's 62.5 % too (57 % lands there) */
  set_metric (SC_EXPERT_METRIC_FREQUENCY);
  gtk_range_set_value (slider, 57);
  measure (1);
  GPtrArray *runs = secateur_controller_get_runs (controller ());
  const ScSweepJobResult *first = runs->pdata[0], *second = runs->pdata[1];
  g_assert_cmpint (first->settings.metric, ==, SC_EXPERT_METRIC_IMPORTANCE);
  g_assert_cmpint (second->settings.metric, ==, SC_EXPERT_METRIC_FREQUENCY);
  /* 0, 25, 50, 75 and 90 % give 64, 48, 32, 16 and 4 experts with 3:1 */
  static const int kept[] = { 64, 48, 32, 16, 4 };
  g_assert_cmpint (first->n_ratios, ==, 5);
  for (int i = 0; i < 5; i++)
    g_assert_cmpint (first->kept[i], ==, kept[i]);
  /* the slider's kept set is measured with them */
  g_assert_cmpint (second->n_ratios, ==, 6);
  g_assert_cmpint (point_keeping (second, 24), ==, 3);
  g_assert_cmpfloat (second->ratios[3], ==, 0.625);
  SecateurEstimate e;
  g_assert_true (secateur_controller_estimate (controller (), pair[0], &e));
  g_assert_cmpint (e.kind, ==, SC_SWEEP_MEASURED);
  g_assert_cmpfloat (e.chrf, ==, second->scores[3]);

  /* overlaid, the legend naming what tells them apart, the list each
   * by its settings; the newest is the current one */
  g_assert_cmpint (secateur_quality_curve_get_n_runs (curve), ==, 2);
  g_assert_cmpint (secateur_quality_curve_get_n_series (curve), ==, 2);
  g_assert_cmpstr (secateur_quality_curve_get_run_label (curve, 0), ==, "Importance");
  g_assert_cmpstr (secateur_quality_curve_get_run_label (curve, 1), ==, "Frequency");
  GListModel *listed = G_LIST_MODEL (sc_ui_child (page, "runs"));
  g_assert_cmpuint (g_list_model_get_n_items (listed), ==, 2);
  g_assert_cmpstr (gtk_string_list_get_string (GTK_STRING_LIST (listed), 0), ==,
                   "Importance · Per Layer · Per Language · 3:1");
  g_assert_cmpint (secateur_controller_get_current_run (controller ()), ==, 1);
  g_assert_true (gtk_widget_get_visible (sc_ui_child (page, "run_row")));
  g_assert_cmpstr (sc_ui_selected_text (page, "run_row"), ==,
                   "Frequency · Per Layer · Per Language · 3:1");

  /* picking the first run applies its settings (and Export's with them) */
  adw_combo_row_set_selected (sc_ui_child (page, "run_row"), 0);
  g_assert_cmpint (secateur_controller_get_current_run (controller ()), ==, 0);
  ScPruneSettings s;
  secateur_prune_settings_get (secateur_controller_get_prune_settings (controller ()), &s);
  g_assert_cmpint (s.metric, ==, SC_EXPERT_METRIC_IMPORTANCE);
  g_assert_cmpstr (sc_ui_selected_text (page, "metric_row"), ==, "Importance");
  g_assert_cmpint (secateur_quality_curve_get_n_runs (curve), ==, 2);

  /* at a measured kept set the estimate is the measured value */
  gtk_range_set_value (slider, 50);
  g_assert_cmpstr (sc_ui_row_value (page, "kept_row"), ==, "32 of 64 experts kept (50 % pruned)");
  g_assert_true (secateur_controller_estimate (controller (), pair[0], &e));
  g_assert_cmpint (e.kind, ==, SC_SWEEP_MEASURED);
  int at32 = point_keeping (first, 32);
  g_assert_cmpint (at32, >=, 0);
  g_assert_cmpfloat (e.chrf, ==, first->scores[at32]);
  g_assert_cmpint (e.n_directions, ==, 1);
  g_assert_cmpint (e.sentences, ==, 2);
  g_assert_cmpint (e.num_beams, ==, 1);
  g_assert_cmpint (e.max_length, ==, 12);
  g_autofree char *value = g_strdup_printf ("chrF++ %.1f, measured", first->scores[at32]);
  const char *text = sc_ui_row_value (page, "estimate_row");
  g_assert_true (g_str_has_prefix (text, value));
  /* it says what it rests on: the pair shown, the sentences, the decoding */
  g_assert_nonnull (strstr (text, "English → French"));
  g_assert_nonnull (strstr (text, "2 held-out sentences"));
  g_assert_nonnull (strstr (text, "greedy"));
  g_assert_nonnull (strstr (text, "12 tokens"));
  /* the mean over the run's pairs (one here) agrees */
  g_assert_true (secateur_controller_estimate (controller (), NULL, &e));
  g_assert_cmpint (e.kind, ==, SC_SWEEP_MEASURED);
  g_assert_cmpfloat (e.chrf, ==, first->chrf[at32]);

  /* the slider lands on what the budget gives: 51 % keeps as many as 50 %,
   * 57 % is nearer 62.5 % (24 kept) */
  gtk_range_set_value (slider, 51);
  g_assert_cmpfloat (gtk_range_get_value (slider), ==, 50);
  g_assert_cmpstr (sc_ui_label_text (page, "ratio_label"), ==, "50 % pruned");
  gtk_range_set_value (slider, 57);
  g_assert_cmpfloat (gtk_range_get_value (slider), ==, 62.5);
  g_assert_cmpstr (sc_ui_row_value (page, "kept_row"), ==, "24 of 64 experts kept (62.5 % pruned)");
  g_assert_cmpstr (sc_ui_label_text (page, "ratio_label"), ==, "62.5 % pruned");
  g_assert_cmpfloat (
      secateur_prune_settings_peek (secateur_controller_get_prune_settings (controller ()))->ratio,
      ==, 0.625);
  /* 24 was not measured: linear between 32 and 16 kept, said so */
  g_assert_true (secateur_controller_estimate (controller (), pair[0], &e));
  g_assert_cmpint (e.kind, ==, SC_SWEEP_INTERPOLATED);
  int at16 = point_keeping (first, 16);
  g_assert_cmpfloat_with_epsilon (
      e.chrf, first->scores[at16] + 0.5 * (first->scores[at32] - first->scores[at16]), 1e-9);
  g_assert_nonnull (strstr (sc_ui_row_value (page, "estimate_row"), "interpolated"));
  /* a key press moves one achievable step: 62.5 % -> 75 % */
  g_signal_emit_by_name (slider, "move-slider", GTK_SCROLL_STEP_RIGHT);
  g_assert_cmpfloat (gtk_range_get_value (slider), ==, 75);
  g_signal_emit_by_name (slider, "move-slider", GTK_SCROLL_STEP_LEFT);
  g_assert_cmpfloat (gtk_range_get_value (slider), ==, 62.5);
  sc_ui_screenshot (GTK_WIDGET (window), tmp, "prune-runs");

  /* a run read back from its record (as a project restores it) is a run
   * like the others: listed, overlaid, and its kept sets still measured */
  g_autoptr (GError) error = NULL;
  g_autofree char *record = sc_sweep_record_to_data (first, NULL, &error);
  g_assert_no_error (error);
  ScSweepJobResult *back = sc_sweep_record_parse (record, -1, &error);
  g_assert_no_error (error);
  secateur_controller_add_run (controller (), back);
  g_assert_cmpuint (runs->len, ==, 3);
  g_assert_cmpint (secateur_controller_get_current_run (controller ()), ==, 0);
  g_assert_cmpint (secateur_quality_curve_get_n_runs (curve), ==, 3);
  adw_combo_row_set_selected (sc_ui_child (page, "run_row"), 2);
  g_assert_cmpint (secateur_controller_get_current_run (controller ()), ==, 2);
  gtk_range_set_value (slider, 50);
  g_assert_true (secateur_controller_estimate (controller (), pair[0], &e));
  g_assert_cmpint (e.kind, ==, SC_SWEEP_MEASURED);
  g_assert_cmpfloat (e.chrf, ==, first->scores[at32]);

  /* a run that stopped at 50 % (64, 48 and 32 kept; one pair, so its
   * first three points) says nothing of 24 experts: not extrapolated */
  ScSweepJobResult *short_run = sc_sweep_job_result_copy (first);
  short_run->n_ratios = 3;
  secateur_controller_add_run (controller (), short_run);
  adw_combo_row_set_selected (sc_ui_child (page, "run_row"), 3);
  g_assert_cmpint (secateur_controller_get_current_run (controller ()), ==, 3);
  gtk_range_set_value (slider, 62.5);
  g_assert_true (secateur_controller_estimate (controller (), pair[0], &e));
  g_assert_cmpint (e.kind, ==, SC_SWEEP_NOT_MEASURED);
  g_assert_true (g_str_has_prefix (sc_ui_row_value (page, "estimate_row"), "Not measured"));
  gtk_range_set_value (slider, 50);
  g_assert_true (secateur_controller_estimate (controller (), pair[0], &e));
  g_assert_cmpint (e.kind, ==, SC_SWEEP_MEASURED);
}

int
main (int argc, char **argv)
{
  tmp = sc_ui_init (&argc, &argv);
  if (tmp == NULL)
    {
      g_test_skip ("no display");
      return g_test_run ();
    }
  g_test_add_func ("/ui-runs/runs", test_runs);
  int ret = g_test_run ();
  if (window != NULL)
    gtk_window_destroy (GTK_WINDOW (window));
  sc_test_rm_tree (tmp);
  g_free (tmp);
  return ret;
}
