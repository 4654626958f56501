/* test-reconstruct.c: output-aware expert selection (sc-reconstruct.h):
 * the objective against outputs computed directly, greedy elimination
 * against a brute-force search over every subset of 8 experts, routing and
 * expert outputs against the model's masked forward pass, the capture's
 * reservoir and file, and calibrate --capture / select --algo reconstruct
 * end to end through the CLI. */
#include "sc-expert-index.h"
#include "sc-reconstruct.h"
#include "sc-view.h"
#include "sc-test-cli.h"
#include "sc-test-util.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#define E 8
#define D 6
#define N 24
#define EOM 0.8f

static char *
fixture (const char *name)
{
  g_autofree char *rel = g_build_filename ("tests/fixtures", name, NULL);
  return sc_test_path (rel);
}

/* A synthetic layer: logits and outputs y [E, N, D] drawn from `seed`. */
static ScReconLayer *
synth_layer (guint32 seed, float *y)
{
  g_autoptr (GRand) r = g_rand_new_with_seed (seed);
  ScReconLayer *L = sc_recon_layer_new (N, E, EOM);
  for (int i = 0; i < N * E; i++)
    L->logits[i] = (float) g_rand_double_range (r, -2.0, 2.0);
  for (int i = 0; i < E * N * D; i++)
    y[i] = (float) g_rand_double_range (r, -1.0, 1.0);
  sc_recon_layer_set_outputs (L, 0, N, D, y);
  return L;
}

/* The MoE output of token t with only `keep` kept, written out from
 * NLLB-FACTS §2.6 without the Gram matrix: softmax over the kept experts,
 * top-1 by probability, top-2 by logit among the rest, weights
 * p/(p1+p2), a single expert taking weight 1, every output scaled by EOM. */
static void
direct_output (const float *logits, const float *y, int t, const guint8 *keep, double *out)
{
  const float *l = logits + t * E;
  double p[E], max = -INFINITY, sum = 0;
  for (int e = 0; e < E; e++)
    if (keep[e])
      max = MAX (max, l[e]);
  for (int e = 0; e < E; e++)
    sum += p[e] = keep[e] ? exp (l[e] - max) : 0.0;
  int a = -1, b = -1;
  for (int e = 0; e < E; e++)
    if (keep[e] && (a < 0 || p[e] > p[a]))
      a = e;
  for (int e = 0; e < E; e++)
    if (keep[e] && e != a && (b < 0 || l[e] > l[b]))
      b = e;
  double wa = b < 0 ? 1.0 : p[a] / (p[a] + p[b]), wb = b < 0 ? 0.0 : p[b] / (p[a] + p[b]);
  for (int j = 0; j < D; j++)
    out[j] = EOM * (wa * y[(a * N + t) * D + j] + (b < 0 ? 0.0 : wb * y[(b * N + t) * D + j]));
}

static double
direct_error (const float *logits, const float *y, const guint8 *keep, double *ref)
{
  guint8 all[E];
  memset (all, 1, E);
  double err = 0, total = 0;
  for (int t = 0; t < N; t++)
    {
      double full[D], pruned[D];
      direct_output (logits, y, t, all, full);
      direct_output (logits, y, t, keep, pruned);
      for (int j = 0; j < D; j++)
        {
          err += (full[j] - pruned[j]) * (full[j] - pruned[j]);
          total += full[j] * full[j];
        }
    }
  *ref = total;
  return err;
}

static void
mask_of (unsigned bits, guint8 *keep)
{
  for (int e = 0; e < E; e++)
    keep[e] = (bits >> e) & 1;
}

/* The Gram-matrix objective is the squared error of the outputs. */
static void
test_objective (void)
{
  g_autofree float *y = g_new (float, E *N *D);
  g_autoptr (ScReconLayer) L = synth_layer (5, y);
  guint8 keep[E];
  for (unsigned bits = 1; bits < (1u << E); bits++)
    {
      mask_of (bits, keep);
      double ref, want_ref, err = sc_recon_error (L, keep, &ref);
      double want = direct_error (L->logits, y, keep, &want_ref);
      g_assert_cmpfloat_with_epsilon (ref, want_ref, 1e-6 * want_ref);
      g_assert_cmpfloat_with_epsilon (err, want, 1e-6 * want_ref);
      if (bits == (1u << E) - 1)
        g_assert_cmpfloat (err, ==, 0.0);
      else
        g_assert_cmpfloat (err, >, 0.0); /* random outputs: every removal costs */
    }
}

/* Greedy elimination against every subset of 8 experts: never below the
 * brute-force minimum, and equal to it at 7 kept, where its one step tries
 * every removal. */
static void
test_greedy_vs_brute_force (void)
{
  for (guint32 seed = 1; seed <= 6; seed++)
    {
      g_autofree float *y = g_new (float, E *N *D);
      g_autoptr (ScReconLayer) L = synth_layer (seed, y);
      double ref;
      sc_recon_error (L, (guint8[E]){ 1, 1, 1, 1, 1, 1, 1, 1 }, &ref);
      for (int k = 1; k < E; k++)
        {
          double best = INFINITY;
          guint8 keep[E];
          for (unsigned bits = 1; bits < (1u << E); bits++)
            if (__builtin_popcount (bits) == k)
              {
                mask_of (bits, keep);
                best = MIN (best, sc_recon_error (L, keep, NULL));
              }
          guint8 got[E];
          double rel = -1;
          g_autoptr (GError) error = NULL;
          g_assert_true (sc_recon_greedy (L, k, got, &rel, &error));
          g_assert_no_error (error);
          int n = 0;
          for (int e = 0; e < E; e++)
            n += got[e];
          g_assert_cmpint (n, ==, k);
          double err = sc_recon_error (L, got, NULL);
          g_assert_cmpfloat_with_epsilon (rel, err / ref, 1e-9);
          g_assert_cmpfloat (err, >=, best * (1 - 1e-12));
          if (k == E - 1)
            g_assert_cmpfloat_with_epsilon (err, best, 1e-12 * ref);
          /* the full path's last k are greedy's set at k, with its error */
          int order[E];
          double curve[E + 1];
          g_assert_cmpint (sc_recon_path (L, order, curve), ==, E);
          guint8 tail[E] = { 0 };
          for (int i = E - k; i < E; i++)
            tail[order[i]] = 1;
          g_assert_cmpmem (tail, E, got, E);
          g_assert_cmpfloat_with_epsilon (curve[k], rel, 1e-6 * rel); /* rounding */
          g_assert_cmpfloat (curve[E], ==, 0.0);
        }
    }
}

/* A layer whose tokens all go to experts 0 and 1, the others computing
 * nothing: brute force finds {0, 1} alone at error 0, and so does greedy. */
static void
test_greedy_constructed (void)
{
  g_autoptr (GRand) r = g_rand_new_with_seed (9);
  g_autoptr (ScReconLayer) L = sc_recon_layer_new (N, E, EOM);
  g_autofree float *y = g_new0 (float, E *N *D);
  for (int t = 0; t < N; t++)
    for (int e = 0; e < E; e++)
      L->logits[t * E + e] = e < 2 ? (float) g_rand_double_range (r, 3.0, 5.0) : -4.0f + 0.1f * e;
  for (int i = 0; i < 2 * N * D; i++)
    y[i] = (float) g_rand_double_range (r, -1.0, 1.0);
  sc_recon_layer_set_outputs (L, 0, N, D, y);
  guint8 keep[E];
  double ref;
  sc_recon_error (L, (guint8[E]){ 1, 1, 1, 1, 1, 1, 1, 1 }, &ref);
  /* zero up to the rounding of weights from a smaller softmax */
  double tiny = 1e-12 * ref;
  int zero = 0;
  for (unsigned bits = 1; bits < (1u << E); bits++)
    if (__builtin_popcount (bits) == 2)
      {
        mask_of (bits, keep);
        double err = sc_recon_error (L, keep, NULL);
        zero += err <= tiny;
        if (bits == 3)
          g_assert_cmpfloat (err, <=, tiny);
        else
          g_assert_cmpfloat (err, >, 1e-3 * ref);
      }
  g_assert_cmpint (zero, ==, 1);
  double rel = -1;
  g_assert_true (sc_recon_greedy (L, 2, keep, &rel, NULL));
  g_assert_cmpmem (keep, E, ((guint8[E]){ 1, 1, 0, 0, 0, 0, 0, 0 }), E);
  g_assert_cmpfloat (rel, <=, 1e-12);
  /* a budget of 0 or more than the layer has is refused */
  g_autoptr (GError) error = NULL;
  g_assert_false (sc_recon_greedy (L, 0, keep, NULL, &error));
  g_assert_error (error, SC_SELECT_ERROR, SC_SELECT_ERROR_BUDGET);
}

/* Marginal-gain allocation keeps exactly the total asked, within [1,
 * max] per layer, and on convex error curves it is the brute-force optimum. */
static void
test_allocate (void)
{
  enum
  {
    NL = 3,
    S = E + 1
  };
  double curves[NL * S];
  int max_k[NL] = { E, E, 5 };
  g_autoptr (GRand) r = g_rand_new_with_seed (3);
  for (int m = 0; m < NL; m++)
    {
      /* a (max - k)^2 + b (max - k): decreasing to 0 with all kept, with
       * decreasing drops (convex) */
      double qa = g_rand_double_range (r, 0.01, 0.1), qb = g_rand_double_range (r, 0.0, 0.2);
      for (int k = 0; k < S; k++)
        {
          int left = MAX (max_k[m] - k, 0);
          curves[m * S + k] = qa * left * left + qb * left;
        }
    }
  for (int total = NL; total <= E + E + 5; total++)
    {
      int k[NL];
      g_autoptr (GError) error = NULL;
      g_assert_true (sc_recon_allocate (curves, NL, S, max_k, total, k, &error));
      g_assert_no_error (error);
      g_assert_cmpint (k[0] + k[1] + k[2], ==, total);
      double got = 0, best = INFINITY;
      for (int m = 0; m < NL; m++)
        {
          g_assert_cmpint (k[m], >=, 1);
          g_assert_cmpint (k[m], <=, max_k[m]);
          got += curves[m * S + k[m]];
        }
      for (int a = 1; a <= max_k[0]; a++)
        for (int b = 1; b <= max_k[1]; b++)
          {
            int c = total - a - b;
            if (c >= 1 && c <= max_k[2])
              best = MIN (best, curves[a] + curves[S + b] + curves[2 * S + c]);
          }
      g_assert_cmpfloat_with_epsilon (got, best, 1e-12);
    }
  int k[NL];
  g_autoptr (GError) error = NULL;
  g_assert_false (sc_recon_allocate (curves, NL, S, max_k, NL - 1, k, &error));
  g_assert_error (error, SC_SELECT_ERROR, SC_SELECT_ERROR_BUDGET);
  g_clear_error (&error);
  g_assert_false (sc_recon_allocate (curves, NL, S, max_k, E + E + 6, k, &error));
  g_assert_error (error, SC_SELECT_ERROR, SC_SELECT_ERROR_BUDGET);
}

typedef struct
{
  int moe_index;
  int n, d;
  float *hidden;
  int *top1, *top2;
  float *w1, *w2, *norm1, *norm2;
} Seen;

static void
seen_clear (Seen *s)
{
  g_free (s->hidden);
  g_free (s->top1);
  g_free (s->top2);
  g_free (s->w1);
  g_free (s->w2);
  g_free (s->norm1);
  g_free (s->norm2);
  memset (s, 0, sizeof *s);
}

static void
observe (const ScRouterEvent *ev, gpointer data)
{
  Seen *s = data;
  if (ev->moe_index != s->moe_index || s->hidden != NULL)
    return;
  s->n = ev->n_tokens;
  s->hidden = g_memdup2 (ev->hidden, sizeof (float) * ev->n_tokens * s->d);
  s->top1 = g_memdup2 (ev->top1, sizeof (int) * s->n);
  s->top2 = g_memdup2 (ev->top2, sizeof (int) * s->n);
  s->w1 = g_memdup2 (ev->w1, sizeof (float) * s->n);
  s->w2 = g_memdup2 (ev->w2, sizeof (float) * s->n);
  s->norm1 = g_memdup2 (ev->norm1, sizeof (float) * s->n);
  s->norm2 = g_memdup2 (ev->norm2, sizeof (float) * s->n);
}

/* The objective's routing and expert outputs are the masked forward
 * pass's: same top-2, same weights, same output norms, with and without a
 * mask, on the router inputs the observer hands out. */
static void
test_matches_masked_forward (void)
{
  g_autofree char *dir = fixture ("nllb-moe-tiny");
  g_autoptr (GError) error = NULL;
  g_autoptr (ScModel) model = sc_model_load (dir, NULL, &error);
  g_assert_no_error (error);
  const ScConfig *c = sc_model_get_config (model);
  int n_moe = sc_model_n_moe_layers (model), NE = c->num_experts;
  g_assert_cmpint (NE, ==, E);
  g_autoptr (GArray) ids =
      sc_tokenizer_encode (sc_model_get_tokenizer (model),
                           "All human beings are born free and equal.", "eng_Latn", &error);
  g_assert_no_error (error);
  int len = ids->len;
  static const guint8 kept[E] = { 0, 1, 0, 1, 1, 0, 1, 0 };
  for (int masked = 0; masked < 2; masked++)
    {
      g_autofree guint8 *mask = g_new (guint8, n_moe * E);
      for (int m = 0; m < n_moe; m++)
        memcpy (mask + m * E, kept, E);
      g_autoptr (ScView) view = sc_view_new_from_keep (model, masked ? mask : NULL, &error);
      g_assert_no_error (error);
      Seen s = { .moe_index = 1, .d = c->d_model };
      sc_view_set_router_observer (view, observe, &s);
      g_autoptr (ScEncoding) enc = sc_view_encode (view, (int *) ids->data, &len, 1, len, &error);
      g_assert_no_error (error);
      g_assert_cmpint (s.n, ==, len);
      g_autoptr (ScReconLayer) L =
          sc_recon_layer_from_model (model, 1, s.hidden, s.n, NULL, &error);
      g_assert_no_error (error);
      for (int t = 0; t < s.n; t++)
        {
          int a, b;
          double wa, wb;
          sc_recon_route (L, t, masked ? kept : NULL, &a, &b, &wa, &wb);
          g_assert_cmpint (a, ==, s.top1[t]);
          g_assert_cmpint (b, ==, s.top2[t]);
          g_assert_cmpfloat_with_epsilon (wa, s.w1[t], 1e-6);
          g_assert_cmpfloat_with_epsilon (wb, s.w2[t], 1e-6);
          const double *G = L->gram + (gsize) t * E * E;
          g_assert_cmpfloat_with_epsilon (sqrt (G[a * E + a]), s.norm1[t], 1e-4 * s.norm1[t]);
          g_assert_cmpfloat_with_epsilon (sqrt (G[b * E + b]), s.norm2[t], 1e-4 * s.norm2[t]);
        }
      seen_clear (&s);
    }
}

static void
offer (ScCapture *cap, const char *dir, int layer, int n, float base)
{
  g_autofree float *h = g_new (float, n * 3);
  g_autofree int *top1 = g_new0 (int, n);
  g_autofree guint8 *valid = g_new (guint8, n);
  for (int t = 0; t < n; t++)
    {
      h[t * 3] = h[t * 3 + 1] = h[t * 3 + 2] = base + t;
      valid[t] = t != 3;
    }
  if (n > 5)
    top1[5] = -1; /* padding */
  g_assert_true (sc_capture_add (cap, dir, layer, n, h, top1, valid, NULL));
}

/* At most max_tokens per direction and layer, padding never kept, the
 * same sample from the same seed, the file reads back, and pooling follows
 * the encoder:decoder rule. */
static void
test_capture (void)
{
  g_autoptr (ScCapture) a = sc_capture_new (2, 1, 3, 5, 17);
  g_autoptr (ScCapture) b = sc_capture_new (2, 1, 3, 5, 17);
  offer (a, "eng_Latn-fra_Latn", 0, 40, 0);
  offer (b, "eng_Latn-fra_Latn", 0, 40, 0);
  offer (a, "fra_Latn-eng_Latn", 1, 3, 100);
  int n = 0, nb = 0;
  g_autofree float *ra =
      sc_capture_tokens_for (a, SC_GRANULARITY_LANG, "eng_Latn", "eng_Latn", 0, &n);
  g_autofree float *rb =
      sc_capture_tokens_for (b, SC_GRANULARITY_LANG, "eng_Latn", "eng_Latn", 0, &nb);
  g_assert_cmpint (n, ==, 5);
  g_assert_cmpmem (ra, n * 3 * sizeof (float), rb, nb * 3 * sizeof (float));
  gboolean late = FALSE;
  for (int i = 0; i < n; i++)
    {
      g_assert_cmpfloat (ra[i * 3], !=, 3);
      g_assert_cmpfloat (ra[i * 3], !=, 5);
      g_assert_cmpfloat (ra[i * 3], <, 40);
      late |= ra[i * 3] >= 6; /* a reservoir, not the first five */
    }
  g_assert_true (late);
  /* decoder layer 1 of eng_Latn: tokens of directions into eng_Latn */
  g_autofree float *dec =
      sc_capture_tokens_for (a, SC_GRANULARITY_LANG, "eng_Latn", "eng_Latn", 1, &n);
  g_assert_cmpint (n, ==, 3);
  g_assert_cmpfloat (dec[0], ==, 100);
  g_assert_cmpfloat (dec[3], ==, 101);
  g_autofree float *none =
      sc_capture_tokens_for (a, SC_GRANULARITY_LANG, "fra_Latn", "fra_Latn", 1, &n);
  g_assert_null (none);
  g_assert_cmpint (n, ==, 0);

  g_autofree char *tmp = g_dir_make_tmp ("sc-capture-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (tmp, "s.capture", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (sc_capture_save (a, path, &error));
  g_autoptr (ScCapture) back = sc_capture_load (path, &error);
  g_assert_no_error (error);
  g_autofree float *rc =
      sc_capture_tokens_for (back, SC_GRANULARITY_LANG, "eng_Latn", "eng_Latn", 0, &n);
  g_assert_cmpint (n, ==, 5);
  g_assert_cmpmem (ra, 5 * 3 * sizeof (float), rc, n * 3 * sizeof (float));
  g_assert_cmpint (sc_capture_max_tokens (back), ==, 5);

  /* a truncated file is refused, not read past its end */
  g_autofree char *data = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  g_assert_true (g_file_set_contents (path, data, len - 4, NULL));
  g_autoptr (ScCapture) cut = sc_capture_load (path, &error);
  g_assert_null (cut);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "beyond the end"));
  sc_test_rm_tree (tmp);

  g_autofree char *p = sc_capture_path_for_stats ("/x/stats.json");
  g_assert_cmpstr (p, ==, "/x/stats.capture");
}

static GArray *
kept_of (ScExpertIndex *idx, const char *key)
{
  GArray *ids = sc_expert_index_get (idx, key);
  g_assert_nonnull (ids);
  return ids;
}

/* calibrate --capture, then select --algo reconstruct: the asked counts
 * per layer, the same index from two runs, a per-layer error report, and
 * masked evaluation runs with the index. */
static void
test_cli (void)
{
  g_autofree char *moe = fixture ("nllb-moe-tiny");
  g_autofree char *tmp = g_dir_make_tmp ("sc-reconstruct-XXXXXX", NULL);
  g_autofree char *stats = g_build_filename (tmp, "s.json", NULL);
  g_autofree char *capture = g_build_filename (tmp, "s.capture", NULL);
  g_autofree char *one = g_build_filename (tmp, "one.json", NULL);
  g_autofree char *two = g_build_filename (tmp, "two.json", NULL);
  Run r = run_cli (NULL, "calibrate", "-m", moe, "--pairs", "eng_Latn-fra_Latn,fra_Latn-eng_Latn",
                   "--size", "12", "--capture", "32", "-q", "-o", stats, NULL);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);
  g_assert_true (g_file_test (capture, G_FILE_TEST_IS_REGULAR));

  r = run_cli (NULL, "select", "--stats", stats, "--ratio", "0.5", "--algo", "reconstruct", "-o",
               one, NULL);
  g_assert_cmpint (r.status, ==, 2); /* needs the model */
  g_assert_nonnull (strstr (r.err, "-m"));
  run_clear (&r);

  const char *outs[] = { one, two };
  for (int i = 0; i < 2; i++)
    {
      r = run_cli (NULL, "select", "--stats", stats, "--ratio", "0.5", "--algo", "reconstruct",
                   "-m", moe, "-o", outs[i], NULL);
      g_assert_cmpint (r.status, ==, 0);
      g_assert_nonnull (strstr (r.out, "Reconstruction error of eng_Latn per MoE layer"));
      g_assert_nonnull (strstr (r.out, "by output reconstruction, per layer"));
      run_clear (&r);
    }
  g_autofree char *a = NULL, *b = NULL;
  g_assert_true (g_file_get_contents (one, &a, NULL, NULL));
  g_assert_true (g_file_get_contents (two, &b, NULL, NULL));
  g_assert_cmpstr (a, ==, b);

  /* 50 % of 4 x 8 at 3:1 over 2 + 2 layers: u = floor(16 / 8) = 2, so 6
   * per encoder layer and 2 per decoder layer */
  g_autoptr (GError) error = NULL;
  g_autoptr (ScExpertIndex) idx = sc_expert_index_load (one, 4, 2, E, &error);
  g_assert_no_error (error);
  const char *keys[] = { "eng_Latn", "fra_Latn" };
  for (int k = 0; k < 2; k++)
    {
      GArray *ids = kept_of (idx, keys[k]);
      int per[4] = { 0 };
      for (guint i = 0; i < ids->len; i++)
        per[g_array_index (ids, int, i) / E]++;
      g_assert_cmpint (per[0], ==, 6);
      g_assert_cmpint (per[1], ==, 6);
      g_assert_cmpint (per[2], ==, 2);
      g_assert_cmpint (per[3], ==, 2);
    }

  /* another metric's selection, with its reconstruction error reported */
  r = run_cli (NULL, "select", "--stats", stats, "--ratio", "0.5", "-m", moe, "-o", two, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "Reconstruction error of fra_Latn per MoE layer"));
  g_assert_nonnull (strstr (r.out, "by importance"));
  /* stats reconstruction reports the same errors for the index */
  const char *line = strstr (r.out, "Reconstruction error of fra_Latn");
  g_assert_nonnull (line);
  line = strstr (line, "kept:") + strlen ("kept:");
  g_autofree char *want = g_strndup (line, strchr (line, '\n') - line);
  run_clear (&r);
  r = run_cli (NULL, "stats", "reconstruction", stats, "-m", moe, "--experts", two, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_autofree char *fra = g_strconcat ("fra_Latn", want, "\n", NULL);
  g_assert_nonnull (strstr (r.out, fra));
  run_clear (&r);

  /* per-layer budgets from measured sensitivity: the encoder's and the
   * decoder's totals of the budget, --keep exactly */
  r = run_cli (NULL, "select", "--stats", stats, "--ratio", "0.5", "--algo", "reconstruct",
               "--layer-budgets", "sensitivity", "-m", moe, "-o", two, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "per layer from measured sensitivity"));
  run_clear (&r);
  g_autoptr (ScExpertIndex) sens = sc_expert_index_load (two, 4, 2, E, &error);
  g_assert_no_error (error);
  for (int k = 0; k < 2; k++)
    {
      GArray *ids = kept_of (sens, keys[k]);
      int enc = 0;
      for (guint i = 0; i < ids->len; i++)
        enc += g_array_index (ids, int, i) < 2 * E;
      g_assert_cmpint (enc, ==, 12);
      g_assert_cmpint (ids->len - enc, ==, 4);
    }
  r = run_cli (NULL, "select", "--stats", stats, "--keep", "13", "--algo", "reconstruct",
               "--layer-budgets", "sensitivity", "-m", moe, "-o", two, NULL);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);
  g_autoptr (ScExpertIndex) thirteen = sc_expert_index_load (two, 4, 2, E, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (kept_of (thirteen, "eng_Latn")->len, ==, 13);
  g_assert_cmpuint (kept_of (thirteen, "fra_Latn")->len, ==, 13);
  r = run_cli (NULL, "select", "--stats", stats, "--ratio", "0.5", "--layer-budgets", "sensitivity",
               "-m", moe, "-o", two, NULL);
  g_assert_cmpint (r.status, ==, 2); /* only with --algo reconstruct */
  run_clear (&r);

  r = run_cli (NULL, "evaluate", "-m", moe, "--experts", one, "--pairs", "eng_Latn-fra_Latn",
               "--limit", "2", "--max-len", "8", "--beam", "1", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "eng_Latn-fra_Latn        2"));
  run_clear (&r);
  sc_test_rm_tree (tmp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/reconstruct/objective", test_objective);
  g_test_add_func ("/reconstruct/greedy-vs-brute-force", test_greedy_vs_brute_force);
  g_test_add_func ("/reconstruct/greedy-constructed", test_greedy_constructed);
  g_test_add_func ("/reconstruct/allocate", test_allocate);
  g_test_add_func ("/reconstruct/matches-masked-forward", test_matches_masked_forward);
  g_test_add_func ("/reconstruct/capture", test_capture);
  g_test_add_func ("/reconstruct/cli", test_cli);
  return g_test_run ();
}
