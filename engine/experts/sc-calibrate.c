/* sc-calibrate.c: router statistics from forward passes. */
#include "sc-calibrate.h"
#include "sc-reconstruct.h"

#include <string.h>

void
sc_calibrate_options_init (ScCalibrateOptions *opts, ScModel *model)
{
  opts->mode = SC_CALIBRATE_TEACHER_FORCED;
  opts->batch_size = 16;
  sc_generate_options_init (&opts->generate, model);
  opts->capture = NULL;
}

typedef struct
{
  ScStats *stats;
  const char *direction;
  const guint8 *dec_valid; /* [rows * T] for the decoder pass */
  ScCapture *capture;
  GError *error;
} Collector;

static void
collect (const ScRouterEvent *ev, gpointer user_data)
{
  Collector *col = user_data;
  if (col->error != NULL)
    return;
  sc_stats_add_tokens (col->stats, col->direction, ev->moe_index, ev->decoder, ev->n_tokens,
                       ev->probs, ev->top1, ev->top2, ev->w1, ev->w2, ev->norm1, ev->norm2,
                       ev->decoder ? col->dec_valid : NULL, &col->error);
  if (col->capture != NULL && col->error == NULL)
    sc_capture_add (col->capture, col->direction, ev->moe_index, ev->n_tokens, ev->hidden, ev->top1,
                    ev->decoder ? col->dec_valid : NULL, &col->error);
}

/* Right-pads rows of ids into one [B, S] array. */
static int *
pad_rows (GPtrArray *rows, int pad, int *S, int **lengths)
{
  int B = rows->len;
  *S = 1;
  for (int b = 0; b < B; b++)
    *S = MAX (*S, (int) ((GArray *) rows->pdata[b])->len);
  int *ids = g_malloc_n ((gsize) MAX (B, 1) * *S, sizeof (int));
  *lengths = g_malloc_n (MAX (B, 1), sizeof (int));
  for (int b = 0; b < B; b++)
    {
      GArray *r = rows->pdata[b];
      (*lengths)[b] = r->len;
      for (int s = 0; s < *S; s++)
        ids[b * *S + s] = s < (int) r->len ? g_array_index (r, int, s) : pad;
    }
  return ids;
}

/* Teacher-forced decoder pass over `targets` (each starting with the
 * decoder start token), statistics collected into `col`. */
static gboolean
replay_decoder (ScView *view, const ScEncoding *enc, GPtrArray *targets, Collector *col,
                GError **error)
{
  const ScConfig *c = sc_model_get_config (sc_view_get_model (view));
  int B = targets->len, T;
  g_autofree int *lengths = NULL;
  g_autofree int *ids = pad_rows (targets, c->pad_token_id, &T, &lengths);
  g_autofree guint8 *valid = g_new0 (guint8, (gsize) B * T);
  g_autofree int *src = g_new (int, B);
  for (int b = 0; b < B; b++)
    {
      src[b] = b;
      for (int t = 0; t < lengths[b]; t++)
        valid[b * T + t] = 1;
    }
  g_autoptr (ScDecoder) dec = sc_decoder_new (view, enc, B, src, T, error);
  if (dec == NULL)
    return FALSE;
  g_autofree float *logits = g_new (float, (gsize) B * c->vocab_size);
  col->dec_valid = valid;
  gboolean ok = sc_decoder_forward (dec, ids, T, logits, TRUE, error);
  col->dec_valid = NULL;
  return ok;
}

static GArray *
truncate_ids (GArray *ids, int max, const char *what, int index)
{
  if ((int) ids->len > max)
    {
      g_message ("warning: calibration item %d: %s has %u tokens; truncated to %d", index + 1, what,
                 ids->len, max);
      int last = g_array_index (ids, int, ids->len - 1);
      g_array_set_size (ids, max);
      g_array_index (ids, int, max - 1) = last;
    }
  return ids;
}

static gboolean
run_batch (ScView *view, ScStats *stats, const ScCalibrationItem *items, int n, int first,
           const ScCalibrateOptions *opts, GCancellable *cancellable, GError **error)
{
  ScModel *model = sc_view_get_model (view);
  const ScConfig *c = sc_model_get_config (model);
  ScTokenizer *tok = sc_model_get_tokenizer (model);
  int max_pos = c->max_position_embeddings;
  g_autoptr (GPtrArray) sources = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  g_autoptr (GPtrArray) targets = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  g_autofree char *direction = g_strdup_printf ("%s-%s", items[0].src_lang, items[0].tgt_lang);
  int tgt_id = sc_tokenizer_lang_id (tok, items[0].tgt_lang, error);
  if (tgt_id < 0)
    return FALSE;

  for (int i = 0; i < n; i++)
    {
      GArray *s = sc_tokenizer_encode (tok, items[i].source, items[i].src_lang, error);
      if (s == NULL)
        {
          g_prefix_error (error, "calibration item %d: ", first + i + 1);
          return FALSE;
        }
      g_ptr_array_add (sources, truncate_ids (s, max_pos, "the source", first + i));
      if (opts->mode == SC_CALIBRATE_TEACHER_FORCED)
        {
          if (items[i].target == NULL)
            {
              g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                           "calibration item %d has no reference target for teacher forcing",
                           first + i + 1);
              return FALSE;
            }
          g_autoptr (GArray) pieces = sc_tokenizer_encode_pieces (tok, items[i].target, error);
          if (pieces == NULL)
            return FALSE;
          /* Decoder input: </s> tgt_lang pieces (the reference shifted right). */
          GArray *t = g_array_sized_new (FALSE, FALSE, sizeof (int), pieces->len + 2);
          g_array_append_val (t, c->decoder_start_token_id);
          g_array_append_val (t, tgt_id);
          g_array_append_vals (t, pieces->data, MIN ((int) pieces->len, max_pos - 2));
          g_ptr_array_add (targets, t);
        }
    }

  int B = n, S;
  g_autofree int *lengths = NULL;
  g_autofree int *ids = pad_rows (sources, c->pad_token_id, &S, &lengths);
  Collector col = { stats, direction, NULL, opts->capture, NULL };

  sc_view_set_router_observer (view, collect, &col);
  g_autoptr (ScEncoding) enc = sc_view_encode (view, ids, lengths, B, S, error);
  sc_view_set_router_observer (view, NULL, NULL);
  if (enc == NULL)
    return FALSE;

  if (opts->mode == SC_CALIBRATE_DECODE)
    {
      ScGenerateOptions gen = opts->generate;
      gen.forced_bos_id = tgt_id;
      g_autoptr (GPtrArray) out = sc_generate (view, enc, &gen, cancellable, error);
      if (out == NULL)
        return FALSE;
      /* The decoder fed every generated token but the last one. */
      for (guint b = 0; b < out->len; b++)
        {
          GArray *seq = out->pdata[b];
          GArray *t = g_array_sized_new (FALSE, FALSE, sizeof (int), seq->len);
          g_array_append_vals (t, seq->data, MAX (1, (int) seq->len - 1));
          g_ptr_array_add (targets, t);
        }
    }

  sc_view_set_router_observer (view, collect, &col);
  gboolean ok = replay_decoder (view, enc, targets, &col, error);
  sc_view_set_router_observer (view, NULL, NULL);
  if (ok && col.error != NULL)
    {
      g_propagate_error (error, col.error);
      return FALSE;
    }
  g_clear_error (&col.error);
  return ok;
}

gboolean
sc_calibrate (ScView *view, ScStats *stats, const ScCalibrationItem *items, int n,
              const ScCalibrateOptions *opts, ScCalibrateProgress progress, gpointer progress_data,
              GCancellable *cancellable, GError **error)
{
  ScModel *model = sc_view_get_model (view);
  const ScConfig *c = sc_model_get_config (model);
  if (c->arch != SC_ARCH_NLLB_MOE)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_UNSUPPORTED,
                   "calibration gathers expert statistics; this model has no experts");
      return FALSE;
    }
  if (!sc_stats_check_model (stats, sc_model_get_moe_shape (model), error))
    return FALSE;

  ScTokenizer *tok = sc_model_get_tokenizer (model);
  for (int i = 0; i < n; i++)
    if (sc_tokenizer_lang_id (tok, items[i].src_lang, error) < 0 ||
        sc_tokenizer_lang_id (tok, items[i].tgt_lang, error) < 0)
      {
        g_prefix_error (error, "calibration item %d: ", i + 1);
        return FALSE;
      }

  int batch = MAX (1, opts->batch_size);
  int done = 0;
  while (done < n)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      /* A batch is a run of consecutive items of one direction. */
      int len = 1;
      while (done + len < n && len < batch &&
             g_str_equal (items[done + len].src_lang, items[done].src_lang) &&
             g_str_equal (items[done + len].tgt_lang, items[done].tgt_lang))
        len++;
      if (!run_batch (view, stats, items + done, len, done, opts, cancellable, error))
        return FALSE;
      done += len;
      if (progress != NULL)
        progress (done, n, progress_data);
    }
  return TRUE;
}
