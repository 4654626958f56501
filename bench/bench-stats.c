/* bench-stats: statistics at the real model's scale, without the model.
 *
 * NLLB-200 MoE has 12 MoE layers x 128 experts. This builds statistics for
 * 202 languages (every language to and from English: 402 directions) from
 * synthetic router decisions, saves them, and times what a user waits for:
 * loading the file, merging two files, and selecting experts for a pair at
 * 80% (per language, importance, 3:1). Target: under one second each. */
#include "sc-expert-metrics.h"
#include "sc-languages.h"
#include "sc-selection.h"
#include "sc-stats.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>

/* after the other headers: it defines L, E and TOKENS */
#include "bench-synth-stats.h"

static double
now (void)
{
  return g_get_monotonic_time () / 1e6;
}

int
main (void)
{
  ScStatsShape shape = { "nllb-moe-54b-synthetic", 2048, 24, 24, L, L / 2, E };
  g_autoptr (ScStats) a = sc_stats_new (&shape);
  g_autoptr (ScStats) b = sc_stats_new (&shape);
  g_autoptr (GRand) rng = g_rand_new_with_seed (7);
  int dirs = 0;
  for (int i = 0; i < SC_N_NLLB_LANGUAGES; i++)
    {
      const char *x = sc_language_code (i);
      if (g_str_equal (x, "eng_Latn"))
        continue;
      g_autofree char *to = g_strdup_printf ("eng_Latn-%s", x);
      g_autofree char *from = g_strdup_printf ("%s-eng_Latn", x);
      fill (i % 2 ? a : b, to, rng);
      fill (i % 2 ? b : a, from, rng);
      dirs += 2;
    }
  g_autofree char *dir = g_dir_make_tmp ("secateur-bench-XXXXXX", NULL);
  g_autofree char *pa = g_build_filename (dir, "a.json", NULL);
  g_autofree char *pb = g_build_filename (dir, "b.json", NULL);
  sc_stats_save (a, pa, NULL);
  sc_stats_save (b, pb, NULL);
  GStatBuf sa;
  g_stat (pa, &sa);

  g_autoptr (GError) error = NULL;
  double t0 = now ();
  g_autoptr (ScStats) la = sc_stats_load (pa, &shape, &error);
  g_autoptr (ScStats) lb = sc_stats_load (pb, &shape, &error);
  double load = (now () - t0) / 2;
  g_assert_no_error (error);

  t0 = now ();
  sc_stats_merge (la, lb, &error);
  double merge = now () - t0;
  g_assert_no_error (error);

  t0 = now ();
  g_autofree double *metrics = sc_expert_metrics_for (
      la, SC_GRANULARITY_LANG, "fra_Latn", "deu_Latn", SC_EXPERT_METRIC_IMPORTANCE, &error);
  g_assert_no_error (error);
  ScSelectOptions opt;
  sc_select_options_init (&opt);
  opt.ratio = 0.8;
  g_autoptr (ScSelection) sel = sc_select_experts (metrics, L, L / 2, E, &opt, &error);
  double select = now () - t0;
  g_assert_no_error (error);

  printf ("| statistics | %d directions x %d layers x %d experts, %.1f MiB JSON per file |\n", dirs,
          L, E, sa.st_size / 1048576.0);
  printf ("| load one file | %.3f s |\n| merge two | %.3f s |\n", load, merge);
  printf (
      "| metrics + select (fra->deu, per language, importance, 80%%, 3:1) | %.3f s, %u kept |\n",
      select, sel->global_ids->len);
  g_unlink (pa);
  g_unlink (pb);
  g_rmdir (dir);
  return 0;
}
