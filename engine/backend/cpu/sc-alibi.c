/* sc-alibi.c: the CPU reference of ALiBi attention (see sc-alibi.h). */
#include "sc-alibi.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

void
sc_alibi_slopes (int n_head, float *slopes)
{
  int p = 1;
  while (p * 2 <= n_head)
    p *= 2;
  /* HF raises a float32 base to integer powers; a power of two to an
   * integer power is exact in double, then rounded once to float. */
  float base = (float) pow (2.0, -8.0 / p);
  for (int h = 0; h < p; h++)
    slopes[h] = (float) pow ((double) base, h + 1);
  float extra = (float) pow (2.0, -4.0 / p);
  for (int h = p, e = 1; h < n_head; h++, e += 2)
    slopes[h] = (float) pow ((double) extra, e);
}

/* Per head: scores S = Q·Kᵀ/sqrt(hd) by sgemm, plus the bias and the causal
 * cut, a softmax per row, then P·V by sgemm. Row i of S covers keys
 * 0 .. q_offset + i; the rest are zero after the softmax. */
void
sc_alibi_attention (const float *q, int ldq, const float *k, const float *v, int ldk, int Tq,
                    int Tk, int H, int hd, const float *slopes, int q_offset, float *out, int ldo)
{
  float scale = (float) (1.0 / sqrt ((double) hd));
  float *S = g_malloc (sizeof (float) * (gsize) MAX (Tq, 1) * MAX (Tk, 1));

  for (int h = 0; h < H; h++)
    {
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, Tq, Tk, hd, scale, q + h * hd, ldq,
                   k + h * hd, ldk, 0.0f, S, Tk);
      for (int i = 0; i < Tq; i++)
        {
          float *row = S + (gsize) i * Tk;
          int last = MIN (Tk - 1, q_offset + i);
          float max = -INFINITY;
          for (int j = 0; j <= last; j++)
            {
              row[j] += slopes[h] * (float) j;
              max = MAX (max, row[j]);
            }
          float sum = 0.0f;
          for (int j = 0; j <= last; j++)
            {
              row[j] = expf (row[j] - max);
              sum += row[j];
            }
          float inv = 1.0f / sum;
          for (int j = 0; j <= last; j++)
            row[j] *= inv;
          for (int j = last + 1; j < Tk; j++)
            row[j] = 0.0f;
        }
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, Tq, hd, Tk, 1.0f, S, Tk, v + h * hd,
                   ldk, 0.0f, out + h * hd, ldo);
    }
  g_free (S);
}
