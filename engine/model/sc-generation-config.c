/* sc-generation-config.c: the generation settings of a model folder
 * (generation_config.json, or config.json's own generation keys), with
 * transformers' GenerationConfig defaults and validation. */
#include "sc-config.h"

#include "sc-config-keys.h"
#include "sc-config-private.h"
#include "sc-tensor.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

/* transformers' GenerationConfig defaults, which apply to every key a file
 * does not set. */
static void
generation_reset (ScConfig *c)
{
  c->max_length = 20;
  c->max_length_is_default = TRUE;
  c->min_length = 0;
  c->num_beams = 1;
  c->length_penalty = 1.0;
  c->early_stopping = FALSE;
  c->forced_eos_token_id = -1;
  c->no_repeat_ngram_size = 0;
  c->repetition_penalty = 1.0;
  c->encoder_no_repeat_ngram_size = 0;
  c->encoder_repetition_penalty = 1.0;
  c->num_return_sequences = 1;
  c->num_beam_groups = 1;
  c->diversity_penalty = 0.0;
  g_clear_pointer (&c->suppress_tokens, g_array_unref);
  g_clear_pointer (&c->begin_suppress_tokens, g_array_unref);
  g_clear_pointer (&c->bad_words_ids, g_ptr_array_unref);
  g_clear_pointer (&c->forced_decoder_ids, g_array_unref);
  c->remove_invalid_values = FALSE;
  c->renormalize_logits = FALSE;
  c->decay_start = -1;
  c->decay_factor = 1.0;
  g_ptr_array_set_size (c->notices, 0);
}

static gboolean
is_null (JsonObject *obj, const char *key)
{
  return !json_object_has_member (obj, key) ||
         json_node_is_null (json_object_get_member (obj, key));
}

static gboolean
node_number (JsonNode *n, double *v)
{
  GType t = JSON_NODE_HOLDS_VALUE (n) ? json_node_get_value_type (n) : G_TYPE_INVALID;
  if (t == G_TYPE_INT64 || t == G_TYPE_DOUBLE)
    *v = json_node_get_double (n);
  else if (t == G_TYPE_BOOLEAN) /* Python: False == 0 */
    *v = json_node_get_boolean (n);
  else
    return FALSE;
  return TRUE;
}

/* Python's == between a JSON value and `json` (null, a number, a boolean, a
 * string, or an empty list or object). */
gboolean
sc_config_node_equals (JsonNode *n, const char *json)
{
  g_autoptr (JsonNode) want = json_from_string (json, NULL);
  double a, b;
  if (want == NULL)
    return FALSE;
  if (json_node_is_null (want) || json_node_is_null (n))
    return json_node_is_null (want) && json_node_is_null (n);
  if (node_number (n, &a) && node_number (want, &b))
    return a == b;
  if (JSON_NODE_HOLDS_VALUE (n) && JSON_NODE_HOLDS_VALUE (want) &&
      json_node_get_value_type (n) == G_TYPE_STRING &&
      json_node_get_value_type (want) == G_TYPE_STRING)
    return g_str_equal (json_node_get_string (n), json_node_get_string (want));
  if (JSON_NODE_HOLDS_OBJECT (n) && JSON_NODE_HOLDS_OBJECT (want))
    return json_object_get_size (json_node_get_object (n)) == 0 &&
           json_object_get_size (json_node_get_object (want)) == 0;
  if (JSON_NODE_HOLDS_ARRAY (n) && JSON_NODE_HOLDS_ARRAY (want))
    return json_array_get_length (json_node_get_array (n)) == 0 &&
           json_array_get_length (json_node_get_array (want)) == 0;
  return FALSE;
}

/* Whether config.json holds a generation parameter away from its default:
 * transformers' PretrainedConfig._has_non_default_generation_parameters. */
gboolean
sc_config_sets_generation (JsonObject *obj)
{
  static const char *const defaults[][2] = {
    { "max_length", "20" },
    { "min_length", "0" },
    { "do_sample", "false" },
    { "early_stopping", "false" },
    { "num_beams", "1" },
    { "num_beam_groups", "1" },
    { "diversity_penalty", "0" },
    { "temperature", "1" },
    { "top_k", "50" },
    { "top_p", "1" },
    { "typical_p", "1" },
    { "repetition_penalty", "1" },
    { "length_penalty", "1" },
    { "no_repeat_ngram_size", "0" },
    { "encoder_no_repeat_ngram_size", "0" },
    { "bad_words_ids", "null" },
    { "num_return_sequences", "1" },
    { "output_scores", "false" },
    { "return_dict_in_generate", "false" },
    { "forced_bos_token_id", "null" },
    { "forced_eos_token_id", "null" },
    { "remove_invalid_values", "false" },
    { "exponential_decay_length_penalty", "null" },
    { "suppress_tokens", "null" },
    { "begin_suppress_tokens", "null" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (defaults); i++)
    if (json_object_has_member (obj, defaults[i][0]) &&
        !sc_config_node_equals (json_object_get_member (obj, defaults[i][0]), defaults[i][1]))
      return TRUE;
  return FALSE;
}

static gboolean
gen_int (JsonObject *obj, const char *what, const char *key, int min, int max, int *out,
         GError **error)
{
  if (is_null (obj, key))
    return TRUE;
  JsonNode *n = json_object_get_member (obj, key);
  gint64 v;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64 ||
      (v = json_node_get_int (n)) < min || v > max)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_CONFIG, "%s: \"%s\" must be an integer in [%d, %d]",
                   what, key, min, max);
      return FALSE;
    }
  *out = (int) v;
  return TRUE;
}

static gboolean
gen_double (JsonObject *obj, const char *what, const char *key, double min, double max, double *out,
            GError **error)
{
  if (is_null (obj, key))
    return TRUE;
  JsonNode *n = json_object_get_member (obj, key);
  GType t = JSON_NODE_HOLDS_VALUE (n) ? json_node_get_value_type (n) : G_TYPE_INVALID;
  double v = (t == G_TYPE_INT64 || t == G_TYPE_DOUBLE) ? json_node_get_double (n) : NAN;
  if (!(v >= min && v <= max))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_CONFIG, "%s: \"%s\" must be a number in [%g, %g]",
                   what, key, min, max);
      return FALSE;
    }
  *out = v;
  return TRUE;
}

static gboolean
gen_bool (JsonObject *obj, const char *what, const char *key, gboolean *out, GError **error)
{
  if (is_null (obj, key))
    return TRUE;
  JsonNode *n = json_object_get_member (obj, key);
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_BOOLEAN)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_CONFIG, "%s: \"%s\" is not a boolean", what, key);
      return FALSE;
    }
  *out = json_node_get_boolean (n);
  return TRUE;
}

/* A list of token ids in [0, vocab) into `out` (appended). */
static gboolean
int_list (JsonNode *n, int vocab, GArray *out)
{
  JsonArray *a = JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
  if (a == NULL)
    return FALSE;
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonNode *e = json_array_get_element (a, i);
      if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_INT64 ||
          json_node_get_int (e) < 0 || json_node_get_int (e) >= vocab)
        return FALSE;
      int v = (int) json_node_get_int (e);
      g_array_append_val (out, v);
    }
  return TRUE;
}

static gboolean
gen_ids (JsonObject *obj, const char *what, const char *key, int vocab, GArray **out,
         GError **error)
{
  if (is_null (obj, key))
    return TRUE;
  *out = g_array_new (FALSE, FALSE, sizeof (int));
  if (!int_list (json_object_get_member (obj, key), vocab, *out))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_CONFIG,
                   "%s: \"%s\" must be a list of token ids below %d", what, key, vocab);
      return FALSE;
    }
  return TRUE;
}

/* A special token id that must agree with config.json's: Secateur's model
 * uses one set of them for everything. */
static gboolean
gen_same_token (JsonObject *obj, const char *what, const char *key, int model_value, GError **error)
{
  if (!json_object_has_member (obj, key))
    return TRUE;
  JsonNode *n = json_object_get_member (obj, key);
  JsonArray *a = JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
  if (a != NULL && json_array_get_length (a) == 1)
    n = json_array_get_element (a, 0);
  double v;
  if (!node_number (n, &v) || v != model_value)
    {
      g_autofree char *text = json_to_string (json_object_get_member (obj, key), FALSE);
      g_set_error (error, SC_ERROR, SC_ERROR_UNSUPPORTED,
                   "%s: %s = %s differs from the model's %d; Secateur decodes with the model's "
                   "special tokens only",
                   what, key, text, model_value);
      return FALSE;
    }
  return TRUE;
}

/* Reads the generation settings of one file (`what`) as transformers'
 * GenerationConfig would, from its defaults. Values Secateur cannot run
 * are refused; ignored ones leave a notice. */
gboolean
sc_config_read_generation (ScConfig *c, JsonObject *obj, const char *what, GError **error)
{
  generation_reset (c);
  guint n_keys;
  const ScConfigKey *keys = sc_config_keys (&n_keys);
  for (guint i = 0; i < n_keys; i++)
    {
      const ScConfigKey *k = &keys[i];
      if (!(k->scope & SC_KEY_GENERATION) || (k->use != SC_KEY_REFUSED && k->use != SC_KEY_NOTED) ||
          !json_object_has_member (obj, k->key) ||
          sc_config_node_equals (json_object_get_member (obj, k->key), k->accepted))
        continue;
      g_autofree char *text = json_to_string (json_object_get_member (obj, k->key), FALSE);
      if (k->use == SC_KEY_REFUSED)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_UNSUPPORTED, "%s: %s = %s is not supported: %s",
                       what, k->key, text, k->why);
          return FALSE;
        }
      g_ptr_array_add (c->notices,
                       g_strdup_printf ("%s: %s = %s is ignored: %s", what, k->key, text, k->why));
    }

  /* Without these transformers never stops at </s>, or starts the decoder
   * with bos_token_id, or cannot generate: config.json's do not apply. */
  if (g_str_equal (what, "generation_config.json"))
    {
      const char *missing =
          is_null (obj, "eos_token_id") ? "eos_token_id: transformers then never stops at </s>"
          : is_null (obj, "decoder_start_token_id")
              ? "decoder_start_token_id: transformers then starts the decoder with bos_token_id"
              : NULL;
      if (missing != NULL)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_UNSUPPORTED,
                       "%s sets no %s, unlike Secateur (add the model's to the file)", what,
                       missing);
          return FALSE;
        }
    }
  int V = c->vocab_size, max_new = -1, min_new = -1;
  if (!gen_same_token (obj, what, "eos_token_id", c->eos_token_id, error) ||
      !gen_same_token (obj, what, "pad_token_id", c->pad_token_id, error) ||
      !gen_same_token (obj, what, "decoder_start_token_id", c->decoder_start_token_id, error) ||
      !gen_int (obj, what, "max_length", 1, SC_CONFIG_MAX_POS, &c->max_length, error) ||
      !gen_int (obj, what, "max_new_tokens", 1, SC_CONFIG_MAX_POS, &max_new, error) ||
      !gen_int (obj, what, "min_length", 0, SC_CONFIG_MAX_POS, &c->min_length, error) ||
      !gen_int (obj, what, "min_new_tokens", 0, SC_CONFIG_MAX_POS, &min_new, error) ||
      !gen_int (obj, what, "num_beams", 1, 1024, &c->num_beams, error) ||
      !gen_double (obj, what, "length_penalty", -100, 100, &c->length_penalty, error) ||
      !gen_int (obj, what, "forced_eos_token_id", 0, V - 1, &c->forced_eos_token_id, error) ||
      !gen_int (obj, what, "no_repeat_ngram_size", 0, SC_CONFIG_MAX_POS, &c->no_repeat_ngram_size,
                error) ||
      !gen_double (obj, what, "repetition_penalty", 1e-6, 1e6, &c->repetition_penalty, error) ||
      !gen_int (obj, what, "encoder_no_repeat_ngram_size", 0, SC_CONFIG_MAX_POS,
                &c->encoder_no_repeat_ngram_size, error) ||
      !gen_double (obj, what, "encoder_repetition_penalty", 1e-6, 1e6,
                   &c->encoder_repetition_penalty, error) ||
      !gen_int (obj, what, "num_return_sequences", 1, 1024, &c->num_return_sequences, error) ||
      !gen_int (obj, what, "num_beam_groups", 1, 1024, &c->num_beam_groups, error) ||
      !gen_double (obj, what, "diversity_penalty", -1e6, 1e6, &c->diversity_penalty, error) ||
      !gen_ids (obj, what, "suppress_tokens", V, &c->suppress_tokens, error) ||
      !gen_ids (obj, what, "begin_suppress_tokens", V, &c->begin_suppress_tokens, error) ||
      !gen_bool (obj, what, "remove_invalid_values", &c->remove_invalid_values, error) ||
      !gen_bool (obj, what, "renormalize_logits", &c->renormalize_logits, error))
    return FALSE;
  if (!is_null (obj, "max_length") || max_new > 0)
    c->max_length_is_default = FALSE;
  if (max_new > 0)
    c->max_length = max_new + 1; /* the decoder start token is the prompt */
  if (min_new >= 0)
    c->min_length = min_new + 1;

  /* GenerationConfig.validate() refuses these when the file is read */
  if (c->num_return_sequences > 1 && (c->num_beams == 1 || c->num_return_sequences > c->num_beams))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_CONFIG,
                   "%s: num_return_sequences = %d needs as many beams (num_beams is %d), as "
                   "transformers requires",
                   what, c->num_return_sequences, c->num_beams);
      return FALSE;
    }

  /* group beam search as GenerationConfig.validate() and generate() accept
   * it: groups of equal size with a diversity penalty; the penalty's
   * processor fails without groups, and greedy search ignores the groups */
  const char *group_error = NULL;
  if (c->num_beams > 1 && (c->num_beam_groups != 1 || c->diversity_penalty != 0.0))
    group_error = c->num_beams % c->num_beam_groups != 0
                      ? "num_beams is not divisible by num_beam_groups"
                  : c->diversity_penalty == 0.0 ? "groups need a diversity_penalty other than 0"
                  : c->num_beam_groups == 1 && c->diversity_penalty > 0.0
                      ? "a diversity_penalty needs num_beam_groups > 1"
                      : NULL;
  else if (c->num_beams == 1 && c->diversity_penalty > 0.0)
    group_error = "a diversity_penalty needs beam search in groups";
  if (group_error != NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_CONFIG,
                   "%s: num_beams = %d, num_beam_groups = %d, diversity_penalty = %g: %s, as "
                   "transformers requires",
                   what, c->num_beams, c->num_beam_groups, c->diversity_penalty, group_error);
      return FALSE;
    }

  if (!is_null (obj, "early_stopping"))
    {
      JsonNode *n = json_object_get_member (obj, "early_stopping");
      GType t = JSON_NODE_HOLDS_VALUE (n) ? json_node_get_value_type (n) : G_TYPE_INVALID;
      if (t == G_TYPE_BOOLEAN)
        c->early_stopping = json_node_get_boolean (n);
      else if (t == G_TYPE_STRING && g_str_equal (json_node_get_string (n), "never"))
        c->early_stopping = SC_EARLY_STOPPING_NEVER;
      else
        {
          g_set_error (error, SC_ERROR, SC_ERROR_CONFIG,
                       "%s: \"early_stopping\" must be true, false or \"never\"", what);
          return FALSE;
        }
    }

  if (!is_null (obj, "bad_words_ids"))
    {
      JsonNode *n = json_object_get_member (obj, "bad_words_ids");
      JsonArray *a = JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
      c->bad_words_ids = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
      for (guint i = 0; a != NULL && i < json_array_get_length (a); i++)
        {
          GArray *seq = g_array_new (FALSE, FALSE, sizeof (int));
          g_ptr_array_add (c->bad_words_ids, seq);
          if (!int_list (json_array_get_element (a, i), V, seq) || seq->len == 0)
            a = NULL;
        }
      if (a == NULL || json_array_get_length (a) == 0)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_CONFIG,
                       "%s: \"bad_words_ids\" must be a list of lists of token ids below %d", what,
                       V);
          return FALSE;
        }
    }

  if (!is_null (obj, "forced_decoder_ids"))
    {
      JsonNode *n = json_object_get_member (obj, "forced_decoder_ids");
      JsonArray *a = JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
      c->forced_decoder_ids = g_array_new (FALSE, FALSE, sizeof (int));
      for (guint i = 0; a != NULL && i < json_array_get_length (a); i++)
        {
          guint before = c->forced_decoder_ids->len;
          JsonNode *pair = json_array_get_element (a, i);
          if (!int_list (pair, MAX (V, SC_CONFIG_MAX_POS), c->forced_decoder_ids) ||
              c->forced_decoder_ids->len != before + 2 ||
              g_array_index (c->forced_decoder_ids, int, before + 1) >= V)
            a = NULL;
        }
      if (a == NULL || json_array_get_length (a) == 0)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_CONFIG,
                       "%s: \"forced_decoder_ids\" must be a list of [step, token id] pairs", what);
          return FALSE;
        }
    }

  if (!is_null (obj, "exponential_decay_length_penalty"))
    {
      JsonNode *n = json_object_get_member (obj, "exponential_decay_length_penalty");
      JsonArray *a = JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
      double start = -1, factor = NAN;
      if (a != NULL && json_array_get_length (a) == 2 &&
          node_number (json_array_get_element (a, 0), &start) &&
          node_number (json_array_get_element (a, 1), &factor) && start == floor (start) &&
          start >= 0 && start <= SC_CONFIG_MAX_POS && factor > 0 && factor < 1e6)
        {
          c->decay_start = (int) start;
          c->decay_factor = factor;
        }
      else
        {
          g_set_error (error, SC_ERROR, SC_ERROR_CONFIG,
                       "%s: \"exponential_decay_length_penalty\" must be [start index, decay "
                       "factor]",
                       what);
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
sc_config_parse_generation (ScConfig *config, const char *json, gssize len, GError **error)
{
  g_autoptr (JsonNode) root = NULL;
  JsonObject *obj = sc_config_parse_object (&root, json, len, "generation_config.json", error);
  if (obj == NULL)
    return FALSE;
  /* transformers rebuilds a file marked as made from the model's config
   * from config.json when that holds generation settings. */
  gboolean from_model =
      json_object_has_member (obj, "_from_model_config") &&
      sc_config_node_equals (json_object_get_member (obj, "_from_model_config"), "true");
  if (!(from_model && config->config_sets_generation))
    {
      g_clear_error (&config->generation_error);
      return sc_config_read_generation (config, obj, "generation_config.json", error);
    }
  if (config->generation_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&config->generation_error));
      return FALSE;
    }
  return TRUE;
}
