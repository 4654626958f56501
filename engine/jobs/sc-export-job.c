/* sc-export-job.c: model/, experts.json, statistics.json and report/ in one folder. */
#include "sc-export-job.h"

#include "sc-export.h"
#include "sc-expert-index.h"
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
  JsonObject *how = json_object_new ();
  json_object_set_double_member (how, "ratio", s->ratio);
  json_object_set_string_member (how, "metric", sc_expert_metric_to_string (s->metric));
  json_object_set_string_member (how, "algorithm",
                                 s->algo == SC_SELECT_PER_LAYER ? "per-layer" : "threshold");
  json_object_set_string_member (how, "granularity",
                                 s->granularity == SC_GRANULARITY_GLOBAL ? "global"
                                 : s->granularity == SC_GRANULARITY_PAIR ? "pair"
                                                                         : "lang");
  g_autofree char *enc_dec = g_strdup_printf ("%d:%d", s->enc_weight, s->dec_weight);
  json_object_set_string_member (how, "enc_dec", enc_dec);
  if (s->merge)
    json_object_set_boolean_member (how, "merged", TRUE);
  json_object_set_string_member (how, "statistics_file", "statistics.json");
  JsonObject *meta = json_object_new ();
  json_object_set_object_member (meta, "selection", how);
  json_object_set_array_member (meta, "statistics", sc_stats_get_provenance (stats));
  return meta;
}

/* experts.json: one entry per direction. */
static gboolean
write_index (ScModel *model, ScStats *stats, const ScExportJobOptions *opts, JsonObject *meta,
             const char *path, GError **error)
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
        return FALSE;
      g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (int));
      for (int i = 0; i < sh->n_moe_layers * sh->n_experts; i++)
        if (keep[i])
          g_array_append_val (ids, i);
      if (!sc_expert_index_set (index, opts->directions[k], (int *) ids->data, ids->len, error))
        return FALSE;
    }
  sc_expert_index_set_meta (index, meta);
  return sc_expert_index_save (index, path, error);
}

static gboolean
write_report (ScStats *stats, const ScExportJobOptions *opts, const char *path, GError **error)
{
#ifdef SC_HAVE_CHARTS
  ScReport report;
  sc_report_init (&report, stats, &opts->settings, opts->sweep_directions, opts->n_points,
                  opts->ratios, opts->chrf, opts->sweep_scores);
  gboolean ok = sc_report_write (&report, path, error);
  sc_report_clear (&report);
  return ok;
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
  if (!sc_export_job_check (model, opts->folder, opts->overwrite, error) ||
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

  g_autoptr (JsonObject) meta = index_meta (stats, &opts->settings);
  if (opts->settings.merge && opts->capture == NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_MISSING,
                   "merging needs the router inputs a calibration captures");
      return FALSE;
    }
  /* with merging, what it ran on too: export --merge --capture redoes it */
  if (!write_index (model, stats, opts, meta, index_out, error) ||
      !sc_stats_save (stats, stats_out, error) ||
      (opts->settings.merge && !sc_capture_save (opts->capture, capture_out, error)))
    return FALSE;
  sc_progress_meter_update (&meter, 1);
  if (g_cancellable_set_error_if_cancelled (cancellable, error) ||
      !write_report (stats, opts, report_out, error))
    return FALSE;
  sc_progress_meter_update (&meter, 2);

  /* the model last: the longest step, atomic in the engine */
  g_autofree guint8 *keep = sc_prune_keep_union (stats, &opts->settings, opts->directions, error);
  if (keep == NULL)
    return FALSE;
  /* merged as export --merge --pairs merges: on the served directions' tokens */
  g_autoptr (ScView) merged = NULL;
  if (opts->settings.merge &&
      ((merged = sc_view_new_from_keep (model, keep, error)) == NULL ||
       !sc_merge_apply (merged, opts->capture, opts->directions, NULL, cancellable, error)))
    return FALSE;
  /* the settings that chose the experts, for config.json and the model card */
  g_autoptr (JsonObject) selection = json_object_new ();
  JsonArray *serves = json_array_new ();
  for (guint k = 0; opts->directions[k] != NULL; k++)
    json_array_add_string_element (serves, opts->directions[k]);
  json_object_set_array_member (selection, "serves", serves);
  json_object_set_string_member (selection, "index", "experts.json");
  sc_provenance_copy_index_meta (meta, selection);
  if (opts->scores != NULL)
    {
      json_object_set_string_member (selection, "scores_report",
                                     opts->scores_report ? opts->scores_report : "");
      json_object_set_object_member (selection, "scores", json_object_ref (opts->scores));
    }
  ScExportOptions eopts = {
    .shard_bytes = opts->shard_bytes,
    .force = opts->overwrite,
    .note = opts->note,
    .note_data = opts->note_data,
    .allow_non_finite = opts->allow_non_finite,
    .convert = opts->convert,
    .dtype = opts->dtype,
    .selection = selection,
    .overlay = merged,
  };
  if (!sc_export_pruned (model, keep, model_out, &eopts, cancellable, error))
    return FALSE;
  sc_progress_meter_update (&meter, 3);
  return TRUE;
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
