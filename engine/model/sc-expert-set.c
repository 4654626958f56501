/* sc-expert-set.c: the kept experts as one immutable value. */
#include "sc-expert-set.h"

#include <string.h>

struct _ScExpertSet
{
  gatomicrefcount ref;
  int n_moe, n_experts;
  guint8 *keep; /* [n_moe * n_experts], 0 or 1 */
};

static ScExpertSet *
set_alloc (int n_moe_layers, int n_experts)
{
  ScExpertSet *set = g_new0 (ScExpertSet, 1);
  g_atomic_ref_count_init (&set->ref);
  set->n_moe = n_moe_layers;
  set->n_experts = n_experts;
  set->keep = g_new0 (guint8, (gsize) n_moe_layers * n_experts + 1);
  return set;
}

ScExpertSet *
sc_expert_set_new_full (int n_moe_layers, int n_experts)
{
  g_return_val_if_fail (n_moe_layers >= 0 && n_experts >= 0, NULL);
  ScExpertSet *set = set_alloc (n_moe_layers, n_experts);
  memset (set->keep, 1, (gsize) n_moe_layers * n_experts);
  return set;
}

ScExpertSet *
sc_expert_set_new_from_keep (const guint8 *keep, int n_moe_layers, int n_experts)
{
  g_return_val_if_fail (n_moe_layers >= 0 && n_experts >= 0, NULL);
  g_return_val_if_fail (keep != NULL || n_moe_layers * n_experts == 0, NULL);
  ScExpertSet *set = set_alloc (n_moe_layers, n_experts);
  for (gsize i = 0; i < (gsize) n_moe_layers * n_experts; i++)
    set->keep[i] = keep[i] != 0;
  return set;
}

ScExpertSet *
sc_expert_set_ref (ScExpertSet *set)
{
  g_return_val_if_fail (set != NULL, NULL);
  g_atomic_ref_count_inc (&set->ref);
  return set;
}

void
sc_expert_set_unref (ScExpertSet *set)
{
  if (set == NULL || !g_atomic_ref_count_dec (&set->ref))
    return;
  g_free (set->keep);
  g_free (set);
}

const guint8 *
sc_expert_set_get_keep (const ScExpertSet *set)
{
  return set->keep;
}

int
sc_expert_set_n_moe_layers (const ScExpertSet *set)
{
  return set->n_moe;
}

int
sc_expert_set_n_experts (const ScExpertSet *set)
{
  return set->n_experts;
}

gboolean
sc_expert_set_contains (const ScExpertSet *set, int layer, int expert)
{
  if (layer < 0 || layer >= set->n_moe || expert < 0 || expert >= set->n_experts)
    return FALSE;
  return set->keep[(gsize) layer * set->n_experts + expert];
}

int
sc_expert_set_n_kept (const ScExpertSet *set, int layer)
{
  g_return_val_if_fail (layer >= 0 && layer < set->n_moe, 0);
  int n = 0;
  for (int e = 0; e < set->n_experts; e++)
    n += set->keep[(gsize) layer * set->n_experts + e];
  return n;
}

int
sc_expert_set_n_kept_total (const ScExpertSet *set)
{
  int n = 0;
  for (gsize i = 0; i < (gsize) set->n_moe * set->n_experts; i++)
    n += set->keep[i];
  return n;
}

gboolean
sc_expert_set_is_full (const ScExpertSet *set)
{
  return sc_expert_set_n_kept_total (set) == set->n_moe * set->n_experts;
}

ScExpertSet *
sc_expert_set_union (const ScExpertSet *a, const ScExpertSet *b)
{
  g_return_val_if_fail (a != NULL && b != NULL, NULL);
  g_return_val_if_fail (a->n_moe == b->n_moe && a->n_experts == b->n_experts, NULL);
  ScExpertSet *set = set_alloc (a->n_moe, a->n_experts);
  for (gsize i = 0; i < (gsize) a->n_moe * a->n_experts; i++)
    set->keep[i] = a->keep[i] | b->keep[i];
  return set;
}

gboolean
sc_expert_set_equal (const ScExpertSet *a, const ScExpertSet *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  return a->n_moe == b->n_moe && a->n_experts == b->n_experts &&
         memcmp (a->keep, b->keep, (gsize) a->n_moe * a->n_experts) == 0;
}

GArray *
sc_expert_set_to_ids (const ScExpertSet *set)
{
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (int));
  for (int i = 0; i < set->n_moe * set->n_experts; i++)
    if (set->keep[i])
      g_array_append_val (ids, i);
  return ids;
}
