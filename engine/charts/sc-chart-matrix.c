/* sc-chart-matrix.c: a square language x language matrix (similarity of
 * expert usage), labels on both axes in the given order, values written in
 * the cells when they fit, and the colour legend. */
#include "sc-chart-matrix.h"

#include <math.h>
#include <string.h>

#include "sc-chart-output.h"
#include "sc-chart-palette.h"
#include "sc-chart-scale.h"
#include "sc-chart-style.h"

typedef struct
{
  double gx, gy, cell, gap, lx, lw;
  int step;        /* label every step-th row/column */
  gboolean values; /* numbers fit in the cells */
  ScColourScale scale;
  gboolean ok;
} Layout;

static int
index_at (const ScMatrixData *d, int p)
{
  return d->order != NULL ? d->order[p] : p;
}

static gboolean
data_valid (const ScMatrixData *d)
{
  if (d == NULL || d->n <= 0 || d->values == NULL)
    return FALSE;
  for (int p = 0; d->order != NULL && p < d->n; p++)
    if (d->order[p] < 0 || d->order[p] >= d->n)
      return FALSE;
  return TRUE;
}

static const char *
label_at (const ScMatrixData *d, int p, char *buf, gsize size)
{
  int i = index_at (d, p);
  if (d->labels != NULL && d->labels[i] != NULL)
    {
      sc_chart_copy_label (d->labels[i], buf, size);
      return buf;
    }
  g_snprintf (buf, size, "%d", i);
  return buf;
}

static void
layout_compute (double width, double height, const ScMatrixData *d, Layout *l)
{
  cairo_t *mcr;
  double label_w = 0, label_h, avail_w, avail_h;
  char buf[128];

  memset (l, 0, sizeof *l);
  if (!data_valid (d))
    return;
  sc_chart_scale_init (&l->scale, NULL, 0, 0, 1, d->title);
  for (int k = 0; k < d->n * d->n; k++)
    if (isnan (d->values[k]))
      l->scale.has_missing = TRUE;

  mcr = sc_chart_measure_context ();
  sc_chart_font (mcr, SC_CHART_SMALL_FONT, FALSE);
  for (int p = 0; p < d->n; p++)
    label_w = MAX (label_w, sc_chart_text_width (mcr, label_at (d, p, buf, sizeof buf)));
  label_h = sc_chart_line_height (mcr);
  l->lw = sc_chart_legend_width (mcr, &l->scale);

  /* Row labels on the left, column labels under the grid reading upwards. */
  l->gx = ceil (SC_CHART_MARGIN + label_w + 8);
  l->gy = SC_CHART_MARGIN;
  avail_w = width - l->gx - 24 - l->lw - SC_CHART_MARGIN;
  avail_h = height - l->gy - 8 - label_w - SC_CHART_MARGIN;
  l->cell = MIN (avail_w, avail_h) / d->n;
  if (l->cell >= 4)
    l->cell = floor (l->cell);
  if (l->cell < 1)
    {
      cairo_destroy (mcr);
      return;
    }
  l->gap = l->cell >= 6 ? 1 : 0;
  l->lx = l->gx + l->cell * d->n + 24;
  l->step = 1;
  while (l->step < d->n && l->step * l->cell < label_h + 1)
    l->step *= 2;
  sc_chart_font (mcr, SC_CHART_SMALL_FONT, FALSE);
  l->values =
      l->cell - l->gap >= sc_chart_text_width (mcr, "0.00") + 6 && l->cell - l->gap >= label_h + 4;
  l->ok = TRUE;
  cairo_destroy (mcr);
}

gboolean
sc_chart_matrix_cell_rect (double width, double height, const ScMatrixData *d, int p, int q,
                           double *x, double *y, double *w, double *h)
{
  Layout l;
  layout_compute (width, height, d, &l);
  if (!l.ok || p < 0 || q < 0 || p >= d->n || q >= d->n)
    return FALSE;
  *x = l.gx + q * l.cell;
  *y = l.gy + p * l.cell;
  *w = *h = l.cell - l.gap;
  return TRUE;
}

gboolean
sc_chart_matrix_hit (double width, double height, const ScMatrixData *d, double x, double y, int *i,
                     int *j)
{
  Layout l;
  double side;
  int p, q;

  layout_compute (width, height, d, &l);
  if (!l.ok)
    return FALSE;
  side = l.cell * d->n;
  if (!isfinite (x) || !isfinite (y) || x < l.gx || y < l.gy || x >= l.gx + side ||
      y >= l.gy + side)
    return FALSE;
  p = CLAMP ((int) floor ((y - l.gy) / l.cell), 0, d->n - 1);
  q = CLAMP ((int) floor ((x - l.gx) / l.cell), 0, d->n - 1);
  if (i != NULL)
    *i = index_at (d, p);
  if (j != NULL)
    *j = index_at (d, q);
  return TRUE;
}

void
sc_chart_matrix_draw (cairo_t *cr, double width, double height, const ScMatrixData *d)
{
  ScChartStyle style;
  Layout l;
  char buf[128];
  double side;

  sc_chart_style_init (&style, d != NULL && d->dark);
  sc_chart_fill_background (cr, width, height, &style);
  layout_compute (width, height, d, &l);
  if (!l.ok)
    return;
  side = l.cell * d->n;

  cairo_save (cr);
  sc_chart_font (cr, SC_CHART_SMALL_FONT, FALSE);
  for (int p = 0; p < d->n; p++)
    {
      for (int q = 0; q < d->n; q++)
        {
          double v = d->values[index_at (d, p) * d->n + index_at (d, q)], rgb[3];
          double x = l.gx + q * l.cell, y = l.gy + p * l.cell, s = l.cell - l.gap;
          sc_chart_scale_colour (&l.scale, &style, v, rgb);
          sc_chart_cell_draw (cr, &style, x, y, s, s, rgb, FALSE);
          if (l.values && !isnan (v))
            {
              /* Dark text on light cells, white on dark ones. */
              double ink = sc_chart_lightness (rgb) > 55 ? 0.1 : 1.0;
              cairo_set_source_rgb (cr, ink, ink, ink);
              g_snprintf (buf, sizeof buf, "%.2f", v);
              sc_chart_text (cr, buf, x + s / 2, y + s / 2, SC_ALIGN_CENTER, SC_ALIGN_CENTER);
            }
        }
    }

  sc_chart_set_rgb (cr, style.fg);
  for (int p = 0; p < d->n; p += l.step)
    {
      double c = (p + 0.5) * l.cell - l.gap / 2;
      const char *text = label_at (d, p, buf, sizeof buf);
      sc_chart_text (cr, text, l.gx - 8, l.gy + c, SC_ALIGN_END, SC_ALIGN_CENTER);
      sc_chart_text_up (cr, text, l.gx + c, l.gy + side + 8, SC_ALIGN_END, SC_ALIGN_CENTER);
    }
  /* A small grid still gets a readable colour bar. */
  sc_chart_legend_draw (cr, &style, &l.scale, l.lx, l.gy, l.lw,
                        MAX (side, MIN (height - l.gy - SC_CHART_MARGIN, 160)));
  cairo_restore (cr);
}

void
sc_chart_matrix_draw_hover (cairo_t *cr, double width, double height, const ScMatrixData *d, int i,
                            int j)
{
  ScChartStyle style;
  Layout l;
  int hp = -1, hq = -1;

  layout_compute (width, height, d, &l);
  if (!l.ok)
    return;
  /* Data indices to drawing positions. */
  for (int p = 0; p < d->n; p++)
    {
      if (index_at (d, p) == i)
        hp = p;
      if (index_at (d, p) == j)
        hq = p;
    }
  if (hp < 0 || hq < 0)
    return;
  sc_chart_style_init (&style, d->dark);
  cairo_save (cr);
  sc_chart_set_rgb (cr, style.fg);
  cairo_set_line_width (cr, 2);
  cairo_rectangle (cr, l.gx + hq * l.cell - 1, l.gy + hp * l.cell - 1, l.cell - l.gap + 2,
                   l.cell - l.gap + 2);
  cairo_stroke (cr);
  cairo_restore (cr);
}

void
sc_chart_matrix_cluster_order (int n, const float *values, int *order)
{
  /* Average-linkage agglomerative clustering on 1 - similarity; each
   * cluster keeps its leaves in order, and merging joins the two lists. */
  g_autofree double *dist = NULL;
  g_autofree int *size = NULL, *next = NULL, *head = NULL, *tail = NULL;
  g_autofree gboolean *alive = NULL;
  int pos = 0;

  if (n <= 0 || order == NULL)
    return;
  dist = g_new (double, (gsize) n *n);
  size = g_new (int, n);
  next = g_new (int, n);
  head = g_new (int, n);
  tail = g_new (int, n);
  alive = g_new (gboolean, n);
  for (int a = 0; a < n; a++)
    {
      size[a] = 1;
      next[a] = -1;
      head[a] = tail[a] = a;
      alive[a] = TRUE;
      for (int b = 0; b < n; b++)
        {
          /* Symmetrised; missing similarity counts as none. */
          double s = values != NULL ? 0.5 * ((double) values[a * n + b] + values[b * n + a]) : 0;
          dist[a * n + b] = isnan (s) ? 1.0 : 1.0 - s;
        }
    }
  for (int merges = 0; merges < n - 1; merges++)
    {
      int ba = -1, bb = -1;
      for (int a = 0; a < n; a++)
        for (int b = a + 1; alive[a] && b < n; b++)
          if (alive[b] && (ba < 0 || dist[a * n + b] < dist[ba * n + bb] - 1e-12))
            {
              ba = a;
              bb = b;
            }
      /* bb's leaves follow ba's; distances to the merged cluster average
     * over leaves. */
      next[tail[ba]] = head[bb];
      tail[ba] = tail[bb];
      for (int c = 0; c < n; c++)
        {
          if (!alive[c] || c == ba || c == bb)
            continue;
          double v =
              (dist[ba * n + c] * size[ba] + dist[bb * n + c] * size[bb]) / (size[ba] + size[bb]);
          dist[ba * n + c] = dist[c * n + ba] = v;
        }
      size[ba] += size[bb];
      alive[bb] = FALSE;
    }
  for (int a = 0; a < n; a++)
    if (alive[a])
      for (int leaf = head[a]; leaf >= 0; leaf = next[leaf])
        order[pos++] = leaf;
}

void
sc_chart_draw_matrix (cairo_t *cr, double width, double height, gconstpointer data)
{
  sc_chart_matrix_draw (cr, width, height, data);
}
