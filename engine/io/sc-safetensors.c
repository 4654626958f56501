/* sc-safetensors.c: read (mapped, validated) and write safetensors files.
 *
 * Validation follows the reference implementation (huggingface/safetensors):
 * header length bounded by the file and by 100 MB, the header a JSON object,
 * each tensor's dtype known, its shape product free of overflow, its
 * data_offsets inside the data block and exactly numel * dtype size long,
 * and no two tensors sharing a byte. Gaps between tensors are tolerated.
 */
#include "sc-safetensors.h"
#include "sc-io-private.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SC_SAFETENSORS_MAX_HEADER 100000000u
/* The header format nests three levels; anything much deeper is hostile
 * (and would make json-glib's recursive parser use a lot of stack). */
#define SC_SAFETENSORS_MAX_JSON_DEPTH 16

struct _ScSafetensors
{
  char *path;
  GMappedFile *map;
  GPtrArray *tensors;
};

typedef struct
{
  ScTensor *tensor;
  guint64 begin;
  guint64 end;
} Span;

static int
span_cmp (gconstpointer a, gconstpointer b)
{
  const Span *x = a, *y = b;

  if (x->begin != y->begin)
    return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end)
    return x->end < y->end ? -1 : 1;
  return 0;
}

/* A non-negative JSON integer. */
static gboolean
node_get_uint (JsonNode *node, guint64 *out)
{
  gint64 v;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  v = json_node_get_int (node);
  if (v < 0)
    return FALSE;
  *out = (guint64) v;
  return TRUE;
}

/* json-glib keeps the last of two members with the same name; a header
 * that names a tensor (or a key of one) twice is ambiguous, and the
 * reference implementation refuses it. Members are seen as they are
 * parsed, keyed by their object. */
typedef struct
{
  GHashTable *seen;
  char *duplicate;
} MemberCheck;

static void
on_object_member (JsonParser *parser, JsonObject *object, const char *name, gpointer data)
{
  MemberCheck *mc = data;
  if (mc->duplicate != NULL)
    return;
  char *key = g_strdup_printf ("%p/%s", (void *) object, name);
  if (!g_hash_table_add (mc->seen, key))
    mc->duplicate = g_strdup (name);
}

static gboolean
parse_entry (const char *what, const char *name, JsonNode *node, guint64 data_len,
             ScTensor **out_tensor, Span *out_span, GError **error)
{
  JsonObject *obj;
  JsonNode *dtype_node, *shape_node, *off_node;
  JsonArray *shape, *offs;
  const char *dtype_name;
  ScDType dtype;
  guint n_dims;
  int64_t dims[SC_TENSOR_MAX_DIMS];
  guint64 numel, nbytes, begin, end;
  ScTensor *t;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "%s: tensor “%s”: entry is not a JSON object",
                   what, name);
      return FALSE;
    }
  obj = json_node_get_object (node);

  dtype_node = json_object_get_member (obj, "dtype");
  if (dtype_node == NULL || !JSON_NODE_HOLDS_VALUE (dtype_node) ||
      json_node_get_value_type (dtype_node) != G_TYPE_STRING)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                   "%s: tensor “%s”: missing or non-string “dtype”", what, name);
      return FALSE;
    }
  dtype_name = json_node_get_string (dtype_node);
  if (!sc_dtype_from_name (dtype_name, &dtype))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_UNSUPPORTED,
                   "%s: tensor “%s”: unsupported dtype “%s” (supported: F32, F16, BF16, I64, I32)",
                   what, name, dtype_name);
      return FALSE;
    }

  shape_node = json_object_get_member (obj, "shape");
  if (shape_node == NULL || !JSON_NODE_HOLDS_ARRAY (shape_node))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                   "%s: tensor “%s”: missing or non-array “shape”", what, name);
      return FALSE;
    }
  shape = json_node_get_array (shape_node);
  n_dims = json_array_get_length (shape);
  if (n_dims > SC_TENSOR_MAX_DIMS)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_UNSUPPORTED,
                   "%s: tensor “%s”: %u dimensions (at most %d supported)", what, name, n_dims,
                   SC_TENSOR_MAX_DIMS);
      return FALSE;
    }
  for (guint i = 0; i < n_dims; i++)
    {
      guint64 d;

      if (!node_get_uint (json_array_get_element (shape, i), &d) || d > G_MAXINT64)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                       "%s: tensor “%s”: shape[%u] is not a non-negative integer", what, name, i);
          return FALSE;
        }
      dims[i] = (int64_t) d;
    }
  if (!sc_shape_checked_size (dtype, (int) n_dims, dims, &numel, &nbytes))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                   "%s: tensor “%s”: shape is too large (element count overflows)", what, name);
      return FALSE;
    }

  off_node = json_object_get_member (obj, "data_offsets");
  if (off_node == NULL || !JSON_NODE_HOLDS_ARRAY (off_node) ||
      json_array_get_length (offs = json_node_get_array (off_node)) != 2 ||
      !node_get_uint (json_array_get_element (offs, 0), &begin) ||
      !node_get_uint (json_array_get_element (offs, 1), &end))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                   "%s: tensor “%s”: “data_offsets” must be [begin, end] of non-negative integers",
                   what, name);
      return FALSE;
    }
  if (begin > end)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                   "%s: tensor “%s”: data_offsets begin %" G_GUINT64_FORMAT
                   " is after end %" G_GUINT64_FORMAT,
                   what, name, begin, end);
      return FALSE;
    }
  if (end > data_len)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                   "%s: tensor “%s”: data_offsets end %" G_GUINT64_FORMAT
                   " is past the data block (%" G_GUINT64_FORMAT " bytes); file truncated?",
                   what, name, end, data_len);
      return FALSE;
    }
  if (end - begin != nbytes)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                   "%s: tensor “%s”: data_offsets span %" G_GUINT64_FORMAT
                   " bytes but shape and dtype %s need %" G_GUINT64_FORMAT,
                   what, name, end - begin, sc_dtype_name (dtype), nbytes);
      return FALSE;
    }

  t = g_new0 (ScTensor, 1);
  t->name = g_strdup (name);
  t->dtype = dtype;
  t->n_dims = (int) n_dims;
  memcpy (t->shape, dims, n_dims * sizeof dims[0]);
  t->nbytes = nbytes;
  *out_tensor = t;
  out_span->tensor = t;
  out_span->begin = begin;
  out_span->end = end;
  return TRUE;
}

static gboolean
check_metadata (const char *what, JsonNode *node, GError **error)
{
  JsonObjectIter iter;
  const char *key;
  JsonNode *value;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "%s: “__metadata__” is not a JSON object",
                   what);
      return FALSE;
    }
  json_object_iter_init (&iter, json_node_get_object (node));
  while (json_object_iter_next (&iter, &key, &value))
    {
      if (!JSON_NODE_HOLDS_VALUE (value) || json_node_get_value_type (value) != G_TYPE_STRING)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                       "%s: “__metadata__” value for “%s” is not a string", what, key);
          return FALSE;
        }
    }
  return TRUE;
}

static GPtrArray *
parse_buffer (const char *what, const guint8 *buf, gsize len, GError **error)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GPtrArray) tensors = NULL;
  g_autoptr (GArray) spans = NULL;
  g_autoptr (GList) members = NULL;
  g_autoptr (GError) local_error = NULL;
  const char *header;
  guint64 header_len, data_len;
  const guint8 *data;
  JsonNode *root;
  JsonObject *obj;

  if (len < 8)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_IO,
                   "%s: file is %" G_GSIZE_FORMAT " bytes, too short for a safetensors header",
                   what, len);
      return NULL;
    }
  header_len = sc_read_u64le (buf);
  if (header_len > len - 8)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_IO,
                   "%s: header length %" G_GUINT64_FORMAT " is larger than the rest of the file "
                   "(%" G_GSIZE_FORMAT " bytes); truncated or not a safetensors file",
                   what, header_len, len - 8);
      return NULL;
    }
  if (header_len > SC_SAFETENSORS_MAX_HEADER)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                   "%s: header length %" G_GUINT64_FORMAT " exceeds the %u-byte limit", what,
                   header_len, SC_SAFETENSORS_MAX_HEADER);
      return NULL;
    }
  header = (const char *) buf + 8;
  data = buf + 8 + header_len;
  data_len = len - 8 - header_len;

  if (header_len == 0 || header[0] != '{')
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                   "%s: header does not start with “{”; not a safetensors file", what);
      return NULL;
    }
  if (!g_utf8_validate_len (header, header_len, NULL))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                   "%s: header is not valid UTF-8 (or contains NUL bytes)", what);
      return NULL;
    }
  if (!sc_json_depth_ok (header, header_len, SC_SAFETENSORS_MAX_JSON_DEPTH, NULL))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "%s: header JSON is nested too deeply", what);
      return NULL;
    }

  parser = json_parser_new_immutable ();
  MemberCheck mc = { g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL), NULL };
  g_signal_connect (parser, "object-member", G_CALLBACK (on_object_member), &mc);
  gboolean parsed = json_parser_load_from_data (parser, header, (gssize) header_len, &local_error);
  g_signal_handlers_disconnect_by_data (parser, &mc);
  g_hash_table_unref (mc.seen);
  if (!parsed)
    {
      g_free (mc.duplicate);
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "%s: header is not valid JSON: %s", what,
                   local_error->message);
      return NULL;
    }
  if (mc.duplicate != NULL)
    {
      g_autofree char *name = mc.duplicate;
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                   "%s: header names “%s” twice; which one holds is ambiguous", what, name);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "%s: header is not a JSON object", what);
      return NULL;
    }
  obj = json_node_get_object (root);

  tensors = g_ptr_array_new_with_free_func ((GDestroyNotify) sc_tensor_free);
  spans = g_array_new (FALSE, FALSE, sizeof (Span));
  members = json_object_get_members (obj);
  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *name = l->data;
      JsonNode *node = json_object_get_member (obj, name);
      ScTensor *t = NULL;
      Span span;

      if (strcmp (name, "__metadata__") == 0)
        {
          if (!check_metadata (what, node, error))
            return NULL;
          continue;
        }
      if (name[0] == '\0')
        {
          g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "%s: tensor with an empty name", what);
          return NULL;
        }
      if (!parse_entry (what, name, node, data_len, &t, &span, error))
        return NULL;
      t->data = data + span.begin;
      g_ptr_array_add (tensors, t);
      g_array_append_val (spans, span);
    }

  /* No two tensors may share a byte. Empty tensors occupy nothing. */
  g_array_sort (spans, span_cmp);
  {
    const Span *prev = NULL;

    for (guint i = 0; i < spans->len; i++)
      {
        const Span *s = &g_array_index (spans, Span, i);

        if (s->begin == s->end)
          continue;
        if (prev != NULL && s->begin < prev->end)
          {
            g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                         "%s: tensors “%s” [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT
                         ") and “%s” [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT ") overlap",
                         what, prev->tensor->name, prev->begin, prev->end, s->tensor->name,
                         s->begin, s->end);
            return NULL;
          }
        prev = s;
      }
  }

  return g_steal_pointer (&tensors);
}

GPtrArray *
sc_safetensors_parse (const guint8 *buf, gsize len, GError **error)
{
  g_return_val_if_fail (buf != NULL || len == 0, NULL);
  return parse_buffer ("<buffer>", buf, len, error);
}

ScSafetensors *
sc_safetensors_open (const char *path, GError **error)
{
  g_autoptr (GMappedFile) map = NULL;
  GPtrArray *tensors;
  ScSafetensors *st;

  g_return_val_if_fail (path != NULL, NULL);

  /* never blocks on a FIFO; refuses devices and directories by name */
  map = sc_map_regular (path, error);
  if (map == NULL)
    return NULL;
  tensors = parse_buffer (path, (const guint8 *) g_mapped_file_get_contents (map),
                          g_mapped_file_get_length (map), error);
  if (tensors == NULL)
    return NULL;

  st = g_new0 (ScSafetensors, 1);
  st->path = g_strdup (path);
  st->map = g_steal_pointer (&map);
  st->tensors = tensors;
  return st;
}

void
sc_safetensors_free (ScSafetensors *st)
{
  if (st == NULL)
    return;
  g_ptr_array_unref (st->tensors);
  g_mapped_file_unref (st->map);
  g_free (st->path);
  g_free (st);
}

GPtrArray *
sc_safetensors_tensors (ScSafetensors *st)
{
  g_return_val_if_fail (st != NULL, NULL);
  return st->tensors;
}

/* Writing */

static gboolean
write_all (int fd, const void *buf, gsize len, const char *path, GError **error)
{
  const guint8 *p = buf;

  while (len > 0)
    {
      gsize chunk = MIN (len, (gsize) 1 << 30);
      ssize_t w = write (fd, p, chunk);

      if (w < 0)
        {
          int errsv = errno;

          if (errsv == EINTR)
            continue;
          g_set_error (error, SC_ERROR, SC_ERROR_IO, "%s: write failed: %s", path,
                       g_strerror (errsv));
          return FALSE;
        }
      if (w == 0)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_IO, "%s: write failed: no space written", path);
          return FALSE;
        }
      p += w;
      len -= (gsize) w;
    }
  return TRUE;
}

/* The order tensors are laid out in: by element size, largest first, and
 * otherwise as given. With the header padded to 8 bytes this keeps every
 * tensor aligned to its element size without gaps (the reference writer
 * does the same, and its reader rejects gaps). */
static guint *
layout_order (ScTensor *const *tensors, guint n)
{
  static const gsize sizes[] = { 8, 4, 2 };
  guint *order = g_new (guint, MAX (n, 1));
  guint k = 0;

  for (gsize s = 0; s < G_N_ELEMENTS (sizes); s++)
    for (guint i = 0; i < n; i++)
      if (tensors[i] != NULL && sc_dtype_size (tensors[i]->dtype) == sizes[s])
        order[k++] = i;
  for (guint i = 0; i < n; i++) /* anything else (rejected by build_header) */
    {
      gsize es = tensors[i] ? sc_dtype_size (tensors[i]->dtype) : 0;
      if (es != 8 && es != 4 && es != 2)
        order[k++] = i;
    }
  return order;
}

static char *
build_header (ScTensor *const *tensors, const guint *order, guint n, gsize *out_len, GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  GString *s;
  guint64 offset = 0;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "__metadata__");
  json_builder_begin_object (b);
  /* Hugging Face transformers refuses safetensors without format "pt". */
  json_builder_set_member_name (b, "format");
  json_builder_add_string_value (b, "pt");
  json_builder_end_object (b);

  for (guint k = 0; k < n; k++)
    {
      guint i = order[k];
      const ScTensor *t = tensors[i];
      guint64 nbytes;

      if (t == NULL || t->name == NULL || t->name[0] == '\0' ||
          strcmp (t->name, "__metadata__") == 0 || !g_utf8_validate (t->name, -1, NULL))
        {
          g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                       "cannot write tensor %u: missing or invalid name", i);
          return NULL;
        }
      if (!g_hash_table_add (seen, t->name))
        {
          g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "cannot write tensor “%s” twice", t->name);
          return NULL;
        }
      if (sc_dtype_size (t->dtype) == 0 ||
          !sc_shape_checked_size (t->dtype, t->n_dims, t->shape, NULL, &nbytes) ||
          nbytes != t->nbytes || (nbytes > 0 && t->data == NULL))
        {
          g_set_error (error, SC_ERROR, SC_ERROR_SHAPE,
                       "cannot write tensor “%s”: shape, dtype and byte size disagree", t->name);
          return NULL;
        }

      json_builder_set_member_name (b, t->name);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "dtype");
      json_builder_add_string_value (b, sc_dtype_name (t->dtype));
      json_builder_set_member_name (b, "shape");
      json_builder_begin_array (b);
      for (int d = 0; d < t->n_dims; d++)
        json_builder_add_int_value (b, t->shape[d]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "data_offsets");
      json_builder_begin_array (b);
      json_builder_add_int_value (b, (gint64) offset);
      json_builder_add_int_value (b, (gint64) (offset + nbytes));
      json_builder_end_array (b);
      json_builder_end_object (b);
      offset += nbytes;
    }
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  gen = json_generator_new ();
  json_generator_set_root (gen, root);
  s = g_string_new (NULL);
  json_generator_to_gstring (gen, s);
  /* Pad with spaces so the data block starts 8-byte aligned, as the
   * reference writer does. */
  while (s->len % 8 != 0)
    g_string_append_c (s, ' ');
  *out_len = s->len;
  return g_string_free (s, FALSE);
}

static gboolean
is_float (ScDType d)
{
  return d == SC_DTYPE_F32 || d == SC_DTYPE_F16 || d == SC_DTYPE_BF16;
}

/* Tensor t's bytes as dtype `to`, converted in chunks as they are written. */
static gboolean
write_converted (int fd, const ScTensor *t, ScDType to, const char *path, GError **error)
{
  enum
  {
    CHUNK = 1 << 16
  };
  int64_t n = sc_tensor_numel (t);
  g_autofree float *f = g_new (float, CHUNK);
  g_autofree guint8 *buf = g_malloc (CHUNK * sizeof (float));
  for (int64_t at = 0; at < n; at += CHUNK)
    {
      int64_t len = MIN ((int64_t) CHUNK, n - at);
      sc_tensor_read_f32 (t, at, len, f);
      for (int64_t i = 0; i < len; i++)
        {
          float back = f[i];
          if (to == SC_DTYPE_F16)
            {
              guint16 h = sc_f32_to_f16 (f[i]);
              memcpy (buf + 2 * i, &h, 2);
              back = sc_f16_to_f32 (h);
            }
          else if (to == SC_DTYPE_BF16)
            {
              guint16 h = sc_f32_to_bf16 (f[i]);
              memcpy (buf + 2 * i, &h, 2);
              back = sc_bf16_to_f32 (h);
            }
          else
            {
              memcpy (buf + 4 * i, &f[i], 4);
            }
          if (isfinite (f[i]) && !isfinite (back))
            {
              g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                           "tensor “%s”: value %g at element %" G_GINT64_FORMAT
                           " does not fit %s (overflows to infinity)",
                           t->name, f[i], at + i, sc_dtype_name (to));
              return FALSE;
            }
        }
      if (!write_all (fd, buf, (gsize) len * sc_dtype_size (to), path, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
sc_safetensors_write (const char *path, ScTensor *const *tensors, guint n, GError **error)
{
  return sc_safetensors_write_as (path, tensors, n, NULL, error);
}

/* out[i]: tensors[i] as written (a view in views[i] when converted). */
static void
as_written (ScTensor *const *tensors, guint n, const ScDType *as, ScTensor *views, ScTensor **out)
{
  for (guint i = 0; i < n; i++)
    {
      out[i] = tensors[i];
      if (as == NULL || tensors[i] == NULL || as[i] == tensors[i]->dtype ||
          !is_float (tensors[i]->dtype) || !is_float (as[i]))
        continue;
      views[i] = *tensors[i];
      views[i].dtype = as[i];
      views[i].nbytes = (guint64) sc_tensor_numel (tensors[i]) * sc_dtype_size (as[i]);
      out[i] = &views[i];
    }
}

gboolean
sc_safetensors_file_size (ScTensor *const *tensors, guint n, const ScDType *as, guint64 *bytes,
                          GError **error)
{
  g_autofree ScTensor *views = g_new0 (ScTensor, MAX (n, 1));
  g_autofree ScTensor **out = g_new0 (ScTensor *, MAX (n, 1));
  as_written (tensors, n, as, views, out);
  g_autofree guint *order = layout_order (out, n);
  gsize header_len = 0;
  g_autofree char *header = build_header (out, order, n, &header_len, error);
  if (header == NULL)
    return FALSE;
  *bytes = 8 + header_len;
  for (guint i = 0; i < n; i++)
    *bytes += out[i]->nbytes;
  return TRUE;
}

gboolean
sc_safetensors_write_as (const char *path, ScTensor *const *tensors, guint n, const ScDType *as,
                         GError **error)
{
  g_autofree char *header = NULL;
  g_autofree char *tmp = NULL;
  g_autofree guint *order = NULL;
  gsize header_len = 0;
  guint8 len_le[8];
  int fd;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (tensors != NULL || n == 0, FALSE);

  /* The header describes the tensors as they are written. */
  g_autofree ScTensor *views = g_new0 (ScTensor, MAX (n, 1));
  g_autofree ScTensor **out = g_new0 (ScTensor *, MAX (n, 1));
  as_written (tensors, n, as, views, out);
  order = layout_order (out, n);
  header = build_header (out, order, n, &header_len, error);
  if (header == NULL)
    return FALSE;
  for (int i = 0; i < 8; i++)
    len_le[i] = (guint8) (((guint64) header_len >> (8 * i)) & 0xff);

  tmp = g_strdup_printf ("%s.tmp-XXXXXX", path);
  fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      int errsv = errno;
      g_set_error (error, SC_ERROR, SC_ERROR_IO, "%s: cannot create temporary file: %s", path,
                   g_strerror (errsv));
      return FALSE;
    }

  if (!write_all (fd, len_le, 8, path, error) || !write_all (fd, header, header_len, path, error))
    goto fail;
  for (guint k = 0; k < n; k++)
    {
      const ScTensor *t = tensors[order[k]], *o = out[order[k]];
      if (o != t ? !write_converted (fd, t, o->dtype, path, error)
                 : t->nbytes > 0 && !write_all (fd, t->data, t->nbytes, path, error))
        goto fail;
    }
  if (fsync (fd) != 0)
    {
      int errsv = errno;
      g_set_error (error, SC_ERROR, SC_ERROR_IO, "%s: fsync failed: %s", path, g_strerror (errsv));
      goto fail;
    }
  if (close (fd) != 0)
    {
      int errsv = errno;
      fd = -1;
      g_set_error (error, SC_ERROR, SC_ERROR_IO, "%s: close failed: %s", path, g_strerror (errsv));
      goto fail;
    }
  fd = -1;
  if (g_rename (tmp, path) != 0)
    {
      int errsv = errno;
      g_set_error (error, SC_ERROR, SC_ERROR_IO, "%s: cannot rename temporary file: %s", path,
                   g_strerror (errsv));
      goto fail;
    }
  return TRUE;

fail:
  if (fd >= 0)
    close (fd);
  g_unlink (tmp);
  return FALSE;
}
