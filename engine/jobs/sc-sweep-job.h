/* sc-sweep-job.h: the quality sweep: chrF++ of masked expert pruning at
 * several ratios, per direction and averaged, on the model's held-out set;
 * the curve the application draws beside the pruning slider and its
 * report. Each point is an evaluate job (sc-evaluate-job.h): greedy, the
 * full model where every expert is kept, the pruned one (sc_prune_keep_mask
 * with the given settings at that ratio) elsewhere.
 *
 * A point is a kept set, not a slider position: the kept sets of every
 * requested ratio are computed first and ratios giving the same sets (the
 * 3:1 budget moves the kept count in coarse steps) are measured once. The
 * result remembers what the run was measured with (settings, kept counts
 * and sets, sentences, decoding, held-out set), so that an estimate can be
 * keyed on the kept set and a run can be saved (sc-sweep-record.h).
 * Progress: one stage, "sweep", counting points. Cancelled:
 * G_IO_ERROR_CANCELLED. */
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
  const double      *ratios;      /* ascending, in [0, 1); NULL: sc_sweep_default_ratios */
  int                n_ratios;
  int                sentences;   /* held-out sentences per direction; 0: all */
  int                max_length;  /* longest output; 0: the model's */
  const char        *calibration; /* what the statistics came from, kept in the result; may be NULL */
  const ScCapture   *capture;     /* with settings.merge: what merging runs on */
} ScSweepJobOptions;

typedef struct {
  int     n_directions, n_ratios;  /* n_ratios: the points measured */
  char  **directions;
  double *ratios;   /* [n_ratios] the first requested ratio that gave the point's kept sets */
  double *chrf;     /* [n_ratios] the mean over the directions */
  double *scores;   /* [n_directions * n_ratios]: direction d at point i is scores[d * n_ratios + i] */

  /* what the run was measured with (all of it written by sc-sweep-record.h) */
  ScPruneSettings settings;   /* its ratio is 0: each point has its own */
  int     experts_total;      /* experts in all MoE layers */
  int    *kept;               /* [n_directions * n_ratios] experts kept, as scores */
  char  **kept_sets;          /* [n_directions * n_ratios] sc_sweep_kept_set_id of each */
  int    *sentences;          /* [n_directions] held-out sentences translated */
  int     num_beams;          /* 1: greedy */
  int     max_length;         /* longest output in tokens */
  char   *held_out;           /* the held-out set: "heldout.tsv" (the model's own), "UDHR" or
                               * both, comma separated, when directions differ */
  char   *calibration;        /* ScSweepJobOptions.calibration; NULL when not given */
  gint64  created;            /* when it was measured, Unix seconds */
} ScSweepJobResult;

ScSweepJobResult *sc_sweep_job_run          (ScModel *model, const ScSweepJobOptions *opts,
                                             ScProgressCallback progress, gpointer progress_data,
                                             GCancellable *cancellable, GError **error);
void              sc_sweep_job_result_free  (ScSweepJobResult *result);
ScSweepJobResult *sc_sweep_job_result_copy  (const ScSweepJobResult *result);

/* The share of experts point i pruned, over the mean kept count of its
 * directions: the ratio the user gets, which the requested one may not be. */
double            sc_sweep_job_point_pruned (const ScSweepJobResult *result, int i);

/* The fingerprint of a kept set: a hex digest of the mask of `n` experts
 * (NULL: every expert kept), the same for every mask that keeps the same
 * experts. */
char             *sc_sweep_kept_set_id      (const guint8 *keep, int n);

typedef enum {
  SC_SWEEP_NOT_MEASURED, /* the kept count lies outside the measured ones */
  SC_SWEEP_INTERPOLATED, /* linear between the two nearest measured kept counts */
  SC_SWEEP_MEASURED,     /* this very kept set was measured */
} ScSweepEstimate;

/* chrF++ of direction `d` of the run for a kept set of `kept` experts with
 * fingerprint `kept_set` (NULL: unknown): the measured score when that set
 * was measured, else linear in the kept count between the nearest measured
 * counts on either side; never extrapolated (*chrf is then left alone). */
ScSweepEstimate   sc_sweep_job_estimate     (const ScSweepJobResult *result, int d, int kept,
                                             const char *kept_set, double *chrf);
/* The mean over the run's directions, `kept` and `kept_sets` holding each
 * direction's (kept_sets may be NULL): measured when every direction's set
 * was, not measured when any direction is not. */
ScSweepEstimate   sc_sweep_job_estimate_mean (const ScSweepJobResult *result, const int *kept,
                                              const char *const *kept_sets, double *chrf);

/* The direction's index in the run, or -1. */
int               sc_sweep_job_find_direction (const ScSweepJobResult *result,
                                               const char *direction);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScSweepJobResult, sc_sweep_job_result_free)

G_END_DECLS
