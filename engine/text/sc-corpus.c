/* sc-corpus.c: aligned sentence pairs from UDHR, FLORES-200, plain-text
 * and TSV corpora. See sc-corpus.h. */
#include "sc-corpus.h"
#include "sc-languages.h"
#include "sc-json-file.h"

#include <json-glib/json-glib.h>
#include <string.h>

#ifndef SC_SOURCE_DIR
#define SC_SOURCE_DIR "."
#endif
#ifndef SC_DATADIR
#define SC_DATADIR "/usr/local/share"
#endif

G_DEFINE_QUARK (sc - corpus - error - quark, sc_corpus_error)

void
sc_corpus_pair_free (ScCorpusPair *pair)
{
  if (pair == NULL)
    return;
  g_free (pair->source);
  g_free (pair->target);
  g_free (pair);
}

static ScCorpusPair *
pair_new (const char *src, const char *tgt, guint article, guint paragraph)
{
  ScCorpusPair *p = g_new0 (ScCorpusPair, 1);
  p->source = g_strdup (src);
  p->target = g_strdup (tgt);
  p->article = article;
  p->paragraph = paragraph;
  return p;
}

static GPtrArray *
pairs_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) sc_corpus_pair_free);
}

static gboolean
check_language (const char *code, GError **error)
{
  if (code == NULL || sc_language_index (code) < 0)
    {
      g_set_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_UNKNOWN_LANGUAGE,
                   "Unknown language code “%s” (expected an NLLB-200 code such as eng_Latn)",
                   code ? code : "(null)");
      return FALSE;
    }
  return TRUE;
}

/* Read `path` and split it into lines (trailing "\r" removed; a final
 * newline ends the last line). Missing files name `what` (a language). */
static char **
read_lines (const char *path, const char *what, guint *n_lines, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr (GError) local = NULL;

  if (!g_file_get_contents (path, &data, &len, &local))
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          if (what)
            g_set_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_MISSING,
                         "No corpus file for language %s: %s does not exist", what, path);
          else
            g_set_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_MISSING,
                         "Corpus file %s does not exist", path);
        }
      else
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local), "Reading corpus %s: ", path);
        }
      return NULL;
    }
  const char *bad = NULL;
  if (!g_utf8_validate_len (data, len, &bad))
    {
      guint line = 1;
      for (const char *c = data; c < bad; c++)
        line += *c == '\n';
      g_set_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_UTF8,
                   "%s: invalid UTF-8 on line %u (byte offset %" G_GSIZE_FORMAT ")", path, line,
                   (gsize) (bad - data));
      return NULL;
    }
  if (len > 0 && data[len - 1] == '\n')
    data[--len] = '\0';
  if (len == 0)
    {
      *n_lines = 0;
      return g_new0 (char *, 1);
    }
  char **lines = g_strsplit (data, "\n", -1);
  guint n = g_strv_length (lines);
  for (guint i = 0; i < n; i++)
    {
      gsize l = strlen (lines[i]);
      if (l > 0 && lines[i][l - 1] == '\r')
        lines[i][l - 1] = '\0';
    }
  *n_lines = n;
  return lines;
}

static gboolean
parse_uint (const char *s, guint *out)
{
  guint64 v;
  if (s == NULL || *s == '\0' || !g_ascii_string_to_unsigned (s, 10, 0, G_MAXUINT, &v, NULL))
    return FALSE;
  *out = (guint) v;
  return TRUE;
}

/* ---- UDHR ---- */

typedef struct
{
  guint article, paragraph;
  char *text;
} UdhrPara;

static void
udhr_para_clear (gpointer p)
{
  g_free (((UdhrPara *) p)->text);
}

static GArray *
read_udhr (const char *dir, const char *lang, GError **error)
{
  g_autofree char *name = g_strconcat (lang, ".tsv", NULL);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  guint n = 0;
  g_auto (GStrv) lines = read_lines (path, lang, &n, error);
  if (lines == NULL)
    return NULL;
  GArray *out = g_array_sized_new (FALSE, FALSE, sizeof (UdhrPara), n);
  g_array_set_clear_func (out, udhr_para_clear);
  for (guint i = 0; i < n; i++)
    {
      if (lines[i][0] == '\0')
        continue;
      g_auto (GStrv) f = g_strsplit (lines[i], "\t", 3);
      UdhrPara p = { 0 };
      if (g_strv_length (f) != 3 || !parse_uint (f[0], &p.article) ||
          !parse_uint (f[1], &p.paragraph))
        {
          g_set_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_PARSE,
                       "%s line %u: expected article<TAB>paragraph<TAB>text", path, i + 1);
          g_array_unref (out);
          return NULL;
        }
      p.text = g_strdup (f[2]);
      g_array_append_val (out, p);
    }
  return out;
}

GArray *
sc_corpus_udhr_held_out (const char *dir, GError **error)
{
  GArray *arts = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autofree char *path = g_build_filename (dir, "split.json", NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      for (guint a = 25; a <= 30; a++)
        g_array_append_val (arts, a);
      return arts;
    }
  g_autoptr (JsonNode) root = sc_json_file_load (path, SC_JSON_CONFIG_MAX_BYTES, error);
  if (root == NULL)
    {
      g_array_unref (arts);
      return NULL;
    }
  JsonArray *ja = NULL;
  if (root && JSON_NODE_HOLDS_OBJECT (root))
    {
      JsonNode *n = json_object_get_member (json_node_get_object (root), "held_out_articles");
      if (n && JSON_NODE_HOLDS_ARRAY (n))
        ja = json_node_get_array (n);
    }
  if (ja == NULL)
    {
      g_set_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_PARSE,
                   "%s: expected an object with a \"held_out_articles\" array", path);
      g_array_unref (arts);
      return NULL;
    }
  for (guint i = 0; i < json_array_get_length (ja); i++)
    {
      JsonNode *n = json_array_get_element (ja, i);
      if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64 ||
          json_node_get_int (n) < 0 || json_node_get_int (n) > G_MAXUINT)
        {
          g_set_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_PARSE,
                       "%s: held_out_articles must hold article numbers", path);
          g_array_unref (arts);
          return NULL;
        }
      guint a = (guint) json_node_get_int (n);
      g_array_append_val (arts, a);
    }
  return arts;
}

static gboolean
in_array (GArray *a, guint v)
{
  for (guint i = 0; i < a->len; i++)
    if (g_array_index (a, guint, i) == v)
      return TRUE;
  return FALSE;
}

static int
cmp_para (gconstpointer a, gconstpointer b)
{
  const UdhrPara *x = a, *y = b;
  if (x->article != y->article)
    return x->article < y->article ? -1 : 1;
  if (x->paragraph != y->paragraph)
    return x->paragraph < y->paragraph ? -1 : 1;
  return 0;
}

GPtrArray *
sc_corpus_udhr_pairs (const char *dir, const char *src, const char *tgt, ScCorpusSplit split,
                      GError **error)
{
  g_return_val_if_fail (dir != NULL, NULL);
  if (!check_language (src, error) || !check_language (tgt, error))
    return NULL;
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_MISSING,
                   "UDHR corpus directory %s does not exist", dir);
      return NULL;
    }
  g_autoptr (GArray) held = sc_corpus_udhr_held_out (dir, error);
  if (held == NULL)
    return NULL;
  g_autoptr (GArray) s = read_udhr (dir, src, error);
  if (s == NULL)
    return NULL;
  g_autoptr (GArray) t = read_udhr (dir, tgt, error);
  if (t == NULL)
    return NULL;
  g_array_sort (s, cmp_para);
  g_array_sort (t, cmp_para);

  GPtrArray *out = pairs_new ();
  guint i = 0, j = 0;
  while (i < s->len && j < t->len)
    {
      UdhrPara *a = &g_array_index (s, UdhrPara, i);
      UdhrPara *b = &g_array_index (t, UdhrPara, j);
      int c = cmp_para (a, b);
      if (c < 0)
        {
          i++;
        }
      else if (c > 0)
        {
          j++;
        }
      else
        {
          gboolean h = in_array (held, a->article);
          if (split == SC_CORPUS_SPLIT_ALL || (split == SC_CORPUS_SPLIT_HELD_OUT) == h)
            g_ptr_array_add (out, pair_new (a->text, b->text, a->article, a->paragraph));
          i++;
          j++;
        }
    }
  if (out->len == 0)
    {
      g_set_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_EMPTY,
                   "No aligned UDHR paragraphs for %s-%s in %s", src, tgt, dir);
      g_ptr_array_unref (out);
      return NULL;
    }
  return out;
}

static int
cmp_strp (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

char **
sc_corpus_udhr_languages (const char *dir, GError **error)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, error);
  if (d == NULL)
    return NULL;
  g_autoptr (GPtrArray) codes = g_ptr_array_new ();
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      if (!g_str_has_suffix (name, ".tsv"))
        continue;
      g_autofree char *code = g_strndup (name, strlen (name) - 4);
      if (sc_language_index (code) >= 0)
        g_ptr_array_add (codes, g_steal_pointer (&code));
    }
  g_ptr_array_sort (codes, cmp_strp);
  char **v = g_new0 (char *, codes->len + 1);
  for (guint i = 0; i < codes->len; i++)
    v[i] = codes->pdata[i];
  return v;
}

/* ---- line-aligned sources ---- */

static GPtrArray *
pairs_from_lines (char **sl, guint ns, const char *sp, char **tl, guint nt, const char *tp,
                  GError **error)
{
  if (ns != nt)
    {
      g_set_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_MISMATCH,
                   "Line counts differ: %s has %u lines, %s has %u", sp, ns, tp, nt);
      return NULL;
    }
  if (ns == 0)
    {
      g_set_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_EMPTY, "Empty corpus: %s and %s", sp,
                   tp);
      return NULL;
    }
  GPtrArray *out = pairs_new ();
  for (guint i = 0; i < ns; i++)
    g_ptr_array_add (out, pair_new (sl[i], tl[i], 0, i));
  return out;
}

GPtrArray *
sc_corpus_plain_pairs (const char *src_path, const char *tgt_path, GError **error)
{
  guint ns = 0, nt = 0;
  g_auto (GStrv) sl = read_lines (src_path, NULL, &ns, error);
  if (sl == NULL)
    return NULL;
  g_auto (GStrv) tl = read_lines (tgt_path, NULL, &nt, error);
  if (tl == NULL)
    return NULL;
  return pairs_from_lines (sl, ns, src_path, tl, nt, tgt_path, error);
}

static char *
flores_file (const char *dir, const char *split, const char *lang)
{
  g_autofree char *name = g_strconcat (lang, ".", split, NULL);
  char *p = g_build_filename (dir, split, name, NULL);
  if (g_file_test (p, G_FILE_TEST_EXISTS))
    return p;
  char *q = g_build_filename (dir, "flores200_dataset", split, name, NULL);
  if (g_file_test (q, G_FILE_TEST_EXISTS))
    {
      g_free (p);
      return q;
    }
  g_free (q);
  return p; /* for the error message */
}

GPtrArray *
sc_corpus_flores_pairs (const char *dir, const char *split, const char *src, const char *tgt,
                        GError **error)
{
  g_return_val_if_fail (dir != NULL && split != NULL, NULL);
  if (!check_language (src, error) || !check_language (tgt, error))
    return NULL;
  if (strcmp (split, "dev") != 0 && strcmp (split, "devtest") != 0)
    {
      g_set_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_PARSE,
                   "Unknown FLORES-200 split “%s” (expected dev or devtest)", split);
      return NULL;
    }
  g_autofree char *sp = flores_file (dir, split, src);
  g_autofree char *tp = flores_file (dir, split, tgt);
  guint ns = 0, nt = 0;
  g_auto (GStrv) sl = read_lines (sp, src, &ns, error);
  if (sl == NULL)
    return NULL;
  g_auto (GStrv) tl = read_lines (tp, tgt, &nt, error);
  if (tl == NULL)
    return NULL;
  return pairs_from_lines (sl, ns, sp, tl, nt, tp, error);
}

GPtrArray *
sc_corpus_tsv_pairs (const char *path, GError **error)
{
  guint n = 0;
  g_auto (GStrv) lines = read_lines (path, NULL, &n, error);
  if (lines == NULL)
    return NULL;
  g_autoptr (GPtrArray) out = pairs_new ();
  for (guint i = 0; i < n; i++)
    {
      if (lines[i][0] == '\0')
        continue;
      char *tab = strchr (lines[i], '\t');
      if (tab == NULL || strchr (tab + 1, '\t') != NULL)
        {
          g_set_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_PARSE,
                       "%s line %u: expected exactly one tab (source<TAB>target)", path, i + 1);
          return NULL;
        }
      *tab = '\0';
      g_ptr_array_add (out, pair_new (lines[i], tab + 1, 0, i));
    }
  if (out->len == 0)
    {
      g_set_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_EMPTY, "Empty corpus: %s", path);
      return NULL;
    }
  return g_steal_pointer (&out);
}

GPtrArray *
sc_corpus_bitext_pairs (const char *path, const char *src, const char *tgt, GError **error)
{
  gboolean from_english = g_str_equal (src, "eng_Latn");
  const char *other = from_english ? tgt : src;
  if (!from_english && !g_str_equal (tgt, "eng_Latn"))
    {
      g_set_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_PARSE,
                   "%s is English-centric: %s-%s has no English side", path, src, tgt);
      return NULL;
    }
  guint n = 0;
  g_auto (GStrv) lines = read_lines (path, NULL, &n, error);
  if (lines == NULL)
    return NULL;
  g_autoptr (GPtrArray) out = pairs_new ();
  for (guint i = 0; i < n; i++)
    {
      if (lines[i][0] == '\0')
        continue;
      /* LANG<TAB>English<TAB>translation[<TAB>anything more] */
      char *t1 = strchr (lines[i], '\t');
      char *t2 = t1 ? strchr (t1 + 1, '\t') : NULL;
      if (t2 == NULL)
        {
          g_set_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_PARSE,
                       "%s line %u: expected LANG<TAB>English<TAB>translation", path, i + 1);
          return NULL;
        }
      *t1 = '\0';
      *t2 = '\0';
      char *t3 = strchr (t2 + 1, '\t');
      if (t3 != NULL)
        *t3 = '\0';
      if (!g_str_equal (lines[i], other))
        continue;
      if (from_english)
        g_ptr_array_add (out, pair_new (t1 + 1, t2 + 1, 0, i));
      else
        g_ptr_array_add (out, pair_new (t2 + 1, t1 + 1, 0, i));
    }
  if (out->len == 0)
    {
      g_set_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_EMPTY, "%s has no %s lines", path,
                   other);
      return NULL;
    }
  return g_steal_pointer (&out);
}

/* ---- locating shipped data ---- */

char *
sc_corpus_find_data (const char *relpath)
{
  const char *env = g_getenv ("SECATEUR_DATA_DIR");
  if (env && *env)
    {
      char *p = g_build_filename (env, relpath, NULL);
      if (g_file_test (p, G_FILE_TEST_EXISTS))
        return p;
      g_free (p);
    }
  const char *bases[] = { SC_SOURCE_DIR "/resources", SC_DATADIR "/secateur" };
  for (guint i = 0; i < G_N_ELEMENTS (bases); i++)
    {
      char *p = g_build_filename (bases[i], relpath, NULL);
      if (g_file_test (p, G_FILE_TEST_EXISTS))
        return p;
      g_free (p);
    }
  return NULL;
}

char *
sc_corpus_default_udhr_dir (void)
{
  return sc_corpus_find_data ("udhr");
}

GPtrArray *
sc_corpus_held_out_pairs (const char *model_dir, const char *src, const char *tgt, GError **error)
{
  g_autofree char *own = model_dir ? g_build_filename (model_dir, "heldout.tsv", NULL) : NULL;
  if (own != NULL && g_file_test (own, G_FILE_TEST_IS_REGULAR))
    {
      GError *own_error = NULL;
      GPtrArray *pairs = sc_corpus_bitext_pairs (own, src, tgt, &own_error);
      if (pairs != NULL && pairs->len > 0)
        return pairs;
      g_clear_pointer (&pairs, g_ptr_array_unref);
      /* a direction the file lacks goes to the UDHR; a broken file is an
       * error, not a silent switch */
      if (own_error != NULL && !g_error_matches (own_error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_EMPTY))
        {
          g_propagate_error (error, own_error);
          return NULL;
        }
      g_clear_error (&own_error);
    }
  g_autofree char *udhr = sc_corpus_default_udhr_dir ();
  if (udhr == NULL)
    {
      g_set_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_MISSING,
                   "the shipped UDHR corpus is missing");
      return NULL;
    }
  return sc_corpus_udhr_pairs (udhr, src, tgt, SC_CORPUS_SPLIT_HELD_OUT, error);
}
