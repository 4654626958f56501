/* sc-export-record.h: what an exported folder says about itself, read
 * back: the kept experts and served directions through the model's own
 * config parser (sc-config.h, as `secateur-cli info` reads them), the
 * selection record sc-export.h stores in config.json (settings, dtype,
 * counts) and the sizes of the files written. The export page shows it
 * after an export, so what is shown is what is on disk. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct {
  char       *dir;            /* the model folder read */
  char      **served;         /* directions; NULL when not recorded */
  int         n_moe_layers;
  int         num_experts;    /* per MoE layer in the full model */
  GPtrArray  *kept_experts;   /* per MoE layer, GArray of int original ids */
  int         kept, total;    /* kept experts, of all */
  char       *dtype;          /* of the weights as written ("F16"...); NULL: not recorded */
  JsonObject *settings;       /* the selection's "settings" (ratio, metric, algorithm,
                               * granularity, enc_dec); NULL: not recorded */
  guint64     bytes;          /* every file of the folder */
  guint64     weight_bytes;   /* its safetensors files */
} ScExportRecord;

/* The record of the export in `model_dir` (an exported model folder, or a
 * bundle whose model/ holds it). Fails when the folder is no expert-pruned
 * export. */
ScExportRecord *sc_export_record_load (const char *dir, GError **error);
void            sc_export_record_free (ScExportRecord *record);
/* "ratio 0.5, importance, per-layer, pair, 3:1" from the settings; NULL when
 * not recorded. */
char           *sc_export_record_settings_text (const ScExportRecord *record);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScExportRecord, sc_export_record_free)

G_END_DECLS
