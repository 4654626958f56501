/* test-merge.c: folding pruned experts into kept ones (sc-merge.h): two
 * identical experts merge back to the expert, a permuted copy is aligned
 * back to the identity and merges to the original, the assignment solver
 * against brute force, mass-weighted folding against hand-computed values,
 * targets and routing mass on small layers, experts read from the tiny
 * MoE fixture against the model's own expert forward pass, and a merged
 * export (export --merge) that loads back and computes what masked
 * evaluation with merging computes, biases (which differ between the
 * fixture's experts) merged as the weights are. */
#include "sc-generate.h"
#include "sc-merge.h"
#include "sc-test-cli.h"
#include "sc-test-util.h"

#include <math.h>
#include <string.h>

/* A random expert with units that differ and are mostly alive on the
 * random tokens of random_tokens (biases around 0.2). */
static ScMergeExpert *
random_expert (GRand *r, int d, int F)
{
  ScMergeExpert *x = sc_merge_expert_new (d, F);
  for (int i = 0; i < F * d; i++)
    x->w1[i] = (float) g_rand_double_range (r, -1.0, 1.0);
  for (int i = 0; i < F; i++)
    x->b1[i] = (float) g_rand_double_range (r, -0.3, 0.7);
  for (int i = 0; i < d * F; i++)
    x->w2[i] = (float) g_rand_double_range (r, -1.0, 1.0);
  for (int i = 0; i < d; i++)
    x->b2[i] = (float) g_rand_double_range (r, -0.5, 0.5);
  return x;
}

static float *
random_tokens (GRand *r, int n, int d)
{
  float *h = g_new (float, (gsize) n *d);
  for (int i = 0; i < n * d; i++)
    h[i] = (float) g_rand_double_range (r, -1.0, 1.0);
  return h;
}

static void
assert_expert_equal (const ScMergeExpert *a, const ScMergeExpert *b)
{
  g_assert_cmpint (a->d, ==, b->d);
  g_assert_cmpint (a->ffn, ==, b->ffn);
  g_assert_cmpmem (a->w1, sizeof (float) * a->ffn * a->d, b->w1, sizeof (float) * b->ffn * b->d);
  g_assert_cmpmem (a->b1, sizeof (float) * a->ffn, b->b1, sizeof (float) * b->ffn);
  g_assert_cmpmem (a->w2, sizeof (float) * a->ffn * a->d, b->w2, sizeof (float) * b->ffn * b->d);
  g_assert_cmpmem (a->b2, sizeof (float) * a->d, b->b2, sizeof (float) * b->d);
}

static void
test_identical (void)
{
  g_autoptr (GRand) r = g_rand_new_with_seed (3);
  int d = 6, F = 16, n = 40;
  g_autoptr (ScMergeExpert) x = random_expert (r, d, F);
  g_autofree float *h = random_tokens (r, n, d);
  int perm[16];
  sc_merge_align (x, x, h, n, perm);
  for (int j = 0; j < F; j++)
    g_assert_cmpint (perm[j], ==, j);
  /* masses 1 and 3: weights 1/4 and 3/4 add up exactly in f32 */
  const ScMergeExpert *others[1] = { x };
  const int *perms[1] = { perm };
  double masses[1] = { 3.0 };
  g_autoptr (ScMergeExpert) m = sc_merge_fold (x, 1.0, others, perms, masses, 1);
  assert_expert_equal (m, x);
  /* any masses give the expert back up to rounding */
  masses[0] = 0.37;
  g_autoptr (ScMergeExpert) m2 = sc_merge_fold (x, 1.91, others, perms, masses, 1);
  for (int i = 0; i < F * d; i++)
    g_assert_cmpfloat_with_epsilon (m2->w1[i], x->w1[i], 1e-6);
  for (int i = 0; i < d; i++)
    g_assert_cmpfloat_with_epsilon (m2->b2[i], x->b2[i], 1e-6);
}

static void
test_permuted_copy (void)
{
  g_autoptr (GRand) r = g_rand_new_with_seed (11);
  int d = 8, F = 24, n = 64;
  g_autoptr (ScMergeExpert) x = random_expert (r, d, F);
  g_autofree float *h = random_tokens (r, n, d);
  int shuffle[24];
  for (int j = 0; j < F; j++)
    shuffle[j] = j;
  for (int j = F - 1; j > 0; j--)
    {
      int k = g_rand_int_range (r, 0, j + 1), tmp = shuffle[j];
      shuffle[j] = shuffle[k], shuffle[k] = tmp;
    }
  g_autoptr (ScMergeExpert) y = sc_merge_expert_permute (x, shuffle);
  /* the same function: the permutation changes no output */
  g_autofree float *ox = g_new (float, n *d);
  g_autofree float *oy = g_new (float, n *d);
  sc_merge_expert_forward (x, h, n, ox);
  sc_merge_expert_forward (y, h, n, oy);
  for (int i = 0; i < n * d; i++)
    g_assert_cmpfloat_with_epsilon (ox[i], oy[i], 1e-5);
  g_assert_false (memcmp (x->w1, y->w1, sizeof (float) * F * d) == 0);

  int perm[24];
  sc_merge_align (x, y, h, n, perm);
  /* unit perm[j] of y is unit shuffle[perm[j]] of x: back to j */
  for (int j = 0; j < F; j++)
    g_assert_cmpint (shuffle[perm[j]], ==, j);
  g_autoptr (ScMergeExpert) back = sc_merge_expert_permute (y, perm);
  assert_expert_equal (back, x);
  const ScMergeExpert *others[1] = { y };
  const int *perms[1] = { perm };
  double masses[1] = { 5.0 };
  g_autoptr (ScMergeExpert) m = sc_merge_fold (x, 3.0, others, perms, masses, 1);
  assert_expert_equal (m, x);
  /* without the alignment the average is another function */
  g_autoptr (ScMergeExpert) naive = sc_merge_fold (x, 3.0, others, NULL, masses, 1);
  g_assert_false (memcmp (naive->w1, x->w1, sizeof (float) * F * d) == 0);
}

/* Dead units (constant on every token) are ordered by their weights. */
static void
test_dead_units (void)
{
  g_autoptr (GRand) r = g_rand_new_with_seed (5);
  int d = 4, F = 8, n = 16;
  g_autoptr (ScMergeExpert) x = random_expert (r, d, F);
  for (int j = 0; j < F; j++)
    x->b1[j] = -100.0f; /* relu is 0 on every token */
  g_autofree float *h = random_tokens (r, n, d);
  int shuffle[8] = { 3, 7, 0, 5, 1, 6, 2, 4 }, perm[8];
  g_autoptr (ScMergeExpert) y = sc_merge_expert_permute (x, shuffle);
  sc_merge_align (x, y, h, n, perm);
  for (int j = 0; j < F; j++)
    g_assert_cmpint (shuffle[perm[j]], ==, j);
}

/* Units that compute the same on the tokens are matched even where their
 * weights differ in a direction the tokens never use (h[:, d - 1] == 0),
 * which would mislead a matching on weights alone. */
static void
test_activations_over_weights (void)
{
  g_autoptr (GRand) r = g_rand_new_with_seed (13);
  int d = 6, F = 12, n = 48;
  g_autoptr (ScMergeExpert) x = random_expert (r, d, F);
  g_autofree float *h = random_tokens (r, n, d);
  for (int t = 0; t < n; t++)
    h[t * d + d - 1] = 0.0f;
  int shuffle[12] = { 4, 9, 0, 11, 2, 7, 5, 1, 10, 3, 8, 6 }, perm[12];
  g_autoptr (ScMergeExpert) y = sc_merge_expert_permute (x, shuffle);
  for (int j = 0; j < F; j++)
    y->w1[j * d + d - 1] = (float) g_rand_double_range (r, -20.0, 20.0);
  sc_merge_align (x, y, h, n, perm);
  for (int j = 0; j < F; j++)
    g_assert_cmpint (shuffle[perm[j]], ==, j);
}

static double
brute_force (const double *cost, int n, int *p, int k, gboolean *used)
{
  if (k == n)
    {
      double s = 0.0;
      for (int i = 0; i < n; i++)
        s += cost[i * n + p[i]];
      return s;
    }
  double best = INFINITY;
  for (int j = 0; j < n; j++)
    if (!used[j])
      {
        used[j] = TRUE;
        p[k] = j;
        best = MIN (best, brute_force (cost, n, p, k + 1, used));
        used[j] = FALSE;
      }
  return best;
}

static void
test_assign_vs_brute_force (void)
{
  g_autoptr (GRand) r = g_rand_new_with_seed (29);
  for (int trial = 0; trial < 120; trial++)
    {
      int n = 1 + trial % 7;
      double cost[49];
      for (int i = 0; i < n * n; i++)
        /* every third trial small integers, so that ties occur */
        cost[i] = trial % 3 == 0 ? g_rand_int_range (r, 0, 4) : g_rand_double_range (r, -5.0, 5.0);
      int col[7], p[7];
      gboolean used[7] = { FALSE };
      double got = sc_merge_assign (cost, n, col);
      double want = brute_force (cost, n, p, 0, used);
      gboolean seen[7] = { FALSE };
      double sum = 0.0;
      for (int i = 0; i < n; i++)
        {
          g_assert_cmpint (col[i], >=, 0);
          g_assert_cmpint (col[i], <, n);
          g_assert_false (seen[col[i]]);
          seen[col[i]] = TRUE;
          sum += cost[i * n + col[i]];
        }
      g_assert_cmpfloat_with_epsilon (sum, want, 1e-9);
      g_assert_cmpfloat_with_epsilon (got, want, 1e-9);
    }
  /* a known case: the anti-diagonal is the one optimum */
  double c3[9] = { 5, 4, 1, 4, 1, 4, 1, 4, 5 };
  int col[3];
  g_assert_cmpfloat (sc_merge_assign (c3, 3, col), ==, 3.0);
  g_assert_cmpint (col[0], ==, 2);
  g_assert_cmpint (col[1], ==, 1);
  g_assert_cmpint (col[2], ==, 0);
}

/* d 1, ffn 2: every number written out. */
static ScMergeExpert *
tiny_expert (float a0, float a1, float c0, float c1, float v0, float v1, float b2)
{
  ScMergeExpert *x = sc_merge_expert_new (1, 2);
  x->w1[0] = a0, x->w1[1] = a1;
  x->b1[0] = c0, x->b1[1] = c1;
  x->w2[0] = v0, x->w2[1] = v1;
  x->b2[0] = b2;
  return x;
}

static void
test_mass_weighted (void)
{
  g_autoptr (ScMergeExpert) k = tiny_expert (1, 2, 0, 1, 1, 2, 0);
  g_autoptr (ScMergeExpert) p = tiny_expert (3, 6, 4, 5, 5, 10, 8);
  int ident[2] = { 0, 1 }, swap[2] = { 1, 0 };

  /* kept mass 1, p mass 3: (1 * k + 3 * p) / 4 */
  const ScMergeExpert *o1[1] = { p };
  const int *p1[1] = { ident };
  double m1[1] = { 3.0 };
  g_autoptr (ScMergeExpert) a = sc_merge_fold (k, 1.0, o1, p1, m1, 1);
  g_assert_cmpfloat (a->w1[0], ==, 2.5f); /* (1 + 9) / 4 */
  g_assert_cmpfloat (a->w1[1], ==, 5.0f); /* (2 + 18) / 4 */
  g_assert_cmpfloat (a->b1[0], ==, 3.0f); /* (0 + 12) / 4 */
  g_assert_cmpfloat (a->b1[1], ==, 4.0f); /* (1 + 15) / 4 */
  g_assert_cmpfloat (a->w2[0], ==, 4.0f); /* (1 + 15) / 4 */
  g_assert_cmpfloat (a->w2[1], ==, 8.0f); /* (2 + 30) / 4 */
  g_assert_cmpfloat (a->b2[0], ==, 6.0f); /* (0 + 24) / 4 */

  /* p's units swapped: unit j of k meets unit 1 - j of p */
  const int *p2[1] = { swap };
  g_autoptr (ScMergeExpert) b = sc_merge_fold (k, 1.0, o1, p2, m1, 1);
  g_assert_cmpfloat (b->w1[0], ==, 4.75f); /* (1 + 18) / 4 */
  g_assert_cmpfloat (b->w1[1], ==, 2.75f); /* (2 + 9) / 4 */
  g_assert_cmpfloat (b->b1[0], ==, 3.75f); /* (0 + 15) / 4 */
  g_assert_cmpfloat (b->w2[0], ==, 7.75f); /* (1 + 30) / 4 */
  g_assert_cmpfloat (b->w2[1], ==, 4.25f); /* (2 + 15) / 4 */
  g_assert_cmpfloat (b->b2[0], ==, 6.0f);
}

static void
test_mass_weighted_several (void)
{
  g_autoptr (ScMergeExpert) k = tiny_expert (1, 2, 0, 1, 1, 2, 0);
  g_autoptr (ScMergeExpert) p = tiny_expert (3, 6, 4, 5, 5, 10, 8);
  g_autoptr (ScMergeExpert) q = tiny_expert (-1, 10, 2, -3, 7, 1, -4);
  int ident[2] = { 0, 1 }, swap[2] = { 1, 0 };
  /* kept mass 2, p 1 (identity), q 1 (swapped): (2 k + p + q') / 4 */
  const ScMergeExpert *o[2] = { p, q };
  const int *perms[2] = { ident, swap };
  double masses[2] = { 1.0, 1.0 };
  g_autoptr (ScMergeExpert) m = sc_merge_fold (k, 2.0, o, perms, masses, 2);
  g_assert_cmpfloat (m->w1[0], ==, 3.75f); /* (2 + 3 + 10) / 4 */
  g_assert_cmpfloat (m->w1[1], ==, 2.25f); /* (4 + 6 - 1) / 4 */
  g_assert_cmpfloat (m->b1[0], ==, 0.25f); /* (0 + 4 - 3) / 4 */
  g_assert_cmpfloat (m->b1[1], ==, 2.25f); /* (2 + 5 + 2) / 4 */
  g_assert_cmpfloat (m->w2[0], ==, 2.0f);  /* (2 + 5 + 1) / 4 */
  g_assert_cmpfloat (m->w2[1], ==, 5.25f); /* (4 + 10 + 7) / 4 */
  g_assert_cmpfloat (m->b2[0], ==, 1.0f);  /* (0 + 8 - 4) / 4 */

  /* no routing mass at all: the kept expert as it is */
  double none[2] = { 0.0, 0.0 };
  g_autoptr (ScMergeExpert) z = sc_merge_fold (k, 0.0, o, perms, none, 2);
  assert_expert_equal (z, k);
  /* a kept expert nothing reaches takes its pruned experts' average */
  double only_p[2] = { 2.0, 0.0 };
  g_autoptr (ScMergeExpert) w = sc_merge_fold (k, 0.0, o, perms, only_p, 2);
  assert_expert_equal (w, p);
}

/* Targets by output cosine, and routing mass, on a 3-token layer. */
static void
test_targets_and_mass (void)
{
  enum
  {
    T = 3,
    NE = 4,
    DD = 2
  };
  g_autoptr (ScReconLayer) L = sc_recon_layer_new (T, NE, 1.0f);
  /* y [NE, T, DD]: expert 1 = 2 x expert 0; expert 3 = -expert 2 + a bit
   * of expert 0; expert 2 orthogonal to 0 */
  float y[NE * T * DD] = {
    1,    0,  2,    0,  1, 0,  /* 0 */
    2,    0,  4,    0,  2, 0,  /* 1 */
    0,    1,  0,    1,  0, 2,  /* 2 */
    0.5f, -1, 0.5f, -1, 0, -2, /* 3 */
  };
  sc_recon_layer_set_outputs (L, 0, T, DD, y);
  double sim[NE * NE];
  sc_merge_similarity (L, sim);
  g_assert_cmpfloat_with_epsilon (sim[0 * NE + 1], 1.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (sim[0 * NE + 2], 0.0, 1e-12);
  /* <y3, y0> = 0.5 + 1 = 1.5, |y3| = sqrt (0.25 * 2 + 6) , |y0| = sqrt 6 */
  g_assert_cmpfloat_with_epsilon (sim[3 * NE + 0], 1.5 / sqrt (6.5 * 6.0), 1e-12);

  guint8 keep[NE] = { 1, 0, 1, 0 };
  int target[NE];
  g_assert_true (sc_merge_targets (sim, NE, keep, NULL, target, NULL));
  g_assert_cmpint (target[0], ==, 0);
  g_assert_cmpint (target[1], ==, 0);
  g_assert_cmpint (target[2], ==, 2);
  g_assert_cmpint (target[3], ==, 0); /* 3 is closer to 0 than to its opposite */
  guint8 present[NE] = { 1, 1, 1, 0 };
  g_assert_true (sc_merge_targets (sim, NE, keep, present, target, NULL));
  g_assert_cmpint (target[3], ==, -1);
  guint8 none[NE] = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_false (sc_merge_targets (sim, NE, none, NULL, target, &error));
  g_assert_nonnull (error);

  /* logits: token 0 ln (3, 1, 0+, 0+), token 1 ln (1, 1, 2, 0+), token 2
   * expert 3 alone */
  float lo = -60.0f;
  float logits[T * NE] = { logf (3), 0, lo, lo, 0, 0, logf (2), lo, lo, lo, lo, 0 };
  memcpy (L->logits, logits, sizeof logits);
  double mass[NE];
  sc_merge_routing_mass (L, mass);
  /* token 0: 0 gets 3/4, 1 gets 1/4; token 1: 2 gets 2/3, then 0 (the
   * lower id of the two equal logits) 1/3; token 2: 3 gets almost 1 (the
   * second expert's weight is ~e^-60) */
  g_assert_cmpfloat_with_epsilon (mass[0], 0.75 + 1.0 / 3.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (mass[1], 0.25, 1e-6);
  g_assert_cmpfloat_with_epsilon (mass[2], 2.0 / 3.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (mass[3], 1.0, 1e-6);
}

static char *
fixture (const char *name)
{
  g_autofree char *rel = g_build_filename ("tests/fixtures", name, NULL);
  return sc_test_path (rel);
}

/* Experts read from the checkpoint compute what the model's expert
 * forward pass computes; merging a layer folds each pruned expert into its
 * target only. */
static void
test_model (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = fixture ("nllb-moe-tiny");
  g_autoptr (ScModel) model = sc_model_load (dir, NULL, &error);
  g_assert_no_error (error);
  const ScConfig *c = sc_model_get_config (model);
  int E = c->num_experts, d = c->d_model, n = 20;
  g_autoptr (GRand) r = g_rand_new_with_seed (7);
  g_autofree float *h = random_tokens (r, n, d);
  g_autofree float *want = g_new (float, n *d);
  g_autofree float *got = g_new (float, n *d);
  for (int m = 0; m < sc_model_n_moe_layers (model); m++)
    for (int e = 0; e < E; e += 3)
      {
        g_autoptr (ScMergeExpert) x = sc_merge_expert_from_model (model, m, e, &error);
        g_assert_no_error (error);
        g_assert_cmpint (x->d, ==, d);
        g_assert_true (sc_model_moe_expert_forward (model, m, e, h, n, want, &error));
        sc_merge_expert_forward (x, h, n, got);
        for (int i = 0; i < n * d; i++)
          g_assert_cmpfloat_with_epsilon (got[i], want[i], 1e-4);
      }
  g_assert_null (sc_merge_expert_from_model (model, 0, E, &error));
  g_assert_error (error, SC_ERROR, SC_ERROR_MISSING);
  g_clear_error (&error);

  /* keep experts 0..3 of MoE layer 1 */
  guint8 keep[64] = { 0 };
  for (int e = 0; e < E / 2; e++)
    keep[e] = 1;
  ScMergeExpert *merged[64];
  int target[64];
  g_assert_true (sc_merge_layer (model, 1, h, n, keep, merged, target, NULL, &error));
  g_assert_no_error (error);
  for (int e = 0; e < E; e++)
    {
      if (e < E / 2)
        g_assert_cmpint (target[e], ==, e);
      else
        g_assert_true (target[e] >= 0 && target[e] < E / 2);
      gboolean receives = FALSE;
      for (int f = E / 2; f < E; f++)
        receives |= target[f] == e;
      g_assert_true ((merged[e] != NULL) == receives);
    }
  /* a merged expert differs from the kept one it started from */
  for (int e = 0; e < E / 2; e++)
    if (merged[e] != NULL)
      {
        g_autoptr (ScMergeExpert) x = sc_merge_expert_from_model (model, 1, e, &error);
        g_assert_false (memcmp (x->w1, merged[e]->w1, sizeof (float) * x->ffn * d) == 0);
      }

  /* the layer's error: without merged experts the objective's; every
   * expert kept: none; with them, the outputs computed token by token */
  double rel = -1.0, ref = 0.0;
  g_assert_true (sc_merge_layer_error (model, 1, h, n, keep, NULL, &rel, NULL, &error));
  g_autoptr (ScReconLayer) L = sc_recon_layer_from_model (model, 1, h, n, NULL, &error);
  g_assert_no_error (error);
  double err = sc_recon_error (L, keep, &ref);
  g_assert_cmpfloat (err, >, 0.0);
  g_assert_cmpfloat_with_epsilon (rel, err / ref, 1e-6 * (err / ref));
  guint8 all[64];
  memset (all, 1, sizeof all);
  g_assert_true (sc_merge_layer_error (model, 1, h, n, all, NULL, &rel, NULL, &error));
  g_assert_cmpfloat (rel, ==, 0.0);
  g_assert_true (sc_merge_layer_error (model, 1, h, n, keep, merged, &rel, NULL, &error));
  double eom = 1.0 - c->moe_token_dropout, want_err = 0.0, want_ref = 0.0;
  g_autofree float *y = g_new (float, d);
  for (int t = 0; t < n; t++)
    {
      int a, b, ka, kb;
      double wa, wb, kwa, kwb;
      sc_recon_route (L, t, NULL, &a, &b, &wa, &wb);
      sc_recon_route (L, t, keep, &ka, &kb, &kwa, &kwb);
      g_autofree double *f = g_new0 (double, d);
      g_autofree double *p = g_new0 (double, d);
      int ids[2] = { a, b }, kids[2] = { ka, kb };
      double w[2] = { wa, wb }, kw[2] = { kwa, kwb };
      for (int i = 0; i < 2; i++)
        {
          g_assert_true (sc_model_moe_expert_forward (model, 1, ids[i], h + t * d, 1, y, &error));
          for (int j = 0; j < d; j++)
            f[j] += eom * w[i] * y[j];
          if (kids[i] < 0)
            continue;
          if (merged[kids[i]] != NULL)
            sc_merge_expert_forward (merged[kids[i]], h + t * d, 1, y);
          else
            g_assert_true (
                sc_model_moe_expert_forward (model, 1, kids[i], h + t * d, 1, y, &error));
          for (int j = 0; j < d; j++)
            p[j] += eom * kw[i] * y[j];
        }
      for (int j = 0; j < d; j++)
        {
          want_err += (f[j] - p[j]) * (f[j] - p[j]);
          want_ref += f[j] * f[j];
        }
    }
  g_assert_cmpfloat_with_epsilon (rel, want_err / want_ref, 1e-5 * (want_err / want_ref));
  g_assert_cmpfloat (fabs (rel - err / ref), >, 1e-6);
  for (int e = 0; e < E; e++)
    sc_merge_expert_free (merged[e]);
}

static ScEncoding *
encode (ScView *view)
{
  const int ids[2][8] = { { 2047, 176, 615, 470, 165, 267, 1296, 2 },
                          { 2047, 626, 763, 1297, 2, 1, 1, 1 } };
  int lengths[2] = { 8, 5 };
  g_autoptr (GError) error = NULL;
  ScEncoding *enc = sc_view_encode (view, &ids[0][0], lengths, 2, 8, &error);
  g_assert_no_error (error);
  return enc;
}

static GPtrArray *
translate (ScView *view, const ScEncoding *enc, int beams)
{
  g_autoptr (GError) error = NULL;
  ScGenerateOptions opts;
  sc_generate_options_init (&opts, sc_view_get_model (view));
  opts.num_beams = beams;
  opts.max_length = 20;
  opts.forced_bos_id = 2057;
  GPtrArray *out = sc_generate (view, enc, &opts, NULL, &error);
  g_assert_no_error (error);
  return out;
}

/* calibrate --capture, export --merge, and the export against masked
 * evaluation with merging (sc_merge_apply on a view of the full model
 * keeping the same experts: its overlay of weights and biases): the same
 * merged experts, biases included, the same encoder states bit for bit and
 * the same translations; both differ from masked evaluation without
 * merging, which another view of the same model still computes. */
static void
test_export_cli (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *moe = fixture ("nllb-moe-tiny");
  g_autofree char *tmp = g_dir_make_tmp ("sc-merge-XXXXXX", NULL);
  g_autofree char *stats = g_build_filename (tmp, "s.json", NULL);
  g_autofree char *capture = g_build_filename (tmp, "s.capture", NULL);
  g_autofree char *keep_path = g_build_filename (tmp, "keep.json", NULL);
  g_autofree char *out = g_build_filename (tmp, "merged", NULL);
  g_autofree char *plain = g_build_filename (tmp, "plain", NULL);
  Run r = run_cli (NULL, "calibrate", "-m", moe, "--pairs", "eng_Latn-fra_Latn,fra_Latn-eng_Latn",
                   "--size", "12", "--capture", "32", "-q", "-o", stats, NULL);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);
  static const int kept[4][4] = { { 0, 2, 5, 7 }, { 1, 2, 3, 6 }, { 0, 1, 4, 6 }, { 2, 3, 5, 7 } };
  guint8 keep[32] = { 0 };
  for (int m = 0; m < 4; m++)
    for (int i = 0; i < 4; i++)
      keep[m * 8 + kept[m][i]] = 1;
  g_assert_true (g_file_set_contents (
      keep_path, "[[0, 2, 5, 7], [1, 2, 3, 6], [0, 1, 4, 6], [2, 3, 5, 7]]", -1, NULL));

  /* select --merge reports each layer's error with merging, per key */
  g_autofree char *index = g_build_filename (tmp, "i.json", NULL);
  r = run_cli (NULL, "select", "--stats", stats, "--ratio", "0.5", "--merge", "-o", index, NULL);
  g_assert_cmpint (r.status, ==, 2); /* needs the model */
  run_clear (&r);
  r = run_cli (NULL, "select", "--stats", stats, "--ratio", "0.5", "-m", moe, "--merge", "-o",
               index, NULL);
  g_assert_cmpint (r.status, ==, 0);
  const char *eng = strstr (r.out, "Reconstruction error of eng_Latn");
  g_assert_nonnull (eng);
  g_assert_true (g_str_has_prefix (strchr (eng, '\n') + 1, "With the pruned experts merged: "));
  g_assert_nonnull (strstr (r.out, "Reconstruction error of fra_Latn"));
  run_clear (&r);

  r = run_cli (NULL, "export", "-m", moe, "--bundle", "--stats", stats, "--pair",
               "eng_Latn-fra_Latn", "--merge", "--capture", capture, "-o", out, NULL);
  g_assert_cmpint (r.status, ==, 2); /* not for the bundle */
  g_assert_nonnull (strstr (r.err, "--merge"));
  run_clear (&r);
  r = run_cli (NULL, "export", "-m", moe, "--keep", keep_path, "--merge", "-o", out, NULL);
  g_assert_cmpint (r.status, ==, 2); /* needs the capture */
  g_assert_nonnull (strstr (r.err, "--capture"));
  run_clear (&r);
  r = run_cli (NULL, "export", "-m", moe, "--keep", keep_path, "--merge", "--capture", capture,
               "-o", out, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "16 pruned experts merged into kept ones"));
  run_clear (&r);
  r = run_cli (NULL, "export", "-m", moe, "--keep", keep_path, "-o", plain, NULL);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);
  g_autofree char *served = g_build_filename (tmp, "served", NULL);
  r = run_cli (NULL, "export", "-m", moe, "--experts", index, "--pair", "eng_Latn-fra_Latn",
               "--merge", "--capture", capture, "-o", served, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, " pruned experts merged into kept ones"));
  run_clear (&r);

  /* evaluate --merge translates a direction as its merged export does; its
   * pruned side differs from the one without merging */
  const char *how[3][2] = { { "--merge", "--pruned-only" }, { "--pruned-only", NULL }, { NULL } };
  JsonObject *sides[3];
  JsonNode *reports[3];
  for (int k = 0; k < 3; k++)
    {
      g_autofree char *report = g_strdup_printf ("%s/eval-%d.json", tmp, k);
      if (k < 2)
        r = run_cli (NULL, "evaluate", "-m", moe, "--pairs", "eng_Latn-fra_Latn", "--limit", "3",
                     "--max-len", "16", "--beam", "2", "-o", report, "--experts", index,
                     "--capture", capture, how[k][0], how[k][1], NULL);
      else
        r = run_cli (NULL, "evaluate", "-m", served, "--pairs", "eng_Latn-fra_Latn", "--limit", "3",
                     "--max-len", "16", "--beam", "2", "-o", report, NULL);
      g_assert_cmpint (r.status, ==, 0);
      run_clear (&r);
      reports[k] = sc_test_load_json (report);
      JsonObject *dir = json_array_get_object_element (
          json_object_get_array_member (json_node_get_object (reports[k]), "directions"), 0);
      g_assert_true (json_object_has_member (dir, "full") == (k == 2));
      sides[k] = json_object_get_object_member (dir, k < 2 ? "pruned" : "full");
    }
  JsonArray *tm = json_object_get_array_member (sides[0], "translations");
  JsonArray *te = json_object_get_array_member (sides[2], "translations");
  g_assert_cmpuint (json_array_get_length (tm), ==, 3);
  g_assert_cmpuint (json_array_get_length (te), ==, 3);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpstr (json_array_get_string_element (tm, i), ==,
                     json_array_get_string_element (te, i));
  /* (the export's router has only the kept rows: a last-digit difference) */
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (sides[0], "nll"),
                                  json_object_get_double_member (sides[2], "nll"), 1e-6);
  g_assert_cmpfloat (json_object_get_double_member (sides[0], "nll"), !=,
                     json_object_get_double_member (sides[1], "nll"));
  for (int k = 0; k < 3; k++)
    json_node_unref (reports[k]);
  r = run_cli (NULL, "evaluate", "-m", moe, "--pairs", "eng_Latn-fra_Latn", "--merge", "--experts",
               index, NULL);
  g_assert_cmpint (r.status, ==, 2); /* needs the capture */
  run_clear (&r);

  g_autoptr (ScModel) full = sc_model_load (moe, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (ScModel) merged = sc_model_load (out, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (ScModel) pruned = sc_model_load (plain, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (ScCapture) cap = sc_capture_load (capture, &error);
  g_assert_no_error (error);
  /* a full view prunes nothing, so nothing merges */
  g_autoptr (ScView) whole = sc_view_new (full, NULL, &error);
  int n_merged = -1;
  g_assert_true (sc_merge_apply (whole, cap, NULL, &n_merged, NULL, &error));
  g_assert_cmpint (n_merged, ==, 0);
  g_assert_cmpuint (sc_view_n_replaced (whole), ==, 0);
  g_autoptr (ScView) masked = sc_view_new_from_keep (full, keep, &error);
  g_assert_no_error (error);
  g_assert_true (sc_merge_apply (masked, cap, NULL, &n_merged, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (n_merged, ==, 16);
  /* fc1 and fc2, weights and biases, of every kept expert that received one */
  g_assert_cmpuint (sc_view_n_replaced (masked), >, 0);
  g_assert_cmpuint (sc_view_n_replaced (masked) % 4, ==, 0);
  g_autoptr (ScView) vm = sc_view_new (merged, NULL, &error);
  g_autoptr (ScView) vp = sc_view_new (pruned, NULL, &error);
  g_assert_no_error (error);
  /* a second masked view of the same model, made before and after merging,
   * sees none of the first one's overlay */
  g_autoptr (ScView) other = sc_view_new_from_keep (full, keep, &error);
  g_assert_no_error (error);

  /* the tokens of the served directions: one is the capture's pair pool;
   * two are both pools, thinned to the capture's bound */
  const char *one[] = { "eng_Latn-fra_Latn", NULL };
  const char *two[] = { "eng_Latn-fra_Latn", "fra_Latn-eng_Latn", NULL };
  int d = sc_model_get_config (full)->d_model;
  for (int m = 0; m < 4; m++)
    {
      int n1 = 0, n2 = 0, np = 0;
      g_autofree float *t1 = sc_merge_tokens (cap, d, one, m, &n1);
      g_autofree float *tp =
          sc_capture_tokens_for (cap, SC_GRANULARITY_PAIR, "eng_Latn", "fra_Latn", m, &np);
      g_autofree float *t2 = sc_merge_tokens (cap, d, two, m, &n2);
      g_assert_cmpint (n1, >, 0);
      g_assert_cmpint (n1, ==, np);
      g_assert_cmpmem (t1, sizeof (float) * n1 * d, tp, sizeof (float) * np * d);
      g_assert_cmpint (n2, ==, 32);
      g_assert_cmpmem (t2, sizeof (float) * d, t1, sizeof (float) * d);
    }

  /* every merged expert as sc_merge_layer folds it on every captured
   * token: in the overlay and in the export, bit for bit, biases included,
   * which are no longer the kept expert's own */
  guint n_folded = 0, n_changed = 0;
  for (int m = 0; m < 4; m++)
    {
      int n = 0;
      g_autofree float *h = sc_merge_tokens (cap, d, NULL, m, &n);
      ScMergeExpert *folded[8];
      g_assert_true (sc_merge_layer (full, m, h, n, keep + m * 8, folded, NULL, NULL, &error));
      g_assert_no_error (error);
      for (int e = 0; e < 8; e++)
        {
          if (folded[e] == NULL)
            continue;
          n_folded++;
          g_autoptr (ScMergeExpert) own = sc_merge_expert_from_model (full, m, e, &error);
          g_autoptr (ScMergeExpert) exported = sc_merge_expert_from_model (merged, m, e, &error);
          g_assert_no_error (error);
          assert_expert_equal (exported, folded[e]);
          /* (a pruned expert no captured token routes to carries no mass) */
          if (memcmp (own->w1, folded[e]->w1, sizeof (float) * own->ffn * d) != 0)
            {
              n_changed++;
              g_assert_false (memcmp (own->b1, folded[e]->b1, sizeof (float) * own->ffn) == 0);
              g_assert_false (memcmp (own->b2, folded[e]->b2, sizeof (float) * d) == 0);
            }
          g_autofree char *b2 =
              g_strdup_printf ("model.%s.layers.%d.ffn.experts.expert_%d.fc2.bias",
                               m < 2 ? "encoder" : "decoder", 1 + 2 * (m % 2), e);
          const ScTensor *t = sc_view_get_replaced_weight (masked, b2);
          g_assert_nonnull (t);
          g_assert_cmpmem (t->data, t->nbytes, folded[e]->b2, sizeof (float) * d);
          g_assert_null (sc_view_get_replaced_weight (other, b2));
          sc_merge_expert_free (folded[e]);
        }
    }
  g_assert_cmpuint (n_folded * 4, ==, sc_view_n_replaced (masked));
  g_assert_cmpuint (n_changed, >=, 4);
  g_assert_cmpuint (sc_view_n_replaced (other), ==, 0);
  g_assert_false (sc_view_replace_linear_bias (other, -1, g_new0 (float, 1), &error));
  g_assert_error (error, SC_ERROR, SC_ERROR_MISSING);
  g_clear_error (&error);

  g_autoptr (ScEncoding) a = encode (masked);
  g_autoptr (ScEncoding) b = encode (vm);
  g_autoptr (ScEncoding) c = encode (vp);
  g_autoptr (ScEncoding) o = encode (other);
  gsize bytes = sizeof (float) * a->B * a->S * a->d;
  g_assert_cmpmem (a->hidden, bytes, b->hidden, bytes);
  g_assert_false (memcmp (a->hidden, c->hidden, bytes) == 0);
  g_assert_cmpmem (o->hidden, bytes, c->hidden, bytes);
  for (int beams = 1; beams <= 4; beams += 3)
    {
      g_autoptr (GPtrArray) x = translate (masked, a, beams);
      g_autoptr (GPtrArray) y = translate (vm, b, beams);
      g_assert_cmpuint (x->len, ==, y->len);
      for (guint i = 0; i < x->len; i++)
        {
          GArray *xi = x->pdata[i], *yi = y->pdata[i];
          g_assert_cmpmem (xi->data, xi->len * sizeof (int), yi->data, yi->len * sizeof (int));
        }
    }
  sc_test_rm_tree (tmp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/merge/identical", test_identical);
  g_test_add_func ("/merge/permuted-copy", test_permuted_copy);
  g_test_add_func ("/merge/dead-units", test_dead_units);
  g_test_add_func ("/merge/activations-over-weights", test_activations_over_weights);
  g_test_add_func ("/merge/assign-vs-brute-force", test_assign_vs_brute_force);
  g_test_add_func ("/merge/mass-weighted", test_mass_weighted);
  g_test_add_func ("/merge/mass-weighted-several", test_mass_weighted_several);
  g_test_add_func ("/merge/targets-and-mass", test_targets_and_mass);
  g_test_add_func ("/merge/model", test_model);
  g_test_add_func ("/merge/export-cli", test_export_cli);
  return g_test_run ();
}
