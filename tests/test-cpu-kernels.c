/* test-cpu-kernels.c: the CPU backend's own products
 * (engine/backend/cpu/sc-cpu-gemm.c), with each set of kernels this CPU
 * runs (AVX2, AVX-512), and their thread pool, against a naive
 * double-precision reference and against the path they replace (weights
 * widened to f32, then OpenBLAS sgemm), over random shapes: odd K, N not a
 * multiple of the vector width, M = 1..17 and beyond the tiles (25, 64),
 * f32, f16 and bf16 weights at unaligned addresses, 1 to 3 threads; that a
 * row's result does not depend on M; and that layer norm and attention
 * split over threads give what one thread gives. */
#include "sc-backend.h"
#include "cpu/sc-cpu-pool.h"
#include "cpu/sc-cpu-gemm.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <string.h>

typedef struct
{
  ScTensor w;
  guint8 *block; /* what was allocated: w.data is `shift` bytes in */
  float *wide;   /* the weights as f32, exactly as stored */
} Weights;

/* Random weights of a dtype, `shift` bytes past an allocation of exactly
 * their size (so that reading past the last one is an ASan error). Some
 * are tiny so that f16 subnormals occur. */
static void
weights_init (Weights *ws, GRand *rand, ScDType dt, int N, int K, int shift)
{
  gsize numel = (gsize) N * K, es = sc_dtype_size (dt);
  ws->block = g_malloc (numel * es + shift);
  guint8 *p = ws->block + shift;
  for (gsize i = 0; i < numel; i++)
    {
      float f = (float) g_rand_double_range (rand, -1.0, 1.0);
      if (g_rand_int_range (rand, 0, 16) == 0)
        f *= 1e-6f;
      if (dt == SC_DTYPE_F32)
        memcpy (p + i * es, &f, 4);
      else
        {
          guint16 h = dt == SC_DTYPE_F16 ? sc_f32_to_f16 (f) : sc_f32_to_bf16 (f);
          memcpy (p + i * es, &h, 2);
        }
    }
  ws->w =
      (ScTensor){ .dtype = dt, .n_dims = 2, .shape = { N, K }, .data = p, .nbytes = numel * es };
  ws->wide = g_new (float, numel ? numel : 1);
  sc_tensor_read_f32 (&ws->w, 0, numel, ws->wide);
}

static void
weights_clear (Weights *ws)
{
  g_free (ws->block);
  g_free (ws->wide);
}

/* Reference in double; bound[m, n] = the error allowed for a float sum of
 * K products, 2 K eps sum |x w| (the classic gamma_K bound, doubled), plus
 * the f32 rounding of the start value. */
static void
reference (const float *x, int M, int K, const float *w, int N, const float *y0, double *ref,
           double *bound)
{
  for (int m = 0; m < M; m++)
    for (int n = 0; n < N; n++)
      {
        double s = y0 != NULL ? y0[(gsize) m * N + n] : 0.0, a = fabs (s);
        for (int k = 0; k < K; k++)
          {
            double p = (double) x[(gsize) m * K + k] * w[(gsize) n * K + k];
            s += p;
            a += fabs (p);
          }
        ref[(gsize) m * N + n] = s;
        bound[(gsize) m * N + n] = 2.0 * (K + 1) * FLT_EPSILON * a + 1e-30;
      }
}

static void
assert_close (const float *got, const double *ref, const double *bound, gsize n, const char *what)
{
  for (gsize i = 0; i < n; i++)
    if (!(fabs (got[i] - ref[i]) <= bound[i]))
      g_error ("%s: element %zu is %.9g, reference %.9g, bound %.3g", what, i, got[i], ref[i],
               bound[i]);
}

static const char *
isa_name (ScCpuGemmIsa isa)
{
  return isa == SC_CPU_GEMM_AVX512 ? "AVX-512" : "AVX2";
}

static void
check_shape (GRand *rand, ScCpuGemmIsa isa, ScDType dt, int M, int K, int N, int threads,
             gboolean accumulate)
{
  int shift = g_rand_int_range (rand, 0, 2) * (dt == SC_DTYPE_F32 ? 4 : 2);
  Weights ws;
  weights_init (&ws, rand, dt, N, K, shift);
  g_autofree float *x = g_new (float, (gsize) M *K + 1);
  for (gsize i = 0; i < (gsize) M * K; i++)
    x[i] = (float) g_rand_double_range (rand, -2.0, 2.0);
  g_autofree float *y0 = g_new (float, (gsize) M *N);
  for (gsize i = 0; i < (gsize) M * N; i++)
    y0[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  g_autofree double *ref = g_new (double, (gsize) M *N);
  g_autofree double *bound = g_new (double, (gsize) M *N);
  reference (x, M, K, ws.wide, N, accumulate ? y0 : NULL, ref, bound);

  /* The kernel, into y that starts as y0 (kept when accumulating,
   * overwritten otherwise). */
  g_autofree float *y = g_memdup2 (y0, sizeof (float) * M * N);
  g_assert_true (sc_cpu_gemm_with (isa, x, M, K, &ws.w, accumulate, y, N, threads));
  g_autofree char *what =
      g_strdup_printf ("%s %s [%d,%d]x[%d,%d] threads %d%s", isa_name (isa), sc_dtype_name (dt), M,
                       K, N, K, threads, accumulate ? " accumulate" : "");
  assert_close (y, ref, bound, (gsize) M * N, what);

  /* Each row alone, on one thread: the same bits as in the batch. */
  g_autofree float *row = g_new (float, N);
  for (int m = 0; m < M; m++)
    {
      memcpy (row, y0 + (gsize) m * N, sizeof (float) * N);
      g_assert_true (sc_cpu_gemm_with (isa, x + (gsize) m * K, 1, K, &ws.w, accumulate, row, N, 1));
      if (memcmp (row, y + (gsize) m * N, sizeof (float) * N) != 0)
        g_error ("%s: row %d alone differs from the batch", what, m);
    }

  /* The path it replaces, widened weights through sgemm: the two agree
   * within both their bounds. */
  g_autofree float *old = g_memdup2 (y0, sizeof (float) * M * N);
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, x, K, ws.wide, K,
               accumulate ? 1.0f : 0.0f, old, N);
  for (gsize i = 0; i < (gsize) M * N; i++)
    if (!(fabs (y[i] - old[i]) <= 2.0 * bound[i]))
      g_error ("%s: element %zu is %.9g, widen+sgemm %.9g", what, i, y[i], old[i]);
  weights_clear (&ws);
}

static const ScDType dtypes[] = { SC_DTYPE_F32, SC_DTYPE_F16, SC_DTYPE_BF16 };

/* Every M = 1..17 and two beyond the tiles, with K and N around the
 * vector widths and tile sizes, for each set of kernels. */
static void
test_gemm_shapes (void)
{
  if (!sc_cpu_gemm_available ())
    {
      g_test_skip ("no AVX2/FMA/F16C on this CPU");
      return;
    }
  static const int Ks[] = { 1, 3, 7, 8, 9, 15, 16, 17, 31, 64, 100, 257 };
  static const int Ns[] = { 1, 2, 3, 4, 5, 15, 16, 17, 33, 50 };
  GRand *rand = g_rand_new_with_seed (1919);
  for (ScCpuGemmIsa isa = SC_CPU_GEMM_AVX2; isa <= sc_cpu_gemm_isa (); isa++)
    for (gsize d = 0; d < G_N_ELEMENTS (dtypes); d++)
      for (int M = 1; M <= 19; M++)
        for (gsize ki = 0; ki < G_N_ELEMENTS (Ks); ki++)
          {
            int N = Ns[g_rand_int_range (rand, 0, G_N_ELEMENTS (Ns))];
            int rows = M <= 17 ? M : M == 18 ? 25 : 64;
            check_shape (rand, isa, dtypes[d], rows, Ks[ki], N, g_rand_int_range (rand, 1, 4),
                         g_rand_boolean (rand));
          }
  g_rand_free (rand);
}

/* Shapes big enough to be split over threads (every thread gets rows),
 * with N cut at odd places. */
static void
test_gemm_threads (void)
{
  if (!sc_cpu_gemm_available ())
    {
      g_test_skip ("no AVX2/FMA/F16C on this CPU");
      return;
    }
  GRand *rand = g_rand_new_with_seed (7);
  static const int Ms[] = { 1, 2, 4, 5, 16, 40 };
  /* 1023 fits one block of columns; 2500 is two and a masked part. */
  static const int Ks[] = { 1023, 2500 };
  for (ScCpuGemmIsa isa = SC_CPU_GEMM_AVX2; isa <= sc_cpu_gemm_isa (); isa++)
    for (gsize d = 0; d < G_N_ELEMENTS (dtypes); d++)
      for (gsize mi = 0; mi < G_N_ELEMENTS (Ms); mi++)
        for (int threads = 1; threads <= 3; threads++)
          check_shape (rand, isa, dtypes[d], Ms[mi], Ks[(mi + threads) % 2],
                       1000 + g_rand_int_range (rand, 0, 40), threads, mi % 2 == 0);
  g_rand_free (rand);
}

/* The backend's linear (which sends products to the kernels or to sgemm
 * by rows, dtype, OpenBLAS's kernels and whether it is translating) with
 * and without bias, every M = 1..17 and 40, translating and not. */
static void
test_backend_linear (void)
{
  ScBackend *be = sc_backend_cpu_new (0);
  GRand *rand = g_rand_new_with_seed (15);
  for (int translating = 0; translating < 2; translating++)
    for (gsize d = 0; d < G_N_ELEMENTS (dtypes); d++)
      for (int i = 1; i <= 18; i++)
        {
          int M = i <= 17 ? i : 40;
          int K = 129 + 2 * i, N = 300 + i;
          Weights ws;
          weights_init (&ws, rand, dtypes[d], N, K, 0);
          g_autofree float *x = g_new (float, (gsize) M *K);
          for (gsize k = 0; k < (gsize) M * K; k++)
            x[k] = (float) g_rand_double_range (rand, -2.0, 2.0);
          g_autofree float *bias = g_new (float, N);
          for (int n = 0; n < N; n++)
            bias[n] = (float) g_rand_double_range (rand, -1.0, 1.0);
          gboolean with_bias = i % 2 == 1;
          g_autofree float *y0 = g_new (float, (gsize) M *N);
          for (int m = 0; m < M; m++)
            memcpy (y0 + (gsize) m * N, bias, sizeof (float) * N);
          g_autofree double *ref = g_new (double, (gsize) M *N);
          g_autofree double *bound = g_new (double, (gsize) M *N);
          reference (x, M, K, ws.wide, N, with_bias ? y0 : NULL, ref, bound);
          g_autofree float *y = g_new (float, (gsize) M *N);
          for (gsize k = 0; k < (gsize) M * N; k++)
            y[k] = NAN; /* linear must overwrite every output */
          gboolean was = translating ? sc_backend_translating_begin () : FALSE;
          be->linear (be, x, M, K, &ws.w, with_bias ? bias : NULL, y);
          if (translating)
            sc_backend_translating_end (was);
          g_autofree char *what = g_strdup_printf ("linear %s M %d%s", sc_dtype_name (dtypes[d]),
                                                   M, translating ? " translating" : "");
          assert_close (y, ref, bound, (gsize) M * N, what);
          weights_clear (&ws);
        }
  g_rand_free (rand);
  sc_backend_free (be);
}

/* Layer norm over many rows (split over threads) gives each row bit for
 * bit what it gives that row alone (one thread). */
static void
test_layer_norm_rows (void)
{
  ScBackend *be = sc_backend_cpu_new (0);
  GRand *rand = g_rand_new_with_seed (42);
  int M = 301, d = 1024;
  g_autofree float *x = g_new (float, (gsize) M * d);
  g_autofree float *g = g_new (float, d);
  g_autofree float *b = g_new (float, d);
  for (gsize i = 0; i < (gsize) M * d; i++)
    x[i] = (float) g_rand_double_range (rand, -3.0, 3.0);
  for (int i = 0; i < d; i++)
    {
      g[i] = (float) g_rand_double_range (rand, 0.5, 1.5);
      b[i] = (float) g_rand_double_range (rand, -0.1, 0.1);
    }
  g_autofree float *y = g_new (float, (gsize) M * d);
  g_autofree float *row = g_new (float, d);
  be->layer_norm (be, x, M, d, g, b, 1e-5f, y);
  for (int m = 0; m < M; m++)
    {
      be->layer_norm (be, x + (gsize) m * d, 1, d, g, b, 1e-5f, row);
      g_assert_cmpmem (y + (gsize) m * d, sizeof (float) * d, row, sizeof (float) * d);
    }
  g_rand_free (rand);
  sc_backend_free (be);
}

/* n floats uniform in [-1, 1). */
static float *
random_floats (GRand *rand, gsize n)
{
  float *p = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    p[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  return p;
}

/* Attention of a few queries over many heads and keys (split over threads
 * by heads) gives each head bit for bit what it gives alone, masks and
 * causality included. */
static void
test_attention_heads (void)
{
  ScBackend *be = sc_backend_cpu_new (0);
  GRand *rand = g_rand_new_with_seed (43);
  int Tq = 4, Tk = 300, H = 16, hd = 64, d = H * hd;
  g_autofree float *q = random_floats (rand, (gsize) Tq * d);
  g_autofree float *k = random_floats (rand, (gsize) Tk * d);
  g_autofree float *v = random_floats (rand, (gsize) Tk * d);
  g_autofree guint8 *valid = g_new (guint8, Tk);
  for (int j = 0; j < Tk; j++)
    valid[j] = j % 7 != 3;
  for (int causal = 0; causal <= 1; causal++)
    {
      g_autofree float *out = g_new (float, (gsize) Tq * d);
      g_autofree float *one = g_new (float, (gsize) Tq * d);
      be->attention (be, q, d, k, v, d, Tq, Tk, H, hd, valid, causal, Tk - Tq, out, d);
      for (int h = 0; h < H; h++)
        be->attention (be, q + h * hd, d, k + h * hd, v + h * hd, d, Tq, Tk, 1, hd, valid, causal,
                       Tk - Tq, one + h * hd, d);
      g_assert_cmpmem (out, sizeof (float) * Tq * d, one, sizeof (float) * Tq * d);
    }
  g_rand_free (rand);
  sc_backend_free (be);
}

/* One query's scores over keys with a row stride (lengths off the vector
 * width, odd key counts for the groups of four) against double precision,
 * the plain order bit for bit, and the weighted-value update bit for bit
 * against its plain loop. */
static void
test_attention_dots (void)
{
  GRand *rand = g_rand_new_with_seed (44);
  static const int lens[] = { 1, 7, 8, 9, 15, 16, 63, 64, 65, 100 };
  for (guint li = 0; li < G_N_ELEMENTS (lens); li++)
    for (int n = 1; n <= 11; n += (n < 9 ? 1 : 2))
      {
        int len = lens[li], ldk = len + 3;
        g_autofree float *x = g_new (float, len + 1);
        g_autofree float *k = g_new (float, (gsize) n * ldk + 1);
        g_autofree float *s = g_new (float, n + 1);
        /* one float in: unaligned */
        for (int c = 0; c <= len; c++)
          x[c] = (float) g_rand_double_range (rand, -2.0, 2.0);
        for (int i = 0; i <= n * ldk; i++)
          k[i] = (float) g_rand_double_range (rand, -2.0, 2.0);
        s[n] = 42.0f;
        sc_cpu_dots (sc_cpu_gemm_isa (), x + 1, k + 1, ldk, n, len, 0.125f, s);
        g_assert_cmpfloat (s[n], ==, 42.0f);
        for (int j = 0; j < n; j++)
          {
            double ref = 0.0, a = 0.0;
            for (int c = 0; c < len; c++)
              {
                double p = (double) x[1 + c] * k[1 + (gsize) j * ldk + c];
                ref += p;
                a += fabs (p);
              }
            if (!(fabs (s[j] - 0.125 * ref) <= 0.125 * 2.0 * (len + 1) * FLT_EPSILON * a + 1e-30))
              g_error ("dots len %d n %d key %d: %.9g, reference %.9g", len, n, j, s[j],
                       0.125 * ref);
          }
        /* NONE: the plain loop's order, bit for bit */
        sc_cpu_dots (SC_CPU_GEMM_NONE, x + 1, k + 1, ldk, n, len, 0.125f, s);
        for (int j = 0; j < n; j++)
          {
            float t = 0.0f;
            for (int c = 0; c < len; c++)
              t += x[1 + c] * k[1 + (gsize) j * ldk + c];
            g_assert_cmpfloat (s[j], ==, t * 0.125f);
          }

        g_autofree float *y = g_new (float, len + 1);
        g_autofree float *y_ref = g_new (float, len + 1);
        for (int c = 0; c <= len; c++)
          y[c] = y_ref[c] = (float) g_rand_double_range (rand, -1.0, 1.0);
        float a = (float) g_rand_double_range (rand, 0.0, 1.0);
        sc_cpu_axpy (a, k + 1, y, len);
        for (int c = 0; c < len; c++)
          y_ref[c] += a * k[1 + c];
        g_assert_cmpmem (y, sizeof (float) * (len + 1), y_ref, sizeof (float) * (len + 1));
      }
  g_rand_free (rand);
}

/* The backend's attention, one query (a decoding step) and a block of
 * queries (an encoder, translating or not), with masks and causality,
 * against softmax(q·kᵀ / sqrt(hd))·v in double precision. */
static void
test_attention_reference (void)
{
  ScBackend *be = sc_backend_cpu_new (0);
  GRand *rand = g_rand_new_with_seed (45);
  int Tk = 37, H = 3, hd = 40, d = H * hd;
  g_autofree float *q = random_floats (rand, (gsize) Tk * d);
  g_autofree float *k = random_floats (rand, (gsize) Tk * d);
  g_autofree float *v = random_floats (rand, (gsize) Tk * d);
  g_autofree guint8 *valid = g_new (guint8, Tk);
  for (int j = 0; j < Tk; j++)
    valid[j] = j % 5 != 2;
  g_autofree float *out = g_new (float, (gsize) Tk * d);
  g_autofree double *p = g_new (double, Tk);
  for (int translating = 0; translating <= 1; translating++)
    for (int Tq = 1; Tq <= Tk; Tq += Tk - 1)
      for (int causal = 0; causal <= 1; causal++)
        {
          gboolean was = translating ? sc_backend_translating_begin () : FALSE;
          be->attention (be, q, d, k, v, d, Tq, Tk, H, hd, valid, causal, Tk - Tq, out, d);
          if (translating)
            sc_backend_translating_end (was);
          for (int h = 0; h < H; h++)
            for (int i = 0; i < Tq; i++)
              {
                int last = causal ? i + Tk - Tq : Tk - 1;
                double max = -INFINITY, sum = 0.0;
                for (int j = 0; j <= last; j++)
                  {
                    double s = 0.0;
                    for (int c = 0; c < hd; c++)
                      s += (double) q[(gsize) i * d + h * hd + c] * k[(gsize) j * d + h * hd + c];
                    p[j] = valid[j] ? s / sqrt ((double) hd) : -INFINITY;
                    max = MAX (max, p[j]);
                  }
                for (int j = 0; j <= last; j++)
                  sum += p[j] = exp (p[j] - max);
                for (int c = 0; c < hd; c++)
                  {
                    double o = 0.0;
                    for (int j = 0; j <= last; j++)
                      o += p[j] / sum * v[(gsize) j * d + h * hd + c];
                    float got = out[(gsize) i * d + h * hd + c];
                    if (!(fabs (got - o) <= 1e-5))
                      g_error ("attention Tq %d causal %d translating %d head %d query %d col %d: "
                               "%.9g, reference %.9g",
                               Tq, causal, translating, h, i, c, got, o);
                  }
              }
        }
  g_rand_free (rand);
  sc_backend_free (be);
}

typedef struct
{
  gint ran[8];
  gint wrong_parts;
} PoolCount;

static void
count_part (gpointer data, int part, int parts)
{
  PoolCount *c = data;
  if (parts != 5)
    g_atomic_int_inc (&c->wrong_parts);
  g_atomic_int_inc (&c->ran[part]);
}

/* Every part runs exactly once, call after call. */
static void
test_pool_parts (void)
{
  for (int round = 0; round < 200; round++)
    {
      PoolCount c = { 0 };
      sc_cpu_pool_run (5, count_part, &c);
      g_assert_cmpint (c.wrong_parts, ==, 0);
      for (int i = 0; i < 5; i++)
        g_assert_cmpint (c.ran[i], ==, 1);
      for (int i = 5; i < 8; i++)
        g_assert_cmpint (c.ran[i], ==, 0);
    }
}

static gpointer
pool_user (gpointer data)
{
  for (int round = 0; round < 300; round++)
    {
      PoolCount c = { 0 };
      sc_cpu_pool_run (5, count_part, &c);
      for (int i = 0; i < 5; i++)
        if (c.ran[i] != 1 || c.wrong_parts != 0)
          return GINT_TO_POINTER (1);
    }
  return NULL;
}

/* Two threads using the pool at once (two decodings in one process): the
 * one that finds it busy runs its parts itself, and both get all parts. */
static void
test_pool_concurrent (void)
{
  GThread *a = g_thread_new ("a", pool_user, NULL);
  GThread *b = g_thread_new ("b", pool_user, NULL);
  g_assert_null (g_thread_join (a));
  g_assert_null (g_thread_join (b));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cpu-kernels/gemm/shapes", test_gemm_shapes);
  g_test_add_func ("/cpu-kernels/gemm/threads", test_gemm_threads);
  g_test_add_func ("/cpu-kernels/backend-linear", test_backend_linear);
  g_test_add_func ("/cpu-kernels/layer-norm/rows", test_layer_norm_rows);
  g_test_add_func ("/cpu-kernels/attention/heads", test_attention_heads);
  g_test_add_func ("/cpu-kernels/attention/dots", test_attention_dots);
  g_test_add_func ("/cpu-kernels/attention/reference", test_attention_reference);
  g_test_add_func ("/cpu-kernels/pool/parts", test_pool_parts);
  g_test_add_func ("/cpu-kernels/pool/concurrent", test_pool_concurrent);
  return g_test_run ();
}
