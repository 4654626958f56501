/* secateur-prune-page.c: the pruning panel. */
#include "secateur-prune-page.h"

#include "secateur-bars.h"
#include "secateur-page-util.h"
#include "secateur-quality-curve.h"
#include "sc-report.h"

#include <glib/gi18n.h>

struct _SecateurPrunePage
{
  AdwBin parent_instance;
  SecateurController *controller;

  GtkWidget *scale;
  GtkWidget *ratio_label;
  GtkWidget *budget_row, *metric_row, *algo_row, *granularity_row, *direction_row;
  GtkStringList *directions;
  GHashTable *results; /* key -> AdwActionRow */
  GtkWidget *bars, *curve;
  GtkWidget *measure_button, *sweep_progress;
  double gpu_gb;
};

G_DEFINE_FINAL_TYPE (SecateurPrunePage, secateur_prune_page, ADW_TYPE_BIN)

enum
{
  SIGNAL_CHANGED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static const int budgets[][2] = { { 3, 1 }, { 2, 1 }, { 1, 1 }, { 1, 2 }, { 1, 3 } };
static const ScExpertMetric metrics[] = { SC_EXPERT_METRIC_IMPORTANCE, SC_EXPERT_METRIC_TOP1,
                                          SC_EXPERT_METRIC_FREQUENCY, SC_EXPERT_METRIC_REAP };
static const ScGranularity granularities[] = { SC_GRANULARITY_GLOBAL, SC_GRANULARITY_LANG,
                                               SC_GRANULARITY_PAIR };

void
secateur_prune_page_get_settings (SecateurPrunePage *self, ScPruneSettings *s)
{
  sc_prune_settings_init (s);
  s->ratio = gtk_range_get_value (GTK_RANGE (self->scale)) / 100.0;
  guint b = adw_combo_row_get_selected (ADW_COMBO_ROW (self->budget_row));
  s->enc_weight = budgets[MIN (b, G_N_ELEMENTS (budgets) - 1)][0];
  s->dec_weight = budgets[MIN (b, G_N_ELEMENTS (budgets) - 1)][1];
  s->metric = metrics[MIN (adw_combo_row_get_selected (ADW_COMBO_ROW (self->metric_row)),
                           G_N_ELEMENTS (metrics) - 1)];
  s->algo = adw_combo_row_get_selected (ADW_COMBO_ROW (self->algo_row)) == 1 ? SC_SELECT_THRESHOLD
                                                                             : SC_SELECT_PER_LAYER;
  s->granularity =
      granularities[MIN (adw_combo_row_get_selected (ADW_COMBO_ROW (self->granularity_row)),
                         G_N_ELEMENTS (granularities) - 1)];
}

const char *
secateur_prune_page_get_direction (SecateurPrunePage *self)
{
  guint i = adw_combo_row_get_selected (ADW_COMBO_ROW (self->direction_row));
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->directions));
  return i < n ? gtk_string_list_get_string (self->directions, i) : NULL;
}

static void
set_result (SecateurPrunePage *self, const char *key, const char *text)
{
  adw_action_row_set_subtitle (g_hash_table_lookup (self->results, key), text);
}

const char *
secateur_prune_page_get_result (SecateurPrunePage *self, const char *key)
{
  AdwActionRow *row = g_hash_table_lookup (self->results, key);
  return row ? adw_action_row_get_subtitle (row) : NULL;
}

static void
update (SecateurPrunePage *self)
{
  ScPruneSettings s;
  secateur_prune_page_get_settings (self, &s);
  g_autofree char *ratio = g_strdup_printf (_ ("%.0f %% pruned"), 100 * s.ratio);
  gtk_label_set_text (GTK_LABEL (self->ratio_label), ratio);
  secateur_quality_curve_set_marker (SECATEUR_QUALITY_CURVE (self->curve), s.ratio);

  const SecateurModelInfo *info = secateur_controller_get_info (self->controller);
  ScStats *stats = secateur_controller_get_stats (self->controller);
  const char *direction = secateur_prune_page_get_direction (self);
  if (info == NULL || stats == NULL || info->n_experts == 0)
    {
      const char *why = info != NULL && info->n_experts == 0
                            ? _ ("This model has no experts to prune")
                            : _ ("Calibrate the model to see what pruning keeps");
      GHashTableIter iter;
      gpointer row;
      g_hash_table_iter_init (&iter, self->results);
      while (g_hash_table_iter_next (&iter, NULL, &row))
        adw_action_row_set_subtitle (row, why);
      secateur_bars_set_data (SECATEUR_BARS (self->bars), 0, NULL, 0, 0, NULL);
      g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
      return;
    }
  g_autofree char *src = NULL, *tgt = NULL;
  if (direction != NULL)
    sc_stats_split_direction (direction, &src, &tgt);
  GError *error = NULL;
  g_autofree guint8 *keep = sc_prune_keep_mask (stats, &s, src, tgt, &error);
  if (keep == NULL)
    {
      set_result (self, "kept", error->message);
      g_error_free (error);
      g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
      return;
    }
  int L = info->n_moe_layers, E = info->n_experts, kept = 0;
  g_autofree int *per_layer = g_new0 (int, L);
  for (int l = 0; l < L; l++)
    kept += per_layer[l] = sc_prune_count_layer (keep, l, E);
  g_auto (GStrv) labels = sc_report_row_labels (L, info->n_encoder_moe);
  secateur_bars_set_data (SECATEUR_BARS (self->bars), L, per_layer, E, info->n_encoder_moe,
                          (const char *const *) labels);

  g_autofree char *kept_text = g_strdup_printf (_ ("%d of %d experts (%s)"), kept, L * E,
                                                direction ? direction : _ ("all directions"));
  set_result (self, "kept", kept_text);
  guint64 bytes = secateur_controller_pruned_bytes (self->controller, keep);
  g_autofree char *after = g_format_size (bytes);
  g_autofree char *before = g_format_size (info->weight_bytes);
  g_autofree char *size =
      g_strdup_printf (_ ("%s instead of %s (%.2f GB, %.0f %% saved)"), after, before, bytes / 1e9,
                       100.0 * (1.0 - (double) bytes / info->weight_bytes));
  set_result (self, "size", size);
  gboolean fits = bytes / 1e9 <= self->gpu_gb;
  g_autofree char *fit = g_strdup_printf (fits ? _ ("Yes: %.2f GB of weights within %.0f GB")
                                               : _ ("No: %.2f GB of weights exceed %.0f GB"),
                                          bytes / 1e9, self->gpu_gb);
  set_result (self, "fits", fit);
  const char *one[] = { direction, NULL };
  double mass = sc_prune_mass_kept (stats, keep, direction ? one : NULL);
  g_autofree char *mass_text = g_strdup_printf (_ ("%.1f %% of the gate mass"), 100 * mass);
  set_result (self, "mass", mass_text);
  double chrf;
  g_autofree char *estimate =
      secateur_controller_estimate_chrf (self->controller, s.ratio, &chrf)
          ? g_strdup_printf (_ ("chrF++ ≈ %.1f (estimate from the quality curve)"), chrf)
          : g_strdup (_ ("Measure quality to see an estimate"));
  set_result (self, "estimate", estimate);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

static void
on_directions_changed (SecateurPrunePage *self)
{
  const char *const *dirs = secateur_controller_get_directions (self->controller);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->directions));
  gtk_string_list_splice (self->directions, 0, n, dirs);
  update (self);
}

static void
on_sweep_updated (SecateurPrunePage *self)
{
  int n = 0;
  const double *ratios = NULL, *chrf = NULL;
  if (secateur_controller_get_sweep (self->controller, &n, &ratios, &chrf))
    {
      g_auto (GStrv) dirs =
          sc_stats_list_directions (secateur_controller_get_stats (self->controller));
      secateur_quality_curve_set_data (SECATEUR_QUALITY_CURVE (self->curve), n, ratios, chrf,
                                       (const char *const *) dirs,
                                       secateur_controller_get_sweep_scores (self->controller));
    }
  else
    secateur_quality_curve_set_data (SECATEUR_QUALITY_CURVE (self->curve), 0, NULL, NULL, NULL,
                                     NULL);
  update (self);
}

static void
on_progress (SecateurController *controller, int done, int total, double rate, double eta,
             SecateurPrunePage *self)
{
  if (gtk_widget_get_visible (self->sweep_progress) && total > 0)
    gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->sweep_progress), (double) done / total);
}

static void
sweep_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (SecateurPrunePage) self = user_data;
  g_autoptr (GError) error = NULL;
  gtk_widget_set_visible (self->sweep_progress, FALSE);
  if (!secateur_controller_sweep_finish (SECATEUR_CONTROLLER (source), result, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_autofree char *text =
          g_strdup_printf (_ ("Quality could not be measured: %s"), error->message);
      set_result (self, "estimate", text);
    }
}

void
secateur_prune_page_measure_quality (SecateurPrunePage *self)
{
  ScPruneSettings s;
  secateur_prune_page_get_settings (self, &s);
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->sweep_progress), 0);
  gtk_widget_set_visible (self->sweep_progress, TRUE);
  set_result (self, "estimate", _ ("Measuring quality on held-out sentences…"));
  secateur_controller_sweep_async (self->controller, &s, NULL, sweep_done, g_object_ref (self));
}

static void
on_busy_changed (SecateurPrunePage *self)
{
  gtk_widget_set_sensitive (self->measure_button, !secateur_controller_get_busy (self->controller));
}

static void
secateur_prune_page_dispose (GObject *object)
{
  SecateurPrunePage *self = SECATEUR_PRUNE_PAGE (object);
  if (self->controller != NULL)
    g_signal_handlers_disconnect_by_data (self->controller, self);
  g_clear_object (&self->controller);
  g_clear_object (&self->directions);
  g_clear_pointer (&self->results, g_hash_table_unref);
  G_OBJECT_CLASS (secateur_prune_page_parent_class)->dispose (object);
}

static void
secateur_prune_page_class_init (SecateurPrunePageClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = secateur_prune_page_dispose;
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
secateur_prune_page_init (SecateurPrunePage *self)
{
  self->gpu_gb = 32;
  self->results = g_hash_table_new (g_str_hash, g_str_equal);
  /* the rows start at the engine's defaults, the CLI's too */
  ScPruneSettings defaults;
  sc_prune_settings_init (&defaults);
  guint budget_at = 0, metric_at = 0, granularity_at = 0;
  for (guint i = 0; i < G_N_ELEMENTS (budgets); i++)
    if (budgets[i][0] == defaults.enc_weight && budgets[i][1] == defaults.dec_weight)
      budget_at = i;
  for (guint i = 0; i < G_N_ELEMENTS (metrics); i++)
    if (metrics[i] == defaults.metric)
      metric_at = i;
  for (guint i = 0; i < G_N_ELEMENTS (granularities); i++)
    if (granularities[i] == defaults.granularity)
      granularity_at = i;
  GtkWidget *page = adw_preferences_page_new ();

  GtkWidget *group = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _ ("Pruning"));
  GtkWidget *ratio_row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (ratio_row), _ ("Pruning Ratio"));
  self->scale = gtk_scale_new_with_range (GTK_ORIENTATION_HORIZONTAL, 0, 95, 1);
  gtk_range_set_value (GTK_RANGE (self->scale), 100 * defaults.ratio);
  /* marks where the quality sweep measures */
  for (guint i = 0; i < 5; i++)
    gtk_scale_add_mark (GTK_SCALE (self->scale), (double[]){ 0, 25, 50, 75, 90 }[i], GTK_POS_BOTTOM,
                        NULL);
  gtk_widget_set_hexpand (self->scale, TRUE);
  gtk_widget_set_size_request (self->scale, 280, -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->scale), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Pruning ratio in percent"), -1);
  self->ratio_label = gtk_label_new (NULL);
  gtk_label_set_width_chars (GTK_LABEL (self->ratio_label), 12);
  adw_action_row_add_suffix (ADW_ACTION_ROW (ratio_row), self->scale);
  adw_action_row_add_suffix (ADW_ACTION_ROW (ratio_row), self->ratio_label);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), ratio_row);

  const char *budget_items[] = { "3:1", "2:1", "1:1", "1:2", "1:3", NULL };
  self->budget_row =
      secateur_combo_row_new (_ ("Encoder:Decoder Budget"), NULL, budget_items, budget_at);
  const char *metric_items[] = { _ ("Importance"), _ ("Activity (top-1)"), _ ("Frequency"),
                                 _ ("REAP"), NULL };
  self->metric_row = secateur_combo_row_new (_ ("Metric"), NULL, metric_items, metric_at);
  const char *algo_items[] = { _ ("Per Layer"), _ ("Global Threshold"), NULL };
  self->algo_row = secateur_combo_row_new (_ ("Algorithm"), NULL, algo_items,
                                           defaults.algo == SC_SELECT_THRESHOLD);
  const char *gran_items[] = { _ ("Global"), _ ("Per Language"), _ ("Per Pair"), NULL };
  self->granularity_row =
      secateur_combo_row_new (_ ("Granularity"), NULL, gran_items, granularity_at);
  self->direction_row = adw_combo_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->direction_row), _ ("Shown For"));
  self->directions = gtk_string_list_new (NULL);
  adw_combo_row_set_model (ADW_COMBO_ROW (self->direction_row), G_LIST_MODEL (self->directions));
  GtkWidget *rows[] = { self->budget_row, self->metric_row, self->algo_row, self->granularity_row,
                        self->direction_row };
  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), rows[i]);
      g_signal_connect_swapped (rows[i], "notify::selected", G_CALLBACK (update), self);
    }
  g_signal_connect_swapped (self->scale, "value-changed", G_CALLBACK (update), self);
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (group));

  GtkWidget *results = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (results), _ ("After Pruning"));
  static const struct
  {
    const char *key, *title;
  } result_rows[] = {
    { "kept", N_ ("Experts Kept") }, { "size", N_ ("Model Size and Memory") },
    { "fits", N_ ("Fits the GPU") }, { "mass", N_ ("Routing Mass Kept") },
    { "estimate", N_ ("Quality") },
  };
  for (guint i = 0; i < G_N_ELEMENTS (result_rows); i++)
    {
      GtkWidget *row = adw_action_row_new ();
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _ (result_rows[i].title));
      gtk_widget_add_css_class (row, "property");
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (results), row);
      g_hash_table_insert (self->results, (gpointer) result_rows[i].key, row);
    }
  self->measure_button = gtk_button_new_with_mnemonic (_ ("_Measure Quality"));
  gtk_widget_set_valign (self->measure_button, GTK_ALIGN_CENTER);
  g_signal_connect_swapped (self->measure_button, "clicked",
                            G_CALLBACK (secateur_prune_page_measure_quality), self);
  adw_preferences_group_set_header_suffix (ADW_PREFERENCES_GROUP (results), self->measure_button);
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (results));

  /* charts beside the settings: what the slider does is seen as it moves */
  GtkWidget *charts = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  self->bars = secateur_bars_new ();
  self->curve = secateur_quality_curve_new ();
  gtk_widget_set_vexpand (self->bars, TRUE);
  gtk_widget_set_vexpand (self->curve, TRUE);
  self->sweep_progress = gtk_progress_bar_new ();
  gtk_widget_set_visible (self->sweep_progress, FALSE);
  gtk_box_append (GTK_BOX (charts), self->bars);
  gtk_box_append (GTK_BOX (charts), self->sweep_progress);
  gtk_box_append (GTK_BOX (charts), self->curve);
  adw_bin_set_child (ADW_BIN (self), secateur_split_pane_new (page, 420, charts));
}

GtkWidget *
secateur_prune_page_new (SecateurController *controller)
{
  SecateurPrunePage *self = g_object_new (SECATEUR_TYPE_PRUNE_PAGE, NULL);
  self->controller = g_object_ref (controller);
  g_signal_connect_swapped (controller, "stats-updated", G_CALLBACK (update), self);
  g_signal_connect_swapped (controller, "sweep-updated", G_CALLBACK (on_sweep_updated), self);
  g_signal_connect_swapped (controller, "notify::directions", G_CALLBACK (on_directions_changed),
                            self);
  g_signal_connect_swapped (controller, "notify::busy", G_CALLBACK (on_busy_changed), self);
  g_signal_connect (controller, "progress", G_CALLBACK (on_progress), self);
  update (self);
  return GTK_WIDGET (self);
}

void
secateur_prune_page_set_ratio (SecateurPrunePage *self, double ratio)
{
  gtk_range_set_value (GTK_RANGE (self->scale), 100 * CLAMP (ratio, 0.0, 0.95));
}

void
secateur_prune_page_set_gpu_memory (SecateurPrunePage *self, double gb)
{
  self->gpu_gb = gb;
  update (self);
}

GtkWidget *
secateur_prune_page_get_bars (SecateurPrunePage *self)
{
  return self->bars;
}

GtkWidget *
secateur_prune_page_get_curve (SecateurPrunePage *self)
{
  return self->curve;
}
