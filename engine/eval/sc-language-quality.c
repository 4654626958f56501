/* sc-language-quality.c: per-language quality before and after pruning. */
#include "sc-language-quality.h"

#include "sc-corpus.h"
#include "sc-generate.h"
#include "sc-metrics.h"
#include "sc-model-folder.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void
sc_lang_quality_row_clear (ScLangQualityRow *row)
{
  g_clear_pointer (&row->lang, g_free);
}

static int
cmp_share (const void *a, const void *b)
{
  const ScLangQualityRow *x = a, *y = b;
  if (x->share != y->share)
    return x->share < y->share ? 1 : -1;
  return strcmp (x->lang, y->lang);
}

void
sc_lang_quality_sort (ScLangQualityRow *rows, guint n)
{
  if (n > 1)
    qsort (rows, n, sizeof *rows, cmp_share);
}

double
sc_lang_quality_change (const ScLangQualityRow *row)
{
  return row->before != 0 ? (row->after - row->before) / row->before : 0.0;
}

gboolean
sc_lang_quality_within_noise (const ScLangQualityRow *row)
{
  return row->has_interval && row->change_low <= 0 && row->change_high >= 0;
}

gboolean
sc_lang_quality_degraded (const ScLangQualityRow *row, ScLangQualityKind kind, double threshold)
{
  double change = sc_lang_quality_change (row);
  if (sc_lang_quality_within_noise (row))
    return FALSE; /* a few sentences' swing is no finding */
  return kind == SC_LANG_QUALITY_CHRF ? change < -threshold : change > threshold;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

void
sc_lang_quality_set_interval (ScLangQualityRow *row, const double *before, const double *after,
                              int n)
{
  enum
  {
    RESAMPLES = 1000
  };
  row->has_interval = TRUE;
  row->change_low = -INFINITY;
  row->change_high = INFINITY;
  if (n < 2)
    return;
  double sb = 0, sa = 0;
  for (int i = 0; i < n; i++)
    sb += before[i], sa += after[i];
  if (sb <= 0)
    return;
  double centre = (sa - sb) / sb, shown = sc_lang_quality_change (row);
  /* the same resamples for every run: the chart does not flicker */
  g_autoptr (GRand) rand = g_rand_new_with_seed (20240601);
  g_autofree double *changes = g_new (double, RESAMPLES);
  int k = 0;
  for (int r = 0; r < RESAMPLES; r++)
    {
      double b = 0, a = 0;
      for (int i = 0; i < n; i++)
        {
          int j = g_rand_int_range (rand, 0, n);
          b += before[j], a += after[j];
        }
      if (b > 0)
        changes[k++] = (a - b) / b;
    }
  if (k < RESAMPLES / 2)
    return;
  qsort (changes, k, sizeof (double), cmp_double);
  row->change_low = shown + changes[(int) (0.025 * (k - 1))] - centre;
  row->change_high = shown + changes[(int) ceil (0.975 * (k - 1))] - centre;
}

gboolean
sc_lang_quality_chrf (ScView *view, const char *src, const char *tgt, int limit, int max_length,
                      GCancellable *cancellable, double *chrf, int *n, GError **error)
{
  return sc_lang_quality_chrf_sentences (view, src, tgt, limit, max_length, cancellable, chrf, n,
                                         NULL, error);
}

gboolean
sc_lang_quality_chrf_sentences (ScView *view, const char *src, const char *tgt, int limit,
                                int max_length, GCancellable *cancellable, double *chrf, int *n,
                                double **sentences, GError **error)
{
  ScModel *model = sc_view_get_model (view);
  g_autoptr (GPtrArray) pairs = sc_model_held_out_pairs (model, src, tgt, error);
  if (pairs == NULL)
    return FALSE;
  if (limit > 0 && pairs->len > (guint) limit)
    g_ptr_array_set_size (pairs, limit);
  if (pairs->len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no held-out text for %s-%s", src, tgt);
      return FALSE;
    }
  g_autofree const char **sources = g_new0 (const char *, pairs->len + 1);
  g_autofree const char **refs = g_new0 (const char *, pairs->len + 1);
  for (guint i = 0; i < pairs->len; i++)
    {
      const ScCorpusPair *p = pairs->pdata[i];
      sources[i] = p->source;
      refs[i] = p->target;
    }
  ScGenerateOptions gen;
  sc_generate_options_init (&gen, model);
  gen.num_beams = 1;
  if (max_length > 0)
    gen.max_length = MIN (gen.max_length, max_length);
  g_auto (GStrv) hyps =
      sc_translate (view, sources, pairs->len, src, tgt, &gen, 8, NULL, NULL, cancellable, error);
  if (hyps == NULL)
    return FALSE;
  ScMetricConfig cfg;
  sc_metric_config_init (&cfg, SC_METRIC_CHRF_PP);
  g_autoptr (ScMetric) metric = sc_metric_new (&cfg, error);
  if (metric == NULL)
    return FALSE;
  const char *const *streams[] = { refs, NULL };
  ScMetricScore s;
  if (!sc_metric_corpus_score (metric, (const char *const *) hyps, streams, &s, error))
    return FALSE;
  if (sentences != NULL)
    {
      g_autofree double *each = g_new (double, pairs->len);
      for (guint i = 0; i < pairs->len; i++)
        {
          const char *one[] = { refs[i], NULL };
          ScMetricScore si;
          if (!sc_metric_sentence_score (metric, hyps[i], one, &si, error))
            return FALSE;
          each[i] = si.score;
        }
      *sentences = g_steal_pointer (&each);
    }
  *chrf = s.score;
  *n = pairs->len;
  return TRUE;
}
