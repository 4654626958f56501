/* sc-report.c: heatmap and quality curve files and a CSV of scores. */
#include "sc-report.h"

#include "sc-chart-curve.h"
#include "sc-chart-heatmap.h"
#include "sc-chart-output.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

GStrv
sc_report_row_labels (int rows, int n_encoder_rows)
{
  GStrv labels = g_new0 (char *, rows + 1);
  for (int l = 0; l < rows; l++)
    labels[l] = l < n_encoder_rows ? g_strdup_printf (_ ("enc %d"), l + 1)
                                   : g_strdup_printf (_ ("dec %d"), l - n_encoder_rows + 1);
  return labels;
}

void
sc_report_init (ScReport *r, ScStats *stats, const ScPruneSettings *settings,
                const char *const *directions, int n_points, const double *ratios,
                const double *chrf, const double *scores)
{
  const ScStatsShape *shape = sc_stats_get_shape (stats);
  memset (r, 0, sizeof *r);
  r->rows = shape->n_moe_layers;
  r->cols = shape->n_experts;
  r->n_encoder_rows = shape->n_encoder_moe;
  int n = r->rows * r->cols;
  r->values = g_new0 (float, n);
  r->pruned = g_new0 (guint8, n);
  r->metric = g_strdup (sc_expert_metric_to_string (settings->metric));
  g_autofree double *m =
      sc_expert_metrics_for (stats, SC_GRANULARITY_GLOBAL, NULL, NULL, settings->metric, NULL);
  g_auto (GStrv) dirs = sc_stats_list_directions (stats);
  g_autofree guint8 *keep = sc_prune_keep_union (stats, settings, (const char *const *) dirs, NULL);
  for (int i = 0; i < n; i++)
    {
      r->values[i] = m ? (float) m[i] : NAN;
      r->pruned[i] = keep ? !keep[i] : 0;
    }
  r->row_labels = sc_report_row_labels (r->rows, r->n_encoder_rows);
  if (n_points > 0 && directions != NULL)
    {
      r->n_points = n_points;
      r->ratios = g_memdup2 (ratios, sizeof (double) * n_points);
      r->chrf = g_memdup2 (chrf, sizeof (double) * n_points);
      r->directions = g_strdupv ((char **) directions);
      r->scores = g_memdup2 (scores, sizeof (double) * n_points * g_strv_length (r->directions));
    }
}

void
sc_report_clear (ScReport *r)
{
  g_clear_pointer (&r->values, g_free);
  g_clear_pointer (&r->pruned, g_free);
  g_clear_pointer (&r->row_labels, g_strfreev);
  g_clear_pointer (&r->metric, g_free);
  g_clear_pointer (&r->ratios, g_free);
  g_clear_pointer (&r->chrf, g_free);
  g_clear_pointer (&r->directions, g_strfreev);
  g_clear_pointer (&r->scores, g_free);
}

gboolean
sc_report_write (const ScReport *r, const char *folder, GError **error)
{
  if (g_mkdir_with_parents (folder, 0755) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), _ ("Cannot create %s: %s"),
                   folder, g_strerror (saved));
      return FALSE;
    }
  ScHeatmapData hm = { 0 };
  hm.rows = r->rows;
  hm.cols = r->cols;
  hm.values = r->values;
  hm.pruned = r->pruned;
  hm.row_labels = (const char *const *) r->row_labels;
  hm.title = r->metric;
  hm.n_encoder_rows = r->n_encoder_rows;
  int w = MAX (480, 60 + 14 * r->cols), h = 120 + 28 * r->rows;
  g_autofree char *png = g_build_filename (folder, "heatmap.png", NULL);
  g_autofree char *svg = g_build_filename (folder, "heatmap.svg", NULL);
  if (!sc_chart_write_png (png, w, h, sc_chart_draw_heatmap, &hm, error) ||
      !sc_chart_write_svg (svg, w, h, sc_chart_draw_heatmap, &hm, error))
    return FALSE;

  g_autoptr (GString) csv = g_string_new ("direction,pruning_ratio,chrf_pp\n");
  if (r->n_points > 0)
    {
      guint n_dirs = g_strv_length (r->directions);
      g_autofree ScCurveSeries *series = g_new0 (ScCurveSeries, n_dirs + 1);
      series[0] = (ScCurveSeries){ _ ("mean"), r->n_points, r->ratios, r->chrf, FALSE };
      for (guint d = 0; d < n_dirs; d++)
        {
          series[d + 1] = (ScCurveSeries){ r->directions[d], r->n_points, r->ratios,
                                           r->scores + d * r->n_points, TRUE };
          for (int i = 0; i < r->n_points; i++)
            {
              /* A score that could not be measured is an empty cell, never
               * "nan", which spreadsheets and CSV readers take as text. */
              double v = r->scores[d * r->n_points + i];
              g_string_append_printf (csv, "%s,%.2f,", r->directions[d], r->ratios[i]);
              if (isfinite (v))
                g_string_append_printf (csv, "%.4f", v);
              g_string_append_c (csv, '\n');
            }
        }
      ScCurveData cd = { 0 };
      cd.n_series = n_dirs + 1;
      cd.series = series;
      cd.xmin = 0;
      cd.xmax = 1;
      cd.x_label = _ ("pruning ratio");
      cd.y_label = _ ("chrF++");
      cd.title = _ ("Quality vs pruning (held-out UDHR)");
      cd.marker_x = NAN;
      g_autofree char *qpng = g_build_filename (folder, "quality.png", NULL);
      g_autofree char *qsvg = g_build_filename (folder, "quality.svg", NULL);
      if (!sc_chart_write_png (qpng, 640, 400, sc_chart_draw_curve, &cd, error) ||
          !sc_chart_write_svg (qsvg, 640, 400, sc_chart_draw_curve, &cd, error))
        return FALSE;
    }
  g_autofree char *csv_path = g_build_filename (folder, "scores.csv", NULL);
  return g_file_set_contents (csv_path, csv->str, csv->len, error);
}
