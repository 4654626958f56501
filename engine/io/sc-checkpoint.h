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

typedef enum {
  SC_CHECKPOINT_OPEN_DEFAULT = 0,
  /* Shards named by the index but absent are tolerated: their tensors are
   * reported by sc_checkpoint_is_missing() instead of failing the open
   * (e.g. shards holding only experts that a pruning leaves out). */
  SC_CHECKPOINT_OPEN_ALLOW_MISSING_SHARDS = 1 << 0,
} ScCheckpointOpenFlags;

ScCheckpoint     *sc_checkpoint_open        (const char *dir, GError **error);
ScCheckpoint     *sc_checkpoint_open_with_flags (const char *dir, ScCheckpointOpenFlags flags,
                                             GError **error);
/* Whether the index maps `name` to a shard that is absent. */
gboolean          sc_checkpoint_is_missing  (ScCheckpoint *ckpt, const char *name);
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
