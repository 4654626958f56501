/* sc-unigram.h: unigram segmentation as Hugging Face `tokenizers` does it.
 *
 * NllbTokenizerFast (what AutoTokenizer returns for NLLB) runs its Unigram
 * model word by word (the Metaspace pre-tokenizer splits before every U+2581)
 * with a Viterbi search whose path scores are doubles, keeping the first
 * best candidate found (shorter pieces from a position are tried first).
 * SentencePiece sums the same scores as floats over the whole string, so
 * where two segmentations tie ("...", "." against ".", "...") rounding picks
 * one or the other. This reimplements the former from the piece table:
 *  - every piece is a candidate with its own score (no bonus for user
 *    defined pieces, unused ones are not skipped);
 *  - a character that starts no one-character piece is an unknown node
 *    scoring min(score) - 10;
 *  - consecutive unknown nodes are fused into one string, looked up as a
 *    piece, else spelled as byte pieces when the model has byte fallback,
 *    else the unknown id. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _ScUnigram ScUnigram;

/* `unk_id` is the id emitted for unknown text; with `byte_fallback`,
 * unknown text becomes the pieces "<0xHH>" of its UTF-8 bytes instead. */
ScUnigram *sc_unigram_new        (int unk_id, gboolean byte_fallback);
void       sc_unigram_free       (ScUnigram *uni);
/* Adds `piece` (UTF-8, copied) with its score and id; a repeated piece keeps
 * its first id. */
void       sc_unigram_add_piece  (ScUnigram *uni, const char *piece, double score, int id);
/* Appends the ids of `normalized` (len bytes of normalised text, spaces
 * already U+2581) to `out`, an array of int. */
void       sc_unigram_encode     (ScUnigram *uni, const char *normalized, gsize len, GArray *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScUnigram, sc_unigram_free)

G_END_DECLS
