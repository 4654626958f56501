/* sc-cpu-small-gemm.h: products of few rows (a decoding step: 1 row at
 * greedy batch 1, 4 at beam 4, 16 at batch 16) that read each weight once,
 * in its stored dtype (f32, f16 or bf16), and accumulate in f32.
 *
 * OpenBLAS has no f16 products and packs (copies) W for every sgemm with
 * more than one row; at these sizes a product is a pass over the weights,
 * so reading them once, unconverted, is what bounds its speed. */
#pragma once

#include "sc-tensor.h"

G_BEGIN_DECLS

/* Whether this CPU runs the kernels (x86-64 with AVX2, FMA and F16C). */
gboolean sc_cpu_small_gemm_available (void);

/* y[m, n] (row stride ldy) = x[m, :]·W[n, :] (+ y[m, n] when accumulate)
 * for m < M, n < N, K = W's columns, split over `threads` threads of the
 * backend's pool. W is f32, f16 or bf16, contiguous [N, K]. Returns FALSE
 * (y untouched) when the CPU lacks the instructions or W another dtype. */
gboolean sc_cpu_small_gemm (const float *x, int M, int K, const ScTensor *w, gboolean accumulate,
                            float *y, int ldy, int threads);

G_END_DECLS
