/* sc-file-lock.c: flock(2) on PATH.lock. See sc-file-lock.h. */
#include "sc-file-lock.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct _ScFileLock
{
  char *lock_path;
  int fd;
};

static int
flock_retry (int fd, int op)
{
  int r;
  while ((r = flock (fd, op)) != 0 && errno == EINTR)
    ;
  return r;
}

ScFileLock *
sc_file_lock_acquire (const char *path, ScFileLockWaitFunc waiting, gpointer user_data,
                      GError **error)
{
  g_autofree char *lock_path = g_strconcat (path, ".lock", NULL);
  gboolean told = FALSE;
  for (;;)
    {
      int fd = g_open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      if (fd < 0)
        {
          int err = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
                       "Cannot create the lock file %s: %s", lock_path, g_strerror (err));
          return NULL;
        }
      int r = flock_retry (fd, LOCK_EX | LOCK_NB);
      if (r != 0 && errno == EWOULDBLOCK)
        {
          if (!told && waiting != NULL)
            waiting (path, user_data);
          told = TRUE;
          r = flock_retry (fd, LOCK_EX);
        }
      if (r != 0)
        {
          int err = errno;
          close (fd);
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), "Cannot lock %s: %s",
                       lock_path, g_strerror (err));
          return NULL;
        }
      /* The previous holder removes the file before it lets go: a lock on
       * a removed file guards nothing, so start again on the current one. */
      struct stat held, now;
      if (fstat (fd, &held) == 0 && stat (lock_path, &now) == 0 && held.st_dev == now.st_dev &&
          held.st_ino == now.st_ino)
        {
          ScFileLock *lock = g_new0 (ScFileLock, 1);
          lock->lock_path = g_steal_pointer (&lock_path);
          lock->fd = fd;
          return lock;
        }
      close (fd);
    }
}

void
sc_file_lock_release (ScFileLock *lock)
{
  if (lock == NULL)
    return;
  g_unlink (lock->lock_path);
  close (lock->fd);
  g_free (lock->lock_path);
  g_free (lock);
}
