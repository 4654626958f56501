/* bench-sparsegpt: SparseGPT on one n x n layer, as tools/sparsity_reference.py
 * `bench N` times it in PyTorch: the Hessian of 2048 calibration tokens, then
 * 50% unstructured pruning. Prints one JSON line with seconds and peak RSS.
 *
 *   build-X/bench/bench-sparsegpt N [--device cuda]
 *
 * With --device cuda the Hessian accumulates with cuBLAS and the inverse
 * Cholesky comes from cuSOLVER (the OBS column sweep stays on the CPU).
 */
#include "sc-backend-select.h"
#include "sc-sparsity.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

int
main (int argc, char **argv)
{
  int n = argc > 1 ? atoi (argv[1]) : 1024, rows = 2048;
  const char *device = argc > 3 && g_str_equal (argv[2], "--device") ? argv[3] : "cpu";
  GError *error = NULL;
  ScBackend *be = sc_backend_new (device, 0, NULL, &error);
  if (be == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  if (n < 8 || n % 8 != 0)
    {
      fprintf (stderr, "usage: bench-sparsegpt N (a multiple of 8)\n");
      return 2;
    }
  GRand *rand = g_rand_new_with_seed (0);
  float *W = g_new (float, (gsize) n *n);
  float *X = g_new (float, (gsize) rows *n);
  for (gsize i = 0; i < (gsize) n * n; i++)
    W[i] = (float) g_rand_double_range (rand, -1, 1);
  for (gsize i = 0; i < (gsize) rows * n; i++)
    X[i] = (float) g_rand_double_range (rand, -1, 1);

  gint64 t0 = g_get_monotonic_time ();
  ScLayerInputs *in = sc_layer_inputs_new_on (n, TRUE, be);
  for (int r = 0; r < rows; r += 128) /* as calibration samples arrive */
    sc_layer_inputs_add (in, X + (gsize) r * n, MIN (128, rows - r));
  float *H = sc_layer_inputs_hessian (in);
  gint64 t1 = g_get_monotonic_time ();
  ScSparsityPattern p = { 0.5, 0, 0 };
  ScSparsityReport rep;
  if (!sc_sparsity_sparsegpt_on (be, &p, W, n, n, H, NULL, &rep, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  gint64 t2 = g_get_monotonic_time ();
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  printf (
      "{\"device\": \"%s\", \"n\": %d, \"hessian_s\": %.4f, \"prune_s\": %.4f, \"pruned\": %.4f, "
      "\"peak_rss_mib\": %.1f}\n",
      be->name, n, (t1 - t0) / 1e6, (t2 - t1) / 1e6, (double) rep.n_pruned / rep.n_weights,
      ru.ru_maxrss / 1024.0);
  sc_layer_inputs_free (in);
  g_free (H);
  g_free (W);
  g_free (X);
  g_rand_free (rand);
  sc_backend_free (be);
  return 0;
}
