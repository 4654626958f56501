/* secateur-dumbbell.c: the per-language before/after chart widget. */
#include "secateur-dumbbell.h"

#include "sc-chart-dumbbell.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <math.h>

struct _SecateurDumbbell
{
  GtkWidget parent_instance;
  int n;
  GStrv labels;
  double *before, *after;
  gboolean *flagged;
  gboolean *noise; /* NULL: no intervals */
  char *note;      /* the legend's entry for the grey rows */
};

G_DEFINE_FINAL_TYPE (SecateurDumbbell, secateur_dumbbell, GTK_TYPE_WIDGET)

const char *
secateur_dumbbell_get_title (SecateurDumbbell *self)
{
  return _ ("chrF++ per language, eng_Latn → X");
}

static void
secateur_dumbbell_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  SecateurDumbbell *self = SECATEUR_DUMBBELL (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  if (self->n == 0 || w <= 0 || h <= 0)
    return;
  ScDumbbellData d = { 0 };
  d.n = self->n;
  d.labels = (const char *const *) self->labels;
  d.before = self->before;
  d.after = self->after;
  d.flagged = self->flagged;
  d.noise = self->noise;
  d.noise_note = self->note;
  d.title = secateur_dumbbell_get_title (self);
  d.before_name = _ ("full model");
  d.after_name = _ ("pruned");
  d.dark = adw_style_manager_get_dark (adw_style_manager_get_default ());
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  sc_chart_dumbbell_draw (cr, w, h, &d);
  cairo_destroy (cr);
}

static void
secateur_dumbbell_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                           int *minimum, int *natural, int *minimum_baseline, int *natural_baseline)
{
  SecateurDumbbell *self = SECATEUR_DUMBBELL (widget);
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      /* never narrower than the title, which the chart does not shorten
       * (measured in the chart's font: bold sans-serif, 13 px, after a
       * 12 px margin) */
      cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
      cairo_t *cr = cairo_create (surface);
      cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
      cairo_set_font_size (cr, 13);
      cairo_text_extents_t ext;
      cairo_text_extents (cr, secateur_dumbbell_get_title (self), &ext);
      cairo_destroy (cr);
      cairo_surface_destroy (surface);
      *minimum = MAX (240, (int) ceil (ext.x_advance) + 2 * 12);
      *natural = MAX (360, *minimum);
    }
  else
    {
      /* a row of at least 14 px per language under title, legend and axis */
      *minimum = 80 + 14 * self->n;
      *natural = MAX (200, 80 + 24 * self->n);
    }
}

static void
on_dark_changed (AdwStyleManager *manager, GParamSpec *pspec, GtkWidget *self)
{
  gtk_widget_queue_draw (self);
}

static void
clear (SecateurDumbbell *self)
{
  g_clear_pointer (&self->labels, g_strfreev);
  g_clear_pointer (&self->before, g_free);
  g_clear_pointer (&self->after, g_free);
  g_clear_pointer (&self->flagged, g_free);
  g_clear_pointer (&self->noise, g_free);
  g_clear_pointer (&self->note, g_free);
  self->n = 0;
}

static void
secateur_dumbbell_finalize (GObject *object)
{
  SecateurDumbbell *self = SECATEUR_DUMBBELL (object);
  g_signal_handlers_disconnect_by_data (adw_style_manager_get_default (), self);
  clear (self);
  G_OBJECT_CLASS (secateur_dumbbell_parent_class)->finalize (object);
}

static void
secateur_dumbbell_class_init (SecateurDumbbellClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = secateur_dumbbell_finalize;
  GTK_WIDGET_CLASS (klass)->snapshot = secateur_dumbbell_snapshot;
  GTK_WIDGET_CLASS (klass)->measure = secateur_dumbbell_measure;
  gtk_widget_class_set_accessible_role (GTK_WIDGET_CLASS (klass), GTK_ACCESSIBLE_ROLE_IMG);
}

static void
secateur_dumbbell_init (SecateurDumbbell *self)
{
  g_signal_connect (adw_style_manager_get_default (), "notify::dark", G_CALLBACK (on_dark_changed),
                    self);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Quality per language before and after pruning"), -1);
}

void
secateur_dumbbell_set_data (SecateurDumbbell *self, int n, const char *const *labels,
                            const double *before, const double *after, const gboolean *flagged)
{
  clear (self);
  if (n > 0 && before != NULL && after != NULL)
    {
      self->n = n;
      self->labels = g_new0 (char *, n + 1);
      for (int i = 0; i < n; i++)
        self->labels[i] = g_strdup (labels ? labels[i] : NULL);
      self->before = g_memdup2 (before, sizeof (double) * n);
      self->after = g_memdup2 (after, sizeof (double) * n);
      self->flagged = flagged ? g_memdup2 (flagged, sizeof (gboolean) * n) : g_new0 (gboolean, n);
    }
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

int
secateur_dumbbell_get_n (SecateurDumbbell *self)
{
  return self->n;
}

gboolean
secateur_dumbbell_get_row (SecateurDumbbell *self, int i, double *before, double *after,
                           gboolean *flagged)
{
  if (i < 0 || i >= self->n)
    return FALSE;
  *before = self->before[i];
  *after = self->after[i];
  *flagged = self->flagged[i];
  return TRUE;
}

void
secateur_dumbbell_set_noise (SecateurDumbbell *self, const gboolean *noise, int sentences)
{
  g_clear_pointer (&self->noise, g_free);
  g_clear_pointer (&self->note, g_free);
  if (self->n > 0 && noise != NULL)
    {
      self->noise = g_memdup2 (noise, sizeof (gboolean) * self->n);
      self->note = g_strdup_printf (
          g_dngettext (GETTEXT_PACKAGE,
                       "%d sentence per language; grey: within noise (95 %% interval holds 0)",
                       "%d sentences per language; grey: within noise (95 %% interval holds 0)",
                       sentences),
          sentences);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
secateur_dumbbell_get_noise (SecateurDumbbell *self, int i)
{
  return self->noise != NULL && i >= 0 && i < self->n && self->noise[i];
}

const char *
secateur_dumbbell_get_note (SecateurDumbbell *self)
{
  return self->note;
}
