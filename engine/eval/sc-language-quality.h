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
} ScLangQualityRow;

void     sc_lang_quality_row_clear (ScLangQualityRow *row);
/* Largest share first, then by code. */
void     sc_lang_quality_sort      (ScLangQualityRow *rows, guint n);
/* Relative change (after - before) / before; 0 when before is 0. */
double   sc_lang_quality_change    (const ScLangQualityRow *row);
/* Whether the language lost more than `threshold` (a fraction): chrF++
 * fell, or perplexity grew, by more than that share of its value before. */
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

G_END_DECLS
