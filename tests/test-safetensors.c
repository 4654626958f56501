/* test-safetensors.c: dtype conversions, safetensors round trip and every
 * malformed-file case the reader must reject. Files are written by hand.
 * About 850 lines because each malformed case spells out its bytes. */
#include "sc-safetensors.h"

#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* Helpers */

static char *
make_tmpdir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("sc-safetensors-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static void
rm_rf (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_DIR))
        rm_rf (p);
      else
        g_unlink (p);
    }
  g_rmdir (dir);
}

static guint
count_files (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;

  g_assert_nonnull (d);
  while (g_dir_read_name (d) != NULL)
    n++;
  return n;
}

/* A safetensors image: u64 header length, header text, `data_len` bytes
 * counting up from 0. */
static GBytes *
make_image (const char *header, gsize data_len)
{
  gsize hl = strlen (header);
  guint8 *buf = g_malloc0 (8 + hl + data_len);

  for (int i = 0; i < 8; i++)
    buf[i] = (guint8) (((guint64) hl >> (8 * i)) & 0xff);
  memcpy (buf + 8, header, hl);
  for (gsize i = 0; i < data_len; i++)
    buf[8 + hl + i] = (guint8) i;
  return g_bytes_new_take (buf, 8 + hl + data_len);
}

static char *
write_bytes (const char *dir, const char *name, const void *data, gsize len)
{
  g_autoptr (GError) error = NULL;
  char *path = g_build_filename (dir, name, NULL);

  g_file_set_contents (path, data, (gssize) len, &error);
  g_assert_no_error (error);
  return path;
}

static float
bits_f32 (guint32 u)
{
  float f;
  memcpy (&f, &u, 4);
  return f;
}

static guint32
f32_bits (float f)
{
  guint32 u;
  memcpy (&u, &f, 4);
  return u;
}

/* Conversions */

static void
test_dtype_names (void)
{
  const ScDType all[] = { SC_DTYPE_F32, SC_DTYPE_F16, SC_DTYPE_BF16, SC_DTYPE_I64, SC_DTYPE_I32 };
  const gsize sizes[] = { 4, 2, 2, 8, 4 };
  ScDType d;

  for (gsize i = 0; i < G_N_ELEMENTS (all); i++)
    {
      g_assert_true (sc_dtype_from_name (sc_dtype_name (all[i]), &d));
      g_assert_cmpint (d, ==, all[i]);
      g_assert_cmpuint (sc_dtype_size (all[i]), ==, sizes[i]);
    }
  g_assert_cmpstr (sc_dtype_name (SC_DTYPE_BF16), ==, "BF16");
  g_assert_false (sc_dtype_from_name ("F64", &d));
  g_assert_false (sc_dtype_from_name ("f32", &d));
  g_assert_false (sc_dtype_from_name ("", &d));
  g_assert_false (sc_dtype_from_name (NULL, &d));
}

static void
test_f16_known (void)
{
  static const struct
  {
    float f;
    guint16 h;
  } to_half[] = {
    { 0.0f, 0x0000 },
    { -0.0f, 0x8000 },
    { 1.0f, 0x3c00 },
    { -2.0f, 0xc000 },
    { 0.5f, 0x3800 },
    { 0.1f, 0x2e66 },
    { 1.0f / 3.0f, 0x3555 },
    { 65504.0f, 0x7bff },        /* largest finite */
    { 65519.99609375f, 0x7bff }, /* just under the halfway point */
    { 65520.0f, 0x7c00 },        /* halfway, odd mantissa: rounds to inf */
    { 1e10f, 0x7c00 },
    { -1e10f, 0xfc00 },
    { 0x1p-14f, 0x0400 },     /* smallest normal */
    { 0x1p-24f, 0x0001 },     /* smallest subnormal */
    { 0x1.ff8p-15f, 0x03ff }, /* largest subnormal, 1023 * 2^-24 */
    { 0x1p-25f, 0x0000 },     /* halfway to 2^-24: ties to even (0) */
    { 0x1.8p-25f, 0x0001 },   /* 0.75 * 2^-24 rounds up */
    { 0x1.8p-24f, 0x0002 },   /* 1.5 * 2^-24: tie, 1 is odd, goes to 2 */
    { 0x1.4p-23f, 0x0002 },   /* 2.5 * 2^-24: tie, stays at 2 */
    { 0x1p-30f, 0x0000 },
    { 0x1p-149f, 0x0000 },         /* f32 subnormal */
    { 1.0f + 0x1p-11f, 0x3c00 },   /* tie between 1 and 1+2^-10: even */
    { 1.0f + 0x1.8p-10f, 0x3c02 }, /* tie, odd below: up */
    { 0x1.002002p+0f, 0x3c01 },    /* just over the tie */
    { 2047.5f, 0x6800 },           /* 2047.5 -> 2048 (tie to even) */
  };
  guint16 h;

  for (gsize i = 0; i < G_N_ELEMENTS (to_half); i++)
    {
      h = sc_f32_to_f16 (to_half[i].f);
      if (h != to_half[i].h)
        g_error ("f32_to_f16(%a) = 0x%04x, expected 0x%04x", to_half[i].f, h, to_half[i].h);
    }
  g_assert_cmphex (sc_f32_to_f16 (INFINITY), ==, 0x7c00);
  g_assert_cmphex (sc_f32_to_f16 (-INFINITY), ==, 0xfc00);
  h = sc_f32_to_f16 (NAN);
  g_assert_cmphex (h & 0x7c00, ==, 0x7c00);
  g_assert_cmphex (h & 0x03ff, !=, 0);
  /* A signalling NaN whose payload sits only in the low bits stays a NaN. */
  h = sc_f32_to_f16 (bits_f32 (0x7f800001));
  g_assert_cmphex (h & 0x7c00, ==, 0x7c00);
  g_assert_cmphex (h & 0x03ff, !=, 0);

  g_assert_cmpfloat (sc_f16_to_f32 (0x3c00), ==, 1.0f);
  g_assert_cmpfloat (sc_f16_to_f32 (0xc000), ==, -2.0f);
  g_assert_cmpfloat (sc_f16_to_f32 (0x7bff), ==, 65504.0f);
  g_assert_cmpfloat (sc_f16_to_f32 (0x3555), ==, 0.333251953125f);
  g_assert_cmpfloat (sc_f16_to_f32 (0x0001), ==, 0x1p-24f);
  g_assert_cmpfloat (sc_f16_to_f32 (0x03ff), ==, 0x1.ff8p-15f);
  g_assert_cmpfloat (sc_f16_to_f32 (0x0400), ==, 0x1p-14f);
  g_assert_cmphex (f32_bits (sc_f16_to_f32 (0x8000)), ==, 0x80000000u);
  g_assert_true (isinf (sc_f16_to_f32 (0x7c00)) && sc_f16_to_f32 (0x7c00) > 0);
  g_assert_true (isinf (sc_f16_to_f32 (0xfc00)) && sc_f16_to_f32 (0xfc00) < 0);
  g_assert_true (isnan (sc_f16_to_f32 (0x7e00)));
  g_assert_true (isnan (sc_f16_to_f32 (0x7c01)));
}

static void
test_f16_exhaustive (void)
{
  /* Every half converts to f32 and back to itself (NaNs stay NaN). */
  for (guint32 h = 0; h < 0x10000; h++)
    {
      float f = sc_f16_to_f32 ((guint16) h);
      guint16 back = sc_f32_to_f16 (f);

      if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0)
        {
          g_assert_true (isnan (f));
          g_assert_cmphex (back & 0x7c00, ==, 0x7c00);
          g_assert_cmphex (back & 0x3ff, !=, 0);
          g_assert_cmphex (back & 0x8000, ==, h & 0x8000);
        }
      else if (back != h)
        g_error ("f16 0x%04x -> %a -> 0x%04x", h, f, back);
    }

#ifdef __FLT16_MAX__
  /* Against the compiler's own IEEE conversion, on every value halfway
   * between adjacent halves (the rounding cases), their neighbours, and a
   * sweep of f32 bit patterns. */
  {
    GRand *rand = g_rand_new_with_seed (1234);

    for (guint32 h = 0; h < 0x7c00; h++)
      {
        guint32 lo = f32_bits (sc_f16_to_f32 ((guint16) h));
        guint32 hi = f32_bits (sc_f16_to_f32 ((guint16) (h + 1)));
        guint32 mid = f32_bits ((bits_f32 (lo) + bits_f32 (hi)) / 2.0f);
        guint32 cand[] = { mid, mid - 1, mid + 1, lo, hi };

        for (gsize k = 0; k < G_N_ELEMENTS (cand); k++)
          for (guint32 sign = 0; sign < 2; sign++)
            {
              float f = bits_f32 (cand[k] | (sign << 31));
              _Float16 ref = (_Float16) f;
              guint16 rb;

              memcpy (&rb, &ref, 2);
              if (sc_f32_to_f16 (f) != rb)
                g_error ("f32_to_f16(%a) = 0x%04x, compiler says 0x%04x", f, sc_f32_to_f16 (f), rb);
            }
      }
    for (guint i = 0; i < 2000000; i++)
      {
        guint32 u = g_rand_int (rand);
        float f = bits_f32 (u);
        _Float16 ref = (_Float16) f;
        guint16 rb;

        if (isnan (f))
          continue;
        memcpy (&rb, &ref, 2);
        if (sc_f32_to_f16 (f) != rb)
          g_error ("f32_to_f16(%a) = 0x%04x, compiler says 0x%04x", f, sc_f32_to_f16 (f), rb);
      }
    g_rand_free (rand);
  }
#endif
}

static void
test_bf16 (void)
{
  static const struct
  {
    guint32 f;
    guint16 h;
  } cases[] = {
    { 0x3f800000, 0x3f80 },                         /* 1.0 */
    { 0x3f808000, 0x3f80 },                         /* 1 + 2^-8: tie, even stays */
    { 0x3f818000, 0x3f82 },                         /* tie, odd rounds up */
    { 0x3f808001, 0x3f81 },                         /* just over the tie */
    { 0x3f807fff, 0x3f80 }, { 0xc0490fdb, 0xc049 }, /* -pi */
    { 0x7f7fffff, 0x7f80 },                         /* FLT_MAX rounds to inf */
    { 0x7f7f7fff, 0x7f7f }, { 0x7f800000, 0x7f80 }, /* inf */
    { 0xff800000, 0xff80 }, { 0x00000001, 0x0000 }, /* subnormals round bitwise */
    { 0x00008000, 0x0000 }, { 0x00018000, 0x0002 }, { 0x80000000, 0x8000 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    g_assert_cmphex (sc_f32_to_bf16 (bits_f32 (cases[i].f)), ==, cases[i].h);
  g_assert_cmphex (sc_f32_to_bf16 (bits_f32 (0x7f800001)) & 0x7fc0, ==, 0x7fc0);
  g_assert_cmphex (sc_f32_to_bf16 (NAN) & 0x7f80, ==, 0x7f80);
  g_assert_cmphex (sc_f32_to_bf16 (NAN) & 0x7f, !=, 0);

  for (guint32 h = 0; h < 0x10000; h++)
    {
      float f = sc_bf16_to_f32 ((guint16) h);

      g_assert_cmphex (f32_bits (f), ==, h << 16);
      if (!isnan (f))
        g_assert_cmphex (sc_f32_to_bf16 (f), ==, h);
    }
}

/* The bulk reader (8 halves at a time where the CPU has F16C) agrees bit
 * for bit with the scalar conversion on every half, at every alignment and
 * tail length; bf16 likewise. NaNs need only stay NaN with their sign. */
static void
test_read_f32_bulk (void)
{
  guint16 *all = g_new (guint16, 0x10000 + 16);
  float *out = g_new (float, 0x10000 + 16);
  for (guint32 h = 0; h < 0x10000; h++)
    all[h] = GUINT16_TO_LE ((guint16) h);
  ScTensor t = { 0 };
  t.n_dims = 1;
  t.shape[0] = 0x10000;
  t.data = all;
  for (int dt = 0; dt < 2; dt++)
    {
      t.dtype = dt == 0 ? SC_DTYPE_F16 : SC_DTYPE_BF16;
      for (int64_t off = 0; off < 9; off++)
        {
          int64_t n = 0x10000 - off - (off * 3) % 7;
          sc_tensor_read_f32 (&t, off, n, out);
          for (int64_t i = 0; i < n; i++)
            {
              guint16 h = (guint16) (off + i);
              float ref = dt == 0 ? sc_f16_to_f32 (h) : sc_bf16_to_f32 (h);
              if (isnan (ref))
                {
                  g_assert_true (isnan (out[i]));
                  g_assert_cmpint (signbit (out[i]) != 0, ==, signbit (ref) != 0);
                }
              else if (f32_bits (out[i]) != f32_bits (ref))
                g_error ("%s 0x%04x: %a, scalar %a", dt == 0 ? "f16" : "bf16", h, out[i], ref);
            }
        }
    }
  g_free (all);
  g_free (out);
}

static void
test_read_f32 (void)
{
  guint16 half[3] = { GUINT16_TO_LE (0x3c00), GUINT16_TO_LE (0xc000), GUINT16_TO_LE (0x3555) };
  guint16 bf[2] = { GUINT16_TO_LE (0x3f80), GUINT16_TO_LE (0xc049) };
  gint64 i64[3] = { GINT64_TO_LE (-3), GINT64_TO_LE (7), GINT64_TO_LE (1 << 20) };
  gint32 i32[2] = { GINT32_TO_LE (-5), GINT32_TO_LE (9) };
  guint8 unaligned[1 + 8];
  float f2[2] = { 1.25f, -8.5f };
  float out[3];
  ScTensor t = { 0 };

  t.n_dims = 1;
  t.dtype = SC_DTYPE_F16;
  t.shape[0] = 3;
  t.data = half;
  sc_tensor_read_f32 (&t, 0, 3, out);
  g_assert_cmpfloat (out[0], ==, 1.0f);
  g_assert_cmpfloat (out[1], ==, -2.0f);
  g_assert_cmpfloat (out[2], ==, 0.333251953125f);
  sc_tensor_read_f32 (&t, 2, 1, out);
  g_assert_cmpfloat (out[0], ==, 0.333251953125f);

  t.dtype = SC_DTYPE_BF16;
  t.shape[0] = 2;
  t.data = bf;
  sc_tensor_read_f32 (&t, 0, 2, out);
  g_assert_cmpfloat (out[0], ==, 1.0f);
  g_assert_cmpfloat (out[1], ==, -3.140625f);

  t.dtype = SC_DTYPE_I64;
  t.shape[0] = 3;
  t.data = i64;
  sc_tensor_read_f32 (&t, 0, 3, out);
  g_assert_cmpfloat (out[0], ==, -3.0f);
  g_assert_cmpfloat (out[2], ==, 1048576.0f);

  t.dtype = SC_DTYPE_I32;
  t.shape[0] = 2;
  t.data = i32;
  sc_tensor_read_f32 (&t, 1, 1, out);
  g_assert_cmpfloat (out[0], ==, 9.0f);

  /* Unaligned f32 data reads fine. */
  memcpy (unaligned + 1, f2, 8);
  t.dtype = SC_DTYPE_F32;
  t.shape[0] = 2;
  t.data = unaligned + 1;
  sc_tensor_read_f32 (&t, 0, 2, out);
  g_assert_cmpfloat (out[0], ==, 1.25f);
  g_assert_cmpfloat (out[1], ==, -8.5f);
}

/* Round trip */

static ScTensor *
new_tensor (const char *name, ScDType dtype, int n_dims, const int64_t *shape, const void *data)
{
  ScTensor *t = g_new0 (ScTensor, 1);

  t->name = g_strdup (name);
  t->dtype = dtype;
  t->n_dims = n_dims;
  if (n_dims > 0)
    memcpy (t->shape, shape, (gsize) n_dims * sizeof (int64_t));
  t->nbytes = (guint64) sc_tensor_numel (t) * sc_dtype_size (dtype);
  t->data = data;
  return t;
}

static void
test_roundtrip (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScSafetensors) st = NULL;
  g_autoptr (GPtrArray) in = g_ptr_array_new_with_free_func ((GDestroyNotify) sc_tensor_free);
  g_autofree char *contents = NULL;
  gsize len = 0;
  float w[6] = { 1, -2, 3.5f, 0.25f, 1e-8f, -0.0f };
  guint16 h[3] = { 0x3c00, 0xc000, 0x7bff };
  guint16 bf[4] = { 0x3f80, 0x4000, 0x4040, 0xbf80 };
  gint64 ids[2] = { 2, 256205 };
  float scalar = 42.0f;
  const int64_t s23[] = { 2, 3 }, s3[] = { 3 }, s22[] = { 2, 2 }, s2[] = { 2 }, s04[] = { 0, 4 };
  GPtrArray *out;
  guint64 hl;

  g_ptr_array_add (in, new_tensor ("encoder.layers.0.fc1.weight", SC_DTYPE_F32, 2, s23, w));
  g_ptr_array_add (in, new_tensor ("h", SC_DTYPE_F16, 1, s3, h));
  g_ptr_array_add (in, new_tensor ("b \"quoted\" \\ é", SC_DTYPE_BF16, 2, s22, bf));
  g_ptr_array_add (in, new_tensor ("ids", SC_DTYPE_I64, 1, s2, ids));
  g_ptr_array_add (in, new_tensor ("scalar", SC_DTYPE_F32, 0, NULL, &scalar));
  g_ptr_array_add (in, new_tensor ("empty", SC_DTYPE_F32, 2, s04, NULL));

  g_assert_true (sc_safetensors_write (path, (ScTensor *const *) in->pdata, in->len, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_files (dir), ==, 1); /* no temporary left behind */

  /* The header is padded with spaces to a multiple of 8 and says format pt. */
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_cmpuint (len, >=, 8);
  memcpy (&hl, contents, 8);
  hl = GUINT64_FROM_LE (hl);
  g_assert_cmpuint (hl % 8, ==, 0);
  g_assert_cmpuint (len, ==, 8 + hl + 24 + 6 + 8 + 16 + 4);
  g_assert_true (contents[8] == '{');
  g_assert_nonnull (g_strstr_len (contents + 8, (gssize) hl, "\"format\":\"pt\""));

  st = sc_safetensors_open (path, &error);
  g_assert_no_error (error);
  out = sc_safetensors_tensors (st);
  g_assert_cmpuint (out->len, ==, in->len);
  for (guint i = 0; i < in->len; i++)
    {
      ScTensor *a = in->pdata[i], *b = NULL;

      for (guint j = 0; j < out->len; j++)
        if (strcmp (((ScTensor *) out->pdata[j])->name, a->name) == 0)
          b = out->pdata[j];
      g_assert_nonnull (b);

      g_assert_cmpstr (a->name, ==, b->name);
      g_assert_cmpint (a->dtype, ==, b->dtype);
      g_assert_cmpint (a->n_dims, ==, b->n_dims);
      for (int d = 0; d < a->n_dims; d++)
        g_assert_cmpint (a->shape[d], ==, b->shape[d]);
      g_assert_cmpuint (a->nbytes, ==, b->nbytes);
      if (a->nbytes > 0)
        g_assert_cmpmem (a->data, a->nbytes, b->data, b->nbytes);
    }
  /* Laid out largest element first, so every tensor is aligned in the
   * file: i64, then the f32s in the order given, then f16, then bf16. */
  g_assert_cmpstr (((ScTensor *) out->pdata[0])->name, ==, "ids");
  g_assert_cmpstr (((ScTensor *) out->pdata[1])->name, ==, "encoder.layers.0.fc1.weight");
  g_assert_cmpstr (((ScTensor *) out->pdata[2])->name, ==, "scalar");
  g_assert_cmpstr (((ScTensor *) out->pdata[3])->name, ==, "empty");
  g_assert_cmpstr (((ScTensor *) out->pdata[4])->name, ==, "h");
  {
    float f[4];
    sc_tensor_read_f32 (out->pdata[5], 0, 4, f);
    g_assert_cmpfloat (f[0], ==, 1.0f);
    g_assert_cmpfloat (f[1], ==, 2.0f);
    g_assert_cmpfloat (f[2], ==, 3.0f);
    g_assert_cmpfloat (f[3], ==, -1.0f);
  }

  /* The same bytes parse from memory too. */
  {
    g_autoptr (GPtrArray) mem = sc_safetensors_parse ((const guint8 *) contents, len, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (mem->len, ==, in->len);
    g_assert_true (((ScTensor *) mem->pdata[0])->data == contents + 8 + hl);
    for (guint i = 0; i < mem->len; i++)
      {
        const ScTensor *t = mem->pdata[i];
        gsize off = (gsize) ((const char *) t->data - contents);
        g_assert_cmpuint (off % sc_dtype_size (t->dtype), ==, 0);
      }
  }

  /* Writing over an existing file replaces it atomically. */
  g_assert_true (sc_safetensors_write (path, (ScTensor *const *) in->pdata, 1, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_files (dir), ==, 1);

  g_clear_pointer (&st, sc_safetensors_free);
  rm_rf (dir);
}

static void
test_write_errors (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "x.safetensors", NULL);
  g_autofree char *bad = g_build_filename (dir, "no", "such", "dir.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  float v[2] = { 1, 2 };
  const int64_t s2[] = { 2 };
  ScTensor *a = new_tensor ("a", SC_DTYPE_F32, 1, s2, v);
  ScTensor *b = new_tensor ("a", SC_DTYPE_F32, 1, s2, v);
  ScTensor *both[2] = { a, b };

  g_assert_false (sc_safetensors_write (path, both, 2, &error));
  g_assert_error (error, SC_ERROR, SC_ERROR_FORMAT);
  g_clear_error (&error);
  g_assert_cmpuint (count_files (dir), ==, 0);

  b->nbytes = 4; /* disagrees with its shape */
  g_free (b->name);
  b->name = g_strdup ("b");
  g_assert_false (sc_safetensors_write (path, both, 2, &error));
  g_assert_error (error, SC_ERROR, SC_ERROR_SHAPE);
  g_clear_error (&error);

  g_assert_false (sc_safetensors_write (bad, both, 1, &error));
  g_assert_error (error, SC_ERROR, SC_ERROR_IO);
  g_clear_error (&error);
  g_assert_cmpuint (count_files (dir), ==, 0);

  sc_tensor_free (a);
  sc_tensor_free (b);
  rm_rf (dir);
}

/* A write that runs out of room (here: the file size limit, as a full disk
 * would) fails cleanly and leaves neither the target nor a temporary. */
static void
test_write_short (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *dir = make_tmpdir ();
      g_autofree char *path = g_build_filename (dir, "big.safetensors", NULL);
      g_autoptr (GError) error = NULL;
      g_autofree float *v = g_new0 (float, 65536);
      const int64_t shape[] = { 65536 };
      ScTensor *t = new_tensor ("big", SC_DTYPE_F32, 1, shape, v);
      struct rlimit rl;

      signal (SIGXFSZ, SIG_IGN);
      g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &rl), ==, 0);
      rl.rlim_cur = 100000;
      g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &rl), ==, 0);

      g_assert_false (sc_safetensors_write (path, &t, 1, &error));
      g_assert_error (error, SC_ERROR, SC_ERROR_IO);
      g_assert_nonnull (strstr (error->message, "big.safetensors"));
      g_assert_cmpuint (count_files (dir), ==, 0);
      sc_tensor_free (t);
      rm_rf (dir);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* Bad inputs */

typedef struct
{
  const char *what;
  const char *header;
  gsize data_len;
  int code;           /* expected ScError, or -1 for success */
  const char *needle; /* expected in the message, or NULL */
} Case;

static const Case cases[] = {
  { "empty object", "{}", 0, -1, NULL },
  { "metadata only", "{\"__metadata__\":{\"format\":\"pt\"}}", 0, -1, NULL },
  { "gap between tensors",
    "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
    "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
    12, -1, NULL },
  { "not json", "{\"a\": ", 0, SC_ERROR_FORMAT, "not valid JSON" },
  { "not json 2", "{\"a\": nope}", 0, SC_ERROR_FORMAT, "not valid JSON" },
  { "array", "[1, 2]", 0, SC_ERROR_FORMAT, NULL },
  { "string", "\"{\"", 0, SC_ERROR_FORMAT, NULL },
  { "empty header", "", 0, SC_ERROR_FORMAT, NULL },
  { "entry not object", "{\"w\": 3}", 0, SC_ERROR_FORMAT, "“w”" },
  { "unknown dtype", "{\"w\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8,
    SC_ERROR_UNSUPPORTED, "F64" },
  { "dtype not string", "{\"w\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
    SC_ERROR_FORMAT, "dtype" },
  { "missing dtype", "{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, SC_ERROR_FORMAT, NULL },
  { "missing shape", "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, SC_ERROR_FORMAT,
    "shape" },
  { "shape not array", "{\"w\":{\"dtype\":\"F32\",\"shape\":1,\"data_offsets\":[0,4]}}", 4,
    SC_ERROR_FORMAT, "shape" },
  { "missing offsets", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, SC_ERROR_FORMAT,
    "data_offsets" },
  { "three offsets", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 8,
    SC_ERROR_FORMAT, "data_offsets" },
  { "offset string", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[\"0\",4]}}", 8,
    SC_ERROR_FORMAT, "data_offsets" },
  { "shape/offset mismatch", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 8,
    SC_ERROR_FORMAT, "need 8" },
  { "dtype size mismatch", "{\"w\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
    SC_ERROR_FORMAT, "need 4" },
  { "end past data", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4,
    SC_ERROR_FORMAT, "past the data block" },
  { "begin past data", "{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[9,9]}}", 4,
    SC_ERROR_FORMAT, "past the data block" },
  { "begin after end", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8,
    SC_ERROR_FORMAT, "after end" },
  { "huge end",
    "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],"
    "\"data_offsets\":[18446744073709551612,18446744073709551615]}}",
    8, SC_ERROR_FORMAT, NULL },
  { "negative offset", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 8,
    SC_ERROR_FORMAT, "data_offsets" },
  { "overlap",
    "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
    "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
    12, SC_ERROR_FORMAT, "overlap" },
  { "same range",
    "{\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
    "\"a\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}",
    8, SC_ERROR_FORMAT, "overlap" },
  { "contained",
    "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
    "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
    16, SC_ERROR_FORMAT, "overlap" },
  { "empty tensors share an offset",
    "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]},"
    "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
    8, -1, NULL },
  { "negative dim", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4,
    SC_ERROR_FORMAT, "shape[0]" },
  { "float dim", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}}", 4,
    SC_ERROR_FORMAT, "shape[0]" },
  { "overflowing dims",
    "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4],\"data_offsets\":[0,0]}}", 0,
    SC_ERROR_FORMAT, "too large" },
  { "overflow by dtype size",
    "{\"w\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904],\"data_offsets\":[0,0]}}", 0,
    SC_ERROR_FORMAT, "too large" },
  { "overflow to zero",
    "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,0],\"data_offsets\":[0,0]}}", 0,
    SC_ERROR_FORMAT, "too large" },
  { "dim past int64",
    "{\"w\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999999],"
    "\"data_offsets\":[0,4]}}",
    4, SC_ERROR_FORMAT, NULL },
  { "nine dims", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}",
    4, SC_ERROR_UNSUPPORTED, "dimensions" },
  { "metadata not strings", "{\"__metadata__\":{\"format\":1}}", 0, SC_ERROR_FORMAT,
    "__metadata__" },
  { "metadata not object", "{\"__metadata__\":[]}", 0, SC_ERROR_FORMAT, "__metadata__" },
  { "empty name", "{\"\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
    SC_ERROR_FORMAT, NULL },
  { "deep nesting",
    "{\"w\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]"
    "]"
    "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
    0, SC_ERROR_FORMAT, "nested" },
  { "invalid utf-8", "{\"\xff\":{}}", 0, SC_ERROR_FORMAT, "UTF-8" },
  /* json-glib would keep the last of two members of one name */
  { "tensor named twice",
    "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
    "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
    8, SC_ERROR_FORMAT, "names “w” twice" },
  { "tensor named twice, once escaped",
    "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
    "\"\\u0077\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
    8, SC_ERROR_FORMAT, "names “w” twice" },
  { "key named twice in a tensor",
    "{\"w\":{\"dtype\":\"F16\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
    SC_ERROR_FORMAT, "names “dtype” twice" },
  { "same key in two tensors is fine",
    "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
    "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
    8, -1, NULL },
};

static void
test_bad_headers (void)
{
  g_autofree char *dir = make_tmpdir ();

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const Case *c = &cases[i];
      g_autoptr (GBytes) img = make_image (c->header, c->data_len);
      g_autoptr (GError) error = NULL;
      g_autofree char *name = g_strdup_printf ("case%02u.safetensors", (guint) i);
      g_autofree char *path =
          write_bytes (dir, name, g_bytes_get_data (img, NULL), g_bytes_get_size (img));
      g_autoptr (ScSafetensors) st = NULL;
      g_autoptr (GPtrArray) mem = NULL;
      gsize len;
      const guint8 *p = g_bytes_get_data (img, &len);

      g_test_message ("case: %s", c->what);
      st = sc_safetensors_open (path, &error);
      if (c->code < 0)
        {
          g_assert_no_error (error);
          g_assert_nonnull (st);
        }
      else
        {
          g_assert_null (st);
          g_assert_error (error, SC_ERROR, c->code);
          g_test_message ("  -> %s", error->message);
          g_assert_nonnull (strstr (error->message, name));
          if (c->needle)
            g_assert_nonnull (strstr (error->message, c->needle));
        }
      g_clear_error (&error);
      mem = sc_safetensors_parse (p, len, &error);
      g_assert_true ((mem != NULL) == (c->code < 0));
    }
  rm_rf (dir);
}

static void
test_bad_files (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *missing = g_build_filename (dir, "missing.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  ScSafetensors *st;
  static const char good_header[] =
      "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}";
  g_autoptr (GBytes) good = make_image (good_header, 16);
  gsize glen;
  const guint8 *g = g_bytes_get_data (good, &glen);

  /* Missing file */
  st = sc_safetensors_open (missing, &error);
  g_assert_null (st);
  g_assert_error (error, SC_ERROR, SC_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "missing.safetensors"));
  g_clear_error (&error);

  /* A directory */
  st = sc_safetensors_open (dir, &error);
  g_assert_null (st);
  g_assert_error (error, SC_ERROR, SC_ERROR_IO);
  g_clear_error (&error);

  /* Empty file and files shorter than the length prefix */
  for (gsize n = 0; n < 8; n++)
    {
      g_autofree char *p = write_bytes (dir, "short.safetensors", g, n);
      st = sc_safetensors_open (p, &error);
      g_assert_null (st);
      g_assert_error (error, SC_ERROR, SC_ERROR_IO);
      g_assert_nonnull (strstr (error->message, "short.safetensors"));
      g_clear_error (&error);
    }

  /* Every truncation of a valid file fails; the whole file works. */
  for (gsize n = 8; n <= glen; n++)
    {
      g_autofree char *p = write_bytes (dir, "trunc.safetensors", g, n);
      st = sc_safetensors_open (p, &error);
      if (n == glen)
        {
          g_assert_no_error (error);
          g_assert_cmpuint (sc_safetensors_tensors (st)->len, ==, 1);
          sc_safetensors_free (st);
        }
      else
        {
          g_assert_null (st);
          g_assert_nonnull (error);
          g_assert_true (error->domain == SC_ERROR);
          g_clear_error (&error);
        }
    }

  /* Header length larger than the file */
  {
    guint8 buf[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, '{', '}' };
    g_autofree char *p = write_bytes (dir, "hlen.safetensors", buf, sizeof buf);
    st = sc_safetensors_open (p, &error);
    g_assert_null (st);
    g_assert_error (error, SC_ERROR, SC_ERROR_IO);
    g_assert_nonnull (strstr (error->message, "header length"));
    g_clear_error (&error);
    buf[0] = 9;
    memset (buf + 1, 0, 7);
    g_free (p);
    p = write_bytes (dir, "hlen.safetensors", buf, sizeof buf);
    st = sc_safetensors_open (p, &error);
    g_assert_null (st);
    g_assert_error (error, SC_ERROR, SC_ERROR_IO);
    g_clear_error (&error);
  }

  /* Header over the 100 MB limit (a sparse file, so no disk is used) */
  {
    g_autofree char *p = g_build_filename (dir, "huge.safetensors", NULL);
    guint64 hl = GUINT64_TO_LE (100000001);
    FILE *f = fopen (p, "wb");

    g_assert_nonnull (f);
    g_assert_cmpuint (fwrite (&hl, 8, 1, f), ==, 1);
    g_assert_cmpint (fputc ('{', f), ==, '{');
    g_assert_cmpint (ftruncate (fileno (f), 8 + 100000001 + 16), ==, 0);
    fclose (f);
    st = sc_safetensors_open (p, &error);
    g_assert_null (st);
    g_assert_error (error, SC_ERROR, SC_ERROR_FORMAT);
    g_assert_nonnull (strstr (error->message, "limit"));
    g_clear_error (&error);
  }

  /* NUL inside the header */
  {
    guint8 buf[8 + 4] = { 4, 0, 0, 0, 0, 0, 0, 0, '{', 0, '}', ' ' };
    g_autofree char *p = write_bytes (dir, "nul.safetensors", buf, sizeof buf);
    st = sc_safetensors_open (p, &error);
    g_assert_null (st);
    g_assert_error (error, SC_ERROR, SC_ERROR_FORMAT);
    g_clear_error (&error);
  }

  rm_rf (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tensor/dtype-names", test_dtype_names);
  g_test_add_func ("/tensor/f16-known", test_f16_known);
  g_test_add_func ("/tensor/f16-exhaustive", test_f16_exhaustive);
  g_test_add_func ("/tensor/bf16", test_bf16);
  g_test_add_func ("/tensor/read-f32", test_read_f32);
  g_test_add_func ("/tensor/read-f32-bulk", test_read_f32_bulk);
  g_test_add_func ("/safetensors/roundtrip", test_roundtrip);
  g_test_add_func ("/safetensors/write-errors", test_write_errors);
  g_test_add_func ("/safetensors/write-short", test_write_short);
  g_test_add_func ("/safetensors/bad-headers", test_bad_headers);
  g_test_add_func ("/safetensors/bad-files", test_bad_files);

  return g_test_run ();
}
