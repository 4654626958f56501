/* sc-stats.c: per-direction gate statistics (raw additive counters) and
 * their aggregates; the file form is in sc-stats-json.c. See sc-stats.h. */
#include "sc-stats-private.h"

#include "sc-tensor.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

G_DEFINE_QUARK (sc - stats - error - quark, sc_stats_error)


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
JsonNode *
sc_stats_deep_copy (JsonNode *n)
{
  if (JSON_NODE_HOLDS_OBJECT (n))
    {
      JsonObject *o = json_node_get_object (n), *c = json_object_new ();
      g_autoptr (GList) members = json_object_get_members (o);
      for (GList *m = members; m; m = m->next)
        json_object_set_member (c, m->data, sc_stats_deep_copy (json_object_get_member (o, m->data)));
      JsonNode *out = json_node_new (JSON_NODE_OBJECT);
      json_node_take_object (out, c);
      return out;
    }
  if (JSON_NODE_HOLDS_ARRAY (n))
    {
      JsonArray *a = json_node_get_array (n), *c = json_array_new ();
      for (guint i = 0; i < json_array_get_length (a); i++)
        json_array_add_element (c, sc_stats_deep_copy (json_array_get_element (a, i)));
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
sc_stats_check_model (const ScStats *stats, const ScStatsShape *model, GError **error)
{
  ScStatsShape unnamed = *model;
  unnamed.name = NULL;
  return sc_stats_shape_equal (&unnamed, &stats->shape, error);
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

ScStatsCounters *
sc_stats_lookup_or_add (ScStats *s, const char *direction)
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
  ScStatsCounters *c = sc_stats_lookup_or_add (stats, direction);
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
      ScStatsCounters *c = sc_stats_lookup_or_add (dst, k);
      sc_stats_counters_add_rows (c, v, 0, c->n_layers);
    }
  /* the union of the data: both runs' records, dst's first */
  for (guint i = 0; i < json_array_get_length (snap->provenance); i++)
    json_array_add_element (dst->provenance,
                            sc_stats_deep_copy (json_array_get_element (snap->provenance, i)));
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
                            sc_stats_deep_copy (json_array_get_element (stats->provenance, i)));
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

void
sc_stats_add_provenance (ScStats *stats, JsonObject *record)
{
  g_return_if_fail (stats != NULL && record != NULL);
  g_mutex_lock (&stats->lock);
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (node, record);
  json_array_add_element (stats->provenance, sc_stats_deep_copy (node));
  g_mutex_unlock (&stats->lock);
}

JsonArray *
sc_stats_get_provenance (ScStats *stats)
{
  g_mutex_lock (&stats->lock);
  JsonArray *a = json_array_new ();
  for (guint i = 0; i < json_array_get_length (stats->provenance); i++)
    json_array_add_element (a, sc_stats_deep_copy (json_array_get_element (stats->provenance, i)));
  g_mutex_unlock (&stats->lock);
  return a;
}
