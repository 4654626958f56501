/* sc-chart-style.h (internal): what all charts share: light/dark colours,
 * text drawing and measuring, axis ticks. */
#pragma once

#include <cairo.h>
#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  double bg[3];      /* background */
  double fg[3];      /* titles, labels */
  double muted[3];   /* tick labels, axes */
  double grid[3];    /* grid lines */
  double neutral[3]; /* no data */
  double track[3];   /* empty part of a bar */
  double dim[3];     /* what pruned cells fade towards */
  double strike[3];  /* the strike through pruned cells */
  gboolean dark;
} ScChartStyle;

#define SC_CHART_MARGIN 12.0
#define SC_CHART_FONT 12.0
#define SC_CHART_SMALL_FONT 11.0

void     sc_chart_style_init (ScChartStyle *style, gboolean dark);
void     sc_chart_set_rgb (cairo_t *cr, const double rgb[3]);
void     sc_chart_fill_background (cairo_t *cr, double width, double height,
                                   const ScChartStyle *style);

typedef enum { SC_ALIGN_START, SC_ALIGN_CENTER, SC_ALIGN_END } ScAlign;

/* Text: one sans-serif face through Cairo's own text API (no Pango: the
 * charts build without GTK). */
void     sc_chart_font (cairo_t *cr, double size, gboolean bold);
double   sc_chart_text_width (cairo_t *cr, const char *text);
/* Height of a line of the current font (ascent + descent). */
double   sc_chart_line_height (cairo_t *cr);
/* Draws text anchored at (x, y); valign is on the font's ascent/descent, so
 * labels of one row share a baseline. */
void     sc_chart_text (cairo_t *cr, const char *text, double x, double y, ScAlign halign,
                        ScAlign valign);

/* The same, rotated a quarter turn anticlockwise (reading upwards); halign
 * is along the text. */
void     sc_chart_text_up (cairo_t *cr, const char *text, double x, double y, ScAlign halign,
                           ScAlign valign);

/* A context for measuring text in layouts: draw and hit-testing measure with
 * it, so both compute the same geometry whatever the target's font options. */
cairo_t *sc_chart_measure_context (void);

/* "Nice" ticks (1, 2, 5 x 10^k) covering [lo, hi]; returns how many (at most
 * max_ticks) were written to ticks, and the step. */
int      sc_chart_nice_ticks (double lo, double hi, int max_ticks, double *ticks, double *step);
/* A tick value with as many decimals as the step needs. */
void     sc_chart_format_tick (double v, double step, char *buf, gsize size);
/* A value with 3 significant digits, no trailing zeros. */
void     sc_chart_format_value (double v, char *buf, gsize size);

/* Copies a label for drawing, cut to SC_CHART_LABEL_MAX characters with an
 * ellipsis, so one long name cannot squeeze a chart away. */
#define SC_CHART_LABEL_MAX 24
void     sc_chart_copy_label (const char *label, char *buf, gsize size);

/* Colour mixing: out = a * (1 - t) + b * t. */
void     sc_chart_mix (const double a[3], const double b[3], double t, double out[3]);

G_END_DECLS
