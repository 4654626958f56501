/* secateur-i18n.h: where the application's translations come from. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The catalogue folder for a program at `exe_path`: the build tree's po/
 * when the program runs uninstalled from its build directory (as ./run
 * and the README start it), else the installed locale folder. */
char *secateur_i18n_locale_dir (const char *exe_path);
/* Binds the application's domain for the running program, and the
 * iso-codes domains that translate language and script names. */
void  secateur_i18n_init       (void);

G_END_DECLS
