/* sc-evaluate.h: what pruning costs, per direction.
 *
 * Translates a corpus with a full view of the model and, given one, a
 * pruned view (fewer experts, or pruned weights), and scores both against the references
 * with chrF++ and spBLEU (sacreBLEU semantics; spBLEU over the model's own
 * SentencePiece model, which for NLLB-200 is FLORES-200's). Also the mean
 * teacher-forced negative log-likelihood of the references and how often
 * the two models agree word for word.
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

typedef struct {
  char       *src, *tgt;
  int         n_sentences;
  ScEvalSide  full;
  ScEvalSide  pruned;        /* filled only when a mask was given */
  gboolean    has_pruned;
  double      agreement;     /* fraction of identical full and pruned outputs */
} ScEvalResult;

void     sc_eval_result_clear (ScEvalResult *result);

/* sources/references: `n` sentences of src -> tgt, translated with `full`
 * and, when not NULL, with `pruned` (two views of one model, sc-view.h). */
gboolean sc_evaluate (ScView *full, ScView *pruned, const char *src, const char *tgt,
                      const char *const *sources, const char *const *references, int n,
                      const ScGenerateOptions *gen, int batch_size, GCancellable *cancellable,
                      ScEvalResult *result, GError **error);

/* The layout of the paper authors' score tables (naver/nllb-pruning
 * scores/ TSV files): this header, then one row per direction: "src-tgt", spBLEU
 * and chrF++ to 2 decimals, len_ratio to 3. */
#define SC_EVAL_TSV_HEADER "direction\tspBLEU\tchrF++\tlen_ratio\n"
void     sc_eval_tsv_append_row (GString *tsv, const char *direction, const ScEvalSide *side);

/* sc_evaluate's two halves, so that processes can each translate a share
 * of the corpus and one score the whole. sc_evaluate_translate gives, with
 * the view's experts and weights, the `n` hypotheses (free with g_strfreev) and
 * each sentence's summed reference NLL and token count; sc_evaluate_score
 * scores hypotheses of the whole corpus into `side` (clear it with
 * sc_eval_result_clear's rules: side->hyps is owned). Both together give
 * sc_evaluate's numbers exactly, however the corpus was split. */
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
