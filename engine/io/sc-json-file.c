/* sc-json-file.c: guarded reading of small files and JSON documents.
 *
 * The file is opened non-blocking and checked with fstat on the open
 * descriptor, so a FIFO never blocks the open, a symlink is judged by what
 * it points to, and the check and the read see the same file. */
#include "sc-json-file.h"
#include "sc-io-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *
sc_file_kind (guint mode)
{
  if (S_ISDIR (mode))
    return "a directory";
  if (S_ISFIFO (mode))
    return "a FIFO";
  if (S_ISCHR (mode))
    return "a character device";
  if (S_ISBLK (mode))
    return "a block device";
  if (S_ISSOCK (mode))
    return "a socket";
  return "a special file";
}

static void
set_too_large (const char *path, guint64 size, guint64 max_bytes, GError **error)
{
  /* exact bytes: a file just over the limit must not read as equal to it */
  g_autofree char *limit = max_bytes % (1u << 20) == 0
                               ? g_strdup_printf ("%" G_GUINT64_FORMAT " MiB", max_bytes >> 20)
                               : g_strdup_printf ("%" G_GUINT64_FORMAT " bytes", max_bytes);
  g_set_error (error, SC_ERROR, SC_ERROR_IO,
               "%s is too large (%" G_GUINT64_FORMAT " bytes; the limit is %s)", path, size, limit);
}

int
sc_open_regular (const char *path, guint64 *size, GError **error)
{
  struct stat sb;
  int fd = g_open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0);
  if (fd < 0)
    {
      int e = errno;
      g_set_error (error, SC_ERROR, SC_ERROR_IO, "cannot read %s: %s", path, g_strerror (e));
      return -1;
    }
  if (fstat (fd, &sb) != 0)
    {
      int e = errno;
      g_set_error (error, SC_ERROR, SC_ERROR_IO, "cannot read %s: %s", path, g_strerror (e));
      close (fd);
      return -1;
    }
  if (!S_ISREG (sb.st_mode))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_IO, "%s is %s, not a regular file", path,
                   sc_file_kind (sb.st_mode));
      close (fd);
      return -1;
    }
  if (size)
    *size = (guint64) sb.st_size;
  return fd;
}

GMappedFile *
sc_map_regular (const char *path, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  int fd = sc_open_regular (path, NULL, error);
  if (fd < 0)
    return NULL;
  GMappedFile *map = g_mapped_file_new_from_fd (fd, FALSE, &local_error);
  close (fd);
  if (map == NULL)
    g_set_error (error, SC_ERROR, SC_ERROR_IO, "%s", local_error->message);
  return map;
}

gboolean
sc_file_read_small (const char *path, guint64 max_bytes, char **contents, gsize *length,
                    GError **error)
{
  guint64 size = 0;
  int fd;

  g_return_val_if_fail (path != NULL && contents != NULL, FALSE);
  *contents = NULL;
  if (length)
    *length = 0;
  max_bytes = MIN (max_bytes, (guint64) G_MAXSSIZE - 1);

  fd = sc_open_regular (path, &size, error);
  if (fd < 0)
    return FALSE;
  if (size > max_bytes)
    {
      set_too_large (path, size, max_bytes, error);
      close (fd);
      return FALSE;
    }

  /* The file may change under us: never read past the limit. */
  gsize cap = (gsize) size + 1, len = 0;
  char *buf = g_malloc (cap + 1);
  for (;;)
    {
      if (len == cap)
        {
          if ((guint64) len > max_bytes)
            break;
          cap = (gsize) MIN ((guint64) cap * 2, max_bytes + 1);
          buf = g_realloc (buf, cap + 1);
        }
      ssize_t n = read (fd, buf + len, cap - len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int e = errno;
          g_set_error (error, SC_ERROR, SC_ERROR_IO, "cannot read %s: %s", path, g_strerror (e));
          g_free (buf);
          close (fd);
          return FALSE;
        }
      if (n == 0)
        break;
      len += (gsize) n;
    }
  close (fd);
  if ((guint64) len > max_bytes)
    {
      set_too_large (path, len, max_bytes, error);
      g_free (buf);
      return FALSE;
    }
  buf[len] = '\0';
  *contents = buf;
  if (length)
    *length = len;
  return TRUE;
}

JsonNode *
sc_json_parse (const char *data, gssize length, const char *what, GError **error)
{
  /* mutable: callers such as the export edit the tree they read */
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local = NULL;

  if (length < 0)
    length = (gssize) strlen (data);
  gsize end = 0;
  if (!sc_json_depth_ok (data, (gsize) length, SC_JSON_MAX_DEPTH, &end))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                   "%s is nested too deeply (more than %d levels)", what, SC_JSON_MAX_DEPTH);
      return NULL;
    }
  if (!json_parser_load_from_data (parser, data, length, &local))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "%s is not valid JSON: %s", what,
                   local->message);
      return NULL;
    }
  /* json-glib 1.6 reads "{}{}" or "[][1]" as one document and keeps the
   * first; Python's json, and so Hugging Face, refuses them. */
  while (end < (gsize) length && g_ascii_isspace (data[end]))
    end++;
  if (end < (gsize) length)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                   "%s is not valid JSON: more than one value at the top level", what);
      return NULL;
    }
  JsonNode *root = json_parser_steal_root (parser);
  if (root == NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "%s is empty, not JSON", what);
      return NULL;
    }
  return root;
}

JsonNode *
sc_json_file_load (const char *path, guint64 max_bytes, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;

  if (!sc_file_read_small (path, max_bytes, &data, &len, error))
    return NULL;
  return sc_json_parse (data, (gssize) len, path, error);
}
