/* sc-tokenizer.c: NLLB ids over SentencePiece pieces. */
#include "sc-tokenizer.h"

#include "sc-languages.h"
#include "sc-spm.h"
#include "sc-tensor.h"
#include "sc-tokenizer-config.h"

#include <string.h>

#define FAIRSEQ_OFFSET 1

struct _ScTokenizer
{
  ScSpm *spm;
  int spm_size;
  GPtrArray *codes;     /* char*, language codes in id order */
  GHashTable *code_ids; /* code -> id (GINT_TO_POINTER) */
  gboolean legacy;
  gboolean clean_up_spaces;
};

static const char *const fixed_specials[] = { "<s>", "<pad>", "</s>", "<unk>" };

void
sc_tokenizer_free (ScTokenizer *tok)
{
  if (tok == NULL)
    return;
  g_clear_pointer (&tok->spm, sc_spm_free);
  g_clear_pointer (&tok->codes, g_ptr_array_unref);
  g_clear_pointer (&tok->code_ids, g_hash_table_unref);
  g_free (tok);
}

ScTokenizer *
sc_tokenizer_load (const char *dir, GError **error)
{
  g_autoptr (ScTokenizer) tok = g_new0 (ScTokenizer, 1);
  g_autofree char *model = g_build_filename (dir, "sentencepiece.bpe.model", NULL);

  if (!g_file_test (model, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_IO, "no tokenizer: %s does not exist", model);
      return NULL;
    }
  tok->spm = sc_spm_load (model, error);
  if (tok->spm == NULL)
    return NULL;
  tok->spm_size = sc_spm_size (tok->spm);
  /* a missing tokenizer_config.json means the defaults; a corrupt one is an error */
  g_autoptr (ScTokenizerConfig) config = sc_tokenizer_config_load (dir, error);
  if (config == NULL)
    return NULL;
  tok->legacy = config->legacy;
  tok->clean_up_spaces = config->clean_up_spaces;
  if (config->codes != NULL)
    tok->codes = g_steal_pointer (&config->codes);
  else
    {
      tok->codes = g_ptr_array_new_with_free_func (g_free);
      for (guint i = 0; i < SC_N_NLLB_LANGUAGES; i++)
        g_ptr_array_add (tok->codes, g_strdup (sc_language_code (i)));
    }

  tok->code_ids = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < tok->codes->len; i++)
    g_hash_table_insert (tok->code_ids, tok->codes->pdata[i],
                         GINT_TO_POINTER (tok->spm_size + FAIRSEQ_OFFSET + (int) i));
  return g_steal_pointer (&tok);
}

int
sc_tokenizer_mask_id (ScTokenizer *tok)
{
  return tok->spm_size + FAIRSEQ_OFFSET + (int) tok->codes->len;
}

int
sc_tokenizer_vocab_size (ScTokenizer *tok)
{
  return sc_tokenizer_mask_id (tok) + 1;
}

guint
sc_tokenizer_n_languages (ScTokenizer *tok)
{
  return tok->codes->len;
}

const char *
sc_tokenizer_language (ScTokenizer *tok, guint index)
{
  return index < tok->codes->len ? tok->codes->pdata[index] : NULL;
}

int
sc_tokenizer_lang_id (ScTokenizer *tok, const char *code, GError **error)
{
  gpointer value;
  if (code != NULL && g_hash_table_lookup_extended (tok->code_ids, code, NULL, &value))
    return GPOINTER_TO_INT (value);
  g_set_error (error, SC_ERROR, SC_ERROR_LANGUAGE,
               "unknown language code '%s' (expected an NLLB code such as eng_Latn)",
               code ? code : "(null)");
  return -1;
}

const char *
sc_tokenizer_lang_code (ScTokenizer *tok, int id)
{
  int index = id - tok->spm_size - FAIRSEQ_OFFSET;
  if (index < 0 || (guint) index >= tok->codes->len)
    return NULL;
  return tok->codes->pdata[index];
}

gboolean
sc_tokenizer_is_special (ScTokenizer *tok, int id)
{
  return id <= SC_TOKEN_UNK || id > tok->spm_size;
}

void
sc_tokenizer_set_legacy (ScTokenizer *tok, gboolean legacy)
{
  tok->legacy = legacy;
}

/* The special token spelled at `s`, if any: its id and byte length. HF splits
 * input text on added tokens wherever they occur, longest match first. */
static gboolean
match_special (ScTokenizer *tok, const char *s, int *id, gsize *len)
{
  if (s[0] == '<')
    {
      for (guint i = 0; i < G_N_ELEMENTS (fixed_specials); i++)
        {
          gsize l = strlen (fixed_specials[i]);
          if (strncmp (s, fixed_specials[i], l) == 0)
            {
              *id = (int) i;
              *len = l;
              return TRUE;
            }
        }
      if (strncmp (s, "<mask>", 6) == 0)
        {
          *id = sc_tokenizer_mask_id (tok);
          *len = 6;
          return TRUE;
        }
      return FALSE;
    }
  /* Language codes look like xxx_Xxxx; try the longest candidates first. */
  gsize best = 0;
  int best_id = -1;
  for (gsize l = 1; l <= 32 && s[l - 1] != '\0'; l++)
    {
      if (s[l - 1] == ' ')
        break;
      char buf[33];
      memcpy (buf, s, l);
      buf[l] = '\0';
      gpointer value;
      if (g_hash_table_lookup_extended (tok->code_ids, buf, NULL, &value))
        {
          best = l;
          best_id = GPOINTER_TO_INT (value);
        }
    }
  if (best == 0)
    return FALSE;
  *id = best_id;
  *len = best;
  return TRUE;
}

static gboolean
encode_chunk (ScTokenizer *tok, const char *chunk, gsize len, GArray *out, GError **error)
{
  if (len == 0)
    return TRUE;
  g_autofree char *text = g_strndup (chunk, len);
  g_autoptr (GArray) ids = sc_spm_encode (tok->spm, text, error);
  if (ids == NULL)
    return FALSE;
  for (guint i = 0; i < ids->len; i++)
    {
      /* spm's <unk> <s> </s> are NLLB's 3 0 2 (unigram segmentation may spell
       * <s> or </s> when normalisation produces that text); the rest move up. */
      static const int specials[] = { SC_TOKEN_UNK, SC_TOKEN_BOS, SC_TOKEN_EOS };
      int spm_id = g_array_index (ids, int, i);
      int id = spm_id < 3 ? specials[spm_id] : spm_id + FAIRSEQ_OFFSET;
      g_array_append_val (out, id);
    }
  return TRUE;
}

GArray *
sc_tokenizer_encode_pieces (ScTokenizer *tok, const char *text, GError **error)
{
  g_autoptr (GArray) out = g_array_new (FALSE, FALSE, sizeof (int));

  if (!g_utf8_validate (text, -1, NULL))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_FORMAT, "input text is not valid UTF-8");
      return NULL;
    }

  gsize start = 0, i = 0, n = strlen (text);
  while (i < n)
    {
      int id;
      gsize len;
      if (match_special (tok, text + i, &id, &len))
        {
          gsize end = i;
          /* <mask> strips the whitespace on its left (lstrip=True in HF). */
          if (id == sc_tokenizer_mask_id (tok))
            while (end > start && g_ascii_isspace (text[end - 1]))
              end--;
          if (!encode_chunk (tok, text + start, end - start, out, error))
            return NULL;
          g_array_append_val (out, id);
          i += len;
          start = i;
        }
      else
        {
          i++;
        }
    }
  if (!encode_chunk (tok, text + start, n - start, out, error))
    return NULL;
  return g_steal_pointer (&out);
}

GArray *
sc_tokenizer_encode (ScTokenizer *tok, const char *text, const char *src_lang, GError **error)
{
  int lang = sc_tokenizer_lang_id (tok, src_lang, error);
  if (lang < 0)
    return NULL;
  g_autoptr (GArray) pieces = sc_tokenizer_encode_pieces (tok, text, error);
  if (pieces == NULL)
    return NULL;

  GArray *out = g_array_sized_new (FALSE, FALSE, sizeof (int), pieces->len + 2);
  int eos = SC_TOKEN_EOS;
  if (!tok->legacy)
    g_array_append_val (out, lang);
  g_array_append_vals (out, pieces->data, pieces->len);
  g_array_append_val (out, eos);
  if (tok->legacy)
    g_array_append_val (out, lang);
  return out;
}

/* HF's clean_up_tokenization: glue punctuation and English clitics to the
 * word before them. */
static char *
clean_up_spaces (const char *s)
{
  static const char *const rules[][2] = {
    { " .", "." },     { " ?", "?" },   { " !", "!" },   { " ,", "," },     { " ' ", "'" },
    { " n't", "n't" }, { " 'm", "'m" }, { " 's", "'s" }, { " 've", "'ve" }, { " 're", "'re" },
  };
  GString *str = g_string_new (s);
  for (guint r = 0; r < G_N_ELEMENTS (rules); r++)
    g_string_replace (str, rules[r][0], rules[r][1], 0);
  return g_string_free (str, FALSE);
}

char *
sc_tokenizer_decode (ScTokenizer *tok, const int *ids, gsize n)
{
  GString *str = g_string_new (NULL);
  for (gsize i = 0; i < n; i++)
    {
      if (sc_tokenizer_is_special (tok, ids[i]))
        continue;
      const char *piece = sc_spm_id_to_piece (tok->spm, ids[i] - FAIRSEQ_OFFSET);
      if (piece != NULL)
        g_string_append (str, piece);
    }
  g_string_replace (str, "\xe2\x96\x81", " ", 0); /* U+2581, the word-start mark */
  g_autofree char *joined = g_string_free (str, FALSE);
  g_strstrip (joined);
  if (!tok->clean_up_spaces)
    return g_steal_pointer (&joined);
  return clean_up_spaces (joined);
}
