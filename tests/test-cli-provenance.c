/* test-cli-provenance.c: an export says how its experts were chosen, end
 * to end through the CLI: calibrate records each run in the statistics
 * (stats merge and --append keep every run's record, stats show prints
 * them), select writes its settings and those records into the expert
 * index under one reserved key that export reads without a warning, and
 * export copies them, with an evaluate report's scores (--report), into
 * config.json and the model card. The binary comes from the SC_CLI
 * environment variable. */
#include "sc-expert-index.h"
#include "sc-model.h"
#include "sc-provenance.h"
#include "sc-test-cli.h"
#include "sc-test-util.h"

#include <glib/gstdio.h>
#include <string.h>

static JsonObject *
selection_of (const char *export_dir, JsonNode **keep_alive)
{
  g_autofree char *path = g_build_filename (export_dir, "config.json", NULL);
  *keep_alive = sc_test_load_json (path);
  return json_object_get_object_member (json_node_get_object (*keep_alive), "secateur_selection");
}

static char *
kept_of (const char *export_dir)
{
  g_autofree char *path = g_build_filename (export_dir, "config.json", NULL);
  g_autoptr (JsonNode) root = sc_test_load_json (path);
  JsonNode *kept = json_object_get_member (json_node_get_object (root), "secateur_kept_experts");
  return json_to_string (kept, FALSE);
}

static void
test_chain (void)
{
  g_autofree char *moe = sc_test_path ("tests/fixtures/nllb-moe-tiny");
  g_autofree char *dir = g_dir_make_tmp ("sc-cli-provenance-XXXXXX", NULL);
  g_autofree char *s = g_build_filename (dir, "s.json", NULL);
  g_autofree char *t = g_build_filename (dir, "t.json", NULL);
  g_autofree char *merged = g_build_filename (dir, "merged.json", NULL);
  g_autofree char *index = g_build_filename (dir, "experts.json", NULL);
  g_autofree char *bare = g_build_filename (dir, "bare.json", NULL);
  g_autofree char *report = g_build_filename (dir, "report.json", NULL);
  g_autofree char *full_report = g_build_filename (dir, "full-report.json", NULL);
  g_autofree char *out = g_build_filename (dir, "out", NULL);
  g_autofree char *out_bare = g_build_filename (dir, "out-bare", NULL);
  g_autofree char *out_scored = g_build_filename (dir, "out-scored", NULL);

  g_autoptr (GError) error = NULL;
  g_autoptr (ScModel) model = sc_model_load (moe, NULL, &error);
  g_assert_no_error (error);
  g_autofree char *fp = sc_provenance_fingerprint (model);
  g_assert_true (g_str_has_prefix (fp, "sha256:"));
  g_assert_cmpuint (strlen (fp), ==, 7 + 16);

  /* two runs into one file (--append), one into another */
  Run r = run_cli (NULL, "calibrate", "-m", moe, "--pairs", "eng_Latn-fra_Latn,fra_Latn-eng_Latn",
                   "--size", "8", "-o", s, "-q", NULL);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);
  r = run_cli (NULL, "calibrate", "-m", moe, "--pairs", "eng_Latn-fra_Latn", "--size", "4",
               "--sampling", "uniform", "--mode", "decode", "--beam", "2", "--max-len", "8", "-o",
               s, "--append", "-q", NULL);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);
  r = run_cli (NULL, "calibrate", "-m", moe, "--pairs", "fra_Latn-eng_Latn", "--size", "2",
               "--seed", "5", "-o", t, "-q", NULL);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);

  r = run_cli (NULL, "stats", "show", s, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "Calibration: 2 run(s)\n"));
  g_assert_nonnull (strstr (r.out, "  1. udhr (calibration split), proportional sampling, 2 "
                                   "directions, 8 sentences, "));
  g_assert_nonnull (strstr (r.out, "  2. udhr (calibration split), uniform sampling, "
                                   "eng_Latn-fra_Latn, 4 sentences, "));
  g_assert_nonnull (strstr (r.out, "decoded (beam 2), seed 1; model nllb-moe-tiny ["));
  g_autofree char *with_fp =
      g_strdup_printf ("teacher-forced, seed 1; model nllb-moe-tiny [%s]", fp);
  g_assert_nonnull (strstr (r.out, with_fp));
  run_clear (&r);

  /* the tokens recorded are the source and target tokens counted once */
  {
    g_autoptr (ScStats) st = sc_stats_load (t, NULL, &error);
    g_assert_no_error (error);
    g_autoptr (JsonArray) runs = sc_stats_get_provenance (st);
    g_assert_cmpuint (json_array_get_length (runs), ==, 1);
    JsonObject *o = json_array_get_object_element (runs, 0);
    g_autoptr (ScStatsCounters) c = sc_stats_get_pair (st, "fra_Latn-eng_Latn", &error);
    g_assert_no_error (error);
    g_assert_cmpint (json_object_get_int_member (o, "tokens"), ==, c->tokens[0] + c->tokens[2]);
    g_assert_cmpint (json_object_get_int_member (o, "sentences"), ==, 2);
    g_assert_cmpint (json_object_get_int_member (o, "seed"), ==, 5);
    g_assert_cmpstr (json_object_get_string_member (o, "mode"), ==, "teacher");
  }

  r = run_cli (NULL, "stats", "merge", s, t, "-o", merged, NULL);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);
  r = run_cli (NULL, "stats", "show", merged, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "Calibration: 3 run(s)\n"));
  g_assert_nonnull (strstr (r.out, "  3. udhr (calibration split), proportional sampling, "
                                   "fra_Latn-eng_Latn, 2 sentences, "));
  g_assert_nonnull (strstr (r.out, "seed 5;"));
  run_clear (&r);

  /* select: its settings and the three runs under the reserved key */
  r = run_cli (NULL, "select", "--stats", merged, "--ratio", "0.5", "--enc-dec", "1:1", "--metric",
               "top1", "--aggregate", "mean", "-o", index, NULL);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);
  g_autoptr (ScExpertIndex) idx = sc_expert_index_load (index, 4, 2, 8, &error);
  g_assert_no_error (error);
  g_auto (GStrv) ignored = sc_expert_index_ignored_keys (idx);
  g_assert_cmpuint (g_strv_length (ignored), ==, 0);
  JsonObject *meta = sc_expert_index_get_meta (idx);
  g_assert_nonnull (meta);
  JsonObject *how = json_object_get_object_member (meta, "selection");
  g_assert_cmpfloat (json_object_get_double_member (how, "ratio"), ==, 0.5);
  g_assert_cmpint (json_object_get_int_member (how, "kept"), ==, 16);
  g_assert_cmpstr (json_object_get_string_member (how, "metric"), ==, "activity");
  g_assert_cmpstr (json_object_get_string_member (how, "algorithm"), ==, "per-layer");
  g_assert_cmpstr (json_object_get_string_member (how, "granularity"), ==, "lang");
  g_assert_cmpstr (json_object_get_string_member (how, "enc_dec"), ==, "1:1");
  g_assert_cmpstr (json_object_get_string_member (how, "aggregate"), ==, "mean");
  g_assert_false (json_object_get_boolean_member (how, "uniform"));
  g_assert_cmpstr (json_object_get_string_member (how, "statistics_file"), ==, "merged.json");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (meta, "statistics")), ==,
                    3);

  /* the same ids without the key (as the authors' tools see the file) */
  sc_expert_index_set_meta (idx, NULL);
  g_assert_true (sc_expert_index_save (idx, bare, &error));

  /* export: no warning about the reserved key, settings in config.json
   * and the model card */
  r = run_cli (NULL, "export", "-m", moe, "--experts", index, "--pair", "eng_Latn-fra_Latn", "-o",
               out, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_null (strstr (r.err, "warning"));
  run_clear (&r);
  r = run_cli (NULL, "export", "-m", moe, "--experts", bare, "--pair", "eng_Latn-fra_Latn", "-o",
               out_bare, NULL);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);
  g_autofree char *kept = kept_of (out), *kept_bare = kept_of (out_bare);
  g_assert_cmpstr (kept, ==, kept_bare);

  g_autoptr (JsonNode) root = NULL;
  JsonObject *sel = selection_of (out, &root);
  JsonObject *settings = json_object_get_object_member (sel, "settings");
  g_assert_cmpstr (json_object_get_string_member (settings, "metric"), ==, "activity");
  g_assert_cmpstr (json_object_get_string_member (settings, "enc_dec"), ==, "1:1");
  JsonArray *runs = json_object_get_array_member (sel, "statistics");
  g_assert_cmpuint (json_array_get_length (runs), ==, 3);
  JsonObject *run0 = json_array_get_object_element (runs, 0);
  g_assert_cmpstr (json_object_get_string_member (run0, "corpus"), ==, "udhr");
  g_assert_cmpstr (json_object_get_string_member (run0, "model_fingerprint"), ==, fp);
  g_assert_cmpint (json_object_get_int_member (run0, "sentences"), ==, 8);
  g_assert_false (json_object_has_member (sel, "scores"));
  g_autofree char *card_path = g_build_filename (out, "README.md", NULL);
  g_autofree char *card = NULL;
  g_assert_true (g_file_get_contents (card_path, &card, NULL, NULL));
  g_assert_nonnull (strstr (card, "## How the experts were chosen\n\n- ratio: 0.5\n- kept: 16\n"
                                  "- of: 32\n- metric: activity\n- algorithm: per-layer\n"
                                  "- granularity: lang\n- enc_dec: 1:1\n- aggregate: mean\n"));
  g_assert_nonnull (strstr (card, "- statistics from 3 calibration run(s):\n  1. udhr "));
  g_assert_nonnull (strstr (card, "No evaluation of the pruned model was recorded"));
  g_autofree char *bare_sel_path = g_build_filename (out_bare, "config.json", NULL);
  g_autoptr (JsonNode) bare_root = sc_test_load_json (bare_sel_path);
  g_assert_false (json_object_has_member (
      json_object_get_object_member (json_node_get_object (bare_root), "secateur_selection"),
      "settings"));

  /* --report: the pruned model's scores */
  r = run_cli (NULL, "evaluate", "-m", moe, "--experts", index, "--pairs", "eng_Latn-fra_Latn",
               "--limit", "2", "--max-len", "8", "--beam", "1", "-o", report, NULL);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);
  r = run_cli (NULL, "export", "-m", moe, "--experts", index, "--pair", "eng_Latn-fra_Latn",
               "--report", report, "-o", out_scored, NULL);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);
  g_autoptr (JsonNode) rep = sc_test_load_json (report);
  JsonObject *entry = json_array_get_object_element (
      json_object_get_array_member (json_node_get_object (rep), "directions"), 0);
  double full_chrf =
      json_object_get_double_member (json_object_get_object_member (entry, "full"), "chrf++");
  double pruned_chrf =
      json_object_get_double_member (json_object_get_object_member (entry, "pruned"), "chrf++");
  double pruned_bleu =
      json_object_get_double_member (json_object_get_object_member (entry, "pruned"), "spbleu");
  g_autoptr (JsonNode) scored_root = NULL;
  JsonObject *scored = selection_of (out_scored, &scored_root);
  g_assert_cmpstr (json_object_get_string_member (scored, "scores_report"), ==, "report.json");
  JsonObject *sc = json_object_get_object_member (json_object_get_object_member (scored, "scores"),
                                                  "eng_Latn-fra_Latn");
  g_assert_cmpint (json_object_get_int_member (sc, "sentences"), ==, 2);
  g_assert_cmpfloat (
      json_object_get_double_member (json_object_get_object_member (sc, "full"), "chrf++"), ==,
      full_chrf);
  g_assert_cmpfloat (
      json_object_get_double_member (json_object_get_object_member (sc, "pruned"), "chrf++"), ==,
      pruned_chrf);
  g_autofree char *scored_card_path = g_build_filename (out_scored, "README.md", NULL);
  g_autofree char *scored_card = NULL;
  g_assert_true (g_file_get_contents (scored_card_path, &scored_card, NULL, NULL));
  g_autofree char *row =
      g_strdup_printf ("| eng_Latn-fra_Latn | 2 | %.2f | %.2f | ", full_chrf, pruned_chrf);
  g_assert_nonnull (strstr (scored_card, row));
  g_autofree char *bleu = g_strdup_printf (" | %.2f |\n", pruned_bleu);
  g_assert_nonnull (strstr (strstr (scored_card, row), bleu));
  g_assert_null (strstr (scored_card, "No evaluation of the pruned model was recorded"));

  /* a report of the full model alone is refused before anything is written */
  r = run_cli (NULL, "evaluate", "-m", moe, "--pairs", "eng_Latn-fra_Latn", "--limit", "1",
               "--max-len", "8", "-o", full_report, NULL);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);
  g_autofree char *refused = g_build_filename (dir, "refused", NULL);
  r = run_cli (NULL, "export", "-m", moe, "--experts", index, "--pair", "eng_Latn-fra_Latn",
               "--report", full_report, "-o", refused, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "no pruned scores"));
  g_assert_false (g_file_test (refused, G_FILE_TEST_EXISTS));
  run_clear (&r);

  sc_test_rm_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cli-provenance/chain", test_chain);
  return g_test_run ();
}
