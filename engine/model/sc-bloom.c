/* sc-bloom.c: BloomForCausalLM inference (see sc-bloom.h), following
 * Hugging Face's modeling_bloom.py in eval mode.
 *
 * Why one file of about 820 lines: config, loading, the forward pass and
 * the per-layer entry points weight pruning uses all work on the one model
 * struct, which splitting would only make public. */
#include "sc-bloom.h"

#include "sc-alibi.h"
#include "sc-json-file.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

typedef struct
{
  float *ln1_w, *ln1_b, *ln2_w, *ln2_b;
  const ScTensor *w[SC_BLOOM_N_LINEAR]; /* the checkpoint's weights */
  const ScTensor *override[SC_BLOOM_N_LINEAR];
  float *b[SC_BLOOM_N_LINEAR];
} BloomLayer;

struct _ScBloom
{
  ScBloomConfig cfg;
  ScCheckpoint *ckpt;
  ScBackend *be;
  gboolean own_be;
  ScBpe *bpe;
  const ScTensor *wte;     /* [V, d] */
  const ScTensor *lm_head; /* wte when tied */
  float *emb_ln_w, *emb_ln_b, *lnf_w, *lnf_b;
  BloomLayer *layers;
  float *slopes;
  ScBloomLinearObserver observer;
  gpointer observer_data;
};

struct _ScBloomState
{
  int max_len, len, n_layer;
  float **k, **v; /* per layer [max_len, d] */
};

static const char *const linear_names[SC_BLOOM_N_LINEAR] = {
  "self_attention.query_key_value",
  "self_attention.dense",
  "mlp.dense_h_to_4h",
  "mlp.dense_4h_to_h",
};

/* ---- config ---- */

/* First present key among `keys` as an int in [lo, hi]; `dflt` when none
 * is present (dflt < lo: required). */
static gboolean
config_int (JsonObject *o, const char *const *keys, gint64 lo, gint64 hi, gint64 dflt, int *out,
            GError **error)
{
  for (; *keys; keys++)
    {
      if (!json_object_has_member (o, *keys))
        continue;
      JsonNode *n = json_object_get_member (o, *keys);
      if (JSON_NODE_HOLDS_NULL (n))
        continue;
      if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64 ||
          json_node_get_int (n) < lo || json_node_get_int (n) > hi)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_CONFIG,
                       "config.json: %s must be an integer in [%" G_GINT64_FORMAT
                       ", %" G_GINT64_FORMAT "]",
                       *keys, lo, hi);
          return FALSE;
        }
      *out = (int) json_node_get_int (n);
      return TRUE;
    }
  if (dflt < lo)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_CONFIG, "config.json: %s is missing", keys[-1]);
      return FALSE;
    }
  *out = (int) dflt;
  return TRUE;
}

static gboolean
config_bool (JsonObject *o, const char *key, gboolean dflt, gboolean *out, GError **error)
{
  JsonNode *n = json_object_has_member (o, key) ? json_object_get_member (o, key) : NULL;
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    {
      *out = dflt;
      return TRUE;
    }
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_BOOLEAN)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_CONFIG, "config.json: %s must be a boolean", key);
      return FALSE;
    }
  *out = json_node_get_boolean (n);
  return TRUE;
}

gboolean
sc_bloom_config_parse (const char *data, gssize len, ScBloomConfig *cfg, GError **error)
{
  g_autoptr (GError) jerr = NULL;
  g_autoptr (JsonNode) root = sc_json_parse (data, len, "config.json", &jerr);

  if (root == NULL)
    {
      g_set_error_literal (error, SC_ERROR, SC_ERROR_CONFIG, jerr->message);
      return FALSE;
    }
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_CONFIG, "config.json is not a JSON object");
      return FALSE;
    }
  JsonObject *o = json_node_get_object (root);
  JsonNode *mt =
      json_object_has_member (o, "model_type") ? json_object_get_member (o, "model_type") : NULL;
  if (mt == NULL || !JSON_NODE_HOLDS_VALUE (mt) || json_node_get_value_type (mt) != G_TYPE_STRING ||
      strcmp (json_node_get_string (mt), "bloom") != 0)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_CONFIG, "config.json: model_type is not \"bloom\"");
      return FALSE;
    }

  memset (cfg, 0, sizeof *cfg);
  static const char *const k_vocab[] = { "vocab_size", NULL };
  static const char *const k_hidden[] = { "hidden_size", "n_embed", NULL };
  static const char *const k_layer[] = { "n_layer", "num_hidden_layers", NULL };
  static const char *const k_head[] = { "n_head", "num_attention_heads", NULL };
  static const char *const k_bos[] = { "bos_token_id", NULL };
  static const char *const k_eos[] = { "eos_token_id", NULL };
  static const char *const k_pad[] = { "pad_token_id", NULL };
  /* n_embed wins over hidden_size, as BloomConfig does */
  static const char *const k_hidden_n[] = { "n_embed", "hidden_size", NULL };
  if (!config_int (o, k_vocab, 1, 1 << 24, -1, &cfg->vocab_size, error) ||
      !config_int (o, json_object_has_member (o, "n_embed") ? k_hidden_n : k_hidden, 1, 1 << 16, -1,
                   &cfg->hidden_size, error) ||
      !config_int (o, k_layer, 1, 4096, -1, &cfg->n_layer, error) ||
      !config_int (o, k_head, 1, 4096, -1, &cfg->n_head, error) ||
      !config_int (o, k_bos, -1, G_MAXINT32, -1, &cfg->bos_token_id, error) ||
      !config_int (o, k_eos, -1, G_MAXINT32, -1, &cfg->eos_token_id, error) ||
      !config_int (o, k_pad, -1, G_MAXINT32, -1, &cfg->pad_token_id, error) ||
      !config_bool (o, "apply_residual_connection_post_layernorm", FALSE,
                    &cfg->apply_residual_connection_post_layernorm, error) ||
      !config_bool (o, "tie_word_embeddings", TRUE, &cfg->tie_word_embeddings, error))
    return FALSE;
  if (cfg->hidden_size % cfg->n_head != 0)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_CONFIG,
                   "config.json: hidden_size %d is not a multiple of n_head %d", cfg->hidden_size,
                   cfg->n_head);
      return FALSE;
    }
  cfg->head_dim = cfg->hidden_size / cfg->n_head;
  cfg->layer_norm_epsilon = 1e-5;
  if (json_object_has_member (o, "layer_norm_epsilon"))
    {
      JsonNode *n = json_object_get_member (o, "layer_norm_epsilon");
      GType t = JSON_NODE_HOLDS_VALUE (n) ? json_node_get_value_type (n) : G_TYPE_INVALID;
      double eps = t == G_TYPE_DOUBLE  ? json_node_get_double (n)
                   : t == G_TYPE_INT64 ? (double) json_node_get_int (n)
                                       : -1.0;
      if (!(eps > 0.0 && eps < 1.0))
        {
          g_set_error (error, SC_ERROR, SC_ERROR_CONFIG,
                       "config.json: layer_norm_epsilon must be a number in (0, 1)");
          return FALSE;
        }
      cfg->layer_norm_epsilon = eps;
    }
  return TRUE;
}

gboolean
sc_bloom_is_bloom_dir (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "config.json", NULL);
  g_autofree char *data = NULL;
  gsize len;

  if (!sc_file_read_small (path, SC_JSON_CONFIG_MAX_BYTES, &data, &len, NULL))
    return FALSE;
  /* only the model type decides; a bad BLOOM config still is BLOOM's */
  g_autoptr (JsonNode) root = sc_json_parse (data, (gssize) len, "config.json", NULL);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return FALSE;
  JsonObject *o = json_node_get_object (root);
  return json_object_has_member (o, "model_type") &&
         g_strcmp0 (json_object_get_string_member_with_default (o, "model_type", ""), "bloom") == 0;
}

/* ---- loading ---- */

/* A tensor by its BLOOM name, with or without the "transformer." prefix. */
static const ScTensor *
find_tensor (ScCheckpoint *ckpt, const char *name)
{
  g_autofree char *prefixed = g_strconcat ("transformer.", name, NULL);
  const ScTensor *t = sc_checkpoint_get (ckpt, prefixed);
  return t != NULL ? t : sc_checkpoint_get (ckpt, name);
}

static gboolean
is_float_dtype (ScDType d)
{
  return d == SC_DTYPE_F32 || d == SC_DTYPE_F16 || d == SC_DTYPE_BF16;
}

static const ScTensor *
get_weight (ScCheckpoint *ckpt, const char *name, int d0, int d1, GError **error)
{
  const ScTensor *t = find_tensor (ckpt, name);
  if (t == NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_MISSING, "BLOOM checkpoint: tensor %s is missing",
                   name);
      return NULL;
    }
  gboolean ok = is_float_dtype (t->dtype) && t->n_dims == (d1 > 0 ? 2 : 1) && t->shape[0] == d0 &&
                (d1 <= 0 || t->shape[1] == d1);
  if (!ok)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_SHAPE,
                   "BLOOM checkpoint: tensor %s should be a float tensor of shape [%d%s%.0d]", name,
                   d0, d1 > 0 ? ", " : "", d1 > 0 ? d1 : 0);
      return NULL;
    }
  return t;
}

/* A 1-D parameter (bias, layer norm) widened to f32. */
static float *
get_vector (ScCheckpoint *ckpt, const char *name, int n, GError **error)
{
  const ScTensor *t = get_weight (ckpt, name, n, 0, error);
  if (t == NULL)
    return NULL;
  float *v = g_new (float, n);
  sc_tensor_read_f32 (t, 0, n, v);
  return v;
}

void
sc_bloom_free (ScBloom *m)
{
  if (m == NULL)
    return;
  if (m->layers)
    for (int l = 0; l < m->cfg.n_layer; l++)
      {
        BloomLayer *L = &m->layers[l];
        g_free (L->ln1_w);
        g_free (L->ln1_b);
        g_free (L->ln2_w);
        g_free (L->ln2_b);
        for (int i = 0; i < SC_BLOOM_N_LINEAR; i++)
          g_free (L->b[i]);
      }
  g_free (m->layers);
  g_free (m->emb_ln_w);
  g_free (m->emb_ln_b);
  g_free (m->lnf_w);
  g_free (m->lnf_b);
  g_free (m->slopes);
  g_clear_pointer (&m->bpe, sc_bpe_free);
  g_clear_pointer (&m->ckpt, sc_checkpoint_free);
  if (m->own_be)
    sc_backend_free (m->be);
  g_free (m);
}

ScBloom *
sc_bloom_load (const char *dir, ScBackend *backend, GError **error)
{
  g_autofree char *cfg_path = g_build_filename (dir, "config.json", NULL);
  g_autofree char *cfg_data = NULL;
  gsize cfg_len;

  if (!sc_file_read_small (cfg_path, SC_JSON_CONFIG_MAX_BYTES, &cfg_data, &cfg_len, error))
    return NULL;
  g_autoptr (ScBloom) m = g_new0 (ScBloom, 1);
  if (!sc_bloom_config_parse (cfg_data, (gssize) cfg_len, &m->cfg, error))
    return NULL;
  m->ckpt = sc_checkpoint_open (dir, error);
  if (m->ckpt == NULL)
    return NULL;

  const ScBloomConfig *c = &m->cfg;
  int d = c->hidden_size;
  m->wte = get_weight (m->ckpt, "word_embeddings.weight", c->vocab_size, d, error);
  if (m->wte == NULL)
    return NULL;
  m->lm_head = m->wte;
  if (!c->tie_word_embeddings)
    {
      const ScTensor *h = sc_checkpoint_get (m->ckpt, "lm_head.weight");
      if (h != NULL &&
          (m->lm_head = get_weight (m->ckpt, "lm_head.weight", c->vocab_size, d, error)) == NULL)
        return NULL;
      if (h == NULL)
        m->lm_head = m->wte;
    }
  if (!(m->emb_ln_w = get_vector (m->ckpt, "word_embeddings_layernorm.weight", d, error)) ||
      !(m->emb_ln_b = get_vector (m->ckpt, "word_embeddings_layernorm.bias", d, error)) ||
      !(m->lnf_w = get_vector (m->ckpt, "ln_f.weight", d, error)) ||
      !(m->lnf_b = get_vector (m->ckpt, "ln_f.bias", d, error)))
    return NULL;

  const int out_dim[SC_BLOOM_N_LINEAR] = { 3 * d, d, 4 * d, d };
  const int in_dim[SC_BLOOM_N_LINEAR] = { d, d, d, 4 * d };
  m->layers = g_new0 (BloomLayer, c->n_layer);
  for (int l = 0; l < c->n_layer; l++)
    {
      BloomLayer *L = &m->layers[l];
      char name[128];
#define VEC(field, what)                                                                           \
  (g_snprintf (name, sizeof name, "h.%d.%s", l, what),                                             \
   (L->field = get_vector (m->ckpt, name, d, error)) != NULL)
      if (!VEC (ln1_w, "input_layernorm.weight") || !VEC (ln1_b, "input_layernorm.bias") ||
          !VEC (ln2_w, "post_attention_layernorm.weight") ||
          !VEC (ln2_b, "post_attention_layernorm.bias"))
        return NULL;
#undef VEC
      for (int i = 0; i < SC_BLOOM_N_LINEAR; i++)
        {
          g_snprintf (name, sizeof name, "h.%d.%s.weight", l, linear_names[i]);
          if (!(L->w[i] = get_weight (m->ckpt, name, out_dim[i], in_dim[i], error)))
            return NULL;
          g_snprintf (name, sizeof name, "h.%d.%s.bias", l, linear_names[i]);
          if (!(L->b[i] = get_vector (m->ckpt, name, out_dim[i], error)))
            return NULL;
        }
    }
  m->slopes = g_new (float, c->n_head);
  sc_alibi_slopes (c->n_head, m->slopes);

  g_autofree char *tok_path = g_build_filename (dir, "tokenizer.json", NULL);
  if (g_file_test (tok_path, G_FILE_TEST_EXISTS))
    {
      m->bpe = sc_bpe_load_file (tok_path, error);
      if (m->bpe == NULL)
        return NULL;
      if (sc_bpe_vocab_size (m->bpe) > c->vocab_size)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_CONFIG,
                       "tokenizer.json has %d tokens, more than the model's vocab_size %d",
                       sc_bpe_vocab_size (m->bpe), c->vocab_size);
          return NULL;
        }
    }
  m->be = backend;
  if (m->be == NULL)
    {
      m->be = sc_backend_cpu_new (0);
      m->own_be = TRUE;
    }
  return g_steal_pointer (&m);
}

const ScBloomConfig *
sc_bloom_get_config (ScBloom *m)
{
  return &m->cfg;
}

ScBpe *
sc_bloom_get_tokenizer (ScBloom *m)
{
  return m->bpe;
}

ScCheckpoint *
sc_bloom_get_checkpoint (ScBloom *m)
{
  return m->ckpt;
}

ScDType
sc_bloom_get_dtype (ScBloom *m)
{
  return m->wte->dtype;
}

guint64
sc_bloom_n_params (ScBloom *m)
{
  guint64 d = m->cfg.hidden_size;
  guint64 per_layer =
      4 * d + (3 * d * d + 3 * d) + (d * d + d) + (4 * d * d + 4 * d) + (4 * d * d + d);
  guint64 n = (guint64) m->cfg.vocab_size * d + 4 * d + per_layer * m->cfg.n_layer;
  if (m->lm_head != m->wte)
    n += (guint64) m->cfg.vocab_size * d;
  return n;
}

int
sc_bloom_n_layers (ScBloom *m)
{
  return m->cfg.n_layer;
}

const ScTensor *
sc_bloom_get_linear (ScBloom *m, int layer, ScBloomLinear which)
{
  g_return_val_if_fail (layer >= 0 && layer < m->cfg.n_layer && which < SC_BLOOM_N_LINEAR, NULL);
  BloomLayer *L = &m->layers[layer];
  return L->override[which] ? L->override[which] : L->w[which];
}

gboolean
sc_bloom_set_linear (ScBloom *m, int layer, ScBloomLinear which, const ScTensor *weight,
                     GError **error)
{
  if (layer < 0 || layer >= m->cfg.n_layer || which >= SC_BLOOM_N_LINEAR)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_SHAPE, "BLOOM has no linear layer %d/%d", layer,
                   (int) which);
      return FALSE;
    }
  const ScTensor *orig = m->layers[layer].w[which];
  if (weight != NULL &&
      (!is_float_dtype (weight->dtype) || weight->n_dims != 2 ||
       weight->shape[0] != orig->shape[0] || weight->shape[1] != orig->shape[1] ||
       weight->nbytes < (guint64) sc_tensor_numel (weight) * sc_dtype_size (weight->dtype)))
    {
      g_set_error (
          error, SC_ERROR, SC_ERROR_SHAPE,
          "Replacement for h.%d.%s.weight must be a float tensor of shape [%" G_GINT64_FORMAT
          ", %" G_GINT64_FORMAT "]",
          layer, linear_names[which], orig->shape[0], orig->shape[1]);
      return FALSE;
    }
  m->layers[layer].override[which] = weight;
  return TRUE;
}

void
sc_bloom_set_linear_observer (ScBloom *m, ScBloomLinearObserver observer, gpointer user_data)
{
  m->observer = observer;
  m->observer_data = user_data;
}

/* ---- forward ---- */

/* bloom_gelu_forward: x · 0.5 · (1 + tanh(0.79788456 · x · (1 + 0.044715 x²))). */
static void
bloom_gelu (float *x, gsize n)
{
  for (gsize i = 0; i < n; i++)
    {
      float v = x[i];
      x[i] = v * 0.5f * (1.0f + tanhf (0.79788456f * v * (1.0f + 0.044715f * v * v)));
    }
}

static void
apply_linear (ScBloom *m, int l, ScBloomLinear which, const float *x, int T, float *y)
{
  BloomLayer *L = &m->layers[l];
  const ScTensor *w = L->override[which] ? L->override[which] : L->w[which];
  int K = (int) w->shape[1];
  if (m->observer)
    m->observer (m, l, which, x, T, K, m->observer_data);
  m->be->linear (m->be, x, T, K, w, L->b[which], y);
}

static gboolean
check_ids (ScBloom *m, const int *ids, int T, GError **error)
{
  for (int t = 0; t < T; t++)
    if (ids[t] < 0 || ids[t] >= m->cfg.vocab_size)
      {
        g_set_error (error, SC_ERROR, SC_ERROR_SHAPE, "Token id %d is outside the vocabulary (%d)",
                     ids[t], m->cfg.vocab_size);
        return FALSE;
      }
  return TRUE;
}

gboolean
sc_bloom_embed (ScBloom *m, const int *ids, int T, float *hidden, GError **error)
{
  if (!check_ids (m, ids, T, error))
    return FALSE;
  m->be->embed (m->be, m->wte, ids, NULL, T, 1.0f, hidden);
  m->be->layer_norm (m->be, hidden, T, m->cfg.hidden_size, m->emb_ln_w, m->emb_ln_b,
                     (float) m->cfg.layer_norm_epsilon, hidden);
  return TRUE;
}

/* One block over T new tokens whose keys/values go to kc/vc rows
 * past .. past+T-1 (earlier rows hold the cached ones). */
static void
block (ScBloom *m, int l, const float *x, int T, int past, float *kc, float *vc, float *out)
{
  const ScBloomConfig *c = &m->cfg;
  BloomLayer *L = &m->layers[l];
  int d = c->hidden_size, H = c->n_head, hd = c->head_dim;
  gsize Td = (gsize) T * d;
  float eps = (float) c->layer_norm_epsilon;
  float *ln = g_new (float, Td);
  float *qkv = g_new (float, Td * 3);
  float *q = g_new (float, Td);
  float *ctx = g_new (float, Td);
  float *attn_out = g_new (float, Td);
  float *h4 = g_new (float, Td * 4);

  m->be->layer_norm (m->be, x, T, d, L->ln1_w, L->ln1_b, eps, ln);
  apply_linear (m, l, SC_BLOOM_QKV, ln, T, qkv);
  /* fused layout per token: [head][q|k|v][head_dim] */
  for (int t = 0; t < T; t++)
    for (int h = 0; h < H; h++)
      {
        const float *src = qkv + (gsize) t * 3 * d + (gsize) h * 3 * hd;
        memcpy (q + (gsize) t * d + h * hd, src, sizeof (float) * hd);
        memcpy (kc + (gsize) (past + t) * d + h * hd, src + hd, sizeof (float) * hd);
        memcpy (vc + (gsize) (past + t) * d + h * hd, src + 2 * hd, sizeof (float) * hd);
      }
  sc_alibi_attention (q, d, kc, vc, d, T, past + T, H, hd, m->slopes, past, ctx, d);
  apply_linear (m, l, SC_BLOOM_DENSE, ctx, T, attn_out);
  /* residual: the block input, or its layer norm when post-LN residuals */
  m->be->add (m->be, attn_out, c->apply_residual_connection_post_layernorm ? ln : x, Td);

  m->be->layer_norm (m->be, attn_out, T, d, L->ln2_w, L->ln2_b, eps, ln);
  apply_linear (m, l, SC_BLOOM_FC_IN, ln, T, h4);
  bloom_gelu (h4, Td * 4);
  apply_linear (m, l, SC_BLOOM_FC_OUT, h4, T, out);
  m->be->add (m->be, out, c->apply_residual_connection_post_layernorm ? ln : attn_out, Td);

  g_free (ln);
  g_free (qkv);
  g_free (q);
  g_free (ctx);
  g_free (attn_out);
  g_free (h4);
}

gboolean
sc_bloom_block_forward (ScBloom *m, int layer, const float *hidden, int T, float *out,
                        GError **error)
{
  if (layer < 0 || layer >= m->cfg.n_layer || T <= 0)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_SHAPE, "BLOOM block %d on %d tokens: out of range",
                   layer, T);
      return FALSE;
    }
  gsize Td = (gsize) T * m->cfg.hidden_size;
  float *kc = g_new (float, Td), *vc = g_new (float, Td), *tmp = g_new (float, Td);
  block (m, layer, hidden, T, 0, kc, vc, tmp);
  memcpy (out, tmp, sizeof (float) * Td);
  g_free (kc);
  g_free (vc);
  g_free (tmp);
  return TRUE;
}

void
sc_bloom_head (ScBloom *m, const float *hidden, int T, float *logits)
{
  int d = m->cfg.hidden_size;
  float *x = g_new (float, (gsize) T *d);
  m->be->layer_norm (m->be, hidden, T, d, m->lnf_w, m->lnf_b, (float) m->cfg.layer_norm_epsilon, x);
  m->be->linear (m->be, x, T, d, m->lm_head, NULL, logits);
  g_free (x);
}

ScBloomState *
sc_bloom_state_new (ScBloom *m, int max_len)
{
  g_return_val_if_fail (max_len > 0, NULL);
  ScBloomState *s = g_new0 (ScBloomState, 1);
  gsize n = (gsize) max_len * m->cfg.hidden_size;
  s->max_len = max_len;
  s->n_layer = m->cfg.n_layer;
  s->k = g_new0 (float *, m->cfg.n_layer);
  s->v = g_new0 (float *, m->cfg.n_layer);
  for (int l = 0; l < m->cfg.n_layer; l++)
    {
      s->k[l] = g_new (float, n);
      s->v[l] = g_new (float, n);
    }
  return s;
}

void
sc_bloom_state_free (ScBloomState *s)
{
  if (s == NULL)
    return;
  for (int l = 0; l < s->n_layer; l++)
    {
      g_free (s->k[l]);
      g_free (s->v[l]);
    }
  g_free (s->k);
  g_free (s->v);
  g_free (s);
}

int
sc_bloom_state_length (ScBloomState *s)
{
  return s->len;
}

gboolean
sc_bloom_forward (ScBloom *m, ScBloomState *s, const int *ids, int T, float *logits,
                  gboolean last_only, GError **error)
{
  if (T <= 0 || s->len + T > s->max_len)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_SHAPE,
                   "BLOOM forward: %d tokens after %d do not fit the state's %d", T, s->len,
                   s->max_len);
      return FALSE;
    }
  int d = m->cfg.hidden_size;
  gsize Td = (gsize) T * d;
  float *x = g_new (float, Td), *y = g_new (float, Td);
  if (!sc_bloom_embed (m, ids, T, x, error))
    {
      g_free (x);
      g_free (y);
      return FALSE;
    }
  for (int l = 0; l < m->cfg.n_layer; l++)
    {
      block (m, l, x, T, s->len, s->k[l], s->v[l], y);
      float *t = x;
      x = y;
      y = t;
    }
  s->len += T;
  if (logits != NULL)
    {
      if (last_only)
        sc_bloom_head (m, x + (gsize) (T - 1) * d, 1, logits);
      else
        sc_bloom_head (m, x, T, logits);
    }
  g_free (x);
  g_free (y);
  return TRUE;
}

static int
argmax (const float *v, int n)
{
  int best = 0;
  for (int i = 1; i < n; i++)
    if (v[i] > v[best])
      best = i;
  return best;
}

/* ALiBi would read further than the training length, but the prompt's
 * attention scores take memory and time with the square of its length and
 * quality falls: generation stays within it. */
#define SC_BLOOM_CONTEXT 2048

int
sc_bloom_context_length (ScBloom *m)
{
  return SC_BLOOM_CONTEXT;
}

GArray *
sc_bloom_generate_greedy (ScBloom *m, const int *prompt, int n_prompt, int max_new, GError **error)
{
  if (n_prompt <= 0 || max_new < 0)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_SHAPE, "Greedy generation needs a prompt");
      return NULL;
    }
  /* The KV cache is made for the whole sequence up front. */
  if ((gint64) n_prompt + MAX (max_new, 1) > SC_BLOOM_CONTEXT)
    {
      if (n_prompt >= SC_BLOOM_CONTEXT)
        g_set_error (error, SC_ERROR, SC_ERROR_SHAPE,
                     "The prompt is %d tokens; BLOOM's context is %d tokens, prompt and new "
                     "tokens together",
                     n_prompt, SC_BLOOM_CONTEXT);
      else
        g_set_error (error, SC_ERROR, SC_ERROR_SHAPE,
                     "%d new tokens after a prompt of %d do not fit BLOOM's context of %d "
                     "tokens (at most %d new ones)",
                     max_new, n_prompt, SC_BLOOM_CONTEXT, SC_BLOOM_CONTEXT - n_prompt);
      return NULL;
    }
  g_autoptr (ScBloomState) s = sc_bloom_state_new (m, n_prompt + MAX (max_new, 1));
  g_autofree float *logits = g_new (float, m->cfg.vocab_size);
  GArray *out = g_array_new (FALSE, FALSE, sizeof (int));
  if (max_new == 0)
    return out;
  if (!sc_bloom_forward (m, s, prompt, n_prompt, logits, TRUE, error))
    goto fail;
  for (int i = 0; i < max_new; i++)
    {
      int next = argmax (logits, m->cfg.vocab_size);
      g_array_append_val (out, next);
      if (next == m->cfg.eos_token_id || i + 1 == max_new)
        break;
      if (!sc_bloom_forward (m, s, &next, 1, logits, TRUE, error))
        goto fail;
    }
  return out;
fail:
  g_array_unref (out);
  return NULL;
}

gboolean
sc_bloom_nll (ScBloom *m, const int *ids, int n, double *token_nll, double *mean_nll,
              GError **error)
{
  if (n < 2)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_SHAPE, "NLL needs at least two tokens (got %d)", n);
      return FALSE;
    }
  if (!check_ids (m, ids, n, error))
    return FALSE;
  /* Positions go through the model NLL_CHUNK at a time with the KV cache,
   * so logits never take more than NLL_CHUNK x V floats (a 250k-token
   * vocabulary would need a gigabyte for 1000 positions at once). */
  enum
  {
    NLL_CHUNK = 32
  };
  int V = m->cfg.vocab_size;
  g_autoptr (ScBloomState) s = sc_bloom_state_new (m, n - 1);
  g_autofree float *logits = g_new (float, (gsize) MIN (n - 1, NLL_CHUNK) * V);
  double total = 0.0;
  for (int c = 0; c < n - 1; c += NLL_CHUNK)
    {
      int T = MIN (NLL_CHUNK, n - 1 - c);
      if (!sc_bloom_forward (m, s, ids + c, T, logits, FALSE, error))
        return FALSE;
      for (int t = 0; t < T; t++)
        {
          const float *row = logits + (gsize) t * V;
          double max = row[argmax (row, V)], sum = 0.0;
          for (int i = 0; i < V; i++)
            sum += exp ((double) row[i] - max);
          double nll = max + log (sum) - row[ids[c + t + 1]];
          if (token_nll)
            token_nll[c + t] = nll;
          total += nll;
        }
    }
  *mean_nll = total / (n - 1);
  return TRUE;
}

gboolean
sc_bloom_perplexity (ScBloom *m, const char *text, double *perplexity, double *mean_nll,
                     int *n_tokens, GError **error)
{
  if (m->bpe == NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_MISSING, "The BLOOM model has no tokenizer.json");
      return FALSE;
    }
  g_autoptr (GArray) ids = sc_bpe_encode (m->bpe, text, -1, error);
  if (ids == NULL)
    return FALSE;
  double mean;
  if (!sc_bloom_nll (m, (const int *) ids->data, (int) ids->len, NULL, &mean, error))
    return FALSE;
  if (perplexity)
    *perplexity = exp (mean);
  if (mean_nll)
    *mean_nll = mean;
  if (n_tokens)
    *n_tokens = (int) ids->len - 1;
  return TRUE;
}

gboolean
sc_bloom_perplexity_texts (ScBloom *m, const char *const *texts, guint n_texts, double *perplexity,
                           double *mean_nll, int *n_tokens, GError **error)
{
  if (m->bpe == NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_MISSING, "The BLOOM model has no tokenizer.json");
      return FALSE;
    }
  double total = 0.0;
  gint64 count = 0;
  for (guint i = 0; i < n_texts; i++)
    {
      g_autoptr (GArray) ids = sc_bpe_encode (m->bpe, texts[i], -1, error);
      if (ids == NULL)
        return FALSE;
      if (ids->len < 2)
        continue;
      double mean;
      if (!sc_bloom_nll (m, (const int *) ids->data, (int) ids->len, NULL, &mean, error))
        return FALSE;
      total += mean * (ids->len - 1);
      count += ids->len - 1;
    }
  if (count == 0)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_SHAPE,
                   "Perplexity needs a text of at least two tokens (got %u texts)", n_texts);
      return FALSE;
    }
  if (perplexity)
    *perplexity = exp (total / count);
  if (mean_nll)
    *mean_nll = total / count;
  if (n_tokens)
    *n_tokens = (int) MIN (count, G_MAXINT);
  return TRUE;
}
