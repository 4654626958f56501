/* secateur-prune-page.h: the pruning panel. A ratio slider (0-95 %),
 * encoder:decoder budget, metric, algorithm and granularity; live, as the
 * slider moves: experts kept per layer, size after pruning, whether it fits
 * the GPU budget, routing mass kept and the quality estimate read from the
 * controller's sweep (drawn with the slider's position). */
#pragma once

#include <adwaita.h>

#include "secateur-controller.h"

G_BEGIN_DECLS

#define SECATEUR_TYPE_PRUNE_PAGE (secateur_prune_page_get_type ())
G_DECLARE_FINAL_TYPE (SecateurPrunePage, secateur_prune_page, SECATEUR, PRUNE_PAGE, AdwBin)

/* The controls edit the controller's pruning settings
 * (secateur_controller_get_prune_settings) and follow them. Template
 * children (secateur-prune-page.ui): scale (percent), ratio_label,
 * budget_row, metric_row, algo_row, granularity_row, direction_row (the
 * direction whose numbers are shown, listed by language name); the results
 * kept_row, size_row, fits_row, mass_row and estimate_row (as subtitles,
 * sizes in one unit: GB, or MB below 1 GB), measure_button (insensitive,
 * with a tooltip saying why, without statistics or while a job runs),
 * sweep_progress, bars and curve in charts_stack ("empty": empty_page, an
 * AdwStatusPage, until statistics exist; then "charts"). */
GtkWidget *secateur_prune_page_new             (SecateurController *controller);
/* GPU memory budget in GB for the "fits" indicator. */
void       secateur_prune_page_set_gpu_memory  (SecateurPrunePage *self, double gb);
/* Starts the quality sweep with the current settings. */
void       secateur_prune_page_measure_quality (SecateurPrunePage *self);
/* Asks (an AdwMessageDialog: "stop" or "continue") whether to stop the
 * sweep this page started; stopping keeps the earlier curve. The sweep
 * shows in sweep_box: sweep_status ("Measuring quality: point i of n,
 * direction ..." with rate and time left), sweep_progress and
 * sweep_cancel, which calls this. */
void       secateur_prune_page_cancel_quality  (SecateurPrunePage *self);
/* Whether the sweep this page started runs. */
gboolean   secateur_prune_page_is_measuring    (SecateurPrunePage *self);

G_END_DECLS
