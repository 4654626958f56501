/* test-prune-settings.c: the application's one set of pruning settings
 * (app/secateur-prune-settings.c): the engine's defaults as properties,
 * notify only on a real change and one `changed` per change, and the
 * controller owning them: its getter, and compare reading them when no
 * settings are passed (the pages pass none). No GTK. */
#include "sc-test-controller.h"
#include "sc-test-util.h"
#include "secateur-controller.h"

typedef struct
{
  int notify_ratio, notify_any, changed;
} Counts;

static void
on_notify_ratio (GObject *object, GParamSpec *pspec, Counts *c)
{
  c->notify_ratio++;
}

static void
on_notify (GObject *object, GParamSpec *pspec, Counts *c)
{
  c->notify_any++;
}

static void
on_changed (SecateurPruneSettings *settings, Counts *c)
{
  c->changed++;
}

static void
test_defaults (void)
{
  g_autoptr (SecateurPruneSettings) settings = secateur_prune_settings_new ();
  ScPruneSettings want, got;
  sc_prune_settings_init (&want);
  secateur_prune_settings_get (settings, &got);
  g_assert_cmpfloat (got.ratio, ==, want.ratio);
  g_assert_cmpint (got.metric, ==, want.metric);
  g_assert_cmpint (got.algo, ==, want.algo);
  g_assert_cmpint (got.granularity, ==, want.granularity);
  g_assert_cmpint (got.enc_weight, ==, want.enc_weight);
  g_assert_cmpint (got.dec_weight, ==, want.dec_weight);
  /* the properties are the same values */
  double ratio;
  int metric, algo, granularity, enc, dec;
  g_object_get (settings, "ratio", &ratio, "metric", &metric, "algo", &algo, "granularity",
                &granularity, "enc-weight", &enc, "dec-weight", &dec, NULL);
  g_assert_cmpfloat (ratio, ==, 0.5);
  g_assert_cmpint (metric, ==, SC_EXPERT_METRIC_IMPORTANCE);
  g_assert_cmpint (algo, ==, SC_SELECT_PER_LAYER);
  g_assert_cmpint (granularity, ==, SC_GRANULARITY_LANG);
  g_assert_cmpint (enc, ==, 3);
  g_assert_cmpint (dec, ==, 1);
}

static void
test_notify (void)
{
  g_autoptr (SecateurPruneSettings) settings = secateur_prune_settings_new ();
  Counts c = { 0 };
  g_signal_connect (settings, "notify::ratio", G_CALLBACK (on_notify_ratio), &c);
  g_signal_connect (settings, "notify", G_CALLBACK (on_notify), &c);
  g_signal_connect (settings, "changed", G_CALLBACK (on_changed), &c);

  g_object_set (settings, "ratio", 0.75, NULL);
  g_assert_cmpint (c.notify_ratio, ==, 1);
  g_assert_cmpint (c.changed, ==, 1);
  g_assert_cmpfloat (secateur_prune_settings_peek (settings)->ratio, ==, 0.75);

  /* the same value again: nothing to follow */
  g_object_set (settings, "ratio", 0.75, NULL);
  g_assert_cmpint (c.notify_ratio, ==, 1);
  g_assert_cmpint (c.notify_any, ==, 1);
  g_assert_cmpint (c.changed, ==, 1);

  /* three fields at once: a notify each, one `changed` */
  ScPruneSettings s;
  secateur_prune_settings_get (settings, &s);
  s.metric = SC_EXPERT_METRIC_REAP;
  s.granularity = SC_GRANULARITY_PAIR;
  s.enc_weight = 2;
  secateur_prune_settings_set (settings, &s);
  g_assert_cmpint (c.notify_any, ==, 1 + 3);
  g_assert_cmpint (c.notify_ratio, ==, 1);
  g_assert_cmpint (c.changed, ==, 2);
  const ScPruneSettings *now = secateur_prune_settings_peek (settings);
  g_assert_cmpint (now->metric, ==, SC_EXPERT_METRIC_REAP);
  g_assert_cmpint (now->granularity, ==, SC_GRANULARITY_PAIR);
  g_assert_cmpint (now->enc_weight, ==, 2);
  g_assert_cmpint (now->dec_weight, ==, 1);
  g_assert_cmpfloat (now->ratio, ==, 0.75);
  int enc;
  g_object_get (settings, "enc-weight", &enc, NULL);
  g_assert_cmpint (enc, ==, 2);
}

/* Experts kept of the compare the controller runs with NULL settings. */
static int
compare_kept (SecateurController *c, ScTestWait *w)
{
  g_autoptr (GError) error = NULL;
  secateur_controller_compare_async (c, "fra_Latn", "eng_Latn", NULL, 1, NULL, NULL, sc_test_got_result, w);
  g_autoptr (GAsyncResult) r = sc_test_wait_result (w);
  g_autoptr (SecateurCompareResult) res = secateur_controller_compare_finish (c, r, &error);
  g_assert_no_error (error);
  g_assert_cmpint (res->experts_total, ==, 64);
  return res->experts_kept;
}

static void
test_controller (void)
{
  g_autoptr (SecateurController) c = secateur_controller_new ();
  SecateurPruneSettings *settings = secateur_controller_get_prune_settings (c);
  g_assert_true (SECATEUR_IS_PRUNE_SETTINGS (settings));
  /* one object for the controller's lifetime, at the defaults */
  g_assert_true (secateur_controller_get_prune_settings (c) == settings);
  g_assert_cmpfloat (secateur_prune_settings_peek (settings)->ratio, ==, 0.5);

  g_autofree char *dir = sc_test_path ("resources/models/demo");
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_test_skip ("the demo model is not shipped");
      return;
    }
  ScTestWait w = { g_main_loop_new (NULL, FALSE) };
  g_autoptr (GError) error = NULL;
  secateur_controller_set_eval_limits (c, 1, 8);
  sc_test_controller_load (c, dir, &w);
  const char *pairs[] = { "fra_Latn-eng_Latn", NULL };
  sc_test_controller_calibrate (c, pairs, SC_CORPUS_UDHR, 8, 0, &w);

  /* per layer, 3:1 over 2 + 2 layers of 16: 50 % keeps 32, 75 % keeps
   * u = floor(16 / 8) = 2 per budget unit, 3 * 2 * 2 + 1 * 2 * 2 = 16 */
  g_assert_cmpint (compare_kept (c, &w), ==, 32);
  g_object_set (settings, "ratio", 0.75, NULL);
  g_assert_cmpint (compare_kept (c, &w), ==, 16);
  /* the global threshold keeps what the engine's plan keeps for them */
  g_object_set (settings, "algo", (int) SC_SELECT_THRESHOLD, NULL);
  g_autofree guint8 *keep =
      sc_prune_keep_mask (secateur_controller_get_stats (c),
                          secateur_prune_settings_peek (settings), "fra_Latn", "eng_Latn", &error);
  g_assert_no_error (error);
  int want = 0;
  for (int i = 0; i < 64; i++)
    want += keep[i] != 0;
  g_assert_cmpint (compare_kept (c, &w), ==, want);
  g_main_loop_unref (w.loop);
}

/* Undo and redo walk the changes back and forth; a run of ratio changes
 * (a slider drag) is one step; a new change clears redo. */
static void
test_undo (void)
{
  g_autoptr (SecateurPruneSettings) settings = secateur_prune_settings_new ();
  ScPruneSettings d;
  sc_prune_settings_init (&d);
  g_assert_false (secateur_prune_settings_can_undo (settings));
  g_assert_false (secateur_prune_settings_undo (settings));
  /* a drag: one step */
  for (int i = 1; i <= 20; i++)
    g_object_set (settings, "ratio", 0.5 + i * 0.02, NULL);
  g_object_set (settings, "metric", (int) SC_EXPERT_METRIC_TOP1, NULL);
  g_object_set (settings, "dec-weight", 2, NULL);
  g_assert_true (secateur_prune_settings_undo (settings));
  g_assert_cmpint (secateur_prune_settings_peek (settings)->dec_weight, ==, d.dec_weight);
  g_assert_cmpint (secateur_prune_settings_peek (settings)->metric, ==, SC_EXPERT_METRIC_TOP1);
  g_assert_true (secateur_prune_settings_undo (settings));
  g_assert_cmpint (secateur_prune_settings_peek (settings)->metric, ==, d.metric);
  g_assert_cmpfloat_with_epsilon (secateur_prune_settings_peek (settings)->ratio, 0.9, 1e-9);
  g_assert_true (secateur_prune_settings_undo (settings));
  g_assert_cmpfloat (secateur_prune_settings_peek (settings)->ratio, ==, d.ratio);
  g_assert_false (secateur_prune_settings_undo (settings));
  /* redo all the way */
  g_assert_true (secateur_prune_settings_redo (settings));
  g_assert_cmpfloat_with_epsilon (secateur_prune_settings_peek (settings)->ratio, 0.9, 1e-9);
  g_assert_true (secateur_prune_settings_redo (settings));
  g_assert_true (secateur_prune_settings_redo (settings));
  g_assert_cmpint (secateur_prune_settings_peek (settings)->dec_weight, ==, 2);
  g_assert_false (secateur_prune_settings_redo (settings));
  /* a new change after an undo drops what could be redone */
  g_assert_true (secateur_prune_settings_undo (settings));
  g_object_set (settings, "algo", (int) SC_SELECT_THRESHOLD, NULL);
  g_assert_false (secateur_prune_settings_can_redo (settings));
  g_assert_true (secateur_prune_settings_undo (settings));
  g_assert_cmpint (secateur_prune_settings_peek (settings)->algo, ==, d.algo);
  /* ratio changes far apart are separate steps */
  g_object_set (settings, "ratio", 0.3, NULL);
  g_usleep (700 * 1000);
  g_object_set (settings, "ratio", 0.4, NULL);
  g_assert_true (secateur_prune_settings_undo (settings));
  g_assert_cmpfloat_with_epsilon (secateur_prune_settings_peek (settings)->ratio, 0.3, 1e-9);
  /* bounded: after 150 separate steps only the last 100 come back */
  for (int i = 0; i < 150; i++)
    g_object_set (settings, "enc-weight", 2 + i, NULL);
  int n = 0;
  while (secateur_prune_settings_undo (settings))
    n++;
  g_assert_cmpint (n, ==, 100);
  g_assert_cmpint (secateur_prune_settings_peek (settings)->enc_weight, ==, 2 + 49);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/prune-settings/defaults", test_defaults);
  g_test_add_func ("/prune-settings/notify", test_notify);
  g_test_add_func ("/prune-settings/controller", test_controller);
  g_test_add_func ("/prune-settings/undo", test_undo);
  return g_test_run ();
}
