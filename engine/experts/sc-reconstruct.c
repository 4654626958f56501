/* sc-reconstruct.c: output-aware selection on captured router inputs. */
#include "sc-reconstruct.h"

#include "sc-tensor.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the objective ------------------------------------------------------ */

ScReconLayer *
sc_recon_layer_new (int n_tokens, int n_experts, float eom)
{
  ScReconLayer *L = g_new0 (ScReconLayer, 1);
  L->n_tokens = n_tokens;
  L->n_experts = n_experts;
  L->eom = eom;
  L->logits = g_new0 (float, (gsize) n_tokens *n_experts);
  L->gram = g_new0 (double, (gsize) n_tokens *n_experts *n_experts);
  return L;
}

void
sc_recon_layer_free (ScReconLayer *L)
{
  if (L == NULL)
    return;
  g_free (L->logits);
  g_free (L->gram);
  g_free (L);
}

void
sc_recon_layer_set_outputs (ScReconLayer *L, int t0, int n, int d, const float *y)
{
  int E = L->n_experts;
  for (int t = 0; t < n; t++)
    {
      double *G = L->gram + (gsize) (t0 + t) * E * E;
      for (int e = 0; e < E; e++)
        {
          const float *ye = y + ((gsize) e * n + t) * d;
          for (int f = e; f < E; f++)
            {
              const float *yf = y + ((gsize) f * n + t) * d;
              double s = 0.0;
              for (int j = 0; j < d; j++)
                s += (double) ye[j] * yf[j];
              G[e * E + f] = G[f * E + e] = s;
            }
        }
    }
}

/* Tokens per pass through the experts: bounds the expert outputs held at
 * once to TOKEN_CHUNK x n_experts x d_model floats. */
#define TOKEN_CHUNK 256

ScReconLayer *
sc_recon_layer_from_model (ScModel *model, int moe_layer, const float *h, int n,
                           GCancellable *cancellable, GError **error)
{
  const ScConfig *c = sc_model_get_config (model);
  int E = c->num_experts, d = c->d_model;
  g_autoptr (ScReconLayer) L = sc_recon_layer_new (n, E, (float) (1.0 - c->moe_token_dropout));
  if (!sc_model_moe_router_logits (model, moe_layer, h, n, L->logits, error))
    return NULL;
  int chunk = MIN (n, TOKEN_CHUNK);
  g_autofree float *y = g_new0 (float, (gsize) MAX (chunk, 1) * E * d);
  for (int t0 = 0; t0 < n; t0 += chunk)
    {
      int m = MIN (chunk, n - t0);
      for (int e = 0; e < E; e++)
        {
          if (g_cancellable_set_error_if_cancelled (cancellable, error))
            return NULL;
          float *ye = y + (gsize) e * m * d;
          /* an expert absent from a pruned checkpoint is never chosen */
          if (isinf (L->logits[(gsize) t0 * E + e]))
            memset (ye, 0, sizeof (float) * m * d);
          else if (!sc_model_moe_expert_forward (model, moe_layer, e, h + (gsize) t0 * d, m, ye,
                                                 error))
            return NULL;
        }
      sc_recon_layer_set_outputs (L, t0, m, d, y);
    }
  return g_steal_pointer (&L);
}

typedef struct
{
  int a, b; /* top-1, top-2 (-1 when one expert is kept) */
  double wa, wb;
} Route;

/* The routing of one token among kept experts, as the CPU backend's
 * router_top2 computes it (f32 softmax, top-1 by probability, top-2 by
 * logit among the rest, weights p/(p1+p2) clamped at FLT_EPSILON). */
static Route
route (const float *l, int E, const guint8 *keep, float *p)
{
  Route r = { -1, -1, 0.0, 0.0 };
  float max = -INFINITY;
  for (int e = 0; e < E; e++)
    if (keep[e])
      max = MAX (max, l[e]);
  if (max == -INFINITY)
    return r;
  float sum = 0.0f;
  for (int e = 0; e < E; e++)
    {
      p[e] = keep[e] ? expf (l[e] - max) : 0.0f;
      sum += p[e];
    }
  for (int e = 0; e < E; e++)
    p[e] /= sum;
  for (int e = 0; e < E; e++)
    if (keep[e] && (r.a < 0 || p[e] > p[r.a]))
      r.a = e;
  for (int e = 0; e < E; e++)
    if (e != r.a && keep[e] && (r.b < 0 || l[e] > l[r.b]))
      r.b = e;
  if (r.b < 0)
    {
      r.wa = 1.0;
      return r;
    }
  float denom = MAX (p[r.a] + p[r.b], FLT_EPSILON);
  r.wa = p[r.a] / denom;
  r.wb = p[r.b] / denom;
  return r;
}

/* || sum_i c_i y_{e_i} ||^2 from the token's Gram matrix, for the full
 * routing f (positive) minus the kept routing k (negative). */
static double
token_error (const double *G, int E, const Route *f, const Route *k)
{
  if (f->a == k->a && f->b == k->b && f->wa == k->wa && f->wb == k->wb)
    return 0.0; /* the same output, without rounding noise */
  int ids[4] = { f->a, f->b, k->a, k->b };
  double c[4] = { f->wa, f->wb, -k->wa, -k->wb };
  double s = 0.0;
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++)
      if (ids[i] >= 0 && ids[j] >= 0 && c[i] != 0.0 && c[j] != 0.0)
        s += c[i] * c[j] * G[ids[i] * E + ids[j]];
  return MAX (s, 0.0);
}

static double
token_ref (const double *G, int E, const Route *f)
{
  Route none = { -1, -1, 0.0, 0.0 };
  return token_error (G, E, f, &none);
}

/* Experts that exist: a finite logit somewhere (a pruned checkpoint gives
 * its absent experts -inf everywhere). */
static void
present_experts (const ScReconLayer *L, guint8 *present)
{
  int E = L->n_experts;
  for (int e = 0; e < E; e++)
    present[e] = L->n_tokens == 0 || !isinf (L->logits[e]);
}

void
sc_recon_route (const ScReconLayer *L, int t, const guint8 *keep, int *top1, int *top2, double *w1,
                double *w2)
{
  int E = L->n_experts;
  g_autofree guint8 *all = g_new (guint8, E);
  g_autofree float *p = g_new (float, E);
  present_experts (L, all);
  Route r = route (L->logits + (gsize) t * E, E, keep != NULL ? keep : all, p);
  *top1 = r.a, *top2 = r.b, *w1 = r.wa, *w2 = r.wb;
}

double
sc_recon_error (const ScReconLayer *L, const guint8 *keep, double *ref)
{
  int E = L->n_experts;
  g_autofree guint8 *all = g_new (guint8, E);
  g_autofree float *p = g_new (float, E);
  present_experts (L, all);
  double err = 0.0, total = 0.0;
  double eom2 = (double) L->eom * L->eom;
  for (int t = 0; t < L->n_tokens; t++)
    {
      const float *l = L->logits + (gsize) t * E;
      const double *G = L->gram + (gsize) t * E * E;
      Route f = route (l, E, all, p);
      Route k = route (l, E, keep, p);
      err += token_error (G, E, &f, &k);
      total += token_ref (G, E, &f);
    }
  if (ref != NULL)
    *ref = eom2 * total;
  return eom2 * err;
}

/* Greedy backward elimination from the present experts down to k kept
 * (keep: [E], out). order (may be NULL) receives the removed experts in
 * turn; curve (may be NULL, [E + 1]) the relative error at each count
 * passed, from the incremental sums. Returns the count present at start,
 * or 0 when k is out of range. */
static int
eliminate (const ScReconLayer *L, int k, guint8 *keep, int *order, double *curve)
{
  int E = L->n_experts, n = L->n_tokens;
  present_experts (L, keep);
  int have = 0;
  for (int e = 0; e < E; e++)
    have += keep[e];
  if (k < 1 || k > have)
    return 0;
  int start = have;
  g_autofree float *p = g_new (float, E);
  g_autofree Route *full = g_new (Route, MAX (n, 1));
  g_autofree Route *cur = g_new (Route, MAX (n, 1));
  g_autofree double *err = g_new (double, MAX (n, 1));
  g_autofree double *delta = g_new (double, E);
  double ref = 0.0, total = 0.0;
  for (int t = 0; t < n; t++)
    {
      full[t] = cur[t] = route (L->logits + (gsize) t * E, E, keep, p);
      err[t] = 0.0;
      ref += token_ref (L->gram + (gsize) t * E * E, E, &full[t]);
    }
  if (curve != NULL)
    for (int j = 0; j <= E; j++)
      curve[j] = 0.0;
  for (; have > k; have--)
    {
      /* Removing e changes only the tokens whose kept top-2 holds e: the
       * others keep their pair and, p1/(p1+p2) being a ratio, their weights. */
      memset (delta, 0, sizeof (double) * E);
      for (int t = 0; t < n; t++)
        {
          const float *l = L->logits + (gsize) t * E;
          const double *G = L->gram + (gsize) t * E * E;
          int pick[2] = { cur[t].a, cur[t].b };
          for (int i = 0; i < 2; i++)
            {
              int x = pick[i];
              if (x < 0)
                continue;
              keep[x] = 0;
              Route r = route (l, E, keep, p);
              keep[x] = 1;
              delta[x] += token_error (G, E, &full[t], &r) - err[t];
            }
        }
      int best = -1;
      for (int e = 0; e < E; e++)
        if (keep[e] && (best < 0 || delta[e] < delta[best]))
          best = e;
      keep[best] = 0;
      total = 0.0;
      for (int t = 0; t < n; t++)
        {
          if (cur[t].a == best || cur[t].b == best)
            {
              cur[t] = route (L->logits + (gsize) t * E, E, keep, p);
              err[t] = token_error (L->gram + (gsize) t * E * E, E, &full[t], &cur[t]);
            }
          total += err[t];
        }
      if (order != NULL)
        order[start - have] = best;
      if (curve != NULL)
        curve[have - 1] = ref > 0.0 ? total / ref : 0.0;
    }
  return start;
}

gboolean
sc_recon_greedy (const ScReconLayer *L, int k, guint8 *keep_out, double *rel_err, GError **error)
{
  int have = eliminate (L, k, keep_out, NULL, NULL);
  if (have == 0)
    {
      present_experts (L, keep_out);
      for (int e = 0; e < L->n_experts; e++)
        have += keep_out[e];
      g_set_error (error, SC_SELECT_ERROR, SC_SELECT_ERROR_BUDGET,
                   "cannot keep %d of the layer's %d experts", k, have);
      return FALSE;
    }
  /* Tokens the last removals did not touch kept weights rounded from a
   * larger softmax: the final error is recomputed as masked evaluation
   * routes them. */
  if (rel_err != NULL)
    {
      double ref = 0.0, final = sc_recon_error (L, keep_out, &ref);
      *rel_err = ref > 0.0 ? final / ref : 0.0;
    }
  return TRUE;
}

int
sc_recon_path (const ScReconLayer *L, int *order, double *curve)
{
  int E = L->n_experts;
  g_autofree guint8 *keep = g_new (guint8, E);
  int have = eliminate (L, 1, keep, order, curve);
  for (int e = 0; e < E && have > 0; e++)
    if (keep[e])
      order[have - 1] = e;
  return have;
}

gboolean
sc_recon_allocate (const double *curves, int n_layers, int stride, const int *max_k, int total,
                   int *k_out, GError **error)
{
  int most = 0;
  for (int m = 0; m < n_layers; m++)
    most += max_k[m];
  if (total < n_layers || total > most)
    {
      g_set_error (error, SC_SELECT_ERROR, SC_SELECT_ERROR_BUDGET,
                   "cannot keep %d experts in %d layers (at least one each, at most %d in all)",
                   total, n_layers, most);
      return FALSE;
    }
  int given = 0;
  for (int m = 0; m < n_layers; m++)
    k_out[m] = 1, given++;
  /* Each next expert goes where it lowers the error most. */
  for (; given < total; given++)
    {
      int best = -1;
      double best_gain = 0.0;
      for (int m = 0; m < n_layers; m++)
        {
          if (k_out[m] >= max_k[m])
            continue;
          const double *c = curves + (gsize) m * stride;
          double gain = c[k_out[m]] - c[k_out[m] + 1];
          if (best < 0 || gain > best_gain)
            best = m, best_gain = gain;
        }
      k_out[best]++;
    }
  return TRUE;
}

/* ---- selection ---------------------------------------------------------- */

/* The capture is of `model`; *n_moe, *n_enc (may be NULL) get its MoE
 * layers and those in the encoder. */
static gboolean
check_capture (ScModel *model, const ScCapture *cap, int *n_moe, int *n_enc, GError **error)
{
  const ScMoeShape *sh = sc_model_get_moe_shape (model);
  if (n_moe != NULL)
    *n_moe = sh->n_moe_layers;
  if (n_enc != NULL)
    *n_enc = sh->n_encoder_moe;
  return sc_capture_check_shape (cap, sh->n_moe_layers, sh->n_encoder_moe, sh->d_model, error);
}

/* The objective of MoE layer m on the key's captured tokens. */
static ScReconLayer *
layer_for_key (ScModel *model, const ScCapture *cap, ScGranularity granularity, const char *src,
               const char *tgt, int m, GCancellable *cancellable, GError **error)
{
  int n = 0;
  g_autofree float *h = sc_capture_tokens_for (cap, granularity, src, tgt, m, &n);
  if (n == 0)
    {
      gboolean pair = granularity != SC_GRANULARITY_GLOBAL && g_strcmp0 (src, tgt) != 0;
      g_set_error (error, SC_ERROR, SC_ERROR_MISSING,
                   "no captured tokens for MoE layer %d of %s%s%s (calibrate with --capture)", m,
                   granularity == SC_GRANULARITY_GLOBAL ? "any direction" : src, pair ? "-" : "",
                   pair ? tgt : "");
      return NULL;
    }
  return sc_recon_layer_from_model (model, m, h, n, cancellable, error);
}

gboolean
sc_reconstruct_errors (ScModel *model, const ScCapture *cap, ScGranularity granularity,
                       const char *src, const char *tgt, const ScSelection *sel, double *rel_err,
                       GCancellable *cancellable, GError **error)
{
  int E = sc_model_get_config (model)->num_experts, n_moe = 0;
  if (!check_capture (model, cap, &n_moe, NULL, error))
    return FALSE;
  if (sel->n_layers != n_moe || sel->n_experts != E)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "the selection is not of this model");
      return FALSE;
    }
  g_autofree guint8 *keep = g_new (guint8, E);
  for (int m = 0; m < sel->n_layers; m++)
    {
      g_autoptr (ScReconLayer) L =
          layer_for_key (model, cap, granularity, src, tgt, m, cancellable, error);
      if (L == NULL)
        return FALSE;
      memset (keep, 0, E);
      for (guint i = 0; i < sel->kept[m]->len; i++)
        keep[g_array_index (sel->kept[m], int, i)] = 1;
      double ref = 0.0, err = sc_recon_error (L, keep, &ref);
      rel_err[m] = ref > 0.0 ? err / ref : 0.0;
    }
  return TRUE;
}

/* The last k of a removal order: greedy's kept set at k. */
static void
append_kept (GArray *ids, const int *order, int have, int k, int m, int E)
{
  g_autofree guint8 *keep = g_new0 (guint8, E);
  for (int i = have - k; i < have; i++)
    keep[order[i]] = 1;
  for (int e = 0; e < E; e++)
    if (keep[e])
      {
        int id = m * E + e;
        g_array_append_val (ids, id);
      }
}

ScSelection *
sc_reconstruct_select (ScModel *model, const ScCapture *cap, ScGranularity granularity,
                       const char *src, const char *tgt, const ScSelectBudget *budget,
                       gboolean by_sensitivity, int *kept_per_layer, double *rel_err,
                       GCancellable *cancellable, GError **error)
{
  int E = sc_model_get_config (model)->num_experts, n_moe = 0, n_enc = 0;
  if (!check_capture (model, cap, &n_moe, &n_enc, error))
    return NULL;
  g_autofree int *order = g_new (int, (gsize) n_moe *E);
  g_autofree double *curves = g_new (double, (gsize) n_moe *(E + 1));
  g_autofree int *have = g_new (int, n_moe);
  g_autofree int *k = g_new (int, n_moe);
  for (int m = 0; m < n_moe; m++)
    {
      g_autoptr (ScReconLayer) L =
          layer_for_key (model, cap, granularity, src, tgt, m, cancellable, error);
      if (L == NULL)
        return NULL;
      have[m] = sc_recon_path (L, order + (gsize) m * E, curves + (gsize) m * (E + 1));
      k[m] = MIN (m < n_enc ? budget->enc_per_layer : budget->dec_per_layer, have[m]);
    }
  /* The encoder's and the decoder's totals stay as the budget splits them. */
  if (by_sensitivity &&
      ((n_enc > 0 &&
        !sc_recon_allocate (curves, n_enc, E + 1, have, budget->enc_total, k, error)) ||
       (n_moe > n_enc &&
        !sc_recon_allocate (curves + (gsize) n_enc * (E + 1), n_moe - n_enc, E + 1, have + n_enc,
                            budget->keep_total - budget->enc_total, k + n_enc, error))))
    return NULL;
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (int));
  for (int m = 0; m < n_moe; m++)
    {
      append_kept (ids, order + (gsize) m * E, have[m], k[m], m, E);
      if (kept_per_layer != NULL)
        kept_per_layer[m] = k[m];
      if (rel_err != NULL)
        rel_err[m] = curves[(gsize) m * (E + 1) + k[m]];
    }
  return sc_selection_new_from_ids ((int *) ids->data, ids->len, n_moe, n_enc, E, error);
}
