/* secateur-controller.h: the application's model of the work, without any
 * widget. It owns the loaded model, the calibration statistics and the
 * selected directions, and runs the long jobs (load, calibrate, quality
 * sweep, compare, export) one at a time on a worker thread, each as an
 * _async/_finish pair with a GCancellable. Progress and statistics
 * snapshots reach the main loop at a bounded rate; the main thread only
 * ever sees copies of the statistics. */
#pragma once

#include "sc-calibrate.h"
#include "sc-evaluate.h"
#include "sc-sampler.h"
#include "secateur-prune-plan.h"

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

typedef enum {
  SECATEUR_CORPUS_UDHR,    /* bundled UDHR, calibration articles */
  SECATEUR_CORPUS_FLORES,  /* a FLORES-200 folder, dev split */
  SECATEUR_CORPUS_TSV,     /* own text: a source<TAB>target file, for every direction */
} SecateurCorpusKind;

typedef struct {
  SecateurCorpusKind kind;
  const char        *path;       /* FLORES folder or TSV file */
  ScSampleMode       sampling;   /* PROPORTIONAL, UNIFORM or PAIRS */
  int                size;       /* sentences */
  ScCalibrateMode    mode;
  int                batch_size; /* 0: 2 */
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
/* Cancels the running job, if any. */
void                     secateur_controller_cancel   (SecateurController *self);
/* Blocks (iterating the main context) until no job runs; for shutdown. */
void                     secateur_controller_wait     (SecateurController *self);

void     secateur_controller_calibrate_async  (SecateurController *self,
                                               const SecateurCalibrateRequest *request,
                                               GCancellable *cancellable,
                                               GAsyncReadyCallback callback, gpointer user_data);
gboolean secateur_controller_calibrate_finish (SecateurController *self, GAsyncResult *result,
                                               GError **error);
/* The latest statistics snapshot (NULL before calibration); replaced on
 * `stats-updated`, main thread only. */
ScStats *secateur_controller_get_stats        (SecateurController *self);
/* Replaces the statistics (e.g. loaded from a file). Takes ownership. */
void     secateur_controller_set_stats        (SecateurController *self, ScStats *stats);

/* Quality vs ratio: chrF++ on held-out UDHR sentences with masked pruning
 * at each ratio, averaged over the directions. */
void     secateur_controller_sweep_async      (SecateurController *self,
                                               const SecateurPruneSettings *settings,
                                               GCancellable *cancellable,
                                               GAsyncReadyCallback callback, gpointer user_data);
gboolean secateur_controller_sweep_finish     (SecateurController *self, GAsyncResult *result,
                                               GError **error);
/* The last sweep: n points (ratio, mean chrF++); FALSE when none. */
gboolean secateur_controller_get_sweep        (SecateurController *self, int *n,
                                               const double **ratios, const double **chrf);
/* chrF++ at `ratio` interpolated linearly on the sweep; FALSE when none. */
gboolean secateur_controller_estimate_chrf    (SecateurController *self, double ratio,
                                               double *chrf);
/* Per-direction sweep scores: chrF++ of direction d at point i is
 * scores[d * n + i]; NULL when none. */
const double *secateur_controller_get_sweep_scores (SecateurController *self);

/* Full vs pruned on `sources` (NULL: the pair's held-out UDHR sentences,
 * `limit` of them; references then come from the corpus). */
void     secateur_controller_compare_async    (SecateurController *self, const char *src,
                                               const char *tgt, const char *const *sources,
                                               int limit, const SecateurPruneSettings *settings,
                                               GCancellable *cancellable,
                                               GAsyncReadyCallback callback, gpointer user_data);
SecateurCompareResult *
         secateur_controller_compare_finish   (SecateurController *self, GAsyncResult *result,
                                               GError **error);

/* Export to `folder`: model/ (a pruned checkpoint for the union of
 * `directions`), experts.json, statistics.json and report/ (heatmap and
 * quality curve as PNG and SVG, scores.csv). Existing files are replaced
 * only when `overwrite`. */
void     secateur_controller_export_async     (SecateurController *self, const char *folder,
                                               const char *const *directions,
                                               const SecateurPruneSettings *settings,
                                               gboolean overwrite, GCancellable *cancellable,
                                               GAsyncReadyCallback callback, gpointer user_data);
gboolean secateur_controller_export_finish    (SecateurController *self, GAsyncResult *result,
                                               GError **error);

/* CPU threads for models opened from now on (0: one per core). */
void     secateur_controller_set_threads      (SecateurController *self, int threads);
/* Where models opened from now on run: "auto", "cpu", "cuda" or "cuda:N"
 * (NULL: the CPU). A device that cannot be used falls back to the CPU and
 * says why in the model info's backend_note. */
void     secateur_controller_set_device       (SecateurController *self, const char *device);

/* Held-out sentences per direction for the sweep (default 8) and longest
 * output in tokens (default 48) for sweep and compare. */
void     secateur_controller_set_eval_limits  (SecateurController *self, int sentences,
                                               int max_length);

G_END_DECLS
