/* sc-stats.h: gate statistics of a Mixture-of-Experts model, gathered per
 * translation direction ("src-tgt", NLLB codes) and per MoE layer x expert.
 *
 * Only raw additive counters are stored, so two statistics of the same model
 * add up to the statistics of the union of their data (shards merge). The
 * metrics of the pruning method (sc-expert-metrics.h) are derived from them.
 * MoE layers are numbered 0..n_moe_layers-1, encoder MoE layers first.
 *
 * An ScStats is safe to use from several threads: calibration adds tokens
 * on a worker while the GUI takes snapshots (sc_stats_snapshot). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "sc-file-lock.h"
#include "sc-moe-shape.h"

G_BEGIN_DECLS

#define SC_STATS_SCHEMA  "secateur-stats"
#define SC_STATS_VERSION 1

#define SC_STATS_ERROR (sc_stats_error_quark ())
typedef enum {
  SC_STATS_ERROR_INVALID,   /* malformed document or argument */
  SC_STATS_ERROR_SCHEMA,    /* not a secateur-stats document */
  SC_STATS_ERROR_VERSION,   /* written by a newer Secateur */
  SC_STATS_ERROR_SHAPE,     /* another model's statistics */
  SC_STATS_ERROR_NOT_FOUND, /* no statistics for a language or direction */
} ScStatsError;
GQuark sc_stats_error_quark (void);

/* The model the statistics belong to: the model's own MoE shape
 * (sc_model_get_moe_shape). The byte counts are not stored in the file:
 * statistics read from one have them at 0. */
typedef ScMoeShape ScStatsShape;

/* Raw counters of one direction (or of an aggregate), arrays indexed
 * [layer] or [layer * n_experts + expert]. */
typedef struct {
  int      n_layers, n_experts;
  guint64 *tokens;      /* [L]   non-pad tokens seen by the layer */
  guint64 *top1;        /* [L*E] tokens with e ranked 1st */
  guint64 *top2;        /* [L*E] tokens with e ranked exactly 2nd */
  double  *gate1;       /* [L*E] sum of softmax prob of e when ranked 1st */
  double  *gate2;       /* [L*E] sum of softmax prob of e when ranked 2nd */
  double  *prob_sum;    /* [L*E] sum of softmax prob of e over all tokens */
  double  *rank_sum;    /* [L*E] sum of the 1-based rank of e (descending prob) */
  double  *reap_sum;    /* [L*E] sum over tokens routed to e of weight x |expert output| */
} ScStatsCounters;

ScStatsCounters *sc_stats_counters_new   (int n_layers, int n_experts);
ScStatsCounters *sc_stats_counters_copy  (const ScStatsCounters *c);
void             sc_stats_counters_free  (ScStatsCounters *c);
/* dst += src, rows [first, last) only (pass 0, n_layers for all). */
void             sc_stats_counters_add_rows (ScStatsCounters *dst, const ScStatsCounters *src,
                                             int first, int last);
guint64          sc_stats_counters_total_tokens (const ScStatsCounters *c);

typedef struct _ScStats ScStats;

ScStats            *sc_stats_new         (const ScStatsShape *shape);
void                sc_stats_free        (ScStats *stats);
const ScStatsShape *sc_stats_get_shape   (const ScStats *stats);
gboolean            sc_stats_shape_equal (const ScStatsShape *a, const ScStatsShape *b,
                                          GError **error);
/* Whether `stats` are of the model whose shape is `model`
 * (sc_model_get_moe_shape): the same layers and experts, whatever the
 * names (a copy of the model in another folder is the same model). */
gboolean            sc_stats_check_model (const ScStats *stats, const ScStatsShape *model,
                                          GError **error);

/* Adds n_tokens router events of one MoE layer for `direction`.
 *   probs  [n x E] fp32 softmax over all experts (required)
 *   top1, top2 [n] expert ranked 1st / 2nd (top1 < 0: token skipped;
 *          top2 < 0: no second expert)
 *   w1, w2 [n] routing weights (NULL: the probabilities are used)
 *   norm1, norm2 [n] L2 norm of the chosen experts' outputs (NULL: no REAP)
 *   valid  [n] 0 = padding, skipped (NULL: all valid)
 * `decoder` must agree with moe_layer (encoder MoE layers first). Events
 * holding NaN or infinity (for a valid token) are refused whole with
 * SC_ERROR_NOT_FINITE: one would poison every sum it reaches. */
gboolean sc_stats_add_tokens (ScStats *stats, const char *direction, int moe_layer,
                              gboolean decoder, int n_tokens, const float *probs,
                              const int *top1, const int *top2,
                              const float *w1, const float *w2,
                              const float *norm1, const float *norm2,
                              const guint8 *valid, GError **error);

/* dst += src; fails (dst unchanged) when the shapes differ. */
gboolean  sc_stats_merge       (ScStats *dst, ScStats *src, GError **error);
/* A deep copy taken under the lock: read it freely while calibration runs. */
ScStats  *sc_stats_snapshot    (ScStats *stats);

/* Sorted direction keys; free with g_strfreev. */
char    **sc_stats_list_directions (ScStats *stats);
/* Sorted source (or target) languages having statistics. */
char    **sc_stats_list_languages  (ScStats *stats, gboolean target);
guint64   sc_stats_total_tokens    (ScStats *stats);

/* Splits "src-tgt" at its first '-'. FALSE when there is none. */
gboolean  sc_stats_split_direction (const char *direction, char **src, char **tgt);

/* Aggregates (new counters; NULL + SC_STATS_ERROR_NOT_FOUND when no
 * direction matches):
 *   pair   — the direction itself;
 *   source — encoder rows summed over directions with that source
 *            (decoder rows left at zero);
 *   target — decoder rows summed over directions with that target
 *            (encoder rows left at zero);
 *   global — all rows summed over all directions. */
ScStatsCounters *sc_stats_get_pair   (ScStats *stats, const char *direction, GError **error);
ScStatsCounters *sc_stats_get_source (ScStats *stats, const char *lang, GError **error);
ScStatsCounters *sc_stats_get_target (ScStats *stats, const char *lang, GError **error);
ScStatsCounters *sc_stats_get_global (ScStats *stats, GError **error);

/* Where the counters came from: one JSON object per calibration run
 * (sc-provenance.h builds them), oldest first. sc_stats_merge appends
 * src's records after dst's, so merged and appended files list every run.
 * add stores a copy of `record`; get returns a deep copy (unref). */
void        sc_stats_add_provenance (ScStats *stats, JsonObject *record);
JsonArray  *sc_stats_get_provenance (ScStats *stats);

/* JSON: {"schema": "secateur-stats", "version": 1, "model": {...},
 *        "directions": {"src-tgt": {"tokens": [L], "top1": [[E] x L], ...}},
 *        "provenance": [{...}, ...]}
 * "provenance" is optional (absent when no run recorded one; files of
 * earlier versions have none) and ignored by earlier readers, so it did not
 * change the version. */
/* Both fail with SC_ERROR_NOT_FINITE, naming the counter, when one is NaN
 * or infinite; sc_stats_save then leaves `path` as it was. */
char     *sc_stats_to_json   (ScStats *stats, gsize *length, GError **error);
gboolean  sc_stats_save      (ScStats *stats, const char *path, GError **error);
/* The statistics in `path` (when it exists) plus `stats`, saved to `path`
 * and returned; `stats` is left as it was. The read, the sum and the write
 * happen under sc_file_lock_acquire (`waiting` as there), so concurrent
 * appends to one file all count. On failure the file is left as it was. */
ScStats  *sc_stats_append_to_file (ScStats *stats, const char *path,
                                   ScFileLockWaitFunc waiting, gpointer user_data,
                                   GError **error);
/* `expect` (nullable): fail with SC_STATS_ERROR_SHAPE unless the file's
 * model shape matches it. */
ScStats  *sc_stats_from_json (const char *data, gssize length, const ScStatsShape *expect,
                              GError **error);
ScStats  *sc_stats_load      (const char *path, const ScStatsShape *expect, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScStats, sc_stats_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScStatsCounters, sc_stats_counters_free)

G_END_DECLS
