/* secateur-controller-sweep.c: the controller's quality sweeps, an adapter
 * over the sweep job (sc-sweep-job.h). Every sweep of the session is kept
 * as a run, labelled by the settings and statistics it was measured with;
 * one of them, the current run, gives the estimate for the settings the
 * pages edit. */
#include "secateur-controller-private.h"

#include <glib/gi18n.h>
#include <string.h>

typedef struct
{
  SecateurController *self;
  GStrv directions;
  ScPruneSettings settings;
  ScStats *stats; /* a copy: the main thread's may be replaced */
  char *calibration;
  GArray *ratios; /* double, ascending */
  ScSweepJobResult *result;
} SweepData;

static void
sweep_data_free (gpointer data)
{
  SweepData *d = data;
  g_strfreev (d->directions);
  g_clear_pointer (&d->stats, sc_stats_free);
  g_free (d->calibration);
  g_clear_pointer (&d->ratios, g_array_unref);
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
    .ratios = (const double *) d->ratios->data,
    .n_ratios = d->ratios->len,
    .sentences = self->eval_sentences,
    .max_length = self->eval_max_length,
    .calibration = d->calibration,
    .capture = self->capture,
  };
  controller_post_progress (self, 0, g_strv_length (d->directions) * d->ratios->len, 0, -1, NULL);
  d->result =
      sc_sweep_job_run (self->model, &o, controller_job_progress, self, cancellable, &error);
  controller_job_return (task, d->result != NULL, error);
}

/* What the statistics came from, from their provenance: "udhr, proportional,
 * 256 sentences, teacher" per calibration run (corpus, sampling and mode
 * as the CLI names them), or their token count. */
static char *
calibration_label (ScStats *stats)
{
  g_autoptr (JsonArray) runs = sc_stats_get_provenance (stats);
  GString *label = g_string_new (NULL);
  guint n = runs != NULL ? json_array_get_length (runs) : 0;
  for (guint i = 0; i < n; i++)
    {
      JsonObject *o = json_array_get_object_element (runs, i);
      if (o == NULL)
        continue;
      if (label->len > 0)
        g_string_append (label, " + ");
      const char *corpus = json_object_get_string_member_with_default (o, "corpus", "udhr");
      const char *sampling = json_object_get_string_member_with_default (o, "sampling", NULL);
      gint64 sentences = json_object_get_int_member_with_default (o, "sentences", 0);
      const char *mode = json_object_get_string_member_with_default (o, "mode", NULL);
      g_string_append (label, corpus);
      if (sampling != NULL)
        g_string_append_printf (label, ", %s", sampling);
      g_string_append (label, ", ");
      g_string_append_printf (
          label, g_dngettext (GETTEXT_PACKAGE, "%d sentence", "%d sentences", (gulong) sentences),
          (int) sentences);
      if (mode != NULL)
        g_string_append_printf (label, ", %s", mode);
    }
  if (label->len == 0)
    {
      g_autofree char *tokens =
          g_strdup_printf ("%" G_GUINT64_FORMAT, sc_stats_total_tokens (stats));
      g_string_append_printf (label, _ ("%s tokens"), tokens);
    }
  return g_string_free (label, FALSE);
}

void
secateur_controller_sweep_async (SecateurController *self, const ScPruneSettings *settings,
                                 GCancellable *cancellable, GAsyncReadyCallback callback,
                                 gpointer user_data)
{
  /* NULL: the settings the application's pages edit */
  settings = settings != NULL ? settings : secateur_prune_settings_peek (self->prune_settings);
  g_autoptr (GTask) task = controller_job_new (self, secateur_controller_sweep_async,
                                               JOB_NEEDS_STATS, cancellable, callback, user_data);
  if (task == NULL)
    return;
  g_auto (GStrv) dirs = sc_stats_list_directions (self->stats);
  if (dirs == NULL || dirs[0] == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                               _ ("Calibrate the model first"));
      return;
    }
  if (!controller_check_merge (self, settings, task))
    return;
  SweepData *d = g_new0 (SweepData, 1);
  d->self = self;
  d->directions = g_steal_pointer (&dirs);
  d->settings = *settings;
  d->stats = sc_stats_snapshot (self->stats);
  d->calibration = calibration_label (d->stats);
  /* the default points and the slider's: the kept set in use is measured,
   * not estimated (the job measures a kept set once) */
  d->ratios = g_array_new (FALSE, FALSE, sizeof (double));
  g_array_append_vals (d->ratios, sc_sweep_default_ratios, N_SWEEP);
  if (settings->ratio >= 0 && settings->ratio < 1)
    {
      guint i = 0;
      while (i < d->ratios->len && g_array_index (d->ratios, double, i) < settings->ratio)
        i++;
      if (i == d->ratios->len || g_array_index (d->ratios, double, i) != settings->ratio)
        g_array_insert_val (d->ratios, i, settings->ratio);
    }
  g_task_set_task_data (task, d, sweep_data_free);
  g_task_run_in_thread (task, sweep_thread);
}

gboolean
secateur_controller_sweep_finish (SecateurController *self, GAsyncResult *result, GError **error)
{
  if (!controller_job_finish (self, result, error))
    return FALSE;
  SweepData *d = g_task_get_task_data (G_TASK (result));
  if (d->result != NULL)
    {
      /* a new run is the one shown; its settings are those the pages hold */
      controller_project_add_sweep (self, d->result);
      g_ptr_array_add (self->runs, g_steal_pointer (&d->result));
      self->current_run = self->runs->len - 1;
      controller_emit (self, SIGNAL_SWEEP_UPDATED);
    }
  return TRUE;
}

static const ScSweepJobResult *
current_run (SecateurController *self)
{
  return self->current_run >= 0 && (guint) self->current_run < self->runs->len
             ? self->runs->pdata[self->current_run]
             : NULL;
}

gboolean
secateur_controller_get_sweep (SecateurController *self, int *n, const double **ratios,
                               const double **chrf)
{
  const ScSweepJobResult *r = current_run (self);
  if (r == NULL)
    return FALSE;
  *n = r->n_ratios;
  *ratios = r->ratios;
  *chrf = r->chrf;
  return TRUE;
}

const double *
secateur_controller_get_sweep_scores (SecateurController *self)
{
  const ScSweepJobResult *r = current_run (self);
  return r != NULL ? r->scores : NULL;
}

gboolean
secateur_controller_estimate (SecateurController *self, const char *direction,
                              SecateurEstimate *out)
{
  const ScSweepJobResult *r = current_run (self);
  memset (out, 0, sizeof *out);
  if (r == NULL || self->stats == NULL)
    return FALSE;
  const ScPruneSettings *s = secateur_prune_settings_peek (self->prune_settings);
  const ScStatsShape *shape = sc_stats_get_shape (self->stats);
  if (r->experts_total != shape->n_moe_layers * shape->n_experts)
    {
      out->kind = SC_SWEEP_NOT_MEASURED; /* a run of another model */
      return TRUE;
    }
  int first = 0, last = r->n_directions;
  /* merged experts make another model than dropped ones, whatever the kept sets */
  if (r->settings.merge != s->merge)
    {
      out->kind = SC_SWEEP_NOT_MEASURED;
      out->n_directions = direction != NULL ? 1 : r->n_directions;
      return TRUE;
    }
  if (direction != NULL)
    {
      first = sc_sweep_job_find_direction (r, direction);
      if (first < 0)
        {
          out->kind = SC_SWEEP_NOT_MEASURED;
          out->n_directions = 1;
          return TRUE; /* a pair the run did not measure */
        }
      last = first + 1;
    }
  /* the kept set of each pair under the settings now */
  int n = last - first;
  g_autofree int *kept = g_new0 (int, n);
  g_auto (GStrv) sets = g_new0 (char *, n + 1);
  out->sentences = G_MAXINT;
  for (int i = 0; i < n; i++)
    {
      const char *dir = r->directions[first + i];
      g_autofree char *src = NULL, *tgt = NULL;
      sc_stats_split_direction (dir, &src, &tgt);
      g_autofree guint8 *keep =
          s->ratio > 0 ? sc_prune_keep_mask (self->stats, s, src, tgt, NULL) : NULL;
      if (s->ratio > 0 && keep == NULL)
        {
          out->kind = SC_SWEEP_NOT_MEASURED;
          return TRUE;
        }
      kept[i] = r->experts_total;
      if (keep != NULL)
        {
          kept[i] = 0;
          for (int e = 0; e < r->experts_total; e++)
            kept[i] += keep[e] != 0;
        }
      sets[i] = sc_sweep_kept_set_id (kept[i] == r->experts_total ? NULL : keep, r->experts_total);
      out->sentences = MIN (out->sentences, r->sentences[first + i]);
    }
  if (direction != NULL)
    out->kind = sc_sweep_job_estimate (r, first, kept[0], sets[0], &out->chrf);
  else
    out->kind = sc_sweep_job_estimate_mean (r, kept, (const char *const *) sets, &out->chrf);
  out->n_directions = n;
  out->num_beams = r->num_beams;
  out->max_length = r->max_length;
  out->held_out = r->held_out;
  return TRUE;
}

GPtrArray *
secateur_controller_get_runs (SecateurController *self)
{
  return self->runs;
}

int
secateur_controller_get_current_run (SecateurController *self)
{
  return current_run (self) != NULL ? self->current_run : -1;
}

void
secateur_controller_add_run (SecateurController *self, ScSweepJobResult *run)
{
  g_ptr_array_add (self->runs, run);
  if (self->current_run < 0)
    self->current_run = self->runs->len - 1;
  controller_emit (self, SIGNAL_SWEEP_UPDATED);
}

void
secateur_controller_select_run (SecateurController *self, int index)
{
  g_return_if_fail (index >= 0 && (guint) index < self->runs->len);
  self->current_run = index;
  const ScSweepJobResult *r = self->runs->pdata[index];
  /* its settings become the ones the pages edit (and Export writes); the
   * ratio stays where the slider is */
  ScPruneSettings s = r->settings;
  s.ratio = secateur_prune_settings_peek (self->prune_settings)->ratio;
  controller_emit (self, SIGNAL_SWEEP_UPDATED);
  secateur_prune_settings_set (self->prune_settings, &s);
}

void
controller_clear_runs (SecateurController *self)
{
  g_ptr_array_set_size (self->runs, 0);
  self->current_run = -1;
}
