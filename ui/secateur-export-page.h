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
 * progress and status; the preview of what Export writes (preview_group:
 * ratio_row, serves_row, experts_row, disk_row, memory_row, settings_row)
 * and, after an export, its record read back from the folder
 * (record_group: record_folder_row, record_serves_row, record_experts_row,
 * record_size_row, record_settings_row). The window sets the folder from
 * the preference default-export-folder and follows it (empty: none
 * chosen). */
GtkWidget *secateur_export_page_new        (SecateurController *controller);
void       secateur_export_page_set_folder (SecateurExportPage *self, const char *folder);
/* Starts the export; asks first when files would be replaced. */
void       secateur_export_page_export     (SecateurExportPage *self);
/* What Export would write now (the preview's plan, brought up to date);
 * NULL when nothing can be exported yet. Owned by the page. */
const ScExportJobPlan *secateur_export_page_get_plan (SecateurExportPage *self);

G_END_DECLS
