/* sc-test-util.h: helpers shared by the tests: locating fixtures and goldens,
 * reading JSON goldens. */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <stdlib.h>
#include <string.h>

/* SC_SRCDIR/rel, or NULL-free path even when absent. */
static inline char *
sc_test_path (const char *rel)
{
  const char *root = g_getenv ("SC_SRCDIR");
  return g_build_filename (root ? root : SC_SRCDIR, rel, NULL);
}

/* Parses a JSON file; fails the test when it cannot. */
static inline JsonNode *
sc_test_load_json (const char *path)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

/* A JSON array of integers as a GArray of int. */
static inline GArray *
sc_test_int_array (JsonArray *arr)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (int));
  for (guint i = 0; i < json_array_get_length (arr); i++) {
    int v = (int) json_array_get_int_element (arr, i);
    g_array_append_val (out, v);
  }
  return out;
}

/* A JSON array of arrays of integers, flattened into a GArray of int;
 * rows and cols receive the shape (rows must be of equal length). */
static inline GArray *
sc_test_int_matrix (JsonArray *arr, int *rows, int *cols)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (int));
  *rows = json_array_get_length (arr);
  *cols = 0;
  for (int r = 0; r < *rows; r++) {
    JsonArray *row = json_array_get_array_element (arr, r);
    int n = json_array_get_length (row);
    if (r == 0)
      *cols = n;
    g_assert_cmpint (n, ==, *cols);
    for (int c = 0; c < n; c++) {
      int v = (int) json_array_get_int_element (row, c);
      g_array_append_val (out, v);
    }
  }
  return out;
}

/* Removes a directory tree made by a test. */
static inline void
sc_test_rm_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL) {
    g_autofree char *child = g_build_filename (path, name, NULL);
    if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
      sc_test_rm_tree (child);
    else
      g_unlink (child);
  }
  g_rmdir (path);
}

/* Copies the regular files of `src` named in `only` (NULL-terminated; NULL:
 * all of them) into `dst`. */
static inline void
sc_test_copy_files (const char *src, const char *dst, const char *const *only)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) dir = g_dir_open (src, 0, &error);
  g_assert_no_error (error);
  const char *file;
  while ((file = g_dir_read_name (dir)) != NULL)
    {
      if (only != NULL && !g_strv_contains (only, file))
        continue;
      g_autofree char *from = g_build_filename (src, file, NULL);
      g_autofree char *to = g_build_filename (dst, file, NULL);
      g_autofree char *data = NULL;
      gsize len;
      if (!g_file_test (from, G_FILE_TEST_IS_REGULAR))
        continue;
      g_file_get_contents (from, &data, &len, &error);
      g_assert_no_error (error);
      g_file_set_contents (to, data, len, &error);
      g_assert_no_error (error);
    }
}

/* The tokenizer and config files of a model directory, without weights. */
static const char *const sc_test_model_meta[] = { "config.json", "sentencepiece.bpe.model",
                                                  "tokenizer_config.json", NULL };

#include "sc-safetensors.h"

/* Sets element `index` of the f32 tensor `name` in `dir`/model.safetensors
 * to `value` (NaN, infinity: a broken model for error tests). */
static inline void
sc_test_poison_tensor (const char *dir, const char *name, gint64 index, float value)
{
  g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  ScSafetensors *st = sc_safetensors_open (path, &error);
  g_assert_no_error (error);
  GPtrArray *all = sc_safetensors_tensors (st);
  g_autoptr (GPtrArray) out = g_ptr_array_new ();
  ScTensor copy = { 0 };
  g_autofree float *data = NULL;
  for (guint i = 0; i < all->len; i++)
    {
      ScTensor *t = g_ptr_array_index (all, i);
      if (g_str_equal (t->name, name))
        {
          g_assert_cmpint (t->dtype, ==, SC_DTYPE_F32);
          g_assert_cmpint (index, <, sc_tensor_numel (t));
          copy = *t;
          data = g_memdup2 (t->data, t->nbytes);
          data[index] = value;
          copy.data = data;
          t = &copy;
        }
      g_ptr_array_add (out, t);
    }
  g_assert_nonnull (data);
  g_autofree char *tmp = g_build_filename (dir, "poisoned.tmp", NULL);
  sc_safetensors_write (tmp, (ScTensor *const *) out->pdata, out->len, &error);
  g_assert_no_error (error);
  sc_safetensors_free (st);
  g_assert_cmpint (g_rename (tmp, path), ==, 0);
}

/* How many times the process maps `path` (mappings that start at its
 * first byte), from /proc/self/maps; -1 without /proc. */
static inline int
sc_test_count_mappings (const char *path)
{
  g_autofree char *maps = NULL;
  g_autofree char *real = realpath (path, NULL);
  if (real == NULL || !g_file_get_contents ("/proc/self/maps", &maps, NULL, NULL))
    return -1;
  g_auto (GStrv) lines = g_strsplit (maps, "\n", -1);
  int n = 0;
  for (guint i = 0; lines[i] != NULL; i++)
    {
      /* address perms offset dev inode path */
      g_auto (GStrv) f = g_strsplit_set (lines[i], " ", -1);
      guint k = 0, field = 0;
      const char *offset = NULL, *file = NULL;
      for (; f[k] != NULL; k++)
        {
          if (f[k][0] == '\0')
            continue;
          if (field == 2)
            offset = f[k];
          if (field == 5)
            file = f[k];
          field++;
        }
      n += file != NULL && offset != NULL && g_str_equal (file, real) &&
           g_ascii_strtoull (offset, NULL, 16) == 0;
    }
  return n;
}

/* The peak resident set (VmHWM of /proc/self/status), or NULL. */
static inline char *
sc_test_peak_rss (void)
{
  g_autofree char *status = NULL;
  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return NULL;
  const char *line = strstr (status, "VmHWM:");
  if (line == NULL)
    return NULL;
  line += strlen ("VmHWM:");
  return g_strstrip (g_strndup (line, strcspn (line, "\n")));
}
