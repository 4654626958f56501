/* sc-tensor.h: a view of one tensor inside a memory-mapped checkpoint file.
 *
 * Tensors are never copied at open time: `data` points into a mapping that
 * the owning container (safetensors file, torch zip) keeps alive.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

#define SC_ERROR (sc_error_quark ())
GQuark sc_error_quark (void);

typedef enum {
  SC_ERROR_IO,           /* file missing, unreadable, truncated */
  SC_ERROR_FORMAT,       /* bytes do not follow the format */
  SC_ERROR_UNSUPPORTED,  /* well-formed but not something we handle (dtype, opcode, global) */
  SC_ERROR_CONFIG,       /* config.json missing keys or absurd values */
  SC_ERROR_MISSING,      /* a tensor the model needs is absent */
  SC_ERROR_SHAPE,        /* a tensor has the wrong shape */
  SC_ERROR_LANGUAGE,     /* unknown language code */
  SC_ERROR_NOT_FINITE,   /* a weight, an output or a value to write is NaN or infinite */
} ScError;

typedef enum {
  SC_DTYPE_F32,
  SC_DTYPE_F16,
  SC_DTYPE_BF16,
  SC_DTYPE_I64,   /* read and indexed (goldens, buffers); never a weight */
  SC_DTYPE_I32,
} ScDType;

#define SC_TENSOR_MAX_DIMS 8

typedef struct {
  char         *name;
  ScDType       dtype;
  int           n_dims;
  int64_t       shape[SC_TENSOR_MAX_DIMS];
  const void   *data;     /* into the mapping; contiguous, row-major */
  guint64       nbytes;
} ScTensor;

gsize        sc_dtype_size      (ScDType dtype);
const char  *sc_dtype_name      (ScDType dtype);
gboolean     sc_dtype_from_name (const char *name, ScDType *out);

int64_t      sc_tensor_numel    (const ScTensor *t);
void         sc_tensor_free     (ScTensor *t);

/* Finds the first NaN or infinite element of a float tensor (integer
 * tensors have none): TRUE and its flat index in *index (may be NULL). */
gboolean     sc_tensor_find_nonfinite (const ScTensor *t, int64_t *index);

/* Convert `n` elements starting at element `offset` of `t` (f32/f16/bf16/i32/i64) to f32. */
void         sc_tensor_read_f32 (const ScTensor *t, int64_t offset, int64_t n, float *out);

float        sc_f16_to_f32      (guint16 h);
guint16      sc_f32_to_f16      (float f);
float        sc_bf16_to_f32     (guint16 h);
guint16      sc_f32_to_bf16     (float f);

G_END_DECLS
