/* secateur-page-util.c: the pieces the pages build alike (see the header). */
#include "secateur-page-util.h"

#include <glib/gi18n.h>

GtkWidget *
secateur_combo_row_new (const char *title, const char *subtitle, const char *const *items,
                        guint selected)
{
  GtkWidget *row = adw_combo_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  if (subtitle != NULL)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  GtkStringList *model = gtk_string_list_new (items);
  adw_combo_row_set_model (ADW_COMBO_ROW (row), G_LIST_MODEL (model));
  g_object_unref (model);
  adw_combo_row_set_selected (ADW_COMBO_ROW (row), selected);
  return row;
}

GtkWidget *
secateur_spin_row_new (const char *title, const char *accessible_label, double lower, double upper,
                       double step, double value, GtkWidget **spin)
{
  GtkWidget *row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  *spin = gtk_spin_button_new_with_range (lower, upper, step);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (*spin), value);
  gtk_widget_set_valign (*spin, GTK_ALIGN_CENTER);
  gtk_accessible_update_property (GTK_ACCESSIBLE (*spin), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  accessible_label, -1);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), *spin);
  return row;
}

GtkWidget *
secateur_choose_row_new (const char *title, GtkWidget **button)
{
  GtkWidget *row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  *button = gtk_button_new_with_mnemonic (_ ("_Choose…"));
  gtk_widget_set_valign (*button, GTK_ALIGN_CENTER);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), *button);
  return row;
}

GtkWidget *
secateur_run_group_new (const char *start_label, GtkWidget **start_button,
                        GtkWidget **cancel_button, GtkWidget **progress, GtkWidget **status)
{
  GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_set_halign (buttons, GTK_ALIGN_CENTER);
  *start_button = gtk_button_new_with_mnemonic (start_label);
  gtk_widget_add_css_class (*start_button, "suggested-action");
  gtk_widget_add_css_class (*start_button, "pill");
  *cancel_button = gtk_button_new_with_mnemonic (_ ("_Cancel"));
  gtk_widget_add_css_class (*cancel_button, "pill");
  gtk_widget_set_visible (*cancel_button, FALSE); /* until the page's job runs */
  gtk_box_append (GTK_BOX (buttons), *start_button);
  gtk_box_append (GTK_BOX (buttons), *cancel_button);
  *progress = gtk_progress_bar_new ();
  *status = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (*status), TRUE);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_box_append (GTK_BOX (box), buttons);
  gtk_box_append (GTK_BOX (box), *progress);
  gtk_box_append (GTK_BOX (box), *status);
  GtkWidget *group = adw_preferences_group_new ();
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), box);
  return group;
}

GtkWidget *
secateur_split_pane_new (GtkWidget *settings, int settings_width, GtkWidget *view)
{
  GtkWidget *paned = gtk_paned_new (GTK_ORIENTATION_HORIZONTAL);
  gtk_widget_set_size_request (settings, settings_width, -1);
  g_object_set (view, "margin-start", 12, "margin-end", 12, "margin-top", 12, "margin-bottom", 12,
                NULL);
  gtk_paned_set_start_child (GTK_PANED (paned), settings);
  gtk_paned_set_end_child (GTK_PANED (paned), view);
  gtk_paned_set_shrink_start_child (GTK_PANED (paned), FALSE);
  gtk_paned_set_shrink_end_child (GTK_PANED (paned), FALSE);
  return paned;
}
