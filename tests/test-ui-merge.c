/* test-ui-merge.c: the Prune page's "Merge Pruned Experts" switch (issue
 * 17) on the demo model. The switch sets the pruning settings' "merge";
 * a calibration made with it off captures no router inputs, so the page
 * says to calibrate again and Compare and the sweep refuse; calibrated with it on,
 * Compare and the quality sweep translate as `secateur-cli evaluate
 * --merge` does, the
 * exported model equals `secateur-cli export --merge` on the bundle's
 * statistics and capture, tensor for tensor, translates and scores as
 * masked evaluation with merging, and differs from the export without
 * merging. */
#include "sc-test-async.h"
#include "sc-test-cli.h"
#include "sc-test-ui.h"
#include "secateur-window.h"

#include <string.h>

#define DIRECTION "eng_Latn-fra_Latn"

static SecateurWindow *window;
static char *tmp;

static SecateurController *
controller (void)
{
  return secateur_window_get_controller (window);
}

static gboolean
calibrate (GError **error)
{
  SecateurCalibrateRequest req = {
    .corpus = { SC_CORPUS_DEFAULT, NULL },
    .sampling = SC_SAMPLE_UNIFORM,
    .size = 6,
    .mode = SC_CALIBRATE_TEACHER_FORCED,
  };
  ScTestWait w = { g_main_loop_new (NULL, FALSE), NULL };
  secateur_controller_calibrate_async (controller (), &req, NULL, sc_test_got_result, &w);
  g_autoptr (GAsyncResult) res = sc_test_wait_result (&w);
  g_main_loop_unref (w.loop);
  return secateur_controller_calibrate_finish (controller (), res, error);
}

static SecateurCompareResult *
compare (GError **error)
{
  ScTestWait w = { g_main_loop_new (NULL, FALSE), NULL };
  secateur_controller_compare_async (controller (), "eng_Latn", "fra_Latn", NULL, 2, NULL, NULL,
                                     sc_test_got_result, &w);
  g_autoptr (GAsyncResult) res = sc_test_wait_result (&w);
  g_main_loop_unref (w.loop);
  return secateur_controller_compare_finish (controller (), res, error);
}

static gboolean
sweep (GError **error)
{
  ScTestWait w = { g_main_loop_new (NULL, FALSE), NULL };
  secateur_controller_sweep_async (controller (), NULL, NULL, sc_test_got_result, &w);
  g_autoptr (GAsyncResult) res = sc_test_wait_result (&w);
  g_main_loop_unref (w.loop);
  return secateur_controller_sweep_finish (controller (), res, error);
}

static gboolean
export_bundle (const char *folder, GError **error)
{
  const char *dirs[] = { DIRECTION, NULL };
  ScTestWait w = { g_main_loop_new (NULL, FALSE), NULL };
  secateur_controller_export_async (controller (), folder, dirs, NULL, FALSE, NULL, NULL,
                                    sc_test_got_result, &w);
  g_autoptr (GAsyncResult) res = sc_test_wait_result (&w);
  g_main_loop_unref (w.loop);
  return secateur_controller_export_finish (controller (), res, error);
}

/* Tensors of `a` not byte-identical to `b`'s (both must hold the same
 * names); -1 when the names differ. */
static int
tensors_differing (const char *a, const char *b)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ScModel) ma = sc_model_load (a, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (ScModel) mb = sc_model_load (b, NULL, &error);
  g_assert_no_error (error);
  ScCheckpoint *ca = sc_model_get_checkpoint (ma), *cb = sc_model_get_checkpoint (mb);
  if (sc_checkpoint_n_tensors (ca) != sc_checkpoint_n_tensors (cb))
    return -1;
  const char *const *names = sc_checkpoint_names (ca);
  int differ = 0;
  for (guint i = 0; i < sc_checkpoint_n_tensors (ca); i++)
    {
      const ScTensor *x = sc_checkpoint_get (ca, names[i]), *y = sc_checkpoint_get (cb, names[i]);
      if (y == NULL)
        return -1;
      differ += x->nbytes != y->nbytes || memcmp (x->data, y->data, x->nbytes) != 0;
    }
  return differ;
}

static char *
translations_of (JsonObject *side)
{
  JsonArray *a = json_object_get_array_member (side, "translations");
  g_autoptr (GString) s = g_string_new (NULL);
  for (guint i = 0; i < json_array_get_length (a); i++)
    g_string_append_printf (s, "%s\n", json_array_get_string_element (a, i));
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static void
test_merge_switch (void)
{
  window = sc_ui_open_demo (2, 16);
  if (window == NULL)
    return;
  const char *dirs[] = { DIRECTION, NULL };
  secateur_controller_set_directions (controller (), dirs);
  SecateurPrunePage *page = SECATEUR_PRUNE_PAGE (secateur_window_get_page (window, "prune"));
  SecateurPruneSettings *settings = secateur_controller_get_prune_settings (controller ());
  g_object_set (settings, "ratio", 0.75, NULL);
  GtkSwitch *sw = sc_ui_child (page, "merge_switch");
  AdwActionRow *row = sc_ui_child (page, "merge_row");
  g_assert_false (gtk_switch_get_active (sw));
  g_assert_false (secateur_prune_settings_peek (settings)->merge);
  g_autofree char *explained = g_strdup (adw_action_row_get_subtitle (row));
  g_assert_nonnull (strstr (explained, "pruned expert"));

  /* calibrated with the switch off: no router inputs to merge on */
  g_autoptr (GError) error = NULL;
  g_assert_true (calibrate (&error));
  g_assert_no_error (error);
  g_assert_false (secateur_controller_has_capture (controller ()));
  gtk_switch_set_active (sw, TRUE);
  g_assert_true (secateur_prune_settings_peek (settings)->merge);
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (row), "Calibrate again"));
  g_assert_null (compare (&error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED);
  g_clear_error (&error);
  g_assert_false (sweep (&error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED);
  g_clear_error (&error);
  sc_ui_screenshot (GTK_WIDGET (window), tmp, "merge-needs-capture");

  /* the settings set elsewhere move the switch */
  g_object_set (settings, "merge", FALSE, NULL);
  g_assert_false (gtk_switch_get_active (sw));
  g_object_set (settings, "merge", TRUE, NULL);
  g_assert_true (gtk_switch_get_active (sw));

  /* calibrated with it on */
  g_assert_true (calibrate (&error));
  g_assert_no_error (error);
  g_assert_true (secateur_controller_has_capture (controller ()));
  g_assert_cmpstr (adw_action_row_get_subtitle (row), ==, explained);

  /* the export page's preview counts the capture the merged bundle carries */
  const char *plan_dirs[] = { DIRECTION, NULL };
  g_autoptr (ScExportJobPlan) plan =
      secateur_controller_export_plan (controller (), plan_dirs, NULL, &error);
  g_assert_no_error (error);
  guint64 planned_capture = 0;
  for (guint i = 0; i < plan->files->len; i++)
    {
      const ScExportFile *f = plan->files->pdata[i];
      if (g_str_equal (f->name, "statistics.capture"))
        planned_capture = f->bytes;
    }

  g_autofree char *merged = g_build_filename (tmp, "merged", NULL);
  g_assert_true (export_bundle (merged, &error));
  g_assert_no_error (error);
  g_autofree char *capture = g_build_filename (merged, "statistics.capture", NULL);
  g_autofree char *index = g_build_filename (merged, "experts.json", NULL);
  g_assert_true (g_file_test (capture, G_FILE_TEST_EXISTS));
  GStatBuf st;
  g_assert_cmpint (g_stat (capture, &st), ==, 0);
  g_assert_cmpuint (planned_capture, ==, (guint64) st.st_size);
  SecateurCompareResult *cmp = compare (&error);
  g_assert_no_error (error);
  g_assert_nonnull (cmp);

  /* the CLI from the bundle's index and capture */
  g_autofree char *demo = g_strdup (secateur_controller_get_info (controller ())->dir);
  g_autofree char *cli_out = g_build_filename (tmp, "cli-merged", NULL);
  Run r = run_cli (NULL, "export", "-m", demo, "--experts", index, "--pair", DIRECTION, "--merge",
                   "--capture", capture, "-o", cli_out, NULL);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);
  g_autofree char *app_model = g_build_filename (merged, "model", NULL);
  g_assert_cmpint (tensors_differing (app_model, cli_out), ==, 0);

  /* Compare's pruned side is evaluate --merge's */
  g_autofree char *report = g_build_filename (tmp, "eval.json", NULL);
  r = run_cli (NULL, "evaluate", "-m", demo, "--pairs", DIRECTION, "--limit", "2", "--max-len",
               "16", "--experts", index, "--merge", "--capture", capture, "--pruned-only", "-o",
               report, NULL);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);
  g_autoptr (JsonNode) doc = sc_test_load_json (report);
  JsonObject *d = json_array_get_object_element (
      json_object_get_array_member (json_node_get_object (doc), "directions"), 0);
  g_autofree char *cli_hyps = translations_of (json_object_get_object_member (d, "pruned"));
  g_autoptr (GString) app_hyps = g_string_new (NULL);
  for (guint i = 0; i < cmp->rows->len; i++)
    g_string_append_printf (app_hyps, "%s\n", ((SecateurCompareRow *) cmp->rows->pdata[i])->pruned);
  g_assert_cmpstr (app_hyps->str, ==, cli_hyps);
  secateur_compare_result_free (cmp);

  /* the exported model (F16, as the demo's checkpoint) translates as masked
   * evaluation with merging does, and scores the references alike: the
   * view runs the merged values rounded as the export stores them */
  g_autofree char *exported_report = g_build_filename (tmp, "eval-export.json", NULL);
  r = run_cli (NULL, "evaluate", "-m", cli_out, "--pairs", DIRECTION, "--limit", "2", "--max-len",
               "16", "-o", exported_report, NULL);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);
  g_autoptr (JsonNode) doc2 = sc_test_load_json (exported_report);
  JsonObject *full = json_object_get_object_member (
      json_array_get_object_element (
          json_object_get_array_member (json_node_get_object (doc2), "directions"), 0),
      "full");
  g_autofree char *exported_hyps = translations_of (full);
  g_assert_cmpstr (exported_hyps, ==, cli_hyps);
  double nll_masked =
      json_object_get_double_member (json_object_get_object_member (d, "pruned"), "nll");
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (full, "nll"), nll_masked,
                                  1e-6 * nll_masked);

  /* the sweep's point at 75 % (greedy, 2 sentences of at most 16 tokens)
   * is evaluate --merge's score with the same experts */
  g_assert_true (sweep (&error));
  g_assert_no_error (error);
  g_autofree char *greedy = g_build_filename (tmp, "eval-greedy.json", NULL);
  r = run_cli (NULL, "evaluate", "-m", demo, "--pairs", DIRECTION, "--limit", "2", "--max-len",
               "16", "--beam", "1", "--experts", index, "--merge", "--capture", capture,
               "--pruned-only", "-o", greedy, NULL);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);
  g_autoptr (JsonNode) doc3 = sc_test_load_json (greedy);
  JsonObject *pruned3 = json_object_get_object_member (
      json_array_get_object_element (
          json_object_get_array_member (json_node_get_object (doc3), "directions"), 0),
      "pruned");
  int n = 0;
  const double *ratios = NULL, *chrf = NULL;
  g_assert_true (secateur_controller_get_sweep (controller (), &n, &ratios, &chrf));
  g_assert_cmpint (n, ==, 5);
  g_assert_cmpfloat (ratios[3], ==, 0.75);
  g_assert_cmpfloat_with_epsilon (chrf[3], json_object_get_double_member (pruned3, "chrf++"), 1e-9);
  /* that run measured the merged model: no estimate for the unmerged one */
  SecateurEstimate est;
  g_assert_true (secateur_controller_estimate (controller (), DIRECTION, &est));
  g_assert_cmpint (est.kind, ==, SC_SWEEP_MEASURED);
  g_assert_cmpfloat_with_epsilon (est.chrf, chrf[3], 1e-9);
  g_object_set (settings, "merge", FALSE, NULL);
  g_assert_true (secateur_controller_estimate (controller (), DIRECTION, &est));
  g_assert_cmpint (est.kind, ==, SC_SWEEP_NOT_MEASURED);
  g_object_set (settings, "merge", TRUE, NULL);

  /* without merging, the same experts are exported unmerged */
  g_object_set (settings, "merge", FALSE, NULL);
  g_autofree char *plain = g_build_filename (tmp, "plain", NULL);
  g_assert_true (export_bundle (plain, &error));
  g_assert_no_error (error);
  g_autofree char *plain_model = g_build_filename (plain, "model", NULL);
  g_assert_cmpint (tensors_differing (app_model, plain_model), >, 0);
  g_autofree char *plain_capture = g_build_filename (plain, "statistics.capture", NULL);
  g_assert_false (g_file_test (plain_capture, G_FILE_TEST_EXISTS));

  /* the capture is kept in the model's project beside its statistics:
   * reopened, merging runs without calibrating again */
  const char *project = secateur_controller_get_project_dir (controller ());
  g_assert_nonnull (project);
  g_autofree char *saved = g_build_filename (project, "statistics.capture", NULL);
  g_assert_true (g_file_test (saved, G_FILE_TEST_IS_REGULAR));
  secateur_window_open_model (window, demo);
  g_assert_null (sc_ui_find_dialog ());
  g_assert_true (sc_ui_wait (sc_ui_controller_idle, window, 60));
  g_assert_true (sc_ui_wait (sc_ui_model_open, window, 60));
  g_assert_nonnull (secateur_controller_get_stats (controller ()));
  g_assert_true (secateur_controller_has_capture (controller ()));

  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char **argv)
{
  tmp = sc_ui_init (&argc, &argv);
  if (tmp == NULL)
    return 77; /* no display */
  g_test_add_func ("/ui-merge/switch", test_merge_switch);
  int status = g_test_run ();
  sc_test_rm_tree (tmp);
  g_free (tmp);
  return status;
}
