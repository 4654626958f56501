/* sc-evaluate.c: translations scored like sacreBLEU, and reference NLL. */
#include "sc-evaluate.h"

#include "sc-metrics.h"
#include "sc-model-folder.h"

#include <math.h>
#include <string.h>

gboolean
sc_evaluate_nll (ScView *view, const char *src, const char *tgt, const char *const *sources,
                 const char *const *references, int n, double *nll, GError **error)
{
  return sc_evaluate_nll_each (view, src, tgt, sources, references, n, NULL, nll, error);
}

gboolean
sc_evaluate_nll_each (ScView *view, const char *src, const char *tgt, const char *const *sources,
                      const char *const *references, int n, double *per_sentence, double *nll,
                      GError **error)
{
  g_autofree double *sums = g_new0 (double, MAX (n, 1));
  g_autofree int *tokens = g_new0 (int, MAX (n, 1));
  if (!sc_evaluate_nll_sums (view, src, tgt, sources, references, n, sums, tokens, error))
    return FALSE;
  double total = 0.0;
  guint64 count = 0;
  for (int i = 0; i < n; i++)
    {
      if (per_sentence != NULL)
        per_sentence[i] = sums[i] / tokens[i];
      total += sums[i];
      count += tokens[i];
    }
  if (nll != NULL)
    *nll = count > 0 ? total / count : 0.0;
  return TRUE;
}

gboolean
sc_evaluate_nll_sums (ScView *view, const char *src, const char *tgt, const char *const *sources,
                      const char *const *references, int n, double *sums, int *tokens,
                      GError **error)
{
  ScModel *model = sc_view_get_model (view);
  const ScConfig *c = sc_model_get_config (model);
  ScTokenizer *tok = sc_model_get_tokenizer (model);
  int tgt_id = sc_tokenizer_lang_id (tok, tgt, error);
  if (tgt_id < 0)
    return FALSE;
  int V = c->vocab_size, max_pos = c->max_position_embeddings;

  /* One sentence at a time: exact and simple; evaluation sets are small. */
  for (int i = 0; i < n; i++)
    {
      g_autoptr (GArray) s = sc_tokenizer_encode (tok, sources[i], src, error);
      g_autoptr (GArray) pieces = s ? sc_tokenizer_encode_pieces (tok, references[i], error) : NULL;
      if (pieces == NULL)
        return FALSE;
      if ((int) s->len > max_pos)
        {
          int last = g_array_index (s, int, s->len - 1);
          g_array_set_size (s, max_pos);
          g_array_index (s, int, max_pos - 1) = last;
        }
      int np = MIN ((int) pieces->len, max_pos - 2);
      /* input [</s> tgt pieces], labels [tgt pieces </s>] */
      int T = np + 2;
      g_autofree int *in = g_new (int, T);
      g_autofree int *labels = g_new (int, T);
      in[0] = c->decoder_start_token_id;
      in[1] = tgt_id;
      labels[0] = tgt_id;
      for (int k = 0; k < np; k++)
        {
          in[k + 2] = g_array_index (pieces, int, k);
          labels[k + 1] = in[k + 2];
        }
      labels[T - 1] = c->eos_token_id;

      int len = s->len, row = 0;
      g_autoptr (ScEncoding) enc = sc_view_encode (view, (int *) s->data, &len, 1, len, error);
      if (enc == NULL)
        return FALSE;
      g_autoptr (ScDecoder) dec = sc_decoder_new (view, enc, 1, &row, T, error);
      if (dec == NULL)
        return FALSE;
      g_autofree float *logits = g_new (float, (gsize) T *V);
      if (!sc_decoder_forward (dec, in, T, logits, FALSE, error))
        return FALSE;
      double sentence = 0.0;
      for (int t = 0; t < T; t++)
        {
          const float *l = logits + (gsize) t * V;
          float max = l[0];
          for (int v = 1; v < V; v++)
            max = MAX (max, l[v]);
          double sum = 0.0;
          for (int v = 0; v < V; v++)
            sum += exp ((double) l[v] - max);
          sentence += -(l[labels[t]] - max - log (sum));
        }
      sums[i] = sentence;
      tokens[i] = T;
    }
  return TRUE;
}

void
sc_eval_tsv_append_row (GString *tsv, const char *direction, const ScEvalSide *side)
{
  char spbleu[G_ASCII_DTOSTR_BUF_SIZE], chrf[G_ASCII_DTOSTR_BUF_SIZE];
  char ratio[G_ASCII_DTOSTR_BUF_SIZE];
  g_string_append_printf (tsv, "%s\t%s\t%s\t%s\n", direction,
                          g_ascii_formatd (spbleu, sizeof spbleu, "%.2f", side->spbleu),
                          g_ascii_formatd (chrf, sizeof chrf, "%.2f", side->chrf_pp),
                          g_ascii_formatd (ratio, sizeof ratio, "%.3f", side->len_ratio));
}

static gboolean
score_side (ScModel *model, const char *spm, const char *const *references, ScEvalSide *side,
            GError **error)
{
  /* The metrics take NULL-terminated lists. */
  int n = side->hyps->len;
  g_autofree const char **refs = g_new0 (const char *, n + 1);
  memcpy (refs, references, sizeof (char *) * n);
  const char *const *ref_streams[] = { refs, NULL };
  /* BLEU (13a) only for len_ratio: pasero's, sacreBLEU's BLEU "ratio" with
   * its default tokenizer, is the len_ratio of the authors' score tables */
  ScMetricKind kinds[] = { SC_METRIC_CHRF_PP, SC_METRIC_SPBLEU, SC_METRIC_BLEU };
  double *dest[] = { &side->chrf_pp, &side->spbleu, NULL };
  g_ptr_array_add (side->hyps, NULL); /* NULL-terminate for the metric */
  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      ScMetricConfig cfg;
      sc_metric_config_init (&cfg, kinds[k]);
      cfg.spm_model = spm;
      g_autoptr (ScMetric) metric = sc_metric_new (&cfg, error);
      ScMetricScore score;
      if (metric == NULL ||
          !sc_metric_corpus_score (metric, (const char *const *) side->hyps->pdata, ref_streams,
                                   &score, error))
        {
          g_ptr_array_remove_index (side->hyps, side->hyps->len - 1);
          return FALSE;
        }
      if (dest[k] != NULL)
        *dest[k] = score.score;
      else /* BLEU's statistics begin with the hypothesis and reference lengths */
        side->len_ratio = score.stats[1] > 0 ? (double) score.stats[0] / score.stats[1] : 0.0;
    }
  g_ptr_array_remove_index (side->hyps, side->hyps->len - 1);
  return TRUE;
}

gboolean
sc_evaluate_translate (ScView *view, const char *src, const char *tgt, const char *const *sources,
                       const char *const *references, int n, const ScGenerateOptions *gen,
                       int batch_size, GCancellable *cancellable, char ***hyps, double *nll_sums,
                       int *nll_tokens, GError **error)
{
  *hyps =
      sc_translate (view, sources, n, src, tgt, gen, batch_size, NULL, NULL, cancellable, error);
  if (*hyps == NULL)
    return FALSE;
  if (!sc_evaluate_nll_sums (view, src, tgt, sources, references, n, nll_sums, nll_tokens, error))
    {
      g_clear_pointer (hyps, g_strfreev);
      return FALSE;
    }
  return TRUE;
}

gboolean
sc_evaluate_score (ScModel *model, const char *const *references, int n, char **hyps,
                   const double *nll_sums, const int *nll_tokens, ScEvalSide *side, GError **error)
{
  g_autofree char *spm = sc_model_get_spm_path (model);
  side->hyps = g_ptr_array_new_with_free_func (g_free);
  for (int i = 0; i < n; i++)
    g_ptr_array_add (side->hyps, g_strdup (hyps[i]));
  /* summed in corpus order, as one process does */
  double total = 0.0;
  guint64 count = 0;
  for (int i = 0; i < n; i++)
    {
      total += nll_sums[i];
      count += nll_tokens[i];
    }
  side->nll = count > 0 ? total / count : 0.0;
  return score_side (model, spm, references, side, error);
}
