/* sc-test-builders.h: build pickles, zips and safetensors images by hand,
 * so that the checkpoint tests need neither Python nor PyTorch.
 * Header-only; every function is static. */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

/* Byte helpers */

static inline void
tb_raw (GByteArray *p, const void *data, gsize n)
{
  g_byte_array_append (p, data, (guint) n);
}

static inline void
tb_u8 (GByteArray *p, guint8 v)
{
  g_byte_array_append (p, &v, 1);
}

static inline void
tb_u16 (GByteArray *p, guint16 v)
{
  guint8 b[2] = { v & 0xff, v >> 8 };
  tb_raw (p, b, 2);
}

static inline void
tb_u32 (GByteArray *p, guint32 v)
{
  guint8 b[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >> 24) & 0xff };
  tb_raw (p, b, 4);
}

static inline void
tb_u64 (GByteArray *p, guint64 v)
{
  tb_u32 (p, (guint32) v);
  tb_u32 (p, (guint32) (v >> 32));
}

static inline void
tb_put_u32 (GByteArray *p, gsize at, guint32 v)
{
  for (int i = 0; i < 4; i++)
    p->data[at + i] = (guint8) ((v >> (8 * i)) & 0xff);
}

/* Pickles */

#define op(p, o) tb_u8 ((p), (o))
#define raw(p, d, n) tb_raw ((p), (d), (n))
#define u32(p, v) tb_u32 ((p), (v))

static inline void
binunicode (GByteArray *p, const char *s)
{
  op (p, 'X');
  u32 (p, (guint32) strlen (s));
  raw (p, s, strlen (s));
}

static inline void
short_binunicode (GByteArray *p, const char *s)
{
  guint8 n = (guint8) strlen (s);
  op (p, 0x8c);
  op (p, n);
  raw (p, s, n);
}

static inline void
global (GByteArray *p, const char *mod, const char *name)
{
  op (p, 'c');
  raw (p, mod, strlen (mod));
  op (p, '\n');
  raw (p, name, strlen (name));
  op (p, '\n');
}

static inline void
pint (GByteArray *p, gint64 v)
{
  if (v >= 0 && v < 256)
    {
      op (p, 'K');
      op (p, (guint8) v);
    }
  else if (v >= 0 && v < 65536)
    {
      op (p, 'M');
      op (p, v & 0xff);
      op (p, (v >> 8) & 0xff);
    }
  else if (v >= G_MININT32 && v <= G_MAXINT32)
    {
      op (p, 'J');
      u32 (p, (guint32) (gint32) v);
    }
  else
    {
      op (p, 0x8a);
      op (p, 8);
      for (int i = 0; i < 8; i++)
        op (p, (guint8) (((guint64) v >> (8 * i)) & 0xff));
    }
}

/* _rebuild_tensor_v2(('storage', torch.<storage>, key, 'cpu', numel), offset,
 *                    shape, stride, False, OrderedDict()) */
static inline void
tensor (GByteArray *p, const char *storage, const char *key, gint64 numel, gint64 offset, int n,
        const gint64 *shape, const gint64 *stride)
{
  global (p, "torch._utils", "_rebuild_tensor_v2");
  op (p, '(');
  op (p, '(');
  binunicode (p, "storage");
  global (p, "torch", storage);
  binunicode (p, key);
  binunicode (p, "cpu");
  pint (p, numel);
  op (p, 't');
  op (p, 'Q');
  pint (p, offset);
  op (p, '(');
  for (int i = 0; i < n; i++)
    pint (p, shape[i]);
  op (p, 't');
  op (p, '(');
  for (int i = 0; i < n; i++)
    pint (p, stride[i]);
  op (p, 't');
  op (p, 0x89);
  global (p, "collections", "OrderedDict");
  op (p, ')');
  op (p, 'R');
  op (p, 't');
  op (p, 'R');
}

/* A state-dict pickle as torch.save writes it: OrderedDict() then
 * MARK ... SETITEMS, _metadata BUILD, STOP. Entries are added with
 * tb_pickle_entry between tb_pickle_begin and tb_pickle_end. */
typedef struct {
  const char *name;
  const char *storage;   /* "FloatStorage", ... */
  const char *key;
  gint64      numel;
  gint64      offset;
  int         n_dims;
  gint64      shape[8];
  gint64      stride[8]; /* all zero: contiguous strides are filled in */
} TbTensor;

static inline void
tb_pickle_state_dict (GByteArray *p, const TbTensor *ts, guint n)
{
  op (p, 0x80); op (p, 2);
  global (p, "collections", "OrderedDict");
  op (p, ')');
  op (p, 'R');
  op (p, '(');
  for (guint i = 0; i < n; i++)
    {
      const TbTensor *t = &ts[i];
      gint64 stride[8] = { 0 };
      gboolean given = FALSE;

      for (int d = 0; d < t->n_dims; d++)
        given |= t->stride[d] != 0;
      if (given)
        memcpy (stride, t->stride, sizeof stride);
      else
        {
          gint64 s = 1;
          for (int d = t->n_dims - 1; d >= 0; d--)
            {
              stride[d] = s;
              s *= t->shape[d];
            }
        }
      binunicode (p, t->name);
      tensor (p, t->storage, t->key, t->numel, t->offset, t->n_dims, t->shape, stride);
    }
  op (p, 'u');
  op (p, '}');
  binunicode (p, "_metadata");
  op (p, '}');
  op (p, 's');
  op (p, 'b');
  op (p, '.');
}

#undef op
#undef raw
#undef u32

/* Zips (stored entries, optional PyTorch-style 64-byte alignment, optional
 * ZIP64 records). */

typedef struct {
  GByteArray *out;
  GByteArray *cd;
  guint       n;
  gboolean    zip64;   /* ZIP64 extra fields and end records, even if small */
  guint       align;   /* 0 or e.g. 64: pad local extra so data is aligned */
} TbZip;

static inline void
tb_zip_init (TbZip *z, gboolean zip64, guint align)
{
  z->out = g_byte_array_new ();
  z->cd = g_byte_array_new ();
  z->n = 0;
  z->zip64 = zip64;
  z->align = align;
}

/* Adds an entry; `method` is written as is (data is never compressed).
 * `size` may exceed `len` (the caller then extends the file itself, e.g.
 * sparse) only for the last entry. Returns the data offset. */
static inline guint64
tb_zip_add_full (TbZip *z, const char *name, const void *data, gsize len, guint64 size,
                 guint16 method, guint64 base_offset)
{
  guint64 lho = base_offset + z->out->len;
  guint16 nlen = (guint16) strlen (name);
  guint16 elen = 0;
  guint64 data_off;

  if (z->align)
    {
      guint64 start = lho + 30 + nlen + 4;
      elen = (guint16) (4 + (z->align - start % z->align) % z->align);
    }
  tb_u32 (z->out, 0x04034b50);
  tb_u16 (z->out, z->zip64 ? 45 : 20);
  tb_u16 (z->out, 0);
  tb_u16 (z->out, method);
  tb_u16 (z->out, 0);
  tb_u16 (z->out, 0);
  tb_u32 (z->out, 0);
  tb_u32 (z->out, z->zip64 ? 0xffffffffu : (guint32) size);
  tb_u32 (z->out, z->zip64 ? 0xffffffffu : (guint32) size);
  tb_u16 (z->out, nlen);
  tb_u16 (z->out, elen);
  tb_raw (z->out, name, nlen);
  if (elen)
    {
      tb_u16 (z->out, 0x4246);  /* "FB", PyTorch's padding record */
      tb_u16 (z->out, (guint16) (elen - 4));
      for (int i = 0; i < elen - 4; i++)
        tb_u8 (z->out, 'Z');
    }
  data_off = base_offset + z->out->len;
  if (len)
    tb_raw (z->out, data, len);

  tb_u32 (z->cd, 0x02014b50);
  tb_u16 (z->cd, z->zip64 ? 45 : 20);
  tb_u16 (z->cd, z->zip64 ? 45 : 20);
  tb_u16 (z->cd, 0);
  tb_u16 (z->cd, method);
  tb_u16 (z->cd, 0);
  tb_u16 (z->cd, 0);
  tb_u32 (z->cd, 0);
  tb_u32 (z->cd, z->zip64 ? 0xffffffffu : (guint32) size);
  tb_u32 (z->cd, z->zip64 ? 0xffffffffu : (guint32) size);
  tb_u16 (z->cd, nlen);
  tb_u16 (z->cd, z->zip64 ? 4 + 24 : 0);
  tb_u16 (z->cd, 0);
  tb_u16 (z->cd, 0);
  tb_u16 (z->cd, 0);
  tb_u32 (z->cd, 0);
  tb_u32 (z->cd, z->zip64 ? 0xffffffffu : (guint32) lho);
  tb_raw (z->cd, name, nlen);
  if (z->zip64)
    {
      tb_u16 (z->cd, 0x0001);
      tb_u16 (z->cd, 24);
      tb_u64 (z->cd, size);
      tb_u64 (z->cd, size);
      tb_u64 (z->cd, lho);
    }
  z->n++;
  return data_off;
}

static inline guint64
tb_zip_add (TbZip *z, const char *name, const void *data, gsize len)
{
  return tb_zip_add_full (z, name, data, len, len, 0, 0);
}

/* Appends the central directory and end records for a file whose entries
 * end at `cd_offset` (normally z->out->len). Returns the finished image;
 * the builder is spent. */
static inline GByteArray *
tb_zip_finish_at (TbZip *z, guint64 cd_offset)
{
  GByteArray *o = z->out;
  guint64 cd_size = z->cd->len;

  tb_raw (o, z->cd->data, z->cd->len);
  if (z->zip64)
    {
      guint64 z64 = cd_offset + cd_size;
      tb_u32 (o, 0x06064b50);
      tb_u64 (o, 44);
      tb_u16 (o, 45);
      tb_u16 (o, 45);
      tb_u32 (o, 0);
      tb_u32 (o, 0);
      tb_u64 (o, z->n);
      tb_u64 (o, z->n);
      tb_u64 (o, cd_size);
      tb_u64 (o, cd_offset);
      tb_u32 (o, 0x07064b50);
      tb_u32 (o, 0);
      tb_u64 (o, z64);
      tb_u32 (o, 1);
    }
  tb_u32 (o, 0x06054b50);
  tb_u16 (o, 0);
  tb_u16 (o, 0);
  tb_u16 (o, z->zip64 ? 0xffff : (guint16) z->n);
  tb_u16 (o, z->zip64 ? 0xffff : (guint16) z->n);
  tb_u32 (o, z->zip64 ? 0xffffffffu : (guint32) cd_size);
  tb_u32 (o, z->zip64 ? 0xffffffffu : (guint32) cd_offset);
  tb_u16 (o, 0);
  g_byte_array_unref (z->cd);
  z->cd = NULL;
  z->out = NULL;
  return o;
}

static inline GByteArray *
tb_zip_finish (TbZip *z)
{
  return tb_zip_finish_at (z, z->out->len);
}

/* A torch.save-like zip of `n` tensors whose storages are `storages`
 * (`n_storages` entries named "<prefix>/data/<i>"). */
static inline GByteArray *
tb_torch_zip (const char *prefix, const TbTensor *ts, guint n, GBytes *const *storages,
              guint n_storages, gboolean zip64, guint align)
{
  g_autoptr (GByteArray) pkl = g_byte_array_new ();
  g_autofree char *pkl_name = g_strdup_printf ("%s/data.pkl", prefix);
  g_autofree char *ver_name = g_strdup_printf ("%s/version", prefix);
  TbZip z;

  tb_pickle_state_dict (pkl, ts, n);
  tb_zip_init (&z, zip64, align);
  tb_zip_add (&z, pkl_name, pkl->data, pkl->len);
  for (guint i = 0; i < n_storages; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s/data/%u", prefix, i);
      gsize len;
      const void *d = g_bytes_get_data (storages[i], &len);
      tb_zip_add (&z, name, d, len);
    }
  tb_zip_add (&z, ver_name, "3\n", 2);
  return tb_zip_finish (&z);
}

/* Safetensors */

/* A safetensors image from header JSON and raw data. */
static inline GByteArray *
tb_safetensors (const char *header, const void *data, gsize len)
{
  GByteArray *b = g_byte_array_new ();
  tb_u64 (b, strlen (header));
  tb_raw (b, header, strlen (header));
  if (len)
    tb_raw (b, data, len);
  return b;
}

/* Files */

static inline char *
tb_tmpdir (void)
{
  GError *error = NULL;
  char *dir = g_dir_make_tmp ("sc-test-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static inline char *
tb_write (const char *dir, const char *name, const void *data, gsize len)
{
  GError *error = NULL;
  char *path = g_build_filename (dir, name, NULL);

  g_file_set_contents (path, data, (gssize) len, &error);
  g_assert_no_error (error);
  return path;
}

static inline void
tb_rm_rf (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      char *p = g_build_filename (dir, name, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_DIR) && !g_file_test (p, G_FILE_TEST_IS_SYMLINK))
        tb_rm_rf (p);
      else
        g_unlink (p);
      g_free (p);
    }
  g_dir_close (d);
  g_rmdir (dir);
}
