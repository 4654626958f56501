/* test-project.c: a pruning project on disk (engine/jobs/sc-project.h):
 * every part round-trips (statistics with their runs, selections,
 * evaluations, exports, sweeps, prune settings), project.json is checked
 * (hostile and truncated files fail with an error, never a crash), a
 * changed or missing model is refused naming both, and two writers both
 * count. */
#include "sc-model.h"
#include "sc-project.h"
#include "sc-test-util.h"

#include <glib/gstdio.h>
#include <string.h>

typedef struct
{
  char *tmp;       /* a temporary folder */
  char *model_dir; /* a copy of the tiny MoE fixture inside it */
  char *proj_dir;
  ScMoeShape *shape;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autofree char *moe = sc_test_path ("tests/fixtures/nllb-moe-tiny");
  f->tmp = g_dir_make_tmp ("sc-project-XXXXXX", NULL);
  f->model_dir = g_build_filename (f->tmp, "tiny", NULL);
  f->proj_dir = g_build_filename (f->tmp, "tiny.secateur", NULL);
  g_assert_cmpint (g_mkdir (f->model_dir, 0755), ==, 0);
  sc_test_copy_files (moe, f->model_dir, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScModel) model = sc_model_load (f->model_dir, NULL, &error);
  g_assert_no_error (error);
  f->shape = g_new (ScMoeShape, 1);
  *f->shape = *sc_model_get_moe_shape (model);
  f->shape->name = NULL;
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  sc_test_rm_tree (f->tmp);
  g_free (f->tmp);
  g_free (f->model_dir);
  g_free (f->proj_dir);
  g_free (f->shape);
}

/* Statistics with `n` tokens in every MoE layer of one direction, expert
 * `first` ranked first, and one run record. */
static ScStats *
make_stats (const ScMoeShape *shape, const char *direction, int n, int first)
{
  ScStats *s = sc_stats_new (shape);
  int E = shape->n_experts;
  g_autofree float *probs = g_new (float, n *E);
  g_autofree int *t1 = g_new (int, n);
  g_autofree int *t2 = g_new (int, n);
  for (int t = 0; t < n; t++)
    {
      for (int e = 0; e < E; e++)
        probs[t * E + e] = e == first ? 0.5f : 0.5f / (E - 1);
      t1[t] = first;
      t2[t] = (first + 1) % E;
    }
  for (int l = 0; l < shape->n_moe_layers; l++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_true (sc_stats_add_tokens (s, direction, l, l >= shape->n_encoder_moe, n, probs, t1,
                                          t2, NULL, NULL, NULL, NULL, NULL, &error));
      g_assert_no_error (error);
    }
  JsonObject *run = json_object_new ();
  json_object_set_string_member (run, "corpus", "test");
  json_object_set_int_member (run, "sentences", n);
  sc_stats_add_provenance (s, run);
  json_object_unref (run);
  return s;
}

/* A sweep of two directions at two points. */
static ScSweepJobResult *
make_sweep (double chrf0)
{
  ScSweepJobResult *r = g_new0 (ScSweepJobResult, 1);
  static const char *dirs[] = { "eng_Latn-fra_Latn", "fra_Latn-eng_Latn", NULL };
  static const double ratios[] = { 0.0, 0.5 };
  static const int kept[] = { 32, 16, 32, 16 };
  r->n_directions = 2;
  r->n_ratios = 2;
  r->directions = g_strdupv ((char **) dirs);
  r->ratios = g_memdup2 (ratios, sizeof ratios);
  r->scores = g_new0 (double, 4);
  r->scores[0] = chrf0;
  r->scores[1] = 30.5;
  r->scores[2] = 44.25;
  r->scores[3] = 20.0;
  r->chrf = g_new0 (double, 2);
  r->chrf[0] = (r->scores[0] + r->scores[2]) / 2;
  r->chrf[1] = (r->scores[1] + r->scores[3]) / 2;
  sc_prune_settings_init (&r->settings);
  r->settings.ratio = 0;
  r->experts_total = 32;
  r->kept = g_memdup2 (kept, sizeof kept);
  r->kept_sets = g_new0 (char *, 5);
  for (int i = 0; i < 4; i++)
    r->kept_sets[i] = g_strdup_printf ("%016x", 0x100 + i);
  r->sentences = g_new0 (int, 2);
  r->sentences[0] = 8;
  r->sentences[1] = 6;
  r->num_beams = 1;
  r->max_length = 48;
  r->held_out = g_strdup ("heldout.tsv");
  r->created = 1764800000;
  return r;
}

static void
test_fingerprint (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *a = sc_model_fingerprint (f->model_dir, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (a, "sha256:"));
  g_assert_cmpuint (strlen (a), ==, 7 + 64);
  g_autofree char *b = sc_model_fingerprint (f->model_dir, &error);
  g_assert_cmpstr (a, ==, b);

  /* a changed tensor header (here: one byte of a tensor name) changes it */
  g_autofree char *st = g_build_filename (f->model_dir, "model.safetensors", NULL);
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (st, &bytes, &len, NULL));
  char *hit = g_strstr_len (bytes + 8, 4096, "\"model.");
  g_assert_nonnull (hit);
  hit[1] = 'M';
  g_assert_true (g_file_set_contents (st, bytes, len, NULL));
  g_autofree char *c = sc_model_fingerprint (f->model_dir, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (a, !=, c);

  /* as does config.json */
  g_autofree char *cfg = g_build_filename (f->model_dir, "config.json", NULL);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (cfg, &text, &len, NULL));
  g_autofree char *more = g_strconcat (text, "\n", NULL);
  g_assert_true (g_file_set_contents (cfg, more, -1, NULL));
  g_autofree char *d = sc_model_fingerprint (f->model_dir, &error);
  g_assert_cmpstr (c, !=, d);

  /* a safetensors file whose header length points past its end */
  g_assert_true (g_file_set_contents (st, "\xff\xff\xff\x00\x00\x00\x00\x00{}", 10, NULL));
  g_autofree char *e = sc_model_fingerprint (f->model_dir, &error);
  g_assert_null (e);
  g_assert_error (error, SC_ERROR, SC_ERROR_FORMAT);
  g_clear_error (&error);

  /* the default folder: user data, model name and a fingerprint prefix */
  g_autofree char *def = sc_project_default_dir ("/m/nllb-moe-54b", a);
  g_autofree char *expect = g_strdup_printf ("%s/secateur/projects/nllb-moe-54b-%.12s.secateur",
                                             g_get_user_data_dir (), a + 7);
  g_assert_cmpstr (def, ==, expect);
}

static void
test_round_trip (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_assert_false (sc_project_is_project (f->proj_dir));
  /* no project and no model: not created */
  g_autoptr (ScProject) none = sc_project_open (f->proj_dir, NULL, &error);
  g_assert_null (none);
  g_assert_error (error, SC_PROJECT_ERROR, SC_PROJECT_ERROR_NOT_A_PROJECT);
  g_clear_error (&error);

  g_autoptr (ScProject) p = sc_project_open (f->proj_dir, f->model_dir, &error);
  g_assert_no_error (error);
  g_assert_true (sc_project_is_project (f->proj_dir));
  g_assert_cmpstr (sc_project_get_model_dir (p), ==, f->model_dir);
  g_autofree char *fp = sc_model_fingerprint (f->model_dir, NULL);
  g_assert_cmpstr (sc_project_get_fingerprint (p), ==, fp);
  g_assert_false (sc_project_has_stats (p));
  g_autoptr (ScStats) nostats = sc_project_load_stats (p, f->shape, &error);
  g_assert_null (nostats);
  g_assert_error (error, SC_PROJECT_ERROR, SC_PROJECT_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* statistics add up, with both runs' records */
  g_autoptr (ScStats) s1 = make_stats (f->shape, "eng_Latn-fra_Latn", 5, 1);
  g_autoptr (ScStats) s2 = make_stats (f->shape, "eng_Latn-fra_Latn", 3, 2);
  g_autoptr (ScStats) sum1 = sc_project_add_stats (p, s1, NULL, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (ScStats) sum2 = sc_project_add_stats (p, s2, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sc_stats_total_tokens (sum2), ==, 8 * f->shape->n_moe_layers);

  /* a selection with its settings */
  g_autoptr (ScExpertIndex) idx =
      sc_expert_index_new (f->shape->n_moe_layers, f->shape->n_encoder_moe, f->shape->n_experts);
  int ids[] = { 0, 3, 9, 17 };
  g_assert_true (sc_expert_index_set (idx, "eng_Latn", ids, 4, &error));
  g_autoptr (JsonObject) meta = json_object_new ();
  JsonObject *sel = json_object_new ();
  json_object_set_double_member (sel, "ratio", 0.75);
  json_object_set_string_member (sel, "metric", "importance");
  json_object_set_object_member (meta, "selection", sel);
  sc_expert_index_set_meta (idx, meta);
  g_autofree char *name = NULL;
  g_assert_true (sc_project_add_selection (p, idx, &name, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (name, ==, "selection-1");

  /* an evaluation report, an export, the prune settings */
  g_autoptr (JsonNode) report =
      json_from_string ("{\"directions\": [{\"direction\": \"eng_Latn-fra_Latn\", \"sentences\": 4,"
                        " \"full\": {\"chrf++\": 41.5}}]}",
                        NULL);
  g_autofree char *ename = NULL;
  g_assert_true (sc_project_add_evaluation (p, report, &ename, &error));
  g_assert_cmpstr (ename, ==, "evaluation-1");
  g_autofree char *out = g_build_filename (f->tmp, "out", NULL);
  const char *served[] = { "eng_Latn-fra_Latn", "fra_Latn-eng_Latn", NULL };
  g_assert_true (sc_project_add_export (p, out, served, sel, &error));
  g_assert_no_error (error);
  ScPruneSettings ps;
  sc_prune_settings_init (&ps);
  ps.ratio = 0.625;
  ps.metric = SC_EXPERT_METRIC_REAP;
  ps.algo = SC_SELECT_THRESHOLD;
  ps.granularity = SC_GRANULARITY_PAIR;
  ps.enc_weight = 2;
  ps.dec_weight = 1;
  g_assert_true (sc_project_set_prune (p, &ps, served, &error));
  g_assert_no_error (error);
  /* two sweeps */
  g_autoptr (ScSweepJobResult) sw1 = make_sweep (50.5);
  g_autoptr (ScSweepJobResult) sw2 = make_sweep (41.75);
  g_autofree char *swname = NULL;
  g_assert_true (sc_project_add_sweep (p, sw1, &swname, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (swname, ==, "sweep-1");
  g_assert_true (sc_project_add_sweep (p, sw2, NULL, &error));
  g_assert_no_error (error);
  g_clear_pointer (&p, sc_project_free);

  /* reopened from the folder alone (the model as recorded) */
  g_autoptr (ScProject) q = sc_project_open (f->proj_dir, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (ScStats) back = sc_project_load_stats (q, f->shape, &error);
  g_assert_no_error (error);
  g_autoptr (ScStatsCounters) c = sc_stats_get_pair (back, "eng_Latn-fra_Latn", &error);
  g_assert_cmpuint (c->tokens[0], ==, 8);
  g_assert_cmpuint (c->top1[0 * f->shape->n_experts + 1], ==, 5);
  g_assert_cmpuint (c->top1[0 * f->shape->n_experts + 2], ==, 3);
  g_autoptr (JsonArray) runs = sc_stats_get_provenance (back);
  g_assert_cmpuint (json_array_get_length (runs), ==, 2);

  g_autoptr (ScExpertIndex) idx2 = sc_project_load_selection (
      q, NULL, f->shape->n_moe_layers, f->shape->n_encoder_moe, f->shape->n_experts, &error);
  g_assert_no_error (error);
  GArray *kept = sc_expert_index_get (idx2, "eng_Latn");
  g_assert_cmpuint (kept->len, ==, 4);
  g_assert_cmpint (g_array_index (kept, int, 2), ==, 9);
  JsonObject *meta2 = sc_expert_index_get_meta (idx2);
  g_assert_cmpfloat (
      json_object_get_double_member (json_object_get_object_member (meta2, "selection"), "ratio"),
      ==, 0.75);

  g_autoptr (JsonNode) doc = sc_project_get_document (q);
  JsonObject *root = json_node_get_object (doc);
  JsonObject *s0 =
      json_array_get_object_element (json_object_get_array_member (root, "selections"), 0);
  g_assert_cmpstr (json_object_get_string_member (s0, "file"), ==, "selections/selection-1.json");
  g_assert_cmpstr (
      json_object_get_string_member (json_object_get_object_member (s0, "settings"), "metric"), ==,
      "importance");
  JsonObject *e0 =
      json_array_get_object_element (json_object_get_array_member (root, "evaluations"), 0);
  g_assert_cmpstr (
      json_array_get_string_element (json_object_get_array_member (e0, "directions"), 0), ==,
      "eng_Latn-fra_Latn");
  g_autofree char *eval_path =
      g_build_filename (f->proj_dir, "evaluations", "evaluation-1.json", NULL);
  g_autoptr (JsonNode) report2 = sc_test_load_json (eval_path);
  g_assert_true (json_node_equal (report, report2));

  g_autoptr (JsonArray) exports = sc_project_get_exports (q);
  g_assert_cmpuint (json_array_get_length (exports), ==, 1);
  JsonObject *x0 = json_array_get_object_element (exports, 0);
  g_assert_cmpstr (json_object_get_string_member (x0, "folder"), ==, out);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (x0, "directions")), ==, 2);
  g_assert_cmpfloat (
      json_object_get_double_member (json_object_get_object_member (x0, "settings"), "ratio"), ==,
      0.75);

  g_autoptr (GPtrArray) sweeps = sc_project_load_sweeps (q, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sweeps->len, ==, 2);
  const ScSweepJobResult *b1 = sweeps->pdata[0], *b2 = sweeps->pdata[1];
  g_assert_cmpint (b1->n_ratios, ==, 2);
  g_assert_cmpint (b1->n_directions, ==, 2);
  g_assert_cmpfloat (b1->scores[0], ==, 50.5);
  g_assert_cmpfloat (b2->scores[0], ==, 41.75);
  g_assert_cmpfloat (b2->ratios[1], ==, 0.5);
  g_assert_cmpint (b2->kept[1], ==, 16);
  g_assert_cmpint (b2->sentences[1], ==, 6);
  g_assert_cmpstr (b2->held_out, ==, "heldout.tsv");
  /* a damaged sweep file fails the load, saying which */
  g_autofree char *sw2_path = g_build_filename (f->proj_dir, "sweeps", "sweep-2.json", NULL);
  g_autofree char *sw2_text = NULL;
  g_assert_true (g_file_get_contents (sw2_path, &sw2_text, NULL, NULL));
  g_assert_true (g_file_set_contents (sw2_path, sw2_text, strlen (sw2_text) / 2, NULL));
  g_autoptr (GPtrArray) broken = sc_project_load_sweeps (q, &error);
  g_assert_null (broken);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "sweep-2.json"));
  g_clear_error (&error);

  ScPruneSettings ps2;
  g_auto (GStrv) dirs = NULL;
  g_assert_true (sc_project_get_prune (q, &ps2, &dirs));
  g_assert_cmpfloat (ps2.ratio, ==, 0.625);
  g_assert_cmpint (ps2.metric, ==, SC_EXPERT_METRIC_REAP);
  g_assert_cmpint (ps2.algo, ==, SC_SELECT_THRESHOLD);
  g_assert_cmpint (ps2.granularity, ==, SC_GRANULARITY_PAIR);
  g_assert_cmpint (ps2.enc_weight, ==, 2);
  g_assert_cmpint (ps2.dec_weight, ==, 1);
  g_assert_cmpuint (g_strv_length (dirs), ==, 2);
  g_assert_cmpstr (dirs[1], ==, "fra_Latn-eng_Latn");

  /* replacing the statistics */
  g_autoptr (ScStats) s3 = make_stats (f->shape, "fra_Latn-eng_Latn", 2, 0);
  g_assert_true (sc_project_save_stats (q, s3, &error));
  g_autoptr (ScStats) back3 = sc_project_load_stats (q, f->shape, &error);
  g_auto (GStrv) d3 = sc_stats_list_directions (back3);
  g_assert_cmpuint (g_strv_length (d3), ==, 1);
  g_assert_cmpstr (d3[0], ==, "fra_Latn-eng_Latn");
}

/* Writes project.json with `text` and expects opening to fail with
 * (domain, code), the message naming the file and holding `what`. */
static void
expect_refused (Fixture *f, const char *text, gssize len, GQuark domain, int code, const char *what)
{
  g_autofree char *file = g_build_filename (f->proj_dir, "project.json", NULL);
  g_assert_true (g_file_set_contents (file, text, len, NULL));
  g_autoptr (GError) error = NULL;
  g_autoptr (ScProject) p = sc_project_open (f->proj_dir, f->model_dir, &error);
  g_assert_null (p);
  g_assert_error (error, domain, code);
  g_assert_nonnull (strstr (error->message, "project.json"));
  if (what != NULL && strstr (error->message, what) == NULL)
    g_error ("\"%s\" does not say \"%s\"", error->message, what);
}

static void
test_hostile (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  {
    g_autoptr (ScProject) p = sc_project_open (f->proj_dir, f->model_dir, &error);
    g_assert_no_error (error);
    g_autoptr (ScStats) s = make_stats (f->shape, "eng_Latn-fra_Latn", 2, 1);
    g_autoptr (ScExpertIndex) idx =
        sc_expert_index_new (f->shape->n_moe_layers, f->shape->n_encoder_moe, f->shape->n_experts);
    int ids[] = { 1 };
    g_assert_true (sc_expert_index_set (idx, "eng_Latn", ids, 1, NULL));
    g_assert_true (sc_project_add_selection (p, idx, NULL, &error));
  }
  g_autofree char *file = g_build_filename (f->proj_dir, "project.json", NULL);
  g_autofree char *good = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (file, &good, &len, NULL));
  g_autofree char *fp = sc_model_fingerprint (f->model_dir, NULL);

  /* truncated at every tenth byte: an error every time */
  for (gsize cut = 0; cut < len - 2; cut += 10)
    {
      g_assert_true (g_file_set_contents (file, good, (gssize) cut, NULL));
      g_autoptr (ScProject) p = sc_project_open (f->proj_dir, f->model_dir, &error);
      g_assert_null (p);
      g_assert_nonnull (error);
      g_assert_nonnull (strstr (error->message, "project.json"));
      g_clear_error (&error);
    }

  const GQuark P = SC_PROJECT_ERROR;
  const int INV = SC_PROJECT_ERROR_INVALID;
  expect_refused (f, "[]", -1, P, INV, "not a JSON object");
  expect_refused (f, "{\"format\": \"secateur-stats\", \"version\": 1}", -1, P, INV,
                  "not a Secateur project");
  expect_refused (f, "{\"format\": \"secateur-project\", \"version\": \"1\"}", -1, P, INV,
                  "\"version\"");
  expect_refused (f, "{\"format\": \"secateur-project\", \"version\": 7}", -1, P,
                  SC_PROJECT_ERROR_VERSION, "newer Secateur");
  const char *head = "{\"format\": \"secateur-project\", \"version\": 1, \"created\": \"x\", "
                     "\"modified\": \"x\", ";
  g_autofree char *model_ok = g_strdup_printf ("\"model\": {\"path\": \"%s\", \"fingerprint\": "
                                               "\"%s\"}",
                                               f->model_dir, fp);
  g_autofree char *t1 = g_strdup_printf ("%s\"model\": {\"path\": \"relative\", \"fingerprint\": "
                                         "\"%s\"}}",
                                         head, fp);
  expect_refused (f, t1, -1, P, INV, "absolute \"path\"");
  g_autofree char *t2 = g_strdup_printf ("%s\"model\": {\"path\": \"%s\", \"fingerprint\": "
                                         "\"sha256:12\"}}",
                                         head, f->model_dir);
  expect_refused (f, t2, -1, P, INV, "fingerprint");
  /* an entry whose name or file would lead out of the folder */
  g_autofree char *t3 = g_strdup_printf ("%s%s, \"selections\": [{\"name\": \"../../etc\", "
                                         "\"file\": \"selections/../../etc.json\", "
                                         "\"created\": \"x\"}]}",
                                         head, model_ok);
  expect_refused (f, t3, -1, P, INV, "selections[0]");
  g_autofree char *t4 = g_strdup_printf ("%s%s, \"sweeps\": [{\"name\": \"a\", \"file\": "
                                         "\"/etc/passwd\", \"created\": \"x\"}]}",
                                         head, model_ok);
  expect_refused (f, t4, -1, P, INV, "sweeps[0]");
  g_autofree char *t5 = g_strdup_printf ("%s%s, \"selections\": [{\"name\": \"a\", \"file\": "
                                         "\"selections/a.json\", \"created\": \"x\"}, "
                                         "{\"name\": \"a\", \"file\": \"selections/a.json\", "
                                         "\"created\": \"x\"}]}",
                                         head, model_ok);
  expect_refused (f, t5, -1, P, INV, "repeats");
  g_autofree char *t6 = g_strdup_printf ("%s%s, \"exports\": [{\"folder\": \"out\", "
                                         "\"created\": \"x\", \"directions\": []}]}",
                                         head, model_ok);
  expect_refused (f, t6, -1, P, INV, "exports[0]");
  g_autofree char *t7 = g_strdup_printf ("%s%s, \"exports\": [{\"folder\": \"/o\", \"created\": "
                                         "\"x\", \"directions\": [\"eng_Latn\"]}]}",
                                         head, model_ok);
  expect_refused (f, t7, -1, P, INV, "\"directions\"");
  const char *prunes[][2] = {
    { "{\"ratio\": 1.5, \"metric\": \"importance\", \"algorithm\": \"per-layer\", "
      "\"granularity\": \"lang\", \"encoder_weight\": 3, \"decoder_weight\": 1}",
      "\"ratio\"" },
    { "{\"ratio\": 1e999, \"metric\": \"importance\"}", NULL },
    { "{\"ratio\": 0.5, \"metric\": \"bogus\", \"algorithm\": \"per-layer\", "
      "\"granularity\": \"lang\", \"encoder_weight\": 3, \"decoder_weight\": 1}",
      "\"metric\"" },
    { "{\"ratio\": 0.5, \"metric\": \"importance\", \"algorithm\": \"per-layer\", "
      "\"granularity\": \"lang\", \"encoder_weight\": 0, \"decoder_weight\": 1}",
      "encoder:decoder" },
    { "{\"ratio\": 0.5, \"metric\": \"importance\", \"algorithm\": \"per-layer\", "
      "\"granularity\": \"lang\", \"encoder_weight\": 3, \"decoder_weight\": 1, "
      "\"directions\": [1]}",
      "\"directions\"" },
    { "[]", "\"prune\"" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (prunes); i++)
    {
      g_autofree char *t = g_strdup_printf ("%s%s, \"prune\": %s}", head, model_ok, prunes[i][0]);
      g_autofree char *file2 = g_build_filename (f->proj_dir, "project.json", NULL);
      g_assert_true (g_file_set_contents (file2, t, -1, NULL));
      g_autoptr (ScProject) p = sc_project_open (f->proj_dir, f->model_dir, &error);
      g_assert_null (p);
      g_assert_nonnull (error);
      if (prunes[i][1] != NULL)
        {
          g_assert_error (error, P, INV);
          g_assert_nonnull (strstr (error->message, prunes[i][1]));
        }
      g_clear_error (&error);
    }
  /* nesting deeper than the guarded reader takes */
  g_autoptr (GString) deep = g_string_new ("");
  for (int i = 0; i < 5000; i++)
    g_string_append_c (deep, '[');
  expect_refused (f, deep->str, -1, SC_ERROR, SC_ERROR_FORMAT, NULL);

  /* the good file still opens; a selection file made unreadable fails the load */
  g_assert_true (g_file_set_contents (file, good, len, NULL));
  g_autoptr (ScProject) p = sc_project_open (f->proj_dir, f->model_dir, &error);
  g_assert_no_error (error);
  g_autofree char *sel = g_build_filename (f->proj_dir, "selections", "selection-1.json", NULL);
  g_assert_true (g_file_set_contents (sel, "{\"eng_Latn\": [1, 1e9]}", -1, NULL));
  g_autoptr (ScExpertIndex) idx = sc_project_load_selection (
      p, NULL, f->shape->n_moe_layers, f->shape->n_encoder_moe, f->shape->n_experts, &error);
  g_assert_null (idx);
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_autoptr (ScExpertIndex) idx2 =
      sc_project_load_selection (p, "selection-9", f->shape->n_moe_layers, f->shape->n_encoder_moe,
                                 f->shape->n_experts, &error);
  g_assert_null (idx2);
  g_assert_error (error, P, SC_PROJECT_ERROR_NOT_FOUND);
}

static void
test_model_changed (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *fp = sc_model_fingerprint (f->model_dir, NULL);
  {
    g_autoptr (ScProject) p = sc_project_open (f->proj_dir, f->model_dir, &error);
    g_assert_no_error (error);
  }
  /* another model: the fixture's dense sibling is not this project's */
  g_autofree char *other = sc_test_path ("tests/fixtures/m2m-tiny");
  g_autofree char *other_fp = sc_model_fingerprint (other, &error);
  g_assert_no_error (error);
  g_autoptr (ScProject) q = sc_project_open (f->proj_dir, other, &error);
  g_assert_null (q);
  g_assert_error (error, SC_PROJECT_ERROR, SC_PROJECT_ERROR_MODEL_CHANGED);
  g_assert_nonnull (strstr (error->message, f->model_dir));
  g_assert_nonnull (strstr (error->message, fp));
  g_assert_nonnull (strstr (error->message, other));
  g_assert_nonnull (strstr (error->message, other_fp));
  g_clear_error (&error);

  /* a copy of the model elsewhere is the same model, and becomes the path */
  g_autofree char *copy = g_build_filename (f->tmp, "copy", NULL);
  g_assert_cmpint (g_mkdir (copy, 0755), ==, 0);
  sc_test_copy_files (f->model_dir, copy, NULL);
  {
    g_autoptr (ScProject) c = sc_project_open (f->proj_dir, copy, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (sc_project_get_model_dir (c), ==, copy);
  }
  {
    g_autoptr (ScProject) c = sc_project_open (f->proj_dir, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (sc_project_get_model_dir (c), ==, copy);
  }

  /* the recorded model changed on disk */
  g_autofree char *cfg = g_build_filename (copy, "config.json", NULL);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (cfg, &text, NULL, NULL));
  g_autofree char *changed = g_strconcat (text, " ", NULL);
  g_assert_true (g_file_set_contents (cfg, changed, -1, NULL));
  g_autofree char *changed_fp = sc_model_fingerprint (copy, NULL);
  g_autoptr (ScProject) r = sc_project_open (f->proj_dir, NULL, &error);
  g_assert_null (r);
  g_assert_error (error, SC_PROJECT_ERROR, SC_PROJECT_ERROR_MODEL_CHANGED);
  g_assert_nonnull (strstr (error->message, fp));
  g_assert_nonnull (strstr (error->message, changed_fp));
  g_clear_error (&error);

  /* the recorded model is gone */
  sc_test_rm_tree (copy);
  g_autoptr (ScProject) m = sc_project_open (f->proj_dir, NULL, &error);
  g_assert_null (m);
  g_assert_error (error, SC_PROJECT_ERROR, SC_PROJECT_ERROR_MODEL_MISSING);
  g_assert_nonnull (strstr (error->message, copy));
}

#define N_WRITES 12

typedef struct
{
  Fixture *f;
  int which;
} Writer;

static gpointer
writer (gpointer data)
{
  Writer *w = data;
  g_autoptr (GError) error = NULL;
  /* each writer its own project handle, as two processes would have */
  g_autoptr (ScProject) p = sc_project_open (w->f->proj_dir, w->f->model_dir, &error);
  g_assert_no_error (error);
  for (int i = 0; i < N_WRITES; i++)
    {
      g_autofree char *out = g_strdup_printf ("/exports/w%d-%d", w->which, i);
      const char *dirs[] = { "eng_Latn-fra_Latn", NULL };
      g_assert_true (sc_project_add_export (p, out, dirs, NULL, &error));
      g_assert_no_error (error);
      g_autoptr (ScExpertIndex) idx = sc_expert_index_new (
          w->f->shape->n_moe_layers, w->f->shape->n_encoder_moe, w->f->shape->n_experts);
      int ids[] = { i };
      g_assert_true (sc_expert_index_set (idx, "eng_Latn", ids, 1, NULL));
      g_assert_true (sc_project_add_selection (p, idx, NULL, &error));
      g_assert_no_error (error);
      g_autoptr (ScStats) s = make_stats (w->f->shape, "eng_Latn-fra_Latn", 1, w->which);
      g_autoptr (ScStats) sum = sc_project_add_stats (p, s, NULL, NULL, &error);
      g_assert_no_error (error);
    }
  return NULL;
}

static void
test_two_writers (Fixture *f, gconstpointer data)
{
  Writer a = { f, 1 }, b = { f, 2 };
  GThread *ta = g_thread_new ("a", writer, &a);
  GThread *tb = g_thread_new ("b", writer, &b);
  g_thread_join (ta);
  g_thread_join (tb);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScProject) p = sc_project_open (f->proj_dir, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (JsonArray) exports = sc_project_get_exports (p);
  g_assert_cmpuint (json_array_get_length (exports), ==, 2 * N_WRITES);
  g_autoptr (JsonNode) doc = sc_project_get_document (p);
  JsonArray *sels = json_object_get_array_member (json_node_get_object (doc), "selections");
  g_assert_cmpuint (json_array_get_length (sels), ==, 2 * N_WRITES);
  g_autoptr (GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < json_array_get_length (sels); i++)
    g_hash_table_add (names, (gpointer) json_object_get_string_member (
                                 json_array_get_object_element (sels, i), "name"));
  g_assert_cmpuint (g_hash_table_size (names), ==, 2 * N_WRITES);
  g_autoptr (ScStats) stats = sc_project_load_stats (p, f->shape, &error);
  g_assert_no_error (error);
  g_autoptr (ScStatsCounters) c = sc_stats_get_pair (stats, "eng_Latn-fra_Latn", &error);
  g_assert_cmpuint (c->tokens[0], ==, 2 * N_WRITES);
  g_assert_cmpuint (c->top1[1], ==, N_WRITES);
  g_assert_cmpuint (c->top1[2], ==, N_WRITES);
  /* no lock file outlives its use */
  g_autofree char *lock = g_build_filename (f->proj_dir, "project.json.lock", NULL);
  g_assert_false (g_file_test (lock, G_FILE_TEST_EXISTS));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/project/fingerprint", Fixture, NULL, fixture_setup, test_fingerprint,
              fixture_teardown);
  g_test_add ("/project/round-trip", Fixture, NULL, fixture_setup, test_round_trip,
              fixture_teardown);
  g_test_add ("/project/hostile", Fixture, NULL, fixture_setup, test_hostile, fixture_teardown);
  g_test_add ("/project/model-changed", Fixture, NULL, fixture_setup, test_model_changed,
              fixture_teardown);
  g_test_add ("/project/two-writers", Fixture, NULL, fixture_setup, test_two_writers,
              fixture_teardown);
  return g_test_run ();
}
