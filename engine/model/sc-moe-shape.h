/* sc-moe-shape.h: the one description of a model's experts — how many MoE
 * layers (encoder ones first), experts per layer, and what one expert and
 * everything else weigh as stored. The model measures it once when it
 * loads (sc_model_get_moe_shape); statistics carry the same struct as their
 * shape (ScStatsShape), so nothing recounts encoder MoE layers or works out
 * bytes per expert again. */
#pragma once

#include "sc-checkpoint.h"
#include "sc-config.h"

G_BEGIN_DECLS

typedef struct {
  char   *name;             /* e.g. "nllb-moe-54b" (the model's folder); may be NULL or "" */
  int     d_model;
  int     encoder_layers;   /* all layers, dense and sparse */
  int     decoder_layers;
  int     n_moe_layers;     /* encoder + decoder MoE layers */
  int     n_encoder_moe;    /* MoE layers 0..n_encoder_moe-1 are in the encoder */
  int     n_experts;        /* per MoE layer; 0 for a dense model */
  /* As stored in the checkpoint; 0 when unknown (statistics read from a
   * file do not record them). */
  guint64 bytes_per_expert; /* one expert's tensors and its router row: what dropping it saves */
  guint64 dense_bytes;      /* every other tensor byte */
} ScMoeShape;

/* Layers and experts of `config`; `name` is copied (free with
 * sc_moe_shape_clear); the byte counts are left at 0. */
void     sc_moe_shape_from_config (ScMoeShape *shape, const ScConfig *config, const char *name);
/* Adds the byte counts from the tensor headers of `ckpt` (nothing read). */
void     sc_moe_shape_measure     (ScMoeShape *shape, const ScConfig *config, ScCheckpoint *ckpt);
void     sc_moe_shape_clear       (ScMoeShape *shape);
/* Bytes of the model keeping `n_kept` experts in all: dense + n_kept x bytes_per_expert. */
guint64  sc_moe_shape_bytes       (const ScMoeShape *shape, int n_kept);

G_END_DECLS
