/* sc-specialisation.c: concentration and overlap of expert routing per
 * language. See sc-specialisation.h. */
#include "sc-specialisation.h"

#include <math.h>
#include <string.h>

/* Routing distribution of one layer: share of top-1 + top-2 assignments.
 * FALSE when the layer saw no assignments. */
static gboolean
routing_distribution (const ScStatsCounters *c, int layer, double *p)
{
  int E = c->n_experts;
  double total = 0;
  for (int e = 0; e < E; e++)
    {
      gsize i = (gsize) layer * E + e;
      p[e] = (double) c->top1[i] + (double) c->top2[i];
      total += p[e];
    }
  if (total <= 0)
    return FALSE;
  for (int e = 0; e < E; e++)
    p[e] /= total;
  return TRUE;
}

static int
cmp_desc (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x < y) - (x > y);
}

static int
cmp_str_ptr (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

static char **
union_languages (ScStats *stats)
{
  g_auto (GStrv) src = sc_stats_list_languages (stats, FALSE);
  g_auto (GStrv) tgt = sc_stats_list_languages (stats, TRUE);
  g_autoptr (GPtrArray) all = g_ptr_array_new ();
  for (int side = 0; side < 2; side++)
    for (char **l = side == 0 ? src : tgt; l && *l; l++)
      {
        gboolean seen = FALSE;
        for (guint i = 0; i < all->len && !seen; i++)
          seen = g_str_equal (all->pdata[i], *l);
        if (!seen)
          g_ptr_array_add (all, g_strdup (*l));
      }
  g_ptr_array_sort (all, cmp_str_ptr);
  g_ptr_array_add (all, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&all), FALSE);
}

ScSpecialisation *
sc_specialisation_compute (ScStats *stats, int top_k, GError **error)
{
  const ScStatsShape *sh = sc_stats_get_shape (stats);
  if (top_k < 1 || top_k > sh->n_experts)
    {
      g_set_error (error, SC_STATS_ERROR, SC_STATS_ERROR_INVALID,
                   "top-k must be between 1 and the number of experts (%d), not %d",
                   sh->n_experts, top_k);
      return NULL;
    }
  g_autoptr (ScSpecialisation) s = g_new0 (ScSpecialisation, 1);
  s->n_layers = sh->n_moe_layers;
  s->n_encoder = sh->n_encoder_moe;
  s->n_experts = sh->n_experts;
  s->top_k = top_k;
  s->langs = union_languages (stats);
  s->n_langs = (int) g_strv_length (s->langs);
  if (s->n_langs == 0)
    {
      g_set_error (error, SC_STATS_ERROR, SC_STATS_ERROR_INVALID,
                   "The statistics hold no directions");
      return NULL;
    }
  int L = s->n_layers, N = s->n_langs, E = s->n_experts;
  s->top_share = g_new (double, (gsize) L * N);
  s->effective = g_new (double, (gsize) L * N);
  s->overlap = g_new (double, (gsize) L * N * N);
  /* dist[l][lang] = distribution or NULL */
  g_autofree double *dist = g_new0 (double, (gsize) L * N * E);
  g_autofree gboolean *have = g_new0 (gboolean, (gsize) L * N);
  g_autofree double *sorted = g_new (double, E);

  for (int li = 0; li < N; li++)
    for (int side = 0; side < 2; side++)
      {
        int l0 = side == 0 ? 0 : s->n_encoder, l1 = side == 0 ? s->n_encoder : L;
        if (l0 == l1)
          continue;
        g_autoptr (GError) missing = NULL;
        g_autoptr (ScStatsCounters) c = side == 0
                                            ? sc_stats_get_source (stats, s->langs[li], &missing)
                                            : sc_stats_get_target (stats, s->langs[li], &missing);
        for (int l = l0; l < l1; l++)
          {
            double *p = dist + ((gsize) l * N + li) * E;
            have[(gsize) l * N + li] = c != NULL && routing_distribution (c, l, p);
          }
      }

  for (int l = 0; l < L; l++)
    for (int a = 0; a < N; a++)
      {
        gsize ia = (gsize) l * N + a;
        const double *pa = dist + ia * E;
        if (!have[ia])
          {
            s->top_share[ia] = s->effective[ia] = NAN;
          }
        else
          {
            memcpy (sorted, pa, sizeof (double) * E);
            qsort (sorted, E, sizeof (double), cmp_desc);
            double share = 0, h = 0;
            for (int k = 0; k < top_k; k++)
              share += sorted[k];
            for (int e = 0; e < E; e++)
              if (pa[e] > 0)
                h -= pa[e] * log (pa[e]);
            s->top_share[ia] = share;
            s->effective[ia] = exp (h);
          }
        for (int b = 0; b < N; b++)
          {
            gsize ib = (gsize) l * N + b;
            double ov = NAN;
            if (have[ia] && have[ib])
              {
                const double *pb = dist + ib * E;
                ov = 0;
                for (int e = 0; e < E; e++)
                  ov += MIN (pa[e], pb[e]);
              }
            s->overlap[((gsize) l * N + a) * N + b] = ov;
          }
      }
  return g_steal_pointer (&s);
}

void
sc_specialisation_free (ScSpecialisation *spec)
{
  if (spec == NULL)
    return;
  g_strfreev (spec->langs);
  g_free (spec->top_share);
  g_free (spec->effective);
  g_free (spec->overlap);
  g_free (spec);
}

static void
side_range (const ScSpecialisation *spec, ScSide side, int *l0, int *l1)
{
  *l0 = side == SC_SIDE_ENCODER ? 0 : spec->n_encoder;
  *l1 = side == SC_SIDE_ENCODER ? spec->n_encoder : spec->n_layers;
}

double *
sc_specialisation_similarity (const ScSpecialisation *spec, ScSide side)
{
  int N = spec->n_langs, l0, l1;
  side_range (spec, side, &l0, &l1);
  double *out = g_new (double, (gsize) N * N);
  for (int i = 0; i < N * N; i++)
    {
      double sum = 0;
      int n = 0;
      for (int l = l0; l < l1; l++)
        {
          double v = spec->overlap[(gsize) l * N * N + i];
          if (!isnan (v))
            {
              sum += v;
              n++;
            }
        }
      out[i] = n > 0 ? sum / n : NAN;
    }
  return out;
}

void
sc_specialisation_means (const ScSpecialisation *spec, int l0, int l1, int lang,
                         double *top_share, double *effective, double *overlap)
{
  int N = spec->n_langs;
  int a0 = lang >= 0 ? lang : 0, a1 = lang >= 0 ? lang + 1 : N;
  double s1 = 0, s2 = 0, s3 = 0;
  int n1 = 0, n3 = 0;
  for (int l = l0; l < l1; l++)
    for (int a = a0; a < a1; a++)
      {
        double t = spec->top_share[(gsize) l * N + a];
        if (!isnan (t))
          {
            s1 += t;
            s2 += spec->effective[(gsize) l * N + a];
            n1++;
          }
        for (int b = 0; b < N; b++)
          {
            double v = spec->overlap[((gsize) l * N + a) * N + b];
            if (a != b && !isnan (v))
              {
                s3 += v;
                n3++;
              }
          }
      }
  *top_share = n1 ? s1 / n1 : NAN;
  *effective = n1 ? s2 / n1 : NAN;
  *overlap = n3 ? s3 / n3 : NAN;
}

void
sc_specialisation_side_means (const ScSpecialisation *spec, ScSide side, double *top_share,
                              double *effective, double *overlap)
{
  int l0, l1;
  side_range (spec, side, &l0, &l1);
  sc_specialisation_means (spec, l0, l1, -1, top_share, effective, overlap);
}

int *
sc_cluster_order (const double *similarity, int n)
{
  /* Each cluster keeps its leaves in order; merging appends b's to a's.
   * O(n^3) is fine for languages (n <= a few hundred). */
  g_autofree double *d = g_new (double, (gsize) n * n);
  for (int i = 0; i < n * n; i++)
    d[i] = 1.0 - (isnan (similarity[i]) ? 0.0 : similarity[i]);
  g_autofree int *size = g_new (int, n);
  g_autofree gboolean *alive = g_new (gboolean, n);
  GArray **leaves = g_new (GArray *, n);
  for (int i = 0; i < n; i++)
    {
      size[i] = 1;
      alive[i] = TRUE;
      leaves[i] = g_array_new (FALSE, FALSE, sizeof (int));
      g_array_append_val (leaves[i], i);
    }
  for (int step = 0; step + 1 < n; step++)
    {
      int ba = -1, bb = -1;
      double best = INFINITY;
      for (int a = 0; a < n; a++)
        for (int b = a + 1; b < n && alive[a]; b++)
          if (alive[b] && d[(gsize) a * n + b] < best)
            {
              best = d[(gsize) a * n + b];
              ba = a;
              bb = b;
            }
      /* average linkage: size-weighted mean of the merged distances */
      for (int c = 0; c < n; c++)
        if (alive[c] && c != ba && c != bb)
          {
            double v = (size[ba] * d[(gsize) ba * n + c] + size[bb] * d[(gsize) bb * n + c]) /
                       (size[ba] + size[bb]);
            d[(gsize) ba * n + c] = d[(gsize) c * n + ba] = v;
          }
      g_array_append_vals (leaves[ba], leaves[bb]->data, leaves[bb]->len);
      size[ba] += size[bb];
      alive[bb] = FALSE;
    }
  int *order = g_new (int, MAX (n, 1));
  for (int i = 0; i < n; i++)
    {
      if (alive[i])
        memcpy (order, leaves[i]->data, sizeof (int) * n);
      g_array_unref (leaves[i]);
    }
  g_free (leaves);
  return order;
}
