/* sc-provenance.c: records of where expert statistics came from. */
#include "sc-provenance.h"
#include "sc-checkpoint.h"
#include "sc-json-file.h"
#include "sc-tensor.h"

#include <string.h>

char *
sc_provenance_fingerprint (ScModel *model)
{
  ScCheckpoint *ckpt = sc_model_get_checkpoint (model);
  if (ckpt == NULL)
    return NULL;
  g_autofree char *config_path = g_build_filename (sc_checkpoint_dir (ckpt), "config.json", NULL);
  g_autofree char *config = NULL;
  gsize len = 0;
  if (!sc_file_read_small (config_path, SC_JSON_CONFIG_MAX_BYTES, &config, &len, NULL))
    return NULL;
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (sum, (const guchar *) config, len);
  /* names come sorted, so the order of shards does not matter */
  for (const char *const *n = sc_checkpoint_names (ckpt); n && *n; n++)
    {
      g_autoptr (GString) line = g_string_new (*n);
      const ScTensor *t = sc_checkpoint_get (ckpt, *n);
      if (t != NULL)
        {
          g_string_append_printf (line, ":%s", sc_dtype_name (t->dtype));
          for (int d = 0; d < t->n_dims; d++)
            g_string_append_printf (line, ":%" G_GINT64_FORMAT, (gint64) t->shape[d]);
        }
      g_string_append_c (line, '\n');
      g_checksum_update (sum, (const guchar *) line->str, line->len);
    }
  return g_strdup_printf ("sha256:%.16s", g_checksum_get_string (sum));
}

JsonObject *
sc_provenance_calibration (ScModel *model, const ScCalibrationRun *run)
{
  JsonObject *o = json_object_new ();
  if (run->corpus != NULL)
    json_object_set_string_member (o, "corpus", run->corpus);
  if (run->split != NULL)
    json_object_set_string_member (o, "split", run->split);
  if (run->sampling != NULL)
    json_object_set_string_member (o, "sampling", run->sampling);
  if (run->directions != NULL)
    {
      JsonArray *a = json_array_new ();
      for (const char *const *d = run->directions; *d; d++)
        json_array_add_string_element (a, *d);
      json_object_set_array_member (o, "directions", a);
    }
  json_object_set_int_member (o, "sentences", (gint64) run->sentences);
  json_object_set_int_member (o, "tokens", (gint64) run->tokens);
  json_object_set_string_member (o, "mode", run->decode ? "decode" : "teacher");
  json_object_set_int_member (o, "beam", MAX (run->beam, 1));
  if (run->has_seed)
    json_object_set_int_member (o, "seed", run->seed);
  if (run->model_name != NULL)
    json_object_set_string_member (o, "model", run->model_name);
  g_autofree char *fp = model ? sc_provenance_fingerprint (model) : NULL;
  if (fp != NULL)
    json_object_set_string_member (o, "model_fingerprint", fp);
  /* No date: the same data must give the same statistics file, byte for
   * byte, from run to run (and over any number of MPI ranks). */
  json_object_set_string_member (o, "secateur_version", SC_VERSION);
  return o;
}

static const char *
str_member (JsonObject *o, const char *key)
{
  JsonNode *n = json_object_get_member (o, key);
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

static gboolean
int_member (JsonObject *o, const char *key, gint64 *out)
{
  JsonNode *n = json_object_get_member (o, key);
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int (n);
  return TRUE;
}

char *
sc_provenance_describe (JsonObject *r)
{
  GString *s = g_string_new (NULL);
  const char *corpus = str_member (r, "corpus"), *split = str_member (r, "split");
  const char *sampling = str_member (r, "sampling"), *mode = str_member (r, "mode");
  g_string_append (s, corpus ? corpus : "unknown corpus");
  if (split != NULL)
    g_string_append_printf (s, " (%s split)", split);
  if (sampling != NULL)
    g_string_append_printf (s, ", %s sampling", sampling);
  JsonNode *dirs = json_object_get_member (r, "directions");
  if (dirs != NULL && JSON_NODE_HOLDS_ARRAY (dirs))
    {
      JsonArray *a = json_node_get_array (dirs);
      guint n = json_array_get_length (a);
      if (n == 1 && JSON_NODE_HOLDS_VALUE (json_array_get_element (a, 0)))
        g_string_append_printf (s, ", %s", json_array_get_string_element (a, 0));
      else
        g_string_append_printf (s, ", %u directions", n);
    }
  gint64 v;
  if (int_member (r, "sentences", &v))
    g_string_append_printf (s, ", %" G_GINT64_FORMAT " sentences", v);
  if (int_member (r, "tokens", &v))
    g_string_append_printf (s, ", %" G_GINT64_FORMAT " tokens", v);
  if (mode != NULL)
    g_string_append_printf (s, ", %s", g_str_equal (mode, "decode") ? "decoded" : "teacher-forced");
  if (int_member (r, "beam", &v) && v > 1)
    g_string_append_printf (s, " (beam %" G_GINT64_FORMAT ")", v);
  if (int_member (r, "seed", &v))
    g_string_append_printf (s, ", seed %" G_GINT64_FORMAT, v);
  const char *model = str_member (r, "model"), *fp = str_member (r, "model_fingerprint");
  if (model != NULL || fp != NULL)
    g_string_append_printf (s, "; model %s%s%s%s", model ? model : "", fp ? " [" : "", fp ? fp : "",
                            fp ? "]" : "");
  const char *version = str_member (r, "secateur_version");
  if (version != NULL)
    g_string_append_printf (s, "; Secateur %s", version);
  return g_string_free (s, FALSE);
}

void
sc_provenance_copy_index_meta (JsonObject *meta, JsonObject *selection)
{
  if (meta == NULL)
    return;
  JsonNode *how = json_object_get_member (meta, "selection");
  if (how != NULL && JSON_NODE_HOLDS_OBJECT (how))
    json_object_set_member (selection, "settings", json_node_copy (how));
  JsonNode *runs = json_object_get_member (meta, "statistics");
  if (runs != NULL && JSON_NODE_HOLDS_ARRAY (runs))
    json_object_set_member (selection, "statistics", json_node_copy (runs));
}

static gboolean report_invalid (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
report_invalid (GError **error, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  g_autofree char *msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "evaluation report: %s", msg);
  return FALSE;
}

/* {"chrf++": x, "spbleu": y} of one side of a report entry, or NULL. */
static JsonObject *
side_scores (JsonObject *entry, const char *side)
{
  JsonNode *n = json_object_get_member (entry, side);
  if (n == NULL || !JSON_NODE_HOLDS_OBJECT (n))
    return NULL;
  JsonObject *o = json_node_get_object (n), *out = json_object_new ();
  const char *keys[] = { "chrf++", "spbleu", "len_ratio" };
  for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
    {
      JsonNode *v = json_object_get_member (o, keys[k]);
      if (v != NULL && JSON_NODE_HOLDS_VALUE (v) &&
          (json_node_get_value_type (v) == G_TYPE_DOUBLE ||
           json_node_get_value_type (v) == G_TYPE_INT64))
        json_object_set_double_member (out, keys[k], json_node_get_double (v));
      else if (k < 2)
        {
          json_object_unref (out);
          return NULL;
        }
    }
  return out;
}

JsonObject *
sc_provenance_scores_from_report (JsonNode *report, const char *const *directions, GError **error)
{
  JsonNode *list = report && JSON_NODE_HOLDS_OBJECT (report)
                       ? json_object_get_member (json_node_get_object (report), "directions")
                       : NULL;
  if (list == NULL || !JSON_NODE_HOLDS_ARRAY (list))
    {
      report_invalid (error, "no \"directions\" list (not an evaluate -o report?)");
      return NULL;
    }
  g_autoptr (JsonObject) all = json_object_new ();
  JsonArray *a = json_node_get_array (list);
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonNode *n = json_array_get_element (a, i);
      JsonObject *e = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
      JsonNode *d = e ? json_object_get_member (e, "direction") : NULL;
      if (d == NULL || !JSON_NODE_HOLDS_VALUE (d) || json_node_get_value_type (d) != G_TYPE_STRING)
        {
          report_invalid (error, "entry %u has no direction", i);
          return NULL;
        }
      const char *dir = json_node_get_string (d);
      if (directions != NULL && !g_strv_contains (directions, dir))
        continue;
      g_autoptr (JsonObject) full = side_scores (e, "full");
      g_autoptr (JsonObject) pruned = side_scores (e, "pruned");
      if (full == NULL || pruned == NULL)
        {
          report_invalid (error,
                          "%s has no %s scores (the report of an evaluate run with --experts "
                          "is needed)",
                          dir, full ? "pruned" : "full");
          return NULL;
        }
      JsonObject *o = json_object_new ();
      JsonNode *sent = json_object_get_member (e, "sentences");
      if (sent != NULL && JSON_NODE_HOLDS_VALUE (sent) &&
          json_node_get_value_type (sent) == G_TYPE_INT64)
        json_object_set_int_member (o, "sentences", json_node_get_int (sent));
      json_object_set_object_member (o, "full", g_steal_pointer (&full));
      json_object_set_object_member (o, "pruned", g_steal_pointer (&pruned));
      json_object_set_object_member (all, dir, o);
    }
  if (json_object_get_size (all) == 0)
    {
      report_invalid (error, "none of its directions is one the export serves");
      return NULL;
    }
  return g_steal_pointer (&all);
}

guint64
sc_provenance_tokens (ScStats *stats)
{
  const ScStatsShape *sh = sc_stats_get_shape (stats);
  guint64 n = 0;
  g_auto (GStrv) dirs = sc_stats_list_directions (stats);
  for (char **d = dirs; *d; d++)
    {
      g_autoptr (ScStatsCounters) c = sc_stats_get_pair (stats, *d, NULL);
      if (c == NULL)
        continue;
      /* every token passes every MoE layer of its side: count the first */
      if (sh->n_encoder_moe > 0)
        n += c->tokens[0];
      if (sh->n_encoder_moe < sh->n_moe_layers)
        n += c->tokens[sh->n_encoder_moe];
    }
  return n;
}
