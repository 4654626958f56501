/* secateur-overview-page.h: the open model at a glance (architecture,
 * parameters, size on disk, memory, languages, backend) and the language
 * picker whose pairs drive calibration, pruning and export. */
#pragma once

#include <adwaita.h>

#include "secateur-controller.h"
#include "secateur-language-picker.h"

G_BEGIN_DECLS

#define SECATEUR_TYPE_OVERVIEW_PAGE (secateur_overview_page_get_type ())
G_DECLARE_FINAL_TYPE (SecateurOverviewPage, secateur_overview_page, SECATEUR, OVERVIEW_PAGE,
                      AdwBin)

/* Template children (secateur-overview-page.ui): the fact rows name_row,
 * architecture_row, layers_row, experts_row, parameters_row, disk_row,
 * memory_row, languages_row and backend_row (values as subtitles), and
 * picker. */
GtkWidget *secateur_overview_page_new (SecateurController *controller);

G_END_DECLS
