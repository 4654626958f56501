/* sc-corpus-spec.c: corpus specs and splits read once for the CLI and the
 * application (see sc-corpus-spec.h). */
#include "sc-corpus-spec.h"

#include <gio/gio.h>
#include <string.h>

static const struct
{
  const char *prefix; /* with its colon for the kinds that take a path */
  ScCorpusKind kind;
} kinds[] = {
  { "udhr", SC_CORPUS_UDHR },
  { "flores:", SC_CORPUS_FLORES },
  { "tsv:", SC_CORPUS_TSV },
  { "bitext:", SC_CORPUS_BITEXT },
};

gboolean
sc_corpus_spec_parse (const char *text, ScCorpusSpec *spec, GError **error)
{
  *spec = (ScCorpusSpec){ SC_CORPUS_DEFAULT, NULL };
  if (text == NULL || text[0] == '\0')
    return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      gboolean takes_path = g_str_has_suffix (kinds[i].prefix, ":");
      if (takes_path ? !g_str_has_prefix (text, kinds[i].prefix)
                     : !g_str_equal (text, kinds[i].prefix))
        continue;
      const char *path = takes_path ? text + strlen (kinds[i].prefix) : NULL;
      if (takes_path && path[0] == '\0')
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "corpus \"%s\" names no %s",
                       text, kinds[i].kind == SC_CORPUS_FLORES ? "folder" : "file");
          return FALSE;
        }
      *spec = (ScCorpusSpec){ kinds[i].kind, path };
      return TRUE;
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               "unknown corpus \"%s\" (udhr, flores:DIR, tsv:FILE or bitext:FILE)", text);
  return FALSE;
}

gboolean
sc_corpus_split_parse (const char *text, ScCorpusSplit *split, GError **error)
{
  if (text != NULL && (g_str_equal (text, "calibration") || g_str_equal (text, "dev")))
    *split = SC_CORPUS_SPLIT_CALIBRATION;
  else if (text != NULL && (g_str_equal (text, "held-out") || g_str_equal (text, "devtest")))
    *split = SC_CORPUS_SPLIT_HELD_OUT;
  else if (text != NULL && g_str_equal (text, "all"))
    *split = SC_CORPUS_SPLIT_ALL;
  else
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "unknown split \"%s\" (calibration, held-out or all; FLORES: dev or devtest)",
                   text ? text : "");
      return FALSE;
    }
  return TRUE;
}

GPtrArray *
sc_corpus_spec_pairs (const ScCorpusSpec *spec, ScCorpusSplit split, const char *model_dir,
                      const char *src, const char *tgt, GError **error)
{
  switch (spec->kind)
    {
    case SC_CORPUS_DEFAULT:
      if (split == SC_CORPUS_SPLIT_HELD_OUT)
        return sc_corpus_held_out_pairs (model_dir, src, tgt, error);
      G_GNUC_FALLTHROUGH;
    case SC_CORPUS_UDHR:
      {
        g_autofree char *dir = sc_corpus_default_udhr_dir ();
        if (dir == NULL)
          {
            g_set_error (error, SC_CORPUS_ERROR, SC_CORPUS_ERROR_MISSING,
                         "the shipped UDHR corpus is missing");
            return NULL;
          }
        return sc_corpus_udhr_pairs (dir, src, tgt, split, error);
      }
    case SC_CORPUS_FLORES:
      /* dev for calibration (as the paper), devtest for evaluation */
      if (split == SC_CORPUS_SPLIT_ALL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "FLORES-200 has no split \"all\" (dev or devtest)");
          return NULL;
        }
      return sc_corpus_flores_pairs (
          spec->path, split == SC_CORPUS_SPLIT_CALIBRATION ? "dev" : "devtest", src, tgt, error);
    case SC_CORPUS_TSV:
      return sc_corpus_tsv_pairs (spec->path, error);
    case SC_CORPUS_BITEXT:
      return sc_corpus_bitext_pairs (spec->path, src, tgt, error);
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "unknown corpus kind %d",
               (int) spec->kind);
  return NULL;
}
