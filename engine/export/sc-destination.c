/* sc-destination.c: export folders that never replace what they must not. */
#include "sc-destination.h"

#include "sc-config.h"
#include "sc-destination-private.h"
#include "sc-export.h"
#include "sc-json-file.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct _ScDestination
{
  char *path;       /* normalised */
  char *staging;    /* the hidden sibling written into */
  int staging_fd;   /* holds the lock that tells other runs it is in use */
  gboolean replace; /* an earlier export is to be replaced */
  gboolean committed;
};

static gboolean plain_rename; /* tests: behave as where renameat2 is missing */

void
sc_destination_set_plain_rename (gboolean plain)
{
  plain_rename = plain;
}

char *
sc_destination_normalise (const char *path)
{
  char *norm = g_canonicalize_filename (path, NULL);
  /* GLib keeps a leading "//" (POSIX leaves its meaning open; Linux does not) */
  gsize extra = strspn (norm, "/") - 1;
  if (extra > 0)
    memmove (norm, norm + extra, strlen (norm + extra) + 1);
  return norm;
}

static gboolean
is_within (const char *child, const char *ancestor)
{
  gsize n = strlen (ancestor);
  if (g_str_equal (ancestor, "/"))
    return TRUE;
  return strncmp (child, ancestor, n) == 0 && (child[n] == '\0' || child[n] == '/');
}

/* The real path of a normalised path whose last components may not exist
 * yet: the longest existing prefix resolved, the rest appended (missing
 * components cannot be symbolic links). */
static char *
real_path (const char *norm)
{
  g_autofree char *head = g_strdup (norm);
  g_autofree char *tail = NULL;
  for (;;)
    {
      char *r = realpath (head, NULL);
      if (r != NULL)
        {
          char *out = tail ? g_build_filename (r, tail, NULL) : g_strdup (r);
          free (r);
          return out;
        }
      if (g_str_equal (head, "/"))
        return g_strdup (norm);
      g_autofree char *base = g_path_get_basename (head);
      char *t = tail ? g_build_filename (base, tail, NULL) : g_strdup (base);
      g_free (tail);
      tail = t;
      char *up = g_path_get_dirname (head);
      g_free (head);
      head = up;
    }
}

/* Every folder a source reads: the folder itself and, for the files in it
 * that are symbolic links (a Hugging Face cache snapshot), where they lead. */
static GPtrArray *
resolve_sources (const char *const *sources, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; sources != NULL && sources[i] != NULL; i++)
    {
      char *r = realpath (sources[i], NULL);
      if (r == NULL && errno == ENOENT)
        continue; /* nothing there to protect; reading it fails on its own */
      if (r == NULL)
        {
          int err = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), "cannot resolve %s: %s",
                       sources[i], g_strerror (err));
          return NULL;
        }
      g_ptr_array_add (out, g_strdup (r));
      free (r);
      g_autoptr (GDir) dir = g_dir_open (sources[i], 0, NULL);
      const char *name;
      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (sources[i], name, NULL);
          struct stat st;
          if (lstat (child, &st) != 0 || !S_ISLNK (st.st_mode) ||
              (r = realpath (child, NULL)) == NULL)
            continue;
          gboolean is_dir = g_file_test (r, G_FILE_TEST_IS_DIR);
          g_ptr_array_add (out, is_dir ? g_strdup (r) : g_path_get_dirname (r));
          free (r);
        }
    }
  return g_steal_pointer (&out);
}

static gboolean
check_real (const char *shown, const char *real, GPtrArray *sources, GError **error)
{
  for (guint i = 0; i < sources->len; i++)
    {
      const char *s = sources->pdata[i];
      const char *why = g_str_equal (real, s) ? "is"
                        : is_within (real, s) ? "is inside"
                        : is_within (s, real) ? "contains"
                                              : NULL;
      if (why != NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "refusing to write %s: it %s the model folder being read (%s); choose "
                       "another folder",
                       shown, why, s);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
check_sources_norm (const char *norm, const char *const *sources, GError **error)
{
  if (g_str_equal (norm, "/"))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "an export cannot replace the root folder");
      return FALSE;
    }
  g_autoptr (GPtrArray) real_sources = resolve_sources (sources, error);
  if (real_sources == NULL)
    return FALSE;
  /* Where the name is, and where it leads when it is a symbolic link. */
  g_autofree char *parent = g_path_get_dirname (norm);
  g_autofree char *base = g_path_get_basename (norm);
  g_autofree char *real_parent = real_path (parent);
  g_autofree char *here = g_build_filename (real_parent, base, NULL);
  g_autofree char *there = real_path (norm);
  return check_real (norm, here, real_sources, error) &&
         check_real (norm, there, real_sources, error);
}

gboolean
sc_destination_check_sources (const char *path, const char *const *sources, GError **error)
{
  g_autofree char *norm = sc_destination_normalise (path);
  return check_sources_norm (norm, sources, error);
}

gboolean
sc_destination_is_export (const char *dir)
{
  g_autofree char *config = g_build_filename (dir, "config.json", NULL);
  /* the folder to replace may hold anything, a FIFO or a huge file too */
  g_autoptr (JsonNode) root = sc_json_file_load (config, SC_JSON_CONFIG_MAX_BYTES, NULL);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return FALSE;
  JsonObject *obj = json_node_get_object (root);
  JsonNode *rec = json_object_get_member (obj, SC_DESTINATION_KEY);
  if (rec != NULL)
    return JSON_NODE_HOLDS_OBJECT (rec);
  /* Exports written before the record existed carry one of these keys,
   * which only Secateur writes. */
  return json_object_has_member (obj, SC_CONFIG_KEPT_KEY) ||
         json_object_has_member (obj, SC_EXPORT_SPARSITY_KEY);
}

JsonObject *
sc_destination_record_new (void)
{
  JsonObject *rec = json_object_new ();
  json_object_set_int_member (rec, "version", SC_DESTINATION_VERSION);
  return rec;
}

static gboolean
is_empty_dir (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  return dir != NULL && g_dir_read_name (dir) == NULL;
}

/* Whether `norm` exists, and when it does, whether it may be replaced. */
static gboolean
check_existing (const char *norm, gboolean force, gboolean *exists, GError **error)
{
  struct stat st;
  *exists = FALSE;
  if (lstat (norm, &st) != 0)
    {
      int err = errno;
      if (err == ENOENT)
        return TRUE;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), "cannot look at %s: %s", norm,
                   g_strerror (err));
      return FALSE;
    }
  *exists = TRUE;
  if (!force)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                   "%s already exists (use --force to replace it)", norm);
      return FALSE;
    }
  if (S_ISLNK (st.st_mode))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                   "%s already exists and is a symbolic link; it is left alone", norm);
      return FALSE;
    }
  if (!S_ISDIR (st.st_mode))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                   "%s already exists and is not a folder; it is left alone", norm);
      return FALSE;
    }
  if (!sc_destination_is_export (norm) && !is_empty_dir (norm))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                   "%s already exists and is not an earlier Secateur export (its config.json has "
                   "no \"%s\" record), so it is left alone: remove it yourself or choose another "
                   "folder",
                   norm, SC_DESTINATION_KEY);
      return FALSE;
    }
  return TRUE;
}

gboolean
sc_destination_check (const char *path, const char *const *sources, gboolean force, GError **error)
{
  g_autofree char *norm = sc_destination_normalise (path);
  gboolean exists;
  return check_sources_norm (norm, sources, error) && check_existing (norm, force, &exists, error);
}

/* Removes a tree without following symbolic links. */
static gboolean
rm_rf (const char *path)
{
  struct stat st;
  if (lstat (path, &st) != 0)
    return errno == ENOENT;
  if (S_ISDIR (st.st_mode))
    {
      g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;
      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          rm_rf (child);
        }
      return rmdir (path) == 0;
    }
  return unlink (path) == 0;
}

/* An open, exclusively locked folder, or -1 (EWOULDBLOCK: a running export
 * holds it). The lock goes with the process, so a killed run's leftovers
 * are free to take. */
static int
lock_dir (const char *path)
{
  int fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return -1;
  if (flock (fd, LOCK_EX | LOCK_NB) != 0)
    {
      int err = errno;
      close (fd);
      errno = err;
      return -1;
    }
  return fd;
}

/* rename() that fails with EEXIST when `to` exists. */
static int
rename_noreplace (const char *from, const char *to)
{
#ifdef RENAME_NOREPLACE
  if (!plain_rename)
    {
      int r = renameat2 (AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
      if (r == 0 || (errno != EINVAL && errno != ENOSYS))
        return r;
    }
#endif
  /* Without renameat2 (old kernels, some file systems): a folder renamed
   * onto a non-empty folder or a file fails anyway, onto an empty one loses
   * nothing; the check narrows that to an instant. */
  struct stat st;
  if (lstat (to, &st) == 0)
    {
      errno = EEXIST;
      return -1;
    }
  return rename (from, to);
}

/* Swaps two names atomically; -1 with ENOSYS where that is not possible. */
static int
rename_exchange (const char *a, const char *b)
{
#ifdef RENAME_EXCHANGE
  if (!plain_rename)
    {
      int r = renameat2 (AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE);
      if (r == 0 || (errno != EINVAL && errno != ENOSYS))
        return r;
    }
#endif
  errno = ENOSYS;
  return -1;
}

static void say (ScDestinationNoteFunc note, gpointer data, const char *format, ...)
    G_GNUC_PRINTF (3, 4);

static void
say (ScDestinationNoteFunc note, gpointer data, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  g_autofree char *msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  if (note != NULL)
    note (msg, data);
  else
    g_message ("%s", msg);
}

/* Leftovers of runs that were killed, beside `norm`: an earlier export moved
 * aside while it was being replaced goes back when nothing took its place
 * (and is removed when something did); unfinished exports are removed. */
static void
recover_leftovers (const char *norm, ScDestinationNoteFunc note, gpointer data)
{
  g_autofree char *parent = g_path_get_dirname (norm);
  g_autofree char *base = g_path_get_basename (norm);
  g_autofree char *partial = g_strdup_printf (".%s.partial-", base);
  g_autofree char *old = g_strdup_printf (".%s.old-", base);
  g_autoptr (GPtrArray) olds = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) partials = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GDir) dir = g_dir_open (parent, 0, NULL);
  const char *name;
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, old))
      g_ptr_array_add (olds, g_build_filename (parent, name, NULL));
    else if (g_str_has_prefix (name, partial))
      g_ptr_array_add (partials, g_build_filename (parent, name, NULL));
  g_ptr_array_sort (olds, (GCompareFunc) g_strcmp0);

  for (guint i = 0; i < olds->len + partials->len; i++)
    {
      gboolean is_old = i < olds->len;
      const char *path = is_old ? olds->pdata[i] : partials->pdata[i - olds->len];
      int fd = lock_dir (path);
      if (fd < 0)
        continue; /* in use by a running export, or not a folder */
      struct stat st;
      if (is_old && lstat (norm, &st) != 0 && errno == ENOENT && rename_noreplace (path, norm) == 0)
        say (note, data,
             "put %s back from %s, where an earlier run that was stopped while replacing it had "
             "moved it",
             norm, path);
      else if (is_old && !sc_destination_is_export (path) && !is_empty_dir (path))
        say (note, data, "left %s alone: it is not a Secateur export", path);
      else if (rm_rf (path))
        say (note, data,
             is_old ? "removed %s, the previous export that an earlier run had replaced"
                    : "removed %s, left unfinished by an earlier run that was stopped",
             path);
      close (fd);
    }
}

/* A new hidden folder beside `norm`, made with the umask's permissions and
 * locked. */
static char *
make_sibling (const char *norm, const char *kind, int *fd, GError **error)
{
  static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  g_autofree char *parent = g_path_get_dirname (norm);
  g_autofree char *base = g_path_get_basename (norm);
  int err = EEXIST;
  for (int tries = 0; tries < 100; tries++)
    {
      char suffix[7];
      for (int i = 0; i < 6; i++)
        suffix[i] = chars[g_random_int_range (0, sizeof chars - 1)];
      suffix[6] = '\0';
      g_autofree char *path = g_strdup_printf ("%s/.%s.%s-%s", parent, base, kind, suffix);
      if (mkdir (path, 0777) != 0)
        {
          err = errno;
          if (err == EEXIST)
            continue;
          break;
        }
      /* Another run's recovery may have taken it before the lock: again. */
      if ((*fd = lock_dir (path)) >= 0)
        return g_steal_pointer (&path);
      err = errno;
    }
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), "cannot create a folder in %s: %s",
               parent, g_strerror (err));
  return NULL;
}

ScDestination *
sc_destination_begin (const char *path, const char *const *sources, gboolean force,
                      ScDestinationNoteFunc note, gpointer note_data, GError **error)
{
  g_autofree char *norm = sc_destination_normalise (path);
  if (!check_sources_norm (norm, sources, error))
    return NULL;
  recover_leftovers (norm, note, note_data);
  gboolean exists;
  if (!check_existing (norm, force, &exists, error))
    return NULL;
  int fd = -1;
  char *staging = make_sibling (norm, "partial", &fd, error);
  if (staging == NULL)
    return NULL;
  ScDestination *dest = g_new0 (ScDestination, 1);
  dest->path = g_steal_pointer (&norm);
  dest->staging = staging;
  dest->staging_fd = fd;
  dest->replace = exists;
  return dest;
}

const char *
sc_destination_get_staging (ScDestination *dest)
{
  return dest->staging;
}

/* Where the folder cannot be exchanged: the earlier export moved aside, the
 * new one renamed in, the earlier one removed; put back if the second rename
 * fails. Both names stay locked throughout, so that no other run takes
 * either for a leftover. */
static gboolean
replace_in_two_steps (ScDestination *dest, GError **error)
{
  int old_fd = -1;
  g_autofree char *old = make_sibling (dest->path, "old", &old_fd, error);
  if (old == NULL)
    return FALSE;
  int fd = lock_dir (dest->path);
  gboolean ok = fd >= 0 && rename (dest->path, old) == 0;
  if (!ok)
    {
      int err = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), "cannot move %s aside: %s",
                   dest->path, g_strerror (err));
      rmdir (old);
    }
  else if (rename_noreplace (dest->staging, dest->path) != 0)
    {
      int err = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), "cannot rename %s to %s: %s",
                   dest->staging, dest->path, g_strerror (err));
      rename_noreplace (old, dest->path);
      ok = FALSE;
    }
  else
    {
      dest->committed = TRUE;
      rm_rf (old);
    }
  if (fd >= 0)
    close (fd);
  close (old_fd);
  return ok;
}

gboolean
sc_destination_commit (ScDestination *dest, GError **error)
{
  g_return_val_if_fail (!dest->committed, FALSE);
  if (dest->replace)
    {
      /* What is there now must still be an export (or empty) to go. */
      gboolean exists;
      if (!check_existing (dest->path, TRUE, &exists, error))
        return FALSE;
      if (exists)
        {
          if (rename_exchange (dest->staging, dest->path) == 0)
            {
              /* The earlier export is now under the staging name. */
              dest->committed = TRUE;
              rm_rf (dest->staging);
              return TRUE;
            }
          if (errno == ENOSYS)
            return replace_in_two_steps (dest, error);
          if (errno != ENOENT)
            {
              int err = errno;
              g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
                           "cannot put %s in place of %s: %s", dest->staging, dest->path,
                           g_strerror (err));
              return FALSE;
            }
        }
    }
  if (rename_noreplace (dest->staging, dest->path) != 0)
    {
      int err = errno;
      if (err == EEXIST || err == ENOTEMPTY || err == ENOTDIR)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                     "%s appeared while this export was being written (another export to the "
                     "same folder?); it was left alone and this export was not kept",
                     dest->path);
      else
        g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), "cannot rename %s to %s: %s",
                     dest->staging, dest->path, g_strerror (err));
      return FALSE;
    }
  dest->committed = TRUE;
  return TRUE;
}

void
sc_destination_free (ScDestination *dest)
{
  if (dest == NULL)
    return;
  if (!dest->committed)
    rm_rf (dest->staging);
  if (dest->staging_fd >= 0)
    close (dest->staging_fd);
  g_free (dest->path);
  g_free (dest->staging);
  g_free (dest);
}
