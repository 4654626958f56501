/* sc-sacrebleu-text.c: the text handling sacreBLEU's metrics rest on:
 * Python's str semantics on code points (isspace, split, strip, replace,
 * lower) and the 13a tokenizer with its regular expressions applied as
 * re.sub does (leftmost, non-overlapping). See sacrebleu/tokenizers/
 * tokenizer_{13a,re}.py. */
#include "sc-sacrebleu-text.h"

#include <string.h>

/* Python's str.isspace () (what str.split () splits on). */
gboolean
sc_py_isspace (gunichar c)
{
  switch (c)
    {
    case 0x09:
    case 0x0a:
    case 0x0b:
    case 0x0c:
    case 0x0d:
    case 0x1c:
    case 0x1d:
    case 0x1e:
    case 0x1f:
    case 0x20:
    case 0x85:
    case 0xa0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202f:
    case 0x205f:
    case 0x3000:
      return TRUE;
    default:
      return c >= 0x2000 && c <= 0x200a;
    }
}

/* str.split (): the words of `s`, each a new string. */
GPtrArray *
sc_py_split (const char *s)
{
  GPtrArray *words = g_ptr_array_new_with_free_func (g_free);
  const char *p = s, *start = NULL;
  while (*p)
    {
      gunichar c = g_utf8_get_char (p);
      const char *next = g_utf8_next_char (p);
      if (sc_py_isspace (c))
        {
          if (start)
            g_ptr_array_add (words, g_strndup (start, p - start));
          start = NULL;
        }
      else if (!start)
        {
          start = p;
        }
      p = next;
    }
  if (start)
    g_ptr_array_add (words, g_strndup (start, p - start));
  return words;
}

/* ' '.join (s.split ()) */
char *
sc_py_normalize_spaces (const char *s)
{
  g_autoptr (GPtrArray) words = sc_py_split (s);
  g_ptr_array_add (words, NULL);
  char *out = g_strjoinv (" ", (char **) words->pdata);
  return out;
}

/* s.rstrip () */
char *
sc_py_rstrip (const char *s)
{
  const char *end = s + strlen (s);
  while (end > s)
    {
      const char *prev = g_utf8_prev_char (end);
      if (!sc_py_isspace (g_utf8_get_char (prev)))
        break;
      end = prev;
    }
  return g_strndup (s, end - s);
}

/* s.replace (from, to) */
char *
sc_py_replace (const char *s, const char *from, const char *to)
{
  g_auto (GStrv) parts = g_strsplit (s, from, -1);
  return g_strjoinv (to, parts);
}

char *
sc_py_lower (const char *s)
{
  return g_utf8_strdown (s, -1);
}

static gboolean
is_13a_sep (gunichar c)
{
  /* [\{-\~\[-\` -\&\(-\+\:-\@\/] */
  return (c >= '{' && c <= '~') || (c >= '[' && c <= '`') || (c >= ' ' && c <= '&') ||
         (c >= '(' && c <= '+') || (c >= ':' && c <= '@') || c == '/';
}

static gboolean
is_digit (gunichar c)
{
  return c >= '0' && c <= '9';
}

static void
ucs4_push (GArray *a, gunichar c)
{
  g_array_append_val (a, c);
}

/* TokenizerRegexp.__call__ applied to `line` (the 13a language-dependent
 * part, four re.sub passes, then ' '.join (line.split ())). */
static char *
tokenize_re (const char *line)
{
  glong n = 0;
  gunichar *u = g_utf8_to_ucs4_fast (line, -1, &n);
  g_autoptr (GArray) a = g_array_new (FALSE, FALSE, sizeof (gunichar));
  g_autoptr (GArray) b = g_array_new (FALSE, FALSE, sizeof (gunichar));
  for (glong i = 0; i < n; i++)
    {
      if (is_13a_sep (u[i]))
        {
          ucs4_push (a, ' ');
          ucs4_push (a, u[i]);
          ucs4_push (a, ' ');
        }
      else
        {
          ucs4_push (a, u[i]);
        }
    }
  g_free (u);

  /* ([^0-9])([\.,]) -> \1 \2 */
  for (guint i = 0; i < a->len;)
    {
      gunichar c = g_array_index (a, gunichar, i);
      if (i + 1 < a->len && !is_digit (c))
        {
          gunichar d = g_array_index (a, gunichar, i + 1);
          if (d == '.' || d == ',')
            {
              ucs4_push (b, c);
              ucs4_push (b, ' ');
              ucs4_push (b, d);
              ucs4_push (b, ' ');
              i += 2;
              continue;
            }
        }
      ucs4_push (b, c);
      i++;
    }
  g_array_set_size (a, 0);
  /* ([\.,])([^0-9]) -> ' \1 \2' */
  for (guint i = 0; i < b->len;)
    {
      gunichar c = g_array_index (b, gunichar, i);
      if (i + 1 < b->len && (c == '.' || c == ','))
        {
          gunichar d = g_array_index (b, gunichar, i + 1);
          if (!is_digit (d))
            {
              ucs4_push (a, ' ');
              ucs4_push (a, c);
              ucs4_push (a, ' ');
              ucs4_push (a, d);
              i += 2;
              continue;
            }
        }
      ucs4_push (a, c);
      i++;
    }
  g_array_set_size (b, 0);
  /* ([0-9])(-) -> \1 \2 */
  for (guint i = 0; i < a->len;)
    {
      gunichar c = g_array_index (a, gunichar, i);
      if (i + 1 < a->len && is_digit (c) && g_array_index (a, gunichar, i + 1) == '-')
        {
          ucs4_push (b, c);
          ucs4_push (b, ' ');
          ucs4_push (b, '-');
          ucs4_push (b, ' ');
          i += 2;
          continue;
        }
      ucs4_push (b, c);
      i++;
    }
  g_autofree char *joined = g_ucs4_to_utf8 ((gunichar *) b->data, b->len, NULL, NULL, NULL);
  return sc_py_normalize_spaces (joined ? joined : "");
}

/* Tokenizer13a.__call__ */
char *
sc_tokenize_13a (const char *text)
{
  g_autofree char *l1 = sc_py_replace (text, "<skipped>", "");
  g_autofree char *l2 = sc_py_replace (l1, "-\n", "");
  g_autofree char *line = sc_py_replace (l2, "\n", " ");
  if (strchr (line, '&'))
    {
      static const char *const ents[][2] = {
        { "&quot;", "\"" },
        { "&amp;", "&" },
        { "&lt;", "<" },
        { "&gt;", ">" },
      };
      for (gsize i = 0; i < G_N_ELEMENTS (ents); i++)
        {
          char *next = sc_py_replace (line, ents[i][0], ents[i][1]);
          g_free (line);
          line = next;
        }
    }
  g_autofree char *padded = g_strconcat (" ", line, " ", NULL);
  return tokenize_re (padded);
}
