/* test-pruned.c: masked expert pruning against Hugging Face running the
 * physically pruned model (tools/make_pruned_goldens.py: routers sliced to
 * the kept rows, kept experts renumbered, as the paper's authors prune). */
#include "sc-export.h"
#include "sc-generate.h"
#include "sc-model.h"
#include "sc-safetensors.h"
#include "sc-test-golden.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static ScModel *model;
static ScView *view; /* what forward_logits and generate run */
static JsonObject *golden;
static ScSafetensors *tensors;

/* keep[] from the golden's {"encoder": {"1": [...]}, "decoder": {...}}:
 * MoE ordinal = encoder sparse layers first, each side in layer order. */
static guint8 *
golden_keep_of (JsonObject *golden)
{
  const ScConfig *c = sc_model_get_config (model);
  int E = c->num_experts;
  guint8 *keep = g_new0 (guint8, sc_model_n_moe_layers (model) * E);
  JsonObject *kept = json_object_get_object_member (golden, "kept");
  int m = 0;
  for (int side = 0; side < 2; side++)
    {
      JsonObject *layers = json_object_get_object_member (kept, side ? "decoder" : "encoder");
      int n_layers = side ? c->decoder_layers : c->encoder_layers;
      for (int l = 0; l < n_layers; l++)
        {
          if (!sc_config_is_sparse (c, side, l))
            continue;
          g_autofree char *key = g_strdup_printf ("%d", l);
          JsonArray *ids = json_object_get_array_member (layers, key);
          for (guint i = 0; i < json_array_get_length (ids); i++)
            keep[m * E + json_array_get_int_element (ids, i)] = 1;
          m++;
        }
    }
  g_assert_cmpint (m, ==, sc_model_n_moe_layers (model));
  return keep;
}

static guint8 *
golden_keep (void)
{
  return golden_keep_of (golden);
}

static const ScTensor *
golden_logits_in (ScSafetensors *tensors, const char *case_name)
{
  g_autofree char *name = g_strdup_printf ("%s.logits", case_name);
  GPtrArray *all = sc_safetensors_tensors (tensors);
  for (guint i = 0; i < all->len; i++)
    if (g_str_equal (((ScTensor *) all->pdata[i])->name, name))
      return all->pdata[i];
  g_error ("no golden %s", name);
  return NULL;
}

static const ScTensor *
golden_logits (const char *case_name)
{
  return golden_logits_in (tensors, case_name);
}

/* Makes the helpers run `m` keeping `keep` (NULL: every expert). */
static gboolean
use_view (ScModel *m, const guint8 *keep, GError **error)
{
  ScView *v = sc_view_new_from_keep (m, keep, error);
  if (v == NULL)
    return FALSE;
  g_clear_pointer (&view, sc_view_free);
  view = v;
  return TRUE;
}

static float *
forward_logits (JsonObject *c, int *n)
{
  ScModel *model = sc_view_get_model (view);
  int B, S, T;
  g_autofree int *lengths = NULL;
  g_autoptr (GArray) ids = case_inputs (c, &B, &S, &lengths);
  g_autoptr (GArray) dec_ids =
      sc_test_int_matrix (json_object_get_array_member (c, "decoder_input_ids"), &B, &T);
  g_assert_cmpint (B, >, 0);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScEncoding) enc = sc_view_encode (view, (int *) ids->data, lengths, B, S, &error);
  g_assert_no_error (error);
  g_autofree int *src = g_malloc_n ((gsize) enc->B, sizeof (int));
  for (int b = 0; b < enc->B; b++)
    src[b] = b;
  g_autoptr (ScDecoder) dec = sc_decoder_new (view, enc, B, src, T, &error);
  g_assert_no_error (error);
  int V = sc_model_get_config (model)->vocab_size;
  *n = B * T * V;
  float *logits = g_new (float, *n);
  sc_decoder_forward (dec, (int *) dec_ids->data, T, logits, FALSE, &error);
  g_assert_no_error (error);
  return logits;
}

static GPtrArray *
generate (JsonObject *c, int beams)
{
  ScModel *model = sc_view_get_model (view);
  int B, S;
  g_autofree int *lengths = NULL;
  g_autoptr (GArray) ids = case_inputs (c, &B, &S, &lengths);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScEncoding) enc = sc_view_encode (view, (int *) ids->data, lengths, B, S, &error);
  g_assert_no_error (error);
  ScGenerateOptions opts;
  sc_generate_options_init (&opts, model);
  opts.num_beams = beams;
  opts.max_length = 24;
  opts.length_penalty = 1.0;
  opts.early_stopping = FALSE;
  opts.forced_bos_id = sc_tokenizer_lang_id (sc_model_get_tokenizer (model),
                                             json_object_get_string_member (c, "tgt_lang"), NULL);
  GPtrArray *out = sc_generate (view, enc, &opts, NULL, &error);
  g_assert_no_error (error);
  return out;
}

/* Masked logits match Hugging Face's pruned model. */
static void
test_logits (void)
{
  g_autofree guint8 *keep = golden_keep ();
  g_autoptr (GError) error = NULL;
  g_assert_true (use_view (model, keep, &error));
  JsonArray *cases = json_object_get_array_member (golden, "cases");
  for (guint i = 0; i < json_array_get_length (cases); i++)
    {
      JsonObject *c = json_array_get_object_element (cases, i);
      int n;
      g_autofree float *logits = forward_logits (c, &n);
      double diff =
          max_abs_diff (logits, golden_logits (json_object_get_string_member (c, "name")), n);
      g_test_message ("%s: masked logits max |diff| %.3g",
                      json_object_get_string_member (c, "name"), diff);
      g_assert_cmpfloat (diff, <, 1e-4);
    }
  use_view (model, NULL, NULL);
}

/* Greedy and beam outputs of the masked model equal the pruned model's,
 * and pruning changed at least one output (the test can tell). */
static void
test_generate (void)
{
  g_autofree guint8 *keep = golden_keep ();
  JsonArray *cases = json_object_get_array_member (golden, "cases");
  int changed = 0;
  for (guint i = 0; i < json_array_get_length (cases); i++)
    {
      JsonObject *c = json_array_get_object_element (cases, i);
      g_autoptr (GPtrArray) full = generate (c, 1);
      g_assert_true (use_view (model, keep, NULL));
      for (int k = 0; k < 2; k++)
        {
          const char *kind = k ? "beam" : "greedy";
          JsonObject *s = json_array_get_object_element (json_object_get_array_member (c, kind), 0);
          g_autoptr (GPtrArray) out = generate (c, k ? 4 : 1);
          int gb, gl;
          g_autoptr (GArray) gold =
              sc_test_int_matrix (json_object_get_array_member (s, "ids"), &gb, &gl);
          for (guint b = 0; b < out->len; b++)
            {
              g_autofree char *what = g_strdup_printf (
                  "%s %s row %u", json_object_get_string_member (c, "name"), kind, b);
              assert_same_tokens (what, out->pdata[b], &g_array_index (gold, int, b *gl), gl);
              if (k == 0)
                {
                  GArray *x = full->pdata[b], *y = out->pdata[b];
                  changed +=
                      x->len != y->len || memcmp (x->data, y->data, sizeof (int) * x->len) != 0;
                }
            }
        }
      use_view (model, NULL, NULL);
    }
  g_assert_cmpint (changed, >, 0);
}

/* Keeping every expert (ratio 0) reproduces the unpruned model bit for bit. */
static void
test_keep_all (void)
{
  JsonObject *c = json_array_get_object_element (json_object_get_array_member (golden, "cases"), 1);
  int n;
  g_autofree float *plain = forward_logits (c, &n);
  int size = sc_model_n_moe_layers (model) * sc_model_get_config (model)->num_experts;
  g_autofree guint8 *all = g_malloc (size);
  memset (all, 1, size);
  g_assert_true (use_view (model, all, NULL));
  g_autofree float *masked = forward_logits (c, &n);
  use_view (model, NULL, NULL);
  g_assert_cmpmem (plain, sizeof (float) * n, masked, sizeof (float) * n);
}

static void
test_too_few (void)
{
  int E = sc_model_get_config (model)->num_experts;
  g_autofree guint8 *keep = golden_keep ();
  memset (keep + 2 * E, 0, E);
  g_autoptr (GError) error = NULL;
  g_assert_false (use_view (model, keep, &error));
  g_assert_error (error, SC_ERROR, SC_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "layer 2"));
}

/* Tensor name prefixes of the experts `keep` prunes. */
static GPtrArray *
pruned_prefixes (const guint8 *keep)
{
  const ScConfig *cfg = sc_model_get_config (model);
  int E = cfg->num_experts, m = 0;
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  for (int side = 0; side < 2; side++)
    for (int l = 0; l < (side ? cfg->decoder_layers : cfg->encoder_layers); l++)
      {
        if (!sc_config_is_sparse (cfg, side, l))
          continue;
        for (int e = 0; e < E; e++)
          if (!keep[m * E + e])
            g_ptr_array_add (out, g_strdup_printf ("model.%s.layers.%d.ffn.experts.expert_%d.",
                                                   side ? "decoder" : "encoder", l, e));
        m++;
      }
  return out;
}

/* Pruned experts are never used: poison them with NaN in a copy of the
 * checkpoint, and the masked model still matches the golden. */
static void
test_pruned_never_read (void)
{
  g_autofree guint8 *keep = golden_keep ();
  g_autofree char *src = sc_test_path ("tests/fixtures/nllb-moe-tiny");
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("secateur-pruned-XXXXXX", &error);
  g_assert_no_error (error);
  sc_test_copy_files (src, dir, sc_test_model_meta);

  g_autoptr (GPtrArray) poisoned = pruned_prefixes (keep);

  g_autofree char *st_path = g_build_filename (src, "model.safetensors", NULL);
  g_autoptr (ScSafetensors) st = sc_safetensors_open (st_path, &error);
  g_assert_no_error (error);
  GPtrArray *all = sc_safetensors_tensors (st);
  g_autoptr (GPtrArray) out = g_ptr_array_new ();
  g_autoptr (GPtrArray) buffers = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) views = g_ptr_array_new_with_free_func (g_free);
  int n_poisoned = 0;
  for (guint i = 0; i < all->len; i++)
    {
      ScTensor *t = all->pdata[i];
      gboolean poison = FALSE;
      for (guint p = 0; p < poisoned->len && !poison; p++)
        poison = g_str_has_prefix (t->name, poisoned->pdata[p]);
      if (!poison)
        {
          g_ptr_array_add (out, t);
          continue;
        }
      g_assert_cmpint (t->dtype, ==, SC_DTYPE_F32);
      float *nan = g_new (float, sc_tensor_numel (t));
      for (gint64 k = 0; k < sc_tensor_numel (t); k++)
        nan[k] = NAN;
      ScTensor *v = g_memdup2 (t, sizeof *t);
      v->data = nan;
      g_ptr_array_add (buffers, nan);
      g_ptr_array_add (views, v);
      g_ptr_array_add (out, v);
      n_poisoned++;
    }
  g_assert_cmpint (n_poisoned, ==, 4 * 4 * 4); /* 4 layers x 4 pruned experts x 4 tensors */
  g_autofree char *dst = g_build_filename (dir, "model.safetensors", NULL);
  sc_safetensors_write (dst, (ScTensor *const *) out->pdata, out->len, &error);
  g_assert_no_error (error);

  g_autoptr (ScModel) copy = sc_model_load (dir, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (use_view (copy, keep, NULL));
  JsonObject *c = json_array_get_object_element (json_object_get_array_member (golden, "cases"), 2);
  int n;
  g_autofree float *logits = forward_logits (c, &n);
  g_assert_cmpfloat (
      max_abs_diff (logits, golden_logits (json_object_get_string_member (c, "name")), n), <, 1e-4);
  g_assert_true (use_view (model, NULL, NULL));

  sc_test_rm_tree (dir);
}

/* A sharded copy whose second shard holds exactly the pruned experts, with
 * that shard deleted: it loads only when missing experts are allowed, runs
 * only under a mask that prunes them, and still matches the golden; an
 * export from it works too. */
static void
test_missing_shards (void)
{
  g_autofree guint8 *keep = golden_keep ();
  g_autofree char *src = sc_test_path ("tests/fixtures/nllb-moe-tiny");
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("secateur-partial-XXXXXX", &error);
  sc_test_copy_files (src, dir, sc_test_model_meta);

  g_autoptr (GPtrArray) pruned = pruned_prefixes (keep);
  g_autofree char *st_path = g_build_filename (src, "model.safetensors", NULL);
  g_autoptr (ScSafetensors) st = sc_safetensors_open (st_path, &error);
  g_assert_no_error (error);
  GPtrArray *all = sc_safetensors_tensors (st);
  g_autoptr (GPtrArray) one = g_ptr_array_new (), two = g_ptr_array_new ();
  GString *map = g_string_new ("{\"metadata\": {}, \"weight_map\": {");
  for (guint i = 0; i < all->len; i++)
    {
      ScTensor *t = all->pdata[i];
      gboolean p = FALSE;
      for (guint k = 0; k < pruned->len && !p; k++)
        p = g_str_has_prefix (t->name, pruned->pdata[k]);
      g_ptr_array_add (p ? two : one, t);
      g_string_append_printf (map, "%s\"%s\": \"model-0000%d-of-00002.safetensors\"", i ? ", " : "",
                              t->name, p ? 2 : 1);
    }
  g_string_append (map, "}}");
  g_autofree char *s1 = g_build_filename (dir, "model-00001-of-00002.safetensors", NULL);
  g_autofree char *s2 = g_build_filename (dir, "model-00002-of-00002.safetensors", NULL);
  g_autofree char *idx = g_build_filename (dir, "model.safetensors.index.json", NULL);
  sc_safetensors_write (s1, (ScTensor *const *) one->pdata, one->len, &error);
  g_assert_no_error (error);
  sc_safetensors_write (s2, (ScTensor *const *) two->pdata, two->len, &error);
  g_assert_no_error (error);
  g_file_set_contents (idx, map->str, -1, &error);
  g_assert_no_error (error);
  g_string_free (map, TRUE);
  g_unlink (s2);

  ScModel *m1 = sc_model_load (dir, NULL, &error);
  g_assert_null (m1);
  g_assert_error (error, SC_ERROR, SC_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "model-00002-of-00002.safetensors"));
  g_clear_error (&error);

  g_autoptr (ScModel) part =
      sc_model_load_with_flags (dir, NULL, SC_MODEL_LOAD_ALLOW_MISSING_EXPERTS, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sc_model_n_missing_experts (part), ==, 16);
  int ids[] = { 2047, 626, 763, 2 }, len = 4;
  g_autoptr (ScView) whole = sc_view_new (part, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (sc_view_encode (whole, ids, &len, 1, 4, &error));
  g_assert_error (error, SC_ERROR, SC_ERROR_MISSING);
  g_clear_error (&error);
  guint8 all_keep[32];
  memset (all_keep, 1, sizeof all_keep);
  g_assert_false (use_view (part, all_keep, &error));
  g_assert_error (error, SC_ERROR, SC_ERROR_MISSING);
  g_clear_error (&error);

  g_assert_true (use_view (part, keep, &error));
  JsonObject *c = json_array_get_object_element (json_object_get_array_member (golden, "cases"), 3);
  int n;
  g_autofree float *logits = forward_logits (c, &n);
  g_assert_cmpfloat (
      max_abs_diff (logits, golden_logits (json_object_get_string_member (c, "name")), n), <, 1e-4);
  g_assert_true (use_view (model, NULL, NULL));

  /* beside the model: an export never writes inside the folder it reads */
  g_autofree char *out = g_strconcat (dir, "-exported", NULL);
  ScExportOptions opts = { 0 };
  g_assert_true (sc_export_pruned (part, keep, out, &opts, NULL, &error));
  g_assert_no_error (error);
  g_autoptr (ScModel) exported = sc_model_load (out, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sc_model_n_missing_experts (exported), ==, 0);
  sc_test_rm_tree (out);
  sc_test_rm_tree (dir);
}

/* One expert per layer: Hugging Face's top-2 picks it twice (weights
 * 1/2 + 1/2); the masked model routes every token to it with weight 1. */
static void
test_one_expert (void)
{
  g_autofree char *cases = sc_test_path ("tests/goldens/nllb-moe-tiny-pruned1/cases.json");
  g_autofree char *tpath = sc_test_path ("tests/goldens/nllb-moe-tiny-pruned1/tensors.safetensors");
  g_autoptr (JsonNode) root = sc_test_load_json (cases);
  JsonObject *g1 = json_node_get_object (root);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScSafetensors) t1 = sc_safetensors_open (tpath, &error);
  g_assert_no_error (error);
  g_autofree guint8 *keep = golden_keep_of (g1);
  g_assert_true (use_view (model, keep, &error));
  JsonArray *list = json_object_get_array_member (g1, "cases");
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *c = json_array_get_object_element (list, i);
      int n;
      g_autofree float *logits = forward_logits (c, &n);
      g_assert_cmpfloat (
          max_abs_diff (logits, golden_logits_in (t1, json_object_get_string_member (c, "name")),
                        n),
          <, 1e-4);
      JsonObject *s = json_array_get_object_element (json_object_get_array_member (c, "greedy"), 0);
      g_autoptr (GPtrArray) out = generate (c, 1);
      int gb, gl;
      g_autoptr (GArray) gold =
          sc_test_int_matrix (json_object_get_array_member (s, "ids"), &gb, &gl);
      for (guint b = 0; b < out->len; b++)
        assert_same_tokens ("one expert greedy", out->pdata[b], &g_array_index (gold, int, b *gl),
                            gl);
    }
  use_view (model, NULL, NULL);
}

/* One and two experts per layer, masked and exported, for both checkpoint
 * layouts (NllbMoeForConditionalGeneration's "model." names in safetensors,
 * NllbMoeModel's bare names in .bin shards): the export translates as the
 * masked model does, and with one expert both match Hugging Face's
 * one-expert model (tests/goldens/nllb-moe-tiny-pruned1). */
static void
test_export_few (void)
{
  static const char *const layouts[] = { "nllb-moe-tiny", "nllb-moe-tiny-54b-style" };
  /* per MoE layer (enc L1, enc L3, dec L1, dec L3): the golden's one
   * expert, then a second one */
  static const int kept[4][2] = { { 5, 0 }, { 2, 6 }, { 4, 1 }, { 7, 3 } };
  g_autofree char *cases = sc_test_path ("tests/goldens/nllb-moe-tiny-pruned1/cases.json");
  g_autofree char *tpath = sc_test_path ("tests/goldens/nllb-moe-tiny-pruned1/tensors.safetensors");
  g_autoptr (JsonNode) root = sc_test_load_json (cases);
  JsonObject *g1 = json_node_get_object (root);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScSafetensors) t1 = sc_safetensors_open (tpath, &error);
  g_assert_no_error (error);
  JsonArray *list = json_object_get_array_member (g1, "cases");

  for (guint l = 0; l < G_N_ELEMENTS (layouts); l++)
    for (int k = 1; k <= 2; k++)
      {
        g_autofree char *src = g_strdup_printf ("tests/fixtures/%s", layouts[l]);
        g_autofree char *dir = sc_test_path (src);
        g_autoptr (ScModel) full = sc_model_load (dir, NULL, &error);
        g_assert_no_error (error);
        guint8 keep[4 * 8] = { 0 };
        for (int m = 0; m < 4; m++)
          for (int i = 0; i < k; i++)
            keep[m * 8 + kept[m][i]] = 1;
        g_autofree char *tmp = g_dir_make_tmp ("secateur-few-XXXXXX", &error);
        g_assert_no_error (error);
        g_autofree char *out = g_build_filename (tmp, "pruned", NULL);
        ScExportOptions opts = { 0 };
        g_assert_true (sc_export_pruned (full, keep, out, &opts, NULL, &error));
        g_assert_no_error (error);
        g_autoptr (ScModel) exported = sc_model_load (out, NULL, &error);
        g_assert_no_error (error);

        for (guint i = 0; i < json_array_get_length (list); i++)
          {
            JsonObject *c = json_array_get_object_element (list, i);
            const char *name = json_object_get_string_member (c, "name");
            int n;
            g_assert_true (use_view (full, keep, NULL));
            g_autofree float *masked = forward_logits (c, &n);
            g_autoptr (GPtrArray) masked_out = generate (c, 1);
            g_assert_true (use_view (exported, NULL, NULL));
            g_autofree float *pruned = forward_logits (c, &n);
            g_autoptr (GPtrArray) pruned_out = generate (c, 1);
            g_assert_true (use_view (model, NULL, NULL));
            double diff = 0.0;
            for (int j = 0; j < n; j++)
              diff = MAX (diff, fabs ((double) masked[j] - pruned[j]));
            g_test_message ("%s, %d expert(s), %s: exported - masked %.3g", layouts[l], k, name,
                            diff);
            g_assert_cmpfloat (diff, <, 1e-4);
            for (guint b = 0; b < masked_out->len; b++)
              {
                GArray *x = masked_out->pdata[b], *y = pruned_out->pdata[b];
                g_assert_cmpmem (x->data, x->len * sizeof (int), y->data, y->len * sizeof (int));
              }
            if (k == 1)
              {
                g_assert_cmpfloat (max_abs_diff (pruned, golden_logits_in (t1, name), n), <, 1e-4);
                JsonObject *s =
                    json_array_get_object_element (json_object_get_array_member (c, "greedy"), 0);
                int gb, gl;
                g_autoptr (GArray) gold =
                    sc_test_int_matrix (json_object_get_array_member (s, "ids"), &gb, &gl);
                for (guint b = 0; b < pruned_out->len; b++)
                  assert_same_tokens ("exported one expert greedy", pruned_out->pdata[b],
                                      &g_array_index (gold, int, b *gl), gl);
              }
          }
        sc_test_rm_tree (tmp);
      }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_autofree char *dir = sc_test_path ("tests/fixtures/nllb-moe-tiny");
  g_autofree char *cases = sc_test_path ("tests/goldens/nllb-moe-tiny-pruned/cases.json");
  g_autofree char *tpath = sc_test_path ("tests/goldens/nllb-moe-tiny-pruned/tensors.safetensors");
  g_autoptr (GError) error = NULL;
  model = sc_model_load (dir, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (use_view (model, NULL, &error));
  g_autoptr (JsonNode) root = sc_test_load_json (cases);
  golden = json_node_get_object (root);
  tensors = sc_safetensors_open (tpath, &error);
  g_assert_no_error (error);

  g_test_add_func ("/pruned/logits", test_logits);
  g_test_add_func ("/pruned/generate", test_generate);
  g_test_add_func ("/pruned/keep-all", test_keep_all);
  g_test_add_func ("/pruned/too-few", test_too_few);
  g_test_add_func ("/pruned/never-read", test_pruned_never_read);
  g_test_add_func ("/pruned/missing-shards", test_missing_shards);
  g_test_add_func ("/pruned/one-expert", test_one_expert);
  g_test_add_func ("/pruned/export-one-and-two", test_export_few);
  int ret = g_test_run ();
  sc_safetensors_free (tensors);
  g_clear_pointer (&view, sc_view_free);
  sc_model_free (model);
  return ret;
}
