/* bench-mpi-reduce: what `calibrate` under mpirun pays at the end, for the
 * 54B model's statistics (402 directions x 12 MoE layers x 128 experts).
 *
 *   mpirun -n N build/bench/bench-mpi-reduce
 *
 * Every rank fills statistics of that shape from synthetic router
 * decisions (its own seed), then all reduce them to rank 0 as calibrate
 * does (sc_distributed_reduce_stats: each rank's JSON gathered, read back
 * and added in rank order). Rank 0 prints the bytes it received, the time
 * of the transfer alone and of the whole reduce. */
#include "sc-distributed.h"
#include "sc-languages.h"
#include "sc-stats.h"

#include <math.h>
#include <stdio.h>

/* after the other headers: it defines L, E and TOKENS */
#include "bench-synth-stats.h"

int
main (int argc, char **argv)
{
  sc_distributed_init (&argc, &argv);
  ScStatsShape shape = { "nllb-moe-54b-synthetic", 2048, 24, 24, L, L / 2, E };
  g_autoptr (ScStats) stats = sc_stats_new (&shape);
  g_autoptr (GRand) rng = g_rand_new_with_seed (7 + sc_distributed_rank ());
  int dirs = 0;
  for (int i = 0; i < SC_N_NLLB_LANGUAGES; i++)
    {
      const char *x = sc_language_code (i);
      if (g_str_equal (x, "eng_Latn"))
        continue;
      g_autofree char *to = g_strdup_printf ("eng_Latn-%s", x);
      g_autofree char *from = g_strdup_printf ("%s-eng_Latn", x);
      fill (stats, to, rng);
      fill (stats, from, rng);
      dirs += 2;
    }
  gsize bytes = 0;
  g_autofree char *json = sc_stats_to_json (stats, &bytes, NULL);
  /* the transfer alone: the same bytes gathered, not read */
  sc_distributed_all (TRUE);
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr (GPtrArray) moved = sc_distributed_gather (json, bytes);
  double gather = (g_get_monotonic_time () - t0) / 1e6;
  g_clear_pointer (&moved, g_ptr_array_unref);
  g_clear_pointer (&json, g_free);
  sc_distributed_all (TRUE); /* every rank ready: time the reduce alone */
  g_autoptr (GError) error = NULL;
  t0 = g_get_monotonic_time ();
  gboolean ok = sc_distributed_reduce_stats (stats, &error);
  double s = (g_get_monotonic_time () - t0) / 1e6;
  if (!ok)
    fprintf (stderr, "bench-mpi-reduce: %s\n", error->message);
  else if (sc_distributed_rank () == 0)
    printf ("| %d | %d x %d x %d | %.1f MiB | %.1f MiB | %.2f s | %.2f s |\n",
            sc_distributed_size (), dirs, L, E, bytes / 1048576.0,
            (sc_distributed_size () - 1) * bytes / 1048576.0, gather, s);
  return sc_distributed_finish (ok ? 0 : 1);
}
