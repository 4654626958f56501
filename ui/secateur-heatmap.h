/* secateur-heatmap.h: the live expert heatmap (MoE layers x experts), a
 * GtkWidget around the Cairo chart sc-chart-heatmap, with hover tooltips
 * (refreshed when the data under the pointer changes) and Ctrl+scroll
 * zoom (1 to 6 times the visible height; the width stays the view's, so
 * the legend stays in sight). */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define SECATEUR_TYPE_HEATMAP (secateur_heatmap_get_type ())
G_DECLARE_FINAL_TYPE (SecateurHeatmap, secateur_heatmap, SECATEUR, HEATMAP, GtkWidget)

/* Copies the values [rows * cols] (encoder rows first); NULL values clear. */
void       secateur_heatmap_set_values  (SecateurHeatmap *self, int rows, int cols,
                                         int n_encoder_rows, const float *values,
                                         const char *title);
/* Pruned cells [rows * cols] (copied), NULL for none. */
void       secateur_heatmap_set_pruned  (SecateurHeatmap *self, const guint8 *pruned);
/* For the tooltip: the languages and, per language, its usage of every
 * cell [n_langs * rows * cols] (copied). */
void       secateur_heatmap_set_language_usage (SecateurHeatmap *self, const char *const *langs,
                                                const float *usage);
int        secateur_heatmap_get_rows    (SecateurHeatmap *self);
int        secateur_heatmap_get_cols    (SecateurHeatmap *self);
float      secateur_heatmap_get_value   (SecateurHeatmap *self, int row, int col);
gboolean   secateur_heatmap_get_pruned  (SecateurHeatmap *self, int row, int col);
/* The cell under the pointer (-1, -1: none), as the pointer sets it. */
void       secateur_heatmap_set_hover   (SecateurHeatmap *self, int row, int col);
/* The hovered cell's tooltip text, refreshed when the data under it
 * changes (NULL when none is hovered). */
const char *secateur_heatmap_get_tooltip (SecateurHeatmap *self);
/* The tooltip text of a cell; g_free. */
char      *secateur_heatmap_describe    (SecateurHeatmap *self, int row, int col);
/* Draws what the widget draws into a new image surface. */
cairo_surface_t *secateur_heatmap_render (SecateurHeatmap *self, int width, int height);
/* The cell under a point of a width x height drawing. */
gboolean   secateur_heatmap_hit         (SecateurHeatmap *self, double width, double height,
                                         double x, double y, int *row, int *col);
gboolean   secateur_heatmap_cell_rect   (SecateurHeatmap *self, double width, double height,
                                         int row, int col, double *x, double *y, double *w,
                                         double *h);
void       secateur_heatmap_set_zoom    (SecateurHeatmap *self, double zoom);

G_END_DECLS
