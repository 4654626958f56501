/* sc-json-write.c: a JSON serialiser whose numbers are always valid JSON.
 * See sc-json-write.h. */
#include "sc-json-write.h"

#include "sc-tensor.h"

#include <math.h>
#include <string.h>

void
sc_json_append_double (GString *out, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_return_if_fail (isfinite (v));
  g_ascii_formatd (buf, sizeof buf, "%.17g", v);
  const char *e = strchr (buf, 'e');
  if (strchr (buf, '.') != NULL)
    g_string_append (out, buf);
  else if (e != NULL)
    {
      /* "1e+308" is valid JSON but reads back as an integer in some
       * readers' eyes; "1.0e+308" stays a double everywhere. */
      g_string_append_len (out, buf, e - buf);
      g_string_append (out, ".0");
      g_string_append (out, e);
    }
  else
    {
      g_string_append (out, buf);
      g_string_append (out, ".0");
    }
}

void
sc_json_append_string (GString *out, const char *s)
{
  g_string_append_c (out, '"');
  for (const guchar *p = (const guchar *) s; *p; p++)
    {
      switch (*p)
        {
        case '"':
          g_string_append (out, "\\\"");
          break;
        case '\\':
          g_string_append (out, "\\\\");
          break;
        case '\b':
          g_string_append (out, "\\b");
          break;
        case '\f':
          g_string_append (out, "\\f");
          break;
        case '\n':
          g_string_append (out, "\\n");
          break;
        case '\r':
          g_string_append (out, "\\r");
          break;
        case '\t':
          g_string_append (out, "\\t");
          break;
        default:
          if (*p < 0x20 || *p == 0x7f)
            g_string_append_printf (out, "\\u%04x", *p);
          else
            g_string_append_c (out, (char) *p);
        }
    }
  g_string_append_c (out, '"');
}

static void
newline (GString *out, gboolean pretty, int depth)
{
  if (!pretty)
    return;
  g_string_append_c (out, '\n');
  for (int i = 0; i < depth; i++)
    g_string_append (out, "  ");
}

/* `path` names the node for errors; it is restored on return. */
static gboolean
append_node (GString *out, JsonNode *node, gboolean pretty, int depth, GString *path,
             GError **error)
{
  gsize mark = path->len;
  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_NULL:
      g_string_append (out, "null");
      return TRUE;
    case JSON_NODE_OBJECT:
      {
        JsonObject *obj = json_node_get_object (node);
        g_autoptr (GList) members = json_object_get_members (obj);
        g_string_append_c (out, '{');
        for (GList *m = members; m != NULL; m = m->next)
          {
            const char *key = m->data;
            newline (out, pretty, depth + 1);
            sc_json_append_string (out, key);
            g_string_append (out, pretty ? " : " : ":");
            g_string_append_printf (path, "%s%s", path->len ? "." : "", key);
            if (!append_node (out, json_object_get_member (obj, key), pretty, depth + 1, path,
                              error))
              return FALSE;
            g_string_truncate (path, mark);
            if (m->next != NULL)
              g_string_append_c (out, ',');
          }
        if (members != NULL)
          newline (out, pretty, depth);
        g_string_append_c (out, '}');
        return TRUE;
      }
    case JSON_NODE_ARRAY:
      {
        JsonArray *arr = json_node_get_array (node);
        guint n = json_array_get_length (arr);
        g_string_append_c (out, '[');
        for (guint i = 0; i < n; i++)
          {
            newline (out, pretty, depth + 1);
            g_string_append_printf (path, "[%u]", i);
            if (!append_node (out, json_array_get_element (arr, i), pretty, depth + 1, path, error))
              return FALSE;
            g_string_truncate (path, mark);
            if (i + 1 < n)
              g_string_append_c (out, ',');
          }
        if (n > 0)
          newline (out, pretty, depth);
        g_string_append_c (out, ']');
        return TRUE;
      }
    case JSON_NODE_VALUE:
      break;
    }
  GType type = json_node_get_value_type (node);
  if (type == G_TYPE_INT64)
    g_string_append_printf (out, "%" G_GINT64_FORMAT, json_node_get_int (node));
  else if (type == G_TYPE_BOOLEAN)
    g_string_append (out, json_node_get_boolean (node) ? "true" : "false");
  else if (type == G_TYPE_STRING)
    sc_json_append_string (out, json_node_get_string (node));
  else
    {
      double v = json_node_get_double (node);
      if (!isfinite (v))
        {
          g_set_error (error, SC_ERROR, SC_ERROR_NOT_FINITE, "%s is %s; a JSON file cannot hold it",
                       path->len ? path->str : "the value",
                       isnan (v) ? "NaN (not a number)" : "infinite");
          return FALSE;
        }
      sc_json_append_double (out, v);
    }
  return TRUE;
}

char *
sc_json_to_data (JsonNode *root, gboolean pretty, gsize *length, GError **error)
{
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GString) path = g_string_new (NULL);
  if (!append_node (out, root, pretty, 0, path, error))
    return NULL;
  if (length != NULL)
    *length = out->len;
  return g_string_free (g_steal_pointer (&out), FALSE);
}

gboolean
sc_json_save (JsonNode *root, gboolean pretty, const char *path, GError **error)
{
  gsize len = 0;
  g_autofree char *text = sc_json_to_data (root, pretty, &len, error);
  if (text == NULL)
    {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }
  /* g_file_set_contents writes a temporary file and renames it. */
  return g_file_set_contents (path, text, (gssize) len, error);
}
