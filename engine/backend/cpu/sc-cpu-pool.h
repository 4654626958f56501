/* sc-cpu-pool.h: the CPU backend's own worker threads, for the kernels
 * OpenBLAS has none for (one-row and small-M products of f16/bf16 weights).
 *
 * Persistent: creating threads per call costs more than a decoding step's
 * product. The caller runs part 0 itself; the count is the caller's (the
 * backend passes OpenBLAS's, so the two pools never oversubscribe the cores,
 * as they never run at the same time). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef void (*ScCpuTask) (gpointer data, int part, int parts);

/* Runs task (data, i, parts) for every i in [0, parts), in parallel, and
 * returns when all are done. While another thread is using the pool (two
 * decodings at once, or a task that runs the pool) the parts run one after
 * the other in the calling thread. */
void sc_cpu_pool_run (int parts, ScCpuTask task, gpointer data);

G_END_DECLS
