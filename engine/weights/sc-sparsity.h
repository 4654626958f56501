/* sc-sparsity.h: pruning one weight matrix W[out, in] (f32, row-major).
 *
 * Methods:
 *  - MAGNITUDE: |W|; unstructured compares the whole matrix (the layer-wise
 *    baseline of the Wanda paper), N:M compares within each group;
 *  - WANDA (Sun et al. 2023): |W_ij| * ||X_j||_2, the L2 norm of input
 *    channel j over all calibration tokens, compared within each output row;
 *  - SPARSEGPT (Frantar & Alistarh 2023): H = 2/n X^T X (n tokens) plus a
 *    dampening of 1% of its mean diagonal, the upper Cholesky factor of
 *    H^-1, columns in blocks of 128 with lazy batched updates of the later
 *    blocks; unstructured masks chosen per block (adaptive), by
 *    w^2 / [H^-1]_jj^2; N:M masks chosen at the first column of each group.
 *    Input channels never active get a unit Hessian diagonal; unlike the
 *    authors' code their weights are not all zeroed (only the mask's are),
 *    so that the achieved sparsity is the one asked for.
 *
 * Patterns: an unstructured ratio in (0, 1) prunes floor(ratio * count)
 * weights per comparison set (a row for Wanda, the matrix for magnitude, a
 * block for SparseGPT); N:M keeps N weights in each group of M consecutive
 * input columns of a row (2:4 and 4:8 prune half). Ties go to the lower
 * index, so masks are reproducible.
 *
 * A Cholesky failure raises the dampening ten-fold (reported in
 * ScSparsityReport, for the caller to warn about) up to a limit, then fails
 * with a GError; a result that is not finite is never written back.
 */
#pragma once

#include "sc-backend.h"

#include <glib.h>

G_BEGIN_DECLS

#define SC_SPARSITY_ERROR (sc_sparsity_error_quark ())
typedef enum {
  SC_SPARSITY_ERROR_INVALID,    /* bad ratio or N:M pattern, dimension mismatch */
  SC_SPARSITY_ERROR_NUMERIC,    /* Hessian not positive definite, NaN or infinity */
  SC_SPARSITY_ERROR_NO_INPUTS,  /* a method that needs calibration inputs got none */
} ScSparsityError;
GQuark sc_sparsity_error_quark (void);

typedef enum {
  SC_SPARSITY_MAGNITUDE,
  SC_SPARSITY_WANDA,
  SC_SPARSITY_SPARSEGPT,
} ScSparsityMethod;

typedef struct {
  double ratio;   /* unstructured: fraction pruned; 0 when N:M */
  int    n, m;    /* N:M: N kept of every M; 0 when unstructured */
} ScSparsityPattern;

#define SC_SPARSEGPT_BLOCK 128
#define SC_SPARSEGPT_DAMP 0.01
#define SC_SPARSEGPT_MAX_ESCALATIONS 6

/* "0.5" or "2:4"; validates (ratio in (0,1), 0 < N < M). */
gboolean          sc_sparsity_pattern_parse  (const char *text, ScSparsityPattern *pattern,
                                              GError **error);
/* Validates the pattern for `n_in` input columns (divisible by M). */
gboolean          sc_sparsity_pattern_check  (const ScSparsityPattern *pattern, int n_in,
                                              GError **error);
/* "50%" or "2:4" (newly allocated). */
char             *sc_sparsity_pattern_to_string (const ScSparsityPattern *pattern);
const char       *sc_sparsity_method_name    (ScSparsityMethod method);
gboolean          sc_sparsity_method_parse   (const char *name, ScSparsityMethod *method,
                                              GError **error);

/* What one linear layer saw during calibration: per input channel the sum of
 * squares (Wanda) and, when asked, X^T X (SparseGPT). */
typedef struct _ScLayerInputs ScLayerInputs;

ScLayerInputs    *sc_layer_inputs_new        (int n_in, gboolean want_hessian);
/* The same, with SparseGPT's linear algebra on `backend` when it is a CUDA
 * one (X^T X with cuBLAS, the inverse Cholesky with cuSOLVER); the CPU's
 * BLAS and LAPACK otherwise, or when the device cannot hold the Hessian. */
ScLayerInputs    *sc_layer_inputs_new_on     (int n_in, gboolean want_hessian,
                                              ScBackend *backend);
void              sc_layer_inputs_free       (ScLayerInputs *inputs);
/* x: [n, n_in] rows of inputs. */
void              sc_layer_inputs_add        (ScLayerInputs *inputs, const float *x, int n);
int               sc_layer_inputs_n_in       (const ScLayerInputs *inputs);
guint64           sc_layer_inputs_n_rows     (const ScLayerInputs *inputs);
/* Sum of squares per input channel, [n_in]. */
const double     *sc_layer_inputs_sq_norms   (const ScLayerInputs *inputs);
/* The raw sums, writable, so that those of other processes can be added
 * in: the row count, the sums of squares [n_in] and the upper triangle of
 * X^T X [n_in, n_in] (NULL when not gathered; read back from a device,
 * which then gathers no more). */
void              sc_layer_inputs_sums       (ScLayerInputs *inputs, guint64 **n_rows,
                                              double **sq_norms, float **xtx);
/* H = 2/n X^T X, full symmetric [n_in, n_in] (newly allocated); zeros when
 * no row was seen; NULL when the Hessian was not gathered. */
float            *sc_layer_inputs_hessian    (const ScLayerInputs *inputs);

typedef struct {
  guint64 n_weights;
  guint64 n_pruned;        /* weights in the mask (exact zeros afterwards) */
  int     damp_escalations;/* SparseGPT: times the dampening had to grow */
  double  damp;            /* SparseGPT: the dampening finally added to the diagonal */
  int     dead_columns;    /* SparseGPT: input channels never active (zeroed) */
} ScSparsityReport;

/* Prunes W in place: pruned weights become exact zeros (SparseGPT also
 * updates the others). mask (may be NULL) receives [out * in] 1 = pruned.
 * `inputs` is required by WANDA and SPARSEGPT (with a Hessian), ignored by
 * MAGNITUDE. On error W is unchanged. */
gboolean          sc_sparsity_prune          (ScSparsityMethod method,
                                              const ScSparsityPattern *pattern,
                                              float *W, int n_out, int n_in,
                                              const ScLayerInputs *inputs,
                                              guint8 *mask, ScSparsityReport *report,
                                              GError **error);

/* SparseGPT from a Hessian given directly (H: [n_in, n_in] symmetric, not
 * modified). sc_sparsity_prune () calls this. */
gboolean          sc_sparsity_sparsegpt      (const ScSparsityPattern *pattern, float *W,
                                              int n_out, int n_in, const float *H, guint8 *mask,
                                              ScSparsityReport *report, GError **error);

/* sc_sparsity_sparsegpt with the inverse Cholesky on `be` (a CUDA backend:
 * cuSOLVER; NULL or the CPU: LAPACK). */
gboolean          sc_sparsity_sparsegpt_on   (ScBackend *be, const ScSparsityPattern *pattern,
                                              float *W, int n_out, int n_in, const float *H,
                                              guint8 *mask, ScSparsityReport *report,
                                              GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScLayerInputs, sc_layer_inputs_free)

G_END_DECLS
