/* sc-calibrate.h: gather gate statistics by running the model.
 *
 * Each item is one sentence pair of one direction. Teacher forcing feeds
 * the reference target ([</s>, tgt_lang, pieces], predicting
 * [tgt_lang, pieces, </s>]); decoding generates a translation (greedy or
 * beam) and then replays the chosen hypothesis, so that exactly the decoder
 * tokens of the output are counted. Encoder layers see the source tokens
 * (language token and </s> included), padding excluded.
 */
#pragma once

#include "sc-generate.h"
#include "sc-model.h"
#include "sc-stats.h"

G_BEGIN_DECLS

typedef struct {
  const char *src_lang;
  const char *tgt_lang;
  const char *source;
  const char *target;   /* reference; may be NULL when decoding */
} ScCalibrationItem;

typedef enum {
  SC_CALIBRATE_TEACHER_FORCED,
  SC_CALIBRATE_DECODE,
} ScCalibrateMode;

typedef struct _ScCapture ScCapture; /* sc-reconstruct.h */

typedef struct {
  ScCalibrateMode   mode;
  int               batch_size;   /* sentences per forward pass */
  ScGenerateOptions generate;     /* decoding mode: beams and length */
  ScCapture        *capture;      /* NULL, or where the router inputs are sampled */
} ScCalibrateOptions;

/* Called after each batch with the sentences done and their total (the
 * jobs layer, sc-calibrate-job.h, turns them into rate and time left). */
typedef void (*ScCalibrateProgress) (int done, int total, gpointer user_data);

void     sc_calibrate_options_init (ScCalibrateOptions *opts, ScModel *model);

/* Adds the statistics of `items`, run through `view` (its router observer
 * is taken while it runs), to `stats` (whose shape must be the model's,
 * sc_model_get_moe_shape; the name may differ). Partial statistics stay in
 * `stats` when cancelled. */
gboolean sc_calibrate (ScView *view, ScStats *stats, const ScCalibrationItem *items, int n,
                       const ScCalibrateOptions *opts, ScCalibrateProgress progress,
                       gpointer progress_data, GCancellable *cancellable, GError **error);

G_END_DECLS
