/* test-hostile-files.c: the small files of a model directory and the expert
 * files the CLI reads, made hostile: JSON nested 100,000 deep, a FIFO, a
 * symlink to /dev/zero, a file over the size limit; and weight shards that
 * are a directory or a FIFO. Each must give a prompt error naming the
 * problem, never a stack overflow, a hang or gigabytes of memory.
 *
 * Every case runs in a subprocess with a time limit, so a loader that
 * blocks on the FIFO or crashes fails its own case, not the whole run. */
#include "sc-checkpoint.h"
#include "sc-config.h"
#include "sc-destination.h"
#include "sc-expert-index.h"
#include "sc-json-file.h"
#include "sc-test-util.h"
#include "sc-safetensors.h"
#include "sc-sampler.h"
#include "sc-tokenizer.h"
#include "sc-torch-zip.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef enum
{
  HOSTILE_DEEP,
  HOSTILE_FIFO,
  HOSTILE_DEV_ZERO,
  HOSTILE_OVERSIZE,
} Hostile;

typedef enum
{
  LOADER_CONFIG,     /* sc_config_load: config.json */
  LOADER_GENERATION, /* sc_config_load: generation_config.json */
  LOADER_TOKENIZER,  /* sc_tokenizer_load: tokenizer_config.json */
  LOADER_EXPERTS,    /* sc_expert_index_load: an --experts index */
} Loader;

typedef struct
{
  Loader loader;
  Hostile hostile;
} Case;

static const char *const loader_file[] = { "config.json", "generation_config.json",
                                           "tokenizer_config.json", "experts.json" };
/* The limits the errors must state. */
static const char *const loader_limit[] = { "limit is 16 MiB", "limit is 16 MiB", "limit is 16 MiB",
                                            "limit is 64 MiB" };
static const guint64 loader_limit_bytes[] = { 16u << 20, 16u << 20, 16u << 20, 64u << 20 };
static const char *const hostile_name[] = { "deep", "fifo", "dev-zero", "oversize" };

/* A scratch copy of the tiny model's config and tokenizer files. */
static char *
scratch_model_meta (void)
{
  g_autofree char *src = sc_test_path ("tests/fixtures/nllb-moe-tiny");
  g_autoptr (GError) error = NULL;
  char *dst = g_dir_make_tmp ("secateur-hostile-XXXXXX", &error);
  g_assert_no_error (error);
  static const char *const files[] = { "config.json", "generation_config.json",
                                       "sentencepiece.bpe.model", "tokenizer_config.json", NULL };
  sc_test_copy_files (src, dst, files);
  return dst;
}

/* Replaces `path` with the hostile thing. */
static void
make_hostile (const char *path, Hostile hostile, guint64 limit)
{
  g_autoptr (GError) error = NULL;
  g_unlink (path);
  switch (hostile)
    {
    case HOSTILE_DEEP:
      {
        /* 100,000 levels of '[' (200 KB): json-glib's recursive parser
         * overflows the stack on this */
        GString *s = g_string_new ("{\"model_type\": ");
        for (int i = 0; i < 100000; i++)
          g_string_append_c (s, '[');
        for (int i = 0; i < 100000; i++)
          g_string_append_c (s, ']');
        g_string_append_c (s, '}');
        g_file_set_contents (path, s->str, (gssize) s->len, &error);
        g_assert_no_error (error);
        g_string_free (s, TRUE);
        break;
      }
    case HOSTILE_FIFO:
      g_assert_cmpint (mkfifo (path, 0600), ==, 0);
      break;
    case HOSTILE_DEV_ZERO:
      g_assert_cmpint (symlink ("/dev/zero", path), ==, 0);
      break;
    case HOSTILE_OVERSIZE:
      {
        /* valid JSON, then one byte past the limit of (sparse) padding */
        g_file_set_contents (path, "{}", -1, &error);
        g_assert_no_error (error);
        g_assert_cmpint (truncate (path, (off_t) limit + 1), ==, 0);
        break;
      }
    }
}

static void
expect_message (const GError *error, const char *needle)
{
  g_assert_nonnull (error);
  g_assert_true (error->domain == SC_ERROR || error->domain == SC_EXPERT_INDEX_ERROR);
  if (strstr (error->message, needle) == NULL)
    g_error ("error \"%s\" does not say \"%s\"", error->message, needle);
}

static void
run_case (const Case *c)
{
  g_autofree char *dir = scratch_model_meta ();
  g_autofree char *path = g_build_filename (dir, loader_file[c->loader], NULL);
  g_autoptr (GError) error = NULL;

  make_hostile (path, c->hostile, loader_limit_bytes[c->loader]);
  switch (c->loader)
    {
    case LOADER_CONFIG:
    case LOADER_GENERATION:
      g_assert_null (sc_config_load (dir, &error));
      break;
    case LOADER_TOKENIZER:
      g_assert_null (sc_tokenizer_load (dir, &error));
      break;
    case LOADER_EXPERTS:
      g_assert_null (sc_expert_index_load (path, 12, 6, 128, &error));
      break;
    }
  switch (c->hostile)
    {
    case HOSTILE_DEEP:
      expect_message (error, "nested too deeply");
      break;
    case HOSTILE_FIFO:
      expect_message (error, "is a FIFO, not a regular file");
      break;
    case HOSTILE_DEV_ZERO:
      expect_message (error, "is a character device, not a regular file");
      break;
    case HOSTILE_OVERSIZE:
      expect_message (error, "too large");
      expect_message (error, loader_limit[c->loader]);
      break;
    }
  expect_message (error, loader_file[c->loader]);
  sc_test_rm_tree (dir);
}

/* In a subprocess: a hang (the FIFO) or a crash (the nesting) fails this
 * case only, within 60 s. */
static void
test_case (gconstpointer data)
{
  if (g_test_subprocess ())
    {
      run_case (data);
      return;
    }
  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* Weight shards that are not regular files: say what they are, and never
 * open a FIFO (which would block). */
static void
run_shard (gboolean fifo, gboolean indexed)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("secateur-hostile-XXXXXX", &error);
  g_assert_no_error (error);
  const char *shard = indexed ? "model-00001-of-00001.safetensors" : "model.safetensors";
  g_autofree char *path = g_build_filename (dir, shard, NULL);
  if (indexed)
    {
      g_autofree char *index = g_build_filename (dir, "model.safetensors.index.json", NULL);
      g_autofree char *text = g_strdup_printf ("{\"weight_map\": {\"a.weight\": \"%s\"}}", shard);
      g_file_set_contents (index, text, -1, &error);
      g_assert_no_error (error);
    }
  if (fifo)
    g_assert_cmpint (mkfifo (path, 0600), ==, 0);
  else
    g_assert_cmpint (g_mkdir (path, 0700), ==, 0);

  g_autoptr (ScCheckpoint) ckpt = sc_checkpoint_open (dir, &error);
  g_assert_null (ckpt);
  g_assert_error (error, SC_ERROR, SC_ERROR_IO);
  expect_message (error, shard);
  expect_message (error,
                  fifo ? "is a FIFO, not a regular file" : "is a directory, not a regular file");
  g_assert_null (strstr (error->message, "missing"));
  g_unlink (path);
  g_rmdir (path);
  sc_test_rm_tree (dir);
}

/* The shard readers themselves, called on a FIFO or /dev/zero directly
 * (no stat before them to save them). */
static void
run_shard_open (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("secateur-hostile-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *fifo = g_build_filename (dir, "model.safetensors", NULL);
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  const char *paths[] = { fifo, "/dev/zero" };
  const char *kinds[] = { "is a FIFO, not a regular file",
                          "is a character device, not a regular file" };
  for (int i = 0; i < 2; i++)
    {
      g_assert_null (sc_safetensors_open (paths[i], &error));
      g_assert_error (error, SC_ERROR, SC_ERROR_IO);
      expect_message (error, kinds[i]);
      g_clear_error (&error);
      g_assert_null (sc_torch_zip_open (paths[i], &error));
      g_assert_error (error, SC_ERROR, SC_ERROR_IO);
      expect_message (error, kinds[i]);
      g_clear_error (&error);
    }
  sc_test_rm_tree (dir);
}

static void
test_shard (gconstpointer data)
{
  int kind = GPOINTER_TO_INT (data);
  if (g_test_subprocess ())
    {
      if (kind == 4)
        run_shard_open ();
      else
        run_shard (kind & 1, kind & 2);
      return;
    }
  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* The other small files read from folders Secateur does not own: a share
 * table given with --shares or in a model folder, and the config.json of a
 * folder an export would replace. A FIFO must not block them, nor an
 * oversized file be read. */
static void
run_other_small_files (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("secateur-hostile-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *shares = g_build_filename (dir, "language-shares.tsv", NULL);
  make_hostile (shares, HOSTILE_FIFO, 0);
  g_assert_null (sc_share_table_load (shares, &error));
  expect_message (error, "is a FIFO, not a regular file");
  g_clear_error (&error);
  make_hostile (shares, HOSTILE_OVERSIZE, SC_JSON_CONFIG_MAX_BYTES);
  g_assert_null (sc_share_table_load (shares, &error));
  expect_message (error, "too large");
  expect_message (error, "limit is 16 MiB");
  g_clear_error (&error);

  /* not an export, so even --force may not replace the folder */
  g_autofree char *config = g_build_filename (dir, "config.json", NULL);
  make_hostile (config, HOSTILE_FIFO, 0);
  g_assert_false (sc_destination_is_export (dir));
  g_assert_false (sc_destination_check (dir, NULL, TRUE, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  sc_test_rm_tree (dir);
}

static void
test_other_small_files (void)
{
  if (g_test_subprocess ())
    {
      run_other_small_files ();
      return;
    }
  g_test_trap_subprocess (NULL, 30 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* The reader itself: what it must still accept (a symlink to a regular
 * file, as in the Hugging Face cache; a file exactly at the limit; nesting
 * exactly at the depth limit) and where it draws the lines. */
static void
test_reader_limits (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("secateur-hostile-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *blob = g_build_filename (dir, "blob", NULL);
  g_autofree char *link = g_build_filename (dir, "config.json", NULL);
  g_file_set_contents (blob, "{\"a\": [1, 2]}", -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (symlink ("blob", link), ==, 0);

  g_autofree char *data = NULL;
  gsize len = 0;
  g_assert_true (sc_file_read_small (link, 13, &data, &len, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (len, ==, 13);
  g_assert_cmpstr (data, ==, "{\"a\": [1, 2]}"); /* NUL-terminated */
  g_clear_pointer (&data, g_free);
  g_assert_false (sc_file_read_small (link, 12, &data, &len, &error));
  g_assert_error (error, SC_ERROR, SC_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "13 bytes; the limit is 12 bytes"));
  g_assert_null (data);
  g_clear_error (&error);

  g_autoptr (JsonNode) root = sc_json_file_load (link, 1024, &error);
  g_assert_no_error (error);
  g_assert_cmpint (
      json_array_get_length (json_object_get_array_member (json_node_get_object (root), "a")), ==,
      2);

  g_autofree char *missing = g_build_filename (dir, "absent.json", NULL);
  g_assert_null (sc_json_file_load (missing, 1024, &error));
  g_assert_error (error, SC_ERROR, SC_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "absent.json"));
  g_clear_error (&error);

  /* 32 levels parse, 33 do not */
  for (int depth = SC_JSON_MAX_DEPTH; depth <= SC_JSON_MAX_DEPTH + 1; depth++)
    {
      g_autofree char *open = g_strnfill (depth, '[');
      g_autofree char *close = g_strnfill (depth, ']');
      g_autofree char *text = g_strconcat (open, "\"[[[\"", close, NULL);
      g_autoptr (JsonNode) n = sc_json_parse (text, -1, "x.json", &error);
      if (depth == SC_JSON_MAX_DEPTH)
        {
          g_assert_no_error (error);
          g_assert_nonnull (n);
        }
      else
        {
          g_assert_null (n);
          g_assert_error (error, SC_ERROR, SC_ERROR_FORMAT);
          g_assert_nonnull (strstr (error->message, "x.json is nested too deeply"));
          g_clear_error (&error);
        }
    }
  /* json-glib alone takes the first of two top-level values */
  g_assert_null (sc_json_parse ("[] [1]", -1, "two.json", &error));
  g_assert_error (error, SC_ERROR, SC_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "two.json is not valid JSON"));
  g_clear_error (&error);
  g_assert_null (sc_json_parse ("{\"a\": \"}{\"}{}", -1, "two.json", &error));
  g_assert_error (error, SC_ERROR, SC_ERROR_FORMAT);
  g_clear_error (&error);
  g_autoptr (JsonNode) one = sc_json_parse (" {\"a\": \"}{\"} \n", -1, "one.json", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (one), "a"), ==, "}{");
  g_assert_null (sc_json_parse ("", 0, "empty.json", &error));
  g_assert_error (error, SC_ERROR, SC_ERROR_FORMAT);
  g_clear_error (&error);
  sc_test_rm_tree (dir);
}

int
main (int argc, char **argv)
{
  static Case cases[4 * 4];
  g_test_init (&argc, &argv, NULL);
  for (int l = 0; l < 4; l++)
    for (int h = 0; h < 4; h++)
      {
        Case *c = &cases[l * 4 + h];
        c->loader = (Loader) l;
        c->hostile = (Hostile) h;
        g_autofree char *name = g_strdup_printf ("/hostile/%s/%s", loader_file[l], hostile_name[h]);
        g_test_add_data_func (name, c, test_case);
      }
  g_test_add_func ("/hostile/reader-limits", test_reader_limits);
  g_test_add_data_func ("/hostile/shard/directory", GINT_TO_POINTER (0), test_shard);
  g_test_add_data_func ("/hostile/shard/fifo", GINT_TO_POINTER (1), test_shard);
  g_test_add_data_func ("/hostile/shard/indexed-directory", GINT_TO_POINTER (2), test_shard);
  g_test_add_data_func ("/hostile/shard/indexed-fifo", GINT_TO_POINTER (3), test_shard);
  g_test_add_data_func ("/hostile/shard/open-fifo-or-device", GINT_TO_POINTER (4), test_shard);
  g_test_add_func ("/hostile/other-small-files", test_other_small_files);
  return g_test_run ();
}
