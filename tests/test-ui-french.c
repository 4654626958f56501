/* test-ui-french.c: the application in French as the uninstalled build runs
 * it: the build tree's catalogues (where secateur_i18n_locale_dir sends the
 * uninstalled program), the window's and a page's strings in French, and
 * language names from iso-codes' French catalogue in the pair list. */
#include "sc-test-ui.h"
#include "secateur-i18n.h"
#include "secateur-language-picker.h"

#include <glib/gi18n.h>

static char *tmp;

static void
test_french (void)
{
  if (!g_file_test ("/usr/share/locale/fr/LC_MESSAGES/iso_639-3.mo", G_FILE_TEST_EXISTS))
    {
      g_test_skip ("iso-codes' French catalogue is not installed");
      return;
    }
  SecateurWindow *window = sc_ui_open_demo (2, 16);
  if (window == NULL)
    return;
  /* a page's template and the window's own strings */
  GtkButton *measure =
      sc_ui_child (secateur_window_get_page (window, "prune"), "measure_button");
  g_assert_cmpstr (gtk_button_get_label (measure), ==, "_Mesurer la qualité");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-page", "s", "prune"));
  /* localised language names where pairs are listed */
  SecateurLanguagePicker *picker =
      sc_ui_child (secateur_window_get_page (window, "model"), "picker");
  g_assert_true (secateur_language_picker_add_pair (picker, "eng_Latn", "deu_Latn"));
  const char *pairs = sc_ui_label_text (picker, "pairs_label");
  g_test_message ("pairs: %s", pairs);
  g_assert_nonnull (strstr (pairs, "anglais → allemand"));
  sc_ui_screenshot (GTK_WIDGET (window), tmp, "french-prune");
  gtk_window_destroy (GTK_WINDOW (window));
  sc_ui_settle (0.2);
}

int
main (int argc, char **argv)
{
  /* French as a user would ask for it; gettext ignores LANGUAGE in the C
   * locale, so a UTF-8 one (GTK's setlocale reads LC_ALL) */
  g_setenv ("LC_ALL", "C.UTF-8", TRUE);
  g_setenv ("LANGUAGE", "fr", TRUE);
  tmp = sc_ui_init (&argc, &argv);
  if (tmp == NULL)
    return 77; /* no display */
  /* what app/secateur.c does at start, for the program in the build tree */
  secateur_i18n_init ();
  g_autofree char *program = g_build_filename (SECATEUR_BUILD_ROOT, "app", "secateur", NULL);
  g_autofree char *dir = secateur_i18n_locale_dir (program);
  g_assert_cmpstr (dir, !=, LOCALEDIR);
  bindtextdomain (GETTEXT_PACKAGE, dir);
  g_test_add_func ("/ui-french/strings-and-names", test_french);
  int status = g_test_run ();
  sc_test_rm_tree (tmp);
  g_free (tmp);
  return status;
}
