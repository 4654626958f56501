/* secateur-export-page.c: the export page. */
#include "secateur-export-page.h"

#include "secateur-languages.h"

#include <glib/gi18n.h>

struct _SecateurExportPage
{
  AdwBin parent_instance;
  SecateurController *controller;
  char *folder;

  /* template children (secateur-export-page.ui) */
  GtkWidget *folder_row;
  GtkWidget *dtype_row; /* AdwComboRow over `dtype_labels` */
  GtkStringList *dtype_labels;
  GtkWidget *pairs_group;
  GtkWidget *export_button, *cancel_button, *progress, *status;

  GPtrArray *pair_checks; /* GtkCheckButton, data "direction" */
  gboolean asked_folder;  /* the status asks for a folder */
  GCancellable *cancellable;
};

G_DEFINE_FINAL_TYPE (SecateurExportPage, secateur_export_page, ADW_TYPE_BIN)

enum
{
  SIGNAL_EXPORTED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static const char *const outputs[] = { "model", "experts.json", "statistics.json", "report" };

/* The dtype row's choices: as stored, then converted (export --dtype). */
static const char *const dtypes[] = { NULL, "F16", "BF16" };

/* Whether export would replace files in the folder. */
static gboolean
would_overwrite (SecateurExportPage *self)
{
  for (guint i = 0; self->folder != NULL && i < G_N_ELEMENTS (outputs); i++)
    {
      g_autofree char *path = g_build_filename (self->folder, outputs[i], NULL);
      if (g_file_test (path, G_FILE_TEST_EXISTS))
        return TRUE;
    }
  return FALSE;
}

static void
export_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (SecateurExportPage) self = user_data;
  g_autoptr (GError) error = NULL;
  gboolean ok = secateur_controller_export_finish (SECATEUR_CONTROLLER (source), result, &error);
  g_clear_object (&self->cancellable);
  gtk_widget_set_visible (self->export_button, TRUE);
  gtk_widget_set_visible (self->cancel_button, FALSE);
  if (ok)
    {
      g_autofree char *text = g_strdup_printf (_ ("Exported to %s"), self->folder);
      gtk_label_set_text (GTK_LABEL (self->status), text);
      g_signal_emit (self, signals[SIGNAL_EXPORTED], 0, self->folder);
    }
  else
    {
      g_autofree char *text = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                                  ? g_strdup (_ ("Export cancelled; nothing was left half-written"))
                                  : g_strdup_printf (_ ("The export failed: %s"), error->message);
      gtk_label_set_text (GTK_LABEL (self->status), text);
      /* nothing was written: no bar left partly filled */
      gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), 0);
    }
}

static void
start_export (SecateurExportPage *self, gboolean overwrite)
{
  GStrvBuilder *b = g_strv_builder_new ();
  for (guint i = 0; i < self->pair_checks->len; i++)
    if (gtk_check_button_get_active (self->pair_checks->pdata[i]))
      g_strv_builder_add (b, g_object_get_data (self->pair_checks->pdata[i], "direction"));
  g_auto (GStrv) dirs = g_strv_builder_end (b);
  g_strv_builder_unref (b);
  self->cancellable = g_cancellable_new ();
  self->asked_folder = FALSE;
  gtk_widget_set_visible (self->export_button, FALSE);
  gtk_widget_set_visible (self->cancel_button, TRUE);
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), 0);
  gtk_label_set_text (GTK_LABEL (self->status), _ ("Exporting…"));
  guint choice = adw_combo_row_get_selected (ADW_COMBO_ROW (self->dtype_row));
  /* NULL: the controller's pruning settings */
  secateur_controller_export_async (self->controller, self->folder, (const char *const *) dirs,
                                    NULL, overwrite,
                                    dtypes[choice < G_N_ELEMENTS (dtypes) ? choice : 0],
                                    self->cancellable, export_done, g_object_ref (self));
}

static void
on_overwrite_response (AdwMessageDialog *dialog, const char *response, SecateurExportPage *self)
{
  if (g_str_equal (response, "replace"))
    start_export (self, TRUE);
  else
    gtk_label_set_text (GTK_LABEL (self->status), _ ("Nothing was exported"));
}

void
secateur_export_page_export (SecateurExportPage *self)
{
  if (self->cancellable != NULL)
    return;
  if (self->folder == NULL)
    {
      gtk_label_set_text (GTK_LABEL (self->status), _ ("Choose a folder first"));
      self->asked_folder = TRUE;
      return;
    }
  /* A folder no answer could make acceptable is refused before asking. */
  g_autoptr (GError) error = NULL;
  if (!secateur_controller_check_export (self->controller, self->folder, TRUE, &error))
    {
      g_autofree char *text = g_strdup_printf (_ ("Nothing was exported: %s"), error->message);
      gtk_label_set_text (GTK_LABEL (self->status), text);
      return;
    }
  if (!would_overwrite (self))
    {
      start_export (self, FALSE);
      return;
    }
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                              _ ("Replace the Existing Export?"), NULL);
  adw_message_dialog_format_body (ADW_MESSAGE_DIALOG (dialog),
                                  _ ("%s already holds an export. Replacing it deletes the "
                                     "model, index, statistics and report there."),
                                  self->folder);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _ ("_Cancel"), "replace",
                                    _ ("_Replace"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "replace",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect (dialog, "response", G_CALLBACK (on_overwrite_response), self);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_cancel (SecateurExportPage *self)
{
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

static void
folder_chosen (GtkNativeDialog *dialog, int response, SecateurExportPage *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      secateur_export_page_set_folder (self, path);
    }
  g_object_unref (dialog);
}

static void
on_choose_folder (SecateurExportPage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooserNative *dialog = gtk_file_chooser_native_new (
      _ ("Choose the Export Folder"), GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
      GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _ ("_Select"), _ ("_Cancel"));
  g_signal_connect (dialog, "response", G_CALLBACK (folder_chosen), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
on_progress (SecateurController *controller, int done, int total, double rate, double eta,
             SecateurExportPage *self)
{
  if (self->cancellable != NULL && total > 0)
    gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), (double) done / total);
}

/* The dtype choices with the size of the pruned model each gives, for the
 * checked pairs and the pruning settings (every NLLB weight is a float, so
 * the size scales with the dtype's width). */
static void
update_sizes (SecateurExportPage *self)
{
  const SecateurModelInfo *info = secateur_controller_get_info (self->controller);
  ScStats *stats = secateur_controller_get_stats (self->controller);
  GStrvBuilder *b = g_strv_builder_new ();
  for (guint i = 0; i < self->pair_checks->len; i++)
    if (gtk_check_button_get_active (self->pair_checks->pdata[i]))
      g_strv_builder_add (b, g_object_get_data (self->pair_checks->pdata[i], "direction"));
  g_auto (GStrv) dirs = g_strv_builder_end (b);
  g_strv_builder_unref (b);
  g_autofree guint8 *keep =
      stats != NULL && info != NULL && info->n_experts > 0 && dirs[0] != NULL
          ? sc_prune_keep_union (stats,
                                 secateur_prune_settings_peek (
                                     secateur_controller_get_prune_settings (self->controller)),
                                 (const char *const *) dirs, NULL)
          : NULL;
  ScDType stored = SC_DTYPE_F32;
  if (info == NULL || !sc_dtype_from_name (info->dtype, &stored))
    stored = SC_DTYPE_F32;
  guint64 bytes = keep != NULL ? secateur_controller_pruned_bytes (self->controller, keep) : 0;
  const char *labels[G_N_ELEMENTS (dtypes) + 1] = { NULL };
  /* freed one by one below: g_autofree on an array frees its first element only */
  char *texts[G_N_ELEMENTS (dtypes)] = { NULL };
  for (guint i = 0; i < G_N_ELEMENTS (dtypes); i++)
    {
      ScDType d = stored;
      if (dtypes[i] != NULL)
        sc_dtype_from_name (dtypes[i], &d);
      g_autofree char *size =
          bytes > 0 ? g_format_size (bytes / sc_dtype_size (stored) * sc_dtype_size (d))
                    : g_strdup (_ ("size known after calibration"));
      texts[i] = i == 0 ? g_strdup_printf (_ ("As stored (%s): %s"), sc_dtype_name (stored), size)
                 : d == SC_DTYPE_F16 ? g_strdup_printf (_ ("f16: %s"), size)
                                     : g_strdup_printf (_ ("bf16: %s"), size);
      labels[i] = texts[i];
    }
  guint selected = adw_combo_row_get_selected (ADW_COMBO_ROW (self->dtype_row));
  gtk_string_list_splice (self->dtype_labels, 0,
                          g_list_model_get_n_items (G_LIST_MODEL (self->dtype_labels)), labels);
  adw_combo_row_set_selected (ADW_COMBO_ROW (self->dtype_row),
                              selected < G_N_ELEMENTS (dtypes) ? selected : 0);
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    g_free (texts[i]);
}

static void
on_directions_changed (SecateurExportPage *self)
{
  for (guint i = 0; i < self->pair_checks->len; i++)
    adw_preferences_group_remove (
        ADW_PREFERENCES_GROUP (self->pairs_group),
        gtk_widget_get_ancestor (self->pair_checks->pdata[i], ADW_TYPE_ACTION_ROW));
  g_ptr_array_set_size (self->pair_checks, 0);
  const char *const *dirs = secateur_controller_get_directions (self->controller);
  for (guint i = 0; dirs != NULL && dirs[i] != NULL; i++)
    {
      GtkWidget *row = adw_action_row_new ();
      g_auto (GStrv) st = g_strsplit (dirs[i], "-", 2);
      /* names for people, the codes the export writes under them */
      g_autofree char *title = g_strdup_printf ("%s → %s", secateur_language_name (st[0]),
                                                st[1] ? secateur_language_name (st[1]) : "");
      g_autofree char *codes = g_strdup_printf ("%s → %s", st[0], st[1] ? st[1] : "");
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), codes);
      GtkWidget *check = gtk_check_button_new ();
      gtk_check_button_set_active (GTK_CHECK_BUTTON (check), TRUE);
      gtk_widget_set_valign (check, GTK_ALIGN_CENTER);
      g_object_set_data_full (G_OBJECT (check), "direction", g_strdup (dirs[i]), g_free);
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), check);
      adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), check);
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (self->pairs_group), row);
      g_ptr_array_add (self->pair_checks, check);
      g_signal_connect_swapped (check, "toggled", G_CALLBACK (update_sizes), self);
    }
  update_sizes (self);
}

static void
secateur_export_page_dispose (GObject *object)
{
  SecateurExportPage *self = SECATEUR_EXPORT_PAGE (object);
  if (self->controller != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->controller, self);
      g_signal_handlers_disconnect_by_data (
          secateur_controller_get_prune_settings (self->controller), self);
    }
  gtk_widget_dispose_template (GTK_WIDGET (self), SECATEUR_TYPE_EXPORT_PAGE);
  g_clear_object (&self->controller);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->folder, g_free);
  g_clear_pointer (&self->pair_checks, g_ptr_array_unref);
  G_OBJECT_CLASS (secateur_export_page_parent_class)->dispose (object);
}

static void
secateur_export_page_class_init (SecateurExportPageClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  G_OBJECT_CLASS (klass)->dispose = secateur_export_page_dispose;
  signals[SIGNAL_EXPORTED] = g_signal_new ("exported", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  gtk_widget_class_set_template_from_resource (
      widget_class, "/io/github/secateur/Secateur/secateur-export-page.ui");
  gtk_widget_class_bind_template_child (widget_class, SecateurExportPage, folder_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurExportPage, dtype_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurExportPage, dtype_labels);
  gtk_widget_class_bind_template_child (widget_class, SecateurExportPage, pairs_group);
  gtk_widget_class_bind_template_child (widget_class, SecateurExportPage, export_button);
  gtk_widget_class_bind_template_child (widget_class, SecateurExportPage, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, SecateurExportPage, progress);
  gtk_widget_class_bind_template_child (widget_class, SecateurExportPage, status);
  gtk_widget_class_bind_template_callback (widget_class, on_choose_folder);
  gtk_widget_class_bind_template_callback (widget_class, secateur_export_page_export);
  gtk_widget_class_bind_template_callback (widget_class, on_cancel);
}

static void
secateur_export_page_init (SecateurExportPage *self)
{
  self->pair_checks = g_ptr_array_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
}

/* One job at a time: while another page's job runs, the button is off
 * and says which job runs. */
static void
on_busy_changed (SecateurExportPage *self)
{
  const char *job = secateur_controller_get_job_name (self->controller);
  gboolean other = job != NULL && self->cancellable == NULL;
  g_autofree char *why = other ? g_strdup_printf (_ ("%s is running"), job) : NULL;
  gtk_widget_set_sensitive (self->export_button, !other);
  gtk_widget_set_tooltip_text (self->export_button, why);
}

GtkWidget *
secateur_export_page_new (SecateurController *controller)
{
  SecateurExportPage *self = g_object_new (SECATEUR_TYPE_EXPORT_PAGE, NULL);
  self->controller = g_object_ref (controller);
  g_signal_connect_swapped (controller, "notify::directions", G_CALLBACK (on_directions_changed),
                            self);
  g_signal_connect (controller, "progress", G_CALLBACK (on_progress), self);
  g_signal_connect_swapped (controller, "notify::busy", G_CALLBACK (on_busy_changed), self);
  /* a model loaded: its stored dtype */
  g_signal_connect_swapped (controller, "notify::model-dir", G_CALLBACK (update_sizes), self);
  /* the sizes follow the pruning settings */
  g_signal_connect_swapped (secateur_controller_get_prune_settings (controller), "changed",
                            G_CALLBACK (update_sizes), self);
  update_sizes (self);
  return GTK_WIDGET (self);
}

void
secateur_export_page_set_folder (SecateurExportPage *self, const char *folder)
{
  g_free (self->folder);
  self->folder = g_strdup (folder);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->folder_row),
                               folder ? folder : _ ("None chosen"));
  /* a folder is chosen now: the request for one is stale */
  if (self->asked_folder && folder != NULL)
    {
      gtk_label_set_text (GTK_LABEL (self->status), "");
      self->asked_folder = FALSE;
    }
}
