/* bench-decode: Secateur's side of the decoding benchmark (bench/decode/).
 *
 *   bench-decode MODEL_DIR SENTENCES_FILE BATCH BEAMS MAX_LEN RUNS [TGT_LANG]
 *
 * Translates every line of SENTENCES_FILE from English, BATCH lines at a
 * time, RUNS times, and prints one JSON object: the seconds of each run,
 * the tokens generated per run (best hypothesis, start token excluded),
 * the output ids of the last run (so engines can be checked to agree),
 * this machine's measured copy bandwidth and the peak RSS. The model is
 * loaded once; the first run pays for page faults, as in every engine.
 */
#include "sc-backend.h"
#include "sc-generate.h"
#include "sc-model.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

static double
now (void)
{
  return g_get_monotonic_time () / 1e6;
}

/* Best of five copies of 256 MiB: bytes read plus bytes written, per
 * second, the figure a memory-bound decoder is held to. */
static double
copy_bandwidth (void)
{
  gsize n = (gsize) 256 << 20;
  char *a = g_malloc (n), *b = g_malloc (n);
  memset (a, 1, n);
  memset (b, 2, n);
  double best = 0;
  for (int r = 0; r < 5; r++)
    {
      double t0 = now ();
      memcpy (b, a, n);
      double dt = now () - t0;
      best = MAX (best, 2.0 * n / dt);
      a[r] = b[n - 1 - r]; /* keep the copy observable */
    }
  g_free (a);
  g_free (b);
  return best;
}

int
main (int argc, char **argv)
{
  if (argc != 7 && argc != 8)
    {
      fprintf (stderr, "usage: bench-decode MODEL_DIR SENTENCES_FILE BATCH BEAMS MAX_LEN RUNS "
                       "[TGT_LANG]\n");
      return 2;
    }
  int batch = atoi (argv[3]), beams = atoi (argv[4]), max_len = atoi (argv[5]);
  int runs = atoi (argv[6]);
  const char *tgt = argc == 8 ? argv[7] : "fra_Latn";
  if (batch < 1 || beams < 1 || max_len < 2 || runs < 1)
    {
      fprintf (stderr, "bench-decode: BATCH, BEAMS, RUNS >= 1 and MAX_LEN >= 2\n");
      return 2;
    }
  double bandwidth = copy_bandwidth ();

  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  if (!g_file_get_contents (argv[2], &text, NULL, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  g_auto (GStrv) lines = g_strsplit (g_strstrip (text), "\n", -1);
  int n = (int) g_strv_length (lines);

  double t0 = now ();
  g_autoptr (ScModel) model = sc_model_load (argv[1], NULL, &error);
  if (model == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  double load_s = now () - t0;
  g_autoptr (ScView) view = sc_view_new (model, NULL, &error);
  g_assert (view != NULL);
  ScTokenizer *tok = sc_model_get_tokenizer (model);
  const ScConfig *c = sc_model_get_config (model);

  ScGenerateOptions opts;
  sc_generate_options_init (&opts, model);
  opts.num_beams = beams;
  opts.max_length = max_len;
  opts.forced_bos_id = sc_tokenizer_lang_id (tok, tgt, &error);
  if (opts.forced_bos_id < 0)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }

  g_autoptr (GString) json = g_string_new (NULL);
  g_autoptr (GString) ids_json = g_string_new ("[");
  g_string_append_printf (json, "{\"impl\": \"secateur\", \"batch\": %d, \"beams\": %d, "
                          "\"sentences\": %d, \"load_s\": %.4f, \"copy_bytes_s\": %.4g, \"runs_s\": [",
                          batch, beams, n, load_s, bandwidth);
  gint64 tokens = 0;
  /* What sc_translate_n marks: the encoder's products too may take the
   * backend's own kernels. */
  gboolean was = sc_backend_translating_begin ();
  for (int r = 0; r < runs; r++)
    {
      tokens = 0;
      t0 = now ();
      for (int first = 0; first < n; first += batch)
        {
          int B = MIN (batch, n - first), S = 0;
          g_autoptr (GPtrArray) rows =
              g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
          for (int b = 0; b < B; b++)
            {
              GArray *ids = sc_tokenizer_encode (tok, lines[first + b], "eng_Latn", &error);
              if (ids == NULL)
                {
                  fprintf (stderr, "%s\n", error->message);
                  return 1;
                }
              S = MAX (S, (int) ids->len);
              g_ptr_array_add (rows, ids);
            }
          g_autofree int *ids = g_new (int, (gsize) B * S);
          g_autofree int *lengths = g_new (int, B);
          for (int b = 0; b < B; b++)
            {
              GArray *row = rows->pdata[b];
              lengths[b] = row->len;
              for (int s = 0; s < S; s++)
                ids[b * S + s] = s < (int) row->len ? g_array_index (row, int, s) : c->pad_token_id;
            }
          g_autoptr (ScEncoding) enc = sc_view_encode (view, ids, lengths, B, S, &error);
          g_autoptr (GPtrArray) out = enc ? sc_generate (view, enc, &opts, NULL, &error) : NULL;
          if (out == NULL)
            {
              fprintf (stderr, "%s\n", error->message);
              return 1;
            }
          for (guint b = 0; b < out->len; b++)
            {
              GArray *o = g_ptr_array_index (out, b);
              tokens += o->len - 1;
              if (r == runs - 1)
                {
                  g_string_append (ids_json, first + b > 0 ? ", [" : "[");
                  for (guint k = 1; k < o->len; k++)
                    g_string_append_printf (ids_json, k > 1 ? ", %d" : "%d",
                                            g_array_index (o, int, k));
                  g_string_append (ids_json, "]");
                }
            }
        }
      g_string_append_printf (json, r > 0 ? ", %.4f" : "%.4f", now () - t0);
    }
  sc_backend_translating_end (was);
  g_string_append (ids_json, "]");

  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  g_string_append_printf (json, "], \"tokens\": %" G_GINT64_FORMAT ", \"peak_rss_mb\": %.1f, "
                          "\"ids\": %s}\n", tokens, ru.ru_maxrss / 1024.0, ids_json->str);
  fputs (json->str, stdout);
  return 0;
}
