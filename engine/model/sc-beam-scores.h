/* sc-beam-scores.h: the scores beam search ranks its candidates by:
 * log_softmax(logits) + beam score, and the top k of them. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  float score;
  int index; /* beam * V + token */
} ScBeamCand;

/* x = log_softmax(x) over n entries (max-subtracted, summed in double). */
void sc_log_softmax (float *x, int n);

/* The top k of n scores into out[k], sorted descending; ties keep the lower
 * index first. The reference for sc_beam_top_k_plain. */
void sc_beam_top_k (const float *scores, int n, int k, ScBeamCand *out);

/* The top k of log_softmax(row r) + beam_scores[r] over K rows of V logits,
 * index r * V + token: bit for bit what sc_log_softmax on each row, adding
 * the beam score and sc_beam_top_k over K * V give, without writing the
 * rows. For steps where no logits processor changes a score. */
void sc_beam_top_k_plain (const float *logits, int K, int V, const float *beam_scores, int k,
                          ScBeamCand *out);

G_END_DECLS
