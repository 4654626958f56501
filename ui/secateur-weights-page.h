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

GtkWidget  *secateur_weights_page_new          (SecateurController *controller);
/* The settings as a request; its strings belong to the page. */
void        secateur_weights_page_get_request  (SecateurWeightsPage *self,
                                                SecateurSparsifyRequest *request);
/* Settings, as the controls would set them (for scripts and tests). */
void        secateur_weights_page_set_method   (SecateurWeightsPage *self, ScSparsityMethod method);
/* An unstructured ratio (rounded to the slider's 5 % steps) or 2:4 / 4:8. */
void        secateur_weights_page_set_pattern  (SecateurWeightsPage *self,
                                                const ScSparsityPattern *pattern);
/* language: for SC_CALIB_LANGUAGE; eng_Latn selects "English only". */
void        secateur_weights_page_set_sampling (SecateurWeightsPage *self, ScCalibMode mode,
                                                const char *language);
void        secateur_weights_page_set_samples  (SecateurWeightsPage *self, int samples,
                                                int seqlen);
/* Languages measured (NULL: all but English) and sentences per language. */
void        secateur_weights_page_set_evaluation (SecateurWeightsPage *self,
                                                  const char *const *languages, int sentences);
void        secateur_weights_page_start        (SecateurWeightsPage *self);
void        secateur_weights_page_cancel       (SecateurWeightsPage *self);
/* Writes the pruned weights to `folder` (a new folder). */
void        secateur_weights_page_export       (SecateurWeightsPage *self, const char *folder);
const char *secateur_weights_page_get_status   (SecateurWeightsPage *self);
/* The calibration samples per language, as shown before running. */
const char *secateur_weights_page_get_calibration_text (SecateurWeightsPage *self);
GtkWidget  *secateur_weights_page_get_bars     (SecateurWeightsPage *self);
GtkWidget  *secateur_weights_page_get_chart    (SecateurWeightsPage *self);

G_END_DECLS
