/* sc-view.h: one run's way of using a shared, read-only model.
 *
 * An ScModel is immutable after load and shared by threads; everything a
 * run changes lives on its view: the kept experts (an ScExpertSet; NULL
 * runs the full model), the router and linear observers, and a weight
 * overlay (weights and biases that pruning or merging replaced, owned by the
 * view; the model's mapping is untouched). Full and pruned views of one model share its mapping, so
 * comparing them loads the weights once. A view is used by one thread at a
 * time; several views of one model may run at the same time.
 *
 * The view resolves, when made and when its overlay changes, which tensors
 * each expert reads (the overlay's, the checkpoint's, or the model's expert
 * cache), so the MoE block looks them up in one table.
 */
#pragma once

#include "sc-expert-set.h"
#include "sc-model.h"

G_BEGIN_DECLS

typedef struct _ScView ScView;

/* A view of `model` keeping `experts` (referenced; NULL: every expert).
 * Refuses a set whose shape is not the model's, one keeping no expert in a
 * layer, and one keeping an expert absent from the checkpoint (pruned from
 * it, or in a shard a partial checkpoint lacks). The model must outlive
 * the view. */
ScView           *sc_view_new                  (ScModel *model, ScExpertSet *experts,
                                                GError **error);
/* The same from a mask ([n_moe_layers * num_experts], encoder MoE layers
 * first; NULL: the full model). */
ScView           *sc_view_new_from_keep        (ScModel *model, const guint8 *keep,
                                                GError **error);
void              sc_view_free                 (ScView *view);
ScModel          *sc_view_get_model            (ScView *view);
/* The kept experts, NULL for the full model. */
ScExpertSet      *sc_view_get_experts          (ScView *view);

/* Called for every MoE layer this view runs (sc-model.h, ScRouterEvent);
 * NULL stops it. */
void              sc_view_set_router_observer  (ScView *view, ScRouterObserver observer,
                                                gpointer user_data);
/* Called with the inputs of every linear layer this view runs
 * (sc-linear-hooks.h); NULL stops it. */
void              sc_view_set_linear_observer  (ScView *view, ScLinearObserver observer,
                                                gpointer user_data);

/* Replaces linear i's weight (sc_model_get_linear) in this view by `data`
 * ([n_out, n_in] f32, taken over and freed with the view); later passes of
 * this view use it, other views still read the checkpoint's. */
gboolean          sc_view_replace_linear_weight (ScView *view, int i, float *data,
                                                 GError **error);
/* Replaces linear i's bias ([n_out] f32, taken over) the same way; refused
 * for a linear layer the checkpoint gives no bias. */
gboolean          sc_view_replace_linear_bias  (ScView *view, int i, float *data,
                                                GError **error);
/* The weight this view uses for linear i: the overlay's or the checkpoint's. */
const ScTensor   *sc_view_get_linear_weight    (ScView *view, int i);
/* The overlay's replacement of the checkpoint tensor `name` (a weight or a
 * bias), or NULL. */
const ScTensor   *sc_view_get_replaced_weight  (ScView *view, const char *name);
/* How many tensors (weights and biases) the overlay replaces. */
guint             sc_view_n_replaced           (ScView *view);

/* Encoder output for a right-padded batch. ids: [B, S] right-padded with
 * the pad id; lengths[b] real tokens in row b. A partial checkpoint runs
 * only in a view whose set leaves its absent experts out. */
ScEncoding       *sc_view_encode               (ScView *view, const int *ids, const int *lengths,
                                                int B, int S, GError **error);

/* Incremental decoder with a KV cache, running `view` (which must outlive
 * it). Row r of the decoder reads encoder row src_row[r] (beam search keeps
 * several rows per source). */
typedef struct _ScDecoder ScDecoder;

ScDecoder        *sc_decoder_new               (ScView *view, const ScEncoding *enc, int n_rows,
                                                const int *src_row, int max_len, GError **error);
void              sc_decoder_free              (ScDecoder *dec);
int               sc_decoder_get_length        (ScDecoder *dec);
/* Feed T tokens per row (tokens [n_rows, T]); logits receives
 * [n_rows, T, V], or [n_rows, V] for the last position when last_only. */
gboolean          sc_decoder_forward           (ScDecoder *dec, const int *tokens, int T,
                                                float *logits, gboolean last_only,
                                                GError **error);
/* New row i continues old row from[i] (beam reordering). */
void              sc_decoder_reorder           (ScDecoder *dec, const int *from);
/* Only rows keep[0..n) (ascending, n >= 1) go on, as rows 0..n): finished
 * sentences leave the batch instead of decoding padding. */
void              sc_decoder_keep_rows         (ScDecoder *dec, const int *keep, int n);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScView, sc_view_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScDecoder, sc_decoder_free)

G_END_DECLS
