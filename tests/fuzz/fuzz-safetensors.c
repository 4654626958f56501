/* fuzz-safetensors.c: libFuzzer target for the safetensors parser. */
#include "sc-safetensors.h"
#include "fuzz-common.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  GError *error = NULL;
  GPtrArray *tensors = sc_safetensors_parse (data, size, &error);

  if (tensors)
    {
      fuzz_touch (tensors);
      g_ptr_array_unref (tensors);
    }
  else if (error == NULL || error->domain != SC_ERROR)
    abort (); /* failure without a proper error */
  g_clear_error (&error);
  return 0;
}
