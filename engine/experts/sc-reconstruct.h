/* sc-reconstruct.h: output-aware expert selection (issue 17, item 1).
 *
 * On the hidden states calibration captured for one MoE layer
 * (sc-capture.h), ScReconLayer holds the router logits of every expert and,
 * per token, the Gram matrix of the experts' outputs (G[t][e][f] =
 * y_e(t) . y_f(t)); every expert runs once on every token.
 * The squared error of a kept set is then, summed over tokens,
 *   || eom (w1 y_a + w2 y_b) - eom (w1' y_a' + w2' y_b') ||^2
 * with (a, b, w1, w2) the full layer's routing and (a', b', w1', w2') the
 * routing restricted to the kept experts exactly as masked evaluation does
 * (NLLB-FACTS §2.6: top-1 by probability among kept, top-2 by logit among
 * the rest, weights p/(p1+p2), a single kept expert takes weight 1), and a
 * quadratic form in G needs no expert output to be kept. Selection removes
 * experts one at a time from the full set, each time the one whose removal
 * raises the error least (greedy backward elimination), down to the budget. */
#pragma once

#include "sc-capture.h"
#include "sc-expert-metrics.h"
#include "sc-model.h"
#include "sc-selection.h"

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct
{
  int n_tokens, n_experts;
  float eom;     /* 1 - moe_token_dropout */
  float *logits; /* [n_tokens, n_experts]; -inf for an absent expert */
  double *gram;  /* [n_tokens, n_experts, n_experts] */
} ScReconLayer;

ScReconLayer *sc_recon_layer_new (int n_tokens, int n_experts, float eom);
void sc_recon_layer_free (ScReconLayer *L);
/* Fills token rows [t0, t0 + n) of the Gram matrices from expert outputs
 * y: [n_experts, n, d]. */
void sc_recon_layer_set_outputs (ScReconLayer *L, int t0, int n, int d, const float *y);
/* Runs the model's router and every expert of `moe_layer` on h ([n, d]). */
ScReconLayer *sc_recon_layer_from_model (ScModel *model, int moe_layer, const float *h, int n,
                                         GCancellable *cancellable, GError **error);

/* Token t's routing among `keep` (NULL: every present expert), as masked
 * evaluation computes it; *top2 is -1 (weight 0) with one expert kept. */
void sc_recon_route (const ScReconLayer *L, int t, const guint8 *keep, int *top1, int *top2,
                     double *w1, double *w2);
/* Squared error of the layer's output with only `keep` ([n_experts]) kept,
 * summed over tokens; *ref (may be NULL) gets the full output's squared
 * norm, so error / ref is the relative error. */
double sc_recon_error (const ScReconLayer *L, const guint8 *keep, double *ref);
/* Greedy backward elimination down to k kept experts; keep_out [n_experts];
 * *rel_err (may be NULL) the relative error of the result. */
gboolean sc_recon_greedy (const ScReconLayer *L, int k, guint8 *keep_out, double *rel_err,
                          GError **error);

/* Greedy elimination down to one expert: order [n_experts] lists the
 * experts in the order they leave (the last one stays); curve
 * [n_experts + 1] gets the relative error with k kept at curve[k] (0 from
 * the present count up). Returns the present count. Keeping the last k of
 * `order` is greedy's choice at k. */
int sc_recon_path (const ScReconLayer *L, int *order, double *curve);
/* Per-layer budgets from measured sensitivity: curves[m * stride + k] the
 * error of layer m with k kept (k = 1 .. max_k[m]); every layer starts with
 * one expert and each further expert goes to the layer whose error it
 * lowers most (marginal gain; ties to the lower layer), until exactly
 * `total` are kept. k_out: [n_layers]. */
gboolean sc_recon_allocate (const double *curves, int n_layers, int stride, const int *max_k,
                            int total, int *k_out, GError **error);

/* Selection for one key: every MoE layer keeps the budget's per-layer
 * count (enc_per_layer / dec_per_layer) of experts chosen by greedy
 * elimination on the captured tokens, or with by_sensitivity counts from
 * sc_recon_allocate on the layers' error curves, the encoder's layers
 * sharing enc_total and the decoder's keep_total - enc_total exactly.
 * kept_per_layer, rel_err (may be NULL): [n_moe_layers] the counts and the
 * relative errors of the chosen sets. */
ScSelection *sc_reconstruct_select (ScModel *model, const ScCapture *cap, ScGranularity granularity,
                                    const char *src, const char *tgt, const ScSelectBudget *budget,
                                    gboolean by_sensitivity, int *kept_per_layer, double *rel_err,
                                    GCancellable *cancellable, GError **error);

/* The relative reconstruction error of each layer of `sel` (any
 * algorithm's) on the captured tokens of the key: rel_err [n_moe_layers]. */
gboolean sc_reconstruct_errors (ScModel *model, const ScCapture *cap, ScGranularity granularity,
                                const char *src, const char *tgt, const ScSelection *sel,
                                double *rel_err, GCancellable *cancellable, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScReconLayer, sc_recon_layer_free)

G_END_DECLS
