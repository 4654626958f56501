/* sc-metrics-spm.h (private to engine/eval): SentencePiece pieces as
 * sacreBLEU's flores tokenizer sees them, ' '.join (EncodeAsPieces (line)).
 * The surface piece is kept for unknown ids (not "<unk>"), as in Python. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _ScMetricsSpm ScMetricsSpm;

ScMetricsSpm *sc_metrics_spm_load   (const char *path, GError **error);
void          sc_metrics_spm_free   (ScMetricsSpm *spm);
/* Pieces of `text` joined by single spaces; NULL with error on failure. */
char         *sc_metrics_spm_pieces (ScMetricsSpm *spm, const char *text, GError **error);

G_END_DECLS
