/* sc-beam-scores.c: log-softmax and top-k for beam search.
 *
 * Each beam search step ranks K * V scores per sentence (V is 256k for
 * NLLB). The reference path writes log_softmax over each row, adds the
 * beam score in a second pass and reads the rows again for the top k;
 * sc_beam_top_k_plain does the same float operations in one read after the
 * log-sum-exp, offering each score to the top k as it is made. */
#include "sc-beam-scores.h"

#include <math.h>

/* Offers score s of candidate `index` to out[0..*filled), the best k so
 * far sorted descending; fed in index order, ties keep the lower index
 * first. */
static inline void
top_k_push (ScBeamCand *out, int *filled, int k, float s, int index)
{
  if (*filled == k && !(s > out[k - 1].score))
    return;
  int j = *filled < k ? (*filled)++ : k - 1;
  while (j > 0 && out[j - 1].score < s)
    {
      out[j] = out[j - 1];
      j--;
    }
  out[j].score = s;
  out[j].index = index;
}

void
sc_beam_top_k (const float *scores, int n, int k, ScBeamCand *out)
{
  int filled = 0;
  for (int i = 0; i < n; i++)
    top_k_push (out, &filled, k, scores[i], i);
}

/* The two numbers log_softmax subtracts from every entry: the row's max
 * and log(sum(exp(x - max))), summed in double. */
static void
log_softmax_shift (const float *x, int n, float *max_out, float *lse_out)
{
  float max = x[0];
  for (int i = 1; i < n; i++)
    max = MAX (max, x[i]);
  double sum = 0.0;
  for (int i = 0; i < n; i++)
    sum += exp ((double) x[i] - max);
  *max_out = max;
  *lse_out = (float) log (sum);
}

void
sc_log_softmax (float *x, int n)
{
  float max, lse;
  log_softmax_shift (x, n, &max, &lse);
  for (int i = 0; i < n; i++)
    x[i] = x[i] - max - lse;
}

void
sc_beam_top_k_plain (const float *logits, int K, int V, const float *beam_scores, int k,
                     ScBeamCand *out)
{
  int filled = 0;
  for (int r = 0; r < K; r++)
    {
      const float *l = logits + (gsize) r * V;
      float max, lse, beam = beam_scores[r];
      log_softmax_shift (l, V, &max, &lse);
      for (int v = 0; v < V; v++)
        {
          /* the reference's two roundings: log_softmax's, then the add */
          float s = l[v] - max - lse;
          s += beam;
          top_k_push (out, &filled, k, s, r * V + v);
        }
    }
}
