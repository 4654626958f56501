/* sc-chart-plot.h: a chart from a TSV table straight to a PNG or SVG file,
 * for bench scripts (bench/sc-plot) and reports. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  SC_PLOT_CURVE,   /* header "x<TAB>series1<TAB>series2...", rows of numbers */
  SC_PLOT_MATRIX,  /* square: header row of labels, first column of labels */
  SC_PLOT_HEATMAP, /* one row per layer (first column = label), one column per expert */
  SC_PLOT_BARS,    /* header "layer<TAB>kept[<TAB>max]", one row per layer */
} ScPlotKind;

typedef struct {
  const char *title, *x_label, *y_label;
  int width, height;          /* 0 = the kind's default size */
  gboolean dark;
  gboolean cluster;           /* matrix: order rows by similarity */
  double marker_x;            /* curve: vertical marker; NAN = none */
  double ymin, ymax;          /* curve: ymin >= ymax => automatic */
  const char *const *dashed;  /* curve: names of series drawn dashed (NULL-terminated) */
} ScPlotOptions;

/* Defaults: no labels, default size, light, no marker, automatic y. */
void     sc_plot_options_init (ScPlotOptions *options);
gboolean sc_plot_kind_from_string (const char *name, ScPlotKind *kind);
/* The default image size of a kind for a table of this shape. */
void     sc_plot_default_size (ScPlotKind kind, int rows, int cols, int *width, int *height);
/* Reads `in`, draws, writes `out` (SVG when it ends in .svg, else PNG). */
gboolean sc_plot_tsv (ScPlotKind kind, const char *in, const char *out,
                      const ScPlotOptions *options, GError **error);

G_END_DECLS
