/* cli-score.c: secateur-cli score — chrF, chrF++, BLEU and spBLEU as
 * sacreBLEU computes them, on files of one segment a line.
 *
 *   secateur-cli score --metric chrf++|chrf|spbleu|bleu -r REF [-r REF2 ...]
 *                      [-i HYP] [--sentence] [--spm MODEL] [--score-only]
 *
 * Prints the corpus score with its sacreBLEU signature, or with --sentence
 * one score a line. Errors go to stderr: exit 1 for failures, 2 for usage. */
#include "cli-commands.h"
#include "sc-metrics.h"

#include <gio/gio.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

static void
score_usage (FILE *f)
{
  fprintf (f,
           "Usage: secateur-cli score --metric chrf++|chrf|spbleu|bleu -r REF [-r REF ...]\n"
           "                          [-i HYP] [--sentence] [--spm MODEL] [--score-only]\n"
           "Scores hypotheses (HYP, stdin when absent or '-') against references, one\n"
           "segment a line, exactly as sacreBLEU " SC_METRICS_SACREBLEU_VERSION " does. spBLEU "
           "needs --spm, the\nSentencePiece model (flores200's for published spBLEU numbers).\n");
}

/* The lines of a file (or of stdin for "-"), without their '\n'. */
static GStrv
read_lines (const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  if (g_str_equal (path, "-"))
    {
      GString *buf = g_string_new (NULL);
      char chunk[65536];
      size_t got;
      while ((got = fread (chunk, 1, sizeof chunk, stdin)) > 0)
        g_string_append_len (buf, chunk, got);
      if (ferror (stdin))
        {
          g_string_free (buf, TRUE);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot read standard input");
          return NULL;
        }
      len = buf->len;
      data = g_string_free (buf, FALSE);
    }
  else if (!g_file_get_contents (path, &data, &len, error))
    {
      return NULL;
    }
  if (memchr (data, '\0', len) != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s holds a NUL byte", path);
      return NULL;
    }
  if (!g_utf8_validate (data, len, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s is not valid UTF-8", path);
      return NULL;
    }
  /* a final newline ends the last line; it does not start another */
  if (len > 0 && data[len - 1] == '\n')
    data[len - 1] = '\0';
  if (len == 0)
    return g_new0 (char *, 1);
  /* "\n" is one empty line, as sacreBLEU reads it (g_strsplit gives none) */
  if (data[0] == '\0')
    {
      char **one = g_new0 (char *, 2);
      one[0] = g_strdup ("");
      return one;
    }
  return g_strsplit (data, "\n", -1);
}

static void
print_score_only (double score)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  printf ("%s\n", g_ascii_formatd (buf, sizeof buf, "%.2f", score));
}

static gboolean
take_value (int argc, char **argv, int *i, const char *lng, const char *shrt, const char **value)
{
  const char *a = argv[*i];
  gsize n = strlen (lng);
  if (g_str_has_prefix (a, lng) && a[n] == '=')
    {
      *value = a + n + 1;
      return TRUE;
    }
  if (g_str_equal (a, lng) || (shrt && g_str_equal (a, shrt)))
    {
      if (*i + 1 >= argc)
        {
          *value = NULL;
          return TRUE;
        }
      *value = argv[++*i];
      return TRUE;
    }
  return FALSE;
}

int
sc_cli_score (int argc, char **argv)
{
  const char *metric_name = NULL, *hyp_path = NULL, *spm = NULL;
  g_autoptr (GPtrArray) ref_paths = g_ptr_array_new ();
  gboolean sentence = FALSE, score_only = FALSE;

  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i], *v = NULL;
      if (g_str_equal (a, "-h") || g_str_equal (a, "--help"))
        {
          score_usage (stdout);
          return 0;
        }
      else if (g_str_equal (a, "--sentence") || g_str_equal (a, "-s"))
        {
          sentence = TRUE;
          continue;
        }
      else if (g_str_equal (a, "--score-only") || g_str_equal (a, "-b"))
        {
          score_only = TRUE;
          continue;
        }
      else if (take_value (argc, argv, &i, "--metric", "-m", &v))
        {
          metric_name = v;
        }
      else if (take_value (argc, argv, &i, "--ref", "-r", &v))
        {
          if (v)
            g_ptr_array_add (ref_paths, (gpointer) v);
        }
      else if (take_value (argc, argv, &i, "--input", "-i", &v))
        {
          hyp_path = v;
        }
      else if (take_value (argc, argv, &i, "--spm", NULL, &v))
        {
          spm = v;
        }
      else
        {
          fprintf (stderr, "secateur-cli score: unexpected argument '%s'\n", a);
          score_usage (stderr);
          return 2;
        }
      if (v == NULL)
        {
          fprintf (stderr, "secateur-cli score: %s needs a value\n", a);
          score_usage (stderr);
          return 2;
        }
    }

  ScMetricKind kind;
  if (metric_name == NULL || !sc_metric_kind_from_name (metric_name, &kind))
    {
      fprintf (stderr, "secateur-cli score: %s (chrf++, chrf, spbleu or bleu)\n",
               metric_name ? "unknown metric" : "--metric is required");
      score_usage (stderr);
      return 2;
    }
  if (ref_paths->len == 0)
    {
      fprintf (stderr, "secateur-cli score: at least one -r REF is required\n");
      score_usage (stderr);
      return 2;
    }
  if (kind == SC_METRIC_SPBLEU && spm == NULL)
    {
      fprintf (stderr, "secateur-cli score: spbleu needs --spm MODEL\n");
      score_usage (stderr);
      return 2;
    }

  ScMetricConfig cfg;
  sc_metric_config_init (&cfg, kind);
  cfg.spm_model = spm;
  g_autoptr (GError) error = NULL;
  g_autoptr (ScMetric) metric = sc_metric_new (&cfg, &error);
  if (metric == NULL)
    {
      fprintf (stderr, "secateur-cli score: %s\n", error->message);
      return 1;
    }

  g_auto (GStrv) hyps = read_lines (hyp_path ? hyp_path : "-", &error);
  if (hyps == NULL)
    {
      fprintf (stderr, "secateur-cli score: %s\n", error->message);
      return 1;
    }
  guint n_streams = ref_paths->len;
  g_autoptr (GPtrArray) refs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  for (guint r = 0; r < n_streams; r++)
    {
      GStrv lines = read_lines (g_ptr_array_index (ref_paths, r), &error);
      if (lines == NULL)
        {
          fprintf (stderr, "secateur-cli score: %s\n", error->message);
          return 1;
        }
      g_ptr_array_add (refs, lines);
    }
  guint n = g_strv_length (hyps);
  for (guint r = 0; r < n_streams; r++)
    {
      guint len = g_strv_length (g_ptr_array_index (refs, r));
      if (len != n)
        {
          fprintf (stderr, "secateur-cli score: %u hypothesis lines but %u lines in %s\n", n, len,
                   (const char *) g_ptr_array_index (ref_paths, r));
          return 1;
        }
    }
  g_ptr_array_add (refs, NULL);

  if (!sentence)
    {
      ScMetricScore score;
      if (!sc_metric_corpus_score (metric, (const char *const *) hyps,
                                   (const char *const *const *) refs->pdata, &score, &error))
        {
          fprintf (stderr, "secateur-cli score: %s\n", error->message);
          return 1;
        }
      if (score_only)
        {
          print_score_only (score.score);
        }
      else
        {
          g_autofree char *sig = sc_metric_signature (metric, (int) n_streams, FALSE);
          g_autofree char *line = sc_metric_format (metric, &score, sig);
          printf ("%s\n", line);
        }
      return fflush (stdout) == 0 ? 0 : 1;
    }

  if (n == 0)
    {
      /* as the corpus score says; printing nothing would pass for success */
      fprintf (stderr, "secateur-cli score: no hypotheses to score\n");
      return 1;
    }
  g_autofree char *sig = sc_metric_signature (metric, (int) n_streams, TRUE);
  g_autofree const char **seg = g_new0 (const char *, n_streams + 1);
  for (guint i = 0; i < n; i++)
    {
      for (guint r = 0; r < n_streams; r++)
        seg[r] = ((GStrv) g_ptr_array_index (refs, r))[i];
      ScMetricScore score;
      if (!sc_metric_sentence_score (metric, hyps[i], seg, &score, &error))
        {
          fprintf (stderr, "secateur-cli score: line %u: %s\n", i + 1, error->message);
          return 1;
        }
      if (score_only)
        {
          print_score_only (score.score);
        }
      else
        {
          g_autofree char *line = sc_metric_format (metric, &score, sig);
          printf ("%s\n", line);
        }
    }
  return fflush (stdout) == 0 ? 0 : 1;
}
