/* test-metrics.c: chrF, chrF++, BLEU and spBLEU against goldens written by
 * sacreBLEU itself (tools/make_metric_goldens.py -> tests/goldens/metrics.json):
 * corpus and sentence scores, sufficient statistics and signatures, plus
 * option variants and bad input. */
#include "sc-metrics.h"
#include "sc-test-util.h"

#include <math.h>
#include <string.h>

/* The goldens hold sacreBLEU's doubles; the C code does the same arithmetic
 * in the same order, so scores agree far below the 1e-2 we promise. */
#define CORPUS_TOL 1e-2
#define SENTENCE_TOL 1e-2
#define TIGHT_TOL 1e-9

static JsonObject *goldens;
static JsonNode *goldens_node;
static char *spm_model;
static double max_dev;

static GStrv
strv_from_json (JsonArray *arr)
{
  guint n = json_array_get_length (arr);
  GStrv out = g_new0 (char *, n + 1);
  for (guint i = 0; i < n; i++)
    out[i] = g_strdup (json_array_get_string_element (arr, i));
  return out;
}

typedef struct
{
  GStrv hyps;
  GStrv *refs; /* NULL-terminated array of streams */
  guint n_streams;
} Set;

static void
set_clear (Set *s)
{
  g_strfreev (s->hyps);
  for (guint r = 0; r < s->n_streams; r++)
    g_strfreev (s->refs[r]);
  g_free (s->refs);
}

static Set
set_from_json (JsonObject *o)
{
  Set s = { 0 };
  s.hyps = strv_from_json (json_object_get_array_member (o, "hyps"));
  JsonArray *refs = json_object_get_array_member (o, "refs");
  s.n_streams = json_array_get_length (refs);
  s.refs = g_new0 (GStrv, s.n_streams + 1);
  for (guint r = 0; r < s.n_streams; r++)
    s.refs[r] = strv_from_json (json_array_get_array_element (refs, r));
  return s;
}

static void
config_for (const char *metric, JsonObject *options, ScMetricConfig *cfg)
{
  ScMetricKind kind;
  g_assert_true (sc_metric_kind_from_name (metric, &kind));
  sc_metric_config_init (cfg, kind);
  cfg->spm_model = spm_model;
  if (options == NULL)
    return;
  if (json_object_has_member (options, "whitespace"))
    cfg->whitespace = json_object_get_boolean_member (options, "whitespace");
  if (json_object_has_member (options, "lowercase"))
    cfg->lowercase = json_object_get_boolean_member (options, "lowercase");
  if (json_object_has_member (options, "eps_smoothing"))
    cfg->eps_smoothing = json_object_get_boolean_member (options, "eps_smoothing");
  if (json_object_has_member (options, "char_order"))
    cfg->char_order = json_object_get_int_member (options, "char_order");
  if (json_object_has_member (options, "beta"))
    cfg->beta = json_object_get_int_member (options, "beta");
  if (json_object_has_member (options, "effective_order"))
    cfg->effective_order = json_object_get_boolean_member (options, "effective_order") ? 1 : 0;
  if (json_object_has_member (options, "smooth_value"))
    cfg->smooth_value = json_object_get_double_member (options, "smooth_value");
  if (json_object_has_member (options, "tokenize"))
    {
      g_assert_cmpstr (json_object_get_string_member (options, "tokenize"), ==, "none");
      cfg->tokenize = SC_BLEU_TOKENIZE_NONE;
    }
  if (json_object_has_member (options, "smooth_method"))
    {
      const char *m = json_object_get_string_member (options, "smooth_method");
      cfg->smooth_method = g_str_equal (m, "floor")   ? SC_BLEU_SMOOTH_FLOOR
                           : g_str_equal (m, "none")  ? SC_BLEU_SMOOTH_NONE
                           : g_str_equal (m, "add-k") ? SC_BLEU_SMOOTH_ADD_K
                                                      : SC_BLEU_SMOOTH_EXP;
    }
}

static void
assert_stats (const ScMetricScore *s, JsonArray *want, const char *what)
{
  guint n = json_array_get_length (want);
  if ((guint) s->n_stats != n)
    g_error ("%s: %d statistics, golden has %u", what, s->n_stats, n);
  for (guint i = 0; i < n; i++)
    {
      gint64 w = json_array_get_int_element (want, i);
      if (s->stats[i] != w)
        g_error ("%s: statistic %u is %" G_GINT64_FORMAT ", sacreBLEU %" G_GINT64_FORMAT, what, i,
                 s->stats[i], w);
    }
}

static void
assert_close (double got, double want, double tol, const char *what)
{
  double d = fabs (got - want);
  max_dev = MAX (max_dev, d);
  if (!(d <= tol))
    g_error ("%s: %.12f, sacreBLEU %.12f (|d| = %g)", what, got, want, d);
}

/* One metric on one set: corpus score, statistics, signature and every
 * sentence score, against `res` (a golden result object). */
static void
check_result (const char *set_name, const char *metric, JsonObject *options, Set *set,
              JsonObject *res)
{
  ScMetricConfig cfg;
  config_for (metric, options, &cfg);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScMetric) m = sc_metric_new (&cfg, &error);
  g_assert_no_error (error);
  g_autofree char *what = g_strdup_printf ("%s/%s%s", set_name, metric, options ? "/variant" : "");

  ScMetricScore s;
  g_assert_true (sc_metric_corpus_score (m, (const char *const *) set->hyps,
                                         (const char *const *const *) set->refs, &s, &error));
  g_assert_no_error (error);
  assert_close (s.score, json_object_get_double_member (res, "corpus_score"), CORPUS_TOL, what);
  assert_close (s.score, json_object_get_double_member (res, "corpus_score"), TIGHT_TOL, what);
  assert_stats (&s, json_object_get_array_member (res, "corpus_stats"), what);
  g_autofree char *sig = sc_metric_signature (m, set->n_streams, FALSE);
  g_assert_cmpstr (sig, ==, json_object_get_string_member (res, "signature"));
  g_assert_cmpstr (sc_metric_name (m), ==, json_object_get_string_member (res, "name"));

  JsonArray *scores = json_object_get_array_member (res, "sentence_scores");
  JsonArray *stats = json_object_get_array_member (res, "sentence_stats");
  g_autofree const char **seg_refs = g_new0 (const char *, set->n_streams + 1);
  for (guint i = 0; set->hyps[i]; i++)
    {
      for (guint r = 0; r < set->n_streams; r++)
        seg_refs[r] = set->refs[r][i];
      ScMetricScore ss;
      g_assert_true (sc_metric_sentence_score (m, set->hyps[i], seg_refs, &ss, &error));
      g_assert_no_error (error);
      g_autofree char *w = g_strdup_printf ("%s sentence %u", what, i);
      assert_close (ss.score, json_array_get_double_element (scores, i), SENTENCE_TOL, w);
      assert_close (ss.score, json_array_get_double_element (scores, i), TIGHT_TOL, w);
      assert_stats (&ss, json_array_get_array_element (stats, i), w);
    }
  g_autofree char *ssig = sc_metric_signature (m, set->n_streams, TRUE);
  g_assert_cmpstr (ssig, ==, json_object_get_string_member (res, "sentence_signature"));
}

static JsonObject *
find_set (const char *name)
{
  JsonArray *sets = json_object_get_array_member (goldens, "sets");
  for (guint i = 0; i < json_array_get_length (sets); i++)
    {
      JsonObject *o = json_array_get_object_element (sets, i);
      if (g_str_equal (json_object_get_string_member (o, "name"), name))
        return o;
    }
  g_error ("no golden set %s", name);
  return NULL;
}

static void
check_sets (const char *prefix, gboolean want_prefix)
{
  JsonArray *sets = json_object_get_array_member (goldens, "sets");
  guint done = 0;
  for (guint i = 0; i < json_array_get_length (sets); i++)
    {
      JsonObject *o = json_array_get_object_element (sets, i);
      const char *name = json_object_get_string_member (o, "name");
      if (g_str_has_prefix (name, prefix) != want_prefix)
        continue;
      Set set = set_from_json (o);
      JsonObject *metrics = json_object_get_object_member (o, "metrics");
      static const char *const names[] = { "chrf", "chrf++", "bleu", "spbleu" };
      for (gsize k = 0; k < G_N_ELEMENTS (names); k++)
        check_result (name, names[k], NULL, &set,
                      json_object_get_object_member (metrics, names[k]));
      set_clear (&set);
      done++;
    }
  g_assert_cmpuint (done, >, 0);
  g_test_message ("largest |C - sacreBLEU| so far: %g", max_dev);
}

static void
test_udhr (void)
{
  check_sets ("udhr-", TRUE);
}

static void
test_edge_cases (void)
{
  check_sets ("udhr-", FALSE);
}

static void
test_variants (void)
{
  JsonArray *vars = json_object_get_array_member (goldens, "variants");
  g_assert_cmpuint (json_array_get_length (vars), >, 0);
  for (guint i = 0; i < json_array_get_length (vars); i++)
    {
      JsonObject *v = json_array_get_object_element (vars, i);
      const char *set_name = json_object_get_string_member (v, "set");
      Set set = set_from_json (find_set (set_name));
      check_result (set_name, json_object_get_string_member (v, "metric"),
                    json_object_get_object_member (v, "options"), &set, v);
      set_clear (&set);
    }
  g_test_message ("largest |C - sacreBLEU|: %g", max_dev);
}

/* Hand-checked statistics, independent of the goldens. */
static void
test_known_stats (void)
{
  g_autoptr (GError) error = NULL;
  ScMetricConfig cfg;
  sc_metric_config_init (&cfg, SC_METRIC_CHRF_PP);
  g_autoptr (ScMetric) chrf = sc_metric_new (&cfg, &error);
  g_assert_no_error (error);
  const char *refs[] = { "ab c", NULL };
  ScMetricScore s;
  g_assert_true (sc_metric_sentence_score (chrf, "ab c", refs, &s, &error));
  g_assert_cmpfloat_with_epsilon (s.score, 100.0, 1e-12);
  g_assert_cmpint (s.n_stats, ==, 24);
  /* chars "abc": 1-grams 3, 2-grams 2, 3-grams 1, then none */
  g_assert_cmpint (s.stats[0], ==, 3);
  g_assert_cmpint (s.stats[3], ==, 2);
  g_assert_cmpint (s.stats[6], ==, 1);
  g_assert_cmpint (s.stats[9], ==, 0);
  /* words "ab", "c": two unigrams, one bigram */
  g_assert_cmpint (s.stats[18], ==, 2);
  g_assert_cmpint (s.stats[21], ==, 1);
  g_autofree char *sig = sc_metric_signature (chrf, 1, FALSE);
  g_assert_cmpstr (
      sig, ==,
      "nrefs:1|case:mixed|eff:yes|nc:6|nw:2|space:no|version:" SC_METRICS_SACREBLEU_VERSION);
  g_autofree char *line = sc_metric_format (chrf, &s, sig);
  g_assert_true (g_str_has_prefix (line, "chrF2++|nrefs:1|"));
  g_assert_true (g_str_has_suffix (line, " = 100.00"));

  sc_metric_config_init (&cfg, SC_METRIC_BLEU);
  g_autoptr (ScMetric) bleu = sc_metric_new (&cfg, &error);
  g_assert_no_error (error);
  const char *bhyps[] = { "Hello, world.", NULL };
  const char *brefs0[] = { "Hello , world .", NULL };
  const char *const *brefs[] = { brefs0, NULL };
  g_assert_true (sc_metric_corpus_score (bleu, bhyps, brefs, &s, &error));
  g_assert_cmpfloat_with_epsilon (s.score, 100.0, 1e-9);
  g_assert_cmpint (s.stats[0], ==, 4); /* 13a: Hello , world . */
  g_assert_cmpint (s.stats[1], ==, 4);
  g_assert_cmpint (s.stats[5], ==, 1); /* one matching 4-gram */
  g_autofree char *bline = sc_metric_format (bleu, &s, NULL);
  g_assert_cmpstr (bline, ==,
                   "BLEU = 100.00 100.0/100.0/100.0/100.0 "
                   "(BP = 1.000 ratio = 1.000 hyp_len = 4 ref_len = 4)");
}

static void
test_bad_input (void)
{
  g_autoptr (GError) error = NULL;
  ScMetricConfig cfg;
  sc_metric_config_init (&cfg, SC_METRIC_CHRF_PP);
  g_autoptr (ScMetric) m = sc_metric_new (&cfg, &error);
  g_assert_no_error (error);
  ScMetricScore s;

  const char *hyps2[] = { "a", "b", NULL };
  const char *refs1[] = { "a", NULL };
  const char *const *refs[] = { refs1, NULL };
  g_assert_false (sc_metric_corpus_score (m, hyps2, refs, &s, &error));
  g_assert_error (error, SC_METRICS_ERROR, SC_METRICS_ERROR_MISMATCH);
  g_clear_error (&error);

  /* a second reference stream of the wrong length */
  const char *refs2a[] = { "a", "b", NULL };
  const char *refs2b[] = { "a", NULL };
  const char *const *refs2[] = { refs2a, refs2b, NULL };
  g_assert_false (sc_metric_corpus_score (m, hyps2, refs2, &s, &error));
  g_assert_error (error, SC_METRICS_ERROR, SC_METRICS_ERROR_MISMATCH);
  g_clear_error (&error);

  const char *none[] = { NULL };
  g_assert_false (sc_metric_corpus_score (m, none, refs, &s, &error));
  g_assert_error (error, SC_METRICS_ERROR, SC_METRICS_ERROR_MISMATCH);
  g_clear_error (&error);

  const char *const *no_refs[] = { NULL };
  g_assert_false (sc_metric_corpus_score (m, refs1, no_refs, &s, &error));
  g_assert_error (error, SC_METRICS_ERROR, SC_METRICS_ERROR_MISMATCH);
  g_clear_error (&error);

  g_assert_false (sc_metric_sentence_score (m, "a", none, &s, &error));
  g_assert_error (error, SC_METRICS_ERROR, SC_METRICS_ERROR_MISMATCH);
  g_clear_error (&error);

  const char *bad[] = { "ok \xff\xfe", NULL };
  g_assert_false (sc_metric_corpus_score (m, bad, refs, &s, &error));
  g_assert_error (error, SC_METRICS_ERROR, SC_METRICS_ERROR_INVALID);
  g_clear_error (&error);

  /* spBLEU without a model, and with a missing one */
  sc_metric_config_init (&cfg, SC_METRIC_SPBLEU);
  g_assert_null (sc_metric_new (&cfg, &error));
  g_assert_error (error, SC_METRICS_ERROR, SC_METRICS_ERROR_SPM);
  g_clear_error (&error);
  cfg.spm_model = "/nonexistent/sentencepiece.model";
  g_assert_null (sc_metric_new (&cfg, &error));
  g_assert_error (error, SC_METRICS_ERROR, SC_METRICS_ERROR_SPM);
  g_clear_error (&error);

  sc_metric_config_init (&cfg, SC_METRIC_CHRF);
  cfg.char_order = 0;
  g_assert_null (sc_metric_new (&cfg, &error));
  g_assert_error (error, SC_METRICS_ERROR, SC_METRICS_ERROR_INVALID);
  g_clear_error (&error);
  sc_metric_config_init (&cfg, SC_METRIC_BLEU);
  cfg.max_ngram_order = 99;
  g_assert_null (sc_metric_new (&cfg, &error));
  g_assert_error (error, SC_METRICS_ERROR, SC_METRICS_ERROR_INVALID);
  g_clear_error (&error);

  ScMetricKind kind;
  g_assert_false (sc_metric_kind_from_name ("meteor", &kind));
  g_assert_true (sc_metric_kind_from_name ("chrF++", &kind));
  g_assert_cmpint (kind, ==, SC_METRIC_CHRF_PP);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_autofree char *path = sc_test_path ("tests/goldens/metrics.json");
  goldens_node = sc_test_load_json (path);
  goldens = json_node_get_object (goldens_node);
  g_assert_cmpstr (json_object_get_string_member (goldens, "sacrebleu_version"), ==,
                   SC_METRICS_SACREBLEU_VERSION);
  spm_model = sc_test_path (json_object_get_string_member (goldens, "spm_model"));

  g_test_add_func ("/metrics/udhr", test_udhr);
  g_test_add_func ("/metrics/edge-cases", test_edge_cases);
  g_test_add_func ("/metrics/variants", test_variants);
  g_test_add_func ("/metrics/known-stats", test_known_stats);
  g_test_add_func ("/metrics/bad-input", test_bad_input);
  int rc = g_test_run ();
  g_free (spm_model);
  json_node_unref (goldens_node);
  return rc;
}
