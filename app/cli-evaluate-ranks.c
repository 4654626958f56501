/* cli-evaluate-ranks.c: the evaluate job (sc-evaluate-job.h) over MPI
 * ranks. Each rank translates a contiguous shard of a direction's
 * sentences (balanced by source tokens); rank 0 gathers hypotheses and
 * per-sentence NLL sums in input order and scores them, so the scores are
 * those of one process. */
#include "cli-commands.h"
#include "sc-distributed.h"

#include <string.h>

/* One side (full, or keeping `experts`) translated on this rank's shard;
 * on rank 0 scored over the whole corpus into `side`. */
static gboolean
run_side (ScModel *model, const ScEvaluateJobOptions *o, ScExpertSet *experts, ScView *given,
          int first, int last, ScEvaluateJobSide *side, GError **error)
{
  int m = last - first, n = o->n;
  g_auto (GStrv) hyps = NULL;
  g_autofree double *sums = g_new0 (double, MAX (m, 1));
  g_autofree int *tokens = g_new0 (int, MAX (m, 1));
  g_autoptr (ScView) owned = given == NULL ? sc_view_new (model, experts, error) : NULL;
  ScView *view = given != NULL ? given : owned;
  if (view == NULL)
    return FALSE;
  gint64 t0 = g_get_monotonic_time ();
  gboolean ok = m <= 0 || sc_evaluate_translate (view, o->src, o->tgt, o->sources + first,
                                                 o->references + first, m, &o->gen, o->batch_size,
                                                 NULL, &hyps, sums, tokens, error);
  side->seconds = (g_get_monotonic_time () - t0) / (double) G_USEC_PER_SEC;
  if (!ok)
    return FALSE;
  /* NLL sum and token count travel as two doubles per sentence (exact). */
  g_autofree double *values = g_new0 (double, 2 * MAX (m, 1));
  for (int i = 0; i < m; i++)
    {
      values[2 * i] = sums[i];
      values[2 * i + 1] = tokens[i];
    }
  char *none[] = { NULL };
  g_auto (GStrv) all = NULL;
  g_autofree double *all_values = NULL;
  int n_all = 0;
  sc_distributed_gather_strings (m > 0 ? hyps : none, values, 2, m, &all, &all_values, &n_all);
  if (sc_distributed_rank () != 0)
    return TRUE;
  if (n_all != n)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "%s-%s: the ranks returned %d translations of %d sentences", o->src, o->tgt,
                   n_all, n);
      return FALSE;
    }
  g_autofree double *all_sums = g_new0 (double, n);
  g_autofree int *all_tokens = g_new0 (int, n);
  for (int i = 0; i < n; i++)
    {
      all_sums[i] = all_values[2 * i];
      all_tokens[i] = (int) all_values[2 * i + 1];
    }
  return sc_evaluate_score (model, o->references, n, all, all_sums, all_tokens, &side->scores,
                            error) &&
         (!o->sentence_scores || sc_evaluate_job_sentence_scores (side, o->references, n, error));
}

ScEvaluateJobResult *
sc_cli_evaluate_ranks (ScModel *model, const ScEvaluateJobOptions *o, GError **error)
{
  g_return_val_if_fail (o->sources != NULL && o->references != NULL, NULL);
  if (sc_distributed_size () == 1)
    return sc_evaluate_job_run (model, o, NULL, NULL, NULL, error);
  if (o->n < 1)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "%s-%s: nothing to evaluate", o->src, o->tgt);
      return NULL;
    }
  ScTokenizer *tok = sc_model_get_tokenizer (model);
  g_autofree guint64 *weights = g_new (guint64, o->n);
  for (int i = 0; i < o->n; i++)
    {
      g_autoptr (GArray) ids = sc_tokenizer_encode (tok, o->sources[i], o->src, NULL);
      weights[i] = 1 + (ids ? ids->len : 0);
    }
  int first, last;
  sc_distributed_shard (weights, o->n, &first, &last);
  g_autoptr (ScEvaluateJobResult) r = g_new0 (ScEvaluateJobResult, 1);
  r->src = g_strdup (o->src);
  r->tgt = g_strdup (o->tgt);
  r->n = o->n;
  r->sources = g_strdupv ((char **) o->sources);
  r->references = g_strdupv ((char **) o->references);
  if (o->full)
    {
      if (!run_side (model, o, NULL, NULL, first, last, &r->full, error))
        return NULL;
      r->has_full = TRUE;
    }
  if (o->experts != NULL || o->view != NULL)
    {
      if (!run_side (model, o, o->experts, o->view, first, last, &r->pruned, error))
        return NULL;
      r->has_pruned = TRUE;
    }
  if (r->has_full && r->has_pruned && sc_distributed_rank () == 0)
    {
      int same = 0;
      for (int i = 0; i < r->n; i++)
        same += g_str_equal (r->full.scores.hyps->pdata[i], r->pruned.scores.hyps->pdata[i]);
      r->agreement = (double) same / r->n;
    }
  return g_steal_pointer (&r);
}
