/* secateur-similarity.c: the language similarity matrix widget. */
#include "secateur-similarity.h"

#include <string.h>

#include "sc-chart-matrix.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <math.h>

struct _SecateurSimilarity
{
  GtkWidget parent_instance;
  int n;
  float *values;
  int *order;
  GStrv labels;
};

G_DEFINE_FINAL_TYPE (SecateurSimilarity, secateur_similarity, GTK_TYPE_WIDGET)

void
secateur_similarity_cosine (int n, int dim, const float *usage, float *out)
{
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
      {
        double dot = 0, ni = 0, nj = 0;
        for (int k = 0; k < dim; k++)
          {
            double a = usage[(gsize) i * dim + k], b = usage[(gsize) j * dim + k];
            dot += a * b;
            ni += a * a;
            nj += b * b;
          }
        out[i * n + j] = ni > 0 && nj > 0 ? (float) (dot / sqrt (ni * nj)) : 0.0f;
      }
}

static void
fill (SecateurSimilarity *self, ScMatrixData *d)
{
  /* fields added to ScMatrixData later start out zero (off) */
  memset (d, 0, sizeof *d);
  d->n = self->n;
  d->values = self->values;
  d->labels = (const char *const *) self->labels;
  d->order = self->order;
  d->title = _ ("expert-usage similarity");
  d->dark = adw_style_manager_get_dark (adw_style_manager_get_default ());
}

static void
secateur_similarity_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  SecateurSimilarity *self = SECATEUR_SIMILARITY (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  if (self->n == 0 || w <= 0 || h <= 0)
    return;
  ScMatrixData d;
  fill (self, &d);
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  sc_chart_matrix_draw (cr, w, h, &d);
  cairo_destroy (cr);
}

static void
secateur_similarity_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                             int *minimum, int *natural, int *minimum_baseline,
                             int *natural_baseline)
{
  SecateurSimilarity *self = SECATEUR_SIMILARITY (widget);
  *minimum = 200 + 10 * self->n;
  *natural = 200 + 24 * self->n;
}

static gboolean
on_query_tooltip (GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip,
                  SecateurSimilarity *self)
{
  if (self->n == 0)
    return FALSE;
  ScMatrixData d;
  fill (self, &d);
  int i, j;
  if (!sc_chart_matrix_hit (gtk_widget_get_width (widget), gtk_widget_get_height (widget), &d, x, y,
                            &i, &j))
    return FALSE;
  g_autofree char *text = g_strdup_printf (_ ("%s and %s: similarity %.2f"), self->labels[i],
                                           self->labels[j], self->values[i * self->n + j]);
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

static void
on_dark_changed (AdwStyleManager *manager, GParamSpec *pspec, GtkWidget *self)
{
  gtk_widget_queue_draw (self);
}

static void
secateur_similarity_finalize (GObject *object)
{
  SecateurSimilarity *self = SECATEUR_SIMILARITY (object);
  g_signal_handlers_disconnect_by_data (adw_style_manager_get_default (), self);
  g_free (self->values);
  g_free (self->order);
  g_strfreev (self->labels);
  G_OBJECT_CLASS (secateur_similarity_parent_class)->finalize (object);
}

static void
secateur_similarity_class_init (SecateurSimilarityClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = secateur_similarity_finalize;
  GTK_WIDGET_CLASS (klass)->snapshot = secateur_similarity_snapshot;
  GTK_WIDGET_CLASS (klass)->measure = secateur_similarity_measure;
  gtk_widget_class_set_accessible_role (GTK_WIDGET_CLASS (klass), GTK_ACCESSIBLE_ROLE_IMG);
}

static void
secateur_similarity_init (SecateurSimilarity *self)
{
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  g_signal_connect (self, "query-tooltip", G_CALLBACK (on_query_tooltip), self);
  g_signal_connect (adw_style_manager_get_default (), "notify::dark", G_CALLBACK (on_dark_changed),
                    self);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Language similarity of expert usage"), -1);
}

void
secateur_similarity_set_data (SecateurSimilarity *self, int n, const char *const *labels,
                              const float *values)
{
  g_clear_pointer (&self->values, g_free);
  g_clear_pointer (&self->order, g_free);
  g_clear_pointer (&self->labels, g_strfreev);
  self->n = values != NULL ? n : 0;
  if (self->n > 0)
    {
      self->values = g_memdup2 (values, sizeof (float) * n * n);
      self->labels = g_strdupv ((char **) labels);
      self->order = g_new0 (int, n);
      sc_chart_matrix_cluster_order (n, self->values, self->order);
    }
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

int
secateur_similarity_get_n (SecateurSimilarity *self)
{
  return self->n;
}

float
secateur_similarity_get (SecateurSimilarity *self, int i, int j)
{
  g_return_val_if_fail (i >= 0 && i < self->n && j >= 0 && j < self->n, NAN);
  return self->values[i * self->n + j];
}
