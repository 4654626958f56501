/* test-preferences.c: the Preferences window writes and follows GSettings,
 * the style follows the colour-scheme key, the About window carries the
 * build's version and licence, the shortcuts window lists the application's
 * accelerators, and the French catalogue reaches the widgets. Needs a
 * display (the UI tests run under Xvfb); skipped without one. */
#include "secateur-about.h"
#include "secateur-config.h"
#include "secateur-preferences.h"

#include <glib/gi18n.h>
#define G_SETTINGS_ENABLE_BACKEND
#include <gio/gsettingsbackend.h>
#include <locale.h>

static GSettingsSchema *schema;

/* A fresh settings object on a memory backend: tests never touch dconf. */
static GSettings *
new_settings (void)
{
  g_autoptr (GSettingsBackend) backend = g_memory_settings_backend_new ();
  return g_settings_new_full (schema, backend, NULL);
}

static GtkWidget *
find_by_id (GtkWidget *root, const char *id)
{
  const char *bid = gtk_buildable_get_buildable_id (GTK_BUILDABLE (root));
  if (bid != NULL && g_str_equal (bid, id))
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_by_id (c, id);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static GtkWidget *
child (GtkWindow *window, const char *id)
{
  GtkWidget *w = find_by_id (GTK_WIDGET (window), id);
  g_assert_nonnull (w);
  return w;
}

static void
flush (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
test_backend (void)
{
  g_autoptr (GSettings) settings = new_settings ();
  GtkWindow *win = secateur_preferences_new_with_settings (NULL, settings);
  AdwComboRow *row = ADW_COMBO_ROW (child (win, "backend_row"));

  g_assert_cmpuint (adw_combo_row_get_selected (row), ==, 0); /* 'auto' */
  g_settings_set_string (settings, "backend", "cpu");
  g_assert_cmpuint (adw_combo_row_get_selected (row), ==, 1);
  adw_combo_row_set_selected (row, 2);
  g_autofree char *backend = g_settings_get_string (settings, "backend");
  g_assert_cmpstr (backend, ==, "cuda");
  /* This build says whether CUDA can be used. */
  const char *subtitle = adw_action_row_get_subtitle (ADW_ACTION_ROW (row));
#if SECATEUR_HAVE_CUDA
  g_assert_nonnull (strstr (subtitle, "uses CUDA when a GPU is found"));
#else
  g_assert_cmpstr (subtitle, ==, "CUDA is not available in this build: models run on the CPU");
#endif
  gtk_window_destroy (win);
}

static void
test_numbers (void)
{
  g_autoptr (GSettings) settings = new_settings ();
  GtkWindow *win = secateur_preferences_new_with_settings (NULL, settings);
  GtkSpinButton *threads = GTK_SPIN_BUTTON (child (win, "threads_spin"));
  GtkSpinButton *gpu = GTK_SPIN_BUTTON (child (win, "gpu_memory_spin"));
  GtkSpinButton *calib = GTK_SPIN_BUTTON (child (win, "calibration_size_spin"));

  /* Schema defaults reach the controls. */
  g_assert_cmpfloat (gtk_spin_button_get_value (threads), ==, 0);
  g_assert_cmpfloat (gtk_spin_button_get_value (gpu), ==, 32.0);
  g_assert_cmpfloat (gtk_spin_button_get_value (calib), ==, 256);

  g_settings_set_int (settings, "threads", 6);
  g_assert_cmpfloat (gtk_spin_button_get_value (threads), ==, 6);
  gtk_spin_button_set_value (threads, 3);
  g_assert_cmpint (g_settings_get_int (settings, "threads"), ==, 3);

  gtk_spin_button_set_value (gpu, 24.5);
  g_assert_cmpfloat (g_settings_get_double (settings, "gpu-memory-gb"), ==, 24.5);
  g_settings_set_double (settings, "gpu-memory-gb", 80);
  g_assert_cmpfloat (gtk_spin_button_get_value (gpu), ==, 80);

  gtk_spin_button_set_value (calib, 512);
  g_assert_cmpint (g_settings_get_int (settings, "calibration-size"), ==, 512);

  /* The threads row tells what 0 means on this computer. */
  g_autofree char *cores = g_strdup_printf ("%u core", g_get_num_processors ());
  const char *subtitle = adw_action_row_get_subtitle (ADW_ACTION_ROW (child (win, "threads_row")));
  g_assert_nonnull (strstr (subtitle, cores));
  gtk_window_destroy (win);
}

static void
test_export_folder (void)
{
  g_autoptr (GSettings) settings = new_settings ();
  GtkWindow *win = secateur_preferences_new_with_settings (NULL, settings);
  AdwActionRow *row = ADW_ACTION_ROW (child (win, "export_folder_row"));
  GtkWidget *reset = child (win, "export_folder_reset");

  g_assert_cmpstr (adw_action_row_get_subtitle (row), ==, "None chosen");
  g_assert_false (gtk_widget_get_sensitive (reset));

  g_settings_set_string (settings, "default-export-folder", "/srv/models/pruned");
  g_assert_cmpstr (adw_action_row_get_subtitle (row), ==, "/srv/models/pruned");
  g_assert_true (gtk_widget_get_sensitive (reset));

  g_signal_emit_by_name (reset, "clicked");
  g_autofree char *folder = g_settings_get_string (settings, "default-export-folder");
  g_assert_cmpstr (folder, ==, "");
  g_assert_cmpstr (adw_action_row_get_subtitle (row), ==, "None chosen");
  g_assert_false (gtk_widget_get_sensitive (reset));
  gtk_window_destroy (win);
}

static void
test_color_scheme (void)
{
  AdwStyleManager *style = adw_style_manager_get_default ();
  g_autoptr (GSettings) settings = new_settings ();
  GtkWindow *win = secateur_preferences_new_with_settings (NULL, settings);
  AdwComboRow *row = ADW_COMBO_ROW (child (win, "color_scheme_row"));

  adw_combo_row_set_selected (row, 2);
  g_autofree char *dark = g_settings_get_string (settings, "color-scheme");
  g_assert_cmpstr (dark, ==, "dark");
  g_assert_cmpint (adw_style_manager_get_color_scheme (style), ==, ADW_COLOR_SCHEME_FORCE_DARK);

  g_settings_set_string (settings, "color-scheme", "light");
  g_assert_cmpuint (adw_combo_row_get_selected (row), ==, 1);
  g_assert_cmpint (adw_style_manager_get_color_scheme (style), ==, ADW_COLOR_SCHEME_FORCE_LIGHT);
  gtk_window_destroy (win);
  flush ();

  /* Without the window, the application's own hook keeps following. */
  g_autoptr (GSettings) app_settings = new_settings ();
  g_settings_set_string (app_settings, "color-scheme", "dark");
  secateur_preferences_follow_color_scheme (app_settings);
  g_assert_cmpint (adw_style_manager_get_color_scheme (style), ==, ADW_COLOR_SCHEME_FORCE_DARK);
  g_settings_set_string (app_settings, "color-scheme", "default");
  g_assert_cmpint (adw_style_manager_get_color_scheme (style), ==, ADW_COLOR_SCHEME_DEFAULT);
}

static void
test_no_schema (void)
{
  /* A missing schema gives a readable, insensitive window, not an abort. */
  GtkWindow *win = secateur_preferences_new_with_settings (NULL, NULL);
  g_assert_false (gtk_widget_get_sensitive (child (win, "general_page")));
  gtk_window_destroy (win);
}

static void
test_about (void)
{
  secateur_show_about (NULL);
  AdwAboutWindow *about = NULL;
  GListModel *toplevels = gtk_window_get_toplevels (); /* owned by GTK */
  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GObject) w = g_list_model_get_item (toplevels, i);
      if (ADW_IS_ABOUT_WINDOW (w))
        about = ADW_ABOUT_WINDOW (w);
    }
  g_assert_nonnull (about);
  g_assert_cmpstr (adw_about_window_get_application_name (about), ==, "Secateur");
  g_assert_cmpstr (adw_about_window_get_version (about), ==, TEST_PROJECT_VERSION);
  g_assert_cmpstr (adw_about_window_get_application_icon (about), ==,
                   "io.github.secateur.Secateur");
  g_assert_cmpint (adw_about_window_get_license_type (about), ==, GTK_LICENSE_GPL_3_0);
  g_assert_cmpstr (adw_about_window_get_developer_name (about), ==, "The Secateur developers");
  g_assert_cmpstr (adw_about_window_get_issue_url (about), ==,
                   "https://github.com/secateur/secateur/issues");
  gtk_window_destroy (GTK_WINDOW (about));
}

static void
collect_accels (GtkWidget *w, GPtrArray *out)
{
  /* The window also holds copies of the shortcuts for its search page. */
  if (GTK_IS_SHORTCUTS_SHORTCUT (w))
    {
      char *accel = NULL;
      g_object_get (w, "accelerator", &accel, NULL);
      if (g_ptr_array_find_with_equal_func (out, accel, g_str_equal, NULL))
        g_free (accel);
      else
        g_ptr_array_add (out, accel);
    }
  for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c))
    collect_accels (c, out);
}

static void
test_shortcuts (void)
{
  const char *expected[] = { "<Control>o",     "<Control>d",
                             "<Control>r",     "Escape",
                             "<Control>t",     "<Control>e",
                             "<Control>z",     "<Control><Shift>z",
                             "<Alt>1",         "<Alt>2",
                             "<Alt>3",         "<Alt>4",
                             "<Alt>5",         "<Alt>6",
                             "<Control>comma", "<Control>question",
                             "<Control>w",     "<Control>q" };
  g_autoptr (GtkBuilder) builder =
      gtk_builder_new_from_resource ("/io/github/secateur/Secateur/gtk/help-overlay.ui");
  GObject *win = gtk_builder_get_object (builder, "help_overlay");
  g_assert_true (GTK_IS_SHORTCUTS_WINDOW (win));

  g_autoptr (GPtrArray) accels = g_ptr_array_new_with_free_func (g_free);
  collect_accels (GTK_WIDGET (win), accels);
  g_assert_cmpuint (accels->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      guint key = 0;
      GdkModifierType mods = 0;
      g_assert_true (g_ptr_array_find_with_equal_func (accels, expected[i], g_str_equal, NULL));
      g_assert_true (gtk_accelerator_parse (expected[i], &key, &mods));
      g_assert_cmpuint (key, !=, 0);
    }
  gtk_window_destroy (GTK_WINDOW (win));
}

static void
test_french (void)
{
  /* gettext reads LANGUAGE on a non-C locale; setlocale() drops its cache. */
  g_setenv ("LANGUAGE", "fr", TRUE);
  setlocale (LC_ALL, "C.UTF-8");
  /* _() in C sources reads the default domain, which app/secateur.c sets.
   * Set only here: GLib decides once, at its first lookup, whether to
   * translate at all, and an English default domain would say no. */
  textdomain (GETTEXT_PACKAGE);
  g_autoptr (GSettings) settings = new_settings ();
  GtkWindow *win = secateur_preferences_new_with_settings (NULL, settings);
  g_assert_cmpstr (gtk_window_get_title (win), ==, "Préférences");
  AdwComboRow *row = ADW_COMBO_ROW (child (win, "color_scheme_row"));
  GtkStringList *styles = GTK_STRING_LIST (adw_combo_row_get_model (row));
  g_assert_cmpstr (gtk_string_list_get_string (styles, 2), ==, "Sombre");
  /* Strings set from C (_()) too, with French spacing before the colon. */
  const char *subtitle = adw_action_row_get_subtitle (ADW_ACTION_ROW (child (win, "backend_row")));
#if SECATEUR_HAVE_CUDA
  g_assert_true (g_str_has_prefix (subtitle, "Automatique utilise CUDA"));
#else
  g_assert_cmpstr (subtitle, ==,
                   "CUDA n’est pas disponible dans cette version\u202f: les modèles s’exécutent "
                   "sur le processeur");
#endif
  gtk_window_destroy (win);
  textdomain ("messages");
  g_unsetenv ("LANGUAGE");
  setlocale (LC_ALL, "C.UTF-8");
}

static void
skip_without_display (void)
{
  g_test_skip ("no display (the UI tests run under Xvfb)");
}

int
main (int argc, char **argv)
{
  /* Untranslated strings for the English assertions; test_french switches. */
  g_unsetenv ("LANGUAGE");
  setlocale (LC_ALL, "C.UTF-8");
  bindtextdomain (GETTEXT_PACKAGE, TEST_LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_setenv ("GTK_A11Y", "none", TRUE);
  g_test_init (&argc, &argv, NULL);

  if (!gtk_init_check ())
    {
      g_test_add_func ("/preferences/display", skip_without_display);
      return g_test_run ();
    }
  adw_init ();

  g_autoptr (GError) error = NULL;
  GSettingsSchemaSource *source =
      g_settings_schema_source_new_from_directory (TEST_SCHEMA_DIR, NULL, TRUE, &error);
  g_assert_no_error (error);
  schema = g_settings_schema_source_lookup (source, SECATEUR_APP_ID, FALSE);
  g_assert_nonnull (schema);
  g_settings_schema_source_unref (source);

  g_test_add_func ("/preferences/backend", test_backend);
  g_test_add_func ("/preferences/numbers", test_numbers);
  g_test_add_func ("/preferences/export-folder", test_export_folder);
  g_test_add_func ("/preferences/color-scheme", test_color_scheme);
  g_test_add_func ("/preferences/no-schema", test_no_schema);
  g_test_add_func ("/about/window", test_about);
  g_test_add_func ("/shortcuts/help-overlay", test_shortcuts);
  g_test_add_func ("/i18n/french-preferences", test_french);
  int ret = g_test_run ();
  g_settings_schema_unref (schema);
  return ret;
}
