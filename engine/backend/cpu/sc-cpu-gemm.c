/* sc-cpu-gemm.c: see the header. Each thread takes a contiguous range of
 * W's rows; within it a tile of R weight rows by Mb input rows keeps R * Mb
 * accumulators of one vector (8 or 16 floats) in registers and reads a
 * vector of each operand at a time, so a weight is converted once per Mb
 * inputs. An output is its accumulator's lanes summed at the end: the
 * order depends on K and the vector width only, never on the tile. The
 * AVX-512 kernels read the inputs from a packed copy (pack_inputs), W in
 * place. */
#include "sc-cpu-gemm.h"

#include "sc-cpu-pool.h"

#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>

#define AVX2 __attribute__ ((target ("avx2,fma,f16c")))
#define AVX512 __attribute__ ((target ("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")))
#define INLINE static inline __attribute__ ((always_inline))

#define MIN_PART_MACS (64 * 1024)
/* Bytes of W a thread keeps in L2 while the inputs pass over it. */
#define CHUNK_BYTES (256 * 1024)

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
  ScCpuGemmIsa isa;
  const float *xp; /* AVX-512: x packed by pack_inputs, rows of Kp floats */
  int Kp;
} Job;

static inline void
store (const Job *j, int m, int n, float s)
{
  float *out = j->y + (gsize) m * j->ldy + n;
  *out = j->accumulate ? *out + s : s;
}

/* One weight in f32 (the AVX2 tiles' columns past the last multiple of 8). */
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

/* ---- AVX2: 8 lanes, tiles of up to 4 weight rows by 4 inputs ---- */

/* Eight weights in f32: f16 by F16C, bf16 is the top half of an f32. */
AVX2 INLINE __m256
weight8 (const guint8 *p, ScDType dt)
{
  if (dt == SC_DTYPE_F32)
    return _mm256_loadu_ps ((const float *) p);
  __m128i h = _mm_loadu_si128 ((const __m128i *) p);
  if (dt == SC_DTYPE_F16)
    return _mm256_cvtph_ps (h);
  return _mm256_castsi256_ps (_mm256_slli_epi32 (_mm256_cvtepu16_epi32 (h), 16));
}

AVX2 INLINE float
hsum8 (__m256 v)
{
  __m128 s = _mm_add_ps (_mm256_castps256_ps128 (v), _mm256_extractf128_ps (v, 1));
  s = _mm_add_ps (s, _mm_movehl_ps (s, s));
  s = _mm_add_ss (s, _mm_shuffle_ps (s, s, 1));
  return _mm_cvtss_f32 (s);
}

/* Rows [n, n + R) of W times inputs [m, m + Mb); R and Mb are constants
 * at every call so that the accumulators are registers. */
AVX2 INLINE void
tile8 (const Job *j, int n, int m, int R, int Mb, ScDType dt)
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
        float s = hsum8 (acc[r][i]);
        for (int kk = k; kk < K; kk++)
          s += weight1 (w + r * ldw + kk * j->esize, dt) * x[(gsize) i * K + kk];
        store (j, m + i, n + r, s);
      }
}

/* Rows [n0, n1) of W, two at a time, times inputs [m, m + Mb). */
AVX2 INLINE void
pairs8 (const Job *j, int n0, int n1, int m, int Mb, ScDType dt)
{
  int n = n0;
  for (; n + 2 <= n1; n += 2)
    tile8 (j, n, m, 2, Mb, dt);
  if (n < n1)
    tile8 (j, n, m, 1, Mb, dt);
}

/* One row of input: 4 weight rows per tile (4 independent FMA chains), W
 * streamed once. More rows: 2 weight rows by 4 inputs (8 accumulators, 4
 * inputs and a weight vector: 13 of the 16 registers), over a chunk of W
 * small enough to stay in L2 while every block of 4 inputs (in L1) passes
 * over it; W is read from memory once, the inputs from L1. */
AVX2 INLINE void
range8 (const Job *j, int n0, int n1, ScDType dt)
{
  if (j->M == 1)
    {
      int n = n0;
      for (; n + 4 <= n1; n += 4)
        tile8 (j, n, 0, 4, 1, dt);
      for (; n < n1; n++)
        tile8 (j, n, 0, 1, 1, dt);
      return;
    }
  gsize row_bytes = MAX ((gsize) j->K * j->esize, 1);
  int chunk = (int) MAX (2, (CHUNK_BYTES / row_bytes) & ~(gsize) 1);
  for (int c0 = n0; c0 < n1; c0 += chunk)
    {
      int c1 = MIN (n1, c0 + chunk);
      int m = 0;
      for (; m + 4 <= j->M; m += 4)
        pairs8 (j, c0, c1, m, 4, dt);
      switch (j->M - m)
        {
        case 3:
          pairs8 (j, c0, c1, m, 3, dt);
          break;
        case 2:
          pairs8 (j, c0, c1, m, 2, dt);
          break;
        case 1:
          pairs8 (j, c0, c1, m, 1, dt);
          break;
        default:
          break;
        }
    }
}

AVX2 static void
range8_f32 (const Job *j, int n0, int n1)
{
  range8 (j, n0, n1, SC_DTYPE_F32);
}

AVX2 static void
range8_f16 (const Job *j, int n0, int n1)
{
  range8 (j, n0, n1, SC_DTYPE_F16);
}

AVX2 static void
range8_bf16 (const Job *j, int n0, int n1)
{
  range8 (j, n0, n1, SC_DTYPE_BF16);
}

/* ---- AVX-512: 16 lanes, tiles of up to 4 weight rows by 6 inputs ---- */

/* Sixteen weights in f32, or the first `mask` of them (the rest 0): a
 * masked load reads nothing past the row's end. */
AVX512 INLINE __m512
weight16 (const guint8 *p, ScDType dt, __mmask16 mask)
{
  if (dt == SC_DTYPE_F32)
    return _mm512_maskz_loadu_ps (mask, p);
  __m256i h = _mm256_maskz_loadu_epi16 (mask, p);
  if (dt == SC_DTYPE_F16)
    return _mm512_cvtph_ps (h);
  return _mm512_castsi512_ps (_mm512_slli_epi32 (_mm512_cvtepu16_epi32 (h), 16));
}

/* Sixteen whole weights in f32. */
AVX512 INLINE __m512
weight16_full (const guint8 *p, ScDType dt)
{
  if (dt == SC_DTYPE_F32)
    return _mm512_loadu_ps (p);
  __m256i h = _mm256_loadu_si256 ((const __m256i *) p);
  if (dt == SC_DTYPE_F16)
    return _mm512_cvtph_ps (h);
  return _mm512_castsi512_ps (_mm512_slli_epi32 (_mm512_cvtepu16_epi32 (h), 16));
}

/* Tiles of many-row products: TR weight rows by TM inputs, TR * TM = 24
 * accumulators plus TR weight vectors and an input vector in the 32
 * registers. A weight vector read from L2 serves TM FMAs, an input vector
 * from L1 TR. 4 x 6 measured ahead of 3 x 8 and 2 x 12 (bench-kernels,
 * packed inputs); one-row products take 4 x 1 tiles, four streams of W. */
#define TR 4
#define TM 6
/* rows16's tail takes up to 3 rows */
G_STATIC_ASSERT (TR == 4);

/* The inputs a block of the many-row loop takes from `left` remaining:
 * TM, then 4, 2 and 1. */
static inline int
block_rows (int left)
{
  return left >= TM ? TM : left >= 4 ? 4 : left >= 2 ? 2 : 1;
}

/* x's rows in the blocks of block_rows, each block vector by vector: the
 * Mb inputs' sixteen columns from k lie side by side at (k / 16 * Mb + i)
 * * 16, zero past K. A block's TM rows of x are K floats apart, so with
 * K a multiple of 1024 they fall in one L1 set (4 KiB aliasing) and evict
 * each other; packed, a block is read in order. Returns Kp, the padded K. */
static float *
pack_inputs (const float *x, int M, int K, int *Kp)
{
  *Kp = (K + 15) & ~15;
  float *p = g_aligned_alloc ((gsize) M * *Kp, sizeof (float), 64);
  for (int m = 0; m < M;)
    {
      int Mb = block_rows (M - m);
      float *block = p + (gsize) m * *Kp;
      for (int k = 0; k < *Kp; k += 16)
        for (int i = 0; i < Mb; i++)
          {
            float *d = block + ((gsize) (k >> 4) * Mb + i) * 16;
            int n = MIN (16, K - k);
            memcpy (d, x + (gsize) (m + i) * K + k, sizeof (float) * n);
            memset (d + n, 0, sizeof (float) * (16 - n));
          }
      m += Mb;
    }
  return p;
}

/* Sixteen columns from k of R weight rows times Mb inputs into acc. */
AVX512 INLINE void
step16 (const Job *j, const guint8 *w, gsize ldw, const float *x, int k, int R, int Mb,
        ScDType dt, __mmask16 mask, gboolean masked, __m512 acc[4][TM])
{
  __m512 wv[4];
#pragma GCC unroll 4
  for (int r = 0; r < R; r++)
    {
      if (Mb == 1 && dt != SC_DTYPE_F32)
        _mm_prefetch ((const char *) (w + r * ldw + k * j->esize) + 512, _MM_HINT_T0);
      wv[r] = masked ? weight16 (w + r * ldw + k * j->esize, dt, mask)
                     : weight16_full (w + r * ldw + k * j->esize, dt);
    }
#pragma GCC unroll 6
  for (int i = 0; i < Mb; i++)
    {
      __m512 xv = _mm512_load_ps (x + ((gsize) (k >> 4) * Mb + i) * 16);
#pragma GCC unroll 4
      for (int r = 0; r < R; r++)
        acc[r][i] = _mm512_fmadd_ps (wv[r], xv, acc[r][i]);
    }
}

/* Columns of x a block of TM inputs keeps in L1 (24 KiB of f32) while
 * the weight rows of a chunk pass over it; longer rows (fc2's K = 4096)
 * are taken in blocks of this many columns. */
#define K_BLOCK 1024

/* Rows [n, n + R) of W times inputs [m, m + Mb) over columns [k0, k1).
 * Between column blocks the accumulators wait in `part` (R * Mb vectors),
 * so each lane sums its products in the same order as without blocks. */
AVX512 INLINE void
tile16 (const Job *j, int n, int m, int R, int Mb, ScDType dt, int k0, int k1, float *part)
{
  const int K = j->K;
  const gsize ldw = (gsize) K * j->esize;
  const guint8 *w = j->w + (gsize) n * ldw;
  const float *x = j->xp + (gsize) m * j->Kp;
  __m512 acc[4][TM];

#pragma GCC unroll 4
  for (int r = 0; r < R; r++)
#pragma GCC unroll 6
    for (int i = 0; i < Mb; i++)
      acc[r][i] = k0 == 0 || part == NULL ? _mm512_setzero_ps ()
                                            : _mm512_loadu_ps (part + (r * Mb + i) * 16);

  /* Full vectors with plain loads (a masked load takes a slot on the FMA
   * ports too), then one masked step for the last K % 16 columns. */
  int k = k0;
  for (; k + 16 <= k1; k += 16)
    step16 (j, w, ldw, x, k, R, Mb, dt, 0xffff, FALSE, acc);
  if (k < k1)
    step16 (j, w, ldw, x, k, R, Mb, dt, (__mmask16) ((1u << (k1 - k)) - 1), TRUE, acc);

#pragma GCC unroll 4
  for (int r = 0; r < R; r++)
#pragma GCC unroll 6
    for (int i = 0; i < Mb; i++)
      if (k1 < K && part != NULL)
        _mm512_storeu_ps (part + (r * Mb + i) * 16, acc[r][i]);
      else
        store (j, m + i, n + r, _mm512_reduce_add_ps (acc[r][i]));
}

/* Rows [n0, n1) of W, TR at a time, times inputs [m, m + Mb), columns
 * [k0, k1); tile t keeps its partial sums at part + 24 * 16 t. */
AVX512 INLINE void
rows16 (const Job *j, int n0, int n1, int m, int Mb, ScDType dt, int k0, int k1, float *part)
{
  int n = n0;
  for (; n + TR <= n1; n += TR, part = part != NULL ? part + 24 * 16 : NULL)
    tile16 (j, n, m, TR, Mb, dt, k0, k1, part);
  switch (n1 - n)
    {
    case 3:
      tile16 (j, n, m, 3, Mb, dt, k0, k1, part);
      break;
    case 2:
      tile16 (j, n, m, 2, Mb, dt, k0, k1, part);
      break;
    case 1:
      tile16 (j, n, m, 1, Mb, dt, k0, k1, part);
      break;
    default:
      break;
    }
}

/* Inputs [m, m + Mb) against the chunk [c0, c1), a block of columns at a
 * time. */
AVX512 INLINE void
block16 (const Job *j, int c0, int c1, int m, int Mb, ScDType dt, float *part)
{
  for (int k0 = 0; k0 < j->K; k0 += K_BLOCK)
    rows16 (j, c0, c1, m, Mb, dt, k0, MIN (j->K, k0 + K_BLOCK), part);
}

/* As range8, with blocks of TM inputs; the last M % TM inputs in blocks
 * of 4, 2 and 1. */
AVX512 INLINE void
range16 (const Job *j, int n0, int n1, ScDType dt)
{
  if (j->M == 1)
    {
      rows16 (j, n0, n1, 0, 1, dt, 0, j->K, NULL);
      return;
    }
  gsize row_bytes = MAX ((gsize) j->K * j->esize, 1);
  int chunk = (int) MAX (4, (CHUNK_BYTES / row_bytes) & ~(gsize) 3);
  g_autofree float *part =
      j->K > K_BLOCK ? g_new (float, 24 * 16 * (gsize) (chunk / TR + 2)) : NULL;
  for (int c0 = n0; c0 < n1; c0 += chunk)
    {
      int c1 = MIN (n1, c0 + chunk);
      for (int m = 0; m < j->M;)
        {
          int Mb = block_rows (j->M - m);
          /* constant Mb at each call: the accumulators stay registers */
          if (Mb == TM)
            block16 (j, c0, c1, m, TM, dt, part);
          else if (Mb == 4)
            block16 (j, c0, c1, m, 4, dt, part);
          else if (Mb == 2)
            block16 (j, c0, c1, m, 2, dt, part);
          else
            block16 (j, c0, c1, m, 1, dt, part);
          m += Mb;
        }
    }
}

AVX512 static void
range16_f32 (const Job *j, int n0, int n1)
{
  range16 (j, n0, n1, SC_DTYPE_F32);
}

AVX512 static void
range16_f16 (const Job *j, int n0, int n1)
{
  range16 (j, n0, n1, SC_DTYPE_F16);
}

AVX512 static void
range16_bf16 (const Job *j, int n0, int n1)
{
  range16 (j, n0, n1, SC_DTYPE_BF16);
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
  static void (*const ranges[][3]) (const Job *, int, int) = {
    [SC_CPU_GEMM_AVX2] = { range8_f32, range8_f16, range8_bf16 },
    [SC_CPU_GEMM_AVX512] = { range16_f32, range16_f16, range16_bf16 },
  };
  int d = j->dt == SC_DTYPE_F32 ? 0 : j->dt == SC_DTYPE_F16 ? 1 : 2;
  ranges[j->isa][d](j, n0, n1);
}

/* What CPUID and the OS (XGETBV: which register state it saves) allow;
 * clang's __builtin_cpu_supports cannot be asked about "f16c". */
static ScCpuGemmIsa
cpu_isa (void)
{
  unsigned int a, b, c, d;
  if (!__get_cpuid (1, &a, &b, &c, &d))
    return SC_CPU_GEMM_NONE;
  if (!(c & bit_F16C) || !(c & bit_FMA) || !(c & bit_AVX) || !(c & bit_OSXSAVE))
    return SC_CPU_GEMM_NONE;
  unsigned int lo, hi;
  __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  if ((lo & 6) != 6)
    return SC_CPU_GEMM_NONE;
  if (!__get_cpuid_count (7, 0, &a, &b, &c, &d) || !(b & bit_AVX2))
    return SC_CPU_GEMM_NONE;
  /* ZMM and mask registers saved (bits 5-7) besides XMM and YMM. */
  gboolean avx512 = (b & bit_AVX512F) && (b & bit_AVX512BW) && (b & bit_AVX512VL) &&
                    (b & bit_AVX512DQ) && (lo & 0xe6) == 0xe6;
  return avx512 ? SC_CPU_GEMM_AVX512 : SC_CPU_GEMM_AVX2;
}

/* ---- attention: one query against a head's keys ---- */

/* Four keys at a time share the query's loads; each key's score is its
 * lanes summed at the end, then the columns past the last multiple of 8. */
AVX2 static void
dots8 (const float *x, const float *k, gsize ldk, int n, int len, float scale, float *s)
{
  int j = 0;
  for (; j + 4 <= n; j += 4)
    {
      const float *k0 = k + (gsize) j * ldk;
      __m256 a0 = _mm256_setzero_ps (), a1 = a0, a2 = a0, a3 = a0;
      int c = 0;
      for (; c + 8 <= len; c += 8)
        {
          __m256 xv = _mm256_loadu_ps (x + c);
          a0 = _mm256_fmadd_ps (xv, _mm256_loadu_ps (k0 + c), a0);
          a1 = _mm256_fmadd_ps (xv, _mm256_loadu_ps (k0 + ldk + c), a1);
          a2 = _mm256_fmadd_ps (xv, _mm256_loadu_ps (k0 + 2 * ldk + c), a2);
          a3 = _mm256_fmadd_ps (xv, _mm256_loadu_ps (k0 + 3 * ldk + c), a3);
        }
      float t[4] = { hsum8 (a0), hsum8 (a1), hsum8 (a2), hsum8 (a3) };
      for (int r = 0; r < 4; r++)
        {
          for (int cc = c; cc < len; cc++)
            t[r] += x[cc] * k0[r * ldk + cc];
          s[j + r] = t[r] * scale;
        }
    }
  for (; j < n; j++)
    {
      const float *kj = k + (gsize) j * ldk;
      __m256 a = _mm256_setzero_ps ();
      int c = 0;
      for (; c + 8 <= len; c += 8)
        a = _mm256_fmadd_ps (_mm256_loadu_ps (x + c), _mm256_loadu_ps (kj + c), a);
      float t = hsum8 (a);
      for (; c < len; c++)
        t += x[c] * kj[c];
      s[j] = t * scale;
    }
}

/* Multiply, then add: the plain loop's two roundings, eight at a time. */
AVX2 static void
axpy8 (float a, const float *x, float *y, int n)
{
  __m256 av = _mm256_set1_ps (a);
  int c = 0;
  for (; c + 8 <= n; c += 8)
    _mm256_storeu_ps (y + c, _mm256_add_ps (_mm256_loadu_ps (y + c),
                                            _mm256_mul_ps (av, _mm256_loadu_ps (x + c))));
  for (; c < n; c++)
    y[c] += a * x[c];
}

ScCpuGemmIsa
sc_cpu_gemm_isa (void)
{
  static gsize once = 0;
  static ScCpuGemmIsa isa;
  if (g_once_init_enter (&once))
    {
      isa = cpu_isa ();
      g_once_init_leave (&once, 1);
    }
  return isa;
}

gboolean
sc_cpu_gemm_with (ScCpuGemmIsa isa, const float *x, int M, int K, const ScTensor *w,
                  gboolean accumulate, float *y, int ldy, int threads)
{
  if (isa == SC_CPU_GEMM_NONE || isa > sc_cpu_gemm_isa ())
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
    .isa = isa,
  };
  if (M <= 0 || j.N <= 0)
    return TRUE;
  /* A part is at least MIN_PART_MACS multiply-adds: waking a worker
   * costs a few microseconds, as much as that many. */
  gint64 macs = (gint64) M * K * j.N;
  int parts = (int) MAX (1, MIN (MIN (threads, (j.N + 15) / 16), macs / MIN_PART_MACS));
  float *packed = isa == SC_CPU_GEMM_AVX512 ? pack_inputs (x, M, K, &j.Kp) : NULL;
  j.xp = packed;
  sc_cpu_pool_run (parts, run_part, &j);
  g_aligned_free (packed);
  return TRUE;
}

#else

ScCpuGemmIsa
sc_cpu_gemm_isa (void)
{
  return SC_CPU_GEMM_NONE;
}

gboolean
sc_cpu_gemm_with (ScCpuGemmIsa isa, const float *x, int M, int K, const ScTensor *w,
                  gboolean accumulate, float *y, int ldy, int threads)
{
  return FALSE;
}

#endif

gboolean
sc_cpu_gemm_available (void)
{
  return sc_cpu_gemm_isa () != SC_CPU_GEMM_NONE;
}

gboolean
sc_cpu_gemm (const float *x, int M, int K, const ScTensor *w, gboolean accumulate, float *y,
             int ldy, int threads)
{
  return sc_cpu_gemm_with (sc_cpu_gemm_isa (), x, M, K, w, accumulate, y, ldy, threads);
}

void
sc_cpu_dots (ScCpuGemmIsa isa, const float *x, const float *k, gsize ldk, int n, int len,
             float scale, float *s)
{
#if defined(__x86_64__) && defined(__GNUC__)
  if (isa != SC_CPU_GEMM_NONE && sc_cpu_gemm_available ())
    {
      dots8 (x, k, ldk, n, len, scale, s);
      return;
    }
#endif
  for (int j = 0; j < n; j++)
    {
      const float *kj = k + (gsize) j * ldk;
      float t = 0.0f;
      for (int c = 0; c < len; c++)
        t += x[c] * kj[c];
      s[j] = t * scale;
    }
}

void
sc_cpu_axpy (float a, const float *x, float *y, int n)
{
#if defined(__x86_64__) && defined(__GNUC__)
  if (sc_cpu_gemm_available ())
    {
      axpy8 (a, x, y, n);
      return;
    }
#endif
  for (int c = 0; c < n; c++)
    y[c] += a * x[c];
}
