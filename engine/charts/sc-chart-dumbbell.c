/* sc-chart-dumbbell.c: values before and after, one row per item. Rows are
 * drawn in the order given (the caller sorts: languages by training share),
 * on one shared axis from 0 so that lengths compare; the relative change is
 * written at the right of each row. Flagged rows get a tinted band, their
 * label and change in the warning colour, and a bold label, so the flag
 * does not rest on colour alone. */
#include "sc-chart-dumbbell.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "sc-chart-output.h"
#include "sc-chart-palette.h"
#include "sc-chart-style.h"

#define DOT_R 5.0

typedef struct
{
  double px, pw;     /* plot area, horizontally */
  double top, row_h; /* first row's top, row height */
  double title_y, legend_y, axis_y;
  double change_x; /* right edge of the change column */
  double lo, hi;   /* axis range */
  double ticks[12], step;
  int n_ticks;
  gboolean ok;
} Layout;

static const char *
before_name (const ScDumbbellData *d)
{
  /* TRANSLATORS: legend of the per-language chart: the model before pruning */
  return d->before_name ? d->before_name : _ ("before");
}

static const char *
after_name (const ScDumbbellData *d)
{
  /* TRANSLATORS: legend of the per-language chart: the model after pruning */
  return d->after_name ? d->after_name : _ ("after");
}

void
sc_chart_dumbbell_colours (gboolean dark, double before[3], double after[3], double flagged[3])
{
  /* blue, bluish green and vermillion of Okabe-Ito: apart for every
   * common colour vision */
  if (before != NULL)
    sc_chart_series_colour (0, dark, before);
  if (after != NULL)
    sc_chart_series_colour (2, dark, after);
  if (flagged != NULL)
    sc_chart_series_colour (4, dark, flagged);
}

static void
label_of (const ScDumbbellData *d, int i, char *buf, gsize size)
{
  if (d->labels != NULL && d->labels[i] != NULL)
    sc_chart_copy_label (d->labels[i], buf, size);
  else
    g_snprintf (buf, size, "%d", i);
}

static gboolean
change_text (const ScDumbbellData *d, int i, char *buf, gsize size)
{
  double b = d->before[i], a = d->after[i];
  if (!isfinite (a) || !isfinite (b) || b == 0)
    {
      g_strlcpy (buf, "–", size);
      return FALSE;
    }
  g_snprintf (buf, size, "%+.1f%%", 100 * (a - b) / b);
  return TRUE;
}

static void
layout_compute (double width, double height, const ScDumbbellData *d, Layout *l)
{
  char buf[128];
  double label_w = 0, change_w, top = SC_CHART_MARGIN, bottom;
  cairo_t *mcr;

  memset (l, 0, sizeof *l);
  if (d == NULL || d->n <= 0 || d->before == NULL || d->after == NULL)
    return;
  mcr = sc_chart_measure_context ();
  if (d->title != NULL)
    {
      sc_chart_font (mcr, SC_CHART_FONT + 1, TRUE);
      l->title_y = top;
      top += sc_chart_line_height (mcr) + 6;
    }
  sc_chart_font (mcr, SC_CHART_SMALL_FONT, FALSE);
  l->legend_y = top + sc_chart_line_height (mcr) / 2;
  top += sc_chart_line_height (mcr) + 8;
  sc_chart_font (mcr, SC_CHART_SMALL_FONT, TRUE);
  for (int i = 0; i < d->n; i++)
    {
      label_of (d, i, buf, sizeof buf);
      label_w = MAX (label_w, sc_chart_text_width (mcr, buf));
    }
  change_w = sc_chart_text_width (mcr, "+100.0%");
  for (int i = 0; i < d->n; i++)
    {
      change_text (d, i, buf, sizeof buf);
      change_w = MAX (change_w, sc_chart_text_width (mcr, buf));
    }
  sc_chart_font (mcr, SC_CHART_SMALL_FONT, FALSE);
  bottom = SC_CHART_MARGIN + sc_chart_line_height (mcr) + 6;
  cairo_destroy (mcr);

  l->px = ceil (SC_CHART_MARGIN + label_w + 10 + DOT_R);
  l->change_x = width - SC_CHART_MARGIN;
  l->pw = floor (l->change_x - change_w - 10 - DOT_R - l->px);
  l->top = top;
  l->axis_y = height - bottom;
  l->row_h = MIN (28.0, (l->axis_y - top) / d->n);
  l->lo = 0;
  l->hi = 0;
  for (int i = 0; i < d->n; i++)
    {
      if (isfinite (d->before[i]))
        l->hi = MAX (l->hi, d->before[i]);
      if (isfinite (d->after[i]))
        l->hi = MAX (l->hi, d->after[i]);
    }
  if (l->hi <= l->lo)
    l->hi = 1;
  l->n_ticks = sc_chart_nice_ticks (l->lo, l->hi, 6, l->ticks, &l->step);
  if (l->n_ticks > 0)
    l->hi = MAX (l->hi, l->ticks[l->n_ticks - 1]);
  l->ok = l->pw >= 40 && l->row_h >= 6;
}

static double
x_of (const Layout *l, double v)
{
  return l->px + (CLAMP (v, l->lo, l->hi) - l->lo) / (l->hi - l->lo) * l->pw;
}

gboolean
sc_chart_dumbbell_points (double width, double height, const ScDumbbellData *d, int i,
                          double *x_before, double *x_after, double *y)
{
  Layout l;
  layout_compute (width, height, d, &l);
  if (!l.ok || i < 0 || i >= d->n)
    return FALSE;
  *x_before = isfinite (d->before[i]) ? x_of (&l, d->before[i]) : NAN;
  *x_after = isfinite (d->after[i]) ? x_of (&l, d->after[i]) : NAN;
  *y = round (l.top + (i + 0.5) * l.row_h);
  return TRUE;
}

static void
dot (cairo_t *cr, double x, double y, const double rgb[3])
{
  if (!isfinite (x))
    return;
  sc_chart_set_rgb (cr, rgb);
  cairo_arc (cr, x, y, DOT_R, 0, 2 * G_PI);
  cairo_fill (cr);
}

static void
draw_legend (cairo_t *cr, const ScChartStyle *style, const ScDumbbellData *d, const Layout *l,
             const double before[3], const double after[3])
{
  double x = l->px;
  const char *names[2] = { before_name (d), after_name (d) };
  const double *colours[2] = { before, after };
  sc_chart_font (cr, SC_CHART_SMALL_FONT, FALSE);
  for (int k = 0; k < 2; k++)
    {
      dot (cr, x + DOT_R, l->legend_y, colours[k]);
      x += 2 * DOT_R + 5;
      sc_chart_set_rgb (cr, style->fg);
      sc_chart_text (cr, names[k], x, l->legend_y, SC_ALIGN_START, SC_ALIGN_CENTER);
      x += sc_chart_text_width (cr, names[k]) + 16;
    }
  if (d->noise_note != NULL)
    {
      dot (cr, x + DOT_R, l->legend_y, style->muted);
      x += 2 * DOT_R + 5;
      sc_chart_set_rgb (cr, style->muted);
      sc_chart_text (cr, d->noise_note, x, l->legend_y, SC_ALIGN_START, SC_ALIGN_CENTER);
    }
}

void
sc_chart_dumbbell_draw (cairo_t *cr, double width, double height, const ScDumbbellData *d)
{
  ScChartStyle style;
  Layout l;
  char buf[128];
  double before[3], after[3], flagged[3], band[3];

  sc_chart_style_init (&style, d != NULL && d->dark);
  sc_chart_fill_background (cr, width, height, &style);
  layout_compute (width, height, d, &l);
  if (!l.ok)
    return;
  sc_chart_dumbbell_colours (style.dark, before, after, flagged);
  sc_chart_mix (style.bg, flagged, 0.14, band);
  cairo_save (cr);

  if (d->title != NULL)
    {
      sc_chart_font (cr, SC_CHART_FONT + 1, TRUE);
      sc_chart_set_rgb (cr, style.fg);
      sc_chart_text (cr, d->title, SC_CHART_MARGIN, l.title_y, SC_ALIGN_START, SC_ALIGN_START);
    }
  draw_legend (cr, &style, d, &l, before, after);

  /* grid and axis */
  double rows_bottom = l.top + d->n * l.row_h;
  sc_chart_font (cr, SC_CHART_SMALL_FONT, FALSE);
  cairo_set_line_width (cr, 1);
  for (int k = 0; k < l.n_ticks; k++)
    {
      double x = round (x_of (&l, l.ticks[k])) + 0.5;
      sc_chart_set_rgb (cr, k == 0 ? style.muted : style.grid);
      cairo_move_to (cr, x, l.top);
      cairo_line_to (cr, x, rows_bottom);
      cairo_stroke (cr);
      sc_chart_format_tick (l.ticks[k], l.step, buf, sizeof buf);
      sc_chart_set_rgb (cr, style.muted);
      sc_chart_text (cr, buf, x, rows_bottom + 4, SC_ALIGN_CENTER, SC_ALIGN_START);
    }

  for (int i = 0; i < d->n; i++)
    {
      double xb, xa, y;
      gboolean quiet = d->noise != NULL && d->noise[i];
      gboolean flag = d->flagged != NULL && d->flagged[i] && !quiet;
      sc_chart_dumbbell_points (width, height, d, i, &xb, &xa, &y);
      if (flag)
        {
          sc_chart_set_rgb (cr, band);
          cairo_rectangle (cr, 0, l.top + i * l.row_h, width, l.row_h);
          cairo_fill (cr);
        }
      if (isfinite (xb) && isfinite (xa))
        {
          sc_chart_set_rgb (cr, flag ? flagged : style.muted);
          cairo_set_line_width (cr, flag ? 3 : 2);
          cairo_move_to (cr, xb, y);
          cairo_line_to (cr, xa, y);
          cairo_stroke (cr);
        }
      /* a change within noise is drawn grey: not a finding */
      dot (cr, xb, y, quiet ? style.muted : before);
      dot (cr, xa, y, flag ? flagged : quiet ? style.muted : after);

      sc_chart_font (cr, SC_CHART_SMALL_FONT, flag);
      sc_chart_set_rgb (cr, flag ? flagged : quiet ? style.muted : style.fg);
      label_of (d, i, buf, sizeof buf);
      sc_chart_text (cr, buf, l.px - DOT_R - 10, y, SC_ALIGN_END, SC_ALIGN_CENTER);
      change_text (d, i, buf, sizeof buf);
      sc_chart_set_rgb (cr, flag ? flagged : style.muted);
      sc_chart_text (cr, buf, l.change_x, y, SC_ALIGN_END, SC_ALIGN_CENTER);
    }
  cairo_restore (cr);
}

void
sc_chart_draw_dumbbell (cairo_t *cr, double width, double height, gconstpointer data)
{
  sc_chart_dumbbell_draw (cr, width, height, data);
}
