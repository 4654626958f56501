/* sc-config.h: the parts of a Hugging Face config.json that define an
 * NLLB-200 model (model_type nllb-moe / nllb_moe or m2m_100). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  SC_ARCH_NLLB_MOE,
  SC_ARCH_M2M100,
} ScArch;

typedef struct {
  ScArch   arch;
  char    *model_type;
  int      d_model;
  int      encoder_layers, decoder_layers;
  int      encoder_heads, decoder_heads;
  int      encoder_ffn_dim, decoder_ffn_dim;
  int      vocab_size;
  int      max_position_embeddings;
  gboolean scale_embedding;
  gboolean tie_word_embeddings;
  int      pad_token_id, bos_token_id, eos_token_id, decoder_start_token_id;
  /* MoE (nllb-moe only; num_experts 0 otherwise) */
  int      num_experts;
  int      encoder_sparse_step, decoder_sparse_step;
  double   moe_token_dropout;
  /* Generation settings in effect, chosen as transformers 4.40 does: from
   * generation_config.json, or from config.json when that file is absent or
   * marked "_from_model_config" while config.json sets generation keys. */
  int      max_length;            /* transformers' default 20 when nothing sets it */
  gboolean max_length_is_default; /* nothing set max_length or max_new_tokens */
  int      min_length;            /* min_new_tokens n gives n + 1 */
  int      num_beams;
  double   length_penalty;
  int      early_stopping;        /* FALSE, TRUE or SC_EARLY_STOPPING_NEVER */
  int      forced_eos_token_id;   /* -1: none */
  int      no_repeat_ngram_size;
  double   repetition_penalty;    /* 1.0: none */
  GArray  *suppress_tokens;       /* of int; NULL: none */
  GArray  *begin_suppress_tokens; /* of int; NULL: none */
  GPtrArray *bad_words_ids;       /* of GArray of int; NULL: none */
  GArray  *forced_decoder_ids;    /* of int pairs (step, token); NULL: none */
  gboolean remove_invalid_values, renormalize_logits;
  int      decay_start;           /* exponential_decay_length_penalty; -1: none */
  double   decay_factor;
  /* Settings transformers would use that Secateur ignores, one sentence
   * each, for the user (the CLI prints them on stderr once). */
  GPtrArray *notices;             /* of char* */
  /* private: config.json's generation keys set something (transformers'
   * test), and what they hold that is refused, kept until
   * generation_config.json has replaced them or not */
  gboolean config_sets_generation;
  GError  *generation_error;
  /* A checkpoint exported pruned by Secateur: per MoE layer (encoder MoE
   * layers first) the ascending original ids of the experts it holds; the
   * router has one row per kept expert. NULL for a full model. */
  GPtrArray *kept_experts;        /* of GArray of int */
  /* The kept experts' tensors are named expert_0..k-1 in that order (the
   * export forms transformers loads); otherwise by their original ids (an
   * earlier Secateur form). num_experts is the original count. */
  gboolean experts_renumbered;
  /* Renumbered with a count per MoE layer (config.json's
   * num_experts_per_layer: the form transformers loads with
   * trust_remote_code, sc-remote-code.h). */
  gboolean experts_per_layer;
  /* Directions an export serves ("src-tgt", from its selection record);
   * NULL when not recorded. */
  char   **served;
} ScConfig;

#define SC_CONFIG_KEPT_KEY "secateur_kept_experts"
#define SC_EARLY_STOPPING_NEVER 2
/* In the uniform form config.json's num_experts is the kept count, and the
 * original count is recorded under this key. */
#define SC_CONFIG_ORIGINAL_EXPERTS_KEY "secateur_original_num_experts"

/* Parses `dir`/config.json (and generation_config.json when present). */
ScConfig *sc_config_load       (const char *dir, GError **error);
ScConfig *sc_config_parse      (const char *json, gssize len, GError **error);
/* Applies generation_config.json text as transformers does: its settings
 * over transformers' defaults, unless it is marked _from_model_config and
 * config.json sets generation keys (then config.json's stay). */
gboolean  sc_config_parse_generation (ScConfig *config, const char *json, gssize len,
                                      GError **error);
void      sc_config_free       (ScConfig *config);
gboolean  sc_config_is_sparse  (const ScConfig *config, gboolean decoder, int layer);
int       sc_config_n_moe_layers (const ScConfig *config);
/* The number in the tensor names (`experts.expert_N`) of original expert
 * `expert` of MoE layer `moe`, and back; -1 when the checkpoint lacks it. */
int       sc_config_stored_expert   (const ScConfig *config, int moe, int expert);
int       sc_config_original_expert (const ScConfig *config, int moe, int stored);
/* Whether the model was made for direction src-tgt: TRUE when it records
 * no served directions (a full model) or lists this one. */
gboolean  sc_config_serves          (const ScConfig *config, const char *src, const char *tgt);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScConfig, sc_config_free)

G_END_DECLS
