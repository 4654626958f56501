/* sc-model-folder.h: what a loaded model's folder holds besides weights,
 * answered by the model so that nothing hands its folder around next to
 * it: its training shares (for Multilingual Brain Surgeon sampling), its
 * held-out set (what evaluation reads by default), the corpus a spec names
 * for it, and its tokenizer's files. */
#pragma once

#include "sc-corpus-spec.h"
#include "sc-model.h"
#include "sc-sampler.h"

G_BEGIN_DECLS

/* The model's name: its folder's, as statistics and reports record it. */
const char   *sc_model_get_name          (ScModel *model);

/* Its training shares: the folder's language-shares.tsv when it ships one
 * (the demo model does), else NLLB-200's shipped table. */
ScShareTable *sc_model_load_share_table  (ScModel *model, GError **error);

/* Its held-out pairs src -> tgt: the folder's heldout.tsv when that has the
 * direction, else the shipped UDHR's held-out articles
 * (sc_corpus_held_out_pairs). GPtrArray of ScCorpusPair. */
GPtrArray    *sc_model_held_out_pairs    (ScModel *model, const char *src, const char *tgt,
                                          GError **error);

/* The pairs of `split` of the corpus `spec` names, for this model (the
 * default held-out set is the model's own, as above). */
GPtrArray    *sc_model_corpus_pairs      (ScModel *model, const ScCorpusSpec *spec,
                                          ScCorpusSplit split, const char *src, const char *tgt,
                                          GError **error);

/* The SentencePiece model file the tokenizer was loaded from (spBLEU's
 * tokenizer is the model's own); g_free it. */
char         *sc_model_get_spm_path      (ScModel *model);

G_END_DECLS
