/* secateur-overview-page.c: model facts and the language picker. */
#include "secateur-overview-page.h"

#include <glib/gi18n.h>

struct _SecateurOverviewPage
{
  AdwBin parent_instance;
  SecateurController *controller;

  /* the facts, one row each (the subtitle holds the value) */
  AdwActionRow *name_row, *architecture_row, *layers_row, *experts_row, *parameters_row;
  AdwActionRow *disk_row, *memory_row, *languages_row, *backend_row;
  SecateurLanguagePicker *picker;
};

G_DEFINE_FINAL_TYPE (SecateurOverviewPage, secateur_overview_page, ADW_TYPE_BIN)

static char *
format_params (guint64 n)
{
  if (n >= 1000000000)
    return g_strdup_printf (_ ("%.2f billion"), n / 1e9);
  return g_strdup_printf (_ ("%.2f million"), n / 1e6);
}

static void
refresh (SecateurOverviewPage *self)
{
  const SecateurModelInfo *info = secateur_controller_get_info (self->controller);
  if (info == NULL)
    return;
  adw_action_row_set_subtitle (self->name_row, info->name);
  g_autofree char *arch =
      g_strdup_printf ("%s, d_model %d, %s", info->architecture, info->d_model, info->dtype);
  adw_action_row_set_subtitle (self->architecture_row, arch);
  g_autofree char *layers = g_strdup_printf (_ ("%d encoder + %d decoder layers"),
                                             info->encoder_layers, info->decoder_layers);
  adw_action_row_set_subtitle (self->layers_row, layers);
  g_autofree char *experts =
      info->n_experts > 0
          ? g_strdup_printf (_ ("%d experts in each of %d MoE layers (%d encoder, %d decoder)"),
                             info->n_experts, info->n_moe_layers, info->n_encoder_moe,
                             info->n_moe_layers - info->n_encoder_moe)
          : g_strdup (_ ("None (a dense model)"));
  adw_action_row_set_subtitle (self->experts_row, experts);
  g_autofree char *dense = format_params (info->params_dense);
  g_autofree char *exp = format_params (info->params_experts);
  g_autofree char *params = g_strdup_printf (_ ("%s dense + %s in experts"), dense, exp);
  adw_action_row_set_subtitle (self->parameters_row, params);
  g_autofree char *disk = g_format_size (info->disk_bytes);
  adw_action_row_set_subtitle (self->disk_row, disk);
  g_autofree char *mem = g_format_size (info->weight_bytes);
  g_autofree char *memory = g_strdup_printf (_ ("%s of weights (%s)"), mem, info->dtype);
  adw_action_row_set_subtitle (self->memory_row, memory);
  guint n = info->languages ? g_strv_length (info->languages) : 0;
  g_autofree char *langs =
      g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u language", "%u languages", n), n);
  adw_action_row_set_subtitle (self->languages_row, langs);
  g_autofree char *backend =
      g_str_equal (info->backend, "cuda")
          ? g_strdup (_ ("CUDA GPU"))
          : g_strdup_printf (_ ("%s, %d threads"), info->backend, info->threads);
  adw_action_row_set_subtitle (self->backend_row, backend);
  /* the pairs a reopened project restored (setting the languages clears them) */
  g_auto (GStrv) restored =
      g_strdupv ((char **) secateur_controller_get_directions (self->controller));
  secateur_language_picker_set_languages (self->picker, (const char *const *) info->languages);
  for (guint i = 0; restored != NULL && restored[i] != NULL; i++)
    {
      g_autofree char *src = NULL, *tgt = NULL;
      if (sc_stats_split_direction (restored[i], &src, &tgt))
        secateur_language_picker_add_pair (self->picker, src, tgt);
    }
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
  gtk_widget_dispose_template (GTK_WIDGET (self), SECATEUR_TYPE_OVERVIEW_PAGE);
  g_clear_object (&self->controller);
  G_OBJECT_CLASS (secateur_overview_page_parent_class)->dispose (object);
}

static void
secateur_overview_page_class_init (SecateurOverviewPageClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  G_OBJECT_CLASS (klass)->dispose = secateur_overview_page_dispose;
  g_type_ensure (SECATEUR_TYPE_LANGUAGE_PICKER);
  gtk_widget_class_set_template_from_resource (
      widget_class, "/io/github/secateur/Secateur/secateur-overview-page.ui");
  gtk_widget_class_bind_template_child (widget_class, SecateurOverviewPage, name_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurOverviewPage, architecture_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurOverviewPage, layers_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurOverviewPage, experts_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurOverviewPage, parameters_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurOverviewPage, disk_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurOverviewPage, memory_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurOverviewPage, languages_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurOverviewPage, backend_row);
  gtk_widget_class_bind_template_child (widget_class, SecateurOverviewPage, picker);
  gtk_widget_class_bind_template_callback (widget_class, on_picker_changed);
}

static void
secateur_overview_page_init (SecateurOverviewPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
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
