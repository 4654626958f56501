/* sc-metrics-spm.cc: SentencePiece surface pieces for spBLEU. No C++
 * exception or type crosses this file's boundary. */
#include "sc-metrics-spm.h"
#include "sc-metrics.h"

#include <sentencepiece_processor.h>

#include <string>
#include <vector>

struct _ScMetricsSpm
{
  sentencepiece::SentencePieceProcessor proc;
};

ScMetricsSpm *
sc_metrics_spm_load (const char *path, GError **error)
{
  ScMetricsSpm *spm = nullptr;
  try
    {
      spm = new ScMetricsSpm ();
      auto status = spm->proc.Load (path);
      if (!status.ok ())
        {
          g_set_error (error, SC_METRICS_ERROR, SC_METRICS_ERROR_SPM,
                       "cannot load SentencePiece model %s: %s", path, status.ToString ().c_str ());
          delete spm;
          return nullptr;
        }
    }
  catch (const std::exception &e)
    {
      g_set_error (error, SC_METRICS_ERROR, SC_METRICS_ERROR_SPM,
                   "cannot load SentencePiece model %s: %s", path, e.what ());
      delete spm;
      return nullptr;
    }
  return spm;
}

void
sc_metrics_spm_free (ScMetricsSpm *spm)
{
  delete spm;
}

char *
sc_metrics_spm_pieces (ScMetricsSpm *spm, const char *text, GError **error)
{
  try
    {
      std::vector<std::string> pieces;
      auto status = spm->proc.Encode (text, &pieces);
      if (!status.ok ())
        {
          g_set_error (error, SC_METRICS_ERROR, SC_METRICS_ERROR_SPM,
                       "SentencePiece cannot encode: %s", status.ToString ().c_str ());
          return nullptr;
        }
      std::string out;
      for (size_t i = 0; i < pieces.size (); i++)
        {
          if (i > 0)
            out += ' ';
          out += pieces[i];
        }
      return g_strdup (out.c_str ());
    }
  catch (const std::exception &e)
    {
      g_set_error (error, SC_METRICS_ERROR, SC_METRICS_ERROR_SPM, "SentencePiece cannot encode: %s",
                   e.what ());
      return nullptr;
    }
}
