/* sc-expert-cache.h: a byte budget for expert weights.
 *
 * The 54B model is 95% experts, and a calibration run over many languages
 * touches most of them. Instead of leaving every expert's pages resident in
 * the checkpoint mapping, the cache copies an expert into memory it owns on
 * first use, tells the kernel it no longer needs the mapped pages, and
 * evicts the least recently used (or, with priorities, the least useful)
 * experts when the budget is full. The router's choices for a whole batch
 * are known before any expert runs, so a layer asks for its experts
 * together (sc_expert_cache_prefetch); experts that pruning removed are
 * never asked for, so they are never loaded.
 *
 * An expert is a handful of tensors (fc1/fc2 weight and bias). Owned copies
 * keep the checkpoint's dtype, so the budget counts stored bytes. Not
 * thread-safe by itself: the model that owns it (one per model, shared by
 * its views) takes a lock around every use.
 */
#pragma once

#include "sc-tensor.h"

G_BEGIN_DECLS

#define SC_EXPERT_MAX_TENSORS 4

typedef struct _ScExpertCache ScExpertCache;

typedef struct {
  guint64 budget;         /* bytes */
  guint64 resident;       /* bytes held now */
  guint64 peak;           /* most bytes ever held at once */
  guint64 bytes_copied;   /* from the checkpoint, over the cache's life */
  guint64 loads;          /* experts copied in */
  guint64 hits;           /* requests served without a copy */
  guint64 evictions;
  guint   n_resident;
} ScExpertCacheStats;

/* A cache for experts 0..n_experts-1 (the model numbers them
 * moe_index * num_experts + e) holding at most `budget` bytes. One expert
 * larger than the budget is still served, alone. */
ScExpertCache  *sc_expert_cache_new        (guint n_experts, guint64 budget);
void            sc_expert_cache_free       (ScExpertCache *cache);

/* Where expert `id` lives in the checkpoint: n <= SC_EXPERT_MAX_TENSORS
 * mapped tensors, which must outlive the cache. */
void            sc_expert_cache_set_source (ScExpertCache *cache, guint id,
                                            const ScTensor *const *tensors, int n);
/* The sources are read-only file mappings (checkpoint tensors): after an
 * expert is copied, its mapped pages are dropped from the process
 * (madvise MADV_DONTNEED), so the resident set holds each expert once.
 * Never set this for sources in ordinary memory. */
void            sc_expert_cache_set_drop_pages (ScExpertCache *cache, gboolean drop);
/* Bytes expert `id` takes once loaded (0 when it has no source). */
guint64         sc_expert_cache_expert_bytes (ScExpertCache *cache, guint id);

/* Frequency-aware eviction: priority[id] (e.g. how often calibration routed
 * tokens to the expert) ranks which resident expert leaves first, lowest
 * first, ties by least recent use. NULL restores plain LRU. */
void            sc_expert_cache_set_priority (ScExpertCache *cache, const double *priority);

/* Makes the `n` experts `ids` resident as far as the budget allows, loading
 * the missing ones in order and evicting only experts outside `ids`. Returns
 * how many of `ids` are resident afterwards. */
guint           sc_expert_cache_prefetch   (ScExpertCache *cache, const guint *ids, guint n);

/* The owned copies of expert `id`'s tensors, in the order given to
 * set_source, loading it (and evicting others) when absent. The pointers
 * stay valid until the next get/prefetch/free. NULL when `id` has no
 * source. */
const ScTensor *const *sc_expert_cache_get (ScExpertCache *cache, guint id);

/* Drops expert `id`'s copy, if any (its weights changed). */
void            sc_expert_cache_forget      (ScExpertCache *cache, guint id);
gboolean        sc_expert_cache_is_resident (ScExpertCache *cache, guint id);
/* Whether `id` was ever loaded (pruned experts never are). */
gboolean        sc_expert_cache_was_loaded  (ScExpertCache *cache, guint id);
void            sc_expert_cache_get_stats   (ScExpertCache *cache, ScExpertCacheStats *stats);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScExpertCache, sc_expert_cache_free)

G_END_DECLS
