/* test-corpus.c: the bundled UDHR corpus (resources/udhr) and the FLORES,
 * plain-text and TSV readers, with their errors. */
#include "sc-test-util.h"
#include "sc-corpus.h"
#include "sc-corpus-spec.h"

#include <glib/gstdio.h>
#include <string.h>

static char *
udhr_dir (void)
{
  return sc_test_path ("resources/udhr");
}

static void
write_file (const char *path, const char *data, gssize len)
{
  g_autoptr (GError) error = NULL;
  g_file_set_contents (path, data, len, &error);
  g_assert_no_error (error);
}

static void
test_udhr_eng_fra (void)
{
  g_autofree char *dir = udhr_dir ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) all =
      sc_corpus_udhr_pairs (dir, "eng_Latn", "fra_Latn", SC_CORPUS_SPLIT_ALL, &error);
  g_assert_no_error (error);
  /* French drops the preamble (its paragraph count differs): 50 = 60 - 10. */
  g_assert_cmpuint (all->len, ==, 50);
  ScCorpusPair *p0 = all->pdata[0];
  g_assert_cmpuint (p0->article, ==, 1);
  g_assert_cmpuint (p0->paragraph, ==, 0);
  g_assert_true (g_str_has_prefix (p0->source, "All human beings are born free and equal"));
  g_assert_true (g_str_has_prefix (p0->target, "Tous les êtres humains naissent libres"));
  for (guint i = 0; i < all->len; i++)
    {
      ScCorpusPair *p = all->pdata[i];
      g_assert_cmpuint (p->article, >=, 1);
      g_assert_cmpuint (p->article, <=, 30);
      g_assert_true (g_utf8_validate (p->source, -1, NULL));
      g_assert_null (strchr (p->target, '\t'));
      if (i > 0)
        {
          ScCorpusPair *q = all->pdata[i - 1];
          g_assert_true (q->article < p->article ||
                         (q->article == p->article && q->paragraph < p->paragraph));
        }
    }

  /* Reverse direction: same keys, sides swapped. */
  g_autoptr (GPtrArray) rev =
      sc_corpus_udhr_pairs (dir, "fra_Latn", "eng_Latn", SC_CORPUS_SPLIT_ALL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rev->len, ==, all->len);
  g_assert_cmpstr (((ScCorpusPair *) rev->pdata[7])->target, ==,
                   ((ScCorpusPair *) all->pdata[7])->source);

  /* English with itself keeps the preamble (article 0): all 60 paragraphs. */
  g_autoptr (GPtrArray) ee =
      sc_corpus_udhr_pairs (dir, "eng_Latn", "eng_Latn", SC_CORPUS_SPLIT_ALL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ee->len, ==, 60);
  g_assert_cmpuint (((ScCorpusPair *) ee->pdata[0])->article, ==, 0);
}

static void
test_udhr_split (void)
{
  g_autofree char *dir = udhr_dir ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) held = sc_corpus_udhr_held_out (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (held->len, ==, 6);
  g_assert_cmpuint (g_array_index (held, guint, 0), ==, 25);
  g_assert_cmpuint (g_array_index (held, guint, 5), ==, 30);

  g_autoptr (GPtrArray) cal =
      sc_corpus_udhr_pairs (dir, "eng_Latn", "fra_Latn", SC_CORPUS_SPLIT_CALIBRATION, &error);
  g_assert_no_error (error);
  g_autoptr (GPtrArray) ho =
      sc_corpus_udhr_pairs (dir, "eng_Latn", "fra_Latn", SC_CORPUS_SPLIT_HELD_OUT, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (cal->len, ==, 38);
  g_assert_cmpuint (ho->len, ==, 12);
  for (guint i = 0; i < cal->len; i++)
    {
      ScCorpusPair *p = cal->pdata[i];
      g_assert_cmpuint (p->article, <, 25);
      for (guint j = 0; j < ho->len; j++)
        g_assert_cmpstr (p->source, !=, ((ScCorpusPair *) ho->pdata[j])->source);
    }
  for (guint i = 0; i < ho->len; i++)
    {
      ScCorpusPair *p = ho->pdata[i];
      g_assert_cmpuint (p->article, >=, 25);
      g_assert_cmpuint (p->article, <=, 30);
    }
  g_assert_cmpuint (((ScCorpusPair *) ho->pdata[0])->article, ==, 25);
}

static void
test_udhr_scripts (void)
{
  g_autofree char *dir = udhr_dir ();
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) langs = sc_corpus_udhr_languages (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (langs), >=, 150);
  g_assert_true (g_strv_contains ((const char *const *) langs, "zho_Hans"));
  g_assert_true (g_strv_contains ((const char *const *) langs, "arb_Arab"));
  g_assert_true (g_strv_contains ((const char *const *) langs, "hin_Deva"));
  g_assert_true (g_strv_contains ((const char *const *) langs, "deu_Latn"));
  for (guint i = 1; langs[i]; i++)
    g_assert_cmpint (strcmp (langs[i - 1], langs[i]), <, 0);

  g_autoptr (GPtrArray) zh =
      sc_corpus_udhr_pairs (dir, "eng_Latn", "zho_Hans", SC_CORPUS_SPLIT_CALIBRATION, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (zh->len, >, 20);
  /* Article 1 in Chinese begins with 人人生而自由. */
  gunichar c = g_utf8_get_char (((ScCorpusPair *) zh->pdata[0])->target);
  g_assert_cmpint (g_unichar_get_script (c), ==, G_UNICODE_SCRIPT_HAN);
  g_autoptr (GPtrArray) ar =
      sc_corpus_udhr_pairs (dir, "arb_Arab", "hin_Deva", SC_CORPUS_SPLIT_ALL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_unichar_get_script (g_utf8_get_char (((ScCorpusPair *) ar->pdata[0])->source)),
                   ==, G_UNICODE_SCRIPT_ARABIC);
}

static void
test_udhr_errors (void)
{
  g_autofree char *dir = udhr_dir ();
  g_autoptr (GError) error = NULL;
  GPtrArray *r = sc_corpus_udhr_pairs (dir, "eng_Latn", "xxx_Latn", SC_CORPUS_SPLIT_ALL, &error);
  g_assert_null (r);
  g_assert_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_UNKNOWN_LANGUAGE);
  g_assert_nonnull (strstr (error->message, "xxx_Latn"));
  g_clear_error (&error);

  /* A real NLLB code without a UDHR text: the message names language and path. */
  r = sc_corpus_udhr_pairs (dir, "eng_Latn", "acm_Arab", SC_CORPUS_SPLIT_ALL, &error);
  g_assert_null (r);
  g_assert_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_MISSING);
  g_assert_nonnull (strstr (error->message, "acm_Arab"));
  g_assert_nonnull (strstr (error->message, "acm_Arab.tsv"));
  g_clear_error (&error);

  r = sc_corpus_udhr_pairs ("/nonexistent/udhr", "eng_Latn", "fra_Latn", SC_CORPUS_SPLIT_ALL,
                            &error);
  g_assert_null (r);
  g_assert_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_MISSING);
  g_clear_error (&error);

  /* Malformed and disjoint files in a scratch directory. */
  g_autofree char *tmp = g_dir_make_tmp ("sc-corpus-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *e = g_build_filename (tmp, "eng_Latn.tsv", NULL);
  g_autofree char *f = g_build_filename (tmp, "fra_Latn.tsv", NULL);
  g_autofree char *d = g_build_filename (tmp, "deu_Latn.tsv", NULL);
  write_file (e, "1\t0\tHello\n2\t0\tWorld\n", -1);
  write_file (f, "3\t0\tBonjour\n", -1);
  write_file (d, "1\tx\tHallo\n", -1);
  r = sc_corpus_udhr_pairs (tmp, "eng_Latn", "fra_Latn", SC_CORPUS_SPLIT_ALL, &error);
  g_assert_null (r);
  g_assert_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_EMPTY);
  g_clear_error (&error);
  r = sc_corpus_udhr_pairs (tmp, "eng_Latn", "deu_Latn", SC_CORPUS_SPLIT_ALL, &error);
  g_assert_null (r);
  g_assert_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_PARSE);
  g_clear_error (&error);
  /* No split.json: 25-30 by default; article 1 and 2 are calibration. */
  write_file (f, "2\t0\tMonde\r\n", -1);
  g_autoptr (GPtrArray) ok =
      sc_corpus_udhr_pairs (tmp, "eng_Latn", "fra_Latn", SC_CORPUS_SPLIT_CALIBRATION, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ok->len, ==, 1);
  g_assert_cmpstr (((ScCorpusPair *) ok->pdata[0])->target, ==, "Monde");
  g_remove (e);
  g_remove (f);
  g_remove (d);
  g_rmdir (tmp);
}

static void
test_plain_and_tsv (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("sc-corpus-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *a = g_build_filename (tmp, "a.txt", NULL);
  g_autofree char *b = g_build_filename (tmp, "b.txt", NULL);
  g_autofree char *c = g_build_filename (tmp, "c.txt", NULL);
  g_autofree char *bad = g_build_filename (tmp, "bad.txt", NULL);
  g_autofree char *empty = g_build_filename (tmp, "empty.txt", NULL);
  g_autofree char *tsv = g_build_filename (tmp, "pairs.tsv", NULL);
  write_file (a, "one\ntwo\r\nthree\n", -1);
  write_file (b, "un\ndeux\ntrois", -1);
  write_file (c, "un\ndeux\n", -1);
  write_file (bad, "ok\nbad \xff\xfe here\n", -1);
  write_file (empty, "", 0);

  g_autoptr (GPtrArray) p = sc_corpus_plain_pairs (a, b, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (p->len, ==, 3);
  g_assert_cmpstr (((ScCorpusPair *) p->pdata[1])->source, ==, "two");
  g_assert_cmpstr (((ScCorpusPair *) p->pdata[1])->target, ==, "deux");
  g_assert_cmpuint (((ScCorpusPair *) p->pdata[2])->paragraph, ==, 2);

  GPtrArray *r = sc_corpus_plain_pairs (a, c, &error);
  g_assert_null (r);
  g_assert_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_MISMATCH);
  g_assert_nonnull (strstr (error->message, "3"));
  g_assert_nonnull (strstr (error->message, "2"));
  g_clear_error (&error);

  r = sc_corpus_plain_pairs (a, bad, &error);
  g_assert_null (r);
  g_assert_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_UTF8);
  g_assert_nonnull (strstr (error->message, "line 2"));
  g_clear_error (&error);

  r = sc_corpus_plain_pairs (empty, empty, &error);
  g_assert_null (r);
  g_assert_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_EMPTY);
  g_clear_error (&error);

  r = sc_corpus_plain_pairs (a, "/nonexistent/x.txt", &error);
  g_assert_null (r);
  g_assert_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_MISSING);
  g_assert_nonnull (strstr (error->message, "/nonexistent/x.txt"));
  g_clear_error (&error);

  write_file (tsv, "Hello\tBonjour\n\nGood night\tBonne nuit\r\n", -1);
  g_autoptr (GPtrArray) t = sc_corpus_tsv_pairs (tsv, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (t->len, ==, 2);
  g_assert_cmpstr (((ScCorpusPair *) t->pdata[1])->source, ==, "Good night");
  g_assert_cmpstr (((ScCorpusPair *) t->pdata[1])->target, ==, "Bonne nuit");

  write_file (tsv, "Hello\tBonjour\nno tab here\n", -1);
  r = sc_corpus_tsv_pairs (tsv, &error);
  g_assert_null (r);
  g_assert_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, "line 2"));
  g_clear_error (&error);

  write_file (tsv, "a\tb\tc\n", -1);
  r = sc_corpus_tsv_pairs (tsv, &error);
  g_assert_null (r);
  g_assert_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_PARSE);
  g_clear_error (&error);

  write_file (tsv, "\n\n", -1);
  r = sc_corpus_tsv_pairs (tsv, &error);
  g_assert_null (r);
  g_assert_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_EMPTY);
  g_clear_error (&error);

  write_file (tsv, "caf\xc3\tx\n", -1);
  r = sc_corpus_tsv_pairs (tsv, &error);
  g_assert_null (r);
  g_assert_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_UTF8);
  g_clear_error (&error);

  for (const char *const *f = (const char *const[]){ a, b, c, bad, empty, tsv, NULL }; *f; f++)
    g_remove (*f);
  g_rmdir (tmp);
}

static void
test_bitext (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("sc-corpus-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *path = g_build_filename (tmp, "test.tsv", NULL);
  write_file (path,
              "fra_Latn\tOpen file\tOuvrir le fichier\tgedit\tgedit\n"
              "deu_Latn\tOpen file\tDatei öffnen\tgedit\tgedit\n"
              "\n"
              "fra_Latn\tQuit\tQuitter\n",
              -1);
  g_autoptr (GPtrArray) ef = sc_corpus_bitext_pairs (path, "eng_Latn", "fra_Latn", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ef->len, ==, 2);
  g_assert_cmpstr (((ScCorpusPair *) ef->pdata[0])->source, ==, "Open file");
  g_assert_cmpstr (((ScCorpusPair *) ef->pdata[0])->target, ==, "Ouvrir le fichier");
  g_assert_cmpstr (((ScCorpusPair *) ef->pdata[1])->target, ==, "Quitter");
  g_autoptr (GPtrArray) de = sc_corpus_bitext_pairs (path, "deu_Latn", "eng_Latn", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (de->len, ==, 1);
  g_assert_cmpstr (((ScCorpusPair *) de->pdata[0])->source, ==, "Datei öffnen");
  g_assert_cmpstr (((ScCorpusPair *) de->pdata[0])->target, ==, "Open file");

  GPtrArray *r = sc_corpus_bitext_pairs (path, "fra_Latn", "deu_Latn", &error);
  g_assert_null (r);
  g_assert_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, "English"));
  g_clear_error (&error);
  r = sc_corpus_bitext_pairs (path, "eng_Latn", "spa_Latn", &error);
  g_assert_null (r);
  g_assert_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_EMPTY);
  g_clear_error (&error);
  write_file (path, "fra_Latn\tno translation\n", -1);
  r = sc_corpus_bitext_pairs (path, "eng_Latn", "fra_Latn", &error);
  g_assert_null (r);
  g_assert_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, "line 1"));
  g_clear_error (&error);
  sc_test_rm_tree (tmp);
}

static void
test_flores (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("sc-flores-XXXXXX", &error);
  g_assert_no_error (error);
  /* Layout 1: DIR/dev/<code>.dev */
  g_autofree char *dev = g_build_filename (tmp, "dev", NULL);
  g_mkdir (dev, 0700);
  g_autofree char *e = g_build_filename (dev, "eng_Latn.dev", NULL);
  g_autofree char *f = g_build_filename (dev, "fra_Latn.dev", NULL);
  g_autofree char *s = g_build_filename (dev, "spa_Latn.dev", NULL);
  write_file (e, "A cat.\nA dog.\n", -1);
  write_file (f, "Un chat.\nUn chien.\n", -1);
  write_file (s, "Un gato.\n", -1);
  g_autoptr (GPtrArray) p = sc_corpus_flores_pairs (tmp, "dev", "eng_Latn", "fra_Latn", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (p->len, ==, 2);
  g_assert_cmpstr (((ScCorpusPair *) p->pdata[1])->target, ==, "Un chien.");

  GPtrArray *r = sc_corpus_flores_pairs (tmp, "dev", "eng_Latn", "spa_Latn", &error);
  g_assert_null (r);
  g_assert_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_MISMATCH);
  g_clear_error (&error);
  r = sc_corpus_flores_pairs (tmp, "devtest", "eng_Latn", "fra_Latn", &error);
  g_assert_null (r);
  g_assert_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_MISSING);
  g_assert_nonnull (strstr (error->message, "eng_Latn"));
  g_assert_nonnull (strstr (error->message, "eng_Latn.devtest"));
  g_clear_error (&error);
  r = sc_corpus_flores_pairs (tmp, "train", "eng_Latn", "fra_Latn", &error);
  g_assert_null (r);
  g_assert_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_PARSE);
  g_clear_error (&error);
  r = sc_corpus_flores_pairs (tmp, "dev", "english", "fra_Latn", &error);
  g_assert_null (r);
  g_assert_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_UNKNOWN_LANGUAGE);
  g_clear_error (&error);

  /* Layout 2: DIR/flores200_dataset/devtest/<code>.devtest */
  g_autofree char *fd = g_build_filename (tmp, "flores200_dataset", NULL);
  g_autofree char *dt = g_build_filename (fd, "devtest", NULL);
  g_mkdir_with_parents (dt, 0700);
  g_autofree char *e2 = g_build_filename (dt, "eng_Latn.devtest", NULL);
  g_autofree char *z2 = g_build_filename (dt, "zho_Hans.devtest", NULL);
  write_file (e2, "Hello.\n", -1);
  write_file (z2, "你好。\n", -1);
  g_autoptr (GPtrArray) q = sc_corpus_flores_pairs (tmp, "devtest", "zho_Hans", "eng_Latn", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (q->len, ==, 1);
  g_assert_cmpstr (((ScCorpusPair *) q->pdata[0])->source, ==, "你好。");

  g_remove (e);
  g_remove (f);
  g_remove (s);
  g_remove (e2);
  g_remove (z2);
  g_rmdir (dt);
  g_rmdir (fd);
  g_rmdir (dev);
  g_rmdir (tmp);
}

static void
test_default_dir (void)
{
  /* $SECATEUR_DATA_DIR wins; otherwise the source tree is found. */
  g_autofree char *res = sc_test_path ("resources");
  g_setenv ("SECATEUR_DATA_DIR", res, TRUE);
  g_autofree char *d1 = sc_corpus_default_udhr_dir ();
  g_assert_nonnull (d1);
  g_assert_true (g_str_has_prefix (d1, res));
  g_unsetenv ("SECATEUR_DATA_DIR");
  g_autofree char *d2 = sc_corpus_default_udhr_dir ();
  g_assert_nonnull (d2);
  g_autofree char *eng = g_build_filename (d2, "eng_Latn.tsv", NULL);
  g_assert_true (g_file_test (eng, G_FILE_TEST_EXISTS));
  g_assert_null (sc_corpus_find_data ("no-such-resource"));
}

/* A model's own held-out set wins where it has the direction; the UDHR's
 * held-out articles serve the rest and models without one. */
static void
test_held_out (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *demo = sc_test_path ("resources/models/demo");
  g_autoptr (GPtrArray) own = sc_corpus_held_out_pairs (demo, "eng_Latn", "fra_Latn", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (own->len, ==, 20);
  g_autofree char *heldout = g_build_filename (demo, "heldout.tsv", NULL);
  g_autoptr (GPtrArray) direct = sc_corpus_bitext_pairs (heldout, "eng_Latn", "fra_Latn", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (((ScCorpusPair *) own->pdata[0])->source, ==,
                   ((ScCorpusPair *) direct->pdata[0])->source);
  g_assert_cmpstr (((ScCorpusPair *) own->pdata[0])->target, ==,
                   ((ScCorpusPair *) direct->pdata[0])->target);

  g_autofree char *udhr = sc_corpus_default_udhr_dir ();
  g_autoptr (GPtrArray) want =
      sc_corpus_udhr_pairs (udhr, "eng_Latn", "swh_Latn", SC_CORPUS_SPLIT_HELD_OUT, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (want->len, >, 0);
  /* not in the demo's file (no Swahili): the UDHR */
  g_autoptr (GPtrArray) fallback = sc_corpus_held_out_pairs (demo, "eng_Latn", "swh_Latn", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (fallback->len, ==, want->len);
  g_assert_cmpstr (((ScCorpusPair *) fallback->pdata[0])->target, ==,
                   ((ScCorpusPair *) want->pdata[0])->target);
  /* a model without a file: the UDHR */
  g_autofree char *tiny = sc_test_path ("tests/fixtures/m2m-tiny");
  g_autoptr (GPtrArray) plain = sc_corpus_held_out_pairs (tiny, "eng_Latn", "swh_Latn", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (plain->len, ==, want->len);
  /* a broken file is reported, not skipped */
  g_autofree char *tmp = g_dir_make_tmp ("sc-heldout-XXXXXX", &error);
  g_autofree char *bad = g_build_filename (tmp, "heldout.tsv", NULL);
  g_assert_true (g_file_set_contents (bad, "fra_Latn\tno translation column\n", -1, &error));
  g_assert_null (sc_corpus_held_out_pairs (tmp, "eng_Latn", "fra_Latn", &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_unlink (bad);
  g_rmdir (tmp);
}

/* One vocabulary for the CLI's --corpus and the application's corpus
 * choice; no spec at all means the UDHR for calibration and the model's
 * held-out set for evaluation. */
static void
test_spec (void)
{
  g_autoptr (GError) error = NULL;
  ScCorpusSpec spec;
  static const struct
  {
    const char *text;
    ScCorpusKind kind;
    const char *path;
  } good[] = {
    { NULL, SC_CORPUS_DEFAULT, NULL },       { "", SC_CORPUS_DEFAULT, NULL },
    { "udhr", SC_CORPUS_UDHR, NULL },        { "flores:/data/f", SC_CORPUS_FLORES, "/data/f" },
    { "tsv:a.tsv", SC_CORPUS_TSV, "a.tsv" }, { "bitext:b.tsv", SC_CORPUS_BITEXT, "b.tsv" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_assert_true (sc_corpus_spec_parse (good[i].text, &spec, &error));
      g_assert_no_error (error);
      g_assert_cmpint (spec.kind, ==, good[i].kind);
      g_assert_cmpstr (spec.path, ==, good[i].path);
    }
  static const char *const bad[] = { "udhr:x", "opus", "tsv:", "flores:", "bitext" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_false (sc_corpus_spec_parse (bad[i], &spec, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
    }
  ScCorpusSplit split;
  static const struct
  {
    const char *text;
    ScCorpusSplit split;
  } splits[] = {
    { "calibration", SC_CORPUS_SPLIT_CALIBRATION },
    { "dev", SC_CORPUS_SPLIT_CALIBRATION },
    { "held-out", SC_CORPUS_SPLIT_HELD_OUT },
    { "devtest", SC_CORPUS_SPLIT_HELD_OUT },
    { "all", SC_CORPUS_SPLIT_ALL },
  };
  for (guint i = 0; i < G_N_ELEMENTS (splits); i++)
    {
      g_assert_true (sc_corpus_split_parse (splits[i].text, &split, &error));
      g_assert_cmpint (split, ==, splits[i].split);
    }
  g_assert_false (sc_corpus_split_parse ("test", &split, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* the default: the demo model's own held-out set for evaluation, the
   * UDHR for calibration; "udhr" named: the UDHR's held-out articles */
  g_autofree char *demo = sc_test_path ("resources/models/demo");
  g_autofree char *udhr = sc_corpus_default_udhr_dir ();
  g_autoptr (GPtrArray) own = sc_corpus_held_out_pairs (demo, "eng_Latn", "fra_Latn", &error);
  g_assert_no_error (error);
  g_assert_true (sc_corpus_spec_parse (NULL, &spec, &error));
  g_autoptr (GPtrArray) held =
      sc_corpus_spec_pairs (&spec, SC_CORPUS_SPLIT_HELD_OUT, demo, "eng_Latn", "fra_Latn", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (held->len, ==, own->len);
  g_assert_cmpstr (((ScCorpusPair *) held->pdata[3])->source, ==,
                   ((ScCorpusPair *) own->pdata[3])->source);
  g_autoptr (GPtrArray) calib_want =
      sc_corpus_udhr_pairs (udhr, "eng_Latn", "fra_Latn", SC_CORPUS_SPLIT_CALIBRATION, &error);
  g_autoptr (GPtrArray) calib = sc_corpus_spec_pairs (&spec, SC_CORPUS_SPLIT_CALIBRATION, demo,
                                                      "eng_Latn", "fra_Latn", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (calib->len, ==, calib_want->len);
  g_assert_true (sc_corpus_spec_parse ("udhr", &spec, &error));
  g_autoptr (GPtrArray) udhr_want =
      sc_corpus_udhr_pairs (udhr, "eng_Latn", "fra_Latn", SC_CORPUS_SPLIT_HELD_OUT, &error);
  g_autoptr (GPtrArray) named =
      sc_corpus_spec_pairs (&spec, SC_CORPUS_SPLIT_HELD_OUT, demo, "eng_Latn", "fra_Latn", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (named->len, ==, udhr_want->len);
  g_assert_cmpstr (((ScCorpusPair *) named->pdata[0])->target, ==,
                   ((ScCorpusPair *) udhr_want->pdata[0])->target);
  /* bitext: the one direction's pairs, whatever the split */
  g_autofree char *heldout = g_build_filename (demo, "heldout.tsv", NULL);
  g_autofree char *text = g_strconcat ("bitext:", heldout, NULL);
  g_assert_true (sc_corpus_spec_parse (text, &spec, &error));
  g_autoptr (GPtrArray) bitext = sc_corpus_spec_pairs (&spec, SC_CORPUS_SPLIT_CALIBRATION, NULL,
                                                       "fra_Latn", "eng_Latn", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bitext->len, ==, 20);
  /* FLORES-200 has dev and devtest, no "all" */
  g_assert_true (sc_corpus_spec_parse ("flores:/nonexistent", &spec, &error));
  g_assert_null (
      sc_corpus_spec_pairs (&spec, SC_CORPUS_SPLIT_ALL, NULL, "eng_Latn", "fra_Latn", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/corpus/udhr/eng-fra", test_udhr_eng_fra);
  g_test_add_func ("/corpus/udhr/split", test_udhr_split);
  g_test_add_func ("/corpus/udhr/scripts", test_udhr_scripts);
  g_test_add_func ("/corpus/udhr/errors", test_udhr_errors);
  g_test_add_func ("/corpus/plain-tsv", test_plain_and_tsv);
  g_test_add_func ("/corpus/bitext", test_bitext);
  g_test_add_func ("/corpus/flores", test_flores);
  g_test_add_func ("/corpus/default-dir", test_default_dir);
  g_test_add_func ("/corpus/held-out", test_held_out);
  g_test_add_func ("/corpus/spec", test_spec);
  return g_test_run ();
}
