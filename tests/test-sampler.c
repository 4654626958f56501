/* test-sampler.c: calibration sampling (MBS proportions with at least one
 * sample per direction, uniform, single language, chosen pairs), the
 * language-share table, determinism, and bad inputs. */
#include "sc-test-util.h"
#include "sc-sampler.h"

#include <string.h>

static guint
sum_counts (const ScSample *s)
{
  guint t = 0;
  for (guint i = 0; i < s->n_directions; i++)
    t += s->counts[i];
  return t;
}

static void
check_picks (const ScSample *s, const ScSampleDirection *dirs)
{
  g_assert_cmpuint (s->picks->len, ==, sum_counts (s));
  g_autofree guint *seen = g_new0 (guint, s->n_directions);
  for (guint k = 0; k < s->picks->len; k++)
    {
      ScSamplePick p = g_array_index (s->picks, ScSamplePick, k);
      g_assert_cmpuint (p.direction, <, s->n_directions);
      g_assert_cmpuint (p.item, <, dirs[p.direction].n_items);
      seen[p.direction]++;
    }
  for (guint i = 0; i < s->n_directions; i++)
    g_assert_cmpuint (seen[i], ==, s->counts[i]);
}

static ScShareTable *
load_shares (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = sc_test_path ("resources/language-shares/nllb-200.tsv");
  ScShareTable *t = sc_share_table_load (path, &error);
  g_assert_no_error (error);
  return t;
}

static void
test_share_table (void)
{
  g_autoptr (ScShareTable) t = load_shares ();
  g_assert_cmpuint (sc_share_table_size (t), ==, 202);
  double eng = 0, zul = 0, fra = 0;
  g_assert_true (sc_share_table_lookup (t, "eng_Latn", &eng));
  g_assert_true (sc_share_table_lookup (t, "fra_Latn", &fra));
  g_assert_true (sc_share_table_lookup (t, "zul_Latn", &zul));
  g_assert_false (sc_share_table_lookup (t, "xxx_Latn", NULL));
  g_assert_cmpfloat (eng, >, zul);
  g_assert_cmpfloat_with_epsilon (eng, fra, 1e-12);

  g_autoptr (GError) error = NULL;
  g_autoptr (ScShareTable) u = sc_share_table_parse ("# c\na 1\nb\t3\n\n", -1, "t", &error);
  g_assert_no_error (error);
  double b = 0;
  g_assert_true (sc_share_table_lookup (u, "b", &b));
  g_assert_cmpfloat_with_epsilon (b, 0.75, 1e-12);

  const char *bad[] = { "a\t-1\n",     "a\tx\n", "a\t1\t2\n", "a\t1\na\t2\n",
                        "# nothing\n", "a\t0\n", "a\tnan\n",  NULL };
  for (guint i = 0; bad[i]; i++)
    {
      ScShareTable *r = sc_share_table_parse (bad[i], -1, "t", &error);
      g_assert_null (r);
      g_assert_error (error, SC_SAMPLER_ERROR, SC_SAMPLER_ERROR_PARSE);
      g_clear_error (&error);
    }
  g_assert_null (sc_share_table_load ("/nonexistent/shares.tsv", &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  g_autoptr (ScShareTable) d = sc_share_table_load_default (&error);
  g_assert_no_error (error);
  g_assert_cmpuint (sc_share_table_size (d), ==, 202);
}

/* eng -> X for six languages of very different resource levels. */
static const ScSampleDirection dirs6[] = {
  { "eng_Latn", "fra_Latn", 50 }, { "eng_Latn", "deu_Latn", 50 }, { "eng_Latn", "hin_Deva", 40 },
  { "eng_Latn", "swh_Latn", 45 }, { "eng_Latn", "zul_Latn", 48 }, { "eng_Latn", "fuv_Latn", 3 },
};

static void
test_proportional (void)
{
  g_autoptr (ScShareTable) t = load_shares ();
  ScSamplerOptions o = { .mode = SC_SAMPLE_PROPORTIONAL, .n_samples = 100, .seed = 7, .shares = t };
  g_autoptr (GError) error = NULL;
  g_autoptr (ScSample) s = sc_sample_directions (dirs6, 6, &o, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sum_counts (s), ==, 100);
  check_picks (s, dirs6);
  for (guint i = 0; i < 6; i++)
    g_assert_cmpuint (s->counts[i], >=, 1);
  /* Weights 100, 100, 30, 5, 5, 1 (tiers of the shipped table; min with
   * eng's 100): fuv's quota 100/241 < 1 is fixed at 1; 99 over
   * 100:100:30:5:5 = 41.25, 41.25, 12.375, 2.0625, 2.0625 -> floors
   * 41, 41, 12, 2, 2 and the last one to the largest remainder (hin). */
  guint want[6] = { 41, 41, 13, 2, 2, 1 };
  for (guint i = 0; i < 6; i++)
    g_assert_cmpuint (s->counts[i], ==, want[i]);
  /* Per language: eng is on every direction. */
  g_assert_cmpuint (sc_sample_language_count (s, "eng_Latn"), ==, 100);
  g_assert_cmpuint (sc_sample_language_count (s, "hin_Deva"), ==, 13);
  g_assert_cmpuint (sc_sample_language_count (s, "ita_Latn"), ==, 0);
  g_assert_cmpstr (s->languages[0], ==, "eng_Latn");
  g_assert_cmpstr (s->languages[1], ==, "fra_Latn");
  g_assert_cmpuint (g_strv_length (s->languages), ==, 7);

  /* Items within a direction are distinct when the corpus is large enough. */
  for (guint d = 0; d < 6; d++)
    {
      g_autofree gboolean *used = g_new0 (gboolean, dirs6[d].n_items);
      for (guint k = 0; k < s->picks->len; k++)
        {
          ScSamplePick p = g_array_index (s->picks, ScSamplePick, k);
          if (p.direction != d)
            continue;
          g_assert_false (used[p.item]);
          used[p.item] = TRUE;
        }
    }

  g_autofree char *text = sc_sample_describe (s, dirs6);
  g_assert_nonnull (strstr (text, "100 samples from 6 of 6 directions"));
  g_assert_nonnull (strstr (text, "eng_Latn-hin_Deva"));

  /* Every N from 6 to 300 sums exactly, with at least one each. */
  for (guint n = 6; n <= 300; n++)
    {
      o.n_samples = n;
      g_autoptr (ScSample) r = sc_sample_directions (dirs6, 6, &o, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (sum_counts (r), ==, n);
      for (guint i = 0; i < 6; i++)
        g_assert_cmpuint (r->counts[i], >=, 1);
      check_picks (r, dirs6);
    }
}

static gboolean
same_picks (const ScSample *a, const ScSample *b)
{
  if (a->picks->len != b->picks->len)
    return FALSE;
  return memcmp (a->picks->data, b->picks->data, a->picks->len * sizeof (ScSamplePick)) == 0;
}

static void
test_deterministic (void)
{
  g_autoptr (ScShareTable) t = load_shares ();
  ScSamplerOptions o = {
    .mode = SC_SAMPLE_PROPORTIONAL, .n_samples = 60, .seed = 1234, .shares = t
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (ScSample) a = sc_sample_directions (dirs6, 6, &o, &error);
  g_autoptr (ScSample) b = sc_sample_directions (dirs6, 6, &o, &error);
  o.seed = 1235;
  g_autoptr (ScSample) c = sc_sample_directions (dirs6, 6, &o, &error);
  g_assert_no_error (error);
  g_assert_true (same_picks (a, b));
  g_assert_false (same_picks (a, c));
  /* Counts do not depend on the seed. */
  g_assert_cmpmem (a->counts, 6 * sizeof (guint), c->counts, 6 * sizeof (guint));

  /* More picks than items: each full pass covers every item once. */
  ScSampleDirection small[] = { { "eng_Latn", "fra_Latn", 3 } };
  ScSamplerOptions u = { .mode = SC_SAMPLE_UNIFORM, .n_samples = 7, .seed = 5 };
  g_autoptr (ScSample) s = sc_sample_directions (small, 1, &u, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (s->picks->len, ==, 7);
  guint hist[3] = { 0, 0, 0 };
  for (guint k = 0; k < 7; k++)
    hist[g_array_index (s->picks, ScSamplePick, k).item]++;
  for (guint k = 0; k < 3; k++)
    g_assert_cmpuint (hist[k], >=, 2);
  guint first[3] = { 0, 0, 0 };
  for (guint k = 0; k < 3; k++)
    first[g_array_index (s->picks, ScSamplePick, k).item]++;
  for (guint k = 0; k < 3; k++)
    g_assert_cmpuint (first[k], ==, 1);
}

static void
test_uniform (void)
{
  ScSamplerOptions o = { .mode = SC_SAMPLE_UNIFORM, .n_samples = 100, .seed = 3 };
  g_autoptr (GError) error = NULL;
  g_autoptr (ScSample) s = sc_sample_directions (dirs6, 6, &o, &error);
  g_assert_no_error (error);
  /* 100 / 6 = 16.67: the first four (ties by index) get 17, the rest 16. */
  guint want[6] = { 17, 17, 17, 17, 16, 16 };
  for (guint i = 0; i < 6; i++)
    g_assert_cmpuint (s->counts[i], ==, want[i]);
  check_picks (s, dirs6);

  /* Monolingual units (tgt NULL) and fewer samples than units. */
  ScSampleDirection mono[] = { { "eng_Latn", NULL, 10 },
                               { "fra_Latn", NULL, 10 },
                               { "deu_Latn", "deu_Latn", 10 } };
  o.n_samples = 2;
  g_autoptr (ScSample) m = sc_sample_directions (mono, 3, &o, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (m->counts[0], ==, 1);
  g_assert_cmpuint (m->counts[1], ==, 1);
  g_assert_cmpuint (m->counts[2], ==, 0);
  g_assert_cmpuint (g_strv_length (m->languages), ==, 3);
  g_assert_cmpuint (sc_sample_language_count (m, "deu_Latn"), ==, 0);
  g_assert_cmpuint (sc_sample_language_count (m, "eng_Latn"), ==, 1);
}

static void
test_single_and_pairs (void)
{
  ScSampleDirection dirs[] = {
    { "eng_Latn", "fra_Latn", 50 },
    { "fra_Latn", "eng_Latn", 50 },
    { "eng_Latn", "deu_Latn", 50 },
    { "deu_Latn", "fra_Latn", 50 },
  };
  g_autoptr (GError) error = NULL;
  ScSamplerOptions o = {
    .mode = SC_SAMPLE_SINGLE, .n_samples = 9, .seed = 1, .language = "eng_Latn"
  };
  g_autoptr (ScSample) s = sc_sample_directions (dirs, 4, &o, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (s->counts[0], ==, 5);
  g_assert_cmpuint (s->counts[1], ==, 0);
  g_assert_cmpuint (s->counts[2], ==, 4);
  g_assert_cmpuint (s->counts[3], ==, 0);
  check_picks (s, dirs);
  g_assert_cmpuint (sc_sample_language_count (s, "eng_Latn"), ==, 9);

  /* A language only ever on the target side. */
  ScSampleDirection to_hin[] = { { "eng_Latn", "hin_Deva", 5 }, { "fra_Latn", "deu_Latn", 5 } };
  o.language = "hin_Deva";
  g_autoptr (ScSample) h = sc_sample_directions (to_hin, 2, &o, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (h->counts[0], ==, 9);
  g_assert_cmpuint (h->counts[1], ==, 0);

  o.language = "zul_Latn";
  g_assert_null (sc_sample_directions (dirs, 4, &o, &error));
  g_assert_error (error, SC_SAMPLER_ERROR, SC_SAMPLER_ERROR_LANGUAGE);
  g_assert_nonnull (strstr (error->message, "zul_Latn"));
  g_clear_error (&error);

  const char *pairs[] = { "fra_Latn-eng_Latn", "deu_Latn-fra_Latn", NULL };
  ScSamplerOptions p = { .mode = SC_SAMPLE_PAIRS, .n_samples = 11, .seed = 2, .pairs = pairs };
  g_autoptr (ScSample) q = sc_sample_directions (dirs, 4, &p, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (q->counts[0], ==, 0);
  g_assert_cmpuint (q->counts[1], ==, 6);
  g_assert_cmpuint (q->counts[2], ==, 0);
  g_assert_cmpuint (q->counts[3], ==, 5);
  check_picks (q, dirs);
  for (guint k = 0; k < q->picks->len; k++)
    {
      guint d = g_array_index (q->picks, ScSamplePick, k).direction;
      g_assert_true (d == 1 || d == 3);
    }

  const char *bad_pairs[] = { "eng_Latn-zul_Latn", NULL };
  p.pairs = bad_pairs;
  g_assert_null (sc_sample_directions (dirs, 4, &p, &error));
  g_assert_error (error, SC_SAMPLER_ERROR, SC_SAMPLER_ERROR_LANGUAGE);
  g_assert_nonnull (strstr (error->message, "eng_Latn-zul_Latn"));
  g_clear_error (&error);
}

static void
test_bad_inputs (void)
{
  g_autoptr (ScShareTable) t = load_shares ();
  g_autoptr (GError) error = NULL;
  ScSamplerOptions o = { .mode = SC_SAMPLE_PROPORTIONAL, .n_samples = 5, .seed = 1, .shares = t };
  /* Fewer samples than directions. */
  g_assert_null (sc_sample_directions (dirs6, 6, &o, &error));
  g_assert_error (error, SC_SAMPLER_ERROR, SC_SAMPLER_ERROR_INVALID);
  g_clear_error (&error);
  /* No share table. */
  o.n_samples = 10;
  o.shares = NULL;
  g_assert_null (sc_sample_directions (dirs6, 6, &o, &error));
  g_assert_error (error, SC_SAMPLER_ERROR, SC_SAMPLER_ERROR_INVALID);
  g_clear_error (&error);
  /* A language the table does not list. */
  o.shares = t;
  ScSampleDirection unk[] = { { "eng_Latn", "tlh_Latn", 10 } };
  g_assert_null (sc_sample_directions (unk, 1, &o, &error));
  g_assert_error (error, SC_SAMPLER_ERROR, SC_SAMPLER_ERROR_LANGUAGE);
  g_assert_nonnull (strstr (error->message, "tlh_Latn"));
  g_clear_error (&error);
  /* Zero samples, no directions, empty corpus, missing options. */
  o.n_samples = 0;
  g_assert_null (sc_sample_directions (dirs6, 6, &o, &error));
  g_assert_error (error, SC_SAMPLER_ERROR, SC_SAMPLER_ERROR_INVALID);
  g_clear_error (&error);
  o.n_samples = 10;
  g_assert_null (sc_sample_directions (dirs6, 0, &o, &error));
  g_assert_error (error, SC_SAMPLER_ERROR, SC_SAMPLER_ERROR_INVALID);
  g_clear_error (&error);
  ScSampleDirection empty[] = { { "eng_Latn", "fra_Latn", 0 } };
  g_assert_null (sc_sample_directions (empty, 1, &o, &error));
  g_assert_error (error, SC_SAMPLER_ERROR, SC_SAMPLER_ERROR_INVALID);
  g_clear_error (&error);
  ScSampleDirection nosrc[] = { { NULL, "fra_Latn", 3 } };
  g_assert_null (sc_sample_directions (nosrc, 1, &o, &error));
  g_assert_error (error, SC_SAMPLER_ERROR, SC_SAMPLER_ERROR_INVALID);
  g_clear_error (&error);
  ScSamplerOptions s = { .mode = SC_SAMPLE_SINGLE, .n_samples = 3 };
  g_assert_null (sc_sample_directions (dirs6, 6, &s, &error));
  g_assert_error (error, SC_SAMPLER_ERROR, SC_SAMPLER_ERROR_INVALID);
  g_clear_error (&error);
  ScSamplerOptions p = { .mode = SC_SAMPLE_PAIRS, .n_samples = 3 };
  g_assert_null (sc_sample_directions (dirs6, 6, &p, &error));
  g_assert_error (error, SC_SAMPLER_ERROR, SC_SAMPLER_ERROR_INVALID);
  g_clear_error (&error);
  ScSamplerOptions m = { .mode = (ScSampleMode) 42, .n_samples = 3 };
  g_assert_null (sc_sample_directions (dirs6, 6, &m, &error));
  g_assert_error (error, SC_SAMPLER_ERROR, SC_SAMPLER_ERROR_INVALID);
  g_clear_error (&error);
}

/* A model's training shares: the demo model's own table, NLLB-200's for a
 * model that ships none; a missing model folder is NLLB-200's too. */
static void
test_shares_for_model (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *demo = sc_test_path ("resources/models/demo");
  g_autofree char *own_path = g_build_filename (demo, "language-shares.tsv", NULL);
  g_autoptr (ScShareTable) own = sc_share_table_load (own_path, &error);
  g_assert_no_error (error);
  g_autoptr (ScShareTable) t = sc_share_table_load_for_model (demo, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sc_share_table_size (t), ==, sc_share_table_size (own));
  g_assert_cmpuint (sc_share_table_size (t), <, 202);
  double a, b;
  g_assert_true (sc_share_table_lookup (t, "eng_Latn", &a));
  g_assert_true (sc_share_table_lookup (own, "eng_Latn", &b));
  g_assert_cmpfloat (a, ==, b);
  g_autofree char *tiny = sc_test_path ("tests/fixtures/m2m-tiny");
  g_autoptr (ScShareTable) nllb = sc_share_table_load_for_model (tiny, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sc_share_table_size (nllb), ==, 202);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sampler/share-table", test_share_table);
  g_test_add_func ("/sampler/proportional", test_proportional);
  g_test_add_func ("/sampler/deterministic", test_deterministic);
  g_test_add_func ("/sampler/uniform", test_uniform);
  g_test_add_func ("/sampler/single-and-pairs", test_single_and_pairs);
  g_test_add_func ("/sampler/bad-inputs", test_bad_inputs);
  g_test_add_func ("/sampler/shares-for-model", test_shares_for_model);
  return g_test_run ();
}
