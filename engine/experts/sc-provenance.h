/* sc-provenance.h: where expert statistics came from, as records that
 * travel with them — in the statistics file (sc_stats_add_provenance), into
 * the expert index chosen from them and into an export's config.json and
 * model card — so a pruned model says how its experts were chosen.
 *
 * A record is a JSON object:
 *   {"corpus": "udhr", "split": "calibration", "sampling": "proportional",
 *    "directions": ["eng_Latn-fra_Latn", ...], "sentences": 256,
 *    "tokens": 9120, "mode": "teacher", "beam": 1, "seed": 1,
 *    "model": "nllb-moe-54b", "model_fingerprint": "sha256:0123abcd...",
 *    "secateur_version": "0.9.0", "date": "2026-12-03T17:00:00Z"}
 * Members that do not apply are left out. */
#pragma once

#include "sc-model.h"
#include "sc-stats.h"

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct {
  const char        *corpus;     /* corpus spec ("udhr", "flores:DIR", "files") */
  const char        *split;      /* corpus split, or NULL */
  const char        *sampling;   /* "proportional" (MBS), "uniform", "pairs", "files" */
  const char *const *directions; /* NULL-terminated "src-tgt", or NULL */
  guint64            sentences;
  guint64            tokens;
  gboolean           decode;     /* decoded (else teacher-forced) */
  int                beam;
  int                seed;       /* recorded when has_seed */
  gboolean           has_seed;
  const char        *model_name; /* the model folder's name */
} ScCalibrationRun;

/* A record of one calibration run of `model` (nullable: no fingerprint),
 * stamped with Secateur's version and the UTC date. */
JsonObject *sc_provenance_calibration (ScModel *model, const ScCalibrationRun *run);

/* A cheap identity of a checkpoint: SHA-256 over config.json's bytes and
 * every tensor's name, dtype and shape (no weights read), as
 * "sha256:" + 16 hex digits. NULL when config.json cannot be read. */
char       *sc_provenance_fingerprint (ScModel *model);

/* Source plus target tokens the statistics counted (each token once, not
 * once per MoE layer it passed). */
guint64     sc_provenance_tokens (ScStats *stats);

/* One line describing a record for people ("udhr calibration split,
 * proportional sampling, 3 directions, 256 sentences, 9120 tokens, ..."). */
char       *sc_provenance_describe (JsonObject *record);

/* Copies an expert index's reserved record (sc-expert-index.h: "selection"
 * settings and "statistics" provenance; nullable) into an export's
 * selection record as "settings" and "statistics". */
void        sc_provenance_copy_index_meta (JsonObject *index_meta, JsonObject *selection);

/* The pruned model's scores from an `evaluate -o` report
 * ({"directions": [{"direction", "sentences", "full": {"chrf++", "spbleu",
 * ...}, "pruned": {...}}]}) for `directions` (NULL: every direction of the
 * report): {"src-tgt": {"sentences": n, "full": {"chrf++": x, "spbleu": y},
 * "pruned": {...}}}; the report's other directions are left out. Fails
 * (SC_ERROR_FORMAT) when the report is malformed, has no pruned scores
 * (evaluated without --experts) or none of `directions`. */
JsonObject *sc_provenance_scores_from_report (JsonNode *report, const char *const *directions,
                                              GError **error);

G_END_DECLS
