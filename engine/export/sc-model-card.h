/* sc-model-card.h: the README.md of an expert-pruned export.
 *
 * Written instead of the full model's card (and its eval.json), whose
 * numbers are not the pruned model's: what was removed (kept experts per
 * MoE layer, in original ids), for which directions, the sizes, how the
 * experts were chosen, and how to load it (stock transformers for the
 * uniform form, transformers with trust_remote_code for the per-layer
 * form).
 */
#pragma once

#include "sc-config.h"

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct {
  const char   *source;         /* the full model's name or folder */
  const guint8 *keep;           /* [n_moe * num_experts] */
  int           uniform;        /* k when every MoE layer keeps k, else 0 */
  const char   *dtype;          /* weights as written, "F16" ... */
  guint64       bytes;          /* tensor bytes written */
  guint64       dropped_bytes;  /* expert bytes left out (at the stored dtype) */
  JsonObject   *selection;      /* the config.json selection record, or NULL */
} ScModelCard;

/* Markdown text; g_free. */
char *sc_model_card_text (const ScConfig *config, const ScModelCard *card);

G_END_DECLS
