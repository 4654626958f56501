/* sc-cpu-pool.c: a fixed set of sleeping workers woken per job. No
 * spinning: on 2 shared cores a spinning worker takes the core that
 * OpenBLAS's threads or the caller need next. */
#include "sc-cpu-pool.h"

typedef struct
{
  GMutex lock; /* guards all below */
  GCond start; /* a new generation of work */
  GCond done;  /* pending reached 0 */
  guint64 generation;
  int workers; /* started so far; they never exit */
  int parts;
  int pending;
  ScCpuTask task;
  gpointer data;
} Pool;

static Pool pool;
/* Held by the thread whose job is in the pool. */
static GMutex pool_busy;

typedef struct
{
  int index;    /* the worker runs part index + 1 */
  guint64 seen; /* the generation when it was started */
} WorkerStart;

static gpointer
worker_main (gpointer arg)
{
  WorkerStart *ws = arg;
  int index = ws->index;
  guint64 seen = ws->seen;
  g_free (ws);

  g_mutex_lock (&pool.lock);
  for (;;)
    {
      while (pool.generation == seen)
        g_cond_wait (&pool.start, &pool.lock);
      seen = pool.generation;
      if (index + 1 >= pool.parts)
        continue;
      ScCpuTask task = pool.task;
      gpointer data = pool.data;
      int parts = pool.parts;
      g_mutex_unlock (&pool.lock);
      task (data, index + 1, parts);
      g_mutex_lock (&pool.lock);
      if (--pool.pending == 0)
        g_cond_signal (&pool.done);
    }
  return NULL;
}

void
sc_cpu_pool_run (int parts, ScCpuTask task, gpointer data)
{
  if (parts <= 1 || !g_mutex_trylock (&pool_busy))
    {
      for (int i = 0; i < parts; i++)
        task (data, i, parts);
      return;
    }

  g_mutex_lock (&pool.lock);
  /* A new worker is told the generation before this job's, so that it
   * runs this job however late it first takes the lock. */
  while (pool.workers < parts - 1)
    {
      WorkerStart *ws = g_new (WorkerStart, 1);
      ws->index = pool.workers;
      ws->seen = pool.generation;
      g_thread_unref (g_thread_new ("sc-cpu", worker_main, ws));
      pool.workers++;
    }
  pool.task = task;
  pool.data = data;
  pool.parts = parts;
  pool.pending = parts - 1;
  pool.generation++;
  g_cond_broadcast (&pool.start);
  g_mutex_unlock (&pool.lock);

  task (data, 0, parts);

  g_mutex_lock (&pool.lock);
  while (pool.pending > 0)
    g_cond_wait (&pool.done, &pool.lock);
  g_mutex_unlock (&pool.lock);
  g_mutex_unlock (&pool_busy);
}
