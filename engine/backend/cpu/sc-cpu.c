/* sc-cpu.c: the CPU backend. Matrix products go to OpenBLAS, which brings
 * its own threads, or to Secateur's kernels (sc-cpu-gemm.c, use_kernels)
 * on a pool of as many threads; the element-wise kernels are plain loops
 * (split over that pool when large). There is
 * deliberately no OpenMP: two thread pools spinning on the same cores (the
 * OpenMP one between regions, OpenBLAS' inside sgemm) slowed beam search a
 * hundredfold on 2 cores. Each kernel is the numerical reference for other
 * backends. */
#include "sc-backend.h"

#include "sc-cpu-pool.h"
#include "sc-cpu-gemm.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <string.h>

/* Floats of a reduced-precision weight widened per sgemm call (1 MiB):
 * small enough to stay in cache, large enough to keep sgemm efficient. */
#define WIDEN_FLOATS (256 * 1024)

/* Products of up to this many rows are a decoding step's (use_kernels). */
#define FEW_ROWS 16

/* The least work (floats of input) worth waking a pool thread for: a wake
 * costs a few microseconds. */
#define MIN_PART_FLOATS (64 * 1024)

typedef struct
{
  ScBackend parent;
  int threads;
} ScCpuBackend;

/* Widen rows [n0, n0+nr) of W[N,K] to f32. */
static void
widen_rows (const ScTensor *w, int K, int n0, int nr, float *dst)
{
  sc_tensor_read_f32 (w, (int64_t) n0 * K, (int64_t) nr * K, dst);
}

/* The widening buffer, one per thread and reused: allocating 1 MiB per
 * call went through mmap/munmap and page faults on every token. */
typedef struct
{
  gsize cap;
  float data[];
} WidenTile;

static GPrivate widen_tile_key = G_PRIVATE_INIT (g_free);

static float *
widen_tile (gsize floats)
{
  WidenTile *t = g_private_get (&widen_tile_key);
  if (t == NULL || t->cap < floats)
    {
      t = g_malloc (sizeof (WidenTile) + sizeof (float) * floats);
      t->cap = floats;
      g_private_replace (&widen_tile_key, t);
    }
  return t->data;
}

/* y[M,N] (row stride ldy) = x[M,K]·W[N,K]ᵀ + beta·y. One row (a greedy
 * decoding step) goes to sgemv: OpenBLAS 0.3.21's sgemm has no forwarding
 * to gemv and copies (packs) the whole of W before multiplying, which for
 * one row reads and writes every weight twice more than needed. */
static void
product (const float *x, int M, int K, const float *w, int N, float beta, float *y, int ldy)
{
  if (M == 1)
    cblas_sgemv (CblasRowMajor, CblasNoTrans, N, K, 1.0f, w, K, x, 1, beta, y, 1);
  else
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, x, K, w, K, beta, y, ldy);
}

/* Whether the kernels OpenBLAS chose (it names them) are one of `cores`, a
 * NULL-terminated list of lower-case name prefixes. Debian's 0.3.21 takes
 * its SSE3 "Prescott" ones on CPUs it does not know, such as this
 * machine's. */
static gboolean
blas_core_is (const char *const *cores)
{
  g_autofree char *core = g_ascii_strdown (openblas_get_corename (), -1);
  for (guint i = 0; cores[i] != NULL; i++)
    if (g_str_has_prefix (core, cores[i]))
      return TRUE;
  return FALSE;
}

static const char *const avx512_cores[] = { "skylakex", "cooperlake", "sapphirerapids", NULL };
static const char *const avx2_cores[] = { "haswell",    "zen",        "excavator",
                                          "skylakex",   "cooperlake", "sapphirerapids",
                                          NULL };

/* Which vector width OpenBLAS's kernels use; asked on every product, so
 * once. */
typedef struct
{
  gboolean avx2, avx512;
} BlasCores;

static const BlasCores *
blas_cores (void)
{
  static gsize once = 0;
  static BlasCores cores;
  if (g_once_init_enter (&once))
    {
      cores.avx2 = blas_core_is (avx2_cores);
      cores.avx512 = blas_core_is (avx512_cores);
      g_once_init_leave (&once, 1);
    }
  return &cores;
}

char *
sc_backend_cpu_describe (void)
{
  GString *s = g_string_new (NULL);
  g_autofree char *config = g_strstrip (g_strdup (openblas_get_config ()));
  ScCpuGemmIsa isa = sc_cpu_gemm_isa ();
  g_string_append_printf (s, "OpenBLAS %s kernels (%s); Secateur's kernels %s",
                          openblas_get_corename (), config,
                          isa == SC_CPU_GEMM_AVX512 ? "AVX-512"
                          : isa == SC_CPU_GEMM_AVX2 ? "AVX2/FMA/F16C"
                                                    : "off (the CPU lacks AVX2, FMA or F16C)");
#if defined(__x86_64__) && defined(__GNUC__)
  /* OpenBLAS takes its kernels from CPUID when it is loaded, before any
   * code of ours runs; one that does not know a newer CPU falls back to
   * SSE3 ones, and only the environment can tell it otherwise. */
  __builtin_cpu_init ();
  if (!blas_cores ()->avx2 && __builtin_cpu_supports ("avx2") &&
      __builtin_cpu_supports ("fma"))
    {
      gboolean avx512 = __builtin_cpu_supports ("avx512f") && __builtin_cpu_supports ("avx512bw") &&
                        __builtin_cpu_supports ("avx512vl") && __builtin_cpu_supports ("avx512dq");
      g_string_append_printf (s,
                              "\n  This CPU has AVX2 but OpenBLAS did not recognise it: "
                              "OPENBLAS_CORETYPE=%s in the environment makes its large "
                              "matrix products (calibration, sparsify) 2-3x faster",
                              avx512 ? "SkylakeX" : "Haswell");
    }
#endif
  return g_string_free (s, FALSE);
}

/* Which products go to Secateur's kernels (sc-cpu-gemm.c) rather than
 * OpenBLAS, by bench-kernels (bench/RESULTS.md, issue 19; d_model 1024
 * shapes, one thread's CPU time, kernels / OpenBLAS, AVX-512 kernels with
 * packed inputs, bench/results/kernels/2026-12-04-packed.txt).
 *
 * Up to 16 rows (decoding steps): always. Against OpenBLAS's AVX-512
 * sgemm 0.55-0.65 (f32) and 0.37-0.62 (f16, which OpenBLAS has to widen
 * first); against its AVX2 and SSE3 ones further ahead.
 *
 * More rows (encoders, beam 4 at batch 16, teacher forcing): where
 * OpenBLAS runs no AVX-512 kernels and the kernels are wider than its
 * own (against its AVX2 sgemm 0.57-1.03 at 64 and 400 rows, its SSE3 one
 * 0.3-0.4), or it has no AVX2 kernels at all. Against its AVX-512 sgemm
 * the kernels are even at 64 rows (f32; 0.70-0.88 with f16 weights) and
 * 1.3-1.7x its time at 400, so OpenBLAS keeps those. Tried and undone:
 * f32 64-row steps (beam 4 at batch 16) on the kernels were slower;
 * 17-64-row products with f16 weights were faster there but made the
 * demo model's beam 4 about 45 % slower, with the scheduler's wake-ups
 * at 30 % of its profile (likely a short sentence's small encoder
 * products, split over the pool's threads).
 *
 * f32 weights go to the kernels, beyond one row, only while translating
 * (sc_backend_translating_begin): there a row rounds the same in a batch
 * as alone, since the kernels sum each output in one order whatever M.
 * Elsewhere they stay on sgemm: the experts' products of a teacher-forced
 * calibration, summed in the kernels' order, flip near-ties of SparseGPT
 * 2:4 on the nllb-moe-tiny fixture layers earlier than OpenBLAS's SSE3
 * and AVX2 sgemm do (45 564 of 786 432 mask entries then differ from the
 * torch reference, against 16 872; its AVX-512 sgemm 43 722): neither
 * order is the more accurate (bench/RESULTS.md, issue 19), and teacher-
 * forced results stay those of OpenBLAS as before. */
static _Thread_local gboolean translating;

gboolean
sc_backend_translating_begin (void)
{
  gboolean was = translating;
  translating = TRUE;
  return was;
}

void
sc_backend_translating_end (gboolean previous)
{
  translating = previous;
}

static gboolean
use_kernels (int M, const ScTensor *w)
{
  if (M == 1)
    return TRUE;
  if (w->dtype == SC_DTYPE_F32 && !translating)
    return FALSE;
  if (M <= FEW_ROWS)
    return TRUE;
  if (!blas_cores ()->avx2)
    return TRUE;
  return !blas_cores ()->avx512 && sc_cpu_gemm_isa () == SC_CPU_GEMM_AVX512;
}

/* The widest kernels, except for f32 one-row products outside
 * translation, which keep the 8-lane order the goldens above were made
 * with (an expert with one token routed to it). */
static ScCpuGemmIsa
kernels_isa (const ScTensor *w)
{
  ScCpuGemmIsa isa = sc_cpu_gemm_isa ();
  if (w->dtype == SC_DTYPE_F32 && !translating)
    isa = MIN (isa, SC_CPU_GEMM_AVX2);
  return isa;
}

/* linear: y = x·Wᵀ + b. f32 weights are used in place from the mapping. */
static void
cpu_linear (ScBackend *be, const float *x, int M, int K, const ScTensor *w, const float *bias,
            float *y)
{
  int N = (int) w->shape[0];

  if (bias != NULL)
    {
      for (int m = 0; m < M; m++)
        memcpy (y + (gsize) m * N, bias, sizeof (float) * N);
    }
  float beta = bias != NULL ? 1.0f : 0.0f;

  /* One pass over the weights in their stored dtype, or a block of them
   * per block of rows (sc-cpu-gemm.c), with as many threads as OpenBLAS so
   * that the two never oversubscribe the cores. */
  if (use_kernels (M, w) && sc_cpu_gemm_with (kernels_isa (w), x, M, K, w, bias != NULL, y, N,
                                              openblas_get_num_threads ()))
    return;

  if (w->dtype == SC_DTYPE_F32)
    {
      product (x, M, K, w->data, N, beta, y, N);
      return;
    }

  /* Reduced precision: widen a tile of rows, multiply it, move on. The
   * model is never copied to f32 as a whole. */
  int rows = MAX (1, MIN (N, WIDEN_FLOATS / MAX (K, 1)));
  float *tile = widen_tile ((gsize) rows * K);
  for (int n0 = 0; n0 < N; n0 += rows)
    {
      int nr = MIN (rows, N - n0);
      widen_rows (w, K, n0, nr, tile);
      product (x, M, K, tile, nr, beta, y + n0, N);
    }
}

/* layer_norm: biased variance, as torch.nn.LayerNorm; accumulated in double
 * so that the mean of large rows stays exact. */
static void
layer_norm_rows (const float *x, int m0, int m1, int d, const float *g, const float *b, float eps,
                 float *y)
{
  for (int m = m0; m < m1; m++)
    {
      const float *xr = x + (gsize) m * d;
      float *yr = y + (gsize) m * d;
      double sum = 0.0;
      for (int i = 0; i < d; i++)
        sum += xr[i];
      double mean = sum / d;
      double var = 0.0;
      for (int i = 0; i < d; i++)
        {
          double c = xr[i] - mean;
          var += c * c;
        }
      var /= d;
      float rstd = (float) (1.0 / sqrt (var + eps));
      float fmean = (float) mean;
      for (int i = 0; i < d; i++)
        yr[i] = (xr[i] - fmean) * rstd * g[i] + b[i];
    }
}

typedef struct
{
  const float *x, *g, *b;
  int M, d;
  float eps;
  float *y;
} LayerNormJob;

static void
layer_norm_part (gpointer data, int part, int parts)
{
  const LayerNormJob *j = data;
  int m0 = (int) ((gint64) j->M * part / parts), m1 = (int) ((gint64) j->M * (part + 1) / parts);
  layer_norm_rows (j->x, m0, m1, j->d, j->g, j->b, j->eps, j->y);
}

/* Many rows (the encoder, teacher forcing) are split over the pool's
 * threads; each row is computed as on one thread. */
static void
cpu_layer_norm (ScBackend *be, const float *x, int M, int d, const float *g, const float *b,
                float eps, float *y)
{
  LayerNormJob j = { .x = x, .g = g, .b = b, .M = M, .d = d, .eps = eps, .y = y };
  gint64 work = (gint64) M * d / MIN_PART_FLOATS;
  int parts = (int) MAX (1, MIN (MIN (openblas_get_num_threads (), M), work));
  sc_cpu_pool_run (parts, layer_norm_part, &j);
}

/* embed: scaled token rows plus sinusoidal positions. Sines fill the first
 * half of the row, cosines the second (not interleaved); the frequencies are
 * computed in f32 as Hugging Face builds its table. */
static void
cpu_embed (ScBackend *be, const ScTensor *table, const int *ids, const int *positions, int n,
           float scale, float *out)
{
  int d = (int) table->shape[1];
  int half = d / 2;
  float *freq = g_newa (float, half > 0 ? half : 1);
  float step = (float) (log (10000.0) / (half - 1));
  for (int j = 0; j < half; j++)
    freq[j] = expf ((float) j * -step);

  for (int i = 0; i < n; i++)
    {
      float *row = out + (gsize) i * d;
      sc_tensor_read_f32 (table, (int64_t) ids[i] * d, d, row);
      for (int j = 0; j < d; j++)
        row[j] *= scale;
      if (positions == NULL || positions[i] == 1)
        continue;
      float p = (float) positions[i];
      for (int j = 0; j < half; j++)
        {
          float a = p * freq[j];
          row[j] += sinf (a);
          row[half + j] += cosf (a);
        }
    }
}

/* The loops of one query at a time (a decoding step), heads [h0, h1). */
typedef struct
{
  const float *q, *k, *v;
  int ldq, ldk, Tq, Tk, H, hd;
  const guint8 *key_valid;
  gboolean causal;
  int causal_offset;
  float *out;
  int ldo;
  float scale;
  ScCpuGemmIsa dots_isa;
} AttentionJob;

static void
attend_heads (const AttentionJob *a, int h0, int h1)
{
  const float *q = a->q, *k = a->k, *v = a->v;
  int ldq = a->ldq, ldk = a->ldk, Tq = a->Tq, Tk = a->Tk, hd = a->hd, ldo = a->ldo;
  const guint8 *key_valid = a->key_valid;
  gboolean causal = a->causal;
  int causal_offset = a->causal_offset;
  float *out = a->out;
  float scale = a->scale;
  float *scores = g_malloc (sizeof (float) * (Tk > 0 ? Tk : 1));
  for (int h = h0; h < h1; h++)
    for (int i = 0; i < Tq; i++)
      {
        const float *qi = q + (gsize) i * ldq + h * hd;
        float *oi = out + (gsize) i * ldo + h * hd;
        int last = causal ? MIN (Tk - 1, i + causal_offset) : Tk - 1;
        float max = -INFINITY;
        sc_cpu_dots (a->dots_isa, qi, k + h * hd, ldk, last + 1, hd, scale, scores);
        for (int j = 0; j <= last; j++)
          {
            if (key_valid != NULL && !key_valid[j])
              scores[j] = -INFINITY;
            else if (scores[j] > max)
              max = scores[j];
          }
        memset (oi, 0, sizeof (float) * hd);
        if (max == -INFINITY)
          continue;
        float sum = 0.0f;
        for (int j = 0; j <= last; j++)
          {
            float e = scores[j] == -INFINITY ? 0.0f : expf (scores[j] - max);
            scores[j] = e;
            sum += e;
          }
        float inv = 1.0f / sum;
        for (int j = 0; j <= last; j++)
          {
            if (scores[j] == 0.0f)
              continue;
            float p = scores[j] * inv;
            sc_cpu_axpy (p, v + (gsize) j * ldk + h * hd, oi, hd);
          }
      }
  g_free (scores);
}

static void
attention_part (gpointer data, int part, int parts)
{
  const AttentionJob *a = data;
  attend_heads (a, (int) ((gint64) a->H * part / parts),
                (int) ((gint64) a->H * (part + 1) / parts));
}

/* attention: softmax((q·kᵀ)/sqrt(hd)) · v per head. Masked keys are skipped,
 * which equals Hugging Face's additive finfo.min mask whenever a query has
 * at least one visible key (always true for NLLB inputs). */
static void
cpu_attention (ScBackend *be, const float *q, int ldq, const float *k, const float *v, int ldk,
               int Tq, int Tk, int H, int hd, const guint8 *key_valid, gboolean causal,
               int causal_offset, float *out, int ldo)
{
  float scale = 1.0f / sqrtf ((float) hd);

  /* Many queries (encoder, teacher forcing): per head, the scores Q·Kᵀ and
   * the output P·V are matrix products, so OpenBLAS does the work and its
   * threads. One query (a decoding step), and a translation's encoder: the
   * plain loops below, split over heads; OpenBLAS spent more on waking its
   * threads for a sentence's small per-head products (Tq = Tk = 61, hd =
   * 64) than on them. */
  if (Tq >= 8 && Tk > 0 && !translating)
    {
      float *S = g_malloc (sizeof (float) * (gsize) Tq * Tk);
      for (int h = 0; h < H; h++)
        {
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, Tq, Tk, hd, scale, q + h * hd, ldq,
                       k + h * hd, ldk, 0.0f, S, Tk);
          for (int i = 0; i < Tq; i++)
            {
              float *row = S + (gsize) i * Tk;
              int last = causal ? MIN (Tk - 1, i + causal_offset) : Tk - 1;
              float max = -INFINITY;
              for (int j = 0; j <= last; j++)
                if ((key_valid == NULL || key_valid[j]) && row[j] > max)
                  max = row[j];
              float sum = 0.0f;
              for (int j = 0; j < Tk; j++)
                {
                  gboolean visible = j <= last && (key_valid == NULL || key_valid[j]);
                  row[j] = visible && max != -INFINITY ? expf (row[j] - max) : 0.0f;
                  sum += row[j];
                }
              float inv = sum > 0.0f ? 1.0f / sum : 0.0f;
              for (int j = 0; j < Tk; j++)
                row[j] *= inv;
            }
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, Tq, hd, Tk, 1.0f, S, Tk,
                       v + h * hd, ldk, 0.0f, out + h * hd, ldo);
        }
      g_free (S);
      return;
    }

  /* Heads are independent: split over the pool's threads when there is
   * enough work (long sequences, many heads); each is computed as on one
   * thread. */
  AttentionJob a = { .q = q,
                     .k = k,
                     .v = v,
                     .ldq = ldq,
                     .ldk = ldk,
                     .Tq = Tq,
                     .Tk = Tk,
                     .H = H,
                     .hd = hd,
                     .key_valid = key_valid,
                     .causal = causal,
                     .causal_offset = causal_offset,
                     .out = out,
                     .ldo = ldo,
                     .scale = scale,
                     /* Vector sums only while translating, as in
                      * cpu_linear: teacher-forced passes keep the plain
                      * order their SparseGPT goldens were made in. */
                     .dots_isa = translating ? sc_cpu_gemm_isa () : SC_CPU_GEMM_NONE };
  gint64 work = (gint64) 2 * Tq * Tk * H * hd / MIN_PART_FLOATS;
  int parts = (int) MAX (1, MIN (MIN (openblas_get_num_threads (), H), work));
  sc_cpu_pool_run (parts, attention_part, &a);
}

static void
cpu_relu (ScBackend *be, float *x, gsize n)
{
  for (gsize i = 0; i < n; i++)
    x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

static void
cpu_add (ScBackend *be, float *y, const float *x, gsize n)
{
  for (gsize i = 0; i < n; i++)
    y[i] += x[i];
}

/* softmax: max-subtracted, in f32 as the router does. */
static void
cpu_softmax (ScBackend *be, float *x, int M, int N)
{
  for (int m = 0; m < M; m++)
    {
      float *r = x + (gsize) m * N;
      float max = -INFINITY;
      for (int j = 0; j < N; j++)
        max = MAX (max, r[j]);
      if (max == -INFINITY)
        {
          memset (r, 0, sizeof (float) * N);
          continue;
        }
      float sum = 0.0f;
      for (int j = 0; j < N; j++)
        {
          r[j] = expf (r[j] - max);
          sum += r[j];
        }
      for (int j = 0; j < N; j++)
        r[j] /= sum;
    }
}

/* router_top2: top-1 by probability, top-2 by logit among the rest, both
 * among kept experts; weights p/(p1+p2) clamped at FLT_EPSILON. */
static void
cpu_router_top2 (ScBackend *be, const float *logits, int n, int E, const guint8 *keep,
                 const guint8 *valid, float *probs, int *top1, int *top2, float *w1, float *w2)
{
  float *l = g_new (float, E);
  for (int t = 0; t < n; t++)
    {
      float *p = probs + (gsize) t * E;
      for (int e = 0; e < E; e++)
        l[e] = keep == NULL || keep[e] ? logits[(gsize) t * E + e] : -INFINITY;
      memcpy (p, l, sizeof (float) * E);
      cpu_softmax (be, p, 1, E);
      if (valid != NULL && !valid[t])
        {
          top1[t] = top2[t] = -1;
          w1[t] = w2[t] = 0.0f;
          continue;
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
          continue;
        }
      float denom = MAX (p[a] + p[b], FLT_EPSILON);
      w1[t] = p[a] / denom;
      w2[t] = p[b] / denom;
    }
  g_free (l);
}

static void
cpu_gather_rows (ScBackend *be, const float *src, int d, const int *idx, int m, float *dst)
{
  for (int i = 0; i < m; i++)
    memcpy (dst + (gsize) i * d, src + (gsize) idx[i] * d, sizeof (float) * d);
}

/* scatter_add_rows: w * (y * scale), the product order of the MoE block. */
static void
cpu_scatter_add_rows (ScBackend *be, float *dst, int d, const int *idx, const float *w, float scale,
                      int m, const float *src)
{
  for (int i = 0; i < m; i++)
    {
      float *o = dst + (gsize) idx[i] * d;
      const float *y = src + (gsize) i * d;
      for (int j = 0; j < d; j++)
        o[j] += w[i] * (y[j] * scale);
    }
}

static void
cpu_gate_stats (ScBackend *be, const float *probs, const int *top1, const int *top2, int n, int E,
                double *acc)
{
  for (int t = 0; t < n; t++)
    {
      if (top1[t] < 0)
        continue;
      const float *p = probs + (gsize) t * E;
      acc[top1[t]] += 1.0;
      acc[2 * E + top1[t]] += p[top1[t]];
      if (top2[t] >= 0)
        {
          acc[E + top2[t]] += 1.0;
          acc[3 * E + top2[t]] += p[top2[t]];
        }
      for (int e = 0; e < E; e++)
        acc[4 * E + e] += p[e];
      acc[5 * E] += 1.0;
    }
}

ScBackend *
sc_backend_cpu_new (int threads)
{
  ScCpuBackend *cpu = g_new0 (ScCpuBackend, 1);
  cpu->threads = threads > 0 ? threads : (int) g_get_num_processors ();
  openblas_set_num_threads (cpu->threads);
  cpu->parent.name = "cpu";
  cpu->parent.linear = cpu_linear;
  cpu->parent.layer_norm = cpu_layer_norm;
  cpu->parent.embed = cpu_embed;
  cpu->parent.attention = cpu_attention;
  cpu->parent.relu = cpu_relu;
  cpu->parent.add = cpu_add;
  cpu->parent.softmax = cpu_softmax;
  cpu->parent.router_top2 = cpu_router_top2;
  cpu->parent.gather_rows = cpu_gather_rows;
  cpu->parent.scatter_add_rows = cpu_scatter_add_rows;
  cpu->parent.gate_stats = cpu_gate_stats;
  return &cpu->parent;
}

void
sc_backend_free (ScBackend *be)
{
  if (be != NULL && be->destroy != NULL)
    {
      be->destroy (be);
      return;
    }
  g_free (be);
}
