/* sc-sweep-record.h: a quality sweep (sc-sweep-job.h) as one JSON object
 * and back, so that a project can keep every run: its settings, the kept
 * sets it measured, its sentences, decoding and held-out set.
 *
 *   { "format": "secateur-sweep", "version": 1, "created": 1764800000,
 *     "settings": { "metric": "importance", "algorithm": "per-layer",
 *                   "granularity": "lang", "encoder_weight": 3, "decoder_weight": 1 },
 *     "calibration": "…",            (absent when the run has none)
 *     "held_out": "heldout.tsv", "decoding": { "beams": 1, "max_length": 48 },
 *     "experts_total": 64, "ratios": [0.0, 0.25, …], "chrf": [mean per point],
 *     "directions": [ { "direction": "eng_Latn-fra_Latn", "sentences": 8,
 *                       "chrf": [...], "kept": [...], "kept_sets": ["…", …] } ] }
 *
 * Reading checks everything (types, ranges, lengths, ascending ratios,
 * distinct directions, finite scores in [0, 100]) and fails with
 * SC_ERROR_FORMAT saying where; the mean "chrf" is recomputed from the
 * directions' scores, not trusted. Writing never gives a NaN or infinity:
 * SC_ERROR_NOT_FINITE instead. */
#pragma once

#include "sc-sweep-job.h"

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define SC_SWEEP_RECORD_FORMAT  "secateur-sweep"
#define SC_SWEEP_RECORD_VERSION 1

/* Bounds a record must stay within. */
#define SC_SWEEP_RECORD_MAX_POINTS     1024
#define SC_SWEEP_RECORD_MAX_DIRECTIONS 65536
#define SC_SWEEP_RECORD_MAX_SCORES     (1 << 20) /* directions x points */

JsonNode         *sc_sweep_record_to_node   (const ScSweepJobResult *result, GError **error);
ScSweepJobResult *sc_sweep_record_from_node (JsonNode *node, GError **error);

/* The object as JSON text (pretty), and back (sc_json_parse's guards). */
char             *sc_sweep_record_to_data   (const ScSweepJobResult *result, gsize *length,
                                             GError **error);
ScSweepJobResult *sc_sweep_record_parse     (const char *data, gssize length, GError **error);

/* A file holding one record, replaced whole (sc_json_save); read with
 * sc_json_file_load's limits. */
gboolean          sc_sweep_record_save      (const ScSweepJobResult *result, const char *path,
                                             GError **error);
ScSweepJobResult *sc_sweep_record_load      (const char *path, GError **error);

/* The names the record uses for settings ("per-layer", "lang", …). */
const char       *sc_sweep_record_algo_name        (ScSelectAlgo algo);
const char       *sc_sweep_record_granularity_name (ScGranularity granularity);

G_END_DECLS
