/* sc-cuda-kernels.cu: the CUDA backend's small kernels, one per function
 * as llm.c's, each checked against its CPU reference (sc-cpu.c) by
 * tests/test-cuda.c, and the ScBackend entries that launch them: upload the
 * host operands, launch on the compute stream, download the result.
 */
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <float.h>
#include <math.h>

#include "sc-cuda-private.h"

/* ---- kernels ------------------------------------------------------------- */

/* Block-wide sum of one float per thread (blockDim a power of two <= 1024). */
__device__ float
block_sum (float v, float *shared)
{
  shared[threadIdx.x] = v;
  __syncthreads ();
  for (int s = blockDim.x / 2; s > 0; s >>= 1)
    {
      if (threadIdx.x < s)
        shared[threadIdx.x] += shared[threadIdx.x + s];
      __syncthreads ();
    }
  float r = shared[0];
  __syncthreads ();
  return r;
}

__device__ float
block_max (float v, float *shared)
{
  shared[threadIdx.x] = v;
  __syncthreads ();
  for (int s = blockDim.x / 2; s > 0; s >>= 1)
    {
      if (threadIdx.x < s)
        shared[threadIdx.x] = fmaxf (shared[threadIdx.x], shared[threadIdx.x + s]);
      __syncthreads ();
    }
  float r = shared[0];
  __syncthreads ();
  return r;
}

/* layer_norm: one block per row; mean, then the biased variance of the
 * centred values (two passes, as the CPU reference). */
__global__ void
layer_norm_kernel (const float *x, int d, const float *g, const float *b, float eps, float *y)
{
  __shared__ float sh[256];
  const float *xr = x + (gsize) blockIdx.x * d;
  float *yr = y + (gsize) blockIdx.x * d;
  float s = 0.0f;
  for (int i = threadIdx.x; i < d; i += blockDim.x)
    s += xr[i];
  float mean = block_sum (s, sh) / d;
  float v = 0.0f;
  for (int i = threadIdx.x; i < d; i += blockDim.x)
    {
      float c = xr[i] - mean;
      v += c * c;
    }
  float rstd = rsqrtf (block_sum (v, sh) / d + eps);
  for (int i = threadIdx.x; i < d; i += blockDim.x)
    yr[i] = (xr[i] - mean) * rstd * g[i] + b[i];
}

__device__ float
load_weight (const void *table, int dtype, gsize i)
{
  switch (dtype)
    {
    case SC_DTYPE_F16:
      return __half2float (((const __half *) table)[i]);
    case SC_DTYPE_BF16:
      return __bfloat162float (((const __nv_bfloat16 *) table)[i]);
    default:
      return ((const float *) table)[i];
    }
}

/* embed: one block per token: the scaled table row plus the sinusoidal
 * position (sines then cosines; position 1 is the zero pad row). */
__global__ void
embed_kernel (const void *table, int dtype, const int *ids, const int *positions, int d,
              float scale, const float *freq, float *out)
{
  int t = blockIdx.x;
  int half = d / 2;
  float *row = out + (gsize) t * d;
  for (int j = threadIdx.x; j < d; j += blockDim.x)
    row[j] = load_weight (table, dtype, (gsize) ids[t] * d + j) * scale;
  if (positions == NULL || positions[t] == 1)
    return;
  float p = (float) positions[t];
  for (int j = threadIdx.x; j < half; j += blockDim.x)
    {
      float a = p * freq[j];
      row[j] += sinf (a);
      row[half + j] += cosf (a);
    }
}

/* attention: one block per (query, head). Scores of the visible keys go
 * to `scores` [Tq, H, Tk]; masked keys weigh 0; a query with no visible
 * key outputs 0, as the CPU reference. */
__global__ void
attention_kernel (const float *q, int ldq, const float *k, const float *v, int ldk, int Tk, int H,
                  int hd, const unsigned char *key_valid, int causal, int causal_offset,
                  float scale, float *scores, float *out, int ldo)
{
  __shared__ float sh[256];
  int i = blockIdx.x, h = blockIdx.y;
  const float *qi = q + (gsize) i * ldq + h * hd;
  float *s = scores + ((gsize) i * H + h) * Tk;
  int last = causal ? min (Tk - 1, i + causal_offset) : Tk - 1;
  float mx = -INFINITY;
  for (int j = threadIdx.x; j < Tk; j += blockDim.x)
    {
      float sc = -INFINITY;
      if (j <= last && (key_valid == NULL || key_valid[j]))
        {
          const float *kj = k + (gsize) j * ldk + h * hd;
          float acc = 0.0f;
          for (int c = 0; c < hd; c++)
            acc += qi[c] * kj[c];
          sc = acc * scale;
        }
      s[j] = sc;
      mx = fmaxf (mx, sc);
    }
  mx = block_max (mx, sh);
  float *oi = out + (gsize) i * ldo + h * hd;
  if (mx == -INFINITY)
    {
      for (int c = threadIdx.x; c < hd; c += blockDim.x)
        oi[c] = 0.0f;
      return;
    }
  float sum = 0.0f;
  for (int j = threadIdx.x; j < Tk; j += blockDim.x)
    {
      float e = s[j] == -INFINITY ? 0.0f : expf (s[j] - mx);
      s[j] = e;
      sum += e;
    }
  float inv = 1.0f / block_sum (sum, sh);
  __syncthreads ();
  for (int c = threadIdx.x; c < hd; c += blockDim.x)
    {
      float acc = 0.0f;
      for (int j = 0; j <= last; j++)
        if (s[j] != 0.0f)
          acc += s[j] * inv * v[(gsize) j * ldk + h * hd + c];
      oi[c] = acc;
    }
}

__global__ void
relu_kernel (float *x, gsize n)
{
  for (gsize i = blockIdx.x * (gsize) blockDim.x + threadIdx.x; i < n; i += (gsize) gridDim.x * blockDim.x)
    x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

__global__ void
add_kernel (float *y, const float *x, gsize n)
{
  for (gsize i = blockIdx.x * (gsize) blockDim.x + threadIdx.x; i < n; i += (gsize) gridDim.x * blockDim.x)
    y[i] += x[i];
}

/* softmax: one block per row, -inf entries get 0. */
__global__ void
softmax_kernel (float *x, int N)
{
  __shared__ float sh[256];
  float *r = x + (gsize) blockIdx.x * N;
  float mx = -INFINITY;
  for (int j = threadIdx.x; j < N; j += blockDim.x)
    mx = fmaxf (mx, r[j]);
  mx = block_max (mx, sh);
  if (mx == -INFINITY)
    {
      for (int j = threadIdx.x; j < N; j += blockDim.x)
        r[j] = 0.0f;
      return;
    }
  float sum = 0.0f;
  for (int j = threadIdx.x; j < N; j += blockDim.x)
    {
      r[j] = expf (r[j] - mx);
      sum += r[j];
    }
  float inv = 1.0f / block_sum (sum, sh);
  for (int j = threadIdx.x; j < N; j += blockDim.x)
    r[j] *= inv;
}

/* router_top2: one thread per token, the CPU reference's loops (E is at
 * most a few hundred). */
__global__ void
router_top2_kernel (const float *logits, int n, int E, const unsigned char *keep,
                    const unsigned char *valid, float *probs, int *top1, int *top2, float *w1,
                    float *w2)
{
  int t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= n)
    return;
  const float *l = logits + (gsize) t * E;
  float *p = probs + (gsize) t * E;
  float mx = -INFINITY;
  for (int e = 0; e < E; e++)
    if (keep == NULL || keep[e])
      mx = fmaxf (mx, l[e]);
  float sum = 0.0f;
  for (int e = 0; e < E; e++)
    {
      p[e] = (keep == NULL || keep[e]) && mx != -INFINITY ? expf (l[e] - mx) : 0.0f;
      sum += p[e];
    }
  for (int e = 0; e < E; e++)
    p[e] = sum > 0.0f ? p[e] / sum : 0.0f;
  if (valid != NULL && !valid[t])
    {
      top1[t] = top2[t] = -1;
      w1[t] = w2[t] = 0.0f;
      return;
    }
  int a = -1, b = -1;
  for (int e = 0; e < E; e++)
    if ((keep == NULL || keep[e]) && (a < 0 || p[e] > p[a]))
      a = e;
  for (int e = 0; e < E; e++)
    if (e != a && (keep == NULL || keep[e]) && (b < 0 || l[e] > l[b]))
      b = e;
  top1[t] = a;
  top2[t] = b;
  if (b < 0)
    {
      w1[t] = 1.0f;
      w2[t] = 0.0f;
      return;
    }
  float denom = fmaxf (p[a] + p[b], FLT_EPSILON);
  w1[t] = p[a] / denom;
  w2[t] = p[b] / denom;
}

__global__ void
gather_rows_kernel (const float *src, int d, const int *idx, int m, float *dst)
{
  gsize n = (gsize) m * d;
  for (gsize i = blockIdx.x * (gsize) blockDim.x + threadIdx.x; i < n; i += (gsize) gridDim.x * blockDim.x)
    dst[i] = src[(gsize) idx[i / d] * d + i % d];
}

/* scatter_add_rows: rows of one expert go to distinct tokens, so no two
 * threads write the same element. */
__global__ void
scatter_add_rows_kernel (float *dst, int d, const int *idx, const float *w, float scale, int m,
                         const float *src)
{
  gsize n = (gsize) m * d;
  for (gsize i = blockIdx.x * (gsize) blockDim.x + threadIdx.x; i < n; i += (gsize) gridDim.x * blockDim.x)
    dst[(gsize) idx[i / d] * d + i % d] += w[i / d] * (src[i] * scale);
}

/* gate_stats: per token atomics into the [5E + 1] accumulator, copied back
 * once per batch. */
__global__ void
gate_stats_kernel (const float *probs, const int *top1, const int *top2, int n, int E,
                   double *acc)
{
  int t = blockIdx.x;
  if (t >= n || top1[t] < 0)
    return;
  const float *p = probs + (gsize) t * E;
  if (threadIdx.x == 0)
    {
      atomicAdd (&acc[top1[t]], 1.0);
      atomicAdd (&acc[2 * E + top1[t]], (double) p[top1[t]]);
      if (top2[t] >= 0)
        {
          atomicAdd (&acc[E + top2[t]], 1.0);
          atomicAdd (&acc[3 * E + top2[t]], (double) p[top2[t]]);
        }
      atomicAdd (&acc[5 * E], 1.0);
    }
  for (int e = threadIdx.x; e < E; e += blockDim.x)
    atomicAdd (&acc[4 * E + e], (double) p[e]);
}

/* ---- the ScBackend entries that launch them ------------------------------ */

void
cuda_layer_norm (ScBackend *be, const float *x, int M, int d, const float *g, const float *b,
                 float eps, float *y)
{
  ScCudaBackend *cu = cuda_of (be);
  if (M == 0)
    return;
  float *dx = (float *) upload (cu, 0, x, sizeof (float) * (gsize) M * d);
  float *dg = (float *) upload (cu, 2, g, sizeof (float) * d);
  float *db = (float *) upload (cu, 3, b, sizeof (float) * d);
  float *dy = (float *) scratch (cu, 1, sizeof (float) * (gsize) M * d);
  if (dx == NULL || dg == NULL || db == NULL || dy == NULL)
    return;
  layer_norm_kernel<<<M, 256, 0, cu->stream>>> (dx, d, dg, db, eps, dy);
  download (cu, y, dy, sizeof (float) * (gsize) M * d);
}

void
cuda_embed (ScBackend *be, const ScTensor *table, const int *ids, const int *positions, int n,
            float scale, float *out)
{
  ScCudaBackend *cu = cuda_of (be);
  int d = (int) table->shape[1];
  if (n == 0)
    return;
  const void *dt = device_weight (cu, table);
  int *dids = (int *) upload (cu, 0, ids, sizeof (int) * n);
  int *dpos = positions ? (int *) upload (cu, 2, positions, sizeof (int) * n) : NULL;
  float *dout = (float *) scratch (cu, 1, sizeof (float) * (gsize) n * d);
  if (dt == NULL || dids == NULL || dout == NULL || (positions != NULL && dpos == NULL))
    return;
  /* The frequencies come from the host's expf, as the CPU reference's do:
   * the device's expf may differ by an ulp, which a position near 1000
   * would turn into 1e-4 of error in the sines. */
  int half = d / 2;
  float step = (float) (log (10000.0) / (half - 1));
  float *freq = g_new (float, MAX (half, 1));
  for (int j = 0; j < half; j++)
    freq[j] = expf ((float) j * -step);
  float *dfreq = (float *) upload (cu, 3, freq, sizeof (float) * MAX (half, 1));
  g_free (freq);
  if (dfreq == NULL)
    return;
  embed_kernel<<<n, 256, 0, cu->stream>>> (dt, (int) table->dtype, dids, dpos, d, scale, dfreq,
                                           dout);
  download (cu, out, dout, sizeof (float) * (gsize) n * d);
}

void
cuda_attention (ScBackend *be, const float *q, int ldq, const float *k, const float *v, int ldk,
                int Tq, int Tk, int H, int hd, const guint8 *key_valid, gboolean causal,
                int causal_offset, float *out, int ldo)
{
  ScCudaBackend *cu = cuda_of (be);
  if (Tq == 0)
    return;
  gsize qn = (gsize) (Tq - 1) * ldq + (gsize) H * hd;
  gsize kn = Tk > 0 ? (gsize) (Tk - 1) * ldk + (gsize) H * hd : 0;
  gsize on = (gsize) (Tq - 1) * ldo + (gsize) H * hd;
  float *dq = (float *) upload (cu, 0, q, sizeof (float) * qn);
  float *dk = (float *) upload (cu, 2, k, sizeof (float) * kn);
  float *dv = (float *) upload (cu, 3, v, sizeof (float) * kn);
  unsigned char *dvalid = key_valid ? (unsigned char *) upload (cu, 4, key_valid, Tk) : NULL;
  float *ds = (float *) scratch (cu, 5, sizeof (float) * (gsize) Tq * H * MAX (Tk, 1));
  float *dout = (float *) scratch (cu, 1, sizeof (float) * on);
  if (dq == NULL || dk == NULL || dv == NULL || ds == NULL || dout == NULL ||
      (key_valid != NULL && dvalid == NULL))
    return;
  /* rows of `out` between heads (ldo > H*hd) keep the caller's values */
  if (ldo != H * hd)
    CHECK_CUDA (cudaMemcpyAsync (dout, out, sizeof (float) * on, cudaMemcpyHostToDevice,
                                 cu->stream),
                return);
  dim3 grid (Tq, H);
  attention_kernel<<<grid, 128, 0, cu->stream>>> (dq, ldq, dk, dv, ldk, Tk, H, hd, dvalid,
                                                  causal, causal_offset, 1.0f / sqrtf ((float) hd),
                                                  ds, dout, ldo);
  download (cu, out, dout, sizeof (float) * on);
}

void
cuda_relu (ScBackend *be, float *x, gsize n)
{
  ScCudaBackend *cu = cuda_of (be);
  float *dx = (float *) upload (cu, 0, x, sizeof (float) * n);
  if (dx == NULL || n == 0)
    return;
  relu_kernel<<<blocks_for (n, 256), 256, 0, cu->stream>>> (dx, n);
  download (cu, x, dx, sizeof (float) * n);
}

void
cuda_add (ScBackend *be, float *y, const float *x, gsize n)
{
  ScCudaBackend *cu = cuda_of (be);
  float *dy = (float *) upload (cu, 0, y, sizeof (float) * n);
  float *dx = (float *) upload (cu, 2, x, sizeof (float) * n);
  if (dx == NULL || dy == NULL || n == 0)
    return;
  add_kernel<<<blocks_for (n, 256), 256, 0, cu->stream>>> (dy, dx, n);
  download (cu, y, dy, sizeof (float) * n);
}

void
cuda_softmax (ScBackend *be, float *x, int M, int N)
{
  ScCudaBackend *cu = cuda_of (be);
  float *dx = (float *) upload (cu, 0, x, sizeof (float) * (gsize) M * N);
  if (dx == NULL || M == 0)
    return;
  softmax_kernel<<<M, 256, 0, cu->stream>>> (dx, N);
  download (cu, x, dx, sizeof (float) * (gsize) M * N);
}

void
cuda_router_top2 (ScBackend *be, const float *logits, int n, int E, const guint8 *keep,
                  const guint8 *valid, float *probs, int *top1, int *top2, float *w1, float *w2)
{
  ScCudaBackend *cu = cuda_of (be);
  if (n == 0)
    return;
  float *dl = (float *) upload (cu, 0, logits, sizeof (float) * (gsize) n * E);
  unsigned char *dkeep = keep ? (unsigned char *) upload (cu, 2, keep, E) : NULL;
  unsigned char *dvalid = valid ? (unsigned char *) upload (cu, 3, valid, n) : NULL;
  float *dp = (float *) scratch (cu, 1, sizeof (float) * (gsize) n * E);
  /* top1, top2, w1, w2 side by side in one buffer */
  char *dout = (char *) scratch (cu, 4, 16 * (gsize) n);
  if (dl == NULL || dp == NULL || dout == NULL || (keep && !dkeep) || (valid && !dvalid))
    return;
  int *dt1 = (int *) dout, *dt2 = dt1 + n;
  float *dw1 = (float *) (dt2 + n), *dw2 = dw1 + n;
  router_top2_kernel<<<(n + 127) / 128, 128, 0, cu->stream>>> (dl, n, E, dkeep, dvalid, dp, dt1,
                                                               dt2, dw1, dw2);
  CHECK_CUDA (cudaMemcpyAsync (top1, dt1, 4 * n, cudaMemcpyDeviceToHost, cu->stream), return);
  CHECK_CUDA (cudaMemcpyAsync (top2, dt2, 4 * n, cudaMemcpyDeviceToHost, cu->stream), return);
  CHECK_CUDA (cudaMemcpyAsync (w1, dw1, 4 * n, cudaMemcpyDeviceToHost, cu->stream), return);
  CHECK_CUDA (cudaMemcpyAsync (w2, dw2, 4 * n, cudaMemcpyDeviceToHost, cu->stream), return);
  download (cu, probs, dp, sizeof (float) * (gsize) n * E);
}

void
cuda_gather_rows (ScBackend *be, const float *src, int d, const int *idx, int m, float *dst)
{
  ScCudaBackend *cu = cuda_of (be);
  if (m == 0)
    return;
  int max_row = 0;
  for (int i = 0; i < m; i++)
    max_row = MAX (max_row, idx[i]);
  float *ds = (float *) upload (cu, 0, src, sizeof (float) * (gsize) (max_row + 1) * d);
  int *di = (int *) upload (cu, 2, idx, sizeof (int) * m);
  float *dd = (float *) scratch (cu, 1, sizeof (float) * (gsize) m * d);
  if (ds == NULL || di == NULL || dd == NULL)
    return;
  gather_rows_kernel<<<blocks_for ((gsize) m * d, 256), 256, 0, cu->stream>>> (ds, d, di, m, dd);
  download (cu, dst, dd, sizeof (float) * (gsize) m * d);
}

void
cuda_scatter_add_rows (ScBackend *be, float *dst, int d, const int *idx, const float *w,
                       float scale, int m, const float *src)
{
  ScCudaBackend *cu = cuda_of (be);
  if (m == 0)
    return;
  int max_row = 0;
  for (int i = 0; i < m; i++)
    max_row = MAX (max_row, idx[i]);
  gsize nd = (gsize) (max_row + 1) * d;
  float *dd = (float *) upload (cu, 1, dst, sizeof (float) * nd);
  int *di = (int *) upload (cu, 2, idx, sizeof (int) * m);
  float *dw = (float *) upload (cu, 3, w, sizeof (float) * m);
  float *ds = (float *) upload (cu, 0, src, sizeof (float) * (gsize) m * d);
  if (dd == NULL || di == NULL || dw == NULL || ds == NULL)
    return;
  scatter_add_rows_kernel<<<blocks_for ((gsize) m * d, 256), 256, 0, cu->stream>>> (dd, d, di, dw,
                                                                                    scale, m, ds);
  download (cu, dst, dd, sizeof (float) * nd);
}

void
cuda_gate_stats (ScBackend *be, const float *probs, const int *top1, const int *top2, int n, int E,
                 double *acc)
{
  ScCudaBackend *cu = cuda_of (be);
  if (n == 0)
    return;
  float *dp = (float *) upload (cu, 0, probs, sizeof (float) * (gsize) n * E);
  int *d1 = (int *) upload (cu, 2, top1, sizeof (int) * n);
  int *d2 = (int *) upload (cu, 3, top2, sizeof (int) * n);
  double *da = (double *) upload (cu, 1, acc, sizeof (double) * (5 * (gsize) E + 1));
  if (dp == NULL || d1 == NULL || d2 == NULL || da == NULL)
    return;
  gate_stats_kernel<<<n, 128, 0, cu->stream>>> (dp, d1, d2, n, E, da);
  download (cu, acc, da, sizeof (double) * (5 * (gsize) E + 1));
}
