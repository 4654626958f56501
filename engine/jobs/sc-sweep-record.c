/* sc-sweep-record.c: a sweep as a JSON object and back. See sc-sweep-record.h. */
#include "sc-sweep-record.h"

#include "sc-json-file.h"
#include "sc-json-write.h"
#include "sc-tensor.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

static const struct
{
  ScSelectAlgo algo;
  const char *name;
} algo_names[] = { { SC_SELECT_PER_LAYER, "per-layer" }, { SC_SELECT_THRESHOLD, "threshold" } };

static const struct
{
  ScGranularity granularity;
  const char *name;
} granularity_names[] = { { SC_GRANULARITY_GLOBAL, "global" },
                          { SC_GRANULARITY_LANG, "lang" },
                          { SC_GRANULARITY_PAIR, "pair" } };

const char *
sc_sweep_record_algo_name (ScSelectAlgo algo)
{
  for (gsize i = 0; i < G_N_ELEMENTS (algo_names); i++)
    if (algo_names[i].algo == algo)
      return algo_names[i].name;
  return "unknown";
}

const char *
sc_sweep_record_granularity_name (ScGranularity granularity)
{
  for (gsize i = 0; i < G_N_ELEMENTS (granularity_names); i++)
    if (granularity_names[i].granularity == granularity)
      return granularity_names[i].name;
  return "unknown";
}

/* ---- writing ---- */

static gboolean
check_finite (double v, const char *what, int d, int i, GError **error)
{
  if (isfinite (v))
    return TRUE;
  g_set_error (error, SC_ERROR, SC_ERROR_NOT_FINITE, "sweep record: %s [%d][%d] is %g", what, d, i,
               v);
  return FALSE;
}

JsonNode *
sc_sweep_record_to_node (const ScSweepJobResult *r, GError **error)
{
  int n = r->n_ratios;
  if (r->n_directions < 1 || n < 1 || r->directions == NULL || r->ratios == NULL ||
      r->scores == NULL || r->kept == NULL || r->kept_sets == NULL || r->sentences == NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                   "sweep record: the sweep lacks its points or what they were measured with");
      return NULL;
    }
  for (int i = 0; i < n; i++)
    if (!check_finite (r->ratios[i], "ratio", 0, i, error))
      return NULL;
  for (int d = 0; d < r->n_directions; d++)
    for (int i = 0; i < n; i++)
      if (!check_finite (r->scores[d * n + i], "chrF++", d, i, error))
        return NULL;

  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "format");
  json_builder_add_string_value (b, SC_SWEEP_RECORD_FORMAT);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, SC_SWEEP_RECORD_VERSION);
  json_builder_set_member_name (b, "created");
  json_builder_add_int_value (b, MAX (r->created, 0));

  json_builder_set_member_name (b, "settings");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "metric");
  json_builder_add_string_value (b, sc_expert_metric_to_string (r->settings.metric));
  json_builder_set_member_name (b, "algorithm");
  json_builder_add_string_value (b, sc_sweep_record_algo_name (r->settings.algo));
  json_builder_set_member_name (b, "granularity");
  json_builder_add_string_value (b, sc_sweep_record_granularity_name (r->settings.granularity));
  json_builder_set_member_name (b, "encoder_weight");
  json_builder_add_int_value (b, r->settings.enc_weight);
  json_builder_set_member_name (b, "decoder_weight");
  json_builder_add_int_value (b, r->settings.dec_weight);
  if (r->settings.merge)
    {
      json_builder_set_member_name (b, "merged");
      json_builder_add_boolean_value (b, TRUE);
    }
  json_builder_end_object (b);

  if (r->calibration != NULL)
    {
      json_builder_set_member_name (b, "calibration");
      json_builder_add_string_value (b, r->calibration);
    }
  json_builder_set_member_name (b, "held_out");
  json_builder_add_string_value (b, r->held_out != NULL ? r->held_out : "");
  json_builder_set_member_name (b, "decoding");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "beams");
  json_builder_add_int_value (b, r->num_beams);
  json_builder_set_member_name (b, "max_length");
  json_builder_add_int_value (b, r->max_length);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "experts_total");
  json_builder_add_int_value (b, r->experts_total);

  json_builder_set_member_name (b, "ratios");
  json_builder_begin_array (b);
  for (int i = 0; i < n; i++)
    json_builder_add_double_value (b, r->ratios[i]);
  json_builder_end_array (b);
  /* the mean, for readers of the file; read back, it is recomputed */
  json_builder_set_member_name (b, "chrf");
  json_builder_begin_array (b);
  for (int i = 0; i < n; i++)
    {
      double sum = 0;
      for (int d = 0; d < r->n_directions; d++)
        sum += r->scores[d * n + i];
      json_builder_add_double_value (b, sum / r->n_directions);
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "directions");
  json_builder_begin_array (b);
  for (int d = 0; d < r->n_directions; d++)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "direction");
      json_builder_add_string_value (b, r->directions[d]);
      json_builder_set_member_name (b, "sentences");
      json_builder_add_int_value (b, r->sentences[d]);
      json_builder_set_member_name (b, "chrf");
      json_builder_begin_array (b);
      for (int i = 0; i < n; i++)
        json_builder_add_double_value (b, r->scores[d * n + i]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "kept");
      json_builder_begin_array (b);
      for (int i = 0; i < n; i++)
        json_builder_add_int_value (b, r->kept[d * n + i]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "kept_sets");
      json_builder_begin_array (b);
      for (int i = 0; i < n; i++)
        json_builder_add_string_value (b, r->kept_sets[d * n + i]);
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

char *
sc_sweep_record_to_data (const ScSweepJobResult *r, gsize *length, GError **error)
{
  g_autoptr (JsonNode) node = sc_sweep_record_to_node (r, error);
  if (node == NULL)
    return NULL;
  return sc_json_to_data (node, TRUE, length, error);
}

gboolean
sc_sweep_record_save (const ScSweepJobResult *r, const char *path, GError **error)
{
  g_autoptr (JsonNode) node = sc_sweep_record_to_node (r, error);
  return node != NULL && sc_json_save (node, TRUE, path, error);
}

/* ---- reading: every value checked, errors say where ---- */

G_GNUC_PRINTF (3, 4)
static gboolean
bad (GError **error, const char *where, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *why = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "sweep record: %s: %s", where, why);
  return FALSE;
}

/* NULL when absent: the reader it goes to says "missing" */
static JsonNode *
member (JsonObject *o, const char *name)
{
  return json_object_get_member (o, name);
}

static gboolean
read_int (JsonNode *node, gint64 min, gint64 max, const char *where, gint64 *out, GError **error)
{
  if (node == NULL)
    return bad (error, where, "missing");
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return bad (error, where, "not an integer");
  gint64 v = json_node_get_int (node);
  if (v < min || v > max)
    return bad (error, where,
                "%" G_GINT64_FORMAT " is outside [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "]", v,
                min, max);
  *out = v;
  return TRUE;
}

static gboolean
read_int_member (JsonObject *o, const char *name, gint64 min, gint64 max, const char *where,
                 int *out, GError **error)
{
  g_autofree char *at = g_strdup_printf ("%s%s", where, name);
  gint64 v;
  if (!read_int (member (o, name), min, max, at, &v, error))
    return FALSE;
  *out = (int) v;
  return TRUE;
}

static gboolean
read_double (JsonNode *node, double min, double max, gboolean max_open, const char *where,
             double *out, GError **error)
{
  if (node == NULL)
    return bad (error, where, "missing");
  GType t = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : 0;
  if (t != G_TYPE_DOUBLE && t != G_TYPE_INT64)
    return bad (error, where, "not a number");
  double v = t == G_TYPE_DOUBLE ? json_node_get_double (node) : (double) json_node_get_int (node);
  if (!isfinite (v) || v < min || v > max || (max_open && v >= max))
    return bad (error, where, "%g is outside [%g, %g%s", v, min, max, max_open ? ")" : "]");
  *out = v;
  return TRUE;
}

static const char *
read_string (JsonNode *node, gsize max_len, const char *where, GError **error)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    {
      bad (error, where, node == NULL ? "missing" : "not a string");
      return NULL;
    }
  const char *s = json_node_get_string (node);
  if (strlen (s) > max_len || !g_utf8_validate (s, -1, NULL))
    {
      bad (error, where, "not a string of at most %" G_GSIZE_FORMAT " bytes of UTF-8", max_len);
      return NULL;
    }
  return s;
}

static JsonObject *
read_object (JsonNode *node, const char *where, GError **error)
{
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      bad (error, where, node == NULL ? "missing" : "not an object");
      return NULL;
    }
  return json_node_get_object (node);
}

/* An array of exactly `len` elements (len < 0: 1 to `max`). */
static JsonArray *
read_array (JsonNode *node, int len, int max, const char *where, GError **error)
{
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    {
      bad (error, where, node == NULL ? "missing" : "not an array");
      return NULL;
    }
  JsonArray *a = json_node_get_array (node);
  guint n = json_array_get_length (a);
  if (len >= 0 ? n != (guint) len : (n < 1 || n > (guint) max))
    {
      if (len >= 0)
        bad (error, where, "%u elements instead of %d", n, len);
      else
        bad (error, where, "%u elements, not 1 to %d", n, max);
      return NULL;
    }
  return a;
}

static gboolean
is_hex (const char *s)
{
  if (*s == '\0')
    return FALSE;
  for (; *s; s++)
    if (!g_ascii_isxdigit (*s))
      return FALSE;
  return TRUE;
}

static gboolean
read_settings (JsonObject *root, ScPruneSettings *s, GError **error)
{
  JsonObject *o = read_object (member (root, "settings"), "settings", error);
  if (o == NULL)
    return FALSE;
  sc_prune_settings_init (s);
  s->ratio = 0;
  const char *metric = read_string (member (o, "metric"), 64, "settings.metric", error);
  if (metric == NULL)
    return FALSE;
  if (!sc_expert_metric_from_string (metric, &s->metric))
    return bad (error, "settings.metric", "unknown metric “%s”", metric);
  const char *algo = read_string (member (o, "algorithm"), 64, "settings.algorithm", error);
  if (algo == NULL)
    return FALSE;
  gboolean found = FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (algo_names) && !found; i++)
    if (g_str_equal (algo, algo_names[i].name))
      s->algo = algo_names[i].algo, found = TRUE;
  if (!found)
    return bad (error, "settings.algorithm", "unknown algorithm “%s”", algo);
  const char *gran = read_string (member (o, "granularity"), 64, "settings.granularity", error);
  if (gran == NULL)
    return FALSE;
  found = FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (granularity_names) && !found; i++)
    if (g_str_equal (gran, granularity_names[i].name))
      s->granularity = granularity_names[i].granularity, found = TRUE;
  if (!found)
    return bad (error, "settings.granularity", "unknown granularity “%s”", gran);
  /* pruned experts merged into kept ones (issue 17); absent: dropped */
  s->merge = json_object_get_boolean_member_with_default (o, "merged", FALSE);
  return read_int_member (o, "encoder_weight", 1, 1000, "settings.", &s->enc_weight, error) &&
         read_int_member (o, "decoder_weight", 1, 1000, "settings.", &s->dec_weight, error);
}

static gboolean
read_direction (JsonNode *node, ScSweepJobResult *r, int d, GError **error)
{
  int n = r->n_ratios;
  g_autofree char *where = g_strdup_printf ("directions[%d]", d);
  g_autofree char *prefix = g_strdup_printf ("directions[%d].", d);
  JsonObject *o = read_object (node, where, error);
  if (o == NULL)
    return FALSE;
  g_autofree char *at = g_strdup_printf ("%sdirection", prefix);
  const char *name = read_string (member (o, "direction"), 256, at, error);
  if (name == NULL)
    return FALSE;
  g_autofree char *src = NULL, *tgt = NULL;
  if (!sc_stats_split_direction (name, &src, &tgt))
    return bad (error, at, "“%s” is not a language pair", name);
  for (int e = 0; e < d; e++)
    if (g_str_equal (r->directions[e], name))
      return bad (error, at, "“%s” appears twice", name);
  r->directions[d] = g_strdup (name);
  if (!read_int_member (o, "sentences", 1, G_MAXINT, prefix, &r->sentences[d], error))
    return FALSE;

  g_free (at);
  at = g_strdup_printf ("%schrf", prefix);
  JsonArray *chrf = read_array (member (o, "chrf"), n, 0, at, error);
  if (chrf == NULL)
    return FALSE;
  for (int i = 0; i < n; i++)
    {
      g_autofree char *el = g_strdup_printf ("%s[%d]", at, i);
      if (!read_double (json_array_get_element (chrf, i), 0, 100, FALSE, el, &r->scores[d * n + i],
                        error))
        return FALSE;
    }
  g_free (at);
  at = g_strdup_printf ("%skept", prefix);
  JsonArray *kept = read_array (member (o, "kept"), n, 0, at, error);
  if (kept == NULL)
    return FALSE;
  for (int i = 0; i < n; i++)
    {
      g_autofree char *el = g_strdup_printf ("%s[%d]", at, i);
      gint64 v;
      if (!read_int (json_array_get_element (kept, i), 1, r->experts_total, el, &v, error))
        return FALSE;
      r->kept[d * n + i] = (int) v;
    }
  g_free (at);
  at = g_strdup_printf ("%skept_sets", prefix);
  JsonArray *sets = read_array (member (o, "kept_sets"), n, 0, at, error);
  if (sets == NULL)
    return FALSE;
  for (int i = 0; i < n; i++)
    {
      g_autofree char *el = g_strdup_printf ("%s[%d]", at, i);
      const char *id = read_string (json_array_get_element (sets, i), 64, el, error);
      if (id == NULL)
        return FALSE;
      if (!is_hex (id))
        return bad (error, el, "“%s” is not a kept-set fingerprint", id);
      r->kept_sets[d * n + i] = g_strdup (id);
    }
  return TRUE;
}

ScSweepJobResult *
sc_sweep_record_from_node (JsonNode *node, GError **error)
{
  JsonObject *root = read_object (node, "record", error);
  if (root == NULL)
    return NULL;
  const char *format = read_string (member (root, "format"), 64, "format", error);
  if (format == NULL)
    return NULL;
  if (!g_str_equal (format, SC_SWEEP_RECORD_FORMAT))
    {
      bad (error, "format", "“%s” is not a sweep record", format);
      return NULL;
    }
  int version;
  if (!read_int_member (root, "version", 1, G_MAXINT, "", &version, error))
    return NULL;
  if (version > SC_SWEEP_RECORD_VERSION)
    {
      bad (error, "version", "version %d was written by a newer Secateur", version);
      return NULL;
    }

  g_autoptr (ScSweepJobResult) r = g_new0 (ScSweepJobResult, 1);
  if (json_object_has_member (root, "created"))
    {
      gint64 created;
      if (!read_int (json_object_get_member (root, "created"), 0, G_MAXINT64, "created", &created,
                     error))
        return NULL;
      r->created = created;
    }
  if (!read_settings (root, &r->settings, error))
    return NULL;
  if (json_object_has_member (root, "calibration"))
    {
      const char *c =
          read_string (json_object_get_member (root, "calibration"), 4096, "calibration", error);
      if (c == NULL)
        return NULL;
      r->calibration = g_strdup (c);
    }
  const char *held_out = read_string (member (root, "held_out"), 4096, "held_out", error);
  if (held_out == NULL)
    return NULL;
  r->held_out = g_strdup (held_out);
  JsonObject *dec = read_object (member (root, "decoding"), "decoding", error);
  if (dec == NULL || !read_int_member (dec, "beams", 1, 1024, "decoding.", &r->num_beams, error) ||
      !read_int_member (dec, "max_length", 1, 1 << 20, "decoding.", &r->max_length, error))
    return NULL;
  if (!read_int_member (root, "experts_total", 1, 1 << 24, "", &r->experts_total, error))
    return NULL;

  JsonArray *ratios =
      read_array (member (root, "ratios"), -1, SC_SWEEP_RECORD_MAX_POINTS, "ratios", error);
  if (ratios == NULL)
    return NULL;
  int n = r->n_ratios = json_array_get_length (ratios);
  r->ratios = g_new0 (double, n);
  for (int i = 0; i < n; i++)
    {
      g_autofree char *el = g_strdup_printf ("ratios[%d]", i);
      if (!read_double (json_array_get_element (ratios, i), 0, 1, TRUE, el, &r->ratios[i], error))
        return NULL;
      if (i > 0 && r->ratios[i] <= r->ratios[i - 1])
        {
          bad (error, el, "the ratios do not ascend");
          return NULL;
        }
    }

  JsonArray *dirs = read_array (member (root, "directions"), -1, SC_SWEEP_RECORD_MAX_DIRECTIONS,
                                "directions", error);
  if (dirs == NULL)
    return NULL;
  int nd = r->n_directions = json_array_get_length (dirs);
  if ((gint64) nd * n > SC_SWEEP_RECORD_MAX_SCORES)
    {
      bad (error, "directions", "%d directions of %d points are too many", nd, n);
      return NULL;
    }
  r->directions = g_new0 (char *, nd + 1);
  r->sentences = g_new0 (int, nd);
  r->scores = g_new0 (double, (gsize) nd *n);
  r->kept = g_new0 (int, (gsize) nd *n);
  r->kept_sets = g_new0 (char *, (gsize) nd *n + 1);
  r->chrf = g_new0 (double, n);
  for (int d = 0; d < nd; d++)
    if (!read_direction (json_array_get_element (dirs, d), r, d, error))
      return NULL;
  /* fewer experts at every later point of a direction: a record that says
   * otherwise would make the estimate's kept-count axis meaningless */
  for (int d = 0; d < nd; d++)
    for (int i = 1; i < n; i++)
      if (r->kept[d * n + i] > r->kept[d * n + i - 1])
        {
          g_autofree char *el = g_strdup_printf ("directions[%d].kept[%d]", d, i);
          bad (error, el, "more experts kept at a higher ratio");
          return NULL;
        }
  for (int i = 0; i < n; i++)
    {
      for (int d = 0; d < nd; d++)
        r->chrf[i] += r->scores[d * n + i];
      r->chrf[i] /= nd;
    }
  return g_steal_pointer (&r);
}

ScSweepJobResult *
sc_sweep_record_parse (const char *data, gssize length, GError **error)
{
  g_autoptr (JsonNode) node = sc_json_parse (data, length, "sweep record", error);
  return node != NULL ? sc_sweep_record_from_node (node, error) : NULL;
}

ScSweepJobResult *
sc_sweep_record_load (const char *path, GError **error)
{
  g_autoptr (JsonNode) node = sc_json_file_load (path, SC_JSON_INDEX_MAX_BYTES, error);
  if (node == NULL)
    return NULL;
  GError *inner = NULL;
  ScSweepJobResult *r = sc_sweep_record_from_node (node, &inner);
  if (r == NULL)
    g_propagate_prefixed_error (error, inner, "%s: ", path);
  return r;
}
