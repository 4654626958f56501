/* secateur-about.h: the About window (AdwAboutWindow): version, licence,
 * developers, links, translators and the papers Secateur implements. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

void secateur_show_about (GtkWindow *parent);

G_END_DECLS
