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

double *
sc_expert_metrics_compute (const ScStatsCounters *c, ScExpertMetric metric)
{
  int L = c->n_layers, E = c->n_experts;
  double *out = g_new0 (double, (gsize) L *E);
  if (metric == SC_EXPERT_METRIC_RANDOM)
    {
      for (gsize i = 0; i < (gsize) L * E; i++)
        out[i] = random_score (i);
      return out;
    }
  for (int l = 0; l < L; l++)
    {
      double N = (double) c->tokens[l];
      if (N <= 0)
        continue;
      for (int e = 0; e < E; e++)
        {
          gsize i = (gsize) l * E + e;
          double n1 = (double) c->top1[i], n2 = (double) c->top2[i];
          double top1 = n1 / N;
          double conf1 = n1 > 0 ? c->gate1[i] / n1 : 0;
          double mean = c->prob_sum[i] / N;
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
            case SC_EXPERT_METRIC_FREQUENCY:
              v = (n1 + n2) / N;
              break;
            case SC_EXPERT_METRIC_LOAD:
              v = top1 * mean;
              break;
            case SC_EXPERT_METRIC_REAP:
              v = n1 + n2 > 0 ? c->reap_sum[i] / (n1 + n2) : 0;
              break;
            case SC_EXPERT_METRIC_MEAN:
              v = mean;
              break;
            case SC_EXPERT_METRIC_RANDOM:
              break;
            }
          out[i] = v;
        }
    }
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

double *
sc_expert_metrics_for (ScStats *stats, ScGranularity granularity, const char *src, const char *tgt,
                       ScExpertMetric metric, GError **error)
{
  g_autoptr (ScStatsCounters) c = sc_expert_counters_for (stats, granularity, src, tgt, error);
  if (c == NULL)
    return NULL;
  return sc_expert_metrics_compute (c, metric);
}
