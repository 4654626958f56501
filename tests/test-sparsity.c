/* test-sparsity: magnitude, Wanda and SparseGPT on single matrices against
 * the PyTorch reference (tools/sparsity_reference.py), and bad input. */
#include "sc-safetensors.h"
#include "sc-sparsity.h"
#include "sc-test-util.h"

#include <math.h>
#include <string.h>

static ScSafetensors *layers;
static JsonNode *layers_index;

static const ScTensor *golden (const char *fmt, ...) G_GNUC_PRINTF (1, 2);

static const ScTensor *
golden (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *name = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  GPtrArray *ts = sc_safetensors_tensors (layers);
  for (guint i = 0; i < ts->len; i++)
    if (g_str_equal (((ScTensor *) ts->pdata[i])->name, name))
      return ts->pdata[i];
  g_error ("golden tensor %s is missing", name);
}

static float *
read_all (const ScTensor *t)
{
  float *v = g_new (float, sc_tensor_numel (t));
  sc_tensor_read_f32 (t, 0, sc_tensor_numel (t), v);
  return v;
}

/* Packed golden mask (bit b of word w = element 32 w + b) against ours. */
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
 * never active: the 1% dampening makes it invertible, the dead channel's
 * weights are removed, no NaN anywhere. */
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
      g_assert_cmpfloat (W[r * K + 5], ==, 0.0f);
      for (int g = 0; g < K; g += 4)
        {
          int nz = 0;
          for (int t = 0; t < 4; t++)
            {
              g_assert_true (isfinite (W[r * K + g + t]));
              nz += W[r * K + g + t] != 0.0f;
            }
          g_assert_cmpint (nz, <=, 2);
        }
    }
  /* The Hessian itself: 2/n X^T X. */
  g_autofree float *H = sc_layer_inputs_hessian (inputs);
  g_assert_cmpfloat_with_epsilon (H[2 * K + 3], 2.0f * 3.0f * 4.0f, 1e-4);
  g_assert_cmpfloat_with_epsilon (H[3 * K + 2], 2.0f * 3.0f * 4.0f, 1e-4);
  g_assert_cmpfloat (sc_layer_inputs_sq_norms (inputs)[7], ==, 2.0 * 64.0);
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
  int rc = g_test_run ();
  json_node_unref (layers_index);
  sc_safetensors_free (layers);
  return rc;
}
