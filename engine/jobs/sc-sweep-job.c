/* sc-sweep-job.c: quality at several pruning ratios. */
#include "sc-sweep-job.h"

#include "sc-merge.h"

const double sc_sweep_default_ratios[SC_SWEEP_N_DEFAULT_RATIOS] = { 0.0, 0.25, 0.5, 0.75, 0.9 };

void
sc_sweep_job_result_free (ScSweepJobResult *r)
{
  if (r == NULL)
    return;
  g_strfreev (r->directions);
  g_free (r->ratios);
  g_free (r->chrf);
  g_free (r->scores);
  g_free (r);
}

double
sc_sweep_job_estimate_chrf (const ScSweepJobResult *r, double ratio)
{
  if (r->n_ratios < 2 || ratio <= r->ratios[0])
    return r->n_ratios > 0 ? r->chrf[0] : 0.0;
  int i = 1;
  while (i < r->n_ratios - 1 && ratio > r->ratios[i])
    i++;
  double t = (ratio - r->ratios[i - 1]) / (r->ratios[i] - r->ratios[i - 1]);
  return MAX (0.0, r->chrf[i - 1] + t * (r->chrf[i] - r->chrf[i - 1]));
}

ScSweepJobResult *
sc_sweep_job_run (ScModel *model, const ScSweepJobOptions *o, ScProgressCallback progress,
                  gpointer progress_data, GCancellable *cancellable, GError **error)
{
  g_autoptr (ScSweepJobResult) r = g_new0 (ScSweepJobResult, 1);
  r->directions = g_strdupv ((char **) o->directions);
  r->n_directions = g_strv_length (r->directions);
  r->n_ratios = o->ratios != NULL ? o->n_ratios : SC_SWEEP_N_DEFAULT_RATIOS;
  r->ratios = g_memdup2 (o->ratios != NULL ? o->ratios : sc_sweep_default_ratios,
                         sizeof (double) * r->n_ratios);
  r->chrf = g_new0 (double, MAX (r->n_ratios, 1));
  r->scores = g_new0 (double, MAX (r->n_directions * r->n_ratios, 1));
  if (r->n_directions == 0 || r->n_ratios < 1)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "a sweep needs a direction and a ratio");
      return NULL;
    }

  ScProgressMeter meter;
  gint64 steps = (gint64) r->n_directions * r->n_ratios;
  sc_progress_meter_start (&meter, "sweep", "points", steps, progress, progress_data);
  for (int d = 0; d < r->n_directions; d++)
    {
      g_autofree char *src = NULL, *tgt = NULL;
      if (!sc_stats_split_direction (r->directions[d], &src, &tgt))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "“%s” is not a language pair", r->directions[d]);
          return NULL;
        }
      ScEvaluateJobOptions eo;
      sc_evaluate_job_options_init (&eo, model, src, tgt);
      eo.limit = o->sentences;
      eo.gen.num_beams = 1;
      if (o->max_length > 0)
        eo.gen.max_length = MIN (eo.gen.max_length, o->max_length);
      /* the sentences once per direction */
      g_autoptr (GPtrArray) pairs =
          sc_evaluate_job_pairs (model, NULL, SC_CORPUS_SPLIT_HELD_OUT, src, tgt, eo.limit, error);
      if (pairs == NULL)
        return NULL;
      g_autofree const char **sources = g_new0 (const char *, pairs->len + 1);
      g_autofree const char **refs = g_new0 (const char *, pairs->len + 1);
      for (guint i = 0; i < pairs->len; i++)
        {
          sources[i] = ((ScCorpusPair *) pairs->pdata[i])->source;
          refs[i] = ((ScCorpusPair *) pairs->pdata[i])->target;
        }
      eo.sources = sources;
      eo.references = refs;
      eo.n = pairs->len;
      for (int k = 0; k < r->n_ratios; k++)
        {
          ScPruneSettings s = o->settings;
          s.ratio = r->ratios[k];
          g_autofree guint8 *keep =
              s.ratio > 0 ? sc_prune_keep_mask (o->stats, &s, src, tgt, error) : NULL;
          if (s.ratio > 0 && keep == NULL)
            return NULL;
          g_autoptr (ScExpertSet) experts = sc_evaluate_job_experts (model, keep);
          eo.full = experts == NULL;
          eo.experts = experts;
          /* merged on this direction's tokens, as Compare and the export merge */
          g_autoptr (ScView) merged = NULL;
          const char *const served[] = { o->directions[d], NULL };
          if (experts != NULL && s.merge &&
              ((merged = sc_view_new (model, experts, error)) == NULL ||
               !sc_merge_apply (merged, o->capture, served, NULL, cancellable, error)))
            return NULL;
          eo.view = merged;
          g_autoptr (ScEvaluateJobResult) point =
              sc_evaluate_job_run (model, &eo, NULL, NULL, cancellable, error);
          if (point == NULL)
            return NULL;
          double score = (point->has_full ? &point->full : &point->pruned)->scores.chrf_pp;
          r->scores[d * r->n_ratios + k] = score;
          r->chrf[k] += score / r->n_directions;
          sc_progress_meter_update (&meter, (gint64) d * r->n_ratios + k + 1);
        }
    }
  return g_steal_pointer (&r);
}
