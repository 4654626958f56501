/* sc-prune-plan.h: the pruning settings and their one set of defaults,
 * shared by the application's panel, `secateur-cli select` and `demo`, and
 * what they mean for one direction: the kept-expert mask, the experts kept
 * per layer and the share of routing mass kept. Pure functions of the
 * statistics, cheap enough to run on every slider move. */
#pragma once

#include "sc-expert-metrics.h"
#include "sc-selection.h"
#include "sc-stats.h"

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct {
  double         ratio;        /* experts pruned, in [0, 1) (sc_select_budget's rule) */
  ScExpertMetric metric;
  ScSelectAlgo   algo;
  ScGranularity  granularity;
  int            enc_weight;   /* encoder:decoder budget */
  int            dec_weight;
  /* fold each direction's pruned experts into kept ones (sc-merge.h) on
   * captured router inputs, instead of dropping them */
  gboolean       merge;
} ScPruneSettings;

/* The defaults: half the experts pruned, importance, per layer, per
 * language (the paper's method: encoder rows from the source language's
 * statistics, decoder rows from the target's), encoder:decoder 3:1, no
 * merging. */
void sc_prune_settings_init (ScPruneSettings *s);

/* The selection options the settings give for a model of `n_experts` per
 * layer (sc_select_options_init's otherwise). */
void sc_prune_settings_select_options (const ScPruneSettings *s, int n_experts,
                                       ScSelectOptions *opt);

/* Kept mask [n_moe_layers * n_experts] for src -> tgt (ignored for the
 * global granularity); g_free it. */
guint8 *sc_prune_keep_mask (ScStats *stats, const ScPruneSettings *s, const char *src,
                            const char *tgt, GError **error);

/* The union of the masks of several "src-tgt" directions (one pruned model
 * serving them all). */
guint8 *sc_prune_keep_union (ScStats *stats, const ScPruneSettings *s,
                             const char *const *directions, GError **error);

/* Share of the top-1 + top-2 gate mass of `directions` (NULL: all) that
 * the kept experts receive, in [0, 1]. */
double  sc_prune_mass_kept (ScStats *stats, const guint8 *keep, const char *const *directions);

/* Kept experts in MoE layer `layer`. */
int     sc_prune_count_layer (const guint8 *keep, int layer, int n_experts);

/* The names the files use: "per-layer" / "threshold"; "global" / "lang" /
 * "pair". */
const char *sc_select_algo_name (ScSelectAlgo algo);
const char *sc_granularity_name (ScGranularity granularity);
/* The settings as the records of exports, indexes and projects write them:
 * ratio, metric, algorithm, granularity, enc_dec ("3:1") and, when set,
 * "merged": true. */
JsonObject *sc_prune_settings_to_json (const ScPruneSettings *s);

G_END_DECLS
