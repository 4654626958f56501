/* secateur-prune-settings.h: the application's one set of pruning
 * settings (ratio, metric, algorithm, granularity, encoder:decoder budget,
 * merging),
 * the engine's ScPruneSettings as GObject properties. The controller owns
 * it; the pruning panel edits it and the pages that prune (heatmap, compare,
 * export) follow it through notify or `changed`. GLib only: no GTK. */
#pragma once

#include "sc-prune-plan.h"

#include <glib-object.h>

G_BEGIN_DECLS

#define SECATEUR_TYPE_PRUNE_SETTINGS (secateur_prune_settings_get_type ())
G_DECLARE_FINAL_TYPE (SecateurPruneSettings, secateur_prune_settings, SECATEUR, PRUNE_SETTINGS,
                      GObject)

/* Starts at the engine's defaults (sc_prune_settings_init). Properties:
 * "ratio" (double, experts pruned), "metric" (ScExpertMetric), "algo"
 * (ScSelectAlgo), "granularity" (ScGranularity), "enc-weight" and
 * "dec-weight" (the budget's two parts, at least 1), "merge" (boolean:
 * fold pruned experts into kept ones). */
SecateurPruneSettings *secateur_prune_settings_new (void);
/* Copies the current settings into *out. */
void                   secateur_prune_settings_get (SecateurPruneSettings *self,
                                                    ScPruneSettings *out);
/* Sets them all at once: one notify per changed property, then one
 * `changed` (as for any g_object_set of several of them). */
void                   secateur_prune_settings_set (SecateurPruneSettings *self,
                                                    const ScPruneSettings *settings);
/* The settings as the engine reads them; valid until the next change. */
const ScPruneSettings *secateur_prune_settings_peek (SecateurPruneSettings *self);

/* Undo history: every change (one g_object_set, or one _set) is a step;
 * ratio changes following each other within 0.6 s (a slider drag) are one
 * step. The last 100 steps are kept; a new change clears the redo side.
 * undo/redo return FALSE when there is nothing to go back (or forth) to. */
gboolean               secateur_prune_settings_undo     (SecateurPruneSettings *self);
gboolean               secateur_prune_settings_redo     (SecateurPruneSettings *self);
gboolean               secateur_prune_settings_can_undo (SecateurPruneSettings *self);
gboolean               secateur_prune_settings_can_redo (SecateurPruneSettings *self);
/* Drops every step, e.g. when another model is opened. */
void                   secateur_prune_settings_forget_history (SecateurPruneSettings *self);

G_END_DECLS
