/* sc-bpe.h: Hugging Face `tokenizer.json` byte-level BPE, as BLOOM uses it.
 *
 * Written from the file format and the behaviour of the `tokenizers`
 * library (checked against it by tests/goldens/bloom-tokenizer.json):
 *  - added tokens (special or not, lstrip/rstrip/single_word false) are cut
 *    out of the raw text first, leftmost-longest, non-normalized ones first;
 *  - the rest goes through BLOOM's pre-tokenizer: a Split with the regex
 *    ` ?[^(\s|[.,!?…。，、।۔،])]+` (behaviour Isolated: matches and the gaps
 *    between them both become pieces; `\s` is Unicode whitespace as in
 *    Oniguruma: U+0009..U+000D, U+0085 and categories Zs, Zl, Zp), then
 *    ByteLevel without prefix space or regex (every byte of a piece becomes
 *    one character of GPT-2's byte-to-unicode table);
 *  - BPE merges by rank, lowest first, leftmost among equal ranks (a piece
 *    that is itself a token is kept whole when the model says
 *    ignore_merges); characters absent from the vocabulary are dropped (no
 *    unk_token); merges "a b" or ["a", "b"];
 *  - decoding maps characters back to bytes (a token with a character
 *    outside the table is taken as its own UTF-8) and replaces invalid
 *    UTF-8 by U+FFFD per maximal invalid subpart, as Rust's
 *    String::from_utf8_lossy. No clean-up of spaces (transformers'
 *    clean_up_tokenization_spaces is not applied).
 * Other normalizers and pre-tokenizers are refused with SC_ERROR_UNSUPPORTED. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _ScBpe ScBpe;

/* `dir`/tokenizer.json */
ScBpe       *sc_bpe_load          (const char *dir, GError **error);
ScBpe       *sc_bpe_load_file     (const char *path, GError **error);
/* `data` need not be NUL-terminated; len < 0 means it is. */
ScBpe       *sc_bpe_parse         (const char *data, gssize len, GError **error);
void         sc_bpe_free          (ScBpe *bpe);

/* Largest id + 1 over the vocabulary and the added tokens. */
int          sc_bpe_vocab_size    (const ScBpe *bpe);
/* Id of a token (vocabulary or added), or -1. */
int          sc_bpe_token_to_id   (const ScBpe *bpe, const char *token);
/* The token of `id` (byte-level characters for vocabulary tokens), or NULL. */
const char  *sc_bpe_id_to_token   (const ScBpe *bpe, int id);
gboolean     sc_bpe_is_special    (const ScBpe *bpe, int id);
guint        sc_bpe_n_merges      (const ScBpe *bpe);

/* Token ids of UTF-8 `text` (len < 0: NUL-terminated); no special tokens
 * are added (BLOOM's post-processor adds none). Invalid UTF-8 is an error. */
GArray      *sc_bpe_encode        (const ScBpe *bpe, const char *text, gssize len,
                                   GError **error);
/* Text of `ids`; ids outside the vocabulary are skipped, as `tokenizers`
 * does; special tokens are dropped when skip_special. */
char        *sc_bpe_decode        (const ScBpe *bpe, const int *ids, gsize n,
                                   gboolean skip_special);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScBpe, sc_bpe_free)

G_END_DECLS
