/* sc-chart-matrix.h: language x language similarity matrix (symmetric, 0..1). */
#pragma once

#include <cairo.h>
#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  int n; const float *values; const char *const *labels; const int *order /* NULL = as given */;
  const char *title; gboolean dark;
} ScMatrixData;
/* No fields are added to ScMatrixData: callers may fill it field by field
 * without clearing it first. The colour scale is 0..1. */

void     sc_chart_matrix_draw (cairo_t *cr, double width, double height, const ScMatrixData *d);
/* Maps a point to a cell; i and j index values and labels (the order is
 * applied); FALSE outside the grid. */
gboolean sc_chart_matrix_hit  (double width, double height, const ScMatrixData *d,
                               double x, double y, int *i, int *j);
/* Outlines the cell of languages i and j (indices into labels, as
 * sc_chart_matrix_hit gives them), after sc_chart_matrix_draw. */
void     sc_chart_matrix_draw_hover (cairo_t *cr, double width, double height,
                                     const ScMatrixData *d, int i, int j);
/* The rectangle of the cell drawn at row p, column q (drawing order). */
gboolean sc_chart_matrix_cell_rect (double width, double height, const ScMatrixData *d,
                                    int p, int q, double *x, double *y, double *w, double *h);
/* An order that puts similar rows next to each other (average-linkage
 * clustering, leaves left to right), for ScMatrixData.order. */
void     sc_chart_matrix_cluster_order (int n, const float *values, int *order);

G_END_DECLS
