/* sc-specialisation.h: how language-specific the experts are.
 *
 * For every MoE layer and language, the routing distribution over experts
 * (share of top-1 and top-2 assignments; encoder layers by source language,
 * decoder layers by target language, as the paper groups them). From it:
 * how concentrated a language's routing is (share of its top-k experts,
 * effective number of experts = exp(entropy)) and how much two languages
 * share experts (overlap = sum over experts of min(p_a, p_b), 1 = same
 * experts in the same proportions, 0 = disjoint). */
#pragma once

#include "sc-stats.h"

G_BEGIN_DECLS

typedef enum {
  SC_SIDE_ENCODER,
  SC_SIDE_DECODER,
} ScSide;

typedef struct {
  int     n_layers;     /* MoE layers, encoder first */
  int     n_encoder;    /* layers [0, n_encoder) are in the encoder */
  int     n_experts;
  int     top_k;
  int     n_langs;
  char  **langs;        /* sorted, NULL-terminated: languages seen on either side */
  /* [n_layers x n_langs]; NAN where the language has no tokens on that
   * layer's side (e.g. a language that is only ever a target). */
  double *top_share;
  double *effective;
  /* [n_layers x n_langs x n_langs]; NAN where either language is missing. */
  double *overlap;
} ScSpecialisation;

ScSpecialisation *sc_specialisation_compute (ScStats *stats, int top_k, GError **error);
void              sc_specialisation_free    (ScSpecialisation *spec);

/* Mean over the side's layers of the overlap matrix, [n_langs x n_langs]
 * (NAN where a language is missing on that side); g_free it. */
double *sc_specialisation_similarity (const ScSpecialisation *spec, ScSide side);

/* Means over layers [l0, l1) and one language (`lang` >= 0) or all (-1),
 * skipping NANs, of top_share, effective and the overlap with the other
 * languages; NAN when nothing is there. */
void    sc_specialisation_means (const ScSpecialisation *spec, int l0, int l1, int lang,
                                 double *top_share, double *effective, double *overlap);

/* sc_specialisation_means over the side's layers and all languages. */
void    sc_specialisation_side_means (const ScSpecialisation *spec, ScSide side,
                                      double *top_share, double *effective, double *overlap);

/* An order of the n items that puts similar ones together: average-linkage
 * agglomerative clustering on 1 - similarity, leaves left to right. NAN
 * entries count as similarity 0. g_free the result. */
int    *sc_cluster_order (const double *similarity, int n);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScSpecialisation, sc_specialisation_free)

G_END_DECLS
