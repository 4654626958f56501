/* secateur-quality-curve.c: the quality-vs-ratio widget. */
#include "secateur-quality-curve.h"

#include "sc-chart-curve.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <math.h>

struct _SecateurQualityCurve
{
  GtkWidget parent_instance;
  int n, n_dirs;
  double *x, *mean, *scores;
  GStrv directions;
  double marker;
};

G_DEFINE_FINAL_TYPE (SecateurQualityCurve, secateur_quality_curve, GTK_TYPE_WIDGET)

static void
draw (SecateurQualityCurve *self, cairo_t *cr, int w, int h)
{
  g_autofree ScCurveSeries *series = g_new0 (ScCurveSeries, self->n_dirs + 1);
  series[0] = (ScCurveSeries){ _ ("mean"), self->n, self->x, self->mean, FALSE };
  for (int d = 0; d < self->n_dirs; d++)
    series[d + 1] =
        (ScCurveSeries){ self->directions[d], self->n, self->x, self->scores + d * self->n, TRUE };
  ScCurveData cd = { 0 };
  cd.n_series = self->n_dirs + 1;
  cd.series = series;
  cd.xmin = 0;
  cd.xmax = 1;
  cd.x_label = _ ("pruning ratio");
  cd.y_label = _ ("chrF++");
  cd.title = _ ("Quality estimate");
  cd.marker_x = self->marker;
  cd.dark = adw_style_manager_get_dark (adw_style_manager_get_default ());
  sc_chart_curve_draw (cr, w, h, &cd);
}

static void
secateur_quality_curve_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  SecateurQualityCurve *self = SECATEUR_QUALITY_CURVE (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  if (self->n == 0 || w <= 0 || h <= 0)
    return;
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  draw (self, cr, w, h);
  cairo_destroy (cr);
}

static void
secateur_quality_curve_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                                int *minimum, int *natural, int *minimum_baseline,
                                int *natural_baseline)
{
  *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 240 : 160;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 420 : 240;
}

static void
secateur_quality_curve_finalize (GObject *object)
{
  SecateurQualityCurve *self = SECATEUR_QUALITY_CURVE (object);
  g_signal_handlers_disconnect_by_data (adw_style_manager_get_default (), self);
  g_free (self->x);
  g_free (self->mean);
  g_free (self->scores);
  g_strfreev (self->directions);
  G_OBJECT_CLASS (secateur_quality_curve_parent_class)->finalize (object);
}

static void
on_dark_changed (AdwStyleManager *manager, GParamSpec *pspec, GtkWidget *self)
{
  gtk_widget_queue_draw (self);
}

static void
secateur_quality_curve_class_init (SecateurQualityCurveClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = secateur_quality_curve_finalize;
  GTK_WIDGET_CLASS (klass)->snapshot = secateur_quality_curve_snapshot;
  GTK_WIDGET_CLASS (klass)->measure = secateur_quality_curve_measure;
  gtk_widget_class_set_accessible_role (GTK_WIDGET_CLASS (klass), GTK_ACCESSIBLE_ROLE_IMG);
}

static void
secateur_quality_curve_init (SecateurQualityCurve *self)
{
  self->marker = NAN;
  g_signal_connect (adw_style_manager_get_default (), "notify::dark", G_CALLBACK (on_dark_changed),
                    self);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Quality against pruning ratio"), -1);
}

void
secateur_quality_curve_set_data (SecateurQualityCurve *self, int n, const double *ratios,
                                 const double *mean, const char *const *directions,
                                 const double *scores)
{
  g_clear_pointer (&self->x, g_free);
  g_clear_pointer (&self->mean, g_free);
  g_clear_pointer (&self->scores, g_free);
  g_clear_pointer (&self->directions, g_strfreev);
  self->n = mean != NULL ? n : 0;
  self->n_dirs = 0;
  if (self->n > 0)
    {
      self->x = g_memdup2 (ratios, sizeof (double) * n);
      self->mean = g_memdup2 (mean, sizeof (double) * n);
      if (directions != NULL && scores != NULL)
        {
          self->directions = g_strdupv ((char **) directions);
          self->n_dirs = g_strv_length (self->directions);
          self->scores = g_memdup2 (scores, sizeof (double) * n * self->n_dirs);
        }
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
secateur_quality_curve_set_marker (SecateurQualityCurve *self, double ratio)
{
  self->marker = ratio;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

double
secateur_quality_curve_get_marker (SecateurQualityCurve *self)
{
  return self->marker;
}
