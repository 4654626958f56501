/* cli-select.c: secateur-cli select — choose the experts to keep from gate
 * statistics and write an expert index (the authors' experts.json format).
 *
 *   secateur-cli select --stats S.json (--ratio R | --keep N | --memory-gb X -m MODEL)
 *                       [--metric M] [--algo per-layer|threshold|reconstruct]
 *                       [--enc-dec A:B | --uniform] [--min-per-layer K] [--separate-enc-dec]
 *                       [--granularity global|lang|pair] [--aggregate pool|mean]
 *                       [--langs a,b] [--pairs a-b,..] [--as-langs]
 *                       [-m MODEL [--capture S.capture] [--merge]] -o experts.json
 *   secateur-cli select --project DIR [...]   (the project's statistics; the
 *                       selection stored in the project, and in -o when given)
 *
 * --memory-gb takes the size of an expert and of the rest from the model
 * (sc_model_get_moe_shape: the bytes as stored); --bytes-per-expert and
 * --dense-bytes give them by hand for statistics without the model. With a
 * model and the router inputs calibrate --capture sampled, --algo
 * reconstruct keeps in each layer the experts that best reconstruct its
 * output (sc-reconstruct.h), and every algorithm reports each layer's
 * reconstruction error of the chosen set; --merge also the error with the
 * pruned experts merged into kept ones as export --merge does (sc-merge.h).
 */
#include "cli-commands.h"
#include "sc-expert-index.h"
#include "sc-merge.h"
#include "sc-prune-plan.h"
#include "sc-reconstruct.h"
#include "sc-stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Output-aware selection and its per-layer report (set when -m is given). */
static struct
{
  ScModel *model;
  ScCapture *capture;
  gboolean reconstruct;
  gboolean by_sensitivity;
  gboolean merge;
  ScSelectBudget budget;
} recon;

/* rel: the errors when selection computed them, else NULL. */
static gboolean
report_reconstruction (ScGranularity gran, const char *src, const char *tgt, const char *key,
                       const ScSelection *sel, const double *rel, GError **error)
{
  g_autofree double *own = NULL;
  if (rel == NULL)
    {
      own = g_new0 (double, sel->n_layers);
      if (!sc_reconstruct_errors (recon.model, recon.capture, gran, src, tgt, sel, own, NULL,
                                  error))
        return FALSE;
      rel = own;
    }
  printf ("Reconstruction error of %s per MoE layer (encoder | decoder), experts kept:",
          key ? key : "the model");
  for (int m = 0; m < sel->n_layers; m++)
    printf ("%s %.2f%% (%u)", m == sel->n_encoder_layers ? " |" : "", 100.0 * rel[m],
            sel->kept[m]->len);
  printf ("\n");
  if (!recon.merge)
    return TRUE;
  g_autofree double *merged = g_new0 (double, sel->n_layers);
  if (!sc_merge_errors (recon.model, recon.capture, gran, src, tgt, sel, merged, NULL, error))
    return FALSE;
  printf ("With the pruned experts merged:");
  for (int m = 0; m < sel->n_layers; m++)
    printf ("%s %.2f%%", m == sel->n_encoder_layers ? " |" : "", 100.0 * merged[m]);
  printf ("\n");
  return TRUE;
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static gboolean
select_one (ScStats *stats, ScGranularity gran, ScAggregate agg, const char *src, const char *tgt,
            ScExpertMetric metric, const ScSelectOptions *opt, ScExpertIndex *idx, const char *key,
            GError **error)
{
  const ScStatsShape *sh = sc_stats_get_shape (stats);
  g_autofree double *m =
      sc_expert_metrics_for_aggregate (stats, gran, src, tgt, metric, agg, error);
  if (m == NULL)
    return FALSE;
  g_autofree double *rel = g_new0 (double, sh->n_moe_layers);
  g_autoptr (ScSelection) sel =
      recon.reconstruct
          ? sc_reconstruct_select (recon.model, recon.capture, gran, src, tgt, &recon.budget,
                                   recon.by_sensitivity, NULL, rel, NULL, error)
          : sc_select_experts (m, sh->n_moe_layers, sh->n_encoder_moe, sh->n_experts, opt, error);
  if (sel == NULL)
    return FALSE;
  if (recon.model != NULL &&
      !report_reconstruction (gran, src, tgt, key, sel, recon.reconstruct ? rel : NULL, error))
    return FALSE;
  return sc_expert_index_set (idx, key, (int *) sel->global_ids->data, sel->global_ids->len, error);
}

/* Languages seen as source or as target, sorted. */
static char **
languages_seen (ScStats *stats)
{
  g_auto (GStrv) srcs = sc_stats_list_languages (stats, FALSE);
  g_auto (GStrv) tgts = sc_stats_list_languages (stats, TRUE);
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  g_strv_builder_addv (b, (const char **) srcs);
  for (char **t = tgts; *t; t++)
    if (!g_strv_contains ((const char *const *) srcs, *t))
      g_strv_builder_add (b, *t);
  char **out = g_strv_builder_end (b);
  qsort (out, g_strv_length (out), sizeof (char *), cmp_str);
  return out;
}

int
sc_cli_select (int argc, char **argv)
{
  g_autofree char *stats_path = NULL, *output = NULL, *metric_name = NULL, *algo_name = NULL;
  g_autofree char *enc_dec = NULL, *gran_name = NULL, *langs = NULL, *pairs = NULL;
  g_autofree char *agg_name = NULL, *project_dir = NULL, *stored = NULL, *where = NULL;
  g_autofree char *model_dir = NULL, *capture_path = NULL, *layer_budgets = NULL;
  double ratio = 0, memory_gb = 0;
  gint64 bytes_per_expert = 0, dense_bytes = 0;
  int min_per_layer = 4, keep = 0;
  gboolean separate = FALSE, uniform = FALSE, as_langs = FALSE;
  GOptionEntry entries[] = {
    { "stats", 0, 0, G_OPTION_ARG_FILENAME, &stats_path, "Statistics file (secateur-stats JSON)",
      "FILE" },
    { "ratio", 0, 0, G_OPTION_ARG_DOUBLE, &ratio, "Fraction of experts to prune, in [0, 1)", "R" },
    { "keep", 0, 0, G_OPTION_ARG_INT, &keep, "Number of experts to keep (instead of --ratio)",
      "N" },
    { "memory-gb", 0, 0, G_OPTION_ARG_DOUBLE, &memory_gb,
      "Memory budget for the whole model in GiB (2^30 bytes)", "X" },
    { "bytes-per-expert", 0, 0, G_OPTION_ARG_INT64, &bytes_per_expert,
      "Bytes of one expert (with --memory-gb, without -m: statistics without the model)", "N" },
    { "dense-bytes", 0, 0, G_OPTION_ARG_INT64, &dense_bytes,
      "Bytes of everything but the experts (with --memory-gb, without -m)", "N" },
    { "metric", 0, 0, G_OPTION_ARG_STRING, &metric_name,
      "importance (default), importance-vanilla, top1 (or activity), top2 (ranked 2nd only), "
      "top1+top2 (or frequency), conf1, conf2, rank, load, mean, reap, random",
      "NAME" },
    { "algo", 0, 0, G_OPTION_ARG_STRING, &algo_name,
      "per-layer (default), threshold or reconstruct (needs -m)", "NAME" },
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_dir,
      "Model directory: its sizes for --memory-gb; with a capture, reconstruct and report each "
      "layer's reconstruction error",
      "DIR" },
    { "capture", 0, 0, G_OPTION_ARG_FILENAME, &capture_path,
      "Router inputs from calibrate --capture (default: beside --stats, S.capture)", "FILE" },
    { "layer-budgets", 0, 0, G_OPTION_ARG_STRING, &layer_budgets,
      "reconstruct: fixed (default; the --enc-dec counts) or sensitivity (each layer's count "
      "from its measured error, same totals)",
      "HOW" },
    { "enc-dec", 0, 0, G_OPTION_ARG_STRING, &enc_dec, "Encoder:decoder budget (default 3:1)",
      "A:B" },
    { "uniform", 0, 0, G_OPTION_ARG_NONE, &uniform,
      "The same number of experts in every MoE layer (per-layer, 1:1): exports load in "
      "stock transformers",
      NULL },
    { "min-per-layer", 0, 0, G_OPTION_ARG_INT, &min_per_layer,
      "threshold: experts kept in every layer (default 4)", "K" },
    { "separate-enc-dec", 0, 0, G_OPTION_ARG_NONE, &separate,
      "threshold: separate encoder and decoder thresholds", NULL },
    { "granularity", 0, 0, G_OPTION_ARG_STRING, &gran_name, "global, lang (default) or pair",
      "NAME" },
    { "aggregate", 0, 0, G_OPTION_ARG_STRING, &agg_name,
      "Language statistics from directions: pool (default; counters summed) or mean (each "
      "direction's statistics averaged, as nllb_pruning.py)",
      "HOW" },
    { "as-langs", 0, 0, G_OPTION_ARG_NONE, &as_langs,
      "global: write the list under every language (--langs, default all with statistics), "
      "the form pasero reads, instead of a plain list",
      NULL },
    { "langs", 0, 0, G_OPTION_ARG_STRING, &langs,
      "Languages to write (lang; default: all with statistics)", "a,b" },
    { "pairs", 0, 0, G_OPTION_ARG_STRING, &pairs,
      "Directions to write (pair, or lang; default for pair: all with statistics)", "a-b,.." },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Expert index to write", "FILE" },
    { "project", 0, 0, G_OPTION_ARG_FILENAME, &project_dir,
      "Project: its statistics unless --stats is given; the selection is stored in it", "DIR" },
    { "merge", 0, 0, G_OPTION_ARG_NONE, &recon.merge,
      "With -m: also each layer's error with the pruned experts merged (as export --merge)", NULL },
    { NULL }
  };
  const ScCliRange ranges[] = {
    { "ratio", 0, 1, SC_CLI_BELOW_MAX },
    { "keep", 1, G_MAXINT },
    { "memory-gb", 0, SC_CLI_MAX_GIB, SC_CLI_ABOVE_MIN },
    { "bytes-per-expert", 1, (double) G_MAXINT64 },
    { "dense-bytes", 0, (double) G_MAXINT64 },
    { "min-per-layer", 0, G_MAXINT },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- choose the experts to keep");
  ScCliOptions *given = sc_cli_add_main_entries (ctx, entries, ranges);
  g_option_context_set_summary (
      ctx, "Writes the ids of the experts to keep (id = moe_layer x num_experts + expert,\n"
           "encoder MoE layers first) in the JSON format of naver/nllb-pruning's experts.json:\n"
           "a list (global) or an object of languages or src-tgt directions.");
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "secateur-cli select: %s\n", error->message);
      return 2;
    }
  if ((stats_path == NULL || output == NULL) && project_dir == NULL)
    {
      fprintf (stderr,
               "secateur-cli select: --stats and -o (or --project) are required (see --help)\n");
      return 2;
    }
  if (argc > 1)
    {
      fprintf (stderr, "secateur-cli select: unexpected argument %s (see --help)\n", argv[1]);
      return 2;
    }

  /* the application's defaults (sc-prune-plan.h); the options below change them */
  ScPruneSettings defaults;
  sc_prune_settings_init (&defaults);
  ScSelectOptions opt;
  sc_prune_settings_select_options (&defaults, G_MAXINT, &opt);
  gboolean by_ratio = sc_cli_options_given (given, "ratio");
  gboolean by_memory = sc_cli_options_given (given, "memory-gb");
  if (by_ratio + by_memory + sc_cli_options_given (given, "keep") != 1)
    {
      fprintf (stderr, "secateur-cli select: give exactly one of --ratio, --keep, --memory-gb\n");
      return 2;
    }
  if (by_ratio)
    opt.ratio = ratio;
  opt.keep_count = keep;
  gboolean by_hand = sc_cli_options_given (given, "bytes-per-expert") ||
                     sc_cli_options_given (given, "dense-bytes");
  if (by_hand && (model_dir != NULL || !sc_cli_options_given (given, "bytes-per-expert") ||
                  !sc_cli_options_given (given, "dense-bytes")))
    {
      fprintf (stderr, "secateur-cli select: --bytes-per-expert and --dense-bytes go together, "
                       "for statistics without the model (-m reads them from the model)\n");
      return 2;
    }
  if (by_memory)
    {
      if (!by_hand && model_dir == NULL)
        {
          fprintf (stderr, "secateur-cli select: --memory-gb needs the model (-m DIR) for the "
                           "sizes of its experts\n");
          return 2;
        }
      opt.memory_budget = (guint64) floor (memory_gb * 1073741824.0);
      opt.bytes_per_expert = bytes_per_expert;
      opt.dense_bytes = dense_bytes;
    }
  ScExpertMetric metric = defaults.metric;
  if (metric_name && !sc_expert_metric_from_string (metric_name, &metric))
    {
      fprintf (stderr, "secateur-cli select: unknown metric '%s'\n", metric_name);
      return 2;
    }
  if (algo_name == NULL)
    ; /* the default */
  else if (g_str_equal (algo_name, "per-layer"))
    opt.algo = SC_SELECT_PER_LAYER;
  else if (g_str_equal (algo_name, "threshold"))
    opt.algo = SC_SELECT_THRESHOLD;
  else if (g_str_equal (algo_name, "reconstruct"))
    opt.algo = SC_SELECT_PER_LAYER, recon.reconstruct = TRUE; /* per-layer counts */
  else
    {
      fprintf (stderr, "secateur-cli select: unknown algorithm '%s'\n", algo_name);
      return 2;
    }
  if (enc_dec)
    {
      char *end = NULL;
      long a = strtol (enc_dec, &end, 10);
      long b = end && *end == ':' ? strtol (end + 1, &end, 10) : 0;
      if (end == NULL || *end != '\0' || a < 1 || b < 1 || a > 1000 || b > 1000)
        {
          fprintf (stderr, "secateur-cli select: --enc-dec must look like 3:1\n");
          return 2;
        }
      opt.enc_weight = a;
      opt.dec_weight = b;
    }
  if (uniform)
    {
      /* every layer keeps its top u: a plain NllbMoe checkpoint on export */
      if (opt.algo != SC_SELECT_PER_LAYER || (enc_dec != NULL && opt.enc_weight != opt.dec_weight))
        {
          fprintf (stderr, "secateur-cli select: --uniform keeps the same number in every layer; "
                           "it goes with neither --algo threshold nor an uneven --enc-dec\n");
          return 2;
        }
      opt.enc_weight = opt.dec_weight = 1;
    }
  opt.min_per_layer = min_per_layer;
  opt.separate_enc_dec = separate;
  ScGranularity gran = defaults.granularity;
  if (gran_name && !sc_granularity_from_string (gran_name, &gran))
    {
      fprintf (stderr, "secateur-cli select: unknown granularity '%s'\n", gran_name);
      return 2;
    }
  ScAggregate agg = SC_AGGREGATE_POOL;
  if (agg_name && !sc_aggregate_from_string (agg_name, &agg))
    {
      fprintf (stderr, "secateur-cli select: --aggregate is pool or mean, not '%s'\n", agg_name);
      return 2;
    }
  if (as_langs && gran != SC_GRANULARITY_GLOBAL)
    {
      fprintf (stderr, "secateur-cli select: --as-langs goes with --granularity global\n");
      return 2;
    }
  if (metric == SC_EXPERT_METRIC_TOP2)
    fprintf (stderr, "secateur-cli select: note: top2 is the share of tokens ranking an expert "
                     "exactly 2nd, as in nllb_pruning.py; the paper's \"Top 2 activity\" is "
                     "top1+top2\n");

  g_autoptr (ScProject) project = NULL;
  if (project_dir != NULL)
    {
      if ((project = sc_cli_open_project ("select", project_dir, model_dir)) == NULL)
        return 1;
      if (stats_path == NULL && !sc_project_has_stats (project))
        {
          fprintf (stderr,
                   "secateur-cli select: project %s has no statistics yet (calibrate "
                   "--project first)\n",
                   sc_project_get_dir (project));
          return 1;
        }
      if (stats_path == NULL)
        stats_path = sc_project_stats_path (project);
    }
  g_autoptr (ScStats) stats = sc_stats_load (stats_path, NULL, &error);
  if (stats == NULL)
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }
  const ScStatsShape *sh = sc_stats_get_shape (stats);
  g_autoptr (ScModel) model = NULL;
  if (model_dir != NULL)
    {
      g_auto (ScCliDeviceOptions) dev = { 0 };
      model = sc_cli_load_model (model_dir, SC_MODEL_LOAD_DEFAULT, &dev, &error);
      if (model == NULL || !sc_stats_check_model (stats, sc_model_get_moe_shape (model), &error))
        {
          fprintf (stderr, "secateur-cli: %s\n", error->message);
          return 1;
        }
      /* the stored sizes: what an export of the selection weighs */
      bytes_per_expert = sc_model_get_moe_shape (model)->bytes_per_expert;
      dense_bytes = sc_model_get_moe_shape (model)->dense_bytes;
      if (by_memory)
        {
          opt.bytes_per_expert = bytes_per_expert;
          opt.dense_bytes = dense_bytes;
        }
    }
  ScSelectBudget budget;
  if (!sc_select_budget (&opt, sh->n_moe_layers, sh->n_encoder_moe, sh->n_experts, &budget, &error))
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }
  if (layer_budgets != NULL)
    {
      recon.by_sensitivity = g_str_equal (layer_budgets, "sensitivity");
      if ((!recon.by_sensitivity && !g_str_equal (layer_budgets, "fixed")) || !recon.reconstruct ||
          (recon.by_sensitivity && uniform))
        {
          fprintf (stderr, "secateur-cli select: --layer-budgets is fixed or sensitivity, with "
                           "--algo reconstruct (sensitivity not with --uniform)\n");
          return 2;
        }
    }
  if (recon.by_sensitivity && keep > 0)
    {
      /* the threshold budget honours --keep exactly, its encoder share by --enc-dec */
      opt.algo = SC_SELECT_THRESHOLD;
      if (!sc_select_budget (&opt, sh->n_moe_layers, sh->n_encoder_moe, sh->n_experts, &budget,
                             &error))
        {
          fprintf (stderr, "secateur-cli: %s\n", error->message);
          return 1;
        }
      opt.algo = SC_SELECT_PER_LAYER;
    }
  g_autoptr (ScCapture) capture = NULL;
  if ((recon.reconstruct || recon.merge) && model_dir == NULL)
    {
      fprintf (stderr, "secateur-cli select: --algo reconstruct and --merge need the model (-m "
                       "DIR)\n");
      return 2;
    }
  /* The router inputs, when reconstructing or when there are some to
   * measure the selection with. */
  g_autofree char *cap_path =
      capture_path ? g_strdup (capture_path) : sc_capture_path_for_stats (stats_path);
  if (model != NULL && (recon.reconstruct || recon.merge || capture_path != NULL ||
                        g_file_test (cap_path, G_FILE_TEST_EXISTS)))
    {
      if (!(capture = sc_capture_load (cap_path, &error)))
        {
          fprintf (stderr, "secateur-cli: %s\n", error->message);
          return 1;
        }
      recon.model = model;
      recon.capture = capture;
      recon.budget = budget;
    }
  g_autoptr (ScExpertIndex) idx =
      sc_expert_index_new (sh->n_moe_layers, sh->n_encoder_moe, sh->n_experts);
  int written = 0;
  if (gran == SC_GRANULARITY_GLOBAL && as_langs)
    {
      /* one list for every direction, written per language: pasero reads
       * expert_index[lang], not a bare list */
      g_autoptr (ScExpertIndex) one =
          sc_expert_index_new (sh->n_moe_layers, sh->n_encoder_moe, sh->n_experts);
      if (!select_one (stats, gran, agg, NULL, NULL, metric, &opt, one, NULL, &error))
        goto fail;
      GArray *ids = sc_expert_index_get (one, NULL);
      g_auto (GStrv) list = langs ? g_strsplit (langs, ",", -1) : languages_seen (stats);
      for (char **l = list; *l; l++, written++)
        if (!sc_expert_index_set (idx, *l, (int *) ids->data, ids->len, &error))
          goto fail;
    }
  else if (gran == SC_GRANULARITY_GLOBAL)
    {
      if (!select_one (stats, gran, agg, NULL, NULL, metric, &opt, idx, NULL, &error))
        goto fail;
      written = 1;
    }
  else if (pairs != NULL || gran == SC_GRANULARITY_PAIR)
    {
      g_auto (GStrv) list = pairs ? g_strsplit (pairs, ",", -1) : sc_stats_list_directions (stats);
      for (char **p = list; *p; p++)
        {
          g_autofree char *src = NULL, *tgt = NULL;
          if (!sc_stats_split_direction (*p, &src, &tgt))
            {
              fprintf (stderr, "secateur-cli select: '%s' is not a src-tgt direction\n", *p);
              return 2;
            }
          if (!select_one (stats, gran, agg, src, tgt, metric, &opt, idx, *p, &error))
            goto fail;
          written++;
        }
    }
  else
    {
      g_auto (GStrv) list = NULL;
      if (langs)
        {
          list = g_strsplit (langs, ",", -1);
        }
      else
        {
          /* languages seen both as source and as target (or the one side the model has) */
          g_auto (GStrv) srcs = sc_stats_list_languages (stats, FALSE);
          g_auto (GStrv) tgts = sc_stats_list_languages (stats, TRUE);
          gboolean need_src = sh->n_encoder_moe > 0,
                   need_tgt = sh->n_encoder_moe < sh->n_moe_layers;
          g_autoptr (GPtrArray) out = g_ptr_array_new ();
          g_autoptr (GHashTable) all = g_hash_table_new (g_str_hash, g_str_equal);
          for (char **s = srcs; *s; s++)
            g_hash_table_add (all, *s);
          for (char **t = tgts; *t; t++)
            g_hash_table_add (all, *t);
          g_autofree char **keys = (char **) g_hash_table_get_keys_as_array (all, NULL);
          for (char **k = keys; *k; k++)
            {
              gboolean as_src = g_strv_contains ((const char *const *) srcs, *k);
              gboolean as_tgt = g_strv_contains ((const char *const *) tgts, *k);
              if ((need_src && !as_src) || (need_tgt && !as_tgt))
                {
                  fprintf (stderr, "secateur-cli select: skipping %s: no statistics as %s\n", *k,
                           need_src && !as_src ? "source" : "target");
                  continue;
                }
              g_ptr_array_add (out, g_strdup (*k));
            }
          g_ptr_array_add (out, NULL);
          list = (char **) g_ptr_array_free (g_steal_pointer (&out), FALSE);
        }
      for (char **l = list; *l; l++)
        {
          if (!select_one (stats, gran, agg, *l, *l, metric, &opt, idx, *l, &error))
            goto fail;
          written++;
        }
    }
  if (written == 0)
    {
      fprintf (stderr, "secateur-cli select: nothing to select (no language has statistics on "
                       "both sides; try --granularity pair or global)\n");
      return 1;
    }
  /* How these ids were chosen, under the index's one reserved key (export
   * copies it into config.json and the model card). */
  JsonObject *how = json_object_new ();
  if (by_ratio)
    json_object_set_double_member (how, "ratio", ratio);
  else if (by_memory)
    json_object_set_double_member (how, "memory_gb", memory_gb);
  else
    json_object_set_int_member (how, "keep", keep);
  json_object_set_int_member (how, "kept", budget.keep_total);
  json_object_set_int_member (how, "of", sh->n_moe_layers * sh->n_experts);
  json_object_set_string_member (how, "metric", sc_expert_metric_to_string (metric));
  json_object_set_string_member (how, "algorithm", algo_name ? algo_name : "per-layer");
  json_object_set_string_member (how, "granularity",
                                 gran == SC_GRANULARITY_GLOBAL ? "global"
                                 : gran == SC_GRANULARITY_LANG ? "lang"
                                                               : "pair");
  char *text = g_strdup_printf ("%d:%d", opt.enc_weight, opt.dec_weight);
  json_object_set_string_member (how, "enc_dec", text);
  g_free (text);
  json_object_set_string_member (how, "aggregate", agg == SC_AGGREGATE_MEAN ? "mean" : "pool");
  json_object_set_boolean_member (how, "uniform", uniform);
  text = g_path_get_basename (stats_path);
  json_object_set_string_member (how, "statistics_file", text);
  g_free (text);
  JsonObject *meta = json_object_new ();
  json_object_set_object_member (meta, "selection", how);
  json_object_set_array_member (meta, "statistics", sc_stats_get_provenance (stats));
  sc_expert_index_set_meta (idx, meta);
  json_object_unref (meta);
  if (sc_expert_index_is_global (idx))
    fprintf (stderr, "secateur-cli select: note: a global index is a bare list of ids and "
                     "cannot record its settings (--as-langs writes one that can)\n");
  if (output != NULL && !sc_expert_index_save (idx, output, &error))
    goto fail;
  if (project != NULL && !sc_project_add_selection (project, idx, &stored, &error))
    goto fail;
  where = output ? g_strdup (output)
                 : g_strdup_printf ("%s in %s", stored, sc_project_get_dir (project));

  int kept_enc = budget.enc_total, kept = budget.keep_total;
  int total = sh->n_moe_layers * sh->n_experts;
  printf ("Selected %d of %d experts (%.1f%% pruned; %d encoder, %d decoder", kept, total,
          100.0 * (total - kept) / total, kept_enc, kept - kept_enc);
  if (recon.by_sensitivity)
    printf ("; per layer from measured sensitivity");
  else if (opt.algo == SC_SELECT_PER_LAYER)
    printf ("; %d per encoder layer, %d per decoder layer", budget.enc_per_layer,
            budget.dec_per_layer);
  printf (") by %s, %s, for %d %s -> %s\n",
          recon.reconstruct ? "output reconstruction" : sc_expert_metric_to_string (metric),
          opt.algo == SC_SELECT_PER_LAYER ? "per layer" : "global threshold", written,
          gran == SC_GRANULARITY_GLOBAL && !as_langs ? "model"
          : as_langs                                 ? "language(s), the same list"
          : written == 1                             ? "entry"
                                                     : "entries",
          where);
  if (bytes_per_expert > 0)
    printf ("Memory: %.2f GiB (%.2f GiB dense + %d experts x %.1f MiB)\n",
            ((double) dense_bytes + (double) kept * bytes_per_expert) / 1073741824.0,
            dense_bytes / 1073741824.0, kept, bytes_per_expert / 1048576.0);
  return 0;
fail:
  fprintf (stderr, "secateur-cli: %s\n", error->message);
  return 1;
}
