/* secateur-application.h: the Secateur application (AdwApplication):
 * app-wide actions (quit, preferences, about) and their shortcuts; opens a
 * window per activation, or a model folder given on the command line. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define SECATEUR_TYPE_APPLICATION (secateur_application_get_type ())
G_DECLARE_FINAL_TYPE (SecateurApplication, secateur_application, SECATEUR, APPLICATION,
                      AdwApplication)

SecateurApplication *secateur_application_new (void);

G_END_DECLS
