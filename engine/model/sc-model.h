/* sc-model.h: NLLB-200 (MoE and dense) inference with Hugging Face eval
 * semantics. See NLLB-FACTS.md §2 for every rule followed here.
 *
 * An ScModel is read-only after load and thread-safe: several threads may
 * run views of it (sc-view.h) at the same time. What a run changes (kept
 * experts, observers, replaced weights) lives on its view; the only state
 * the model changes after load is its expert cache, the process's memory
 * budget for experts, which takes a lock. */
#pragma once

#include "sc-backend.h"
#include "sc-checkpoint.h"
#include "sc-config.h"
#include "sc-linear-hooks.h"
#include "sc-expert-cache.h"
#include "sc-moe-shape.h"
#include "sc-tokenizer.h"

G_BEGIN_DECLS

typedef struct _ScModel ScModel;

/* What the router decided for a batch of tokens in one MoE layer. Padding
 * tokens have top1 = top2 = -1 and zero weights. */
typedef struct {
  gboolean     decoder;
  int          layer;       /* index within the encoder or the decoder */
  int          moe_index;   /* ordinal among MoE layers, encoder layers first */
  int          n_tokens;
  int          n_experts;
  const int   *top1;
  const int   *top2;
  const float *w1;
  const float *w2;
  const float *probs;       /* [n_tokens, n_experts] softmax in f32 (0 for masked experts) */
  const int   *rows;        /* batch row of each token */
  const float *norm1;       /* L2 norm of the top-1 expert's output (before the gate weight
                             * and the moe_token_dropout factor), 0 for padding */
  const float *norm2;       /* the same for the top-2 expert */
  const float *hidden;      /* [n_tokens, d_model] the layer-normed input the router sees */
} ScRouterEvent;

typedef void (*ScRouterObserver) (const ScRouterEvent *event, gpointer user_data);

typedef enum {
  SC_MODEL_LOAD_DEFAULT = 0,
  /* Shard files holding only experts may be absent: those experts count as
   * pruned, and the model runs only in a view whose expert set leaves them
   * out (sc_view_new). */
  SC_MODEL_LOAD_ALLOW_MISSING_EXPERTS = 1 << 0,
} ScModelLoadFlags;

ScModel          *sc_model_load              (const char *dir, ScBackend *backend, GError **error);
ScModel          *sc_model_load_with_flags   (const char *dir, ScBackend *backend,
                                              ScModelLoadFlags flags, GError **error);
/* Experts whose weights are absent from the checkpoint. */
int               sc_model_n_missing_experts (ScModel *model);
void              sc_model_free              (ScModel *model);
const ScConfig   *sc_model_get_config        (ScModel *model);
ScTokenizer      *sc_model_get_tokenizer     (ScModel *model);
ScCheckpoint     *sc_model_get_checkpoint    (ScModel *model);
/* The folder the model was loaded from (sc-model-folder.h reads what it holds). */
const char       *sc_model_get_dir           (ScModel *model);
/* Its MoE layers, experts and their stored bytes, measured at load; the
 * name is the folder's. The statistics of this model have this shape. */
const ScMoeShape *sc_model_get_moe_shape     (ScModel *model);
ScBackend        *sc_model_get_backend       (ScModel *model);
ScDType           sc_model_get_dtype         (ScModel *model);
guint64           sc_model_n_params_dense    (ScModel *model);
guint64           sc_model_n_params_experts  (ScModel *model);
int               sc_model_n_moe_layers      (ScModel *model);

/* Whether keep ([n_moe_layers * num_experts], encoder MoE layers first)
 * can run on this model: each layer keeps at least one expert (with one,
 * every token goes to it with weight 1, as Hugging Face's top-2 does when a
 * router has a single row) and none absent from the checkpoint. Pruned
 * experts leave the router's softmax and top-2 (as if their router rows
 * were removed) and their weights are never read. */
gboolean          sc_model_check_expert_keep (ScModel *model, const guint8 *keep, GError **error);

/* One MoE layer's parts, for objectives that replay it outside a forward
 * pass (sc-reconstruct.h). h: [n, d_model] layer-normed inputs. Router
 * logits of every expert ([n, num_experts], no mask applied); expert e's
 * FFN output ([n, d_model], before its gate weight and the
 * moe_token_dropout factor), from the checkpoint's weights. Fails for an
 * expert absent from the checkpoint. */
gboolean          sc_model_moe_router_logits (ScModel *model, int moe_layer, const float *h, int n,
                                              float *logits, GError **error);
gboolean          sc_model_moe_expert_forward (ScModel *model, int moe_layer, int expert,
                                              const float *h, int n, float *out, GError **error);

/* Expert memory budget (sc-expert-cache.h): with `bytes` > 0, experts are
 * copied out of the checkpoint mapping on first use into a cache of at most
 * `bytes` (or one expert when larger), their mapped pages are released, and
 * the least recently used leave under pressure. Outputs are identical to an
 * unbudgeted run. 0 (the default) reads experts in place from the mapping.
 * Set it before running views: it is the one setting a model has. */
gboolean          sc_model_set_expert_budget (ScModel *model, guint64 bytes, GError **error);
/* The cache in use, NULL without a budget. */
ScExpertCache    *sc_model_get_expert_cache  (ScModel *model);

/* Linear layers for weight pruning (sc-linear-hooks.h), in forward order:
 * per block q, k, v, out_proj, then in the decoder the cross-attention's
 * q, k, v, out_proj, then fc1, fc2 (dense) or each expert's fc1, fc2 in
 * ascending id. Routers, embeddings and the head are not listed. Experts
 * absent from a partial checkpoint are not listed either. */
int               sc_model_n_blocks          (ScModel *model);
int               sc_model_n_linears         (ScModel *model);
void              sc_model_get_linear        (ScModel *model, int i, ScLinearInfo *info);
/* The checkpoint's weight of linear i (a view may run another:
 * sc_view_get_linear_weight). */
const ScTensor   *sc_model_get_linear_weight (ScModel *model, int i);

/* Encoder output for a right-padded batch (sc_view_encode). */
typedef struct {
  int     B, S, d;
  float  *hidden;   /* [B, S, d], after the final layer norm */
  guint8 *valid;    /* [B, S] 1 for real tokens */
  int    *ids;      /* [B, S] the input ids, pads included (the encoder processors read them) */
} ScEncoding;

void              sc_encoding_free           (ScEncoding *enc);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScModel, sc_model_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScEncoding, sc_encoding_free)

G_END_DECLS
