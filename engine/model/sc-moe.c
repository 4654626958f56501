/* sc-moe.c: the NLLB-MoE feed-forward block: routing and expert dispatch,
 * reading each expert's tensors from the view's table (sc-view.c). */
#include "sc-model-private.h"

#include <math.h>
#include <string.h>

/* Router logits over all E experts. A pruned checkpoint's router has a row
 * per kept expert only: its logits are spread over all experts and the
 * absent ones take no part (-inf), as masked evaluation does. */
static void
router_logits (ScModel *model, const Layer *L, const float *h, int n, float *logits)
{
  int E = model->config->num_experts, d = model->config->d_model;
  if (L->row_expert == NULL)
    {
      model->be->linear (model->be, h, n, d, L->router, NULL, logits);
      return;
    }
  g_autofree float *rows_out = g_new (float, (gsize) n * L->n_rows);
  model->be->linear (model->be, h, n, d, L->router, NULL, rows_out);
  for (int t = 0; t < n; t++)
    {
      for (int e = 0; e < E; e++)
        logits[(gsize) t * E + e] = -INFINITY;
      for (int r = 0; r < L->n_rows; r++)
        logits[(gsize) t * E + L->row_expert[r]] = rows_out[(gsize) t * L->n_rows + r];
    }
}

/* The weights an expert runs on: the table's, or, for the checkpoint's own
 * under a budget, the cache's copies (the caller holds the cache lock;
 * they stay valid until the next request). */
static const Ffn *
expert_weights (ScModel *model, const ScExpertRef *r, guint id, Ffn *owned)
{
  if (model->cache == NULL || !r->cached)
    return &r->ffn;
  if (sc_expert_cache_expert_bytes (model->cache, id) == 0)
    {
      const ScTensor *src[] = { r->ffn.fc1.w, r->ffn.fc1.b, r->ffn.fc2.w, r->ffn.fc2.b };
      sc_expert_cache_set_source (model->cache, id, src, 4);
    }
  const ScTensor *const *t = sc_expert_cache_get (model->cache, id);
  *owned = r->ffn;
  owned->fc1.w = t[0], owned->fc1.b = t[1], owned->fc2.w = t[2], owned->fc2.b = t[3];
  return owned;
}

/* The NLLB-MoE block at eval (NLLB-FACTS §2.6): f32 router softmax, top-1 by
 * probability, top-2 by logit among the rest, weights p/(p1+p2) clamped at
 * FLT_EPSILON, every expert output scaled by (1 - moe_token_dropout), padding
 * tokens routed nowhere (output 0). Capacity at eval equals the token count,
 * so no token is dropped and routing is per token. Outputs are summed in
 * ascending expert order, as Hugging Face does. */
static gboolean
moe_forward (ScView *view, const Layer *L, gboolean decoder, int layer, const float *h, int n,
             const guint8 *valid, const int *rows, float *out, GError **error)
{
  ScModel *model = view->model;
  ScBackend *be = model->be;
  const ScConfig *c = model->config;
  int E = c->num_experts, d = c->d_model;
  const ScExpertRef *table = view->table + (gsize) L->moe_index * E;
  g_autofree float *logits = g_new (float, (gsize) n *E);
  g_autofree float *probs = g_new (float, (gsize) n *E);
  g_autofree int *top1 = g_new (int, n);
  g_autofree int *top2 = g_new (int, n);
  g_autofree float *w1 = g_new (float, n);
  g_autofree float *w2 = g_new (float, n);

  router_logits (model, L, h, n, logits);

  /* A NaN here would pick experts at random and spread into every later
   * layer; -inf only marks experts absent from a pruned checkpoint. */
  for (gsize i = 0; i < (gsize) n * E; i++)
    if (!(logits[i] < INFINITY))
      {
        g_autofree char *what =
            g_strdup_printf ("the router of %s layer %d, %s, gave NaN or infinite logits",
                             decoder ? "decoder" : "encoder", layer, L->router->name);
        return sc_run_nonfinite_error (view, error, what);
      }

  /* Pruned experts leave the softmax: a logit of -inf is the same as
   * removing the router row, and their weights are never read. A pruned
   * checkpoint's absent experts are pruned the same way (a view's set keeps
   * only present ones), so the second choice is never an absent expert: a
   * layer left with one expert sends every token to it with weight 1, as
   * masked evaluation does and as Hugging Face computes for a one-expert
   * router (its second pick repeats the first; the two weights add to 1). */
  const guint8 *keep = view->keep != NULL ? view->keep + (gsize) L->moe_index * E : L->row_keep;
  if (keep != NULL)
    for (int t = 0; t < n; t++)
      for (int e = 0; e < E; e++)
        if (!keep[e])
          logits[(gsize) t * E + e] = -INFINITY;

  /* Softmax, top-2 and gate weights are a backend kernel (sc-cpu.c holds
   * the reference, CUDA its copy). */
  be->router_top2 (be, logits, n, E, keep, valid, probs, top1, top2, w1, w2);

  memset (out, 0, sizeof (float) * (gsize) n * d);
  float eom = (float) (1.0 - c->moe_token_dropout); /* expert-output masking at eval */
  g_autofree int *idx = g_new (int, n);
  g_autofree float *wt = g_new (float, n);
  g_autofree float *xin = g_new (float, (gsize) n *d);
  g_autofree float *yout = g_new (float, (gsize) n *d);
  g_autofree float *norm1 = g_new0 (float, n);
  g_autofree float *norm2 = g_new0 (float, n);
  gboolean want_norms = view->router_observer != NULL;
  g_autofree guint8 *used = g_new0 (guint8, E);
  for (int t = 0; t < n; t++)
    {
      if (top1[t] >= 0)
        used[top1[t]] = 1;
      if (top2[t] >= 0)
        used[top2[t]] = 1;
    }

  /* The cache is the whole process's: its copies are valid only until the
   * next request, so the layer holds it while its experts run. */
  gboolean budget = model->cache != NULL;
  if (budget)
    g_mutex_lock (&model->cache_lock);
  budget = model->cache != NULL;
  if (budget)
    {
      /* The whole batch's routing is known: ask for the layer's experts
       * together, in the order they run. */
      g_autofree guint *need = g_new (guint, E);
      guint n_need = 0;
      for (int e = 0; e < E; e++)
        if (used[e] && table[e].cached)
          need[n_need++] = (guint) (L->moe_index * E + e);
      sc_expert_cache_prefetch (model->cache, need, n_need);
    }
  else if (be->prefetch != NULL)
    {
      /* A device backend starts uploading the chosen experts now. */
      g_autoptr (GPtrArray) ts = g_ptr_array_new ();
      for (int e = 0; e < E; e++)
        if (used[e] && table[e].present)
          {
            g_ptr_array_add (ts, (gpointer) table[e].ffn.fc1.w);
            g_ptr_array_add (ts, (gpointer) table[e].ffn.fc2.w);
          }
      be->prefetch (be, (const ScTensor *const *) ts->pdata, (int) ts->len);
    }

  for (int e = 0; e < E; e++)
    {
      if (!used[e])
        continue; /* an expert no token chose is never read */
      int m = 0;
      for (int t = 0; t < n; t++)
        {
          if (top1[t] == e)
            wt[m] = w1[t], idx[m++] = t;
          else if (top2[t] == e)
            wt[m] = w2[t], idx[m++] = t;
        }
      be->gather_rows (be, h, d, idx, m, xin);
      Ffn owned;
      const Ffn *f = expert_weights (model, &table[e], (guint) (L->moe_index * E + e), &owned);
      sc_run_ffn (view, f, xin, m, yout);
      be->scatter_add_rows (be, out, d, idx, wt, eom, m, yout);
      for (int i = 0; want_norms && i < m; i++)
        {
          const float *y = yout + (gsize) i * d;
          double sq = 0.0;
          for (int j = 0; j < d; j++)
            sq += (double) y[j] * y[j];
          *(top1[idx[i]] == e ? &norm1[idx[i]] : &norm2[idx[i]]) = (float) sqrt (sq);
        }
    }
  if (budget)
    g_mutex_unlock (&model->cache_lock);

  if (view->router_observer != NULL)
    {
      ScRouterEvent ev = {
        .decoder = decoder,
        .layer = layer,
        .moe_index = L->moe_index,
        .n_tokens = n,
        .n_experts = E,
        .top1 = top1,
        .top2 = top2,
        .w1 = w1,
        .w2 = w2,
        .probs = probs,
        .rows = rows,
        .norm1 = norm1,
        .norm2 = norm2,
        .hidden = h,
      };
      view->router_observer (&ev, view->router_data);
    }
  return TRUE;
}

gboolean
sc_run_ff_block (ScView *view, const Layer *L, gboolean decoder, int layer, const float *h, int n,
                 const guint8 *valid, const int *rows, float *out, GError **error)
{
  if (L->sparse)
    return moe_forward (view, L, decoder, layer, h, n, valid, rows, out, error);
  sc_run_ffn (view, &L->dense, h, n, out);
  return TRUE;
}

/* ---- the model's own replays (sc-reconstruct.h) ------------------------- */

gboolean
sc_model_moe_router_logits (ScModel *model, int m, const float *h, int n, float *logits,
                            GError **error)
{
  if (m < 0 || m >= model->n_moe)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "MoE layer %d out of range (the model has %d)",
                   m, model->n_moe);
      return FALSE;
    }
  if (n > 0)
    router_logits (model, model->moe[m], h, n, logits);
  return TRUE;
}

gboolean
sc_model_moe_expert_forward (ScModel *model, int m, int expert, const float *h, int n, float *out,
                             GError **error)
{
  int E = model->config->num_experts;
  if (m < 0 || m >= model->n_moe || expert < 0 || expert >= E)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "MoE layer %d, expert %d out of range", m,
                   expert);
      return FALSE;
    }
  ScExpertRef r = { .ffn = model->moe[m]->experts[expert] };
  if (r.ffn.fc1.w == NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_MISSING,
                   "MoE layer %d: expert %d was pruned from this checkpoint", m, expert);
      return FALSE;
    }
  if (n == 0)
    return TRUE;
  r.present = r.cached = TRUE;
  ScView bare = SC_VIEW_BARE (model);
  Ffn owned;
  g_mutex_lock (&model->cache_lock);
  sc_run_ffn (&bare, expert_weights (model, &r, (guint) (m * E + expert), &owned), h, n, out);
  g_mutex_unlock (&model->cache_lock);
  return TRUE;
}
