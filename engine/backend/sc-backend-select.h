/* sc-backend-select.h: choosing a backend at run time.
 *
 * The CUDA backend is a GModule (libsecateur-cuda.so) built only where nvcc
 * and cuBLAS are found, so one binary runs with or without CUDA. It is
 * looked up in $SC_CUDA_MODULE (a path), the build tree, then the installed
 * libdir. "auto" uses it when it loads and sees a device, and falls back to
 * the CPU with a message otherwise; "cuda[:N]" fails with a clear error.
 */
#pragma once

#include "sc-backend.h"

G_BEGIN_DECLS

/* The symbols the CUDA module exports (engine/backend/cuda/). */
typedef int        (*ScCudaDeviceCountFunc)  (void);
/* Errors are set in `domain` (the engine's SC_ERROR, which the module
 * does not link). */
typedef ScBackend *(*ScCudaBackendNewFunc)   (int device, GQuark domain, GError **error);
typedef gboolean   (*ScCudaDeviceMemoryFunc) (int device, guint64 *total, guint64 *free_bytes,
                                              GQuark domain, GError **error);
typedef gboolean   (*ScCudaDeviceNameFunc)   (int device, char *name, gsize len);

/* "auto", "cpu", "cuda" or "cuda:N" (NULL = "auto"). `threads` is for the
 * CPU backend (<= 0: one per core). With "auto", `note` (may be NULL)
 * receives why the CPU was chosen when CUDA was not usable (free it). */
ScBackend *sc_backend_new            (const char *device, int threads, char **note,
                                      GError **error);
/* Parses "cuda" / "cuda:N"; FALSE for anything else. */
gboolean   sc_backend_parse_cuda     (const char *device, int *index);
/* Total memory of the CUDA device named by `device` ("cuda[:N]"). */
gboolean   sc_backend_device_memory  (const char *device, guint64 *bytes, GError **error);
/* How many CUDA devices the module sees; -1 (and error) when the module
 * cannot be loaded. */
int        sc_backend_cuda_devices   (GError **error);
/* The loaded module's symbol `name`, or NULL with an error. */
gpointer   sc_backend_cuda_symbol    (const char *name, GError **error);

G_END_DECLS
