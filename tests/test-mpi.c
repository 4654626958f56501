/* test-mpi.c: calibrate, evaluate, compare and sparsify across MPI ranks
 * (mpirun), against one process: the same integer counters and a statistics
 * file that is the same from run to run, the same evaluation, the same
 * pruning masks, and nothing written when a rank dies. Skipped when mpirun
 * is absent or secateur-cli was built without MPI.
 *
 * As root, Open MPI refuses to start unless OMPI_ALLOW_RUN_AS_ROOT=1 and
 * OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 are set: the test sets them. */
#include "sc-checkpoint.h"
#include "sc-stats.h"
#include "sc-test-cli.h"
#include "sc-test-util.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const char *const PAIRS = "eng_Latn-fra_Latn,eng_Latn-hin_Deva,fra_Latn-eng_Latn";

static char *
fixture (const char *name)
{
  g_autofree char *rel = g_build_filename ("tests/fixtures", name, NULL);
  return sc_test_path (rel);
}

static gboolean
mpi_available (void)
{
#ifndef SC_TEST_MPI
  g_test_skip ("secateur-cli was built without MPI (-Dmpi=disabled, no libopenmpi-dev, or a "
               "sanitizer build, where -Dmpi=auto leaves it out)");
  return FALSE;
#else
  g_autofree char *mpirun = g_find_program_in_path ("mpirun");
  if (mpirun == NULL)
    {
      g_test_skip ("mpirun not found (Debian: openmpi-bin)");
      return FALSE;
    }
  return TRUE;
#endif
}

/* mpirun -n `ranks` secateur-cli ARGS..., each rank with as many OpenBLAS
 * threads as a one-process run has (its sums depend on the thread count). */
static GSubprocessLauncher *
mpi_launcher (GSubprocessFlags flags)
{
  GSubprocessLauncher *l = g_subprocess_launcher_new (flags);
  g_subprocess_launcher_setenv (l, "OMPI_ALLOW_RUN_AS_ROOT", "1", TRUE);
  g_subprocess_launcher_setenv (l, "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", TRUE);
  g_autofree char *threads = g_strdup_printf ("%u", g_get_num_processors ());
  g_subprocess_launcher_setenv (l, "OMP_NUM_THREADS", threads, TRUE);
  return l;
}

static GPtrArray *
mpi_argv (int ranks, va_list ap)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);
  const char *head[] = { "mpirun", "--oversubscribe", "-x", "OMP_NUM_THREADS", "-n" };
  for (guint i = 0; i < G_N_ELEMENTS (head); i++)
    g_ptr_array_add (argv, g_strdup (head[i]));
  g_ptr_array_add (argv, g_strdup_printf ("%d", ranks));
  g_ptr_array_add (argv, g_strdup (g_getenv ("SC_CLI")));
  const char *arg;
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, g_strdup (arg));
  g_ptr_array_add (argv, NULL);
  return argv;
}

static Run
run_mpi (int ranks, ...)
{
  va_list ap;
  va_start (ap, ranks);
  g_autoptr (GPtrArray) argv = mpi_argv (ranks, ap);
  va_end (ap);
  g_autoptr (GSubprocessLauncher) l =
      mpi_launcher (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) proc =
      g_subprocess_launcher_spawnv (l, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  Run r = { 0 };
  g_subprocess_communicate_utf8 (proc, NULL, NULL, &r.out, &r.err, &error);
  g_assert_no_error (error);
  r.status = g_subprocess_get_if_exited (proc) ? g_subprocess_get_exit_status (proc) : -1;
  return r;
}

static char *
read_file (const char *path)
{
  char *text = NULL;
  g_autoptr (GError) error = NULL;
  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return text;
}


/* The integer counters (tokens, top1, top2) of every direction, as text. */
static char *
integer_counters (const char *path)
{
  g_autoptr (JsonNode) root = sc_test_load_json (path);
  JsonObject *dirs = json_object_get_object_member (json_node_get_object (root), "directions");
  g_assert_nonnull (dirs);
  GString *out = g_string_new (NULL);
  g_autoptr (GList) keys = json_object_get_members (dirs);
  keys = g_list_sort (keys, (GCompareFunc) g_strcmp0);
  for (GList *k = keys; k != NULL; k = k->next)
    {
      JsonObject *d = json_object_get_object_member (dirs, k->data);
      const char *names[] = { "tokens", "top1", "top2" };
      for (guint i = 0; i < G_N_ELEMENTS (names); i++)
        {
          g_autofree char *v = json_to_string (json_object_get_member (d, names[i]), FALSE);
          g_string_append_printf (out, "%s.%s=%s\n", (char *) k->data, names[i], v);
        }
    }
  return g_string_free (out, FALSE);
}

static guint64
first_tokens (const char *path, const char *direction)
{
  g_autoptr (JsonNode) root = sc_test_load_json (path);
  JsonObject *dirs = json_object_get_object_member (json_node_get_object (root), "directions");
  JsonObject *d = json_object_get_object_member (dirs, direction);
  return json_array_get_int_element (json_object_get_array_member (d, "tokens"), 0);
}

/* 1, 2 and 3 ranks: the integer counters of one process; repeated runs:
 * the same bytes; only rank 0 writes; --append adds once. */
static void
test_calibrate (void)
{
  if (!mpi_available ())
    return;
  g_autofree char *moe = fixture ("nllb-moe-tiny");
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("secateur-mpi-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *one = g_build_filename (dir, "one.json", NULL);
  Run r = run_cli (NULL, "calibrate", "-m", moe, "--pairs", PAIRS, "--size", "24", "-o", one, "-q",
                   NULL);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);
  g_autofree char *want = integer_counters (one);
  g_autofree char *one_bytes = read_file (one);
  g_assert_nonnull (strstr (one_bytes, "\"provenance\":[{"));

  for (int ranks = 1; ranks <= 3; ranks++)
    {
      g_autofree char *first_bytes = NULL;
      for (int again = 0; again < (ranks == 3 ? 2 : 1); again++)
        {
          g_autofree char *name = g_strdup_printf ("ranks%d-%d.json", ranks, again);
          g_autofree char *path = g_build_filename (dir, name, NULL);
          r = run_mpi (ranks, "calibrate", "-m", moe, "--pairs", PAIRS, "--size", "24", "-o", path,
                       "-q", NULL);
          g_test_message ("%d ranks: %s", ranks, r.err);
          g_assert_cmpint (r.status, ==, 0);
          /* every rank says once where it runs */
          for (int k = 0; k < ranks; k++)
            {
              g_autofree char *said = g_strdup_printf ("rank %d of %d on ", k, ranks);
              const char *at = strstr (r.err, said);
              g_assert_nonnull (at);
              g_assert_null (strstr (at + 1, said));
            }
          g_assert_nonnull (strstr (r.err, "thread"));
          run_clear (&r);
          g_autofree char *got = integer_counters (path);
          g_assert_cmpstr (got, ==, want);
          g_autofree char *bytes = read_file (path);
          /* one record of the run: every rank's sentences and tokens */
          g_assert_cmpstr (strstr (bytes, ",\"provenance\":"), ==,
                           strstr (one_bytes, ",\"provenance\":"));
          if (ranks == 1)
            g_assert_cmpstr (bytes, ==, one_bytes);
          if (again == 0)
            first_bytes = g_steal_pointer (&bytes);
          else
            g_assert_cmpstr (bytes, ==, first_bytes);
        }
    }

  /* --append over 2 ranks adds the data once (not once per rank) */
  g_autofree char *twice = g_build_filename (dir, "twice.json", NULL);
  g_assert_true (g_file_set_contents (twice, one_bytes, -1, NULL));
  r = run_mpi (2, "calibrate", "-m", moe, "--pairs", PAIRS, "--size", "24", "-o", twice, "-q",
               "--append", NULL);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);
  g_assert_cmpuint (first_tokens (twice, "eng_Latn-fra_Latn"), ==,
                    2 * first_tokens (one, "eng_Latn-fra_Latn"));
  g_assert_cmpuint (first_tokens (twice, "fra_Latn-eng_Latn"), ==,
                    2 * first_tokens (one, "fra_Latn-eng_Latn"));
  {
    g_autoptr (GError) e = NULL;
    g_autoptr (ScStats) st = sc_stats_load (twice, NULL, &e);
    g_assert_no_error (e);
    g_autoptr (JsonArray) runs = sc_stats_get_provenance (st);
    g_assert_cmpuint (json_array_get_length (runs), ==, 2);
  }

  g_autoptr (GFile) d = g_file_new_for_path (dir);
  g_autoptr (GFileEnumerator) en = g_file_enumerate_children (d, "standard::name", 0, NULL, NULL);
  GFileInfo *info;
  while ((info = g_file_enumerator_next_file (en, NULL, NULL)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, g_file_info_get_name (info), NULL);
      g_unlink (p);
      g_object_unref (info);
    }
  g_rmdir (dir);
}

/* 2 ranks: the table on stdout and the report of one process, full and
 * pruned (scores, NLL, translations); compare's output of one process. */
static void
test_evaluate (void)
{
  if (!mpi_available ())
    return;
  g_autofree char *moe = fixture ("nllb-moe-tiny");
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("secateur-mpi-XXXXXX", &error);
  g_autofree char *index = g_build_filename (dir, "experts.json", NULL);
  g_autofree char *one = g_build_filename (dir, "one.json", NULL);
  g_autofree char *two = g_build_filename (dir, "two.json", NULL);
  g_assert_true (g_file_set_contents (index,
                                      "{\"eng_Latn-fra_Latn\": [0, 1, 8, 9, 16, 17, 24, 25],\n"
                                      " \"eng_Latn-hin_Deva\": [2, 3, 10, 11, 18, 19, 26, 27]}\n",
                                      -1, NULL));
  Run a = run_cli (NULL, "evaluate", "-m", moe, "--pairs", "eng_Latn-fra_Latn,eng_Latn-hin_Deva",
                   "--experts", index, "--limit", "5", "-o", one, NULL);
  g_assert_cmpint (a.status, ==, 0);
  Run b = run_mpi (2, "evaluate", "-m", moe, "--pairs", "eng_Latn-fra_Latn,eng_Latn-hin_Deva",
                   "--experts", index, "--limit", "5", "-o", two, NULL);
  g_test_message ("%s", b.err);
  g_assert_cmpint (b.status, ==, 0);
  g_assert_nonnull (strstr (b.err, "rank 1 of 2 on "));
  g_assert_nonnull (strstr (a.out, "eng_Latn-hin_Deva        5"));
  g_assert_cmpstr (b.out, ==, a.out);
  g_autofree char *want = read_file (one);
  g_autofree char *got = read_file (two);
  g_assert_cmpstr (got, ==, want);
  run_clear (&a);
  run_clear (&b);

  /* compare: the same sentences side by side, printed once */
  a = run_cli (NULL, "compare", "-m", moe, "--pair", "eng_Latn-fra_Latn", "--experts", index,
               "--limit", "4", NULL);
  g_assert_cmpint (a.status, ==, 0);
  b = run_mpi (2, "compare", "-m", moe, "--pair", "eng_Latn-fra_Latn", "--experts", index,
               "--limit", "4", NULL);
  g_assert_cmpint (b.status, ==, 0);
  g_assert_nonnull (strstr (a.out, "[4] source:"));
  g_assert_cmpstr (b.out, ==, a.out);
  run_clear (&a);
  run_clear (&b);
  g_unlink (index);
  g_unlink (one);
  g_unlink (two);
  g_rmdir (dir);
}

/* The zero weights of every tensor of a checkpoint, one byte each. */
static GByteArray *
zero_mask (const char *dir)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ScCheckpoint) ck = sc_checkpoint_open (dir, &error);
  g_assert_no_error (error);
  GByteArray *mask = g_byte_array_new ();
  const char *const *names = sc_checkpoint_names (ck);
  for (guint i = 0; names[i] != NULL; i++)
    {
      const ScTensor *t = sc_checkpoint_get (ck, names[i]);
      gsize n = sc_tensor_numel (t);
      g_autofree float *v = g_new (float, MAX (n, 1));
      sc_tensor_read_f32 (t, 0, n, v);
      for (gsize k = 0; k < n; k++)
        {
          guint8 z = v[k] == 0.0f;
          g_byte_array_append (mask, &z, 1);
        }
    }
  return mask;
}

/* 2 ranks, each calibrating on half the samples: Wanda writes the very
 * checkpoint of one process, SparseGPT the same masks (its updated weights
 * differ by the rounding of the Hessian's float sums). */
static void
test_sparsify (void)
{
  if (!mpi_available ())
    return;
  g_autofree char *moe = fixture ("nllb-moe-tiny");
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("secateur-mpi-XXXXXX", &error);
  const char *methods[] = { "wanda", "sparsegpt" };
  for (guint m = 0; m < G_N_ELEMENTS (methods); m++)
    {
      g_autofree char *n1 = g_strdup_printf ("%s-1", methods[m]);
      g_autofree char *n2 = g_strdup_printf ("%s-2", methods[m]);
      g_autofree char *one = g_build_filename (dir, n1, NULL);
      g_autofree char *two = g_build_filename (dir, n2, NULL);
      Run a = run_cli (NULL, "sparsify", "-m", moe, "--method", methods[m], "--sparsity", "0.5",
                       "--calib", "mbs", "--samples", "16", "--seqlen", "32", "-o", one, NULL);
      g_assert_cmpint (a.status, ==, 0);
      Run b = run_mpi (2, "sparsify", "-m", moe, "--method", methods[m], "--sparsity", "0.5",
                       "--calib", "mbs", "--samples", "16", "--seqlen", "32", "-o", two, NULL);
      g_test_message ("%s", b.err);
      g_assert_cmpint (b.status, ==, 0);
      /* the same table (rows seen by each layer included), printed once */
      g_autofree char *want = g_strdup (a.out);
      *strstr (want, "wrote ") = '\0';
      g_assert_nonnull (strstr (b.out, want));
      const char *total = strstr (b.out, "total: ");
      g_assert_nonnull (total);
      g_assert_null (strstr (total + 1, "total: "));
      g_assert_nonnull (strstr (b.err, "rank 1 of 2 on "));
      run_clear (&a);
      run_clear (&b);
      g_autoptr (GByteArray) m1 = zero_mask (one);
      g_autoptr (GByteArray) m2 = zero_mask (two);
      g_assert_cmpuint (m1->len, ==, m2->len);
      guint zeros = 0;
      for (guint k = 0; k < m1->len; k++)
        zeros += m1->data[k];
      g_assert_cmpuint (zeros, >, m1->len / 4);
      g_assert_true (memcmp (m1->data, m2->data, m1->len) == 0);
      if (m == 0)
        {
          g_autofree char *f1 = g_build_filename (one, "model.safetensors", NULL);
          g_autofree char *f2 = g_build_filename (two, "model.safetensors", NULL);
          gsize l1, l2;
          g_autofree char *b1 = NULL, *b2 = NULL;
          g_assert_true (g_file_get_contents (f1, &b1, &l1, NULL));
          g_assert_true (g_file_get_contents (f2, &b2, &l2, NULL));
          g_assert_true (l1 == l2 && memcmp (b1, b2, l1) == 0);
        }
    }
  g_autofree char *rm = g_strdup_printf ("rm -rf '%s'", dir);
  g_assert_cmpint (system (rm), ==, 0);
}

/* Rank 1 killed mid-run: mpirun fails naming it, and no statistics file
 * (nor a temporary one) is left. */
static void
test_rank_killed (void)
{
  if (!mpi_available ())
    return;
  g_autofree char *moe = fixture ("nllb-moe-tiny");
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("secateur-mpi-XXXXXX", &error);
  g_autofree char *src = g_build_filename (dir, "src.txt", NULL);
  g_autofree char *tgt = g_build_filename (dir, "tgt.txt", NULL);
  g_autofree char *out = g_build_filename (dir, "stats.json", NULL);
  /* enough sentences that rank 1 is still at work when it is killed */
  GString *s = g_string_new (NULL), *t = g_string_new (NULL);
  for (int i = 0; i < 4000; i++)
    {
      g_string_append_printf (s, "Everyone has the right to life, liberty and security %d.\n", i);
      g_string_append_printf (t, "Tout individu a droit a la vie et a la liberte %d.\n", i);
    }
  g_assert_true (g_file_set_contents (src, s->str, -1, NULL));
  g_assert_true (g_file_set_contents (tgt, t->str, -1, NULL));
  g_string_free (s, TRUE);
  g_string_free (t, TRUE);

  g_autoptr (GSubprocessLauncher) l =
      mpi_launcher (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  const char *argv[] = {
    "mpirun", "--oversubscribe", "-x", "OMP_NUM_THREADS", "-n", "2", g_getenv ("SC_CLI"),
    "calibrate", "-m", moe, "-s", "eng_Latn", "-t", "fra_Latn", "--source", src, "--target", tgt,
    "-o", out, "-q", NULL
  };
  g_autoptr (GSubprocess) proc = g_subprocess_launcher_spawnv (l, argv, &error);
  g_assert_no_error (error);
  g_autoptr (GDataInputStream) err = g_data_input_stream_new (g_subprocess_get_stderr_pipe (proc));
  g_autoptr (GString) log = g_string_new (NULL);
  gboolean killed = FALSE;
  char *line;
  while ((line = g_data_input_stream_read_line_utf8 (err, NULL, NULL, NULL)) != NULL)
    {
      g_string_append_printf (log, "%s\n", line);
      const char *pid = strstr (line, "rank 1 of 2 on ");
      pid = pid ? strstr (pid, "(pid ") : NULL;
      if (pid != NULL && !killed)
        {
          g_assert_cmpint (kill ((pid_t) g_ascii_strtoll (pid + 5, NULL, 10), SIGKILL), ==, 0);
          killed = TRUE;
        }
      g_free (line);
    }
  g_subprocess_wait (proc, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("%s", log->str);
  g_assert_true (killed);
  g_assert_false (g_subprocess_get_successful (proc));
  g_assert_nonnull (strstr (log->str, "rank 1"));
  g_assert_nonnull (strstr (log->str, "signal 9"));
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  /* nothing but the inputs in the folder */
  g_autoptr (GDir) d = g_dir_open (dir, 0, &error);
  g_assert_no_error (error);
  int n = 0;
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_assert_true (g_str_equal (name, "src.txt") || g_str_equal (name, "tgt.txt"));
      n++;
    }
  g_assert_cmpint (n, ==, 2);
  g_unlink (src);
  g_unlink (tgt);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mpi/calibrate", test_calibrate);
  g_test_add_func ("/mpi/evaluate", test_evaluate);
  g_test_add_func ("/mpi/sparsify", test_sparsify);
  g_test_add_func ("/mpi/rank-killed", test_rank_killed);
  return g_test_run ();
}
