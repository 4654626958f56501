/* sc-expert-set.h: which experts a run keeps.
 *
 * One immutable, reference-counted value: per MoE layer (encoder MoE
 * layers first, the order the model numbers them) the kept expert ids.
 * Views (sc-view.h) run the model restricted to a set; conversions from a
 * selection, an expert index or a keep file live beside those (the experts
 * code), so every form of "the kept experts" meets here.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _ScExpertSet ScExpertSet;

/* Every expert of every layer. */
ScExpertSet  *sc_expert_set_new_full      (int n_moe_layers, int n_experts);
/* keep[m * n_experts + e] != 0: expert e of MoE layer m stays (copied). */
ScExpertSet  *sc_expert_set_new_from_keep (const guint8 *keep, int n_moe_layers, int n_experts);
ScExpertSet  *sc_expert_set_ref           (ScExpertSet *set);
void          sc_expert_set_unref         (ScExpertSet *set);

/* [n_moe_layers * n_experts], 1 for kept experts; valid while the set is. */
const guint8 *sc_expert_set_get_keep      (const ScExpertSet *set);
int           sc_expert_set_n_moe_layers  (const ScExpertSet *set);
int           sc_expert_set_n_experts     (const ScExpertSet *set);
gboolean      sc_expert_set_contains      (const ScExpertSet *set, int layer, int expert);
int           sc_expert_set_n_kept        (const ScExpertSet *set, int layer);
int           sc_expert_set_n_kept_total  (const ScExpertSet *set);
gboolean      sc_expert_set_is_full       (const ScExpertSet *set);
/* Experts kept by either (both must have the same shape; NULL otherwise). */
ScExpertSet  *sc_expert_set_union         (const ScExpertSet *a, const ScExpertSet *b);
/* Same shape and same experts; two NULLs are equal. */
gboolean      sc_expert_set_equal         (const ScExpertSet *a, const ScExpertSet *b);
/* Kept global ids (layer * n_experts + expert), ascending: GArray of int. */
GArray       *sc_expert_set_to_ids        (const ScExpertSet *set);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScExpertSet, sc_expert_set_unref)

G_END_DECLS
