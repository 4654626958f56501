/* sc-evaluate-job.h: the evaluate job, the one place where a direction's
 * sentences are translated by the full and/or the pruned model and scored.
 *
 * Behind `secateur-cli evaluate`, `compare` and `demo`, the application's
 * Compare, and the quality sweep (sc-sweep-job.h). Per side it gives the
 * translations, the corpus scores of engine/eval/sc-evaluate.h (chrF++,
 * spBLEU, len_ratio; sacreBLEU semantics), optionally the references'
 * teacher-forced NLL and each sentence's chrF++, and the output tokens per
 * second. Progress: one stage, "translate", counting sentences over both
 * sides. Cancelled: G_IO_ERROR_CANCELLED. */
#pragma once

#include "sc-corpus-spec.h"
#include "sc-evaluate.h"
#include "sc-progress.h"
#include "sc-view.h"

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
  const char        *src, *tgt;
  /* The sentences: `n` `sources` with their `references` (NULL: typed
   * text, nothing is scored); or, when `sources` is NULL, the first `limit`
   * (0: all) pairs of `corpus` (NULL: the default, i.e. the model's
   * held-out set) in `split` (sc-corpus-spec.h). */
  const char *const *sources;
  const char *const *references;
  int                n;
  const ScCorpusSpec *corpus;
  ScCorpusSplit      split;
  int                limit;
  gboolean           full;     /* translate with the full model */
  ScExpertSet       *experts;  /* and with only these experts kept; NULL: not */
  /* The pruned side runs this view (borrowed; its experts and weight
   * overlay, e.g. merged experts, sc-merge.h) instead of `experts`. */
  ScView            *view;
  ScGenerateOptions  gen;
  int                batch_size;
  gboolean           nll;             /* the references' teacher-forced NLL per side */
  gboolean           sentence_scores; /* each sentence's chrF++ */
} ScEvaluateJobOptions;

typedef struct {
  ScEvalSide scores;          /* hyps always; the scores -1 without references; nll with opts.nll */
  double    *sentence_chrf;   /* [n] with references and opts.sentence_scores, else NULL */
  double     seconds;         /* translating */
  double     tokens_per_s;    /* output tokens (pieces and </s>) per second */
} ScEvaluateJobSide;

typedef struct {
  char              *src, *tgt;
  int                n;
  char             **sources;     /* the n sentences evaluated */
  char             **references;  /* NULL without */
  gboolean           has_full, has_pruned;
  ScEvaluateJobSide  full, pruned;
  double             agreement;   /* with both sides: the share of identical translations */
} ScEvaluateJobResult;

/* Both sides off but full; the model's generation defaults; batches of 8;
 * the held-out split of the default corpus. */
void                 sc_evaluate_job_options_init (ScEvaluateJobOptions *opts, ScModel *model,
                                                   const char *src, const char *tgt);

ScEvaluateJobResult *sc_evaluate_job_run          (ScModel *model,
                                                   const ScEvaluateJobOptions *opts,
                                                   ScProgressCallback progress,
                                                   gpointer progress_data,
                                                   GCancellable *cancellable, GError **error);
void                 sc_evaluate_job_result_free  (ScEvaluateJobResult *result);
void                 sc_evaluate_job_side_clear   (ScEvaluateJobSide *side);

/* The set `keep` (an expert mask of `model`'s shape) names; NULL for NULL. */
ScExpertSet         *sc_evaluate_job_experts      (ScModel *model, const guint8 *keep);

/* Fills side->sentence_chrf from side->scores.hyps (for callers that
 * gather translations themselves, as the CLI over MPI ranks does). */
gboolean             sc_evaluate_job_sentence_scores (ScEvaluateJobSide *side,
                                                      const char *const *references, int n,
                                                      GError **error);

/* The sentence pairs a job reads for src-tgt (see opts.corpus above): the
 * first `limit` (0: all); an empty set is G_IO_ERROR_NOT_FOUND. */
GPtrArray           *sc_evaluate_job_pairs        (ScModel *model, const ScCorpusSpec *corpus,
                                                   ScCorpusSplit split, const char *src,
                                                   const char *tgt, int limit, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScEvaluateJobResult, sc_evaluate_job_result_free)

G_END_DECLS
