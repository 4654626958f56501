/* sc-cuda.cu: the CUDA backend, a GModule loaded by sc-backend-select.c.
 *
 * It implements the ScBackend table (sc-backend.h): matrix products with
 * cublasGemmEx (f16/bf16 weights and activations rounded to the weight's
 * type, f32 accumulation, tensor cores), everything else as small kernels,
 * one per function, each with its CPU reference in sc-cpu.c and a test in
 * tests/test-cuda.c. Activations cross the interface as host f32 arrays, so
 * every call uploads its inputs and downloads its output; weights are
 * uploaded once and kept on the device under a byte budget (least recently
 * used leave first), which is the GPU side of the expert cache.
 *
 * The module's files, by what they hold:
 *   sc-cuda.cu          the entry points the loader looks up, the backend
 *                       table, device buffers and the weight cache
 *   sc-cuda-kernels.cu  the small kernels and the table entries that launch
 *                       them (layer norm, embedding, attention, MoE routing)
 *   sc-cuda-linalg.cu   cuBLAS and cuSOLVER: the linear layers' GEMM and
 *                       SparseGPT's Hessian and inverse Cholesky
 *   sc-cuda-private.h   what they share
 */
#include <cusolverDn.h>
#include <string.h>

#include "sc-cuda-private.h"

/* ---- device buffers and the weight cache --------------------------------- */

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

/* A grow-only device buffer per slot, for one call's operands. */
void *
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

void *
upload (ScCudaBackend *cu, int slot, const void *host, gsize bytes)
{
  void *d = scratch (cu, slot, MAX (bytes, 4));
  if (d != NULL && bytes > 0)
    CHECK_CUDA (cudaMemcpyAsync (d, host, bytes, cudaMemcpyHostToDevice, cu->stream), return NULL);
  return d;
}

void
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
const void *
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

/* Bytes of weights uploaded so far (bench-cuda: PCIe bytes per token). */
G_MODULE_EXPORT guint64
sc_cuda_backend_uploaded_bytes (ScBackend *be)
{
  return be != NULL && g_str_equal (be->name, "cuda") ? cuda_of (be)->bytes_uploaded : 0;
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
