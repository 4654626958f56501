/* sc-cpu-gemm.h: the CPU backend's own matrix products, y = x·Wᵀ, that
 * read each weight in its stored dtype (f32, f16 or bf16) and accumulate in
 * f32, with AVX-512 or AVX2 vectors chosen from CPUID at run time.
 *
 * Why not OpenBLAS for all of them: it has no f16 products (weights would
 * be widened to f32 first, one more pass over them), it packs (copies) W
 * for every sgemm with more than one row, which at a decoding step's few
 * rows costs more than the product, and Debian's build runs its SSE3
 * kernels on CPUs it does not know. These kernels read W once per block of
 * inputs, unconverted, without packing W: a decoding step (1 row at greedy
 * batch 1, 4 at beam 4, 16 or 64 at batch 16) is one pass over the
 * weights, and an encoder's tens or hundreds of rows reuse a block of W
 * from L2. Each output is summed in the same order whatever M, the tiling
 * or the thread split, so a row's result does not depend on its batch. */
#pragma once

#include "sc-tensor.h"

G_BEGIN_DECLS

typedef enum
{
  SC_CPU_GEMM_NONE,   /* no kernels: the caller uses OpenBLAS */
  SC_CPU_GEMM_AVX2,   /* AVX2, FMA and F16C: 8 lanes */
  SC_CPU_GEMM_AVX512, /* AVX-512 F/BW/VL as well: 16 lanes */
} ScCpuGemmIsa;

/* The best kernels this CPU (and its OS) runs. */
ScCpuGemmIsa sc_cpu_gemm_isa (void);

/* Whether any kernels run here (sc_cpu_gemm_isa () != NONE). */
gboolean sc_cpu_gemm_available (void);

/* y[m, n] (row stride ldy) = x[m, :]·W[n, :] (+ y[m, n] when accumulate)
 * for m < M, n < N, K = W's columns, split over `threads` threads of the
 * backend's pool, with the best kernels. W is f32, f16 or bf16, contiguous
 * [N, K]. Returns FALSE (y untouched) when the CPU lacks the instructions
 * or W has another dtype. */
gboolean sc_cpu_gemm (const float *x, int M, int K, const ScTensor *w, gboolean accumulate,
                      float *y, int ldy, int threads);

/* The same with the kernels of `isa` (FALSE when this CPU cannot run
 * them): for tests and benchmarks that compare the two. */
gboolean sc_cpu_gemm_with (ScCpuGemmIsa isa, const float *x, int M, int K, const ScTensor *w,
                           gboolean accumulate, float *y, int ldy, int threads);

/* s[j] = scale · x·k_j for j < n, where k_j = k + j·ldk and x, k_j hold
 * len floats: one query's attention scores over a head's keys, on the
 * calling thread. With any isa but NONE (and a CPU that has AVX2), summed
 * in 8 vector lanes whatever the isa, so the order depends on len only;
 * with NONE, or without AVX2, in a plain loop's order. */
void sc_cpu_dots (ScCpuGemmIsa isa, const float *x, const float *k, gsize ldk, int n, int len,
                  float scale, float *s);

/* y[c] += a · x[c] for c < n, rounded exactly as that plain loop (a
 * product, then a sum): an attention output's weighted values. */
void sc_cpu_axpy (float a, const float *x, float *y, int n);

G_END_DECLS
