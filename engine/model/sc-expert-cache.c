/* sc-expert-cache.c: owned copies of experts under a byte budget, LRU or
 * priority-ranked eviction. See sc-expert-cache.h. */
#include "sc-expert-cache.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct
{
  const ScTensor *src[SC_EXPERT_MAX_TENSORS];
  int n;
  guint64 bytes;
  ScTensor copy[SC_EXPERT_MAX_TENSORS]; /* data points into `buf` while resident */
  const ScTensor *copy_ptrs[SC_EXPERT_MAX_TENSORS];
  guint8 *buf;
  guint64 last_use;
  guint64 round; /* prefetch round that protects it from eviction */
  gboolean ever_loaded;
} Entry;

struct _ScExpertCache
{
  Entry *entries;
  guint n;
  guint64 budget, resident, peak;
  guint64 clock, round;
  guint64 bytes_copied, loads, hits, evictions;
  guint n_resident;
  double *priority; /* [n] or NULL */
  gboolean drop_pages;
};

/* Expert copies are anonymous mappings of their own: unmapping gives the
 * memory back at once, where freed malloc blocks of this size would stay in
 * the heap (glibc raises its mmap threshold after the first free). */
static guint8 *
buf_alloc (guint64 bytes)
{
  void *p = mmap (NULL, MAX (bytes, 1), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

static void
buf_free (Entry *en)
{
  if (en->buf != NULL)
    munmap (en->buf, MAX (en->bytes, 1));
  en->buf = NULL;
}

ScExpertCache *
sc_expert_cache_new (guint n_experts, guint64 budget)
{
  ScExpertCache *cache = g_new0 (ScExpertCache, 1);
  cache->entries = g_new0 (Entry, MAX (n_experts, 1));
  cache->n = n_experts;
  cache->budget = budget;
  cache->round = 1;
  return cache;
}

void
sc_expert_cache_free (ScExpertCache *cache)
{
  if (cache == NULL)
    return;
  for (guint i = 0; i < cache->n; i++)
    buf_free (&cache->entries[i]);
  g_free (cache->entries);
  g_free (cache->priority);
  g_free (cache);
}

void
sc_expert_cache_set_source (ScExpertCache *cache, guint id, const ScTensor *const *tensors, int n)
{
  g_return_if_fail (id < cache->n && n >= 0 && n <= SC_EXPERT_MAX_TENSORS);
  Entry *en = &cache->entries[id];
  g_return_if_fail (en->buf == NULL);
  en->n = n;
  en->bytes = 0;
  for (int i = 0; i < n; i++)
    {
      en->src[i] = tensors[i];
      /* Each copy starts on a 64-byte boundary (SIMD loads). */
      en->bytes += (tensors[i]->nbytes + 63) & ~(guint64) 63;
    }
}

void
sc_expert_cache_set_drop_pages (ScExpertCache *cache, gboolean drop)
{
  cache->drop_pages = drop;
}

guint64
sc_expert_cache_expert_bytes (ScExpertCache *cache, guint id)
{
  g_return_val_if_fail (id < cache->n, 0);
  return cache->entries[id].bytes;
}

void
sc_expert_cache_set_priority (ScExpertCache *cache, const double *priority)
{
  g_clear_pointer (&cache->priority, g_free);
  if (priority != NULL)
    cache->priority = g_memdup2 (priority, sizeof (double) * MAX (cache->n, 1));
}

/* Drop the process's pages of a read-only file mapping: the bytes stay in
 * the page cache (a later load faults them back), but no longer count in
 * this process's resident set. Only whole pages inside the range, so a
 * neighbouring tensor's pages are left alone. */
static void
drop_mapped_pages (const void *data, guint64 nbytes)
{
  static gsize page;
  if (page == 0)
    page = (gsize) sysconf (_SC_PAGESIZE);
  guintptr start = ((guintptr) data + page - 1) & ~(guintptr) (page - 1);
  guintptr end = ((guintptr) data + nbytes) & ~(guintptr) (page - 1);
  if (end > start)
    madvise ((void *) start, end - start, MADV_DONTNEED);
}

static void
evict (ScExpertCache *cache, Entry *en)
{
  buf_free (en);
  cache->resident -= en->bytes;
  cache->n_resident--;
  cache->evictions++;
}

/* The resident expert to evict first: lowest priority, then least
 * recently used; never one protected by the current prefetch round. */
static Entry *
pick_victim (ScExpertCache *cache, gboolean spare_round)
{
  Entry *best = NULL;
  double best_p = 0.0;
  for (guint i = 0; i < cache->n; i++)
    {
      Entry *en = &cache->entries[i];
      if (en->buf == NULL || (spare_round && en->round == cache->round))
        continue;
      double p = cache->priority != NULL ? cache->priority[i] : 0.0;
      if (best == NULL || p < best_p || (p == best_p && en->last_use < best->last_use))
        best = en, best_p = p;
    }
  return best;
}

static void
load (ScExpertCache *cache, Entry *en)
{
  en->buf = buf_alloc (en->bytes);
  if (en->buf == NULL)
    g_error ("out of memory: cannot hold an expert of %" G_GUINT64_FORMAT " bytes", en->bytes);
  guint64 off = 0;
  for (int i = 0; i < en->n; i++)
    {
      const ScTensor *s = en->src[i];
      en->copy[i] = *s;
      en->copy[i].data = en->buf + off;
      memcpy (en->buf + off, s->data, s->nbytes);
      if (cache->drop_pages)
        drop_mapped_pages (s->data, s->nbytes);
      en->copy_ptrs[i] = &en->copy[i];
      off += (s->nbytes + 63) & ~(guint64) 63;
      cache->bytes_copied += s->nbytes;
    }
  en->ever_loaded = TRUE;
  cache->resident += en->bytes;
  cache->peak = MAX (cache->peak, cache->resident);
  cache->n_resident++;
  cache->loads++;
}

guint
sc_expert_cache_prefetch (ScExpertCache *cache, const guint *ids, guint n)
{
  cache->round++;
  for (guint i = 0; i < n; i++)
    if (ids[i] < cache->n)
      cache->entries[ids[i]].round = cache->round;

  guint held = 0;
  for (guint i = 0; i < n; i++)
    {
      if (ids[i] >= cache->n)
        continue;
      Entry *en = &cache->entries[ids[i]];
      if (en->n == 0)
        continue;
      if (en->buf != NULL)
        {
          held++;
          continue;
        }
      Entry *victim;
      while (cache->resident + en->bytes > cache->budget &&
             (victim = pick_victim (cache, TRUE)) != NULL)
        evict (cache, victim);
      if (cache->resident + en->bytes > cache->budget)
        break; /* the rest of this layer's experts come one by one in get */
      load (cache, en);
      en->last_use = ++cache->clock;
      held++;
    }
  return held;
}

const ScTensor *const *
sc_expert_cache_get (ScExpertCache *cache, guint id)
{
  g_return_val_if_fail (id < cache->n, NULL);
  Entry *en = &cache->entries[id];
  if (en->n == 0)
    return NULL;
  if (en->buf != NULL)
    {
      cache->hits++;
    }
  else
    {
      /* Prefer evicting outside the current layer's set; fall back to any
       * other expert, so that memory stays within the budget (or one expert). */
      Entry *victim;
      while (cache->resident + en->bytes > cache->budget &&
             ((victim = pick_victim (cache, TRUE)) != NULL ||
              (victim = pick_victim (cache, FALSE)) != NULL))
        evict (cache, victim);
      load (cache, en);
    }
  en->last_use = ++cache->clock;
  return en->copy_ptrs;
}

void
sc_expert_cache_forget (ScExpertCache *cache, guint id)
{
  if (id < cache->n && cache->entries[id].buf != NULL)
    evict (cache, &cache->entries[id]);
}

gboolean
sc_expert_cache_is_resident (ScExpertCache *cache, guint id)
{
  return id < cache->n && cache->entries[id].buf != NULL;
}

gboolean
sc_expert_cache_was_loaded (ScExpertCache *cache, guint id)
{
  return id < cache->n && cache->entries[id].ever_loaded;
}

void
sc_expert_cache_get_stats (ScExpertCache *cache, ScExpertCacheStats *stats)
{
  stats->budget = cache->budget;
  stats->resident = cache->resident;
  stats->peak = cache->peak;
  stats->bytes_copied = cache->bytes_copied;
  stats->loads = cache->loads;
  stats->hits = cache->hits;
  stats->evictions = cache->evictions;
  stats->n_resident = cache->n_resident;
}
