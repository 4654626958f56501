/* secateur-compare-page.c: full vs pruned side by side. */
#include "secateur-compare-page.h"

#include "secateur-languages.h"

#include <glib/gi18n.h>

struct _SecateurComparePage
{
  AdwBin parent_instance;
  SecateurController *controller;

  /* template children (secateur-compare-page.ui) */
  GtkWidget *direction_dropdown;
  GtkStringList *directions;
  GtkWidget *limit_spin;
  GtkWidget *own_text;
  GtkWidget *run_button, *cancel_button, *progress;
  GtkWidget *header;
  GtkWidget *results_stack, *list;

  GCancellable *cancellable;
  SecateurCompareResult *result;
  GStrv direction_codes; /* "src-tgt" behind each name in `directions` */
};

G_DEFINE_FINAL_TYPE (SecateurComparePage, secateur_compare_page, ADW_TYPE_BIN)

enum
{
  SIGNAL_FINISHED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static void
append_marked (GString *out, char **words, const guint8 *common)
{
  for (guint i = 0; words[i] != NULL; i++)
    {
      g_autofree char *esc = g_markup_escape_text (words[i], -1);
      if (i > 0)
        g_string_append_c (out, ' ');
      if (common[i])
        g_string_append (out, esc);
      else
        g_string_append_printf (
            out, "<span background=\"#f6d32d66\" underline=\"single\">%s</span>", esc);
    }
}

void
secateur_word_diff_markup (const char *a, const char *b, char **markup_a, char **markup_b)
{
  g_auto (GStrv) wa = g_strsplit_set (a, " \t", -1);
  g_auto (GStrv) wb = g_strsplit_set (b, " \t", -1);
  guint n = g_strv_length (wa), m = g_strv_length (wb);
  /* longest common subsequence of words, O(n m) */
  g_autofree guint *t = g_new0 (guint, (gsize) (n + 1) * (m + 1));
#define T(i, j) t[(gsize) (i) * (m + 1) + (j)]
  for (guint i = n; i-- > 0;)
    for (guint j = m; j-- > 0;)
      T (i, j) =
          g_str_equal (wa[i], wb[j]) ? T (i + 1, j + 1) + 1 : MAX (T (i + 1, j), T (i, j + 1));
  g_autofree guint8 *ca = g_new0 (guint8, n + 1), *cb = g_new0 (guint8, m + 1);
  for (guint i = 0, j = 0; i < n && j < m;)
    if (g_str_equal (wa[i], wb[j]))
      ca[i++] = cb[j++] = 1;
    else if (T (i + 1, j) >= T (i, j + 1))
      i++;
    else
      j++;
#undef T
  GString *sa = g_string_new (NULL), *sb = g_string_new (NULL);
  append_marked (sa, wa, ca);
  append_marked (sb, wb, cb);
  *markup_a = g_string_free (sa, FALSE);
  *markup_b = g_string_free (sb, FALSE);
}

static GtkWidget *
text_label (const char *markup, const char *css)
{
  GtkWidget *label = gtk_label_new (NULL);
  gtk_label_set_markup (GTK_LABEL (label), markup);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_widget_set_hexpand (label, TRUE);
  if (css != NULL)
    gtk_widget_add_css_class (label, css);
  return label;
}

static char *
score_text (double chrf)
{
  return chrf >= 0 ? g_strdup_printf ("chrF++ %.1f", chrf) : g_strdup ("");
}

static GtkWidget *
result_row (const SecateurCompareRow *r)
{
  GtkWidget *grid = gtk_grid_new ();
  gtk_grid_set_column_spacing (GTK_GRID (grid), 18);
  gtk_grid_set_row_spacing (GTK_GRID (grid), 4);
  gtk_grid_set_column_homogeneous (GTK_GRID (grid), TRUE);
  g_object_set (grid, "margin-start", 12, "margin-end", 12, "margin-top", 8, "margin-bottom", 8,
                NULL);
  /* labelled, so that the reference is not taken for a third translation */
  g_autofree char *src = g_markup_printf_escaped ("%s: %s", _ ("Source"), r->source);
  gtk_grid_attach (GTK_GRID (grid), text_label (src, "heading"), 0, 0, 2, 1);
  if (r->reference != NULL)
    {
      g_autofree char *ref = g_markup_printf_escaped ("%s: %s", _ ("Reference"), r->reference);
      gtk_grid_attach (GTK_GRID (grid), text_label (ref, "dim-label"), 0, 1, 2, 1);
    }
  g_autofree char *ma = NULL, *mb = NULL;
  secateur_word_diff_markup (r->full, r->pruned, &ma, &mb);
  gtk_grid_attach (GTK_GRID (grid), text_label (ma, NULL), 0, 2, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), text_label (mb, NULL), 1, 2, 1, 1);
  g_autofree char *sa = score_text (r->chrf_full), *sb = score_text (r->chrf_pruned);
  gtk_grid_attach (GTK_GRID (grid), text_label (sa, "caption"), 0, 3, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), text_label (sb, "caption"), 1, 3, 1, 1);
  return grid;
}

static void
show_result (SecateurComparePage *self)
{
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (self->list)) != NULL)
    gtk_list_box_remove (GTK_LIST_BOX (self->list), child);
  SecateurCompareResult *r = self->result;
  gtk_stack_set_visible_child_name (GTK_STACK (self->results_stack), r ? "results" : "empty");
  if (r == NULL)
    return;
  g_autofree char *mem_full = g_format_size (r->bytes_full);
  g_autofree char *mem_pruned = g_format_size (r->bytes_pruned);
  g_autofree char *header = NULL;
  const char *src = secateur_language_name (r->src), *tgt = secateur_language_name (r->tgt);
  guint n = r->rows->len;
  if (r->chrf_full >= 0)
    header = g_strdup_printf (
        g_dngettext (GETTEXT_PACKAGE,
                     "%s → %s, %u sentence\n"
                     "Full: chrF++ %.1f, spBLEU %.1f, %.1f tokens/s, %s\n"
                     "Pruned (%d of %d experts): chrF++ %.1f, spBLEU %.1f, %.1f tokens/s, %s",
                     "%s → %s, %u sentences\n"
                     "Full: chrF++ %.1f, spBLEU %.1f, %.1f tokens/s, %s\n"
                     "Pruned (%d of %d experts): chrF++ %.1f, spBLEU %.1f, %.1f tokens/s, %s",
                     n),
        src, tgt, n, r->chrf_full, r->spbleu_full, r->tokens_per_s_full, mem_full, r->experts_kept,
        r->experts_total, r->chrf_pruned, r->spbleu_pruned, r->tokens_per_s_pruned, mem_pruned);
  else
    header = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                           "%s → %s, %u sentence (no references)\n"
                                           "Full: %.1f tokens/s, %s\n"
                                           "Pruned (%d of %d experts): %.1f tokens/s, %s",
                                           "%s → %s, %u sentences (no references)\n"
                                           "Full: %.1f tokens/s, %s\n"
                                           "Pruned (%d of %d experts): %.1f tokens/s, %s",
                                           n),
                              src, tgt, n, r->tokens_per_s_full, mem_full, r->experts_kept,
                              r->experts_total, r->tokens_per_s_pruned, mem_pruned);
  gtk_label_set_text (GTK_LABEL (self->header), header);
  for (guint i = 0; i < r->rows->len; i++)
    gtk_list_box_append (GTK_LIST_BOX (self->list), result_row (r->rows->pdata[i]));
}

static void
set_running (SecateurComparePage *self, gboolean running)
{
  gtk_widget_set_visible (self->run_button, !running);
  gtk_widget_set_visible (self->cancel_button, running);
  gtk_widget_set_visible (self->progress, running);
}

static void
compare_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (SecateurComparePage) self = user_data;
  g_autoptr (GError) error = NULL;
  SecateurCompareResult *r =
      secateur_controller_compare_finish (SECATEUR_CONTROLLER (source), res, &error);
  g_clear_object (&self->cancellable);
  set_running (self, FALSE);
  if (r != NULL)
    {
      secateur_compare_result_free (self->result);
      self->result = r;
      show_result (self);
    }
  else
    {
      g_autofree char *text =
          g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
              ? g_strdup (_ ("Comparison cancelled"))
              : g_strdup_printf (_ ("The comparison failed: %s"), error->message);
      gtk_label_set_text (GTK_LABEL (self->header), text);
      gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), 0);
    }
  g_signal_emit (self, signals[SIGNAL_FINISHED], 0, r != NULL);
}

void
secateur_compare_page_run (SecateurComparePage *self)
{
  guint i = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->direction_dropdown));
  if (self->cancellable != NULL || self->direction_codes == NULL ||
      i >= g_strv_length (self->direction_codes))
    {
      gtk_label_set_text (GTK_LABEL (self->header), _ ("Choose a language pair first"));
      return;
    }
  g_autofree char *src = NULL, *tgt = NULL;
  sc_stats_split_direction (self->direction_codes[i], &src, &tgt);
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (self->own_text));
  GtkTextIter start, end;
  gtk_text_buffer_get_bounds (buffer, &start, &end);
  g_autofree char *text = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
  g_auto (GStrv) lines = NULL;
  if (g_strstrip (text)[0] != '\0')
    lines = g_strsplit (text, "\n", -1);
  self->cancellable = g_cancellable_new ();
  set_running (self, TRUE);
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), 0);
  gtk_label_set_text (GTK_LABEL (self->header), _ ("Translating with both models…"));
  secateur_controller_compare_async (
      self->controller, src, tgt, (const char *const *) lines,
      gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (self->limit_spin)),
      NULL /* the controller's pruning settings */, self->cancellable, compare_done,
      g_object_ref (self));
}

static void
on_cancel (SecateurComparePage *self)
{
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

static void
on_progress (SecateurController *controller, int done, int total, double rate, double eta,
             SecateurComparePage *self)
{
  if (self->cancellable != NULL && total > 0)
    gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), (double) done / total);
}

static void
on_directions_changed (SecateurComparePage *self)
{
  const char *const *dirs = secateur_controller_get_directions (self->controller);
  g_strfreev (self->direction_codes);
  self->direction_codes = g_strdupv ((char **) dirs);
  g_auto (GStrv) names = secateur_direction_names (dirs);
  gtk_string_list_splice (self->directions, 0,
                          g_list_model_get_n_items (G_LIST_MODEL (self->directions)),
                          (const char *const *) names);
}

static void
secateur_compare_page_dispose (GObject *object)
{
  SecateurComparePage *self = SECATEUR_COMPARE_PAGE (object);
  if (self->controller != NULL)
    g_signal_handlers_disconnect_by_data (self->controller, self);
  gtk_widget_dispose_template (GTK_WIDGET (self), SECATEUR_TYPE_COMPARE_PAGE);
  g_clear_object (&self->controller);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->result, secateur_compare_result_free);
  g_clear_pointer (&self->direction_codes, g_strfreev);
  G_OBJECT_CLASS (secateur_compare_page_parent_class)->dispose (object);
}

static void
secateur_compare_page_class_init (SecateurComparePageClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  G_OBJECT_CLASS (klass)->dispose = secateur_compare_page_dispose;
  signals[SIGNAL_FINISHED] = g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_BOOLEAN);
  gtk_widget_class_set_template_from_resource (
      widget_class, "/io/github/secateur/Secateur/secateur-compare-page.ui");
  gtk_widget_class_bind_template_child (widget_class, SecateurComparePage, direction_dropdown);
  gtk_widget_class_bind_template_child (widget_class, SecateurComparePage, directions);
  gtk_widget_class_bind_template_child (widget_class, SecateurComparePage, limit_spin);
  gtk_widget_class_bind_template_child (widget_class, SecateurComparePage, own_text);
  gtk_widget_class_bind_template_child (widget_class, SecateurComparePage, run_button);
  gtk_widget_class_bind_template_child (widget_class, SecateurComparePage, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, SecateurComparePage, progress);
  gtk_widget_class_bind_template_child (widget_class, SecateurComparePage, header);
  gtk_widget_class_bind_template_child (widget_class, SecateurComparePage, results_stack);
  gtk_widget_class_bind_template_child (widget_class, SecateurComparePage, list);
  gtk_widget_class_bind_template_callback (widget_class, secateur_compare_page_run);
  gtk_widget_class_bind_template_callback (widget_class, on_cancel);
}

static void
secateur_compare_page_init (SecateurComparePage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

/* One job at a time: while another page's job runs, the button is off
 * and says which job runs. */
static void
on_busy_changed (SecateurComparePage *self)
{
  const char *job = secateur_controller_get_job_name (self->controller);
  gboolean other = job != NULL && self->cancellable == NULL;
  g_autofree char *why = other ? g_strdup_printf (_ ("%s is running"), job) : NULL;
  gtk_widget_set_sensitive (self->run_button, !other);
  gtk_widget_set_tooltip_text (self->run_button, why);
}

GtkWidget *
secateur_compare_page_new (SecateurController *controller)
{
  SecateurComparePage *self = g_object_new (SECATEUR_TYPE_COMPARE_PAGE, NULL);
  self->controller = g_object_ref (controller);
  g_signal_connect_swapped (controller, "notify::directions", G_CALLBACK (on_directions_changed),
                            self);
  g_signal_connect (controller, "progress", G_CALLBACK (on_progress), self);
  g_signal_connect_swapped (controller, "notify::busy", G_CALLBACK (on_busy_changed), self);
  return GTK_WIDGET (self);
}

const SecateurCompareResult *
secateur_compare_page_get_result (SecateurComparePage *self)
{
  return self->result;
}
