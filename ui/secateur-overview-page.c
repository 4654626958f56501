/* secateur-overview-page.c: model facts and the language picker. */
#include "secateur-overview-page.h"

#include <glib/gi18n.h>

struct _SecateurOverviewPage
{
  AdwBin parent_instance;
  SecateurController *controller;
  GHashTable *rows; /* key -> AdwActionRow */
  GtkWidget *picker;
};

G_DEFINE_FINAL_TYPE (SecateurOverviewPage, secateur_overview_page, ADW_TYPE_BIN)

static const struct
{
  const char *key, *title;
} facts[] = {
  { "name", N_ ("Name") },
  { "architecture", N_ ("Architecture") },
  { "layers", N_ ("Layers") },
  { "experts", N_ ("Experts") },
  { "parameters", N_ ("Parameters") },
  { "disk", N_ ("Size on Disk") },
  { "memory", N_ ("Memory Needed") },
  { "languages", N_ ("Languages") },
  { "backend", N_ ("Backend") },
};

static char *
format_params (guint64 n)
{
  if (n >= 1000000000)
    return g_strdup_printf (_ ("%.2f billion"), n / 1e9);
  return g_strdup_printf (_ ("%.2f million"), n / 1e6);
}

static void
set_fact (SecateurOverviewPage *self, const char *key, const char *value)
{
  adw_action_row_set_subtitle (g_hash_table_lookup (self->rows, key), value);
}

static void
refresh (SecateurOverviewPage *self)
{
  const SecateurModelInfo *info = secateur_controller_get_info (self->controller);
  if (info == NULL)
    return;
  set_fact (self, "name", info->name);
  g_autofree char *arch =
      g_strdup_printf ("%s, d_model %d, %s", info->architecture, info->d_model, info->dtype);
  set_fact (self, "architecture", arch);
  g_autofree char *layers = g_strdup_printf (_ ("%d encoder + %d decoder layers"),
                                             info->encoder_layers, info->decoder_layers);
  set_fact (self, "layers", layers);
  g_autofree char *experts =
      info->n_experts > 0
          ? g_strdup_printf (_ ("%d experts in each of %d MoE layers (%d encoder, %d decoder)"),
                             info->n_experts, info->n_moe_layers, info->n_encoder_moe,
                             info->n_moe_layers - info->n_encoder_moe)
          : g_strdup (_ ("None (a dense model)"));
  set_fact (self, "experts", experts);
  g_autofree char *dense = format_params (info->params_dense);
  g_autofree char *exp = format_params (info->params_experts);
  g_autofree char *params = g_strdup_printf (_ ("%s dense + %s in experts"), dense, exp);
  set_fact (self, "parameters", params);
  g_autofree char *disk = g_format_size (info->disk_bytes);
  set_fact (self, "disk", disk);
  g_autofree char *mem = g_format_size (info->weight_bytes);
  g_autofree char *memory = g_strdup_printf (_ ("%s of weights (%s)"), mem, info->dtype);
  set_fact (self, "memory", memory);
  guint n = info->languages ? g_strv_length (info->languages) : 0;
  g_autofree char *langs =
      g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u language", "%u languages", n), n);
  set_fact (self, "languages", langs);
  g_autofree char *backend =
      g_str_equal (info->backend, "cuda")
          ? g_strdup (_ ("CUDA GPU"))
          : g_strdup_printf (_ ("%s, %d threads"), info->backend, info->threads);
  set_fact (self, "backend", backend);
  secateur_language_picker_set_languages (SECATEUR_LANGUAGE_PICKER (self->picker),
                                          (const char *const *) info->languages);
}

static void
on_picker_changed (SecateurLanguagePicker *picker, SecateurOverviewPage *self)
{
  secateur_controller_set_directions (self->controller,
                                      secateur_language_picker_get_pairs (picker));
}

static void
secateur_overview_page_dispose (GObject *object)
{
  SecateurOverviewPage *self = SECATEUR_OVERVIEW_PAGE (object);
  if (self->controller != NULL)
    g_signal_handlers_disconnect_by_data (self->controller, self);
  g_clear_object (&self->controller);
  g_clear_pointer (&self->rows, g_hash_table_unref);
  G_OBJECT_CLASS (secateur_overview_page_parent_class)->dispose (object);
}

static void
secateur_overview_page_class_init (SecateurOverviewPageClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = secateur_overview_page_dispose;
}

static void
secateur_overview_page_init (SecateurOverviewPage *self)
{
  self->rows = g_hash_table_new (g_str_hash, g_str_equal);
  GtkWidget *page = adw_preferences_page_new ();
  GtkWidget *group = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _ ("Model"));
  for (guint i = 0; i < G_N_ELEMENTS (facts); i++)
    {
      GtkWidget *row = adw_action_row_new ();
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _ (facts[i].title));
      gtk_widget_add_css_class (row, "property");
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
      g_hash_table_insert (self->rows, (gpointer) facts[i].key, row);
    }
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (group));
  GtkWidget *langs = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (langs), _ ("Languages and Pairs"));
  adw_preferences_group_set_description (
      ADW_PREFERENCES_GROUP (langs),
      _ ("Choose the translation directions to calibrate, prune and export for."));
  self->picker = secateur_language_picker_new ();
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (langs), self->picker);
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (langs));
  adw_bin_set_child (ADW_BIN (self), page);
  g_signal_connect (self->picker, "changed", G_CALLBACK (on_picker_changed), self);
}

GtkWidget *
secateur_overview_page_new (SecateurController *controller)
{
  SecateurOverviewPage *self = g_object_new (SECATEUR_TYPE_OVERVIEW_PAGE, NULL);
  self->controller = g_object_ref (controller);
  g_signal_connect_swapped (controller, "notify::model-dir", G_CALLBACK (refresh), self);
  refresh (self);
  return GTK_WIDGET (self);
}

SecateurLanguagePicker *
secateur_overview_page_get_picker (SecateurOverviewPage *self)
{
  return SECATEUR_LANGUAGE_PICKER (self->picker);
}

const char *
secateur_overview_page_get_value (SecateurOverviewPage *self, const char *key)
{
  AdwActionRow *row = g_hash_table_lookup (self->rows, key);
  return row ? adw_action_row_get_subtitle (row) : NULL;
}
