/* sc-test-cli.h: running secateur-cli from a test, as a user would. The
 * binary comes from the SC_CLI environment variable (set by meson). */
#pragma once

#include <gio/gio.h>
#include <stdarg.h>

typedef struct
{
  int   status;   /* exit status, -1 when killed */
  char *out;
  char *err;
} Run;

static inline void
run_clear (Run *r)
{
  g_free (r->out);
  g_free (r->err);
}

/* Runs secateur-cli with the NULL-terminated arguments, feeding `input`
 * (may be NULL) on stdin. */
static inline Run
run_cli (const char *input, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  const char *cli = g_getenv ("SC_CLI");
  g_assert_nonnull (cli);
  g_ptr_array_add (argv, (gpointer) cli);
  va_list ap;
  va_start (ap, input);
  const char *arg;
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);

  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) proc = g_subprocess_newv ((const char *const *) argv->pdata,
                                                    G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                                    G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                    G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  Run r = { 0 };
  g_subprocess_communicate_utf8 (proc, input, NULL, &r.out, &r.err, &error);
  g_assert_no_error (error);
  r.status = g_subprocess_get_if_exited (proc) ? g_subprocess_get_exit_status (proc) : -1;
  return r;
}
