/* test-cli-sparsify: `secateur-cli sparsify` and `secateur-cli perplexity`
 * as a user runs them, checked against the engine. */
#include "sc-bloom.h"
#include "sc-corpus.h"
#include "sc-evaluate.h"
#include "sc-model.h"
#include "sc-test-cli.h"
#include "sc-test-util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static char *tmp;

static char *
fixture (void)
{
  return sc_test_path ("tests/fixtures/m2m-tiny");
}

/* Wanda 2:4 with MBS calibration: counts first, every layer at 50%, a
 * checkpoint that loads and keeps the pattern, a record in config.json. */
static void
test_sparsify_wanda (void)
{
  g_autofree char *model = fixture ();
  g_autofree char *out = g_build_filename (tmp, "wanda24", NULL);
  Run r = run_cli (NULL, "sparsify", "-m", model, "--method", "wanda", "--sparsity", "2:4",
                   "--calib", "mbs", "--samples", "24", "--seqlen", "20", "-o", out, NULL);
  if (r.status != 0)
    g_error ("sparsify failed: %s", r.err);
  const char *counts = strstr (r.out, "24 calibration samples of up to 20 tokens");
  const char *table = strstr (r.out, "model.encoder.layers.0.self_attn.q_proj.weight");
  g_assert_nonnull (counts);
  g_assert_nonnull (strstr (r.out, "  eng_Latn "));
  g_assert_nonnull (table);
  g_assert_true (counts < table); /* counts shown before the work */
  g_assert_nonnull (strstr (r.out, "total: 163840 of 327680 weights are zero (50.00%)"));
  g_assert_nonnull (strstr (r.out, "model.decoder.layers.3.fc2.weight"));
  g_assert_null (strstr (r.out, "dampening raised"));
  run_clear (&r);

  /* samples longer than the model's positions (128) are refused */
  g_autofree char *long_out = g_build_filename (tmp, "too-long", NULL);
  r = run_cli (NULL, "sparsify", "-m", model, "--method", "wanda", "--sparsity", "2:4", "--calib",
               "mbs", "--seqlen", "4000", "-o", long_out, NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "--seqlen must be an integer from 4 to 128, not 4000"));
  g_assert_false (g_file_test (long_out, G_FILE_TEST_EXISTS));
  run_clear (&r);

  g_autoptr (GError) error = NULL;
  g_autoptr (ScModel) m = sc_model_load (out, NULL, &error);
  g_assert_no_error (error);
  for (int i = 0; i < sc_model_n_linears (m); i++)
    {
      const ScTensor *t = sc_model_get_linear_weight (m, i);
      g_assert_cmpint (t->dtype, ==, SC_DTYPE_F32);
      const float *w = t->data;
      for (int64_t k = 0; k < sc_tensor_numel (t); k += 4)
        g_assert_cmpint ((w[k] != 0) + (w[k + 1] != 0) + (w[k + 2] != 0) + (w[k + 3] != 0), ==, 2);
    }
  g_autofree char *cfg = g_build_filename (out, "config.json", NULL);
  g_autoptr (JsonNode) node = sc_test_load_json (cfg);
  JsonObject *rec =
      json_object_get_object_member (json_node_get_object (node), "secateur_sparsity");
  g_assert_nonnull (rec);
  g_assert_cmpstr (json_object_get_string_member (rec, "method"), ==, "wanda");
  g_assert_cmpstr (json_object_get_string_member (rec, "sparsity"), ==, "2:4");
  g_assert_cmpfloat (json_object_get_double_member (rec, "achieved"), ==, 0.5);
  JsonObject *cal = json_object_get_object_member (rec, "calibration");
  g_assert_cmpstr (json_object_get_string_member (cal, "sampling"), ==, "mbs");
  g_assert_cmpint (json_object_get_int_member (cal, "samples"), ==, 24);
  JsonObject *langs = json_object_get_object_member (cal, "languages");
  g_assert_true (json_object_has_member (langs, "eng_Latn"));
}

/* Perplexity of a model against itself changes by nothing; the numbers are
 * the engine's teacher-forced NLL on the held-out UDHR. A magnitude-pruned
 * model is worse. */
static void
test_perplexity (void)
{
  g_autofree char *model = fixture ();
  g_autofree char *out = g_build_filename (tmp, "mag50", NULL);
  Run r = run_cli (NULL, "sparsify", "-m", model, "--method", "magnitude", "--sparsity", "0.5",
                   "-o", out, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "needs no calibration"));
  run_clear (&r);

  r = run_cli (NULL, "perplexity", "-m", model, "--langs", "fra_Latn,hin_Deva", "--limit", "2",
               "--compare", model, NULL);
  if (r.status != 0)
    g_error ("perplexity failed: %s", r.err);
  g_assert_nonnull (strstr (r.out, "eng_Latn -> X"));
  g_assert_nonnull (strstr (r.out, "+0.00%"));
  g_assert_nonnull (strstr (r.out, "0 of 2 languages degrade"));
  /* Sorted by share: French (larger share) before Hindi. */
  const char *fra = strstr (r.out, "\nfra_Latn"), *hin = strstr (r.out, "\nhin_Deva");
  g_assert_true (fra != NULL && hin != NULL && fra < hin);
  double printed = 0;
  g_assert_cmpint (sscanf (fra + 1, "fra_Latn %*f%% %*d %lf", &printed), ==, 1);
  run_clear (&r);

  /* The same number from the engine. */
  g_autoptr (GError) error = NULL;
  g_autofree char *udhr = sc_corpus_default_udhr_dir ();
  g_autoptr (GPtrArray) pairs =
      sc_corpus_udhr_pairs (udhr, "eng_Latn", "fra_Latn", SC_CORPUS_SPLIT_HELD_OUT, &error);
  g_assert_no_error (error);
  const char *src[2], *ref[2];
  for (int i = 0; i < 2; i++)
    {
      src[i] = ((ScCorpusPair *) pairs->pdata[i])->source;
      ref[i] = ((ScCorpusPair *) pairs->pdata[i])->target;
    }
  g_autoptr (ScModel) m = sc_model_load (model, NULL, &error);
  g_autoptr (ScView) mv = m ? sc_view_new (m, NULL, NULL) : NULL;
  double nll;
  g_assert_true (sc_evaluate_nll (mv, "eng_Latn", "fra_Latn", src, ref, 2, &nll, &error));
  g_assert_cmpfloat_with_epsilon (printed, nll, 1e-4);

  /* Against the pruned model: a change is reported per language, and a
   * zero threshold flags every language that got worse. */
  r = run_cli (NULL, "perplexity", "-m", model, "--langs", "fra_Latn,hin_Deva", "--limit", "2",
               "--compare", out, "--threshold", "0", "--direction", "x2e", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "X -> eng_Latn"));
  int degraded = 0;
  for (const char *p = r.out; (p = strstr (p, "DEGRADED")) != NULL; p++)
    degraded++;
  g_autofree char *line = g_strdup_printf ("%d of 2 languages degrade", degraded);
  g_assert_nonnull (strstr (r.out, line));
  run_clear (&r);
}

/* BLOOM through the same commands: MBS calibration in the ROOTS languages,
 * SparseGPT 50%, a checkpoint BLOOM loads back at half sparsity, and
 * per-language perplexity of plain UDHR text, matching the engine's. */
static void
test_bloom (void)
{
  g_autofree char *model = sc_test_path ("tests/fixtures/bloom-tiny");
  g_autofree char *out = g_build_filename (tmp, "bloom-sgpt", NULL);
  Run r = run_cli (NULL, "sparsify", "-m", model, "--method", "sparsegpt", "--sparsity", "0.5",
                   "--calib", "mbs", "--samples", "16", "--seqlen", "24", "-o", out, NULL);
  if (r.status != 0)
    g_error ("sparsify failed: %s", r.err);
  g_assert_nonnull (strstr (r.out, "16 calibration samples of up to 24 tokens"));
  g_assert_nonnull (strstr (r.out, "  eng_Latn "));
  g_assert_nonnull (strstr (r.out, "transformer.h.1.mlp.dense_4h_to_h.weight"));
  g_assert_nonnull (strstr (r.out, "total: 49152 of 98304 weights are zero (50.00%)"));
  run_clear (&r);

  g_autoptr (GError) error = NULL;
  g_autoptr (ScBloom) back = sc_bloom_load (out, NULL, &error);
  g_assert_no_error (error);
  const ScTensor *t = sc_bloom_get_linear (back, 1, SC_BLOOM_QKV);
  const float *w = t->data;
  gsize zeros = 0;
  for (int64_t k = 0; k < sc_tensor_numel (t); k++)
    zeros += w[k] == 0.0f;
  g_assert_cmpuint (zeros * 2, ==, (gsize) sc_tensor_numel (t));

  r = run_cli (NULL, "perplexity", "-m", model, "--langs", "eng_Latn,yor_Latn", "--limit", "2",
               "--compare", out, NULL);
  if (r.status != 0)
    g_error ("perplexity failed: %s", r.err);
  g_assert_nonnull (strstr (r.out, "plain text per language"));
  g_assert_nonnull (strstr (r.out, "of 2 languages degrade"));
  const char *eng = strstr (r.out, "\neng_Latn"), *yor = strstr (r.out, "\nyor_Latn");
  g_assert_true (eng != NULL && yor != NULL && eng < yor); /* by ROOTS share */
  double printed = 0;
  g_assert_cmpint (sscanf (eng + 1, "eng_Latn %*f%% %*d %lf", &printed), ==, 1);
  run_clear (&r);

  g_autofree char *udhr = sc_corpus_default_udhr_dir ();
  g_autoptr (GPtrArray) paras =
      sc_corpus_udhr_pairs (udhr, "eng_Latn", "eng_Latn", SC_CORPUS_SPLIT_HELD_OUT, &error);
  g_assert_no_error (error);
  const char *texts[2] = { ((ScCorpusPair *) paras->pdata[0])->source,
                           ((ScCorpusPair *) paras->pdata[1])->source };
  g_autoptr (ScBloom) m = sc_bloom_load (model, NULL, &error);
  double ppl, nll;
  g_assert_true (sc_bloom_perplexity_texts (m, texts, 2, &ppl, &nll, NULL, &error));
  g_assert_cmpfloat_with_epsilon (printed, nll, 1e-4);
}

static void
expect_failure (int status, const char *message, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  va_list ap;
  va_start (ap, message);
  const char *a;
  while ((a = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, (gpointer) a);
  va_end (ap);
  /* run_cli takes a fixed list: at most 14 arguments here. */
  while (argv->len < 14)
    g_ptr_array_add (argv, NULL);
  const char **v = (const char **) argv->pdata;
  Run r = run_cli (NULL, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11],
                   v[12], v[13], NULL);
  if (r.status != status || strstr (r.err, message) == NULL)
    g_error ("expected status %d and \"%s\", got %d: %s", status, message, r.status, r.err);
  run_clear (&r);
}

static void
test_bad_input (void)
{
  g_autofree char *model = fixture ();
  g_autofree char *out = g_build_filename (tmp, "bad", NULL);
  expect_failure (2, "outside (0, 1)", "sparsify", "-m", model, "--method", "magnitude",
                  "--sparsity", "1.5", "-o", out, NULL);
  expect_failure (2, "outside (0, 1)", "sparsify", "-m", model, "--method", "magnitude",
                  "--sparsity", "0", "-o", out, NULL);
  expect_failure (2, "0 < N < M", "sparsify", "-m", model, "--method", "magnitude", "--sparsity",
                  "4:4", "-o", out, NULL);
  expect_failure (1, "divisible by 6", "sparsify", "-m", model, "--method", "magnitude",
                  "--sparsity", "3:6", "-o", out, NULL);
  expect_failure (2, "unknown pruning method", "sparsify", "-m", model, "--method", "obs",
                  "--sparsity", "0.5", "-o", out, NULL);
  expect_failure (2, "needs --calib", "sparsify", "-m", model, "--method", "sparsegpt",
                  "--sparsity", "0.5", "-o", out, NULL);
  expect_failure (1, "missing from the corpus", "sparsify", "-m", model, "--method", "wanda",
                  "--sparsity", "0.5", "--calib", "xyz_Latn", "-o", out, NULL);
  expect_failure (2, "--direction", "perplexity", "-m", model, "--direction", "sideways", NULL);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  /* An existing folder is kept unless --force. */
  g_mkdir (out, 0755);
  expect_failure (1, "already exists", "sparsify", "-m", model, "--method", "magnitude",
                  "--sparsity", "0.5", "-o", out, NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_autoptr (GError) error = NULL;
  tmp = g_dir_make_tmp ("sc-cli-sparsify-XXXXXX", &error);
  g_assert_no_error (error);
  g_test_add_func ("/cli-sparsify/wanda", test_sparsify_wanda);
  g_test_add_func ("/cli-sparsify/perplexity", test_perplexity);
  g_test_add_func ("/cli-sparsify/bloom", test_bloom);
  g_test_add_func ("/cli-sparsify/bad-input", test_bad_input);
  int rc = g_test_run ();
  sc_test_rm_tree (tmp);
  g_free (tmp);
  return rc;
}
