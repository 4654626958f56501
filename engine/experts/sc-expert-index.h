/* sc-expert-index.h: the expert index of the paper's authors (naver/nllb-pruning
 * experts.json): which experts to keep, by global id
 * g = moe_layer * n_experts + expert (encoder MoE layers first).
 *
 * JSON: either a plain ascending list of ids (global pruning, the same for
 * every direction) or an object whose keys are NLLB language codes
 * (per-language pruning) and/or "src-tgt" directions (per-pair pruning),
 * each holding an ascending list of ids to keep. For a direction s-t
 * without its own key, the kept set is the encoder ids of s and the decoder
 * ids of t: [g in idx[s] : g < n_enc*E] ∪ [g in idx[t] : g >= n_enc*E].
 * The reader skips keys that are neither a language nor a direction, as
 * the authors' code (which looks up only the keys it needs) does, and
 * lists them (sc_expert_index_ignored_keys) for a warning — except
 * SC_EXPERT_INDEX_META_KEY, Secateur's record of how the ids were chosen
 * (selection settings and the statistics' provenance), read silently. The
 * authors' readers look ids up by language or pair, so that key is
 * harmless to them. A global index (a bare list) has no room for it. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "sc-expert-set.h"

G_BEGIN_DECLS

#define SC_EXPERT_INDEX_ERROR (sc_expert_index_error_quark ())
typedef enum {
  SC_EXPERT_INDEX_ERROR_INVALID,    /* malformed document */
  SC_EXPERT_INDEX_ERROR_RANGE,      /* an id outside 0..n_moe_layers*n_experts-1 */
  SC_EXPERT_INDEX_ERROR_UNKNOWN_KEY,/* setting a key that is no NLLB language or direction */
  SC_EXPERT_INDEX_ERROR_NOT_FOUND,  /* no entry for a requested language or direction */
} ScExpertIndexError;
GQuark sc_expert_index_error_quark (void);

typedef struct _ScExpertIndex ScExpertIndex;

/* The one reserved top-level key: {"selection": {...settings},
 * "statistics": [...provenance records]}. No NLLB code or pair. */
#define SC_EXPERT_INDEX_META_KEY "secateur"

ScExpertIndex *sc_expert_index_new  (int n_moe_layers, int n_encoder_moe, int n_experts);
void           sc_expert_index_free (ScExpertIndex *idx);

/* Sets the ids of `key` (NULL: the global list; an index is either global
 * or keyed). Ids are sorted and deduplicated; out-of-range ids or unknown
 * keys fail. */
gboolean  sc_expert_index_set       (ScExpertIndex *idx, const char *key, const int *ids,
                                     int n_ids, GError **error);
gboolean  sc_expert_index_is_global (const ScExpertIndex *idx);
/* Sorted keys (empty for a global index); g_strfreev. */
char    **sc_expert_index_keys      (const ScExpertIndex *idx);
/* Keys of the JSON read that were neither an NLLB language nor a src-tgt
 * direction, in file order (empty when none); g_strfreev. */
char    **sc_expert_index_ignored_keys (const ScExpertIndex *idx);
/* The reserved key's object (a reference is taken; NULL clears it). A
 * keyed index writes it; a global one (a bare list) cannot. */
void        sc_expert_index_set_meta (ScExpertIndex *idx, JsonObject *meta);
/* Owned by the index; NULL when the file had none. */
JsonObject *sc_expert_index_get_meta (const ScExpertIndex *idx);
/* The ids under key (NULL: global list), or NULL. Owned by the index. */
GArray   *sc_expert_index_get       (const ScExpertIndex *idx, const char *key);

/* The kept ids for direction src-tgt: the global list, the pair's own
 * entry, or the composition of the source's encoder ids and the target's
 * decoder ids. New GArray of int, ascending. */
GArray   *sc_expert_index_for_pair  (const ScExpertIndex *idx, const char *src, const char *tgt,
                                     GError **error);

/* Several directions in one model: the union of every direction's kept
 * ids, i.e. per side the union over the directions — for a per-language
 * index the encoder ids of the sources and the decoder ids of the targets
 * (English into three languages keeps English's encoder experts once, not
 * three sources' worth). `directions`: NULL-terminated "src-tgt" strings.
 * New GArray of int, ascending; NULL and an error when one is missing. */
GArray   *sc_expert_index_for_pairs (const ScExpertIndex *idx, const char *const *directions,
                                     GError **error);

/* A key is valid when it is an NLLB code or two NLLB codes joined by '-'. */
gboolean  sc_expert_index_key_valid (const char *key);

ScExpertIndex *sc_expert_index_from_json (const char *data, gssize length, int n_moe_layers,
                                          int n_encoder_moe, int n_experts, GError **error);
ScExpertIndex *sc_expert_index_load      (const char *path, int n_moe_layers, int n_encoder_moe,
                                          int n_experts, GError **error);
char          *sc_expert_index_to_json   (const ScExpertIndex *idx, gsize *length);
gboolean       sc_expert_index_save      (const ScExpertIndex *idx, const char *path,
                                          GError **error);

/* A keep file (`secateur-cli export --keep`): per MoE layer the expert ids
 * to keep, [[0, 2, 5], [1, 3, 4], ...], or a plain list of global ids.
 * Returns keep[n_moe * n_experts] (1 = kept; g_free); `what` begins the
 * messages (SC_EXPERT_INDEX_ERROR_INVALID). */
guint8        *sc_expert_keep_from_json  (const char *data, gssize length, int n_moe,
                                          int n_experts, const char *what, GError **error);
guint8        *sc_expert_keep_load       (const char *path, int n_moe, int n_experts,
                                          GError **error);
/* The same as an expert set. */
ScExpertSet   *sc_expert_set_load_keep   (const char *path, int n_moe, int n_experts,
                                          GError **error);

/* The experts a model for several directions or languages keeps, as
 * `secateur-cli export --pairs/--langs` does: `keys` (NULL-terminated) are
 * "src-tgt" directions, read as sc_expert_index_for_pairs does, and
 * language codes, which stand for every direction among the languages
 * given (one language alone: into itself); the set is the union over all
 * of them. NULL and an error when one is missing. */
ScExpertSet   *sc_expert_index_to_expert_set (const ScExpertIndex *idx, const char *const *keys,
                                              GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScExpertIndex, sc_expert_index_free)

G_END_DECLS
