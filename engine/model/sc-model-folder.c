/* sc-model-folder.c: a model's shares, held-out set and tokenizer files. */
#include "sc-model-folder.h"

const char *
sc_model_get_name (ScModel *model)
{
  return sc_model_get_moe_shape (model)->name;
}

ScShareTable *
sc_model_load_share_table (ScModel *model, GError **error)
{
  return sc_share_table_load_for_model (sc_model_get_dir (model), error);
}

GPtrArray *
sc_model_held_out_pairs (ScModel *model, const char *src, const char *tgt, GError **error)
{
  return sc_corpus_held_out_pairs (sc_model_get_dir (model), src, tgt, error);
}

GPtrArray *
sc_model_corpus_pairs (ScModel *model, const ScCorpusSpec *spec, ScCorpusSplit split,
                       const char *src, const char *tgt, GError **error)
{
  return sc_corpus_spec_pairs (spec, split, sc_model_get_dir (model), src, tgt, error);
}

char *
sc_model_get_spm_path (ScModel *model)
{
  return g_build_filename (sc_model_get_dir (model), "sentencepiece.bpe.model", NULL);
}
