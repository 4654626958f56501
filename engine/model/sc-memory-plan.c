/* sc-memory-plan.c: parameter counts and buffer sizes from a config. The
 * formulas mirror what sc-model.c allocates; tests/test-memory-plan.c
 * checks them against a hand calculation for NLLB-200 MoE 54B. */
#include "sc-memory-plan.h"

void
sc_memory_plan_options_init (ScMemoryPlanOptions *opts)
{
  *opts = (ScMemoryPlanOptions){
    .weight_dtype = SC_DTYPE_F16,
    .batch = 1,
    .beams = 1,
    .src_len = 128,
    .tgt_len = 128,
  };
}

/* q, k, v, out projections with biases. */
static guint64
attention_params (guint64 d)
{
  return 4 * (d * d + d);
}

/* fc1 [ffn, d] + bias, fc2 [d, ffn] + bias: a dense FFN or one expert. */
static guint64
ffn_params (guint64 d, guint64 ffn)
{
  return 2 * d * ffn + ffn + d;
}

/* Sizes from command-line batches and lengths can pass 2^64 bytes: they
 * saturate instead of wrapping round to something that "fits". */
static guint64
mul (guint64 a, guint64 b)
{
  guint64 r;
  return g_uint64_checked_mul (&r, a, b) ? r : G_MAXUINT64;
}

static guint64
add (guint64 a, guint64 b)
{
  guint64 r;
  return g_uint64_checked_add (&r, a, b) ? r : G_MAXUINT64;
}

void
sc_memory_plan_compute (const ScConfig *c, const ScMemoryPlanOptions *o, ScMemoryPlan *p)
{
  guint64 d = (guint64) c->d_model, V = (guint64) c->vocab_size, E = (guint64) c->num_experts;
  guint64 norm = 2 * d; /* weight + bias */
  guint64 wsize = sc_dtype_size (o->weight_dtype);

  *p = (ScMemoryPlan){ 0 };
  /* One shared table for both embeddings and the (tied) output layer. */
  p->dense_params = V * d * (c->tie_word_embeddings ? 1 : 2);
  for (int dec = 0; dec < 2; dec++)
    {
      int layers = dec ? c->decoder_layers : c->encoder_layers;
      guint64 ffn = (guint64) (dec ? c->decoder_ffn_dim : c->encoder_ffn_dim);
      for (int i = 0; i < layers; i++)
        {
          p->dense_params += attention_params (d) + 2 * norm;
          if (dec)
            p->dense_params += attention_params (d) + norm; /* cross-attention */
          if (sc_config_is_sparse (c, dec, i))
            {
              p->dense_params += E * d; /* router, no bias */
              p->expert_params = ffn_params (d, ffn);
              p->n_moe_layers++;
            }
          else
            {
              p->dense_params += ffn_params (d, ffn);
            }
        }
      p->dense_params += norm; /* final layer norm */
    }
  p->n_experts = p->n_moe_layers * (int) E;
  p->all_expert_params = (guint64) p->n_experts * p->expert_params;
  p->n_kept = p->n_experts;
  if (o->kept_per_layer != NULL)
    {
      p->n_kept = 0;
      for (int m = 0; m < p->n_moe_layers; m++)
        p->n_kept += CLAMP (o->kept_per_layer[m], 0, (int) E);
    }
  p->kept_expert_params = (guint64) p->n_kept * p->expert_params;

  p->dense_bytes = p->dense_params * wsize;
  p->expert_bytes = p->expert_params * wsize;
  p->kept_expert_bytes = p->kept_expert_params * wsize;
  p->expert_cache_bytes = p->kept_expert_bytes;
  if (o->expert_budget > 0)
    p->expert_cache_bytes = MIN (o->expert_budget, p->kept_expert_bytes);

  /* KV caches (f32): per decoder layer, self-attention K and V for every
   * decoder row up to tgt_len, cross-attention K and V for every source
   * token (shared by a sentence's beams). */
  guint64 B = (guint64) MAX (o->batch, 0), R = B * (guint64) MAX (o->beams, 1);
  guint64 S = (guint64) MAX (o->src_len, 0), T = (guint64) MAX (o->tgt_len, 0);
  guint64 L = (guint64) c->decoder_layers;
  p->kv_cache_bytes = mul (L * 2 * d * 4, add (mul (R, T), mul (B, S)));

  /* Peak working buffers (f32) of one pass, as sc-model.c allocates them:
   * the residual stream, h, q, k, v and attention output (6 rows of d);
   * the FFN's middle (ffn); router logits and probabilities (2 E); the
   * gathered expert input and output (2 d); one head's attention scores
   * (Tq x Tk). The encoder output stays alive while decoding. */
  guint64 ffn = (guint64) MAX (c->encoder_ffn_dim, c->decoder_ffn_dim);
  guint64 per_row = 8 * d + ffn + 2 * E;
  guint64 n_enc = mul (B, S);
  guint64 enc = add (mul (n_enc, per_row), S * S);
  guint64 dec_rows = o->teacher_forcing ? mul (R, T) : R;
  guint64 tq = o->teacher_forcing ? T : 1;
  guint64 dec_act = add (add (mul (dec_rows, per_row), mul (mul (R, tq), MAX (T, S))),
                         add (mul (n_enc, d), mul (dec_rows, V))); /* the last: logits */
  p->activation_bytes = mul (MAX (enc, dec_act), 4);

  p->reserve_bytes = o->reserve;
  p->total_bytes = add (add (add (p->dense_bytes, p->expert_cache_bytes), p->kv_cache_bytes),
                        add (p->activation_bytes, p->reserve_bytes));
}

gboolean
sc_memory_plan_fits (const ScMemoryPlan *plan, guint64 device_bytes)
{
  return plan->total_bytes <= device_bytes;
}

int
sc_memory_plan_max_batch (const ScConfig *c, const ScMemoryPlanOptions *o, guint64 device_bytes,
                          int max_batch)
{
  /* Memory grows with the batch: bisect on the largest that fits. */
  ScMemoryPlanOptions t = *o;
  ScMemoryPlan p;
  /* 64-bit bounds: hi - lo + 1 must not overflow for max_batch = G_MAXINT. */
  gint64 lo = 0, hi = MAX (max_batch, 0);
  while (lo < hi)
    {
      gint64 mid = lo + (hi - lo + 1) / 2;
      t.batch = (int) mid;
      sc_memory_plan_compute (c, &t, &p);
      if (sc_memory_plan_fits (&p, device_bytes))
        lo = mid;
      else
        hi = mid - 1;
    }
  return (int) lo;
}
