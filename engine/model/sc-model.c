/* sc-model.c: encoder and decoder of NLLB-MoE and dense NLLB (M2M100).
 *
 * Why over 1,000 lines: loading, the encoder and decoder passes, MoE
 * routing and the KV-cache decoder all work on the private Layer/Ffn
 * tables built at load. They split into their own files with the planned
 * model/run-view separation (docs/ARCHITECTURE.md "Known debts"), which
 * changes those tables; splitting first would only move them twice.
 *
 * Weights stay in the checkpoint mapping; only the small vectors (layer
 * norms and dense biases) are widened to f32 at load. Expert tensors are
 * located and shape-checked at load from their headers, and read only when
 * a token is routed to them.
 */
#include "sc-model.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LN_EPS 1e-5f

typedef struct
{
  const ScTensor *w;
  const ScTensor *b; /* may be NULL */
  float *b32;        /* widened bias, NULL for expert biases (widened on use) */
  int n_out, n_in;
  int id; /* index in the model's list of linear layers, -1 when absent */
} Linear;

typedef struct
{
  float *g, *b;
} Norm;

typedef struct
{
  Linear fc1, fc2;
} Ffn;

typedef struct
{
  Norm sa_ln;
  Linear q, k, v, o;
  Norm ca_ln; /* decoder only */
  Linear cq, ck, cv, co;
  Norm ff_ln;
  gboolean sparse;
  int moe_index;
  Ffn dense;
  const ScTensor *router; /* [n_rows, d] */
  int n_rows;             /* router rows: E, or the kept experts of a pruned checkpoint */
  int *row_expert;        /* [n_rows] expert id of each row; NULL = identity */
  guint8 *row_keep;       /* [E] experts with a router row; NULL = all */
  Ffn *experts;           /* [E], only kept ones loaded in a pruned checkpoint */
} Layer;

struct _ScModel
{
  ScConfig *config;
  ScCheckpoint *ckpt;
  ScTokenizer *tok;
  ScBackend *be;
  gboolean own_backend;
  ScDType dtype;
  const ScTensor *embed;   /* shared [V, d] */
  const ScTensor *lm_head; /* [V, d], the shared table unless untied */
  Layer *enc, *dec;
  Norm enc_ln, dec_ln;
  float embed_scale;
  guint64 n_dense, n_experts;
  ScRouterObserver observer;
  gpointer observer_data;
  GPtrArray *linears; /* Linear*, forward order (sc_model_get_linear) */
  GArray *linear_blocks; /* int, block of each */
  ScLinearObserver linear_observer;
  gpointer linear_observer_data;
  GPtrArray *replaced; /* ScTensor* with owned f32 data, weights replaced by pruning */
  GPtrArray *allocs; /* vectors widened at load */
  int n_moe;
  int n_missing; /* experts absent from a partial checkpoint */
  guint8 *keep;  /* [n_moe * num_experts] or NULL: every expert */
  ScExpertCache *cache; /* expert budget, NULL: experts read in place */
  ScMoeShape shape;     /* measured at load (sc-moe-shape.h) */
};

/* ---- loading ------------------------------------------------------------ */

typedef struct
{
  ScModel *model;
  const char *prefix; /* "model." or "" */
  gboolean allow_missing_experts;
} Loader;

static const ScTensor *find (Loader *ld, GError **error, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static const ScTensor *
find (Loader *ld, GError **error, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *suffix = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_autofree char *name = g_strconcat (ld->prefix, suffix, NULL);
  const ScTensor *t = sc_checkpoint_get (ld->model->ckpt, name);
  if (t == NULL)
    g_set_error (error, SC_ERROR, SC_ERROR_MISSING, "checkpoint has no tensor \"%s\"", name);
  return t;
}

static gboolean
check_shape (const ScTensor *t, int n_dims, int64_t d0, int64_t d1, GError **error)
{
  if (t->dtype != SC_DTYPE_F32 && t->dtype != SC_DTYPE_F16 && t->dtype != SC_DTYPE_BF16)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_UNSUPPORTED,
                   "tensor \"%s\" has dtype %s; weights must be F32, F16 or BF16", t->name,
                   sc_dtype_name (t->dtype));
      return FALSE;
    }
  if (t->n_dims != n_dims || t->shape[0] != d0 || (n_dims == 2 && t->shape[1] != d1))
    {
      g_autoptr (GString) got = g_string_new ("[");
      for (int i = 0; i < t->n_dims; i++)
        g_string_append_printf (got, "%s%" G_GINT64_FORMAT, i ? ", " : "", t->shape[i]);
      g_string_append_c (got, ']');
      g_autofree char *want =
          n_dims == 2 ? g_strdup_printf ("[%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "]", d0, d1)
                      : g_strdup_printf ("[%" G_GINT64_FORMAT "]", d0);
      g_set_error (error, SC_ERROR, SC_ERROR_SHAPE, "tensor \"%s\" has shape %s, expected %s",
                   t->name, got->str, want);
      return FALSE;
    }
  return TRUE;
}

static float *
widen_vector (Loader *ld, const ScTensor *t)
{
  int64_t n = sc_tensor_numel (t);
  float *v = g_new (float, n);
  sc_tensor_read_f32 (t, 0, n, v);
  g_ptr_array_add (ld->model->allocs, v);
  return v;
}

static gboolean
load_norm (Loader *ld, Norm *norm, int d, const char *base, GError **error)
{
  const ScTensor *g = find (ld, error, "%s.weight", base);
  const ScTensor *b = g ? find (ld, error, "%s.bias", base) : NULL;
  if (b == NULL || !check_shape (g, 1, d, 0, error) || !check_shape (b, 1, d, 0, error))
    return FALSE;
  norm->g = widen_vector (ld, g);
  norm->b = widen_vector (ld, b);
  return TRUE;
}

static gboolean
load_linear (Loader *ld, Linear *lin, int n_out, int n_in, gboolean widen_bias, const char *base,
             GError **error)
{
  lin->w = find (ld, error, "%s.weight", base);
  lin->b = lin->w ? find (ld, error, "%s.bias", base) : NULL;
  if (lin->b == NULL || !check_shape (lin->w, 2, n_out, n_in, error) ||
      !check_shape (lin->b, 1, n_out, 0, error))
    return FALSE;
  lin->n_out = n_out;
  lin->n_in = n_in;
  lin->b32 = widen_bias ? widen_vector (ld, lin->b) : NULL;
  return TRUE;
}

static gboolean
load_layer (Loader *ld, Layer *L, gboolean decoder, int i, int *moe_counter, GError **error)
{
  const ScConfig *c = ld->model->config;
  gboolean nllb = c->arch == SC_ARCH_NLLB_MOE;
  int d = c->d_model;
  int ffn = decoder ? c->decoder_ffn_dim : c->encoder_ffn_dim;
  g_autofree char *p = g_strdup_printf ("%s.layers.%d", decoder ? "decoder" : "encoder", i);
  g_autofree char *n = NULL;

#define NAME(...) (g_free (n), n = g_strdup_printf (__VA_ARGS__))
  if (!load_norm (ld, &L->sa_ln, d, NAME ("%s.self_attn_layer_norm", p), error) ||
      !load_linear (ld, &L->q, d, d, TRUE, NAME ("%s.self_attn.q_proj", p), error) ||
      !load_linear (ld, &L->k, d, d, TRUE, NAME ("%s.self_attn.k_proj", p), error) ||
      !load_linear (ld, &L->v, d, d, TRUE, NAME ("%s.self_attn.v_proj", p), error) ||
      !load_linear (ld, &L->o, d, d, TRUE, NAME ("%s.self_attn.out_proj", p), error))
    return FALSE;

  if (decoder)
    {
      const char *ca = nllb ? "cross_attention" : "encoder_attn";
      if (!load_norm (ld, &L->ca_ln, d, NAME ("%s.%s_layer_norm", p, ca), error) ||
          !load_linear (ld, &L->cq, d, d, TRUE, NAME ("%s.%s.q_proj", p, ca), error) ||
          !load_linear (ld, &L->ck, d, d, TRUE, NAME ("%s.%s.k_proj", p, ca), error) ||
          !load_linear (ld, &L->cv, d, d, TRUE, NAME ("%s.%s.v_proj", p, ca), error) ||
          !load_linear (ld, &L->co, d, d, TRUE, NAME ("%s.%s.out_proj", p, ca), error))
        return FALSE;
    }

  if (!load_norm (ld, &L->ff_ln, d, NAME ("%s.%s", p, nllb ? "ff_layer_norm" : "final_layer_norm"),
                  error))
    return FALSE;

  L->sparse = sc_config_is_sparse (c, decoder, i);
  if (!L->sparse)
    {
      const char *f = nllb ? "ffn." : "";
      return load_linear (ld, &L->dense.fc1, ffn, d, TRUE, NAME ("%s.%sfc1", p, f), error) &&
             load_linear (ld, &L->dense.fc2, d, ffn, TRUE, NAME ("%s.%sfc2", p, f), error);
    }

  L->moe_index = (*moe_counter)++;
  /* A pruned checkpoint holds only its kept experts, under their original
   * names or renumbered 0..k-1 (sc-config.h), and a router with one row per
   * kept expert. */
  GArray *kept = c->kept_experts ? g_ptr_array_index (c->kept_experts, L->moe_index) : NULL;
  L->n_rows = kept ? (int) kept->len : c->num_experts;
  L->router = find (ld, error, "%s.ffn.router.classifier.weight", p);
  if (L->router == NULL || !check_shape (L->router, 2, L->n_rows, d, error))
    return FALSE;
  if (kept != NULL)
    {
      L->row_expert = g_memdup2 (kept->data, sizeof (int) * kept->len);
      L->row_keep = g_new0 (guint8, c->num_experts);
      for (guint r = 0; r < kept->len; r++)
        L->row_keep[g_array_index (kept, int, r)] = 1;
    }
  L->experts = g_new0 (Ffn, c->num_experts);
  for (int r = 0; r < L->n_rows; r++)
    {
      int e = kept ? g_array_index (kept, int, r) : r;
      int stored = c->experts_renumbered ? r : e;
      if (ld->allow_missing_experts)
        {
          g_autofree char *probe =
              g_strdup_printf ("%s%s.ffn.experts.expert_%d.fc1.weight", ld->prefix, p, stored);
          if (sc_checkpoint_is_missing (ld->model->ckpt, probe))
            {
              ld->model->n_missing++;
              continue; /* absent: usable only under a mask that prunes it */
            }
        }
      if (!load_linear (ld, &L->experts[e].fc1, ffn, d, FALSE,
                        NAME ("%s.ffn.experts.expert_%d.fc1", p, stored), error) ||
          !load_linear (ld, &L->experts[e].fc2, d, ffn, FALSE,
                        NAME ("%s.ffn.experts.expert_%d.fc2", p, stored), error))
        return FALSE;
    }
#undef NAME
  return TRUE;
}

/* Numbers every present linear layer in forward order (sc-model.h). */
static void
add_linear (ScModel *model, Linear *lin, int block)
{
  lin->id = -1;
  if (lin->w == NULL)
    return;
  lin->id = (int) model->linears->len;
  g_ptr_array_add (model->linears, lin);
  g_array_append_val (model->linear_blocks, block);
}

static void
list_linears (ScModel *model)
{
  const ScConfig *c = model->config;
  model->linears = g_ptr_array_new ();
  model->linear_blocks = g_array_new (FALSE, FALSE, sizeof (int));
  for (int b = 0; b < c->encoder_layers + c->decoder_layers; b++)
    {
      gboolean decoder = b >= c->encoder_layers;
      Layer *L = decoder ? &model->dec[b - c->encoder_layers] : &model->enc[b];
      Linear *attn[] = { &L->q, &L->k, &L->v, &L->o, &L->cq, &L->ck, &L->cv, &L->co };
      for (guint i = 0; i < (decoder ? 8u : 4u); i++)
        add_linear (model, attn[i], b);
      if (!L->sparse)
        {
          add_linear (model, &L->dense.fc1, b);
          add_linear (model, &L->dense.fc2, b);
          continue;
        }
      for (int e = 0; e < c->num_experts; e++)
        {
          add_linear (model, &L->experts[e].fc1, b);
          add_linear (model, &L->experts[e].fc2, b);
        }
    }
}

static void
count_params (ScModel *model)
{
  const char *const *names = sc_checkpoint_names (model->ckpt);
  for (guint i = 0; i < sc_checkpoint_n_tensors (model->ckpt); i++)
    {
      const ScTensor *t = sc_checkpoint_get (model->ckpt, names[i]);
      /* Tied copies of the embedding table are one parameter set. */
      if (t != model->embed &&
          (g_str_has_suffix (names[i], "embed_tokens.weight") ||
           g_str_has_suffix (names[i], "shared.weight") ||
           (g_str_equal (names[i], "lm_head.weight") && model->config->tie_word_embeddings)))
        continue;
      if (strstr (names[i], ".experts.expert_") != NULL)
        model->n_experts += sc_tensor_numel (t);
      else
        model->n_dense += sc_tensor_numel (t);
    }
}

void
sc_model_free (ScModel *model)
{
  if (model == NULL)
    return;
  if (model->enc)
    for (int i = 0; i < model->config->encoder_layers; i++)
      {
        g_free (model->enc[i].experts);
        g_free (model->enc[i].row_expert);
        g_free (model->enc[i].row_keep);
      }
  if (model->dec)
    for (int i = 0; i < model->config->decoder_layers; i++)
      {
        g_free (model->dec[i].experts);
        g_free (model->dec[i].row_expert);
        g_free (model->dec[i].row_keep);
      }
  g_free (model->enc);
  g_free (model->dec);
  g_clear_pointer (&model->tok, sc_tokenizer_free);
  g_clear_pointer (&model->ckpt, sc_checkpoint_free);
  g_clear_pointer (&model->config, sc_config_free);
  g_clear_pointer (&model->allocs, g_ptr_array_unref);
  g_clear_pointer (&model->linears, g_ptr_array_unref);
  g_clear_pointer (&model->linear_blocks, g_array_unref);
  g_clear_pointer (&model->replaced, g_ptr_array_unref);
  g_free (model->keep);
  sc_moe_shape_clear (&model->shape);
  sc_expert_cache_free (model->cache);
  if (model->own_backend)
    sc_backend_free (model->be);
  g_free (model);
}

ScModel *
sc_model_load (const char *dir, ScBackend *backend, GError **error)
{
  return sc_model_load_with_flags (dir, backend, SC_MODEL_LOAD_DEFAULT, error);
}

int
sc_model_n_missing_experts (ScModel *model)
{
  return model->n_missing;
}

ScModel *
sc_model_load_with_flags (const char *dir, ScBackend *backend, ScModelLoadFlags flags,
                          GError **error)
{
  g_autoptr (ScModel) model = g_new0 (ScModel, 1);
  gboolean partial = (flags & SC_MODEL_LOAD_ALLOW_MISSING_EXPERTS) != 0;

  model->config = sc_config_load (dir, error);
  if (model->config == NULL)
    return NULL;
  model->ckpt = sc_checkpoint_open_with_flags (
      dir, partial ? SC_CHECKPOINT_OPEN_ALLOW_MISSING_SHARDS : SC_CHECKPOINT_OPEN_DEFAULT, error);
  if (model->ckpt == NULL)
    return NULL;
  model->tok = sc_tokenizer_load (dir, error);
  if (model->tok == NULL)
    return NULL;

  const ScConfig *c = model->config;
  if (sc_tokenizer_vocab_size (model->tok) > c->vocab_size)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_CONFIG,
                   "%s: the tokenizer has %d ids but the model only %d embedding rows", dir,
                   sc_tokenizer_vocab_size (model->tok), c->vocab_size);
      return NULL;
    }

  model->allocs = g_ptr_array_new_with_free_func (g_free);
  Loader ld = { model, "", partial };

  if (sc_checkpoint_get (model->ckpt, "model.encoder.layer_norm.weight") != NULL)
    ld.prefix = "model.";

  static const char *const embed_names[] = {
    "shared.weight",
    "encoder.embed_tokens.weight",
    "decoder.embed_tokens.weight",
  };
  for (guint i = 0; i < G_N_ELEMENTS (embed_names) && model->embed == NULL; i++)
    {
      g_autofree char *name = g_strconcat (ld.prefix, embed_names[i], NULL);
      model->embed = sc_checkpoint_get (model->ckpt, name);
    }
  if (model->embed == NULL)
    model->embed = sc_checkpoint_get (model->ckpt, "lm_head.weight");
  gboolean ok = TRUE;
  if (model->embed == NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_MISSING,
                   "checkpoint has no embedding table (shared.weight)");
      ok = FALSE;
    }
  ok = ok && check_shape (model->embed, 2, c->vocab_size, c->d_model, error);

  model->lm_head = model->embed;
  if (ok && !c->tie_word_embeddings)
    {
      model->lm_head = sc_checkpoint_get (model->ckpt, "lm_head.weight");
      if (model->lm_head == NULL)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_MISSING,
                       "tie_word_embeddings is false but lm_head.weight is absent");
          ok = FALSE;
        }
      ok = ok && check_shape (model->lm_head, 2, c->vocab_size, c->d_model, error);
    }

  model->enc = g_new0 (Layer, c->encoder_layers);
  model->dec = g_new0 (Layer, c->decoder_layers);
  int moe = 0;
  for (int i = 0; ok && i < c->encoder_layers; i++)
    ok = load_layer (&ld, &model->enc[i], FALSE, i, &moe, error);
  for (int i = 0; ok && i < c->decoder_layers; i++)
    ok = load_layer (&ld, &model->dec[i], TRUE, i, &moe, error);
  ok = ok && load_norm (&ld, &model->enc_ln, c->d_model, "encoder.layer_norm", error) &&
       load_norm (&ld, &model->dec_ln, c->d_model, "decoder.layer_norm", error);

  if (!ok)
    {
      g_prefix_error (error, "%s: ", dir);
      return NULL;
    }
  model->n_moe = moe;
  model->dtype = model->embed->dtype;
  list_linears (model);
  model->embed_scale = c->scale_embedding ? sqrtf ((float) c->d_model) : 1.0f;
  count_params (model);
  g_autofree char *name = g_path_get_basename (dir);
  sc_moe_shape_from_config (&model->shape, c, name);
  sc_moe_shape_measure (&model->shape, c, model->ckpt);

  if (backend != NULL && (backend->router_top2 == NULL || backend->gather_rows == NULL ||
                          backend->scatter_add_rows == NULL))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_UNSUPPORTED,
                   "backend %s lacks the MoE kernels (router_top2, gather/scatter rows)",
                   backend->name);
      return NULL;
    }
  if (backend == NULL)
    {
      model->be = sc_backend_cpu_new (0);
      model->own_backend = TRUE;
    }
  else
    {
      model->be = backend;
    }
  return g_steal_pointer (&model);
}

const ScConfig *
sc_model_get_config (ScModel *model)
{
  return model->config;
}

ScTokenizer *
sc_model_get_tokenizer (ScModel *model)
{
  return model->tok;
}

ScCheckpoint *
sc_model_get_checkpoint (ScModel *model)
{
  return model->ckpt;
}

const char *
sc_model_get_dir (ScModel *model)
{
  return sc_checkpoint_dir (model->ckpt);
}

const ScMoeShape *
sc_model_get_moe_shape (ScModel *model)
{
  return &model->shape;
}

ScBackend *
sc_model_get_backend (ScModel *model)
{
  return model->be;
}

ScDType
sc_model_get_dtype (ScModel *model)
{
  return model->dtype;
}

guint64
sc_model_n_params_dense (ScModel *model)
{
  return model->n_dense;
}

guint64
sc_model_n_params_experts (ScModel *model)
{
  return model->n_experts;
}

void
sc_model_set_router_observer (ScModel *model, ScRouterObserver observer, gpointer user_data)
{
  model->observer = observer;
  model->observer_data = user_data;
}

int
sc_model_n_moe_layers (ScModel *model)
{
  return model->n_moe;
}

/* The Layer of MoE ordinal m (encoder MoE layers first). */
static const Layer *
moe_layer (ScModel *model, int m)
{
  for (int i = 0; i < model->config->encoder_layers; i++)
    if (model->enc[i].sparse && model->enc[i].moe_index == m)
      return &model->enc[i];
  for (int i = 0; i < model->config->decoder_layers; i++)
    if (model->dec[i].sparse && model->dec[i].moe_index == m)
      return &model->dec[i];
  g_assert_not_reached ();
}

gboolean
sc_model_set_expert_mask (ScModel *model, const guint8 *keep, GError **error)
{
  int E = model->config->num_experts;
  if (keep == NULL)
    {
      g_clear_pointer (&model->keep, g_free);
      return TRUE;
    }
  for (int m = 0; m < model->n_moe; m++)
    {
      int n = 0;
      const Layer *L = moe_layer (model, m);
      for (int e = 0; e < E; e++)
        {
          if (!keep[m * E + e])
            continue;
          n++;
          if (L->experts[e].fc1.w == NULL)
            {
              g_set_error (error, SC_ERROR, SC_ERROR_MISSING,
                           "MoE layer %d: expert %d was pruned from this checkpoint", m, e);
              return FALSE;
            }
        }
      if (n < 1)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                       "MoE layer %d keeps no expert; every MoE layer needs at least one", m);
          return FALSE;
        }
    }
  g_free (model->keep);
  model->keep = g_memdup2 (keep, (gsize) model->n_moe * E);
  return TRUE;
}

const guint8 *
sc_model_get_expert_mask (ScModel *model)
{
  return model->keep;
}

/* Whether an expert's tensors are the checkpoint's own (mapped), not
 * weights that pruning replaced: only those go through the cache. */
static gboolean
expert_in_checkpoint (ScModel *model, const Ffn *f)
{
  const ScTensor *t[] = { f->fc1.w, f->fc1.b, f->fc2.w, f->fc2.b };
  for (guint i = 0; i < G_N_ELEMENTS (t); i++)
    if (t[i] == NULL || t[i]->name == NULL || sc_checkpoint_get (model->ckpt, t[i]->name) != t[i])
      return FALSE;
  return TRUE;
}

/* The weights expert e of MoE layer m is read from: with an expert cache,
 * the cache's copy of the checkpoint's tensors (registered on first use,
 * also when they came back from a replacement) in `owned`; replaced weights
 * are owned memory already and are used in place. */
static const Ffn *
expert_weights (ScModel *model, int m, int e, Ffn *owned)
{
  const Ffn *f = &moe_layer (model, m)->experts[e];
  guint id = (guint) (m * model->config->num_experts + e);
  if (model->cache == NULL)
    return f;
  if (!expert_in_checkpoint (model, f))
    {
      sc_expert_cache_forget (model->cache, id);
      return f;
    }
  if (sc_expert_cache_expert_bytes (model->cache, id) == 0)
    {
      const ScTensor *src[] = { f->fc1.w, f->fc1.b, f->fc2.w, f->fc2.b };
      sc_expert_cache_set_source (model->cache, id, src, 4);
    }
  const ScTensor *const *t = sc_expert_cache_get (model->cache, id);
  *owned = *f;
  owned->fc1.w = t[0], owned->fc1.b = t[1], owned->fc2.w = t[2], owned->fc2.b = t[3];
  return owned;
}

gboolean
sc_model_set_expert_budget (ScModel *model, guint64 bytes, GError **error)
{
  int E = model->config->num_experts;
  g_clear_pointer (&model->cache, sc_expert_cache_free);
  if (bytes == 0 || model->n_moe == 0)
    return TRUE;
  model->cache = sc_expert_cache_new ((guint) (model->n_moe * E), bytes);
  /* Checkpoint tensors live in read-only file mappings. */
  sc_expert_cache_set_drop_pages (model->cache, TRUE);
  for (int m = 0; m < model->n_moe; m++)
    {
      const Layer *L = moe_layer (model, m);
      for (int e = 0; e < E; e++)
        {
          const Ffn *f = &L->experts[e];
          if (f->fc1.w == NULL || !expert_in_checkpoint (model, f))
            continue; /* pruned from the checkpoint (never loaded) or replaced */
          const ScTensor *t[] = { f->fc1.w, f->fc1.b, f->fc2.w, f->fc2.b };
          sc_expert_cache_set_source (model->cache, (guint) (m * E + e), t, 4);
        }
    }
  return TRUE;
}

ScExpertCache *
sc_model_get_expert_cache (ScModel *model)
{
  return model->cache;
}

/* ---- blocks ------------------------------------------------------------- */

static void
linear (ScModel *model, const Linear *lin, const float *x, int M, float *y)
{
  if (M == 0)
    return;
  if (model->linear_observer != NULL && lin->id >= 0)
    model->linear_observer (lin->id, x, M, model->linear_observer_data);
  if (lin->b32 != NULL)
    {
      model->be->linear (model->be, x, M, lin->n_in, lin->w, lin->b32, y);
      return;
    }
  g_autofree float *bias = g_new (float, lin->n_out);
  sc_tensor_read_f32 (lin->b, 0, lin->n_out, bias);
  model->be->linear (model->be, x, M, lin->n_in, lin->w, bias, y);
}

static void
layer_norm (ScModel *model, const Norm *norm, const float *x, int M, float *y)
{
  model->be->layer_norm (model->be, x, M, model->config->d_model, norm->g, norm->b, LN_EPS, y);
}

/* Dense FFN: fc2(relu(fc1(h))). */
static void
ffn_forward (ScModel *model, const Ffn *f, const float *h, int n, float *out)
{
  g_autofree float *mid = g_new (float, (gsize) n * f->fc1.n_out);
  linear (model, &f->fc1, h, n, mid);
  model->be->relu (model->be, mid, (gsize) n * f->fc1.n_out);
  linear (model, &f->fc2, mid, n, out);
}

/* Names the first weight outside the experts that holds NaN or infinity
 * (scanning the experts would read the whole checkpoint), for the error of
 * a forward pass that went non-finite; NULL when none does. */
static char *
find_nonfinite_weight (ScModel *model)
{
  for (guint i = 0; model->replaced != NULL && i < model->replaced->len; i++)
    {
      const ScTensor *t = model->replaced->pdata[i];
      int64_t at;
      if (sc_tensor_find_nonfinite (t, &at))
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

static gboolean
nonfinite_error (ScModel *model, GError **error, const char *what)
{
  g_autofree char *weight = find_nonfinite_weight (model);
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

/* The NLLB-MoE block at eval (NLLB-FACTS §2.6): f32 router softmax, top-1 by
 * probability, top-2 by logit among the rest, weights p/(p1+p2) clamped at
 * FLT_EPSILON, every expert output scaled by (1 - moe_token_dropout), padding
 * tokens routed nowhere (output 0). Capacity at eval equals the token count,
 * so no token is dropped and routing is per token. Outputs are summed in
 * ascending expert order, as Hugging Face does. */
static gboolean
moe_forward (ScModel *model, const Layer *L, gboolean decoder, int layer, const float *h, int n,
             const guint8 *valid, const int *rows, float *out, GError **error)
{
  const ScConfig *c = model->config;
  int E = c->num_experts, d = c->d_model;
  g_autofree float *logits = g_new (float, (gsize) n *E);
  g_autofree float *probs = g_new (float, (gsize) n *E);
  g_autofree int *top1 = g_new (int, n);
  g_autofree int *top2 = g_new (int, n);
  g_autofree float *w1 = g_new (float, n);
  g_autofree float *w2 = g_new (float, n);

  if (L->row_expert == NULL)
    {
      model->be->linear (model->be, h, n, d, L->router, NULL, logits);
    }
  else
    {
      /* Pruned checkpoint: spread the kept rows' logits over all experts;
     * the absent ones take no part (-inf), as masked evaluation does. */
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

  /* A NaN here would pick experts at random and spread into every later
   * layer; -inf only marks experts absent from a pruned checkpoint. */
  for (gsize i = 0; i < (gsize) n * E; i++)
    if (!(logits[i] < INFINITY))
      {
        g_autofree char *what =
            g_strdup_printf ("the router of %s layer %d, %s, gave NaN or infinite logits",
                             decoder ? "decoder" : "encoder", layer, L->router->name);
        return nonfinite_error (model, error, what);
      }

  /* Pruned experts leave the softmax: a logit of -inf is the same as
   * removing the router row, and their weights are never read. A pruned
   * checkpoint's absent experts are pruned the same way (a mask on it keeps
   * only present ones), so the second choice is never an absent expert: a
   * layer left with one expert sends every token to it with weight 1, as
   * masked evaluation does and as Hugging Face computes for a one-expert
   * router (its second pick repeats the first; the two weights add to 1). */
  const guint8 *keep = model->keep != NULL ? model->keep + (gsize) L->moe_index * E : L->row_keep;
  if (keep != NULL)
    for (int t = 0; t < n; t++)
      for (int e = 0; e < E; e++)
        if (!keep[e])
          logits[(gsize) t * E + e] = -INFINITY;

  /* Softmax, top-2 and gate weights are a backend kernel (sc-cpu.c holds
   * the reference, CUDA its copy). */
  model->be->router_top2 (model->be, logits, n, E, keep, valid, probs, top1, top2, w1, w2);

  memset (out, 0, sizeof (float) * (gsize) n * d);
  float eom = (float) (1.0 - c->moe_token_dropout); /* expert-output masking at eval */
  g_autofree int *idx = g_new (int, n);
  g_autofree float *wt = g_new (float, n);
  g_autofree float *xin = g_new (float, (gsize) n *d);
  g_autofree float *yout = g_new (float, (gsize) n *d);
  g_autofree float *norm1 = g_new0 (float, n);
  g_autofree float *norm2 = g_new0 (float, n);
  gboolean want_norms = model->observer != NULL;

  if (model->cache != NULL)
    {
      /* The whole batch's routing is known: ask for the layer's experts
       * together, in the order they run. */
      g_autofree guint *need = g_new (guint, E);
      g_autofree guint8 *used = g_new0 (guint8, E);
      guint n_need = 0;
      for (int t = 0; t < n; t++)
        {
          if (top1[t] >= 0)
            used[top1[t]] = 1;
          if (top2[t] >= 0)
            used[top2[t]] = 1;
        }
      for (int e = 0; e < E; e++)
        if (used[e] && expert_in_checkpoint (model, &L->experts[e]))
          need[n_need++] = (guint) (L->moe_index * E + e);
      sc_expert_cache_prefetch (model->cache, need, n_need);
    }

  if (model->cache == NULL && model->be->prefetch != NULL)
    {
      /* A device backend starts uploading the chosen experts now. */
      g_autoptr (GPtrArray) ts = g_ptr_array_new ();
      for (int e = 0; e < E; e++)
        {
          const Ffn *f = &L->experts[e];
          gboolean chosen = FALSE;
          for (int t = 0; t < n && !chosen; t++)
            chosen = top1[t] == e || top2[t] == e;
          if (chosen && f->fc1.w != NULL)
            {
              g_ptr_array_add (ts, (gpointer) f->fc1.w);
              g_ptr_array_add (ts, (gpointer) f->fc2.w);
            }
        }
      model->be->prefetch (model->be, (const ScTensor *const *) ts->pdata, (int) ts->len);
    }

  for (int e = 0; e < E; e++)
    {
      int m = 0;
      for (int t = 0; t < n; t++)
        {
          if (top1[t] == e)
            wt[m] = w1[t], idx[m++] = t;
          else if (top2[t] == e)
            wt[m] = w2[t], idx[m++] = t;
        }
      if (m == 0)
        continue; /* an expert no token chose is never read */
      model->be->gather_rows (model->be, h, d, idx, m, xin);
      Ffn owned;
      const Ffn *f = expert_weights (model, L->moe_index, e, &owned);
      ffn_forward (model, f, xin, m, yout);
      model->be->scatter_add_rows (model->be, out, d, idx, wt, eom, m, yout);
      for (int i = 0; want_norms && i < m; i++)
        {
          const float *y = yout + (gsize) i * d;
          double sq = 0.0;
          for (int j = 0; j < d; j++)
            sq += (double) y[j] * y[j];
          *(top1[idx[i]] == e ? &norm1[idx[i]] : &norm2[idx[i]]) = (float) sqrt (sq);
        }
    }

  if (model->observer != NULL)
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
      model->observer (&ev, model->observer_data);
    }
  return TRUE;
}

gboolean
sc_model_moe_router_logits (ScModel *model, int m, const float *h, int n, float *logits,
                            GError **error)
{
  int E = model->config->num_experts, d = model->config->d_model;
  if (m < 0 || m >= model->n_moe)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "MoE layer %d out of range (the model has %d)",
                   m, model->n_moe);
      return FALSE;
    }
  const Layer *L = moe_layer (model, m);
  if (n == 0)
    return TRUE;
  if (L->row_expert == NULL)
    {
      model->be->linear (model->be, h, n, d, L->router, NULL, logits);
      return TRUE;
    }
  /* A pruned checkpoint: absent experts get -inf, as in moe_forward. */
  g_autofree float *rows_out = g_new (float, (gsize) n * L->n_rows);
  model->be->linear (model->be, h, n, d, L->router, NULL, rows_out);
  for (int t = 0; t < n; t++)
    {
      for (int e = 0; e < E; e++)
        logits[(gsize) t * E + e] = -INFINITY;
      for (int r = 0; r < L->n_rows; r++)
        logits[(gsize) t * E + L->row_expert[r]] = rows_out[(gsize) t * L->n_rows + r];
    }
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
  const Layer *L = moe_layer (model, m);
  const Ffn *f = &L->experts[expert];
  if (f->fc1.w == NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_MISSING,
                   "MoE layer %d: expert %d was pruned from this checkpoint", m, expert);
      return FALSE;
    }
  if (n == 0)
    return TRUE;
  Ffn owned;
  ffn_forward (model, expert_weights (model, m, expert, &owned), h, n, out);
  return TRUE;
}

static gboolean
ff_block (ScModel *model, const Layer *L, gboolean decoder, int layer, const float *h, int n,
          const guint8 *valid, const int *rows, float *out, GError **error)
{
  if (L->sparse)
    return moe_forward (model, L, decoder, layer, h, n, valid, rows, out, error);
  ffn_forward (model, &L->dense, h, n, out);
  return TRUE;
}

/* ---- encoder ------------------------------------------------------------ */

/* A partial checkpoint runs only with a mask that prunes its absent experts
 * (sc_model_set_expert_mask refuses masks that keep one). */
static gboolean
check_complete (ScModel *model, GError **error)
{
  if (model->n_missing > 0 && model->keep == NULL)
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

static gboolean
check_ids (ScModel *model, const int *ids, gsize n, GError **error)
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
sc_model_encode (ScModel *model, const int *ids, const int *lengths, int B, int S, GError **error)
{
  const ScConfig *c = model->config;
  int d = c->d_model, H = c->encoder_heads, n = B * S;

  if (B <= 0 || S <= 0)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "empty batch");
      return NULL;
    }
  if (!check_complete (model, error))
    return NULL;
  if (!check_ids (model, ids, (gsize) n, error))
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
      layer_norm (model, &L->sa_ln, x, n, h);
      linear (model, &L->q, h, n, q);
      linear (model, &L->k, h, n, k);
      linear (model, &L->v, h, n, v);
      for (int b = 0; b < B; b++)
        {
          gsize off = (gsize) b * S * d;
          model->be->attention (model->be, q + off, d, k + off, v + off, d, S, S, H, d / H,
                                enc->valid + (gsize) b * S, FALSE, 0, a + off, d);
        }
      linear (model, &L->o, a, n, h);
      model->be->add (model->be, x, h, (gsize) n * d);

      layer_norm (model, &L->ff_ln, x, n, h);
      if (!ff_block (model, L, FALSE, l, h, n, enc->valid, rows, a, error))
        return NULL;
      model->be->add (model->be, x, a, (gsize) n * d);
    }
  layer_norm (model, &model->enc_ln, x, n, h);
  memcpy (x, h, sizeof (float) * (gsize) n * d);
  return g_steal_pointer (&enc);
}

/* ---- decoder ------------------------------------------------------------ */

struct _ScDecoder
{
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
sc_decoder_new (ScModel *model, const ScEncoding *enc, int n_rows, const int *src_row, int max_len,
                GError **error)
{
  const ScConfig *c = model->config;
  int d = c->d_model, L = c->decoder_layers;
  int n_src = enc->B * enc->S;

  if (n_rows <= 0 || max_len <= 0)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "decoder needs at least one row and step");
      return NULL;
    }
  if (!check_complete (model, error))
    return NULL;
  for (int r = 0; r < n_rows; r++)
    if (src_row[r] < 0 || src_row[r] >= enc->B)
      {
        g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "decoder row %d reads missing source row %d",
                     r, src_row[r]);
        return NULL;
      }

  ScDecoder *dec = g_new0 (ScDecoder, 1);
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
      linear (model, &model->dec[l].ck, enc->hidden, n_src, dec->cross_k[l]);
      linear (model, &model->dec[l].cv, enc->hidden, n_src, dec->cross_v[l]);
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

gboolean
sc_decoder_forward (ScDecoder *dec, const int *tokens, int T, float *logits, gboolean last_only,
                    GError **error)
{
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
  if (!check_ids (model, tokens, (gsize) n, error))
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
      layer_norm (model, &L->sa_ln, x, n, h);
      linear (model, &L->q, h, n, q);
      linear (model, &L->k, h, n, k);
      linear (model, &L->v, h, n, v);
      for (int r = 0; r < R; r++)
        {
          float *kc = dec->self_k[l] + (gsize) r * dec->max_len * d;
          float *vc = dec->self_v[l] + (gsize) r * dec->max_len * d;
          memcpy (kc + (gsize) past * d, k + (gsize) r * T * d, sizeof (float) * (gsize) T * d);
          memcpy (vc + (gsize) past * d, v + (gsize) r * T * d, sizeof (float) * (gsize) T * d);
          model->be->attention (model->be, q + (gsize) r * T * d, d, kc, vc, d, T, past + T, H,
                                d / H, NULL, TRUE, past, a + (gsize) r * T * d, d);
        }
      linear (model, &L->o, a, n, h);
      model->be->add (model->be, x, h, (gsize) n * d);

      /* cross-attention over the source */
      layer_norm (model, &L->ca_ln, x, n, h);
      linear (model, &L->cq, h, n, q);
      for (int r = 0; r < R; r++)
        {
          gsize so = (gsize) dec->src_row[r] * dec->S;
          model->be->attention (model->be, q + (gsize) r * T * d, d, dec->cross_k[l] + so * d,
                                dec->cross_v[l] + so * d, d, T, dec->S, H, d / H,
                                dec->src_valid + so, FALSE, 0, a + (gsize) r * T * d, d);
        }
      linear (model, &L->co, a, n, h);
      model->be->add (model->be, x, h, (gsize) n * d);

      /* Decoder tokens are never masked out of routing (the causal mask's
     * last row is all zeros in Hugging Face). */
      layer_norm (model, &L->ff_ln, x, n, h);
      if (!ff_block (model, L, TRUE, l, h, n, NULL, rows, a, error))
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
  layer_norm (model, &model->dec_ln, x, m, h);
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
          return nonfinite_error (model, error, what);
        }
    }
  return TRUE;
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

/* ---- linear layers for weight pruning ------------------------------------ */

int
sc_model_n_blocks (ScModel *model)
{
  return model->config->encoder_layers + model->config->decoder_layers;
}

int
sc_model_n_linears (ScModel *model)
{
  return (int) model->linears->len;
}

void
sc_model_get_linear (ScModel *model, int i, ScLinearInfo *info)
{
  g_return_if_fail (i >= 0 && i < (int) model->linears->len);
  const Linear *lin = model->linears->pdata[i];
  info->name = lin->w->name;
  info->block = g_array_index (model->linear_blocks, int, i);
  info->n_out = lin->n_out;
  info->n_in = lin->n_in;
  info->expert = -1;
  const char *e = strstr (lin->w->name, ".experts.expert_");
  if (e != NULL)
    {
      /* the original id, also where the names are renumbered */
      const ScConfig *c = model->config;
      const Layer *L = info->block < c->encoder_layers
                           ? &model->enc[info->block]
                           : &model->dec[info->block - c->encoder_layers];
      info->expert =
          sc_config_original_expert (c, L->moe_index, atoi (e + strlen (".experts.expert_")));
    }
}

const ScTensor *
sc_model_get_linear_weight (ScModel *model, int i)
{
  g_return_val_if_fail (i >= 0 && i < (int) model->linears->len, NULL);
  return ((const Linear *) model->linears->pdata[i])->w;
}

void
sc_model_set_linear_observer (ScModel *model, ScLinearObserver observer, gpointer user_data)
{
  model->linear_observer = observer;
  model->linear_observer_data = user_data;
}

static void
free_replaced (ScTensor *t)
{
  g_free ((gpointer) t->data);
  sc_tensor_free (t);
}

gboolean
sc_model_replace_linear_weight (ScModel *model, int i, float *data, GError **error)
{
  if (i < 0 || i >= (int) model->linears->len)
    {
      g_free (data);
      g_set_error (error, SC_ERROR, SC_ERROR_MISSING, "no linear layer %d (the model has %u)", i,
                   model->linears->len);
      return FALSE;
    }
  Linear *lin = model->linears->pdata[i];
  ScTensor *t = g_new0 (ScTensor, 1);
  t->name = g_strdup (lin->w->name);
  t->dtype = SC_DTYPE_F32;
  t->n_dims = 2;
  t->shape[0] = lin->n_out;
  t->shape[1] = lin->n_in;
  t->data = data;
  t->nbytes = sizeof (float) * (guint64) lin->n_out * lin->n_in;
  if (model->replaced == NULL)
    model->replaced = g_ptr_array_new_with_free_func ((GDestroyNotify) free_replaced);
  /* A second replacement of the same weight frees the first. */
  if (lin->w->data != NULL && g_ptr_array_find (model->replaced, lin->w, NULL))
    g_ptr_array_remove (model->replaced, (gpointer) lin->w);
  lin->w = t;
  g_ptr_array_add (model->replaced, t);
  return TRUE;
}

const ScTensor *
sc_model_get_replaced_weight (ScModel *model, const char *name)
{
  for (guint i = 0; model->replaced != NULL && i < model->replaced->len; i++)
    {
      const ScTensor *t = model->replaced->pdata[i];
      if (g_str_equal (t->name, name))
        return t;
    }
  return NULL;
}
