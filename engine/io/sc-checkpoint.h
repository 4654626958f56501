/* sc-checkpoint.h: a Hugging Face model directory's weights, by tensor name.
 *
 * Opening a directory maps its weight files (safetensors or torch zip,
 * single or sharded through an index JSON) and indexes tensor headers; no
 * weight byte is read until a tensor is used.
 */
#pragma once

#include "sc-tensor.h"

G_BEGIN_DECLS

typedef struct _ScCheckpoint ScCheckpoint;

typedef enum {
  SC_CHECKPOINT_SAFETENSORS,
  SC_CHECKPOINT_TORCH,
} ScCheckpointFormat;

ScCheckpoint     *sc_checkpoint_open        (const char *dir, GError **error);
void              sc_checkpoint_free        (ScCheckpoint *ckpt);

/* Lookup by exact name; NULL when absent. */
const ScTensor   *sc_checkpoint_get         (ScCheckpoint *ckpt, const char *name);
guint             sc_checkpoint_n_tensors   (ScCheckpoint *ckpt);
/* Tensor names, sorted; owned by the checkpoint. */
const char *const*sc_checkpoint_names       (ScCheckpoint *ckpt);
ScCheckpointFormat sc_checkpoint_format     (ScCheckpoint *ckpt);
guint             sc_checkpoint_n_files     (ScCheckpoint *ckpt);
guint64           sc_checkpoint_file_bytes  (ScCheckpoint *ckpt);
/* The file (name inside the directory) that holds tensor `name`; NULL when absent. */
const char       *sc_checkpoint_file_of     (ScCheckpoint *ckpt, const char *name);
const char       *sc_checkpoint_dir         (ScCheckpoint *ckpt);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScCheckpoint, sc_checkpoint_free)

G_END_DECLS
