/* sc-chart-matrix.h: language x language similarity matrix (symmetric, 0..1). */
#pragma once

#include <cairo.h>
#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  int n; const float *values; const char *const *labels; const int *order /* NULL = as given */;
  const char *title; gboolean dark;
  /* Added: colour scale; vmin >= vmax => 0..1. */
  float vmin, vmax;
  gboolean show_hover;  /* outline the cell of languages (hover_i, hover_j) */
  int hover_i, hover_j; /* indices into labels, as sc_chart_matrix_hit gives */
} ScMatrixData;

void     sc_chart_matrix_draw (cairo_t *cr, double width, double height, const ScMatrixData *d);
/* Maps a point to a cell; i and j index values and labels (the order is
 * applied); FALSE outside the grid. */
gboolean sc_chart_matrix_hit  (double width, double height, const ScMatrixData *d,
                               double x, double y, int *i, int *j);
/* The rectangle of the cell drawn at row p, column q (drawing order). */
gboolean sc_chart_matrix_cell_rect (double width, double height, const ScMatrixData *d,
                                    int p, int q, double *x, double *y, double *w, double *h);
/* An order that puts similar rows next to each other (average-linkage
 * clustering, leaves left to right), for ScMatrixData.order. */
void     sc_chart_matrix_cluster_order (int n, const float *values, int *order);

G_END_DECLS
