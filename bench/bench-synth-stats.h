/* bench-synth-stats.h: statistics of the 54B model's shape (12 MoE layers x
 * 128 experts) from synthetic router decisions, for the benchmarks that need
 * that much data without a model (bench-stats, bench-mpi-reduce). */
#pragma once

#include "sc-stats.h"

#include <math.h>

#define L 12
#define E 128
#define TOKENS 64

/* Adds TOKENS random router decisions to every MoE layer of `direction`. */
static void
fill (ScStats *stats, const char *direction, GRand *rng)
{
  static float probs[TOKENS * E];
  static int top1[TOKENS], top2[TOKENS];
  for (int m = 0; m < L; m++)
    {
      for (int t = 0; t < TOKENS; t++)
        {
          double sum = 0;
          for (int e = 0; e < E; e++)
            sum += probs[t * E + e] = (float) exp (3 * g_rand_double (rng));
          int a = 0, b = 1;
          for (int e = 0; e < E; e++)
            {
              probs[t * E + e] /= sum;
              if (probs[t * E + e] > probs[t * E + a])
                b = a, a = e;
              else if (e != a && probs[t * E + e] > probs[t * E + b])
                b = e;
            }
          top1[t] = a;
          top2[t] = b;
        }
      sc_stats_add_tokens (stats, direction, m, m >= L / 2, TOKENS, probs, top1, top2, NULL, NULL,
                           NULL, NULL, NULL, NULL);
    }
}
