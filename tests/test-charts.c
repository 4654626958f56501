/* test-charts.c: the Cairo charts, checked on the pixels they draw for known
 * inputs (colours of cells, pruned cells, legends, curves, bars), their hit
 * testing, and PNG/SVG output. Each test also leaves its image in
 * G_TEST_BUILDDIR/chart-*.png for a look.
 *
 * Why one file of about 1,800 lines: it tests one library (engine/charts),
 * chart by chart, with one set of pixel helpers; each case is short. */
#include <cairo.h>
#include <glib.h>
#ifdef HAVE_FONTCONFIG
#include <fontconfig/fontconfig.h>
#endif
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "sc-chart-bars.h"
#include "sc-chart-curve.h"
#include "sc-chart-dumbbell.h"
#include "sc-chart-style.h"
#include "sc-chart-heatmap.h"
#include "sc-chart-matrix.h"
#include "sc-chart-output.h"
#include "sc-chart-palette.h"
#include "sc-chart-plot.h"
#include "sc-chart-tsv.h"

/* Colour difference tolerated between a drawn pixel and the colour asked for:
 * 8-bit rounding plus a little antialiasing. */
#define TOL (3.0 / 255)

static cairo_surface_t *
render (ScChartDrawFunc draw, gconstpointer data, int width, int height)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  cairo_t *cr = cairo_create (surface);
  draw (cr, width, height, data);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  return surface;
}

/* Keeps the image for a visual check. */
static void
save (cairo_surface_t *surface, const char *name)
{
  g_autofree char *path = g_build_filename (g_test_get_dir (G_TEST_BUILT), name, NULL);
  g_assert_cmpint (cairo_surface_write_to_png (surface, path), ==, CAIRO_STATUS_SUCCESS);
}

static void
pixel (cairo_surface_t *surface, double x, double y, double rgb[3])
{
  int ix = (int) floor (x), iy = (int) floor (y);
  g_assert_cmpint (ix, >=, 0);
  g_assert_cmpint (iy, >=, 0);
  g_assert_cmpint (ix, <, cairo_image_surface_get_width (surface));
  g_assert_cmpint (iy, <, cairo_image_surface_get_height (surface));
  const guint8 *row =
      cairo_image_surface_get_data (surface) + iy * cairo_image_surface_get_stride (surface);
  guint32 p = ((const guint32 *) row)[ix];
  /* Opaque backgrounds: premultiplied equals straight. */
  g_assert_cmpuint (p >> 24, ==, 0xff);
  rgb[0] = ((p >> 16) & 0xff) / 255.0;
  rgb[1] = ((p >> 8) & 0xff) / 255.0;
  rgb[2] = (p & 0xff) / 255.0;
}

static double
colour_dist (const double a[3], const double b[3])
{
  return MAX (fabs (a[0] - b[0]), MAX (fabs (a[1] - b[1]), fabs (a[2] - b[2])));
}

static double
chroma (const double c[3])
{
  return MAX (c[0], MAX (c[1], c[2])) - MIN (c[0], MIN (c[1], c[2]));
}

static void
assert_colour (const double got[3], const double want[3], double tol)
{
  if (colour_dist (got, want) > tol)
    g_error ("colour (%.3f %.3f %.3f), expected (%.3f %.3f %.3f)", got[0], got[1], got[2], want[0],
             want[1], want[2]);
}

/* The style's background: white, or libadwaita's dark view colour. */
static void
assert_background (const double bg[3], gboolean dark)
{
  if (dark)
    g_assert_cmpfloat (sc_chart_lightness (bg), <, 20);
  else
    g_assert_cmpfloat (sc_chart_lightness (bg), >, 97);
}

/* Text runs in a band of the image: projects "ink" (pixels far from the
 * background) onto one axis (vertical = FALSE: onto x) and counts the
 * blocks separated by at least min_gap blank lines; *widest receives the
 * largest block. Overlapping labels would merge into over-wide blocks. */
static int
ink_blocks (cairo_surface_t *s, const double bg[3], int x0, int x1, int y0, int y1,
            gboolean vertical, int min_gap, int *widest)
{
  int n0 = vertical ? y0 : x0, n1 = vertical ? y1 : x1;
  int blocks = 0, start = -1, last_ink = -1000;
  *widest = 0;
  for (int i = n0; i < n1; i++)
    {
      gboolean ink = FALSE;
      for (int j = vertical ? x0 : y0; !ink && j < (vertical ? x1 : y1); j++)
        {
          double c[3];
          pixel (s, vertical ? j : i, vertical ? i : j, c);
          ink = colour_dist (c, bg) > 0.25;
        }
      if (!ink)
        continue;
      if (i - last_ink > min_gap)
        {
          if (start >= 0)
            *widest = MAX (*widest, last_ink - start + 1);
          blocks++;
          start = i;
        }
      last_ink = i;
    }
  if (start >= 0)
    *widest = MAX (*widest, last_ink - start + 1);
  return blocks;
}

/* ---- palette ---- */

static void
test_palette (void)
{
  double prev_l = -1, lo[3], hi[3];

  /* Lightness rises strictly: the ramp reads in grey scale. */
  for (int i = 0; i <= 256; i++)
    {
      double rgb[3], l;
      sc_chart_palette (i / 256.0, rgb);
      for (int k = 0; k < 3; k++)
        {
          g_assert_cmpfloat (rgb[k], >=, 0);
          g_assert_cmpfloat (rgb[k], <=, 1);
        }
      l = sc_chart_lightness (rgb);
      g_assert_cmpfloat (l, >, prev_l);
      prev_l = l;
    }
  /* Distinguishable: every tenth of the scale is a visible step of
   * lightness, and the ends are far apart (dark purple to yellow). */
  for (int i = 0; i < 10; i++)
    {
      double a[3], b[3];
      sc_chart_palette (i / 10.0, a);
      sc_chart_palette ((i + 1) / 10.0, b);
      g_assert_cmpfloat (sc_chart_lightness (b) - sc_chart_lightness (a), >=, 5);
    }
  sc_chart_palette (0, lo);
  sc_chart_palette (1, hi);
  g_assert_cmpfloat (sc_chart_lightness (lo), <, 25);
  g_assert_cmpfloat (sc_chart_lightness (hi), >, 85);
  /* Ends: viridis' published end colours #440154 and #fde725. */
  assert_colour (lo, (double[]){ 0x44 / 255.0, 0x01 / 255.0, 0x54 / 255.0 }, 1.0 / 255);
  assert_colour (hi, (double[]){ 0xfd / 255.0, 0xe7 / 255.0, 0x25 / 255.0 }, 1.0 / 255);
  /* Out of range clamps. */
  double c[3];
  sc_chart_palette (-3, c);
  assert_colour (c, lo, 1e-9);
  sc_chart_palette (7, c);
  assert_colour (c, hi, 1e-9);
  /* Series colours differ from each other. */
  for (int i = 0; i < 7; i++)
    for (int j = i + 1; j < 7; j++)
      {
        double a[3], b[3];
        sc_chart_series_colour (i, FALSE, a);
        sc_chart_series_colour (j, FALSE, b);
        g_assert_cmpfloat (colour_dist (a, b), >, 0.15);
      }
}

/* ---- heatmap ---- */

#define HR 4
#define HC 8

typedef struct
{
  float values[HR * HC];
  guint8 pruned[HR * HC];
  const char *labels[HR];
  ScHeatmapData d;
} Heat;

/* A 4 x 8 heatmap on the scale 0..1: (1,2) at vmax, (2,5) at vmin, (0,0)
 * without data, (3,3) pruned and (3,4) the same value unpruned. */
static void
heat_init (Heat *h, gboolean dark)
{
  static const char *labels[HR] = { "enc 1", "enc 2", "dec 1", "dec 2" };
  memset (h, 0, sizeof *h);
  for (int i = 0; i < HR * HC; i++)
    h->values[i] = 0.3f + 0.4f * (float) (i % 5) / 4;
  h->values[1 * HC + 2] = 1;
  h->values[2 * HC + 5] = 0;
  h->values[0] = NAN;
  h->values[3 * HC + 3] = h->values[3 * HC + 4] = 0.9f;
  h->pruned[3 * HC + 3] = 1;
  memcpy (h->labels, labels, sizeof labels);
  h->d.rows = HR;
  h->d.cols = HC;
  h->d.values = h->values;
  h->d.pruned = h->pruned;
  h->d.row_labels = h->labels;
  h->d.vmin = 0;
  h->d.vmax = 1;
  h->d.title = "importance";
  h->d.dark = dark;
  h->d.n_encoder_rows = 2;
}

static void
cell_centre (const ScHeatmapData *d, int w, int h, int r, int c, double *x, double *y)
{
  double cx, cy, cw, ch;
  g_assert_true (sc_chart_heatmap_cell_rect (w, h, d, r, c, &cx, &cy, &cw, &ch));
  *x = cx + cw / 2;
  *y = cy + ch / 2;
}

static void
check_heatmap (gboolean dark)
{
  const int W = 640, H = 300;
  Heat h;
  double x, y, got[3], want[3], bg[3];
  double px, py, pw, ph, plain[3], dimmed[3], strike[3];
  cairo_surface_t *s;

  heat_init (&h, dark);
  s = render (sc_chart_draw_heatmap, &h.d, W, H);
  save (s, dark ? "chart-heatmap-dark.png" : "chart-heatmap.png");

  /* Background and text follow the style. */
  pixel (s, 1, 1, bg);
  if (dark)
    g_assert_cmpfloat (sc_chart_lightness (bg), <, 20);
  else
    g_assert_cmpfloat (sc_chart_lightness (bg), >, 97);

  /* vmax cell: the top of the palette; vmin: the bottom. */
  cell_centre (&h.d, W, H, 1, 2, &x, &y);
  pixel (s, x, y, got);
  sc_chart_palette (1, want);
  assert_colour (got, want, TOL);
  cell_centre (&h.d, W, H, 2, 5, &x, &y);
  pixel (s, x, y, got);
  sc_chart_palette (0, want);
  assert_colour (got, want, TOL);
  /* A value in between: its place on the scale. */
  cell_centre (&h.d, W, H, 0, 1, &x, &y);
  pixel (s, x, y, got);
  sc_chart_palette (h.values[1], want);
  assert_colour (got, want, TOL);

  /* NaN: neutral grey, distinct from the background and from every
   * palette colour. */
  cell_centre (&h.d, W, H, 0, 0, &x, &y);
  pixel (s, x, y, got);
  g_assert_cmpfloat (chroma (got), <, 0.02);
  g_assert_cmpfloat (colour_dist (got, bg), >, 0.05);

  /* Pruned vs unpruned cell of the same value: dimmed (much less saturated,
   * and darker in light mode: the 0.9 colour is a light yellow-green) away
   * from the diagonal, and the strike on the diagonal. */
  g_assert_true (sc_chart_heatmap_cell_rect (W, H, &h.d, 3, 3, &px, &py, &pw, &ph));
  g_assert_cmpfloat (pw, >=, 8);
  g_assert_cmpfloat (ph, >=, 8);
  pixel (s, px + pw * 0.2, py + ph * 0.2, dimmed);
  cell_centre (&h.d, W, H, 3, 4, &x, &y);
  pixel (s, x, y, plain);
  sc_chart_palette (0.9, want);
  assert_colour (plain, want, TOL);
  g_assert_cmpfloat (chroma (dimmed), <, 0.5 * chroma (plain));
  g_assert_cmpfloat (sc_chart_lightness (dimmed), <, sc_chart_lightness (plain));
  /* The strike: pixels along the bottom-left to top-right diagonal contrast
   * with the dimmed fill (dark on light, light on dark). */
  for (int k = 1; k <= 3; k++)
    {
      double t = k / 4.0;
      pixel (s, px + pw * t, py + ph * (1 - t), strike);
      if (dark)
        g_assert_cmpfloat (sc_chart_lightness (strike), >, sc_chart_lightness (dimmed) + 25);
      else
        g_assert_cmpfloat (sc_chart_lightness (strike), <, sc_chart_lightness (dimmed) - 25);
    }
  /* ... and the unpruned twin has no strike. */
  {
    double cx2, cy2, cw2, ch2;
    g_assert_true (sc_chart_heatmap_cell_rect (W, H, &h.d, 3, 4, &cx2, &cy2, &cw2, &ch2));
    pixel (s, cx2 + cw2 * 0.25, cy2 + ch2 * 0.75, got);
    assert_colour (got, plain, TOL);
  }

  /* The legend: its colour bar holds both ends of the palette, right of
   * the grid. */
  {
    double gx, gy, gw, gh;
    gboolean seen_lo = FALSE, seen_hi = FALSE;
    g_assert_true (sc_chart_heatmap_cell_rect (W, H, &h.d, 0, HC - 1, &gx, &gy, &gw, &gh));
    for (int lx = (int) (gx + gw + 1); lx < W; lx++)
      for (int ly = 0; ly < H; ly++)
        {
          double lo[3], hi[3];
          sc_chart_palette (0, lo);
          sc_chart_palette (1, hi);
          pixel (s, lx, ly, got);
          seen_lo |= colour_dist (got, lo) < 0.03;
          seen_hi |= colour_dist (got, hi) < 0.03;
        }
    g_assert_true (seen_lo);
    g_assert_true (seen_hi);
  }

  /* Row labels are drawn in the text colour: left of the grid some pixels
   * contrast strongly with the background. */
  {
    double gx, gy, gw, gh, contrast = 0;
    g_assert_true (sc_chart_heatmap_cell_rect (W, H, &h.d, 0, 0, &gx, &gy, &gw, &gh));
    for (int lx = 0; lx < gx - 2; lx++)
      for (int ly = (int) gy; ly < gy + gh; ly++)
        {
          pixel (s, lx, ly, got);
          contrast = MAX (contrast, fabs (sc_chart_lightness (got) - sc_chart_lightness (bg)));
        }
    g_assert_cmpfloat (contrast, >, 60);
  }
  cairo_surface_destroy (s);
}

/* Legend labels (title, values, swatch names) stack without touching. */
static void
check_legend_spacing (cairo_surface_t *s, const ScHeatmapData *d, int W, int H)
{
  double bg[3], gx, gy, gw, gh;
  int blocks, widest;
  pixel (s, 1, 1, bg);
  g_assert_true (sc_chart_heatmap_cell_rect (W, H, d, 0, d->cols - 1, &gx, &gy, &gw, &gh));
  /* Right of the colour bar (20 px gap, 14 px bar, 6 px to the labels). */
  blocks = ink_blocks (s, bg, (int) (gx + gw + 20 + 14 + 4), W, 0, H, TRUE, 1, &widest);
  g_assert_cmpint (blocks, >=, 5);
  g_assert_cmpint (widest, <=, 16);
}

static void
test_heatmap_hover (void)
{
  const int W = 640, H = 300;
  Heat h;
  double x, y, w, hh, got[3], bg[3];
  cairo_surface_t *plain, *hover;

  heat_init (&h, FALSE);
  plain = render (sc_chart_draw_heatmap, &h.d, W, H);
  check_legend_spacing (plain, &h.d, W, H);
  h.d.show_hover = TRUE;
  h.d.hover_row = 2;
  h.d.hover_col = 6;
  hover = render (sc_chart_draw_heatmap, &h.d, W, H);
  save (hover, "chart-heatmap-hover.png");
  pixel (plain, 1, 1, bg);
  g_assert_true (sc_chart_heatmap_cell_rect (W, H, &h.d, 2, 6, &x, &y, &w, &hh));
  /* The outline runs just outside the cell, in the text colour. */
  pixel (hover, x - 0.5, y + hh / 2, got);
  g_assert_cmpfloat (sc_chart_lightness (got), <, 30);
  pixel (hover, x + w / 2, y + hh + 0.5, got);
  g_assert_cmpfloat (sc_chart_lightness (got), <, 30);
  pixel (plain, x - 0.5, y + hh / 2, got);
  g_assert_cmpfloat (sc_chart_lightness (got), >, 30);
  /* The cell itself keeps its colour. */
  {
    double a[3], b[3];
    pixel (plain, x + w / 2, y + hh / 2, a);
    pixel (hover, x + w / 2, y + hh / 2, b);
    assert_colour (a, b, 1e-9);
  }
  cairo_surface_destroy (plain);
  cairo_surface_destroy (hover);
}

static void check_hits (const ScHeatmapData *d, int w, int h);

/* Named columns (languages) that do not fit side by side read upwards
 * under the grid, each a separate block of text. */
static void
test_heatmap_named_columns (void)
{
  static const char *langs[] = { "eng_Latn", "fra_Latn", "deu_Latn", "zho_Hans",
                                 "jpn_Jpan", "arb_Arab", "hin_Deva", "rus_Cyrl" };
  const int W = 460, H = 300;
  Heat h;
  cairo_surface_t *s;
  double bg[3], x, y, w, hh, got[3], want[3];
  int blocks, widest;

  heat_init (&h, FALSE);
  h.d.col_labels = langs;
  h.d.x_label = "language";
  s = render (sc_chart_draw_heatmap, &h.d, W, H);
  save (s, "chart-heatmap-languages.png");
  pixel (s, 1, 1, bg);
  check_hits (&h.d, W, H);
  cell_centre (&h.d, W, H, 1, 2, &x, &y);
  pixel (s, x, y, got);
  sc_chart_palette (1, want);
  assert_colour (got, want, TOL);
  /* Under the last row: one upright block per language, each taller than
   * a line of text (the label's length) and narrower than a cell. */
  g_assert_true (sc_chart_heatmap_cell_rect (W, H, &h.d, HR - 1, 0, &x, &y, &w, &hh));
  blocks = ink_blocks (s, bg, 0, W, (int) (y + hh + 6), (int) (y + hh + 40), FALSE, 5, &widest);
  g_assert_cmpint (blocks, ==, HC);
  g_assert_cmpint (widest, <=, 16);
  g_assert_cmpint (widest, <, w);
  {
    int tall;
    int n = ink_blocks (s, bg, (int) x, (int) (x + w), (int) (y + hh + 4), H, TRUE, 6, &tall);
    g_assert_cmpint (n, >=, 1);
    g_assert_cmpint (tall, >, 30);
  }
  cairo_surface_destroy (s);
}

static void
test_heatmap_light (void)
{
  check_heatmap (FALSE);
}

static void
test_heatmap_dark (void)
{
  check_heatmap (TRUE);
}

static void
check_hits (const ScHeatmapData *d, int w, int h)
{
  for (int r = 0; r < d->rows; r++)
    for (int c = 0; c < d->cols; c++)
      {
        double x, y;
        int hr = -1, hc = -1;
        cell_centre (d, w, h, r, c, &x, &y);
        g_assert_true (sc_chart_heatmap_hit (w, h, d, x, y, &hr, &hc));
        g_assert_cmpint (hr, ==, r);
        g_assert_cmpint (hc, ==, c);
      }
  g_assert_false (sc_chart_heatmap_hit (w, h, d, 1, 1, NULL, NULL));
  g_assert_false (sc_chart_heatmap_hit (w, h, d, w - 2, h - 2, NULL, NULL));
  g_assert_false (sc_chart_heatmap_hit (w, h, d, -5, h / 2.0, NULL, NULL));
  g_assert_false (sc_chart_heatmap_hit (w, h, d, w / 2.0, h + 5, NULL, NULL));
}

static void
test_heatmap_hit (void)
{
  Heat h;
  static const int sizes[][2] = { { 640, 300 }, { 400, 180 }, { 1300, 500 }, { 333, 777 } };

  heat_init (&h, FALSE);
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    check_hits (&h.d, sizes[i][0], sizes[i][1]);
  /* The hit-tested cell is the one drawn there: its value's colour. */
  {
    cairo_surface_t *s = render (sc_chart_draw_heatmap, &h.d, 400, 180);
    double x, y, got[3], want[3];
    int r, c;
    cell_centre (&h.d, 400, 180, 1, 2, &x, &y);
    g_assert_true (sc_chart_heatmap_hit (400, 180, &h.d, x, y, &r, &c));
    pixel (s, x, y, got);
    sc_chart_palette (h.values[r * HC + c], want);
    assert_colour (got, want, TOL);
    cairo_surface_destroy (s);
  }
  /* Found on the pixels alone: the patch of vmax colour and the patch of
   * vmin colour left of the legend hit (1,2) and (2,5). */
  {
    cairo_surface_t *s = render (sc_chart_draw_heatmap, &h.d, 640, 300);
    double gx, gy, gw, gh;
    g_assert_true (sc_chart_heatmap_cell_rect (640, 300, &h.d, 0, HC - 1, &gx, &gy, &gw, &gh));
    for (int k = 0; k < 2; k++)
      {
        double want[3], got[3], sx = 0, sy = 0;
        int n = 0, r = -1, c = -1;
        sc_chart_palette (k == 0 ? 1 : 0, want);
        for (int yy = 0; yy < 300; yy++)
          for (int xx = 0; xx < gx + gw; xx++)
            {
              pixel (s, xx, yy, got);
              if (colour_dist (got, want) < 0.02)
                {
                  sx += xx + 0.5;
                  sy += yy + 0.5;
                  n++;
                }
            }
        g_assert_cmpint (n, >, 100);
        g_assert_true (sc_chart_heatmap_hit (640, 300, &h.d, sx / n, sy / n, &r, &c));
        g_assert_cmpint (r, ==, k == 0 ? 1 : 2);
        g_assert_cmpint (c, ==, k == 0 ? 2 : 5);
      }
    cairo_surface_destroy (s);
  }

  /* Too small to draw: nothing hits, nothing crashes. */
  g_assert_false (sc_chart_heatmap_hit (20, 10, &h.d, 10, 5, NULL, NULL));
  {
    cairo_surface_t *s = render (sc_chart_draw_heatmap, &h.d, 20, 10);
    cairo_surface_destroy (s);
  }
}

/* The real size: 12 MoE layers x 128 experts in 1300 x 500. */
static void
test_heatmap_large (void)
{
  const int W = 1300, H = 500, R = 12, C = 128;
  g_autofree float *values = g_new (float, R *C);
  g_autofree guint8 *pruned = g_new0 (guint8, R * C);
  char *labels[R];
  ScHeatmapData d = { 0 };
  GRand *rand = g_rand_new_with_seed (7);
  cairo_surface_t *s;
  double x, y, w, h, got[3], want[3];

  for (int r = 0; r < R; r++)
    {
      labels[r] = g_strdup_printf ("%s %d", r < 6 ? "enc" : "dec", r < 6 ? 2 * r + 1 : 2 * r - 11);
      for (int c = 0; c < C; c++)
        {
          values[r * C + c] = (float) (g_rand_double (rand) * g_rand_double (rand) * 0.08);
          pruned[r * C + c] = values[r * C + c] < 0.01f;
        }
    }
  d.rows = R;
  d.cols = C;
  d.values = values;
  d.pruned = pruned;
  d.row_labels = (const char *const *) labels;
  d.title = "importance";
  d.n_encoder_rows = 6;
  d.vmin = d.vmax = 0; /* auto */
  s = render (sc_chart_draw_heatmap, &d, W, H);
  save (s, "chart-heatmap-128.png");

  /* Cells stay large enough to see and to point at: at least 7 px wide,
   * 25 px tall, snapped to whole pixels. */
  g_assert_true (sc_chart_heatmap_cell_rect (W, H, &d, 0, 0, &x, &y, &w, &h));
  g_assert_cmpfloat (w, >=, 7);
  g_assert_cmpfloat (h, >=, 25);
  g_assert_cmpfloat (x, ==, floor (x));
  /* Auto scale: the largest value gets the top colour. */
  {
    int best = 0;
    for (int i = 1; i < R * C; i++)
      if (values[i] > values[best])
        best = i;
    cell_centre (&d, W, H, best / C, best % C, &x, &y);
    pixel (s, x, y, got);
    sc_chart_palette (1, want);
    if (!pruned[best])
      assert_colour (got, want, TOL);
  }
  check_hits (&d, W, H);

  /* Labels thin out and never touch: under the grid, the expert numbers
   * form separate blocks no wider than one label ("124"), enough of them
   * to read the axis; left of it, one block per layer label. */
  {
    double bg[3], gx, gy, gw, gh;
    int blocks, widest;
    pixel (s, 1, 1, bg);
    g_assert_true (sc_chart_heatmap_cell_rect (W, H, &d, R - 1, 0, &gx, &gy, &gw, &gh));
    blocks = ink_blocks (s, bg, 0, W, (int) (gy + gh + 5), (int) (gy + gh + 18), FALSE, 3, &widest);
    g_assert_cmpint (blocks, >=, 16);
    g_assert_cmpint (blocks, <=, 64);
    g_assert_cmpint (widest, <=, 26);
    g_assert_true (sc_chart_heatmap_cell_rect (W, H, &d, 0, 0, &gx, &gy, &gw, &gh));
    blocks = ink_blocks (s, bg, 0, (int) gx - 3, 0, H, TRUE, 2, &widest);
    g_assert_cmpint (blocks, ==, R);
    g_assert_cmpint (widest, <=, 16);
  }
  cairo_surface_destroy (s);

  /* Squeezed into 640 x 200: every cell still drawn, labels thinned to
   * fewer rows and columns, still without touching. */
  s = render (sc_chart_draw_heatmap, &d, 640, 200);
  save (s, "chart-heatmap-128-small.png");
  check_hits (&d, 640, 200);
  {
    double bg[3], gx, gy, gw, gh;
    int blocks, widest;
    pixel (s, 1, 1, bg);
    g_assert_true (sc_chart_heatmap_cell_rect (640, 200, &d, R - 1, 0, &gx, &gy, &gw, &gh));
    blocks =
        ink_blocks (s, bg, 0, 640, (int) (gy + gh + 5), (int) (gy + gh + 18), FALSE, 3, &widest);
    g_assert_cmpint (blocks, >=, 4);
    g_assert_cmpint (widest, <=, 26);
    g_assert_true (sc_chart_heatmap_cell_rect (640, 200, &d, 0, 0, &gx, &gy, &gw, &gh));
    blocks = ink_blocks (s, bg, 0, (int) gx - 3, 0, 200, TRUE, 2, &widest);
    g_assert_cmpint (blocks, >=, 3);
    g_assert_cmpint (blocks, <, R);
    g_assert_cmpint (widest, <=, 16);
  }
  cairo_surface_destroy (s);
  for (int r = 0; r < R; r++)
    g_free (labels[r]);
  g_rand_free (rand);
}

/* ---- similarity matrix ---- */

#define MN 5

static const char *mlabels[MN] = { "eng_Latn", "fra_Latn", "deu_Latn", "zho_Hans", "jpn_Jpan" };

/* Similarities: the three Latin-script languages close to each other, the
 * two CJK ones close, little across. */
static void
matrix_values (float *v)
{
  for (int i = 0; i < MN; i++)
    for (int j = 0; j < MN; j++)
      {
        gboolean li = i < 3, lj = j < 3;
        v[i * MN + j] = i == j     ? 1.0f
                        : li == lj ? 0.7f + 0.05f * (i + j) / 2
                                   : 0.1f + 0.02f * (i + j);
      }
}

static void
check_matrix (int W, int H, gboolean dark, const char *name)
{
  static const int order[MN] = { 3, 0, 4, 1, 2 };
  float v[MN * MN];
  ScMatrixData d = { 0 };
  cairo_surface_t *s;
  double x, y, w, h, got[3], want[3], bg[3];

  matrix_values (v);
  d.n = MN;
  d.values = v;
  d.labels = mlabels;
  d.order = order;
  d.title = "shared experts";
  d.dark = dark;
  s = render (sc_chart_draw_matrix, &d, W, H);
  save (s, name);
  pixel (s, 1, 1, bg);
  assert_background (bg, dark);

  /* Drawn cell (p, q) shows values[order[p]][order[q]] on the 0..1 scale;
   * sample near a corner, clear of the number written in the middle. */
  for (int p = 0; p < MN; p++)
    for (int q = 0; q < MN; q++)
      {
        int i = -1, j = -1;
        g_assert_true (sc_chart_matrix_cell_rect (W, H, &d, p, q, &x, &y, &w, &h));
        pixel (s, x + 2.5, y + 2.5, got);
        sc_chart_palette (v[order[p] * MN + order[q]], want);
        assert_colour (got, want, TOL);
        g_assert_true (sc_chart_matrix_hit (W, H, &d, x + w / 2, y + h / 2, &i, &j));
        g_assert_cmpint (i, ==, order[p]);
        g_assert_cmpint (j, ==, order[q]);
      }
  /* Cell (0,0) is order[0] with itself: similarity 1, the top colour. */
  g_assert_true (sc_chart_matrix_cell_rect (W, H, &d, 0, 0, &x, &y, &w, &h));
  pixel (s, x + 2.5, y + 2.5, got);
  sc_chart_palette (1, want);
  assert_colour (got, want, TOL);
  g_assert_false (sc_chart_matrix_hit (W, H, &d, 1, 1, NULL, NULL));
  g_assert_false (sc_chart_matrix_hit (W, H, &d, W - 1, H - 1, NULL, NULL));

  /* Large cells carry their value as text: the cell's middle holds pixels
   * far from the fill colour. */
  g_assert_true (sc_chart_matrix_cell_rect (W, H, &d, 1, 2, &x, &y, &w, &h));
  if (w >= 40)
    {
      double far = 0;
      sc_chart_palette (v[order[1] * MN + order[2]], want);
      for (int yy = (int) (y + h / 2 - 4); yy <= y + h / 2 + 4; yy++)
        for (int xx = (int) (x + w / 2 - 12); xx <= x + w / 2 + 12; xx++)
          {
            pixel (s, xx, yy, got);
            far = MAX (far, colour_dist (got, want));
          }
      g_assert_cmpfloat (far, >, 0.5);
    }
  cairo_surface_destroy (s);
}

static void
test_matrix_hover (void)
{
  static const int order[MN] = { 3, 0, 4, 1, 2 };
  const int W = 560, H = 420;
  float v[MN * MN];
  ScMatrixData d = { 0 };
  cairo_surface_t *s;
  double x, y, w, h, got[3];

  matrix_values (v);
  d.n = MN;
  d.values = v;
  d.labels = mlabels;
  d.order = order;
  s = render (sc_chart_draw_matrix, &d, W, H);
  {
    /* Languages 4 and 1: drawn in row 2, column 3 under this order. */
    cairo_t *cr = cairo_create (s);
    sc_chart_matrix_draw_hover (cr, W, H, &d, 4, 1);
    cairo_destroy (cr);
    cairo_surface_flush (s);
  }
  g_assert_true (sc_chart_matrix_cell_rect (W, H, &d, 2, 3, &x, &y, &w, &h));
  pixel (s, x - 0.5, y + h / 2, got);
  g_assert_cmpfloat (sc_chart_lightness (got), <, 30);
  pixel (s, x + w / 2, y - 0.5, got);
  g_assert_cmpfloat (sc_chart_lightness (got), <, 30);
  /* Another cell's edge is the plain gap. */
  g_assert_true (sc_chart_matrix_cell_rect (W, H, &d, 0, 0, &x, &y, &w, &h));
  pixel (s, x + w + 0.5, y + h / 2, got);
  g_assert_cmpfloat (sc_chart_lightness (got), >, 90);
  cairo_surface_destroy (s);
}

static void
test_matrix (void)
{
  check_matrix (560, 420, FALSE, "chart-matrix.png");
  check_matrix (560, 420, TRUE, "chart-matrix-dark.png");
  check_matrix (260, 200, FALSE, "chart-matrix-small.png");
}

static void
test_matrix_cluster (void)
{
  /* Languages 0, 2, 4 share experts, and 1, 3: clustering puts each group
   * together. */
  float v[6 * 6];
  int order[6], pos[6] = { -1, -1, -1, -1, -1, -1 };
  for (int i = 0; i < 6; i++)
    for (int j = 0; j < 6; j++)
      v[i * 6 + j] = i == j ? 1.0f : (i % 2 == j % 2) ? 0.8f - 0.01f * abs (i - j) : 0.1f;
  v[5 * 6 + 0] = v[0 * 6 + 5] = 0.5f; /* 5 alone, nearest to 0 */
  sc_chart_matrix_cluster_order (6, v, order);
  for (int p = 0; p < 6; p++)
    {
      g_assert_cmpint (order[p], >=, 0);
      g_assert_cmpint (order[p], <, 6);
      pos[order[p]] = p;
    }
  /* A permutation: every language once. */
  for (int i = 0; i < 6; i++)
    g_assert_cmpint (pos[i], >=, 0);
  {
    int lo = MIN (pos[0], MIN (pos[2], pos[4])), hi = MAX (pos[0], MAX (pos[2], pos[4]));
    g_assert_cmpint (hi - lo, ==, 2);
    lo = MIN (pos[1], pos[3]);
    hi = MAX (pos[1], pos[3]);
    g_assert_cmpint (hi - lo, ==, 1);
  }
}

/* ---- quality curve ---- */

static const double cx[] = { 0, 25, 50, 75, 90 };
static const double cy_imp[] = { 40, 39, 36, 30, 22 };
static const double cy_rnd[] = { 40, 33, 25, 15, 9 };

static void
curve_init (ScCurveData *d, ScCurveSeries *series, gboolean dark, double marker)
{
  memset (d, 0, sizeof *d);
  series[0] = (ScCurveSeries){ "importance", 5, cx, cy_imp, FALSE };
  series[1] = (ScCurveSeries){ "random", 5, cx, cy_rnd, TRUE };
  d->n_series = 2;
  d->series = series;
  d->xmin = 0;
  d->xmax = 100;
  d->ymin = d->ymax = 0; /* auto */
  d->x_label = "experts pruned (%)";
  d->y_label = "chrF++";
  d->title = "Quality estimate";
  d->marker_x = marker;
  d->dark = dark;
}

static void
check_curve (gboolean dark)
{
  const int W = 640, H = 360;
  ScCurveSeries series[2];
  ScCurveData d;
  cairo_surface_t *s, *s_nomarker;
  double px, py, got[3], want[3], bg[3], fg_l;

  curve_init (&d, series, dark, 60);
  s = render (sc_chart_draw_curve, &d, W, H);
  save (s, dark ? "chart-curve-dark.png" : "chart-curve.png");
  pixel (s, 1, 1, bg);
  assert_background (bg, dark);

  /* Every point is drawn where to_pixel says, in its series' colour (the
   * first point is shared: the series drawn last covers it). */
  for (int k = 0; k < 2; k++)
    {
      sc_chart_series_colour (k, dark, want);
      for (int i = k == 0 ? 1 : 0; i < 5; i++)
        {
          sc_chart_curve_to_pixel (W, H, &d, cx[i], k == 0 ? cy_imp[i] : cy_rnd[i], &px, &py);
          g_assert_cmpfloat (px, >, 0);
          g_assert_cmpfloat (px, <, W);
          g_assert_cmpfloat (py, >, 0);
          g_assert_cmpfloat (py, <, H);
          pixel (s, px, py, got);
          assert_colour (got, want, TOL);
          /* from_pixel inverts it. */
          double bx, by;
          sc_chart_curve_from_pixel (W, H, &d, px, py, &bx, &by);
          g_assert_cmpfloat (fabs (bx - cx[i]), <, 1e-9);
          g_assert_cmpfloat (fabs (by - (k == 0 ? cy_imp[i] : cy_rnd[i])), <, 1e-9);
        }
    }
  /* Series colours differ. */
  {
    double a[3], b[3];
    sc_chart_series_colour (0, dark, a);
    sc_chart_series_colour (1, dark, b);
    g_assert_cmpfloat (colour_dist (a, b), >, 0.3);
  }
  /* Automatic y range is padded: the extreme points are inside, not on the
   * plot's edges; larger y is higher up. */
  {
    double ptop, pbot, p2;
    sc_chart_curve_to_pixel (W, H, &d, 0, 40, NULL, &ptop);
    sc_chart_curve_to_pixel (W, H, &d, 90, 9, NULL, &pbot);
    sc_chart_curve_to_pixel (W, H, &d, 90, 45, NULL, &p2);
    g_assert_cmpfloat (p2, <, ptop - 10);
    g_assert_cmpfloat (ptop, <, pbot);
  }

  /* The marker at 60: a solid line in the text colour, crossing the plot
   * where no series runs; absent when marker_x is NAN. */
  curve_init (&d, series, dark, NAN);
  s_nomarker = render (sc_chart_draw_curve, &d, W, H);
  curve_init (&d, series, dark, 60);
  {
    double text[3];
    /* Text colour: the darkest (light mode) or lightest (dark) pixel of
     * the title line. */
    fg_l = dark ? 0 : 100;
    for (int xx = 0; xx < W / 2; xx++)
      for (int yy = 0; yy < 28; yy++)
        {
          pixel (s, xx, yy, text);
          fg_l =
              dark ? MAX (fg_l, sc_chart_lightness (text)) : MIN (fg_l, sc_chart_lightness (text));
        }
    for (int k = 0; k < 3; k++)
      {
        static const double ys[] = { 38, 28, 12 };
        sc_chart_curve_to_pixel (W, H, &d, 60, ys[k], &px, &py);
        pixel (s, round (px) - 0.5, py, got);
        g_assert_cmpfloat (fabs (sc_chart_lightness (got) - fg_l), <, 8);
        pixel (s_nomarker, round (px) - 0.5, py, got);
        g_assert_cmpfloat (fabs (sc_chart_lightness (got) - fg_l), >, 30);
      }
  }
  cairo_surface_destroy (s_nomarker);

  /* The estimate at the marker: a dot in the text colour on the line, and
   * the marker's own label (wider than the bare "60"). */
  {
    cairo_surface_t *s_est;
    double bg[3];
    int plain_blocks, est_blocks, plain_w, est_w;
    d.marker_label = "60 % · est. 33.6 chrF++";
    d.show_marker_point = TRUE;
    d.marker_y = 33.6;
    s_est = render (sc_chart_draw_curve, &d, W, H);
    save (s_est, dark ? "chart-curve-estimate-dark.png" : "chart-curve-estimate.png");
    sc_chart_curve_to_pixel (W, H, &d, 60, 33.6, &px, &py);
    pixel (s_est, px + 2, py, got);
    g_assert_cmpfloat (fabs (sc_chart_lightness (got) - fg_l), <, 8);
    /* The label chip sits at the plot's top right of the marker. */
    pixel (s, 1, 1, bg);
    sc_chart_curve_to_pixel (W, H, &d, 60, 0, &px, NULL);
    sc_chart_curve_to_pixel (W, H, &d, 0, 43, NULL, &py);
    plain_blocks =
        ink_blocks (s, bg, (int) px + 2, W, (int) py - 4, (int) py + 16, FALSE, 8, &plain_w);
    est_blocks =
        ink_blocks (s_est, bg, (int) px + 2, W, (int) py - 4, (int) py + 16, FALSE, 8, &est_w);
    g_assert_cmpint (plain_blocks, >=, 1);
    g_assert_cmpint (est_blocks, >=, 1);
    g_assert_cmpint (est_w, >, plain_w + 60);
    cairo_surface_destroy (s_est);
  }
  cairo_surface_destroy (s);
}

static void
test_curve_nearest (void)
{
  const int W = 640, H = 360;
  ScCurveSeries series[2];
  ScCurveData d;
  double px, py;
  int se, idx;

  curve_init (&d, series, FALSE, NAN);
  for (int i = 1; i < 5; i++)
    {
      sc_chart_curve_to_pixel (W, H, &d, cx[i], cy_imp[i], &px, &py);
      g_assert_true (sc_chart_curve_nearest (W, H, &d, px + 3, py - 2, 8, &se, &idx));
      g_assert_cmpint (se, ==, 0);
      g_assert_cmpint (idx, ==, i);
      sc_chart_curve_to_pixel (W, H, &d, cx[i], cy_rnd[i], &px, &py);
      g_assert_true (sc_chart_curve_nearest (W, H, &d, px, py, 8, &se, &idx));
      g_assert_cmpint (se, ==, 1);
      g_assert_cmpint (idx, ==, i);
    }
  /* The shared first point belongs to the series drawn on top. */
  sc_chart_curve_to_pixel (W, H, &d, 0, 40, &px, &py);
  g_assert_true (sc_chart_curve_nearest (W, H, &d, px, py, 8, &se, &idx));
  g_assert_cmpint (se, ==, 1);
  g_assert_cmpint (idx, ==, 0);
  /* Nothing near: the empty top right of the plot, or not a number. */
  sc_chart_curve_to_pixel (W, H, &d, 95, 41, &px, &py);
  g_assert_false (sc_chart_curve_nearest (W, H, &d, px, py, 8, &se, &idx));
  g_assert_false (sc_chart_curve_nearest (W, H, &d, NAN, py, 8, &se, &idx));
}

static void
test_curve_light (void)
{
  check_curve (FALSE);
}

static void
test_curve_dark (void)
{
  check_curve (TRUE);
}

static void
test_curve_gaps (void)
{
  /* A missing value breaks the line: half-way between the points around
   * the gap there is no series colour. */
  const int W = 500, H = 300;
  const double x[] = { 0, 20, 40, 60, 80 };
  const double y[] = { 10, 20, NAN, 20, 10 };
  ScCurveSeries se = { "s", 5, x, y, FALSE };
  ScCurveData d = { 0 };
  cairo_surface_t *s;
  double px, py, got[3], want[3];

  d.n_series = 1;
  d.series = &se;
  d.marker_x = NAN;
  d.xmin = d.xmax = 0; /* auto x too */
  s = render (sc_chart_draw_curve, &d, W, H);
  save (s, "chart-curve-gap.png");
  sc_chart_series_colour (0, FALSE, want);
  sc_chart_curve_to_pixel (W, H, &d, 40, 20, &px, &py);
  pixel (s, px, py, got);
  g_assert_cmpfloat (colour_dist (got, want), >, 0.3);
  sc_chart_curve_to_pixel (W, H, &d, 10, 15, &px, &py);
  pixel (s, px, py, got);
  assert_colour (got, want, 0.1);
  /* Auto x: the first and last points at the plot's ends. */
  {
    double x0, x1;
    sc_chart_curve_to_pixel (W, H, &d, 0, 10, &x0, NULL);
    sc_chart_curve_to_pixel (W, H, &d, 80, 10, &x1, NULL);
    g_assert_cmpfloat (x1 - x0, >, W * 0.7);
  }
  cairo_surface_destroy (s);
}

/* ---- kept experts per layer ---- */

static void
check_bars (gboolean dark)
{
  const int W = 520, H = 300;
  static const double kept[] = { 4, 8, 16, 12, 2, 0 };
  static const double max[] = { 16, 16, 16, 16, 16, 16 };
  static const char *labels[] = { "enc 1", "enc 2", "enc 3", "dec 1", "dec 2", "dec 3" };
  ScBarsData d = { 0 };
  cairo_surface_t *s;
  double x, y, w, h, h_full, got[3], enc[3], dec[3], bg[3];

  d.n = 6;
  d.values = kept;
  d.max_values = max;
  d.labels = labels;
  d.title = "Experts kept per layer";
  d.dark = dark;
  s = render (sc_chart_draw_bars, &d, W, H);
  save (s, dark ? "chart-bars-dark.png" : "chart-bars.png");
  pixel (s, 1, 1, bg);
  assert_background (bg, dark);
  sc_chart_series_colour (0, dark, enc);
  sc_chart_series_colour (1, dark, dec);

  g_assert_true (sc_chart_bars_bar_rect (W, H, &d, 2, &x, &y, &w, &h_full));
  g_assert_cmpfloat (h_full, >, 100);
  for (int i = 0; i < 6; i++)
    {
      const double *colour = i < 3 ? enc : dec;
      int filled = 0;
      g_assert_true (sc_chart_bars_bar_rect (W, H, &d, i, &x, &y, &w, &h));
      /* Heights proportional to kept / max. */
      g_assert_cmpfloat (fabs (h - h_full * kept[i] / 16), <, 1e-6);
      /* Measured on the pixels: the bar's column in its group colour. */
      for (int yy = 0; yy < H; yy++)
        {
          pixel (s, x + w / 2, yy + 0.5, got);
          filled += colour_dist (got, colour) < 0.02;
        }
      g_assert_cmpfloat (fabs (filled - h), <=, 2);
    }
  /* Groups are set apart: a wider gap between the last encoder bar and the
   * first decoder bar than between two encoder bars. */
  {
    double x0, x1, x2, x3, dummy;
    sc_chart_bars_bar_rect (W, H, &d, 0, &x0, &dummy, &dummy, &dummy);
    sc_chart_bars_bar_rect (W, H, &d, 1, &x1, &dummy, &dummy, &dummy);
    sc_chart_bars_bar_rect (W, H, &d, 2, &x2, &dummy, &dummy, &dummy);
    sc_chart_bars_bar_rect (W, H, &d, 3, &x3, &dummy, &dummy, &dummy);
    g_assert_cmpfloat (x3 - x2, >, (x1 - x0) + 4);
  }
  /* Groups from labels: the same as n_encoder = 3. */
  {
    double a[4], b[4];
    ScBarsData e = d;
    e.n_encoder = 3;
    sc_chart_bars_bar_rect (W, H, &d, 4, &a[0], &a[1], &a[2], &a[3]);
    sc_chart_bars_bar_rect (W, H, &e, 4, &b[0], &b[1], &b[2], &b[3]);
    for (int k = 0; k < 4; k++)
      g_assert_cmpfloat (a[k], ==, b[k]);
  }
  cairo_surface_destroy (s);
}

static void
test_bars_light (void)
{
  check_bars (FALSE);
}

static void
test_bars_dark (void)
{
  check_bars (TRUE);
}

static void
test_bars_many (void)
{
  /* 12 layers in a narrow chart: labels turn upwards; without max_values
   * the largest value is the full height. */
  const int W = 300, H = 260;
  double kept[12];
  const char *labels[12];
  char names[12][16];
  ScBarsData d = { 0 };
  double x, y, w, h, hmax;
  cairo_surface_t *s;

  for (int i = 0; i < 12; i++)
    {
      kept[i] = 10 + 9 * i;
      g_snprintf (names[i], sizeof names[i], "%s %d", i < 6 ? "enc" : "dec", i % 6 + 1);
      labels[i] = names[i];
    }
  d.n = 12;
  d.values = kept;
  d.labels = labels;
  s = render (sc_chart_draw_bars, &d, W, H);
  save (s, "chart-bars-narrow.png");
  g_assert_true (sc_chart_bars_bar_rect (W, H, &d, 11, &x, &y, &w, &hmax));
  g_assert_true (sc_chart_bars_bar_rect (W, H, &d, 0, &x, &y, &w, &h));
  g_assert_cmpfloat (fabs (h / hmax - kept[0] / kept[11]), <, 1e-9);
  cairo_surface_destroy (s);

  /* Narrower still: upright labels thin out instead of running into each
   * other; each label is its own block of ink under the bars. */
  {
    const int w2 = 160;
    double bg[3], bx, by, bw, bh;
    int blocks, widest;
    s = render (sc_chart_draw_bars, &d, w2, H);
    save (s, "chart-bars-tiny.png");
    pixel (s, 1, 1, bg);
    g_assert_true (sc_chart_bars_bar_rect (w2, H, &d, 0, &bx, &by, &bw, &bh));
    blocks =
        ink_blocks (s, bg, 0, w2, (int) (by + bh + 8), (int) (by + bh + 30), FALSE, 2, &widest);
    g_assert_cmpint (blocks, >=, 3);
    g_assert_cmpint (blocks, <, 12);
    g_assert_cmpint (widest, <=, 16);
    cairo_surface_destroy (s);
  }
}

/* ---- per-language quality before and after ---- */

static void
check_dumbbell (gboolean dark)
{
  const int W = 520, H = 240;
  static const char *labels[] = { "eng_Latn", "fra_Latn", "hin_Deva", "zho_Hans" };
  static const double before[] = { 40, 30, 20, NAN };
  static const double after[] = { 38, 21, 20, 10 };
  static const gboolean flagged[] = { FALSE, TRUE, FALSE, FALSE };
  ScDumbbellData d = { 0 };
  double xb[4], xa[4], y[4], got[3], bg[3], cb[3], ca[3], cf[3], px;
  cairo_surface_t *s;

  d.n = 4;
  d.labels = labels;
  d.before = before;
  d.after = after;
  d.flagged = flagged;
  d.title = "chrF++ per language";
  d.dark = dark;
  s = render (sc_chart_draw_dumbbell, &d, W, H);
  save (s, dark ? "chart-dumbbell-dark.png" : "chart-dumbbell.png");
  pixel (s, 1, 1, bg);
  assert_background (bg, dark);
  sc_chart_dumbbell_colours (dark, cb, ca, cf);
  g_assert_cmpfloat (colour_dist (cb, ca), >, 0.2);
  g_assert_cmpfloat (colour_dist (ca, cf), >, 0.2);
  for (int i = 0; i < 4; i++)
    g_assert_true (sc_chart_dumbbell_points (W, H, &d, i, &xb[i], &xa[i], &y[i]));
  /* one axis from 0: positions proportional to the values */
  px = xa[2] - (xb[0] - xa[2]) * 20 / (40 - 20); /* x of 0 */
  g_assert_cmpfloat (fabs ((xa[0] - px) / (xb[0] - px) - 38.0 / 40), <, 1e-6);
  g_assert_cmpfloat (fabs ((xa[1] - px) / (xb[0] - px) - 21.0 / 40), <, 1e-6);
  g_assert_true (isnan (xb[3]));
  /* rows top to bottom in the order given, evenly spaced */
  g_assert_cmpfloat (y[1] - y[0], >, 12);
  g_assert_cmpfloat (fabs ((y[2] - y[1]) - (y[1] - y[0])), <=, 1);
  /* the dots' colours: before, after, and a flagged row's after */
  pixel (s, xb[0], y[0], got);
  assert_colour (got, cb, TOL);
  pixel (s, xa[0], y[0], got);
  assert_colour (got, ca, TOL);
  pixel (s, xb[1], y[1], got);
  assert_colour (got, cb, TOL);
  pixel (s, xa[1], y[1], got);
  assert_colour (got, cf, TOL);
  pixel (s, xa[3], y[3], got);
  assert_colour (got, ca, TOL);
  /* the line joining a flagged row's dots is in the warning colour */
  pixel (s, (xa[1] + xb[1]) / 2, y[1], got);
  assert_colour (got, cf, TOL);
  /* the flagged row's band is tinted towards the warning colour, the
   * others are not: sampled between the dots' column and the changes */
  {
    double band_x = xb[0] + 20, off = (y[1] - y[0]) / 2 - 2, tint[3];
    pixel (s, band_x, y[1] - off, got);
    g_assert_cmpfloat (colour_dist (got, bg), >, 0.04);
    g_assert_cmpfloat (colour_dist (got, cf), >, colour_dist (bg, cf) * 0.5);
    pixel (s, band_x, y[0] - off, tint);
    assert_colour (tint, bg, TOL);
  }
  cairo_surface_destroy (s);

  /* nothing to draw: background, no points */
  {
    ScDumbbellData e = { 0 };
    s = render (sc_chart_draw_dumbbell, &e, 200, 100);
    pixel (s, 100, 50, got);
    assert_background (got, FALSE);
    cairo_surface_destroy (s);
    g_assert_false (sc_chart_dumbbell_points (200, 100, &e, 0, &xb[0], &xa[0], &y[0]));
    cairo_surface_destroy (render (sc_chart_draw_dumbbell, NULL, 200, 100));
    g_assert_false (sc_chart_dumbbell_points (W, H, &d, 4, &xb[0], &xa[0], &y[0]));
  }
}

/* A row whose change is within noise is drawn grey (both dots and the
 * line), never in the warning colour even when flagged, and the legend
 * carries its note. */
static void
test_dumbbell_noise (void)
{
  const int W = 520, H = 240;
  static const char *labels[] = { "eng_Latn", "fra_Latn", "hin_Deva" };
  static const double before[] = { 40, 30, 20 };
  static const double after[] = { 38, 21, 35 };
  static const gboolean flagged[] = { FALSE, TRUE, FALSE };
  static const gboolean noise[] = { FALSE, TRUE, TRUE };
  ScDumbbellData d = { 0 };
  double xb[3], xa[3], y[3], got[3], cb[3], ca[3], cf[3];
  d.n = 3;
  d.labels = labels;
  d.before = before;
  d.after = after;
  d.flagged = flagged;
  d.noise = noise;
  d.noise_note = "2 sentences per language; grey: within noise";
  cairo_surface_t *s = render (sc_chart_draw_dumbbell, &d, W, H);
  save (s, "chart-dumbbell-noise.png");
  ScChartStyle style;
  sc_chart_style_init (&style, FALSE);
  sc_chart_dumbbell_colours (FALSE, cb, ca, cf);
  for (int i = 0; i < 3; i++)
    g_assert_true (sc_chart_dumbbell_points (W, H, &d, i, &xb[i], &xa[i], &y[i]));
  /* a real change keeps its colours */
  pixel (s, xa[0], y[0], got);
  assert_colour (got, ca, TOL);
  /* within noise: grey dots, the flag dropped, a +75 % change too */
  for (int i = 1; i < 3; i++)
    {
      pixel (s, xb[i], y[i], got);
      assert_colour (got, style.muted, TOL);
      pixel (s, xa[i], y[i], got);
      assert_colour (got, style.muted, TOL);
      g_assert_cmpfloat (colour_dist (got, cf), >, 0.2);
    }
  cairo_surface_destroy (s);
}

static void
test_dumbbell_light (void)
{
  check_dumbbell (FALSE);
}

static void
test_dumbbell_dark (void)
{
  check_dumbbell (TRUE);
}

/* Percentages above the bars (the share of weights pruned). */
static void
test_bars_percent (void)
{
  static const double v[] = { 50, 50, 25 }, max[] = { 100, 100, 100 };
  ScBarsData d = { 0 };
  double x, y, w, h, h0;
  d.n = 3;
  d.values = v;
  d.max_values = max;
  d.percent = TRUE;
  d.title = "weights pruned per layer";
  cairo_surface_t *s = render (sc_chart_draw_bars, &d, 360, 220);
  save (s, "chart-bars-percent.png");
  cairo_surface_destroy (s);
  g_assert_true (sc_chart_bars_bar_rect (360, 220, &d, 0, &x, &y, &w, &h0));
  g_assert_true (sc_chart_bars_bar_rect (360, 220, &d, 2, &x, &y, &w, &h));
  g_assert_cmpfloat (fabs (h - h0 / 2), <, 1e-6);
}

/* ---- bad and degenerate input: drawn as background, never a crash ---- */

static void
test_degenerate (void)
{
  static const float nan_values[6] = { NAN, NAN, NAN, NAN, NAN, NAN };
  static const float flat[6] = { 2, 2, 2, 2, 2, 2 };
  static const float wild[6] = { INFINITY, -INFINITY, 1e30f, -1e30f, 0, NAN };
  static const double xs[3] = { 0, 1, 2 }, ys[3] = { NAN, NAN, NAN };
  static const int bad_order[2] = { 0, 5 };
  ScHeatmapData hd = { 0 };
  ScMatrixData md = { 0 };
  ScCurveData cd = { 0 };
  ScCurveSeries se = { "s", 3, xs, ys, FALSE };
  ScBarsData bd = { 0 };
  cairo_surface_t *s;
  double bg[3], got[3];
  int r, c;

  /* NULL data and empty charts: background only. */
  s = render (sc_chart_draw_heatmap, NULL, 100, 80);
  pixel (s, 50, 40, got);
  assert_background (got, FALSE);
  cairo_surface_destroy (s);
  cairo_surface_destroy (render (sc_chart_draw_matrix, NULL, 100, 80));
  cairo_surface_destroy (render (sc_chart_draw_curve, NULL, 100, 80));
  cairo_surface_destroy (render (sc_chart_draw_bars, NULL, 100, 80));
  cairo_surface_destroy (render (sc_chart_draw_heatmap, &hd, 100, 80));
  cairo_surface_destroy (render (sc_chart_draw_bars, &bd, 100, 80));
  g_assert_false (sc_chart_heatmap_hit (100, 80, NULL, 50, 40, &r, &c));
  g_assert_false (sc_chart_matrix_hit (100, 80, NULL, 50, 40, &r, &c));

  /* All NaN, flat and non-finite values still draw, with the legend. */
  hd.rows = 2;
  hd.cols = 3;
  hd.values = nan_values;
  s = render (sc_chart_draw_heatmap, &hd, 300, 160);
  cell_centre (&hd, 300, 160, 1, 1, &bg[0], &bg[1]);
  pixel (s, bg[0], bg[1], got);
  g_assert_cmpfloat (chroma (got), <, 0.02);
  cairo_surface_destroy (s);
  hd.values = flat;
  s = render (sc_chart_draw_heatmap, &hd, 300, 160);
  cairo_surface_destroy (s);
  hd.values = wild;
  s = render (sc_chart_draw_heatmap, &hd, 300, 160);
  {
    double want[3], x, y;
    /* +inf clamps to the top of the scale, -inf to the bottom. */
    cell_centre (&hd, 300, 160, 0, 0, &x, &y);
    pixel (s, x, y, got);
    sc_chart_palette (1, want);
    assert_colour (got, want, TOL);
    cell_centre (&hd, 300, 160, 0, 1, &x, &y);
    pixel (s, x, y, got);
    sc_chart_palette (0, want);
    assert_colour (got, want, TOL);
  }
  cairo_surface_destroy (s);
  /* Points that are not numbers hit nothing. */
  g_assert_false (sc_chart_heatmap_hit (300, 160, &hd, NAN, 50, &r, &c));
  g_assert_false (sc_chart_heatmap_hit (300, 160, &hd, 100, INFINITY, &r, &c));

  /* A matrix order pointing outside: not drawn, no hit. */
  md.n = 2;
  md.values = flat;
  md.order = bad_order;
  s = render (sc_chart_draw_matrix, &md, 200, 160);
  pixel (s, 100, 80, got);
  assert_background (got, FALSE);
  cairo_surface_destroy (s);
  g_assert_false (sc_chart_matrix_hit (200, 160, &md, 60, 40, &r, &c));
  md.order = NULL;
  g_assert_false (sc_chart_matrix_hit (200, 160, &md, NAN, 40, &r, &c));

  /* One very long row label is cut short instead of squeezing the grid. */
  {
    static const float v[2] = { 0, 1 };
    const char *labels[2] = { "enc 1", "a layer label far longer than anyone would want to read" };
    ScHeatmapData ld = { 0 };
    double x, y, w, h;
    ld.rows = 2;
    ld.cols = 1;
    ld.values = v;
    ld.row_labels = labels;
    g_assert_true (sc_chart_heatmap_cell_rect (400, 120, &ld, 0, 0, &x, &y, &w, &h));
    g_assert_cmpfloat (w, >, 150);
    s = render (sc_chart_draw_heatmap, &ld, 400, 120);
    save (s, "chart-heatmap-long-label.png");
    cairo_surface_destroy (s);
  }

  /* A curve without a single finite point: axes on a unit range. */
  cd.n_series = 1;
  cd.series = &se;
  cd.marker_x = NAN;
  s = render (sc_chart_draw_curve, &cd, 300, 200);
  cairo_surface_destroy (s);

  /* Bars with zero or missing maxima draw empty tracks. */
  {
    static const double kept[2] = { 3, NAN }, max[2] = { 0, NAN };
    double x, y, w, h;
    bd.n = 2;
    bd.values = kept;
    bd.max_values = max;
    s = render (sc_chart_draw_bars, &bd, 300, 200);
    g_assert_true (sc_chart_bars_bar_rect (300, 200, &bd, 0, &x, &y, &w, &h));
    g_assert_cmpfloat (h, ==, 0);
    cairo_surface_destroy (s);
  }
}

/* ---- output ---- */

static char *
make_tmpdir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("sc-charts-XXXXXX", &error);
  g_assert_no_error (error);
  return dir;
}

static int
count_entries (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  int n = 0;
  g_assert_nonnull (d);
  while (g_dir_read_name (d) != NULL)
    n++;
  g_dir_close (d);
  return n;
}

static void
remove_dir (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      g_unlink (p);
    }
  if (d != NULL)
    g_dir_close (d);
  g_rmdir (dir);
}

static void
test_output (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *png = g_build_filename (dir, "heat.png", NULL);
  g_autofree char *svg = g_build_filename (dir, "heat.svg", NULL);
  g_autofree char *missing = g_build_filename (dir, "no-such-dir", "heat.png", NULL);
  g_autofree char *missing_svg = g_build_filename (dir, "no-such-dir", "heat.svg", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  cairo_surface_t *back;
  double x, y, got[3], want[3];
  gsize len;
  Heat h;

  heat_init (&h, FALSE);
  g_assert_true (sc_chart_write_png (png, 500, 240, sc_chart_draw_heatmap, &h.d, &error));
  g_assert_no_error (error);
  back = cairo_image_surface_create_from_png (png);
  g_assert_cmpint (cairo_surface_status (back), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpint (cairo_image_surface_get_width (back), ==, 500);
  g_assert_cmpint (cairo_image_surface_get_height (back), ==, 240);
  /* Read back: the vmax cell has the top colour. */
  cell_centre (&h.d, 500, 240, 1, 2, &x, &y);
  pixel (back, x, y, got);
  sc_chart_palette (1, want);
  assert_colour (got, want, TOL);
  cairo_surface_destroy (back);

  g_assert_true (sc_chart_write_svg (svg, 500, 240, sc_chart_draw_heatmap, &h.d, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (svg, &text, &len, &error));
  g_assert_true (g_str_has_prefix (text, "<?xml"));
  g_assert_nonnull (strstr (text, "<svg"));
  g_assert_nonnull (strstr (text, "width=\"500"));
  /* Only the two files: no temporary left behind. */
  g_assert_cmpint (count_entries (dir), ==, 2);

  /* Overwrite in place works (rename over the old file). */
  g_assert_true (sc_chart_write_png (png, 300, 200, sc_chart_draw_heatmap, &h.d, &error));
  back = cairo_image_surface_create_from_png (png);
  g_assert_cmpint (cairo_image_surface_get_width (back), ==, 300);
  cairo_surface_destroy (back);

  /* A missing folder: a GError, no file. */
  g_assert_false (sc_chart_write_png (missing, 500, 240, sc_chart_draw_heatmap, &h.d, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_clear_error (&error);
  g_assert_false (sc_chart_write_svg (missing_svg, 500, 240, sc_chart_draw_heatmap, &h.d, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_clear_error (&error);
  g_assert_false (g_file_test (missing, G_FILE_TEST_EXISTS));
  g_assert_cmpint (count_entries (dir), ==, 2);

  /* A "folder" that is a file: fails for every user, root included. */
  {
    g_autofree char *under_file = g_build_filename (png, "heat.png", NULL);
    g_assert_false (sc_chart_write_png (under_file, 100, 100, sc_chart_draw_heatmap, &h.d, &error));
    g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOTDIR);
    g_clear_error (&error);
    g_assert_false (sc_chart_write_svg (under_file, 100, 100, sc_chart_draw_heatmap, &h.d, &error));
    g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOTDIR);
    g_clear_error (&error);
    g_assert_cmpint (count_entries (dir), ==, 2);
  }

  /* A size out of range. */
  g_assert_false (sc_chart_write_png (png, 0, 240, sc_chart_draw_heatmap, &h.d, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL);
  g_clear_error (&error);

  /* A folder that cannot be written (skipped as root, who writes anyway). */
  if (geteuid () != 0)
    {
      g_autofree char *ro = g_build_filename (dir, "ro", NULL);
      g_autofree char *in_ro = g_build_filename (ro, "heat.png", NULL);
      g_assert_cmpint (g_mkdir (ro, 0555), ==, 0);
      g_assert_false (sc_chart_write_png (in_ro, 100, 100, sc_chart_draw_heatmap, &h.d, &error));
      g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_ACCES);
      g_clear_error (&error);
      g_assert_cmpint (count_entries (ro), ==, 0);
      g_rmdir (ro);
    }
  remove_dir (dir);
}

/* ---- TSV tables and sc-plot ---- */

static void
test_tsv (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ScTsvTable) t = NULL;
  double x[3];

  t = sc_tsv_table_parse ("# comment\nratio\ta\tb\r\n0\t1.5\t2\n\n50\t\t-3e1\n90\tnan\t4\n", TRUE,
                          &error);
  g_assert_no_error (error);
  g_assert_nonnull (t);
  g_assert_cmpint (t->n_rows, ==, 3);
  g_assert_cmpint (t->n_cols, ==, 2);
  g_assert_cmpstr (t->corner, ==, "ratio");
  g_assert_cmpstr (t->col_labels[0], ==, "a");
  g_assert_cmpstr (t->col_labels[1], ==, "b");
  g_assert_null (t->col_labels[2]);
  g_assert_cmpstr (t->row_labels[1], ==, "50");
  g_assert_cmpfloat (t->values[0], ==, 1.5);
  g_assert_cmpfloat (t->values[1], ==, 2);
  g_assert_true (isnan (t->values[2]));
  g_assert_cmpfloat (t->values[3], ==, -30);
  g_assert_true (isnan (t->values[4]));
  g_assert_true (sc_tsv_table_row_numbers (t, x, &error));
  g_assert_cmpfloat (x[2], ==, 90);
  g_clear_pointer (&t, sc_tsv_table_free);

  /* Without a header: every line is data, columns named by index. */
  t = sc_tsv_table_parse ("enc 1\t1\t2\t3\ndec 1\t4\t5\t6\n", FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (t->n_rows, ==, 2);
  g_assert_cmpint (t->n_cols, ==, 3);
  g_assert_cmpstr (t->col_labels[2], ==, "2");
  g_assert_cmpfloat (t->values[5], ==, 6);
  g_assert_false (sc_tsv_table_row_numbers (t, x, &error));
  g_assert_error (error, SC_TSV_ERROR, SC_TSV_ERROR_PARSE);
  g_clear_error (&error);
  g_clear_pointer (&t, sc_tsv_table_free);

  /* Errors name the line. */
  t = sc_tsv_table_parse ("x\ta\tb\n0\t1\t2\n1\t3\n", TRUE, &error);
  g_assert_null (t);
  g_assert_error (error, SC_TSV_ERROR, SC_TSV_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, "line 3"));
  g_clear_error (&error);
  t = sc_tsv_table_parse ("x\ta\n0\tfoo\n", TRUE, &error);
  g_assert_null (t);
  g_assert_error (error, SC_TSV_ERROR, SC_TSV_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, "foo"));
  g_clear_error (&error);
  t = sc_tsv_table_parse ("x\ta\n", TRUE, &error);
  g_assert_null (t);
  g_assert_error (error, SC_TSV_ERROR, SC_TSV_ERROR_SHAPE);
  g_clear_error (&error);
  t = sc_tsv_table_parse ("", FALSE, &error);
  g_assert_null (t);
  g_assert_error (error, SC_TSV_ERROR, SC_TSV_ERROR_SHAPE);
  g_clear_error (&error);
  t = sc_tsv_table_load ("/nonexistent/x.tsv", TRUE, &error);
  g_assert_null (t);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
}

static void
write_text (const char *path, const char *text)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (g_file_set_contents (path, text, -1, &error));
}

static cairo_surface_t *
load_png (const char *path, int w, int h)
{
  cairo_surface_t *s = cairo_image_surface_create_from_png (path);
  g_assert_cmpint (cairo_surface_status (s), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpint (cairo_image_surface_get_width (s), ==, w);
  g_assert_cmpint (cairo_image_surface_get_height (s), ==, h);
  return s;
}

static const char heat_tsv[] = "layer\t0\t1\t2\t3\n"
                               "enc 1\t0.1\t0.2\t0.3\t0.4\n"
                               "enc 3\t0.5\t0.6\t0.9\t\n"
                               "dec 1\t0.0\t0.8\t0.7\t0.6\n";

static void
test_plot (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *in = g_build_filename (dir, "in.tsv", NULL);
  g_autofree char *out = g_build_filename (dir, "out.png", NULL);
  g_autofree char *svg = g_build_filename (dir, "out.svg", NULL);
  g_autoptr (GError) error = NULL;
  ScPlotOptions o;
  cairo_surface_t *s;
  double x, y, w, h, got[3], want[3];

  /* Heatmap: the cell with the table's maximum (0.9 at row 1, column 2)
   * has the top colour, the empty cell is neutral. */
  write_text (in, heat_tsv);
  sc_plot_options_init (&o);
  o.title = "activity";
  o.width = 420;
  o.height = 200;
  g_assert_true (sc_plot_tsv (SC_PLOT_HEATMAP, in, out, &o, &error));
  g_assert_no_error (error);
  s = load_png (out, 420, 200);
  {
    static const float v[] = {
      0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.9f, NAN, 0.0f, 0.8f, 0.7f, 0.6f
    };
    static const char *labels[] = { "enc 1", "enc 3", "dec 1" };
    ScHeatmapData d = { 0 };
    d.rows = 3;
    d.cols = 4;
    d.values = v;
    d.row_labels = labels;
    d.title = "activity";
    g_assert_true (sc_chart_heatmap_cell_rect (420, 200, &d, 1, 2, &x, &y, &w, &h));
    pixel (s, x + w / 2, y + h / 2, got);
    sc_chart_palette (1, want);
    assert_colour (got, want, TOL);
    g_assert_true (sc_chart_heatmap_cell_rect (420, 200, &d, 2, 0, &x, &y, &w, &h));
    pixel (s, x + w / 2, y + h / 2, got);
    sc_chart_palette (0, want);
    assert_colour (got, want, TOL);
    g_assert_true (sc_chart_heatmap_cell_rect (420, 200, &d, 1, 3, &x, &y, &w, &h));
    pixel (s, x + w / 2, y + h / 2, got);
    g_assert_cmpfloat (chroma (got), <, 0.02);
  }
  save (s, "chart-plot-heatmap.png");
  cairo_surface_destroy (s);

  /* Curve, default size, as SVG too. */
  write_text (in, "ratio\timportance\trandom\n0\t40\t40\n50\t36\t25\n90\t22\t9\n");
  sc_plot_options_init (&o);
  o.dashed = (const char *const[]){ "random", NULL };
  g_assert_true (sc_plot_tsv (SC_PLOT_CURVE, in, out, &o, &error));
  g_assert_no_error (error);
  {
    static const double xs[] = { 0, 50, 90 }, y0[] = { 40, 36, 22 }, y1[] = { 40, 25, 9 };
    ScCurveSeries series[2] = { { "importance", 3, xs, y0, FALSE }, { "random", 3, xs, y1, TRUE } };
    ScCurveData d = { 0 };
    d.n_series = 2;
    d.series = series;
    d.x_label = "ratio";
    d.marker_x = NAN;
    s = load_png (out, 800, 480);
    sc_chart_curve_to_pixel (800, 480, &d, 50, 36, &x, &y);
    pixel (s, x, y, got);
    sc_chart_series_colour (0, FALSE, want);
    assert_colour (got, want, TOL);
    sc_chart_curve_to_pixel (800, 480, &d, 90, 9, &x, &y);
    pixel (s, x, y, got);
    sc_chart_series_colour (1, FALSE, want);
    assert_colour (got, want, TOL);
    cairo_surface_destroy (s);
  }
  g_assert_true (sc_plot_tsv (SC_PLOT_CURVE, in, svg, &o, &error));
  {
    g_autofree char *text = NULL;
    g_assert_true (g_file_get_contents (svg, &text, NULL, NULL));
    g_assert_true (g_str_has_prefix (text, "<?xml"));
    g_assert_nonnull (strstr (text, "<svg"));
  }

  /* Matrix: must be square; clustered order keeps similar rows together. */
  g_assert_false (sc_plot_tsv (SC_PLOT_MATRIX, in, out, &o, &error));
  g_assert_error (error, SC_TSV_ERROR, SC_TSV_ERROR_SHAPE);
  g_clear_error (&error);
  write_text (in, "\ta\tb\tc\na\t1\t0.1\t0.9\nb\t0.1\t1\t0.2\nc\t0.9\t0.2\t1\n");
  sc_plot_options_init (&o);
  o.width = 300;
  o.height = 260;
  g_assert_true (sc_plot_tsv (SC_PLOT_MATRIX, in, out, &o, &error));
  g_assert_no_error (error);
  {
    static const float v[] = { 1, 0.1f, 0.9f, 0.1f, 1, 0.2f, 0.9f, 0.2f, 1 };
    static const char *labels[] = { "a", "b", "c" };
    ScMatrixData d = { 0 };
    d.n = 3;
    d.values = v;
    d.labels = labels;
    s = load_png (out, 300, 260);
    g_assert_true (sc_chart_matrix_cell_rect (300, 260, &d, 0, 1, &x, &y, &w, &h));
    pixel (s, x + 2.5, y + 2.5, got);
    sc_chart_palette (0.1, want);
    assert_colour (got, want, TOL);
    cairo_surface_destroy (s);
  }

  /* Heatmap with languages as columns: the header is recognised as names. */
  write_text (in, "layer\teng_Latn\tfra_Latn\ndec 1\t0.2\t0.8\ndec 3\t0.5\t0.4\n");
  sc_plot_options_init (&o);
  o.width = 360;
  o.height = 220;
  g_assert_true (sc_plot_tsv (SC_PLOT_HEATMAP, in, out, &o, &error));
  g_assert_no_error (error);
  {
    static const float v[] = { 0.2f, 0.8f, 0.5f, 0.4f };
    static const char *rows[] = { "dec 1", "dec 3" }, *cols[] = { "eng_Latn", "fra_Latn" };
    ScHeatmapData d = { 0 };
    d.rows = 2;
    d.cols = 2;
    d.values = v;
    d.row_labels = rows;
    d.col_labels = cols;
    s = load_png (out, 360, 220);
    g_assert_true (sc_chart_heatmap_cell_rect (360, 220, &d, 0, 1, &x, &y, &w, &h));
    pixel (s, x + w / 2, y + h / 2, got);
    sc_chart_palette (1, want);
    assert_colour (got, want, TOL);
    cairo_surface_destroy (s);
  }

  /* Bars: kept and max per layer. */
  write_text (in, "layer\tkept\tmax\nenc 1\t4\t16\nenc 3\t8\t16\ndec 1\t16\t16\n");
  sc_plot_options_init (&o);
  g_assert_true (sc_plot_tsv (SC_PLOT_BARS, in, out, &o, &error));
  g_assert_no_error (error);
  {
    static const double kept[] = { 4, 8, 16 }, max[] = { 16, 16, 16 };
    static const char *labels[] = { "enc 1", "enc 3", "dec 1" };
    ScBarsData d = { 0 };
    int pw, ph;
    d.n = 3;
    d.values = kept;
    d.max_values = max;
    d.labels = labels;
    sc_plot_default_size (SC_PLOT_BARS, 3, 2, &pw, &ph);
    s = load_png (out, pw, ph);
    g_assert_true (sc_chart_bars_bar_rect (pw, ph, &d, 1, &x, &y, &w, &h));
    pixel (s, x + w / 2, y + h - 2, got);
    sc_chart_series_colour (0, FALSE, want);
    assert_colour (got, want, TOL);
    g_assert_true (sc_chart_bars_bar_rect (pw, ph, &d, 2, &x, &y, &w, &h));
    pixel (s, x + w / 2, y + 2, got);
    sc_chart_series_colour (1, FALSE, want);
    assert_colour (got, want, TOL);
    cairo_surface_destroy (s);
  }

  /* Bad input: a GError naming the problem; nothing written. */
  g_unlink (out);
  write_text (in, "layer\t0\t1\nenc 1\t0.1\tx\n");
  g_assert_false (sc_plot_tsv (SC_PLOT_HEATMAP, in, out, NULL, &error));
  g_assert_error (error, SC_TSV_ERROR, SC_TSV_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, "in.tsv"));
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  g_clear_error (&error);
  remove_dir (dir);
}

/* The program itself, when built (bench/ beside tests/ in the build tree). */
static void
test_plot_program (void)
{
  g_autofree char *prog =
      g_build_filename (g_test_get_dir (G_TEST_BUILT), "..", "bench", "sc-plot", NULL);
  g_autofree char *dir = NULL, *in = NULL, *out = NULL, *err = NULL;
  g_autoptr (GError) error = NULL;
  cairo_surface_t *s;
  int status;

  if (!g_file_test (prog, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("bench/sc-plot not built");
      return;
    }
  dir = make_tmpdir ();
  in = g_build_filename (dir, "heat.tsv", NULL);
  out = g_build_filename (dir, "heat.png", NULL);
  write_text (in, heat_tsv);
  {
    const char *argv[] = { prog,      "heatmap", in,         out,   "--title", "activity",
                           "--width", "420",     "--height", "200", NULL };
    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL,
                                 &err, &status, &error));
    g_assert_no_error (error);
    if (!g_spawn_check_wait_status (status, NULL))
      g_error ("sc-plot failed: %s", err);
  }
  s = load_png (out, 420, 200);
  cairo_surface_destroy (s);
  g_clear_pointer (&err, g_free);
  {
    /* A missing input: non-zero exit and the reason on stderr. */
    g_autofree char *missing = g_build_filename (dir, "missing.tsv", NULL);
    const char *argv[] = { prog, "curve", missing, out, NULL };
    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL,
                                 &err, &status, &error));
    g_assert_false (g_spawn_check_wait_status (status, NULL));
    g_assert_nonnull (strstr (err, "missing.tsv"));
  }
  remove_dir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/charts/palette", test_palette);
  g_test_add_func ("/charts/heatmap/light", test_heatmap_light);
  g_test_add_func ("/charts/heatmap/dark", test_heatmap_dark);
  g_test_add_func ("/charts/heatmap/hit", test_heatmap_hit);
  g_test_add_func ("/charts/heatmap/hover", test_heatmap_hover);
  g_test_add_func ("/charts/heatmap/named-columns", test_heatmap_named_columns);
  g_test_add_func ("/charts/heatmap/large", test_heatmap_large);
  g_test_add_func ("/charts/matrix", test_matrix);
  g_test_add_func ("/charts/matrix/cluster", test_matrix_cluster);
  g_test_add_func ("/charts/matrix/hover", test_matrix_hover);
  g_test_add_func ("/charts/curve/nearest", test_curve_nearest);
  g_test_add_func ("/charts/curve/light", test_curve_light);
  g_test_add_func ("/charts/curve/dark", test_curve_dark);
  g_test_add_func ("/charts/curve/gaps", test_curve_gaps);
  g_test_add_func ("/charts/bars/light", test_bars_light);
  g_test_add_func ("/charts/bars/dark", test_bars_dark);
  g_test_add_func ("/charts/bars/many", test_bars_many);
  g_test_add_func ("/charts/bars/percent", test_bars_percent);
  g_test_add_func ("/charts/dumbbell/light", test_dumbbell_light);
  g_test_add_func ("/charts/dumbbell/dark", test_dumbbell_dark);
  g_test_add_func ("/charts/dumbbell/noise", test_dumbbell_noise);
  g_test_add_func ("/charts/degenerate", test_degenerate);
  g_test_add_func ("/charts/output", test_output);
  g_test_add_func ("/charts/tsv", test_tsv);
  g_test_add_func ("/charts/plot", test_plot);
  g_test_add_func ("/charts/plot/program", test_plot_program);
  int status = g_test_run ();
  /* Cairo's font caches hold fontconfig patterns until told to let go;
   * without this LeakSanitizer reports them. */
  cairo_debug_reset_static_data ();
#ifdef HAVE_FONTCONFIG
  FcFini ();
#endif
  return status;
}
