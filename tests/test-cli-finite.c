/* test-cli-finite.c: every file secateur-cli writes reads back (statistics,
 * evaluate report, translations, exported config.json, the sparsity
 * record) and none holds NaN or infinity: a model with a NaN weight fails
 * clearly instead of writing garbage over good files, and concurrent
 * `calibrate --append` runs all count. */
#include "sc-model.h"
#include "sc-stats.h"
#include "sc-test-cli.h"
#include "sc-test-util.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static char *tmp;

static char *
fixture (const char *name)
{
  g_autofree char *rel = g_build_filename ("tests/fixtures", name, NULL);
  return sc_test_path (rel);
}

static char *
read_text (const char *path)
{
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&text);
}

static char *
write_corpus (const char *name, const char *text)
{
  char *path = g_build_filename (tmp, name, NULL);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static void
expect_failure (Run *r, const char *needle)
{
  if (r->status != 1 || strstr (r->err, needle) == NULL)
    g_error ("expected exit 1 naming %s, got %d: %s", needle, r->status, r->err);
  run_clear (r);
}

#define ROUTER "model.encoder.layers.1.ffn.router.classifier.weight"

/* A copy of nllb-moe-tiny with a NaN in its first encoder router. */
static char *
nan_model (void)
{
  g_autofree char *src = fixture ("nllb-moe-tiny");
  /* the same folder name: statistics name their model after it */
  char *dir = g_build_filename (tmp, "nan", "nllb-moe-tiny", NULL);
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
      sc_test_copy_files (src, dir, NULL);
      sc_test_poison_tensor (dir, ROUTER, 3, NAN);
    }
  return dir;
}

static void
test_nan_model (void)
{
  g_autofree char *good = fixture ("nllb-moe-tiny");
  g_autofree char *bad = nan_model ();
  const char *line = "Everyone has the right to life.\n";

  /* translate: an error, not empty lines; -o leaves no file */
  Run r = run_cli (line, "translate", "-m", bad, "-s", "eng_Latn", "-t", "fra_Latn", "--max-len",
                   "8", NULL);
  g_assert_cmpstr (r.out, ==, "");
  expect_failure (&r, ROUTER);
  g_autofree char *in = write_corpus ("in.txt", line);
  g_autofree char *out = g_build_filename (tmp, "out.txt", NULL);
  r = run_cli (NULL, "translate", "-m", bad, "-s", "eng_Latn", "-t", "fra_Latn", "--beam", "2",
               "--max-len", "8", "-i", in, "-o", out, NULL);
  expect_failure (&r, ROUTER);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));

  /* evaluate -o: no "nll": nan.0 */
  g_autofree char *report = g_build_filename (tmp, "report.json", NULL);
  r = run_cli (NULL, "evaluate", "-m", bad, "--pairs", "eng_Latn-fra_Latn", "--limit", "2",
               "--max-len", "8", "--beam", "1", "-o", report, NULL);
  expect_failure (&r, ROUTER);
  g_assert_false (g_file_test (report, G_FILE_TEST_EXISTS));
  r = run_cli (NULL, "evaluate", "-m", bad, "--pairs", "eng_Latn-fra_Latn", "--limit", "2",
               "--metrics", "nll", NULL);
  expect_failure (&r, ROUTER);

  /* calibrate over good statistics, with and without --append: the good
   * file stays byte for byte */
  g_autofree char *src = write_corpus ("src.txt", "All human beings are born free.\n");
  g_autofree char *tgt = write_corpus ("tgt.txt", "Tous les êtres humains naissent libres.\n");
  g_autofree char *stats = g_build_filename (tmp, "good-stats.json", NULL);
  r = run_cli (NULL, "calibrate", "-m", good, "-s", "eng_Latn", "-t", "fra_Latn", "--source", src,
               "--target", tgt, "-o", stats, "-q", NULL);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);
  g_autofree char *before = read_text (stats);
  for (int append = 0; append < 2; append++)
    {
      r = run_cli (NULL, "calibrate", "-m", bad, "-s", "eng_Latn", "-t", "fra_Latn", "--source",
                   src, "--target", tgt, "-o", stats, "-q", append ? "--append" : NULL, NULL);
      expect_failure (&r, ROUTER);
      g_autofree char *after = read_text (stats);
      g_assert_cmpstr (after, ==, before);
    }
  g_autofree char *lock = g_strconcat (stats, ".lock", NULL);
  g_assert_false (g_file_test (lock, G_FILE_TEST_EXISTS));

  /* export and sparsify copy tensors without running the model: the NaN
   * is named, and written only when asked for, with a warning */
  g_autofree char *keep = write_corpus ("keep.json", "[[0,2,5,7],[1,2,3,6],[0,1,4,6],[2,3,5,7]]");
  g_autofree char *exported = g_build_filename (tmp, "exported", NULL);
  r = run_cli (NULL, "export", "-m", bad, "--keep", keep, "-o", exported, NULL);
  g_assert_nonnull (strstr (r.err, "--allow-non-finite"));
  expect_failure (&r, ROUTER);
  g_assert_false (g_file_test (exported, G_FILE_TEST_EXISTS));
  r = run_cli (NULL, "export", "-m", bad, "--keep", keep, "-o", exported, "--allow-non-finite",
               NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.err, "NaN or infinity: " ROUTER));
  run_clear (&r);
  g_autofree char *sparse = g_build_filename (tmp, "sparse", NULL);
  r = run_cli (NULL, "sparsify", "-m", bad, "--method", "magnitude", "--sparsity", "0.5", "-o",
               sparse, NULL);
  expect_failure (&r, ROUTER);
  g_assert_false (g_file_test (sparse, G_FILE_TEST_EXISTS));
  r = run_cli (NULL, "sparsify", "-m", bad, "--method", "magnitude", "--sparsity", "0.5", "-o",
               sparse, "--allow-non-finite", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.err, ROUTER));
  run_clear (&r);
}

static gint64
direction_tokens (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ScStats) s = sc_stats_load (path, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (ScStatsCounters) c = sc_stats_get_pair (s, "eng_Latn-fra_Latn", &error);
  g_assert_no_error (error);
  return (gint64) sc_stats_counters_total_tokens (c);
}

/* Three `calibrate --append` at once on one file: every run counts (each
 * used to read the file at its start and write at its end, keeping one). */
static void
test_append_concurrent (void)
{
  g_autofree char *model = fixture ("nllb-moe-tiny");
  g_autofree char *src = write_corpus ("c-src.txt", "All human beings are born free.\n"
                                                    "Everyone has the right to life.\n");
  g_autofree char *tgt = write_corpus ("c-tgt.txt", "Tous les êtres humains naissent libres.\n"
                                                    "Tout individu a droit à la vie.\n");
  g_autofree char *one = g_build_filename (tmp, "one.json", NULL);
  Run r = run_cli (NULL, "calibrate", "-m", model, "-s", "eng_Latn", "-t", "fra_Latn", "--source",
                   src, "--target", tgt, "-o", one, "-q", NULL);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);
  gint64 per_run = direction_tokens (one);
  g_assert_cmpint (per_run, >, 0);

  g_autofree char *shared = g_build_filename (tmp, "shared.json", NULL);
  g_autofree char *first = read_text (one);
  g_assert_true (g_file_set_contents (shared, first, -1, NULL)); /* a first run */
  const char *cli = g_getenv ("SC_CLI");
  GSubprocess *procs[3];
  for (int i = 0; i < 3; i++)
    {
      g_autoptr (GError) error = NULL;
      procs[i] = g_subprocess_new (
          G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error, cli,
          "calibrate", "-m", model, "-s", "eng_Latn", "-t", "fra_Latn", "--source", src, "--target",
          tgt, "-o", shared, "--append", NULL);
      g_assert_no_error (error);
    }
  for (int i = 0; i < 3; i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_true (g_subprocess_wait_check (procs[i], NULL, &error));
      g_assert_no_error (error);
      g_object_unref (procs[i]);
    }
  g_assert_cmpint (direction_tokens (shared), ==, 4 * per_run);
  g_autofree char *lock = g_strconcat (shared, ".lock", NULL);
  g_assert_false (g_file_test (lock, G_FILE_TEST_EXISTS));
}

/* What each command writes reads back: translations equal what stdout
 * shows, the evaluate report is JSON with the printed scores, merged
 * statistics keep 1e308 exactly, an export's config.json loads with its
 * numbers unchanged, the sparsity record holds its ratio. */
static void
test_round_trip (void)
{
  g_autofree char *model = fixture ("nllb-moe-tiny");
  const char *lines = "Everyone has the right to life.\nAll human beings are born free.\n";
  Run shown = run_cli (lines, "translate", "-m", model, "-s", "eng_Latn", "-t", "fra_Latn",
                       "--max-len", "12", NULL);
  g_assert_cmpint (shown.status, ==, 0);
  g_autofree char *in = write_corpus ("rt-in.txt", lines);
  g_autofree char *out = g_build_filename (tmp, "rt-out.txt", NULL);
  Run r = run_cli (NULL, "translate", "-m", model, "-s", "eng_Latn", "-t", "fra_Latn", "--max-len",
                   "12", "-i", in, "-o", out, NULL);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);
  g_autofree char *written = read_text (out);
  g_assert_cmpstr (written, ==, shown.out);
  run_clear (&shown);

  g_autofree char *report = g_build_filename (tmp, "rt-report.json", NULL);
  r = run_cli (NULL, "evaluate", "-m", model, "--pairs", "eng_Latn-fra_Latn", "--limit", "2",
               "--max-len", "8", "--beam", "1", "-o", report, NULL);
  g_assert_cmpint (r.status, ==, 0);
  double chrf = 0, spbleu = 0;
  const char *row = strstr (r.out, "eng_Latn-fra_Latn");
  g_assert_nonnull (row);
  g_assert_cmpint (sscanf (row, "eng_Latn-fra_Latn %*d %lf %*s %*s %lf", &chrf, &spbleu), ==, 2);
  run_clear (&r);
  g_autoptr (JsonNode) rep = sc_test_load_json (report);
  JsonArray *dirs = json_object_get_array_member (json_node_get_object (rep), "directions");
  g_assert_cmpuint (json_array_get_length (dirs), ==, 1);
  JsonObject *full =
      json_object_get_object_member (json_array_get_object_element (dirs, 0), "full");
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (full, "chrf++"), chrf, 0.006);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (full, "spbleu"), spbleu, 0.006);
  double nll = json_object_get_double_member (full, "nll");
  g_assert_true (isfinite (nll) && nll > 0);

  /* stats merge of a file holding 1e308 (json-glib wrote "1e+308.0") */
  g_autofree char *big = write_corpus (
      "big.json",
      "{\"schema\": \"secateur-stats\", \"version\": 1, \"model\": {\"name\": \"x\", \"d_model\": "
      "2, \"encoder_layers\": 1, \"decoder_layers\": 1, \"moe_layers\": 1, \"encoder_moe_layers\": "
      "1, \"num_experts\": 2}, \"directions\": {\"eng_Latn-fra_Latn\": {\"tokens\": [3], \"top1\": "
      "[[2, 1]], \"top2\": [[1, 2]], \"gate1\": [[1e308, 5e-324]], \"gate2\": [[1e17, 0.1]], "
      "\"prob_sum\": [[2, 1]], \"rank_sum\": [[4, 5]], \"reap_sum\": [[0, 0]]}}}");
  g_autofree char *merged = g_build_filename (tmp, "merged.json", NULL);
  r = run_cli (NULL, "stats", "merge", big, "-o", merged, NULL);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScStats) back = sc_stats_load (merged, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (ScStatsCounters) c = sc_stats_get_pair (back, "eng_Latn-fra_Latn", &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (c->gate1[0], ==, 1e308);
  g_assert_cmpfloat (c->gate1[1], ==, 5e-324);
  g_assert_cmpfloat (c->gate2[0], ==, 1e17);
  g_assert_cmpfloat (c->gate2[1], ==, 0.1);
  /* merged with itself it overflows: refused, nothing written */
  g_autofree char *twice = g_build_filename (tmp, "twice.json", NULL);
  r = run_cli (NULL, "stats", "merge", big, big, "-o", twice, NULL);
  expect_failure (&r, "gate1 of MoE layer 0, expert 0 is infinite");
  g_assert_false (g_file_test (twice, G_FILE_TEST_EXISTS));

  /* export: config.json loads, its numbers as in the source */
  g_autofree char *keep =
      write_corpus ("rt-keep.json", "[[0,2,5,7],[1,2,3,6],[0,1,4,6],[2,3,5,7]]");
  g_autofree char *exported = g_build_filename (tmp, "rt-exported", NULL);
  r = run_cli (NULL, "export", "-m", model, "--keep", keep, "-o", exported, NULL);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);
  g_autoptr (ScModel) m = sc_model_load (exported, NULL, &error);
  g_assert_no_error (error);
  g_autofree char *src_cfg_path = g_build_filename (model, "config.json", NULL);
  g_autofree char *out_cfg_path = g_build_filename (exported, "config.json", NULL);
  g_autoptr (JsonNode) src_cfg = sc_test_load_json (src_cfg_path);
  g_autoptr (JsonNode) out_cfg = sc_test_load_json (out_cfg_path);
  const char *keys[] = { "init_std", "router_z_loss_coef", "moe_token_dropout", "d_model" };
  for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
    g_assert_cmpfloat (json_object_get_double_member (json_node_get_object (out_cfg), keys[k]), ==,
                       json_object_get_double_member (json_node_get_object (src_cfg), keys[k]));

  /* sparsify: the record in config.json */
  g_autofree char *sparse = g_build_filename (tmp, "rt-sparse", NULL);
  r = run_cli (NULL, "sparsify", "-m", model, "--method", "magnitude", "--sparsity", "0.5", "-o",
               sparse, NULL);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);
  g_autofree char *sp_cfg_path = g_build_filename (sparse, "config.json", NULL);
  g_autoptr (JsonNode) sp_cfg = sc_test_load_json (sp_cfg_path);
  JsonObject *rec =
      json_object_get_object_member (json_node_get_object (sp_cfg), "secateur_sparsity");
  g_assert_nonnull (rec);
  g_assert_cmpfloat (json_object_get_double_member (rec, "ratio"), ==, 0.5);
  double achieved = json_object_get_double_member (rec, "achieved");
  g_assert_cmpfloat (achieved, >, 0.45);
  g_assert_cmpfloat (achieved, <=, 0.5);
  g_autoptr (ScModel) sm = sc_model_load (sparse, NULL, &error);
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  tmp = g_dir_make_tmp ("sc-cli-finite-XXXXXX", NULL);
  g_test_add_func ("/cli-finite/nan-model", test_nan_model);
  g_test_add_func ("/cli-finite/append-concurrent", test_append_concurrent);
  g_test_add_func ("/cli-finite/round-trip", test_round_trip);
  int status = g_test_run ();
  sc_test_rm_tree (tmp);
  g_free (tmp);
  return status;
}
