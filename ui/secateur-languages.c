/* secateur-languages.c: language and script names from iso-codes. */
#include "secateur-languages.h"

#include "sc-json-file.h"

#include <libintl.h>
#include <json-glib/json-glib.h>
#include <string.h>

static GHashTable *languages; /* ISO 639-3 code -> name */
static GHashTable *scripts;   /* ISO 15924 code -> name */

static GHashTable *
load_table (const char *file, const char *array, const char *key)
{
  GHashTable *table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  const char *const *dirs = g_get_system_data_dirs ();
  for (guint i = 0; dirs[i] != NULL; i++)
    {
      g_autofree char *path = g_build_filename (dirs[i], "iso-codes", "json", file, NULL);
      g_autoptr (JsonNode) root = sc_json_file_load (path, SC_JSON_INDEX_MAX_BYTES, NULL);
      if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
        continue;
      JsonArray *items = json_object_get_array_member (json_node_get_object (root), array);
      for (guint k = 0; items != NULL && k < json_array_get_length (items); k++)
        {
          JsonObject *o = json_array_get_object_element (items, k);
          const char *code = o ? json_object_get_string_member_with_default (o, key, NULL) : NULL;
          const char *name =
              o ? json_object_get_string_member_with_default (o, "name", NULL) : NULL;
          if (code != NULL && name != NULL)
            g_hash_table_insert (table, g_strdup (code), g_strdup (name));
        }
      break;
    }
  return table;
}

static void
ensure_tables (void)
{
  if (g_once_init_enter (&languages))
    {
      scripts = load_table ("iso_15924.json", "15924", "alpha_4");
      g_once_init_leave (&languages, load_table ("iso_639-3.json", "639-3", "alpha_3"));
    }
}

static const char *
lookup (GHashTable *table, const char *code, gsize len)
{
  char key[8];
  if (len == 0 || len >= sizeof key)
    return code;
  memcpy (key, code, len);
  key[len] = '\0';
  const char *name = g_hash_table_lookup (table, key);
  return name != NULL ? name : code;
}

const char *
secateur_language_english_name (const char *code)
{
  ensure_tables ();
  const char *sep = strchr (code, '_');
  return lookup (languages, code, sep ? (gsize) (sep - code) : strlen (code));
}

/* iso-codes' catalogues use the English names as message ids; a code with
 * no name stays a code (never looked up, it is not an English name).
 * dgettext, not g_dgettext: names are translated whenever a catalogue
 * exists, whatever the application's own domain holds. */
static const char *
localise (const char *domain, const char *english, const char *code)
{
  return english != code && *english != '\0' ? dgettext (domain, english) : english;
}

const char *
secateur_language_name (const char *code)
{
  return localise ("iso_639-3", secateur_language_english_name (code), code);
}

const char *
secateur_language_script (const char *code)
{
  ensure_tables ();
  const char *sep = strchr (code, '_');
  if (sep == NULL)
    return "";
  return localise ("iso_15924", lookup (scripts, sep + 1, strlen (sep + 1)), sep + 1);
}

static gboolean
contains_folded (const char *hay, const char *needle)
{
  g_autofree char *folded = g_utf8_casefold (hay, -1);
  return strstr (folded, needle) != NULL;
}

gboolean
secateur_language_matches (const char *code, const char *text)
{
  if (text == NULL || *text == '\0')
    return TRUE;
  g_autofree char *needle = g_utf8_casefold (text, -1);
  return contains_folded (code, needle) ||
         contains_folded (secateur_language_name (code), needle) ||
         contains_folded (secateur_language_english_name (code), needle) ||
         contains_folded (secateur_language_script (code), needle);
}

GStrv
secateur_direction_names (const char *const *directions)
{
  GStrvBuilder *b = g_strv_builder_new ();
  for (guint i = 0; directions != NULL && directions[i] != NULL; i++)
    {
      const char *sep = strchr (directions[i], '-');
      g_autofree char *src =
          sep ? g_strndup (directions[i], sep - directions[i]) : g_strdup (directions[i]);
      g_autofree char *name = g_strdup_printf ("%s → %s", secateur_language_name (src),
                                               sep ? secateur_language_name (sep + 1) : "");
      g_strv_builder_add (b, name);
    }
  GStrv names = g_strv_builder_end (b);
  g_strv_builder_unref (b);
  return names;
}
