/* sc-corpus.h: aligned sentence pairs for one translation direction.
 *
 * Five sources:
 *  - the bundled UDHR directory (resources/udhr, made by
 *    tools/corpus/make_udhr.py): `<nllb_code>.tsv` files with lines
 *    `article<TAB>paragraph_index<TAB>text`; two languages pair by the
 *    (article, paragraph_index) keys present in both. `split.json` names the
 *    held-out articles (default 25-30) that calibration never sees;
 *  - a FLORES-200 directory: `DIR/dev/<code>.dev`, `DIR/devtest/<code>.devtest`
 *    (also `DIR/flores200_dataset/dev/...`), one sentence a line, aligned by line;
 *  - two plain-text files, one sentence a line, aligned by line;
 *  - a TSV file of `source<TAB>target` lines;
 *  - an English-centric bitext file of `LANG<TAB>English<TAB>translation`
 *    lines (the demo model's corpus and held-out set).
 *
 * Every text is checked to be UTF-8; a trailing "\r" is dropped from each
 * line and a final newline does not start another line. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SC_CORPUS_ERROR (sc_corpus_error_quark ())
typedef enum {
  SC_CORPUS_ERROR_UNKNOWN_LANGUAGE,  /* not an NLLB-200 code */
  SC_CORPUS_ERROR_MISSING,           /* no file for a language / path absent */
  SC_CORPUS_ERROR_MISMATCH,          /* line counts differ */
  SC_CORPUS_ERROR_UTF8,              /* invalid UTF-8 */
  SC_CORPUS_ERROR_PARSE,             /* malformed line */
  SC_CORPUS_ERROR_EMPTY,             /* no pairs */
} ScCorpusError;
GQuark sc_corpus_error_quark (void);

typedef enum {
  SC_CORPUS_SPLIT_CALIBRATION,  /* everything but the held-out articles */
  SC_CORPUS_SPLIT_HELD_OUT,     /* the held-out articles only */
  SC_CORPUS_SPLIT_ALL,
} ScCorpusSplit;

typedef struct {
  char  *source;
  char  *target;
  guint  article;    /* UDHR: article (0 = preamble); other sources: 0 */
  guint  paragraph;  /* UDHR: paragraph index in the article; others: 0-based line */
} ScCorpusPair;

void sc_corpus_pair_free (ScCorpusPair *pair);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScCorpusPair, sc_corpus_pair_free)

/* All functions below return a GPtrArray of ScCorpusPair* (owning, free
 * with g_ptr_array_unref) or NULL with `error` set. */

/* UDHR pairs for src -> tgt in `split`, ordered by (article, paragraph). */
GPtrArray *sc_corpus_udhr_pairs (const char    *dir,
                                 const char    *src,
                                 const char    *tgt,
                                 ScCorpusSplit  split,
                                 GError       **error);

/* NLLB codes with a `<code>.tsv` in `dir`, sorted; NULL-terminated. */
char **sc_corpus_udhr_languages (const char *dir, GError **error);

/* The held-out articles from `dir/split.json` (25-30 when the file is
 * absent), as a sorted GArray of guint. */
GArray *sc_corpus_udhr_held_out (const char *dir, GError **error);

/* FLORES-200 pairs; `split` is "dev" or "devtest". */
GPtrArray *sc_corpus_flores_pairs (const char *dir,
                                   const char *split,
                                   const char *src,
                                   const char *tgt,
                                   GError    **error);

/* Two files of one sentence a line; equal line counts. */
GPtrArray *sc_corpus_plain_pairs (const char *src_path,
                                  const char *tgt_path,
                                  GError    **error);

/* `source<TAB>target` lines; blank lines are skipped. */
GPtrArray *sc_corpus_tsv_pairs (const char *path, GError **error);

/* English-centric bitext, one pair a line: `LANG<TAB>English<TAB>translation`
 * (more tab-separated fields are ignored), as the demo corpus's test and
 * calibration splits. The pairs of one direction, src or tgt eng_Latn. */
GPtrArray *sc_corpus_bitext_pairs (const char *path,
                                   const char *src,
                                   const char *tgt,
                                   GError    **error);

/* Locate shipped data `relpath` (e.g. "udhr", "language-shares/nllb-200.tsv"):
 * $SECATEUR_DATA_DIR/relpath, then SC_SOURCE_DIR/resources/relpath, then
 * <datadir>/secateur/relpath. Newly allocated path or NULL when none exists. */
char *sc_corpus_find_data (const char *relpath);

/* sc_corpus_find_data ("udhr"). */
char *sc_corpus_default_udhr_dir (void);

/* Held-out test pairs for the model in `model_dir`: its own heldout.tsv
 * (bitext as above; the demo model ships one cut from its test split, in
 * the domain it was trained on) when that has the direction, else the
 * UDHR's held-out articles. */
GPtrArray *sc_corpus_held_out_pairs (const char *model_dir,
                                     const char *src,
                                     const char *tgt,
                                     GError    **error);

G_END_DECLS
