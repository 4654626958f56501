/* sc-alibi.h: attention with linear biases (ALiBi, Press et al. 2022), as
 * BLOOM uses it. Kept apart from ScBackend.attention, which takes no bias:
 * here score(i, j) = q_i·k_j / sqrt(hd) + slope[h] · j, causal. This CPU
 * function is the reference for any other backend's version. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* HF's build_alibi_tensor slopes: for the largest power of two p <= H,
 * slope[h] = 2^(-8(h+1)/p); the H - p extra heads take every other slope of
 * the 2p series, 2^(-4(2k+1)/p), k = 0.. */
void sc_alibi_slopes    (int n_head, float *slopes);

/* q[Tq, H*hd] (row stride ldq) holds queries at absolute positions
 * q_offset .. q_offset + Tq - 1; k, v[Tk, H*hd] (stride ldk) keys at
 * positions 0 .. Tk - 1 (Tk >= q_offset + Tq); query i sees keys
 * j <= q_offset + i. out[Tq, H*hd] (stride ldo). */
void sc_alibi_attention (const float *q, int ldq, const float *k, const float *v, int ldk,
                         int Tq, int Tk, int H, int hd, const float *slopes, int q_offset,
                         float *out, int ldo);

G_END_DECLS
