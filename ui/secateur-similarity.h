/* secateur-similarity.h: language x language similarity of expert usage,
 * clustered so that languages sharing experts sit together (Cairo chart
 * sc-chart-matrix in a widget, with hover tooltips). */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define SECATEUR_TYPE_SIMILARITY (secateur_similarity_get_type ())
G_DECLARE_FINAL_TYPE (SecateurSimilarity, secateur_similarity, SECATEUR, SIMILARITY, GtkWidget)

/* n languages, values [n * n] in 0..1 (copied). */
void       secateur_similarity_set_data (SecateurSimilarity *self, int n,
                                         const char *const *labels, const float *values);
int        secateur_similarity_get_n    (SecateurSimilarity *self);
float      secateur_similarity_get      (SecateurSimilarity *self, int i, int j);
/* Cosine similarity of the rows of usage [n * dim] into out [n * n]. */
void       secateur_similarity_cosine   (int n, int dim, const float *usage, float *out);

G_END_DECLS
