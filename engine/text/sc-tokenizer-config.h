/* sc-tokenizer-config.h: the settings Hugging Face keeps in an NLLB
 * tokenizer's tokenizer_config.json. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  gboolean   legacy;          /* legacy_behaviour; FALSE when silent */
  gboolean   clean_up_spaces; /* clean_up_tokenization_spaces; TRUE (HF 4.x) when silent */
  GPtrArray *codes;           /* additional_special_tokens: language codes in id order,
                               * replacing the built-in 202; NULL when absent */
} ScTokenizerConfig;

/* The defaults: what a missing file means. */
ScTokenizerConfig *sc_tokenizer_config_new   (void);
void               sc_tokenizer_config_free  (ScTokenizerConfig *config);
/* `what` names the file in errors (SC_ERROR_FORMAT). */
ScTokenizerConfig *sc_tokenizer_config_parse (const char *json, gssize length, const char *what,
                                              GError **error);
/* `dir`/tokenizer_config.json, or the defaults when there is none. */
ScTokenizerConfig *sc_tokenizer_config_load  (const char *dir, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScTokenizerConfig, sc_tokenizer_config_free)

G_END_DECLS
