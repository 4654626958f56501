/* sc-stats.c: per-direction gate statistics (raw additive counters), their
 * aggregates and their JSON form. See sc-stats.h. */
#include "sc-stats.h"

#include "sc-json-write.h"
#include "sc-tensor.h"
#include "sc-json-file.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A statistics file is about 200 KB per direction for NLLB-MoE 54B; 2 GiB
 * holds thousands of directions and is read whole, so nothing larger is. */
#define SC_STATS_MAX_FILE_BYTES (2048u << 20)

G_DEFINE_QUARK (sc - stats - error - quark, sc_stats_error)

struct _ScStats
{
  GMutex lock;
  ScStatsShape shape;
  GHashTable *dirs; /* char* direction -> ScStatsCounters* */
  int *order;       /* scratch for ranks [E], used under the lock */
  float *order_p;
  JsonArray *provenance; /* JsonObject records, one per calibration run, oldest first */
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

/* json_node_copy shares objects and arrays; records cross threads (a
 * snapshot is read while calibration adds), so each ScStats owns its own. */
static JsonNode *
deep_copy (JsonNode *n)
{
  if (JSON_NODE_HOLDS_OBJECT (n))
    {
      JsonObject *o = json_node_get_object (n), *c = json_object_new ();
      g_autoptr (GList) members = json_object_get_members (o);
      for (GList *m = members; m; m = m->next)
        json_object_set_member (c, m->data, deep_copy (json_object_get_member (o, m->data)));
      JsonNode *out = json_node_new (JSON_NODE_OBJECT);
      json_node_take_object (out, c);
      return out;
    }
  if (JSON_NODE_HOLDS_ARRAY (n))
    {
      JsonArray *a = json_node_get_array (n), *c = json_array_new ();
      for (guint i = 0; i < json_array_get_length (a); i++)
        json_array_add_element (c, deep_copy (json_array_get_element (a, i)));
      JsonNode *out = json_node_new (JSON_NODE_ARRAY);
      json_node_take_array (out, c);
      return out;
    }
  return json_node_copy (n);
}

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
  s->provenance = json_array_new ();
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
  json_array_unref (stats->provenance);
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
      /* One NaN would make every counter it touches NaN, and the file
       * unwritable: refuse the event instead, before anything is added. */
      const float *p = probs + (gsize) t * E;
      float sum = 0.0f;
      for (int e = 0; e < E; e++)
        sum += p[e];
      gboolean has2 = top2 != NULL && top2[t] >= 0;
      const char *bad = NULL;
      if (!isfinite (sum))
        bad = "router probabilities";
      else if ((w1 && !isfinite (w1[t])) || (w2 && has2 && !isfinite (w2[t])))
        bad = "routing weights";
      else if ((norm1 && !isfinite (norm1[t])) || (norm2 && has2 && !isfinite (norm2[t])))
        bad = "expert output norms";
      if (bad != NULL)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_NOT_FINITE,
                       "MoE layer %d: the %s of token %d are NaN or infinite (the model's "
                       "weights or activations are not finite); no statistics added",
                       moe_layer, bad, t);
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
  /* the union of the data: both runs' records, dst's first */
  for (guint i = 0; i < json_array_get_length (snap->provenance); i++)
    json_array_add_element (dst->provenance,
                            deep_copy (json_array_get_element (snap->provenance, i)));
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
  for (guint i = 0; i < json_array_get_length (stats->provenance); i++)
    json_array_add_element (s->provenance,
                            deep_copy (json_array_get_element (stats->provenance, i)));
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
      json_array_add_element (s->provenance, deep_copy (n));
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
      if (!scan_direction (&j, lookup_or_add (s, key), key, L, E, error))
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

void
sc_stats_add_provenance (ScStats *stats, JsonObject *record)
{
  g_return_if_fail (stats != NULL && record != NULL);
  g_mutex_lock (&stats->lock);
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (node, record);
  json_array_add_element (stats->provenance, deep_copy (node));
  g_mutex_unlock (&stats->lock);
}

JsonArray *
sc_stats_get_provenance (ScStats *stats)
{
  g_mutex_lock (&stats->lock);
  JsonArray *a = json_array_new ();
  for (guint i = 0; i < json_array_get_length (stats->provenance); i++)
    json_array_add_element (a, deep_copy (json_array_get_element (stats->provenance, i)));
  g_mutex_unlock (&stats->lock);
  return a;
}
