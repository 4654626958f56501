/* sc-charsmap.h: a SentencePiece model's precompiled character map, read
 * the way Hugging Face tokenizers reads it.
 *
 * The map (NormalizerSpec.precompiled_charsmap) is a Darts double-array trie
 * from UTF-8 keys to replacement strings. SentencePiece applies the longest
 * key at each position. tokenizers' Precompiled normalizer goes grapheme
 * cluster by grapheme cluster instead: a cluster shorter than 6 bytes is
 * looked up whole and, when a key prefixes it, replaced by the *shortest*
 * such key's replacement, so the rest of the cluster is lost (a no-break
 * space followed by U+093F comes out as one space). Secateur keeps
 * SentencePiece's normalisation and first removes what tokenizers would
 * lose. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _ScCharsmap ScCharsmap;

/* `blob`: the precompiled_charsmap bytes (copied). NULL with an error when
 * the blob is malformed. */
ScCharsmap *sc_charsmap_new               (const void *blob, gsize len, GError **error);
void        sc_charsmap_free              (ScCharsmap *map);
/* Bytes of the shortest key that prefixes s[0, len), 0 when none does. */
gsize       sc_charsmap_shortest_prefix   (const ScCharsmap *map, const char *s, gsize len);
/* `text` (valid UTF-8) less what tokenizers' Precompiled normalizer drops:
 * in each grapheme cluster under 6 bytes that a key prefixes without
 * covering, the bytes after that key. NULL when nothing is dropped. */
char       *sc_charsmap_drop_like_tokenizers (const ScCharsmap *map, const char *text);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScCharsmap, sc_charsmap_free)

G_END_DECLS
