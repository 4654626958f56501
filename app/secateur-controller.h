/* secateur-controller.h: the application's model of the work, without any
 * widget. It owns the loaded model, the calibration statistics and the
 * selected directions, and runs the long jobs (load, calibrate, quality
 * sweep, compare, export, weight pruning) one at a time on a worker thread, each as an
 * _async/_finish pair with a GCancellable. Progress and statistics
 * snapshots reach the main loop at a bounded rate; the main thread only
 * ever sees copies of the statistics. */
#pragma once

#include "sc-calibrate.h"
#include "sc-corpus-spec.h"
#include "sc-evaluate.h"
#include "sc-export-job.h"
#include "sc-language-quality.h"
#include "sc-sampler.h"
#include "sc-sparsify-job.h"
#include "sc-sweep-job.h"
#include "sc-prune-plan.h"
#include "secateur-prune-settings.h"

#include <gio/gio.h>

G_BEGIN_DECLS

#define SECATEUR_TYPE_CONTROLLER (secateur_controller_get_type ())
G_DECLARE_FINAL_TYPE (SecateurController, secateur_controller, SECATEUR, CONTROLLER, GObject)

/* What the overview shows; filled from config.json, the tokenizer and the
 * safetensors headers (no weight is read). */
typedef struct {
  char    *dir;
  char    *name;
  char    *architecture;
  char    *dtype;
  char    *backend;
  int      threads;
  char    *backend_note;      /* why the CPU runs a model the preferences sent elsewhere */
  int      n_moe_layers, n_encoder_moe, n_experts;
  int      encoder_layers, decoder_layers, d_model;
  guint64  params_dense, params_experts;
  guint64  disk_bytes;
  guint64  weight_bytes;      /* all tensors as stored */
  guint64  bytes_per_expert;  /* one expert's tensors as stored */
  char   **languages;         /* the tokenizer's language codes */
} SecateurModelInfo;

typedef struct {
  ScCorpusSpec       corpus;     /* its calibration split; as the CLI's --corpus */
  ScSampleMode       sampling;   /* PROPORTIONAL, UNIFORM or PAIRS */
  int                size;       /* sentences */
  ScCalibrateMode    mode;
  int                batch_size; /* 0: 2 */
  /* TRUE: the run's counts (and its record) are added to the statistics
   * that exist, also when it is cancelled (the whole batches it finished).
   * FALSE: they replace them, with their quality curve, once the run
   * completes; a cancelled run then leaves the old ones as they were. */
  gboolean           add;
} SecateurCalibrateRequest;

/* One compared sentence. */
typedef struct {
  char  *source, *reference;   /* reference may be NULL (typed text) */
  char  *full, *pruned;
  double chrf_full, chrf_pruned; /* -1 without a reference */
} SecateurCompareRow;

typedef struct {
  char     *src, *tgt;
  GPtrArray *rows;              /* SecateurCompareRow */
  double    chrf_full, chrf_pruned, spbleu_full, spbleu_pruned; /* -1 without references */
  double    tokens_per_s_full, tokens_per_s_pruned;
  guint64   bytes_full, bytes_pruned;
  int       experts_kept, experts_total;
} SecateurCompareResult;

void secateur_compare_result_free (SecateurCompareResult *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SecateurCompareResult, secateur_compare_result_free)

SecateurController      *secateur_controller_new (void);

/* The pruning settings the pages edit and follow; owned by the controller.
 * The sweep, compare and export below read them when passed NULL. */
SecateurPruneSettings   *secateur_controller_get_prune_settings (SecateurController *self);

/* Model */
void                     secateur_controller_load_async  (SecateurController *self, const char *dir,
                                                          GCancellable *cancellable,
                                                          GAsyncReadyCallback callback,
                                                          gpointer user_data);
gboolean                 secateur_controller_load_finish (SecateurController *self,
                                                          GAsyncResult *result, GError **error);
const SecateurModelInfo *secateur_controller_get_info    (SecateurController *self);
/* Free bytes of the model pruned with `keep`. */
guint64                  secateur_controller_pruned_bytes (SecateurController *self,
                                                           const guint8 *keep);

/* Directions ("src-tgt"), the language picker's result. */
void                     secateur_controller_set_directions (SecateurController *self,
                                                             const char *const *directions);
const char *const       *secateur_controller_get_directions (SecateurController *self);

/* Jobs: one at a time; `busy` says whether one runs. */
gboolean                 secateur_controller_get_busy (SecateurController *self);
/* What the running job is, for people ("Calibration", "Quality
 * measurement", ...); NULL when none runs. */
const char              *secateur_controller_get_job_name (SecateurController *self);
/* Cancels the running job, if any. */
void                     secateur_controller_cancel   (SecateurController *self);

void     secateur_controller_calibrate_async  (SecateurController *self,
                                               const SecateurCalibrateRequest *request,
                                               GCancellable *cancellable,
                                               GAsyncReadyCallback callback, gpointer user_data);
gboolean secateur_controller_calibrate_finish (SecateurController *self, GAsyncResult *result,
                                               GError **error);
/* The latest statistics snapshot (NULL before calibration); replaced on
 * `stats-updated`, main thread only. */
ScStats *secateur_controller_get_stats        (SecateurController *self);
/* Whether the last calibration captured the router inputs that merging
 * pruned experts needs (it does when the pruning settings merge). */
gboolean  secateur_controller_has_capture     (SecateurController *self);

/* Quality vs ratio: chrF++ on the model's held-out set (sc-corpus-spec.h,
 * as the CLI's evaluate) with masked pruning at the kept sets the default
 * ratios and the settings' own give, per direction and averaged over them.
 * Each finished sweep is added to the runs and becomes the current one. */
void     secateur_controller_sweep_async      (SecateurController *self,
                                               const ScPruneSettings *settings,
                                               GCancellable *cancellable,
                                               GAsyncReadyCallback callback, gpointer user_data);
gboolean secateur_controller_sweep_finish     (SecateurController *self, GAsyncResult *result,
                                               GError **error);
/* The current run: n points (requested ratio, mean chrF++); FALSE when none. */
gboolean secateur_controller_get_sweep        (SecateurController *self, int *n,
                                               const double **ratios, const double **chrf);
/* The current run's per-direction scores: chrF++ of direction d at point i
 * is scores[d * n + i]; NULL when none. */
const double *secateur_controller_get_sweep_scores (SecateurController *self);

/* What the current run says of the settings the pages hold. */
typedef struct {
  ScSweepEstimate kind;        /* NOT_MEASURED: no value (outside the run, or a pair it lacks) */
  double          chrf;
  int             n_directions; /* pairs the value covers (their mean) */
  int             sentences;    /* held-out sentences per pair (the fewest) */
  int             num_beams, max_length;
  const char     *held_out;     /* the run's held-out set; valid while the run is */
} SecateurEstimate;

/* chrF++ for the kept set the current settings give `direction` (NULL: the
 * mean over the current run's pairs), keyed on the kept set
 * (sc_sweep_job_estimate): measured, interpolated between measured kept
 * counts, or not measured. FALSE when there is no run. */
gboolean secateur_controller_estimate         (SecateurController *self, const char *direction,
                                               SecateurEstimate *estimate);

/* Runs: every sweep of the session (ScSweepJobResult, owned by the
 * controller, oldest first; sc-sweep-record.h saves and reads one). Reading
 * only: add with add_run. */
GPtrArray *secateur_controller_get_runs       (SecateurController *self);
/* The run the estimate and the export's report use; -1 when none. */
int      secateur_controller_get_current_run  (SecateurController *self);
/* Makes run `index` the current one and applies its settings (metric,
 * algorithm, granularity, budget; the ratio stays) to the prune settings,
 * so that Export exports it. Emits `sweep-updated`. */
void     secateur_controller_select_run       (SecateurController *self, int index);
/* Adds a run (e.g. read back from a project), taking it; it becomes the
 * current one only when there was none. Emits `sweep-updated`. */
void     secateur_controller_add_run          (SecateurController *self, ScSweepJobResult *run);

/* Full vs pruned on `sources` (NULL: the first `limit` sentences of the
 * pair's held-out set, as the CLI's compare; references then come from the
 * corpus). Cancelled: G_IO_ERROR_CANCELLED. */
void     secateur_controller_compare_async    (SecateurController *self, const char *src,
                                               const char *tgt, const char *const *sources,
                                               int limit, const ScPruneSettings *settings,
                                               GCancellable *cancellable,
                                               GAsyncReadyCallback callback, gpointer user_data);
SecateurCompareResult *
         secateur_controller_compare_finish   (SecateurController *self, GAsyncResult *result,
                                               GError **error);

/* Export to `folder`: model/ (a pruned checkpoint for the union of
 * `directions`), experts.json, statistics.json and report/ (heatmap and
 * quality curve as PNG and SVG, scores.csv). Existing files are replaced
 * only when `overwrite`, and model/ only when it is an earlier export;
 * nothing is written in, over or around the open model's folder
 * (sc-destination.h). */
/* dtype: "F32", "F16" or "BF16" to convert the weights to, NULL: as stored. */
void     secateur_controller_export_async     (SecateurController *self, const char *folder,
                                               const char *const *directions,
                                               const ScPruneSettings *settings,
                                               gboolean overwrite, const char *dtype,
                                               GCancellable *cancellable,
                                               GAsyncReadyCallback callback, gpointer user_data);
gboolean secateur_controller_export_finish    (SecateurController *self, GAsyncResult *result,
                                               GError **error);
/* FALSE, with the engine's reason, when an export to `folder` would be
 * refused (the check export_async makes first). */
gboolean secateur_controller_check_export     (SecateurController *self, const char *folder,
                                               gboolean overwrite, GError **error);
/* What an export of `directions` with the pages' pruning settings and
 * `dtype` (NULL: as stored) would write (sc_export_job_plan), computed from
 * the same options export_async passes; NULL with the reason when nothing
 * can be exported yet. */
ScExportJobPlan *secateur_controller_export_plan (SecateurController *self,
                                                  const char *const *directions,
                                                  const char *dtype, GError **error);

/* ---- weight pruning (the Weights page) ---- */

typedef struct {
  ScSparsityMethod   method;
  ScSparsityPattern  pattern;
  ScCalibMode        sampling;       /* MBS (training shares), UNIFORM or LANGUAGE */
  const char        *language;       /* LANGUAGE: e.g. "eng_Latn" for English-only */
  int                samples;        /* calibration segments */
  int                seqlen;         /* tokens per segment */
  /* Languages whose quality is measured, eng_Latn -> X on held-out UDHR;
   * NULL: those of the directions chosen on the Model page that have UDHR
   * text, else (none chosen) every language of the model with UDHR text;
   * English aside (it is the source of every measured direction). */
  const char *const *eval_languages;
  int                eval_sentences; /* per language; 0: 4 */
  double             threshold;      /* relative chrF++ loss flagged; 0: 0.1 */
} SecateurSparsifyRequest;

/* What the weight pruning did and measured (sc-sparsify-job.h). */
typedef ScSparsifyJobResult SecateurSparsifyResult;

/* The languages the request would measure (its own, or the default
 * above); NULL when the bundled UDHR corpus is missing. */
GStrv    secateur_controller_sparsify_languages (SecateurController *self,
                                                 const SecateurSparsifyRequest *request);
/* Seconds the request would take on the open model, from a cost model
 * (the weights the calibration passes and the tokens decoded for the
 * measurements, at a rate measured on the 2-core reference machine); -1
 * without a model. */
double   secateur_controller_sparsify_estimate (SecateurController *self,
                                                const SecateurSparsifyRequest *request);
/* Calibration samples sized so that the default run takes about a minute
 * on the open model (between 8 and 128; 128 without a model). */
int      secateur_controller_sparsify_default_samples (SecateurController *self);

/* The calibration set the request would draw (per-language counts: see
 * sc_calib_set_languages), built on the calling thread without pruning;
 * cheap for the sizes the page offers. */
ScCalibSet *secateur_controller_calibration_preview (SecateurController *self,
                                                     const SecateurSparsifyRequest *request,
                                                     GError **error);
/* Prunes the open model's weights in a view of it (the sparsify job,
 * sc-sparsify-job.h: the model as loaded stays whole for the comparison,
 * its weights mapped once) and measures each language before and after.
 * Progress: the blocks pruned, then the languages measured. On error or
 * cancellation the pruned weights are dropped; the open model and an
 * earlier result are untouched. */
void     secateur_controller_sparsify_async   (SecateurController *self,
                                               const SecateurSparsifyRequest *request,
                                               GCancellable *cancellable,
                                               GAsyncReadyCallback callback, gpointer user_data);
gboolean secateur_controller_sparsify_finish  (SecateurController *self, GAsyncResult *result,
                                               GError **error);
/* The last completed weight pruning, or NULL. */
const SecateurSparsifyResult *
         secateur_controller_get_sparsify_result (SecateurController *self);
/* Writes the pruned weights as a checkpoint (zeros in place, the record of
 * what was done in config.json) to `folder`, replaced only when `overwrite`. */
void     secateur_controller_export_weights_async  (SecateurController *self, const char *folder,
                                                    gboolean overwrite, GCancellable *cancellable,
                                                    GAsyncReadyCallback callback,
                                                    gpointer user_data);
gboolean secateur_controller_export_weights_finish (SecateurController *self,
                                                    GAsyncResult *result, GError **error);

/* CPU threads for models opened from now on (0: one per core). */
void     secateur_controller_set_threads      (SecateurController *self, int threads);
/* Where models opened from now on run: "auto", "cpu", "cuda" or "cuda:N"
 * (NULL: the CPU). A device that cannot be used falls back to the CPU and
 * says why in the model info's backend_note. */
void     secateur_controller_set_device       (SecateurController *self, const char *device);

/* Projects (sc-project.h): with a project root, opening a model opens or
 * creates its project there (MODELNAME-FINGERPRINTPREFIX.secateur) and
 * restores its work: statistics with their runs, quality sweeps, prune
 * settings and directions; opening a project folder (one with
 * project.json) opens its model, whatever the root. The project is saved
 * after every job and settings change. NULL root (the default): only
 * project folders opened as such. */
void        secateur_controller_set_project_root (SecateurController *self, const char *root);
/* $XDG_DATA_HOME/secateur/projects */
char       *secateur_controller_default_project_root (void);
/* The open project's folder, or NULL. */
const char *secateur_controller_get_project_dir  (SecateurController *self);
/* Why the open model's project could not be opened (its work is then
 * neither restored nor saved), or NULL. */
const char *secateur_controller_get_project_note (SecateurController *self);

/* Held-out sentences per direction for the sweep (default 8) and longest
 * output in tokens (default 48) for sweep and compare. */
void     secateur_controller_set_eval_limits  (SecateurController *self, int sentences,
                                               int max_length);

G_END_DECLS
