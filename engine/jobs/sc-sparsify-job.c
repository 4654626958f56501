/* sc-sparsify-job.c: weight pruning, its summary and the per-language comparison. */
#include "sc-sparsify-job.h"

#include "sc-corpus.h"
#include "sc-model-folder.h"

#include <string.h>

#define EVAL_SENTENCES 4
#define THRESHOLD 0.1

struct _ScSparsifyJobPruned
{
  ScView *view;                   /* NLLB: a view of the open model carrying the pruned weights */
  ScBloom *bloom;                 /* or BLOOM, borrowed, with... */
  ScBloomPrunable *bloom_weights; /* ...its pruned weights */
};

static void
pruned_free (ScSparsifyJobPruned *p)
{
  if (p == NULL)
    return;
  g_clear_pointer (&p->bloom_weights, sc_bloom_prunable_free);
  g_clear_pointer (&p->view, sc_view_free);
  g_free (p);
}

void
sc_sparsify_job_options_init (ScSparsifyJobOptions *opts)
{
  memset (opts, 0, sizeof *opts);
  sc_sparsify_options_init (&opts->sparsify);
  opts->calib.mode = SC_CALIB_MBS;
  opts->calib.n_samples = 128;
  opts->calib.seqlen = 128;
}

void
sc_sparsify_job_result_free (ScSparsifyJobResult *r)
{
  if (r == NULL)
    return;
  g_clear_pointer (&r->report, sc_sparsify_report_free);
  g_free (r->block_sparsity);
  g_free (r->calibration);
  for (guint i = 0; i < r->n_languages; i++)
    sc_lang_quality_row_clear (&r->languages[i]);
  g_free (r->languages);
  g_free (r->degraded);
  g_clear_pointer (&r->record, json_object_unref);
  pruned_free (r->pruned);
  g_free (r);
}

GStrv
sc_sparsify_job_default_languages (ScModel *model, GError **error)
{
  g_autofree char *udhr = sc_corpus_default_udhr_dir ();
  g_auto (GStrv) all = udhr ? sc_corpus_udhr_languages (udhr, error) : NULL;
  if (all == NULL)
    {
      if (udhr == NULL)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "the bundled UDHR corpus is missing");
      return NULL;
    }
  ScTokenizer *tok = sc_model_get_tokenizer (model);
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  for (guint i = 0; i < sc_tokenizer_n_languages (tok); i++)
    {
      const char *lang = sc_tokenizer_language (tok, i);
      if (!g_str_equal (lang, SC_SPARSIFY_JOB_EVAL_SOURCE) &&
          g_strv_contains ((const char *const *) all, lang))
        g_strv_builder_add (b, lang);
    }
  return g_strv_builder_end (b);
}

typedef struct
{
  ScProgressMeter meter;
} Progress;

static void
on_block (int done, int total, double eta_s, gpointer data)
{
  Progress *p = data;
  sc_progress_meter_update (&p->meter, done);
}

static const char *
calib_name (const ScCalibOptions *c, const ScCalibSet *set)
{
  if (set == NULL)
    return "none";
  return c->mode == SC_CALIB_MBS ? "mbs" : c->mode == SC_CALIB_UNIFORM ? "uniform" : c->language;
}

/* Zeros per block and the least and most sparse layer. */
static void
summarise (ScSparsifyJobResult *res)
{
  const ScSparsifyReport *report = res->report;
  int n_blocks = res->n_blocks;
  res->block_sparsity = g_new0 (double, MAX (1, n_blocks));
  g_autofree double *block_weights = g_new0 (double, MAX (1, n_blocks));
  res->min_layer = 1;
  res->max_layer = 0;
  for (guint i = 0; i < report->layers->len; i++)
    {
      const ScSparsifyLayer *l = &g_array_index (report->layers, ScSparsifyLayer, i);
      double n = (double) l->n_out * l->n_in;
      if (l->block >= 0 && l->block < n_blocks)
        {
          res->block_sparsity[l->block] += l->n_zero;
          block_weights[l->block] += n;
        }
      res->min_layer = MIN (res->min_layer, l->n_zero / MAX (n, 1));
      res->max_layer = MAX (res->max_layer, l->n_zero / MAX (n, 1));
    }
  for (int b = 0; b < n_blocks; b++)
    res->block_sparsity[b] /= MAX (block_weights[b], 1);
}

/* Each language before (the open model) and after (the pruned weights). */
static gboolean
measure (ScView *full, ScView *pruned, const ScSparsifyJobOptions *o, ScSparsifyJobResult *res,
         Progress *p, GCancellable *cancellable, GError **error)
{
  g_autoptr (ScShareTable) shares = sc_model_load_share_table (sc_view_get_model (full), error);
  if (shares == NULL)
    return FALSE;
  res->n_languages = g_strv_length ((char **) o->eval_languages);
  res->languages = g_new0 (ScLangQualityRow, MAX (1, res->n_languages));
  res->degraded = g_new0 (gboolean, MAX (1, res->n_languages));
  int limit = o->eval_sentences > 0 ? o->eval_sentences : EVAL_SENTENCES;
  sc_progress_meter_stage (&p->meter, "measure", "languages", 2 * res->n_languages);
  for (guint i = 0; i < res->n_languages; i++)
    {
      ScLangQualityRow *row = &res->languages[i];
      row->lang = g_strdup (o->eval_languages[i]);
      if (!sc_share_table_lookup (shares, row->lang, &row->share))
        row->share = 0;
      /* each sentence's score too, for the change's interval */
      double *sent[2] = { NULL, NULL }; /* freed one by one below */
      for (int side = 0; side < 2; side++)
        {
          if (!sc_lang_quality_chrf_sentences (
                  side == 0 ? full : pruned, SC_SPARSIFY_JOB_EVAL_SOURCE, row->lang, limit,
                  o->eval_max_length, cancellable, side == 0 ? &row->before : &row->after, &row->n,
                  &sent[side], error))
            {
              g_free (sent[0]);
              g_free (sent[1]);
              g_prefix_error (error, "%s: ", row->lang);
              return FALSE;
            }
          sc_progress_meter_update (&p->meter, 2 * i + side + 1);
        }
      sc_lang_quality_set_interval (row, sent[0], sent[1], row->n);
      g_free (sent[0]);
      g_free (sent[1]);
    }
  sc_lang_quality_sort (res->languages, res->n_languages);
  for (guint i = 0; i < res->n_languages; i++)
    {
      res->degraded[i] =
          sc_lang_quality_degraded (&res->languages[i], SC_LANG_QUALITY_CHRF, res->threshold);
      res->n_degraded += res->degraded[i];
    }
  return TRUE;
}

ScSparsifyJobResult *
sc_sparsify_job_run (ScModel *model, ScBloom *bloom, const ScSparsifyJobOptions *o,
                     ScProgressCallback progress, gpointer progress_data, GCancellable *cancellable,
                     GError **error)
{
  g_return_val_if_fail ((model == NULL) != (bloom == NULL), NULL);
  gint64 t0 = g_get_monotonic_time ();
  gboolean compare = model != NULL && o->eval_languages != NULL && o->eval_languages[0] != NULL;
  g_autoptr (ScSparsifyJobResult) res = g_new0 (ScSparsifyJobResult, 1);
  res->threshold = o->threshold > 0 ? o->threshold : THRESHOLD;

  g_autoptr (ScCalibSet) set = NULL;
  if (o->sparsify.method != SC_SPARSITY_MAGNITUDE)
    {
      if (o->calib.mode == SC_CALIB_LANGUAGE &&
          (o->calib.language == NULL || o->calib.language[0] == '\0'))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "calibration on one language needs the language");
          return NULL;
        }
      set = model ? sc_calib_set_from_udhr (model, &o->calib, error)
                  : sc_calib_set_from_udhr_bloom (bloom, &o->calib, error);
      if (set == NULL)
        return NULL;
      res->calibration = sc_calib_set_describe (set);
      if (o->calib_drawn != NULL)
        o->calib_drawn (set, o->calib_data);
    }
  g_autoptr (ScCalibSet) share = set && o->calib_share ? o->calib_share (set, o->calib_data) : NULL;

  ScSparsifyJobPruned *pruned = res->pruned = g_new0 (ScSparsifyJobPruned, 1);
  ScPrunable p;
  if (bloom != NULL)
    {
      pruned->bloom = bloom;
      pruned->bloom_weights = sc_bloom_prunable_new (bloom);
      sc_prunable_init_bloom (&p, pruned->bloom_weights);
    }
  else
    {
      /* the pruned weights are an overlay of a view: the open model, its
       * mapping and the full side of the comparison stay as loaded */
      pruned->view = sc_view_new (model, NULL, error);
      if (pruned->view == NULL)
        return NULL;
      sc_prunable_init_view (&p, pruned->view);
    }
  res->n_blocks = p.n_blocks (p.model);
  res->n_encoder_blocks =
      model != NULL ? sc_model_get_config (model)->encoder_layers : res->n_blocks;

  Progress prog;
  sc_progress_meter_start (&prog.meter, "prune", "blocks", res->n_blocks, progress, progress_data);
  res->report =
      sc_sparsify (&p, share ? share : set, &o->sparsify, on_block, &prog, cancellable, error);
  if (res->report == NULL)
    return NULL;
  summarise (res);
  res->record = sc_sparsify_record (&o->sparsify, calib_name (&o->calib, set), set, o->calib.seqlen,
                                    res->report);
  if (compare)
    {
      g_autoptr (ScView) full = sc_view_new (model, NULL, error);
      if (full == NULL || !measure (full, pruned->view, o, res, &prog, cancellable, error))
        return NULL;
    }
  res->seconds = (g_get_monotonic_time () - t0) / (double) G_USEC_PER_SEC;
  return g_steal_pointer (&res);
}

gboolean
sc_sparsify_job_export (ScSparsifyJobResult *result, const char *out_dir,
                        const ScExportOptions *opts, GCancellable *cancellable, GError **error)
{
  ScSparsifyJobPruned *p = result->pruned;
  if (p->bloom != NULL)
    return sc_export_checkpoint (sc_bloom_get_checkpoint (p->bloom),
                                 (ScReplacedFunc) sc_bloom_prunable_get_replaced, p->bloom_weights,
                                 result->record, out_dir, opts, cancellable, error);
  return sc_export_model (p->view, result->record, out_dir, opts, cancellable, error);
}
