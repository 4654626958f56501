/* secateur-controller.c: engine jobs on a worker thread for the application.
 *
 * Why over 1,000 lines: it still carries parts of workflows the CLI has
 * too (compare, quality sweep, weight pruning). They move to the GTK-free
 * jobs layer (engine/jobs/) that both call, as calibration and the export
 * bundle have; then this file keeps only the GTask adapters. Until then, rules shared
 * with the CLI live in the engine (sc-prune-plan, sc-corpus-spec, ...).
 *
 * Threading rules: the ScModel is touched by one job at a time (jobs are
 * serialised by `busy`); the main thread reads only the immutable model
 * info. Calibration fills statistics owned by the job; the worker takes
 * snapshots (deep copies) at most every SNAPSHOT_INTERVAL and hands them to
 * the main context, which owns them from then on. */
#include "secateur-controller.h"

#include "sc-backend-select.h"
#include "sc-calibrate-job.h"
#include "sc-corpus.h"
#include "sc-export-job.h"
#include "sc-language-quality.h"
#include "sc-export.h"
#include "sc-model-folder.h"
#include "sc-sparsify-job.h"
#include "sc-sweep-job.h"

#include <glib/gi18n.h>
#include <errno.h>
#include <string.h>

#define SNAPSHOT_INTERVAL_US (150 * 1000)

/* the quality sweep's points (sc-sweep-job.h) */
#define N_SWEEP SC_SWEEP_N_DEFAULT_RATIOS
static const double *const sweep_ratios = sc_sweep_default_ratios;

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

  gboolean busy;
  guint job_serial; /* drops progress of finished jobs */
  GCancellable *job_cancellable;

  gboolean has_sweep;
  double sweep_chrf[N_SWEEP];
  double *sweep_scores; /* [n_directions * N_SWEEP] */
  GStrv sweep_directions;

  SecateurPruneSettings *prune_settings; /* the pages' pruning settings */

  int eval_sentences;
  int eval_max_length;

  /* weight pruning: what it measured, the pruned weights and their record */
  SecateurSparsifyResult *weights_result;

  /* direction -> the last Compare's scores with references (as export
   * --report records them) and "settings_key", the settings it ran with */
  JsonObject *compare_scores;
};

G_DEFINE_FINAL_TYPE (SecateurController, secateur_controller, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_BUSY,
  PROP_MODEL_DIR,
  PROP_DIRECTIONS,
  N_PROPS
};
static GParamSpec *properties[N_PROPS];

enum
{
  SIGNAL_PROGRESS,
  SIGNAL_STATS_UPDATED,
  SIGNAL_SWEEP_UPDATED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static void
model_info_free (SecateurModelInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->dir);
  g_free (info->name);
  g_free (info->architecture);
  g_free (info->dtype);
  g_free (info->backend);
  g_free (info->backend_note);
  g_strfreev (info->languages);
  g_free (info);
}

void
secateur_compare_result_free (SecateurCompareResult *r)
{
  if (r == NULL)
    return;
  g_free (r->src);
  g_free (r->tgt);
  g_clear_pointer (&r->rows, g_ptr_array_unref);
  g_free (r);
}

/* The pruned weights and their results; before the model they belong to. */
static void
clear_weights (SecateurController *self)
{
  g_clear_pointer (&self->weights_result, sc_sparsify_job_result_free);
}

static void
compare_row_free (SecateurCompareRow *row)
{
  g_free (row->source);
  g_free (row->reference);
  g_free (row->full);
  g_free (row->pruned);
  g_free (row);
}

/* ---- job plumbing ---- */

typedef struct
{
  GAsyncReadyCallback callback;
  gpointer user_data;
} JobClosure;

static void
set_busy (SecateurController *self, gboolean busy)
{
  if (self->busy == busy)
    return;
  self->busy = busy;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

static void
job_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  SecateurController *self = SECATEUR_CONTROLLER (source);
  JobClosure *closure = user_data;
  g_clear_object (&self->job_cancellable);
  set_busy (self, FALSE);
  if (closure->callback != NULL)
    closure->callback (source, result, closure->user_data);
  g_free (closure);
}

/* A GTask for a job, or NULL (callback told) when another job runs. */
static GTask *
job_new (SecateurController *self, gpointer source_tag, GCancellable *cancellable,
         GAsyncReadyCallback callback, gpointer user_data)
{
  if (self->busy)
    {
      g_task_report_new_error (self, callback, user_data, source_tag, G_IO_ERROR, G_IO_ERROR_BUSY,
                               _ ("Another task is still running"));
      return NULL;
    }
  JobClosure *closure = g_new0 (JobClosure, 1);
  closure->callback = callback;
  closure->user_data = user_data;
  self->job_cancellable = cancellable ? g_object_ref (cancellable) : g_cancellable_new ();
  GTask *task = g_task_new (self, self->job_cancellable, job_done, closure);
  g_task_set_source_tag (task, source_tag);
  g_task_set_check_cancellable (task, FALSE);
  g_atomic_int_inc (&self->job_serial);
  set_busy (self, TRUE);
  return task;
}

static gboolean
needs_model (SecateurController *self, GTask *task, gboolean needs_stats)
{
  if (self->model == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                               _ ("No model is open"));
      return FALSE;
    }
  if (needs_stats && self->stats == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                               _ ("Calibrate the model first"));
      return FALSE;
    }
  if (self->info->n_experts == 0 && needs_stats)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                               _ ("This model has no experts to prune"));
      return FALSE;
    }
  return TRUE;
}

/* Progress travels to the main context in one of these. */
typedef struct
{
  SecateurController *self;
  guint serial;
  int done, total;
  double rate, eta;
  ScStats *snapshot; /* nullable */
} ProgressMsg;

static gboolean
progress_dispatch (gpointer data)
{
  ProgressMsg *msg = data;
  if (!msg->self->busy || msg->serial != msg->self->job_serial)
    return G_SOURCE_REMOVE;
  if (msg->snapshot != NULL)
    {
      g_clear_pointer (&msg->self->stats, sc_stats_free);
      msg->self->stats = g_steal_pointer (&msg->snapshot);
      g_signal_emit (msg->self, signals[SIGNAL_STATS_UPDATED], 0);
    }
  g_signal_emit (msg->self, signals[SIGNAL_PROGRESS], 0, msg->done, msg->total, msg->rate,
                 msg->eta);
  return G_SOURCE_REMOVE;
}

static void
progress_msg_free (gpointer data)
{
  ProgressMsg *msg = data;
  g_clear_pointer (&msg->snapshot, sc_stats_free);
  g_object_unref (msg->self);
  g_free (msg);
}

static void
post_progress (SecateurController *self, int done, int total, double rate, double eta,
               ScStats *snapshot)
{
  ProgressMsg *msg = g_new0 (ProgressMsg, 1);
  msg->self = g_object_ref (self);
  msg->serial = g_atomic_int_get (&self->job_serial);
  msg->done = done;
  msg->total = total;
  msg->rate = rate;
  msg->eta = eta;
  msg->snapshot = snapshot;
  g_main_context_invoke_full (NULL, G_PRIORITY_DEFAULT, progress_dispatch, msg, progress_msg_free);
}

/* A job's progress (rate and time left worked out by its meter) to the
 * `progress` signal: an ScProgressCallback whose data is the controller. */
static void
job_progress (const ScProgress *p, gpointer self)
{
  post_progress (self, (int) p->done, (int) p->total, p->rate, p->eta_s, NULL);
}

/* ---- load ---- */

static SecateurModelInfo *
model_info_new (ScModel *model)
{
  const ScConfig *c = sc_model_get_config (model);
  const ScMoeShape *shape = sc_model_get_moe_shape (model);
  ScTokenizer *tok = sc_model_get_tokenizer (model);
  SecateurModelInfo *info = g_new0 (SecateurModelInfo, 1);
  info->dir = g_strdup (sc_model_get_dir (model));
  info->name = g_strdup (sc_model_get_name (model));
  info->architecture = g_strdup (c->arch == SC_ARCH_NLLB_MOE ? _ ("NLLB-200 Mixture-of-Experts")
                                                             : _ ("NLLB-200 dense (M2M100)"));
  info->dtype = g_strdup (sc_dtype_name (sc_model_get_dtype (model)));
  info->backend = g_strdup (sc_model_get_backend (model)->name);
  info->threads = g_get_num_processors ();
  info->n_moe_layers = shape->n_moe_layers;
  info->n_encoder_moe = shape->n_encoder_moe;
  info->n_experts = shape->n_experts;
  info->encoder_layers = shape->encoder_layers;
  info->decoder_layers = shape->decoder_layers;
  info->d_model = shape->d_model;
  info->params_dense = sc_model_n_params_dense (model);
  info->params_experts = sc_model_n_params_experts (model);
  info->disk_bytes = sc_checkpoint_file_bytes (sc_model_get_checkpoint (model));
  guint n_langs = sc_tokenizer_n_languages (tok);
  info->languages = g_new0 (char *, n_langs + 1);
  for (guint i = 0; i < n_langs; i++)
    info->languages[i] = g_strdup (sc_tokenizer_language (tok, i));
  /* stored bytes, from the model's measure of its tensors */
  info->bytes_per_expert = shape->bytes_per_expert;
  info->weight_bytes = sc_moe_shape_bytes (shape, shape->n_moe_layers * shape->n_experts);
  return info;
}

typedef struct
{
  char *dir;
  int threads;
  char *device;
  char *note;
  ScBackend *backend;
  ScModel *model;
  SecateurModelInfo *info;
} LoadData;

static void
load_data_free (gpointer data)
{
  LoadData *d = data;
  g_free (d->dir);
  g_free (d->device);
  g_free (d->note);
  g_clear_pointer (&d->model, sc_model_free);
  g_clear_pointer (&d->backend, sc_backend_free);
  model_info_free (d->info);
  g_free (d);
}

static void
load_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  LoadData *d = task_data;
  GError *error = NULL;
  /* the preferences' device ... */
  if (d->device != NULL && !g_str_equal (d->device, "cpu"))
    {
      g_autoptr (GError) device_error = NULL;
      d->backend = sc_backend_new (d->device, d->threads, &d->note, &device_error);
      if (d->backend == NULL) /* "cuda" asked for and not usable: the CPU, saying why */
        d->note = g_strdup_printf (_ ("Running on the CPU: %s"), device_error->message);
      else if (g_str_equal (d->device, "auto"))
        g_clear_pointer (&d->note, g_free); /* the CPU is what "auto" means without a GPU */
    }
  /* ... and thread count; 0 lets the engine use every core */
  if (d->backend == NULL && d->threads > 0)
    d->backend = sc_backend_cpu_new (d->threads);
  d->model = sc_model_load (d->dir, d->backend, &error);
  if (d->model == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  d->info = model_info_new (d->model);
  if (d->threads > 0)
    d->info->threads = d->threads;
  d->info->backend_note = g_steal_pointer (&d->note);
  g_task_return_boolean (task, TRUE);
}

void
secateur_controller_load_async (SecateurController *self, const char *dir,
                                GCancellable *cancellable, GAsyncReadyCallback callback,
                                gpointer user_data)
{
  g_autoptr (GTask) task =
      job_new (self, secateur_controller_load_async, cancellable, callback, user_data);
  if (task == NULL)
    return;
  LoadData *d = g_new0 (LoadData, 1);
  d->dir = g_strdup (dir);
  d->threads = self->threads;
  d->device = g_strdup (self->device);
  g_task_set_task_data (task, d, load_data_free);
  g_task_run_in_thread (task, load_thread);
}

gboolean
secateur_controller_load_finish (SecateurController *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  LoadData *d = g_task_get_task_data (G_TASK (result));
  if (d->model == NULL)
    return TRUE; /* already taken by an earlier finish */
  clear_weights (self);
  g_clear_pointer (&self->compare_scores, json_object_unref);
  g_clear_pointer (&self->model, sc_model_free);
  g_clear_pointer (&self->backend, sc_backend_free);
  g_clear_pointer (&self->info, model_info_free);
  g_clear_pointer (&self->stats, sc_stats_free);
  g_clear_pointer (&self->directions, g_strfreev);
  self->has_sweep = FALSE;
  self->model = g_steal_pointer (&d->model);
  self->backend = g_steal_pointer (&d->backend);
  self->info = g_steal_pointer (&d->info);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODEL_DIR]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DIRECTIONS]);
  g_signal_emit (self, signals[SIGNAL_STATS_UPDATED], 0);
  g_signal_emit (self, signals[SIGNAL_SWEEP_UPDATED], 0);
  return TRUE;
}

const SecateurModelInfo *
secateur_controller_get_info (SecateurController *self)
{
  return self->info;
}

guint64
secateur_controller_pruned_bytes (SecateurController *self, const guint8 *keep)
{
  if (self->model == NULL)
    return 0;
  const ScMoeShape *shape = sc_model_get_moe_shape (self->model);
  int n = shape->n_moe_layers * shape->n_experts, kept = n;
  for (int i = 0; keep != NULL && i < n; i++)
    kept -= !keep[i];
  return sc_moe_shape_bytes (shape, kept);
}

void
secateur_controller_set_directions (SecateurController *self, const char *const *directions)
{
  g_strfreev (self->directions);
  self->directions = g_strdupv ((char **) directions);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DIRECTIONS]);
}

const char *const *
secateur_controller_get_directions (SecateurController *self)
{
  return (const char *const *) self->directions;
}

gboolean
secateur_controller_get_busy (SecateurController *self)
{
  return self->busy;
}

void
secateur_controller_cancel (SecateurController *self)
{
  if (self->job_cancellable != NULL)
    g_cancellable_cancel (self->job_cancellable);
}

void
secateur_controller_wait (SecateurController *self)
{
  while (self->busy)
    g_main_context_iteration (NULL, TRUE);
}

/* ---- calibrate ---- */

typedef struct
{
  SecateurController *self;
  GStrv directions;
  char *corpus_path; /* the options' corpus path */
  ScCalibrateJobOptions options;
  ScStats *stats;
  gint64 last_snapshot;
} CalibrateData;

static void
calibrate_data_free (gpointer data)
{
  CalibrateData *d = data;
  g_strfreev (d->directions);
  g_free (d->corpus_path);
  g_clear_pointer (&d->stats, sc_stats_free);
  g_free (d);
}

/* Progress with, at a bounded rate, a snapshot of the statistics so far. */
static void
calibrate_progress (const ScProgress *p, gpointer user_data)
{
  CalibrateData *d = user_data;
  gint64 t = g_get_monotonic_time ();
  ScStats *snapshot = NULL;
  if (p->done > 0 && (t - d->last_snapshot >= SNAPSHOT_INTERVAL_US || p->done == p->total))
    {
      snapshot = sc_stats_snapshot (d->stats);
      d->last_snapshot = t;
    }
  post_progress (d->self, (int) p->done, (int) p->total, p->rate, p->eta_s, snapshot);
}

static void
calibrate_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  CalibrateData *d = task_data;
  GError *error = NULL;
  if (!sc_calibrate_job_run (d->self->model, &d->options, d->stats, NULL, calibrate_progress, d,
                             cancellable, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
secateur_controller_calibrate_async (SecateurController *self,
                                     const SecateurCalibrateRequest *request,
                                     GCancellable *cancellable, GAsyncReadyCallback callback,
                                     gpointer user_data)
{
  g_autoptr (GTask) task =
      job_new (self, secateur_controller_calibrate_async, cancellable, callback, user_data);
  if (task == NULL || !needs_model (self, task, FALSE))
    return;
  if (self->info->n_experts == 0)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                               _ ("This model has no experts to calibrate"));
      return;
    }
  if (self->directions == NULL || self->directions[0] == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _ ("Choose at least one language pair first"));
      return;
    }
  CalibrateData *d = g_new0 (CalibrateData, 1);
  d->self = self;
  d->directions = g_strdupv (self->directions);
  d->corpus_path = g_strdup (request->corpus.path);
  ScCalibrateJobOptions *o = &d->options;
  sc_calibrate_job_options_init (o);
  o->directions = (const char *const *) d->directions;
  o->corpus = (ScCorpusSpec){ request->corpus.kind, d->corpus_path };
  o->sampling = request->sampling;
  o->size = MAX (1, request->size);
  o->mode = request->mode;
  /* small batches: cancellation is checked between them */
  o->batch_size = request->batch_size > 0 ? request->batch_size : 2;
  if (request->mode == SC_CALIBRATE_DECODE)
    {
      ScGenerateOptions gen;
      sc_generate_options_init (&gen, self->model);
      o->max_length = MIN (gen.max_length, self->eval_max_length);
    }
  d->stats = sc_stats_new (sc_model_get_moe_shape (self->model));
  g_task_set_task_data (task, d, calibrate_data_free);
  self->has_sweep = FALSE;
  g_signal_emit (self, signals[SIGNAL_SWEEP_UPDATED], 0);
  g_task_run_in_thread (task, calibrate_thread);
}

gboolean
secateur_controller_calibrate_finish (SecateurController *self, GAsyncResult *result,
                                      GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  CalibrateData *d = g_task_get_task_data (G_TASK (result));
  /* Partial statistics stay usable after a cancellation. */
  if (d != NULL && d->stats != NULL && sc_stats_total_tokens (d->stats) > 0)
    {
      g_clear_pointer (&self->stats, sc_stats_free);
      self->stats = g_steal_pointer (&d->stats);
      g_signal_emit (self, signals[SIGNAL_STATS_UPDATED], 0);
    }
  return g_task_propagate_boolean (G_TASK (result), error);
}

ScStats *
secateur_controller_get_stats (SecateurController *self)
{
  return self->stats;
}

void
secateur_controller_set_stats (SecateurController *self, ScStats *stats)
{
  g_clear_pointer (&self->stats, sc_stats_free);
  self->stats = stats;
  self->has_sweep = FALSE;
  g_signal_emit (self, signals[SIGNAL_STATS_UPDATED], 0);
  g_signal_emit (self, signals[SIGNAL_SWEEP_UPDATED], 0);
}

/* ---- quality sweep ---- */

typedef struct
{
  SecateurController *self;
  GStrv directions;
  ScPruneSettings settings;
  ScStats *stats; /* a copy: the main thread's may be replaced */
  ScSweepJobResult *result;
} SweepData;

static void
sweep_data_free (gpointer data)
{
  SweepData *d = data;
  g_strfreev (d->directions);
  g_clear_pointer (&d->stats, sc_stats_free);
  g_clear_pointer (&d->result, sc_sweep_job_result_free);
  g_free (d);
}

static void
sweep_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  SweepData *d = task_data;
  SecateurController *self = d->self;
  GError *error = NULL;
  ScSweepJobOptions o = {
    .directions = (const char *const *) d->directions,
    .stats = d->stats,
    .settings = d->settings,
    .sentences = self->eval_sentences,
    .max_length = self->eval_max_length,
  };
  post_progress (self, 0, g_strv_length (d->directions) * N_SWEEP, 0, -1, NULL);
  d->result = sc_sweep_job_run (self->model, &o, job_progress, self, cancellable, &error);
  if (d->result == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
secateur_controller_sweep_async (SecateurController *self, const ScPruneSettings *settings,
                                 GCancellable *cancellable, GAsyncReadyCallback callback,
                                 gpointer user_data)
{
  /* NULL: the settings the application's pages edit */
  settings = settings != NULL ? settings : secateur_prune_settings_peek (self->prune_settings);
  g_autoptr (GTask) task =
      job_new (self, secateur_controller_sweep_async, cancellable, callback, user_data);
  if (task == NULL || !needs_model (self, task, TRUE))
    return;
  g_auto (GStrv) dirs = sc_stats_list_directions (self->stats);
  if (dirs == NULL || dirs[0] == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                               _ ("Calibrate the model first"));
      return;
    }
  SweepData *d = g_new0 (SweepData, 1);
  d->self = self;
  d->directions = g_steal_pointer (&dirs);
  d->settings = *settings;
  d->stats = sc_stats_snapshot (self->stats);
  g_task_set_task_data (task, d, sweep_data_free);
  g_task_run_in_thread (task, sweep_thread);
}

gboolean
secateur_controller_sweep_finish (SecateurController *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  SweepData *d = g_task_get_task_data (G_TASK (result));
  if (d->result != NULL)
    {
      ScSweepJobResult *r = d->result;
      memcpy (self->sweep_chrf, r->chrf, sizeof self->sweep_chrf);
      g_free (self->sweep_scores);
      self->sweep_scores = g_steal_pointer (&r->scores);
      g_strfreev (self->sweep_directions);
      self->sweep_directions = g_steal_pointer (&r->directions);
      g_clear_pointer (&d->result, sc_sweep_job_result_free);
      self->has_sweep = TRUE;
      g_signal_emit (self, signals[SIGNAL_SWEEP_UPDATED], 0);
    }
  return TRUE;
}

gboolean
secateur_controller_get_sweep (SecateurController *self, int *n, const double **ratios,
                               const double **chrf)
{
  if (!self->has_sweep)
    return FALSE;
  *n = N_SWEEP;
  *ratios = sweep_ratios;
  *chrf = self->sweep_chrf;
  return TRUE;
}

const double *
secateur_controller_get_sweep_scores (SecateurController *self)
{
  return self->has_sweep ? self->sweep_scores : NULL;
}

gboolean
secateur_controller_estimate_chrf (SecateurController *self, double ratio, double *chrf)
{
  if (!self->has_sweep)
    return FALSE;
  ScSweepJobResult curve = { .n_ratios = N_SWEEP,
                             .ratios = (double *) sweep_ratios,
                             .chrf = self->sweep_chrf };
  *chrf = sc_sweep_job_estimate_chrf (&curve, ratio);
  return TRUE;
}

/* ---- compare ---- */

typedef struct
{
  SecateurController *self;
  char *src, *tgt;
  GStrv sources; /* typed text, or NULL */
  int limit;
  guint8 *keep;
  ScPruneSettings settings;
  SecateurCompareResult *result;
} CompareData;

static void
compare_data_free (gpointer data)
{
  CompareData *d = data;
  g_free (d->src);
  g_free (d->tgt);
  g_strfreev (d->sources);
  g_free (d->keep);
  secateur_compare_result_free (d->result);
  g_free (d);
}

static void
compare_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  CompareData *d = task_data;
  SecateurController *self = d->self;
  GError *error = NULL;
  ScEvaluateJobOptions o;
  sc_evaluate_job_options_init (&o, self->model, d->src, d->tgt);
  if (d->sources != NULL)
    {
      o.sources = (const char *const *) d->sources;
      o.n = g_strv_length (d->sources);
    }
  o.limit = d->limit;
  g_autoptr (ScExpertSet) experts = sc_evaluate_job_experts (self->model, d->keep);
  o.experts = experts;
  o.sentence_scores = TRUE;
  o.gen.max_length = MIN (o.gen.max_length, self->eval_max_length);
  g_autoptr (ScEvaluateJobResult) e =
      sc_evaluate_job_run (self->model, &o, job_progress, self, cancellable, &error);
  if (e == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  SecateurCompareResult *r = g_new0 (SecateurCompareResult, 1);
  d->result = r;
  r->src = g_strdup (d->src);
  r->tgt = g_strdup (d->tgt);
  r->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) compare_row_free);
  r->tokens_per_s_full = e->full.tokens_per_s;
  r->tokens_per_s_pruned = e->pruned.tokens_per_s;
  r->bytes_full = self->info->weight_bytes;
  r->bytes_pruned = secateur_controller_pruned_bytes (self, d->keep);
  r->experts_total = self->info->n_moe_layers * self->info->n_experts;
  for (int i = 0; i < r->experts_total; i++)
    r->experts_kept += d->keep[i] != 0;
  r->chrf_full = e->full.scores.chrf_pp;
  r->chrf_pruned = e->pruned.scores.chrf_pp;
  r->spbleu_full = e->full.scores.spbleu;
  r->spbleu_pruned = e->pruned.scores.spbleu;
  for (int i = 0; i < e->n; i++)
    {
      SecateurCompareRow *row = g_new0 (SecateurCompareRow, 1);
      row->source = g_strdup (e->sources[i]);
      row->reference = e->references ? g_strdup (e->references[i]) : NULL;
      row->full = g_strdup (e->full.scores.hyps->pdata[i]);
      row->pruned = g_strdup (e->pruned.scores.hyps->pdata[i]);
      row->chrf_full = e->full.sentence_chrf ? e->full.sentence_chrf[i] : -1;
      row->chrf_pruned = e->pruned.sentence_chrf ? e->pruned.sentence_chrf[i] : -1;
      g_ptr_array_add (r->rows, row);
    }
  g_task_return_boolean (task, TRUE);
}

void
secateur_controller_compare_async (SecateurController *self, const char *src, const char *tgt,
                                   const char *const *sources, int limit,
                                   const ScPruneSettings *settings, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data)
{
  /* NULL: the settings the application's pages edit */
  settings = settings != NULL ? settings : secateur_prune_settings_peek (self->prune_settings);
  g_autoptr (GTask) task =
      job_new (self, secateur_controller_compare_async, cancellable, callback, user_data);
  if (task == NULL || !needs_model (self, task, TRUE))
    return;
  GError *error = NULL;
  g_autofree guint8 *keep = sc_prune_keep_mask (self->stats, settings, src, tgt, &error);
  if (keep == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  CompareData *d = g_new0 (CompareData, 1);
  d->self = self;
  d->src = g_strdup (src);
  d->tgt = g_strdup (tgt);
  d->sources = sources && sources[0] ? g_strdupv ((char **) sources) : NULL;
  d->limit = limit;
  d->keep = g_steal_pointer (&keep);
  d->settings = *settings;
  g_task_set_task_data (task, d, compare_data_free);
  g_task_run_in_thread (task, compare_thread);
}

/* Which settings chose the experts: a Compare's scores describe an export
 * only when it used the same. */
static char *
settings_key (const ScPruneSettings *s)
{
  return g_strdup_printf ("%.17g %d %d %d %d %d", s->ratio, s->metric, s->algo, s->granularity,
                          s->enc_weight, s->dec_weight);
}

static JsonObject *
side_scores (double chrf, double spbleu)
{
  JsonObject *o = json_object_new ();
  json_object_set_double_member (o, "chrf++", chrf);
  json_object_set_double_member (o, "spbleu", spbleu);
  return o;
}

static void
remember_compare (SecateurController *self, CompareData *d)
{
  SecateurCompareResult *r = d->result;
  if (r == NULL || r->chrf_full < 0 || r->chrf_pruned < 0 || d->sources != NULL)
    return; /* typed text has no references: nothing to score */
  if (self->compare_scores == NULL)
    self->compare_scores = json_object_new ();
  JsonObject *e = json_object_new ();
  json_object_set_int_member (e, "sentences", r->rows ? r->rows->len : 0);
  json_object_set_object_member (e, "full", side_scores (r->chrf_full, r->spbleu_full));
  json_object_set_object_member (e, "pruned", side_scores (r->chrf_pruned, r->spbleu_pruned));
  g_autofree char *key = settings_key (&d->settings);
  json_object_set_string_member (e, "settings_key", key);
  g_autofree char *dir = g_strdup_printf ("%s-%s", d->src, d->tgt);
  json_object_set_object_member (self->compare_scores, dir, e);
}

/* The remembered scores of `directions` under `settings`, or NULL. */
static JsonObject *
compare_scores_for (SecateurController *self, const char *const *directions,
                    const ScPruneSettings *settings)
{
  if (self->compare_scores == NULL)
    return NULL;
  g_autofree char *key = settings_key (settings);
  JsonObject *out = NULL;
  for (const char *const *dir = directions; *dir; dir++)
    {
      JsonNode *n = json_object_get_member (self->compare_scores, *dir);
      if (n == NULL ||
          g_strcmp0 (json_object_get_string_member (json_node_get_object (n), "settings_key"),
                     key) != 0)
        continue;
      /* a new object without the key (json_node_copy would share this one) */
      JsonObject *e = json_node_get_object (n), *copy = json_object_new ();
      g_autoptr (GList) members = json_object_get_members (e);
      for (GList *m = members; m; m = m->next)
        if (!g_str_equal (m->data, "settings_key"))
          json_object_set_member (copy, m->data,
                                  json_node_copy (json_object_get_member (e, m->data)));
      if (out == NULL)
        out = json_object_new ();
      json_object_set_object_member (out, *dir, copy);
    }
  return out;
}

SecateurCompareResult *
secateur_controller_compare_finish (SecateurController *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return NULL;
  CompareData *d = g_task_get_task_data (G_TASK (result));
  remember_compare (self, d);
  return g_steal_pointer (&d->result);
}

/* ---- export ---- */

typedef struct
{
  SecateurController *self;
  char *folder;
  GStrv directions;
  ScExportJobOptions options;
  ScStats *stats;
  JsonObject *scores; /* the last Compare's, for these directions and settings; or NULL */
  /* the sweep the report draws, copied on the main thread */
  double *ratios, *chrf, *sweep_scores;
  GStrv sweep_directions;
} ExportData;

static void
export_data_free (gpointer data)
{
  ExportData *d = data;
  g_free (d->folder);
  g_strfreev (d->directions);
  g_clear_pointer (&d->stats, sc_stats_free);
  g_clear_pointer (&d->scores, json_object_unref);
  g_free (d->ratios);
  g_free (d->chrf);
  g_free (d->sweep_scores);
  g_strfreev (d->sweep_directions);
  g_free (d);
}

static gboolean
check_overwrite (const char *path, gboolean overwrite, GError **error)
{
  if (!overwrite && g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS, _ ("%s already exists"), path);
      return FALSE;
    }
  return TRUE;
}

gboolean
secateur_controller_check_export (SecateurController *self, const char *folder, gboolean overwrite,
                                  GError **error)
{
  /* nothing open: the export says so itself */
  return self->model == NULL || sc_export_job_check (self->model, folder, overwrite, error);
}

static void
export_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  ExportData *d = task_data;
  GError *error = NULL;
  if (!sc_export_job_run (d->self->model, d->stats, &d->options, job_progress, d->self, cancellable,
                          &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
secateur_controller_export_async (SecateurController *self, const char *folder,
                                  const char *const *directions,
                                  const ScPruneSettings *settings, gboolean overwrite,
                                  const char *dtype, GCancellable *cancellable,
                                  GAsyncReadyCallback callback, gpointer user_data)
{
  /* NULL: the settings the application's pages edit */
  settings = settings != NULL ? settings : secateur_prune_settings_peek (self->prune_settings);
  g_autoptr (GTask) task =
      job_new (self, secateur_controller_export_async, cancellable, callback, user_data);
  if (task == NULL || !needs_model (self, task, TRUE))
    return;
  if (directions == NULL || directions[0] == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _ ("Choose at least one language pair to export"));
      return;
    }
  ExportData *d = g_new0 (ExportData, 1);
  d->self = self;
  d->folder = g_strdup (folder);
  d->directions = g_strdupv ((char **) directions);
  d->stats = sc_stats_snapshot (self->stats);
  d->scores = compare_scores_for (self, directions, settings);
  ScExportJobOptions *o = &d->options;
  sc_export_job_options_init (o);
  o->folder = d->folder;
  o->directions = (const char *const *) d->directions;
  o->settings = *settings;
  o->overwrite = overwrite;
  o->convert = dtype != NULL && sc_dtype_from_name (dtype, &o->dtype);
  o->scores = d->scores;
  o->scores_report = "Compare";
  /* the report's quality curve, from copies taken here on the main thread */
  if (self->has_sweep && self->sweep_directions != NULL)
    {
      guint n_dirs = g_strv_length (self->sweep_directions);
      d->ratios = g_memdup2 (sweep_ratios, sizeof (double) * N_SWEEP);
      d->chrf = g_memdup2 (self->sweep_chrf, sizeof self->sweep_chrf);
      d->sweep_scores = g_memdup2 (self->sweep_scores, sizeof (double) * N_SWEEP * n_dirs);
      d->sweep_directions = g_strdupv (self->sweep_directions);
      o->n_points = N_SWEEP;
      o->ratios = d->ratios;
      o->chrf = d->chrf;
      o->sweep_scores = d->sweep_scores;
      o->sweep_directions = (const char *const *) d->sweep_directions;
    }
  g_task_set_task_data (task, d, export_data_free);
  g_task_run_in_thread (task, export_thread);
}

gboolean
secateur_controller_export_finish (SecateurController *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- weight pruning ---- */

/* The request's calibration; the open model's own training shares when it
 * ships them (the demo model does), else NLLB-200's (sc_calib_set_from_udhr). */
static gboolean
calib_options (const SecateurSparsifyRequest *r, ScCalibOptions *co, GError **error)
{
  if (r->sampling == SC_CALIB_LANGUAGE && (r->language == NULL || r->language[0] == '\0'))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("Choose the calibration language"));
      return FALSE;
    }
  *co = (ScCalibOptions){
    .mode = r->sampling,
    .language = r->language,
    .n_samples = MAX (1, r->samples),
    .seqlen = r->seqlen,
    .seed = 0,
  };
  return TRUE;
}

ScCalibSet *
secateur_controller_calibration_preview (SecateurController *self,
                                         const SecateurSparsifyRequest *request, GError **error)
{
  if (self->model == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED, _ ("No model is open"));
      return NULL;
    }
  ScCalibOptions co;
  if (!calib_options (request, &co, error))
    return NULL;
  return sc_calib_set_from_udhr (self->model, &co, error);
}

typedef struct
{
  SecateurController *self;
  ScSparsifyJobOptions options; /* its strings below */
  char *language;
  GStrv eval_languages;
  int n_blocks;
  SecateurSparsifyResult *result;
} SparsifyData;

static void
sparsify_data_free (gpointer data)
{
  SparsifyData *d = data;
  g_free (d->language);
  g_strfreev (d->eval_languages);
  g_clear_pointer (&d->result, sc_sparsify_job_result_free);
  g_free (d);
}

/* One count for the whole job: the blocks pruned, then the languages measured (two each). */
static void
sparsify_progress (const ScProgress *p, gpointer user_data)
{
  SparsifyData *d = user_data;
  int base = g_str_equal (p->stage, "prune") ? 0 : d->n_blocks;
  int total = d->n_blocks + 2 * g_strv_length (d->eval_languages);
  post_progress (d->self, base + p->done, total, p->rate, p->eta_s, NULL);
}

static void
sparsify_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  SparsifyData *d = task_data;
  GError *error = NULL;
  sparsify_progress (&(ScProgress){ "prune", "blocks", 0, d->n_blocks, 0, -1 }, d);
  d->result = sc_sparsify_job_run (d->self->model, NULL, &d->options, sparsify_progress, d,
                                   cancellable, &error);
  if (d->result == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
secateur_controller_sparsify_async (SecateurController *self,
                                    const SecateurSparsifyRequest *request,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  g_autoptr (GTask) task =
      job_new (self, secateur_controller_sparsify_async, cancellable, callback, user_data);
  if (task == NULL || !needs_model (self, task, FALSE))
    return;
  GError *error = NULL;
  /* bad settings are refused here, before any work */
  if (request->pattern.m > 0 ? request->pattern.n <= 0 || request->pattern.n >= request->pattern.m
                             : !(request->pattern.ratio > 0 && request->pattern.ratio < 1))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _ ("The sparsity must be between 0 and 100 %% or N:M with N < M"));
      return;
    }
  if (request->method != SC_SPARSITY_MAGNITUDE && (request->samples < 1 || request->seqlen < 4))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _ ("Calibration needs at least one sample of 4 tokens or more"));
      return;
    }
  SparsifyData *d = g_new0 (SparsifyData, 1);
  d->self = self;
  g_task_set_task_data (task, d, sparsify_data_free);
  ScSparsifyJobOptions *o = &d->options;
  sc_sparsify_job_options_init (o);
  o->sparsify.method = request->method;
  o->sparsify.pattern = request->pattern;
  o->sparsify.backend = self->backend; /* SparseGPT's linear algebra on the model's device */
  d->language = g_strdup (request->language);
  SecateurSparsifyRequest r = *request;
  r.language = d->language;
  if (request->method != SC_SPARSITY_MAGNITUDE && !calib_options (&r, &o->calib, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  /* those asked for, else every model language with UDHR text but the source */
  d->eval_languages = request->eval_languages
                          ? g_strdupv ((char **) request->eval_languages)
                          : sc_sparsify_job_default_languages (self->model, &error);
  if (d->eval_languages == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  o->eval_languages = (const char *const *) d->eval_languages;
  o->eval_sentences = request->eval_sentences;
  o->eval_max_length = self->eval_max_length;
  o->threshold = request->threshold;
  d->n_blocks = sc_model_n_blocks (self->model);
  g_task_run_in_thread (task, sparsify_thread);
}

gboolean
secateur_controller_sparsify_finish (SecateurController *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  SparsifyData *d = g_task_get_task_data (G_TASK (result));
  if (d->result == NULL)
    return TRUE; /* already taken by an earlier finish */
  clear_weights (self);
  self->weights_result = g_steal_pointer (&d->result);
  return TRUE;
}

const SecateurSparsifyResult *
secateur_controller_get_sparsify_result (SecateurController *self)
{
  return self->weights_result;
}

typedef struct
{
  SecateurController *self;
  char *folder;
  gboolean overwrite;
} ExportWeightsData;

static void
export_weights_data_free (gpointer data)
{
  ExportWeightsData *d = data;
  g_free (d->folder);
  g_free (d);
}

static void
export_weights_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  ExportWeightsData *d = task_data;
  SecateurController *self = d->self;
  GError *error = NULL;
  ScExportOptions eo = { 0, d->overwrite };
  post_progress (self, 0, 1, 0, -1, NULL);
  if (!check_overwrite (d->folder, d->overwrite, &error) ||
      !sc_sparsify_job_export (self->weights_result, d->folder, &eo, cancellable, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  post_progress (self, 1, 1, 0, 0, NULL);
  g_task_return_boolean (task, TRUE);
}

void
secateur_controller_export_weights_async (SecateurController *self, const char *folder,
                                          gboolean overwrite, GCancellable *cancellable,
                                          GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task =
      job_new (self, secateur_controller_export_weights_async, cancellable, callback, user_data);
  if (task == NULL || !needs_model (self, task, FALSE))
    return;
  if (self->weights_result == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                               _ ("Prune the weights first"));
      return;
    }
  ExportWeightsData *d = g_new0 (ExportWeightsData, 1);
  d->self = self;
  d->folder = g_strdup (folder);
  d->overwrite = overwrite;
  g_task_set_task_data (task, d, export_weights_data_free);
  g_task_run_in_thread (task, export_weights_thread);
}

gboolean
secateur_controller_export_weights_finish (SecateurController *self, GAsyncResult *result,
                                           GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
secateur_controller_set_threads (SecateurController *self, int threads)
{
  self->threads = MAX (0, threads);
}

void
secateur_controller_set_device (SecateurController *self, const char *device)
{
  g_free (self->device);
  self->device = g_strdup (device);
}

void
secateur_controller_set_eval_limits (SecateurController *self, int sentences, int max_length)
{
  self->eval_sentences = MAX (1, sentences);
  self->eval_max_length = MAX (4, max_length);
}

/* ---- GObject ---- */

static void
secateur_controller_dispose (GObject *object)
{
  SecateurController *self = SECATEUR_CONTROLLER (object);
  /* A running job holds a reference, so dispose never races a worker. */
  g_clear_object (&self->job_cancellable);
  G_OBJECT_CLASS (secateur_controller_parent_class)->dispose (object);
}

static void
secateur_controller_finalize (GObject *object)
{
  SecateurController *self = SECATEUR_CONTROLLER (object);
  g_clear_pointer (&self->stats, sc_stats_free);
  g_clear_object (&self->prune_settings);
  clear_weights (self);
  g_clear_pointer (&self->model, sc_model_free);
  g_clear_pointer (&self->backend, sc_backend_free);
  g_clear_pointer (&self->info, model_info_free);
  g_strfreev (self->directions);
  g_strfreev (self->sweep_directions);
  g_free (self->sweep_scores);
  g_free (self->device);
  G_OBJECT_CLASS (secateur_controller_parent_class)->finalize (object);
}

static void
secateur_controller_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  SecateurController *self = SECATEUR_CONTROLLER (object);
  switch (prop_id)
    {
    case PROP_BUSY:
      g_value_set_boolean (value, self->busy);
      break;
    case PROP_MODEL_DIR:
      g_value_set_string (value, self->info ? self->info->dir : NULL);
      break;
    case PROP_DIRECTIONS:
      g_value_set_boxed (value, self->directions);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
secateur_controller_class_init (SecateurControllerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  object_class->dispose = secateur_controller_dispose;
  object_class->finalize = secateur_controller_finalize;
  object_class->get_property = secateur_controller_get_property;

  properties[PROP_BUSY] =
      g_param_spec_boolean ("busy", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_MODEL_DIR] = g_param_spec_string ("model-dir", NULL, NULL, NULL,
                                                    G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_DIRECTIONS] = g_param_spec_boxed ("directions", NULL, NULL, G_TYPE_STRV,
                                                    G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* progress (done, total, items per second, seconds left or -1) */
  signals[SIGNAL_PROGRESS] =
      g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                    G_TYPE_NONE, 4, G_TYPE_INT, G_TYPE_INT, G_TYPE_DOUBLE, G_TYPE_DOUBLE);
  signals[SIGNAL_STATS_UPDATED] =
      g_signal_new ("stats-updated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_SWEEP_UPDATED] =
      g_signal_new ("sweep-updated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 0);
}

static void
secateur_controller_init (SecateurController *self)
{
  self->eval_sentences = 8;
  self->eval_max_length = 48;
  self->prune_settings = secateur_prune_settings_new ();
}

SecateurController *
secateur_controller_new (void)
{
  return g_object_new (SECATEUR_TYPE_CONTROLLER, NULL);
}

SecateurPruneSettings *
secateur_controller_get_prune_settings (SecateurController *self)
{
  return self->prune_settings;
}
