/* sc-calibrate-job.c: corpus -> sampler -> items -> statistics -> record. */
#include "sc-calibrate-job.h"

#include "sc-model-folder.h"
#include "sc-provenance.h"

#include <string.h>

void
sc_calibrate_job_options_init (ScCalibrateJobOptions *opts)
{
  *opts = (ScCalibrateJobOptions){
    .corpus = { SC_CORPUS_DEFAULT, NULL },
    .sampling = SC_SAMPLE_PROPORTIONAL,
    .size = 256,
    .seed = 1,
    .mode = SC_CALIBRATE_TEACHER_FORCED,
    .batch_size = 16,
    .beam = 1,
  };
}

/* The sampled items and the corpora and language codes they point into. */
typedef struct
{
  GArray *items;      /* ScCalibrationItem */
  GPtrArray *corpora; /* GPtrArray of ScCorpusPair, per direction */
  GPtrArray *langs;   /* GStrv {src, tgt}, per direction */
  char *summary;
} Sampled;

static void
sampled_clear (Sampled *s)
{
  g_clear_pointer (&s->items, g_array_unref);
  g_clear_pointer (&s->corpora, g_ptr_array_unref);
  g_clear_pointer (&s->langs, g_ptr_array_unref);
  g_clear_pointer (&s->summary, g_free);
}

static gboolean
sample (ScModel *model, const ScCalibrateJobOptions *opts, Sampled *out, GError **error)
{
  guint n_dirs = opts->directions ? g_strv_length ((char **) opts->directions) : 0;
  if (n_dirs == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "no direction to calibrate (give at least one SRC-TGT)");
      return FALSE;
    }
  out->corpora = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  out->langs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  g_autofree ScSampleDirection *dirs = g_new0 (ScSampleDirection, n_dirs);
  for (guint i = 0; i < n_dirs; i++)
    {
      char **st = g_strsplit (opts->directions[i], "-", 2);
      g_ptr_array_add (out->langs, st);
      if (g_strv_length (st) != 2 || st[0][0] == '\0' || st[1][0] == '\0')
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "\"%s\" is not a language pair SRC-TGT", opts->directions[i]);
          return FALSE;
        }
      GPtrArray *data = sc_model_corpus_pairs (model, &opts->corpus, SC_CORPUS_SPLIT_CALIBRATION,
                                               st[0], st[1], error);
      if (data == NULL)
        {
          g_prefix_error (error, "%s: ", opts->directions[i]);
          return FALSE;
        }
      g_ptr_array_add (out->corpora, data);
      if (data->len == 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                       "%s: the corpus has no sentences for this direction", opts->directions[i]);
          return FALSE;
        }
      dirs[i] = (ScSampleDirection){ st[0], st[1], data->len };
    }

  ScSamplerOptions sopts = {
    .mode = opts->sampling,
    .n_samples = MAX ((guint) MAX (opts->size, 1), n_dirs),
    .seed = opts->seed,
    .pairs = opts->directions,
  };
  g_autoptr (ScShareTable) own = NULL;
  if (opts->sampling == SC_SAMPLE_PROPORTIONAL)
    {
      if (opts->shares == NULL && (own = sc_model_load_share_table (model, error)) == NULL)
        return FALSE;
      sopts.shares = opts->shares ? opts->shares : own;
    }
  g_autoptr (ScSample) sample = sc_sample_directions (dirs, n_dirs, &sopts, error);
  if (sample == NULL)
    return FALSE;
  out->summary = sc_sample_describe (sample, dirs);
  out->items = g_array_sized_new (FALSE, FALSE, sizeof (ScCalibrationItem), sample->picks->len);
  for (guint i = 0; i < sample->picks->len; i++)
    {
      ScSamplePick *p = &g_array_index (sample->picks, ScSamplePick, i);
      ScCorpusPair *pair = ((GPtrArray *) out->corpora->pdata[p->direction])->pdata[p->item];
      char **st = out->langs->pdata[p->direction];
      ScCalibrationItem it = { st[0], st[1], pair->source, pair->target };
      g_array_append_val (out->items, it);
    }
  return TRUE;
}

static const char *
sampling_name (ScSampleMode mode)
{
  switch (mode)
    {
    case SC_SAMPLE_PROPORTIONAL:
      return "proportional";
    case SC_SAMPLE_UNIFORM:
      return "uniform";
    case SC_SAMPLE_PAIRS:
      return "pairs";
    case SC_SAMPLE_SINGLE:
      break;
    }
  return "single";
}

/* The corpus as a spec names it; the default calibration corpus is the UDHR. */
static char *
corpus_name (const ScCorpusSpec *spec)
{
  static const char *const kinds[] = { "udhr", "flores", "tsv", "bitext", "udhr" };
  return spec->path ? g_strdup_printf ("%s:%s", kinds[spec->kind], spec->path)
                    : g_strdup (kinds[spec->kind]);
}

/* sc_calibrate's batches, counted by the job's meter. */
static void
on_batch (int done, int total, gpointer meter)
{
  sc_progress_meter_update (meter, done);
}

gboolean
sc_calibrate_job_run (ScModel *model, const ScCalibrateJobOptions *opts, ScStats *stats,
                      ScCalibrateJobResult *result, ScProgressCallback progress,
                      gpointer progress_data, GCancellable *cancellable, GError **error)
{
  ScCalibrateJobResult own_result = { 0 };
  if (result == NULL)
    result = &own_result;
  memset (result, 0, sizeof *result);
  gboolean from_items = opts->n_items > 0;
  g_auto (GStrv) one_direction = NULL;
  Sampled s = { 0 };
  const ScCalibrationItem *items = opts->items;
  guint n = opts->n_items;
  if (!from_items)
    {
      if (!sample (model, opts, &s, error))
        {
          sampled_clear (&s);
          return FALSE;
        }
      items = (const ScCalibrationItem *) s.items->data;
      n = s.items->len;
      if (opts->sampled != NULL)
        opts->sampled (s.summary, opts->sampled_data);
    }

  ScCalibrateOptions copts;
  sc_calibrate_options_init (&copts, model);
  copts.mode = opts->mode;
  copts.batch_size = MAX (1, opts->batch_size);
  copts.capture = opts->capture;
  copts.generate.num_beams = MAX (1, opts->beam);
  if (opts->max_length > 1)
    copts.generate.max_length = opts->max_length;

  int first = 0, last = n;
  if (opts->ranks != NULL && opts->ranks->shard != NULL)
    opts->ranks->shard (model, items, n, &first, &last, opts->ranks->data);
  ScProgressMeter meter;
  sc_progress_meter_start (&meter, "calibrate", "sentences", MAX (last - first, 0), progress,
                           progress_data);
  sc_progress_meter_update (&meter, 0);
  /* the full model: calibration counts every expert */
  GError *run_error = NULL;
  g_autoptr (ScView) view = sc_view_new (model, NULL, &run_error);
  gboolean ok = view != NULL &&
                (last <= first || sc_calibrate (view, stats, items + first, last - first, &copts,
                                                on_batch, &meter, cancellable, &run_error));
  gboolean interrupted = !ok && g_error_matches (run_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  if (!ok && !interrupted)
    {
      g_propagate_error (error, run_error);
      sampled_clear (&s);
      return FALSE;
    }
  /* Every process gathers, also after a stop: the counts so far add up. */
  if (opts->ranks != NULL && opts->ranks->gather != NULL &&
      !opts->ranks->gather (stats, &interrupted, opts->ranks->data, error))
    {
      g_clear_error (&run_error);
      sampled_clear (&s);
      return FALSE;
    }

  /* The run's record travels with the counters (merged and appended files
   * keep every run's). */
  g_autofree char *corpus = from_items ? g_strdup (opts->items_name ? opts->items_name : "files")
                                       : corpus_name (&opts->corpus);
  if (from_items)
    {
      one_direction = g_new0 (char *, 2);
      one_direction[0] = g_strdup_printf ("%s-%s", items[0].src_lang, items[0].tgt_lang);
    }
  ScCalibrationRun run = {
    .corpus = corpus,
    .split = from_items ? NULL : "calibration",
    .sampling = from_items ? "files" : sampling_name (opts->sampling),
    .directions = from_items ? (const char *const *) one_direction : opts->directions,
    .sentences = n,
    .tokens = sc_provenance_tokens (stats),
    .decode = opts->mode == SC_CALIBRATE_DECODE,
    .beam = opts->mode == SC_CALIBRATE_DECODE ? MAX (1, opts->beam) : 1,
    .seed = (int) opts->seed,
    .has_seed = !from_items,
    .model_name = sc_model_get_name (model),
  };
  g_autoptr (JsonObject) record = sc_provenance_calibration (model, &run);
  if (interrupted)
    json_object_set_boolean_member (record, "interrupted", TRUE);
  sc_stats_add_provenance (stats, record);
  result->n_sentences = n;
  result->interrupted = interrupted;
  sampled_clear (&s);
  if (interrupted)
    {
      /* the process's own cancellation, or another's (G_IO_ERROR_CANCELLED either way) */
      if (run_error == NULL)
        g_set_error_literal (&run_error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                             "calibration was interrupted");
      g_propagate_error (error, run_error);
      return FALSE;
    }
  return TRUE;
}
