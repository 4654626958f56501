/* sc-expert-metrics.h: the expert metrics of language-specific expert
 * pruning (Koishekenov et al. 2023, §4.1), derived from raw gate counters,
 * and the granularity at which counters are gathered for a direction. */
#pragma once

#include "sc-stats.h"

G_BEGIN_DECLS

/* With N a layer's tokens, the authors' per-expert statistics (pasero's
 * gather_gate_stats, NLLB-FACTS §6.1) are top1 = n1/N, top2 = n2/N (ranked
 * exactly 2nd), conf1 = gate1/n1, conf2 = gate2/n2 (0 when never), mean =
 * prob_sum/N and rank = rank_sum/N; the metrics combine them. Names as in
 * nllb_pruning.py's get_metrics where it has them. */
typedef enum {
  SC_EXPERT_METRIC_IMPORTANCE,          /* top1 x exp(conf1)  (the paper's default) */
  SC_EXPERT_METRIC_IMPORTANCE_VANILLA,  /* top1 x conf1 */
  SC_EXPERT_METRIC_TOP1,                /* top1 activity: top1 (also "activity") */
  SC_EXPERT_METRIC_TOP2,                /* top2: ranked exactly 2nd (theirs; not the paper's
                                         * "Top 2 activity", which is TOP1_TOP2) */
  SC_EXPERT_METRIC_LOAD,                /* load balancing: top1 x mean */
  SC_EXPERT_METRIC_FREQUENCY,           /* top1 + top2 (the heatmap's name) */
  SC_EXPERT_METRIC_REAP,                /* reap_sum / (top1 + top2 count) */
  SC_EXPERT_METRIC_MEAN,                /* mean router probability */
  SC_EXPERT_METRIC_RANDOM,              /* a fixed pseudo-random score: the floor to beat */
  SC_EXPERT_METRIC_TOP1_TOP2,           /* top1 + top2: the paper's "Top 2 activity" */
  SC_EXPERT_METRIC_CONF1,               /* conf1 */
  SC_EXPERT_METRIC_CONF2,               /* conf2 */
  SC_EXPERT_METRIC_RANK,                /* n_experts + 1 - rank: theirs is the mean rank, lower
                                         * better; turned so that, as for every metric, the
                                         * higher values are kept */
} ScExpertMetric;

typedef enum {
  SC_GRANULARITY_GLOBAL,  /* all directions */
  SC_GRANULARITY_LANG,    /* encoder rows: source language; decoder rows: target language */
  SC_GRANULARITY_PAIR,    /* the direction itself when it has statistics, else as LANG */
} ScGranularity;

/* Language-level statistics from per-direction ones (LANG, and PAIR
 * without the pair's own statistics; GLOBAL: over all directions):
 *  - POOL: the counters summed, then the statistics (token-weighted);
 *  - MEAN: the statistics of each direction, averaged with equal weight per
 *    direction, then the metric — nllb_pruning.py's get_metrics when a
 *    direction has no statistics of its own (importance = mean top1 x
 *    exp(mean conf1)). Directions without tokens in a layer do not count
 *    for that layer. */
typedef enum {
  SC_AGGREGATE_POOL,
  SC_AGGREGATE_MEAN,
} ScAggregate;

/* Parses "importance", "importance-vanilla", "activity"/"top1", "top2",
 * "top1+top2", "conf1", "conf2", "rank", "load", "frequency", "reap",
 * "mean", "random". */
gboolean     sc_expert_metric_from_string (const char *s, ScExpertMetric *out);
const char  *sc_expert_metric_to_string   (ScExpertMetric m);
gboolean     sc_granularity_from_string (const char *s, ScGranularity *out);
/* "pool" or "mean". */
gboolean     sc_aggregate_from_string   (const char *s, ScAggregate *out);

/* [n_layers x n_experts] metric values; a layer with no tokens gives 0s. */
double *sc_expert_metrics_compute (const ScStatsCounters *c, ScExpertMetric metric);

/* Counters for a direction at a granularity (src/tgt ignored for GLOBAL).
 * LANG (and PAIR without the pair's own statistics): encoder rows summed
 * over directions with source `src`, decoder rows over those with target
 * `tgt` (SC_AGGREGATE_POOL). */
ScStatsCounters *sc_expert_counters_for (ScStats *stats, ScGranularity granularity,
                                         const char *src, const char *tgt, GError **error);

/* Both steps, pooling; returns [n_moe_layers x n_experts], g_free it. */
double *sc_expert_metrics_for (ScStats *stats, ScGranularity granularity, const char *src,
                               const char *tgt, ScExpertMetric metric, GError **error);
/* The same with a choice of aggregation. */
double *sc_expert_metrics_for_aggregate (ScStats *stats, ScGranularity granularity,
                                         const char *src, const char *tgt, ScExpertMetric metric,
                                         ScAggregate aggregate, GError **error);

G_END_DECLS
