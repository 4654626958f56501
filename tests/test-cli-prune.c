/* test-cli-prune.c: secateur-cli stats merge / show and select, run as a
 * user runs them on statistics files written by the engine. The binary
 * comes from the SC_CLI environment variable. */
#include "sc-test-cli.h"
#include "sc-test-util.h"
#include "sc-expert-index.h"
#include "sc-stats.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#define L 4
#define NENC 2
#define E 8

static const ScStatsShape shape = {
  .name = "tiny-moe",
  .d_model = 16,
  .encoder_layers = 4,
  .decoder_layers = 4,
  .n_moe_layers = L,
  .n_encoder_moe = NENC,
  .n_experts = E,
};

/* Every token of layer l goes to experts (l + k) % E and (l + k + 1) % E,
 * k = 0 for eng->fra and 4 for fra->eng, with a peaked distribution. */
static void
feed (ScStats *s, const char *dir, int k, int n)
{
  for (int l = 0; l < L; l++)
    {
      g_autofree float *p = g_new0 (float, n *E);
      g_autofree int *t1 = g_new (int, n), *t2 = g_new (int, n);
      for (int t = 0; t < n; t++)
        {
          t1[t] = (l + k) % E;
          t2[t] = (l + k + 1) % E;
          for (int e = 0; e < E; e++)
            p[t * E + e] = 0.2f / (E - 2);
          p[t * E + t1[t]] = 0.6f;
          p[t * E + t2[t]] = 0.2f;
        }
      g_assert_true (sc_stats_add_tokens (s, dir, l, l >= NENC, n, p, t1, t2, NULL, NULL, NULL,
                                          NULL, NULL, NULL));
    }
}

static void
test_merge_select (void)
{
  g_autofree char *dir = g_dir_make_tmp ("sc-cli-prune-XXXXXX", NULL);
  g_autofree char *a = g_build_filename (dir, "a.json", NULL);
  g_autofree char *b = g_build_filename (dir, "b.json", NULL);
  g_autofree char *merged = g_build_filename (dir, "merged.json", NULL);
  g_autofree char *experts = g_build_filename (dir, "experts.json", NULL);
  g_autofree char *glob = g_build_filename (dir, "global.json", NULL);
  {
    g_autoptr (ScStats) sa = sc_stats_new (&shape);
    g_autoptr (ScStats) sb = sc_stats_new (&shape);
    feed (sa, "eng_Latn-fra_Latn", 0, 10);
    feed (sb, "eng_Latn-fra_Latn", 0, 5);
    feed (sb, "fra_Latn-eng_Latn", 4, 7);
    g_assert_true (sc_stats_save (sa, a, NULL));
    g_assert_true (sc_stats_save (sb, b, NULL));
  }

  Run r = run_cli (NULL, "stats", "merge", a, b, "-o", merged, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "2 direction(s)"));
  run_clear (&r);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScStats) m = sc_stats_load (merged, &shape, &error);
  g_assert_no_error (error);
  g_autoptr (ScStatsCounters) ef = sc_stats_get_pair (m, "eng_Latn-fra_Latn", NULL);
  g_assert_cmpuint (ef->tokens[0], ==, 15);
  g_assert_cmpuint (ef->top1[0 * E + 0], ==, 15);

  r = run_cli (NULL, "stats", "show", merged, "--top", "2", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "tiny-moe"));
  g_assert_nonnull (strstr (r.out, "fra_Latn-eng_Latn    E0=7 E1=7 D0=7 D1=7"));
  g_assert_nonnull (strstr (r.out, "layer  0 (E0) 0:"));
  run_clear (&r);

  /* per language, 50% pruned 1:1: 4 of 8 per layer; keep count 16 */
  r = run_cli (NULL, "select", "--stats", merged, "--ratio", "0.5", "--enc-dec", "1:1", "--metric",
               "importance", "-o", experts, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "Selected 16 of 32"));
  run_clear (&r);
  g_autoptr (ScExpertIndex) idx = sc_expert_index_load (experts, L, NENC, E, &error);
  g_assert_no_error (error);
  g_auto (GStrv) keys = sc_expert_index_keys (idx);
  g_assert_cmpuint (g_strv_length (keys), ==, 2);
  /* eng as source: layer 0 top1 expert 0 (eng-fra), layer 1 expert 1;
   * fra as target (decoder layers 2, 3): experts 2 and 3. */
  GArray *eng = sc_expert_index_get (idx, "eng_Latn");
  g_assert_cmpuint (eng->len, ==, 16);
  gboolean has0 = FALSE, has9 = FALSE;
  for (guint i = 0; i < eng->len; i++)
    {
      has0 |= g_array_index (eng, int, i) == 0;
      has9 |= g_array_index (eng, int, i) == 1 * E + 1;
    }
  g_assert_true (has0 && has9);
  g_autoptr (GArray) pair = sc_expert_index_for_pair (idx, "eng_Latn", "fra_Latn", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pair->len, ==, 16);

  /* --uniform: 30% pruned keeps floor(32 x 0.7 / 4) = 5 in every layer, where
   * the default 3:1 keeps 6 per encoder and 2 per decoder layer */
  g_autofree char *uni = g_build_filename (dir, "uniform.json", NULL);
  r = run_cli (NULL, "select", "--stats", merged, "--ratio", "0.3", "--uniform", "-o", uni, NULL);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);
  g_autoptr (ScExpertIndex) ui = sc_expert_index_load (uni, L, NENC, E, &error);
  g_assert_no_error (error);
  g_autoptr (GArray) up = sc_expert_index_for_pair (ui, "eng_Latn", "fra_Latn", &error);
  g_assert_no_error (error);
  int per_layer[L] = { 0 };
  for (guint i = 0; i < up->len; i++)
    per_layer[g_array_index (up, int, i) / E]++;
  for (int l = 0; l < L; l++)
    g_assert_cmpint (per_layer[l], ==, 5);
  r = run_cli (NULL, "select", "--stats", merged, "--ratio", "0.3", "--uniform", "--algo",
               "threshold", "-o", uni, NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "--uniform"));
  run_clear (&r);
  g_unlink (uni);

  /* global threshold, written as a plain list */
  r = run_cli (NULL, "select", "--stats", merged, "--keep", "12", "--algo", "threshold",
               "--min-per-layer", "2", "--granularity", "global", "-o", glob, NULL);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);
  g_autoptr (ScExpertIndex) gi = sc_expert_index_load (glob, L, NENC, E, &error);
  g_assert_no_error (error);
  g_assert_true (sc_expert_index_is_global (gi));
  g_assert_cmpuint (sc_expert_index_get (gi, NULL)->len, ==, 12);

  /* memory budget smaller than the dense part */
  r = run_cli (NULL, "select", "--stats", merged, "--memory-gb", "1", "--bytes-per-expert", "1000",
               "--dense-bytes", "2000000000", "-o", glob, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "dense"));
  run_clear (&r);

  /* bad ratios (a usage error that says what is wrong), bad usage */
  static const char *const ratios[] = { "1.0", "-0.1", "nan" };
  for (guint i = 0; i < G_N_ELEMENTS (ratios); i++)
    {
      r = run_cli (NULL, "select", "--stats", merged, "--ratio", ratios[i], "-o", glob, NULL);
      g_assert_cmpint (r.status, ==, 2);
      g_autofree char *says =
          g_strdup_printf ("--ratio must be a number from 0 to below 1, not %s", ratios[i]);
      g_assert_nonnull (strstr (r.err, says));
      run_clear (&r);
    }
  r = run_cli (NULL, "select", "--stats", merged, "--keep", "0", "-o", glob, NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "--keep must be an integer from 1 to 2147483647, not 0"));
  run_clear (&r);
  r = run_cli (NULL, "select", "--stats", merged, "-o", glob, NULL);
  g_assert_cmpint (r.status, ==, 2);
  run_clear (&r);

  /* merging another model's statistics fails */
  {
    ScStatsShape other = shape;
    other.n_experts = 4;
    g_autoptr (ScStats) so = sc_stats_new (&other);
    g_assert_true (sc_stats_save (so, b, NULL));
  }
  r = run_cli (NULL, "stats", "merge", a, b, "-o", merged, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "different models"));
  run_clear (&r);

  const char *files[] = { a, b, merged, experts, glob };
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    g_unlink (files[i]);
  g_rmdir (dir);
}

/* Every token of every layer goes first to expert `e` with probability p,
 * second to the other of experts 0 and 1 with 1 - p. */
static void
feed_two (ScStats *s, const char *dir, int e, float p, int n)
{
  for (int l = 0; l < L; l++)
    {
      g_autofree float *probs = g_new0 (float, n *E);
      g_autofree int *t1 = g_new (int, n), *t2 = g_new (int, n);
      for (int t = 0; t < n; t++)
        {
          t1[t] = e;
          t2[t] = 1 - e;
          probs[t * E + e] = p;
          probs[t * E + 1 - e] = 1 - p;
        }
      g_assert_true (sc_stats_add_tokens (s, dir, l, l >= NENC, n, probs, t1, t2, NULL, NULL, NULL,
                                          NULL, NULL, NULL));
    }
}

static char *
select_to_text (const char *stats, const char *out, const char *const *extra)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  const char *base[] = { "select", "--stats", stats, "--keep", "4", "--enc-dec", "1:1", "-o", out };
  for (guint i = 0; i < G_N_ELEMENTS (base); i++)
    g_ptr_array_add (args, (gpointer) base[i]);
  for (guint i = 0; extra[i]; i++)
    g_ptr_array_add (args, (gpointer) extra[i]);
  g_assert_cmpuint (args->len, <=, 16);
  const char *a[16] = { 0 };
  for (guint i = 0; i < args->len; i++)
    a[i] = args->pdata[i];
  Run r = run_cli (NULL, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11],
                   a[12], a[13], a[14], a[15], NULL);
  g_assert_cmpint (r.status, ==, 0);
  gboolean noted = strstr (r.err, "note: top2") != NULL;
  run_clear (&r);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (out, &text, NULL, NULL));
  /* the ids only: the settings record is written last (tested apart) */
  char *meta = strstr (text, ",\"" SC_EXPERT_INDEX_META_KEY "\":");
  if (meta != NULL)
    strcpy (meta, "}");
  return g_strdup_printf ("%s%s", noted ? "noted " : "", text);
}

/* The authors' pipeline: their metric names, language statistics averaged
 * over directions, and a global list written per language. eng-fra: 10
 * tokens, expert 0 first (0.9), 1 second; eng-deu: 30 tokens, expert 1
 * first (0.6), 0 second. One expert kept per layer. */
static void
test_authors (void)
{
  g_autofree char *dir = g_dir_make_tmp ("sc-cli-authors-XXXXXX", NULL);
  g_autofree char *stats = g_build_filename (dir, "stats.json", NULL);
  g_autofree char *out = g_build_filename (dir, "experts.json", NULL);
  {
    g_autoptr (ScStats) s = sc_stats_new (&shape);
    feed_two (s, "eng_Latn-fra_Latn", 0, 0.9f, 10);
    feed_two (s, "eng_Latn-deu_Latn", 1, 0.6f, 30);
    g_assert_true (sc_stats_save (s, stats, NULL));
  }
  /* importance of eng's encoder experts: pooled, expert 1 (0.75 e^0.6 over
   * 0.25 e^0.9); averaged over the two directions, expert 0 (0.5 e^0.45
   * over 0.5 e^0.3). The decoder rows come from eng-fra alone. */
  const char *pool[] = { "--pairs", "eng_Latn-fra_Latn", NULL };
  g_autofree char *p = select_to_text (stats, out, pool);
  g_assert_cmpstr (p, ==, "{\"eng_Latn-fra_Latn\":[1,9,16,24]}");
  const char *mean[] = { "--pairs", "eng_Latn-fra_Latn", "--aggregate", "mean", NULL };
  g_autofree char *m = select_to_text (stats, out, mean);
  g_assert_cmpstr (m, ==, "{\"eng_Latn-fra_Latn\":[0,8,16,24]}");

  /* top2 is the rank-2 share (with a note); top1+top2 the paper's Top 2 */
  const char *top2[] = { "--granularity", "pair", "--pairs", "eng_Latn-fra_Latn", "--metric",
                         "top2", NULL };
  g_autofree char *t2 = select_to_text (stats, out, top2);
  g_assert_cmpstr (t2, ==, "noted {\"eng_Latn-fra_Latn\":[1,9,17,25]}");
  const char *top12[] = { "--granularity", "pair", "--pairs", "eng_Latn-fra_Latn", "--metric",
                          "top1+top2", NULL };
  g_autofree char *t12 = select_to_text (stats, out, top12);
  g_assert_cmpstr (t12, ==, "{\"eng_Latn-fra_Latn\":[0,8,16,24]}");

  /* global, written under every language seen, for pasero's reader */
  const char *as_langs[] = { "--granularity", "global", "--as-langs", NULL };
  g_autofree char *g = select_to_text (stats, out, as_langs);
  g_assert_cmpstr (g, ==,
                   "{\"deu_Latn\":[1,9,17,25],\"eng_Latn\":[1,9,17,25],"
                   "\"fra_Latn\":[1,9,17,25]}");
  const char *named[] = { "--granularity", "global", "--as-langs", "--langs", "zho_Hans", NULL };
  g_autofree char *gz = select_to_text (stats, out, named);
  g_assert_cmpstr (gz, ==, "{\"zho_Hans\":[1,9,17,25]}");

  Run r = run_cli (NULL, "select", "--stats", stats, "--keep", "4", "--as-langs", "-o", out, NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "--as-langs"));
  run_clear (&r);
  r = run_cli (NULL, "select", "--stats", stats, "--keep", "4", "--aggregate", "sum", "-o", out,
               NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "pool or mean"));
  run_clear (&r);
  sc_test_rm_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cli-prune/merge-select", test_merge_select);
  g_test_add_func ("/cli-prune/authors", test_authors);
  return g_test_run ();
}
