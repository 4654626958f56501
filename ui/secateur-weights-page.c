/* secateur-weights-page.c: the Weights mode (weight pruning with
 * multilingual calibration). */
#include "secateur-weights-page.h"

#include "secateur-bars.h"
#include "secateur-dumbbell.h"
#include "secateur-languages.h"
#include "sc-report.h"

#include <glib/gi18n.h>

struct _SecateurWeightsPage
{
  AdwBin parent_instance;
  SecateurController *controller;

  /* template children (secateur-weights-page.ui) */
  GtkWidget *method_row, *type_row, *ratio_row, *scale, *ratio_label;
  GtkWidget *sampling_row, *language_row, *samples_spin, *seqlen_spin, *counts_row;
  GtkWidget *sentences_spin, *threshold_spin, *languages_row, *estimate_row;
  GtkWidget *start_button, *cancel_button, *export_button, *progress, *status;
  GtkWidget *bars, *chart;
  GtkStringList *languages;

  GStrv eval_languages;    /* NULL: all but English */
  char *language;          /* the request's, kept alive */
  GtkWidget *charts_stack; /* "empty" until a result exists */
  GCancellable *cancellable;
  char *export_folder; /* where the last weights export writes */
  double estimate_s;   /* the cost model's for the current settings; -1: none */
  gint64 started_us;   /* when the running job started */
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

/* The settings as a request; its strings belong to the page. */
static void
get_request (SecateurWeightsPage *self, SecateurSparsifyRequest *r)
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

static char *
format_duration (double s)
{
  if (s < 90)
    return g_strdup_printf (_ ("about %.0f s"), MAX (1, s));
  return g_strdup_printf (_ ("about %.0f min"), s / 60);
}

/* Before starting: which languages are measured and how long the run
 * should take (the controller's cost model). */
static void
update_estimate (SecateurWeightsPage *self)
{
  SecateurSparsifyRequest r;
  if (self->controller == NULL)
    return;
  get_request (self, &r);
  self->estimate_s = secateur_controller_sparsify_estimate (self->controller, &r);
  g_autofree char *time = self->estimate_s >= 0 ? format_duration (self->estimate_s) : NULL;
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->estimate_row), time ? time : "");
  g_auto (GStrv) langs = secateur_controller_sparsify_languages (self->controller, &r);
  g_autoptr (GString) text = g_string_new (NULL);
  for (guint i = 0; langs != NULL && langs[i] != NULL; i++)
    g_string_append_printf (text, "%s%s", i ? ", " : "", secateur_language_name (langs[i]));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->languages_row), text->str);
}

/* The samples per language the run would draw, before running (as the MBS
 * paper shows them). */
static void
update_counts (SecateurWeightsPage *self)
{
  SecateurSparsifyRequest r;
  update_estimate (self);
  get_request (self, &r);
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
  gtk_stack_set_visible_child_name (GTK_STACK (self->charts_stack), res ? "charts" : "empty");
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
  /* changes within noise are no finding: grey, with the sample size */
  g_autofree gboolean *noise = g_new0 (gboolean, MAX (n, 1));
  int sentences = 0;
  for (guint i = 0; i < n; i++)
    {
      noise[i] = sc_lang_quality_within_noise (&res->languages[i]);
      sentences = i == 0 ? res->languages[i].n : MIN (sentences, res->languages[i].n);
    }
  secateur_dumbbell_set_noise (SECATEUR_DUMBBELL (self->chart), noise, sentences);
}

static void
on_progress (SecateurController *controller, int done, int total, double rate, double eta,
             SecateurWeightsPage *self)
{
  if (self->cancellable == NULL || total <= 0)
    return;
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), (double) done / total);
  /* until the first step is measured, the cost model's estimate */
  double elapsed = (g_get_monotonic_time () - self->started_us) / 1e6;
  g_autofree char *text =
      eta >= 0 ? g_strdup_printf (_ ("Step %d of %d · about %.0f s left"), done, total, eta)
      : self->estimate_s >= 0
          ? g_strdup_printf (_ ("Step %d of %d · about %.0f s left (estimated)"), done, total,
                             MAX (1, self->estimate_s - elapsed))
          : g_strdup_printf (_ ("Step %d of %d"), done, total);
  gtk_label_set_text (GTK_LABEL (self->status), text);
}

static void
set_running (SecateurWeightsPage *self, gboolean running)
{
  /* Cancel takes Start's place: both at once widened the row and moved
   * the layout sideways */
  gtk_widget_set_visible (self->cancel_button, running);
  gtk_widget_set_visible (self->start_button, !running);
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
    {
      gtk_label_set_text (GTK_LABEL (self->status),
                          _ ("Weight pruning cancelled; the open model is unchanged"));
      /* the run did not finish: no bar left partly filled */
      gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), 0);
    }
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
  get_request (self, &r);
  self->cancellable = g_cancellable_new ();
  update_estimate (self);
  self->started_us = g_get_monotonic_time ();
  set_running (self, TRUE);
  gtk_widget_set_sensitive (self->export_button, FALSE);
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), 0);
  gtk_label_set_text (GTK_LABEL (self->status), _ ("Preparing the pruned view of the model…"));
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
    {
      g_autofree char *text =
          g_strdup_printf (_ ("The pruned weights were written to %s"), self->export_folder);
      gtk_label_set_text (GTK_LABEL (self->status), text);
    }
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
  g_free (self->export_folder);
  self->export_folder = g_strdup (folder);
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
  /* sized from the model: the defaults take about a minute */
  if (info != NULL)
    gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->samples_spin),
                               secateur_controller_sparsify_default_samples (self->controller));
  show_result (self);
  update_controls (self);
}

static void
on_busy_changed (SecateurWeightsPage *self)
{
  gboolean busy = secateur_controller_get_busy (self->controller);
  /* another page's job blocks this one's start, and the reverse */
  if (self->cancellable == NULL)
    {
      const char *job = secateur_controller_get_job_name (self->controller);
      g_autofree char *why = job != NULL ? g_strdup_printf (_ ("%s is running"), job) : NULL;
      gtk_widget_set_sensitive (self->start_button, !busy);
      gtk_widget_set_tooltip_text (self->start_button, why);
    }
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
  gtk_widget_dispose_template (GTK_WIDGET (self), SECATEUR_TYPE_WEIGHTS_PAGE);
  g_clear_object (&self->controller);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->export_folder, g_free);
  g_clear_pointer (&self->eval_languages, g_strfreev);
  g_clear_pointer (&self->language, g_free);
  G_OBJECT_CLASS (secateur_weights_page_parent_class)->dispose (object);
}

static void
secateur_weights_page_class_init (SecateurWeightsPageClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  G_OBJECT_CLASS (klass)->dispose = secateur_weights_page_dispose;
  g_type_ensure (SECATEUR_TYPE_BARS);
  g_type_ensure (SECATEUR_TYPE_DUMBBELL);
  gtk_widget_class_set_template_from_resource (
      widget_class, "/io/github/secateur/Secateur/secateur-weights-page.ui");
  gtk_widget_class_bind_template_child (widget_class, SecateurWeightsPage, method_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurWeightsPage, type_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurWeightsPage, ratio_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurWeightsPage, scale);
  gtk_widget_class_bind_template_child (widget_class, SecateurWeightsPage, ratio_label);
  gtk_widget_class_bind_template_child (widget_class, SecateurWeightsPage, sampling_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurWeightsPage, language_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurWeightsPage, languages);
  gtk_widget_class_bind_template_child (widget_class, SecateurWeightsPage, samples_spin);
  gtk_widget_class_bind_template_child (widget_class, SecateurWeightsPage, seqlen_spin);
  gtk_widget_class_bind_template_child (widget_class, SecateurWeightsPage, counts_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurWeightsPage, sentences_spin);
  gtk_widget_class_bind_template_child (widget_class, SecateurWeightsPage, threshold_spin);
  gtk_widget_class_bind_template_child (widget_class, SecateurWeightsPage, languages_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurWeightsPage, estimate_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurWeightsPage, start_button);
  gtk_widget_class_bind_template_child (widget_class, SecateurWeightsPage, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, SecateurWeightsPage, charts_stack);
  gtk_widget_class_bind_template_child (widget_class, SecateurWeightsPage, export_button);
  gtk_widget_class_bind_template_child (widget_class, SecateurWeightsPage, progress);
  gtk_widget_class_bind_template_child (widget_class, SecateurWeightsPage, status);
  gtk_widget_class_bind_template_child (widget_class, SecateurWeightsPage, bars);
  gtk_widget_class_bind_template_child (widget_class, SecateurWeightsPage, chart);
  gtk_widget_class_bind_template_callback (widget_class, update_controls);
  gtk_widget_class_bind_template_callback (widget_class, update_counts);
  gtk_widget_class_bind_template_callback (widget_class, update_estimate);
  gtk_widget_class_bind_template_callback (widget_class, on_export_clicked);
  gtk_widget_class_bind_template_callback (widget_class, secateur_weights_page_start);
  gtk_widget_class_bind_template_callback (widget_class, secateur_weights_page_cancel);
}

static void
secateur_weights_page_init (SecateurWeightsPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->estimate_s = -1;
  secateur_bars_set_title (SECATEUR_BARS (self->bars), _ ("weights pruned per layer"));
}

GtkWidget *
secateur_weights_page_new (SecateurController *controller)
{
  SecateurWeightsPage *self = g_object_new (SECATEUR_TYPE_WEIGHTS_PAGE, NULL);
  self->controller = g_object_ref (controller);
  g_signal_connect_swapped (controller, "notify::model-dir", G_CALLBACK (on_model_changed), self);
  g_signal_connect_swapped (controller, "notify::busy", G_CALLBACK (on_busy_changed), self);
  g_signal_connect (controller, "progress", G_CALLBACK (on_progress), self);
  g_signal_connect_swapped (controller, "notify::directions", G_CALLBACK (update_estimate), self);
  on_model_changed (self);
  return GTK_WIDGET (self);
}

void
secateur_weights_page_set_evaluation (SecateurWeightsPage *self, const char *const *languages,
                                      int sentences)
{
  g_strfreev (self->eval_languages);
  self->eval_languages = g_strdupv ((char **) languages);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->sentences_spin), sentences);
  update_estimate (self);
}
