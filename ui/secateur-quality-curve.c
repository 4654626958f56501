/* secateur-quality-curve.c: the quality-vs-pruning widget, one line per run. */
#include "secateur-quality-curve.h"

#include "sc-chart-curve.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <math.h>

typedef struct
{
  char *label;
  int n, n_dirs;
  double *x, *mean, *scores;
  GStrv directions;
} Run;

struct _SecateurQualityCurve
{
  GtkWidget parent_instance;
  GPtrArray *runs; /* Run */
  int current;
  double marker;
};

G_DEFINE_FINAL_TYPE (SecateurQualityCurve, secateur_quality_curve, GTK_TYPE_WIDGET)

static void
run_free (Run *run)
{
  g_free (run->label);
  g_free (run->x);
  g_free (run->mean);
  g_free (run->scores);
  g_strfreev (run->directions);
  g_free (run);
}

/* The lines: each run's mean (the current one solid, the others dashed
 * when there are several); a lone run's pairs dashed after its mean. */
static ScCurveSeries *
series_of (SecateurQualityCurve *self, int *n_series)
{
  guint n_runs = self->runs->len;
  Run *lone = n_runs == 1 ? self->runs->pdata[0] : NULL;
  int n = n_runs + (lone != NULL ? lone->n_dirs : 0);
  ScCurveSeries *series = g_new0 (ScCurveSeries, MAX (n, 1));
  for (guint i = 0; i < n_runs; i++)
    {
      Run *r = self->runs->pdata[i];
      gboolean dashed = n_runs > 1 && self->current >= 0 && (int) i != self->current;
      series[i] = (ScCurveSeries){ r->label, r->n, r->x, r->mean, dashed };
    }
  for (int d = 0; lone != NULL && d < lone->n_dirs; d++)
    series[n_runs + d] =
        (ScCurveSeries){ lone->directions[d], lone->n, lone->x, lone->scores + d * lone->n, TRUE };
  *n_series = n;
  return series;
}

static void
draw (SecateurQualityCurve *self, cairo_t *cr, int w, int h)
{
  ScCurveData cd = { 0 };
  g_autofree ScCurveSeries *series = series_of (self, &cd.n_series);
  cd.series = series;
  cd.xmin = 0;
  cd.xmax = 1;
  cd.x_label = _ ("share of experts pruned");
  cd.y_label = _ ("chrF++");
  cd.title = _ ("Measured quality");
  cd.marker_x = self->marker;
  /* the share as the slider says it ("62.5 %"), not a bare 0.62 */
  g_autofree char *marker = NULL;
  if (isfinite (self->marker))
    {
      double v = round (1000 * self->marker) / 10;
      marker = fabs (v - round (v)) < 1e-9 ? g_strdup_printf ("%.0f %%", v)
                                           : g_strdup_printf ("%.1f %%", v);
    }
  cd.marker_label = marker;
  cd.dark = adw_style_manager_get_dark (adw_style_manager_get_default ());
  sc_chart_curve_draw (cr, w, h, &cd);
}

static void
secateur_quality_curve_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  SecateurQualityCurve *self = SECATEUR_QUALITY_CURVE (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  if (self->runs->len == 0 || w <= 0 || h <= 0)
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
  g_ptr_array_unref (self->runs);
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
  self->runs = g_ptr_array_new_with_free_func ((GDestroyNotify) run_free);
  self->current = -1;
  self->marker = NAN;
  g_signal_connect (adw_style_manager_get_default (), "notify::dark", G_CALLBACK (on_dark_changed),
                    self);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Quality against pruning ratio"), -1);
}

void
secateur_quality_curve_clear (SecateurQualityCurve *self)
{
  g_ptr_array_set_size (self->runs, 0);
  self->current = -1;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
secateur_quality_curve_add_run (SecateurQualityCurve *self, const char *label, int n,
                                const double *x, const double *mean, const char *const *directions,
                                const double *scores)
{
  g_return_if_fail (n > 0 && x != NULL && mean != NULL);
  Run *run = g_new0 (Run, 1);
  run->label = g_strdup (label);
  run->n = n;
  run->x = g_memdup2 (x, sizeof (double) * n);
  run->mean = g_memdup2 (mean, sizeof (double) * n);
  if (directions != NULL && scores != NULL)
    {
      run->directions = g_strdupv ((char **) directions);
      run->n_dirs = g_strv_length (run->directions);
      run->scores = g_memdup2 (scores, sizeof (double) * n * run->n_dirs);
    }
  g_ptr_array_add (self->runs, run);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
secateur_quality_curve_set_current (SecateurQualityCurve *self, int index)
{
  self->current = index;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

int
secateur_quality_curve_get_n_runs (SecateurQualityCurve *self)
{
  return self->runs->len;
}

const char *
secateur_quality_curve_get_run_label (SecateurQualityCurve *self, int index)
{
  g_return_val_if_fail (index >= 0 && (guint) index < self->runs->len, NULL);
  return ((Run *) self->runs->pdata[index])->label;
}

int
secateur_quality_curve_get_n_series (SecateurQualityCurve *self)
{
  int n = 0;
  g_free (series_of (self, &n));
  return n;
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
