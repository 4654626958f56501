/* sc-merge.c: folding pruned experts into kept ones. */
#include "sc-merge.h"

#include "sc-checkpoint.h"
#include "sc-tensor.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

/* Weight of the units' weight cosine beside their activation correlation:
 * small enough never to overturn a correlation the tokens measure, large
 * enough to order units the tokens leave constant. */
#define WEIGHT_TIEBREAK 1e-3

/* ---- one expert ----------------------------------------------------------- */

ScMergeExpert *
sc_merge_expert_new (int d, int ffn)
{
  ScMergeExpert *x = g_new0 (ScMergeExpert, 1);
  x->d = d;
  x->ffn = ffn;
  x->w1 = g_new0 (float, (gsize) ffn *d);
  x->b1 = g_new0 (float, ffn);
  x->w2 = g_new0 (float, (gsize) d *ffn);
  x->b2 = g_new0 (float, d);
  return x;
}

ScMergeExpert *
sc_merge_expert_copy (const ScMergeExpert *x)
{
  ScMergeExpert *y = sc_merge_expert_new (x->d, x->ffn);
  memcpy (y->w1, x->w1, sizeof (float) * x->ffn * x->d);
  memcpy (y->b1, x->b1, sizeof (float) * x->ffn);
  memcpy (y->w2, x->w2, sizeof (float) * x->d * x->ffn);
  memcpy (y->b2, x->b2, sizeof (float) * x->d);
  return y;
}

void
sc_merge_expert_free (ScMergeExpert *x)
{
  if (x == NULL)
    return;
  g_free (x->w1);
  g_free (x->b1);
  g_free (x->w2);
  g_free (x->b2);
  g_free (x);
}

ScMergeExpert *
sc_merge_expert_permute (const ScMergeExpert *x, const int *perm)
{
  int d = x->d, F = x->ffn;
  ScMergeExpert *y = sc_merge_expert_new (d, F);
  for (int j = 0; j < F; j++)
    {
      memcpy (y->w1 + (gsize) j * d, x->w1 + (gsize) perm[j] * d, sizeof (float) * d);
      y->b1[j] = x->b1[perm[j]];
      for (int r = 0; r < d; r++)
        y->w2[(gsize) r * F + j] = x->w2[(gsize) r * F + perm[j]];
    }
  memcpy (y->b2, x->b2, sizeof (float) * d);
  return y;
}

void
sc_merge_expert_hidden (const ScMergeExpert *x, const float *h, int n, float *act)
{
  int d = x->d, F = x->ffn;
  if (n == 0)
    return;
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, n, F, d, 1.0f, h, d, x->w1, d, 0.0f, act,
               F);
  for (int t = 0; t < n; t++)
    for (int j = 0; j < F; j++)
      {
        float a = act[(gsize) t * F + j] + x->b1[j];
        act[(gsize) t * F + j] = a > 0.0f ? a : 0.0f;
      }
}

void
sc_merge_expert_forward (const ScMergeExpert *x, const float *h, int n, float *out)
{
  int d = x->d, F = x->ffn;
  if (n == 0)
    return;
  g_autofree float *act = g_new (float, (gsize) n *F);
  sc_merge_expert_hidden (x, h, n, act);
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, n, d, F, 1.0f, act, F, x->w2, F, 0.0f, out,
               d);
  for (int t = 0; t < n; t++)
    for (int r = 0; r < d; r++)
      out[(gsize) t * d + r] += x->b2[r];
}

/* ---- the assignment ------------------------------------------------------- */

double
sc_merge_assign (const double *cost, int n, int *col_of_row)
{
  if (n <= 0)
    return 0.0;
  /* 1-based: column 0 and row 0 are the virtual start of each search */
  g_autofree double *u = g_new0 (double, n + 1);
  g_autofree double *v = g_new0 (double, n + 1);
  g_autofree double *minv = g_new (double, n + 1);
  g_autofree int *row_of_col = g_new0 (int, n + 1);
  g_autofree int *way = g_new0 (int, n + 1);
  g_autofree gboolean *used = g_new (gboolean, n + 1);
  for (int i = 1; i <= n; i++)
    {
      row_of_col[0] = i;
      int j0 = 0;
      for (int j = 0; j <= n; j++)
        minv[j] = INFINITY, used[j] = FALSE;
      do
        {
          used[j0] = TRUE;
          int i0 = row_of_col[j0], j1 = 0;
          double delta = INFINITY;
          for (int j = 1; j <= n; j++)
            if (!used[j])
              {
                double cur = cost[(gsize) (i0 - 1) * n + (j - 1)] - u[i0] - v[j];
                if (cur < minv[j])
                  minv[j] = cur, way[j] = j0;
                if (minv[j] < delta)
                  delta = minv[j], j1 = j;
              }
          for (int j = 0; j <= n; j++)
            if (used[j])
              u[row_of_col[j]] += delta, v[j] -= delta;
            else
              minv[j] -= delta;
          j0 = j1;
        }
      while (row_of_col[j0] != 0);
      /* flip the augmenting path */
      do
        {
          int j1 = way[j0];
          row_of_col[j0] = row_of_col[j1];
          j0 = j1;
        }
      while (j0 != 0);
    }
  double total = 0.0;
  for (int j = 1; j <= n; j++)
    {
      int i = row_of_col[j] - 1;
      col_of_row[i] = j - 1;
      total += cost[(gsize) i * n + (j - 1)];
    }
  return total;
}

/* ---- (a) targets and routing mass ------------------------------------------- */

void
sc_merge_similarity (const ScReconLayer *L, double *sim)
{
  int E = L->n_experts;
  memset (sim, 0, sizeof (double) * E * E);
  for (int t = 0; t < L->n_tokens; t++)
    {
      const double *G = L->gram + (gsize) t * E * E;
      for (int i = 0; i < E * E; i++)
        sim[i] += G[i];
    }
  g_autofree double *norm = g_new (double, E);
  for (int e = 0; e < E; e++)
    norm[e] = sqrt (MAX (sim[e * E + e], 0.0));
  for (int e = 0; e < E; e++)
    for (int f = 0; f < E; f++)
      {
        double nn = norm[e] * norm[f];
        sim[e * E + f] = nn > 0.0 ? sim[e * E + f] / nn : 0.0;
      }
}

gboolean
sc_merge_targets (const double *sim, int n_experts, const guint8 *keep, const guint8 *present,
                  int *target, GError **error)
{
  int E = n_experts;
  gboolean any = FALSE;
  for (int e = 0; e < E; e++)
    any |= keep[e] && (present == NULL || present[e]);
  if (!any)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "no expert kept to merge into");
      return FALSE;
    }
  for (int e = 0; e < E; e++)
    {
      if (present != NULL && !present[e])
        {
          target[e] = -1;
          continue;
        }
      if (keep[e])
        {
          target[e] = e;
          continue;
        }
      int best = -1;
      for (int k = 0; k < E; k++)
        if (keep[k] && (present == NULL || present[k]) &&
            (best < 0 || sim[e * E + k] > sim[e * E + best]))
          best = k;
      target[e] = best;
    }
  return TRUE;
}

void
sc_merge_routing_mass (const ScReconLayer *L, double *mass)
{
  memset (mass, 0, sizeof (double) * L->n_experts);
  for (int t = 0; t < L->n_tokens; t++)
    {
      int a, b;
      double wa, wb;
      sc_recon_route (L, t, NULL, &a, &b, &wa, &wb);
      if (a >= 0)
        mass[a] += wa;
      if (b >= 0)
        mass[b] += wb;
    }
}

/* ---- (b) alignment -------------------------------------------------------- */

/* Centres the columns of a [n, F] and returns their norms. */
static void
centre_columns (float *a, int n, int F, double *norm)
{
  for (int j = 0; j < F; j++)
    {
      double mean = 0.0, ss = 0.0;
      for (int t = 0; t < n; t++)
        mean += a[(gsize) t * F + j];
      mean /= MAX (n, 1);
      for (int t = 0; t < n; t++)
        {
          float c = (float) (a[(gsize) t * F + j] - mean);
          a[(gsize) t * F + j] = c;
          ss += (double) c * c;
        }
      norm[j] = sqrt (ss);
    }
}

/* Unit j's weights as one row: fc1 row, fc1 bias, fc2 column; normalised. */
static float *
unit_rows (const ScMergeExpert *x)
{
  int d = x->d, F = x->ffn, w = 2 * d + 1;
  float *u = g_new (float, (gsize) F *w);
  for (int j = 0; j < F; j++)
    {
      float *row = u + (gsize) j * w;
      memcpy (row, x->w1 + (gsize) j * d, sizeof (float) * d);
      row[d] = x->b1[j];
      for (int r = 0; r < d; r++)
        row[d + 1 + r] = x->w2[(gsize) r * F + j];
      double ss = 0.0;
      for (int i = 0; i < w; i++)
        ss += (double) row[i] * row[i];
      float s = ss > 0.0 ? (float) (1.0 / sqrt (ss)) : 0.0f;
      for (int i = 0; i < w; i++)
        row[i] *= s;
    }
  return u;
}

void
sc_merge_align (const ScMergeExpert *kept, const ScMergeExpert *other, const float *h, int n,
                int *perm)
{
  int F = kept->ffn, w = 2 * kept->d + 1;
  g_return_if_fail (other->ffn == F && other->d == kept->d);
  g_autofree double *score = g_new0 (double, (gsize) F *F);
  g_autofree float *c = g_new (float, (gsize) F *F);
  if (n > 0)
    {
      g_autofree float *ak = g_new (float, (gsize) n *F);
      g_autofree float *ao = g_new (float, (gsize) n *F);
      g_autofree double *nk = g_new (double, F);
      g_autofree double *no = g_new (double, F);
      sc_merge_expert_hidden (kept, h, n, ak);
      sc_merge_expert_hidden (other, h, n, ao);
      centre_columns (ak, n, F, nk);
      centre_columns (ao, n, F, no);
      cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, F, F, n, 1.0f, ak, F, ao, F, 0.0f, c,
                   F);
      for (int i = 0; i < F; i++)
        for (int j = 0; j < F; j++)
          {
            double nn = nk[i] * no[j];
            score[(gsize) i * F + j] = nn > 0.0 ? c[(gsize) i * F + j] / nn : 0.0;
          }
    }
  g_autofree float *uk = unit_rows (kept);
  g_autofree float *uo = unit_rows (other);
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, F, F, w, 1.0f, uk, w, uo, w, 0.0f, c, F);
  for (gsize i = 0; i < (gsize) F * F; i++)
    score[i] = -(score[i] + WEIGHT_TIEBREAK * c[i]);
  sc_merge_assign (score, F, perm);
}

/* ---- (c) fold ------------------------------------------------------------- */

ScMergeExpert *
sc_merge_fold (const ScMergeExpert *kept, double kept_mass, const ScMergeExpert *const *others,
               const int *const *perms, const double *masses, int n_others)
{
  int d = kept->d, F = kept->ffn;
  double total = kept_mass;
  for (int i = 0; i < n_others; i++)
    total += masses[i];
  if (!(total > 0.0))
    return sc_merge_expert_copy (kept);
  /* kept + sum_i a_i (other_i - kept): the same average, and exactly the
   * kept expert where the others equal it */
  ScMergeExpert *m = sc_merge_expert_copy (kept);
  for (int i = 0; i < n_others; i++)
    {
      const ScMergeExpert *x = others[i];
      const int *p = perms != NULL ? perms[i] : NULL;
      float a = (float) (masses[i] / total);
      if (a == 0.0f)
        continue;
      for (int j = 0; j < F; j++)
        {
          int s = p != NULL ? p[j] : j;
          const float *xr = x->w1 + (gsize) s * d, *kr = kept->w1 + (gsize) j * d;
          float *mr = m->w1 + (gsize) j * d;
          for (int c = 0; c < d; c++)
            mr[c] += a * (xr[c] - kr[c]);
          m->b1[j] += a * (x->b1[s] - kept->b1[j]);
          for (int r = 0; r < d; r++)
            m->w2[(gsize) r * F + j] +=
                a * (x->w2[(gsize) r * F + s] - kept->w2[(gsize) r * F + j]);
        }
      for (int r = 0; r < d; r++)
        m->b2[r] += a * (x->b2[r] - kept->b2[r]);
    }
  return m;
}

/* ---- from the model --------------------------------------------------------- */

/* The transformer block (encoder blocks first) of MoE layer `moe_layer`,
 * -1 when there is none. */
static int
moe_block (const ScConfig *c, int moe_layer)
{
  int m = 0;
  for (int i = 0; i < c->encoder_layers + c->decoder_layers; i++)
    {
      gboolean decoder = i >= c->encoder_layers;
      if (sc_config_is_sparse (c, decoder, decoder ? i - c->encoder_layers : i) && m++ == moe_layer)
        return i;
    }
  return -1;
}

/* The linear indices of expert `expert`'s fc1 and fc2 in MoE layer
 * `moe_layer` (original expert ids, as sc_model_get_linear gives them). */
static gboolean
find_expert_linears (ScModel *model, int moe_layer, int expert, int *fc1, int *fc2)
{
  int block = moe_block (sc_model_get_config (model), moe_layer);
  *fc1 = *fc2 = -1;
  for (int i = 0; block >= 0 && i < sc_model_n_linears (model); i++)
    {
      ScLinearInfo info;
      sc_model_get_linear (model, i, &info);
      if (info.block != block || info.expert != expert)
        continue;
      if (g_str_has_suffix (info.name, "fc1.weight"))
        *fc1 = i;
      else if (g_str_has_suffix (info.name, "fc2.weight"))
        *fc2 = i;
    }
  return *fc1 >= 0 && *fc2 >= 0;
}

/* The checkpoint's bias beside weight `weight_name`, or NULL. */
static const ScTensor *
bias_tensor (ScModel *model, const char *weight_name)
{
  g_autofree char *stem = g_strndup (weight_name, strlen (weight_name) - strlen ("weight"));
  g_autofree char *name = g_strconcat (stem, "bias", NULL);
  return sc_checkpoint_get (sc_model_get_checkpoint (model), name);
}

static gboolean
read_bias (ScModel *model, const char *weight_name, int len, float *out, GError **error)
{
  const ScTensor *t = bias_tensor (model, weight_name);
  if (t == NULL || sc_tensor_numel (t) != len)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_MISSING, "%s's bias: missing or not of %d values",
                   weight_name, len);
      return FALSE;
    }
  sc_tensor_read_f32 (t, 0, len, out);
  return TRUE;
}

ScMergeExpert *
sc_merge_expert_from_model (ScModel *model, int moe_layer, int expert, GError **error)
{
  int i1, i2;
  if (!find_expert_linears (model, moe_layer, expert, &i1, &i2))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_MISSING,
                   "MoE layer %d: expert %d is not in this checkpoint", moe_layer, expert);
      return NULL;
    }
  ScLinearInfo fc1, fc2;
  sc_model_get_linear (model, i1, &fc1);
  sc_model_get_linear (model, i2, &fc2);
  int F = fc1.n_out, d = fc1.n_in;
  if (fc2.n_out != d || fc2.n_in != F)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "%s [%d, %d] does not fit %s [%d, %d]",
                   fc2.name, fc2.n_out, fc2.n_in, fc1.name, F, d);
      return NULL;
    }
  g_autoptr (ScMergeExpert) x = sc_merge_expert_new (d, F);
  sc_tensor_read_f32 (sc_model_get_linear_weight (model, i1), 0, (int64_t) F * d, x->w1);
  sc_tensor_read_f32 (sc_model_get_linear_weight (model, i2), 0, (int64_t) d * F, x->w2);
  if (!read_bias (model, fc1.name, F, x->b1, error) ||
      !read_bias (model, fc2.name, d, x->b2, error))
    return NULL;
  return g_steal_pointer (&x);
}

static gboolean
merge_layer (ScModel *model, int moe_layer, const float *h, int n, const guint8 *keep,
             ScMergeExpert **merged, int *target, GCancellable *cancellable, GError **error)
{
  int E = sc_model_get_config (model)->num_experts;
  g_autoptr (ScReconLayer) L =
      sc_recon_layer_from_model (model, moe_layer, h, n, cancellable, error);
  if (L == NULL)
    return FALSE;
  g_autofree guint8 *present = g_new (guint8, E);
  for (int e = 0; e < E; e++)
    present[e] = n == 0 || !isinf (L->logits[e]);
  g_autofree double *sim = g_new (double, (gsize) E *E);
  g_autofree double *mass = g_new (double, E);
  g_autofree int *tgt = g_new (int, E);
  sc_merge_similarity (L, sim);
  sc_merge_routing_mass (L, mass);
  if (!sc_merge_targets (sim, E, keep, present, tgt, error))
    return FALSE;
  if (target != NULL)
    memcpy (target, tgt, sizeof (int) * E);
  /* without tokens there is no evidence of similarity or mass */
  if (n == 0)
    return TRUE;
  for (int k = 0; k < E; k++)
    {
      if (tgt[k] != k)
        continue;
      g_autoptr (GPtrArray) others =
          g_ptr_array_new_with_free_func ((GDestroyNotify) sc_merge_expert_free);
      g_autoptr (GPtrArray) perms = g_ptr_array_new_with_free_func (g_free);
      g_autoptr (GArray) masses = g_array_new (FALSE, FALSE, sizeof (double));
      g_autoptr (ScMergeExpert) kept = NULL;
      for (int e = 0; e < E; e++)
        {
          if (e == k || tgt[e] != k)
            continue;
          if (g_cancellable_set_error_if_cancelled (cancellable, error))
            return FALSE;
          if (kept == NULL &&
              (kept = sc_merge_expert_from_model (model, moe_layer, k, error)) == NULL)
            return FALSE;
          ScMergeExpert *x = sc_merge_expert_from_model (model, moe_layer, e, error);
          if (x == NULL)
            return FALSE;
          int *perm = g_new (int, kept->ffn);
          sc_merge_align (kept, x, h, n, perm);
          g_ptr_array_add (others, x);
          g_ptr_array_add (perms, perm);
          g_array_append_val (masses, mass[e]);
        }
      if (kept == NULL)
        continue;
      merged[k] = sc_merge_fold (kept, mass[k], (const ScMergeExpert *const *) others->pdata,
                                 (const int *const *) perms->pdata, (double *) masses->data,
                                 (int) others->len);
    }
  return TRUE;
}

gboolean
sc_merge_layer (ScModel *model, int moe_layer, const float *h, int n, const guint8 *keep,
                ScMergeExpert **merged, int *target, GCancellable *cancellable, GError **error)
{
  int E = sc_model_get_config (model)->num_experts;
  for (int e = 0; e < E; e++)
    merged[e] = NULL;
  if (merge_layer (model, moe_layer, h, n, keep, merged, target, cancellable, error))
    return TRUE;
  for (int e = 0; e < E; e++)
    g_clear_pointer (&merged[e], sc_merge_expert_free);
  return FALSE;
}

float *
sc_merge_tokens (const ScCapture *cap, int d, const char *const *directions, int moe_layer,
                 int *n_out)
{
  *n_out = 0;
  if (directions == NULL)
    return sc_capture_tokens_for (cap, SC_GRANULARITY_GLOBAL, NULL, NULL, moe_layer, n_out);
  g_autoptr (GArray) pool = g_array_new (FALSE, FALSE, sizeof (float));
  for (const char *const *dir = directions; *dir != NULL; dir++)
    {
      g_autofree char *src = NULL, *tgt = NULL;
      if (!sc_stats_split_direction (*dir, &src, &tgt))
        continue;
      int n = 0;
      g_autofree float *h =
          sc_capture_tokens_for (cap, SC_GRANULARITY_PAIR, src, tgt, moe_layer, &n);
      if (n > 0)
        g_array_append_vals (pool, h, (guint) n * d);
    }
  int total = (int) (pool->len / d), n = MIN (total, sc_capture_max_tokens (cap));
  if (n == 0)
    return NULL;
  float *out = g_new (float, (gsize) n *d);
  for (int i = 0; i < n; i++)
    memcpy (out + (gsize) i * d, (float *) pool->data + (gsize) ((guint64) i * total / n) * d,
            sizeof (float) * d);
  *n_out = n;
  return out;
}

/* The export stores merged values in the checkpoint's dtype (`like`'s):
 * rounded so here too, the view runs what the export writes. */
static void
narrow_like (const ScTensor *like, float *v, gsize n)
{
  for (gsize i = 0; like != NULL && i < n; i++)
    if (like->dtype == SC_DTYPE_F16)
      v[i] = sc_f16_to_f32 (sc_f32_to_f16 (v[i]));
    else if (like->dtype == SC_DTYPE_BF16)
      v[i] = sc_bf16_to_f32 (sc_f32_to_bf16 (v[i]));
}

/* Puts merged expert x (taken apart) in the view's overlay in place of
 * linears i1 (fc1) and i2 (fc2). */
static gboolean
overlay_expert (ScView *view, int i1, int i2, ScMergeExpert *x, GError **error)
{
  ScModel *model = sc_view_get_model (view);
  ScLinearInfo fc1, fc2;
  sc_model_get_linear (model, i1, &fc1);
  sc_model_get_linear (model, i2, &fc2);
  narrow_like (sc_model_get_linear_weight (model, i1), x->w1, (gsize) x->ffn * x->d);
  narrow_like (bias_tensor (model, fc1.name), x->b1, x->ffn);
  narrow_like (sc_model_get_linear_weight (model, i2), x->w2, (gsize) x->d * x->ffn);
  narrow_like (bias_tensor (model, fc2.name), x->b2, x->d);
  return sc_view_replace_linear_weight (view, i1, g_steal_pointer (&x->w1), error) &&
         sc_view_replace_linear_bias (view, i1, g_steal_pointer (&x->b1), error) &&
         sc_view_replace_linear_weight (view, i2, g_steal_pointer (&x->w2), error) &&
         sc_view_replace_linear_bias (view, i2, g_steal_pointer (&x->b2), error);
}

gboolean
sc_merge_apply (ScView *view, const ScCapture *cap, const char *const *directions, int *n_merged,
                GCancellable *cancellable, GError **error)
{
  ScModel *model = sc_view_get_model (view);
  const ScConfig *c = sc_model_get_config (model);
  int E = c->num_experts, d = c->d_model, n_moe = sc_model_n_moe_layers (model), folded = 0;
  int n_enc = 0;
  for (int i = 0; i < c->encoder_layers; i++)
    n_enc += sc_config_is_sparse (c, FALSE, i);
  if (n_merged != NULL)
    *n_merged = 0;
  if (cap == NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_MISSING,
                   "merging needs the router inputs a calibration captures (calibrate --capture)");
      return FALSE;
    }
  if (!sc_capture_check_shape (cap, n_moe, n_enc, d, error))
    return FALSE;
  ScExpertSet *set = sc_view_get_experts (view);
  if (set == NULL)
    return TRUE; /* nothing pruned */
  const guint8 *keep = sc_expert_set_get_keep (set);
  g_autofree ScMergeExpert **merged = g_new0 (ScMergeExpert *, E);
  g_autofree int *target = g_new (int, E);
  for (int m = 0; m < n_moe; m++)
    {
      int n = 0;
      g_autofree float *h = sc_merge_tokens (cap, d, directions, m, &n);
      if (!sc_merge_layer (model, m, h, n, keep + (gsize) m * E, merged, target, cancellable,
                           error))
        return FALSE;
      gboolean ok = TRUE;
      for (int e = 0; e < E; e++)
        {
          folded += n > 0 && target[e] >= 0 && target[e] != e;
          if (merged[e] == NULL)
            continue;
          int i1, i2;
          if (ok && find_expert_linears (model, m, e, &i1, &i2))
            ok = overlay_expert (view, i1, i2, merged[e], error);
          g_clear_pointer (&merged[e], sc_merge_expert_free);
        }
      if (!ok)
        return FALSE;
    }
  if (n_merged != NULL)
    *n_merged = folded;
  return TRUE;
}

gboolean
sc_merge_layer_error (ScModel *model, int moe_layer, const float *h, int n, const guint8 *keep,
                      ScMergeExpert *const *merged, double *rel_err, GCancellable *cancellable,
                      GError **error)
{
  const ScConfig *c = sc_model_get_config (model);
  int E = c->num_experts, d = c->d_model;
  double eom = 1.0 - c->moe_token_dropout;
  *rel_err = 0.0;
  if (n == 0)
    return TRUE;
  /* for sc_recon_route: logits only, the Gram matrices stay unused */
  g_autoptr (ScReconLayer) L = sc_recon_layer_new (n, E, (float) eom);
  if (!sc_model_moe_router_logits (model, moe_layer, h, n, L->logits, error))
    return FALSE;
  g_autofree int *fa = g_new (int, n), *fb = g_new (int, n), *ka = g_new (int, n),
                 *kb = g_new (int, n);
  g_autofree double *fwa = g_new (double, n), *fwb = g_new (double, n), *kwa = g_new (double, n),
                    *kwb = g_new (double, n);
  for (int t = 0; t < n; t++)
    {
      sc_recon_route (L, t, NULL, &fa[t], &fb[t], &fwa[t], &fwb[t]);
      sc_recon_route (L, t, keep, &ka[t], &kb[t], &kwa[t], &kwb[t]);
    }
  g_autofree double *diff = g_new0 (double, (gsize) n *d);
  g_autofree double *full = g_new0 (double, (gsize) n *d);
  g_autofree float *y = g_new (float, (gsize) n *d);
  for (int e = 0; e < E; e++)
    {
      gboolean in_full = FALSE, in_kept = FALSE;
      for (int t = 0; t < n; t++)
        {
          in_full |= fa[t] == e || fb[t] == e;
          in_kept |= ka[t] == e || kb[t] == e;
        }
      if (!in_full && !in_kept)
        continue;
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      /* the full model's expert */
      if (in_full)
        {
          if (!sc_model_moe_expert_forward (model, moe_layer, e, h, n, y, error))
            return FALSE;
          for (int t = 0; t < n; t++)
            {
              double w = fa[t] == e ? fwa[t] : fb[t] == e ? fwb[t] : 0.0;
              for (int j = 0; w != 0.0 && j < d; j++)
                {
                  full[(gsize) t * d + j] += eom * w * y[(gsize) t * d + j];
                  diff[(gsize) t * d + j] += eom * w * y[(gsize) t * d + j];
                }
            }
        }
      /* the pruned model's: merged, or the same expert */
      if (in_kept)
        {
          if (merged != NULL && merged[e] != NULL)
            sc_merge_expert_forward (merged[e], h, n, y);
          else if (!in_full && !sc_model_moe_expert_forward (model, moe_layer, e, h, n, y, error))
            return FALSE;
          for (int t = 0; t < n; t++)
            {
              double w = ka[t] == e ? kwa[t] : kb[t] == e ? kwb[t] : 0.0;
              for (int j = 0; w != 0.0 && j < d; j++)
                diff[(gsize) t * d + j] -= eom * w * y[(gsize) t * d + j];
            }
        }
    }
  double err = 0.0, ref = 0.0;
  for (gsize i = 0; i < (gsize) n * d; i++)
    {
      err += diff[i] * diff[i];
      ref += full[i] * full[i];
    }
  *rel_err = ref > 0.0 ? err / ref : 0.0;
  return TRUE;
}

gboolean
sc_merge_errors (ScModel *model, const ScCapture *cap, ScGranularity granularity, const char *src,
                 const char *tgt, const ScSelection *sel, double *rel_err,
                 GCancellable *cancellable, GError **error)
{
  const ScConfig *c = sc_model_get_config (model);
  int E = c->num_experts, d = c->d_model, n_moe = sc_model_n_moe_layers (model);
  int n_enc = 0;
  for (int i = 0; i < c->encoder_layers; i++)
    n_enc += sc_config_is_sparse (c, FALSE, i);
  if (!sc_capture_check_shape (cap, n_moe, n_enc, d, error))
    return FALSE;
  if (sel->n_layers != n_moe || sel->n_experts != E)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "the selection is not of this model");
      return FALSE;
    }
  g_autofree guint8 *keep = g_new (guint8, E);
  g_autofree ScMergeExpert **merged = g_new0 (ScMergeExpert *, E);
  for (int m = 0; m < n_moe; m++)
    {
      memset (keep, 0, E);
      for (guint i = 0; i < sel->kept[m]->len; i++)
        keep[g_array_index (sel->kept[m], int, i)] = 1;
      int n = 0;
      g_autofree float *h = sc_capture_tokens_for (cap, granularity, src, tgt, m, &n);
      gboolean ok =
          sc_merge_layer (model, m, h, n, keep, merged, NULL, cancellable, error) &&
          sc_merge_layer_error (model, m, h, n, keep, merged, &rel_err[m], cancellable, error);
      for (int e = 0; e < E; e++)
        g_clear_pointer (&merged[e], sc_merge_expert_free);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}
