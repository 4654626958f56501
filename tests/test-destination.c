/* test-destination.c: no export destroys the model it reads or a folder
 * Secateur did not write, whatever the flags (issue 13). Each class runs
 * secateur-cli as a user would, on a copy of a fixture model (the code
 * before the fix deleted it), or the engine where a race or a umask is
 * needed: the same folder, its parent and ancestors, a folder inside it,
 * the same through symbolic links, trailing slashes, --force over a
 * foreign folder and over an earlier export, a destination that appears
 * while the export is written, leftovers of a killed run, and the
 * permissions of the new folder. */
#include "sc-destination-private.h"
#include "sc-destination.h"
#include "sc-export.h"
#include "sc-test-cli.h"
#include "sc-test-util.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *tmp;
static int serial;

static const char keep_json[] = "[[0,2,5,7],[1,2,3,6],[0,1,4,6],[2,3,5,7]]";

/* A fresh folder holding tiny/models/moe, a copy of the MoE fixture, and
 * tiny/keep.json; returns the folder, the model through `model`. */
static char *
make_world (char **model, char **keep)
{
  g_autofree char *name = g_strdup_printf ("world-%d", serial++);
  char *world = g_build_filename (tmp, name, NULL);
  *model = g_build_filename (world, "models", "moe", NULL);
  g_assert_cmpint (g_mkdir_with_parents (*model, 0755), ==, 0);
  g_autofree char *fixture = sc_test_path ("tests/fixtures/nllb-moe-tiny");
  sc_test_copy_files (fixture, *model, NULL);
  *keep = g_build_filename (world, "keep.json", NULL);
  g_assert_true (g_file_set_contents (*keep, keep_json, -1, NULL));
  return world;
}

static int
count_entries (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  int n = 0;
  while (dir != NULL && g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

/* The copy of the fixture is all there, unchanged. */
static void
assert_model_intact (const char *model)
{
  g_autofree char *fixture = sc_test_path ("tests/fixtures/nllb-moe-tiny");
  g_assert_cmpint (count_entries (model), ==, count_entries (fixture));
  static const char *const files[] = { "model.safetensors", "config.json",
                                       "sentencepiece.bpe.model" };
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *a = g_build_filename (fixture, files[i], NULL);
      g_autofree char *b = g_build_filename (model, files[i], NULL);
      g_autofree char *da = NULL, *db = NULL;
      gsize la = 0, lb = 0;
      g_assert_true (g_file_get_contents (a, &da, &la, NULL));
      g_assert_true (g_file_get_contents (b, &db, &lb, NULL));
      g_assert_cmpmem (da, la, db, lb);
    }
}

/* `export` to `out` is refused with `why`, with and without --force. */
static void
assert_export_refused (const char *model, const char *keep, const char *out, const char *why)
{
  for (int force = 0; force < 2; force++)
    {
      Run r = run_cli (NULL, "export", "-m", model, "--keep", keep, "-o", out,
                       force ? "--force" : NULL, NULL);
      g_test_message ("export -o %s%s: %d %s", out, force ? " --force" : "", r.status, r.err);
      g_assert_cmpint (r.status, ==, 1);
      g_assert_nonnull (strstr (r.err, why));
      run_clear (&r);
      assert_model_intact (model);
    }
}

static void
test_same_folder (void)
{
  g_autofree char *model = NULL, *keep = NULL;
  g_autofree char *world = make_world (&model, &keep);
  assert_export_refused (model, keep, model, "is the model folder");
  g_autofree char *slash = g_strconcat (model, "/", NULL);
  assert_export_refused (model, keep, slash, "is the model folder");
  g_autofree char *dotted = g_build_filename (model, "..", "moe", ".", NULL);
  assert_export_refused (model, keep, dotted, "is the model folder");
  /* relative to the working directory */
  g_autofree char *cwd = g_get_current_dir ();
  g_assert_cmpint (chdir (model), ==, 0);
  assert_export_refused (model, keep, ".", "is the model folder");
  g_assert_cmpint (chdir (cwd), ==, 0);
  sc_test_rm_tree (world);
}

static void
test_parent_and_ancestor (void)
{
  g_autofree char *model = NULL, *keep = NULL;
  g_autofree char *world = make_world (&model, &keep);
  g_autofree char *parent = g_path_get_dirname (model);
  g_autofree char *other = g_build_filename (parent, "other.txt", NULL);
  g_assert_true (g_file_set_contents (other, "keep me", -1, NULL));
  assert_export_refused (model, keep, parent, "contains the model folder");
  assert_export_refused (model, keep, world, "contains the model folder");
  g_assert_true (g_file_test (other, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (keep, G_FILE_TEST_IS_REGULAR));
  sc_test_rm_tree (world);
}

static void
test_inside (void)
{
  g_autofree char *model = NULL, *keep = NULL;
  g_autofree char *world = make_world (&model, &keep);
  g_autofree char *inside = g_build_filename (model, "pruned", NULL);
  assert_export_refused (model, keep, inside, "is inside the model folder");
  g_assert_false (g_file_test (inside, G_FILE_TEST_EXISTS));
  sc_test_rm_tree (world);
}

static void
test_symlinks (void)
{
  g_autofree char *model = NULL, *keep = NULL;
  g_autofree char *world = make_world (&model, &keep);
  g_autofree char *parent = g_path_get_dirname (model);
  g_autofree char *to_model = g_build_filename (world, "link-to-moe", NULL);
  g_autofree char *to_parent = g_build_filename (world, "link-to-models", NULL);
  g_assert_cmpint (symlink (model, to_model), ==, 0);
  g_assert_cmpint (symlink (parent, to_parent), ==, 0);
  /* the model read through a link, the destination its real name */
  assert_export_refused (to_model, keep, model, "is the model folder");
  assert_export_refused (to_model, keep, parent, "contains the model folder");
  /* the destination a link to the model or to its parent */
  assert_export_refused (model, keep, to_model, "is the model folder");
  assert_export_refused (model, keep, to_parent, "contains the model folder");
  g_autofree char *via = g_build_filename (to_parent, "moe", NULL);
  assert_export_refused (model, keep, via, "is the model folder");
  g_assert_true (g_file_test (to_model, G_FILE_TEST_IS_SYMLINK));
  g_assert_true (g_file_test (to_parent, G_FILE_TEST_IS_SYMLINK));
  sc_test_rm_tree (world);
}

/* The README's own `-o pruned/`, new and then forced over the export. */
static void
test_trailing_slash (void)
{
  g_autofree char *model = NULL, *keep = NULL;
  g_autofree char *world = make_world (&model, &keep);
  g_autofree char *out = g_build_filename (world, "pruned", NULL);
  g_autofree char *slash = g_strconcat (out, "/", NULL);
  Run r = run_cli (NULL, "export", "-m", model, "--keep", keep, "-o", slash, NULL);
  g_test_message ("-o pruned/: %s", r.err);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);
  g_autofree char *weights = g_build_filename (out, "model.safetensors", NULL);
  g_assert_true (g_file_test (weights, G_FILE_TEST_IS_REGULAR));
  g_assert_true (sc_destination_is_export (out));
  g_autofree char *marker = g_build_filename (out, "marker", NULL);
  g_assert_true (g_file_set_contents (marker, "old", -1, NULL));

  g_autofree char *slashes = g_strconcat (out, "//", NULL);
  r = run_cli (NULL, "export", "-m", model, "--keep", keep, "-o", slashes, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "already exists"));
  run_clear (&r);
  r = run_cli (NULL, "export", "-m", model, "--keep", keep, "-o", slash, "--force", NULL);
  g_test_message ("-o pruned/ --force: %s", r.err);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);
  g_assert_false (g_file_test (marker, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (weights, G_FILE_TEST_IS_REGULAR));
  /* the world: models/, keep.json, pruned/ and nothing left beside them */
  g_assert_cmpint (count_entries (world), ==, 3);
  assert_model_intact (model);
  sc_test_rm_tree (world);
}

/* --force replaces an earlier export and nothing else; sparsify gives the
 * same refusals as export. */
static void
test_force_foreign (void)
{
  g_autofree char *model = NULL, *keep = NULL;
  g_autofree char *world = make_world (&model, &keep);
  g_autofree char *mine = g_build_filename (world, "mine", NULL);
  g_autofree char *notes = g_build_filename (mine, "notes.txt", NULL);
  g_assert_cmpint (g_mkdir (mine, 0755), ==, 0);
  g_assert_true (g_file_set_contents (notes, "mine", -1, NULL));
  Run r = run_cli (NULL, "export", "-m", model, "--keep", keep, "-o", mine, "--force", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "is not an earlier Secateur export"));
  run_clear (&r);
  g_assert_true (g_file_test (notes, G_FILE_TEST_IS_REGULAR));

  /* a file is not replaced either */
  r = run_cli (NULL, "export", "-m", model, "--keep", keep, "-o", notes, "--force", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "is not a folder"));
  run_clear (&r);

  /* an empty folder holds nothing to lose */
  g_autofree char *empty = g_build_filename (world, "empty", NULL);
  g_assert_cmpint (g_mkdir (empty, 0755), ==, 0);
  r = run_cli (NULL, "export", "-m", model, "--keep", keep, "-o", empty, "--force", NULL);
  g_assert_cmpint (r.status, ==, 0);
  run_clear (&r);
  g_assert_true (sc_destination_is_export (empty));

  g_autofree char *m2m = g_build_filename (world, "m2m", NULL);
  g_assert_cmpint (g_mkdir (m2m, 0755), ==, 0);
  g_autofree char *m2m_fixture = sc_test_path ("tests/fixtures/m2m-tiny");
  sc_test_copy_files (m2m_fixture, m2m, NULL);
  int n_m2m = count_entries (m2m);
  r = run_cli (NULL, "sparsify", "-m", m2m, "--method", "magnitude", "--sparsity", "0.5", "-o",
               mine, "--force", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "is not an earlier Secateur export"));
  run_clear (&r);
  g_assert_true (g_file_test (notes, G_FILE_TEST_IS_REGULAR));
  r = run_cli (NULL, "sparsify", "-m", m2m, "--method", "magnitude", "--sparsity", "0.5", "-o",
               world, "--force", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "contains the model folder"));
  run_clear (&r);
  r = run_cli (NULL, "sparsify", "-m", m2m, "--method", "magnitude", "--sparsity", "0.5", "-o", m2m,
               "--force", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "is the model folder"));
  run_clear (&r);
  g_assert_cmpint (count_entries (m2m), ==, n_m2m);
  /* and replaces its own export */
  g_autofree char *sparse = g_build_filename (world, "sparse", NULL);
  for (int i = 0; i < 2; i++)
    {
      r = run_cli (NULL, "sparsify", "-m", m2m, "--method", "magnitude", "--sparsity", "0.5", "-o",
                   sparse, "--force", NULL);
      g_assert_cmpint (r.status, ==, 0);
      run_clear (&r);
      g_assert_true (sc_destination_is_export (sparse));
    }
  assert_model_intact (model);
  sc_test_rm_tree (world);
}

/* Exports through the engine, each tensor through `replaced`. */
typedef struct
{
  const char *appear; /* made, with a file in it, at the first tensor */
} Hook;

static const ScTensor *
appear_hook (gpointer data, const char *name)
{
  Hook *h = data;
  if (h->appear != NULL && !g_file_test (h->appear, G_FILE_TEST_EXISTS))
    {
      g_assert_cmpint (g_mkdir (h->appear, 0755), ==, 0);
      g_autofree char *file = g_build_filename (h->appear, "theirs", NULL);
      g_assert_true (g_file_set_contents (file, "another export", -1, NULL));
    }
  return NULL;
}

/* A destination that appears while the export is written (another export
 * finishing first) is not replaced, forced or not. */
static void
test_race (void)
{
  g_autofree char *model = NULL, *keep = NULL;
  g_autofree char *world = make_world (&model, &keep);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScModel) m = sc_model_load (model, NULL, &error);
  g_assert_no_error (error);
  g_autofree char *out = g_build_filename (world, "pruned", NULL);
  g_autofree char *theirs = g_build_filename (out, "theirs", NULL);
  for (int force = 0; force < 2; force++)
    {
      Hook h = { out };
      ScExportOptions opts = { .force = force };
      g_assert_false (sc_export_checkpoint (sc_model_get_checkpoint (m), appear_hook, &h, NULL, out,
                                            &opts, NULL, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
      g_assert_nonnull (strstr (error->message, "appeared while this export was being written"));
      g_clear_error (&error);
      g_assert_true (g_file_test (theirs, G_FILE_TEST_IS_REGULAR));
      g_assert_cmpint (count_entries (out), ==, 1);
      g_assert_cmpint (count_entries (world), ==, 3); /* models, keep.json, pruned */
      sc_test_rm_tree (out);
    }

  /* Two runs at once, through the helper: the second does not take the
   * first's unfinished folder for a leftover, and only one gets the name. */
  const char *sources[] = { model, NULL };
  g_autoptr (ScDestination) a = sc_destination_begin (out, sources, FALSE, NULL, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (ScDestination) b = sc_destination_begin (out, sources, FALSE, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_test (sc_destination_get_staging (a), G_FILE_TEST_IS_DIR));
  g_autofree char *file = g_build_filename (sc_destination_get_staging (a), "a", NULL);
  g_assert_true (g_file_set_contents (file, "a", -1, NULL));
  g_assert_true (sc_destination_commit (a, &error));
  g_assert_no_error (error);
  g_assert_false (sc_destination_commit (b, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
  g_clear_error (&error);
  g_clear_pointer (&b, sc_destination_free);
  g_autofree char *kept = g_build_filename (out, "a", NULL);
  g_assert_true (g_file_test (kept, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpint (count_entries (world), ==, 3);
  sc_test_rm_tree (world);
}

/* A folder that looks like an earlier export, with a marker file. */
static void
make_fake_export (const char *dir, const char *marker)
{
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_autofree char *cfg = g_build_filename (dir, "config.json", NULL);
  g_assert_true (g_file_set_contents (cfg, "{\"secateur_export\": {\"version\": 1}}", -1, NULL));
  g_autofree char *m = g_build_filename (dir, "marker", NULL);
  g_assert_true (g_file_set_contents (m, marker, -1, NULL));
}

/* A run killed while replacing an export left it moved aside and the
 * destination missing, and its unfinished folder: the next run puts the
 * export back, removes the unfinished folder, and says so. */
static void
test_stale_leftovers (void)
{
  g_autofree char *model = NULL, *keep = NULL;
  g_autofree char *world = make_world (&model, &keep);
  g_autofree char *out = g_build_filename (world, "pruned", NULL);
  g_autofree char *old = g_build_filename (world, ".pruned.old-Ab12Cd", NULL);
  g_autofree char *partial = g_build_filename (world, ".pruned.partial-Ef34Gh", NULL);
  make_fake_export (old, "previous");
  g_assert_cmpint (g_mkdir (partial, 0755), ==, 0);
  g_autofree char *junk = g_build_filename (partial, "model.safetensors", NULL);
  g_assert_true (g_file_set_contents (junk, "half", -1, NULL));

  Run r = run_cli (NULL, "export", "-m", model, "--keep", keep, "-o", out, NULL);
  g_test_message ("stale leftovers: %s", r.err);
  g_assert_cmpint (r.status, ==, 1); /* the earlier export is back: not replaced unasked */
  g_assert_nonnull (strstr (r.err, "put "));
  g_assert_nonnull (strstr (r.err, "back from"));
  g_assert_nonnull (strstr (r.err, "removed "));
  g_assert_nonnull (strstr (r.err, ".pruned.partial-Ef34Gh"));
  g_assert_nonnull (strstr (r.err, "already exists"));
  run_clear (&r);
  g_autofree char *marker = g_build_filename (out, "marker", NULL);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (marker, &text, NULL, NULL));
  g_assert_cmpstr (text, ==, "previous");
  g_assert_false (g_file_test (old, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (partial, G_FILE_TEST_EXISTS));

  /* A run killed after the new export was in place left the old one. */
  make_fake_export (old, "older");
  r = run_cli (NULL, "export", "-m", model, "--keep", keep, "-o", out, "--force", NULL);
  g_test_message ("stale old: %s", r.err);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.err, "removed "));
  g_assert_nonnull (strstr (r.err, ".pruned.old-Ab12Cd"));
  run_clear (&r);
  g_assert_false (g_file_test (old, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (marker, G_FILE_TEST_EXISTS));
  g_assert_true (sc_destination_is_export (out));
  g_assert_cmpint (count_entries (world), ==, 3);

  /* A leftover that is not an export is not removed. */
  make_fake_export (old, "x");
  g_autofree char *cfg = g_build_filename (old, "config.json", NULL);
  g_assert_true (g_file_set_contents (cfg, "{}", -1, NULL));
  r = run_cli (NULL, "export", "-m", model, "--keep", keep, "-o", out, "--force", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.err, "left "));
  run_clear (&r);
  g_assert_true (g_file_test (cfg, G_FILE_TEST_IS_REGULAR));
  sc_test_rm_tree (world);
}

/* The new folder has the permissions the umask gives, not 0700. */
static void
test_umask (void)
{
  g_autofree char *model = NULL, *keep = NULL;
  g_autofree char *world = make_world (&model, &keep);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScModel) m = sc_model_load (model, NULL, &error);
  g_assert_no_error (error);
  static const mode_t masks[] = { 022, 027, 002 };
  for (guint i = 0; i < G_N_ELEMENTS (masks); i++)
    {
      g_autofree char *name = g_strdup_printf ("out-%03o", (unsigned) masks[i]);
      g_autofree char *out = g_build_filename (world, name, NULL);
      mode_t saved = umask (masks[i]);
      ScExportOptions opts = { 0 };
      gboolean ok = sc_export_checkpoint (sc_model_get_checkpoint (m), NULL, NULL, NULL, out, &opts,
                                          NULL, &error);
      umask (saved);
      g_assert_no_error (error);
      g_assert_true (ok);
      struct stat st;
      g_assert_cmpint (stat (out, &st), ==, 0);
      g_assert_cmpint (st.st_mode & 0777, ==, 0777 & ~masks[i]);
    }
  sc_test_rm_tree (world);
}

/* Where renameat2 is missing: replaced in two steps, still never over
 * what appeared meanwhile. */
static void
test_plain_rename (void)
{
  g_autofree char *model = NULL, *keep = NULL;
  g_autofree char *world = make_world (&model, &keep);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScModel) m = sc_model_load (model, NULL, &error);
  g_assert_no_error (error);
  g_autofree char *out = g_build_filename (world, "pruned", NULL);
  sc_destination_set_plain_rename (TRUE);
  ScExportOptions opts = { .force = TRUE };
  ScCheckpoint *ckpt = sc_model_get_checkpoint (m);
  make_fake_export (out, "previous");
  g_assert_true (sc_export_checkpoint (ckpt, NULL, NULL, NULL, out, &opts, NULL, &error));
  g_assert_no_error (error);
  g_autofree char *marker = g_build_filename (out, "marker", NULL);
  g_assert_false (g_file_test (marker, G_FILE_TEST_EXISTS));
  g_assert_true (sc_destination_is_export (out));
  g_assert_cmpint (count_entries (world), ==, 3);
  sc_test_rm_tree (out);
  Hook h = { out };
  g_assert_false (sc_export_checkpoint (ckpt, appear_hook, &h, NULL, out, &opts, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
  g_clear_error (&error);
  g_autofree char *theirs = g_build_filename (out, "theirs", NULL);
  g_assert_true (g_file_test (theirs, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpint (count_entries (world), ==, 3);
  sc_destination_set_plain_rename (FALSE);
  sc_test_rm_tree (world);
}

static void
test_normalise (void)
{
  static const char *const cases[][2] = {
    { "/a/b/", "/a/b" },     { "/a/b//", "/a/b" },  { "/a/./b", "/a/b" },
    { "/a/c/../b", "/a/b" }, { "//a///b", "/a/b" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *n = sc_destination_normalise (cases[i][0]);
      g_assert_cmpstr (n, ==, cases[i][1]);
    }
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *rel = sc_destination_normalise ("pruned/");
  g_autofree char *want = g_build_filename (cwd, "pruned", NULL);
  g_assert_cmpstr (rel, ==, want);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_autoptr (GError) error = NULL;
  tmp = g_dir_make_tmp ("sc-destination-XXXXXX", &error);
  g_assert_no_error (error);
  g_test_add_func ("/destination/normalise", test_normalise);
  g_test_add_func ("/destination/same-folder", test_same_folder);
  g_test_add_func ("/destination/parent-and-ancestor", test_parent_and_ancestor);
  g_test_add_func ("/destination/inside", test_inside);
  g_test_add_func ("/destination/symlinks", test_symlinks);
  g_test_add_func ("/destination/trailing-slash", test_trailing_slash);
  g_test_add_func ("/destination/force-foreign", test_force_foreign);
  g_test_add_func ("/destination/race", test_race);
  g_test_add_func ("/destination/stale-leftovers", test_stale_leftovers);
  g_test_add_func ("/destination/umask", test_umask);
  g_test_add_func ("/destination/plain-rename", test_plain_rename);
  int rc = g_test_run ();
  sc_test_rm_tree (tmp);
  g_free (tmp);
  return rc;
}
