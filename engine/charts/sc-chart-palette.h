/* sc-chart-palette.h: the charts' colours: a colour-blind-safe sequential
 * ramp for values and a qualitative set for series. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The colour of a value (palette + scale), for legends and tests. */
void     sc_chart_palette      (double t /* 0..1 */, double rgb[3]);
/* Colour of series i (Okabe-Ito, colour-blind safe), readable on the style's
 * background. */
void     sc_chart_series_colour (int i, gboolean dark, double rgb[3]);
/* CIE L* (0..100) of an sRGB colour, for choosing text colours and tests. */
double   sc_chart_lightness    (const double rgb[3]);

G_END_DECLS
