/* secateur-bars.c: the kept-experts bar chart widget. */
#include "secateur-bars.h"

#include "sc-chart-bars.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <math.h>

struct _SecateurBars
{
  GtkWidget parent_instance;
  int n, n_encoder;
  double *values, *max_values;
  GStrv labels;
  gboolean percent;
  char *title; /* NULL: experts kept per layer */
};

G_DEFINE_FINAL_TYPE (SecateurBars, secateur_bars, GTK_TYPE_WIDGET)

static void
secateur_bars_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  SecateurBars *self = SECATEUR_BARS (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  if (self->n == 0 || w <= 0 || h <= 0)
    return;
  ScBarsData d = { self->n,
                   self->values,
                   self->max_values,
                   (const char *const *) self->labels,
                   self->title ? self->title : _ ("experts kept per layer"),
                   adw_style_manager_get_dark (adw_style_manager_get_default ()),
                   self->n_encoder,
                   self->percent };
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  sc_chart_bars_draw (cr, w, h, &d);
  cairo_destroy (cr);
}

static void
secateur_bars_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                       int *natural, int *minimum_baseline, int *natural_baseline)
{
  *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 200 : 140;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 360 : 200;
}

static void
on_dark_changed (AdwStyleManager *manager, GParamSpec *pspec, GtkWidget *self)
{
  gtk_widget_queue_draw (self);
}

static void
secateur_bars_finalize (GObject *object)
{
  SecateurBars *self = SECATEUR_BARS (object);
  g_signal_handlers_disconnect_by_data (adw_style_manager_get_default (), self);
  g_free (self->values);
  g_free (self->max_values);
  g_strfreev (self->labels);
  g_free (self->title);
  G_OBJECT_CLASS (secateur_bars_parent_class)->finalize (object);
}

static void
secateur_bars_class_init (SecateurBarsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = secateur_bars_finalize;
  GTK_WIDGET_CLASS (klass)->snapshot = secateur_bars_snapshot;
  GTK_WIDGET_CLASS (klass)->measure = secateur_bars_measure;
  gtk_widget_class_set_accessible_role (GTK_WIDGET_CLASS (klass), GTK_ACCESSIBLE_ROLE_IMG);
}

static void
secateur_bars_init (SecateurBars *self)
{
  g_signal_connect (adw_style_manager_get_default (), "notify::dark", G_CALLBACK (on_dark_changed),
                    self);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Experts kept per layer"), -1);
}

void
secateur_bars_set_data (SecateurBars *self, int n, const int *kept, int max_value, int n_encoder,
                        const char *const *labels)
{
  g_clear_pointer (&self->values, g_free);
  g_clear_pointer (&self->max_values, g_free);
  g_clear_pointer (&self->labels, g_strfreev);
  self->n = kept != NULL ? n : 0;
  self->n_encoder = n_encoder;
  self->percent = FALSE;
  if (self->n > 0)
    {
      self->values = g_new (double, n);
      self->max_values = g_new (double, n);
      for (int i = 0; i < n; i++)
        {
          self->values[i] = kept[i];
          self->max_values[i] = max_value;
        }
      self->labels = g_strdupv ((char **) labels);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
secateur_bars_set_shares (SecateurBars *self, int n, const double *shares, int n_encoder,
                          const char *const *labels)
{
  g_clear_pointer (&self->values, g_free);
  g_clear_pointer (&self->max_values, g_free);
  g_clear_pointer (&self->labels, g_strfreev);
  self->n = shares != NULL ? n : 0;
  self->n_encoder = n_encoder;
  self->percent = TRUE;
  if (self->n > 0)
    {
      self->values = g_new (double, n);
      self->max_values = g_new (double, n);
      for (int i = 0; i < n; i++)
        {
          self->values[i] = shares[i];
          self->max_values[i] = 1.0;
        }
      self->labels = g_strdupv ((char **) labels);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
secateur_bars_set_title (SecateurBars *self, const char *title)
{
  g_free (self->title);
  self->title = g_strdup (title);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  title ? title : _ ("Experts kept per layer"), -1);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

int
secateur_bars_get_n (SecateurBars *self)
{
  return self->n;
}

double
secateur_bars_get_value (SecateurBars *self, int i)
{
  g_return_val_if_fail (i >= 0 && i < self->n, NAN);
  return self->values[i];
}
