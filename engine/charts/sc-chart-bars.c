/* sc-chart-bars.c: experts kept per MoE layer. Each layer's bar is drawn
 * against a track of its full expert count, so layers of any size compare
 * as shares; encoder and decoder layers differ in colour, are set apart by
 * a gap and captioned under the axis. */
#include "sc-chart-bars.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "sc-chart-output.h"
#include "sc-chart-palette.h"
#include "sc-chart-style.h"

typedef struct
{
  double px, py, pw, ph; /* plot area: 0..100% of each layer's experts */
  double slot, bar_w, group_gap;
  double title_y, key_y, count_h, label_h;
  int n_enc;          /* encoder bars (first ones); 0 = one group */
  gboolean labels_up; /* layer labels rotated to fit */
  int label_step;     /* label every label_step-th bar */
  gboolean counts;    /* "kept/max" fits above the bars */
  double global_max;
  gboolean ok;
} Layout;

static const char *
encoder_caption (void)
{
  /* TRANSLATORS: group of bars for the encoder's MoE layers */
  return _ ("encoder");
}

static const char *
decoder_caption (void)
{
  /* TRANSLATORS: group of bars for the decoder's MoE layers */
  return _ ("decoder");
}

static int
encoder_count (const ScBarsData *d)
{
  int n = 0;
  if (d->n_encoder > 0)
    return MIN (d->n_encoder, d->n);
  /* Inferred from labels such as "enc 1" .. "dec 3". */
  while (d->labels != NULL && n < d->n && d->labels[n] != NULL &&
         g_ascii_strncasecmp (d->labels[n], "enc", 3) == 0)
    n++;
  for (int i = n; i < d->n; i++)
    if (d->labels == NULL || d->labels[i] == NULL ||
        g_ascii_strncasecmp (d->labels[i], "dec", 3) != 0)
      return 0;
  return n < d->n ? n : 0;
}

static double
bar_max (const ScBarsData *d, const Layout *l, int i)
{
  double m = d->max_values != NULL ? d->max_values[i] : l->global_max;
  return m > 0 && isfinite (m) ? m : 0;
}

static void
bar_label (const ScBarsData *d, int i, char *buf, gsize size)
{
  if (d->labels != NULL && d->labels[i] != NULL)
    sc_chart_copy_label (d->labels[i], buf, size);
  else
    g_snprintf (buf, size, "%d", i);
}

static void
count_text (const ScBarsData *d, const Layout *l, int i, char *buf, gsize size)
{
  double v = isfinite (d->values[i]) ? d->values[i] : 0, max = bar_max (d, l, i);
  if (d->percent)
    g_snprintf (buf, size, "%.4g%%", max > 0 ? 100 * v / max : 0.0);
  else
    g_snprintf (buf, size, "%g/%g", v, max);
}

static double
bar_x (const Layout *l, int i)
{
  double gap = (l->n_enc > 0 && i >= l->n_enc) ? l->group_gap : 0;
  return l->px + gap + (i + 0.5) * l->slot - l->bar_w / 2;
}

static void
layout_compute (double width, double height, const ScBarsData *d, Layout *l)
{
  cairo_t *mcr;
  double top = SC_CHART_MARGIN, left, bottom, tick_w, label_w = 0, count_w = 0;
  char buf[128];

  memset (l, 0, sizeof *l);
  if (d == NULL || d->n <= 0 || d->values == NULL)
    return;
  l->n_enc = encoder_count (d);
  l->global_max = 0;
  for (int i = 0; i < d->n; i++)
    if (isfinite (d->values[i]))
      l->global_max = MAX (l->global_max, d->values[i]);

  mcr = sc_chart_measure_context ();
  sc_chart_font (mcr, SC_CHART_SMALL_FONT, FALSE);
  tick_w = sc_chart_text_width (mcr, "100%");
  left = ceil (SC_CHART_MARGIN + tick_w + 8);
  l->px = left;
  l->pw = floor (width - left - SC_CHART_MARGIN);

  /* Title on the left, the encoder/decoder key on the right of the same
   * line, or on a line of its own when both do not fit. */
  if (d->title != NULL || l->n_enc > 0)
    {
      double title_w, key_w;
      sc_chart_font (mcr, SC_CHART_FONT + 1, TRUE);
      title_w = sc_chart_text_width (mcr, d->title);
      l->title_y = top;
      l->key_y = top + 8;
      top += sc_chart_line_height (mcr) + 10;
      sc_chart_font (mcr, SC_CHART_SMALL_FONT, FALSE);
      key_w = 2 * (12 + 6) + 16 + sc_chart_text_width (mcr, encoder_caption ()) +
              sc_chart_text_width (mcr, decoder_caption ());
      if (l->n_enc > 0 && d->title != NULL && title_w + 24 + key_w > l->pw)
        {
          l->key_y = top + 4;
          top += sc_chart_line_height (mcr) + 10;
        }
    }
  sc_chart_font (mcr, SC_CHART_SMALL_FONT, FALSE);
  l->label_h = sc_chart_line_height (mcr);
  l->count_h = l->label_h + 4;
  for (int i = 0; i < d->n; i++)
    {
      bar_label (d, i, buf, sizeof buf);
      label_w = MAX (label_w, sc_chart_text_width (mcr, buf));
      count_text (d, l, i, buf, sizeof buf);
      count_w = MAX (count_w, sc_chart_text_width (mcr, buf));
    }
  if (l->pw < d->n * 2)
    {
      cairo_destroy (mcr);
      return;
    }
  l->group_gap = l->n_enc > 0 ? MIN (24.0, l->pw / (d->n + 1) * 0.6) : 0;
  l->slot = (l->pw - l->group_gap) / d->n;
  l->bar_w = MAX (1.0, MIN (l->slot * 0.7, 56.0));
  l->labels_up = label_w + 6 > l->slot;
  /* Upright labels still need a line's width each: thin them out. */
  l->label_step = 1;
  while (l->labels_up && l->label_step < d->n && l->label_step * l->slot < l->label_h + 2)
    l->label_step *= 2;
  l->counts = count_w + 4 <= l->slot;

  bottom = SC_CHART_MARGIN + 6 + (l->labels_up ? label_w : l->label_h);
  if (l->n_enc > 0)
    {
      sc_chart_font (mcr, SC_CHART_FONT, FALSE);
      bottom += sc_chart_line_height (mcr) + 10;
    }
  l->py = ceil (top + (l->counts ? l->count_h : 0));
  l->ph = floor (height - l->py - bottom);
  l->ok = l->ph >= 10;
  cairo_destroy (mcr);
}

gboolean
sc_chart_bars_bar_rect (double width, double height, const ScBarsData *d, int i, double *x,
                        double *y, double *w, double *h)
{
  Layout l;
  double max, frac;

  layout_compute (width, height, d, &l);
  if (!l.ok || i < 0 || i >= d->n)
    return FALSE;
  max = bar_max (d, &l, i);
  frac = max > 0 && isfinite (d->values[i]) ? CLAMP (d->values[i] / max, 0.0, 1.0) : 0;
  *x = bar_x (&l, i);
  *w = l.bar_w;
  *h = frac * l.ph;
  *y = l.py + l.ph - *h;
  return TRUE;
}

static void
draw_group_key (cairo_t *cr, const ScChartStyle *style, double right, double y)
{
  /* Right-aligned "■ encoder  ■ decoder" on the title line. */
  const char *names[2] = { encoder_caption (), decoder_caption () };
  double x, rgb[3], key_w;
  sc_chart_font (cr, SC_CHART_SMALL_FONT, FALSE);
  key_w =
      2 * (12 + 6) + 16 + sc_chart_text_width (cr, names[0]) + sc_chart_text_width (cr, names[1]);
  /* Never past the left edge in very narrow charts. */
  x = MAX (right, key_w + 2);
  for (int g = 1; g >= 0; g--)
    {
      x -= sc_chart_text_width (cr, names[g]);
      sc_chart_set_rgb (cr, style->fg);
      sc_chart_text (cr, names[g], x, y, SC_ALIGN_START, SC_ALIGN_CENTER);
      x -= 6 + 12;
      sc_chart_series_colour (g, style->dark, rgb);
      sc_chart_set_rgb (cr, rgb);
      cairo_rectangle (cr, x, round (y) - 6, 12, 12);
      cairo_fill (cr);
      x -= 16;
    }
}

void
sc_chart_bars_draw (cairo_t *cr, double width, double height, const ScBarsData *d)
{
  ScChartStyle style;
  Layout l;
  char buf[128];

  sc_chart_style_init (&style, d != NULL && d->dark);
  sc_chart_fill_background (cr, width, height, &style);
  layout_compute (width, height, d, &l);
  if (!l.ok)
    return;
  cairo_save (cr);

  if (d->title != NULL)
    {
      sc_chart_font (cr, SC_CHART_FONT + 1, TRUE);
      sc_chart_set_rgb (cr, style.fg);
      sc_chart_text (cr, d->title, l.px, l.title_y, SC_ALIGN_START, SC_ALIGN_START);
    }
  if (l.n_enc > 0)
    draw_group_key (cr, &style, l.px + l.pw, l.key_y);

  /* Share axis: 0, 25, 50, 75, 100 % of the layer's experts. */
  sc_chart_font (cr, SC_CHART_SMALL_FONT, FALSE);
  cairo_set_line_width (cr, 1);
  for (int k = 0; k <= 4; k++)
    {
      double y = round (l.py + l.ph - k / 4.0 * l.ph) + 0.5;
      sc_chart_set_rgb (cr, k == 0 ? style.muted : style.grid);
      cairo_move_to (cr, l.px, y);
      cairo_line_to (cr, l.px + l.pw, y);
      cairo_stroke (cr);
      g_snprintf (buf, sizeof buf, "%d%%", k * 25);
      sc_chart_set_rgb (cr, style.fg);
      sc_chart_text (cr, buf, l.px - 6, y, SC_ALIGN_END, SC_ALIGN_CENTER);
    }

  for (int i = 0; i < d->n; i++)
    {
      double x, y, w, h, rgb[3], cx;
      sc_chart_bars_bar_rect (width, height, d, i, &x, &y, &w, &h);
      cx = x + w / 2;
      sc_chart_set_rgb (cr, style.track);
      cairo_rectangle (cr, x, l.py, w, l.ph - h);
      cairo_fill (cr);
      sc_chart_series_colour (l.n_enc > 0 && i >= l.n_enc ? 1 : 0, style.dark, rgb);
      sc_chart_set_rgb (cr, rgb);
      cairo_rectangle (cr, x, y, w, h);
      cairo_fill (cr);

      sc_chart_set_rgb (cr, style.fg);
      if (l.counts)
        {
          count_text (d, &l, i, buf, sizeof buf);
          sc_chart_text (cr, buf, cx, l.py - 3, SC_ALIGN_CENTER, SC_ALIGN_END);
        }
      if (i % l.label_step != 0)
        continue;
      bar_label (d, i, buf, sizeof buf);
      if (l.labels_up)
        sc_chart_text_up (cr, buf, cx, l.py + l.ph + 6, SC_ALIGN_END, SC_ALIGN_CENTER);
      else
        sc_chart_text (cr, buf, cx, l.py + l.ph + 6, SC_ALIGN_CENTER, SC_ALIGN_START);
    }

  /* Group captions under the labels, with a bracket over each group. */
  if (l.n_enc > 0)
    {
      double cap_y = height - SC_CHART_MARGIN;
      int first[2] = { 0, l.n_enc }, last[2] = { l.n_enc - 1, d->n - 1 };
      sc_chart_font (cr, SC_CHART_FONT, FALSE);
      for (int g = 0; g < 2; g++)
        {
          double x0 = bar_x (&l, first[g]), x1 = bar_x (&l, last[g]) + l.bar_w;
          double by = round (cap_y - sc_chart_line_height (cr) - 4) + 0.5;
          sc_chart_set_rgb (cr, style.muted);
          cairo_move_to (cr, x0, by - 3);
          cairo_line_to (cr, x0, by);
          cairo_line_to (cr, x1, by);
          cairo_line_to (cr, x1, by - 3);
          cairo_stroke (cr);
          /* The caption only where it fits under its group, so the two never
           * run together; colours and the key still tell the groups apart. */
          const char *caption = g == 0 ? encoder_caption () : decoder_caption ();
          if (sc_chart_text_width (cr, caption) <= x1 - x0 + l.group_gap - 4)
            sc_chart_text (cr, caption, (x0 + x1) / 2, cap_y, SC_ALIGN_CENTER, SC_ALIGN_END);
        }
    }
  cairo_restore (cr);
}

void
sc_chart_draw_bars (cairo_t *cr, double width, double height, gconstpointer data)
{
  sc_chart_bars_draw (cr, width, height, data);
}
