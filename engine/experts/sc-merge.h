/* sc-merge.h: folding pruned experts into kept ones (issue 17, item 2).
 *
 * Instead of dropping a pruned expert, merging adds what it computes to
 * the kept expert whose output is closest to its own on the calibration
 * tokens, in three steps, each a pure function here:
 * (a) target: the kept expert whose outputs over the captured tokens have
 *     the highest cosine with the pruned one's (the tokens' outputs taken
 *     as one vector; the Gram matrices of sc-reconstruct.h hold the dot
 *     products, so no output is computed twice);
 * (b) alignment: an expert's hidden units can be listed in any order, so
 *     before averaging, the pruned expert's units are matched one to one to
 *     the kept one's by a linear assignment maximising the correlation of
 *     their fc1 activations (after ReLU) over the calibration tokens.
 *     Activations rather than weights, because two units that compute the
 *     same thing on the tokens the layer sees should be averaged even when
 *     their weights differ in directions those tokens never use; a unit the
 *     tokens leave constant (dead) has no correlation with anything, so
 *     the cosine of the units' weights (fc1 row, fc1 bias, fc2 column) is
 *     added with a small factor to order those;
 * (c) fold: fc1 rows and biases, fc2 columns and the fc2 bias become the
 *     average of the kept expert's and its aligned pruned experts', each
 *     weighted by the routing mass it receives in the full model on the
 *     calibration tokens; several pruned experts fold into one kept expert
 *     at once.
 * Cost per pruned expert: one fc1 pass over n tokens for each of the two
 * experts, an ffn x ffn correlation and weight cosine
 * (n ffn^2 + (2 d + 1) ffn^2 multiply-adds) and an
 * O(ffn^3) assignment; for the 54B (ffn 8192) the assignment dominates
 * (about 5.5e11 steps in the worst case per pruned expert). */
#pragma once

#include "sc-reconstruct.h"
#include "sc-view.h"

#include <gio/gio.h>

G_BEGIN_DECLS

/* One expert's FFN, fc2 (relu (fc1 h + b1)) + b2, in f32. */
typedef struct
{
  int d, ffn;
  float *w1; /* [ffn, d] */
  float *b1; /* [ffn] */
  float *w2; /* [d, ffn] */
  float *b2; /* [d] */
} ScMergeExpert;

/* Zeroed weights. */
ScMergeExpert *sc_merge_expert_new (int d, int ffn);
ScMergeExpert *sc_merge_expert_copy (const ScMergeExpert *x);
void sc_merge_expert_free (ScMergeExpert *x);
/* The same function with hidden units reordered: unit j of the result is
 * unit perm[j] of x. */
ScMergeExpert *sc_merge_expert_permute (const ScMergeExpert *x, const int *perm);
/* act [n, ffn] = relu (h w1^T + b1) for h [n, d]. */
void sc_merge_expert_hidden (const ScMergeExpert *x, const float *h, int n, float *act);
/* out [n, d]: the expert's output for h [n, d]. */
void sc_merge_expert_forward (const ScMergeExpert *x, const float *h, int n, float *out);

/* Linear assignment: the permutation col_of_row [n] minimising
 * sum_i cost[i * n + col_of_row[i]]; returns that sum. Shortest augmenting
 * paths with potentials (the Hungarian method), O(n^3). */
double sc_merge_assign (const double *cost, int n, int *col_of_row);

/* (a) sim [E * E]: cosine of experts e and f's outputs over the layer's
 * tokens, from the Gram matrices (0 where an expert's output is zero). */
void sc_merge_similarity (const ScReconLayer *L, double *sim);
/* target [E]: e for a kept expert, the kept expert of highest sim for a
 * pruned one (ties to the lower id), -1 for an expert absent from the
 * checkpoint (present[e] == 0; present NULL: all present). FALSE when no
 * expert is kept. */
gboolean sc_merge_targets (const double *sim, int n_experts, const guint8 *keep,
                           const guint8 *present, int *target, GError **error);
/* mass [E]: the gate weight each expert receives over the layer's tokens
 * in the full model's routing (top-1 and top-2 weights summed). */
void sc_merge_routing_mass (const ScReconLayer *L, double *mass);

/* (b) perm [ffn]: unit perm[j] of `other` is matched to unit j of `kept`,
 * from their activations on h [n, d] (see above). */
void sc_merge_align (const ScMergeExpert *kept, const ScMergeExpert *other, const float *h, int n,
                     int *perm);

/* (c) The kept expert with `n_others` aligned experts folded in:
 * every weight and bias is (kept_mass * kept + sum_i masses[i] * others[i]
 * with units perms[i]) / (kept_mass + sum_i masses[i]) (perms NULL: the
 * identity), computed as kept plus weighted differences so that aligned
 * experts equal to the kept one give it back bit for bit. With no mass at all (nothing routed to any of them on the
 * calibration tokens) the kept expert is returned unchanged. */
ScMergeExpert *sc_merge_fold (const ScMergeExpert *kept, double kept_mass,
                              const ScMergeExpert *const *others, const int *const *perms,
                              const double *masses, int n_others);

/* One expert of a MoE layer (encoder MoE layers first) read from the
 * model's checkpoint as f32 (weights and biases). */
ScMergeExpert *sc_merge_expert_from_model (ScModel *model, int moe_layer, int expert,
                                           GError **error);
/* Merging for one MoE layer, on its captured router inputs h [n, d]:
 * merged [n_experts] gets, for each kept expert that receives pruned
 * experts, its folded weights (NULL elsewhere: unchanged, pruned or
 * absent); target (may be NULL) [n_experts] as sc_merge_targets. */
gboolean sc_merge_layer (ScModel *model, int moe_layer, const float *h, int n, const guint8 *keep,
                         ScMergeExpert **merged, int *target, GCancellable *cancellable,
                         GError **error);

/* The captured router inputs of one MoE layer for the directions a model
 * serves ("src-tgt" each, as sc_capture_tokens_for pools a pair; NULL:
 * every captured direction), concatenated and thinned evenly to the
 * capture's bound; d the model's d_model. Returns [*n_out, d], NULL and 0 when none. */
float *sc_merge_tokens (const ScCapture *cap, int d, const char *const *directions, int moe_layer,
                        int *n_out);

/* Merges the experts `view` prunes (its expert set; a full view has none)
 * into the ones it keeps, on the captured tokens of `directions`, and puts
 * the merged fc1 and fc2 weights and biases in the view's overlay
 * (sc_view_replace_linear_weight, _bias): the view runs them, other views
 * of the model do not, and an export of the view's overlay writes them.
 * *n_merged (may be NULL) gets how many pruned experts were folded in.
 * Without a capture (NULL) nothing can merge: SC_ERROR_MISSING. */
gboolean sc_merge_apply (ScView *view, const ScCapture *cap, const char *const *directions,
                         int *n_merged, GCancellable *cancellable, GError **error);

/* The relative error of MoE layer m's output on h [n, d] with only `keep`
 * kept (routing restricted as masked evaluation does) and merged[e]
 * (NULL: the model's expert e) in place of the kept experts:
 * sum_t ||full(t) - merged(t)||^2 / sum_t ||full(t)||^2. */
gboolean sc_merge_layer_error (ScModel *model, int moe_layer, const float *h, int n,
                               const guint8 *keep, ScMergeExpert *const *merged, double *rel_err,
                               GCancellable *cancellable, GError **error);
/* For each MoE layer of `sel`, its pruned experts merged on the captured
 * tokens of the key (as sc_reconstruct_errors takes them) as
 * sc_merge_apply merges them: rel_err [n_moe_layers] the relative error
 * of the merged layer on those tokens. */
gboolean sc_merge_errors (ScModel *model, const ScCapture *cap, ScGranularity granularity,
                          const char *src, const char *tgt, const ScSelection *sel, double *rel_err,
                          GCancellable *cancellable, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScMergeExpert, sc_merge_expert_free)

G_END_DECLS
