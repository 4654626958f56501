/* bench-kernels: the CPU backend's few-row products (engine/backend/cpu/
 * sc-cpu-gemm.c) against the path they replace (OpenBLAS sgemv for
 * one row, sgemm for more; f16 weights widened a 1 MiB tile at a time
 * first), at the shapes of a d_model 1024 NLLB decoding step.
 *
 *   bench-kernels [--cpu-time] [--avx2] [REPS] [M...]   (default 5 repetitions, M = 1 4 16)
 *
 * Each line: shape, dtype, best of REPS for both paths in the same run,
 * their ratio, and the new kernel's bytes of weights per second against
 * this machine's copy bandwidth (the bound of a one-row product). Wall
 * times: run it on a quiet machine, or read only the ratios. --cpu-time
 * runs both paths on one thread and times the thread's CPU time instead,
 * which other processes on the machine disturb much less. --avx2 runs the
 * AVX2 kernels on a CPU that has AVX-512. */
#include "cpu/sc-cpu-gemm.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static gboolean cpu_time;
static ScCpuGemmIsa isa;

static double
now (void)
{
  if (cpu_time)
    {
      struct timespec ts;
      clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
      return ts.tv_sec + ts.tv_nsec / 1e9;
    }
  return g_get_monotonic_time () / 1e6;
}

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
      best = MAX (best, 2.0 * n / (now () - t0));
      a[r] = b[n - 1 - r];
    }
  g_free (a);
  g_free (b);
  return best;
}

/* The path before the kernels, as cpu_linear did it. */
static void
old_product (const float *x, int M, int K, const ScTensor *w, float *y, float *tile)
{
  int N = (int) w->shape[0];
  const float *wf = w->data;
  int rows = N;
  if (w->dtype != SC_DTYPE_F32)
    rows = MAX (1, MIN (N, 256 * 1024 / K));
  for (int n0 = 0; n0 < N; n0 += rows)
    {
      int nr = MIN (rows, N - n0);
      if (w->dtype != SC_DTYPE_F32)
        {
          sc_tensor_read_f32 (w, (int64_t) n0 * K, (int64_t) nr * K, tile);
          wf = tile;
        }
      else
        wf = (const float *) w->data + (gsize) n0 * K;
      if (M == 1)
        cblas_sgemv (CblasRowMajor, CblasNoTrans, nr, K, 1.0f, wf, K, x, 1, 0.0f, y + n0, 1);
      else
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, M, nr, K, 1.0f, x, K, wf, K, 0.0f,
                     y + n0, N);
    }
}

int
main (int argc, char **argv)
{
  isa = sc_cpu_gemm_isa ();
  for (; argc > 1 && g_str_has_prefix (argv[1], "--"); argc--, argv++)
    {
      if (strcmp (argv[1], "--cpu-time") == 0)
        {
          cpu_time = TRUE;
          openblas_set_num_threads (1);
        }
      else if (strcmp (argv[1], "--avx2") == 0)
        isa = MIN (isa, SC_CPU_GEMM_AVX2);
    }
  int reps = argc > 1 ? atoi (argv[1]) : 5;
  int ms[16] = { 1, 4, 16 }, n_ms = 3;
  if (argc > 2)
    {
      n_ms = 0;
      for (int i = 2; i < argc && n_ms < 16; i++)
        ms[n_ms++] = atoi (argv[i]);
    }
  static const int shapes[][2] = {
    { 1024, 1024 }, { 4096, 1024 }, { 1024, 4096 }, { 256206, 1024 }
  };
  int threads = openblas_get_num_threads ();
  double bw = copy_bandwidth ();
  printf ("threads %d (OpenBLAS's, %s kernels), copy bandwidth %.2f GB/s, best of %d%s, "
          "kernels %s\n",
          threads, openblas_get_corename (), bw / 1e9, reps, cpu_time ? ", thread CPU time" : "",
          isa == SC_CPU_GEMM_AVX512 ? "AVX-512" : isa == SC_CPU_GEMM_AVX2 ? "AVX2" : "none");
  printf ("%-22s %-5s %12s %12s %9s %11s %9s\n", "[M,K]x[N,K]", "dtype", "old ms", "new ms",
          "new/old", "new GB/s/bw", "GFLOP/s");

  GRand *rand = g_rand_new_with_seed (19);
  float *tile = g_new (float, 256 * 1024);
  for (gsize s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      int N = shapes[s][0], K = shapes[s][1];
      gsize numel = (gsize) N * K;
      float *wf = g_new (float, numel);
      for (gsize i = 0; i < numel; i++)
        wf[i] = (float) g_rand_double_range (rand, -0.05, 0.05);
      guint16 *wh = g_new (guint16, numel);
      for (gsize i = 0; i < numel; i++)
        wh[i] = sc_f32_to_f16 (wf[i]);
      int maxm = 1;
      for (int i = 0; i < n_ms; i++)
        maxm = MAX (maxm, ms[i]);
      float *x = g_new (float, (gsize) maxm *K);
      for (gsize i = 0; i < (gsize) maxm * K; i++)
        x[i] = (float) g_rand_double_range (rand, -1, 1);
      float *y = g_new (float, (gsize) maxm *N);

      for (int d = 0; d < 2; d++)
        {
          ScTensor w = { .dtype = d == 0 ? SC_DTYPE_F32 : SC_DTYPE_F16,
                         .n_dims = 2,
                         .shape = { N, K },
                         .data = d == 0 ? (void *) wf : (void *) wh };
          w.nbytes = numel * (d == 0 ? 4 : 2);
          for (int mi = 0; mi < n_ms; mi++)
            {
              int M = ms[mi];
              double best_old = 1e9, best_new = 1e9;
              for (int r = 0; r < reps; r++)
                {
                  double t0 = now ();
                  old_product (x, M, K, &w, y, tile);
                  best_old = MIN (best_old, now () - t0);
                  t0 = now ();
                  sc_cpu_gemm_with (isa, x, M, K, &w, FALSE, y, N, threads);
                  best_new = MIN (best_new, now () - t0);
                }
              char name[64];
              g_snprintf (name, sizeof name, "[%d,%d]x[%d,%d]", M, K, N, K);
              printf ("%-22s %-5s %12.3f %12.3f %9.3f %11.3f %9.1f\n", name,
                      d == 0 ? "f32" : "f16", best_old * 1e3, best_new * 1e3, best_new / best_old,
                      w.nbytes / best_new / bw, 2.0 * M * N * K / best_new / 1e9);
              fflush (stdout);
            }
        }
      g_free (wf);
      g_free (wh);
      g_free (x);
      g_free (y);
    }
  g_free (tile);
  g_rand_free (rand);
  return 0;
}
