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

GtkWidget              *secateur_overview_page_new        (SecateurController *controller);
SecateurLanguagePicker *secateur_overview_page_get_picker (SecateurOverviewPage *self);
/* The subtitle of the row titled `title` (for tests). */
const char             *secateur_overview_page_get_value  (SecateurOverviewPage *self,
                                                           const char *key);

G_END_DECLS
