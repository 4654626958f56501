/* sc-model-private.h: the tables a model builds at load, and what the
 * forward pass (sc-view.c, sc-moe.c, sc-decoder.c) shares of them.
 *
 * The model's tables (Layer, Linear, ...) are written only while loading;
 * a view (struct _ScView) holds what one run changes. */
#pragma once

#include "sc-model.h"
#include "sc-view.h"

G_BEGIN_DECLS

typedef struct
{
  const ScTensor *w;
  const ScTensor *b; /* may be NULL */
  float *b32;        /* widened bias, NULL for expert biases (widened on use) */
  int n_out, n_in;
  int id; /* index in the model's list of linear layers, -1 when absent */
} Linear;

typedef struct
{
  float *g, *b;
} Norm;

typedef struct
{
  Linear fc1, fc2;
} Ffn;

typedef struct
{
  Norm sa_ln;
  Linear q, k, v, o;
  Norm ca_ln; /* decoder only */
  Linear cq, ck, cv, co;
  Norm ff_ln;
  gboolean sparse;
  int moe_index;
  Ffn dense;
  const ScTensor *router; /* [n_rows, d] */
  int n_rows;             /* router rows: E, or the kept experts of a pruned checkpoint */
  int *row_expert;        /* [n_rows] expert id of each row; NULL = identity */
  guint8 *row_keep;       /* [E] experts with a router row; NULL = all */
  Ffn *experts;           /* [E], only kept ones loaded in a pruned checkpoint */
} Layer;

struct _ScModel
{
  ScConfig *config;
  ScCheckpoint *ckpt;
  ScTokenizer *tok;
  ScBackend *be;
  gboolean own_backend;
  ScDType dtype;
  const ScTensor *embed;   /* shared [V, d] */
  const ScTensor *lm_head; /* [V, d], the shared table unless untied */
  Layer *enc, *dec;
  Layer **moe;             /* [n_moe] the MoE layers, encoder first */
  Norm enc_ln, dec_ln;
  float embed_scale;
  guint64 n_dense, n_experts;
  GPtrArray *linears;    /* Linear*, forward order (sc_model_get_linear) */
  GArray *linear_blocks; /* int, block of each */
  GPtrArray *allocs;     /* vectors widened at load */
  int n_moe;
  int n_missing; /* experts absent from a partial checkpoint */
  /* The one state that changes after load: the expert budget, shared by
   * every view; cache_lock guards it (its pointers stay valid only until
   * the next request, so a layer holds the lock while it runs experts). */
  GMutex cache_lock;
  ScExpertCache *cache; /* expert budget, NULL: experts read in place */
  ScMoeShape shape;     /* measured at load (sc-moe-shape.h) */
};

/* Which tensors a view's expert reads (resolved in sc-view.c). */
typedef struct
{
  Ffn ffn;          /* the overlay's weights where it has them, else the checkpoint's */
  gboolean present; /* in the checkpoint */
  gboolean cached;  /* the checkpoint's own: read through the model's cache when it has one */
} ScExpertRef;

struct _ScView
{
  ScModel *model;
  ScExpertSet *experts; /* NULL: every expert */
  const guint8 *keep;   /* its mask, or NULL */
  ScRouterObserver router_observer;
  gpointer router_data;
  ScLinearObserver linear_observer;
  gpointer linear_data;
  ScTensor **overlay;  /* [n_linears] owned f32 replacements, NULL entries: checkpoint */
  ScTensor **bias_overlay; /* [n_linears] the same for biases ([n_out]) */
  guint n_overlay;         /* weights and biases replaced */
  ScExpertRef *table;  /* [n_moe * E] */
};

/* A view with nothing set, for the model's own replays (sc-moe.c). */
#define SC_VIEW_BARE(m) ((ScView){ .model = (m) })

const Layer *sc_model_moe_layer          (ScModel *model, int m);
gboolean     sc_model_expert_in_checkpoint (ScModel *model, const Ffn *f);

/* The blocks, run as `view` says (sc-view.c). */
void         sc_run_linear      (ScView *view, const Linear *lin, const float *x, int M, float *y);
void         sc_run_layer_norm  (ScView *view, const Norm *norm, const float *x, int M, float *y);
void         sc_run_ffn         (ScView *view, const Ffn *f, const float *h, int n, float *out);
gboolean     sc_run_nonfinite_error (ScView *view, GError **error, const char *what);
gboolean     sc_run_check_ids   (ScModel *model, const int *ids, gsize n, GError **error);
gboolean     sc_run_check_complete (ScView *view, GError **error);
/* The feed-forward block of layer L: dense or MoE (sc-moe.c). */
gboolean     sc_run_ff_block    (ScView *view, const Layer *L, gboolean decoder, int layer,
                                 const float *h, int n, const guint8 *valid, const int *rows,
                                 float *out, GError **error);

G_END_DECLS
