/* fuzz-pickle.c: libFuzzer target for the restricted unpickler. */
#include "sc-pickle.h"
#include "fuzz-common.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  GError *error = NULL;
  GPtrArray *records = sc_pickle_load_state_dict (data, size, &error);

  if (records)
    {
      for (guint i = 0; i < records->len; i++)
        {
          const ScPickleTensor *t = records->pdata[i];
          if (t->name == NULL || t->storage_key == NULL || t->n_dims < 0 ||
              t->n_dims > SC_TENSOR_MAX_DIMS || t->storage_offset < 0)
            abort ();
        }
      g_ptr_array_unref (records);
    }
  else if (error == NULL || error->domain != SC_ERROR)
    abort ();
  g_clear_error (&error);
  return 0;
}
