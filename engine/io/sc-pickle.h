/* sc-pickle.h: a restricted unpickler for state dicts written by torch.save.
 *
 * It understands the opcodes protocol 2 uses for a (possibly ordered) dict
 * of tensors, and accepts only a whitelist of globals:
 * collections.OrderedDict, torch._utils._rebuild_tensor_v2,
 * torch._utils._rebuild_parameter and the typed storages
 * torch.{Float,Half,BFloat16,Long,Int}Storage. Anything else is an error;
 * nothing is ever called or imported.
 */
#pragma once

#include "sc-tensor.h"

G_BEGIN_DECLS

typedef struct {
  char    *name;
  char    *storage_key;    /* entry name under archive/data/ */
  ScDType  dtype;
  int64_t  storage_offset; /* in elements */
  int      n_dims;
  int64_t  shape[SC_TENSOR_MAX_DIMS];
  int64_t  stride[SC_TENSOR_MAX_DIMS];
  int64_t  storage_numel;  /* from the persistent id; -1 if unknown */
} ScPickleTensor;

void       sc_pickle_tensor_free (ScPickleTensor *t);

/* Returns an array of ScPickleTensor (owned), in dict order. */
GPtrArray *sc_pickle_load_state_dict (const guint8 *data, gsize len, GError **error);

G_END_DECLS
