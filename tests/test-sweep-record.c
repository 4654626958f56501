/* test-sweep-record.c: a quality sweep as JSON (sc-sweep-record.h): every
 * field read back as written, no NaN or infinity written, hostile records
 * refused with an error that says where; and the estimate keyed on the
 * kept set (sc_sweep_job_estimate): the measured value for a measured set,
 * linear between measured kept counts otherwise, nothing outside them. */
#include "sc-json-file.h"
#include "sc-sweep-record.h"
#include "sc-tensor.h"
#include "sc-test-util.h"

#include <math.h>
#include <string.h>

/* Two pairs, three points: 64, 48 and 16 of 64 experts kept. */
static ScSweepJobResult *
sample_run (void)
{
  ScSweepJobResult *r = g_new0 (ScSweepJobResult, 1);
  static const char *dirs[] = { "eng_Latn-fra_Latn", "eng_Latn-deu_Latn", NULL };
  static const double ratios[] = { 0.0, 0.25, 0.75 };
  static const double scores[] = { 50.25, 40.5, 20.125, 44.0, 30.0, 10.0 };
  static const int kept[] = { 64, 48, 16, 64, 48, 16 };
  r->n_directions = 2;
  r->n_ratios = 3;
  r->directions = g_strdupv ((char **) dirs);
  r->ratios = g_memdup2 (ratios, sizeof ratios);
  r->scores = g_memdup2 (scores, sizeof scores);
  r->chrf = g_new0 (double, 3);
  for (int i = 0; i < 3; i++)
    r->chrf[i] = (scores[i] + scores[3 + i]) / 2;
  sc_prune_settings_init (&r->settings);
  r->settings.ratio = 0;
  r->settings.metric = SC_EXPERT_METRIC_REAP;
  r->settings.algo = SC_SELECT_THRESHOLD;
  r->settings.granularity = SC_GRANULARITY_PAIR;
  r->settings.enc_weight = 2;
  r->settings.dec_weight = 1;
  r->experts_total = 64;
  r->kept = g_memdup2 (kept, sizeof kept);
  r->kept_sets = g_new0 (char *, 7);
  for (int i = 0; i < 6; i++)
    r->kept_sets[i] = g_strdup_printf ("%016x", 0xabc0 + i);
  r->sentences = g_new0 (int, 2);
  r->sentences[0] = 8;
  r->sentences[1] = 7;
  r->num_beams = 1;
  r->max_length = 48;
  r->held_out = g_strdup ("heldout.tsv");
  r->calibration = g_strdup ("udhr, proportional, 256 sentences, “teacher”");
  r->created = 1764800000;
  return r;
}

static void
assert_same (const ScSweepJobResult *a, const ScSweepJobResult *b)
{
  g_assert_cmpint (a->n_directions, ==, b->n_directions);
  g_assert_cmpint (a->n_ratios, ==, b->n_ratios);
  int n = a->n_ratios;
  for (int d = 0; d < a->n_directions; d++)
    {
      g_assert_cmpstr (a->directions[d], ==, b->directions[d]);
      g_assert_cmpint (a->sentences[d], ==, b->sentences[d]);
      for (int i = 0; i < n; i++)
        {
          g_assert_cmpfloat (a->scores[d * n + i], ==, b->scores[d * n + i]);
          g_assert_cmpint (a->kept[d * n + i], ==, b->kept[d * n + i]);
          g_assert_cmpstr (a->kept_sets[d * n + i], ==, b->kept_sets[d * n + i]);
        }
    }
  g_assert_null (b->directions[b->n_directions]);
  g_assert_null (b->kept_sets[b->n_directions * n]);
  for (int i = 0; i < n; i++)
    {
      g_assert_cmpfloat (a->ratios[i], ==, b->ratios[i]);
      g_assert_cmpfloat_with_epsilon (a->chrf[i], b->chrf[i], 1e-12);
    }
  g_assert_cmpint (a->settings.metric, ==, b->settings.metric);
  g_assert_cmpint (a->settings.algo, ==, b->settings.algo);
  g_assert_cmpint (a->settings.granularity, ==, b->settings.granularity);
  g_assert_cmpint (a->settings.enc_weight, ==, b->settings.enc_weight);
  g_assert_cmpint (a->settings.dec_weight, ==, b->settings.dec_weight);
  g_assert_cmpfloat (b->settings.ratio, ==, 0);
  g_assert_cmpint (a->experts_total, ==, b->experts_total);
  g_assert_cmpint (a->num_beams, ==, b->num_beams);
  g_assert_cmpint (a->max_length, ==, b->max_length);
  g_assert_cmpstr (a->held_out, ==, b->held_out);
  g_assert_cmpstr (a->calibration, ==, b->calibration);
  g_assert_cmpint (a->created, ==, b->created);
}

static void
test_round_trip (void)
{
  g_autoptr (ScSweepJobResult) r = sample_run ();
  g_autoptr (GError) error = NULL;
  gsize len = 0;
  g_autofree char *text = sc_sweep_record_to_data (r, &len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (len, ==, strlen (text));
  g_assert_nonnull (strstr (text, "\"metric\" : \"reap\""));
  g_assert_nonnull (strstr (text, "\"algorithm\" : \"threshold\""));
  g_assert_nonnull (strstr (text, "\"granularity\" : \"pair\""));
  g_autoptr (ScSweepJobResult) back = sc_sweep_record_parse (text, -1, &error);
  g_assert_no_error (error);
  assert_same (r, back);
  /* the copy is the same run */
  g_autoptr (ScSweepJobResult) copy = sc_sweep_job_result_copy (back);
  assert_same (r, copy);

  /* through a file; without a calibration the member is absent */
  g_clear_pointer (&r->calibration, g_free);
  g_autofree char *tmp = g_dir_make_tmp ("sweep-record-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *path = g_build_filename (tmp, "run.json", NULL);
  g_assert_true (sc_sweep_record_save (r, path, &error));
  g_assert_no_error (error);
  g_autoptr (ScSweepJobResult) loaded = sc_sweep_record_load (path, &error);
  g_assert_no_error (error);
  assert_same (r, loaded);
  g_assert_null (loaded->calibration);
  g_unlink (path);
  g_rmdir (tmp);

  /* the mean is recomputed from the pairs' scores, not read */
  g_autofree char *lie = g_strdup (text);
  char *at = strstr (lie, "\"chrf\" : [");
  g_assert_nonnull (at);
  memcpy (at + strlen ("\"chrf\" : [") + 2 /* "\n " of the pretty form */, " 99", 3);
  g_autoptr (ScSweepJobResult) lied = sc_sweep_record_parse (lie, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat_with_epsilon (lied->chrf[0], (50.25 + 44.0) / 2, 1e-12);
}

/* NaN and infinity are never written. */
static void
test_not_finite (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ScSweepJobResult) r = sample_run ();
  r->scores[4] = NAN;
  g_assert_null (sc_sweep_record_to_data (r, NULL, &error));
  g_assert_error (error, SC_ERROR, SC_ERROR_NOT_FINITE);
  g_clear_error (&error);
  r->scores[4] = 30;
  r->ratios[2] = INFINITY;
  g_assert_null (sc_sweep_record_to_node (r, &error));
  g_assert_error (error, SC_ERROR, SC_ERROR_NOT_FINITE);
  g_clear_error (&error);
  /* a sweep without what it was measured with is not a record */
  r->ratios[2] = 0.75;
  g_clear_pointer (&r->kept, g_free);
  g_assert_null (sc_sweep_record_to_node (r, &error));
  g_assert_error (error, SC_ERROR, SC_ERROR_FORMAT);
}

/* Each case replaces one piece of a valid record (which must be there);
 * reading it must fail with SC_ERROR_FORMAT naming `where`. */
static const struct
{
  const char *from, *to, *where;
} hostile[] = {
  { "\"format\" : \"secateur-sweep\"", "\"format\" : \"secateur-stats\"", "format" },
  { "\"format\" : \"secateur-sweep\"", "\"format\" : 7", "format" },
  { "\"version\" : 1", "\"version\" : 2", "version" },
  { "\"version\" : 1", "\"version\" : 0", "version" },
  { "\"version\" : 1", "\"version\" : 1.5", "version" },
  { "\"metric\" : \"reap\"", "\"metric\" : \"best\"", "settings.metric" },
  { "\"algorithm\" : \"threshold\"", "\"algorithm\" : null", "settings.algorithm" },
  { "\"granularity\" : \"pair\"", "\"granularity\" : \"word\"", "settings.granularity" },
  { "\"encoder_weight\" : 2", "\"encoder_weight\" : 0", "settings.encoder_weight" },
  { "\"decoder_weight\" : 1", "\"decoder_weight\" : -3", "settings.decoder_weight" },
  { "\"settings\" : {", "\"settings\" : [], \"x\" : {", "settings" },
  { "\"held_out\" : \"heldout.tsv\"", "\"held_out\" : [\"a\"]", "held_out" },
  { "\"beams\" : 1", "\"beams\" : 0", "decoding.beams" },
  { "\"max_length\" : 48", "\"max_length\" : 1e300", "decoding.max_length" },
  { "\"experts_total\" : 64", "\"experts_total\" : 0", "experts_total" },
  { "\"experts_total\" : 64", "\"experts_total\" : 32", "directions[0].kept[0]" },
  { "\"calibration\" : \"", "\"calibration\" : 3, \"c\" : \"", "calibration" },
  { "\"created\" : 1764800000", "\"created\" : -1", "created" },
  { "0.25,", "1e999,", "ratios[1]" },
  { "0.25,", "1.0,", "ratios[1]" },
  { "0.25,", "0.0,", "ratios[1]" },
  { "0.25,", "\"0.25\",", "ratios[1]" },
  { "0.75", "0.75, 0.8", "directions[0].chrf" },
  { "\"ratios\" : [", "\"ratios\" : [], \"r\" : [", "ratios" },
  { "\"direction\" : \"eng_Latn-fra_Latn\"", "\"direction\" : \"eng_Latn\"",
    "directions[0].direction" },
  { "\"direction\" : \"eng_Latn-fra_Latn\"", "\"direction\" : \"eng_Latn-deu_Latn\"",
    "directions[1].direction" },
  { "\"sentences\" : 8", "\"sentences\" : 0", "directions[0].sentences" },
  { "\"sentences\" : 7", "\"sentences\" : 99999999999", "directions[1].sentences" },
  { "50.25", "100.5", "directions[0].chrf[0]" },
  { "50.25", "-1", "directions[0].chrf[0]" },
  { "50.25", "true", "directions[0].chrf[0]" },
  { "20.125", "20.125, 3", "directions[0].chrf" },
  { "\"kept\" : [\n        64,\n        48", "\"kept\" : [\n        64,\n        0",
    "directions[0].kept[1]" },
  { "\"kept\" : [\n        64,\n        48", "\"kept\" : [\n        48,\n        64",
    "directions[0].kept[1]" },
  { "\"kept\" : [\n        64,\n        48", "\"kept\" : [\n        64,\n        65",
    "directions[0].kept[1]" },
  { "\"000000000000abc0\"", "\"not-a-digest\"", "directions[0].kept_sets[0]" },
  { "\"000000000000abc0\"", "\"\"", "directions[0].kept_sets[0]" },
  { "\"directions\" : [", "\"directions\" : [ 3, ", "directions[0]" },
  { "\"directions\" : [", "\"directions\" : [], \"d\" : [", "directions" },
};

static void
test_hostile (void)
{
  g_autoptr (ScSweepJobResult) r = sample_run ();
  g_autoptr (GError) error = NULL;
  g_autofree char *valid = sc_sweep_record_to_data (r, NULL, &error);
  g_assert_no_error (error);
  for (gsize i = 0; i < G_N_ELEMENTS (hostile); i++)
    {
      char *at = strstr (valid, hostile[i].from);
      if (at == NULL)
        g_error ("case %" G_GSIZE_FORMAT ": “%s” is not in the record:\n%s", i, hostile[i].from,
                 valid);
      g_autofree char *text = g_strdup_printf ("%.*s%s%s", (int) (at - valid), valid, hostile[i].to,
                                               at + strlen (hostile[i].from));
      g_autoptr (ScSweepJobResult) back = sc_sweep_record_parse (text, -1, &error);
      g_assert_null (back);
      g_assert_error (error, SC_ERROR, SC_ERROR_FORMAT);
      g_autofree char *want = g_strdup_printf ("sweep record: %s: ", hostile[i].where);
      if (!g_str_has_prefix (error->message, want))
        g_error ("case %" G_GSIZE_FORMAT ": “%s” does not begin “%s”", i, error->message, want);
      g_clear_error (&error);
    }
  /* not JSON, not an object, nested too deep */
  const char *broken[] = { "", "{", "[1, 2]", "null", "\"sweep\"" };
  for (gsize i = 0; i < G_N_ELEMENTS (broken); i++)
    {
      g_assert_null (sc_sweep_record_parse (broken[i], -1, &error));
      g_assert_nonnull (error);
      g_clear_error (&error);
    }
  GString *deep = g_string_new (NULL);
  for (int i = 0; i < 10000; i++)
    g_string_append_c (deep, '[');
  g_assert_null (sc_sweep_record_parse (deep->str, deep->len, &error));
  g_assert_error (error, SC_ERROR, SC_ERROR_FORMAT);
  g_clear_error (&error);
  g_string_free (deep, TRUE);
  /* many directions of many points are refused before they are allocated */
  GString *big = g_string_new ("{\"format\":\"secateur-sweep\",\"version\":1,\"settings\":"
                               "{\"metric\":\"reap\",\"algorithm\":\"per-layer\",\"granularity\":"
                               "\"lang\",\"encoder_weight\":1,\"decoder_weight\":1},\"held_out\":"
                               "\"x\",\"decoding\":{\"beams\":1,\"max_length\":4},"
                               "\"experts_total\":4,\"ratios\":[");
  for (int i = 0; i < SC_SWEEP_RECORD_MAX_POINTS; i++)
    g_string_append_printf (big, "%s%g", i ? "," : "", i / 2048.0);
  g_string_append (big, "],\"directions\":[");
  for (int i = 0; i < 2000; i++)
    g_string_append_printf (big, "%s{}", i ? "," : "");
  g_string_append (big, "]}");
  g_assert_null (sc_sweep_record_parse (big->str, big->len, &error));
  g_assert_error (error, SC_ERROR, SC_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "too many"));
  g_string_free (big, TRUE);
}

/* The kept set, not the ratio, keys the estimate. */
static void
test_estimate (void)
{
  g_autoptr (ScSweepJobResult) r = sample_run ();
  double v = -1;
  /* a measured set: its measured value, exactly */
  g_assert_cmpint (sc_sweep_job_estimate (r, 0, 48, r->kept_sets[1], &v), ==, SC_SWEEP_MEASURED);
  g_assert_cmpfloat (v, ==, 40.5);
  g_assert_cmpint (sc_sweep_job_estimate (r, 1, 16, r->kept_sets[5], &v), ==, SC_SWEEP_MEASURED);
  g_assert_cmpfloat (v, ==, 10.0);
  /* the same count, another set (other statistics or settings): estimated */
  g_assert_cmpint (sc_sweep_job_estimate (r, 0, 48, "0123", &v), ==, SC_SWEEP_INTERPOLATED);
  g_assert_cmpfloat (v, ==, 40.5);
  /* between measured kept counts, linear in the count: 32 is half way
   * from 48 to 16 */
  g_assert_cmpint (sc_sweep_job_estimate (r, 0, 32, NULL, &v), ==, SC_SWEEP_INTERPOLATED);
  g_assert_cmpfloat_with_epsilon (v, (40.5 + 20.125) / 2, 1e-12);
  g_assert_cmpint (sc_sweep_job_estimate (r, 1, 56, NULL, &v), ==, SC_SWEEP_INTERPOLATED);
  g_assert_cmpfloat_with_epsilon (v, (44.0 + 30.0) / 2, 1e-12);
  /* never beyond the measured counts: the value is left alone */
  v = -1;
  g_assert_cmpint (sc_sweep_job_estimate (r, 0, 15, NULL, &v), ==, SC_SWEEP_NOT_MEASURED);
  g_assert_cmpint (sc_sweep_job_estimate (r, 0, 4, NULL, &v), ==, SC_SWEEP_NOT_MEASURED);
  g_assert_cmpint (sc_sweep_job_estimate (r, 2, 48, NULL, &v), ==, SC_SWEEP_NOT_MEASURED);
  g_assert_cmpfloat (v, ==, -1);
  /* the mean over the pairs: measured only when every pair's set was */
  int kept[] = { 48, 48 };
  const char *sets[] = { r->kept_sets[1], r->kept_sets[4] };
  g_assert_cmpint (sc_sweep_job_estimate_mean (r, kept, sets, &v), ==, SC_SWEEP_MEASURED);
  g_assert_cmpfloat (v, ==, r->chrf[1]);
  const char *other[] = { r->kept_sets[1], "ffff" };
  g_assert_cmpint (sc_sweep_job_estimate_mean (r, kept, other, &v), ==, SC_SWEEP_INTERPOLATED);
  g_assert_cmpfloat (v, ==, r->chrf[1]);
  int outside[] = { 48, 8 };
  g_assert_cmpint (sc_sweep_job_estimate_mean (r, outside, NULL, &v), ==, SC_SWEEP_NOT_MEASURED);
  /* the ratio each point actually pruned */
  g_assert_cmpfloat (sc_sweep_job_point_pruned (r, 1), ==, 0.25);
  g_assert_cmpfloat (sc_sweep_job_point_pruned (r, 2), ==, 0.75);
  g_assert_cmpint (sc_sweep_job_find_direction (r, "eng_Latn-deu_Latn"), ==, 1);
  g_assert_cmpint (sc_sweep_job_find_direction (r, "eng_Latn-ita_Latn"), ==, -1);
}

/* A fingerprint names the experts kept, whatever bytes say "kept". */
static void
test_kept_set_id (void)
{
  guint8 a[40], b[40];
  memset (a, 1, sizeof a);
  memset (b, 7, sizeof b);
  g_autofree char *all = sc_sweep_kept_set_id (NULL, 40);
  g_autofree char *ones = sc_sweep_kept_set_id (a, 40);
  g_autofree char *sevens = sc_sweep_kept_set_id (b, 40);
  g_assert_cmpstr (all, ==, ones);
  g_assert_cmpstr (all, ==, sevens);
  a[39] = 0;
  g_autofree char *one_less = sc_sweep_kept_set_id (a, 40);
  g_assert_cmpstr (one_less, !=, all);
  g_assert_cmpuint (strlen (one_less), ==, 16);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sweep-record/round-trip", test_round_trip);
  g_test_add_func ("/sweep-record/not-finite", test_not_finite);
  g_test_add_func ("/sweep-record/hostile", test_hostile);
  g_test_add_func ("/sweep-record/estimate", test_estimate);
  g_test_add_func ("/sweep-record/kept-set-id", test_kept_set_id);
  return g_test_run ();
}
