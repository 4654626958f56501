/* test-batched-decode.c: a batch is translated as its sentences are alone
 * (the same tokens), at the cost of the sentences' real lengths: no encoder
 * row for padding, no decoder step for a sentence already ended (issue 15's
 * sweep, sc-generate.c); and the quality sweep scores exactly what one
 * evaluate job per point at one sentence per batch scores. */
#include "sc-test-util.h"
#include "sc-calibrate-job.h"
#include "cpu/sc-cpu-gemm.h"
#include "sc-generate.h"
#include "sc-model.h"
#include "sc-sweep-job.h"
#include "sc-view.h"

#include <string.h>

/* The demo's held-out English, from a word to a 60-piece option list:
 * outputs of very different lengths, one running to the limit. */
static const char *const texts[] = {
  "Work",
  "-R, -r, --recursive copy directories recursively --reflink[=WHEN] control clone/CoW copies. "
  "See below --remove-destination remove each existing destination file before attempting to "
  "open it (contrast with --force)",
  "no data left in message",
  "--merge-base only works with two commits",
  "Invalid root directory '%s'",
  "include untracked files in the stash",
  "Credentials cache permissions incorrect",
  "Northern Mashan Hmong",
};
#define N_TEXTS ((int) G_N_ELEMENTS (texts))

typedef struct
{
  int enc_linear, dec_linear; /* the first layer's query projections */
  guint64 enc_rows, dec_rows;
} Rows;

static void
count_rows (int linear, const float *x, int n_rows, gpointer data)
{
  Rows *r = data;
  if (linear == r->enc_linear)
    r->enc_rows += n_rows;
  else if (linear == r->dec_linear)
    r->dec_rows += n_rows;
}

static int
find_linear (ScModel *model, const char *name)
{
  for (int i = 0; i < sc_model_n_linears (model); i++)
    {
      ScLinearInfo info;
      sc_model_get_linear (model, i, &info);
      if (strstr (info.name, name) != NULL)
        return i;
    }
  g_assert_not_reached ();
}

static ScModel *
load (const char *rel)
{
  g_autofree char *dir = sc_test_path (rel);
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    return NULL;
  g_autoptr (GError) error = NULL;
  ScModel *model = sc_model_load (dir, NULL, &error);
  g_assert_no_error (error);
  return model;
}

static void
check_model (const char *rel, int max_length)
{
  g_autoptr (ScModel) model = load (rel);
  if (model == NULL)
    {
      g_test_skip ("model not shipped");
      return;
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (ScView) view = sc_view_new (model, NULL, &error);
  g_assert_no_error (error);
  ScGenerateOptions opts;
  sc_generate_options_init (&opts, model);
  opts.num_beams = 1;
  opts.max_length = max_length;
  Rows one = { find_linear (model, "encoder.layers.0.self_attn.q_proj"),
               find_linear (model, "decoder.layers.0.self_attn.q_proj") };
  Rows batch = one;

  /* alone: exactly the sentence's tokens and steps */
  g_auto (GStrv) alone = g_new0 (char *, N_TEXTS + 1);
  sc_view_set_linear_observer (view, count_rows, &one);
  for (int i = 0; i < N_TEXTS; i++)
    {
      g_auto (GStrv) out = sc_translate (view, &texts[i], 1, "eng_Latn", "deu_Latn", &opts, 1, NULL,
                                         NULL, NULL, &error);
      g_assert_no_error (error);
      alone[i] = g_strdup (out[0]);
    }

  sc_view_set_linear_observer (view, count_rows, &batch);
  g_auto (GStrv) together = sc_translate (view, texts, N_TEXTS, "eng_Latn", "deu_Latn", &opts,
                                          N_TEXTS, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  sc_view_set_linear_observer (view, NULL, NULL);
  for (int i = 0; i < N_TEXTS; i++)
    g_assert_cmpstr (together[i], ==, alone[i]);
  g_assert_cmpuint (batch.enc_rows, ==, one.enc_rows);
  g_assert_cmpuint (batch.dec_rows, ==, one.dec_rows);

  /* padded, the batch would have cost N_TEXTS times the longest */
  ScTokenizer *tok = sc_model_get_tokenizer (model);
  guint longest = 0;
  for (int i = 0; i < N_TEXTS; i++)
    {
      g_autoptr (GArray) ids = sc_tokenizer_encode (tok, texts[i], "eng_Latn", &error);
      g_assert_no_error (error);
      longest = MAX (longest, ids->len);
    }
  g_assert_cmpuint (one.enc_rows, <, (guint64) N_TEXTS * longest / 2);
  g_test_message ("%s: encoder rows %" G_GUINT64_FORMAT
                  " (padded %u), decoder rows %" G_GUINT64_FORMAT,
                  rel, one.enc_rows, N_TEXTS * longest, one.dec_rows);
}

/* The trained demo model ends its sentences at different steps. */
static void
test_demo (void)
{
  check_model ("resources/models/demo", 48);
}

/* f32 weights (the random fixture rarely ends a sentence). */
static void
test_f32_fixture (void)
{
  check_model ("tests/fixtures/nllb-moe-tiny", 12);
}

/* With f32 weights, a decoding step computes a row's logits bit for bit as
 * when the row is decoded alone: a step's few-row products all take the
 * kernel that sums each output in one order whatever the rows (before, 2 to
 * 16 rows went to sgemm and one row to the kernel). */
static void
test_f32_step_logits (void)
{
  if (!sc_cpu_gemm_available ())
    {
      g_test_skip ("this CPU has no AVX2/FMA/F16C few-row kernel");
      return;
    }
  g_autoptr (ScModel) model = load ("tests/fixtures/nllb-moe-tiny");
  if (model == NULL)
    {
      g_test_skip ("fixture not generated");
      return;
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (ScView) view = sc_view_new (model, NULL, &error);
  g_assert_no_error (error);
  ScTokenizer *tok = sc_model_get_tokenizer (model);
  g_autoptr (GArray) src = sc_tokenizer_encode (tok, "include untracked files", "eng_Latn", &error);
  g_assert_no_error (error);
  int len = (int) src->len;
  g_autoptr (ScEncoding) enc = sc_view_encode (view, (int *) src->data, &len, 1, len, &error);
  g_assert_no_error (error);

  enum { ROWS = 4, STEPS = 3 };
  /* each row its own prefix of token ids; all read the one source */
  int tokens[STEPS][ROWS] = { { 2, 2, 2, 2 }, { 10, 11, 12, 13 }, { 20, 33, 47, 51 } };
  int src_rows[ROWS] = { 0 };
  g_autoptr (ScDecoder) batch = sc_decoder_new (view, enc, ROWS, src_rows, STEPS, &error);
  g_assert_no_error (error);
  int V = sc_model_get_config (model)->vocab_size;
  g_autofree float *together = g_new (float, (gsize) STEPS * ROWS * V);
  for (int t = 0; t < STEPS; t++)
    {
      g_assert_true (sc_decoder_forward (batch, tokens[t], 1, together + (gsize) t * ROWS * V,
                                         TRUE, &error));
      g_assert_no_error (error);
    }
  g_autofree float *alone = g_new (float, V);
  for (int r = 0; r < ROWS; r++)
    {
      g_autoptr (ScDecoder) one = sc_decoder_new (view, enc, 1, src_rows, STEPS, &error);
      g_assert_no_error (error);
      for (int t = 0; t < STEPS; t++)
        {
          g_assert_true (sc_decoder_forward (one, &tokens[t][r], 1, alone, TRUE, &error));
          g_assert_no_error (error);
          const float *row = together + ((gsize) t * ROWS + r) * V;
          g_assert_cmpmem (row, sizeof (float) * V, alone, sizeof (float) * V);
        }
    }
}

/* The application's sweep against one evaluate job per point, batch 1. */
static void
test_sweep_scores (void)
{
  g_autoptr (ScModel) model = load ("resources/models/demo");
  if (model == NULL)
    {
      g_test_skip ("the demo model is not shipped");
      return;
    }
  g_autoptr (GError) error = NULL;
  const char *const directions[] = { "eng_Latn-deu_Latn", "fra_Latn-eng_Latn", NULL };
  g_autoptr (ScStats) stats = sc_stats_new (sc_model_get_moe_shape (model));
  ScCalibrateJobOptions co;
  sc_calibrate_job_options_init (&co);
  co.directions = directions;
  co.size = 16;
  g_assert_true (sc_calibrate_job_run (model, &co, stats, NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  ScSweepJobOptions o = {
    .directions = directions, .stats = stats, .sentences = 8, .max_length = 48
  };
  sc_prune_settings_init (&o.settings);
  g_autoptr (ScSweepJobResult) sweep = sc_sweep_job_run (model, &o, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  /* ratios giving the same kept sets are one point */
  g_assert_cmpint (sweep->n_ratios, >=, 2);
  for (int d = 0; d < 2; d++)
    {
      g_autofree char *src = NULL, *tgt = NULL;
      g_assert_true (sc_stats_split_direction (directions[d], &src, &tgt));
      for (int k = 0; k < sweep->n_ratios; k++)
        {
          ScPruneSettings s = o.settings;
          s.ratio = sweep->ratios[k];
          g_autofree guint8 *keep =
              s.ratio > 0 ? sc_prune_keep_mask (stats, &s, src, tgt, &error) : NULL;
          g_assert_no_error (error);
          g_autoptr (ScExpertSet) experts = sc_evaluate_job_experts (model, keep);
          ScEvaluateJobOptions eo;
          sc_evaluate_job_options_init (&eo, model, src, tgt);
          eo.limit = 8;
          eo.gen.num_beams = 1;
          eo.gen.max_length = MIN (eo.gen.max_length, 48);
          eo.batch_size = 1;
          eo.full = experts == NULL;
          eo.experts = experts;
          g_autoptr (ScEvaluateJobResult) point =
              sc_evaluate_job_run (model, &eo, NULL, NULL, NULL, &error);
          g_assert_no_error (error);
          double want = (point->has_full ? &point->full : &point->pruned)->scores.chrf_pp;
          g_assert_cmpfloat (want, >, 0);
          g_assert_cmpfloat (sweep->scores[d * sweep->n_ratios + k], ==, want);
        }
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/batched-decode/demo", test_demo);
  g_test_add_func ("/batched-decode/f32-fixture", test_f32_fixture);
  g_test_add_func ("/batched-decode/f32-step-logits", test_f32_step_logits);
  g_test_add_func ("/batched-decode/sweep-scores", test_sweep_scores);
  return g_test_run ();
}
