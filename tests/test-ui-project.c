/* test-ui-project.c: the application keeps the user's work in a project
 * (sc-project.h), under Xvfb on the demo model: calibrate a few sentences,
 * let the quality sweep run, change the prune settings, close the window;
 * a new window opens the project from the welcome page's recent list and
 * finds the statistics (same counts and runs), the quality curve, the
 * settings and the pairs as they were. A project made by `secateur-cli
 * calibrate --project` opens in the application with its statistics. */
#include "sc-project.h"
#include "sc-test-ui.h"
#include "secateur-window.h"

#include <string.h>

static char *tmp;

static gboolean
idle (gpointer window)
{
  return !secateur_controller_get_busy (secateur_window_get_controller (window));
}

static gboolean
has_stats_and_idle (gpointer window)
{
  return idle (window) && secateur_controller_get_stats (secateur_window_get_controller (window));
}

static gboolean
has_sweep_and_idle (gpointer window)
{
  int n;
  const double *r, *c;
  return idle (window) &&
         secateur_controller_get_sweep (secateur_window_get_controller (window), &n, &r, &c);
}

static gboolean
window_gone (gpointer data)
{
  return *(gpointer *) data == NULL;
}

static GtkWidget *
recent_row (SecateurWindow *window, int index)
{
  GtkListBox *list = sc_ui_child (window, "recent_list");
  return GTK_WIDGET (gtk_list_box_get_row_at_index (list, index));
}

static void
test_reopen (void)
{
  SecateurWindow *window = sc_ui_open_demo (2, 8);
  if (window == NULL)
    return;
  SecateurController *c = secateur_window_get_controller (window);
  /* the demo's project, in the user data folder */
  const char *project = secateur_controller_get_project_dir (c);
  g_assert_nonnull (project);
  g_autofree char *root = g_build_filename (tmp, "secateur", "projects", NULL);
  g_autofree char *parent = g_path_get_dirname (project);
  g_assert_cmpstr (parent, ==, root);
  g_autofree char *base = g_path_get_basename (project);
  g_assert_true (g_str_has_prefix (base, "demo-"));
  g_assert_true (g_str_has_suffix (base, ".secateur"));
  g_assert_cmpuint (strlen (base), ==, strlen ("demo-") + 12 + strlen (".secateur"));
  g_autofree char *project_dir = g_strdup (project);
  g_assert_null (secateur_controller_get_stats (c));

  /* two pairs, a few sentences; the sweep follows the calibration */
  SecateurOverviewPage *overview =
      SECATEUR_OVERVIEW_PAGE (secateur_window_get_page (window, "model"));
  SecateurLanguagePicker *picker = sc_ui_child (overview, "picker");
  g_assert_true (secateur_language_picker_add_pair (picker, "eng_Latn", "fra_Latn"));
  g_assert_true (secateur_language_picker_add_pair (picker, "deu_Latn", "eng_Latn"));
  secateur_calibrate_page_set_size (
      SECATEUR_CALIBRATE_PAGE (secateur_window_get_page (window, "calibrate")), 4);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.calibrate", NULL));
  g_assert_true (sc_ui_wait (has_stats_and_idle, window, 120));
  g_assert_true (sc_ui_wait (has_sweep_and_idle, window, 300));

  /* the prune settings changed on the page */
  SecateurPrunePage *prune = SECATEUR_PRUNE_PAGE (secateur_window_get_page (window, "prune"));
  gtk_range_set_value (sc_ui_child (prune, "scale"), 75);
  SecateurPruneSettings *settings = secateur_controller_get_prune_settings (c);
  g_object_set (settings, "metric", SC_EXPERT_METRIC_REAP, "enc-weight", 2, NULL);
  ScPruneSettings before;
  secateur_prune_settings_get (settings, &before);
  g_assert_cmpfloat (before.ratio, ==, 0.75);

  /* what must come back */
  ScStats *stats = secateur_controller_get_stats (c);
  guint64 tokens = sc_stats_total_tokens (stats);
  g_assert_cmpuint (tokens, >, 0);
  g_auto (GStrv) dirs = sc_stats_list_directions (stats);
  g_assert_cmpuint (g_strv_length (dirs), ==, 2);
  g_autoptr (JsonArray) runs = sc_stats_get_provenance (stats);
  g_assert_cmpuint (json_array_get_length (runs), ==, 1);
  int n_sweep;
  const double *ratios, *chrf;
  g_assert_true (secateur_controller_get_sweep (c, &n_sweep, &ratios, &chrf));
  g_autofree double *chrf_before = g_memdup2 (chrf, sizeof (double) * n_sweep);
  g_autofree double *ratios_before = g_memdup2 (ratios, sizeof (double) * n_sweep);

  /* closed with the settings' save still pending: it is written on close */
  gpointer alive = window;
  g_object_add_weak_pointer (G_OBJECT (window), &alive);
  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_true (sc_ui_wait (window_gone, &alive, 10));

  /* a new window lists the project first, by its model's name */
  SecateurWindow *again = g_object_new (SECATEUR_TYPE_WINDOW, NULL);
  gtk_window_set_default_size (GTK_WINDOW (again), 1280, 800);
  gtk_window_present (GTK_WINDOW (again));
  g_auto (GStrv) recent = secateur_window_get_recent (again);
  g_assert_cmpstr (recent[0], ==, project_dir);
  GtkWidget *row = recent_row (again, 0);
  g_assert_nonnull (row);
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), ==, "demo — project");
  sc_ui_screenshot (GTK_WIDGET (again), tmp, "welcome-projects");
  g_signal_emit_by_name (sc_ui_child (again, "recent_list"), "row-activated", row);
  g_assert_true (sc_ui_wait (sc_ui_model_open, again, 60));
  SecateurController *c2 = secateur_window_get_controller (again);
  g_assert_cmpstr (secateur_controller_get_project_dir (c2), ==, project_dir);

  /* statistics: the same counts and runs */
  ScStats *back = secateur_controller_get_stats (c2);
  g_assert_nonnull (back);
  g_assert_cmpuint (sc_stats_total_tokens (back), ==, tokens);
  g_auto (GStrv) dirs2 = sc_stats_list_directions (back);
  g_assert_cmpstrv (dirs2, dirs);
  g_autoptr (JsonArray) runs2 = sc_stats_get_provenance (back);
  g_assert_cmpuint (json_array_get_length (runs2), ==, 1);
  g_assert_true (
      json_node_equal (json_array_get_element (runs, 0), json_array_get_element (runs2, 0)));
  /* the settings and the pairs, on the pages too */
  ScPruneSettings after;
  secateur_prune_settings_get (secateur_controller_get_prune_settings (c2), &after);
  g_assert_cmpfloat (after.ratio, ==, 0.75);
  g_assert_cmpint (after.metric, ==, SC_EXPERT_METRIC_REAP);
  g_assert_cmpint (after.enc_weight, ==, 2);
  g_assert_cmpint (after.dec_weight, ==, before.dec_weight);
  SecateurPrunePage *prune2 = SECATEUR_PRUNE_PAGE (secateur_window_get_page (again, "prune"));
  g_assert_cmpfloat (gtk_range_get_value (sc_ui_child (prune2, "scale")), ==, 75);
  const char *const *pairs = secateur_controller_get_directions (c2);
  g_assert_nonnull (pairs);
  g_assert_cmpuint (g_strv_length ((char **) pairs), ==, 2);
  g_assert_cmpstr (pairs[0], ==, "eng_Latn-fra_Latn");
  g_assert_cmpstr (pairs[1], ==, "deu_Latn-eng_Latn");
  SecateurOverviewPage *overview2 =
      SECATEUR_OVERVIEW_PAGE (secateur_window_get_page (again, "model"));
  g_assert_nonnull (strstr (sc_ui_label_text (sc_ui_child (overview2, "picker"), "pairs_label"),
                            "English → French"));
  /* the quality curve */
  int n2;
  const double *ratios2, *chrf2;
  g_assert_true (secateur_controller_get_sweep (c2, &n2, &ratios2, &chrf2));
  g_assert_cmpint (n2, ==, n_sweep);
  for (int i = 0; i < n2; i++)
    {
      g_assert_cmpfloat (ratios2[i], ==, ratios_before[i]);
      g_assert_cmpfloat (chrf2[i], ==, chrf_before[i]);
    }
  sc_ui_screenshot (GTK_WIDGET (again), tmp, "project-reopened");

  /* its work is on disk: opening the model again loses nothing, so nothing
   * is asked, and the statistics come back once more */
  g_autofree char *demo = secateur_window_find_demo_model ();
  secateur_window_open_model (again, demo);
  g_assert_null (sc_ui_find_dialog ());
  g_assert_true (sc_ui_wait (sc_ui_controller_idle, again, 60));
  g_assert_true (sc_ui_wait (sc_ui_model_open, again, 60));
  g_assert_nonnull (secateur_controller_get_stats (c2));
  g_assert_cmpuint (sc_stats_total_tokens (secateur_controller_get_stats (c2)), ==, tokens);

  /* a backend or threads change in the preferences says it applies to
   * models opened from now on, and offers to reopen this one */
  g_autoptr (GSettings) prefs = g_settings_new ("io.github.secateur.Secateur");
  g_settings_set_int (prefs, "threads", g_settings_get_int (prefs, "threads") == 1 ? 2 : 1);
  sc_ui_settle (0.1);
  g_assert_cmpstr (secateur_window_get_last_toast (again), ==,
                   "The new backend and threads apply to models opened from now on");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (again), "win.reopen", NULL));
  g_assert_null (sc_ui_find_dialog ());
  g_assert_true (sc_ui_wait (sc_ui_controller_idle, again, 60));
  g_assert_true (sc_ui_wait (sc_ui_model_open, again, 60));
  g_assert_cmpuint (sc_stats_total_tokens (secateur_controller_get_stats (c2)), ==, tokens);
  gtk_window_destroy (GTK_WINDOW (again));
  sc_ui_settle (0.2);
}

static void
test_cli_project (void)
{
  g_autofree char *demo = secateur_window_find_demo_model ();
  if (demo == NULL)
    {
      g_test_skip ("the demo model is not shipped (resources/models/demo)");
      return;
    }
  /* a calibration run elsewhere, as on a server */
  g_autofree char *project = g_build_filename (tmp, "server", "demo.secateur", NULL);
  const char *argv[] = {
    g_getenv ("SC_CLI"), "calibrate", "-m", demo, "--pairs", "eng_Latn-deu_Latn", "--size", "2",
    "--project",         project,     "-q", NULL
  };
  g_assert_nonnull (argv[0]);
  int status = -1;
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                               NULL, &err, &status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("secateur-cli calibrate --project failed: %s", err);
  g_autofree char *stats_path = g_build_filename (project, "statistics.json", NULL);
  g_autoptr (ScStats) expect = sc_stats_load (stats_path, NULL, &error);
  g_assert_no_error (error);

  SecateurWindow *window = g_object_new (SECATEUR_TYPE_WINDOW, NULL);
  gtk_window_present (GTK_WINDOW (window));
  /* Ctrl+O's folder chooser ends in the same call */
  secateur_window_open_model (window, project);
  g_assert_true (sc_ui_wait (sc_ui_model_open, window, 60));
  SecateurController *c = secateur_window_get_controller (window);
  g_autofree char *abs_project = g_canonicalize_filename (project, NULL);
  g_assert_cmpstr (secateur_controller_get_project_dir (c), ==, abs_project);
  g_autofree char *abs_demo = g_canonicalize_filename (demo, NULL);
  g_assert_cmpstr (secateur_controller_get_info (c)->dir, ==, abs_demo);
  ScStats *stats = secateur_controller_get_stats (c);
  g_assert_nonnull (stats);
  g_assert_cmpuint (sc_stats_total_tokens (stats), ==, sc_stats_total_tokens (expect));
  g_auto (GStrv) dirs = sc_stats_list_directions (stats);
  g_assert_cmpuint (g_strv_length (dirs), ==, 1);
  g_assert_cmpstr (dirs[0], ==, "eng_Latn-deu_Latn");
  g_autoptr (JsonArray) runs = sc_stats_get_provenance (stats);
  g_assert_cmpuint (json_array_get_length (runs), ==, 1);
  g_assert_cmpint (
      json_object_get_int_member (json_array_get_object_element (runs, 0), "sentences"), ==, 2);
  /* the heatmap shows them: the Prune page is past its empty state */
  SecateurPrunePage *prune = SECATEUR_PRUNE_PAGE (secateur_window_get_page (window, "prune"));
  g_assert_cmpstr (gtk_stack_get_visible_child_name (sc_ui_child (prune, "charts_stack")), ==,
                   "charts");
  /* the welcome page lists it */
  g_auto (GStrv) recent = secateur_window_get_recent (window);
  g_assert_cmpstr (recent[0], ==, abs_project);
  gtk_window_destroy (GTK_WINDOW (window));
  sc_ui_settle (0.2);
}

/* The waits iterate the main loop blocking: with no window left, a timer
 * keeps them waking up. */
static gboolean
keep_awake (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  tmp = sc_ui_init (&argc, &argv);
  if (tmp == NULL)
    {
      g_test_init (&argc, &argv, NULL);
      g_test_skip ("no display");
      return g_test_run ();
    }
  g_timeout_add (20, keep_awake, NULL);
  g_test_add_func ("/ui-project/reopen", test_reopen);
  g_test_add_func ("/ui-project/cli-project", test_cli_project);
  int status = g_test_run ();
  sc_test_rm_tree (tmp);
  g_free (tmp);
  return status;
}
