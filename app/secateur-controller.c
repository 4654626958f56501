/* secateur-controller.c: the controller's core: the object (properties,
 * signals), the open model, busy and cancel, progress to the main context
 * and the GTask plumbing every job shares. Each workflow's adapter over
 * its engine job (engine/jobs/) lives in its own
 * secateur-controller-<workflow>.c; the state they share and the threading
 * rules are in secateur-controller-private.h. */
#include "secateur-controller-private.h"

#include "sc-backend-select.h"
#include "sc-model-folder.h"

#include <glib/gi18n.h>
#include <string.h>
#ifdef __linux__
#include <errno.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

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
static guint signals[N_SIGNALS];

void
controller_emit (SecateurController *self, ControllerSignal signal)
{
  g_signal_emit (self, signals[signal], 0);
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

/* The task is returned with the reason when `needs` is not met. */
static gboolean
job_check_needs (SecateurController *self, GTask *task, JobNeeds needs)
{
  if (needs == JOB_NEEDS_NOTHING)
    return TRUE;
  if (self->model == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                               _ ("No model is open"));
      return FALSE;
    }
  if (needs == JOB_NEEDS_STATS && self->stats == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                               _ ("Calibrate the model first"));
      return FALSE;
    }
  if (needs == JOB_NEEDS_STATS && self->info->n_experts == 0)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                               _ ("This model has no experts to prune"));
      return FALSE;
    }
  return TRUE;
}

/* The job an _async function starts, as the pages name it. */
static const char *
job_name (gpointer source_tag)
{
  if (source_tag == secateur_controller_load_async)
    return _ ("Opening the model");
  if (source_tag == secateur_controller_calibrate_async)
    return _ ("Calibration");
  if (source_tag == secateur_controller_sweep_async)
    return _ ("Quality measurement");
  if (source_tag == secateur_controller_compare_async)
    return _ ("Compare");
  if (source_tag == secateur_controller_export_async ||
      source_tag == secateur_controller_export_weights_async)
    return _ ("Export");
  if (source_tag == secateur_controller_sparsify_async)
    return _ ("Weight pruning");
  return _ ("A task");
}

const char *
secateur_controller_get_job_name (SecateurController *self)
{
  return self->busy ? self->job_name : NULL;
}

GTask *
controller_job_new (SecateurController *self, gpointer source_tag, JobNeeds needs,
                    GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  if (self->busy)
    {
      g_task_report_new_error (self, callback, user_data, source_tag, G_IO_ERROR, G_IO_ERROR_BUSY,
                               _ ("%s is still running"), self->job_name);
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
  self->job_name = job_name (source_tag);
  set_busy (self, TRUE);
  if (!job_check_needs (self, task, needs))
    {
      g_object_unref (task); /* returned: it lives on until the callback */
      return NULL;
    }
  return task;
}

void
controller_job_return (GTask *task, gboolean ok, GError *error)
{
  if (ok)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

gboolean
controller_job_finish (SecateurController *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* The nice value of the threads that compute for a job. Enough for the
 * main loop to win the core when it has work (page switches took 0.6-0.9 s
 * during a Wanda run, 0.2-0.3 s idle); little enough that the job still
 * gets its share next to other programs. */
#define WORKER_NICE 5

#ifdef __linux__
static void
renice (pid_t tid)
{
  errno = 0;
  int now = getpriority (PRIO_PROCESS, (id_t) tid);
  if (errno == 0 && now < WORKER_NICE)
    setpriority (PRIO_PROCESS, (id_t) tid, WORKER_NICE);
}

/* The helpers that compute with the worker: the CPU backend's pool
 * ("sc-cpu", inherits the worker's value when it starts after it) and
 * OpenBLAS's threads, which start with the library on the main thread and
 * carry its name. GLib's own threads (gmain, gdbus) keep theirs. */
static void
renice_helpers (void)
{
  static gint64 last;
  gint64 t = g_get_monotonic_time ();
  if (t - last < 2 * G_USEC_PER_SEC)
    return;
  last = t;
  pid_t main_tid = getpid ();
  g_autofree char *main_name = NULL;
  g_autofree char *main_comm = g_strdup_printf ("/proc/self/task/%d/comm", (int) main_tid);
  if (!g_file_get_contents (main_comm, &main_name, NULL, NULL))
    return;
  g_strchomp (main_name);
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  const char *entry;
  while (dir != NULL && (entry = g_dir_read_name (dir)) != NULL)
    {
      pid_t tid = (pid_t) g_ascii_strtoll (entry, NULL, 10);
      if (tid <= 0 || tid == main_tid)
        continue;
      g_autofree char *path = g_strdup_printf ("/proc/self/task/%s/comm", entry);
      g_autofree char *name = NULL;
      if (!g_file_get_contents (path, &name, NULL, NULL))
        continue;
      g_strchomp (name);
      if (g_str_equal (name, main_name) || g_str_equal (name, "sc-cpu"))
        renice (tid);
    }
}
#endif

/* Called on a worker thread: it, and the threads computing with it, yield
 * to the main loop. Linux nice values are per thread. */
void
controller_job_lower_priority (void)
{
#ifdef __linux__
  static GPrivate lowered;
  if (g_private_get (&lowered) == NULL)
    {
      g_private_set (&lowered, GINT_TO_POINTER (1));
      renice ((pid_t) syscall (SYS_gettid));
    }
  renice_helpers ();
#endif
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

void
controller_post_progress (SecateurController *self, int done, int total, double rate, double eta,
                          ScStats *snapshot)
{
  controller_job_lower_priority ();
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
void
controller_job_progress (const ScProgress *p, gpointer self)
{
  controller_post_progress (self, (int) p->done, (int) p->total, p->rate, p->eta_s, NULL);
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
  ControllerProjectLoad project;
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
  controller_project_load_clear (&d->project);
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
  /* a project folder opens its model; a model, its project */
  g_autofree char *model_dir = NULL;
  if (controller_project_load_prepare (&d->project, d->dir, &model_dir, &error))
    d->model = sc_model_load (model_dir, d->backend, &error);
  if (d->model != NULL)
    controller_project_load_open (&d->project, d->model);
  if (d->model != NULL)
    {
      d->info = model_info_new (d->model);
      if (d->threads > 0)
        d->info->threads = d->threads;
      d->info->backend_note = g_steal_pointer (&d->note);
    }
  controller_job_return (task, d->model != NULL, error);
}

void
secateur_controller_load_async (SecateurController *self, const char *dir,
                                GCancellable *cancellable, GAsyncReadyCallback callback,
                                gpointer user_data)
{
  g_autoptr (GTask) task =
      controller_job_new (self, secateur_controller_load_async, JOB_NEEDS_NOTHING, cancellable,
                          callback, user_data);
  if (task == NULL)
    return;
  LoadData *d = g_new0 (LoadData, 1);
  d->dir = g_strdup (dir);
  d->threads = self->threads;
  d->device = g_strdup (self->device);
  d->project.root = g_strdup (self->project_root);
  g_task_set_task_data (task, d, load_data_free);
  g_task_run_in_thread (task, load_thread);
}

gboolean
secateur_controller_load_finish (SecateurController *self, GAsyncResult *result, GError **error)
{
  if (!controller_job_finish (self, result, error))
    return FALSE;
  LoadData *d = g_task_get_task_data (G_TASK (result));
  if (d->model == NULL)
    return TRUE; /* already taken by an earlier finish */
  /* the settings of the model open until now go to its own project */
  controller_project_flush (self);
  /* the pruned weights before the model they belong to */
  g_clear_pointer (&self->weights_result, sc_sparsify_job_result_free);
  g_clear_pointer (&self->compare_scores, json_object_unref);
  g_clear_pointer (&self->model, sc_model_free);
  g_clear_pointer (&self->backend, sc_backend_free);
  g_clear_pointer (&self->info, model_info_free);
  g_clear_pointer (&self->stats, sc_stats_free);
  g_clear_pointer (&self->capture, sc_capture_free);
  g_clear_pointer (&self->directions, g_strfreev);
  controller_clear_runs (self);
  self->model = g_steal_pointer (&d->model);
  self->backend = g_steal_pointer (&d->backend);
  self->info = g_steal_pointer (&d->info);
  controller_project_loaded (self, &d->project);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODEL_DIR]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DIRECTIONS]);
  controller_emit (self, SIGNAL_STATS_UPDATED);
  controller_emit (self, SIGNAL_SWEEP_UPDATED);
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
  controller_project_directions_changed (self);
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

ScStats *
secateur_controller_get_stats (SecateurController *self)
{
  return self->stats;
}

gboolean
secateur_controller_has_capture (SecateurController *self)
{
  return self->capture != NULL;
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
  controller_project_clear (self);
  g_clear_pointer (&self->stats, sc_stats_free);
  g_clear_pointer (&self->capture, sc_capture_free);
  g_clear_object (&self->prune_settings);
  g_clear_pointer (&self->weights_result, sc_sparsify_job_result_free);
  g_clear_pointer (&self->model, sc_model_free);
  g_clear_pointer (&self->backend, sc_backend_free);
  g_clear_pointer (&self->info, model_info_free);
  g_strfreev (self->directions);
  g_clear_pointer (&self->runs, g_ptr_array_unref);
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
  self->runs = g_ptr_array_new_with_free_func ((GDestroyNotify) sc_sweep_job_result_free);
  self->current_run = -1;
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
