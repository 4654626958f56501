/* sc-remote-code.c: the Python files of the per-layer export form. */
#include "sc-remote-code.h"

#include <string.h>

#define CONFIG_MODULE "configuration_nllb_moe_pruned"
#define MODEL_MODULE "modeling_nllb_moe_pruned"

/* Kept short and free of behaviour: anything beyond the per-layer count
 * would make the export compute something transformers' NllbMoe does not. */
static const char config_py[] =
    "# Written by Secateur into an expert-pruned NLLB-MoE export whose MoE layers\n"
    "# keep different numbers of experts. transformers' NllbMoeConfig has one\n"
    "# num_experts for every layer; this configuration adds the count of each MoE\n"
    "# layer and nothing else. Load with trust_remote_code=True.\n"
    "from transformers import NllbMoeConfig\n"
    "\n"
    "\n"
    "class NllbMoePrunedConfig(NllbMoeConfig):\n"
    "    model_type = \"" SC_REMOTE_CODE_MODEL_TYPE "\"\n"
    "\n"
    "    def __init__(self, num_experts_per_layer=None, **kwargs):\n"
    "        # One count per MoE layer: the encoder's sparse layers first, then the\n"
    "        # decoder's, in layer order. num_experts is the largest of them.\n"
    "        self.num_experts_per_layer = list(num_experts_per_layer or [])\n"
    "        super().__init__(**kwargs)\n";

static const char model_py[] =
    "# Written by Secateur into an expert-pruned NLLB-MoE export whose MoE layers\n"
    "# keep different numbers of experts. These are transformers' NllbMoe classes;\n"
    "# the only difference is that MoE layer i has config.num_experts_per_layer[i]\n"
    "# experts (expert_0, expert_1, ... in ascending original id, router row j\n"
    "# scoring expert_j; config.json's secateur_kept_experts lists the original\n"
    "# ids). Load with trust_remote_code=True.\n"
    "import copy\n"
    "\n"
    "from transformers import NllbMoeForConditionalGeneration, NllbMoeModel\n"
    "from transformers.models.nllb_moe.modeling_nllb_moe import NllbMoeSparseMLP\n"
    "\n"
    "from ." CONFIG_MODULE " import NllbMoePrunedConfig\n"
    "\n"
    "\n"
    "def _resize_experts(model, config):\n"
    "    \"\"\"Gives each MoE layer of an NllbMoeModel its own number of experts.\"\"\"\n"
    "    counts = list(config.num_experts_per_layer)\n"
    "    sparse = [(layer, ffn_dim)\n"
    "              for stack, ffn_dim in ((model.encoder, config.encoder_ffn_dim),\n"
    "                                     (model.decoder, config.decoder_ffn_dim))\n"
    "              for layer in stack.layers if layer.is_sparse]\n"
    "    if len(counts) != len(sparse):\n"
    "        raise ValueError(\"num_experts_per_layer lists %d MoE layers; the model has %d\"\n"
    "                         % (len(counts), len(sparse)))\n"
    "    for (layer, ffn_dim), k in zip(sparse, counts):\n"
    "        if k != layer.ffn.num_experts:\n"
    "            # transformers' own sparse MLP, built for this layer's count\n"
    "            layer_config = copy.copy(config)\n"
    "            layer_config.num_experts = k\n"
    "            layer.ffn = NllbMoeSparseMLP(layer_config, ffn_dim=ffn_dim)\n"
    "\n"
    "\n"
    "class NllbMoePrunedModel(NllbMoeModel):\n"
    "    config_class = NllbMoePrunedConfig\n"
    "\n"
    "    def __init__(self, config):\n"
    "        super().__init__(config)\n"
    "        _resize_experts(self, config)\n"
    "        self.post_init()\n"
    "\n"
    "\n"
    "class NllbMoePrunedForConditionalGeneration(NllbMoeForConditionalGeneration):\n"
    "    config_class = NllbMoePrunedConfig\n"
    "\n"
    "    def __init__(self, config):\n"
    "        super().__init__(config)\n"
    "        _resize_experts(self.model, config)\n"
    "        self.post_init()\n";

static const struct
{
  const char *name;
  const char *text;
} files[] = {
  { CONFIG_MODULE ".py", config_py },
  { MODEL_MODULE ".py", model_py },
};

gboolean
sc_remote_code_write (const char *dir, GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (dir, files[i].name, NULL);
      if (!g_file_set_contents (path, files[i].text, -1, error))
        return FALSE;
    }
  return TRUE;
}

const char *
sc_remote_code_file_name (guint i)
{
  return i < G_N_ELEMENTS (files) ? files[i].name : NULL;
}

guint64
sc_remote_code_file_bytes (guint i)
{
  return i < G_N_ELEMENTS (files) ? strlen (files[i].text) : 0;
}

gboolean
sc_remote_code_is_file (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    if (g_str_equal (name, files[i].name))
      return TRUE;
  return FALSE;
}

/* "NllbMoeX" <-> "NllbMoePrunedX" in config.json's architectures. */
static void
rename_architectures (JsonObject *config, gboolean pruned)
{
  JsonNode *n = json_object_get_member (config, "architectures");
  if (n == NULL || !JSON_NODE_HOLDS_ARRAY (n))
    return;
  JsonArray *old = json_node_get_array (n);
  JsonArray *now = json_array_new ();
  for (guint i = 0; i < json_array_get_length (old); i++)
    {
      JsonNode *e = json_array_get_element (old, i);
      const char *s = JSON_NODE_HOLDS_VALUE (e) && json_node_get_value_type (e) == G_TYPE_STRING
                          ? json_node_get_string (e)
                          : NULL;
      if (s == NULL)
        {
          json_array_add_element (now, json_node_copy (e));
          continue;
        }
      const char *rest = g_str_has_prefix (s, "NllbMoePruned") ? s + strlen ("NllbMoePruned")
                         : g_str_has_prefix (s, "NllbMoe")     ? s + strlen ("NllbMoe")
                                                               : NULL;
      g_autofree char *name =
          rest != NULL ? g_strconcat (pruned ? "NllbMoePruned" : "NllbMoe", rest, NULL) : NULL;
      json_array_add_string_element (now, name != NULL ? name : s);
    }
  json_object_set_array_member (config, "architectures", now);
}

void
sc_remote_code_set_config (JsonObject *config, const int *counts, int n_moe)
{
  json_object_set_string_member (config, "model_type", SC_REMOTE_CODE_MODEL_TYPE);
  JsonArray *a = json_array_new ();
  for (int m = 0; m < n_moe; m++)
    json_array_add_int_element (a, counts[m]);
  json_object_set_array_member (config, SC_REMOTE_CODE_COUNTS_KEY, a);
  JsonObject *map = json_object_new ();
  json_object_set_string_member (map, "AutoConfig", CONFIG_MODULE ".NllbMoePrunedConfig");
  json_object_set_string_member (map, "AutoModel", MODEL_MODULE ".NllbMoePrunedModel");
  json_object_set_string_member (map, "AutoModelForSeq2SeqLM",
                                 MODEL_MODULE ".NllbMoePrunedForConditionalGeneration");
  json_object_set_object_member (config, "auto_map", map);
  rename_architectures (config, TRUE);
}

void
sc_remote_code_unset_config (JsonObject *config)
{
  json_object_set_string_member (config, "model_type", "nllb-moe");
  if (json_object_has_member (config, SC_REMOTE_CODE_COUNTS_KEY))
    json_object_remove_member (config, SC_REMOTE_CODE_COUNTS_KEY);
  if (json_object_has_member (config, "auto_map"))
    json_object_remove_member (config, "auto_map");
  rename_architectures (config, FALSE);
}
