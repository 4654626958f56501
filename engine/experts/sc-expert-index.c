/* sc-expert-index.c: read, write and query the authors' expert index JSON.
 * See sc-expert-index.h and NLLB-FACTS §6.4. */
#include "sc-expert-index.h"
#include "sc-json-write.h"
#include "sc-json-file.h"
#include "sc-languages.h"

#include <json-glib/json-glib.h>
#include <stdlib.h>
#include <string.h>

G_DEFINE_QUARK (sc - expert - index - error - quark, sc_expert_index_error)

struct _ScExpertIndex
{
  int n_layers, n_enc, n_experts;
  GArray *global;     /* or NULL */
  GHashTable *keys;   /* char* -> GArray of int */
  GPtrArray *ignored; /* char*: keys the reader skipped */
  JsonObject *meta;   /* SC_EXPERT_INDEX_META_KEY's object, or NULL */
};

ScExpertIndex *
sc_expert_index_new (int n_moe_layers, int n_encoder_moe, int n_experts)
{
  g_return_val_if_fail (n_moe_layers > 0 && n_experts > 0, NULL);
  g_return_val_if_fail (n_encoder_moe >= 0 && n_encoder_moe <= n_moe_layers, NULL);
  ScExpertIndex *idx = g_new0 (ScExpertIndex, 1);
  idx->n_layers = n_moe_layers;
  idx->n_enc = n_encoder_moe;
  idx->n_experts = n_experts;
  idx->keys =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_array_unref);
  idx->ignored = g_ptr_array_new_with_free_func (g_free);
  return idx;
}

void
sc_expert_index_free (ScExpertIndex *idx)
{
  if (idx == NULL)
    return;
  if (idx->global)
    g_array_unref (idx->global);
  g_hash_table_unref (idx->keys);
  g_ptr_array_unref (idx->ignored);
  if (idx->meta)
    json_object_unref (idx->meta);
  g_free (idx);
}

gboolean
sc_expert_index_key_valid (const char *key)
{
  if (key == NULL)
    return FALSE;
  if (sc_language_index (key) >= 0)
    return TRUE;
  const char *dash = strchr (key, '-');
  if (dash == NULL)
    return FALSE;
  g_autofree char *src = g_strndup (key, dash - key);
  return sc_language_index (src) >= 0 && sc_language_index (dash + 1) >= 0;
}

static int
cmp_int (const void *a, const void *b)
{
  int x = *(const int *) a, y = *(const int *) b;
  return (x > y) - (x < y);
}

gboolean
sc_expert_index_set (ScExpertIndex *idx, const char *key, const int *ids, int n_ids, GError **error)
{
  int total = idx->n_layers * idx->n_experts;
  if (key != NULL && !sc_expert_index_key_valid (key))
    {
      g_set_error (error, SC_EXPERT_INDEX_ERROR, SC_EXPERT_INDEX_ERROR_UNKNOWN_KEY,
                   "Expert index: '%s' is neither an NLLB language code nor a src-tgt direction",
                   key);
      return FALSE;
    }
  if ((key == NULL && g_hash_table_size (idx->keys) > 0) || (key != NULL && idx->global))
    {
      g_set_error (error, SC_EXPERT_INDEX_ERROR, SC_EXPERT_INDEX_ERROR_INVALID,
                   "Expert index: a global list and per-language entries cannot be mixed");
      return FALSE;
    }
  for (int i = 0; i < n_ids; i++)
    if (ids[i] < 0 || ids[i] >= total)
      {
        g_set_error (error, SC_EXPERT_INDEX_ERROR, SC_EXPERT_INDEX_ERROR_RANGE,
                     "Expert index%s%s%s: expert id %d is out of range (0..%d for %d MoE layers "
                     "x %d experts)",
                     key ? " entry '" : "", key ? key : "", key ? "'" : "", ids[i], total - 1,
                     idx->n_layers, idx->n_experts);
        return FALSE;
      }
  GArray *a = g_array_sized_new (FALSE, FALSE, sizeof (int), n_ids);
  g_array_append_vals (a, ids, n_ids);
  if (a->len > 0)
    qsort (a->data, a->len, sizeof (int), cmp_int);
  guint w = 0;
  for (guint i = 0; i < a->len; i++)
    if (w == 0 || g_array_index (a, int, i) != g_array_index (a, int, w - 1))
      g_array_index (a, int, w++) = g_array_index (a, int, i);
  g_array_set_size (a, w);
  if (key == NULL)
    {
      if (idx->global)
        g_array_unref (idx->global);
      idx->global = a;
    }
  else
    {
      g_hash_table_replace (idx->keys, g_strdup (key), a);
    }
  return TRUE;
}

gboolean
sc_expert_index_is_global (const ScExpertIndex *idx)
{
  return idx->global != NULL;
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

char **
sc_expert_index_keys (const ScExpertIndex *idx)
{
  guint n = 0;
  char **keys = (char **) g_hash_table_get_keys_as_array (idx->keys, &n);
  char **out = g_new0 (char *, n + 1);
  for (guint i = 0; i < n; i++)
    out[i] = g_strdup (keys[i]);
  g_free (keys);
  qsort (out, n, sizeof (char *), cmp_str);
  return out;
}

char **
sc_expert_index_ignored_keys (const ScExpertIndex *idx)
{
  char **out = g_new0 (char *, idx->ignored->len + 1);
  for (guint i = 0; i < idx->ignored->len; i++)
    out[i] = g_strdup (idx->ignored->pdata[i]);
  return out;
}

GArray *
sc_expert_index_get (const ScExpertIndex *idx, const char *key)
{
  if (key == NULL)
    return idx->global;
  return g_hash_table_lookup (idx->keys, key);
}

GArray *
sc_expert_index_for_pair (const ScExpertIndex *idx, const char *src, const char *tgt,
                          GError **error)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (int));
  if (idx->global)
    {
      g_array_append_vals (out, idx->global->data, idx->global->len);
      return out;
    }
  g_autofree char *pair = g_strdup_printf ("%s-%s", src, tgt);
  GArray *p = g_hash_table_lookup (idx->keys, pair);
  if (p)
    {
      g_array_append_vals (out, p->data, p->len);
      return out;
    }
  GArray *s = g_hash_table_lookup (idx->keys, src);
  GArray *t = g_hash_table_lookup (idx->keys, tgt);
  if (s == NULL || t == NULL)
    {
      g_set_error (error, SC_EXPERT_INDEX_ERROR, SC_EXPERT_INDEX_ERROR_NOT_FOUND,
                   "Expert index has no entry for '%s' nor for language '%s'", pair,
                   s == NULL ? src : tgt);
      g_array_unref (out);
      return NULL;
    }
  int split = idx->n_enc * idx->n_experts;
  for (guint i = 0; i < s->len; i++)
    if (g_array_index (s, int, i) < split)
      g_array_append_val (out, g_array_index (s, int, i));
  for (guint i = 0; i < t->len; i++)
    if (g_array_index (t, int, i) >= split)
      g_array_append_val (out, g_array_index (t, int, i));
  return out;
}

GArray *
sc_expert_index_for_pairs (const ScExpertIndex *idx, const char *const *directions, GError **error)
{
  int total = idx->n_layers * idx->n_experts;
  g_autofree guint8 *keep = g_new0 (guint8, total);
  for (const char *const *d = directions; d && *d; d++)
    {
      const char *dash = strchr (*d, '-');
      if (dash == NULL || dash == *d || dash[1] == '\0')
        {
          g_set_error (error, SC_EXPERT_INDEX_ERROR, SC_EXPERT_INDEX_ERROR_INVALID,
                       "'%s' is not a src-tgt direction", *d);
          return NULL;
        }
      g_autofree char *src = g_strndup (*d, dash - *d);
      g_autoptr (GArray) ids = sc_expert_index_for_pair (idx, src, dash + 1, error);
      if (ids == NULL)
        return NULL;
      for (guint i = 0; i < ids->len; i++)
        keep[g_array_index (ids, int, i)] = 1;
    }
  GArray *out = g_array_new (FALSE, FALSE, sizeof (int));
  for (int g = 0; g < total; g++)
    if (keep[g])
      g_array_append_val (out, g);
  return out;
}

static gboolean
read_ids (JsonArray *arr, const char *key, GArray *out, GError **error)
{
  for (guint i = 0; i < json_array_get_length (arr); i++)
    {
      JsonNode *n = json_array_get_element (arr, i);
      if (JSON_NODE_TYPE (n) != JSON_NODE_VALUE || json_node_get_value_type (n) != G_TYPE_INT64 ||
          json_node_get_int (n) < G_MININT || json_node_get_int (n) > G_MAXINT)
        {
          g_set_error (error, SC_EXPERT_INDEX_ERROR, SC_EXPERT_INDEX_ERROR_INVALID,
                       "Expert index%s%s%s: item %u is not an integer expert id",
                       key ? " entry '" : "", key ? key : "", key ? "'" : "", i);
          return FALSE;
        }
      int v = (int) json_node_get_int (n);
      g_array_append_val (out, v);
    }
  return TRUE;
}

static gboolean
fill_from_node (ScExpertIndex *idx, JsonNode *root, GError **error)
{
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (int));
  if (root && JSON_NODE_HOLDS_ARRAY (root))
    return read_ids (json_node_get_array (root), NULL, ids, error) &&
           sc_expert_index_set (idx, NULL, (int *) ids->data, ids->len, error);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, SC_EXPERT_INDEX_ERROR, SC_EXPERT_INDEX_ERROR_INVALID,
                   "Expert index: expected a list of ids or an object of lists");
      return FALSE;
    }
  JsonObject *o = json_node_get_object (root);
  g_autoptr (GList) members = json_object_get_members (o);
  for (GList *it = members; it; it = it->next)
    {
      const char *key = it->data;
      JsonNode *n = json_object_get_member (o, key);
      if (g_str_equal (key, SC_EXPERT_INDEX_META_KEY) && JSON_NODE_HOLDS_OBJECT (n))
        {
          /* Secateur's own record of how the ids were chosen: no warning */
          sc_expert_index_set_meta (idx, json_node_get_object (n));
          continue;
        }
      if (!sc_expert_index_key_valid (key))
        {
          /* as nllb_pruning.py and pasero, which look up only the keys they need */
          g_ptr_array_add (idx->ignored, g_strdup (key));
          continue;
        }
      if (!JSON_NODE_HOLDS_ARRAY (n))
        {
          g_set_error (error, SC_EXPERT_INDEX_ERROR, SC_EXPERT_INDEX_ERROR_INVALID,
                       "Expert index entry '%s' is not a list of ids", key);
          return FALSE;
        }
      g_array_set_size (ids, 0);
      if (!read_ids (json_node_get_array (n), key, ids, error) ||
          !sc_expert_index_set (idx, key, (int *) ids->data, ids->len, error))
        return FALSE;
    }
  return TRUE;
}

ScExpertIndex *
sc_expert_index_from_json (const char *data, gssize length, int n_moe_layers, int n_encoder_moe,
                           int n_experts, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (JsonNode) root = sc_json_parse (data, length, "Expert index", &local);
  if (root == NULL)
    {
      g_set_error_literal (error, SC_EXPERT_INDEX_ERROR, SC_EXPERT_INDEX_ERROR_INVALID,
                           local->message);
      return NULL;
    }
  g_autoptr (ScExpertIndex) idx = sc_expert_index_new (n_moe_layers, n_encoder_moe, n_experts);
  if (!fill_from_node (idx, root, error))
    return NULL;
  return g_steal_pointer (&idx);
}

ScExpertIndex *
sc_expert_index_load (const char *path, int n_moe_layers, int n_encoder_moe, int n_experts,
                      GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!sc_file_read_small (path, SC_JSON_INDEX_MAX_BYTES, &data, &len, error))
    return NULL;
  g_autoptr (GError) local = NULL;
  ScExpertIndex *idx =
      sc_expert_index_from_json (data, len, n_moe_layers, n_encoder_moe, n_experts, &local);
  if (idx == NULL)
    g_propagate_prefixed_error (error, g_steal_pointer (&local), "%s: ", path);
  return idx;
}

static gboolean keep_invalid (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static gboolean
keep_invalid (GError **error, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error_literal (error, SC_EXPERT_INDEX_ERROR, SC_EXPERT_INDEX_ERROR_INVALID, msg);
  return FALSE;
}

guint8 *
sc_expert_keep_from_json (const char *data, gssize length, int n_moe, int n_experts,
                          const char *what, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (JsonNode) root = sc_json_parse (data, length, what, &local);
  int E = n_experts;
  if (root == NULL)
    {
      keep_invalid (error, "%s", local->message);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_ARRAY (root))
    {
      keep_invalid (error, "%s: expected a JSON list of kept expert ids", what);
      return NULL;
    }
  JsonArray *arr = json_node_get_array (root);
  g_autofree guint8 *keep = g_new0 (guint8, (gsize) n_moe * E);
  guint len = json_array_get_length (arr);
  gboolean nested = len > 0 && JSON_NODE_HOLDS_ARRAY (json_array_get_element (arr, 0));
  if (nested && (int) len != n_moe)
    {
      keep_invalid (error, "%s lists %u layers; the model has %d MoE layers", what, len, n_moe);
      return NULL;
    }
  for (guint i = 0; i < len; i++)
    {
      JsonNode *n = json_array_get_element (arr, i);
      if (nested && !JSON_NODE_HOLDS_ARRAY (n))
        {
          keep_invalid (error, "%s: layer %u is not a list of ids", what, i);
          return NULL;
        }
      JsonArray *ids = nested ? json_node_get_array (n) : NULL;
      guint count = nested ? json_array_get_length (ids) : 1;
      for (guint k = 0; k < count; k++)
        {
          JsonNode *v = nested ? json_array_get_element (ids, k) : n;
          if (!JSON_NODE_HOLDS_VALUE (v) || json_node_get_value_type (v) != G_TYPE_INT64)
            {
              keep_invalid (error, "%s: ids must be integers", what);
              return NULL;
            }
          gint64 id = json_node_get_int (v);
          gint64 g = nested ? (gint64) i * E + id : id;
          if ((nested && (id < 0 || id >= E)) || g < 0 || g >= (gint64) n_moe * E)
            {
              keep_invalid (error,
                            "%s: expert %" G_GINT64_FORMAT
                            " does not exist (%d MoE layers x %d experts)",
                            what, id, n_moe, E);
              return NULL;
            }
          keep[g] = 1;
        }
    }
  return g_steal_pointer (&keep);
}

guint8 *
sc_expert_keep_load (const char *path, int n_moe, int n_experts, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!sc_file_read_small (path, SC_JSON_CONFIG_MAX_BYTES, &data, &len, error))
    return NULL;
  return sc_expert_keep_from_json (data, (gssize) len, n_moe, n_experts, path, error);
}

ScExpertSet *
sc_expert_set_load_keep (const char *path, int n_moe, int n_experts, GError **error)
{
  g_autofree guint8 *keep = sc_expert_keep_load (path, n_moe, n_experts, error);
  return keep != NULL ? sc_expert_set_new_from_keep (keep, n_moe, n_experts) : NULL;
}

ScExpertSet *
sc_expert_index_to_expert_set (const ScExpertIndex *idx, const char *const *keys, GError **error)
{
  /* Languages stand for every direction among them (one alone: into
   * itself); directions are taken as they are. */
  g_autoptr (GPtrArray) langs = g_ptr_array_new ();
  g_autoptr (GPtrArray) dirs = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
    if (strchr (keys[i], '-') != NULL)
      g_ptr_array_add (dirs, g_strdup (keys[i]));
    else
      g_ptr_array_add (langs, (gpointer) keys[i]);
  for (guint i = 0; i < langs->len; i++)
    for (guint j = 0; j < langs->len; j++)
      if (i != j || langs->len == 1)
        g_ptr_array_add (
            dirs, g_strdup_printf ("%s-%s", (char *) langs->pdata[i], (char *) langs->pdata[j]));
  if (dirs->len == 0)
    {
      g_set_error (error, SC_EXPERT_INDEX_ERROR, SC_EXPERT_INDEX_ERROR_NOT_FOUND,
                   "no language or direction given to choose experts for");
      return NULL;
    }
  g_ptr_array_add (dirs, NULL);
  g_autoptr (GArray) ids =
      sc_expert_index_for_pairs (idx, (const char *const *) dirs->pdata, error);
  if (ids == NULL)
    return NULL;
  int n_moe = idx->n_layers, E = idx->n_experts;
  g_autofree guint8 *keep = g_new0 (guint8, (gsize) n_moe * E + 1);
  for (guint i = 0; i < ids->len; i++)
    keep[g_array_index (ids, int, i)] = 1;
  return sc_expert_set_new_from_keep (keep, n_moe, E);
}

static void
add_ids (JsonBuilder *b, GArray *a)
{
  json_builder_begin_array (b);
  for (guint i = 0; i < a->len; i++)
    json_builder_add_int_value (b, g_array_index (a, int, i));
  json_builder_end_array (b);
}

char *
sc_expert_index_to_json (const ScExpertIndex *idx, gsize *length)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  if (idx->global)
    {
      add_ids (b, idx->global);
    }
  else
    {
      json_builder_begin_object (b);
      g_auto (GStrv) keys = sc_expert_index_keys (idx);
      for (char **k = keys; *k; k++)
        {
          json_builder_set_member_name (b, *k);
          add_ids (b, g_hash_table_lookup (idx->keys, *k));
        }
      if (idx->meta != NULL)
        {
          /* last, after the ids the authors' readers look up */
          json_builder_set_member_name (b, SC_EXPERT_INDEX_META_KEY);
          JsonNode *n = json_node_new (JSON_NODE_OBJECT);
          json_node_set_object (n, idx->meta);
          json_builder_add_value (b, n);
        }
      json_builder_end_object (b);
    }
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  /* ids, and settings recorded by Secateur (finite by construction) */
  return sc_json_to_data (root, FALSE, length, NULL);
}

gboolean
sc_expert_index_save (const ScExpertIndex *idx, const char *path, GError **error)
{
  gsize len = 0;
  g_autofree char *data = sc_expert_index_to_json (idx, &len);
  return g_file_set_contents (path, data, len, error);
}

void
sc_expert_index_set_meta (ScExpertIndex *idx, JsonObject *meta)
{
  if (meta != NULL)
    json_object_ref (meta);
  if (idx->meta != NULL)
    json_object_unref (idx->meta);
  idx->meta = meta;
}

JsonObject *
sc_expert_index_get_meta (const ScExpertIndex *idx)
{
  return idx->meta;
}
