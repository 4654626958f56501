/* sc-sweep-job.c: quality at the kept sets several pruning ratios give. */
#include "sc-sweep-job.h"

#include "sc-corpus.h"
#include "sc-merge.h"

#include <string.h>

const double sc_sweep_default_ratios[SC_SWEEP_N_DEFAULT_RATIOS] = { 0.0, 0.25, 0.5, 0.75, 0.9 };

void
sc_sweep_job_result_free (ScSweepJobResult *r)
{
  if (r == NULL)
    return;
  g_strfreev (r->directions);
  g_free (r->ratios);
  g_free (r->chrf);
  g_free (r->scores);
  g_free (r->kept);
  g_strfreev (r->kept_sets);
  g_free (r->sentences);
  g_free (r->held_out);
  g_free (r->calibration);
  g_free (r);
}

ScSweepJobResult *
sc_sweep_job_result_copy (const ScSweepJobResult *r)
{
  ScSweepJobResult *c = g_memdup2 (r, sizeof *r);
  gsize points = (gsize) r->n_directions * r->n_ratios;
  c->directions = g_strdupv (r->directions);
  c->ratios = g_memdup2 (r->ratios, sizeof (double) * MAX (r->n_ratios, 1));
  c->chrf = g_memdup2 (r->chrf, sizeof (double) * MAX (r->n_ratios, 1));
  c->scores = g_memdup2 (r->scores, sizeof (double) * MAX (points, 1));
  c->kept = r->kept != NULL ? g_memdup2 (r->kept, sizeof (int) * MAX (points, 1)) : NULL;
  c->kept_sets = g_strdupv (r->kept_sets);
  c->sentences = r->sentences != NULL
                     ? g_memdup2 (r->sentences, sizeof (int) * MAX (r->n_directions, 1))
                     : NULL;
  c->held_out = g_strdup (r->held_out);
  c->calibration = g_strdup (r->calibration);
  return c;
}

char *
sc_sweep_kept_set_id (const guint8 *keep, int n)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 block[256];
  for (int i = 0; i < n; i += sizeof block)
    {
      int m = MIN ((int) sizeof block, n - i);
      for (int j = 0; j < m; j++)
        block[j] = keep == NULL || keep[i + j] != 0;
      g_checksum_update (sum, block, m);
    }
  /* 64 bits tell apart the few sets one run holds */
  return g_strndup (g_checksum_get_string (sum), 16);
}

double
sc_sweep_job_point_pruned (const ScSweepJobResult *r, int i)
{
  if (r->kept == NULL || r->experts_total < 1 || r->n_directions < 1)
    return r->ratios[i];
  double kept = 0;
  for (int d = 0; d < r->n_directions; d++)
    kept += r->kept[d * r->n_ratios + i];
  return 1.0 - kept / r->n_directions / r->experts_total;
}

int
sc_sweep_job_find_direction (const ScSweepJobResult *r, const char *direction)
{
  for (int d = 0; d < r->n_directions; d++)
    if (g_strcmp0 (r->directions[d], direction) == 0)
      return d;
  return -1;
}

ScSweepEstimate
sc_sweep_job_estimate (const ScSweepJobResult *r, int d, int kept, const char *kept_set,
                       double *chrf)
{
  if (d < 0 || d >= r->n_directions || r->kept == NULL)
    return SC_SWEEP_NOT_MEASURED;
  const int *k = r->kept + (gsize) d * r->n_ratios;
  const double *s = r->scores + (gsize) d * r->n_ratios;
  if (kept_set != NULL && r->kept_sets != NULL)
    for (int i = 0; i < r->n_ratios; i++)
      if (k[i] == kept && g_strcmp0 (r->kept_sets[(gsize) d * r->n_ratios + i], kept_set) == 0)
        {
          *chrf = s[i];
          return SC_SWEEP_MEASURED;
        }
  /* the nearest measured counts at or above and at or below `kept` */
  int above = -1, below = -1;
  for (int i = 0; i < r->n_ratios; i++)
    {
      if (k[i] >= kept && (above < 0 || k[i] < k[above]))
        above = i;
      if (k[i] <= kept && (below < 0 || k[i] > k[below]))
        below = i;
    }
  if (above < 0 || below < 0)
    return SC_SWEEP_NOT_MEASURED;
  if (k[above] == k[below])
    *chrf = s[above];
  else
    *chrf = s[below] + (double) (kept - k[below]) / (k[above] - k[below]) * (s[above] - s[below]);
  return SC_SWEEP_INTERPOLATED;
}

ScSweepEstimate
sc_sweep_job_estimate_mean (const ScSweepJobResult *r, const int *kept,
                            const char *const *kept_sets, double *chrf)
{
  if (r->n_directions < 1)
    return SC_SWEEP_NOT_MEASURED;
  ScSweepEstimate worst = SC_SWEEP_MEASURED;
  double sum = 0;
  for (int d = 0; d < r->n_directions; d++)
    {
      double v = 0;
      ScSweepEstimate e =
          sc_sweep_job_estimate (r, d, kept[d], kept_sets ? kept_sets[d] : NULL, &v);
      if (e == SC_SWEEP_NOT_MEASURED)
        return e;
      worst = MIN (worst, e);
      sum += v;
    }
  *chrf = sum / r->n_directions;
  return worst;
}

/* The name of the held-out set sc_model_held_out_pairs reads for
 * src -> tgt: the model's heldout.tsv when it has the direction. */
static const char *
held_out_name (ScModel *model, const char *src, const char *tgt)
{
  const char *dir = sc_model_get_dir (model);
  g_autofree char *own = dir != NULL ? g_build_filename (dir, "heldout.tsv", NULL) : NULL;
  if (own == NULL || !g_file_test (own, G_FILE_TEST_IS_REGULAR))
    return "UDHR";
  g_autoptr (GPtrArray) pairs = sc_corpus_bitext_pairs (own, src, tgt, NULL);
  return pairs != NULL && pairs->len > 0 ? "heldout.tsv" : "UDHR";
}

static gboolean
all_kept (const guint8 *keep, int n)
{
  for (int i = 0; keep != NULL && i < n; i++)
    if (!keep[i])
      return FALSE;
  return TRUE;
}

ScSweepJobResult *
sc_sweep_job_run (ScModel *model, const ScSweepJobOptions *o, ScProgressCallback progress,
                  gpointer progress_data, GCancellable *cancellable, GError **error)
{
  int n_req = o->ratios != NULL ? o->n_ratios : SC_SWEEP_N_DEFAULT_RATIOS;
  const double *req = o->ratios != NULL ? o->ratios : sc_sweep_default_ratios;
  int n_dirs = o->directions != NULL ? (int) g_strv_length ((char **) o->directions) : 0;
  if (n_dirs == 0 || n_req < 1)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "a sweep needs a direction and a ratio");
      return NULL;
    }
  for (int k = 0; k < n_req; k++)
    if (!(req[k] >= 0 && req[k] < 1) || (k > 0 && req[k] < req[k - 1]))
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                     "a sweep's ratios must ascend in [0, 1)");
        return NULL;
      }
  const ScMoeShape *shape = sc_model_get_moe_shape (model);
  int total = shape->n_moe_layers * shape->n_experts;
  g_auto (GStrv) src = g_new0 (char *, n_dirs + 1), tgt = g_new0 (char *, n_dirs + 1);
  for (int d = 0; d < n_dirs; d++)
    if (!sc_stats_split_direction (o->directions[d], &src[d], &tgt[d]))
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "“%s” is not a language pair",
                     o->directions[d]);
        return NULL;
      }

  /* every requested ratio's kept sets first; a ratio whose sets (in
   * every direction) an earlier one gave adds no point */
  g_autoptr (GPtrArray) masks = g_ptr_array_new_with_free_func (g_free); /* [point * n_dirs + d] */
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);   /* the same */
  g_autoptr (GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);  /* [point] */
  g_autoptr (GArray) ratios = g_array_new (FALSE, FALSE, sizeof (double));
  for (int k = 0; k < n_req; k++)
    {
      ScPruneSettings s = o->settings;
      s.ratio = req[k];
      g_autoptr (GPtrArray) row_masks = g_ptr_array_new_with_free_func (g_free);
      g_autoptr (GPtrArray) row_ids = g_ptr_array_new_with_free_func (g_free);
      g_autoptr (GString) key = g_string_new (NULL);
      for (int d = 0; d < n_dirs; d++)
        {
          guint8 *keep =
              s.ratio > 0 ? sc_prune_keep_mask (o->stats, &s, src[d], tgt[d], error) : NULL;
          if (s.ratio > 0 && keep == NULL)
            return NULL;
          if (all_kept (keep, total))
            g_clear_pointer (&keep, g_free); /* the full model */
          char *id = sc_sweep_kept_set_id (keep, total);
          g_string_append (key, id);
          g_ptr_array_add (row_masks, keep);
          g_ptr_array_add (row_ids, id);
        }
      if (g_ptr_array_find_with_equal_func (keys, key->str, g_str_equal, NULL))
        continue;
      g_array_append_val (ratios, req[k]);
      g_ptr_array_add (keys, g_strdup (key->str));
      for (int d = 0; d < n_dirs; d++)
        {
          g_ptr_array_add (masks, g_steal_pointer (&row_masks->pdata[d]));
          g_ptr_array_add (ids, g_steal_pointer (&row_ids->pdata[d]));
        }
    }

  g_autoptr (ScSweepJobResult) r = g_new0 (ScSweepJobResult, 1);
  int n = ratios->len;
  r->n_directions = n_dirs;
  r->n_ratios = n;
  r->directions = g_strdupv ((char **) o->directions);
  r->ratios = g_memdup2 (ratios->data, sizeof (double) * n);
  r->chrf = g_new0 (double, n);
  int cells = n_dirs * n;
  r->scores = g_new0 (double, cells);
  r->settings = o->settings;
  r->settings.ratio = 0;
  r->experts_total = total;
  r->kept = g_new0 (int, cells);
  r->kept_sets = g_new0 (char *, cells + 1);
  r->sentences = g_new0 (int, n_dirs);
  r->num_beams = 1;
  r->calibration = g_strdup (o->calibration);
  r->created = g_get_real_time () / G_USEC_PER_SEC;
  for (int i = 0; i < n; i++)
    for (int d = 0; d < n_dirs; d++)
      {
        const guint8 *keep = masks->pdata[i * n_dirs + d];
        int kept = total;
        if (keep != NULL)
          {
            kept = 0;
            for (int e = 0; e < total; e++)
              kept += keep[e] != 0;
          }
        r->kept[d * n + i] = kept;
        r->kept_sets[d * n + i] = g_strdup (ids->pdata[i * n_dirs + d]);
      }

  ScProgressMeter meter;
  sc_progress_meter_start (&meter, "sweep", "points", (gint64) n_dirs * n, progress, progress_data);
  g_autoptr (GPtrArray) held_out = g_ptr_array_new ();
  for (int d = 0; d < n_dirs; d++)
    {
      ScEvaluateJobOptions eo;
      sc_evaluate_job_options_init (&eo, model, src[d], tgt[d]);
      eo.limit = o->sentences;
      eo.gen.num_beams = 1;
      if (o->max_length > 0)
        eo.gen.max_length = MIN (eo.gen.max_length, o->max_length);
      r->max_length = eo.gen.max_length;
      /* the sentences once per direction */
      g_autoptr (GPtrArray) pairs = sc_evaluate_job_pairs (model, NULL, SC_CORPUS_SPLIT_HELD_OUT,
                                                           src[d], tgt[d], eo.limit, error);
      if (pairs == NULL)
        return NULL;
      const char *name = held_out_name (model, src[d], tgt[d]);
      if (!g_ptr_array_find_with_equal_func (held_out, name, g_str_equal, NULL))
        g_ptr_array_add (held_out, (gpointer) name);
      r->sentences[d] = pairs->len;
      g_autofree const char **sources = g_new0 (const char *, pairs->len + 1);
      g_autofree const char **refs = g_new0 (const char *, pairs->len + 1);
      for (guint i = 0; i < pairs->len; i++)
        {
          sources[i] = ((ScCorpusPair *) pairs->pdata[i])->source;
          refs[i] = ((ScCorpusPair *) pairs->pdata[i])->target;
        }
      eo.sources = sources;
      eo.references = refs;
      eo.n = pairs->len;
      for (int i = 0; i < n; i++)
        {
          const guint8 *keep = masks->pdata[i * n_dirs + d];
          g_autoptr (ScExpertSet) experts = sc_evaluate_job_experts (model, keep);
          eo.full = experts == NULL;
          eo.experts = experts;
          /* merged on this direction's tokens, as Compare and the export merge */
          g_autoptr (ScView) merged = NULL;
          const char *const served[] = { o->directions[d], NULL };
          if (experts != NULL && o->settings.merge &&
              ((merged = sc_view_new (model, experts, error)) == NULL ||
               !sc_merge_apply (merged, o->capture, served, NULL, cancellable, error)))
            return NULL;
          eo.view = merged;
          g_autoptr (ScEvaluateJobResult) point =
              sc_evaluate_job_run (model, &eo, NULL, NULL, cancellable, error);
          if (point == NULL)
            return NULL;
          double score = (point->has_full ? &point->full : &point->pruned)->scores.chrf_pp;
          r->scores[d * n + i] = score;
          r->chrf[i] += score / n_dirs;
          sc_progress_meter_update (&meter, (gint64) d * n + i + 1);
        }
    }
  g_ptr_array_add (held_out, NULL);
  r->held_out = g_strjoinv (", ", (char **) held_out->pdata);
  return g_steal_pointer (&r);
}
