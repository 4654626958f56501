/* sc-metrics.h: translation quality metrics exactly as sacreBLEU 2.x
 * computes them: chrF, chrF++ (CHRF(word_order=2)), BLEU (13a) and spBLEU
 * (BLEU over SentencePiece pieces, sacreBLEU's flores200 tokenizer with a
 * model given by the caller).
 *
 * Hypotheses are a NULL-terminated array of UTF-8 strings; references are a
 * NULL-terminated array of reference streams, each a NULL-terminated array
 * of the same length as the hypotheses (stream r holds reference r of every
 * segment), as in sacrebleu's corpus_score (hyps, [refs1, refs2, ...]).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The sacreBLEU release whose behaviour (and signature) this reproduces. */
#define SC_METRICS_SACREBLEU_VERSION "2.4.3"

#define SC_METRICS_ERROR (sc_metrics_error_quark ())
GQuark sc_metrics_error_quark (void);

typedef enum {
  SC_METRICS_ERROR_MISMATCH,  /* lists of different lengths, no segments */
  SC_METRICS_ERROR_INVALID,   /* bad option or text that is not UTF-8 */
  SC_METRICS_ERROR_SPM,       /* SentencePiece model missing or unusable */
} ScMetricsError;

typedef enum {
  SC_METRIC_CHRF,      /* CHRF()                    */
  SC_METRIC_CHRF_PP,   /* CHRF(word_order=2)        */
  SC_METRIC_BLEU,      /* BLEU() (tokenize 13a)     */
  SC_METRIC_SPBLEU,    /* BLEU(tokenize=flores200)  */
} ScMetricKind;

typedef enum {
  SC_BLEU_SMOOTH_EXP,    /* sacreBLEU default */
  SC_BLEU_SMOOTH_NONE,
  SC_BLEU_SMOOTH_FLOOR,
  SC_BLEU_SMOOTH_ADD_K,
} ScBleuSmooth;

typedef enum {
  SC_BLEU_TOKENIZE_13A,
  SC_BLEU_TOKENIZE_NONE,
  SC_BLEU_TOKENIZE_SPM,  /* ' '.join (spm.encode (line, out_type=str)) */
} ScBleuTokenize;

typedef struct {
  ScMetricKind   kind;
  gboolean       lowercase;
  /* chrF */
  int            char_order;       /* 6 */
  int            word_order;       /* 0 for chrF, 2 for chrF++ */
  int            beta;             /* 2 */
  gboolean       whitespace;       /* keep whitespace in character n-grams */
  gboolean       eps_smoothing;    /* FALSE: sacreBLEU 2.x effective-order average */
  /* BLEU */
  int            max_ngram_order;  /* 4 */
  ScBleuSmooth   smooth_method;    /* exp */
  double         smooth_value;     /* < 0: the method's default (floor 0.1, add-k 1) */
  /* -1: sacreBLEU's defaults, off for corpus_score and on for sentence
   * scores (sacrebleu.sentence_bleu); 0 or 1 force it. */
  int            effective_order;
  ScBleuTokenize tokenize;         /* 13a for BLEU, SPM for spBLEU */
  const char    *spm_model;        /* SentencePiece model path, for SPM */
} ScMetricConfig;

#define SC_METRIC_MAX_ORDER 16
#define SC_METRIC_MAX_STATS (3 * SC_METRIC_MAX_ORDER)

typedef struct {
  double score;                 /* 0..100 */
  /* Sufficient statistics, as sacreBLEU's: chrF [hyp, ref, match] for each
   * character order then each word order; BLEU [sys_len, ref_len,
   * correct 1..N, total 1..N]. Summed over segments for a corpus. */
  int    n_stats;
  gint64 stats[SC_METRIC_MAX_STATS];
  /* BLEU only */
  double bp;
  double precisions[SC_METRIC_MAX_ORDER];
} ScMetricScore;

typedef struct _ScMetric ScMetric;

/* Fills `cfg` with sacreBLEU's defaults for `kind` (spm_model left NULL). */
void        sc_metric_config_init     (ScMetricConfig *cfg, ScMetricKind kind);
/* "chrf", "chrf++" (or "chrfpp"), "bleu", "spbleu"; FALSE if unknown. */
gboolean    sc_metric_kind_from_name  (const char *name, ScMetricKind *kind);

ScMetric   *sc_metric_new             (const ScMetricConfig *cfg, GError **error);
void        sc_metric_free            (ScMetric *metric);

/* Corpus score: statistics summed over segments, then one score. */
gboolean    sc_metric_corpus_score    (ScMetric           *metric,
                                       const char *const  *hyps,
                                       const char *const *const *refs,
                                       ScMetricScore      *out,
                                       GError            **error);
/* One segment against its references (NULL-terminated, at least one). */
gboolean    sc_metric_sentence_score  (ScMetric           *metric,
                                       const char         *hyp,
                                       const char *const  *refs,
                                       ScMetricScore      *out,
                                       GError            **error);

/* "chrF2++", "chrF2", "BLEU". */
const char *sc_metric_name            (ScMetric *metric);
/* sacreBLEU's signature, e.g.
 * "nrefs:1|case:mixed|eff:yes|nc:6|nw:2|space:no|version:2.4.3";
 * `sentence` gives the one of sentence-level scores (BLEU: eff:yes). */
char       *sc_metric_signature       (ScMetric *metric, int nrefs, gboolean sentence);
/* sacreBLEU's text line: "chrF2++|<signature> = 45.67" (BLEU adds its
 * precisions, BP, ratio and lengths). `signature` may be NULL. */
char       *sc_metric_format          (ScMetric            *metric,
                                       const ScMetricScore *score,
                                       const char          *signature);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScMetric, sc_metric_free)

G_END_DECLS
