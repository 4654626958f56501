/* test-ui-export.c: the Export page shows what will be written before
 * writing it, and the export's record after. On the demo model under Xvfb:
 * two pairs calibrated and swept; for one pair as stored and for both at
 * bf16, the preview's size is the size written (within 1 %), its experts
 * are those `secateur-cli info` reports on the export (the built binary,
 * run as a user would), the record shown after the export is the
 * preview's, and the report's quality plot names the demo's heldout.tsv
 * and its sentences per pair. The preview follows the slider. */
#include "sc-test-cli.h"
#include "sc-test-ui.h"
#include "secateur-export-page.h"
#include "secateur-window.h"

static SecateurWindow *window;
static char *tmp;

static SecateurController *
controller (void)
{
  return secateur_window_get_controller (window);
}

static SecateurExportPage *
export_page (void)
{
  return SECATEUR_EXPORT_PAGE (secateur_window_get_page (window, "export"));
}

static gboolean
has_sweep (gpointer data)
{
  int n;
  const double *r, *c;
  return sc_ui_controller_idle (window) &&
         secateur_controller_get_sweep (controller (), &n, &r, &c);
}

static gboolean
export_done (gpointer data)
{
  return sc_ui_controller_idle (window) &&
         g_str_has_prefix (sc_ui_label_text (export_page (), "status"), "Export");
}

/* Bytes of every file under `dir`. */
static guint64
tree_bytes (const char *dir)
{
  guint64 n = 0;
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (d);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        n += tree_bytes (path);
      else
        {
          g_autoptr (GFile) f = g_file_new_for_path (path);
          g_autoptr (GFileInfo) info =
              g_file_query_info (f, G_FILE_ATTRIBUTE_STANDARD_SIZE, 0, NULL, NULL);
          g_assert_nonnull (info);
          n += g_file_info_get_size (info);
        }
    }
  return n;
}

/* Ticks exactly the pairs in `want` on the page. */
static void
tick_pairs (const char *const *want)
{
  GtkWidget *group = sc_ui_child (export_page (), "pairs_group");
  guint found = 0;
  for (GtkWidget *w = gtk_widget_get_first_child (group); w != NULL;)
    {
      if (GTK_IS_CHECK_BUTTON (w) && g_object_get_data (G_OBJECT (w), "direction") != NULL)
        {
          gboolean on = g_strv_contains (want, g_object_get_data (G_OBJECT (w), "direction"));
          gtk_check_button_set_active (GTK_CHECK_BUTTON (w), on);
          found += on;
        }
      /* depth first over the group's widgets */
      GtkWidget *next = gtk_widget_get_first_child (w);
      while (next == NULL && w != group)
        {
          next = gtk_widget_get_next_sibling (w);
          w = gtk_widget_get_parent (w);
        }
      w = next;
    }
  g_assert_cmpuint (found, ==, g_strv_length ((char **) want));
}

/* `secateur-cli info`'s kept experts of the export in `model_dir`, as a
 * mask [moe_layer * n_experts + id], checking every line against `keep`. */
static void
check_info (const char *model_dir, const ScExportJobPlan *plan)
{
  Run r = run_cli (NULL, "info", model_dir, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_autofree guint8 *seen = g_new0 (guint8, plan->total);
  g_auto (GStrv) lines = g_strsplit (r.out, "\n", -1);
  int m = 0;
  for (guint i = 0; lines[i] != NULL; i++)
    {
      int layer, n, of;
      char side[16];
      const char *colon = strchr (lines[i], ':');
      if (sscanf (lines[i], "  %15s layer %d: %d of %d:", side, &layer, &n, &of) != 4 ||
          (colon = strchr (colon + 1, ':')) == NULL)
        continue;
      g_assert_cmpint (of, ==, plan->n_experts);
      g_assert_cmpint (n, ==, plan->kept_per_layer[m]);
      g_auto (GStrv) ids = g_strsplit (g_strstrip (g_strdup (colon + 1)), " ", -1);
      for (guint k = 0; ids[k] != NULL; k++)
        if (*ids[k] != '\0')
          seen[m * plan->n_experts + atoi (ids[k])] = 1;
      m++;
    }
  g_assert_cmpint (m, ==, plan->n_moe_layers);
  g_assert_cmpmem (seen, plan->total, plan->keep, plan->total);
  /* and the directions it serves */
  g_autofree char *served = g_strjoinv (", ", plan->directions);
  g_autofree char *line = g_strdup_printf ("Serves:        %s\n", served);
  g_assert_nonnull (strstr (r.out, line));
  run_clear (&r);
}

/* Exports the ticked pairs to `name` and checks the preview against what
 * was written and what the page then shows. */
static void
export_and_check (const char *name, const char *const *pairs, guint dtype_choice)
{
  SecateurExportPage *page = export_page ();
  tick_pairs (pairs);
  adw_combo_row_set_selected (sc_ui_child (page, "dtype_row"), dtype_choice);
  const ScExportJobPlan *plan = secateur_export_page_get_plan (page);
  g_assert_nonnull (plan);
  g_assert_cmpstrv (plan->directions, pairs);
  g_assert_cmpint (plan->dtype, ==, dtype_choice == 2 ? SC_DTYPE_BF16 : SC_DTYPE_F16);
  /* the preview's rows say the plan's numbers */
  g_autofree char *experts =
      g_strdup_printf ("%d of %d experts kept (%.1f %% pruned)", plan->kept, plan->total,
                       100.0 * (plan->total - plan->kept) / plan->total);
  g_assert_cmpstr (sc_ui_row_value (page, "experts_row"), ==, experts);
  g_autofree char *size = g_strdup_printf ("%.1f MB", plan->bytes / 1e6);
  g_assert_true (g_str_has_prefix (sc_ui_row_value (page, "disk_row"), size));
  g_assert_nonnull (strstr (sc_ui_row_value (page, "ratio_row"), "50 % of experts removed"));
  g_autofree char *preview_experts = g_strdup (sc_ui_row_value (page, "experts_row"));
  g_autofree char *preview_settings = g_strdup (sc_ui_row_value (page, "settings_row"));
  g_autofree char *preview_serves = g_strdup (sc_ui_row_value (page, "serves_row"));
  guint64 planned = plan->bytes, planned_model = plan->model_bytes;
  g_autofree guint8 *keep = g_memdup2 (plan->keep, plan->total);

  g_autofree char *folder = g_build_filename (tmp, name, NULL);
  secateur_export_page_set_folder (page, folder);
  secateur_export_page_export (page);
  g_assert_true (sc_ui_wait (export_done, NULL, 300));
  g_assert_true (g_str_has_prefix (sc_ui_label_text (page, "status"), "Exported to"));

  /* the size written is the size previewed */
  guint64 written = tree_bytes (folder);
  g_test_message ("%s: previewed %" G_GUINT64_FORMAT " bytes, wrote %" G_GUINT64_FORMAT, name,
                  planned, written);
  g_assert_cmpfloat (ABS ((double) written - (double) planned), <=, 0.01 * written);
  g_autofree char *model_dir = g_build_filename (folder, "model", NULL);
  g_assert_cmpfloat (ABS ((double) tree_bytes (model_dir) - (double) planned_model), <=,
                     0.01 * planned_model);
  /* secateur-cli info reports the experts and pairs the preview said */
  plan = secateur_export_page_get_plan (page);
  g_assert_cmpmem (plan->keep, plan->total, keep, plan->total);
  check_info (model_dir, plan);

  /* the record shown is the preview's, read back from the folder */
  g_assert_true (gtk_widget_get_visible (sc_ui_child (page, "record_group")));
  g_assert_cmpstr (sc_ui_row_value (page, "record_experts_row"), ==, preview_experts);
  g_assert_cmpstr (sc_ui_row_value (page, "record_serves_row"), ==, preview_serves);
  g_assert_cmpstr (sc_ui_row_value (page, "record_settings_row"), ==, preview_settings);
  g_autofree char *model_size = g_strdup_printf ("%.1f MB", tree_bytes (model_dir) / 1e6);
  g_assert_cmpstr (sc_ui_row_value (page, "record_size_row"), ==, model_size);

  /* the report's quality plot names the demo's held-out set */
  g_autofree char *about_path = g_build_filename (folder, "report", "about.json", NULL);
  g_autoptr (JsonNode) about = sc_test_load_json (about_path);
  JsonObject *ao = json_node_get_object (about);
  g_assert_cmpstr (json_object_get_string_member (ao, "held_out"), ==, "heldout.tsv");
  g_assert_cmpint (json_object_get_int_member (ao, "sentences_per_pair"), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (ao, "quality_title"), ==,
                   "Quality vs pruning (held-out: heldout.tsv, 2 sentences per pair)");
}

static void
test_preview (void)
{
  window = sc_ui_open_demo (2, 16);
  if (window == NULL)
    return;
  static const char *const both[] = { "eng_Latn-fra_Latn", "fra_Latn-eng_Latn", NULL };
  static const char *const one[] = { "eng_Latn-fra_Latn", NULL };
  secateur_controller_set_directions (controller (), both);
  SecateurPruneSettings *settings = secateur_controller_get_prune_settings (controller ());
  g_object_set (settings, "ratio", 0.5, NULL);
  secateur_window_show_page (window, "export");
  /* nothing to export before calibration, and the page says so */
  g_assert_null (secateur_export_page_get_plan (export_page ()));
  g_assert_cmpstr (sc_ui_row_value (export_page (), "serves_row"), ==, "Calibrate the model first");

  SecateurCalibratePage *cal =
      SECATEUR_CALIBRATE_PAGE (secateur_window_get_page (window, "calibrate"));
  secateur_calibrate_page_set_size (cal, 8);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.calibrate", NULL));
  /* the quality sweep follows the calibration by itself */
  g_assert_true (sc_ui_wait (has_sweep, NULL, 600));
  secateur_window_show_page (window, "export");

  export_and_check ("one-pair", one, 0);
  export_and_check ("two-pairs", both, 2);
  sc_ui_screenshot (GTK_WIDGET (window), tmp, "export-preview");

  /* the preview follows the slider: more pruned, fewer experts, smaller */
  const ScExportJobPlan *plan = secateur_export_page_get_plan (export_page ());
  int kept50 = plan->kept;
  guint64 bytes50 = plan->bytes;
  g_object_set (settings, "ratio", 0.75, NULL);
  plan = secateur_export_page_get_plan (export_page ());
  g_assert_cmpint (plan->kept, <, kept50);
  g_assert_cmpuint (plan->bytes, <, bytes50);
  g_assert_nonnull (strstr (sc_ui_row_value (export_page (), "ratio_row"),
                            "75 % of experts removed — set on the Prune page"));
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char **argv)
{
  tmp = sc_ui_init (&argc, &argv);
  if (tmp == NULL)
    {
      g_test_skip ("no display");
      return g_test_run ();
    }
  g_test_add_func ("/ui-export/preview", test_preview);
  int status = g_test_run ();
  sc_test_rm_tree (tmp);
  g_free (tmp);
  return status;
}
