/* test-fuzz-regressions.c: replays every fuzzer input we keep, the seed
 * corpus and the crashes found so far (tests/fuzz/{corpus,regressions}/),
 * through the parsers. Each must return a result or a GError, never crash
 * or leak (the ASan build of the suite checks that). Seeds written by the
 * real PyTorch / safetensors writers must also parse. */
#include "sc-pickle.h"
#include "sc-safetensors.h"
#include "sc-torch-zip.h"

#include <string.h>

#ifndef SC_SRCDIR
#define SC_SRCDIR "."
#endif

typedef enum
{
  KIND_SAFETENSORS,
  KIND_PICKLE,
  KIND_ZIP
} Kind;

static const char *const kind_dirs[] = { "safetensors", "pickle", "zip" };

/* Seeds that come straight from a real writer (make-corpus.py). */
static gboolean
must_parse (const char *file)
{
  static const char *const prefixes[] = {
    "mixed", "param", "plain-dict", "torch-1.13", "fixture", "metadata", "builder",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (prefixes); i++)
    if (g_str_has_prefix (file, prefixes[i]))
      return TRUE;
  return FALSE;
}

static const char *
srcdir (void)
{
  const char *env = g_getenv ("SC_SRCDIR");
  return env ? env : SC_SRCDIR;
}

/* Touch every byte a returned tensor claims, so an out-of-bounds view
 * shows up under ASan. */
static void
touch (GPtrArray *tensors)
{
  volatile guint8 sink = 0;

  for (guint i = 0; i < tensors->len; i++)
    {
      const ScTensor *t = tensors->pdata[i];
      const guint8 *p = t->data;
      float f[4];
      int64_t n = sc_tensor_numel (t);

      for (guint64 k = 0; k < t->nbytes; k++)
        sink ^= p[k];
      sc_tensor_read_f32 (t, 0, MIN (n, 4), f);
    }
  (void) sink;
}

static gboolean
replay (Kind kind, const guint8 *data, gsize len, GError **error)
{
  GPtrArray *out = NULL;

  switch (kind)
    {
    case KIND_SAFETENSORS:
      out = sc_safetensors_parse (data, len, error);
      if (out)
        touch (out);
      break;
    case KIND_PICKLE:
      out = sc_pickle_load_state_dict (data, len, error);
      break;
    case KIND_ZIP:
      out = sc_torch_zip_parse (data, len, error);
      if (out)
        touch (out);
      break;
    }
  if (out == NULL)
    return FALSE;
  g_ptr_array_unref (out);
  return TRUE;
}

static guint
replay_dir (const char *top, Kind kind, gboolean check_seeds)
{
  g_autofree char *dir = g_build_filename (srcdir (), "tests", "fuzz", top, kind_dirs[kind], NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (d == NULL)
    return 0;
  while ((name = g_dir_read_name (d)) != NULL)
    if (name[0] != '.' && strcmp (name, "README.md") != 0)
      g_ptr_array_add (names, g_strdup (name));

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (dir, names->pdata[i], NULL);
      g_autofree char *contents = NULL;
      g_autoptr (GError) error = NULL;
      gsize len = 0;
      gboolean ok;

      g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
      ok = replay (kind, (const guint8 *) contents, len, &error);
      g_test_message ("%s/%s/%s: %s", top, kind_dirs[kind], (char *) names->pdata[i],
                      ok ? "parsed" : error->message);
      if (!ok)
        g_assert_true (error != NULL && error->domain == SC_ERROR);
      if (check_seeds && must_parse (names->pdata[i]) && !ok)
        g_error ("seed %s from a real writer does not parse: %s", path, error->message);
    }
  return names->len;
}

static void
test_corpus (void)
{
  guint n = 0;

  for (Kind k = KIND_SAFETENSORS; k <= KIND_ZIP; k++)
    n += replay_dir ("corpus", k, TRUE);
  if (n == 0)
    g_test_skip ("no corpus found");
}

static void
test_regressions (void)
{
  guint n = 0;

  for (Kind k = KIND_SAFETENSORS; k <= KIND_ZIP; k++)
    n += replay_dir ("regressions", k, FALSE);
  g_test_message ("%u regression inputs replayed", n);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/fuzz/corpus", test_corpus);
  g_test_add_func ("/fuzz/regressions", test_regressions);

  return g_test_run ();
}
