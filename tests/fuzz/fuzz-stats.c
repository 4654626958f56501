/* fuzz-stats.c: libFuzzer target for the statistics reader
 * (sc_stats_from_json, its strict JSON scanner and schema checks), with a
 * write-then-read-back property: whatever the reader accepts, the writer
 * must write, and the reader must read that back equal. */
#include "sc-stats.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  return 0;
}

static gboolean
same_f64 (const double *a, const double *b, gsize n)
{
  for (gsize i = 0; i < n; i++)
    if (!(a[i] == b[i] || (isnan (a[i]) && isnan (b[i]))))
      return FALSE;
  return TRUE;
}

static gboolean
same_counters (const ScStatsCounters *a, const ScStatsCounters *b)
{
  gsize L = (gsize) a->n_layers, n = L * (gsize) a->n_experts;
  return a->n_layers == b->n_layers && a->n_experts == b->n_experts &&
         memcmp (a->tokens, b->tokens, L * sizeof (guint64)) == 0 &&
         memcmp (a->top1, b->top1, n * sizeof (guint64)) == 0 &&
         memcmp (a->top2, b->top2, n * sizeof (guint64)) == 0 && same_f64 (a->gate1, b->gate1, n) &&
         same_f64 (a->gate2, b->gate2, n) && same_f64 (a->prob_sum, b->prob_sum, n) &&
         same_f64 (a->rank_sum, b->rank_sum, n) && same_f64 (a->reap_sum, b->reap_sum, n);
}

static void
round_trip (ScStats *s)
{
  gsize len = 0;
  GError *error = NULL;
  char *json = sc_stats_to_json (s, &len, &error);
  if (json == NULL)
    {
      fprintf (stderr, "accepted statistics are not written: %s\n", error->message);
      abort ();
    }
  ScStats *back = sc_stats_from_json (json, (gssize) len, sc_stats_get_shape (s), &error);
  if (back == NULL)
    {
      fprintf (stderr, "written statistics do not read back: %s\n", error->message);
      abort ();
    }
  char **dirs = sc_stats_list_directions (s), **dirs2 = sc_stats_list_directions (back);
  if (g_strv_length (dirs) != g_strv_length (dirs2))
    abort ();
  for (guint i = 0; dirs[i] != NULL; i++)
    {
      if (strcmp (dirs[i], dirs2[i]) != 0)
        abort ();
      ScStatsCounters *a = sc_stats_get_pair (s, dirs[i], NULL);
      ScStatsCounters *b = sc_stats_get_pair (back, dirs[i], NULL);
      if (a == NULL || b == NULL || !same_counters (a, b))
        {
          fprintf (stderr, "direction %s reads back different counters\n", dirs[i]);
          abort ();
        }
      sc_stats_counters_free (a);
      sc_stats_counters_free (b);
    }
  /* and the text it writes is a fixed point */
  gsize len2 = 0;
  char *json2 = sc_stats_to_json (back, &len2, NULL);
  if (json2 == NULL || len != len2 || memcmp (json, json2, len) != 0)
    abort ();
  g_free (json2);
  g_strfreev (dirs);
  g_strfreev (dirs2);
  sc_stats_free (back);
  g_free (json);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  GError *error = NULL;
  ScStats *s = sc_stats_from_json ((const char *) data, (gssize) size, NULL, &error);
  if ((s == NULL) != (error != NULL) || (error != NULL && error->domain != SC_STATS_ERROR))
    abort ();
  g_clear_error (&error);
  if (s == NULL)
    return 0;
  round_trip (s);
  sc_stats_free (s);
  return 0;
}
