/* sc-spm.cc: the C shim over sentencepiece::SentencePieceProcessor.
 * No C++ exception or type crosses this file's boundary. */
#include "sc-spm.h"
#include "sc-tensor.h"

#include <sentencepiece_processor.h>

#include <string>
#include <vector>

struct _ScSpm
{
  sentencepiece::SentencePieceProcessor proc;
  std::vector<std::string> pieces; /* cached so id_to_piece can return a stable pointer */
};

ScSpm *
sc_spm_load (const char *path, GError **error)
{
  ScSpm *spm = nullptr;
  try
    {
      spm = new ScSpm ();
      auto status = spm->proc.Load (path);
      if (!status.ok ())
        {
          g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "cannot load SentencePiece model %s: %s",
                       path, status.ToString ().c_str ());
          delete spm;
          return nullptr;
        }
      int n = spm->proc.GetPieceSize ();
      spm->pieces.reserve (n);
      for (int i = 0; i < n; i++)
        spm->pieces.push_back (spm->proc.IdToPiece (i));
    }
  catch (const std::exception &e)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_IO, "cannot load SentencePiece model %s: %s", path,
                   e.what ());
      delete spm;
      return nullptr;
    }
  return spm;
}

void
sc_spm_free (ScSpm *spm)
{
  delete spm;
}

int
sc_spm_size (ScSpm *spm)
{
  return (int) spm->pieces.size ();
}

GArray *
sc_spm_encode (ScSpm *spm, const char *text, GError **error)
{
  std::vector<int> ids;
  try
    {
      auto status = spm->proc.Encode (text, &ids);
      if (!status.ok ())
        {
          g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "SentencePiece cannot encode: %s",
                       status.ToString ().c_str ());
          return nullptr;
        }
    }
  catch (const std::exception &e)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "SentencePiece cannot encode: %s", e.what ());
      return nullptr;
    }
  GArray *out = g_array_sized_new (FALSE, FALSE, sizeof (int), ids.size ());
  if (!ids.empty ())
    g_array_append_vals (out, ids.data (), ids.size ());
  return out;
}

const char *
sc_spm_id_to_piece (ScSpm *spm, int id)
{
  if (id < 0 || (size_t) id >= spm->pieces.size ())
    return nullptr;
  return spm->pieces[id].c_str ();
}

int
sc_spm_piece_to_id (ScSpm *spm, const char *piece)
{
  return spm->proc.PieceToId (piece);
}
