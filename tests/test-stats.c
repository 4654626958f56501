/* test-stats.c: gate statistics from synthetic router events: counters,
 * merging halves, aggregates, the JSON round trip and its errors. */
#include "sc-test-util.h"
#include "sc-stats.h"
#include "sc-tensor.h"

#include <float.h>

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#define L 4
#define NENC 2
#define E 8
#define T 50

static const ScStatsShape shape = {
  .name = "tiny",
  .d_model = 16,
  .encoder_layers = 4,
  .decoder_layers = 4,
  .n_moe_layers = L,
  .n_encoder_moe = NENC,
  .n_experts = E,
};

/* Deterministic router events for T tokens of one layer. */
typedef struct
{
  float probs[T * E];
  int top1[T], top2[T];
  float w1[T], w2[T], n1[T], n2[T];
  guint8 valid[T];
} Events;

static void
make_events (Events *ev, guint32 seed)
{
  GRand *r = g_rand_new_with_seed (seed);
  for (int t = 0; t < T; t++)
    {
      float sum = 0;
      for (int e = 0; e < E; e++)
        {
          ev->probs[t * E + e] = expf ((float) g_rand_double_range (r, -2, 2));
          sum += ev->probs[t * E + e];
        }
      int a = -1, b = -1;
      for (int e = 0; e < E; e++)
        {
          ev->probs[t * E + e] /= sum;
          if (a < 0 || ev->probs[t * E + e] > ev->probs[t * E + a])
            a = e;
        }
      for (int e = 0; e < E; e++)
        if (e != a && (b < 0 || ev->probs[t * E + e] > ev->probs[t * E + b]))
          b = e;
      ev->top1[t] = a;
      ev->top2[t] = b;
      float s = ev->probs[t * E + a] + ev->probs[t * E + b];
      ev->w1[t] = ev->probs[t * E + a] / s;
      ev->w2[t] = ev->probs[t * E + b] / s;
      ev->n1[t] = (float) g_rand_double_range (r, 0.5, 2);
      ev->n2[t] = (float) g_rand_double_range (r, 0.5, 2);
      ev->valid[t] = (t % 7) != 3; /* some padding */
    }
  g_rand_free (r);
}

/* Adds tokens [from, to) of every layer for two directions. */
static void
feed (ScStats *s, int from, int to)
{
  const char *dirs[] = { "eng_Latn-fra_Latn", "deu_Latn-fra_Latn", "eng_Latn-deu_Latn" };
  for (int d = 0; d < 3; d++)
    for (int l = 0; l < L; l++)
      {
        Events ev;
        make_events (&ev, 100 * d + l);
        int n = to - from;
        g_autoptr (GError) error = NULL;
        gboolean ok = sc_stats_add_tokens (
            s, dirs[d], l, l >= NENC, n, ev.probs + from * E, ev.top1 + from, ev.top2 + from,
            ev.w1 + from, ev.w2 + from, ev.n1 + from, ev.n2 + from, ev.valid + from, &error);
        g_assert_no_error (error);
        g_assert_true (ok);
      }
}

static void
assert_counters_equal (const ScStatsCounters *a, const ScStatsCounters *b)
{
  for (int l = 0; l < L; l++)
    g_assert_cmpuint (a->tokens[l], ==, b->tokens[l]);
  for (int i = 0; i < L * E; i++)
    {
      g_assert_cmpuint (a->top1[i], ==, b->top1[i]);
      g_assert_cmpuint (a->top2[i], ==, b->top2[i]);
      g_assert_cmpfloat_with_epsilon (a->gate1[i], b->gate1[i], 1e-9);
      g_assert_cmpfloat_with_epsilon (a->gate2[i], b->gate2[i], 1e-9);
      g_assert_cmpfloat_with_epsilon (a->prob_sum[i], b->prob_sum[i], 1e-9);
      g_assert_cmpfloat_with_epsilon (a->rank_sum[i], b->rank_sum[i], 1e-9);
      g_assert_cmpfloat_with_epsilon (a->reap_sum[i], b->reap_sum[i], 1e-9);
    }
}

static void
test_counters (void)
{
  g_autoptr (ScStats) s = sc_stats_new (&shape);
  feed (s, 0, T);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScStatsCounters) c = sc_stats_get_pair (s, "eng_Latn-fra_Latn", &error);
  g_assert_no_error (error);
  int valid = 0;
  for (int t = 0; t < T; t++)
    valid += (t % 7) != 3;
  for (int l = 0; l < L; l++)
    {
      g_assert_cmpuint (c->tokens[l], ==, valid);
      guint64 s1 = 0, s2 = 0;
      double psum = 0, rsum = 0;
      for (int e = 0; e < E; e++)
        {
          int i = l * E + e;
          s1 += c->top1[i];
          s2 += c->top2[i];
          psum += c->prob_sum[i];
          rsum += c->rank_sum[i];
          g_assert_cmpfloat (c->gate1[i], >=, 0);
          g_assert_cmpfloat (c->gate1[i], <=, c->top1[i] + 1e-9);
          g_assert_cmpfloat (c->gate2[i], <=, c->top2[i] + 1e-9);
          g_assert_cmpfloat (c->gate1[i], <=, c->tokens[l]);
          /* a top-1 expert's prob is at least 1/E */
          g_assert_cmpfloat (c->gate1[i], >=, c->top1[i] / (double) E - 1e-6);
        }
      g_assert_cmpuint (s1, ==, valid);
      g_assert_cmpuint (s2, ==, valid);
      g_assert_cmpfloat_with_epsilon (psum, valid, 1e-4);
      /* ranks 1..E per token */
      g_assert_cmpfloat_with_epsilon (rsum, valid * E * (E + 1) / 2.0, 1e-6);
    }
  /* the top-1 expert has rank 1: rank_sum >= ranks of a top-1-only expert */
  Events ev;
  make_events (&ev, 0);
  double gate = 0, reap = 0;
  guint64 n = 0;
  for (int t = 0; t < T; t++)
    if (ev.valid[t] && ev.top1[t] == 3)
      {
        n++;
        gate += ev.probs[t * E + 3];
        reap += ev.w1[t] * ev.n1[t];
      }
  for (int t = 0; t < T; t++)
    if (ev.valid[t] && ev.top2[t] == 3)
      reap += ev.w2[t] * ev.n2[t];
  g_assert_cmpuint (c->top1[3], ==, n);
  g_assert_cmpfloat_with_epsilon (c->gate1[3], gate, 1e-6);
  g_assert_cmpfloat_with_epsilon (c->reap_sum[3], reap, 1e-5);
}

static void
test_rank_hand (void)
{
  ScStatsShape sh = shape;
  sh.n_experts = 4;
  g_autoptr (ScStats) s = sc_stats_new (&sh);
  float p[] = { 0.1f, 0.4f, 0.1f,  0.4f, /* ties: 1 before 3, 0 before 2 */
                0.7f, 0.1f, 0.15f, 0.05f };
  int t1[] = { 1, 0 }, t2[] = { 3, 2 };
  g_assert_true (
      sc_stats_add_tokens (s, "a-b", 0, FALSE, 2, p, t1, t2, NULL, NULL, NULL, NULL, NULL, NULL));
  /* padding (top1 < 0) skipped */
  int skip[] = { -1, -1 };
  g_assert_true (sc_stats_add_tokens (s, "a-b", 0, FALSE, 2, p, skip, skip, NULL, NULL, NULL, NULL,
                                      NULL, NULL));
  g_autoptr (ScStatsCounters) c = sc_stats_get_pair (s, "a-b", NULL);
  g_assert_cmpuint (c->tokens[0], ==, 2);
  g_assert_cmpfloat (c->rank_sum[0], ==, 3 + 1);
  g_assert_cmpfloat (c->rank_sum[1], ==, 1 + 3);
  g_assert_cmpfloat (c->rank_sum[2], ==, 4 + 2);
  g_assert_cmpfloat (c->rank_sum[3], ==, 2 + 4);
  g_assert_cmpfloat_with_epsilon (c->gate1[0], 0.7, 1e-6);
  g_assert_cmpfloat_with_epsilon (c->gate2[2], 0.15, 1e-6);
  g_assert_cmpfloat (c->reap_sum[0], ==, 0);
}

static void
test_merge_halves (void)
{
  g_autoptr (ScStats) whole = sc_stats_new (&shape);
  g_autoptr (ScStats) a = sc_stats_new (&shape);
  g_autoptr (ScStats) b = sc_stats_new (&shape);
  feed (whole, 0, T);
  feed (a, 0, 20);
  feed (b, 20, T);
  g_autoptr (GError) error = NULL;
  g_assert_true (sc_stats_merge (a, b, &error));
  g_assert_no_error (error);
  g_auto (GStrv) dirs = sc_stats_list_directions (whole);
  g_assert_cmpuint (g_strv_length (dirs), ==, 3);
  g_assert_cmpstr (dirs[0], ==, "deu_Latn-fra_Latn");
  for (char **d = dirs; *d; d++)
    {
      g_autoptr (ScStatsCounters) cw = sc_stats_get_pair (whole, *d, NULL);
      g_autoptr (ScStatsCounters) ca = sc_stats_get_pair (a, *d, NULL);
      assert_counters_equal (cw, ca);
    }
  g_assert_cmpuint (sc_stats_total_tokens (a), ==, sc_stats_total_tokens (whole));

  /* shape mismatch */
  ScStatsShape other = shape;
  other.n_experts = 16;
  g_autoptr (ScStats) o = sc_stats_new (&other);
  g_assert_false (sc_stats_merge (a, o, &error));
  g_assert_error (error, SC_STATS_ERROR, SC_STATS_ERROR_SHAPE);
}

static void
test_aggregates (void)
{
  g_autoptr (ScStats) s = sc_stats_new (&shape);
  feed (s, 0, T);
  g_autoptr (ScStatsCounters) ef = sc_stats_get_pair (s, "eng_Latn-fra_Latn", NULL);
  g_autoptr (ScStatsCounters) ed = sc_stats_get_pair (s, "eng_Latn-deu_Latn", NULL);
  g_autoptr (ScStatsCounters) df = sc_stats_get_pair (s, "deu_Latn-fra_Latn", NULL);
  g_autoptr (ScStatsCounters) src = sc_stats_get_source (s, "eng_Latn", NULL);
  g_autoptr (ScStatsCounters) tgt = sc_stats_get_target (s, "fra_Latn", NULL);
  g_autoptr (ScStatsCounters) glob = sc_stats_get_global (s, NULL);
  for (int i = 0; i < L * E; i++)
    {
      int l = i / E;
      if (l < NENC)
        {
          g_assert_cmpuint (src->top1[i], ==, ef->top1[i] + ed->top1[i]);
          g_assert_cmpuint (tgt->top1[i], ==, 0);
        }
      else
        {
          g_assert_cmpuint (src->top1[i], ==, 0);
          g_assert_cmpuint (tgt->top1[i], ==, ef->top1[i] + df->top1[i]);
        }
      g_assert_cmpuint (glob->top1[i], ==, ef->top1[i] + df->top1[i] + ed->top1[i]);
    }
  g_auto (GStrv) srcs = sc_stats_list_languages (s, FALSE);
  g_assert_cmpuint (g_strv_length (srcs), ==, 2);
  g_autoptr (GError) error = NULL;
  g_assert_null (sc_stats_get_source (s, "fra_Latn", &error));
  g_assert_error (error, SC_STATS_ERROR, SC_STATS_ERROR_NOT_FOUND);
}

static void
test_json (void)
{
  g_autoptr (ScStats) s = sc_stats_new (&shape);
  feed (s, 0, T);
  g_autofree char *dir = g_dir_make_tmp ("sc-stats-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "stats.json", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (sc_stats_save (s, path, &error));
  g_assert_no_error (error);
  g_autoptr (ScStats) r = sc_stats_load (path, &shape, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sc_stats_get_shape (r)->name, ==, "tiny");
  g_auto (GStrv) dirs = sc_stats_list_directions (s);
  for (char **d = dirs; *d; d++)
    {
      g_autoptr (ScStatsCounters) a = sc_stats_get_pair (s, *d, NULL);
      g_autoptr (ScStatsCounters) b = sc_stats_get_pair (r, *d, NULL);
      assert_counters_equal (a, b);
      for (int i = 0; i < L * E; i++)
        g_assert_cmpfloat (a->prob_sum[i], ==, b->prob_sum[i]); /* exact */
    }

  /* another model's shape */
  ScStatsShape other = shape;
  other.d_model = 32;
  g_autoptr (ScStats) bad = sc_stats_load (path, &other, &error);
  g_assert_null (bad);
  g_assert_error (error, SC_STATS_ERROR, SC_STATS_ERROR_SHAPE);
  g_clear_error (&error);

  /* newer version, wrong schema, wrong sizes */
  gsize len;
  g_autofree char *json = sc_stats_to_json (s, &len, &error);
  g_autofree char *newer = g_strdup (json);
  char *v = strstr (newer, "\"version\"");
  g_assert_nonnull (v);
  char *digit = strchr (v, '1');
  *digit = '9';
  g_assert_null (sc_stats_from_json (newer, -1, NULL, &error));
  g_assert_error (error, SC_STATS_ERROR, SC_STATS_ERROR_VERSION);
  g_clear_error (&error);

  g_assert_null (sc_stats_from_json ("{\"schema\": \"other\", \"version\": 1}", -1, NULL, &error));
  g_assert_error (error, SC_STATS_ERROR, SC_STATS_ERROR_SCHEMA);
  g_clear_error (&error);

  const char *short_tokens =
      "{\"schema\": \"secateur-stats\", \"version\": 1, \"model\": {\"name\": \"x\", \"d_model\": "
      "4,"
      " \"encoder_layers\": 1, \"decoder_layers\": 1, \"moe_layers\": 2, \"encoder_moe_layers\": 1,"
      " \"num_experts\": 2}, \"directions\": {\"a-b\": {\"tokens\": [1]}}}";
  g_assert_null (sc_stats_from_json (short_tokens, -1, NULL, &error));
  g_assert_error (error, SC_STATS_ERROR, SC_STATS_ERROR_INVALID);
  g_clear_error (&error);

  g_unlink (path);
  g_rmdir (dir);
}

static void
test_bad_events (void)
{
  g_autoptr (ScStats) s = sc_stats_new (&shape);
  float p[E] = { 1 };
  int t1 = 0, t2 = 1, big = E;
  g_autoptr (GError) error = NULL;
  g_assert_false (sc_stats_add_tokens (s, "a-b", NENC, FALSE, 1, p, &t1, &t2, NULL, NULL, NULL,
                                       NULL, NULL, &error));
  g_assert_error (error, SC_STATS_ERROR, SC_STATS_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (sc_stats_add_tokens (s, "ab", 0, FALSE, 1, p, &t1, &t2, NULL, NULL, NULL, NULL,
                                       NULL, &error));
  g_clear_error (&error);
  g_assert_false (sc_stats_add_tokens (s, "a-b", 0, FALSE, 1, p, &big, &t2, NULL, NULL, NULL, NULL,
                                       NULL, &error));
  g_clear_error (&error);
  g_assert_false (sc_stats_add_tokens (s, "a-b", L, TRUE, 1, p, &t1, &t2, NULL, NULL, NULL, NULL,
                                       NULL, &error));
  g_assert_cmpuint (sc_stats_total_tokens (s), ==, 0);
}

static gpointer
writer (gpointer data)
{
  feed (data, 0, T);
  return NULL;
}

static void
test_snapshot_threads (void)
{
  g_autoptr (ScStats) s = sc_stats_new (&shape);
  GThread *th = g_thread_new ("feed", writer, s);
  for (int i = 0; i < 20; i++)
    {
      g_autoptr (ScStats) snap = sc_stats_snapshot (s);
      g_assert_cmpuint (sc_stats_total_tokens (snap), <=, 3 * L * T);
    }
  g_thread_join (th);
  g_autoptr (ScStats) snap = sc_stats_snapshot (s);
  g_assert_cmpuint (sc_stats_total_tokens (snap), ==, sc_stats_total_tokens (s));
  g_assert_cmpuint (sc_stats_total_tokens (s), >, 0);
}

/* The reader is a scanner of its own (json-glib was too slow for the real
 * model's files): member order does not matter, unknown members are
 * skipped, and malformed text of every kind is refused without a crash. */
static void
test_json_reader (void)
{
  const char *model = "\"model\": {\"name\": \"t\\u00e9\", \"d_model\": 2, \"encoder_layers\": 1, "
                      "\"decoder_layers\": 1, \"moe_layers\": 1, \"encoder_moe_layers\": 1, "
                      "\"num_experts\": 2, \"extra\": [1, {\"x\": null}]}";
  const char *dir =
      "\"eng_Latn-fra_Latn\": {\"tokens\": [3], \"top1\": [[2, 1]], \"top2\": [[1, 2]], "
      "\"gate1\": [[1.5, 0.5e0]], \"gate2\": [[0.25, 0.75]], \"prob_sum\": [[2, 1]], "
      "\"rank_sum\": [[4, 5]], \"reap_sum\": [[0, 0]], \"note\": \"x\"}";
  /* directions before model, members in any order */
  g_autofree char *good = g_strdup_printf ("{\"directions\": {%s}, \"version\": 1, %s, "
                                           "\"schema\": \"secateur-stats\"}",
                                           dir, model);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScStats) s = sc_stats_from_json (good, -1, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sc_stats_get_shape (s)->name, ==, "t\u00e9");
  g_autoptr (ScStatsCounters) c = sc_stats_get_pair (s, "eng_Latn-fra_Latn", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (c->tokens[0], ==, 3);
  g_assert_cmpuint (c->top2[1], ==, 2);
  g_assert_cmpfloat (c->gate1[1], ==, 0.5);
  g_assert_cmpfloat (c->rank_sum[1], ==, 5.0);

  const char *bad[] = {
    "",
    "{",
    "[]",
    "{\"schema\": \"secateur-stats\", \"version\": 1",                 /* truncated */
    "{\"schema\": \"secateur-stats\", \"version\": 1.5}",              /* version */
    "{\"schema\": \"secateur-stats\", \"version\": 1, \"model\": {}}", /* no shape */
    "{\"schema\": \"secateur-stats\\x\", \"version\": 1}",             /* bad escape */
    "{\"schema\": \"secateur-stats\", \"version\": 1} trailing",
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) e = NULL;
      g_assert_null (sc_stats_from_json (bad[i], -1, NULL, &e));
      g_assert_nonnull (e);
    }
  /* a direction twice, a float count, a negative number, a short row */
  const char *broken[][2] = {
    { "\"top1\": [[2, 1]]", "\"top1\": [[2.5, 1]]" },
    { "\"gate2\": [[0.25, 0.75]]", "\"gate2\": [[-0.25, 0.75]]" },
    { "\"reap_sum\": [[0, 0]]", "\"reap_sum\": [[0]]" },
    { "\"tokens\": [3]", "\"tokens\": [3, 4]" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (broken); i++)
    {
      g_autoptr (GString) d = g_string_new (dir);
      g_string_replace (d, broken[i][0], broken[i][1], 1);
      g_autofree char *doc = g_strdup_printf ("{\"schema\": \"secateur-stats\", \"version\": 1, "
                                              "%s, \"directions\": {%s}}",
                                              model, d->str);
      g_autoptr (GError) e = NULL;
      g_assert_null (sc_stats_from_json (doc, -1, NULL, &e));
      g_assert_error (e, SC_STATS_ERROR, SC_STATS_ERROR_INVALID);
    }
  g_autofree char *twice = g_strdup_printf ("{\"schema\": \"secateur-stats\", \"version\": 1, %s, "
                                            "\"directions\": {%s, %s}}",
                                            model, dir, dir);
  g_autoptr (GError) e2 = NULL;
  g_assert_null (sc_stats_from_json (twice, -1, NULL, &e2));
  g_assert_error (e2, SC_STATS_ERROR, SC_STATS_ERROR_INVALID);
  /* deep nesting in a skipped member is bounded, not a stack overflow */
  GString *deep = g_string_new ("{\"schema\": \"secateur-stats\", \"version\": 1, \"x\": ");
  for (int i = 0; i < 100000; i++)
    g_string_append_c (deep, '[');
  g_autoptr (GError) e3 = NULL;
  g_assert_null (sc_stats_from_json (deep->str, deep->len, NULL, &e3));
  g_assert_nonnull (e3);
  g_string_free (deep, TRUE);
}

/* Numbers at the ends of the double range round-trip exactly and the file
 * stays JSON (json-glib wrote 1e308 as "1e+308.0"); a sum that overflows
 * to infinity is refused with the counter named and the file left as it
 * was; router events holding NaN never reach the counters. */
static void
test_json_extremes (void)
{
  const char *doc =
      "{\"schema\": \"secateur-stats\", \"version\": 1, \"model\": {\"name\": \"x\", "
      "\"d_model\": 2, \"encoder_layers\": 1, \"decoder_layers\": 1, \"moe_layers\": 1, "
      "\"encoder_moe_layers\": 1, \"num_experts\": 3}, \"directions\": {\"eng_Latn-fra_Latn\": "
      "{\"tokens\": [9007199254740992], \"top1\": [[9007199254740992, 0, 1]], "
      "\"top2\": [[0, 1, 2]], \"gate1\": [[1e308, 5e-324, 0.1]], "
      "\"gate2\": [[1e17, 1e22, 1.7976931348623157e308]], \"prob_sum\": [[2.2250738585072014e-308, "
      "0.3333333333333333, 0]], \"rank_sum\": [[4, 5, 6]], \"reap_sum\": [[123456789.125, 0, "
      "1e-300]]}}}";
  g_autoptr (GError) error = NULL;
  g_autoptr (ScStats) s = sc_stats_from_json (doc, -1, NULL, &error);
  g_assert_no_error (error);
  g_autofree char *dir = g_dir_make_tmp ("sc-stats-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "stats.json", NULL);
  g_assert_true (sc_stats_save (s, path, &error));
  g_assert_no_error (error);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_autoptr (JsonNode) tree = json_from_string (text, &error); /* any JSON reader takes it */
  g_assert_no_error (error);
  g_autoptr (ScStats) r = sc_stats_load (path, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (ScStatsCounters) a = sc_stats_get_pair (s, "eng_Latn-fra_Latn", NULL);
  g_autoptr (ScStatsCounters) b = sc_stats_get_pair (r, "eng_Latn-fra_Latn", NULL);
  g_assert_cmpuint (b->tokens[0], ==, 9007199254740992u);
  g_assert_cmpuint (b->top1[0], ==, 9007199254740992u);
  g_assert_cmpfloat (b->gate1[0], ==, 1e308);
  g_assert_cmpfloat (b->gate1[1], ==, 5e-324);
  g_assert_cmpfloat (b->gate2[2], ==, DBL_MAX);
  for (int i = 0; i < 3; i++)
    {
      g_assert_cmpfloat (a->gate1[i], ==, b->gate1[i]);
      g_assert_cmpfloat (a->gate2[i], ==, b->gate2[i]);
      g_assert_cmpfloat (a->prob_sum[i], ==, b->prob_sum[i]);
      g_assert_cmpfloat (a->rank_sum[i], ==, b->rank_sum[i]);
      g_assert_cmpfloat (a->reap_sum[i], ==, b->reap_sum[i]);
    }

  /* 1e308 + 1e308 overflows: refused, the good file untouched */
  g_autoptr (ScStats) twice = sc_stats_from_json (doc, -1, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (sc_stats_merge (twice, r, &error));
  g_assert_false (sc_stats_save (twice, path, &error));
  g_assert_error (error, SC_ERROR, SC_ERROR_NOT_FINITE);
  if (strstr (error->message, "gate1 of MoE layer 0, expert 0 is infinite") == NULL ||
      strstr (error->message, "eng_Latn-fra_Latn") == NULL)
    g_error ("unclear error: %s", error->message);
  g_clear_error (&error);
  g_assert_null (sc_stats_to_json (twice, NULL, &error));
  g_assert_error (error, SC_ERROR, SC_ERROR_NOT_FINITE);
  g_clear_error (&error);
  g_autofree char *after = NULL;
  g_assert_true (g_file_get_contents (path, &after, NULL, NULL));
  g_assert_cmpstr (after, ==, text);
  g_unlink (path);
  g_rmdir (dir);

  /* NaN or infinite router events are refused before they are counted */
  g_autoptr (ScStats) ev = sc_stats_new (&shape);
  Events e;
  make_events (&e, 7);
  float *fields[] = { &e.probs[5 * E + 2], &e.w1[9], &e.n2[11] };
  for (guint k = 0; k < G_N_ELEMENTS (fields); k++)
    {
      float keep = *fields[k];
      *fields[k] = k == 1 ? INFINITY : NAN;
      g_assert_false (sc_stats_add_tokens (ev, "eng_Latn-fra_Latn", 0, FALSE, T, e.probs, e.top1,
                                           e.top2, e.w1, e.w2, e.n1, e.n2, NULL, &error));
      g_assert_error (error, SC_ERROR, SC_ERROR_NOT_FINITE);
      g_assert_nonnull (strstr (error->message, "MoE layer 0"));
      g_clear_error (&error);
      *fields[k] = keep;
    }
  g_assert_cmpuint (sc_stats_total_tokens (ev), ==, 0);
  /* padding is not looked at */
  e.probs[3 * E] = NAN;
  g_assert_true (sc_stats_add_tokens (ev, "eng_Latn-fra_Latn", 0, FALSE, T, e.probs, e.top1, e.top2,
                                      e.w1, e.w2, e.n1, e.n2, e.valid, &error));
  g_assert_no_error (error);
}

typedef struct
{
  const char *path;
  ScStats *add, *result;
  int waited;
} Appender;

static void
note_wait (const char *path, gpointer data)
{
  Appender *a = data;
  g_assert_cmpstr (path, ==, a->path);
  g_atomic_int_inc (&a->waited);
}

static gpointer
append_thread (gpointer data)
{
  Appender *a = data;
  g_autoptr (GError) error = NULL;
  a->result = sc_stats_append_to_file (a->add, a->path, note_wait, a, &error);
  g_assert_no_error (error);
  return NULL;
}

/* sc_stats_append_to_file reads, adds and writes under the file's lock:
 * while another holder has it, an append waits (and says so once), then
 * adds to what that holder wrote; four threads at once lose nothing; the
 * lock file is gone afterwards. */
static void
test_append_locked (void)
{
  g_autofree char *dir = g_dir_make_tmp ("sc-stats-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "stats.json", NULL);
  g_autofree char *lock_path = g_strconcat (path, ".lock", NULL);
  g_autoptr (ScStats) part = sc_stats_new (&shape);
  feed (part, 0, T);
  guint64 per = sc_stats_total_tokens (part);
  g_autoptr (GError) error = NULL;

  ScFileLock *held = sc_file_lock_acquire (path, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_test (lock_path, G_FILE_TEST_EXISTS));
  Appender a = { path, part, NULL, 0 };
  GThread *th = g_thread_new ("append", append_thread, &a);
  while (g_atomic_int_get (&a.waited) == 0)
    g_usleep (1000);
  /* written by the holder while the append waits: it must be counted */
  g_assert_true (sc_stats_save (part, path, &error));
  sc_file_lock_release (held);
  g_thread_join (th);
  g_assert_cmpint (a.waited, ==, 1);
  g_assert_cmpuint (sc_stats_total_tokens (a.result), ==, 2 * per);
  g_clear_pointer (&a.result, sc_stats_free);

  Appender many[4];
  GThread *threads[4];
  for (int i = 0; i < 4; i++)
    {
      many[i] = (Appender){ path, part, NULL, 0 };
      threads[i] = g_thread_new ("append", append_thread, &many[i]);
    }
  for (int i = 0; i < 4; i++)
    {
      g_thread_join (threads[i]);
      g_clear_pointer (&many[i].result, sc_stats_free);
    }
  g_autoptr (ScStats) sum = sc_stats_load (path, &shape, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sc_stats_total_tokens (sum), ==, 6 * per);
  g_assert_false (g_file_test (lock_path, G_FILE_TEST_EXISTS));
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/stats/counters", test_counters);
  g_test_add_func ("/stats/rank-hand", test_rank_hand);
  g_test_add_func ("/stats/merge-halves", test_merge_halves);
  g_test_add_func ("/stats/aggregates", test_aggregates);
  g_test_add_func ("/stats/json", test_json);
  g_test_add_func ("/stats/json-reader", test_json_reader);
  g_test_add_func ("/stats/json-extremes", test_json_extremes);
  g_test_add_func ("/stats/append-locked", test_append_locked);
  g_test_add_func ("/stats/bad-events", test_bad_events);
  g_test_add_func ("/stats/snapshot-threads", test_snapshot_threads);
  return g_test_run ();
}
