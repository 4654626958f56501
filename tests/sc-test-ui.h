/* sc-test-ui.h: helpers for the application's tests under Xvfb: run the
 * main loop until a condition holds, read widgets of a page's template,
 * save screenshots, start GTK for a test program. Each tests/test-ui*.c
 * program opens its own window (one GTK start and one model load each). */
#pragma once

#include "sc-test-util.h"
#include "secateur-window.h"

#include <adwaita.h>

/* One main-loop iteration that never blocks for good: with nothing to do
 * (no window left, no timer) a blocking one would wait forever. */
static inline void
sc_ui_iterate (void)
{
  if (!g_main_context_iteration (NULL, FALSE))
    g_usleep (2000);
}

/* Runs the main loop until cond (data) holds; FALSE after timeout_s. */
static inline gboolean
sc_ui_wait (gboolean (*cond) (gpointer data), gpointer data, double timeout_s)
{
  gint64 end = g_get_monotonic_time () + (gint64) (timeout_s * G_USEC_PER_SEC);
  while (!cond (data))
    {
      if (g_get_monotonic_time () > end)
        return FALSE;
      sc_ui_iterate ();
    }
  return TRUE;
}

/* Runs the main loop for `seconds`. */
static inline void
sc_ui_settle (double seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
  while (g_get_monotonic_time () < end)
    sc_ui_iterate ();
}

/* A widget of a page's template, by the id its .ui file gives it. */
static inline gpointer
sc_ui_child (gpointer page, const char *name)
{
  GObject *object = gtk_widget_get_template_child (GTK_WIDGET (page), G_OBJECT_TYPE (page), name);
  if (object == NULL)
    g_error ("%s has no template child %s", G_OBJECT_TYPE_NAME (page), name);
  return object;
}

/* The value a row of a page shows (its subtitle). */
static inline const char *
sc_ui_row_value (gpointer page, const char *row)
{
  return adw_action_row_get_subtitle (sc_ui_child (page, row));
}

static inline const char *
sc_ui_label_text (gpointer page, const char *label)
{
  return gtk_label_get_text (sc_ui_child (page, label));
}

/* The text of the item a combo row of a page shows. */
static inline const char *
sc_ui_selected_text (gpointer page, const char *row)
{
  return gtk_string_object_get_string (adw_combo_row_get_selected_item (sc_ui_child (page, row)));
}

static inline void
sc_ui_set_spin (gpointer page, const char *spin, double value)
{
  gtk_spin_button_set_value (sc_ui_child (page, spin), value);
}

/* `widget` as a PNG NAME.png in $SC_SCREENSHOT_DIR (else fallback_dir). */
static inline void
sc_ui_screenshot (GtkWidget *widget, const char *fallback_dir, const char *name)
{
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr (GskRenderNode) node = NULL;
  int w = 0, h = 0;
  sc_ui_settle (0.4); /* let the header's crossfades (title <-> view switcher) end */
  /* a frame must have been laid out and drawn; under load that takes a while */
  for (int tries = 0; node == NULL && tries < 50; tries++)
    {
      sc_ui_settle (0.2);
      w = gtk_widget_get_width (widget);
      h = gtk_widget_get_height (widget);
      GtkSnapshot *snapshot = gtk_snapshot_new ();
      gdk_paintable_snapshot (paintable, snapshot, w, h);
      node = gtk_snapshot_free_to_node (snapshot);
    }
  g_assert_nonnull (node);
  GskRenderer *renderer = gtk_native_get_renderer (GTK_NATIVE (widget));
  g_autoptr (GdkTexture) texture =
      gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, w, h));
  const char *dir = g_getenv ("SC_SCREENSHOT_DIR");
  g_autofree char *fallback = g_build_filename (fallback_dir, "screenshots", NULL);
  dir = dir ? dir : fallback;
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_autofree char *file = g_strconcat (name, ".png", NULL);
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("screenshot %s (%dx%d)", path, w, h);
}

static inline gboolean
sc_ui_model_open (gpointer window)
{
  return g_str_equal (secateur_window_get_state (window), "model");
}

static inline gboolean
sc_ui_controller_idle (gpointer window)
{
  return !secateur_controller_get_busy (secateur_window_get_controller (window));
}

/* The visible AdwMessageDialog, or NULL. */
static inline AdwMessageDialog *
sc_ui_find_dialog (void)
{
  GListModel *tops = gtk_window_get_toplevels ();
  for (guint i = 0; i < g_list_model_get_n_items (tops); i++)
    {
      g_autoptr (GObject) w = g_list_model_get_item (tops, i);
      if (ADW_IS_MESSAGE_DIALOG (w) && gtk_widget_get_visible (GTK_WIDGET (w)))
        return ADW_MESSAGE_DIALOG (w);
    }
  return NULL;
}

/* Answers the question that is up, whose heading must be `heading`, with
 * `response` (as its button would) and closes it. */
static inline void
sc_ui_answer (const char *heading, const char *response)
{
  AdwMessageDialog *dialog = sc_ui_find_dialog ();
  g_assert_nonnull (dialog);
  g_assert_cmpstr (adw_message_dialog_get_heading (dialog), ==, heading);
  g_test_message ("asked \"%s\": %s -> %s", heading, adw_message_dialog_get_body (dialog),
                  response);
  adw_message_dialog_response (dialog, response);
  gtk_window_destroy (GTK_WINDOW (dialog));
}

/* Xvfb has no session bus: GTK warns once that it cannot reach it. */
static inline gboolean
sc_ui_fatal_filter (const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
  return strstr (message, "session bus") == NULL;
}

/* The start of a UI test's main (): settings in memory, a throw-away data
 * folder (recent models, projects), GTest and GTK. Returns the temporary
 * folder (remove it with sc_test_rm_tree), or NULL without a display (the
 * caller then skips its tests). */
static inline char *
sc_ui_init (int *argc, char ***argv)
{
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_setenv ("GSK_RENDERER", "cairo", FALSE);
  /* no session bus under Xvfb: no accessibility bus either */
  g_setenv ("GTK_A11Y", "none", FALSE);
  g_autoptr (GError) error = NULL;
  char *tmp = g_dir_make_tmp ("secateur-ui-XXXXXX", &error);
  g_assert_no_error (error);
  /* recent models go to a throw-away data folder when no schema is found */
  g_setenv ("XDG_DATA_HOME", tmp, TRUE);
  g_test_init (argc, argv, NULL);
  g_test_log_set_fatal_handler (sc_ui_fatal_filter, NULL);
  if (!gtk_init_check ())
    {
      sc_test_rm_tree (tmp);
      g_free (tmp);
      return NULL;
    }
  adw_init ();
  return tmp;
}

/* A new window at 1280x800, presented, with the demo model opened (NULL,
 * test skipped, when the demo model is not shipped). The sweep and
 * comparisons use `sentences` held-out sentences per direction, outputs of
 * at most `max_length` tokens. */
static inline SecateurWindow *
sc_ui_open_demo (int sentences, int max_length)
{
  g_autofree char *demo = secateur_window_find_demo_model ();
  if (demo == NULL)
    {
      g_test_skip ("the demo model is not shipped (resources/models/demo)");
      return NULL;
    }
  SecateurWindow *window = g_object_new (SECATEUR_TYPE_WINDOW, NULL);
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 800);
  gtk_window_present (GTK_WINDOW (window));
  secateur_controller_set_eval_limits (secateur_window_get_controller (window), sentences,
                                       max_length);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.open-demo", NULL));
  g_assert_true (sc_ui_wait (sc_ui_model_open, window, 60));
  return window;
}
