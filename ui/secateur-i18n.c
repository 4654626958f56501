/* secateur-i18n.c: gettext domains for the application. */
#include "secateur-i18n.h"

#include <glib/gi18n.h>
#include <string.h>

char *
secateur_i18n_locale_dir (const char *exe_path)
{
  /* The build directory holds compiled catalogues in po/<lang>/LC_MESSAGES
   * (po/meson.build); an uninstalled program must read those, since the
   * install prefix may hold none or older ones. */
  const char *root = SECATEUR_BUILD_ROOT;
  gsize n = strlen (root);
  if (exe_path != NULL && strncmp (exe_path, root, n) == 0 && exe_path[n] == G_DIR_SEPARATOR &&
      g_file_test (SECATEUR_BUILD_LOCALEDIR, G_FILE_TEST_IS_DIR))
    return g_strdup (SECATEUR_BUILD_LOCALEDIR);
  return g_strdup (LOCALEDIR);
}

void
secateur_i18n_init (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *dir = secateur_i18n_locale_dir (exe);
  bindtextdomain (GETTEXT_PACKAGE, dir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  /* iso-codes installs its catalogues in the system's default folder. */
  bind_textdomain_codeset ("iso_639-3", "UTF-8");
  bind_textdomain_codeset ("iso_15924", "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}
