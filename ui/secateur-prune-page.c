/* secateur-prune-page.c: the pruning panel. */
#include "secateur-prune-page.h"

#include "secateur-bars.h"
#include "secateur-languages.h"
#include "secateur-quality-curve.h"
#include "sc-report.h"

#include <glib/gi18n.h>
#include <math.h>

struct _SecateurPrunePage
{
  AdwBin parent_instance;
  SecateurController *controller;
  SecateurPruneSettings *settings; /* the controller's */

  /* template children (secateur-prune-page.ui) */
  GtkWidget *scale;
  GtkWidget *ratio_label;
  GtkWidget *run_row;
  GtkStringList *runs;
  GtkWidget *budget_row, *metric_row, *algo_row, *granularity_row, *direction_row;
  AdwActionRow *merge_row;
  GtkWidget *merge_switch;
  GtkStringList *directions;
  AdwActionRow *kept_row, *size_row, *fits_row, *mass_row, *estimate_row;
  GtkWidget *bars, *curve;
  GtkWidget *measure_button, *sweep_progress, *sweep_box, *sweep_status, *sweep_cancel;
  GCancellable *sweep_cancellable; /* the sweep this page started, while it runs */
  GtkWidget *sweep_question;       /* weak: asking before cancelling it */
  GtkWidget *charts_stack, *empty_page;

  GStrv direction_codes; /* "src-tgt" behind each name in `directions` */
  double gpu_gb;
  gboolean syncing; /* the controls follow the settings: no write back */
  gboolean listing_runs; /* `runs` is being refilled: no run is picked */
};

G_DEFINE_FINAL_TYPE (SecateurPrunePage, secateur_prune_page, ADW_TYPE_BIN)

static const int budgets[][2] = { { 3, 1 }, { 2, 1 }, { 1, 1 }, { 1, 2 }, { 1, 3 } };
static const ScExpertMetric metrics[] = { SC_EXPERT_METRIC_IMPORTANCE, SC_EXPERT_METRIC_TOP1,
                                          SC_EXPERT_METRIC_FREQUENCY, SC_EXPERT_METRIC_REAP };
static const ScGranularity granularities[] = { SC_GRANULARITY_GLOBAL, SC_GRANULARITY_LANG,
                                               SC_GRANULARITY_PAIR };

/* A value the control has no place for (set elsewhere) leaves it where
 * it is. */
static void
select_row (GtkWidget *row, guint position)
{
  if (position != G_MAXUINT)
    adw_combo_row_set_selected (ADW_COMBO_ROW (row), position);
}

/* The controls show the settings (they may change elsewhere, e.g. scripts
 * or tests setting the controller's object). */
static void
show_settings (SecateurPrunePage *self, const ScPruneSettings *s)
{
  self->syncing = TRUE;
  if (fabs (gtk_range_get_value (GTK_RANGE (self->scale)) - 100 * s->ratio) > 1e-9)
    gtk_range_set_value (GTK_RANGE (self->scale), 100 * s->ratio);
  guint b = G_MAXUINT, m = G_MAXUINT, g = G_MAXUINT;
  for (guint i = 0; i < G_N_ELEMENTS (budgets); i++)
    if (budgets[i][0] == s->enc_weight && budgets[i][1] == s->dec_weight)
      b = i;
  for (guint i = 0; i < G_N_ELEMENTS (metrics); i++)
    if (metrics[i] == s->metric)
      m = i;
  for (guint i = 0; i < G_N_ELEMENTS (granularities); i++)
    if (granularities[i] == s->granularity)
      g = i;
  select_row (self->budget_row, b);
  select_row (self->metric_row, m);
  select_row (self->algo_row, s->algo == SC_SELECT_THRESHOLD);
  select_row (self->granularity_row, g);
  gtk_switch_set_active (GTK_SWITCH (self->merge_switch), s->merge);
  self->syncing = FALSE;
}

/* Experts kept in all at `ratio` under the settings' budget (what
 * sc_prune_keep_mask keeps in every direction), or -1 without a model with
 * experts. */
static int
kept_at (SecateurPrunePage *self, const ScPruneSettings *s, double ratio)
{
  const SecateurModelInfo *info =
      self->controller != NULL ? secateur_controller_get_info (self->controller) : NULL;
  if (info == NULL || info->n_experts == 0)
    return -1;
  ScPruneSettings t = *s;
  t.ratio = ratio;
  ScSelectOptions opt;
  ScSelectBudget budget;
  sc_prune_settings_select_options (&t, info->n_experts, &opt);
  if (!sc_select_budget (&opt, info->n_moe_layers, info->n_encoder_moe, info->n_experts, &budget,
                         NULL))
    return -1;
  return budget.keep_total;
}

/* The ratios the budget can give (the share pruned by each kept count it
 * reaches), nearest `ratio`; with `direction` (+1 or -1) and `ratio` already
 * one of them, the next one that way (keys move one step at a time). */
static double
snap_ratio (SecateurPrunePage *self, const ScPruneSettings *s, double ratio, int direction)
{
  const SecateurModelInfo *info = secateur_controller_get_info (self->controller);
  if (kept_at (self, s, 0) < 0)
    return ratio;
  int total = info->n_moe_layers * info->n_experts;
  double upper = gtk_adjustment_get_upper (gtk_range_get_adjustment (GTK_RANGE (self->scale)));
  double best = ratio, best_distance = G_MAXDOUBLE, next = NAN;
  for (int k = total; k >= 1; k--)
    {
      double p = 1.0 - (double) k / total;
      if (100 * p > upper + 1e-9)
        break;
      if (kept_at (self, s, p) != k)
        continue;
      if (fabs (p - ratio) < best_distance)
        best = p, best_distance = fabs (p - ratio);
      if (direction > 0 && p > ratio + 1e-9 && isnan (next))
        next = p;
      if (direction < 0 && p < ratio - 1e-9)
        next = p;
    }
  if (direction != 0 && fabs (best - ratio) < 1e-9 && !isnan (next))
    return next;
  return best;
}

/* The slider lands only where the budget can go: the nearest achievable
 * ratio when dragged, the next one when stepped with keys or scrolling. */
static gboolean
on_change_value (SecateurPrunePage *self, GtkScrollType scroll, double value)
{
  if (self->settings == NULL)
    return FALSE;
  double now = gtk_range_get_value (GTK_RANGE (self->scale)) / 100.0;
  int direction = 0;
  if (scroll != GTK_SCROLL_JUMP && scroll != GTK_SCROLL_NONE)
    direction = value > 100 * now + 1e-9 ? 1 : value < 100 * now - 1e-9 ? -1 : 0;
  double to = snap_ratio (self, secateur_prune_settings_peek (self->settings),
                          direction != 0 ? now : value / 100.0, direction);
  gtk_range_set_value (GTK_RANGE (self->scale), 100 * to);
  return TRUE;
}

/* The wheel over the slider moves it one achievable step a notch (the
 * range's own scrolling adds small amounts the snapping would undo). */
static gboolean
on_scale_scroll (GtkEventControllerScroll *controller, double dx, double dy,
                 SecateurPrunePage *self)
{
  double delta = fabs (dy) >= fabs (dx) ? -dy : dx;
  if (delta == 0)
    return FALSE;
  g_signal_emit_by_name (self->scale, "move-slider",
                         delta > 0 ? GTK_SCROLL_STEP_RIGHT : GTK_SCROLL_STEP_LEFT);
  return TRUE;
}

/* What merging does, or, when it is on without the router inputs it runs
 * on, what to do about it (Compare, the sweep and Export refuse until then). */
static void
show_merge_note (SecateurPrunePage *self)
{
  gboolean on = secateur_prune_settings_peek (self->settings)->merge;
  if (on && secateur_controller_get_stats (self->controller) != NULL &&
      !secateur_controller_has_capture (self->controller))
    adw_action_row_set_subtitle (self->merge_row,
                                 _ ("Calibrate again with this on: merging needs the router "
                                    "inputs calibration captures"));
  else
    adw_action_row_set_subtitle (
        self->merge_row, _ ("Fold each pruned expert into the kept one whose outputs are closest, "
                            "weighted by routing, instead of dropping it"));
}

/* A control moved: the settings take its value (the other pages follow
 * them through the object). */
static void
on_control_changed (SecateurPrunePage *self)
{
  if (self->syncing || self->settings == NULL)
    return;
  ScPruneSettings s;
  secateur_prune_settings_get (self->settings, &s);
  guint b = adw_combo_row_get_selected (ADW_COMBO_ROW (self->budget_row));
  if (b < G_N_ELEMENTS (budgets))
    {
      s.enc_weight = budgets[b][0];
      s.dec_weight = budgets[b][1];
    }
  guint m = adw_combo_row_get_selected (ADW_COMBO_ROW (self->metric_row));
  if (m < G_N_ELEMENTS (metrics))
    s.metric = metrics[m];
  s.algo = adw_combo_row_get_selected (ADW_COMBO_ROW (self->algo_row)) == 1 ? SC_SELECT_THRESHOLD
                                                                            : SC_SELECT_PER_LAYER;
  guint g = adw_combo_row_get_selected (ADW_COMBO_ROW (self->granularity_row));
  if (g < G_N_ELEMENTS (granularities))
    s.granularity = granularities[g];
  /* a ratio the budget cannot give becomes the nearest it can (also after
   * the budget changed) */
  s.ratio = snap_ratio (self, &s, gtk_range_get_value (GTK_RANGE (self->scale)) / 100.0, 0);
  if (fabs (gtk_range_get_value (GTK_RANGE (self->scale)) - 100 * s.ratio) > 1e-9)
    {
      self->syncing = TRUE;
      gtk_range_set_value (GTK_RANGE (self->scale), 100 * s.ratio);
      self->syncing = FALSE;
    }
  s.merge = gtk_switch_get_active (GTK_SWITCH (self->merge_switch));
  secateur_prune_settings_set (self->settings, &s);
}

/* The direction whose numbers the panel shows ("src-tgt"), or NULL. */
static const char *
shown_direction (SecateurPrunePage *self)
{
  guint i = adw_combo_row_get_selected (ADW_COMBO_ROW (self->direction_row));
  guint n = self->direction_codes ? g_strv_length (self->direction_codes) : 0;
  return i < n ? self->direction_codes[i] : NULL;
}

/* A share as a percentage without a trailing ".0" (50, 62.5, 3.1); in a
 * buffer that the next call replaces. */
static const char *
percent (double share)
{
  static char buf[G_ASCII_DTOSTR_BUF_SIZE];
  double v = round (1000 * share) / 10;
  if (fabs (v - round (v)) < 1e-9)
    g_snprintf (buf, sizeof buf, "%.0f", v);
  else
    g_snprintf (buf, sizeof buf, "%.1f", v);
  return buf;
}

/* The current run's chrF++ for the kept set shown, saying what it rests
 * on: the pair (or how many pairs' mean), the sentences and the decoding. */
static char *
estimate_text (SecateurPrunePage *self, const char *direction, const char *dir_name)
{
  SecateurEstimate e;
  if (!secateur_controller_estimate (self->controller, direction, &e))
    return g_strdup (_ ("Measure quality to see an estimate"));
  g_autofree char *pairs =
      direction != NULL
          ? g_strdup (dir_name)
          : g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d pair", "mean of %d pairs",
                                          e.n_directions),
                             e.n_directions);
  if (e.kind == SC_SWEEP_NOT_MEASURED)
    return direction != NULL && e.held_out == NULL
               ? g_strdup_printf (_ ("Not measured for %s: measure quality again"), pairs)
               : g_strdup_printf (_ ("Not measured at this many experts (%s): the quality "
                                     "curve does not reach them"),
                                  pairs);
  g_autofree char *decoding =
      e.num_beams > 1 ? g_strdup_printf (_ ("beam %d"), e.num_beams) : g_strdup (_ ("greedy"));
  g_autofree char *basis = g_strdup_printf (
      g_dngettext (GETTEXT_PACKAGE, "%s, %d held-out sentence, %s, at most %d tokens",
                   "%s, %d held-out sentences each, %s, at most %d tokens", e.sentences),
      pairs, e.sentences, decoding, e.max_length);
  return e.kind == SC_SWEEP_MEASURED
             ? g_strdup_printf (_ ("chrF++ %.1f, measured for these experts (%s)"), e.chrf, basis)
             : g_strdup_printf (_ ("chrF++ ≈ %.1f, interpolated between the measured numbers of "
                                   "experts (%s)"),
                                e.chrf, basis);
}

static void
update (SecateurPrunePage *self)
{
  if (self->settings == NULL)
    return; /* still being built */
  ScPruneSettings s;
  secateur_prune_settings_get (self->settings, &s);
  /* the share the kept count gives, which the slider's may not be */
  int kept_all = kept_at (self, &s, s.ratio);
  const SecateurModelInfo *shape = secateur_controller_get_info (self->controller);
  double pruned = s.ratio;
  if (kept_all > 0)
    pruned = 1.0 - (double) kept_all / (shape->n_moe_layers * shape->n_experts);
  g_autofree char *ratio = g_strdup_printf (_ ("%s %% pruned"), percent (pruned));
  gtk_label_set_text (GTK_LABEL (self->ratio_label), ratio);
  secateur_quality_curve_set_marker (SECATEUR_QUALITY_CURVE (self->curve), pruned);

  const SecateurModelInfo *info = secateur_controller_get_info (self->controller);
  ScStats *stats = secateur_controller_get_stats (self->controller);
  const char *direction = shown_direction (self);
  if (info == NULL || stats == NULL || info->n_experts == 0)
    {
      /* one empty state says why; the rows stay blank rather than repeat it */
      const char *why = info != NULL && info->n_experts == 0
                            ? _ ("This model has no experts to prune")
                            : _ ("Calibrate the model on the Calibrate page; its statistics "
                                 "decide which experts are kept.");
      AdwActionRow *rows[] = { self->kept_row, self->size_row, self->fits_row, self->mass_row,
                               self->estimate_row };
      for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
        adw_action_row_set_subtitle (rows[i], "—");
      adw_status_page_set_description (ADW_STATUS_PAGE (self->empty_page), why);
      gtk_stack_set_visible_child_name (GTK_STACK (self->charts_stack), "empty");
      secateur_bars_set_data (SECATEUR_BARS (self->bars), 0, NULL, 0, 0, NULL);
      return;
    }
  gtk_stack_set_visible_child_name (GTK_STACK (self->charts_stack), "charts");
  g_autofree char *src = NULL, *tgt = NULL;
  if (direction != NULL)
    sc_stats_split_direction (direction, &src, &tgt);
  GError *error = NULL;
  g_autofree guint8 *keep = sc_prune_keep_mask (stats, &s, src, tgt, &error);
  if (keep == NULL)
    {
      adw_action_row_set_subtitle (self->kept_row, error->message);
      g_error_free (error);
      return;
    }
  int L = info->n_moe_layers, E = info->n_experts, kept = 0;
  g_autofree int *per_layer = g_new0 (int, L);
  for (int l = 0; l < L; l++)
    kept += per_layer[l] = sc_prune_count_layer (keep, l, E);
  g_auto (GStrv) labels = sc_report_row_labels (L, info->n_encoder_moe);
  secateur_bars_set_data (SECATEUR_BARS (self->bars), L, per_layer, E, info->n_encoder_moe,
                          (const char *const *) labels);

  g_autofree char *dir_name = NULL;
  if (direction != NULL)
    {
      const char *one_dir[] = { direction, NULL };
      g_auto (GStrv) names = secateur_direction_names (one_dir);
      dir_name = g_strdup (names[0]);
    }
  /* the count the budget gives, and the share it prunes: what the slider says */
  g_autofree char *kept_text =
      g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d of %d experts kept (%s %% pruned)",
                                    "%d of %d experts kept (%s %% pruned)", kept),
                       kept, L * E, percent (1.0 - (double) kept / (L * E)));
  adw_action_row_set_subtitle (self->kept_row, kept_text);
  guint64 bytes = secateur_controller_pruned_bytes (self->controller, keep);
  /* one unit on the page (GB, or MB for small models), the GPU's included */
  gboolean gb = info->weight_bytes >= 1000000000;
  double unit = gb ? 1e9 : 1e6;
  g_autofree char *size = g_strdup_printf (gb ? _ ("%.2f GB instead of %.2f GB (%.0f %% saved)")
                                              : _ ("%.1f MB instead of %.1f MB (%.0f %% saved)"),
                                           bytes / unit, info->weight_bytes / unit,
                                           100.0 * (1.0 - (double) bytes / info->weight_bytes));
  /* one pair's experts here; the Export page's size is for the union of
   * its ticked pairs: say which this is */
  g_autofree char *size_for =
      g_strdup_printf (_ ("%s, for %s alone (the Export page covers every ticked pair)"), size,
                       dir_name ? dir_name : _ ("all directions"));
  adw_action_row_set_subtitle (self->size_row, size_for);
  g_autofree char *fit = NULL;
  if (info->backend == NULL || !g_str_has_prefix (info->backend, "cuda"))
    fit = g_strdup (_ ("No GPU: the model runs on the CPU"));
  else if (bytes / 1e9 <= self->gpu_gb)
    fit = g_strdup_printf (gb ? _ ("Yes: %.2f GB of weights within %.0f GB")
                              : _ ("Yes: %.1f MB of weights within %.0f MB"),
                           bytes / unit, self->gpu_gb * 1e9 / unit);
  else
    fit = g_strdup_printf (gb ? _ ("No: %.2f GB of weights exceed %.0f GB")
                              : _ ("No: %.1f MB of weights exceed %.0f MB"),
                           bytes / unit, self->gpu_gb * 1e9 / unit);
  adw_action_row_set_subtitle (self->fits_row, fit);
  const char *one[] = { direction, NULL };
  double mass = sc_prune_mass_kept (stats, keep, direction ? one : NULL);
  g_autofree char *mass_text = g_strdup_printf (_ ("%.1f %% of the gate mass"), 100 * mass);
  adw_action_row_set_subtitle (self->mass_row, mass_text);
  g_autofree char *estimate = estimate_text (self, direction, dir_name);
  adw_action_row_set_subtitle (self->estimate_row, estimate);
}

static void
on_directions_changed (SecateurPrunePage *self)
{
  const char *const *dirs = secateur_controller_get_directions (self->controller);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->directions));
  /* names in the list, the codes behind them */
  g_strfreev (self->direction_codes);
  self->direction_codes = g_strdupv ((char **) dirs);
  g_auto (GStrv) names = secateur_direction_names (dirs);
  gtk_string_list_splice (self->directions, 0, n, (const char *const *) names);
  update (self);
}

/* A run's settings in the words of the controls: metric, algorithm,
 * granularity, budget and calibration (NULL when the run has none). */
static void
run_fields (const ScSweepJobResult *run, char *fields[5])
{
  static const char *metric_names[] = { N_ ("Importance"), N_ ("Activity (top-1)"),
                                        N_ ("Frequency"), N_ ("REAP") };
  static const char *granularity_names[] = { N_ ("Global"), N_ ("Per Language"), N_ ("Per Pair") };
  const ScPruneSettings *s = &run->settings;
  const char *metric = sc_expert_metric_to_string (s->metric);
  for (guint i = 0; i < G_N_ELEMENTS (metrics); i++)
    if (metrics[i] == s->metric)
      metric = _ (metric_names[i]);
  const char *granularity = "";
  for (guint i = 0; i < G_N_ELEMENTS (granularities); i++)
    if (granularities[i] == s->granularity)
      granularity = _ (granularity_names[i]);
  fields[0] = g_strdup (metric);
  fields[1] = g_strdup (s->algo == SC_SELECT_THRESHOLD ? _ ("Global Threshold") : _ ("Per Layer"));
  fields[2] = g_strdup (granularity);
  fields[3] = g_strdup_printf ("%d:%d", s->enc_weight, s->dec_weight);
  fields[4] = g_strdup (run->calibration);
}

/* The fields joined ("Importance · Per Layer · Per Language · 3:1"), those
 * where `only` is FALSE left out; NULL fields always are. */
static char *
join_fields (char *fields[5], const gboolean only[5])
{
  GString *label = g_string_new (NULL);
  for (int f = 0; f < 5; f++)
    if (fields[f] != NULL && (only == NULL || only[f]))
      g_string_append_printf (label, "%s%s", label->len > 0 ? " · " : "", fields[f]);
  return g_string_free (label, FALSE);
}

/* The runs' curves, the list to pick from (each run by its settings, and
 * its calibration when the runs' differ) and, on the slider, where the
 * current run measured. The curve's legend names what tells the runs
 * apart (the chart's labels are short), or "mean" beside a lone run's pairs. */
static void
on_sweep_updated (SecateurPrunePage *self)
{
  GPtrArray *runs = secateur_controller_get_runs (self->controller);
  int current = secateur_controller_get_current_run (self->controller);
  SecateurQualityCurve *curve = SECATEUR_QUALITY_CURVE (self->curve);
  guint n = runs->len;
  g_autofree char **fields = g_new0 (char *, 5 * n + 1);
  for (guint i = 0; i < n; i++)
    run_fields (runs->pdata[i], fields + 5 * i);
  gboolean differ[5] = { FALSE }, settings[5] = { TRUE, TRUE, TRUE, TRUE, FALSE };
  for (guint i = 1; i < n; i++)
    for (int f = 0; f < 5; f++)
      differ[f] = differ[f] || g_strcmp0 (fields[f], fields[5 * i + f]) != 0;
  settings[4] = differ[4];
  gboolean any = differ[0] || differ[1] || differ[2] || differ[3] || differ[4];

  secateur_quality_curve_clear (curve);
  g_autoptr (GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < n; i++)
    {
      const ScSweepJobResult *r = runs->pdata[i];
      g_autofree double *x = g_new (double, r->n_ratios);
      for (int k = 0; k < r->n_ratios; k++)
        x[k] = sc_sweep_job_point_pruned (r, k);
      g_ptr_array_add (labels, join_fields (fields + 5 * i, settings));
      g_autofree char *legend = n == 1 ? g_strdup (_ ("mean"))
                                : any  ? join_fields (fields + 5 * i, differ)
                                       : g_strdup_printf (_ ("Run %u"), i + 1);
      g_auto (GStrv) names = secateur_direction_names ((const char *const *) r->directions);
      secateur_quality_curve_add_run (curve, legend, r->n_ratios, x, r->chrf,
                                      (const char *const *) names, r->scores);
    }
  for (guint i = 0; i < 5 * n; i++)
    g_free (fields[i]);
  secateur_quality_curve_set_current (curve, current);
  g_ptr_array_add (labels, NULL);

  self->listing_runs = TRUE;
  guint n_items = g_list_model_get_n_items (G_LIST_MODEL (self->runs));
  gtk_string_list_splice (self->runs, 0, n_items, (const char *const *) labels->pdata);
  if (current >= 0)
    adw_combo_row_set_selected (ADW_COMBO_ROW (self->run_row), current);
  gtk_widget_set_visible (self->run_row, n > 0);
  self->listing_runs = FALSE;

  gtk_scale_clear_marks (GTK_SCALE (self->scale));
  const ScSweepJobResult *shown = current >= 0 ? runs->pdata[current] : NULL;
  for (int k = 0; shown != NULL && k < shown->n_ratios; k++)
    gtk_scale_add_mark (GTK_SCALE (self->scale), 100 * sc_sweep_job_point_pruned (shown, k),
                        GTK_POS_BOTTOM, NULL);
  update (self);
}

/* A run picked: it becomes the current one and its settings the pages'. */
static void
on_run_selected (SecateurPrunePage *self)
{
  if (self->listing_runs || self->controller == NULL)
    return;
  guint i = adw_combo_row_get_selected (ADW_COMBO_ROW (self->run_row));
  GPtrArray *runs = secateur_controller_get_runs (self->controller);
  if (i < runs->len && (int) i != secateur_controller_get_current_run (self->controller))
    secateur_controller_select_run (self->controller, i);
}

/* The sweep by name, point and direction, with rate and time left. The
 * sweep job counts points direction by direction (sc-sweep-job.h). */
static void
on_progress (SecateurController *controller, int done, int total, double rate, double eta,
             SecateurPrunePage *self)
{
  if (self->sweep_cancellable == NULL || total <= 0)
    return;
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->sweep_progress), (double) done / total);
  int point = MIN (done + 1, total);
  g_autofree char *where = NULL;
  ScStats *stats = secateur_controller_get_stats (controller);
  g_auto (GStrv) dirs = stats != NULL ? sc_stats_list_directions (stats) : NULL;
  guint n_dirs = dirs != NULL ? g_strv_length (dirs) : 0;
  if (n_dirs > 0 && total % n_dirs == 0)
    {
      const char *one[] = { dirs[MIN ((guint) (point - 1) / (total / n_dirs), n_dirs - 1)], NULL };
      g_auto (GStrv) names = secateur_direction_names (one);
      where = g_strdup_printf (_ ("Measuring quality: point %d of %d, direction %s"), point, total,
                               names[0]);
    }
  else
    where = g_strdup_printf (_ ("Measuring quality: point %d of %d"), point, total);
  g_autofree char *text =
      eta >= 0 && rate > 0
          ? g_strdup_printf (_ ("%s · %.2f points/s · %.0f s left"), where, rate, eta)
          : g_strdup (where);
  gtk_label_set_text (GTK_LABEL (self->sweep_status), text);
}

static void
sweep_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (SecateurPrunePage) self = user_data;
  g_autoptr (GError) error = NULL;
  g_clear_object (&self->sweep_cancellable);
  if (self->sweep_question != NULL)
    gtk_window_destroy (GTK_WINDOW (self->sweep_question));
  gtk_widget_set_visible (self->sweep_box, FALSE);
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->sweep_progress), 0);
  gboolean ok = secateur_controller_sweep_finish (SECATEUR_CONTROLLER (source), result, &error);
  /* cancelled: the estimate of the curve from before, if any */
  update (self);
  if (!ok && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_autofree char *text =
          g_strdup_printf (_ ("Quality could not be measured: %s"), error->message);
      adw_action_row_set_subtitle (self->estimate_row, text);
    }
}

void
secateur_prune_page_measure_quality (SecateurPrunePage *self)
{
  if (self->sweep_cancellable != NULL)
    return;
  self->sweep_cancellable = g_cancellable_new ();
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->sweep_progress), 0);
  gtk_label_set_text (GTK_LABEL (self->sweep_status), _ ("Measuring quality…"));
  gtk_widget_set_visible (self->sweep_box, TRUE);
  adw_action_row_set_subtitle (self->estimate_row, _ ("Measuring quality on held-out sentences…"));
  /* NULL: with the controller's settings */
  secateur_controller_sweep_async (self->controller, NULL, self->sweep_cancellable, sweep_done,
                                   g_object_ref (self));
}

static void
cancel_confirmed (AdwMessageDialog *dialog, const char *response, SecateurPrunePage *self)
{
  if (g_str_equal (response, "stop") && self->sweep_cancellable != NULL)
    g_cancellable_cancel (self->sweep_cancellable);
}

gboolean
secateur_prune_page_is_measuring (SecateurPrunePage *self)
{
  return self->sweep_cancellable != NULL;
}

/* Asks first: the points measured so far are lost with it. */
void
secateur_prune_page_cancel_quality (SecateurPrunePage *self)
{
  if (self->sweep_cancellable == NULL || self->sweep_question != NULL)
    return;
  int n = 0;
  const double *r, *c;
  gboolean curve = secateur_controller_get_sweep (self->controller, &n, &r, &c);
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *dialog = adw_message_dialog_new (
      GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, _ ("Stop Measuring Quality?"),
      curve ? _ ("The points measured so far are discarded; the quality curve from before is "
                 "kept.")
            : _ ("The points measured so far are discarded; there is no quality curve until "
                 "quality is measured again."));
  AdwMessageDialog *d = ADW_MESSAGE_DIALOG (dialog);
  adw_message_dialog_add_responses (d, "continue", _ ("_Continue"), "stop", _ ("_Stop"), NULL);
  adw_message_dialog_set_response_appearance (d, "stop", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (d, "continue");
  adw_message_dialog_set_close_response (d, "continue");
  g_signal_connect_object (dialog, "response", G_CALLBACK (cancel_confirmed), self, 0);
  self->sweep_question = dialog;
  g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *) &self->sweep_question);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Measuring needs statistics: until then the button says why it is off. */
static void
on_busy_changed (SecateurPrunePage *self)
{
  const char *why = NULL;
  if (secateur_controller_get_stats (self->controller) == NULL)
    why = _ ("Calibrate first: quality is measured on the experts the statistics keep");
  const char *job = secateur_controller_get_job_name (self->controller);
  g_autofree char *running = job != NULL ? g_strdup_printf (_ ("%s is running"), job) : NULL;
  if (why == NULL)
    why = running;
  gtk_widget_set_sensitive (self->measure_button, why == NULL);
  gtk_widget_set_tooltip_text (self->measure_button, why);
}

static void
on_settings_changed (SecateurPrunePage *self)
{
  show_settings (self, secateur_prune_settings_peek (self->settings));
  show_merge_note (self);
  update (self);
}

static void
secateur_prune_page_dispose (GObject *object)
{
  SecateurPrunePage *self = SECATEUR_PRUNE_PAGE (object);
  if (self->controller != NULL)
    g_signal_handlers_disconnect_by_data (self->controller, self);
  if (self->settings != NULL)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  gtk_widget_dispose_template (GTK_WIDGET (self), SECATEUR_TYPE_PRUNE_PAGE);
  g_clear_object (&self->settings);
  g_clear_object (&self->controller);
  g_clear_pointer (&self->direction_codes, g_strfreev);
  g_clear_object (&self->sweep_cancellable);
  if (self->sweep_question != NULL)
    {
      GtkWidget *question = self->sweep_question;
      g_object_remove_weak_pointer (G_OBJECT (question), (gpointer *) &self->sweep_question);
      self->sweep_question = NULL;
      gtk_window_destroy (GTK_WINDOW (question));
    }
  G_OBJECT_CLASS (secateur_prune_page_parent_class)->dispose (object);
}

static void
secateur_prune_page_class_init (SecateurPrunePageClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  G_OBJECT_CLASS (klass)->dispose = secateur_prune_page_dispose;
  g_type_ensure (SECATEUR_TYPE_BARS);
  g_type_ensure (SECATEUR_TYPE_QUALITY_CURVE);
  gtk_widget_class_set_template_from_resource (
      widget_class, "/io/github/secateur/Secateur/secateur-prune-page.ui");
  gtk_widget_class_bind_template_child (widget_class, SecateurPrunePage, scale);
  gtk_widget_class_bind_template_child (widget_class, SecateurPrunePage, ratio_label);
  gtk_widget_class_bind_template_child (widget_class, SecateurPrunePage, run_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurPrunePage, runs);
  gtk_widget_class_bind_template_child (widget_class, SecateurPrunePage, budget_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurPrunePage, metric_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurPrunePage, algo_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurPrunePage, granularity_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurPrunePage, merge_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurPrunePage, merge_switch);
  gtk_widget_class_bind_template_child (widget_class, SecateurPrunePage, direction_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurPrunePage, directions);
  gtk_widget_class_bind_template_child (widget_class, SecateurPrunePage, kept_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurPrunePage, size_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurPrunePage, fits_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurPrunePage, mass_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurPrunePage, estimate_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurPrunePage, bars);
  gtk_widget_class_bind_template_child (widget_class, SecateurPrunePage, curve);
  gtk_widget_class_bind_template_child (widget_class, SecateurPrunePage, measure_button);
  gtk_widget_class_bind_template_child (widget_class, SecateurPrunePage, sweep_progress);
  gtk_widget_class_bind_template_child (widget_class, SecateurPrunePage, sweep_box);
  gtk_widget_class_bind_template_child (widget_class, SecateurPrunePage, sweep_status);
  gtk_widget_class_bind_template_child (widget_class, SecateurPrunePage, sweep_cancel);
  gtk_widget_class_bind_template_child (widget_class, SecateurPrunePage, charts_stack);
  gtk_widget_class_bind_template_child (widget_class, SecateurPrunePage, empty_page);
  gtk_widget_class_bind_template_callback (widget_class, on_control_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_change_value);
  gtk_widget_class_bind_template_callback (widget_class, on_run_selected);
  gtk_widget_class_bind_template_callback (widget_class, update);
  gtk_widget_class_bind_template_callback (widget_class, secateur_prune_page_measure_quality);
  gtk_widget_class_bind_template_callback (widget_class, secateur_prune_page_cancel_quality);
}

static void
secateur_prune_page_init (SecateurPrunePage *self)
{
  self->gpu_gb = 32;
  gtk_widget_init_template (GTK_WIDGET (self));
  GtkEventController *scroll = gtk_event_controller_scroll_new (
      GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES | GTK_EVENT_CONTROLLER_SCROLL_DISCRETE);
  gtk_event_controller_set_propagation_phase (scroll, GTK_PHASE_CAPTURE);
  g_signal_connect (scroll, "scroll", G_CALLBACK (on_scale_scroll), self);
  gtk_widget_add_controller (self->scale, scroll);
}

GtkWidget *
secateur_prune_page_new (SecateurController *controller)
{
  SecateurPrunePage *self = g_object_new (SECATEUR_TYPE_PRUNE_PAGE, NULL);
  self->controller = g_object_ref (controller);
  /* the controls edit the controller's settings and follow them */
  self->settings = g_object_ref (secateur_controller_get_prune_settings (controller));
  g_signal_connect_swapped (self->settings, "changed", G_CALLBACK (on_settings_changed), self);
  g_signal_connect_swapped (controller, "stats-updated", G_CALLBACK (update), self);
  g_signal_connect_swapped (controller, "stats-updated", G_CALLBACK (on_busy_changed), self);
  g_signal_connect_swapped (controller, "stats-updated", G_CALLBACK (show_merge_note), self);
  g_signal_connect_swapped (controller, "notify::model-dir", G_CALLBACK (on_busy_changed), self);
  g_signal_connect_swapped (controller, "sweep-updated", G_CALLBACK (on_sweep_updated), self);
  g_signal_connect_swapped (controller, "notify::directions", G_CALLBACK (on_directions_changed),
                            self);
  g_signal_connect_swapped (controller, "notify::busy", G_CALLBACK (on_busy_changed), self);
  g_signal_connect (controller, "progress", G_CALLBACK (on_progress), self);
  on_settings_changed (self);
  on_sweep_updated (self);
  on_busy_changed (self);
  return GTK_WIDGET (self);
}

void
secateur_prune_page_set_gpu_memory (SecateurPrunePage *self, double gb)
{
  self->gpu_gb = gb;
  update (self);
}
