/* sc-torch-zip.c: PyTorch zip checkpoints, mapped and read without Python.
 *
 * torch.save (PyTorch >= 1.6) writes an uncompressed zip: `<prefix>/data.pkl`
 * (the pickled state dict, see sc-pickle.c), one `<prefix>/data/<key>` entry
 * per storage, and small records (`version`, `byteorder`). Shards of large
 * models pass 4 GiB, so ZIP64 end records and extra fields are handled.
 * Each tensor becomes a view into its storage entry; nothing is copied.
 *
 * Every offset and length read from the file is checked against the file
 * size (and the central directory bounds) before it is used.
 */
#include "sc-torch-zip.h"
#include "sc-pickle.h"
#include "sc-io-private.h"

#include <string.h>
#include <unistd.h>

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_ZIP64_EOCD 0x06064b50u
#define SIG_ZIP64_LOCATE 0x07064b50u

#define EOCD_SIZE 22u
#define CENTRAL_SIZE 46u
#define LOCAL_SIZE 30u
#define ZIP64_EOCD_SIZE 56u
#define ZIP64_LOC_SIZE 20u

struct _ScTorchZip
{
  char *path;
  GMappedFile *map;
  GPtrArray *tensors;
};

typedef struct
{
  const char *name; /* into the mapping, not NUL-terminated */
  gsize name_len;
  guint16 flags;
  guint16 method;
  guint64 csize;
  guint64 usize;
  guint64 local_offset;
} Entry;

static char *
printable (const char *s, gsize len)
{
  GString *out = g_string_new (NULL);

  for (gsize i = 0; i < len && i < 120; i++)
    g_string_append_c (out, g_ascii_isprint (s[i]) ? s[i] : '?');
  if (len > 120)
    g_string_append (out, "…");
  return g_string_free (out, FALSE);
}

static gboolean
is_legacy (const guint8 *buf, gsize len)
{
  /* The legacy format is a bare pickle stream (starting with PROTO) or,
   * older still, a tar archive. */
  if (len >= 2 && buf[0] == 0x80 && buf[1] >= 2 && buf[1] <= 5)
    return TRUE;
  if (len >= 262 && memcmp (buf + 257, "ustar", 5) == 0)
    return TRUE;
  return FALSE;
}

/* Locate the end of central directory record, searching backwards over at
 * most the largest possible comment. */
static gboolean
find_eocd (const guint8 *buf, gsize len, gsize *out)
{
  gsize lo, pos;

  if (len < EOCD_SIZE)
    return FALSE;
  lo = len - EOCD_SIZE > 0xffff ? len - EOCD_SIZE - 0xffff : 0;
  pos = len - EOCD_SIZE;
  for (;;)
    {
      if (sc_read_u32le (buf + pos) == SIG_EOCD &&
          pos + EOCD_SIZE + sc_read_u16le (buf + pos + 20) <= len)
        {
          *out = pos;
          return TRUE;
        }
      if (pos == lo)
        return FALSE;
      pos--;
    }
}

static gboolean
read_zip64_extra (const char *what, const guint8 *extra, gsize elen, Entry *e, gboolean need_usize,
                  gboolean need_csize, gboolean need_offset, GError **error)
{
  gsize p = 0;

  while (p + 4 <= elen)
    {
      guint16 id = sc_read_u16le (extra + p);
      guint16 size = sc_read_u16le (extra + p + 2);
      const guint8 *f = extra + p + 4;
      gsize q = 0;

      if (size > elen - p - 4)
        break;
      if (id == 0x0001)
        {
          if (need_usize)
            {
              if (q + 8 > size)
                goto bad;
              e->usize = sc_read_u64le (f + q);
              q += 8;
              need_usize = FALSE;
            }
          if (need_csize)
            {
              if (q + 8 > size)
                goto bad;
              e->csize = sc_read_u64le (f + q);
              q += 8;
              need_csize = FALSE;
            }
          if (need_offset)
            {
              if (q + 8 > size)
                goto bad;
              e->local_offset = sc_read_u64le (f + q);
              q += 8;
              need_offset = FALSE;
            }
          break;
        }
      p += 4 + (gsize) size;
    }
  if (need_usize || need_csize || need_offset)
    goto bad;
  return TRUE;

bad:
  {
    g_autofree char *n = printable (e->name, e->name_len);
    g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                 "%s: zip entry “%s” lacks the ZIP64 sizes it announces", what, n);
  }
  return FALSE;
}

/* Parse the central directory into `entries`; *out_cd_offset is where it starts. */
static gboolean
read_central_directory (const char *what, const guint8 *buf, gsize len, GArray *entries,
                        guint64 *out_cd_offset, GError **error)
{
  gsize eocd;
  guint64 n_entries, cd_size, cd_offset, cd_end, p;
  guint16 disk, cd_disk;

  if (!find_eocd (buf, len, &eocd))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                   "%s: no zip end-of-central-directory record; truncated or not a zip file", what);
      return FALSE;
    }
  disk = sc_read_u16le (buf + eocd + 4);
  cd_disk = sc_read_u16le (buf + eocd + 6);
  n_entries = sc_read_u16le (buf + eocd + 10);
  cd_size = sc_read_u32le (buf + eocd + 12);
  cd_offset = sc_read_u32le (buf + eocd + 16);

  if (eocd >= ZIP64_LOC_SIZE && sc_read_u32le (buf + eocd - ZIP64_LOC_SIZE) == SIG_ZIP64_LOCATE)
    {
      guint64 z = sc_read_u64le (buf + eocd - ZIP64_LOC_SIZE + 8);

      if (z > len || len - z < ZIP64_EOCD_SIZE || sc_read_u32le (buf + z) != SIG_ZIP64_EOCD)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                       "%s: ZIP64 end record is missing or out of bounds", what);
          return FALSE;
        }
      disk = (guint16) MIN (sc_read_u32le (buf + z + 16), 0xffff);
      cd_disk = (guint16) MIN (sc_read_u32le (buf + z + 20), 0xffff);
      n_entries = sc_read_u64le (buf + z + 32);
      cd_size = sc_read_u64le (buf + z + 40);
      cd_offset = sc_read_u64le (buf + z + 48);
    }
  else if (n_entries == 0xffff || cd_size == 0xffffffffu || cd_offset == 0xffffffffu)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "%s: zip needs ZIP64 records but has none",
                   what);
      return FALSE;
    }

  if (disk != 0 || cd_disk != 0)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_UNSUPPORTED,
                   "%s: multi-part zip archives are not supported", what);
      return FALSE;
    }
  if (cd_offset > len || cd_size > len - cd_offset)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                   "%s: zip central directory [%" G_GUINT64_FORMAT ", +%" G_GUINT64_FORMAT
                   ") lies outside the %" G_GSIZE_FORMAT "-byte file; truncated?",
                   what, cd_offset, cd_size, len);
      return FALSE;
    }
  if (n_entries > cd_size / CENTRAL_SIZE)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                   "%s: zip claims %" G_GUINT64_FORMAT " entries in a %" G_GUINT64_FORMAT
                   "-byte central directory",
                   what, n_entries, cd_size);
      return FALSE;
    }

  cd_end = cd_offset + cd_size;
  p = cd_offset;
  for (guint64 i = 0; i < n_entries; i++)
    {
      const guint8 *c;
      guint16 nlen, elen, clen;
      Entry e = { 0 };
      gboolean need_u, need_c, need_o;

      if (cd_end - p < CENTRAL_SIZE || sc_read_u32le (buf + p) != SIG_CENTRAL)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                       "%s: zip central directory entry %" G_GUINT64_FORMAT " is corrupt", what, i);
          return FALSE;
        }
      c = buf + p;
      e.flags = sc_read_u16le (c + 8);
      e.method = sc_read_u16le (c + 10);
      e.csize = sc_read_u32le (c + 20);
      e.usize = sc_read_u32le (c + 24);
      nlen = sc_read_u16le (c + 28);
      elen = sc_read_u16le (c + 30);
      clen = sc_read_u16le (c + 32);
      e.local_offset = sc_read_u32le (c + 42);
      if (cd_end - p - CENTRAL_SIZE < (guint64) nlen + elen + clen)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                       "%s: zip central directory entry %" G_GUINT64_FORMAT
                       " runs past the directory",
                       what, i);
          return FALSE;
        }
      e.name = (const char *) c + CENTRAL_SIZE;
      e.name_len = nlen;
      need_u = e.usize == 0xffffffffu;
      need_c = e.csize == 0xffffffffu;
      need_o = e.local_offset == 0xffffffffu;
      if ((need_u || need_c || need_o) && !read_zip64_extra (what, c + CENTRAL_SIZE + nlen, elen,
                                                             &e, need_u, need_c, need_o, error))
        return FALSE;
      g_array_append_val (entries, e);
      p += CENTRAL_SIZE + (guint64) nlen + elen + clen;
    }

  *out_cd_offset = cd_offset;
  return TRUE;
}

static int
cmp_u64 (gconstpointer a, gconstpointer b)
{
  guint64 x = *(const guint64 *) a, y = *(const guint64 *) b;
  return (x > y) - (x < y);
}

/* Local header offsets of all entries, ascending: an entry's bytes end
 * before the next of these, and before the central directory. */
static GArray *
entry_bounds (GArray *entries)
{
  GArray *b = g_array_sized_new (FALSE, FALSE, sizeof (guint64), entries->len);
  for (guint i = 0; i < entries->len; i++)
    g_array_append_val (b, g_array_index (entries, Entry, i).local_offset);
  g_array_sort (b, cmp_u64);
  return b;
}

/* Where an entry's bytes are, from its local header; checks it is stored
 * and that header and bytes end before the next entry (`bounds`) or the
 * central directory begins: a long local extra field must not make it
 * read its neighbour's bytes. */
static gboolean
entry_data (const char *what, const guint8 *buf, GArray *bounds, guint64 cd_offset, const Entry *e,
            const guint8 **out, GError **error)
{
  g_autofree char *n = NULL;
  guint64 lo = e->local_offset, start;
  guint16 nlen, elen;
  const guint64 *b = (const guint64 *) bounds->data;
  guint64 limit = cd_offset;
  for (guint i = 0; i < bounds->len; i++)
    if (b[i] > lo)
      {
        limit = MIN (b[i], cd_offset); /* offsets past the directory are bogus */
        break;
      }

  if (e->method != 0)
    {
      n = printable (e->name, e->name_len);
      g_set_error (error, SC_ERROR, SC_ERROR_UNSUPPORTED,
                   "%s: zip entry “%s” is compressed (method %u); only stored entries can be "
                   "memory-mapped (was the file re-zipped?)",
                   what, n, e->method);
      return FALSE;
    }
  if (e->flags & 0x0001)
    {
      n = printable (e->name, e->name_len);
      g_set_error (error, SC_ERROR, SC_ERROR_UNSUPPORTED, "%s: zip entry “%s” is encrypted", what,
                   n);
      return FALSE;
    }
  if (e->csize != e->usize)
    {
      n = printable (e->name, e->name_len);
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                   "%s: stored zip entry “%s” has different compressed and plain sizes", what, n);
      return FALSE;
    }
  if (lo > limit || limit - lo < LOCAL_SIZE || sc_read_u32le (buf + lo) != SIG_LOCAL)
    {
      n = printable (e->name, e->name_len);
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                   "%s: zip entry “%s”: local header missing or out of bounds", what, n);
      return FALSE;
    }
  nlen = sc_read_u16le (buf + lo + 26);
  elen = sc_read_u16le (buf + lo + 28);
  start = lo + LOCAL_SIZE + nlen + elen;
  if ((start > limit || limit - start < e->usize) && limit < cd_offset)
    {
      n = printable (e->name, e->name_len);
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                   "%s: zip entry “%s”: %" G_GUINT64_FORMAT " bytes at offset %" G_GUINT64_FORMAT
                   " run into the next entry, at offset %" G_GUINT64_FORMAT,
                   what, n, e->usize, start, limit);
      return FALSE;
    }
  if (start > limit || limit - start < e->usize)
    {
      n = printable (e->name, e->name_len);
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                   "%s: zip entry “%s”: %" G_GUINT64_FORMAT " bytes at offset %" G_GUINT64_FORMAT
                   " run past the end of the data; truncated?",
                   what, n, e->usize, start);
      return FALSE;
    }
  if (nlen != e->name_len || memcmp (buf + lo + LOCAL_SIZE, e->name, nlen) != 0)
    {
      n = printable (e->name, e->name_len);
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                   "%s: zip entry “%s”: local and central names differ", what, n);
      return FALSE;
    }
  *out = buf + start;
  return TRUE;
}

static gboolean
has_prefix_len (const Entry *e, const char *prefix, gsize plen)
{
  return e->name_len >= plen && memcmp (e->name, prefix, plen) == 0;
}

static GPtrArray *
parse_zip (const char *what, const guint8 *buf, gsize len, GError **error)
{
  g_autoptr (GArray) entries = g_array_new (FALSE, FALSE, sizeof (Entry));
  g_autoptr (GHashTable) storages = NULL;
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (GPtrArray) tensors = NULL;
  g_autofree char *prefix = NULL;
  g_autofree char *data_dir = NULL;
  const Entry *pkl = NULL;
  const guint8 *pkl_data;
  guint64 cd_offset = 0;
  gsize data_dir_len;

  if (len < 4 || buf[0] != 'P' || buf[1] != 'K')
    {
      if (is_legacy (buf, len))
        g_set_error (error, SC_ERROR, SC_ERROR_UNSUPPORTED,
                     "%s: legacy torch.save format is not supported; "
                     "re-save with PyTorch >= 1.6",
                     what);
      else
        g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "%s: not a PyTorch zip checkpoint", what);
      return NULL;
    }

  if (!read_central_directory (what, buf, len, entries, &cd_offset, error))
    return NULL;
  g_autoptr (GArray) bounds = entry_bounds (entries);

  /* `<prefix>/data.pkl`, with a prefix that has no slash. */
  for (guint i = 0; i < entries->len; i++)
    {
      const Entry *e = &g_array_index (entries, Entry, i);
      const char *slash = memchr (e->name, '/', e->name_len);

      if (slash != NULL && slash > e->name &&
          e->name_len - (gsize) (slash - e->name) == strlen ("/data.pkl") &&
          memcmp (slash, "/data.pkl", strlen ("/data.pkl")) == 0 &&
          memchr (e->name, '\0', e->name_len) == NULL)
        {
          if (pkl != NULL)
            {
              g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                           "%s: more than one data.pkl in the archive", what);
              return NULL;
            }
          pkl = e;
        }
    }
  if (pkl == NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                   "%s: no <prefix>/data.pkl entry; not a PyTorch checkpoint", what);
      return NULL;
    }
  prefix = g_strndup (pkl->name, pkl->name_len - strlen ("/data.pkl"));
  data_dir = g_strconcat (prefix, "/data/", NULL);
  data_dir_len = strlen (data_dir);

  /* Storage entries by key, and the byte order record. */
  storages = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < entries->len; i++)
    {
      const Entry *e = &g_array_index (entries, Entry, i);

      if (has_prefix_len (e, data_dir, data_dir_len) && e->name_len > data_dir_len &&
          memchr (e->name + data_dir_len, '/', e->name_len - data_dir_len) == NULL &&
          memchr (e->name, '\0', e->name_len) == NULL)
        {
          char *key = g_strndup (e->name + data_dir_len, e->name_len - data_dir_len);

          if (g_hash_table_contains (storages, key))
            {
              g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                           "%s: storage “%s” appears twice in the archive", what, key);
              g_free (key);
              return NULL;
            }
          g_hash_table_insert (storages, key, (gpointer) e);
        }
      else if (e->name_len == strlen (prefix) + strlen ("/byteorder") &&
               has_prefix_len (e, prefix, strlen (prefix)) &&
               memcmp (e->name + strlen (prefix), "/byteorder", strlen ("/byteorder")) == 0)
        {
          const guint8 *d;

          if (!entry_data (what, buf, bounds, cd_offset, e, &d, error))
            return NULL;
          if (!(e->usize == 6 && memcmp (d, "little", 6) == 0))
            {
              g_set_error (error, SC_ERROR, SC_ERROR_UNSUPPORTED,
                           "%s: checkpoint is not little-endian", what);
              return NULL;
            }
        }
    }

  if (!entry_data (what, buf, bounds, cd_offset, pkl, &pkl_data, error))
    return NULL;
  records = sc_pickle_load_state_dict (pkl_data, (gsize) pkl->usize, error);
  if (records == NULL)
    {
      g_prefix_error (error, "%s: %s/data.pkl: ", what, prefix);
      return NULL;
    }

  tensors = g_ptr_array_new_with_free_func ((GDestroyNotify) sc_tensor_free);
  for (guint i = 0; i < records->len; i++)
    {
      ScPickleTensor *r = records->pdata[i];
      const Entry *e = g_hash_table_lookup (storages, r->storage_key);
      gsize es = sc_dtype_size (r->dtype);
      guint64 numel, nbytes, end_el, end_bytes, expect;
      const guint8 *d;
      ScTensor *t;

      if (e == NULL)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                       "%s: tensor “%s”: storage “%s” is missing (no %s%s entry)", what, r->name,
                       r->storage_key, data_dir, r->storage_key);
          return NULL;
        }
      if (!sc_shape_checked_size (r->dtype, r->n_dims, r->shape, &numel, &nbytes))
        {
          g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "%s: tensor “%s”: shape is too large",
                       what, r->name);
          return NULL;
        }
      /* Contiguous, row-major: each stride is the product of the later
       * sizes (a dimension of size 1 may have any stride). */
      expect = 1;
      for (int d = r->n_dims - 1; d >= 0 && numel > 0; d--)
        {
          if (r->shape[d] != 1 && (guint64) r->stride[d] != expect)
            {
              g_set_error (error, SC_ERROR, SC_ERROR_UNSUPPORTED,
                           "%s: tensor “%s” is not contiguous (stride %" G_GINT64_FORMAT
                           " for dimension %d, expected %" G_GUINT64_FORMAT ")",
                           what, r->name, (gint64) r->stride[d], d, expect);
              return NULL;
            }
          expect *= (guint64) r->shape[d];
        }
      if (!g_uint64_checked_add (&end_el, (guint64) r->storage_offset, numel) ||
          !g_uint64_checked_mul (&end_bytes, end_el, es) ||
          (r->storage_numel >= 0 && end_el > (guint64) r->storage_numel) || end_bytes > e->usize)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                       "%s: tensor “%s”: elements [%" G_GINT64_FORMAT ", +%" G_GUINT64_FORMAT
                       ") lie beyond its storage “%s” (%" G_GUINT64_FORMAT " bytes)",
                       what, r->name, (gint64) r->storage_offset, numel, r->storage_key, e->usize);
          return NULL;
        }
      if (r->storage_numel >= 0 &&
          (!g_uint64_checked_mul (&expect, (guint64) r->storage_numel, es) || expect > e->usize))
        {
          g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                       "%s: storage “%s” holds %" G_GUINT64_FORMAT " bytes, fewer than its "
                       "%" G_GINT64_FORMAT " elements need",
                       what, r->storage_key, e->usize, (gint64) r->storage_numel);
          return NULL;
        }
      if (!entry_data (what, buf, bounds, cd_offset, e, &d, error))
        return NULL;

      t = g_new0 (ScTensor, 1);
      t->name = g_strdup (r->name);
      t->dtype = r->dtype;
      t->n_dims = r->n_dims;
      memcpy (t->shape, r->shape, sizeof t->shape);
      t->nbytes = nbytes;
      t->data = d + (gsize) r->storage_offset * es;
      g_ptr_array_add (tensors, t);
    }

  return g_steal_pointer (&tensors);
}

GPtrArray *
sc_torch_zip_parse (const guint8 *buf, gsize len, GError **error)
{
  g_return_val_if_fail (buf != NULL || len == 0, NULL);
  return parse_zip ("<buffer>", buf, len, error);
}

ScTorchZip *
sc_torch_zip_open (const char *path, GError **error)
{
  g_autoptr (GMappedFile) map = NULL;
  GPtrArray *tensors;
  ScTorchZip *tz;

  g_return_val_if_fail (path != NULL, NULL);

  /* never blocks on a FIFO; refuses devices and directories by name */
  map = sc_map_regular (path, error);
  if (map == NULL)
    return NULL;
  tensors = parse_zip (path, (const guint8 *) g_mapped_file_get_contents (map),
                       g_mapped_file_get_length (map), error);
  if (tensors == NULL)
    return NULL;

  tz = g_new0 (ScTorchZip, 1);
  tz->path = g_strdup (path);
  tz->map = g_steal_pointer (&map);
  tz->tensors = tensors;
  return tz;
}

void
sc_torch_zip_free (ScTorchZip *tz)
{
  if (tz == NULL)
    return;
  g_ptr_array_unref (tz->tensors);
  g_mapped_file_unref (tz->map);
  g_free (tz->path);
  g_free (tz);
}

GPtrArray *
sc_torch_zip_tensors (ScTorchZip *tz)
{
  g_return_val_if_fail (tz != NULL, NULL);
  return tz->tensors;
}
