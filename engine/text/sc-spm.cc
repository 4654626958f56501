/* sc-spm.cc: the C shim over sentencepiece::SentencePieceProcessor.
 * No C++ exception or type crosses this file's boundary. */
#include "sc-spm.h"
#include "sc-charsmap.h"
#include "sc-tensor.h"
#include "sc-unigram.h"

#include <sentencepiece_processor.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

struct _ScSpm
{
  sentencepiece::SentencePieceProcessor proc;
  std::vector<std::string> pieces; /* cached so id_to_piece can return a stable pointer */
  ScUnigram *unigram = nullptr;    /* set for unigram models: segments as tokenizers does */
  ScCharsmap *charsmap = nullptr;  /* the normalisation map, to drop what tokenizers drops */
};

enum
{
  MODEL_UNIGRAM = 1 /* TrainerSpec.ModelType; also the default when unset */
};

static bool
read_varint (const std::string &b, size_t &pos, uint64_t &v)
{
  v = 0;
  for (int shift = 0; shift < 64 && pos < b.size (); shift += 7)
    {
      uint8_t c = (uint8_t) b[pos++];
      v |= (uint64_t) (c & 0x7f) << shift;
      if (!(c & 0x80))
        return true;
    }
  return false;
}

/* Visits the fields of the protobuf message b[pos, end): calls f (field,
 * wire type, varint value, payload start, payload length); false on a
 * malformed message. */
template <typename F>
static bool
scan_message (const std::string &b, size_t pos, size_t end, F f)
{
  while (pos < end)
    {
      uint64_t tag, v = 0, len = 0;
      if (!read_varint (b, pos, tag))
        return false;
      size_t start = pos;
      switch (tag & 7)
        {
        case 0:
          if (!read_varint (b, pos, v))
            return false;
          break;
        case 1:
          len = 8;
          break;
        case 2:
          if (!read_varint (b, pos, len))
            return false;
          start = pos;
          break;
        case 5:
          len = 4;
          break;
        default:
          return false;
        }
      if (len > end - pos)
        return false;
      pos += len;
      f (tag >> 3, (int) (tag & 7), v, start, (size_t) len);
    }
  return true;
}

/* What the segmentation depends on, from the serialized ModelProto
 * (libsentencepiece's headers do not declare it): TrainerSpec (field 2)
 * model_type (3) and byte_fallback (35), NormalizerSpec (field 3)
 * precompiled_charsmap (2). */
struct ModelSettings
{
  int model_type = MODEL_UNIGRAM;
  bool byte_fallback = false;
  std::string charsmap;
};

static ModelSettings
read_model_settings (const std::string &proto)
{
  ModelSettings m;
  scan_message (proto, 0, proto.size (),
                [&] (uint64_t field, int wire, uint64_t, size_t start, size_t len) {
                  if (wire != 2 || (field != 2 && field != 3))
                    return;
                  scan_message (proto, start, start + len,
                                [&] (uint64_t f, int w, uint64_t v, size_t s, size_t l) {
                                  if (field == 2 && f == 3 && w == 0)
                                    m.model_type = (int) v;
                                  else if (field == 2 && f == 35 && w == 0)
                                    m.byte_fallback = v != 0;
                                  else if (field == 3 && f == 2 && w == 2)
                                    m.charsmap = proto.substr (s, l);
                                });
                });
  return m;
}

/* The unigram table tokenizers builds from the same file: every piece with
 * its score. */
static ScUnigram *
make_unigram (sentencepiece::SentencePieceProcessor &proc, bool byte_fallback)
{
  ScUnigram *uni = sc_unigram_new (proc.unk_id (), byte_fallback);
  int n = proc.GetPieceSize ();
  for (int i = 0; i < n; i++)
    sc_unigram_add_piece (uni, proc.IdToPiece (i).c_str (), proc.GetScore (i), i);
  return uni;
}

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
          sc_spm_free (spm);
          return nullptr;
        }
      int n = spm->proc.GetPieceSize ();
      spm->pieces.reserve (n);
      for (int i = 0; i < n; i++)
        spm->pieces.push_back (spm->proc.IdToPiece (i));
      ModelSettings settings = read_model_settings (spm->proc.serialized_model_proto ());
      if (settings.model_type == MODEL_UNIGRAM)
        spm->unigram = make_unigram (spm->proc, settings.byte_fallback);
      if (!settings.charsmap.empty ())
        {
          spm->charsmap =
              sc_charsmap_new (settings.charsmap.data (), settings.charsmap.size (), error);
          if (spm->charsmap == nullptr)
            {
              g_prefix_error (error, "%s: ", path);
              sc_spm_free (spm);
              return nullptr;
            }
        }
    }
  catch (const std::exception &e)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_IO, "cannot load SentencePiece model %s: %s", path,
                   e.what ());
      sc_spm_free (spm);
      return nullptr;
    }
  return spm;
}

void
sc_spm_free (ScSpm *spm)
{
  if (spm != nullptr)
    {
      sc_unigram_free (spm->unigram);
      sc_charsmap_free (spm->charsmap);
    }
  delete spm;
}

int
sc_spm_size (ScSpm *spm)
{
  return (int) spm->pieces.size ();
}

/* The normalised text spm segmented: its pieces joined, byte pieces (from
 * byte fallback) turned back into their bytes. Unknown pieces carry the
 * normalised text they cover. */
static std::string
normalized_text (ScSpm *spm, const std::vector<std::string> &pieces)
{
  std::string out;
  for (const auto &p : pieces)
    {
      unsigned byte;
      if (p.size () == 6 && sscanf (p.c_str (), "<0x%2X>", &byte) == 1 &&
          spm->proc.IsByte (spm->proc.PieceToId (p)))
        out += (char) byte;
      else
        out += p;
    }
  return out;
}

/* Unigram models: spm normalises, sc-unigram segments (see sc-unigram.h). */
static GArray *
encode_unigram (ScSpm *spm, const char *text, GError **error)
{
  std::vector<std::string> pieces;
  auto status = spm->proc.Encode (text, &pieces);
  if (!status.ok ())
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "SentencePiece cannot encode: %s",
                   status.ToString ().c_str ());
      return nullptr;
    }
  std::string norm = normalized_text (spm, pieces);
  GArray *out = g_array_new (FALSE, FALSE, sizeof (int));
  sc_unigram_encode (spm->unigram, norm.data (), norm.size (), out);
  return out;
}

GArray *
sc_spm_encode (ScSpm *spm, const char *text, GError **error)
{
  std::vector<int> ids;
  try
    {
      std::string input = text;
      if (spm->charsmap != nullptr)
        {
          char *dropped = sc_charsmap_drop_like_tokenizers (spm->charsmap, text);
          if (dropped != nullptr)
            input = dropped;
          g_free (dropped);
        }
      if (spm->unigram != nullptr)
        return encode_unigram (spm, input.c_str (), error);
      auto status = spm->proc.Encode (input, &ids);
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
