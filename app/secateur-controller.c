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
#include "sc-metrics.h"
#include "sc-model-folder.h"

#include <glib/gi18n.h>
#include <errno.h>
#include <string.h>

#define SNAPSHOT_INTERVAL_US (150 * 1000)

static const double sweep_ratios[] = { 0.0, 0.25, 0.5, 0.75, 0.9 };
#define N_SWEEP G_N_ELEMENTS (sweep_ratios)

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

  /* weight pruning: the pruned copy, what it measured, its export record */
  ScView *weights_view; /* over the open model: its weights are mapped once */
  SecateurSparsifyResult *weights_result;
  JsonObject *weights_record;

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

static double
now_s (void)
{
  return g_get_monotonic_time () / 1e6;
}

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

static void
sparsify_result_free (SecateurSparsifyResult *r)
{
  if (r == NULL)
    return;
  g_clear_pointer (&r->report, sc_sparsify_report_free);
  g_free (r->block_sparsity);
  g_free (r->calibration);
  for (guint i = 0; i < r->n_languages; i++)
    sc_lang_quality_row_clear (&r->languages[i]);
  g_free (r->languages);
  g_free (r->degraded);
  g_free (r);
}

/* The pruned copy and its results; before the backend they may run on. */
static void
clear_weights (SecateurController *self)
{
  g_clear_pointer (&self->weights_view, sc_view_free);
  g_clear_pointer (&self->weights_result, sparsify_result_free);
  g_clear_pointer (&self->weights_record, json_object_unref);
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

/* ---- evaluation helpers (worker thread) ---- */

/* Held-out sources and references of a direction, at most `limit`. */
static gboolean
held_out (SecateurController *self, const char *src, const char *tgt, int limit,
          GPtrArray **pairs, GError **error)
{
  /* the model's own held-out set (the demo ships one), else the UDHR's: the CLI's default */
  static const ScCorpusSpec held_out = { SC_CORPUS_DEFAULT, NULL };
  *pairs =
      sc_model_corpus_pairs (self->model, &held_out, SC_CORPUS_SPLIT_HELD_OUT, src, tgt, error);
  if (*pairs == NULL)
    return FALSE;
  if ((*pairs)->len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _ ("No held-out sentences for %s-%s"),
                   src, tgt);
      g_clear_pointer (pairs, g_ptr_array_unref);
      return FALSE;
    }
  if (limit > 0 && (*pairs)->len > (guint) limit)
    g_ptr_array_set_size (*pairs, limit);
  return TRUE;
}

static ScMetric *
metric_new (ScModel *model, ScMetricKind kind, GError **error)
{
  ScMetricConfig cfg;
  sc_metric_config_init (&cfg, kind);
  g_autofree char *spm = sc_model_get_spm_path (model);
  cfg.spm_model = spm;
  return sc_metric_new (&cfg, error);
}

static gboolean
corpus_score (ScMetric *metric, char **hyps, const char *const *refs, double *score, GError **error)
{
  const char *const *streams[] = { refs, NULL };
  ScMetricScore s;
  if (!sc_metric_corpus_score (metric, (const char *const *) hyps, streams, &s, error))
    return FALSE;
  *score = s.score;
  return TRUE;
}

/* ---- quality sweep ---- */

typedef struct
{
  SecateurController *self;
  GStrv directions;
  ScPruneSettings settings;
  ScStats *stats; /* a copy: the main thread's may be replaced */
  double chrf[N_SWEEP];
  double *scores;
} SweepData;

static void
sweep_data_free (gpointer data)
{
  SweepData *d = data;
  g_strfreev (d->directions);
  g_clear_pointer (&d->stats, sc_stats_free);
  g_free (d->scores);
  g_free (d);
}

static void
sweep_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  SweepData *d = task_data;
  SecateurController *self = d->self;
  GError *error = NULL;
  guint n_dirs = g_strv_length (d->directions);
  int steps = n_dirs * N_SWEEP, step = 0;
  double t0 = now_s ();
  g_autoptr (ScMetric) chrf = metric_new (self->model, SC_METRIC_CHRF_PP, &error);
  if (chrf == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  ScGenerateOptions gen;
  sc_generate_options_init (&gen, self->model);
  gen.num_beams = 1;
  gen.max_length = MIN (gen.max_length, self->eval_max_length);
  d->scores = g_new0 (double, steps);
  post_progress (self, 0, steps, 0, -1, NULL);
  for (guint k = 0; k < n_dirs; k++)
    {
      g_autofree char *src = NULL, *tgt = NULL;
      g_autoptr (GPtrArray) pairs = NULL;
      sc_stats_split_direction (d->directions[k], &src, &tgt);
      if (!held_out (self, src, tgt, self->eval_sentences, &pairs, &error))
        {
          g_task_return_error (task, error);
          return;
        }
      g_autofree const char **sources = g_new0 (const char *, pairs->len + 1);
      g_autofree const char **refs = g_new0 (const char *, pairs->len + 1);
      for (guint i = 0; i < pairs->len; i++)
        {
          ScCorpusPair *p = pairs->pdata[i];
          sources[i] = p->source;
          refs[i] = p->target;
        }
      for (guint r = 0; r < N_SWEEP; r++)
        {
          ScPruneSettings s = d->settings;
          s.ratio = sweep_ratios[r];
          g_autofree guint8 *keep =
              r == 0 ? NULL : sc_prune_keep_mask (d->stats, &s, src, tgt, &error);
          g_autoptr (ScView) view = NULL;
          if ((r > 0 && keep == NULL) ||
              (view = sc_view_new_from_keep (self->model, keep, &error)) == NULL)
            {
              g_task_return_error (task, error);
              return;
            }
          g_auto (GStrv) hyps = sc_translate (view, sources, pairs->len, src, tgt, &gen, 8, NULL,
                                              NULL, cancellable, &error);
          double score = 0;
          if (hyps == NULL || !corpus_score (chrf, hyps, refs, &score, &error))
            {
              g_task_return_error (task, error);
              return;
            }
          d->scores[k * N_SWEEP + r] = score;
          d->chrf[r] += score / n_dirs;
          step++;
          double rate = step / MAX (1e-6, now_s () - t0);
          post_progress (self, step, steps, rate, (steps - step) / rate, NULL);
        }
    }
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
  if (d->scores != NULL)
    {
      memcpy (self->sweep_chrf, d->chrf, sizeof d->chrf);
      g_free (self->sweep_scores);
      self->sweep_scores = g_steal_pointer (&d->scores);
      g_strfreev (self->sweep_directions);
      self->sweep_directions = g_strdupv (d->directions);
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
  if (ratio <= sweep_ratios[0])
    {
      *chrf = self->sweep_chrf[0];
      return TRUE;
    }
  for (guint i = 1; i < N_SWEEP; i++)
    if (ratio <= sweep_ratios[i] || i == N_SWEEP - 1)
      {
        /* beyond the last point the last segment's slope carries on */
        double t = (ratio - sweep_ratios[i - 1]) / (sweep_ratios[i] - sweep_ratios[i - 1]);
        *chrf = self->sweep_chrf[i - 1] + t * (self->sweep_chrf[i] - self->sweep_chrf[i - 1]);
        *chrf = MAX (0.0, *chrf);
        return TRUE;
      }
  return FALSE;
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

typedef struct
{
  SecateurController *self;
  int base, total;
  double t0;
} TranslateProgress;

static void
translate_progress (int done, int total, gpointer user_data)
{
  TranslateProgress *p = user_data;
  int all = p->base + done;
  double rate = all / MAX (1e-6, now_s () - p->t0);
  post_progress (p->self, all, p->total, rate, (p->total - all) / MAX (rate, 1e-6), NULL);
}

static guint
count_tokens (ScModel *model, char **texts)
{
  guint n = 0;
  for (guint i = 0; texts[i] != NULL; i++)
    {
      g_autoptr (GArray) ids =
          sc_tokenizer_encode_pieces (sc_model_get_tokenizer (model), texts[i], NULL);
      n += ids ? ids->len + 1 : 0; /* + </s> */
    }
  return n;
}

static void
compare_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  CompareData *d = task_data;
  SecateurController *self = d->self;
  GError *error = NULL;
  g_autoptr (GPtrArray) pairs = NULL;
  g_autofree const char **sources = NULL, **refs = NULL;
  int n;
  if (d->sources != NULL)
    {
      n = g_strv_length (d->sources);
      sources = g_memdup2 (d->sources, sizeof (char *) * (n + 1));
    }
  else
    {
      if (!held_out (self, d->src, d->tgt, d->limit, &pairs, &error))
        {
          g_task_return_error (task, error);
          return;
        }
      n = pairs->len;
      sources = g_new0 (const char *, n + 1);
      refs = g_new0 (const char *, n + 1);
      for (int i = 0; i < n; i++)
        {
          ScCorpusPair *p = pairs->pdata[i];
          sources[i] = p->source;
          refs[i] = p->target;
        }
    }
  ScGenerateOptions gen;
  sc_generate_options_init (&gen, self->model);
  gen.max_length = MIN (gen.max_length, self->eval_max_length);
  TranslateProgress prog = { self, 0, 2 * n, now_s () };
  double t0 = now_s ();
  g_autoptr (ScView) full_view = sc_view_new (self->model, NULL, &error);
  g_autoptr (ScView) pruned_view = NULL;
  g_auto (GStrv) full = full_view == NULL
                            ? NULL
                            : sc_translate (full_view, sources, n, d->src, d->tgt, &gen, 8,
                                            translate_progress, &prog, cancellable, &error);
  double t_full = now_s () - t0;
  if (full == NULL || (pruned_view = sc_view_new_from_keep (self->model, d->keep, &error)) == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  prog.base = n;
  t0 = now_s ();
  g_auto (GStrv) pruned = sc_translate (pruned_view, sources, n, d->src, d->tgt, &gen, 8,
                                        translate_progress, &prog, cancellable, &error);
  double t_pruned = now_s () - t0;
  if (pruned == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  SecateurCompareResult *r = g_new0 (SecateurCompareResult, 1);
  d->result = r;
  r->src = g_strdup (d->src);
  r->tgt = g_strdup (d->tgt);
  r->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) compare_row_free);
  r->tokens_per_s_full = count_tokens (self->model, full) / MAX (t_full, 1e-6);
  r->tokens_per_s_pruned = count_tokens (self->model, pruned) / MAX (t_pruned, 1e-6);
  r->bytes_full = self->info->weight_bytes;
  r->bytes_pruned = secateur_controller_pruned_bytes (self, d->keep);
  r->experts_total = self->info->n_moe_layers * self->info->n_experts;
  for (int i = 0; i < r->experts_total; i++)
    r->experts_kept += d->keep[i] != 0;
  r->chrf_full = r->chrf_pruned = r->spbleu_full = r->spbleu_pruned = -1;
  g_autoptr (ScMetric) chrf = metric_new (self->model, SC_METRIC_CHRF_PP, &error);
  g_autoptr (ScMetric) spbleu = chrf ? metric_new (self->model, SC_METRIC_SPBLEU, &error) : NULL;
  if (spbleu == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  for (int i = 0; i < n; i++)
    {
      SecateurCompareRow *row = g_new0 (SecateurCompareRow, 1);
      row->source = g_strdup (sources[i]);
      row->reference = refs ? g_strdup (refs[i]) : NULL;
      row->full = g_strdup (full[i]);
      row->pruned = g_strdup (pruned[i]);
      row->chrf_full = row->chrf_pruned = -1;
      if (refs != NULL)
        {
          const char *one[] = { refs[i], NULL };
          ScMetricScore s;
          if (sc_metric_sentence_score (chrf, full[i], one, &s, NULL))
            row->chrf_full = s.score;
          if (sc_metric_sentence_score (chrf, pruned[i], one, &s, NULL))
            row->chrf_pruned = s.score;
        }
      g_ptr_array_add (r->rows, row);
    }
  if (refs != NULL && (!corpus_score (chrf, full, refs, &r->chrf_full, &error) ||
                       !corpus_score (chrf, pruned, refs, &r->chrf_pruned, &error) ||
                       !corpus_score (spbleu, full, refs, &r->spbleu_full, &error) ||
                       !corpus_score (spbleu, pruned, refs, &r->spbleu_pruned, &error)))
    {
      g_task_return_error (task, error);
      return;
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
      d->ratios = g_memdup2 (sweep_ratios, sizeof sweep_ratios);
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

#define WEIGHTS_EVAL_SENTENCES 4
#define WEIGHTS_THRESHOLD 0.1
#define WEIGHTS_SOURCE "eng_Latn"

/* The open model's own training shares when it ships them (the demo model
 * does), else NLLB-200's. */
static ScCalibSet *
calibration_set (ScModel *model, const SecateurSparsifyRequest *r, GError **error)
{
  g_autoptr (ScShareTable) shares = NULL;
  if (r->sampling == SC_CALIB_MBS && (shares = sc_model_load_share_table (model, error)) == NULL)
    return NULL;
  if (r->sampling == SC_CALIB_LANGUAGE && (r->language == NULL || r->language[0] == '\0'))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("Choose the calibration language"));
      return NULL;
    }
  ScCalibOptions co = {
    .mode = r->sampling,
    .language = r->language,
    .n_samples = MAX (1, r->samples),
    .seqlen = r->seqlen,
    .seed = 0,
    .shares = shares,
  };
  return sc_calib_set_from_udhr (model, &co, error);
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
  return calibration_set (self->model, request, error);
}

typedef struct
{
  SecateurController *self;
  ScSparsifyOptions options;
  SecateurSparsifyRequest request; /* strings below */
  char *language;
  GStrv eval_languages;
  char *model_dir;
  ScView *copy;
  SecateurSparsifyResult *result;
  JsonObject *record;
  int n_langs;
  double t0;
} SparsifyData;

static void
sparsify_data_free (gpointer data)
{
  SparsifyData *d = data;
  g_free (d->language);
  g_strfreev (d->eval_languages);
  g_free (d->model_dir);
  g_clear_pointer (&d->copy, sc_view_free);
  sparsify_result_free (d->result);
  g_clear_pointer (&d->record, json_object_unref);
  g_free (d);
}

static void
sparsify_progress (int done, int total, double eta_s, gpointer user_data)
{
  SparsifyData *d = user_data;
  double rate = done / MAX (1e-6, now_s () - d->t0);
  post_progress (d->self, done, total + 2 * d->n_langs, rate, eta_s, NULL);
}

/* The languages measured: those asked for, else every model language with
 * UDHR text but the source. */
static GStrv
eval_languages (const SecateurSparsifyRequest *r, const SecateurModelInfo *info, GError **error)
{
  if (r->eval_languages != NULL)
    return g_strdupv ((char **) r->eval_languages);
  g_autofree char *udhr = sc_corpus_default_udhr_dir ();
  g_auto (GStrv) all = udhr ? sc_corpus_udhr_languages (udhr, error) : NULL;
  if (all == NULL)
    {
      if (udhr == NULL)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                     _ ("The bundled UDHR corpus is missing"));
      return NULL;
    }
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  for (guint i = 0; info->languages[i] != NULL; i++)
    if (!g_str_equal (info->languages[i], WEIGHTS_SOURCE) &&
        g_strv_contains ((const char *const *) all, info->languages[i]))
      g_strv_builder_add (b, info->languages[i]);
  return g_strv_builder_end (b);
}

static void
sparsify_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  SparsifyData *d = task_data;
  SecateurController *self = d->self;
  GError *error = NULL;
  const SecateurSparsifyRequest *r = &d->request;
  d->t0 = now_s ();
  d->n_langs = g_strv_length (d->eval_languages);

  g_autoptr (ScCalibSet) set = NULL;
  if (d->options.method != SC_SPARSITY_MAGNITUDE &&
      (set = calibration_set (self->model, r, &error)) == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  g_autoptr (ScShareTable) shares = sc_model_load_share_table (self->model, &error);
  if (shares == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  /* a view to prune (its overlay takes the pruned weights): the open model
   * stays whole for the comparison and is not loaded a second time */
  g_autoptr (ScView) full = sc_view_new (self->model, NULL, &error);
  d->copy = full != NULL ? sc_view_new (self->model, NULL, &error) : NULL;
  if (d->copy == NULL || g_cancellable_set_error_if_cancelled (cancellable, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  ScPrunable p;
  sc_prunable_init_view (&p, d->copy);
  int n_blocks = p.n_blocks (p.model);
  post_progress (self, 0, n_blocks + 2 * d->n_langs, 0, -1, NULL);
  g_autoptr (ScSparsifyReport) report =
      sc_sparsify (&p, set, &d->options, sparsify_progress, d, cancellable, &error);
  if (report == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  SecateurSparsifyResult *res = g_new0 (SecateurSparsifyResult, 1);
  d->result = res;
  res->n_blocks = n_blocks;
  res->n_encoder_blocks = sc_model_get_config (self->model)->encoder_layers;
  res->block_sparsity = g_new0 (double, MAX (1, n_blocks));
  g_autofree double *block_weights = g_new0 (double, MAX (1, n_blocks));
  res->min_layer = 1;
  res->max_layer = 0;
  for (guint i = 0; i < report->layers->len; i++)
    {
      const ScSparsifyLayer *l = &g_array_index (report->layers, ScSparsifyLayer, i);
      double n = (double) l->n_out * l->n_in;
      if (l->block >= 0 && l->block < n_blocks)
        {
          res->block_sparsity[l->block] += l->n_zero;
          block_weights[l->block] += n;
        }
      res->min_layer = MIN (res->min_layer, l->n_zero / MAX (n, 1));
      res->max_layer = MAX (res->max_layer, l->n_zero / MAX (n, 1));
    }
  for (int b = 0; b < n_blocks; b++)
    res->block_sparsity[b] /= MAX (block_weights[b], 1);
  res->calibration = set ? sc_calib_set_describe (set) : NULL;
  d->record = sc_sparsify_record (&d->options,
                                  set == NULL                       ? "none"
                                  : r->sampling == SC_CALIB_MBS     ? "mbs"
                                  : r->sampling == SC_CALIB_UNIFORM ? "uniform"
                                                                    : d->language,
                                  set, r->seqlen, report);
  res->report = g_steal_pointer (&report);

  /* each language before (the open model) and after (the copy) */
  res->threshold = r->threshold > 0 ? r->threshold : WEIGHTS_THRESHOLD;
  res->n_languages = d->n_langs;
  res->languages = g_new0 (ScLangQualityRow, MAX (1, d->n_langs));
  res->degraded = g_new0 (gboolean, MAX (1, d->n_langs));
  int limit = r->eval_sentences > 0 ? r->eval_sentences : WEIGHTS_EVAL_SENTENCES;
  int step = n_blocks, total = n_blocks + 2 * d->n_langs;
  double t_eval = now_s ();
  for (int i = 0; i < d->n_langs; i++)
    {
      ScLangQualityRow *row = &res->languages[i];
      row->lang = g_strdup (d->eval_languages[i]);
      if (!sc_share_table_lookup (shares, row->lang, &row->share))
        row->share = 0;
      for (int side = 0; side < 2; side++)
        {
          if (!sc_lang_quality_chrf (side == 0 ? full : d->copy, WEIGHTS_SOURCE, row->lang, limit,
                                     self->eval_max_length, cancellable,
                                     side == 0 ? &row->before : &row->after, &row->n, &error))
            {
              g_prefix_error (&error, "%s: ", row->lang);
              g_task_return_error (task, error);
              return;
            }
          step++;
          double rate = (step - n_blocks) / MAX (1e-6, now_s () - t_eval);
          post_progress (self, step, total, rate, (total - step) / rate, NULL);
        }
    }
  sc_lang_quality_sort (res->languages, res->n_languages);
  for (guint i = 0; i < res->n_languages; i++)
    {
      res->degraded[i] =
          sc_lang_quality_degraded (&res->languages[i], SC_LANG_QUALITY_CHRF, res->threshold);
      res->n_degraded += res->degraded[i];
    }
  res->seconds = now_s () - d->t0;
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
  sc_sparsify_options_init (&d->options);
  d->options.method = request->method;
  d->options.pattern = request->pattern;
  d->options.backend = self->backend; /* SparseGPT's linear algebra on the model's device */
  d->request = *request;
  d->language = g_strdup (request->language);
  d->request.language = d->language;
  d->eval_languages = eval_languages (request, self->info, &error);
  d->model_dir = g_strdup (self->info->dir);
  g_task_set_task_data (task, d, sparsify_data_free);
  if (d->eval_languages == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  d->request.eval_languages = (const char *const *) d->eval_languages;
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
  self->weights_view = g_steal_pointer (&d->copy);
  self->weights_result = g_steal_pointer (&d->result);
  self->weights_record = g_steal_pointer (&d->record);
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
      !sc_export_model (self->weights_view, self->weights_record, d->folder, &eo, cancellable,
                        &error))
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
  if (self->weights_view == NULL)
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
