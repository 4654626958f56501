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

GtkWidget          *secateur_calibrate_page_new    (SecateurController *controller);
void                secateur_calibrate_page_start  (SecateurCalibratePage *self);
void                secateur_calibrate_page_cancel (SecateurCalibratePage *self);
void                secateur_calibrate_page_set_size (SecateurCalibratePage *self, int size);
/* Which experts the pruning panel drops: dimmed in the heatmap. */
void                secateur_calibrate_page_set_prune_settings (SecateurCalibratePage *self,
                                                                const ScPruneSettings *s);
/* Heatmap metric: 0 importance, 1 activity, 2 frequency, 3 REAP; scope: 0
 * all directions, then languages, then pairs (as listed). */
void                secateur_calibrate_page_set_view (SecateurCalibratePage *self, guint metric,
                                                      guint scope);
SecateurHeatmap    *secateur_calibrate_page_get_heatmap    (SecateurCalibratePage *self);
SecateurSimilarity *secateur_calibrate_page_get_similarity (SecateurCalibratePage *self);
const char         *secateur_calibrate_page_get_status     (SecateurCalibratePage *self);
/* Show the similarity view (TRUE) or the heatmap. */
void                secateur_calibrate_page_show_similarity (SecateurCalibratePage *self,
                                                             gboolean similarity);

G_END_DECLS
