/* sc-memory-plan.h: how much memory a model needs, from its config alone.
 *
 * No weight is read: parameter counts follow the NLLB-200 layout
 * (NLLB-FACTS.md §3), so the plan for the 54B model can be made on a
 * laptop. Activations and KV caches are f32, as the engine keeps them.
 */
#pragma once

#include "sc-config.h"
#include "sc-tensor.h"

G_BEGIN_DECLS

typedef struct {
  ScDType  weight_dtype;     /* bytes per weight: f32 4, f16/bf16 2 */
  int      batch;            /* sentences */
  int      beams;            /* decoder rows per sentence (1 = greedy) */
  int      src_len, tgt_len; /* tokens */
  gboolean teacher_forcing;  /* logits for every target position, not the last only */
  /* Kept experts per MoE layer (encoder MoE layers first), NULL: all. */
  const int *kept_per_layer;
  /* Bytes for the expert cache; 0: every kept expert resident. */
  guint64  expert_budget;
  /* Set aside on the device (CUDA context, cuBLAS workspace). */
  guint64  reserve;
} ScMemoryPlanOptions;

typedef struct {
  guint64 dense_params;       /* embeddings, attention, norms, dense FFNs, routers */
  guint64 expert_params;      /* one expert (fc1 + fc2 with biases) */
  guint64 all_expert_params;  /* every expert of the full model */
  guint64 kept_expert_params; /* the kept ones (all of them when not pruned) */
  int     n_moe_layers;
  int     n_experts;          /* in the full model */
  int     n_kept;             /* kept experts, all layers */

  guint64 dense_bytes;
  guint64 expert_bytes;       /* one expert */
  guint64 kept_expert_bytes;  /* every kept expert */
  guint64 expert_cache_bytes; /* what the experts occupy: the budget or all kept */
  guint64 kv_cache_bytes;     /* decoder self-attention + cross-attention K and V */
  guint64 activation_bytes;   /* peak working buffers of one forward pass */
  guint64 reserve_bytes;
  guint64 total_bytes;        /* everything above */
} ScMemoryPlan;

void     sc_memory_plan_options_init (ScMemoryPlanOptions *opts);
void     sc_memory_plan_compute      (const ScConfig *config, const ScMemoryPlanOptions *opts,
                                      ScMemoryPlan *plan);
gboolean sc_memory_plan_fits         (const ScMemoryPlan *plan, guint64 device_bytes);
/* The largest batch (at most max_batch) whose plan fits in device_bytes;
 * 0 when not even one sentence fits. */
int      sc_memory_plan_max_batch    (const ScConfig *config, const ScMemoryPlanOptions *opts,
                                      guint64 device_bytes, int max_batch);

G_END_DECLS
