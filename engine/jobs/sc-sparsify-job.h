/* sc-sparsify-job.h: the weight pruning job: draw the calibration set,
 * prune every linear layer (sc-sparsify.h: Wanda, SparseGPT, magnitude),
 * sum up the sparsity per block and, for NLLB, measure each language's
 * chrF++ before and after (sc-language-quality.h); then export the pruned
 * weights. Behind `secateur-cli sparsify` and the application's Weights
 * page. Progress: stage "prune" (blocks), then "measure" (one unit per
 * language and side). Cancelled: G_IO_ERROR_CANCELLED.
 *
 * The open model stays whole: the full side of the comparison is the
 * model as loaded; the pruned side carries the pruned weights. */
#pragma once

#include "sc-export.h"
#include "sc-language-quality.h"
#include "sc-progress.h"
#include "sc-sparsify.h"

G_BEGIN_DECLS

#define SC_SPARSIFY_JOB_EVAL_SOURCE "eng_Latn"

typedef struct {
  ScSparsifyOptions  sparsify;   /* method, pattern, backend, the MPI hooks */
  ScCalibOptions     calib;      /* the calibration drawn (not for magnitude pruning) */
  /* When set, the samples this process runs (e.g. its share under MPI),
   * given the whole set; the record and the description are the whole set's. */
  ScCalibSet      *(*calib_share) (const ScCalibSet *set, gpointer data);
  /* When set, called with the calibration set once drawn, before the work. */
  void             (*calib_drawn) (const ScCalibSet *set, gpointer data);
  gpointer           calib_data;  /* for both */
  /* Languages measured, SC_SPARSIFY_JOB_EVAL_SOURCE -> X on the held-out
   * set (NLLB only); NULL: none (sc_sparsify_job_default_languages gives
   * the application's default). */
  const char *const *eval_languages;
  int                eval_sentences;   /* per language; 0: 4 */
  int                eval_max_length;  /* 0: the model's */
  double             threshold;        /* relative chrF++ loss flagged; 0: 0.1 */
} ScSparsifyJobOptions;

typedef struct _ScSparsifyJobPruned ScSparsifyJobPruned;

typedef struct {
  ScSparsifyReport *report;          /* per linear layer */
  int               n_blocks, n_encoder_blocks;
  double           *block_sparsity;  /* [n_blocks]: zeros / weights of the block's layers */
  double            min_layer, max_layer; /* the least and most sparse linear layer */
  char             *calibration;     /* sc_calib_set_describe (); NULL without calibration */
  ScLangQualityRow *languages;       /* chrF++ before and after, largest training share first */
  gboolean         *degraded;        /* [n_languages] */
  guint             n_languages, n_degraded;
  double            threshold;
  double            seconds;         /* the whole job */
  JsonObject       *record;          /* what was done, for config.json (sc_sparsify_record) */
  ScSparsifyJobPruned *pruned;       /* the pruned weights (sc_sparsify_job_export) */
} ScSparsifyJobResult;

void                 sc_sparsify_job_options_init (ScSparsifyJobOptions *opts);

/* NLLB (`model`) or BLOOM (`bloom`): exactly one is not NULL. */
ScSparsifyJobResult *sc_sparsify_job_run          (ScModel *model, ScBloom *bloom,
                                                   const ScSparsifyJobOptions *opts,
                                                   ScProgressCallback progress,
                                                   gpointer progress_data,
                                                   GCancellable *cancellable, GError **error);
void                 sc_sparsify_job_result_free  (ScSparsifyJobResult *result);

/* Writes the pruned model as a checkpoint (zeros in place, the record in
 * config.json) to `out_dir`. */
gboolean             sc_sparsify_job_export       (ScSparsifyJobResult *result,
                                                   const char *out_dir,
                                                   const ScExportOptions *opts,
                                                   GCancellable *cancellable, GError **error);

/* Every language of the model with held-out UDHR text, the source aside. */
GStrv                sc_sparsify_job_default_languages (ScModel *model, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScSparsifyJobResult, sc_sparsify_job_result_free)

G_END_DECLS
