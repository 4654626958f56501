/* sc-selection.h: choosing which experts to keep from per-layer metrics
 * (Koishekenov et al. 2023 §4.3; NLLB-FACTS §6.5).
 *
 * Metrics are [n_layers x n_experts], encoder MoE layers first; each layer is
 * normalised to sum 1 (a layer summing to 0 counts as uniform). Two
 * algorithms:
 *  - per layer: every encoder layer keeps its top k_enc experts, every
 *    decoder layer its top k_dec (ties: lower expert id first);
 *  - threshold: force the top `min_per_layer` of every layer, then one
 *    global threshold on the per-layer cumulative sum of the remaining
 *    (sorted) metric, scanned in 0.001 steps; experts under it are added
 *    layer by layer from layer 0 until the count is reached. Optionally
 *    with separate encoder and decoder budgets.
 *
 * The budget: a pruning ratio r in [0, 1) or a memory budget in bytes
 * (dense bytes + kept experts x bytes per expert) gives K = experts to keep;
 * with an encoder:decoder weight a:b (default 3:1) the per-layer counts are
 * k_dec = b·u, k_enc = a·u with u = floor(K / (a·n_enc + b·n_dec)) (capped at
 * n_experts, at least 1). 80% of 12 x 128 gives K = 307.2, u = 12: 36 per
 * encoder layer, 12 per decoder layer, 288 in all — the paper's setting.
 * Ratio 0 (or a budget holding every expert) keeps everything. */
#pragma once

#include <glib.h>

#include "sc-expert-set.h"

G_BEGIN_DECLS

#define SC_SELECT_ERROR (sc_select_error_quark ())
typedef enum {
  SC_SELECT_ERROR_INVALID,
  SC_SELECT_ERROR_BUDGET,   /* the budget cannot be met */
} ScSelectError;
GQuark sc_select_error_quark (void);

typedef enum {
  SC_SELECT_PER_LAYER,
  SC_SELECT_THRESHOLD,
} ScSelectAlgo;

typedef struct {
  ScSelectAlgo algo;
  double   ratio;             /* pruning ratio in [0, 1) */
  guint64  memory_budget;     /* > 0: bytes for the whole model, instead of ratio */
  guint64  bytes_per_expert;  /* with memory_budget */
  guint64  dense_bytes;       /* with memory_budget: everything but the experts */
  int      keep_count;        /* > 0: experts to keep, instead of ratio and memory */
  int      enc_weight;        /* encoder:decoder budget, default 3:1 */
  int      dec_weight;
  int      min_per_layer;     /* threshold: experts forced per layer, default 4 */
  gboolean separate_enc_dec;  /* threshold: separate encoder and decoder budgets */
} ScSelectOptions;

void sc_select_options_init (ScSelectOptions *opt);

typedef struct {
  int keep_total;     /* experts kept in all */
  int enc_total;      /* of which in encoder layers */
  int enc_per_layer;  /* per-layer algorithm */
  int dec_per_layer;
} ScSelectBudget;

gboolean sc_select_budget (const ScSelectOptions *opt, int n_layers, int n_encoder_layers,
                           int n_experts, ScSelectBudget *out, GError **error);

typedef struct {
  int     n_layers, n_encoder_layers, n_experts;
  GArray **kept;        /* [n_layers] GArray of int: kept expert ids, ascending */
  GArray  *global_ids;  /* int: layer * n_experts + expert, ascending */
} ScSelection;

ScSelection *sc_select_experts (const double *metrics, int n_layers, int n_encoder_layers,
                                int n_experts, const ScSelectOptions *opt, GError **error);
/* A selection from global ids (e.g. an expert index); ids must be in range. */
ScSelection *sc_selection_new_from_ids (const int *ids, int n_ids, int n_layers,
                                        int n_encoder_layers, int n_experts, GError **error);
void         sc_selection_free (ScSelection *sel);
/* The selection's kept experts as an expert set. */
ScExpertSet *sc_selection_to_expert_set (const ScSelection *sel);
/* Memory of the selected model: dense + kept x bytes_per_expert. */
guint64      sc_selection_bytes (const ScSelection *sel, guint64 bytes_per_expert,
                                 guint64 dense_bytes);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScSelection, sc_selection_free)

G_END_DECLS
