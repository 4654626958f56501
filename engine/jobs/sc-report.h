/* sc-report.h: an export bundle's report folder (sc-export-job.h): the
 * expert heatmap and the quality curve as PNG and SVG (the same Cairo
 * charts the window draws) and scores.csv with the quality sweep per
 * direction. Written by the export job for the application and the CLI
 * alike. */
#pragma once

#include "sc-prune-plan.h"

G_BEGIN_DECLS

typedef struct {
  int     rows, cols, n_encoder_rows;
  float  *values;       /* [rows * cols] importance over all directions */
  guint8 *pruned;       /* [rows * cols] outside the union of the kept sets */
  GStrv   row_labels;
  char   *metric;
  int     n_points;     /* sweep points, 0 = no sweep */
  double *ratios, *chrf;
  GStrv   directions;   /* sweep directions */
  double *scores;       /* [n_directions * n_points] */
  char   *held_out;     /* the sweep's held-out set ("heldout.tsv", "UDHR"); NULL: unknown */
  int     sentences;    /* its sentences per direction; 0: unknown */
} ScReport;

/* The heatmap of `stats` under `settings` (the union of every direction's
 * kept set shaded as kept) and the sweep of n_points ratios (0: none). */
void     sc_report_init  (ScReport *r, ScStats *stats, const ScPruneSettings *settings,
                          const char *const *directions, int n_points, const double *ratios,
                          const double *chrf, const double *scores);
void     sc_report_clear (ScReport *r);
/* Row labels "enc 1".. "dec 1".. for the MoE layers; g_strfreev. */
GStrv    sc_report_row_labels (int rows, int n_encoder_rows);
/* Writes `folder` (created) with heatmap.png/.svg, quality.png/.svg (when
 * there is a sweep), scores.csv and about.json (the charts' titles, the
 * held-out set and sentences per pair the quality curve rests on). */
gboolean sc_report_write (const ScReport *r, const char *folder, GError **error);

/* The files sc_report_write writes, each measured (drawn in memory, nothing
 * written) and passed to `add` with its name and size in bytes. */
typedef void (*ScReportFileFunc) (const char *name, guint64 bytes, gpointer data);
gboolean sc_report_measure (const ScReport *r, ScReportFileFunc add, gpointer add_data,
                            GError **error);

/* The quality plot's title naming the held-out set it rests on and its
 * sentences per direction (either unknown: left out). */
char    *sc_report_quality_title (const char *held_out, int sentences);

G_END_DECLS
