/* sc-stats-private.h: what sc-stats.c (counters, merging, aggregates) and
 * sc-stats-json.c (the file form) share. */
#pragma once

#include "sc-stats.h"

#include <json-glib/json-glib.h>

struct _ScStats
{
  GMutex lock;
  ScStatsShape shape;
  GHashTable *dirs; /* char* direction -> ScStatsCounters* */
  int *order;       /* scratch for ranks [E], used under the lock */
  float *order_p;
  JsonArray *provenance; /* JsonObject records, one per calibration run, oldest first */
};

ScStatsCounters *sc_stats_lookup_or_add (ScStats *s, const char *direction);
JsonNode *sc_stats_deep_copy (JsonNode *n);
