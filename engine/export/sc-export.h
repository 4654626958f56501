/* sc-export.h: write a pruned checkpoint.
 *
 * The result has the input's layout (Hugging Face directory, safetensors,
 * sharded with model.safetensors.index.json when larger than one shard):
 * kept experts' tensors byte-identical, each router's classifier rows
 * sliced to the kept experts in ascending id order, config.json extended
 * with the original ids of the kept experts per MoE layer, tokenizer and
 * generation files copied. Each MoE layer's kept experts are renamed
 * expert_0..k-1 in ascending original id (router row i is expert_i, as
 * transformers pairs them), the original count recorded as
 * SC_CONFIG_ORIGINAL_EXPERTS_KEY. When every MoE layer keeps the same
 * number k it is a plain NllbMoe checkpoint that stock transformers loads
 * (num_experts = k); otherwise it is the per-layer form, with configuration
 * and modelling files that transformers loads with trust_remote_code
 * (sc-remote-code.h). Secateur loads either back (and the earlier form,
 * experts under their original names) as a smaller model that computes
 * what masked evaluation computes, in original expert ids. An expert-pruned
 * export gets its own model card (sc-model-card.h) as README.md instead of
 * the full model's README.md and eval.json.
 *
 * The directory is written under a temporary name beside the target and
 * renamed into place at the end: a failure (full disk, cancellation) never
 * leaves a half-written model under the final name. The target follows
 * sc-destination.h's rules: never the model folder read, inside it or
 * containing it; replaced (with force) only when it is an earlier export,
 * which config.json's SC_DESTINATION_KEY record marks.
 */
#pragma once

#include "sc-destination.h"
#include "sc-model.h"
#include "sc-view.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct {
  guint64  shard_bytes;   /* largest shard; 0 = a single model.safetensors */
  gboolean force;         /* replace an existing output directory (an earlier export) */
  ScDestinationNoteFunc note; /* leftovers of earlier runs recovered; NULL: g_message */
  gpointer note_data;
  gboolean allow_non_finite; /* write tensors holding NaN or infinity (with a message naming
                              * them) instead of failing on the first */
  /* Store every f32/f16/bf16 tensor as `dtype` (converted tensor by tensor
   * while written; a value beyond f16's range fails naming the tensor);
   * FALSE: each as stored. */
  gboolean convert;
  ScDType  dtype;
  /* How the experts were chosen (index file, "serves": directions, ...);
   * sc_export_pruned adds the kept counts, dtype and Secateur's version and
   * stores it in config.json under SC_EXPORT_SELECTION_KEY and in the model
   * card. May be NULL. */
  JsonObject *selection;
  /* sc_export_pruned: the weights this view's overlay replaced (merged
   * experts, sc-merge.h) go out in place of the checkpoint's; NULL: none. */
  ScView *overlay;
} ScExportOptions;

#define SC_EXPORT_SELECTION_KEY "secateur_selection"

/* What an export would write, without reading any weight. */
typedef struct {
  guint   n_tensors;
  guint   n_dropped;      /* expert tensors left out */
  guint64 bytes;          /* tensor bytes written */
  guint64 dropped_bytes;
  int     uniform_experts; /* k when every MoE layer keeps k (plain NllbMoe form), else 0 */
  guint64 float_elements;  /* of the f32/f16/bf16 tensors written */
  guint64 float_bytes;     /* their bytes as stored */
} ScExportPlan;

/* The plan's bytes with every f32/f16/bf16 tensor stored as `dtype`. */
guint64  sc_export_plan_bytes_as (const ScExportPlan *plan, ScDType dtype);

/* keep: [n_moe_layers * num_experts] as for sc_model_check_expert_keep
 * (sc_expert_set_get_keep gives it for a set). The model's own tensors
 * are written; the checkpoint's other files come from the model's folder. */
gboolean sc_export_plan   (ScModel *model, const guint8 *keep, ScExportPlan *plan,
                           GError **error);
gboolean sc_export_pruned (ScModel *model, const guint8 *keep, const char *out_dir,
                           const ScExportOptions *opts, GCancellable *cancellable,
                           GError **error);

/* One file an export writes, relative to its folder, and its size. */
typedef struct {
  char   *name;
  guint64 bytes;
} ScExportFile;

void       sc_export_file_free    (ScExportFile *file);

/* Every file sc_export_pruned (model, keep, DIR, opts) writes into DIR, in
 * the order written, with its exact size: the export's own layout (shards,
 * headers, index, config.json with its records, model card, copied files),
 * measured instead of written; no weight is read. GPtrArray of
 * ScExportFile. */
GPtrArray *sc_export_pruned_files (ScModel *model, const guint8 *keep,
                                   const ScExportOptions *opts, GError **error);

/* The config.json key of the weight-pruning record. */
#define SC_EXPORT_SPARSITY_KEY "secateur_sparsity"

/* The whole model as `view` runs it: every tensor under its name and in its
 * stored dtype, weights the view replaced (sc_view_replace_linear_weight)
 * narrowed back to that dtype with their zeros in place (refused when a
 * value does not fit); `record` (may be NULL) is stored in config.json under
 * SC_EXPORT_SPARSITY_KEY. Same atomic writing as sc_export_pruned. */
gboolean sc_export_model  (ScView *view, JsonObject *record, const char *out_dir,
                           const ScExportOptions *opts, GCancellable *cancellable,
                           GError **error);

/* The replacement of checkpoint tensor `name`, or NULL to keep it. */
typedef const ScTensor *(*ScReplacedFunc) (gpointer data, const char *name);

/* Any architecture's checkpoint (BLOOM's, say) with the tensors that
 * `replaced` returns put in place of the checkpoint's, as sc_export_model
 * does for NLLB. */
gboolean sc_export_checkpoint (ScCheckpoint *ckpt, ScReplacedFunc replaced, gpointer replaced_data,
                               JsonObject *record, const char *out_dir,
                               const ScExportOptions *opts, GCancellable *cancellable,
                               GError **error);

G_END_DECLS
