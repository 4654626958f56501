/* sc-chart-heatmap.c: MoE layers (rows) x experts (columns), coloured by a
 * statistic, pruned experts dimmed and struck, with a colour legend.
 *
 * Geometry comes from one layout function used by both drawing and hit
 * testing. Cells are snapped to whole pixels once they are a few pixels
 * wide, so 128 x 12 grids stay crisp; labels thin out to every 2nd, 4th,
 * 8th... row or column when cells are too small to carry them all. */
#include "sc-chart-heatmap.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "sc-chart-output.h"

#include "sc-chart-scale.h"
#include "sc-chart-style.h"

typedef struct
{
  double gx, gy, gw, gh; /* grid */
  double cw, ch;         /* cell pitch */
  double gap;            /* background line between cells */
  double lx, lw;         /* legend column */
  int row_step, col_step;
  gboolean cols_up; /* column labels read upwards */
  double band;      /* height of the column labels under the grid */
  ScColourScale scale;
  gboolean ok;
} Layout;

static void
row_label (const ScHeatmapData *d, int r, char *buf, gsize size)
{
  if (d->row_labels != NULL && d->row_labels[r] != NULL)
    sc_chart_copy_label (d->row_labels[r], buf, size);
  else
    g_snprintf (buf, size, "L%d", r);
}

static void
col_label (const ScHeatmapData *d, int c, char *buf, gsize size)
{
  if (d->col_labels != NULL && d->col_labels[c] != NULL)
    sc_chart_copy_label (d->col_labels[c], buf, size);
  else
    g_snprintf (buf, size, "%d", c);
}

static const char *
x_caption (const ScHeatmapData *d)
{
  /* TRANSLATORS: caption of the heatmap's column axis */
  return d->x_label != NULL ? d->x_label : _ ("expert");
}

static gboolean
data_valid (const ScHeatmapData *d)
{
  return d != NULL && d->rows > 0 && d->cols > 0 && d->values != NULL;
}

/* The smallest power of two n such that n * pitch >= need. */
static int
thin_step (double pitch, double need)
{
  int step = 1;
  while (step < (1 << 20) && step * pitch < need)
    step *= 2;
  return step;
}

static void
layout_compute (double width, double height, const ScHeatmapData *d, Layout *l)
{
  cairo_t *mcr;
  double label_w = 0, col_w = 0, row_h, tick_h, caption_h, bottom, right, gw, gh;
  char buf[128];

  memset (l, 0, sizeof *l);
  if (!data_valid (d))
    return;
  mcr = sc_chart_measure_context ();
  sc_chart_scale_init (&l->scale, d->values, (gsize) d->rows * d->cols, d->vmin, d->vmax, d->title);
  for (gsize i = 0; i < (gsize) d->rows * d->cols; i++)
    {
      if (isnan (d->values[i]))
        l->scale.has_missing = TRUE;
      if (d->pruned != NULL && d->pruned[i])
        l->scale.has_pruned = TRUE;
    }

  sc_chart_font (mcr, SC_CHART_FONT, FALSE);
  row_h = sc_chart_line_height (mcr);
  for (int r = 0; r < d->rows; r++)
    {
      row_label (d, r, buf, sizeof buf);
      label_w = MAX (label_w, sc_chart_text_width (mcr, buf));
    }
  caption_h = sc_chart_line_height (mcr);
  sc_chart_font (mcr, SC_CHART_SMALL_FONT, FALSE);
  tick_h = sc_chart_line_height (mcr);

  l->lw = sc_chart_legend_width (mcr, &l->scale);
  l->gx = ceil (SC_CHART_MARGIN + label_w + 8);
  l->gy = SC_CHART_MARGIN;
  right = 20 + l->lw + SC_CHART_MARGIN;
  gw = width - l->gx - right;
  /* Named columns that do not fit side by side turn to read upwards, and
   * the band under the grid grows to their length. */
  if (d->col_labels != NULL)
    {
      for (int c = 0; c < d->cols; c++)
        {
          col_label (d, c, buf, sizeof buf);
          col_w = MAX (col_w, sc_chart_text_width (mcr, buf));
        }
      l->cols_up = col_w + 8 > floor (gw / d->cols);
    }
  l->band = l->cols_up ? col_w : tick_h;
  bottom = 6 + l->band + 4 + caption_h + SC_CHART_MARGIN;
  gh = height - l->gy - bottom;
  if (gw < d->cols || gh < d->rows || gw < 1 || gh < 1)
    {
      cairo_destroy (mcr);
      return;
    }

  l->cw = gw / d->cols;
  l->ch = gh / d->rows;
  /* Whole-pixel cells once they are big enough to show the difference. */
  if (l->cw >= 4)
    l->cw = floor (l->cw);
  if (l->ch >= 4)
    l->ch = floor (l->ch);
  l->gw = l->cw * d->cols;
  l->gh = l->ch * d->rows;
  l->gap = (l->cw >= 6 && l->ch >= 6) ? 1 : 0;
  l->lx = l->gx + l->gw + 20;

  sc_chart_font (mcr, SC_CHART_SMALL_FONT, FALSE);
  if (l->cols_up)
    l->col_step = thin_step (l->cw, tick_h + 2);
  else if (d->col_labels != NULL)
    l->col_step = thin_step (l->cw, col_w + 8);
  else
    {
      g_snprintf (buf, sizeof buf, "%d", d->cols - 1);
      l->col_step = thin_step (l->cw, sc_chart_text_width (mcr, buf) + 10);
    }
  l->row_step = thin_step (l->ch, row_h + 2);
  l->ok = TRUE;
  cairo_destroy (mcr);
}

gboolean
sc_chart_heatmap_cell_rect (double width, double height, const ScHeatmapData *d, int row, int col,
                            double *x, double *y, double *w, double *h)
{
  Layout l;
  layout_compute (width, height, d, &l);
  if (!l.ok || row < 0 || row >= d->rows || col < 0 || col >= d->cols)
    return FALSE;
  *x = l.gx + col * l.cw;
  *y = l.gy + row * l.ch;
  *w = l.cw - l.gap;
  *h = l.ch - l.gap;
  return TRUE;
}

gboolean
sc_chart_heatmap_hit (double width, double height, const ScHeatmapData *d, double x, double y,
                      int *row, int *col)
{
  Layout l;
  int r, c;

  layout_compute (width, height, d, &l);
  if (!l.ok || !isfinite (x) || !isfinite (y) || x < l.gx || y < l.gy || x >= l.gx + l.gw ||
      y >= l.gy + l.gh)
    return FALSE;
  r = CLAMP ((int) floor ((y - l.gy) / l.ch), 0, d->rows - 1);
  c = CLAMP ((int) floor ((x - l.gx) / l.cw), 0, d->cols - 1);
  if (row != NULL)
    *row = r;
  if (col != NULL)
    *col = c;
  return TRUE;
}

void
sc_chart_heatmap_draw (cairo_t *cr, double width, double height, const ScHeatmapData *d)
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
  for (int r = 0; r < d->rows; r++)
    {
      for (int c = 0; c < d->cols; c++)
        {
          gsize i = (gsize) r * d->cols + c;
          double rgb[3];
          sc_chart_scale_colour (&l.scale, &style, d->values[i], rgb);
          sc_chart_cell_draw (cr, &style, l.gx + c * l.cw, l.gy + r * l.ch, l.cw - l.gap,
                              l.ch - l.gap, rgb, d->pruned != NULL && d->pruned[i]);
        }
    }

  /* Encoder | decoder: a background-coloured band over the boundary. */
  if (d->n_encoder_rows > 0 && d->n_encoder_rows < d->rows)
    {
      double yb = l.gy + d->n_encoder_rows * l.ch - l.gap;
      sc_chart_set_rgb (cr, style.bg);
      cairo_rectangle (cr, l.gx, yb - 1, l.gw, 3 + l.gap);
      cairo_fill (cr);
    }

  if (d->show_hover && d->hover_row >= 0 && d->hover_row < d->rows && d->hover_col >= 0 &&
      d->hover_col < d->cols)
    {
      double hx = l.gx + d->hover_col * l.cw, hy = l.gy + d->hover_row * l.ch;
      sc_chart_set_rgb (cr, style.fg);
      cairo_set_line_width (cr, 2);
      cairo_rectangle (cr, hx - 1, hy - 1, l.cw - l.gap + 2, l.ch - l.gap + 2);
      cairo_stroke (cr);
    }

  /* Row labels, right-aligned against the grid. */
  sc_chart_font (cr, SC_CHART_FONT, FALSE);
  sc_chart_set_rgb (cr, style.fg);
  for (int r = 0; r < d->rows; r += l.row_step)
    {
      row_label (d, r, buf, sizeof buf);
      sc_chart_text (cr, buf, l.gx - 8, l.gy + (r + 0.5) * l.ch - l.gap / 2, SC_ALIGN_END,
                     SC_ALIGN_CENTER);
    }

  /* Column ticks and labels; a label that would run past the grid's right
   * edge is left out rather than overlap the legend. */
  sc_chart_font (cr, SC_CHART_SMALL_FONT, FALSE);
  cairo_set_line_width (cr, 1);
  for (int c = 0; c < d->cols; c += l.col_step)
    {
      double cx = l.gx + (c + 0.5) * l.cw - l.gap / 2, tw;
      col_label (d, c, buf, sizeof buf);
      tw = l.cols_up ? 0 : sc_chart_text_width (cr, buf);
      if (cx + tw / 2 > l.gx + l.gw + 10)
        break;
      sc_chart_set_rgb (cr, style.muted);
      cairo_move_to (cr, round (cx) + 0.5, l.gy + l.gh);
      cairo_line_to (cr, round (cx) + 0.5, l.gy + l.gh + 3);
      cairo_stroke (cr);
      sc_chart_set_rgb (cr, style.fg);
      if (l.cols_up)
        sc_chart_text_up (cr, buf, cx, l.gy + l.gh + 5, SC_ALIGN_END, SC_ALIGN_CENTER);
      else
        sc_chart_text (cr, buf, cx, l.gy + l.gh + 5, SC_ALIGN_CENTER, SC_ALIGN_START);
    }
  sc_chart_font (cr, SC_CHART_FONT, FALSE);
  sc_chart_set_rgb (cr, style.muted);
  /* The caption follows the labels (snapped cells may leave room below). */
  sc_chart_text (cr, x_caption (d), l.gx + l.gw / 2, l.gy + l.gh + 6 + l.band + 4, SC_ALIGN_CENTER,
                 SC_ALIGN_START);

  sc_chart_legend_draw (cr, &style, &l.scale, l.lx, l.gy, l.lw, l.gh);
  cairo_restore (cr);
}

void
sc_chart_draw_heatmap (cairo_t *cr, double width, double height, gconstpointer data)
{
  sc_chart_heatmap_draw (cr, width, height, data);
}
