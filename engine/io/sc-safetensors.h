/* sc-safetensors.h: memory-mapped safetensors files.
 *
 * Layout: u64 little-endian header length N, N bytes of JSON
 * {name: {dtype, shape, data_offsets:[begin,end]}, "__metadata__": {...}},
 * then the data block. Every offset is checked against the file size, the
 * shape and dtype, and against every other tensor (no overlap).
 */
#pragma once

#include "sc-tensor.h"

G_BEGIN_DECLS

typedef struct _ScSafetensors ScSafetensors;

ScSafetensors *sc_safetensors_open    (const char *path, GError **error);
void           sc_safetensors_free    (ScSafetensors *st);
/* Tensors in file order; the array and its tensors are owned by `st`. */
GPtrArray     *sc_safetensors_tensors (ScSafetensors *st);

/* Parse a whole file image already in memory (used by open and by the
 * fuzzer). On success returns an array of ScTensor whose data point into
 * `buf`; free with g_ptr_array_unref. */
GPtrArray     *sc_safetensors_parse   (const guint8 *buf, gsize len, GError **error);

/* Write tensors as a safetensors file (temporary name, then rename). */
gboolean       sc_safetensors_write   (const char *path, ScTensor *const *tensors, guint n,
                                       GError **error);
/* The same, each f32/f16/bf16 tensor i stored as as[i] (as == NULL: as it
 * is), converted a chunk at a time while it is written, so a memory-mapped
 * tensor is never copied whole. A finite value that becomes infinite (f32 or
 * bf16 beyond f16's 65504) fails, naming the tensor; nothing is left. */
gboolean       sc_safetensors_write_as (const char *path, ScTensor *const *tensors, guint n,
                                        const ScDType *as, GError **error);

/* The size in bytes of the file sc_safetensors_write_as would write (header
 * included), without reading any tensor's data. */
gboolean       sc_safetensors_file_size (ScTensor *const *tensors, guint n, const ScDType *as,
                                         guint64 *bytes, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScSafetensors, sc_safetensors_free)

G_END_DECLS
