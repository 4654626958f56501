/* sc-capture.c: captured router inputs, a seeded reservoir per direction
 * and MoE layer, and their file. See sc-capture.h. */
#include "sc-capture.h"

#include "sc-json-file.h"
#include "sc-json-write.h"
#include "sc-stats.h"
#include "sc-tensor.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CAPTURE_MAGIC "SCCAPTUR"
/* A capture holds at most max_tokens x d_model floats per direction and
 * layer; this only refuses absurd files. */
#define CAPTURE_MAX_BYTES (G_GUINT64_CONSTANT (64) << 30)

/* ---- capture ------------------------------------------------------------ */

typedef struct
{
  int n_moe;
  guint64 *seen; /* [n_moe] tokens offered */
  int *n;        /* [n_moe] tokens kept */
  float **rows;  /* [n_moe][max_tokens * d] */
  guint64 *rng;  /* [n_moe] splitmix64 state of each reservoir */
} Entry;

struct _ScCapture
{
  int n_moe, n_enc, d, max_tokens;
  guint64 seed;
  GHashTable *entries; /* direction -> Entry */
};

static void
entry_free (gpointer data)
{
  Entry *en = data;
  if (en == NULL)
    return;
  g_free (en->seen);
  g_free (en->n);
  g_free (en->rng);
  for (int m = 0; m < en->n_moe; m++)
    g_free (en->rows[m]);
  g_free (en->rows);
  g_free (en);
}

static guint64
splitmix64 (guint64 *state)
{
  guint64 z = (*state += G_GUINT64_CONSTANT (0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94D049BB133111EB);
  return z ^ (z >> 31);
}

ScCapture *
sc_capture_new (int n_moe_layers, int n_encoder_moe, int d_model, int max_tokens, guint64 seed)
{
  ScCapture *cap = g_new0 (ScCapture, 1);
  cap->n_moe = MAX (n_moe_layers, 0);
  cap->n_enc = CLAMP (n_encoder_moe, 0, cap->n_moe);
  cap->d = MAX (d_model, 1);
  cap->max_tokens = MAX (max_tokens, 1);
  cap->seed = seed;
  cap->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, entry_free);
  return cap;
}

void
sc_capture_free (ScCapture *cap)
{
  if (cap == NULL)
    return;
  g_hash_table_unref (cap->entries);
  g_free (cap);
}

int
sc_capture_max_tokens (const ScCapture *cap)
{
  return cap->max_tokens;
}

static Entry *
entry_get (ScCapture *cap, const char *direction)
{
  Entry *en = g_hash_table_lookup (cap->entries, direction);
  if (en != NULL)
    return en;
  en = g_new0 (Entry, 1);
  en->n_moe = cap->n_moe;
  en->seen = g_new0 (guint64, cap->n_moe);
  en->n = g_new0 (int, cap->n_moe);
  en->rows = g_new0 (float *, cap->n_moe);
  en->rng = g_new0 (guint64, cap->n_moe);
  /* Each reservoir draws from its own stream: the sample of one direction
   * and layer does not depend on what else was captured. */
  guint64 h = g_str_hash (direction);
  for (int m = 0; m < cap->n_moe; m++)
    en->rng[m] = cap->seed ^ (h << 20) ^ ((guint64) m * G_GUINT64_CONSTANT (0x2545F4914F6CDD1D));
  g_hash_table_insert (cap->entries, g_strdup (direction), en);
  return en;
}

gboolean
sc_capture_add (ScCapture *cap, const char *direction, int moe_layer, int n_tokens,
                const float *hidden, const int *top1, const guint8 *valid, GError **error)
{
  if (!sc_stats_split_direction (direction, NULL, NULL) || moe_layer < 0 || moe_layer >= cap->n_moe)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "capture: direction '%s', MoE layer %d",
                   direction ? direction : "(null)", moe_layer);
      return FALSE;
    }
  if (n_tokens <= 0 || hidden == NULL)
    return TRUE;
  Entry *en = entry_get (cap, direction);
  int d = cap->d, N = cap->max_tokens;
  for (int t = 0; t < n_tokens; t++)
    {
      if ((valid != NULL && !valid[t]) || (top1 != NULL && top1[t] < 0))
        continue;
      /* Reservoir sampling (Vitter's algorithm R): every token offered so
       * far is kept with the same probability N / seen. */
      guint64 i = en->seen[moe_layer]++;
      gint64 slot = -1;
      if (i < (guint64) N)
        slot = en->n[moe_layer]++;
      else
        {
          guint64 j = splitmix64 (&en->rng[moe_layer]) % (i + 1);
          if (j < (guint64) N)
            slot = (gint64) j;
        }
      if (slot < 0)
        continue;
      if (en->rows[moe_layer] == NULL)
        en->rows[moe_layer] = g_new (float, (gsize) N *d);
      memcpy (en->rows[moe_layer] + (gsize) slot * d, hidden + (gsize) t * d, sizeof (float) * d);
    }
  return TRUE;
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* The captured directions, sorted (free the array, not the strings). */
static char **
sorted_directions (const ScCapture *cap, guint *n)
{
  char **keys = (char **) g_hash_table_get_keys_as_array (cap->entries, n);
  qsort (keys, *n, sizeof (char *), compare_strings);
  return keys;
}

/* The file's JSON header; *data_bytes: the f32 rows after it. */
static GString *
capture_header (const ScCapture *cap, char **dirs, guint n_dir, guint64 *data_bytes)
{
  GString *head = g_string_new (NULL);
  g_string_append_printf (head,
                          "{\"format\": \"secateur-capture\", \"version\": 1, \"dtype\": \"f32\", "
                          "\"d_model\": %d, \"n_moe_layers\": %d, \"n_encoder_moe\": %d, "
                          "\"max_tokens\": %d, \"seed\": %" G_GUINT64_FORMAT ", \"entries\": [",
                          cap->d, cap->n_moe, cap->n_enc, cap->max_tokens, cap->seed);
  guint64 offset = 0;
  gboolean first = TRUE;
  for (guint i = 0; i < n_dir; i++)
    {
      Entry *en = g_hash_table_lookup (cap->entries, dirs[i]);
      for (int m = 0; m < cap->n_moe; m++)
        {
          if (en->n[m] == 0)
            continue;
          g_string_append (head, first ? "\n  {\"direction\": " : ",\n  {\"direction\": ");
          first = FALSE;
          sc_json_append_string (head, dirs[i]);
          g_string_append_printf (head,
                                  ", \"moe_layer\": %d, \"seen\": %" G_GUINT64_FORMAT
                                  ", \"n_tokens\": %d, \"offset\": %" G_GUINT64_FORMAT "}",
                                  m, en->seen[m], en->n[m], offset);
          offset += (guint64) en->n[m] * cap->d * sizeof (float);
        }
    }
  g_string_append (head, "]}\n");
  *data_bytes = offset;
  return head;
}

guint64
sc_capture_file_size (const ScCapture *cap)
{
  guint n_dir;
  g_autofree char **dirs = sorted_directions (cap, &n_dir);
  guint64 data;
  g_autoptr (GString) head = capture_header (cap, dirs, n_dir, &data);
  return 12 + head->len + data;
}

gboolean
sc_capture_save (const ScCapture *cap, const char *path, GError **error)
{
  guint n_dir;
  g_autofree char **dirs = sorted_directions (cap, &n_dir);
  guint64 offset;
  g_autoptr (GString) head = capture_header (cap, dirs, n_dir, &offset);

  g_autoptr (GByteArray) out = g_byte_array_sized_new (12 + head->len + offset);
  guint32 hlen = GUINT32_TO_LE ((guint32) head->len);
  g_byte_array_append (out, (const guint8 *) CAPTURE_MAGIC, 8);
  g_byte_array_append (out, (const guint8 *) &hlen, 4);
  g_byte_array_append (out, (const guint8 *) head->str, head->len);
  for (guint i = 0; i < n_dir; i++)
    {
      Entry *en = g_hash_table_lookup (cap->entries, dirs[i]);
      for (int m = 0; m < cap->n_moe; m++)
        for (gsize k = 0; k < (gsize) en->n[m] * cap->d; k++)
          {
            union
            {
              float f;
              guint32 u;
            } v = { .f = en->rows[m][k] };
            guint32 le = GUINT32_TO_LE (v.u);
            g_byte_array_append (out, (const guint8 *) &le, 4);
          }
    }
  /* g_file_set_contents writes a temporary file and renames it */
  return g_file_set_contents (path, (const char *) out->data, out->len, error);
}

static gboolean
bad_capture (GError **error, const char *path, const char *why)
{
  g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "%s: not a valid capture file (%s)", path, why);
  return FALSE;
}

static gboolean
read_int (JsonObject *o, const char *name, gint64 lo, gint64 hi, gint64 *out)
{
  JsonNode *n = json_object_get_member (o, name);
  if (n == NULL || json_node_get_value_type (n) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int (n);
  return *out >= lo && *out <= hi;
}

ScCapture *
sc_capture_load (const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!sc_file_read_small (path, CAPTURE_MAX_BYTES, &data, &len, error))
    return NULL;
  if (len < 12 || memcmp (data, CAPTURE_MAGIC, 8) != 0)
    return bad_capture (error, path, "no SCCAPTUR header"), NULL;
  guint32 hlen;
  memcpy (&hlen, data + 8, 4);
  hlen = GUINT32_FROM_LE (hlen);
  if (hlen > len - 12)
    return bad_capture (error, path, "header longer than the file"), NULL;
  g_autoptr (JsonNode) root = sc_json_parse (data + 12, hlen, path, error);
  if (root == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (root))
    return bad_capture (error, path, "header is not an object"), NULL;
  JsonObject *o = json_node_get_object (root);
  const char *format = json_object_get_string_member_with_default (o, "format", "");
  const char *dtype = json_object_get_string_member_with_default (o, "dtype", "");
  gint64 version, d, n_moe, n_enc, max_tokens, seed;
  if (!g_str_equal (format, "secateur-capture") || !g_str_equal (dtype, "f32") ||
      !read_int (o, "version", 1, 1, &version) || !read_int (o, "d_model", 1, 1 << 20, &d) ||
      !read_int (o, "n_moe_layers", 0, 4096, &n_moe) ||
      !read_int (o, "n_encoder_moe", 0, n_moe, &n_enc) ||
      !read_int (o, "max_tokens", 1, G_MAXINT32, &max_tokens) ||
      !read_int (o, "seed", 0, G_MAXINT64, &seed))
    return bad_capture (error, path, "header fields missing or out of range"), NULL;
  JsonNode *en_node = json_object_get_member (o, "entries");
  if (en_node == NULL || !JSON_NODE_HOLDS_ARRAY (en_node))
    return bad_capture (error, path, "no entries"), NULL;

  g_autoptr (ScCapture) cap = sc_capture_new (n_moe, n_enc, d, max_tokens, seed);
  const char *body = data + 12 + hlen;
  guint64 body_len = len - 12 - hlen;
  JsonArray *arr = json_node_get_array (en_node);
  for (guint i = 0; i < json_array_get_length (arr); i++)
    {
      JsonNode *n = json_array_get_element (arr, i);
      if (!JSON_NODE_HOLDS_OBJECT (n))
        return bad_capture (error, path, "an entry is not an object"), NULL;
      JsonObject *e = json_node_get_object (n);
      const char *dir = json_object_get_string_member_with_default (e, "direction", NULL);
      gint64 m, seen, nt, off;
      if (dir == NULL || !sc_stats_split_direction (dir, NULL, NULL) ||
          !read_int (e, "moe_layer", 0, n_moe - 1, &m) ||
          !read_int (e, "n_tokens", 1, max_tokens, &nt) ||
          !read_int (e, "seen", nt, G_MAXINT64, &seen) ||
          !read_int (e, "offset", 0, G_MAXINT64, &off))
        return bad_capture (error, path, "an entry's fields are missing or out of range"), NULL;
      guint64 bytes = (guint64) nt * d * sizeof (float);
      if ((guint64) off > body_len || bytes > body_len - off)
        return bad_capture (error, path, "an entry lies beyond the end of the file"), NULL;
      Entry *en = entry_get (cap, dir);
      if (en->n[m] != 0)
        return bad_capture (error, path, "an entry is repeated"), NULL;
      en->seen[m] = seen;
      en->n[m] = nt;
      en->rows[m] = g_new (float, (gsize) max_tokens *d);
      for (gsize k = 0; k < (gsize) nt * d; k++)
        {
          union
          {
            float f;
            guint32 u;
          } v;
          memcpy (&v.u, body + off + k * 4, 4);
          v.u = GUINT32_FROM_LE (v.u);
          if (!isfinite (v.f))
            return bad_capture (error, path, "a value is NaN or infinite"), NULL;
          en->rows[m][k] = v.f;
        }
    }
  return g_steal_pointer (&cap);
}

char *
sc_capture_path_for_stats (const char *stats_path)
{
  if (g_str_has_suffix (stats_path, ".json"))
    {
      g_autofree char *stem = g_strndup (stats_path, strlen (stats_path) - 5);
      return g_strconcat (stem, ".capture", NULL);
    }
  return g_strconcat (stats_path, ".capture", NULL);
}

float *
sc_capture_tokens_for (const ScCapture *cap, ScGranularity granularity, const char *src,
                       const char *tgt, int moe_layer, int *n_out)
{
  *n_out = 0;
  if (moe_layer < 0 || moe_layer >= cap->n_moe)
    return NULL;
  gboolean decoder = moe_layer >= cap->n_enc;
  guint n_dir;
  g_autofree char **dirs = sorted_directions (cap, &n_dir);
  g_autofree char *pair = src && tgt ? g_strdup_printf ("%s-%s", src, tgt) : NULL;
  gboolean own_pair = FALSE;
  if (granularity == SC_GRANULARITY_PAIR && pair != NULL)
    {
      Entry *en = g_hash_table_lookup (cap->entries, pair);
      own_pair = en != NULL;
    }
  g_autoptr (GArray) pool = g_array_new (FALSE, FALSE, sizeof (float));
  for (guint i = 0; i < n_dir; i++)
    {
      g_autofree char *s = NULL, *t = NULL;
      sc_stats_split_direction (dirs[i], &s, &t);
      gboolean take;
      if (granularity == SC_GRANULARITY_GLOBAL)
        take = TRUE;
      else if (own_pair)
        take = g_str_equal (dirs[i], pair);
      else
        take = decoder ? g_strcmp0 (t, tgt) == 0 : g_strcmp0 (s, src) == 0;
      Entry *en = g_hash_table_lookup (cap->entries, dirs[i]);
      if (take && en->n[moe_layer] > 0)
        g_array_append_vals (pool, en->rows[moe_layer], (guint) en->n[moe_layer] * cap->d);
    }
  int total = (int) (pool->len / cap->d);
  int n = MIN (total, cap->max_tokens);
  if (n == 0)
    return NULL;
  float *out = g_new (float, (gsize) n * cap->d);
  /* Even thinning keeps a share of every pooled direction. */
  for (int i = 0; i < n; i++)
    {
      gsize from = (gsize) ((guint64) i * total / n);
      memcpy (out + (gsize) i * cap->d, (float *) pool->data + from * cap->d,
              sizeof (float) * cap->d);
    }
  *n_out = n;
  return out;
}

gboolean
sc_capture_check_shape (const ScCapture *cap, int n_moe_layers, int n_encoder_moe, int d_model,
                        GError **error)
{
  if (cap->n_moe != n_moe_layers || cap->n_enc != n_encoder_moe || cap->d != d_model)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                   "the capture (%d MoE layers, %d in the encoder, d_model %d) is not of this "
                   "model (%d, %d, %d)",
                   cap->n_moe, cap->n_enc, cap->d, n_moe_layers, n_encoder_moe, d_model);
      return FALSE;
    }
  return TRUE;
}
