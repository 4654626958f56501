/* sc-chart-plot.c: TSV table -> chart -> file. The heatmap's header row is
 * optional (a first line whose first cell is empty or "layer"), so a bare
 * matrix of numbers with row labels also plots. */
#include "sc-chart-plot.h"

#include <math.h>
#include <string.h>

#include "sc-chart-bars.h"
#include "sc-chart-curve.h"
#include "sc-chart-heatmap.h"
#include "sc-chart-matrix.h"
#include "sc-chart-output.h"
#include "sc-chart-tsv.h"

void
sc_plot_options_init (ScPlotOptions *options)
{
  memset (options, 0, sizeof *options);
  options->marker_x = NAN;
}

gboolean
sc_plot_kind_from_string (const char *name, ScPlotKind *kind)
{
  static const char *names[] = { "curve", "matrix", "heatmap", "bars" };
  for (guint i = 0; name != NULL && i < G_N_ELEMENTS (names); i++)
    if (strcmp (name, names[i]) == 0)
      {
        *kind = (ScPlotKind) i;
        return TRUE;
      }
  return FALSE;
}

void
sc_plot_default_size (ScPlotKind kind, int rows, int cols, int *width, int *height)
{
  switch (kind)
    {
    case SC_PLOT_CURVE:
      *width = 800;
      *height = 480;
      break;
    case SC_PLOT_MATRIX:
      /* Room for values in the cells up to ~16 languages. */
      *width = CLAMP (220 + 48 * rows, 480, 1200);
      *height = CLAMP (120 + 48 * rows, 400, 1100);
      break;
    case SC_PLOT_BARS:
      *width = CLAMP (120 + 56 * rows, 420, 1200);
      *height = 320;
      break;
    case SC_PLOT_HEATMAP:
    default:
      *width = CLAMP (200 + 9 * cols, 600, 1400);
      *height = CLAMP (110 + 34 * rows, 260, 900);
      break;
    }
}

/* The heatmap's first line is a header when its first cell is empty or
 * "layer", or when a cell after the first is not a number (column names
 * such as languages). */
static gboolean
heatmap_has_header (const char *text)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (int i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) cells = NULL;
      g_strchomp (lines[i]);
      if (lines[i][0] == '\0' || lines[i][0] == '#')
        continue;
      cells = g_strsplit (lines[i], "\t", -1);
      if (*g_strstrip (cells[0]) == '\0' || g_ascii_strcasecmp (cells[0], "layer") == 0)
        return TRUE;
      for (int c = 1; cells[c] != NULL; c++)
        {
          char *end = NULL;
          const char *cell = g_strstrip (cells[c]);
          if (*cell == '\0' || g_ascii_strcasecmp (cell, "nan") == 0)
            continue;
          g_ascii_strtod (cell, &end);
          if (end == cell || *end != '\0')
            return TRUE;
        }
      return FALSE;
    }
  return FALSE;
}

/* Header cells that are just 0, 1, 2.. name experts by number: drawn as
 * numbers (thinned); anything else is drawn as given. */
static gboolean
labels_are_indices (char **labels, int n)
{
  for (int c = 0; c < n; c++)
    {
      g_autofree char *want = g_strdup_printf ("%d", c);
      if (strcmp (labels[c], want) != 0)
        return FALSE;
    }
  return TRUE;
}

static gboolean
is_dashed (const ScPlotOptions *o, const char *name)
{
  for (int i = 0; o->dashed != NULL && o->dashed[i] != NULL; i++)
    if (strcmp (o->dashed[i], name) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
write_chart (const char *out, int w, int h, ScChartDrawFunc draw, gconstpointer data,
             GError **error)
{
  if (g_str_has_suffix (out, ".svg") || g_str_has_suffix (out, ".SVG"))
    return sc_chart_write_svg (out, w, h, draw, data, error);
  return sc_chart_write_png (out, w, h, draw, data, error);
}

static gboolean
plot_curve (const ScTsvTable *t, const char *out, const ScPlotOptions *o, int w, int h,
            GError **error)
{
  g_autofree double *x = g_new (double, t->n_rows);
  g_autofree double *ys = g_new (double, (gsize) t->n_rows * t->n_cols);
  g_autofree ScCurveSeries *series = g_new0 (ScCurveSeries, t->n_cols);
  ScCurveData d = { 0 };

  if (!sc_tsv_table_row_numbers (t, x, error))
    return FALSE;
  for (int s = 0; s < t->n_cols; s++)
    {
      for (int r = 0; r < t->n_rows; r++)
        ys[(gsize) s * t->n_rows + r] = t->values[(gsize) r * t->n_cols + s];
      series[s].label = t->col_labels[s];
      series[s].n = t->n_rows;
      series[s].x = x;
      series[s].y = ys + (gsize) s * t->n_rows;
      series[s].dashed = is_dashed (o, t->col_labels[s]);
    }
  d.n_series = t->n_cols;
  d.series = series;
  d.ymin = o->ymin;
  d.ymax = o->ymax;
  d.x_label = o->x_label != NULL ? o->x_label : (*t->corner != '\0' ? t->corner : NULL);
  d.y_label = o->y_label;
  d.title = o->title;
  d.marker_x = o->marker_x;
  d.dark = o->dark;
  return write_chart (out, w, h, sc_chart_draw_curve, &d, error);
}

static gboolean
plot_matrix (const ScTsvTable *t, const char *out, const ScPlotOptions *o, int w, int h,
             GError **error)
{
  int n = t->n_rows;
  g_autofree float *v = NULL;
  g_autofree int *order = NULL;
  ScMatrixData d = { 0 };

  if (t->n_rows != t->n_cols)
    {
      g_set_error (error, SC_TSV_ERROR, SC_TSV_ERROR_SHAPE,
                   "a similarity matrix must be square: %d rows, %d columns", t->n_rows, t->n_cols);
      return FALSE;
    }
  v = g_new (float, (gsize) n *n);
  for (int i = 0; i < n * n; i++)
    v[i] = (float) t->values[i];
  if (o->cluster)
    {
      order = g_new (int, n);
      sc_chart_matrix_cluster_order (n, v, order);
    }
  d.n = n;
  d.values = v;
  d.labels = (const char *const *) t->row_labels;
  d.order = order;
  d.title = o->title;
  d.dark = o->dark;
  return write_chart (out, w, h, sc_chart_draw_matrix, &d, error);
}

static gboolean
plot_heatmap (const ScTsvTable *t, const char *out, const ScPlotOptions *o, int w, int h,
              GError **error)
{
  g_autofree float *v = g_new (float, (gsize) t->n_rows * t->n_cols);
  ScHeatmapData d = { 0 };
  int enc = 0;

  for (gsize i = 0; i < (gsize) t->n_rows * t->n_cols; i++)
    v[i] = (float) t->values[i];
  /* Rows named "enc ..." then "dec ...": mark the boundary. */
  while (enc < t->n_rows && g_ascii_strncasecmp (t->row_labels[enc], "enc", 3) == 0)
    enc++;
  d.rows = t->n_rows;
  d.cols = t->n_cols;
  d.values = v;
  d.row_labels = (const char *const *) t->row_labels;
  d.title = o->title;
  d.x_label = o->x_label;
  d.dark = o->dark;
  d.n_encoder_rows = enc < t->n_rows ? enc : 0;
  if (!labels_are_indices (t->col_labels, t->n_cols))
    d.col_labels = (const char *const *) t->col_labels;
  return write_chart (out, w, h, sc_chart_draw_heatmap, &d, error);
}

static gboolean
plot_bars (const ScTsvTable *t, const char *out, const ScPlotOptions *o, int w, int h,
           GError **error)
{
  g_autofree double *kept = g_new (double, t->n_rows);
  g_autofree double *max = NULL;
  ScBarsData d = { 0 };

  if (t->n_cols > 2)
    {
      g_set_error (error, SC_TSV_ERROR, SC_TSV_ERROR_SHAPE,
                   "bars need one or two columns (kept, max): %d given", t->n_cols);
      return FALSE;
    }
  if (t->n_cols == 2)
    max = g_new (double, t->n_rows);
  for (int r = 0; r < t->n_rows; r++)
    {
      kept[r] = t->values[(gsize) r * t->n_cols];
      if (max != NULL)
        max[r] = t->values[(gsize) r * t->n_cols + 1];
    }
  d.n = t->n_rows;
  d.values = kept;
  d.max_values = max;
  d.labels = (const char *const *) t->row_labels;
  d.title = o->title;
  d.dark = o->dark;
  return write_chart (out, w, h, sc_chart_draw_bars, &d, error);
}

gboolean
sc_plot_tsv (ScPlotKind kind, const char *in, const char *out, const ScPlotOptions *options,
             GError **error)
{
  g_autoptr (ScTsvTable) table = NULL;
  ScPlotOptions defaults;
  gboolean header = TRUE;
  int w, h;

  if (options == NULL)
    {
      sc_plot_options_init (&defaults);
      options = &defaults;
    }
  if (kind == SC_PLOT_HEATMAP)
    {
      g_autofree char *text = NULL;
      if (!g_file_get_contents (in, &text, NULL, error))
        return FALSE;
      header = heatmap_has_header (text);
    }
  table = sc_tsv_table_load (in, header, error);
  if (table == NULL)
    return FALSE;
  sc_plot_default_size (kind, table->n_rows, table->n_cols, &w, &h);
  if (options->width > 0)
    w = options->width;
  if (options->height > 0)
    h = options->height;
  switch (kind)
    {
    case SC_PLOT_CURVE:
      return plot_curve (table, out, options, w, h, error);
    case SC_PLOT_MATRIX:
      return plot_matrix (table, out, options, w, h, error);
    case SC_PLOT_HEATMAP:
      return plot_heatmap (table, out, options, w, h, error);
    case SC_PLOT_BARS:
      return plot_bars (table, out, options, w, h, error);
    default:
      g_set_error (error, SC_TSV_ERROR, SC_TSV_ERROR_SHAPE, "unknown chart kind %d", kind);
      return FALSE;
    }
}
