/* sc-stats-json.c: the statistics file: written by hand, read by a small
 * strict scanner, appended to under a lock. See sc-stats.h. */
#include "sc-stats-private.h"

#include "sc-json-file.h"
#include "sc-json-write.h"
#include "sc-tensor.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A statistics file is about 200 KB per direction for NLLB-MoE 54B; 2 GiB
 * holds thousands of directions and is read whole, so nothing larger is. */
#define SC_STATS_MAX_FILE_BYTES (2048u << 20)

/* Written by hand rather than through a json-glib tree: millions of
 * numbers, each checked finite (a NaN would make the file unreadable and
 * poison every later merge) and formatted so that it reads back exactly. */

static void
put_u64_row (GString *out, const guint64 *v, int n)
{
  g_string_append_c (out, '[');
  for (int i = 0; i < n; i++)
    g_string_append_printf (out, "%s%" G_GUINT64_FORMAT, i ? "," : "", v[i]);
  g_string_append_c (out, ']');
}

static void
put_u64_matrix (GString *out, const char *name, const guint64 *v, int L, int E)
{
  g_string_append_printf (out, ",\"%s\":[", name);
  for (int l = 0; l < L; l++)
    {
      if (l > 0)
        g_string_append_c (out, ',');
      put_u64_row (out, v + (gsize) l * E, E);
    }
  g_string_append_c (out, ']');
}

static gboolean
put_f64_matrix (GString *out, const char *direction, const char *name, const double *v, int L,
                int E, GError **error)
{
  g_string_append_printf (out, ",\"%s\":[", name);
  for (int l = 0; l < L; l++)
    {
      g_string_append (out, l > 0 ? ",[" : "[");
      for (int e = 0; e < E; e++)
        {
          double x = v[(gsize) l * E + e];
          if (!isfinite (x))
            {
              g_set_error (error, SC_ERROR, SC_ERROR_NOT_FINITE,
                           "Statistics of %s: %s of MoE layer %d, expert %d is %s, which a "
                           "statistics file cannot hold; nothing written",
                           direction, name, l, e, isnan (x) ? "NaN" : "infinite");
              return FALSE;
            }
          if (e > 0)
            g_string_append_c (out, ',');
          sc_json_append_double (out, x);
        }
      g_string_append_c (out, ']');
    }
  g_string_append_c (out, ']');
  return TRUE;
}

char *
sc_stats_to_json (ScStats *stats, gsize *length, GError **error)
{
  g_autoptr (ScStats) s = sc_stats_snapshot (stats);
  const ScStatsShape *sh = &s->shape;
  int L = sh->n_moe_layers, E = sh->n_experts;
  g_autoptr (GString) out = g_string_new (NULL);
  g_string_append_printf (out,
                          "{\"schema\":\"%s\",\"version\":%d,\"model\":{\"name\":", SC_STATS_SCHEMA,
                          SC_STATS_VERSION);
  sc_json_append_string (out, sh->name ? sh->name : "");
  g_string_append_printf (out,
                          ",\"d_model\":%d,\"encoder_layers\":%d,\"decoder_layers\":%d,"
                          "\"moe_layers\":%d,\"encoder_moe_layers\":%d,\"num_experts\":%d},"
                          "\"directions\":{",
                          sh->d_model, sh->encoder_layers, sh->decoder_layers, sh->n_moe_layers,
                          sh->n_encoder_moe, sh->n_experts);
  g_auto (GStrv) dirs = sc_stats_list_directions (s);
  for (char **d = dirs; *d; d++)
    {
      ScStatsCounters *c = g_hash_table_lookup (s->dirs, *d);
      if (d != dirs)
        g_string_append_c (out, ',');
      sc_json_append_string (out, *d);
      g_string_append (out, ":{\"tokens\":");
      put_u64_row (out, c->tokens, L);
      put_u64_matrix (out, "top1", c->top1, L, E);
      put_u64_matrix (out, "top2", c->top2, L, E);
      if (!put_f64_matrix (out, *d, "gate1", c->gate1, L, E, error) ||
          !put_f64_matrix (out, *d, "gate2", c->gate2, L, E, error) ||
          !put_f64_matrix (out, *d, "prob_sum", c->prob_sum, L, E, error) ||
          !put_f64_matrix (out, *d, "rank_sum", c->rank_sum, L, E, error) ||
          !put_f64_matrix (out, *d, "reap_sum", c->reap_sum, L, E, error))
        return NULL;
      g_string_append_c (out, '}');
    }
  g_string_append_c (out, '}');
  /* Optional member: version-1 readers skip it, so the version stays 1. */
  if (json_array_get_length (s->provenance) > 0)
    {
      g_autoptr (JsonNode) node = json_node_new (JSON_NODE_ARRAY);
      json_node_set_array (node, s->provenance);
      g_autofree char *text = sc_json_to_data (node, FALSE, NULL, error);
      if (text == NULL)
        return NULL;
      g_string_append_printf (out, ",\"provenance\":%s", text);
    }
  g_string_append_c (out, '}');
  if (length != NULL)
    *length = out->len;
  return g_string_free (g_steal_pointer (&out), FALSE);
}

gboolean
sc_stats_save (ScStats *stats, const char *path, GError **error)
{
  gsize len = 0;
  g_autofree char *data = sc_stats_to_json (stats, &len, error);
  if (data == NULL)
    {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }
  /* g_file_set_contents writes a temporary file and renames it: a failed
   * write leaves the old file as it was. */
  return g_file_set_contents (path, data, len, error);
}

ScStats *
sc_stats_append_to_file (ScStats *stats, const char *path, ScFileLockWaitFunc waiting,
                         gpointer user_data, GError **error)
{
  g_autoptr (ScFileLock) lock = sc_file_lock_acquire (path, waiting, user_data, error);
  if (lock == NULL)
    return NULL;
  /* Read only now, under the lock: what another writer added meanwhile
   * is part of the sum. */
  g_autoptr (ScStats) sum = NULL;
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    sum = sc_stats_load (path, &stats->shape, error);
  else
    sum = sc_stats_new (&stats->shape);
  if (sum == NULL || !sc_stats_merge (sum, stats, error) || !sc_stats_save (sum, path, error))
    return NULL;
  return g_steal_pointer (&sum);
}

/* ---- reading --------------------------------------------------------------
 *
 * A statistics file of the real model (12 MoE layers x 128 experts, 400
 * directions) holds millions of numbers; building a json-glib tree for them
 * took over a second. This reader walks the text once, straight into the
 * counters: a small strict JSON scanner (RFC 8259 values, nesting bounded)
 * with the schema checks on top. */

#define MAX_DEPTH 64

typedef struct
{
  const char *p, *end;
  int depth;
} Scan;

static void
skip_ws (Scan *j)
{
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
    j->p++;
}

static gboolean
eat (Scan *j, char c)
{
  skip_ws (j);
  if (j->p < j->end && *j->p == c)
    {
      j->p++;
      return TRUE;
    }
  return FALSE;
}

static gboolean
peek (Scan *j, char c)
{
  skip_ws (j);
  return j->p < j->end && *j->p == c;
}

static gboolean
hex4 (const char *p, guint32 *out)
{
  guint32 v = 0;
  for (int i = 0; i < 4; i++)
    {
      int d = g_ascii_xdigit_value (p[i]);
      if (d < 0)
        return FALSE;
      v = v * 16 + d;
    }
  *out = v;
  return TRUE;
}

/* A JSON string, unescaped (NULL when malformed). */
static char *
scan_string (Scan *j)
{
  if (!eat (j, '"'))
    return NULL;
  GString *s = g_string_new (NULL);
  while (j->p < j->end && *j->p != '"')
    {
      guchar c = *j->p++;
      if (c < 0x20)
        goto bad;
      if (c != '\\')
        {
          g_string_append_c (s, c);
          continue;
        }
      if (j->p >= j->end)
        goto bad;
      c = *j->p++;
      switch (c)
        {
        case '"':
        case '\\':
        case '/':
          g_string_append_c (s, c);
          break;
        case 'b':
          g_string_append_c (s, '\b');
          break;
        case 'f':
          g_string_append_c (s, '\f');
          break;
        case 'n':
          g_string_append_c (s, '\n');
          break;
        case 'r':
          g_string_append_c (s, '\r');
          break;
        case 't':
          g_string_append_c (s, '\t');
          break;
        case 'u':
          {
            guint32 u, lo;
            if (j->end - j->p < 4 || !hex4 (j->p, &u))
              goto bad;
            j->p += 4;
            if (u >= 0xD800 && u < 0xDC00)
              {
                if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' ||
                    !hex4 (j->p + 2, &lo) || lo < 0xDC00 || lo >= 0xE000)
                  goto bad;
                j->p += 6;
                u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
              }
            else if (u >= 0xDC00 && u < 0xE000)
              goto bad;
            g_string_append_unichar (s, u);
            break;
          }
        default:
          goto bad;
        }
    }
  if (j->p >= j->end)
    goto bad;
  j->p++;
  if (!g_utf8_validate (s->str, s->len, NULL))
    goto bad;
  return g_string_free (s, FALSE);
bad:
  g_string_free (s, TRUE);
  return NULL;
}

/* A JSON number; *integral says whether it was written without fraction
 * or exponent. */
static gboolean
scan_number (Scan *j, double *out, gboolean *integral)
{
  skip_ws (j);
  const char *q = j->p;
  if (q < j->end && *q == '-')
    q++;
  if (q >= j->end || !g_ascii_isdigit (*q))
    return FALSE;
  if (*q == '0')
    q++;
  else
    while (q < j->end && g_ascii_isdigit (*q))
      q++;
  *integral = TRUE;
  if (q < j->end && *q == '.')
    {
      *integral = FALSE;
      q++;
      if (q >= j->end || !g_ascii_isdigit (*q))
        return FALSE;
      while (q < j->end && g_ascii_isdigit (*q))
        q++;
    }
  if (q < j->end && (*q == 'e' || *q == 'E'))
    {
      *integral = FALSE;
      q++;
      if (q < j->end && (*q == '+' || *q == '-'))
        q++;
      if (q >= j->end || !g_ascii_isdigit (*q))
        return FALSE;
      while (q < j->end && g_ascii_isdigit (*q))
        q++;
    }
  char buf[64];
  if (q - j->p >= (gssize) sizeof buf)
    return FALSE;
  memcpy (buf, j->p, q - j->p);
  buf[q - j->p] = '\0';
  *out = g_ascii_strtod (buf, NULL);
  j->p = q;
  return TRUE;
}

static gboolean
scan_literal (Scan *j, const char *word)
{
  skip_ws (j);
  gsize n = strlen (word);
  if ((gsize) (j->end - j->p) < n || memcmp (j->p, word, n) != 0)
    return FALSE;
  j->p += n;
  return TRUE;
}

/* Skips any value (for members this reader does not need). */
static gboolean
skip_value (Scan *j)
{
  if (++j->depth > MAX_DEPTH)
    return FALSE;
  gboolean ok = TRUE;
  if (eat (j, '{'))
    {
      if (!eat (j, '}'))
        {
          do
            {
              g_autofree char *key = scan_string (j);
              ok = key != NULL && eat (j, ':') && skip_value (j);
            }
          while (ok && eat (j, ','));
          ok = ok && eat (j, '}');
        }
    }
  else if (eat (j, '['))
    {
      if (!eat (j, ']'))
        {
          do
            ok = skip_value (j);
          while (ok && eat (j, ','));
          ok = ok && eat (j, ']');
        }
    }
  else if (peek (j, '"'))
    {
      g_autofree char *str = scan_string (j);
      ok = str != NULL;
    }
  else if (!scan_literal (j, "true") && !scan_literal (j, "false") && !scan_literal (j, "null"))
    {
      double v;
      gboolean integral;
      ok = scan_number (j, &v, &integral);
    }
  j->depth--;
  return ok;
}

/* Iterates over an object's members: call with *first = TRUE, then each
 * TRUE return leaves the scanner at the member's value. */
static gboolean
next_member (Scan *j, gboolean *first, char **key, gboolean *ok)
{
  if (*first)
    {
      *first = FALSE;
      if (!eat (j, '{'))
        return *ok = FALSE;
      if (eat (j, '}'))
        return FALSE;
    }
  else if (!eat (j, ','))
    {
      *ok = eat (j, '}');
      return FALSE;
    }
  *key = scan_string (j);
  if (*key == NULL || !eat (j, ':'))
    {
      g_clear_pointer (key, g_free);
      return *ok = FALSE;
    }
  return TRUE;
}

static gboolean invalid (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
invalid (GError **error, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  g_autofree char *msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (error, SC_STATS_ERROR, SC_STATS_ERROR_INVALID, "Statistics: %s", msg);
  return FALSE;
}

/* `count` non-negative numbers in a JSON array into u (integers) or f. */
static gboolean
scan_row (Scan *j, int count, guint64 *u, double *f)
{
  if (!eat (j, '['))
    return FALSE;
  for (int i = 0; i < count; i++)
    {
      double v;
      gboolean integral;
      if ((i > 0 && !eat (j, ',')) || !scan_number (j, &v, &integral) || !isfinite (v) || v < 0 ||
          (u != NULL && (!integral || v > 9007199254740992.0)))
        return FALSE;
      if (u != NULL)
        u[i] = (guint64) v;
      else
        f[i] = v;
    }
  return eat (j, ']');
}

static gboolean
scan_matrix (Scan *j, int L, int E, guint64 *u, double *f)
{
  if (!eat (j, '['))
    return FALSE;
  for (int l = 0; l < L; l++)
    if ((l > 0 && !eat (j, ',')) ||
        !scan_row (j, E, u ? u + (gsize) l * E : NULL, f ? f + (gsize) l * E : NULL))
      return FALSE;
  return eat (j, ']');
}

static gboolean
scan_direction (Scan *j, ScStatsCounters *c, const char *key, int L, int E, GError **error)
{
  struct
  {
    const char *name;
    guint64 *u;
    double *f;
    gboolean seen;
  } fields[] = {
    { "top1", c->top1, NULL },         { "top2", c->top2, NULL },
    { "gate1", NULL, c->gate1 },       { "gate2", NULL, c->gate2 },
    { "prob_sum", NULL, c->prob_sum }, { "rank_sum", NULL, c->rank_sum },
    { "reap_sum", NULL, c->reap_sum },
  };
  gboolean first = TRUE, ok = TRUE, tokens = FALSE;
  char *name;
  while (next_member (j, &first, &name, &ok))
    {
      g_autofree char *member = name;
      if (g_str_equal (member, "tokens"))
        {
          if (!scan_row (j, L, c->tokens, NULL))
            return invalid (error, "directions.%s.tokens must list %d integers", key, L);
          tokens = TRUE;
          continue;
        }
      guint k;
      for (k = 0; k < G_N_ELEMENTS (fields); k++)
        if (g_str_equal (member, fields[k].name))
          break;
      if (k == G_N_ELEMENTS (fields))
        {
          if (!skip_value (j))
            return invalid (error, "directions.%s.%s is not valid JSON", key, member);
          continue;
        }
      if (!scan_matrix (j, L, E, fields[k].u, fields[k].f))
        return invalid (error, "directions.%s.%s must be %d rows of %d non-negative %s", key,
                        member, L, E, fields[k].u ? "integers" : "numbers");
      fields[k].seen = TRUE;
    }
  if (!ok)
    return invalid (error, "directions.%s is not a valid JSON object", key);
  if (!tokens)
    return invalid (error, "directions.%s.tokens must list %d integers", key, L);
  for (guint k = 0; k < G_N_ELEMENTS (fields); k++)
    if (!fields[k].seen)
      return invalid (error, "directions.%s.%s must be %d rows of %d non-negative %s", key,
                      fields[k].name, L, E, fields[k].u ? "integers" : "numbers");
  return TRUE;
}

static gboolean
scan_model (Scan *j, ScStatsShape *sh, GError **error)
{
  struct
  {
    const char *name;
    int *out;
    int min;
    gboolean seen;
  } ints[] = {
    { "d_model", &sh->d_model, 0 },
    { "encoder_layers", &sh->encoder_layers, 0 },
    { "decoder_layers", &sh->decoder_layers, 0 },
    { "moe_layers", &sh->n_moe_layers, 1 },
    { "encoder_moe_layers", &sh->n_encoder_moe, 0 },
    { "num_experts", &sh->n_experts, 1 },
  };
  gboolean first = TRUE, ok = TRUE;
  char *name;
  while (next_member (j, &first, &name, &ok))
    {
      g_autofree char *member = name;
      if (g_str_equal (member, "name"))
        {
          g_free (sh->name);
          sh->name = peek (j, '"') ? scan_string (j) : NULL;
          if (sh->name == NULL && !skip_value (j))
            return invalid (error, "model.name is not valid JSON");
          continue;
        }
      guint k;
      for (k = 0; k < G_N_ELEMENTS (ints); k++)
        if (g_str_equal (member, ints[k].name))
          break;
      if (k == G_N_ELEMENTS (ints))
        {
          if (!skip_value (j))
            return invalid (error, "model.%s is not valid JSON", member);
          continue;
        }
      double v;
      gboolean integral;
      if (!scan_number (j, &v, &integral) || !integral || v < ints[k].min || v > 1 << 24)
        return invalid (error, "model.%s missing or not an integer >= %d", member, ints[k].min);
      *ints[k].out = (int) v;
      ints[k].seen = TRUE;
    }
  if (!ok)
    return invalid (error, "model is not a valid JSON object");
  for (guint k = 0; k < G_N_ELEMENTS (ints); k++)
    if (!ints[k].seen)
      return invalid (error, "model.%s missing or not an integer >= %d", ints[k].name, ints[k].min);
  if (sh->name == NULL)
    sh->name = g_strdup ("");
  return TRUE;
}

/* The "provenance" member: a small array of records, read with json-glib
 * (the scanner above has already checked it is valid JSON). */
static gboolean
read_provenance (ScStats *s, const char *at, const char *end, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (JsonNode) root = sc_json_parse (at, end - at, "provenance", &local);
  if (root == NULL)
    return invalid (error, "%s", local->message);
  if (!JSON_NODE_HOLDS_ARRAY (root))
    return invalid (error, "provenance is not a list of records");
  JsonArray *a = json_node_get_array (root);
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonNode *n = json_array_get_element (a, i);
      if (!JSON_NODE_HOLDS_OBJECT (n))
        return invalid (error, "provenance record %u is not an object", i);
      json_array_add_element (s->provenance, sc_stats_deep_copy (n));
    }
  return TRUE;
}

ScStats *
sc_stats_from_json (const char *data, gssize length, const ScStatsShape *expect, GError **error)
{
  Scan j = { data, data + (length < 0 ? (gssize) strlen (data) : length), 0 };
  const char *model_at = NULL, *directions_at = NULL, *provenance_at = NULL, *provenance_end = NULL;
  g_autofree char *schema = NULL;
  double version = -1;
  gboolean version_integral = FALSE;

  /* First pass: the top-level members; the big "directions" value is only
   * skipped over here, and read once the model's shape is known. */
  gboolean first = TRUE, ok = TRUE;
  char *name;
  while (next_member (&j, &first, &name, &ok))
    {
      g_autofree char *member = name;
      skip_ws (&j);
      if (g_str_equal (member, "schema") && peek (&j, '"'))
        {
          g_free (schema);
          schema = scan_string (&j);
          ok = schema != NULL;
        }
      else if (g_str_equal (member, "version") && !peek (&j, '"') && !peek (&j, '{') &&
               !peek (&j, '['))
        {
          ok = scan_number (&j, &version, &version_integral) || skip_value (&j);
        }
      else
        {
          if (g_str_equal (member, "model"))
            model_at = j.p;
          else if (g_str_equal (member, "directions"))
            directions_at = j.p;
          else if (g_str_equal (member, "provenance"))
            provenance_at = j.p;
          ok = skip_value (&j);
          if (ok && g_str_equal (member, "provenance"))
            provenance_end = j.p;
        }
      if (!ok)
        break;
    }
  skip_ws (&j);
  if (!ok || j.p != j.end)
    {
      invalid (error, "not valid JSON (near byte %" G_GSSIZE_FORMAT ")", (gssize) (j.p - data));
      return NULL;
    }
  if (schema == NULL || strcmp (schema, SC_STATS_SCHEMA) != 0)
    {
      g_set_error (error, SC_STATS_ERROR, SC_STATS_ERROR_SCHEMA,
                   "Not a Secateur statistics file (schema is '%s', expected '%s')",
                   schema ? schema : "missing", SC_STATS_SCHEMA);
      return NULL;
    }
  if (!version_integral || version < 1)
    {
      invalid (error, "bad or missing version");
      return NULL;
    }
  if (version > SC_STATS_VERSION)
    {
      g_set_error (error, SC_STATS_ERROR, SC_STATS_ERROR_VERSION,
                   "Statistics file version %.0f is newer than this Secateur understands (%d); "
                   "please upgrade",
                   version, SC_STATS_VERSION);
      return NULL;
    }
  if (model_at == NULL)
    {
      invalid (error, "missing model");
      return NULL;
    }

  ScStatsShape sh = { 0 };
  j.p = model_at;
  if (!scan_model (&j, &sh, error))
    {
      g_free (sh.name);
      return NULL;
    }
  g_autofree char *shape_name = sh.name;
  if (sh.n_encoder_moe > sh.n_moe_layers || (gint64) sh.n_moe_layers * sh.n_experts > 1 << 24)
    {
      invalid (error, "inconsistent model shape");
      return NULL;
    }
  if (expect && !sc_stats_shape_equal (expect, &sh, error))
    return NULL;

  g_autoptr (ScStats) s = sc_stats_new (&sh);
  int L = sh.n_moe_layers, E = sh.n_experts;
  if (directions_at == NULL)
    {
      invalid (error, "missing directions");
      return NULL;
    }
  j.p = directions_at;
  first = TRUE;
  ok = TRUE;
  while (next_member (&j, &first, &name, &ok))
    {
      g_autofree char *key = name;
      if (!sc_stats_split_direction (key, NULL, NULL))
        {
          invalid (error, "direction '%s' is not of the form src-tgt", key);
          return NULL;
        }
      if (g_hash_table_contains (s->dirs, key))
        {
          invalid (error, "direction '%s' appears twice", key);
          return NULL;
        }
      if (!scan_direction (&j, sc_stats_lookup_or_add (s, key), key, L, E, error))
        return NULL;
    }
  if (!ok)
    {
      invalid (error, "directions is not a valid JSON object");
      return NULL;
    }
  if (provenance_at != NULL && !read_provenance (s, provenance_at, provenance_end, error))
    return NULL;
  return g_steal_pointer (&s);
}

ScStats *
sc_stats_load (const char *path, const ScStatsShape *expect, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!sc_file_read_small (path, SC_STATS_MAX_FILE_BYTES, &data, &len, error))
    return NULL;
  g_autoptr (GError) local = NULL;
  ScStats *s = sc_stats_from_json (data, len, expect, &local);
  if (s == NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local), "%s: ", path);
      return NULL;
    }
  return s;
}
