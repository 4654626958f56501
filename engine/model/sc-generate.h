/* sc-generate.h: greedy and beam search with Hugging Face `generate`
 * semantics (transformers 4.40: BeamSearchScorer, BeamHypotheses,
 * ForcedBOS/ForcedEOS logits processors). */
#pragma once

#include "sc-model.h"

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
  int      num_beams;        /* 1 = greedy */
  int      max_length;       /* total decoder length, the start token included */
  double   length_penalty;
  gboolean early_stopping;
  int      forced_bos_id;    /* target language token, -1 = none */
  int      forced_eos_id;    /* -1 = none */
} ScGenerateOptions;

/* Defaults from the model's config / generation_config. */
void       sc_generate_options_init (ScGenerateOptions *opts, ScModel *model);

/* One GArray of int per encoder row: the decoder start token, the
 * generated tokens, and the final </s> when the hypothesis ended. */
GPtrArray *sc_generate (ScModel *model, const ScEncoding *enc, const ScGenerateOptions *opts,
                        GCancellable *cancellable, GError **error);

/* Text in, text out: tokenizes `n` sentences of `src_lang`, translates them
 * in batches of `batch_size` (sorted by length so padding stays small) and
 * returns a NULL-terminated array in input order. Empty or blank lines give
 * empty translations; sources longer than the model's positions are
 * truncated with a warning. `progress` (may be NULL) is called after each
 * batch with the number of sentences done. */
typedef void (*ScProgressFunc) (int done, int total, gpointer user_data);

char     **sc_translate (ScModel *model, const char *const *texts, int n, const char *src_lang,
                         const char *tgt_lang, const ScGenerateOptions *opts, int batch_size,
                         ScProgressFunc progress, gpointer progress_data,
                         GCancellable *cancellable, GError **error);

G_END_DECLS
