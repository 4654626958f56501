/* secateur-compare-page.h: full vs pruned translations side by side, with
 * per-sentence chrF++, word differences highlighted, and a header with
 * corpus chrF++/spBLEU, tokens/s and memory for both models. */
#pragma once

#include <adwaita.h>

#include "secateur-controller.h"

G_BEGIN_DECLS

#define SECATEUR_TYPE_COMPARE_PAGE (secateur_compare_page_get_type ())
G_DECLARE_FINAL_TYPE (SecateurComparePage, secateur_compare_page, SECATEUR, COMPARE_PAGE, AdwBin)

/* The pruned side uses the controller's pruning settings. Template
 * children (secateur-compare-page.ui): direction_dropdown (pairs by
 * language name), limit_spin (held-out sentences), own_text, run_button,
 * cancel_button, progress, header (the scores) and, in results_stack
 * ("empty", an AdwStatusPage, before the first result; then "results"),
 * list (one row per sentence: "Source: …", "Reference: …", then the two
 * translations). */
GtkWidget *secateur_compare_page_new (SecateurController *controller);
void       secateur_compare_page_run (SecateurComparePage *self);
/* The last result (NULL before the first run); owned by the page. */
const SecateurCompareResult *secateur_compare_page_get_result (SecateurComparePage *self);

/* Pango markup of `a` and `b` with the words that are not in their longest
 * common word subsequence highlighted. */
void       secateur_word_diff_markup (const char *a, const char *b, char **markup_a,
                                      char **markup_b);

G_END_DECLS
