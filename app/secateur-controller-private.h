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
#include "sc-project.h"
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
  const char *job_name; /* the running job's, for people */

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

  /* the project of the open model (secateur-controller-project.c) */
  char *project_root; /* where a model's project is made; NULL: none */
  ScProject *project;
  char *project_note;         /* why the model's project could not be opened */
  guint project_save_id;      /* a pending save of the settings */
  gboolean project_restoring; /* restoring: nothing to save */
  gboolean project_connected;
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

/* On a worker thread: it and the threads computing with it (the CPU
 * backend's pool, OpenBLAS) run at a lower priority than the main loop,
 * so that the interface stays quick during a job. Progress calls it. */
void controller_job_lower_priority (void);
/* Progress (and a statistics snapshot, taken over) to the main context;
 * from a worker thread. */
void controller_post_progress (SecateurController *self, int done, int total, double rate,
                               double eta, ScStats *snapshot);
/* An ScProgressCallback whose data is the controller. */
void controller_job_progress (const ScProgress *p, gpointer self);

/* Forgets every run (another model). */
void controller_clear_runs (SecateurController *self);

/* The last Compare's scores of `directions` under `settings`, or NULL. */
JsonObject *controller_compare_scores_for (SecateurController *self, const char *const *directions,
                                           const ScPruneSettings *settings);

/* ---- the project (secateur-controller-project.c) ---- */

/* What the load job finds of a project, on the worker. */
typedef struct
{
  char *root;           /* the controller's project root, copied */
  ScProject *project;   /* the project opened */
  ScStats *stats;       /* its statistics, or NULL */
  GPtrArray *sweeps;    /* its sweeps (ScSweepJobResult), or NULL */
  ScCapture *capture;   /* the router inputs saved beside its statistics, or NULL */
  char *note;           /* why the model's project could not be opened */
} ControllerProjectLoad;

void     controller_project_load_clear   (ControllerProjectLoad *pl);
/* Worker: `dir` is a model folder, or a project folder whose model (the
 * same fingerprint) is then the one to load. */
gboolean controller_project_load_prepare (ControllerProjectLoad *pl, const char *dir,
                                          char **model_dir, GError **error);
/* Worker, the model loaded: opens or creates its project under the root
 * (when no project folder was opened) and reads its statistics and sweeps. */
void     controller_project_load_open    (ControllerProjectLoad *pl, ScModel *model);
/* Main thread, after the model was swapped in: takes the project and
 * restores its work. */
void     controller_project_loaded       (SecateurController *self, ControllerProjectLoad *pl);
/* Saves: the statistics (after calibration), a sweep, an export, the
 * settings and directions (after a pause). */
void     controller_project_save_stats   (SecateurController *self);
void     controller_project_add_sweep    (SecateurController *self, const ScSweepJobResult *sweep);
void     controller_project_add_export   (SecateurController *self, const char *folder,
                                          const char *const *directions,
                                          const ScPruneSettings *settings, const char *dtype);
void     controller_project_directions_changed (SecateurController *self);
/* Writes a pending settings save now. */
void     controller_project_flush        (SecateurController *self);
/* At finalize. */
void     controller_project_clear        (SecateurController *self);
/* Restored sweeps join the session's runs (taken). */
void     controller_restore_sweeps       (SecateurController *self, GPtrArray *sweeps);

G_END_DECLS
