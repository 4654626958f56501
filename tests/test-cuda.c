/* test-cuda: every CUDA kernel against its CPU reference (sc-cpu.c), on
 * random inputs, with the tolerance stated at each check; and backend
 * selection. The kernel tests skip (never pass) when the CUDA module is not
 * built or no device is present. */
#include "sc-backend-select.h"
#include "sc-model.h"
#include "sc-view.h"
#include "sc-sparsity.h"
#include "sc-test-util.h"

#include <math.h>
#include <string.h>

static ScBackend *cpu;

/* The CUDA backend, or NULL after marking the test skipped. */
static ScBackend *
cuda_or_skip (void)
{
  static ScBackend *cuda;
  static char *why;
  if (cuda == NULL && why == NULL)
    {
      g_autoptr (GError) error = NULL;
      int n = sc_backend_cuda_devices (&error);
      if (n < 0)
        why = g_strdup_printf ("CUDA tests skipped: %s", error->message);
      else if (n == 0)
        why = g_strdup ("CUDA tests skipped: no CUDA device is present");
      else if ((cuda = sc_backend_new ("cuda", 0, NULL, &error)) == NULL)
        why = g_strdup_printf ("CUDA tests skipped: %s", error->message);
    }
  if (cuda == NULL)
    g_test_skip (why);
  return cuda;
}

static void
fill (float *x, gsize n, guint32 seed, float amp)
{
  GRand *r = g_rand_new_with_seed (seed);
  for (gsize i = 0; i < n; i++)
    x[i] = (float) g_rand_double_range (r, -amp, amp);
  g_rand_free (r);
}

/* max |a - b| / (1 + |b|) over n values */
static double
max_rel_err (const float *a, const float *b, gsize n)
{
  double worst = 0.0;
  for (gsize i = 0; i < n; i++)
    worst = MAX (worst, fabs ((double) a[i] - b[i]) / (1.0 + fabs ((double) b[i])));
  return worst;
}

static ScTensor
weight (ScDType dtype, int N, int K, guint32 seed, void **owned)
{
  float *w = g_new (float, (gsize) N *K);
  fill (w, (gsize) N * K, seed, 1.0f / sqrtf ((float) K));
  ScTensor t = { .name = (char *) "w", .dtype = dtype, .n_dims = 2 };
  t.shape[0] = N, t.shape[1] = K;
  if (dtype == SC_DTYPE_F32)
    {
      t.data = w;
      t.nbytes = (guint64) N * K * 4;
      *owned = w;
      return t;
    }
  guint16 *h = g_new (guint16, (gsize) N * K);
  for (gsize i = 0; i < (gsize) N * K; i++)
    h[i] = dtype == SC_DTYPE_F16 ? sc_f32_to_f16 (w[i]) : sc_f32_to_bf16 (w[i]);
  g_free (w);
  t.data = h;
  t.nbytes = (guint64) N * K * 2;
  *owned = h;
  return t;
}

static void
check_linear (ScDType dtype, double tol)
{
  ScBackend *cuda = cuda_or_skip ();
  if (cuda == NULL)
    return;
  int M = 37, K = 512, N = 300;
  void *owned;
  ScTensor w = weight (dtype, N, K, 1, &owned);
  g_autofree float *x = g_new (float, M *K), *bias = g_new (float, N);
  g_autofree float *a = g_new (float, M *N), *b = g_new (float, M *N);
  fill (x, M * K, 2, 1.0f);
  fill (bias, N, 3, 0.5f);
  cpu->linear (cpu, x, M, K, &w, bias, a);
  cuda->linear (cuda, x, M, K, &w, bias, b);
  double err = max_rel_err (b, a, (gsize) M * N);
  g_test_message ("linear %s: max relative error %.2e (tolerance %.0e)", sc_dtype_name (dtype), err,
                  tol);
  g_assert_cmpfloat (err, <=, tol);
  g_free (owned);
}

/* f16/bf16: the activations are rounded to the weight's type for the
 * tensor cores (relative 2^-11 / 2^-8 per element, over K = 512 terms);
 * f32: cuBLAS' summation order only. */
static void
test_linear_f16 (void)
{
  check_linear (SC_DTYPE_F16, 5e-3);
}

static void
test_linear_bf16 (void)
{
  check_linear (SC_DTYPE_BF16, 3e-2);
}

static void
test_linear_f32 (void)
{
  check_linear (SC_DTYPE_F32, 1e-4);
}

/* layer norm and softmax: f32 reductions in another order, 1e-5. */
static void
test_layer_norm (void)
{
  ScBackend *cuda = cuda_or_skip ();
  if (cuda == NULL)
    return;
  int M = 19, d = 1024;
  g_autofree float *x = g_new (float, M *d), *g = g_new (float, d), *bb = g_new (float, d);
  g_autofree float *a = g_new (float, M *d), *b = g_new (float, M *d);
  fill (x, M * d, 4, 3.0f);
  fill (g, d, 5, 1.0f);
  fill (bb, d, 6, 1.0f);
  cpu->layer_norm (cpu, x, M, d, g, bb, 1e-5f, a);
  cuda->layer_norm (cuda, x, M, d, g, bb, 1e-5f, b);
  g_assert_cmpfloat (max_rel_err (b, a, (gsize) M * d), <=, 1e-5);
}

static void
test_softmax (void)
{
  ScBackend *cuda = cuda_or_skip ();
  if (cuda == NULL)
    return;
  int M = 33, N = 1000;
  g_autofree float *a = g_new (float, M *N), *b = g_new (float, M *N);
  fill (a, M * N, 7, 8.0f);
  for (int j = 0; j < N; j += 3)
    a[j] = -INFINITY; /* masked entries in row 0 */
  for (int j = 0; j < N; j++)
    a[N + j] = -INFINITY; /* row 1 all masked: zeros */
  memcpy (b, a, sizeof (float) * M * N);
  cpu->softmax (cpu, a, M, N);
  cuda->softmax (cuda, b, M, N);
  g_assert_cmpfloat (max_rel_err (b, a, (gsize) M * N), <=, 1e-6);
  g_assert_cmpfloat (b[N + 5], ==, 0.0f);
}

/* embedding: the table row is exact; GPU sinf/cosf/expf are within a few
 * ulps of glibc's, positions up to 1000 radians: 1e-4 absolute. */
static void
test_embed (void)
{
  ScBackend *cuda = cuda_or_skip ();
  if (cuda == NULL)
    return;
  int V = 500, d = 256, n = 40;
  void *owned;
  ScTensor table = weight (SC_DTYPE_F16, V, d, 8, &owned);
  int ids[40], pos[40];
  for (int i = 0; i < n; i++)
    {
      ids[i] = (i * 37) % V;
      pos[i] = i == 5 ? 1 : 2 + i * 25; /* position 1 is the pad row */
    }
  g_autofree float *a = g_new (float, n *d), *b = g_new (float, n *d);
  cpu->embed (cpu, &table, ids, pos, n, 16.0f, a);
  cuda->embed (cuda, &table, ids, pos, n, 16.0f, b);
  g_assert_cmpfloat (max_rel_err (b, a, (gsize) n * d), <=, 1e-4);
  cpu->embed (cpu, &table, ids, NULL, n, 16.0f, a);
  cuda->embed (cuda, &table, ids, NULL, n, 16.0f, b);
  g_assert_cmpfloat (max_rel_err (b, a, (gsize) n * d), <=, 1e-6);
  g_free (owned);
}

/* attention with padding, causal offsets and strided rows: 1e-5. */
static void
check_attention (int Tq, int Tk, gboolean causal, int offset, gboolean mask)
{
  ScBackend *cuda = cuda_or_skip ();
  if (cuda == NULL)
    return;
  int H = 4, hd = 32, ld = H * hd + 8; /* strided like a fused QKV buffer */
  g_autofree float *q = g_new (float, Tq *ld), *k = g_new (float, Tk *ld);
  g_autofree float *v = g_new (float, Tk *ld);
  g_autofree float *a = g_new0 (float, Tq *ld), *b = g_new0 (float, Tq *ld);
  g_autofree guint8 *valid = g_new (guint8, Tk);
  fill (q, Tq * ld, 9, 2.0f);
  fill (k, Tk * ld, 10, 2.0f);
  fill (v, Tk * ld, 11, 1.0f);
  for (int j = 0; j < Tk; j++)
    valid[j] = j < Tk - 3;
  cpu->attention (cpu, q, ld, k, v, ld, Tq, Tk, H, hd, mask ? valid : NULL, causal, offset, a, ld);
  cuda->attention (cuda, q, ld, k, v, ld, Tq, Tk, H, hd, mask ? valid : NULL, causal, offset, b,
                   ld);
  g_assert_cmpfloat (max_rel_err (b, a, (gsize) Tq * ld), <=, 1e-5);
}

static void
test_attention (void)
{
  check_attention (20, 20, FALSE, 0, TRUE);  /* encoder with padding */
  check_attention (1, 17, TRUE, 16, FALSE);  /* a decoding step over the cache */
  check_attention (12, 30, TRUE, 18, FALSE); /* teacher forcing after a prefix */
  check_attention (3, 25, FALSE, 0, TRUE);   /* cross-attention */
}

static void
test_relu_add (void)
{
  ScBackend *cuda = cuda_or_skip ();
  if (cuda == NULL)
    return;
  gsize n = 100003;
  g_autofree float *a = g_new (float, n), *b = g_new (float, n), *x = g_new (float, n);
  fill (a, n, 12, 1.0f);
  fill (x, n, 13, 1.0f);
  memcpy (b, a, sizeof (float) * n);
  cpu->relu (cpu, a, n);
  cuda->relu (cuda, b, n);
  g_assert_cmpmem (a, sizeof (float) * n, b, sizeof (float) * n); /* exact */
  cpu->add (cpu, a, x, n);
  cuda->add (cuda, b, x, n);
  g_assert_cmpmem (a, sizeof (float) * n, b, sizeof (float) * n); /* exact */
}

/* router: identical expert choices, probabilities and weights to 1e-6;
 * gather exact, scatter-add 1e-6; statistics counts exact, masses 1e-5. */
static void
test_router_and_moe_kernels (void)
{
  ScBackend *cuda = cuda_or_skip ();
  if (cuda == NULL)
    return;
  int n = 300, E = 128, d = 64;
  g_autofree float *logits = g_new (float, n *E);
  fill (logits, n * E, 14, 6.0f);
  g_autofree guint8 *keep = g_new (guint8, E), *valid = g_new (guint8, n);
  for (int e = 0; e < E; e++)
    keep[e] = e % 3 != 0;
  for (int t = 0; t < n; t++)
    valid[t] = t % 10 != 9;
  for (int masked = 0; masked < 2; masked++)
    {
      g_autofree float *pa = g_new (float, n *E), *pb = g_new (float, n *E);
      g_autofree int *a1 = g_new (int, n), *a2 = g_new (int, n);
      g_autofree int *b1 = g_new (int, n), *b2 = g_new (int, n);
      g_autofree float *aw1 = g_new (float, n), *aw2 = g_new (float, n);
      g_autofree float *bw1 = g_new (float, n), *bw2 = g_new (float, n);
      const guint8 *k = masked ? keep : NULL, *v = masked ? valid : NULL;
      cpu->router_top2 (cpu, logits, n, E, k, v, pa, a1, a2, aw1, aw2);
      cuda->router_top2 (cuda, logits, n, E, k, v, pb, b1, b2, bw1, bw2);
      g_assert_cmpmem (a1, 4 * n, b1, 4 * n);
      g_assert_cmpmem (a2, 4 * n, b2, 4 * n);
      g_assert_cmpfloat (max_rel_err (pb, pa, (gsize) n * E), <=, 1e-6);
      g_assert_cmpfloat (max_rel_err (bw1, aw1, n), <=, 1e-6);
      g_assert_cmpfloat (max_rel_err (bw2, aw2, n), <=, 1e-6);

      g_autofree double *sa = g_new0 (double, 5 * E + 1), *sb = g_new0 (double, 5 * E + 1);
      cpu->gate_stats (cpu, pa, a1, a2, n, E, sa);
      cuda->gate_stats (cuda, pa, a1, a2, n, E, sb);
      for (int i = 0; i < 5 * E + 1; i++)
        g_assert_cmpfloat (fabs (sa[i] - sb[i]), <=, 1e-5 * (1.0 + fabs (sa[i])));
    }

  g_autofree float *h = g_new (float, n *d), *y = g_new (float, n *d);
  fill (h, n * d, 15, 1.0f);
  int m = 0;
  g_autofree int *idx = g_new (int, n);
  g_autofree float *w = g_new (float, n);
  for (int t = 0; t < n; t += 7)
    idx[m] = t, w[m++] = 0.25f + t / 1000.0f;
  g_autofree float *ga = g_new (float, m *d), *gb = g_new (float, m *d);
  cpu->gather_rows (cpu, h, d, idx, m, ga);
  cuda->gather_rows (cuda, h, d, idx, m, gb);
  g_assert_cmpmem (ga, sizeof (float) * m * d, gb, sizeof (float) * m * d);
  g_autofree float *oa = g_new (float, n *d), *ob = g_new (float, n *d);
  fill (oa, n * d, 16, 1.0f);
  memcpy (ob, oa, sizeof (float) * n * d);
  fill (y, m * d, 17, 1.0f);
  cpu->scatter_add_rows (cpu, oa, d, idx, w, 0.8f, m, y);
  cuda->scatter_add_rows (cuda, ob, d, idx, w, 0.8f, m, y);
  g_assert_cmpfloat (max_rel_err (ob, oa, (gsize) n * d), <=, 1e-6);
}

/* The CPU references themselves, by hand (these run everywhere). */
static void
test_cpu_references (void)
{
  /* logits 0, 1, 3, 2: top-1 expert 2, top-2 expert 3, w1 = sigmoid(1) */
  float logits[8] = { 0, 1, 3, 2, 0, 1, 3, 2 };
  float probs[8], w1[2], w2[2];
  int t1[2], t2[2];
  cpu->router_top2 (cpu, logits, 2, 4, NULL, NULL, probs, t1, t2, w1, w2);
  double z = 1 + M_E + exp (3) + exp (2);
  g_assert_cmpfloat_with_epsilon (probs[2], exp (3) / z, 1e-6);
  g_assert_cmpint (t1[0], ==, 2);
  g_assert_cmpint (t2[0], ==, 3);
  g_assert_cmpfloat_with_epsilon (w1[0], 1 / (1 + exp (-1)), 1e-6);
  g_assert_cmpfloat_with_epsilon (w1[0] + w2[0], 1.0, 1e-6);

  /* expert 2 pruned, token 1 padding */
  guint8 keep[4] = { 1, 1, 0, 1 }, valid[2] = { 1, 0 };
  cpu->router_top2 (cpu, logits, 2, 4, keep, valid, probs, t1, t2, w1, w2);
  g_assert_cmpint (t1[0], ==, 3);
  g_assert_cmpint (t2[0], ==, 1);
  g_assert_cmpfloat (probs[2], ==, 0.0f);
  g_assert_cmpfloat_with_epsilon (w1[0], 1 / (1 + exp (-1)), 1e-6);
  g_assert_cmpint (t1[1], ==, -1);
  g_assert_cmpint (t2[1], ==, -1);
  g_assert_cmpfloat (w1[1], ==, 0.0f);

  /* statistics: one routed token (the padding one is not counted) */
  double acc[5 * 4 + 1] = { 0 };
  cpu->gate_stats (cpu, probs, t1, t2, 2, 4, acc);
  g_assert_cmpfloat (acc[3], ==, 1.0);          /* top-1 count of expert 3 */
  g_assert_cmpfloat (acc[4 + 1], ==, 1.0);      /* top-2 count of expert 1 */
  g_assert_cmpfloat (acc[8 + 3], ==, probs[3]); /* top-1 mass */
  g_assert_cmpfloat (acc[12 + 1], ==, probs[1]);
  g_assert_cmpfloat_with_epsilon (acc[16] + acc[17] + acc[18] + acc[19], 1.0, 1e-6);
  g_assert_cmpfloat (acc[20], ==, 1.0);

  /* gather rows 2, 0 then scatter them back weighted */
  float src[6] = { 1, 2, 3, 4, 5, 6 }, rows[4], dst[6] = { 0 };
  int idx[2] = { 2, 0 };
  float w[2] = { 0.5f, 2.0f };
  cpu->gather_rows (cpu, src, 2, idx, 2, rows);
  g_assert_cmpfloat (rows[0], ==, 5.0f);
  g_assert_cmpfloat (rows[3], ==, 2.0f);
  cpu->scatter_add_rows (cpu, dst, 2, idx, w, 0.8f, 2, rows);
  g_assert_cmpfloat_with_epsilon (dst[4], 0.5 * 0.8 * 5, 1e-6);
  g_assert_cmpfloat_with_epsilon (dst[1], 2.0 * 0.8 * 2, 1e-6);
  g_assert_cmpfloat (dst[2], ==, 0.0f);

  float row[3] = { -INFINITY, -INFINITY, -INFINITY };
  cpu->softmax (cpu, row, 1, 3);
  g_assert_cmpfloat (row[0] + row[1] + row[2], ==, 0.0f);
}

/* Runs one fixture model on a backend: encodes two padded rows, feeds
 * the decoder a teacher-forced prefix (several tokens in one call, then
 * one at a time, with a beam reorder between) and returns every logit. */
static float *
run_model (const char *fixture, ScBackend *be, gsize *n_out, int *vocab)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = sc_test_path (fixture);
  g_autoptr (ScModel) model = sc_model_load (dir, be, &error);
  g_autoptr (ScView) view = model ? sc_view_new (model, NULL, NULL) : NULL;
  g_assert_no_error (error);
  const ScConfig *c = sc_model_get_config (model);
  const int V = c->vocab_size, B = 2, S = 7, T0 = 3, steps = 4;
  int ids[2 * 7] = { 5, 17, 40, 9, 23, 61, 2, 8, 31, 2, 1, 1, 1, 1 };
  int lengths[2] = { 7, 3 }, rows[2] = { 0, 1 };
  g_autoptr (ScEncoding) enc = sc_view_encode (view, ids, lengths, B, S, &error);
  g_assert_no_error (error);
  g_autoptr (ScDecoder) dec = sc_decoder_new (view, enc, B, rows, T0 + steps + 1, &error);
  g_assert_no_error (error);
  gsize n = (gsize) B * T0 * V + (gsize) steps * B * V;
  float *out = g_new (float, n), *p = out;
  int prefix[2 * 3] = { 2, 12, 14, 2, 33, 7 };
  g_assert_true (sc_decoder_forward (dec, prefix, T0, p, FALSE, &error));
  p += (gsize) B * T0 * V;
  for (int i = 0; i < steps; i++)
    {
      int tok[2] = { 4 + 3 * i, 9 + i };
      if (i == 2)
        {
          int from[2] = { 1, 0 };
          sc_decoder_reorder (dec, from);
        }
      g_assert_true (sc_decoder_forward (dec, tok, 1, p, TRUE, &error));
      p += (gsize) B * V;
    }
  *n_out = n;
  *vocab = V;
  return out;
}

/* Whole models, CUDA against the CPU: the same logits within the stated
 * tolerance, for f32 weights (cuBLAS in f32: 1e-4) and f16 weights (f16
 * tensor-core inputs, activations rounded to f16: 3e-2 of the logit
 * scale), and the same arg-max at all but min_argmax of the positions
 * (random fixture weights leave near-ties that f16 rounding may flip). */
static void
check_model (const char *fixture, double tol, double min_argmax)
{
  ScBackend *cuda = cuda_or_skip ();
  if (cuda == NULL)
    return;
  gsize n_cpu, n_cuda;
  int V, V2;
  g_autofree float *a = run_model (fixture, cpu, &n_cpu, &V);
  g_autofree float *b = run_model (fixture, cuda, &n_cuda, &V2);
  g_assert_cmpuint (n_cpu, ==, n_cuda);
  double err = max_rel_err (b, a, n_cpu);
  int positions = (int) (n_cpu / V), same = 0;
  for (int r = 0; r < positions; r++)
    {
      int ia = 0, ib = 0;
      for (int v = 1; v < V; v++)
        {
          ia = a[(gsize) r * V + v] > a[(gsize) r * V + ia] ? v : ia;
          ib = b[(gsize) r * V + v] > b[(gsize) r * V + ib] ? v : ib;
        }
      same += ia == ib;
    }
  g_test_message ("%s: max relative logit error %.2e (tolerance %.0e), same arg-max at %d of %d",
                  fixture, err, tol, same, positions);
  g_assert_cmpfloat (err, <=, tol);
  g_assert_cmpfloat ((double) same / positions, >=, min_argmax);
}

static void
test_model_f32 (void)
{
  check_model ("tests/fixtures/nllb-moe-tiny", 1e-4, 1.0);
}

static void
test_model_f16 (void)
{
  check_model ("tests/fixtures/nllb-moe-tiny-f16", 3e-2, 0.9);
}

/* SparseGPT's linear algebra on CUDA (X^T X with cublasSsyrk, the inverse
 * Cholesky with cuSOLVER) against the CPU's BLAS and LAPACK: the same
 * Hessian within 1e-5 (relative, f32 sums in another order), and the same
 * pruning: masks equal but for near-ties (at most 0.5% of entries), the
 * kept weights within 1e-3. Inputs with correlated channels, so that the
 * error compensation matters. */
static void
test_sparsegpt_linalg (void)
{
  ScBackend *cuda = cuda_or_skip ();
  if (cuda == NULL)
    return;
  const int rows = 48, k = 160, n = 400;
  g_autofree float *X = g_new (float, (gsize) n *k), *mix = g_new (float, (gsize) k *k);
  g_autofree float *Xm = g_new0 (float, (gsize) n *k);
  fill (X, (gsize) n * k, 31, 1.0f);
  fill (mix, (gsize) k * k, 32, 0.2f);
  for (int r = 0; r < n; r++)
    for (int j = 0; j < k; j++)
      {
        float v = X[(gsize) r * k + j];
        for (int i = 0; i < 8; i++)
          v += X[(gsize) r * k + (j + i) % k] * mix[(gsize) i * k + j];
        Xm[(gsize) r * k + j] = v;
      }
  g_autoptr (ScLayerInputs) on_cpu = sc_layer_inputs_new_on (k, TRUE, cpu);
  g_autoptr (ScLayerInputs) on_gpu = sc_layer_inputs_new_on (k, TRUE, cuda);
  for (int first = 0; first < n; first += 100) /* several batches, as calibration adds them */
    {
      sc_layer_inputs_add (on_cpu, Xm + (gsize) first * k, 100);
      sc_layer_inputs_add (on_gpu, Xm + (gsize) first * k, 100);
    }
  g_autofree float *Hc = sc_layer_inputs_hessian (on_cpu);
  g_autofree float *Hg = sc_layer_inputs_hessian (on_gpu);
  double herr = max_rel_err (Hg, Hc, (gsize) k * k);
  g_test_message ("Hessian X^T X: cuBLAS against BLAS, max relative error %.2e (tolerance 1e-5)",
                  herr);
  g_assert_cmpfloat (herr, <=, 1e-5);

  static const char *const patterns[] = { "0.5", "2:4" };
  for (guint p = 0; p < G_N_ELEMENTS (patterns); p++)
    {
      ScSparsityPattern pat;
      g_assert_true (sc_sparsity_pattern_parse (patterns[p], &pat, NULL));
      g_autofree float *Wc = g_new (float, (gsize) rows *k), *Wg = g_new (float, (gsize) rows *k);
      fill (Wc, (gsize) rows * k, 33, 0.5f);
      memcpy (Wg, Wc, sizeof (float) * rows * k);
      g_autofree guint8 *mc = g_new (guint8, (gsize) rows * k),
                        *mg = g_new (guint8, (gsize) rows * k);
      ScSparsityReport rc, rg;
      g_autoptr (GError) error = NULL;
      g_assert_true (
          sc_sparsity_prune (SC_SPARSITY_SPARSEGPT, &pat, Wc, rows, k, on_cpu, mc, &rc, &error));
      g_assert_true (
          sc_sparsity_prune (SC_SPARSITY_SPARSEGPT, &pat, Wg, rows, k, on_gpu, mg, &rg, &error));
      g_assert_no_error (error);
      int differ = 0;
      double werr = 0;
      for (gsize i = 0; i < (gsize) rows * k; i++)
        {
          differ += mc[i] != mg[i];
          if (!mc[i] && !mg[i])
            werr = MAX (werr, fabs ((double) Wc[i] - Wg[i]));
        }
      g_test_message ("SparseGPT %s: cuSOLVER against LAPACK: %d of %d mask entries differ, kept "
                      "weights within %.2e",
                      patterns[p], differ, rows * k, werr);
      g_assert_cmpuint (rc.n_pruned, ==, rg.n_pruned);
      g_assert_cmpint (differ, <=, rows * k / 200);
      g_assert_cmpfloat (werr, <=, 1e-3);
    }
}

/* Selection runs on every machine: with no device "auto" falls back to
 * the CPU and says why; "cuda" fails clearly; bad names are refused. */
static void
test_select (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *note = NULL;
  int n = sc_backend_cuda_devices (NULL);

  ScBackend *be = sc_backend_new ("auto", 1, &note, &error);
  g_assert_no_error (error);
  if (n > 0)
    {
      g_assert_cmpstr (be->name, ==, "cuda");
      g_assert_null (note);
    }
  else
    {
      g_assert_cmpstr (be->name, ==, "cpu");
      g_assert_nonnull (note);
      g_assert_true (g_str_has_prefix (note, "using the CPU: "));
      g_test_message ("%s", note);
    }
  sc_backend_free (be);

  be = sc_backend_new ("cpu", 1, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (be->name, ==, "cpu");
  sc_backend_free (be);

  be = sc_backend_new ("cuda:999", 1, NULL, &error);
  g_assert_null (be);
  g_assert_error (error, SC_ERROR, SC_ERROR_UNSUPPORTED);
  g_assert_true (g_str_has_prefix (error->message, "device cuda:999: "));
  g_clear_error (&error);

  be = sc_backend_new ("gpu", 1, NULL, &error);
  g_assert_null (be);
  g_assert_error (error, SC_ERROR, SC_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "use auto, cpu, cuda or cuda:N"));
  g_clear_error (&error);

  int index;
  g_assert_true (sc_backend_parse_cuda ("cuda", &index) && index == 0);
  g_assert_true (sc_backend_parse_cuda ("cuda:3", &index) && index == 3);
  g_assert_false (sc_backend_parse_cuda ("cuda:", &index));
  g_assert_false (sc_backend_parse_cuda ("cuda:x", &index));
  g_assert_false (sc_backend_parse_cuda ("cudax", &index));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  cpu = sc_backend_cpu_new (1);
  g_test_add_func ("/cuda/select", test_select);
  g_test_add_func ("/cuda/cpu-references", test_cpu_references);
  g_test_add_func ("/cuda/linear-f16", test_linear_f16);
  g_test_add_func ("/cuda/linear-bf16", test_linear_bf16);
  g_test_add_func ("/cuda/linear-f32", test_linear_f32);
  g_test_add_func ("/cuda/layer-norm", test_layer_norm);
  g_test_add_func ("/cuda/softmax", test_softmax);
  g_test_add_func ("/cuda/embed", test_embed);
  g_test_add_func ("/cuda/attention", test_attention);
  g_test_add_func ("/cuda/relu-add", test_relu_add);
  g_test_add_func ("/cuda/router-and-moe-kernels", test_router_and_moe_kernels);
  g_test_add_func ("/cuda/model-f32", test_model_f32);
  g_test_add_func ("/cuda/model-f16", test_model_f16);
  g_test_add_func ("/cuda/sparsegpt-linalg", test_sparsegpt_linalg);
  int ret = g_test_run ();
  sc_backend_free (cpu);
  return ret;
}
