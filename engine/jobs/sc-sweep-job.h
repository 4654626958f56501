/* sc-sweep-job.h: the quality sweep: chrF++ of masked expert pruning at
 * several ratios, per direction and averaged, on the model's held-out set;
 * the curve the application draws beside the pruning slider and its
 * report. Each point is an evaluate job (sc-evaluate-job.h): greedy, the
 * full model at ratio 0, the pruned one (sc_prune_keep_mask with the given
 * settings at that ratio) elsewhere. Progress: one stage, "sweep", counting
 * points. Cancelled: G_IO_ERROR_CANCELLED. */
#pragma once

#include "sc-capture.h"
#include "sc-evaluate-job.h"
#include "sc-prune-plan.h"

G_BEGIN_DECLS

/* 0, 0.25, 0.5, 0.75 and 0.9 */
#define SC_SWEEP_N_DEFAULT_RATIOS 5
extern const double sc_sweep_default_ratios[SC_SWEEP_N_DEFAULT_RATIOS];

typedef struct {
  const char *const *directions;  /* "src-tgt" */
  ScStats           *stats;       /* read only */
  ScPruneSettings    settings;    /* the ratio is each point's */
  const double      *ratios;      /* ascending; NULL: sc_sweep_default_ratios */
  int                n_ratios;
  int                sentences;   /* held-out sentences per direction; 0: all */
  int                max_length;  /* longest output; 0: the model's */
  const ScCapture   *capture;     /* with settings.merge: what merging runs on */
} ScSweepJobOptions;

typedef struct {
  int     n_directions, n_ratios;
  char  **directions;
  double *ratios;   /* [n_ratios] */
  double *chrf;     /* [n_ratios] the mean over the directions */
  double *scores;   /* [n_directions * n_ratios]: direction d at point i is scores[d * n_ratios + i] */
} ScSweepJobResult;

ScSweepJobResult *sc_sweep_job_run          (ScModel *model, const ScSweepJobOptions *opts,
                                             ScProgressCallback progress, gpointer progress_data,
                                             GCancellable *cancellable, GError **error);
void              sc_sweep_job_result_free  (ScSweepJobResult *result);
/* chrF++ at `ratio`, linear between the points; beyond the last one the
 * last segment's slope carries on (never below 0). */
double            sc_sweep_job_estimate_chrf (const ScSweepJobResult *result, double ratio);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScSweepJobResult, sc_sweep_job_result_free)

G_END_DECLS
