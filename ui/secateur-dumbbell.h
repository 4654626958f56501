/* secateur-dumbbell.h: quality per language before and after weight
 * pruning (Cairo chart sc-chart-dumbbell), degrading languages highlighted. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define SECATEUR_TYPE_DUMBBELL (secateur_dumbbell_get_type ())
G_DECLARE_FINAL_TYPE (SecateurDumbbell, secateur_dumbbell, SECATEUR, DUMBBELL, GtkWidget)

/* n rows; everything copied; flagged may be NULL. */
void       secateur_dumbbell_set_data (SecateurDumbbell *self, int n, const char *const *labels,
                                       const double *before, const double *after,
                                       const gboolean *flagged);
int        secateur_dumbbell_get_n    (SecateurDumbbell *self);
/* Row i's values; FALSE when out of range. */
gboolean   secateur_dumbbell_get_row  (SecateurDumbbell *self, int i, double *before,
                                       double *after, gboolean *flagged);
/* After set_data: which rows' change is within noise (drawn grey, never
 * flagged; NULL: none known) and the sentences per language, which the
 * legend states with what grey means. */
void       secateur_dumbbell_set_noise (SecateurDumbbell *self, const gboolean *noise,
                                        int sentences);
gboolean   secateur_dumbbell_get_noise (SecateurDumbbell *self, int i);
/* The legend's entry for the grey rows; NULL before set_noise. */
const char *secateur_dumbbell_get_note (SecateurDumbbell *self);
/* The chart's title; the widget is never narrower than it. */
const char *secateur_dumbbell_get_title (SecateurDumbbell *self);

G_END_DECLS
