/* sc-charsmap.c: a SentencePiece precompiled character map, read the way
 * Hugging Face tokenizers reads it (see sc-charsmap.h). */
#include "sc-charsmap.h"
#include "sc-tensor.h"

#include <string.h>

struct _ScCharsmap
{
  guint32 *units; /* the double array */
  gsize n_units;
};

ScCharsmap *
sc_charsmap_new (const void *blob, gsize len, GError **error)
{
  const guint8 *b = blob;
  guint32 trie_bytes;
  if (len <= 4)
    goto broken;
  memcpy (&trie_bytes, b, 4);
  trie_bytes = GUINT32_FROM_LE (trie_bytes);
  if (trie_bytes == 0 || trie_bytes % 4 != 0 || trie_bytes > len - 4)
    goto broken;

  ScCharsmap *map = g_new0 (ScCharsmap, 1);
  map->n_units = trie_bytes / 4;
  map->units = g_new (guint32, map->n_units);
  memcpy (map->units, b + 4, trie_bytes);
  for (gsize i = 0; i < map->n_units; i++)
    map->units[i] = GUINT32_FROM_LE (map->units[i]);
  return map;

broken:
  g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "SentencePiece character map is broken");
  return NULL;
}

void
sc_charsmap_free (ScCharsmap *map)
{
  if (map == NULL)
    return;
  g_free (map->units);
  g_free (map);
}

/* Darts-clone unit fields. */
static guint32
unit_offset (guint32 unit)
{
  return (unit >> 10) << ((unit & (1u << 9)) >> 6);
}

static guint32
unit_label (guint32 unit)
{
  return unit & ((1u << 31) | 0xff);
}

static gboolean
unit_has_leaf (guint32 unit)
{
  return (unit >> 8) & 1;
}

gsize
sc_charsmap_shortest_prefix (const ScCharsmap *map, const char *s, gsize len)
{
  gsize pos = unit_offset (map->units[0]);
  for (gsize i = 0; i < len && s[i] != '\0'; i++)
    {
      guint8 c = (guint8) s[i];
      pos ^= c;
      if (pos >= map->n_units)
        return 0;
      guint32 unit = map->units[pos];
      if (unit_label (unit) != c)
        return 0;
      pos ^= unit_offset (unit);
      if (pos >= map->n_units)
        return 0;
      if (unit_has_leaf (unit))
        return i + 1;
    }
  return 0;
}

/* Unicode's Grapheme_Cluster_Break, as far as clusters under 6 bytes need it
 * (so no Hangul syllable sequences, emoji ZWJ sequences, flag pairs or Indic
 * conjuncts: all of those are 6 bytes or more). */
static gboolean
is_control (gunichar c)
{
  switch (g_unichar_type (c))
    {
    case G_UNICODE_CONTROL:
    case G_UNICODE_LINE_SEPARATOR:
    case G_UNICODE_PARAGRAPH_SEPARATOR:
      return TRUE;
    case G_UNICODE_FORMAT:
      return c != 0x200c && c != 0x200d && !(c >= 0xe0020 && c <= 0xe007f) &&
             !(c >= 0x0600 && c <= 0x0605) && c != 0x06dd && c != 0x070f && c != 0x0890 &&
             c != 0x0891 && c != 0x08e2;
    default:
      return FALSE;
    }
}

static gboolean
is_prepend (gunichar c)
{
  return (c >= 0x0600 && c <= 0x0605) || c == 0x06dd || c == 0x070f || c == 0x0890 || c == 0x0891 ||
         c == 0x08e2 || c == 0x0d4e;
}

/* Extend, ZWJ or SpacingMark: joins the cluster before it. */
static gboolean
joins_previous (gunichar c)
{
  switch (g_unichar_type (c))
    {
    case G_UNICODE_NON_SPACING_MARK:
    case G_UNICODE_ENCLOSING_MARK:
      return TRUE;
    case G_UNICODE_SPACING_MARK:
      /* the few Mc that are neither Extend nor SpacingMark (Myanmar, Tai Tham...) */
      return !(c == 0x102b || c == 0x102c || c == 0x1038 || (c >= 0x1062 && c <= 0x1064) ||
               (c >= 0x1067 && c <= 0x106d) || c == 0x1083 || (c >= 0x1087 && c <= 0x108c) ||
               c == 0x108f || (c >= 0x109a && c <= 0x109c) || c == 0x1a61 || c == 0x1a63 ||
               c == 0x1a64 || c == 0xaa7b || c == 0xaa7d || c == 0x11720 || c == 0x11721);
    default:
      return c == 0x200c || c == 0x200d || c == 0x0e33 || c == 0x0eb3 || c == 0xff9e ||
             c == 0xff9f || (c >= 0x1f3fb && c <= 0x1f3ff) || (c >= 0xe0020 && c <= 0xe007f);
    }
}

/* End of the grapheme cluster that starts at s. */
static const char *
cluster_end (const char *s)
{
  gunichar c = g_utf8_get_char (s);
  const char *end = g_utf8_next_char (s);
  if (c == '\r')
    return *end == '\n' ? end + 1 : end;
  if (c == '\n' || is_control (c))
    return end;
  while (is_prepend (c) && *end != '\0')
    {
      c = g_utf8_get_char (end);
      if (c == '\r' || c == '\n' || is_control (c))
        return end;
      end = g_utf8_next_char (end);
    }
  while (*end != '\0' && joins_previous (g_utf8_get_char (end)))
    end = g_utf8_next_char (end);
  return end;
}

char *
sc_charsmap_drop_like_tokenizers (const ScCharsmap *map, const char *text)
{
  if (!g_utf8_validate (text, -1, NULL))
    return NULL;
  GString *out = NULL;
  const char *kept = text; /* text before this is already in out */
  for (const char *p = text; *p != '\0';)
    {
      const char *end = cluster_end (p);
      gsize len = (gsize) (end - p);
      gsize key = len < 6 ? sc_charsmap_shortest_prefix (map, p, len) : 0;
      if (key > 0 && key < len)
        {
          if (out == NULL)
            out = g_string_new (NULL);
          g_string_append_len (out, kept, (p + key) - kept);
          kept = end;
        }
      p = end;
    }
  if (out == NULL)
    return NULL;
  g_string_append (out, kept);
  return g_string_free (out, FALSE);
}
