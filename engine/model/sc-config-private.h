/* sc-config-private.h: what sc-config.c (the model's config.json) and
 * sc-generation-config.c (its generation settings) share. */
#pragma once

#include "sc-config.h"

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Longest sequence a config may ask for; guards allocations. */
#define SC_CONFIG_MAX_POS (1 << 20)

/* The JSON object of a config file `what`, through the guarded parser;
 * errors are SC_ERROR_CONFIG. *root owns it. */
JsonObject *sc_config_parse_object    (JsonNode **root, const char *json, gssize len,
                                       const char *what, GError **error);
/* Whether `n` holds the value of the JSON text `json`. */
gboolean    sc_config_node_equals     (JsonNode *n, const char *json);
/* Whether config.json's object sets any generation key to a value of its own. */
gboolean    sc_config_sets_generation (JsonObject *obj);
/* Resets `c`'s generation settings to transformers' defaults and reads those
 * of `obj` (the file `what`) over them. */
gboolean    sc_config_read_generation (ScConfig *c, JsonObject *obj, const char *what,
                                       GError **error);

G_END_DECLS
