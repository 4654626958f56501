/* sc-project.c: a pruning project on disk. See sc-project.h. */
#include "sc-project.h"

#include "sc-expert-metrics.h"
#include "sc-json-file.h"
#include "sc-json-write.h"
#include "sc-model-fingerprint.h"
#include "sc-sweep-record.h"
#include "sc-tensor.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

G_DEFINE_QUARK (sc - project - error - quark, sc_project_error)

/* Bounds a project.json must stay within: far above any real project. */
#define MAX_ENTRIES 100000
#define MAX_DIRECTIONS 65536
#define MAX_WEIGHT 1000
#define MAX_NAME 64

struct _ScProject
{
  char *dir, *file;
  char *model_dir, *fingerprint;
  JsonNode *doc; /* project.json as last read or written, validated */
};

/* ---- names, paths, timestamps --------------------------------------------- */

gboolean
sc_project_is_project (const char *dir)
{
  g_autofree char *file = g_build_filename (dir, SC_PROJECT_FILE, NULL);
  return g_file_test (file, G_FILE_TEST_IS_REGULAR);
}

char *
sc_project_default_dir (const char *model_dir, const char *fingerprint)
{
  g_autofree char *base = g_path_get_basename (model_dir);
  const char *hex = g_str_has_prefix (fingerprint, "sha256:") ? fingerprint + 7 : fingerprint;
  g_autofree char *name = g_strdup_printf ("%s-%.12s" SC_PROJECT_SUFFIX, base, hex);
  return g_build_filename (g_get_user_data_dir (), "secateur", "projects", name, NULL);
}

/* An entry's name becomes a file name: letters, digits, '-' and '_' only,
 * so no name read from project.json leads out of the folder. */
static gboolean
name_valid (const char *name)
{
  if (name == NULL || name[0] == '\0' || strlen (name) > MAX_NAME)
    return FALSE;
  for (const char *c = name; *c; c++)
    if (!g_ascii_isalnum (*c) && *c != '-' && *c != '_')
      return FALSE;
  return TRUE;
}

static gboolean
fingerprint_valid (const char *fp)
{
  if (fp == NULL || !g_str_has_prefix (fp, "sha256:") || strlen (fp) != 7 + 64)
    return FALSE;
  for (const char *c = fp + 7; *c; c++)
    if (!g_ascii_isxdigit (*c))
      return FALSE;
  return TRUE;
}

static char *
now_iso8601 (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  return g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
}

/* ---- validation ----------------------------------------------------------- */

static gboolean
invalid (GError **error, const char *file, const char *what)
{
  g_set_error (error, SC_PROJECT_ERROR, SC_PROJECT_ERROR_INVALID, "%s: %s", file, what);
  return FALSE;
}

/* The string member `key` of `o`, or NULL when absent or not a string. */
static const char *
get_string (JsonObject *o, const char *key)
{
  JsonNode *n = json_object_get_member (o, key);
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

static JsonObject *
get_object (JsonObject *o, const char *key)
{
  JsonNode *n = json_object_get_member (o, key);
  return n != NULL && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static JsonArray *
get_array (JsonObject *o, const char *key)
{
  JsonNode *n = json_object_get_member (o, key);
  return n != NULL && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

static gboolean
get_int (JsonObject *o, const char *key, gint64 lo, gint64 hi, gint64 *out)
{
  JsonNode *n = json_object_get_member (o, key);
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    return FALSE;
  gint64 v = json_node_get_int (n);
  if (v < lo || v > hi)
    return FALSE;
  *out = v;
  return TRUE;
}

static gboolean
directions_valid (JsonArray *a)
{
  if (a == NULL || json_array_get_length (a) > MAX_DIRECTIONS)
    return FALSE;
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonNode *n = json_array_get_element (a, i);
      if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
        return FALSE;
      const char *d = json_node_get_string (n);
      if (strchr (d, '-') == NULL || !sc_expert_index_key_valid (d))
        return FALSE;
    }
  return TRUE;
}

/* A list of stored entries ("selections", "evaluations", "sweeps"): each
 * names a file DIRNAME/NAME.json of the project. */
static gboolean
check_entries (JsonObject *root, const char *list, const char *file, GError **error)
{
  JsonNode *node = json_object_get_member (root, list);
  if (node == NULL)
    return TRUE;
  g_autofree char *where = NULL;
  if (!JSON_NODE_HOLDS_ARRAY (node) ||
      json_array_get_length (json_node_get_array (node)) > MAX_ENTRIES)
    {
      where = g_strdup_printf ("\"%s\" is not a list of at most %d entries", list, MAX_ENTRIES);
      return invalid (error, file, where);
    }
  JsonArray *a = json_node_get_array (node);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonNode *en = json_array_get_element (a, i);
      JsonObject *e = JSON_NODE_HOLDS_OBJECT (en) ? json_node_get_object (en) : NULL;
      const char *name = e ? get_string (e, "name") : NULL;
      const char *f = e ? get_string (e, "file") : NULL;
      g_autofree char *expect = name ? g_strdup_printf ("%s/%s.json", list, name) : NULL;
      JsonNode *settings = e ? json_object_get_member (e, "settings") : NULL;
      JsonNode *dirs = e ? json_object_get_member (e, "directions") : NULL;
      const char *why = NULL;
      if (e == NULL)
        why = "is not an object";
      else if (!name_valid (name))
        why = "has no valid \"name\" (letters, digits, '-' and '_')";
      else if (g_hash_table_contains (seen, name))
        why = "repeats an earlier name";
      else if (f == NULL || !g_str_equal (f, expect))
        why = "has a \"file\" that is not LIST/NAME.json";
      else if (get_string (e, "created") == NULL)
        why = "has no \"created\" date";
      else if (settings != NULL && !JSON_NODE_HOLDS_OBJECT (settings))
        why = "has \"settings\" that are not an object";
      else if (dirs != NULL && !directions_valid (json_node_get_array (dirs)))
        why = "has \"directions\" that are not a list of src-tgt NLLB codes";
      if (why != NULL)
        {
          where = g_strdup_printf ("%s[%u] %s", list, i, why);
          return invalid (error, file, where);
        }
      g_hash_table_add (seen, (gpointer) name);
    }
  return TRUE;
}

static gboolean
check_exports (JsonObject *root, const char *file, GError **error)
{
  JsonNode *node = json_object_get_member (root, "exports");
  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node) ||
      json_array_get_length (json_node_get_array (node)) > MAX_ENTRIES)
    return invalid (error, file, "\"exports\" is not a list of at most 100000 entries");
  JsonArray *a = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonNode *en = json_array_get_element (a, i);
      JsonObject *e = JSON_NODE_HOLDS_OBJECT (en) ? json_node_get_object (en) : NULL;
      const char *folder = e ? get_string (e, "folder") : NULL;
      JsonNode *settings = e ? json_object_get_member (e, "settings") : NULL;
      const char *why = NULL;
      if (e == NULL)
        why = "is not an object";
      else if (folder == NULL || !g_path_is_absolute (folder))
        why = "has no absolute \"folder\"";
      else if (get_string (e, "created") == NULL)
        why = "has no \"created\" date";
      else if (!directions_valid (get_array (e, "directions")))
        why = "has no \"directions\" list of src-tgt NLLB codes";
      else if (settings != NULL && !JSON_NODE_HOLDS_OBJECT (settings))
        why = "has \"settings\" that are not an object";
      if (why != NULL)
        {
          g_autofree char *where = g_strdup_printf ("exports[%u] %s", i, why);
          return invalid (error, file, where);
        }
    }
  return TRUE;
}

/* The "prune" object into `s` (and its directions); FALSE with `why`. */
static gboolean
parse_prune (JsonObject *p, ScPruneSettings *s, const char **why)
{
  sc_prune_settings_init (s);
  JsonNode *ratio = json_object_get_member (p, "ratio");
  gint64 enc = 0, dec = 0;
  const char *algo = get_string (p, "algorithm");
  if (ratio == NULL || !JSON_NODE_HOLDS_VALUE (ratio) ||
      (json_node_get_value_type (ratio) != G_TYPE_DOUBLE &&
       json_node_get_value_type (ratio) != G_TYPE_INT64))
    *why = "\"prune\" has no numeric \"ratio\"";
  else if (!(json_node_get_double (ratio) >= 0 && json_node_get_double (ratio) < 1))
    *why = "\"prune\" has a \"ratio\" outside [0, 1)";
  else if (!sc_expert_metric_from_string (get_string (p, "metric"), &s->metric))
    *why = "\"prune\" has an unknown \"metric\"";
  else if (algo == NULL || (!g_str_equal (algo, "per-layer") && !g_str_equal (algo, "threshold")))
    *why = "\"prune\" has an \"algorithm\" other than per-layer or threshold";
  else if (!sc_granularity_from_string (get_string (p, "granularity"), &s->granularity))
    *why = "\"prune\" has an unknown \"granularity\"";
  else if (!get_int (p, "encoder_weight", 1, MAX_WEIGHT, &enc) ||
           !get_int (p, "decoder_weight", 1, MAX_WEIGHT, &dec))
    *why = "\"prune\" has an encoder:decoder budget that is not two integers from 1 to 1000";
  else if (json_object_has_member (p, "directions") &&
           !directions_valid (get_array (p, "directions")))
    *why = "\"prune\" has \"directions\" that are not a list of src-tgt NLLB codes";
  else
    {
      s->ratio = json_node_get_double (ratio);
      s->algo = g_str_equal (algo, "threshold") ? SC_SELECT_THRESHOLD : SC_SELECT_PER_LAYER;
      s->enc_weight = (int) enc;
      s->dec_weight = (int) dec;
      return TRUE;
    }
  return FALSE;
}

/* Checks a parsed project.json; `file` begins the messages. */
static gboolean
check_document (JsonNode *doc, const char *file, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT (doc))
    return invalid (error, file, "not a JSON object");
  JsonObject *root = json_node_get_object (doc);
  gint64 version = 0;
  if (g_strcmp0 (get_string (root, "format"), SC_PROJECT_FORMAT) != 0)
    return invalid (error, file, "not a Secateur project (\"format\" is not secateur-project)");
  if (!get_int (root, "version", 1, G_MAXINT32, &version))
    return invalid (error, file, "\"version\" is not a positive integer");
  if (version > SC_PROJECT_VERSION)
    {
      g_set_error (error, SC_PROJECT_ERROR, SC_PROJECT_ERROR_VERSION,
                   "%s: written by a newer Secateur (project version %" G_GINT64_FORMAT
                   ", this one reads %d)",
                   file, version, SC_PROJECT_VERSION);
      return FALSE;
    }
  if (get_string (root, "created") == NULL || get_string (root, "modified") == NULL)
    return invalid (error, file, "no \"created\" or \"modified\" date");
  JsonObject *model = get_object (root, "model");
  const char *path = model ? get_string (model, "path") : NULL;
  if (model == NULL || path == NULL || !g_path_is_absolute (path))
    return invalid (error, file, "\"model\" has no absolute \"path\"");
  if (!fingerprint_valid (get_string (model, "fingerprint")))
    return invalid (error, file, "\"model\" has no \"fingerprint\" (sha256: and 64 hex digits)");
  if (!check_entries (root, "selections", file, error) ||
      !check_entries (root, "evaluations", file, error) ||
      !check_entries (root, "sweeps", file, error) || !check_exports (root, file, error))
    return FALSE;
  JsonNode *prune = json_object_get_member (root, "prune");
  if (prune != NULL)
    {
      ScPruneSettings s;
      const char *why = "\"prune\" is not an object";
      if (!JSON_NODE_HOLDS_OBJECT (prune) || !parse_prune (json_node_get_object (prune), &s, &why))
        return invalid (error, file, why);
    }
  return TRUE;
}

static JsonNode *
read_document (const char *file, GError **error)
{
  g_autoptr (JsonNode) doc = sc_json_file_load (file, SC_JSON_CONFIG_MAX_BYTES, error);
  if (doc == NULL || !check_document (doc, file, error))
    return NULL;
  return g_steal_pointer (&doc);
}

/* ---- writing -------------------------------------------------------------- */

/* Temporary file, fsync, rename: the old file or the new, whole. */
static gboolean
write_durable (const char *path, const char *data, gsize len, GError **error)
{
  return g_file_set_contents_full (path, data, (gssize) len,
                                   G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                   0644, error);
}

static gboolean
write_json (const char *path, JsonNode *node, GError **error)
{
  gsize len = 0;
  g_autofree char *text = sc_json_to_data (node, TRUE, &len, error);
  if (text == NULL)
    {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }
  return write_durable (path, text, len, error);
}

/* The change `edit` makes to project.json, under the project's lock, on
 * the file as it is now (another writer may have changed it since it was
 * read); `modified` is stamped and the result kept as the project's. */
typedef gboolean (*EditFunc) (ScProject *project, JsonObject *root, gpointer data, GError **error);

static gboolean
edit_document (ScProject *project, EditFunc edit, gpointer data, GError **error)
{
  g_autoptr (ScFileLock) lock = sc_file_lock_acquire (project->file, NULL, NULL, error);
  if (lock == NULL)
    return FALSE;
  g_autoptr (JsonNode) doc = read_document (project->file, error);
  if (doc == NULL)
    return FALSE;
  JsonObject *root = json_node_get_object (doc);
  if (!edit (project, root, data, error))
    return FALSE;
  g_autofree char *now = now_iso8601 ();
  json_object_set_string_member (root, "modified", now);
  if (!check_document (doc, project->file, error) || !write_json (project->file, doc, error))
    return FALSE;
  g_clear_pointer (&project->doc, json_node_unref);
  project->doc = g_steal_pointer (&doc);
  return TRUE;
}

/* ---- opening -------------------------------------------------------------- */

void
sc_project_free (ScProject *project)
{
  if (project == NULL)
    return;
  g_free (project->dir);
  g_free (project->file);
  g_free (project->model_dir);
  g_free (project->fingerprint);
  g_clear_pointer (&project->doc, json_node_unref);
  g_free (project);
}

static char *
absolute (const char *path)
{
  g_autoptr (GFile) f = g_file_new_for_path (path);
  return g_file_get_path (f);
}

static gboolean
create_document (const char *file, const char *model_dir, const char *fingerprint, GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree char *now = now_iso8601 ();
  g_autofree char *name = g_path_get_basename (model_dir);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "format");
  json_builder_add_string_value (b, SC_PROJECT_FORMAT);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, SC_PROJECT_VERSION);
  json_builder_set_member_name (b, "created");
  json_builder_add_string_value (b, now);
  json_builder_set_member_name (b, "modified");
  json_builder_add_string_value (b, now);
  json_builder_set_member_name (b, "model");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "path");
  json_builder_add_string_value (b, model_dir);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, name);
  json_builder_set_member_name (b, "fingerprint");
  json_builder_add_string_value (b, fingerprint);
  json_builder_end_object (b);
  const char *lists[] = { "selections", "evaluations", "sweeps", "exports" };
  for (guint i = 0; i < G_N_ELEMENTS (lists); i++)
    {
      json_builder_set_member_name (b, lists[i]);
      json_builder_begin_array (b);
      json_builder_end_array (b);
    }
  json_builder_end_object (b);
  g_autoptr (JsonNode) doc = json_builder_get_root (b);
  return write_json (file, doc, error);
}

static gboolean
set_model_path (ScProject *project, JsonObject *root, gpointer data, GError **error)
{
  json_object_set_string_member (get_object (root, "model"), "path", data);
  return TRUE;
}

ScProject *
sc_project_open (const char *dir, const char *model_dir, GError **error)
{
  g_autoptr (ScProject) p = g_new0 (ScProject, 1);
  p->dir = absolute (dir);
  p->file = g_build_filename (p->dir, SC_PROJECT_FILE, NULL);
  g_autofree char *given = model_dir ? absolute (model_dir) : NULL;
  g_autofree char *given_fp = NULL;
  if (given != NULL && (given_fp = sc_model_fingerprint (given, error)) == NULL)
    return NULL;

  if (!sc_project_is_project (p->dir))
    {
      if (given == NULL)
        {
          g_set_error (error, SC_PROJECT_ERROR, SC_PROJECT_ERROR_NOT_A_PROJECT,
                       "%s is not a Secateur project (it has no %s)", p->dir, SC_PROJECT_FILE);
          return NULL;
        }
      if (g_mkdir_with_parents (p->dir, 0755) != 0)
        {
          int errsv = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), "%s: %s", p->dir,
                       g_strerror (errsv));
          return NULL;
        }
      /* two processes creating one project: the second finds the first's */
      g_autoptr (ScFileLock) lock = sc_file_lock_acquire (p->file, NULL, NULL, error);
      if (lock == NULL)
        return NULL;
      if (!sc_project_is_project (p->dir) && !create_document (p->file, given, given_fp, error))
        return NULL;
    }

  p->doc = read_document (p->file, error);
  if (p->doc == NULL)
    return NULL;
  JsonObject *model = get_object (json_node_get_object (p->doc), "model");
  const char *recorded = get_string (model, "path");
  const char *recorded_fp = get_string (model, "fingerprint");
  if (given == NULL)
    {
      if (!g_file_test (recorded, G_FILE_TEST_IS_DIR))
        {
          g_set_error (error, SC_PROJECT_ERROR, SC_PROJECT_ERROR_MODEL_MISSING,
                       "The model of project %s is missing: %s is not a folder", p->dir, recorded);
          return NULL;
        }
      g_autoptr (GError) local = NULL;
      given_fp = sc_model_fingerprint (recorded, &local);
      if (given_fp == NULL)
        {
          g_set_error (error, SC_PROJECT_ERROR, SC_PROJECT_ERROR_MODEL_MISSING,
                       "The model of project %s cannot be read: %s", p->dir, local->message);
          return NULL;
        }
      given = g_strdup (recorded);
    }
  if (!g_str_equal (given_fp, recorded_fp))
    {
      g_set_error (error, SC_PROJECT_ERROR, SC_PROJECT_ERROR_MODEL_CHANGED,
                   "Project %s belongs to the model %s (fingerprint %s), but %s has the "
                   "fingerprint %s: the model changed, or it is another model",
                   p->dir, recorded, recorded_fp, given, given_fp);
      return NULL;
    }
  if (!g_str_equal (given, recorded) && !edit_document (p, set_model_path, given, error))
    return NULL;
  p->model_dir = g_steal_pointer (&given);
  p->fingerprint = g_steal_pointer (&given_fp);
  return g_steal_pointer (&p);
}

const char *
sc_project_get_dir (ScProject *project)
{
  return project->dir;
}

const char *
sc_project_get_model_dir (ScProject *project)
{
  return project->model_dir;
}

const char *
sc_project_get_fingerprint (ScProject *project)
{
  return project->fingerprint;
}

gboolean
sc_project_reload (ScProject *project, GError **error)
{
  JsonNode *doc = read_document (project->file, error);
  if (doc == NULL)
    return FALSE;
  g_clear_pointer (&project->doc, json_node_unref);
  project->doc = doc;
  return TRUE;
}

JsonNode *
sc_project_get_document (ScProject *project)
{
  return json_node_copy (project->doc);
}

/* ---- statistics ----------------------------------------------------------- */

char *
sc_project_stats_path (ScProject *project)
{
  return g_build_filename (project->dir, SC_PROJECT_STATS, NULL);
}

gboolean
sc_project_has_stats (ScProject *project)
{
  g_autofree char *path = sc_project_stats_path (project);
  return g_file_test (path, G_FILE_TEST_EXISTS);
}

ScStats *
sc_project_load_stats (ScProject *project, const ScStatsShape *expect, GError **error)
{
  g_autofree char *path = sc_project_stats_path (project);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, SC_PROJECT_ERROR, SC_PROJECT_ERROR_NOT_FOUND,
                   "Project %s has no statistics yet (calibrate first)", project->dir);
      return NULL;
    }
  return sc_stats_load (path, expect, error);
}

static gboolean
touch (ScProject *project, JsonObject *root, gpointer data, GError **error)
{
  return TRUE;
}

ScStats *
sc_project_add_stats (ScProject *project, ScStats *stats, ScFileLockWaitFunc waiting,
                      gpointer user_data, GError **error)
{
  g_autofree char *path = sc_project_stats_path (project);
  g_autoptr (ScStats) sum = sc_stats_append_to_file (stats, path, waiting, user_data, error);
  if (sum == NULL || !edit_document (project, touch, NULL, error))
    return NULL;
  return g_steal_pointer (&sum);
}

gboolean
sc_project_save_stats (ScProject *project, ScStats *stats, GError **error)
{
  g_autofree char *path = sc_project_stats_path (project);
  g_autoptr (ScFileLock) lock = sc_file_lock_acquire (path, NULL, NULL, error);
  gsize len = 0;
  g_autofree char *text = lock ? sc_stats_to_json (stats, &len, error) : NULL;
  return text != NULL && write_durable (path, text, len, error) &&
         edit_document (project, touch, NULL, error);
}

/* ---- stored entries (selections, evaluations, sweeps) --------------------- */

typedef struct
{
  const char *list;   /* "selections", ... (also the folder) */
  const char *prefix; /* "selection", ... */
  const char *data;   /* the file's text */
  gsize len;
  JsonObject *extra; /* members to add to the entry (nullable) */
  char *name;        /* out */
} AddEntry;

static gboolean
add_entry_edit (ScProject *project, JsonObject *root, gpointer user_data, GError **error)
{
  AddEntry *a = user_data;
  JsonArray *list = get_array (root, a->list);
  if (list == NULL)
    {
      json_object_set_array_member (root, a->list, json_array_new ());
      list = get_array (root, a->list);
    }
  if (json_array_get_length (list) >= MAX_ENTRIES)
    return invalid (error, project->file, "too many entries");
  /* the next free number: entries may have been added by others */
  guint n = json_array_get_length (list) + 1;
  g_autofree char *name = NULL;
  g_autofree char *dir = g_build_filename (project->dir, a->list, NULL);
  for (;; n++)
    {
      g_free (name);
      name = g_strdup_printf ("%s-%u", a->prefix, n);
      g_autofree char *f = g_strdup_printf ("%s/%s.json", dir, name);
      gboolean used = g_file_test (f, G_FILE_TEST_EXISTS);
      for (guint i = 0; !used && i < json_array_get_length (list); i++)
        used = g_str_equal (get_string (json_array_get_object_element (list, i), "name"), name);
      if (!used)
        break;
    }
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int errsv = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), "%s: %s", dir,
                   g_strerror (errsv));
      return FALSE;
    }
  g_autofree char *path = g_strdup_printf ("%s/%s.json", dir, name);
  if (!write_durable (path, a->data, a->len, error))
    return FALSE;
  JsonObject *e = json_object_new ();
  g_autofree char *file = g_strdup_printf ("%s/%s.json", a->list, name);
  g_autofree char *now = now_iso8601 ();
  json_object_set_string_member (e, "name", name);
  json_object_set_string_member (e, "file", file);
  json_object_set_string_member (e, "created", now);
  if (a->extra != NULL)
    {
      JsonObjectIter it;
      const char *key;
      JsonNode *value;
      json_object_iter_init (&it, a->extra);
      while (json_object_iter_next (&it, &key, &value))
        json_object_set_member (e, key, json_node_copy (value));
    }
  json_array_add_object_element (list, e);
  a->name = g_steal_pointer (&name);
  return TRUE;
}

static gboolean
add_entry (ScProject *project, AddEntry *a, char **name, GError **error)
{
  gboolean ok = edit_document (project, add_entry_edit, a, error);
  if (ok && name != NULL)
    *name = g_steal_pointer (&a->name);
  g_free (a->name);
  return ok;
}

/* The path of the entry `name` of `list` (NULL: the newest). */
static char *
entry_path (ScProject *project, const char *list, const char *name, GError **error)
{
  JsonArray *a = get_array (json_node_get_object (project->doc), list);
  guint n = a ? json_array_get_length (a) : 0;
  for (guint i = n; i > 0; i--)
    {
      const char *e = get_string (json_array_get_object_element (a, i - 1), "name");
      if (name == NULL || g_str_equal (name, e))
        return g_strdup_printf ("%s/%s/%s.json", project->dir, list, e);
    }
  g_set_error (error, SC_PROJECT_ERROR, SC_PROJECT_ERROR_NOT_FOUND,
               name ? "Project %s has no %s named %s" : "Project %s has no %s yet", project->dir,
               list, name);
  return NULL;
}

gboolean
sc_project_add_selection (ScProject *project, const ScExpertIndex *idx, char **name, GError **error)
{
  gsize len = 0;
  g_autofree char *text = sc_expert_index_to_json (idx, &len);
  g_autoptr (JsonObject) extra = json_object_new ();
  JsonObject *meta = sc_expert_index_get_meta (idx);
  JsonObject *settings = meta ? get_object (meta, "selection") : NULL;
  if (settings != NULL)
    json_object_set_member (extra, "settings",
                            json_node_copy (json_object_get_member (meta, "selection")));
  AddEntry a = { "selections", "selection", text, len, extra, NULL };
  return add_entry (project, &a, name, error);
}

char *
sc_project_selection_path (ScProject *project, const char *name, GError **error)
{
  return entry_path (project, "selections", name, error);
}

ScExpertIndex *
sc_project_load_selection (ScProject *project, const char *name, int n_moe_layers,
                           int n_encoder_moe, int n_experts, GError **error)
{
  g_autofree char *path = entry_path (project, "selections", name, error);
  if (path == NULL)
    return NULL;
  return sc_expert_index_load (path, n_moe_layers, n_encoder_moe, n_experts, error);
}

gboolean
sc_project_add_evaluation (ScProject *project, JsonNode *report, char **name, GError **error)
{
  gsize len = 0;
  g_autofree char *text = sc_json_to_data (report, TRUE, &len, error);
  if (text == NULL)
    return FALSE;
  /* the directions the report scored, when it lists them */
  g_autoptr (JsonObject) extra = json_object_new ();
  JsonArray *dirs = JSON_NODE_HOLDS_OBJECT (report)
                        ? get_array (json_node_get_object (report), "directions")
                        : NULL;
  JsonArray *served = json_array_new ();
  for (guint i = 0; dirs != NULL && i < json_array_get_length (dirs); i++)
    {
      JsonNode *dn = json_array_get_element (dirs, i);
      const char *d =
          JSON_NODE_HOLDS_OBJECT (dn) ? get_string (json_node_get_object (dn), "direction") : NULL;
      if (d != NULL && strchr (d, '-') != NULL && sc_expert_index_key_valid (d))
        json_array_add_string_element (served, d);
    }
  json_object_set_array_member (extra, "directions", served);
  AddEntry a = { "evaluations", "evaluation", text, len, extra, NULL };
  return add_entry (project, &a, name, error);
}

/* ---- exports -------------------------------------------------------------- */

typedef struct
{
  const char *folder;
  const char *const *directions;
  JsonObject *settings;
} AddExport;

static gboolean
add_export_edit (ScProject *project, JsonObject *root, gpointer data, GError **error)
{
  AddExport *x = data;
  JsonArray *list = get_array (root, "exports");
  if (list == NULL)
    {
      json_object_set_array_member (root, "exports", json_array_new ());
      list = get_array (root, "exports");
    }
  JsonObject *e = json_object_new ();
  g_autofree char *folder = absolute (x->folder);
  g_autofree char *now = now_iso8601 ();
  json_object_set_string_member (e, "folder", folder);
  json_object_set_string_member (e, "created", now);
  JsonArray *dirs = json_array_new ();
  for (const char *const *d = x->directions; d && *d; d++)
    json_array_add_string_element (dirs, *d);
  json_object_set_array_member (e, "directions", dirs);
  if (x->settings != NULL)
    {
      JsonNode *n = json_node_new (JSON_NODE_OBJECT);
      json_node_set_object (n, x->settings);
      json_object_set_member (e, "settings", json_node_copy (n));
      json_node_unref (n);
    }
  json_array_add_object_element (list, e);
  return TRUE;
}

gboolean
sc_project_add_export (ScProject *project, const char *folder, const char *const *directions,
                       JsonObject *settings, GError **error)
{
  AddExport x = { folder, directions, settings };
  return edit_document (project, add_export_edit, &x, error);
}

JsonArray *
sc_project_get_exports (ScProject *project)
{
  JsonArray *a = get_array (json_node_get_object (project->doc), "exports");
  if (a == NULL)
    return json_array_new ();
  JsonNode *n = json_node_new (JSON_NODE_ARRAY);
  json_node_set_array (n, a);
  JsonNode *copy = json_node_copy (n);
  json_node_unref (n);
  JsonArray *out = json_array_ref (json_node_get_array (copy));
  json_node_unref (copy);
  return out;
}

/* ---- sweeps --------------------------------------------------------------- */

gboolean
sc_project_add_sweep (ScProject *project, const ScSweepJobResult *sweep, char **name,
                      GError **error)
{
  gsize len = 0;
  g_autofree char *text = sc_sweep_record_to_data (sweep, &len, error);
  if (text == NULL)
    return FALSE;
  AddEntry a = { "sweeps", "sweep", text, len, NULL, NULL };
  return add_entry (project, &a, name, error);
}

GPtrArray *
sc_project_load_sweeps (ScProject *project, GError **error)
{
  g_autoptr (GPtrArray) out =
      g_ptr_array_new_with_free_func ((GDestroyNotify) sc_sweep_job_result_free);
  JsonArray *a = get_array (json_node_get_object (project->doc), "sweeps");
  for (guint i = 0; a != NULL && i < json_array_get_length (a); i++)
    {
      const char *name = get_string (json_array_get_object_element (a, i), "name");
      g_autofree char *path = g_strdup_printf ("%s/sweeps/%s.json", project->dir, name);
      ScSweepJobResult *r = sc_sweep_record_load (path, error);
      if (r == NULL)
        return NULL;
      g_ptr_array_add (out, r);
    }
  return g_steal_pointer (&out);
}

/* ---- the application's settings ------------------------------------------- */

typedef struct
{
  const ScPruneSettings *s;
  const char *const *directions;
} SetPrune;

static gboolean
set_prune_edit (ScProject *project, JsonObject *root, gpointer data, GError **error)
{
  SetPrune *sp = data;
  JsonObject *p = json_object_new ();
  json_object_set_double_member (p, "ratio", sp->s->ratio);
  json_object_set_string_member (p, "metric", sc_expert_metric_to_string (sp->s->metric));
  json_object_set_string_member (p, "algorithm", sc_select_algo_name (sp->s->algo));
  json_object_set_string_member (p, "granularity", sc_granularity_name (sp->s->granularity));
  json_object_set_int_member (p, "encoder_weight", sp->s->enc_weight);
  json_object_set_int_member (p, "decoder_weight", sp->s->dec_weight);
  if (sp->directions != NULL)
    {
      JsonArray *dirs = json_array_new ();
      for (const char *const *d = sp->directions; *d; d++)
        json_array_add_string_element (dirs, *d);
      json_object_set_array_member (p, "directions", dirs);
    }
  json_object_set_object_member (root, "prune", p);
  return TRUE;
}

gboolean
sc_project_set_prune (ScProject *project, const ScPruneSettings *settings,
                      const char *const *directions, GError **error)
{
  SetPrune sp = { settings, directions };
  return edit_document (project, set_prune_edit, &sp, error);
}

gboolean
sc_project_get_prune (ScProject *project, ScPruneSettings *settings, char ***directions)
{
  JsonObject *p = get_object (json_node_get_object (project->doc), "prune");
  const char *why = NULL;
  if (p == NULL || !parse_prune (p, settings, &why))
    {
      sc_prune_settings_init (settings);
      if (directions != NULL)
        *directions = NULL;
      return FALSE;
    }
  if (directions != NULL)
    {
      JsonArray *a = get_array (p, "directions");
      g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
      for (guint i = 0; a != NULL && i < json_array_get_length (a); i++)
        g_strv_builder_add (b, json_array_get_string_element (a, i));
      *directions = a != NULL ? g_strv_builder_end (b) : NULL;
    }
  return TRUE;
}
