/* sc-json-write.h: JSON text that always reads back.
 *
 * json-glib's generator writes NaN as "nan.0" and 1e308 as "1e+308.0"
 * (it appends ".0" to any double without a '.'), neither of which is JSON.
 * Every JSON file Secateur writes goes through these instead (but for a
 * safetensors header, integers and strings only): doubles as "%.17g"
 * (exact round trip) kept recognisable as doubles ("3.0", "1.0e+308"), and
 * a NaN or infinity refused with an error naming where it sits. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Appends finite `v` as a JSON number that reads back to exactly `v`. */
void sc_json_append_double (GString *out, double v);
/* Appends `s` (UTF-8) as a JSON string. */
void sc_json_append_string (GString *out, const char *s);

/* Serialises `root` like json_to_string (pretty: two-space indents and
 * "key" : value), or fails with SC_ERROR_NOT_FINITE naming the member path
 * (e.g. "scores.eng_Latn-fra_Latn.nll") of the first NaN or infinity. */
char *sc_json_to_data (JsonNode *root, gboolean pretty, gsize *length, GError **error);

/* sc_json_to_data written to `path` through a temporary file and a rename:
 * the file is replaced whole or left as it was. */
gboolean sc_json_save (JsonNode *root, gboolean pretty, const char *path, GError **error);

G_END_DECLS
