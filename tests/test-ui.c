/* test-ui.c: the desktop application driven end to end on the shipped demo
 * model, under Xvfb: open it, pick two pairs, calibrate a few sentences and
 * check the live heatmap (widget state against the engine's metrics, and
 * pixels of the rendered heatmap against the palette), move the pruning
 * slider and see the estimates change, compare, export and load the export
 * back; prune weights in the Weights mode (Wanda 50 %: half of every layer,
 * chrF++ per language before and after) and cancel a larger run; cancel a
 * calibration (control back within a second) and close the window during a
 * job. A 10 ms timer records the worst main-loop gap,
 * reported in the log; screenshots of each view go to
 * meson-logs/screenshots/ in the build directory.
 *
 * Over 800 lines: one application instance is started once and driven
 * through every page in order (starting GTK and loading the model per file
 * would multiply the run time under Xvfb). */
#include "sc-chart-palette.h"
#include "sc-expert-index.h"
#include "sc-test-ui.h"
#include "secateur-bars.h"
#include "secateur-dumbbell.h"
#include "secateur-quality-curve.h"
#include "secateur-window.h"

#include <math.h>

typedef struct
{
  SecateurWindow *window;
  char *tmp;
  gint64 last_tick;
  gint64 worst_gap_us;
  int stats_updates;
  gboolean calibrated, calibration_ok;
  gint64 cancel_at, finished_at;
  int updates_before;
  gint64 last_progress, batch_us; /* longest time between two batches */
  gboolean measuring;             /* only while the application runs the loop */
  int ticks, slow_ticks;          /* slow: more than 50 ms apart */
  char *worst_in;                 /* the test where the worst gap happened */
} Fixture;

static Fixture fx;

static void
screenshot (const char *name)
{
  sc_ui_screenshot (GTK_WIDGET (fx.window), fx.tmp, name);
}

static gboolean
tick (gpointer data)
{
  gint64 now = g_get_monotonic_time ();
  if (fx.measuring && fx.last_tick > 0)
    {
      if (now - fx.last_tick > fx.worst_gap_us)
        {
          fx.worst_gap_us = now - fx.last_tick;
          g_free (fx.worst_in);
          fx.worst_in = g_strdup (g_test_get_path ());
        }
      fx.ticks++;
      fx.slow_ticks += now - fx.last_tick > 50000;
    }
  fx.last_tick = now;
  return G_SOURCE_CONTINUE;
}

/* Runs the main loop until cond () holds; FALSE after timeout_s. */
static gboolean
wait_for (gboolean (*cond) (void), double timeout_s)
{
  gint64 end = g_get_monotonic_time () + (gint64) (timeout_s * G_USEC_PER_SEC);
  /* the gap is measured only here, where the application alone runs the
   * loop (not while the test itself renders or loads files) */
  fx.last_tick = g_get_monotonic_time ();
  fx.measuring = TRUE;
  while (!cond ())
    {
      if (g_get_monotonic_time () > end)
        {
          fx.measuring = FALSE;
          return FALSE;
        }
      g_main_context_iteration (NULL, TRUE);
    }
  fx.measuring = FALSE;
  return TRUE;
}

static gboolean
model_open (void)
{
  return g_str_equal (secateur_window_get_state (fx.window), "model");
}

static gboolean
idle_controller (void)
{
  return !secateur_controller_get_busy (secateur_window_get_controller (fx.window));
}

static gboolean
calibrated (void)
{
  return fx.calibrated;
}

static gboolean
has_sweep (void)
{
  int n;
  const double *r, *c;
  return idle_controller () &&
         secateur_controller_get_sweep (secateur_window_get_controller (fx.window), &n, &r, &c);
}

static gboolean
heatmap_moved (void)
{
  return fx.stats_updates > fx.updates_before;
}

static void
on_progress (SecateurController *c, int done, int total, double rate, double eta, gpointer data)
{
  gint64 now = g_get_monotonic_time ();
  if (done > 0 && fx.last_progress > 0)
    fx.batch_us = MAX (fx.batch_us, now - fx.last_progress);
  fx.last_progress = now;
}

static gboolean
window_gone (void)
{
  return fx.window == NULL;
}








/* The pruning settings the controller owns and the pages follow. */
static SecateurPruneSettings *
prune_settings (void)
{
  return secateur_controller_get_prune_settings (secateur_window_get_controller (fx.window));
}

static SecateurCalibratePage *
calibrate_page (void)
{
  return SECATEUR_CALIBRATE_PAGE (secateur_window_get_page (fx.window, "calibrate"));
}

static SecateurPrunePage *
prune_page (void)
{
  return SECATEUR_PRUNE_PAGE (secateur_window_get_page (fx.window, "prune"));
}

static void
on_stats_updated (SecateurController *c, gpointer data)
{
  fx.stats_updates++;
}

static void
on_calibrate_finished (SecateurCalibratePage *page, gboolean ok, gpointer data)
{
  fx.calibrated = TRUE;
  fx.calibration_ok = ok;
  fx.finished_at = g_get_monotonic_time ();
}

static void
test_open_demo (void)
{
  g_autofree char *demo = secateur_window_find_demo_model ();
  if (demo == NULL)
    {
      g_test_skip ("the demo model is not shipped (resources/models/demo)");
      return;
    }
  fx.window = g_object_new (SECATEUR_TYPE_WINDOW, NULL);
  gtk_window_set_default_size (GTK_WINDOW (fx.window), 1280, 800);
  gtk_window_present (GTK_WINDOW (fx.window));
  g_assert_cmpstr (secateur_window_get_state (fx.window), ==, "welcome");
  SecateurController *controller = secateur_window_get_controller (fx.window);
  secateur_controller_set_eval_limits (controller, 2, 16);
  g_signal_connect (controller, "stats-updated", G_CALLBACK (on_stats_updated), NULL);
  g_signal_connect (controller, "progress", G_CALLBACK (on_progress), NULL);
  g_signal_connect (calibrate_page (), "finished", G_CALLBACK (on_calibrate_finished), NULL);
  screenshot ("welcome");

  gint64 t0 = g_get_monotonic_time ();
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.open-demo", NULL));
  g_assert_true (wait_for (model_open, 30));
  g_test_message ("demo model open in %.0f ms (config, tokenizer and tensor headers)",
                  (g_get_monotonic_time () - t0) / 1000.0);

  SecateurOverviewPage *overview =
      SECATEUR_OVERVIEW_PAGE (secateur_window_get_page (fx.window, "model"));
  g_assert_nonnull (strstr (sc_ui_row_value (overview, "experts_row"),
                            "16 experts in each of 4 MoE layers (2 encoder, 2 decoder)"));
  g_assert_nonnull (strstr (sc_ui_row_value (overview, "languages_row"), "12"));
  g_assert_nonnull (strstr (sc_ui_row_value (overview, "architecture_row"), "Mixture-of-Experts"));
  /* the model's name beside the page tabs (the tabs take the title's place) */
  GtkWidget *model_label = sc_ui_child (fx.window, "model_label");
  sc_ui_settle (0.2);
  g_assert_true (gtk_widget_get_mapped (model_label));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (model_label)), ==, "demo");
  /* the model's project (MODELNAME-FINGERPRINT.secateur) is remembered for the welcome page */
  g_auto (GStrv) recent = secateur_window_get_recent (fx.window);
  g_assert_nonnull (recent[0]);
  g_autofree char *recent_name = g_path_get_basename (recent[0]);
  g_assert_true (g_str_has_prefix (recent_name, "demo-") &&
                 g_str_has_suffix (recent_name, ".secateur"));
  const SecateurModelInfo *info =
      secateur_controller_get_info (secateur_window_get_controller (fx.window));
  g_assert_nonnull (info);
  /* one expert's bytes as stored (f16): fc1 and fc2 (d x ffn, with
   * biases) and its router row (d) */
  g_assert_cmpuint (info->bytes_per_expert, ==, (2 * 256 * 512 + 512 + 256 + 256) * 2);

  /* before calibration: Measure Quality is off and says why, the prune
   * pane is one empty state, and the calibrate page asks for pairs */
  GtkWidget *measure = sc_ui_child (prune_page (), "measure_button");
  g_assert_false (gtk_widget_get_sensitive (measure));
  g_assert_nonnull (strstr (gtk_widget_get_tooltip_text (measure), "Calibrate first"));
  g_assert_cmpstr (gtk_stack_get_visible_child_name (sc_ui_child (prune_page (), "charts_stack")), ==,
                   "empty");
  g_assert_cmpstr (adw_status_page_get_description (sc_ui_child (prune_page (), "empty_page")), ==,
                   "Calibrate the model on the Calibrate page; its statistics decide which experts "
                   "are kept.");
  g_assert_cmpstr (sc_ui_row_value (prune_page (), "kept_row"), ==, "—");
  g_assert_cmpstr (sc_ui_label_text (calibrate_page (), "status"), ==,
                   "Choose language pairs on the Model page, then start.");
  /* empty states on the other panes with nothing to show yet */
  g_assert_cmpstr (gtk_stack_get_visible_child_name (sc_ui_child (calibrate_page (), "heatmap_stack")),
                   ==, "empty");
  g_assert_cmpstr (gtk_stack_get_visible_child_name (
                       sc_ui_child (secateur_window_get_page (fx.window, "compare"), "results_stack")),
                   ==, "empty");
  g_assert_cmpstr (gtk_stack_get_visible_child_name (
                       sc_ui_child (secateur_window_get_page (fx.window, "weights"), "charts_stack")),
                   ==, "empty");
}

static void
test_languages (void)
{
  if (fx.window == NULL)
    {
      g_test_skip ("no demo model");
      return;
    }
  SecateurOverviewPage *overview =
      SECATEUR_OVERVIEW_PAGE (secateur_window_get_page (fx.window, "model"));
  SecateurLanguagePicker *picker = sc_ui_child (overview, "picker");
  g_assert_cmpuint (secateur_language_picker_count_visible (picker), ==, 12);
  secateur_language_picker_set_search (picker, "fra");
  g_assert_cmpuint (secateur_language_picker_count_visible (picker), ==, 1);
  secateur_language_picker_set_search (picker, "Latn");
  g_assert_cmpuint (secateur_language_picker_count_visible (picker), ==, 7);
  secateur_language_picker_set_search (picker, "");

  /* the English preset on one selected language gives both directions */
  secateur_language_picker_set_selected (picker, "fra_Latn", TRUE);
  secateur_language_picker_english_pairs (picker);
  const char *const *dirs =
      secateur_controller_get_directions (secateur_window_get_controller (fx.window));
  g_assert_cmpuint (g_strv_length ((char **) dirs), ==, 2);
  g_assert_cmpstr (dirs[0], ==, "eng_Latn-fra_Latn");
  g_assert_cmpstr (dirs[1], ==, "fra_Latn-eng_Latn");
  /* all pairs among {eng, fra} adds nothing new; a same-language pair is refused */
  secateur_language_picker_set_selected (picker, "eng_Latn", TRUE);
  secateur_language_picker_all_pairs (picker);
  g_assert_false (secateur_language_picker_add_pair (picker, "fra_Latn", "fra_Latn"));
  g_assert_false (secateur_language_picker_add_pair (picker, "fra_Latn", "xyz_Latn"));
  dirs = secateur_controller_get_directions (secateur_window_get_controller (fx.window));
  g_assert_cmpuint (g_strv_length ((char **) dirs), ==, 2);
  /* pairs by name, and the calibrate page's hint follows them */
  g_assert_nonnull (strstr (sc_ui_label_text (picker, "pairs_label"), "English → French"));
  g_assert_cmpstr (sc_ui_label_text (calibrate_page (), "status"), ==,
                   "2 language pairs chosen: start when ready.");
  g_assert_cmpstr (sc_ui_selected_text (prune_page (), "direction_row"), ==, "English → French");
  /* Add Pair is off, saying why, for one language on both sides */
  GtkWidget *add = sc_ui_child (picker, "add_button");
  gtk_drop_down_set_selected (sc_ui_child (picker, "src_dropdown"), 3);
  gtk_drop_down_set_selected (sc_ui_child (picker, "tgt_dropdown"), 3);
  g_assert_false (gtk_widget_get_sensitive (add));
  g_assert_cmpstr (gtk_widget_get_tooltip_text (add), ==,
                   "Source and target are the same language");
  gtk_drop_down_set_selected (sc_ui_child (picker, "tgt_dropdown"), 4);
  g_assert_true (gtk_widget_get_sensitive (add) ||
                 g_str_equal (gtk_widget_get_tooltip_text (add), "This pair is already chosen"));
  /* the language list scrolls with the page, not inside it */
  GtkWidget *sw =
      gtk_widget_get_ancestor (sc_ui_child (picker, "language_list"), GTK_TYPE_SCROLLED_WINDOW);
  g_assert_true (sw == NULL || !gtk_widget_is_ancestor (sw, GTK_WIDGET (picker)));
  screenshot ("model");
}

/* The heatmap's metric (0 importance, 1 activity, 2 frequency, 3 REAP) and
 * scope (0 all directions, then languages, then pairs), as chosen above it. */
static void
set_view (SecateurCalibratePage *page, guint metric, guint scope)
{
  gtk_drop_down_set_selected (sc_ui_child (page, "metric_dropdown"), metric);
  gtk_drop_down_set_selected (sc_ui_child (page, "scope_dropdown"), scope);
}

static void
test_calibrate (void)
{
  if (fx.window == NULL)
    {
      g_test_skip ("no demo model");
      return;
    }
  SecateurController *controller = secateur_window_get_controller (fx.window);
  SecateurCalibratePage *page = calibrate_page ();
  secateur_window_show_page (fx.window, "model");
  /* no pruning while checking colours: nothing is struck through (the
   * pruning panel's slider follows the settings) */
  g_object_set (prune_settings (), "ratio", 0.0, NULL);
  g_assert_cmpfloat (gtk_range_get_value (sc_ui_child (prune_page (), "scale")), ==, 0);
  secateur_calibrate_page_set_size (page, 8);
  fx.stats_updates = 0;
  fx.calibrated = FALSE;
  /* Ctrl+R's action: shows the page and starts, as its Start button does */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.calibrate", NULL));
  g_assert_cmpstr (secateur_window_get_visible_page (fx.window), ==, "calibrate");
  g_assert_true (secateur_controller_get_busy (controller));
  g_assert_true (wait_for (calibrated, 120));
  g_assert_true (fx.calibration_ok);
  g_test_message ("%d statistics snapshots reached the main loop during calibration",
                  fx.stats_updates);
  g_assert_cmpint (fx.stats_updates, >=, 2);

  /* the heatmap shows the engine's importance for all directions */
  ScStats *stats = secateur_controller_get_stats (controller);
  g_assert_nonnull (stats);
  g_auto (GStrv) have = sc_stats_list_directions (stats);
  g_assert_cmpuint (g_strv_length (have), ==, 2);
  SecateurHeatmap *heatmap = sc_ui_child (page, "heatmap");
  g_assert_cmpstr (gtk_stack_get_visible_child_name (sc_ui_child (page, "heatmap_stack")), ==, "heatmap");
  g_assert_cmpint (secateur_heatmap_get_rows (heatmap), ==, 4);
  g_assert_cmpint (secateur_heatmap_get_cols (heatmap), ==, 16);
  g_autofree double *expect = sc_expert_metrics_for (stats, SC_GRANULARITY_GLOBAL, NULL, NULL,
                                                     SC_EXPERT_METRIC_IMPORTANCE, NULL);
  double sum = 0;
  for (int r = 0; r < 4; r++)
    for (int c = 0; c < 16; c++)
      {
        g_assert_cmpfloat_with_epsilon (secateur_heatmap_get_value (heatmap, r, c),
                                        expect[r * 16 + c], 1e-6 * (1 + fabs (expect[r * 16 + c])));
        sum += secateur_heatmap_get_value (heatmap, r, c);
      }
  g_assert_cmpfloat (sum, >, 0);

  /* each selected pair has its own non-zero statistics (scopes: all, 2
   * languages, then the pairs) */
  for (guint scope = 3; scope <= 4; scope++)
    {
      set_view (page, 2 /* frequency */, scope);
      double row_sum = 0;
      for (int c = 0; c < 16; c++)
        row_sum += secateur_heatmap_get_value (heatmap, 0, c);
      /* frequency: top-1 + top-2 shares sum to 2 in every layer */
      g_assert_cmpfloat_with_epsilon (row_sum, 2.0, 1e-6);
    }
  set_view (page, 0, 0);

  /* pixels: each cell's centre has the palette colour of its value */
  double x, y, w, h;
  cairo_surface_t *surface = secateur_heatmap_render (heatmap, 900, 360);
  float vmin = INFINITY, vmax = -INFINITY;
  for (int i = 0; i < 64; i++)
    {
      vmin = MIN (vmin, expect[i]);
      vmax = MAX (vmax, expect[i]);
    }
  int stride = cairo_image_surface_get_stride (surface);
  const guint8 *px = cairo_image_surface_get_data (surface);
  int checked = 0;
  for (int r = 0; r < 4; r++)
    for (int c = 0; c < 16; c++)
      {
        g_assert_true (secateur_heatmap_cell_rect (heatmap, 900, 360, r, c, &x, &y, &w, &h));
        int cx = (int) (x + w / 2), cy = (int) (y + h / 2);
        guint32 p = *(const guint32 *) (px + cy * stride + cx * 4);
        double rgb[3];
        sc_chart_palette ((expect[r * 16 + c] - vmin) / (vmax - vmin), rgb);
        g_assert_cmpint (abs ((int) ((p >> 16) & 0xff) - (int) lround (rgb[0] * 255)), <=, 3);
        g_assert_cmpint (abs ((int) ((p >> 8) & 0xff) - (int) lround (rgb[1] * 255)), <=, 3);
        g_assert_cmpint (abs ((int) (p & 0xff) - (int) lround (rgb[2] * 255)), <=, 3);
        checked++;
      }
  g_assert_cmpint (checked, ==, 64);
  cairo_surface_destroy (surface);

  /* hover text: layer, expert, value and the languages using it */
  g_autofree char *tip = secateur_heatmap_describe (heatmap, 0, 0);
  g_assert_nonnull (strstr (tip, "enc 1, expert 0"));
  /* the hovered cell's tooltip follows the data shown under it */
  secateur_heatmap_set_hover (heatmap, 0, 0);
  g_assert_nonnull (strstr (secateur_heatmap_get_tooltip (heatmap), "importance"));
  set_view (page, 2, 0);
  g_assert_nonnull (strstr (secateur_heatmap_get_tooltip (heatmap), "frequency"));
  set_view (page, 0, 0);
  secateur_heatmap_set_hover (heatmap, -1, -1);

  /* Ctrl+scroll zoom: every notch changes the drawing, the legend (the
   * drawing's right edge) stays in the scrolled view */
  secateur_window_show_page (fx.window, "calibrate");
  sc_ui_settle (0.3);
  GtkWidget *scroll = gtk_widget_get_ancestor (GTK_WIDGET (heatmap), GTK_TYPE_SCROLLED_WINDOW);
  int h0 = gtk_widget_get_height (GTK_WIDGET (heatmap));
  double zoom = 1.0;
  for (int notch = 1; notch <= 3; notch++)
    {
      zoom *= 1.25; /* one notch of Ctrl+scroll */
      secateur_heatmap_set_zoom (heatmap, zoom);
      sc_ui_settle (0.2);
      int h = gtk_widget_get_height (GTK_WIDGET (heatmap));
      g_assert_cmpint (h, >, h0);
      g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (heatmap)), <=,
                       gtk_widget_get_width (scroll));
      h0 = h;
    }
  secateur_heatmap_set_zoom (heatmap, 1.0);

  /* the similarity view: English and French, 1 on the diagonal */
  SecateurSimilarity *sim = sc_ui_child (page, "similarity");
  g_assert_cmpint (secateur_similarity_get_n (sim), ==, 2);
  g_assert_cmpfloat_with_epsilon (secateur_similarity_get (sim, 0, 0), 1.0, 1e-5);
  g_assert_cmpfloat (secateur_similarity_get (sim, 0, 1), >, 0);
  g_assert_cmpfloat (secateur_similarity_get (sim, 0, 1), <=, 1.0 + 1e-6);
  screenshot ("calibrate");
  adw_view_stack_set_visible_child_name (sc_ui_child (page, "view_stack"), "languages");
  screenshot ("similarity");
  adw_view_stack_set_visible_child_name (sc_ui_child (page, "view_stack"), "experts");
}

static void
test_prune (void)
{
  if (fx.window == NULL)
    {
      g_test_skip ("no demo model");
      return;
    }
  SecateurController *controller = secateur_window_get_controller (fx.window);
  SecateurPrunePage *prune = prune_page ();
  secateur_window_show_page (fx.window, "prune");
  /* the quality sweep starts by itself after calibration */
  g_assert_true (wait_for (has_sweep, 300));
  int n;
  const double *ratios, *chrf;
  g_assert_true (secateur_controller_get_sweep (controller, &n, &ratios, &chrf));
  g_assert_cmpint (n, ==, 5);
  g_assert_cmpfloat (chrf[0], >, 0);
  for (int i = 0; i < n; i++)
    g_test_message ("sweep: %.0f %% pruned, chrF++ %.2f", 100 * ratios[i], chrf[i]);

  /* the panel starts at the engine's defaults, as `secateur-cli select`:
   * the controller's settings hold them and the controls show them */
  ScPruneSettings shown, defaults;
  secateur_prune_settings_get (prune_settings (), &shown);
  sc_prune_settings_init (&defaults);
  g_assert_cmpint (shown.granularity, ==, SC_GRANULARITY_LANG);
  g_assert_cmpint (shown.granularity, ==, defaults.granularity);
  g_assert_cmpint (shown.metric, ==, defaults.metric);
  g_assert_cmpint (shown.algo, ==, defaults.algo);
  g_assert_cmpint (shown.enc_weight, ==, defaults.enc_weight);
  g_assert_cmpint (shown.dec_weight, ==, defaults.dec_weight);
  g_assert_cmpstr (sc_ui_selected_text (prune, "granularity_row"), ==, "Per Language");
  g_assert_cmpstr (sc_ui_selected_text (prune, "metric_row"), ==, "Importance");
  g_assert_cmpstr (sc_ui_selected_text (prune, "algo_row"), ==, "Per Layer");
  g_assert_cmpstr (sc_ui_selected_text (prune, "budget_row"), ==, "3:1");

  /* per-layer, 3:1, 50 % of 4 x 16: u = floor(32 / (3*2 + 1*2)) = 4, so
   * 12 experts per encoder layer and 4 per decoder layer; the slider sets
   * the controller's settings */
  GtkRange *slider = sc_ui_child (prune, "scale");
  gtk_range_set_value (slider, 50);
  g_assert_cmpfloat (secateur_prune_settings_peek (prune_settings ())->ratio, ==, 0.5);
  GtkWidget *bars = sc_ui_child (prune, "bars");
  g_assert_cmpint (secateur_bars_get_n (SECATEUR_BARS (bars)), ==, 4);
  g_assert_cmpfloat (secateur_bars_get_value (SECATEUR_BARS (bars), 0), ==, 12);
  g_assert_cmpfloat (secateur_bars_get_value (SECATEUR_BARS (bars), 3), ==, 4);
  g_assert_nonnull (strstr (sc_ui_row_value (prune, "kept_row"), "32 of 64"));
  g_autofree char *size50 = g_strdup (sc_ui_row_value (prune, "size_row"));
  g_autofree char *est50 = g_strdup (sc_ui_row_value (prune, "estimate_row"));
  g_assert_nonnull (strstr (est50, "measured"));
  SecateurEstimate e50;
  g_assert_true (secateur_controller_estimate (controller, NULL, &e50));
  g_assert_cmpint (e50.kind, ==, SC_SWEEP_MEASURED);
  g_assert_cmpfloat (e50.chrf, ==, chrf[2]);
  /* the demo runs on the CPU here: no GPU to fit */
  if (g_str_has_prefix (secateur_controller_get_info (controller)->backend, "cuda"))
    g_assert_nonnull (strstr (sc_ui_row_value (prune, "fits_row"), "Yes"));
  else
    g_assert_cmpstr (sc_ui_row_value (prune, "fits_row"), ==, "No GPU: the model runs on the CPU");
  /* one unit on the page: MB for the demo */
  g_assert_nonnull (strstr (size50, " MB"));
  g_assert_null (strstr (size50, " GB"));
  g_assert_null (strstr (sc_ui_row_value (prune, "fits_row"), " GB"));
  g_assert_cmpstr (gtk_stack_get_visible_child_name (sc_ui_child (prune, "charts_stack")), ==, "charts");
  GtkWidget *measure = sc_ui_child (prune, "measure_button");
  g_assert_true (gtk_widget_get_sensitive (measure));
  g_assert_null (gtk_widget_get_tooltip_text (measure));
  screenshot ("prune");

  /* the slider lands on the nearest ratio the budget gives: 85 % -> 87.5 %,
   * 3 + 1 per layer (8 kept) */
  gtk_range_set_value (slider, 85);
  g_assert_cmpfloat (gtk_range_get_value (slider), ==, 87.5);
  g_assert_cmpstr (sc_ui_row_value (prune, "size_row"), !=, size50);
  g_assert_cmpstr (sc_ui_row_value (prune, "estimate_row"), !=, est50);
  SecateurEstimate e80;
  g_assert_true (secateur_controller_estimate (controller, NULL, &e80));
  /* 8 kept: linear in the kept count between the 75 % point (16) and the
   * 90 % one (4) */
  g_assert_cmpint (e80.kind, ==, SC_SWEEP_INTERPOLATED);
  g_assert_cmpfloat_with_epsilon (e80.chrf, chrf[4] + (chrf[3] - chrf[4]) / 3, 1e-9);
  g_assert_cmpfloat (secateur_bars_get_value (SECATEUR_BARS (bars), 0), <, 12);
  g_assert_cmpfloat (secateur_quality_curve_get_marker (sc_ui_child (prune, "curve")), ==, 0.875);
  /* the heatmap dims what the slider prunes: pair scope, 87.5 % (the
   * calibration page follows the settings the slider set) */
  SecateurHeatmap *heatmap = sc_ui_child (calibrate_page (), "heatmap");
  set_view (calibrate_page (), 0, 3);
  /* the overlay is a toggle, off by default */
  for (int r = 0; r < 4; r++)
    for (int c = 0; c < 16; c++)
      g_assert_false (secateur_heatmap_get_pruned (heatmap, r, c));
  gtk_toggle_button_set_active (sc_ui_child (calibrate_page (), "pruned_toggle"), TRUE);
  int pruned = 0;
  for (int r = 0; r < 4; r++)
    for (int c = 0; c < 16; c++)
      pruned += secateur_heatmap_get_pruned (heatmap, r, c);
  /* 87.5 %: u = floor(8 / 8) = 1, 3 + 3 + 1 + 1 = 8 kept */
  g_assert_cmpint (pruned, ==, 64 - 8);
  gtk_toggle_button_set_active (sc_ui_child (calibrate_page (), "pruned_toggle"), FALSE);
  gtk_range_set_value (slider, 50);
}

static gboolean compared;

static void
on_compare_finished (SecateurComparePage *page, gboolean ok, gpointer data)
{
  compared = TRUE;
}

static gboolean
compare_done (void)
{
  return compared && idle_controller ();
}

static void
test_compare (void)
{
  if (fx.window == NULL)
    {
      g_test_skip ("no demo model");
      return;
    }
  SecateurComparePage *page =
      SECATEUR_COMPARE_PAGE (secateur_window_get_page (fx.window, "compare"));
  secateur_window_show_page (fx.window, "prune");
  /* 8 held-out sentences unless asked otherwise */
  g_assert_cmpint (gtk_spin_button_get_value_as_int (sc_ui_child (page, "limit_spin")), ==, 8);
  sc_ui_set_spin (page, "limit_spin", 2);
  g_signal_connect (page, "finished", G_CALLBACK (on_compare_finished), NULL);
  /* Ctrl+T's action */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.compare", NULL));
  g_assert_cmpstr (secateur_window_get_visible_page (fx.window), ==, "compare");
  g_assert_true (wait_for (compare_done, 240));
  const SecateurCompareResult *r = secateur_compare_page_get_result (page);
  if (r == NULL)
    g_error ("compare: %s", sc_ui_label_text (page, "header"));
  g_assert_cmpuint (r->rows->len, ==, 2);
  g_assert_cmpstr (r->src, ==, "eng_Latn");
  g_assert_cmpfloat (r->chrf_full, >, 0);
  g_assert_cmpfloat (r->chrf_pruned, >=, 0);
  g_assert_cmpfloat (r->tokens_per_s_full, >, 0);
  g_assert_cmpint (r->experts_kept, ==, 32);
  g_assert_cmpuint (r->bytes_pruned, <, r->bytes_full);
  for (guint i = 0; i < r->rows->len; i++)
    {
      SecateurCompareRow *row = r->rows->pdata[i];
      g_assert_nonnull (row->reference);
      g_assert_cmpfloat (row->chrf_full, >=, 0);
    }
  g_assert_nonnull (strstr (sc_ui_label_text (page, "header"), "chrF++"));
  g_assert_true (g_str_has_prefix (sc_ui_label_text (page, "header"), "English → French, 2 sentences\n"));
  g_assert_cmpstr (gtk_stack_get_visible_child_name (sc_ui_child (page, "results_stack")), ==, "results");
  /* each row labels the source and the reference */
  GtkWidget *row = gtk_widget_get_first_child (sc_ui_child (page, "list"));
  GtkWidget *grid = gtk_list_box_row_get_child (GTK_LIST_BOX_ROW (row));
  GtkWidget *source = gtk_widget_get_first_child (grid);
  GtkWidget *reference = gtk_widget_get_next_sibling (source);
  g_assert_true (g_str_has_prefix (gtk_label_get_text (GTK_LABEL (source)), "Source: "));
  g_assert_true (g_str_has_prefix (gtk_label_get_text (GTK_LABEL (reference)), "Reference: "));
  /* word diff: the changed word is marked on both sides, markup escaped */
  g_autofree char *a = NULL, *b = NULL;
  secateur_word_diff_markup ("the cat & dog", "the cow & dog", &a, &b);
  g_assert_true (g_str_has_prefix (a, "the <span"));
  g_assert_nonnull (strstr (a, ">cat</span> &amp; dog"));
  g_assert_nonnull (strstr (b, ">cow</span> &amp; dog"));
  screenshot ("compare");
}

static gboolean
export_done (void)
{
  SecateurExportPage *page = SECATEUR_EXPORT_PAGE (secateur_window_get_page (fx.window, "export"));
  return idle_controller () && g_str_has_prefix (sc_ui_label_text (page, "status"), "Export");
}

static void
test_export (void)
{
  if (fx.window == NULL)
    {
      g_test_skip ("no demo model");
      return;
    }
  SecateurExportPage *page = SECATEUR_EXPORT_PAGE (secateur_window_get_page (fx.window, "export"));
  secateur_window_show_page (fx.window, "model");
  g_autofree char *folder = g_build_filename (fx.tmp, "export", NULL);
  /* the preference's folder is the page's, and both say "None chosen"
   * without one */
  g_autoptr (GSettings) settings = g_settings_new ("io.github.secateur.Secateur");
  g_settings_set_string (settings, "default-export-folder", folder);
  g_assert_cmpstr (sc_ui_row_value (page, "folder_row"), ==, folder);
  g_settings_set_string (settings, "default-export-folder", "");
  g_assert_cmpstr (sc_ui_row_value (page, "folder_row"), ==, "None chosen");
  /* asked for a folder, the request goes once one is chosen */
  secateur_export_page_export (page);
  g_assert_cmpstr (sc_ui_label_text (page, "status"), ==, "Choose a folder first");
  secateur_export_page_set_folder (page, folder);
  g_assert_cmpstr (sc_ui_label_text (page, "status"), ==, "");
  /* the weights' dtype, each choice with the size it gives (the demo is
   * f16; checked against the export below) */
  GtkStringList *dtypes = sc_ui_child (page, "dtype_labels");
  g_autofree char *as_stored = g_strdup (gtk_string_list_get_string (dtypes, 0));
  g_autofree char *as_bf16 = g_strdup (gtk_string_list_get_string (dtypes, 2));
  g_assert_true (g_str_has_prefix (as_stored, "As stored (F16): "));
  g_assert_true (g_str_has_prefix (as_bf16, "bf16: "));
  adw_combo_row_set_selected (sc_ui_child (page, "dtype_row"), 2);
  g_assert_cmpstr (sc_ui_selected_text (page, "dtype_row"), ==, as_bf16);
  /* Ctrl+E's action; nothing to replace in a new folder, so no question */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.export", NULL));
  g_assert_cmpstr (secateur_window_get_visible_page (fx.window), ==, "export");
  g_assert_null (sc_ui_find_dialog ());
  g_assert_true (wait_for (export_done, 120));
  g_assert_true (g_str_has_prefix (sc_ui_label_text (page, "status"), "Exported to"));
  static const char *const files[] = { "model/config.json",  "model/model.safetensors",
                                       "experts.json",       "statistics.json",
                                       "report/heatmap.png", "report/heatmap.svg",
                                       "report/quality.png", "report/quality.svg",
                                       "report/scores.csv" };
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *p = g_build_filename (folder, files[i], NULL);
      g_assert_true (g_file_test (p, G_FILE_TEST_IS_REGULAR));
    }
  /* the pruned model loads back, smaller, with the union of both pairs' experts */
  g_autofree char *model_dir = g_build_filename (folder, "model", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScModel) model = sc_model_load (model_dir, NULL, &error);
  g_assert_no_error (error);
  const ScConfig *cfg = sc_model_get_config (model);
  g_assert_nonnull (cfg->kept_experts);
  g_assert_cmpuint (cfg->kept_experts->len, ==, 4);
  g_assert_cmpint (sc_model_get_dtype (model), ==, SC_DTYPE_BF16);
  g_autofree guint8 *kept_mask = g_new0 (guint8, 4 * 16);
  for (guint l = 0; l < 4; l++)
    {
      GArray *ids = cfg->kept_experts->pdata[l];
      for (guint i = 0; i < ids->len; i++)
        kept_mask[l * 16 + g_array_index (ids, int, i)] = 1;
    }
  guint64 bytes =
      secateur_controller_pruned_bytes (secateur_window_get_controller (fx.window), kept_mask);
  g_autofree char *size = g_format_size (bytes);
  g_autofree char *want_stored = g_strdup_printf ("As stored (F16): %s", size);
  g_autofree char *want_bf16 = g_strdup_printf ("bf16: %s", size);
  g_assert_cmpstr (as_stored, ==, want_stored);
  g_assert_cmpstr (as_bf16, ==, want_bf16);
  g_autofree char *index_path = g_build_filename (folder, "experts.json", NULL);
  g_autoptr (ScExpertIndex) index = sc_expert_index_load (index_path, 4, 2, 16, &error);
  g_assert_no_error (error);
  g_auto (GStrv) keys = sc_expert_index_keys (index);
  g_assert_cmpuint (g_strv_length (keys), ==, 2);
  guint union_count = 0;
  for (guint l = 0; l < 4; l++)
    union_count += ((GArray *) cfg->kept_experts->pdata[l])->len;
  GArray *one = sc_expert_index_get (index, keys[0]);
  g_assert_cmpuint (one->len, ==, 32);
  g_assert_cmpuint (union_count, >=, 32);
  g_autofree char *csv_path = g_build_filename (folder, "report", "scores.csv", NULL);
  g_autofree char *csv = NULL;
  g_assert_true (g_file_get_contents (csv_path, &csv, NULL, NULL));
  g_assert_true (
      g_str_has_prefix (csv, "direction,pruning_ratio,chrf_pp\neng_Latn-fra_Latn,0.00,"));
  screenshot ("export");

  /* again: it asks before replacing; cancelling leaves the files alone */
  secateur_export_page_export (page);
  sc_ui_settle (0.2);
  AdwMessageDialog *dialog = sc_ui_find_dialog ();
  g_assert_nonnull (dialog);
  adw_message_dialog_response (dialog, "cancel");
  gtk_window_destroy (GTK_WINDOW (dialog));
  g_assert_cmpstr (sc_ui_label_text (page, "status"), ==, "Nothing was exported");
  g_assert_true (idle_controller ());

  /* a model/ Secateur did not write: refused with the engine's reason,
   * before asking anything */
  g_autofree char *foreign = g_build_filename (fx.tmp, "foreign", NULL);
  g_autofree char *notes = g_build_filename (foreign, "model", "notes.txt", NULL);
  g_autofree char *notes_dir = g_path_get_dirname (notes);
  g_assert_cmpint (g_mkdir_with_parents (notes_dir, 0755), ==, 0);
  g_assert_true (g_file_set_contents (notes, "mine", -1, NULL));
  secateur_export_page_set_folder (page, foreign);
  secateur_export_page_export (page);
  sc_ui_settle (0.2);
  g_assert_null (sc_ui_find_dialog ());
  const char *refused = sc_ui_label_text (page, "status");
  g_test_message ("%s", refused);
  g_assert_true (g_str_has_prefix (refused, "Nothing was exported: "));
  g_assert_nonnull (strstr (refused, "not an earlier Secateur export"));
  g_assert_true (g_file_test (notes, G_FILE_TEST_IS_REGULAR));
  g_assert_true (idle_controller ());
  secateur_export_page_set_folder (page, folder);
}

static SecateurWeightsPage *
weights_page (void)
{
  return SECATEUR_WEIGHTS_PAGE (secateur_window_get_page (fx.window, "weights"));
}

static void
test_weights (void)
{
  if (fx.window == NULL)
    {
      g_test_skip ("no demo model");
      return;
    }
  static const char *const langs[] = { "fra_Latn", "hin_Deva", "zho_Hans", NULL };
  SecateurController *controller = secateur_window_get_controller (fx.window);
  SecateurWeightsPage *page = weights_page ();
  secateur_window_show_page (fx.window, "weights");
  g_assert_cmpstr (secateur_window_get_visible_page (fx.window), ==, "weights");
  /* the page opens on Wanda, unstructured 50 %, the training shares
   * (MBS), samples of 128 tokens sized from the model (64 on the demo),
   * 4 sentences, losses over 10 % */
  g_assert_cmpstr (sc_ui_selected_text (page, "method_row"), ==, "Wanda");
  g_assert_cmpstr (sc_ui_selected_text (page, "type_row"), ==, "Unstructured");
  g_assert_cmpstr (sc_ui_selected_text (page, "sampling_row"), ==, "Training Shares (MBS)");
  g_assert_cmpfloat (gtk_range_get_value (sc_ui_child (page, "scale")), ==, 50);
  g_assert_cmpint (gtk_spin_button_get_value_as_int (sc_ui_child (page, "samples_spin")), ==, 64);
  g_assert_cmpint (gtk_spin_button_get_value_as_int (sc_ui_child (page, "seqlen_spin")), ==, 128);
  g_assert_cmpint (gtk_spin_button_get_value_as_int (sc_ui_child (page, "sentences_spin")), ==, 4);
  g_assert_cmpint (gtk_spin_button_get_value_as_int (sc_ui_child (page, "threshold_spin")), ==, 10);
  /* Wanda, unstructured 50 %, training shares (MBS), 8 samples of 32 tokens */
  adw_combo_row_set_selected (sc_ui_child (page, "method_row"), 1);
  adw_combo_row_set_selected (sc_ui_child (page, "type_row"), 0);
  gtk_range_set_value (sc_ui_child (page, "scale"), 50);
  adw_combo_row_set_selected (sc_ui_child (page, "sampling_row"), 0);
  sc_ui_set_spin (page, "samples_spin", 8);
  sc_ui_set_spin (page, "seqlen_spin", 32);
  secateur_weights_page_set_evaluation (page, langs, 2);
  g_assert_cmpstr (sc_ui_selected_text (page, "method_row"), ==, "Wanda");
  g_assert_cmpstr (sc_ui_selected_text (page, "type_row"), ==, "Unstructured");
  g_assert_cmpstr (sc_ui_selected_text (page, "sampling_row"), ==, "Training Shares (MBS)");
  g_assert_cmpstr (sc_ui_label_text (page, "ratio_label"), ==, "50 % of the weights");
  /* the samples per language, shown before running */
  const char *counts = sc_ui_row_value (page, "counts_row");
  g_test_message ("calibration: %s", counts);
  g_assert_nonnull (strstr (counts, "8 samples of 32 tokens"));
  g_assert_nonnull (strstr (counts, "eng_Latn"));

  /* the layout does not move sideways while a job runs and reports */
  GtkPaned *paned = GTK_PANED (gtk_widget_get_ancestor (sc_ui_child (page, "chart"), GTK_TYPE_PANED));
  sc_ui_settle (0.2);
  int split = gtk_paned_get_position (paned);
  gint64 t0 = g_get_monotonic_time ();
  secateur_weights_page_start (page);
  g_assert_true (secateur_controller_get_busy (controller));
  sc_ui_settle (0.3);
  g_assert_cmpint (gtk_paned_get_position (paned), ==, split);
  g_assert_true (wait_for (idle_controller, 300));
  sc_ui_settle (0.2);
  g_test_message ("weights split %d, after the run %d", split, gtk_paned_get_position (paned));
  g_assert_cmpint (gtk_paned_get_position (paned), ==, split);
  g_test_message ("Wanda 50 %%, 8 x 32 tokens, 3 languages x 2 sentences: %.2f s; %s",
                  (g_get_monotonic_time () - t0) / 1e6, sc_ui_label_text (page, "status"));
  const SecateurSparsifyResult *res = secateur_controller_get_sparsify_result (controller);
  g_assert_nonnull (res);
  /* Full against weight-pruned without a second load: the pruned weights
   * are a view's overlay, the checkpoint file is mapped once. */
  g_autofree char *demo = secateur_window_find_demo_model ();
  g_autofree char *weights_file = g_build_filename (demo, "model.safetensors", NULL);
  g_autofree char *hwm = sc_test_peak_rss ();
  int mappings = sc_test_count_mappings (weights_file);
  g_test_message ("Weights mode, full and pruned compared: peak RSS (VmHWM) %s; "
                  "model.safetensors mapped %d time(s)", hwm ? hwm : "unknown", mappings);
  if (mappings >= 0)
    g_assert_cmpint (mappings, ==, 1);
  /* half of every row of every layer (a weight stored as zero adds to it) */
  g_test_message ("sparsity per linear layer: %.6f to %.6f over %u layers", res->min_layer,
                  res->max_layer, res->report->layers->len);
  g_assert_cmpfloat (fabs (res->min_layer - 0.5), <, 1e-3);
  g_assert_cmpfloat (fabs (res->max_layer - 0.5), <, 1e-3);
  g_assert_nonnull (strstr (sc_ui_label_text (page, "status"), "50.0 %"));
  SecateurBars *bars = sc_ui_child (page, "bars");
  g_assert_cmpstr (gtk_stack_get_visible_child_name (sc_ui_child (page, "charts_stack")), ==, "charts");
  g_assert_cmpint (secateur_bars_get_n (bars), ==, 8);
  for (int i = 0; i < 8; i++)
    g_assert_cmpfloat (fabs (secateur_bars_get_value (bars, i) - 0.5), <, 1e-3);
  SecateurDumbbell *chart = sc_ui_child (page, "chart");
  g_assert_cmpint (secateur_dumbbell_get_n (chart), ==, 3);
  for (int i = 0; i < 3; i++)
    {
      double before, after;
      gboolean flagged;
      g_assert_true (secateur_dumbbell_get_row (chart, i, &before, &after, &flagged));
      g_test_message ("%s: chrF++ %.2f -> %.2f%s", res->languages[i].lang, before, after,
                      flagged ? " (flagged)" : "");
      g_assert_true (isfinite (before) && isfinite (after));
      g_assert_cmpint (flagged, ==, res->degraded[i]);
    }
  screenshot ("weights");

  /* the written weights: the status says where */
  g_autofree char *weights_dir = g_build_filename (fx.tmp, "weights", NULL);
  secateur_weights_page_export (page, weights_dir);
  g_assert_true (wait_for (idle_controller, 120));
  g_autofree char *written = g_strdup_printf ("The pruned weights were written to %s", weights_dir);
  g_assert_cmpstr (sc_ui_label_text (page, "status"), ==, written);

  /* a larger run, cancelled: control comes back, the result and the open
   * model stay as they were */
  g_autofree char *dir = g_strdup (secateur_controller_get_info (controller)->dir);
  sc_ui_set_spin (page, "samples_spin", 512);
  sc_ui_set_spin (page, "seqlen_spin", 128);
  secateur_weights_page_start (page);
  g_assert_true (secateur_controller_get_busy (controller));
  sc_ui_settle (0.5);
  gint64 cancel_at = g_get_monotonic_time ();
  secateur_weights_page_cancel (page);
  g_assert_true (wait_for (idle_controller, 120));
  double waited = (g_get_monotonic_time () - cancel_at) / 1e6;
  g_test_message ("weight pruning cancelled: control back after %.3f s", waited);
  g_assert_cmpfloat (waited, <, 10);
  g_assert_nonnull (strstr (sc_ui_label_text (page, "status"), "cancelled"));
  g_assert_cmpfloat (gtk_progress_bar_get_fraction (sc_ui_child (page, "progress")), ==, 0);
  g_assert_true (secateur_controller_get_sparsify_result (controller) == res);
  g_assert_cmpstr (secateur_controller_get_info (controller)->dir, ==, dir);
  g_assert_cmpint (secateur_dumbbell_get_n (chart), ==, 3);
  sc_ui_set_spin (page, "samples_spin", 8);
  sc_ui_set_spin (page, "seqlen_spin", 32);
}

static void
test_cancel (void)
{
  if (fx.window == NULL)
    {
      g_test_skip ("no demo model");
      return;
    }
  SecateurCalibratePage *page = calibrate_page ();
  secateur_window_show_page (fx.window, "calibrate");
  secateur_calibrate_page_set_size (page, 2000);
  fx.calibrated = FALSE;
  fx.updates_before = fx.stats_updates;
  secateur_calibrate_page_start (page);
  /* statistics exist: the run adds to them */
  sc_ui_answer ("Add to the Statistics?", "add");
  /* cancel once the live heatmap has moved */
  g_assert_true (wait_for (heatmap_moved, 300));
  fx.cancel_at = g_get_monotonic_time ();
  secateur_calibrate_page_cancel (page);
  g_assert_true (wait_for (calibrated, 180));
  double waited = (fx.finished_at - fx.cancel_at) / 1e6;
  double batch = fx.batch_us / 1e6;
  g_test_message ("calibration cancelled: control back after %.3f s (longest batch %.3f s)", waited,
                  batch);
  /* The worker stops at the end of the batch in flight (2 sentences): under
   * a second on an idle machine, at most one batch on a loaded one. */
  g_assert_cmpfloat (waited, <, MAX (1.0, 1.5 * batch));
  g_assert_false (fx.calibration_ok);
  g_assert_true (idle_controller ());
  g_assert_nonnull (strstr (sc_ui_label_text (page, "status"), "cancelled"));
  g_assert_cmpfloat (gtk_progress_bar_get_fraction (sc_ui_child (page, "progress")), ==, 0);
  /* still usable: the partial statistics are shown and pruning reads them */
  SecateurHeatmap *heatmap = sc_ui_child (page, "heatmap");
  g_assert_cmpint (secateur_heatmap_get_rows (heatmap), ==, 4);
  g_object_set (prune_settings (), "ratio", 0.25, NULL);
  g_assert_nonnull (strstr (sc_ui_row_value (prune_page (), "kept_row"), "of 64"));
}

/* The labels under a widget that GTK shows cut ("…") or clipped: given
 * less width than they need. */
static void
collect_cut (GtkWidget *widget, GPtrArray *cut)
{
  if (!gtk_widget_get_mapped (widget))
    return;
  if (GTK_IS_LABEL (widget) && gtk_label_get_text (GTK_LABEL (widget))[0] != '\0')
    {
      int min, nat;
      gtk_widget_measure (widget, GTK_ORIENTATION_HORIZONTAL, -1, &min, &nat, NULL, NULL);
      gboolean wraps = gtk_label_get_wrap (GTK_LABEL (widget));
      if (!wraps && gtk_widget_get_width (widget) < nat)
        g_ptr_array_add (cut, g_strdup_printf ("%s (%d of %d px)",
                                               gtk_label_get_text (GTK_LABEL (widget)),
                                               gtk_widget_get_width (widget), nat));
    }
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    collect_cut (c, cut);
}

static void
test_small_window (void)
{
  if (fx.window == NULL)
    {
      g_test_skip ("no demo model");
      return;
    }
  static const char *const pages[] = {
    "model", "calibrate", "prune", "compare", "export", "weights"
  };
  /* the size the tests run at, then the smallest the layouts are made for */
  static const int sizes[][2] = { { 1280, 800 }, { 800, 600 } };
  for (guint si = 0; si < G_N_ELEMENTS (sizes); si++)
    for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
      {
        gtk_window_set_default_size (GTK_WINDOW (fx.window), sizes[si][0], sizes[si][1]);
        secateur_window_show_page (fx.window, pages[i]);
        sc_ui_settle (0.5);
        g_autoptr (GPtrArray) cut = g_ptr_array_new_with_free_func (g_free);
        collect_cut (GTK_WIDGET (fx.window), cut);
        for (guint k = 0; k < cut->len; k++)
          g_test_message ("%s at %dx%d: cut: %s", pages[i], sizes[si][0], sizes[si][1],
                          (char *) cut->pdata[k]);
        /* every label fits: no "Lang…", no "Proportion…" */
        g_assert_cmpuint (cut->len, ==, 0);
        if (g_str_equal (pages[i], "weights"))
          {
            /* the chart's title (drawn, bold 13 px after a 12 px margin) fits */
            SecateurDumbbell *chart =
                sc_ui_child (secateur_window_get_page (fx.window, "weights"), "chart");
            cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
            cairo_t *cr = cairo_create (surface);
            cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                                    CAIRO_FONT_WEIGHT_BOLD);
            cairo_set_font_size (cr, 13);
            cairo_text_extents_t ext;
            cairo_text_extents (cr, secateur_dumbbell_get_title (chart), &ext);
            cairo_destroy (cr);
            cairo_surface_destroy (surface);
            g_test_message ("weights chart %d px for a %.0f px title",
                            gtk_widget_get_width (GTK_WIDGET (chart)), ext.x_advance);
            g_assert_cmpfloat (gtk_widget_get_width (GTK_WIDGET (chart)), >=,
                               ext.x_advance + 2 * 12);
          }
        if (sizes[si][0] == 800)
          {
            g_autofree char *name = g_strconcat ("small-", pages[i], NULL);
            screenshot (name);
          }
      }
  gtk_window_set_default_size (GTK_WINDOW (fx.window), 1280, 800);
  sc_ui_settle (0.3);
}

/* A folder that is no model: the whole reason in a dialog, not cut off in
 * a toast; the open model stays. */
static void
test_bad_folder (void)
{
  if (fx.window == NULL)
    {
      g_test_skip ("no demo model");
      return;
    }
  g_autofree char *bad = g_build_filename (fx.tmp, "bad-model", NULL);
  g_autofree char *config = g_build_filename (bad, "config.json", NULL);
  g_assert_cmpint (g_mkdir_with_parents (bad, 0755), ==, 0);
  g_assert_true (g_file_set_contents (config, "{\"model_type\": \"nllb-moe\", \"d_mo", -1, NULL));
  secateur_window_open_model (fx.window, bad);
  /* the statistics are saved in the demo's project: nothing to ask */
  g_assert_nonnull (secateur_controller_get_project_dir (secateur_window_get_controller (fx.window)));
  g_assert_null (sc_ui_find_dialog ());
  g_assert_true (wait_for (idle_controller, 30));
  sc_ui_settle (0.2);
  AdwMessageDialog *dialog = sc_ui_find_dialog ();
  g_assert_nonnull (dialog);
  g_assert_cmpstr (adw_message_dialog_get_heading (dialog), ==, "Could Not Open the Model");
  const char *body = adw_message_dialog_get_body (dialog);
  g_test_message ("bad folder: %s", body);
  g_assert_nonnull (strstr (body, "config.json"));
  adw_message_dialog_response (dialog, "close");
  gtk_window_destroy (GTK_WINDOW (dialog));
  g_assert_cmpstr (secateur_window_get_state (fx.window), ==, "model");
}

static void
test_close_during_job (void)
{
  if (fx.window == NULL)
    {
      g_test_skip ("no demo model");
      return;
    }
  SecateurCalibratePage *page = calibrate_page ();
  SecateurController *controller = g_object_ref (secateur_window_get_controller (fx.window));
  secateur_calibrate_page_set_size (page, 5000);
  secateur_calibrate_page_start (page);
  sc_ui_answer ("Add to the Statistics?", "add");
  g_assert_true (secateur_controller_get_busy (controller));
  sc_ui_settle (0.3);
  g_object_add_weak_pointer (G_OBJECT (fx.window), (gpointer *) &fx.window);
  gtk_window_close (GTK_WINDOW (fx.window));
  /* a job runs: it asks before stopping it */
  sc_ui_answer ("Stop and Close?", "yes");
  /* hidden at once, destroyed when the worker has stopped */
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (fx.window)));
  g_assert_true (wait_for (window_gone, 180));
  g_assert_false (secateur_controller_get_busy (controller));
  g_object_unref (controller);
  g_test_message ("main loop during jobs: worst gap %.1f ms (in %s); %d of %d 10 ms ticks more "
                  "than 50 ms apart",
                  fx.worst_gap_us / 1000.0, fx.worst_in, fx.slow_ticks, fx.ticks);
  /* a job run on the main loop would stall it for the whole job (tens of
   * seconds here); drawing on a loaded machine stays well under this */
  g_assert_cmpint (fx.ticks, >, 0);
  g_assert_cmpint (fx.worst_gap_us, <, 5 * G_USEC_PER_SEC);
}


int
main (int argc, char **argv)
{
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_setenv ("GSK_RENDERER", "cairo", FALSE);
  /* no session bus under Xvfb: no accessibility bus either */
  g_setenv ("GTK_A11Y", "none", FALSE);
  g_autoptr (GError) error = NULL;
  char *tmp = g_dir_make_tmp ("secateur-ui-XXXXXX", &error);
  g_assert_no_error (error);
  fx.tmp = tmp;
  /* recent models go to a throw-away data folder when no schema is found */
  g_setenv ("XDG_DATA_HOME", tmp, TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_log_set_fatal_handler (sc_ui_fatal_filter, NULL);
  if (!gtk_init_check ())
    {
      g_test_skip ("no display");
      return g_test_run ();
    }
  adw_init ();
  g_timeout_add (10, tick, NULL);
  g_test_add_func ("/ui/open-demo", test_open_demo);
  g_test_add_func ("/ui/languages", test_languages);
  g_test_add_func ("/ui/calibrate", test_calibrate);
  g_test_add_func ("/ui/prune", test_prune);
  g_test_add_func ("/ui/compare", test_compare);
  g_test_add_func ("/ui/export", test_export);
  g_test_add_func ("/ui/weights", test_weights);
  g_test_add_func ("/ui/cancel", test_cancel);
  g_test_add_func ("/ui/bad-folder", test_bad_folder);
  g_test_add_func ("/ui/small-window", test_small_window);
  g_test_add_func ("/ui/close-during-job", test_close_during_job);
  int status = g_test_run ();
  g_free (fx.worst_in);
  sc_test_rm_tree (tmp);
  g_free (tmp);
  return status;
}
