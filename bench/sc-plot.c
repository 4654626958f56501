/* sc-plot: draws bench results from TSV files with Secateur's own charts.
 *
 *   sc-plot curve   IN.tsv OUT.png [--title T --x-label L --y-label L ...]
 *   sc-plot matrix  IN.tsv OUT.png [--title T --cluster]
 *   sc-plot heatmap IN.tsv OUT.png [--title T --x-label L]
 *   sc-plot bars    IN.tsv OUT.png [--title T]
 *
 * OUT ending in .svg gives SVG. See engine/charts/sc-chart-plot.h for the
 * table layouts. */
#include <cairo.h>
#include <glib.h>
#ifdef HAVE_FONTCONFIG
#include <fontconfig/fontconfig.h>
#endif
#include <locale.h>
#include <math.h>
#include <stdio.h>

#include "sc-chart-plot.h"

/* Frees Cairo's and fontconfig's font caches, so leak checkers (the ASan
 * build runs this program in its tests) see a clean exit. */
static void
free_font_caches (void)
{
  cairo_debug_reset_static_data ();
#ifdef HAVE_FONTCONFIG
  FcFini ();
#endif
}

static int
run (int argc, char **argv)
{
  g_autofree char *title = NULL, *x_label = NULL, *y_label = NULL;
  g_auto (GStrv) dashed = NULL;
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  int width = 0, height = 0;
  gboolean dark = FALSE, cluster = FALSE;
  double marker = NAN, ymin = 0, ymax = 0;
  ScPlotOptions options;
  ScPlotKind kind;
  GOptionEntry entries[] = {
    { "title", 't', 0, G_OPTION_ARG_STRING, &title, "Chart title (heatmap, matrix: legend title)",
      "T" },
    { "x-label", 0, 0, G_OPTION_ARG_STRING, &x_label, "Caption of the x axis", "L" },
    { "y-label", 0, 0, G_OPTION_ARG_STRING, &y_label, "Caption of the y axis (curve)", "L" },
    { "width", 'W', 0, G_OPTION_ARG_INT, &width, "Image width in pixels", "W" },
    { "height", 'H', 0, G_OPTION_ARG_INT, &height, "Image height in pixels", "H" },
    { "dark", 0, 0, G_OPTION_ARG_NONE, &dark, "Dark style", NULL },
    { "cluster", 0, 0, G_OPTION_ARG_NONE, &cluster, "Matrix: order rows by similarity", NULL },
    { "marker", 0, 0, G_OPTION_ARG_DOUBLE, &marker, "Curve: vertical marker at x", "X" },
    { "ymin", 0, 0, G_OPTION_ARG_DOUBLE, &ymin, "Curve: y axis minimum", "Y" },
    { "ymax", 0, 0, G_OPTION_ARG_DOUBLE, &ymax, "Curve: y axis maximum", "Y" },
    { "dashed", 0, 0, G_OPTION_ARG_STRING_ARRAY, &dashed, "Curve: draw this series dashed",
      "NAME" },
    { NULL },
  };

  setlocale (LC_ALL, "");
  context = g_option_context_new ("curve|matrix|heatmap|bars IN.tsv OUT.png");
  g_option_context_set_summary (context,
                                "Draws a chart from a tab-separated table (PNG, or SVG when OUT "
                                "ends in .svg).");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "sc-plot: %s\n", error->message);
      return 2;
    }
  if (argc != 4 || !sc_plot_kind_from_string (argv[1], &kind))
    {
      fprintf (stderr, "Usage: sc-plot curve|matrix|heatmap|bars IN.tsv OUT.png [OPTION…]\n");
      return 2;
    }
  if (width < 0 || height < 0 || width > 16384 || height > 16384)
    {
      fprintf (stderr, "sc-plot: --width and --height must be between 1 and 16384\n");
      return 2;
    }
  sc_plot_options_init (&options);
  options.title = title;
  options.x_label = x_label;
  options.y_label = y_label;
  options.width = width;
  options.height = height;
  options.dark = dark;
  options.cluster = cluster;
  options.marker_x = marker;
  options.ymin = ymin;
  options.ymax = ymax;
  options.dashed = (const char *const *) dashed;
  if (!sc_plot_tsv (kind, argv[2], argv[3], &options, &error))
    {
      fprintf (stderr, "sc-plot: %s\n", error->message);
      return 1;
    }
  return 0;
}

int
main (int argc, char **argv)
{
  int status = run (argc, argv);
  free_font_caches ();
  return status;
}
