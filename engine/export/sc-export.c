/* sc-export.c: pruned checkpoints, written atomically. */
#include "sc-export.h"

#include "sc-json-write.h"
#include "sc-json-file.h"
#include "sc-model-card.h"
#include "sc-remote-code.h"
#include "sc-safetensors.h"

#include <glib/gstdio.h>
#include <math.h>
#include <json-glib/json-glib.h>
#include <stdlib.h>
#include <string.h>

/* What a tensor name says about experts. */
typedef enum
{
  TENSOR_OTHER,
  TENSOR_EXPERT,
  TENSOR_ROUTER
} TensorKind;

static int
moe_ordinal (const ScConfig *c, gboolean decoder, int layer)
{
  int m = 0;
  if (decoder)
    for (int i = 0; i < c->encoder_layers; i++)
      m += sc_config_is_sparse (c, FALSE, i);
  for (int i = 0; i < layer; i++)
    m += sc_config_is_sparse (c, decoder, i);
  return m;
}

/* Parses "[model.]{encoder,decoder}.layers.L.ffn.{experts.expert_E.*,router.classifier.weight}". */
static TensorKind
classify (const ScConfig *c, const char *name, int *moe, int *expert)
{
  const char *s = g_str_has_prefix (name, "model.") ? name + 6 : name;
  gboolean decoder;
  if (g_str_has_prefix (s, "encoder.layers."))
    decoder = FALSE, s += strlen ("encoder.layers.");
  else if (g_str_has_prefix (s, "decoder.layers."))
    decoder = TRUE, s += strlen ("decoder.layers.");
  else
    return TENSOR_OTHER;
  char *end;
  long layer = strtol (s, &end, 10);
  if (end == s || layer < 0 || layer >= (decoder ? c->decoder_layers : c->encoder_layers) ||
      !sc_config_is_sparse (c, decoder, (int) layer))
    return TENSOR_OTHER;
  *moe = moe_ordinal (c, decoder, (int) layer);
  if (g_str_equal (end, ".ffn.router.classifier.weight"))
    return TENSOR_ROUTER;
  if (!g_str_has_prefix (end, ".ffn.experts.expert_"))
    return TENSOR_OTHER;
  s = end + strlen (".ffn.experts.expert_");
  long e = strtol (s, &end, 10);
  if (end == s || *end != '.' || e < 0 || e >= c->num_experts)
    return TENSOR_OTHER;
  /* the original id, also in a checkpoint whose names are renumbered */
  *expert = sc_config_original_expert (c, *moe, (int) e);
  return *expert >= 0 ? TENSOR_EXPERT : TENSOR_OTHER;
}

/* k when every MoE layer keeps k experts, else 0. */
static int
uniform_count (const ScConfig *c, const guint8 *keep)
{
  int k = -1;
  for (int m = 0; m < sc_config_n_moe_layers (c); m++)
    {
      int n = 0;
      for (int e = 0; e < c->num_experts; e++)
        n += keep[m * c->num_experts + e] != 0;
      if (k >= 0 && n != k)
        return 0;
      k = n;
    }
  return MAX (k, 0);
}

/* The number expert `e` of MoE layer m has in the exported names: its rank
 * among the layer's kept experts (transformers pairs router row i with
 * expert_i), in both forms. */
static int
exported_expert (const ScConfig *c, const guint8 *keep, int m, int e)
{
  int rank = 0;
  for (int x = 0; x < e; x++)
    rank += keep[m * c->num_experts + x] != 0;
  return rank;
}

/* `name` with the number after "experts.expert_" replaced by `id`. */
static char *
renamed_expert (const char *name, int id)
{
  const char *p = strstr (name, ".experts.expert_") + strlen (".experts.expert_");
  const char *rest = p;
  while (g_ascii_isdigit (*rest))
    rest++;
  return g_strdup_printf ("%.*s%d%s", (int) (p - name), name, id, rest);
}

static gboolean
check_keep (ScModel *model, const guint8 *keep, GError **error)
{
  const ScConfig *c = sc_model_get_config (model);
  if (c->arch != SC_ARCH_NLLB_MOE)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_UNSUPPORTED,
                   "only Mixture-of-Experts models have experts to prune");
      return FALSE;
    }
  /* The model validates counts and, for an already pruned checkpoint, that
   * every kept expert is present. */
  return sc_model_check_expert_keep (model, keep, error);
}

gboolean
sc_export_plan (ScModel *model, const guint8 *keep, ScExportPlan *plan, GError **error)
{
  const ScConfig *c = sc_model_get_config (model);
  ScCheckpoint *ckpt = sc_model_get_checkpoint (model);
  memset (plan, 0, sizeof *plan);
  if (!check_keep (model, keep, error))
    return FALSE;
  plan->uniform_experts = uniform_count (c, keep);

  const char *const *names = sc_checkpoint_names (ckpt);
  for (guint i = 0; i < sc_checkpoint_n_tensors (ckpt); i++)
    {
      const ScTensor *t = sc_checkpoint_get (ckpt, names[i]);
      int m = 0, e = 0;
      TensorKind kind = classify (c, names[i], &m, &e);
      if (kind == TENSOR_EXPERT && !keep[m * c->num_experts + e])
        {
          plan->n_dropped++;
          plan->dropped_bytes += t->nbytes;
          continue;
        }
      guint64 bytes = t->nbytes;
      if (kind == TENSOR_ROUTER)
        {
          int kept = 0;
          for (int x = 0; x < c->num_experts; x++)
            kept += keep[m * c->num_experts + x] != 0;
          bytes = (guint64) kept * t->shape[1] * sc_dtype_size (t->dtype);
          plan->dropped_bytes += t->nbytes - bytes;
        }
      plan->n_tensors++;
      plan->bytes += bytes;
      if (t->dtype == SC_DTYPE_F32 || t->dtype == SC_DTYPE_F16 || t->dtype == SC_DTYPE_BF16)
        {
          plan->float_elements += bytes / sc_dtype_size (t->dtype);
          plan->float_bytes += bytes;
        }
    }
  return TRUE;
}

guint64
sc_export_plan_bytes_as (const ScExportPlan *plan, ScDType dtype)
{
  return plan->bytes - plan->float_bytes + plan->float_elements * sc_dtype_size (dtype);
}

/* The router of MoE layer m with only the kept rows. Row r of the stored
 * router is expert r, or, in an already pruned checkpoint, the r-th of its
 * kept experts. */
static ScTensor *
slice_router (const ScConfig *c, const ScTensor *t, int m, const guint8 *keep)
{
  GArray *had = c->kept_experts ? g_ptr_array_index (c->kept_experts, m) : NULL;
  int rows = (int) t->shape[0];
  gsize row_bytes = (gsize) t->shape[1] * sc_dtype_size (t->dtype);
  ScTensor *out = g_new0 (ScTensor, 1);
  out->name = g_strdup (t->name);
  out->dtype = t->dtype;
  out->n_dims = 2;
  out->shape[1] = t->shape[1];
  guint8 *data = g_malloc (rows * row_bytes + 1);
  int n = 0;
  for (int r = 0; r < rows; r++)
    {
      int e = had ? g_array_index (had, int, r) : r;
      if (keep[m * c->num_experts + e])
        memcpy (data + (gsize) n++ * row_bytes, (const guint8 *) t->data + (gsize) r * row_bytes,
                row_bytes);
    }
  out->shape[0] = n;
  out->data = data;
  out->nbytes = (guint64) n * row_bytes;
  return out;
}

static void
free_sliced (ScTensor *t)
{
  g_free ((gpointer) t->data);
  g_free (t->name);
  g_free (t);
}

/* A tensor under another name; the data stays the source's. */
static ScTensor *
view_named (const ScTensor *t, char *name)
{
  ScTensor *v = g_memdup2 (t, sizeof *t);
  v->name = name;
  return v;
}

static void
free_view (ScTensor *t)
{
  g_free (t->name);
  g_free (t);
}

static gboolean
copy_file (const char *from, const char *to, GError **error)
{
  g_autoptr (GFile) src = g_file_new_for_path (from);
  g_autoptr (GFile) dst = g_file_new_for_path (to);
  if (g_file_copy (src, dst, G_FILE_COPY_NONE, NULL, NULL, NULL, error))
    return TRUE;
  g_prefix_error (error, "cannot copy %s: ", from); /* GIO's message names no file */
  return FALSE;
}

static gboolean
is_weight_file (const char *name)
{
  return g_str_has_suffix (name, ".safetensors") || g_str_has_suffix (name, ".bin") ||
         g_str_has_suffix (name, ".index.json") || g_str_has_suffix (name, ".pt") ||
         g_str_has_suffix (name, ".pth");
}

/* A weight replaced by pruning (f32), back in the checkpoint's dtype.
 * Zeros stay zeros in every dtype; a value that does not fit (infinite or
 * NaN after narrowing) is refused rather than written. */
static ScTensor *
narrow_replaced (const ScTensor *orig, const ScTensor *rep, GError **error)
{
  int64_t n = sc_tensor_numel (rep);
  const float *src = rep->data;
  if (sc_tensor_numel (orig) != n)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_SHAPE, "replacement of %s has the wrong size",
                   orig->name);
      return NULL;
    }
  ScTensor *out = g_new0 (ScTensor, 1);
  out->name = g_strdup (orig->name);
  out->dtype = orig->dtype;
  out->n_dims = orig->n_dims;
  memcpy (out->shape, orig->shape, sizeof out->shape);
  out->nbytes = (guint64) n * sc_dtype_size (orig->dtype);
  void *data = g_malloc (out->nbytes + 1);
  out->data = data;
  gboolean finite = TRUE;
  for (int64_t i = 0; i < n; i++)
    {
      float v = src[i];
      if (orig->dtype == SC_DTYPE_F16)
        {
          ((guint16 *) data)[i] = sc_f32_to_f16 (v);
          v = sc_f16_to_f32 (((guint16 *) data)[i]);
        }
      else if (orig->dtype == SC_DTYPE_BF16)
        {
          ((guint16 *) data)[i] = sc_f32_to_bf16 (v);
          v = sc_bf16_to_f32 (((guint16 *) data)[i]);
        }
      else
        {
          ((float *) data)[i] = v;
        }
      finite = finite && isfinite (v);
    }
  if (orig->dtype != SC_DTYPE_F32 && orig->dtype != SC_DTYPE_F16 && orig->dtype != SC_DTYPE_BF16)
    finite = FALSE;
  if (!finite)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                   "%s: the pruned weights do not fit %s (NaN or infinite); nothing was written",
                   orig->name, sc_dtype_name (orig->dtype));
      g_free (data);
      sc_tensor_free (out);
      return NULL;
    }
  return out;
}

/* config.json of the source with the kept ids per MoE layer added (when
 * experts were pruned), the sparsity record (when given) and the record
 * that marks the folder as an export. */
static JsonNode *
config_node (const ScConfig *c, const char *model_dir, const guint8 *keep, JsonObject *record,
             JsonObject *selection, const ScExportOptions *opts, GError **error)
{
  g_autofree char *src = g_build_filename (model_dir, "config.json", NULL);
  g_autoptr (JsonNode) root = sc_json_file_load (src, SC_JSON_CONFIG_MAX_BYTES, error);
  if (root == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_CONFIG, "%s: not a JSON object", src);
      return NULL;
    }
  JsonObject *obj = json_node_get_object (root);
  if (keep != NULL)
    {
      /* Experts renumbered per layer in both forms, the original count
       * beside. Uniform: a plain NllbMoe checkpoint of k experts; otherwise
       * the per-layer form (sc-remote-code.h), num_experts the largest
       * count. An earlier export's form is replaced. */
      int k = uniform_count (c, keep), n_moe = sc_config_n_moe_layers (c), most = 0;
      g_autofree int *counts = g_new0 (int, MAX (n_moe, 1));
      JsonArray *layers = json_array_new ();
      for (int m = 0; m < n_moe; m++)
        {
          JsonArray *ids = json_array_new ();
          for (int e = 0; e < c->num_experts; e++)
            if (keep[m * c->num_experts + e])
              json_array_add_int_element (ids, e);
          counts[m] = (int) json_array_get_length (ids);
          most = MAX (most, counts[m]);
          json_array_add_array_element (layers, ids);
        }
      json_object_set_int_member (obj, "num_experts", k > 0 ? k : most);
      json_object_set_int_member (obj, SC_CONFIG_ORIGINAL_EXPERTS_KEY, c->num_experts);
      json_object_set_array_member (obj, SC_CONFIG_KEPT_KEY, layers);
      if (k > 0)
        sc_remote_code_unset_config (obj);
      else
        sc_remote_code_set_config (obj, counts, n_moe);
    }
  /* The 54B's first upload says "nllb_moe", which transformers' AutoConfig
   * does not know; its NllbMoe classes are registered as "nllb-moe". */
  if (c != NULL && c->arch == SC_ARCH_NLLB_MOE &&
      g_strcmp0 (json_object_get_string_member_with_default (obj, "model_type", ""), "nllb_moe") ==
          0)
    json_object_set_string_member (obj, "model_type", "nllb-moe");
  if (opts->convert) /* what transformers' torch_dtype="auto" loads */
    json_object_set_string_member (obj, "torch_dtype",
                                   opts->dtype == SC_DTYPE_F16    ? "float16"
                                   : opts->dtype == SC_DTYPE_BF16 ? "bfloat16"
                                                                  : "float32");
  if (record != NULL)
    json_object_set_object_member (obj, SC_EXPORT_SPARSITY_KEY, json_object_ref (record));
  if (selection != NULL)
    json_object_set_object_member (obj, SC_EXPORT_SELECTION_KEY, json_object_ref (selection));
  else if (keep != NULL && json_object_has_member (obj, SC_EXPORT_SELECTION_KEY))
    json_object_remove_member (obj, SC_EXPORT_SELECTION_KEY); /* an earlier export's */
  json_object_set_object_member (obj, SC_DESTINATION_KEY, sc_destination_record_new ());
  return g_steal_pointer (&root);
}

/* What is written: a checkpoint's tensors, with replacements (weight
 * pruning) looked up by name and, for expert pruning, the model's config. */
typedef struct
{
  ScCheckpoint *ckpt;
  const ScConfig *config; /* needed with keep only */
  ScReplacedFunc replaced;
  gpointer replaced_data;
} Source;

static const ScTensor *
view_replaced (gpointer view, const char *name)
{
  return sc_view_get_replaced_weight (view, name);
}

/* A NaN or infinity copied into an export makes a model that computes
 * nothing useful: fail naming the tensor, or (allowed) name every such
 * tensor in `bad`. Scanned shard by shard, just before each is written, so
 * the pages are read once for both. */
static gboolean
check_finite (GPtrArray *shard, GPtrArray *bad, GError **error)
{
  for (guint i = 0; i < shard->len; i++)
    {
      const ScTensor *t = shard->pdata[i];
      int64_t at;
      if (!sc_tensor_find_nonfinite (t, &at))
        continue;
      if (bad == NULL)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_NOT_FINITE,
                       "Tensor %s holds NaN or infinity (element %" G_GINT64_FORMAT
                       "); nothing exported",
                       t->name, at);
          return FALSE;
        }
      g_ptr_array_add (bad, t->name);
    }
  return TRUE;
}

/* Bytes of t as written (converted to opts' dtype when asked). */
static guint64
written_bytes (const ScTensor *t, const ScExportOptions *opts)
{
  gboolean f = t->dtype == SC_DTYPE_F32 || t->dtype == SC_DTYPE_F16 || t->dtype == SC_DTYPE_BF16;
  if (!opts->convert || !f)
    return t->nbytes;
  return (guint64) sc_tensor_numel (t) * sc_dtype_size (opts->dtype);
}

/* Everything an export writes, decided before anything is written: the
 * export writes exactly this and sc_export_pruned_files measures it, so
 * the sizes shown before an export are the sizes written. */
typedef struct
{
  GPtrArray *tensors; /* as written, in checkpoint order */
  GPtrArray *sliced, *views;
  GPtrArray *shards; /* GPtrArray of tensors, one per file */
  JsonNode *index;   /* model.safetensors.index.json; NULL: one file */
  JsonNode *config;
  gboolean remote_code;
  const char *card;  /* README.md; NULL: the model's copied */
  GPtrArray *copies; /* names copied from the model's folder */
} Layout;

static void
layout_clear (Layout *l)
{
  g_clear_pointer (&l->shards, g_ptr_array_unref);
  g_clear_pointer (&l->tensors, g_ptr_array_unref);
  g_clear_pointer (&l->sliced, g_ptr_array_unref);
  g_clear_pointer (&l->views, g_ptr_array_unref);
  g_clear_pointer (&l->index, json_node_unref);
  g_clear_pointer (&l->config, json_node_unref);
  g_clear_pointer (&l->copies, g_ptr_array_unref);
}

/* The tensors as written. `measure`: replaced weights (same shape and
 * dtype as the checkpoint's) are not narrowed, nothing is read. */
static gboolean
layout_tensors (const Source *src, const guint8 *keep, gboolean measure, Layout *l, GError **error)
{
  const ScConfig *c = src->config;
  ScCheckpoint *ckpt = src->ckpt;
  l->tensors = g_ptr_array_new ();
  l->sliced = g_ptr_array_new_with_free_func ((GDestroyNotify) free_sliced);
  l->views = g_ptr_array_new_with_free_func ((GDestroyNotify) free_view);

  const char *const *names = sc_checkpoint_names (ckpt);
  for (guint i = 0; i < sc_checkpoint_n_tensors (ckpt); i++)
    {
      const ScTensor *t = sc_checkpoint_get (ckpt, names[i]);
      int m = 0, e = 0;
      TensorKind kind = keep != NULL ? classify (c, names[i], &m, &e) : TENSOR_OTHER;
      if (kind == TENSOR_EXPERT && !keep[m * c->num_experts + e])
        continue;
      const ScTensor *rep =
          src->replaced && !measure ? src->replaced (src->replaced_data, names[i]) : NULL;
      if (rep != NULL)
        {
          ScTensor *s = narrow_replaced (t, rep, error);
          if (s == NULL)
            return FALSE;
          g_ptr_array_add (l->sliced, s);
          t = s;
        }
      if (kind == TENSOR_ROUTER)
        {
          ScTensor *s = slice_router (c, t, m, keep);
          g_ptr_array_add (l->sliced, s);
          t = s;
        }
      if (kind == TENSOR_EXPERT)
        {
          g_autofree char *name = renamed_expert (t->name, exported_expert (c, keep, m, e));
          if (!g_str_equal (name, t->name))
            {
              ScTensor *v = view_named (t, g_steal_pointer (&name));
              g_ptr_array_add (l->views, v);
              t = v;
            }
        }
      g_ptr_array_add (l->tensors, (gpointer) t);
    }
  return TRUE;
}

static char *
shard_name (guint s, guint n)
{
  return n == 1 ? g_strdup ("model.safetensors")
                : g_strdup_printf ("model-%05u-of-%05u.safetensors", s + 1, n);
}

/* Shards in name order, each up to shard_bytes (a larger tensor gets a
 * shard of its own), and their index. */
static void
layout_shards (const ScExportOptions *opts, Layout *l)
{
  guint64 shard_bytes = opts->shard_bytes;
  l->shards = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  GPtrArray *cur = NULL;
  guint64 cur_bytes = 0, total = 0;
  for (guint i = 0; i < l->tensors->len; i++)
    {
      const ScTensor *t = l->tensors->pdata[i];
      guint64 nb = written_bytes (t, opts);
      if (cur == NULL || (shard_bytes > 0 && cur_bytes > 0 && cur_bytes + nb > shard_bytes))
        {
          cur = g_ptr_array_new ();
          g_ptr_array_add (l->shards, cur);
          cur_bytes = 0;
        }
      g_ptr_array_add (cur, (gpointer) t);
      cur_bytes += nb;
      total += nb;
    }
  if (l->shards->len < 2)
    return;

  g_autoptr (JsonBuilder) index = json_builder_new ();
  json_builder_begin_object (index);
  json_builder_set_member_name (index, "metadata");
  json_builder_begin_object (index);
  json_builder_set_member_name (index, "total_size");
  json_builder_add_int_value (index, (gint64) total);
  json_builder_end_object (index);
  json_builder_set_member_name (index, "weight_map");
  json_builder_begin_object (index);
  for (guint s = 0; s < l->shards->len; s++)
    {
      GPtrArray *shard = l->shards->pdata[s];
      g_autofree char *file = shard_name (s, l->shards->len);
      for (guint i = 0; i < shard->len; i++)
        {
          json_builder_set_member_name (index, ((ScTensor *) shard->pdata[i])->name);
          json_builder_add_string_value (index, file);
        }
    }
  json_builder_end_object (index);
  json_builder_end_object (index);
  l->index = json_builder_get_root (index);
}

/* dtype of every tensor of `shard` as written. */
static ScDType *
shard_dtypes (GPtrArray *shard, const ScExportOptions *opts)
{
  ScDType *as = g_new (ScDType, MAX (shard->len, 1));
  for (guint i = 0; i < shard->len; i++)
    as[i] = opts->convert ? opts->dtype : ((ScTensor *) shard->pdata[i])->dtype;
  return as;
}

static gboolean
write_weights (const Layout *l, const char *dir, const ScExportOptions *opts,
               GCancellable *cancellable, GError **error)
{
  g_autoptr (GPtrArray) bad = opts->allow_non_finite ? g_ptr_array_new () : NULL;
  for (guint s = 0; s < l->shards->len; s++)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      GPtrArray *shard = l->shards->pdata[s];
      g_autofree char *file = shard_name (s, l->shards->len);
      g_autofree char *path = g_build_filename (dir, file, NULL);
      g_autofree ScDType *as = shard_dtypes (shard, opts);
      if (!check_finite (shard, bad, error) ||
          !sc_safetensors_write_as (path, (ScTensor *const *) shard->pdata, shard->len, as, error))
        return FALSE;
    }
  if (bad != NULL && bad->len > 0)
    {
      g_ptr_array_add (bad, NULL);
      g_autofree char *names = g_strjoinv (", ", (char **) bad->pdata);
      g_message ("warning: %u exported tensor(s) hold NaN or infinity: %s", bad->len - 1, names);
    }

  if (l->index != NULL)
    {
      g_autofree char *path = g_build_filename (dir, "model.safetensors.index.json", NULL);
      if (!sc_json_save (l->index, TRUE, path, error))
        return FALSE;
    }
  return TRUE;
}

/* What an expert-pruned export says about itself: its selection record
 * and model card. */
typedef struct
{
  JsonObject *selection;
  char *card;
} Described;

static void
described_clear (Described *d)
{
  g_clear_pointer (&d->selection, json_object_unref);
  g_clear_pointer (&d->card, g_free);
}

/* The caller's record with what the export itself knows, and the card. */
static gboolean
describe_pruned (ScModel *model, const guint8 *keep, const ScExportOptions *opts, Described *about,
                 GError **error)
{
  ScExportPlan plan;
  if (!sc_export_plan (model, keep, &plan, error))
    return FALSE;
  const ScConfig *c = sc_model_get_config (model);
  JsonObject *sel = json_object_new ();
  if (opts->selection != NULL)
    {
      g_autoptr (GList) members = json_object_get_members (opts->selection);
      for (GList *l = members; l != NULL; l = l->next)
        json_object_set_member (sel, l->data,
                                json_node_copy (json_object_get_member (opts->selection, l->data)));
    }
  int kept = 0, all = sc_config_n_moe_layers (c) * c->num_experts;
  for (int i = 0; i < all; i++)
    kept += keep[i] != 0;
  ScDType dtype = opts->convert ? opts->dtype : sc_model_get_dtype (model);
  json_object_set_int_member (sel, "kept_experts", kept);
  json_object_set_int_member (sel, "of_experts", all);
  json_object_set_string_member (sel, "dtype", sc_dtype_name (dtype));
  json_object_set_string_member (sel, "secateur_version", SC_VERSION);

  g_autofree char *canon = g_canonicalize_filename (sc_model_get_dir (model), NULL);
  g_autofree char *source = g_path_get_basename (canon);
  ScModelCard card = {
    .source = source,
    .keep = keep,
    .uniform = plan.uniform_experts,
    .dtype = sc_dtype_name (dtype),
    .bytes = opts->convert ? sc_export_plan_bytes_as (&plan, dtype) : plan.bytes,
    .dropped_bytes = plan.dropped_bytes,
    .selection = sel,
  };
  about->card = sc_model_card_text (c, &card);
  about->selection = sel;
  return TRUE;
}

static gboolean layout_build (const Source *src, const guint8 *keep, JsonObject *record,
                              const Described *about, const ScExportOptions *opts, gboolean measure,
                              Layout *l, GError **error);
static gboolean export_dir (const Source *src, const guint8 *keep, JsonObject *record,
                            const Described *about, const char *out_dir,
                            const ScExportOptions *opts, GCancellable *cancellable, GError **error);

gboolean
sc_export_pruned (ScModel *model, const guint8 *keep, const char *out_dir,
                  const ScExportOptions *opts, GCancellable *cancellable, GError **error)
{
  /* The model's own tensors, or those of the overlay when asked. */
  Source src = { sc_model_get_checkpoint (model), sc_model_get_config (model),
                 opts->overlay ? view_replaced : NULL, opts->overlay };
  Described about = { 0 };
  gboolean ok = describe_pruned (model, keep, opts, &about, error) &&
                export_dir (&src, keep, NULL, &about, out_dir, opts, cancellable, error);
  described_clear (&about);
  return ok;
}

void
sc_export_file_free (ScExportFile *f)
{
  if (f == NULL)
    return;
  g_free (f->name);
  g_free (f);
}

static void
add_file (GPtrArray *files, char *name, guint64 bytes)
{
  ScExportFile *f = g_new0 (ScExportFile, 1);
  f->name = name;
  f->bytes = bytes;
  g_ptr_array_add (files, f);
}

static gboolean
add_json (GPtrArray *files, const char *name, JsonNode *root, GError **error)
{
  gsize len = 0;
  g_autofree char *text = sc_json_to_data (root, TRUE, &len, error);
  if (text == NULL)
    return FALSE;
  add_file (files, g_strdup (name), len);
  return TRUE;
}

GPtrArray *
sc_export_pruned_files (ScModel *model, const guint8 *keep, const ScExportOptions *opts,
                        GError **error)
{
  if (!check_keep (model, keep, error))
    return NULL;
  Source src = { sc_model_get_checkpoint (model), sc_model_get_config (model), NULL, NULL };
  const char *model_dir = sc_checkpoint_dir (src.ckpt);
  Described about = { 0 };
  Layout l = { 0 };
  g_autoptr (GPtrArray) files =
      g_ptr_array_new_with_free_func ((GDestroyNotify) sc_export_file_free);
  gboolean ok = describe_pruned (model, keep, opts, &about, error) &&
                layout_build (&src, keep, NULL, &about, opts, TRUE, &l, error);
  for (guint s = 0; ok && s < l.shards->len; s++)
    {
      GPtrArray *shard = l.shards->pdata[s];
      g_autofree ScDType *as = shard_dtypes (shard, opts);
      guint64 bytes = 0;
      ok = sc_safetensors_file_size ((ScTensor *const *) shard->pdata, shard->len, as, &bytes,
                                     error);
      if (ok)
        add_file (files, shard_name (s, l.shards->len), bytes);
    }
  if (ok && l.index != NULL)
    ok = add_json (files, "model.safetensors.index.json", l.index, error);
  ok = ok && add_json (files, "config.json", l.config, error);
  for (guint i = 0; ok && l.remote_code && sc_remote_code_file_name (i) != NULL; i++)
    add_file (files, g_strdup (sc_remote_code_file_name (i)), sc_remote_code_file_bytes (i));
  if (ok && l.card != NULL)
    add_file (files, g_strdup ("README.md"), strlen (l.card));
  for (guint i = 0; ok && i < l.copies->len; i++)
    {
      g_autofree char *from = g_build_filename (model_dir, l.copies->pdata[i], NULL);
      GStatBuf st;
      add_file (files, g_strdup (l.copies->pdata[i]),
                g_stat (from, &st) == 0 ? (guint64) st.st_size : 0);
    }
  layout_clear (&l);
  described_clear (&about);
  return ok ? g_steal_pointer (&files) : NULL;
}

gboolean
sc_export_model (ScView *view, JsonObject *record, const char *out_dir, const ScExportOptions *opts,
                 GCancellable *cancellable, GError **error)
{
  ScModel *model = sc_view_get_model (view);
  Source src = { sc_model_get_checkpoint (model), sc_model_get_config (model), view_replaced,
                 view };
  return export_dir (&src, NULL, record, NULL, out_dir, opts, cancellable, error);
}

gboolean
sc_export_checkpoint (ScCheckpoint *ckpt, ScReplacedFunc replaced, gpointer replaced_data,
                      JsonObject *record, const char *out_dir, const ScExportOptions *opts,
                      GCancellable *cancellable, GError **error)
{
  Source src = { ckpt, NULL, replaced, replaced_data };
  return export_dir (&src, NULL, record, NULL, out_dir, opts, cancellable, error);
}

/* Everything that export_dir writes (see Layout). */
static gboolean
layout_build (const Source *src, const guint8 *keep, JsonObject *record, const Described *about,
              const ScExportOptions *opts, gboolean measure, Layout *l, GError **error)
{
  const ScConfig *c = src->config;
  /* the checkpoint's folder: the other files come from there */
  const char *model_dir = sc_checkpoint_dir (src->ckpt);
  if (!layout_tensors (src, keep, measure, l, error))
    return FALSE;
  layout_shards (opts, l);
  l->config =
      config_node (c, model_dir, keep, record, about ? about->selection : NULL, opts, error);
  if (l->config == NULL)
    return FALSE;
  l->remote_code = keep != NULL && uniform_count (c, keep) == 0;
  l->card = about ? about->card : NULL;

  l->copies = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GDir) dir = g_dir_open (model_dir, 0, error);
  if (dir == NULL)
    return FALSE;
  const char *name;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *from = g_build_filename (model_dir, name, NULL);
      if (g_str_equal (name, "config.json") || is_weight_file (name) ||
          !g_file_test (from, G_FILE_TEST_IS_REGULAR))
        continue;
      /* the full model's card and scores are not the pruned model's */
      if (about != NULL && (g_str_equal (name, "README.md") || g_str_equal (name, "eval.json")))
        continue;
      /* an earlier export's; written above when this one needs them */
      if (keep != NULL && sc_remote_code_is_file (name))
        continue;
      g_ptr_array_add (l->copies, g_strdup (name));
    }
  return TRUE;
}

static gboolean
export_dir (const Source *src, const guint8 *keep, JsonObject *record, const Described *about,
            const char *out_dir, const ScExportOptions *opts, GCancellable *cancellable,
            GError **error)
{
  const char *model_dir = sc_checkpoint_dir (src->ckpt);
  const char *sources[] = { model_dir, NULL };
  if (opts->convert && opts->dtype != SC_DTYPE_F32 && opts->dtype != SC_DTYPE_F16 &&
      opts->dtype != SC_DTYPE_BF16)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_UNSUPPORTED, "cannot export weights as %s",
                   sc_dtype_name (opts->dtype));
      return FALSE;
    }
  g_autoptr (ScDestination) dest =
      sc_destination_begin (out_dir, sources, opts->force, opts->note, opts->note_data, error);
  if (dest == NULL)
    return FALSE;

  /* Build everything in the staging folder; the destination commits it. */
  const char *tmp = sc_destination_get_staging (dest);
  Layout l = { 0 };
  gboolean ok = layout_build (src, keep, record, about, opts, FALSE, &l, error) &&
                write_weights (&l, tmp, opts, cancellable, error);
  if (ok)
    {
      g_autofree char *path = g_build_filename (tmp, "config.json", NULL);
      ok = sc_json_save (l.config, TRUE, path, error);
    }
  if (ok && l.remote_code)
    ok = sc_remote_code_write (tmp, error);
  if (ok && l.card != NULL)
    {
      g_autofree char *card = g_build_filename (tmp, "README.md", NULL);
      ok = g_file_set_contents (card, l.card, -1, error);
    }
  for (guint i = 0; ok && i < l.copies->len; i++)
    {
      g_autofree char *from = g_build_filename (model_dir, l.copies->pdata[i], NULL);
      g_autofree char *to = g_build_filename (tmp, l.copies->pdata[i], NULL);
      ok = copy_file (from, to, error);
    }
  layout_clear (&l);
  return ok && !g_cancellable_set_error_if_cancelled (cancellable, error) &&
         sc_destination_commit (dest, error);
}
