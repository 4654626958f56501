/* sc-remote-code.h: the configuration and modelling files of the per-layer
 * export form.
 *
 * transformers' NllbMoe has one num_experts for every MoE layer. An export
 * whose layers keep different numbers of experts ships two small Python
 * files, written by Secateur (not copied from transformers), that subclass
 * transformers' NllbMoe classes and only give MoE layer i its own count
 * (config.json's SC_REMOTE_CODE_COUNTS_KEY, encoder MoE layers first).
 * config.json's auto_map points at them, so
 * AutoModelForSeq2SeqLM.from_pretrained (DIR, trust_remote_code=True)
 * loads the export. Its model_type is SC_REMOTE_CODE_MODEL_TYPE, which
 * stock transformers does not know: without trust_remote_code it refuses
 * the folder instead of building a plain NllbMoe around it.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define SC_REMOTE_CODE_MODEL_TYPE "nllb-moe-pruned"
#define SC_REMOTE_CODE_COUNTS_KEY "num_experts_per_layer"

/* Writes the two .py files into `dir`. */
gboolean sc_remote_code_write (const char *dir, GError **error);
/* The name of file i of those sc_remote_code_write writes (NULL past the
 * last) and its size in bytes. */
const char *sc_remote_code_file_name (guint i);
guint64 sc_remote_code_file_bytes (guint i);
/* TRUE for the name of one of those files (an earlier export's copy). */
gboolean sc_remote_code_is_file (const char *name);
/* config.json of the per-layer form: model_type, the counts per MoE layer,
 * auto_map and architectures naming the subclasses. */
void sc_remote_code_set_config (JsonObject *config, const int *counts, int n_moe);
/* Back to a plain NllbMoe config.json (the uniform form). */
void sc_remote_code_unset_config (JsonObject *config);

G_END_DECLS
