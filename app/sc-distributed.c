/* sc-distributed.c: shard, gather and reduce over MPI ranks (see the header). */
#include "sc-distributed.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifdef SC_HAVE_MPI
#include <mpi.h>
#endif

static gboolean launched;
static int world_rank, world_size = 1, local_rank, local_size = 1;

void
sc_distributed_init (int *argc, char ***argv)
{
#ifdef SC_HAVE_MPI
  static gboolean done;
  if (done)
    return;
  done = TRUE;
  /* Open MPI's singleton start spawns a runtime daemon: plain runs skip it. */
  if (g_getenv ("OMPI_COMM_WORLD_SIZE") == NULL && g_getenv ("PMIX_RANK") == NULL &&
      g_getenv ("PMI_SIZE") == NULL)
    {
      /* srun's tasks without its MPI plugin would each do the whole work */
      const char *tasks = g_getenv ("SLURM_STEP_NUM_TASKS");
      if (tasks != NULL && g_ascii_strtoll (tasks, NULL, 10) > 1)
        fprintf (stderr,
                 "secateur-cli: warning: one of %s srun tasks but no MPI launch (srun "
                 "--mpi=pmix): this task runs the whole command\n",
                 tasks);
      return;
    }
  int provided;
  MPI_Init_thread (argc, argv, MPI_THREAD_FUNNELED, &provided);
  launched = TRUE;
  MPI_Comm_rank (MPI_COMM_WORLD, &world_rank);
  MPI_Comm_size (MPI_COMM_WORLD, &world_size);
  MPI_Comm node;
  MPI_Comm_split_type (MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, world_rank, MPI_INFO_NULL, &node);
  MPI_Comm_rank (node, &local_rank);
  MPI_Comm_size (node, &local_size);
  MPI_Comm_free (&node);
#endif
}

gboolean
sc_distributed_launched (void)
{
  return launched;
}

int
sc_distributed_rank (void)
{
  return world_rank;
}

int
sc_distributed_size (void)
{
  return world_size;
}

int
sc_distributed_local_rank (void)
{
  return local_rank;
}

int
sc_distributed_local_size (void)
{
  return local_size;
}

int
sc_distributed_finish (int status)
{
#ifdef SC_HAVE_MPI
  if (!launched)
    return status;
  launched = FALSE;
  if (status != 0 && world_size > 1)
    {
      fprintf (stderr,
               "secateur-cli: rank %d of %d failed (exit status %d); stopping every rank, "
               "nothing is written\n",
               world_rank, world_size, status);
      fflush (stderr);
      MPI_Abort (MPI_COMM_WORLD, status);
    }
  MPI_Finalize ();
#endif
  return status;
}

void
sc_distributed_announce (const char *device, int threads)
{
  static gboolean said;
  if (!launched || said)
    return;
  said = TRUE;
  fprintf (stderr,
           "secateur-cli: rank %d of %d on %s (pid %d, local rank %d): device %s, %d thread%s\n",
           world_rank, world_size, g_get_host_name (), (int) getpid (), local_rank, device, threads,
           threads == 1 ? "" : "s");
}

void
sc_distributed_shard (const guint64 *weights, int n, int *first, int *last)
{
  guint64 total = 0;
  for (int i = 0; i < n; i++)
    total += weights ? weights[i] : 1;
  *first = *last = n;
  guint64 before = 0;
  gboolean found = FALSE;
  for (int i = 0; i < n; i++)
    {
      guint64 w = weights ? weights[i] : 1;
      /* the rank whose share [r, r + 1) * total / size holds the item's middle */
      int r = total > 0 ? (int) ((2 * before + w) * (guint64) world_size / (2 * total)) : 0;
      r = MIN (r, world_size - 1);
      before += w;
      if (r == world_rank && !found)
        {
          *first = i;
          found = TRUE;
        }
      if (r > world_rank)
        {
          if (!found)
            *first = i;
          *last = i;
          return;
        }
    }
}

GPtrArray *
sc_distributed_gather (const void *data, gsize len)
{
  GPtrArray *all = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
#ifdef SC_HAVE_MPI
  if (launched && world_size > 1)
    {
      if (len > G_MAXINT)
        {
          fprintf (stderr,
                   "secateur-cli: rank %d has %" G_GSIZE_FORMAT " bytes to send, over "
                   "MPI's 2 GiB per message\n",
                   world_rank, len);
          MPI_Abort (MPI_COMM_WORLD, 1);
        }
      int mine = (int) len;
      g_autofree int *counts = world_rank == 0 ? g_new0 (int, world_size) : NULL;
      MPI_Gather (&mine, 1, MPI_INT, counts, 1, MPI_INT, 0, MPI_COMM_WORLD);
      g_autofree int *offsets = NULL;
      g_autofree char *buf = NULL;
      if (world_rank == 0)
        {
          offsets = g_new0 (int, world_size);
          gint64 sum = 0;
          for (int r = 0; r < world_size; r++)
            {
              offsets[r] = (int) sum;
              sum += counts[r];
            }
          if (sum > G_MAXINT)
            {
              fprintf (stderr,
                       "secateur-cli: the ranks' results (%" G_GINT64_FORMAT
                       " bytes) are over MPI's 2 GiB per gather\n",
                       sum);
              MPI_Abort (MPI_COMM_WORLD, 1);
            }
          buf = g_malloc (MAX (sum, 1));
        }
      MPI_Gatherv (data, mine, MPI_BYTE, buf, counts, offsets, MPI_BYTE, 0, MPI_COMM_WORLD);
      if (world_rank != 0)
        {
          g_ptr_array_unref (all);
          return NULL;
        }
      for (int r = 0; r < world_size; r++)
        g_ptr_array_add (all, g_bytes_new (buf + offsets[r], counts[r]));
      return all;
    }
#endif
  g_ptr_array_add (all, g_bytes_new (data, len));
  return all;
}

gboolean
sc_distributed_reduce_stats (ScStats *stats, GError **error)
{
  if (world_size == 1)
    return TRUE;
  g_autoptr (GError) local = NULL;
  g_autofree char *json = NULL;
  gsize len = 0;
  /* %.17g in the JSON: the doubles travel exactly. Rank 0 sends nothing. */
  if (world_rank != 0)
    {
      json = sc_stats_to_json (stats, &len, &local);
      if (json == NULL)
        fprintf (stderr, "secateur-cli: rank %d: %s\n", world_rank, local->message);
    }
  g_autoptr (GPtrArray) all = sc_distributed_gather (json, json ? len : 0);
  if (world_rank != 0)
    {
      if (json == NULL)
        g_propagate_error (error, g_steal_pointer (&local));
      return json != NULL;
    }
  for (int r = 1; r < world_size; r++)
    {
      gsize n;
      const char *data = g_bytes_get_data (all->pdata[r], &n);
      g_autoptr (ScStats) part =
          n > 0 ? sc_stats_from_json (data, n, sc_stats_get_shape (stats), error) : NULL;
      if (part == NULL && n == 0)
        g_set_error (error, SC_STATS_ERROR, SC_STATS_ERROR_INVALID, "rank %d sent nothing", r);
      if (part == NULL || !sc_stats_merge (stats, part, error))
        {
          g_prefix_error (error, "statistics of rank %d: ", r);
          return FALSE;
        }
    }
  return TRUE;
}

void
sc_distributed_gather_strings (char **strings, const double *values, int per_string, int n,
                               char ***all_strings, double **all_values, int *n_all)
{
  /* [gint32 n][n x per_string doubles][n NUL-terminated strings] */
  g_autoptr (GByteArray) buf = g_byte_array_new ();
  gint32 count = n;
  g_byte_array_append (buf, (const guint8 *) &count, sizeof count);
  g_byte_array_append (buf, (const guint8 *) values, sizeof (double) * n * per_string);
  for (int i = 0; i < n; i++)
    g_byte_array_append (buf, (const guint8 *) strings[i], strlen (strings[i]) + 1);
  g_autoptr (GPtrArray) all = sc_distributed_gather (buf->data, buf->len);
  *all_strings = NULL;
  if (all_values != NULL)
    *all_values = NULL;
  *n_all = 0;
  if (all == NULL)
    return;
  GPtrArray *out = g_ptr_array_new ();
  GArray *vals = g_array_new (FALSE, FALSE, sizeof (double));
  for (guint r = 0; r < all->len; r++)
    {
      gsize size;
      const char *p = g_bytes_get_data (all->pdata[r], &size);
      const char *end = p + size;
      gint32 k;
      memcpy (&k, p, sizeof k);
      p += sizeof k;
      g_array_append_vals (vals, p, (guint) k * per_string);
      p += sizeof (double) * k * per_string;
      for (int i = 0; i < k && p < end; i++)
        {
          g_ptr_array_add (out, g_strdup (p));
          p += strlen (p) + 1;
        }
    }
  *n_all = out->len;
  g_ptr_array_add (out, NULL);
  *all_strings = (char **) g_ptr_array_free (out, FALSE);
  if (all_values != NULL)
    *all_values = (double *) g_array_free (vals, FALSE);
  else
    g_array_free (vals, TRUE);
}

typedef enum
{
  SUM_U64,
  SUM_DOUBLE,
  SUM_FLOAT,
} SumKind;

#ifdef SC_HAVE_MPI
static void
sum_chunk (SumKind kind, void *dst, const void *src, gsize n)
{
  for (gsize j = 0; j < n; j++)
    if (kind == SUM_U64)
      ((guint64 *) dst)[j] += ((const guint64 *) src)[j];
    else if (kind == SUM_DOUBLE)
      ((double *) dst)[j] += ((const double *) src)[j];
    else
      ((float *) dst)[j] += ((const float *) src)[j];
}
#endif

static void
sum_in_rank_order (SumKind kind, void *data, gsize n)
{
#ifdef SC_HAVE_MPI
  if (!launched || world_size == 1 || n == 0)
    return;
  gsize size = kind == SUM_FLOAT ? sizeof (float) : 8;
  /* in chunks of at most 32 MiB per rank: any n, bounded memory on rank 0 */
  gsize chunk = MIN (((gsize) 32 << 20) / size, n);
  g_autofree char *all = world_rank == 0 ? g_malloc (chunk * size * world_size) : NULL;
  for (gsize at = 0; at < n; at += chunk)
    {
      gsize m = MIN (chunk, n - at);
      char *mine = (char *) data + at * size;
      MPI_Gather (mine, (int) (m * size), MPI_BYTE, all, (int) (m * size), MPI_BYTE, 0,
                  MPI_COMM_WORLD);
      if (world_rank == 0)
        for (int r = 1; r < world_size; r++)
          sum_chunk (kind, mine, all + (gsize) r * m * size, m);
      MPI_Bcast (mine, (int) (m * size), MPI_BYTE, 0, MPI_COMM_WORLD);
    }
#endif
}

void
sc_distributed_sum_u64 (guint64 *data, gsize n)
{
  sum_in_rank_order (SUM_U64, data, n);
}

void
sc_distributed_sum_doubles (double *data, gsize n)
{
  sum_in_rank_order (SUM_DOUBLE, data, n);
}

void
sc_distributed_sum_floats (float *data, gsize n)
{
  sum_in_rank_order (SUM_FLOAT, data, n);
}

gboolean
sc_distributed_reduce_inputs (int linear, ScLayerInputs *inputs, gpointer data, GError **error)
{
  guint64 *rows;
  double *sq;
  float *xtx;
  sc_layer_inputs_sums (inputs, &rows, &sq, &xtx);
  gsize n_in = sc_layer_inputs_n_in (inputs);
  sc_distributed_sum_u64 (rows, 1);
  sc_distributed_sum_doubles (sq, n_in);
  if (xtx != NULL)
    sc_distributed_sum_floats (xtx, n_in * n_in);
  return TRUE;
}

gboolean
sc_distributed_all (gboolean ok)
{
#ifdef SC_HAVE_MPI
  if (launched && world_size > 1)
    {
      int mine = ok ? 1 : 0, all = 0;
      MPI_Allreduce (&mine, &all, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
      return all != 0;
    }
#endif
  return ok;
}
