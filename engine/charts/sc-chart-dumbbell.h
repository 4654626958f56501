/* sc-chart-dumbbell.h: a value before and after a change, one row per item
 * (quality per language before and after weight pruning): a dot for each,
 * joined by a line, the relative change at the end of the row; flagged rows
 * (languages that degrade more than a threshold) are highlighted. */
#pragma once

#include <cairo.h>
#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  int n;
  const char *const *labels;
  const double *before, *after;   /* NaN: missing */
  const gboolean *flagged;        /* NULL: none */
  /* Rows whose change is within noise (its interval holds 0): drawn grey,
   * never flagged; NULL: none. noise_note is the legend's entry for them
   * (NULL: no entry). */
  const gboolean *noise;
  const char *noise_note;
  const char *title;              /* NULL: none */
  const char *before_name, *after_name; /* legend; NULL: "before", "after" */
  gboolean dark;
} ScDumbbellData;

void     sc_chart_dumbbell_draw   (cairo_t *cr, double width, double height,
                                   const ScDumbbellData *d);
/* Centres of row i's dots (x_before, x_after) and its line's y, for tests
 * and tooltips; FALSE when the chart has no room or i is out of range. */
gboolean sc_chart_dumbbell_points (double width, double height, const ScDumbbellData *d, int i,
                                   double *x_before, double *x_after, double *y);
/* The colours of the before and after dots and of flagged rows. */
void     sc_chart_dumbbell_colours (gboolean dark, double before[3], double after[3],
                                    double flagged[3]);

G_END_DECLS
