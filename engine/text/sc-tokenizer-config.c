/* sc-tokenizer-config.c: tokenizer_config.json, read through the guarded
 * JSON reader (the file comes with a downloaded model). */
#include "sc-tokenizer-config.h"

#include "sc-json-file.h"
#include "sc-tensor.h"

/* More language codes than this are a corrupt file, not a tokenizer. */
#define MAX_CODES 100000

ScTokenizerConfig *
sc_tokenizer_config_new (void)
{
  ScTokenizerConfig *c = g_new0 (ScTokenizerConfig, 1);
  c->clean_up_spaces = TRUE;
  return c;
}

void
sc_tokenizer_config_free (ScTokenizerConfig *config)
{
  if (config == NULL)
    return;
  g_clear_pointer (&config->codes, g_ptr_array_unref);
  g_free (config);
}

static void
get_bool (JsonObject *obj, const char *key, gboolean *out)
{
  JsonNode *n = json_object_get_member (obj, key);
  if (n != NULL && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_BOOLEAN)
    *out = json_node_get_boolean (n);
}

ScTokenizerConfig *
sc_tokenizer_config_parse (const char *json, gssize length, const char *what, GError **error)
{
  g_autoptr (JsonNode) root = sc_json_parse (json, length, what, error);
  if (root == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "%s: not a JSON object", what);
      return NULL;
    }
  JsonObject *obj = json_node_get_object (root);
  g_autoptr (ScTokenizerConfig) c = sc_tokenizer_config_new ();

  get_bool (obj, "legacy_behaviour", &c->legacy);
  get_bool (obj, "clean_up_tokenization_spaces", &c->clean_up_spaces);

  /* A custom language list replaces the 202 built-in codes, in its order. */
  JsonNode *n = json_object_get_member (obj, "additional_special_tokens");
  if (n == NULL || !JSON_NODE_HOLDS_ARRAY (n))
    return g_steal_pointer (&c);
  JsonArray *arr = json_node_get_array (n);
  guint len = json_array_get_length (arr);
  if (len == 0 || len >= MAX_CODES)
    return g_steal_pointer (&c);
  g_autoptr (GPtrArray) codes = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < len; i++)
    {
      JsonNode *e = json_array_get_element (arr, i);
      const char *s = NULL;
      if (JSON_NODE_HOLDS_VALUE (e) && json_node_get_value_type (e) == G_TYPE_STRING)
        s = json_node_get_string (e);
      else if (JSON_NODE_HOLDS_OBJECT (e))
        s = json_object_get_string_member_with_default (json_node_get_object (e), "content", NULL);
      if (s == NULL || *s == '\0')
        {
          g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                       "%s: additional_special_tokens[%u] is not a string", what, i);
          return NULL;
        }
      g_ptr_array_add (codes, g_strdup (s));
    }
  c->codes = g_steal_pointer (&codes);
  return g_steal_pointer (&c);
}

ScTokenizerConfig *
sc_tokenizer_config_load (const char *dir, GError **error)
{
  g_autofree char *path = g_build_filename (dir, "tokenizer_config.json", NULL);
  g_autofree char *data = NULL;
  gsize len = 0;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return sc_tokenizer_config_new ();
  if (!sc_file_read_small (path, SC_JSON_CONFIG_MAX_BYTES, &data, &len, error))
    return NULL;
  return sc_tokenizer_config_parse (data, (gssize) len, path, error);
}
