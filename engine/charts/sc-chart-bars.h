/* sc-chart-bars.h: experts kept per layer (or any share per layer, e.g.
 * the weights pruned), one bar per layer. */
#pragma once

#include <cairo.h>
#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  int n; const double *values; const double *max_values /* NULL = max of values */;
  const char *const *labels; const char *title; gboolean dark;
  /* Added: encoder layers come first; 0 = from the labels ("enc ..."). */
  int n_encoder;
  /* Above the bars: value / max as a percentage ("50%") instead of "kept/max". */
  gboolean percent;
} ScBarsData;

void sc_chart_bars_draw (cairo_t *cr, double width, double height, const ScBarsData *d);
/* The rectangle of bar i's filled part (kept), for tests and tooltips. */
gboolean sc_chart_bars_bar_rect (double width, double height, const ScBarsData *d, int i,
                                 double *x, double *y, double *w, double *h);

G_END_DECLS
