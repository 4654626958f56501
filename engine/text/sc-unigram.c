/* sc-unigram.c: unigram segmentation as Hugging Face `tokenizers` does it
 * (see sc-unigram.h for the rules and why). */
#include "sc-unigram.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define UNK_PENALTY 10.0
#define WORD_MARK "\xe2\x96\x81" /* U+2581 */

typedef struct
{
  double score;
  int id;
} Piece;

struct _ScUnigram
{
  GHashTable *index; /* piece -> position in pieces + 1 */
  GArray *pieces;    /* Piece */
  gsize max_len;     /* longest piece in bytes */
  double min_score;
  int unk_id;
  gboolean byte_fallback;
};

/* The best path ending at one byte position of a word. */
typedef struct
{
  double score;
  int starts_at; /* -1: not reached yet */
  int id;
} Node;

ScUnigram *
sc_unigram_new (int unk_id, gboolean byte_fallback)
{
  ScUnigram *uni = g_new0 (ScUnigram, 1);
  uni->index = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  uni->pieces = g_array_new (FALSE, FALSE, sizeof (Piece));
  uni->min_score = INFINITY;
  uni->unk_id = unk_id;
  uni->byte_fallback = byte_fallback;
  return uni;
}

void
sc_unigram_free (ScUnigram *uni)
{
  if (uni == NULL)
    return;
  g_hash_table_unref (uni->index);
  g_array_unref (uni->pieces);
  g_free (uni);
}

void
sc_unigram_add_piece (ScUnigram *uni, const char *piece, double score, int id)
{
  /* tokenizers takes the minimum over every vocabulary entry, found or not */
  if (score < uni->min_score)
    uni->min_score = score;
  if (*piece == '\0' || g_hash_table_contains (uni->index, piece))
    return;
  Piece p = { score, id };
  g_array_append_val (uni->pieces, p);
  g_hash_table_insert (uni->index, g_strdup (piece), GUINT_TO_POINTER (uni->pieces->len));
  uni->max_len = MAX (uni->max_len, strlen (piece));
}

static const Piece *
lookup (ScUnigram *uni, const char *key)
{
  guint pos = GPOINTER_TO_UINT (g_hash_table_lookup (uni->index, key));
  return pos > 0 ? &g_array_index (uni->pieces, Piece, pos - 1) : NULL;
}

/* Bytes of the UTF-8 character starting with `c` (1 for a stray byte). */
static gsize
char_len (guchar c)
{
  if (c < 0xc0)
    return 1;
  if (c < 0xe0)
    return 2;
  if (c < 0xf0)
    return 3;
  return 4;
}

/* Unknown text [s, s + len): the piece it spells, else its byte pieces when
 * the model has them all, else one unknown id. */
static void
emit_unknown (ScUnigram *uni, const char *s, gsize len, GArray *out)
{
  g_autofree char *text = g_strndup (s, len);
  const Piece *p = lookup (uni, text);
  if (p != NULL)
    {
      g_array_append_val (out, p->id);
      return;
    }
  if (uni->byte_fallback)
    {
      g_autoptr (GArray) bytes = g_array_sized_new (FALSE, FALSE, sizeof (int), len);
      for (gsize i = 0; i < len; i++)
        {
          char name[8];
          snprintf (name, sizeof name, "<0x%02X>", (guchar) s[i]);
          const Piece *b = lookup (uni, name);
          if (b == NULL)
            break;
          g_array_append_val (bytes, b->id);
        }
      if (bytes->len == len)
        {
          g_array_append_vals (out, bytes->data, bytes->len);
          return;
        }
    }
  g_array_append_val (out, uni->unk_id);
}

/* Viterbi over one word: the best path ending at each byte position, the
 * first candidate kept on equal scores. */
static void
encode_word (ScUnigram *uni, const char *s, gsize n, Node *best, char *window, GArray *out)
{
  double unk_score = uni->min_score - UNK_PENALTY;
  for (gsize i = 0; i <= n; i++)
    best[i] = (Node){ 0.0, -1, -1 };

  for (gsize i = 0; i < n;)
    {
      gsize mblen = MIN (char_len ((guchar) s[i]), n - i);
      gsize span = MIN (uni->max_len, n - i);
      double here = best[i].score;
      gboolean single = FALSE;

      memcpy (window, s + i, span);
      for (gsize l = 1; l <= span; l++)
        {
          /* pieces are whole characters: skip ends inside one */
          if (l < n - i && ((guchar) s[i + l] & 0xc0) == 0x80)
            continue;
          char saved = window[l];
          window[l] = '\0';
          const Piece *p = lookup (uni, window);
          window[l] = saved;
          if (p == NULL)
            continue;
          double cand = p->score + here;
          if (best[i + l].starts_at < 0 || cand > best[i + l].score)
            best[i + l] = (Node){ cand, (int) i, p->id };
          if (l == mblen)
            single = TRUE;
        }
      if (!single)
        {
          double cand = unk_score + here;
          if (best[i + mblen].starts_at < 0 || cand > best[i + mblen].score)
            best[i + mblen] = (Node){ cand, (int) i, uni->unk_id };
        }
      i += mblen;
    }

  /* Walk back, then emit in order with runs of unknown nodes fused. */
  g_autoptr (GArray) ends = g_array_new (FALSE, FALSE, sizeof (int));
  for (int e = (int) n; e > 0; e = best[e].starts_at)
    g_array_prepend_val (ends, e);
  int start = 0;
  for (guint k = 0; k < ends->len; k++)
    {
      int e = g_array_index (ends, int, k);
      if (best[e].id != uni->unk_id)
        {
          g_array_append_val (out, best[e].id);
          start = e;
          continue;
        }
      gboolean next_unknown =
          k + 1 < ends->len && best[g_array_index (ends, int, k + 1)].id == uni->unk_id;
      if (!next_unknown)
        {
          emit_unknown (uni, s + start, (gsize) (e - start), out);
          start = e;
        }
    }
}

void
sc_unigram_encode (ScUnigram *uni, const char *normalized, gsize len, GArray *out)
{
  if (len == 0)
    return;
  Node *best = g_new (Node, len + 1);
  char *window = g_malloc (uni->max_len + 1);
  /* Metaspace splits before every U+2581: each word is segmented alone. */
  gsize w = 0;
  while (w < len)
    {
      gsize e = w + 1;
      while (e < len && !(e + 3 <= len && memcmp (normalized + e, WORD_MARK, 3) == 0))
        e++;
      encode_word (uni, normalized + w, e - w, best, window, out);
      w = e;
    }
  g_free (window);
  g_free (best);
}
