/* sc-generate.h: greedy and beam search with Hugging Face `generate`
 * semantics (transformers 4.40: BeamSearchScorer, BeamHypotheses,
 * and its deterministic logits processors). */
#pragma once

#include "sc-model.h"

#include <gio/gio.h>

G_BEGIN_DECLS

/* Secateur's length when no file sets max_length or max_new_tokens
 * (transformers' 20 cuts most sentences short). */
#define SC_GENERATE_DEFAULT_MAX_LENGTH 200

typedef struct {
  int      num_beams;        /* 1 = greedy */
  int      max_length;       /* total decoder length, the start token included */
  double   length_penalty;
  int      early_stopping;   /* FALSE, TRUE or SC_EARLY_STOPPING_NEVER */
  int      forced_bos_id;    /* target language token, -1 = none */
  int      forced_eos_id;    /* -1 = none */
  /* transformers' logits processors; the arrays are borrowed from the
   * model's config (see ScConfig) */
  int      min_length;
  int      no_repeat_ngram_size;
  double   repetition_penalty;
  const GArray    *suppress_tokens, *begin_suppress_tokens, *forced_decoder_ids;
  const GPtrArray *bad_words_ids;
  gboolean remove_invalid_values, renormalize_logits;
  int      decay_start;      /* -1 = none */
  double   decay_factor;
} ScGenerateOptions;

/* Defaults from the model's config / generation_config, with Secateur's
 * longer default length when none is set. */
void       sc_generate_options_init (ScGenerateOptions *opts, ScModel *model);
/* The same with transformers' own defaults (max_length 20): exact parity. */
void       sc_generate_options_init_hf (ScGenerateOptions *opts, ScModel *model);

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
