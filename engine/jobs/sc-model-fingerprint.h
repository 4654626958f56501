/* sc-model-fingerprint.h: a model folder's fingerprint, what ties a project
 * (sc-project.h) to the model it was made on. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* "sha256:" + 64 hex digits over config.json's bytes and, file by file in
 * name order, each weight file's name and its safetensors header (length
 * and JSON; for a PyTorch .bin, its size): no weight is read, and a changed
 * config, tensor list, dtype, shape or layout changes it. */
char *sc_model_fingerprint (const char *model_dir, GError **error);

G_END_DECLS
