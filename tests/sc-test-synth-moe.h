/* sc-test-synth-moe.h: writes a synthetic, sharded NLLB-MoE checkpoint with
 * random f16 weights (no PyTorch needed), large enough that its experts
 * dominate its size. Used by test-expert-cache and bench-expert-cache.
 * The tokenizer files come from the nllb-moe-tiny fixture; callers feed
 * token ids below its vocabulary. Header-only; every function is static. */
#pragma once

#include "sc-safetensors.h"
#include "sc-test-util.h"

#include <math.h>

typedef struct {
  int d_model, layers, heads, ffn, experts, vocab, sparse_step;
  guint64 seed;
} ScSynthMoe;

/* d 256, 2+2 layers all sparse, 96 experts of 2.6 MB each: 1.01 GB of
 * experts against 4.5 MB of dense weights. Large, so that the process's
 * own baseline (libraries, buffers: about 20 MB) fits in 15% of the
 * budget. */
static inline ScSynthMoe
sc_synth_moe_default (void)
{
  return (ScSynthMoe){ 256, 2, 4, 2560, 96, 2204, 1, 42 };
}

static inline guint64
synth_next (guint64 *s)
{
  /* xorshift64*: fast, and the same weights on every machine */
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 2685821657736338717ULL;
}

typedef struct {
  GPtrArray *tensors; /* ScTensor *, data owned in `bufs` */
  GPtrArray *bufs;
  guint64 bytes;
} SynthShard;

static inline void
synth_add (SynthShard *sh, guint64 *rng, const char *name, int64_t d0, int64_t d1, float amp,
           float base)
{
  ScTensor *t = g_new0 (ScTensor, 1);
  t->name = g_strdup (name);
  t->dtype = SC_DTYPE_F16;
  t->n_dims = d1 > 0 ? 2 : 1;
  t->shape[0] = d0;
  t->shape[1] = d1;
  int64_t n = d0 * (d1 > 0 ? d1 : 1);
  guint16 *data = g_new (guint16, n);
  /* f16 of uniform [0,1) values in a 2^16 table, then one random index per
   * element: fast enough for a gigabyte of weights. */
  static guint16 table[65536];
  static float last_amp = -1.0f, last_base = 0.0f;
  if (amp != last_amp || base != last_base)
    {
      for (int i = 0; i < 65536; i++)
        table[i] = sc_f32_to_f16 (base + amp * (2.0f * ((float) i + 0.5f) / 65536.0f - 1.0f));
      last_amp = amp, last_base = base;
    }
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    {
      guint64 r = synth_next (rng);
      data[i] = table[r & 0xffff];
      data[i + 1] = table[(r >> 16) & 0xffff];
      data[i + 2] = table[(r >> 32) & 0xffff];
      data[i + 3] = table[r >> 48];
    }
  for (; i < n; i++)
    data[i] = table[synth_next (rng) >> 48];
  t->data = data;
  t->nbytes = (guint64) n * 2;
  g_ptr_array_add (sh->tensors, t);
  g_ptr_array_add (sh->bufs, data);
  sh->bytes += t->nbytes;
}

static inline void
synth_add_linear_gain (SynthShard *sh, guint64 *rng, const char *base, int out, int in,
                       float gain)
{
  g_autofree char *w = g_strdup_printf ("%s.weight", base);
  g_autofree char *b = g_strdup_printf ("%s.bias", base);
  float a = gain / sqrtf ((float) in);
  synth_add (sh, rng, w, out, in, a, 0.0f);
  synth_add (sh, rng, b, out, 0, a, 0.0f);
}

static inline void
synth_add_linear (SynthShard *sh, guint64 *rng, const char *base, int out, int in)
{
  synth_add_linear_gain (sh, rng, base, out, in, 1.0f);
}

static inline void
synth_add_norm (SynthShard *sh, guint64 *rng, const char *base, int d)
{
  g_autofree char *w = g_strdup_printf ("%s.weight", base);
  g_autofree char *b = g_strdup_printf ("%s.bias", base);
  synth_add (sh, rng, w, d, 0, 0.1f, 1.0f);
  synth_add (sh, rng, b, d, 0, 0.1f, 0.0f);
}

static inline void
synth_flush (SynthShard *sh, const char *dir, const char *file, JsonBuilder *map)
{
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_autoptr (GError) error = NULL;
  sc_safetensors_write (path, (ScTensor *const *) sh->tensors->pdata, sh->tensors->len, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < sh->tensors->len; i++)
    {
      ScTensor *t = sh->tensors->pdata[i];
      json_builder_set_member_name (map, t->name);
      json_builder_add_string_value (map, file);
      g_free (t->name);
      g_free (t);
    }
  g_ptr_array_set_size (sh->tensors, 0);
  g_ptr_array_set_size (sh->bufs, 0);
}

/* Writes the model into `dir` (created): shard 1 the dense part, then one
 * shard per MoE layer's experts. Returns the dense and expert bytes. */
static inline void
sc_synth_moe_write (const ScSynthMoe *p, const char *dir, guint64 *dense_bytes,
                    guint64 *expert_bytes)
{
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_autofree char *fixture = sc_test_path ("tests/fixtures/nllb-moe-tiny");
  const char *const tok_files[] = { "sentencepiece.bpe.model", "tokenizer_config.json",
                                    "special_tokens_map.json", "added_tokens.json", NULL };
  sc_test_copy_files (fixture, dir, tok_files);

  g_autofree char *config = g_strdup_printf (
      "{\"model_type\": \"nllb-moe\", \"d_model\": %d, \"encoder_layers\": %d,"
      " \"decoder_layers\": %d, \"encoder_attention_heads\": %d,"
      " \"decoder_attention_heads\": %d, \"encoder_ffn_dim\": %d, \"decoder_ffn_dim\": %d,"
      " \"vocab_size\": %d, \"max_position_embeddings\": 128, \"scale_embedding\": true,"
      " \"num_experts\": %d, \"encoder_sparse_step\": %d, \"decoder_sparse_step\": %d,"
      " \"moe_token_dropout\": 0.2, \"pad_token_id\": 1, \"bos_token_id\": 0,"
      " \"eos_token_id\": 2, \"decoder_start_token_id\": 2, \"num_beams\": 1,"
      " \"max_length\": 32, \"tie_word_embeddings\": true}",
      p->d_model, p->layers, p->layers, p->heads, p->heads, p->ffn, p->ffn, p->vocab, p->experts,
      p->sparse_step, p->sparse_step);
  g_autofree char *config_path = g_build_filename (dir, "config.json", NULL);
  g_autoptr (GError) error = NULL;
  g_file_set_contents (config_path, config, -1, &error);
  g_assert_no_error (error);

  guint64 rng = p->seed * 0x9E3779B97F4A7C15ULL + 1;
  int d = p->d_model;
  g_autoptr (JsonBuilder) map = json_builder_new ();
  json_builder_begin_object (map);
  SynthShard sh = { g_ptr_array_new (), g_ptr_array_new_with_free_func (g_free), 0 };
  guint64 dense = 0, experts = 0;
  int n_moe_shards = 0;
  for (int dec = 0; dec < 2; dec++)
    for (int i = 0; i < p->layers; i++)
      if ((i + 1) % p->sparse_step == 0)
        n_moe_shards++;
  int n_shards = 1 + n_moe_shards, shard = 1;
  g_autofree char *file = NULL;
#define FILE_NAME() (g_free (file), file = g_strdup_printf ("model-%05d-of-%05d.safetensors", \
                                                            shard, n_shards))

  synth_add (&sh, &rng, "shared.weight", p->vocab, d, 0.2f, 0.0f);
  for (int dec = 0; dec < 2; dec++)
    {
      const char *side = dec ? "decoder" : "encoder";
      for (int i = 0; i < p->layers; i++)
        {
          g_autofree char *pre = g_strdup_printf ("%s.layers.%d", side, i);
          const char *attn[] = { "self_attn", "cross_attention" };
          for (int a = 0; a < 1 + dec; a++)
            {
              g_autofree char *ln = g_strdup_printf ("%s.%s_layer_norm", pre, attn[a]);
              synth_add_norm (&sh, &rng, ln, d);
              const char *proj[] = { "q_proj", "k_proj", "v_proj", "out_proj" };
              for (int j = 0; j < 4; j++)
                {
                  g_autofree char *base = g_strdup_printf ("%s.%s.%s", pre, attn[a], proj[j]);
                  /* sharp attention, so rows and positions stay distinct */
                  synth_add_linear_gain (&sh, &rng, base, d, d, j < 2 ? 4.0f : 1.0f);
                }
            }
          g_autofree char *ff_ln = g_strdup_printf ("%s.ff_layer_norm", pre);
          synth_add_norm (&sh, &rng, ff_ln, d);
          if ((i + 1) % p->sparse_step != 0)
            {
              g_autofree char *fc1 = g_strdup_printf ("%s.ffn.fc1", pre);
              g_autofree char *fc2 = g_strdup_printf ("%s.ffn.fc2", pre);
              synth_add_linear (&sh, &rng, fc1, p->ffn, d);
              synth_add_linear (&sh, &rng, fc2, d, p->ffn);
            }
          else
            {
              /* decisive router logits, so tokens spread over the experts */
              g_autofree char *router = g_strdup_printf ("%s.ffn.router.classifier.weight", pre);
              synth_add (&sh, &rng, router, p->experts, d, 0.5f, 0.0f);
            }
        }
      g_autofree char *fin = g_strdup_printf ("%s.layer_norm", side);
      synth_add_norm (&sh, &rng, fin, d);
    }
  dense = sh.bytes;
  synth_flush (&sh, dir, FILE_NAME (), map);

  for (int dec = 0; dec < 2; dec++)
    for (int i = 0; i < p->layers; i++)
      {
        if ((i + 1) % p->sparse_step != 0)
          continue;
        sh.bytes = 0;
        for (int e = 0; e < p->experts; e++)
          {
            g_autofree char *fc1 = g_strdup_printf ("%s.layers.%d.ffn.experts.expert_%d.fc1",
                                                    dec ? "decoder" : "encoder", i, e);
            g_autofree char *fc2 = g_strdup_printf ("%s.layers.%d.ffn.experts.expert_%d.fc2",
                                                    dec ? "decoder" : "encoder", i, e);
            synth_add_linear (&sh, &rng, fc1, p->ffn, d);
            synth_add_linear (&sh, &rng, fc2, d, p->ffn);
          }
        experts += sh.bytes;
        shard++;
        synth_flush (&sh, dir, FILE_NAME (), map);
      }
#undef FILE_NAME
  json_builder_end_object (map);

  g_autoptr (JsonBuilder) index = json_builder_new ();
  json_builder_begin_object (index);
  json_builder_set_member_name (index, "metadata");
  json_builder_begin_object (index);
  json_builder_set_member_name (index, "total_size");
  json_builder_add_int_value (index, (gint64) (dense + experts));
  json_builder_end_object (index);
  json_builder_set_member_name (index, "weight_map");
  g_autoptr (JsonNode) map_node = json_builder_get_root (map);
  json_builder_add_value (index, g_steal_pointer (&map_node));
  json_builder_end_object (index);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (index);
  json_generator_set_root (gen, root);
  g_autofree char *index_path = g_build_filename (dir, "model.safetensors.index.json", NULL);
  json_generator_to_file (gen, index_path, &error);
  g_assert_no_error (error);

  g_ptr_array_unref (sh.tensors);
  g_ptr_array_unref (sh.bufs);
  *dense_bytes = dense;
  *expert_bytes = experts;
}
