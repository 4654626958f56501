/* test-fuzz-regressions.c: replays every fuzzer input we keep, the seed
 * corpus and the crashes found so far (tests/fuzz/{corpus,regressions}/),
 * through the parsers. Each must return a result or a GError, never crash
 * or leak (the ASan build of the suite checks that). Seeds written by the
 * real PyTorch / safetensors writers must also parse. Statistics the reader
 * accepts must write and read back equal (fuzz-stats' property). */
#include "sc-config.h"
#include "sc-expert-index.h"
#include "sc-pickle.h"
#include "sc-safetensors.h"
#include "sc-stats.h"
#include "sc-tokenizer-config.h"
#include "sc-torch-zip.h"

#include <math.h>
#include <string.h>

#ifndef SC_SRCDIR
#define SC_SRCDIR "."
#endif

typedef enum
{
  KIND_SAFETENSORS,
  KIND_PICKLE,
  KIND_ZIP,
  KIND_CONFIG,       /* config.json, generation_config.json, tokenizer_config.json */
  KIND_EXPERT_INDEX, /* expert indexes and keep files */
  KIND_STATS,
} Kind;

static const char *const kind_dirs[] = { "safetensors", "pickle", "zip",
                                         "config", "expert-index", "stats" };

/* Seeds that come straight from a real writer (make-corpus.py). */
static gboolean
must_parse (const char *file)
{
  static const char *const prefixes[] = {
    "mixed", "param", "plain-dict", "torch-1.13", "fixture", "metadata", "builder",
    /* the seeds of the JSON targets: real files or their hand-made kin */
    "nllb-moe", "m2m", "tokenizer_config", "global", "keyed", "languages", "keep-", "seed-",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (prefixes); i++)
    if (g_str_has_prefix (file, prefixes[i]))
      return TRUE;
  return FALSE;
}

static const char *
srcdir (void)
{
  const char *env = g_getenv ("SC_SRCDIR");
  return env ? env : SC_SRCDIR;
}

/* Touch every byte a returned tensor claims, so an out-of-bounds view
 * shows up under ASan. */
static void
touch (GPtrArray *tensors)
{
  volatile guint8 sink = 0;

  for (guint i = 0; i < tensors->len; i++)
    {
      const ScTensor *t = tensors->pdata[i];
      const guint8 *p = t->data;
      float f[4];
      int64_t n = sc_tensor_numel (t);

      for (guint64 k = 0; k < t->nbytes; k++)
        sink ^= p[k];
      sc_tensor_read_f32 (t, 0, MIN (n, 4), f);
    }
  (void) sink;
}

/* The same bytes as config.json, as generation_config.json over a good
 * config, and as tokenizer_config.json; TRUE when the one the seed's name
 * says it is parses. */
static gboolean
replay_config (const char *name, const char *data, gsize len, GError **error)
{
  static const char base[] =
      "{\"model_type\": \"m2m_100\", \"d_model\": 16, \"encoder_layers\": 1, "
      "\"decoder_layers\": 1, \"encoder_attention_heads\": 2, \"decoder_attention_heads\": 2, "
      "\"encoder_ffn_dim\": 8, \"decoder_ffn_dim\": 8, \"vocab_size\": 64, "
      "\"max_position_embeddings\": 64, \"scale_embedding\": true, "
      "\"tie_word_embeddings\": true}";
  GError *errors[3] = { NULL, NULL, NULL };
  gboolean ok[3];

  ScConfig *c = sc_config_parse (data, (gssize) len, &errors[0]);
  ok[0] = c != NULL;
  sc_config_free (c);
  c = sc_config_parse (base, -1, NULL);
  g_assert_nonnull (c);
  ok[1] = sc_config_parse_generation (c, data, (gssize) len, &errors[1]);
  sc_config_free (c);
  ScTokenizerConfig *t = sc_tokenizer_config_parse (data, (gssize) len, name, &errors[2]);
  ok[2] = t != NULL;
  sc_tokenizer_config_free (t);

  int which = strstr (name, "generation_config") ? 1 : strstr (name, "tokenizer_config") ? 2 : 0;
  for (int i = 0; i < 3; i++)
    g_assert_true (ok[i] == (errors[i] == NULL) && (ok[i] || errors[i]->domain == SC_ERROR));
  if (!ok[which])
    g_propagate_error (error, g_steal_pointer (&errors[which]));
  for (int i = 0; i < 3; i++)
    g_clear_error (&errors[i]);
  return ok[which];
}

/* As an expert index of NLLB-MoE 54B (12 MoE layers, 6 in the encoder, of
 * 128 experts) and as a keep file; written back, an index reads back the
 * same text. TRUE when the one the name says ("keep-" or not) parses. */
static gboolean
replay_expert_index (const char *name, const char *data, gsize len, GError **error)
{
  GError *e1 = NULL, *e2 = NULL;
  ScExpertIndex *idx = sc_expert_index_from_json (data, (gssize) len, 12, 6, 128, &e1);
  if (idx != NULL)
    {
      gsize n = 0, n2 = 0;
      g_autofree char *json = sc_expert_index_to_json (idx, &n);
      g_autoptr (ScExpertIndex) back =
          sc_expert_index_from_json (json, (gssize) n, 12, 6, 128, NULL);
      g_assert_nonnull (back);
      g_autofree char *json2 = sc_expert_index_to_json (back, &n2);
      g_assert_cmpstr (json, ==, json2);
      sc_expert_index_free (idx);
    }
  else
    g_assert_true (e1 != NULL && e1->domain == SC_EXPERT_INDEX_ERROR);
  g_autofree guint8 *keep = sc_expert_keep_from_json (data, (gssize) len, 12, 128, name, &e2);
  g_assert_true ((keep != NULL) == (e2 == NULL));
  g_assert_true (keep != NULL || e2->domain == SC_EXPERT_INDEX_ERROR);
  gboolean is_keep = g_str_has_prefix (name, "keep-");
  gboolean ok = is_keep ? keep != NULL : e1 == NULL;
  GError **mine = is_keep ? &e2 : &e1;
  if (!ok)
    g_propagate_error (error, g_steal_pointer (mine));
  g_clear_error (&e1);
  g_clear_error (&e2);
  return ok;
}

static gboolean
same_f64 (const double *a, const double *b, gsize n)
{
  for (gsize i = 0; i < n; i++)
    if (!(a[i] == b[i] || (isnan (a[i]) && isnan (b[i]))))
      return FALSE;
  return TRUE;
}

/* Statistics the reader accepts are written, read back and compared. */
static gboolean
replay_stats (const char *name, const char *data, gsize len, GError **error)
{
  g_autoptr (ScStats) s = sc_stats_from_json (data, (gssize) len, NULL, error);
  if (s == NULL)
    {
      g_assert_true (*error != NULL && (*error)->domain == SC_STATS_ERROR);
      return FALSE;
    }
  gsize n = 0;
  g_autoptr (GError) local = NULL;
  g_autofree char *json = sc_stats_to_json (s, &n, &local);
  g_assert_no_error (local);
  g_autoptr (ScStats) back = sc_stats_from_json (json, (gssize) n, sc_stats_get_shape (s), &local);
  g_assert_no_error (local);
  g_auto (GStrv) dirs = sc_stats_list_directions (s);
  g_auto (GStrv) dirs2 = sc_stats_list_directions (back);
  g_assert_cmpstrv (dirs, dirs2);
  for (guint i = 0; dirs[i] != NULL; i++)
    {
      g_autoptr (ScStatsCounters) a = sc_stats_get_pair (s, dirs[i], NULL);
      g_autoptr (ScStatsCounters) b = sc_stats_get_pair (back, dirs[i], NULL);
      gsize L = (gsize) a->n_layers, LE = L * (gsize) a->n_experts;
      g_assert_cmpmem (a->tokens, L * 8, b->tokens, L * 8);
      g_assert_cmpmem (a->top1, LE * 8, b->top1, LE * 8);
      g_assert_cmpmem (a->top2, LE * 8, b->top2, LE * 8);
      g_assert_true (same_f64 (a->gate1, b->gate1, LE) && same_f64 (a->gate2, b->gate2, LE) &&
                     same_f64 (a->prob_sum, b->prob_sum, LE) &&
                     same_f64 (a->rank_sum, b->rank_sum, LE) &&
                     same_f64 (a->reap_sum, b->reap_sum, LE));
    }
  return TRUE;
}

static gboolean
replay (Kind kind, const char *name, const guint8 *data, gsize len, GError **error)
{
  GPtrArray *out = NULL;

  switch (kind)
    {
    case KIND_SAFETENSORS:
      out = sc_safetensors_parse (data, len, error);
      if (out)
        touch (out);
      break;
    case KIND_PICKLE:
      out = sc_pickle_load_state_dict (data, len, error);
      break;
    case KIND_ZIP:
      out = sc_torch_zip_parse (data, len, error);
      if (out)
        touch (out);
      break;
    case KIND_CONFIG:
      return replay_config (name, (const char *) data, len, error);
    case KIND_EXPERT_INDEX:
      return replay_expert_index (name, (const char *) data, len, error);
    case KIND_STATS:
      return replay_stats (name, (const char *) data, len, error);
    }
  if (out == NULL)
    return FALSE;
  g_ptr_array_unref (out);
  return TRUE;
}

static guint
replay_dir (const char *top, Kind kind, gboolean check_seeds)
{
  g_autofree char *dir = g_build_filename (srcdir (), "tests", "fuzz", top, kind_dirs[kind], NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (d == NULL)
    return 0;
  while ((name = g_dir_read_name (d)) != NULL)
    if (name[0] != '.' && strcmp (name, "README.md") != 0)
      g_ptr_array_add (names, g_strdup (name));

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (dir, names->pdata[i], NULL);
      g_autofree char *contents = NULL;
      g_autoptr (GError) error = NULL;
      gsize len = 0;
      gboolean ok;

      g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
      ok = replay (kind, names->pdata[i], (const guint8 *) contents, len, &error);
      g_test_message ("%s/%s/%s: %s", top, kind_dirs[kind], (char *) names->pdata[i],
                      ok ? "parsed" : error->message);
      if (!ok && kind <= KIND_ZIP)
        g_assert_true (error != NULL && error->domain == SC_ERROR);
      if (check_seeds && must_parse (names->pdata[i]) && !ok)
        g_error ("seed %s from a real writer does not parse: %s", path, error->message);
    }
  return names->len;
}

static void
test_corpus (void)
{
  guint n = 0;

  for (Kind k = KIND_SAFETENSORS; k <= KIND_STATS; k++)
    n += replay_dir ("corpus", k, TRUE);
  if (n == 0)
    g_test_skip ("no corpus found");
}

static void
test_regressions (void)
{
  guint n = 0;

  for (Kind k = KIND_SAFETENSORS; k <= KIND_STATS; k++)
    n += replay_dir ("regressions", k, FALSE);
  g_test_message ("%u regression inputs replayed", n);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/fuzz/corpus", test_corpus);
  g_test_add_func ("/fuzz/regressions", test_regressions);

  return g_test_run ();
}
