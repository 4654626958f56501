/* sc-sampler.h: choosing calibration sentences across directions
 * (Multilingual Brain Surgeon, Zeng et al. 2024: sample calibration data
 * from many languages in proportion to the training distribution).
 *
 * Input: directions (src -> tgt, or a single language when tgt is NULL or
 * equal to src), each with the number of items its corpus holds; a total
 * N; a mode:
 *  - PROPORTIONAL: direction weight = min(share(src), share(tgt)) from a
 *    share table (bitext for a pair is bounded by its lower-resource side;
 *    for English-centric directions this is the non-English language's
 *    share); every direction gets at least one sample;
 *  - UNIFORM: equal weights;
 *  - SINGLE: all N from the directions whose source language is `language`
 *    (or, when there is none, whose target is), split uniformly;
 *  - PAIRS: all N from the chosen "src-tgt" pairs, split uniformly.
 * Counts are quotas N·w/W rounded by largest remainder (ties: lower
 * direction index), so they sum to N exactly; in PROPORTIONAL mode
 * directions whose quota is below 1 are fixed at 1 and the rest is
 * re-apportioned among the others. Items within a direction are drawn
 * without replacement from a GRand seeded with `seed` (a direction asked for
 * more items than it has goes through them all, then again in a new order).
 * Same inputs and seed, same picks. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SC_SAMPLER_ERROR (sc_sampler_error_quark ())
typedef enum {
  SC_SAMPLER_ERROR_INVALID,   /* bad arguments (no directions, N too small, ...) */
  SC_SAMPLER_ERROR_LANGUAGE,  /* a language absent from the share table / directions */
  SC_SAMPLER_ERROR_PARSE,     /* malformed share table */
} ScSamplerError;
GQuark sc_sampler_error_quark (void);

/* ---- share table (resources/language-shares/nllb-200.tsv) ---- */

typedef struct _ScShareTable ScShareTable;

/* Lines `code<TAB>share` (share a non-negative number); '#' comments and
 * blank lines are skipped; values are normalised to sum 1. */
ScShareTable *sc_share_table_load      (const char *path, GError **error);
ScShareTable *sc_share_table_parse     (const char *data, gssize len, const char *name,
                                        GError **error);
/* The shipped NLLB-200 table, found with sc_corpus_find_data (). */
ScShareTable *sc_share_table_load_default (GError **error);
/* A shipped table by name: "nllb-200" or "bloom-roots" (BLOOM's ROOTS corpus). */
ScShareTable *sc_share_table_load_named (const char *name, GError **error);
/* The training shares of the model in `model_dir`: its own
 * language-shares.tsv when it ships one (the demo model does), else
 * NLLB-200's. */
ScShareTable *sc_share_table_load_for_model (const char *model_dir, GError **error);
/* Normalised share of `lang`; FALSE when the table does not list it. */
gboolean      sc_share_table_lookup    (const ScShareTable *table, const char *lang,
                                        double *share);
guint         sc_share_table_size      (const ScShareTable *table);
void          sc_share_table_free      (ScShareTable *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScShareTable, sc_share_table_free)

/* ---- sampling ---- */

typedef enum {
  SC_SAMPLE_PROPORTIONAL,
  SC_SAMPLE_UNIFORM,
  SC_SAMPLE_SINGLE,
  SC_SAMPLE_PAIRS,
} ScSampleMode;

typedef struct {
  const char *src;
  const char *tgt;      /* NULL (or == src): a single language */
  guint       n_items;  /* items in this direction's corpus, > 0 */
} ScSampleDirection;

typedef struct {
  ScSampleMode        mode;
  guint               n_samples;  /* N, > 0 */
  guint32             seed;
  const ScShareTable *shares;     /* PROPORTIONAL */
  const char         *language;   /* SINGLE */
  const char *const  *pairs;      /* PAIRS: NULL-terminated "src-tgt" (or "lang") */
} ScSamplerOptions;

typedef struct {
  guint direction;  /* index into the directions given */
  guint item;       /* index into that direction's corpus */
} ScSamplePick;

typedef struct {
  guint      n_directions;
  guint     *counts;          /* [n_directions] picks per direction, sum = N */
  GArray    *picks;           /* ScSamplePick, direction by direction */
  char     **languages;       /* NULL-terminated, distinct, first-seen order */
  guint     *language_counts; /* picks whose direction has the language as source or
                               * target (once per pick), parallel to `languages` */
} ScSample;

ScSample *sc_sample_directions (const ScSampleDirection *dirs,
                                guint                    n_dirs,
                                const ScSamplerOptions  *opts,
                                GError                 **error);
void      sc_sample_free       (ScSample *sample);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScSample, sc_sample_free)

/* Picks of `lang` (0 when absent). */
guint     sc_sample_language_count (const ScSample *sample, const char *lang);

/* A human-readable summary ("N samples over D directions" then one line per
 * language and per direction with its count), to show before running. */
char     *sc_sample_describe   (const ScSample          *sample,
                                const ScSampleDirection *dirs);

G_END_DECLS
