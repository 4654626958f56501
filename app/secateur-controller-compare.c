/* secateur-controller-compare.c: the controller's Compare, an adapter
 * over the evaluate job (sc-evaluate-job.h). A Compare's scores are
 * remembered for the export's report when they describe the same
 * settings. */
#include "secateur-controller-private.h"

#include "sc-merge.h"

#include <glib/gi18n.h>
#include <string.h>

gboolean
controller_check_merge (SecateurController *self, const ScPruneSettings *s, GTask *task)
{
  if (!s->merge || self->capture != NULL)
    return TRUE;
  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                           _ ("Merging pruned experts needs the router inputs a calibration "
                              "captures: calibrate again with “Merge Pruned Experts” on"));
  return FALSE;
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
compare_row_free (SecateurCompareRow *row)
{
  g_free (row->source);
  g_free (row->reference);
  g_free (row->full);
  g_free (row->pruned);
  g_free (row);
}

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
  /* merged on this direction's tokens, as the export of it merges */
  g_autoptr (ScView) merged = NULL;
  g_autofree char *dir = g_strdup_printf ("%s-%s", d->src, d->tgt);
  const char *const served[] = { dir, NULL };
  if (d->settings.merge &&
      ((merged = sc_view_new (self->model, experts, &error)) == NULL ||
       !sc_merge_apply (merged, self->capture, served, NULL, cancellable, &error)))
    {
      g_task_return_error (task, error);
      return;
    }
  o.view = merged;
  o.sentence_scores = TRUE;
  o.gen.max_length = MIN (o.gen.max_length, self->eval_max_length);
  g_autoptr (ScEvaluateJobResult) e =
      sc_evaluate_job_run (self->model, &o, controller_job_progress, self, cancellable, &error);
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
  g_autoptr (GTask) task = controller_job_new (self, secateur_controller_compare_async,
                                               JOB_NEEDS_STATS, cancellable, callback, user_data);
  if (task == NULL)
    return;
  if (!controller_check_merge (self, settings, task))
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
  return g_strdup_printf ("%.17g %d %d %d %d %d%s", s->ratio, s->metric, s->algo, s->granularity,
                          s->enc_weight, s->dec_weight, s->merge ? " merged" : "");
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

JsonObject *
controller_compare_scores_for (SecateurController *self, const char *const *directions,
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
