/* sc-chart-scale.h (internal): a colour scale: values to cell colours,
 * pruned and missing cells, and the colour legend that explains them. */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "sc-chart-style.h"

G_BEGIN_DECLS

typedef struct {
  double vmin, vmax;
  const char *title;
  gboolean has_missing; /* legend shows the "no data" swatch */
  gboolean has_pruned;  /* legend shows the "pruned" swatch */
} ScColourScale;

/* vmin >= vmax: the finite min/max of values; a flat range is widened. */
void   sc_chart_scale_init (ScColourScale *scale, const float *values, gsize n, double vmin,
                            double vmax, const char *title);
/* Cell colour of a value: the palette, or the style's neutral for NaN. */
void   sc_chart_scale_colour (const ScColourScale *scale, const ScChartStyle *style, double v,
                              double rgb[3]);
/* Fills a cell; pruned cells fade towards the style's dim colour and get a
 * diagonal stroke, so they read without colour. */
void   sc_chart_cell_draw (cairo_t *cr, const ScChartStyle *style, double x, double y, double w,
                           double h, const double rgb[3], gboolean pruned);
/* The stroke's width for a cell of this size. */
double sc_chart_strike_width (double w, double h);

/* The legend's width (mcr: a measuring context), and drawing it in a column
 * (x, y, w, h): title, vertical colour bar with values, swatches. */
double sc_chart_legend_width (cairo_t *mcr, const ScColourScale *scale);
void   sc_chart_legend_draw (cairo_t *cr, const ScChartStyle *style, const ScColourScale *scale,
                             double x, double y, double w, double h);

G_END_DECLS
