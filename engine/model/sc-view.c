/* sc-view.c: a run over a shared model (sc-view.h): its kept experts,
 * observers and weight overlay, the table of what each expert reads, the
 * blocks every pass is built of, and the encoder. */
#include "sc-model-private.h"

#include <math.h>
#include <string.h>

#define LN_EPS 1e-5f

/* ---- the view ----------------------------------------------------------- */

/* One entry of the expert table: the overlay's weights and biases where it
 * replaced them, else the checkpoint's (read through the model's cache when
 * the model has one and the expert is all the checkpoint's). Resolved when
 * the view is made and when its overlay changes, so moe_forward never looks
 * further. */
static void
resolve_expert (ScView *view, int m, int e)
{
  ScModel *model = view->model;
  ScExpertRef *r = &view->table[m * model->config->num_experts + e];
  r->ffn = model->moe[m]->experts[e];
  r->present = r->ffn.fc1.w != NULL;
  Linear *lins[] = { &r->ffn.fc1, &r->ffn.fc2 };
  for (guint k = 0; k < G_N_ELEMENTS (lins) && r->present; k++)
    {
      if (view->overlay != NULL && lins[k]->id >= 0 && view->overlay[lins[k]->id] != NULL)
        lins[k]->w = view->overlay[lins[k]->id];
      if (view->bias_overlay != NULL && lins[k]->id >= 0 && view->bias_overlay[lins[k]->id] != NULL)
        lins[k]->b = view->bias_overlay[lins[k]->id];
    }
  r->cached = r->present && sc_model_expert_in_checkpoint (model, &r->ffn);
}

ScView *
sc_view_new (ScModel *model, ScExpertSet *experts, GError **error)
{
  g_return_val_if_fail (model != NULL, NULL);
  int E = model->config->num_experts;
  if (experts != NULL)
    {
      if (sc_expert_set_n_moe_layers (experts) != model->n_moe ||
          sc_expert_set_n_experts (experts) != E)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                       "the expert set has %d MoE layers of %d experts; the model %d of %d",
                       sc_expert_set_n_moe_layers (experts), sc_expert_set_n_experts (experts),
                       model->n_moe, E);
          return NULL;
        }
      if (!sc_model_check_expert_keep (model, sc_expert_set_get_keep (experts), error))
        return NULL;
    }
  ScView *view = g_new0 (ScView, 1);
  view->model = model;
  if (experts != NULL)
    {
      view->experts = sc_expert_set_ref (experts);
      view->keep = sc_expert_set_get_keep (experts);
    }
  view->table = g_new0 (ScExpertRef, (gsize) MAX (model->n_moe * E, 1));
  for (int m = 0; m < model->n_moe; m++)
    for (int e = 0; e < E; e++)
      resolve_expert (view, m, e);
  return view;
}

ScView *
sc_view_new_from_keep (ScModel *model, const guint8 *keep, GError **error)
{
  g_autoptr (ScExpertSet) set =
      keep != NULL ? sc_expert_set_new_from_keep (keep, model->n_moe, model->config->num_experts)
                   : NULL;
  return sc_view_new (model, set, error);
}

void
sc_view_free (ScView *view)
{
  if (view == NULL)
    return;
  ScTensor **overlays[] = { view->overlay, view->bias_overlay };
  for (guint k = 0; k < G_N_ELEMENTS (overlays); k++)
    {
      for (guint i = 0; overlays[k] != NULL && i < view->model->linears->len; i++)
        if (overlays[k][i] != NULL)
          {
            g_free ((gpointer) overlays[k][i]->data);
            sc_tensor_free (overlays[k][i]);
          }
      g_free (overlays[k]);
    }
  g_free (view->table);
  g_clear_pointer (&view->experts, sc_expert_set_unref);
  g_free (view);
}

ScModel *
sc_view_get_model (ScView *view)
{
  return view->model;
}

ScExpertSet *
sc_view_get_experts (ScView *view)
{
  return view->experts;
}

void
sc_view_set_router_observer (ScView *view, ScRouterObserver observer, gpointer user_data)
{
  view->router_observer = observer;
  view->router_data = user_data;
}

void
sc_view_set_linear_observer (ScView *view, ScLinearObserver observer, gpointer user_data)
{
  view->linear_observer = observer;
  view->linear_data = user_data;
}

/* Puts t in slot i of one of the view's overlays (made on first use; a
 * second replacement of the same tensor frees the first) and re-resolves
 * the expert it belongs to, the only one that reads differently now. */
static void
put_overlay (ScView *view, ScTensor ***overlay, int i, ScTensor *t)
{
  GPtrArray *linears = view->model->linears;
  if (*overlay == NULL)
    *overlay = g_new0 (ScTensor *, linears->len);
  if ((*overlay)[i] != NULL)
    {
      g_free ((gpointer) (*overlay)[i]->data);
      sc_tensor_free ((*overlay)[i]);
      view->n_overlay--;
    }
  (*overlay)[i] = t;
  view->n_overlay++;
  int E = view->model->config->num_experts;
  for (int k = 0; k < view->model->n_moe * E; k++)
    if (view->table[k].ffn.fc1.id == i || view->table[k].ffn.fc2.id == i)
      resolve_expert (view, k / E, k % E);
}

static gboolean
check_linear (ScView *view, int i, float *data, GError **error)
{
  GPtrArray *linears = view->model->linears;
  if (i >= 0 && i < (int) linears->len)
    return TRUE;
  g_free (data);
  g_set_error (error, SC_ERROR, SC_ERROR_MISSING, "no linear layer %d (the model has %u)", i,
               linears->len);
  return FALSE;
}

gboolean
sc_view_replace_linear_weight (ScView *view, int i, float *data, GError **error)
{
  if (!check_linear (view, i, data, error))
    return FALSE;
  const Linear *lin = view->model->linears->pdata[i];
  ScTensor *t = g_new0 (ScTensor, 1);
  t->name = g_strdup (lin->w->name);
  t->dtype = SC_DTYPE_F32;
  t->n_dims = 2;
  t->shape[0] = lin->n_out;
  t->shape[1] = lin->n_in;
  t->data = data;
  t->nbytes = sizeof (float) * (guint64) lin->n_out * lin->n_in;
  put_overlay (view, &view->overlay, i, t);
  return TRUE;
}

gboolean
sc_view_replace_linear_bias (ScView *view, int i, float *data, GError **error)
{
  if (!check_linear (view, i, data, error))
    return FALSE;
  const Linear *lin = view->model->linears->pdata[i];
  /* a bias the checkpoint lacks has no tensor an export could write */
  if (lin->b == NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_MISSING, "%s has no bias to replace", lin->w->name);
      g_free (data);
      return FALSE;
    }
  ScTensor *t = g_new0 (ScTensor, 1);
  t->name = g_strdup (lin->b->name);
  t->dtype = SC_DTYPE_F32;
  t->n_dims = 1;
  t->shape[0] = lin->n_out;
  t->data = data;
  t->nbytes = sizeof (float) * (guint64) lin->n_out;
  put_overlay (view, &view->bias_overlay, i, t);
  return TRUE;
}

const ScTensor *
sc_view_get_linear_weight (ScView *view, int i)
{
  GPtrArray *linears = view->model->linears;
  g_return_val_if_fail (i >= 0 && i < (int) linears->len, NULL);
  if (view->overlay != NULL && view->overlay[i] != NULL)
    return view->overlay[i];
  return ((const Linear *) linears->pdata[i])->w;
}

const ScTensor *
sc_view_get_replaced_weight (ScView *view, const char *name)
{
  ScTensor **overlays[] = { view->overlay, view->bias_overlay };
  for (guint k = 0; k < G_N_ELEMENTS (overlays); k++)
    for (guint i = 0; overlays[k] != NULL && i < view->model->linears->len; i++)
      if (overlays[k][i] != NULL && g_str_equal (overlays[k][i]->name, name))
        return overlays[k][i];
  return NULL;
}

guint
sc_view_n_replaced (ScView *view)
{
  return view->n_overlay;
}

/* ---- blocks ------------------------------------------------------------- */

void
sc_run_linear (ScView *view, const Linear *lin, const float *x, int M, float *y)
{
  ScBackend *be = view->model->be;
  if (M == 0)
    return;
  if (view->linear_observer != NULL && lin->id >= 0)
    view->linear_observer (lin->id, x, M, view->linear_data);
  /* Expert weights come resolved from the table; the dense ones are looked
   * up here (one pointer per call). */
  const ScTensor *w = lin->w;
  if (view->overlay != NULL && lin->id >= 0 && view->overlay[lin->id] != NULL)
    w = view->overlay[lin->id];
  const float *b32 = lin->b32;
  if (view->bias_overlay != NULL && lin->id >= 0 && view->bias_overlay[lin->id] != NULL)
    b32 = (const float *) view->bias_overlay[lin->id]->data;
  if (b32 != NULL)
    {
      be->linear (be, x, M, lin->n_in, w, b32, y);
      return;
    }
  g_autofree float *bias = g_new (float, lin->n_out);
  sc_tensor_read_f32 (lin->b, 0, lin->n_out, bias);
  be->linear (be, x, M, lin->n_in, w, bias, y);
}

void
sc_run_layer_norm (ScView *view, const Norm *norm, const float *x, int M, float *y)
{
  ScModel *model = view->model;
  model->be->layer_norm (model->be, x, M, model->config->d_model, norm->g, norm->b, LN_EPS, y);
}

/* Dense FFN: fc2(relu(fc1(h))). */
void
sc_run_ffn (ScView *view, const Ffn *f, const float *h, int n, float *out)
{
  ScBackend *be = view->model->be;
  g_autofree float *mid = g_new (float, (gsize) n * f->fc1.n_out);
  sc_run_linear (view, &f->fc1, h, n, mid);
  be->relu (be, mid, (gsize) n * f->fc1.n_out);
  sc_run_linear (view, &f->fc2, mid, n, out);
}

/* Names the first weight outside the experts that holds NaN or infinity
 * (scanning the experts would read the whole checkpoint), the view's
 * replacements first, for the error of a forward pass that went
 * non-finite; NULL when none does. */
static char *
find_nonfinite_weight (ScView *view)
{
  ScModel *model = view->model;
  ScTensor **overlays[] = { view->overlay, view->bias_overlay };
  for (guint k = 0; k < G_N_ELEMENTS (overlays); k++)
    for (guint i = 0; overlays[k] != NULL && i < model->linears->len; i++)
      {
        const ScTensor *t = overlays[k][i];
        int64_t at;
        if (t != NULL && sc_tensor_find_nonfinite (t, &at))
          return g_strdup_printf ("%s (element %" G_GINT64_FORMAT ")", t->name, at);
      }
  const char *const *names = sc_checkpoint_names (model->ckpt);
  for (guint i = 0; i < sc_checkpoint_n_tensors (model->ckpt); i++)
    {
      if (strstr (names[i], ".experts.") != NULL)
        continue;
      const ScTensor *t = sc_checkpoint_get (model->ckpt, names[i]);
      int64_t at;
      if (t != NULL && sc_tensor_find_nonfinite (t, &at))
        return g_strdup_printf ("%s (element %" G_GINT64_FORMAT ")", names[i], at);
    }
  return NULL;
}

gboolean
sc_run_nonfinite_error (ScView *view, GError **error, const char *what)
{
  g_autofree char *weight = find_nonfinite_weight (view);
  if (weight != NULL)
    g_set_error (error, SC_ERROR, SC_ERROR_NOT_FINITE,
                 "The model computes NaN or infinity (%s): its weight %s is NaN or infinite", what,
                 weight);
  else
    g_set_error (error, SC_ERROR, SC_ERROR_NOT_FINITE,
                 "The model computes NaN or infinity (%s); no weight outside the experts is "
                 "NaN or infinite, so an expert's weights or an overflow is the cause",
                 what);
  return FALSE;
}

/* ---- encoder ------------------------------------------------------------ */

/* A partial checkpoint runs only in a view whose set prunes its absent
 * experts (sc_view_new refuses sets that keep one). */
gboolean
sc_run_check_complete (ScView *view, GError **error)
{
  ScModel *model = view->model;
  if (model->n_missing > 0 && view->keep == NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_MISSING,
                   "%d experts are missing from this checkpoint (absent shard files); choose the "
                   "experts to keep first",
                   model->n_missing);
      return FALSE;
    }
  return TRUE;
}

void
sc_encoding_free (ScEncoding *enc)
{
  if (enc == NULL)
    return;
  g_free (enc->hidden);
  g_free (enc->valid);
  g_free (enc->ids);
  g_free (enc);
}

gboolean
sc_run_check_ids (ScModel *model, const int *ids, gsize n, GError **error)
{
  for (gsize i = 0; i < n; i++)
    if (ids[i] < 0 || ids[i] >= model->config->vocab_size)
      {
        g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "token id %d is outside the vocabulary (%d)",
                     ids[i], model->config->vocab_size);
        return FALSE;
      }
  return TRUE;
}

ScEncoding *
sc_view_encode (ScView *view, const int *ids, const int *lengths, int B, int S, GError **error)
{
  ScModel *model = view->model;
  const ScConfig *c = model->config;
  int d = c->d_model, H = c->encoder_heads, n = B * S;

  if (B <= 0 || S <= 0)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "empty batch");
      return NULL;
    }
  if (!sc_run_check_complete (view, error))
    return NULL;
  if (!sc_run_check_ids (model, ids, (gsize) n, error))
    return NULL;

  g_autoptr (ScEncoding) enc = g_new0 (ScEncoding, 1);
  enc->B = B, enc->S = S, enc->d = d;
  enc->valid = g_new0 (guint8, n);
  enc->ids = g_memdup2 (ids, sizeof (int) * (gsize) n);
  g_autofree int *pos = g_new (int, n);
  g_autofree int *rows = g_new (int, n);
  for (int b = 0; b < B; b++)
    {
      if (lengths[b] < 1 || lengths[b] > S)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "row %d has length %d outside [1, %d]", b,
                       lengths[b], S);
          return NULL;
        }
      int seen = 0;
      for (int s = 0; s < S; s++)
        {
          int i = b * S + s;
          rows[i] = b;
          enc->valid[i] = s < lengths[b];
          /* fairseq make_positions: real tokens count from 2, pads sit at 1. */
          gboolean real = ids[i] != c->pad_token_id;
          seen += real;
          pos[i] = real ? seen + c->pad_token_id : c->pad_token_id;
        }
    }

  float *x = g_new (float, (gsize) n *d);
  enc->hidden = x;
  g_autofree float *h = g_new (float, (gsize) n *d);
  g_autofree float *q = g_new (float, (gsize) n *d);
  g_autofree float *k = g_new (float, (gsize) n *d);
  g_autofree float *v = g_new (float, (gsize) n *d);
  g_autofree float *a = g_new (float, (gsize) n *d);

  model->be->embed (model->be, model->embed, ids, pos, n, model->embed_scale, x);

  for (int l = 0; l < c->encoder_layers; l++)
    {
      const Layer *L = &model->enc[l];
      sc_run_layer_norm (view, &L->sa_ln, x, n, h);
      sc_run_linear (view, &L->q, h, n, q);
      sc_run_linear (view, &L->k, h, n, k);
      sc_run_linear (view, &L->v, h, n, v);
      for (int b = 0; b < B; b++)
        {
          gsize off = (gsize) b * S * d;
          model->be->attention (model->be, q + off, d, k + off, v + off, d, S, S, H, d / H,
                                enc->valid + (gsize) b * S, FALSE, 0, a + off, d);
        }
      sc_run_linear (view, &L->o, a, n, h);
      model->be->add (model->be, x, h, (gsize) n * d);

      sc_run_layer_norm (view, &L->ff_ln, x, n, h);
      if (!sc_run_ff_block (view, L, FALSE, l, h, n, enc->valid, rows, a, error))
        return NULL;
      model->be->add (model->be, x, a, (gsize) n * d);
    }
  sc_run_layer_norm (view, &model->enc_ln, x, n, h);
  memcpy (x, h, sizeof (float) * (gsize) n * d);
  return g_steal_pointer (&enc);
}
