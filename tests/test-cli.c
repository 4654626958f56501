/* test-cli.c: secateur-cli as a user runs it: info, translate through
 * stdin/stdout and through files, and errors on stderr with a non-zero
 * exit status. The binary comes from the SC_CLI environment variable. */
#include "sc-memory-plan.h"
#include "sc-model.h"
#include "sc-test-cli.h"
#include "sc-test-util.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *
fixture (const char *name)
{
  g_autofree char *rel = g_build_filename ("tests/fixtures", name, NULL);
  return sc_test_path (rel);
}

static void
test_info (void)
{
  g_autofree char *moe = fixture ("nllb-moe-tiny-54b-style");
  Run r = run_cli (NULL, "info", moe, NULL);
  g_assert_cmpint (r.status, ==, 0);
  /* 942,336 parameters: 8 experts x 4 MoE layers x 16,576 in experts. */
  g_assert_nonnull (strstr (r.out, "NLLB-200 Mixture-of-Experts"));
  g_assert_nonnull (strstr (r.out, "942336 total = 411904 dense + 530432 in experts"));
  g_assert_nonnull (strstr (r.out, "PyTorch zip (.bin), 4 file(s)"));
  g_assert_nonnull (strstr (r.out, "Languages:     202"));
  g_assert_nonnull (strstr (r.out, "eng_Latn"));
  run_clear (&r);

  g_autofree char *m2m = fixture ("m2m-tiny");
  r = run_cli (NULL, "info", m2m, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "NLLB-200 dense (M2M100)"));
  g_assert_nonnull (strstr (r.out, "476160 total = 476160 dense + 0 in experts"));
  g_assert_nonnull (strstr (r.out, "safetensors, 1 file(s)"));
  run_clear (&r);
}

static void
test_translate_stdio (void)
{
  g_autofree char *moe = fixture ("nllb-moe-tiny");
  const char *input = "All human beings are born free and equal in dignity and rights.\n"
                      "\n"
                      "Everyone has the right to education.\n";
  Run r = run_cli (input, "translate", "-m", moe, "-s", "eng_Latn", "-t", "fra_Latn", "--beam", "4",
                   "--max-len", "24", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_auto (GStrv) lines = g_strsplit (r.out, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 4); /* three lines and the final newline */
  g_assert_cmpstr (lines[1], ==, "");
  g_assert_cmpstr (lines[3], ==, "");
  g_assert_cmpuint (strlen (lines[0]), >, 0);

  /* The same through files gives the same text. */
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("secateur-cli-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *in = g_build_filename (dir, "in.txt", NULL);
  g_autofree char *out = g_build_filename (dir, "out.txt", NULL);
  g_file_set_contents (in, input, -1, &error);
  g_assert_no_error (error);
  Run f = run_cli (NULL, "translate", "-m", moe, "-s", "eng_Latn", "-t", "fra_Latn", "--beam", "4",
                   "--max-len", "24", "-i", in, "-o", out, NULL);
  g_assert_cmpint (f.status, ==, 0);
  g_autofree char *written = NULL;
  g_file_get_contents (out, &written, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (written, ==, r.out);
  g_unlink (in);
  g_unlink (out);
  g_rmdir (dir);
  run_clear (&f);
  run_clear (&r);
}

/* Batches are fitted to the memory: with --memory-gb too small for 16
 * sentences the command says which batch it uses (the engine's memory
 * plan's largest, as computed here) and still translates; with too little
 * for one sentence it refuses. */
static void
test_fit_batch (void)
{
  g_autofree char *moe = fixture ("nllb-moe-tiny");
  g_autoptr (GError) error = NULL;
  g_autoptr (ScModel) model = sc_model_load (moe, NULL, &error);
  g_assert_no_error (error);
  const ScConfig *c = sc_model_get_config (model);
  ScMemoryPlanOptions o;
  sc_memory_plan_options_init (&o);
  o.weight_dtype = sc_model_get_dtype (model);
  o.batch = 16;
  o.beams = 4;
  o.src_len = c->max_position_embeddings;
  o.tgt_len = 24;
  ScMemoryPlan plan;
  sc_memory_plan_compute (c, &o, &plan);
  /* room for about half of the batch */
  double gib =
      (plan.total_bytes - (plan.kv_cache_bytes + plan.activation_bytes) / 2) / 1073741824.0;
  int want = sc_memory_plan_max_batch (c, &o, (guint64) (gib * 1073741824.0), 16);
  g_assert_cmpint (want, >, 1);
  g_assert_cmpint (want, <, 16);
  g_autofree char *mem = g_strdup_printf ("%.9f", gib);
  Run r =
      run_cli ("Everyone has the right to education.\n", "translate", "-m", moe, "-s", "eng_Latn",
               "-t", "fra_Latn", "--beam", "4", "--max-len", "24", "--memory-gb", mem, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_autofree char *note = g_strdup_printf ("a batch of 16 does not fit in %.2f GiB of cpu memory: "
                                           "using %d",
                                           gib, want);
  g_test_message ("%s", r.err);
  g_assert_nonnull (strstr (r.err, note));
  g_assert_cmpuint (strlen (r.out), >, 1);
  run_clear (&r);

  r = run_cli ("x\n", "translate", "-m", moe, "-s", "eng_Latn", "-t", "fra_Latn", "--memory-gb",
               "0.0001", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "even for one sentence"));
  run_clear (&r);
}

static void
test_errors (void)
{
  g_autofree char *moe = fixture ("nllb-moe-tiny");

  Run r = run_cli ("x\n", "translate", "-m", moe, "-s", "eng_Latn", "-t", "tlh_Latn", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "unknown language code 'tlh_Latn'"));
  g_assert_cmpstr (r.out, ==, "");
  run_clear (&r);

  r = run_cli ("x\n", "translate", "-m", "/nonexistent/model", "-s", "eng_Latn", "-t", "fra_Latn",
               NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "config.json"));
  run_clear (&r);

  r = run_cli ("x\n", "translate", "-m", moe, "-s", "eng_Latn", NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "required"));
  run_clear (&r);

  r = run_cli ("caf\xc3\n", "translate", "-m", moe, "-s", "eng_Latn", "-t", "fra_Latn", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "UTF-8"));
  run_clear (&r);

  r = run_cli (NULL, "translate", "-m", moe, "-s", "eng_Latn", "-t", "fra_Latn", "-i",
               "/nonexistent/input.txt", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "input.txt"));
  run_clear (&r);

  r = run_cli (NULL, "frobnicate", NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "unknown command"));
  run_clear (&r);
}

/* calibrate writes additive statistics; export writes a smaller model that
 * loads and translates; both refuse bad input. */
static void
test_calibrate_export (void)
{
  g_autofree char *moe = fixture ("nllb-moe-tiny");
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("secateur-cli-XXXXXX", &error);
  g_autofree char *src = g_build_filename (dir, "src.txt", NULL);
  g_autofree char *tgt = g_build_filename (dir, "tgt.txt", NULL);
  g_autofree char *stats = g_build_filename (dir, "stats.json", NULL);
  g_file_set_contents (src, "All human beings are born free.\nEveryone has the right to life.\n",
                       -1, NULL);
  g_file_set_contents (tgt,
                       "Tous les êtres humains naissent libres.\nTout individu a droit à "
                       "la vie.\n",
                       -1, NULL);

  Run r = run_cli (NULL, "calibrate", "-m", moe, "-s", "eng_Latn", "-t", "fra_Latn", "--source",
                   src, "--target", tgt, "-o", stats, "-q", NULL);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);
  g_autoptr (JsonNode) once = sc_test_load_json (stats);
  JsonObject *d1 = json_object_get_object_member (
      json_object_get_object_member (json_node_get_object (once), "directions"),
      "eng_Latn-fra_Latn");
  gint64 tokens = json_array_get_int_element (json_object_get_array_member (d1, "tokens"), 0);
  g_assert_cmpint (tokens, >, 4);

  r = run_cli (NULL, "calibrate", "-m", moe, "-s", "eng_Latn", "-t", "fra_Latn", "--source", src,
               "--target", tgt, "-o", stats, "-q", "--append", NULL);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);
  g_autoptr (JsonNode) twice = sc_test_load_json (stats);
  JsonObject *d2 = json_object_get_object_member (
      json_object_get_object_member (json_node_get_object (twice), "directions"),
      "eng_Latn-fra_Latn");
  g_assert_cmpint (json_array_get_int_element (json_object_get_array_member (d2, "tokens"), 0), ==,
                   2 * tokens);

  r = run_cli (NULL, "calibrate", "-m", moe, "-s", "eng_Latn", "-t", "fra_Latn", "--source", src,
               "-o", stats, NULL);
  g_assert_cmpint (r.status, ==, 2);
  run_clear (&r);

  /* Sampled from the bundled UDHR across directions (Multilingual Brain
   * Surgeon proportions): every direction gets sentences. */
  g_autofree char *sampled = g_build_filename (dir, "sampled.json", NULL);
  r = run_cli (NULL, "calibrate", "-m", moe, "--pairs", "eng_Latn-fra_Latn,eng_Latn-hin_Deva",
               "--size", "6", "--max-len", "8", "-o", sampled, "-q", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.err, "hin_Deva"));
  run_clear (&r);
  g_autoptr (JsonNode) sj = sc_test_load_json (sampled);
  JsonObject *sd = json_object_get_object_member (json_node_get_object (sj), "directions");
  g_assert_cmpuint (json_object_get_size (sd), ==, 2);
  g_assert_true (json_object_has_member (sd, "eng_Latn-hin_Deva"));
  r = run_cli (NULL, "calibrate", "-m", moe, "--pairs", "eng_Latn-xxx_Latn", "-o", sampled, NULL);
  g_assert_cmpint (r.status, ==, 1);
  run_clear (&r);

  /* --shares: the table decides the split (a model's own training shares). */
  g_autofree char *shares = g_build_filename (dir, "shares.tsv", NULL);
  for (int flip = 0; flip < 2; flip++)
    {
      g_file_set_contents (shares,
                           flip ? "eng_Latn\t50\nfra_Latn\t1\nhin_Deva\t60\n"
                                : "eng_Latn\t50\nfra_Latn\t60\nhin_Deva\t1\n",
                           -1, NULL);
      r = run_cli (NULL, "calibrate", "-m", moe, "--pairs", "eng_Latn-fra_Latn,eng_Latn-hin_Deva",
                   "--size", "12", "--max-len", "8", "--shares", shares, "-o", sampled, "-q",
                   NULL);
      g_assert_cmpint (r.status, ==, 0);
      const char *f = strstr (r.err, "eng_Latn-fra_Latn");
      const char *h = strstr (r.err, "eng_Latn-hin_Deva");
      g_assert_nonnull (f);
      g_assert_nonnull (h);
      int nf = atoi (f + strlen ("eng_Latn-fra_Latn")), nh = atoi (h + strlen ("eng_Latn-hin_Deva"));
      g_assert_cmpint (nf + nh, ==, 12);
      if (flip)
        g_assert_cmpint (nh, >, nf);
      else
        g_assert_cmpint (nf, >, nh);
      run_clear (&r);
    }
  r = run_cli (NULL, "calibrate", "-m", moe, "--pairs", "eng_Latn-fra_Latn", "--shares",
               "/nonexistent/shares.tsv", "-o", sampled, "-q", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "/nonexistent/shares.tsv"));
  run_clear (&r);

  g_autofree char *keep = g_build_filename (dir, "keep.json", NULL);
  g_autofree char *out = g_build_filename (dir, "pruned", NULL);
  g_file_set_contents (keep, "[[0,2,5,7],[1,2,3,6],[0,1,4,6],[2,3,5,7]]", -1, NULL);
  r = run_cli (NULL, "export", "-m", moe, "--keep", keep, "-o", out, "--dry-run", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "64 expert tensors"));
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  run_clear (&r);
  r = run_cli (NULL, "export", "-m", moe, "--keep", keep, "-o", out, NULL);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);
  /* Masked translation with the authors' per-language index equals the
   * exported model's: encoder experts from eng_Latn, decoder from fra_Latn. */
  g_autofree char *index = g_build_filename (dir, "experts.json", NULL);
  g_file_set_contents (index,
                       "{\"eng_Latn\": [0,2,5,7,9,10,11,14,16,17,20,22,26,27,29,31],"
                       " \"fra_Latn\": [0,1,2,3,8,9,10,11,16,17,20,22,26,27,29,31]}",
                       -1, NULL);
  const char *line = "Everyone has the right to life, liberty and security of person.\n";
  Run masked = run_cli (line, "translate", "-m", moe, "-s", "eng_Latn", "-t", "fra_Latn",
                        "--experts", index, "--max-len", "16", NULL);
  Run pruned = run_cli (line, "translate", "-m", out, "-s", "eng_Latn", "-t", "fra_Latn",
                        "--max-len", "16", NULL);
  Run full = run_cli (line, "translate", "-m", moe, "-s", "eng_Latn", "-t", "fra_Latn", "--max-len",
                      "16", NULL);
  g_assert_cmpint (masked.status, ==, 0);
  g_assert_cmpint (pruned.status, ==, 0);
  g_assert_cmpstr (masked.out, ==, pruned.out);
  g_assert_cmpstr (masked.out, !=, full.out);
  run_clear (&masked);
  run_clear (&pruned);
  run_clear (&full);
  r = run_cli (NULL, "compare", "-m", moe, "--experts", index, "--pair", "eng_Latn-fra_Latn",
               "--limit", "2", "--max-len", "8", "--beam", "1", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "[2] source:"));
  g_assert_nonnull (strstr (r.out, "eng_Latn-fra_Latn, 2 sentences: chrF++"));
  run_clear (&r);
  r = run_cli (NULL, "evaluate", "-m", moe, "--experts", index, "--pairs", "eng_Latn-fra_Latn",
               "--limit", "2", "--max-len", "8", "--beam", "1", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "eng_Latn-fra_Latn        2"));
  run_clear (&r);
  r = run_cli (NULL, "evaluate", "-m", moe, "--experts", index, "--pairs", "eng_Latn-fra_Latn",
               "--limit", "3", "--metrics", "nll", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_auto (GStrv) nll_lines = g_strsplit (r.out, "\n", -1);
  g_assert_cmpuint (g_strv_length (nll_lines), ==, 5); /* header, 3 sentences, final newline */
  g_assert_true (g_str_has_prefix (nll_lines[3], "eng_Latn-fra_Latn\t3\t"));
  run_clear (&r);
  r = run_cli (NULL, "compare", "-m", moe, "--pair", "eng_Latn-fra_Latn", NULL);
  g_assert_cmpint (r.status, ==, 2);
  run_clear (&r);

  g_autofree char *out2 = g_build_filename (dir, "pruned2", NULL);
  r = run_cli (NULL, "export", "-m", moe, "--experts", index, "--pair", "eng_Latn-fra_Latn", "-o",
               out2, NULL);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);
  r = run_cli (line, "translate", "-m", out2, "-s", "eng_Latn", "-t", "fra_Latn", "--max-len", "16",
               NULL);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);
  /* Both directions between English and French: the union of their experts. */
  r = run_cli (NULL, "export", "-m", moe, "--experts", index, "--langs", "eng_Latn,fra_Latn",
               "--dry-run", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "expert tensors"));
  g_assert_null (strstr (r.out, " 64 expert tensors")); /* the union keeps more than one pair */
  run_clear (&r);

  r = run_cli (NULL, "info", out, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "676096 total = 410880 dense + 265216 in experts"));
  run_clear (&r);
  r = run_cli (NULL, "export", "-m", moe, "--keep", keep, "-o", out, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "already exists"));
  run_clear (&r);
  g_file_set_contents (keep, "[[0,2,5,7],[1,2,3,6],[0,1,4,6],[2,3,5,8]]", -1, NULL);
  r = run_cli (NULL, "export", "-m", moe, "--keep", keep, "-o", out, "--force", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "expert 8 does not exist"));
  run_clear (&r);

  sc_test_rm_tree (dir);
}

/* demo: calibrate, select, evaluate on the fixture, end to end. */
static void
test_demo (void)
{
  g_autofree char *moe = fixture ("nllb-moe-tiny");
  Run r = run_cli (NULL, "demo", "-m", moe, "--langs", "fra_Latn", "--size", "8", "--limit", "2",
                   "--beam", "1", "--max-len", "8", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "1. calibrated on 8 UDHR sentences over 2 directions"));
  g_assert_nonnull (strstr (r.out, "eng_Latn-fra_Latn"));
  g_assert_nonnull (strstr (r.out, "fra_Latn-eng_Latn"));
  g_assert_nonnull (strstr (r.out, "16/32"));
  g_assert_nonnull (strstr (r.out, "% saved"));
  run_clear (&r);

  /* calibration is sampled in proportion to the model's own training
   * shares when it ships language-shares.tsv (as the demo model does), as
   * in calibrate and the application: here German gets the one sentence
   * per direction every direction is owed, French the rest; NLLB-200's own
   * table (used before) gives German about as much as French */
  g_autoptr (GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("secateur-demo-XXXXXX", &error);
  g_assert_no_error (error);
  sc_test_copy_files (moe, tmp, NULL);
  g_autofree char *shares = g_build_filename (tmp, "language-shares.tsv", NULL);
  g_assert_true (
      g_file_set_contents (shares, "eng_Latn\t0.5\nfra_Latn\t0.5\ndeu_Latn\t0.0001\n", -1, NULL));
  const char *table_dirs[] = { tmp, moe };
  for (guint t = 0; t < 2; t++)
    {
      r = run_cli (NULL, "demo", "-m", table_dirs[t], "--langs", "fra_Latn,deu_Latn", "--size",
                   "20", "--limit", "1", "--beam", "1", "--max-len", "4", NULL);
      g_assert_cmpint (r.status, ==, 0);
      static const char *const lines[] = { "eng_Latn-deu_Latn   1 of", "deu_Latn-eng_Latn   1 of",
                                           "eng_Latn-fra_Latn   9 of", "fra_Latn-eng_Latn   9 of" };
      for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
        if (t == 0)
          g_assert_nonnull (strstr (r.err, lines[i]));
        else
          g_assert_null (strstr (r.err, lines[i]));
      g_assert_nonnull (strstr (r.err, "20 samples from 4 of 4 directions"));
      run_clear (&r);
    }
  sc_test_rm_tree (tmp);

  g_autofree char *m2m = fixture ("m2m-tiny");
  r = run_cli (NULL, "demo", "-m", m2m, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "no experts"));
  run_clear (&r);
  r = run_cli (NULL, "demo", "-m", moe, "--ratio", "1.5", NULL);
  g_assert_cmpint (r.status, ==, 2);
  run_clear (&r);
}

/* `info` on a configuration whose encoder and decoder differ and whose
 * encoder has no MoE layer. */
static void
test_info_shapes (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("secateur-cli-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *src = fixture ("nllb-moe-tiny");
  g_autofree char *cfg_path = g_build_filename (src, "config.json", NULL);
  g_autoptr (JsonNode) cfg = sc_test_load_json (cfg_path);
  JsonObject *o = json_node_get_object (cfg);
  json_object_set_int_member (o, "decoder_attention_heads", 2);
  json_object_set_int_member (o, "decoder_ffn_dim", 256);
  json_object_set_int_member (o, "encoder_sparse_step", 0);
  g_autofree char *text = json_to_string (cfg, TRUE);
  g_autofree char *out = g_build_filename (dir, "config.json", NULL);
  g_assert_true (g_file_set_contents (out, text, -1, NULL));

  Run r = run_cli (NULL, "info", dir, "--memory-gb", "32", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "Layers:        4 encoder (4 heads, FFN 128) + 4 decoder "
                                   "(2 heads, FFN 256), d_model 64\n"));
  g_assert_nonnull (strstr (r.out, "Experts:       8 per MoE layer, 2 MoE layers (no encoder MoE "
                                   "layer / every 2 decoder layer)\n"));
  g_assert_null (strstr (r.out, "every 0"));
  run_clear (&r);
  sc_test_rm_tree (dir);
}

/* The special tokens a generation_config.json must name. */
#define SPECIALS "\"decoder_start_token_id\": 2, \"eos_token_id\": 2, \"pad_token_id\": 1"

/* A copy of nllb-moe-tiny whose generation_config.json is `gen`. */
static char *
model_with_generation (const char *gen)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("secateur-cli-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *src = fixture ("nllb-moe-tiny");
  sc_test_copy_files (src, dir, NULL);
  g_autofree char *path = g_build_filename (dir, "generation_config.json", NULL);
  g_assert_true (g_file_set_contents (path, gen, -1, NULL));
  return dir;
}

static guint
count (const char *haystack, const char *needle)
{
  guint n = 0;
  for (const char *p = haystack; (p = strstr (p, needle)) != NULL; p += strlen (needle))
    n++;
  return n;
}

/* Settings transformers would use that Secateur ignores or sets
 * differently are said once on stderr; --hf-defaults gives transformers'
 * default length. */
static void
test_generation_notices (void)
{
  const char *input = "Toute personne a droit à l’éducation.\n";
  g_autofree char *dir = model_with_generation ("{\"do_sample\": true, \"top_k\": 5, "
                                                "\"temperature\": 0.7, " SPECIALS "}");
  Run r = run_cli (input, "translate", "-m", dir, "-s", "fra_Latn", "-t", "eng_Latn", "--beam", "1",
                   NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpuint (count (r.err, "secateur-cli: generation_config.json: do_sample = true is "
                                  "ignored: Secateur decodes deterministically (greedy or beam "
                                  "search)\n"),
                    ==, 1);
  /* no max_length anywhere: Secateur's 200, said once */
  g_assert_cmpuint (count (r.err, "using Secateur's default of 200 tokens where transformers "
                                  "uses 20"),
                    ==, 1);
  g_auto (GStrv) longer = g_strsplit (r.out, "\n", -1);
  run_clear (&r);

  r = run_cli (input, "translate", "-m", dir, "-s", "fra_Latn", "-t", "eng_Latn", "--beam", "1",
               "--hf-defaults", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpuint (count (r.err, "using transformers' default of 20 tokens (--hf-defaults)"), ==,
                    1);
  g_assert_null (strstr (r.err, "Secateur's default"));
  g_auto (GStrv) shorter = g_strsplit (r.out, "\n", -1);
  run_clear (&r);
  /* the random model runs to the length limit on this sentence */
  g_assert_cmpuint (g_strv_length (shorter), ==, 2);
  g_assert_cmpuint (strlen (shorter[0]), <, strlen (longer[0]));

  /* evaluate takes the same defaults */
  r = run_cli (NULL, "evaluate", "-m", dir, "--pairs", "eng_Latn-fra_Latn", "--limit", "1",
               "--hf-defaults", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpuint (count (r.err, "using transformers' default of 20 tokens (--hf-defaults)"), ==,
                    1);
  run_clear (&r);

  /* an explicit --max-len needs no notice */
  r = run_cli (input, "translate", "-m", dir, "-s", "eng_Latn", "-t", "fra_Latn", "--max-len", "12",
               NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_null (strstr (r.err, "default of"));
  run_clear (&r);
  sc_test_rm_tree (dir);

  /* a refused setting stops before any input is read */
  g_autofree char *bad =
      model_with_generation ("{\"num_return_sequences\": 3, \"num_beams\": 4, " SPECIALS "}");
  r = run_cli (input, "translate", "-m", bad, "-s", "eng_Latn", "-t", "fra_Latn", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "generation_config.json: num_return_sequences = 3 is not "
                                   "supported: Secateur returns one translation per sentence\n"));
  g_assert_cmpstr (r.out, ==, "");
  run_clear (&r);
  sc_test_rm_tree (bad);
}


/* --batch 2147483647: the memory plan picks the largest batch that fits
 * (its search used to overflow int and never end). */
static void
test_huge_batch (void)
{
  g_autofree char *moe = fixture ("nllb-moe-tiny");
  Run r = run_cli ("Everyone has the right to education.\n", "translate", "-m", moe, "-s",
                   "eng_Latn", "-t", "fra_Latn", "--batch", "2147483647", "--memory-gb", "1", NULL);
  g_test_message ("%s", r.err);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.err, "a batch of 2147483647 does not fit in 1.00 GiB"));
  g_assert_cmpuint (strlen (r.out), >, 1);
  g_assert_nonnull (strchr (r.out, '\n'));
  g_assert_true (strchr (r.out, '\n')[1] == '\0'); /* one line in, one line out */
  run_clear (&r);
}

/* Every numeric option of every command, given a value that is not a
 * number, NaN, infinite, negative, zero where that means nothing, or
 * beyond its range: exit status 2 and a message naming the option, what it
 * takes and the value, before anything is loaded (one shared checker,
 * app/cli-options.c). */
static void
test_numeric_options (void)
{
  static const struct
  {
    const char *cmd, *sub, *option, *value, *says;
  } cases[] = {
    { "info", NULL, "--memory-gb", "nan", "a number from 0 to 1048576, not nan" },
    { "info", NULL, "--budget-gb", "-1", "a number from 0 to 1048576, not -1" },
    { "info", NULL, "--batch", "0", "an integer from 1 to 2147483647, not 0" },
    { "info", NULL, "--len", "99999999999", "an integer from 1 to 2147483647, not 99999999999" },
    { "info", NULL, "--beams", "1025", "an integer from 1 to 1024, not 1025" },
    { "translate", NULL, "--beam", "-1", "from 1 to 1024 (or 0: the model's default), not -1" },
    { "translate", NULL, "--max-len", "1", "from 2 to 1048576 (or 0: the model's default)" },
    { "translate", NULL, "--batch", "ten", "an integer from 1 to 2147483647, not “ten”" },
    { "translate", NULL, "--memory-gb", "nan", "a number from 0 to 1048576, not nan" },
    { "translate", NULL, "--expert-budget-gb", "inf", "a number from 0 to 1048576, not inf" },
    { "calibrate", NULL, "--size", "0", "an integer from 1 to 1048576, not 0" },
    { "calibrate", NULL, "--seed", "1.5", "not “1.5”" },
    { "calibrate", NULL, "--batch", "-5", "not -5" },
    { "calibrate", NULL, "--beam", "0", "an integer from 1 to 1024, not 0" },
    { "calibrate", NULL, "--max-len", "1", "not 1" },
    { "compare", NULL, "--limit", "0", "an integer from 1 to 2147483647, not 0" },
    { "compare", NULL, "--beam", "-2", "not -2" },
    { "compare", NULL, "--max-len", "1", "not 1" },
    { "demo", NULL, "--ratio", "1", "a number from 0 to below 1, not 1" },
    { "demo", NULL, "--size", "-3", "not -3" },
    { "demo", NULL, "--limit", "0", "not 0" },
    { "demo", NULL, "--beam", "5000", "not 5000" },
    { "demo", NULL, "--max-len", "1", "an integer from 2 to 1048576, not 1" },
    { "evaluate", NULL, "--limit", "-1", "(or 0: every sentence), not -1" },
    { "evaluate", NULL, "--beam", "-1", "not -1" },
    { "evaluate", NULL, "--max-len", "1", "not 1" },
    { "export", NULL, "--shard-mb", "-1", "(or 0: one file), not -1" },
    { "generate", NULL, "--max-new", "0", "an integer from 1 to 2147483647, not 0" },
    { "select", NULL, "--ratio", "-0.1", "a number from 0 to below 1, not -0.1" },
    { "select", NULL, "--ratio", "nan", "a number from 0 to below 1, not nan" },
    { "select", NULL, "--keep", "0", "an integer from 1 to 2147483647, not 0" },
    { "select", NULL, "--memory-gb", "nan", "a number above 0 and at most 1048576, not nan" },
    { "select", NULL, "--memory-gb", "0", "a number above 0 and at most 1048576, not 0" },
    { "select", NULL, "--bytes-per-expert", "0", "not 0" },
    { "select", NULL, "--dense-bytes", "-1", "not -1" },
    { "select", NULL, "--min-per-layer", "-1", "not -1" },
    { "sparsify", NULL, "--samples", "0", "an integer from 1 to 1048576, not 0" },
    { "sparsify", NULL, "--seqlen", "3", "not 3" },
    { "sparsify", NULL, "--seed", "x", "not “x”" },
    { "perplexity", NULL, "--limit", "-1", "(or 0: every held-out paragraph), not -1" },
    { "perplexity", NULL, "--threshold", "nan", "a number of at least 0, not nan" },
    { "perplexity", NULL, "--threshold", "-0.5", "a number of at least 0, not -0.5" },
    { "stats", "show", "--top", "0", "not 0" },
    { "stats", "specialisation", "--top-k", "-1", "not -1" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      Run r = cases[i].sub ? run_cli (NULL, cases[i].cmd, cases[i].sub, cases[i].option,
                                      cases[i].value, NULL)
                           : run_cli (NULL, cases[i].cmd, cases[i].option, cases[i].value, NULL);
      g_test_message ("%s %s %s: %d %s", cases[i].cmd, cases[i].option, cases[i].value, r.status,
                      r.err);
      g_autofree char *says = g_strdup_printf ("%s must be ", cases[i].option);
      g_assert_cmpint (r.status, ==, 2);
      g_assert_nonnull (strstr (r.err, says));
      g_assert_nonnull (strstr (r.err, cases[i].says));
      run_clear (&r);
    }
}

static void
on_communicated (GObject *proc, GAsyncResult *res, gpointer data)
{
  Run *r = data;
  g_autoptr (GError) error = NULL;
  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (proc), res, &r->out, &r->err, &error);
  r->status = g_subprocess_get_if_exited (G_SUBPROCESS (proc))
                  ? g_subprocess_get_exit_status (G_SUBPROCESS (proc))
                  : -1;
}

static gboolean
on_timeout (gpointer proc)
{
  g_subprocess_force_exit (proc);
  return G_SOURCE_REMOVE;
}

/* secateur-cli `argv`, killed after 60 s: a reader blocking on a FIFO
 * fails the test instead of hanging it. status is -1 when killed. */
static Run
run_cli_limited (const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (gpointer) g_getenv ("SC_CLI"));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) proc =
      g_subprocess_newv ((const char *const *) argv->pdata,
                         G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  Run r = { .status = G_MININT };
  g_timeout_add_seconds (60, on_timeout, proc);
  g_subprocess_communicate_utf8_async (proc, NULL, NULL, on_communicated, &r);
  while (r.status == G_MININT)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove_by_user_data (proc);
  return r;
}

/* --keep and --experts files nested 100,000 deep, a FIFO, a symlink to
 * /dev/zero and one past the size limit: exit 1 promptly, saying why. */
static void
test_hostile_expert_files (void)
{
  g_autofree char *moe = fixture ("nllb-moe-tiny");
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("secateur-cli-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *path = g_build_filename (dir, "mask.json", NULL);
  g_autofree char *out = g_build_filename (dir, "pruned", NULL);
  static const char *const expect[] = { "nested too deeply", "is a FIFO, not a regular file",
                                        "is a character device, not a regular file", "too large" };
  for (int opt = 0; opt < 2; opt++)
    for (int kind = 0; kind < 4; kind++)
      {
        g_unlink (path);
        if (kind == 0)
          {
            g_autofree char *deep = g_strnfill (100000, '[');
            g_file_set_contents (path, deep, -1, &error);
            g_assert_no_error (error);
          }
        else if (kind == 1)
          g_assert_cmpint (mkfifo (path, 0600), ==, 0);
        else if (kind == 2)
          g_assert_cmpint (symlink ("/dev/zero", path), ==, 0);
        else
          {
            g_file_set_contents (path, "[]", -1, &error);
            g_assert_no_error (error);
            g_assert_cmpint (truncate (path, (opt == 0 ? 16 : 64) * 1048576 + 1), ==, 0);
          }
        const char *args[] = { "export", "-m",
                               moe,      opt == 0 ? "--keep" : "--experts",
                               path,     "-o",
                               out,      "--dry-run",
                               "--pair", "eng_Latn-fra_Latn",
                               NULL };
        if (opt == 0)
          args[8] = NULL; /* --keep takes no pair */
        Run r = run_cli_limited (args);
        g_test_message ("%s, case %d: status %d, %s", args[3], kind, r.status, r.err);
        g_assert_cmpint (r.status, ==, 1);
        g_assert_nonnull (strstr (r.err, "mask.json"));
        g_assert_nonnull (strstr (r.err, expect[kind]));
        if (kind == 3)
          g_assert_nonnull (strstr (r.err, opt == 0 ? "limit is 16 MiB" : "limit is 64 MiB"));
        run_clear (&r);
      }
  g_unlink (path);
  sc_test_rm_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cli/info", test_info);
  g_test_add_func ("/cli/info-shapes", test_info_shapes);
  g_test_add_func ("/cli/generation-notices", test_generation_notices);
  g_test_add_func ("/cli/translate-stdio", test_translate_stdio);
  g_test_add_func ("/cli/errors", test_errors);
  g_test_add_func ("/cli/fit-batch", test_fit_batch);
  g_test_add_func ("/cli/huge-batch", test_huge_batch);
  g_test_add_func ("/cli/numeric-options", test_numeric_options);
  g_test_add_func ("/cli/calibrate-export", test_calibrate_export);
  g_test_add_func ("/cli/demo", test_demo);
  g_test_add_func ("/cli/hostile-expert-files", test_hostile_expert_files);
  return g_test_run ();
}
