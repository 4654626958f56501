/* test-expert-set.c: the kept-expert set as one value (sc-expert-set.h)
 * and its conversions from a selection, an expert index and a keep file. */
#include "sc-test-util.h"
#include "sc-expert-index.h"
#include "sc-expert-set.h"
#include "sc-selection.h"

#include <glib/gstdio.h>
#include <string.h>

static void
test_full_and_counts (void)
{
  g_autoptr (ScExpertSet) full = sc_expert_set_new_full (3, 4);
  g_assert_cmpint (sc_expert_set_n_moe_layers (full), ==, 3);
  g_assert_cmpint (sc_expert_set_n_experts (full), ==, 4);
  g_assert_true (sc_expert_set_is_full (full));
  g_assert_cmpint (sc_expert_set_n_kept_total (full), ==, 12);
  g_assert_cmpint (sc_expert_set_n_kept (full, 2), ==, 4);

  /* layer 0 keeps 0 and 3, layer 1 keeps 1, layer 2 keeps all but 2 */
  const guint8 keep[12] = { 1, 0, 0, 7, 0, 1, 0, 0, 1, 1, 0, 1 };
  g_autoptr (ScExpertSet) set = sc_expert_set_new_from_keep (keep, 3, 4);
  g_assert_false (sc_expert_set_is_full (set));
  g_assert_cmpint (sc_expert_set_n_kept (set, 0), ==, 2);
  g_assert_cmpint (sc_expert_set_n_kept (set, 1), ==, 1);
  g_assert_cmpint (sc_expert_set_n_kept (set, 2), ==, 3);
  g_assert_cmpint (sc_expert_set_n_kept_total (set), ==, 6);
  g_assert_true (sc_expert_set_contains (set, 0, 3));
  g_assert_false (sc_expert_set_contains (set, 0, 1));
  g_assert_true (sc_expert_set_contains (set, 1, 1));
  g_assert_false (sc_expert_set_contains (set, 2, 2));
  g_assert_false (sc_expert_set_contains (set, 3, 0)); /* outside the shape */
  g_assert_false (sc_expert_set_contains (set, 0, 4));
  /* the mask is normalised to 0/1 and copied */
  const guint8 want[12] = { 1, 0, 0, 1, 0, 1, 0, 0, 1, 1, 0, 1 };
  g_assert_cmpmem (sc_expert_set_get_keep (set), 12, want, 12);
  g_assert_true (sc_expert_set_get_keep (set) != keep);
  g_autoptr (GArray) ids = sc_expert_set_to_ids (set);
  const int want_ids[] = { 0, 3, 5, 8, 9, 11 };
  g_assert_cmpmem (ids->data, ids->len * sizeof (int), want_ids, sizeof want_ids);
}

static void
test_union_equal (void)
{
  const guint8 ka[8] = { 1, 0, 0, 0, 0, 1, 0, 0 };
  const guint8 kb[8] = { 0, 1, 0, 0, 0, 1, 0, 1 };
  g_autoptr (ScExpertSet) a = sc_expert_set_new_from_keep (ka, 2, 4);
  g_autoptr (ScExpertSet) b = sc_expert_set_new_from_keep (kb, 2, 4);
  g_autoptr (ScExpertSet) u = sc_expert_set_union (a, b);
  const guint8 want[8] = { 1, 1, 0, 0, 0, 1, 0, 1 };
  g_assert_cmpmem (sc_expert_set_get_keep (u), 8, want, 8);
  g_assert_cmpint (sc_expert_set_n_kept (u, 0), ==, 2);
  g_assert_cmpint (sc_expert_set_n_kept (u, 1), ==, 2);
  /* union leaves its inputs alone */
  g_assert_cmpmem (sc_expert_set_get_keep (a), 8, ka, 8);

  g_autoptr (ScExpertSet) same = sc_expert_set_new_from_keep (want, 2, 4);
  g_assert_true (sc_expert_set_equal (u, same));
  g_assert_false (sc_expert_set_equal (u, a));
  g_assert_true (sc_expert_set_equal (NULL, NULL));
  g_assert_false (sc_expert_set_equal (u, NULL));
  /* the same bits in another shape are another set */
  g_autoptr (ScExpertSet) other = sc_expert_set_new_from_keep (want, 4, 2);
  g_assert_false (sc_expert_set_equal (u, other));
  g_autoptr (ScExpertSet) uu = sc_expert_set_union (u, a);
  g_assert_true (sc_expert_set_equal (uu, u));
}

static void
test_refcount (void)
{
  ScExpertSet *set = sc_expert_set_new_full (2, 2);
  g_assert_true (sc_expert_set_ref (set) == set);
  sc_expert_set_unref (set);
  /* still alive after one unref of two references */
  g_assert_cmpint (sc_expert_set_n_kept_total (set), ==, 4);
  sc_expert_set_unref (set);
}

static void
test_from_selection (void)
{
  const int ids[] = { 1, 6, 7, 10 };
  g_autoptr (GError) error = NULL;
  ScSelection *sel = sc_selection_new_from_ids (ids, 4, 3, 1, 4, &error);
  g_assert_no_error (error);
  g_autoptr (ScExpertSet) set = sc_selection_to_expert_set (sel);
  sc_selection_free (sel);
  const guint8 want[12] = { 0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0 };
  g_assert_cmpint (sc_expert_set_n_moe_layers (set), ==, 3);
  g_assert_cmpint (sc_expert_set_n_experts (set), ==, 4);
  g_assert_cmpmem (sc_expert_set_get_keep (set), 12, want, 12);
}

/* The union over directions and languages, as `export --pairs/--langs`. */
static void
test_from_index (void)
{
  g_autoptr (GError) error = NULL;
  /* 2 MoE layers (1 encoder, 1 decoder) x 4 experts: ids 0..3 encoder */
  g_autoptr (ScExpertIndex) idx = sc_expert_index_new (2, 1, 4);
  const int eng[] = { 0, 4 }, fra[] = { 1, 5 }, deu[] = { 2, 6 };
  g_assert_true (sc_expert_index_set (idx, "eng_Latn", eng, 2, &error));
  g_assert_true (sc_expert_index_set (idx, "fra_Latn", fra, 2, &error));
  g_assert_true (sc_expert_index_set (idx, "deu_Latn", deu, 2, &error));

  /* one direction: the source's encoder ids, the target's decoder ids */
  const char *one[] = { "eng_Latn-fra_Latn", NULL };
  g_autoptr (ScExpertSet) s1 = sc_expert_index_to_expert_set (idx, one, &error);
  g_assert_no_error (error);
  const guint8 w1[8] = { 1, 0, 0, 0, 0, 1, 0, 0 };
  g_assert_cmpmem (sc_expert_set_get_keep (s1), 8, w1, 8);

  /* two directions: the union */
  const char *two[] = { "eng_Latn-fra_Latn", "deu_Latn-eng_Latn", NULL };
  g_autoptr (ScExpertSet) s2 = sc_expert_index_to_expert_set (idx, two, &error);
  g_assert_no_error (error);
  const guint8 w2[8] = { 1, 0, 1, 0, 1, 1, 0, 0 };
  g_assert_cmpmem (sc_expert_set_get_keep (s2), 8, w2, 8);

  /* languages: every direction among them */
  const char *langs[] = { "eng_Latn", "deu_Latn", NULL };
  g_autoptr (ScExpertSet) s3 = sc_expert_index_to_expert_set (idx, langs, &error);
  g_assert_no_error (error);
  const guint8 w3[8] = { 1, 0, 1, 0, 1, 0, 1, 0 };
  g_assert_cmpmem (sc_expert_set_get_keep (s3), 8, w3, 8);

  /* a missing language is an error, not an empty set */
  const char *missing[] = { "eng_Latn-zul_Latn", NULL };
  g_assert_null (sc_expert_index_to_expert_set (idx, missing, &error));
  g_assert_error (error, SC_EXPERT_INDEX_ERROR, SC_EXPERT_INDEX_ERROR_NOT_FOUND);
}

static void
test_keep_file (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("secateur-keep-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *path = g_build_filename (tmp, "KEEP.json", NULL);
  g_assert_true (g_file_set_contents (path, "[[0, 2], [3]]", -1, &error));
  g_autoptr (ScExpertSet) set = sc_expert_set_load_keep (path, 2, 4, &error);
  g_assert_no_error (error);
  const guint8 want[8] = { 1, 0, 1, 0, 0, 0, 0, 1 };
  g_assert_cmpmem (sc_expert_set_get_keep (set), 8, want, 8);
  g_assert_true (g_file_set_contents (path, "[[0, 9], [3]]", -1, &error));
  g_assert_null (sc_expert_set_load_keep (path, 2, 4, &error));
  g_assert_nonnull (error);
  g_unlink (path);
  g_rmdir (tmp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/expert-set/full-and-counts", test_full_and_counts);
  g_test_add_func ("/expert-set/union-equal", test_union_equal);
  g_test_add_func ("/expert-set/refcount", test_refcount);
  g_test_add_func ("/expert-set/from-selection", test_from_selection);
  g_test_add_func ("/expert-set/from-index", test_from_index);
  g_test_add_func ("/expert-set/keep-file", test_keep_file);
  return g_test_run ();
}
