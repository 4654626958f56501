/* sc-config-keys.h: what Secateur does with every key of config.json and
 * generation_config.json that transformers 4.40's NllbMoe, M2M100 and
 * generate() read (the lists are in tools/hf-keys.json). Nothing they read
 * may be ignored without a word. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  SC_KEY_HONOURED,   /* implemented as transformers does (values it cannot run are refused) */
  SC_KEY_REFUSED,    /* any value but `accepted` is refused with `why` */
  SC_KEY_NOTED,      /* a value but `accepted` is ignored, said once on stderr */
  SC_KEY_IRRELEVANT, /* cannot change an inference output; `why` says why */
} ScKeyUse;

typedef enum
{
  SC_KEY_MODEL = 1 << 0,      /* config.json's model keys */
  SC_KEY_GENERATION = 1 << 1, /* generation keys (generation_config.json, or config.json's) */
} ScKeyScope;

typedef struct
{
  const char *key;
  ScKeyScope scope;
  ScKeyUse use;
  const char *accepted; /* JSON of the value that is run as is (REFUSED, NOTED) */
  const char *probe;    /* JSON of a value that is refused or noted (REFUSED, NOTED) */
  const char *why;
} ScConfigKey;

/* The entry for `key` in `scope`, or NULL when Secateur has none. */
const ScConfigKey *sc_config_key_lookup (const char *key, ScKeyScope scope);
/* Every entry; *n receives their number. */
const ScConfigKey *sc_config_keys (guint *n);

G_END_DECLS
