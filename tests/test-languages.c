/* test-languages.c: language and script names in the interface's language,
 * search by localised or English name, and the uninstalled program's
 * catalogues (ui/secateur-languages.c, ui/secateur-i18n.c). */
#include "secateur-i18n.h"
#include "secateur-languages.h"

#include <glib/gi18n.h>
#include <locale.h>

static gboolean
have_iso_codes (const char *lang)
{
  g_autofree char *mo =
      g_build_filename ("/usr/share/locale", lang, "LC_MESSAGES", "iso_639-3.mo", NULL);
  g_autofree char *json = g_build_filename ("/usr/share/iso-codes/json/iso_639-3.json", NULL);
  return g_file_test (mo, G_FILE_TEST_EXISTS) && g_file_test (json, G_FILE_TEST_EXISTS);
}

static void
set_language (const char *lang)
{
  /* gettext reads LANGUAGE on a non-C locale; setlocale() drops its cache. */
  if (lang != NULL)
    g_setenv ("LANGUAGE", lang, TRUE);
  else
    g_unsetenv ("LANGUAGE");
  setlocale (LC_ALL, "C.UTF-8");
  /* glibc drops its cache of looked-up messages when the domain is set. */
  g_autofree char *domain = g_strdup (textdomain (NULL));
  textdomain (domain);
}

static void
test_locale_dir (void)
{
  g_autofree char *in_build =
      g_build_filename (SECATEUR_BUILD_ROOT, "app", "secateur", NULL);
  g_autofree char *dir = secateur_i18n_locale_dir (in_build);
  g_assert_cmpstr (dir, ==, SECATEUR_BUILD_LOCALEDIR);

  g_autofree char *installed = secateur_i18n_locale_dir ("/usr/bin/secateur");
  g_assert_cmpstr (installed, ==, LOCALEDIR);
  /* A sibling folder whose name starts like the build folder is not it. */
  g_autofree char *sibling = g_strconcat (SECATEUR_BUILD_ROOT, "-other/app/secateur", NULL);
  g_autofree char *other = secateur_i18n_locale_dir (sibling);
  g_assert_cmpstr (other, ==, LOCALEDIR);
  g_autofree char *none = secateur_i18n_locale_dir (NULL);
  g_assert_cmpstr (none, ==, LOCALEDIR);
}

static void
test_uninstalled_french (void)
{
  /* What app/secateur.c does at start, as if run from the build tree. */
  g_autofree char *in_build = g_build_filename (SECATEUR_BUILD_ROOT, "app", "secateur", NULL);
  g_autofree char *dir = secateur_i18n_locale_dir (in_build);
  bindtextdomain (GETTEXT_PACKAGE, dir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  set_language ("fr");
  g_assert_cmpstr (dgettext (GETTEXT_PACKAGE, "Preferences"), ==, "Préférences");
  set_language ("de");
  g_assert_cmpstr (dgettext (GETTEXT_PACKAGE, "Preferences"), ==, "Einstellungen");
  set_language (NULL);
  g_assert_cmpstr (dgettext (GETTEXT_PACKAGE, "Preferences"), ==, "Preferences");
}

static void
test_names (void)
{
  if (!have_iso_codes ("fr") || !have_iso_codes ("de"))
    {
      g_test_skip ("iso-codes with French and German catalogues is not installed");
      return;
    }
  secateur_i18n_init ();

  set_language (NULL);
  g_assert_cmpstr (secateur_language_name ("deu_Latn"), ==, "German");
  g_assert_cmpstr (secateur_language_script ("deu_Latn"), ==, "Latin");

  set_language ("fr");
  g_assert_cmpstr (secateur_language_name ("deu_Latn"), ==, "allemand");
  g_assert_cmpstr (secateur_language_english_name ("deu_Latn"), ==, "German");
  g_assert_cmpstr (secateur_language_script ("rus_Cyrl"), ==, "cyrillique");
  /* Found by the localised name, the English one, the code and the script,
   * ignoring case; not by another language's name. */
  g_assert_true (secateur_language_matches ("deu_Latn", "allemand"));
  g_assert_true (secateur_language_matches ("deu_Latn", "ALLEM"));
  g_assert_true (secateur_language_matches ("deu_Latn", "German"));
  g_assert_true (secateur_language_matches ("deu_Latn", "deu"));
  g_assert_true (secateur_language_matches ("rus_Cyrl", "cyrill"));
  g_assert_false (secateur_language_matches ("deu_Latn", "français"));
  g_assert_true (secateur_language_matches ("fra_Latn", "français"));

  set_language ("de");
  g_assert_cmpstr (secateur_language_name ("fra_Latn"), ==, "Französisch");

  /* Unknown codes stay codes, in every language. */
  g_assert_cmpstr (secateur_language_name ("qqq_Zzzz"), ==, "qqq_Zzzz");
  g_assert_cmpstr (secateur_language_script ("qqq_Qqqq"), ==, "Qqqq");
  set_language (NULL);
}

int
main (int argc, char **argv)
{
  set_language (NULL);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/languages/locale-dir", test_locale_dir);
  g_test_add_func ("/languages/uninstalled-french", test_uninstalled_french);
  g_test_add_func ("/languages/names", test_names);
  return g_test_run ();
}
