/* secateur-quality-curve.h: chrF++ against the pruning ratio (the quality
 * sweep) with the slider's position marked (Cairo chart sc-chart-curve). */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define SECATEUR_TYPE_QUALITY_CURVE (secateur_quality_curve_get_type ())
G_DECLARE_FINAL_TYPE (SecateurQualityCurve, secateur_quality_curve, SECATEUR, QUALITY_CURVE,
                      GtkWidget)

/* n points: ratios, mean chrF++ (NULL clears) and, optionally, the same
 * per direction (scores [n_directions * n]). Copied. */
void       secateur_quality_curve_set_data   (SecateurQualityCurve *self, int n,
                                              const double *ratios, const double *mean,
                                              const char *const *directions,
                                              const double *scores);
void       secateur_quality_curve_set_marker (SecateurQualityCurve *self, double ratio);
double     secateur_quality_curve_get_marker (SecateurQualityCurve *self);

G_END_DECLS
