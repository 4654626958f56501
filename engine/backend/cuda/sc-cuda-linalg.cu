/* sc-cuda-linalg.cu: the CUDA backend's dense linear algebra: the linear
 * layers' matrix products with cublasGemmEx, SparseGPT's Hessian
 * (cublasSsyrk) and inverse Cholesky factor (cuSOLVER), and the GEMM
 * throughput bench-cuda measures.
 */
#include <cusolverDn.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <math.h>
#include <string.h>

#include "sc-cuda-private.h"

/* ---- matrix products ----------------------------------------------------- */

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

void
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

extern "C" {

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

} /* extern "C" */
