/* sc-sacrebleu-text.h: sacreBLEU's text helpers (sc-sacrebleu-text.c),
 * private to the metrics. Strings are UTF-8; results are newly allocated. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Python's str.isspace () for one code point. */
gboolean   sc_py_isspace          (gunichar c);
/* str.split (): the words, as a GPtrArray of owned strings. */
GPtrArray *sc_py_split            (const char *s);
/* ' '.join (s.split ()) */
char      *sc_py_normalize_spaces (const char *s);
/* s.rstrip () */
char      *sc_py_rstrip           (const char *s);
/* s.replace (from, to) */
char      *sc_py_replace          (const char *s, const char *from, const char *to);
/* s.lower () */
char      *sc_py_lower            (const char *s);
/* sacreBLEU's 13a tokenizer (tokenizer_13a.py). */
char      *sc_tokenize_13a        (const char *text);

G_END_DECLS
