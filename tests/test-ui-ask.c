/* test-ui-ask.c: nothing the user computed is discarded without asking.
 * A second calibration asks whether to add to the statistics or replace
 * them (Cancel leaves them as they were); the quality sweep is a named
 * job with a Cancel that asks and keeps the earlier curve, while the
 * buttons that would start another job say which one runs; the pruning
 * settings undo and redo (a slider drag is one step); opening another
 * model and closing the window during a job ask first. Also: the Weights
 * defaults sized from the model with their estimated time, and page
 * switches timed during a Weights run. Under Xvfb (tests/meson.build). */
#include "sc-test-ui.h"

#include "sc-provenance.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static struct
{
  char *tmp;
  SecateurWindow *window;
  gboolean calibrated, calibration_ok;
  gboolean curve_at_finish; /* a quality curve existed when the run finished */
  int paints;
} fx;

static SecateurController *
controller (void)
{
  return secateur_window_get_controller (fx.window);
}

static gpointer
page (const char *name)
{
  return secateur_window_get_page (fx.window, name);
}

static gboolean
calibrated (gpointer data)
{
  return fx.calibrated;
}

static gboolean
idle (gpointer data)
{
  return !secateur_controller_get_busy (controller ());
}

static gboolean
has_curve (void)
{
  int n;
  const double *r, *c;
  return secateur_controller_get_sweep (controller (), &n, &r, &c);
}

static void
on_calibrate_finished (SecateurCalibratePage *p, gboolean ok, gpointer data)
{
  fx.calibrated = TRUE;
  fx.calibration_ok = ok;
  fx.curve_at_finish = fx.window != NULL && has_curve (); /* NULL: closing */
}

/* Sentences and runs the statistics' records account for. */
static guint64
recorded_sentences (guint *runs)
{
  g_autoptr (JsonArray) records =
      sc_stats_get_provenance (secateur_controller_get_stats (controller ()));
  guint64 n = 0;
  *runs = records != NULL ? json_array_get_length (records) : 0;
  for (guint i = 0; i < *runs; i++)
    n += json_object_get_int_member (json_array_get_object_element (records, i), "sentences");
  return n;
}

/* Runs one calibration of `size` sentences through the page; `answer`:
 * the response to the add-or-replace question, NULL when none is due. */
static void
calibrate (int size, const char *answer)
{
  SecateurCalibratePage *p = page ("calibrate");
  secateur_calibrate_page_set_size (p, size);
  fx.calibrated = FALSE;
  /* Ctrl+R's action goes through the same question */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.calibrate", NULL));
  if (answer != NULL)
    sc_ui_answer ("Add to the Statistics?", answer);
  else
    g_assert_null (sc_ui_find_dialog ());
  if (answer != NULL && g_str_equal (answer, "cancel"))
    return;
  g_assert_true (sc_ui_wait (calibrated, NULL, 300));
  g_assert_true (fx.calibration_ok);
}

static void
test_open (void)
{
  fx.window = sc_ui_open_demo (2, 16);
  if (fx.window == NULL)
    return;
  /* models opened from here on keep their work in memory only (no
   * project), which is what opening another model puts at risk */
  secateur_controller_set_project_root (controller (), NULL);
  g_autofree char *demo = secateur_window_find_demo_model ();
  secateur_window_open_model (fx.window, demo);
  g_assert_true (sc_ui_wait (sc_ui_controller_idle, fx.window, 60));
  g_assert_true (sc_ui_wait (sc_ui_model_open, fx.window, 60));
  g_assert_null (secateur_controller_get_project_dir (controller ()));
  const char *dirs[] = { "eng_Latn-fra_Latn", "eng_Latn-deu_Latn", NULL };
  secateur_controller_set_directions (controller (), dirs);
  g_signal_connect (page ("calibrate"), "finished", G_CALLBACK (on_calibrate_finished), NULL);
}

static void
test_second_calibration (void)
{
  if (fx.window == NULL)
    {
      g_test_skip ("no demo model");
      return;
    }
  /* the first run: nothing to ask about */
  calibrate (4, NULL);
  guint runs = 0;
  guint64 first = recorded_sentences (&runs);
  g_assert_cmpuint (runs, ==, 1);
  g_assert_cmpuint (first, >=, 4);
  /* the window measures the curve after each calibration */
  g_assert_true (sc_ui_wait (idle, NULL, 300));
  g_assert_true (has_curve ());
  ScStats *before = secateur_controller_get_stats (controller ());
  guint64 tokens_before = sc_stats_total_tokens (before);

  /* Cancel: nothing runs, nothing changes */
  calibrate (6, "cancel");
  g_assert_false (secateur_controller_get_busy (controller ()));
  g_assert_true (secateur_controller_get_stats (controller ()) == before);
  g_assert_true (has_curve ());

  /* Add: the sentences add up and both runs' records are there */
  calibrate (6, "add");
  guint64 sum = recorded_sentences (&runs);
  g_autoptr (JsonArray) records =
      sc_stats_get_provenance (secateur_controller_get_stats (controller ()));
  guint64 second =
      json_object_get_int_member (json_array_get_object_element (records, 1), "sentences");
  g_test_message ("added: %" G_GUINT64_FORMAT " + %" G_GUINT64_FORMAT " sentences", first, second);
  g_assert_cmpuint (runs, ==, 2);
  g_assert_cmpuint (second, >=, 6);
  g_assert_cmpuint (sum, ==, first + second);
  g_assert_cmpuint (
      json_object_get_int_member (json_array_get_object_element (records, 0), "sentences"), ==,
      first);
  g_assert_cmpuint (sc_stats_total_tokens (secateur_controller_get_stats (controller ())), >,
                    tokens_before);
  /* adding kept the curve until it is measured again */
  g_assert_true (fx.curve_at_finish);
  g_assert_true (sc_ui_wait (idle, NULL, 300));

  /* Replace: only the new run, and the old curve went with the old statistics */
  calibrate (2, "replace");
  guint64 replaced = recorded_sentences (&runs);
  g_assert_cmpuint (runs, ==, 1);
  g_assert_cmpuint (replaced, >=, 2);
  g_assert_cmpuint (replaced, <, first + second);
  g_assert_false (fx.curve_at_finish);
  g_assert_cmpstr (sc_ui_label_text (page ("calibrate"), "status"), ==, "Calibration finished");
  g_assert_true (sc_ui_wait (idle, NULL, 300));
  g_assert_true (has_curve ());
}

/* The widget whose sensitivity and tooltip follow the running job. */
static const struct
{
  const char *page, *button;
} starters[] = { { "calibrate", "start_button" },
                 { "compare", "run_button" },
                 { "export", "export_button" },
                 { "weights", "start_button" } };

static gboolean
sweep_named (gpointer data)
{
  return g_str_has_prefix (sc_ui_label_text (page ("prune"), "sweep_status"),
                           "Measuring quality: point");
}

static void
test_sweep_cancel (void)
{
  if (fx.window == NULL)
    {
      g_test_skip ("no demo model");
      return;
    }
  SecateurPrunePage *prune = page ("prune");
  g_assert_true (has_curve ());
  int n;
  const double *ratios, *chrf;
  secateur_controller_get_sweep (controller (), &n, &ratios, &chrf);
  g_autofree double *old = g_memdup2 (chrf, n * sizeof (double));
  /* a longer sweep, so that it is still running when cancelled */
  secateur_controller_set_eval_limits (controller (), 64, 96);
  secateur_window_show_page (fx.window, "prune");
  secateur_prune_page_measure_quality (prune);
  g_assert_true (secateur_controller_get_busy (controller ()));
  g_assert_true (gtk_widget_get_visible (sc_ui_child (prune, "sweep_box")));
  g_assert_true (gtk_widget_get_visible (sc_ui_child (prune, "sweep_cancel")));
  /* the other starters are off and say which job runs */
  for (guint i = 0; i < G_N_ELEMENTS (starters); i++)
    {
      GtkWidget *b = sc_ui_child (page (starters[i].page), starters[i].button);
      g_assert_false (gtk_widget_get_sensitive (b));
      g_assert_cmpstr (gtk_widget_get_tooltip_text (b), ==, "Quality measurement is running");
    }
  GtkWidget *measure = sc_ui_child (prune, "measure_button");
  g_assert_false (gtk_widget_get_sensitive (measure));
  g_assert_cmpstr (gtk_widget_get_tooltip_text (measure), ==, "Quality measurement is running");
  /* named, by point and direction */
  g_assert_true (sc_ui_wait (sweep_named, NULL, 60));
  const char *status = sc_ui_label_text (prune, "sweep_status");
  g_test_message ("sweep: %s", status);
  g_assert_nonnull (strstr (status, ", direction "));

  /* Cancel (here Escape's action) asks; Continue goes on */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.cancel", NULL));
  AdwMessageDialog *q = sc_ui_find_dialog ();
  g_assert_nonnull (q);
  g_assert_nonnull (
      strstr (adw_message_dialog_get_body (q), "the quality curve from before is kept"));
  sc_ui_answer ("Stop Measuring Quality?", "continue");
  sc_ui_settle (0.2);
  g_assert_true (secateur_controller_get_busy (controller ()));
  /* Stop: the earlier curve stays, the buttons come back */
  secateur_prune_page_cancel_quality (prune);
  sc_ui_answer ("Stop Measuring Quality?", "stop");
  g_assert_true (sc_ui_wait (idle, NULL, 120));
  sc_ui_settle (0.1);
  g_assert_true (has_curve ());
  secateur_controller_get_sweep (controller (), &n, &ratios, &chrf);
  for (int i = 0; i < n; i++)
    g_assert_cmpfloat (chrf[i], ==, old[i]);
  g_assert_false (gtk_widget_get_visible (sc_ui_child (prune, "sweep_box")));
  for (guint i = 0; i < G_N_ELEMENTS (starters); i++)
    {
      GtkWidget *b = sc_ui_child (page (starters[i].page), starters[i].button);
      g_assert_true (gtk_widget_get_sensitive (b));
      g_assert_null (gtk_widget_get_tooltip_text (b));
    }
  g_assert_true (gtk_widget_get_sensitive (measure));
  secateur_controller_set_eval_limits (controller (), 2, 16);
}

static void
test_undo (void)
{
  if (fx.window == NULL)
    {
      g_test_skip ("no demo model");
      return;
    }
  SecateurPruneSettings *settings = secateur_controller_get_prune_settings (controller ());
  GtkRange *scale = sc_ui_child (page ("prune"), "scale");
  secateur_window_show_page (fx.window, "prune");
  double start = secateur_prune_settings_peek (settings)->ratio;
  int metric = secateur_prune_settings_peek (settings)->metric;
  /* a drag of the slider, then another metric */
  for (int v = 10; v <= 80; v += 5)
    gtk_range_set_value (scale, v);
  double dragged = secateur_prune_settings_peek (settings)->ratio;
  g_assert_cmpfloat (fabs (dragged - start), >, 0.01);
  adw_combo_row_set_selected (sc_ui_child (page ("prune"), "metric_row"), 1);
  g_assert_cmpint (secateur_prune_settings_peek (settings)->metric, !=, metric);
  /* Ctrl+Z: the metric back, then the whole drag in one step */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.undo", NULL));
  g_assert_cmpint (secateur_prune_settings_peek (settings)->metric, ==, metric);
  g_assert_cmpfloat (secateur_prune_settings_peek (settings)->ratio, ==, dragged);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.undo", NULL));
  g_assert_cmpfloat (secateur_prune_settings_peek (settings)->ratio, ==, start);
  g_assert_cmpfloat_with_epsilon (gtk_range_get_value (scale), 100 * start, 1e-6);
  /* Ctrl+Shift+Z: forth again */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.redo", NULL));
  g_assert_cmpfloat (secateur_prune_settings_peek (settings)->ratio, ==, dragged);
  g_assert_cmpfloat_with_epsilon (gtk_range_get_value (scale), 100 * dragged, 1e-6);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.redo", NULL));
  g_assert_cmpint (secateur_prune_settings_peek (settings)->metric, !=, metric);
  g_assert_cmpuint (adw_combo_row_get_selected (sc_ui_child (page ("prune"), "metric_row")), ==, 1);
}

static void
on_paint (GdkFrameClock *clock, gpointer data)
{
  fx.paints++;
}

static gboolean
painted (gpointer data)
{
  return fx.paints > GPOINTER_TO_INT (data);
}

static gboolean
step_estimated (gpointer data)
{
  const char *s = sc_ui_label_text (page ("weights"), "status");
  return g_str_has_prefix (s, "Step ") && strstr (s, "left") != NULL;
}

/* Switches through the pages (twice, or until the job ends), each timed
 * to the next frame painted; returns the worst. */
static double
time_switches (const char *when, gboolean during_job)
{
  static const char *const pages[] = { "model", "calibrate", "prune", "compare", "weights" };
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (fx.window));
  g_signal_connect (clock, "after-paint", G_CALLBACK (on_paint), NULL);
  double worst = 0, total = 0;
  int switches = 0;
  for (int round = 0; round < 2 && !(during_job && idle (NULL)); round++)
    for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
      {
        sc_ui_settle (0.3);
        int before = fx.paints;
        gint64 t0 = g_get_monotonic_time ();
        secateur_window_show_page (fx.window, pages[i]);
        g_assert_true (sc_ui_wait (painted, GINT_TO_POINTER (before), 10));
        double dt = (g_get_monotonic_time () - t0) / 1e6;
        worst = MAX (worst, dt);
        total += dt;
        switches++;
      }
  g_signal_handlers_disconnect_by_func (clock, on_paint, NULL);
  g_test_message ("page switches %s: %d, mean %.3f s, worst %.3f s", when, switches,
                  switches ? total / switches : 0, worst);
  return worst;
}

/* The Weights defaults: sized from the model, the time they will take
 * and the languages measured shown before starting; during the run, page
 * switches are timed (to the next frame painted). */
static void
test_weights_defaults (void)
{
  if (fx.window == NULL)
    {
      g_test_skip ("no demo model");
      return;
    }
  SecateurWeightsPage *w = page ("weights");
  secateur_window_show_page (fx.window, "weights");
  int samples = gtk_spin_button_get_value_as_int (sc_ui_child (w, "samples_spin"));
  g_assert_cmpint (samples, ==, secateur_controller_sparsify_default_samples (controller ()));
  g_assert_cmpint (samples, <, 128);
  /* the languages of the pairs chosen on the Model page */
  g_assert_cmpstr (sc_ui_row_value (w, "languages_row"), ==, "German, French");
  const char *estimate = sc_ui_row_value (w, "estimate_row");
  g_test_message ("Weights defaults: %d samples, %s", samples, estimate);
  double s = -1;
  g_assert_cmpint (sscanf (estimate, "about %lf s", &s), ==, 1);
  g_assert_cmpfloat (s, >=, 20);
  g_assert_cmpfloat (s, <=, 90);

  time_switches ("with no job", FALSE);
  secateur_window_show_page (fx.window, "weights");
  secateur_weights_page_start (w);
  g_assert_true (secateur_controller_get_busy (controller ()));
  /* "Step 0 of N" is not left without a time */
  g_assert_true (sc_ui_wait (step_estimated, NULL, 30));
  g_test_message ("weights: %s", sc_ui_label_text (w, "status"));
  double worst = time_switches ("during the Weights run", TRUE);
  /* generous: the machine running the tests is shared */
  g_assert_cmpfloat (worst, <, 3.0);
  secateur_weights_page_cancel (w);
  g_assert_true (sc_ui_wait (idle, NULL, 120));
}

/* The model was opened again: its statistics are gone. */
static gboolean
model_reopened (gpointer data)
{
  return secateur_controller_get_info (controller ()) != NULL &&
         secateur_controller_get_stats (controller ()) == NULL &&
         g_str_equal (secateur_window_get_state (fx.window), "model");
}

static void
test_open_asks (void)
{
  if (fx.window == NULL)
    {
      g_test_skip ("no demo model");
      return;
    }
  ScStats *stats = secateur_controller_get_stats (controller ());
  g_assert_nonnull (stats);
  g_autofree char *demo = secateur_window_find_demo_model ();
  secateur_window_open_model (fx.window, demo);
  AdwMessageDialog *q = sc_ui_find_dialog ();
  g_assert_nonnull (q);
  g_assert_nonnull (strstr (adw_message_dialog_get_body (q), "statistics"));
  sc_ui_answer ("Open Another Model?", "cancel");
  sc_ui_settle (0.2);
  g_assert_cmpstr (secateur_window_get_state (fx.window), ==, "model");
  g_assert_true (secateur_controller_get_stats (controller ()) == stats);

  /* during a job: Open stops it, then opens once the worker has stopped */
  secateur_weights_page_start (page ("weights"));
  g_assert_true (secateur_controller_get_busy (controller ()));
  secateur_window_open_model (fx.window, demo);
  g_assert_cmpstr (adw_message_dialog_get_body (sc_ui_find_dialog ()), ==,
                   "Weight pruning is running: it will be stopped and its partial results are "
                   "lost.");
  sc_ui_answer ("Open Another Model?", "yes");
  g_assert_true (sc_ui_wait (model_reopened, NULL, 120));
  g_assert_true (sc_ui_wait (idle, NULL, 60));
  g_assert_cmpstr (secateur_window_get_state (fx.window), ==, "model");
  g_assert_null (secateur_controller_get_stats (controller ()));
  g_assert_null (secateur_controller_get_sparsify_result (controller ()));
}

static gboolean
window_gone (gpointer data)
{
  return fx.window == NULL;
}

static void
test_close_asks (void)
{
  if (fx.window == NULL)
    {
      g_test_skip ("no demo model");
      return;
    }
  SecateurController *c = g_object_ref (controller ());
  /* the model was opened again: pairs afresh */
  const char *dirs[] = { "eng_Latn-fra_Latn", NULL };
  secateur_controller_set_directions (c, dirs);
  secateur_calibrate_page_set_size (page ("calibrate"), 5000);
  secateur_calibrate_page_start (page ("calibrate"));
  if (secateur_controller_get_stats (c) != NULL)
    sc_ui_answer ("Add to the Statistics?", "add");
  g_assert_true (secateur_controller_get_busy (c));
  sc_ui_settle (0.3);
  /* Cancel: the job and the window stay */
  gtk_window_close (GTK_WINDOW (fx.window));
  AdwMessageDialog *q = sc_ui_find_dialog ();
  g_assert_nonnull (q);
  g_assert_cmpstr (adw_message_dialog_get_body (q), ==,
                   "Calibration is running: it will be stopped and its partial results are lost.");
  sc_ui_answer ("Stop and Close?", "cancel");
  sc_ui_settle (0.3);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (fx.window)));
  g_assert_true (secateur_controller_get_busy (c));
  /* Stop and Close: hidden at once, gone when the worker has stopped */
  g_object_add_weak_pointer (G_OBJECT (fx.window), (gpointer *) &fx.window);
  gtk_window_close (GTK_WINDOW (fx.window));
  sc_ui_answer ("Stop and Close?", "yes");
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (fx.window)));
  g_assert_true (sc_ui_wait (window_gone, NULL, 180));
  g_assert_false (secateur_controller_get_busy (c));
  g_object_unref (c);
}

int
main (int argc, char **argv)
{
  fx.tmp = sc_ui_init (&argc, &argv);
  if (fx.tmp == NULL)
    {
      g_test_skip ("no display");
      return g_test_run ();
    }
  g_test_add_func ("/ask/open", test_open);
  g_test_add_func ("/ask/second-calibration", test_second_calibration);
  g_test_add_func ("/ask/sweep-cancel", test_sweep_cancel);
  g_test_add_func ("/ask/undo", test_undo);
  g_test_add_func ("/ask/weights-defaults", test_weights_defaults);
  g_test_add_func ("/ask/open-asks", test_open_asks);
  g_test_add_func ("/ask/close-asks", test_close_asks);
  int status = g_test_run ();
  sc_test_rm_tree (fx.tmp);
  g_free (fx.tmp);
  return status;
}
