/* test-sparsity: magnitude, Wanda and SparseGPT on single matrices and on
 * whole models (sequentially) against the PyTorch reference
 * (tools/sparsity_reference.py); weight replacement, export, calibration
 * sets and bad input.
 *
 * Near 1,000 lines: three methods x (matrix, model, export) against one
 * golden file, sharing its loader and tolerance helpers. */
#include "sc-corpus.h"
#include "sc-export.h"
#include "sc-safetensors.h"
#include "sc-sparsify.h"
#include "sc-sparsity.h"
#include "sc-test-util.h"

#include <math.h>
#include <string.h>

static ScSafetensors *layers;
static JsonNode *layers_index;

static const ScTensor *
golden_in (ScSafetensors *st, const char *name)
{
  GPtrArray *ts = sc_safetensors_tensors (st);
  for (guint i = 0; i < ts->len; i++)
    if (g_str_equal (((ScTensor *) ts->pdata[i])->name, name))
      return ts->pdata[i];
  g_error ("golden tensor %s is missing", name);
}

static const ScTensor *golden (const char *fmt, ...) G_GNUC_PRINTF (1, 2);

static const ScTensor *
golden (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *name = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  return golden_in (layers, name);
}

static float *
read_all (const ScTensor *t)
{
  float *v = g_new (float, sc_tensor_numel (t));
  sc_tensor_read_f32 (t, 0, sc_tensor_numel (t), v);
  return v;
}

/* Entries where the packed golden mask (bit b of word w = element 32 w + b)
 * and ours differ. */
static gsize
count_mask_diff (const ScTensor *packed, const guint8 *mask, gsize n)
{
  const guint32 *words = packed->data;
  g_assert_cmpint (sc_tensor_numel (packed), ==, (gint64) ((n + 31) / 32));
  gsize diff = 0;
  for (gsize i = 0; i < n; i++)
    diff += ((GUINT32_FROM_LE (words[i / 32]) >> (i % 32)) & 1) != mask[i];
  return diff;
}

static void
assert_same_mask (const char *what, const ScTensor *packed, const guint8 *mask, gsize n)
{
  const guint32 *words = packed->data;
  g_assert_cmpint (sc_tensor_numel (packed), ==, (gint64) ((n + 31) / 32));
  gsize diff = 0, first = n;
  for (gsize i = 0; i < n; i++)
    {
      guint8 want = (GUINT32_FROM_LE (words[i / 32]) >> (i % 32)) & 1;
      if (want != mask[i])
        {
          diff++;
          first = MIN (first, i);
        }
    }
  if (diff != 0)
    g_error ("%s: %" G_GSIZE_FORMAT " mask entries differ (first at %" G_GSIZE_FORMAT ")", what,
             diff, first);
}

static void
parse_pattern (const char *key, ScSparsityPattern *p)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = g_strdup (key);
  g_strdelimit (text, "_", ':');
  if (g_str_equal (text, "50"))
    g_assert_true (sc_sparsity_pattern_parse ("0.5", p, &error));
  else
    g_assert_true (sc_sparsity_pattern_parse (text, p, &error));
  g_assert_no_error (error);
}

/* Every case, method and pattern of layers.safetensors. */
static void
test_reference_layers (void)
{
  JsonObject *cases = json_object_get_object_member (json_node_get_object (layers_index), "cases");
  g_autoptr (GList) names = json_object_get_members (cases);
  int checked = 0;
  for (GList *l = names; l != NULL; l = l->next)
    {
      const char *cname = l->data;
      JsonObject *c = json_object_get_object_member (cases, cname);
      const ScTensor *Wt = golden ("%s/W", cname), *Xt = golden ("%s/X", cname);
      int out = (int) Wt->shape[0], in = (int) Wt->shape[1], rows = (int) Xt->shape[0];
      g_autofree float *W0 = read_all (Wt);
      g_autofree float *X = read_all (Xt);
      g_autoptr (ScLayerInputs) inputs = sc_layer_inputs_new (in, TRUE);
      /* Fed in two slices, as several calibration samples would be. */
      sc_layer_inputs_add (inputs, X, rows / 2);
      sc_layer_inputs_add (inputs, X + (gsize) (rows / 2) * in, rows - rows / 2);
      g_assert_cmpuint (sc_layer_inputs_n_rows (inputs), ==, rows);

      JsonArray *pats = json_object_get_array_member (c, "patterns");
      for (guint p = 0; p < json_array_get_length (pats); p++)
        {
          const char *pkey = json_array_get_string_element (pats, p);
          ScSparsityPattern pattern;
          parse_pattern (pkey, &pattern);
          for (int m = SC_SPARSITY_MAGNITUDE; m <= SC_SPARSITY_SPARSEGPT; m++)
            {
              const char *mname = sc_sparsity_method_name (m);
              g_autofree char *what = g_strdup_printf ("%s %s %s", cname, mname, pkey);
              g_autoptr (GError) error = NULL;
              g_autofree float *W = g_memdup2 (W0, sizeof (float) * out * in);
              g_autofree guint8 *mask = g_new (guint8, (gsize) out * in);
              ScSparsityReport rep;
              g_assert_true (
                  sc_sparsity_prune (m, &pattern, W, out, in, inputs, mask, &rep, &error));
              g_assert_no_error (error);
              assert_same_mask (what, golden ("%s/%s.%s/mask", cname, mname, pkey), mask,
                                (gsize) out * in);
              /* Exactly half pruned, and pruned weights are zeros. */
              g_assert_cmpuint (rep.n_pruned, ==, (guint64) out * in / 2);
              g_assert_cmpuint (rep.n_weights, ==, (guint64) out * in);
              for (gsize i = 0; i < (gsize) out * in; i++)
                if (mask[i])
                  g_assert_cmpfloat (W[i], ==, 0.0f);
              if (m == SC_SPARSITY_SPARSEGPT)
                {
                  g_autofree float *want = read_all (golden ("%s/sparsegpt.%s/W", cname, pkey));
                  double worst = 0.0;
                  for (gsize i = 0; i < (gsize) out * in; i++)
                    worst = MAX (worst, fabs ((double) W[i] - want[i]));
                  g_test_message ("%s: largest weight difference %.3g", what, worst);
                  if (worst > 1e-4)
                    g_error ("%s: weights differ by %g", what, worst);
                  g_assert_cmpint (rep.damp_escalations, ==, 0);
                }
              else
                {
                  for (gsize i = 0; i < (gsize) out * in; i++)
                    if (!mask[i])
                      g_assert_cmpfloat (W[i], ==, W0[i]);
                }
              checked++;
            }
        }
    }
  g_assert_cmpint (checked, ==, 27);
}

/* N:M: every group of M holds exactly N nonzeros; Wanda differs from
 * magnitude once the inputs weigh channels differently. */
static void
test_nm_groups (void)
{
  int out = 6, in = 16;
  float W[6 * 16];
  float X[3 * 16];
  for (int i = 0; i < out * in; i++)
    W[i] = (float) ((i * 37) % 23) - 11.0f + 0.5f;
  for (int i = 0; i < 3 * in; i++)
    X[i] = (i % in) < 8 ? 100.0f : 0.01f;
  g_autoptr (ScLayerInputs) inputs = sc_layer_inputs_new (in, FALSE);
  sc_layer_inputs_add (inputs, X, 3);
  ScSparsityPattern p;
  g_assert_true (sc_sparsity_pattern_parse ("1:4", &p, NULL));
  float Wm[6 * 16], Ww[6 * 16];
  memcpy (Wm, W, sizeof W);
  memcpy (Ww, W, sizeof W);
  g_assert_true (
      sc_sparsity_prune (SC_SPARSITY_MAGNITUDE, &p, Wm, out, in, NULL, NULL, NULL, NULL));
  g_assert_true (sc_sparsity_prune (SC_SPARSITY_WANDA, &p, Ww, out, in, inputs, NULL, NULL, NULL));
  for (int r = 0; r < out; r++)
    for (int g = 0; g < in; g += 4)
      {
        int nz = 0, big = 0;
        for (int t = 0; t < 4; t++)
          {
            nz += Wm[r * in + g + t] != 0.0f;
            float a = fabsf (W[r * in + g + t]);
            int rank = 0;
            for (int u = 0; u < 4; u++)
              rank += fabsf (W[r * in + g + u]) > a;
            if (Wm[r * in + g + t] != 0.0f)
              big = rank == 0;
          }
        g_assert_cmpint (nz, ==, 1);
        g_assert_true (big); /* the kept one is the largest of its group */
      }
  /* Wanda with a huge first half and a tiny second half still keeps one per
   * group (groups never compete), so both agree here... */
  g_assert_cmpmem (Wm, sizeof Wm, Ww, sizeof Ww);
  /* ...whereas unstructured Wanda prunes the tiny channels first. */
  memcpy (Ww, W, sizeof W);
  g_assert_true (sc_sparsity_pattern_parse ("0.5", &p, NULL));
  g_assert_true (sc_sparsity_prune (SC_SPARSITY_WANDA, &p, Ww, out, in, inputs, NULL, NULL, NULL));
  for (int r = 0; r < out; r++)
    for (int j = 0; j < in; j++)
      g_assert_true ((Ww[r * in + j] == 0.0f) == (j >= 8) || W[r * in + j] == 0.0f);
}

static void
test_bad_patterns (void)
{
  ScSparsityPattern p;
  static const char *const bad[] = { "0",   "1.5", "1", "-0.2", "4:4",   "5:4",
                                     "0:4", "2:",  "x", "",     "2:4:8", "nan" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_false (sc_sparsity_pattern_parse (bad[i], &p, &error));
      g_assert_error (error, SC_SPARSITY_ERROR, SC_SPARSITY_ERROR_INVALID);
    }
  g_assert_true (sc_sparsity_pattern_parse ("50%", &p, NULL));
  g_assert_cmpfloat (p.ratio, ==, 0.5);
  g_assert_true (sc_sparsity_pattern_parse ("4:8", &p, NULL));
  g_assert_cmpint (p.n, ==, 4);
  g_assert_cmpint (p.m, ==, 8);
  g_autofree char *s = sc_sparsity_pattern_to_string (&p);
  g_assert_cmpstr (s, ==, "4:8");

  /* A dimension not divisible by M, and ratios given directly. */
  float W[2 * 6] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
  float W0[2 * 6];
  memcpy (W0, W, sizeof W);
  ScSparsityPattern p24 = { 0, 2, 4 };
  g_autoptr (GError) error = NULL;
  g_assert_false (
      sc_sparsity_prune (SC_SPARSITY_MAGNITUDE, &p24, W, 2, 6, NULL, NULL, NULL, &error));
  g_assert_error (error, SC_SPARSITY_ERROR, SC_SPARSITY_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "divisible by 4"));
  g_clear_error (&error);
  ScSparsityPattern r0 = { 0.0, 0, 0 }, r15 = { 1.5, 0, 0 }, n_ge_m = { 0, 4, 4 };
  g_assert_false (
      sc_sparsity_prune (SC_SPARSITY_MAGNITUDE, &r0, W, 2, 6, NULL, NULL, NULL, &error));
  g_assert_error (error, SC_SPARSITY_ERROR, SC_SPARSITY_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (
      sc_sparsity_prune (SC_SPARSITY_MAGNITUDE, &r15, W, 2, 6, NULL, NULL, NULL, &error));
  g_assert_error (error, SC_SPARSITY_ERROR, SC_SPARSITY_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (
      sc_sparsity_prune (SC_SPARSITY_MAGNITUDE, &n_ge_m, W, 2, 8, NULL, NULL, NULL, &error));
  g_assert_error (error, SC_SPARSITY_ERROR, SC_SPARSITY_ERROR_INVALID);
  g_clear_error (&error);
  /* Wanda and SparseGPT without inputs. */
  ScSparsityPattern half = { 0.5, 0, 0 };
  g_assert_false (sc_sparsity_prune (SC_SPARSITY_WANDA, &half, W, 2, 6, NULL, NULL, NULL, &error));
  g_assert_error (error, SC_SPARSITY_ERROR, SC_SPARSITY_ERROR_NO_INPUTS);
  g_clear_error (&error);
  g_autoptr (ScLayerInputs) no_h = sc_layer_inputs_new (6, FALSE);
  g_assert_false (
      sc_sparsity_prune (SC_SPARSITY_SPARSEGPT, &half, W, 2, 6, no_h, NULL, NULL, &error));
  g_assert_error (error, SC_SPARSITY_ERROR, SC_SPARSITY_ERROR_NO_INPUTS);
  g_clear_error (&error);
  g_autoptr (ScLayerInputs) wrong = sc_layer_inputs_new (5, TRUE);
  g_assert_false (
      sc_sparsity_prune (SC_SPARSITY_SPARSEGPT, &half, W, 2, 6, wrong, NULL, NULL, &error));
  g_assert_error (error, SC_SPARSITY_ERROR, SC_SPARSITY_ERROR_INVALID);
  g_clear_error (&error);
  /* NaN weights are refused, never propagated. */
  W[3] = NAN;
  g_assert_false (
      sc_sparsity_prune (SC_SPARSITY_MAGNITUDE, &half, W, 2, 6, NULL, NULL, NULL, &error));
  g_assert_error (error, SC_SPARSITY_ERROR, SC_SPARSITY_ERROR_NUMERIC);
  W[3] = W0[3];
  g_assert_cmpmem (W, sizeof W, W0, sizeof W0);

  ScSparsityMethod m;
  g_clear_error (&error);
  g_assert_true (sc_sparsity_method_parse ("SparseGPT", &m, NULL));
  g_assert_cmpint (m, ==, SC_SPARSITY_SPARSEGPT);
  g_assert_false (sc_sparsity_method_parse ("obs", &m, &error));
  g_assert_error (error, SC_SPARSITY_ERROR, SC_SPARSITY_ERROR_INVALID);
}

/* A Hessian that is not positive definite: the dampening grows ten-fold
 * until the Cholesky factorisation succeeds, and a hopeless one fails with
 * an error, W untouched. */
static void
test_hessian_escalation (void)
{
  enum
  {
    K = 8,
    R = 4
  };
  float H[K * K] = { 0 };
  for (int i = 0; i < K; i++)
    H[i * K + i] = 1.0f;
  /* eigenvalue 1 - 5 = -4 along (e0 - e1)/sqrt2: indefinite. */
  H[0 * K + 1] = H[1 * K + 0] = 5.0f;
  float W[R * K], W0[R * K];
  for (int i = 0; i < R * K; i++)
    W[i] = W0[i] = sinf ((float) i + 0.3f);
  ScSparsityPattern half = { 0.5, 0, 0 };
  ScSparsityReport rep;
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *mask = g_new (guint8, R * K);
  g_assert_true (sc_sparsity_sparsegpt (&half, W, R, K, H, mask, &rep, &error));
  g_assert_no_error (error);
  /* mean diag 1: 0.01, 0.1, 1 fail (1 - 5 + d < 0), 10 succeeds. */
  g_assert_cmpint (rep.damp_escalations, ==, 3);
  g_assert_cmpfloat_with_epsilon (rep.damp, 10.0, 1e-4);
  g_assert_cmpuint (rep.n_pruned, ==, R * K / 2);
  for (int i = 0; i < R * K; i++)
    g_assert_true (isfinite (W[i]));

  /* Beyond 6 escalations (0.01 * 10^6 = 1e4) nothing helps. */
  H[0 * K + 1] = H[1 * K + 0] = 1e6f;
  memcpy (W, W0, sizeof W);
  g_assert_false (sc_sparsity_sparsegpt (&half, W, R, K, H, mask, &rep, &error));
  g_assert_error (error, SC_SPARSITY_ERROR, SC_SPARSITY_ERROR_NUMERIC);
  g_assert_cmpmem (W, sizeof W, W0, sizeof W0);
  g_clear_error (&error);

  /* NaN in the Hessian: refused. */
  H[0 * K + 1] = H[1 * K + 0] = NAN;
  g_assert_false (sc_sparsity_sparsegpt (&half, W, R, K, H, mask, &rep, &error));
  g_assert_error (error, SC_SPARSITY_ERROR, SC_SPARSITY_ERROR_NUMERIC);
  g_assert_cmpmem (W, sizeof W, W0, sizeof W0);
}

/* A singular Hessian from too few calibration tokens (rank 1) and a channel
 * never active: the 1% dampening makes it invertible, no NaN anywhere, the
 * pattern holds exactly. */
static void
test_singular_inputs (void)
{
  enum
  {
    K = 16,
    R = 8
  };
  float x[K];
  for (int j = 0; j < K; j++)
    x[j] = j == 5 ? 0.0f : (float) (j + 1);
  g_autoptr (ScLayerInputs) inputs = sc_layer_inputs_new (K, TRUE);
  sc_layer_inputs_add (inputs, x, 1);
  sc_layer_inputs_add (inputs, x, 1);
  float W[R * K];
  for (int i = 0; i < R * K; i++)
    W[i] = cosf ((float) i);
  ScSparsityPattern p24 = { 0, 2, 4 };
  ScSparsityReport rep;
  g_autoptr (GError) error = NULL;
  g_assert_true (
      sc_sparsity_prune (SC_SPARSITY_SPARSEGPT, &p24, W, R, K, inputs, NULL, &rep, &error));
  g_assert_no_error (error);
  g_assert_cmpint (rep.dead_columns, ==, 1);
  g_assert_cmpuint (rep.n_pruned, ==, R * K / 2);
  for (int r = 0; r < R; r++)
    {
      for (int g = 0; g < K; g += 4)
        {
          int nz = 0;
          for (int t = 0; t < 4; t++)
            {
              g_assert_true (isfinite (W[r * K + g + t]));
              nz += W[r * K + g + t] != 0.0f;
            }
          g_assert_cmpint (nz, ==, 2);
        }
    }
  /* The Hessian itself: 2/n X^T X. */
  g_autofree float *H = sc_layer_inputs_hessian (inputs);
  g_assert_cmpfloat_with_epsilon (H[2 * K + 3], 2.0f * 3.0f * 4.0f, 1e-4);
  g_assert_cmpfloat_with_epsilon (H[3 * K + 2], 2.0f * 3.0f * 4.0f, 1e-4);
  g_assert_cmpfloat (sc_layer_inputs_sq_norms (inputs)[7], ==, 2.0 * 64.0);
}

/* ---- whole models, sequentially, against the reference ---------------- */

typedef struct
{
  const ScPrunable *p;
  ScSafetensors *st;
  JsonArray *watch;
  const char *run;
  int seen;
} Watch;

static gboolean
json_strv_has (JsonArray *arr, const char *s)
{
  for (guint i = 0; arr != NULL && i < json_array_get_length (arr); i++)
    if (g_str_equal (json_array_get_string_element (arr, i), s))
      return TRUE;
  return FALSE;
}

/* Layer 2's gathered inputs must be those the reference saw after pruning
 * layer 1, and clearly not those of the unpruned model. */
static void
watch_inputs (int linear, const ScLayerInputs *inputs, gpointer data)
{
  Watch *w = data;
  ScLinearInfo info;
  w->p->get_linear (w->p->model, linear, &info);
  if (!json_strv_has (w->watch, info.name))
    return;
  g_autofree char *key = g_strdup_printf ("%s/sq/%s", w->run, info.name);
  g_autofree char *rows_key = g_strdup_printf ("%s/rows/%s", w->run, info.name);
  g_autofree char *full_key = g_strdup_printf ("full_sq/%s", info.name);
  const ScTensor *want = golden_in (w->st, key);
  const ScTensor *full = golden_in (w->st, full_key);
  const double *sq = sc_layer_inputs_sq_norms (inputs);
  g_assert_cmpint (sc_tensor_numel (want), ==, info.n_in);
  g_assert_cmpint (sc_layer_inputs_n_rows (inputs), ==,
                   *(const gint32 *) golden_in (w->st, rows_key)->data);
  g_autofree float *a = read_all (want);
  g_autofree float *f = read_all (full);
  double diff = 0, scale = 0, diff_full = 0;
  for (int j = 0; j < info.n_in; j++)
    {
      diff = MAX (diff, fabs (sq[j] - a[j]));
      diff_full = MAX (diff_full, fabs (sq[j] - f[j]));
      scale = MAX (scale, fabs ((double) a[j]));
    }
  g_test_message ("%s %s: inputs differ by %.3g relative (from the unpruned model: %.3g)", w->run,
                  info.name, diff / scale, diff_full / scale);
  g_assert_cmpfloat (diff / scale, <, 1e-4);
  g_assert_cmpfloat (diff_full / scale, >, 1e-2);
  w->seen++;
}

static ScCalibSet *
golden_samples (JsonObject *meta)
{
  ScCalibSet *set = sc_calib_set_new ();
  JsonArray *arr = json_object_get_array_member (meta, "samples");
  for (guint i = 0; i < json_array_get_length (arr); i++)
    {
      JsonObject *o = json_array_get_object_element (arr, i);
      g_autoptr (GArray) src = sc_test_int_array (json_object_get_array_member (o, "src"));
      /* decoder-only models (BLOOM) have no target side */
      JsonArray *tgt_arr =
          json_object_get_null_member (o, "tgt") ? NULL : json_object_get_array_member (o, "tgt");
      g_autoptr (GArray) tgt = tgt_arr ? sc_test_int_array (tgt_arr) : NULL;
      sc_calib_set_add (set, (int *) src->data, src->len, tgt ? (int *) tgt->data : NULL,
                        tgt ? (int) tgt->len : 0, "eng_Latn");
    }
  return set;
}

static void
parse_run (const char *run, ScSparsifyOptions *opts)
{
  g_auto (GStrv) parts = g_strsplit (run, ".", 2);
  sc_sparsify_options_init (opts);
  g_assert_true (sc_sparsity_method_parse (parts[0], &opts->method, NULL));
  parse_pattern (parts[1], &opts->pattern);
}

static void
test_model_runs (gconstpointer data)
{
  const char *fixture = data;
  g_autofree char *rel_st = g_strdup_printf ("tests/goldens/sparsity/%s.safetensors", fixture);
  g_autofree char *rel_js = g_strdup_printf ("tests/goldens/sparsity/%s.json", fixture);
  g_autofree char *rel_fx = g_strdup_printf ("tests/fixtures/%s", fixture);
  g_autofree char *st_path = sc_test_path (rel_st), *js_path = sc_test_path (rel_js);
  g_autofree char *dir = sc_test_path (rel_fx);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScSafetensors) st = sc_safetensors_open (st_path, &error);
  g_assert_no_error (error);
  g_autoptr (JsonNode) node = sc_test_load_json (js_path);
  JsonObject *meta = json_node_get_object (node);
  g_autoptr (ScCalibSet) calib = golden_samples (meta);
  JsonArray *runs = json_object_get_array_member (meta, "runs");
  JsonArray *watch = json_object_get_array_member (meta, "watch");
  JsonArray *weights = json_object_get_array_member (meta, "weights");
  /* Watched layers whose masks equal the reference's, over the fixture's
   * SparseGPT runs. Not per run: where the BLAS kernels sum in another
   * order (OpenBLAS's AVX-512 sgemm against its SSE3 one), a 2:4 near-tie
   * flipped in an early block can route tokens of later blocks to other
   * experts, and then no watched expert keeps the reference's mask in that
   * run. */
  int compared = 0, sparsegpt_runs = 0;

  for (guint r = 0; r < json_array_get_length (runs); r++)
    {
      const char *run = json_array_get_string_element (runs, r);
      /* NLLB models and BLOOM, through the same ScPrunable */
      g_autoptr (ScModel) model = NULL;
      g_autoptr (ScView) view = NULL;
      g_autoptr (ScBloom) bloom = NULL;
      g_autoptr (ScBloomPrunable) bp = NULL;
      ScPrunable p;
      if (sc_bloom_is_bloom_dir (dir))
        {
          bloom = sc_bloom_load (dir, NULL, &error);
          g_assert_no_error (error);
          sc_prunable_init_bloom (&p, bp = sc_bloom_prunable_new (bloom));
        }
      else
        {
          model = sc_model_load (dir, NULL, &error);
          g_assert_no_error (error);
          view = sc_view_new (model, NULL, &error);
          g_assert_no_error (error);
          sc_prunable_init_view (&p, view);
        }
      ScSparsifyOptions opts;
      parse_run (run, &opts);
      Watch w = { &p, st, watch, run, 0 };
      opts.inputs_observer = watch_inputs;
      opts.inputs_observer_data = &w;
      g_autoptr (ScSparsifyReport) report =
          sc_sparsify (&p, calib, &opts, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_nonnull (report);

      /* Achieved sparsity: exactly half of every layer. */
      int n_linears = p.n_linears (p.model);
      g_assert_cmpuint (report->layers->len, ==, n_linears);
      for (guint i = 0; i < report->layers->len; i++)
        {
          ScSparsifyLayer *l = &g_array_index (report->layers, ScSparsifyLayer, i);
          if (l->n_zero * 2 != (guint64) l->n_out * l->n_in)
            g_error ("%s %s: %" G_GUINT64_FORMAT " zeros in %d x %d (%" G_GUINT64_FORMAT
                     " calibration rows)",
                     run, l->name, l->n_zero, l->n_out, l->n_in, l->n_rows);
        }
      g_assert_cmpuint (report->n_zero * 2, ==, report->n_weights);
      /* Every layer's mask is the reference's. */
      gsize total_diff = 0, total = 0;
      gboolean moe = FALSE;
      for (int i = 0; i < n_linears; i++)
        {
          ScLinearInfo info;
          p.get_linear (p.model, i, &info);
          moe |= strstr (info.name, ".experts.") != NULL;
          const ScTensor *t = p.get_weight (p.model, i);
          g_assert_cmpint (t->dtype, ==, SC_DTYPE_F32);
          const float *W = t->data;
          gsize n = (gsize) info.n_out * info.n_in;
          g_autofree guint8 *mask = g_new (guint8, n);
          for (gsize k = 0; k < n; k++)
            mask[k] = W[k] == 0.0f;
          g_autofree char *key = g_strdup_printf ("%s/mask/%s", run, info.name);
          g_autofree char *what = g_strdup_printf ("%s %s %s", fixture, run, info.name);
          gsize diff = count_mask_diff (golden_in (st, key), mask, n);
          if (diff != 0)
            g_test_message ("%s: %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " mask entries differ",
                            what, diff, n);
          total_diff += diff;
          total += n;
          /* Block 0 reads the same embeddings on both sides: its masks must
           * match exactly (magnitude's everywhere). Later, the two forward
           * passes differ by float rounding (1e-6), and a near-tie that
           * flips in one layer changes what every later layer sees (a few
           * in 100 entries for SparseGPT 2:4, whose updates carry a flip along
           * its row). */
          if (info.block == 0 || opts.method == SC_SPARSITY_MAGNITUDE)
            assert_same_mask (what, golden_in (st, key), mask, n);
          if (diff == 0 && opts.method == SC_SPARSITY_SPARSEGPT &&
              json_strv_has (weights, info.name))
            {
              g_autofree char *wkey = g_strdup_printf ("%s/weight/%s", run, info.name);
              g_autofree float *want = read_all (golden_in (st, wkey));
              double worst = 0;
              for (gsize k = 0; k < n; k++)
                worst = MAX (worst, fabs ((double) W[k] - want[k]));
              g_test_message ("%s: largest weight difference %.3g", what, worst);
              /* 1e-4 holds for fixed inputs (reference-layers); here the
               * inputs themselves went through four pruned blocks in two
               * implementations, and an expert with few tokens has an
               * ill-conditioned Hessian. */
              g_assert_cmpfloat (worst, <, bloom != NULL ? 1e-4 : 1e-3);
              compared++;
            }
        }
      if (opts.method == SC_SPARSITY_SPARSEGPT)
        sparsegpt_runs++;
      g_test_message ("%s %s: %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " mask entries differ",
                      fixture, run, total_diff, total);
      /* SparseGPT carries a flipped near-tie along its row; in an MoE, a
       * flip can also send a later token to another expert, whose inputs
       * (so Hessian and mask) then change wholesale. How many flip depends
       * on the BLAS kernels' summation order: the MoE fixture's 2:4 run
       * differs in 2.1 % of entries with OpenBLAS's SSE3 or AVX2 sgemm and
       * 5.6 % with its AVX-512 one. A wrong update or Hessian differs in
       * about half, and block 0 above is exact. */
      gsize allowed = opts.method != SC_SPARSITY_SPARSEGPT ? total / 1000
                      : moe                                ? total / 10
                                                           : total / 20;
      g_assert_cmpuint (total_diff, <=, allowed);
      /* BLOOM's two blocks leave no room for a near-tie to spread: every
       * method's masks are the reference's, entry for entry. */
      if (bloom != NULL)
        g_assert_cmpuint (total_diff, ==, 0);
      if (opts.method != SC_SPARSITY_MAGNITUDE)
        g_assert_cmpint (w.seen, ==, (int) json_array_get_length (watch));
    }
  if (sparsegpt_runs > 0)
    g_assert_cmpint (compared, >=, 1);
}

/* BLOOM end to end: UDHR calibration segments in the ROOTS languages (no
 * language token), Wanda 50%, export, and the exported checkpoint loaded
 * back computes what the pruned model in memory computes. */
static void
test_bloom_calibrate_export (void)
{
  g_autofree char *dir = sc_test_path ("tests/fixtures/bloom-tiny-f16");
  g_autoptr (GError) error = NULL;
  g_autoptr (ScBloom) bloom = sc_bloom_load (dir, NULL, &error);
  g_assert_no_error (error);

  ScCalibOptions co = { .mode = SC_CALIB_MBS, .n_samples = 32, .seqlen = 24, .seed = 3 };
  g_autoptr (ScCalibSet) set = sc_calib_set_from_udhr_bloom (bloom, &co, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sc_calib_set_size (set), ==, 32);
  const guint *counts;
  const char *const *langs = sc_calib_set_languages (set, &counts);
  g_autoptr (ScShareTable) roots = sc_share_table_load_named ("bloom-roots", &error);
  g_assert_no_error (error);
  guint eng = 0, most = 0;
  for (guint i = 0; langs[i] != NULL; i++)
    {
      g_assert_true (sc_share_table_lookup (roots, langs[i], NULL)); /* ROOTS languages only */
      if (g_str_equal (langs[i], "eng_Latn"))
        eng = counts[i];
      most = MAX (most, counts[i]);
    }
  g_assert_cmpuint (eng, ==, most); /* English has the largest ROOTS share */
  for (guint i = 0; i < sc_calib_set_size (set); i++)
    {
      const ScCalibSample *s = sc_calib_set_get (set, i);
      g_assert_null (s->tgt);
      g_assert_cmpint (s->n_src, >, 4);
      g_assert_cmpint (s->n_src, <=, 24);
    }
  /* A language BLOOM was not trained on is refused. */
  ScCalibOptions de = {
    .mode = SC_CALIB_LANGUAGE, .language = "deu_Latn", .n_samples = 4, .seqlen = 24
  };
  g_assert_null (sc_calib_set_from_udhr_bloom (bloom, &de, &error));
  g_assert_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_MISSING);
  g_assert_nonnull (strstr (error->message, "not one of the model's languages"));
  g_clear_error (&error);

  ScSparsifyOptions so;
  sc_sparsify_options_init (&so);
  g_autoptr (ScBloomPrunable) bp = sc_bloom_prunable_new (bloom);
  ScPrunable p;
  sc_prunable_init_bloom (&p, bp);
  g_autoptr (ScSparsifyReport) report = sc_sparsify (&p, set, &so, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (report->layers->len, ==, 8);
  g_assert_cmpuint (report->n_zero * 2, ==, report->n_weights);
  int ids[] = { 200, 31, 477, 1022, 9, 64, 803, 15 }, n = G_N_ELEMENTS (ids);
  double nll_mem, nll_back;
  g_assert_true (sc_bloom_nll (bloom, ids, n, NULL, &nll_mem, &error));

  g_autofree char *tmp = g_dir_make_tmp ("sc-bloom-export-XXXXXX", &error);
  g_autofree char *out = g_build_filename (tmp, "pruned", NULL);
  ScExportOptions eo = { 0 };
  g_assert_true (sc_export_checkpoint (sc_bloom_get_checkpoint (bloom),
                                       (ScReplacedFunc) sc_bloom_prunable_get_replaced, bp, NULL,
                                       out, &eo, NULL, &error));
  g_assert_no_error (error);
  g_autoptr (ScBloom) back = sc_bloom_load (out, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sc_bloom_get_dtype (back), ==, SC_DTYPE_F16);
  for (int l = 0; l < sc_bloom_n_layers (back); l++)
    for (int w = 0; w < SC_BLOOM_N_LINEAR; w++)
      {
        const ScTensor *t = sc_bloom_get_linear (back, l, w);
        g_autofree float *v = read_all (t);
        gsize zeros = 0, n_el = sc_tensor_numel (t);
        for (gsize k = 0; k < n_el; k++)
          zeros += v[k] == 0.0f;
        g_assert_cmpuint (zeros * 2, ==, n_el);
      }
  g_assert_true (sc_bloom_nll (back, ids, n, NULL, &nll_back, &error));
  g_test_message ("BLOOM pruned in memory: NLL %.6f; exported and loaded back: %.6f", nll_mem,
                  nll_back);
  g_assert_cmpfloat (fabs (nll_mem - nll_back), <, 1e-5); /* f16 values pruned in f32: exact */
  /* putting the checkpoint's weights back: the unpruned model again */
  g_clear_pointer (&bp, sc_bloom_prunable_free);
  g_autoptr (ScBloom) fresh = sc_bloom_load (dir, NULL, &error);
  double nll_free, nll_fresh;
  g_assert_true (sc_bloom_nll (bloom, ids, n, NULL, &nll_free, &error));
  g_assert_true (sc_bloom_nll (fresh, ids, n, NULL, &nll_fresh, &error));
  g_assert_cmpfloat (nll_free, ==, nll_fresh);
  sc_test_rm_tree (tmp);
}

static void
cancel_at_third (int linear, const ScLayerInputs *inputs, gpointer data)
{
  if (linear == 2)
    g_cancellable_cancel (data);
}

/* Cancelling stops between two layers of a block, not only between
 * blocks: the layer in hand is finished, the next is left alone. */
static void
test_cancel_between_layers (void)
{
  g_autofree char *dir = sc_test_path ("tests/fixtures/m2m-tiny");
  g_autoptr (GError) error = NULL;
  g_autoptr (ScModel) model = sc_model_load (dir, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (ScView) view = sc_view_new (model, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (ScCalibSet) calib = sc_calib_set_new ();
  int src[] = { 2047, 100, 200, 300, 2 }, tgt[] = { 2, 2057, 400, 500 };
  sc_calib_set_add (calib, src, G_N_ELEMENTS (src), tgt, G_N_ELEMENTS (tgt), "eng_Latn");
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  ScSparsifyOptions opts;
  sc_sparsify_options_init (&opts);
  opts.method = SC_SPARSITY_SPARSEGPT;
  opts.inputs_observer = cancel_at_third;
  opts.inputs_observer_data = cancel;
  ScPrunable p;
  sc_prunable_init_view (&p, view);
  g_assert_null (sc_sparsify (&p, calib, &opts, NULL, NULL, cancel, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  for (int i = 0; i < 4; i++)
    {
      ScLinearInfo info;
      sc_model_get_linear (model, i, &info);
      g_assert_cmpint (info.block, ==, 0);
      /* layers 0-2 pruned, layer 3 still the checkpoint's */
      if (i <= 2)
        g_assert_nonnull (sc_view_get_replaced_weight (view, info.name));
      else
        g_assert_null (sc_view_get_replaced_weight (view, info.name));
    }
}

/* The linear-layer list and weight replacement of ScModel. */
static void
test_replace_weight (void)
{
  g_autofree char *dir = sc_test_path ("tests/fixtures/nllb-moe-tiny");
  g_autoptr (GError) error = NULL;
  g_autoptr (ScModel) model = sc_model_load (dir, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (ScView) view = sc_view_new (model, NULL, &error);
  g_assert_no_error (error);
  /* Dense blocks 6 (encoder) and 10 (decoder) layers, MoE blocks 4 or 8
   * plus 2 per expert. */
  g_assert_cmpint (sc_model_n_blocks (model), ==, 8);
  g_assert_cmpint (sc_model_n_linears (model), ==, 6 + 20 + 6 + 20 + 10 + 24 + 10 + 24);
  ScLinearInfo info;
  sc_model_get_linear (model, 0, &info);
  g_assert_cmpstr (info.name, ==, "model.encoder.layers.0.self_attn.q_proj.weight");
  g_assert_cmpint (info.block, ==, 0);
  g_assert_cmpint (info.expert, ==, -1);
  sc_model_get_linear (model, 6 + 4 + 2 * 5 + 1, &info);
  g_assert_cmpstr (info.name, ==, "model.encoder.layers.1.ffn.experts.expert_5.fc2.weight");
  g_assert_cmpint (info.block, ==, 1);
  g_assert_cmpint (info.expert, ==, 5);
  g_assert_cmpint (info.n_out, ==, 64);
  g_assert_cmpint (info.n_in, ==, 128);
  sc_model_get_linear (model, 52 + 5, &info);
  g_assert_cmpstr (info.name, ==, "model.decoder.layers.0.cross_attention.k_proj.weight");
  g_assert_cmpint (info.block, ==, 4);

  int ids[] = { 2047, 100, 200, 300, 2 }, len = 5;
  g_autoptr (ScEncoding) e0 = sc_view_encode (view, ids, &len, 1, len, &error);
  g_assert_no_error (error);
  const ScTensor *orig = sc_view_get_linear_weight (view, 0);
  g_assert_null (sc_view_get_replaced_weight (view, orig->name));
  /* A copy of the same values gives the same output, bit for bit. */
  float *same = g_new (float, 64 * 64);
  sc_tensor_read_f32 (orig, 0, 64 * 64, same);
  g_assert_true (sc_view_replace_linear_weight (view, 0, same, &error));
  g_assert_true (sc_view_get_linear_weight (view, 0) != orig);
  g_assert_true (
      sc_view_get_replaced_weight (view, "model.encoder.layers.0.self_attn.q_proj.weight") ==
      sc_view_get_linear_weight (view, 0));
  g_autoptr (ScEncoding) e1 = sc_view_encode (view, ids, &len, 1, len, &error);
  g_assert_cmpmem (e0->hidden, sizeof (float) * 5 * 64, e1->hidden, sizeof (float) * 5 * 64);
  /* Zeros change it (and replacing twice is fine). */
  g_assert_true (sc_view_replace_linear_weight (view, 0, g_new0 (float, 64 * 64), &error));
  g_autoptr (ScEncoding) e2 = sc_view_encode (view, ids, &len, 1, len, &error);
  g_assert_true (memcmp (e0->hidden, e2->hidden, sizeof (float) * 5 * 64) != 0);
  g_assert_false (sc_view_replace_linear_weight (view, 9999, g_new0 (float, 4), &error));
  g_assert_error (error, SC_ERROR, SC_ERROR_MISSING);
}

/* Export: same names and dtype, zeros in place, N:M kept, a config record;
 * loads back and computes with the pruned weights. */
static void
test_export (void)
{
  g_autofree char *dir = sc_test_path ("tests/fixtures/nllb-moe-tiny-f16");
  g_autoptr (GError) error = NULL;
  g_autoptr (ScModel) model = sc_model_load (dir, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (ScView) view = sc_view_new (model, NULL, &error);
  g_assert_no_error (error);
  ScSparsifyOptions opts;
  sc_sparsify_options_init (&opts);
  opts.method = SC_SPARSITY_MAGNITUDE;
  g_assert_true (sc_sparsity_pattern_parse ("2:4", &opts.pattern, NULL));
  ScPrunable p;
  sc_prunable_init_view (&p, view);
  g_autoptr (ScSparsifyReport) report = sc_sparsify (&p, NULL, &opts, NULL, NULL, NULL, &error);
  g_assert_no_error (error);

  g_autofree char *tmp = g_dir_make_tmp ("sc-sparsity-XXXXXX", &error);
  g_autofree char *out = g_build_filename (tmp, "pruned", NULL);
  g_autoptr (JsonObject) record = json_object_new ();
  json_object_set_string_member (record, "method", "magnitude");
  json_object_set_string_member (record, "sparsity", "2:4");
  ScExportOptions eo = { 0 };
  g_assert_true (sc_export_model (view, record, out, &eo, NULL, &error));
  g_assert_no_error (error);

  g_autoptr (ScModel) back = sc_model_load (out, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sc_model_n_linears (back), ==, sc_model_n_linears (model));
  for (int i = 0; i < sc_model_n_linears (back); i++)
    {
      const ScTensor *t = sc_model_get_linear_weight (back, i);
      const ScTensor *mine = sc_view_get_linear_weight (view, i);
      g_assert_cmpint (t->dtype, ==, SC_DTYPE_F16);
      int64_t n = sc_tensor_numel (t);
      g_autofree float *a = read_all (t);
      const float *b = mine->data;
      for (int64_t k = 0; k < n; k++)
        g_assert_cmpfloat (a[k], ==, b[k]); /* f16 values pruned in f32: exact */
      for (int64_t k = 0; k < n; k += 4)
        g_assert_cmpint ((a[k] != 0) + (a[k + 1] != 0) + (a[k + 2] != 0) + (a[k + 3] != 0), <=, 2);
    }
  /* Untouched tensors are byte-identical (the embedding). */
  const ScTensor *e0 = sc_checkpoint_get (sc_model_get_checkpoint (model), "model.shared.weight");
  const ScTensor *e1 = sc_checkpoint_get (sc_model_get_checkpoint (back), "model.shared.weight");
  g_assert_cmpmem (e0->data, e0->nbytes, e1->data, e1->nbytes);
  g_autofree char *cfg = g_build_filename (out, "config.json", NULL);
  g_autoptr (JsonNode) cj = sc_test_load_json (cfg);
  JsonObject *rec =
      json_object_get_object_member (json_node_get_object (cj), SC_EXPORT_SPARSITY_KEY);
  g_assert_nonnull (rec);
  g_assert_cmpstr (json_object_get_string_member (rec, "sparsity"), ==, "2:4");

  /* A value f16 cannot hold is refused, and nothing is left behind. */
  g_autofree char *out2 = g_build_filename (tmp, "overflow", NULL);
  float *big = g_new0 (float, 64 * 64);
  big[7] = 1e6f;
  g_assert_true (sc_view_replace_linear_weight (view, 0, big, &error));
  g_assert_false (sc_export_model (view, NULL, out2, &eo, NULL, &error));
  g_assert_error (error, SC_ERROR, SC_ERROR_FORMAT);
  g_assert_false (g_file_test (out2, G_FILE_TEST_EXISTS));
  g_clear_error (&error);
  float *nan = g_new0 (float, 64 * 64);
  nan[3] = NAN;
  g_assert_true (sc_view_replace_linear_weight (view, 0, nan, &error));
  g_assert_false (sc_export_model (view, NULL, out2, &eo, NULL, &error));
  g_assert_error (error, SC_ERROR, SC_ERROR_FORMAT);
  g_assert_false (g_file_test (out2, G_FILE_TEST_EXISTS));
  sc_test_rm_tree (tmp);
}

/* Calibration sets from the UDHR: counts known before running, lengths
 * bounded, a language the corpus lacks refused. */
static void
test_calibration_sets (void)
{
  g_autofree char *dir = sc_test_path ("tests/fixtures/m2m-tiny");
  g_autoptr (GError) error = NULL;
  g_autoptr (ScModel) model = sc_model_load (dir, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (ScView) view = sc_view_new (model, NULL, &error);
  g_assert_no_error (error);
  ScCalibOptions co = { .mode = SC_CALIB_MBS, .n_samples = 40, .seqlen = 24, .seed = 1 };
  g_autoptr (ScCalibSet) mbs = sc_calib_set_from_udhr (model, &co, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sc_calib_set_size (mbs), ==, 40);
  const guint *counts;
  const char *const *langs = sc_calib_set_languages (mbs, &counts);
  guint total = 0, eng = 0;
  for (guint i = 0; langs[i] != NULL; i++)
    {
      total += counts[i];
      if (g_str_equal (langs[i], "eng_Latn"))
        eng = counts[i];
    }
  g_assert_cmpuint (total, ==, 40);
  g_assert_cmpuint (g_strv_length ((char **) langs), >, 5);
  g_assert_cmpuint (eng, >,
                    40 / g_strv_length ((char **) langs)); /* English has the largest share */
  int eng_id = 2047;
  for (guint i = 0; i < 40; i++)
    {
      const ScCalibSample *s = sc_calib_set_get (mbs, i);
      g_assert_cmpint (s->n_src, <=, 24);
      g_assert_cmpint (s->n_src, ==, s->n_tgt);
      g_assert_cmpint (s->src[s->n_src - 1], ==, 2);
      g_assert_cmpint (s->tgt[0], ==, 2);
      g_assert_cmpint (s->src[0], ==, s->tgt[1]);
      if (g_str_equal (s->lang, "eng_Latn"))
        g_assert_cmpint (s->src[0], ==, eng_id);
    }
  g_autofree char *text = sc_calib_set_describe (mbs);
  g_assert_nonnull (strstr (text, "40 calibration samples"));
  g_assert_nonnull (strstr (text, "eng_Latn"));

  co.mode = SC_CALIB_LANGUAGE;
  co.language = "eng_Latn";
  g_autoptr (ScCalibSet) en = sc_calib_set_from_udhr (model, &co, &error);
  g_assert_no_error (error);
  langs = sc_calib_set_languages (en, &counts);
  g_assert_cmpstrv (langs, ((const char *const[]){ "eng_Latn", NULL }));
  g_assert_cmpuint (counts[0], ==, 40);

  co.language = "xyz_Latn";
  g_assert_null (sc_calib_set_from_udhr (model, &co, &error));
  g_assert_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_MISSING);
  g_assert_nonnull (strstr (error->message, "xyz_Latn"));
  g_clear_error (&error);
  co.seqlen = 2;
  co.language = "eng_Latn";
  g_assert_null (sc_calib_set_from_udhr (model, &co, &error));
  g_assert_error (error, SC_SAMPLER_ERROR, SC_SAMPLER_ERROR_INVALID);
  g_clear_error (&error);

  /* Wanda without calibration, and an N:M the model cannot take (64 % 3). */
  ScPrunable p;
  sc_prunable_init_view (&p, view);
  ScSparsifyOptions so;
  sc_sparsify_options_init (&so);
  g_assert_null (sc_sparsify (&p, NULL, &so, NULL, NULL, NULL, &error));
  g_assert_error (error, SC_SPARSITY_ERROR, SC_SPARSITY_ERROR_NO_INPUTS);
  g_clear_error (&error);
  so.method = SC_SPARSITY_MAGNITUDE;
  so.pattern = (ScSparsityPattern){ 0, 1, 3 };
  g_assert_null (sc_sparsify (&p, NULL, &so, NULL, NULL, NULL, &error));
  g_assert_error (error, SC_SPARSITY_ERROR, SC_SPARSITY_ERROR_INVALID);
  g_assert_cmpint (sc_view_get_linear_weight (view, 0)->dtype, ==, SC_DTYPE_F32);
  g_assert_null (sc_view_get_replaced_weight (view, "model.encoder.layers.0.fc1.weight"));
}

/* A Hessian budget too small for two layers: each layer is captured in its
 * own pass after the previous ones were pruned. q, k and v read the same
 * inputs as in one pass; out_proj then reads the pruned attention's output. */
static void
test_hessian_budget (void)
{
  g_autofree char *dir = sc_test_path ("tests/fixtures/m2m-tiny");
  g_autofree char *st_path = sc_test_path ("tests/goldens/sparsity/m2m-tiny.safetensors");
  g_autofree char *js_path = sc_test_path ("tests/goldens/sparsity/m2m-tiny.json");
  g_autoptr (GError) error = NULL;
  g_autoptr (ScSafetensors) st = sc_safetensors_open (st_path, &error);
  g_assert_no_error (error);
  g_autoptr (JsonNode) node = sc_test_load_json (js_path);
  g_autoptr (ScCalibSet) calib = golden_samples (json_node_get_object (node));
  g_autoptr (ScModel) model = sc_model_load (dir, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (ScView) view = sc_view_new (model, NULL, &error);
  g_assert_no_error (error);
  ScSparsifyOptions opts;
  parse_run ("sparsegpt.50", &opts);
  opts.hessian_budget = 1;
  ScPrunable p;
  sc_prunable_init_view (&p, view);
  g_autoptr (ScSparsifyReport) report = sc_sparsify (&p, calib, &opts, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (report->n_zero * 2, ==, report->n_weights);
  for (int i = 0; i < 4; i++)
    {
      ScLinearInfo info;
      sc_model_get_linear (model, i, &info);
      const float *W = sc_view_get_linear_weight (view, i)->data;
      guint8 mask[64 * 64];
      for (int k = 0; k < 64 * 64; k++)
        mask[k] = W[k] == 0.0f;
      g_autofree char *key = g_strdup_printf ("sparsegpt.50/mask/%s", info.name);
      gsize diff = count_mask_diff (golden_in (st, key), mask, 64 * 64);
      if (i < 3)
        g_assert_cmpuint (diff, ==, 0);
      else
        g_assert_cmpuint (diff, >, 0);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *path = sc_test_path ("tests/goldens/sparsity/layers.safetensors");
  g_autofree char *index = sc_test_path ("tests/goldens/sparsity/layers.json");
  layers = sc_safetensors_open (path, &error);
  g_assert_no_error (error);
  layers_index = sc_test_load_json (index);
  g_test_add_func ("/sparsity/reference-layers", test_reference_layers);
  g_test_add_func ("/sparsity/nm-groups", test_nm_groups);
  g_test_add_func ("/sparsity/bad-patterns", test_bad_patterns);
  g_test_add_func ("/sparsity/hessian-escalation", test_hessian_escalation);
  g_test_add_func ("/sparsity/singular-inputs", test_singular_inputs);
  g_test_add_data_func ("/sparsity/model/m2m-tiny", "m2m-tiny", test_model_runs);
  g_test_add_data_func ("/sparsity/model/nllb-moe-tiny", "nllb-moe-tiny", test_model_runs);
  g_test_add_data_func ("/sparsity/model/bloom-tiny", "bloom-tiny", test_model_runs);
  g_test_add_func ("/sparsity/replace-weight", test_replace_weight);
  g_test_add_func ("/sparsity/export", test_export);
  g_test_add_func ("/sparsity/cancel-between-layers", test_cancel_between_layers);
  g_test_add_func ("/sparsity/bloom-calibrate-export", test_bloom_calibrate_export);
  g_test_add_func ("/sparsity/calibration-sets", test_calibration_sets);
  g_test_add_func ("/sparsity/hessian-budget", test_hessian_budget);
  int rc = g_test_run ();
  json_node_unref (layers_index);
  sc_safetensors_free (layers);
  return rc;
}
