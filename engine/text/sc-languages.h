/* sc-languages.h: NLLB-200 language codes (FAIRSEQ_LANGUAGE_CODES order). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SC_N_NLLB_LANGUAGES 202

/* The code at vocabulary index `index`, or NULL. */
const char *sc_language_code  (guint index);
/* Index of `code` (e.g. "eng_Latn" -> 46), or -1 when unknown. */
int         sc_language_index (const char *code);

G_END_DECLS
