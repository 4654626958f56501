/* sc-sparsity.c: magnitude, Wanda and SparseGPT masks on one matrix. */
#include "sc-sparsity.h"

#include "sc-backend-select.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

G_DEFINE_QUARK (sc - sparsity - error - quark, sc_sparsity_error)

/* ---- patterns ----------------------------------------------------------- */

static gboolean
check_nm (int n, int m, GError **error)
{
  if (n <= 0 || m <= 0 || n >= m)
    {
      g_set_error (error, SC_SPARSITY_ERROR, SC_SPARSITY_ERROR_INVALID,
                   "N:M sparsity needs 0 < N < M (got %d:%d)", n, m);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_ratio (double ratio, GError **error)
{
  if (!(ratio > 0.0 && ratio < 1.0))
    {
      g_set_error (error, SC_SPARSITY_ERROR, SC_SPARSITY_ERROR_INVALID,
                   "sparsity ratio %g is outside (0, 1)", ratio);
      return FALSE;
    }
  return TRUE;
}

gboolean
sc_sparsity_pattern_parse (const char *text, ScSparsityPattern *pattern, GError **error)
{
  memset (pattern, 0, sizeof *pattern);
  const char *colon = text != NULL ? strchr (text, ':') : NULL;
  char *end = NULL;
  if (text == NULL || *text == '\0')
    {
      g_set_error (error, SC_SPARSITY_ERROR, SC_SPARSITY_ERROR_INVALID, "empty sparsity");
      return FALSE;
    }
  if (colon != NULL)
    {
      gint64 n, m;
      g_autofree char *left = g_strndup (text, colon - text);
      if (!g_ascii_string_to_signed (left, 10, 1, 1 << 16, &n, NULL) ||
          !g_ascii_string_to_signed (colon + 1, 10, 1, 1 << 16, &m, NULL))
        {
          g_set_error (error, SC_SPARSITY_ERROR, SC_SPARSITY_ERROR_INVALID,
                       "\"%s\" is not an N:M pattern such as 2:4", text);
          return FALSE;
        }
      pattern->n = (int) n;
      pattern->m = (int) m;
      return check_nm (pattern->n, pattern->m, error);
    }
  double r = g_ascii_strtod (text, &end);
  if (end == text || (*end != '\0' && !g_str_equal (end, "%")))
    {
      g_set_error (error, SC_SPARSITY_ERROR, SC_SPARSITY_ERROR_INVALID,
                   "\"%s\" is neither a ratio such as 0.5 nor an N:M pattern such as 2:4", text);
      return FALSE;
    }
  pattern->ratio = *end == '%' ? r / 100.0 : r;
  return check_ratio (pattern->ratio, error);
}

gboolean
sc_sparsity_pattern_check (const ScSparsityPattern *pattern, int n_in, GError **error)
{
  if (pattern->m == 0 && pattern->n == 0)
    return check_ratio (pattern->ratio, error);
  if (!check_nm (pattern->n, pattern->m, error))
    return FALSE;
  if (n_in % pattern->m != 0)
    {
      g_set_error (error, SC_SPARSITY_ERROR, SC_SPARSITY_ERROR_INVALID,
                   "%d:%d sparsity needs an input dimension divisible by %d (got %d)", pattern->n,
                   pattern->m, pattern->m, n_in);
      return FALSE;
    }
  return TRUE;
}

char *
sc_sparsity_pattern_to_string (const ScSparsityPattern *pattern)
{
  if (pattern->m > 0)
    return g_strdup_printf ("%d:%d", pattern->n, pattern->m);
  return g_strdup_printf ("%g%%", pattern->ratio * 100.0);
}

static const char *const method_names[] = { "magnitude", "wanda", "sparsegpt" };

const char *
sc_sparsity_method_name (ScSparsityMethod method)
{
  return (guint) method < G_N_ELEMENTS (method_names) ? method_names[method] : "?";
}

gboolean
sc_sparsity_method_parse (const char *name, ScSparsityMethod *method, GError **error)
{
  for (guint i = 0; name != NULL && i < G_N_ELEMENTS (method_names); i++)
    if (g_ascii_strcasecmp (name, method_names[i]) == 0)
      {
        *method = (ScSparsityMethod) i;
        return TRUE;
      }
  g_set_error (error, SC_SPARSITY_ERROR, SC_SPARSITY_ERROR_INVALID,
               "unknown pruning method \"%s\" (magnitude, wanda or sparsegpt)", name ? name : "");
  return FALSE;
}

/* ---- calibration inputs -------------------------------------------------- */

/* The CUDA module's linear algebra (engine/backend/cuda/sc-cuda-linalg.cu),
 * looked up once. */
typedef struct
{
  gpointer (*gram_new) (ScBackend *be, int k);
  gboolean (*gram_add) (gpointer g, const float *x, int n);
  gboolean (*gram_read) (gpointer g, float *xtx);
  void (*gram_free) (gpointer g);
  gboolean (*inverse_cholesky) (ScBackend *be, const float *H, int k, float damp, float *A);
} CudaLinalg;

static const CudaLinalg *
cuda_linalg (ScBackend *be)
{
  static CudaLinalg la;
  static gsize done;
  if (be == NULL || !g_str_equal (be->name, "cuda"))
    return NULL;
  if (g_once_init_enter (&done))
    {
      la.gram_new = sc_backend_cuda_symbol ("sc_cuda_gram_new", NULL);
      la.gram_add = sc_backend_cuda_symbol ("sc_cuda_gram_add", NULL);
      la.gram_read = sc_backend_cuda_symbol ("sc_cuda_gram_read", NULL);
      la.gram_free = sc_backend_cuda_symbol ("sc_cuda_gram_free", NULL);
      la.inverse_cholesky = sc_backend_cuda_symbol ("sc_cuda_inverse_cholesky", NULL);
      g_once_init_leave (&done, 1);
    }
  return la.gram_new && la.gram_add && la.gram_read && la.gram_free && la.inverse_cholesky ? &la
                                                                                           : NULL;
}

struct _ScLayerInputs
{
  int n_in;
  guint64 n_rows;
  double *sq;    /* [n_in] */
  float *xtx;    /* [n_in, n_in] upper triangle of X^T X, or NULL */
  ScBackend *be; /* where SparseGPT's linear algebra runs (NULL: the CPU) */
  gpointer gram; /* X^T X on a CUDA device (then xtx is only read back) */
};

ScLayerInputs *
sc_layer_inputs_new (int n_in, gboolean want_hessian)
{
  return sc_layer_inputs_new_on (n_in, want_hessian, NULL);
}

ScLayerInputs *
sc_layer_inputs_new_on (int n_in, gboolean want_hessian, ScBackend *backend)
{
  ScLayerInputs *in = g_new0 (ScLayerInputs, 1);
  in->n_in = n_in;
  in->sq = g_new0 (double, n_in);
  if (want_hessian)
    {
      in->xtx = g_new0 (float, (gsize) n_in *n_in);
      const CudaLinalg *la = cuda_linalg (backend);
      if (la != NULL)
        {
          in->be = backend;
          in->gram = la->gram_new (backend, n_in); /* NULL (no memory): the CPU's ssyrk */
        }
    }
  return in;
}

void
sc_layer_inputs_free (ScLayerInputs *inputs)
{
  if (inputs == NULL)
    return;
  if (inputs->gram != NULL)
    cuda_linalg (inputs->be)->gram_free (inputs->gram);
  g_free (inputs->sq);
  g_free (inputs->xtx);
  g_free (inputs);
}

void
sc_layer_inputs_add (ScLayerInputs *inputs, const float *x, int n)
{
  int k = inputs->n_in;
  if (n <= 0)
    return;
  for (int r = 0; r < n; r++)
    for (int j = 0; j < k; j++)
      inputs->sq[j] += (double) x[(gsize) r * k + j] * x[(gsize) r * k + j];
  if (inputs->gram != NULL && !cuda_linalg (inputs->be)->gram_add (inputs->gram, x, n))
    {
      /* the device failed: what it gathered so far comes back, the CPU goes on */
      cuda_linalg (inputs->be)->gram_read (inputs->gram, inputs->xtx);
      cuda_linalg (inputs->be)->gram_free (inputs->gram);
      inputs->gram = NULL;
      g_warning ("CUDA: Hessian accumulation failed; continuing on the CPU");
      cblas_ssyrk (CblasRowMajor, CblasUpper, CblasTrans, k, n, 1.0f, x, k, 1.0f, inputs->xtx, k);
    }
  else if (inputs->xtx != NULL && inputs->gram == NULL)
    cblas_ssyrk (CblasRowMajor, CblasUpper, CblasTrans, k, n, 1.0f, x, k, 1.0f, inputs->xtx, k);
  inputs->n_rows += n;
}

int
sc_layer_inputs_n_in (const ScLayerInputs *inputs)
{
  return inputs->n_in;
}

guint64
sc_layer_inputs_n_rows (const ScLayerInputs *inputs)
{
  return inputs->n_rows;
}

const double *
sc_layer_inputs_sq_norms (const ScLayerInputs *inputs)
{
  return inputs->sq;
}

void
sc_layer_inputs_sums (ScLayerInputs *inputs, guint64 **n_rows, double **sq_norms, float **xtx)
{
  if (inputs->gram != NULL)
    {
      /* the host copy becomes the only one, so that what is written to it counts */
      cuda_linalg (inputs->be)->gram_read (inputs->gram, inputs->xtx);
      cuda_linalg (inputs->be)->gram_free (inputs->gram);
      inputs->gram = NULL;
    }
  *n_rows = &inputs->n_rows;
  *sq_norms = inputs->sq;
  *xtx = inputs->xtx;
}

float *
sc_layer_inputs_hessian (const ScLayerInputs *inputs)
{
  int k = inputs->n_in;
  if (inputs->xtx == NULL)
    return NULL;
  if (inputs->gram != NULL)
    cuda_linalg (inputs->be)->gram_read (inputs->gram, inputs->xtx);
  float *H = g_new0 (float, (gsize) k *k);
  if (inputs->n_rows == 0)
    return H;
  float scale = (float) (2.0 / (double) inputs->n_rows);
  for (int i = 0; i < k; i++)
    for (int j = i; j < k; j++)
      {
        float v = inputs->xtx[(gsize) i * k + j] * scale;
        H[(gsize) i * k + j] = v;
        H[(gsize) j * k + i] = v;
      }
  return H;
}

/* ---- selection helpers --------------------------------------------------- */

typedef struct
{
  double v;
  int i;
} Scored;

/* Ascending score, then ascending index: the order of a stable sort. */
static int
cmp_scored (const void *a, const void *b)
{
  const Scored *x = a, *y = b;
  if (x->v < y->v)
    return -1;
  if (x->v > y->v)
    return 1;
  return (x->i > y->i) - (x->i < y->i);
}

/* Marks in mask (stride 1, indices relative to `base`) the k lowest of the
 * n scores. */
static void
mark_lowest (Scored *s, int n, int k, guint8 *mask)
{
  qsort (s, n, sizeof *s, cmp_scored);
  for (int t = 0; t < k; t++)
    mask[s[t].i] = 1;
}

static gboolean
all_finite (const float *x, gsize n)
{
  for (gsize i = 0; i < n; i++)
    if (!isfinite (x[i]))
      return FALSE;
  return TRUE;
}

/* Scores of one comparison set under an unstructured ratio or N:M groups:
 * score(r, j) over rows [0, rows) and the given column span. */
typedef double (*ScoreFn) (int r, int j, gpointer data);

static void
select_mask (const ScSparsityPattern *p, int rows, int cols, gboolean per_row, ScoreFn score,
             gpointer data, guint8 *mask)
{
  if (p->m > 0)
    {
      Scored s[p->m];
      int drop = p->m - p->n;
      for (int r = 0; r < rows; r++)
        for (int g = 0; g < cols; g += p->m)
          {
            for (int t = 0; t < p->m; t++)
              s[t] = (Scored){ score (r, g + t, data), t };
            guint8 *row = mask + (gsize) r * cols + g;
            mark_lowest (s, p->m, drop, row);
          }
      return;
    }
  if (per_row)
    {
      g_autofree Scored *s = g_new (Scored, cols);
      int k = (int) floor (cols * p->ratio);
      for (int r = 0; r < rows; r++)
        {
          for (int j = 0; j < cols; j++)
            s[j] = (Scored){ score (r, j, data), j };
          mark_lowest (s, cols, k, mask + (gsize) r * cols);
        }
      return;
    }
  gsize n = (gsize) rows * cols;
  g_autofree Scored *s = g_new (Scored, n);
  for (int r = 0; r < rows; r++)
    for (int j = 0; j < cols; j++)
      s[(gsize) r * cols + j] = (Scored){ score (r, j, data), r * cols + j };
  mark_lowest (s, (int) n, (int) floor ((double) n * p->ratio), mask);
}

typedef struct
{
  const float *W;
  int cols;
  const double *norm; /* sqrt of the sum of squares, or NULL for magnitude */
} MetricData;

static double
metric_score (int r, int j, gpointer data)
{
  MetricData *d = data;
  double w = fabs ((double) d->W[(gsize) r * d->cols + j]);
  return d->norm != NULL ? w * d->norm[j] : w;
}

/* ---- SparseGPT ----------------------------------------------------------- */

/* The upper Cholesky factor U of (H + damp I)^-1 (H^-1 = U^T U), in place
 * in A; FALSE when a factorisation fails. */
static gboolean
inverse_cholesky (ScBackend *be, const float *H, int k, float damp, float *A)
{
  const CudaLinalg *la = cuda_linalg (be);
  if (la != NULL)
    return la->inverse_cholesky (be, H, k, damp, A); /* cuSOLVER, the same three steps */
  memcpy (A, H, sizeof (float) * (gsize) k * k);
  for (int i = 0; i < k; i++)
    A[(gsize) i * k + i] += damp;
  if (LAPACKE_spotrf (LAPACK_ROW_MAJOR, 'U', k, A, k) != 0)
    return FALSE;
  if (LAPACKE_spotri (LAPACK_ROW_MAJOR, 'U', k, A, k) != 0)
    return FALSE;
  for (int i = 0; i < k; i++)
    for (int j = 0; j < i; j++)
      A[(gsize) i * k + j] = A[(gsize) j * k + i];
  if (LAPACKE_spotrf (LAPACK_ROW_MAJOR, 'U', k, A, k) != 0)
    return FALSE;
  for (int i = 0; i < k; i++)
    for (int j = 0; j < i; j++)
      A[(gsize) i * k + j] = 0.0f;
  return all_finite (A, (gsize) k * k);
}

typedef struct
{
  const float *W;    /* block start column */
  int cols;          /* row stride */
  const float *dinv; /* diagonal of the factor at the block's columns */
} ObsData;

/* w^2 / [H^-1]_jj^2 (in f32, as the reference computes it). */
static double
obs_score (int r, int j, gpointer data)
{
  ObsData *d = data;
  float w = d->W[(gsize) r * d->cols + j];
  float dd = d->dinv[j];
  return (double) ((w * w) / (dd * dd));
}

gboolean
sc_sparsity_sparsegpt (const ScSparsityPattern *pattern, float *W, int n_out, int n_in,
                       const float *H_in, guint8 *mask_out, ScSparsityReport *report,
                       GError **error)
{
  return sc_sparsity_sparsegpt_on (NULL, pattern, W, n_out, n_in, H_in, mask_out, report, error);
}

gboolean
sc_sparsity_sparsegpt_on (ScBackend *be, const ScSparsityPattern *pattern, float *W, int n_out,
                          int n_in, const float *H_in, guint8 *mask_out, ScSparsityReport *report,
                          GError **error)
{
  int rows = n_out, k = n_in;
  gsize nw = (gsize) rows * k;
  ScSparsityReport rep = { .n_weights = nw };

  if (!sc_sparsity_pattern_check (pattern, n_in, error))
    return FALSE;
  if (!all_finite (W, nw) || !all_finite (H_in, (gsize) k * k))
    {
      g_set_error (error, SC_SPARSITY_ERROR, SC_SPARSITY_ERROR_NUMERIC,
                   "the weights or the Hessian hold NaN or infinite values");
      return FALSE;
    }

  g_autofree float *H = g_memdup2 (H_in, sizeof (float) * (gsize) k * k);
  g_autofree float *Wc = g_memdup2 (W, sizeof (float) * nw);
  /* Channels that never fired: a unit diagonal makes H invertible. Their
   * weights stay unless the mask takes them (the authors' code zeroes them
   * all, which would overshoot the requested sparsity). */
  double diag_sum = 0.0;
  for (int j = 0; j < k; j++)
    {
      if (H[(gsize) j * k + j] == 0.0f)
        {
          H[(gsize) j * k + j] = 1.0f;
          rep.dead_columns++;
        }
      diag_sum += H[(gsize) j * k + j];
    }
  float damp = (float) (SC_SPARSEGPT_DAMP * (diag_sum / k));
  g_autofree float *U = g_new (float, (gsize) k *k);
  gboolean ok = FALSE;
  for (int attempt = 0; attempt <= SC_SPARSEGPT_MAX_ESCALATIONS; attempt++)
    {
      if (damp > 0.0f && isfinite (damp) && inverse_cholesky (be, H, k, damp, U))
        {
          ok = TRUE;
          break;
        }
      if (attempt < SC_SPARSEGPT_MAX_ESCALATIONS)
        {
          damp *= 10.0f;
          rep.damp_escalations++;
        }
    }
  rep.damp = damp;
  if (!ok)
    {
      g_set_error (error, SC_SPARSITY_ERROR, SC_SPARSITY_ERROR_NUMERIC,
                   "the Hessian is not positive definite even with a dampening of %g (%d "
                   "ten-fold increases); the layer was left unpruned",
                   (double) damp, rep.damp_escalations);
      return FALSE;
    }

  g_autofree guint8 *mask = g_new0 (guint8, nw);
  g_autofree float *dinv = g_new (float, k);
  for (int j = 0; j < k; j++)
    dinv[j] = U[(gsize) j * k + j];
  /* N:M groups must not straddle blocks. */
  int B = pattern->m > 0 ? MAX (pattern->m, SC_SPARSEGPT_BLOCK / pattern->m * pattern->m)
                         : SC_SPARSEGPT_BLOCK;
  g_autofree float *Q = g_new (float, (gsize) rows *B);
  g_autofree float *Err = g_new (float, (gsize) rows *B);
  g_autofree guint8 *bmask = g_new (guint8, (gsize) rows * B);

  for (int i1 = 0; i1 < k; i1 += B)
    {
      int i2 = MIN (i1 + B, k), count = i2 - i1;
      memset (bmask, 0, (gsize) rows * count);
      if (pattern->m == 0)
        {
          /* Adaptive mask: the lowest scores of the whole block, chosen
           * after the earlier blocks' updates. */
          g_autofree float *blk = g_new (float, (gsize) rows *count);
          for (int r = 0; r < rows; r++)
            memcpy (blk + (gsize) r * count, Wc + (gsize) r * k + i1, sizeof (float) * count);
          ObsData od = { blk, count, dinv + i1 };
          select_mask (pattern, rows, count, FALSE, obs_score, &od, bmask);
        }
      for (int i = 0; i < count; i++)
        {
          int col = i1 + i;
          if (pattern->m > 0 && i % pattern->m == 0)
            {
              /* This group's mask, from the weights as updated so far. */
              Scored s[pattern->m];
              for (int r = 0; r < rows; r++)
                {
                  for (int t = 0; t < pattern->m; t++)
                    {
                      float w = Wc[(gsize) r * k + col + t];
                      float dd = dinv[col + t];
                      s[t] = (Scored){ (double) ((w * w) / (dd * dd)), t };
                    }
                  mark_lowest (s, pattern->m, pattern->m - pattern->n,
                               bmask + (gsize) r * count + i);
                }
            }
          float d = U[(gsize) col * k + col];
          const float *urow = U + (gsize) col * k;
          for (int r = 0; r < rows; r++)
            {
              float *wr = Wc + (gsize) r * k;
              float w = wr[col];
              float q = bmask[(gsize) r * count + i] ? 0.0f : w;
              float err = (w - q) / d;
              Q[(gsize) r * count + i] = q;
              Err[(gsize) r * count + i] = err;
              /* Compensate the error on the block's later columns now. */
              for (int j = col + 1; j < i2; j++)
                wr[j] -= err * urow[j];
            }
        }
      for (int r = 0; r < rows; r++)
        {
          memcpy (Wc + (gsize) r * k + i1, Q + (gsize) r * count, sizeof (float) * count);
          memcpy (mask + (gsize) r * k + i1, bmask + (gsize) r * count, count);
        }
      /* Lazy batched update of every later column at once. */
      if (i2 < k)
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, k - i2, count, -1.0f, Err,
                     count, U + (gsize) i1 * k + i2, k, 1.0f, Wc + i2, k);
    }

  if (!all_finite (Wc, nw))
    {
      g_set_error (error, SC_SPARSITY_ERROR, SC_SPARSITY_ERROR_NUMERIC,
                   "SparseGPT produced NaN or infinite weights; the layer was left unpruned");
      return FALSE;
    }
  for (gsize i = 0; i < nw; i++)
    rep.n_pruned += mask[i];
  memcpy (W, Wc, sizeof (float) * nw);
  if (mask_out != NULL)
    memcpy (mask_out, mask, nw);
  if (report != NULL)
    *report = rep;
  return TRUE;
}

/* ---- entry point --------------------------------------------------------- */

gboolean
sc_sparsity_prune (ScSparsityMethod method, const ScSparsityPattern *pattern, float *W, int n_out,
                   int n_in, const ScLayerInputs *inputs, guint8 *mask_out,
                   ScSparsityReport *report, GError **error)
{
  gsize nw = (gsize) n_out * n_in;
  if (n_out <= 0 || n_in <= 0)
    {
      g_set_error (error, SC_SPARSITY_ERROR, SC_SPARSITY_ERROR_INVALID,
                   "empty weight matrix [%d, %d]", n_out, n_in);
      return FALSE;
    }
  if (!sc_sparsity_pattern_check (pattern, n_in, error))
    return FALSE;
  if (method != SC_SPARSITY_MAGNITUDE)
    {
      if (inputs == NULL || (method == SC_SPARSITY_SPARSEGPT && inputs->xtx == NULL))
        {
          g_set_error (error, SC_SPARSITY_ERROR, SC_SPARSITY_ERROR_NO_INPUTS,
                       "%s needs calibration inputs", sc_sparsity_method_name (method));
          return FALSE;
        }
      if (inputs->n_in != n_in)
        {
          g_set_error (error, SC_SPARSITY_ERROR, SC_SPARSITY_ERROR_INVALID,
                       "calibration inputs have %d channels, the weights %d", inputs->n_in, n_in);
          return FALSE;
        }
    }
  if (method == SC_SPARSITY_SPARSEGPT)
    {
      g_autofree float *H = sc_layer_inputs_hessian (inputs);
      return sc_sparsity_sparsegpt_on (inputs->be, pattern, W, n_out, n_in, H, mask_out, report,
                                       error);
    }

  if (!all_finite (W, nw))
    {
      g_set_error (error, SC_SPARSITY_ERROR, SC_SPARSITY_ERROR_NUMERIC,
                   "the weights hold NaN or infinite values");
      return FALSE;
    }
  g_autofree double *norm = NULL;
  if (method == SC_SPARSITY_WANDA)
    {
      norm = g_new (double, n_in);
      for (int j = 0; j < n_in; j++)
        norm[j] = sqrt (inputs->sq[j]);
      for (int j = 0; j < n_in; j++)
        if (!isfinite (norm[j]))
          {
            g_set_error (error, SC_SPARSITY_ERROR, SC_SPARSITY_ERROR_NUMERIC,
                         "calibration inputs hold NaN or infinite values");
            return FALSE;
          }
    }
  g_autofree guint8 *mask = g_new0 (guint8, nw);
  MetricData md = { W, n_in, norm };
  select_mask (pattern, n_out, n_in, method == SC_SPARSITY_WANDA, metric_score, &md, mask);
  ScSparsityReport rep = { .n_weights = nw };
  for (gsize i = 0; i < nw; i++)
    if (mask[i])
      {
        W[i] = 0.0f;
        rep.n_pruned++;
      }
  if (mask_out != NULL)
    memcpy (mask_out, mask, nw);
  if (report != NULL)
    *report = rep;
  return TRUE;
}
