/* test-cli-pipeline.c: the paper authors' pipeline through the CLI.
 * Several directions in one exported model: `export --pairs` keeps the
 * encoder experts of the sources and the decoder experts of the targets,
 * `--langs` every direction among its languages, the export records what it
 * serves, and translate and evaluate warn when asked for another direction.
 * Their score tables: `evaluate --tsv`. The binary comes from the SC_CLI
 * environment variable. */
#include "sc-test-cli.h"
#include "sc-test-util.h"

#include <glib/gstdio.h>
#include <string.h>

/* nllb-moe-tiny: 4 MoE layers (2 in the encoder) of 8 experts, so global
 * ids 0-15 are encoder experts and 16-31 decoder experts. */
static const char index_json[] = "{\"eng_Latn\": [0, 1, 9, 16, 24],"
                                 " \"ron_Latn\": [2, 10, 17, 25],"
                                 " \"fra_Latn\": [3, 11, 18, 26, 27],"
                                 " \"zho_Hans\": [4, 12, 19, 28],"
                                 " \"eng_Latn-X\": [5, 6, 7]}";

/* Kept experts per MoE layer as config.json records them, "[0,1]|[1]|...". */
static char *
kept_layers (const char *export_dir)
{
  g_autofree char *path = g_build_filename (export_dir, "config.json", NULL);
  g_autoptr (JsonNode) root = sc_test_load_json (path);
  JsonArray *layers =
      json_object_get_array_member (json_node_get_object (root), "secateur_kept_experts");
  g_autoptr (GString) s = g_string_new ("");
  for (guint l = 0; l < json_array_get_length (layers); l++)
    {
      JsonArray *ids = json_array_get_array_element (layers, l);
      g_string_append (s, l ? "|[" : "[");
      for (guint i = 0; i < json_array_get_length (ids); i++)
        g_string_append_printf (s, "%s%" G_GINT64_FORMAT, i ? "," : "",
                                json_array_get_int_element (ids, i));
      g_string_append_c (s, ']');
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static char *
served (const char *export_dir)
{
  g_autofree char *path = g_build_filename (export_dir, "config.json", NULL);
  g_autoptr (JsonNode) root = sc_test_load_json (path);
  JsonArray *a = json_object_get_array_member (
      json_object_get_object_member (json_node_get_object (root), "secateur_selection"), "serves");
  g_autoptr (GString) s = g_string_new ("");
  for (guint i = 0; i < json_array_get_length (a); i++)
    g_string_append_printf (s, "%s%s", i ? "," : "", json_array_get_string_element (a, i));
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static void
test_one_to_many (void)
{
  g_autofree char *moe = sc_test_path ("tests/fixtures/nllb-moe-tiny");
  g_autofree char *dir = g_dir_make_tmp ("sc-cli-pipeline-XXXXXX", NULL);
  g_autofree char *index = g_build_filename (dir, "experts.json", NULL);
  g_autofree char *out = g_build_filename (dir, "eng-to-three", NULL);
  g_autofree char *all = g_build_filename (dir, "among-four", NULL);
  g_assert_true (g_file_set_contents (index, index_json, -1, NULL));

  /* English into Romanian, French and Chinese: English's encoder experts
   * (0, 1 | 9 -> layer 1 expert 1) and the three targets' decoder experts
   * (17, 18, 19 -> layer 2 experts 1-3; 25-28 -> layer 3 experts 1-4):
   * 10 experts, where the union of all four languages keeps 18. */
  const char *one_to_many = "eng_Latn-ron_Latn,eng_Latn-fra_Latn,eng_Latn-zho_Hans";
  Run r = run_cli (NULL, "export", "-m", moe, "--experts", index, "--pairs", one_to_many, "-o", out,
                   NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "10 of 32 experts kept for 3 direction(s)"));
  /* the key that is neither a language nor a direction is skipped, with a warning */
  g_assert_nonnull (strstr (r.err, "warning"));
  g_assert_nonnull (strstr (r.err, "eng_Latn-X"));
  run_clear (&r);
  g_autofree char *kept = kept_layers (out);
  g_assert_cmpstr (kept, ==, "[0,1]|[1]|[1,2,3]|[1,2,3,4]");
  g_autofree char *serves = served (out);
  g_assert_cmpstr (serves, ==, one_to_many);

  /* every direction among the four languages: all encoder and decoder sets */
  r = run_cli (NULL, "export", "-m", moe, "--experts", index, "--langs",
               "eng_Latn,ron_Latn,fra_Latn,zho_Hans", "-o", all, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "18 of 32 experts kept for 12 direction(s)"));
  run_clear (&r);
  g_autofree char *kept_all = kept_layers (all);
  g_assert_cmpstr (kept_all, ==, "[0,1,2,3,4]|[1,2,3,4]|[0,1,2,3]|[0,1,2,3,4]");
  g_autofree char *serves_all = served (all);
  g_assert_true (g_str_has_prefix (serves_all, "eng_Latn-ron_Latn,eng_Latn-fra_Latn,"));
  g_assert_nonnull (strstr (serves_all, ",zho_Hans-fra_Latn"));

  /* --pair is one direction (as before); two of the three forms is a usage error */
  r = run_cli (NULL, "export", "-m", moe, "--experts", index, "--pair", "eng_Latn-fra_Latn",
               "--dry-run", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "6 of 32 experts kept for 1 direction(s)"));
  run_clear (&r);
  r = run_cli (NULL, "export", "-m", moe, "--experts", index, "--pairs", one_to_many, "--langs",
               "eng_Latn,fra_Latn", "--dry-run", NULL);
  g_assert_cmpint (r.status, ==, 2);
  run_clear (&r);
  r = run_cli (NULL, "export", "-m", moe, "--experts", index, "--pairs",
               "eng_Latn-fra_Latn,eng_Latn-deu_Latn", "--dry-run", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "deu_Latn"));
  run_clear (&r);

  /* A served direction translates quietly; another one warns. */
  const char *line = "Everyone has the right to life.\n";
  r = run_cli (line, "translate", "-m", out, "-s", "eng_Latn", "-t", "fra_Latn", "--max-len", "8",
               "-q", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_null (strstr (r.err, "warning"));
  run_clear (&r);
  r = run_cli (line, "translate", "-m", out, "-s", "fra_Latn", "-t", "eng_Latn", "--max-len", "8",
               "-q", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.err, "warning"));
  g_assert_nonnull (strstr (r.err, "fra_Latn-eng_Latn is not among them"));
  g_assert_nonnull (
      strstr (r.err, "was pruned for eng_Latn-ron_Latn, eng_Latn-fra_Latn, eng_Latn-zho_Hans"));
  run_clear (&r);
  r = run_cli (NULL, "evaluate", "-m", out, "--pairs", "eng_Latn-fra_Latn,eng_Latn-deu_Latn",
               "--limit", "1", "--beam", "1", "--max-len", "4", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.err, "eng_Latn-deu_Latn is not among them"));
  g_assert_null (strstr (r.err, "eng_Latn-fra_Latn is not"));
  run_clear (&r);
  /* a full model serves everything */
  r = run_cli (line, "translate", "-m", moe, "-s", "fra_Latn", "-t", "eng_Latn", "--max-len", "8",
               "-q", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_null (strstr (r.err, "warning"));
  run_clear (&r);

  sc_test_rm_tree (dir);
}

static char *
fixed (const char *format, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  return g_strdup (g_ascii_formatd (buf, sizeof buf, format, v));
}

/* evaluate --tsv: naver/nllb-pruning's scores/ layout, one row per
 * direction, the pruned model's scores with --experts. */
static void
test_score_table (void)
{
  g_autofree char *moe = sc_test_path ("tests/fixtures/nllb-moe-tiny");
  g_autofree char *dir = g_dir_make_tmp ("sc-cli-pipeline-XXXXXX", NULL);
  g_autofree char *index = g_build_filename (dir, "experts.json", NULL);
  g_autofree char *tsv = g_build_filename (dir, "scores.tsv", NULL);
  g_autofree char *report = g_build_filename (dir, "report.json", NULL);
  g_assert_true (g_file_set_contents (index, index_json, -1, NULL));
  Run r = run_cli (NULL, "evaluate", "-m", moe, "--experts", index, "--pairs",
                   "eng_Latn-fra_Latn,eng_Latn-ron_Latn", "--limit", "2", "--beam", "1",
                   "--max-len", "24", "--tsv", tsv, "-o", report, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "len_ratio"));
  run_clear (&r);

  g_autoptr (JsonNode) root = sc_test_load_json (report);
  JsonArray *dirs = json_object_get_array_member (json_node_get_object (root), "directions");
  g_autoptr (GString) want = g_string_new ("direction\tspBLEU\tchrF++\tlen_ratio\n");
  for (guint i = 0; i < 2; i++)
    {
      JsonObject *d = json_array_get_object_element (dirs, i);
      JsonObject *pruned = json_object_get_object_member (d, "pruned");
      double ratio = json_object_get_double_member (pruned, "len_ratio");
      g_assert_cmpfloat (ratio, >, 0.0);
      g_autofree char *b = fixed ("%.2f", json_object_get_double_member (pruned, "spbleu"));
      g_autofree char *c = fixed ("%.2f", json_object_get_double_member (pruned, "chrf++"));
      g_autofree char *l = fixed ("%.3f", ratio);
      g_string_append_printf (want, "%s\t%s\t%s\t%s\n",
                              json_object_get_string_member (d, "direction"), b, c, l);
    }
  g_autofree char *got = NULL;
  g_assert_true (g_file_get_contents (tsv, &got, NULL, NULL));
  g_assert_cmpstr (got, ==, want->str);
  g_assert_true (
      g_str_has_prefix (got, "direction\tspBLEU\tchrF++\tlen_ratio\neng_Latn-fra_Latn\t"));

  r = run_cli (NULL, "evaluate", "-m", moe, "--pairs", "eng_Latn-fra_Latn", "--metrics", "nll",
               "--tsv", tsv, NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "--tsv"));
  run_clear (&r);
  sc_test_rm_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cli-pipeline/one-to-many", test_one_to_many);
  g_test_add_func ("/cli-pipeline/score-table", test_score_table);
  return g_test_run ();
}
