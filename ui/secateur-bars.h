/* secateur-bars.h: experts kept per MoE layer at the current pruning
 * settings, or any share per layer such as the weights pruned (Cairo
 * chart sc-chart-bars). */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define SECATEUR_TYPE_BARS (secateur_bars_get_type ())
G_DECLARE_FINAL_TYPE (SecateurBars, secateur_bars, SECATEUR, BARS, GtkWidget)

/* n bars: kept[i] of max_value each; labels copied. */
void       secateur_bars_set_data  (SecateurBars *self, int n, const int *kept, int max_value,
                                    int n_encoder, const char *const *labels);
/* n bars of shares in [0, 1], shown as percentages; labels copied. */
void       secateur_bars_set_shares (SecateurBars *self, int n, const double *shares,
                                     int n_encoder, const char *const *labels);
/* The chart's title and accessible name (default: experts kept per layer). */
void       secateur_bars_set_title (SecateurBars *self, const char *title);
int        secateur_bars_get_n     (SecateurBars *self);
double     secateur_bars_get_value (SecateurBars *self, int i);

G_END_DECLS
