/* secateur-languages.h: readable names of NLLB codes ("fra_Latn" -> French,
 * Latin), from the iso-codes tables when installed, else the codes. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Name of the language in the interface's language ("French", "français"
 * with LANGUAGE=fr, through iso-codes' catalogues); never NULL. */
const char *secateur_language_name         (const char *code);
/* English name ("French"); never NULL. */
const char *secateur_language_english_name (const char *code);
/* Script name in the interface's language ("Latin", "latin"); never NULL. */
const char *secateur_language_script       (const char *code);
/* Whether a search for `text` finds the language: its code, its name in
 * the interface's language or in English, or its script, ignoring case. */
gboolean    secateur_language_matches      (const char *code, const char *text);
/* "src-tgt" directions as "French → English", in the interface's language,
 * for the lists people choose pairs from; g_strfreev. */
GStrv       secateur_direction_names       (const char *const *directions);

G_END_DECLS
