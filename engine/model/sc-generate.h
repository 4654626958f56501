/* sc-generate.h: greedy and beam search with Hugging Face `generate`
 * semantics (transformers 4.40: BeamSearchScorer, BeamHypotheses,
 * and its deterministic logits processors). */
#pragma once

#include "sc-model.h"
#include "sc-view.h"

#include <gio/gio.h>

G_BEGIN_DECLS

/* Secateur's length when no file sets max_length or max_new_tokens
 * (transformers' 20 cuts most sentences short). */
#define SC_GENERATE_DEFAULT_MAX_LENGTH 200

typedef struct {
  int      num_beams;        /* 1 = greedy */
  /* the n best hypotheses per sentence (beam search only); the inits set
   * 1, whatever the model's files say: callers that show or write every
   * hypothesis set it (see sc_translate_n) */
  int      num_return_sequences;
  /* diverse beam search: num_beams in groups searched in turn, a token
   * chosen by an earlier group at the same step costing diversity_penalty
   * (transformers' group beam search; 1 group: plain beam search) */
  int      num_beam_groups;
  double   diversity_penalty;
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
  int      encoder_no_repeat_ngram_size;
  double   encoder_repetition_penalty;
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

/* One GArray of int per encoder row (num_return_sequences per row, best
 * first, rows in order): the decoder start token, the generated tokens, and
 * the final </s> when the hypothesis ended. */
GPtrArray *sc_generate (ScView *view, const ScEncoding *enc, const ScGenerateOptions *opts,
                        GCancellable *cancellable, GError **error);

/* Text in, text out (with the view's experts and weights): tokenizes `n` sentences of `src_lang`, translates them
 * in batches of `batch_size` (sorted by length so padding stays small) and
 * returns a NULL-terminated array in input order. Empty or blank lines give
 * empty translations; sources longer than the model's positions are
 * truncated with a warning. `progress` (may be NULL) is called after each
 * batch with the number of sentences done. */
typedef void (*ScProgressFunc) (int done, int total, gpointer user_data);

/* The same with opts->num_return_sequences translations per sentence:
 * sentence i's j-th best at [i * num_return_sequences + j]. */
char     **sc_translate_n (ScView *view, const char *const *texts, int n, const char *src_lang,
                           const char *tgt_lang, const ScGenerateOptions *opts, int batch_size,
                           ScProgressFunc progress, gpointer progress_data,
                           GCancellable *cancellable, GError **error);

char     **sc_translate (ScView *view, const char *const *texts, int n, const char *src_lang,
                         const char *tgt_lang, const ScGenerateOptions *opts, int batch_size,
                         ScProgressFunc progress, gpointer progress_data,
                         GCancellable *cancellable, GError **error);

G_END_DECLS
