/* cli-stats.c: secateur-cli stats — merge and inspect gate statistics.
 *
 *   secateur-cli stats merge A.json B.json ... -o OUT.json
 *   secateur-cli stats show FILE [--top N] [--metric NAME]
 */
#include "cli-commands.h"
#include "sc-expert-metrics.h"
#include "sc-stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
stats_usage (FILE *f)
{
  fprintf (f, "Usage:\n"
              "  secateur-cli stats merge A.json B.json ... -o OUT.json\n"
              "  secateur-cli stats show FILE [--top N] [--metric NAME]\n"
              "\n"
              "merge adds the counters of statistics files of the same model (the result\n"
              "is the statistics of all their data). show prints the model, the\n"
              "directions with their tokens per MoE layer, and the top experts of each\n"
              "layer over all directions (metric: importance by default).\n");
}

static int
stats_merge (int argc, char **argv)
{
  g_autofree char *output = NULL;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Merged statistics file", "FILE" }, { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("A.json B.json ... - merge statistics");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "secateur-cli stats merge: %s\n", error->message);
      return 2;
    }
  if (output == NULL || argc < 2)
    {
      fprintf (stderr, "secateur-cli stats merge: need input files and -o OUT.json\n");
      stats_usage (stderr);
      return 2;
    }
  g_autoptr (ScStats) sum = NULL;
  for (int i = 1; i < argc; i++)
    {
      g_autoptr (ScStats) s =
          sc_stats_load (argv[i], sum ? sc_stats_get_shape (sum) : NULL, &error);
      if (s == NULL)
        {
          fprintf (stderr, "secateur-cli: %s\n", error->message);
          return 1;
        }
      if (sum == NULL)
        {
          sum = g_steal_pointer (&s);
        }
      else if (!sc_stats_merge (sum, s, &error))
        {
          fprintf (stderr, "secateur-cli: %s: %s\n", argv[i], error->message);
          return 1;
        }
    }
  if (!sc_stats_save (sum, output, &error))
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }
  g_auto (GStrv) dirs = sc_stats_list_directions (sum);
  printf ("Merged %d file(s): %u direction(s), %" G_GUINT64_FORMAT " router events -> %s\n",
          argc - 1, g_strv_length (dirs), sc_stats_total_tokens (sum), output);
  return 0;
}

typedef struct
{
  double v;
  int e;
} Ranked;

static int
cmp_ranked (const void *a, const void *b)
{
  const Ranked *x = a, *y = b;
  if (x->v != y->v)
    return x->v > y->v ? -1 : 1;
  return (x->e > y->e) - (x->e < y->e);
}

static int
stats_show (int argc, char **argv)
{
  int top = 5;
  g_autofree char *metric_name = NULL;
  GOptionEntry entries[] = {
    { "top", 0, 0, G_OPTION_ARG_INT, &top, "Experts shown per layer (default 5)", "N" },
    { "metric", 0, 0, G_OPTION_ARG_STRING, &metric_name,
      "importance, importance-vanilla, activity, top2, load, frequency, reap, mean", "NAME" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("FILE - show statistics");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "secateur-cli stats show: %s\n", error->message);
      return 2;
    }
  ScExpertMetric metric = SC_EXPERT_METRIC_IMPORTANCE;
  if (argc != 2 || top < 1 || (metric_name && !sc_expert_metric_from_string (metric_name, &metric)))
    {
      fprintf (stderr, "secateur-cli stats show: need one FILE, --top >= 1 and a known --metric\n");
      stats_usage (stderr);
      return 2;
    }
  g_autoptr (ScStats) s = sc_stats_load (argv[1], NULL, &error);
  if (s == NULL)
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }
  const ScStatsShape *sh = sc_stats_get_shape (s);
  int L = sh->n_moe_layers, E = sh->n_experts;
  printf ("Model:       %s (d_model %d, %d encoder + %d decoder layers)\n",
          sh->name && *sh->name ? sh->name : "(unnamed)", sh->d_model, sh->encoder_layers,
          sh->decoder_layers);
  printf ("MoE layers:  %d (%d encoder, %d decoder) x %d experts\n", L, sh->n_encoder_moe,
          L - sh->n_encoder_moe, E);
  g_auto (GStrv) dirs = sc_stats_list_directions (s);
  printf ("Directions:  %u\n", g_strv_length (dirs));
  printf ("Tokens per MoE layer (E = encoder, D = decoder):\n");
  for (char **d = dirs; *d; d++)
    {
      g_autoptr (ScStatsCounters) c = sc_stats_get_pair (s, *d, NULL);
      printf ("  %-20s", *d);
      for (int l = 0; l < L; l++)
        printf (" %c%d=%" G_GUINT64_FORMAT, l < sh->n_encoder_moe ? 'E' : 'D',
                l < sh->n_encoder_moe ? l : l - sh->n_encoder_moe, c->tokens[l]);
      printf ("\n");
    }
  g_autoptr (ScStatsCounters) glob = sc_stats_get_global (s, NULL);
  if (glob == NULL)
    return 0;
  g_autofree double *m = sc_expert_metrics_compute (glob, metric);
  top = MIN (top, E);
  printf ("Top %d experts per layer by %s (all directions; expert:value, global id = "
          "layer x %d + expert):\n",
          top, sc_expert_metric_to_string (metric), E);
  g_autofree Ranked *r = g_new (Ranked, E);
  for (int l = 0; l < L; l++)
    {
      for (int e = 0; e < E; e++)
        r[e] = (Ranked){ m[(gsize) l * E + e], e };
      qsort (r, E, sizeof (Ranked), cmp_ranked);
      printf ("  layer %2d (%c%d)", l, l < sh->n_encoder_moe ? 'E' : 'D',
              l < sh->n_encoder_moe ? l : l - sh->n_encoder_moe);
      for (int i = 0; i < top; i++)
        printf (" %d:%.4f", r[i].e, r[i].v);
      printf ("\n");
    }
  return 0;
}

int
sc_cli_stats (int argc, char **argv)
{
  if (argc < 2 || g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"))
    {
      stats_usage (argc < 2 ? stderr : stdout);
      return argc < 2 ? 2 : 0;
    }
  if (g_str_equal (argv[1], "merge"))
    return stats_merge (argc - 1, argv + 1);
  if (g_str_equal (argv[1], "show"))
    return stats_show (argc - 1, argv + 1);
  fprintf (stderr, "secateur-cli stats: unknown action '%s'\n", argv[1]);
  stats_usage (stderr);
  return 2;
}
