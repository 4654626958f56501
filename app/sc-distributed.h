/* sc-distributed.h: one command's work split over the ranks of an MPI
 * launch (mpirun, srun).
 *
 * MPI is initialised only when a launcher started the process (it sets
 * OMPI_COMM_WORLD_SIZE, PMIX_RANK or PMI_SIZE); otherwise, and in builds
 * without MPI, there is one rank and every call below is the identity, so
 * commands run as they do in one process. The engine knows nothing of
 * this: commands shard their input, run the engine on their shard and
 * bring the results to rank 0, which alone writes files.
 *
 * Every collective call below must be made by all ranks, in the same
 * order. A rank that fails ends the whole run (sc_distributed_finish). */
#pragma once

#include <glib.h>

#include "sc-sparsity.h"
#include "sc-stats.h"

G_BEGIN_DECLS

/* Initialises MPI when launched by an MPI launcher. Idempotent. */
void     sc_distributed_init     (int *argc, char ***argv);
/* TRUE when running under an MPI launcher (even with one rank). */
gboolean sc_distributed_launched (void);
int      sc_distributed_rank     (void);
int      sc_distributed_size     (void);
/* This rank's index among the ranks on its node (0 without MPI). */
int      sc_distributed_local_rank (void);
int      sc_distributed_local_size (void);

/* Finalises MPI and returns `status`; a failing rank (status != 0) in a
 * run of several says so, naming itself, and aborts every rank, so that
 * no rank waits for it and no rank writes a file. */
int      sc_distributed_finish   (int status);

/* Prints once, on stderr, this rank's rank, host, device and threads. */
void     sc_distributed_announce (const char *device, int threads);

/* The contiguous shard [*first, *last) of n items for this rank, balanced
 * by `weights` (e.g. tokens; NULL: all 1): item i goes to the rank whose
 * share of the total weight holds the middle of item i. Same on every
 * rank, and shards in rank order are the input order. */
void     sc_distributed_shard    (const guint64 *weights, int n, int *first, int *last);

/* Collective: each rank's `len` bytes, on rank 0 as a GPtrArray of GBytes
 * in rank order; NULL on the other ranks. */
GPtrArray *sc_distributed_gather (const void *data, gsize len);

/* Collective: adds every other rank's statistics to rank 0's `stats`, in
 * rank order (so floating-point sums are the same from run to run); the
 * other ranks' `stats` are left as they were. FALSE on rank 0 when a
 * rank's statistics cannot be read back. */
gboolean sc_distributed_reduce_stats (ScStats *stats, GError **error);

/* Collective: each rank's `n` strings, each with `per_string` doubles of
 * `values` (0: none), on rank 0 joined in rank order into *all_strings
 * (NULL-terminated) and *all_values, with *n_all the number of strings;
 * NULL and 0 on the other ranks. */
void     sc_distributed_gather_strings (char **strings, const double *values, int per_string,
                                        int n, char ***all_strings, double **all_values,
                                        int *n_all);

/* Collective: every rank's `n` values (the same n on all) summed in rank
 * order, rank 0's first, so that the sum is the same from run to run; the
 * sum replaces `data` on every rank. Integers are exact. */
void     sc_distributed_sum_u64     (guint64 *data, gsize n);
void     sc_distributed_sum_doubles (double *data, gsize n);
void     sc_distributed_sum_floats  (float *data, gsize n);

/* An ScSparsifyOptions.inputs_reduce: a layer's input sums (rows, squares,
 * X^T X) added up over the ranks, so that every rank prunes with the
 * statistics of all the samples. */
gboolean sc_distributed_reduce_inputs (int linear, ScLayerInputs *inputs, gpointer data,
                                       GError **error);

/* Collective: the logical AND of `ok` over the ranks, on every rank. */
gboolean sc_distributed_all (gboolean ok);

G_END_DECLS
