/* secateur-preferences.h: the Preferences window. Every control is bound
 * to the application's GSettings (io.github.secateur.Secateur): compute
 * backend, CPU threads, GPU memory budget, default export folder,
 * calibration size and colour scheme. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define SECATEUR_TYPE_PREFERENCES (secateur_preferences_get_type ())
G_DECLARE_FINAL_TYPE (SecateurPreferences, secateur_preferences, SECATEUR, PREFERENCES,
                      AdwPreferencesWindow)

/* A Preferences window on the application's settings, transient for
 * `parent` (may be NULL). When the schema is not installed the window
 * still opens, insensitive, and says so. */
GtkWindow *secateur_preferences_new               (GtkWindow *parent);
/* The same on a given settings object (tests use a memory backend). */
GtkWindow *secateur_preferences_new_with_settings (GtkWindow *parent, GSettings *settings);

/* Applies the `color-scheme` key to AdwStyleManager now and whenever it
 * changes; call once at application startup. */
void       secateur_preferences_follow_color_scheme (GSettings *settings);

G_END_DECLS
