/* sc-spm.h: a C face for the SentencePiece C++ library.
 *
 * Only what the NLLB tokenizer needs: load a model, encode text to piece
 * ids, and map ids to piece strings.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _ScSpm ScSpm;

ScSpm      *sc_spm_load         (const char *path, GError **error);
void        sc_spm_free         (ScSpm *spm);
int         sc_spm_size         (ScSpm *spm);
/* Piece ids of `text` (spm's own normalisation); returns an array of int.
 * Unigram models are segmented as Hugging Face tokenizers does (sc-unigram.h),
 * other models (BPE) by SentencePiece. */
GArray     *sc_spm_encode       (ScSpm *spm, const char *text, GError **error);
/* The piece string for `id` (owned by spm), or NULL when out of range. */
const char *sc_spm_id_to_piece  (ScSpm *spm, int id);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScSpm, sc_spm_free)

G_END_DECLS
