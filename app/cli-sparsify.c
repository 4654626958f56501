/* cli-sparsify.c: `secateur-cli sparsify` (one-shot weight pruning with
 * multilingual calibration) and `secateur-cli perplexity` (per-language
 * teacher-forced NLL, and the change a pruning made to it).
 *
 *   secateur-cli sparsify -m MODEL --method wanda|sparsegpt|magnitude
 *                         --sparsity 0.5|2:4|4:8 --calib mbs|uniform|LANG
 *                         [--samples N] [--seqlen L] [--seed S] -o OUT [--force]
 *                         [--allow-non-finite]
 *   secateur-cli perplexity -m MODEL [--langs a,b,...] [--direction e2x|x2e]
 *                           [--limit N] [--compare PRUNED] [--threshold F]
 *
 * Both take NLLB models and BLOOM (model_type "bloom"); for BLOOM the
 * calibration languages are those of its ROOTS training corpus and
 * perplexity is that of held-out UDHR paragraphs as plain text.
 *
 * Perplexity of an NLLB model is exp of the mean NLL per reference token of
 * the held-out UDHR articles, teacher-forced. By default the direction is
 * eng_Latn -> X, so the number measures how well the model still produces
 * language X (the decoder side of X); --direction x2e measures X -> eng_Latn
 * (the encoder side of X). Languages are listed by training share (the
 * shipped NLLB-200 table), largest first.
 */
#include "cli-commands.h"
#include "sc-bloom.h"
#include "sc-corpus-spec.h"
#include "sc-corpus.h"
#include "sc-distributed.h"
#include "sc-evaluate.h"
#include "sc-export.h"
#include "sc-language-quality.h"
#include "sc-sparsify-job.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void
print_progress (const ScProgress *p, gpointer user_data)
{
  if (sc_distributed_rank () == 0 && g_str_equal (p->stage, "prune"))
    fprintf (stderr,
             "\rpruned block %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT ", about %.0f s left   %s",
             p->done, p->total, MAX (p->eta_s, 0), p->done == p->total ? "\n" : "");
}

static void
print_calibration (const ScCalibSet *set, gpointer data)
{
  g_autofree char *desc = sc_calib_set_describe (set);
  if (sc_distributed_rank () == 0)
    printf ("%s", desc);
  fflush (stdout);
}

/* Under MPI each rank runs a share of the samples (balanced by tokens)
 * and the layers' input sums are added up over the ranks before each
 * layer is pruned: every rank prunes alike, rank 0 alone prints and
 * writes. */
static ScCalibSet *
rank_share (const ScCalibSet *set, gpointer data)
{
  if (sc_distributed_size () == 1)
    return NULL;
  guint n = sc_calib_set_size (set);
  g_autofree guint64 *tokens = g_new (guint64, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    tokens[i] = sc_calib_set_get (set, i)->n_src + sc_calib_set_get (set, i)->n_tgt;
  int first, last;
  sc_distributed_shard (tokens, n, &first, &last);
  ScCalibSet *shard = sc_calib_set_new ();
  for (int i = first; i < last; i++)
    {
      const ScCalibSample *s = sc_calib_set_get (set, i);
      sc_calib_set_add (shard, s->src, s->n_src, s->tgt, s->n_tgt, s->lang);
    }
  return shard;
}

int
sc_cli_sparsify (int argc, char **argv)
{
  g_autofree char *model_dir = NULL, *method_s = NULL, *sparsity_s = NULL, *calib = NULL;
  g_autofree char *output = NULL, *shares_path = NULL, *udhr = NULL;
  int samples = 128, seqlen = 128, seed = 0;
  gboolean allow_non_finite = FALSE;
  gboolean force = FALSE;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_dir, "Model directory", "DIR" },
    { "method", 0, 0, G_OPTION_ARG_STRING, &method_s, "wanda, sparsegpt or magnitude", "NAME" },
    { "sparsity", 0, 0, G_OPTION_ARG_STRING, &sparsity_s, "Ratio (0.5) or N:M (2:4, 4:8)", "S" },
    { "calib", 0, 0, G_OPTION_ARG_STRING, &calib,
      "Calibration: mbs (training shares), uniform, or one language code", "MODE" },
    { "samples", 0, 0, G_OPTION_ARG_INT, &samples, "Calibration samples (128)", "N" },
    { "seqlen", 0, 0, G_OPTION_ARG_INT, &seqlen, "Tokens per sample (128)", "L" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &seed, "Sampling seed (0)", "S" },
    { "shares", 0, 0, G_OPTION_ARG_FILENAME, &shares_path, "Language-share table (mbs)", "TSV" },
    { "udhr", 0, 0, G_OPTION_ARG_FILENAME, &udhr, "UDHR folder (default: shipped)", "DIR" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Folder to write", "DIR" },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force, "Replace an earlier export", NULL },
    { "allow-non-finite", 0, 0, G_OPTION_ARG_NONE, &allow_non_finite,
      "Write tensors holding NaN or infinity (named in a warning) instead of failing", NULL },
    { NULL }
  };
  g_auto (ScCliDeviceOptions) dev = { 0 };
  /* --seqlen at most the model's positions, checked once it is loaded */
  const ScCliRange ranges[] = {
    { "samples", 1, SC_CLI_MAX_SAMPLES },
    { "seqlen", 4, G_MAXINT },
    { "seed", G_MININT, G_MAXINT },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- prune weights (Wanda, SparseGPT)");
  sc_cli_add_main_entries (ctx, entries, ranges);
  sc_cli_device_add_options (ctx, &dev);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "secateur-cli sparsify: %s\n", error->message);
      return 2;
    }
  if (model_dir == NULL || output == NULL || method_s == NULL || sparsity_s == NULL)
    {
      fprintf (stderr, "secateur-cli sparsify: -m, --method, --sparsity and -o are required\n");
      return 2;
    }
  ScSparsifyOptions so;
  sc_sparsify_options_init (&so);
  if (!sc_sparsity_method_parse (method_s, &so.method, &error) ||
      !sc_sparsity_pattern_parse (sparsity_s, &so.pattern, &error))
    {
      fprintf (stderr, "secateur-cli sparsify: %s\n", error->message);
      return 2;
    }
  if (so.method != SC_SPARSITY_MAGNITUDE && calib == NULL)
    {
      fprintf (stderr, "secateur-cli sparsify: %s needs --calib mbs|uniform|LANG\n", method_s);
      return 2;
    }
  /* Refused before the long work; the export checks again when it writes. */
  const char *sources[] = { model_dir, NULL };
  if (!sc_destination_check (output, sources, force, &error))
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }
  gboolean is_bloom = sc_bloom_is_bloom_dir (model_dir);
  g_autoptr (ScModel) model = NULL;
  g_autoptr (ScBloom) bloom = NULL;
  /* --device: the model runs there, and SparseGPT's Hessians and Cholesky
   * factors are computed there (cuBLAS and cuSOLVER on CUDA) */
  ScBackend *be = sc_cli_backend (&dev, &error);
  if (be != NULL && is_bloom)
    bloom = sc_bloom_load (model_dir, be, &error);
  else if (be != NULL)
    model = sc_cli_load_model (model_dir, 0, &dev, &error);
  if (model == NULL && bloom == NULL)
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }
  int positions = bloom != NULL ? sc_bloom_context_length (bloom)
                                : sc_model_get_config (model)->max_position_embeddings;
  const ScCliRange seqlens = { NULL, 4, positions };
  if (so.method != SC_SPARSITY_MAGNITUDE && !sc_cli_check_int ("seqlen", seqlen, &seqlens, &error))
    {
      fprintf (stderr, "secateur-cli sparsify: %s (the model's positions)\n", error->message);
      return 2;
    }

  ScSparsifyJobOptions jo;
  sc_sparsify_job_options_init (&jo);
  jo.sparsify = so;
  jo.sparsify.backend = be;
  g_autoptr (ScShareTable) shares = NULL;
  if (so.method != SC_SPARSITY_MAGNITUDE)
    {
      if (shares_path != NULL && (shares = sc_share_table_load (shares_path, &error)) == NULL)
        {
          fprintf (stderr, "secateur-cli: %s\n", error->message);
          return 1;
        }
      jo.calib = (ScCalibOptions){
        .mode = g_str_equal (calib, "mbs")       ? SC_CALIB_MBS
                : g_str_equal (calib, "uniform") ? SC_CALIB_UNIFORM
                                                 : SC_CALIB_LANGUAGE,
        .language = calib,
        .n_samples = samples > 0 ? (guint) samples : 0,
        .seqlen = seqlen,
        .seed = (guint32) seed,
        .shares = shares,
        .udhr_dir = udhr,
      };
      jo.calib_drawn = print_calibration;
      jo.calib_share = rank_share;
      if (sc_distributed_size () > 1)
        jo.sparsify.inputs_reduce = sc_distributed_reduce_inputs;
    }
  else if (sc_distributed_rank () == 0)
    {
      printf ("magnitude pruning needs no calibration\n");
    }
  fflush (stdout);
  g_autoptr (ScSparsifyJobResult) job =
      sc_sparsify_job_run (model, bloom, &jo, print_progress, NULL, NULL, &error);
  if (job == NULL)
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }
  const ScSparsifyReport *report = job->report;
  if (sc_distributed_rank () != 0)
    return 0;

  printf ("%-64s %11s %9s %8s\n", "layer", "shape", "sparsity", "tokens");
  for (guint i = 0; i < report->layers->len; i++)
    {
      const ScSparsifyLayer *l = &g_array_index (report->layers, ScSparsifyLayer, i);
      g_autofree char *shape = g_strdup_printf ("%dx%d", l->n_out, l->n_in);
      printf ("%-64s %11s %8.2f%% %8" G_GUINT64_FORMAT "%s\n", l->name, shape,
              100.0 * l->n_zero / ((double) l->n_out * l->n_in), l->n_rows,
              l->damp_escalations ? "  (dampening raised)" : "");
    }
  printf ("total: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " weights are zero (%.2f%%)\n",
          report->n_zero, report->n_weights, 100.0 * report->n_zero / MAX (report->n_weights, 1));
  if (report->damp_escalations > 0)
    fprintf (stderr,
             "secateur-cli: warning: %d Hessians were not positive definite; their dampening "
             "was raised ten-fold until they were\n",
             report->damp_escalations);

  ScExportOptions eo = { .force = force, .note = sc_cli_export_note,
                         .allow_non_finite = allow_non_finite };
  if (!sc_sparsify_job_export (job, output, &eo, NULL, &error))
    {
      fprintf (stderr, "secateur-cli: %s%s\n", error->message,
               g_error_matches (error, SC_ERROR, SC_ERROR_NOT_FINITE)
                   ? " (--allow-non-finite writes it anyway)"
                   : "");
      return 1;
    }
  printf ("wrote %s\n", output);
  return 0;
}

/* ---- perplexity -------------------------------------------------------- */

/* A model perplexity is measured on: NLLB (translation) or BLOOM (text). */
typedef struct
{
  ScModel *nllb;
  ScBloom *bloom;
} AnyModel;

static void
any_model_clear (AnyModel *m)
{
  g_clear_pointer (&m->nllb, sc_model_free);
  g_clear_pointer (&m->bloom, sc_bloom_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (AnyModel, any_model_clear)

static gboolean
any_model_load (AnyModel *m, const char *dir, GError **error)
{
  if (sc_bloom_is_bloom_dir (dir))
    return (m->bloom = sc_bloom_load (dir, NULL, error)) != NULL;
  return (m->nllb = sc_model_load (dir, NULL, error)) != NULL;
}

static gboolean
lang_nll (AnyModel *m, const char *lang, gboolean x2e, int limit, int *n, double *nll,
          GError **error)
{
  /* perplexity is measured on the UDHR for every model, BLOOM's too */
  static const ScCorpusSpec udhr = { SC_CORPUS_UDHR, NULL };
  if (m->bloom != NULL)
    {
      g_autoptr (GPtrArray) paras =
          sc_corpus_spec_pairs (&udhr, SC_CORPUS_SPLIT_HELD_OUT, NULL, lang, lang, error);
      if (paras == NULL)
        return FALSE;
      g_autofree const char **texts = NULL, **same = NULL;
      *n = sc_cli_split_pairs (paras, limit, &texts, &same);
      double ppl;
      return sc_bloom_perplexity_texts (m->bloom, texts, *n, &ppl, nll, NULL, error);
    }
  ScModel *model = m->nllb;
  const char *src = x2e ? lang : "eng_Latn", *tgt = x2e ? "eng_Latn" : lang;
  g_autoptr (GPtrArray) pairs =
      sc_corpus_spec_pairs (&udhr, SC_CORPUS_SPLIT_HELD_OUT, NULL, src, tgt, error);
  if (pairs == NULL)
    return FALSE;
  g_autofree const char **sources = NULL, **refs = NULL;
  *n = sc_cli_split_pairs (pairs, limit, &sources, &refs);
  if (*n == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no held-out UDHR text for %s-%s", src,
                   tgt);
      return FALSE;
    }
  g_autoptr (ScView) view = sc_view_new (model, NULL, error);
  return view != NULL && sc_evaluate_nll (view, src, tgt, sources, refs, *n, nll, error);
}

int
sc_cli_perplexity (int argc, char **argv)
{
  g_autofree char *model_dir = NULL, *langs_arg = NULL, *direction = NULL, *compare = NULL;
  g_autofree char *shares_path = NULL;
  int limit = 0;
  double threshold = 0.1;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_dir, "Model directory", "DIR" },
    { "langs", 0, 0, G_OPTION_ARG_STRING, &langs_arg,
      "Languages (default: every UDHR language the model knows)", "a,b,..." },
    { "direction", 0, 0, G_OPTION_ARG_STRING, &direction,
      "e2x: eng_Latn -> X (default), x2e: X -> eng_Latn", "DIR" },
    { "limit", 0, 0, G_OPTION_ARG_INT, &limit, "Paragraphs per language (0: all held-out)", "N" },
    { "compare", 0, 0, G_OPTION_ARG_FILENAME, &compare, "A pruned model to compare", "DIR" },
    { "threshold", 0, 0, G_OPTION_ARG_DOUBLE, &threshold,
      "Flag languages whose perplexity grows by more than this fraction (0.1)", "F" },
    { "shares", 0, 0, G_OPTION_ARG_FILENAME, &shares_path, "Language-share table", "TSV" },
    { NULL }
  };
  const ScCliRange ranges[] = {
    { "limit", 1, G_MAXINT, 0, "every held-out paragraph" },
    { "threshold", 0, INFINITY },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- per-language perplexity");
  sc_cli_add_main_entries (ctx, entries, ranges);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "secateur-cli perplexity: %s\n", error->message);
      return 2;
    }
  gboolean x2e = direction != NULL && g_str_equal (direction, "x2e");
  if (model_dir == NULL || (direction != NULL && !x2e && !g_str_equal (direction, "e2x")))
    {
      fprintf (stderr, "secateur-cli perplexity: -m is required; --direction is e2x or x2e\n");
      return 2;
    }
  g_auto (AnyModel) model = { NULL }, other = { NULL };
  gboolean loaded = any_model_load (&model, model_dir, &error) &&
                    (compare == NULL || any_model_load (&other, compare, &error));
  gboolean has_other = other.nllb != NULL || other.bloom != NULL;
  g_autoptr (ScShareTable) shares = !loaded       ? NULL
                                    : shares_path ? sc_share_table_load (shares_path, &error)
                                    : model.bloom
                                        ? sc_share_table_load_named ("bloom-roots", &error)
                                        : sc_share_table_load_for_model (model_dir, &error);
  if (shares == NULL)
    {
      fprintf (stderr, "secateur-cli: %s\n", error->message);
      return 1;
    }
  if (has_other && (model.bloom == NULL) != (other.bloom == NULL))
    {
      fprintf (stderr, "secateur-cli: %s and %s are not the same architecture\n", model_dir,
               compare);
      return 1;
    }

  g_auto (GStrv) langs = NULL;
  if (langs_arg != NULL)
    {
      langs = g_strsplit (langs_arg, ",", -1);
    }
  else
    {
      /* Every UDHR language the tokenizer knows (BLOOM: its training corpus has). */
      g_autofree char *dir = sc_corpus_default_udhr_dir ();
      g_auto (GStrv) all = dir ? sc_corpus_udhr_languages (dir, &error) : NULL;
      if (all == NULL)
        {
          fprintf (stderr, "secateur-cli: %s\n",
                   error ? error->message : "the bundled UDHR corpus is missing");
          return 1;
        }
      g_autoptr (GPtrArray) keep = g_ptr_array_new ();
      for (guint i = 0; all[i] != NULL; i++)
        {
          gboolean known = model.bloom != NULL && sc_share_table_lookup (shares, all[i], NULL);
          ScTokenizer *tok = model.nllb ? sc_model_get_tokenizer (model.nllb) : NULL;
          for (guint t = 0; tok != NULL && t < sc_tokenizer_n_languages (tok); t++)
            known |= g_str_equal (all[i], sc_tokenizer_language (tok, t));
          if (known)
            g_ptr_array_add (keep, g_strdup (all[i]));
        }
      g_ptr_array_add (keep, NULL);
      langs = (GStrv) g_ptr_array_free (g_steal_pointer (&keep), FALSE);
    }

  guint n = g_strv_length (langs);
  g_autofree ScLangQualityRow *rows = g_new0 (ScLangQualityRow, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    {
      ScLangQualityRow *r = &rows[i];
      r->lang = langs[i]; /* owned by langs */
      if (!sc_share_table_lookup (shares, r->lang, &r->share))
        r->share = 0.0;
      if (!lang_nll (&model, r->lang, x2e, limit, &r->n, &r->before, &error) ||
          (has_other && !lang_nll (&other, r->lang, x2e, limit, &r->n, &r->after, &error)))
        {
          fprintf (stderr, "secateur-cli: %s: %s\n", r->lang, error->message);
          return 1;
        }
    }
  sc_lang_quality_sort (rows, n);

  printf ("teacher-forced perplexity on held-out UDHR, %s\n", model.bloom
                                                                  ? "plain text per language"
                                                              : x2e ? "X -> eng_Latn"
                                                                    : "eng_Latn -> X");
  if (!has_other)
    printf ("%-10s %8s %6s %9s %11s\n", "language", "share", "paras", "nll", "perplexity");
  else
    printf ("%-10s %8s %6s %9s %11s %11s %9s\n", "language", "share", "paras", "nll", "perplexity",
            "compared", "change");
  int flagged = 0;
  for (guint i = 0; i < n; i++)
    {
      const ScLangQualityRow *r = &rows[i]; /* mean NLL before (and after) */
      double ppl = exp (r->before);
      if (!has_other)
        {
          printf ("%-10s %7.3f%% %6d %9.4f %11.3f\n", r->lang, 100 * r->share, r->n, r->before,
                  ppl);
          continue;
        }
      /* the change is the perplexity's */
      ScLangQualityRow p = { r->lang, r->share, r->n, ppl, exp (r->after) };
      gboolean bad = sc_lang_quality_degraded (&p, SC_LANG_QUALITY_PERPLEXITY, threshold);
      flagged += bad;
      printf ("%-10s %7.3f%% %6d %9.4f %11.3f %11.3f %+8.2f%%%s\n", r->lang, 100 * r->share, r->n,
              r->before, ppl, p.after, 100 * sc_lang_quality_change (&p), bad ? "  DEGRADED" : "");
    }
  if (has_other)
    printf ("%d of %u languages degrade by more than %.1f%%\n", flagged, n, 100 * threshold);
  return 0;
}
