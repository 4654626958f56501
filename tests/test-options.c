/* test-options.c: model and generation options as transformers applies
 * them. Goldens from tools/make_option_goldens.py: transformers loads a
 * fixture whose config.json / generation_config.json carry the options and
 * runs generate(); Secateur loads the same files and must give the same
 * tokens (greedy and beam, one sentence and a padded batch) or refuse with
 * the recorded message. And every key transformers reads
 * (tools/hf-keys.json) is honoured, refused, noted or documented as
 * irrelevant (engine/model/sc-config-keys.c). */
#include "sc-config-keys.h"
#include "sc-generate.h"
#include "sc-model.h"
#include "sc-test-golden.h"
#include "sc-test-util.h"

#include <glib/gstdio.h>
#include <string.h>

static JsonNode *goldens;
static char *tmp_root;

/* A copy of the model at `path` (from the source root; links to its files) whose config.json has
 * `config`'s members set and whose generation_config.json is `gen`
 * (absent when NULL; null members left out, as the generator does). */
static char *
make_model_dir (const char *path, const char *tag, JsonObject *config, JsonObject *gen)
{
  g_autofree char *src = sc_test_path (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *leaf = g_strdup_printf ("%s-%s", base, tag);
  char *dir = g_build_filename (tmp_root, leaf, NULL);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_autoptr (GDir) d = g_dir_open (src, 0, NULL);
  g_assert_nonnull (d);
  const char *f;
  while ((f = g_dir_read_name (d)) != NULL)
    {
      if (g_str_equal (f, "config.json") || g_str_equal (f, "generation_config.json"))
        continue;
      g_autofree char *from = g_build_filename (src, f, NULL);
      g_autofree char *to = g_build_filename (dir, f, NULL);
      if (!g_file_test (to, G_FILE_TEST_EXISTS))
        g_assert_cmpint (symlink (from, to), ==, 0);
    }
  g_autofree char *cfg_path = g_build_filename (src, "config.json", NULL);
  g_autoptr (JsonNode) cfg = sc_test_load_json (cfg_path);
  JsonObject *co = json_node_get_object (cfg);
  if (config != NULL)
    {
      g_autoptr (GList) members = json_object_get_members (config);
      for (GList *l = members; l != NULL; l = l->next)
        json_object_set_member (co, l->data,
                                json_node_copy (json_object_get_member (config, l->data)));
    }
  g_autofree char *cfg_text = json_to_string (cfg, TRUE);
  g_autofree char *out = g_build_filename (dir, "config.json", NULL);
  g_assert_true (g_file_set_contents (out, cfg_text, -1, NULL));
  g_autofree char *gen_out = g_build_filename (dir, "generation_config.json", NULL);
  g_unlink (gen_out);
  if (gen != NULL)
    {
      g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
      JsonObject *go = json_object_new ();
      g_autoptr (GList) members = json_object_get_members (gen);
      for (GList *l = members; l != NULL; l = l->next)
        if (!json_node_is_null (json_object_get_member (gen, l->data)))
          json_object_set_member (go, l->data,
                                  json_node_copy (json_object_get_member (gen, l->data)));
      json_node_take_object (node, go);
      g_autofree char *text = json_to_string (node, TRUE);
      g_assert_true (g_file_set_contents (gen_out, text, -1, NULL));
    }
  return dir;
}

static JsonObject *
member_object (JsonObject *o, const char *key)
{
  JsonNode *n = json_object_get_member (o, key);
  return n != NULL && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

typedef struct
{
  const char *fixture, *path;
  JsonObject *c;
  JsonArray *inputs; /* the fixture's input batches, by name */
} Case;

static JsonObject *
find_input (JsonArray *inputs, const char *name)
{
  for (guint i = 0; i < json_array_get_length (inputs); i++)
    {
      JsonObject *o = json_array_get_object_element (inputs, i);
      if (g_str_equal (json_object_get_string_member (o, "name"), name))
        return o;
    }
  g_error ("no input %s", name);
  return NULL;
}

static void
test_case (gconstpointer data)
{
  const Case *tc = data;
  JsonObject *c = tc->c;
  const char *name = json_object_get_string_member (c, "name");
  g_autofree char *src = sc_test_path (tc->path);
  if (!g_file_test (src, G_FILE_TEST_IS_DIR))
    {
      g_test_skip ("model absent");
      return;
    }
  g_autofree char *dir = make_model_dir (tc->path, name, member_object (c, "config"),
                                         member_object (c, "generation_config"));
  g_autoptr (GError) error = NULL;
  g_autoptr (ScModel) model = sc_model_load (dir, NULL, &error);
  g_autoptr (ScView) view = model ? sc_view_new (model, NULL, NULL) : NULL;

  if (json_object_has_member (c, "refused"))
    {
      g_assert_null (model);
      g_assert_nonnull (error);
      g_autofree char *want =
          g_strdup_printf ("%s: %s", dir, json_object_get_string_member (c, "refused"));
      g_assert_cmpstr (error->message, ==, want);
      return;
    }
  g_assert_no_error (error);

  JsonArray *runs = json_object_get_array_member (c, "runs");
  g_assert_cmpuint (json_array_get_length (runs), ==, 2);
  for (guint i = 0; i < json_array_get_length (runs); i++)
    {
      JsonObject *r = json_array_get_object_element (runs, i);
      JsonObject *in = find_input (tc->inputs, json_object_get_string_member (r, "input"));
      int B, S;
      g_autofree int *lengths = NULL;
      g_autoptr (GArray) ids = case_inputs (in, &B, &S, &lengths);
      g_autoptr (ScEncoding) enc = sc_view_encode (view, (int *) ids->data, lengths, B, S, &error);
      g_assert_no_error (error);
      ScGenerateOptions opts;
      sc_generate_options_init_hf (&opts, model);
      opts.forced_bos_id = json_object_get_int_member (in, "tgt_lang_id");
      /* the n best per sentence, in transformers' order */
      int per = sc_model_get_config (model)->num_return_sequences;
      opts.num_return_sequences = per;
      g_autoptr (GPtrArray) out = sc_generate (view, enc, &opts, NULL, &error);
      g_assert_no_error (error);
      int gb, gl;
      g_autoptr (GArray) gold =
          sc_test_int_matrix (json_object_get_array_member (r, "ids"), &gb, &gl);
      g_assert_cmpint (gb, ==, B * per);
      g_assert_cmpuint (out->len, ==, B * per);
      for (int b = 0; b < B * per; b++)
        {
          g_autofree char *what = g_strdup_printf ("%s %s %s row %d", tc->fixture, name,
                                                   json_object_get_string_member (in, "name"), b);
          assert_same_tokens (what, g_ptr_array_index (out, b), &g_array_index (gold, int, b *gl),
                              gl);
        }
    }

  if (g_str_equal (name, "default-max-length"))
    {
      /* transformers' 20 for parity; Secateur's own default is longer */
      ScGenerateOptions opts;
      sc_generate_options_init_hf (&opts, model);
      g_assert_cmpint (opts.max_length, ==, 20);
      sc_generate_options_init (&opts, model);
      g_assert_cmpint (opts.max_length, ==, SC_GENERATE_DEFAULT_MAX_LENGTH);
      g_assert_true (sc_model_get_config (model)->max_length_is_default);
    }
}

/* The fixtures' generation_config.json with max_length 24. */
static JsonObject *
plain_generation (void)
{
  JsonObject *gen = json_object_new ();
  json_object_set_int_member (gen, "bos_token_id", 0);
  json_object_set_int_member (gen, "decoder_start_token_id", 2);
  json_object_set_int_member (gen, "eos_token_id", 2);
  json_object_set_int_member (gen, "pad_token_id", 1);
  json_object_set_int_member (gen, "max_length", 24);
  return gen;
}

/* A generation_config.json in effect must name the special tokens that
 * transformers would otherwise not use (it takes none from config.json). */
static void
test_special_tokens (void)
{
  static const struct
  {
    const char *drop, *set, *message;
  } cases[] = {
    { "eos_token_id", NULL,
      "generation_config.json sets no eos_token_id: transformers then never stops at </s>, "
      "unlike Secateur (add the model's to the file)" },
    { "decoder_start_token_id", NULL,
      "generation_config.json sets no decoder_start_token_id: transformers then starts the "
      "decoder with bos_token_id, unlike Secateur (add the model's to the file)" },
    { NULL, "eos_token_id",
      "generation_config.json: eos_token_id = 7 differs from the model's 2; Secateur decodes "
      "with the model's special tokens only" },
    { NULL, "pad_token_id",
      "generation_config.json: pad_token_id = 7 differs from the model's 1; Secateur decodes "
      "with the model's special tokens only" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (JsonObject) gen = plain_generation ();
      if (cases[i].drop != NULL)
        json_object_remove_member (gen, cases[i].drop);
      if (cases[i].set != NULL)
        json_object_set_int_member (gen, cases[i].set, 7);
      g_autofree char *tag = g_strdup_printf ("special-%u", i);
      g_autofree char *dir = make_model_dir ("tests/fixtures/nllb-moe-tiny", tag, NULL, gen);
      g_autoptr (GError) error = NULL;
      g_autoptr (ScModel) model = sc_model_load (dir, NULL, &error);
      g_assert_null (model);
      g_autofree char *want = g_strdup_printf ("%s: %s", dir, cases[i].message);
      g_assert_cmpstr (error->message, ==, want);
    }
  /* an eos list of one is the same token */
  g_autoptr (JsonObject) gen = plain_generation ();
  json_object_set_member (gen, "eos_token_id", json_from_string ("[2]", NULL));
  g_autofree char *dir = make_model_dir ("tests/fixtures/nllb-moe-tiny", "eos-list", NULL, gen);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScModel) model = sc_model_load (dir, NULL, &error);
  g_assert_no_error (error);
}

/* Every key of the pinned transformers' lists has an entry. */
static void
test_keys_listed (void)
{
  g_autofree char *path = sc_test_path ("tools/hf-keys.json");
  g_autoptr (JsonNode) doc = sc_test_load_json (path);
  JsonObject *o = json_node_get_object (doc);
  g_assert_cmpstr (json_object_get_string_member (o, "transformers"), ==, "4.40.2");
  static const struct
  {
    const char *list;
    ScKeyScope scope;
  } lists[] = {
    { "nllb_moe", SC_KEY_MODEL | SC_KEY_GENERATION },
    { "m2m_100", SC_KEY_MODEL | SC_KEY_GENERATION },
    { "generation", SC_KEY_GENERATION },
  };
  guint total = 0;
  for (guint l = 0; l < G_N_ELEMENTS (lists); l++)
    {
      JsonArray *keys = json_object_get_array_member (o, lists[l].list);
      g_assert_cmpuint (json_array_get_length (keys), >, 40);
      for (guint i = 0; i < json_array_get_length (keys); i++)
        {
          const char *key = json_array_get_string_element (keys, i);
          const ScConfigKey *k = sc_config_key_lookup (key, lists[l].scope);
          if (k == NULL)
            g_error ("%s key \"%s\" is read by transformers but Secateur says nothing of it",
                     lists[l].list, key);
          if (k->use == SC_KEY_IRRELEVANT)
            g_assert_true (k->why != NULL && strlen (k->why) > 4);
          if (k->use == SC_KEY_REFUSED || k->use == SC_KEY_NOTED)
            g_assert_true (k->accepted != NULL && k->probe != NULL && k->why != NULL);
          total++;
        }
    }
  g_test_message ("%u keys checked", total);
}

/* Each refused key is refused with its reason, each noted one said. */
static void
test_keys_refused (void)
{
  guint n;
  const ScConfigKey *keys = sc_config_keys (&n);
  guint refused = 0, noted = 0;
  for (guint i = 0; i < n; i++)
    {
      const ScConfigKey *k = &keys[i];
      if (k->use != SC_KEY_REFUSED && k->use != SC_KEY_NOTED)
        continue;
      gboolean model_key = k->scope == SC_KEY_MODEL;
      g_autoptr (JsonObject) set = json_object_new ();
      json_object_set_member (set, k->key, json_from_string (k->probe, NULL));
      g_autoptr (JsonObject) gen = plain_generation ();
      if (!model_key)
        json_object_set_member (gen, k->key, json_from_string (k->probe, NULL));
      g_autofree char *tag = g_strdup_printf ("key-%s", k->key);
      g_autofree char *dir =
          make_model_dir ("tests/fixtures/nllb-moe-tiny", tag, model_key ? set : NULL, gen);
      g_autoptr (JsonNode) probe = json_from_string (k->probe, NULL);
      g_autofree char *value = json_to_string (probe, FALSE);
      g_autofree char *msg = g_strdup_printf (
          "%s: %s = %s is %s: %s", model_key ? "config.json" : "generation_config.json", k->key,
          value, k->use == SC_KEY_REFUSED ? "not supported" : "ignored", k->why);
      g_autoptr (GError) error = NULL;
      g_autoptr (ScModel) model = sc_model_load (dir, NULL, &error);
      if (k->use == SC_KEY_REFUSED)
        {
          g_assert_null (model);
          g_assert_nonnull (error);
          g_autofree char *want = g_strdup_printf ("%s: %s", dir, msg);
          g_assert_cmpstr (error->message, ==, want);
          refused++;
          continue;
        }
      g_assert_no_error (error);
      const ScConfig *c = sc_model_get_config (model);
      g_assert_cmpuint (c->notices->len, ==, 1);
      g_assert_cmpstr (g_ptr_array_index (c->notices, 0), ==, msg);
      noted++;
    }
  g_assert_cmpuint (refused, >=, 9);
  g_assert_cmpuint (noted, >=, 2);
}

/* Keys transformers does not use are not refused: config.json's generation
 * keys when generation_config.json replaces them, MoE keys of a dense
 * model. */
static void
test_keys_not_in_effect (void)
{
  g_autoptr (JsonObject) config = json_object_new ();
  json_object_set_int_member (config, "num_return_sequences", 3);
  json_object_set_int_member (config, "no_repeat_ngram_size", 2);
  g_autoptr (JsonObject) gen = plain_generation ();
  g_autofree char *dir =
      make_model_dir ("tests/fixtures/nllb-moe-tiny", "not-in-effect", config, gen);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScModel) model = sc_model_load (dir, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sc_model_get_config (model)->no_repeat_ngram_size, ==, 0);
  g_assert_cmpint (sc_model_get_config (model)->max_length, ==, 24);

  /* the same in a file marked _from_model_config: rebuilt from config.json,
   * which transformers then refuses no more than Secateur runs it */
  json_object_set_boolean_member (gen, "_from_model_config", TRUE);
  g_autofree char *dir2 =
      make_model_dir ("tests/fixtures/nllb-moe-tiny", "from-model", config, gen);
  g_autoptr (ScModel) model2 = sc_model_load (dir2, NULL, &error);
  g_assert_null (model2);
  g_assert_nonnull (strstr (error->message, "config.json: num_return_sequences = 3 needs as many "
                                            "beams (num_beams is 1)"));
  g_clear_error (&error);

  g_autoptr (JsonObject) moe = json_object_new ();
  json_object_set_string_member (moe, "router_dtype", "bfloat16");
  json_object_set_double_member (moe, "moe_eval_capacity_token_fraction", 0.25);
  g_autofree char *dir3 = make_model_dir ("tests/fixtures/m2m-tiny", "moe-keys", moe, gen);
  g_autoptr (ScModel) model3 = sc_model_load (dir3, NULL, &error);
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  tmp_root = g_dir_make_tmp ("secateur-options-XXXXXX", NULL);
  g_assert_nonnull (tmp_root);
  g_autofree char *path = sc_test_path ("tests/goldens/options/cases.json");
  goldens = sc_test_load_json (path);
  JsonArray *fixtures = json_object_get_array_member (json_node_get_object (goldens), "fixtures");
  g_autoptr (GPtrArray) cases = g_ptr_array_new_with_free_func (g_free);
  for (guint f = 0; f < json_array_get_length (fixtures); f++)
    {
      JsonObject *fo = json_array_get_object_element (fixtures, f);
      JsonArray *cs = json_object_get_array_member (fo, "cases");
      for (guint i = 0; i < json_array_get_length (cs); i++)
        {
          Case *tc = g_new (Case, 1);
          tc->fixture = json_object_get_string_member (fo, "fixture");
          tc->path = json_object_get_string_member (fo, "path");
          tc->c = json_array_get_object_element (cs, i);
          tc->inputs = json_object_get_array_member (fo, "inputs");
          g_ptr_array_add (cases, tc);
          g_autofree char *tp = g_strdup_printf ("/options/%s/%s", tc->fixture,
                                                 json_object_get_string_member (tc->c, "name"));
          g_test_add_data_func (tp, tc, test_case);
        }
    }
  g_test_add_func ("/options/keys/listed", test_keys_listed);
  g_test_add_func ("/options/keys/refused", test_keys_refused);
  g_test_add_func ("/options/keys/not-in-effect", test_keys_not_in_effect);
  g_test_add_func ("/options/keys/special-tokens", test_special_tokens);
  int ret = g_test_run ();
  json_node_unref (goldens);
  sc_test_rm_tree (tmp_root);
  g_free (tmp_root);
  return ret;
}
