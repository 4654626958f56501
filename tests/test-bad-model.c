/* test-bad-model.c: broken model directories and bad requests get clear
 * errors (GError domain and code, message naming the culprit), never a
 * crash; odd but valid input (empty and very long lines) is handled. */
#include "sc-generate.h"
#include "sc-model.h"
#include "sc-safetensors.h"
#include "sc-test-util.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

/* A scratch copy of the fixture `name` (files copied, not linked, so they
 * may be edited). Removed by scratch_free. */
static char *
scratch_copy (const char *name)
{
  g_autofree char *rel = g_build_filename ("tests/fixtures", name, NULL);
  g_autofree char *src = sc_test_path (rel);
  g_autoptr (GError) error = NULL;
  char *dst = g_dir_make_tmp ("secateur-test-XXXXXX", &error);
  g_assert_no_error (error);
  sc_test_copy_files (src, dst, NULL);
  return dst;
}

static void
scratch_free (char *dir)
{
  sc_test_rm_tree (dir);
  g_free (dir);
}

/* Rewrites config.json of `dir`: sets (or with value NULL removes) `key`. */
static void
edit_config (const char *dir, const char *key, const char *json_value)
{
  g_autofree char *path = g_build_filename (dir, "config.json", NULL);
  g_autoptr (JsonNode) root = sc_test_load_json (path);
  JsonObject *obj = json_node_get_object (root);
  if (json_value == NULL)
    {
      json_object_remove_member (obj, key);
    }
  else
    {
      g_autoptr (JsonNode) v = json_from_string (json_value, NULL);
      g_assert_nonnull (v);
      json_object_set_member (obj, key, g_steal_pointer (&v));
    }
  g_autofree char *text = json_to_string (root, TRUE);
  g_autoptr (GError) error = NULL;
  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

static void
expect_load_error (const char *dir, GQuark domain, int code, const char *needle)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ScModel) model = sc_model_load (dir, NULL, &error);
  g_assert_null (model);
  g_assert_error (error, domain, code);
  if (strstr (error->message, needle) == NULL)
    g_error ("error \"%s\" does not mention \"%s\"", error->message, needle);
}

static void
test_missing_dir (void)
{
  expect_load_error ("/nonexistent/secateur-model", SC_ERROR, SC_ERROR_IO, "config.json");
}

static void
test_config_missing_key (void)
{
  char *dir = scratch_copy ("nllb-moe-tiny");
  edit_config (dir, "d_model", NULL);
  expect_load_error (dir, SC_ERROR, SC_ERROR_CONFIG, "d_model");
  scratch_free (dir);
}

static void
test_config_absurd (void)
{
  const char *edits[][3] = {
    { "d_model", "1000000000", "d_model" },
    { "encoder_layers", "-3", "encoder_layers" },
    { "num_experts", "0", "num_experts" },
    { "vocab_size", "\"many\"", "vocab_size" },
    { "moe_token_dropout", "7.5", "moe_token_dropout" },
    { "encoder_attention_heads", "7", "divisible" },
    { "model_type", "\"bloom\"", "bloom" },
    { "activation_function", "\"gelu\"", "gelu" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (edits); i++)
    {
      char *dir = scratch_copy ("nllb-moe-tiny");
      edit_config (dir, edits[i][0], edits[i][1]);
      g_autoptr (GError) error = NULL;
      g_autoptr (ScModel) model = sc_model_load (dir, NULL, &error);
      g_assert_null (model);
      g_assert_nonnull (error);
      g_assert_true (error->domain == SC_ERROR);
      if (strstr (error->message, edits[i][2]) == NULL)
        g_error ("error \"%s\" does not mention \"%s\"", error->message, edits[i][2]);
      scratch_free (dir);
    }
}

/* An integer beyond 64 bits, which json-glib reads as a wrapped-round
 * number (-1 for 10^29): the error says what d_model may be, not "-1". */
static void
test_config_huge_int (void)
{
  char *dir = scratch_copy ("nllb-moe-tiny");
  g_autofree char *path = g_build_filename (dir, "config.json", NULL);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_autoptr (GRegex) re = g_regex_new ("\"d_model\": *[0-9]+", 0, 0, NULL);
  g_autofree char *huge = g_regex_replace_literal (
      re, text, -1, 0, "\"d_model\": 100000000000000000000000000000", 0, NULL);
  g_assert_cmpstr (huge, !=, text);
  g_assert_true (g_file_set_contents (path, huge, -1, NULL));
  g_autoptr (GError) error = NULL;
  g_autoptr (ScModel) model = sc_model_load (dir, NULL, &error);
  g_assert_null (model);
  g_assert_error (error, SC_ERROR, SC_ERROR_CONFIG);
  g_assert_true (g_str_has_suffix (error->message,
                                   "config.json: \"d_model\" must be an integer from 2 to 65536"));
  scratch_free (dir);
}

static void
test_config_not_json (void)
{
  char *dir = scratch_copy ("m2m-tiny");
  g_autofree char *path = g_build_filename (dir, "config.json", NULL);
  g_file_set_contents (path, "{\"model_type\": \"m2m_100\", ", -1, NULL);
  expect_load_error (dir, SC_ERROR, SC_ERROR_CONFIG, "config.json");
  scratch_free (dir);
}

static void
test_shape_mismatch (void)
{
  char *dir = scratch_copy ("nllb-moe-tiny");
  edit_config (dir, "encoder_ffn_dim", "256");
  expect_load_error (dir, SC_ERROR, SC_ERROR_SHAPE, "fc1.weight");
  scratch_free (dir);

  dir = scratch_copy ("m2m-tiny");
  edit_config (dir, "vocab_size", "5000");
  expect_load_error (dir, SC_ERROR, SC_ERROR_SHAPE, "shape");
  scratch_free (dir);
}

/* Rewrites model.safetensors of `dir` without the tensor named `drop`. */
static void
drop_tensor (const char *dir, const char *drop)
{
  g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScSafetensors) st = sc_safetensors_open (path, &error);
  g_assert_no_error (error);
  GPtrArray *all = sc_safetensors_tensors (st);
  g_autoptr (GPtrArray) keep = g_ptr_array_new ();
  for (guint i = 0; i < all->len; i++)
    {
      ScTensor *t = g_ptr_array_index (all, i);
      if (!g_str_equal (t->name, drop))
        g_ptr_array_add (keep, t);
    }
  g_assert_cmpuint (keep->len, ==, all->len - 1);
  g_autofree char *tmp = g_build_filename (dir, "rewritten.tmp", NULL);
  sc_safetensors_write (tmp, (ScTensor *const *) keep->pdata, keep->len, &error);
  g_assert_no_error (error);
  g_clear_pointer (&st, sc_safetensors_free);
  g_rename (tmp, path);
}

static void
test_missing_tensor (void)
{
  char *dir = scratch_copy ("nllb-moe-tiny");
  const char *name = "model.decoder.layers.3.ffn.experts.expert_5.fc2.bias";
  drop_tensor (dir, name);
  expect_load_error (dir, SC_ERROR, SC_ERROR_MISSING, name);
  scratch_free (dir);
}

static void
test_missing_tokenizer (void)
{
  char *dir = scratch_copy ("m2m-tiny");
  g_autofree char *spm = g_build_filename (dir, "sentencepiece.bpe.model", NULL);
  g_unlink (spm);
  expect_load_error (dir, SC_ERROR, SC_ERROR_IO, "sentencepiece.bpe.model");
  scratch_free (dir);
}

static ScModel *
load_fixture (const char *name)
{
  g_autofree char *rel = g_build_filename ("tests/fixtures", name, NULL);
  g_autofree char *dir = sc_test_path (rel);
  g_autoptr (GError) error = NULL;
  ScModel *model = sc_model_load (dir, NULL, &error);
  g_assert_no_error (error);
  return model;
}

static void
test_unknown_language (void)
{
  g_autoptr (ScModel) model = load_fixture ("nllb-moe-tiny");
  g_autoptr (ScView) view = model ? sc_view_new (model, NULL, NULL) : NULL;
  ScGenerateOptions opts;
  sc_generate_options_init (&opts, model);
  const char *texts[] = { "Hello." };
  g_autoptr (GError) error = NULL;
  char **out =
      sc_translate (view, texts, 1, "eng_Latn", "xyz_Latn", &opts, 4, NULL, NULL, NULL, &error);
  g_assert_null (out);
  g_assert_error (error, SC_ERROR, SC_ERROR_LANGUAGE);
  g_assert_nonnull (strstr (error->message, "xyz_Latn"));
  g_clear_error (&error);
  out = sc_translate (view, texts, 1, "english", "fra_Latn", &opts, 4, NULL, NULL, NULL, &error);
  g_assert_null (out);
  g_assert_error (error, SC_ERROR, SC_ERROR_LANGUAGE);
}

static void
count_batches (int done, int total, gpointer user_data)
{
  int *calls = user_data;
  calls[0]++;
  calls[1] = done;
  calls[2] = total;
}

/* Blank lines stay blank (no model call); a line longer than the model's
 * positions is truncated with a message and still translated; 200 lines go
 * through in batches whose results equal one-by-one translation. */
static void
test_translate_lines (void)
{
  g_autoptr (ScModel) model = load_fixture ("nllb-moe-tiny");
  g_autoptr (ScView) view = model ? sc_view_new (model, NULL, NULL) : NULL;
  ScGenerateOptions opts;
  sc_generate_options_init (&opts, model);
  opts.num_beams = 1;
  opts.max_length = 12;

  int n = 200;
  g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  const char *words[] = { "rights", "freedom", "everyone", "dignity", "law", "the", "of" };
  for (int i = 0; i < n; i++)
    {
      GString *s = g_string_new (NULL);
      for (int w = 0; w <= i % 9; w++)
        g_string_append_printf (s, "%s%s", w ? " " : "", words[(i * 7 + w * 3) % 7]);
      g_ptr_array_add (lines, g_string_free (s, FALSE));
    }
  g_free (lines->pdata[3]);
  lines->pdata[3] = g_strdup ("");
  g_free (lines->pdata[4]);
  lines->pdata[4] = g_strdup ("   \t ");
  GString *long_line = g_string_new (NULL);
  for (int i = 0; i < 400; i++)
    g_string_append (long_line, "everyone has the right ");
  g_free (lines->pdata[5]);
  lines->pdata[5] = g_string_free (long_line, FALSE);

  int calls[3] = { 0 };
  g_autoptr (GError) error = NULL;
  g_test_expect_message ("Secateur", G_LOG_LEVEL_MESSAGE, "*line 6 has * tokens; truncated*");
  g_auto (GStrv) out = sc_translate (view, (const char *const *) lines->pdata, n, "eng_Latn",
                                     "fra_Latn", &opts, 16, count_batches, calls, NULL, &error);
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (out), ==, n);
  g_assert_cmpstr (out[3], ==, "");
  g_assert_cmpstr (out[4], ==, "");
  g_assert_cmpint (calls[0], ==, (n - 2 + 15) / 16); /* 198 sentences in batches of 16 */
  g_assert_cmpint (calls[1], ==, n);
  g_assert_cmpint (calls[2], ==, n);

  int nonempty = 0;
  for (int i = 0; i < 40; i++)
    {
      if (i == 3 || i == 4)
        continue;
      const char *one[] = { lines->pdata[i] };
      if (i == 5)
        g_test_expect_message ("Secateur", G_LOG_LEVEL_MESSAGE, "*truncated*");
      g_auto (GStrv) single =
          sc_translate (view, one, 1, "eng_Latn", "fra_Latn", &opts, 1, NULL, NULL, NULL, &error);
      g_test_assert_expected_messages ();
      g_assert_no_error (error);
      g_assert_cmpstr (single[0], ==, out[i]);
      nonempty += out[i][0] != '\0';
    }
  g_assert_cmpint (nonempty, >, 0);
}

static void
test_cancel (void)
{
  g_autoptr (ScModel) model = load_fixture ("m2m-tiny");
  g_autoptr (ScView) view = model ? sc_view_new (model, NULL, NULL) : NULL;
  ScGenerateOptions opts;
  sc_generate_options_init (&opts, model);
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  g_cancellable_cancel (cancel);
  const char *texts[] = { "Everyone has the right to life." };
  g_autoptr (GError) error = NULL;
  char **out =
      sc_translate (view, texts, 1, "eng_Latn", "fra_Latn", &opts, 4, NULL, NULL, cancel, &error);
  g_assert_null (out);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_bad_token_ids (void)
{
  g_autoptr (ScModel) model = load_fixture ("m2m-tiny");
  g_autoptr (ScView) view = model ? sc_view_new (model, NULL, NULL) : NULL;
  int V = sc_model_get_config (model)->vocab_size;
  int ids[] = { 2, V + 7, 2 };
  int len = 3;
  g_autoptr (GError) error = NULL;
  ScEncoding *enc = sc_view_encode (view, ids, &len, 1, 3, &error);
  g_assert_null (enc);
  g_assert_error (error, SC_ERROR, SC_ERROR_FORMAT);
}

/* A NaN or infinity in the weights (router, embedding, decoder) fails the
 * translation with an error naming the tensor, instead of garbage or empty
 * lines; the same model without it translates. */
static void
test_non_finite_weights (void)
{
  const struct
  {
    const char *fixture, *tensor;
    gint64 index;
    float value;
  } cases[] = {
    { "nllb-moe-tiny", "model.encoder.layers.1.ffn.router.classifier.weight", 0, NAN },
    { "nllb-moe-tiny", "model.decoder.layers.3.ffn.router.classifier.weight", 5, INFINITY },
    { "nllb-moe-tiny", "model.shared.weight", 2 * 64, NAN }, /* the start token's row */
    { "m2m-tiny", "model.shared.weight", 2 * 64 + 3, -INFINITY },
    { "m2m-tiny", "model.decoder.layers.0.fc2.weight", 7, NAN },
  };
  const char *texts[] = { "Everyone has the right to life." };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      char *dir = scratch_copy (cases[i].fixture);
      g_autoptr (GError) error = NULL;
      sc_test_poison_tensor (dir, cases[i].tensor, cases[i].index, cases[i].value);
      g_autoptr (ScModel) model = sc_model_load (dir, NULL, &error);
      g_autoptr (ScView) view = model ? sc_view_new (model, NULL, NULL) : NULL;
      g_assert_no_error (error);
      for (int beams = 1; beams <= 2; beams++)
        {
          ScGenerateOptions opts;
          sc_generate_options_init (&opts, model);
          opts.num_beams = beams;
          opts.max_length = 8;
          char **out = sc_translate (view, texts, 1, "eng_Latn", "fra_Latn", &opts, 4, NULL, NULL,
                                     NULL, &error);
          g_assert_null (out);
          g_assert_error (error, SC_ERROR, SC_ERROR_NOT_FINITE);
          if (strstr (error->message, cases[i].tensor) == NULL ||
              strstr (error->message, "NaN or infinit") == NULL)
            g_error ("%s: error \"%s\" does not name %s", cases[i].fixture, error->message,
                     cases[i].tensor);
          g_clear_error (&error);
        }
      scratch_free (dir);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/bad-model/missing-dir", test_missing_dir);
  g_test_add_func ("/bad-model/config-missing-key", test_config_missing_key);
  g_test_add_func ("/bad-model/config-absurd", test_config_absurd);
  g_test_add_func ("/bad-model/config-not-json", test_config_not_json);
  g_test_add_func ("/bad-model/config-huge-int", test_config_huge_int);
  g_test_add_func ("/bad-model/shape-mismatch", test_shape_mismatch);
  g_test_add_func ("/bad-model/missing-tensor", test_missing_tensor);
  g_test_add_func ("/bad-model/missing-tokenizer", test_missing_tokenizer);
  g_test_add_func ("/bad-model/unknown-language", test_unknown_language);
  g_test_add_func ("/bad-model/bad-token-ids", test_bad_token_ids);
  g_test_add_func ("/bad-model/non-finite-weights", test_non_finite_weights);
  g_test_add_func ("/translate/lines", test_translate_lines);
  g_test_add_func ("/translate/cancel", test_cancel);
  return g_test_run ();
}
