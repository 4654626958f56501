/* make-zip-seeds.c: writes the hand-built zip seeds (ZIP64 records and
 * extra fields, PyTorch's 64-byte alignment, a byteorder record), which the
 * PyTorch-written seeds lack. Run from the repository root:
 *
 *   cc -Iengine/io -Itests tests/fuzz/make-zip-seeds.c -o /tmp/make-zip-seeds \
 *     $(pkg-config --cflags --libs glib-2.0) && /tmp/make-zip-seeds
 */
#include "sc-test-builders.h"

static void
save (const char *name, GByteArray *b)
{
  g_autofree char *path = g_build_filename ("tests", "fuzz", "corpus", "zip", name, NULL);
  GError *error = NULL;

  if (!g_file_set_contents (path, (const char *) b->data, b->len, &error))
    g_error ("%s", error->message);
  g_byte_array_unref (b);
}

int
main (void)
{
  float f[6] = { 0, 1, 2, 3, 4, 5 };
  guint16 h[4] = { 0x3c00, 0xc000, 0x3555, 0x7bff };
  g_autoptr (GBytes) s0 = g_bytes_new (f, sizeof f);
  g_autoptr (GBytes) s1 = g_bytes_new (h, sizeof h);
  GBytes *st[2] = { s0, s1 };
  const TbTensor ts[] = {
    { "w", "FloatStorage", "0", 6, 0, 2, { 2, 3 } },
    { "h", "HalfStorage", "1", 4, 1, 1, { 3 } },
    { "row", "FloatStorage", "0", 6, 3, 2, { 1, 3 }, { 9, 1 } },
  };
  g_autoptr (GByteArray) pkl = g_byte_array_new ();
  TbZip z;

  save ("builder-zip64.zip", tb_torch_zip ("archive", ts, 3, st, 2, TRUE, 0));
  save ("builder-zip64-aligned.zip",
        tb_torch_zip ("pytorch_model-00001-of-00002", ts, 3, st, 2, TRUE, 64));
  save ("builder-aligned.zip", tb_torch_zip ("pytorch_model", ts, 3, st, 2, FALSE, 64));

  tb_pickle_state_dict (pkl, ts, 2);
  tb_zip_init (&z, FALSE, 0);
  tb_zip_add (&z, "archive/data.pkl", pkl->data, pkl->len);
  tb_zip_add (&z, "archive/byteorder", "little", 6);
  tb_zip_add (&z, "archive/data/0", f, sizeof f);
  tb_zip_add (&z, "archive/data/1", h, sizeof h);
  save ("builder-byteorder.zip", tb_zip_finish (&z));
  return 0;
}
