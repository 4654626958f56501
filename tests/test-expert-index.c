/* test-expert-index.c: the authors' expert index JSON: round trip, global
 * ids (moe_layer * 128 + expert, encoder MoE layers first), composition for
 * a pair from per-language entries, and errors. */
#include "sc-test-util.h"
#include "sc-expert-index.h"
#include "sc-selection.h"

#include <glib/gstdio.h>
#include <string.h>

static void
test_round_trip (void)
{
  g_autoptr (ScExpertIndex) idx = sc_expert_index_new (12, 6, 128);
  int eng[] = { 5, 3, 3, 700, 768, 1535 };
  int fra[] = { 0, 767, 900 };
  int pair[] = { 1, 2, 800 };
  g_autoptr (GError) error = NULL;
  g_assert_true (sc_expert_index_set (idx, "eng_Latn", eng, G_N_ELEMENTS (eng), &error));
  g_assert_true (sc_expert_index_set (idx, "fra_Latn", fra, G_N_ELEMENTS (fra), &error));
  g_assert_true (sc_expert_index_set (idx, "eng_Latn-fra_Latn", pair, 3, &error));
  g_assert_no_error (error);
  GArray *e = sc_expert_index_get (idx, "eng_Latn");
  g_assert_cmpuint (e->len, ==, 5); /* sorted, deduplicated */
  g_assert_cmpint (g_array_index (e, int, 0), ==, 3);
  g_assert_cmpint (g_array_index (e, int, 4), ==, 1535);

  gsize len;
  g_autofree char *json = sc_expert_index_to_json (idx, &len);
  g_assert_cmpstr (json, ==,
                   "{\"eng_Latn\":[3,5,700,768,1535],\"eng_Latn-fra_Latn\":[1,2,800],"
                   "\"fra_Latn\":[0,767,900]}");
  g_autofree char *dir = g_dir_make_tmp ("sc-index-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "experts.json", NULL);
  g_assert_true (sc_expert_index_save (idx, path, &error));
  g_autoptr (ScExpertIndex) back = sc_expert_index_load (path, 12, 6, 128, &error);
  g_assert_no_error (error);
  g_autofree char *json2 = sc_expert_index_to_json (back, NULL);
  g_assert_cmpstr (json, ==, json2);
  g_auto (GStrv) keys = sc_expert_index_keys (back);
  g_assert_cmpuint (g_strv_length (keys), ==, 3);
  g_unlink (path);
  g_rmdir (dir);

  /* a plain list: global */
  g_autoptr (ScExpertIndex) glob =
      sc_expert_index_from_json ("[9, 1, 1000]", -1, 12, 6, 128, &error);
  g_assert_no_error (error);
  g_assert_true (sc_expert_index_is_global (glob));
  g_autoptr (GArray) any = sc_expert_index_for_pair (glob, "zul_Latn", "eng_Latn", &error);
  g_assert_cmpuint (any->len, ==, 3);
  g_assert_cmpint (g_array_index (any, int, 0), ==, 1);
  g_autofree char *gj = sc_expert_index_to_json (glob, NULL);
  g_assert_cmpstr (gj, ==, "[1,9,1000]");
}

static void
test_pair_composition (void)
{
  /* Authors' numbering: 768 = 6 encoder MoE layers x 128 splits encoder and
   * decoder ids. eng: encoder experts 3 and 700, decoder 768 and 1535;
   * fra: encoder 0 and 767, decoder 900. */
  g_autoptr (GError) error = NULL;
  g_autoptr (ScExpertIndex) idx =
      sc_expert_index_from_json ("{\"eng_Latn\": [3, 700, 768, 1535], \"fra_Latn\": [0, 767, 900],"
                                 " \"deu_Latn-fra_Latn\": [5, 6]}",
                                 -1, 12, 6, 128, &error);
  g_assert_no_error (error);
  g_autoptr (GArray) ef = sc_expert_index_for_pair (idx, "eng_Latn", "fra_Latn", &error);
  int want_ef[] = { 3, 700, 900 };
  g_assert_cmpuint (ef->len, ==, 3);
  for (int i = 0; i < 3; i++)
    g_assert_cmpint (g_array_index (ef, int, i), ==, want_ef[i]);
  g_autoptr (GArray) fe = sc_expert_index_for_pair (idx, "fra_Latn", "eng_Latn", &error);
  int want_fe[] = { 0, 767, 768, 1535 };
  g_assert_cmpuint (fe->len, ==, 4);
  for (int i = 0; i < 4; i++)
    g_assert_cmpint (g_array_index (fe, int, i), ==, want_fe[i]);
  /* a pair's own entry wins */
  g_autoptr (GArray) df = sc_expert_index_for_pair (idx, "deu_Latn", "fra_Latn", &error);
  g_assert_cmpuint (df->len, ==, 2);
  /* missing language */
  g_autoptr (GArray) none = sc_expert_index_for_pair (idx, "deu_Latn", "eng_Latn", &error);
  g_assert_null (none);
  g_assert_error (error, SC_EXPERT_INDEX_ERROR, SC_EXPERT_INDEX_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "deu_Latn"));
}

/* A per-language index at 80% built by the 3:1 selection has the shape of
 * the authors' experts.json: 288 ids, 36 per encoder and 12 per decoder layer. */
static void
test_from_selection (void)
{
  g_autofree double *m = g_new (double, 1536);
  for (int i = 0; i < 1536; i++)
    m[i] = (i * 7919) % 1000;
  ScSelectOptions opt;
  sc_select_options_init (&opt);
  g_autoptr (ScSelection) sel = sc_select_experts (m, 12, 6, 128, &opt, NULL);
  g_autoptr (ScExpertIndex) idx = sc_expert_index_new (12, 6, 128);
  g_assert_true (sc_expert_index_set (idx, "eng_Latn", (int *) sel->global_ids->data,
                                      sel->global_ids->len, NULL));
  GArray *ids = sc_expert_index_get (idx, "eng_Latn");
  g_assert_cmpuint (ids->len, ==, 288);
  int enc = 0;
  for (guint i = 0; i < ids->len; i++)
    enc += g_array_index (ids, int, i) < 768;
  g_assert_cmpint (enc, ==, 216);
  g_autoptr (ScSelection) back =
      sc_selection_new_from_ids ((int *) ids->data, ids->len, 12, 6, 128, NULL);
  for (int l = 0; l < 12; l++)
    g_assert_cmpuint (back->kept[l]->len, ==, l < 6 ? 36 : 12);
}

/* Several directions in one model: English into Romanian, French and
 * Chinese keeps English's encoder experts and the three targets' decoder
 * experts — not the sources' encoder experts of the other languages. */
static void
test_several_directions (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ScExpertIndex) idx =
      sc_expert_index_from_json ("{\"eng_Latn\": [1, 200, 800, 1000], \"ron_Latn\": [2, 300, 900],"
                                 " \"fra_Latn\": [3, 801, 1001], \"zho_Hans\": [4, 1100]}",
                                 -1, 12, 6, 128, &error);
  g_assert_no_error (error);
  const char *one_to_many[] = { "eng_Latn-ron_Latn", "eng_Latn-fra_Latn", "eng_Latn-zho_Hans",
                                NULL };
  g_autoptr (GArray) ids = sc_expert_index_for_pairs (idx, one_to_many, &error);
  g_assert_no_error (error);
  int want[] = { 1, 200, 801, 900, 1001, 1100 };
  g_assert_cmpmem (ids->data, ids->len * sizeof (int), want, sizeof want);
  /* one direction: what for_pair gives */
  const char *single[] = { "ron_Latn-eng_Latn", NULL };
  g_autoptr (GArray) re = sc_expert_index_for_pairs (idx, single, &error);
  int want_re[] = { 2, 300, 800, 1000 };
  g_assert_cmpmem (re->data, re->len * sizeof (int), want_re, sizeof want_re);

  /* a direction's own entry counts whole, beside composed ones */
  g_autoptr (ScExpertIndex) mixed =
      sc_expert_index_from_json ("{\"eng_Latn\": [1, 200, 800], \"fra_Latn\": [3, 801, 1001],"
                                 " \"eng_Latn-ron_Latn\": [5, 950]}",
                                 -1, 12, 6, 128, &error);
  g_assert_no_error (error);
  const char *two[] = { "eng_Latn-ron_Latn", "eng_Latn-fra_Latn", NULL };
  g_autoptr (GArray) m = sc_expert_index_for_pairs (mixed, two, &error);
  int want_m[] = { 1, 5, 200, 801, 950, 1001 };
  g_assert_cmpmem (m->data, m->len * sizeof (int), want_m, sizeof want_m);

  /* a global list serves every direction */
  g_autoptr (ScExpertIndex) glob = sc_expert_index_from_json ("[7, 900]", -1, 12, 6, 128, &error);
  g_autoptr (GArray) g = sc_expert_index_for_pairs (glob, one_to_many, &error);
  g_assert_cmpuint (g->len, ==, 2);

  const char *missing[] = { "eng_Latn-fra_Latn", "eng_Latn-deu_Latn", NULL };
  g_assert_null (sc_expert_index_for_pairs (idx, missing, &error));
  g_assert_error (error, SC_EXPERT_INDEX_ERROR, SC_EXPERT_INDEX_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "deu_Latn"));
  g_clear_error (&error);
  const char *bad[] = { "eng_Latn", NULL };
  g_assert_null (sc_expert_index_for_pairs (idx, bad, &error));
  g_assert_error (error, SC_EXPERT_INDEX_ERROR, SC_EXPERT_INDEX_ERROR_INVALID);
}

/* The authors' readers look up only the keys they need, so their files may
 * hold others ("X" aggregates, notes): those are skipped and listed. */
static void
test_ignored_keys (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ScExpertIndex) idx =
      sc_expert_index_from_json ("{\"eng_Latn\": [1, 900], \"xx_Yyyy\": [1], \"eng_Latn-X\": [2],"
                                 " \"note\": {\"ratio\": 0.8}, \"fra_Latn\": [3, 800]}",
                                 -1, 12, 6, 128, &error);
  g_assert_no_error (error);
  g_auto (GStrv) ignored = sc_expert_index_ignored_keys (idx);
  g_assert_cmpuint (g_strv_length (ignored), ==, 3);
  g_assert_cmpstr (ignored[0], ==, "xx_Yyyy");
  g_assert_cmpstr (ignored[1], ==, "eng_Latn-X");
  g_assert_cmpstr (ignored[2], ==, "note");
  g_auto (GStrv) keys = sc_expert_index_keys (idx);
  g_assert_cmpuint (g_strv_length (keys), ==, 2);
  g_autoptr (GArray) ef = sc_expert_index_for_pair (idx, "eng_Latn", "fra_Latn", &error);
  int want[] = { 1, 800 };
  g_assert_cmpmem (ef->data, ef->len * sizeof (int), want, sizeof want);
  /* written back without them */
  g_autofree char *json = sc_expert_index_to_json (idx, NULL);
  g_assert_cmpstr (json, ==, "{\"eng_Latn\":[1,900],\"fra_Latn\":[3,800]}");
  /* a file read clean has none; setting an unknown key is still refused */
  g_autoptr (ScExpertIndex) clean = sc_expert_index_from_json (json, -1, 12, 6, 128, &error);
  g_auto (GStrv) none = sc_expert_index_ignored_keys (clean);
  g_assert_cmpuint (g_strv_length (none), ==, 0);
  int one = 1;
  g_assert_false (sc_expert_index_set (clean, "xx_Yyyy", &one, 1, &error));
  g_assert_error (error, SC_EXPERT_INDEX_ERROR, SC_EXPERT_INDEX_ERROR_UNKNOWN_KEY);
}

static void
test_errors (void)
{
  struct
  {
    const char *json;
    int code;
    const char *needle;
  } cases[] = {
    { "{\"eng_Latn\": [1, 1536]}", SC_EXPERT_INDEX_ERROR_RANGE, "1536" },
    { "[-1]", SC_EXPERT_INDEX_ERROR_RANGE, "-1" },
    { "{\"eng_Latn\": [1.5]}", SC_EXPERT_INDEX_ERROR_INVALID, "eng_Latn" },
    { "{\"eng_Latn\": 3}", SC_EXPERT_INDEX_ERROR_INVALID, "eng_Latn" },
    { "\"x\"", SC_EXPERT_INDEX_ERROR_INVALID, "list" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (ScExpertIndex) idx =
          sc_expert_index_from_json (cases[i].json, -1, 12, 6, 128, &error);
      g_assert_null (idx);
      g_assert_error (error, SC_EXPERT_INDEX_ERROR, cases[i].code);
      g_assert_nonnull (strstr (error->message, cases[i].needle));
    }
  g_autoptr (GError) error = NULL;
  g_assert_null (sc_expert_index_from_json ("{", -1, 12, 6, 128, &error));
  g_assert_nonnull (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/expert-index/round-trip", test_round_trip);
  g_test_add_func ("/expert-index/pair-composition", test_pair_composition);
  g_test_add_func ("/expert-index/from-selection", test_from_selection);
  g_test_add_func ("/expert-index/several-directions", test_several_directions);
  g_test_add_func ("/expert-index/ignored-keys", test_ignored_keys);
  g_test_add_func ("/expert-index/errors", test_errors);
  return g_test_run ();
}
