/* sc-bloom.h: BLOOM (Hugging Face BloomForCausalLM, model_type "bloom")
 * inference: word embeddings + word_embeddings_layernorm, pre-LN blocks
 * (apply_residual_connection_post_layernorm honoured) with ALiBi attention
 * through a fused query_key_value laid out [heads, 3, head_dim], BLOOM's
 * tanh GELU, ln_f and the lm_head tied to the embeddings. Weights are read
 * in place from the checkpoint (f32, f16 or bf16; names with or without the
 * "transformer." prefix); activations are f32. One sequence at a time.
 *
 * For sequential pruning (Wanda, SparseGPT), a model runs one block at a
 * time on given hidden states, reports the input of every linear layer to
 * an observer, and takes replacement weights:
 *
 *   sc_bloom_embed (m, ids, T, h);                      // h[T, d]
 *   for (int l = 0; l < sc_bloom_n_layers (m); l++) {
 *     sc_bloom_set_linear_observer (m, collect, data);  // inputs X of each linear
 *     sc_bloom_block_forward (m, l, h, T, tmp, NULL);
 *     ... prune the four linears of layer l, sc_bloom_set_linear (...) ...
 *     sc_bloom_block_forward (m, l, h, T, h, NULL);     // outputs with the pruned weights
 *   }
 *   sc_bloom_head (m, h, T, logits);
 */
#pragma once

#include "sc-backend.h"
#include "sc-bpe.h"
#include "sc-checkpoint.h"

G_BEGIN_DECLS

typedef struct _ScBloom ScBloom;

typedef struct {
  int      vocab_size;
  int      hidden_size;
  int      n_layer;
  int      n_head;
  int      head_dim;
  double   layer_norm_epsilon;
  gboolean apply_residual_connection_post_layernorm;
  gboolean tie_word_embeddings;
  int      bos_token_id, eos_token_id, pad_token_id;  /* -1 when absent */
} ScBloomConfig;

/* The linear layers of a block, in forward order. */
typedef enum {
  SC_BLOOM_QKV,       /* self_attention.query_key_value [3d, d] */
  SC_BLOOM_DENSE,     /* self_attention.dense [d, d] */
  SC_BLOOM_FC_IN,     /* mlp.dense_h_to_4h [4d, d] */
  SC_BLOOM_FC_OUT,    /* mlp.dense_4h_to_h [d, 4d] */
  SC_BLOOM_N_LINEAR,
} ScBloomLinear;

/* Whether `dir`/config.json says model_type "bloom" (FALSE on any error). */
gboolean          sc_bloom_is_bloom_dir   (const char *dir);
/* Parses a BLOOM config.json text; SC_ERROR_CONFIG on missing or absurd values. */
gboolean          sc_bloom_config_parse   (const char *data, gssize len, ScBloomConfig *cfg,
                                           GError **error);

/* backend NULL: a CPU backend owned by the model. The tokenizer
 * (tokenizer.json) is loaded when present. */
ScBloom          *sc_bloom_load           (const char *dir, ScBackend *backend, GError **error);
void              sc_bloom_free           (ScBloom *model);
const ScBloomConfig *sc_bloom_get_config  (ScBloom *model);
ScBpe            *sc_bloom_get_tokenizer  (ScBloom *model);  /* NULL when absent */
ScCheckpoint     *sc_bloom_get_checkpoint (ScBloom *model);
ScDType           sc_bloom_get_dtype      (ScBloom *model);
guint64           sc_bloom_n_params       (ScBloom *model);

/* ---- layer by layer (pruning) ---- */

int               sc_bloom_n_layers       (ScBloom *model);
/* The weight [out, in] of a linear layer (the replacement when one was set). */
const ScTensor   *sc_bloom_get_linear     (ScBloom *model, int layer, ScBloomLinear which);
/* Replaces a linear layer's weight (same shape; f32, f16 or bf16); the
 * caller keeps `weight` alive while the model uses it. NULL restores the
 * checkpoint's tensor. */
gboolean          sc_bloom_set_linear     (ScBloom *model, int layer, ScBloomLinear which,
                                           const ScTensor *weight, GError **error);

/* Called with the input x[T, in_features] of each linear layer, just before
 * it is applied, during sc_bloom_block_forward and sc_bloom_forward. */
typedef void (*ScBloomLinearObserver) (ScBloom *model, int layer, ScBloomLinear which,
                                       const float *x, int T, int in_features,
                                       gpointer user_data);
void              sc_bloom_set_linear_observer (ScBloom *model, ScBloomLinearObserver observer,
                                           gpointer user_data);

/* hidden[T, d] = word_embeddings_layernorm (word_embeddings[ids]). */
gboolean          sc_bloom_embed          (ScBloom *model, const int *ids, int T, float *hidden,
                                           GError **error);
/* One block on hidden[T, d] (positions 0 .. T-1, causal, no cache);
 * out[T, d] may be `hidden` itself. */
gboolean          sc_bloom_block_forward  (ScBloom *model, int layer, const float *hidden, int T,
                                           float *out, GError **error);
/* logits[T, V] = lm_head (ln_f (hidden)). */
void              sc_bloom_head           (ScBloom *model, const float *hidden, int T,
                                           float *logits);

/* ---- whole model ---- */

/* Incremental state (KV cache) of one sequence. */
typedef struct _ScBloomState ScBloomState;

ScBloomState     *sc_bloom_state_new      (ScBloom *model, int max_len);
void              sc_bloom_state_free     (ScBloomState *state);
int               sc_bloom_state_length   (ScBloomState *state);
/* Appends T tokens; logits receives [T, V], or [V] for the last position
 * when last_only (logits may be NULL). */
gboolean          sc_bloom_forward        (ScBloom *model, ScBloomState *state, const int *ids,
                                           int T, float *logits, gboolean last_only,
                                           GError **error);

/* Tokens of prompt and continuation together that generation allows: the
 * 2048 BLOOM was trained on (BigScience, 2022). */
int               sc_bloom_context_length (ScBloom *model);

/* Greedy decoding: up to max_new tokens after the prompt, stopping after
 * the eos token (included) as Hugging Face's generate does; prompt and new
 * tokens within sc_bloom_context_length (SC_ERROR_SHAPE beyond). */
GArray           *sc_bloom_generate_greedy (ScBloom *model, const int *prompt, int n_prompt,
                                           int max_new, GError **error);

/* Teacher-forced NLL (natural log) of ids[1..n-1] given their prefixes:
 * token_nll[n-1] (may be NULL); returns the mean through *mean_nll. */
gboolean          sc_bloom_nll            (ScBloom *model, const int *ids, int n,
                                           double *token_nll, double *mean_nll, GError **error);
/* Perplexity exp(mean NLL) of `text` tokenized with the model's tokenizer,
 * as Hugging Face's loss with labels = input_ids (no BOS added). n_tokens
 * (may be NULL) receives the tokens predicted (token count - 1); texts of
 * fewer than two tokens are an error. */
gboolean          sc_bloom_perplexity     (ScBloom *model, const char *text, double *perplexity,
                                           double *mean_nll, int *n_tokens, GError **error);

/* Corpus perplexity of several texts (e.g. one language's held-out
 * paragraphs): exp(sum of token NLLs / sum of predicted tokens), each text
 * scored on its own (no context across texts); texts of fewer than two
 * tokens are skipped. n_tokens (may be NULL) receives the tokens scored; no
 * scorable text is an error. */
gboolean          sc_bloom_perplexity_texts (ScBloom *model, const char *const *texts,
                                           guint n_texts, double *perplexity, double *mean_nll,
                                           int *n_tokens, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScBloom, sc_bloom_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScBloomState, sc_bloom_state_free)

G_END_DECLS
