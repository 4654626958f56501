/* test-json-write.c: the JSON serialiser every writer uses gives valid JSON
 * that reads back exactly, and refuses NaN and infinity naming where. */
#include "sc-json-write.h"
#include "sc-tensor.h"

#include <float.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

/* Each double written alone reads back (json-glib and strtod) to itself,
 * and stays a double. */
static void
test_doubles (void)
{
  const double values[] = { 0.0,     -0.0,    1.0,    -3.0, 0.1,
                            1.0 / 3, 1e308,   -1e308, 1e17, 1e22,
                            DBL_MAX, DBL_MIN, 5e-324, 1e-5, 123456789012345678.0,
                            2.5 };
  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      g_autoptr (GString) s = g_string_new (NULL);
      sc_json_append_double (s, values[i]);
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonNode) back = json_from_string (s->str, &error);
      g_assert_no_error (error);
      g_assert_cmpint (json_node_get_value_type (back), ==, G_TYPE_DOUBLE);
      g_assert_cmpfloat (json_node_get_double (back), ==, values[i]);
      g_assert_cmpfloat (g_ascii_strtod (s->str, NULL), ==, values[i]);
      g_assert_cmpint (signbit (json_node_get_double (back)), ==, signbit (values[i]));
    }
  g_autoptr (GString) s = g_string_new (NULL);
  sc_json_append_double (s, 1e308);
  g_assert_cmpstr (s->str, ==, "1.0e+308");
  g_string_truncate (s, 0);
  sc_json_append_double (s, 3.0);
  g_assert_cmpstr (s->str, ==, "3.0");
}

static const char *doc =
    "{\"name\":\"x\\\"\\\\\\n\\t\\u0001/\xc3\xa9\",\"n\":-7,\"big\":9007199254740993,"
    "\"list\":[1,2.5,null,true,false,[],[[1],[2,3]]],\"empty\":{},"
    "\"nested\":{\"a\":{\"b\":0.10000000000000001}}}";

/* Documents without doubles json-glib mangles come out as json-glib's own
 * text (compact), and pretty text parses back to the same tree. */
static void
test_matches_json_glib (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) root = json_from_string (doc, &error);
  g_assert_no_error (error);
  gsize len = 0;
  g_autofree char *mine = sc_json_to_data (root, FALSE, &len, &error);
  g_assert_no_error (error);
  g_autofree char *theirs = json_to_string (root, FALSE);
  g_assert_cmpstr (mine, ==, theirs);
  g_assert_cmpuint (len, ==, strlen (mine));

  g_autofree char *pretty = sc_json_to_data (root, TRUE, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (pretty, "\n  \"nested\" : {\n    \"a\" : {\n      \"b\" : "));
  g_autoptr (JsonNode) back = json_from_string (pretty, &error);
  g_assert_no_error (error);
  g_assert_true (json_node_equal (root, back));
}

/* NaN and infinities: an error naming the member, and nothing written over
 * the file that was there. */
static void
test_non_finite (void)
{
  const double bad[] = { NAN, INFINITY, -INFINITY };
  const char *what[] = { "NaN", "infinite", "infinite" };
  g_autofree char *dir = g_dir_make_tmp ("sc-json-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "report.json", NULL);
  g_assert_true (g_file_set_contents (path, "{\"good\":1}", -1, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "scores");
      json_builder_begin_array (b);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "nll");
      json_builder_add_double_value (b, 1.5);
      json_builder_end_object (b);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "nll");
      json_builder_add_double_value (b, bad[i]);
      json_builder_end_object (b);
      json_builder_end_array (b);
      json_builder_end_object (b);
      g_autoptr (JsonNode) root = json_builder_get_root (b);
      g_autoptr (GError) error = NULL;
      g_assert_null (sc_json_to_data (root, TRUE, NULL, &error));
      g_assert_error (error, SC_ERROR, SC_ERROR_NOT_FINITE);
      g_assert_nonnull (strstr (error->message, "scores[1].nll"));
      g_assert_nonnull (strstr (error->message, what[i]));
      g_clear_error (&error);

      g_assert_false (sc_json_save (root, TRUE, path, &error));
      g_assert_error (error, SC_ERROR, SC_ERROR_NOT_FINITE);
      g_assert_nonnull (strstr (error->message, path));
      g_autofree char *text = NULL;
      g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
      g_assert_cmpstr (text, ==, "{\"good\":1}");
    }
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/json-write/doubles", test_doubles);
  g_test_add_func ("/json-write/matches-json-glib", test_matches_json_glib);
  g_test_add_func ("/json-write/non-finite", test_non_finite);
  return g_test_run ();
}
