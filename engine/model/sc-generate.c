/* sc-generate.c: greedy and beam search over the incremental decoder. */
#include "sc-generate.h"

#include "sc-beam-scores.h"

#include <float.h>
#include <math.h>
#include <string.h>

void
sc_generate_options_init_hf (ScGenerateOptions *opts, ScModel *model)
{
  const ScConfig *c = sc_model_get_config (model);
  opts->num_beams = c->num_beams;
  opts->num_return_sequences = 1;
  opts->num_beam_groups = c->num_beam_groups;
  opts->diversity_penalty = c->diversity_penalty;
  opts->max_length = c->max_length;
  opts->length_penalty = c->length_penalty;
  opts->early_stopping = c->early_stopping;
  opts->forced_bos_id = -1;
  opts->forced_eos_id = c->forced_eos_token_id;
  opts->min_length = c->min_length;
  opts->no_repeat_ngram_size = c->no_repeat_ngram_size;
  opts->repetition_penalty = c->repetition_penalty;
  opts->encoder_no_repeat_ngram_size = c->encoder_no_repeat_ngram_size;
  opts->encoder_repetition_penalty = c->encoder_repetition_penalty;
  opts->suppress_tokens = c->suppress_tokens;
  opts->begin_suppress_tokens = c->begin_suppress_tokens;
  opts->forced_decoder_ids = c->forced_decoder_ids;
  opts->bad_words_ids = c->bad_words_ids;
  opts->remove_invalid_values = c->remove_invalid_values;
  opts->renormalize_logits = c->renormalize_logits;
  opts->decay_start = c->decay_start;
  opts->decay_factor = c->decay_factor;
}

void
sc_generate_options_init (ScGenerateOptions *opts, ScModel *model)
{
  sc_generate_options_init_hf (opts, model);
  if (sc_model_get_config (model)->max_length_is_default)
    opts->max_length = SC_GENERATE_DEFAULT_MAX_LENGTH;
}

/* Every score but `token`'s becomes -inf, `token`'s 0 (the forcing
 * processors). */
static void
force (float *s, int V, int token)
{
  for (int v = 0; v < V; v++)
    s[v] = v == token ? 0.0f : -INFINITY;
}

/* The source ids a row of scores sees: `ngram` (for the encoder n-gram
 * ban) is its own sentence's; `penalty` (for the encoder repetition
 * penalty) is that of encoder row r for score row r < B, else NULL:
 * transformers gathers the scores with the unexpanded [B, S] source ids, so
 * under beam search only the first B hypothesis rows of the batch are
 * penalised, each with the source of the row of that number. Both count
 * the pads of a padded batch. */
typedef struct
{
  const int *ngram, *penalty;
  int S;
} SourceIds;

/* `row`: the row's index in the scores the processors are handed (one beam
 * group's rows under group beam search), `per` rows a sentence there. */
static SourceIds
source_ids (const ScEncoding *enc, int row, int per)
{
  SourceIds s = { enc->ids + (gsize) (row / per) * enc->S,
                  row < enc->B ? enc->ids + (gsize) row * enc->S : NULL, enc->S };
  return s;
}

/* Each distinct token of ids[0..n) once: a negative score times p, another
 * divided by p (torch.gather, where, scatter: the original score of a
 * token listed twice is scaled once). */
static void
penalise (const int *ids, int n, float p, float *s, int V, guint8 *mark)
{
  for (int t = 0; t < n; t++)
    if (ids[t] >= 0 && ids[t] < V && !mark[ids[t]])
      {
        mark[ids[t]] = 1;
        float x = s[ids[t]];
        s[ids[t]] = x < 0 ? x * p : x / p;
      }
  for (int t = 0; t < n; t++)
    if (ids[t] >= 0 && ids[t] < V)
      mark[ids[t]] = 0;
}

/* Bans the tokens that followed an earlier occurrence in ids[0..n) of the
 * last size-1 tokens of seq[0..cur_len) (an empty tail for size 1: every
 * token of ids). */
static void
ban_ngrams (const int *ids, int n, const int *seq, int cur_len, int size, float *s, int V)
{
  if (cur_len < size - 1)
    return;
  const int *tail = seq + cur_len - (size - 1);
  for (int i = 0; i + size <= n; i++)
    if (memcmp (ids + i, tail, sizeof (int) * (size - 1)) == 0 && ids[i + size - 1] >= 0 &&
        ids[i + size - 1] < V)
      s[ids[i + size - 1]] = -INFINITY;
}

/* HammingDiversityLogitsProcessor: each token chosen at this step by the
 * earlier groups' beams of the sentence (prev[0..n)) lowers the score by
 * penalty times the number of those beams that chose it. */
static void
diversity (const int *prev, int n, float penalty, float *s)
{
  for (int i = 0; i < n; i++)
    {
      gboolean seen = FALSE;
      int count = 0;
      for (int k = 0; k < n; k++)
        {
          seen = seen || (k < i && prev[k] == prev[i]);
          count += prev[k] == prev[i];
        }
      if (!seen)
        s[prev[i]] -= penalty * (float) count;
    }
}

/* transformers' logits processors, in the order generate() builds them, on
 * the scores of one row whose tokens so far are seq[0..cur_len) (the
 * decoder start token first): raw logits for greedy search, log-softmax
 * for beam search. `mark` is V bytes of scratch, all zero. */
static void
process_scores (const ScGenerateOptions *o, int eos, const SourceIds *src, const int *seq,
                int cur_len, float *s, int V, guint8 *mark)
{
  /* 1/penalty as a float, then x * that or x / that, as torch does */
  if (o->encoder_repetition_penalty != 1.0 && src->penalty != NULL)
    penalise (src->penalty, src->S, (float) (1.0 / o->encoder_repetition_penalty), s, V, mark);
  if (o->repetition_penalty != 1.0)
    penalise (seq, cur_len, (float) o->repetition_penalty, s, V, mark);
  if (o->no_repeat_ngram_size > 0)
    ban_ngrams (seq, cur_len, seq, cur_len, o->no_repeat_ngram_size, s, V);
  if (o->encoder_no_repeat_ngram_size > 0)
    ban_ngrams (src->ngram, src->S, seq, cur_len, o->encoder_no_repeat_ngram_size, s, V);
  if (o->bad_words_ids != NULL)
    for (guint i = 0; i < o->bad_words_ids->len; i++)
      {
        const GArray *w = g_ptr_array_index (o->bad_words_ids, i);
        int len = (int) w->len, last = g_array_index (w, int, len - 1);
        if (len == 1 && last == eos)
          continue; /* transformers drops [eos] from the list */
        if (len > cur_len)
          continue;
        if (len == 1 || memcmp (seq + cur_len - (len - 1), w->data, sizeof (int) * (len - 1)) == 0)
          s[last] = -INFINITY;
      }
  if (cur_len < o->min_length)
    s[eos] = -INFINITY;
  if (cur_len == 1 && o->forced_bos_id >= 0)
    force (s, V, o->forced_bos_id);
  if (cur_len == o->max_length - 1 && o->forced_eos_id >= 0)
    force (s, V, o->forced_eos_id);
  if (o->remove_invalid_values)
    for (int v = 0; v < V; v++)
      s[v] = isnan (s[v]) ? 0.0f : isinf (s[v]) ? (s[v] > 0 ? FLT_MAX : -FLT_MAX) : s[v];
  if (o->decay_start >= 0 && cur_len > o->decay_start + 1)
    {
      /* the start index counts from the prompt (the decoder start token) */
      int idx = cur_len - (o->decay_start + 1);
      s[eos] = s[eos] + fabsf (s[eos]) * (float) (pow (o->decay_factor, idx) - 1.0);
    }
  if (o->suppress_tokens != NULL)
    for (guint i = 0; i < o->suppress_tokens->len; i++)
      s[g_array_index (o->suppress_tokens, int, i)] = -INFINITY;
  if (o->begin_suppress_tokens != NULL)
    {
      /* the first free step: after the forced language code and after the
       * last forced_decoder_ids step */
      int begin = o->forced_bos_id >= 0 ? 2 : 1;
      if (o->forced_decoder_ids != NULL)
        begin += g_array_index (o->forced_decoder_ids, int, o->forced_decoder_ids->len - 2);
      if (cur_len == begin)
        for (guint i = 0; i < o->begin_suppress_tokens->len; i++)
          s[g_array_index (o->begin_suppress_tokens, int, i)] = -INFINITY;
    }
  if (o->forced_decoder_ids != NULL)
    {
      /* dict(pairs): the last pair of a step wins */
      int token = -1;
      for (guint i = 0; i < o->forced_decoder_ids->len; i += 2)
        if (g_array_index (o->forced_decoder_ids, int, i) == cur_len)
          token = g_array_index (o->forced_decoder_ids, int, i + 1);
      if (token >= 0)
        force (s, V, token);
    }
  if (o->renormalize_logits)
    sc_log_softmax (s, V);
}

/* G_IO_ERROR_CANCELLED, as every other job reports it. */
static gboolean
check_cancel (GCancellable *cancellable, GError **error)
{
  return !g_cancellable_set_error_if_cancelled (cancellable, error);
}

static GPtrArray *
greedy (ScView *view, const ScEncoding *enc, const ScGenerateOptions *opts,
        GCancellable *cancellable, GError **error)
{
  ScModel *model = sc_view_get_model (view);
  const ScConfig *c = sc_model_get_config (model);
  int B = enc->B, V = c->vocab_size;
  g_autofree int *src = g_new (int, B);
  for (int b = 0; b < B; b++)
    src[b] = b;
  g_autoptr (ScDecoder) dec = sc_decoder_new (view, enc, B, src, opts->max_length, error);
  if (dec == NULL)
    return NULL;

  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  g_autofree int *tokens = g_new (int, B);
  /* decoder row i decodes sentence alive[i]: a finished sentence leaves the
   * decoder (sc_decoder_keep_rows) rather than decoding the pad token to the
   * end of the batch as Hugging Face does. A row's numbers do not depend on
   * the other rows, so its tokens are the same; a batch then costs the sum
   * of its lengths instead of B times the longest (issue 15's sweep). */
  g_autofree int *alive = g_new (int, B);
  g_autofree int *keep = g_new (int, B);
  g_autofree float *logits = g_new (float, (gsize) B *V);
  g_autofree guint8 *mark = g_new0 (guint8, V);
  for (int b = 0; b < B; b++)
    {
      GArray *seq = g_array_new (FALSE, FALSE, sizeof (int));
      g_array_append_val (seq, c->decoder_start_token_id);
      g_ptr_array_add (out, seq);
      tokens[b] = c->decoder_start_token_id;
      alive[b] = b;
    }

  int n_alive = B;
  for (int cur_len = 1; cur_len < opts->max_length && n_alive > 0; cur_len++)
    {
      if (!check_cancel (cancellable, error) ||
          !sc_decoder_forward (dec, tokens, 1, logits, TRUE, error))
        return NULL;
      int kept = 0;
      for (int i = 0; i < n_alive; i++)
        {
          int b = alive[i];
          float *l = logits + (gsize) i * V;
          GArray *seq = g_ptr_array_index (out, b);
          SourceIds si = source_ids (enc, b, 1);
          process_scores (opts, c->eos_token_id, &si, (const int *) seq->data, cur_len, l, V, mark);
          int best = 0;
          for (int v = 1; v < V; v++)
            if (l[v] > l[best])
              best = v;
          g_array_append_val (seq, best);
          if (best == c->eos_token_id)
            continue;
          /* kept <= i: the arrays are compacted in place */
          tokens[kept] = best;
          alive[kept] = b;
          keep[kept++] = i;
        }
      if (kept > 0 && kept < n_alive)
        sc_decoder_keep_rows (dec, keep, kept);
      n_alive = kept;
    }
  return g_steal_pointer (&out);
}

/* ---- beam search -------------------------------------------------------- */

typedef struct
{
  double score;
  GArray *tokens;
} Hyp;

typedef struct
{
  GArray *hyps; /* Hyp, at most num_beams */
  double worst;
  gboolean done;
} HypList;

static void
hyp_list_add (HypList *list, int num_beams, double lp, const int *tokens, int len,
              double sum_logprobs, int generated_len)
{
  double score = sum_logprobs / pow ((double) generated_len, lp);
  if ((int) list->hyps->len >= num_beams && !(score > list->worst))
    return;
  Hyp h = { score, g_array_sized_new (FALSE, FALSE, sizeof (int), len) };
  g_array_append_vals (h.tokens, tokens, len);
  g_array_append_val (list->hyps, h);
  if ((int) list->hyps->len > num_beams)
    {
      /* Drop the worst (the first of equal worst ones, as Python's sorted). */
      guint worst = 0;
      for (guint i = 1; i < list->hyps->len; i++)
        if (g_array_index (list->hyps, Hyp, i).score < g_array_index (list->hyps, Hyp, worst).score)
          worst = i;
      g_array_unref (g_array_index (list->hyps, Hyp, worst).tokens);
      g_array_remove_index (list->hyps, worst);
      double w = INFINITY;
      for (guint i = 0; i < list->hyps->len; i++)
        w = MIN (w, g_array_index (list->hyps, Hyp, i).score);
      list->worst = w;
    }
  else
    {
      list->worst = MIN (score, list->worst);
    }
}

static gboolean
hyp_list_is_done (HypList *list, int num_beams, double lp, int early_stopping,
                  double best_sum_logprobs, int cur_len, int max_length)
{
  if ((int) list->hyps->len < num_beams)
    return FALSE;
  if (early_stopping == TRUE)
    return TRUE;
  /* "never" bounds the best reachable score by the longest possible
   * hypothesis when longer ones can score higher */
  int len = early_stopping == SC_EARLY_STOPPING_NEVER && lp > 0.0 ? max_length : cur_len;
  double highest = best_sum_logprobs / pow ((double) (len - 1), lp);
  return list->worst >= highest;
}

/* Whether process_scores may change any score at step cur_len. When none
 * can, beam search picks its candidates straight from the logits (see
 * sc_beam_top_k_plain). Errs towards TRUE: any configured processor that
 * could act counts. */
static gboolean
processors_act (const ScGenerateOptions *o, int cur_len)
{
  return o->encoder_repetition_penalty != 1.0 || o->repetition_penalty != 1.0 ||
         (o->no_repeat_ngram_size > 0 && cur_len + 1 >= o->no_repeat_ngram_size) ||
         o->encoder_no_repeat_ngram_size > 0 || o->bad_words_ids != NULL ||
         cur_len < o->min_length || (cur_len == 1 && o->forced_bos_id >= 0) ||
         (cur_len == o->max_length - 1 && o->forced_eos_id >= 0) || o->remove_invalid_values ||
         (o->decay_start >= 0 && cur_len > o->decay_start + 1) || o->suppress_tokens != NULL ||
         o->begin_suppress_tokens != NULL || o->forced_decoder_ids != NULL || o->renormalize_logits;
}

static GPtrArray *
beam_search (ScView *view, const ScEncoding *enc, const ScGenerateOptions *opts,
             GCancellable *cancellable, GError **error)
{
  ScModel *model = sc_view_get_model (view);
  const ScConfig *c = sc_model_get_config (model);
  int B = enc->B, K = opts->num_beams, V = c->vocab_size, R = B * K;
  int eos = c->eos_token_id, max_len = opts->max_length;
  double lp = opts->length_penalty;
  /* G groups of g beams (diverse beam search; G = 1: plain beam search),
   * each with its own hypotheses, searched one after the other */
  int G = MAX (opts->num_beam_groups, 1), g = K / G;

  g_autofree int *src = g_new (int, R);
  for (int r = 0; r < R; r++)
    src[r] = r / K;
  g_autoptr (ScDecoder) dec = sc_decoder_new (view, enc, R, src, max_len, error);
  if (dec == NULL)
    return NULL;

  /* seqs[r * max_len + t]: the running hypotheses */
  g_autofree int *seqs = g_new (int, (gsize) R *max_len);
  g_autofree int *next_seqs = g_new (int, (gsize) R *max_len);
  g_autofree float *beam_scores = g_new (float, R);
  g_autofree float *next_scores = g_new (float, R);
  g_autofree int *next_tokens = g_new (int, R);
  g_autofree int *next_from = g_new (int, R);
  g_autofree float *logits = g_new (float, (gsize) R *V);
  g_autofree ScBeamCand *cands = g_new (ScBeamCand, 2 * g);
  g_autofree guint8 *mark = g_new0 (guint8, V);
  g_autofree int *current = g_new0 (int, R);           /* this step's tokens, group by group */
  g_autofree HypList *lists = g_new0 (HypList, B * G); /* [b * G + group] */
  int cur_len = 1;

  for (int r = 0; r < R; r++)
    {
      seqs[(gsize) r * max_len] = c->decoder_start_token_id;
      beam_scores[r] = r % g == 0 ? 0.0f : -1e9f; /* only a group's first beam is live at first */
    }
  for (int b = 0; b < B * G; b++)
    {
      lists[b].hyps = g_array_new (FALSE, FALSE, sizeof (Hyp));
      lists[b].worst = 1e9;
    }

  gboolean ok = TRUE;
  while (cur_len < max_len)
    {
      g_autofree int *feed = g_new (int, R);
      for (int r = 0; r < R; r++)
        feed[r] = seqs[(gsize) r * max_len + cur_len - 1];
      if (!check_cancel (cancellable, error) ||
          !sc_decoder_forward (dec, feed, 1, logits, TRUE, error))
        {
          ok = FALSE;
          break;
        }

      gboolean all_done = TRUE;
      for (int grp = 0; grp < G && ok; grp++)
        {
          /* with no processor and no diversity penalty acting, the
           * candidates come straight from the logits */
          gboolean plain =
              !processors_act (opts, cur_len) && (grp == 0 || !(opts->diversity_penalty > 0.0));
          for (int b = 0; b < B && !plain; b++)
            for (int j = 0; j < g; j++)
              {
                int r = b * K + grp * g + j;
                float *l = logits + (gsize) r * V;
                sc_log_softmax (l, V);
                if (grp > 0 && opts->diversity_penalty > 0.0)
                  diversity (current + (gsize) b * K, grp * g, (float) opts->diversity_penalty, l);
                SourceIds si = source_ids (enc, b * g + j, g);
                process_scores (opts, eos, &si, seqs + (gsize) r * max_len, cur_len, l, V, mark);
                for (int v = 0; v < V; v++)
                  l[v] += beam_scores[r];
              }

          for (int b = 0; b < B; b++)
            {
              HypList *list = &lists[b * G + grp];
              int first = b * K + grp * g; /* the group's rows of sentence b */
              if (list->done)
                {
                  for (int k = 0; k < g; k++)
                    {
                      next_scores[first + k] = 0.0f;
                      next_tokens[first + k] = c->pad_token_id;
                      next_from[first + k] = first;
                    }
                  continue;
                }
              if (plain)
                sc_beam_top_k_plain (logits + (gsize) first * V, g, V, beam_scores + first, 2 * g,
                                     cands);
              else
                sc_beam_top_k (logits + (gsize) first * V, g * V, 2 * g, cands);
              int filled = 0;
              for (int rank = 0; rank < 2 * g && filled < g; rank++)
                {
                  int beam = cands[rank].index / V, token = cands[rank].index % V;
                  int row = first + beam;
                  if (token == eos)
                    {
                      if (rank >= g)
                        continue;
                      hyp_list_add (list, g, lp, seqs + (gsize) row * max_len, cur_len,
                                    cands[rank].score, cur_len);
                    }
                  else
                    {
                      next_scores[first + filled] = cands[rank].score;
                      next_tokens[first + filled] = token;
                      next_from[first + filled] = row;
                      filled++;
                    }
                }
              if (filled < g)
                {
                  g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                               "beam search ran out of candidates");
                  ok = FALSE;
                  break;
                }
              list->done = hyp_list_is_done (list, g, lp, opts->early_stopping, cands[0].score,
                                             cur_len + 1, max_len);
              all_done = all_done && list->done;
            }
          /* the later groups see this group's new tokens */
          for (int b = 0; b < B; b++)
            for (int j = 0; j < g; j++)
              current[b * K + grp * g + j] = next_tokens[b * K + grp * g + j];
        }
      if (!ok)
        break;

      for (int r = 0; r < R; r++)
        {
          memcpy (next_seqs + (gsize) r * max_len, seqs + (gsize) next_from[r] * max_len,
                  sizeof (int) * cur_len);
          next_seqs[(gsize) r * max_len + cur_len] = next_tokens[r];
          beam_scores[r] = next_scores[r];
        }
      memcpy (seqs, next_seqs, sizeof (int) * (gsize) R * max_len);
      sc_decoder_reorder (dec, next_from);
      cur_len++;
      if (all_done)
        break;
    }

  GPtrArray *out = NULL;
  if (ok)
    {
      out = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
      for (int b = 0; b < B; b++)
        {
          for (int grp = 0; grp < G; grp++)
            {
              HypList *list = &lists[b * G + grp];
              if (!list->done)
                for (int k = 0; k < g; k++)
                  {
                    int r = b * K + grp * g + k;
                    hyp_list_add (list, g, lp, seqs + (gsize) r * max_len, cur_len, beam_scores[r],
                                  cur_len - 1);
                  }
            }
          /* The n best of the groups' hypotheses taken in group order, best
           * first; among equal scores the one listed last first, as Python's
           * stable sort followed by pop() picks. */
          int n_all = 0;
          for (int grp = 0; grp < G; grp++)
            n_all += lists[b * G + grp].hyps->len;
          g_autofree Hyp **all = g_new (Hyp *, n_all);
          n_all = 0;
          for (int grp = 0; grp < G; grp++)
            for (guint i = 0; i < lists[b * G + grp].hyps->len; i++)
              all[n_all++] = &g_array_index (lists[b * G + grp].hyps, Hyp, i);
          for (int j = 0; j < opts->num_return_sequences; j++)
            {
              int best = -1;
              for (int i = 0; i < n_all; i++)
                if (all[i] != NULL && (best < 0 || all[i]->score >= all[best]->score))
                  best = i;
              GArray *seq = g_array_copy (all[best]->tokens);
              all[best] = NULL;
              if ((int) seq->len < max_len)
                g_array_append_val (seq, eos);
              g_ptr_array_add (out, seq);
            }
        }
    }
  for (int b = 0; b < B * G; b++)
    {
      for (guint i = 0; i < lists[b].hyps->len; i++)
        g_array_unref (g_array_index (lists[b].hyps, Hyp, i).tokens);
      g_array_unref (lists[b].hyps);
    }
  return out;
}

GPtrArray *
sc_generate (ScView *view, const ScEncoding *enc, const ScGenerateOptions *opts,
             GCancellable *cancellable, GError **error)
{
  if (opts->max_length < 2)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "max length must be at least 2");
      return NULL;
    }
  if (opts->num_beams < 1)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "the number of beams must be at least 1");
      return NULL;
    }
  if (opts->num_return_sequences < 1 || opts->num_return_sequences > opts->num_beams ||
      (opts->num_return_sequences > 1 && opts->num_beams == 1))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                   "%d translations per sentence need beam search with at least as many beams "
                   "(%d)",
                   opts->num_return_sequences, opts->num_beams);
      return NULL;
    }
  if (opts->num_beams > 1 && (opts->num_beam_groups < 1 || opts->num_beams % opts->num_beam_groups))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                   "%d beams cannot be split into %d groups of the same size", opts->num_beams,
                   opts->num_beam_groups);
      return NULL;
    }
  if (opts->num_beams == 1)
    return greedy (view, enc, opts, cancellable, error);
  return beam_search (view, enc, opts, cancellable, error);
}

/* ---- text to text ------------------------------------------------------- */

typedef struct
{
  int index;
  GArray *ids;
} Source;

static int
compare_length (gconstpointer a, gconstpointer b)
{
  const Source *sa = a, *sb = b;
  if (sa->ids->len != sb->ids->len)
    return (int) sb->ids->len - (int) sa->ids->len;
  return sa->index - sb->index;
}

static gboolean
is_blank (const char *s)
{
  for (; *s; s++)
    if (!g_ascii_isspace (*s))
      return FALSE;
  return TRUE;
}

/* The batch's encoder output with each sentence encoded alone and placed
 * in a right-padded [B, S] encoding (pads' hidden states zero, masked out
 * of cross-attention as before). Encoding the padded batch at once spent
 * most of a sweep point on padding (8 held-out sentences, one of them 4
 * times the others' length), and a sentence's encoding is then the same
 * bits as when it is translated alone. */
static ScEncoding *
encode_each (ScView *view, const Source *batch, int B, int S, GError **error)
{
  ScModel *model = sc_view_get_model (view);
  const ScConfig *c = sc_model_get_config (model);
  int d = c->d_model;
  g_autoptr (ScEncoding) enc = g_new0 (ScEncoding, 1);
  enc->B = B, enc->S = S, enc->d = d;
  enc->hidden = g_new0 (float, (gsize) B *S *d);
  enc->valid = g_new0 (guint8, (gsize) B * S);
  enc->ids = g_new (int, (gsize) B *S);
  for (int b = 0; b < B; b++)
    {
      int len = batch[b].ids->len;
      const int *ids = (const int *) batch[b].ids->data;
      g_autoptr (ScEncoding) one = sc_view_encode (view, ids, &len, 1, len, error);
      if (one == NULL)
        return NULL;
      memcpy (enc->hidden + (gsize) b * S * d, one->hidden, sizeof (float) * (gsize) len * d);
      for (int s = 0; s < S; s++)
        {
          enc->valid[b * S + s] = s < len;
          enc->ids[b * S + s] = s < len ? ids[s] : c->pad_token_id;
        }
    }
  return g_steal_pointer (&enc);
}

char **
sc_translate_n (ScView *view, const char *const *texts, int n, const char *src_lang,
                const char *tgt_lang, const ScGenerateOptions *opts, int batch_size,
                ScProgressFunc progress, gpointer progress_data, GCancellable *cancellable,
                GError **error)
{
  ScModel *model = sc_view_get_model (view);
  ScTokenizer *tok = sc_model_get_tokenizer (model);
  const ScConfig *c = sc_model_get_config (model);
  int max_src = c->max_position_embeddings;

  if (sc_tokenizer_lang_id (tok, src_lang, error) < 0)
    return NULL;
  int tgt_id = sc_tokenizer_lang_id (tok, tgt_lang, error);
  if (tgt_id < 0)
    return NULL;
  if (batch_size < 1)
    batch_size = 1;

  ScGenerateOptions o = *opts;
  o.forced_bos_id = tgt_id;
  int R = MAX (o.num_return_sequences, 1);

  g_auto (GStrv) result = g_new0 (char *, (gsize) n *R + 1);
  g_autoptr (GArray) sources = g_array_new (FALSE, FALSE, sizeof (Source));
  gboolean ok = TRUE;

  for (int i = 0; i < n && ok; i++)
    {
      if (is_blank (texts[i]))
        {
          for (int j = 0; j < R; j++)
            result[i * R + j] = g_strdup ("");
          continue;
        }
      GArray *ids = sc_tokenizer_encode (tok, texts[i], src_lang, error);
      if (ids == NULL)
        {
          g_prefix_error (error, "line %d: ", i + 1);
          ok = FALSE;
          break;
        }
      if ((int) ids->len > max_src)
        {
          /* Keep the language token and the closing </s>; drop pieces at the end. */
          g_message ("warning: line %d has %u tokens; truncated to the model's %d positions", i + 1,
                     ids->len, max_src);
          int last = g_array_index (ids, int, ids->len - 1);
          g_array_set_size (ids, max_src);
          g_array_index (ids, int, max_src - 1) = last;
        }
      Source s = { i, ids };
      g_array_append_val (sources, s);
    }

  /* Longest first: batches of similar lengths pad little, and the first
   * batch shows the worst-case memory early. */
  if (ok)
    g_array_sort (sources, compare_length);

  /* Translation's products may take the backend's own kernels, encoders
   * included (sc-backend.h). */
  gboolean was_translating = sc_backend_translating_begin ();
  int done = n - (int) sources->len;
  for (guint start = 0; ok && start < sources->len; start += batch_size)
    {
      int B = MIN (batch_size, (int) (sources->len - start));
      Source *batch = &g_array_index (sources, Source, start);
      int S = 0;
      for (int b = 0; b < B; b++)
        S = MAX (S, (int) batch[b].ids->len);
      g_autoptr (ScEncoding) enc = NULL;
      g_autoptr (GPtrArray) outs = NULL;
      if (!check_cancel (cancellable, error) ||
          (enc = encode_each (view, batch, B, S, error)) == NULL ||
          (outs = sc_generate (view, enc, &o, cancellable, error)) == NULL)
        {
          ok = FALSE;
          break;
        }
      for (int b = 0; b < B * R; b++)
        {
          GArray *seq = g_ptr_array_index (outs, b);
          result[batch[b / R].index * R + b % R] =
              sc_tokenizer_decode (tok, (const int *) seq->data, seq->len);
        }
      done += B;
      if (progress != NULL)
        progress (done, n, progress_data);
    }

  sc_backend_translating_end (was_translating);
  for (guint i = 0; i < sources->len; i++)
    g_array_unref (g_array_index (sources, Source, i).ids);
  if (!ok)
    {
      /* batches not run leave holes, where g_strfreev would stop */
      for (int i = 0; i < n * R; i++)
        g_clear_pointer (&result[i], g_free);
      return NULL;
    }
  return g_steal_pointer (&result);
}

char **
sc_translate (ScView *view, const char *const *texts, int n, const char *src_lang,
              const char *tgt_lang, const ScGenerateOptions *opts, int batch_size,
              ScProgressFunc progress, gpointer progress_data, GCancellable *cancellable,
              GError **error)
{
  ScGenerateOptions o = *opts;
  o.num_return_sequences = 1;
  return sc_translate_n (view, texts, n, src_lang, tgt_lang, &o, batch_size, progress,
                         progress_data, cancellable, error);
}
