/* sc-config-keys.c: the fate of every configuration key transformers reads.
 *
 * Keys of transformers 4.40.2's NllbMoeConfig, M2M100Config (both with
 * PretrainedConfig's) and GenerationConfig, as listed by
 * tools/list_hf_keys.py in tools/hf-keys.json; test-options checks that each
 * has an entry here, and that each refused or noted one really is. */
#include "sc-config-keys.h"

#include <string.h>

#define M SC_KEY_MODEL
#define G SC_KEY_GENERATION
#define HON SC_KEY_HONOURED
#define REF SC_KEY_REFUSED
#define NOTE SC_KEY_NOTED
#define IRR SC_KEY_IRRELEVANT

static const ScConfigKey keys[] = {
  /* ---- the model (config.json) ---- */
  { "model_type", M, HON, NULL, NULL, "nllb-moe / nllb_moe or m2m_100; others refused" },
  { "activation_function", M, HON, NULL, NULL, "relu; others refused" },
  { "d_model", M, HON, NULL, NULL, NULL },
  { "encoder_layers", M, HON, NULL, NULL, NULL },
  { "decoder_layers", M, HON, NULL, NULL, NULL },
  { "encoder_attention_heads", M, HON, NULL, NULL, NULL },
  { "decoder_attention_heads", M, HON, NULL, NULL, NULL },
  { "encoder_ffn_dim", M, HON, NULL, NULL, NULL },
  { "decoder_ffn_dim", M, HON, NULL, NULL, NULL },
  { "vocab_size", M, HON, NULL, NULL, NULL },
  { "max_position_embeddings", M, HON, NULL, NULL, NULL },
  { "scale_embedding", M, HON, NULL, NULL, NULL },
  { "tie_word_embeddings", M, HON, NULL, NULL, NULL },
  { "pad_token_id", M | G, HON, NULL, NULL,
    "generation_config.json's must equal config.json's, else refused" },
  { "eos_token_id", M | G, HON, NULL, NULL,
    "generation_config.json's must equal config.json's, else refused" },
  { "decoder_start_token_id", M | G, HON, NULL, NULL,
    "generation_config.json's must equal config.json's, else refused" },
  { "bos_token_id", M | G, IRR, NULL, NULL,
    "the decoder starts with decoder_start_token_id and sources carry no <s>" },
  { "num_experts", M, HON, NULL, NULL, NULL },
  { "encoder_sparse_step", M, HON, NULL, NULL, NULL },
  { "decoder_sparse_step", M, HON, NULL, NULL, NULL },
  { "moe_token_dropout", M, HON, NULL, NULL, NULL },
  { "second_expert_policy", M, HON, NULL, NULL, "\"all\"; the random policies are refused" },
  { "router_bias", M, HON, NULL, NULL, "false; true is refused" },
  { "moe_eval_capacity_token_fraction", M, HON, NULL, NULL,
    ">= 1 keeps every token as Secateur does; below 1 transformers drops tokens over a "
    "batch-dependent capacity: refused" },
  { "router_dtype", M, REF, "\"float32\"", "\"bfloat16\"",
    "transformers then computes the router in that dtype; Secateur routes in float32 only" },
  { "pruned_heads", M, REF, "{}", "{\"0\": [1]}", "pruned attention heads are not supported" },
  { "tie_encoder_decoder", M, REF, "false", "true",
    "tying the encoder's weights to the decoder's is not supported" },
  { "expert_capacity", M, IRR, NULL, NULL,
    "at evaluation transformers uses moe_eval_capacity_token_fraction instead (> 0 required)" },
  { "batch_prioritized_routing", M, IRR, NULL, NULL,
    "orders tokens for capacity dropping, and no token is dropped at a fraction >= 1" },
  { "normalize_router_prob_before_dropping", M, IRR, NULL, NULL,
    "the same gates when no token is dropped (fraction >= 1)" },
  { "router_ignore_padding_tokens", M, IRR, NULL, NULL,
    "changes only what padding positions compute, which no real token attends to" },
  { "output_router_logits", M, IRR, NULL, NULL, "extra outputs only" },
  { "router_aux_loss_coef", M, IRR, NULL, NULL, "training loss only" },
  { "router_z_loss_coef", M, IRR, NULL, NULL, "training loss only" },
  { "dropout", M, IRR, NULL, NULL, "training only (inactive at evaluation)" },
  { "attention_dropout", M, IRR, NULL, NULL, "training only (inactive at evaluation)" },
  { "activation_dropout", M, IRR, NULL, NULL, "training only (inactive at evaluation)" },
  { "encoder_layerdrop", M, IRR, NULL, NULL, "training only (inactive at evaluation)" },
  { "decoder_layerdrop", M, IRR, NULL, NULL, "training only (inactive at evaluation)" },
  { "init_std", M, IRR, NULL, NULL, "initialisation of new weights only" },
  { "num_hidden_layers", M, IRR, NULL, NULL,
    "an alias transformers overwrites with encoder_layers" },
  { "is_encoder_decoder", M, IRR, NULL, NULL, "these classes are always encoder-decoder" },
  { "is_decoder", M, IRR, NULL, NULL, "not read by these classes" },
  { "add_cross_attention", M, IRR, NULL, NULL, "not read by these classes" },
  { "cross_attention_hidden_size", M, IRR, NULL, NULL, "not read by these classes" },
  { "chunk_size_feed_forward", M, IRR, NULL, NULL, "not read by these classes" },
  { "use_cache", M | G, IRR, NULL, NULL, "a speed setting; outputs are the same" },
  { "torch_dtype", M, IRR, NULL, NULL,
    "transformers loads f32 unless asked; Secateur computes f32 on the stored weights" },
  { "use_bfloat16", M, IRR, NULL, NULL, "TensorFlow only" },
  { "tf_legacy_loss", M, IRR, NULL, NULL, "TensorFlow loss only" },
  { "torchscript", M, IRR, NULL, NULL, "export format only" },
  { "return_dict", M, IRR, NULL, NULL, "output container only" },
  { "output_attentions", M | G, IRR, NULL, NULL, "extra outputs only" },
  { "output_hidden_states", M | G, IRR, NULL, NULL, "extra outputs only" },
  { "architectures", M, IRR, NULL, NULL,
    "class name only; weights with or without the model. "
    "prefix are both read" },
  { "_name_or_path", M, IRR, NULL, NULL, "metadata" },
  { "transformers_version", M | G, IRR, NULL, NULL, "metadata" },
  { "finetuning_task", M, IRR, NULL, NULL, "metadata" },
  { "id2label", M, IRR, NULL, NULL, "classification heads only" },
  { "label2id", M, IRR, NULL, NULL, "classification heads only" },
  { "problem_type", M, IRR, NULL, NULL, "classification heads only" },
  { "prefix", M, IRR, NULL, NULL, "pipelines only" },
  { "task_specific_params", M, IRR, NULL, NULL, "pipelines only" },
  { "tokenizer_class", M, IRR, NULL, NULL, "AutoTokenizer only" },
  { "sep_token_id", M, IRR, NULL, NULL, "not read by these classes" },

  /* ---- generation (generation_config.json, or config.json's legacy keys) ---- */
  { "max_length", G, HON, NULL, NULL,
    "transformers' default is 20; Secateur's is 200 and says so (--hf-defaults: 20)" },
  { "max_new_tokens", G, HON, NULL, NULL, NULL },
  { "min_length", G, HON, NULL, NULL, NULL },
  { "min_new_tokens", G, HON, NULL, NULL, NULL },
  { "num_beams", G, HON, NULL, NULL, NULL },
  { "length_penalty", G, HON, NULL, NULL, NULL },
  { "early_stopping", G, HON, NULL, NULL, "true, false or \"never\"" },
  { "no_repeat_ngram_size", G, HON, NULL, NULL, NULL },
  { "repetition_penalty", G, HON, NULL, NULL, NULL },
  { "bad_words_ids", G, HON, NULL, NULL, NULL },
  { "suppress_tokens", G, HON, NULL, NULL, NULL },
  { "begin_suppress_tokens", G, HON, NULL, NULL, NULL },
  { "forced_decoder_ids", G, HON, NULL, NULL, NULL },
  { "forced_eos_token_id", G, HON, NULL, NULL, NULL },
  { "remove_invalid_values", G, HON, NULL, NULL, NULL },
  { "renormalize_logits", G, HON, NULL, NULL, NULL },
  { "exponential_decay_length_penalty", G, HON, NULL, NULL, NULL },
  { "_from_model_config", G, HON, NULL, NULL,
    "as transformers: such a file is rebuilt from config.json when that sets generation keys" },
  { "forced_bos_token_id", G, IRR, NULL, NULL,
    "translation always forces the target language code, as NLLB's generate calls do" },
  { "encoder_no_repeat_ngram_size", G, REF, "0", "2",
    "n-grams of the source are not banned by Secateur's decoder" },
  { "encoder_repetition_penalty", G, REF, "1.0", "1.5",
    "penalising source tokens is not implemented" },
  { "num_return_sequences", G, REF, "1", "2", "Secateur returns one translation per sentence" },
  { "num_beam_groups", G, REF, "1", "2", "diverse (group) beam search is not implemented" },
  { "diversity_penalty", G, REF, "0.0", "0.5", "diverse (group) beam search is not implemented" },
  { "penalty_alpha", G, REF, "null", "0.6", "contrastive search is not implemented" },
  { "force_words_ids", G, REF, "null", "[[5]]", "constrained beam search is not implemented" },
  { "constraints", G, REF, "null", "[]", "constrained beam search is not implemented" },
  { "sequence_bias", G, REF, "null", "{}", "sequence biases are not implemented" },
  { "guidance_scale", G, REF, "null", "1.5", "classifier-free guidance is not implemented" },
  { "prompt_lookup_num_tokens", G, REF, "null", "3", "assisted decoding is not implemented" },
  { "do_sample", G, NOTE, "false", "true",
    "Secateur decodes deterministically (greedy or beam search)" },
  { "max_time", G, NOTE, "null", "1.0", "Secateur does not stop generating on a clock" },
  { "temperature", G, IRR, NULL, NULL, "sampling only (see do_sample)" },
  { "top_k", G, IRR, NULL, NULL, "sampling and contrastive search only (see do_sample)" },
  { "top_p", G, IRR, NULL, NULL, "sampling only (see do_sample)" },
  { "typical_p", G, IRR, NULL, NULL, "sampling only (see do_sample)" },
  { "epsilon_cutoff", G, IRR, NULL, NULL, "sampling only (see do_sample)" },
  { "eta_cutoff", G, IRR, NULL, NULL, "sampling only (see do_sample)" },
  { "low_memory", G, IRR, NULL, NULL, "contrastive search only" },
  { "num_assistant_tokens", G, IRR, NULL, NULL, "assisted decoding only" },
  { "num_assistant_tokens_schedule", G, IRR, NULL, NULL, "assisted decoding only" },
  { "max_matching_ngram_size", G, IRR, NULL, NULL, "assisted decoding only" },
  { "cache_implementation", G, IRR, NULL, NULL, "how the cache is stored; outputs are the same" },
  { "generation_kwargs", G, IRR, NULL, NULL, "not read by generate() itself" },
  { "output_scores", G, IRR, NULL, NULL, "extra outputs only" },
  { "output_logits", G, IRR, NULL, NULL, "extra outputs only" },
  { "return_dict_in_generate", G, IRR, NULL, NULL, "output container only" },
};

const ScConfigKey *
sc_config_keys (guint *n)
{
  *n = G_N_ELEMENTS (keys);
  return keys;
}

const ScConfigKey *
sc_config_key_lookup (const char *key, ScKeyScope scope)
{
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    if ((keys[i].scope & scope) != 0 && strcmp (keys[i].key, key) == 0)
      return &keys[i];
  return NULL;
}
