/* test-view.c: one read-only model shared by views (sc-view.h): full and
 * pruned views run at the same time from two threads as they run alone,
 * a weight overlay stays in its view, sets a model cannot run are
 * refused, and the model's header has no run state left to set. */
#include "sc-test-util.h"
#include "sc-generate.h"
#include "sc-model.h"
#include "sc-view.h"

#include <string.h>

#define N_SENT 4

static ScModel *model;

static const char *const texts[N_SENT] = {
  "All human beings are born free and equal in dignity and rights.",
  "Everyone has the right to life, liberty and security of person.",
  "No one shall be held in slavery.",
  "Everyone has the right to education.",
};

/* Kept experts: a different half in every MoE layer. */
static guint8 *
half_keep (void)
{
  int n_moe = sc_model_n_moe_layers (model), E = sc_model_get_config (model)->num_experts;
  guint8 *keep = g_new0 (guint8, n_moe * E);
  for (int m = 0; m < n_moe; m++)
    for (int e = 0; e < E; e++)
      keep[m * E + e] = (e + m) % 2 == 0;
  return keep;
}

typedef struct
{
  float *hidden; /* encoder output of texts[0..1] */
  gsize n_hidden;
  char **hyps;          /* greedy translations of texts */
  guint64 routed[2];    /* router events seen, tokens routed to kept experts only */
  gboolean pruned_seen; /* a token was routed to an expert the view prunes */
  const guint8 *keep;
  int E;
} Run;

static void
count_routes (const ScRouterEvent *ev, gpointer data)
{
  Run *r = data;
  r->routed[0]++;
  for (int t = 0; t < ev->n_tokens; t++)
    {
      int picks[2] = { ev->top1[t], ev->top2[t] };
      for (int k = 0; k < 2; k++)
        if (picks[k] >= 0 && r->keep != NULL && !r->keep[ev->moe_index * r->E + picks[k]])
          r->pruned_seen = TRUE;
      r->routed[1] += picks[0] >= 0;
    }
}

static void
run_view (ScView *view, Run *r)
{
  g_autoptr (GError) error = NULL;
  ScTokenizer *tok = sc_model_get_tokenizer (model);
  g_autoptr (GArray) a = sc_tokenizer_encode (tok, texts[0], "eng_Latn", &error);
  g_autoptr (GArray) b = sc_tokenizer_encode (tok, texts[2], "eng_Latn", &error);
  g_assert_no_error (error);
  int S = MAX (a->len, b->len), lengths[2] = { a->len, b->len };
  int pad = sc_model_get_config (model)->pad_token_id;
  g_autofree int *ids = g_new (int, 2 * S);
  for (int s = 0; s < S; s++)
    {
      ids[s] = s < (int) a->len ? g_array_index (a, int, s) : pad;
      ids[S + s] = s < (int) b->len ? g_array_index (b, int, s) : pad;
    }
  r->E = sc_model_get_config (model)->num_experts;
  r->keep = sc_view_get_experts (view) ? sc_expert_set_get_keep (sc_view_get_experts (view)) : NULL;
  sc_view_set_router_observer (view, count_routes, r);
  g_autoptr (ScEncoding) enc = sc_view_encode (view, ids, lengths, 2, S, &error);
  g_assert_no_error (error);
  r->n_hidden = (gsize) enc->B * enc->S * enc->d;
  r->hidden = g_memdup2 (enc->hidden, sizeof (float) * r->n_hidden);
  ScGenerateOptions opts;
  sc_generate_options_init (&opts, model);
  opts.num_beams = 2;
  opts.max_length = 16;
  r->hyps = sc_translate (view, texts, N_SENT, "eng_Latn", "fra_Latn", &opts, 2, NULL, NULL, NULL,
                          &error);
  g_assert_no_error (error);
  sc_view_set_router_observer (view, NULL, NULL);
}

static void
run_clear (Run *r)
{
  g_free (r->hidden);
  g_strfreev (r->hyps);
  memset (r, 0, sizeof *r);
}

static void
assert_same_run (const Run *x, const Run *y)
{
  g_assert_cmpuint (x->n_hidden, ==, y->n_hidden);
  g_assert_cmpmem (x->hidden, sizeof (float) * x->n_hidden, y->hidden,
                   sizeof (float) * y->n_hidden);
  for (int i = 0; i < N_SENT; i++)
    g_assert_cmpstr (x->hyps[i], ==, y->hyps[i]);
  g_assert_cmpuint (x->routed[0], ==, y->routed[0]);
  g_assert_cmpuint (x->routed[1], ==, y->routed[1]);
  g_assert_cmpint (x->pruned_seen, ==, y->pruned_seen);
}

typedef struct
{
  ScView *view;
  Run run;
  int repeats;
  Run *want;
} Worker;

static gpointer
worker (gpointer data)
{
  Worker *w = data;
  for (int i = 0; i < w->repeats; i++)
    {
      Run r = { 0 };
      run_view (w->view, &r);
      assert_same_run (&r, w->want);
      run_clear (&r);
    }
  return NULL;
}

/* Full and pruned views of one model, at the same time in two threads,
 * give what each gives alone; with an expert budget (the model's one
 * shared cache) too. */
static void
test_two_threads (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *keep = half_keep ();
  g_autoptr (ScView) full = sc_view_new (model, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (ScView) pruned = sc_view_new_from_keep (model, keep, &error);
  g_assert_no_error (error);
  g_assert_null (sc_view_get_experts (full));
  g_assert_true (sc_view_get_model (pruned) == model);

  /* one after the other */
  Run want_full = { 0 }, want_pruned = { 0 };
  run_view (full, &want_full);
  run_view (pruned, &want_pruned);
  g_assert_false (want_pruned.pruned_seen);
  g_assert_cmpuint (want_full.routed[0], >, 0);
  /* the views differ: the test can tell one from the other */
  g_assert_true (
      memcmp (want_full.hidden, want_pruned.hidden, sizeof (float) * want_full.n_hidden) != 0);

  for (int budget = 0; budget < 2; budget++)
    {
      /* a budget of about three experts: evictions while both threads run */
      g_assert_true (sc_model_set_expert_budget (model, budget ? 3 * 2 * 64 * 128 * 4 : 0, &error));
      Worker a = { full, { 0 }, 3, &want_full }, b = { pruned, { 0 }, 3, &want_pruned };
      GThread *ta = g_thread_new ("full", worker, &a);
      GThread *tb = g_thread_new ("pruned", worker, &b);
      g_thread_join (ta);
      g_thread_join (tb);
      if (budget)
        {
          ScExpertCacheStats st;
          sc_expert_cache_get_stats (sc_model_get_expert_cache (model), &st);
          g_test_message ("cache: %" G_GUINT64_FORMAT " loads, %" G_GUINT64_FORMAT " evictions",
                          st.loads, st.evictions);
          g_assert_cmpuint (st.evictions, >, 0);
        }
    }
  g_assert_true (sc_model_set_expert_budget (model, 0, &error));
  run_clear (&want_full);
  run_clear (&want_pruned);
}

/* A view's replaced weights stay in that view: a full view of the same
 * model computes what it did, and the model's own weights are untouched. */
static void
test_overlay_isolated (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ScView) full = sc_view_new (model, NULL, &error);
  g_autoptr (ScView) edited = sc_view_new (model, NULL, &error);
  g_assert_no_error (error);
  Run before = { 0 };
  run_view (full, &before);

  /* zero the first linear (encoder layer 0's q_proj) and every expert's
   * fc1 in the first MoE layer */
  const ScTensor *orig = sc_model_get_linear_weight (model, 0);
  int n_replaced = 0;
  for (int i = 0; i < sc_model_n_linears (model); i++)
    {
      ScLinearInfo info;
      sc_model_get_linear (model, i, &info);
      gboolean first_moe = info.expert >= 0 && strstr (info.name, "layers.1.") != NULL &&
                           strstr (info.name, "encoder") != NULL && strstr (info.name, "fc1");
      if (i != 0 && !first_moe)
        continue;
      float *zero = g_new0 (float, (gsize) info.n_out *info.n_in);
      g_assert_true (sc_view_replace_linear_weight (edited, i, zero, &error));
      n_replaced++;
    }
  g_assert_cmpint (n_replaced, >, 1);
  g_assert_cmpuint (sc_view_n_replaced (edited), ==, n_replaced);
  g_assert_true (sc_model_get_linear_weight (model, 0) == orig);
  g_assert_true (sc_view_get_linear_weight (full, 0) == orig);
  g_assert_true (sc_view_get_linear_weight (edited, 0) != orig);
  g_assert_true (sc_view_get_replaced_weight (edited, orig->name) ==
                 sc_view_get_linear_weight (edited, 0));
  g_assert_null (sc_view_get_replaced_weight (full, orig->name));
  g_assert_false (sc_view_replace_linear_weight (edited, 99999, g_new0 (float, 1), &error));
  g_clear_error (&error);

  Run changed = { 0 }, after = { 0 };
  run_view (edited, &changed);
  g_assert_true (memcmp (before.hidden, changed.hidden, sizeof (float) * before.n_hidden) != 0);
  run_view (full, &after);
  assert_same_run (&before, &after);

  /* the same through the expert cache: the overlay's experts are read in
   * place, the others from the cache */
  g_assert_true (sc_model_set_expert_budget (model, 1 << 20, &error));
  Run cached = { 0 }, cached_full = { 0 };
  run_view (edited, &cached);
  assert_same_run (&changed, &cached);
  run_view (full, &cached_full);
  assert_same_run (&before, &cached_full);
  g_assert_true (sc_model_set_expert_budget (model, 0, &error));
  run_clear (&before);
  run_clear (&changed);
  run_clear (&after);
  run_clear (&cached);
  run_clear (&cached_full);
}

static void
test_refused_sets (void)
{
  g_autoptr (GError) error = NULL;
  int n_moe = sc_model_n_moe_layers (model), E = sc_model_get_config (model)->num_experts;
  g_autofree guint8 *keep = half_keep ();
  memset (keep + 2 * E, 0, E);
  g_assert_null (sc_view_new_from_keep (model, keep, &error));
  g_assert_error (error, SC_ERROR, SC_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "layer 2"));
  g_clear_error (&error);

  /* a set of another shape */
  g_autoptr (ScExpertSet) wrong = sc_expert_set_new_full (n_moe + 1, E);
  g_assert_null (sc_view_new (model, wrong, &error));
  g_assert_error (error, SC_ERROR, SC_ERROR_FORMAT);
  g_clear_error (&error);

  /* the set is held by the view: the caller may drop its reference */
  ScExpertSet *set = sc_expert_set_new_full (n_moe, E);
  g_autoptr (ScView) view = sc_view_new (model, set, &error);
  g_assert_no_error (error);
  sc_expert_set_unref (set);
  g_assert_true (sc_expert_set_is_full (sc_view_get_experts (view)));
}

/* Nothing in sc-model.h sets run state: no mask, observer or weight
 * replacement (the only setting is the process-wide expert budget). */
static void
test_model_header_read_only (void)
{
  g_autofree char *path = sc_test_path ("engine/model/sc-model.h");
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  static const char *const gone[] = {
    "sc_model_set_expert_mask",
    "sc_model_get_expert_mask",
    "sc_model_set_router_observer",
    "sc_model_set_linear_observer",
    "sc_model_replace_linear_weight",
    "sc_model_get_replaced_weight",
    "sc_model_encode",
  };
  for (guint i = 0; i < G_N_ELEMENTS (gone); i++)
    g_assert_null (strstr (text, gone[i]));
  int setters = 0;
  for (const char *p = text; (p = strstr (p, "sc_model_set_")) != NULL; p++)
    {
      g_assert_true (g_str_has_prefix (p, "sc_model_set_expert_budget"));
      setters++;
    }
  g_assert_cmpint (setters, ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_autofree char *dir = sc_test_path ("tests/fixtures/nllb-moe-tiny");
  g_autoptr (GError) error = NULL;
  model = sc_model_load (dir, NULL, &error);
  g_assert_no_error (error);
  g_test_add_func ("/view/two-threads", test_two_threads);
  g_test_add_func ("/view/overlay-isolated", test_overlay_isolated);
  g_test_add_func ("/view/refused-sets", test_refused_sets);
  g_test_add_func ("/view/model-header-read-only", test_model_header_read_only);
  int ret = g_test_run ();
  sc_model_free (model);
  return ret;
}
