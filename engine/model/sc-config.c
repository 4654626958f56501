/* sc-config.c: config.json for NLLB-MoE and dense NLLB (M2M100). */
#include "sc-config.h"

#include "sc-config-keys.h"
#include "sc-config-private.h"
#include "sc-json-file.h"
#include "sc-tensor.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

/* Sizes beyond these are not a model we can run; they guard allocations
 * computed from the file. */
#define MAX_DIM 65536
#define MAX_LAYERS 512
#define MAX_VOCAB (4 * 1024 * 1024)
#define MAX_EXPERTS 4096
#define MAX_POS SC_CONFIG_MAX_POS

void
sc_config_free (ScConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->model_type);
  g_clear_pointer (&config->kept_experts, g_ptr_array_unref);
  g_clear_pointer (&config->suppress_tokens, g_array_unref);
  g_clear_pointer (&config->begin_suppress_tokens, g_array_unref);
  g_clear_pointer (&config->bad_words_ids, g_ptr_array_unref);
  g_clear_pointer (&config->forced_decoder_ids, g_array_unref);
  g_clear_pointer (&config->notices, g_ptr_array_unref);
  g_clear_error (&config->generation_error);
  g_strfreev (config->served);
  g_free (config);
}

static gboolean
get_int (JsonObject *obj, const char *key, gboolean required, int def, int min, int max, int *out,
         GError **error)
{
  if (!json_object_has_member (obj, key) || json_node_is_null (json_object_get_member (obj, key)))
    {
      if (required)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_CONFIG, "config.json: missing key \"%s\"", key);
          return FALSE;
        }
      *out = def;
      return TRUE;
    }
  JsonNode *n = json_object_get_member (obj, key);
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_CONFIG, "config.json: \"%s\" is not an integer", key);
      return FALSE;
    }
  gint64 v = json_node_get_int (n);
  if (v < min || v > max)
    {
      /* No value in the message: json-glib wraps integers beyond 64 bits
       * (1e29 written out reads as -1), so it may not be what the file says. */
      g_set_error (error, SC_ERROR, SC_ERROR_CONFIG,
                   "config.json: \"%s\" must be an integer from %d to %d", key, min, max);
      return FALSE;
    }
  *out = (int) v;
  return TRUE;
}

static gboolean
get_bool (JsonObject *obj, const char *key, gboolean def, gboolean *out, GError **error)
{
  if (!json_object_has_member (obj, key))
    {
      *out = def;
      return TRUE;
    }
  JsonNode *n = json_object_get_member (obj, key);
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_BOOLEAN)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_CONFIG, "config.json: \"%s\" is not a boolean", key);
      return FALSE;
    }
  *out = json_node_get_boolean (n);
  return TRUE;
}

static gboolean
get_double (JsonObject *obj, const char *key, double def, double min, double max, double *out,
            GError **error)
{
  if (!json_object_has_member (obj, key))
    {
      *out = def;
      return TRUE;
    }
  JsonNode *n = json_object_get_member (obj, key);
  GType t = JSON_NODE_HOLDS_VALUE (n) ? json_node_get_value_type (n) : G_TYPE_INVALID;
  if (t != G_TYPE_DOUBLE && t != G_TYPE_INT64)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_CONFIG, "config.json: \"%s\" is not a number", key);
      return FALSE;
    }
  double v = json_node_get_double (n);
  if (!(v >= min && v <= max))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_CONFIG, "config.json: \"%s\" = %g is out of range",
                   key, v);
      return FALSE;
    }
  *out = v;
  return TRUE;
}

static gboolean
get_string (JsonObject *obj, const char *key, const char *def, const char **out, GError **error)
{
  if (!json_object_has_member (obj, key))
    {
      *out = def;
      return TRUE;
    }
  JsonNode *n = json_object_get_member (obj, key);
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_CONFIG, "config.json: \"%s\" is not a string", key);
      return FALSE;
    }
  *out = json_node_get_string (n);
  return TRUE;
}

/* Errors keep the config's code. */
JsonObject *
sc_config_parse_object (JsonNode **root, const char *json, gssize len, const char *what,
                        GError **error)
{
  g_autoptr (GError) local = NULL;
  *root = sc_json_parse (json, len, what, &local);
  if (*root == NULL)
    {
      g_set_error_literal (error, SC_ERROR, SC_ERROR_CONFIG, local->message);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (*root))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_CONFIG, "%s: not a JSON object", what);
      return NULL;
    }
  return json_node_get_object (*root);
}

/* An export's secateur_selection (sc-export.h): only the directions it
 * serves are read back. */
static char **
read_served (JsonObject *obj)
{
  JsonNode *sel = json_object_get_member (obj, "secateur_selection");
  JsonObject *so = sel && JSON_NODE_HOLDS_OBJECT (sel) ? json_node_get_object (sel) : NULL;
  JsonNode *sv = so ? json_object_get_member (so, "serves") : NULL;
  if (sv == NULL || !JSON_NODE_HOLDS_ARRAY (sv))
    return NULL;
  JsonArray *a = json_node_get_array (sv);
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonNode *n = json_array_get_element (a, i);
      if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
        g_strv_builder_add (b, json_node_get_string (n));
    }
  return g_strv_builder_end (b);
}

/* The per-layer form's num_experts_per_layer: one count per MoE layer, at
 * most num_experts (`stored`), which is the largest. *counts stays NULL
 * when the key is absent (the uniform form). */
static gboolean
read_layer_counts (JsonObject *obj, int n_moe, int stored, int **counts, GError **error)
{
  JsonNode *n = json_object_get_member (obj, "num_experts_per_layer");
  if (n == NULL)
    return TRUE;
  JsonArray *a = JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
  if (a == NULL || (int) json_array_get_length (a) != n_moe)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_CONFIG,
                   "config.json: \"num_experts_per_layer\" must hold one count for each of the "
                   "%d MoE layers",
                   n_moe);
      return FALSE;
    }
  g_autofree int *out = g_new0 (int, MAX (n_moe, 1));
  for (int m = 0; m < n_moe; m++)
    {
      JsonNode *v = json_array_get_element (a, m);
      gint64 k = JSON_NODE_HOLDS_VALUE (v) && json_node_get_value_type (v) == G_TYPE_INT64
                     ? json_node_get_int (v)
                     : -1;
      if (k < 1 || k > stored)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_CONFIG,
                       "config.json: \"num_experts_per_layer\" layer %d: %" G_GINT64_FORMAT
                       " is not in [1, num_experts %d]",
                       m, k, stored);
          return FALSE;
        }
      out[m] = (int) k;
    }
  *counts = g_steal_pointer (&out);
  return TRUE;
}

static ScConfig *
config_parse (const char *json, gssize len, GError **error)
{
  g_autoptr (JsonNode) root = NULL;
  JsonObject *obj = sc_config_parse_object (&root, json, len, "config.json", error);
  if (obj == NULL)
    return NULL;

  g_autoptr (ScConfig) c = g_new0 (ScConfig, 1);
  const char *type = NULL;
  int stored_experts = 0; /* num_experts as written in the file */
  if (!get_string (obj, "model_type", NULL, &type, error))
    return NULL;
  if (type == NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_CONFIG, "config.json: missing key \"model_type\"");
      return NULL;
    }
  /* nllb-moe-pruned: an export with a count of experts per MoE layer
   * (sc-remote-code.h), otherwise an NllbMoe */
  if (g_str_equal (type, "nllb-moe") || g_str_equal (type, "nllb_moe") ||
      g_str_equal (type, "nllb-moe-pruned"))
    c->arch = SC_ARCH_NLLB_MOE;
  else if (g_str_equal (type, "m2m_100"))
    c->arch = SC_ARCH_M2M100;
  else
    {
      g_set_error (error, SC_ERROR, SC_ERROR_UNSUPPORTED,
                   "config.json: model_type \"%s\" is not supported (expected nllb-moe or m2m_100)",
                   type);
      return NULL;
    }
  c->model_type = g_strdup (type);

  const char *act = NULL;
  if (!get_int (obj, "d_model", TRUE, 0, 2, MAX_DIM, &c->d_model, error) ||
      !get_int (obj, "encoder_layers", TRUE, 0, 1, MAX_LAYERS, &c->encoder_layers, error) ||
      !get_int (obj, "decoder_layers", TRUE, 0, 1, MAX_LAYERS, &c->decoder_layers, error) ||
      !get_int (obj, "encoder_attention_heads", TRUE, 0, 1, MAX_DIM, &c->encoder_heads, error) ||
      !get_int (obj, "decoder_attention_heads", TRUE, 0, 1, MAX_DIM, &c->decoder_heads, error) ||
      !get_int (obj, "encoder_ffn_dim", TRUE, 0, 1, 16 * MAX_DIM, &c->encoder_ffn_dim, error) ||
      !get_int (obj, "decoder_ffn_dim", TRUE, 0, 1, 16 * MAX_DIM, &c->decoder_ffn_dim, error) ||
      !get_int (obj, "vocab_size", TRUE, 0, 4, MAX_VOCAB, &c->vocab_size, error) ||
      !get_int (obj, "max_position_embeddings", TRUE, 0, 1, MAX_POS, &c->max_position_embeddings,
                error) ||
      !get_bool (obj, "scale_embedding", TRUE, &c->scale_embedding, error) ||
      !get_bool (obj, "tie_word_embeddings", TRUE, &c->tie_word_embeddings, error) ||
      !get_int (obj, "pad_token_id", FALSE, 1, 0, MAX_VOCAB, &c->pad_token_id, error) ||
      !get_int (obj, "bos_token_id", FALSE, 0, 0, MAX_VOCAB, &c->bos_token_id, error) ||
      !get_int (obj, "eos_token_id", FALSE, 2, 0, MAX_VOCAB, &c->eos_token_id, error) ||
      !get_int (obj, "decoder_start_token_id", FALSE, 2, 0, MAX_VOCAB, &c->decoder_start_token_id,
                error) ||
      !get_string (obj, "activation_function", "relu", &act, error))
    return NULL;

  if (!g_str_equal (act, "relu"))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_UNSUPPORTED,
                   "config.json: activation_function \"%s\" is not supported (NLLB uses relu)",
                   act);
      return NULL;
    }
  if (c->d_model % c->encoder_heads != 0 || c->d_model % c->decoder_heads != 0)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_CONFIG,
                   "config.json: d_model %d is not divisible by the number of attention heads",
                   c->d_model);
      return NULL;
    }
  if (c->pad_token_id >= c->vocab_size || c->eos_token_id >= c->vocab_size ||
      c->decoder_start_token_id >= c->vocab_size)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_CONFIG,
                   "config.json: special token ids lie outside the vocabulary (%d)", c->vocab_size);
      return NULL;
    }

  if (c->arch == SC_ARCH_NLLB_MOE)
    {
      const char *policy = "all";
      gboolean router_bias = FALSE;
      /* The uniform export form stores the kept count (1 or more) and the
       * original count beside it; Secateur works in original ids. */
      int stored = 0;
      c->experts_renumbered = json_object_has_member (obj, SC_CONFIG_ORIGINAL_EXPERTS_KEY);
      if (!get_int (obj, "num_experts", TRUE, 0, c->experts_renumbered ? 1 : 2, MAX_EXPERTS,
                    &stored, error) ||
          (c->experts_renumbered &&
           !get_int (obj, SC_CONFIG_ORIGINAL_EXPERTS_KEY, TRUE, 0, MAX (stored, 2), MAX_EXPERTS,
                     &c->num_experts, error)) ||
          !get_int (obj, "encoder_sparse_step", TRUE, 0, 0, MAX_LAYERS, &c->encoder_sparse_step,
                    error) ||
          !get_int (obj, "decoder_sparse_step", TRUE, 0, 0, MAX_LAYERS, &c->decoder_sparse_step,
                    error) ||
          !get_double (obj, "moe_token_dropout", 0.2, 0.0, 0.999, &c->moe_token_dropout, error) ||
          !get_string (obj, "second_expert_policy", "all", &policy, error) ||
          !get_bool (obj, "router_bias", FALSE, &router_bias, error))
        return NULL;
      if (!g_str_equal (policy, "all"))
        {
          g_set_error (error, SC_ERROR, SC_ERROR_UNSUPPORTED,
                       "config.json: second_expert_policy \"%s\" is random; only \"all\" is "
                       "deterministic and supported",
                       policy);
          return NULL;
        }
      if (router_bias)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_UNSUPPORTED,
                       "config.json: router_bias true is not supported (NLLB-MoE has none)");
          return NULL;
        }
      if (!c->experts_renumbered)
        c->num_experts = stored;
      else if (!json_object_has_member (obj, SC_CONFIG_KEPT_KEY))
        {
          g_set_error (error, SC_ERROR, SC_ERROR_CONFIG,
                       "config.json: \"%s\" needs \"%s\" (the original ids of the experts)",
                       SC_CONFIG_ORIGINAL_EXPERTS_KEY, SC_CONFIG_KEPT_KEY);
          return NULL;
        }
      stored_experts = stored;
    }

  /* Model keys whose other values change what transformers computes. */
  guint n_keys;
  const ScConfigKey *keys = sc_config_keys (&n_keys);
  for (guint i = 0; i < n_keys; i++)
    {
      const ScConfigKey *k = &keys[i];
      if (k->scope != SC_KEY_MODEL || k->use != SC_KEY_REFUSED ||
          !json_object_has_member (obj, k->key) ||
          sc_config_node_equals (json_object_get_member (obj, k->key), k->accepted) ||
          (c->arch == SC_ARCH_M2M100 && g_str_has_prefix (k->key, "router_")))
        continue;
      g_autofree char *text = json_to_string (json_object_get_member (obj, k->key), FALSE);
      g_set_error (error, SC_ERROR, SC_ERROR_UNSUPPORTED,
                   "config.json: %s = %s is not supported: %s", k->key, text, k->why);
      return NULL;
    }
  if (c->arch == SC_ARCH_NLLB_MOE)
    {
      /* At evaluation transformers keeps at most ceil(fraction x tokens of
       * the batch) tokens per expert: below 1 it drops tokens, depending on
       * the batch; at <= 0 it uses expert_capacity, also per batch. */
      double fraction = 1.0;
      if (!get_double (obj, "moe_eval_capacity_token_fraction", 1.0, -1e9, 1e9, &fraction, error))
        return NULL;
      if (fraction < 1.0)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_UNSUPPORTED,
                       "config.json: moe_eval_capacity_token_fraction = %g is not supported: "
                       "transformers then drops tokens beyond a per-expert capacity that depends "
                       "on the batch (%s); Secateur routes every token (fraction >= 1)",
                       fraction,
                       fraction > 0 ? "ceil(fraction x tokens in the batch)"
                                    : "expert_capacity tokens per batch");
          return NULL;
        }
    }

  if (c->arch == SC_ARCH_NLLB_MOE && json_object_has_member (obj, SC_CONFIG_KEPT_KEY))
    {
      JsonNode *n = json_object_get_member (obj, SC_CONFIG_KEPT_KEY);
      int n_moe = sc_config_n_moe_layers (c);
      g_autofree int *counts = NULL;
      if (c->experts_renumbered && !read_layer_counts (obj, n_moe, stored_experts, &counts, error))
        return NULL;
      c->experts_per_layer = counts != NULL;
      JsonArray *layers = JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
      if (layers == NULL || (int) json_array_get_length (layers) != n_moe)
        {
          g_set_error (
              error, SC_ERROR, SC_ERROR_CONFIG,
              "config.json: \"%s\" must list the kept experts of each of the %d MoE layers",
              SC_CONFIG_KEPT_KEY, n_moe);
          return NULL;
        }
      c->served = read_served (obj);
      c->kept_experts = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
      for (int m = 0; m < n_moe; m++)
        {
          JsonNode *ln = json_array_get_element (layers, m);
          JsonArray *ids = JSON_NODE_HOLDS_ARRAY (ln) ? json_node_get_array (ln) : NULL;
          GArray *kept = g_array_new (FALSE, FALSE, sizeof (int));
          g_ptr_array_add (c->kept_experts, kept);
          for (guint i = 0; ids != NULL && i < json_array_get_length (ids); i++)
            {
              JsonNode *v = json_array_get_element (ids, i);
              gint64 id = JSON_NODE_HOLDS_VALUE (v) && json_node_get_value_type (v) == G_TYPE_INT64
                              ? json_node_get_int (v)
                              : -1;
              int prev = kept->len ? g_array_index (kept, int, kept->len - 1) : -1;
              if (id <= prev || id >= c->num_experts)
                {
                  g_set_error (
                      error, SC_ERROR, SC_ERROR_CONFIG,
                      "config.json: \"%s\" layer %d: expert ids must ascend within [0, %d)",
                      SC_CONFIG_KEPT_KEY, m, c->num_experts);
                  return NULL;
                }
              int idv = (int) id;
              g_array_append_val (kept, idv);
            }
          if (kept->len < 1)
            {
              g_set_error (error, SC_ERROR, SC_ERROR_CONFIG,
                           "config.json: \"%s\" layer %d keeps no expert", SC_CONFIG_KEPT_KEY, m);
              return NULL;
            }
          int want = counts != NULL ? counts[m] : stored_experts;
          if (c->experts_renumbered && (int) kept->len != want)
            {
              g_set_error (error, SC_ERROR, SC_ERROR_CONFIG,
                           "config.json: \"%s\" layer %d lists %u experts; %s %d",
                           SC_CONFIG_KEPT_KEY, m, kept->len,
                           counts != NULL ? "num_experts_per_layer says" : "num_experts is", want);
              return NULL;
            }
        }
    }

  /* transformers builds the generation settings from config.json when no
   * generation_config.json replaces them (sc_config_load decides). */
  c->notices = g_ptr_array_new_with_free_func (g_free);
  c->config_sets_generation = sc_config_sets_generation (obj);
  sc_config_read_generation (c, obj, "config.json", &c->generation_error);
  return g_steal_pointer (&c);
}

ScConfig *
sc_config_parse (const char *json, gssize len, GError **error)
{
  g_autoptr (ScConfig) c = config_parse (json, len, error);
  if (c != NULL && c->generation_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&c->generation_error));
      return NULL;
    }
  return g_steal_pointer (&c);
}

ScConfig *
sc_config_load (const char *dir, GError **error)
{
  g_autofree char *path = g_build_filename (dir, "config.json", NULL);
  g_autofree char *data = NULL;
  gsize len = 0;

  if (!sc_file_read_small (path, SC_JSON_CONFIG_MAX_BYTES, &data, &len, error))
    return NULL;
  /* config.json's generation keys are kept aside until we know whether
   * generation_config.json replaces them */
  g_autoptr (ScConfig) c = config_parse (data, len, error);
  if (c == NULL)
    {
      g_prefix_error (error, "%s: ", dir);
      return NULL;
    }

  /* optional; but one that is there must be a readable regular file */
  g_autofree char *gen_path = g_build_filename (dir, "generation_config.json", NULL);
  g_autofree char *gen = NULL;
  if (g_file_test (gen_path, G_FILE_TEST_EXISTS))
    {
      if (!sc_file_read_small (gen_path, SC_JSON_CONFIG_MAX_BYTES, &gen, &len, error))
        return NULL;
      if (!sc_config_parse_generation (c, gen, len, error))
        {
          g_prefix_error (error, "%s: ", dir);
          return NULL;
        }
    }
  if (c->generation_error != NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&c->generation_error), "%s: ", dir);
      return NULL;
    }
  return g_steal_pointer (&c);
}

gboolean
sc_config_is_sparse (const ScConfig *config, gboolean decoder, int layer)
{
  if (config->arch != SC_ARCH_NLLB_MOE)
    return FALSE;
  int step = decoder ? config->decoder_sparse_step : config->encoder_sparse_step;
  return step > 0 && (layer + 1) % step == 0;
}

gboolean
sc_config_serves (const ScConfig *config, const char *src, const char *tgt)
{
  if (config->served == NULL || config->served[0] == NULL)
    return TRUE;
  g_autofree char *pair = g_strdup_printf ("%s-%s", src, tgt);
  return g_strv_contains ((const char *const *) config->served, pair);
}

int
sc_config_n_moe_layers (const ScConfig *config)
{
  int n = 0;
  for (int i = 0; i < config->encoder_layers; i++)
    n += sc_config_is_sparse (config, FALSE, i);
  for (int i = 0; i < config->decoder_layers; i++)
    n += sc_config_is_sparse (config, TRUE, i);
  return n;
}

int
sc_config_stored_expert (const ScConfig *config, int moe, int expert)
{
  if (!config->experts_renumbered)
    return expert;
  GArray *kept = g_ptr_array_index (config->kept_experts, moe);
  for (guint i = 0; i < kept->len; i++)
    if (g_array_index (kept, int, i) == expert)
      return (int) i;
  return -1;
}

int
sc_config_original_expert (const ScConfig *config, int moe, int stored)
{
  if (!config->experts_renumbered)
    return stored;
  GArray *kept = g_ptr_array_index (config->kept_experts, moe);
  return stored >= 0 && stored < (int) kept->len ? g_array_index (kept, int, stored) : -1;
}
