/* bench-expert-cache: calibration speed under an expert memory budget.
 *
 *   bench-expert-cache [--device cuda[:N]] [DIR]
 *
 * Writes the synthetic sharded NLLB-MoE of tests/sc-test-synth-moe.h (1 GB,
 * experts 99.5%) to DIR (default: a temporary directory, removed at the
 * end) unless it is there already, then runs the same calibration-style
 * workload (encoder + teacher-forced decoder over random sentences, as
 * `calibrate` does) with the experts read in place from the mapping and
 * with expert budgets of 100%, 25% and 10%, each in a fresh child process.
 * It reports sentences/s, bytes copied per token and the peak RSS. With
 * --device cuda the budget is the GPU's: device memory for the dense part
 * plus that share of the experts, and the bytes are those uploaded over
 * PCIe. */
#include "sc-backend-select.h"
#include "sc-model.h"
#include "sc-view.h"
#include "sc-test-synth-moe.h"

#include <stdio.h>
#include <sys/resource.h>
#include <string.h>

#define N_SENT 16
#define BATCH 8
#define LEN 24

/* CPU seconds of this process (all threads): a rate that holds on a
 * machine shared with other jobs, where wall-clock time does not. */
static double
cpu_seconds (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static long
vm_hwm_kb (void)
{
  g_autofree char *status = NULL;
  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return -1;
  const char *p = strstr (status, "VmHWM:");
  return p ? atol (p + 6) : -1;
}

/* One configuration: prints "sent/s copied_bytes tokens hwm_kb". */
typedef void (*SetBudgetFunc) (ScBackend *be, guint64 bytes);
typedef guint64 (*UploadedFunc) (ScBackend *be);

static int
child (const char *device, const char *dir, double frac, guint64 dense_bytes, guint64 expert_bytes)
{
  g_autoptr (GError) error = NULL;
  gboolean cuda = !g_str_equal (device, "cpu");
  ScBackend *be = cuda ? sc_backend_new (device, 0, NULL, &error) : NULL;
  SetBudgetFunc set_budget =
      cuda ? sc_backend_cuda_symbol ("sc_cuda_backend_set_weight_budget", NULL) : NULL;
  UploadedFunc uploaded =
      cuda ? sc_backend_cuda_symbol ("sc_cuda_backend_uploaded_bytes", NULL) : NULL;
  if (cuda && (be == NULL || set_budget == NULL || uploaded == NULL))
    {
      fprintf (stderr, "%s\n", error ? error->message : "the CUDA module lacks the budget symbols");
      return 1;
    }
  g_autoptr (ScModel) model = sc_model_load (dir, be, &error);
  if (model != NULL && cuda && frac > 0)
    set_budget (be, dense_bytes + (guint64) (expert_bytes * frac));
  else if (model != NULL && frac > 0 &&
           !sc_model_set_expert_budget (model, (guint64) (expert_bytes * frac), &error))
    g_clear_pointer (&model, sc_model_free);
  if (model == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  g_autoptr (ScView) view = sc_view_new (model, NULL, NULL);
  int V = sc_model_get_config (model)->vocab_size;
  guint64 s = 5, tokens = 0;
  gint64 t0 = g_get_monotonic_time ();
  double c0 = cpu_seconds ();
  for (int first = 0; first < N_SENT; first += BATCH)
    {
      int ids[BATCH * LEN], lengths[BATCH], target[BATCH * LEN], rows[BATCH];
      for (int b = 0; b < BATCH; b++)
        {
          lengths[b] = LEN;
          rows[b] = b;
          for (int t = 0; t < LEN; t++)
            {
              ids[b * LEN + t] = t == LEN - 1 ? 2 : 4 + (int) (synth_next (&s) % 2000);
              target[b * LEN + t] = t == 0 ? 2 : 4 + (int) (synth_next (&s) % 2000);
            }
        }
      g_autoptr (ScEncoding) enc = sc_view_encode (view, ids, lengths, BATCH, LEN, &error);
      g_autoptr (ScDecoder) dec = enc ? sc_decoder_new (view, enc, BATCH, rows, LEN, &error) : NULL;
      g_autofree float *logits = g_new (float, (gsize) BATCH *LEN *V);
      if (dec == NULL || !sc_decoder_forward (dec, target, LEN, logits, FALSE, &error))
        {
          fprintf (stderr, "%s\n", error->message);
          return 1;
        }
      tokens += 2 * BATCH * LEN;
    }
  double secs = (g_get_monotonic_time () - t0) / 1e6, cpu = cpu_seconds () - c0;
  ScExpertCacheStats st = { 0 };
  if (cuda)
    st.bytes_copied = uploaded (be);
  else if (sc_model_get_expert_cache (model) != NULL)
    sc_expert_cache_get_stats (sc_model_get_expert_cache (model), &st);
  printf ("%.3f %.3f %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %ld\n", N_SENT / secs,
          N_SENT / cpu, st.bytes_copied, tokens, vm_hwm_kb ());
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc == 7 && g_str_equal (argv[1], "--child"))
    return child (argv[2], argv[3], g_ascii_strtod (argv[4], NULL),
                  g_ascii_strtoull (argv[5], NULL, 10), g_ascii_strtoull (argv[6], NULL, 10));

  const char *device = "cpu";
  if (argc >= 3 && g_str_equal (argv[1], "--device"))
    {
      device = argv[2];
      argv += 2, argc -= 2;
      g_autoptr (GError) error = NULL;
      int n = sc_backend_cuda_devices (&error);
      if (n <= 0)
        {
          printf ("bench-expert-cache: no CUDA device (%s)\n",
                  n < 0 ? error->message : "the driver reports none");
          return 0;
        }
    }
  gboolean temp = argc < 2;
  g_autofree char *dir = temp ? g_dir_make_tmp ("secateur-bench-XXXXXX", NULL) : g_strdup (argv[1]);
  g_autofree char *dir_model = g_build_filename (dir, "synth-moe", NULL);
  g_setenv ("SC_SRCDIR", SC_SRCDIR, FALSE);
  ScSynthMoe p = sc_synth_moe_default ();
  guint64 dense = 0, experts = 0;
  g_autofree char *config = g_build_filename (dir_model, "config.json", NULL);
  gint64 t0 = g_get_monotonic_time ();
  /* The generator is deterministic: an existing copy is the same model. */
  sc_test_rm_tree (dir_model);
  sc_synth_moe_write (&p, dir_model, &dense, &experts);
  printf ("synthetic NLLB-MoE: d %d, %d+%d layers, %d experts x %d MoE layers, dense %.1f MiB, "
          "experts %.1f MiB (written in %.1f s)\n",
          p.d_model, p.layers, p.layers, p.experts, 2 * p.layers / p.sparse_step, dense / 1048576.0,
          experts / 1048576.0, (g_get_monotonic_time () - t0) / 1e6);
  printf ("workload: %d sentences, batch %d, %d source + %d target tokens, teacher forcing; "
          "device %s\n\n",
          N_SENT, BATCH, LEN, LEN, device);
  printf ("| experts in memory | sentences/s (wall) | sentences per CPU-second | "
          "bytes copied / token | peak RSS MiB |\n");
  printf ("|---|---|---|---|---|\n");
  fflush (stdout);

  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  const double fracs[] = { 0.0, 1.0, 0.25, 0.10 };
  for (guint i = 0; i < G_N_ELEMENTS (fracs); i++)
    {
      g_autofree char *f = g_strdup_printf ("%g", fracs[i]);
      g_autofree char *d = g_strdup_printf ("%" G_GUINT64_FORMAT, dense);
      g_autofree char *e = g_strdup_printf ("%" G_GUINT64_FORMAT, experts);
      const char *cargv[] = { self, "--child", device, dir_model, f, d, e, NULL };
      g_autofree char *out = NULL;
      int status;
      if (!g_spawn_sync (NULL, (char **) cargv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL,
                         &status, NULL) ||
          !g_spawn_check_wait_status (status, NULL))
        {
          fprintf (stderr, "bench-expert-cache: child failed\n");
          return 1;
        }
      double rate, cpu_rate;
      guint64 copied, tokens;
      long hwm;
      if (sscanf (out, "%lf %lf %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %ld", &rate, &cpu_rate,
                  &copied, &tokens, &hwm) != 5)
        return 1;
      g_autofree char *label = fracs[i] == 0.0
                                   ? g_strdup (g_str_equal (device, "cpu")
                                                   ? "no budget (read in place from the mapping)"
                                                   : "no budget (every weight stays on the device)")
                                   : g_strdup_printf ("budget %.0f%%", fracs[i] * 100);
      printf ("| %s | %.2f | %.2f | %.0f | %.0f |\n", label, rate, cpu_rate,
              (double) copied / tokens, hwm / 1024.0);
      fflush (stdout);
    }
  sc_test_rm_tree (dir_model);
  if (temp)
    g_rmdir (dir);
  return 0;
}
