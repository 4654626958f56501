/* sc-cuda.cu: the CUDA backend, a GModule loaded by sc-backend-select.c.
 *
 * Why one file over 1,000 lines: it is the whole module the loader opens,
 * and every kernel in it is checked on a GPU against its CPU reference
 * (tests/test-cuda.c). Splitting it needs that check to run again, so it
 * waits for a session with a GPU.
 *
 * It implements the ScBackend table (sc-backend.h): matrix products with
 * cublasGemmEx (f16/bf16 weights and activations rounded to the weight's
 * type, f32 accumulation, tensor cores), everything else as small kernels,
 * one per function, each with its CPU reference in sc-cpu.c and a test in
 * tests/test-cuda.c. Activations cross the interface as host f32 arrays, so
 * every call uploads its inputs and downloads its output; weights are
 * uploaded once and kept on the device under a byte budget (least recently
 * used leave first), which is the GPU side of the expert cache.
 */
#include <cublas_v2.h>
#include <cusolverDn.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <float.h>
#include <gmodule.h>
#include <math.h>
#include <string.h>

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
  void *dev;
  gsize bytes;
  guint64 fingerprint; /* sampled bytes of the host data, to notice reuse */
  guint64 last_use;
  cudaEvent_t ready;   /* recorded on the copy stream by a prefetch, or NULL */
} DevWeight;

/* Pinned staging for prefetches: two buffers, so that copying the next
 * chunk out of the checkpoint mapping overlaps the DMA of the previous. */
#define STAGE_BYTES (32u << 20)

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

static ScCudaBackend *
cuda_of (ScBackend *be)
{
  return (ScCudaBackend *) be;
}

/* A grow-only device buffer per slot, for one call's operands. */
static void *
scratch (ScCudaBackend *cu, int slot, gsize bytes)
{
  if (cu->scratch_bytes[slot] < bytes)
    {
      cudaFree (cu->scratch[slot]);
      cu->scratch[slot] = NULL;
      cu->scratch_bytes[slot] = 0;
      CHECK_CUDA (cudaMalloc (&cu->scratch[slot], bytes), return NULL);
      cu->scratch_bytes[slot] = bytes;
    }
  return cu->scratch[slot];
}

static void *
upload (ScCudaBackend *cu, int slot, const void *host, gsize bytes)
{
  void *d = scratch (cu, slot, MAX (bytes, 4));
  if (d != NULL && bytes > 0)
    CHECK_CUDA (cudaMemcpyAsync (d, host, bytes, cudaMemcpyHostToDevice, cu->stream), return NULL);
  return d;
}

static void
download (ScCudaBackend *cu, void *host, const void *dev, gsize bytes)
{
  if (bytes > 0)
    CHECK_CUDA (cudaMemcpyAsync (host, dev, bytes, cudaMemcpyDeviceToHost, cu->stream), return);
  CHECK_CUDA (cudaStreamSynchronize (cu->stream), return);
}

static guint64
fingerprint (const guint8 *p, gsize n)
{
  /* FNV-1a over four 64-byte windows: a freed and reused host address
   * (an evicted expert, a replaced weight) almost surely changes it. */
  guint64 h = 1469598103934665603ULL ^ n;
  gsize at[4] = { 0, n / 3, 2 * n / 3, n > 64 ? n - 64 : 0 };
  for (int w = 0; w < 4; w++)
    for (gsize i = at[w]; i < MIN (n, at[w] + 64); i++)
      h = (h ^ p[i]) * 1099511628211ULL;
  return h;
}

static void
dev_weight_free (gpointer data)
{
  DevWeight *w = (DevWeight *) data;
  if (w->ready != NULL)
    cudaEventDestroy (w->ready);
  cudaFree (w->dev);
  g_free (w);
}

/* Evicts the least recently used weights until `need` more bytes fit. */
static void
make_room (ScCudaBackend *cu, gsize need)
{
  while (cu->weight_bytes + need > cu->weight_budget && g_hash_table_size (cu->weights) > 0)
    {
      GHashTableIter it;
      gpointer key, value, oldest_key = NULL;
      DevWeight *oldest = NULL;
      g_hash_table_iter_init (&it, cu->weights);
      while (g_hash_table_iter_next (&it, &key, &value))
        if (oldest == NULL || ((DevWeight *) value)->last_use < oldest->last_use)
          oldest = (DevWeight *) value, oldest_key = key;
      cu->weight_bytes -= oldest->bytes;
      g_hash_table_remove (cu->weights, oldest_key);
    }
}

/* The device copy of a weight tensor, uploaded on first use. */
static const void *
device_weight (ScCudaBackend *cu, const ScTensor *t)
{
  guint64 fp = fingerprint ((const guint8 *) t->data, t->nbytes);
  DevWeight *w = (DevWeight *) g_hash_table_lookup (cu->weights, t->data);
  if (w != NULL && (w->bytes != t->nbytes || w->fingerprint != fp))
    {
      cu->weight_bytes -= w->bytes;
      g_hash_table_remove (cu->weights, t->data);
      w = NULL;
    }
  if (w == NULL)
    {
      make_room (cu, t->nbytes);
      w = g_new0 (DevWeight, 1);
      w->bytes = t->nbytes;
      w->fingerprint = fp;
      if (cudaMalloc (&w->dev, t->nbytes) != cudaSuccess)
        {
          g_free (w);
          g_critical ("CUDA: out of device memory for %s (%zu bytes)", t->name, (size_t) t->nbytes);
          return NULL;
        }
      CHECK_CUDA (cudaMemcpy (w->dev, t->data, t->nbytes, cudaMemcpyHostToDevice), return NULL);
      g_hash_table_insert (cu->weights, (gpointer) t->data, w);
      cu->weight_bytes += t->nbytes;
      cu->bytes_uploaded += t->nbytes;
    }
  if (w->ready != NULL)
    {
      /* uploaded by a prefetch: compute waits for that copy, not the host */
      CHECK_CUDA (cudaStreamWaitEvent (cu->stream, w->ready, 0), return NULL);
      cudaEventDestroy (w->ready);
      w->ready = NULL;
    }
  w->last_use = ++cu->clock;
  return w->dev;
}

/* prefetch: uploads the weights that are not on the device yet through the
 * pinned staging buffers on the copy stream; each records an event that
 * device_weight() makes the compute stream wait for. */
static void
cuda_prefetch (ScBackend *be, const ScTensor *const *tensors, int n)
{
  ScCudaBackend *cu = cuda_of (be);
  if (cu->stage[0] == NULL)
    return;
  for (int i = 0; i < n; i++)
    {
      const ScTensor *t = tensors[i];
      DevWeight *w = (DevWeight *) g_hash_table_lookup (cu->weights, t->data);
      if (w != NULL && w->bytes == t->nbytes &&
          w->fingerprint == fingerprint ((const guint8 *) t->data, t->nbytes))
        {
          w->last_use = ++cu->clock; /* keep it: needed now */
          continue;
        }
      if (w != NULL)
        {
          cu->weight_bytes -= w->bytes;
          g_hash_table_remove (cu->weights, t->data);
        }
      make_room (cu, t->nbytes);
      w = g_new0 (DevWeight, 1);
      w->bytes = t->nbytes;
      w->fingerprint = fingerprint ((const guint8 *) t->data, t->nbytes);
      if (cudaMalloc (&w->dev, t->nbytes) != cudaSuccess ||
          cudaEventCreateWithFlags (&w->ready, cudaEventDisableTiming) != cudaSuccess)
        {
          cudaFree (w->dev);
          g_free (w);
          return; /* out of memory: the layer loads on demand instead */
        }
      for (gsize off = 0; off < t->nbytes; off += STAGE_BYTES)
        {
          gsize len = MIN ((gsize) STAGE_BYTES, t->nbytes - off);
          int k = cu->next_stage;
          cu->next_stage ^= 1;
          cudaEventSynchronize (cu->stage_free[k]); /* its previous DMA is done */
          memcpy (cu->stage[k], (const guint8 *) t->data + off, len);
          cudaMemcpyAsync ((guint8 *) w->dev + off, cu->stage[k], len, cudaMemcpyHostToDevice,
                           cu->copy_stream);
          cudaEventRecord (cu->stage_free[k], cu->copy_stream);
        }
      cudaEventRecord (w->ready, cu->copy_stream);
      w->last_use = ++cu->clock;
      g_hash_table_insert (cu->weights, (gpointer) t->data, w);
      cu->weight_bytes += t->nbytes;
      cu->bytes_uploaded += t->nbytes;
    }
}

static int
blocks_for (gsize n, int threads)
{
  return (int) MIN ((n + threads - 1) / threads, (gsize) 65535 * 32);
}

/* ---- kernels ------------------------------------------------------------- */

/* f32 activations rounded to the weight's 16-bit type for the GEMM. */
__global__ void
to_f16_kernel (const float *x, __half *y, gsize n)
{
  for (gsize i = blockIdx.x * (gsize) blockDim.x + threadIdx.x; i < n; i += (gsize) gridDim.x * blockDim.x)
    y[i] = __float2half (x[i]);
}

__global__ void
to_bf16_kernel (const float *x, __nv_bfloat16 *y, gsize n)
{
  for (gsize i = blockIdx.x * (gsize) blockDim.x + threadIdx.x; i < n; i += (gsize) gridDim.x * blockDim.x)
    y[i] = __float2bfloat16 (x[i]);
}

/* y[m, :] += bias for every row. */
__global__ void
add_bias_kernel (float *y, const float *bias, int M, int N)
{
  gsize n = (gsize) M * N;
  for (gsize i = blockIdx.x * (gsize) blockDim.x + threadIdx.x; i < n; i += (gsize) gridDim.x * blockDim.x)
    y[i] += bias[i % N];
}

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

/* ---- the ScBackend table ------------------------------------------------- */

static void
cuda_linear (ScBackend *be, const float *x, int M, int K, const ScTensor *w, const float *bias,
             float *y)
{
  ScCudaBackend *cu = cuda_of (be);
  int N = (int) w->shape[0];
  if (M == 0)
    return;
  const void *dw = device_weight (cu, w);
  float *dx = (float *) upload (cu, 0, x, sizeof (float) * (gsize) M * K);
  float *dy = (float *) scratch (cu, 1, sizeof (float) * (gsize) M * N);
  if (dw == NULL || dx == NULL || dy == NULL)
    return;
  const float one = 1.0f, zero = 0.0f;
  gsize nx = (gsize) M * K;
  cublasStatus_t st;
  /* Row-major y[M,N] = x[M,K] · W[N,K]ᵀ is column-major yᵀ = W · xᵀ, with
   * W read as a column-major [K,N] matrix transposed. */
  if (w->dtype == SC_DTYPE_F16 || w->dtype == SC_DTYPE_BF16)
    {
      gboolean half = w->dtype == SC_DTYPE_F16;
      void *dx16 = scratch (cu, 2, 2 * nx);
      if (dx16 == NULL)
        return;
      if (half)
        to_f16_kernel<<<blocks_for (nx, 256), 256, 0, cu->stream>>> (dx, (__half *) dx16, nx);
      else
        to_bf16_kernel<<<blocks_for (nx, 256), 256, 0, cu->stream>>> (dx, (__nv_bfloat16 *) dx16,
                                                                      nx);
      cudaDataType t = half ? CUDA_R_16F : CUDA_R_16BF;
      st = cublasGemmEx (cu->blas, CUBLAS_OP_T, CUBLAS_OP_N, N, M, K, &one, dw, t, K, dx16, t, K,
                         &zero, dy, CUDA_R_32F, N, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
    }
  else
    {
      st = cublasGemmEx (cu->blas, CUBLAS_OP_T, CUBLAS_OP_N, N, M, K, &one, dw, CUDA_R_32F, K, dx,
                         CUDA_R_32F, K, &zero, dy, CUDA_R_32F, N, CUBLAS_COMPUTE_32F,
                         CUBLAS_GEMM_DEFAULT);
    }
  if (st != CUBLAS_STATUS_SUCCESS)
    {
      g_critical ("cublasGemmEx failed (%d) for %s", (int) st, w->name);
      return;
    }
  if (bias != NULL)
    {
      float *db = (float *) upload (cu, 3, bias, sizeof (float) * N);
      add_bias_kernel<<<blocks_for ((gsize) M * N, 256), 256, 0, cu->stream>>> (dy, db, M, N);
    }
  download (cu, y, dy, sizeof (float) * (gsize) M * N);
}

static void
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

static void
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

static void
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

static void
cuda_relu (ScBackend *be, float *x, gsize n)
{
  ScCudaBackend *cu = cuda_of (be);
  float *dx = (float *) upload (cu, 0, x, sizeof (float) * n);
  if (dx == NULL || n == 0)
    return;
  relu_kernel<<<blocks_for (n, 256), 256, 0, cu->stream>>> (dx, n);
  download (cu, x, dx, sizeof (float) * n);
}

static void
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

static void
cuda_softmax (ScBackend *be, float *x, int M, int N)
{
  ScCudaBackend *cu = cuda_of (be);
  float *dx = (float *) upload (cu, 0, x, sizeof (float) * (gsize) M * N);
  if (dx == NULL || M == 0)
    return;
  softmax_kernel<<<M, 256, 0, cu->stream>>> (dx, N);
  download (cu, x, dx, sizeof (float) * (gsize) M * N);
}

static void
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

static void
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

static void
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

static void
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

static void
cuda_destroy (ScBackend *be)
{
  ScCudaBackend *cu = cuda_of (be);
  cudaSetDevice (cu->device);
  g_clear_pointer (&cu->weights, g_hash_table_unref);
  for (int i = 0; i < 8; i++)
    cudaFree (cu->scratch[i]);
  for (int k = 0; k < 2; k++)
    {
      if (cu->stage_free[k] != NULL)
        cudaEventDestroy (cu->stage_free[k]);
      if (cu->stage[k] != NULL)
        cudaFreeHost (cu->stage[k]);
    }
  if (cu->copy_stream != NULL)
    cudaStreamDestroy (cu->copy_stream);
  if (cu->blas != NULL)
    cublasDestroy (cu->blas);
  if (cu->solver != NULL)
    cusolverDnDestroy ((cusolverDnHandle_t) cu->solver);
  if (cu->stream != NULL)
    cudaStreamDestroy (cu->stream);
  g_free (cu);
}

/* ---- exported entry points ----------------------------------------------- */

extern "C" {

G_MODULE_EXPORT int
sc_cuda_device_count (void)
{
  int n = 0;
  if (cudaGetDeviceCount (&n) != cudaSuccess)
    return 0; /* no driver or no device: the same for us */
  return n;
}

G_MODULE_EXPORT gboolean
sc_cuda_device_name (int device, char *name, gsize len)
{
  cudaDeviceProp prop;
  if (cudaGetDeviceProperties (&prop, device) != cudaSuccess)
    return FALSE;
  g_strlcpy (name, prop.name, len);
  return TRUE;
}

G_MODULE_EXPORT gboolean
sc_cuda_device_memory (int device, guint64 *total, guint64 *free_bytes, GQuark domain,
                       GError **error)
{
  size_t f = 0, t = 0;
  cudaError_t err = cudaSetDevice (device);
  if (err == cudaSuccess)
    err = cudaMemGetInfo (&f, &t);
  if (err != cudaSuccess)
    {
      g_set_error (error, domain, 0, "CUDA device %d: %s", device, cudaGetErrorString (err));
      return FALSE;
    }
  *total = t;
  *free_bytes = f;
  return TRUE;
}

G_MODULE_EXPORT ScBackend *
sc_cuda_backend_new (int device, GQuark domain, GError **error)
{
  guint64 total, free_bytes;
  if (!sc_cuda_device_memory (device, &total, &free_bytes, domain, error))
    return NULL;
  ScCudaBackend *cu = g_new0 (ScCudaBackend, 1);
  cu->device = device;
  if (cudaStreamCreate (&cu->stream) != cudaSuccess || cublasCreate (&cu->blas) != CUBLAS_STATUS_SUCCESS ||
      cublasSetStream (cu->blas, cu->stream) != CUBLAS_STATUS_SUCCESS)
    {
      g_set_error (error, domain, 0, "CUDA device %d: cannot create a stream and a cuBLAS handle",
                   device);
      cuda_destroy (&cu->parent);
      return NULL;
    }
  cublasSetMathMode (cu->blas, CUBLAS_DEFAULT_MATH);
  /* Prefetch machinery; without it (no pinned memory) weights upload on use. */
  if (cudaStreamCreate (&cu->copy_stream) != cudaSuccess ||
      cudaHostAlloc (&cu->stage[0], STAGE_BYTES, cudaHostAllocDefault) != cudaSuccess ||
      cudaHostAlloc (&cu->stage[1], STAGE_BYTES, cudaHostAllocDefault) != cudaSuccess ||
      cudaEventCreateWithFlags (&cu->stage_free[0], cudaEventDisableTiming) != cudaSuccess ||
      cudaEventCreateWithFlags (&cu->stage_free[1], cudaEventDisableTiming) != cudaSuccess)
    {
      g_warning ("CUDA: no pinned staging buffers; experts upload when used");
      if (cu->stage[0] != NULL)
        cudaFreeHost (cu->stage[0]);
      if (cu->stage[1] != NULL)
        cudaFreeHost (cu->stage[1]);
      cu->stage[0] = cu->stage[1] = NULL;
    }
  cu->weights = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, dev_weight_free);
  /* Weights may take what is free now, less 1 GiB for activations and
   * cuBLAS' workspace. */
  cu->weight_budget = free_bytes > (1ULL << 30) ? free_bytes - (1ULL << 30) : free_bytes / 2;
  cu->parent.name = "cuda";
  cu->parent.linear = cuda_linear;
  cu->parent.layer_norm = cuda_layer_norm;
  cu->parent.embed = cuda_embed;
  cu->parent.attention = cuda_attention;
  cu->parent.relu = cuda_relu;
  cu->parent.add = cuda_add;
  cu->parent.softmax = cuda_softmax;
  cu->parent.router_top2 = cuda_router_top2;
  cu->parent.gather_rows = cuda_gather_rows;
  cu->parent.scatter_add_rows = cuda_scatter_add_rows;
  cu->parent.gate_stats = cuda_gate_stats;
  cu->parent.prefetch = cuda_prefetch;
  cu->parent.destroy = cuda_destroy;
  return &cu->parent;
}

/* Caps the device memory that weights may hold (bench-expert-cache: the
 * GPU side of an expert budget); evicts at once what no longer fits. */
G_MODULE_EXPORT void
sc_cuda_backend_set_weight_budget (ScBackend *be, guint64 bytes)
{
  if (be == NULL || !g_str_equal (be->name, "cuda"))
    return;
  ScCudaBackend *cu = cuda_of (be);
  cu->weight_budget = bytes;
  make_room (cu, 0);
}

/* ---- linear algebra for SparseGPT (sc-sparsity.c) ------------------------
 *
 * The Hessian X^T X accumulates on the device with cublasSsyrk, and the
 * upper Cholesky factor of its dampened inverse comes from cuSOLVER
 * (potrf, potri, potrf), the same steps as LAPACK's on the CPU. Row-major
 * upper triangles are column-major lower ones, so every call says LOWER. */

typedef struct
{
  ScCudaBackend *cu;
  int k;
  float *xtx;  /* [k, k] on the device */
  float *x;    /* rows being added */
  gsize x_cap; /* floats */
} CudaGram;

G_MODULE_EXPORT void
sc_cuda_gram_free (gpointer data)
{
  CudaGram *g = (CudaGram *) data;
  if (g == NULL)
    return;
  cudaFree (g->xtx);
  cudaFree (g->x);
  g_free (g);
}

G_MODULE_EXPORT gpointer
sc_cuda_gram_new (ScBackend *be, int k)
{
  if (be == NULL || !g_str_equal (be->name, "cuda") || k <= 0)
    return NULL;
  CudaGram *g = g_new0 (CudaGram, 1);
  g->cu = cuda_of (be);
  g->k = k;
  gsize bytes = sizeof (float) * (gsize) k * k;
  if (cudaMalloc (&g->xtx, bytes) != cudaSuccess ||
      cudaMemsetAsync (g->xtx, 0, bytes, g->cu->stream) != cudaSuccess)
    {
      sc_cuda_gram_free (g);
      return NULL; /* the caller accumulates on the CPU instead */
    }
  return g;
}

/* xtx += x^T x for x [n, k] (row-major, host). */
G_MODULE_EXPORT gboolean
sc_cuda_gram_add (gpointer data, const float *x, int n)
{
  CudaGram *g = (CudaGram *) data;
  gsize need = (gsize) n * g->k;
  if (n <= 0)
    return TRUE;
  if (g->x_cap < need)
    {
      cudaFree (g->x);
      g->x = NULL;
      g->x_cap = 0;
      CHECK_CUDA (cudaMalloc (&g->x, need * sizeof (float)), return FALSE);
      g->x_cap = need;
    }
  CHECK_CUDA (cudaMemcpyAsync (g->x, x, need * sizeof (float), cudaMemcpyHostToDevice,
                               g->cu->stream),
              return FALSE);
  const float one = 1.0f;
  /* column-major x^T is [k, n] with leading dimension k: C += x^T (x^T)^T */
  if (cublasSsyrk (g->cu->blas, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N, g->k, n, &one, g->x, g->k,
                   &one, g->xtx, g->k) != CUBLAS_STATUS_SUCCESS)
    return FALSE;
  return TRUE;
}

/* The row-major upper triangle of X^T X into xtx [k, k] (host). */
G_MODULE_EXPORT gboolean
sc_cuda_gram_read (gpointer data, float *xtx)
{
  CudaGram *g = (CudaGram *) data;
  download (g->cu, xtx, g->xtx, sizeof (float) * (gsize) g->k * g->k);
  return cudaGetLastError () == cudaSuccess;
}

/* A = the upper Cholesky factor U of (H + damp I)^-1 (H^-1 = U^T U),
 * row-major, strict lower triangle zero; FALSE when a factorisation fails
 * (not positive definite) or CUDA does. */
G_MODULE_EXPORT gboolean
sc_cuda_inverse_cholesky (ScBackend *be, const float *H, int k, float damp, float *A)
{
  if (be == NULL || !g_str_equal (be->name, "cuda"))
    return FALSE;
  ScCudaBackend *cu = cuda_of (be);
  gsize n = (gsize) k * k;
  memcpy (A, H, n * sizeof (float));
  for (int i = 0; i < k; i++)
    A[(gsize) i * k + i] += damp;
  /* one solver handle per backend: making one costs milliseconds, and a
   * model's pruning factorises every layer */
  if (cu->solver == NULL)
    {
      cusolverDnHandle_t h = NULL;
      if (cusolverDnCreate (&h) != CUSOLVER_STATUS_SUCCESS ||
          cusolverDnSetStream (h, cu->stream) != CUSOLVER_STATUS_SUCCESS)
        {
          if (h != NULL)
            cusolverDnDestroy (h);
          return FALSE;
        }
      cu->solver = h;
    }
  cusolverDnHandle_t solver = (cusolverDnHandle_t) cu->solver;
  float *dA = NULL, *work = NULL;
  int *dinfo = NULL, info[3] = { 1, 1, 1 }, lwork = 0, lwork2 = 0;
  gboolean ok = cudaMalloc (&dA, n * sizeof (float)) == cudaSuccess &&
                cudaMalloc (&dinfo, 3 * sizeof (int)) == cudaSuccess &&
                cudaMemcpyAsync (dA, A, n * sizeof (float), cudaMemcpyHostToDevice, cu->stream) ==
                    cudaSuccess &&
                cusolverDnSpotrf_bufferSize (solver, CUBLAS_FILL_MODE_LOWER, k, dA, k, &lwork) ==
                    CUSOLVER_STATUS_SUCCESS &&
                cusolverDnSpotri_bufferSize (solver, CUBLAS_FILL_MODE_LOWER, k, dA, k, &lwork2) ==
                    CUSOLVER_STATUS_SUCCESS &&
                cudaMalloc (&work, sizeof (float) * (gsize) MAX (MAX (lwork, lwork2), 1)) ==
                    cudaSuccess;
  lwork = MAX (lwork, lwork2);
  ok = ok &&
       cusolverDnSpotrf (solver, CUBLAS_FILL_MODE_LOWER, k, dA, k, work, lwork, dinfo + 0) ==
           CUSOLVER_STATUS_SUCCESS &&
       cusolverDnSpotri (solver, CUBLAS_FILL_MODE_LOWER, k, dA, k, work, lwork, dinfo + 1) ==
           CUSOLVER_STATUS_SUCCESS &&
       cusolverDnSpotrf (solver, CUBLAS_FILL_MODE_LOWER, k, dA, k, work, lwork, dinfo + 2) ==
           CUSOLVER_STATUS_SUCCESS &&
       cudaMemcpyAsync (info, dinfo, sizeof info, cudaMemcpyDeviceToHost, cu->stream) ==
           cudaSuccess &&
       cudaMemcpyAsync (A, dA, n * sizeof (float), cudaMemcpyDeviceToHost, cu->stream) ==
           cudaSuccess &&
       cudaStreamSynchronize (cu->stream) == cudaSuccess;
  /* a failed potrf leaves info > 0 and potri then runs on garbage: the
   * infos say whether all three steps held */
  ok = ok && info[0] == 0 && info[1] == 0 && info[2] == 0;
  cudaFree (work);
  cudaFree (dinfo);
  cudaFree (dA);
  if (!ok)
    return FALSE;
  for (int i = 0; i < k; i++)
    for (int j = 0; j < i; j++)
      A[(gsize) i * k + j] = 0.0f;
  for (gsize i = 0; i < n; i++)
    if (!isfinite (A[i]))
      return FALSE;
  return TRUE;
}

/* Bytes of weights uploaded so far (bench-cuda: PCIe bytes per token). */
G_MODULE_EXPORT guint64
sc_cuda_backend_uploaded_bytes (ScBackend *be)
{
  return be != NULL && g_str_equal (be->name, "cuda") ? cuda_of (be)->bytes_uploaded : 0;
}

/* GEMM throughput on device-resident operands (bench-cuda): `iters`
 * products y[M,N] = x[M,K]·W[N,K]ᵀ in f16 with f32 accumulation, timed
 * with events. Returns the achieved TFLOP/s, or a negative value. */
G_MODULE_EXPORT double
sc_cuda_gemm_tflops (int device, int M, int N, int K, int iters)
{
  void *a = NULL, *b = NULL, *c = NULL;
  cublasHandle_t h = NULL;
  cudaEvent_t e0, e1;
  double tflops = -1.0;
  const float one = 1.0f, zero = 0.0f;
  if (cudaSetDevice (device) != cudaSuccess || cublasCreate (&h) != CUBLAS_STATUS_SUCCESS)
    return -1.0;
  if (cudaMalloc (&a, 2 * (gsize) N * K) == cudaSuccess &&
      cudaMalloc (&b, 2 * (gsize) M * K) == cudaSuccess &&
      cudaMalloc (&c, 4 * (gsize) M * N) == cudaSuccess)
    {
      cudaMemset (a, 0, 2 * (gsize) N * K);
      cudaMemset (b, 0, 2 * (gsize) M * K);
      cudaEventCreate (&e0);
      cudaEventCreate (&e1);
      /* one warm-up call picks the algorithm */
      cublasGemmEx (h, CUBLAS_OP_T, CUBLAS_OP_N, N, M, K, &one, a, CUDA_R_16F, K, b, CUDA_R_16F, K,
                    &zero, c, CUDA_R_32F, N, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
      cudaEventRecord (e0);
      for (int i = 0; i < iters; i++)
        cublasGemmEx (h, CUBLAS_OP_T, CUBLAS_OP_N, N, M, K, &one, a, CUDA_R_16F, K, b, CUDA_R_16F,
                      K, &zero, c, CUDA_R_32F, N, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
      cudaEventRecord (e1);
      cudaEventSynchronize (e1);
      float ms = 0.0f;
      cudaEventElapsedTime (&ms, e0, e1);
      if (ms > 0.0f)
        tflops = 2.0 * M * N * (double) K * iters / (ms * 1e-3) / 1e12;
      cudaEventDestroy (e0);
      cudaEventDestroy (e1);
    }
  cudaFree (a);
  cudaFree (b);
  cudaFree (c);
  cublasDestroy (h);
  return tflops;
}

/* Peak dense f16 tensor-core TFLOP/s from the SM count, clock and
 * architecture (FMA per SM per clock: 1024 on sm_80/86/89, 2048 on sm_90
 * and later), or -1 when unknown. */
G_MODULE_EXPORT double
sc_cuda_peak_f16_tflops (int device)
{
  cudaDeviceProp prop;
  int clock_khz = 0;
  if (cudaGetDeviceProperties (&prop, device) != cudaSuccess ||
      cudaDeviceGetAttribute (&clock_khz, cudaDevAttrClockRate, device) != cudaSuccess)
    return -1.0;
  int fma = prop.major >= 9 ? 2048 : prop.major >= 8 ? 1024 : prop.major >= 7 ? 512 : 0;
  if (fma == 0)
    return -1.0;
  return 2.0 * fma * prop.multiProcessorCount * (clock_khz * 1e3) / 1e12;
}

/* Peak memory bandwidth in GB/s (memory clock x bus width x 2 for DDR),
 * or -1 when the driver does not say. */
G_MODULE_EXPORT double
sc_cuda_peak_bandwidth_gbs (int device)
{
  int clock_khz = 0, bus_bits = 0;
  if (cudaDeviceGetAttribute (&clock_khz, cudaDevAttrMemoryClockRate, device) != cudaSuccess ||
      cudaDeviceGetAttribute (&bus_bits, cudaDevAttrGlobalMemoryBusWidth, device) != cudaSuccess ||
      clock_khz <= 0 || bus_bits <= 0)
    return -1.0;
  return 2.0 * clock_khz * 1e3 * (bus_bits / 8.0) / 1e9;
}

} /* extern "C" */
