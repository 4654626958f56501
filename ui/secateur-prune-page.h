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

GtkWidget *secateur_prune_page_new (SecateurController *controller);
void       secateur_prune_page_get_settings (SecateurPrunePage *self,
                                             ScPruneSettings *settings);
/* Ratio in [0, 0.95]; moves the slider. */
void       secateur_prune_page_set_ratio    (SecateurPrunePage *self, double ratio);
/* The direction whose numbers the panel shows ("src-tgt"), or NULL. */
const char *secateur_prune_page_get_direction (SecateurPrunePage *self);
/* GPU memory budget in GB for the "fits" indicator. */
void       secateur_prune_page_set_gpu_memory (SecateurPrunePage *self, double gb);
/* Starts the quality sweep with the current settings. */
void       secateur_prune_page_measure_quality (SecateurPrunePage *self);
/* The text of a result ("kept", "size", "fits", "mass", "estimate"). */
const char *secateur_prune_page_get_result  (SecateurPrunePage *self, const char *key);
GtkWidget *secateur_prune_page_get_bars     (SecateurPrunePage *self);
GtkWidget *secateur_prune_page_get_curve    (SecateurPrunePage *self);

G_END_DECLS
