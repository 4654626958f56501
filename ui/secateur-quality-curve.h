/* secateur-quality-curve.h: chrF++ against the share of experts pruned
 * (the quality sweeps) with the slider's position marked (Cairo chart
 * sc-chart-curve). Several runs are overlaid, one solid line each, named
 * in the legend; the pairs of a lone run are drawn dashed beside its mean. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define SECATEUR_TYPE_QUALITY_CURVE (secateur_quality_curve_get_type ())
G_DECLARE_FINAL_TYPE (SecateurQualityCurve, secateur_quality_curve, SECATEUR, QUALITY_CURVE,
                      GtkWidget)

/* Removes every run. */
void secateur_quality_curve_clear (SecateurQualityCurve *self);
/* Adds a run: n points at x (share pruned) with the mean chrF++, named
 * `label` in the legend, and optionally the same per direction (scores
 * [n_directions * n]), drawn only while it is the one run. Copied. */
void secateur_quality_curve_add_run (SecateurQualityCurve *self, const char *label, int n,
                                     const double *x, const double *mean,
                                     const char *const *directions, const double *scores);
/* The current run: drawn solid, the others dashed when there are several; -1: none. */
void secateur_quality_curve_set_current (SecateurQualityCurve *self, int index);
int secateur_quality_curve_get_n_runs (SecateurQualityCurve *self);
const char *secateur_quality_curve_get_run_label (SecateurQualityCurve *self, int index);
/* The number of lines drawn (runs' means and, for a lone run, its pairs). */
int secateur_quality_curve_get_n_series (SecateurQualityCurve *self);

void secateur_quality_curve_set_marker (SecateurQualityCurve *self, double ratio);
double secateur_quality_curve_get_marker (SecateurQualityCurve *self);

G_END_DECLS
