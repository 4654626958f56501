/* test-jobs.c: the evaluate, sweep and sparsify jobs (engine/jobs/) on the
 * tiny NLLB-MoE fixture: the sentences they read, their scores against
 * the metrics and the masked model, one progress report over both sides,
 * cancellation as G_IO_ERROR_CANCELLED with the model left whole, the
 * sweep's points (one per kept set) against single evaluations, and
 * weight pruning with and without the per-language comparison. */
#include "sc-calibrate.h"
#include "sc-corpus.h"
#include "sc-evaluate-job.h"
#include "sc-language-quality.h"
#include "sc-metrics.h"
#include "sc-sparsify-job.h"
#include "sc-sweep-job.h"
#include "sc-test-util.h"

#include <math.h>
#include <string.h>

static ScModel *model;
static char *model_dir;

/* four experts of eight kept in each of the four MoE layers */
static void
fill_keep (guint8 keep[32])
{
  static const int kept[4][4] = { { 0, 2, 5, 7 }, { 1, 2, 3, 6 }, { 0, 1, 4, 6 }, { 2, 3, 5, 7 } };
  memset (keep, 0, 32);
  for (int m = 0; m < 4; m++)
    for (int i = 0; i < 4; i++)
      keep[m * 8 + kept[m][i]] = 1;
}

typedef struct
{
  int reports;
  gint64 last_done, total;
  char *stage;
  GCancellable *cancel_after_first;
} Trace;

static void
on_progress (const ScProgress *p, gpointer data)
{
  Trace *t = data;
  if (g_strcmp0 (t->stage, p->stage) != 0)
    t->last_done = 0; /* a new stage counts from 0 */
  g_assert_cmpint (p->done, >=, t->last_done);
  g_assert_cmpint (p->done, <=, p->total);
  t->reports++;
  t->last_done = p->done;
  t->total = p->total;
  g_free (t->stage);
  t->stage = g_strdup (p->stage);
  if (t->cancel_after_first != NULL && p->done > 0)
    g_cancellable_cancel (t->cancel_after_first);
}

static void
init_options (ScEvaluateJobOptions *o, ScExpertSet *experts)
{
  sc_evaluate_job_options_init (o, model, "eng_Latn", "fra_Latn");
  o->gen.num_beams = 1;
  o->gen.max_length = 12;
  o->experts = experts;
  o->limit = 3;
  o->batch_size = 1;
}

/* Without sentences the job reads the model's held-out set (this fixture
 * ships none: the UDHR's held-out articles); scores are the metrics of the
 * translations; the pruned side is the masked model's. */
static void
test_evaluate (void)
{
  guint8 keep[32];
  fill_keep (keep);
  g_autoptr (ScExpertSet) experts = sc_expert_set_new_from_keep (keep, 4, 8);
  ScEvaluateJobOptions o;
  init_options (&o, experts);
  o.sentence_scores = TRUE;
  Trace t = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (ScEvaluateJobResult) r =
      sc_evaluate_job_run (model, &o, on_progress, &t, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (r->n, ==, 3);
  g_autoptr (GPtrArray) pairs =
      sc_corpus_held_out_pairs (model_dir, "eng_Latn", "fra_Latn", &error);
  g_assert_no_error (error);
  for (int i = 0; i < 3; i++)
    {
      g_assert_cmpstr (r->sources[i], ==, ((ScCorpusPair *) pairs->pdata[i])->source);
      g_assert_cmpstr (r->references[i], ==, ((ScCorpusPair *) pairs->pdata[i])->target);
    }
  /* one count over both sides, one report per batch of one */
  g_assert_cmpstr (t.stage, ==, "translate");
  g_assert_cmpint (t.total, ==, 6);
  g_assert_cmpint (t.last_done, ==, 6);
  g_assert_cmpint (t.reports, ==, 6);
  g_free (t.stage);

  g_assert_true (r->has_full && r->has_pruned);
  ScMetricConfig cfg;
  sc_metric_config_init (&cfg, SC_METRIC_CHRF_PP);
  g_autoptr (ScMetric) chrf = sc_metric_new (&cfg, &error);
  const ScEvaluateJobSide *sides[] = { &r->full, &r->pruned };
  for (int s = 0; s < 2; s++)
    {
      const ScEvaluateJobSide *side = sides[s];
      g_assert_cmpuint (side->scores.hyps->len, ==, 3);
      g_assert_cmpfloat (side->tokens_per_s, >, 0);
      g_ptr_array_add (side->scores.hyps, NULL);
      const char *const *streams[] = { (const char *const *) r->references, NULL };
      ScMetricScore score;
      g_assert_true (sc_metric_corpus_score (chrf, (const char *const *) side->scores.hyps->pdata,
                                             streams, &score, &error));
      g_ptr_array_remove_index (side->scores.hyps, 3);
      g_assert_cmpfloat (side->scores.chrf_pp, ==, score.score);
      g_assert_cmpfloat (side->scores.spbleu, >=, 0);
      g_assert_cmpfloat (side->scores.nll, ==, 0); /* not asked for */
      for (int i = 0; i < 3; i++)
        {
          const char *one[] = { r->references[i], NULL };
          g_assert_true (
              sc_metric_sentence_score (chrf, side->scores.hyps->pdata[i], one, &score, &error));
          g_assert_cmpfloat (side->sentence_chrf[i], ==, score.score);
        }
    }
  g_autoptr (ScView) pruned = sc_view_new (model, experts, &error);
  g_assert_no_error (error);
  g_auto (GStrv) masked = sc_translate (pruned, (const char *const *) r->sources, 3, "eng_Latn",
                                        "fra_Latn", &o.gen, 3, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  int same = 0;
  for (int i = 0; i < 3; i++)
    {
      g_assert_cmpstr (masked[i], ==, r->pruned.scores.hyps->pdata[i]);
      same += g_str_equal (masked[i], r->full.scores.hyps->pdata[i]);
    }
  g_assert_cmpfloat (r->agreement, ==, same / 3.0);
}

/* Typed text: translations, nothing scored. */
static void
test_evaluate_typed (void)
{
  const char *typed[] = { "Everyone has the right to education.", NULL };
  ScEvaluateJobOptions o;
  init_options (&o, NULL);
  o.sources = typed;
  o.n = 1;
  o.sentence_scores = TRUE;
  o.nll = TRUE;
  g_autoptr (GError) error = NULL;
  g_autoptr (ScEvaluateJobResult) r = sc_evaluate_job_run (model, &o, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (r->has_full);
  g_assert_false (r->has_pruned);
  g_assert_null (r->references);
  g_assert_cmpuint (r->full.scores.hyps->len, ==, 1);
  g_assert_cmpfloat (r->full.scores.chrf_pp, ==, -1);
  g_assert_cmpfloat (r->full.scores.spbleu, ==, -1);
  g_assert_null (r->full.sentence_chrf);
}

/* Cancelled while the pruned side translates: G_IO_ERROR_CANCELLED, no
 * result. */
static void
test_evaluate_cancel (void)
{
  guint8 keep[32];
  fill_keep (keep);
  g_autoptr (ScExpertSet) experts = sc_expert_set_new_from_keep (keep, 4, 8);
  ScEvaluateJobOptions o;
  init_options (&o, experts);
  o.full = FALSE;
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  Trace t = { .cancel_after_first = cancel };
  g_autoptr (GError) error = NULL;
  g_autoptr (ScEvaluateJobResult) r =
      sc_evaluate_job_run (model, &o, on_progress, &t, cancel, &error);
  g_assert_null (r);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (t.last_done, ==, 1);
  g_assert_cmpint (t.total, ==, 3);
  g_free (t.stage);
}

static ScStats *
calibrated_stats (void)
{
  g_autofree char *udhr = sc_corpus_default_udhr_dir ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) pairs =
      sc_corpus_udhr_pairs (udhr, "eng_Latn", "fra_Latn", SC_CORPUS_SPLIT_CALIBRATION, &error);
  g_assert_no_error (error);
  ScCalibrationItem items[6];
  for (int i = 0; i < 6; i++)
    {
      ScCorpusPair *p = pairs->pdata[i];
      items[i] = (ScCalibrationItem){ "eng_Latn", "fra_Latn", p->source, p->target };
    }
  ScStats *stats = sc_stats_new (sc_model_get_moe_shape (model));
  ScCalibrateOptions copts;
  sc_calibrate_options_init (&copts, model);
  g_autoptr (ScView) full = sc_view_new (model, NULL, &error);
  g_assert_true (sc_calibrate (full, stats, items, 6, &copts, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  return stats;
}

/* Each point is the evaluate job's chrF++ at a kept set: the full model
 * at 0, the experts sc_prune_keep_mask keeps elsewhere. With 3:1 on 2 + 2
 * MoE layers of 8 experts, 0.5 keeps 6 + 2 per layer (16), 0.55 and 0.6
 * both 3 + 1 (8): 0.6 is no new point. */
static void
test_sweep (void)
{
  g_autoptr (ScStats) stats = calibrated_stats ();
  const char *dirs[] = { "eng_Latn-fra_Latn", NULL };
  const double ratios[] = { 0.0, 0.5, 0.55, 0.6 };
  ScSweepJobOptions so = { dirs, stats, { 0 }, ratios, 4, 2, 12, "test calibration" };
  sc_prune_settings_init (&so.settings);
  so.settings.metric = SC_EXPERT_METRIC_FREQUENCY;
  Trace t = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (ScSweepJobResult) r = sc_sweep_job_run (model, &so, on_progress, &t, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (t.stage, ==, "sweep");
  g_assert_cmpint (t.last_done, ==, 3);
  g_free (t.stage);
  g_assert_cmpint (r->n_ratios, ==, 3);
  g_assert_cmpint (r->n_directions, ==, 1);
  /* what the run was measured with */
  static const int want_kept[] = { 32, 16, 8 };
  g_assert_cmpint (r->experts_total, ==, 32);
  g_assert_cmpint (r->settings.metric, ==, SC_EXPERT_METRIC_FREQUENCY);
  g_assert_cmpint (r->settings.enc_weight, ==, 3);
  g_assert_cmpfloat (r->settings.ratio, ==, 0);
  g_assert_cmpint (r->sentences[0], ==, 2);
  g_assert_cmpint (r->num_beams, ==, 1);
  g_assert_cmpint (r->max_length, ==, 12);
  g_assert_cmpstr (r->held_out, ==, "UDHR"); /* the fixture has no heldout.tsv */
  g_assert_cmpstr (r->calibration, ==, "test calibration");
  g_assert_cmpint (r->created, >, 0);
  for (int k = 0; k < 3; k++)
    {
      g_assert_cmpfloat (r->ratios[k], ==, ratios[k]);
      g_assert_cmpint (r->kept[k], ==, want_kept[k]);
      g_assert_cmpfloat_with_epsilon (sc_sweep_job_point_pruned (r, k), 1 - want_kept[k] / 32.0,
                                      1e-12);
      ScPruneSettings s = so.settings;
      s.ratio = ratios[k];
      g_autofree guint8 *keep =
          k > 0 ? sc_prune_keep_mask (stats, &s, "eng_Latn", "fra_Latn", &error) : NULL;
      g_assert_no_error (error);
      g_autofree char *id = sc_sweep_kept_set_id (keep, 32);
      g_assert_cmpstr (r->kept_sets[k], ==, id);
      ScEvaluateJobOptions o;
      sc_evaluate_job_options_init (&o, model, "eng_Latn", "fra_Latn");
      o.gen.num_beams = 1;
      o.gen.max_length = MIN (o.gen.max_length, 12);
      o.limit = 2;
      o.full = keep == NULL;
      g_autoptr (ScExpertSet) experts = sc_evaluate_job_experts (model, keep);
      o.experts = experts;
      g_autoptr (ScEvaluateJobResult) e = sc_evaluate_job_run (model, &o, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      double want = (k == 0 ? &e->full : &e->pruned)->scores.chrf_pp;
      g_assert_cmpfloat (r->scores[k], ==, want);
      g_assert_cmpfloat (r->chrf[k], ==, want);
    }
  /* ratios that do not ascend are refused */
  const double bad[] = { 0.5, 0.25 };
  so.ratios = bad;
  so.n_ratios = 2;
  g_assert_null (sc_sweep_job_run (model, &so, NULL, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

static guint64
zeros_of_linear (ScModel *m, int i)
{
  const ScTensor *w = sc_model_get_linear_weight (m, i);
  gint64 n = 1;
  for (int d = 0; d < w->n_dims; d++)
    n *= w->shape[d];
  g_autofree float *v = g_new (float, n);
  sc_tensor_read_f32 (w, 0, n, v);
  guint64 zeros = 0;
  for (gint64 k = 0; k < n; k++)
    zeros += v[k] == 0;
  return zeros;
}

/* Magnitude pruning: half of every layer, summed per block; with the
 * comparison the model as loaded stays whole and each language is
 * measured on both; the export carries the record. */
static void
test_sparsify (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ScModel) own = sc_model_load (model_dir, NULL, &error);
  g_assert_no_error (error);
  guint64 zeros_before = zeros_of_linear (own, 0);
  const char *langs[] = { "fra_Latn", NULL };
  ScSparsifyJobOptions o;
  sc_sparsify_job_options_init (&o);
  o.sparsify.method = SC_SPARSITY_MAGNITUDE;
  o.sparsify.pattern.ratio = 0.5;
  o.eval_languages = langs;
  o.eval_sentences = 1;
  o.eval_max_length = 8;
  Trace t = { 0 };
  g_autoptr (ScSparsifyJobResult) r =
      sc_sparsify_job_run (own, NULL, &o, on_progress, &t, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (t.stage, ==, "measure");
  g_assert_cmpint (t.last_done, ==, 2);
  g_free (t.stage);
  g_assert_cmpint (r->n_blocks, ==, sc_model_n_blocks (own));
  g_assert_cmpint (r->n_encoder_blocks, ==, sc_model_get_config (own)->encoder_layers);
  for (int b = 0; b < r->n_blocks; b++)
    g_assert_cmpfloat (fabs (r->block_sparsity[b] - 0.5), <, 1e-3);
  g_assert_null (r->calibration);
  g_assert_cmpuint (r->n_languages, ==, 1);
  g_assert_cmpstr (r->languages[0].lang, ==, "fra_Latn");
  g_assert_cmpint (r->languages[0].n, ==, 1);
  g_assert_cmpfloat (r->threshold, ==, 0.1);
  /* the model as loaded is untouched */
  g_assert_cmpuint (zeros_of_linear (own, 0), ==, zeros_before);
  g_assert_cmpstr (json_object_get_string_member (
                       json_object_get_object_member (r->record, "calibration"), "sampling"),
                   ==, "none");

  g_autofree char *tmp = g_dir_make_tmp ("secateur-jobs-XXXXXX", &error);
  g_autofree char *out = g_build_filename (tmp, "pruned", NULL);
  ScExportOptions eo = { 0 };
  g_assert_true (sc_sparsify_job_export (r, out, &eo, NULL, &error));
  g_assert_no_error (error);
  g_autoptr (ScModel) back = sc_model_load (out, NULL, &error);
  g_assert_no_error (error);
  ScLinearInfo info;
  sc_model_get_linear (back, 0, &info);
  guint64 half = (guint64) info.n_out * info.n_in / 2;
  g_assert_cmpuint (zeros_of_linear (back, 0), >=, half);
  g_assert_cmpuint (zeros_of_linear (back, 0), <=, half + half / 1000);
  sc_test_rm_tree (tmp);
}

/* The interval of a language's change over its sentences: two sentences
 * that disagree leave a large change within noise (not degraded), many
 * that agree make a small change a finding; one sentence knows nothing. */
static void
test_lang_quality_interval (void)
{
  ScLangQualityRow row = { .before = 40, .after = 20, .n = 2 };
  const double b2[] = { 40, 40 }, a2[] = { 70, 0 };
  sc_lang_quality_set_interval (&row, b2, a2, 2);
  g_assert_true (row.has_interval);
  g_assert_cmpfloat (row.change_low, <, 0);
  g_assert_cmpfloat (row.change_high, >, 0);
  g_assert_true (sc_lang_quality_within_noise (&row));
  g_assert_false (sc_lang_quality_degraded (&row, SC_LANG_QUALITY_CHRF, 0.05));
  /* without the interval the same numbers were a finding */
  row.has_interval = FALSE;
  g_assert_true (sc_lang_quality_degraded (&row, SC_LANG_QUALITY_CHRF, 0.05));

  double b[40], a[40];
  for (int i = 0; i < 40; i++)
    b[i] = 50 + (i % 5), a[i] = b[i] - 5 - (i % 3) * 0.5;
  ScLangQualityRow many = { .before = 52, .after = 46.5, .n = 40 };
  sc_lang_quality_set_interval (&many, b, a, 40);
  g_assert_cmpfloat (many.change_high, <, 0);
  g_assert_cmpfloat (many.change_low, <, many.change_high);
  g_assert_cmpfloat (many.change_low, <=, sc_lang_quality_change (&many));
  g_assert_cmpfloat (many.change_high, >=, sc_lang_quality_change (&many));
  g_assert_true (sc_lang_quality_degraded (&many, SC_LANG_QUALITY_CHRF, 0.05));

  ScLangQualityRow one = { .before = 40, .after = 10, .n = 1 };
  sc_lang_quality_set_interval (&one, b, a, 1);
  g_assert_true (sc_lang_quality_within_noise (&one));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  model_dir = sc_test_path ("tests/fixtures/nllb-moe-tiny");
  g_autoptr (GError) error = NULL;
  model = sc_model_load (model_dir, NULL, &error);
  g_assert_no_error (error);
  g_test_add_func ("/jobs/evaluate", test_evaluate);
  g_test_add_func ("/jobs/evaluate-typed", test_evaluate_typed);
  g_test_add_func ("/jobs/evaluate-cancel", test_evaluate_cancel);
  g_test_add_func ("/jobs/sweep", test_sweep);
  g_test_add_func ("/jobs/sparsify", test_sparsify);
  g_test_add_func ("/jobs/lang-quality-interval", test_lang_quality_interval);
  int ret = g_test_run ();
  sc_model_free (model);
  g_free (model_dir);
  return ret;
}
