/* secateur-export-page.c: the export page. */
#include "secateur-export-page.h"

#include "secateur-languages.h"

#include "sc-export-record.h"

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

  GtkWidget *ratio_row, *serves_row, *experts_row, *disk_row, *memory_row, *settings_row;
  GtkWidget *record_group, *record_folder_row, *record_serves_row, *record_experts_row;
  GtkWidget *record_size_row, *record_settings_row;

  GPtrArray *pair_checks; /* GtkCheckButton, data "direction" */
  gboolean asked_folder;  /* the status asks for a folder */
  GCancellable *cancellable;

  ScExportJobPlan *plan; /* what Export writes now; NULL: nothing to export yet */
  gboolean plan_stale;   /* the settings changed since `plan` */
  guint plan_source;     /* the pending recomputation */
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

/* The ticked directions. */
static GStrv
ticked_directions (SecateurExportPage *self)
{
  GStrvBuilder *b = g_strv_builder_new ();
  for (guint i = 0; i < self->pair_checks->len; i++)
    if (gtk_check_button_get_active (self->pair_checks->pdata[i]))
      g_strv_builder_add (b, g_object_get_data (self->pair_checks->pdata[i], "direction"));
  GStrv dirs = g_strv_builder_end (b);
  g_strv_builder_unref (b);
  return dirs;
}

/* The dtype row's choice (NULL: as stored). */
static const char *
chosen_dtype (SecateurExportPage *self)
{
  guint choice = adw_combo_row_get_selected (ADW_COMBO_ROW (self->dtype_row));
  return dtypes[choice < G_N_ELEMENTS (dtypes) ? choice : 0];
}

static void
set_value (GtkWidget *row, const char *text)
{
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), text);
}

/* "ratio 0.95, importance, per-layer, pair, 3:1", as the export's record
 * reads back (sc_export_record_settings_text), then the dtype. */
static char *
settings_text (const ScPruneSettings *s, ScDType dtype)
{
  return g_strdup_printf ("ratio %.2f, %s, %s, %s, %d:%d, %s", s->ratio,
                          sc_expert_metric_to_string (s->metric),
                          s->algo == SC_SELECT_PER_LAYER ? "per-layer" : "threshold",
                          s->granularity == SC_GRANULARITY_GLOBAL ? "global"
                          : s->granularity == SC_GRANULARITY_PAIR ? "pair"
                                                                  : "lang",
                          s->enc_weight, s->dec_weight, sc_dtype_name (dtype));
}

/* `bytes` in one unit for the page's figures: GB for models of a GB or
 * more, else MB. */
static char *
size_text (guint64 bytes, gboolean gb)
{
  return gb ? g_strdup_printf (_ ("%.2f GB"), bytes / 1e9)
            : g_strdup_printf (_ ("%.1f MB"), bytes / 1e6);
}

/* The preview of what Export writes, from the engine's plan of the export
 * itself (sc_export_job_plan): the same numbers the export then writes. */
static void
update_preview (SecateurExportPage *self)
{
  g_clear_handle_id (&self->plan_source, g_source_remove);
  self->plan_stale = FALSE;
  g_clear_pointer (&self->plan, sc_export_job_plan_free);
  const ScPruneSettings *s =
      secateur_prune_settings_peek (secateur_controller_get_prune_settings (self->controller));
  g_autofree char *ratio =
      g_strdup_printf (_ ("%.0f %% of experts removed — set on the Prune page"), 100 * s->ratio);
  set_value (self->ratio_row, ratio);
  if (s->ratio >= 0.75)
    gtk_widget_add_css_class (self->ratio_row, "warning");
  else
    gtk_widget_remove_css_class (self->ratio_row, "warning");

  g_auto (GStrv) dirs = ticked_directions (self);
  g_autoptr (GError) error = NULL;
  self->plan = secateur_controller_export_plan (self->controller, (const char *const *) dirs,
                                                chosen_dtype (self), &error);
  if (self->plan == NULL)
    {
      const char *why = error != NULL ? error->message : "";
      set_value (self->serves_row, why);
      set_value (self->experts_row, "—");
      set_value (self->disk_row, "—");
      set_value (self->memory_row, "—");
      set_value (self->settings_row, "—");
      return;
    }
  const ScExportJobPlan *p = self->plan;
  g_auto (GStrv) names = secateur_direction_names ((const char *const *) p->directions);
  g_autofree char *served = g_strjoinv (", ", names);
  set_value (self->serves_row, served);
  g_autofree char *experts =
      g_strdup_printf (_ ("%d of %d experts kept (%.1f %% pruned)"), p->kept, p->total,
                       p->total > 0 ? 100.0 * (p->total - p->kept) / p->total : 0.0);
  set_value (self->experts_row, experts);
  gboolean gb = p->bytes >= 1000000000;
  g_autofree char *all = size_text (p->bytes, gb);
  g_autofree char *model = size_text (p->model_bytes, gb);
  g_autofree char *rest = size_text (p->bytes - p->model_bytes, gb);
  g_autofree char *disk =
      g_strdup_printf (_ ("%s: model %s; index, statistics and report %s"), all, model, rest);
  set_value (self->disk_row, disk);
  g_autofree char *mem = size_text (p->memory_bytes, gb);
  g_autofree char *memory = g_strdup_printf (
      _ ("%s (weights in %s and one sentence's working memory)"), mem, sc_dtype_name (p->dtype));
  set_value (self->memory_row, memory);
  g_autofree char *how = settings_text (s, p->dtype);
  set_value (self->settings_row, how);
}

static gboolean
preview_timeout (gpointer data)
{
  SecateurExportPage *self = data;
  self->plan_source = 0;
  update_preview (self);
  return G_SOURCE_REMOVE;
}

/* The settings changed: the preview follows, computed once a burst of
 * changes (a slider drag, live statistics) settles, and only while the
 * page is shown. */
static void
queue_preview (SecateurExportPage *self)
{
  self->plan_stale = TRUE;
  if (self->plan_source == 0 && gtk_widget_get_mapped (GTK_WIDGET (self)))
    self->plan_source = g_timeout_add (200, preview_timeout, self);
}

static void
on_map (SecateurExportPage *self)
{
  if (self->plan_stale)
    update_preview (self);
}

const ScExportJobPlan *
secateur_export_page_get_plan (SecateurExportPage *self)
{
  if (self->plan_stale)
    update_preview (self);
  return self->plan;
}

/* The export's own record, read back from the folder written. */
static void
show_record (SecateurExportPage *self)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ScExportRecord) r = sc_export_record_load (self->folder, &error);
  gtk_widget_set_visible (self->record_group, TRUE);
  set_value (self->record_folder_row, r != NULL ? r->dir : self->folder);
  if (r == NULL)
    {
      set_value (self->record_serves_row, error->message);
      set_value (self->record_experts_row, "—");
      set_value (self->record_size_row, "—");
      set_value (self->record_settings_row, "—");
      return;
    }
  g_auto (GStrv) names =
      r->served ? secateur_direction_names ((const char *const *) r->served) : NULL;
  g_autofree char *served = names ? g_strjoinv (", ", names) : g_strdup (_ ("Not recorded"));
  set_value (self->record_serves_row, served);
  g_autofree char *experts =
      g_strdup_printf (_ ("%d of %d experts kept (%.1f %% pruned)"), r->kept, r->total,
                       r->total > 0 ? 100.0 * (r->total - r->kept) / r->total : 0.0);
  set_value (self->record_experts_row, experts);
  g_autofree char *size = size_text (r->bytes, r->bytes >= 1000000000);
  set_value (self->record_size_row, size);
  g_autofree char *how = sc_export_record_settings_text (r);
  g_autofree char *line = how != NULL ? g_strdup_printf ("%s, %s", how, r->dtype ? r->dtype : "?")
                                      : g_strdup (_ ("Not recorded"));
  set_value (self->record_settings_row, line);
}

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
      show_record (self);
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
  g_auto (GStrv) dirs = ticked_directions (self);
  self->cancellable = g_cancellable_new ();
  self->asked_folder = FALSE;
  gtk_widget_set_visible (self->export_button, FALSE);
  gtk_widget_set_visible (self->cancel_button, TRUE);
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), 0);
  gtk_label_set_text (GTK_LABEL (self->status), _ ("Exporting…"));
  /* NULL: the controller's pruning settings, as the preview's */
  secateur_controller_export_async (self->controller, self->folder, (const char *const *) dirs,
                                    NULL, overwrite, chosen_dtype (self), self->cancellable,
                                    export_done, g_object_ref (self));
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
  g_auto (GStrv) dirs = ticked_directions (self);
  queue_preview (self);
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
  g_clear_handle_id (&self->plan_source, g_source_remove);
  g_clear_pointer (&self->plan, sc_export_job_plan_free);
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
  gtk_widget_class_bind_template_child (widget_class, SecateurExportPage, ratio_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurExportPage, serves_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurExportPage, experts_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurExportPage, disk_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurExportPage, memory_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurExportPage, settings_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurExportPage, record_group);
  gtk_widget_class_bind_template_child (widget_class, SecateurExportPage, record_folder_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurExportPage, record_serves_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurExportPage, record_experts_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurExportPage, record_size_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurExportPage, record_settings_row);
  gtk_widget_class_bind_template_callback (widget_class, on_choose_folder);
  gtk_widget_class_bind_template_callback (widget_class, secateur_export_page_export);
  gtk_widget_class_bind_template_callback (widget_class, on_cancel);
}

static void
secateur_export_page_init (SecateurExportPage *self)
{
  self->pair_checks = g_ptr_array_new ();
  self->plan_stale = TRUE;
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect (self, "map", G_CALLBACK (on_map), NULL);
  g_signal_connect_swapped (self->dtype_row, "notify::selected", G_CALLBACK (queue_preview), self);
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
  /* the preview also follows the statistics and the sweep (the report) */
  g_signal_connect_swapped (controller, "stats-updated", G_CALLBACK (queue_preview), self);
  g_signal_connect_swapped (controller, "sweep-updated", G_CALLBACK (queue_preview), self);
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
