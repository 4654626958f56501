/* test-controller.c: the application's controller without any widget:
 * jobs on a worker thread (load, calibrate, export), their errors, the
 * busy rule, cancellation, statistics snapshots reaching the main loop,
 * the pruning plan the panel shows, and weight pruning of a view of the
 * open model (Wanda on the demo model). Runs in every build that has
 * Cairo (the report charts), with or without GTK.
 * Every case drives a controller through a main loop; loading and
 * calibrating come from sc-test-controller.h. */
#include "sc-destination.h"
#include "sc-expert-index.h"
#include "sc-test-cli.h"
#include "sc-test-controller.h"
#include "sc-test-util.h"
#include "sc-backend-select.h"
#include "secateur-controller.h"
#include "sc-report.h"

#include <cairo.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef HAVE_FONTCONFIG
#include <fontconfig/fontconfig.h>
#endif

typedef struct
{
  ScTestWait base; /* first: a Wait * is an ScTestWait * */
  int updates;
  int progress;
  GCancellable *cancel_on_progress;
} Wait;

static void
on_updated (SecateurController *c, Wait *w)
{
  w->updates++;
}

static void
on_progress (SecateurController *c, int done, int total, double rate, double eta, Wait *w)
{
  w->progress++;
  g_assert_cmpint (done, <=, total);
  if (g_getenv ("SC_TEST_TRACE"))
    g_test_message ("progress %d/%d at %.2f s", done, total, g_get_monotonic_time () / 1e6);
  if (w->cancel_on_progress != NULL && done > 0)
    g_cancellable_cancel (w->cancel_on_progress);
}

/* The shipped demo model's folder, or NULL with the test marked skipped. */
static char *
demo_dir_or_skip (void)
{
  g_autofree char *dir = sc_test_path ("resources/models/demo");
  if (g_file_test (dir, G_FILE_TEST_IS_DIR))
    return g_steal_pointer (&dir);
  g_test_skip ("the demo model is not shipped");
  return NULL;
}

static void
test_load_errors (void)
{
  g_autoptr (SecateurController) c = secateur_controller_new ();
  Wait w = { { g_main_loop_new (NULL, FALSE) } };
  secateur_controller_load_async (c, "/nonexistent/model", NULL, sc_test_got_result, &w);
  g_assert_true (secateur_controller_get_busy (c));
  /* one job at a time */
  secateur_controller_load_async (c, "/nonexistent/other", NULL, sc_test_got_result, &w);
  /* The refusal and the first job's failure come back in either order (the
   * worker can fail on the missing folder before the refusal is
   * delivered): one is G_IO_ERROR_BUSY, the other the load error. */
  g_autoptr (GAsyncResult) r1 = sc_test_wait_result (&w.base);
  g_autoptr (GAsyncResult) r2 = sc_test_wait_result (&w.base);
  g_autoptr (GError) e1 = NULL;
  g_autoptr (GError) e2 = NULL;
  g_assert_false (secateur_controller_load_finish (c, r1, &e1));
  g_assert_false (secateur_controller_load_finish (c, r2, &e2));
  gboolean first_busy = g_error_matches (e1, G_IO_ERROR, G_IO_ERROR_BUSY);
  GError *busy_error = first_busy ? e1 : e2, *load_error = first_busy ? e2 : e1;
  g_assert_error (busy_error, G_IO_ERROR, G_IO_ERROR_BUSY);
  g_assert_nonnull (load_error);
  g_assert_false (g_error_matches (load_error, G_IO_ERROR, G_IO_ERROR_BUSY));
  g_assert_nonnull (strstr (load_error->message, "/nonexistent/model"));
  g_assert_false (secateur_controller_get_busy (c));
  g_autoptr (GError) error = NULL;
  g_assert_null (secateur_controller_get_info (c));
  /* jobs that need a model say so */
  SecateurCalibrateRequest req = {
    { SC_CORPUS_UDHR, NULL }, SC_SAMPLE_PROPORTIONAL, 4, SC_CALIBRATE_TEACHER_FORCED, 0
  };
  g_clear_error (&error);
  secateur_controller_calibrate_async (c, &req, NULL, sc_test_got_result, &w);
  g_autoptr (GAsyncResult) r3 = sc_test_wait_result (&w.base);
  g_assert_false (secateur_controller_calibrate_finish (c, r3, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED);
  g_main_loop_unref (w.base.loop);
}

/* The preferences' backend: "cuda" runs on the GPU when one is usable,
 * otherwise on the CPU with a note saying why; "auto" and "cpu" need no
 * note. The fixture model keeps this quick. */
static void
test_device (void)
{
  g_autofree char *dir = sc_test_path ("tests/fixtures/nllb-moe-tiny");
  gboolean gpu = sc_backend_cuda_devices (NULL) > 0;
  static const char *const devices[] = { "cuda", "auto", "cpu" };
  for (guint i = 0; i < G_N_ELEMENTS (devices); i++)
    {
      g_autoptr (SecateurController) c = secateur_controller_new ();
      Wait w = { { g_main_loop_new (NULL, FALSE) } };
      g_autoptr (GError) error = NULL;
      secateur_controller_set_device (c, devices[i]);
      secateur_controller_set_threads (c, 1);
      secateur_controller_load_async (c, dir, NULL, sc_test_got_result, &w);
      g_autoptr (GAsyncResult) r = sc_test_wait_result (&w.base);
      g_assert_true (secateur_controller_load_finish (c, r, &error));
      g_assert_no_error (error);
      const SecateurModelInfo *info = secateur_controller_get_info (c);
      gboolean on_gpu = gpu && i < 2;
      g_assert_cmpstr (info->backend, ==, on_gpu ? "cuda" : "cpu");
      if (i == 0 && !gpu)
        {
          g_assert_nonnull (info->backend_note);
          g_assert_true (g_str_has_prefix (info->backend_note, "Running on the CPU: "));
          g_test_message ("%s", info->backend_note);
        }
      else
        g_assert_null (info->backend_note);
      if (!on_gpu)
        g_assert_cmpint (info->threads, ==, 1);
      g_main_loop_unref (w.base.loop);
    }
}

static void
test_calibrate_export (void)
{
  g_autofree char *dir = demo_dir_or_skip ();
  if (dir == NULL)
    return;
  g_autoptr (SecateurController) c = secateur_controller_new ();
  Wait w = { { g_main_loop_new (NULL, FALSE) } };
  g_signal_connect (c, "stats-updated", G_CALLBACK (on_updated), &w);
  g_signal_connect (c, "progress", G_CALLBACK (on_progress), &w);
  g_autoptr (GError) error = NULL;
  /* the preferences' thread count reaches the CPU backend */
  secateur_controller_set_threads (c, 1);
  secateur_controller_load_async (c, dir, NULL, sc_test_got_result, &w);
  g_autoptr (GAsyncResult) r = sc_test_wait_result (&w.base);
  g_assert_true (secateur_controller_load_finish (c, r, &error));
  g_assert_no_error (error);
  const SecateurModelInfo *info = secateur_controller_get_info (c);
  g_assert_cmpint (info->threads, ==, 1);
  g_assert_cmpint (info->n_moe_layers, ==, 4);
  g_assert_cmpint (info->n_encoder_moe, ==, 2);
  g_assert_cmpint (info->n_experts, ==, 16);
  g_assert_cmpuint (g_strv_length (info->languages), ==, 12);
  g_assert_cmpuint (info->params_dense + info->params_experts, >, 0);
  /* all weights at f16: parameters x 2 bytes */
  g_assert_cmpuint (info->weight_bytes, ==, (info->params_dense + info->params_experts) * 2);

  /* no pairs yet */
  SecateurCalibrateRequest req = {
    { SC_CORPUS_UDHR, NULL }, SC_SAMPLE_PROPORTIONAL, 4, SC_CALIBRATE_TEACHER_FORCED, 0
  };
  secateur_controller_calibrate_async (c, &req, NULL, sc_test_got_result, &w);
  g_autoptr (GAsyncResult) r0 = sc_test_wait_result (&w.base);
  g_assert_false (secateur_controller_calibrate_finish (c, r0, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  const char *pairs[] = { "eng_Latn-fra_Latn", "fra_Latn-eng_Latn", NULL };
  secateur_controller_set_directions (c, pairs);
  w.updates = w.progress = 0;
  secateur_controller_calibrate_async (c, &req, NULL, sc_test_got_result, &w);
  g_autoptr (GAsyncResult) r1 = sc_test_wait_result (&w.base);
  g_assert_true (secateur_controller_calibrate_finish (c, r1, &error));
  g_assert_no_error (error);
  g_assert_cmpint (w.progress, >=, 2);
  g_assert_cmpint (w.updates, >=, 1);
  ScStats *stats = secateur_controller_get_stats (c);
  g_auto (GStrv) dirs = sc_stats_list_directions (stats);
  g_assert_cmpuint (g_strv_length (dirs), ==, 2);
  g_assert_cmpuint (sc_stats_total_tokens (stats), >, 0);

  /* the pruning plan: per layer at 50 %, 3:1 -> 12 + 12 + 4 + 4 */
  ScPruneSettings s;
  sc_prune_settings_init (&s);
  s.ratio = 0.5;
  g_autofree guint8 *keep = sc_prune_keep_mask (stats, &s, "eng_Latn", "fra_Latn", &error);
  g_assert_no_error (error);
  int per_layer[] = { 12, 12, 4, 4 };
  for (int l = 0; l < 4; l++)
    g_assert_cmpint (sc_prune_count_layer (keep, l, 16), ==, per_layer[l]);
  double mass = sc_prune_mass_kept (stats, keep, (const char *[]){ "eng_Latn-fra_Latn", NULL });
  g_assert_cmpfloat (mass, >, 0.5);
  g_assert_cmpfloat (mass, <=, 1.0);
  g_autofree guint8 *all = g_malloc (64);
  memset (all, 1, 64);
  g_assert_cmpfloat_with_epsilon (sc_prune_mass_kept (stats, all, NULL), 1.0, 1e-12);
  g_autofree guint8 *both = sc_prune_keep_union (stats, &s, pairs, &error);
  int n_both = 0;
  for (int i = 0; i < 64; i++)
    {
      g_assert_true (!keep[i] || both[i]);
      n_both += both[i];
    }
  g_assert_cmpint (n_both, >=, 32);
  /* 32 experts fewer: 32 expert sizes fewer bytes */
  g_assert_cmpuint (secateur_controller_pruned_bytes (c, keep), ==,
                    info->weight_bytes - 32 * info->bytes_per_expert);
  SecateurEstimate estimate;
  g_assert_false (secateur_controller_estimate (c, NULL, &estimate));

  /* export, then refuse to overwrite, then replace on request */
  g_autofree char *tmp = g_dir_make_tmp ("secateur-controller-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *out = g_build_filename (tmp, "out", NULL);
  secateur_controller_export_async (c, out, pairs, &s, FALSE, NULL, NULL, sc_test_got_result, &w);
  g_autoptr (GAsyncResult) r2 = sc_test_wait_result (&w.base);
  g_assert_true (secateur_controller_export_finish (c, r2, &error));
  g_assert_no_error (error);
  g_autofree char *model_out = g_build_filename (out, "model", NULL);
  g_autoptr (ScModel) pruned = sc_model_load (model_out, NULL, &error);
  g_assert_no_error (error);
  guint kept = 0;
  for (guint l = 0; l < 4; l++)
    kept += ((GArray *) sc_model_get_config (pruned)->kept_experts->pdata[l])->len;
  g_assert_cmpuint (kept, ==, n_both);
  g_autofree char *index_path = g_build_filename (out, "experts.json", NULL);
  g_autoptr (ScExpertIndex) index = sc_expert_index_load (index_path, 4, 2, 16, &error);
  g_assert_no_error (error);
  GArray *ids = sc_expert_index_get (index, "eng_Latn-fra_Latn");
  g_assert_cmpuint (ids->len, ==, 32);
  for (guint i = 0; i < ids->len; i++)
    g_assert_true (keep[g_array_index (ids, int, i)]);
  g_autofree char *stats_path = g_build_filename (out, "statistics.json", NULL);
  g_autoptr (ScStats) back = sc_stats_load (stats_path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sc_stats_total_tokens (back), ==, sc_stats_total_tokens (stats));
  g_autofree char *png = g_build_filename (out, "report", "heatmap.png", NULL);
  g_assert_true (g_file_test (png, G_FILE_TEST_IS_REGULAR));

  secateur_controller_export_async (c, out, pairs, &s, FALSE, NULL, NULL, sc_test_got_result, &w);
  g_autoptr (GAsyncResult) r3 = sc_test_wait_result (&w.base);
  g_assert_false (secateur_controller_export_finish (c, r3, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
  g_clear_error (&error);
  secateur_controller_export_async (c, out, pairs, &s, TRUE, NULL, NULL, sc_test_got_result, &w);
  g_autoptr (GAsyncResult) r4 = sc_test_wait_result (&w.base);
  g_assert_true (secateur_controller_export_finish (c, r4, &error));
  g_assert_no_error (error);

  /* cancel a long calibration, added to the statistics, at its first
   * progress: stops, adds what it has, and the controller takes new work */
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  w.cancel_on_progress = cancel;
  req.size = 4000;
  req.add = TRUE;
  guint64 tokens_before = sc_stats_total_tokens (secateur_controller_get_stats (c));
  gint64 t0 = g_get_monotonic_time ();
  secateur_controller_calibrate_async (c, &req, cancel, sc_test_got_result, &w);
  g_autoptr (GAsyncResult) r5 = sc_test_wait_result (&w.base);
  g_assert_false (secateur_controller_calibrate_finish (c, r5, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_test_message ("cancelled calibration ended after %.2f s", (g_get_monotonic_time () - t0) / 1e6);
  g_assert_false (secateur_controller_get_busy (c));
  g_assert_nonnull (secateur_controller_get_stats (c));
  /* the partial statistics say so, as the CLI's interrupted runs do */
  g_autoptr (JsonArray) runs = sc_stats_get_provenance (secateur_controller_get_stats (c));
  g_assert_cmpuint (json_array_get_length (runs), ==, 2);
  g_assert_false (json_object_get_boolean_member_with_default (
      json_array_get_object_element (runs, 0), "interrupted", FALSE));
  JsonObject *run = json_array_get_object_element (runs, 1);
  g_assert_true (json_object_get_boolean_member_with_default (run, "interrupted", FALSE));
  g_assert_cmpint (json_object_get_int_member (run, "sentences"), ==, 4000);
  guint64 tokens_added = sc_stats_total_tokens (secateur_controller_get_stats (c));
  g_assert_cmpuint (tokens_added, >, tokens_before);
  /* a cancelled run meant to replace them leaves them as they were */
  g_cancellable_reset (cancel);
  req.add = FALSE;
  secateur_controller_calibrate_async (c, &req, cancel, sc_test_got_result, &w);
  g_autoptr (GAsyncResult) r6 = sc_test_wait_result (&w.base);
  g_assert_false (secateur_controller_calibrate_finish (c, r6, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_cmpuint (sc_stats_total_tokens (secateur_controller_get_stats (c)), ==, tokens_added);
  g_autoptr (JsonArray) kept_runs = sc_stats_get_provenance (secateur_controller_get_stats (c));
  g_assert_cmpuint (json_array_get_length (kept_runs), ==, 2);
  w.cancel_on_progress = NULL;
  sc_test_rm_tree (tmp);
  g_main_loop_unref (w.base.loop);
}

/* The Export's folder is held to the engine's rules, with the CLI's
 * words: never over or around the open model (a copy of the fixture here;
 * the code before the fix deleted it), model/ replaced only when it is an
 * earlier export. */
static void
test_export_refused (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("secateur-controller-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *dir = g_build_filename (tmp, "model", NULL);
  g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
  g_autofree char *fixture = sc_test_path ("tests/fixtures/nllb-moe-tiny");
  sc_test_copy_files (fixture, dir, NULL);
  g_autoptr (SecateurController) c = secateur_controller_new ();
  Wait w = { { g_main_loop_new (NULL, FALSE) } };
  secateur_controller_set_threads (c, 1);
  sc_test_controller_load (c, dir, &w.base);
  const char *pairs[] = { "eng_Latn-fra_Latn", NULL };
  sc_test_controller_calibrate (c, pairs, SC_CORPUS_UDHR, 2, 0, &w.base);
  ScPruneSettings s;
  sc_prune_settings_init (&s);

  /* the folder holding the model as model/, with Replace agreed */
  secateur_controller_export_async (c, tmp, pairs, &s, TRUE, NULL, NULL, sc_test_got_result, &w);
  g_autoptr (GAsyncResult) r2 = sc_test_wait_result (&w.base);
  g_assert_false (secateur_controller_export_finish (c, r2, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "is the model folder"));
  g_clear_error (&error);
  g_autofree char *index = g_build_filename (tmp, "experts.json", NULL);
  g_assert_false (g_file_test (index, G_FILE_TEST_EXISTS));
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;
  while (g_dir_read_name (d) != NULL)
    n++;
  g_assert_cmpuint (n, ==, 7);
  g_autofree char *weights = g_build_filename (dir, "model.safetensors", NULL);
  g_assert_true (g_file_test (weights, G_FILE_TEST_IS_REGULAR));

  /* the model's own folder: its files would land inside it */
  secateur_controller_export_async (c, dir, pairs, &s, TRUE, NULL, NULL, sc_test_got_result, &w);
  g_autoptr (GAsyncResult) r3 = sc_test_wait_result (&w.base);
  g_assert_false (secateur_controller_export_finish (c, r3, &error));
  g_assert_nonnull (strstr (error->message, "is inside the model folder"));
  g_clear_error (&error);
  g_assert_false (g_file_test (index, G_FILE_TEST_EXISTS));

  /* model/ that Secateur did not write: the same refusal as the CLI's */
  g_autofree char *other = g_build_filename (tmp, "other", NULL);
  g_autofree char *mine = g_build_filename (other, "model", "notes.txt", NULL);
  g_autofree char *mine_dir = g_path_get_dirname (mine);
  g_assert_cmpint (g_mkdir_with_parents (mine_dir, 0755), ==, 0);
  g_assert_true (g_file_set_contents (mine, "mine", -1, NULL));
  const char *sources[] = { dir, NULL };
  g_autoptr (GError) cli = NULL;
  g_assert_false (sc_destination_check (mine_dir, sources, TRUE, &cli));
  g_assert_false (secateur_controller_check_export (c, other, TRUE, &error));
  g_assert_cmpstr (error->message, ==, cli->message);
  g_assert_nonnull (strstr (error->message, "not an earlier Secateur export"));
  g_clear_error (&error);
  secateur_controller_export_async (c, other, pairs, &s, TRUE, NULL, NULL, sc_test_got_result, &w);
  g_autoptr (GAsyncResult) r4 = sc_test_wait_result (&w.base);
  g_assert_false (secateur_controller_export_finish (c, r4, &error));
  g_assert_cmpstr (error->message, ==, cli->message);
  g_clear_error (&error);
  g_assert_true (g_file_test (mine, G_FILE_TEST_IS_REGULAR));

  /* an earlier export there is replaced when asked */
  g_assert_true (g_unlink (mine) == 0 && g_rmdir (mine_dir) == 0);
  for (int i = 0; i < 2; i++)
    {
      secateur_controller_export_async (c, other, pairs, &s, i > 0, NULL, NULL, sc_test_got_result, &w);
      g_autoptr (GAsyncResult) r5 = sc_test_wait_result (&w.base);
      g_assert_true (secateur_controller_export_finish (c, r5, &error));
      g_assert_no_error (error);
      g_assert_true (sc_destination_is_export (mine_dir));
    }
  sc_test_rm_tree (tmp);
  g_main_loop_unref (w.base.loop);
}

/* The application and the CLI compute the same thing: statistics the
 * controller gathered on the demo model, experts chosen by `secateur-cli
 * select` with its defaults, then one direction scored by `secateur-cli
 * evaluate` and `compare` and by the controller's Compare with its
 * defaults. Both score the model's held-out set and keep the same experts,
 * so translations and scores are identical. Then Compare is cancelled
 * while it translates: reported as cancelled (G_IO_ERROR_CANCELLED), not
 * as a failure. */
static void
test_same_as_cli (void)
{
  g_autofree char *dir = demo_dir_or_skip ();
  if (dir == NULL)
    return;
  g_autoptr (SecateurController) c = secateur_controller_new ();
  Wait w = { { g_main_loop_new (NULL, FALSE) } };
  g_signal_connect (c, "progress", G_CALLBACK (on_progress), &w);
  g_autoptr (GError) error = NULL;
  sc_test_controller_load (c, dir, &w.base);
  /* English as the target of two directions: per language and per pair differ */
  const char *pairs[] = { "eng_Latn-fra_Latn", "fra_Latn-eng_Latn", "eng_Latn-deu_Latn",
                          "deu_Latn-eng_Latn", NULL };
  sc_test_controller_calibrate (c, pairs, SC_CORPUS_UDHR, 32, 0, &w.base);
  g_autofree char *tmp = g_dir_make_tmp ("secateur-same-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *stats_path = g_build_filename (tmp, "stats.json", NULL);
  g_autofree char *index_path = g_build_filename (tmp, "experts.json", NULL);
  g_autofree char *report_path = g_build_filename (tmp, "report.json", NULL);
  g_assert_true (sc_stats_save (secateur_controller_get_stats (c), stats_path, &error));
  g_assert_no_error (error);

  /* the same experts from the same defaults */
  Run cli =
      run_cli (NULL, "select", "--stats", stats_path, "--ratio", "0.5", "-o", index_path, NULL);
  g_assert_cmpint (cli.status, ==, 0);
  run_clear (&cli);
  ScPruneSettings s;
  sc_prune_settings_init (&s);
  g_assert_cmpint (s.granularity, ==, SC_GRANULARITY_LANG);
  g_assert_cmpfloat (s.ratio, ==, 0.5);
  g_autofree guint8 *keep =
      sc_prune_keep_mask (secateur_controller_get_stats (c), &s, "fra_Latn", "eng_Latn", &error);
  g_assert_no_error (error);
  g_autoptr (ScExpertIndex) index = sc_expert_index_load (index_path, 4, 2, 16, &error);
  g_assert_no_error (error);
  g_autoptr (GArray) ids = sc_expert_index_for_pair (index, "fra_Latn", "eng_Latn", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ids->len, ==, 32);
  for (guint i = 0; i < ids->len; i++)
    g_assert_true (keep[g_array_index (ids, int, i)]);

  /* the same sentences, translations and scores */
  secateur_controller_compare_async (c, "fra_Latn", "eng_Latn", NULL, 2, &s, NULL, sc_test_got_result, &w);
  g_autoptr (GAsyncResult) r2 = sc_test_wait_result (&w.base);
  g_autoptr (SecateurCompareResult) app = secateur_controller_compare_finish (c, r2, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (app->rows->len, ==, 2);
  g_autoptr (GPtrArray) held_out = sc_corpus_held_out_pairs (dir, "fra_Latn", "eng_Latn", &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 2; i++)
    {
      SecateurCompareRow *row = app->rows->pdata[i];
      g_assert_cmpstr (row->source, ==, ((ScCorpusPair *) held_out->pdata[i])->source);
    }
  cli = run_cli (NULL, "evaluate", "-m", dir, "--pairs", "fra_Latn-eng_Latn", "--experts",
                 index_path, "--limit", "2", "--max-len", "48", "-o", report_path, NULL);
  g_assert_cmpint (cli.status, ==, 0);
  run_clear (&cli);
  g_autoptr (JsonNode) root = sc_test_load_json (report_path);
  JsonObject *one = json_array_get_object_element (
      json_object_get_array_member (json_node_get_object (root), "directions"), 0);
  g_assert_cmpint (json_object_get_int_member (one, "sentences"), ==, 2);
  JsonObject *full = json_object_get_object_member (one, "full");
  JsonObject *pruned = json_object_get_object_member (one, "pruned");
  g_assert_cmpfloat (json_object_get_double_member (full, "chrf++"), ==, app->chrf_full);
  g_assert_cmpfloat (json_object_get_double_member (pruned, "chrf++"), ==, app->chrf_pruned);
  g_assert_cmpfloat (json_object_get_double_member (full, "spbleu"), ==, app->spbleu_full);
  g_assert_cmpfloat (json_object_get_double_member (pruned, "spbleu"), ==, app->spbleu_pruned);
  JsonArray *full_out = json_object_get_array_member (full, "translations");
  JsonArray *pruned_out = json_object_get_array_member (pruned, "translations");
  for (guint i = 0; i < 2; i++)
    {
      SecateurCompareRow *row = app->rows->pdata[i];
      g_assert_cmpstr (json_array_get_string_element (full_out, i), ==, row->full);
      g_assert_cmpstr (json_array_get_string_element (pruned_out, i), ==, row->pruned);
    }
  cli = run_cli (NULL, "compare", "-m", dir, "--pair", "fra_Latn-eng_Latn", "--experts", index_path,
                 "--limit", "2", "--max-len", "48", NULL);
  g_assert_cmpint (cli.status, ==, 0);
  g_autofree char *summary = g_strdup_printf ("2 sentences: chrF++ %.2f full, %.2f pruned",
                                              app->chrf_full, app->chrf_pruned);
  g_assert_nonnull (strstr (cli.out, summary));
  run_clear (&cli);

  /* The export records how: the settings and the calibration run in
   * experts.json (the reserved key) and config.json, and the scores of the
   * Compare just run for its direction, under the same settings. */
  {
    g_autofree char *out = g_build_filename (tmp, "export", NULL);
    const char *served[] = { "fra_Latn-eng_Latn", NULL };
    secateur_controller_export_async (c, out, served, &s, FALSE, NULL, NULL, sc_test_got_result, &w);
    g_autoptr (GAsyncResult) r3 = sc_test_wait_result (&w.base);
    g_assert_true (secateur_controller_export_finish (c, r3, &error));
    g_assert_no_error (error);
    g_autofree char *app_index_path = g_build_filename (out, "experts.json", NULL);
    g_autoptr (ScExpertIndex) app_index = sc_expert_index_load (app_index_path, 4, 2, 16, &error);
    g_assert_no_error (error);
    g_auto (GStrv) skipped = sc_expert_index_ignored_keys (app_index);
    g_assert_cmpuint (g_strv_length (skipped), ==, 0);
    JsonObject *meta = sc_expert_index_get_meta (app_index);
    g_assert_nonnull (meta);
    JsonObject *how = json_object_get_object_member (meta, "selection");
    g_assert_cmpfloat (json_object_get_double_member (how, "ratio"), ==, 0.5);
    g_assert_cmpstr (json_object_get_string_member (how, "enc_dec"), ==, "3:1");
    JsonArray *runs = json_object_get_array_member (meta, "statistics");
    g_assert_cmpuint (json_array_get_length (runs), ==, 1);
    JsonObject *run = json_array_get_object_element (runs, 0);
    g_assert_cmpstr (json_object_get_string_member (run, "corpus"), ==, "udhr");
    g_assert_cmpstr (json_object_get_string_member (run, "sampling"), ==, "proportional");
    g_assert_cmpint (json_object_get_int_member (run, "sentences"), ==, 32);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (run, "directions")), ==,
                      4);

    g_autofree char *cfg_path = g_build_filename (out, "model", "config.json", NULL);
    g_autoptr (JsonNode) cfg = sc_test_load_json (cfg_path);
    JsonObject *sel =
        json_object_get_object_member (json_node_get_object (cfg), "secateur_selection");
    g_assert_cmpstr (
        json_object_get_string_member (json_object_get_object_member (sel, "settings"), "metric"),
        ==, "importance");
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (sel, "statistics")), ==,
                      1);
    JsonObject *sc = json_object_get_object_member (json_object_get_object_member (sel, "scores"),
                                                    "fra_Latn-eng_Latn");
    g_assert_nonnull (sc);
    g_assert_false (json_object_has_member (sc, "settings_key"));
    g_assert_cmpint (json_object_get_int_member (sc, "sentences"), ==, 2);
    JsonObject *sf = json_object_get_object_member (sc, "full");
    JsonObject *sp = json_object_get_object_member (sc, "pruned");
    g_assert_cmpfloat (json_object_get_double_member (sf, "chrf++"), ==, app->chrf_full);
    g_assert_cmpfloat (json_object_get_double_member (sp, "chrf++"), ==, app->chrf_pruned);
    g_assert_cmpfloat (json_object_get_double_member (sf, "spbleu"), ==, app->spbleu_full);
    g_assert_cmpfloat (json_object_get_double_member (sp, "spbleu"), ==, app->spbleu_pruned);

    /* other settings than the Compare's: no scores recorded */
    g_autofree char *out2 = g_build_filename (tmp, "export-other", NULL);
    ScPruneSettings other = s;
    other.ratio = 0.25;
    secateur_controller_export_async (c, out2, served, &other, FALSE, NULL, NULL, sc_test_got_result, &w);
    g_autoptr (GAsyncResult) r4 = sc_test_wait_result (&w.base);
    g_assert_true (secateur_controller_export_finish (c, r4, &error));
    g_assert_no_error (error);
    g_autofree char *cfg2_path = g_build_filename (out2, "model", "config.json", NULL);
    g_autoptr (JsonNode) cfg2 = sc_test_load_json (cfg2_path);
    g_assert_false (json_object_has_member (
        json_object_get_object_member (json_node_get_object (cfg2), "secateur_selection"),
        "scores"));
    sc_test_rm_tree (out);
    sc_test_rm_tree (out2);
  }

  /* cancelled while translating: cancelled, not failed; the mask is gone */
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  w.cancel_on_progress = cancel;
  secateur_controller_set_eval_limits (c, 8, 200);
  secateur_controller_compare_async (c, "fra_Latn", "eng_Latn", NULL, 20, &s, cancel,
                                     sc_test_got_result, &w);
  g_autoptr (GAsyncResult) r3 = sc_test_wait_result (&w.base);
  g_assert_null (secateur_controller_compare_finish (c, r3, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  w.cancel_on_progress = NULL;
  g_assert_false (secateur_controller_get_busy (c));

  sc_test_rm_tree (tmp);
  g_main_loop_unref (w.base.loop);
}

static gint64 cancelled_at;

static void
cancel_now (gpointer cancellable)
{
  cancelled_at = g_get_monotonic_time ();
  g_cancellable_cancel (cancellable);
}

static SecateurSparsifyRequest
small_request (void)
{
  static const char *const langs[] = { "hin_Deva", "fra_Latn", NULL };
  SecateurSparsifyRequest req = { 0 };
  req.method = SC_SPARSITY_WANDA;
  req.pattern.ratio = 0.5;
  req.sampling = SC_CALIB_MBS;
  req.samples = 8;
  req.seqlen = 32;
  req.eval_languages = langs;
  req.eval_sentences = 2;
  return req;
}

static void
test_sparsify (void)
{
  g_autofree char *dir = demo_dir_or_skip ();
  if (dir == NULL)
    return;
  g_autoptr (SecateurController) c = secateur_controller_new ();
  Wait w = { { g_main_loop_new (NULL, FALSE) } };
  g_signal_connect (c, "progress", G_CALLBACK (on_progress), &w);
  g_autoptr (GError) error = NULL;
  SecateurSparsifyRequest req = small_request ();
  /* no model yet */
  g_assert_null (secateur_controller_calibration_preview (c, &req, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED);
  g_clear_error (&error);
  secateur_controller_load_async (c, dir, NULL, sc_test_got_result, &w);
  g_autoptr (GAsyncResult) r = sc_test_wait_result (&w.base);
  g_assert_true (secateur_controller_load_finish (c, r, &error));

  /* the per-language counts, before running: MBS on the demo model's own
   * shares gives English (half of its training text) the most */
  g_autoptr (ScCalibSet) preview = secateur_controller_calibration_preview (c, &req, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sc_calib_set_size (preview), ==, 8);
  const guint *counts;
  const char *const *langs = sc_calib_set_languages (preview, &counts);
  guint total = 0, eng = 0, most = 0;
  for (guint i = 0; langs[i] != NULL; i++)
    {
      total += counts[i];
      most = MAX (most, counts[i]);
      if (g_str_equal (langs[i], "eng_Latn"))
        eng = counts[i];
    }
  g_assert_cmpuint (total, ==, 8);
  g_assert_cmpuint (eng, ==, most);
  g_assert_cmpuint (eng, >=, 4);

  /* Wanda 50 %: every row of every layer loses exactly half */
  w.progress = 0;
  gint64 t0 = g_get_monotonic_time ();
  secateur_controller_sparsify_async (c, &req, NULL, sc_test_got_result, &w);
  g_assert_true (secateur_controller_get_busy (c));
  g_autoptr (GAsyncResult) r2 = sc_test_wait_result (&w.base);
  g_assert_true (secateur_controller_sparsify_finish (c, r2, &error));
  g_assert_no_error (error);
  g_test_message ("Wanda 50 %%, 8 x 32 tokens, 2 languages x 2 sentences: %.2f s",
                  (g_get_monotonic_time () - t0) / 1e6);
  /* The full and the pruned side of the comparison read one loading of the
   * weights: the checkpoint's file is mapped once (the pruned weights are
   * an overlay of the open model), not once more for a copy. */
  g_autofree char *weights = g_build_filename (dir, "model.safetensors", NULL);
  g_autofree char *hwm = sc_test_peak_rss ();
  int mappings = sc_test_count_mappings (weights);
  GStatBuf st;
  g_assert_cmpint (g_stat (weights, &st), ==, 0);
  g_test_message ("after weight pruning: peak RSS (VmHWM) %s; model.safetensors (%.1f MiB) "
                  "mapped %d time(s)",
                  hwm ? hwm : "unknown", st.st_size / 1048576.0, mappings);
  if (mappings >= 0)
    g_assert_cmpint (mappings, ==, 1);
  g_assert_cmpint (w.progress, >, 8);
  const SecateurSparsifyResult *res = secateur_controller_get_sparsify_result (c);
  g_assert_nonnull (res);
  g_assert_cmpuint (res->report->layers->len, >, 100);
  for (guint i = 0; i < res->report->layers->len; i++)
    {
      const ScSparsifyLayer *l = &g_array_index (res->report->layers, ScSparsifyLayer, i);
      /* half of each row pruned; a weight already zero in the checkpoint
       * (f16 rounding) counts too */
      guint64 half = (guint64) l->n_out * l->n_in / 2;
      g_assert_cmpuint (l->n_zero, >=, half);
      g_assert_cmpuint (l->n_zero, <=, half + half / 1000);
    }
  g_assert_cmpfloat (fabs (res->min_layer - 0.5), <, 1e-3);
  g_assert_cmpfloat (fabs (res->max_layer - 0.5), <, 1e-3);
  g_assert_cmpint (res->n_blocks, ==, 8);
  g_assert_cmpint (res->n_encoder_blocks, ==, 4);
  for (int b = 0; b < res->n_blocks; b++)
    g_assert_cmpfloat (fabs (res->block_sparsity[b] - 0.5), <, 1e-3);
  g_assert_nonnull (strstr (res->calibration, "eng_Latn"));
  /* sorted by training share: French (5.6 %) before Hindi (2.8 %) */
  g_assert_cmpuint (res->n_languages, ==, 2);
  g_assert_cmpstr (res->languages[0].lang, ==, "fra_Latn");
  g_assert_cmpstr (res->languages[1].lang, ==, "hin_Deva");
  g_assert_cmpfloat (res->languages[0].share, >, res->languages[1].share);
  double before[2];
  for (guint i = 0; i < 2; i++)
    {
      const ScLangQualityRow *row = &res->languages[i];
      g_test_message ("%s: chrF++ %.2f -> %.2f%s", row->lang, row->before, row->after,
                      res->degraded[i] ? " (degraded)" : "");
      g_assert_cmpint (row->n, ==, 2);
      g_assert_true (isfinite (row->before) && row->before > 0);
      g_assert_true (isfinite (row->after) && row->after >= 0);
      g_assert_cmpint (res->degraded[i], ==,
                       (row->after - row->before) / row->before < -res->threshold);
      before[i] = row->before;
    }

  /* the pruned copy exports with its zeros and the record */
  g_autofree char *tmp = g_dir_make_tmp ("secateur-weights-XXXXXX", NULL);
  g_autofree char *out = g_build_filename (tmp, "pruned", NULL);
  secateur_controller_export_weights_async (c, out, FALSE, NULL, sc_test_got_result, &w);
  g_autoptr (GAsyncResult) r3 = sc_test_wait_result (&w.base);
  g_assert_true (secateur_controller_export_weights_finish (c, r3, &error));
  g_assert_no_error (error);
  g_autofree char *config_path = g_build_filename (out, "config.json", NULL);
  g_autofree char *config = NULL;
  g_assert_true (g_file_get_contents (config_path, &config, NULL, NULL));
  g_assert_nonnull (strstr (config, "secateur_sparsity"));
  g_assert_nonnull (strstr (config, "wanda"));
  /* not over an existing folder unless asked */
  secateur_controller_export_weights_async (c, out, FALSE, NULL, sc_test_got_result, &w);
  g_autoptr (GAsyncResult) r4 = sc_test_wait_result (&w.base);
  g_assert_false (secateur_controller_export_weights_finish (c, r4, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
  g_clear_error (&error);

  /* cancelled: the copy is dropped, the earlier result stays, and the open
   * model is untouched (the same scores before pruning as the first run) */
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  SecateurSparsifyRequest big = small_request ();
  big.samples = 256;
  big.seqlen = 128;
  secateur_controller_sparsify_async (c, &big, cancel, sc_test_got_result, &w);
  g_timeout_add_once (500, cancel_now, cancel);
  g_autoptr (GAsyncResult) r5 = sc_test_wait_result (&w.base);
  g_test_message ("weight pruning cancelled: control back after %.3f s",
                  (g_get_monotonic_time () - cancelled_at) / 1e6);
  g_assert_false (secateur_controller_sparsify_finish (c, r5, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_false (secateur_controller_get_busy (c));
  g_assert_true (secateur_controller_get_sparsify_result (c) == res);
  req.pattern = (ScSparsityPattern){ 0, 2, 4 };
  secateur_controller_sparsify_async (c, &req, NULL, sc_test_got_result, &w);
  g_autoptr (GAsyncResult) r6 = sc_test_wait_result (&w.base);
  g_assert_true (secateur_controller_sparsify_finish (c, r6, &error));
  g_assert_no_error (error);
  res = secateur_controller_get_sparsify_result (c);
  for (guint i = 0; i < 2; i++)
    g_assert_cmpfloat (res->languages[i].before, ==, before[i]);
  g_assert_cmpfloat (fabs (res->min_layer - 0.5), <, 1e-3); /* 2:4 prunes half too */

  /* bad settings are refused before any work */
  req.pattern = (ScSparsityPattern){ 1.5, 0, 0 };
  secateur_controller_sparsify_async (c, &req, NULL, sc_test_got_result, &w);
  g_autoptr (GAsyncResult) r7 = sc_test_wait_result (&w.base);
  g_assert_false (secateur_controller_sparsify_finish (c, r7, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  sc_test_rm_tree (tmp);
  g_main_loop_unref (w.base.loop);
}

/* The report folder's scores.csv: every number reads back, and a score
 * that is NaN (not measured) is an empty cell, never "nan". */
static void
test_report_csv (void)
{
  float values[4] = { 0.5f, 0.25f, NAN, 1.0f };
  guint8 pruned[4] = { 0, 1, 0, 1 };
  double ratios[2] = { 0.25, 0.5 }, chrf[2] = { 40.0, 35.5 };
  double scores[4] = { 41.25, NAN, 38.75, 33.125 };
  char *dirs[] = { "eng_Latn-fra_Latn", "fra_Latn-eng_Latn", NULL };
  g_auto (GStrv) labels = sc_report_row_labels (2, 1);
  ScReport r = { 0 };
  r.rows = r.cols = 2;
  r.n_encoder_rows = 1;
  r.values = values;
  r.pruned = pruned;
  r.row_labels = labels;
  r.metric = "importance";
  r.n_points = 2;
  r.ratios = ratios;
  r.chrf = chrf;
  r.directions = dirs;
  r.scores = scores;
  g_autofree char *dir = g_dir_make_tmp ("sc-report-XXXXXX", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (sc_report_write (&r, dir, &error));
  g_assert_no_error (error);
  g_autofree char *csv_path = g_build_filename (dir, "scores.csv", NULL);
  g_autofree char *csv = NULL;
  g_assert_true (g_file_get_contents (csv_path, &csv, NULL, NULL));
  g_assert_cmpstr (csv, ==,
                   "direction,pruning_ratio,chrf_pp\n"
                   "eng_Latn-fra_Latn,0.25,41.2500\n"
                   "eng_Latn-fra_Latn,0.50,\n"
                   "fra_Latn-eng_Latn,0.25,38.7500\n"
                   "fra_Latn-eng_Latn,0.50,33.1250\n");
  sc_test_rm_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/controller/load-errors", test_load_errors);
  g_test_add_func ("/controller/device", test_device);
  g_test_add_func ("/controller/calibrate-export", test_calibrate_export);
  g_test_add_func ("/controller/export-refused", test_export_refused);
  g_test_add_func ("/controller/same-as-cli", test_same_as_cli);
  g_test_add_func ("/controller/sparsify", test_sparsify);
  g_test_add_func ("/controller/report-csv", test_report_csv);
  int status = g_test_run ();
  /* the report's text leaves font caches in Cairo and fontconfig */
  cairo_debug_reset_static_data ();
#ifdef HAVE_FONTCONFIG
  FcFini ();
#endif
  return status;
}
