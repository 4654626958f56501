/* sc-destination-private.h: for tests only. */
#pragma once

#include <glib.h>

/* TRUE: put folders in place as where renameat2 is missing (plain renames
 * only), so that tests reach that path too. */
void sc_destination_set_plain_rename (gboolean plain);
