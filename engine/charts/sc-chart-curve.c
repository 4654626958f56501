/* sc-chart-curve.c: line chart of quality against pruning ratio: several
 * series (solid or dashed, Okabe-Ito colours, a marker at every point),
 * axes with round ticks, a legend above the plot and a vertical marker for
 * the slider. NAN in y leaves a gap in the line. */
#include "sc-chart-curve.h"

#include <math.h>
#include <string.h>

#include "sc-chart-output.h"
#include "sc-chart-palette.h"
#include "sc-chart-style.h"

#define MAX_TICKS 11
#define LEGEND_SWATCH 26.0
#define LEGEND_SPACING 18.0
#define POINT_RADIUS 3.5

typedef struct
{
  double xmin, xmax, ymin, ymax;
  double px, py, pw, ph; /* plot area */
  double title_y, legend_y, legend_row_h;
  double xticks[MAX_TICKS], yticks[MAX_TICKS], xstep, ystep;
  int n_xticks, n_yticks;
  gboolean ok;
} Layout;

static void
data_range (const ScCurveData *d, gboolean want_x, double *lo, double *hi)
{
  *lo = INFINITY;
  *hi = -INFINITY;
  for (int s = 0; s < d->n_series; s++)
    {
      const ScCurveSeries *se = &d->series[s];
      for (int i = 0; i < se->n && se->x != NULL && se->y != NULL; i++)
        {
          double v = want_x ? se->x[i] : se->y[i];
          if (!isfinite (se->x[i]) || !isfinite (se->y[i]))
            continue;
          *lo = MIN (*lo, v);
          *hi = MAX (*hi, v);
        }
    }
}

/* The axis ranges: given ones as they are; automatic ones from the data,
 * y padded by a tenth of its span. */
static void
ranges (const ScCurveData *d, Layout *l)
{
  l->xmin = d->xmin;
  l->xmax = d->xmax;
  if (!(l->xmin < l->xmax))
    {
      data_range (d, TRUE, &l->xmin, &l->xmax);
      if (!isfinite (l->xmin))
        {
          l->xmin = 0;
          l->xmax = 1;
        }
    }
  l->ymin = d->ymin;
  l->ymax = d->ymax;
  if (!(l->ymin < l->ymax))
    {
      double pad;
      data_range (d, FALSE, &l->ymin, &l->ymax);
      if (!isfinite (l->ymin))
        {
          l->ymin = 0;
          l->ymax = 1;
        }
      pad = (l->ymax - l->ymin) * 0.1;
      if (pad <= 0)
        pad = MAX (fabs (l->ymax) * 0.1, 0.5);
      l->ymin -= pad;
      l->ymax += pad;
    }
  if (!(l->xmax > l->xmin))
    l->xmax = l->xmin + 1;
}

static gboolean
has_legend (const ScCurveData *d)
{
  for (int s = 0; s < d->n_series; s++)
    if (d->series[s].label != NULL && *d->series[s].label != '\0')
      return TRUE;
  return FALSE;
}

/* Lays the legend items out in a grid of equal columns within width w;
 * returns the row count and, when xs/rows are given, each item's x offset
 * and row. */
static int
legend_rows (cairo_t *mcr, const ScCurveData *d, double w, double *xs, int *rows)
{
  double col_w = 0;
  int per_row;

  sc_chart_font (mcr, SC_CHART_SMALL_FONT, FALSE);
  for (int s = 0; s < d->n_series; s++)
    {
      char buf[128];
      sc_chart_copy_label (d->series[s].label, buf, sizeof buf);
      col_w = MAX (col_w, LEGEND_SWATCH + 6 + sc_chart_text_width (mcr, buf));
    }
  col_w += LEGEND_SPACING;
  per_row = MAX (1, (int) ((w + LEGEND_SPACING) / col_w));
  for (int s = 0; s < d->n_series; s++)
    {
      if (xs != NULL)
        xs[s] = (s % per_row) * col_w;
      if (rows != NULL)
        rows[s] = s / per_row;
    }
  return (d->n_series + per_row - 1) / per_row;
}

static void
layout_compute (double width, double height, const ScCurveData *d, Layout *l)
{
  cairo_t *mcr;
  double top = SC_CHART_MARGIN, tick_h, label_h, ytick_w = 0, left, bottom, right;
  char buf[64];

  memset (l, 0, sizeof *l);
  if (d == NULL || d->n_series < 0 || (d->n_series > 0 && d->series == NULL))
    return;
  ranges (d, l);
  mcr = sc_chart_measure_context ();

  if (d->title != NULL && *d->title != '\0')
    {
      sc_chart_font (mcr, SC_CHART_FONT + 1, TRUE);
      l->title_y = top;
      top += sc_chart_line_height (mcr) + 8;
    }
  sc_chart_font (mcr, SC_CHART_SMALL_FONT, FALSE);
  tick_h = sc_chart_line_height (mcr);
  sc_chart_font (mcr, SC_CHART_FONT, FALSE);
  label_h = sc_chart_line_height (mcr);

  /* y ticks first: their labels set the left margin. */
  bottom = SC_CHART_MARGIN + (d->x_label != NULL ? label_h + 4 : 0) + tick_h + 8;
  {
    double ph_guess = height - top - bottom;
    int max_y = CLAMP ((int) (ph_guess / (2.2 * tick_h)) + 1, 2, MAX_TICKS);
    l->n_yticks = sc_chart_nice_ticks (l->ymin, l->ymax, max_y, l->yticks, &l->ystep);
  }
  sc_chart_font (mcr, SC_CHART_SMALL_FONT, FALSE);
  for (int i = 0; i < l->n_yticks; i++)
    {
      sc_chart_format_tick (l->yticks[i], l->ystep, buf, sizeof buf);
      ytick_w = MAX (ytick_w, sc_chart_text_width (mcr, buf));
    }
  left = SC_CHART_MARGIN + (d->y_label != NULL ? label_h + 8 : 0) + ytick_w + 8;
  right = SC_CHART_MARGIN + 16;

  l->px = ceil (left);
  l->pw = floor (width - left - right);
  if (has_legend (d) && l->pw > 0)
    {
      l->legend_row_h = MAX (tick_h, 12) + 4;
      l->legend_y = top;
      top += legend_rows (mcr, d, l->pw, NULL, NULL) * l->legend_row_h + 6;
    }
  l->py = ceil (top);
  l->ph = floor (height - top - bottom);
  if (l->pw < 20 || l->ph < 20)
    {
      cairo_destroy (mcr);
      return;
    }

  /* x ticks: as many as fit their widest label with room between. */
  {
    double widest = 0, probe[MAX_TICKS], step;
    int n = sc_chart_nice_ticks (l->xmin, l->xmax, MAX_TICKS, probe, &step);
    for (int i = 0; i < n; i++)
      {
        sc_chart_format_tick (probe[i], step, buf, sizeof buf);
        widest = MAX (widest, sc_chart_text_width (mcr, buf));
      }
    int max_x = CLAMP ((int) (l->pw / (widest + 24)) + 1, 2, MAX_TICKS);
    l->n_xticks = sc_chart_nice_ticks (l->xmin, l->xmax, max_x, l->xticks, &l->xstep);
  }
  l->ok = TRUE;
  cairo_destroy (mcr);
}

static double
map_x (const Layout *l, double x)
{
  return l->px + (x - l->xmin) / (l->xmax - l->xmin) * l->pw;
}

static double
map_y (const Layout *l, double y)
{
  return l->py + l->ph - (y - l->ymin) / (l->ymax - l->ymin) * l->ph;
}

void
sc_chart_curve_to_pixel (double width, double height, const ScCurveData *d, double x, double y,
                         double *px, double *py)
{
  Layout l;
  layout_compute (width, height, d, &l);
  if (px != NULL)
    *px = l.ok ? map_x (&l, x) : NAN;
  if (py != NULL)
    *py = l.ok ? map_y (&l, y) : NAN;
}

void
sc_chart_curve_from_pixel (double width, double height, const ScCurveData *d, double px, double py,
                           double *x, double *y)
{
  Layout l;
  layout_compute (width, height, d, &l);
  if (x != NULL)
    *x = l.ok ? l.xmin + (px - l.px) / l.pw * (l.xmax - l.xmin) : NAN;
  if (y != NULL)
    *y = l.ok ? l.ymin + (l.py + l.ph - py) / l.ph * (l.ymax - l.ymin) : NAN;
}

/* Colours repeat after 7 series; each round of colours gets another point
 * shape (circle, square, triangle, diamond) so every series stays unique. */
static void
add_point (cairo_t *cr, int series, double x, double y)
{
  double r = POINT_RADIUS;
  int n_colours = 7;

  cairo_new_sub_path (cr);
  switch ((series / n_colours) % 4)
    {
    case 0:
      cairo_arc (cr, x, y, r, 0, 2 * G_PI);
      break;
    case 1:
      cairo_rectangle (cr, x - r * 0.9, y - r * 0.9, 1.8 * r, 1.8 * r);
      break;
    case 2:
      cairo_move_to (cr, x, y - 1.25 * r);
      cairo_line_to (cr, x + 1.15 * r, y + 0.85 * r);
      cairo_line_to (cr, x - 1.15 * r, y + 0.85 * r);
      cairo_close_path (cr);
      break;
    default:
      cairo_move_to (cr, x, y - 1.3 * r);
      cairo_line_to (cr, x + 1.3 * r, y);
      cairo_line_to (cr, x, y + 1.3 * r);
      cairo_line_to (cr, x - 1.3 * r, y);
      cairo_close_path (cr);
      break;
    }
}

gboolean
sc_chart_curve_nearest (double width, double height, const ScCurveData *d, double px, double py,
                        double max_dist, int *series, int *index)
{
  Layout l;
  double best = max_dist * max_dist;
  int bs = -1, bi = -1;

  layout_compute (width, height, d, &l);
  if (!l.ok || !isfinite (px) || !isfinite (py))
    return FALSE;
  /* Later series are drawn on top: on ties they win, as the eye sees. */
  for (int s = 0; s < d->n_series; s++)
    {
      const ScCurveSeries *se = &d->series[s];
      for (int i = 0; i < se->n && se->x != NULL && se->y != NULL; i++)
        {
          double dx, dy;
          if (!isfinite (se->x[i]) || !isfinite (se->y[i]))
            continue;
          dx = map_x (&l, se->x[i]) - px;
          dy = map_y (&l, se->y[i]) - py;
          if (dx * dx + dy * dy <= best)
            {
              best = dx * dx + dy * dy;
              bs = s;
              bi = i;
            }
        }
    }
  if (bs < 0)
    return FALSE;
  if (series != NULL)
    *series = bs;
  if (index != NULL)
    *index = bi;
  return TRUE;
}

static void
set_series_line (cairo_t *cr, const ScCurveSeries *se)
{
  static const double dash[] = { 6, 4 };
  cairo_set_line_width (cr, 2);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_dash (cr, dash, se->dashed ? 2 : 0, 0);
}

static void
draw_axes (cairo_t *cr, const ScCurveData *d, const Layout *l, const ScChartStyle *style,
           double height)
{
  char buf[64];

  cairo_set_line_width (cr, 1);
  /* Grid lines at the ticks, then the two axes over them. */
  sc_chart_set_rgb (cr, style->grid);
  for (int i = 0; i < l->n_yticks; i++)
    {
      double y = round (map_y (l, l->yticks[i])) + 0.5;
      cairo_move_to (cr, l->px, y);
      cairo_line_to (cr, l->px + l->pw, y);
    }
  for (int i = 0; i < l->n_xticks; i++)
    {
      double x = round (map_x (l, l->xticks[i])) + 0.5;
      cairo_move_to (cr, x, l->py);
      cairo_line_to (cr, x, l->py + l->ph);
    }
  cairo_stroke (cr);
  sc_chart_set_rgb (cr, style->muted);
  cairo_move_to (cr, l->px + 0.5, l->py);
  cairo_line_to (cr, l->px + 0.5, l->py + l->ph + 0.5);
  cairo_line_to (cr, l->px + l->pw, l->py + l->ph + 0.5);
  cairo_stroke (cr);

  sc_chart_font (cr, SC_CHART_SMALL_FONT, FALSE);
  for (int i = 0; i < l->n_yticks; i++)
    {
      double y = map_y (l, l->yticks[i]);
      sc_chart_format_tick (l->yticks[i], l->ystep, buf, sizeof buf);
      sc_chart_set_rgb (cr, style->muted);
      cairo_move_to (cr, l->px - 4, round (y) + 0.5);
      cairo_line_to (cr, l->px, round (y) + 0.5);
      cairo_stroke (cr);
      sc_chart_set_rgb (cr, style->fg);
      sc_chart_text (cr, buf, l->px - 7, y, SC_ALIGN_END, SC_ALIGN_CENTER);
    }
  for (int i = 0; i < l->n_xticks; i++)
    {
      double x = map_x (l, l->xticks[i]);
      sc_chart_format_tick (l->xticks[i], l->xstep, buf, sizeof buf);
      sc_chart_set_rgb (cr, style->muted);
      cairo_move_to (cr, round (x) + 0.5, l->py + l->ph);
      cairo_line_to (cr, round (x) + 0.5, l->py + l->ph + 4);
      cairo_stroke (cr);
      sc_chart_set_rgb (cr, style->fg);
      sc_chart_text (cr, buf, x, l->py + l->ph + 6, SC_ALIGN_CENTER, SC_ALIGN_START);
    }

  sc_chart_font (cr, SC_CHART_FONT, FALSE);
  sc_chart_set_rgb (cr, style->muted);
  if (d->x_label != NULL)
    sc_chart_text (cr, d->x_label, l->px + l->pw / 2, height - SC_CHART_MARGIN, SC_ALIGN_CENTER,
                   SC_ALIGN_END);
  if (d->y_label != NULL)
    sc_chart_text_up (cr, d->y_label, SC_CHART_MARGIN, l->py + l->ph / 2, SC_ALIGN_CENTER,
                      SC_ALIGN_START);
}

static void
draw_series (cairo_t *cr, const ScCurveData *d, const Layout *l, const ScChartStyle *style)
{
  cairo_save (cr);
  cairo_rectangle (cr, l->px - POINT_RADIUS - 1, l->py - POINT_RADIUS - 1,
                   l->pw + 2 * POINT_RADIUS + 2, l->ph + 2 * POINT_RADIUS + 2);
  cairo_clip (cr);
  for (int s = 0; s < d->n_series; s++)
    {
      const ScCurveSeries *se = &d->series[s];
      gboolean pen_down = FALSE;
      double rgb[3];

      if (se->x == NULL || se->y == NULL)
        continue;
      sc_chart_series_colour (s, style->dark, rgb);
      sc_chart_set_rgb (cr, rgb);
      set_series_line (cr, se);
      for (int i = 0; i < se->n; i++)
        {
          if (!isfinite (se->x[i]) || !isfinite (se->y[i]))
            {
              pen_down = FALSE;
              continue;
            }
          if (pen_down)
            cairo_line_to (cr, map_x (l, se->x[i]), map_y (l, se->y[i]));
          else
            cairo_move_to (cr, map_x (l, se->x[i]), map_y (l, se->y[i]));
          pen_down = TRUE;
        }
      cairo_stroke (cr);
      for (int i = 0; i < se->n; i++)
        {
          if (!isfinite (se->x[i]) || !isfinite (se->y[i]))
            continue;
          add_point (cr, s, map_x (l, se->x[i]), map_y (l, se->y[i]));
        }
      cairo_fill (cr);
    }
  cairo_restore (cr);
}

static gboolean
marker_x (const ScCurveData *d, const Layout *l, double *x)
{
  if (!isfinite (d->marker_x) || d->marker_x < l->xmin || d->marker_x > l->xmax)
    return FALSE;
  *x = round (map_x (l, d->marker_x));
  return TRUE;
}

/* The marker's line goes under the series, so it hides no point. */
static void
draw_marker_line (cairo_t *cr, const ScCurveData *d, const Layout *l, const ScChartStyle *style)
{
  double x;

  if (!marker_x (d, l, &x))
    return;
  sc_chart_set_rgb (cr, style->fg);
  cairo_set_line_width (cr, 2);
  cairo_set_dash (cr, NULL, 0, 0);
  cairo_move_to (cr, x, l->py);
  cairo_line_to (cr, x, l->py + l->ph);
  cairo_stroke (cr);
}

/* Its value on a background chip at the top, on the roomier side. */
static void
draw_marker_label (cairo_t *cr, const ScCurveData *d, const Layout *l, const ScChartStyle *style)
{
  double x, tw, th, bx;
  char buf[64];

  if (!marker_x (d, l, &x))
    return;
  if (d->show_marker_point && isfinite (d->marker_y) && d->marker_y >= l->ymin &&
      d->marker_y <= l->ymax)
    {
      /* A ring in the background colour keeps the dot clear of the lines. */
      double y = map_y (l, d->marker_y);
      sc_chart_set_rgb (cr, style->bg);
      cairo_arc (cr, x, y, POINT_RADIUS + 3, 0, 2 * G_PI);
      cairo_fill (cr);
      sc_chart_set_rgb (cr, style->fg);
      cairo_arc (cr, x, y, POINT_RADIUS + 1.5, 0, 2 * G_PI);
      cairo_fill (cr);
    }
  sc_chart_font (cr, SC_CHART_SMALL_FONT, TRUE);
  if (d->marker_label != NULL)
    sc_chart_copy_label (d->marker_label, buf, sizeof buf);
  else
    sc_chart_format_tick (d->marker_x, l->xstep / 10, buf, sizeof buf);
  tw = sc_chart_text_width (cr, buf);
  th = sc_chart_line_height (cr);
  bx = x + tw + 10 < l->px + l->pw ? x + 3 : x - tw - 9;
  sc_chart_set_rgb (cr, style->bg);
  cairo_rectangle (cr, bx, l->py + 2, tw + 6, th + 2);
  cairo_fill (cr);
  sc_chart_set_rgb (cr, style->fg);
  sc_chart_text (cr, buf, bx + 3, l->py + 3, SC_ALIGN_START, SC_ALIGN_START);
}

static void
draw_legend (cairo_t *cr, const ScCurveData *d, const Layout *l, const ScChartStyle *style)
{
  g_autofree double *xs = g_new0 (double, MAX (d->n_series, 1));
  g_autofree int *rows = g_new0 (int, MAX (d->n_series, 1));

  legend_rows (cr, d, l->pw, xs, rows);
  for (int s = 0; s < d->n_series; s++)
    {
      const ScCurveSeries *se = &d->series[s];
      double x = l->px + xs[s], y = l->legend_y + rows[s] * l->legend_row_h + l->legend_row_h / 2;
      double rgb[3];
      sc_chart_series_colour (s, style->dark, rgb);
      sc_chart_set_rgb (cr, rgb);
      set_series_line (cr, se);
      cairo_move_to (cr, x, round (y));
      cairo_line_to (cr, x + LEGEND_SWATCH, round (y));
      cairo_stroke (cr);
      add_point (cr, s, x + LEGEND_SWATCH / 2, round (y));
      cairo_fill (cr);
      cairo_set_dash (cr, NULL, 0, 0);
      sc_chart_set_rgb (cr, style->fg);
      char buf[128];
      sc_chart_copy_label (se->label, buf, sizeof buf);
      sc_chart_text (cr, buf, x + LEGEND_SWATCH + 6, y, SC_ALIGN_START, SC_ALIGN_CENTER);
    }
}

void
sc_chart_curve_draw (cairo_t *cr, double width, double height, const ScCurveData *d)
{
  ScChartStyle style;
  Layout l;

  sc_chart_style_init (&style, d != NULL && d->dark);
  sc_chart_fill_background (cr, width, height, &style);
  layout_compute (width, height, d, &l);
  if (!l.ok)
    return;
  cairo_save (cr);
  if (d->title != NULL && *d->title != '\0')
    {
      sc_chart_font (cr, SC_CHART_FONT + 1, TRUE);
      sc_chart_set_rgb (cr, style.fg);
      sc_chart_text (cr, d->title, l.px, l.title_y, SC_ALIGN_START, SC_ALIGN_START);
    }
  draw_axes (cr, d, &l, &style, height);
  if (has_legend (d))
    draw_legend (cr, d, &l, &style);
  draw_marker_line (cr, d, &l, &style);
  draw_series (cr, d, &l, &style);
  draw_marker_label (cr, d, &l, &style);
  cairo_restore (cr);
}

void
sc_chart_draw_curve (cairo_t *cr, double width, double height, gconstpointer data)
{
  sc_chart_curve_draw (cr, width, height, data);
}
