/* secateur-application.c: application actions and windows. */
#include "secateur-application.h"

#include "secateur-window.h"

#include <glib/gi18n.h>

#ifdef HAVE_SECATEUR_PREFERENCES
#include "secateur-preferences.h"
#endif
#ifdef HAVE_SECATEUR_ABOUT
#include "secateur-about.h"
#endif

struct _SecateurApplication
{
  AdwApplication parent_instance;
};

G_DEFINE_FINAL_TYPE (SecateurApplication, secateur_application, ADW_TYPE_APPLICATION)

static SecateurWindow *
get_window (SecateurApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));
  if (window == NULL || !SECATEUR_IS_WINDOW (window))
    window = GTK_WINDOW (secateur_window_new (GTK_APPLICATION (self)));
  return SECATEUR_WINDOW (window);
}

static void
secateur_application_activate (GApplication *app)
{
  gtk_window_present (GTK_WINDOW (get_window (SECATEUR_APPLICATION (app))));
}

static void
secateur_application_open (GApplication *app, GFile **files, int n_files, const char *hint)
{
  SecateurWindow *window = get_window (SECATEUR_APPLICATION (app));
  gtk_window_present (GTK_WINDOW (window));
  g_autofree char *path = n_files > 0 ? g_file_get_path (files[0]) : NULL;
  if (path != NULL)
    secateur_window_open_model (window, path);
}

static void
quit_action (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  /* Closing each window cancels its job and waits for the worker. */
  GList *windows = g_list_copy (gtk_application_get_windows (GTK_APPLICATION (user_data)));
  for (GList *l = windows; l != NULL; l = l->next)
    gtk_window_close (l->data);
  g_list_free (windows);
}

static void
preferences_action (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (user_data));
#ifdef HAVE_SECATEUR_PREFERENCES
  gtk_window_present (secateur_preferences_new (parent));
#else
  if (SECATEUR_IS_WINDOW (parent))
    secateur_window_add_toast (SECATEUR_WINDOW (parent), _ ("Preferences are not available"), NULL);
#endif
}

static void
about_action (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (user_data));
#ifdef HAVE_SECATEUR_ABOUT
  secateur_show_about (parent);
#else
  const char *developers[] = { "The Secateur authors", NULL };
  GtkWidget *about = adw_about_window_new ();
  g_object_set (about, "transient-for", parent, "application-name", _ ("Secateur"),
                "application-icon", "io.github.secateur.Secateur", "version", PACKAGE_VERSION,
                "license-type", GTK_LICENSE_GPL_3_0, "developers", developers, "comments",
                _ ("Prune multilingual translation models without leaving "
                   "languages behind"),
                NULL);
  gtk_window_present (GTK_WINDOW (about));
#endif
}

static const GActionEntry app_actions[] = {
  { "quit", quit_action },
  { "preferences", preferences_action },
  { "about", about_action },
};

static void
secateur_application_startup (GApplication *app)
{
  G_APPLICATION_CLASS (secateur_application_parent_class)->startup (app);
  g_action_map_add_action_entries (G_ACTION_MAP (app), app_actions, G_N_ELEMENTS (app_actions),
                                   app);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.quit",
                                         (const char *[]){ "<Control>q", NULL });
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.preferences",
                                         (const char *[]){ "<Control>comma", NULL });
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "win.open",
                                         (const char *[]){ "<Control>o", NULL });
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "window.close",
                                         (const char *[]){ "<Control>w", NULL });
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema =
      source ? g_settings_schema_source_lookup (source, "io.github.secateur.Secateur", TRUE) : NULL;
  if (schema != NULL)
    {
      g_autoptr (GSettings) settings = g_settings_new ("io.github.secateur.Secateur");
      g_autofree char *scheme = g_settings_get_string (settings, "color-scheme");
      AdwStyleManager *style = adw_style_manager_get_default ();
      adw_style_manager_set_color_scheme (
          style, g_str_equal (scheme, "dark")    ? ADW_COLOR_SCHEME_FORCE_DARK
                 : g_str_equal (scheme, "light") ? ADW_COLOR_SCHEME_FORCE_LIGHT
                                                 : ADW_COLOR_SCHEME_DEFAULT);
    }
}

static void
secateur_application_class_init (SecateurApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);
  app_class->activate = secateur_application_activate;
  app_class->open = secateur_application_open;
  app_class->startup = secateur_application_startup;
}

static void
secateur_application_init (SecateurApplication *self)
{
}

SecateurApplication *
secateur_application_new (void)
{
  return g_object_new (SECATEUR_TYPE_APPLICATION, "application-id", "io.github.secateur.Secateur",
                       "flags", G_APPLICATION_HANDLES_OPEN, "resource-base-path",
                       "/io/github/secateur/Secateur", NULL);
}
