/* cli-export.c: `secateur-cli export`, a pruned checkpoint from a mask file,
 * or the application's export bundle.
 *
 *   secateur-cli export -m MODEL (--keep KEEP.json | --experts INDEX.json
 *                                 (--pair SRC-TGT | --pairs A-B,C-D,... | --langs a,b,...))
 *                       -o OUT [--shard-mb N] [--dtype f32|f16|bf16] [--force] [--dry-run]
 *                       [--allow-non-finite] [--report REPORT.json]
 *                       [--merge --capture S.capture]
 *   secateur-cli export -m MODEL --bundle --stats STATS.json (--pair | --pairs | --langs)
 *                       [--ratio R] [--metric M] [--granularity G] -o FOLDER [...]
 *   --project DIR: -m defaults to the project's model, --experts to its newest
 *                  selection (--stats to its statistics with --bundle), and the
 *                  export (folder, directions, settings) is recorded in it
 *
 * --bundle writes what the application's Export page writes (sc-export-job.h):
 * FOLDER/model/, experts.json, statistics.json and report/, the experts
 * chosen from the statistics with the pruning defaults (sc-prune-plan.h)
 * unless --ratio, --metric or --granularity say otherwise.
 *
 * KEEP.json lists, per MoE layer (encoder MoE layers first), the expert ids
 * to keep: [[0, 2, 5], [1, 3, 4], ...] — or the paper authors' format, a
 * plain list of global ids (moe_layer * num_experts + expert). */
#include "cli-commands.h"
#include "sc-expert-index.h"
#include "sc-export-job.h"
#include "sc-export.h"
#include "sc-json-file.h"
#include "sc-merge.h"
#include "sc-provenance.h"

#include <stdio.h>

/* Says once per file which keys of an index were skipped. */
static void
warn_ignored_keys (const char *path, ScExpertIndex *idx)
{
  static char *warned = NULL;
  g_auto (GStrv) ignored = sc_expert_index_ignored_keys (idx);
  if (ignored[0] == NULL || g_strcmp0 (warned, path) == 0)
    return;
  g_free (warned);
  warned = g_strdup (path);
  g_autofree char *list = g_strjoinv (", ", ignored);
  fprintf (stderr,
           "secateur-cli: warning: %s: ignored %u key(s) that are neither an NLLB language code "
           "nor a src-tgt direction: %s\n",
           path, g_strv_length (ignored), list);
}

guint8 *
sc_cli_keep_from_index_pairs (ScModel *model, const char *path, const char *const *directions,
                              GError **error)
{
  const ScMoeShape *sh = sc_model_get_moe_shape (model);
  int n_moe = sh->n_moe_layers, E = sh->n_experts;
  g_autoptr (ScExpertIndex) idx = sc_expert_index_load (path, n_moe, sh->n_encoder_moe, E, error);
  if (idx == NULL)
    return NULL;
  warn_ignored_keys (path, idx);
  g_autoptr (ScExpertSet) set = sc_expert_index_to_expert_set (idx, directions, error);
  if (set == NULL)
    return NULL;
  return g_memdup2 (sc_expert_set_get_keep (set), (gsize) n_moe * E);
}

guint8 *
sc_cli_keep_from_index (ScModel *model, const char *path, const char *src, const char *tgt,
                        GError **error)
{
  g_autofree char *pair = g_strdup_printf ("%s-%s", src, tgt);
  const char *directions[] = { pair, NULL };
  return sc_cli_keep_from_index_pairs (model, path, directions, error);
}

void
sc_cli_warn_unserved (ScModel *model, const char *src, const char *tgt)
{
  const ScConfig *c = sc_model_get_config (model);
  if (sc_config_serves (c, src, tgt))
    return;
  g_autofree char *served = g_strjoinv (", ", c->served);
  fprintf (stderr,
           "secateur-cli: warning: %s was pruned for %s; %s-%s is not among them, and the "
           "experts it needs may have been removed\n",
           sc_model_get_dir (model), served, src, tgt);
}

/* Every ordered pair of distinct languages of `langs` (one language: to
 * itself). */
static char **
pairs_among (char **langs)
{
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  for (guint i = 0; langs[i] != NULL; i++)
    for (guint j = 0; langs[j] != NULL; j++)
      if (i != j || langs[1] == NULL)
        {
          g_autofree char *d = g_strdup_printf ("%s-%s", langs[i], langs[j]);
          g_strv_builder_add (b, d);
        }
  return g_strv_builder_end (b);
}

void
sc_cli_export_note (const char *message, gpointer data)
{
  fprintf (stderr, "secateur-cli: %s\n", message);
}

/* The pruned model's scores from an `evaluate -o` report, read before any
 * work is written; NULL with `error` set on failure. */
static JsonObject *
read_scores (const char *report, const char *const *directions, GError **error)
{
  /* a report holds every translation: FLORES over many directions is large */
  g_autoptr (JsonNode) doc = sc_json_file_load (report, 1024u << 20, error);
  JsonObject *scores = doc ? sc_provenance_scores_from_report (doc, directions, error) : NULL;
  if (scores == NULL && doc != NULL)
    g_prefix_error (error, "%s: ", report);
  return scores;
}

typedef struct
{
  const char *stats_path;
  ScExportJobOptions opts;
  const char *report;
} Bundle;

static void
bundle_progress (const ScProgress *p, gpointer data)
{
  static const char *const steps[] = { "experts.json and statistics.json", "report/", "model/" };
  if (p->done > 0 && p->done <= (gint64) G_N_ELEMENTS (steps))
    fprintf (stderr, "secateur-cli: wrote %s\n", steps[p->done - 1]);
}

/* What a project records of a bundle's settings. */
static JsonObject *
bundle_settings (const Bundle *b)
{
  JsonObject *o = sc_prune_settings_to_json (&b->opts.settings);
  json_object_set_boolean_member (o, "bundle", TRUE);
  return o;
}

/* --bundle: the application's export of `model`. */
static int
export_bundle (ScModel *model, Bundle *b)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ScStats) stats = sc_stats_load (b->stats_path, NULL, &error);
  g_autoptr (JsonObject) scores = NULL;
  if (stats == NULL || !sc_stats_check_model (stats, sc_model_get_moe_shape (model), &error) ||
      (b->report != NULL && (scores = read_scores (b->report, b->opts.directions, &error)) == NULL))
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }
  g_autofree char *report_file = b->report ? g_path_get_basename (b->report) : NULL;
  b->opts.scores = scores;
  b->opts.scores_report = report_file;
  g_autofree guint8 *keep =
      sc_prune_keep_union (stats, &b->opts.settings, b->opts.directions, &error);
  if (keep == NULL ||
      !sc_export_job_run (model, stats, &b->opts, bundle_progress, NULL, NULL, &error))
    {
      fprintf (stderr, "secateur-cli: %s%s\n", error->message,
               g_error_matches (error, SC_ERROR, SC_ERROR_NOT_FINITE)
                   ? " (--allow-non-finite writes it anyway)"
                   : "");
      return 1;
    }
  const ScMoeShape *sh = sc_model_get_moe_shape (model);
  int total = sh->n_moe_layers * sh->n_experts, kept = 0;
  for (int i = 0; i < total; i++)
    kept += keep[i] != 0;
  printf ("%d of %d experts kept for %u direction(s) (%s, %.0f%% pruned per direction)\n", kept,
          total, g_strv_length ((char **) b->opts.directions),
          sc_expert_metric_to_string (b->opts.settings.metric), 100 * b->opts.settings.ratio);
  printf ("wrote %s\n", b->opts.folder);
  return 0;
}

int
sc_cli_export (int argc, char **argv)
{
  g_autofree char *model_dir = NULL, *keep_path = NULL, *output = NULL, *index = NULL;
  g_autofree char *pair = NULL, *pairs_arg = NULL, *langs_arg = NULL, *dtype_arg = NULL;
  g_autofree char *report = NULL, *stats_path = NULL, *metric_name = NULL, *gran_name = NULL;
  g_autofree char *project_dir = NULL;
  int shard_mb = 0;
  double ratio = 0;
  gboolean allow_non_finite = FALSE;
  gboolean force = FALSE, dry_run = FALSE, bundle = FALSE, merge = FALSE;
  g_autofree char *capture_path = NULL;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_dir, "Model directory", "DIR" },
    { "keep", 0, 0, G_OPTION_ARG_FILENAME, &keep_path, "Kept experts per layer (JSON)", "FILE" },
    { "experts", 0, 0, G_OPTION_ARG_FILENAME, &index, "Expert index (authors' format)", "FILE" },
    { "pair", 0, 0, G_OPTION_ARG_STRING, &pair, "Direction SRC-TGT to take from the index",
      "SRC-TGT" },
    { "pairs", 0, 0, G_OPTION_ARG_STRING, &pairs_arg,
      "Or: several directions in one model (encoder experts of their sources, decoder experts "
      "of their targets)",
      "A-B,C-D,..." },
    { "langs", 0, 0, G_OPTION_ARG_STRING, &langs_arg,
      "Or: every direction among these languages (as --pairs with all of them)", "a,b,..." },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Folder to write", "DIR" },
    { "shard-mb", 0, 0, G_OPTION_ARG_INT, &shard_mb, "Largest shard in MiB (0: one file)", "N" },
    { "dtype", 0, 0, G_OPTION_ARG_STRING, &dtype_arg,
      "Store weights as f32, f16 or bf16 "
      "(default: as stored)",
      "DTYPE" },
    { "report", 0, 0, G_OPTION_ARG_FILENAME, &report,
      "An evaluate -o report of this selection: its scores go into config.json and the model "
      "card",
      "FILE" },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force, "Replace an earlier export", NULL },
    { "dry-run", 0, 0, G_OPTION_ARG_NONE, &dry_run, "Only print what would be written", NULL },
    { "allow-non-finite", 0, 0, G_OPTION_ARG_NONE, &allow_non_finite,
      "Write tensors holding NaN or infinity (named in a warning) instead of failing", NULL },
    { "bundle", 0, 0, G_OPTION_ARG_NONE, &bundle,
      "Write the application's export bundle to -o: model/, experts.json, statistics.json and "
      "report/, the experts chosen from --stats",
      NULL },
    { "stats", 0, 0, G_OPTION_ARG_FILENAME, &stats_path, "--bundle: statistics to choose from",
      "FILE" },
    { "ratio", 0, 0, G_OPTION_ARG_DOUBLE, &ratio,
      "--bundle: fraction of experts to prune (default 0.5)", "R" },
    { "metric", 0, 0, G_OPTION_ARG_STRING, &metric_name,
      "--bundle: as select's (default importance)", "NAME" },
    { "granularity", 0, 0, G_OPTION_ARG_STRING, &gran_name,
      "--bundle: global, lang (default) or pair", "NAME" },
    { "merge", 0, 0, G_OPTION_ARG_NONE, &merge,
      "Fold each pruned expert into the closest kept one (needs --capture)", NULL },
    { "capture", 0, 0, G_OPTION_ARG_FILENAME, &capture_path,
      "Router inputs from calibrate --capture, for --merge", "FILE" },
    { "project", 0, 0, G_OPTION_ARG_FILENAME, &project_dir,
      "Project: its model, newest selection (--bundle: statistics) unless given; the export is "
      "recorded in it",
      "DIR" },
    { NULL }
  };
  const ScCliRange ranges[] = {
    { "shard-mb", 1, G_MAXINT, 0, "one file" },
    { "ratio", 0, 1, SC_CLI_BELOW_MAX },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- write a pruned checkpoint");
  ScCliOptions *given = sc_cli_add_main_entries (ctx, entries, ranges);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "secateur-cli export: %s\n", error->message);
      return 2;
    }
  g_auto (GStrv) directions = NULL;
  if (pair != NULL || pairs_arg != NULL)
    directions = g_strsplit (pair ? pair : pairs_arg, ",", -1);
  else if (langs_arg != NULL)
    {
      g_auto (GStrv) set = g_strsplit (langs_arg, ",", -1);
      directions = pairs_among (set);
    }
  /* the project's model, selection or statistics where none is given */
  g_autoptr (ScProject) project = NULL;
  if (project_dir != NULL)
    {
      if ((project = sc_cli_open_project ("export", project_dir, model_dir)) == NULL)
        return 1;
      if (model_dir == NULL)
        model_dir = g_strdup (sc_project_get_model_dir (project));
      if (bundle && stats_path == NULL && sc_project_has_stats (project))
        stats_path = sc_project_stats_path (project);
      if (!bundle && keep_path == NULL && index == NULL &&
          (index = sc_project_selection_path (project, NULL, &error)) == NULL)
        {
          fprintf (stderr, "secateur-cli export: %s (select --project first, or give --experts)\n",
                   error->message);
          return 1;
        }
    }
  Bundle b = { stats_path, { 0 }, report };
  sc_export_job_options_init (&b.opts);
  if (bundle &&
      (keep_path != NULL || index != NULL || dry_run || merge || stats_path == NULL ||
       output == NULL || model_dir == NULL || directions == NULL || directions[0] == NULL ||
       (pair != NULL) + (pairs_arg != NULL) + (langs_arg != NULL) > 1))
    {
      fprintf (stderr, "secateur-cli export: --bundle needs -m, -o, --stats and one of --pair, "
                       "--pairs or --langs (and neither --keep, --experts, --merge nor "
                       "--dry-run)\n");
      return 2;
    }
  if (!bundle && (stats_path || metric_name || gran_name || sc_cli_options_given (given, "ratio")))
    {
      fprintf (stderr, "secateur-cli export: --stats, --ratio, --metric and --granularity go "
                       "with --bundle\n");
      return 2;
    }
  if (sc_cli_options_given (given, "ratio"))
    b.opts.settings.ratio = ratio;
  if ((metric_name && !sc_expert_metric_from_string (metric_name, &b.opts.settings.metric)) ||
      (gran_name && !sc_granularity_from_string (gran_name, &b.opts.settings.granularity)))
    {
      fprintf (stderr, "secateur-cli export: unknown %s '%s'\n",
               metric_name ? "metric" : "granularity", metric_name ? metric_name : gran_name);
      return 2;
    }
  if (!bundle && (model_dir == NULL || (output == NULL && !dry_run) ||
                  (keep_path == NULL) == (index == NULL) ||
                  (pair != NULL) + (pairs_arg != NULL) + (langs_arg != NULL) > 1 ||
                  (index != NULL && (directions == NULL || directions[0] == NULL))))
    {
      fprintf (stderr, "secateur-cli export: -m, -o and either --keep FILE or --experts FILE "
                       "with one of --pair SRC-TGT, --pairs A-B,C-D,... or --langs a,b,... "
                       "are required\n");
      return 2;
    }
  ScDType dtype = SC_DTYPE_F32;
  g_autofree char *dtype_up = dtype_arg ? g_ascii_strup (dtype_arg, -1) : NULL;
  if (dtype_up != NULL &&
      (!sc_dtype_from_name (dtype_up, &dtype) ||
       (dtype != SC_DTYPE_F32 && dtype != SC_DTYPE_F16 && dtype != SC_DTYPE_BF16)))
    {
      fprintf (stderr, "secateur-cli export: --dtype must be f32, f16 or bf16\n");
      return 2;
    }
  if (bundle)
    {
      b.opts.folder = output;
      b.opts.directions = (const char *const *) directions;
      b.opts.overwrite = force;
      b.opts.convert = dtype_up != NULL;
      b.opts.dtype = dtype;
      b.opts.shard_bytes = (guint64) shard_mb << 20;
      b.opts.allow_non_finite = allow_non_finite;
      b.opts.note = sc_cli_export_note;
      g_autoptr (ScModel) model = sc_model_load (model_dir, NULL, &error);
      if (model == NULL || !sc_export_job_check (model, output, force, &error))
        {
          fprintf (stderr, "secateur-cli: %s\n", error->message);
          return 1;
        }
      int status = export_bundle (model, &b);
      sc_export_job_free_font_caches ();
      if (status == 0 && project != NULL)
        {
          g_autoptr (JsonObject) settings = bundle_settings (&b);
          if (!sc_project_add_export (project, output, b.opts.directions, settings, &error))
            {
              fprintf (stderr, "secateur-cli: %s\n", error->message);
              return 1;
            }
        }
      return status;
    }
  /* Refused before any work; the export checks again when it writes. */
  const char *sources[] = { model_dir, NULL };
  g_autoptr (ScModel) model = NULL;
  if ((!dry_run && !sc_destination_check (output, sources, force, &error)) ||
      (model = sc_model_load (model_dir, NULL, &error)) == NULL)
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }
  const ScConfig *c = sc_model_get_config (model);
  g_autofree guint8 *keep = NULL;
  if (keep_path != NULL)
    {
      keep = sc_expert_keep_load (keep_path, sc_model_n_moe_layers (model), c->num_experts, &error);
    }
  else
    {
      /* One model for several directions: per side, the union over them. */
      keep = sc_cli_keep_from_index_pairs (model, index, (const char *const *) directions, &error);
    }
  ScExportPlan plan;
  if (keep == NULL || !sc_export_plan (model, keep, &plan, &error))
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }
  if (index != NULL)
    {
      gsize total = (gsize) sc_model_n_moe_layers (model) * c->num_experts, kept = 0;
      for (gsize i = 0; i < total; i++)
        kept += keep[i] != 0;
      printf ("%zu of %zu experts kept for %u direction(s)\n", kept, total,
              g_strv_length (directions));
    }
  guint64 bytes = dtype_up ? sc_export_plan_bytes_as (&plan, dtype) : plan.bytes;
  printf ("%u tensors, %.3f MiB to write%s%s; %u expert tensors (%.3f MiB) left out\n",
          plan.n_tensors, bytes / 1048576.0, dtype_up ? " as " : "", dtype_up ? dtype_up : "",
          plan.n_dropped, plan.dropped_bytes / 1048576.0);
  if (plan.uniform_experts > 0)
    printf ("%d experts in every MoE layer: a plain NllbMoe checkpoint (transformers loads it)\n",
            plan.uniform_experts);
  else
    printf ("MoE layers keep different numbers of experts: NllbMoe with a count per layer "
            "(transformers loads it with trust_remote_code=True; select --uniform gives a plain "
            "NllbMoe)\n");
  /* The pruned model's scores, read before any work is written. */
  g_autoptr (JsonObject) scores = NULL;
  if (report != NULL &&
      (scores = read_scores (report, (const char *const *) directions, &error)) == NULL)
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }
  if (merge && capture_path == NULL)
    {
      fprintf (stderr, "secateur-cli export: --merge needs --capture FILE\n");
      return 2;
    }
  if (dry_run)
    return 0;
  g_autoptr (ScView) merged = NULL;
  if (merge)
    {
      /* the served directions' tokens; with --keep, every captured one */
      g_autoptr (ScCapture) cap = sc_capture_load (capture_path, &error);
      int n_merged = 0;
      if (cap == NULL || (merged = sc_view_new_from_keep (model, keep, &error)) == NULL ||
          !sc_merge_apply (merged, cap, (const char *const *) directions, &n_merged, NULL, &error))
        {
          fprintf (stderr, "secateur-cli: %s\n", error->message);
          return 1;
        }
      printf ("%d pruned experts merged into kept ones\n", n_merged);
    }
  /* What config.json and the model card record of the selection. */
  g_autoptr (JsonObject) selection = json_object_new ();
  g_autofree char *source_file = g_path_get_basename (index ? index : keep_path);
  json_object_set_string_member (selection, index ? "index" : "keep", source_file);
  if (index != NULL)
    {
      JsonArray *serves = json_array_new ();
      for (char **d = directions; *d != NULL; d++)
        json_array_add_string_element (serves, *d);
      json_object_set_array_member (selection, "serves", serves);
      /* select's settings and the statistics' provenance, when it recorded them */
      const ScMoeShape *sh = sc_model_get_moe_shape (model);
      g_autoptr (ScExpertIndex) idx =
          sc_expert_index_load (index, sh->n_moe_layers, sh->n_encoder_moe, sh->n_experts, NULL);
      sc_provenance_copy_index_meta (idx ? sc_expert_index_get_meta (idx) : NULL, selection);
    }
  if (scores != NULL)
    {
      g_autofree char *report_file = g_path_get_basename (report);
      json_object_set_string_member (selection, "scores_report", report_file);
      json_object_set_object_member (selection, "scores", g_steal_pointer (&scores));
    }
  if (merge)
    json_object_set_boolean_member (selection, "merged", TRUE);
  ScExportOptions opts = { .selection = selection,
                           .shard_bytes = (guint64) shard_mb << 20,
                           .force = force,
                           .note = sc_cli_export_note,
                           .allow_non_finite = allow_non_finite,
                           .convert = dtype_up != NULL,
                           .dtype = dtype,
                           .overlay = merged };
  if (!sc_export_pruned (model, keep, output, &opts, NULL, &error))
    {
      fprintf (stderr, "secateur-cli: %s%s\n", error->message,
               g_error_matches (error, SC_ERROR, SC_ERROR_NOT_FINITE)
                   ? " (--allow-non-finite writes it anyway)"
                   : "");
      return 1;
    }
  if (project != NULL)
    {
      json_object_set_string_member (selection, "dtype", dtype_up ? dtype_up : "as stored");
      if (!sc_project_add_export (project, output, (const char *const *) directions, selection,
                                  &error))
        {
          fprintf (stderr, "secateur-cli: %s\n", error->message);
          return 1;
        }
    }
  printf ("wrote %s\n", output);
  return 0;
}
