/* sc-capture.h: the router inputs calibration captures for output-aware
 * selection (sc-reconstruct.h).
 *
 * Per direction and MoE layer, a bounded sample of the layer-normed hidden
 * states the router sees: a reservoir of at most max_tokens, seeded, so
 * runs repeat.
 *
 * Capture file (documented in README.md): the 8 bytes "SCCAPTUR", a
 * little-endian u32 length, a JSON header of that length
 *   {"format": "secateur-capture", "version": 1, "dtype": "f32",
 *    "d_model", "n_moe_layers", "n_encoder_moe", "max_tokens", "seed",
 *    "entries": [{"direction", "moe_layer", "seen", "n_tokens", "offset"}]}
 * then the little-endian f32 rows ([n_tokens, d_model] per entry, at
 * `offset` bytes after the header). */
#pragma once

#include "sc-expert-metrics.h"

#include <glib.h>

G_BEGIN_DECLS

#define SC_CAPTURE_DEFAULT_TOKENS 256
#define SC_CAPTURE_DEFAULT_SEED 17

typedef struct _ScCapture ScCapture;

ScCapture *sc_capture_new (int n_moe_layers, int n_encoder_moe, int d_model, int max_tokens,
                           guint64 seed);
void sc_capture_free (ScCapture *cap);
int sc_capture_max_tokens (const ScCapture *cap);
/* Offers the valid tokens of one router event (hidden: [n_tokens, d];
 * tokens with valid[t] == 0, when valid is given, or top1[t] < 0 are
 * padding) to the reservoir of (direction, moe_layer). */
gboolean sc_capture_add (ScCapture *cap, const char *direction, int moe_layer, int n_tokens,
                         const float *hidden, const int *top1, const guint8 *valid, GError **error);
gboolean sc_capture_save (const ScCapture *cap, const char *path, GError **error);
/* The bytes sc_capture_save writes. */
guint64 sc_capture_file_size (const ScCapture *cap);
ScCapture *sc_capture_load (const char *path, GError **error);
/* The capture file beside a statistics file: S.json -> S.capture. */
char *sc_capture_path_for_stats (const char *stats_path);

/* The captured tokens of one MoE layer for a selection key, pooled over
 * the directions the key covers (as sc_expert_counters_for pools
 * statistics: encoder layers by source, decoder layers by target; PAIR the
 * pair's own tokens when captured), in direction order, then thinned
 * evenly to at most max_tokens. Returns [*n_out, d] (NULL and 0 when none). */
float *sc_capture_tokens_for (const ScCapture *cap, ScGranularity granularity, const char *src,
                              const char *tgt, int moe_layer, int *n_out);

/* FALSE, with an error giving both shapes, when the capture is not of a
 * model with these MoE layers, encoder MoE layers and d_model. */
gboolean sc_capture_check_shape (const ScCapture *cap, int n_moe_layers, int n_encoder_moe,
                                 int d_model, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScCapture, sc_capture_free)

G_END_DECLS
