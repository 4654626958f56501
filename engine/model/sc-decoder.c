/* sc-decoder.c: the incremental decoder of a view (sc-view.h), with its KV
 * cache and beam reordering. */
#include "sc-model-private.h"

#include <string.h>

struct _ScDecoder
{
  ScView *view;
  ScModel *model;
  int n_rows, max_len, len;
  int S;                      /* source length */
  int *src_row;               /* [n_rows] */
  guint8 *src_valid;          /* [B_src, S] */
  float **cross_k, **cross_v; /* per layer [B_src, S, d] */
  float **self_k, **self_v;   /* per layer [n_rows, max_len, d] */
  float *moved;               /* reorder's scratch, kept across steps */
  gsize moved_cap;            /* its floats */
};

void
sc_decoder_free (ScDecoder *dec)
{
  if (dec == NULL)
    return;
  int L = dec->model->config->decoder_layers;
  for (int l = 0; l < L; l++)
    {
      g_free (dec->cross_k[l]);
      g_free (dec->cross_v[l]);
      g_free (dec->self_k[l]);
      g_free (dec->self_v[l]);
    }
  g_free (dec->cross_k);
  g_free (dec->cross_v);
  g_free (dec->self_k);
  g_free (dec->self_v);
  g_free (dec->src_row);
  g_free (dec->src_valid);
  g_free (dec->moved);
  g_free (dec);
}

ScDecoder *
sc_decoder_new (ScView *view, const ScEncoding *enc, int n_rows, const int *src_row, int max_len,
                GError **error)
{
  ScModel *model = view->model;
  const ScConfig *c = model->config;
  int d = c->d_model, L = c->decoder_layers;
  int n_src = enc->B * enc->S;

  if (n_rows <= 0 || max_len <= 0)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "decoder needs at least one row and step");
      return NULL;
    }
  if (!sc_run_check_complete (view, error))
    return NULL;
  for (int r = 0; r < n_rows; r++)
    if (src_row[r] < 0 || src_row[r] >= enc->B)
      {
        g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "decoder row %d reads missing source row %d",
                     r, src_row[r]);
        return NULL;
      }

  ScDecoder *dec = g_new0 (ScDecoder, 1);
  dec->view = view;
  dec->model = model;
  dec->n_rows = n_rows;
  dec->max_len = max_len;
  dec->S = enc->S;
  dec->src_row = g_memdup2 (src_row, sizeof (int) * n_rows);
  dec->src_valid = g_memdup2 (enc->valid, (gsize) n_src);
  dec->cross_k = g_new0 (float *, L);
  dec->cross_v = g_new0 (float *, L);
  dec->self_k = g_new0 (float *, L);
  dec->self_v = g_new0 (float *, L);
  /* Cross-attention keys and values depend only on the encoder output:
   * computed once here, shared by every decoder row of the same source. */
  for (int l = 0; l < L; l++)
    {
      dec->cross_k[l] = g_new (float, (gsize) n_src *d);
      dec->cross_v[l] = g_new (float, (gsize) n_src *d);
      sc_run_linear (view, &model->dec[l].ck, enc->hidden, n_src, dec->cross_k[l]);
      sc_run_linear (view, &model->dec[l].cv, enc->hidden, n_src, dec->cross_v[l]);
      dec->self_k[l] = g_new (float, (gsize) n_rows *max_len *d);
      dec->self_v[l] = g_new (float, (gsize) n_rows *max_len *d);
    }
  return dec;
}

int
sc_decoder_get_length (ScDecoder *dec)
{
  return dec->len;
}

static gboolean
forward (ScDecoder *dec, const int *tokens, int T, float *logits, gboolean last_only,
         GError **error)
{
  ScView *view = dec->view;
  ScModel *model = dec->model;
  const ScConfig *c = model->config;
  int d = c->d_model, H = c->decoder_heads, R = dec->n_rows, n = R * T;
  int past = dec->len;
  int V = (int) model->lm_head->shape[0];

  if (T <= 0 || past + T > dec->max_len)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                   "decoder length %d exceeds its reserved %d positions", past + T, dec->max_len);
      return FALSE;
    }
  if (!sc_run_check_ids (model, tokens, (gsize) n, error))
    return FALSE;

  g_autofree int *pos = g_new (int, n);
  g_autofree int *rows = g_new (int, n);
  for (int r = 0; r < R; r++)
    {
      int seen = 0;
      for (int t = 0; t < T; t++)
        {
          int i = r * T + t;
          gboolean real = tokens[i] != c->pad_token_id;
          seen += real;
          rows[i] = r;
          pos[i] = real ? seen + past + c->pad_token_id : c->pad_token_id;
        }
    }

  g_autofree float *x = g_new (float, (gsize) n *d);
  g_autofree float *h = g_new (float, (gsize) n *d);
  g_autofree float *q = g_new (float, (gsize) n *d);
  g_autofree float *k = g_new (float, (gsize) n *d);
  g_autofree float *v = g_new (float, (gsize) n *d);
  g_autofree float *a = g_new (float, (gsize) n *d);

  model->be->embed (model->be, model->embed, tokens, pos, n, model->embed_scale, x);

  for (int l = 0; l < c->decoder_layers; l++)
    {
      const Layer *L = &model->dec[l];
      /* causal self-attention over the cache plus the new tokens */
      sc_run_layer_norm (view, &L->sa_ln, x, n, h);
      sc_run_linear (view, &L->q, h, n, q);
      sc_run_linear (view, &L->k, h, n, k);
      sc_run_linear (view, &L->v, h, n, v);
      for (int r = 0; r < R; r++)
        {
          float *kc = dec->self_k[l] + (gsize) r * dec->max_len * d;
          float *vc = dec->self_v[l] + (gsize) r * dec->max_len * d;
          memcpy (kc + (gsize) past * d, k + (gsize) r * T * d, sizeof (float) * (gsize) T * d);
          memcpy (vc + (gsize) past * d, v + (gsize) r * T * d, sizeof (float) * (gsize) T * d);
          model->be->attention (model->be, q + (gsize) r * T * d, d, kc, vc, d, T, past + T, H,
                                d / H, NULL, TRUE, past, a + (gsize) r * T * d, d);
        }
      sc_run_linear (view, &L->o, a, n, h);
      model->be->add (model->be, x, h, (gsize) n * d);

      /* cross-attention over the source */
      sc_run_layer_norm (view, &L->ca_ln, x, n, h);
      sc_run_linear (view, &L->cq, h, n, q);
      for (int r = 0; r < R; r++)
        {
          gsize so = (gsize) dec->src_row[r] * dec->S;
          model->be->attention (model->be, q + (gsize) r * T * d, d, dec->cross_k[l] + so * d,
                                dec->cross_v[l] + so * d, d, T, dec->S, H, d / H,
                                dec->src_valid + so, FALSE, 0, a + (gsize) r * T * d, d);
        }
      sc_run_linear (view, &L->co, a, n, h);
      model->be->add (model->be, x, h, (gsize) n * d);

      /* Decoder tokens are never masked out of routing (the causal mask's
     * last row is all zeros in Hugging Face). */
      sc_run_layer_norm (view, &L->ff_ln, x, n, h);
      if (!sc_run_ff_block (view, L, TRUE, l, h, n, NULL, rows, a, error))
        return FALSE;
      model->be->add (model->be, x, a, (gsize) n * d);
    }
  dec->len = past + T;

  int m = n;
  if (last_only && T > 1)
    {
      for (int r = 0; r < R; r++)
        memmove (x + (gsize) r * d, x + ((gsize) r * T + T - 1) * d, sizeof (float) * d);
      m = R;
    }
  sc_run_layer_norm (view, &model->dec_ln, x, m, h);
  model->be->linear (model->be, h, m, d, model->lm_head, NULL, logits);

  /* Once per step, cheap beside the product above: x * 0 is 0 unless x is
   * NaN or infinite, so one NaN anywhere makes the row's sum NaN. Without
   * this a broken model decodes garbage (or nothing) and scores NaN. */
  for (int r = 0; r < m; r++)
    {
      const float *l = logits + (gsize) r * V;
      float zero = 0.0f;
      for (int v = 0; v < V; v++)
        zero += l[v] * 0.0f;
      if (zero != 0.0f)
        {
          g_autofree char *what =
              g_strdup_printf ("the decoder's output logits at position %d are NaN or infinite",
                               past + (m == n ? r % T : T - 1) + 1);
          return sc_run_nonfinite_error (view, error, what);
        }
    }
  return TRUE;
}

gboolean
sc_decoder_forward (ScDecoder *dec, const int *tokens, int T, float *logits, gboolean last_only,
                    GError **error)
{
  /* One new token per row is a decoding step: its few-row products may
   * take the backend's own kernels (sc-backend.h); teacher forcing (T > 1)
   * keeps the reference order. */
  if (T != 1)
    return forward (dec, tokens, T, logits, last_only, error);
  gboolean was = sc_backend_translating_begin ();
  gboolean ok = forward (dec, tokens, T, logits, last_only, error);
  sc_backend_translating_end (was);
  return ok;
}

void
sc_decoder_reorder (ScDecoder *dec, const int *from)
{
  int d = dec->model->config->d_model, R = dec->n_rows;
  gsize row = (gsize) dec->max_len * d;
  gsize used = (gsize) dec->len * d;
  g_autofree int *src = g_memdup2 (dec->src_row, sizeof (int) * R);

  /* Rows that keep their own hypothesis (most, most steps) stay in place;
   * the others are read into a scratch buffer, then written. The buffer
   * is kept: allocating R rows per step went through mmap, munmap and
   * page faults at every token. */
  int n_moved = 0;
  for (int r = 0; r < R; r++)
    n_moved += from[r] != r;
  if ((gsize) n_moved * used > dec->moved_cap)
    {
      g_free (dec->moved);
      dec->moved_cap = (gsize) n_moved * used;
      dec->moved = g_new (float, dec->moved_cap);
    }
  for (int l = 0; l < dec->model->config->decoder_layers && n_moved > 0; l++)
    {
      float *caches[2] = { dec->self_k[l], dec->self_v[l] };
      for (int c = 0; c < 2; c++)
        {
          int i = 0;
          for (int r = 0; r < R; r++)
            if (from[r] != r)
              memcpy (dec->moved + i++ * used, caches[c] + from[r] * row, sizeof (float) * used);
          i = 0;
          for (int r = 0; r < R; r++)
            if (from[r] != r)
              memcpy (caches[c] + r * row, dec->moved + i++ * used, sizeof (float) * used);
        }
    }
  for (int r = 0; r < R; r++)
    dec->src_row[r] = src[from[r]];
}

void
sc_decoder_keep_rows (ScDecoder *dec, const int *keep, int n)
{
  int d = dec->model->config->d_model;
  gsize row = (gsize) dec->max_len * d;
  gsize used = (gsize) dec->len * d;
  g_return_if_fail (n >= 1 && n <= dec->n_rows);
  /* keep[i] >= i: each row moves down over one already moved or dropped */
  for (int l = 0; l < dec->model->config->decoder_layers; l++)
    for (int i = 0; i < n; i++)
      if (keep[i] != i)
        {
          memcpy (dec->self_k[l] + i * row, dec->self_k[l] + keep[i] * row, sizeof (float) * used);
          memcpy (dec->self_v[l] + i * row, dec->self_v[l] + keep[i] * row, sizeof (float) * used);
        }
  for (int i = 0; i < n; i++)
    dec->src_row[i] = dec->src_row[keep[i]];
  dec->n_rows = n;
}
