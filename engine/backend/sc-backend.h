/* sc-backend.h: the compute interface the model runs on.
 *
 * The model is written once against these operations; a backend supplies
 * them. The CPU backend (OpenBLAS sgemm with its own threads, plain loops
 * for the rest, deliberately no OpenMP: see sc-cpu.c) is the reference and
 * is complete; the CUDA backend plugs in behind the same table. Activations
 * are f32 row-major; weights are checkpoint tensors in their stored dtype.
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

  /* The MoE and statistics kernels (sc-cpu.c is the reference, a CUDA
   * build checks its kernels against it). Rows of width N are softmaxed in
   * place; -inf entries get 0. */
  void (*softmax)    (ScBackend *be, float *x, int M, int N);
  /* The NLLB-MoE router at eval (NLLB-FACTS §2.6) for n tokens over E
   * experts: keep (NULL = all) masks experts out, valid (NULL = all) marks
   * padding tokens, which get top1 = top2 = -1 and zero weights. probs
   * [n, E] receives the softmax; top2 is -1 (weight 0, w1 = 1) when only
   * one expert is kept. */
  void (*router_top2) (ScBackend *be, const float *logits, int n, int E, const guint8 *keep,
                       const guint8 *valid, float *probs, int *top1, int *top2, float *w1,
                       float *w2);
  /* dst[i] = src[idx[i]] for m rows of width d (tokens to an expert). */
  void (*gather_rows) (ScBackend *be, const float *src, int d, const int *idx, int m,
                       float *dst);
  /* dst[idx[i]] += w[i] * scale * src[i] (an expert's outputs back). */
  void (*scatter_add_rows) (ScBackend *be, float *dst, int d, const int *idx, const float *w,
                            float scale, int m, const float *src);
  /* Adds one batch's routing to acc[5 * E + 1]: per expert the top-1
   * count, top-2 count, top-1 probability mass, top-2 mass, probability
   * sum; then the number of routed (non-padding) tokens. */
  void (*gate_stats) (ScBackend *be, const float *probs, const int *top1, const int *top2, int n,
                      int E, double *acc);
  /* Optional: the weights a layer is about to use (the experts its router
   * chose for the whole batch), so a device backend can start uploading
   * them before they are needed. */
  void (*prefetch)   (ScBackend *be, const ScTensor *const *tensors, int n);
  /* Frees the backend (NULL: g_free). */
  void (*destroy)    (ScBackend *be);
};

/* The CPU backend; `threads` <= 0 means one per core. */
ScBackend *sc_backend_cpu_new (int threads);
void       sc_backend_free    (ScBackend *be);
/* One line (two with advice) on the CPU backend's kernels: OpenBLAS's
 * choice and which of Secateur's own run. */
char      *sc_backend_cpu_describe (void);

/* Marks the calling thread's products, until the matching end, as
 * translation's: a decoding step (a few rows, repeated for every token) or
 * a translation's encoder. The CPU backend may then send f32 products to
 * its own kernels (sc-cpu-gemm.h), which round a row alike in a batch and
 * alone; teacher-forced passes (calibration, SparseGPT) keep OpenBLAS's
 * order, which the pruning goldens were made with. Nests: end restores
 * what begin returned. Other backends ignore it. */
gboolean   sc_backend_translating_begin (void);
void       sc_backend_translating_end   (gboolean previous);

G_END_DECLS
