/* cli-demo.c: `secateur-cli demo`, the whole path on one model.
 *
 *   secateur-cli demo [-m MODEL] [--langs a,b,...] [--ratio R] [--size N] [--limit N]
 *
 * Calibrates on the bundled UDHR (calibration articles, Multilingual Brain
 * Surgeon sampling over English <-> each language in proportion to the
 * model's training shares), selects experts with the pruning defaults
 * (sc-prune-plan.h: per language, by importance, 3:1 encoder:decoder), and
 * evaluates the full and the pruned model on the model's held-out set
 * (sc-corpus-spec.h), printing chrF++ and spBLEU per direction and the
 * memory the pruning saves. */
#include "cli-commands.h"
#include "sc-calibrate-job.h"
#include "sc-corpus-spec.h"
#include "sc-export.h"
#include "sc-model-folder.h"
#include "sc-prune-plan.h"

#include <stdio.h>
#include <string.h>

static double
now (void)
{
  return g_get_monotonic_time () / 1e6;
}

static void
print_summary (const char *summary, gpointer data)
{
  fprintf (stderr, "%s", summary);
}

/* Languages of the model that the bundled corpus has, English first. */
static GPtrArray *
demo_languages (ScModel *model, const char *udhr, const char *wanted, GError **error)
{
  g_auto (GStrv) have = sc_corpus_udhr_languages (udhr, error);
  if (have == NULL)
    return NULL;
  ScTokenizer *tok = sc_model_get_tokenizer (model);
  GPtrArray *langs = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) list = wanted ? g_strsplit (wanted, ",", -1) : NULL;
  for (guint i = 0; i < sc_tokenizer_n_languages (tok); i++)
    {
      const char *code = sc_tokenizer_language (tok, i);
      if (g_str_equal (code, "eng_Latn") || !g_strv_contains ((const char *const *) have, code))
        continue;
      if (list != NULL && !g_strv_contains ((const char *const *) list, code))
        continue;
      g_ptr_array_add (langs, g_strdup (code));
    }
  if (langs->len == 0 || sc_tokenizer_lang_id (tok, "eng_Latn", NULL) < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "the model and the bundled corpus share no language besides English");
      g_ptr_array_unref (langs);
      return NULL;
    }
  return langs;
}

int
sc_cli_demo (int argc, char **argv)
{
  g_autofree char *model_dir = NULL, *wanted = NULL;
  double ratio = 0.5;
  int size = 128, limit = 10, beam = 0, max_len = 48;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_dir, "Model (default: the shipped demo)",
      "DIR" },
    { "langs", 0, 0, G_OPTION_ARG_STRING, &wanted, "Languages besides English (default: all)",
      "a,b,..." },
    { "ratio", 0, 0, G_OPTION_ARG_DOUBLE, &ratio, "Experts to prune (default 0.5)", "R" },
    { "size", 0, 0, G_OPTION_ARG_INT, &size, "Calibration sentences (default 128)", "N" },
    { "limit", 0, 0, G_OPTION_ARG_INT, &limit, "Held-out sentences per direction (default 10)",
      "N" },
    { "beam", 0, 0, G_OPTION_ARG_INT, &beam, "Beams (default from the model)", "N" },
    { "max-len", 0, 0, G_OPTION_ARG_INT, &max_len, "Longest output (default 48)", "N" },
    { NULL }
  };
  const ScCliRange ranges[] = {
    { "ratio", 0, 1, SC_CLI_BELOW_MAX },
    { "size", 1, SC_CLI_MAX_SAMPLES },
    { "limit", 1, G_MAXINT },
    { "beam", 1, SC_CLI_MAX_BEAMS, 0, "the model's default" },
    { "max-len", 2, SC_CLI_MAX_LEN },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- calibrate, prune and evaluate");
  sc_cli_add_main_entries (ctx, entries, ranges);
  g_auto (ScCliDeviceOptions) dev = { 0 };
  sc_cli_device_add_options (ctx, &dev);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "secateur-cli demo: %s\n", error->message);
      return 2;
    }
  if (model_dir == NULL)
    model_dir = sc_corpus_find_data ("models/demo");
  g_autofree char *udhr = sc_corpus_default_udhr_dir ();
  if (model_dir == NULL || udhr == NULL)
    {
      fprintf (stderr, "secateur-cli: %s\n",
               model_dir == NULL
                   ? "no demo model is installed (resources/models/demo); pass -m MODEL"
                   : "the bundled UDHR corpus is missing");
      return 1;
    }

  double t0 = now ();
  g_autoptr (ScModel) model = sc_cli_load_model (model_dir, SC_MODEL_LOAD_DEFAULT, &dev, &error);
  g_autoptr (GPtrArray) langs = model ? demo_languages (model, udhr, wanted, &error) : NULL;
  if (langs == NULL)
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }
  const ScConfig *c = sc_model_get_config (model);
  if (c->arch != SC_ARCH_NLLB_MOE)
    {
      fprintf (stderr, "secateur-cli: %s has no experts to prune\n", model_dir);
      return 1;
    }
  printf ("Model %s: %d MoE layers x %d experts; %u languages with English\n", model_dir,
          sc_model_n_moe_layers (model), c->num_experts, langs->len);

  /* 1. calibrate: English <-> every language, MBS-proportional sampling
   * over the UDHR's calibration articles (the calibrate job's defaults) */
  g_autoptr (GString) pairs = g_string_new (NULL);
  for (guint i = 0; i < langs->len; i++)
    g_string_append_printf (pairs, "%seng_Latn-%s,%s-eng_Latn", i ? "," : "",
                            (char *) langs->pdata[i], (char *) langs->pdata[i]);
  g_auto (GStrv) directions = g_strsplit (pairs->str, ",", -1);
  guint n_dirs = g_strv_length (directions);
  g_autoptr (GPtrArray) split = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  for (guint i = 0; i < n_dirs; i++)
    g_ptr_array_add (split, g_strsplit (directions[i], "-", 2));
  ScCalibrateJobOptions copts;
  sc_calibrate_job_options_init (&copts);
  copts.directions = (const char *const *) directions;
  copts.corpus = (ScCorpusSpec){ SC_CORPUS_UDHR, NULL };
  copts.size = size;
  copts.sampled = print_summary;
  g_autoptr (ScStats) stats = sc_stats_new (sc_model_get_moe_shape (model));
  ScCalibrateJobResult calibrated;
  if (!sc_calibrate_job_run (model, &copts, stats, &calibrated, NULL, NULL, NULL, &error))
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }
  printf ("1. calibrated on %u UDHR sentences over %u directions (%.1f s)\n",
          calibrated.n_sentences, n_dirs, now () - t0);

  /* 2. select with the application's defaults (per language: encoder rows
   * from the source language, decoder rows from the target) */
  int n_moe = sc_model_n_moe_layers (model), E = c->num_experts;
  ScPruneSettings settings;
  sc_prune_settings_init (&settings);
  settings.ratio = ratio;
  g_autoptr (GPtrArray) keeps = g_ptr_array_new_with_free_func (g_free);
  for (guint d = 0; d < n_dirs; d++)
    {
      char **st = split->pdata[d];
      guint8 *keep = sc_prune_keep_mask (stats, &settings, st[0], st[1], &error);
      if (keep == NULL)
        {
          fprintf (stderr, "secateur-cli: %s: %s\n", directions[d], error->message);
          return 1;
        }
      g_ptr_array_add (keeps, keep);
    }
  printf ("2. selected experts per language: %s, %.0f%% pruned, encoder:decoder %d:%d\n",
          sc_expert_metric_to_string (settings.metric), 100 * ratio, settings.enc_weight,
          settings.dec_weight);

  /* 3. evaluate every direction, full and pruned */
  g_autoptr (ScView) full = sc_view_new (model, NULL, &error);
  if (full == NULL)
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }
  ScGenerateOptions gen;
  sc_cli_generate_options (model, beam, max_len, FALSE, &gen);
  printf ("3. held-out sentences (the model's heldout.tsv, else UDHR articles), %d per "
          "direction, beam %d:\n\n",
          limit, gen.num_beams);
  printf ("%-20s %8s %8s %7s %8s %8s %7s %10s\n", "direction", "chrF++", "pruned", "delta",
          "spBLEU", "pruned", "delta", "experts");
  double sum_full = 0, sum_pruned = 0;
  guint64 bytes_full = 0, bytes_pruned = 0;
  for (guint d = 0; d < n_dirs; d++)
    {
      char **st = split->pdata[d];
      const guint8 *keep = keeps->pdata[d];
      /* the model's held-out set, as evaluate and the application's Compare read it */
      ScEvaluateJobOptions eo;
      sc_evaluate_job_options_init (&eo, model, st[0], st[1]);
      eo.limit = limit;
      g_autoptr (ScExpertSet) experts = sc_evaluate_job_experts (model, keep);
      eo.experts = experts;
      eo.gen = gen;
      eo.batch_size = 16;
      g_autoptr (ScEvaluateJobResult) job =
          sc_evaluate_job_run (model, &eo, NULL, NULL, NULL, &error);
      ScExportPlan plan;
      if (job == NULL || !sc_export_plan (model, keep, &plan, &error))
        {
          fprintf (stderr, "secateur-cli: %s\n", error->message);
          return 1;
        }
      const ScEvalSide *full = &job->full.scores, *pruned = &job->pruned.scores;
      int kept = 0;
      for (int i = 0; i < n_moe * E; i++)
        kept += keep[i];
      printf ("%-20s %8.2f %8.2f %+7.2f %8.2f %8.2f %+7.2f %5d/%-4d\n", directions[d],
              full->chrf_pp, pruned->chrf_pp, pruned->chrf_pp - full->chrf_pp, full->spbleu,
              pruned->spbleu, pruned->spbleu - full->spbleu, kept, n_moe * E);
      sum_full += full->chrf_pp;
      sum_pruned += pruned->chrf_pp;
      bytes_full = plan.bytes + plan.dropped_bytes;
      bytes_pruned = MAX (bytes_pruned, plan.bytes);
    }
  printf (
      "\nmean chrF++ %.2f full, %.2f pruned (%+.2f); weights %.1f MiB -> %.1f MiB per direction "
      "(%.0f%% saved); %.0f s in all\n",
      sum_full / n_dirs, sum_pruned / n_dirs, (sum_pruned - sum_full) / n_dirs,
      bytes_full / 1048576.0, bytes_pruned / 1048576.0,
      100.0 * (1.0 - (double) bytes_pruned / bytes_full), now () - t0);
  return 0;
}
