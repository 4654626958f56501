/* Specialisation numbers on hand-built statistics (values worked out in the
 * comments), and the clustering order. */
#include "sc-test-util.h"
#include "sc-specialisation.h"

#include <math.h>

/* Adds two tokens routed (top1, top2) on one layer of `dir`. */
static void
route (ScStats *s, const char *dir, int layer, gboolean decoder, int top1, int top2)
{
  float probs[8] = { 0 };
  probs[top1] = 0.6f;
  probs[top2] = 0.4f;
  int t1[2] = { top1, top1 }, t2[2] = { top2, top2 };
  g_autoptr (GError) error = NULL;
  g_assert_true (sc_stats_add_tokens (s, dir, layer, decoder, 2, probs, t1, t2, NULL, NULL, NULL,
                                      NULL, NULL, &error));
  g_assert_no_error (error);
}

static ScStats *
hand_stats (void)
{
  ScStatsShape sh = { .name = "t",
                      .d_model = 4,
                      .encoder_layers = 2,
                      .decoder_layers = 2,
                      .n_moe_layers = 2,
                      .n_encoder_moe = 1,
                      .n_experts = 4 };
  ScStats *s = sc_stats_new (&sh);
  /* Two tokens each; with probs on 4 experts the rows below are 0.6/0.4. */
  route (s, "eng-fra", 0, FALSE, 0, 1);
  route (s, "eng-fra", 1, TRUE, 2, 3);
  route (s, "eng-deu", 0, FALSE, 0, 2);
  route (s, "eng-deu", 1, TRUE, 2, 1);
  route (s, "fra-eng", 0, FALSE, 3, 2);
  route (s, "fra-eng", 1, TRUE, 0, 1);
  return s;
}

static void
test_hand (void)
{
  g_autoptr (ScStats) stats = hand_stats ();
  g_autoptr (GError) error = NULL;
  g_autoptr (ScSpecialisation) sp = sc_specialisation_compute (stats, 2, &error);
  g_assert_no_error (error);
  /* languages: union of sources and targets, sorted */
  g_assert_cmpint (sp->n_langs, ==, 3);
  g_assert_cmpstr (sp->langs[0], ==, "deu");
  g_assert_cmpstr (sp->langs[1], ==, "eng");
  g_assert_cmpstr (sp->langs[2], ==, "fra");
  int N = 3;
  /* Encoder (source languages). eng: eng-fra + eng-deu assign e0 x4,
   * e1 x2, e2 x2 -> p = (.5, .25, .25, 0): top-2 share .75, entropy
   * .5 ln 2 + .5 ln 4 -> effective 2^1.5. fra: e2 x2, e3 x2 -> (0, 0, .5, .5):
   * share 1, effective 2. deu is never a source: NAN. */
  g_assert_true (isnan (sp->top_share[0 * N + 0]));
  g_assert_cmpfloat_with_epsilon (sp->top_share[0 * N + 1], 0.75, 1e-12);
  g_assert_cmpfloat_with_epsilon (sp->effective[0 * N + 1], pow (2, 1.5), 1e-12);
  g_assert_cmpfloat_with_epsilon (sp->top_share[0 * N + 2], 1.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (sp->effective[0 * N + 2], 2.0, 1e-12);
  /* encoder overlap eng/fra: min(.25, .5) on e2 only = .25 */
  g_assert_cmpfloat_with_epsilon (sp->overlap[(0 * N + 1) * N + 2], 0.25, 1e-12);
  g_assert_cmpfloat_with_epsilon (sp->overlap[(0 * N + 2) * N + 1], 0.25, 1e-12);
  g_assert_cmpfloat_with_epsilon (sp->overlap[(0 * N + 1) * N + 1], 1.0, 1e-12);
  g_assert_true (isnan (sp->overlap[(0 * N + 0) * N + 1]));
  /* Decoder (target languages): fra (0,0,.5,.5), deu (0,.5,.5,0),
   * eng (.5,.5,0,0): overlaps deu/fra .5, deu/eng .5, eng/fra 0. */
  const double *dec = sp->overlap + (gsize) 1 * N * N;
  g_assert_cmpfloat_with_epsilon (dec[0 * N + 2], 0.5, 1e-12);
  g_assert_cmpfloat_with_epsilon (dec[0 * N + 1], 0.5, 1e-12);
  g_assert_cmpfloat_with_epsilon (dec[1 * N + 2], 0.0, 1e-12);
  for (int a = 0; a < N; a++)
    g_assert_cmpfloat_with_epsilon (sp->top_share[1 * N + a], 1.0, 1e-12);

  double share, eff, ov;
  sc_specialisation_side_means (sp, SC_SIDE_ENCODER, &share, &eff, &ov);
  g_assert_cmpfloat_with_epsilon (share, (0.75 + 1.0) / 2, 1e-12);
  g_assert_cmpfloat_with_epsilon (eff, (pow (2, 1.5) + 2.0) / 2, 1e-12);
  g_assert_cmpfloat_with_epsilon (ov, 0.25, 1e-12);
  sc_specialisation_side_means (sp, SC_SIDE_DECODER, &share, &eff, &ov);
  g_assert_cmpfloat_with_epsilon (ov, (0.5 + 0.5 + 0.0) / 3, 1e-12);

  /* one layer and one language: encoder, eng (overlap only with fra, .25) */
  sc_specialisation_means (sp, 0, 1, 1, &share, &eff, &ov);
  g_assert_cmpfloat_with_epsilon (share, 0.75, 1e-12);
  g_assert_cmpfloat_with_epsilon (eff, pow (2, 1.5), 1e-12);
  g_assert_cmpfloat_with_epsilon (ov, 0.25, 1e-12);
  sc_specialisation_means (sp, 0, 1, 0, &share, &eff, &ov);
  g_assert_true (isnan (share) && isnan (eff) && isnan (ov));

  g_autofree double *sim = sc_specialisation_similarity (sp, SC_SIDE_DECODER);
  g_assert_cmpfloat_with_epsilon (sim[0 * N + 2], 0.5, 1e-12);
  g_assert_cmpfloat_with_epsilon (sim[1 * N + 1], 1.0, 1e-12);

  g_assert_null (sc_specialisation_compute (stats, 5, &error));
  g_assert_error (error, SC_STATS_ERROR, SC_STATS_ERROR_INVALID);
}

static void
test_cluster_order (void)
{
  /* 0~2 and 1~3 are close; the order must keep each pair adjacent. */
  const double sim[16] = {
    1.0, 0.1, 0.9, 0.2,
    0.1, 1.0, 0.15, 0.8,
    0.9, 0.15, 1.0, 0.1,
    0.2, 0.8, 0.1, 1.0,
  };
  g_autofree int *order = sc_cluster_order (sim, 4);
  int pos[4];
  for (int i = 0; i < 4; i++)
    pos[order[i]] = i;
  /* a permutation */
  g_assert_cmpint (order[0] + order[1] + order[2] + order[3], ==, 6);
  g_assert_cmpint (ABS (pos[0] - pos[2]), ==, 1);
  g_assert_cmpint (ABS (pos[1] - pos[3]), ==, 1);
  g_autofree int *one = sc_cluster_order (sim, 1);
  g_assert_cmpint (one[0], ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/specialisation/hand", test_hand);
  g_test_add_func ("/specialisation/cluster-order", test_cluster_order);
  return g_test_run ();
}
