/* sc-model-fingerprint.c: what identifies a model folder's contents without
 * reading its weights. See sc-model-fingerprint.h. */
#include "sc-model-fingerprint.h"

#include "sc-json-file.h"
#include "sc-tensor.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#define MAX_HEADER_BYTES 100000000u /* a safetensors header, as the reader allows */

static gboolean
is_weight_file (const char *name)
{
  return g_str_has_suffix (name, ".safetensors") ||
         (g_str_has_prefix (name, "pytorch_model") && g_str_has_suffix (name, ".bin"));
}

static int
cmp_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Feeds a safetensors file's header (length and JSON) into `sum`. */
static gboolean
hash_safetensors_header (GChecksum *sum, const char *path, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileInputStream) in = g_file_read (file, NULL, error);
  if (in == NULL)
    return FALSE;
  g_autoptr (GFileInfo) info =
      g_file_input_stream_query_info (in, G_FILE_ATTRIBUTE_STANDARD_SIZE, NULL, error);
  if (info == NULL)
    return FALSE;
  guint64 size = (guint64) g_file_info_get_size (info);
  guint8 len_le[8];
  gsize got = 0;
  if (!g_input_stream_read_all (G_INPUT_STREAM (in), len_le, 8, &got, NULL, error))
    return FALSE;
  guint64 header_len = 0;
  for (int i = 0; i < 8 && got == 8; i++)
    header_len |= (guint64) len_le[i] << (8 * i);
  if (got != 8 || header_len > size - 8 || header_len > MAX_HEADER_BYTES)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                   "%s: not a safetensors file (header length beyond the file)", path);
      return FALSE;
    }
  g_autofree guint8 *header = g_malloc (header_len + 1);
  if (!g_input_stream_read_all (G_INPUT_STREAM (in), header, header_len, &got, NULL, error))
    return FALSE;
  if (got != header_len)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "%s: file truncated in its header", path);
      return FALSE;
    }
  g_checksum_update (sum, len_le, 8);
  g_checksum_update (sum, header, header_len);
  return TRUE;
}

char *
sc_model_fingerprint (const char *model_dir, GError **error)
{
  g_autofree char *config_path = g_build_filename (model_dir, "config.json", NULL);
  g_autofree char *config = NULL;
  gsize len = 0;
  if (!sc_file_read_small (config_path, SC_JSON_CONFIG_MAX_BYTES, &config, &len, error))
    return NULL;
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (sum, (const guchar *) config, len);

  g_autoptr (GDir) d = g_dir_open (model_dir, 0, error);
  if (d == NULL)
    return NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    if (is_weight_file (name))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, cmp_str);
  for (guint i = 0; i < names->len; i++)
    {
      const char *n = names->pdata[i];
      g_autofree char *path = g_build_filename (model_dir, n, NULL);
      g_checksum_update (sum, (const guchar *) n, strlen (n) + 1);
      if (g_str_has_suffix (n, ".safetensors"))
        {
          if (!hash_safetensors_header (sum, path, error))
            return NULL;
        }
      else
        {
          /* a zip's tensor list sits at its end; its size changes with it */
          GStatBuf st;
          if (g_stat (path, &st) != 0)
            {
              int errsv = errno;
              g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), "%s: %s", path,
                           g_strerror (errsv));
              return NULL;
            }
          g_autofree char *s = g_strdup_printf ("%" G_GUINT64_FORMAT, (guint64) st.st_size);
          g_checksum_update (sum, (const guchar *) s, strlen (s) + 1);
        }
    }
  return g_strconcat ("sha256:", g_checksum_get_string (sum), NULL);
}
