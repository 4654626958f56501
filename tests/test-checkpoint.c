/* test-checkpoint.c: opening model directories (single, sharded with an
 * index, torch or safetensors, no index) and every index inconsistency;
 * then the committed fixtures, whose variants must agree byte for byte. */
#include "sc-checkpoint.h"
#include "sc-safetensors.h"
#include "sc-test-builders.h"

#ifndef SC_SRCDIR
#define SC_SRCDIR "."
#endif

static const char *
srcdir (void)
{
  const char *env = g_getenv ("SC_SRCDIR");
  return env ? env : SC_SRCDIR;
}

/* A safetensors file holding f32 tensors named `names`, each [2] with
 * values (i, i + 0.5) for the i-th name. */
static void
write_st (const char *dir, const char *file, const char *const *names)
{
  g_autoptr (GString) h = g_string_new ("{");
  g_autoptr (GByteArray) data = g_byte_array_new ();
  g_autoptr (GByteArray) img = NULL;
  g_autofree char *path = NULL;

  for (guint i = 0; names[i]; i++)
    {
      float v[2] = { (float) i, (float) i + 0.5f };
      g_string_append_printf (h,
                              "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[2],"
                              "\"data_offsets\":[%u,%u]}",
                              i ? "," : "", names[i], i * 8, i * 8 + 8);
      tb_raw (data, v, sizeof v);
    }
  g_string_append (h, "}");
  img = tb_safetensors (h->str, data->data, data->len);
  path = tb_write (dir, file, img->data, img->len);
}

static void
write_text (const char *dir, const char *file, const char *text)
{
  g_free (tb_write (dir, file, text, strlen (text)));
}

static void
expect_open_error (const char *dir, int code, const char *needle1, const char *needle2)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ScCheckpoint) ck = sc_checkpoint_open (dir, &error);

  g_assert_null (ck);
  g_assert_error (error, SC_ERROR, code);
  g_test_message ("%s", error->message);
  if (needle1 && strstr (error->message, needle1) == NULL)
    g_error ("message “%s” lacks “%s”", error->message, needle1);
  if (needle2 && strstr (error->message, needle2) == NULL)
    g_error ("message “%s” lacks “%s”", error->message, needle2);
}

static void
test_single_safetensors (void)
{
  g_autofree char *dir = tb_tmpdir ();
  static const char *const names[] = { "z.weight", "a.bias", "m.weight", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (ScCheckpoint) ck = NULL;
  const char *const *sorted;
  const ScTensor *t;
  float v[2];

  write_st (dir, "model.safetensors", names);
  /* A torch file beside it is ignored: safetensors wins. */
  write_text (dir, "pytorch_model.bin", "junk");
  ck = sc_checkpoint_open (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sc_checkpoint_format (ck), ==, SC_CHECKPOINT_SAFETENSORS);
  g_assert_cmpuint (sc_checkpoint_n_tensors (ck), ==, 3);
  g_assert_cmpuint (sc_checkpoint_n_files (ck), ==, 1);
  g_assert_cmpuint (sc_checkpoint_file_bytes (ck), >, 24);
  sorted = sc_checkpoint_names (ck);
  g_assert_cmpstr (sorted[0], ==, "a.bias");
  g_assert_cmpstr (sorted[1], ==, "m.weight");
  g_assert_cmpstr (sorted[2], ==, "z.weight");
  g_assert_null (sorted[3]);
  t = sc_checkpoint_get (ck, "m.weight");
  g_assert_nonnull (t);
  sc_tensor_read_f32 (t, 0, 2, v);
  g_assert_cmpfloat (v[0], ==, 2.0f);
  g_assert_cmpfloat (v[1], ==, 2.5f);
  g_assert_null (sc_checkpoint_get (ck, "nope"));
  g_assert_cmpstr (sc_checkpoint_file_of (ck, "a.bias"), ==, "model.safetensors");
  g_assert_cmpstr (sc_checkpoint_dir (ck), ==, dir);

  g_clear_pointer (&ck, sc_checkpoint_free);
  tb_rm_rf (dir);
}

static void
test_sharded_safetensors (void)
{
  g_autofree char *dir = tb_tmpdir ();
  static const char *const s1[] = { "a", "b", NULL };
  static const char *const s2[] = { "c", "extra", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (ScCheckpoint) ck = NULL;
  float v[2];

  write_st (dir, "model-00001-of-00002.safetensors", s1);
  write_st (dir, "model-00002-of-00002.safetensors", s2);
  write_text (dir, "model.safetensors.index.json",
              "{\"metadata\":{\"total_size\":32},\"weight_map\":{"
              "\"a\":\"model-00001-of-00002.safetensors\","
              "\"c\":\"model-00002-of-00002.safetensors\","
              "\"b\":\"model-00001-of-00002.safetensors\"}}");
  ck = sc_checkpoint_open (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sc_checkpoint_n_files (ck), ==, 2);
  g_assert_cmpuint (sc_checkpoint_n_tensors (ck), ==, 4); /* "extra" is indexed too */
  g_assert_cmpstr (sc_checkpoint_names (ck)[3], ==, "extra");
  sc_tensor_read_f32 (sc_checkpoint_get (ck, "extra"), 0, 2, v);
  g_assert_cmpfloat (v[0], ==, 1.0f);
  g_assert_cmpstr (sc_checkpoint_file_of (ck, "c"), ==, "model-00002-of-00002.safetensors");
  g_clear_pointer (&ck, sc_checkpoint_free);

  /* Index naming a missing shard */
  write_text (dir, "model.safetensors.index.json",
              "{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\","
              "\"q\":\"model-00003-of-00002.safetensors\"}}");
  expect_open_error (dir, SC_ERROR_IO, "model-00003-of-00002.safetensors", "does not exist");

  /* Index naming a tensor its shard lacks */
  write_text (dir, "model.safetensors.index.json",
              "{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\","
              "\"missing.weight\":\"model-00002-of-00002.safetensors\"}}");
  expect_open_error (dir, SC_ERROR_MISSING, "missing.weight", "model-00002-of-00002.safetensors");

  /* ... or puts it in the wrong shard */
  write_text (dir, "model.safetensors.index.json",
              "{\"weight_map\":{\"a\":\"model-00002-of-00002.safetensors\","
              "\"b\":\"model-00001-of-00002.safetensors\","
              "\"c\":\"model-00002-of-00002.safetensors\"}}");
  expect_open_error (dir, SC_ERROR_MISSING, "“a”", "but it is in model-00001-of-00002.safetensors");

  /* Paths out of the directory */
  write_text (dir, "model.safetensors.index.json",
              "{\"weight_map\":{\"a\":\"../model-00001-of-00002.safetensors\"}}");
  expect_open_error (dir, SC_ERROR_FORMAT, "not a file in the directory", NULL);
  write_text (dir, "model.safetensors.index.json", "{\"weight_map\":{\"a\":\"/etc/passwd\"}}");
  expect_open_error (dir, SC_ERROR_FORMAT, "not a file in the directory", NULL);

  /* Malformed indexes */
  write_text (dir, "model.safetensors.index.json", "{\"weight_map\":{\"a\":3}}");
  expect_open_error (dir, SC_ERROR_FORMAT, "not a file name", NULL);
  write_text (dir, "model.safetensors.index.json", "{\"metadata\":{}}");
  expect_open_error (dir, SC_ERROR_FORMAT, "weight_map", NULL);
  write_text (dir, "model.safetensors.index.json", "[]");
  expect_open_error (dir, SC_ERROR_FORMAT, "weight_map", NULL);
  write_text (dir, "model.safetensors.index.json", "{\"weight_map\":");
  expect_open_error (dir, SC_ERROR_FORMAT, "not valid JSON", NULL);
  write_text (
      dir, "model.safetensors.index.json",
      "{\"weight_map\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
      "]]]]]]]]]]]]]}");
  expect_open_error (dir, SC_ERROR_FORMAT, "nested", NULL);

  /* The same tensor in two shards */
  {
    static const char *const dup[] = { "c", "a", NULL };
    write_st (dir, "model-00002-of-00002.safetensors", dup);
    write_text (dir, "model.safetensors.index.json",
                "{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\","
                "\"c\":\"model-00002-of-00002.safetensors\"}}");
    expect_open_error (dir, SC_ERROR_FORMAT, "“a” is in both", NULL);
  }

  /* A corrupt shard: the error names the file */
  write_text (dir, "model-00002-of-00002.safetensors", "\x10\0\0\0\0\0\0\0{}");
  expect_open_error (dir, SC_ERROR_IO, "model-00002-of-00002.safetensors", NULL);

  tb_rm_rf (dir);
}

static void
test_torch (void)
{
  g_autofree char *dir = tb_tmpdir ();
  float f[4] = { 1, 2, 3, 4 };
  g_autoptr (GBytes) st = g_bytes_new (f, sizeof f);
  GBytes *sts[1] = { st };
  const TbTensor t1[] = {
    { "model.shared.weight", "FloatStorage", "0", 4, 0, 2, { 2, 2 } },
    { "model.encoder.embed_tokens.weight", "FloatStorage", "0", 4, 0, 2, { 2, 2 } },
  };
  const TbTensor t2[] = {
    { "model.encoder.layer_norm.bias", "FloatStorage", "0", 4, 1, 1, { 3 } },
  };
  g_autoptr (GByteArray) z1 =
      tb_torch_zip ("pytorch_model-00001-of-00002", t1, 2, sts, 1, FALSE, 64);
  g_autoptr (GByteArray) z2 =
      tb_torch_zip ("pytorch_model-00002-of-00002", t2, 1, sts, 1, TRUE, 64);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScCheckpoint) ck = NULL;
  g_autofree char *p1 = NULL, *p2 = NULL;
  float v[3];

  /* Single pytorch_model.bin */
  p1 = tb_write (dir, "pytorch_model.bin", z1->data, z1->len);
  ck = sc_checkpoint_open (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sc_checkpoint_format (ck), ==, SC_CHECKPOINT_TORCH);
  g_assert_cmpuint (sc_checkpoint_n_tensors (ck), ==, 2);
  g_assert_cmpuint (sc_checkpoint_file_bytes (ck), ==, z1->len);
  g_assert_true (sc_checkpoint_get (ck, "model.shared.weight")->data ==
                 sc_checkpoint_get (ck, "model.encoder.embed_tokens.weight")->data);
  g_clear_pointer (&ck, sc_checkpoint_free);
  g_unlink (p1);

  /* Sharded with an index */
  g_free (p1);
  p1 = tb_write (dir, "pytorch_model-00001-of-00002.bin", z1->data, z1->len);
  p2 = tb_write (dir, "pytorch_model-00002-of-00002.bin", z2->data, z2->len);
  write_text (dir, "pytorch_model.bin.index.json",
              "{\"metadata\":{\"total_size\":28},\"weight_map\":{"
              "\"model.shared.weight\":\"pytorch_model-00001-of-00002.bin\","
              "\"model.encoder.embed_tokens.weight\":\"pytorch_model-00001-of-00002.bin\","
              "\"model.encoder.layer_norm.bias\":\"pytorch_model-00002-of-00002.bin\"}}");
  ck = sc_checkpoint_open (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sc_checkpoint_format (ck), ==, SC_CHECKPOINT_TORCH);
  g_assert_cmpuint (sc_checkpoint_n_files (ck), ==, 2);
  g_assert_cmpuint (sc_checkpoint_n_tensors (ck), ==, 3);
  g_assert_cmpuint (sc_checkpoint_file_bytes (ck), ==, z1->len + z2->len);
  sc_tensor_read_f32 (sc_checkpoint_get (ck, "model.encoder.layer_norm.bias"), 0, 3, v);
  g_assert_cmpfloat (v[0], ==, 2.0f);
  g_assert_cmpfloat (v[2], ==, 4.0f);
  g_clear_pointer (&ck, sc_checkpoint_free);

  /* A missing shard */
  g_unlink (p2);
  expect_open_error (dir, SC_ERROR_IO, "pytorch_model-00002-of-00002.bin", "does not exist");

  /* A tensor the index promises but no shard has */
  write_text (dir, "pytorch_model.bin.index.json",
              "{\"weight_map\":{"
              "\"model.shared.weight\":\"pytorch_model-00001-of-00002.bin\","
              "\"lm_head.weight\":\"pytorch_model-00001-of-00002.bin\"}}");
  expect_open_error (dir, SC_ERROR_MISSING, "lm_head.weight", "pytorch_model-00001-of-00002.bin");

  tb_rm_rf (dir);
}

static void
test_no_index (void)
{
  g_autofree char *dir = tb_tmpdir ();
  g_autofree char *missing = g_build_filename (dir, "nope", NULL);
  static const char *const a[] = { "x", NULL };
  static const char *const b[] = { "y", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (ScCheckpoint) ck = NULL;

  /* Empty directory, missing directory, a file instead of a directory */
  expect_open_error (dir, SC_ERROR_IO, "no weights found", NULL);
  expect_open_error (missing, SC_ERROR_IO, "not a directory", NULL);
  write_text (dir, "config.json", "{}");
  {
    g_autofree char *f = g_build_filename (dir, "config.json", NULL);
    expect_open_error (f, SC_ERROR_IO, "not a directory", NULL);
  }

  /* Loose *.safetensors files */
  write_st (dir, "weights-b.safetensors", b);
  write_st (dir, "weights-a.safetensors", a);
  ck = sc_checkpoint_open (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sc_checkpoint_n_files (ck), ==, 2);
  g_assert_cmpuint (sc_checkpoint_n_tensors (ck), ==, 2);
  g_assert_cmpstr (sc_checkpoint_file_of (ck, "y"), ==, "weights-b.safetensors");
  g_clear_pointer (&ck, sc_checkpoint_free);

  /* ... with a clash */
  write_st (dir, "weights-c.safetensors", b);
  expect_open_error (dir, SC_ERROR_FORMAT, "“y” is in both", NULL);

  tb_rm_rf (dir);
}

/* Committed fixtures (tools/make_fixtures.py) */

typedef enum
{
  SAME_BYTES,
  AS_F16,
  AS_BF16
} Compare;

static ScCheckpoint *
open_fixture (const char *name)
{
  g_autofree char *dir = g_build_filename (srcdir (), "tests", "fixtures", name, NULL);
  g_autoptr (GError) error = NULL;
  ScCheckpoint *ck;

  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    return NULL;
  ck = sc_checkpoint_open (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sc_checkpoint_n_tensors (ck), >, 0);
  return ck;
}

/* Every tensor of `ref` (f32) must be in `other` under the same name (or
 * with `strip` removed from the front) with the same shape and the same
 * values: the same bytes, or exactly the f32 value rounded to f16/bf16.
 * Returns how many tensors matched. */
static guint
compare (ScCheckpoint *ref, ScCheckpoint *other, const char *strip, Compare how)
{
  const char *const *names = sc_checkpoint_names (ref);
  guint matched = 0, absent = 0;

  for (guint i = 0; names[i]; i++)
    {
      const ScTensor *a = sc_checkpoint_get (ref, names[i]);
      const char *name = names[i];
      const ScTensor *b;

      if (strip && g_str_has_prefix (name, strip))
        name += strlen (strip);
      b = sc_checkpoint_get (other, name);
      if (b == NULL)
        {
          /* Only tied copies of the embeddings may be dropped by a writer. */
          if (!g_str_has_suffix (name, "embed_tokens.weight") &&
              strcmp (name, "lm_head.weight") != 0)
            g_error ("tensor %s is missing from the other variant", names[i]);
          absent++;
          continue;
        }
      g_assert_cmpint (a->dtype, ==, SC_DTYPE_F32);
      g_assert_cmpint (a->n_dims, ==, b->n_dims);
      for (int d = 0; d < a->n_dims; d++)
        g_assert_cmpint (a->shape[d], ==, b->shape[d]);

      if (how == SAME_BYTES)
        {
          g_assert_cmpint (b->dtype, ==, SC_DTYPE_F32);
          if (a->nbytes != b->nbytes || memcmp (a->data, b->data, a->nbytes) != 0)
            g_error ("tensor %s differs between the variants", names[i]);
        }
      else
        {
          int64_t n = sc_tensor_numel (a);
          g_autofree float *fa = g_new (float, MAX (n, 1));
          const guint8 *hb = b->data;

          g_assert_cmpint (b->dtype, ==, how == AS_F16 ? SC_DTYPE_F16 : SC_DTYPE_BF16);
          sc_tensor_read_f32 (a, 0, n, fa);
          for (int64_t k = 0; k < n; k++)
            {
              guint16 want = how == AS_F16 ? sc_f32_to_f16 (fa[k]) : sc_f32_to_bf16 (fa[k]);
              guint16 got = (guint16) (hb[2 * k] | (hb[2 * k + 1] << 8));
              if (want != got)
                g_error ("tensor %s[%" G_GINT64_FORMAT "]: %a rounds to 0x%04x, file has 0x%04x",
                         names[i], k, fa[k], want, got);
            }
        }
      matched++;
    }
  g_test_message ("%u tensors matched, %u tied copies absent", matched, absent);
  g_assert_cmpuint (matched, >, 0);
  g_assert_cmpuint (matched, >=, 9 * (matched + absent) / 10);
  return matched;
}

static void
test_fixtures (void)
{
  g_autoptr (ScCheckpoint) moe = open_fixture ("nllb-moe-tiny");
  g_autoptr (ScCheckpoint) moe_bin = open_fixture ("nllb-moe-tiny-bin-sharded");
  g_autoptr (ScCheckpoint) moe_54b = open_fixture ("nllb-moe-tiny-54b-style");
  g_autoptr (ScCheckpoint) moe_f16 = open_fixture ("nllb-moe-tiny-f16");
  g_autoptr (ScCheckpoint) moe_bf16 = open_fixture ("nllb-moe-tiny-bf16");
  g_autoptr (ScCheckpoint) m2m = open_fixture ("m2m-tiny");
  g_autoptr (ScCheckpoint) m2m_bin = open_fixture ("m2m-tiny-bin");
  guint compared = 0;

  if (moe == NULL)
    {
      g_test_skip ("tests/fixtures/nllb-moe-tiny is absent");
      return;
    }
  g_assert_cmpint (sc_checkpoint_format (moe), ==, SC_CHECKPOINT_SAFETENSORS);

  if (moe_bin)
    {
      g_assert_cmpint (sc_checkpoint_format (moe_bin), ==, SC_CHECKPOINT_TORCH);
      g_assert_cmpuint (sc_checkpoint_n_files (moe_bin), >, 1);
      compare (moe, moe_bin, NULL, SAME_BYTES);
      compare (moe_bin, moe, NULL, SAME_BYTES);
      compared++;
    }
  if (moe_54b)
    {
      g_assert_cmpint (sc_checkpoint_format (moe_54b), ==, SC_CHECKPOINT_TORCH);
      g_assert_null (sc_checkpoint_get (moe_54b, "lm_head.weight"));
      g_assert_nonnull (sc_checkpoint_get (moe_54b, "shared.weight"));
      compare (moe, moe_54b, "model.", SAME_BYTES);
      compared++;
    }
  if (moe_f16)
    {
      g_assert_cmpuint (sc_checkpoint_n_files (moe_f16), >, 1);
      compare (moe, moe_f16, NULL, AS_F16);
      compared++;
    }
  if (moe_bf16)
    {
      compare (moe, moe_bf16, NULL, AS_BF16);
      compared++;
    }
  if (m2m && m2m_bin)
    {
      g_assert_cmpint (sc_checkpoint_format (m2m_bin), ==, SC_CHECKPOINT_TORCH);
      compare (m2m, m2m_bin, NULL, SAME_BYTES);
      compare (m2m_bin, m2m, NULL, SAME_BYTES);
      compared++;
    }
  g_test_message ("%u fixture pairs compared", compared);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/checkpoint/single-safetensors", test_single_safetensors);
  g_test_add_func ("/checkpoint/sharded-safetensors", test_sharded_safetensors);
  g_test_add_func ("/checkpoint/torch", test_torch);
  g_test_add_func ("/checkpoint/no-index", test_no_index);
  g_test_add_func ("/checkpoint/fixtures", test_fixtures);

  return g_test_run ();
}
