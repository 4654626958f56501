/* secateur-controller-private.h: the controller's state and job plumbing,
 * shared by the files that hold its workflows
 * (secateur-controller-<workflow>.c); not for the pages.
 *
 * Threading rules: the ScModel is touched by one job at a time (jobs are
 * serialised by `busy`); the main thread reads only the immutable model
 * info. Workers reach the main context only through
 * controller_post_progress. */
#pragma once

#include "secateur-controller.h"

#include "sc-capture.h"
#include "sc-sweep-job.h"

G_BEGIN_DECLS

/* the quality sweep's points: sc_sweep_default_ratios */
#define N_SWEEP SC_SWEEP_N_DEFAULT_RATIOS

struct _SecateurController
{
  GObject parent_instance;

  ScModel *model;
  ScBackend *backend; /* ours when threads were chosen; outlives the model */
  int threads;        /* 0: one per core */
  char *device;       /* NULL: the CPU */
  SecateurModelInfo *info;
  GStrv directions;
  ScStats *stats; /* main thread's snapshot */
  /* the router inputs the last calibration captured (it captures when the
   * settings merge), for merging; NULL: none */
  ScCapture *capture;

  gboolean busy;
  guint job_serial; /* drops progress of finished jobs */
  GCancellable *job_cancellable;

  GPtrArray *runs;  /* ScSweepJobResult: every sweep of the session, oldest first */
  int current_run;  /* the run the estimate and the report use; -1: none */

  SecateurPruneSettings *prune_settings; /* the pages' pruning settings */

  int eval_sentences;
  int eval_max_length;

  /* weight pruning: what it measured, the pruned weights and their record */
  SecateurSparsifyResult *weights_result;

  /* direction -> the last Compare's scores with references (as export
   * --report records them) and "settings_key", the settings it ran with */
  JsonObject *compare_scores;
};

typedef enum
{
  SIGNAL_PROGRESS,
  SIGNAL_STATS_UPDATED,
  SIGNAL_SWEEP_UPDATED,
  N_SIGNALS
} ControllerSignal;

/* FALSE, with the task returned in error, when `s` merges pruned experts
 * and no calibration captured the router inputs merging runs on. */
gboolean controller_check_merge (SecateurController *self, const ScPruneSettings *s, GTask *task);

/* Emits one of the signals without arguments. */
void controller_emit (SecateurController *self, ControllerSignal signal);

/* What a job needs before it starts. */
typedef enum
{
  JOB_NEEDS_NOTHING,
  JOB_NEEDS_MODEL,
  JOB_NEEDS_STATS, /* a model with experts, calibrated */
} JobNeeds;

/* A GTask for a job, or NULL (the callback told why) when another job runs
 * or `needs` is not met. */
GTask *controller_job_new (SecateurController *self, gpointer source_tag, JobNeeds needs,
                           GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data);
/* Returns a job's outcome on its task: TRUE, or `error` when !ok. */
void controller_job_return (GTask *task, gboolean ok, GError *error);
/* The _finish of a job that returned with controller_job_return. */
gboolean controller_job_finish (SecateurController *self, GAsyncResult *result, GError **error);

/* Progress (and a statistics snapshot, taken over) to the main context. */
void controller_post_progress (SecateurController *self, int done, int total, double rate,
                               double eta, ScStats *snapshot);
/* An ScProgressCallback whose data is the controller. */
void controller_job_progress (const ScProgress *p, gpointer self);

/* Forgets every run (another model). */
void controller_clear_runs (SecateurController *self);

/* The last Compare's scores of `directions` under `settings`, or NULL. */
JsonObject *controller_compare_scores_for (SecateurController *self, const char *const *directions,
                                           const ScPruneSettings *settings);

G_END_DECLS
