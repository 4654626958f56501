/* sc-chart-scale.c: colour scale, cells and colour legend. */
#include "sc-chart-scale.h"

#include <glib/gi18n-lib.h>
#include <math.h>

#include "sc-chart-palette.h"

#define BAR_WIDTH 14.0
#define TICK_GAP 6.0
#define SWATCH 12.0
#define SWATCH_ROW 20.0
#define MAX_TICKS 7

void
sc_chart_scale_init (ScColourScale *scale, const float *values, gsize n, double vmin, double vmax,
                     const char *title)
{
  scale->title = title;
  scale->has_missing = FALSE;
  scale->has_pruned = FALSE;
  if (!(vmin < vmax) || !isfinite (vmin) || !isfinite (vmax))
    {
      vmin = INFINITY;
      vmax = -INFINITY;
      for (gsize i = 0; values != NULL && i < n; i++)
        {
          if (!isfinite (values[i]))
            continue;
          vmin = MIN (vmin, values[i]);
          vmax = MAX (vmax, values[i]);
        }
      if (!isfinite (vmin))
        {
          vmin = 0;
          vmax = 1;
        }
    }
  /* A flat scale would divide by zero: widen it so all cells take the low end. */
  if (!(vmax > vmin))
    vmax = vmin + (vmin != 0 ? fabs (vmin) : 1.0);
  scale->vmin = vmin;
  scale->vmax = vmax;
}

void
sc_chart_scale_colour (const ScColourScale *scale, const ScChartStyle *style, double v,
                       double rgb[3])
{
  if (isnan (v))
    {
      for (int k = 0; k < 3; k++)
        rgb[k] = style->neutral[k];
      return;
    }
  sc_chart_palette ((v - scale->vmin) / (scale->vmax - scale->vmin), rgb);
}

double
sc_chart_strike_width (double w, double h)
{
  return MIN (w, h) >= 14 ? 2.0 : 1.25;
}

void
sc_chart_cell_draw (cairo_t *cr, const ScChartStyle *style, double x, double y, double w, double h,
                    const double rgb[3], gboolean pruned)
{
  double c[3];

  if (w <= 0 || h <= 0)
    return;
  cairo_save (cr);
  /* Pruned: 70% of the way to the style's dim grey, so the value still
   * shows faintly but the cell reads as switched off. */
  sc_chart_mix (rgb, style->dim, pruned ? 0.7 : 0.0, c);
  sc_chart_set_rgb (cr, c);
  cairo_rectangle (cr, x, y, w, h);
  cairo_fill (cr);
  if (pruned)
    {
      /* Bottom-left to top-right, clipped to the cell. */
      cairo_rectangle (cr, x, y, w, h);
      cairo_clip (cr);
      sc_chart_set_rgb (cr, style->strike);
      cairo_set_line_width (cr, sc_chart_strike_width (w, h));
      cairo_set_line_cap (cr, CAIRO_LINE_CAP_BUTT);
      cairo_move_to (cr, x, y + h);
      cairo_line_to (cr, x + w, y);
      cairo_stroke (cr);
    }
  cairo_restore (cr);
}

/* Ticks of the legend: vmin and vmax themselves, and nice values between
 * them that leave room for their labels. Returns the count. */
static int
legend_ticks (const ScColourScale *scale, double bar_h, double label_h, double *ticks, double *step)
{
  double nice[MAX_TICKS];
  int max_nice = CLAMP ((int) (bar_h / (2.5 * label_h)) + 1, 2, MAX_TICKS);
  int n_nice = sc_chart_nice_ticks (scale->vmin, scale->vmax, max_nice, nice, step);
  double per_unit = bar_h / (scale->vmax - scale->vmin);
  int n = 0;

  ticks[n++] = scale->vmin;
  ticks[n++] = scale->vmax;
  for (int i = 0; i < n_nice; i++)
    {
      double dlo = (nice[i] - scale->vmin) * per_unit, dhi = (scale->vmax - nice[i]) * per_unit;
      if (dlo >= 1.3 * label_h && dhi >= 1.3 * label_h)
        ticks[n++] = nice[i];
    }
  return n;
}

static void
legend_label (const ScColourScale *scale, int i, double v, double step, char *buf, gsize size)
{
  /* The ends carry the exact scale; the ticks between are round numbers. */
  if (i < 2 && fabs (v) < (scale->vmax - scale->vmin) * 1e-3)
    g_strlcpy (buf, "0", size);
  else if (i < 2)
    sc_chart_format_value (v, buf, size);
  else
    sc_chart_format_tick (v, step, buf, size);
}

static const char *
missing_label (void)
{
  /* TRANSLATORS: legend swatch of heatmap cells without statistics */
  return _ ("no data");
}

static const char *
pruned_label (void)
{
  /* TRANSLATORS: legend swatch of pruned experts */
  return _ ("pruned");
}

/* The legend title as drawn: cut with an ellipsis to TITLE_MAX_W pixels so
 * a long title cannot squeeze the chart (the widget's tooltip or the page
 * around it carries the full text). */
#define TITLE_MAX_W 180.0

static char *
fitted_title (cairo_t *cr, const char *title)
{
  glong n;
  if (title == NULL || !g_utf8_validate (title, -1, NULL))
    return g_strdup ("");
  if (sc_chart_text_width (cr, title) <= TITLE_MAX_W)
    return g_strdup (title);
  for (n = g_utf8_strlen (title, -1) - 1; n > 1; n--)
    {
      g_autofree char *head = g_utf8_substring (title, 0, n);
      char *text = g_strconcat (head, "…", NULL);
      if (sc_chart_text_width (cr, text) <= TITLE_MAX_W)
        return text;
      g_free (text);
    }
  return g_strdup ("…");
}

double
sc_chart_legend_width (cairo_t *mcr, const ScColourScale *scale)
{
  double ticks[MAX_TICKS + 2], step, w = 0;
  char buf[64];
  int n;

  sc_chart_font (mcr, SC_CHART_SMALL_FONT, FALSE);
  /* Widest labels over any bar height: measure the densest tick set. */
  n = legend_ticks (scale, 1e6, 1, ticks, &step);
  for (int i = 0; i < n; i++)
    {
      legend_label (scale, i, ticks[i], step, buf, sizeof buf);
      w = MAX (w, sc_chart_text_width (mcr, buf));
    }
  w += BAR_WIDTH + TICK_GAP;
  if (scale->has_missing)
    w = MAX (w, SWATCH + TICK_GAP + sc_chart_text_width (mcr, missing_label ()));
  if (scale->has_pruned)
    w = MAX (w, SWATCH + TICK_GAP + sc_chart_text_width (mcr, pruned_label ()));
  sc_chart_font (mcr, SC_CHART_FONT, TRUE);
  {
    g_autofree char *title = fitted_title (mcr, scale->title);
    w = MAX (w, sc_chart_text_width (mcr, title));
  }
  return ceil (w);
}

void
sc_chart_legend_draw (cairo_t *cr, const ScChartStyle *style, const ScColourScale *scale, double x,
                      double y, double w, double h)
{
  double bar_top = y, bar_bottom = y + h, label_h, ticks[MAX_TICKS + 2], step;
  char buf[64];
  int n;

  cairo_save (cr);
  if (scale->title != NULL && *scale->title != '\0')
    {
      sc_chart_font (cr, SC_CHART_FONT, TRUE);
      sc_chart_set_rgb (cr, style->fg);
      g_autofree char *title = fitted_title (cr, scale->title);
      sc_chart_text (cr, title, x, y, SC_ALIGN_START, SC_ALIGN_START);
      bar_top += sc_chart_line_height (cr) + 8;
    }
  sc_chart_font (cr, SC_CHART_SMALL_FONT, FALSE);
  label_h = sc_chart_line_height (cr);
  /* Swatches sit under the bar. */
  if (scale->has_missing)
    bar_bottom -= SWATCH_ROW;
  if (scale->has_pruned)
    bar_bottom -= SWATCH_ROW;
  if (scale->has_missing || scale->has_pruned)
    bar_bottom -= 6;
  /* Half a label above and below the bar for the end labels. */
  bar_top += label_h / 2;
  bar_bottom -= label_h / 2;

  if (bar_bottom - bar_top >= 2 * label_h)
    {
      /* A gradient through 65 samples of the palette (vmax at the top):
       * smooth on screen and a single element in SVG. */
      cairo_pattern_t *ramp = cairo_pattern_create_linear (0, bar_bottom, 0, bar_top);
      for (int i = 0; i <= 64; i++)
        {
          double rgb[3];
          sc_chart_palette (i / 64.0, rgb);
          cairo_pattern_add_color_stop_rgb (ramp, i / 64.0, rgb[0], rgb[1], rgb[2]);
        }
      cairo_set_source (cr, ramp);
      cairo_rectangle (cr, x, bar_top, BAR_WIDTH, bar_bottom - bar_top);
      cairo_fill (cr);
      cairo_pattern_destroy (ramp);
      n = legend_ticks (scale, bar_bottom - bar_top, label_h, ticks, &step);
      for (int i = 0; i < n; i++)
        {
          double ty = bar_bottom - (ticks[i] - scale->vmin) / (scale->vmax - scale->vmin) *
                                       (bar_bottom - bar_top);
          sc_chart_set_rgb (cr, style->muted);
          cairo_set_line_width (cr, 1);
          cairo_move_to (cr, x + BAR_WIDTH, round (ty) + 0.5);
          cairo_line_to (cr, x + BAR_WIDTH + 3, round (ty) + 0.5);
          cairo_stroke (cr);
          legend_label (scale, i, ticks[i], step, buf, sizeof buf);
          sc_chart_set_rgb (cr, style->fg);
          sc_chart_text (cr, buf, x + BAR_WIDTH + TICK_GAP, ty, SC_ALIGN_START, SC_ALIGN_CENTER);
        }
    }

  {
    double sy = bar_bottom + label_h / 2 + 6, mid[3];
    sc_chart_palette (0.5, mid);
    if (scale->has_missing)
      {
        sc_chart_cell_draw (cr, style, x, sy + (SWATCH_ROW - SWATCH) / 2, SWATCH, SWATCH,
                            style->neutral, FALSE);
        sc_chart_set_rgb (cr, style->fg);
        sc_chart_text (cr, missing_label (), x + SWATCH + TICK_GAP, sy + SWATCH_ROW / 2,
                       SC_ALIGN_START, SC_ALIGN_CENTER);
        sy += SWATCH_ROW;
      }
    if (scale->has_pruned)
      {
        sc_chart_cell_draw (cr, style, x, sy + (SWATCH_ROW - SWATCH) / 2, SWATCH, SWATCH, mid,
                            TRUE);
        sc_chart_set_rgb (cr, style->fg);
        sc_chart_text (cr, pruned_label (), x + SWATCH + TICK_GAP, sy + SWATCH_ROW / 2,
                       SC_ALIGN_START, SC_ALIGN_CENTER);
      }
  }
  cairo_restore (cr);
}
