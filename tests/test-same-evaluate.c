/* test-same-evaluate.c: evaluation is one workflow (engine/jobs/
 * sc-evaluate-job.h), whoever runs it. On the demo model, calibrated by the
 * application's controller and pruned with `secateur-cli select`'s
 * defaults: the controller's quality sweep scores the full model and the
 * 50 % point exactly as `secateur-cli evaluate` does (greedy), and the
 * controller's Compare gives the translations and scores of `evaluate` and
 * `compare` (the model's beams). Runs wherever the controller builds
 * (Cairo), with or without GTK. */
#include "sc-test-controller.h"
#include "sc-test-cli.h"
#include "sc-test-util.h"
#include "secateur-controller.h"

#include <string.h>

/* direction's entry of an evaluate report */
static JsonObject *
report_direction (JsonNode *root, const char *direction)
{
  JsonArray *dirs = json_object_get_array_member (json_node_get_object (root), "directions");
  for (guint i = 0; i < json_array_get_length (dirs); i++)
    {
      JsonObject *o = json_array_get_object_element (dirs, i);
      if (g_str_equal (json_object_get_string_member (o, "direction"), direction))
        return o;
    }
  g_assert_not_reached ();
}

static double
side_score (JsonObject *dir, const char *side, const char *metric)
{
  return json_object_get_double_member (json_object_get_object_member (dir, side), metric);
}

static void
test_same_evaluation (void)
{
  g_autofree char *dir = sc_test_path ("resources/models/demo");
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_test_skip ("the demo model is not shipped");
      return;
    }
  g_autoptr (SecateurController) c = secateur_controller_new ();
  ScTestWait w = { g_main_loop_new (NULL, FALSE) };
  g_autoptr (GError) error = NULL;
  sc_test_controller_load (c, dir, &w);
  secateur_controller_set_eval_limits (c, 3, 48);
  const char *pairs[] = { "fra_Latn-eng_Latn", "eng_Latn-fra_Latn", NULL };
  sc_test_controller_calibrate (c, pairs, SC_CORPUS_UDHR, 24, 0, &w);

  g_autofree char *tmp = g_dir_make_tmp ("secateur-same-eval-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *stats_path = g_build_filename (tmp, "stats.json", NULL);
  g_autofree char *index_path = g_build_filename (tmp, "experts.json", NULL);
  g_autofree char *greedy_path = g_build_filename (tmp, "greedy.json", NULL);
  g_autofree char *beams_path = g_build_filename (tmp, "beams.json", NULL);
  g_assert_true (sc_stats_save (secateur_controller_get_stats (c), stats_path, &error));
  g_assert_no_error (error);
  Run cli =
      run_cli (NULL, "select", "--stats", stats_path, "--ratio", "0.5", "-o", index_path, NULL);
  g_assert_cmpint (cli.status, ==, 0);
  run_clear (&cli);
  ScPruneSettings s;
  sc_prune_settings_init (&s);

  /* the sweep's 0 % and 50 % points: evaluate's full and pruned chrF++, greedy */
  secateur_controller_sweep_async (c, &s, NULL, sc_test_got_result, &w);
  g_autoptr (GAsyncResult) r2 = sc_test_wait_result (&w);
  g_assert_true (secateur_controller_sweep_finish (c, r2, &error));
  g_assert_no_error (error);
  int n;
  const double *ratios, *mean;
  g_assert_true (secateur_controller_get_sweep (c, &n, &ratios, &mean));
  g_assert_cmpfloat (ratios[0], ==, 0.0);
  g_assert_cmpfloat (ratios[2], ==, 0.5);
  const double *scores = secateur_controller_get_sweep_scores (c);
  g_auto (GStrv) swept = sc_stats_list_directions (secateur_controller_get_stats (c));
  cli = run_cli (NULL, "evaluate", "-m", dir, "--pairs", "fra_Latn-eng_Latn,eng_Latn-fra_Latn",
                 "--experts", index_path, "--limit", "3", "--beam", "1", "--max-len", "48", "-o",
                 greedy_path, NULL);
  if (cli.status != 0)
    g_error ("evaluate failed: %s", cli.err);
  run_clear (&cli);
  g_autoptr (JsonNode) greedy = sc_test_load_json (greedy_path);
  double sum_full = 0, sum_pruned = 0;
  for (int d = 0; swept[d] != NULL; d++)
    {
      JsonObject *e = report_direction (greedy, swept[d]);
      g_test_message ("%s: chrF++ %.2f full, %.2f at 50 %%", swept[d], scores[d * n],
                      scores[d * n + 2]);
      g_assert_cmpfloat (scores[d * n + 0], ==, side_score (e, "full", "chrf++"));
      g_assert_cmpfloat (scores[d * n + 2], ==, side_score (e, "pruned", "chrf++"));
      sum_full += scores[d * n + 0];
      sum_pruned += scores[d * n + 2];
    }
  g_assert_cmpfloat_with_epsilon (mean[0], sum_full / 2, 1e-12);
  g_assert_cmpfloat_with_epsilon (mean[2], sum_pruned / 2, 1e-12);

  /* Compare (the model's beams): evaluate's translations and scores, compare's summary */
  secateur_controller_compare_async (c, "fra_Latn", "eng_Latn", NULL, 3, &s, NULL, sc_test_got_result, &w);
  g_autoptr (GAsyncResult) r3 = sc_test_wait_result (&w);
  g_autoptr (SecateurCompareResult) app = secateur_controller_compare_finish (c, r3, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (app->rows->len, ==, 3);
  cli = run_cli (NULL, "evaluate", "-m", dir, "--pairs", "fra_Latn-eng_Latn", "--experts",
                 index_path, "--limit", "3", "--max-len", "48", "-o", beams_path, NULL);
  g_assert_cmpint (cli.status, ==, 0);
  run_clear (&cli);
  g_autoptr (JsonNode) beams = sc_test_load_json (beams_path);
  JsonObject *e = report_direction (beams, "fra_Latn-eng_Latn");
  g_assert_cmpfloat (side_score (e, "full", "chrf++"), ==, app->chrf_full);
  g_assert_cmpfloat (side_score (e, "pruned", "chrf++"), ==, app->chrf_pruned);
  g_assert_cmpfloat (side_score (e, "full", "spbleu"), ==, app->spbleu_full);
  g_assert_cmpfloat (side_score (e, "pruned", "spbleu"), ==, app->spbleu_pruned);
  JsonArray *full_out =
      json_object_get_array_member (json_object_get_object_member (e, "full"), "translations");
  JsonArray *pruned_out =
      json_object_get_array_member (json_object_get_object_member (e, "pruned"), "translations");
  int same = 0;
  for (guint i = 0; i < 3; i++)
    {
      SecateurCompareRow *row = app->rows->pdata[i];
      g_assert_cmpstr (json_array_get_string_element (full_out, i), ==, row->full);
      g_assert_cmpstr (json_array_get_string_element (pruned_out, i), ==, row->pruned);
      same += g_str_equal (row->full, row->pruned);
    }
  g_assert_cmpfloat (json_object_get_double_member (e, "agreement"), ==, same / 3.0);

  cli = run_cli (NULL, "compare", "-m", dir, "--pair", "fra_Latn-eng_Latn", "--experts", index_path,
                 "--limit", "3", "--max-len", "48", NULL);
  g_assert_cmpint (cli.status, ==, 0);
  for (guint i = 0; i < 3; i++)
    {
      /* each sentence's chrF++ as the application shows it */
      SecateurCompareRow *row = app->rows->pdata[i];
      g_autofree char *line =
          g_strdup_printf ("    pruned:    %s  (chrF++ %.1f)", row->pruned, row->chrf_pruned);
      g_assert_nonnull (strstr (cli.out, line));
    }
  g_autofree char *summary = g_strdup_printf (
      "3 sentences: chrF++ %.2f full, %.2f pruned (%+.2f); spBLEU %.2f / %.2f", app->chrf_full,
      app->chrf_pruned, app->chrf_pruned - app->chrf_full, app->spbleu_full, app->spbleu_pruned);
  g_assert_nonnull (strstr (cli.out, summary));
  run_clear (&cli);

  sc_test_rm_tree (tmp);
  g_main_loop_unref (w.loop);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/same-evaluate/controller-and-cli", test_same_evaluation);
  return g_test_run ();
}
