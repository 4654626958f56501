/* sc-language-quality.h: quality per language before and after a change to
 * a model (weight pruning), the relative change, languages listed by their
 * training share and flagged when they lose more than a threshold: the view
 * of the Multilingual Brain Surgeon paper (Zeng et al. 2024), where
 * English-only calibration leaves low-resource languages behind.
 *
 * Used by `secateur-cli perplexity --compare` (teacher-forced perplexity)
 * and by the application's Weights page (chrF++ of short translations).
 */
#pragma once

#include "sc-model.h"
#include "sc-view.h"

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
  SC_LANG_QUALITY_CHRF,       /* chrF++: higher is better */
  SC_LANG_QUALITY_PERPLEXITY, /* lower is better */
} ScLangQualityKind;

typedef struct {
  char   *lang;
  double  share;    /* training share (0..1); 0 when the table lacks the language */
  int     n;        /* sentences scored */
  double  before, after;
  /* The 95 % interval of the relative change (as sc_lang_quality_change)
   * over the n sentences, resampled in pairs (sc_lang_quality_set_interval);
   * has_interval FALSE: not measured. */
  gboolean has_interval;
  double  change_low, change_high;
} ScLangQualityRow;

void     sc_lang_quality_row_clear (ScLangQualityRow *row);
/* Largest share first, then by code. */
void     sc_lang_quality_sort      (ScLangQualityRow *rows, guint n);
/* Relative change (after - before) / before; 0 when before is 0. */
double   sc_lang_quality_change    (const ScLangQualityRow *row);
/* Whether the language lost more than `threshold` (a fraction): chrF++
 * fell, or perplexity grew, by more than that share of its value before,
 * and (when the row has an interval) the change is not within noise. */
gboolean sc_lang_quality_degraded  (const ScLangQualityRow *row, ScLangQualityKind kind,
                                    double threshold);

/* chrF++ (corpus level) of the view's greedy translations of the first
 * `limit` held-out pairs (sc_corpus_held_out_pairs: the model's own
 * heldout.tsv, else the shipped UDHR's held-out articles) from `src` into `tgt`,
 * at most `max_length` tokens each (0: the model's default); `n` receives
 * how many were scored. */
gboolean sc_lang_quality_chrf      (ScView *view, const char *src, const char *tgt, int limit,
                                    int max_length, GCancellable *cancellable, double *chrf,
                                    int *n, GError **error);

/* The interval of the row's relative change from its sentences' scores
 * before and after (n of each, same sentences): a paired bootstrap (1000
 * resamples of the sentences, fixed seed) of the relative change of their
 * sum, its 2.5th and 97.5th percentiles shifted to centre on the row's
 * corpus-level change. Fewer than 2 sentences: unbounded. */
void     sc_lang_quality_set_interval (ScLangQualityRow *row, const double *before,
                                       const double *after, int n);
/* Whether the row's change is within noise: its interval holds 0. */
gboolean sc_lang_quality_within_noise (const ScLangQualityRow *row);
/* sc_lang_quality_chrf with each sentence's chrF++ in *sentences (n of
 * them; g_free) when not NULL. */
gboolean sc_lang_quality_chrf_sentences (ScView *view, const char *src, const char *tgt, int limit,
                                         int max_length, GCancellable *cancellable, double *chrf,
                                         int *n, double **sentences, GError **error);

G_END_DECLS
