/* sc-stats.c: per-direction gate statistics (raw additive counters), their
 * aggregates and their JSON form. See sc-stats.h. */
#include "sc-stats.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

G_DEFINE_QUARK (sc - stats - error - quark, sc_stats_error)

struct _ScStats
{
  GMutex lock;
  ScStatsShape shape;
  GHashTable *dirs; /* char* direction -> ScStatsCounters* */
  int *order;       /* scratch for ranks [E], used under the lock */
  float *order_p;
};

/* ---- counters ---------------------------------------------------------- */

ScStatsCounters *
sc_stats_counters_new (int n_layers, int n_experts)
{
  ScStatsCounters *c = g_new0 (ScStatsCounters, 1);
  gsize n = (gsize) n_layers * n_experts;
  c->n_layers = n_layers;
  c->n_experts = n_experts;
  c->tokens = g_new0 (guint64, MAX (n_layers, 1));
  c->top1 = g_new0 (guint64, MAX (n, 1));
  c->top2 = g_new0 (guint64, MAX (n, 1));
  c->gate1 = g_new0 (double, MAX (n, 1));
  c->gate2 = g_new0 (double, MAX (n, 1));
  c->prob_sum = g_new0 (double, MAX (n, 1));
  c->rank_sum = g_new0 (double, MAX (n, 1));
  c->reap_sum = g_new0 (double, MAX (n, 1));
  return c;
}

void
sc_stats_counters_free (ScStatsCounters *c)
{
  if (c == NULL)
    return;
  g_free (c->tokens);
  g_free (c->top1);
  g_free (c->top2);
  g_free (c->gate1);
  g_free (c->gate2);
  g_free (c->prob_sum);
  g_free (c->rank_sum);
  g_free (c->reap_sum);
  g_free (c);
}

ScStatsCounters *
sc_stats_counters_copy (const ScStatsCounters *c)
{
  ScStatsCounters *d = sc_stats_counters_new (c->n_layers, c->n_experts);
  sc_stats_counters_add_rows (d, c, 0, c->n_layers);
  return d;
}

void
sc_stats_counters_add_rows (ScStatsCounters *dst, const ScStatsCounters *src, int first, int last)
{
  g_return_if_fail (dst->n_layers == src->n_layers && dst->n_experts == src->n_experts);
  int E = dst->n_experts;
  first = MAX (first, 0);
  last = MIN (last, dst->n_layers);
  for (int l = first; l < last; l++)
    {
      dst->tokens[l] += src->tokens[l];
      for (gsize i = (gsize) l * E; i < (gsize) (l + 1) * E; i++)
        {
          dst->top1[i] += src->top1[i];
          dst->top2[i] += src->top2[i];
          dst->gate1[i] += src->gate1[i];
          dst->gate2[i] += src->gate2[i];
          dst->prob_sum[i] += src->prob_sum[i];
          dst->rank_sum[i] += src->rank_sum[i];
          dst->reap_sum[i] += src->reap_sum[i];
        }
    }
}

guint64
sc_stats_counters_total_tokens (const ScStatsCounters *c)
{
  guint64 t = 0;
  for (int l = 0; l < c->n_layers; l++)
    t += c->tokens[l];
  return t;
}

/* ---- stats ------------------------------------------------------------- */

ScStats *
sc_stats_new (const ScStatsShape *shape)
{
  g_return_val_if_fail (shape != NULL, NULL);
  g_return_val_if_fail (shape->n_moe_layers > 0 && shape->n_experts > 0, NULL);
  g_return_val_if_fail (shape->n_encoder_moe >= 0 && shape->n_encoder_moe <= shape->n_moe_layers,
                        NULL);
  ScStats *s = g_new0 (ScStats, 1);
  g_mutex_init (&s->lock);
  s->shape = *shape;
  s->shape.name = g_strdup (shape->name ? shape->name : "");
  s->dirs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                   (GDestroyNotify) sc_stats_counters_free);
  s->order = g_new0 (int, shape->n_experts);
  s->order_p = g_new0 (float, shape->n_experts);
  return s;
}

void
sc_stats_free (ScStats *stats)
{
  if (stats == NULL)
    return;
  g_hash_table_unref (stats->dirs);
  g_free (stats->shape.name);
  g_free (stats->order);
  g_free (stats->order_p);
  g_mutex_clear (&stats->lock);
  g_free (stats);
}

const ScStatsShape *
sc_stats_get_shape (const ScStats *stats)
{
  return &stats->shape;
}

gboolean
sc_stats_shape_equal (const ScStatsShape *a, const ScStatsShape *b, GError **error)
{
  const char *na = a->name ? a->name : "", *nb = b->name ? b->name : "";
  if (a->n_moe_layers != b->n_moe_layers || a->n_experts != b->n_experts ||
      a->n_encoder_moe != b->n_encoder_moe || a->d_model != b->d_model ||
      a->encoder_layers != b->encoder_layers || a->decoder_layers != b->decoder_layers ||
      (*na && *nb && strcmp (na, nb) != 0))
    {
      g_set_error (error, SC_STATS_ERROR, SC_STATS_ERROR_SHAPE,
                   "Statistics of different models: '%s' (%d MoE layers, %d encoder, %d experts, "
                   "d_model %d, %d+%d layers) vs '%s' (%d MoE layers, %d encoder, %d experts, "
                   "d_model %d, %d+%d layers)",
                   na, a->n_moe_layers, a->n_encoder_moe, a->n_experts, a->d_model,
                   a->encoder_layers, a->decoder_layers, nb, b->n_moe_layers, b->n_encoder_moe,
                   b->n_experts, b->d_model, b->encoder_layers, b->decoder_layers);
      return FALSE;
    }
  return TRUE;
}

gboolean
sc_stats_split_direction (const char *direction, char **src, char **tgt)
{
  const char *dash = direction ? strchr (direction, '-') : NULL;
  if (dash == NULL || dash == direction || dash[1] == '\0')
    return FALSE;
  if (src)
    *src = g_strndup (direction, dash - direction);
  if (tgt)
    *tgt = g_strdup (dash + 1);
  return TRUE;
}

static ScStatsCounters *
lookup_or_add (ScStats *s, const char *direction)
{
  ScStatsCounters *c = g_hash_table_lookup (s->dirs, direction);
  if (c == NULL)
    {
      c = sc_stats_counters_new (s->shape.n_moe_layers, s->shape.n_experts);
      g_hash_table_insert (s->dirs, g_strdup (direction), c);
    }
  return c;
}

/* Descending probability, lower expert id first on ties. */
static int
cmp_rank (const void *a, const void *b, void *data)
{
  const float *p = data;
  int i = *(const int *) a, j = *(const int *) b;
  if (p[i] > p[j])
    return -1;
  if (p[i] < p[j])
    return 1;
  return (i > j) - (i < j);
}

gboolean
sc_stats_add_tokens (ScStats *stats, const char *direction, int moe_layer, gboolean decoder,
                     int n_tokens, const float *probs, const int *top1, const int *top2,
                     const float *w1, const float *w2, const float *norm1, const float *norm2,
                     const guint8 *valid, GError **error)
{
  const ScStatsShape *sh = &stats->shape;
  int E = sh->n_experts;
  if (!sc_stats_split_direction (direction, NULL, NULL))
    {
      g_set_error (error, SC_STATS_ERROR, SC_STATS_ERROR_INVALID,
                   "Direction '%s' is not of the form src-tgt", direction ? direction : "(null)");
      return FALSE;
    }
  if (moe_layer < 0 || moe_layer >= sh->n_moe_layers)
    {
      g_set_error (error, SC_STATS_ERROR, SC_STATS_ERROR_INVALID,
                   "MoE layer %d out of range (the model has %d)", moe_layer, sh->n_moe_layers);
      return FALSE;
    }
  if ((moe_layer >= sh->n_encoder_moe) != (decoder != FALSE))
    {
      g_set_error (error, SC_STATS_ERROR, SC_STATS_ERROR_INVALID,
                   "MoE layer %d is a%s layer (the first %d MoE layers are in the encoder)",
                   moe_layer, moe_layer >= sh->n_encoder_moe ? " decoder" : "n encoder",
                   sh->n_encoder_moe);
      return FALSE;
    }
  if (n_tokens < 0 || (n_tokens > 0 && (probs == NULL || top1 == NULL)))
    {
      g_set_error (error, SC_STATS_ERROR, SC_STATS_ERROR_INVALID,
                   "Router events need probabilities and top-1 experts");
      return FALSE;
    }
  for (int t = 0; t < n_tokens; t++)
    {
      if ((valid && !valid[t]) || top1[t] < 0)
        continue;
      if (top1[t] >= E || (top2 && top2[t] >= E))
        {
          g_set_error (error, SC_STATS_ERROR, SC_STATS_ERROR_INVALID,
                       "Token %d routed to expert %d; the layer has %d experts", t,
                       top1[t] >= E ? top1[t] : top2[t], E);
          return FALSE;
        }
    }

  g_mutex_lock (&stats->lock);
  ScStatsCounters *c = lookup_or_add (stats, direction);
  gsize base = (gsize) moe_layer * E;
  for (int t = 0; t < n_tokens; t++)
    {
      if ((valid && !valid[t]) || top1[t] < 0)
        continue;
      const float *p = probs + (gsize) t * E;
      c->tokens[moe_layer]++;
      for (int e = 0; e < E; e++)
        {
          stats->order[e] = e;
          c->prob_sum[base + e] += p[e];
        }
      g_qsort_with_data (stats->order, E, sizeof (int), cmp_rank, (gpointer) p);
      for (int r = 0; r < E; r++)
        c->rank_sum[base + stats->order[r]] += r + 1;
      int e1 = top1[t];
      c->top1[base + e1]++;
      c->gate1[base + e1] += p[e1];
      if (norm1)
        c->reap_sum[base + e1] += (w1 ? w1[t] : p[e1]) * norm1[t];
      int e2 = top2 ? top2[t] : -1;
      if (e2 >= 0)
        {
          c->top2[base + e2]++;
          c->gate2[base + e2] += p[e2];
          if (norm2)
            c->reap_sum[base + e2] += (w2 ? w2[t] : p[e2]) * norm2[t];
        }
    }
  g_mutex_unlock (&stats->lock);
  return TRUE;
}

gboolean
sc_stats_merge (ScStats *dst, ScStats *src, GError **error)
{
  if (!sc_stats_shape_equal (&dst->shape, &src->shape, error))
    return FALSE;
  if (dst == src)
    {
      g_set_error (error, SC_STATS_ERROR, SC_STATS_ERROR_INVALID,
                   "Cannot merge statistics into themselves");
      return FALSE;
    }
  g_autoptr (ScStats) snap = sc_stats_snapshot (src);
  g_mutex_lock (&dst->lock);
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, snap->dirs);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      ScStatsCounters *c = lookup_or_add (dst, k);
      sc_stats_counters_add_rows (c, v, 0, c->n_layers);
    }
  if ((dst->shape.name == NULL || !*dst->shape.name) && snap->shape.name && *snap->shape.name)
    {
      g_free (dst->shape.name);
      dst->shape.name = g_strdup (snap->shape.name);
    }
  g_mutex_unlock (&dst->lock);
  return TRUE;
}

ScStats *
sc_stats_snapshot (ScStats *stats)
{
  g_mutex_lock (&stats->lock);
  ScStats *s = sc_stats_new (&stats->shape);
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, stats->dirs);
  while (g_hash_table_iter_next (&it, &k, &v))
    g_hash_table_insert (s->dirs, g_strdup (k), sc_stats_counters_copy (v));
  g_mutex_unlock (&stats->lock);
  return s;
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

char **
sc_stats_list_directions (ScStats *stats)
{
  g_mutex_lock (&stats->lock);
  guint n = 0;
  char **keys = (char **) g_hash_table_get_keys_as_array (stats->dirs, &n);
  char **out = g_new0 (char *, n + 1);
  for (guint i = 0; i < n; i++)
    out[i] = g_strdup (keys[i]);
  g_free (keys);
  g_mutex_unlock (&stats->lock);
  qsort (out, n, sizeof (char *), cmp_str);
  return out;
}

char **
sc_stats_list_languages (ScStats *stats, gboolean target)
{
  g_auto (GStrv) dirs = sc_stats_list_directions (stats);
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (char **d = dirs; *d; d++)
    {
      char *src = NULL, *tgt = NULL;
      if (!sc_stats_split_direction (*d, &src, &tgt))
        continue;
      g_hash_table_add (seen, target ? tgt : src);
      g_free (target ? src : tgt);
    }
  guint n = 0;
  char **keys = (char **) g_hash_table_get_keys_as_array (seen, &n);
  char **out = g_new0 (char *, n + 1);
  for (guint i = 0; i < n; i++)
    out[i] = g_strdup (keys[i]);
  g_free (keys);
  qsort (out, n, sizeof (char *), cmp_str);
  return out;
}

guint64
sc_stats_total_tokens (ScStats *stats)
{
  guint64 t = 0;
  g_mutex_lock (&stats->lock);
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init (&it, stats->dirs);
  while (g_hash_table_iter_next (&it, NULL, &v))
    t += sc_stats_counters_total_tokens (v);
  g_mutex_unlock (&stats->lock);
  return t;
}

typedef enum
{
  AGG_PAIR,
  AGG_SOURCE,
  AGG_TARGET,
  AGG_GLOBAL
} AggKind;

static ScStatsCounters *
aggregate (ScStats *stats, AggKind kind, const char *key, GError **error)
{
  const ScStatsShape *sh = &stats->shape;
  ScStatsCounters *out = sc_stats_counters_new (sh->n_moe_layers, sh->n_experts);
  gboolean found = FALSE;
  g_mutex_lock (&stats->lock);
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, stats->dirs);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      g_autofree char *src = NULL, *tgt = NULL;
      if (!sc_stats_split_direction (k, &src, &tgt))
        continue;
      switch (kind)
        {
        case AGG_PAIR:
          if (strcmp (k, key) == 0)
            {
              sc_stats_counters_add_rows (out, v, 0, sh->n_moe_layers);
              found = TRUE;
            }
          break;
        case AGG_SOURCE:
          if (strcmp (src, key) == 0)
            {
              sc_stats_counters_add_rows (out, v, 0, sh->n_encoder_moe);
              found = TRUE;
            }
          break;
        case AGG_TARGET:
          if (strcmp (tgt, key) == 0)
            {
              sc_stats_counters_add_rows (out, v, sh->n_encoder_moe, sh->n_moe_layers);
              found = TRUE;
            }
          break;
        case AGG_GLOBAL:
          sc_stats_counters_add_rows (out, v, 0, sh->n_moe_layers);
          found = TRUE;
          break;
        }
    }
  g_mutex_unlock (&stats->lock);
  if (!found)
    {
      static const char *what[] = { "direction", "source language", "target language", "" };
      if (kind == AGG_GLOBAL)
        g_set_error (error, SC_STATS_ERROR, SC_STATS_ERROR_NOT_FOUND, "The statistics are empty");
      else
        g_set_error (error, SC_STATS_ERROR, SC_STATS_ERROR_NOT_FOUND, "No statistics for %s '%s'",
                     what[kind], key);
      sc_stats_counters_free (out);
      return NULL;
    }
  return out;
}

ScStatsCounters *
sc_stats_get_pair (ScStats *stats, const char *direction, GError **error)
{
  return aggregate (stats, AGG_PAIR, direction, error);
}

ScStatsCounters *
sc_stats_get_source (ScStats *stats, const char *lang, GError **error)
{
  return aggregate (stats, AGG_SOURCE, lang, error);
}

ScStatsCounters *
sc_stats_get_target (ScStats *stats, const char *lang, GError **error)
{
  return aggregate (stats, AGG_TARGET, lang, error);
}

ScStatsCounters *
sc_stats_get_global (ScStats *stats, GError **error)
{
  return aggregate (stats, AGG_GLOBAL, NULL, error);
}

/* ---- JSON -------------------------------------------------------------- */

static void
put_u64_matrix (JsonBuilder *b, const char *name, const guint64 *v, int L, int E)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (int l = 0; l < L; l++)
    {
      json_builder_begin_array (b);
      for (int e = 0; e < E; e++)
        json_builder_add_int_value (b, (gint64) v[(gsize) l * E + e]);
      json_builder_end_array (b);
    }
  json_builder_end_array (b);
}

static void
put_f64_matrix (JsonBuilder *b, const char *name, const double *v, int L, int E)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (int l = 0; l < L; l++)
    {
      json_builder_begin_array (b);
      for (int e = 0; e < E; e++)
        json_builder_add_double_value (b, v[(gsize) l * E + e]);
      json_builder_end_array (b);
    }
  json_builder_end_array (b);
}

char *
sc_stats_to_json (ScStats *stats, gsize *length)
{
  g_autoptr (ScStats) s = sc_stats_snapshot (stats);
  const ScStatsShape *sh = &s->shape;
  int L = sh->n_moe_layers, E = sh->n_experts;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "schema");
  json_builder_add_string_value (b, SC_STATS_SCHEMA);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, SC_STATS_VERSION);
  json_builder_set_member_name (b, "model");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, sh->name ? sh->name : "");
  json_builder_set_member_name (b, "d_model");
  json_builder_add_int_value (b, sh->d_model);
  json_builder_set_member_name (b, "encoder_layers");
  json_builder_add_int_value (b, sh->encoder_layers);
  json_builder_set_member_name (b, "decoder_layers");
  json_builder_add_int_value (b, sh->decoder_layers);
  json_builder_set_member_name (b, "moe_layers");
  json_builder_add_int_value (b, sh->n_moe_layers);
  json_builder_set_member_name (b, "encoder_moe_layers");
  json_builder_add_int_value (b, sh->n_encoder_moe);
  json_builder_set_member_name (b, "num_experts");
  json_builder_add_int_value (b, sh->n_experts);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "directions");
  json_builder_begin_object (b);
  g_auto (GStrv) dirs = sc_stats_list_directions (s);
  for (char **d = dirs; *d; d++)
    {
      ScStatsCounters *c = g_hash_table_lookup (s->dirs, *d);
      json_builder_set_member_name (b, *d);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "tokens");
      json_builder_begin_array (b);
      for (int l = 0; l < L; l++)
        json_builder_add_int_value (b, (gint64) c->tokens[l]);
      json_builder_end_array (b);
      put_u64_matrix (b, "top1", c->top1, L, E);
      put_u64_matrix (b, "top2", c->top2, L, E);
      put_f64_matrix (b, "gate1", c->gate1, L, E);
      put_f64_matrix (b, "gate2", c->gate2, L, E);
      put_f64_matrix (b, "prob_sum", c->prob_sum, L, E);
      put_f64_matrix (b, "rank_sum", c->rank_sum, L, E);
      put_f64_matrix (b, "reap_sum", c->reap_sum, L, E);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  json_builder_end_object (b);

  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, length);
}

gboolean
sc_stats_save (ScStats *stats, const char *path, GError **error)
{
  gsize len = 0;
  g_autofree char *data = sc_stats_to_json (stats, &len);
  /* g_file_set_contents writes a temporary file and renames it. */
  return g_file_set_contents (path, data, len, error);
}

static gboolean
get_int_member (JsonObject *o, const char *name, int min, int *out, GError **error)
{
  JsonNode *n = json_object_get_member (o, name);
  if (n == NULL || json_node_get_value_type (n) != G_TYPE_INT64 || json_node_get_int (n) < min ||
      json_node_get_int (n) > 1 << 24)
    {
      g_set_error (error, SC_STATS_ERROR, SC_STATS_ERROR_INVALID,
                   "Statistics: model.%s missing or not an integer >= %d", name, min);
      return FALSE;
    }
  *out = (int) json_node_get_int (n);
  return TRUE;
}

/* A number node as double (ints accepted), or FALSE. */
static gboolean
node_number (JsonNode *n, double *out)
{
  if (n == NULL || JSON_NODE_TYPE (n) != JSON_NODE_VALUE)
    return FALSE;
  GType t = json_node_get_value_type (n);
  if (t == G_TYPE_INT64)
    *out = (double) json_node_get_int (n);
  else if (t == G_TYPE_DOUBLE)
    *out = json_node_get_double (n);
  else
    return FALSE;
  return isfinite (*out) && *out >= 0;
}

static gboolean
read_matrix (JsonObject *dir, const char *dname, const char *name, int L, int E, guint64 *u,
             double *f, GError **error)
{
  JsonNode *n = json_object_get_member (dir, name);
  JsonArray *a = n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
  if (a == NULL || (int) json_array_get_length (a) != L)
    goto bad;
  for (int l = 0; l < L; l++)
    {
      JsonNode *rn = json_array_get_element (a, l);
      JsonArray *row = JSON_NODE_HOLDS_ARRAY (rn) ? json_node_get_array (rn) : NULL;
      if (row == NULL || (int) json_array_get_length (row) != E)
        goto bad;
      for (int e = 0; e < E; e++)
        {
          JsonNode *vn = json_array_get_element (row, e);
          double v;
          if (!node_number (vn, &v))
            goto bad;
          if (u)
            {
              if (json_node_get_value_type (vn) != G_TYPE_INT64)
                goto bad;
              u[(gsize) l * E + e] = (guint64) json_node_get_int (vn);
            }
          else
            {
              f[(gsize) l * E + e] = v;
            }
        }
    }
  return TRUE;
bad:
  g_set_error (error, SC_STATS_ERROR, SC_STATS_ERROR_INVALID,
               "Statistics: directions.%s.%s must be %d rows of %d non-negative %s", dname, name, L,
               E, u ? "integers" : "numbers");
  return FALSE;
}

ScStats *
sc_stats_from_json (const char *data, gssize length, const ScStatsShape *expect, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, data, length, error))
    return NULL;
  JsonNode *root = json_parser_get_root (parser);
  JsonObject *o = root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  const char *schema = o && json_object_has_member (o, "schema") &&
                               JSON_NODE_HOLDS_VALUE (json_object_get_member (o, "schema"))
                           ? json_object_get_string_member (o, "schema")
                           : NULL;
  if (schema == NULL || strcmp (schema, SC_STATS_SCHEMA) != 0)
    {
      g_set_error (error, SC_STATS_ERROR, SC_STATS_ERROR_SCHEMA,
                   "Not a Secateur statistics file (schema is '%s', expected '%s')",
                   schema ? schema : "missing", SC_STATS_SCHEMA);
      return NULL;
    }
  JsonNode *vn = json_object_get_member (o, "version");
  if (vn == NULL || json_node_get_value_type (vn) != G_TYPE_INT64 || json_node_get_int (vn) < 1)
    {
      g_set_error (error, SC_STATS_ERROR, SC_STATS_ERROR_INVALID,
                   "Statistics: bad or missing version");
      return NULL;
    }
  if (json_node_get_int (vn) > SC_STATS_VERSION)
    {
      g_set_error (error, SC_STATS_ERROR, SC_STATS_ERROR_VERSION,
                   "Statistics file version %" G_GINT64_FORMAT " is newer than this Secateur "
                   "understands (%d); please upgrade",
                   json_node_get_int (vn), SC_STATS_VERSION);
      return NULL;
    }
  JsonNode *mn = json_object_get_member (o, "model");
  JsonObject *m = mn && JSON_NODE_HOLDS_OBJECT (mn) ? json_node_get_object (mn) : NULL;
  if (m == NULL)
    {
      g_set_error (error, SC_STATS_ERROR, SC_STATS_ERROR_INVALID, "Statistics: missing model");
      return NULL;
    }
  ScStatsShape sh = { 0 };
  if (!get_int_member (m, "d_model", 0, &sh.d_model, error) ||
      !get_int_member (m, "encoder_layers", 0, &sh.encoder_layers, error) ||
      !get_int_member (m, "decoder_layers", 0, &sh.decoder_layers, error) ||
      !get_int_member (m, "moe_layers", 1, &sh.n_moe_layers, error) ||
      !get_int_member (m, "encoder_moe_layers", 0, &sh.n_encoder_moe, error) ||
      !get_int_member (m, "num_experts", 1, &sh.n_experts, error))
    return NULL;
  if (sh.n_encoder_moe > sh.n_moe_layers || (gint64) sh.n_moe_layers * sh.n_experts > 1 << 24)
    {
      g_set_error (error, SC_STATS_ERROR, SC_STATS_ERROR_INVALID,
                   "Statistics: inconsistent model shape");
      return NULL;
    }
  JsonNode *name = json_object_get_member (m, "name");
  sh.name = (char *) (name && json_node_get_value_type (name) == G_TYPE_STRING
                          ? json_node_get_string (name)
                          : "");
  if (expect && !sc_stats_shape_equal (expect, &sh, error))
    return NULL;

  g_autoptr (ScStats) s = sc_stats_new (&sh);
  int L = sh.n_moe_layers, E = sh.n_experts;
  JsonNode *dn = json_object_get_member (o, "directions");
  JsonObject *dirs = dn && JSON_NODE_HOLDS_OBJECT (dn) ? json_node_get_object (dn) : NULL;
  if (dirs == NULL)
    {
      g_set_error (error, SC_STATS_ERROR, SC_STATS_ERROR_INVALID, "Statistics: missing directions");
      return NULL;
    }
  g_autoptr (GList) members = json_object_get_members (dirs);
  for (GList *it = members; it; it = it->next)
    {
      const char *key = it->data;
      if (!sc_stats_split_direction (key, NULL, NULL))
        {
          g_set_error (error, SC_STATS_ERROR, SC_STATS_ERROR_INVALID,
                       "Statistics: direction '%s' is not of the form src-tgt", key);
          return NULL;
        }
      JsonNode *cn = json_object_get_member (dirs, key);
      JsonObject *d = JSON_NODE_HOLDS_OBJECT (cn) ? json_node_get_object (cn) : NULL;
      JsonNode *tn = d ? json_object_get_member (d, "tokens") : NULL;
      JsonArray *tok = tn && JSON_NODE_HOLDS_ARRAY (tn) ? json_node_get_array (tn) : NULL;
      if (tok == NULL || (int) json_array_get_length (tok) != L)
        {
          g_set_error (error, SC_STATS_ERROR, SC_STATS_ERROR_INVALID,
                       "Statistics: directions.%s.tokens must list %d integers", key, L);
          return NULL;
        }
      ScStatsCounters *c = lookup_or_add (s, key);
      for (int l = 0; l < L; l++)
        {
          JsonNode *x = json_array_get_element (tok, l);
          if (JSON_NODE_TYPE (x) != JSON_NODE_VALUE ||
              json_node_get_value_type (x) != G_TYPE_INT64 || json_node_get_int (x) < 0)
            {
              g_set_error (error, SC_STATS_ERROR, SC_STATS_ERROR_INVALID,
                           "Statistics: directions.%s.tokens must list %d integers", key, L);
              return NULL;
            }
          c->tokens[l] = (guint64) json_node_get_int (x);
        }
      if (!read_matrix (d, key, "top1", L, E, c->top1, NULL, error) ||
          !read_matrix (d, key, "top2", L, E, c->top2, NULL, error) ||
          !read_matrix (d, key, "gate1", L, E, NULL, c->gate1, error) ||
          !read_matrix (d, key, "gate2", L, E, NULL, c->gate2, error) ||
          !read_matrix (d, key, "prob_sum", L, E, NULL, c->prob_sum, error) ||
          !read_matrix (d, key, "rank_sum", L, E, NULL, c->rank_sum, error) ||
          !read_matrix (d, key, "reap_sum", L, E, NULL, c->reap_sum, error))
        return NULL;
    }
  return g_steal_pointer (&s);
}

ScStats *
sc_stats_load (const char *path, const ScStatsShape *expect, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents (path, &data, &len, error))
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
