/* sc-report.c: heatmap and quality curve files and a CSV of scores. */
#include "sc-report.h"

#include "sc-chart-curve.h"
#include "sc-chart-heatmap.h"
#include "sc-chart-output.h"
#include "sc-json-write.h"

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
  g_clear_pointer (&r->held_out, g_free);
}

/* One file of the report: a chart (draw non-NULL) or scores.csv. */
typedef struct
{
  const char *name;
  gboolean svg;
  int width, height;
  ScChartDrawFunc draw;
  gconstpointer data;
} ReportFile;

/* Everything the report holds, described once for writing and measuring. */
typedef struct
{
  ScHeatmapData hm;
  ScCurveData cd;
  ScCurveSeries *series;
  char *title;
  GString *csv;
  char *about; /* about.json: what each chart rests on */
  gsize about_len;
  ReportFile files[5];
  int n_files;
} ReportLayout;

static void
report_layout_clear (ReportLayout *l)
{
  g_clear_pointer (&l->series, g_free);
  g_clear_pointer (&l->title, g_free);
  g_clear_pointer (&l->about, g_free);
  if (l->csv != NULL)
    g_string_free (g_steal_pointer (&l->csv), TRUE);
}

static void
add_chart (ReportLayout *l, const char *name, gboolean svg, int w, int h, ScChartDrawFunc draw,
           gconstpointer data)
{
  l->files[l->n_files++] = (ReportFile){ name, svg, w, h, draw, data };
}

char *
sc_report_quality_title (const char *held_out, int sentences)
{
  if (held_out == NULL || *held_out == '\0')
    return g_strdup (_ ("Quality vs pruning"));
  if (sentences <= 0)
    /* TRANSLATORS: %s names the held-out set, e.g. "heldout.tsv" or "UDHR" */
    return g_strdup_printf (_ ("Quality vs pruning (held-out: %s)"), held_out);
  /* TRANSLATORS: %s names the held-out set, e.g. "heldout.tsv" or "UDHR" */
  return g_strdup_printf (
      g_dngettext (GETTEXT_PACKAGE, "Quality vs pruning (held-out: %s, %d sentence per pair)",
                   "Quality vs pruning (held-out: %s, %d sentences per pair)", sentences),
      held_out, sentences);
}

/* about.json: the charts' titles and what they rest on, readable by
 * programs (the images' text is drawn, not stored as text). */
static void
layout_about (const ScReport *r, ReportLayout *l)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "heatmap_metric");
  json_builder_add_string_value (b, r->metric ? r->metric : "");
  if (l->title != NULL)
    {
      json_builder_set_member_name (b, "quality_title");
      json_builder_add_string_value (b, l->title);
      json_builder_set_member_name (b, "held_out");
      json_builder_add_string_value (b, r->held_out ? r->held_out : "");
      json_builder_set_member_name (b, "sentences_per_pair");
      json_builder_add_int_value (b, r->sentences);
    }
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  l->about = sc_json_to_data (root, TRUE, &l->about_len, NULL);
}

static void
report_layout (const ScReport *r, ReportLayout *l)
{
  memset (l, 0, sizeof *l);
  l->hm.rows = r->rows;
  l->hm.cols = r->cols;
  l->hm.values = r->values;
  l->hm.pruned = r->pruned;
  l->hm.row_labels = (const char *const *) r->row_labels;
  l->hm.title = r->metric;
  l->hm.n_encoder_rows = r->n_encoder_rows;
  int w = MAX (480, 60 + 14 * r->cols), h = 120 + 28 * r->rows;
  add_chart (l, "heatmap.png", FALSE, w, h, sc_chart_draw_heatmap, &l->hm);
  add_chart (l, "heatmap.svg", TRUE, w, h, sc_chart_draw_heatmap, &l->hm);

  l->csv = g_string_new ("direction,pruning_ratio,chrf_pp\n");
  if (r->n_points == 0)
    {
      layout_about (r, l);
      return;
    }
  guint n_dirs = g_strv_length (r->directions);
  l->series = g_new0 (ScCurveSeries, n_dirs + 1);
  l->series[0] = (ScCurveSeries){ _ ("mean"), r->n_points, r->ratios, r->chrf, FALSE };
  for (guint d = 0; d < n_dirs; d++)
    {
      l->series[d + 1] = (ScCurveSeries){ r->directions[d], r->n_points, r->ratios,
                                          r->scores + d * r->n_points, TRUE };
      for (int i = 0; i < r->n_points; i++)
        {
          /* A score that could not be measured is an empty cell, never
           * "nan", which spreadsheets and CSV readers take as text. */
          double v = r->scores[d * r->n_points + i];
          g_string_append_printf (l->csv, "%s,%.2f,", r->directions[d], r->ratios[i]);
          if (isfinite (v))
            g_string_append_printf (l->csv, "%.4f", v);
          g_string_append_c (l->csv, '\n');
        }
    }
  l->cd.n_series = n_dirs + 1;
  l->cd.series = l->series;
  l->cd.xmin = 0;
  l->cd.xmax = 1;
  l->cd.x_label = _ ("pruning ratio");
  l->cd.y_label = _ ("chrF++");
  /* what the curve rests on, from the sweep's own record */
  l->title = sc_report_quality_title (r->held_out, r->sentences);
  l->cd.title = l->title;
  l->cd.marker_x = NAN;
  add_chart (l, "quality.png", FALSE, 640, 400, sc_chart_draw_curve, &l->cd);
  add_chart (l, "quality.svg", TRUE, 640, 400, sc_chart_draw_curve, &l->cd);
  layout_about (r, l);
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
  ReportLayout l;
  report_layout (r, &l);
  gboolean ok = TRUE;
  for (int i = 0; ok && i < l.n_files; i++)
    {
      const ReportFile *f = &l.files[i];
      g_autofree char *path = g_build_filename (folder, f->name, NULL);
      ok = f->svg ? sc_chart_write_svg (path, f->width, f->height, f->draw, f->data, error)
                  : sc_chart_write_png (path, f->width, f->height, f->draw, f->data, error);
    }
  g_autofree char *csv_path = g_build_filename (folder, "scores.csv", NULL);
  ok = ok && g_file_set_contents (csv_path, l.csv->str, l.csv->len, error);
  g_autofree char *about_path = g_build_filename (folder, "about.json", NULL);
  ok = ok && g_file_set_contents (about_path, l.about, l.about_len, error);
  report_layout_clear (&l);
  return ok;
}

gboolean
sc_report_measure (const ScReport *r, ScReportFileFunc add, gpointer add_data, GError **error)
{
  ReportLayout l;
  report_layout (r, &l);
  gboolean ok = TRUE;
  for (int i = 0; ok && i < l.n_files; i++)
    {
      const ReportFile *f = &l.files[i];
      guint64 bytes = 0;
      ok = f->svg ? sc_chart_svg_bytes (f->width, f->height, f->draw, f->data, &bytes, error)
                  : sc_chart_png_bytes (f->width, f->height, f->draw, f->data, &bytes, error);
      if (ok)
        add (f->name, bytes, add_data);
    }
  if (ok)
    {
      add ("scores.csv", l.csv->len, add_data);
      add ("about.json", l.about_len, add_data);
    }
  report_layout_clear (&l);
  return ok;
}
