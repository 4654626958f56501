/* test-tokenizer.c: the NLLB tokenizer against Hugging Face NllbTokenizer
 * (tests/goldens/tokenizer.json, made by tools/make_goldens.py): source
 * encoding in current and legacy placement, special tokens written in the
 * text, every script of the fixture, and decoding with specials skipped.
 * Where NllbTokenizerFast (AutoTokenizer) differs from it, the engine
 * follows the fast one (tests/goldens/tokenizer-fast.json): unigram ties,
 * and the normaliser on short grapheme clusters; byte fallback is kept. */
#include "sc-languages.h"
#include "sc-tensor.h"
#include "sc-tokenizer.h"
#include "sc-unigram.h"
#include "sc-test-util.h"

#include <glib/gstdio.h>
#include <string.h>

static ScTokenizer *tok;
static JsonObject *golden;

static void
assert_ids (const char *what, const char *text, GArray *mine, JsonArray *want)
{
  g_autoptr (GArray) w = sc_test_int_array (want);
  if (mine->len != w->len || memcmp (mine->data, w->data, sizeof (int) * w->len) != 0)
    {
      GString *a = g_string_new (NULL), *b = g_string_new (NULL);
      for (guint i = 0; i < mine->len; i++)
        g_string_append_printf (a, "%d ", g_array_index (mine, int, i));
      for (guint i = 0; i < w->len; i++)
        g_string_append_printf (b, "%d ", g_array_index (w, int, i));
      g_error ("%s of \"%s\":\n  secateur: %s\n  HF:       %s", what, text, a->str, b->str);
    }
}

static void
test_layout (void)
{
  g_assert_cmpint (sc_tokenizer_vocab_size (tok), ==,
                   json_object_get_int_member (golden, "vocab_size"));
  g_assert_cmpint (sc_tokenizer_mask_id (tok), ==, json_object_get_int_member (golden, "mask_id"));
  int first = json_object_get_int_member (golden, "lang_code_first_id");
  g_assert_cmpint (sc_tokenizer_lang_id (tok, "ace_Arab", NULL), ==, first);
  g_assert_cmpint (sc_tokenizer_lang_id (tok, "eng_Latn", NULL), ==, first + 46);
  g_assert_cmpint (sc_tokenizer_lang_id (tok, "zul_Latn", NULL), ==, first + 201);
  g_assert_cmpstr (sc_tokenizer_lang_code (tok, first + 46), ==, "eng_Latn");
  g_assert_null (sc_tokenizer_lang_code (tok, 5));
  g_assert_true (sc_tokenizer_is_special (tok, SC_TOKEN_UNK));
  g_assert_true (sc_tokenizer_is_special (tok, first));
  g_assert_false (sc_tokenizer_is_special (tok, 4));
}

/* The real NLLB-200 ids (256,000 pieces) follow from the same table. */
static void
test_nllb200_ids (void)
{
  g_assert_cmpint (SC_N_NLLB_LANGUAGES, ==, 202);
  g_assert_cmpint (256000 + 1 + sc_language_index ("eng_Latn"), ==, 256047);
  g_assert_cmpint (256000 + 1 + sc_language_index ("fra_Latn"), ==, 256057);
  g_assert_cmpint (256000 + 1 + sc_language_index ("deu_Latn"), ==, 256042);
  g_assert_cmpint (256000 + 1 + sc_language_index ("zho_Hans"), ==, 256200);
  g_assert_cmpint (sc_language_index ("xxx_Latn"), ==, -1);
  g_assert_cmpstr (sc_language_code (201), ==, "zul_Latn");
  g_assert_null (sc_language_code (202));
}

static void
test_encode (void)
{
  JsonArray *cases = json_object_get_array_member (golden, "encode");
  g_assert_cmpuint (json_array_get_length (cases), >=, 20);
  for (guint i = 0; i < json_array_get_length (cases); i++)
    {
      JsonObject *c = json_array_get_object_element (cases, i);
      const char *text = json_object_get_string_member (c, "text");
      const char *lang = json_object_get_string_member (c, "src_lang");
      g_autoptr (GError) error = NULL;

      sc_tokenizer_set_legacy (tok, FALSE);
      g_autoptr (GArray) ids = sc_tokenizer_encode (tok, text, lang, &error);
      g_assert_no_error (error);
      assert_ids ("ids", text, ids, json_object_get_array_member (c, "ids"));

      sc_tokenizer_set_legacy (tok, TRUE);
      g_autoptr (GArray) legacy = sc_tokenizer_encode (tok, text, lang, &error);
      g_assert_no_error (error);
      assert_ids ("legacy ids", text, legacy, json_object_get_array_member (c, "ids_legacy"));
      sc_tokenizer_set_legacy (tok, FALSE);
    }
}

static void
test_decode (void)
{
  JsonArray *cases = json_object_get_array_member (golden, "decode");
  g_assert_cmpuint (json_array_get_length (cases), >=, 10);
  for (guint i = 0; i < json_array_get_length (cases); i++)
    {
      JsonObject *c = json_array_get_object_element (cases, i);
      g_autoptr (GArray) ids = sc_test_int_array (json_object_get_array_member (c, "ids"));
      g_autofree char *text = sc_tokenizer_decode (tok, (int *) ids->data, ids->len);
      g_assert_cmpstr (text, ==, json_object_get_string_member (c, "text"));
    }
}

static void
test_unknown_language (void)
{
  g_autoptr (GError) error = NULL;
  g_assert_cmpint (sc_tokenizer_lang_id (tok, "klingon", &error), ==, -1);
  g_assert_error (error, SC_ERROR, SC_ERROR_LANGUAGE);
  g_clear_error (&error);
  GArray *ids = sc_tokenizer_encode (tok, "Hello", "eng_latn", &error);
  g_assert_null (ids);
  g_assert_error (error, SC_ERROR, SC_ERROR_LANGUAGE);
  g_assert_nonnull (strstr (error->message, "eng_latn"));
}

static void
test_invalid_utf8 (void)
{
  g_autoptr (GError) error = NULL;
  GArray *ids = sc_tokenizer_encode (tok, "caf\xc3 \xff", "fra_Latn", &error);
  g_assert_null (ids);
  g_assert_error (error, SC_ERROR, SC_ERROR_FORMAT);
}

static void
test_missing_model (void)
{
  g_autoptr (GError) error = NULL;
  ScTokenizer *t = sc_tokenizer_load ("/nonexistent", &error);
  g_assert_null (t);
  g_assert_error (error, SC_ERROR, SC_ERROR_IO);
}

static void
test_corrupt_model (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("secateur-tok-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *path = g_build_filename (dir, "sentencepiece.bpe.model", NULL);
  g_file_set_contents (path, "this is not a protobuf \x01\x02\x03", -1, &error);
  g_assert_no_error (error);
  ScTokenizer *t = sc_tokenizer_load (dir, &error);
  g_assert_null (t);
  g_assert_error (error, SC_ERROR, SC_ERROR_FORMAT);
  g_remove (path);
  g_rmdir (dir);
}

static JsonObject *
load_fast (JsonNode **root)
{
  g_autofree char *path = sc_test_path ("tests/goldens/tokenizer-fast.json");
  *root = sc_test_load_json (path);
  return json_node_get_object (*root);
}

static ScTokenizer *
load_dir (const char *rel)
{
  g_autofree char *dir = sc_test_path (rel);
  g_autoptr (GError) error = NULL;
  ScTokenizer *t = sc_tokenizer_load (dir, &error);
  g_assert_no_error (error);
  return t;
}

static gboolean
same_ids (JsonArray *a, JsonArray *b)
{
  g_autoptr (GArray) x = sc_test_int_array (a);
  g_autoptr (GArray) y = sc_test_int_array (b);
  return x->len == y->len && memcmp (x->data, y->data, sizeof (int) * x->len) == 0;
}

/* Checks the engine against the fast tokenizer on every case of `list`
 * (with byte fallback where the spm file has it), each case one where
 * SentencePiece differs; returns how many came from real text. */
static guint
check_fast_cases (JsonObject *doc, const char *list, guint min_cases)
{
  JsonArray *cases = json_object_get_array_member (doc, list);
  g_assert_cmpuint (json_array_get_length (cases), >=, min_cases);
  g_autoptr (GHashTable) toks =
      g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) sc_tokenizer_free);
  guint real = 0;
  for (guint i = 0; i < json_array_get_length (cases); i++)
    {
      JsonObject *c = json_array_get_object_element (cases, i);
      const char *text = json_object_get_string_member (c, "text");
      const char *dir = json_object_get_string_member (c, "tokenizer_dir");
      ScTokenizer *t = g_hash_table_lookup (toks, dir);
      if (t == NULL)
        g_hash_table_insert (toks, (gpointer) dir, t = load_dir (dir));
      JsonArray *want = json_object_has_member (c, "ids_byte_fallback")
                            ? json_object_get_array_member (c, "ids_byte_fallback")
                            : json_object_get_array_member (c, "ids");
      g_assert_false (same_ids (json_object_get_array_member (c, "ids"),
                                json_object_get_array_member (c, "ids_sentencepiece")));
      if (g_str_has_prefix (json_object_get_string_member (c, "source"), "udhr:"))
        real++;
      g_autoptr (GError) error = NULL;
      g_autoptr (GArray) ids =
          sc_tokenizer_encode (t, text, json_object_get_string_member (c, "src_lang"), &error);
      g_assert_no_error (error);
      assert_ids (list, text, ids, want);
    }
  return real;
}

/* Equal-score segmentations: the engine keeps NllbTokenizerFast's, which
 * SentencePiece (the slow tokenizer, and this engine before) does not. */
static void
test_unigram_ties (void)
{
  g_autoptr (JsonNode) root = NULL;
  JsonObject *doc = load_fast (&root);
  g_assert_cmpstr (json_object_get_string_member (doc, "tokenizer_class"), ==, "NllbTokenizerFast");
  g_assert_cmpuint (check_fast_cases (doc, "ties", 20), >=, 1);
}

/* Characters outside the pieces: the spm file's byte fallback is kept (the
 * converted fast tokenizer drops it and says <unk>). */
static void
test_unigram_byte_fallback (void)
{
  g_autoptr (JsonNode) root = NULL;
  JsonObject *doc = load_fast (&root);
  JsonArray *cases = json_object_get_array_member (doc, "byte_fallback");
  for (guint i = 0; i < json_array_get_length (cases); i++)
    {
      JsonObject *c = json_array_get_object_element (cases, i);
      g_autoptr (GArray) fast = sc_test_int_array (json_object_get_array_member (c, "ids"));
      gboolean has_unk = FALSE;
      for (guint k = 0; k < fast->len; k++)
        has_unk |= g_array_index (fast, int, k) == SC_TOKEN_UNK;
      g_assert_true (has_unk);
      g_assert_true (json_object_has_member (c, "ids_byte_fallback"));
    }
  check_fast_cases (doc, "byte_fallback", 3);
}

/* A mapped character and combining marks in one short grapheme cluster:
 * tokenizers keeps the mapped character only; so does the engine, on BPE
 * and unigram models. */
static void
test_normaliser_graphemes (void)
{
  g_autoptr (JsonNode) root = NULL;
  JsonObject *doc = load_fast (&root);
  check_fast_cases (doc, "normaliser", 10);
}

static void
assert_unigram (ScUnigram *uni, const char *text, const int *want, guint n)
{
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (int));
  sc_unigram_encode (uni, text, strlen (text), ids);
  g_assert_cmpuint (ids->len, ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpint (g_array_index (ids, int, i), ==, want[i]);
}

/* Unknown characters, without and with byte fallback, on a hand-made table;
 * the expected ids are what tokenizers 0.19.1's Unigram gives for the same
 * vocabulary (word by word). */
static void
test_unigram_unknown_runs (void)
{
  static const struct
  {
    const char *piece;
    double score;
  } vocab[] = { { "<unk>", 0.0 },  { "\u2581", -1.0 }, { "a", -2.0 },
                { "b", -2.5 },     { ".", -1.5 },      { "...", -3.0 },
                { "<0x58>", 0.0 }, { "<0x59>", 0.0 },  { "\u2581ab", -3.0 } };
  for (int bf = 0; bf <= 1; bf++)
    {
      g_autoptr (ScUnigram) uni = sc_unigram_new (0, bf);
      for (guint i = 0; i < G_N_ELEMENTS (vocab); i++)
        sc_unigram_add_piece (uni, vocab[i].piece, vocab[i].score, (int) i);

      /* a run of unknown characters is one <unk>, or its bytes */
      static const int run[] = { 1, 2, 0, 3 }, run_bytes[] = { 1, 2, 6, 7, 3 };
      if (bf)
        assert_unigram (uni, "\u2581aXYb", run_bytes, G_N_ELEMENTS (run_bytes));
      else
        assert_unigram (uni, "\u2581aXYb", run, G_N_ELEMENTS (run));
      /* a byte without its piece: the whole run stays <unk> */
      static const int partial[] = { 8, 0 };
      assert_unigram (uni, "\u2581abX\u00e9", partial, G_N_ELEMENTS (partial));
      /* "...." ties: "." "..." is found first; each word on its own */
      static const int tie[] = { 1, 2, 4, 5, 8 };
      assert_unigram (uni, "\u2581a....\u2581ab", tie, G_N_ELEMENTS (tie));
      assert_unigram (uni, "", NULL, 0);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_autofree char *gpath = sc_test_path ("tests/goldens/tokenizer.json");
  g_autoptr (JsonNode) root = sc_test_load_json (gpath);
  golden = json_node_get_object (root);
  g_autofree char *dir = sc_test_path (json_object_get_string_member (golden, "tokenizer_dir"));
  g_autoptr (GError) error = NULL;
  tok = sc_tokenizer_load (dir, &error);
  g_assert_no_error (error);

  g_test_add_func ("/tokenizer/layout", test_layout);
  g_test_add_func ("/tokenizer/nllb200-ids", test_nllb200_ids);
  g_test_add_func ("/tokenizer/encode", test_encode);
  g_test_add_func ("/tokenizer/decode", test_decode);
  g_test_add_func ("/tokenizer/unigram-ties", test_unigram_ties);
  g_test_add_func ("/tokenizer/unigram-byte-fallback", test_unigram_byte_fallback);
  g_test_add_func ("/tokenizer/normaliser-graphemes", test_normaliser_graphemes);
  g_test_add_func ("/tokenizer/unigram-unknown-runs", test_unigram_unknown_runs);
  g_test_add_func ("/tokenizer/unknown-language", test_unknown_language);
  g_test_add_func ("/tokenizer/invalid-utf8", test_invalid_utf8);
  g_test_add_func ("/tokenizer/missing-model", test_missing_model);
  g_test_add_func ("/tokenizer/corrupt-model", test_corrupt_model);
  int ret = g_test_run ();
  sc_tokenizer_free (tok);
  return ret;
}
