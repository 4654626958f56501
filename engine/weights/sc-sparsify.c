/* sc-sparsify.c: sequential one-shot pruning of a model's linear layers. */
#include "sc-sparsify.h"

#include "sc-bloom.h"
#include "sc-corpus.h"
#include "sc-model-folder.h"

#include <string.h>

/* ---- calibration samples ------------------------------------------------- */

struct _ScCalibSet
{
  GPtrArray *samples; /* ScCalibSample* */
  GPtrArray *langs;   /* char*, first-seen order, NULL-terminated */
  GArray *counts;     /* guint per language */
};

static void
sample_free (ScCalibSample *s)
{
  g_free (s->src);
  g_free (s->tgt);
  g_free (s->lang);
  g_free (s);
}

ScCalibSet *
sc_calib_set_new (void)
{
  ScCalibSet *set = g_new0 (ScCalibSet, 1);
  set->samples = g_ptr_array_new_with_free_func ((GDestroyNotify) sample_free);
  set->langs = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (set->langs, NULL);
  set->counts = g_array_new (FALSE, TRUE, sizeof (guint));
  return set;
}

void
sc_calib_set_free (ScCalibSet *set)
{
  if (set == NULL)
    return;
  g_ptr_array_unref (set->samples);
  g_ptr_array_unref (set->langs);
  g_array_unref (set->counts);
  g_free (set);
}

void
sc_calib_set_add (ScCalibSet *set, const int *src, int n_src, const int *tgt, int n_tgt,
                  const char *lang)
{
  ScCalibSample *s = g_new0 (ScCalibSample, 1);
  s->src = g_memdup2 (src, sizeof (int) * n_src);
  s->n_src = n_src;
  if (tgt != NULL)
    {
      s->tgt = g_memdup2 (tgt, sizeof (int) * n_tgt);
      s->n_tgt = n_tgt;
    }
  s->lang = g_strdup (lang ? lang : "");
  g_ptr_array_add (set->samples, s);
  guint i;
  for (i = 0; i + 1 < set->langs->len; i++)
    if (g_str_equal (set->langs->pdata[i], s->lang))
      break;
  if (i + 1 == set->langs->len)
    {
      set->langs->pdata[i] = g_strdup (s->lang);
      g_ptr_array_add (set->langs, NULL);
      g_array_set_size (set->counts, set->langs->len - 1);
    }
  g_array_index (set->counts, guint, i)++;
}

guint
sc_calib_set_size (const ScCalibSet *set)
{
  return set->samples->len;
}

const ScCalibSample *
sc_calib_set_get (const ScCalibSet *set, guint i)
{
  g_return_val_if_fail (i < set->samples->len, NULL);
  return set->samples->pdata[i];
}

const char *const *
sc_calib_set_languages (const ScCalibSet *set, const guint **counts)
{
  if (counts != NULL)
    *counts = (const guint *) set->counts->data;
  return (const char *const *) set->langs->pdata;
}

char *
sc_calib_set_describe (const ScCalibSet *set)
{
  GString *s = g_string_new (NULL);
  int longest = 0;
  for (guint i = 0; i < set->samples->len; i++)
    {
      const ScCalibSample *c = set->samples->pdata[i];
      longest = MAX (longest, MAX (c->n_src, c->n_tgt));
    }
  g_string_append_printf (s, "%u calibration samples of up to %d tokens, %u languages\n",
                          set->samples->len, longest, set->langs->len - 1);
  for (guint i = 0; i + 1 < set->langs->len; i++)
    g_string_append_printf (s, "  %-10s %5u\n", (const char *) set->langs->pdata[i],
                            g_array_index (set->counts, guint, i));
  return g_string_free (s, FALSE);
}

/* What building calibration samples needs from a model's tokenizer: the
 * languages it takes, a text's pieces, and how consecutive pieces become
 * one sample of at most `seqlen` tokens (`overhead` of them not pieces). */
typedef struct
{
  gpointer tok;
  gboolean (*knows) (gpointer tok, const char *lang);
  GArray *(*encode) (gpointer tok, const char *text, GError **error);
  void (*add) (ScCalibSet *set, gpointer tok, const char *lang, const int *pieces, int n);
  int overhead;
} CalibText;

/* The sampling shared by every architecture: the languages that the
 * corpus, the model (ct->knows) and, for MBS, the share table all have,
 * one direction each; quotas from the sampler; a sample of language L is
 * the pieces of consecutive calibration paragraphs of L from the picked
 * one on, cut to fit. */
static ScCalibSet *
calib_from_udhr (const CalibText *ct, const ScCalibOptions *opts,
                 const ScShareTable *default_shares, GError **error)
{
  if (opts->seqlen < 4 || opts->n_samples == 0)
    {
      g_set_error (error, SC_SAMPLER_ERROR, SC_SAMPLER_ERROR_INVALID,
                   "calibration needs at least one sample of at least 4 tokens (got %u of %d)",
                   opts->n_samples, opts->seqlen);
      return NULL;
    }
  g_autofree char *dir = opts->udhr_dir ? g_strdup (opts->udhr_dir) : sc_corpus_default_udhr_dir ();
  if (dir == NULL)
    {
      g_set_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_MISSING,
                   "the UDHR calibration corpus is not installed");
      return NULL;
    }
  g_auto (GStrv) corpus_langs = sc_corpus_udhr_languages (dir, error);
  if (corpus_langs == NULL)
    return NULL;

  const ScShareTable *shares = opts->shares ? opts->shares : default_shares;
  if (opts->mode == SC_CALIB_LANGUAGE)
    {
      if (opts->language == NULL ||
          !g_strv_contains ((const char *const *) corpus_langs, opts->language))
        {
          g_set_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_MISSING,
                       "calibration language %s is missing from the corpus %s",
                       opts->language ? opts->language : "(none)", dir);
          return NULL;
        }
      if (!ct->knows (ct->tok, opts->language))
        {
          g_set_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_MISSING,
                       "calibration language %s is not one of the model's languages",
                       opts->language);
          return NULL;
        }
    }

  g_autoptr (GPtrArray) texts = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  g_autoptr (GArray) dirs = g_array_new (FALSE, TRUE, sizeof (ScSampleDirection));
  for (guint i = 0; corpus_langs[i] != NULL; i++)
    {
      const char *l = corpus_langs[i];
      double share;
      if (!ct->knows (ct->tok, l))
        continue;
      /* As in the MBS paper's allocation, a language whose proportional
       * quota is under half a sample gets none. */
      if (opts->mode == SC_CALIB_MBS &&
          (!sc_share_table_lookup (shares, l, &share) || share * opts->n_samples < 0.5))
        continue;
      if (opts->mode == SC_CALIB_LANGUAGE && !g_str_equal (l, opts->language))
        continue;
      GPtrArray *pairs = sc_corpus_udhr_pairs (dir, l, l, SC_CORPUS_SPLIT_CALIBRATION, error);
      if (pairs == NULL)
        return NULL;
      if (pairs->len == 0)
        {
          g_ptr_array_unref (pairs);
          continue;
        }
      ScSampleDirection d = { .src = l, .tgt = NULL, .n_items = pairs->len };
      g_array_append_val (dirs, d);
      g_ptr_array_add (texts, pairs);
    }
  if (dirs->len == 0)
    {
      g_set_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_EMPTY,
                   "no language is both in the corpus %s and among the model's languages", dir);
      return NULL;
    }

  ScSamplerOptions so = {
    .mode = opts->mode == SC_CALIB_MBS       ? SC_SAMPLE_PROPORTIONAL
            : opts->mode == SC_CALIB_UNIFORM ? SC_SAMPLE_UNIFORM
                                             : SC_SAMPLE_SINGLE,
    .n_samples = opts->n_samples,
    .seed = opts->seed,
    .shares = shares,
    .language = opts->language,
  };
  g_autoptr (ScSample) sample =
      sc_sample_directions ((const ScSampleDirection *) dirs->data, dirs->len, &so, error);
  if (sample == NULL)
    return NULL;

  g_autoptr (ScCalibSet) set = sc_calib_set_new ();
  int budget = opts->seqlen - ct->overhead;
  g_autofree int *pieces_buf = g_new (int, budget);
  for (guint p = 0; p < sample->picks->len; p++)
    {
      const ScSamplePick *pick = &g_array_index (sample->picks, ScSamplePick, p);
      const char *lang = g_array_index (dirs, ScSampleDirection, pick->direction).src;
      GPtrArray *pairs = texts->pdata[pick->direction];
      int n = 0;
      for (guint k = 0; k < pairs->len && n < budget; k++)
        {
          const ScCorpusPair *pair = pairs->pdata[(pick->item + k) % pairs->len];
          g_autoptr (GArray) pieces = ct->encode (ct->tok, pair->source, error);
          if (pieces == NULL)
            return NULL;
          for (guint t = 0; t < pieces->len && n < budget; t++)
            pieces_buf[n++] = g_array_index (pieces, int, t);
        }
      ct->add (set, ct->tok, lang, pieces_buf, n);
    }
  return g_steal_pointer (&set);
}

static gboolean
nllb_knows (gpointer tok, const char *lang)
{
  for (guint i = 0; i < sc_tokenizer_n_languages (tok); i++)
    if (g_str_equal (sc_tokenizer_language (tok, i), lang))
      return TRUE;
  return FALSE;
}

static GArray *
nllb_encode (gpointer tok, const char *text, GError **error)
{
  return sc_tokenizer_encode_pieces (tok, text, error);
}

/* The encoder reads [L] pieces [</s>], the decoder, teacher-forced,
 * [</s> L] pieces: L into L, so both sides of the network see L text only,
 * as an LLM's monolingual segments do. */
static void
nllb_add (ScCalibSet *set, gpointer tok, const char *lang, const int *pieces, int n)
{
  int lang_id = sc_tokenizer_lang_id (tok, lang, NULL); /* known: nllb_knows */
  g_autofree int *src = g_new (int, n + 2), *tgt = g_new (int, n + 2);
  memcpy (src + 1, pieces, n * sizeof (int));
  memcpy (tgt + 2, pieces, n * sizeof (int));
  src[0] = lang_id;
  src[1 + n] = SC_TOKEN_EOS;
  tgt[0] = SC_TOKEN_EOS;
  tgt[1] = lang_id;
  sc_calib_set_add (set, src, n + 2, tgt, n + 2, lang);
}

ScCalibSet *
sc_calib_set_from_udhr (ScModel *model, const ScCalibOptions *opts, GError **error)
{
  g_autoptr (ScShareTable) model_shares = NULL;
  if (opts->mode == SC_CALIB_MBS && opts->shares == NULL &&
      (model_shares = sc_model_load_share_table (model, error)) == NULL)
    return NULL;
  CalibText ct = { sc_model_get_tokenizer (model), nllb_knows, nllb_encode, nllb_add, 2 };
  return calib_from_udhr (&ct, opts, model_shares, error);
}

/* BLOOM has no language tokens: it takes the languages of its training
 * corpus (the share table), and a sample is plain text pieces. */
typedef struct
{
  ScBpe *bpe;
  const ScShareTable *languages;
} BloomText;

static gboolean
bloom_knows (gpointer tok, const char *lang)
{
  return sc_share_table_lookup (((BloomText *) tok)->languages, lang, NULL);
}

static GArray *
bloom_encode (gpointer tok, const char *text, GError **error)
{
  return sc_bpe_encode (((BloomText *) tok)->bpe, text, -1, error);
}

static void
bloom_add (ScCalibSet *set, gpointer tok, const char *lang, const int *pieces, int n)
{
  sc_calib_set_add (set, pieces, n, NULL, 0, lang);
}

ScCalibSet *
sc_calib_set_from_udhr_bloom (ScBloom *model, const ScCalibOptions *opts, GError **error)
{
  ScBpe *bpe = sc_bloom_get_tokenizer (model);
  if (bpe == NULL)
    {
      g_set_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_MISSING,
                   "the model has no tokenizer.json to cut calibration text with");
      return NULL;
    }
  g_autoptr (ScShareTable) roots = sc_share_table_load_named ("bloom-roots", error);
  if (roots == NULL)
    return NULL;
  BloomText bt = { bpe, opts->shares ? opts->shares : roots };
  CalibText ct = { &bt, bloom_knows, bloom_encode, bloom_add, 0 };
  return calib_from_udhr (&ct, opts, roots, error);
}

/* ---- NLLB as a prunable model -------------------------------------------- */

static int
nllb_n_blocks (gpointer m)
{
  return sc_model_n_blocks (sc_view_get_model (m));
}

static int
nllb_n_linears (gpointer m)
{
  return sc_model_n_linears (sc_view_get_model (m));
}

static void
nllb_get_linear (gpointer m, int i, ScLinearInfo *info)
{
  sc_model_get_linear (sc_view_get_model (m), i, info);
}

static const ScTensor *
nllb_get_weight (gpointer v, int i)
{
  return sc_view_get_linear_weight (v, i);
}

static void
nllb_set_observer (gpointer v, ScLinearObserver observer, gpointer data)
{
  sc_view_set_linear_observer (v, observer, data);
}

static gboolean
nllb_replace_weight (gpointer v, int i, float *data, GError **error)
{
  return sc_view_replace_linear_weight (v, i, data, error);
}

/* One sample, batch of one (no padding): the encoder, then, for decoder
 * blocks, the teacher-forced decoder. */
static gboolean
nllb_forward (gpointer v, const ScCalibSample *s, int last_block, GError **error)
{
  ScView *view = v;
  ScModel *model = sc_view_get_model (view);
  const ScConfig *c = sc_model_get_config (model);
  int n_src = s->n_src;
  g_autoptr (ScEncoding) enc = sc_view_encode (view, s->src, &n_src, 1, n_src, error);
  if (enc == NULL)
    return FALSE;
  if (last_block < c->encoder_layers || s->tgt == NULL || s->n_tgt == 0)
    return TRUE;
  int row = 0;
  g_autoptr (ScDecoder) dec = sc_decoder_new (view, enc, 1, &row, s->n_tgt, error);
  if (dec == NULL)
    return FALSE;
  g_autofree float *logits = g_new (float, c->vocab_size);
  return sc_decoder_forward (dec, s->tgt, s->n_tgt, logits, TRUE, error);
}

void
sc_prunable_init_view (ScPrunable *p, ScView *view)
{
  p->model = view;
  p->n_blocks = nllb_n_blocks;
  p->n_linears = nllb_n_linears;
  p->get_linear = nllb_get_linear;
  p->get_weight = nllb_get_weight;
  p->set_observer = nllb_set_observer;
  p->replace_weight = nllb_replace_weight;
  p->forward = nllb_forward;
}

/* ---- BLOOM as a prunable model -------------------------------------------- */

struct _ScBloomPrunable
{
  ScBloom *model;
  int n;               /* n_layer x SC_BLOOM_N_LINEAR, in forward order */
  char **names;        /* the checkpoint's tensor names */
  ScTensor **replaced; /* f32 copies the model runs on (NULL: the checkpoint's) */
  ScLinearObserver observer;
  gpointer observer_data;
};

ScBloomPrunable *
sc_bloom_prunable_new (ScBloom *model)
{
  ScBloomPrunable *bp = g_new0 (ScBloomPrunable, 1);
  bp->model = model;
  bp->n = sc_bloom_n_layers (model) * SC_BLOOM_N_LINEAR;
  bp->names = g_new0 (char *, bp->n + 1);
  bp->replaced = g_new0 (ScTensor *, bp->n);
  for (int i = 0; i < bp->n; i++)
    bp->names[i] =
        g_strdup (sc_bloom_get_linear (model, i / SC_BLOOM_N_LINEAR, i % SC_BLOOM_N_LINEAR)->name);
  return bp;
}

static void
free_replaced_tensor (ScTensor *t)
{
  if (t == NULL)
    return;
  g_free ((gpointer) t->data);
  g_free (t);
}

void
sc_bloom_prunable_free (ScBloomPrunable *bp)
{
  if (bp == NULL)
    return;
  sc_bloom_set_linear_observer (bp->model, NULL, NULL);
  for (int i = 0; i < bp->n; i++)
    if (bp->replaced[i] != NULL)
      {
        /* the model must not keep pointing at what is freed here */
        sc_bloom_set_linear (bp->model, i / SC_BLOOM_N_LINEAR, i % SC_BLOOM_N_LINEAR, NULL, NULL);
        free_replaced_tensor (bp->replaced[i]);
      }
  g_strfreev (bp->names);
  g_free (bp->replaced);
  g_free (bp);
}

const ScTensor *
sc_bloom_prunable_get_replaced (ScBloomPrunable *bp, const char *name)
{
  for (int i = 0; i < bp->n; i++)
    if (bp->replaced[i] != NULL && g_str_equal (bp->names[i], name))
      return bp->replaced[i];
  return NULL;
}

static int
bloom_n_blocks (gpointer data)
{
  return sc_bloom_n_layers (((ScBloomPrunable *) data)->model);
}

static int
bloom_n_linears (gpointer data)
{
  return ((ScBloomPrunable *) data)->n;
}

static const ScTensor *
bloom_get_weight (gpointer data, int i)
{
  ScBloomPrunable *bp = data;
  return sc_bloom_get_linear (bp->model, i / SC_BLOOM_N_LINEAR, i % SC_BLOOM_N_LINEAR);
}

static void
bloom_get_linear (gpointer data, int i, ScLinearInfo *info)
{
  ScBloomPrunable *bp = data;
  const ScTensor *t = bloom_get_weight (data, i);
  info->name = bp->names[i];
  info->block = i / SC_BLOOM_N_LINEAR;
  info->n_out = (int) t->shape[0];
  info->n_in = (int) t->shape[1];
  info->expert = -1;
}

static void
bloom_observe (ScBloom *model, int layer, ScBloomLinear which, const float *x, int T,
               int in_features, gpointer data)
{
  ScBloomPrunable *bp = data;
  bp->observer (layer * SC_BLOOM_N_LINEAR + which, x, T, bp->observer_data);
}

static void
bloom_set_observer (gpointer data, ScLinearObserver observer, gpointer user_data)
{
  ScBloomPrunable *bp = data;
  bp->observer = observer;
  bp->observer_data = user_data;
  sc_bloom_set_linear_observer (bp->model, observer ? bloom_observe : NULL, bp);
}

static gboolean
bloom_replace_weight (gpointer data, int i, float *w, GError **error)
{
  ScBloomPrunable *bp = data;
  const ScTensor *orig = bloom_get_weight (data, i);
  ScTensor *t = g_new0 (ScTensor, 1);
  t->name = bp->names[i];
  t->dtype = SC_DTYPE_F32;
  t->n_dims = 2;
  t->shape[0] = orig->shape[0];
  t->shape[1] = orig->shape[1];
  t->data = w;
  t->nbytes = sizeof (float) * (guint64) orig->shape[0] * orig->shape[1];
  if (!sc_bloom_set_linear (bp->model, i / SC_BLOOM_N_LINEAR, i % SC_BLOOM_N_LINEAR, t, error))
    {
      free_replaced_tensor (t);
      return FALSE;
    }
  free_replaced_tensor (bp->replaced[i]); /* a second replacement frees the first */
  bp->replaced[i] = t;
  return TRUE;
}

/* The whole segment through the embeddings and blocks 0..last_block. */
static gboolean
bloom_forward (gpointer data, const ScCalibSample *s, int last_block, GError **error)
{
  ScBloomPrunable *bp = data;
  int d = sc_bloom_get_config (bp->model)->hidden_size;
  g_autofree float *h = g_new (float, (gsize) s->n_src *d);
  if (!sc_bloom_embed (bp->model, s->src, s->n_src, h, error))
    return FALSE;
  for (int l = 0; l <= last_block && l < sc_bloom_n_layers (bp->model); l++)
    if (!sc_bloom_block_forward (bp->model, l, h, s->n_src, h, error))
      return FALSE;
  return TRUE;
}

void
sc_prunable_init_bloom (ScPrunable *p, ScBloomPrunable *bp)
{
  p->model = bp;
  p->n_blocks = bloom_n_blocks;
  p->n_linears = bloom_n_linears;
  p->get_linear = bloom_get_linear;
  p->get_weight = bloom_get_weight;
  p->set_observer = bloom_set_observer;
  p->replace_weight = bloom_replace_weight;
  p->forward = bloom_forward;
}

/* ---- pruning ------------------------------------------------------------- */

void
sc_sparsify_options_init (ScSparsifyOptions *opts)
{
  memset (opts, 0, sizeof *opts);
  opts->method = SC_SPARSITY_WANDA;
  opts->pattern.ratio = 0.5;
}

void
sc_sparsify_report_free (ScSparsifyReport *report)
{
  if (report == NULL)
    return;
  for (guint i = 0; report->layers != NULL && i < report->layers->len; i++)
    g_free (g_array_index (report->layers, ScSparsifyLayer, i).name);
  g_clear_pointer (&report->layers, g_array_unref);
  g_free (report);
}

typedef struct
{
  ScLayerInputs **by_linear; /* NULL where not gathered now */
} Capture;

static void
capture_rows (int linear, const float *x, int n_rows, gpointer data)
{
  Capture *cap = data;
  if (cap->by_linear[linear] != NULL)
    sc_layer_inputs_add (cap->by_linear[linear], x, n_rows);
}

/* Prunes one linear layer and puts the result in the model. */
static gboolean
prune_one (const ScPrunable *p, const ScSparsifyOptions *opts, int i, const ScLayerInputs *inputs,
           ScSparsifyReport *report, GError **error)
{
  ScLinearInfo info;
  p->get_linear (p->model, i, &info);
  const ScTensor *t = p->get_weight (p->model, i);
  gsize n = (gsize) info.n_out * info.n_in;
  g_autofree float *W = g_new (float, n);
  sc_tensor_read_f32 (t, 0, (int64_t) n, W);

  /* A layer no calibration token reached (an expert nobody was routed to)
   * has no statistics: fall back to magnitude rather than wipe it. */
  ScSparsityMethod method = opts->method;
  if (method != SC_SPARSITY_MAGNITUDE && (inputs == NULL || sc_layer_inputs_n_rows (inputs) == 0))
    method = SC_SPARSITY_MAGNITUDE;
  if (opts->inputs_observer != NULL && inputs != NULL)
    opts->inputs_observer (i, inputs, opts->inputs_observer_data);

  ScSparsityReport rep;
  if (!sc_sparsity_prune (method, &opts->pattern, W, info.n_out, info.n_in, inputs, NULL, &rep,
                          error))
    {
      g_prefix_error (error, "%s: ", info.name);
      return FALSE;
    }
  ScSparsifyLayer layer = {
    .name = g_strdup (info.name),
    .block = info.block,
    .expert = info.expert,
    .n_out = info.n_out,
    .n_in = info.n_in,
    .n_rows = inputs ? sc_layer_inputs_n_rows (inputs) : 0,
    .damp_escalations = rep.damp_escalations,
  };
  for (gsize k = 0; k < n; k++)
    layer.n_zero += W[k] == 0.0f;
  if (!p->replace_weight (p->model, i, g_steal_pointer (&W), error))
    {
      g_free (layer.name);
      return FALSE;
    }
  g_array_append_val (report->layers, layer);
  report->n_weights += n;
  report->n_zero += layer.n_zero;
  report->damp_escalations += rep.damp_escalations;
  return TRUE;
}

ScSparsifyReport *
sc_sparsify (const ScPrunable *p, const ScCalibSet *calib, const ScSparsifyOptions *opts,
             ScSparsifyProgress progress, gpointer progress_data, GCancellable *cancellable,
             GError **error)
{
  int n_lin = p->n_linears (p->model), n_blocks = p->n_blocks (p->model);
  gboolean need_inputs = opts->method != SC_SPARSITY_MAGNITUDE;
  gboolean hessian = opts->method == SC_SPARSITY_SPARSEGPT;
  guint64 budget = opts->hessian_budget ? opts->hessian_budget : (guint64) 2 << 30;

  /* Check everything before changing anything. */
  for (int i = 0; i < n_lin; i++)
    {
      ScLinearInfo info;
      p->get_linear (p->model, i, &info);
      if (!sc_sparsity_pattern_check (&opts->pattern, info.n_in, error))
        {
          g_prefix_error (error, "%s: ", info.name);
          return NULL;
        }
    }
  if (need_inputs && (calib == NULL || sc_calib_set_size (calib) == 0))
    {
      g_set_error (error, SC_SPARSITY_ERROR, SC_SPARSITY_ERROR_NO_INPUTS,
                   "%s needs calibration samples", sc_sparsity_method_name (opts->method));
      return NULL;
    }

  g_autoptr (ScSparsifyReport) report = g_new0 (ScSparsifyReport, 1);
  report->layers = g_array_new (FALSE, TRUE, sizeof (ScSparsifyLayer));
  g_autofree ScLayerInputs **by_linear = g_new0 (ScLayerInputs *, n_lin);
  Capture cap = { by_linear };
  gint64 start = g_get_monotonic_time ();
  int first = 0;

  for (int b = 0; b < n_blocks; b++)
    {
      int end = first;
      ScLinearInfo info;
      while (end < n_lin && (p->get_linear (p->model, end, &info), info.block == b))
        end++;
      /* Passes over the block's layers within the Hessian budget. */
      for (int g0 = first; g0 < end;)
        {
          int g1 = g0;
          guint64 bytes = 0;
          while (g1 < end)
            {
              p->get_linear (p->model, g1, &info);
              guint64 need = hessian ? (guint64) info.n_in * info.n_in * sizeof (float) : 0;
              if (g1 > g0 && bytes + need > budget)
                break;
              bytes += need;
              g1++;
            }

          gboolean ok = TRUE;
          if (need_inputs)
            {
              for (int i = g0; i < g1; i++)
                {
                  p->get_linear (p->model, i, &info);
                  by_linear[i] = sc_layer_inputs_new_on (info.n_in, hessian, opts->backend);
                }
              p->set_observer (p->model, capture_rows, &cap);
              for (guint s = 0; ok && s < sc_calib_set_size (calib); s++)
                ok = !g_cancellable_set_error_if_cancelled (cancellable, error) &&
                     p->forward (p->model, sc_calib_set_get (calib, s), b, error);
              p->set_observer (p->model, NULL, NULL);
              for (int i = g0; ok && opts->inputs_reduce != NULL && i < g1; i++)
                ok = opts->inputs_reduce (i, by_linear[i], opts->inputs_reduce_data, error);
            }
          /* cancellation is checked between layers too: a block of a large
           * model holds many SparseGPT layers of seconds each */
          for (int i = g0; ok && i < g1; i++)
            ok = !g_cancellable_set_error_if_cancelled (cancellable, error) &&
                 prune_one (p, opts, i, by_linear[i], report, error);
          for (int i = g0; i < g1; i++)
            g_clear_pointer (&by_linear[i], sc_layer_inputs_free);
          if (!ok)
            return NULL;
          g0 = g1;
        }
      first = end;
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
      if (progress != NULL)
        {
          /* Block b costs about b + 1 forward passes of one block. */
          double secs = (g_get_monotonic_time () - start) / 1e6;
          double done_w = (double) (b + 1) * (b + 2) / 2;
          double all_w = (double) n_blocks * (n_blocks + 1) / 2;
          progress (b + 1, n_blocks, secs * (all_w - done_w) / done_w, progress_data);
        }
    }
  return g_steal_pointer (&report);
}

/* ---- the record an export keeps ---------------------------------------- */

JsonObject *
sc_sparsify_record (const ScSparsifyOptions *so, const char *calib, const ScCalibSet *set,
                    int seqlen, const ScSparsifyReport *report)
{
  JsonObject *rec = json_object_new ();
  g_autofree char *pat = sc_sparsity_pattern_to_string (&so->pattern);
  json_object_set_string_member (rec, "method", sc_sparsity_method_name (so->method));
  json_object_set_string_member (rec, "type", so->pattern.m > 0 ? "n:m" : "unstructured");
  json_object_set_string_member (rec, "sparsity", pat);
  if (so->pattern.m > 0)
    {
      json_object_set_int_member (rec, "n", so->pattern.n);
      json_object_set_int_member (rec, "m", so->pattern.m);
    }
  else
    {
      json_object_set_double_member (rec, "ratio", so->pattern.ratio);
    }
  json_object_set_double_member (
      rec, "achieved", report->n_weights ? (double) report->n_zero / report->n_weights : 0.0);
  JsonObject *cal = json_object_new ();
  json_object_set_string_member (cal, "sampling", calib);
  if (set != NULL)
    {
      json_object_set_int_member (cal, "samples", sc_calib_set_size (set));
      json_object_set_int_member (cal, "seqlen", seqlen);
      JsonObject *counts_obj = json_object_new ();
      const guint *counts;
      const char *const *langs = sc_calib_set_languages (set, &counts);
      for (guint i = 0; langs[i] != NULL; i++)
        json_object_set_int_member (counts_obj, langs[i], counts[i]);
      json_object_set_object_member (cal, "languages", counts_obj);
    }
  json_object_set_object_member (rec, "calibration", cal);
  return rec;
}
