/* sc-tokenizer.h: the NLLB tokenizer (Hugging Face NllbTokenizer semantics).
 *
 * Id space: 0 <s>, 1 <pad>, 2 </s>, 3 <unk>; SentencePiece piece k -> k + 1
 * (piece 0, spm's unknown, -> 3); then one id per language code; then <mask>.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SC_TOKEN_BOS 0
#define SC_TOKEN_PAD 1
#define SC_TOKEN_EOS 2
#define SC_TOKEN_UNK 3

typedef struct _ScTokenizer ScTokenizer;

/* Loads `sentencepiece.bpe.model` and, when present, `tokenizer_config.json`
 * (language codes, legacy_behaviour, clean_up_tokenization_spaces) from `dir`. */
ScTokenizer *sc_tokenizer_load        (const char *dir, GError **error);
void         sc_tokenizer_free        (ScTokenizer *tok);

int          sc_tokenizer_vocab_size  (ScTokenizer *tok);
int          sc_tokenizer_mask_id     (ScTokenizer *tok);
guint        sc_tokenizer_n_languages (ScTokenizer *tok);
const char  *sc_tokenizer_language    (ScTokenizer *tok, guint index);
/* Token id of a language code, or -1 (and an SC_ERROR_LANGUAGE error). */
int          sc_tokenizer_lang_id     (ScTokenizer *tok, const char *code, GError **error);
/* The code whose token is `id`, or NULL. */
const char  *sc_tokenizer_lang_code   (ScTokenizer *tok, int id);
gboolean     sc_tokenizer_is_special  (ScTokenizer *tok, int id);

void         sc_tokenizer_set_legacy  (ScTokenizer *tok, gboolean legacy);

/* Source encoding: [lang] pieces [</s>] (legacy: pieces [</s> lang]).
 * Returns an array of int. */
GArray      *sc_tokenizer_encode      (ScTokenizer *tok, const char *text, const char *src_lang,
                                       GError **error);
/* Pieces only, no special tokens added. */
GArray      *sc_tokenizer_encode_pieces (ScTokenizer *tok, const char *text, GError **error);
/* Text of `ids` with every special token dropped, as decode(skip_special_tokens=True). */
char        *sc_tokenizer_decode      (ScTokenizer *tok, const int *ids, gsize n);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScTokenizer, sc_tokenizer_free)

G_END_DECLS
