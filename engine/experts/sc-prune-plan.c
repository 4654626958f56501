/* sc-prune-plan.c: pruning settings applied to statistics. */
#include "sc-prune-plan.h"

void
sc_prune_settings_init (ScPruneSettings *s)
{
  s->ratio = 0.5;
  s->metric = SC_EXPERT_METRIC_IMPORTANCE;
  s->algo = SC_SELECT_PER_LAYER;
  s->granularity = SC_GRANULARITY_LANG;
  s->enc_weight = 3;
  s->dec_weight = 1;
  s->merge = FALSE;
}

void
sc_prune_settings_select_options (const ScPruneSettings *s, int n_experts, ScSelectOptions *opt)
{
  sc_select_options_init (opt);
  opt->algo = s->algo;
  opt->ratio = s->ratio;
  opt->enc_weight = s->enc_weight;
  opt->dec_weight = s->dec_weight;
  /* The threshold algorithm forces min_per_layer experts; never more than a
   * layer has. */
  opt->min_per_layer = MIN (opt->min_per_layer, n_experts);
}

guint8 *
sc_prune_keep_mask (ScStats *stats, const ScPruneSettings *s, const char *src, const char *tgt,
                    GError **error)
{
  const ScStatsShape *shape = sc_stats_get_shape (stats);
  int L = shape->n_moe_layers, E = shape->n_experts;
  g_autofree double *metrics =
      sc_expert_metrics_for (stats, s->granularity, src, tgt, s->metric, error);
  if (metrics == NULL)
    return NULL;
  ScSelectOptions opt;
  sc_prune_settings_select_options (s, E, &opt);
  g_autoptr (ScSelection) sel =
      sc_select_experts (metrics, L, shape->n_encoder_moe, E, &opt, error);
  if (sel == NULL)
    return NULL;
  guint8 *keep = g_new0 (guint8, (gsize) L * E);
  for (guint i = 0; i < sel->global_ids->len; i++)
    keep[g_array_index (sel->global_ids, int, i)] = 1;
  return keep;
}

guint8 *
sc_prune_keep_union (ScStats *stats, const ScPruneSettings *s, const char *const *directions,
                     GError **error)
{
  const ScStatsShape *shape = sc_stats_get_shape (stats);
  gsize n = (gsize) shape->n_moe_layers * shape->n_experts;
  g_autofree guint8 *keep = g_new0 (guint8, n);
  for (guint d = 0; directions != NULL && directions[d] != NULL; d++)
    {
      g_autofree char *src = NULL, *tgt = NULL;
      if (!sc_stats_split_direction (directions[d], &src, &tgt))
        {
          g_set_error (error, SC_STATS_ERROR, SC_STATS_ERROR_INVALID,
                       "“%s” is not a direction (src-tgt)", directions[d]);
          return NULL;
        }
      g_autofree guint8 *one = sc_prune_keep_mask (stats, s, src, tgt, error);
      if (one == NULL)
        return NULL;
      for (gsize i = 0; i < n; i++)
        keep[i] |= one[i];
    }
  return g_steal_pointer (&keep);
}

double
sc_prune_mass_kept (ScStats *stats, const guint8 *keep, const char *const *directions)
{
  const ScStatsShape *shape = sc_stats_get_shape (stats);
  int n = shape->n_moe_layers * shape->n_experts;
  double kept = 0, total = 0;
  g_auto (GStrv) all = NULL;
  if (directions == NULL)
    directions = (const char *const *) (all = sc_stats_list_directions (stats));
  for (guint d = 0; directions[d] != NULL; d++)
    {
      g_autoptr (ScStatsCounters) c = sc_stats_get_pair (stats, directions[d], NULL);
      if (c == NULL)
        continue;
      for (int i = 0; i < n; i++)
        {
          double mass = c->gate1[i] + c->gate2[i];
          total += mass;
          if (keep[i])
            kept += mass;
        }
    }
  return total > 0 ? kept / total : 1.0;
}

int
sc_prune_count_layer (const guint8 *keep, int layer, int n_experts)
{
  int k = 0;
  for (int e = 0; e < n_experts; e++)
    k += keep[layer * n_experts + e] != 0;
  return k;
}

const char *
sc_select_algo_name (ScSelectAlgo algo)
{
  return algo == SC_SELECT_THRESHOLD ? "threshold" : "per-layer";
}

const char *
sc_granularity_name (ScGranularity granularity)
{
  switch (granularity)
    {
    case SC_GRANULARITY_GLOBAL:
      return "global";
    case SC_GRANULARITY_PAIR:
      return "pair";
    default:
      return "lang";
    }
}

JsonObject *
sc_prune_settings_to_json (const ScPruneSettings *s)
{
  JsonObject *o = json_object_new ();
  json_object_set_double_member (o, "ratio", s->ratio);
  json_object_set_string_member (o, "metric", sc_expert_metric_to_string (s->metric));
  json_object_set_string_member (o, "algorithm", sc_select_algo_name (s->algo));
  json_object_set_string_member (o, "granularity", sc_granularity_name (s->granularity));
  g_autofree char *enc_dec = g_strdup_printf ("%d:%d", s->enc_weight, s->dec_weight);
  json_object_set_string_member (o, "enc_dec", enc_dec);
  if (s->merge)
    json_object_set_boolean_member (o, "merged", TRUE);
  return o;
}
