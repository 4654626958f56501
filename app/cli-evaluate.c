/* cli-evaluate.c: `secateur-cli evaluate`, full versus pruned per direction.
 *
 *   secateur-cli evaluate -m MODEL --pairs SRC-TGT[,...] [--experts INDEX.json]
 *                         [--corpus udhr|flores:DIR|tsv:FILE|bitext:FILE] [--split held-out|all]
 *                         [--limit N] [--beam N] [--max-len N] [-o REPORT.json]
 *                         [--pruned-only] [--merge --capture S.capture] [--project DIR]
 *
 * Without --corpus, each direction is scored on the model's held-out set
 * (sc-corpus-spec.h), as the application's Compare and quality sweep do.
 * --project records the report in the project (its model when -m is not
 * given). */
#include "cli-commands.h"
#include "sc-corpus-spec.h"
#include "sc-corpus.h"
#include "sc-distributed.h"
#include "sc-json-write.h"
#include "sc-merge.h"

#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

void
sc_cli_generate_options (ScModel *model, int beam, int max_len, gboolean hf_defaults,
                         ScGenerateOptions *gen)
{
  if (hf_defaults)
    sc_generate_options_init_hf (gen, model);
  else
    sc_generate_options_init (gen, model);
  if (beam > 0)
    gen->num_beams = beam;
  if (max_len > 0)
    gen->max_length = max_len;
  else
    sc_cli_note_default_length (model, hf_defaults);
}

void
sc_cli_note_default_length (ScModel *model, gboolean hf_defaults)
{
  if (!sc_model_get_config (model)->max_length_is_default)
    return;
  if (hf_defaults)
    fprintf (stderr, "secateur-cli: the model sets no max_length or max_new_tokens: using "
                     "transformers' default of 20 tokens (--hf-defaults)\n");
  else
    fprintf (stderr,
             "secateur-cli: the model sets no max_length or max_new_tokens: using Secateur's "
             "default of %d tokens where transformers uses 20 (--hf-defaults for 20, or "
             "--max-len)\n",
             SC_GENERATE_DEFAULT_MAX_LENGTH);
}

int
sc_cli_split_pairs (GPtrArray *pairs, int limit, const char ***sources, const char ***references)
{
  int n = limit > 0 ? MIN (limit, (int) pairs->len) : (int) pairs->len;
  *sources = g_new0 (const char *, n + 1);
  *references = g_new0 (const char *, n + 1);
  for (int i = 0; i < n; i++)
    {
      (*sources)[i] = ((ScCorpusPair *) pairs->pdata[i])->source;
      (*references)[i] = ((ScCorpusPair *) pairs->pdata[i])->target;
    }
  return n;
}

int
sc_cli_evaluate (int argc, char **argv)
{
  g_autofree char *model_dir = NULL, *pairs = NULL, *experts = NULL, *corpus = NULL;
  g_autofree char *split = NULL, *output = NULL, *metrics = NULL, *tsv_path = NULL;
  g_autofree char *capture_path = NULL;
  g_autofree char *project_dir = NULL;
  int limit = 0, beam = 0, max_len = 0;
  gboolean hf_defaults = FALSE, pruned_only = FALSE, merge = FALSE;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_dir, "Model directory", "DIR" },
    { "pairs", 0, 0, G_OPTION_ARG_STRING, &pairs, "Directions, comma-separated", "SRC-TGT,..." },
    { "experts", 0, 0, G_OPTION_ARG_FILENAME, &experts, "Expert index to evaluate", "FILE" },
    { "corpus", 0, 0, G_OPTION_ARG_STRING, &corpus,
      "udhr, flores:DIR, tsv:FILE or bitext:FILE (default: the model's held-out set)", "CORPUS" },
    { "split", 0, 0, G_OPTION_ARG_STRING, &split, "held-out (default) or all; FLORES: dev, devtest",
      "SPLIT" },
    { "limit", 0, 0, G_OPTION_ARG_INT, &limit, "At most N sentences per direction", "N" },
    { "beam", 0, 0, G_OPTION_ARG_INT, &beam, "Beams (default from the model)", "N" },
    { "max-len", 0, 0, G_OPTION_ARG_INT, &max_len, "Longest output in tokens", "N" },
    { "hf-defaults", 0, 0, G_OPTION_ARG_NONE, &hf_defaults,
      "Where the model sets no length, use transformers' default (20) instead of 200", NULL },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "JSON report", "FILE" },
    { "project", 0, 0, G_OPTION_ARG_FILENAME, &project_dir,
      "Record the report in this project (its model unless -m is given)", "DIR" },
    { "tsv", 0, 0, G_OPTION_ARG_FILENAME, &tsv_path,
      "Scores as the paper authors' TSV (direction, spBLEU, chrF++, len_ratio; of the pruned "
      "model with --experts)",
      "FILE" },
    { "metrics", 0, 0, G_OPTION_ARG_STRING, &metrics,
      "scores (default): chrF++ and spBLEU; nll: per-sentence teacher-forced NLL", "KIND" },
    { "pruned-only", 0, 0, G_OPTION_ARG_NONE, &pruned_only,
      "With --experts: translate with the pruned model only (no full-model columns)", NULL },
    { "merge", 0, 0, G_OPTION_ARG_NONE, &merge,
      "With --experts: merge each direction's pruned experts into kept ones, as export --pair "
      "--merge does",
      NULL },
    { "capture", 0, 0, G_OPTION_ARG_FILENAME, &capture_path,
      "Router inputs from calibrate --capture, for --merge", "FILE" },
    { NULL }
  };
  const ScCliRange ranges[] = {
    { "limit", 1, G_MAXINT, 0, "every sentence" },
    { "beam", 1, SC_CLI_MAX_BEAMS, 0, "the model's default" },
    { "max-len", 2, SC_CLI_MAX_LEN, 0, "the model's default" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- what pruning costs, per direction");
  sc_cli_add_main_entries (ctx, entries, ranges);
  g_auto (ScCliDeviceOptions) dev = { 0 };
  sc_cli_device_add_options (ctx, &dev);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "secateur-cli evaluate: %s\n", error->message);
      return 2;
    }
  gboolean nll_only = metrics != NULL && g_str_equal (metrics, "nll");
  if (nll_only && tsv_path != NULL)
    {
      fprintf (stderr,
               "secateur-cli evaluate: --tsv holds scores; it goes without --metrics nll\n");
      return 2;
    }
  if (metrics != NULL && !nll_only && !g_str_equal (metrics, "scores"))
    {
      fprintf (stderr, "secateur-cli evaluate: --metrics is scores or nll\n");
      return 2;
    }
  g_autoptr (ScProject) project = NULL;
  if (project_dir != NULL &&
      (project = sc_cli_open_project ("evaluate", project_dir, model_dir)) == NULL)
    return 1;
  if (project != NULL && model_dir == NULL)
    model_dir = g_strdup (sc_project_get_model_dir (project));
  if (model_dir == NULL || pairs == NULL)
    {
      fprintf (stderr, "secateur-cli evaluate: -m (or --project) and --pairs are required\n");
      return 2;
    }
  if ((pruned_only || merge) && experts == NULL)
    {
      fprintf (stderr, "secateur-cli evaluate: --pruned-only and --merge go with --experts\n");
      return 2;
    }
  if (merge && (capture_path == NULL || nll_only))
    {
      fprintf (stderr, "secateur-cli evaluate: --merge needs --capture FILE (and scores)\n");
      return 2;
    }
  ScCorpusSpec spec;
  ScCorpusSplit corpus_split = SC_CORPUS_SPLIT_HELD_OUT;
  if (!sc_corpus_spec_parse (corpus, &spec, &error) ||
      (split != NULL && !sc_corpus_split_parse (split, &corpus_split, &error)))
    {
      fprintf (stderr, "secateur-cli evaluate: %s\n", error->message);
      return 2;
    }
  /* Under MPI the ranks share each direction's sentences; rank 0 prints. */
  gboolean root = sc_distributed_rank () == 0;
  if (nll_only && sc_distributed_size () > 1)
    {
      fprintf (stderr, "secateur-cli evaluate: --metrics nll runs in one process\n");
      return 2;
    }
  g_autoptr (ScModel) model = sc_cli_load_model (model_dir, SC_MODEL_LOAD_DEFAULT, &dev, &error);
  if (model == NULL)
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }
  ScGenerateOptions gen;
  sc_cli_generate_options (model, beam, max_len, hf_defaults, &gen);
  g_autoptr (ScCapture) capture = merge ? sc_capture_load (capture_path, &error) : NULL;
  if (merge && capture == NULL)
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }

  g_autoptr (JsonBuilder) report = json_builder_new ();
  json_builder_begin_object (report);
  json_builder_set_member_name (report, "model");
  json_builder_add_string_value (report, model_dir);
  json_builder_set_member_name (report, "directions");
  json_builder_begin_array (report);

  if (nll_only)
    printf ("direction\tsentence\tnll%s\n", experts ? "\tnll_pruned" : "");
  else if (root)
    printf ("%-20s %5s %9s %9s %7s %9s %9s %7s %6s %9s %9s\n", "direction", "n", "chrF++", "pruned",
            "delta", "spBLEU", "pruned", "delta", "agree", "len_ratio", "pruned");
  g_autoptr (GString) tsv = g_string_new (SC_EVAL_TSV_HEADER);
  g_auto (GStrv) list = g_strsplit (pairs, ",", -1);
  for (guint i = 0; list[i] != NULL; i++)
    {
      g_auto (GStrv) st = g_strsplit (list[i], "-", 2);
      if (g_strv_length (st) != 2)
        {
          fprintf (stderr, "secateur-cli evaluate: \"%s\" is not SRC-TGT\n", list[i]);
          return 2;
        }
      if (root)
        sc_cli_warn_unserved (model, st[0], st[1]);
      g_autoptr (GPtrArray) data =
          sc_evaluate_job_pairs (model, &spec, corpus_split, st[0], st[1], limit, &error);
      g_autofree guint8 *keep = NULL;
      if (data != NULL && experts != NULL)
        keep = sc_cli_keep_from_index (model, experts, st[0], st[1], &error);
      if (data == NULL || (experts != NULL && keep == NULL))
        {
          fprintf (stderr, "secateur-cli: %s\n", error->message);
          return 1;
        }
      g_autofree const char **src = NULL;
      g_autofree const char **ref = NULL;
      int n = sc_cli_split_pairs (data, limit, &src, &ref);
      if (nll_only)
        {
          /* Per-sentence NLL of the references, full and (with --experts) pruned. */
          g_autofree double *full = g_new0 (double, n);
          g_autofree double *pruned = g_new0 (double, n);
          g_autoptr (ScView) vfull = sc_view_new (model, NULL, &error);
          g_autoptr (ScView) vpruned = NULL;
          if (vfull == NULL ||
              !sc_evaluate_nll_each (vfull, st[0], st[1], src, ref, n, full, NULL, &error) ||
              (keep != NULL &&
               ((vpruned = sc_view_new_from_keep (model, keep, &error)) == NULL ||
                !sc_evaluate_nll_each (vpruned, st[0], st[1], src, ref, n, pruned, NULL, &error))))
            {
              fprintf (stderr, "secateur-cli: %s\n", error->message);
              return 1;
            }
          for (int k = 0; k < n; k++)
            if (keep != NULL)
              printf ("%s\t%d\t%.4f\t%.4f\n", list[i], k + 1, full[k], pruned[k]);
            else
              printf ("%s\t%d\t%.4f\n", list[i], k + 1, full[k]);
          continue;
        }
      ScEvaluateJobOptions eo;
      sc_evaluate_job_options_init (&eo, model, st[0], st[1]);
      eo.sources = src;
      eo.references = ref;
      eo.n = n;
      g_autoptr (ScExpertSet) kept = sc_evaluate_job_experts (model, keep);
      eo.experts = kept;
      eo.full = !pruned_only;
      /* merged on this direction's captured tokens, as export --pair --merge */
      g_autoptr (ScView) merged = NULL;
      const char *const served[] = { list[i], NULL };
      if (merge && ((merged = sc_view_new (model, kept, &error)) == NULL ||
                    !sc_merge_apply (merged, capture, served, NULL, NULL, &error)))
        {
          fprintf (stderr, "secateur-cli: %s\n", error->message);
          return 1;
        }
      eo.view = merged;
      eo.gen = gen;
      eo.batch_size = 16;
      eo.nll = TRUE;
      g_autoptr (ScEvaluateJobResult) job = sc_cli_evaluate_ranks (model, &eo, &error);
      if (job == NULL)
        {
          fprintf (stderr, "secateur-cli: %s\n", error->message);
          return 1;
        }
      if (!root)
        continue;
      const ScEvalSide *full = &job->full.scores, *pruned = &job->pruned.scores;
      if (job->has_pruned && !job->has_full)
        printf ("%-20s %5d %9s %9.2f %7s %9s %9.2f %7s %6s %9s %9.3f\n", list[i], n, "-",
                pruned->chrf_pp, "-", "-", pruned->spbleu, "-", "-", "-", pruned->len_ratio);
      else if (job->has_pruned)
        printf ("%-20s %5d %9.2f %9.2f %+7.2f %9.2f %9.2f %+7.2f %5.0f%% %9.3f %9.3f\n", list[i], n,
                full->chrf_pp, pruned->chrf_pp, pruned->chrf_pp - full->chrf_pp, full->spbleu,
                pruned->spbleu, pruned->spbleu - full->spbleu, 100 * job->agreement,
                full->len_ratio, pruned->len_ratio);
      else
        printf ("%-20s %5d %9.2f %9s %7s %9.2f %9s %7s %6s %9.3f\n", list[i], n, full->chrf_pp, "-",
                "-", full->spbleu, "-", "-", "-", full->len_ratio);
      sc_eval_tsv_append_row (tsv, list[i], job->has_pruned ? pruned : full);

      json_builder_begin_object (report);
      json_builder_set_member_name (report, "direction");
      json_builder_add_string_value (report, list[i]);
      json_builder_set_member_name (report, "sentences");
      json_builder_add_int_value (report, n);
      const ScEvalSide *sides[] = { job->has_full ? full : NULL, job->has_pruned ? pruned : NULL };
      const char *names[] = { "full", "pruned" };
      for (int s = 0; s < 2; s++)
        {
          if (sides[s] == NULL)
            continue;
          json_builder_set_member_name (report, names[s]);
          json_builder_begin_object (report);
          json_builder_set_member_name (report, "chrf++");
          json_builder_add_double_value (report, sides[s]->chrf_pp);
          json_builder_set_member_name (report, "spbleu");
          json_builder_add_double_value (report, sides[s]->spbleu);
          json_builder_set_member_name (report, "nll");
          json_builder_add_double_value (report, sides[s]->nll);
          json_builder_set_member_name (report, "len_ratio");
          json_builder_add_double_value (report, sides[s]->len_ratio);
          json_builder_set_member_name (report, "translations");
          json_builder_begin_array (report);
          for (guint k = 0; k < sides[s]->hyps->len; k++)
            json_builder_add_string_value (report, sides[s]->hyps->pdata[k]);
          json_builder_end_array (report);
          json_builder_end_object (report);
        }
      if (job->has_pruned)
        {
          json_builder_set_member_name (report, "agreement");
          json_builder_add_double_value (report, job->agreement);
        }
      json_builder_end_object (report);
    }
  json_builder_end_array (report);
  json_builder_end_object (report);

  if ((output != NULL || project != NULL) && root)
    {
      g_autoptr (JsonNode) doc = json_builder_get_root (report);
      g_autofree char *stored = NULL;
      if ((output != NULL && !sc_json_save (doc, TRUE, output, &error)) ||
          (project != NULL && !sc_project_add_evaluation (project, doc, &stored, &error)))
        {
          fprintf (stderr, "secateur-cli: %s\n", error->message);
          return 1;
        }
    }
  if (tsv_path != NULL && root && !g_file_set_contents (tsv_path, tsv->str, tsv->len, &error))
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }
  return 0;
}
