/* sc-chart-curve.h: quality vs pruning ratio, several series. */
#pragma once

#include <cairo.h>
#include <glib.h>

G_BEGIN_DECLS

typedef struct { const char *label; int n; const double *x; const double *y; gboolean dashed; } ScCurveSeries;

typedef struct {
  int n_series; const ScCurveSeries *series;
  double xmin, xmax, ymin, ymax;      /* ymin >= ymax => auto from data (padded); same for x */
  const char *x_label, *y_label, *title;
  double marker_x;                     /* vertical marker (slider position); NAN = none */
  gboolean dark;
  /* Added (zero = off): */
  const char *marker_label;            /* text on the marker; NULL = its x value */
  gboolean show_marker_point;          /* a ringed dot on the marker at marker_y */
  double marker_y;                     /* e.g. the quality estimate read from the curve */
} ScCurveData;

void sc_chart_curve_draw (cairo_t *cr, double width, double height, const ScCurveData *d);
/* data -> pixel mapping used by draw, for tests and pointer handling */
void sc_chart_curve_to_pixel (double width, double height, const ScCurveData *d,
                              double x, double y, double *px, double *py);
/* The drawn point nearest to (px, py) within max_dist pixels, for tooltips;
 * FALSE when none is that close. */
gboolean sc_chart_curve_nearest (double width, double height, const ScCurveData *d,
                                 double px, double py, double max_dist,
                                 int *series, int *index);
/* pixel -> data, the inverse of sc_chart_curve_to_pixel */
void sc_chart_curve_from_pixel (double width, double height, const ScCurveData *d,
                                double px, double py, double *x, double *y);

G_END_DECLS
