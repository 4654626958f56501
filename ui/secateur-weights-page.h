/* secateur-weights-page.h: the Weights mode: one-shot weight pruning
 * (magnitude, Wanda, SparseGPT; a ratio or 2:4 / 4:8) of a copy of the open
 * model with multilingual calibration (Multilingual Brain Surgeon: samples
 * in proportion to the training shares, uniform, English only or one
 * language). Shows the calibration samples per language before running,
 * then the sparsity reached per layer and chrF++ per language before and
 * after, with the languages that lose more than a threshold highlighted.
 * The job runs on the controller's worker with progress and cancel. */
#pragma once

#include <adwaita.h>

#include "secateur-controller.h"

G_BEGIN_DECLS

#define SECATEUR_TYPE_WEIGHTS_PAGE (secateur_weights_page_get_type ())
G_DECLARE_FINAL_TYPE (SecateurWeightsPage, secateur_weights_page, SECATEUR, WEIGHTS_PAGE, AdwBin)

/* Template children (secateur-weights-page.ui): method_row (magnitude,
 * Wanda, SparseGPT), type_row (unstructured, 2:4, 4:8), scale (percent),
 * sampling_row (training shares, uniform, English only, one language),
 * language_row, samples_spin, seqlen_spin, counts_row (the samples per
 * language, as its subtitle), sentences_spin, threshold_spin,
 * start_button, cancel_button (in Start's place while a job runs),
 * export_button, progress, status, and bars and chart in charts_stack
 * ("empty", an AdwStatusPage, until a result exists; then "charts"). */
GtkWidget  *secateur_weights_page_new          (SecateurController *controller);
/* Languages measured (NULL: all but English; no control shows them) and
 * sentences per language. */
void        secateur_weights_page_set_evaluation (SecateurWeightsPage *self,
                                                  const char *const *languages, int sentences);
void        secateur_weights_page_start        (SecateurWeightsPage *self);
void        secateur_weights_page_cancel       (SecateurWeightsPage *self);
/* Writes the pruned weights to `folder` (a new folder). */
void        secateur_weights_page_export       (SecateurWeightsPage *self, const char *folder);

G_END_DECLS
