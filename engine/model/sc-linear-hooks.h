/* sc-linear-hooks.h: what weight pruning needs from a model, whatever its
 * architecture: its linear layers listed in forward order, grouped by
 * transformer block, and a hook that sees each one's input rows.
 *
 * A model implements (see sc-sparsify.h, ScPrunable): listing (count, info,
 * weight), an observer called with the input rows of every linear layer it
 * runs (only the rows that layer really reads: for an expert, the tokens
 * routed to it), and the replacement of a weight by an f32 copy. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  const char *name;    /* weight tensor name in the checkpoint */
  int         block;   /* transformer block in forward order (encoder blocks first) */
  int         n_out, n_in;
  int         expert;  /* expert id within its MoE layer, -1 for dense layers */
} ScLinearInfo;

/* x: [n_rows, n_in] inputs of linear layer `linear` (an index into the
 * model's list), about to be multiplied by its weight. */
typedef void (*ScLinearObserver) (int linear, const float *x, int n_rows, gpointer user_data);

G_END_DECLS
