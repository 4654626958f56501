/* sc-backend-select.c: the CPU backend or the CUDA module, chosen at run
 * time. See sc-backend-select.h. */
#include "sc-backend-select.h"

#include <gmodule.h>
#include <stdlib.h>

#ifndef SC_CUDA_BUILD_DIR
#define SC_CUDA_BUILD_DIR ""
#endif
#ifndef SC_LIBDIR
#define SC_LIBDIR ""
#endif

static GModule *cuda_module;
static char *cuda_module_error;

/* Opens the module once per process; later calls return the same answer. */
static GModule *
open_cuda_module (GError **error)
{
  static gsize once;
  if (g_once_init_enter (&once))
    {
      const char *env = g_getenv ("SC_CUDA_MODULE");
      g_autofree char *in_build = g_build_filename (SC_CUDA_BUILD_DIR, "libsecateur-cuda.so", NULL);
      g_autofree char *installed =
          g_build_filename (SC_LIBDIR, "secateur", "libsecateur-cuda.so", NULL);
      const char *candidates[] = { env, SC_CUDA_BUILD_DIR[0] ? in_build : NULL,
                                   SC_LIBDIR[0] ? installed : NULL };
      GString *why = g_string_new (NULL);
      for (guint i = 0; i < G_N_ELEMENTS (candidates) && cuda_module == NULL; i++)
        {
          if (candidates[i] == NULL)
            continue;
          if (!g_file_test (candidates[i], G_FILE_TEST_EXISTS))
            {
              g_string_append_printf (why, "%s%s: not found", why->len ? "; " : "", candidates[i]);
              continue;
            }
          cuda_module = g_module_open (candidates[i], G_MODULE_BIND_LAZY | G_MODULE_BIND_LOCAL);
          if (cuda_module == NULL)
            g_string_append_printf (why, "%s%s", why->len ? "; " : "", g_module_error ());
        }
      if (cuda_module == NULL)
        cuda_module_error = g_strdup_printf (
            "the CUDA backend module could not be loaded (%s)",
            why->len ? why->str : "this build has no CUDA backend: configure with -Dcuda=enabled");
      g_string_free (why, TRUE);
      g_once_init_leave (&once, 1);
    }
  if (cuda_module == NULL)
    g_set_error_literal (error, SC_ERROR, SC_ERROR_UNSUPPORTED, cuda_module_error);
  return cuda_module;
}

gpointer
sc_backend_cuda_symbol (const char *name, GError **error)
{
  GModule *mod = open_cuda_module (error);
  gpointer sym = NULL;
  if (mod == NULL)
    return NULL;
  if (!g_module_symbol (mod, name, &sym) || sym == NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_UNSUPPORTED,
                   "the CUDA backend module lacks the symbol %s", name);
      return NULL;
    }
  return sym;
}

int
sc_backend_cuda_devices (GError **error)
{
  ScCudaDeviceCountFunc count = sc_backend_cuda_symbol ("sc_cuda_device_count", error);
  return count != NULL ? count () : -1;
}

gboolean
sc_backend_parse_cuda (const char *device, int *index)
{
  *index = 0;
  if (device == NULL || !g_str_has_prefix (device, "cuda"))
    return FALSE;
  if (device[4] == '\0')
    return TRUE;
  if (device[4] != ':' || device[5] == '\0')
    return FALSE;
  char *end = NULL;
  guint64 n = g_ascii_strtoull (device + 5, &end, 10);
  if (*end != '\0' || n > 1024)
    return FALSE;
  *index = (int) n;
  return TRUE;
}

static gboolean
check_device (const char *device, int *index, GError **error)
{
  if (!sc_backend_parse_cuda (device, index))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_UNSUPPORTED,
                   "unknown device \"%s\": use auto, cpu, cuda or cuda:N", device);
      return FALSE;
    }
  int n = sc_backend_cuda_devices (error);
  if (n < 0)
    return FALSE;
  if (*index >= n)
    {
      if (n == 0)
        g_set_error (error, SC_ERROR, SC_ERROR_UNSUPPORTED,
                     "no CUDA device is present (the driver reports none)");
      else
        g_set_error (error, SC_ERROR, SC_ERROR_UNSUPPORTED,
                     "CUDA device %d does not exist (%d present)", *index, n);
      return FALSE;
    }
  return TRUE;
}

gboolean
sc_backend_device_memory (const char *device, guint64 *bytes, GError **error)
{
  int index;
  if (!check_device (device, &index, error))
    return FALSE;
  ScCudaDeviceMemoryFunc mem = sc_backend_cuda_symbol ("sc_cuda_device_memory", error);
  guint64 free_bytes;
  return mem != NULL && mem (index, bytes, &free_bytes, SC_ERROR, error);
}

ScBackend *
sc_backend_new (const char *device, int threads, char **note, GError **error)
{
  if (note != NULL)
    *note = NULL;
  if (device == NULL)
    device = "auto";
  if (g_str_equal (device, "cpu"))
    return sc_backend_cpu_new (threads);

  gboolean automatic = g_str_equal (device, "auto");
  int index = 0;
  g_autoptr (GError) local = NULL;
  ScBackend *be = NULL;
  if (check_device (automatic ? "cuda" : device, &index, &local))
    {
      ScCudaBackendNewFunc make = sc_backend_cuda_symbol ("sc_cuda_backend_new", &local);
      if (make != NULL)
        be = make (index, SC_ERROR, &local);
    }
  if (be != NULL)
    return be;
  if (!automatic)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local), "device %s: ", device);
      return NULL;
    }
  if (note != NULL)
    *note = g_strdup_printf ("using the CPU: %s", local->message);
  return sc_backend_cpu_new (threads);
}
