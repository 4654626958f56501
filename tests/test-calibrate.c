/* test-calibrate.c: gate statistics gathered by running the fixture model:
 * counts agree with Hugging Face's routing, counters are consistent,
 * batching and splitting do not change them, and bad requests fail. */
#include "sc-calibrate.h"
#include "sc-test-golden.h"

#include <string.h>

static ScModel *model;
static ScView *view; /* the full model */
static JsonObject *golden;
static GPtrArray *items; /* ScCalibrationItem*, from the golden cases */

static ScStats *
new_stats (void)
{
  return sc_stats_new (sc_model_get_moe_shape (model));
}

static ScStats *
calibrate (int first, int n, int batch, ScCalibrateMode mode)
{
  ScCalibrateOptions opts;
  sc_calibrate_options_init (&opts, model);
  opts.batch_size = batch;
  opts.mode = mode;
  opts.generate.max_length = 16;
  ScStats *stats = new_stats ();
  g_autoptr (GError) error = NULL;
  g_autofree ScCalibrationItem *flat = g_new (ScCalibrationItem, n);
  for (int i = 0; i < n; i++)
    flat[i] = *(ScCalibrationItem *) items->pdata[first + i];
  g_assert_true (sc_calibrate (view, stats, flat, n, &opts, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  return stats;
}

static void
assert_counters_equal (ScStatsCounters *a, ScStatsCounters *b)
{
  int L = a->n_layers, E = a->n_experts;
  g_assert_cmpmem (a->tokens, L * sizeof (guint64), b->tokens, L * sizeof (guint64));
  g_assert_cmpmem (a->top1, L * E * sizeof (guint64), b->top1, L * E * sizeof (guint64));
  g_assert_cmpmem (a->top2, L * E * sizeof (guint64), b->top2, L * E * sizeof (guint64));
  for (int i = 0; i < L * E; i++)
    {
      g_assert_cmpfloat_with_epsilon (a->gate1[i], b->gate1[i], 1e-4);
      g_assert_cmpfloat_with_epsilon (a->prob_sum[i], b->prob_sum[i], 1e-4);
      g_assert_cmpfloat_with_epsilon (a->reap_sum[i], b->reap_sum[i], 1e-3);
    }
}

/* Encoder top-1 counts per expert equal the histogram of Hugging Face's
 * router choices on the same sources; every counter is consistent. */
static void
test_matches_hf_routing (void)
{
  JsonArray *cases = json_object_get_array_member (golden, "cases");
  JsonObject *c = json_array_get_object_element (cases, 1); /* fra-eng-batch3 */
  g_autoptr (ScStats) stats = calibrate (1, 3, 3, SC_CALIBRATE_TEACHER_FORCED);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScStatsCounters) k = sc_stats_get_pair (stats, "fra_Latn-eng_Latn", &error);
  g_assert_no_error (error);
  int E = k->n_experts;

  JsonArray *enc =
      json_object_get_array_member (json_object_get_object_member (c, "router"), "encoder");
  int B, S;
  g_autofree int *lengths = NULL;
  g_autoptr (GArray) ids = case_inputs (c, &B, &S, &lengths);
  int real = 0;
  for (int b = 0; b < B; b++)
    real += lengths[b];
  for (int m = 0; m < 2; m++)
    {
      JsonArray *top1 =
          json_object_get_array_member (json_array_get_object_element (enc, m), "top1");
      g_autofree guint64 *hist = g_new0 (guint64, E);
      for (guint t = 0; t < json_array_get_length (top1); t++)
        {
          gint64 e = json_array_get_int_element (top1, t);
          if (e >= 0)
            hist[e]++;
        }
      g_assert_cmpuint (k->tokens[m], ==, real);
      g_assert_cmpmem (hist, E * sizeof (guint64), k->top1 + m * E, E * sizeof (guint64));
    }

  for (int m = 0; m < k->n_layers; m++)
    {
      guint64 s1 = 0, s2 = 0;
      double prob = 0;
      for (int e = 0; e < E; e++)
        {
          s1 += k->top1[m * E + e];
          s2 += k->top2[m * E + e];
          prob += k->prob_sum[m * E + e];
          g_assert_cmpfloat (k->gate1[m * E + e], <=, k->top1[m * E + e] + 1e-9);
          g_assert_cmpfloat (k->gate1[m * E + e], >=, k->top1[m * E + e] / (double) E - 1e-9);
          g_assert_cmpfloat (k->gate2[m * E + e], <=, 0.5 * k->top2[m * E + e] + 1e-9);
          g_assert_cmpfloat (k->reap_sum[m * E + e], >=, 0.0);
        }
      g_assert_cmpuint (s1, ==, k->tokens[m]);
      g_assert_cmpuint (s2, ==, k->tokens[m]);
      g_assert_cmpfloat_with_epsilon (prob, (double) k->tokens[m], 1e-3);
      g_assert_cmpuint (k->tokens[m], >, 0);
    }
}

/* Batch size and splitting the data do not change the statistics. */
static void
test_additive (void)
{
  int n = items->len;
  g_autoptr (ScStats) whole = calibrate (0, n, 4, SC_CALIBRATE_TEACHER_FORCED);
  g_autoptr (ScStats) single = calibrate (0, n, 1, SC_CALIBRATE_TEACHER_FORCED);
  g_autoptr (ScStats) a = calibrate (0, n / 2, 4, SC_CALIBRATE_TEACHER_FORCED);
  g_autoptr (ScStats) b = calibrate (n / 2, n - n / 2, 4, SC_CALIBRATE_TEACHER_FORCED);
  g_autoptr (GError) error = NULL;
  g_assert_true (sc_stats_merge (a, b, &error));
  g_autoptr (ScStatsCounters) gw = sc_stats_get_global (whole, &error);
  g_autoptr (ScStatsCounters) gs = sc_stats_get_global (single, &error);
  g_autoptr (ScStatsCounters) gm = sc_stats_get_global (a, &error);
  g_assert_no_error (error);
  assert_counters_equal (gw, gs);
  assert_counters_equal (gw, gm);
  g_auto (GStrv) dirs = sc_stats_list_directions (whole);
  g_assert_cmpuint (g_strv_length (dirs), ==, 5);
}

/* Decoding counts the decoder tokens of the generated output. */
static void
test_decode_mode (void)
{
  g_autoptr (ScStats) stats = calibrate (0, 1, 1, SC_CALIBRATE_DECODE);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScStatsCounters) k = sc_stats_get_pair (stats, "eng_Latn-fra_Latn", &error);
  g_assert_no_error (error);

  ScCalibrationItem *it = items->pdata[0];
  const char *texts[] = { it->source };
  ScGenerateOptions gen;
  sc_generate_options_init (&gen, model);
  gen.max_length = 16;
  ScTokenizer *tok = sc_model_get_tokenizer (model);
  g_autoptr (GArray) src = sc_tokenizer_encode (tok, texts[0], it->src_lang, &error);
  int len = src->len;
  g_autoptr (ScEncoding) enc = sc_view_encode (view, (int *) src->data, &len, 1, len, &error);
  gen.forced_bos_id = sc_tokenizer_lang_id (tok, it->tgt_lang, NULL);
  g_autoptr (GPtrArray) out = sc_generate (view, enc, &gen, NULL, &error);
  g_assert_no_error (error);
  guint64 fed = ((GArray *) out->pdata[0])->len - 1;
  g_assert_cmpuint (k->tokens[0], ==, (guint64) len);
  g_assert_cmpuint (k->tokens[k->n_layers - 1], ==, fed);
}

static void
test_errors (void)
{
  g_autoptr (ScStats) stats = new_stats ();
  ScCalibrateOptions opts;
  sc_calibrate_options_init (&opts, model);
  ScCalibrationItem bad = { "eng_Latn", "qqq_Latn", "Hello", "Bonjour" };
  g_autoptr (GError) error = NULL;
  g_assert_false (sc_calibrate (view, stats, &bad, 1, &opts, NULL, NULL, NULL, &error));
  g_assert_error (error, SC_ERROR, SC_ERROR_LANGUAGE);
  g_clear_error (&error);

  ScCalibrationItem no_ref = { "eng_Latn", "fra_Latn", "Hello", NULL };
  g_assert_false (sc_calibrate (view, stats, &no_ref, 1, &opts, NULL, NULL, NULL, &error));
  g_assert_error (error, SC_ERROR, SC_ERROR_FORMAT);
  g_clear_error (&error);

  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  g_cancellable_cancel (cancel);
  ScCalibrationItem ok = { "eng_Latn", "fra_Latn", "Hello", "Bonjour" };
  g_assert_false (sc_calibrate (view, stats, &ok, 1, &opts, NULL, NULL, cancel, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  /* Statistics of another model's shape are refused. */
  ScStatsShape other = *sc_model_get_moe_shape (model);
  other.name = "x";
  other.n_experts = 16;
  g_autoptr (ScStats) wrong = sc_stats_new (&other);
  g_assert_false (sc_calibrate (view, wrong, &ok, 1, &opts, NULL, NULL, NULL, &error));
  g_assert_nonnull (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_autofree char *dir = sc_test_path ("tests/fixtures/nllb-moe-tiny");
  g_autofree char *cases = sc_test_path ("tests/goldens/nllb-moe-tiny/cases.json");
  g_autoptr (GError) error = NULL;
  model = sc_model_load (dir, NULL, &error);
  g_assert_no_error (error);
  view = sc_view_new (model, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (JsonNode) root = sc_test_load_json (cases);
  golden = json_node_get_object (root);

  /* Every golden sentence pair, grouped by direction as the cases are. */
  items = g_ptr_array_new_with_free_func (g_free);
  JsonArray *list = json_object_get_array_member (golden, "cases");
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *c = json_array_get_object_element (list, i);
      JsonArray *src = json_object_get_array_member (c, "texts");
      JsonArray *tgt = json_object_get_array_member (c, "target_texts");
      for (guint k = 0; k < json_array_get_length (src); k++)
        {
          ScCalibrationItem *it = g_new0 (ScCalibrationItem, 1);
          it->src_lang = json_object_get_string_member (c, "src_lang");
          it->tgt_lang = json_object_get_string_member (c, "tgt_lang");
          it->source = json_array_get_string_element (src, k);
          it->target = json_array_get_string_element (tgt, k);
          g_ptr_array_add (items, it);
        }
    }

  g_test_add_func ("/calibrate/matches-hf-routing", test_matches_hf_routing);
  g_test_add_func ("/calibrate/additive", test_additive);
  g_test_add_func ("/calibrate/decode-mode", test_decode_mode);
  g_test_add_func ("/calibrate/errors", test_errors);
  int ret = g_test_run ();
  g_ptr_array_unref (items);
  g_clear_pointer (&view, sc_view_free);
  sc_model_free (model);
  return ret;
}
