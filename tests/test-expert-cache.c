/* test-expert-cache: the expert memory budget.
 *
 * Unit tests drive the cache with small in-memory tensors (LRU order,
 * budget, prefetch protection, priorities). The integration test writes a
 * synthetic sharded NLLB-MoE of about 1 GB (experts 99.5%; 4x smaller under
 * ASan) and runs the same work (encoder, teacher forcing, greedy decoding)
 * in child processes, unbudgeted and with 25% of the experts' bytes: tokens
 * and encoder output must be identical and the budgeted child's peak RSS
 * (VmHWM) must stay within dense part + budget + 15%, while the unbudgeted
 * child's grows with the experts it touched. */
#include "sc-expert-cache.h"
#include "sc-generate.h"
#include "sc-model.h"
#include "sc-test-synth-moe.h"
#include "sc-test-util.h"

#include <stdio.h>
#include <string.h>

/* ---- unit tests --------------------------------------------------------- */

typedef struct
{
  ScTensor t[8];
  guint8 data[8][1000];
} Fake;

static void
fake_init (Fake *f, ScExpertCache *cache)
{
  for (int i = 0; i < 8; i++)
    {
      memset (f->data[i], i + 1, sizeof f->data[i]);
      f->t[i] = (ScTensor){ .name = (char *) "x", .dtype = SC_DTYPE_F16, .n_dims = 1 };
      f->t[i].shape[0] = 500;
      f->t[i].data = f->data[i];
      f->t[i].nbytes = 1000;
      const ScTensor *src[] = { &f->t[i] };
      sc_expert_cache_set_source (cache, i, src, 1);
    }
}

static void
test_lru (void)
{
  g_autoptr (ScExpertCache) cache = sc_expert_cache_new (8, 3 * 1024);
  Fake f;
  fake_init (&f, cache);
  /* 1000 bytes round up to 1024 (64-byte aligned copies) */
  g_assert_cmpuint (sc_expert_cache_expert_bytes (cache, 0), ==, 1024);

  for (guint id = 0; id < 3; id++)
    {
      const ScTensor *const *t = sc_expert_cache_get (cache, id);
      g_assert_nonnull (t);
      g_assert_true (t[0]->data != f.t[id].data); /* a copy, not the mapping */
      g_assert_cmpint (((const guint8 *) t[0]->data)[999], ==, id + 1);
      g_assert_cmpint (t[0]->shape[0], ==, 500);
    }
  sc_expert_cache_get (cache, 0); /* 0 is now the most recent; 1 the least */
  sc_expert_cache_get (cache, 3);
  g_assert_false (sc_expert_cache_is_resident (cache, 1));
  g_assert_true (sc_expert_cache_is_resident (cache, 0));
  g_assert_true (sc_expert_cache_is_resident (cache, 2));
  g_assert_true (sc_expert_cache_is_resident (cache, 3));

  ScExpertCacheStats st;
  sc_expert_cache_get_stats (cache, &st);
  g_assert_cmpuint (st.loads, ==, 4);
  g_assert_cmpuint (st.hits, ==, 1);
  g_assert_cmpuint (st.evictions, ==, 1);
  g_assert_cmpuint (st.resident, ==, 3 * 1024);
  g_assert_cmpuint (st.peak, ==, 3 * 1024);
  g_assert_cmpuint (st.bytes_copied, ==, 4 * 1000);
  g_assert_cmpuint (st.n_resident, ==, 3);
  g_assert_true (sc_expert_cache_was_loaded (cache, 1));
  g_assert_false (sc_expert_cache_was_loaded (cache, 5));
}

static void
test_prefetch (void)
{
  g_autoptr (ScExpertCache) cache = sc_expert_cache_new (8, 3 * 1024);
  Fake f;
  fake_init (&f, cache);
  sc_expert_cache_get (cache, 6);
  sc_expert_cache_get (cache, 7);

  /* A layer needing 0, 1, 2, 3: 6 and 7 make room, then the budget is
   * full after three; nothing of the set itself is evicted. */
  guint ids[] = { 0, 1, 2, 3 };
  g_assert_cmpuint (sc_expert_cache_prefetch (cache, ids, 4), ==, 3);
  g_assert_true (sc_expert_cache_is_resident (cache, 0));
  g_assert_true (sc_expert_cache_is_resident (cache, 1));
  g_assert_true (sc_expert_cache_is_resident (cache, 2));
  g_assert_false (sc_expert_cache_is_resident (cache, 3));
  g_assert_false (sc_expert_cache_is_resident (cache, 6));

  /* Running them in order: 3 comes in place of the least recent one. */
  for (guint i = 0; i < 4; i++)
    g_assert_nonnull (sc_expert_cache_get (cache, ids[i]));
  ScExpertCacheStats st;
  sc_expert_cache_get_stats (cache, &st);
  g_assert_cmpuint (st.resident, <=, st.budget);
  g_assert_cmpuint (st.loads, ==, 6);

  /* An already resident set is served without copies. */
  guint again[] = { 1, 2, 3 };
  g_assert_cmpuint (sc_expert_cache_prefetch (cache, again, 3), ==, 3);
  sc_expert_cache_get_stats (cache, &st);
  g_assert_cmpuint (st.loads, ==, 6);
}

static void
test_priority (void)
{
  g_autoptr (ScExpertCache) cache = sc_expert_cache_new (8, 2 * 1024);
  Fake f;
  fake_init (&f, cache);
  double prio[8] = { 10, 1, 5, 5, 5, 5, 5, 5 };
  sc_expert_cache_set_priority (cache, prio);
  sc_expert_cache_get (cache, 0);
  sc_expert_cache_get (cache, 1);
  sc_expert_cache_get (cache, 2);
  /* Plain LRU would evict 0 (oldest); the frequency ranks 1 lowest. */
  g_assert_true (sc_expert_cache_is_resident (cache, 0));
  g_assert_false (sc_expert_cache_is_resident (cache, 1));
  g_assert_true (sc_expert_cache_is_resident (cache, 2));

  sc_expert_cache_set_priority (cache, NULL);
  sc_expert_cache_get (cache, 3); /* LRU again: 0 is the oldest */
  g_assert_false (sc_expert_cache_is_resident (cache, 0));
}

static void
test_tiny_budget (void)
{
  /* A budget below one expert still serves one at a time. */
  g_autoptr (ScExpertCache) cache = sc_expert_cache_new (8, 100);
  Fake f;
  fake_init (&f, cache);
  for (guint id = 0; id < 8; id++)
    {
      const ScTensor *const *t = sc_expert_cache_get (cache, id);
      g_assert_cmpint (((const guint8 *) t[0]->data)[0], ==, id + 1);
    }
  ScExpertCacheStats st;
  sc_expert_cache_get_stats (cache, &st);
  g_assert_cmpuint (st.n_resident, ==, 1);
  g_assert_cmpuint (st.peak, ==, 1024);
  guint ids[] = { 0, 1 };
  g_assert_cmpuint (sc_expert_cache_prefetch (cache, ids, 2), ==, 0);
  /* No source: nothing to serve. */
  g_autoptr (ScExpertCache) empty = sc_expert_cache_new (2, 1 << 20);
  g_assert_null (sc_expert_cache_get (empty, 1));
}

/* ---- the synthetic model ------------------------------------------------ */

static char *model_dir;
static guint64 dense_bytes, expert_bytes;
static guint n_experts_total;

#define N_ROWS 8
#define SRC_LEN 24
#define MAX_LEN 16

/* Deterministic source ids: a language-code-like first token, ordinary
 * pieces, </s>; rows of different lengths, right-padded. */
static void
make_batch (int *ids, int *lengths)
{
  guint64 s = 7;
  for (int b = 0; b < N_ROWS; b++)
    {
      lengths[b] = SRC_LEN - 2 * b;
      for (int t = 0; t < SRC_LEN; t++)
        {
          int id = 1; /* pad */
          if (t == 0)
            id = 2100 + b;
          else if (t == lengths[b] - 1)
            id = 2;
          else if (t < lengths[b])
            id = 4 + (int) (synth_next (&s) % 2000);
          ids[b * SRC_LEN + t] = id;
        }
    }
}

static long
vm_hwm_kb (void)
{
  g_autofree char *status = NULL;
  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return -1;
  const char *p = strstr (status, "VmHWM:");
  return p ? atol (p + 6) : -1;
}

/* [N_ROWS, max_len] tokens: the start token 2, then the best non-special
 * token at each step. */
static int *
greedy_decode (ScView *view, const ScEncoding *enc, int max_len, GError **error)
{
  int V = sc_model_get_config (sc_view_get_model (view))->vocab_size;
  int src_row[N_ROWS];
  for (int r = 0; r < N_ROWS; r++)
    src_row[r] = r;
  g_autoptr (ScDecoder) dec = sc_decoder_new (view, enc, N_ROWS, src_row, max_len, error);
  if (dec == NULL)
    return NULL;
  g_autofree int *out = g_new (int, N_ROWS *max_len);
  g_autofree float *logits = g_new (float, (gsize) N_ROWS *V);
  int step[N_ROWS];
  for (int r = 0; r < N_ROWS; r++)
    step[r] = out[r * max_len] = 2;
  for (int t = 1; t < max_len; t++)
    {
      if (!sc_decoder_forward (dec, step, 1, logits, TRUE, error))
        return NULL;
      for (int r = 0; r < N_ROWS; r++)
        {
          const float *l = logits + (gsize) r * V;
          int best = 4;
          for (int v = 5; v < V; v++)
            if (l[v] > l[best])
              best = v;
          step[r] = out[r * max_len + t] = best;
        }
    }
  return g_steal_pointer (&out);
}

/* Teacher forcing, as calibration runs it: random target prefixes (many
 * experts used), the argmax at every position [N_ROWS, MAX_LEN]. */
static int *
forced_argmax (ScView *view, const ScEncoding *enc, GError **error)
{
  int V = sc_model_get_config (sc_view_get_model (view))->vocab_size;
  int src_row[N_ROWS], target[N_ROWS * MAX_LEN];
  guint64 s = 11;
  for (int r = 0; r < N_ROWS; r++)
    {
      src_row[r] = r;
      for (int t = 0; t < MAX_LEN; t++)
        target[r * MAX_LEN + t] = t == 0 ? 2 : 4 + (int) (synth_next (&s) % 2000);
    }
  g_autoptr (ScDecoder) dec = sc_decoder_new (view, enc, N_ROWS, src_row, MAX_LEN, error);
  if (dec == NULL)
    return NULL;
  g_autofree float *logits = g_new (float, (gsize) N_ROWS *MAX_LEN *V);
  if (!sc_decoder_forward (dec, target, MAX_LEN, logits, FALSE, error))
    return NULL;
  int *out = g_new (int, N_ROWS *MAX_LEN);
  for (int i = 0; i < N_ROWS * MAX_LEN; i++)
    {
      const float *l = logits + (gsize) i * V;
      int best = 0;
      for (int v = 1; v < V; v++)
        if (l[v] > l[best])
          best = v;
      out[i] = best;
    }
  return out;
}

/* The child: load, set the budget, generate, print results and VmHWM. */
static int
child_main (const char *dir, guint64 budget, gboolean drop)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ScModel) model = sc_model_load (dir, NULL, &error);
  if (model == NULL || !sc_model_set_expert_budget (model, budget, &error))
    {
      fprintf (stderr, "child: %s\n", error->message);
      return 1;
    }
  if (sc_model_get_expert_cache (model) != NULL)
    sc_expert_cache_set_drop_pages (sc_model_get_expert_cache (model), drop);
  g_autoptr (ScView) view = sc_view_new (model, NULL, &error);
  g_assert_no_error (error);
  int ids[N_ROWS * SRC_LEN], lengths[N_ROWS];
  make_batch (ids, lengths);
  printf ("hwm_load %ld\n", vm_hwm_kb ());
  g_autoptr (ScEncoding) enc = sc_view_encode (view, ids, lengths, N_ROWS, SRC_LEN, &error);
  if (enc == NULL)
    {
      fprintf (stderr, "child: %s\n", error->message);
      return 1;
    }
  double sum = 0.0;
  for (gsize i = 0; i < (gsize) N_ROWS * SRC_LEN * enc->d; i++)
    sum += enc->hidden[i] * (double) ((i % 7) + 1);
  printf ("enc %.17g\n", sum);

  g_autofree int *forced = forced_argmax (view, enc, &error);
  if (forced == NULL)
    {
      fprintf (stderr, "child: %s\n", error->message);
      return 1;
    }
  for (int r = 0; r < N_ROWS; r++)
    {
      printf ("tokens forced");
      for (int i = 0; i < MAX_LEN; i++)
        printf (" %d", forced[r * MAX_LEN + i]);
      printf ("\n");
    }
  /* Greedy decoding that never picks a special id (< 4): random weights
   * would otherwise often end at once with </s>. */
  g_autofree int *tokens = greedy_decode (view, enc, MAX_LEN, &error);
  if (tokens == NULL)
    {
      fprintf (stderr, "child: %s\n", error->message);
      return 1;
    }
  for (int r = 0; r < N_ROWS; r++)
    {
      printf ("tokens");
      for (int i = 0; i < MAX_LEN; i++)
        printf (" %d", tokens[r * MAX_LEN + i]);
      printf ("\n");
    }
  ScExpertCache *cache = sc_model_get_expert_cache (model);
  if (cache != NULL)
    {
      ScExpertCacheStats st;
      sc_expert_cache_get_stats (cache, &st);
      printf ("cache loads %" G_GUINT64_FORMAT " peak %" G_GUINT64_FORMAT
              " copied %" G_GUINT64_FORMAT "\n",
              st.loads, st.peak, st.bytes_copied);
    }
  printf ("hwm %ld\n", vm_hwm_kb ());
  return 0;
}

typedef struct
{
  char *enc;
  GPtrArray *tokens; /* lines */
  long hwm_kb;
  guint64 loads, peak;
} ChildResult;

static void
child_result_clear (ChildResult *r)
{
  g_free (r->enc);
  g_clear_pointer (&r->tokens, g_ptr_array_unref);
}

static void
run_child (guint64 budget, gboolean drop, ChildResult *r)
{
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_assert_nonnull (self);
  g_autofree char *budget_s = g_strdup_printf ("%" G_GUINT64_FORMAT, budget);
  const char *argv[] = { self, "--child", model_dir, budget_s, drop ? "1" : "0", NULL };
  g_autofree char *out = NULL, *err = NULL;
  int status = 0;
  g_autoptr (GError) error = NULL;
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("child failed: %s", err);

  memset (r, 0, sizeof *r);
  r->tokens = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) lines = g_strsplit (out, "\n", -1);
  for (int i = 0; lines[i] != NULL; i++)
    {
      if (g_str_has_prefix (lines[i], "enc "))
        r->enc = g_strdup (lines[i] + 4);
      else if (g_str_has_prefix (lines[i], "tokens"))
        g_ptr_array_add (r->tokens, g_strdup (lines[i]));
      else if (g_str_has_prefix (lines[i], "hwm "))
        r->hwm_kb = atol (lines[i] + 4);
      else if (g_str_has_prefix (lines[i], "cache "))
        g_assert_cmpint (sscanf (lines[i],
                                 "cache loads %" G_GUINT64_FORMAT " peak %" G_GUINT64_FORMAT,
                                 &r->loads, &r->peak),
                         ==, 2);
    }
  g_assert_nonnull (r->enc);
  g_assert_cmpuint (r->tokens->len, ==, 2 * N_ROWS);
  g_assert_cmpint (r->hwm_kb, >, 0);
}

static gboolean
built_with_asan (void)
{
#if defined(__SANITIZE_ADDRESS__)
  return TRUE;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  return TRUE;
#endif
#endif
  return FALSE;
}

static void
test_budget_identical_and_bounded (void)
{
  guint64 budget = expert_bytes / 4;
  ChildResult full, capped, capped_keep;
  run_child (0, TRUE, &full);
  run_child (budget, TRUE, &capped);
  run_child (budget, FALSE, &capped_keep);

  /* Bit-identical encoder output and the same tokens. */
  g_assert_cmpstr (full.enc, ==, capped.enc);
  g_assert_cmpstr (full.enc, ==, capped_keep.enc);
  for (int r = 0; r < 2 * N_ROWS; r++)
    {
      g_assert_cmpstr (full.tokens->pdata[r], ==, capped.tokens->pdata[r]);
      g_assert_cmpstr (full.tokens->pdata[r], ==, capped_keep.tokens->pdata[r]);
    }
  /* The budget held and experts came and went. */
  g_assert_cmpuint (capped.peak, <=, budget);
  g_assert_cmpuint (capped.loads, >, n_experts_total / 4);

  double mib = 1024.0 * 1024.0;
  double limit = (dense_bytes + budget) * 1.15;
  g_test_message ("dense %.1f MiB, experts %.1f MiB, budget %.1f MiB, limit %.1f MiB",
                  dense_bytes / mib, expert_bytes / mib, budget / mib, limit / mib);
  g_test_message ("peak RSS: unbudgeted %.1f MiB, budget + madvise %.1f MiB, budget without "
                  "madvise %.1f MiB",
                  full.hwm_kb / 1024.0, capped.hwm_kb / 1024.0, capped_keep.hwm_kb / 1024.0);
  if (built_with_asan ())
    {
      /* ASan's shadow memory and quarantine make RSS meaningless. */
      g_test_message ("AddressSanitizer build: RSS bounds not checked");
    }
  else
    {
      g_assert_cmpfloat (capped.hwm_kb * 1024.0, <=, limit);
      /* Unambiguous: the unbudgeted run holds far more (the mapped pages
       * of every expert it touched). */
      g_assert_cmpfloat (full.hwm_kb * 1024.0, >, limit + expert_bytes / 4.0);
    }
  child_result_clear (&full);
  child_result_clear (&capped);
  child_result_clear (&capped_keep);
}

/* With pruning, only kept experts are ever loaded. */
static void
test_pruned_loads_only_kept (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ScModel) model = sc_model_load (model_dir, NULL, &error);
  g_assert_no_error (error);
  int n_moe = sc_model_n_moe_layers (model), E = sc_model_get_config (model)->num_experts;
  g_autofree guint8 *keep = g_new0 (guint8, n_moe * E);
  for (int i = 0; i < n_moe * E; i++)
    keep[i] = (i % E) % 5 == 0; /* 13 of 64 per layer */
  g_autoptr (ScView) view = sc_view_new_from_keep (model, keep, &error);
  g_assert_no_error (error);
  g_assert_true (sc_model_set_expert_budget (model, expert_bytes / 10, &error));
  ScExpertCache *cache = sc_model_get_expert_cache (model);
  g_assert_nonnull (cache);

  int ids[N_ROWS * SRC_LEN], lengths[N_ROWS];
  make_batch (ids, lengths);
  g_autoptr (ScEncoding) enc = sc_view_encode (view, ids, lengths, N_ROWS, SRC_LEN, &error);
  g_assert_no_error (error);
  ScGenerateOptions opts;
  sc_generate_options_init (&opts, model);
  opts.num_beams = 1;
  opts.max_length = 6;
  g_autoptr (GPtrArray) out = sc_generate (view, enc, &opts, NULL, &error);
  g_assert_no_error (error);
  g_ptr_array_set_free_func (out, (GDestroyNotify) g_array_unref);

  int loaded = 0;
  for (int i = 0; i < n_moe * E; i++)
    {
      if (!keep[i])
        g_assert_false (sc_expert_cache_was_loaded (cache, i));
      loaded += sc_expert_cache_was_loaded (cache, i);
    }
  g_assert_cmpint (loaded, >, n_moe); /* kept experts did run */

  /* Turning the budget off drops the cache. */
  g_assert_true (sc_model_set_expert_budget (model, 0, &error));
  g_assert_null (sc_model_get_expert_cache (model));
}

int
main (int argc, char **argv)
{
  if (argc == 5 && g_str_equal (argv[1], "--child"))
    return child_main (argv[2], g_ascii_strtoull (argv[3], NULL, 10), argv[4][0] == '1');

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/expert-cache/lru", test_lru);
  g_test_add_func ("/expert-cache/prefetch", test_prefetch);
  g_test_add_func ("/expert-cache/priority", test_priority);
  g_test_add_func ("/expert-cache/tiny-budget", test_tiny_budget);
  g_test_add_func ("/expert-cache/budget-identical-and-bounded", test_budget_identical_and_bounded);
  g_test_add_func ("/expert-cache/pruned-loads-only-kept", test_pruned_loads_only_kept);

  const char *builddir = g_getenv ("G_TEST_BUILDDIR");
  model_dir = g_build_filename (builddir ? builddir : ".", "synth-moe-expert-cache", NULL);
  sc_test_rm_tree (model_dir);
  ScSynthMoe p = sc_synth_moe_default ();
  if (built_with_asan ())
    {
      /* RSS is not checked under ASan: a 4x smaller model is enough for
       * the identical-output checks. */
      p.ffn = 1024;
      p.experts = 64;
    }
  sc_synth_moe_write (&p, model_dir, &dense_bytes, &expert_bytes);
  n_experts_total = 2 * p.layers / p.sparse_step * p.experts;

  int ret = g_test_run ();
  if (g_getenv ("SC_TEST_KEEP_SYNTH") == NULL) /* set it to look at the model afterwards */
    sc_test_rm_tree (model_dir);
  g_free (model_dir);
  return ret;
}
