/* secateur-about.c: the About window. */
#include "secateur-about.h"

#include "secateur-config.h"

#include <adwaita.h>
#include <glib/gi18n.h>

void
secateur_show_about (GtkWindow *parent)
{
  g_return_if_fail (parent == NULL || GTK_IS_WINDOW (parent));

  const char *developers[] = { "The Secateur developers https://github.com/secateur/secateur",
                               NULL };
  /* The two methods Secateur implements, with the authors' code. */
  const char *papers[] = {
    "Koishekenov, Berard, Nikoulina: Memory-efficient NLLB-200: Language-specific Expert "
    "Pruning of a Massively Multilingual Machine Translation Model (ACL 2023) "
    "https://github.com/naver/nllb-pruning",
    "Zeng et al.: Multilingual Brain Surgeon: Large Language Models Can Be Compressed Leaving "
    "No Language Behind (2024) https://github.com/HongchuanZeng/MBS",
    NULL,
  };

  AdwAboutWindow *about = ADW_ABOUT_WINDOW (adw_about_window_new ());
  gtk_window_set_transient_for (GTK_WINDOW (about), parent);
  gtk_window_set_modal (GTK_WINDOW (about), parent != NULL);
  adw_about_window_set_application_name (about, "Secateur");
  adw_about_window_set_application_icon (about, SECATEUR_APP_ID);
  adw_about_window_set_version (about, SECATEUR_VERSION);
  adw_about_window_set_developer_name (about, _ ("The Secateur developers"));
  adw_about_window_set_comments (
      about, _ ("Prune the experts of multilingual translation models without leaving languages "
                "behind."));
  adw_about_window_set_license_type (about, GTK_LICENSE_GPL_3_0);
  adw_about_window_set_copyright (about, _ ("© 2026 The Secateur developers"));
  adw_about_window_set_website (about, "https://github.com/secateur/secateur");
  adw_about_window_set_issue_url (about, "https://github.com/secateur/secateur/issues");
  adw_about_window_set_developers (about, developers);
  /* Translators: your names and e-mail addresses, one a line. */
  adw_about_window_set_translator_credits (about, _ ("translator-credits"));
  adw_about_window_add_acknowledgement_section (about, _ ("Methods"), papers);
  gtk_window_present (GTK_WINDOW (about));
}
