/* secateur-preferences.c: the Preferences window, bound to GSettings. */
#include "secateur-preferences.h"

#include "secateur-config.h"

#include <glib/gi18n.h>

struct _SecateurPreferences
{
  AdwPreferencesWindow parent_instance;

  GSettings *settings; /* NULL when the schema is not installed */
  GtkFileChooserNative *chooser;

  AdwPreferencesPage *general_page;
  AdwComboRow *backend_row;
  AdwActionRow *threads_row;
  GtkSpinButton *threads_spin;
  AdwActionRow *gpu_memory_row;
  GtkSpinButton *gpu_memory_spin;
  AdwActionRow *calibration_size_row;
  GtkSpinButton *calibration_size_spin;
  AdwActionRow *export_folder_row;
  GtkButton *export_folder_reset;
  GtkButton *export_folder_button;
  AdwComboRow *color_scheme_row;
};

G_DEFINE_FINAL_TYPE (SecateurPreferences, secateur_preferences, ADW_TYPE_PREFERENCES_WINDOW)

enum
{
  PROP_0,
  PROP_SETTINGS,
  N_PROPS
};
static GParamSpec *properties[N_PROPS];

/* The combo rows list their choices in the schema's order. */
static const char *const backend_ids[] = { "auto", "cpu", "cuda", NULL };
static const char *const color_scheme_ids[] = { "default", "light", "dark", NULL };

static gboolean
id_to_position (GValue *value, GVariant *variant, gpointer user_data)
{
  const char *const *ids = user_data;
  const char *id = g_variant_get_string (variant, NULL);
  for (guint i = 0; ids[i] != NULL; i++)
    if (g_str_equal (ids[i], id))
      {
        g_value_set_uint (value, i);
        return TRUE;
      }
  return FALSE;
}

static GVariant *
position_to_id (const GValue *value, const GVariantType *type, gpointer user_data)
{
  const char *const *ids = user_data;
  guint pos = g_value_get_uint (value);
  if (pos >= g_strv_length ((char **) ids))
    return NULL;
  return g_variant_new_string (ids[pos]);
}

/* The folder's name for people: empty means none, and the Export page then
 * says the same and asks for one. */
static gboolean
folder_to_subtitle (GValue *value, GVariant *variant, gpointer user_data)
{
  const char *path = g_variant_get_string (variant, NULL);
  if (path[0] == '\0')
    g_value_set_string (value, _ ("None chosen"));
  else
    g_value_take_string (value, g_filename_display_name (path));
  return TRUE;
}

static void
style_from_settings (GSettings *settings)
{
  g_autofree char *scheme = g_settings_get_string (settings, "color-scheme");
  AdwColorScheme adw = ADW_COLOR_SCHEME_DEFAULT;
  if (g_str_equal (scheme, "light"))
    adw = ADW_COLOR_SCHEME_FORCE_LIGHT;
  else if (g_str_equal (scheme, "dark"))
    adw = ADW_COLOR_SCHEME_FORCE_DARK;
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), adw);
}

static void
on_color_scheme_changed (GSettings *settings, const char *key, gpointer user_data)
{
  style_from_settings (settings);
}

void
secateur_preferences_follow_color_scheme (GSettings *settings)
{
  g_return_if_fail (G_IS_SETTINGS (settings));
  style_from_settings (settings);
  g_signal_connect (settings, "changed::color-scheme", G_CALLBACK (on_color_scheme_changed), NULL);
}

static void
update_export_reset (SecateurPreferences *self)
{
  g_autofree char *path = g_settings_get_string (self->settings, "default-export-folder");
  gtk_widget_set_sensitive (GTK_WIDGET (self->export_folder_reset), path[0] != '\0');
}

static void
on_export_folder_changed (SecateurPreferences *self)
{
  update_export_reset (self);
}

static void
on_export_folder_reset (SecateurPreferences *self)
{
  if (self->settings != NULL)
    g_settings_set_string (self->settings, "default-export-folder", "");
}

static void
on_chooser_response (SecateurPreferences *self, int response, GtkFileChooserNative *chooser)
{
  if (response == GTK_RESPONSE_ACCEPT && self->settings != NULL)
    {
      g_autoptr (GFile) folder = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = folder ? g_file_get_path (folder) : NULL;
      /* A folder without a local path (a remote location) cannot hold an export. */
      if (path != NULL)
        g_settings_set_string (self->settings, "default-export-folder", path);
      else
        adw_preferences_window_add_toast (
            ADW_PREFERENCES_WINDOW (self),
            adw_toast_new (_ ("Choose a folder on this computer for exports")));
    }
  g_clear_object (&self->chooser);
}

static void
on_export_folder_choose (SecateurPreferences *self)
{
  if (self->chooser != NULL)
    return;
  self->chooser = gtk_file_chooser_native_new (_ ("Default Export Folder"), GTK_WINDOW (self),
                                               GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _ ("_Select"),
                                               _ ("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  g_autofree char *path = g_settings_get_string (self->settings, "default-export-folder");
  if (path[0] != '\0')
    {
      g_autoptr (GFile) current = g_file_new_for_path (path);
      gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (self->chooser), current, NULL);
    }
  g_signal_connect_swapped (self->chooser, "response", G_CALLBACK (on_chooser_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
bind_settings (SecateurPreferences *self)
{
  GSettings *s = self->settings;

  g_settings_bind_with_mapping (s, "backend", self->backend_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, id_to_position, position_to_id,
                                (gpointer) backend_ids, NULL);
  g_settings_bind (s, "threads", self->threads_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (s, "gpu-memory-gb", self->gpu_memory_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (s, "calibration-size", self->calibration_size_spin, "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind_with_mapping (s, "default-export-folder", self->export_folder_row, "subtitle",
                                G_SETTINGS_BIND_GET, folder_to_subtitle, NULL, NULL, NULL);
  g_settings_bind_with_mapping (s, "color-scheme", self->color_scheme_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, id_to_position, position_to_id,
                                (gpointer) color_scheme_ids, NULL);

  g_signal_connect_object (s, "changed::default-export-folder",
                           G_CALLBACK (on_export_folder_changed), self, G_CONNECT_SWAPPED);
  /* The style follows the choice at once, even if the application did not
   * call secateur_preferences_follow_color_scheme(). */
  g_signal_connect_object (s, "changed::color-scheme", G_CALLBACK (on_color_scheme_changed), self,
                           0);
  update_export_reset (self);
}

static void
secateur_preferences_constructed (GObject *object)
{
  SecateurPreferences *self = SECATEUR_PREFERENCES (object);

  G_OBJECT_CLASS (secateur_preferences_parent_class)->constructed (object);

  if (self->settings == NULL)
    {
      /* Without its schema the window can show nothing true: say why. */
      gtk_widget_set_sensitive (GTK_WIDGET (self->general_page), FALSE);
      adw_preferences_window_add_toast (
          ADW_PREFERENCES_WINDOW (self),
          adw_toast_new (_ ("Preferences are unavailable: the settings schema is not installed")));
      return;
    }
  bind_settings (self);
}

static void
secateur_preferences_dispose (GObject *object)
{
  SecateurPreferences *self = SECATEUR_PREFERENCES (object);

  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  gtk_widget_dispose_template (GTK_WIDGET (self), SECATEUR_TYPE_PREFERENCES);
  G_OBJECT_CLASS (secateur_preferences_parent_class)->dispose (object);
}

static void
secateur_preferences_finalize (GObject *object)
{
  SecateurPreferences *self = SECATEUR_PREFERENCES (object);

  g_clear_object (&self->settings);
  G_OBJECT_CLASS (secateur_preferences_parent_class)->finalize (object);
}

static void
secateur_preferences_set_property (GObject *object, guint prop_id, const GValue *value,
                                   GParamSpec *pspec)
{
  SecateurPreferences *self = SECATEUR_PREFERENCES (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      g_set_object (&self->settings, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
secateur_preferences_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  SecateurPreferences *self = SECATEUR_PREFERENCES (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      g_value_set_object (value, self->settings);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
secateur_preferences_class_init (SecateurPreferencesClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = secateur_preferences_constructed;
  object_class->dispose = secateur_preferences_dispose;
  object_class->finalize = secateur_preferences_finalize;
  object_class->set_property = secateur_preferences_set_property;
  object_class->get_property = secateur_preferences_get_property;

  properties[PROP_SETTINGS] =
      g_param_spec_object ("settings", NULL, NULL, G_TYPE_SETTINGS,
                           G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (
      widget_class, "/io/github/secateur/Secateur/secateur-preferences.ui");
  gtk_widget_class_bind_template_child (widget_class, SecateurPreferences, general_page);
  gtk_widget_class_bind_template_child (widget_class, SecateurPreferences, backend_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurPreferences, threads_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurPreferences, threads_spin);
  gtk_widget_class_bind_template_child (widget_class, SecateurPreferences, gpu_memory_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurPreferences, gpu_memory_spin);
  gtk_widget_class_bind_template_child (widget_class, SecateurPreferences, calibration_size_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurPreferences, calibration_size_spin);
  gtk_widget_class_bind_template_child (widget_class, SecateurPreferences, export_folder_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurPreferences, export_folder_reset);
  gtk_widget_class_bind_template_child (widget_class, SecateurPreferences, export_folder_button);
  gtk_widget_class_bind_template_child (widget_class, SecateurPreferences, color_scheme_row);
  gtk_widget_class_bind_template_callback (widget_class, on_export_folder_reset);
  gtk_widget_class_bind_template_callback (widget_class, on_export_folder_choose);
}

static void
secateur_preferences_init (SecateurPreferences *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  g_autofree char *threads = g_strdup_printf (
      g_dngettext (GETTEXT_PACKAGE, "0 uses all %u core of this computer",
                   "0 uses all %u cores of this computer", g_get_num_processors ()),
      g_get_num_processors ());
  adw_action_row_set_subtitle (self->threads_row, threads);
#if SECATEUR_HAVE_CUDA
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->backend_row),
                               _ ("Automatic uses CUDA when a GPU is found, the CPU otherwise"));
#else
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->backend_row),
                               _ ("CUDA is not available in this build: models run on the CPU"));
#endif
}

GtkWindow *
secateur_preferences_new_with_settings (GtkWindow *parent, GSettings *settings)
{
  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (settings == NULL || G_IS_SETTINGS (settings), NULL);

  return g_object_new (SECATEUR_TYPE_PREFERENCES, "transient-for", parent, "settings", settings,
                       NULL);
}

GtkWindow *
secateur_preferences_new (GtkWindow *parent)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema =
      source ? g_settings_schema_source_lookup (source, SECATEUR_APP_ID, TRUE) : NULL;
  /* g_settings_new() aborts on a missing schema; look it up first. */
  g_autoptr (GSettings) settings = schema ? g_settings_new_full (schema, NULL, NULL) : NULL;

  return secateur_preferences_new_with_settings (parent, settings);
}
