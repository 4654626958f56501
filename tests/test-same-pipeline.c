/* test-same-pipeline.c: one workflow, two front ends. The shipped demo
 * model goes calibrate -> select -> export through `secateur-cli` and
 * through the application's controller (no GTK); both run the same jobs
 * (engine/jobs/), so they must give the same statistics (every counter),
 * the same kept experts and byte-identical exported tensors.
 *
 * Then evaluate and compare (`secateur-cli evaluate`, `compare`; the
 * controller's Compare) on the held-out sentences with those experts give
 * the same translations and scores.
 *
 * The pipelines run once, in main (); each test compares one stage. A later
 * stage adds its runs to run_cli_pipeline () and run_app_pipeline (), its
 * outputs to Pipeline, and a test comparing them. */
#include "sc-test-controller.h"
#include "sc-checkpoint.h"
#include "sc-expert-index.h"
#include "sc-test-cli.h"
#include "sc-test-util.h"
#include "secateur-controller.h"

#include <cairo.h>
#include <string.h>
#ifdef HAVE_FONTCONFIG
#include <fontconfig/fontconfig.h>
#endif

/* English and French both ways: few sentences, so it runs quickly under
 * the sanitizers. */
#define DIRECTIONS "eng_Latn-fra_Latn,fra_Latn-eng_Latn"
#define SENTENCES "8"
#define BATCH "4"
#define RATIO 0.5
/* evaluate and compare: held-out sentences per direction, longest output */
#define EVAL_SENTENCES "3"
#define EVAL_MAX_LEN "48"

typedef struct
{
  char *model_dir;
  char *tmp;
  GStrv directions;
  /* secateur-cli */
  char *cli_stats;   /* calibrate -o */
  char *cli_index;   /* select -o */
  char *cli_export;  /* export --experts cli_index */
  char *cli_bundle;  /* export --bundle */
  char *cli_eval;    /* evaluate --experts cli_index -o */
  char *cli_compare; /* compare's output for the first direction */
  /* the controller */
  ScStats *app_stats;
  char *app_bundle;                      /* export_async */
  SecateurCompareResult *app_compare[2]; /* compare_async, per direction */
} Pipeline;

static Pipeline p;

/* ---- running the two pipelines ---- */

static void
run_ok (Run r)
{
  if (r.status != 0)
    g_test_message ("stdout: %s\nstderr: %s", r.out, r.err);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);
}

static void
run_cli_pipeline (void)
{
  p.cli_stats = g_build_filename (p.tmp, "cli-stats.json", NULL);
  p.cli_index = g_build_filename (p.tmp, "cli-experts.json", NULL);
  p.cli_export = g_build_filename (p.tmp, "cli-export", NULL);
  p.cli_bundle = g_build_filename (p.tmp, "cli-bundle", NULL);
  g_autofree char *ratio = g_strdup_printf ("%g", RATIO);
  run_ok (run_cli (NULL, "calibrate", "-m", p.model_dir, "--pairs", DIRECTIONS, "--size", SENTENCES,
                   "--batch", BATCH, "-o", p.cli_stats, "-q", NULL));
  run_ok (run_cli (NULL, "select", "--stats", p.cli_stats, "--ratio", ratio, "--pairs", DIRECTIONS,
                   "-o", p.cli_index, NULL));
  run_ok (run_cli (NULL, "export", "-m", p.model_dir, "--experts", p.cli_index, "--pairs",
                   DIRECTIONS, "-o", p.cli_export, NULL));
  run_ok (run_cli (NULL, "export", "-m", p.model_dir, "--bundle", "--stats", p.cli_stats, "--ratio",
                   ratio, "--pairs", DIRECTIONS, "-o", p.cli_bundle, NULL));
  p.cli_eval = g_build_filename (p.tmp, "cli-evaluate.json", NULL);
  run_ok (run_cli (NULL, "evaluate", "-m", p.model_dir, "--pairs", DIRECTIONS, "--experts",
                   p.cli_index, "--limit", EVAL_SENTENCES, "--max-len", EVAL_MAX_LEN, "-o",
                   p.cli_eval, NULL));
  Run r = run_cli (NULL, "compare", "-m", p.model_dir, "--pair", p.directions[0], "--experts",
                   p.cli_index, "--limit", EVAL_SENTENCES, "--max-len", EVAL_MAX_LEN, NULL);
  p.cli_compare = g_strdup (r.out);
  run_ok (r);
}

static void
run_app_pipeline (void)
{
  g_autoptr (SecateurController) c = secateur_controller_new ();
  ScTestWait w = { g_main_loop_new (NULL, FALSE) };
  g_autoptr (GError) error = NULL;
  sc_test_controller_load (c, p.model_dir, &w);

  /* the CLI's defaults: the default corpus (the UDHR's calibration
   * articles), proportional sampling */
  sc_test_controller_calibrate (c, (const char *const *) p.directions, SC_CORPUS_DEFAULT,
                                atoi (SENTENCES), atoi (BATCH), &w);
  p.app_stats = sc_stats_snapshot (secateur_controller_get_stats (c));

  ScPruneSettings s;
  sc_prune_settings_init (&s);
  s.ratio = RATIO;
  p.app_bundle = g_build_filename (p.tmp, "app-bundle", NULL);
  secateur_controller_export_async (c, p.app_bundle, (const char *const *) p.directions, &s, FALSE,
                                    NULL, NULL, sc_test_got_result, &w);
  g_autoptr (GAsyncResult) exported = sc_test_wait_result (&w);
  g_assert_true (secateur_controller_export_finish (c, exported, &error));
  g_assert_no_error (error);

  /* Compare on each direction's held-out sentences, as evaluate reads them */
  secateur_controller_set_eval_limits (c, atoi (EVAL_SENTENCES), atoi (EVAL_MAX_LEN));
  for (int d = 0; d < 2; d++)
    {
      g_autofree char *src = NULL, *tgt = NULL;
      sc_stats_split_direction (p.directions[d], &src, &tgt);
      secateur_controller_compare_async (c, src, tgt, NULL, atoi (EVAL_SENTENCES), &s, NULL,
                                         sc_test_got_result, &w);
      g_autoptr (GAsyncResult) compared = sc_test_wait_result (&w);
      p.app_compare[d] = secateur_controller_compare_finish (c, compared, &error);
      g_assert_no_error (error);
    }
  g_main_loop_unref (w.loop);
}

/* ---- comparing ---- */

/* TRUE, with the test marked skipped, when there was no demo model to run. */
static gboolean
skipped (void)
{
  if (p.model_dir == NULL)
    g_test_skip ("the demo model is not shipped");
  return p.model_dir == NULL;
}

static void
assert_same_counters (ScStats *a, ScStats *b)
{
  g_auto (GStrv) da = sc_stats_list_directions (a);
  g_auto (GStrv) db = sc_stats_list_directions (b);
  g_assert_cmpuint (g_strv_length (da), ==, g_strv_length (p.directions));
  g_assert_true (g_strv_equal ((const char *const *) da, (const char *const *) db));
  for (char **d = da; *d; d++)
    {
      g_autoptr (ScStatsCounters) x = sc_stats_get_pair (a, *d, NULL);
      g_autoptr (ScStatsCounters) y = sc_stats_get_pair (b, *d, NULL);
      int L = x->n_layers, n = L * x->n_experts;
      g_assert_cmpint (L, ==, y->n_layers);
      g_assert_cmpint (x->n_experts, ==, y->n_experts);
      g_assert_cmpuint (x->tokens[0], >, 0);
      g_assert_cmpmem (x->tokens, L * sizeof (guint64), y->tokens, L * sizeof (guint64));
      g_assert_cmpmem (x->top1, n * sizeof (guint64), y->top1, n * sizeof (guint64));
      g_assert_cmpmem (x->top2, n * sizeof (guint64), y->top2, n * sizeof (guint64));
      g_assert_cmpmem (x->gate1, n * sizeof (double), y->gate1, n * sizeof (double));
      g_assert_cmpmem (x->gate2, n * sizeof (double), y->gate2, n * sizeof (double));
      g_assert_cmpmem (x->prob_sum, n * sizeof (double), y->prob_sum, n * sizeof (double));
      g_assert_cmpmem (x->rank_sum, n * sizeof (double), y->rank_sum, n * sizeof (double));
      g_assert_cmpmem (x->reap_sum, n * sizeof (double), y->reap_sum, n * sizeof (double));
    }
}

static ScStats *
load_stats (const char *path)
{
  g_autoptr (GError) error = NULL;
  ScStats *s = sc_stats_load (path, NULL, &error);
  g_assert_no_error (error);
  return s;
}

/* The same counters from `calibrate` and from the application, and in
 * both bundles' statistics.json; the run records agree on how. */
static void
test_statistics (void)
{
  if (skipped ())
    return;
  g_autoptr (ScStats) cli = load_stats (p.cli_stats);
  assert_same_counters (cli, p.app_stats);
  g_autofree char *cli_file = g_build_filename (p.cli_bundle, "statistics.json", NULL);
  g_autofree char *app_file = g_build_filename (p.app_bundle, "statistics.json", NULL);
  g_autoptr (ScStats) cli_bundle = load_stats (cli_file);
  g_autoptr (ScStats) app_bundle = load_stats (app_file);
  assert_same_counters (cli, cli_bundle);
  assert_same_counters (cli, app_bundle);
  g_assert_cmpstr (sc_stats_get_shape (cli)->name, ==, sc_stats_get_shape (p.app_stats)->name);

  g_autoptr (JsonArray) cli_runs = sc_stats_get_provenance (cli);
  g_autoptr (JsonArray) app_runs = sc_stats_get_provenance (p.app_stats);
  g_assert_cmpuint (json_array_get_length (cli_runs), ==, 1);
  g_assert_cmpuint (json_array_get_length (app_runs), ==, 1);
  JsonObject *cr = json_array_get_object_element (cli_runs, 0);
  JsonObject *ar = json_array_get_object_element (app_runs, 0);
  static const char *const same[] = { "corpus", "split", "sampling", "mode", "model" };
  for (guint i = 0; i < G_N_ELEMENTS (same); i++)
    g_assert_cmpstr (json_object_get_string_member (cr, same[i]), ==,
                     json_object_get_string_member (ar, same[i]));
  g_assert_cmpstr (json_object_get_string_member (cr, "corpus"), ==, "udhr");
  g_assert_cmpint (json_object_get_int_member (cr, "sentences"), ==, atoi (SENTENCES));
  g_assert_cmpint (json_object_get_int_member (ar, "sentences"), ==, atoi (SENTENCES));
  g_assert_cmpint (json_object_get_int_member (cr, "tokens"), ==,
                   json_object_get_int_member (ar, "tokens"));
}

static ScExpertIndex *
load_index (const char *path)
{
  g_autoptr (GError) error = NULL;
  const ScStatsShape *sh = sc_stats_get_shape (p.app_stats);
  ScExpertIndex *idx =
      sc_expert_index_load (path, sh->n_moe_layers, sh->n_encoder_moe, sh->n_experts, &error);
  g_assert_no_error (error);
  return idx;
}

static void
assert_same_kept (ScExpertIndex *a, ScExpertIndex *b)
{
  for (char **d = p.directions; *d; d++)
    {
      GArray *x = sc_expert_index_get (a, *d);
      GArray *y = sc_expert_index_get (b, *d);
      g_assert_nonnull (x);
      g_assert_nonnull (y);
      g_assert_cmpuint (x->len, >, 0);
      g_assert_cmpmem (x->data, x->len * sizeof (int), y->data, y->len * sizeof (int));
    }
}

/* `select`'s index, the CLI bundle's and the application's experts.json
 * keep the same experts for every direction. */
static void
test_experts (void)
{
  if (skipped ())
    return;
  g_autoptr (ScExpertIndex) selected = load_index (p.cli_index);
  g_autofree char *cli_path = g_build_filename (p.cli_bundle, "experts.json", NULL);
  g_autofree char *app_path = g_build_filename (p.app_bundle, "experts.json", NULL);
  g_autoptr (ScExpertIndex) cli = load_index (cli_path);
  g_autoptr (ScExpertIndex) app = load_index (app_path);
  assert_same_kept (selected, app);
  assert_same_kept (cli, app);
  /* half the experts of each layer pruned, 3:1 encoder:decoder: 32 of 64 */
  g_assert_cmpuint (sc_expert_index_get (app, p.directions[0])->len, ==, 32);
}

static void
assert_same_tensors (const char *a_dir, const char *b_dir)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ScCheckpoint) a = sc_checkpoint_open (a_dir, &error);
  g_assert_no_error (error);
  g_autoptr (ScCheckpoint) b = sc_checkpoint_open (b_dir, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sc_checkpoint_n_tensors (a), ==, sc_checkpoint_n_tensors (b));
  const char *const *names = sc_checkpoint_names (a);
  for (guint i = 0; i < sc_checkpoint_n_tensors (a); i++)
    {
      const ScTensor *x = sc_checkpoint_get (a, names[i]);
      const ScTensor *y = sc_checkpoint_get (b, names[i]);
      g_assert_nonnull (y);
      g_assert_cmpint (x->dtype, ==, y->dtype);
      g_assert_cmpmem (x->shape, sizeof x->shape, y->shape, sizeof y->shape);
      g_assert_cmpmem (x->data, x->nbytes, y->data, y->nbytes);
    }
}

/* The exported checkpoints: the application's model/, the CLI bundle's and
 * `export --experts` of select's index hold the same tensors, byte for
 * byte, and fewer than the full model. */
static void
test_tensors (void)
{
  if (skipped ())
    return;
  g_autofree char *app = g_build_filename (p.app_bundle, "model", NULL);
  g_autofree char *cli = g_build_filename (p.cli_bundle, "model", NULL);
  assert_same_tensors (app, cli);
  assert_same_tensors (app, p.cli_export);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScCheckpoint) full = sc_checkpoint_open (p.model_dir, &error);
  g_autoptr (ScCheckpoint) pruned = sc_checkpoint_open (app, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sc_checkpoint_n_tensors (pruned), <, sc_checkpoint_n_tensors (full));
  /* both bundles have their report */
  g_autofree char *cli_heatmap = g_build_filename (p.cli_bundle, "report", "heatmap.png", NULL);
  g_autofree char *app_heatmap = g_build_filename (p.app_bundle, "report", "heatmap.png", NULL);
  g_assert_true (g_file_test (cli_heatmap, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (app_heatmap, G_FILE_TEST_IS_REGULAR));
}

/* `select --memory-gb` with -m takes the sizes from the model: the same
 * experts as the sizes typed by hand, and as many as fit. */
static void
test_select_memory (void)
{
  if (skipped ())
    return;
  g_autoptr (GError) error = NULL;
  g_autoptr (ScModel) model = sc_model_load (p.model_dir, NULL, &error);
  g_assert_no_error (error);
  const ScMoeShape *sh = sc_model_get_moe_shape (model);
  /* room for 40.5 experts besides the dense part: 40 kept */
  double gib = (sh->dense_bytes + 40.5 * sh->bytes_per_expert) / 1073741824.0;
  g_autofree char *memory = g_strdup_printf ("%.12f", gib);
  g_autofree char *per = g_strdup_printf ("%" G_GUINT64_FORMAT, sh->bytes_per_expert);
  g_autofree char *dense = g_strdup_printf ("%" G_GUINT64_FORMAT, sh->dense_bytes);
  g_autofree char *by_model = g_build_filename (p.tmp, "by-model.json", NULL);
  g_autofree char *by_hand = g_build_filename (p.tmp, "by-hand.json", NULL);
  Run r = run_cli (NULL, "select", "--stats", p.cli_stats, "--memory-gb", memory, "-m", p.model_dir,
                   "--granularity", "global", "-o", by_model, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "Selected 40 of 64 experts"));
  g_assert_nonnull (strstr (r.out, "Memory: "));
  run_clear (&r);
  run_ok (run_cli (NULL, "select", "--stats", p.cli_stats, "--memory-gb", memory,
                   "--bytes-per-expert", per, "--dense-bytes", dense, "--granularity", "global",
                   "-o", by_hand, NULL));
  g_autoptr (ScExpertIndex) a = load_index (by_model);
  g_autoptr (ScExpertIndex) b = load_index (by_hand);
  GArray *x = sc_expert_index_get (a, NULL), *y = sc_expert_index_get (b, NULL);
  g_assert_cmpuint (x->len, ==, 40);
  g_assert_cmpmem (x->data, x->len * sizeof (int), y->data, y->len * sizeof (int));
  /* without the model or the sizes, --memory-gb is refused */
  r = run_cli (NULL, "select", "--stats", p.cli_stats, "--memory-gb", memory, "-o", by_hand, NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "-m"));
  run_clear (&r);
}

/* export --bundle refuses what the application's Export refuses: a folder
 * holding an earlier bundle (without --force), one inside the model; and
 * usage errors say what it needs. */
static void
test_bundle_refused (void)
{
  if (skipped ())
    return;
  Run r = run_cli (NULL, "export", "-m", p.model_dir, "--bundle", "--pairs", DIRECTIONS, "-o",
                   p.cli_bundle, NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "--stats"));
  run_clear (&r);
  r = run_cli (NULL, "export", "-m", p.model_dir, "--bundle", "--stats", p.cli_stats, "--pairs",
               DIRECTIONS, "-o", p.cli_bundle, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "already exists"));
  run_clear (&r);
  g_autofree char *inside = g_build_filename (p.model_dir, "bundle", NULL);
  r = run_cli (NULL, "export", "-m", p.model_dir, "--bundle", "--stats", p.cli_stats, "--pairs",
               DIRECTIONS, "-o", inside, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "inside the model folder"));
  g_assert_false (g_file_test (inside, G_FILE_TEST_EXISTS));
  run_clear (&r);
  /* the same again with --force replaces the earlier bundle */
  run_ok (run_cli (NULL, "export", "-m", p.model_dir, "--bundle", "--stats", p.cli_stats, "--pairs",
                   DIRECTIONS, "--force", "-o", p.cli_bundle, NULL));
}

/* evaluate (secateur-cli) and Compare (the controller): the same
 * translations and the same corpus scores, full and pruned, per direction */
static void
test_evaluate (void)
{
  if (skipped ())
    return;
  g_autoptr (JsonNode) root = sc_test_load_json (p.cli_eval);
  JsonArray *dirs = json_object_get_array_member (json_node_get_object (root), "directions");
  g_assert_cmpuint (json_array_get_length (dirs), ==, 2);
  for (guint d = 0; d < 2; d++)
    {
      JsonObject *e = json_array_get_object_element (dirs, d);
      const SecateurCompareResult *app = p.app_compare[d];
      g_assert_cmpstr (json_object_get_string_member (e, "direction"), ==, p.directions[d]);
      g_assert_cmpint (json_object_get_int_member (e, "sentences"), ==, app->rows->len);
      JsonObject *full = json_object_get_object_member (e, "full");
      JsonObject *pruned = json_object_get_object_member (e, "pruned");
      g_test_message ("%s: chrF++ %.2f full, %.2f pruned", p.directions[d], app->chrf_full,
                      app->chrf_pruned);
      g_assert_cmpfloat (json_object_get_double_member (full, "chrf++"), ==, app->chrf_full);
      g_assert_cmpfloat (json_object_get_double_member (pruned, "chrf++"), ==, app->chrf_pruned);
      g_assert_cmpfloat (json_object_get_double_member (full, "spbleu"), ==, app->spbleu_full);
      g_assert_cmpfloat (json_object_get_double_member (pruned, "spbleu"), ==, app->spbleu_pruned);
      JsonArray *full_out = json_object_get_array_member (full, "translations");
      JsonArray *pruned_out = json_object_get_array_member (pruned, "translations");
      for (guint i = 0; i < app->rows->len; i++)
        {
          SecateurCompareRow *row = app->rows->pdata[i];
          g_assert_cmpstr (json_array_get_string_element (full_out, i), ==, row->full);
          g_assert_cmpstr (json_array_get_string_element (pruned_out, i), ==, row->pruned);
        }
    }
}

/* compare (secateur-cli): Compare's sentences, sentence scores and summary */
static void
test_compare (void)
{
  if (skipped ())
    return;
  const SecateurCompareResult *app = p.app_compare[0];
  for (guint i = 0; i < app->rows->len; i++)
    {
      SecateurCompareRow *row = app->rows->pdata[i];
      g_autofree char *full =
          g_strdup_printf ("    full:      %s  (chrF++ %.1f)", row->full, row->chrf_full);
      g_autofree char *pruned =
          g_strdup_printf ("    pruned:    %s  (chrF++ %.1f)", row->pruned, row->chrf_pruned);
      g_assert_nonnull (strstr (p.cli_compare, full));
      g_assert_nonnull (strstr (p.cli_compare, pruned));
    }
  g_autofree char *summary = g_strdup_printf (
      "%s, %u sentences: chrF++ %.2f full, %.2f pruned (%+.2f); spBLEU %.2f / %.2f",
      p.directions[0], app->rows->len, app->chrf_full, app->chrf_pruned,
      app->chrf_pruned - app->chrf_full, app->spbleu_full, app->spbleu_pruned);
  g_assert_nonnull (strstr (p.cli_compare, summary));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_autofree char *demo = sc_test_path ("resources/models/demo");
  if (g_file_test (demo, G_FILE_TEST_IS_DIR))
    {
      p.model_dir = g_steal_pointer (&demo);
      p.tmp = g_dir_make_tmp ("sc-same-pipeline-XXXXXX", NULL);
      p.directions = g_strsplit (DIRECTIONS, ",", -1);
      run_cli_pipeline ();
      run_app_pipeline ();
    }
  g_test_add_func ("/same-pipeline/statistics", test_statistics);
  g_test_add_func ("/same-pipeline/experts", test_experts);
  g_test_add_func ("/same-pipeline/tensors", test_tensors);
  g_test_add_func ("/same-pipeline/select-memory", test_select_memory);
  g_test_add_func ("/same-pipeline/bundle-refused", test_bundle_refused);
  g_test_add_func ("/same-pipeline/evaluate", test_evaluate);
  g_test_add_func ("/same-pipeline/compare", test_compare);
  int status = g_test_run ();
  if (p.tmp != NULL)
    sc_test_rm_tree (p.tmp);
  g_free (p.tmp);
  g_free (p.model_dir);
  g_strfreev (p.directions);
  g_free (p.cli_stats);
  g_free (p.cli_index);
  g_free (p.cli_export);
  g_free (p.cli_bundle);
  g_free (p.app_bundle);
  g_free (p.cli_eval);
  g_free (p.cli_compare);
  for (int d = 0; d < 2; d++)
    g_clear_pointer (&p.app_compare[d], secateur_compare_result_free);
  g_clear_pointer (&p.app_stats, sc_stats_free);
  /* the report's text leaves font caches in Cairo and fontconfig */
  cairo_debug_reset_static_data ();
#ifdef HAVE_FONTCONFIG
  FcFini ();
#endif
  return status;
}
