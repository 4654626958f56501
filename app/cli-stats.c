/* cli-stats.c: secateur-cli stats — merge and inspect gate statistics.
 *
 *   secateur-cli stats merge A.json B.json ... -o OUT.json
 *   secateur-cli stats show FILE [--top N] [--metric NAME]
 *   secateur-cli stats specialisation FILE [--top-k K] [--tsv-dir DIR]
 *   secateur-cli stats reconstruction FILE -m MODEL --experts INDEX [--capture FILE]
 */
#include "cli-commands.h"
#include "sc-expert-index.h"
#include "sc-provenance.h"
#include "sc-expert-metrics.h"
#include "sc-reconstruct.h"
#include "sc-specialisation.h"
#include "sc-stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <math.h>

static void
stats_usage (FILE *f)
{
  fprintf (f, "Usage:\n"
              "  secateur-cli stats merge A.json B.json ... -o OUT.json\n"
              "  secateur-cli stats show FILE [--top N] [--metric NAME]\n"
              "  secateur-cli stats specialisation FILE [--top-k K] [--tsv-dir DIR]\n"
              "  secateur-cli stats reconstruction FILE -m MODEL --experts INDEX [--capture F]\n"
              "\n"
              "merge adds the counters of statistics files of the same model (the result\n"
              "is the statistics of all their data) and keeps every file's calibration\n"
              "runs. show prints the model, the calibration runs (corpus, sampling,\n"
              "sizes, mode), the directions with their tokens per MoE layer, and the\n"
              "top experts of each layer over all directions (metric: importance by\n"
              "default). specialisation\n"
              "prints, per MoE layer, how concentrated each language's routing is (share\n"
              "of its top-K experts, effective number of experts) and how much languages\n"
              "share experts (overlap), with the language-similarity matrices of the\n"
              "encoder and the decoder; --tsv-dir also writes them as TSV files.\n");
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
      "importance, importance-vanilla, top1 (or activity), top2 (ranked 2nd only), top1+top2 "
      "(or frequency), conf1, conf2, rank, load, mean, reap",
      "NAME" },
    { NULL }
  };
  const ScCliRange ranges[] = {
    { "top", 1, G_MAXINT },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("FILE - show statistics");
  sc_cli_add_main_entries (ctx, entries, ranges);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "secateur-cli stats show: %s\n", error->message);
      return 2;
    }
  ScExpertMetric metric = SC_EXPERT_METRIC_IMPORTANCE;
  if (argc != 2 || (metric_name && !sc_expert_metric_from_string (metric_name, &metric)))
    {
      fprintf (stderr, "secateur-cli stats show: need one FILE and a known --metric\n");
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
  g_autoptr (JsonArray) runs = sc_stats_get_provenance (s);
  guint n_runs = json_array_get_length (runs);
  if (n_runs == 0)
    printf ("Calibration: not recorded (a file written before Secateur kept its provenance)\n");
  else
    printf ("Calibration: %u run(s)\n", n_runs);
  for (guint i = 0; i < n_runs; i++)
    {
      g_autofree char *line = sc_provenance_describe (json_array_get_object_element (runs, i));
      printf ("  %u. %s\n", i + 1, line);
    }
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

/* Writes a labelled square matrix (order given) as TSV. */
static gboolean
write_matrix_tsv (const char *path, char **labels, const double *m, int n, const int *order,
                  GError **error)
{
  g_autoptr (GString) s = g_string_new ("");
  for (int i = 0; i < n; i++)
    g_string_append_printf (s, "\t%s", labels[order[i]]);
  g_string_append_c (s, '\n');
  for (int i = 0; i < n; i++)
    {
      g_string_append (s, labels[order[i]]);
      for (int j = 0; j < n; j++)
        {
          double v = m[(gsize) order[i] * n + order[j]];
          if (isnan (v))
            g_string_append (s, "\t");
          else
            g_string_append_printf (s, "\t%.4f", v);
        }
      g_string_append_c (s, '\n');
    }
  return g_file_set_contents (path, s->str, (gssize) s->len, error);
}

static int
stats_specialisation (int argc, char **argv)
{
  int top_k = 3;
  g_autofree char *tsv_dir = NULL;
  GOptionEntry entries[] = {
    { "top-k", 0, 0, G_OPTION_ARG_INT, &top_k, "Experts in the concentration share (default 3)",
      "K" },
    { "tsv-dir", 0, 0, G_OPTION_ARG_FILENAME, &tsv_dir,
      "Also write layers.tsv, similarity-encoder.tsv and similarity-decoder.tsv here", "DIR" },
    { NULL }
  };
  const ScCliRange ranges[] = {
    { "top-k", 1, G_MAXINT },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx =
      g_option_context_new ("FILE - how language-specific the experts are");
  sc_cli_add_main_entries (ctx, entries, ranges);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "secateur-cli stats specialisation: %s\n", error->message);
      return 2;
    }
  if (argc != 2)
    {
      fprintf (stderr, "secateur-cli stats specialisation: need one statistics FILE\n");
      return 2;
    }
  g_autoptr (ScStats) stats = sc_stats_load (argv[1], NULL, &error);
  g_autoptr (ScSpecialisation) sp = stats ? sc_specialisation_compute (stats, top_k, &error) : NULL;
  if (sp == NULL)
    {
      fprintf (stderr, "secateur-cli stats specialisation: %s\n", error->message);
      return 1;
    }
  int N = sp->n_langs;
  g_autoptr (GString) layers = g_string_new ("layer\tlanguage\ttop_share\teffective_experts\t"
                                             "mean_overlap\n");
  printf ("Routing concentration per MoE layer (mean over languages): share of the top-%d "
          "experts, effective experts = exp(entropy) of %d, overlap = mean over language pairs "
          "of sum_e min(p_a, p_b)\n",
          top_k, sp->n_experts);
  printf ("%-8s %10s %10s %10s\n", "layer", "top share", "effective", "overlap");
  for (int l = 0; l < sp->n_layers; l++)
    {
      gboolean enc = l < sp->n_encoder;
      g_autofree char *name =
          g_strdup_printf ("%s %d", enc ? "enc" : "dec", enc ? l : l - sp->n_encoder);
      for (int a = 0; a < N; a++)
        {
          double t, e, o;
          sc_specialisation_means (sp, l, l + 1, a, &t, &e, &o);
          if (!isnan (t))
            g_string_append_printf (layers, "%s\t%s\t%.4f\t%.3f\t%.4f\n", name, sp->langs[a], t, e,
                                    o);
        }
      double ts, ef, ov;
      sc_specialisation_means (sp, l, l + 1, -1, &ts, &ef, &ov);
      printf ("%-8s %10.3f %10.2f %10.3f\n", name, ts, ef, ov);
    }
  for (int side = 0; side < 2; side++)
    {
      double ts, ef, ov;
      sc_specialisation_side_means (sp, side, &ts, &ef, &ov);
      printf ("%-8s %10.3f %10.2f %10.3f\n", side == 0 ? "encoder" : "decoder", ts, ef, ov);
    }
  for (int side = 0; side < 2; side++)
    {
      g_autofree double *sim = sc_specialisation_similarity (sp, side);
      g_autofree int *order = sc_cluster_order (sim, N);
      printf ("\nLanguage similarity, %s (mean overlap over its MoE layers; clustered order)\n",
              side == 0 ? "encoder (source languages)" : "decoder (target languages)");
      printf ("%-9s", "");
      for (int j = 0; j < N; j++)
        printf (" %4.4s", sp->langs[order[j]]);
      printf ("\n");
      for (int i = 0; i < N; i++)
        {
          printf ("%-9s", sp->langs[order[i]]);
          for (int j = 0; j < N; j++)
            {
              double v = sim[(gsize) order[i] * N + order[j]];
              if (isnan (v))
                printf ("    -");
              else
                printf (" %4.2f", v);
            }
          printf ("\n");
        }
      if (tsv_dir != NULL)
        {
          g_autofree char *p = g_build_filename (
              tsv_dir, side == 0 ? "similarity-encoder.tsv" : "similarity-decoder.tsv", NULL);
          if (g_mkdir_with_parents (tsv_dir, 0755) != 0 ||
              !write_matrix_tsv (p, sp->langs, sim, N, order, &error))
            {
              fprintf (stderr, "secateur-cli stats specialisation: %s\n",
                       error ? error->message : g_strerror (errno));
              return 1;
            }
        }
    }
  if (tsv_dir != NULL)
    {
      g_autofree char *p = g_build_filename (tsv_dir, "layers.tsv", NULL);
      if (!g_file_set_contents (p, layers->str, (gssize) layers->len, &error))
        {
          fprintf (stderr, "secateur-cli stats specialisation: %s\n", error->message);
          return 1;
        }
    }
  return 0;
}

/* Per layer, the relative error of each index entry's kept set in
 * reconstructing the layer's output on the router inputs captured beside
 * the statistics (calibrate --capture); keys pool the captured tokens as
 * selection does (a language: encoder by source, decoder by target). */
static int
stats_reconstruction (int argc, char **argv)
{
  g_autofree char *model_dir = NULL, *index_path = NULL, *capture_path = NULL;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_dir, "Model directory", "DIR" },
    { "experts", 0, 0, G_OPTION_ARG_FILENAME, &index_path, "Expert index (select -o)", "INDEX" },
    { "capture", 0, 0, G_OPTION_ARG_FILENAME, &capture_path,
      "Router inputs (default: beside FILE, FILE.capture)", "FILE" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx =
      g_option_context_new ("FILE - reconstruction error of an index's kept experts");
  sc_cli_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "secateur-cli stats reconstruction: %s\n", error->message);
      return 2;
    }
  if (argc != 2 || model_dir == NULL || index_path == NULL)
    {
      fprintf (stderr, "secateur-cli stats reconstruction: need FILE, -m and --experts\n");
      return 2;
    }
  g_auto (ScCliDeviceOptions) dev = { 0 };
  g_autofree char *cap_path =
      capture_path ? g_strdup (capture_path) : sc_capture_path_for_stats (argv[1]);
  g_autoptr (ScModel) model = sc_cli_load_model (model_dir, SC_MODEL_LOAD_DEFAULT, &dev, &error);
  g_autoptr (ScCapture) cap = model ? sc_capture_load (cap_path, &error) : NULL;
  const ScMoeShape *sh = model ? sc_model_get_moe_shape (model) : NULL;
  int n_moe = sh ? sh->n_moe_layers : 0, n_enc = sh ? sh->n_encoder_moe : 0;
  int n_experts = sh ? sh->n_experts : 0;
  g_autoptr (ScExpertIndex) idx =
      cap ? sc_expert_index_load (index_path, n_moe, n_enc, n_experts, &error) : NULL;
  if (idx == NULL)
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }
  g_auto (GStrv) keys = sc_expert_index_keys (idx);
  gboolean global = sc_expert_index_is_global (idx);
  g_autofree double *rel = g_new (double, n_moe);
  for (char **k = global ? NULL : keys; global || *k; k++)
    {
      const char *key = global ? NULL : *k;
      g_autofree char *src = NULL, *tgt = NULL;
      ScGranularity gran = SC_GRANULARITY_GLOBAL;
      if (key != NULL && sc_stats_split_direction (key, &src, &tgt))
        gran = SC_GRANULARITY_PAIR;
      else if (key != NULL)
        gran = SC_GRANULARITY_LANG, src = g_strdup (key), tgt = g_strdup (key);
      GArray *ids = sc_expert_index_get (idx, key);
      g_autoptr (ScSelection) sel =
          sc_selection_new_from_ids ((int *) ids->data, ids->len, n_moe, n_enc, n_experts, &error);
      if (sel == NULL ||
          !sc_reconstruct_errors (model, cap, gran, src, tgt, sel, rel, NULL, &error))
        {
          fprintf (stderr, "secateur-cli: %s\n", error->message);
          return 1;
        }
      printf ("%s", key ? key : "global");
      for (int m = 0; m < n_moe; m++)
        printf ("%s %.2f%% (%u)", m == n_enc ? " |" : "", 100.0 * rel[m], sel->kept[m]->len);
      printf ("\n");
      if (global)
        break;
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
  if (g_str_equal (argv[1], "specialisation") || g_str_equal (argv[1], "specialization"))
    return stats_specialisation (argc - 1, argv + 1);
  if (g_str_equal (argv[1], "reconstruction"))
    return stats_reconstruction (argc - 1, argv + 1);
  fprintf (stderr, "secateur-cli stats: unknown action '%s'\n", argv[1]);
  stats_usage (stderr);
  return 2;
}
