/* secateur-window.h: the main window: a welcome page (demo model, open a
 * folder, recent models, drop a folder), then the model's pages (Model,
 * Calibrate, Prune, Compare, Export) in a view stack. The window owns the
 * controller that runs the engine's jobs. */
#pragma once

#include <adwaita.h>

#include "secateur-calibrate-page.h"
#include "secateur-compare-page.h"
#include "secateur-controller.h"
#include "secateur-export-page.h"
#include "secateur-overview-page.h"
#include "secateur-prune-page.h"
#include "secateur-weights-page.h"

G_BEGIN_DECLS

#define SECATEUR_TYPE_WINDOW (secateur_window_get_type ())
G_DECLARE_FINAL_TYPE (SecateurWindow, secateur_window, SECATEUR, WINDOW, AdwApplicationWindow)

SecateurWindow        *secateur_window_new (GtkApplication *application);
/* Opens a model folder in the background; errors become a toast. */
void                   secateur_window_open_model (SecateurWindow *self, const char *dir);
/* The bundled demo model's folder, or NULL when it is not installed. */
char                  *secateur_window_find_demo_model (void);
SecateurController    *secateur_window_get_controller (SecateurWindow *self);
/* "welcome", "loading" or "model". */
const char            *secateur_window_get_state (SecateurWindow *self);
/* Shows a model page: "model", "calibrate", "prune", "compare", "export",
 * "weights". */
void                   secateur_window_show_page (SecateurWindow *self, const char *name);
GtkWidget             *secateur_window_get_page  (SecateurWindow *self, const char *name);
const char            *secateur_window_get_visible_page (SecateurWindow *self);
void                   secateur_window_add_toast (SecateurWindow *self, const char *title,
                                                  const char *folder);
/* The title of the last toast shown, or NULL. */
const char            *secateur_window_get_last_toast (SecateurWindow *self);
/* The most recent models, newest first; g_strfreev. */
GStrv                  secateur_window_get_recent (SecateurWindow *self);

G_END_DECLS
