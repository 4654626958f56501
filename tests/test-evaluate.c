/* test-evaluate.c: full-versus-pruned evaluation: the NLL of a reference
 * equals the one computed from Hugging Face's logits; scores are the
 * metrics of the returned translations; the evaluate job's pruned side is
 * the masked model's output. */
#include "sc-evaluate-job.h"
#include "sc-metrics.h"
#include "sc-safetensors.h"
#include "sc-test-golden.h"

#include <math.h>
#include <string.h>

static ScModel *model;
static ScView *view; /* the full model */

/* NLL from the golden logits of case `eng-fra-single`, whose decoder input
 * [</s> fra_Latn p1..pn] is the reference shifted right when the text of
 * p1..pn tokenizes back to p1..pn. */
static void
test_nll_matches_hf (void)
{
  g_autofree char *cases = sc_test_path ("tests/goldens/nllb-moe-tiny/cases.json");
  g_autofree char *tpath = sc_test_path ("tests/goldens/nllb-moe-tiny/tensors.safetensors");
  g_autoptr (JsonNode) root = sc_test_load_json (cases);
  JsonObject *c = json_array_get_object_element (
      json_object_get_array_member (json_node_get_object (root), "cases"), 0);
  g_assert_cmpstr (json_object_get_string_member (c, "name"), ==, "eng-fra-single");
  int B, T;
  g_autoptr (GArray) dec =
      sc_test_int_matrix (json_object_get_array_member (c, "decoder_input_ids"), &B, &T);
  ScTokenizer *tok = sc_model_get_tokenizer (model);
  g_autofree char *reference = sc_tokenizer_decode (tok, (int *) dec->data + 2, T - 2);
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) again = sc_tokenizer_encode_pieces (tok, reference, &error);
  g_assert_no_error (error);
  g_assert_cmpint (again->len, ==, T - 2);
  g_assert_cmpmem (again->data, again->len * sizeof (int), (int *) dec->data + 2,
                   (T - 2) * sizeof (int));

  g_autoptr (ScSafetensors) st = sc_safetensors_open (tpath, &error);
  g_assert_no_error (error);
  const ScTensor *gl = NULL;
  GPtrArray *all = sc_safetensors_tensors (st);
  for (guint i = 0; i < all->len; i++)
    if (g_str_equal (((ScTensor *) all->pdata[i])->name, "eng-fra-single.logits"))
      gl = all->pdata[i];
  g_assert_nonnull (gl);
  int V = (int) gl->shape[2];
  g_autofree float *logits = g_new (float, (gsize) T *V);
  sc_tensor_read_f32 (gl, 0, (gint64) T * V, logits);
  double want = 0.0;
  for (int t = 0; t < T; t++)
    {
      int label = t + 1 < T ? g_array_index (dec, int, t + 1) : SC_TOKEN_EOS;
      const float *l = logits + (gsize) t * V;
      double max = l[0], sum = 0.0;
      for (int v = 1; v < V; v++)
        max = MAX (max, l[v]);
      for (int v = 0; v < V; v++)
        sum += exp (l[v] - max);
      want += -(l[label] - max - log (sum));
    }
  want /= T;

  const char *src[] = { json_array_get_string_element (json_object_get_array_member (c, "texts"),
                                                       0) };
  const char *ref[] = { reference };
  double nll;
  g_assert_true (sc_evaluate_nll (view, "eng_Latn", "fra_Latn", src, ref, 1, &nll, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat_with_epsilon (nll, want, 1e-4);
}

static void
test_full_vs_pruned (void)
{
  const char *src[] = { "All human beings are born free and equal in dignity and rights.",
                        "Everyone has the right to life, liberty and security of person.",
                        "No one shall be held in slavery or servitude.",
                        "Everyone has the right to education." };
  const char *ref[] = {
    "Tous les êtres humains naissent libres et égaux en dignité et en droits.",
    "Tout individu a droit à la vie, à la liberté et à la sûreté de sa personne.",
    "Nul ne sera tenu en esclavage ni en servitude.", "Toute personne a droit à l'éducation.", NULL
  };
  guint8 keep[32] = { 0 };
  static const int kept[4][4] = { { 0, 2, 5, 7 }, { 1, 2, 3, 6 }, { 0, 1, 4, 6 }, { 2, 3, 5, 7 } };
  for (int m = 0; m < 4; m++)
    for (int i = 0; i < 4; i++)
      keep[m * 8 + kept[m][i]] = 1;

  ScGenerateOptions gen;
  sc_generate_options_init (&gen, model);
  gen.num_beams = 1;
  gen.max_length = 20;
  ScEvaluateJobOptions o;
  sc_evaluate_job_options_init (&o, model, "eng_Latn", "fra_Latn");
  o.sources = src;
  o.references = ref;
  o.n = 4;
  g_autoptr (ScExpertSet) experts = sc_expert_set_new_from_keep (keep, 4, 8);
  o.experts = experts;
  o.gen = gen;
  o.batch_size = 2;
  o.nll = TRUE;
  g_autoptr (GError) error = NULL;
  g_autoptr (ScEvaluateJobResult) job = sc_evaluate_job_run (model, &o, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (job);
  g_assert_true (job->has_full);
  g_assert_true (job->has_pruned);
  g_assert_cmpint (job->n, ==, 4);
  ScEvalSide *full = &job->full.scores, *pruned = &job->pruned.scores;
  g_assert_cmpuint (full->hyps->len, ==, 4);

  /* The scores are chrF++ of the returned hypotheses. */
  ScMetricConfig cfg;
  sc_metric_config_init (&cfg, SC_METRIC_CHRF_PP);
  g_autoptr (ScMetric) chrf = sc_metric_new (&cfg, &error);
  g_ptr_array_add (pruned->hyps, NULL);
  const char *const *streams[] = { ref, NULL };
  ScMetricScore s;
  g_assert_true (sc_metric_corpus_score (chrf, (const char *const *) pruned->hyps->pdata, streams,
                                         &s, &error));
  g_ptr_array_remove_index (pruned->hyps, 4);
  g_assert_cmpfloat_with_epsilon (s.score, pruned->chrf_pp, 1e-9);
  /* len_ratio is sacreBLEU's BLEU ratio: hypothesis / reference length in
   * 13a tokens (pasero's len_ratio), not characters nor spBLEU's pieces */
  ScMetricConfig bcfg;
  sc_metric_config_init (&bcfg, SC_METRIC_BLEU);
  g_autoptr (ScMetric) bleu = sc_metric_new (&bcfg, &error);
  g_assert_true (sc_metric_corpus_score (bleu, (const char *const *) pruned->hyps->pdata, streams,
                                         &s, &error));
  /* the four references: 14 + 19 + 10 + 7 words and marks ("l'éducation" is one) */
  g_assert_cmpint (s.stats[1], ==, 14 + 19 + 10 + 7);
  g_assert_cmpfloat_with_epsilon (pruned->len_ratio, (double) s.stats[0] / s.stats[1], 1e-12);
  g_assert_cmpfloat (pruned->len_ratio, >, 0.0);
  g_assert_cmpfloat (full->len_ratio, >, 0.0);
  g_assert_cmpfloat (full->nll, >, 0.0);
  g_assert_cmpfloat (pruned->nll, >, 0.0);
  g_assert_cmpfloat (full->nll, !=, pruned->nll);

  /* The pruned side is the translation of a view keeping those experts. */
  g_autoptr (ScView) pruned_view = sc_view_new (model, experts, &error);
  g_assert_no_error (error);
  g_auto (GStrv) masked =
      sc_translate (pruned_view, src, 4, "eng_Latn", "fra_Latn", &gen, 4, NULL, NULL, NULL, &error);
  int same = 0;
  for (int i = 0; i < 4; i++)
    {
      g_assert_cmpstr (masked[i], ==, pruned->hyps->pdata[i]);
      same += g_str_equal (full->hyps->pdata[i], pruned->hyps->pdata[i]);
    }
  g_assert_cmpfloat (job->agreement, ==, same / 4.0);

  o.n = 0;
  g_assert_null (sc_evaluate_job_run (model, &o, NULL, NULL, NULL, &error));
  g_assert_error (error, SC_ERROR, SC_ERROR_FORMAT);
}

/* The authors' score tables: "direction spBLEU chrF++ len_ratio", as the
 * first row of naver/nllb-pruning's scores/FLORES-dev-53-54B.tsv. */
static void
test_tsv_row (void)
{
  ScEvalSide side = { .chrf_pp = 17.4291, .spbleu = 3.5, .len_ratio = 1.19351 };
  g_autoptr (GString) tsv = g_string_new (SC_EVAL_TSV_HEADER);
  sc_eval_tsv_append_row (tsv, "bel_Cyrl-fon_Latn", &side);
  g_assert_cmpstr (tsv->str, ==,
                   "direction\tspBLEU\tchrF++\tlen_ratio\n"
                   "bel_Cyrl-fon_Latn\t3.50\t17.43\t1.194\n");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_autofree char *dir = sc_test_path ("tests/fixtures/nllb-moe-tiny");
  g_autoptr (GError) error = NULL;
  model = sc_model_load (dir, NULL, &error);
  g_assert_no_error (error);
  view = sc_view_new (model, NULL, &error);
  g_assert_no_error (error);
  g_test_add_func ("/evaluate/nll-matches-hf", test_nll_matches_hf);
  g_test_add_func ("/evaluate/full-vs-pruned", test_full_vs_pruned);
  g_test_add_func ("/evaluate/tsv-row", test_tsv_row);
  int ret = g_test_run ();
  g_clear_pointer (&view, sc_view_free);
  sc_model_free (model);
  return ret;
}
