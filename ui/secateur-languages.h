/* secateur-languages.h: readable names of NLLB codes ("fra_Latn" -> French,
 * Latin), from the iso-codes tables when installed, else the codes. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* English name of the language ("French"); never NULL. */
const char *secateur_language_name   (const char *code);
/* Script name ("Latin"); never NULL. */
const char *secateur_language_script (const char *code);

G_END_DECLS
