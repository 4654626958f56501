/* sc-chart-style.c: colours, text and ticks shared by all charts. */
#include "sc-chart-style.h"

#include <math.h>
#include <string.h>

static void
set3 (double out[3], double r, double g, double b)
{
  out[0] = r;
  out[1] = g;
  out[2] = b;
}

/* Backgrounds match libadwaita's view colours (#ffffff / #1e1e1e), so the
 * widgets blend with the window and exported images look the same. */
void
sc_chart_style_init (ScChartStyle *style, gboolean dark)
{
  memset (style, 0, sizeof *style);
  style->dark = dark;
  if (dark)
    {
      set3 (style->bg, 0x1e / 255.0, 0x1e / 255.0, 0x1e / 255.0);
      set3 (style->fg, 0.93, 0.93, 0.93);
      set3 (style->muted, 0.70, 0.70, 0.70);
      set3 (style->grid, 0.27, 0.27, 0.27);
      set3 (style->neutral, 0.36, 0.36, 0.36);
      set3 (style->track, 0.24, 0.24, 0.24);
      set3 (style->dim, 0.17, 0.17, 0.17);
      set3 (style->strike, 0.92, 0.92, 0.92);
    }
  else
    {
      set3 (style->bg, 1.0, 1.0, 1.0);
      set3 (style->fg, 0.13, 0.13, 0.13);
      set3 (style->muted, 0.36, 0.36, 0.36);
      set3 (style->grid, 0.88, 0.88, 0.88);
      set3 (style->neutral, 0.86, 0.86, 0.86);
      set3 (style->track, 0.91, 0.91, 0.91);
      set3 (style->dim, 0.72, 0.72, 0.72);
      set3 (style->strike, 0.10, 0.10, 0.10);
    }
}

void
sc_chart_set_rgb (cairo_t *cr, const double rgb[3])
{
  cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
}

void
sc_chart_fill_background (cairo_t *cr, double width, double height, const ScChartStyle *style)
{
  cairo_save (cr);
  sc_chart_set_rgb (cr, style->bg);
  cairo_rectangle (cr, 0, 0, width, height);
  cairo_fill (cr);
  cairo_restore (cr);
}

void
sc_chart_font (cairo_t *cr, double size, gboolean bold)
{
  cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                          bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, size);
}

double
sc_chart_text_width (cairo_t *cr, const char *text)
{
  cairo_text_extents_t ext;
  if (text == NULL || *text == '\0')
    return 0;
  cairo_text_extents (cr, text, &ext);
  return ext.x_advance;
}

double
sc_chart_line_height (cairo_t *cr)
{
  cairo_font_extents_t fe;
  cairo_font_extents (cr, &fe);
  return fe.ascent + fe.descent;
}

void
sc_chart_text (cairo_t *cr, const char *text, double x, double y, ScAlign halign, ScAlign valign)
{
  cairo_font_extents_t fe;
  double w, bx, by;

  if (text == NULL || *text == '\0')
    return;
  cairo_font_extents (cr, &fe);
  w = sc_chart_text_width (cr, text);
  bx = halign == SC_ALIGN_START ? x : halign == SC_ALIGN_CENTER ? x - w / 2 : x - w;
  /* Cairo's fonts often report a descent larger than the glyphs use; centring
   * on the cap height reads better than on ascent + descent. */
  if (valign == SC_ALIGN_START)
    by = y + fe.ascent;
  else if (valign == SC_ALIGN_CENTER)
    by = y + fe.ascent * 0.36;
  else
    by = y - fe.descent;
  cairo_move_to (cr, bx, by);
  cairo_show_text (cr, text);
  cairo_new_path (cr);
}

void
sc_chart_text_up (cairo_t *cr, const char *text, double x, double y, ScAlign halign, ScAlign valign)
{
  cairo_save (cr);
  cairo_translate (cr, x, y);
  cairo_rotate (cr, -G_PI / 2);
  sc_chart_text (cr, text, 0, 0, halign, valign);
  cairo_restore (cr);
}

cairo_t *
sc_chart_measure_context (void)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_A8, 1, 1);
  cairo_t *cr = cairo_create (surface);
  cairo_surface_destroy (surface);
  return cr;
}

int
sc_chart_nice_ticks (double lo, double hi, int max_ticks, double *ticks, double *step)
{
  static const double mult[] = { 1, 2, 2.5, 5, 10 };
  double span, raw, mag, s = 1, first;
  int n = 0;

  if (max_ticks < 2 || !isfinite (lo) || !isfinite (hi) || hi <= lo)
    {
      if (step != NULL)
        *step = 1;
      return 0;
    }
  span = hi - lo;
  raw = span / (max_ticks - 1);
  mag = pow (10, floor (log10 (raw)));
  for (guint i = 0; i < G_N_ELEMENTS (mult); i++)
    {
      s = mult[i] * mag;
      if (s >= raw * (1 - 1e-9))
        break;
    }
  first = ceil (lo / s - 1e-9) * s;
  for (double v = first; v <= hi + s * 1e-9 && n < max_ticks; v = first + n * s)
    ticks[n++] = fabs (v) < s * 1e-9 ? 0.0 : v;
  if (step != NULL)
    *step = s;
  return n;
}

void
sc_chart_format_tick (double v, double step, char *buf, gsize size)
{
  /* Huge or tiny scales: fixed notation would run to dozens of digits. */
  if (step >= 1e5 || (step > 0 && step < 1e-4))
    {
      sc_chart_format_value (v, buf, size);
      return;
    }
  int decimals = 0;
  if (step > 0 && step < 1)
    decimals = (int) ceil (-log10 (step) - 1e-9);
  /* 2.5-steps need one decimal more than their magnitude. */
  if (step > 0 && fabs (step * pow (10, decimals) - round (step * pow (10, decimals))) > 1e-6)
    decimals++;
  decimals = CLAMP (decimals, 0, 6);
  g_snprintf (buf, size, "%.*f", decimals, v + 0.0);
}

void
sc_chart_format_value (double v, char *buf, gsize size)
{
  if (isnan (v))
    {
      g_strlcpy (buf, "–", size);
      return;
    }
  if (v == 0)
    {
      g_strlcpy (buf, "0", size);
      return;
    }
  if (fabs (v) >= 1e5 || fabs (v) < 1e-3)
    {
      g_snprintf (buf, size, "%.2e", v);
      return;
    }
  /* 3 significant digits, without trailing zeros after the point. */
  int decimals = MAX (0, 2 - (int) floor (log10 (fabs (v))));
  g_snprintf (buf, size, "%.*f", decimals, v);
  if (decimals > 0 && strchr (buf, 'e') == NULL)
    {
      char *end = buf + strlen (buf) - 1;
      while (end > buf && *end == '0')
        *end-- = '\0';
      if (end > buf && (*end == '.' || *end == ','))
        *end = '\0';
    }
}

void
sc_chart_mix (const double a[3], const double b[3], double t, double out[3])
{
  for (int k = 0; k < 3; k++)
    out[k] = a[k] * (1 - t) + b[k] * t;
}

void
sc_chart_copy_label (const char *label, char *buf, gsize size)
{
  if (label == NULL || !g_utf8_validate (label, -1, NULL))
    {
      g_strlcpy (buf, label != NULL ? "?" : "", size);
      return;
    }
  if (g_utf8_strlen (label, -1) <= SC_CHART_LABEL_MAX)
    {
      g_strlcpy (buf, label, size);
      return;
    }
  g_autofree char *head = g_utf8_substring (label, 0, SC_CHART_LABEL_MAX - 1);
  g_snprintf (buf, size, "%s…", head);
}
