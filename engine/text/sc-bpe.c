/* sc-bpe.c: byte-level BPE from a Hugging Face tokenizer.json (see sc-bpe.h).
 *
 * Why one file of about 840 lines: the sections of tokenizer.json fill the
 * tables (vocabulary, merge ranks, added tokens, byte map) that encoding and
 * decoding read, and all three are checked together against the
 * `tokenizers` behaviour sc-bpe.h lists. */
#include "sc-bpe.h"

#include "sc-json-file.h"
#include "sc-tensor.h"

#include <json-glib/json-glib.h>
#include <string.h>

/* BLOOM's pre-tokenizer regex, the only Split pattern implemented. */
#define BLOOM_SPLIT_REGEX " ?[^(\\s|[.,!?…。，、।۔،])]+"

/* BLOOM's tokenizer.json is 14 MB; ten times that is not a tokenizer. */
#define MAX_FILE_BYTES (160u << 20)

/* Ids above this are refused: they only appear in corrupt files. */
#define MAX_ID (1 << 24)

typedef struct
{
  char *content;
  int id;
  gboolean special;
  gboolean normalized;
} AddedToken;

typedef struct
{
  int rank;
  int new_id;
} MergeInfo;

struct _ScBpe
{
  GHashTable *vocab;  /* token -> GINT_TO_POINTER (id + 1) */
  GHashTable *by_id;  /* GINT_TO_POINTER (id) -> token (owned by vocab or added) */
  GHashTable *merges; /* guint64 pair (left << 32 | right) -> MergeInfo */
  GArray *added;      /* AddedToken */
  guint n_merges;
  int vocab_size;
  gboolean ignore_merges;
  int byte_id[256]; /* id of the byte-level character of each byte, -1 when absent */
  gunichar byte_char[256];
  gint16 char_byte[324]; /* inverse of byte_char (all its values are < 324), -1 elsewhere */
};

/* GPT-2's byte-to-unicode table: printable bytes stand for themselves, the
 * others are shifted to U+0100.. so that every byte is a visible character. */
static void
init_byte_table (ScBpe *bpe)
{
  int n = 0;

  for (int c = 0; c < 324; c++)
    bpe->char_byte[c] = -1;
  for (int b = 0; b < 256; b++)
    {
      gboolean printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
      bpe->byte_char[b] = printable ? (gunichar) b : (gunichar) (256 + n++);
      bpe->char_byte[bpe->byte_char[b]] = (gint16) b;
    }
}

void
sc_bpe_free (ScBpe *bpe)
{
  if (bpe == NULL)
    return;
  g_clear_pointer (&bpe->by_id, g_hash_table_unref);
  g_clear_pointer (&bpe->vocab, g_hash_table_unref);
  g_clear_pointer (&bpe->merges, g_hash_table_unref);
  if (bpe->added)
    {
      for (guint i = 0; i < bpe->added->len; i++)
        g_free (g_array_index (bpe->added, AddedToken, i).content);
      g_array_unref (bpe->added);
    }
  g_free (bpe);
}

static gboolean fail (GError **error, int code, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static gboolean
fail (GError **error, int code, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, SC_ERROR, code, "tokenizer.json: %s", msg);
  return FALSE;
}

/* ---- typed JSON access: every member is checked before use ---- */

static JsonNode *
member (JsonObject *o, const char *key)
{
  return o != NULL && json_object_has_member (o, key) ? json_object_get_member (o, key) : NULL;
}

static gboolean
is_null (JsonNode *n)
{
  return n == NULL || JSON_NODE_HOLDS_NULL (n);
}

static JsonObject *
get_object (JsonObject *o, const char *key)
{
  JsonNode *n = member (o, key);
  return n != NULL && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static const char *
get_string (JsonObject *o, const char *key)
{
  JsonNode *n = member (o, key);
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

/* A boolean member; `dflt` when absent or null; FALSE return on another type. */
static gboolean
get_bool (JsonObject *o, const char *key, gboolean dflt, gboolean *out)
{
  JsonNode *n = member (o, key);
  if (is_null (n))
    {
      *out = dflt;
      return TRUE;
    }
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_BOOLEAN)
    return FALSE;
  *out = json_node_get_boolean (n);
  return TRUE;
}

static gboolean
node_to_id (JsonNode *n, int *out)
{
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    return FALSE;
  gint64 v = json_node_get_int (n);
  if (v < 0 || v >= MAX_ID)
    return FALSE;
  *out = (int) v;
  return TRUE;
}

/* A boolean option that must hold `want` (absent or null counts as `dflt`). */
static gboolean
check_flag (JsonObject *o, const char *what, const char *key, gboolean dflt, gboolean want,
            GError **error)
{
  gboolean v;
  if (!get_bool (o, key, dflt, &v))
    return fail (error, SC_ERROR_FORMAT, "%s: \"%s\" is not a boolean", what, key);
  if (v != want)
    return fail (error, SC_ERROR_UNSUPPORTED, "%s with %s=%s is not supported", what, key,
                 v ? "true" : "false");
  return TRUE;
}

/* ---- sections ---- */

static gboolean
parse_pre_tokenizer (JsonObject *root, GError **error)
{
  JsonObject *pt = get_object (root, "pre_tokenizer");
  JsonNode *seq;
  const char *type = get_string (pt, "type");

  if (pt == NULL || g_strcmp0 (type, "Sequence") != 0)
    return fail (error, SC_ERROR_UNSUPPORTED,
                 "pre_tokenizer %s: only BLOOM's Sequence of Split and ByteLevel is supported",
                 type ? type : "(missing)");
  seq = member (pt, "pretokenizers");
  if (seq == NULL || !JSON_NODE_HOLDS_ARRAY (seq))
    return fail (error, SC_ERROR_FORMAT, "pre_tokenizer.pretokenizers is not an array");
  JsonArray *a = json_node_get_array (seq);
  if (json_array_get_length (a) != 2)
    return fail (error, SC_ERROR_UNSUPPORTED, "pre_tokenizer: expected Split then ByteLevel");
  JsonNode *n0 = json_array_get_element (a, 0), *n1 = json_array_get_element (a, 1);
  JsonObject *split = JSON_NODE_HOLDS_OBJECT (n0) ? json_node_get_object (n0) : NULL;
  JsonObject *bl = JSON_NODE_HOLDS_OBJECT (n1) ? json_node_get_object (n1) : NULL;
  if (g_strcmp0 (get_string (split, "type"), "Split") != 0 ||
      g_strcmp0 (get_string (bl, "type"), "ByteLevel") != 0)
    return fail (error, SC_ERROR_UNSUPPORTED, "pre_tokenizer: expected Split then ByteLevel");
  const char *regex = get_string (get_object (split, "pattern"), "Regex");
  if (g_strcmp0 (regex, BLOOM_SPLIT_REGEX) != 0)
    return fail (error, SC_ERROR_UNSUPPORTED,
                 "pre_tokenizer Split: only BLOOM's pattern %s is implemented", BLOOM_SPLIT_REGEX);
  if (g_strcmp0 (get_string (split, "behavior"), "Isolated") != 0)
    return fail (error, SC_ERROR_UNSUPPORTED, "pre_tokenizer Split: behavior must be Isolated");
  return check_flag (split, "Split", "invert", FALSE, FALSE, error) &&
         check_flag (bl, "ByteLevel pre-tokenizer", "add_prefix_space", FALSE, FALSE, error) &&
         check_flag (bl, "ByteLevel pre-tokenizer", "use_regex", TRUE, FALSE, error);
}

static gboolean
parse_added (ScBpe *bpe, JsonObject *root, GError **error)
{
  JsonNode *n = member (root, "added_tokens");
  if (is_null (n))
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (n))
    return fail (error, SC_ERROR_FORMAT, "added_tokens is not an array");
  JsonArray *a = json_node_get_array (n);
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonNode *e = json_array_get_element (a, i);
      JsonObject *o = JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : NULL;
      const char *content = get_string (o, "content");
      AddedToken t = { 0 };
      if (o == NULL || content == NULL || content[0] == '\0' ||
          !node_to_id (member (o, "id"), &t.id) || !g_utf8_validate (content, -1, NULL))
        return fail (error, SC_ERROR_FORMAT, "added_tokens[%u]: needs a content and an id", i);
      if (!get_bool (o, "special", FALSE, &t.special) ||
          !get_bool (o, "normalized", TRUE, &t.normalized))
        return fail (error, SC_ERROR_FORMAT, "added_tokens[%u]: bad flags", i);
      if (!check_flag (o, "added token", "lstrip", FALSE, FALSE, error) ||
          !check_flag (o, "added token", "rstrip", FALSE, FALSE, error) ||
          !check_flag (o, "added token", "single_word", FALSE, FALSE, error))
        return FALSE;
      t.content = g_strdup (content);
      g_array_append_val (bpe->added, t);
    }
  return TRUE;
}

/* A merge "a b" (string) or ["a", "b"] (array, newer files). */
static gboolean
merge_pair (JsonNode *n, char **left, const char **right_out, char **owned)
{
  if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
    {
      const char *s = json_node_get_string (n);
      const char *sp = strchr (s, ' ');
      if (sp == NULL || sp == s || sp[1] == '\0' || strchr (sp + 1, ' ') != NULL)
        return FALSE;
      *owned = g_strdup (s);
      (*owned)[sp - s] = '\0';
      *left = *owned;
      *right_out = *owned + (sp - s) + 1;
      return TRUE;
    }
  if (JSON_NODE_HOLDS_ARRAY (n))
    {
      JsonArray *a = json_node_get_array (n);
      if (json_array_get_length (a) != 2)
        return FALSE;
      JsonNode *l = json_array_get_element (a, 0), *r = json_array_get_element (a, 1);
      if (!JSON_NODE_HOLDS_VALUE (l) || json_node_get_value_type (l) != G_TYPE_STRING ||
          !JSON_NODE_HOLDS_VALUE (r) || json_node_get_value_type (r) != G_TYPE_STRING)
        return FALSE;
      *owned = NULL;
      *left = (char *) json_node_get_string (l);
      *right_out = json_node_get_string (r);
      return TRUE;
    }
  return FALSE;
}

static int
vocab_id (GHashTable *vocab, const char *token)
{
  return GPOINTER_TO_INT (g_hash_table_lookup (vocab, token)) - 1;
}

static gboolean
parse_model (ScBpe *bpe, JsonObject *root, GError **error)
{
  JsonObject *m = get_object (root, "model");
  if (m == NULL)
    return fail (error, SC_ERROR_FORMAT, "no \"model\" object");
  const char *type = get_string (m, "type");
  if (type != NULL && strcmp (type, "BPE") != 0)
    return fail (error, SC_ERROR_UNSUPPORTED, "model type %s (only BPE)", type);
  if (!is_null (member (m, "dropout")))
    return fail (error, SC_ERROR_UNSUPPORTED, "BPE dropout is not supported");
  if (!is_null (member (m, "continuing_subword_prefix")) ||
      !is_null (member (m, "end_of_word_suffix")))
    return fail (error, SC_ERROR_UNSUPPORTED, "BPE subword prefixes/suffixes are not supported");
  if (!check_flag (m, "BPE", "byte_fallback", FALSE, FALSE, error))
    return FALSE;
  if (!get_bool (m, "ignore_merges", FALSE, &bpe->ignore_merges))
    return fail (error, SC_ERROR_FORMAT, "BPE: ignore_merges is not a boolean");

  JsonObject *vocab = get_object (m, "vocab");
  if (vocab == NULL)
    return fail (error, SC_ERROR_FORMAT, "model.vocab is not an object");
  JsonObjectIter it;
  const char *key;
  JsonNode *val;
  json_object_iter_init (&it, vocab);
  while (json_object_iter_next (&it, &key, &val))
    {
      int id;
      if (!node_to_id (val, &id))
        return fail (error, SC_ERROR_FORMAT, "vocab entry has a bad id");
      if (key[0] == '\0' || !g_utf8_validate (key, -1, NULL))
        return fail (error, SC_ERROR_FORMAT, "vocab has an empty or non-UTF-8 token");
      if (g_hash_table_contains (bpe->by_id, GINT_TO_POINTER (id)))
        return fail (error, SC_ERROR_FORMAT, "vocab id %d is used twice", id);
      char *tok = g_strdup (key);
      g_hash_table_insert (bpe->vocab, tok, GINT_TO_POINTER (id + 1));
      g_hash_table_insert (bpe->by_id, GINT_TO_POINTER (id), tok);
      bpe->vocab_size = MAX (bpe->vocab_size, id + 1);
    }

  JsonNode *mn = member (m, "merges");
  if (is_null (mn))
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (mn))
    return fail (error, SC_ERROR_FORMAT, "model.merges is not an array");
  JsonArray *ma = json_node_get_array (mn);
  guint n = json_array_get_length (ma);
  for (guint i = 0; i < n; i++)
    {
      char *left;
      const char *right;
      g_autofree char *owned = NULL;
      if (!merge_pair (json_array_get_element (ma, i), &left, &right, &owned))
        return fail (error, SC_ERROR_FORMAT, "merges[%u] is not a pair of tokens", i);
      int a = vocab_id (bpe->vocab, left), b = vocab_id (bpe->vocab, right);
      g_autofree char *joined = g_strconcat (left, right, NULL);
      int c = vocab_id (bpe->vocab, joined);
      if (a < 0 || b < 0 || c < 0)
        return fail (error, SC_ERROR_FORMAT, "merges[%u]: a token is not in the vocabulary", i);
      guint64 *k = g_new (guint64, 1);
      *k = ((guint64) a << 32) | (guint64) b;
      if (g_hash_table_contains (bpe->merges, k))
        {
          g_free (k); /* a repeated pair keeps its first (lowest) rank */
          continue;
        }
      MergeInfo *mi = g_new (MergeInfo, 1);
      mi->rank = (int) i;
      mi->new_id = c;
      g_hash_table_insert (bpe->merges, k, mi);
      bpe->n_merges++;
    }
  return TRUE;
}

ScBpe *
sc_bpe_parse (const char *data, gssize len, GError **error)
{
  g_autoptr (GError) jerr = NULL;
  g_autoptr (JsonNode) rn = sc_json_parse (data, len, "tokenizer.json", &jerr);

  if (rn == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&jerr));
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (rn))
    {
      fail (error, SC_ERROR_FORMAT, "the top level is not an object");
      return NULL;
    }
  JsonObject *root = json_node_get_object (rn);

  ScBpe *bpe = g_new0 (ScBpe, 1);
  bpe->vocab = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  bpe->by_id = g_hash_table_new (g_direct_hash, g_direct_equal);
  bpe->merges = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  bpe->added = g_array_new (FALSE, TRUE, sizeof (AddedToken));
  init_byte_table (bpe);

  if (!is_null (member (root, "normalizer")))
    {
      fail (error, SC_ERROR_UNSUPPORTED, "normalizers are not supported (BLOOM has none)");
      goto out;
    }
  JsonObject *dec = get_object (root, "decoder");
  if (dec == NULL || g_strcmp0 (get_string (dec, "type"), "ByteLevel") != 0)
    {
      fail (error, SC_ERROR_UNSUPPORTED, "the decoder must be ByteLevel");
      goto out;
    }
  if (!parse_pre_tokenizer (root, error) || !parse_model (bpe, root, error) ||
      !parse_added (bpe, root, error))
    goto out;

  for (guint i = 0; i < bpe->added->len; i++)
    {
      AddedToken *t = &g_array_index (bpe->added, AddedToken, i);
      /* an added token known to the vocabulary under another id is ambiguous */
      const char *prev = g_hash_table_lookup (bpe->by_id, GINT_TO_POINTER (t->id));
      if (prev != NULL && strcmp (prev, t->content) != 0)
        {
          fail (error, SC_ERROR_FORMAT, "added token %s reuses the id %d of %s", t->content, t->id,
                prev);
          goto out;
        }
      if (prev == NULL)
        g_hash_table_insert (bpe->by_id, GINT_TO_POINTER (t->id), t->content);
      bpe->vocab_size = MAX (bpe->vocab_size, t->id + 1);
    }
  for (int b = 0; b < 256; b++)
    {
      char buf[8];
      buf[g_unichar_to_utf8 (bpe->byte_char[b], buf)] = '\0';
      bpe->byte_id[b] = vocab_id (bpe->vocab, buf);
    }
  return bpe;

out:
  sc_bpe_free (bpe);
  return NULL;
}

ScBpe *
sc_bpe_load_file (const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize len;

  if (!sc_file_read_small (path, MAX_FILE_BYTES, &data, &len, error))
    return NULL;
  GError *err = NULL;
  ScBpe *bpe = sc_bpe_parse (data, (gssize) len, &err);
  if (bpe == NULL)
    g_propagate_prefixed_error (error, err, "%s: ", path);
  return bpe;
}

ScBpe *
sc_bpe_load (const char *dir, GError **error)
{
  g_autofree char *path = g_build_filename (dir, "tokenizer.json", NULL);
  return sc_bpe_load_file (path, error);
}

int
sc_bpe_vocab_size (const ScBpe *bpe)
{
  return bpe->vocab_size;
}

guint
sc_bpe_n_merges (const ScBpe *bpe)
{
  return bpe->n_merges;
}

static const AddedToken *
find_added (const ScBpe *bpe, int id)
{
  for (guint i = 0; i < bpe->added->len; i++)
    if (g_array_index (bpe->added, AddedToken, i).id == id)
      return &g_array_index (bpe->added, AddedToken, i);
  return NULL;
}

int
sc_bpe_token_to_id (const ScBpe *bpe, const char *token)
{
  for (guint i = 0; i < bpe->added->len; i++)
    if (strcmp (g_array_index (bpe->added, AddedToken, i).content, token) == 0)
      return g_array_index (bpe->added, AddedToken, i).id;
  return vocab_id (bpe->vocab, token);
}

const char *
sc_bpe_id_to_token (const ScBpe *bpe, int id)
{
  return g_hash_table_lookup (bpe->by_id, GINT_TO_POINTER (id));
}

gboolean
sc_bpe_is_special (const ScBpe *bpe, int id)
{
  const AddedToken *t = find_added (bpe, id);
  return t != NULL && t->special;
}

/* ---- encoding ---- */

typedef struct
{
  int id;
  int prev, next; /* linked list over the word's symbols; -1 at the ends */
  gboolean alive;
} Symbol;

typedef struct
{
  int rank;
  int pos;
  int new_id;
} Candidate;

/* Min-heap on (rank, pos): the lowest-ranked merge, leftmost first. */
static gboolean
cand_less (const Candidate *a, const Candidate *b)
{
  return a->rank != b->rank ? a->rank < b->rank : a->pos < b->pos;
}

static void
heap_push (GArray *h, Candidate c)
{
  g_array_append_val (h, c);
  Candidate *v = (Candidate *) h->data;
  for (guint i = h->len - 1; i > 0;)
    {
      guint p = (i - 1) / 2;
      if (!cand_less (&v[i], &v[p]))
        break;
      Candidate t = v[i];
      v[i] = v[p];
      v[p] = t;
      i = p;
    }
}

static Candidate
heap_pop (GArray *h)
{
  Candidate *v = (Candidate *) h->data;
  Candidate top = v[0];
  v[0] = v[h->len - 1];
  g_array_set_size (h, h->len - 1);
  for (guint i = 0;;)
    {
      guint l = 2 * i + 1, r = l + 1, m = i;
      if (l < h->len && cand_less (&v[l], &v[m]))
        m = l;
      if (r < h->len && cand_less (&v[r], &v[m]))
        m = r;
      if (m == i)
        break;
      Candidate t = v[i];
      v[i] = v[m];
      v[m] = t;
      i = m;
    }
  return top;
}

static const MergeInfo *
lookup_merge (const ScBpe *bpe, int a, int b)
{
  guint64 k = ((guint64) (guint32) a << 32) | (guint32) b;
  return g_hash_table_lookup (bpe->merges, &k);
}

static void
push_pair (const ScBpe *bpe, GArray *heap, const Symbol *sym, int pos)
{
  if (pos < 0 || sym[pos].next < 0)
    return;
  const MergeInfo *mi = lookup_merge (bpe, sym[pos].id, sym[sym[pos].next].id);
  if (mi != NULL)
    heap_push (heap, (Candidate){ mi->rank, pos, mi->new_id });
}

/* BPE over one pre-tokenized piece (raw bytes). */
static void
encode_piece (const ScBpe *bpe, const guint8 *p, gsize n, GArray *out)
{
  if (bpe->ignore_merges)
    {
      GString *s = g_string_new (NULL);
      for (gsize i = 0; i < n; i++)
        g_string_append_unichar (s, bpe->byte_char[p[i]]);
      int id = vocab_id (bpe->vocab, s->str);
      g_string_free (s, TRUE);
      if (id >= 0)
        {
          g_array_append_val (out, id);
          return;
        }
    }

  Symbol *sym = g_new (Symbol, n);
  int count = 0;
  for (gsize i = 0; i < n; i++)
    {
      int id = bpe->byte_id[p[i]];
      if (id < 0)
        continue; /* no unk_token: the character is dropped, as tokenizers does */
      sym[count] = (Symbol){ id, count - 1, -1, TRUE };
      if (count > 0)
        sym[count - 1].next = count;
      count++;
    }

  g_autoptr (GArray) heap = g_array_new (FALSE, FALSE, sizeof (Candidate));
  for (int i = 0; i + 1 < count; i++)
    push_pair (bpe, heap, sym, i);
  while (heap->len > 0)
    {
      Candidate c = heap_pop (heap);
      Symbol *s = &sym[c.pos];
      if (!s->alive || s->next < 0)
        continue;
      const MergeInfo *mi = lookup_merge (bpe, s->id, sym[s->next].id);
      if (mi == NULL || mi->new_id != c.new_id || mi->rank != c.rank)
        continue; /* stale: one side was merged since */
      int right = s->next;
      s->id = c.new_id;
      s->next = sym[right].next;
      sym[right].alive = FALSE;
      if (s->next >= 0)
        sym[s->next].prev = c.pos;
      push_pair (bpe, heap, sym, s->prev);
      push_pair (bpe, heap, sym, c.pos);
    }
  for (int i = count > 0 ? 0 : -1; i >= 0; i = sym[i].next)
    g_array_append_val (out, sym[i].id);
  g_free (sym);
}

/* Characters the BLOOM pattern's class excludes: whitespace (Oniguruma's
 * Unicode \s), '(', ')', '|' and the listed sentence punctuation. */
static gboolean
is_space (gunichar c)
{
  if ((c >= 0x09 && c <= 0x0D) || c == 0x85)
    return TRUE;
  GUnicodeType t = g_unichar_type (c);
  return t == G_UNICODE_SPACE_SEPARATOR || t == G_UNICODE_LINE_SEPARATOR ||
         t == G_UNICODE_PARAGRAPH_SEPARATOR;
}

static gboolean
is_excluded (gunichar c)
{
  switch (c)
    {
    case '(':
    case ')':
    case '|':
    case '.':
    case ',':
    case '!':
    case '?':
    case 0x2026: /* … */
    case 0x3002: /* 。 */
    case 0xFF0C: /* ， */
    case 0x3001: /* 、 */
    case 0x0964: /* । */
    case 0x06D4: /* ۔ */
    case 0x060C: /* ، */
      return TRUE;
    default:
      return is_space (c);
    }
}

/* The Split pre-tokenizer (Isolated): matches of ` ?[^excluded]+` and the
 * non-empty gaps between them, in order, each then BPE-encoded. */
static void
encode_segment (const ScBpe *bpe, const char *s, gsize n, GArray *out)
{
  const char *end = s + n, *gap = s, *p = s;

  while (p < end)
    {
      const char *q = p;
      if (*q == ' ')
        q++;
      const char *run = q;
      while (q < end && !is_excluded (g_utf8_get_char (q)))
        q = g_utf8_next_char (q);
      if (q == run) /* no match here: this character joins the gap */
        {
          p = g_utf8_next_char (p);
          continue;
        }
      if (gap < p)
        encode_piece (bpe, (const guint8 *) gap, p - gap, out);
      encode_piece (bpe, (const guint8 *) p, q - p, out);
      p = gap = q;
    }
  if (gap < end)
    encode_piece (bpe, (const guint8 *) gap, end - gap, out);
}

/* Cuts the added tokens with normalized == `normalized` out of [s, s+n),
 * leftmost-longest; the text between goes to the next stage. */
static void
split_added (const ScBpe *bpe, const char *s, gsize n, gboolean normalized, GArray *out)
{
  gsize start = 0;

  for (gsize i = 0; i < n;)
    {
      int best = -1;
      gsize best_len = 0;
      for (guint k = 0; k < bpe->added->len; k++)
        {
          const AddedToken *t = &g_array_index (bpe->added, AddedToken, k);
          gsize l = strlen (t->content);
          if (t->normalized == normalized && l > best_len && l <= n - i &&
              memcmp (s + i, t->content, l) == 0)
            {
              best = t->id;
              best_len = l;
            }
        }
      if (best < 0)
        {
          i++;
          continue;
        }
      if (start < i)
        {
          if (!normalized)
            split_added (bpe, s + start, i - start, TRUE, out);
          else
            encode_segment (bpe, s + start, i - start, out);
        }
      g_array_append_val (out, best);
      i += best_len;
      start = i;
    }
  if (start < n)
    {
      if (!normalized)
        split_added (bpe, s + start, n - start, TRUE, out);
      else
        encode_segment (bpe, s + start, n - start, out);
    }
}

GArray *
sc_bpe_encode (const ScBpe *bpe, const char *text, gssize len, GError **error)
{
  g_return_val_if_fail (bpe != NULL && text != NULL, NULL);
  gsize n = len < 0 ? strlen (text) : (gsize) len;
  if (!g_utf8_validate_len (text, n, NULL))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "The text to tokenize is not valid UTF-8");
      return NULL;
    }
  GArray *out = g_array_new (FALSE, FALSE, sizeof (int));
  split_added (bpe, text, n, FALSE, out);
  return out;
}

/* ---- decoding ---- */

/* Length of the valid UTF-8 sequence at p (up to n bytes), or 0 with
 * *bad set to the length of its maximal invalid subpart (>= 1). */
static gsize
utf8_valid_len (const guint8 *p, gsize n, gsize *bad)
{
  guint8 b = p[0];
  gsize need;
  guint8 lo = 0x80, hi = 0xBF;

  if (b < 0x80)
    return 1;
  if (b >= 0xC2 && b <= 0xDF)
    need = 1;
  else if (b >= 0xE0 && b <= 0xEF)
    {
      need = 2;
      if (b == 0xE0)
        lo = 0xA0;
      else if (b == 0xED)
        hi = 0x9F;
    }
  else if (b >= 0xF0 && b <= 0xF4)
    {
      need = 3;
      if (b == 0xF0)
        lo = 0x90;
      else if (b == 0xF4)
        hi = 0x8F;
    }
  else
    {
      *bad = 1;
      return 0;
    }
  for (gsize k = 1; k <= need; k++)
    {
      guint8 lo_k = k == 1 ? lo : 0x80, hi_k = k == 1 ? hi : 0xBF;
      if (k >= n || p[k] < lo_k || p[k] > hi_k)
        {
          *bad = k;
          return 0;
        }
    }
  return need + 1;
}

char *
sc_bpe_decode (const ScBpe *bpe, const int *ids, gsize n, gboolean skip_special)
{
  GByteArray *bytes = g_byte_array_new ();

  for (gsize i = 0; i < n; i++)
    {
      const char *tok = sc_bpe_id_to_token (bpe, ids[i]);
      if (tok == NULL || (skip_special && sc_bpe_is_special (bpe, ids[i])))
        continue;
      guint mark = bytes->len;
      gboolean mapped = TRUE;
      for (const char *c = tok; *c; c = g_utf8_next_char (c))
        {
          gunichar u = g_utf8_get_char (c);
          if (u >= G_N_ELEMENTS (bpe->char_byte) || bpe->char_byte[u] < 0)
            {
              mapped = FALSE;
              break;
            }
          guint8 b = (guint8) bpe->char_byte[u];
          g_byte_array_append (bytes, &b, 1);
        }
      if (!mapped) /* not byte-level text: the token stands for itself */
        {
          g_byte_array_set_size (bytes, mark);
          g_byte_array_append (bytes, (const guint8 *) tok, strlen (tok));
        }
    }

  GString *s = g_string_sized_new (bytes->len + 1);
  for (gsize i = 0; i < bytes->len;)
    {
      gsize bad = 0, l = utf8_valid_len (bytes->data + i, bytes->len - i, &bad);
      if (l > 0)
        {
          g_string_append_len (s, (const char *) bytes->data + i, l);
          i += l;
        }
      else
        {
          g_string_append (s, "\xEF\xBF\xBD"); /* U+FFFD */
          i += bad;
        }
    }
  g_byte_array_unref (bytes);
  return g_string_free (s, FALSE);
}
