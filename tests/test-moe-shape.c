/* test-moe-shape.c: the model owns its folder and its MoE shape. The shape
 * measured at load agrees with what an export writes (bytes per expert,
 * dense bytes), statistics made from it match the model, and the folder's
 * files (share table, held-out set, tokenizer) are the model's to answer. */
#include "sc-export.h"
#include "sc-model-folder.h"
#include "sc-stats.h"
#include "sc-test-util.h"

#include <string.h>

static void
test_moe (void)
{
  g_autofree char *demo = sc_test_path ("resources/models/demo");
  if (!g_file_test (demo, G_FILE_TEST_IS_DIR))
    {
      g_test_skip ("the demo model is not shipped");
      return;
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (ScModel) model = sc_model_load (demo, NULL, &error);
  g_assert_no_error (error);
  const ScMoeShape *sh = sc_model_get_moe_shape (model);
  g_assert_cmpstr (sh->name, ==, "demo");
  g_assert_cmpstr (sc_model_get_name (model), ==, "demo");
  g_assert_cmpstr (sc_model_get_dir (model), ==, demo);
  g_assert_cmpint (sh->n_moe_layers, ==, 4);
  g_assert_cmpint (sh->n_encoder_moe, ==, 2);
  g_assert_cmpint (sh->n_experts, ==, 16);
  g_assert_cmpint (sh->n_moe_layers, ==, sc_model_n_moe_layers (model));
  g_assert_cmpint (sh->d_model, ==, sc_model_get_config (model)->d_model);

  /* what dropping one expert saves in an export, and what keeping all weighs */
  int n = sh->n_moe_layers * sh->n_experts;
  g_autofree guint8 *keep = g_malloc (n);
  memset (keep, 1, n);
  ScExportPlan all, one_less;
  g_assert_true (sc_export_plan (model, keep, &all, &error));
  keep[5] = 0;
  g_assert_true (sc_export_plan (model, keep, &one_less, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sh->bytes_per_expert, >, 0);
  g_assert_cmpuint (sh->bytes_per_expert, ==, all.bytes - one_less.bytes);
  g_assert_cmpuint (sc_moe_shape_bytes (sh, n), ==, all.bytes);
  g_assert_cmpuint (sc_moe_shape_bytes (sh, n - 1), ==, one_less.bytes);
  /* f16 weights: two bytes a parameter */
  g_assert_cmpuint (all.bytes, ==,
                    (sc_model_n_params_dense (model) + sc_model_n_params_experts (model)) * 2);

  /* statistics of this model have its shape */
  g_autoptr (ScStats) stats = sc_stats_new (sh);
  g_assert_true (sc_stats_shape_equal (sc_stats_get_shape (stats), sh, &error));
  g_assert_cmpstr (sc_stats_get_shape (stats)->name, ==, "demo");

  /* its folder's files: its own training shares and held-out set */
  g_autofree char *own_path = g_build_filename (demo, "language-shares.tsv", NULL);
  g_autoptr (ScShareTable) own = sc_share_table_load (own_path, &error);
  g_autoptr (ScShareTable) shares = sc_model_load_share_table (model, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sc_share_table_size (shares), ==, sc_share_table_size (own));
  g_autoptr (GPtrArray) held = sc_model_held_out_pairs (model, "eng_Latn", "fra_Latn", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (held->len, ==, 20);
  ScCorpusSpec spec = { SC_CORPUS_DEFAULT, NULL };
  g_autoptr (GPtrArray) same = sc_model_corpus_pairs (model, &spec, SC_CORPUS_SPLIT_HELD_OUT,
                                                      "eng_Latn", "fra_Latn", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (((ScCorpusPair *) same->pdata[0])->source, ==,
                   ((ScCorpusPair *) held->pdata[0])->source);
  g_autofree char *spm = sc_model_get_spm_path (model);
  g_assert_true (g_file_test (spm, G_FILE_TEST_IS_REGULAR));
}

/* A dense model has no MoE layer; all its bytes are dense. */
static void
test_dense (void)
{
  g_autofree char *dir = sc_test_path ("tests/fixtures/m2m-tiny");
  g_autoptr (GError) error = NULL;
  g_autoptr (ScModel) model = sc_model_load (dir, NULL, &error);
  g_assert_no_error (error);
  const ScMoeShape *sh = sc_model_get_moe_shape (model);
  g_assert_cmpint (sh->n_moe_layers, ==, 0);
  g_assert_cmpint (sh->n_encoder_moe, ==, 0);
  g_assert_cmpint (sh->n_experts, ==, 0);
  g_assert_cmpuint (sh->bytes_per_expert, ==, 0);
  guint64 total = 0;
  ScCheckpoint *ckpt = sc_model_get_checkpoint (model);
  for (guint i = 0; i < sc_checkpoint_n_tensors (ckpt); i++)
    total += sc_checkpoint_get (ckpt, sc_checkpoint_names (ckpt)[i])->nbytes;
  g_assert_cmpuint (sh->dense_bytes, ==, total);
  /* no share table of its own: NLLB-200's */
  g_autoptr (ScShareTable) shares = sc_model_load_share_table (model, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sc_share_table_size (shares), ==, 202);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/moe-shape/moe", test_moe);
  g_test_add_func ("/moe-shape/dense", test_dense);
  return g_test_run ();
}
