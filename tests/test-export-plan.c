/* test-export-plan.c: the export bundle's plan (sc_export_job_plan) is what
 * sc_export_job_run writes: the same files, each safetensors file to the
 * byte, the whole within 1 %, for one and two directions, three dtypes and
 * one or several shards; the kept experts are the union over the
 * directions; the record read back from the folder (sc-export-record.h)
 * reports the experts and directions the plan said; the report's quality
 * title names the held-out set it was given. */
#include "sc-calibrate.h"
#include "sc-corpus.h"
#include "sc-export.h"
#include "sc-export-job.h"
#include "sc-export-record.h"
#include "sc-test-util.h"

#include <glib/gstdio.h>
#include <string.h>

static ScModel *model;
static ScStats *stats;

/* Statistics for eng-fra and fra-eng from a few UDHR sentences. */
static ScStats *
calibrated_stats (void)
{
  g_autofree char *udhr = sc_corpus_default_udhr_dir ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) pairs =
      sc_corpus_udhr_pairs (udhr, "eng_Latn", "fra_Latn", SC_CORPUS_SPLIT_CALIBRATION, &error);
  g_assert_no_error (error);
  ScCalibrationItem items[8];
  for (int i = 0; i < 8; i++)
    {
      ScCorpusPair *p = pairs->pdata[i / 2];
      items[i] = i % 2 == 0 ? (ScCalibrationItem){ "eng_Latn", "fra_Latn", p->source, p->target }
                            : (ScCalibrationItem){ "fra_Latn", "eng_Latn", p->target, p->source };
    }
  ScStats *s = sc_stats_new (sc_model_get_moe_shape (model));
  ScCalibrateOptions copts;
  sc_calibrate_options_init (&copts, model);
  g_autoptr (ScView) full = sc_view_new (model, NULL, &error);
  g_assert_true (sc_calibrate (full, s, items, 8, &copts, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  return s;
}

/* The size of `folder`/`name`, or -1. */
static gint64
file_size (const char *folder, const char *name)
{
  g_autofree char *path = g_build_filename (folder, name, NULL);
  GStatBuf st;
  return g_stat (path, &st) == 0 ? (gint64) st.st_size : -1;
}

/* Every regular file under `dir` (relative names, `prefix` before). */
static void
list_files (const char *dir, const char *prefix, GPtrArray *out)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (d);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *rel = prefix ? g_build_filename (prefix, name, NULL) : g_strdup (name);
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        list_files (path, rel, out);
      else
        g_ptr_array_add (out, g_steal_pointer (&rel));
    }
}

typedef struct
{
  const char *dirs[3];
  double ratio;
  ScSelectAlgo algo;
  gboolean convert;
  ScDType dtype;
  guint64 shard_bytes;
} Case;

static void
check_case (gconstpointer data)
{
  const Case *c = data;
  g_autofree char *tmp = g_dir_make_tmp ("sc-export-plan-XXXXXX", NULL);
  g_autofree char *folder = g_build_filename (tmp, "bundle", NULL);
  ScExportJobOptions o;
  sc_export_job_options_init (&o);
  o.folder = folder;
  o.directions = c->dirs;
  o.settings.ratio = c->ratio;
  o.settings.algo = c->algo;
  o.convert = c->convert;
  o.dtype = c->dtype;
  o.shard_bytes = c->shard_bytes;
  double ratios[2] = { 0, 0.5 }, chrf[2] = { 40, 30 }, scores[4] = { 40, 30, 41, 31 };
  o.n_points = 2;
  o.ratios = ratios;
  o.chrf = chrf;
  o.sweep_directions = c->dirs;
  o.sweep_scores = scores;
  o.held_out = "heldout.tsv";
  o.held_out_sentences = 8;

  g_autoptr (GError) error = NULL;
  g_autoptr (ScExportJobPlan) plan = sc_export_job_plan (model, stats, &o, &error);
  g_assert_no_error (error);
  g_assert_nonnull (plan);
  g_assert_true (sc_export_job_run (model, stats, &o, NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  /* the same files, nothing more or less */
  g_autoptr (GPtrArray) written = g_ptr_array_new_with_free_func (g_free);
  list_files (folder, NULL, written);
  g_assert_cmpuint (written->len, ==, plan->files->len);
  guint64 total = 0, tensors = 0;
  guint n_shards = 0;
  for (guint i = 0; i < plan->files->len; i++)
    {
      const ScExportFile *f = plan->files->pdata[i];
      gint64 size = file_size (folder, f->name);
      g_assert_cmpint (size, >=, 0);
      total += size;
      if (g_str_has_suffix (f->name, ".safetensors"))
        {
          /* the weights to the byte, header included */
          g_assert_cmpint (size, ==, (gint64) f->bytes);
          tensors += size;
          n_shards++;
        }
      else if (!g_str_has_suffix (f->name, ".svg"))
        g_assert_cmpint (size, ==, (gint64) f->bytes);
    }
  g_assert_cmpuint (tensors, ==, plan->tensor_bytes);
  g_assert_cmpfloat (ABS ((double) total - (double) plan->bytes), <=, 0.01 * total);
  g_assert_cmpuint (n_shards > 1, ==, c->shard_bytes > 0);
  g_assert_cmpint (file_size (folder, "model/model.safetensors.index.json") >= 0, ==, n_shards > 1);

  /* the kept experts: the union of the directions' kept sets */
  g_autofree guint8 *want = sc_prune_keep_union (stats, &o.settings, c->dirs, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (plan->keep, plan->total, want, plan->total);
  int kept = 0;
  for (int i = 0; i < plan->total; i++)
    kept += want[i] != 0;
  g_assert_cmpint (plan->kept, ==, kept);
  g_assert_cmpint (plan->kept, <, plan->total);
  g_assert_cmpuint (plan->memory_bytes, >, plan->tensor_bytes / 2);

  /* read back: the experts and directions the plan said */
  g_autoptr (ScExportRecord) rec = sc_export_record_load (folder, &error);
  g_assert_no_error (error);
  g_assert_cmpint (rec->kept, ==, plan->kept);
  g_assert_cmpint (rec->total, ==, plan->total);
  for (int m = 0; m < plan->n_moe_layers; m++)
    {
      GArray *ids = g_ptr_array_index (rec->kept_experts, m);
      g_assert_cmpint ((int) ids->len, ==, plan->kept_per_layer[m]);
      for (guint i = 0; i < ids->len; i++)
        g_assert_true (plan->keep[m * plan->n_experts + g_array_index (ids, int, i)]);
    }
  g_assert_cmpstrv (rec->served, c->dirs);
  g_assert_cmpstr (rec->dtype, ==, sc_dtype_name (plan->dtype));
  g_assert_cmpuint (rec->bytes, ==, plan->model_bytes);
  g_autofree char *how = sc_export_record_settings_text (rec);
  g_assert_nonnull (strstr (how, c->algo == SC_SELECT_PER_LAYER ? "per-layer" : "threshold"));

  /* the quality plot names its held-out set and sample size (report/ is
   * written by builds with Cairo) */
  g_autofree char *report = g_build_filename (folder, "report", NULL);
  if (g_file_test (report, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *about_path = g_build_filename (report, "about.json", NULL);
      g_autoptr (JsonNode) about = sc_test_load_json (about_path);
      JsonObject *ao = json_node_get_object (about);
      g_assert_cmpstr (json_object_get_string_member (ao, "held_out"), ==, "heldout.tsv");
      g_assert_cmpint (json_object_get_int_member (ao, "sentences_per_pair"), ==, 8);
      g_assert_cmpstr (json_object_get_string_member (ao, "quality_title"), ==,
                       "Quality vs pruning (held-out: heldout.tsv, 8 sentences per pair)");
    }
  sc_test_rm_tree (tmp);
}

static const Case cases[] = {
  { { "eng_Latn-fra_Latn", NULL }, 0.5, SC_SELECT_PER_LAYER, FALSE, SC_DTYPE_F32, 0 },
  { { "eng_Latn-fra_Latn", "fra_Latn-eng_Latn", NULL },
    0.5,
    SC_SELECT_PER_LAYER,
    TRUE,
    SC_DTYPE_F16,
    0 },
  { { "eng_Latn-fra_Latn", "fra_Latn-eng_Latn", NULL },
    0.5,
    SC_SELECT_THRESHOLD,
    TRUE,
    SC_DTYPE_BF16,
    1 << 20 },
};

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_autofree char *dir = sc_test_path ("tests/fixtures/nllb-moe-tiny");
  g_autoptr (GError) error = NULL;
  model = sc_model_load (dir, NULL, &error);
  g_assert_no_error (error);
  stats = calibrated_stats ();
  g_test_add_data_func ("/export-plan/one-pair-f32", &cases[0], check_case);
  g_test_add_data_func ("/export-plan/two-pairs-f16", &cases[1], check_case);
  g_test_add_data_func ("/export-plan/two-pairs-bf16-sharded-threshold", &cases[2], check_case);
  int rc = g_test_run ();
  sc_stats_free (stats);
  sc_model_free (model);
  sc_export_job_free_font_caches ();
  return rc;
}
