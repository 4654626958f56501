/* test-selection.c: expert metrics from counters and both selection
 * algorithms (fixed per layer with an encoder:decoder budget, global
 * threshold) with ratio and memory budgets. */
#include "sc-test-util.h"
#include "sc-expert-metrics.h"
#include "sc-selection.h"

#include <math.h>

static int
layer_count (const ScSelection *sel, int l)
{
  return sel->kept[l]->len;
}

static void
test_ratio_zero (void)
{
  ScSelectOptions opt;
  sc_select_options_init (&opt);
  opt.ratio = 0;
  g_autofree double *m = g_new0 (double, 12 * 128);
  for (int i = 0; i < 12 * 128; i++)
    m[i] = (i * 37) % 101;
  for (int algo = 0; algo < 2; algo++)
    {
      opt.algo = algo;
      g_autoptr (GError) error = NULL;
      g_autoptr (ScSelection) sel = sc_select_experts (m, 12, 6, 128, &opt, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (sel->global_ids->len, ==, 1536);
      for (int i = 0; i < 1536; i++)
        g_assert_cmpint (g_array_index (sel->global_ids, int, i), ==, i);
    }
}

static void
test_per_layer_3to1 (void)
{
  ScSelectOptions opt;
  sc_select_options_init (&opt);
  ScSelectBudget b;
  struct
  {
    double ratio;
    int enc, dec;
  } cases[] = {
    { 0.8, 36, 12 },
    { 0.75, 48, 16 },
    { 0.875, 24, 8 },
  };
  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      opt.ratio = cases[c].ratio;
      g_assert_true (sc_select_budget (&opt, 12, 6, 128, &b, NULL));
      g_assert_cmpint (b.enc_per_layer, ==, cases[c].enc);
      g_assert_cmpint (b.dec_per_layer, ==, cases[c].dec);
      g_assert_cmpint (b.keep_total, ==, 6 * (cases[c].enc + cases[c].dec));
      g_assert_cmpint (b.enc_total, ==, 6 * cases[c].enc);
    }
  /* 1:1 at 75%: 32 per layer */
  opt.ratio = 0.75;
  opt.enc_weight = opt.dec_weight = 1;
  g_assert_true (sc_select_budget (&opt, 12, 6, 128, &b, NULL));
  g_assert_cmpint (b.enc_per_layer, ==, 32);
  g_assert_cmpint (b.dec_per_layer, ==, 32);

  sc_select_options_init (&opt);
  GRand *r = g_rand_new_with_seed (7);
  g_autofree double *m = g_new (double, 12 * 128);
  for (int i = 0; i < 12 * 128; i++)
    m[i] = g_rand_double (r);
  g_rand_free (r);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScSelection) sel = sc_select_experts (m, 12, 6, 128, &opt, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sel->global_ids->len, ==, 288);
  for (int l = 0; l < 12; l++)
    {
      g_assert_cmpint (layer_count (sel, l), ==, l < 6 ? 36 : 12);
      /* kept = the top of the layer */
      double min_kept = INFINITY, max_dropped = -INFINITY;
      g_autofree guint8 *in = g_new0 (guint8, 128);
      for (guint i = 0; i < sel->kept[l]->len; i++)
        {
          int e = g_array_index (sel->kept[l], int, i);
          if (i > 0)
            g_assert_cmpint (e, >, g_array_index (sel->kept[l], int, i - 1));
          in[e] = 1;
          min_kept = MIN (min_kept, m[l * 128 + e]);
        }
      for (int e = 0; e < 128; e++)
        if (!in[e])
          max_dropped = MAX (max_dropped, m[l * 128 + e]);
      g_assert_cmpfloat (min_kept, >, max_dropped);
    }
  for (guint i = 0; i < 216; i++)
    g_assert_cmpint (g_array_index (sel->global_ids, int, i), <, 768);
  for (guint i = 216; i < 288; i++)
    g_assert_cmpint (g_array_index (sel->global_ids, int, i), >=, 768);
}

static void
test_ties (void)
{
  ScSelectOptions opt;
  sc_select_options_init (&opt);
  opt.keep_count = 8; /* 2 layers x 8 experts, 1:1 -> 4 per layer */
  opt.enc_weight = opt.dec_weight = 1;
  double m[16] = { 1, 1, 1, 1, 1, 1, 1, 1, 0, 2, 2, 0, 2, 2, 2, 0 };
  g_autoptr (ScSelection) sel = sc_select_experts (m, 2, 1, 8, &opt, NULL);
  int want[] = { 0, 1, 2, 3, 9, 10, 12, 13 };
  g_assert_cmpuint (sel->global_ids->len, ==, 8);
  for (int i = 0; i < 8; i++)
    g_assert_cmpint (g_array_index (sel->global_ids, int, i), ==, want[i]);
  /* a layer with no statistics (all 0) counts as uniform: lowest ids */
  double z[16] = { 0 };
  g_autoptr (ScSelection) sz = sc_select_experts (z, 2, 1, 8, &opt, NULL);
  g_assert_cmpint (g_array_index (sz->kept[1], int, 3), ==, 3);
}

static void
test_threshold_hand (void)
{
  /* layer 0 normalised: .4 .3 .2 .1 — forced e0; remaining cumsum e1 .3, e2 .5, e3 .6
   * layer 1 normalised: .1 .1 .6 .2 — forced e2; remaining cumsum e3 .2, e0 .3, e1 .4
   * count 5: t = .201 gives 2 + 1 < 5; t = .301 gives 2 + 3 = 5. Added layer by layer:
   * L0 e1, L1 e3, L1 e0.  count 4: same t, but L1 e0 no longer fits. */
  double m[8] = { 4, 3, 2, 1, 1, 1, 6, 2 };
  ScSelectOptions opt;
  sc_select_options_init (&opt);
  opt.algo = SC_SELECT_THRESHOLD;
  opt.min_per_layer = 1;
  opt.keep_count = 5;
  g_autoptr (GError) error = NULL;
  g_autoptr (ScSelection) s5 = sc_select_experts (m, 2, 1, 4, &opt, &error);
  g_assert_no_error (error);
  int want5[] = { 0, 1, 4, 6, 7 };
  g_assert_cmpuint (s5->global_ids->len, ==, 5);
  for (int i = 0; i < 5; i++)
    g_assert_cmpint (g_array_index (s5->global_ids, int, i), ==, want5[i]);

  opt.keep_count = 4;
  g_autoptr (ScSelection) s4 = sc_select_experts (m, 2, 1, 4, &opt, &error);
  int want4[] = { 0, 1, 6, 7 };
  g_assert_cmpuint (s4->global_ids->len, ==, 4);
  for (int i = 0; i < 4; i++)
    g_assert_cmpint (g_array_index (s4->global_ids, int, i), ==, want4[i]);

  /* the cumsum excludes the forced experts: with 2 forced per layer the
   * remaining cumsums are L0 e2 .2, e3 .3 and L1 e0 .1, e1 .2; count 6:
   * t = .101 gives 4 + 1, t = .201 gives 4 + 3; added: L0 e2, then L1 e0 */
  opt.min_per_layer = 2;
  opt.keep_count = 6;
  g_autoptr (ScSelection) s6 = sc_select_experts (m, 2, 1, 4, &opt, &error);
  g_assert_no_error (error);
  int want6[] = { 0, 1, 2, 6, 7, 4 };
  g_assert_cmpuint (s6->global_ids->len, ==, 6);
  for (int i = 0; i < 6; i++)
    {
      gboolean found = FALSE;
      for (int j = 0; j < 6; j++)
        found |= g_array_index (s6->global_ids, int, j) == want6[i];
      g_assert_true (found);
    }

  /* too few for the per-layer minimum */
  opt.min_per_layer = 3;
  opt.keep_count = 5;
  g_autoptr (ScSelection) bad = sc_select_experts (m, 2, 1, 4, &opt, &error);
  g_assert_null (bad);
  g_assert_error (error, SC_SELECT_ERROR, SC_SELECT_ERROR_BUDGET);
}

static void
test_threshold_big (void)
{
  GRand *r = g_rand_new_with_seed (11);
  g_autofree double *m = g_new (double, 12 * 128);
  for (int i = 0; i < 12 * 128; i++)
    m[i] = pow (g_rand_double (r), 4);
  g_rand_free (r);
  ScSelectOptions opt;
  sc_select_options_init (&opt);
  opt.algo = SC_SELECT_THRESHOLD;
  g_autoptr (GError) error = NULL;
  g_autoptr (ScSelection) sel = sc_select_experts (m, 12, 6, 128, &opt, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sel->global_ids->len, ==, 288);
  for (int l = 0; l < 12; l++)
    g_assert_cmpint (layer_count (sel, l), >=, 4);

  opt.separate_enc_dec = TRUE;
  g_autoptr (ScSelection) sep = sc_select_experts (m, 12, 6, 128, &opt, &error);
  g_assert_no_error (error);
  int enc = 0;
  for (int l = 0; l < 6; l++)
    enc += layer_count (sep, l);
  g_assert_cmpint (enc, ==, 216);
  g_assert_cmpuint (sep->global_ids->len, ==, 288);
}

static void
test_memory_budget (void)
{
  ScSelectOptions opt;
  sc_select_options_init (&opt);
  opt.bytes_per_expert = 100;
  opt.dense_bytes = 1000;
  opt.memory_budget = 1000 + 100 * 289 + 50;
  ScSelectBudget b;
  g_autoptr (GError) error = NULL;
  g_assert_true (sc_select_budget (&opt, 12, 6, 128, &b, &error));
  g_assert_cmpint (b.keep_total, ==, 288); /* 289 fit; 3:1 units of 24 give 288 */
  g_assert_cmpint (b.enc_per_layer, ==, 36);

  /* everything fits */
  opt.memory_budget = 1000 + 100 * 1536;
  g_assert_true (sc_select_budget (&opt, 12, 6, 128, &b, &error));
  g_assert_cmpint (b.keep_total, ==, 1536);

  /* smaller than the dense part */
  opt.memory_budget = 999;
  g_assert_false (sc_select_budget (&opt, 12, 6, 128, &b, &error));
  g_assert_error (error, SC_SELECT_ERROR, SC_SELECT_ERROR_BUDGET);
  g_clear_error (&error);

  opt.memory_budget = 1050;
  g_assert_false (sc_select_budget (&opt, 12, 6, 128, &b, &error));
  g_assert_error (error, SC_SELECT_ERROR, SC_SELECT_ERROR_BUDGET);
  g_clear_error (&error);

  opt.bytes_per_expert = 0;
  g_assert_false (sc_select_budget (&opt, 12, 6, 128, &b, &error));
  g_assert_error (error, SC_SELECT_ERROR, SC_SELECT_ERROR_INVALID);
}

static void
test_bad_ratios (void)
{
  double bad[] = { 1.0, -0.1, 1.5, NAN };
  ScSelectOptions opt;
  sc_select_options_init (&opt);
  ScSelectBudget b;
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      opt.ratio = bad[i];
      g_assert_false (sc_select_budget (&opt, 12, 6, 128, &b, &error));
      g_assert_error (error, SC_SELECT_ERROR, SC_SELECT_ERROR_INVALID);
    }
  /* extreme ratio: at least one expert per layer */
  opt.ratio = 0.999;
  g_assert_true (sc_select_budget (&opt, 12, 6, 128, &b, NULL));
  g_assert_cmpint (b.enc_per_layer, ==, 1);
  g_assert_cmpint (b.dec_per_layer, ==, 1);
  /* bad metric */
  double m[4] = { 1, NAN, 1, 1 };
  opt.ratio = 0.5;
  g_autoptr (GError) error = NULL;
  g_assert_null (sc_select_experts (m, 1, 1, 4, &opt, &error));
  g_assert_error (error, SC_SELECT_ERROR, SC_SELECT_ERROR_INVALID);
}

static void
test_metrics (void)
{
  g_autoptr (ScStatsCounters) c = sc_stats_counters_new (1, 3);
  c->tokens[0] = 10;
  c->top1[0] = 4;
  c->gate1[0] = 2.0;
  c->top2[0] = 3;
  c->prob_sum[0] = 3.0;
  c->reap_sum[0] = 14;
  c->top1[1] = 6;
  c->gate1[1] = 4.8;
  c->top2[1] = 2;
  c->prob_sum[1] = 5.0;
  c->top2[2] = 5;
  c->prob_sum[2] = 2.0;
  /* ranked 2nd: 3, 2, 5 tokens with these probabilities; ranked 3rd: the rest */
  c->gate2[0] = 0.6;
  c->gate2[1] = 0.5;
  c->gate2[2] = 1.0;
  c->rank_sum[0] = 4 * 1 + 3 * 2 + 3 * 3;
  c->rank_sum[1] = 6 * 1 + 2 * 2 + 2 * 3;
  c->rank_sum[2] = 0 * 1 + 5 * 2 + 5 * 3;
  struct
  {
    ScExpertMetric m;
    double v0, v1, v2;
  } cases[] = {
    { SC_EXPERT_METRIC_IMPORTANCE, 0.4 * exp (0.5), 0.6 * exp (0.8), 0 },
    { SC_EXPERT_METRIC_IMPORTANCE_VANILLA, 0.2, 0.48, 0 },
    { SC_EXPERT_METRIC_TOP1, 0.4, 0.6, 0 },
    /* the authors' top2 is the rank-2 share; the paper's "Top 2" is top1+top2 */
    { SC_EXPERT_METRIC_TOP2, 0.3, 0.2, 0.5 },
    { SC_EXPERT_METRIC_TOP1_TOP2, 0.7, 0.8, 0.5 },
    { SC_EXPERT_METRIC_FREQUENCY, 0.7, 0.8, 0.5 },
    { SC_EXPERT_METRIC_CONF1, 0.5, 0.8, 0 },
    { SC_EXPERT_METRIC_CONF2, 0.2, 0.25, 0.2 },
    /* mean ranks 1.9, 1.6, 2.5 of 3 experts, turned: 4 - rank */
    { SC_EXPERT_METRIC_RANK, 2.1, 2.4, 1.5 },
    { SC_EXPERT_METRIC_LOAD, 0.4 * 0.3, 0.6 * 0.5, 0 },
    { SC_EXPERT_METRIC_REAP, 2.0, 0, 0 },
    { SC_EXPERT_METRIC_MEAN, 0.3, 0.5, 0.2 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree double *v = sc_expert_metrics_compute (c, cases[i].m);
      g_assert_cmpfloat_with_epsilon (v[0], cases[i].v0, 1e-12);
      g_assert_cmpfloat_with_epsilon (v[1], cases[i].v1, 1e-12);
      g_assert_cmpfloat_with_epsilon (v[2], cases[i].v2, 1e-12);
    }
  /* random: reproducible, in [0, 1), independent of the counters, and
   * not constant (it must be able to rank experts). */
  g_autoptr (ScStatsCounters) big = sc_stats_counters_new (4, 64);
  g_autofree double *r1 = sc_expert_metrics_compute (big, SC_EXPERT_METRIC_RANDOM);
  g_autofree double *r2 = sc_expert_metrics_compute (c, SC_EXPERT_METRIC_RANDOM);
  double lo = 1, hi = 0;
  for (int i = 0; i < 4 * 64; i++)
    {
      g_assert_cmpfloat (r1[i], >=, 0);
      g_assert_cmpfloat (r1[i], <, 1);
      lo = MIN (lo, r1[i]);
      hi = MAX (hi, r1[i]);
    }
  g_assert_cmpfloat (hi - lo, >, 0.9);
  for (int i = 0; i < 3; i++)
    g_assert_cmpfloat (r2[i], ==, r1[i]);
  g_assert_cmpfloat (r1[0], !=, r1[1]);
  ScExpertMetric m;
  g_assert_true (sc_expert_metric_from_string ("random", &m));
  g_assert_cmpint (m, ==, SC_EXPERT_METRIC_RANDOM);
  g_assert_true (sc_expert_metric_from_string ("activity", &m));
  g_assert_cmpint (m, ==, SC_EXPERT_METRIC_TOP1);
  g_assert_false (sc_expert_metric_from_string ("nope", &m));
  /* nllb_pruning.py's names, and the paper's */
  static const struct
  {
    const char *name;
    ScExpertMetric m;
  } names[] = {
    { "top1", SC_EXPERT_METRIC_TOP1 },
    { "top2", SC_EXPERT_METRIC_TOP2 },
    { "top1+top2", SC_EXPERT_METRIC_TOP1_TOP2 },
    { "conf1", SC_EXPERT_METRIC_CONF1 },
    { "conf2", SC_EXPERT_METRIC_CONF2 },
    { "rank", SC_EXPERT_METRIC_RANK },
    { "mean", SC_EXPERT_METRIC_MEAN },
    { "importance", SC_EXPERT_METRIC_IMPORTANCE },
    { "importance-vanilla", SC_EXPERT_METRIC_IMPORTANCE_VANILLA },
    { "load", SC_EXPERT_METRIC_LOAD },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_assert_true (sc_expert_metric_from_string (names[i].name, &m));
      g_assert_cmpint (m, ==, names[i].m);
    }
  g_assert_cmpstr (sc_expert_metric_to_string (SC_EXPERT_METRIC_TOP1_TOP2), ==, "top1+top2");
  g_assert_cmpstr (sc_expert_metric_to_string (SC_EXPERT_METRIC_TOP2), ==, "top2");
}

/* Language-specific granularity: encoder rows from the source language,
 * decoder rows from the target; pair uses the pair when present. */
static void
test_granularity (void)
{
  ScStatsShape sh = { .name = "t",
                      .d_model = 4,
                      .encoder_layers = 1,
                      .decoder_layers = 1,
                      .n_moe_layers = 2,
                      .n_encoder_moe = 1,
                      .n_experts = 2 };
  g_autoptr (ScStats) s = sc_stats_new (&sh);
  float p0[] = { 0.9f, 0.1f }, p1[] = { 0.2f, 0.8f };
  int a = 0, b = 1;
  /* a-b: enc expert 0, dec expert 1; c-b: enc 1, dec 0; a-d: enc 0, dec 0 */
  struct
  {
    const char *dir;
    const float *pe;
    int e_enc;
    const float *pd;
    int e_dec;
  } ev[] = {
    { "a-b", p0, a, p1, b },
    { "c-b", p1, b, p0, a },
    { "a-d", p0, a, p0, a },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (ev); i++)
    {
      int o_enc = 1 - ev[i].e_enc, o_dec = 1 - ev[i].e_dec;
      g_assert_true (sc_stats_add_tokens (s, ev[i].dir, 0, FALSE, 1, ev[i].pe, &ev[i].e_enc, &o_enc,
                                          NULL, NULL, NULL, NULL, NULL, NULL));
      g_assert_true (sc_stats_add_tokens (s, ev[i].dir, 1, TRUE, 1, ev[i].pd, &ev[i].e_dec, &o_dec,
                                          NULL, NULL, NULL, NULL, NULL, NULL));
    }
  g_autoptr (GError) error = NULL;
  /* c-d has no pair stats: enc from source c (expert 1), dec from target d (expert 0) */
  g_autofree double *cd =
      sc_expert_metrics_for (s, SC_GRANULARITY_PAIR, "c", "d", SC_EXPERT_METRIC_TOP1, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (cd[0], ==, 0);
  g_assert_cmpfloat (cd[1], ==, 1);
  g_assert_cmpfloat (cd[2], ==, 1);
  g_assert_cmpfloat (cd[3], ==, 0);
  /* a-b as lang: enc over a-b, a-d (expert 0 twice); dec over a-b, c-b (0 and 1) */
  g_autofree double *ab =
      sc_expert_metrics_for (s, SC_GRANULARITY_LANG, "a", "b", SC_EXPERT_METRIC_TOP1, &error);
  g_assert_cmpfloat (ab[0], ==, 1);
  g_assert_cmpfloat (ab[2], ==, 0.5);
  g_assert_cmpfloat (ab[3], ==, 0.5);
  /* a-b as pair: its own stats */
  g_autofree double *abp =
      sc_expert_metrics_for (s, SC_GRANULARITY_PAIR, "a", "b", SC_EXPERT_METRIC_TOP1, &error);
  g_assert_cmpfloat (abp[2], ==, 0);
  g_assert_cmpfloat (abp[3], ==, 1);
  g_autofree double *glob =
      sc_expert_metrics_for (s, SC_GRANULARITY_GLOBAL, NULL, NULL, SC_EXPERT_METRIC_TOP1, &error);
  g_assert_cmpfloat_with_epsilon (glob[0], 2.0 / 3, 1e-12);
  /* unknown source */
  g_autofree double *none =
      sc_expert_metrics_for (s, SC_GRANULARITY_LANG, "b", "b", SC_EXPERT_METRIC_TOP1, &error);
  g_assert_null (none);
  g_assert_error (error, SC_STATS_ERROR, SC_STATS_ERROR_NOT_FOUND);
}

/* Language-level statistics from per-direction ones, pooled or averaged
 * per direction as nllb_pruning.py's get_metrics does. Source eng: eng-fra
 * (10 tokens, all to encoder expert 0 with probability 0.9) and eng-deu
 * (30 tokens, all to expert 1 with 0.6). Pooled: top1 = 0.25, 0.75 and
 * conf1 = 0.9, 0.6; averaged: top1 = 0.5, 0.5 and conf1 = 0.45, 0.3 — the
 * two keep different experts. */
static void
test_aggregate (void)
{
  ScStatsShape sh = { .name = "t",
                      .d_model = 4,
                      .encoder_layers = 1,
                      .decoder_layers = 1,
                      .n_moe_layers = 2,
                      .n_encoder_moe = 1,
                      .n_experts = 2 };
  g_autoptr (ScStats) s = sc_stats_new (&sh);
  struct
  {
    const char *dir;
    int n, e;
    float p;
  } ev[] = { { "eng_Latn-fra_Latn", 10, 0, 0.9f }, { "eng_Latn-deu_Latn", 30, 1, 0.6f } };
  for (gsize i = 0; i < G_N_ELEMENTS (ev); i++)
    {
      int n = ev[i].n;
      g_autofree float *p = g_new (float, 2 * n);
      g_autofree int *t1 = g_new (int, n), *t2 = g_new (int, n);
      for (int t = 0; t < n; t++)
        {
          t1[t] = ev[i].e;
          t2[t] = 1 - ev[i].e;
          p[2 * t + ev[i].e] = ev[i].p;
          p[2 * t + 1 - ev[i].e] = 1 - ev[i].p;
        }
      for (int l = 0; l < 2; l++)
        g_assert_true (sc_stats_add_tokens (s, ev[i].dir, l, l == 1, n, p, t1, t2, NULL, NULL, NULL,
                                            NULL, NULL, NULL));
    }
  ScAggregate agg;
  g_assert_true (sc_aggregate_from_string ("mean", &agg));
  g_assert_cmpint (agg, ==, SC_AGGREGATE_MEAN);
  g_assert_true (sc_aggregate_from_string ("pool", &agg));
  g_assert_cmpint (agg, ==, SC_AGGREGATE_POOL);
  g_assert_false (sc_aggregate_from_string ("sum", &agg));

  g_autoptr (GError) error = NULL;
  /* eng as source, fra as target: the decoder row is eng-fra's alone */
  g_autofree double *pool =
      sc_expert_metrics_for_aggregate (s, SC_GRANULARITY_LANG, "eng_Latn", "fra_Latn",
                                       SC_EXPERT_METRIC_IMPORTANCE, SC_AGGREGATE_POOL, &error);
  g_autofree double *mean =
      sc_expert_metrics_for_aggregate (s, SC_GRANULARITY_LANG, "eng_Latn", "fra_Latn",
                                       SC_EXPERT_METRIC_IMPORTANCE, SC_AGGREGATE_MEAN, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat_with_epsilon (pool[0], 0.25 * exp (0.9), 1e-6);
  g_assert_cmpfloat_with_epsilon (pool[1], 0.75 * exp (0.6), 1e-6);
  g_assert_cmpfloat_with_epsilon (mean[0], 0.5 * exp (0.45), 1e-6);
  g_assert_cmpfloat_with_epsilon (mean[1], 0.5 * exp (0.3), 1e-6);
  g_assert_cmpfloat_with_epsilon (pool[2], mean[2], 1e-12);
  g_assert_cmpfloat_with_epsilon (mean[2], 1.0 * exp (0.9), 1e-6);
  g_assert_cmpfloat (mean[3], ==, 0);
  /* pooling is what sc_expert_metrics_for does */
  g_autofree double *plain = sc_expert_metrics_for (s, SC_GRANULARITY_LANG, "eng_Latn", "fra_Latn",
                                                    SC_EXPERT_METRIC_IMPORTANCE, &error);
  g_assert_cmpmem (plain, 4 * sizeof (double), pool, 4 * sizeof (double));

  /* one expert per layer: pooling keeps encoder expert 1, the mean expert 0 */
  ScSelectOptions opt;
  sc_select_options_init (&opt);
  opt.keep_count = 2;
  opt.enc_weight = opt.dec_weight = 1;
  g_autoptr (ScSelection) sp = sc_select_experts (pool, 2, 1, 2, &opt, &error);
  g_autoptr (ScSelection) sm = sc_select_experts (mean, 2, 1, 2, &opt, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sp->global_ids->len, ==, 2);
  g_assert_cmpint (g_array_index (sp->global_ids, int, 0), ==, 1);
  g_assert_cmpint (g_array_index (sm->global_ids, int, 0), ==, 0);
  g_assert_cmpint (g_array_index (sp->global_ids, int, 1), ==, 2);
  g_assert_cmpint (g_array_index (sm->global_ids, int, 1), ==, 2);

  /* the other statistics average too: conf2, mean rank, load */
  g_autofree double *conf2 =
      sc_expert_metrics_for_aggregate (s, SC_GRANULARITY_LANG, "eng_Latn", "deu_Latn",
                                       SC_EXPERT_METRIC_CONF2, SC_AGGREGATE_MEAN, &error);
  g_assert_cmpfloat_with_epsilon (conf2[0], (0 + 0.4) / 2, 1e-6);
  g_assert_cmpfloat_with_epsilon (conf2[1], (0.1 + 0) / 2, 1e-6);
  g_assert_cmpfloat_with_epsilon (conf2[2], 0.4, 1e-6); /* eng-deu's decoder: expert 0 2nd */
  g_autofree double *rank =
      sc_expert_metrics_for_aggregate (s, SC_GRANULARITY_LANG, "eng_Latn", "fra_Latn",
                                       SC_EXPERT_METRIC_RANK, SC_AGGREGATE_MEAN, &error);
  g_assert_cmpfloat_with_epsilon (rank[0], 3 - (1 + 2) / 2.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (rank[2], 3 - 1.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (rank[3], 3 - 2.0, 1e-12);
  g_autofree double *rank_pool =
      sc_expert_metrics_for_aggregate (s, SC_GRANULARITY_LANG, "eng_Latn", "fra_Latn",
                                       SC_EXPERT_METRIC_RANK, SC_AGGREGATE_POOL, &error);
  g_assert_cmpfloat_with_epsilon (rank_pool[0], 3 - (10 * 1 + 30 * 2) / 40.0, 1e-12);

  /* global: every direction, every row; pair: its own statistics first */
  g_autofree double *glob = sc_expert_metrics_for_aggregate (
      s, SC_GRANULARITY_GLOBAL, NULL, NULL, SC_EXPERT_METRIC_TOP1, SC_AGGREGATE_MEAN, &error);
  for (int i = 0; i < 4; i++)
    g_assert_cmpfloat_with_epsilon (glob[i], 0.5, 1e-12);
  g_autofree double *pair =
      sc_expert_metrics_for_aggregate (s, SC_GRANULARITY_PAIR, "eng_Latn", "deu_Latn",
                                       SC_EXPERT_METRIC_TOP1, SC_AGGREGATE_MEAN, &error);
  g_assert_cmpfloat (pair[0], ==, 0);
  g_assert_cmpfloat (pair[1], ==, 1);
  g_assert_no_error (error);

  /* a language without statistics */
  g_autofree double *none =
      sc_expert_metrics_for_aggregate (s, SC_GRANULARITY_LANG, "fra_Latn", "fra_Latn",
                                       SC_EXPERT_METRIC_TOP1, SC_AGGREGATE_MEAN, &error);
  g_assert_null (none);
  g_assert_error (error, SC_STATS_ERROR, SC_STATS_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "fra_Latn"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/selection/ratio-zero", test_ratio_zero);
  g_test_add_func ("/selection/per-layer-3to1", test_per_layer_3to1);
  g_test_add_func ("/selection/ties", test_ties);
  g_test_add_func ("/selection/threshold-hand", test_threshold_hand);
  g_test_add_func ("/selection/threshold-big", test_threshold_big);
  g_test_add_func ("/selection/memory-budget", test_memory_budget);
  g_test_add_func ("/selection/bad-ratios", test_bad_ratios);
  g_test_add_func ("/selection/metrics", test_metrics);
  g_test_add_func ("/selection/granularity", test_granularity);
  g_test_add_func ("/selection/aggregate", test_aggregate);
  return g_test_run ();
}
