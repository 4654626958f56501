/* bench-engine: Secateur's side of the speed/memory benchmark.
 *
 *   bench-engine MODEL_DIR SENTENCES_FILE BATCH MAX_LEN
 *
 * Prints one JSON object: load seconds, encoder tokens/s, greedy decode
 * tokens/s at the given batch size, and peak RSS. bench/run.sh runs it
 * beside bench/bench_hf.py on the same weights and reports ratios.
 */
#include "sc-generate.h"
#include "sc-model.h"

#include <stdio.h>
#include <sys/resource.h>

static double
now (void)
{
  return g_get_monotonic_time () / 1e6;
}

int
main (int argc, char **argv)
{
  if (argc != 5)
    {
      fprintf (stderr, "usage: bench-engine MODEL_DIR SENTENCES_FILE BATCH MAX_LEN\n");
      return 2;
    }
  int batch = atoi (argv[3]), max_len = atoi (argv[4]);
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  if (!g_file_get_contents (argv[2], &text, NULL, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  g_auto (GStrv) lines = g_strsplit (g_strstrip (text), "\n", -1);
  int n = MIN ((int) g_strv_length (lines), batch);

  double t0 = now ();
  g_autoptr (ScModel) model = sc_model_load (argv[1], NULL, &error);
  g_autoptr (ScView) view = model ? sc_view_new (model, NULL, NULL) : NULL;
  if (model == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  double load_s = now () - t0;
  ScTokenizer *tok = sc_model_get_tokenizer (model);
  const ScConfig *c = sc_model_get_config (model);

  /* One right-padded batch of `n` sentences. */
  int S = 0;
  g_autoptr (GPtrArray) enc_ids = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  for (int i = 0; i < n; i++)
    {
      GArray *ids = sc_tokenizer_encode (tok, lines[i], "eng_Latn", &error);
      g_assert_no_error (error);
      S = MAX (S, (int) ids->len);
      g_ptr_array_add (enc_ids, ids);
    }
  g_autofree int *ids = g_new (int, n *S);
  g_autofree int *lengths = g_new (int, n);
  int real_tokens = 0;
  for (int b = 0; b < n; b++)
    {
      GArray *row = g_ptr_array_index (enc_ids, b);
      lengths[b] = row->len;
      real_tokens += row->len;
      for (int s = 0; s < S; s++)
        ids[b * S + s] = s < (int) row->len ? g_array_index (row, int, s) : c->pad_token_id;
    }

  /* Encoder: repeat until a second has passed, for a stable rate. */
  int reps = 0;
  t0 = now ();
  do
    {
      g_autoptr (ScEncoding) enc = sc_view_encode (view, ids, lengths, n, S, &error);
      g_assert_no_error (error);
      reps++;
    }
  while (now () - t0 < 1.0);
  double encode_tps = real_tokens * reps / (now () - t0);

  g_autoptr (ScEncoding) enc = sc_view_encode (view, ids, lengths, n, S, &error);
  ScGenerateOptions opts;
  sc_generate_options_init (&opts, model);
  opts.num_beams = 1;
  opts.max_length = max_len;
  opts.forced_bos_id = sc_tokenizer_lang_id (tok, "fra_Latn", NULL);
  opts.forced_eos_id = -1;

  int generated = 0;
  reps = 0;
  t0 = now ();
  do
    {
      g_autoptr (GPtrArray) out = sc_generate (view, enc, &opts, NULL, &error);
      g_assert_no_error (error);
      for (guint b = 0; b < out->len; b++)
        generated += ((GArray *) g_ptr_array_index (out, b))->len - 1;
      reps++;
    }
  while (now () - t0 < 2.0);
  double decode_tps = generated / (now () - t0);

  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  printf ("{\"impl\": \"secateur\", \"batch\": %d, \"load_s\": %.4f, \"encode_tok_s\": %.1f, "
          "\"decode_tok_s\": %.1f, \"peak_rss_mb\": %.1f}\n",
          n, load_s, encode_tps, decode_tps, ru.ru_maxrss / 1024.0);
  return 0;
}
