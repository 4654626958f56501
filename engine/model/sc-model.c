/* sc-model.c: loading NLLB-MoE and dense NLLB (M2M100) checkpoints.
 *
 * Weights stay in the checkpoint mapping; only the small vectors (layer
 * norms and dense biases) are widened to f32 at load. Expert tensors are
 * located and shape-checked at load from their headers, and read only when
 * a token is routed to them. After load the model is read-only (runs go
 * through views, sc-view.c); only the expert cache changes, under its lock.
 */
#include "sc-model-private.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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
              continue; /* absent: usable only in a view whose set prunes it */
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
  g_free (model->moe);
  sc_moe_shape_clear (&model->shape);
  sc_expert_cache_free (model->cache);
  g_mutex_clear (&model->cache_lock);
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
  g_mutex_init (&model->cache_lock);
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
  model->moe = g_new0 (Layer *, MAX (moe, 1));
  for (int i = 0; i < c->encoder_layers; i++)
    if (model->enc[i].sparse)
      model->moe[model->enc[i].moe_index] = &model->enc[i];
  for (int i = 0; i < c->decoder_layers; i++)
    if (model->dec[i].sparse)
      model->moe[model->dec[i].moe_index] = &model->dec[i];
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

int
sc_model_n_moe_layers (ScModel *model)
{
  return model->n_moe;
}

/* The Layer of MoE ordinal m (encoder MoE layers first). */
const Layer *
sc_model_moe_layer (ScModel *model, int m)
{
  g_assert (m >= 0 && m < model->n_moe);
  return model->moe[m];
}

gboolean
sc_model_check_expert_keep (ScModel *model, const guint8 *keep, GError **error)
{
  int E = model->config->num_experts;
  for (int m = 0; m < model->n_moe; m++)
    {
      int n = 0;
      const Layer *L = model->moe[m];
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
  return TRUE;
}

/* Whether an expert's tensors are the checkpoint's own (mapped), not
 * weights a view replaced: only those go through the cache. */
gboolean
sc_model_expert_in_checkpoint (ScModel *model, const Ffn *f)
{
  const ScTensor *t[] = { f->fc1.w, f->fc1.b, f->fc2.w, f->fc2.b };
  for (guint i = 0; i < G_N_ELEMENTS (t); i++)
    if (t[i] == NULL || t[i]->name == NULL || sc_checkpoint_get (model->ckpt, t[i]->name) != t[i])
      return FALSE;
  return TRUE;
}

gboolean
sc_model_set_expert_budget (ScModel *model, guint64 bytes, GError **error)
{
  int E = model->config->num_experts;
  g_mutex_lock (&model->cache_lock);
  g_clear_pointer (&model->cache, sc_expert_cache_free);
  if (bytes > 0 && model->n_moe > 0)
    {
      model->cache = sc_expert_cache_new ((guint) (model->n_moe * E), bytes);
      /* Checkpoint tensors live in read-only file mappings. */
      sc_expert_cache_set_drop_pages (model->cache, TRUE);
      for (int m = 0; m < model->n_moe; m++)
        for (int e = 0; e < E; e++)
          {
            const Ffn *f = &model->moe[m]->experts[e];
            if (f->fc1.w == NULL)
              continue; /* pruned from the checkpoint: never loaded */
            const ScTensor *t[] = { f->fc1.w, f->fc1.b, f->fc2.w, f->fc2.b };
            sc_expert_cache_set_source (model->cache, (guint) (m * E + e), t, 4);
          }
    }
  g_mutex_unlock (&model->cache_lock);
  return TRUE;
}

ScExpertCache *
sc_model_get_expert_cache (ScModel *model)
{
  return model->cache;
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
