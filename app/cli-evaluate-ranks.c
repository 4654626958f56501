/* cli-evaluate-ranks.c: `evaluate` over MPI ranks. Each rank translates a
 * contiguous shard of a direction's sentences (balanced by source tokens);
 * rank 0 gathers hypotheses and per-sentence NLL sums in input order and
 * scores them, so the scores are those of one process. */
#include "cli-commands.h"
#include "sc-distributed.h"

#include <string.h>

/* One side (full, or masked with `keep`) translated on this rank's shard;
 * on rank 0 scored over the whole corpus into `side`. */
static gboolean
run_side (ScModel *model, const guint8 *keep, const char *src, const char *tgt,
          const char *const *sources, const char *const *references, int n, int first, int last,
          const ScGenerateOptions *gen, int batch, ScEvalSide *side, GError **error)
{
  int m = last - first;
  g_auto (GStrv) hyps = NULL;
  g_autofree double *sums = g_new0 (double, MAX (m, 1));
  g_autofree int *tokens = g_new0 (int, MAX (m, 1));
  g_autoptr (ScView) view = sc_view_new_from_keep (model, keep, error);
  if (view == NULL)
    return FALSE;
  if (m > 0 && !sc_evaluate_translate (view, src, tgt, sources + first, references + first, m, gen,
                                       batch, NULL, &hyps, sums, tokens, error))
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
                   "%s-%s: the ranks returned %d translations of %d sentences", src, tgt, n_all, n);
      return FALSE;
    }
  g_autofree double *all_sums = g_new0 (double, n);
  g_autofree int *all_tokens = g_new0 (int, n);
  for (int i = 0; i < n; i++)
    {
      all_sums[i] = all_values[2 * i];
      all_tokens[i] = (int) all_values[2 * i + 1];
    }
  return sc_evaluate_score (model, references, n, all, all_sums, all_tokens, side, error);
}

gboolean
sc_cli_evaluate_ranks (ScModel *model, const guint8 *keep, const char *src, const char *tgt,
                       const char *const *sources, const char *const *references, int n,
                       const ScGenerateOptions *gen, int batch, ScEvalResult *r, GError **error)
{
  if (sc_distributed_size () == 1)
    {
      g_autoptr (ScView) full = sc_view_new (model, NULL, error);
      g_autoptr (ScView) pruned = keep != NULL ? sc_view_new_from_keep (model, keep, error) : NULL;
      return full != NULL && (keep == NULL || pruned != NULL) &&
             sc_evaluate (full, pruned, src, tgt, sources, references, n, gen, batch, NULL, r,
                          error);
    }
  memset (r, 0, sizeof *r);
  if (n < 1)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "%s-%s: nothing to evaluate", src, tgt);
      return FALSE;
    }
  ScTokenizer *tok = sc_model_get_tokenizer (model);
  g_autofree guint64 *weights = g_new (guint64, n);
  for (int i = 0; i < n; i++)
    {
      g_autoptr (GArray) ids = sc_tokenizer_encode (tok, sources[i], src, NULL);
      weights[i] = 1 + (ids ? ids->len : 0);
    }
  int first, last;
  sc_distributed_shard (weights, n, &first, &last);
  r->src = g_strdup (src);
  r->tgt = g_strdup (tgt);
  r->n_sentences = n;
  if (!run_side (model, NULL, src, tgt, sources, references, n, first, last, gen, batch, &r->full,
                 error))
    goto fail;
  if (keep != NULL)
    {
      if (!run_side (model, keep, src, tgt, sources, references, n, first, last, gen, batch,
                     &r->pruned, error))
        goto fail;
      r->has_pruned = TRUE;
      if (sc_distributed_rank () == 0)
        {
          int same = 0;
          for (int i = 0; i < n; i++)
            same += g_str_equal (r->full.hyps->pdata[i], r->pruned.hyps->pdata[i]);
          r->agreement = (double) same / n;
        }
    }
  return TRUE;

fail:
  sc_eval_result_clear (r);
  return FALSE;
}
