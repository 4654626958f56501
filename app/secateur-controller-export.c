/* secateur-controller-export.c: the controller's export of the pruned
 * model, an adapter over the export bundle job (sc-export-job.h): the
 * checkpoint and its report, with the last Compare's scores and the sweep. */
#include "secateur-controller-private.h"

#include "sc-export-job.h"

#include <glib/gi18n.h>

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
  char *held_out;
} ExportData;

static ExportData *export_data_new (SecateurController *self, const char *folder,
                                    const char *const *directions, const ScPruneSettings *settings,
                                    gboolean overwrite, const char *dtype);

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
  g_free (d->held_out);
  g_free (d);
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
  gboolean ok = sc_export_job_run (d->self->model, d->stats, &d->options, controller_job_progress,
                                   d->self, cancellable, &error);
  controller_job_return (task, ok, error);
}

void
secateur_controller_export_async (SecateurController *self, const char *folder,
                                  const char *const *directions, const ScPruneSettings *settings,
                                  gboolean overwrite, const char *dtype, GCancellable *cancellable,
                                  GAsyncReadyCallback callback, gpointer user_data)
{
  /* NULL: the settings the application's pages edit */
  settings = settings != NULL ? settings : secateur_prune_settings_peek (self->prune_settings);
  g_autoptr (GTask) task = controller_job_new (self, secateur_controller_export_async,
                                               JOB_NEEDS_STATS, cancellable, callback, user_data);
  if (task == NULL)
    return;
  if (directions == NULL || directions[0] == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _ ("Choose at least one language pair to export"));
      return;
    }
  if (!controller_check_merge (self, settings, task))
    return;
  ExportData *d = export_data_new (self, folder, directions, settings, overwrite, dtype);
  g_task_set_task_data (task, d, export_data_free);
  g_task_run_in_thread (task, export_thread);
}

/* The job's options from the controller's state, the same for the export
 * and its preview (secateur_controller_export_plan). */
static ExportData *
export_data_new (SecateurController *self, const char *folder, const char *const *directions,
                 const ScPruneSettings *settings, gboolean overwrite, const char *dtype)
{
  ExportData *d = g_new0 (ExportData, 1);
  d->self = self;
  d->folder = g_strdup (folder);
  d->directions = g_strdupv ((char **) directions);
  d->stats = sc_stats_snapshot (self->stats);
  d->scores = controller_compare_scores_for (self, directions, settings);
  ScExportJobOptions *o = &d->options;
  sc_export_job_options_init (o);
  o->folder = d->folder;
  o->directions = (const char *const *) d->directions;
  o->settings = *settings;
  o->capture = self->capture;
  o->overwrite = overwrite;
  o->convert = dtype != NULL && sc_dtype_from_name (dtype, &o->dtype);
  o->scores = d->scores;
  o->scores_report = "Compare";
  /* the report's quality curve, from copies taken here on the main thread */
  int run = secateur_controller_get_current_run (self);
  if (run >= 0)
    {
      const ScSweepJobResult *r = self->runs->pdata[run];
      int n = r->n_ratios;
      /* each point at the share of experts it actually pruned */
      d->ratios = g_new (double, n);
      for (int i = 0; i < n; i++)
        d->ratios[i] = sc_sweep_job_point_pruned (r, i);
      d->chrf = g_memdup2 (r->chrf, sizeof (double) * n);
      d->sweep_scores = g_memdup2 (r->scores, sizeof (double) * n * r->n_directions);
      d->sweep_directions = g_strdupv (r->directions);
      o->n_points = n;
      o->ratios = d->ratios;
      o->chrf = d->chrf;
      o->sweep_scores = d->sweep_scores;
      o->sweep_directions = (const char *const *) d->sweep_directions;
      /* what the curve rests on, for its title: the fewest sentences of
       * any direction */
      d->held_out = g_strdup (r->held_out);
      o->held_out = d->held_out;
      for (int k = 0; r->sentences != NULL && k < r->n_directions; k++)
        o->held_out_sentences =
            k == 0 ? r->sentences[k] : MIN (o->held_out_sentences, r->sentences[k]);
    }
  return d;
}

ScExportJobPlan *
secateur_controller_export_plan (SecateurController *self, const char *const *directions,
                                 const char *dtype, GError **error)
{
  if (self->model == NULL || self->stats == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED, _ ("Calibrate the model first"));
      return NULL;
    }
  if (directions == NULL || directions[0] == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("Choose at least one language pair to export"));
      return NULL;
    }
  ExportData *d = export_data_new (
      self, NULL, directions, secateur_prune_settings_peek (self->prune_settings), FALSE, dtype);
  ScExportJobPlan *plan = sc_export_job_plan (self->model, d->stats, &d->options, error);
  export_data_free (d);
  return plan;
}

gboolean
secateur_controller_export_finish (SecateurController *self, GAsyncResult *result, GError **error)
{
  if (!controller_job_finish (self, result, error))
    return FALSE;
  ExportData *d = g_task_get_task_data (G_TASK (result));
  controller_project_add_export (self, d->folder, (const char *const *) d->directions,
                                 &d->options.settings,
                                 d->options.convert ? sc_dtype_name (d->options.dtype) : NULL);
  return TRUE;
}
