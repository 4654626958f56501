/* sc-calibrate-job.h: the calibration workflow, once, for the application
 * and the CLI: a corpus spec and directions -> Multilingual Brain Surgeon
 * sampling (sc-sampler.h) -> calibration items -> gate statistics
 * (sc-calibrate.h) -> the run's record (sc-provenance.h) in them.
 *
 * Progress goes through one ScProgressCallback (stage "calibrate", unit
 * "sentences"); a cancellation stops between batches and fails with
 * G_IO_ERROR_CANCELLED, leaving the counts gathered so far in the
 * statistics with a record marked "interrupted" (statistics are additive,
 * so a partial run is still worth keeping). */
#pragma once

#include "sc-calibrate.h"
#include "sc-corpus-spec.h"
#include "sc-progress.h"
#include "sc-sampler.h"

#include <gio/gio.h>

G_BEGIN_DECLS

/* Work split over several processes (MPI, app/sc-distributed.c): every
 * process samples the same items, calibrates its share, then the counts
 * are gathered. NULL in the options: one process does it all. */
typedef struct {
  /* This process's share [*first, *last) of the n items. */
  void     (*shard)  (ScModel *model, const ScCalibrationItem *items, guint n, int *first,
                      int *last, gpointer data);
  /* Adds the other processes' counts to `stats`; *interrupted comes in as
   * this process's and leaves TRUE when any process was interrupted. */
  gboolean (*gather) (ScStats *stats, gboolean *interrupted, gpointer data, GError **error);
  gpointer data;
} ScCalibrateRanks;

typedef struct {
  /* The sentences: sampled from `corpus` over `directions`, or the given
   * `items` (e.g. read from files, one direction) when n_items > 0. */
  const char *const       *directions;  /* "src-tgt" */
  ScCorpusSpec             corpus;      /* its calibration split; default: the UDHR's */
  ScSampleMode             sampling;    /* PROPORTIONAL (default), UNIFORM or PAIRS */
  const ScShareTable      *shares;      /* PROPORTIONAL; NULL: the model's (sc-model-folder.h) */
  int                      size;        /* sentences, at least one per direction (default 256) */
  guint32                  seed;        /* default 1 */
  const ScCalibrationItem *items;
  int                      n_items;
  const char              *items_name;  /* the record's corpus for `items` (e.g. a file name) */
  /* How they run. */
  ScCalibrateMode          mode;        /* teacher-forced (default) or decode */
  int                      batch_size;  /* sentences per forward pass (default 16) */
  int                      beam;        /* decode (default 1) */
  int                      max_length;  /* decode; 0: the model's */
  ScCapture               *capture;     /* NULL, or where router inputs are sampled */
  const ScCalibrateRanks  *ranks;       /* NULL: one process */
  /* Told, before the first forward pass, what was drawn per language and
   * direction (sc_sample_describe); NULL: not told. */
  void                   (*sampled) (const char *summary, gpointer data);
  gpointer                 sampled_data;
} ScCalibrateJobOptions;

/* The defaults above, shared by the application and `secateur-cli calibrate`. */
void     sc_calibrate_job_options_init (ScCalibrateJobOptions *opts);

typedef struct {
  guint    n_sentences;     /* calibrated, over all processes */
  gboolean interrupted;     /* cancelled: the statistics hold a partial run */
} ScCalibrateJobResult;

/* Adds the counts of the sentences `opts` picks, and the run's record, to
 * `stats` (sc_stats_new (sc_model_get_moe_shape (model)), or statistics of
 * the same shape). `stats` may be read (sc_stats_snapshot) from the
 * progress callback, which runs on the calling thread. `result` may be NULL. */
gboolean sc_calibrate_job_run (ScModel *model, const ScCalibrateJobOptions *opts, ScStats *stats,
                               ScCalibrateJobResult *result, ScProgressCallback progress,
                               gpointer progress_data, GCancellable *cancellable, GError **error);

G_END_DECLS
