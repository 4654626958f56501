/* sc-cuda-private.h: what the CUDA module's files share: the backend's
 * state, its device buffers and weight cache (sc-cuda.cu), and the ScBackend
 * entries that sc-cuda-kernels.cu and sc-cuda-linalg.cu define for the
 * table sc_cuda_backend_new() fills. G_GNUC_INTERNAL: shared between the
 * files, never exported from the module (only G_MODULE_EXPORT symbols are).
 */
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <gmodule.h>

extern "C" {
#include "sc-backend.h"
}

#define CHECK_CUDA(call, fail)                                                                 \
  do                                                                                           \
    {                                                                                          \
      cudaError_t err_ = (call);                                                               \
      if (err_ != cudaSuccess)                                                                 \
        {                                                                                      \
          g_critical ("%s:%d: %s: %s", __FILE__, __LINE__, #call, cudaGetErrorString (err_)); \
          fail;                                                                                \
        }                                                                                      \
    }                                                                                          \
  while (0)

typedef struct
{
  ScBackend parent;
  int device;
  cublasHandle_t blas;
  cudaStream_t stream;
  GHashTable *weights; /* host data pointer -> DevWeight */
  gsize weight_bytes, weight_budget;
  guint64 clock;
  void *scratch[8];
  gsize scratch_bytes[8];
  cudaStream_t copy_stream;
  void *stage[2];
  cudaEvent_t stage_free[2];
  int next_stage;
  guint64 bytes_uploaded; /* weights moved over PCIe */
  void *solver;           /* cusolverDnHandle_t, made by the first Cholesky */
} ScCudaBackend;

static inline ScCudaBackend *
cuda_of (ScBackend *be)
{
  return (ScCudaBackend *) be;
}

/* sc-cuda.cu: device memory */

/* A grow-only device buffer per slot, for one call's operands. */
G_GNUC_INTERNAL void *scratch (ScCudaBackend *cu, int slot, gsize bytes);
G_GNUC_INTERNAL void *upload (ScCudaBackend *cu, int slot, const void *host, gsize bytes);
G_GNUC_INTERNAL void download (ScCudaBackend *cu, void *host, const void *dev, gsize bytes);
/* The device copy of a weight tensor, uploaded on first use. */
G_GNUC_INTERNAL const void *device_weight (ScCudaBackend *cu, const ScTensor *t);

/* Blocks of `threads` for a grid-stride loop over n elements. */
static inline int
blocks_for (gsize n, int threads)
{
  return (int) MIN ((n + threads - 1) / threads, (gsize) 65535 * 32);
}

/* sc-cuda-linalg.cu: matrix products (cuBLAS) */

G_GNUC_INTERNAL void cuda_linear (ScBackend *be, const float *x, int M, int K, const ScTensor *w,
                                  const float *bias, float *y);

/* sc-cuda-kernels.cu: everything else, one kernel each */

G_GNUC_INTERNAL void cuda_layer_norm (ScBackend *be, const float *x, int M, int d, const float *g,
                                      const float *b, float eps, float *y);
G_GNUC_INTERNAL void cuda_embed (ScBackend *be, const ScTensor *table, const int *ids,
                                 const int *positions, int n, float scale, float *out);
G_GNUC_INTERNAL void cuda_attention (ScBackend *be, const float *q, int ldq, const float *k,
                                     const float *v, int ldk, int Tq, int Tk, int H, int hd,
                                     const guint8 *key_valid, gboolean causal, int causal_offset,
                                     float *out, int ldo);
G_GNUC_INTERNAL void cuda_relu (ScBackend *be, float *x, gsize n);
G_GNUC_INTERNAL void cuda_add (ScBackend *be, float *y, const float *x, gsize n);
G_GNUC_INTERNAL void cuda_softmax (ScBackend *be, float *x, int M, int N);
G_GNUC_INTERNAL void cuda_router_top2 (ScBackend *be, const float *logits, int n, int E,
                                       const guint8 *keep, const guint8 *valid, float *probs,
                                       int *top1, int *top2, float *w1, float *w2);
G_GNUC_INTERNAL void cuda_gather_rows (ScBackend *be, const float *src, int d, const int *idx,
                                       int m, float *dst);
G_GNUC_INTERNAL void cuda_scatter_add_rows (ScBackend *be, float *dst, int d, const int *idx,
                                            const float *w, float scale, int m, const float *src);
G_GNUC_INTERNAL void cuda_gate_stats (ScBackend *be, const float *probs, const int *top1,
                                      const int *top2, int n, int E, double *acc);
