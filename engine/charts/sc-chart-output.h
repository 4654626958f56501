/* sc-chart-output.h: write any chart to a PNG or SVG file, atomically. */
#pragma once

#include <cairo.h>
#include <glib.h>

G_BEGIN_DECLS

typedef void (*ScChartDrawFunc) (cairo_t *cr, double width, double height, gconstpointer data);

gboolean sc_chart_write_png (const char *path, int width, int height, ScChartDrawFunc draw,
                             gconstpointer data, GError **error);
gboolean sc_chart_write_svg (const char *path, double width, double height, ScChartDrawFunc draw,
                             gconstpointer data, GError **error);

/* The size in bytes of the file the two above would write, drawn in
 * memory (nothing is written). */
gboolean sc_chart_png_bytes (int width, int height, ScChartDrawFunc draw, gconstpointer data,
                             guint64 *bytes, GError **error);
gboolean sc_chart_svg_bytes (double width, double height, ScChartDrawFunc draw,
                             gconstpointer data, guint64 *bytes, GError **error);

G_END_DECLS

G_BEGIN_DECLS

/* The charts as ScChartDrawFunc (data: the chart's Sc*Data). */
void sc_chart_draw_heatmap (cairo_t *cr, double width, double height, gconstpointer data);
void sc_chart_draw_matrix  (cairo_t *cr, double width, double height, gconstpointer data);
void sc_chart_draw_curve   (cairo_t *cr, double width, double height, gconstpointer data);
void sc_chart_draw_bars    (cairo_t *cr, double width, double height, gconstpointer data);
void sc_chart_draw_dumbbell (cairo_t *cr, double width, double height, gconstpointer data);

G_END_DECLS
