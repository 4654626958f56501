/* sc-chart-heatmap.h: the expert heatmap (MoE layers x experts), drawn with
 * Cairo only, so the GTK widget, exported reports and bench plots share it. */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "sc-chart-palette.h"

G_BEGIN_DECLS

typedef struct {
  int rows, cols;                 /* MoE layers (encoder layers first), experts */
  const float *values;            /* rows*cols, row-major; NAN = no data (drawn neutral) */
  const guint8 *pruned;           /* rows*cols or NULL; 1 = pruned: dimmed and struck through */
  const char *const *row_labels;  /* rows labels, e.g. "enc 1", "dec 3"; NULL = "L0".. */
  float vmin, vmax;               /* colour scale; vmin >= vmax => min/max of the data */
  const char *title;              /* legend title, e.g. "importance" (may be NULL) */
  gboolean dark;                  /* dark style: light text, dark background */
  /* Added fields (zero = off): */
  int n_encoder_rows;             /* > 0: a separator between encoder and decoder rows */
  gboolean show_hover;            /* outline the cell (hover_row, hover_col) */
  int hover_row, hover_col;
  const char *x_label;            /* caption under the expert axis; NULL = "expert" */
  const char *const *col_labels;  /* cols labels (e.g. languages); NULL = expert numbers 0.. */
} ScHeatmapData;

void     sc_chart_heatmap_draw (cairo_t *cr, double width, double height, const ScHeatmapData *d);
/* Maps a point to a cell; FALSE outside the grid. Same geometry as draw. */
gboolean sc_chart_heatmap_hit  (double width, double height, const ScHeatmapData *d,
                                double x, double y, int *row, int *col);
/* The rectangle of a cell in the drawing; FALSE when the grid does not fit. */
gboolean sc_chart_heatmap_cell_rect (double width, double height, const ScHeatmapData *d,
                                     int row, int col, double *x, double *y,
                                     double *w, double *h);

G_END_DECLS
