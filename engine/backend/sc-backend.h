/* sc-backend.h: the compute interface the model runs on.
 *
 * The model is written once against these operations; a backend supplies
 * them. The CPU backend (OpenBLAS + OpenMP) is the reference and is
 * complete; a CUDA backend plugs in behind the same table. Activations are
 * f32 row-major; weights are checkpoint tensors in their stored dtype.
 */
#pragma once

#include "sc-tensor.h"

G_BEGIN_DECLS

typedef struct _ScBackend ScBackend;

struct _ScBackend {
  const char *name;

  /* y[M,N] = x[M,K] · W[N,K]ᵀ + bias[N] (bias may be NULL). W is f32, f16
   * or bf16; reduced-precision weights are widened a tile at a time. */
  void (*linear)     (ScBackend *be, const float *x, int M, int K, const ScTensor *w,
                      const float *bias, float *y);
  /* y = LayerNorm(x) over rows of width d, with weight g and bias b. */
  void (*layer_norm) (ScBackend *be, const float *x, int M, int d, const float *g,
                      const float *b, float eps, float *y);
  /* out[i] = table[ids[i]] * scale (+ the row's sinusoidal position when
   * positions != NULL: position 1 is the all-zero pad row). */
  void (*embed)      (ScBackend *be, const ScTensor *table, const int *ids, const int *positions,
                      int n, float scale, float *out);
  /* Scaled dot-product attention for one sequence and one head set:
   * q[Tq, H*hd], k/v[Tk, H*hd] (row strides ldq/ldk), key_valid[Tk] (NULL =
   * all valid), causal: query i sees keys <= i + causal_offset. */
  void (*attention)  (ScBackend *be, const float *q, int ldq, const float *k, const float *v,
                      int ldk, int Tq, int Tk, int H, int hd, const guint8 *key_valid,
                      gboolean causal, int causal_offset, float *out, int ldo);
  void (*relu)       (ScBackend *be, float *x, gsize n);
  /* y += x */
  void (*add)        (ScBackend *be, float *y, const float *x, gsize n);
};

/* The CPU backend; `threads` <= 0 means one per core. */
ScBackend *sc_backend_cpu_new (int threads);
void       sc_backend_free    (ScBackend *be);

G_END_DECLS
