/* sc-expert-metrics.c: metrics per MoE layer x expert from gate counters.
 * See sc-expert-metrics.h and NLLB-FACTS §6.2–6.3. */
#include "sc-expert-metrics.h"

#include <math.h>
#include <string.h>

static const struct
{
  const char *name;
  ScExpertMetric metric;
} metric_names[] = {
  { "importance", SC_EXPERT_METRIC_IMPORTANCE },
  { "importance-vanilla", SC_EXPERT_METRIC_IMPORTANCE_VANILLA },
  { "activity", SC_EXPERT_METRIC_TOP1 },
  { "top1", SC_EXPERT_METRIC_TOP1 },
  { "top2", SC_EXPERT_METRIC_TOP2 },
  { "top1+top2", SC_EXPERT_METRIC_TOP1_TOP2 },
  { "conf1", SC_EXPERT_METRIC_CONF1 },
  { "conf2", SC_EXPERT_METRIC_CONF2 },
  { "rank", SC_EXPERT_METRIC_RANK },
  { "load", SC_EXPERT_METRIC_LOAD },
  { "frequency", SC_EXPERT_METRIC_FREQUENCY },
  { "reap", SC_EXPERT_METRIC_REAP },
  { "mean", SC_EXPERT_METRIC_MEAN },
  { "random", SC_EXPERT_METRIC_RANDOM },
};

/* splitmix64 of the expert's index: the same "random" experts in every run,
 * so random pruning is a reproducible baseline rather than a new draw. */
static double
random_score (guint64 i)
{
  guint64 z = i + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return (double) (z >> 11) / 9007199254740992.0;
}

gboolean
sc_expert_metric_from_string (const char *s, ScExpertMetric *out)
{
  for (gsize i = 0; s && i < G_N_ELEMENTS (metric_names); i++)
    if (strcmp (s, metric_names[i].name) == 0)
      {
        *out = metric_names[i].metric;
        return TRUE;
      }
  return FALSE;
}

const char *
sc_expert_metric_to_string (ScExpertMetric m)
{
  for (gsize i = 0; i < G_N_ELEMENTS (metric_names); i++)
    if (metric_names[i].metric == m)
      return metric_names[i].name;
  return "unknown";
}

gboolean
sc_granularity_from_string (const char *s, ScGranularity *out)
{
  if (g_strcmp0 (s, "global") == 0)
    *out = SC_GRANULARITY_GLOBAL;
  else if (g_strcmp0 (s, "lang") == 0 || g_strcmp0 (s, "language") == 0)
    *out = SC_GRANULARITY_LANG;
  else if (g_strcmp0 (s, "pair") == 0)
    *out = SC_GRANULARITY_PAIR;
  else
    return FALSE;
  return TRUE;
}

gboolean
sc_aggregate_from_string (const char *s, ScAggregate *out)
{
  if (g_strcmp0 (s, "pool") == 0)
    *out = SC_AGGREGATE_POOL;
  else if (g_strcmp0 (s, "mean") == 0)
    *out = SC_AGGREGATE_MEAN;
  else
    return FALSE;
  return TRUE;
}

/* The per-expert statistics every metric is made of (NLLB-FACTS §6.1),
 * [L*E] each; `seen[l]` says whether layer l had tokens. */
enum
{
  B_TOP1,
  B_TOP2,
  B_CONF1,
  B_CONF2,
  B_MEAN,
  B_RANK,
  B_REAP,
  N_BASE
};

typedef struct
{
  int L, E;
  double *v[N_BASE];
  gboolean *seen;
} Base;

static void
base_init (Base *b, int L, int E)
{
  b->L = L;
  b->E = E;
  for (int k = 0; k < N_BASE; k++)
    b->v[k] = g_new0 (double, (gsize) L *E);
  b->seen = g_new0 (gboolean, L);
}

static void
base_clear (Base *b)
{
  for (int k = 0; k < N_BASE; k++)
    g_free (b->v[k]);
  g_free (b->seen);
}

/* The statistics of counters `c`, rows [first, last) only. */
static void
base_from_counters (Base *b, const ScStatsCounters *c, int first, int last)
{
  int E = c->n_experts;
  for (int l = first; l < last; l++)
    {
      double N = (double) c->tokens[l];
      b->seen[l] = N > 0;
      for (int e = 0; e < E; e++)
        {
          gsize i = (gsize) l * E + e;
          double n1 = (double) c->top1[i], n2 = (double) c->top2[i];
          b->v[B_TOP1][i] = N > 0 ? n1 / N : 0;
          b->v[B_TOP2][i] = N > 0 ? n2 / N : 0;
          b->v[B_CONF1][i] = n1 > 0 ? c->gate1[i] / n1 : 0;
          b->v[B_CONF2][i] = n2 > 0 ? c->gate2[i] / n2 : 0;
          b->v[B_MEAN][i] = N > 0 ? c->prob_sum[i] / N : 0;
          b->v[B_RANK][i] = N > 0 ? c->rank_sum[i] / N : 0;
          b->v[B_REAP][i] = n1 + n2 > 0 ? c->reap_sum[i] / (n1 + n2) : 0;
        }
    }
}

static double *
metrics_from_base (const Base *b, ScExpertMetric metric)
{
  int L = b->L, E = b->E;
  double *out = g_new0 (double, (gsize) L *E);
  if (metric == SC_EXPERT_METRIC_RANDOM)
    {
      for (gsize i = 0; i < (gsize) L * E; i++)
        out[i] = random_score (i);
      return out;
    }
  for (int l = 0; l < L; l++)
    {
      if (!b->seen[l])
        continue;
      for (int e = 0; e < E; e++)
        {
          gsize i = (gsize) l * E + e;
          double top1 = b->v[B_TOP1][i], top2 = b->v[B_TOP2][i], conf1 = b->v[B_CONF1][i];
          double v = 0;
          switch (metric)
            {
            case SC_EXPERT_METRIC_IMPORTANCE:
              v = top1 * exp (conf1);
              break;
            case SC_EXPERT_METRIC_IMPORTANCE_VANILLA:
              v = top1 * conf1;
              break;
            case SC_EXPERT_METRIC_TOP1:
              v = top1;
              break;
            case SC_EXPERT_METRIC_TOP2:
              v = top2;
              break;
            case SC_EXPERT_METRIC_TOP1_TOP2:
            case SC_EXPERT_METRIC_FREQUENCY:
              v = top1 + top2;
              break;
            case SC_EXPERT_METRIC_LOAD:
              v = top1 * b->v[B_MEAN][i];
              break;
            case SC_EXPERT_METRIC_REAP:
              v = b->v[B_REAP][i];
              break;
            case SC_EXPERT_METRIC_MEAN:
              v = b->v[B_MEAN][i];
              break;
            case SC_EXPERT_METRIC_CONF1:
              v = conf1;
              break;
            case SC_EXPERT_METRIC_CONF2:
              v = b->v[B_CONF2][i];
              break;
            case SC_EXPERT_METRIC_RANK:
              v = E + 1 - b->v[B_RANK][i];
              break;
            case SC_EXPERT_METRIC_RANDOM:
              break;
            }
          out[i] = v;
        }
    }
  return out;
}

double *
sc_expert_metrics_compute (const ScStatsCounters *c, ScExpertMetric metric)
{
  Base b;
  base_init (&b, c->n_layers, c->n_experts);
  base_from_counters (&b, c, 0, c->n_layers);
  double *out = metrics_from_base (&b, metric);
  base_clear (&b);
  return out;
}

ScStatsCounters *
sc_expert_counters_for (ScStats *stats, ScGranularity granularity, const char *src, const char *tgt,
                        GError **error)
{
  const ScStatsShape *sh = sc_stats_get_shape (stats);
  if (granularity == SC_GRANULARITY_GLOBAL)
    return sc_stats_get_global (stats, error);
  if (src == NULL || tgt == NULL)
    {
      g_set_error (error, SC_STATS_ERROR, SC_STATS_ERROR_INVALID,
                   "Language-specific metrics need a source and a target language");
      return NULL;
    }
  if (granularity == SC_GRANULARITY_PAIR)
    {
      g_autofree char *pair = g_strdup_printf ("%s-%s", src, tgt);
      ScStatsCounters *c = sc_stats_get_pair (stats, pair, NULL);
      if (c)
        return c;
    }
  g_autoptr (ScStatsCounters) enc = NULL;
  g_autoptr (ScStatsCounters) dec = NULL;
  if (sh->n_encoder_moe > 0 && !(enc = sc_stats_get_source (stats, src, error)))
    return NULL;
  if (sh->n_encoder_moe < sh->n_moe_layers && !(dec = sc_stats_get_target (stats, tgt, error)))
    return NULL;
  ScStatsCounters *out = sc_stats_counters_new (sh->n_moe_layers, sh->n_experts);
  if (enc)
    sc_stats_counters_add_rows (out, enc, 0, sh->n_encoder_moe);
  if (dec)
    sc_stats_counters_add_rows (out, dec, sh->n_encoder_moe, sh->n_moe_layers);
  return out;
}

/* SC_AGGREGATE_MEAN: rows [first, last) of `sum` = the statistics of the
 * directions from `src` into `tgt` (NULL: any language), averaged per layer
 * over the directions that had tokens there. */
static gboolean
mean_rows (ScStats *stats, const char *src, const char *tgt, int first, int last, Base *sum,
           GError **error)
{
  const ScStatsShape *sh = sc_stats_get_shape (stats);
  g_auto (GStrv) dirs = sc_stats_list_directions (stats);
  g_autofree int *count = g_new0 (int, sh->n_moe_layers);
  gboolean any = FALSE;
  for (char **d = dirs; *d; d++)
    {
      g_autofree char *s = NULL, *t = NULL;
      if (!sc_stats_split_direction (*d, &s, &t) || (src && strcmp (s, src) != 0) ||
          (tgt && strcmp (t, tgt) != 0))
        continue;
      g_autoptr (ScStatsCounters) c = sc_stats_get_pair (stats, *d, NULL);
      if (c == NULL)
        continue;
      any = TRUE;
      Base one;
      base_init (&one, sh->n_moe_layers, sh->n_experts);
      base_from_counters (&one, c, first, last);
      for (int l = first; l < last; l++)
        {
          if (!one.seen[l])
            continue;
          count[l]++;
          for (int k = 0; k < N_BASE; k++)
            for (int e = 0; e < sh->n_experts; e++)
              sum->v[k][(gsize) l * sh->n_experts + e] += one.v[k][(gsize) l * sh->n_experts + e];
        }
      base_clear (&one);
    }
  if (!any)
    {
      if (src == NULL && tgt == NULL)
        g_set_error (error, SC_STATS_ERROR, SC_STATS_ERROR_NOT_FOUND, "The statistics are empty");
      else
        g_set_error (error, SC_STATS_ERROR, SC_STATS_ERROR_NOT_FOUND,
                     "No statistics for %s language '%s'", src ? "source" : "target",
                     src ? src : tgt);
      return FALSE;
    }
  for (int l = first; l < last; l++)
    {
      sum->seen[l] = count[l] > 0;
      for (int k = 0; k < N_BASE && count[l] > 0; k++)
        for (int e = 0; e < sh->n_experts; e++)
          sum->v[k][(gsize) l * sh->n_experts + e] /= count[l];
    }
  return TRUE;
}

double *
sc_expert_metrics_for_aggregate (ScStats *stats, ScGranularity granularity, const char *src,
                                 const char *tgt, ScExpertMetric metric, ScAggregate aggregate,
                                 GError **error)
{
  if (aggregate == SC_AGGREGATE_POOL)
    return sc_expert_metrics_for (stats, granularity, src, tgt, metric, error);
  const ScStatsShape *sh = sc_stats_get_shape (stats);
  if (granularity != SC_GRANULARITY_GLOBAL && (src == NULL || tgt == NULL))
    {
      g_set_error (error, SC_STATS_ERROR, SC_STATS_ERROR_INVALID,
                   "Language-specific metrics need a source and a target language");
      return NULL;
    }
  if (granularity == SC_GRANULARITY_PAIR)
    {
      /* a direction's own statistics need no aggregation */
      g_autofree char *pair = g_strdup_printf ("%s-%s", src, tgt);
      g_autoptr (ScStatsCounters) c = sc_stats_get_pair (stats, pair, NULL);
      if (c)
        return sc_expert_metrics_compute (c, metric);
    }
  Base b;
  base_init (&b, sh->n_moe_layers, sh->n_experts);
  gboolean ok;
  if (granularity == SC_GRANULARITY_GLOBAL)
    ok = mean_rows (stats, NULL, NULL, 0, sh->n_moe_layers, &b, error);
  else
    ok =
        (sh->n_encoder_moe == 0 || mean_rows (stats, src, NULL, 0, sh->n_encoder_moe, &b, error)) &&
        (sh->n_encoder_moe == sh->n_moe_layers ||
         mean_rows (stats, NULL, tgt, sh->n_encoder_moe, sh->n_moe_layers, &b, error));
  double *out = ok ? metrics_from_base (&b, metric) : NULL;
  base_clear (&b);
  return out;
}

double *
sc_expert_metrics_for (ScStats *stats, ScGranularity granularity, const char *src, const char *tgt,
                       ScExpertMetric metric, GError **error)
{
  g_autoptr (ScStatsCounters) c = sc_expert_counters_for (stats, granularity, src, tgt, error);
  if (c == NULL)
    return NULL;
  return sc_expert_metrics_compute (c, metric);
}
