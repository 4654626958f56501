/* sc-checkpoint.c: a Hugging Face model directory's weights, by name.
 *
 * Which files hold the weights, in order of preference:
 *   model.safetensors.index.json  (weight_map: tensor name -> shard file)
 *   model.safetensors
 *   pytorch_model.bin.index.json
 *   pytorch_model.bin
 *   every *.safetensors file in the directory (no index)
 * With an index, every shard it names must exist and hold the tensors it
 * maps there; tensors a shard holds beyond the map are indexed too; a name
 * in two shards is an error. Files are mapped, never read up front.
 */
#include "sc-checkpoint.h"
#include "sc-safetensors.h"
#include "sc-torch-zip.h"
#include "sc-io-private.h"
#include "sc-json-file.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#define MAX_INDEX_BYTES (512u << 20)

typedef struct
{
  char *name; /* file name inside the directory */
  ScSafetensors *st;
  ScTorchZip *tz;
} CkFile;

struct _ScCheckpoint
{
  char *dir;
  ScCheckpointFormat format;
  GPtrArray *files;    /* CkFile* */
  GHashTable *by_name; /* name (borrowed) -> ScTensor* */
  GHashTable *file_of; /* name (borrowed) -> CkFile* */
  const char **names;  /* sorted, NULL-terminated, borrowed */
  ScCheckpointOpenFlags flags;
  GHashTable *missing; /* tensor names (owned) mapped to absent shards */
  guint n_names;
  guint64 file_bytes;
};

static void
ck_file_free (CkFile *f)
{
  sc_safetensors_free (f->st);
  sc_torch_zip_free (f->tz);
  g_free (f->name);
  g_free (f);
}

void
sc_checkpoint_free (ScCheckpoint *ckpt)
{
  if (ckpt == NULL)
    return;
  g_free (ckpt->names);
  g_clear_pointer (&ckpt->by_name, g_hash_table_unref);
  g_clear_pointer (&ckpt->file_of, g_hash_table_unref);
  g_clear_pointer (&ckpt->files, g_ptr_array_unref);
  g_clear_pointer (&ckpt->missing, g_hash_table_unref);
  g_free (ckpt->dir);
  g_free (ckpt);
}

/* A file name an index may use: a plain name inside the directory. */
static gboolean
is_plain_file_name (const char *name)
{
  return name[0] != '\0' && strcmp (name, ".") != 0 && strcmp (name, "..") != 0 &&
         strchr (name, '/') == NULL && strchr (name, '\\') == NULL;
}

static gboolean
add_file (ScCheckpoint *ckpt, const char *name, GError **error)
{
  g_autofree char *path = g_build_filename (ckpt->dir, name, NULL);
  GPtrArray *tensors;
  GStatBuf sb;
  CkFile *f;

  if (g_stat (path, &sb) != 0)
    {
      int e = errno;
      if (e == ENOENT)
        g_set_error (error, SC_ERROR, SC_ERROR_IO, "%s: weight file is missing", path);
      else
        g_set_error (error, SC_ERROR, SC_ERROR_IO, "%s: cannot stat: %s", path, g_strerror (e));
      return FALSE;
    }
  if (!S_ISREG (sb.st_mode))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_IO, "%s: weight file is %s, not a regular file", path,
                   sc_file_kind (sb.st_mode));
      return FALSE;
    }

  f = g_new0 (CkFile, 1);
  f->name = g_strdup (name);
  if (ckpt->format == SC_CHECKPOINT_SAFETENSORS)
    f->st = sc_safetensors_open (path, error);
  else
    f->tz = sc_torch_zip_open (path, error);
  if (f->st == NULL && f->tz == NULL)
    {
      ck_file_free (f);
      return FALSE;
    }
  g_ptr_array_add (ckpt->files, f);
  ckpt->file_bytes += (guint64) sb.st_size;

  tensors = f->st ? sc_safetensors_tensors (f->st) : sc_torch_zip_tensors (f->tz);
  for (guint i = 0; i < tensors->len; i++)
    {
      ScTensor *t = tensors->pdata[i];
      CkFile *other = g_hash_table_lookup (ckpt->file_of, t->name);

      if (other != NULL)
        {
          if (other == f)
            g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "%s: tensor “%s” appears twice", path,
                         t->name);
          else
            g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "%s: tensor “%s” is in both %s and %s",
                         ckpt->dir, t->name, other->name, f->name);
          return FALSE;
        }
      g_hash_table_insert (ckpt->by_name, t->name, t);
      g_hash_table_insert (ckpt->file_of, t->name, f);
    }
  return TRUE;
}

static int
cmp_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static gboolean
open_index (ScCheckpoint *ckpt, const char *index_name, GError **error)
{
  g_autofree char *path = g_build_filename (ckpt->dir, index_name, NULL);
  g_autofree char *text = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GPtrArray) files = NULL;
  g_autoptr (GHashTable) seen = NULL;
  g_autoptr (GHashTable) absent = NULL;
  JsonObject *map;
  JsonNode *node;
  JsonObjectIter iter;
  const char *name;
  gsize len = 0;

  if (!sc_file_read_small (path, MAX_INDEX_BYTES, &text, &len, error))
    return FALSE;
  if (!g_utf8_validate_len (text, len, NULL))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "%s: not valid UTF-8 JSON", path);
      return FALSE;
    }
  root = sc_json_parse (text, (gssize) len, path, error);
  if (root == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_OBJECT (root) ||
      (node = json_object_get_member (json_node_get_object (root), "weight_map")) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "%s: no “weight_map” object", path);
      return FALSE;
    }
  map = json_node_get_object (node);

  /* The shard files, each once, in name order. */
  files = g_ptr_array_new ();
  seen = g_hash_table_new (g_str_hash, g_str_equal);
  absent = g_hash_table_new (g_str_hash, g_str_equal);
  json_object_iter_init (&iter, map);
  while (json_object_iter_next (&iter, &name, &node))
    {
      const char *file;

      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                       "%s: weight_map entry for “%s” is not a file name", path, name);
          return FALSE;
        }
      file = json_node_get_string (node);
      if (!is_plain_file_name (file))
        {
          g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                       "%s: weight_map puts “%s” in “%s”, which is not a file in the directory",
                       path, name, file);
          return FALSE;
        }
      if (g_hash_table_add (seen, (gpointer) file))
        g_ptr_array_add (files, (gpointer) file);
    }
  g_ptr_array_sort (files, cmp_str);

  for (guint i = 0; i < files->len; i++)
    {
      g_autofree char *shard = g_build_filename (ckpt->dir, files->pdata[i], NULL);

      if (!g_file_test (shard, G_FILE_TEST_EXISTS) &&
          (ckpt->flags & SC_CHECKPOINT_OPEN_ALLOW_MISSING_SHARDS))
        {
          g_hash_table_add (absent, files->pdata[i]);
          continue;
        }
      if (!g_file_test (shard, G_FILE_TEST_EXISTS))
        {
          g_set_error (error, SC_ERROR, SC_ERROR_IO, "%s names shard “%s”, which does not exist",
                       path, (const char *) files->pdata[i]);
          return FALSE;
        }
      if (!add_file (ckpt, files->pdata[i], error))
        return FALSE;
    }

  /* Every mapped tensor is where the map says. */
  json_object_iter_init (&iter, map);
  while (json_object_iter_next (&iter, &name, &node))
    {
      const char *file = json_node_get_string (node);
      CkFile *f = g_hash_table_lookup (ckpt->file_of, name);

      if (g_hash_table_contains (absent, file))
        {
          g_hash_table_add (ckpt->missing, g_strdup (name));
          continue;
        }
      if (f == NULL)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_MISSING,
                       "%s maps tensor “%s” to %s, which does not contain it", path, name, file);
          return FALSE;
        }
      if (strcmp (f->name, file) != 0)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_MISSING,
                       "%s maps tensor “%s” to %s, but it is in %s", path, name, file, f->name);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
open_all_safetensors (ScCheckpoint *ckpt, gboolean *found, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GDir) d = g_dir_open (ckpt->dir, 0, &local_error);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  *found = FALSE;
  if (d == NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_IO, "%s", local_error->message);
      return FALSE;
    }
  while ((name = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (name, ".safetensors"))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, cmp_str);
  *found = names->len > 0;
  for (guint i = 0; i < names->len; i++)
    if (!add_file (ckpt, names->pdata[i], error))
      return FALSE;
  return TRUE;
}

static gboolean
has_file (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  return g_file_test (path, G_FILE_TEST_EXISTS);
}

ScCheckpoint *
sc_checkpoint_open (const char *dir, GError **error)
{
  return sc_checkpoint_open_with_flags (dir, SC_CHECKPOINT_OPEN_DEFAULT, error);
}

gboolean
sc_checkpoint_is_missing (ScCheckpoint *ckpt, const char *name)
{
  return g_hash_table_contains (ckpt->missing, name);
}

ScCheckpoint *
sc_checkpoint_open_with_flags (const char *dir, ScCheckpointOpenFlags flags, GError **error)
{
  g_autoptr (ScCheckpoint) ckpt = NULL;
  GHashTableIter it;
  gpointer key;
  gboolean ok, found = TRUE;
  guint n = 0;

  g_return_val_if_fail (dir != NULL, NULL);

  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_IO, "%s: not a directory", dir);
      return NULL;
    }

  ckpt = g_new0 (ScCheckpoint, 1);
  ckpt->dir = g_strdup (dir);
  ckpt->files = g_ptr_array_new_with_free_func ((GDestroyNotify) ck_file_free);
  ckpt->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  ckpt->file_of = g_hash_table_new (g_str_hash, g_str_equal);
  ckpt->flags = flags;
  ckpt->missing = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  if (has_file (dir, "model.safetensors.index.json"))
    {
      ckpt->format = SC_CHECKPOINT_SAFETENSORS;
      ok = open_index (ckpt, "model.safetensors.index.json", error);
    }
  else if (has_file (dir, "model.safetensors"))
    {
      ckpt->format = SC_CHECKPOINT_SAFETENSORS;
      ok = add_file (ckpt, "model.safetensors", error);
    }
  else if (has_file (dir, "pytorch_model.bin.index.json"))
    {
      ckpt->format = SC_CHECKPOINT_TORCH;
      ok = open_index (ckpt, "pytorch_model.bin.index.json", error);
    }
  else if (has_file (dir, "pytorch_model.bin"))
    {
      ckpt->format = SC_CHECKPOINT_TORCH;
      ok = add_file (ckpt, "pytorch_model.bin", error);
    }
  else
    {
      ckpt->format = SC_CHECKPOINT_SAFETENSORS;
      ok = open_all_safetensors (ckpt, &found, error);
    }
  if (!ok)
    return NULL;
  if (!found)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_IO,
                   "%s: no weights found (looked for model.safetensors[.index.json], "
                   "pytorch_model.bin[.index.json] and *.safetensors)",
                   dir);
      return NULL;
    }

  ckpt->n_names = g_hash_table_size (ckpt->by_name);
  ckpt->names = g_new0 (const char *, ckpt->n_names + 1);
  g_hash_table_iter_init (&it, ckpt->by_name);
  while (g_hash_table_iter_next (&it, &key, NULL))
    ckpt->names[n++] = key;
  qsort (ckpt->names, ckpt->n_names, sizeof (char *), cmp_str);

  return g_steal_pointer (&ckpt);
}

const ScTensor *
sc_checkpoint_get (ScCheckpoint *ckpt, const char *name)
{
  g_return_val_if_fail (ckpt != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);
  return g_hash_table_lookup (ckpt->by_name, name);
}

guint
sc_checkpoint_n_tensors (ScCheckpoint *ckpt)
{
  g_return_val_if_fail (ckpt != NULL, 0);
  return ckpt->n_names;
}

const char *const *
sc_checkpoint_names (ScCheckpoint *ckpt)
{
  g_return_val_if_fail (ckpt != NULL, NULL);
  return ckpt->names;
}

ScCheckpointFormat
sc_checkpoint_format (ScCheckpoint *ckpt)
{
  g_return_val_if_fail (ckpt != NULL, SC_CHECKPOINT_SAFETENSORS);
  return ckpt->format;
}

guint
sc_checkpoint_n_files (ScCheckpoint *ckpt)
{
  g_return_val_if_fail (ckpt != NULL, 0);
  return ckpt->files->len;
}

guint64
sc_checkpoint_file_bytes (ScCheckpoint *ckpt)
{
  g_return_val_if_fail (ckpt != NULL, 0);
  return ckpt->file_bytes;
}

const char *
sc_checkpoint_file_of (ScCheckpoint *ckpt, const char *name)
{
  CkFile *f;

  g_return_val_if_fail (ckpt != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);
  f = g_hash_table_lookup (ckpt->file_of, name);
  return f ? f->name : NULL;
}

const char *
sc_checkpoint_dir (ScCheckpoint *ckpt)
{
  g_return_val_if_fail (ckpt != NULL, NULL);
  return ckpt->dir;
}
