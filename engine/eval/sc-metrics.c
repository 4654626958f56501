/* sc-metrics.c: chrF, chrF++, BLEU and spBLEU as sacreBLEU 2.x computes them.
 * Python's string semantics and the 13a tokenizer they rest on are in
 * sc-sacrebleu-text.c.
 *
 * Each step follows sacrebleu/metrics/{chrf,bleu,helpers}.py and
 * sacrebleu/tokenizers/tokenizer_{13a,re,spm}.py: strings are sequences of
 * code points, "whitespace" is Python's str.split() whitespace, and the
 * 13a regular expressions are applied with re.sub's leftmost,
 * non-overlapping semantics.
 */
#include "sc-metrics.h"
#include "sc-metrics-spm.h"
#include "sc-sacrebleu-text.h"

#include <math.h>
#include <string.h>

G_DEFINE_QUARK (sc - metrics - error - quark, sc_metrics_error)

struct _ScMetric
{
  ScMetricConfig cfg;
  char *spm_path;
  ScMetricsSpm *spm;
  char name[48];
};

/* ---- n-gram counters -------------------------------------------------- */

static GHashTable *
counter_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

static void
counter_add (GHashTable *c, const char *key, gsize len)
{
  char *k = g_strndup (key, len);
  gpointer old = NULL;
  if (g_hash_table_lookup_extended (c, k, NULL, &old))
    {
      g_hash_table_insert (c, k, GINT_TO_POINTER (GPOINTER_TO_INT (old) + 1));
    }
  else
    {
      g_hash_table_insert (c, k, GINT_TO_POINTER (1));
    }
}

static gint64
counter_get (GHashTable *c, const char *key)
{
  return GPOINTER_TO_INT (g_hash_table_lookup (c, key));
}

static gint64
counter_total (GHashTable *c)
{
  GHashTableIter it;
  gpointer v;
  gint64 sum = 0;
  g_hash_table_iter_init (&it, c);
  while (g_hash_table_iter_next (&it, NULL, &v))
    sum += GPOINTER_TO_INT (v);
  return sum;
}

/* Counter ([' '.join (words[i:i+n]) for i in range (len (words) - n + 1)]) */
static GHashTable *
word_ngrams (GPtrArray *words, int n)
{
  GHashTable *c = counter_new ();
  for (int i = 0; i + n <= (int) words->len; i++)
    {
      g_autoptr (GString) s = g_string_new (NULL);
      for (int j = 0; j < n; j++)
        {
          if (j > 0)
            g_string_append_c (s, ' ');
          g_string_append (s, g_ptr_array_index (words, i + j));
        }
      counter_add (c, s->str, s->len);
    }
  return c;
}

/* ---- chrF ------------------------------------------------------------- */

static const char chrf_puncts[] = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

static gboolean
is_punct_byte (char b)
{
  return b != '\0' && strchr (chrf_puncts, b) != NULL;
}

/* CHRF._remove_punctuation */
static GPtrArray *
chrf_words (const char *s)
{
  g_autoptr (GPtrArray) raw = sc_py_split (s);
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < raw->len; i++)
    {
      const char *w = g_ptr_array_index (raw, i);
      gsize len = strlen (w);
      if (g_utf8_strlen (w, -1) == 1)
        {
          g_ptr_array_add (out, g_strdup (w));
        }
      else if (is_punct_byte (w[len - 1]))
        {
          /* an ASCII byte is a whole code point in UTF-8 */
          g_ptr_array_add (out, g_strndup (w, len - 1));
          g_ptr_array_add (out, g_strndup (w + len - 1, 1));
        }
      else if (is_punct_byte (w[0]))
        {
          g_ptr_array_add (out, g_strndup (w, 1));
          g_ptr_array_add (out, g_strdup (w + 1));
        }
      else
        {
          g_ptr_array_add (out, g_strdup (w));
        }
    }
  return out;
}

/* extract_all_char_ngrams + word n-grams: one counter per order. */
static GPtrArray *
chrf_extract (const ScMetricConfig *cfg, const char *text)
{
  GPtrArray *orders = g_ptr_array_new_with_free_func ((GDestroyNotify) g_hash_table_unref);
  g_autofree char *lowered = cfg->lowercase ? sc_py_lower (text) : NULL;
  const char *s = lowered ? lowered : text;

  g_autofree char *line = NULL;
  if (cfg->whitespace)
    {
      line = g_strdup (s);
    }
  else
    {
      g_autoptr (GPtrArray) words = sc_py_split (s);
      g_ptr_array_add (words, NULL);
      line = g_strjoinv ("", (char **) words->pdata);
    }
  /* code point boundaries */
  g_autoptr (GArray) offs = g_array_new (FALSE, FALSE, sizeof (gsize));
  for (const char *p = line; *p; p = g_utf8_next_char (p))
    {
      gsize o = p - line;
      g_array_append_val (offs, o);
    }
  gsize end = strlen (line);
  g_array_append_val (offs, end);
  int nchars = (int) offs->len - 1;
  for (int n = 1; n <= cfg->char_order; n++)
    {
      GHashTable *c = counter_new ();
      for (int i = 0; i + n <= nchars; i++)
        {
          gsize a = g_array_index (offs, gsize, i), b = g_array_index (offs, gsize, i + n);
          counter_add (c, line + a, b - a);
        }
      g_ptr_array_add (orders, c);
    }
  if (cfg->word_order > 0)
    {
      g_autoptr (GPtrArray) words = chrf_words (s);
      for (int n = 1; n <= cfg->word_order; n++)
        g_ptr_array_add (orders, word_ngrams (words, n));
    }
  return orders;
}

/* CHRF._compute_f_score */
static double
chrf_f_score (const ScMetricConfig *cfg, const gint64 *stats)
{
  const double eps = 1e-16;
  int order = cfg->char_order + cfg->word_order;
  double score = 0.0, avg_prec = 0.0, avg_rec = 0.0;
  int effective_order = 0;
  double factor = (double) cfg->beta * cfg->beta;

  for (int i = 0; i < order; i++)
    {
      gint64 n_hyp = stats[3 * i], n_ref = stats[3 * i + 1], n_match = stats[3 * i + 2];
      double prec = n_hyp > 0 ? (double) n_match / (double) n_hyp : eps;
      double rec = n_ref > 0 ? (double) n_match / (double) n_ref : eps;
      double denom = factor * prec + rec;
      score += denom > 0 ? ((1 + factor) * prec * rec / denom) : eps;
      if (n_hyp > 0 && n_ref > 0)
        {
          avg_prec += prec;
          avg_rec += rec;
          effective_order++;
        }
    }
  if (cfg->eps_smoothing)
    return 100 * score / order;
  if (effective_order == 0)
    {
      avg_prec = avg_rec = 0.0;
    }
  else
    {
      avg_prec /= effective_order;
      avg_rec /= effective_order;
    }
  if (avg_prec + avg_rec != 0.0)
    {
      score = (1 + factor) * avg_prec * avg_rec;
      score /= (factor * avg_prec) + avg_rec;
      return 100 * score;
    }
  return 0.0;
}

/* CHRF._compute_segment_statistics: the best reference by F-score. */
static void
chrf_segment (const ScMetricConfig *cfg, const char *hyp, GPtrArray *ref_ngrams /* of GPtrArray */,
              gint64 *out)
{
  int order = cfg->char_order + cfg->word_order;
  g_autoptr (GPtrArray) h = chrf_extract (cfg, hyp);
  double best = -1.0;
  gint64 stats[SC_METRIC_MAX_STATS];
  memset (out, 0, sizeof (gint64) * 3 * order);
  for (guint r = 0; r < ref_ngrams->len; r++)
    {
      GPtrArray *ref = g_ptr_array_index (ref_ngrams, r);
      for (int i = 0; i < order; i++)
        {
          GHashTable *hc = g_ptr_array_index (h, i), *rc = g_ptr_array_index (ref, i);
          GHashTableIter it;
          gpointer k, v;
          gint64 match = 0, hyp_count = 0;
          g_hash_table_iter_init (&it, hc);
          while (g_hash_table_iter_next (&it, &k, &v))
            {
              gint64 cnt = GPOINTER_TO_INT (v);
              hyp_count += cnt;
              gint64 rcnt = counter_get (rc, k);
              match += MIN (cnt, rcnt);
            }
          stats[3 * i] = g_hash_table_size (rc) > 0 ? hyp_count : 0;
          stats[3 * i + 1] = counter_total (rc);
          stats[3 * i + 2] = match;
        }
      double f = chrf_f_score (cfg, stats);
      if (f > best)
        {
          best = f;
          memcpy (out, stats, sizeof (gint64) * 3 * order);
        }
    }
}

/* ---- BLEU ------------------------------------------------------------- */

/* BLEU._preprocess_segment */
static char *
bleu_preprocess (ScMetric *m, const char *text, GError **error)
{
  g_autofree char *lowered = m->cfg.lowercase ? sc_py_lower (text) : NULL;
  g_autofree char *s = sc_py_rstrip (lowered ? lowered : text);
  switch (m->cfg.tokenize)
    {
    case SC_BLEU_TOKENIZE_13A:
      return sc_tokenize_13a (s);
    case SC_BLEU_TOKENIZE_SPM:
      return sc_metrics_spm_pieces (m->spm, s, error);
    case SC_BLEU_TOKENIZE_NONE:
    default:
      return g_steal_pointer (&s);
    }
}

/* extract_all_word_ngrams: one counter per order 1..N; returns the length. */
static GPtrArray *
bleu_ngrams (const char *tokenized, int max_order, gint64 *len)
{
  g_autoptr (GPtrArray) tokens = sc_py_split (tokenized);
  GPtrArray *orders = g_ptr_array_new_with_free_func ((GDestroyNotify) g_hash_table_unref);
  for (int n = 1; n <= max_order; n++)
    g_ptr_array_add (orders, word_ngrams (tokens, n));
  *len = tokens->len;
  return orders;
}

/* BLEU._get_closest_ref_len */
static gint64
closest_ref_len (gint64 hyp_len, const gint64 *ref_lens, guint n)
{
  gint64 closest_diff = -1, closest_len = -1;
  for (guint i = 0; i < n; i++)
    {
      gint64 diff = ABS (hyp_len - ref_lens[i]);
      if (closest_diff == -1 || diff < closest_diff)
        {
          closest_diff = diff;
          closest_len = ref_lens[i];
        }
      else if (diff == closest_diff && ref_lens[i] < closest_len)
        {
          closest_len = ref_lens[i];
        }
    }
  return closest_len;
}

/* Preprocessed references -> merged max counts, lengths; then the segment's
 * [hyp_len, ref_len, correct..., total...]. */
static gboolean
bleu_segment (ScMetric *m, const char *hyp, const char *const *refs, guint n_refs, gint64 *out,
              GError **error)
{
  int N = m->cfg.max_ngram_order;
  g_autoptr (GPtrArray) merged = NULL;
  g_autofree gint64 *ref_lens = g_new0 (gint64, MAX (n_refs, 1));
  for (guint r = 0; r < n_refs; r++)
    {
      g_autofree char *tok = bleu_preprocess (m, refs[r], error);
      if (!tok)
        return FALSE;
      g_autoptr (GPtrArray) ng = bleu_ngrams (tok, N, &ref_lens[r]);
      if (!merged)
        {
          merged = g_steal_pointer (&ng);
          continue;
        }
      for (int n = 0; n < N; n++)
        {
          GHashTable *dst = g_ptr_array_index (merged, n), *src = g_ptr_array_index (ng, n);
          GHashTableIter it;
          gpointer k, v;
          g_hash_table_iter_init (&it, src);
          while (g_hash_table_iter_next (&it, &k, &v))
            if (GPOINTER_TO_INT (v) > GPOINTER_TO_INT (g_hash_table_lookup (dst, k)))
              g_hash_table_insert (dst, g_strdup (k), v);
        }
    }
  g_autofree char *htok = bleu_preprocess (m, hyp, error);
  if (!htok)
    return FALSE;
  gint64 hyp_len = 0;
  g_autoptr (GPtrArray) hng = bleu_ngrams (htok, N, &hyp_len);
  out[0] = hyp_len;
  out[1] = closest_ref_len (hyp_len, ref_lens, n_refs);
  for (int n = 0; n < N; n++)
    {
      GHashTable *hc = g_ptr_array_index (hng, n);
      GHashTable *rc = merged ? g_ptr_array_index (merged, n) : NULL;
      GHashTableIter it;
      gpointer k, v;
      gint64 correct = 0, total = 0;
      g_hash_table_iter_init (&it, hc);
      while (g_hash_table_iter_next (&it, &k, &v))
        {
          gint64 cnt = GPOINTER_TO_INT (v);
          total += cnt;
          if (rc)
            correct += MIN (cnt, counter_get (rc, k));
        }
      out[2 + n] = correct;
      out[2 + N + n] = total;
    }
  return TRUE;
}

static double
my_log (double x)
{
  return x == 0.0 ? -9999999999.0 : log (x);
}

/* BLEU.compute_bleu */
static void
bleu_compute (const ScMetricConfig *cfg, gboolean effective_order, ScMetricScore *out)
{
  int N = cfg->max_ngram_order;
  gint64 sys_len = out->stats[0], ref_len = out->stats[1];
  double correct[SC_METRIC_MAX_ORDER], total[SC_METRIC_MAX_ORDER];
  gboolean any = FALSE;
  for (int n = 0; n < N; n++)
    {
      correct[n] = (double) out->stats[2 + n];
      total[n] = (double) out->stats[2 + N + n];
      any = any || out->stats[2 + n] != 0;
      out->precisions[n] = 0.0;
    }
  double smooth_value = cfg->smooth_value;
  if (smooth_value < 0)
    smooth_value = cfg->smooth_method == SC_BLEU_SMOOTH_ADD_K ? 1.0 : 0.1;

  if (sys_len < ref_len)
    out->bp = sys_len > 0 ? exp (1.0 - (double) ref_len / (double) sys_len) : 0.0;
  else
    out->bp = 1.0;

  if (!any)
    {
      out->score = 0.0;
      return;
    }
  double smooth_mteval = 1.0;
  int eff_order = N;
  for (int n = 1; n <= N; n++)
    {
      if (cfg->smooth_method == SC_BLEU_SMOOTH_ADD_K && n > 1)
        {
          correct[n - 1] += smooth_value;
          total[n - 1] += smooth_value;
        }
      if (total[n - 1] == 0)
        break;
      if (effective_order)
        eff_order = n;
      if (correct[n - 1] == 0)
        {
          if (cfg->smooth_method == SC_BLEU_SMOOTH_EXP)
            {
              smooth_mteval *= 2;
              out->precisions[n - 1] = 100. / (smooth_mteval * total[n - 1]);
            }
          else if (cfg->smooth_method == SC_BLEU_SMOOTH_FLOOR)
            {
              out->precisions[n - 1] = 100. * smooth_value / total[n - 1];
            }
        }
      else
        {
          out->precisions[n - 1] = 100. * correct[n - 1] / total[n - 1];
        }
    }
  double sum = 0.0;
  for (int n = 0; n < eff_order; n++)
    sum += my_log (out->precisions[n]);
  out->score = out->bp * exp (sum / eff_order);
}

/* ---- public API ------------------------------------------------------- */

void
sc_metric_config_init (ScMetricConfig *cfg, ScMetricKind kind)
{
  memset (cfg, 0, sizeof *cfg);
  cfg->kind = kind;
  cfg->char_order = 6;
  cfg->word_order = kind == SC_METRIC_CHRF_PP ? 2 : 0;
  cfg->beta = 2;
  cfg->max_ngram_order = 4;
  cfg->smooth_method = SC_BLEU_SMOOTH_EXP;
  cfg->smooth_value = -1.0;
  cfg->effective_order = -1;
  cfg->tokenize = kind == SC_METRIC_SPBLEU ? SC_BLEU_TOKENIZE_SPM : SC_BLEU_TOKENIZE_13A;
}

gboolean
sc_metric_kind_from_name (const char *name, ScMetricKind *kind)
{
  static const struct
  {
    const char *name;
    ScMetricKind kind;
  } names[] = {
    { "chrf", SC_METRIC_CHRF }, { "chrf++", SC_METRIC_CHRF_PP }, { "chrfpp", SC_METRIC_CHRF_PP },
    { "bleu", SC_METRIC_BLEU }, { "spbleu", SC_METRIC_SPBLEU },
  };
  if (name == NULL)
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_ascii_strcasecmp (name, names[i].name) == 0)
      {
        *kind = names[i].kind;
        return TRUE;
      }
  return FALSE;
}

static gboolean
is_chrf (const ScMetric *m)
{
  return m->cfg.kind == SC_METRIC_CHRF || m->cfg.kind == SC_METRIC_CHRF_PP;
}

ScMetric *
sc_metric_new (const ScMetricConfig *cfg, GError **error)
{
  g_return_val_if_fail (cfg != NULL, NULL);
  gboolean chrf = cfg->kind == SC_METRIC_CHRF || cfg->kind == SC_METRIC_CHRF_PP;
  if (chrf)
    {
      if (cfg->char_order < 0 || cfg->word_order < 0 || cfg->char_order + cfg->word_order < 1 ||
          cfg->char_order + cfg->word_order > SC_METRIC_MAX_ORDER || cfg->beta < 0)
        {
          g_set_error (error, SC_METRICS_ERROR, SC_METRICS_ERROR_INVALID,
                       "chrF orders must be 1..%d in all (char %d + word %d), beta >= 0",
                       SC_METRIC_MAX_ORDER, cfg->char_order, cfg->word_order);
          return NULL;
        }
    }
  else if (cfg->kind == SC_METRIC_BLEU || cfg->kind == SC_METRIC_SPBLEU)
    {
      if (cfg->max_ngram_order < 1 || cfg->max_ngram_order > SC_METRIC_MAX_ORDER)
        {
          g_set_error (error, SC_METRICS_ERROR, SC_METRICS_ERROR_INVALID,
                       "BLEU n-gram order must be 1..%d, not %d", SC_METRIC_MAX_ORDER,
                       cfg->max_ngram_order);
          return NULL;
        }
      if (cfg->tokenize == SC_BLEU_TOKENIZE_SPM && cfg->spm_model == NULL)
        {
          g_set_error (error, SC_METRICS_ERROR, SC_METRICS_ERROR_SPM,
                       "spBLEU needs a SentencePiece model");
          return NULL;
        }
    }
  else
    {
      g_set_error (error, SC_METRICS_ERROR, SC_METRICS_ERROR_INVALID, "unknown metric %d",
                   (int) cfg->kind);
      return NULL;
    }
  ScMetric *m = g_new0 (ScMetric, 1);
  m->cfg = *cfg;
  if (!chrf && cfg->tokenize == SC_BLEU_TOKENIZE_SPM)
    {
      m->spm_path = g_strdup (cfg->spm_model);
      m->spm = sc_metrics_spm_load (m->spm_path, error);
      if (!m->spm)
        {
          sc_metric_free (m);
          return NULL;
        }
    }
  m->cfg.spm_model = m->spm_path;
  if (chrf)
    {
      static const char plus[] = "++++++++++++++++";
      g_snprintf (m->name, sizeof m->name, "chrF%d%.*s", cfg->beta,
                  MIN (cfg->word_order, SC_METRIC_MAX_ORDER), plus);
    }
  else
    {
      g_strlcpy (m->name, "BLEU", sizeof m->name);
    }
  return m;
}

void
sc_metric_free (ScMetric *metric)
{
  if (!metric)
    return;
  if (metric->spm)
    sc_metrics_spm_free (metric->spm);
  g_free (metric->spm_path);
  g_free (metric);
}

static gboolean
check_utf8 (const char *s, const char *what, gsize index, GError **error)
{
  if (!g_utf8_validate (s, -1, NULL))
    {
      g_set_error (error, SC_METRICS_ERROR, SC_METRICS_ERROR_INVALID,
                   "%s %" G_GSIZE_FORMAT " is not valid UTF-8", what, index + 1);
      return FALSE;
    }
  return TRUE;
}

static int
n_stats (const ScMetric *m)
{
  return is_chrf (m) ? 3 * (m->cfg.char_order + m->cfg.word_order) : 2 + 2 * m->cfg.max_ngram_order;
}

/* Statistics of one segment (`refs` has n_refs entries), added to `acc`. */
static gboolean
segment_stats (ScMetric *m, const char *hyp, const char *const *refs, guint n_refs, gint64 *acc,
               GError **error)
{
  gint64 stats[SC_METRIC_MAX_STATS] = { 0 };
  int ns = n_stats (m);
  if (is_chrf (m))
    {
      g_autoptr (GPtrArray) ref_ngrams =
          g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
      for (guint r = 0; r < n_refs; r++)
        g_ptr_array_add (ref_ngrams, chrf_extract (&m->cfg, refs[r]));
      chrf_segment (&m->cfg, hyp, ref_ngrams, stats);
    }
  else if (!bleu_segment (m, hyp, refs, n_refs, stats, error))
    {
      return FALSE;
    }
  for (int i = 0; i < ns; i++)
    acc[i] += stats[i];
  return TRUE;
}

static void
finish (ScMetric *m, gboolean sentence, ScMetricScore *out)
{
  out->n_stats = n_stats (m);
  if (is_chrf (m))
    {
      out->score = chrf_f_score (&m->cfg, out->stats);
      out->bp = 0.0;
    }
  else
    {
      gboolean eff = m->cfg.effective_order < 0 ? sentence : m->cfg.effective_order != 0;
      bleu_compute (&m->cfg, eff, out);
    }
}

gboolean
sc_metric_corpus_score (ScMetric *metric, const char *const *hyps, const char *const *const *refs,
                        ScMetricScore *out, GError **error)
{
  g_return_val_if_fail (metric != NULL && out != NULL, FALSE);
  memset (out, 0, sizeof *out);
  guint n = hyps ? g_strv_length ((char **) hyps) : 0;
  guint n_streams = refs ? g_strv_length ((char **) refs) : 0;
  if (n == 0)
    {
      g_set_error (error, SC_METRICS_ERROR, SC_METRICS_ERROR_MISMATCH, "no hypotheses to score");
      return FALSE;
    }
  if (n_streams == 0)
    {
      g_set_error (error, SC_METRICS_ERROR, SC_METRICS_ERROR_MISMATCH, "no references given");
      return FALSE;
    }
  for (guint r = 0; r < n_streams; r++)
    {
      guint len = g_strv_length ((char **) refs[r]);
      if (len != n)
        {
          g_set_error (error, SC_METRICS_ERROR, SC_METRICS_ERROR_MISMATCH,
                       "%u hypotheses but %u references in reference stream %u", n, len, r + 1);
          return FALSE;
        }
    }
  g_autofree const char **seg = g_new0 (const char *, n_streams + 1);
  for (guint i = 0; i < n; i++)
    {
      if (!check_utf8 (hyps[i], "hypothesis", i, error))
        return FALSE;
      for (guint r = 0; r < n_streams; r++)
        {
          seg[r] = refs[r][i];
          if (!check_utf8 (seg[r], "reference", i, error))
            return FALSE;
        }
      if (!segment_stats (metric, hyps[i], seg, n_streams, out->stats, error))
        return FALSE;
    }
  finish (metric, FALSE, out);
  return TRUE;
}

gboolean
sc_metric_sentence_score (ScMetric *metric, const char *hyp, const char *const *refs,
                          ScMetricScore *out, GError **error)
{
  g_return_val_if_fail (metric != NULL && out != NULL, FALSE);
  memset (out, 0, sizeof *out);
  guint n_refs = refs ? g_strv_length ((char **) refs) : 0;
  if (hyp == NULL || n_refs == 0)
    {
      g_set_error (error, SC_METRICS_ERROR, SC_METRICS_ERROR_MISMATCH,
                   "a sentence score needs a hypothesis and at least one reference");
      return FALSE;
    }
  if (!check_utf8 (hyp, "hypothesis", 0, error))
    return FALSE;
  for (guint r = 0; r < n_refs; r++)
    if (!check_utf8 (refs[r], "reference", r, error))
      return FALSE;
  if (!segment_stats (metric, hyp, refs, n_refs, out->stats, error))
    return FALSE;
  finish (metric, TRUE, out);
  return TRUE;
}

const char *
sc_metric_name (ScMetric *metric)
{
  return metric->name;
}

char *
sc_metric_signature (ScMetric *metric, int nrefs, gboolean sentence)
{
  const ScMetricConfig *c = &metric->cfg;
  g_autofree char *refs = nrefs < 0 ? g_strdup ("var") : g_strdup_printf ("%d", nrefs);
  if (is_chrf (metric))
    return g_strdup_printf ("nrefs:%s|case:%s|eff:%s|nc:%d|nw:%d|space:%s|version:%s", refs,
                            c->lowercase ? "lc" : "mixed", c->eps_smoothing ? "no" : "yes",
                            c->char_order, c->word_order, c->whitespace ? "yes" : "no",
                            SC_METRICS_SACREBLEU_VERSION);
  gboolean eff = c->effective_order < 0 ? sentence : c->effective_order != 0;
  const char *tok = c->tokenize == SC_BLEU_TOKENIZE_13A   ? "13a"
                    : c->tokenize == SC_BLEU_TOKENIZE_SPM ? "flores200"
                                                          : "none";
  g_autofree char *smooth = NULL;
  switch (c->smooth_method)
    {
    case SC_BLEU_SMOOTH_NONE:
      smooth = g_strdup ("none");
      break;
    case SC_BLEU_SMOOTH_FLOOR:
    case SC_BLEU_SMOOTH_ADD_K:
      {
        double v = c->smooth_value >= 0                       ? c->smooth_value
                   : c->smooth_method == SC_BLEU_SMOOTH_FLOOR ? 0.1
                                                              : 1.0;
        char buf[G_ASCII_DTOSTR_BUF_SIZE];
        g_ascii_formatd (buf, sizeof buf, "%.2f", v);
        smooth = g_strdup_printf (
            "%s[%s]", c->smooth_method == SC_BLEU_SMOOTH_FLOOR ? "floor" : "add-k", buf);
        break;
      }
    case SC_BLEU_SMOOTH_EXP:
    default:
      smooth = g_strdup ("exp");
      break;
    }
  return g_strdup_printf ("nrefs:%s|case:%s|eff:%s|tok:%s|smooth:%s|version:%s", refs,
                          c->lowercase ? "lc" : "mixed", eff ? "yes" : "no", tok, smooth,
                          SC_METRICS_SACREBLEU_VERSION);
}

static void
append_fixed (GString *s, const char *fmt, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_string_append (s, g_ascii_formatd (buf, sizeof buf, fmt, v));
}

char *
sc_metric_format (ScMetric *metric, const ScMetricScore *score, const char *signature)
{
  GString *s = g_string_new (sc_metric_name (metric));
  if (signature && *signature)
    g_string_append_printf (s, "|%s", signature);
  g_string_append (s, " = ");
  append_fixed (s, "%.2f", score->score);
  if (!is_chrf (metric))
    {
      int N = metric->cfg.max_ngram_order;
      gint64 sys_len = score->stats[0], ref_len = score->stats[1];
      g_string_append_c (s, ' ');
      for (int n = 0; n < N; n++)
        {
          if (n > 0)
            g_string_append_c (s, '/');
          append_fixed (s, "%.1f", score->precisions[n]);
        }
      g_string_append (s, " (BP = ");
      append_fixed (s, "%.3f", score->bp);
      g_string_append (s, " ratio = ");
      append_fixed (s, "%.3f", ref_len ? (double) sys_len / (double) ref_len : 0.0);
      g_string_append_printf (s, " hyp_len = %" G_GINT64_FORMAT " ref_len = %" G_GINT64_FORMAT ")",
                              sys_len, ref_len);
    }
  return g_string_free (s, FALSE);
}
