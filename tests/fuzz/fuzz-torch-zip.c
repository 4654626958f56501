/* fuzz-torch-zip.c: libFuzzer target for the PyTorch zip reader (zip
 * directory, local headers, ZIP64, then the unpickler and tensor views). */
#include "sc-torch-zip.h"
#include "fuzz-common.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  GError *error = NULL;
  GPtrArray *tensors = sc_torch_zip_parse (data, size, &error);

  if (tensors)
    {
      fuzz_touch (tensors);
      g_ptr_array_unref (tensors);
    }
  else if (error == NULL || error->domain != SC_ERROR)
    abort ();
  g_clear_error (&error);
  return 0;
}
