/* sc-expert-metrics.h: the expert metrics of language-specific expert
 * pruning (Koishekenov et al. 2023, §4.1), derived from raw gate counters,
 * and the granularity at which counters are gathered for a direction. */
#pragma once

#include "sc-stats.h"

G_BEGIN_DECLS

typedef enum {
  SC_EXPERT_METRIC_IMPORTANCE,          /* top1 x exp(conf1)  (the paper's default) */
  SC_EXPERT_METRIC_IMPORTANCE_VANILLA,  /* top1 x conf1 */
  SC_EXPERT_METRIC_TOP1,                /* top1 activity: top1 / N */
  SC_EXPERT_METRIC_TOP2,                /* top2 activity: (top1 + top2) / N */
  SC_EXPERT_METRIC_LOAD,                /* load balancing: top1 x mean */
  SC_EXPERT_METRIC_FREQUENCY,           /* (top1 + top2) / N */
  SC_EXPERT_METRIC_REAP,                /* reap_sum / (top1 + top2 count) */
  SC_EXPERT_METRIC_MEAN,                /* prob_sum / N */
  SC_EXPERT_METRIC_RANDOM,              /* a fixed pseudo-random score: the floor to beat */
} ScExpertMetric;

typedef enum {
  SC_GRANULARITY_GLOBAL,  /* all directions */
  SC_GRANULARITY_LANG,    /* encoder rows: source language; decoder rows: target language */
  SC_GRANULARITY_PAIR,    /* the direction itself when it has statistics, else as LANG */
} ScGranularity;

/* Parses "importance", "importance-vanilla", "activity"/"top1", "top2",
 * "load", "frequency", "reap", "mean", "random". */
gboolean     sc_expert_metric_from_string (const char *s, ScExpertMetric *out);
const char  *sc_expert_metric_to_string   (ScExpertMetric m);
gboolean     sc_granularity_from_string (const char *s, ScGranularity *out);

/* [n_layers x n_experts] metric values; a layer with no tokens gives 0s. */
double *sc_expert_metrics_compute (const ScStatsCounters *c, ScExpertMetric metric);

/* Counters for a direction at a granularity (src/tgt ignored for GLOBAL).
 * LANG (and PAIR without the pair's own statistics): encoder rows summed
 * over directions with source `src`, decoder rows over those with target
 * `tgt` — NAVER's get_metrics, with token-weighted rather than per-pair
 * averaging of the raw statistics. */
ScStatsCounters *sc_expert_counters_for (ScStats *stats, ScGranularity granularity,
                                         const char *src, const char *tgt, GError **error);

/* Both steps; returns [n_moe_layers x n_experts], g_free it. */
double *sc_expert_metrics_for (ScStats *stats, ScGranularity granularity, const char *src,
                               const char *tgt, ScExpertMetric metric, GError **error);

G_END_DECLS
