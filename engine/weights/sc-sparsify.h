/* sc-sparsify.h: one-shot weight pruning of a whole model, layer after
 * layer (Wanda, SparseGPT, magnitude; sc-sparsity.h for one matrix), with
 * calibration data sampled across languages (Multilingual Brain Surgeon,
 * Zeng et al. 2024).
 *
 * Sequential: for each transformer block in forward order, the calibration
 * samples run through the model with the earlier blocks already pruned; the
 * inputs of every linear layer of the block are gathered (an expert sees
 * only the tokens routed to it), the block's weights are pruned and replace
 * the model's (writable f32 copies), and the next block's inputs therefore
 * come from the pruned block, as the Wanda and SparseGPT papers do. The
 * model is run from its start for every block: simple and exact, at the
 * cost of (blocks + 1) / 2 times the compute of a cached layer-by-layer
 * pass. Routers, embeddings and the output head are not pruned.
 *
 * Any model can be pruned this way through ScPrunable: list its linear
 * layers (sc-linear-hooks.h), report their inputs to an observer, replace a
 * weight, and run one calibration sample through blocks 0..last. NLLB
 * (dense M2M100 and NLLB-MoE) comes with sc_prunable_init_view (); a
 * decoder-only model (BLOOM) implements the same seven functions, with
 * ScCalibSample.tgt NULL.
 */
#pragma once

#include "sc-bloom.h"
#include "sc-linear-hooks.h"
#include "sc-model.h"
#include "sc-view.h"
#include "sc-sampler.h"
#include "sc-sparsity.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* ---- calibration samples ------------------------------------------------- */

typedef struct {
  int  *src;     /* encoder ids, or the whole sequence of a decoder-only model */
  int   n_src;
  int  *tgt;     /* decoder input ids (teacher forcing); NULL for decoder-only */
  int   n_tgt;
  char *lang;    /* the language the sample was drawn for */
} ScCalibSample;

typedef struct _ScCalibSet ScCalibSet;

typedef enum {
  SC_CALIB_MBS,       /* proportional to the training shares (the MBS recipe) */
  SC_CALIB_UNIFORM,   /* equal counts per language */
  SC_CALIB_LANGUAGE,  /* one language only (English-only calibration: eng_Latn) */
} ScCalibMode;

typedef struct {
  ScCalibMode         mode;
  const char         *language;   /* SC_CALIB_LANGUAGE */
  guint               n_samples;
  int                 seqlen;     /* tokens per segment, >= 4 */
  guint32             seed;
  const ScShareTable *shares;     /* SC_CALIB_MBS; NULL: the shipped NLLB-200 table */
  const char         *udhr_dir;   /* NULL: the shipped UDHR */
} ScCalibOptions;

ScCalibSet          *sc_calib_set_new       (void);
void                 sc_calib_set_free      (ScCalibSet *set);
/* Copies the ids. */
void                 sc_calib_set_add       (ScCalibSet *set, const int *src, int n_src,
                                             const int *tgt, int n_tgt, const char *lang);
guint                sc_calib_set_size      (const ScCalibSet *set);
const ScCalibSample *sc_calib_set_get       (const ScCalibSet *set, guint i);
/* Languages in first-seen order (NULL-terminated, owned by the set) and
 * their sample counts. */
const char *const   *sc_calib_set_languages (const ScCalibSet *set, const guint **counts);

/* Samples from the calibration split of the UDHR (held-out articles never
 * used), over the languages that the corpus, the model's tokenizer and (for
 * MBS) the share table (opts->shares, else sc_share_table_load_for_model)
 * all have; in MBS mode a language whose quota
 * (share x n_samples) is under one half gets no sample. A sample of language L is a segment of
 * consecutive UDHR paragraphs in L, cut to `seqlen` tokens: the encoder
 * reads [L] pieces [</s>] and the decoder, teacher-forced, [</s> L] pieces
 * (L into L: both sides of the network see L text only, as an LLM's
 * monolingual segments do). A language the corpus lacks is an error. */
ScCalibSet          *sc_calib_set_from_udhr (ScModel *model, const ScCalibOptions *opts,
                                             GError **error);
/* The same for BLOOM: the languages of its training corpus (opts->shares,
 * else the shipped ROOTS table "bloom-roots"), and a sample is `seqlen`
 * tokens of plain text (src; tgt NULL), no language token. */
ScCalibSet          *sc_calib_set_from_udhr_bloom (ScBloom *model, const ScCalibOptions *opts,
                                                   GError **error);
/* "N samples of T tokens" then one line per language with its count. */
char                *sc_calib_set_describe  (const ScCalibSet *set);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScCalibSet, sc_calib_set_free)

/* ---- what a model offers --------------------------------------------------- */

typedef struct {
  gpointer model;
  int             (*n_blocks)       (gpointer model);
  int             (*n_linears)      (gpointer model);
  void            (*get_linear)     (gpointer model, int i, ScLinearInfo *info);
  const ScTensor *(*get_weight)     (gpointer model, int i);
  void            (*set_observer)   (gpointer model, ScLinearObserver observer, gpointer data);
  gboolean        (*replace_weight) (gpointer model, int i, float *data, GError **error);
  /* Runs one sample at least through blocks 0..last_block (further is allowed). */
  gboolean        (*forward)        (gpointer model, const ScCalibSample *sample, int last_block,
                                     GError **error);
} ScPrunable;

/* NLLB: encoder blocks, then decoder blocks, run through `view`, which
 * takes the pruned weights in its overlay (the model is untouched). */
void sc_prunable_init_view (ScPrunable *prunable, ScView *view);

/* BLOOM: its blocks in order, each with query_key_value, dense,
 * dense_h_to_4h, dense_4h_to_h. The adapter owns the pruned weights the
 * model runs on; freeing it puts the checkpoint's back. */
typedef struct _ScBloomPrunable ScBloomPrunable;

ScBloomPrunable *sc_bloom_prunable_new          (ScBloom *model);
void             sc_bloom_prunable_free         (ScBloomPrunable *bp);
void             sc_prunable_init_bloom         (ScPrunable *prunable, ScBloomPrunable *bp);
/* The pruned copy of the checkpoint tensor `name`, or NULL. */
const ScTensor  *sc_bloom_prunable_get_replaced (ScBloomPrunable *bp, const char *name);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScBloomPrunable, sc_bloom_prunable_free)

/* ---- pruning --------------------------------------------------------------- */

typedef struct {
  ScSparsityMethod  method;
  ScSparsityPattern pattern;
  /* Largest total of Hessians gathered at once (SparseGPT); a block whose
   * layers need more is captured in several passes, each pruned before the
   * next pass (so its later layers see its earlier ones pruned). 0: 2 GiB. */
  guint64           hessian_budget;
  /* Called, when not NULL, with each layer's gathered inputs before
   * anything reads them, in the same order on every call: processes that
   * each ran a share of the samples add up their sums here
   * (sc_layer_inputs_sums), so that each prunes with those of all. */
  gboolean        (*inputs_reduce) (int linear, ScLayerInputs *inputs, gpointer data,
                                    GError **error);
  gpointer          inputs_reduce_data;
  /* Called with each layer's gathered inputs just before it is pruned (may be NULL). */
  void            (*inputs_observer) (int linear, const ScLayerInputs *inputs, gpointer data);
  gpointer          inputs_observer_data;
  /* Where SparseGPT's Hessians and Cholesky factors are computed: a CUDA
   * backend (cuBLAS, cuSOLVER) or NULL for the CPU (BLAS, LAPACK). */
  ScBackend        *backend;
} ScSparsifyOptions;

typedef struct {
  char   *name;
  int     block, expert;
  int     n_out, n_in;
  guint64 n_zero;          /* zeros after pruning */
  guint64 n_rows;          /* calibration rows the layer saw */
  int     damp_escalations;
} ScSparsifyLayer;

typedef struct {
  GArray *layers;          /* ScSparsifyLayer, in the model's order */
  guint64 n_weights, n_zero;
  int     damp_escalations; /* total; each one is worth a warning */
} ScSparsifyReport;

void     sc_sparsify_report_free (ScSparsifyReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScSparsifyReport, sc_sparsify_report_free)

/* After each block: blocks done, total, seconds left (estimate). */
typedef void (*ScSparsifyProgress) (int done, int total, double eta_s, gpointer user_data);

void     sc_sparsify_options_init (ScSparsifyOptions *opts);

/* Prunes every listed linear layer. Validates the pattern against every
 * layer before touching any. On error or cancellation, blocks already pruned
 * stay pruned in the model (the checkpoint on disk is never touched). */
ScSparsifyReport *sc_sparsify (const ScPrunable *prunable, const ScCalibSet *calib,
                               const ScSparsifyOptions *opts, ScSparsifyProgress progress,
                               gpointer progress_data, GCancellable *cancellable, GError **error);

/* What was done, for config.json of an exported model (sc_export_model's
 * record): method, pattern, achieved sparsity and the calibration (`calib`
 * names the sampling: "mbs", "uniform", a language code or "none"; `set`
 * may be NULL). */
JsonObject       *sc_sparsify_record (const ScSparsifyOptions *opts, const char *calib,
                                      const ScCalibSet *set, int seqlen,
                                      const ScSparsifyReport *report);

G_END_DECLS
