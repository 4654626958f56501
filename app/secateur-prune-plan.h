/* secateur-prune-plan.h: what the pruning panel's settings mean for one
 * direction: the kept-expert mask, the experts kept per layer, the share of
 * routing mass kept, and the bytes of the pruned model. Pure functions of
 * the statistics, cheap enough to run on every slider move. */
#pragma once

#include "sc-expert-metrics.h"
#include "sc-selection.h"
#include "sc-stats.h"

G_BEGIN_DECLS

typedef struct {
  double         ratio;        /* experts pruned, in [0, 0.95] */
  ScExpertMetric metric;
  ScSelectAlgo   algo;
  ScGranularity  granularity;
  int            enc_weight;   /* encoder:decoder budget */
  int            dec_weight;
} SecateurPruneSettings;

void secateur_prune_settings_init (SecateurPruneSettings *s);

/* Kept mask [n_moe_layers * n_experts] for src -> tgt (ignored for the
 * global granularity); g_free it. */
guint8 *secateur_prune_keep_mask (ScStats *stats, const SecateurPruneSettings *s,
                                  const char *src, const char *tgt, GError **error);

/* The union of the masks of several "src-tgt" directions (one pruned model
 * serving them all). */
guint8 *secateur_prune_keep_union (ScStats *stats, const SecateurPruneSettings *s,
                                   const char *const *directions, GError **error);

/* Share of the top-1 + top-2 gate mass of `directions` (NULL: all) that
 * the kept experts receive, in [0, 1]. */
double  secateur_prune_mass_kept (ScStats *stats, const guint8 *keep,
                                  const char *const *directions);

/* Kept experts in MoE layer `layer`. */
int     secateur_prune_count_layer (const guint8 *keep, int layer, int n_experts);

G_END_DECLS
