/* secateur-export-page.h: export a pruned checkpoint for the chosen pairs,
 * the expert index, the statistics and a report, into one folder; asks
 * before replacing anything; emits `exported` (folder) when done. */
#pragma once

#include <adwaita.h>

#include "secateur-controller.h"

G_BEGIN_DECLS

#define SECATEUR_TYPE_EXPORT_PAGE (secateur_export_page_get_type ())
G_DECLARE_FINAL_TYPE (SecateurExportPage, secateur_export_page, SECATEUR, EXPORT_PAGE, AdwBin)

/* The pruning is the controller's pruning settings. Template children
 * (secateur-export-page.ui): folder_row, dtype_row (over dtype_labels: as
 * stored, f16, bf16, each with the size it gives), pairs_group (one row
 * per pair, titled by language names), export_button, cancel_button,
 * progress and status. The window sets the folder from the preference
 * default-export-folder and follows it (empty: none chosen). */
GtkWidget *secateur_export_page_new        (SecateurController *controller);
void       secateur_export_page_set_folder (SecateurExportPage *self, const char *folder);
/* Starts the export; asks first when files would be replaced. */
void       secateur_export_page_export     (SecateurExportPage *self);

G_END_DECLS
