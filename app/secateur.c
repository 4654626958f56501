/* secateur: the desktop application (GTK 4 + libadwaita).
 *
 *   secateur [MODEL_DIR]
 */
#include "secateur-application.h"
#include "secateur-i18n.h"

#include <glib/gi18n.h>
#include <locale.h>

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  secateur_i18n_init ();
  g_autoptr (SecateurApplication) app = secateur_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
