/* sc-file-lock.h: an exclusive advisory lock that writers of one file take
 * around a read-modify-write (two `calibrate --append` runs on the same
 * statistics file must add up, not overwrite each other).
 *
 * The lock is flock(2) on a sibling file, PATH.lock, since PATH itself is
 * replaced by a rename on every save. The holder removes PATH.lock when it
 * is done; whoever was waiting on the removed file notices and locks the
 * new one, so the lock file never outlives its use. Advisory: it orders
 * Secateur's own writers only. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _ScFileLock ScFileLock;

/* Called once, before blocking, when another process holds the lock. */
typedef void (*ScFileLockWaitFunc) (const char *path, gpointer user_data);

/* Blocks until this process holds the lock of `path` (the file need not
 * exist). NULL with an error when PATH.lock cannot be created. */
ScFileLock *sc_file_lock_acquire (const char *path, ScFileLockWaitFunc waiting,
                                  gpointer user_data, GError **error);
void        sc_file_lock_release (ScFileLock *lock);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScFileLock, sc_file_lock_release)

G_END_DECLS
