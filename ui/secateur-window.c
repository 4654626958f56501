/* secateur-window.c: the main window. */
#include "secateur-window.h"

#include "sc-corpus.h"
#include "sc-json-file.h"
#include "sc-project.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#define MAX_RECENT 8

struct _SecateurWindow
{
  AdwApplicationWindow parent_instance;

  AdwToastOverlay *toast_overlay;
  AdwViewSwitcherTitle *switcher_title;
  GtkLabel *model_label;
  guint model_label_idle;
  char *last_toast; /* the title of the last toast shown */
  AdwViewSwitcherBar *switcher_bar;
  GtkSpinner *busy_spinner;
  GtkStack *main_stack;
  AdwStatusPage *welcome_page;
  GtkWidget *demo_button;
  GtkWidget *recent_label;
  GtkListBox *recent_list;
  AdwViewStack *view_stack;

  SecateurController *controller;
  GSettings *settings; /* NULL when the schema is not installed */
  GtkWidget *overview, *calibrate, *prune, *compare, *export, *weights;
  gboolean closing;
  GtkWidget *close_question; /* weak */
};

G_DEFINE_FINAL_TYPE (SecateurWindow, secateur_window, ADW_TYPE_APPLICATION_WINDOW)

char *
secateur_window_find_demo_model (void)
{
  return sc_corpus_find_data ("models/demo");
}

/* ---- recent models: GSettings when the schema is installed, else a
 * small file in the user data folder ---- */

static char *
recent_file (void)
{
  return g_build_filename (g_get_user_data_dir (), "secateur", "recent-models", NULL);
}

GStrv
secateur_window_get_recent (SecateurWindow *self)
{
  if (self->settings != NULL)
    return g_settings_get_strv (self->settings, "recent-models");
  g_autofree char *path = recent_file ();
  g_autofree char *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return g_new0 (char *, 1);
  g_strchomp (text);
  return text[0] ? g_strsplit (text, "\n", MAX_RECENT) : g_new0 (char *, 1);
}

static void
set_recent (SecateurWindow *self, const char *const *list)
{
  if (self->settings != NULL)
    {
      g_settings_set_strv (self->settings, "recent-models", list);
      return;
    }
  g_autofree char *path = recent_file ();
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *text = g_strjoinv ("\n", (char **) list);
  if (g_mkdir_with_parents (dir, 0700) == 0)
    g_file_set_contents (path, text, -1, NULL);
}

static void
on_recent_activated (GtkListBox *list, GtkListBoxRow *row, SecateurWindow *self)
{
  const char *dir = g_object_get_data (G_OBJECT (row), "dir");
  if (dir != NULL)
    secateur_window_open_model (self, dir);
}

/* A project is listed by its model's name ("demo — project"). */
static char *
recent_title (const char *dir, const char *name)
{
  if (!g_str_has_suffix (name, SC_PROJECT_SUFFIX) || !sc_project_is_project (dir))
    return g_strdup (name);
  g_autofree char *file = g_build_filename (dir, SC_PROJECT_FILE, NULL);
  g_autoptr (JsonNode) doc = sc_json_file_load (file, SC_JSON_CONFIG_MAX_BYTES, NULL);
  JsonObject *root = doc && JSON_NODE_HOLDS_OBJECT (doc) ? json_node_get_object (doc) : NULL;
  JsonNode *model = root ? json_object_get_member (root, "model") : NULL;
  JsonObject *m = model && JSON_NODE_HOLDS_OBJECT (model) ? json_node_get_object (model) : NULL;
  const char *model_name = m ? json_object_get_string_member_with_default (m, "name", NULL) : NULL;
  /* TRANSLATORS: a recent project on the welcome page, by its model's name */
  return g_strdup_printf (_ ("%s — project"), model_name ? model_name : name);
}

static void
fill_recent (SecateurWindow *self)
{
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->recent_list))) != NULL)
    gtk_list_box_remove (self->recent_list, child);
  g_auto (GStrv) recent = secateur_window_get_recent (self);
  guint n = 0;
  for (guint i = 0; recent[i] != NULL; i++)
    {
      if (!g_file_test (recent[i], G_FILE_TEST_IS_DIR))
        continue;
      GtkWidget *row = adw_action_row_new ();
      g_autofree char *name = g_path_get_basename (recent[i]);
      g_autofree char *title = recent_title (recent[i], name);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), recent[i]);
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                                 gtk_image_new_from_icon_name ("go-next-symbolic"));
      g_object_set_data_full (G_OBJECT (row), "dir", g_strdup (recent[i]), g_free);
      gtk_list_box_append (self->recent_list, row);
      n++;
    }
  gtk_widget_set_visible (GTK_WIDGET (self->recent_list), n > 0);
  gtk_widget_set_visible (self->recent_label, n > 0);
}

static void
remember (SecateurWindow *self, const char *dir)
{
  g_auto (GStrv) old = secateur_window_get_recent (self);
  GStrvBuilder *b = g_strv_builder_new ();
  g_strv_builder_add (b, dir);
  for (guint i = 0, n = 1; old[i] != NULL && n < MAX_RECENT; i++)
    if (!g_str_equal (old[i], dir))
      {
        g_strv_builder_add (b, old[i]);
        n++;
      }
  g_auto (GStrv) list = g_strv_builder_end (b);
  g_strv_builder_unref (b);
  set_recent (self, (const char *const *) list);
  fill_recent (self);
}

/* ---- toasts ---- */

static void
show_toast (SecateurWindow *self, AdwToast *toast)
{
  g_free (self->last_toast);
  self->last_toast = g_strdup (adw_toast_get_title (toast));
  adw_toast_set_timeout (toast, 8);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

void
secateur_window_add_toast (SecateurWindow *self, const char *title, const char *folder)
{
  AdwToast *toast = adw_toast_new (title);
  if (folder != NULL)
    {
      adw_toast_set_button_label (toast, _ ("Open Folder"));
      adw_toast_set_action_name (toast, "win.open-folder");
      adw_toast_set_action_target_value (toast, g_variant_new_string (folder));
    }
  show_toast (self, toast);
}

const char *
secateur_window_get_last_toast (SecateurWindow *self)
{
  return self->last_toast;
}

static gboolean
update_model_label (gpointer data)
{
  SecateurWindow *self = data;
  gboolean open = secateur_controller_get_info (self->controller) != NULL;
  gboolean narrow = adw_view_switcher_title_get_title_visible (self->switcher_title);
  self->model_label_idle = 0;
  gtk_widget_set_visible (GTK_WIDGET (self->model_label), open && !narrow);
  return G_SOURCE_REMOVE;
}

/* The bottom bar carries the page tabs when the header is too narrow for
 * them, and only once a model is open. */
static void
update_switcher_bar (SecateurWindow *self)
{
  gboolean open = secateur_controller_get_info (self->controller) != NULL;
  adw_view_switcher_title_set_view_switcher_enabled (self->switcher_title, open);
  gboolean narrow = adw_view_switcher_title_get_title_visible (self->switcher_title);
  adw_view_switcher_bar_set_reveal (self->switcher_bar, open && narrow);
  /* wide: the tabs take the title's place, so the model's name moves beside
   * them; title-visible changes during the header's allocation, so the
   * label is shown or hidden after it */
  if (self->model_label_idle == 0)
    self->model_label_idle = g_idle_add_full (G_PRIORITY_DEFAULT, update_model_label,
                                              g_object_ref (self), g_object_unref);
}

/* ---- opening models ---- */

/* bench/startup: with SECATEUR_QUIT_WHEN_READY set, the first frame painted
 * with an opened model prints "ready" and quits, so that a driver can time
 * start-up from exec to a usable window. */
static void
on_ready_painted (GdkFrameClock *clock, SecateurWindow *self)
{
  g_signal_handlers_disconnect_by_func (clock, on_ready_painted, self);
  printf ("ready\n");
  fflush (stdout);
  g_application_quit (g_application_get_default ());
}

static void
quit_when_painted (SecateurWindow *self)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (self));
  if (g_getenv ("SECATEUR_QUIT_WHEN_READY") == NULL || clock == NULL)
    return;
  g_signal_connect (clock, "after-paint", G_CALLBACK (on_ready_painted), self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* The preferences' backend and threads apply to models opened from now on. */
static void
on_device_changed (SecateurWindow *self)
{
  g_autofree char *device = g_settings_get_string (self->settings, "backend");
  secateur_controller_set_device (self->controller, device);
  secateur_controller_set_threads (self->controller,
                                   g_settings_get_int (self->settings, "threads"));
  /* the open model keeps running where it was loaded: say so, and offer
   * to load it again (its finished work is in its project) */
  if (secateur_controller_get_info (self->controller) != NULL)
    {
      AdwToast *toast = adw_toast_new (_ ("The new backend and threads apply to models opened "
                                          "from now on"));
      adw_toast_set_button_label (toast, _ ("Reopen Model"));
      adw_toast_set_action_name (toast, "win.reopen");
      show_toast (self, toast);
    }
}

static void
reopen_action (GtkWidget *widget, const char *action, GVariant *param)
{
  SecateurWindow *self = SECATEUR_WINDOW (widget);
  const SecateurModelInfo *info = secateur_controller_get_info (self->controller);
  if (info != NULL)
    {
      g_autofree char *dir = g_strdup (info->dir);
      secateur_window_open_model (self, dir);
    }
}

static void
load_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (SecateurWindow) self = user_data;
  g_autoptr (GError) error = NULL;
  if (!secateur_controller_load_finish (SECATEUR_CONTROLLER (source), result, &error))
    {
      /* keep a model that was open before */
      gtk_stack_set_visible_child_name (
          self->main_stack, secateur_controller_get_info (self->controller) ? "model" : "welcome");
      /* a dialog, not a toast: the engine's reason is often too long for one */
      GtkWidget *dialog =
          adw_message_dialog_new (GTK_WINDOW (self), _ ("Could Not Open the Model"), NULL);
      adw_message_dialog_set_body (ADW_MESSAGE_DIALOG (dialog), error->message);
      adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _ ("_Close"));
      adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "close");
      adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "close");
      gtk_window_present (GTK_WINDOW (dialog));
      return;
    }
  const SecateurModelInfo *info = secateur_controller_get_info (self->controller);
  /* the project when there is one: reopening it restores the work */
  const char *project = secateur_controller_get_project_dir (self->controller);
  remember (self, project ? project : info->dir);
  adw_view_switcher_title_set_subtitle (self->switcher_title, info->name);
  gtk_label_set_text (self->model_label, info->name);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->model_label), info->dir);
  update_switcher_bar (self);
  gtk_stack_set_visible_child_name (self->main_stack, "model");
  adw_view_stack_set_visible_child_name (self->view_stack, "model");
  if (info->backend_note != NULL)
    secateur_window_add_toast (self, info->backend_note, NULL);
  if (secateur_controller_get_project_note (self->controller) != NULL)
    secateur_window_add_toast (self, secateur_controller_get_project_note (self->controller), NULL);
  quit_when_painted (self);
}

static void
load (SecateurWindow *self, const char *dir)
{
  gtk_stack_set_visible_child_name (self->main_stack, "loading");
  secateur_controller_load_async (self->controller, dir, NULL, load_done, g_object_ref (self));
}

/* An AdwMessageDialog asking before work is lost: `yes` (destructive)
 * or "cancel"; `then` runs on `yes`. */
static GtkWidget *
ask (SecateurWindow *self, const char *heading, const char *body, const char *yes_label,
     GCallback then, gpointer data, GDestroyNotify free_data)
{
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (self), heading, body);
  AdwMessageDialog *d = ADW_MESSAGE_DIALOG (dialog);
  adw_message_dialog_add_responses (d, "cancel", _ ("_Cancel"), "yes", yes_label, NULL);
  adw_message_dialog_set_response_appearance (d, "yes", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (d, "cancel");
  adw_message_dialog_set_close_response (d, "cancel");
  g_signal_connect_data (dialog, "response::yes", then, data,
                         (GClosureNotify) (void (*) (void)) free_data, 0);
  gtk_window_present (GTK_WINDOW (dialog));
  return dialog;
}

typedef struct
{
  SecateurWindow *self;
  char *dir;
} OpenRequest;

static void
open_request_free (gpointer data)
{
  OpenRequest *r = data;
  g_object_unref (r->self);
  g_free (r->dir);
  g_free (r);
}

static void open_when_idle (SecateurController *controller, GParamSpec *pspec, OpenRequest *r);

/* Confirmed: stop the job, then open once the worker has stopped. */
static void
open_confirmed (AdwMessageDialog *dialog, const char *response, OpenRequest *r)
{
  SecateurWindow *self = r->self;
  if (!secateur_controller_get_busy (self->controller))
    {
      load (self, r->dir);
      return;
    }
  OpenRequest *later = g_new0 (OpenRequest, 1);
  later->self = g_object_ref (self);
  later->dir = g_strdup (r->dir);
  g_signal_connect_data (self->controller, "notify::busy", G_CALLBACK (open_when_idle), later,
                         (GClosureNotify) (void (*) (void)) open_request_free, 0);
  secateur_controller_cancel (self->controller);
}

static void
open_when_idle (SecateurController *controller, GParamSpec *pspec, OpenRequest *r)
{
  if (secateur_controller_get_busy (controller))
    return;
  g_autoptr (SecateurWindow) self = g_object_ref (r->self);
  g_autofree char *dir = g_strdup (r->dir);
  g_signal_handlers_disconnect_by_func (controller, open_when_idle, r); /* frees r */
  load (self, dir);
}

/* What opening another model loses, or NULL when nothing: a running
 * job's partial results, and the statistics and quality curve, which are
 * only in memory. */
static char *
work_at_risk (SecateurWindow *self)
{
  const char *job = secateur_controller_get_job_name (self->controller);
  ScStats *stats = secateur_controller_get_stats (self->controller);
  int n = 0;
  const double *r, *c;
  gboolean curve = secateur_controller_get_sweep (self->controller, &n, &r, &c);
  if (job != NULL)
    return g_strdup_printf (_ ("%s is running: it will be stopped and its partial results are "
                               "lost."),
                            job);
  /* finished work is saved in the model's project as it ends */
  if (stats != NULL && secateur_controller_get_project_dir (self->controller) == NULL)
    return g_strdup (curve ? _ ("The statistics and the quality curve of the open model are not "
                                "kept.")
                           : _ ("The statistics of the open model are not kept."));
  return NULL;
}

void
secateur_window_open_model (SecateurWindow *self, const char *dir)
{
  g_autofree char *lost = work_at_risk (self);
  if (lost == NULL)
    {
      load (self, dir);
      return;
    }
  OpenRequest *r = g_new0 (OpenRequest, 1);
  r->self = g_object_ref (self);
  r->dir = g_strdup (dir);
  ask (self, _ ("Open Another Model?"), lost, _ ("_Open"), G_CALLBACK (open_confirmed), r,
       open_request_free);
}

static void
open_demo (GtkWidget *widget, const char *action, GVariant *param)
{
  SecateurWindow *self = SECATEUR_WINDOW (widget);
  g_autofree char *dir = secateur_window_find_demo_model ();
  if (dir == NULL)
    secateur_window_add_toast (self, _ ("The demo model is not installed"), NULL);
  else
    secateur_window_open_model (self, dir);
}

static void
folder_chosen (GtkNativeDialog *dialog, int response, SecateurWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      if (path != NULL)
        secateur_window_open_model (self, path);
    }
  g_object_unref (dialog);
}

static void
open_folder_dialog (GtkWidget *widget, const char *action, GVariant *param)
{
  GtkFileChooserNative *dialog = gtk_file_chooser_native_new (
      _ ("Open a Model or Project Folder"), GTK_WINDOW (widget),
      GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _ ("_Open"), _ ("_Cancel"));
  g_signal_connect (dialog, "response", G_CALLBACK (folder_chosen), widget);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
show_folder (GtkWidget *widget, const char *action, GVariant *param)
{
  g_autoptr (GFile) file = g_file_new_for_path (g_variant_get_string (param, NULL));
  g_autofree char *uri = g_file_get_uri (file);
  /* gtk_file_launcher is GTK 4.10; 4.8 has gtk_show_uri */
  gtk_show_uri (GTK_WINDOW (widget), uri, GDK_CURRENT_TIME);
}

static void
show_page_action (GtkWidget *widget, const char *action, GVariant *param)
{
  secateur_window_show_page (SECATEUR_WINDOW (widget), g_variant_get_string (param, NULL));
}

static void
cancel_action (GtkWidget *widget, const char *action, GVariant *param)
{
  SecateurWindow *self = SECATEUR_WINDOW (widget);
  /* the sweep's Cancel asks first, Escape too */
  if (secateur_prune_page_is_measuring (SECATEUR_PRUNE_PAGE (self->prune)))
    secateur_prune_page_cancel_quality (SECATEUR_PRUNE_PAGE (self->prune));
  else
    secateur_controller_cancel (self->controller);
}

/* win.calibrate, win.compare and win.export (Ctrl+R, Ctrl+T, Ctrl+E): show
 * the page and start its job, as its own button would. */
static void
job_action (GtkWidget *widget, const char *action, GVariant *param)
{
  SecateurWindow *self = SECATEUR_WINDOW (widget);
  if (secateur_controller_get_info (self->controller) == NULL)
    {
      secateur_window_add_toast (self, _ ("Open a model first"), NULL);
      return;
    }
  if (secateur_controller_get_busy (self->controller))
    {
      /* one job at a time: say which runs */
      g_autofree char *why = g_strdup_printf (
          _ ("%s is running"), secateur_controller_get_job_name (self->controller));
      secateur_window_add_toast (self, why, NULL);
      return;
    }
  const char *page = action + strlen ("win.");
  secateur_window_show_page (self, page);
  if (g_str_equal (page, "calibrate"))
    secateur_calibrate_page_start (SECATEUR_CALIBRATE_PAGE (self->calibrate));
  else if (g_str_equal (page, "compare"))
    secateur_compare_page_run (SECATEUR_COMPARE_PAGE (self->compare));
  else
    secateur_export_page_export (SECATEUR_EXPORT_PAGE (self->export));
}

/* Ctrl+Z / Ctrl+Shift+Z: the pruning settings' history. */
static void
undo_action (GtkWidget *widget, const char *action, GVariant *param)
{
  SecateurPruneSettings *settings =
      secateur_controller_get_prune_settings (SECATEUR_WINDOW (widget)->controller);
  if (g_str_equal (action, "win.undo"))
    secateur_prune_settings_undo (settings);
  else
    secateur_prune_settings_redo (settings);
}

static gboolean
on_drop (GtkDropTarget *target, const GValue *value, double x, double y, SecateurWindow *self)
{
  if (!G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    return FALSE;
  GSList *files = g_value_get_boxed (value);
  if (files == NULL)
    return FALSE;
  g_autofree char *path = g_file_get_path (files->data);
  if (path == NULL || !g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      secateur_window_add_toast (self, _ ("Drop a model folder to open it"), NULL);
      return FALSE;
    }
  secateur_window_open_model (self, path);
  return TRUE;
}

/* ---- pages ---- */

static void
on_calibrated (SecateurCalibratePage *page, gboolean ok, SecateurWindow *self)
{
  /* The quality curve follows every completed calibration. */
  if (ok && !self->closing)
    secateur_prune_page_measure_quality (SECATEUR_PRUNE_PAGE (self->prune));
}

static void
on_exported (SecateurExportPage *page, const char *folder, SecateurWindow *self)
{
  secateur_window_add_toast (self, _ ("Export finished"), folder);
}

static void
on_busy_changed (SecateurWindow *self)
{
  gboolean busy = secateur_controller_get_busy (self->controller);
  gtk_spinner_set_spinning (self->busy_spinner, busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.open", !busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.open-demo", !busy);
  if (!busy && self->closing)
    gtk_window_destroy (GTK_WINDOW (self));
}

/* The Export page follows the preference's folder, also when it changes;
 * empty: none chosen, as the preferences say. */
static void
on_export_folder_changed (SecateurWindow *self)
{
  g_autofree char *folder = g_settings_get_string (self->settings, "default-export-folder");
  secateur_export_page_set_folder (SECATEUR_EXPORT_PAGE (self->export),
                                   folder[0] != '\0' ? folder : NULL);
}

static void
on_gpu_memory_changed (SecateurWindow *self)
{
  secateur_prune_page_set_gpu_memory (SECATEUR_PRUNE_PAGE (self->prune),
                                      g_settings_get_double (self->settings, "gpu-memory-gb"));
}

void
secateur_window_show_page (SecateurWindow *self, const char *name)
{
  if (secateur_controller_get_info (self->controller) != NULL)
    adw_view_stack_set_visible_child_name (self->view_stack, name);
}

GtkWidget *
secateur_window_get_page (SecateurWindow *self, const char *name)
{
  return adw_view_stack_get_child_by_name (self->view_stack, name);
}

const char *
secateur_window_get_visible_page (SecateurWindow *self)
{
  return adw_view_stack_get_visible_child_name (self->view_stack);
}

SecateurController *
secateur_window_get_controller (SecateurWindow *self)
{
  return self->controller;
}

const char *
secateur_window_get_state (SecateurWindow *self)
{
  return gtk_stack_get_visible_child_name (self->main_stack);
}

/* ---- lifetime ---- */

/* Cancel the job and go when the worker has stopped: the engine never
 * leaves half-written files, and the model outlives its job. */
static void
close_confirmed (AdwMessageDialog *dialog, const char *response, SecateurWindow *self)
{
  if (!secateur_controller_get_busy (self->controller))
    {
      gtk_window_destroy (GTK_WINDOW (self));
      return;
    }
  self->closing = TRUE;
  secateur_controller_cancel (self->controller);
  gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
}

static gboolean
secateur_window_close_request (GtkWindow *window)
{
  SecateurWindow *self = SECATEUR_WINDOW (window);
  if (self->settings != NULL && !self->closing)
    {
      int w, h;
      gtk_window_get_default_size (window, &w, &h);
      g_settings_set_int (self->settings, "window-width", MAX (w, 360));
      g_settings_set_int (self->settings, "window-height", MAX (h, 294));
      g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (window));
    }
  if (secateur_controller_get_busy (self->controller) && !self->closing)
    {
      if (self->close_question == NULL)
        {
          g_autofree char *body = g_strdup_printf (
              _ ("%s is running: it will be stopped and its partial results are lost."),
              secateur_controller_get_job_name (self->controller));
          self->close_question = ask (self, _ ("Stop and Close?"), body, _ ("_Stop and Close"),
                                      G_CALLBACK (close_confirmed), self, NULL);
          g_object_add_weak_pointer (G_OBJECT (self->close_question),
                                     (gpointer *) &self->close_question);
        }
      return TRUE;
    }
  if (self->closing)
    return TRUE;
  return GTK_WINDOW_CLASS (secateur_window_parent_class)->close_request (window);
}

static void
secateur_window_dispose (GObject *object)
{
  SecateurWindow *self = SECATEUR_WINDOW (object);
  if (self->controller != NULL)
    g_signal_handlers_disconnect_by_data (self->controller, self);
  g_clear_handle_id (&self->model_label_idle, g_source_remove);
  if (self->close_question != NULL)
    {
      GtkWidget *question = self->close_question;
      g_object_remove_weak_pointer (G_OBJECT (question), (gpointer *) &self->close_question);
      self->close_question = NULL;
      gtk_window_destroy (GTK_WINDOW (question));
    }
  gtk_widget_dispose_template (GTK_WIDGET (self), SECATEUR_TYPE_WINDOW);
  G_OBJECT_CLASS (secateur_window_parent_class)->dispose (object);
}

static void
secateur_window_finalize (GObject *object)
{
  SecateurWindow *self = SECATEUR_WINDOW (object);
  g_clear_object (&self->controller);
  g_clear_object (&self->settings);
  g_free (self->last_toast);
  G_OBJECT_CLASS (secateur_window_parent_class)->finalize (object);
}

static void
secateur_window_class_init (SecateurWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->dispose = secateur_window_dispose;
  object_class->finalize = secateur_window_finalize;
  GTK_WINDOW_CLASS (klass)->close_request = secateur_window_close_request;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/secateur/Secateur/secateur-window.ui");
  gtk_widget_class_bind_template_child (widget_class, SecateurWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, SecateurWindow, switcher_title);
  gtk_widget_class_bind_template_child (widget_class, SecateurWindow, model_label);
  gtk_widget_class_bind_template_child (widget_class, SecateurWindow, switcher_bar);
  gtk_widget_class_bind_template_child (widget_class, SecateurWindow, busy_spinner);
  gtk_widget_class_bind_template_child (widget_class, SecateurWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, SecateurWindow, welcome_page);
  gtk_widget_class_bind_template_child (widget_class, SecateurWindow, demo_button);
  gtk_widget_class_bind_template_child (widget_class, SecateurWindow, recent_label);
  gtk_widget_class_bind_template_child (widget_class, SecateurWindow, recent_list);
  gtk_widget_class_bind_template_child (widget_class, SecateurWindow, view_stack);
  gtk_widget_class_bind_template_callback (widget_class, on_recent_activated);

  gtk_widget_class_install_action (widget_class, "win.open", NULL, open_folder_dialog);
  gtk_widget_class_install_action (widget_class, "win.open-demo", NULL, open_demo);
  gtk_widget_class_install_action (widget_class, "win.reopen", NULL, reopen_action);
  gtk_widget_class_install_action (widget_class, "win.open-folder", "s", show_folder);
  gtk_widget_class_install_action (widget_class, "win.show-page", "s", show_page_action);
  gtk_widget_class_install_action (widget_class, "win.cancel", NULL, cancel_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_o, GDK_CONTROL_MASK, "win.open", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_d, GDK_CONTROL_MASK, "win.open-demo",
                                       NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "win.cancel", NULL);
  gtk_widget_class_install_action (widget_class, "win.undo", NULL, undo_action);
  gtk_widget_class_install_action (widget_class, "win.redo", NULL, undo_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_z, GDK_CONTROL_MASK, "win.undo", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_z, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "win.redo", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Z, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "win.redo", NULL);
  static const struct
  {
    const char *action;
    guint key;
  } jobs[] = { { "win.calibrate", GDK_KEY_r },
               { "win.compare", GDK_KEY_t },
               { "win.export", GDK_KEY_e } };
  for (guint i = 0; i < G_N_ELEMENTS (jobs); i++)
    {
      gtk_widget_class_install_action (widget_class, jobs[i].action, NULL, job_action);
      gtk_widget_class_add_binding_action (widget_class, jobs[i].key, GDK_CONTROL_MASK,
                                           jobs[i].action, NULL);
    }
  static const char *const pages[] = {
    "model", "calibrate", "prune", "compare", "export", "weights"
  };
  for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
    gtk_widget_class_add_binding_action (widget_class, GDK_KEY_1 + i, GDK_ALT_MASK, "win.show-page",
                                         "s", pages[i]);
}

static void
add_page (SecateurWindow *self, GtkWidget *page, const char *name, const char *title,
          const char *icon)
{
  adw_view_stack_add_titled_with_icon (self->view_stack, page, name, title, icon);
}

static void
secateur_window_init (SecateurWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  /* the application icon from the resources, also when run without the
   * GtkApplication that would add it (tests) */
  gtk_icon_theme_add_resource_path (gtk_icon_theme_get_for_display (gdk_display_get_default ()),
                                    "/io/github/secateur/Secateur/icons");
  /* page tabs appear once a model is open */
  adw_view_switcher_title_set_view_switcher_enabled (self->switcher_title, FALSE);
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema =
      source ? g_settings_schema_source_lookup (source, "io.github.secateur.Secateur", TRUE) : NULL;
  if (schema != NULL)
    {
      self->settings = g_settings_new ("io.github.secateur.Secateur");
      gtk_window_set_default_size (GTK_WINDOW (self),
                                   g_settings_get_int (self->settings, "window-width"),
                                   g_settings_get_int (self->settings, "window-height"));
      if (g_settings_get_boolean (self->settings, "window-maximized"))
        gtk_window_maximize (GTK_WINDOW (self));
    }

  self->controller = secateur_controller_new ();
  g_signal_connect_swapped (self->switcher_title, "notify::title-visible",
                            G_CALLBACK (update_switcher_bar), self);
  self->overview = secateur_overview_page_new (self->controller);
  self->calibrate = secateur_calibrate_page_new (self->controller);
  self->prune = secateur_prune_page_new (self->controller);
  self->compare = secateur_compare_page_new (self->controller);
  self->export = secateur_export_page_new (self->controller);
  self->weights = secateur_weights_page_new (self->controller);
  add_page (self, self->overview, "model", _ ("Model"), "dialog-information-symbolic");
  add_page (self, self->calibrate, "calibrate", _ ("Calibrate"), "view-grid-symbolic");
  add_page (self, self->prune, "prune", _ ("Prune"), "edit-cut-symbolic");
  add_page (self, self->compare, "compare", _ ("Compare"), "view-dual-symbolic");
  add_page (self, self->export, "export", _ ("Export"), "document-save-symbolic");
  /* the second mode: single weights instead of whole experts */
  add_page (self, self->weights, "weights", _ ("Weights"), "view-app-grid-symbolic");
  g_signal_connect (self->calibrate, "finished", G_CALLBACK (on_calibrated), self);
  g_signal_connect (self->export, "exported", G_CALLBACK (on_exported), self);
  g_signal_connect_swapped (self->controller, "notify::busy", G_CALLBACK (on_busy_changed), self);
  if (self->settings != NULL)
    {
      g_signal_connect_swapped (self->settings, "changed::gpu-memory-gb",
                                G_CALLBACK (on_gpu_memory_changed), self);
      secateur_prune_page_set_gpu_memory (SECATEUR_PRUNE_PAGE (self->prune),
                                          g_settings_get_double (self->settings, "gpu-memory-gb"));
      g_signal_connect_swapped (self->settings, "changed::threads", G_CALLBACK (on_device_changed),
                                self);
      g_signal_connect_swapped (self->settings, "changed::backend", G_CALLBACK (on_device_changed),
                                self);
      on_device_changed (self);
      secateur_calibrate_page_set_size (SECATEUR_CALIBRATE_PAGE (self->calibrate),
                                        g_settings_get_int (self->settings, "calibration-size"));
      g_signal_connect_swapped (self->settings, "changed::default-export-folder",
                                G_CALLBACK (on_export_folder_changed), self);
      on_export_folder_changed (self);
    }

  /* a model's work is kept in its project in the user data folder */
  g_autofree char *projects = secateur_controller_default_project_root ();
  secateur_controller_set_project_root (self->controller, projects);

  g_autofree char *demo = secateur_window_find_demo_model ();
  gtk_widget_set_visible (self->demo_button, demo != NULL);
  fill_recent (self);

  GtkDropTarget *drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect (drop, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));
}

SecateurWindow *
secateur_window_new (GtkApplication *application)
{
  return g_object_new (SECATEUR_TYPE_WINDOW, "application", application, NULL);
}
