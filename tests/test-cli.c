/* test-cli.c: secateur-cli as a user runs it: info, translate through
 * stdin/stdout and through files, and errors on stderr with a non-zero
 * exit status. The binary comes from the SC_CLI environment variable. */
#include "sc-test-util.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

typedef struct {
  int   status;
  char *out;
  char *err;
} Run;

static void
run_clear (Run *r)
{
  g_free (r->out);
  g_free (r->err);
}

static Run
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

static char *
fixture (const char *name)
{
  g_autofree char *rel = g_build_filename ("tests/fixtures", name, NULL);
  return sc_test_path (rel);
}

static void
test_info (void)
{
  g_autofree char *moe = fixture ("nllb-moe-tiny-54b-style");
  Run r = run_cli (NULL, "info", moe, NULL);
  g_assert_cmpint (r.status, ==, 0);
  /* 942,336 parameters: 8 experts x 4 MoE layers x 16,576 in experts. */
  g_assert_nonnull (strstr (r.out, "NLLB-200 Mixture-of-Experts"));
  g_assert_nonnull (strstr (r.out, "942336 total = 411904 dense + 530432 in experts"));
  g_assert_nonnull (strstr (r.out, "PyTorch zip (.bin), 4 file(s)"));
  g_assert_nonnull (strstr (r.out, "Languages:     202"));
  g_assert_nonnull (strstr (r.out, "eng_Latn"));
  run_clear (&r);

  g_autofree char *m2m = fixture ("m2m-tiny");
  r = run_cli (NULL, "info", m2m, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "NLLB-200 dense (M2M100)"));
  g_assert_nonnull (strstr (r.out, "476160 total = 476160 dense + 0 in experts"));
  g_assert_nonnull (strstr (r.out, "safetensors, 1 file(s)"));
  run_clear (&r);
}

static void
test_translate_stdio (void)
{
  g_autofree char *moe = fixture ("nllb-moe-tiny");
  const char *input = "All human beings are born free and equal in dignity and rights.\n"
                      "\n"
                      "Everyone has the right to education.\n";
  Run r = run_cli (input, "translate", "-m", moe, "-s", "eng_Latn", "-t", "fra_Latn", "--beam",
                   "4", "--max-len", "24", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_auto (GStrv) lines = g_strsplit (r.out, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 4);   /* three lines and the final newline */
  g_assert_cmpstr (lines[1], ==, "");
  g_assert_cmpstr (lines[3], ==, "");
  g_assert_cmpuint (strlen (lines[0]), >, 0);

  /* The same through files gives the same text. */
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("secateur-cli-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *in = g_build_filename (dir, "in.txt", NULL);
  g_autofree char *out = g_build_filename (dir, "out.txt", NULL);
  g_file_set_contents (in, input, -1, &error);
  g_assert_no_error (error);
  Run f = run_cli (NULL, "translate", "-m", moe, "-s", "eng_Latn", "-t", "fra_Latn", "--beam",
                   "4", "--max-len", "24", "-i", in, "-o", out, NULL);
  g_assert_cmpint (f.status, ==, 0);
  g_autofree char *written = NULL;
  g_file_get_contents (out, &written, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (written, ==, r.out);
  g_unlink (in);
  g_unlink (out);
  g_rmdir (dir);
  run_clear (&f);
  run_clear (&r);
}

static void
test_errors (void)
{
  g_autofree char *moe = fixture ("nllb-moe-tiny");

  Run r = run_cli ("x\n", "translate", "-m", moe, "-s", "eng_Latn", "-t", "tlh_Latn", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "unknown language code 'tlh_Latn'"));
  g_assert_cmpstr (r.out, ==, "");
  run_clear (&r);

  r = run_cli ("x\n", "translate", "-m", "/nonexistent/model", "-s", "eng_Latn", "-t", "fra_Latn",
               NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "config.json"));
  run_clear (&r);

  r = run_cli ("x\n", "translate", "-m", moe, "-s", "eng_Latn", NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "required"));
  run_clear (&r);

  r = run_cli ("caf\xc3\n", "translate", "-m", moe, "-s", "eng_Latn", "-t", "fra_Latn", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "UTF-8"));
  run_clear (&r);

  r = run_cli (NULL, "translate", "-m", moe, "-s", "eng_Latn", "-t", "fra_Latn", "-i",
               "/nonexistent/input.txt", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "input.txt"));
  run_clear (&r);

  r = run_cli (NULL, "frobnicate", NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "unknown command"));
  run_clear (&r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cli/info", test_info);
  g_test_add_func ("/cli/translate-stdio", test_translate_stdio);
  g_test_add_func ("/cli/errors", test_errors);
  return g_test_run ();
}
