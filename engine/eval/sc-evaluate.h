/* sc-evaluate.h: what a model's translations score, per direction.
 *
 * Translates a corpus through a view of the model (sc-view.h) and scores the output
 * against the references with chrF++ and spBLEU (sacreBLEU semantics;
 * spBLEU over the model's own SentencePiece model, which for NLLB-200 is
 * FLORES-200's), with the mean teacher-forced negative log-likelihood of
 * the references. The full-versus-pruned comparison built on these is the
 * evaluate job (engine/jobs/sc-evaluate-job.h).
 */
#pragma once

#include "sc-generate.h"
#include "sc-model.h"

G_BEGIN_DECLS

typedef struct {
  double chrf_pp;
  double spbleu;
  double nll;          /* mean over reference tokens ([tgt_lang] pieces [</s>]) */
  double len_ratio;    /* hypothesis / reference length in tokens of BLEU's default 13a
                        * tokenizer: sacreBLEU's BLEU "ratio", pasero's len_ratio (the column
                        * of the authors' score tables) */
  GPtrArray *hyps;     /* char*, in corpus order */
} ScEvalSide;

/* The layout of the paper authors' score tables (naver/nllb-pruning
 * scores/ TSV files): this header, then one row per direction: "src-tgt", spBLEU
 * and chrF++ to 2 decimals, len_ratio to 3. */
#define SC_EVAL_TSV_HEADER "direction\tspBLEU\tchrF++\tlen_ratio\n"
void     sc_eval_tsv_append_row (GString *tsv, const char *direction, const ScEvalSide *side);

/* One side of an evaluation in two halves, so that processes can each
 * translate a share of the corpus and one score the whole.
 * sc_evaluate_translate gives, through `view`, the `n`
 * hypotheses (free with g_strfreev) and each sentence's summed reference
 * NLL and token count; sc_evaluate_score scores hypotheses of the whole
 * corpus into `side` (side->hyps is then owned by the caller). Both
 * together give the same numbers however the corpus was split. */
gboolean sc_evaluate_translate (ScView *view, const char *src, const char *tgt,
                                const char *const *sources, const char *const *references, int n,
                                const ScGenerateOptions *gen, int batch_size,
                                GCancellable *cancellable, char ***hyps, double *nll_sums,
                                int *nll_tokens, GError **error);
gboolean sc_evaluate_score (ScModel *model, const char *const *references, int n, char **hyps,
                            const double *nll_sums, const int *nll_tokens, ScEvalSide *side,
                            GError **error);
/* Mean negative log-likelihood per target token of `references` given
 * `sources`, teacher-forced, through `view`. */
gboolean sc_evaluate_nll (ScView *view, const char *src, const char *tgt,
                          const char *const *sources, const char *const *references, int n,
                          double *nll, GError **error);
/* The same per sentence: per_sentence[i] is the mean over sentence i's
 * reference tokens (may be NULL); nll (may be NULL) the mean over all. */
gboolean sc_evaluate_nll_each (ScView *view, const char *src, const char *tgt,
                               const char *const *sources, const char *const *references, int n,
                               double *per_sentence, double *nll, GError **error);
/* Per sentence, the summed NLL of its reference tokens and their count. */
gboolean sc_evaluate_nll_sums (ScView *view, const char *src, const char *tgt,
                               const char *const *sources, const char *const *references, int n,
                               double *sums, int *tokens, GError **error);

G_END_DECLS
