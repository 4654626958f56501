/* secateur-calibrate-page.c: calibration and the live heatmap. */
#include "secateur-calibrate-page.h"

#include "secateur-languages.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

struct _SecateurCalibratePage
{
  AdwBin parent_instance;
  SecateurController *controller;

  /* template children (secateur-calibrate-page.ui) */
  GtkWidget *corpus_row, *path_row, *path_button, *sampling_row, *mode_row;
  GtkWidget *size_spin;
  GtkWidget *start_button, *cancel_button, *progress, *status;
  GtkWidget *metric_dropdown, *scope_dropdown, *pruned_toggle;
  GtkStringList *scopes;
  GtkWidget *view_stack;
  GtkWidget *heatmap_stack, *heatmap, *similarity;

  GStrv scope_codes; /* behind each entry of `scopes`: NULL ("all"), a code or "src-tgt" */
  char *path;
  gboolean updating; /* re-filling the scope list */
  GCancellable *cancellable;
  gboolean hint_shown; /* the status is the idle hint, not a job's outcome */
  gboolean asked_path; /* the status asks for the corpus path */
  GtkWidget *question; /* weak: the add-or-replace dialog while it is up */
  gboolean adding;     /* the running job adds to earlier statistics */
  gboolean had_stats;  /* statistics existed when it started */
};

G_DEFINE_FINAL_TYPE (SecateurCalibratePage, secateur_calibrate_page, ADW_TYPE_BIN)

enum
{
  SIGNAL_FINISHED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static const ScExpertMetric view_metrics[] = { SC_EXPERT_METRIC_IMPORTANCE, SC_EXPERT_METRIC_TOP1,
                                               SC_EXPERT_METRIC_FREQUENCY, SC_EXPERT_METRIC_REAP };

/* Scope entries: "all", then languages, then "src-tgt" pairs. */
static void
scope_of (SecateurCalibratePage *self, ScGranularity *gran, char **src, char **tgt)
{
  guint i = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->scope_dropdown));
  guint n = self->scope_codes != NULL ? g_strv_length (self->scope_codes) : 0;
  const char *item = i == 0 || i > n ? NULL : self->scope_codes[i - 1];
  *src = *tgt = NULL;
  *gran = SC_GRANULARITY_GLOBAL;
  if (item == NULL)
    return;
  if (sc_stats_split_direction (item, src, tgt))
    *gran = SC_GRANULARITY_PAIR;
  else
    {
      *gran = SC_GRANULARITY_LANG;
      *src = g_strdup (item);
      *tgt = g_strdup (item);
    }
}

static void
update_scopes (SecateurCalibratePage *self, ScStats *stats)
{
  g_auto (GStrv) dirs = sc_stats_list_directions (stats);
  g_auto (GStrv) srcs = sc_stats_list_languages (stats, FALSE);
  g_auto (GStrv) tgts = sc_stats_list_languages (stats, TRUE);
  GStrvBuilder *b = g_strv_builder_new ();
  GPtrArray *seen = g_ptr_array_new ();
  for (GStrv l = srcs; *l; l++)
    g_ptr_array_add (seen, *l);
  for (GStrv l = tgts; *l; l++)
    if (!g_strv_contains ((const char *const *) srcs, *l))
      g_ptr_array_add (seen, *l);
  for (guint i = 0; i < seen->len; i++)
    g_strv_builder_add (b, seen->pdata[i]);
  g_ptr_array_unref (seen);
  g_strv_builder_addv (b, (const char **) dirs);
  g_auto (GStrv) codes = g_strv_builder_end (b);
  g_strv_builder_unref (b);
  /* Only rebuild when the list changes: keeps the user's choice. */
  if (self->scope_codes != NULL &&
      g_strv_equal ((const char *const *) self->scope_codes, (const char *const *) codes))
    return;
  /* shown by name: "French", "English → French" */
  GStrvBuilder *nb = g_strv_builder_new ();
  g_strv_builder_add (nb, _ ("All directions"));
  for (GStrv c = codes; *c; c++)
    {
      if (strchr (*c, '-') != NULL)
        {
          const char *one[] = { *c, NULL };
          g_auto (GStrv) names = secateur_direction_names (one);
          g_strv_builder_add (nb, names[0]);
        }
      else
        g_strv_builder_add (nb, secateur_language_name (*c));
    }
  g_auto (GStrv) items = g_strv_builder_end (nb);
  g_strv_builder_unref (nb);
  g_strfreev (self->scope_codes);
  self->scope_codes = g_steal_pointer (&codes);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->scopes));
  guint selected = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->scope_dropdown));
  gtk_string_list_splice (self->scopes, 0, n, (const char *const *) items);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->scope_dropdown),
                              selected < g_strv_length (items) ? selected : 0);
}

/* Per-language usage (frequency: share of a layer's tokens routed to each
 * expert; encoder rows as source, decoder rows as target) for the tooltip
 * and the similarity matrix. */
static void
update_languages (SecateurCalibratePage *self, ScStats *stats, int cells)
{
  GStrvBuilder *b = g_strv_builder_new ();
  g_autoptr (GArray) usage = g_array_new (FALSE, TRUE, sizeof (float));
  for (guint i = 0; self->scope_codes != NULL && self->scope_codes[i] != NULL; i++)
    {
      const char *lang = self->scope_codes[i];
      if (strchr (lang, '-') != NULL)
        continue;
      g_autofree double *m = sc_expert_metrics_for (stats, SC_GRANULARITY_LANG, lang, lang,
                                                    SC_EXPERT_METRIC_FREQUENCY, NULL);
      if (m == NULL)
        continue;
      g_strv_builder_add (b, lang);
      guint base = usage->len;
      g_array_set_size (usage, base + cells);
      for (int c = 0; c < cells; c++)
        g_array_index (usage, float, base + c) = (float) m[c] / 2; /* top-1 + top-2 shares */
    }
  g_auto (GStrv) langs = g_strv_builder_end (b);
  g_strv_builder_unref (b);
  int n_langs = g_strv_length (langs);
  secateur_heatmap_set_language_usage (SECATEUR_HEATMAP (self->heatmap),
                                       (const char *const *) langs, (float *) usage->data);
  g_autofree float *sim = g_new0 (float, MAX (1, n_langs * n_langs));
  secateur_similarity_cosine (n_langs, cells, (float *) usage->data, sim);
  secateur_similarity_set_data (SECATEUR_SIMILARITY (self->similarity), n_langs,
                                (const char *const *) langs, n_langs > 0 ? sim : NULL);
}

static void
update_heatmap (SecateurCalibratePage *self)
{
  ScStats *stats = secateur_controller_get_stats (self->controller);
  SecateurHeatmap *heatmap = SECATEUR_HEATMAP (self->heatmap);
  if (self->updating)
    return;
  /* no statistics: one empty state instead of a blank drawing */
  gtk_stack_set_visible_child_name (GTK_STACK (self->heatmap_stack), stats ? "heatmap" : "empty");
  if (stats == NULL)
    {
      secateur_heatmap_set_values (heatmap, 0, 0, 0, NULL, NULL);
      secateur_similarity_set_data (SECATEUR_SIMILARITY (self->similarity), 0, NULL, NULL);
      return;
    }
  const ScStatsShape *shape = sc_stats_get_shape (stats);
  int L = shape->n_moe_layers, E = shape->n_experts;
  self->updating = TRUE;
  update_scopes (self, stats);
  self->updating = FALSE;
  guint mi = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->metric_dropdown));
  ScExpertMetric metric = view_metrics[MIN (mi, G_N_ELEMENTS (view_metrics) - 1)];
  ScGranularity gran;
  g_autofree char *src = NULL, *tgt = NULL;
  scope_of (self, &gran, &src, &tgt);
  g_autofree double *m = sc_expert_metrics_for (stats, gran, src, tgt, metric, NULL);
  g_autofree float *values = g_new (float, L *E);
  for (int i = 0; i < L * E; i++)
    values[i] = m ? (float) m[i] : NAN;
  secateur_heatmap_set_values (heatmap, L, E, shape->n_encoder_moe, values,
                               sc_expert_metric_to_string (metric));
  /* dimmed: what the pruning settings drop, when asked for */
  if (!gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (self->pruned_toggle)))
    {
      secateur_heatmap_set_pruned (heatmap, NULL);
      update_languages (self, stats, L * E);
      return;
    }
  ScPruneSettings s;
  secateur_prune_settings_get (secateur_controller_get_prune_settings (self->controller), &s);
  g_autofree guint8 *keep = NULL;
  if (gran == SC_GRANULARITY_GLOBAL)
    {
      g_auto (GStrv) dirs = sc_stats_list_directions (stats);
      keep = sc_prune_keep_union (stats, &s, (const char *const *) dirs, NULL);
    }
  else
    keep = sc_prune_keep_mask (stats, &s, src, tgt, NULL);
  if (keep != NULL)
    for (int i = 0; i < L * E; i++)
      keep[i] = !keep[i];
  secateur_heatmap_set_pruned (heatmap, keep);
  update_languages (self, stats, L * E);
}

static void
on_progress (SecateurController *controller, int done, int total, double rate, double eta,
             SecateurCalibratePage *self)
{
  if (self->cancellable == NULL)
    return; /* another page's job */
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress),
                                 total > 0 ? (double) done / total : 0);
  g_autofree char *text =
      eta >= 0
          ? g_strdup_printf (
                g_dngettext (GETTEXT_PACKAGE, "%d of %d sentence · %.1f sentences/s · %.0f s left",
                             "%d of %d sentences · %.1f sentences/s · %.0f s left", total),
                done, total, rate, eta)
          : g_strdup_printf (
                g_dngettext (GETTEXT_PACKAGE, "%d of %d sentence", "%d of %d sentences", total),
                done, total);
  gtk_label_set_text (GTK_LABEL (self->status), text);
}

static void
set_running (SecateurCalibratePage *self, gboolean running)
{
  gtk_widget_set_visible (self->start_button, !running);
  gtk_widget_set_visible (self->cancel_button, running);
}

static void
calibrate_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (SecateurCalibratePage) self = user_data;
  g_autoptr (GError) error = NULL;
  gboolean ok = secateur_controller_calibrate_finish (SECATEUR_CONTROLLER (source), result, &error);
  g_clear_object (&self->cancellable);
  set_running (self, FALSE);
  if (ok)
    gtk_label_set_text (GTK_LABEL (self->status), self->adding
                                                      ? _ ("Calibration finished; its counts were "
                                                           "added to the statistics")
                                                      : _ ("Calibration finished"));
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      /* what the controller kept (secateur_controller_calibrate_finish) */
      const char *text =
          self->adding ? _ ("Calibration cancelled; the whole batches it finished were added to "
                            "the statistics")
          : self->had_stats
              ? _ ("Calibration cancelled; the statistics from before are kept unchanged")
              : _ ("Calibration cancelled; the statistics gathered so far are kept");
      gtk_label_set_text (GTK_LABEL (self->status), text);
      /* the run did not finish: no bar left partly filled */
      gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), 0);
    }
  else
    {
      g_autofree char *text = g_strdup_printf (_ ("Calibration failed: %s"), error->message);
      gtk_label_set_text (GTK_LABEL (self->status), text);
    }
  g_signal_emit (self, signals[SIGNAL_FINISHED], 0, ok);
}

static void
start_run (SecateurCalibratePage *self, gboolean add)
{
  static const ScSampleMode samplings[] = { SC_SAMPLE_PROPORTIONAL, SC_SAMPLE_UNIFORM,
                                            SC_SAMPLE_PAIRS };
  SecateurCalibrateRequest req = { 0 };
  /* the combo lists the kinds in ScCorpusKind's order */
  req.corpus.kind = adw_combo_row_get_selected (ADW_COMBO_ROW (self->corpus_row));
  req.corpus.path = self->path;
  req.sampling =
      samplings[MIN (adw_combo_row_get_selected (ADW_COMBO_ROW (self->sampling_row)), 2)];
  req.size = gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (self->size_spin));
  req.mode = adw_combo_row_get_selected (ADW_COMBO_ROW (self->mode_row)) == 1
                 ? SC_CALIBRATE_DECODE
                 : SC_CALIBRATE_TEACHER_FORCED;
  req.add = add;
  if (req.corpus.kind != SC_CORPUS_UDHR && req.corpus.path == NULL)
    {
      gtk_label_set_text (GTK_LABEL (self->status), _ ("Choose the corpus folder or file first"));
      self->asked_path = TRUE;
      return;
    }
  self->cancellable = g_cancellable_new ();
  self->hint_shown = FALSE;
  self->adding = add;
  self->had_stats = secateur_controller_get_stats (self->controller) != NULL;
  set_running (self, TRUE);
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), 0);
  gtk_label_set_text (GTK_LABEL (self->status), _ ("Preparing the calibration sample…"));
  secateur_controller_calibrate_async (self->controller, &req, self->cancellable, calibrate_done,
                                       g_object_ref (self));
}

/* Sentences and runs the statistics' records account for. */
static guint64
recorded_sentences (ScStats *stats, guint *runs)
{
  g_autoptr (JsonArray) records = sc_stats_get_provenance (stats);
  guint64 n = 0;
  *runs = records != NULL ? json_array_get_length (records) : 0;
  for (guint i = 0; i < *runs; i++)
    {
      JsonObject *r = json_array_get_object_element (records, i);
      if (r != NULL && json_object_has_member (r, "sentences"))
        n += (guint64) json_object_get_int_member (r, "sentences");
    }
  return n;
}

static void
on_question (AdwMessageDialog *dialog, const char *response, SecateurCalibratePage *self)
{
  g_object_remove_weak_pointer (G_OBJECT (dialog), (gpointer *) &self->question);
  self->question = NULL;
  if (g_str_equal (response, "add"))
    start_run (self, TRUE);
  else if (g_str_equal (response, "replace"))
    start_run (self, FALSE);
}

/* Statistics exist: a new run adds to them or replaces them, as the user
 * says; nothing is dropped without asking. */
void
secateur_calibrate_page_start (SecateurCalibratePage *self)
{
  if (self->cancellable != NULL || self->question != NULL)
    return;
  ScStats *stats = secateur_controller_get_stats (self->controller);
  if (stats == NULL)
    {
      start_run (self, FALSE);
      return;
    }
  guint runs = 0;
  guint64 sentences = recorded_sentences (stats, &runs);
  g_autofree char *held = g_strdup_printf (
      g_dngettext (GETTEXT_PACKAGE, "%u sentence", "%u sentences", (guint) sentences),
      (guint) sentences);
  g_autofree char *body = g_strdup_printf (
      g_dngettext (GETTEXT_PACKAGE,
                   "The statistics hold %s from %u calibration run. The new run's counts can be "
                   "added to them, or replace them: replacing drops them and the quality curve "
                   "measured on them once the new run completes.",
                   "The statistics hold %s from %u calibration runs. The new run's counts can be "
                   "added to them, or replace them: replacing drops them and the quality curve "
                   "measured on them once the new run completes.",
                   runs),
      held, runs);
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                              _ ("Add to the Statistics?"), body);
  AdwMessageDialog *d = ADW_MESSAGE_DIALOG (dialog);
  adw_message_dialog_add_responses (d, "cancel", _ ("_Cancel"), "replace", _ ("_Replace Them"),
                                    "add", _ ("_Add to Them"), NULL);
  adw_message_dialog_set_response_appearance (d, "replace", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_response_appearance (d, "add", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (d, "add");
  adw_message_dialog_set_close_response (d, "cancel");
  g_signal_connect (dialog, "response", G_CALLBACK (on_question), self);
  self->question = dialog;
  /* also when it goes without an answer */
  g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *) &self->question);
  gtk_window_present (GTK_WINDOW (dialog));
}

void
secateur_calibrate_page_cancel (SecateurCalibratePage *self)
{
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

static void update_hint (SecateurCalibratePage *self);

static void
path_chosen (GtkNativeDialog *dialog, int response, SecateurCalibratePage *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_free (self->path);
      self->path = g_file_get_path (file);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (self->path_row), self->path);
      /* the request for a path is answered: back to the hint */
      if (self->asked_path)
        {
          self->asked_path = FALSE;
          self->hint_shown = TRUE;
          update_hint (self);
        }
    }
  g_object_unref (dialog);
}

static void
on_choose_path (SecateurCalibratePage *self)
{
  gboolean folder =
      adw_combo_row_get_selected (ADW_COMBO_ROW (self->corpus_row)) == SC_CORPUS_FLORES;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooserNative *dialog = gtk_file_chooser_native_new (
      folder ? _ ("Choose a FLORES-200 Folder") : _ ("Choose a Tab-Separated Text File"),
      GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
      folder ? GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER : GTK_FILE_CHOOSER_ACTION_OPEN, _ ("_Open"),
      _ ("_Cancel"));
  g_signal_connect (dialog, "response", G_CALLBACK (path_chosen), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
on_corpus_changed (SecateurCalibratePage *self)
{
  guint kind = adw_combo_row_get_selected (ADW_COMBO_ROW (self->corpus_row));
  gtk_widget_set_visible (self->path_row, kind != SC_CORPUS_UDHR);
  g_clear_pointer (&self->path, g_free);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->path_row), _ ("None chosen"));
}

/* Before the first run the status says what to do next, for the pairs
 * chosen now (not a hint written once when the page was built). */
static void
update_hint (SecateurCalibratePage *self)
{
  if (!self->hint_shown || self->controller == NULL)
    return;
  const char *const *dirs = secateur_controller_get_directions (self->controller);
  guint n = dirs != NULL ? g_strv_length ((char **) dirs) : 0;
  g_autofree char *text =
      n == 0 ? g_strdup (_ ("Choose language pairs on the Model page, then start."))
             : g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                             "%u language pair chosen: start when ready.",
                                             "%u language pairs chosen: start when ready.", n),
                                n);
  gtk_label_set_text (GTK_LABEL (self->status), text);
}

/* One job at a time: while another runs, Start says which. */
static void
on_busy_changed (SecateurCalibratePage *self)
{
  const char *job = secateur_controller_get_job_name (self->controller);
  gboolean other = job != NULL && self->cancellable == NULL;
  g_autofree char *why = other ? g_strdup_printf (_ ("%s is running"), job) : NULL;
  gtk_widget_set_sensitive (self->start_button, !other);
  gtk_widget_set_tooltip_text (self->start_button, why);
}

static void
secateur_calibrate_page_dispose (GObject *object)
{
  SecateurCalibratePage *self = SECATEUR_CALIBRATE_PAGE (object);
  if (self->controller != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->controller, self);
      g_signal_handlers_disconnect_by_data (
          secateur_controller_get_prune_settings (self->controller), self);
    }
  gtk_widget_dispose_template (GTK_WIDGET (self), SECATEUR_TYPE_CALIBRATE_PAGE);
  if (self->question != NULL)
    {
      GtkWidget *question = self->question;
      g_signal_handlers_disconnect_by_data (question, self);
      g_object_remove_weak_pointer (G_OBJECT (question), (gpointer *) &self->question);
      self->question = NULL;
      gtk_window_destroy (GTK_WINDOW (question));
    }
  g_clear_object (&self->controller);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->path, g_free);
  g_clear_pointer (&self->scope_codes, g_strfreev);
  G_OBJECT_CLASS (secateur_calibrate_page_parent_class)->dispose (object);
}

static void
secateur_calibrate_page_class_init (SecateurCalibratePageClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  G_OBJECT_CLASS (klass)->dispose = secateur_calibrate_page_dispose;
  signals[SIGNAL_FINISHED] = g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_BOOLEAN);
  g_type_ensure (SECATEUR_TYPE_HEATMAP);
  g_type_ensure (SECATEUR_TYPE_SIMILARITY);
  gtk_widget_class_set_template_from_resource (
      widget_class, "/io/github/secateur/Secateur/secateur-calibrate-page.ui");
  gtk_widget_class_bind_template_child (widget_class, SecateurCalibratePage, corpus_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurCalibratePage, path_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurCalibratePage, path_button);
  gtk_widget_class_bind_template_child (widget_class, SecateurCalibratePage, sampling_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurCalibratePage, mode_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurCalibratePage, size_spin);
  gtk_widget_class_bind_template_child (widget_class, SecateurCalibratePage, start_button);
  gtk_widget_class_bind_template_child (widget_class, SecateurCalibratePage, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, SecateurCalibratePage, progress);
  gtk_widget_class_bind_template_child (widget_class, SecateurCalibratePage, status);
  gtk_widget_class_bind_template_child (widget_class, SecateurCalibratePage, metric_dropdown);
  gtk_widget_class_bind_template_child (widget_class, SecateurCalibratePage, scope_dropdown);
  gtk_widget_class_bind_template_child (widget_class, SecateurCalibratePage, pruned_toggle);
  gtk_widget_class_bind_template_child (widget_class, SecateurCalibratePage, scopes);
  gtk_widget_class_bind_template_child (widget_class, SecateurCalibratePage, view_stack);
  gtk_widget_class_bind_template_child (widget_class, SecateurCalibratePage, heatmap_stack);
  gtk_widget_class_bind_template_child (widget_class, SecateurCalibratePage, heatmap);
  gtk_widget_class_bind_template_child (widget_class, SecateurCalibratePage, similarity);
  gtk_widget_class_bind_template_callback (widget_class, on_corpus_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_choose_path);
  gtk_widget_class_bind_template_callback (widget_class, update_heatmap);
  gtk_widget_class_bind_template_callback (widget_class, secateur_calibrate_page_start);
  gtk_widget_class_bind_template_callback (widget_class, secateur_calibrate_page_cancel);
}

static void
secateur_calibrate_page_init (SecateurCalibratePage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->hint_shown = TRUE;
  on_corpus_changed (self);
}

GtkWidget *
secateur_calibrate_page_new (SecateurController *controller)
{
  SecateurCalibratePage *self = g_object_new (SECATEUR_TYPE_CALIBRATE_PAGE, NULL);
  self->controller = g_object_ref (controller);
  g_signal_connect_swapped (controller, "stats-updated", G_CALLBACK (update_heatmap), self);
  g_signal_connect (controller, "progress", G_CALLBACK (on_progress), self);
  g_signal_connect_swapped (secateur_controller_get_prune_settings (controller), "changed",
                            G_CALLBACK (update_heatmap), self);
  g_signal_connect_swapped (controller, "notify::directions", G_CALLBACK (update_hint), self);
  g_signal_connect_swapped (controller, "notify::busy", G_CALLBACK (on_busy_changed), self);
  update_hint (self);
  return GTK_WIDGET (self);
}

void
secateur_calibrate_page_set_size (SecateurCalibratePage *self, int size)
{
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->size_spin), size);
}
