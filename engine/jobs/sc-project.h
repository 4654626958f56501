/* sc-project.h: a pruning project, the folder that keeps everything a
 * user computed on one model, read and written alike by the application
 * and by `secateur-cli ... --project DIR`.
 *
 *   NAME.secateur/
 *     project.json     {"format": "secateur-project", "version": 1,
 *                       "created", "modified" (ISO 8601, UTC),
 *                       "model": {"path", "name", "fingerprint"},
 *                       "selections": [{"name", "file", "created", "settings"}],
 *                       "evaluations": [{"name", "file", "created", "directions"}],
 *                       "sweeps": [{"name", "file", "created"}],
 *                       "exports": [{"folder", "created", "directions", "settings"}],
 *                       "prune": {"ratio", "metric", "algorithm", "granularity",
 *                                 "encoder_weight", "decoder_weight", "directions"}}
 *     statistics.json  the statistics (sc-stats.h) with their run records
 *     selections/NAME.json   expert indexes (sc-expert-index.h)
 *     evaluations/NAME.json  `evaluate -o` reports
 *     sweeps/NAME.json       quality sweeps (sc-sweep-record.h)
 *
 * The model's fingerprint (sc-model-fingerprint.h) ties the project to its model:
 * opening a project whose model changed or is gone fails, naming both.
 *
 * Every change takes the project's file lock (sc-file-lock.h on
 * project.json), reads project.json again, changes it and writes it through
 * a temporary file, fsync and rename, so two writers (the application and a
 * CLI run) both count and a crash leaves the old file. Reading checks every
 * member (types, ranges, names that cannot leave the folder) and fails with
 * SC_PROJECT_ERROR_INVALID saying where; nothing written holds NaN. */
#pragma once

#include "sc-model-fingerprint.h"

#include "sc-expert-index.h"
#include "sc-file-lock.h"
#include "sc-prune-plan.h"
#include "sc-stats.h"
#include "sc-sweep-job.h"

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define SC_PROJECT_FORMAT "secateur-project"
#define SC_PROJECT_VERSION 1
#define SC_PROJECT_SUFFIX ".secateur"
#define SC_PROJECT_FILE "project.json"
#define SC_PROJECT_STATS "statistics.json"

#define SC_PROJECT_ERROR (sc_project_error_quark ())
typedef enum
{
  SC_PROJECT_ERROR_INVALID,       /* project.json (or a file it lists) is malformed */
  SC_PROJECT_ERROR_VERSION,       /* written by a newer Secateur */
  SC_PROJECT_ERROR_NOT_A_PROJECT, /* no project.json, and no model to create one for */
  SC_PROJECT_ERROR_MODEL_MISSING, /* the project's model folder is gone */
  SC_PROJECT_ERROR_MODEL_CHANGED, /* the model's fingerprint differs */
  SC_PROJECT_ERROR_NOT_FOUND,     /* no statistics, selection ... recorded */
} ScProjectError;
GQuark sc_project_error_quark (void);

typedef struct _ScProject ScProject;


/* Whether `dir` holds a project.json. */
gboolean sc_project_is_project (const char *dir);

/* Where the application keeps a model's project by default:
 * $XDG_DATA_HOME/secateur/projects/MODELNAME-FINGERPRINTPREFIX.secateur. */
char *sc_project_default_dir (const char *model_dir, const char *fingerprint);

/* Opens the project in `dir`. With `model_dir` (nullable): creates the
 * project when `dir` has none (recording the model), else demands that
 * model's fingerprint equal the recorded one (a copy of the model in
 * another folder is the same model, and becomes the project's path).
 * Without: the recorded model folder must exist and match. */
ScProject *sc_project_open (const char *dir, const char *model_dir, GError **error);
void sc_project_free (ScProject *project);

const char *sc_project_get_dir (ScProject *project);
const char *sc_project_get_model_dir (ScProject *project);
const char *sc_project_get_fingerprint (ScProject *project);
/* Re-reads project.json (another writer may have changed it). */
gboolean sc_project_reload (ScProject *project, GError **error);
/* A copy of project.json as last read or written (json_node_unref). */
JsonNode *sc_project_get_document (ScProject *project);

/* Statistics: statistics.json (path: free it). has is FALSE before the
 * first calibration; load then fails with SC_PROJECT_ERROR_NOT_FOUND. */
char *sc_project_stats_path (ScProject *project);
gboolean sc_project_has_stats (ScProject *project);
ScStats *sc_project_load_stats (ScProject *project, const ScStatsShape *expect, GError **error);
/* Adds `stats` (and its run records) to the project's, as `calibrate
 * --append` does, under the statistics file's lock; returns the sum. */
ScStats *sc_project_add_stats (ScProject *project, ScStats *stats, ScFileLockWaitFunc waiting,
                               gpointer user_data, GError **error);
/* Replaces the project's statistics with `stats`. */
gboolean sc_project_save_stats (ScProject *project, ScStats *stats, GError **error);

/* Selections: an expert index stored as selections/selection-N.json and
 * listed with its settings (the index's reserved record's "selection").
 * `name` (nullable) gets the new entry's name. */
gboolean sc_project_add_selection (ScProject *project, const ScExpertIndex *idx, char **name,
                                   GError **error);
/* The named selection (NULL: the newest); SC_PROJECT_ERROR_NOT_FOUND when
 * there is none. The path: g_free. */
char          *sc_project_selection_path (ScProject *project, const char *name, GError **error);
ScExpertIndex *sc_project_load_selection (ScProject *project, const char *name, int n_moe_layers,
                                          int n_encoder_moe, int n_experts, GError **error);

/* An `evaluate -o` report, stored as evaluations/evaluation-N.json. */
gboolean sc_project_add_evaluation (ScProject *project, JsonNode *report, char **name,
                                    GError **error);

/* An export: its folder (made absolute), the directions it serves and its
 * settings (nullable; copied). */
gboolean sc_project_add_export (ScProject *project, const char *folder,
                                const char *const *directions, JsonObject *settings,
                                GError **error);
/* The recorded exports, oldest first (a deep copy; json_array_unref). */
JsonArray *sc_project_get_exports (ScProject *project);

/* Quality sweeps, one record each (sc-sweep-record.h), oldest first. */
gboolean sc_project_add_sweep (ScProject *project, const ScSweepJobResult *sweep, char **name,
                               GError **error);
/* Every sweep recorded (ScSweepJobResult, freed by the array); a listed
 * file that fails to read fails the whole. */
GPtrArray *sc_project_load_sweeps (ScProject *project, GError **error);

/* The application's prune settings and chosen directions (NULL-terminated;
 * nullable). get is FALSE when none were stored; *directions: g_strfreev. */
gboolean sc_project_set_prune (ScProject *project, const ScPruneSettings *settings,
                               const char *const *directions, GError **error);
gboolean sc_project_get_prune (ScProject *project, ScPruneSettings *settings, char ***directions);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScProject, sc_project_free)

G_END_DECLS
