/* bench-sweep: the application's quality sweep, timed (issue 15: under a
 * minute on the demo model with the default settings).
 *
 *   bench-sweep MODEL_DIR [PAIRS] [STATS_JSON] [--sweep-only]
 *
 * PAIRS (default: English to and from German, French and Spanish, six
 * pairs) are calibrated as the application does by default (256
 * sentences, proportional sampling, teacher-forced; or STATS_JSON is read,
 * and written when it does not exist yet), then swept as the application
 * sweeps: the pruning page's default settings, 8 held-out sentences per
 * direction, outputs of at most 48 tokens, ratios 0, 25, 50, 75 and 90 %
 * (sc_sweep_job_run, the job the controller runs). The same points are then
 * run one evaluate job each with one sentence per batch, the unbatched
 * reference measured in the same run (left out with --sweep-only), and
 * their scores compared with the sweep's: they must be equal. Prints the
 * wall times, the CPU time of all threads (less disturbed by a loaded
 * machine) and the breakdown.
 */
#include "sc-calibrate-job.h"
#include "sc-sweep-job.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

static double
now (void)
{
  return g_get_monotonic_time () / 1e6;
}

/* User and system time of every thread of the process, in seconds. */
static double
cpu_time (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int
fail (GError *error)
{
  fprintf (stderr, "bench-sweep: %s\n", error->message);
  return 1;
}

int
main (int argc, char **argv)
{
  gboolean sweep_only = argc > 2 && g_str_equal (argv[argc - 1], "--sweep-only");
  if (sweep_only)
    argc--;
  if (argc < 2 || argc > 4)
    {
      fprintf (stderr, "usage: bench-sweep MODEL_DIR [PAIRS] [STATS_JSON] [--sweep-only]\n");
      return 2;
    }
  const char *pairs = argc > 2 && *argv[2]
                          ? argv[2]
                          : "eng_Latn-deu_Latn,deu_Latn-eng_Latn,eng_Latn-fra_Latn,"
                            "fra_Latn-eng_Latn,eng_Latn-spa_Latn,spa_Latn-eng_Latn";
  g_auto (GStrv) directions = g_strsplit (pairs, ",", -1);
  int n_dirs = g_strv_length (directions);
  g_autoptr (GError) error = NULL;

  double t0 = now ();
  g_autoptr (ScModel) model = sc_model_load (argv[1], NULL, &error);
  if (model == NULL)
    return fail (error);
  double load_s = now () - t0;

  t0 = now ();
  ScStats *stats = NULL;
  if (argc > 3 && g_file_test (argv[3], G_FILE_TEST_EXISTS))
    stats = sc_stats_load (argv[3], sc_model_get_moe_shape (model), &error);
  else
    {
      stats = sc_stats_new (sc_model_get_moe_shape (model));
      ScCalibrateJobOptions co;
      sc_calibrate_job_options_init (&co);
      co.directions = (const char *const *) directions;
      if (!sc_calibrate_job_run (model, &co, stats, NULL, NULL, NULL, NULL, &error))
        return fail (error);
      if (argc > 3 && !sc_stats_save (stats, argv[3], &error))
        return fail (error);
    }
  if (stats == NULL)
    return fail (error);
  double calibrate_s = now () - t0;

  /* the application's defaults: secateur-controller.c (eval limits 8 and
   * 48) and the prune settings' (sc_prune_settings_init) */
  ScSweepJobOptions o = {
    .directions = (const char *const *) directions, .stats = stats, .sentences = 8, .max_length = 48
  };
  sc_prune_settings_init (&o.settings);

  t0 = now ();
  double c0 = cpu_time ();
  g_autoptr (ScSweepJobResult) sweep = sc_sweep_job_run (model, &o, NULL, NULL, NULL, &error);
  if (sweep == NULL)
    return fail (error);
  double sweep_s = now () - t0, sweep_cpu = cpu_time () - c0;

  /* the reference: every point an evaluate job of its own, one sentence
   * per batch; the translation's share of it from the job's own clock */
  double ref_s = 0, ref_translate_s = 0;
  int mismatches = 0;
  t0 = now ();
  c0 = cpu_time ();
  for (int d = 0; d < n_dirs && !sweep_only; d++)
    {
      g_autofree char *src = NULL, *tgt = NULL;
      sc_stats_split_direction (directions[d], &src, &tgt);
      for (int k = 0; k < sweep->n_ratios; k++)
        {
          ScPruneSettings s = o.settings;
          s.ratio = sweep->ratios[k];
          g_autofree guint8 *keep =
              s.ratio > 0 ? sc_prune_keep_mask (stats, &s, src, tgt, &error) : NULL;
          if (s.ratio > 0 && keep == NULL)
            return fail (error);
          g_autoptr (ScExpertSet) experts = sc_evaluate_job_experts (model, keep);
          ScEvaluateJobOptions eo;
          sc_evaluate_job_options_init (&eo, model, src, tgt);
          eo.limit = o.sentences;
          eo.gen.num_beams = 1;
          eo.gen.max_length = MIN (eo.gen.max_length, o.max_length);
          eo.batch_size = 1;
          eo.full = experts == NULL;
          eo.experts = experts;
          g_autoptr (ScEvaluateJobResult) point =
              sc_evaluate_job_run (model, &eo, NULL, NULL, NULL, &error);
          if (point == NULL)
            return fail (error);
          ScEvaluateJobSide *side = point->has_full ? &point->full : &point->pruned;
          ref_translate_s += side->seconds;
          double got = sweep->scores[d * sweep->n_ratios + k];
          if (got != side->scores.chrf_pp)
            {
              mismatches++;
              printf ("MISMATCH %s at %.2f: sweep %.6f, unbatched %.6f\n", directions[d], s.ratio,
                      got, side->scores.chrf_pp);
            }
        }
    }
  ref_s = now () - t0;
  double ref_cpu = cpu_time () - c0;

  printf ("model %s: load %.2f s, calibration %.2f s (%d directions)\n", argv[1], load_s,
          calibrate_s, n_dirs);
  printf ("sweep (the application's job): %.2f s for %d points, CPU time %.2f s\n", sweep_s,
          n_dirs * sweep->n_ratios, sweep_cpu);
  if (!sweep_only)
    {
      printf ("reference (a job per point, batch 1): %.2f s, CPU time %.2f s, of which "
              "translation %.2f s\n",
              ref_s, ref_cpu, ref_translate_s);
      printf ("speed-up over the reference: %.2fx (CPU time %.2fx)\n", ref_s / sweep_s,
              ref_cpu / sweep_cpu);
    }
  printf ("chrF++ per ratio:");
  for (int k = 0; k < sweep->n_ratios; k++)
    printf (" %.0f%%=%.2f", 100 * sweep->ratios[k], sweep->chrf[k]);
  if (!sweep_only)
    printf ("\nscores equal to the reference's: %s", mismatches == 0 ? "yes" : "NO");
  printf ("\n");
  sc_stats_free (stats);
  return mismatches == 0 ? 0 : 1;
}
