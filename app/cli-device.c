/* cli-device.c: --device and --expert-budget-gb, shared by every command
 * that loads a model (translate, calibrate, evaluate, compare, demo). */
#include "cli-commands.h"
#include "sc-backend-select.h"
#include "sc-distributed.h"
#include "sc-memory-plan.h"

#include <stdio.h>
#include <string.h>

/* One backend per process, reused by every model a command loads; it
 * lives until exit (a CUDA context is costly to make twice). */
static ScBackend *cli_backend;
static char *cli_backend_device;

void
sc_cli_device_add_options (GOptionContext *ctx, ScCliDeviceOptions *opts)
{
  GOptionEntry entries[] = {
    { "device", 0, 0, G_OPTION_ARG_STRING, &opts->device,
      "Run on cpu, cuda, cuda:N or auto (CUDA when a device is present, else the CPU; "
      "default cpu, or $SC_DEVICE)",
      "DEVICE" },
    { "expert-budget-gb", 0, 0, G_OPTION_ARG_DOUBLE, &opts->expert_budget_gb,
      "Hold at most this much of the experts' weights in memory (default: no limit)", "GIB" },
    { "memory-gb", 0, 0, G_OPTION_ARG_DOUBLE, &opts->memory_gb,
      "Fit batches into this much memory (default: all of the device's)", "GIB" },
    { NULL }
  };
  const ScCliRange ranges[] = {
    { "expert-budget-gb", 0, SC_CLI_MAX_GIB },
    { "memory-gb", 0, SC_CLI_MAX_GIB },
    { NULL },
  };
  sc_cli_add_group (ctx, "device", "Device options:", "Show the device options", entries, ranges);
}

void
sc_cli_device_options_clear (ScCliDeviceOptions *opts)
{
  g_clear_pointer (&opts->device, g_free);
}

/* CPU threads of this process: as today (0: every core) in one process;
 * under MPI, OPENBLAS_NUM_THREADS or OMP_NUM_THREADS when set, else the
 * node's cores shared among its ranks. */
static int
sc_cli_rank_threads (void)
{
  if (!sc_distributed_launched ())
    return 0;
  const char *vars[] = { "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS" };
  for (guint i = 0; i < G_N_ELEMENTS (vars); i++)
    {
      const char *v = g_getenv (vars[i]);
      gint64 n = v != NULL ? g_ascii_strtoll (v, NULL, 10) : 0;
      if (n > 0 && n <= 4096)
        return (int) n;
    }
  return MAX ((int) g_get_num_processors () / sc_distributed_local_size (), 1);
}

ScBackend *
sc_cli_backend (const ScCliDeviceOptions *opts, GError **error)
{
  const char *device = opts != NULL && opts->device != NULL ? opts->device : g_getenv ("SC_DEVICE");
  if (device == NULL || device[0] == '\0')
    device = "cpu";
  /* Under MPI, "cuda" is the rank's own GPU on its node (ranks share GPUs
   * round-robin when there are more ranks than GPUs). */
  g_autofree char *ranked = NULL;
  if (sc_distributed_launched () && g_str_equal (device, "cuda"))
    {
      int n = sc_backend_cuda_devices (NULL);
      device = ranked = g_strdup_printf ("cuda:%d", sc_distributed_local_rank () % MAX (n, 1));
    }
  if (cli_backend == NULL || g_strcmp0 (cli_backend_device, device) != 0)
    {
      g_autofree char *note = NULL;
      int threads = sc_cli_rank_threads ();
      ScBackend *be = sc_backend_new (device, threads, &note, error);
      if (be == NULL)
        return NULL;
      if (note != NULL)
        fprintf (stderr, "secateur-cli: %s\n", note); /* auto fell back to the CPU */
      cli_backend = be; /* a previous one stays alive: models may still use it */
      g_free (cli_backend_device);
      cli_backend_device = g_strdup (device);
      sc_distributed_announce (device, threads > 0 ? threads : (int) g_get_num_processors ());
    }
  return cli_backend;
}

gboolean
sc_cli_device_memory (const char *device, guint64 *bytes, GError **error)
{
  if (device == NULL || g_str_equal (device, "cpu") || g_str_equal (device, "auto"))
    {
      g_autofree char *meminfo = NULL;
      if (g_file_get_contents ("/proc/meminfo", &meminfo, NULL, NULL))
        {
          const char *p = strstr (meminfo, "MemTotal:");
          if (p != NULL)
            {
              *bytes = g_ascii_strtoull (p + 9, NULL, 10) * 1024;
              return TRUE;
            }
        }
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot read the RAM size");
      return FALSE;
    }
  return sc_backend_device_memory (device, bytes, error);
}

int
sc_cli_fit_batch (ScModel *model, const ScCliDeviceOptions *opts, int batch, int beams, int src_len,
                  int tgt_len, gboolean teacher, GError **error)
{
  gboolean cuda = g_str_equal (sc_model_get_backend (model)->name, "cuda");
  const char *device = cuda ? cli_backend_device : "cpu";
  guint64 bytes = 0;
  if (opts != NULL && opts->memory_gb > 0)
    bytes = (guint64) (opts->memory_gb * 1073741824.0);
  else if (!sc_cli_device_memory (device, &bytes, error))
    return 0;
  ScMemoryPlanOptions o;
  sc_memory_plan_options_init (&o);
  o.weight_dtype = sc_model_get_dtype (model);
  o.batch = batch;
  o.beams = MAX (beams, 1);
  o.src_len = src_len;
  o.tgt_len = tgt_len;
  o.teacher_forcing = teacher;
  o.expert_budget = opts != NULL ? (guint64) (opts->expert_budget_gb * 1073741824.0) : 0;
  o.reserve = cuda ? 512ULL << 20 : 0;
  int fit = sc_memory_plan_max_batch (sc_model_get_config (model), &o, bytes, batch);
  if (fit == 0)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_UNSUPPORTED,
                   "the model needs more than the %.2f GiB of %s memory even for one sentence "
                   "(see secateur-cli info; an expert budget may help)",
                   bytes / 1073741824.0, device);
      return 0;
    }
  if (fit < batch)
    fprintf (stderr,
             "secateur-cli: a batch of %d does not fit in %.2f GiB of %s memory: using %d\n", batch,
             bytes / 1073741824.0, device, fit);
  return fit;
}

ScModel *
sc_cli_load_model (const char *dir, ScModelLoadFlags flags, const ScCliDeviceOptions *opts,
                   GError **error)
{
  double budget_gb = opts != NULL ? opts->expert_budget_gb : 0.0;
  if (budget_gb < 0.0)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "--expert-budget-gb must not be negative");
      return NULL;
    }
  ScBackend *be = sc_cli_backend (opts, error);
  if (be == NULL)
    return NULL;
  g_autoptr (ScModel) model = sc_model_load_with_flags (dir, be, flags, error);
  if (model == NULL)
    return NULL;
  if (budget_gb > 0.0 &&
      !sc_model_set_expert_budget (model, (guint64) (budget_gb * 1073741824.0), error))
    return NULL;
  /* settings transformers would use that Secateur ignores: said once */
  const ScConfig *c = sc_model_get_config (model);
  for (guint i = 0; i < c->notices->len; i++)
    fprintf (stderr, "secateur-cli: %s\n", (const char *) g_ptr_array_index (c->notices, i));
  return g_steal_pointer (&model);
}
