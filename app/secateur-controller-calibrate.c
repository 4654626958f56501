/* secateur-controller-calibrate.c: the controller's calibration, an
 * adapter over the calibrate job (sc-calibrate-job.h). The job fills
 * statistics it owns; the worker hands snapshots (deep copies) of them to
 * the main context at most every SNAPSHOT_INTERVAL, which owns them from
 * then on. */
#include "secateur-controller-private.h"

#include "sc-calibrate-job.h"

#include <glib/gi18n.h>

#define SNAPSHOT_INTERVAL_US (150 * 1000)

typedef struct
{
  SecateurController *self;
  GStrv directions;
  char *corpus_path; /* the options' corpus path */
  ScCalibrateJobOptions options;
  ScStats *stats;
  ScCapture *capture; /* when the settings merge */
  ScStats *base; /* add: a copy of the statistics the run adds to */
  gboolean add;
  gint64 last_snapshot;
} CalibrateData;

static void
calibrate_data_free (gpointer data)
{
  CalibrateData *d = data;
  g_strfreev (d->directions);
  g_free (d->corpus_path);
  g_clear_pointer (&d->stats, sc_stats_free);
  g_clear_pointer (&d->capture, sc_capture_free);
  g_clear_pointer (&d->base, sc_stats_free);
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
      /* adding: the heatmap shows what the statistics will be */
      if (d->base != NULL)
        {
          ScStats *sum = sc_stats_snapshot (d->base);
          if (sc_stats_merge (sum, snapshot, NULL))
            {
              sc_stats_free (snapshot);
              snapshot = sum;
            }
          else
            sc_stats_free (sum);
        }
      d->last_snapshot = t;
    }
  controller_post_progress (d->self, (int) p->done, (int) p->total, p->rate, p->eta_s, snapshot);
}

static void
calibrate_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  CalibrateData *d = task_data;
  GError *error = NULL;
  controller_job_lower_priority ();
  gboolean ok = sc_calibrate_job_run (d->self->model, &d->options, d->stats, NULL,
                                      calibrate_progress, d, cancellable, &error);
  controller_job_return (task, ok, error);
}

void
secateur_controller_calibrate_async (SecateurController *self,
                                     const SecateurCalibrateRequest *request,
                                     GCancellable *cancellable, GAsyncReadyCallback callback,
                                     gpointer user_data)
{
  g_autoptr (GTask) task = controller_job_new (self, secateur_controller_calibrate_async,
                                               JOB_NEEDS_MODEL, cancellable, callback, user_data);
  if (task == NULL)
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
  d->add = request->add && self->stats != NULL;
  if (self->stats != NULL)
    d->base = sc_stats_snapshot (self->stats);
  /* Merging needs router inputs; bounded as calibrate --capture's default
   * (256 per direction and MoE layer: for the 54B 2 MiB each). Samples do not
   * add up: a run that adds keeps the earlier capture. */
  if (secateur_prune_settings_peek (self->prune_settings)->merge && !d->add)
    {
      const ScMoeShape *sh = sc_model_get_moe_shape (self->model);
      o->capture = d->capture = sc_capture_new (sh->n_moe_layers, sh->n_encoder_moe, sh->d_model,
                                                SC_CAPTURE_DEFAULT_TOKENS, SC_CAPTURE_DEFAULT_SEED);
    }
  /* the statistics and their curve stay until the run has something to
   * replace them with */
  g_task_set_task_data (task, d, calibrate_data_free);
  g_task_run_in_thread (task, calibrate_thread);
}

gboolean
secateur_controller_calibrate_finish (SecateurController *self, GAsyncResult *result,
                                      GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  CalibrateData *d = g_task_get_task_data (G_TASK (result));
  gboolean ok = g_task_propagate_boolean (G_TASK (result), error);
  if (d == NULL || d->stats == NULL)
    return ok; /* already finished, or never started */
  gboolean counted = sc_stats_total_tokens (d->stats) > 0;
  ScStats *now = NULL;
  /* adding: a partial run's whole batches count too (statistics are additive) */
  if (d->add && counted && sc_stats_merge (d->base, d->stats, NULL))
    now = g_steal_pointer (&d->base);
  else if (counted && (ok || d->base == NULL))
    {
      /* replaced: the quality curves measured on the old statistics go with them */
      now = g_steal_pointer (&d->stats);
      /* and their capture, by this run's or none: an older one samples other text */
      g_clear_pointer (&self->capture, sc_capture_free);
      self->capture = g_steal_pointer (&d->capture);
      if (d->base != NULL)
        {
          controller_clear_runs (self);
          controller_emit (self, SIGNAL_SWEEP_UPDATED);
        }
    }
  /* nothing to add or replace with: back to the statistics of before
   * (live snapshots showed the run's) */
  if (now == NULL)
    now = g_steal_pointer (&d->base);
  g_clear_pointer (&d->stats, sc_stats_free);
  g_clear_pointer (&self->stats, sc_stats_free);
  self->stats = now;
  controller_emit (self, SIGNAL_STATS_UPDATED);
  controller_project_save_stats (self);
  return ok;
}
