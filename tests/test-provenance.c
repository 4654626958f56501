/* test-provenance.c: how a pruned model's experts were chosen travels from
 * the statistics (one record per calibration run, kept through writing,
 * reading, merging and appending) through the expert index (one reserved
 * key, read without a warning, ids unchanged) to an export's model card
 * (settings, calibration runs, the pruned model's scores). */
#include "sc-config.h"
#include "sc-expert-index.h"
#include "sc-model-card.h"
#include "sc-provenance.h"
#include "sc-stats.h"
#include "sc-test-util.h"

#include <glib/gstdio.h>
#include <string.h>

static const ScStatsShape shape = {
  .name = "tiny-moe",
  .d_model = 16,
  .encoder_layers = 4,
  .decoder_layers = 4,
  .n_moe_layers = 4,
  .n_encoder_moe = 2,
  .n_experts = 8,
};

/* n tokens of `dir` in every MoE layer, all routed to experts 0 then 1. */
static void
feed (ScStats *s, const char *dir, int n)
{
  for (int l = 0; l < shape.n_moe_layers; l++)
    {
      g_autofree float *p = g_new0 (float, n *shape.n_experts);
      g_autofree int *t1 = g_new0 (int, n), *t2 = g_new0 (int, n);
      for (int t = 0; t < n; t++)
        {
          t2[t] = 1;
          p[t * shape.n_experts] = 0.7f;
          p[t * shape.n_experts + 1] = 0.3f;
        }
      g_assert_true (sc_stats_add_tokens (s, dir, l, l >= shape.n_encoder_moe, n, p, t1, t2, NULL,
                                          NULL, NULL, NULL, NULL, NULL));
    }
}

static JsonObject *
record (const char *corpus, int sentences)
{
  const char *dirs[] = { "eng_Latn-fra_Latn", NULL };
  ScCalibrationRun run = { .corpus = corpus,
                           .split = "calibration",
                           .sampling = "uniform",
                           .directions = dirs,
                           .sentences = sentences,
                           .tokens = 10 * sentences,
                           .decode = TRUE,
                           .beam = 4,
                           .seed = 7,
                           .has_seed = TRUE,
                           .model_name = "tiny-moe" };
  return sc_provenance_calibration (NULL, &run);
}

static const char *
corpus_of (JsonArray *a, guint i)
{
  return json_object_get_string_member (json_array_get_object_element (a, i), "corpus");
}

static void
test_stats_round_trip (void)
{
  g_autoptr (ScStats) s = sc_stats_new (&shape);
  feed (s, "eng_Latn-fra_Latn", 3);
  g_autoptr (JsonObject) r = record ("flores:/data/flores200", 12);
  sc_stats_add_provenance (s, r);

  gsize len = 0;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = sc_stats_to_json (s, &len, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (text, "\"provenance\":[{\"corpus\":\"flores:/data/flores200\""));
  g_assert_nonnull (strstr (text, "\"version\":1,"));
  g_autoptr (ScStats) back = sc_stats_from_json (text, len, &shape, &error);
  g_assert_no_error (error);
  g_autoptr (JsonArray) a = sc_stats_get_provenance (back);
  g_assert_cmpuint (json_array_get_length (a), ==, 1);
  JsonObject *o = json_array_get_object_element (a, 0);
  g_assert_cmpstr (json_object_get_string_member (o, "corpus"), ==, "flores:/data/flores200");
  g_assert_cmpstr (json_object_get_string_member (o, "split"), ==, "calibration");
  g_assert_cmpstr (json_object_get_string_member (o, "sampling"), ==, "uniform");
  g_assert_cmpint (json_object_get_int_member (o, "sentences"), ==, 12);
  g_assert_cmpint (json_object_get_int_member (o, "tokens"), ==, 120);
  g_assert_cmpstr (json_object_get_string_member (o, "mode"), ==, "decode");
  g_assert_cmpint (json_object_get_int_member (o, "beam"), ==, 4);
  g_assert_cmpint (json_object_get_int_member (o, "seed"), ==, 7);
  g_assert_cmpstr (json_object_get_string_member (o, "model"), ==, "tiny-moe");
  g_assert_cmpuint (strlen (json_object_get_string_member (o, "secateur_version")), >, 0);
  /* nothing that changes from run to run (a date): same data, same file */
  g_assert_false (json_object_has_member (o, "date"));
  g_assert_cmpstr (
      json_array_get_string_element (json_object_get_array_member (o, "directions"), 0), ==,
      "eng_Latn-fra_Latn");
  /* and written again unchanged */
  g_autofree char *again = sc_stats_to_json (back, NULL, &error);
  g_assert_cmpstr (again, ==, text);

  g_autofree char *line = sc_provenance_describe (o);
  g_assert_true (g_str_has_prefix (
      line, "flores:/data/flores200 (calibration split), uniform sampling, eng_Latn-fra_Latn, "
            "12 sentences, 120 tokens, decoded (beam 4), seed 7; model tiny-moe; Secateur "));
}

static void
test_stats_without_provenance (void)
{
  /* a file of an earlier Secateur: no member, loads, writes none */
  g_autoptr (ScStats) s = sc_stats_new (&shape);
  feed (s, "eng_Latn-fra_Latn", 2);
  g_autofree char *text = sc_stats_to_json (s, NULL, NULL);
  g_assert_null (strstr (text, "provenance"));
  g_autoptr (GError) error = NULL;
  g_autoptr (ScStats) back = sc_stats_from_json (text, -1, &shape, &error);
  g_assert_no_error (error);
  g_autoptr (JsonArray) a = sc_stats_get_provenance (back);
  g_assert_cmpuint (json_array_get_length (a), ==, 0);
  g_assert_cmpuint (sc_stats_total_tokens (back), ==, 8);

  /* a member that is not a list of records is refused */
  static const char *const bad[] = { "{\"x\":1}", "[1]", "[{\"a\":1},\"b\"]" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *head = g_strndup (text, strlen (text) - 1);
      g_autofree char *doc = g_strdup_printf ("%s,\"provenance\":%s}", head, bad[i]);
      g_autoptr (ScStats) no = sc_stats_from_json (doc, -1, &shape, &error);
      g_assert_null (no);
      g_assert_error (error, SC_STATS_ERROR, SC_STATS_ERROR_INVALID);
      g_assert_nonnull (strstr (error->message, "provenance"));
      g_clear_error (&error);
    }
}

static void
test_stats_merge_append (void)
{
  g_autoptr (ScStats) a = sc_stats_new (&shape);
  g_autoptr (ScStats) b = sc_stats_new (&shape);
  feed (a, "eng_Latn-fra_Latn", 2);
  feed (b, "fra_Latn-eng_Latn", 3);
  g_autoptr (JsonObject) ra = record ("udhr", 2);
  g_autoptr (JsonObject) rb = record ("tsv:more.tsv", 3);
  g_autoptr (JsonObject) rc = record ("bitext:third.txt", 1);
  sc_stats_add_provenance (a, ra);
  sc_stats_add_provenance (b, rb);
  g_autoptr (GError) error = NULL;
  g_assert_true (sc_stats_merge (a, b, &error));
  g_autoptr (JsonArray) m = sc_stats_get_provenance (a);
  g_assert_cmpuint (json_array_get_length (m), ==, 2);
  g_assert_cmpstr (corpus_of (m, 0), ==, "udhr");
  g_assert_cmpstr (corpus_of (m, 1), ==, "tsv:more.tsv");
  /* src is left as it was */
  g_autoptr (JsonArray) mb = sc_stats_get_provenance (b);
  g_assert_cmpuint (json_array_get_length (mb), ==, 1);

  /* appending to a file keeps the file's runs and adds the new one's */
  g_autofree char *dir = g_dir_make_tmp ("sc-provenance-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "stats.json", NULL);
  g_assert_true (sc_stats_save (a, path, &error));
  g_autoptr (ScStats) c = sc_stats_new (&shape);
  feed (c, "eng_Latn-fra_Latn", 1);
  sc_stats_add_provenance (c, rc);
  g_autoptr (ScStats) sum = sc_stats_append_to_file (c, path, NULL, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (ScStats) loaded = sc_stats_load (path, &shape, &error);
  g_assert_no_error (error);
  g_autoptr (JsonArray) all = sc_stats_get_provenance (loaded);
  g_assert_cmpuint (json_array_get_length (all), ==, 3);
  g_assert_cmpstr (corpus_of (all, 0), ==, "udhr");
  g_assert_cmpstr (corpus_of (all, 1), ==, "tsv:more.tsv");
  g_assert_cmpstr (corpus_of (all, 2), ==, "bitext:third.txt");
  g_unlink (path);
  g_rmdir (dir);
}

/* An index as select writes it: ids, then the reserved key. */
static const char with_meta[] =
    "{\"eng_Latn\":[0,1,9,16,24],\"fra_Latn\":[3,11,18,26,27],"
    "\"secateur\":{\"selection\":{\"ratio\":0.5,\"metric\":\"importance\",\"algorithm\":"
    "\"per-layer\",\"granularity\":\"lang\",\"enc_dec\":\"3:1\"},\"statistics\":[{\"corpus\":"
    "\"udhr\",\"sentences\":256}]}}";
static const char without_meta[] = "{\"eng_Latn\":[0,1,9,16,24],\"fra_Latn\":[3,11,18,26,27]}";

static void
test_index_reserved_key (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ScExpertIndex) a = sc_expert_index_from_json (with_meta, -1, 4, 2, 8, &error);
  g_assert_no_error (error);
  g_autoptr (ScExpertIndex) b = sc_expert_index_from_json (without_meta, -1, 4, 2, 8, &error);
  g_assert_no_error (error);
  /* not among the skipped keys (no warning), and the same kept ids */
  g_auto (GStrv) ignored = sc_expert_index_ignored_keys (a);
  g_assert_cmpuint (g_strv_length (ignored), ==, 0);
  g_auto (GStrv) keys = sc_expert_index_keys (a);
  g_assert_cmpuint (g_strv_length (keys), ==, 2);
  g_autoptr (GArray) pa = sc_expert_index_for_pair (a, "eng_Latn", "fra_Latn", &error);
  g_autoptr (GArray) pb = sc_expert_index_for_pair (b, "eng_Latn", "fra_Latn", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pa->len, ==, 6); /* 0 1 9 of eng, 18 26 27 of fra */
  g_assert_cmpuint (pa->len, ==, pb->len);
  g_assert_cmpmem (pa->data, pa->len * sizeof (int), pb->data, pb->len * sizeof (int));
  g_assert_null (sc_expert_index_get_meta (b));
  JsonObject *meta = sc_expert_index_get_meta (a);
  g_assert_nonnull (meta);
  g_assert_cmpstr (
      json_object_get_string_member (json_object_get_object_member (meta, "selection"), "enc_dec"),
      ==, "3:1");
  /* written back byte for byte, the reserved key last */
  g_autofree char *text = sc_expert_index_to_json (a, NULL);
  g_assert_cmpstr (text, ==, with_meta);

  /* the reserved key holding something else is an unknown key, as before */
  g_autoptr (ScExpertIndex) c =
      sc_expert_index_from_json ("{\"eng_Latn\":[0],\"secateur\":[1]}", -1, 4, 2, 8, &error);
  g_assert_no_error (error);
  g_auto (GStrv) skipped = sc_expert_index_ignored_keys (c);
  g_assert_cmpuint (g_strv_length (skipped), ==, 1);
  g_assert_cmpstr (skipped[0], ==, "secateur");
}

static const char report_json[] =
    "{\"model\":\"m\",\"directions\":["
    "{\"direction\":\"eng_Latn-fra_Latn\",\"sentences\":50,"
    "\"full\":{\"chrf++\":55.25,\"spbleu\":30.5,\"nll\":1.0,\"len_ratio\":1.01,\"translations\":[]}"
    ","
    "\"pruned\":{\"chrf++\":54.75,\"spbleu\":29.0,\"nll\":1.1,\"len_ratio\":0.99,"
    "\"translations\":[]},\"agreement\":0.8},"
    "{\"direction\":\"eng_Latn-deu_Latn\",\"sentences\":50,"
    "\"full\":{\"chrf++\":50,\"spbleu\":25},\"pruned\":{\"chrf++\":40,\"spbleu\":20}}]}";

static void
test_report_scores (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) doc = json_from_string (report_json, &error);
  g_assert_no_error (error);
  const char *serves[] = { "eng_Latn-fra_Latn", NULL };
  g_autoptr (JsonObject) scores = sc_provenance_scores_from_report (doc, serves, &error);
  g_assert_no_error (error);
  /* only the served direction */
  g_assert_cmpuint (json_object_get_size (scores), ==, 1);
  JsonObject *fra = json_object_get_object_member (scores, "eng_Latn-fra_Latn");
  g_assert_cmpint (json_object_get_int_member (fra, "sentences"), ==, 50);
  JsonObject *full = json_object_get_object_member (fra, "full");
  JsonObject *pruned = json_object_get_object_member (fra, "pruned");
  g_assert_cmpfloat (json_object_get_double_member (full, "chrf++"), ==, 55.25);
  g_assert_cmpfloat (json_object_get_double_member (full, "spbleu"), ==, 30.5);
  g_assert_cmpfloat (json_object_get_double_member (pruned, "chrf++"), ==, 54.75);
  g_assert_cmpfloat (json_object_get_double_member (pruned, "spbleu"), ==, 29.0);
  g_assert_false (json_object_has_member (pruned, "translations"));

  /* a report of the full model only says what is missing */
  g_autoptr (JsonNode) full_only =
      json_from_string ("{\"directions\":[{\"direction\":\"eng_Latn-fra_Latn\",\"sentences\":2,"
                        "\"full\":{\"chrf++\":1.0,\"spbleu\":2.0}}]}",
                        NULL);
  g_autoptr (JsonObject) none = sc_provenance_scores_from_report (full_only, serves, &error);
  g_assert_null (none);
  g_assert_error (error, SC_ERROR, SC_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "no pruned scores"));
  g_clear_error (&error);
  /* a report of other directions */
  const char *other[] = { "fra_Latn-eng_Latn", NULL };
  g_autoptr (JsonObject) none2 = sc_provenance_scores_from_report (doc, other, &error);
  g_assert_null (none2);
  g_assert_error (error, SC_ERROR, SC_ERROR_FORMAT);
}

static void
test_model_card (void)
{
  g_autofree char *dir = sc_test_path ("tests/fixtures/nllb-moe-tiny");
  g_autoptr (GError) error = NULL;
  g_autoptr (ScConfig) config = sc_config_load (dir, &error);
  g_assert_no_error (error);
  int n = sc_config_n_moe_layers (config) * config->num_experts;
  g_autofree guint8 *keep = g_new0 (guint8, n);
  for (int i = 0; i < n; i += 2)
    keep[i] = 1;

  g_autoptr (JsonObject) sel = json_object_new ();
  JsonArray *serves = json_array_new ();
  json_array_add_string_element (serves, "eng_Latn-fra_Latn");
  json_object_set_array_member (sel, "serves", serves);
  g_autoptr (ScExpertIndex) idx = sc_expert_index_from_json (with_meta, -1, 4, 2, 8, &error);
  g_assert_no_error (error);
  sc_provenance_copy_index_meta (sc_expert_index_get_meta (idx), sel);
  g_autoptr (JsonNode) doc = json_from_string (report_json, NULL);
  const char *dirs[] = { "eng_Latn-fra_Latn", NULL };
  json_object_set_object_member (sel, "scores",
                                 sc_provenance_scores_from_report (doc, dirs, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (
      json_object_get_string_member (json_object_get_object_member (sel, "settings"), "metric"), ==,
      "importance");
  g_assert_cmpint (json_array_get_length (json_object_get_array_member (sel, "statistics")), ==, 1);

  ScModelCard card = { .source = "nllb-moe-tiny",
                       .keep = keep,
                       .uniform = 4,
                       .dtype = "F16",
                       .bytes = 1 << 20,
                       .dropped_bytes = 1 << 19,
                       .selection = sel };
  g_autofree char *text = sc_model_card_text (config, &card);
  g_assert_nonnull (strstr (text, "## How the experts were chosen\n\n- ratio: 0.5\n"
                                  "- metric: importance\n- algorithm: per-layer\n"
                                  "- granularity: lang\n- enc_dec: 3:1\n"
                                  "- statistics from 1 calibration run(s):\n"
                                  "  1. udhr, 256 sentences\n"));
  g_assert_nonnull (strstr (text, "| eng_Latn-fra_Latn | 50 | 55.25 | 54.75 | 30.50 | 29.00 |\n"));
  g_assert_null (strstr (text, "No evaluation of the pruned model was recorded"));
  g_assert_null (strstr (text, "deu_Latn"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/provenance/stats-round-trip", test_stats_round_trip);
  g_test_add_func ("/provenance/stats-without", test_stats_without_provenance);
  g_test_add_func ("/provenance/stats-merge-append", test_stats_merge_append);
  g_test_add_func ("/provenance/index-reserved-key", test_index_reserved_key);
  g_test_add_func ("/provenance/report-scores", test_report_scores);
  g_test_add_func ("/provenance/model-card", test_model_card);
  return g_test_run ();
}
