/* sc-moe-shape.c: a model's MoE layers and what its experts weigh. */
#include "sc-moe-shape.h"

#include <string.h>

void
sc_moe_shape_from_config (ScMoeShape *shape, const ScConfig *config, const char *name)
{
  memset (shape, 0, sizeof *shape);
  shape->name = g_strdup (name ? name : "");
  shape->d_model = config->d_model;
  shape->encoder_layers = config->encoder_layers;
  shape->decoder_layers = config->decoder_layers;
  shape->n_moe_layers = sc_config_n_moe_layers (config);
  for (int i = 0; i < config->encoder_layers; i++)
    shape->n_encoder_moe += sc_config_is_sparse (config, FALSE, i);
  shape->n_experts = shape->n_moe_layers > 0 ? config->num_experts : 0;
}

void
sc_moe_shape_measure (ScMoeShape *shape, const ScConfig *config, ScCheckpoint *ckpt)
{
  /* Names as Hugging Face writes them: "...ffn.experts.expert_E.fc1.weight"
   * and "...ffn.router.classifier.weight" (one row per stored expert). */
  guint64 total = 0, experts = 0, routers = 0, router_row = 0;
  guint n_present = 0;
  const char *const *names = sc_checkpoint_names (ckpt);
  for (guint i = 0; i < sc_checkpoint_n_tensors (ckpt); i++)
    {
      const ScTensor *t = sc_checkpoint_get (ckpt, names[i]);
      total += t->nbytes;
      if (shape->n_moe_layers == 0)
        continue;
      if (strstr (names[i], ".ffn.experts.expert_") != NULL)
        {
          experts += t->nbytes;
          n_present += g_str_has_suffix (names[i], ".fc1.weight");
        }
      else if (g_str_has_suffix (names[i], ".ffn.router.classifier.weight") && t->n_dims == 2 &&
               t->shape[0] > 0)
        {
          routers += t->nbytes;
          router_row = t->nbytes / (guint64) t->shape[0];
        }
    }
  shape->bytes_per_expert = n_present > 0 ? experts / n_present + router_row : 0;
  shape->dense_bytes = total - experts - routers;
}

void
sc_moe_shape_clear (ScMoeShape *shape)
{
  g_clear_pointer (&shape->name, g_free);
}

guint64
sc_moe_shape_bytes (const ScMoeShape *shape, int n_kept)
{
  return shape->dense_bytes + (guint64) MAX (n_kept, 0) * shape->bytes_per_expert;
}
