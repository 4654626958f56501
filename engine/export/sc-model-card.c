/* sc-model-card.c: the README.md of an expert-pruned export. */
#include "sc-model-card.h"
#include "sc-provenance.h"

#include <math.h>

static double
mib (guint64 bytes)
{
  return bytes / 1048576.0;
}

/* "encoder layer 3" for MoE ordinal m (encoder MoE layers first). */
static char *
moe_layer_name (const ScConfig *c, int m)
{
  for (int side = 0, k = 0; side < 2; side++)
    for (int l = 0; l < (side ? c->decoder_layers : c->encoder_layers); l++)
      if (sc_config_is_sparse (c, side, l) && k++ == m)
        return g_strdup_printf ("%s layer %d", side ? "decoder" : "encoder", l);
  return g_strdup_printf ("MoE layer %d", m);
}

/* The strings of array member `key` joined by ", ", or NULL. */
static char *
joined (JsonObject *o, const char *key)
{
  if (o == NULL || !json_object_has_member (o, key) ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (o, key)))
    return NULL;
  JsonArray *a = json_object_get_array_member (o, key);
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonNode *n = json_array_get_element (a, i);
      if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
        g_string_append_printf (s, "%s`%s`", s->len ? ", " : "", json_node_get_string (n));
    }
  return g_string_free (s, FALSE);
}

/* "- name: value" for the members of the selection settings. */
static void
append_how_chosen (GString *s, JsonObject *selection)
{
  JsonNode *how = selection ? json_object_get_member (selection, "settings") : NULL;
  JsonNode *runs = selection ? json_object_get_member (selection, "statistics") : NULL;
  if ((how == NULL || !JSON_NODE_HOLDS_OBJECT (how)) &&
      (runs == NULL || !JSON_NODE_HOLDS_ARRAY (runs)))
    return;
  g_string_append (s, "\n## How the experts were chosen\n\n");
  if (how != NULL && JSON_NODE_HOLDS_OBJECT (how))
    {
      JsonObject *o = json_node_get_object (how);
      g_autoptr (GList) members = json_object_get_members (o);
      for (GList *it = members; it; it = it->next)
        {
          JsonNode *v = json_object_get_member (o, it->data);
          if (!JSON_NODE_HOLDS_VALUE (v))
            continue;
          GType t = json_node_get_value_type (v);
          if (t == G_TYPE_STRING)
            g_string_append_printf (s, "- %s: %s\n", (char *) it->data, json_node_get_string (v));
          else if (t == G_TYPE_INT64)
            g_string_append_printf (s, "- %s: %" G_GINT64_FORMAT "\n", (char *) it->data,
                                    json_node_get_int (v));
          else if (t == G_TYPE_DOUBLE)
            g_string_append_printf (s, "- %s: %g\n", (char *) it->data, json_node_get_double (v));
          else if (t == G_TYPE_BOOLEAN)
            g_string_append_printf (s, "- %s: %s\n", (char *) it->data,
                                    json_node_get_boolean (v) ? "yes" : "no");
        }
    }
  if (runs != NULL && JSON_NODE_HOLDS_ARRAY (runs))
    {
      JsonArray *a = json_node_get_array (runs);
      g_string_append_printf (s, "- statistics from %u calibration run(s):\n",
                              json_array_get_length (a));
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          JsonNode *r = json_array_get_element (a, i);
          if (!JSON_NODE_HOLDS_OBJECT (r))
            continue;
          g_autofree char *line = sc_provenance_describe (json_node_get_object (r));
          g_string_append_printf (s, "  %u. %s\n", i + 1, line);
        }
    }
}

static double
score_of (JsonObject *entry, const char *side, const char *metric)
{
  JsonNode *n = json_object_get_member (entry, side);
  if (n == NULL || !JSON_NODE_HOLDS_OBJECT (n))
    return NAN;
  JsonNode *v = json_object_get_member (json_node_get_object (n), metric);
  return v && JSON_NODE_HOLDS_VALUE (v) ? json_node_get_double (v) : NAN;
}

/* The pruned model's scores per direction, beside the full model's. */
static void
append_scores (GString *s, JsonObject *scores)
{
  g_string_append (s, "\n## Evaluation\n\n"
                      "Scores of this pruned model (masked evaluation of the same experts, "
                      "`secateur-cli evaluate`) beside the full model's:\n\n"
                      "| direction | sentences | chrF++ full | chrF++ pruned | spBLEU full | "
                      "spBLEU pruned |\n|---|---|---|---|---|---|\n");
  g_autoptr (GList) members = json_object_get_members (scores);
  members = g_list_sort (members, (GCompareFunc) g_strcmp0);
  for (GList *it = members; it; it = it->next)
    {
      JsonNode *n = json_object_get_member (scores, it->data);
      if (!JSON_NODE_HOLDS_OBJECT (n))
        continue;
      JsonObject *e = json_node_get_object (n);
      gint64 sentences =
          json_object_has_member (e, "sentences") ? json_object_get_int_member (e, "sentences") : 0;
      g_string_append_printf (s, "| %s | %" G_GINT64_FORMAT " | %.2f | %.2f | %.2f | %.2f |\n",
                              (char *) it->data, sentences, score_of (e, "full", "chrf++"),
                              score_of (e, "pruned", "chrf++"), score_of (e, "full", "spbleu"),
                              score_of (e, "pruned", "spbleu"));
    }
}

char *
sc_model_card_text (const ScConfig *c, const ScModelCard *card)
{
  int E = c->num_experts, n_moe = sc_config_n_moe_layers (c), kept = 0;
  for (int i = 0; i < n_moe * E; i++)
    kept += card->keep[i] != 0;
  g_autofree char *serves = joined (card->selection, "serves");
  GString *s = g_string_new (NULL);

  g_string_append (s, "---\ntags: [translation, nllb-moe, mixture-of-experts, pruned, secateur]\n");
  g_string_append_printf (s, "base_model: %s\n---\n\n", card->source);
  g_string_append_printf (s, "# %s, expert-pruned by Secateur\n\n", card->source);
  g_string_append_printf (
      s,
      "Experts pruned from `%s` by Secateur (language-specific expert pruning, Koishekenov et al., "
      "ACL 2023). This card replaces the full model's: its scores are not this model's.\n\n",
      card->source);

  g_string_append (s, "## What was removed\n\n");
  if (serves != NULL)
    g_string_append_printf (s,
                            "- Directions served: %s. The kept experts are those chosen for them; "
                            "other directions lose quality.\n",
                            serves);
  else
    g_string_append (s, "- Directions served: not recorded (the experts came from a list of "
                        "kept experts per layer).\n");
  g_string_append_printf (s, "- Experts: %d of %d kept (%.1f %% removed) over %d MoE layers.\n\n",
                          kept, n_moe * E, 100.0 * (n_moe * E - kept) / MAX (n_moe * E, 1), n_moe);
  g_string_append (s, "| MoE layer | kept | of | original ids kept |\n|---|---|---|---|\n");
  for (int m = 0; m < n_moe; m++)
    {
      g_autofree char *name = moe_layer_name (c, m);
      GString *ids = g_string_new (NULL);
      int n = 0;
      for (int e = 0; e < E; e++)
        if (card->keep[m * E + e])
          g_string_append_printf (ids, "%s%d", n++ ? " " : "", e);
      g_string_append_printf (s, "| %s | %d | %d | %s |\n", name, n, E, ids->str);
      g_string_free (ids, TRUE);
    }

  g_string_append (s, "\n## Sizes\n\n");
  g_string_append_printf (s, "- Weights: %.1f MiB written as %s; %.1f MiB of experts removed.\n",
                          mib (card->bytes), card->dtype, mib (card->dropped_bytes));

  g_string_append (s, "\n## Loading\n\n");
  if (card->uniform > 0)
    g_string_append_printf (
        s,
        "Every MoE layer keeps %d experts, so this is a plain NllbMoe checkpoint: "
        "`AutoModelForSeq2SeqLM.from_pretrained(\"DIR\")` (Hugging Face transformers) loads it. "
        "`num_experts` is %d; the kept experts are renumbered 0..%d in ascending original id "
        "(router row i is `expert_i`), and `config.json` keeps their original ids under "
        "`%s`.\n",
        card->uniform, card->uniform, card->uniform - 1, SC_CONFIG_KEPT_KEY);
  else
    g_string_append_printf (
        s,
        "MoE layers keep different numbers of experts, which transformers' NllbMoe (one "
        "`num_experts` for every layer) cannot express. This folder therefore holds a small "
        "configuration and modelling file (`configuration_nllb_moe_pruned.py`, "
        "`modeling_nllb_moe_pruned.py`, written by Secateur) that subclass transformers' "
        "NllbMoe classes and only give each MoE layer its own number of experts "
        "(`num_experts_per_layer` in `config.json`); that is why loading needs "
        "`trust_remote_code=True`: "
        "`AutoModelForSeq2SeqLM.from_pretrained(\"DIR\", trust_remote_code=True)`. "
        "Read the two files before you trust them. In each layer the kept experts are "
        "renumbered 0..k-1 in ascending original id (router row i is `expert_i`), and "
        "`config.json` keeps their original ids under `%s`. Secateur loads it as it is "
        "(`secateur-cli translate -m DIR ...`). For a plain NllbMoe checkpoint without custom "
        "code, keep the same number of experts in every layer (`secateur-cli select "
        "--uniform`).\n",
        SC_CONFIG_KEPT_KEY);

  append_how_chosen (s, card->selection);
  if (card->selection != NULL)
    {
      g_string_append (s, "\n## Selection\n\n");
      g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
      json_node_set_object (node, card->selection);
      g_autofree char *text = json_to_string (node, TRUE);
      g_string_append_printf (s,
                              "Recorded in `config.json` as `secateur_selection`:\n\n"
                              "```json\n%s\n```\n",
                              text);
    }

  JsonNode *scores = card->selection ? json_object_get_member (card->selection, "scores") : NULL;
  if (scores != NULL && JSON_NODE_HOLDS_OBJECT (scores))
    append_scores (s, json_node_get_object (scores));
  else
    g_string_append (s, "\n## Evaluation\n\nNo evaluation of the pruned model was recorded by "
                        "the export; `secateur-cli evaluate -m DIR --pairs SRC-TGT` scores it.\n");
  return g_string_free (s, FALSE);
}
