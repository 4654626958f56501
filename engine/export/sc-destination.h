/* sc-destination.h: the folder an export writes, and the rules that keep an
 * export from destroying the user's files.
 *
 * A destination path is normalised (trailing slashes, "." and "..", made
 * absolute) and compared by real path (symbolic links resolved) with the
 * folders being read, the sources: it may not be one of them, lie inside one
 * or contain one, whatever the flags. An existing destination is replaced
 * only with force, and then only when Secateur wrote it (the
 * SC_DESTINATION_KEY record in its config.json) or it is an empty folder.
 *
 * The new folder is built under a hidden sibling name
 * (".NAME.partial-XXXXXX", created with the umask's permissions) and put in
 * place by one rename that fails if the destination appeared meanwhile, or,
 * to replace an earlier export, by an atomic exchange with it: the old export
 * is removed only once the new one is in place. Leftovers of a run that was
 * killed (".NAME.partial-*", ".NAME.old-*") are recovered on the next run,
 * which says so through its note function; a leftover still held by a
 * running export is left alone.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The config.json key that marks a folder as a Secateur export. */
#define SC_DESTINATION_KEY     "secateur_export"
#define SC_DESTINATION_VERSION 1

/* Receives what was done about leftovers of an earlier run. */
typedef void (*ScDestinationNoteFunc) (const char *message, gpointer data);

typedef struct _ScDestination ScDestination;

/* `path` made absolute, without trailing slashes, "." or "..". */
char          *sc_destination_normalise     (const char *path);

/* Refuses `path` when it is one of `sources` (NULL-terminated folders being
 * read), lies inside one or contains one, compared by real path. */
gboolean       sc_destination_check_sources (const char *path, const char *const *sources,
                                             GError **error);

/* sc_destination_check_sources, and an existing `path` is refused unless
 * `force` and it is an earlier export or an empty folder. */
gboolean       sc_destination_check         (const char *path, const char *const *sources,
                                             gboolean force, GError **error);

/* TRUE when `dir`'s config.json holds the SC_DESTINATION_KEY record. */
gboolean       sc_destination_is_export     (const char *dir);

/* The record to store in an export's config.json under SC_DESTINATION_KEY. */
JsonObject    *sc_destination_record_new    (void);

/* Checks as sc_destination_check, recovers leftovers of an earlier run
 * beside `path` (reported to `note`; NULL: g_message) and creates the
 * staging folder to write into. */
ScDestination *sc_destination_begin         (const char *path, const char *const *sources,
                                             gboolean force, ScDestinationNoteFunc note,
                                             gpointer note_data, GError **error);
const char    *sc_destination_get_staging   (ScDestination *dest);

/* Puts the staging folder in place: refused when the destination appeared
 * since sc_destination_begin, or, when replacing, is no longer an export. */
gboolean       sc_destination_commit        (ScDestination *dest, GError **error);

/* Removes the staging folder unless committed. */
void           sc_destination_free          (ScDestination *dest);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScDestination, sc_destination_free)

G_END_DECLS
