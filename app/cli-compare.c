/* cli-compare.c: `secateur-cli compare`, full and pruned translations side
 * by side, sentence by sentence, with their sentence chrF++.
 *
 *   secateur-cli compare -m MODEL --experts INDEX.json --pair SRC-TGT
 *                        [--corpus udhr|flores:DIR|tsv:FILE|bitext:FILE] [--limit N] [--beam N]
 *                        [--max-len N]
 *
 * Without --corpus the sentences are the model's held-out set
 * (sc-corpus-spec.h), as in the application's Compare. */
#include "cli-commands.h"
#include "sc-corpus-spec.h"
#include "sc-corpus.h"
#include "sc-distributed.h"

#include <stdio.h>

static double
sentence_chrf (const ScEvaluateJobSide *side, int i)
{
  return side->sentence_chrf ? side->sentence_chrf[i] : -1;
}

int
sc_cli_compare (int argc, char **argv)
{
  g_autofree char *model_dir = NULL, *experts = NULL, *pair = NULL, *corpus = NULL;
  int limit = 10, beam = 0, max_len = 0;
  gboolean hf_defaults = FALSE;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_dir, "Model directory", "DIR" },
    { "experts", 0, 0, G_OPTION_ARG_FILENAME, &experts, "Expert index (pruned side)", "FILE" },
    { "pair", 0, 0, G_OPTION_ARG_STRING, &pair, "Direction", "SRC-TGT" },
    { "corpus", 0, 0, G_OPTION_ARG_STRING, &corpus,
      "udhr, flores:DIR, tsv:FILE or bitext:FILE (default: the model's held-out set)", "CORPUS" },
    { "limit", 0, 0, G_OPTION_ARG_INT, &limit, "Sentences (default 10)", "N" },
    { "beam", 0, 0, G_OPTION_ARG_INT, &beam, "Beams (default from the model)", "N" },
    { "max-len", 0, 0, G_OPTION_ARG_INT, &max_len, "Longest output in tokens", "N" },
    { "hf-defaults", 0, 0, G_OPTION_ARG_NONE, &hf_defaults,
      "Where the model sets no length, use transformers' default (20) instead of 200", NULL },
    { NULL }
  };
  const ScCliRange ranges[] = {
    { "limit", 1, G_MAXINT },
    { "beam", 1, SC_CLI_MAX_BEAMS, 0, "the model's default" },
    { "max-len", 2, SC_CLI_MAX_LEN, 0, "the model's default" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- full and pruned, side by side");
  sc_cli_add_main_entries (ctx, entries, ranges);
  g_auto (ScCliDeviceOptions) dev = { 0 };
  sc_cli_device_add_options (ctx, &dev);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "secateur-cli compare: %s\n", error->message);
      return 2;
    }
  g_auto (GStrv) st = pair ? g_strsplit (pair, "-", 2) : NULL;
  if (model_dir == NULL || experts == NULL || st == NULL || g_strv_length (st) != 2)
    {
      fprintf (stderr, "secateur-cli compare: -m, --experts and --pair SRC-TGT are required\n");
      return 2;
    }
  ScCorpusSpec spec;
  if (!sc_corpus_spec_parse (corpus, &spec, &error))
    {
      fprintf (stderr, "secateur-cli compare: %s\n", error->message);
      return 2;
    }
  g_autoptr (ScModel) model = sc_cli_load_model (model_dir, SC_MODEL_LOAD_DEFAULT, &dev, &error);
  g_autoptr (GPtrArray) data = model
                                   ? sc_evaluate_job_pairs (model, &spec, SC_CORPUS_SPLIT_HELD_OUT,
                                                            st[0], st[1], limit, &error)
                                   : NULL;
  g_autofree guint8 *keep =
      data ? sc_cli_keep_from_index (model, experts, st[0], st[1], &error) : NULL;
  if (keep == NULL)
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }
  g_autofree const char **src = NULL;
  g_autofree const char **ref = NULL;
  ScEvaluateJobOptions eo;
  sc_evaluate_job_options_init (&eo, model, st[0], st[1]);
  sc_cli_generate_options (model, beam, max_len, hf_defaults, &eo.gen);
  eo.n = sc_cli_split_pairs (data, limit, &src, &ref);
  eo.sources = src;
  eo.references = ref;
  g_autoptr (ScExpertSet) kept = sc_evaluate_job_experts (model, keep);
  eo.experts = kept;
  eo.batch_size = 16;
  eo.sentence_scores = TRUE;
  /* Under MPI the ranks share the sentences; rank 0 prints. */
  g_autoptr (ScEvaluateJobResult) r = sc_cli_evaluate_ranks (model, &eo, &error);
  if (r == NULL)
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }
  if (sc_distributed_rank () != 0)
    return 0;
  const ScEvalSide *full = &r->full.scores, *pruned = &r->pruned.scores;
  for (int i = 0; i < r->n; i++)
    {
      const char *f = full->hyps->pdata[i], *p = pruned->hyps->pdata[i];
      printf ("[%d] source:    %s\n    reference: %s\n", i + 1, src[i], ref[i]);
      printf ("    full:      %s  (chrF++ %.1f)\n", f, sentence_chrf (&r->full, i));
      printf ("    pruned:    %s  (chrF++ %.1f)%s\n\n", p, sentence_chrf (&r->pruned, i),
              g_str_equal (f, p) ? "  = full" : "");
    }
  printf ("%s, %d sentences: chrF++ %.2f full, %.2f pruned (%+.2f); spBLEU %.2f / %.2f; "
          "identical %.0f%%\n",
          pair, r->n, full->chrf_pp, pruned->chrf_pp, pruned->chrf_pp - full->chrf_pp, full->spbleu,
          pruned->spbleu, 100 * r->agreement);
  return 0;
}
