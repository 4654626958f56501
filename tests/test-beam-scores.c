/* test-beam-scores.c: beam search's one-pass candidate scores
 * (sc_beam_top_k_plain) give bit for bit the candidates of the reference
 * path (log_softmax written over each row, beam score added, top k over
 * all rows), ties included. */
#include "sc-beam-scores.h"

#include <math.h>
#include <string.h>

/* The reference: what beam search did before the one-pass path. */
static void
reference (const float *logits, int K, int V, const float *beam, int k, ScBeamCand *out)
{
  g_autofree float *s = g_memdup2 (logits, sizeof (float) * K * V);
  for (int r = 0; r < K; r++)
    {
      sc_log_softmax (s + r * V, V);
      for (int v = 0; v < V; v++)
        s[r * V + v] += beam[r];
    }
  sc_beam_top_k (s, K * V, k, out);
}

static void
check_same (const float *logits, int K, int V, const float *beam, int k)
{
  g_autofree ScBeamCand *want = g_new (ScBeamCand, k);
  g_autofree ScBeamCand *got = g_new (ScBeamCand, k);
  reference (logits, K, V, beam, k, want);
  sc_beam_top_k_plain (logits, K, V, beam, k, got);
  for (int i = 0; i < k; i++)
    {
      g_assert_cmpint (got[i].index, ==, want[i].index);
      /* bit for bit: the same roundings in the same order */
      g_assert_cmpmem (&got[i].score, sizeof (float), &want[i].score, sizeof (float));
    }
}

/* Random logits in NLLB's range, beams of different scores, the first
 * step's -1e9 dead beams. */
static void
test_random (void)
{
  GRand *rand = g_rand_new_with_seed (19);
  const int K = 4, V = 5003;
  g_autofree float *logits = g_new (float, K *V);
  for (int trial = 0; trial < 20; trial++)
    {
      for (int i = 0; i < K * V; i++)
        logits[i] = (float) g_rand_double_range (rand, -12.0, 12.0);
      float beam[4] = { 0.0f, -1e9f, -1e9f, -1e9f };
      if (trial % 2)
        for (int r = 0; r < K; r++)
          beam[r] = (float) g_rand_double_range (rand, -8.0, 0.0);
      check_same (logits, K, V, beam, 2 * K);
    }
  g_rand_free (rand);
}

/* Equal scores within a row and across rows (identical beams, as after a
 * reorder that copied one hypothesis): the lower index comes first. */
static void
test_ties (void)
{
  const int K = 3, V = 64;
  float logits[3 * 64];
  for (int v = 0; v < V; v++)
    logits[v] = (float) (v % 5);
  memcpy (logits + V, logits, sizeof (float) * V);
  memcpy (logits + 2 * V, logits, sizeof (float) * V);
  float beam[3] = { -1.5f, -1.5f, -1.5f };
  check_same (logits, K, V, beam, 6);

  g_autofree ScBeamCand *got = g_new (ScBeamCand, 6);
  sc_beam_top_k_plain (logits, K, V, beam, 6, got);
  /* the value-4 tokens of row 0 first, in token order, then row 1's */
  const int want[6] = { 4, 9, 14, 19, 24, 29 };
  for (int i = 0; i < 6; i++)
    g_assert_cmpint (got[i].index, ==, want[i]);
  /* log_softmax of the top entry: 4 - 4 - log(sum exp(j - 4)) - 1.5 */
  double sum = 0.0;
  for (int v = 0; v < V; v++)
    sum += exp ((double) (v % 5) - 4.0);
  g_assert_cmpfloat_with_epsilon (got[0].score, -log (sum) - 1.5, 1e-5);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/beam-scores/random", test_random);
  g_test_add_func ("/beam-scores/ties", test_ties);
  return g_test_run ();
}
