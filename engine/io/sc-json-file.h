/* sc-json-file.h: the one guarded way the program reads a small file from
 * a folder it does not own (a model's configs and share table, an expert
 * index or keep file, the config.json of a folder an export would replace)
 * and any JSON document it did not write itself. Text inputs (corpora,
 * sentences to translate or score) are read as they come: they may be
 * large, or a pipe.
 *
 * A file is read only when it is a regular file (a FIFO, device, socket or
 * directory is refused without blocking, also behind a symlink) and no
 * larger than a limit the caller states; JSON is refused when it nests
 * deeper than SC_JSON_MAX_DEPTH before json-glib, whose parser recurses,
 * sees it. Errors are SC_ERROR_IO (file) or SC_ERROR_FORMAT (contents).
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Deeper than any Hugging Face config, index or tokenizer file nests, and
 * far below what overflows json-glib's recursive parser. */
#define SC_JSON_MAX_DEPTH 32

/* Size limits of the files read whole. */
#define SC_JSON_CONFIG_MAX_BYTES (16u << 20)  /* configs, keep files, share tables */
#define SC_JSON_INDEX_MAX_BYTES  (64u << 20)  /* expert indexes */

/* Reads `path` whole into a NUL-terminated buffer (free with g_free);
 * errors name the path and, for size, the limit. */
gboolean  sc_file_read_small (const char *path, guint64 max_bytes, char **contents,
                              gsize *length, GError **error);

/* Parses JSON text; `what` begins every error message. Free with
 * json_node_unref. */
JsonNode *sc_json_parse      (const char *data, gssize length, const char *what,
                              GError **error);

/* sc_file_read_small + sc_json_parse; errors begin with the path. */
JsonNode *sc_json_file_load  (const char *path, guint64 max_bytes, GError **error);

G_END_DECLS
