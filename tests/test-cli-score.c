/* test-cli-score.c: secateur-cli score as a user runs it, against the
 * sacreBLEU goldens (tests/goldens/metrics.json): corpus and sentence
 * scores from files and stdin, and errors with their exit statuses.
 * The binary comes from the SC_CLI environment variable. */
#include "sc-test-cli.h"
#include "sc-test-util.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

static char *tmpdir;
static JsonNode *goldens;

/* Writes `lines` (a JSON array of strings), one a line, to tmpdir/name. */
static char *
write_lines (const char *name, JsonArray *lines)
{
  g_autoptr (GString) s = g_string_new (NULL);
  for (guint i = 0; i < json_array_get_length (lines); i++)
    g_string_append_printf (s, "%s\n", json_array_get_string_element (lines, i));
  char *path = g_build_filename (tmpdir, name, NULL);
  g_autoptr (GError) error = NULL;
  g_file_set_contents (path, s->str, s->len, &error);
  g_assert_no_error (error);
  return path;
}

static char *
write_text (const char *name, const char *text)
{
  char *path = g_build_filename (tmpdir, name, NULL);
  g_autoptr (GError) error = NULL;
  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
  return path;
}

static JsonObject *
golden_set (const char *name)
{
  JsonArray *sets = json_object_get_array_member (json_node_get_object (goldens), "sets");
  for (guint i = 0; i < json_array_get_length (sets); i++)
    {
      JsonObject *o = json_array_get_object_element (sets, i);
      if (g_str_equal (json_object_get_string_member (o, "name"), name))
        return o;
    }
  g_assert_not_reached ();
}

/* The number after " = " in a sacreBLEU-style line. */
static double
score_of (const char *line)
{
  const char *eq = strstr (line, " = ");
  g_assert_nonnull (eq);
  return g_ascii_strtod (eq + 3, NULL);
}

static void
test_corpus_matches_goldens (void)
{
  static const char *const sets[] = { "udhr-eng_Latn", "udhr-zho_Hans", "udhr-hin_Deva", "punct" };
  static const char *const metrics[] = { "chrf++", "chrf", "bleu", "spbleu" };
  g_autofree char *spm = sc_test_path ("tests/fixtures/spm/sentencepiece.bpe.model");
  for (gsize k = 0; k < G_N_ELEMENTS (sets); k++)
    {
      JsonObject *set = golden_set (sets[k]);
      g_autofree char *hyp = write_lines ("hyp.txt", json_object_get_array_member (set, "hyps"));
      JsonArray *refs = json_object_get_array_member (set, "refs");
      g_autofree char *ref = write_lines ("ref.txt", json_array_get_array_element (refs, 0));
      for (gsize j = 0; j < G_N_ELEMENTS (metrics); j++)
        {
          JsonObject *g = json_object_get_object_member (
              json_object_get_object_member (set, "metrics"), metrics[j]);
          Run r = run_cli (NULL, "score", "--metric", metrics[j], "-r", ref, "-i", hyp, "--spm",
                           spm, NULL);
          g_assert_cmpint (r.status, ==, 0);
          g_assert_cmpstr (r.err, ==, "");
          /* name|signature = score, as sacreBLEU prints it */
          g_autofree char *prefix =
              g_strdup_printf ("%s|%s = ", json_object_get_string_member (g, "name"),
                               json_object_get_string_member (g, "signature"));
          g_assert_true (g_str_has_prefix (r.out, prefix));
          g_assert_cmpfloat_with_epsilon (
              score_of (r.out), json_object_get_double_member (g, "corpus_score"), 0.0051);
          run_clear (&r);
        }
    }
}

static void
test_sentence_and_stdin (void)
{
  JsonObject *set = golden_set ("udhr-rus_Cyrl");
  JsonArray *hyps = json_object_get_array_member (set, "hyps");
  g_autofree char *ref = write_lines (
      "ref.txt", json_array_get_array_element (json_object_get_array_member (set, "refs"), 0));
  g_autoptr (GString) input = g_string_new (NULL);
  for (guint i = 0; i < json_array_get_length (hyps); i++)
    g_string_append_printf (input, "%s\n", json_array_get_string_element (hyps, i));

  /* --sentence from stdin, one score a line (sacrebleu.sentence_bleu) */
  JsonObject *g =
      json_object_get_object_member (json_object_get_object_member (set, "metrics"), "bleu");
  JsonArray *want = json_object_get_array_member (g, "sentence_scores");
  Run r = run_cli (input->str, "score", "-m", "bleu", "-r", ref, "--sentence", "-b", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_auto (GStrv) lines = g_strsplit (r.out, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, json_array_get_length (want) + 1);
  for (guint i = 0; i < json_array_get_length (want); i++)
    g_assert_cmpfloat_with_epsilon (g_ascii_strtod (lines[i], NULL),
                                    json_array_get_double_element (want, i), 0.0051);
  run_clear (&r);

  /* full lines carry the sentence signature (eff:yes for BLEU) */
  r = run_cli (input->str, "score", "--metric=chrf++", "--ref", ref, "-i", "-", "--sentence", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_true (g_str_has_prefix (r.out, "chrF2++|nrefs:1|case:mixed|eff:yes|nc:6|nw:2"));
  run_clear (&r);

  /* two references */
  g_autofree char *h = write_text ("h2.txt", "The cat is on the mat.\n");
  g_autofree char *r1 = write_text ("r1.txt", "The cat is on the mat.\n");
  g_autofree char *r2 = write_text ("r2.txt", "There is a cat on the mat.\n");
  r = run_cli (NULL, "score", "-m", "bleu", "-r", r1, "-r", r2, "-i", h, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_true (g_str_has_prefix (r.out, "BLEU|nrefs:2|"));
  g_assert_cmpfloat_with_epsilon (score_of (r.out), 100.0, 1e-9);
  run_clear (&r);
}

static void
test_errors (void)
{
  g_autofree char *h = write_text ("h.txt", "one\ntwo\n");
  g_autofree char *r1 = write_text ("r.txt", "one\n");
  g_autofree char *bad = write_text ("bad.txt", "caf\xe9\n");
  g_autofree char *missing = g_build_filename (tmpdir, "missing.txt", NULL);

  struct
  {
    int status;
    const char *args[10];
  } cases[] = {
    { 1, { "score", "-m", "chrf++", "-r", r1, "-i", h, NULL } }, /* 2 vs 1 lines */
    { 1, { "score", "-m", "chrf++", "-r", missing, "-i", h, NULL } },
    { 1, { "score", "-m", "bleu", "-r", h, "-i", missing, NULL } },
    { 1, { "score", "-m", "bleu", "-r", bad, "-i", r1, NULL } }, /* not UTF-8 */
    { 1, { "score", "-m", "spbleu", "--spm", missing, "-r", h, "-i", h, NULL } },
    { 2, { "score", "-m", "meteor", "-r", h, "-i", h, NULL } },
    { 2, { "score", "-r", h, "-i", h, NULL } },
    { 2, { "score", "-m", "chrf", "-i", h, NULL } },
    { 2, { "score", "-m", "spbleu", "-r", h, "-i", h, NULL } }, /* needs --spm */
    { 2, { "score", "-m", "chrf", "-r", h, "-i", NULL } },
    { 2, { "score", "-m", "chrf", "-r", h, "--frobnicate", NULL } },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const char *const *a = cases[i].args;
      Run r = run_cli (NULL, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], NULL);
      if (r.status != cases[i].status)
        g_error ("case %" G_GSIZE_FORMAT ": exit %d, expected %d (stderr: %s)", i, r.status,
                 cases[i].status, r.err);
      g_assert_cmpstr (r.out, ==, "");
      g_assert_true (g_str_has_prefix (r.err, "secateur-cli score: "));
      run_clear (&r);
    }

  Run r = run_cli (NULL, "score", "--help", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "--metric"));
  run_clear (&r);
  r = run_cli (NULL, "frobnicate", NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "score"));
  run_clear (&r);
}

/* A file holding one empty line is one (empty) segment, as sacreBLEU reads
 * it; an empty file is none, and --sentence says there is nothing to score
 * instead of printing nothing with exit status 0. */
static void
test_empty_lines (void)
{
  g_autofree char *one_h = write_text ("one-h.txt", "\n");
  g_autofree char *one_r = write_text ("one-r.txt", "\n");
  g_autofree char *word = write_text ("word.txt", "word\n");
  g_autofree char *none_h = write_text ("none-h.txt", "");
  g_autofree char *none_r = write_text ("none-r.txt", "");
  static const char *const metrics[] = { "chrf++", "chrf", "bleu" };
  for (guint i = 0; i < G_N_ELEMENTS (metrics); i++)
    {
      Run r = run_cli (NULL, "score", "-m", metrics[i], "-r", one_r, "-i", one_h, NULL);
      g_assert_cmpint (r.status, ==, 0);
      g_assert_cmpfloat (score_of (r.out), ==, 0.0);
      run_clear (&r);
      r = run_cli (NULL, "score", "-m", metrics[i], "-r", word, "-i", one_h, "--sentence", "-b",
                   NULL);
      g_assert_cmpint (r.status, ==, 0);
      g_assert_cmpstr (r.out, ==, "0.00\n");
      run_clear (&r);
      r = run_cli (NULL, "score", "-m", metrics[i], "-r", one_r, "-i", none_h, NULL);
      g_assert_cmpint (r.status, ==, 1);
      g_assert_nonnull (strstr (r.err, "0 hypothesis lines but 1 lines"));
      run_clear (&r);
      r = run_cli (NULL, "score", "-m", metrics[i], "-r", none_r, "-i", none_h, "--sentence", NULL);
      g_assert_cmpint (r.status, ==, 1);
      g_assert_cmpstr (r.out, ==, "");
      g_assert_nonnull (strstr (r.err, "no hypotheses to score"));
      run_clear (&r);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_autoptr (GError) error = NULL;
  tmpdir = g_dir_make_tmp ("sc-cli-score-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *path = sc_test_path ("tests/goldens/metrics.json");
  goldens = sc_test_load_json (path);

  g_test_add_func ("/cli-score/corpus-goldens", test_corpus_matches_goldens);
  g_test_add_func ("/cli-score/sentence-stdin-multiref", test_sentence_and_stdin);
  g_test_add_func ("/cli-score/errors", test_errors);
  g_test_add_func ("/cli-score/empty-lines", test_empty_lines);
  int rc = g_test_run ();

  static const char *const files[] = { "hyp.txt", "ref.txt", "h2.txt", "r1.txt",
                                       "r2.txt",  "h.txt",   "r.txt",  "bad.txt" };
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *f = g_build_filename (tmpdir, files[i], NULL);
      g_unlink (f);
    }
  g_rmdir (tmpdir);
  g_free (tmpdir);
  json_node_unref (goldens);
  return rc;
}
