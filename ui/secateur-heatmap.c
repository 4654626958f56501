/* secateur-heatmap.c: GtkWidget wrapper of the Cairo expert heatmap. */
#include "secateur-heatmap.h"

#include "sc-chart-heatmap.h"
#include "sc-report.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

struct _SecateurHeatmap
{
  GtkWidget parent_instance;

  int rows, cols, n_encoder_rows;
  float *values;
  guint8 *pruned;
  GStrv row_labels;
  char *title;
  GStrv langs;
  float *usage;
  int hover_row, hover_col;
  double zoom;
  char *tip; /* the hovered cell's description, kept current */
};

G_DEFINE_FINAL_TYPE (SecateurHeatmap, secateur_heatmap, GTK_TYPE_WIDGET)

static void
fill_data (SecateurHeatmap *self, ScHeatmapData *d)
{
  memset (d, 0, sizeof *d);
  d->rows = self->rows;
  d->cols = self->cols;
  d->values = self->values;
  d->pruned = self->pruned;
  d->row_labels = (const char *const *) self->row_labels;
  d->title = self->title;
  d->dark = adw_style_manager_get_dark (adw_style_manager_get_default ());
  d->n_encoder_rows = self->n_encoder_rows;
  d->show_hover = self->hover_row >= 0;
  d->hover_row = self->hover_row;
  d->hover_col = self->hover_col;
  d->x_label = _ ("expert");
}

static void
secateur_heatmap_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  SecateurHeatmap *self = SECATEUR_HEATMAP (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  if (self->values == NULL || w <= 0 || h <= 0)
    return;
  ScHeatmapData d;
  fill_data (self, &d);
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  sc_chart_heatmap_draw (cr, w, h, &d);
  cairo_destroy (cr);
}

/* The scrolled window's visible height, the heatmap's size at zoom 1. */
static int
viewport_height (SecateurHeatmap *self)
{
  GtkWidget *sw = gtk_widget_get_ancestor (GTK_WIDGET (self), GTK_TYPE_SCROLLED_WINDOW);
  return sw != NULL ? gtk_widget_get_height (sw) : 0;
}

static void
secateur_heatmap_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                          int *natural, int *minimum_baseline, int *natural_baseline)
{
  SecateurHeatmap *self = SECATEUR_HEATMAP (widget);
  /* Width: cells of at least 6 px plus labels and the legend, never more,
   * so that the legend stays in view (128 experts fit a 1366 px screen).
   * Height: the zoom times the visible height, so that every notch of
   * Ctrl+scroll changes the drawing (a fixed minimum only took effect once
   * it passed the allocation). */
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    *minimum = 160 + MAX (self->cols, 8) * 6;
  else
    {
      int base = 110 + MAX (self->rows, 2) * 14;
      *minimum = self->zoom > 1.0 ? MAX (base, (int) (viewport_height (self) * self->zoom)) : base;
    }
  *natural = *minimum;
}

gboolean
secateur_heatmap_hit (SecateurHeatmap *self, double width, double height, double x, double y,
                      int *row, int *col)
{
  if (self->values == NULL)
    return FALSE;
  ScHeatmapData d;
  fill_data (self, &d);
  return sc_chart_heatmap_hit (width, height, &d, x, y, row, col);
}

gboolean
secateur_heatmap_cell_rect (SecateurHeatmap *self, double width, double height, int row, int col,
                            double *x, double *y, double *w, double *h)
{
  if (self->values == NULL)
    return FALSE;
  ScHeatmapData d;
  fill_data (self, &d);
  return sc_chart_heatmap_cell_rect (width, height, &d, row, col, x, y, w, h);
}

static void
on_motion (GtkEventControllerMotion *motion, double x, double y, SecateurHeatmap *self)
{
  int row = -1, col = -1;
  GtkWidget *w = GTK_WIDGET (self);
  if (!secateur_heatmap_hit (self, gtk_widget_get_width (w), gtk_widget_get_height (w), x, y, &row,
                             &col))
    row = col = -1;
  secateur_heatmap_set_hover (self, row, col);
}

/* The hovered cell's text follows the data: live statistics change under a
 * still pointer, and GTK only asks again when told to. */
static void
refresh_tip (SecateurHeatmap *self, gboolean data_changed)
{
  g_free (self->tip);
  self->tip = secateur_heatmap_describe (self, self->hover_row, self->hover_col);
  if (data_changed && self->hover_row >= 0)
    gtk_widget_trigger_tooltip_query (GTK_WIDGET (self));
}

void
secateur_heatmap_set_hover (SecateurHeatmap *self, int row, int col)
{
  if (row == self->hover_row && col == self->hover_col)
    return;
  self->hover_row = row;
  self->hover_col = col;
  refresh_tip (self, FALSE); /* the pointer moved: GTK asks by itself */
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

const char *
secateur_heatmap_get_tooltip (SecateurHeatmap *self)
{
  return self->tip;
}

static void
on_leave (GtkEventControllerMotion *motion, SecateurHeatmap *self)
{
  secateur_heatmap_set_hover (self, -1, -1);
}

static gboolean
on_scroll (GtkEventControllerScroll *scroll, double dx, double dy, SecateurHeatmap *self)
{
  GdkModifierType mods =
      gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (scroll));
  if (!(mods & GDK_CONTROL_MASK))
    return FALSE; /* plain scrolling moves the scrolled window */
  secateur_heatmap_set_zoom (self, self->zoom * (dy < 0 ? 1.25 : 0.8));
  return TRUE;
}

char *
secateur_heatmap_describe (SecateurHeatmap *self, int row, int col)
{
  if (self->values == NULL || row < 0 || row >= self->rows || col < 0 || col >= self->cols)
    return NULL;
  int cell = row * self->cols + col;
  GString *s = g_string_new (NULL);
  g_string_append_printf (s, _ ("Layer %s, expert %d: %s %.4g"), self->row_labels[row], col,
                          self->title ? self->title : "", self->values[cell]);
  if (self->pruned != NULL && self->pruned[cell])
    g_string_append_printf (s, "\n%s", _ ("Pruned at the current ratio"));
  if (self->langs != NULL && self->usage != NULL)
    {
      /* The three languages that send this expert the most tokens. */
      int n = g_strv_length (self->langs), best[3] = { -1, -1, -1 };
      for (int k = 0; k < 3; k++)
        for (int l = 0; l < n; l++)
          {
            float v = self->usage[(gsize) l * self->rows * self->cols + cell];
            if (v <= 0 || l == best[0] || l == best[1])
              continue;
            if (best[k] < 0 || v > self->usage[(gsize) best[k] * self->rows * self->cols + cell])
              best[k] = l;
          }
      if (best[0] >= 0)
        g_string_append_printf (s, "\n%s", _ ("Used most by:"));
      for (int k = 0; k < 3 && best[k] >= 0; k++)
        g_string_append_printf (s, "\n  %s  %.1f %%", self->langs[best[k]],
                                100 *
                                    self->usage[(gsize) best[k] * self->rows * self->cols + cell]);
    }
  return g_string_free (s, FALSE);
}

static gboolean
on_query_tooltip (GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip,
                  SecateurHeatmap *self)
{
  int row, col;
  if (!secateur_heatmap_hit (self, gtk_widget_get_width (widget), gtk_widget_get_height (widget), x,
                             y, &row, &col))
    return FALSE;
  secateur_heatmap_set_hover (self, row, col);
  gtk_tooltip_set_text (tooltip, self->tip);
  return self->tip != NULL;
}

static void
on_dark_changed (AdwStyleManager *manager, GParamSpec *pspec, SecateurHeatmap *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
secateur_heatmap_finalize (GObject *object)
{
  SecateurHeatmap *self = SECATEUR_HEATMAP (object);
  g_signal_handlers_disconnect_by_data (adw_style_manager_get_default (), self);
  g_free (self->values);
  g_free (self->pruned);
  g_strfreev (self->row_labels);
  g_free (self->title);
  g_strfreev (self->langs);
  g_free (self->usage);
  g_free (self->tip);
  G_OBJECT_CLASS (secateur_heatmap_parent_class)->finalize (object);
}

static void
secateur_heatmap_class_init (SecateurHeatmapClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->finalize = secateur_heatmap_finalize;
  widget_class->snapshot = secateur_heatmap_snapshot;
  widget_class->measure = secateur_heatmap_measure;
  gtk_widget_class_set_css_name (widget_class, "heatmap");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
secateur_heatmap_init (SecateurHeatmap *self)
{
  self->hover_row = self->hover_col = -1;
  self->zoom = 1.0;
  GtkEventController *motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  g_signal_connect (motion, "leave", G_CALLBACK (on_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
  GtkEventController *scroll =
      gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  g_signal_connect (scroll, "scroll", G_CALLBACK (on_scroll), self);
  gtk_widget_add_controller (GTK_WIDGET (self), scroll);
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  g_signal_connect (self, "query-tooltip", G_CALLBACK (on_query_tooltip), self);
  g_signal_connect (adw_style_manager_get_default (), "notify::dark", G_CALLBACK (on_dark_changed),
                    self);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Expert heatmap: MoE layers by experts"), -1);
}

void
secateur_heatmap_set_values (SecateurHeatmap *self, int rows, int cols, int n_encoder_rows,
                             const float *values, const char *title)
{
  gboolean resized = rows != self->rows || cols != self->cols;
  g_clear_pointer (&self->values, g_free);
  if (values != NULL && rows > 0 && cols > 0)
    self->values = g_memdup2 (values, sizeof (float) * rows * cols);
  if (resized || self->row_labels == NULL || n_encoder_rows != self->n_encoder_rows)
    {
      g_strfreev (self->row_labels);
      self->row_labels = sc_report_row_labels (rows, n_encoder_rows);
      g_clear_pointer (&self->pruned, g_free);
      g_clear_pointer (&self->usage, g_free);
    }
  self->rows = rows;
  self->cols = cols;
  self->n_encoder_rows = n_encoder_rows;
  g_free (self->title);
  self->title = g_strdup (title);
  if (resized)
    gtk_widget_queue_resize (GTK_WIDGET (self));
  refresh_tip (self, TRUE);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
secateur_heatmap_set_pruned (SecateurHeatmap *self, const guint8 *pruned)
{
  g_clear_pointer (&self->pruned, g_free);
  if (pruned != NULL && self->rows > 0)
    self->pruned = g_memdup2 (pruned, (gsize) self->rows * self->cols);
  refresh_tip (self, TRUE);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
secateur_heatmap_set_language_usage (SecateurHeatmap *self, const char *const *langs,
                                     const float *usage)
{
  g_clear_pointer (&self->langs, g_strfreev);
  g_clear_pointer (&self->usage, g_free);
  if (langs == NULL || usage == NULL || self->rows == 0)
    return;
  self->langs = g_strdupv ((char **) langs);
  self->usage =
      g_memdup2 (usage, sizeof (float) * g_strv_length (self->langs) * self->rows * self->cols);
  refresh_tip (self, TRUE);
}

int
secateur_heatmap_get_rows (SecateurHeatmap *self)
{
  return self->values ? self->rows : 0;
}

int
secateur_heatmap_get_cols (SecateurHeatmap *self)
{
  return self->values ? self->cols : 0;
}

float
secateur_heatmap_get_value (SecateurHeatmap *self, int row, int col)
{
  g_return_val_if_fail (
      self->values != NULL && row >= 0 && row < self->rows && col >= 0 && col < self->cols, NAN);
  return self->values[row * self->cols + col];
}

gboolean
secateur_heatmap_get_pruned (SecateurHeatmap *self, int row, int col)
{
  return self->pruned != NULL && row >= 0 && row < self->rows && col >= 0 && col < self->cols &&
         self->pruned[row * self->cols + col];
}

cairo_surface_t *
secateur_heatmap_render (SecateurHeatmap *self, int width, int height)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  if (self->values != NULL)
    {
      ScHeatmapData d;
      fill_data (self, &d);
      d.show_hover = FALSE;
      cairo_t *cr = cairo_create (surface);
      sc_chart_heatmap_draw (cr, width, height, &d);
      cairo_destroy (cr);
    }
  cairo_surface_flush (surface);
  return surface;
}

void
secateur_heatmap_set_zoom (SecateurHeatmap *self, double zoom)
{
  /* 1: the visible area, never smaller (zooming out of it showed nothing new) */
  self->zoom = CLAMP (zoom, 1.0, 6.0);
  gtk_widget_queue_resize (GTK_WIDGET (self));
}
