/* secateur-export-page.h: export a pruned checkpoint for the chosen pairs,
 * the expert index, the statistics and a report, into one folder; asks
 * before replacing anything; emits `exported` (folder) when done. */
#pragma once

#include <adwaita.h>

#include "secateur-controller.h"

G_BEGIN_DECLS

#define SECATEUR_TYPE_EXPORT_PAGE (secateur_export_page_get_type ())
G_DECLARE_FINAL_TYPE (SecateurExportPage, secateur_export_page, SECATEUR, EXPORT_PAGE, AdwBin)

GtkWidget  *secateur_export_page_new (SecateurController *controller);
void        secateur_export_page_set_prune_settings (SecateurExportPage *self,
                                                     const ScPruneSettings *s);
void        secateur_export_page_set_folder (SecateurExportPage *self, const char *folder);
const char *secateur_export_page_get_folder (SecateurExportPage *self);
/* Starts the export; asks first when files would be replaced. */
void        secateur_export_page_export     (SecateurExportPage *self);
const char *secateur_export_page_get_status (SecateurExportPage *self);
/* The weights' dtype: "F16", "BF16", or NULL (as stored). */
void        secateur_export_page_set_dtype  (SecateurExportPage *self, const char *dtype);
/* Choice `position` of the dtype row, with the size it gives. */
const char *secateur_export_page_get_dtype_label (SecateurExportPage *self, guint position);
/* Whether export would replace files in the folder. */
gboolean    secateur_export_page_would_overwrite (SecateurExportPage *self);

G_END_DECLS
