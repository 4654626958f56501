/* sc-io-private.h: helpers shared by io's readers (tensors, safetensors,
 * PyTorch zip and pickle, checkpoints, guarded JSON files). */
#pragma once

#include "sc-tensor.h"

G_BEGIN_DECLS

/* Element count and byte size of a shape; FALSE on a negative dimension,
 * too many dimensions or any overflow past G_MAXINT64. */
gboolean sc_shape_checked_size (ScDType dtype, int n_dims, const int64_t *shape,
                                guint64 *numel_out, guint64 *nbytes_out);

/* FALSE when a JSON text nests objects/arrays deeper than `max_depth`
 * (brackets inside strings do not count). json-glib's parser recurses, so
 * untrusted JSON is checked with this first. `first_end` (may be NULL) gets
 * the offset just past the first top-level array or object (`len` for a
 * scalar root), so that a caller can refuse a second top-level value. */
gboolean sc_json_depth_ok (const char *s, gsize len, guint max_depth, gsize *first_end);

/* "a directory", "a FIFO", ... for a st_mode that is not a regular file. */
const char *sc_file_kind (guint mode);

/* Opens `path` read-only if it is a regular file (after following links),
 * without ever blocking on a FIFO; -1 and SC_ERROR_IO naming what it is
 * otherwise. `size` (nullable) gets its size. Close with close(). */
int sc_open_regular (const char *path, guint64 *size, GError **error);

/* Maps `path` read-only (sc_open_regular's checks first); NULL and
 * SC_ERROR_IO otherwise. The tensor containers read from the mapping. */
GMappedFile *sc_map_regular (const char *path, GError **error);

static inline guint16
sc_read_u16le (const guint8 *p)
{
  return (guint16) (p[0] | (p[1] << 8));
}

static inline guint32
sc_read_u32le (const guint8 *p)
{
  return (guint32) p[0] | ((guint32) p[1] << 8) | ((guint32) p[2] << 16) | ((guint32) p[3] << 24);
}

static inline guint64
sc_read_u64le (const guint8 *p)
{
  return (guint64) sc_read_u32le (p) | ((guint64) sc_read_u32le (p + 4) << 32);
}

G_END_DECLS
