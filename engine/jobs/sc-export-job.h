/* sc-export-job.h: the export bundle, once, for the application's Export
 * page and `secateur-cli export --bundle`. A folder holding
 *   model/           the pruned checkpoint serving every direction asked
 *                    for (per side, the union of their kept experts;
 *                    sc-export.h),
 *   experts.json     each direction's kept experts (the authors' index
 *                    format) with the settings and the statistics' records,
 *   statistics.json  the statistics the experts were chosen from,
 *   statistics.capture  with merging, the router inputs it ran on,
 *   report/          heatmap, quality curve and scores.csv (sc-report.h;
 *                    only in builds with Cairo).
 * The experts come from the statistics with the pruning settings
 * (sc-prune-plan.h). Nothing is written in, over or around the model's
 * folder; existing files are replaced only with `overwrite`, and model/
 * only when it is an earlier export (sc-destination.h). Progress: stage
 * "export", unit "steps" (index and statistics, report, checkpoint);
 * cancelled: G_IO_ERROR_CANCELLED, and model/ is never left half-written. */
#pragma once

#include "sc-capture.h"
#include "sc-destination.h"
#include "sc-model.h"
#include "sc-progress.h"
#include "sc-prune-plan.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct {
  const char            *folder;
  const char *const     *directions;      /* "src-tgt", at least one */
  ScPruneSettings        settings;
  /* with settings.merge: the router inputs the pruned experts merge on
   * (the served directions' tokens, as export --merge takes them) */
  const ScCapture       *capture;
  gboolean               overwrite;
  gboolean               convert;         /* store the weights as `dtype` (F32, F16, BF16) */
  ScDType                dtype;
  guint64                shard_bytes;     /* 0: one model.safetensors */
  gboolean               allow_non_finite;
  ScDestinationNoteFunc  note;            /* leftovers of an earlier run; NULL: g_message */
  gpointer               note_data;
  /* Measured quality of `directions` under these settings (nullable;
   * sc_provenance_scores_from_report's form), recorded in config.json and
   * the model card as measured by `scores_report` ("Compare", a file). */
  JsonObject            *scores;
  const char            *scores_report;
  /* The quality sweep the report draws (n_points 0: none): mean chrF++ per
   * ratio and, per sweep direction d, scores[d * n_points + i]. */
  int                    n_points;
  const double          *ratios;
  const double          *chrf;
  const char *const     *sweep_directions;
  const double          *sweep_scores;
  /* What the sweep read (sc-sweep-job.h's held_out, sentences), named in
   * the quality plot's title; NULL / 0: unknown. */
  const char            *held_out;
  int                    held_out_sentences;
} ScExportJobOptions;

/* What sc_export_job_run writes with the same model, statistics and
 * options, computed by the same code and measured instead of written. */
typedef struct {
  char      **directions;     /* served */
  int         kept, total;    /* experts kept (the union over the directions) of all */
  int         n_moe_layers, n_experts;
  int        *kept_per_layer; /* [n_moe_layers] */
  guint8     *keep;           /* [n_moe_layers * n_experts] */
  ScDType     dtype;          /* of the weights written */
  GPtrArray  *files;          /* ScExportFile (sc-export.h), names relative to the folder:
                               * "model/config.json", "experts.json", "report/heatmap.png"... */
  guint64     bytes;          /* every file */
  guint64     model_bytes;    /* model/ */
  guint64     tensor_bytes;   /* model/'s safetensors files */
  guint64     memory_bytes;   /* to run model/: weights and one sentence's greedy decoding */
} ScExportJobPlan;

void     sc_export_job_options_init (ScExportJobOptions *opts);

/* FALSE, with the reason, when writing the bundle to `folder` would be
 * refused (checked again, and first, by sc_export_job_run). */
gboolean sc_export_job_check (ScModel *model, const char *folder, gboolean overwrite,
                              GError **error);

/* Writes the bundle of `model` pruned by `stats` (of the model's shape). */
gboolean sc_export_job_run   (ScModel *model, ScStats *stats, const ScExportJobOptions *opts,
                              ScProgressCallback progress, gpointer progress_data,
                              GCancellable *cancellable, GError **error);

/* The bundle sc_export_job_run would write (opts->folder is not looked
 * at): every file and its size, the kept experts and the memory to run it.
 * No weight is read; the report's charts are drawn in memory. */
ScExportJobPlan *sc_export_job_plan      (ScModel *model, ScStats *stats,
                                          const ScExportJobOptions *opts, GError **error);
void             sc_export_job_plan_free (ScExportJobPlan *plan);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScExportJobPlan, sc_export_job_plan_free)

/* Frees the font caches the report's text filled (Cairo's and
 * fontconfig's), so that a program which wrote a bundle exits clean under
 * leak checkers. Only once nothing draws any more (never in the GTK
 * application, whose widgets keep using them). */
void     sc_export_job_free_font_caches (void);

G_END_DECLS
