/* secateur-controller-weights.c: the controller's weight pruning (the
 * Weights page), adapters over the sparsify job (sc-sparsify-job.h) and
 * the export of its pruned weights. */
#include "secateur-controller-private.h"

#include "sc-export.h"

#include <glib/gi18n.h>

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

/* The cost model of a weight pruning run, in seconds of one core of the
 * 2-core reference machine (measured on the demo model: 128 samples of 128
 * tokens took 57 s, 4 sentences decoded of at most 48 tokens 0.9 s):
 * per token and weight the calibration passes, per weight pruned, and
 * per token decoded and weight it uses (the dense part and two experts per
 * MoE layer). */
#define COST_CALIB_S 1.4e-10
#define COST_PRUNE_S 1.0e-7
#define COST_DECODE_S 4.4e-10
/* What the default calibration may cost: the rest of a minute goes to
 * pruning and measuring. */
#define DEFAULT_CALIB_S 30.0

GStrv
secateur_controller_sparsify_languages (SecateurController *self,
                                        const SecateurSparsifyRequest *request)
{
  if (request->eval_languages != NULL)
    return g_strdupv ((char **) request->eval_languages);
  if (self->model == NULL)
    return NULL;
  g_auto (GStrv) all = sc_sparsify_job_default_languages (self->model, NULL);
  if (all == NULL)
    return NULL;
  /* the languages chosen on the Model page, when they have held-out text */
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  guint n = 0;
  for (guint i = 0; all[i] != NULL; i++)
    for (guint d = 0; self->directions != NULL && self->directions[d] != NULL; d++)
      {
        g_autofree char *src = NULL, *tgt = NULL;
        if (sc_stats_split_direction (self->directions[d], &src, &tgt) &&
            (g_str_equal (src, all[i]) || g_str_equal (tgt, all[i])))
          {
            g_strv_builder_add (b, all[i]);
            n++;
            break;
          }
      }
  g_auto (GStrv) chosen = g_strv_builder_end (b);
  return n > 0 ? g_steal_pointer (&chosen) : g_steal_pointer (&all);
}

double
secateur_controller_sparsify_estimate (SecateurController *self,
                                       const SecateurSparsifyRequest *request)
{
  if (self->info == NULL)
    return -1;
  const SecateurModelInfo *info = self->info;
  double weights = (double) info->params_dense + (double) info->params_experts;
  double per_token = (double) info->params_dense +
                     (info->n_experts > 0 ? 2.0 * info->params_experts / info->n_experts : 0);
  double s = COST_PRUNE_S * weights;
  if (request->method != SC_SPARSITY_MAGNITUDE)
    s += COST_CALIB_S * MAX (1, request->samples) * MAX (1, request->seqlen) * weights;
  g_auto (GStrv) langs = secateur_controller_sparsify_languages (self, request);
  int sentences = request->eval_sentences > 0 ? request->eval_sentences : 4;
  guint n_langs = langs != NULL ? g_strv_length (langs) : 0;
  /* before and after */
  s += COST_DECODE_S * 2.0 * n_langs * sentences * self->eval_max_length * per_token;
  return s;
}

int
secateur_controller_sparsify_default_samples (SecateurController *self)
{
  if (self->info == NULL)
    return 128;
  double weights = (double) self->info->params_dense + (double) self->info->params_experts;
  double n = DEFAULT_CALIB_S / (COST_CALIB_S * 128 * MAX (weights, 1));
  /* in steps of 8, as the spin button moves */
  return CLAMP ((int) (n / 8) * 8, 8, 128);
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
  controller_post_progress (d->self, base + p->done, total, p->rate, p->eta_s, NULL);
}

static void
sparsify_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  SparsifyData *d = task_data;
  GError *error = NULL;
  controller_job_lower_priority ();
  sparsify_progress (&(ScProgress){ "prune", "blocks", 0, d->n_blocks, 0, -1 }, d);
  d->result = sc_sparsify_job_run (d->self->model, NULL, &d->options, sparsify_progress, d,
                                   cancellable, &error);
  controller_job_return (task, d->result != NULL, error);
}

void
secateur_controller_sparsify_async (SecateurController *self,
                                    const SecateurSparsifyRequest *request,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  g_autoptr (GTask) task = controller_job_new (self, secateur_controller_sparsify_async,
                                               JOB_NEEDS_MODEL, cancellable, callback, user_data);
  if (task == NULL)
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
  /* those asked for, else those chosen on the Model page (or all) */
  d->eval_languages = secateur_controller_sparsify_languages (self, request);
  if (d->eval_languages == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                               _ ("The bundled UDHR corpus is missing"));
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
  if (!controller_job_finish (self, result, error))
    return FALSE;
  SparsifyData *d = g_task_get_task_data (G_TASK (result));
  if (d->result == NULL)
    return TRUE; /* already taken by an earlier finish */
  g_clear_pointer (&self->weights_result, sc_sparsify_job_result_free);
  self->weights_result = g_steal_pointer (&d->result);
  return TRUE;
}

const SecateurSparsifyResult *
secateur_controller_get_sparsify_result (SecateurController *self)
{
  return self->weights_result;
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
  controller_post_progress (self, 0, 1, 0, -1, NULL);
  if (!check_overwrite (d->folder, d->overwrite, &error) ||
      !sc_sparsify_job_export (self->weights_result, d->folder, &eo, cancellable, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  controller_post_progress (self, 1, 1, 0, 0, NULL);
  g_task_return_boolean (task, TRUE);
}

void
secateur_controller_export_weights_async (SecateurController *self, const char *folder,
                                          gboolean overwrite, GCancellable *cancellable,
                                          GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = controller_job_new (self, secateur_controller_export_weights_async,
                                               JOB_NEEDS_MODEL, cancellable, callback, user_data);
  if (task == NULL)
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
  return controller_job_finish (self, result, error);
}
