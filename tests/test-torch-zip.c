/* test-torch-zip.c: PyTorch zip checkpoints built by hand (plain, aligned,
 * ZIP64, and > 4 GiB sparse), a real torch.save file, and broken archives. */
#include "sc-torch-zip.h"
#include "sc-test-builders.h"

#include <stdio.h>
#include <unistd.h>

#ifndef SC_SRCDIR
#define SC_SRCDIR "."
#endif

static const char *
srcdir (void)
{
  const char *env = g_getenv ("SC_SRCDIR");
  return env ? env : SC_SRCDIR;
}

static const ScTensor *
find (GPtrArray *a, const char *name)
{
  for (guint i = 0; i < a->len; i++)
    if (strcmp (((ScTensor *) a->pdata[i])->name, name) == 0)
      return a->pdata[i];
  return NULL;
}

static void
read_all (const ScTensor *t, float *out)
{
  sc_tensor_read_f32 (t, 0, sc_tensor_numel (t), out);
}

/* Storage 0: six f32 (0..5). 1: two f16 (1.5, -2). 2: ten bf16 (0..9).
 * 3: three i64 (1, 2, 3). */
static GBytes *storages[4];

static void
make_storages (void)
{
  float f[6] = { 0, 1, 2, 3, 4, 5 };
  guint16 h[2] = { GUINT16_TO_LE (0x3e00), GUINT16_TO_LE (0xc000) };
  guint16 b[10];
  gint64 l[3] = { GINT64_TO_LE (1), GINT64_TO_LE (2), GINT64_TO_LE (3) };

  for (int i = 0; i < 10; i++)
    b[i] = GUINT16_TO_LE (sc_f32_to_bf16 ((float) i));
  storages[0] = g_bytes_new (f, sizeof f);
  storages[1] = g_bytes_new (h, sizeof h);
  storages[2] = g_bytes_new (b, sizeof b);
  storages[3] = g_bytes_new (l, sizeof l);
}

static const TbTensor good[] = {
  { "a.weight", "FloatStorage", "0", 6, 0, 2, { 2, 3 } },
  { "a.bias", "HalfStorage", "1", 2, 0, 1, { 2 } },
  { "tied", "FloatStorage", "0", 6, 0, 2, { 2, 3 } },
  { "b", "BFloat16Storage", "2", 10, 2, 1, { 3 } },
  { "i", "LongStorage", "3", 3, 0, 1, { 3 } },
  { "s", "FloatStorage", "0", 6, 5, 0, { 0 } },
  { "row", "FloatStorage", "0", 6, 3, 2, { 1, 3 }, { 77, 1 } },
  { "none", "FloatStorage", "0", 6, 6, 2, { 0, 3 } },
};

static void
check_good (GPtrArray *ts)
{
  float v[6];
  const ScTensor *t;

  g_assert_cmpuint (ts->len, ==, G_N_ELEMENTS (good));
  for (guint i = 0; i < ts->len; i++)
    g_assert_cmpstr (((ScTensor *) ts->pdata[i])->name, ==, good[i].name);

  t = find (ts, "a.weight");
  g_assert_cmpint (t->dtype, ==, SC_DTYPE_F32);
  g_assert_cmpint (t->n_dims, ==, 2);
  g_assert_cmpint (t->shape[0], ==, 2);
  g_assert_cmpint (t->shape[1], ==, 3);
  g_assert_cmpuint (t->nbytes, ==, 24);
  read_all (t, v);
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat (v[i], ==, (float) i);
  g_assert_true (find (ts, "tied")->data == t->data);

  t = find (ts, "a.bias");
  g_assert_cmpint (t->dtype, ==, SC_DTYPE_F16);
  read_all (t, v);
  g_assert_cmpfloat (v[0], ==, 1.5f);
  g_assert_cmpfloat (v[1], ==, -2.0f);

  t = find (ts, "b");
  g_assert_cmpint (t->dtype, ==, SC_DTYPE_BF16);
  g_assert_cmpuint (t->nbytes, ==, 6);
  read_all (t, v);
  g_assert_cmpfloat (v[0], ==, 2.0f);
  g_assert_cmpfloat (v[2], ==, 4.0f);

  t = find (ts, "i");
  g_assert_cmpint (t->dtype, ==, SC_DTYPE_I64);
  read_all (t, v);
  g_assert_cmpfloat (v[2], ==, 3.0f);

  t = find (ts, "s");
  g_assert_cmpint (t->n_dims, ==, 0);
  read_all (t, v);
  g_assert_cmpfloat (v[0], ==, 5.0f);

  t = find (ts, "row");
  read_all (t, v);
  g_assert_cmpfloat (v[0], ==, 3.0f);
  g_assert_cmpfloat (v[2], ==, 5.0f);

  t = find (ts, "none");
  g_assert_cmpuint (t->nbytes, ==, 0);
}

static void
test_good_variants (void)
{
  static const struct
  {
    const char *prefix;
    gboolean zip64;
    guint align;
  } variants[] = {
    { "archive", FALSE, 0 },
    { "pytorch_model", FALSE, 64 },
    { "pytorch_model-00001-of-00002", TRUE, 64 },
    { "x", TRUE, 0 },
  };
  g_autofree char *dir = tb_tmpdir ();

  for (gsize k = 0; k < G_N_ELEMENTS (variants); k++)
    {
      g_autoptr (GByteArray) zip = tb_torch_zip (variants[k].prefix, good, G_N_ELEMENTS (good),
                                                 storages, 4, variants[k].zip64, variants[k].align);
      g_autofree char *path = tb_write (dir, "model.bin", zip->data, zip->len);
      g_autoptr (GError) error = NULL;
      g_autoptr (ScTorchZip) tz = sc_torch_zip_open (path, &error);
      g_autoptr (GPtrArray) mem = NULL;

      g_test_message ("variant %s", variants[k].prefix);
      g_assert_no_error (error);
      check_good (sc_torch_zip_tensors (tz));
      if (variants[k].align)
        for (guint i = 0; i < sc_torch_zip_tensors (tz)->len; i++)
          {
            const ScTensor *t = sc_torch_zip_tensors (tz)->pdata[i];
            if (strcmp (t->name, "a.weight") == 0)
              g_assert_cmpuint (((guintptr) t->data) % 64, ==, 0);
          }

      mem = sc_torch_zip_parse (zip->data, zip->len, &error);
      g_assert_no_error (error);
      check_good (mem);
    }
  tb_rm_rf (dir);
}

/* The file PyTorch 1.13 itself wrote (see tests/fuzz/corpus/README). */
static void
test_real_torch (void)
{
  g_autofree char *path = g_build_filename (srcdir (), "tests", "fuzz", "corpus", "zip",
                                            "torch-1.13-state-dict.bin", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScTorchZip) tz = NULL;
  GPtrArray *ts;
  float v[6];
  const ScTensor *t;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("real torch file not found");
      return;
    }
  tz = sc_torch_zip_open (path, &error);
  g_assert_no_error (error);
  ts = sc_torch_zip_tensors (tz);
  g_assert_cmpuint (ts->len, ==, 5);

  t = find (ts, "a.weight");
  g_assert_cmpint (t->shape[0], ==, 2);
  g_assert_cmpint (t->shape[1], ==, 3);
  read_all (t, v);
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat (v[i], ==, (float) i);
  g_assert_true (find (ts, "tied")->data == t->data);
  read_all (find (ts, "a.bias"), v);
  g_assert_cmpfloat (v[0], ==, 1.5f);
  g_assert_cmpfloat (v[1], ==, -2.0f);
  read_all (find (ts, "b"), v);
  g_assert_cmpfloat (v[0], ==, 2.0f);
  g_assert_cmpfloat (v[1], ==, 3.0f);
  g_assert_cmpfloat (v[2], ==, 4.0f);
  read_all (find (ts, "i"), v);
  g_assert_cmpfloat (v[0], ==, 1.0f);
  g_assert_cmpfloat (v[2], ==, 3.0f);
}

/* A 4.5 GiB storage (a hole in a sparse file) followed by a small one
 * whose local header and data sit past 4 GiB: only ZIP64 can say where. */
static void
test_zip64_large (void)
{
  g_autofree char *dir = tb_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "big.bin", NULL);
  g_autoptr (GByteArray) pkl = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (ScTorchZip) tz = NULL;
  const guint64 big = G_GUINT64_CONSTANT (4500000000);
  const TbTensor ts[] = {
    { "big", "FloatStorage", "0", (gint64) (big / 4), 0, 1, { (gint64) (big / 4) } },
    { "after", "FloatStorage", "1", 2, 0, 1, { 2 } },
  };
  float after[2] = { 7.5f, -1.0f };
  guint64 off0, pos;
  TbZip z;
  GByteArray *head, *tail;
  FILE *f;
  float v[2];

  tb_pickle_state_dict (pkl, ts, 2);
  tb_zip_init (&z, TRUE, 64);
  tb_zip_add (&z, "archive/data.pkl", pkl->data, pkl->len);
  off0 = tb_zip_add_full (&z, "archive/data/0", NULL, 0, big, 0, 0);
  head = z.out;
  /* The second entry lives past the hole. */
  z.out = g_byte_array_new ();
  tb_zip_add_full (&z, "archive/data/1", after, sizeof after, sizeof after, 0, off0 + big);
  tail = z.out;
  pos = off0 + big + tail->len;
  z.out = g_byte_array_new ();
  {
    GByteArray *end = tb_zip_finish_at (&z, pos);

    f = fopen (path, "wb");
    g_assert_nonnull (f);
    g_assert_cmpuint (fwrite (head->data, 1, head->len, f), ==, head->len);
    if (fseeko (f, (off_t) (off0 + big), SEEK_SET) != 0)
      {
        fclose (f);
        g_test_skip ("cannot seek past 4 GiB here");
        goto out;
      }
    g_assert_cmpuint (fwrite (tail->data, 1, tail->len, f), ==, tail->len);
    g_assert_cmpuint (fwrite (end->data, 1, end->len, f), ==, end->len);
    g_assert_cmpint (fclose (f), ==, 0);
    g_byte_array_unref (end);
  }

  tz = sc_torch_zip_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sc_torch_zip_tensors (tz)->len, ==, 2);
  g_assert_cmpuint (find (sc_torch_zip_tensors (tz), "big")->nbytes, ==, big);
  read_all (find (sc_torch_zip_tensors (tz), "after"), v);
  g_assert_cmpfloat (v[0], ==, 7.5f);
  g_assert_cmpfloat (v[1], ==, -1.0f);
  /* The hole reads as zeros. */
  sc_tensor_read_f32 (find (sc_torch_zip_tensors (tz), "big"), (gint64) (big / 4) - 2, 2, v);
  g_assert_cmpfloat (v[1], ==, 0.0f);

out:
  g_byte_array_unref (head);
  g_byte_array_unref (tail);
  g_clear_pointer (&tz, sc_torch_zip_free);
  tb_rm_rf (dir);
}

/* Errors */

static void
expect_zip_error (GByteArray *zip, int code, const char *needle)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) ts = sc_torch_zip_parse (zip->data, zip->len, &error);

  g_assert_null (ts);
  g_assert_error (error, SC_ERROR, code);
  g_test_message ("%s", error->message);
  if (needle && strstr (error->message, needle) == NULL)
    g_error ("message “%s” lacks “%s”", error->message, needle);
}

static void
test_missing_and_legacy (void)
{
  g_autofree char *dir = tb_tmpdir ();
  g_autofree char *missing = g_build_filename (dir, "none.bin", NULL);
  g_autoptr (GError) error = NULL;
  ScTorchZip *tz;
  g_autoptr (GByteArray) b = g_byte_array_new ();

  tz = sc_torch_zip_open (missing, &error);
  g_assert_null (tz);
  g_assert_error (error, SC_ERROR, SC_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "none.bin"));
  g_clear_error (&error);

  /* Legacy: a bare pickle stream (magic number first, as torch < 1.6 wrote) */
  tb_raw (b, "\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 15);
  {
    g_autofree char *p = tb_write (dir, "legacy.bin", b->data, b->len);
    tz = sc_torch_zip_open (p, &error);
    g_assert_null (tz);
    g_assert_error (error, SC_ERROR, SC_ERROR_UNSUPPORTED);
    g_assert_nonnull (strstr (error->message, "legacy.bin"));
    g_assert_nonnull (strstr (error->message, "legacy torch.save format is not supported; "
                                              "re-save with PyTorch >= 1.6"));
    g_clear_error (&error);
  }
  /* ... or a tar archive */
  g_byte_array_set_size (b, 1024);
  memset (b->data, 0, b->len);
  memcpy (b->data, "tensors", 7);
  memcpy (b->data + 257, "ustar", 5);
  expect_zip_error (b, SC_ERROR_UNSUPPORTED, "legacy torch.save format");

  /* Not a zip at all, empty, and a bare "PK" */
  g_byte_array_set_size (b, 0);
  tb_raw (b, "hello world, this is text", 25);
  expect_zip_error (b, SC_ERROR_FORMAT, "not a PyTorch zip");
  g_byte_array_set_size (b, 0);
  expect_zip_error (b, SC_ERROR_FORMAT, NULL);
  tb_raw (b, "PK\x03\x04", 4);
  expect_zip_error (b, SC_ERROR_FORMAT, "end-of-central-directory");

  tb_rm_rf (dir);
}

static void
test_truncated (void)
{
  g_autoptr (GByteArray) zip =
      tb_torch_zip ("archive", good, G_N_ELEMENTS (good), storages, 4, FALSE, 64);
  g_autoptr (GByteArray) zip64 =
      tb_torch_zip ("archive", good, G_N_ELEMENTS (good), storages, 4, TRUE, 0);
  GByteArray *zs[2] = { zip, zip64 };

  for (int k = 0; k < 2; k++)
    for (gsize n = 0; n < zs[k]->len; n++)
      {
        g_autoptr (GError) error = NULL;
        g_autoptr (GPtrArray) ts = sc_torch_zip_parse (zs[k]->data, n, &error);

        g_assert_null (ts);
        g_assert_nonnull (error);
        g_assert_true (error->domain == SC_ERROR);
      }
}

static void
test_compressed (void)
{
  g_autoptr (GByteArray) pkl = g_byte_array_new ();
  GByteArray *zip;
  TbZip z;
  gsize len;
  const void *d = g_bytes_get_data (storages[0], &len);
  const TbTensor one[] = { { "w", "FloatStorage", "0", 6, 0, 1, { 6 } } };

  tb_pickle_state_dict (pkl, one, 1);

  /* a deflated storage */
  tb_zip_init (&z, FALSE, 0);
  tb_zip_add (&z, "archive/data.pkl", pkl->data, pkl->len);
  tb_zip_add_full (&z, "archive/data/0", d, len, len, 8, 0);
  zip = tb_zip_finish (&z);
  expect_zip_error (zip, SC_ERROR_UNSUPPORTED, "archive/data/0” is compressed (method 8)");
  g_byte_array_unref (zip);

  /* a deflated data.pkl */
  tb_zip_init (&z, FALSE, 0);
  tb_zip_add_full (&z, "archive/data.pkl", pkl->data, pkl->len, pkl->len, 8, 0);
  tb_zip_add (&z, "archive/data/0", d, len);
  zip = tb_zip_finish (&z);
  expect_zip_error (zip, SC_ERROR_UNSUPPORTED, "compressed");
  g_byte_array_unref (zip);
}

static void
test_bad_archives (void)
{
  g_autoptr (GByteArray) pkl = g_byte_array_new ();
  const TbTensor one[] = { { "w", "FloatStorage", "0", 6, 0, 2, { 2, 3 } } };
  gsize len;
  const void *d = g_bytes_get_data (storages[0], &len);
  GByteArray *zip;
  TbZip z;

  tb_pickle_state_dict (pkl, one, 1);

  /* No data.pkl (wrong name, or no prefix) */
  tb_zip_init (&z, FALSE, 0);
  tb_zip_add (&z, "archive/data.pk", pkl->data, pkl->len);
  tb_zip_add (&z, "data.pkl", pkl->data, pkl->len);
  tb_zip_add (&z, "/data.pkl", pkl->data, pkl->len);
  tb_zip_add (&z, "a/b/data.pkl", pkl->data, pkl->len);
  tb_zip_add (&z, "archive/data/0", d, len);
  zip = tb_zip_finish (&z);
  expect_zip_error (zip, SC_ERROR_FORMAT, "data.pkl");
  g_byte_array_unref (zip);

  /* Two data.pkl */
  tb_zip_init (&z, FALSE, 0);
  tb_zip_add (&z, "a/data.pkl", pkl->data, pkl->len);
  tb_zip_add (&z, "b/data.pkl", pkl->data, pkl->len);
  zip = tb_zip_finish (&z);
  expect_zip_error (zip, SC_ERROR_FORMAT, "more than one");
  g_byte_array_unref (zip);

  /* Storage key missing (entry under another prefix does not count) */
  tb_zip_init (&z, FALSE, 0);
  tb_zip_add (&z, "archive/data.pkl", pkl->data, pkl->len);
  tb_zip_add (&z, "other/data/0", d, len);
  tb_zip_add (&z, "archive/data/00", d, len);
  zip = tb_zip_finish (&z);
  expect_zip_error (zip, SC_ERROR_FORMAT, "storage “0” is missing");
  g_byte_array_unref (zip);

  /* Duplicate storage entries */
  tb_zip_init (&z, FALSE, 0);
  tb_zip_add (&z, "archive/data.pkl", pkl->data, pkl->len);
  tb_zip_add (&z, "archive/data/0", d, len);
  tb_zip_add (&z, "archive/data/0", d, len);
  zip = tb_zip_finish (&z);
  expect_zip_error (zip, SC_ERROR_FORMAT, "twice");
  g_byte_array_unref (zip);

  /* Tensor beyond its storage: entry shorter than the tensor */
  tb_zip_init (&z, FALSE, 0);
  tb_zip_add (&z, "archive/data.pkl", pkl->data, pkl->len);
  tb_zip_add (&z, "archive/data/0", d, 20);
  zip = tb_zip_finish (&z);
  expect_zip_error (zip, SC_ERROR_FORMAT, "beyond its storage");
  g_byte_array_unref (zip);

  /* ... offset past the storage's element count */
  {
    const TbTensor off[] = { { "w", "FloatStorage", "0", 6, 1, 2, { 2, 3 } } };
    g_autoptr (GByteArray) p2 = g_byte_array_new ();
    tb_pickle_state_dict (p2, off, 1);
    tb_zip_init (&z, FALSE, 0);
    tb_zip_add (&z, "archive/data.pkl", p2->data, p2->len);
    tb_zip_add (&z, "archive/data/0", d, len);
    zip = tb_zip_finish (&z);
    expect_zip_error (zip, SC_ERROR_FORMAT, "beyond its storage");
    g_byte_array_unref (zip);
  }

  /* ... a storage that claims more elements than its entry holds */
  {
    const TbTensor off[] = { { "w", "FloatStorage", "0", 600, 0, 1, { 2 } } };
    g_autoptr (GByteArray) p2 = g_byte_array_new ();
    tb_pickle_state_dict (p2, off, 1);
    tb_zip_init (&z, FALSE, 0);
    tb_zip_add (&z, "archive/data.pkl", p2->data, p2->len);
    tb_zip_add (&z, "archive/data/0", d, len);
    zip = tb_zip_finish (&z);
    expect_zip_error (zip, SC_ERROR_FORMAT, "fewer than");
    g_byte_array_unref (zip);
  }

  /* ... overflowing offsets */
  {
    const TbTensor off[] = { { "w", "FloatStorage", "0", 6, G_MAXINT64, 1, { 2 } } };
    g_autoptr (GByteArray) p2 = g_byte_array_new ();
    tb_pickle_state_dict (p2, off, 1);
    tb_zip_init (&z, FALSE, 0);
    tb_zip_add (&z, "archive/data.pkl", p2->data, p2->len);
    tb_zip_add (&z, "archive/data/0", d, len);
    zip = tb_zip_finish (&z);
    expect_zip_error (zip, SC_ERROR_FORMAT, NULL);
    g_byte_array_unref (zip);
  }

  /* ... a shape whose element count overflows */
  {
    const TbTensor huge[] = {
      { "w", "FloatStorage", "0", 6, 0, 3, { G_GINT64_CONSTANT (1) << 62, 8, 8 }, { 64, 8, 1 } }
    };
    g_autoptr (GByteArray) p2 = g_byte_array_new ();
    tb_pickle_state_dict (p2, huge, 1);
    tb_zip_init (&z, FALSE, 0);
    tb_zip_add (&z, "archive/data.pkl", p2->data, p2->len);
    tb_zip_add (&z, "archive/data/0", d, len);
    zip = tb_zip_finish (&z);
    expect_zip_error (zip, SC_ERROR_FORMAT, "shape is too large");
    g_byte_array_unref (zip);
  }

  /* Non-contiguous (a transposed view) */
  {
    const TbTensor tr[] = { { "w", "FloatStorage", "0", 6, 0, 2, { 3, 2 }, { 1, 3 } } };
    g_autoptr (GByteArray) p2 = g_byte_array_new ();
    tb_pickle_state_dict (p2, tr, 1);
    tb_zip_init (&z, FALSE, 0);
    tb_zip_add (&z, "archive/data.pkl", p2->data, p2->len);
    tb_zip_add (&z, "archive/data/0", d, len);
    zip = tb_zip_finish (&z);
    expect_zip_error (zip, SC_ERROR_UNSUPPORTED, "not contiguous");
    g_byte_array_unref (zip);
  }

  /* Big-endian byte order record */
  tb_zip_init (&z, FALSE, 0);
  tb_zip_add (&z, "archive/data.pkl", pkl->data, pkl->len);
  tb_zip_add (&z, "archive/byteorder", "big", 3);
  tb_zip_add (&z, "archive/data/0", d, len);
  zip = tb_zip_finish (&z);
  expect_zip_error (zip, SC_ERROR_UNSUPPORTED, "little-endian");
  g_byte_array_unref (zip);

  /* "little" is fine */
  tb_zip_init (&z, FALSE, 0);
  tb_zip_add (&z, "archive/data.pkl", pkl->data, pkl->len);
  tb_zip_add (&z, "archive/byteorder", "little", 6);
  tb_zip_add (&z, "archive/data/0", d, len);
  zip = tb_zip_finish (&z);
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (GPtrArray) ts = sc_torch_zip_parse (zip->data, zip->len, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (ts->len, ==, 1);
  }
  g_byte_array_unref (zip);

  /* A hostile pickle inside: the refusal names the file entry */
  {
    g_autoptr (GByteArray) evil = g_byte_array_new ();
    tb_u8 (evil, 0x80);
    tb_u8 (evil, 2);
    global (evil, "os", "system");
    binunicode (evil, "touch /tmp/pwned");
    tb_u8 (evil, 0x85);
    tb_u8 (evil, 'R');
    tb_u8 (evil, '.');
    tb_zip_init (&z, FALSE, 0);
    tb_zip_add (&z, "archive/data.pkl", evil->data, evil->len);
    zip = tb_zip_finish (&z);
    expect_zip_error (zip, SC_ERROR_UNSUPPORTED,
                      "archive/data.pkl: pickle: refusing global os.system");
    g_byte_array_unref (zip);
  }

  /* Local header names differ from the central directory */
  tb_zip_init (&z, FALSE, 0);
  tb_zip_add (&z, "archive/data.pkl", pkl->data, pkl->len);
  tb_zip_add (&z, "archive/data/0", d, len);
  zip = tb_zip_finish (&z);
  zip->data[30] = 'X'; /* first local name byte */
  expect_zip_error (zip, SC_ERROR_FORMAT, "names differ");
  g_byte_array_unref (zip);
}

/* A local header whose extra field claims 65535 bytes: the entry's data
 * would start inside the next entry and read its bytes. Each entry must lie
 * within its own bounds (before the next local header). */
static void
test_local_extra_overrun (void)
{
  g_autoptr (GByteArray) pkl = g_byte_array_new ();
  const TbTensor one[] = { { "w", "FloatStorage", "0", 6, 0, 2, { 2, 3 } } };
  gsize len;
  const void *d = g_bytes_get_data (storages[0], &len);
  g_autofree float *filler = g_new (float, 20000);
  for (int i = 0; i < 20000; i++)
    filler[i] = 7.0f;
  tb_pickle_state_dict (pkl, one, 1);

  for (int overrun = 0; overrun < 2; overrun++)
    {
      TbZip z;
      tb_zip_init (&z, FALSE, 0);
      tb_zip_add (&z, "archive/data.pkl", pkl->data, pkl->len);
      guint64 data0 = tb_zip_add (&z, "archive/data/0", d, len);
      tb_zip_add (&z, "archive/data/1", filler, sizeof (float) * 20000);
      tb_zip_add (&z, "archive/version", "3\n", 2);
      g_autoptr (GByteArray) zip = tb_zip_finish (&z);
      guint64 local = data0 - 30 - strlen ("archive/data/0");
      if (!overrun)
        {
          /* as built, the storage reads back as 0..5 */
          g_autoptr (GError) error = NULL;
          g_autoptr (GPtrArray) ts = sc_torch_zip_parse (zip->data, zip->len, &error);
          g_assert_no_error (error);
          float v[6];
          read_all (find (ts, "w"), v);
          g_assert_cmpfloat (v[5], ==, 5.0f);
          continue;
        }
      zip->data[local + 28] = 0xff; /* extra field length 65535 */
      zip->data[local + 29] = 0xff;
      expect_zip_error (zip, SC_ERROR_FORMAT, "run into the next entry");
    }
}

/* Corrupt the central directory and end records of a good zip. */
static void
test_bad_directory (void)
{
  g_autoptr (GByteArray) good_zip =
      tb_torch_zip ("archive", good, G_N_ELEMENTS (good), storages, 4, FALSE, 0);
  g_autoptr (GByteArray) good64 =
      tb_torch_zip ("archive", good, G_N_ELEMENTS (good), storages, 4, TRUE, 0);
  gsize eocd = good_zip->len - 22, eocd64 = good64->len - 22;
  guint32 cd_off = good_zip->data[eocd + 16] | (good_zip->data[eocd + 17] << 8) |
                   (good_zip->data[eocd + 18] << 16) | ((guint32) good_zip->data[eocd + 19] << 24);
  GByteArray *b;

#define MUTATE(src, stmt, code, needle)                                                            \
  do                                                                                               \
    {                                                                                              \
      b = g_byte_array_new ();                                                                     \
      tb_raw (b, (src)->data, (src)->len);                                                         \
      stmt;                                                                                        \
      expect_zip_error (b, code, needle);                                                          \
      g_byte_array_unref (b);                                                                      \
    }                                                                                              \
  while (0)

  /* entry count larger than the directory can hold */
  MUTATE (good_zip, (b->data[eocd + 10] = 0xfe, b->data[eocd + 11] = 0x7f), SC_ERROR_FORMAT,
          "entries");
  /* directory offset past the end */
  MUTATE (good_zip, tb_put_u32 (b, eocd + 16, 0x7fffffff), SC_ERROR_FORMAT, "outside");
  /* directory size past the end */
  MUTATE (good_zip, tb_put_u32 (b, eocd + 12, 0x7fffffff), SC_ERROR_FORMAT, "outside");
  /* first central entry's signature broken */
  MUTATE (good_zip, b->data[cd_off] = 'X', SC_ERROR_FORMAT, "corrupt");
  /* first central entry's name length runs past the directory */
  MUTATE (good_zip, (b->data[cd_off + 28] = 0xff, b->data[cd_off + 29] = 0xff), SC_ERROR_FORMAT,
          NULL);
  /* first entry's local header offset out of range */
  MUTATE (good_zip, tb_put_u32 (b, cd_off + 42, 0x7ffffff0), SC_ERROR_FORMAT, "local header");
  /* local header signature broken */
  MUTATE (good_zip, b->data[0] = 'Q', SC_ERROR_FORMAT, NULL);
  /* saturated fields without ZIP64 records */
  MUTATE (good_zip, tb_put_u32 (b, eocd + 16, 0xffffffff), SC_ERROR_FORMAT, "ZIP64");
  /* multi-disk */
  MUTATE (good_zip, b->data[eocd + 4] = 1, SC_ERROR_UNSUPPORTED, "multi-part");
  /* ZIP64 locator pointing nowhere */
  MUTATE (good64, tb_put_u32 (b, eocd64 - 20 + 8, 0x7fffffff), SC_ERROR_FORMAT, "ZIP64 end");
  /* ZIP64 record with a bad signature */
  MUTATE (good64, b->data[eocd64 - 20 - 56] = 0, SC_ERROR_FORMAT, "ZIP64 end");
  /* ZIP64 extra field cut short: shrink the first central entry's extra size */
  {
    guint64 z64 = eocd64 - 20 - 56;
    guint32 cd64 = 0;
    for (int i = 0; i < 4; i++)
      cd64 |= (guint32) good64->data[z64 + 48 + i] << (8 * i);
    MUTATE (good64, b->data[cd64 + 46 + strlen ("archive/data.pkl") + 2] = 8, SC_ERROR_FORMAT,
            "ZIP64 sizes");
  }
#undef MUTATE
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  make_storages ();

  g_test_add_func ("/torch-zip/good-variants", test_good_variants);
  g_test_add_func ("/torch-zip/real-torch", test_real_torch);
  g_test_add_func ("/torch-zip/zip64-large", test_zip64_large);
  g_test_add_func ("/torch-zip/missing-and-legacy", test_missing_and_legacy);
  g_test_add_func ("/torch-zip/truncated", test_truncated);
  g_test_add_func ("/torch-zip/compressed", test_compressed);
  g_test_add_func ("/torch-zip/bad-archives", test_bad_archives);
  g_test_add_func ("/torch-zip/bad-directory", test_bad_directory);
  g_test_add_func ("/torch-zip/local-extra-overrun", test_local_extra_overrun);

  ret = g_test_run ();
  for (int i = 0; i < 4; i++)
    g_bytes_unref (storages[i]);
  return ret;
}
