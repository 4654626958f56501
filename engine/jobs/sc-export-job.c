/* sc-export-job.c: model/, experts.json, statistics.json and report/ in one folder. */
#include "sc-export-job.h"

#include "sc-export.h"
#include "sc-expert-index.h"
#include "sc-memory-plan.h"
#include "sc-merge.h"
#include "sc-provenance.h"
#ifdef SC_HAVE_CHARTS
#include "sc-report.h"
#include <cairo.h>
#endif
#ifdef SC_HAVE_FONTCONFIG
#include <fontconfig/fontconfig.h>
#endif

#include <errno.h>
#include <string.h>

static const char *const outputs[] = { "model", "experts.json", "statistics.json", "report" };

void
sc_export_job_options_init (ScExportJobOptions *opts)
{
  *opts = (ScExportJobOptions){ 0 };
  sc_prune_settings_init (&opts->settings);
}

gboolean
sc_export_job_check (ScModel *model, const char *folder, gboolean overwrite, GError **error)
{
  const char *sources[] = { sc_model_get_dir (model), NULL };
  for (guint i = 0; i < G_N_ELEMENTS (outputs); i++)
    {
      g_autofree char *path = g_build_filename (folder, outputs[i], NULL);
      if (!sc_destination_check_sources (path, sources, error))
        return FALSE;
      if (!overwrite && g_file_test (path, G_FILE_TEST_EXISTS))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS, "%s already exists", path);
          return FALSE;
        }
    }
  g_autofree char *model_out = g_build_filename (folder, "model", NULL);
  return sc_destination_check (model_out, sources, overwrite, error);
}

/* The settings that chose the experts and the statistics' records, under
 * the index's reserved key as `select` writes them. */
static JsonObject *
index_meta (ScStats *stats, const ScPruneSettings *s)
{
  JsonObject *how = sc_prune_settings_to_json (s);
  json_object_set_string_member (how, "statistics_file", "statistics.json");
  JsonObject *meta = json_object_new ();
  json_object_set_object_member (meta, "selection", how);
  json_object_set_array_member (meta, "statistics", sc_stats_get_provenance (stats));
  return meta;
}

/* experts.json: one entry per direction. */
static ScExpertIndex *
build_index (ScModel *model, ScStats *stats, const ScExportJobOptions *opts, JsonObject *meta,
             GError **error)
{
  const ScMoeShape *sh = sc_model_get_moe_shape (model);
  g_autoptr (ScExpertIndex) index =
      sc_expert_index_new (sh->n_moe_layers, sh->n_encoder_moe, sh->n_experts);
  for (guint k = 0; opts->directions[k] != NULL; k++)
    {
      g_autofree char *src = NULL, *tgt = NULL;
      sc_stats_split_direction (opts->directions[k], &src, &tgt);
      g_autofree guint8 *keep = sc_prune_keep_mask (stats, &opts->settings, src, tgt, error);
      if (keep == NULL)
        return NULL;
      g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (int));
      for (int i = 0; i < sh->n_moe_layers * sh->n_experts; i++)
        if (keep[i])
          g_array_append_val (ids, i);
      if (!sc_expert_index_set (index, opts->directions[k], (int *) ids->data, ids->len, error))
        return NULL;
    }
  sc_expert_index_set_meta (index, meta);
  return g_steal_pointer (&index);
}

/* Everything the bundle holds, decided once: sc_export_job_run writes it
 * and sc_export_job_plan measures it, so the preview is what is written. */
typedef struct
{
  JsonObject *meta;
  ScExpertIndex *index;
  guint8 *keep;          /* the union over the directions */
  JsonObject *selection; /* config.json's record */
  ScExportOptions eopts;
#ifdef SC_HAVE_CHARTS
  ScReport report;
#endif
} Bundle;

static void
bundle_clear (Bundle *b)
{
  g_clear_pointer (&b->meta, json_object_unref);
  g_clear_pointer (&b->index, sc_expert_index_free);
  g_clear_pointer (&b->keep, g_free);
  g_clear_pointer (&b->selection, json_object_unref);
#ifdef SC_HAVE_CHARTS
  sc_report_clear (&b->report);
#endif
}

static gboolean
check_directions (const ScExportJobOptions *opts, GError **error)
{
  if (opts->directions == NULL || opts->directions[0] == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "no direction to export (give at least one SRC-TGT)");
      return FALSE;
    }
  for (guint k = 0; opts->directions[k] != NULL; k++)
    if (!sc_stats_split_direction (opts->directions[k], NULL, NULL))
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                     "\"%s\" is not a language pair SRC-TGT", opts->directions[k]);
        return FALSE;
      }
  return TRUE;
}

static gboolean
bundle_init (Bundle *b, ScModel *model, ScStats *stats, const ScExportJobOptions *opts,
             GError **error)
{
  memset (b, 0, sizeof *b);
  if (!check_directions (opts, error) ||
      !sc_stats_check_model (stats, sc_model_get_moe_shape (model), error))
    return FALSE;
  b->meta = index_meta (stats, &opts->settings);
  b->index = build_index (model, stats, opts, b->meta, error);
  if (b->index == NULL)
    return FALSE;
  b->keep = sc_prune_keep_union (stats, &opts->settings, opts->directions, error);
  if (b->keep == NULL)
    return FALSE;
  /* the settings that chose the experts, for config.json and the model card */
  b->selection = json_object_new ();
  JsonArray *serves = json_array_new ();
  for (guint k = 0; opts->directions[k] != NULL; k++)
    json_array_add_string_element (serves, opts->directions[k]);
  json_object_set_array_member (b->selection, "serves", serves);
  json_object_set_string_member (b->selection, "index", "experts.json");
  sc_provenance_copy_index_meta (b->meta, b->selection);
  if (opts->scores != NULL)
    {
      json_object_set_string_member (b->selection, "scores_report",
                                     opts->scores_report ? opts->scores_report : "");
      json_object_set_object_member (b->selection, "scores", json_object_ref (opts->scores));
    }
  b->eopts = (ScExportOptions){
    .shard_bytes = opts->shard_bytes,
    .force = opts->overwrite,
    .note = opts->note,
    .note_data = opts->note_data,
    .allow_non_finite = opts->allow_non_finite,
    .convert = opts->convert,
    .dtype = opts->dtype,
    .selection = b->selection,
  };
#ifdef SC_HAVE_CHARTS
  sc_report_init (&b->report, stats, &opts->settings, opts->sweep_directions, opts->n_points,
                  opts->ratios, opts->chrf, opts->sweep_scores);
  b->report.held_out = g_strdup (opts->held_out);
  b->report.sentences = opts->held_out_sentences;
#endif
  return TRUE;
}

static gboolean
write_report (Bundle *b, const ScExportJobOptions *opts, const char *path, GError **error)
{
#ifdef SC_HAVE_CHARTS
  return sc_report_write (&b->report, path, error);
#else
  /* the charts need Cairo */
  if (opts->note != NULL)
    opts->note ("built without Cairo: the bundle has no report/ folder", opts->note_data);
  return TRUE;
#endif
}

gboolean
sc_export_job_run (ScModel *model, ScStats *stats, const ScExportJobOptions *opts,
                   ScProgressCallback progress, gpointer progress_data, GCancellable *cancellable,
                   GError **error)
{
  if (!check_directions (opts, error) ||
      !sc_export_job_check (model, opts->folder, opts->overwrite, error) ||
      !sc_stats_check_model (stats, sc_model_get_moe_shape (model), error))
    return FALSE;
  if (g_mkdir_with_parents (opts->folder, 0755) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "cannot create %s: %s",
                   opts->folder, g_strerror (saved));
      return FALSE;
    }
  g_autofree char *model_out = g_build_filename (opts->folder, "model", NULL);
  g_autofree char *index_out = g_build_filename (opts->folder, "experts.json", NULL);
  g_autofree char *stats_out = g_build_filename (opts->folder, "statistics.json", NULL);
  g_autofree char *capture_out = sc_capture_path_for_stats (stats_out);
  g_autofree char *report_out = g_build_filename (opts->folder, "report", NULL);
  ScProgressMeter meter;
  sc_progress_meter_start (&meter, "export", "steps", 3, progress, progress_data);
  sc_progress_meter_update (&meter, 0);

  if (opts->settings.merge && opts->capture == NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_MISSING,
                   "merging needs the router inputs a calibration captures");
      return FALSE;
    }
  /* with merging, what it ran on too: export --merge --capture redoes it */
  Bundle b;
  gboolean ok = bundle_init (&b, model, stats, opts, error) &&
                sc_expert_index_save (b.index, index_out, error) &&
                sc_stats_save (stats, stats_out, error) &&
                (!opts->settings.merge || sc_capture_save (opts->capture, capture_out, error));
  if (ok)
    sc_progress_meter_update (&meter, 1);
  ok = ok && !g_cancellable_set_error_if_cancelled (cancellable, error) &&
       write_report (&b, opts, report_out, error);
  if (ok)
    sc_progress_meter_update (&meter, 2);
  /* merged as export --merge --pairs merges: on the served directions' tokens */
  g_autoptr (ScView) merged = NULL;
  if (ok && opts->settings.merge)
    ok = (merged = sc_view_new_from_keep (model, b.keep, error)) != NULL &&
         sc_merge_apply (merged, opts->capture, opts->directions, NULL, cancellable, error);
  b.eopts.overlay = merged;
  /* the model last: the longest step, atomic in the engine */
  ok = ok && sc_export_pruned (model, b.keep, model_out, &b.eopts, cancellable, error);
  if (ok)
    sc_progress_meter_update (&meter, 3);
  bundle_clear (&b);
  return ok;
}

void
sc_export_job_plan_free (ScExportJobPlan *plan)
{
  if (plan == NULL)
    return;
  g_strfreev (plan->directions);
  g_free (plan->keep);
  g_free (plan->kept_per_layer);
  g_clear_pointer (&plan->files, g_ptr_array_unref);
  g_free (plan);
}

static void
plan_add (ScExportJobPlan *plan, const char *folder, const char *name, guint64 bytes)
{
  ScExportFile *f = g_new0 (ScExportFile, 1);
  f->name = folder ? g_build_filename (folder, name, NULL) : g_strdup (name);
  f->bytes = bytes;
  g_ptr_array_add (plan->files, f);
  plan->bytes += bytes;
}

#ifdef SC_HAVE_CHARTS
static void
plan_add_report (const char *name, guint64 bytes, gpointer plan)
{
  plan_add (plan, "report", name, bytes);
}
#endif

ScExportJobPlan *
sc_export_job_plan (ScModel *model, ScStats *stats, const ScExportJobOptions *opts, GError **error)
{
  Bundle b;
  if (!bundle_init (&b, model, stats, opts, error))
    {
      bundle_clear (&b);
      return NULL;
    }
  const ScMoeShape *sh = sc_model_get_moe_shape (model);
  g_autoptr (ScExportJobPlan) plan = g_new0 (ScExportJobPlan, 1);
  plan->files = g_ptr_array_new_with_free_func ((GDestroyNotify) sc_export_file_free);
  plan->directions = g_strdupv ((char **) opts->directions);
  plan->n_moe_layers = sh->n_moe_layers;
  plan->n_experts = sh->n_experts;
  plan->total = sh->n_moe_layers * sh->n_experts;
  plan->keep = g_memdup2 (b.keep, MAX (plan->total, 1));
  plan->kept_per_layer = g_new0 (int, MAX (sh->n_moe_layers, 1));
  for (int i = 0; i < plan->total; i++)
    if (b.keep[i])
      {
        plan->kept++;
        plan->kept_per_layer[i / sh->n_experts]++;
      }
  plan->dtype = opts->convert ? opts->dtype : sc_model_get_dtype (model);

  g_autoptr (GPtrArray) model_files = sc_export_pruned_files (model, b.keep, &b.eopts, error);
  gsize index_len = 0, stats_len = 0;
  g_autofree char *index_text = model_files ? sc_expert_index_to_json (b.index, &index_len) : NULL;
  g_autofree char *stats_text = model_files ? sc_stats_to_json (stats, &stats_len, error) : NULL;
  gboolean ok = stats_text != NULL;
  for (guint i = 0; ok && i < model_files->len; i++)
    {
      const ScExportFile *f = model_files->pdata[i];
      plan_add (plan, "model", f->name, f->bytes);
      plan->model_bytes += f->bytes;
      if (g_str_has_suffix (f->name, ".safetensors"))
        plan->tensor_bytes += f->bytes;
    }
  if (ok)
    {
      plan_add (plan, NULL, "experts.json", index_len);
      plan_add (plan, NULL, "statistics.json", stats_len);
      /* merged: what it ran on, as the export writes it */
      if (opts->settings.merge && opts->capture != NULL)
        plan_add (plan, NULL, "statistics.capture", sc_capture_file_size (opts->capture));
    }
#ifdef SC_HAVE_CHARTS
  ok = ok && sc_report_measure (&b.report, plan_add_report, plan, error);
#endif
  if (ok)
    {
      /* what running model/ takes: its weights and one sentence's greedy
       * decoding (sc-memory-plan.h) */
      ScMemoryPlanOptions mo;
      sc_memory_plan_options_init (&mo);
      mo.weight_dtype = plan->dtype;
      mo.kept_per_layer = plan->kept_per_layer;
      ScMemoryPlan mp;
      sc_memory_plan_compute (sc_model_get_config (model), &mo, &mp);
      plan->memory_bytes = mp.total_bytes;
    }
  bundle_clear (&b);
  return ok ? g_steal_pointer (&plan) : NULL;
}

void
sc_export_job_free_font_caches (void)
{
#ifdef SC_HAVE_CHARTS
  cairo_debug_reset_static_data ();
#endif
#ifdef SC_HAVE_FONTCONFIG
  FcFini ();
#endif
}
