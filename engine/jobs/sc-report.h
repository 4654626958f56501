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
 * there is a sweep) and scores.csv. */
gboolean sc_report_write (const ScReport *r, const char *folder, GError **error);

G_END_DECLS
