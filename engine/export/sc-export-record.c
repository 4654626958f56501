/* sc-export-record.c: an export's record, read back from its folder. */
#include "sc-export-record.h"

#include "sc-config.h"
#include "sc-export.h"
#include "sc-json-file.h"

#include <glib/gstdio.h>

void
sc_export_record_free (ScExportRecord *r)
{
  if (r == NULL)
    return;
  g_free (r->dir);
  g_strfreev (r->served);
  g_clear_pointer (&r->kept_experts, g_ptr_array_unref);
  g_free (r->dtype);
  g_clear_pointer (&r->settings, json_object_unref);
  g_free (r);
}

static GArray *
copy_ids (GArray *ids)
{
  GArray *c = g_array_sized_new (FALSE, FALSE, sizeof (int), ids->len);
  g_array_append_vals (c, ids->data, ids->len);
  return c;
}

/* config.json's selection record, or NULL. */
static JsonObject *
load_selection (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "config.json", NULL);
  g_autoptr (JsonNode) root = sc_json_file_load (path, SC_JSON_CONFIG_MAX_BYTES, NULL);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  JsonNode *sel = json_object_get_member (json_node_get_object (root), SC_EXPORT_SELECTION_KEY);
  return sel && JSON_NODE_HOLDS_OBJECT (sel) ? json_object_ref (json_node_get_object (sel)) : NULL;
}

ScExportRecord *
sc_export_record_load (const char *dir, GError **error)
{
  /* a bundle holds the model in model/ */
  g_autofree char *inner = g_build_filename (dir, "model", "config.json", NULL);
  g_autofree char *model_dir = g_file_test (inner, G_FILE_TEST_IS_REGULAR)
                                   ? g_build_filename (dir, "model", NULL)
                                   : g_strdup (dir);
  g_autoptr (ScConfig) c = sc_config_load (model_dir, error);
  if (c == NULL)
    return NULL;
  if (c->kept_experts == NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "%s holds no expert-pruned export", model_dir);
      return NULL;
    }
  g_autoptr (ScExportRecord) r = g_new0 (ScExportRecord, 1);
  r->dir = g_steal_pointer (&model_dir);
  r->served = g_strdupv (c->served);
  r->n_moe_layers = sc_config_n_moe_layers (c);
  r->num_experts = c->num_experts;
  r->total = r->n_moe_layers * r->num_experts;
  r->kept_experts = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  for (guint m = 0; m < c->kept_experts->len; m++)
    {
      GArray *ids = g_ptr_array_index (c->kept_experts, m);
      g_ptr_array_add (r->kept_experts, copy_ids (ids));
      r->kept += ids->len;
    }
  g_autoptr (JsonObject) sel = load_selection (r->dir);
  if (sel != NULL)
    {
      const char *dtype = json_object_get_string_member_with_default (sel, "dtype", NULL);
      r->dtype = g_strdup (dtype);
      JsonNode *s = json_object_get_member (sel, "settings");
      if (s != NULL && JSON_NODE_HOLDS_OBJECT (s))
        r->settings = json_object_ref (json_node_get_object (s));
    }
  g_autoptr (GDir) d = g_dir_open (r->dir, 0, error);
  if (d == NULL)
    return NULL;
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (r->dir, name, NULL);
      GStatBuf st;
      if (g_stat (path, &st) != 0 || !S_ISREG (st.st_mode))
        continue;
      r->bytes += st.st_size;
      if (g_str_has_suffix (name, ".safetensors"))
        r->weight_bytes += st.st_size;
    }
  return g_steal_pointer (&r);
}

char *
sc_export_record_settings_text (const ScExportRecord *r)
{
  if (r->settings == NULL)
    return NULL;
  JsonObject *s = r->settings;
  JsonNode *ratio = json_object_get_member (s, "ratio");
  GString *out = g_string_new (NULL);
  if (ratio != NULL && JSON_NODE_HOLDS_VALUE (ratio))
    g_string_append_printf (out, "ratio %.2f", json_node_get_double (ratio));
  static const char *const keys[] = { "metric", "algorithm", "granularity", "enc_dec" };
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      const char *v = json_object_get_string_member_with_default (s, keys[i], NULL);
      if (v != NULL)
        g_string_append_printf (out, "%s%s", out->len > 0 ? ", " : "", v);
    }
  return g_string_free (out, FALSE);
}
