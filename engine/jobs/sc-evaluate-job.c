/* sc-evaluate-job.c: full and/or pruned translation of one direction, scored. */
#include "sc-evaluate-job.h"

#include "sc-metrics.h"
#include "sc-model-folder.h"

#include <string.h>

void
sc_evaluate_job_options_init (ScEvaluateJobOptions *opts, ScModel *model, const char *src,
                              const char *tgt)
{
  memset (opts, 0, sizeof *opts);
  opts->src = src;
  opts->tgt = tgt;
  opts->split = SC_CORPUS_SPLIT_HELD_OUT;
  opts->full = TRUE;
  sc_generate_options_init (&opts->gen, model);
  opts->batch_size = 8;
}

void
sc_evaluate_job_side_clear (ScEvaluateJobSide *side)
{
  g_clear_pointer (&side->scores.hyps, g_ptr_array_unref);
  g_clear_pointer (&side->sentence_chrf, g_free);
}

void
sc_evaluate_job_result_free (ScEvaluateJobResult *r)
{
  if (r == NULL)
    return;
  g_free (r->src);
  g_free (r->tgt);
  g_strfreev (r->sources);
  g_strfreev (r->references);
  sc_evaluate_job_side_clear (&r->full);
  sc_evaluate_job_side_clear (&r->pruned);
  g_free (r);
}

ScExpertSet *
sc_evaluate_job_experts (ScModel *model, const guint8 *keep)
{
  if (keep == NULL)
    return NULL;
  return sc_expert_set_new_from_keep (keep, sc_model_n_moe_layers (model),
                                      sc_model_get_config (model)->num_experts);
}

GPtrArray *
sc_evaluate_job_pairs (ScModel *model, const ScCorpusSpec *corpus, ScCorpusSplit split,
                       const char *src, const char *tgt, int limit, GError **error)
{
  static const ScCorpusSpec held_out = { SC_CORPUS_DEFAULT, NULL };
  GPtrArray *pairs =
      sc_model_corpus_pairs (model, corpus != NULL ? corpus : &held_out, split, src, tgt, error);
  if (pairs == NULL)
    return NULL;
  if (pairs->len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no sentences for %s-%s", src, tgt);
      g_ptr_array_unref (pairs);
      return NULL;
    }
  if (limit > 0 && pairs->len > (guint) limit)
    g_ptr_array_set_size (pairs, limit);
  return pairs;
}

typedef struct
{
  ScProgressMeter meter;
  gint64 base; /* sentences of sides already done */
} Progress;

static void
on_translated (int done, int total, gpointer data)
{
  Progress *p = data;
  sc_progress_meter_update (&p->meter, p->base + done);
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

static ScMetric *
chrf_new (GError **error)
{
  ScMetricConfig cfg;
  sc_metric_config_init (&cfg, SC_METRIC_CHRF_PP);
  return sc_metric_new (&cfg, error);
}

gboolean
sc_evaluate_job_sentence_scores (ScEvaluateJobSide *side, const char *const *references, int n,
                                 GError **error)
{
  g_autoptr (ScMetric) chrf = chrf_new (error);
  if (chrf == NULL)
    return FALSE;
  g_free (side->sentence_chrf);
  side->sentence_chrf = g_new (double, MAX (n, 1));
  for (int i = 0; i < n; i++)
    {
      const char *one[] = { references[i], NULL };
      ScMetricScore s;
      side->sentence_chrf[i] =
          sc_metric_sentence_score (chrf, side->scores.hyps->pdata[i], one, &s, NULL) ? s.score
                                                                                      : -1;
    }
  return TRUE;
}

/* One side: the full model's view or the pruned one. */
static gboolean
run_side (ScView *view, const ScEvaluateJobOptions *o, ScEvaluateJobResult *r, Progress *p,
          GCancellable *cancellable, ScEvaluateJobSide *side, GError **error)
{
  int n = r->n;
  const char *const *sources = (const char *const *) r->sources;
  const char *const *refs = (const char *const *) r->references;
  gint64 t0 = g_get_monotonic_time ();
  ScModel *model = sc_view_get_model (view);
  g_auto (GStrv) hyps = sc_translate (view, sources, n, r->src, r->tgt, &o->gen, o->batch_size,
                                      on_translated, p, cancellable, error);
  if (hyps == NULL)
    return FALSE;
  side->seconds = (g_get_monotonic_time () - t0) / (double) G_USEC_PER_SEC;
  side->tokens_per_s = count_tokens (model, hyps) / MAX (side->seconds, 1e-6);
  p->base += n;

  if (refs == NULL)
    {
      side->scores.hyps = g_ptr_array_new_with_free_func (g_free);
      for (int i = 0; i < n; i++)
        g_ptr_array_add (side->scores.hyps, g_strdup (hyps[i]));
      side->scores.chrf_pp = side->scores.spbleu = side->scores.len_ratio = -1;
      return TRUE;
    }
  g_autofree double *sums = g_new0 (double, MAX (n, 1));
  g_autofree int *tokens = g_new0 (int, MAX (n, 1));
  if (o->nll && !sc_evaluate_nll_sums (view, r->src, r->tgt, sources, refs, n, sums, tokens, error))
    return FALSE;
  if (!sc_evaluate_score (model, refs, n, hyps, sums, tokens, &side->scores, error))
    return FALSE;
  return !o->sentence_scores || sc_evaluate_job_sentence_scores (side, refs, n, error);
}

ScEvaluateJobResult *
sc_evaluate_job_run (ScModel *model, const ScEvaluateJobOptions *o, ScProgressCallback progress,
                     gpointer progress_data, GCancellable *cancellable, GError **error)
{
  g_autoptr (ScEvaluateJobResult) r = g_new0 (ScEvaluateJobResult, 1);
  r->src = g_strdup (o->src);
  r->tgt = g_strdup (o->tgt);
  if (o->sources != NULL)
    {
      r->n = o->n;
      r->sources = g_new0 (char *, MAX (o->n, 0) + 1);
      r->references = o->references ? g_new0 (char *, MAX (o->n, 0) + 1) : NULL;
      for (int i = 0; i < o->n; i++)
        {
          r->sources[i] = g_strdup (o->sources[i]);
          if (r->references != NULL)
            r->references[i] = g_strdup (o->references[i]);
        }
    }
  else
    {
      g_autoptr (GPtrArray) pairs =
          sc_evaluate_job_pairs (model, o->corpus, o->split, o->src, o->tgt, o->limit, error);
      if (pairs == NULL)
        return NULL;
      r->n = pairs->len;
      r->sources = g_new0 (char *, r->n + 1);
      r->references = g_new0 (char *, r->n + 1);
      for (int i = 0; i < r->n; i++)
        {
          ScCorpusPair *pair = pairs->pdata[i];
          r->sources[i] = g_strdup (pair->source);
          r->references[i] = g_strdup (pair->target);
        }
    }
  if (r->n < 1)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "%s-%s: nothing to evaluate", o->src, o->tgt);
      return NULL;
    }

  Progress p = { 0 };
  /* two views of the one model: the full one and the one keeping `experts` */
  g_autoptr (ScView) full = o->full ? sc_view_new (model, NULL, error) : NULL;
  g_autoptr (ScView) owned =
      o->experts && o->view == NULL ? sc_view_new (model, o->experts, error) : NULL;
  if ((o->full && full == NULL) || (o->experts && o->view == NULL && owned == NULL))
    return NULL;
  ScView *pruned = o->view != NULL ? o->view : owned;
  int n_sides = (full != NULL) + (pruned != NULL);
  sc_progress_meter_start (&p.meter, "translate", "sentences", (gint64) n_sides * r->n, progress,
                           progress_data);
  if (full != NULL)
    {
      if (!run_side (full, o, r, &p, cancellable, &r->full, error))
        return NULL;
      r->has_full = TRUE;
    }
  if (pruned != NULL)
    {
      if (!run_side (pruned, o, r, &p, cancellable, &r->pruned, error))
        return NULL;
      r->has_pruned = TRUE;
    }
  if (r->has_full && r->has_pruned)
    {
      int same = 0;
      for (int i = 0; i < r->n; i++)
        same += g_str_equal (r->full.scores.hyps->pdata[i], r->pruned.scores.hyps->pdata[i]);
      r->agreement = (double) same / r->n;
    }
  return g_steal_pointer (&r);
}
