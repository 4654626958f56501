/* sc-cpu-small-gemm.c: see the header. Each thread takes a contiguous range
 * of W's rows; within it a tile of R weight rows by Mb input rows keeps
 * R * Mb accumulators of 8 floats in registers and reads 8 columns of each
 * at a time, so the weights are converted once per Mb inputs and read from
 * memory once (see range ()). */
#include "sc-cpu-small-gemm.h"

#include "sc-cpu-pool.h"

#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>

#define KERNEL __attribute__ ((target ("avx2,fma,f16c")))
#define INLINE static inline __attribute__ ((always_inline))

#define MIN_PART_MACS (64 * 1024)
/* Bytes of W a thread keeps in L2 while the inputs pass over it. */
#define CHUNK_BYTES (128 * 1024)

/* One weight in f32 (the columns past the last multiple of 8). */
static inline float
weight1 (const guint8 *p, ScDType dt)
{
  if (dt == SC_DTYPE_F32)
    {
      float f;
      memcpy (&f, p, sizeof f);
      return f;
    }
  guint16 h;
  memcpy (&h, p, sizeof h);
  if (dt == SC_DTYPE_F16)
    return sc_f16_to_f32 (h);
  guint32 u = (guint32) h << 16;
  float f;
  memcpy (&f, &u, sizeof f);
  return f;
}

/* Eight weights in f32: f16 by F16C, bf16 is the top half of an f32. */
KERNEL INLINE __m256
weight8 (const guint8 *p, ScDType dt)
{
  if (dt == SC_DTYPE_F32)
    return _mm256_loadu_ps ((const float *) p);
  __m128i h = _mm_loadu_si128 ((const __m128i *) p);
  if (dt == SC_DTYPE_F16)
    return _mm256_cvtph_ps (h);
  return _mm256_castsi256_ps (_mm256_slli_epi32 (_mm256_cvtepu16_epi32 (h), 16));
}

KERNEL INLINE float
hsum (__m256 v)
{
  __m128 s = _mm_add_ps (_mm256_castps256_ps128 (v), _mm256_extractf128_ps (v, 1));
  s = _mm_add_ps (s, _mm_movehl_ps (s, s));
  s = _mm_add_ss (s, _mm_shuffle_ps (s, s, 1));
  return _mm_cvtss_f32 (s);
}

typedef struct
{
  const float *x;
  int M, K, N;
  const guint8 *w;
  ScDType dt;
  gsize esize;
  gboolean accumulate;
  float *y;
  int ldy;
} Job;

/* Rows [n, n + R) of W times inputs [m, m + Mb); R and Mb are constants
 * at every call so that the accumulators are registers. */
KERNEL INLINE void
tile (const Job *j, int n, int m, int R, int Mb, ScDType dt)
{
  const int K = j->K;
  const gsize ldw = (gsize) K * j->esize;
  const guint8 *w = j->w + (gsize) n * ldw;
  const float *x = j->x + (gsize) m * K;
  __m256 acc[4][4];

#pragma GCC unroll 4
  for (int r = 0; r < R; r++)
#pragma GCC unroll 4
    for (int i = 0; i < Mb; i++)
      acc[r][i] = _mm256_setzero_ps ();

  int k = 0;
  for (; k + 8 <= K; k += 8)
    {
      __m256 xv[4];
#pragma GCC unroll 4
      for (int i = 0; i < Mb; i++)
        xv[i] = _mm256_loadu_ps (x + (gsize) i * K + k);
#pragma GCC unroll 4
      for (int r = 0; r < R; r++)
        {
          /* One input row streams W: 16-bit weights are read 12 % faster
           * (the vocabulary projection, one thread) when asked for ahead. */
          if (Mb == 1 && dt != SC_DTYPE_F32)
            _mm_prefetch ((const char *) (w + r * ldw + k * j->esize) + 512, _MM_HINT_T0);
          __m256 wv = weight8 (w + r * ldw + k * j->esize, dt);
#pragma GCC unroll 4
          for (int i = 0; i < Mb; i++)
            acc[r][i] = _mm256_fmadd_ps (wv, xv[i], acc[r][i]);
        }
    }

#pragma GCC unroll 4
  for (int r = 0; r < R; r++)
#pragma GCC unroll 4
    for (int i = 0; i < Mb; i++)
      {
        float s = hsum (acc[r][i]);
        for (int kk = k; kk < K; kk++)
          s += weight1 (w + r * ldw + kk * j->esize, dt) * x[(gsize) i * K + kk];
        float *out = j->y + (gsize) (m + i) * j->ldy + n + r;
        *out = j->accumulate ? *out + s : s;
      }
}

/* Rows [n0, n1) of W, two at a time, times inputs [m, m + Mb). */
KERNEL INLINE void
pairs (const Job *j, int n0, int n1, int m, int Mb, ScDType dt)
{
  int n = n0;
  for (; n + 2 <= n1; n += 2)
    tile (j, n, m, 2, Mb, dt);
  if (n < n1)
    tile (j, n, m, 1, Mb, dt);
}

/* One row of input: 4 weight rows per tile (4 independent FMA chains), W
 * streamed once. More rows: 2 weight rows by 4 inputs (8 accumulators, 4
 * inputs and a weight vector: 13 of the 16 registers), over a chunk of W
 * small enough to stay in L2 while every block of 4 inputs (in L1) passes
 * over it; W is read from memory once, the inputs from L1. Each output is
 * summed in the same order whatever the tiling, so a row's result does not
 * depend on M or on the thread split. */
KERNEL INLINE void
range (const Job *j, int n0, int n1, ScDType dt)
{
  if (j->M == 1)
    {
      int n = n0;
      for (; n + 4 <= n1; n += 4)
        tile (j, n, 0, 4, 1, dt);
      for (; n < n1; n++)
        tile (j, n, 0, 1, 1, dt);
      return;
    }
  gsize row_bytes = MAX ((gsize) j->K * j->esize, 1);
  int chunk = (int) MAX (2, (CHUNK_BYTES / row_bytes) & ~(gsize) 1);
  for (int c0 = n0; c0 < n1; c0 += chunk)
    {
      int c1 = MIN (n1, c0 + chunk);
      int m = 0;
      for (; m + 4 <= j->M; m += 4)
        pairs (j, c0, c1, m, 4, dt);
      switch (j->M - m)
        {
        case 3:
          pairs (j, c0, c1, m, 3, dt);
          break;
        case 2:
          pairs (j, c0, c1, m, 2, dt);
          break;
        case 1:
          pairs (j, c0, c1, m, 1, dt);
          break;
        default:
          break;
        }
    }
}

KERNEL static void
range_f32 (const Job *j, int n0, int n1)
{
  range (j, n0, n1, SC_DTYPE_F32);
}

KERNEL static void
range_f16 (const Job *j, int n0, int n1)
{
  range (j, n0, n1, SC_DTYPE_F16);
}

KERNEL static void
range_bf16 (const Job *j, int n0, int n1)
{
  range (j, n0, n1, SC_DTYPE_BF16);
}

/* Parts split N at multiples of 16 rows, so no two threads write one
 * 64-byte line of y. */
static void
run_part (gpointer data, int part, int parts)
{
  const Job *j = data;
  int blocks = (j->N + 15) / 16;
  int n0 = MIN (j->N, (int) ((gint64) blocks * part / parts) * 16);
  int n1 = MIN (j->N, (int) ((gint64) blocks * (part + 1) / parts) * 16);
  if (n0 >= n1)
    return;
  switch (j->dt)
    {
    case SC_DTYPE_F32:
      range_f32 (j, n0, n1);
      break;
    case SC_DTYPE_F16:
      range_f16 (j, n0, n1);
      break;
    default:
      range_bf16 (j, n0, n1);
      break;
    }
}

/* AVX2, FMA and F16C in CPUID, and the OS saving YMM state (XGETBV);
 * clang's __builtin_cpu_supports cannot be asked about "f16c". */
static gboolean
cpu_has_kernels (void)
{
  unsigned int a, b, c, d;
  if (!__get_cpuid (1, &a, &b, &c, &d))
    return FALSE;
  if (!(c & bit_F16C) || !(c & bit_FMA) || !(c & bit_AVX) || !(c & bit_OSXSAVE))
    return FALSE;
  unsigned int lo, hi;
  __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  if ((lo & 6) != 6)
    return FALSE;
  if (!__get_cpuid_count (7, 0, &a, &b, &c, &d))
    return FALSE;
  return (b & bit_AVX2) != 0;
}

gboolean
sc_cpu_small_gemm_available (void)
{
  static gsize once = 0;
  static gboolean has;
  if (g_once_init_enter (&once))
    {
      has = cpu_has_kernels ();
      g_once_init_leave (&once, 1);
    }
  return has;
}

gboolean
sc_cpu_small_gemm (const float *x, int M, int K, const ScTensor *w, gboolean accumulate, float *y,
                   int ldy, int threads)
{
  if (!sc_cpu_small_gemm_available ())
    return FALSE;
  if (w->dtype != SC_DTYPE_F32 && w->dtype != SC_DTYPE_F16 && w->dtype != SC_DTYPE_BF16)
    return FALSE;
  Job j = {
    .x = x,
    .M = M,
    .K = K,
    .N = (int) w->shape[0],
    .w = w->data,
    .dt = w->dtype,
    .esize = sc_dtype_size (w->dtype),
    .accumulate = accumulate,
    .y = y,
    .ldy = ldy,
  };
  if (M <= 0 || j.N <= 0)
    return TRUE;
  /* A part is at least MIN_PART_MACS multiply-adds: waking a worker
   * costs a few microseconds, as much as that many. */
  gint64 macs = (gint64) M * K * j.N;
  int parts = (int) MAX (1, MIN (MIN (threads, (j.N + 15) / 16), macs / MIN_PART_MACS));
  sc_cpu_pool_run (parts, run_part, &j);
  return TRUE;
}

#else

gboolean
sc_cpu_small_gemm_available (void)
{
  return FALSE;
}

gboolean
sc_cpu_small_gemm (const float *x, int M, int K, const ScTensor *w, gboolean accumulate, float *y,
                   int ldy, int threads)
{
  return FALSE;
}

#endif
