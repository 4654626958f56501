/* secateur-weights-page.c: the Weights mode (weight pruning with
 * multilingual calibration). */
#include "secateur-weights-page.h"

#include "secateur-bars.h"
#include "secateur-dumbbell.h"
#include "secateur-page-util.h"
#include "sc-report.h"

#include <glib/gi18n.h>

struct _SecateurWeightsPage
{
  AdwBin parent_instance;
  SecateurController *controller;

  GtkWidget *method_row, *type_row, *ratio_row, *scale, *ratio_label;
  GtkWidget *sampling_row, *language_row, *samples_spin, *seqlen_spin, *counts_row;
  GtkWidget *sentences_spin, *threshold_spin;
  GtkWidget *start_button, *cancel_button, *export_button, *progress, *status;
  GtkWidget *bars, *chart;
  GtkStringList *languages;
  GStrv eval_languages; /* NULL: all but English */
  char *language;       /* the request's, kept alive */
  GCancellable *cancellable;
};

G_DEFINE_FINAL_TYPE (SecateurWeightsPage, secateur_weights_page, ADW_TYPE_BIN)

static const ScSparsityMethod methods[] = { SC_SPARSITY_MAGNITUDE, SC_SPARSITY_WANDA,
                                            SC_SPARSITY_SPARSEGPT };
enum
{
  TYPE_UNSTRUCTURED,
  TYPE_2_4,
  TYPE_4_8
};
enum
{
  SAMPLING_MBS,
  SAMPLING_UNIFORM,
  SAMPLING_ENGLISH,
  SAMPLING_LANGUAGE
};

static const char *
selected_language (SecateurWeightsPage *self)
{
  guint i = adw_combo_row_get_selected (ADW_COMBO_ROW (self->language_row));
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->languages));
  return i < n ? gtk_string_list_get_string (self->languages, i) : NULL;
}

void
secateur_weights_page_get_request (SecateurWeightsPage *self, SecateurSparsifyRequest *r)
{
  memset (r, 0, sizeof *r);
  r->method = methods[MIN (adw_combo_row_get_selected (ADW_COMBO_ROW (self->method_row)),
                           G_N_ELEMENTS (methods) - 1)];
  switch (adw_combo_row_get_selected (ADW_COMBO_ROW (self->type_row)))
    {
    case TYPE_2_4:
      r->pattern = (ScSparsityPattern){ 0, 2, 4 };
      break;
    case TYPE_4_8:
      r->pattern = (ScSparsityPattern){ 0, 4, 8 };
      break;
    default:
      r->pattern =
          (ScSparsityPattern){ gtk_range_get_value (GTK_RANGE (self->scale)) / 100.0, 0, 0 };
    }
  g_clear_pointer (&self->language, g_free);
  switch (adw_combo_row_get_selected (ADW_COMBO_ROW (self->sampling_row)))
    {
    case SAMPLING_UNIFORM:
      r->sampling = SC_CALIB_UNIFORM;
      break;
    case SAMPLING_ENGLISH:
      r->sampling = SC_CALIB_LANGUAGE;
      self->language = g_strdup ("eng_Latn");
      break;
    case SAMPLING_LANGUAGE:
      r->sampling = SC_CALIB_LANGUAGE;
      self->language = g_strdup (selected_language (self));
      break;
    default:
      r->sampling = SC_CALIB_MBS;
    }
  r->language = self->language;
  r->samples = gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (self->samples_spin));
  r->seqlen = gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (self->seqlen_spin));
  r->eval_languages = (const char *const *) self->eval_languages;
  r->eval_sentences = gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (self->sentences_spin));
  r->threshold = gtk_spin_button_get_value (GTK_SPIN_BUTTON (self->threshold_spin)) / 100.0;
}

/* The samples per language the run would draw, before running (as the MBS
 * paper shows them). */
static void
update_counts (SecateurWeightsPage *self)
{
  SecateurSparsifyRequest r;
  secateur_weights_page_get_request (self, &r);
  if (r.method == SC_SPARSITY_MAGNITUDE)
    {
      adw_action_row_set_subtitle (ADW_ACTION_ROW (self->counts_row),
                                   _ ("Magnitude pruning needs no calibration"));
      return;
    }
  /* the worker has the model while a job runs; the counts wait for it */
  if (secateur_controller_get_info (self->controller) == NULL ||
      secateur_controller_get_busy (self->controller))
    return;
  g_autoptr (GError) error = NULL;
  g_autoptr (ScCalibSet) set =
      secateur_controller_calibration_preview (self->controller, &r, &error);
  if (set == NULL)
    {
      adw_action_row_set_subtitle (ADW_ACTION_ROW (self->counts_row), error->message);
      return;
    }
  const guint *counts;
  const char *const *langs = sc_calib_set_languages (set, &counts);
  g_autoptr (GString) text = g_string_new (NULL);
  for (guint i = 0; langs[i] != NULL; i++)
    g_string_append_printf (text, "%s%s %u", i ? ", " : "", langs[i], counts[i]);
  g_autofree char *line =
      g_strdup_printf (g_dngettext (NULL, "%u sample of %d tokens: %s",
                                    "%u samples of %d tokens: %s", sc_calib_set_size (set)),
                       sc_calib_set_size (set), r.seqlen, text->str);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->counts_row), line);
}

static void
update_controls (SecateurWeightsPage *self)
{
  gboolean unstructured =
      adw_combo_row_get_selected (ADW_COMBO_ROW (self->type_row)) == TYPE_UNSTRUCTURED;
  gtk_widget_set_sensitive (self->scale, unstructured);
  g_autofree char *ratio = unstructured
                               ? g_strdup_printf (_ ("%.0f %% of the weights"),
                                                  gtk_range_get_value (GTK_RANGE (self->scale)))
                               : g_strdup (_ ("half of the weights"));
  gtk_label_set_text (GTK_LABEL (self->ratio_label), ratio);
  gtk_widget_set_visible (self->language_row, adw_combo_row_get_selected (ADW_COMBO_ROW (
                                                  self->sampling_row)) == SAMPLING_LANGUAGE);
  gboolean calib =
      adw_combo_row_get_selected (ADW_COMBO_ROW (self->method_row)) != 0; /* not magnitude */
  gtk_widget_set_sensitive (self->sampling_row, calib);
  gtk_widget_set_sensitive (self->samples_spin, calib);
  gtk_widget_set_sensitive (self->seqlen_spin, calib);
  update_counts (self);
}

static void
show_result (SecateurWeightsPage *self)
{
  const SecateurSparsifyResult *res = secateur_controller_get_sparsify_result (self->controller);
  gtk_widget_set_sensitive (self->export_button,
                            res != NULL && !secateur_controller_get_busy (self->controller));
  if (res == NULL)
    {
      secateur_bars_set_shares (SECATEUR_BARS (self->bars), 0, NULL, 0, NULL);
      secateur_dumbbell_set_data (SECATEUR_DUMBBELL (self->chart), 0, NULL, NULL, NULL, NULL);
      return;
    }
  g_auto (GStrv) labels = sc_report_row_labels (res->n_blocks, res->n_encoder_blocks);
  secateur_bars_set_shares (SECATEUR_BARS (self->bars), res->n_blocks, res->block_sparsity,
                            res->n_encoder_blocks, (const char *const *) labels);
  guint n = res->n_languages;
  g_autofree const char **names = g_new0 (const char *, n + 1);
  g_autofree double *before = g_new0 (double, MAX (n, 1));
  g_autofree double *after = g_new0 (double, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    {
      names[i] = res->languages[i].lang;
      before[i] = res->languages[i].before;
      after[i] = res->languages[i].after;
    }
  secateur_dumbbell_set_data (SECATEUR_DUMBBELL (self->chart), n, names, before, after,
                              res->degraded);
}

static void
on_progress (SecateurController *controller, int done, int total, double rate, double eta,
             SecateurWeightsPage *self)
{
  if (self->cancellable == NULL || total <= 0)
    return;
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), (double) done / total);
  g_autofree char *text =
      eta >= 0 ? g_strdup_printf (_ ("Step %d of %d · about %.0f s left"), done, total, eta)
               : g_strdup_printf (_ ("Step %d of %d"), done, total);
  gtk_label_set_text (GTK_LABEL (self->status), text);
}

static void
set_running (SecateurWeightsPage *self, gboolean running)
{
  gtk_widget_set_visible (self->cancel_button, running);
  gtk_widget_set_sensitive (self->start_button, !running);
}

static void
sparsify_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (SecateurWeightsPage) self = user_data;
  g_autoptr (GError) error = NULL;
  gboolean ok = secateur_controller_sparsify_finish (SECATEUR_CONTROLLER (source), result, &error);
  g_clear_object (&self->cancellable);
  set_running (self, FALSE);
  if (ok)
    {
      const SecateurSparsifyResult *res =
          secateur_controller_get_sparsify_result (self->controller);
      gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), 1);
      g_autofree char *text = g_strdup_printf (
          _ ("%.1f %% of %.1f million weights are zero (%.1f–%.1f %% per layer) after %.1f s; "
             "%u of %u languages lose more than %.0f %% chrF++"),
          100.0 * res->report->n_zero / MAX (res->report->n_weights, 1),
          res->report->n_weights / 1e6, 100 * res->min_layer, 100 * res->max_layer, res->seconds,
          res->n_degraded, res->n_languages, 100 * res->threshold);
      gtk_label_set_text (GTK_LABEL (self->status), text);
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    gtk_label_set_text (GTK_LABEL (self->status),
                        _ ("Weight pruning cancelled; the open model is unchanged"));
  else
    {
      g_autofree char *text = g_strdup_printf (_ ("Weight pruning failed: %s"), error->message);
      gtk_label_set_text (GTK_LABEL (self->status), text);
    }
  show_result (self);
  update_counts (self);
}

void
secateur_weights_page_start (SecateurWeightsPage *self)
{
  if (self->cancellable != NULL)
    return;
  SecateurSparsifyRequest r;
  secateur_weights_page_get_request (self, &r);
  self->cancellable = g_cancellable_new ();
  set_running (self, TRUE);
  gtk_widget_set_sensitive (self->export_button, FALSE);
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), 0);
  gtk_label_set_text (GTK_LABEL (self->status), _ ("Loading a copy of the model to prune…"));
  secateur_controller_sparsify_async (self->controller, &r, self->cancellable, sparsify_done,
                                      g_object_ref (self));
}

void
secateur_weights_page_cancel (SecateurWeightsPage *self)
{
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

static void
export_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (SecateurWeightsPage) self = user_data;
  g_autoptr (GError) error = NULL;
  g_clear_object (&self->cancellable);
  set_running (self, FALSE);
  gtk_widget_set_sensitive (self->export_button, TRUE);
  if (secateur_controller_export_weights_finish (SECATEUR_CONTROLLER (source), result, &error))
    gtk_label_set_text (GTK_LABEL (self->status), _ ("The pruned weights were written"));
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    gtk_label_set_text (GTK_LABEL (self->status), _ ("Export cancelled; nothing was written"));
  else
    {
      g_autofree char *text = g_strdup_printf (_ ("Export failed: %s"), error->message);
      gtk_label_set_text (GTK_LABEL (self->status), text);
    }
}

void
secateur_weights_page_export (SecateurWeightsPage *self, const char *folder)
{
  if (self->cancellable != NULL)
    return;
  self->cancellable = g_cancellable_new ();
  set_running (self, TRUE);
  gtk_widget_set_sensitive (self->export_button, FALSE);
  gtk_label_set_text (GTK_LABEL (self->status), _ ("Writing the pruned weights…"));
  secateur_controller_export_weights_async (self->controller, folder, FALSE, self->cancellable,
                                            export_done, g_object_ref (self));
}

static void
export_chosen (GtkNativeDialog *dialog, int response, SecateurWeightsPage *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      if (path != NULL)
        secateur_weights_page_export (self, path);
    }
  g_object_unref (dialog);
}

static void
on_export_clicked (SecateurWeightsPage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooserNative *dialog = gtk_file_chooser_native_new (
      _ ("Export the Pruned Weights"), GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
      GTK_FILE_CHOOSER_ACTION_SAVE, _ ("_Export"), _ ("_Cancel"));
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), "model-sparse");
  g_signal_connect (dialog, "response", G_CALLBACK (export_chosen), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
on_model_changed (SecateurWeightsPage *self)
{
  const SecateurModelInfo *info = secateur_controller_get_info (self->controller);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->languages));
  gtk_string_list_splice (self->languages, 0, n,
                          info ? (const char *const *) info->languages : NULL);
  show_result (self);
  update_controls (self);
}

static void
on_busy_changed (SecateurWeightsPage *self)
{
  gboolean busy = secateur_controller_get_busy (self->controller);
  /* another page's job blocks this one's start, and the reverse */
  if (self->cancellable == NULL)
    gtk_widget_set_sensitive (self->start_button, !busy);
  gtk_widget_set_sensitive (self->export_button,
                            !busy && secateur_controller_get_sparsify_result (self->controller));
  if (!busy)
    update_counts (self);
}

static void
secateur_weights_page_dispose (GObject *object)
{
  SecateurWeightsPage *self = SECATEUR_WEIGHTS_PAGE (object);
  if (self->controller != NULL)
    g_signal_handlers_disconnect_by_data (self->controller, self);
  g_clear_object (&self->controller);
  g_clear_object (&self->languages);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->eval_languages, g_strfreev);
  g_clear_pointer (&self->language, g_free);
  G_OBJECT_CLASS (secateur_weights_page_parent_class)->dispose (object);
}

static void
secateur_weights_page_class_init (SecateurWeightsPageClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = secateur_weights_page_dispose;
}

static void
secateur_weights_page_init (SecateurWeightsPage *self)
{
  GtkWidget *page = adw_preferences_page_new ();

  GtkWidget *group = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _ ("Weight Pruning"));
  adw_preferences_group_set_description (
      ADW_PREFERENCES_GROUP (group),
      _ ("Prunes single weights of a copy of the model; the open model stays whole"));
  const char *method_items[] = { _ ("Magnitude"), _ ("Wanda"), _ ("SparseGPT"), NULL };
  self->method_row = secateur_combo_row_new (_ ("Method"), NULL, method_items, 1);
  const char *type_items[] = { _ ("Unstructured"), _ ("2:4 Semi-Structured"),
                               _ ("4:8 Semi-Structured"), NULL };
  self->type_row =
      secateur_combo_row_new (_ ("Sparsity Type"), NULL, type_items, TYPE_UNSTRUCTURED);
  self->ratio_row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->ratio_row), _ ("Sparsity"));
  self->scale = gtk_scale_new_with_range (GTK_ORIENTATION_HORIZONTAL, 5, 95, 5);
  gtk_range_set_value (GTK_RANGE (self->scale), 50);
  gtk_widget_set_hexpand (self->scale, TRUE);
  gtk_widget_set_size_request (self->scale, 200, -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->scale), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Share of the weights pruned, in percent"), -1);
  self->ratio_label = gtk_label_new (NULL);
  gtk_label_set_width_chars (GTK_LABEL (self->ratio_label), 16);
  adw_action_row_add_suffix (ADW_ACTION_ROW (self->ratio_row), self->scale);
  adw_action_row_add_suffix (ADW_ACTION_ROW (self->ratio_row), self->ratio_label);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), self->method_row);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), self->type_row);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), self->ratio_row);
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (group));

  GtkWidget *calib = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (calib), _ ("Calibration"));
  const char *sampling_items[] = { _ ("Training Shares (MBS)"), _ ("Uniform"), _ ("English Only"),
                                   _ ("One Language"), NULL };
  self->sampling_row =
      secateur_combo_row_new (_ ("Sampling"),
                              _ ("In proportion to the training data is the Multilingual "
                                 "Brain Surgeon recipe"),
                              sampling_items, SAMPLING_MBS);
  self->language_row = adw_combo_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->language_row), _ ("Language"));
  self->languages = gtk_string_list_new (NULL);
  adw_combo_row_set_model (ADW_COMBO_ROW (self->language_row), G_LIST_MODEL (self->languages));
  GtkWidget *samples_row = secateur_spin_row_new (_ ("Samples"), _ ("Calibration samples"), 1, 1024,
                                                  1, 128, &self->samples_spin);
  GtkWidget *seqlen_row =
      secateur_spin_row_new (_ ("Segment Length"), _ ("Tokens per calibration sample"), 4, 512, 4,
                             128, &self->seqlen_spin);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (seqlen_row), _ ("Tokens per sample"));
  self->counts_row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->counts_row),
                                 _ ("Samples per Language"));
  gtk_widget_add_css_class (self->counts_row, "property");
  GtkWidget *calib_rows[] = { self->sampling_row, self->language_row, samples_row, seqlen_row,
                              self->counts_row };
  for (guint i = 0; i < G_N_ELEMENTS (calib_rows); i++)
    adw_preferences_group_add (ADW_PREFERENCES_GROUP (calib), calib_rows[i]);
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (calib));

  GtkWidget *eval = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (eval), _ ("Quality per Language"));
  adw_preferences_group_set_description (
      ADW_PREFERENCES_GROUP (eval),
      _ ("chrF++ of English to each language on held-out sentences, before and after"));
  GtkWidget *sentences_row =
      secateur_spin_row_new (_ ("Sentences per Language"), _ ("Sentences per language"), 1, 50, 1,
                             4, &self->sentences_spin);
  GtkWidget *threshold_row =
      secateur_spin_row_new (_ ("Flag Losses Above"), _ ("Flag losses above, in percent"), 1, 90, 1,
                             10, &self->threshold_spin);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (threshold_row), _ ("Percent of chrF++"));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (eval), sentences_row);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (eval), threshold_row);
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (eval));

  GtkWidget *run = secateur_run_group_new (_ ("_Prune Weights"), &self->start_button,
                                           &self->cancel_button, &self->progress, &self->status);
  self->export_button = gtk_button_new_with_mnemonic (_ ("E_xport Weights…"));
  gtk_widget_add_css_class (self->export_button, "pill");
  gtk_widget_set_sensitive (self->export_button, FALSE);
  /* after Cancel, in the same row of buttons */
  gtk_box_append (GTK_BOX (gtk_widget_get_parent (self->cancel_button)), self->export_button);
  g_signal_connect_swapped (self->start_button, "clicked", G_CALLBACK (secateur_weights_page_start),
                            self);
  g_signal_connect_swapped (self->cancel_button, "clicked",
                            G_CALLBACK (secateur_weights_page_cancel), self);
  g_signal_connect_swapped (self->export_button, "clicked", G_CALLBACK (on_export_clicked), self);
  gtk_widget_set_margin_top (self->progress, 12);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->progress), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Weight pruning progress"), -1);
  gtk_label_set_text (GTK_LABEL (self->status), _ ("Choose the settings, then prune."));
  gtk_widget_add_css_class (self->status, "dim-label");
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (run));

  GtkWidget *rows[] = { self->method_row, self->type_row, self->sampling_row, self->language_row };
  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    g_signal_connect_swapped (rows[i], "notify::selected", G_CALLBACK (update_controls), self);
  g_signal_connect_swapped (self->scale, "value-changed", G_CALLBACK (update_controls), self);
  g_signal_connect_swapped (self->samples_spin, "value-changed", G_CALLBACK (update_counts), self);
  g_signal_connect_swapped (self->seqlen_spin, "value-changed", G_CALLBACK (update_counts), self);

  /* the charts beside the settings */
  GtkWidget *charts = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  self->bars = secateur_bars_new ();
  secateur_bars_set_title (SECATEUR_BARS (self->bars), _ ("weights pruned per layer"));
  self->chart = secateur_dumbbell_new ();
  gtk_widget_set_vexpand (self->bars, TRUE);
  gtk_widget_set_vexpand (self->chart, TRUE);
  gtk_box_append (GTK_BOX (charts), self->bars);
  gtk_box_append (GTK_BOX (charts), self->chart);
  adw_bin_set_child (ADW_BIN (self), secateur_split_pane_new (page, 440, charts));
}

GtkWidget *
secateur_weights_page_new (SecateurController *controller)
{
  SecateurWeightsPage *self = g_object_new (SECATEUR_TYPE_WEIGHTS_PAGE, NULL);
  self->controller = g_object_ref (controller);
  g_signal_connect_swapped (controller, "notify::model-dir", G_CALLBACK (on_model_changed), self);
  g_signal_connect_swapped (controller, "notify::busy", G_CALLBACK (on_busy_changed), self);
  g_signal_connect (controller, "progress", G_CALLBACK (on_progress), self);
  on_model_changed (self);
  return GTK_WIDGET (self);
}

void
secateur_weights_page_set_method (SecateurWeightsPage *self, ScSparsityMethod method)
{
  for (guint i = 0; i < G_N_ELEMENTS (methods); i++)
    if (methods[i] == method)
      adw_combo_row_set_selected (ADW_COMBO_ROW (self->method_row), i);
}

void
secateur_weights_page_set_pattern (SecateurWeightsPage *self, const ScSparsityPattern *pattern)
{
  if (pattern->m == 4 && pattern->n == 2)
    adw_combo_row_set_selected (ADW_COMBO_ROW (self->type_row), TYPE_2_4);
  else if (pattern->m == 8 && pattern->n == 4)
    adw_combo_row_set_selected (ADW_COMBO_ROW (self->type_row), TYPE_4_8);
  else
    {
      adw_combo_row_set_selected (ADW_COMBO_ROW (self->type_row), TYPE_UNSTRUCTURED);
      gtk_range_set_value (GTK_RANGE (self->scale), 100 * CLAMP (pattern->ratio, 0.05, 0.95));
    }
}

void
secateur_weights_page_set_sampling (SecateurWeightsPage *self, ScCalibMode mode,
                                    const char *language)
{
  guint sel = SAMPLING_MBS;
  if (mode == SC_CALIB_UNIFORM)
    sel = SAMPLING_UNIFORM;
  else if (mode == SC_CALIB_LANGUAGE && g_strcmp0 (language, "eng_Latn") == 0)
    sel = SAMPLING_ENGLISH;
  else if (mode == SC_CALIB_LANGUAGE)
    {
      sel = SAMPLING_LANGUAGE;
      guint n = g_list_model_get_n_items (G_LIST_MODEL (self->languages));
      for (guint i = 0; i < n; i++)
        if (g_strcmp0 (gtk_string_list_get_string (self->languages, i), language) == 0)
          adw_combo_row_set_selected (ADW_COMBO_ROW (self->language_row), i);
    }
  adw_combo_row_set_selected (ADW_COMBO_ROW (self->sampling_row), sel);
}

void
secateur_weights_page_set_samples (SecateurWeightsPage *self, int samples, int seqlen)
{
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->samples_spin), samples);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->seqlen_spin), seqlen);
}

void
secateur_weights_page_set_evaluation (SecateurWeightsPage *self, const char *const *languages,
                                      int sentences)
{
  g_strfreev (self->eval_languages);
  self->eval_languages = g_strdupv ((char **) languages);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->sentences_spin), sentences);
}

const char *
secateur_weights_page_get_status (SecateurWeightsPage *self)
{
  return gtk_label_get_text (GTK_LABEL (self->status));
}

const char *
secateur_weights_page_get_calibration_text (SecateurWeightsPage *self)
{
  return adw_action_row_get_subtitle (ADW_ACTION_ROW (self->counts_row));
}

GtkWidget *
secateur_weights_page_get_bars (SecateurWeightsPage *self)
{
  return self->bars;
}

GtkWidget *
secateur_weights_page_get_chart (SecateurWeightsPage *self)
{
  return self->chart;
}
