/* sc-corpus-spec.h: which corpus a job reads, named the same way by the
 * command line and the application, and the one rule for a model's
 * held-out set.
 *
 * A spec is written `udhr`, `flores:DIR`, `tsv:FILE` or `bitext:FILE`
 * (sc-corpus.h describes each source). No spec at all is the default: the
 * UDHR's calibration articles for calibration, and for evaluation the
 * model's own held-out set (sc_corpus_held_out_pairs: its heldout.tsv when
 * that has the direction, else the UDHR's held-out articles). A named spec
 * always wins over the default. */
#pragma once

#include "sc-corpus.h"

G_BEGIN_DECLS

/* In the order the application offers them. */
typedef enum {
  SC_CORPUS_UDHR,    /* the shipped UDHR */
  SC_CORPUS_FLORES,  /* a FLORES-200 folder: dev for calibration, devtest held out */
  SC_CORPUS_TSV,     /* source<TAB>target lines, the same for every direction */
  SC_CORPUS_BITEXT,  /* English-centric LANG<TAB>English<TAB>translation lines */
  SC_CORPUS_DEFAULT, /* nothing named (see above) */
} ScCorpusKind;

typedef struct {
  ScCorpusKind kind;
  const char  *path; /* FLORES folder or file; NULL for UDHR and DEFAULT */
} ScCorpusSpec;

/* Reads `text` (NULL or "": the default) into `spec`, whose path points
 * into `text`. An unknown kind or a missing path is
 * G_IO_ERROR_INVALID_ARGUMENT, saying what is allowed. */
gboolean   sc_corpus_spec_parse     (const char *text, ScCorpusSpec *spec, GError **error);

/* Reads a split name: "calibration" (or FLORES's "dev"), "held-out" (or
 * "devtest") or "all"; else G_IO_ERROR_INVALID_ARGUMENT. */
gboolean   sc_corpus_split_parse    (const char *text, ScCorpusSplit *split, GError **error);

/* Pairs src -> tgt of `split` of the corpus `spec` names (TSV and bitext
 * files have no splits: all their lines), for the model in `model_dir`
 * (NULL: none; only the default held-out set looks there). FLORES-200 has
 * no "all". GPtrArray of ScCorpusPair, or NULL with `error` set. */
GPtrArray *sc_corpus_spec_pairs     (const ScCorpusSpec *spec, ScCorpusSplit split,
                                     const char *model_dir, const char *src, const char *tgt,
                                     GError **error);

G_END_DECLS
