/* test-cli-project.c: `--project DIR` on calibrate, select, evaluate and
 * export (the folder the application reads, sc-project.h): calibrate
 * --project, select --project, export --project give the same files as
 * the explicit --stats / --experts path, and each step is recorded in the
 * project. The binary comes from the SC_CLI environment variable. */
#include "sc-project.h"
#include "sc-test-cli.h"
#include "sc-test-util.h"

#include <glib/gstdio.h>
#include <string.h>

static void
assert_same_file (const char *a, const char *b)
{
  g_autofree char *da = NULL, *db = NULL;
  gsize la = 0, lb = 0;
  g_assert_true (g_file_get_contents (a, &da, &la, NULL));
  g_assert_true (g_file_get_contents (b, &db, &lb, NULL));
  if (la != lb || memcmp (da, db, la) != 0)
    g_error ("%s and %s differ", a, b);
}

static void
assert_same_folder (const char *a, const char *b)
{
  g_autoptr (GDir) d = g_dir_open (a, 0, NULL);
  g_assert_nonnull (d);
  const char *name;
  int n = 0;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *pa = g_build_filename (a, name, NULL);
      g_autofree char *pb = g_build_filename (b, name, NULL);
      if (g_file_test (pa, G_FILE_TEST_IS_DIR))
        continue;
      assert_same_file (pa, pb);
      n++;
    }
  g_assert_cmpint (n, >=, 3);
}

static void
run_ok (Run *r)
{
  if (r->status != 0)
    g_error ("secateur-cli failed (%d): %s", r->status, r->err);
  run_clear (r);
}

static void
test_pipeline (void)
{
  g_autofree char *moe = sc_test_path ("tests/fixtures/nllb-moe-tiny");
  g_autofree char *dir = g_dir_make_tmp ("sc-cli-project-XXXXXX", NULL);
  g_autofree char *proj = g_build_filename (dir, "tiny.secateur", NULL);
  g_autofree char *explicit_dir = g_build_filename (dir, "explicit", NULL);
  g_assert_cmpint (g_mkdir (explicit_dir, 0755), ==, 0);
  /* the explicit files under the names the project gives them, so that
   * the records that name them agree */
  g_autofree char *stats = g_build_filename (explicit_dir, "statistics.json", NULL);
  g_autofree char *index = g_build_filename (explicit_dir, "selection-1.json", NULL);
  g_autofree char *out_p = g_build_filename (dir, "out-project", NULL);
  g_autofree char *out_e = g_build_filename (dir, "out-explicit", NULL);
  g_autofree char *bundle_p = g_build_filename (dir, "bundle-project", NULL);
  g_autofree char *bundle_e = g_build_filename (dir, "bundle-explicit", NULL);
  const char *pairs = "eng_Latn-fra_Latn,fra_Latn-eng_Latn";

  /* two runs into the project (created by the first), the same two into a file */
  Run r = run_cli (NULL, "calibrate", "-m", moe, "--pairs", pairs, "--size", "6", "--project",
                   proj, "-q", NULL);
  run_ok (&r);
  g_assert_true (sc_project_is_project (proj));
  r = run_cli (NULL, "calibrate", "--project", proj, "--pairs", "eng_Latn-fra_Latn", "--size", "3",
               "--seed", "4", "-q", NULL);
  run_ok (&r);
  r = run_cli (NULL, "calibrate", "-m", moe, "--pairs", pairs, "--size", "6", "-o", stats, "-q",
               NULL);
  run_ok (&r);
  r = run_cli (NULL, "calibrate", "-m", moe, "--pairs", "eng_Latn-fra_Latn", "--size", "3",
               "--seed", "4", "-o", stats, "--append", "-q", NULL);
  run_ok (&r);
  g_autofree char *proj_stats = g_build_filename (proj, "statistics.json", NULL);
  assert_same_file (proj_stats, stats);

  /* select: the project's statistics, the selection stored in it */
  r = run_cli (NULL, "select", "--project", proj, "--ratio", "0.5", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "selection-1 in "));
  run_clear (&r);
  r = run_cli (NULL, "select", "--stats", stats, "--ratio", "0.5", "-o", index, NULL);
  run_ok (&r);
  g_autofree char *proj_index = g_build_filename (proj, "selections", "selection-1.json", NULL);
  assert_same_file (proj_index, index);

  /* export: the project's model and newest selection, recorded */
  r = run_cli (NULL, "export", "--project", proj, "--pairs", pairs, "-o", out_p, NULL);
  run_ok (&r);
  r = run_cli (NULL, "export", "-m", moe, "--experts", index, "--pairs", pairs, "-o", out_e, NULL);
  run_ok (&r);
  assert_same_folder (out_p, out_e);

  /* the bundle: the project's statistics */
  r = run_cli (NULL, "export", "--project", proj, "--bundle", "--pair", "eng_Latn-fra_Latn",
               "--ratio", "0.25", "-o", bundle_p, NULL);
  run_ok (&r);
  r = run_cli (NULL, "export", "-m", moe, "--bundle", "--stats", stats, "--pair",
               "eng_Latn-fra_Latn", "--ratio", "0.25", "-o", bundle_e, NULL);
  run_ok (&r);
  g_autofree char *model_p = g_build_filename (bundle_p, "model", NULL);
  g_autofree char *model_e = g_build_filename (bundle_e, "model", NULL);
  assert_same_folder (model_p, model_e);

  /* evaluate: the report stored */
  r = run_cli (NULL, "evaluate", "--project", proj, "--pairs", "eng_Latn-fra_Latn", "--limit", "2",
               "--experts", proj_index, "--max-len", "8", NULL);
  run_ok (&r);

  g_autoptr (GError) error = NULL;
  g_autoptr (ScProject) p = sc_project_open (proj, NULL, &error);
  g_assert_no_error (error);
  g_autofree char *abs_moe = g_canonicalize_filename (moe, NULL);
  g_assert_cmpstr (sc_project_get_model_dir (p), ==, abs_moe);
  g_autoptr (JsonNode) doc = sc_project_get_document (p);
  JsonObject *root = json_node_get_object (doc);
  JsonArray *sels = json_object_get_array_member (root, "selections");
  g_assert_cmpuint (json_array_get_length (sels), ==, 1);
  JsonObject *settings =
      json_object_get_object_member (json_array_get_object_element (sels, 0), "settings");
  g_assert_cmpfloat (json_object_get_double_member (settings, "ratio"), ==, 0.5);
  g_assert_cmpstr (json_object_get_string_member (settings, "metric"), ==, "importance");
  JsonArray *evals = json_object_get_array_member (root, "evaluations");
  g_assert_cmpuint (json_array_get_length (evals), ==, 1);
  JsonObject *e0 = json_array_get_object_element (evals, 0);
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (e0, "directions"),
                                                  0),
                   ==, "eng_Latn-fra_Latn");
  g_autofree char *eval_path = g_build_filename (proj, "evaluations", "evaluation-1.json", NULL);
  g_autoptr (JsonNode) report = sc_test_load_json (eval_path);
  JsonObject *d0 = json_array_get_object_element (
      json_object_get_array_member (json_node_get_object (report), "directions"), 0);
  g_assert_cmpint (json_object_get_int_member (d0, "sentences"), ==, 2);
  g_assert_true (json_object_has_member (d0, "pruned"));

  g_autoptr (JsonArray) exports = sc_project_get_exports (p);
  g_assert_cmpuint (json_array_get_length (exports), ==, 2);
  JsonObject *x0 = json_array_get_object_element (exports, 0);
  g_assert_cmpstr (json_object_get_string_member (x0, "folder"), ==, out_p);
  JsonArray *served = json_object_get_array_member (x0, "directions");
  g_assert_cmpuint (json_array_get_length (served), ==, 2);
  g_assert_cmpstr (json_array_get_string_element (served, 1), ==, "fra_Latn-eng_Latn");
  JsonObject *xs = json_object_get_object_member (x0, "settings");
  g_assert_cmpstr (json_object_get_string_member (xs, "index"), ==, "selection-1.json");
  g_assert_cmpfloat (json_object_get_double_member (
                         json_object_get_object_member (xs, "settings"), "ratio"),
                     ==, 0.5);
  JsonObject *x1 = json_array_get_object_element (exports, 1);
  g_assert_cmpstr (json_object_get_string_member (x1, "folder"), ==, bundle_p);
  g_assert_cmpfloat (json_object_get_double_member (
                         json_object_get_object_member (x1, "settings"), "ratio"),
                     ==, 0.25);

  sc_test_rm_tree (dir);
}

static void
test_refused (void)
{
  g_autofree char *moe = sc_test_path ("tests/fixtures/nllb-moe-tiny");
  g_autofree char *m2m = sc_test_path ("tests/fixtures/m2m-tiny");
  g_autofree char *dir = g_dir_make_tmp ("sc-cli-project-XXXXXX", NULL);
  g_autofree char *proj = g_build_filename (dir, "p.secateur", NULL);
  g_autofree char *s = g_build_filename (dir, "s.json", NULL);

  /* --project goes without -o */
  Run r = run_cli (NULL, "calibrate", "-m", moe, "--pairs", "eng_Latn-fra_Latn", "--project", proj,
                   "-o", s, NULL);
  g_assert_cmpint (r.status, ==, 2);
  run_clear (&r);
  /* no project and no model to make one for */
  r = run_cli (NULL, "select", "--project", proj, "--ratio", "0.5", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "is not a Secateur project"));
  run_clear (&r);
  r = run_cli (NULL, "calibrate", "-m", moe, "--pairs", "eng_Latn-fra_Latn", "--size", "2",
               "--project", proj, "-q", NULL);
  run_ok (&r);
  /* another model: refused before any work, naming both */
  r = run_cli (NULL, "calibrate", "-m", m2m, "--pairs", "eng_Latn-fra_Latn", "--size", "2",
               "--project", proj, "-q", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "fingerprint"));
  g_assert_nonnull (strstr (r.err, "m2m-tiny"));
  g_assert_nonnull (strstr (r.err, "nllb-moe-tiny"));
  run_clear (&r);
  /* export without a selection says what to do */
  g_autofree char *out = g_build_filename (dir, "out", NULL);
  r = run_cli (NULL, "export", "--project", proj, "--pair", "eng_Latn-fra_Latn", "-o", out, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "select --project first"));
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  run_clear (&r);
  sc_test_rm_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cli-project/pipeline", test_pipeline);
  g_test_add_func ("/cli-project/refused", test_refused);
  return g_test_run ();
}
