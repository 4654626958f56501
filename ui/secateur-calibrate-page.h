/* secateur-calibrate-page.h: calibration settings (corpus, sampling, size,
 * mode), Start/Cancel with progress, rate and ETA, and the live expert
 * heatmap (metric and scope chosen here) with the language similarity
 * view beside it. */
#pragma once

#include <adwaita.h>

#include "secateur-controller.h"
#include "secateur-heatmap.h"
#include "secateur-similarity.h"

G_BEGIN_DECLS

#define SECATEUR_TYPE_CALIBRATE_PAGE (secateur_calibrate_page_get_type ())
G_DECLARE_FINAL_TYPE (SecateurCalibratePage, secateur_calibrate_page, SECATEUR, CALIBRATE_PAGE,
                      AdwBin)

/* Template children (secateur-calibrate-page.ui): the settings corpus_row,
 * path_row, sampling_row, size_spin and mode_row; start_button,
 * cancel_button, progress and status (before a run: a hint that follows
 * the chosen pairs); metric_dropdown and scope_dropdown (metric:
 * importance, activity, frequency, REAP; scope: all directions, then
 * languages, then pairs, by name), view_stack ("experts" or "languages"),
 * heatmap_stack ("empty", an AdwStatusPage, until statistics exist; then
 * "heatmap"), heatmap and similarity. With pruned_toggle on (off by
 * default), the heatmap strikes through what the controller's pruning
 * settings drop. */
GtkWidget *secateur_calibrate_page_new      (SecateurController *controller);
/* Starts a run; when statistics exist it first asks (an AdwMessageDialog,
 * responses "add", "replace" and "cancel") whether the run adds to them
 * or replaces them. While another job runs, start_button is insensitive
 * and its tooltip names that job. */
void       secateur_calibrate_page_start    (SecateurCalibratePage *self);
void       secateur_calibrate_page_cancel   (SecateurCalibratePage *self);
void       secateur_calibrate_page_set_size (SecateurCalibratePage *self, int size);

G_END_DECLS
