/* secateur-page-util.h: the pieces the pages build alike: combo and spin
 * rows, the row with a Choose… button, the Start/Cancel run controls and
 * the settings pane beside a view. Builders only: each page connects its
 * own signals and keeps the widgets it is given. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/* An AdwComboRow over `items` (copied), with `selected` chosen; subtitle
 * may be NULL. */
GtkWidget *secateur_combo_row_new  (const char *title, const char *subtitle,
                                    const char *const *items, guint selected);
/* An AdwActionRow with a spin button from lower to upper as its suffix,
 * returned in *spin; accessible_label names the spin button. */
GtkWidget *secateur_spin_row_new   (const char *title, const char *accessible_label,
                                    double lower, double upper, double step, double value,
                                    GtkWidget **spin);
/* An AdwActionRow with a Choose… button, returned in *button, as its
 * suffix (the page opens its own file chooser from it). */
GtkWidget *secateur_choose_row_new (const char *title, GtkWidget **button);
/* A preferences group holding the centred Start (suggested) and Cancel
 * (hidden) pill buttons, a progress bar and a wrapping status label, in
 * that order; the widgets come back in the out arguments. */
GtkWidget *secateur_run_group_new  (const char *start_label, GtkWidget **start_button,
                                    GtkWidget **cancel_button, GtkWidget **progress,
                                    GtkWidget **status);
/* A horizontal GtkPaned: `settings` at least settings_width wide on the
 * left, `view` with 12 px margins on the right; neither side shrinks. */
GtkWidget *secateur_split_pane_new (GtkWidget *settings, int settings_width, GtkWidget *view);

G_END_DECLS
