/* secateur-language-picker.c: languages and pairs to calibrate and prune. */
#include "secateur-language-picker.h"

#include "secateur-languages.h"

#include <glib/gi18n.h>
#include <string.h>

struct _SecateurLanguagePicker
{
  GtkBox parent_instance;

  GtkSearchEntry *search_entry;
  GtkListBox *language_list;
  GtkDropDown *src_dropdown;
  GtkDropDown *tgt_dropdown;
  GtkWidget *add_button;
  GtkLabel *pairs_label;

  GStrv codes;
  GPtrArray *checks; /* GtkCheckButton per code */
  GPtrArray *pairs;  /* char* "src-tgt", NULL-terminated */
};

G_DEFINE_FINAL_TYPE (SecateurLanguagePicker, secateur_language_picker, GTK_TYPE_BOX)

enum
{
  SIGNAL_CHANGED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static void update_add_button (SecateurLanguagePicker *self);

static void
pairs_changed (SecateurLanguagePicker *self)
{
  guint n = self->pairs->len - 1;
  g_autoptr (GString) text = g_string_new (NULL);
  if (n == 0)
    g_string_append (text, _ ("No language pairs yet: select languages and use a preset, or add "
                              "a pair."));
  else
    g_string_append_printf (
        text, g_dngettext (GETTEXT_PACKAGE, "%u language pair: ", "%u language pairs: ", n), n);
  for (guint i = 0; i < n; i++)
    {
      g_auto (GStrv) st = g_strsplit (self->pairs->pdata[i], "-", 2);
      g_string_append_printf (text, "%s%s → %s", i ? ", " : "", secateur_language_name (st[0]),
                              st[1] ? secateur_language_name (st[1]) : "");
    }
  gtk_label_set_text (self->pairs_label, text->str);
  update_add_button (self);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

static gboolean
has_pair (SecateurLanguagePicker *self, const char *key)
{
  for (guint i = 0; i + 1 < self->pairs->len; i++)
    if (g_str_equal (self->pairs->pdata[i], key))
      return TRUE;
  return FALSE;
}

static gboolean
add_pair (SecateurLanguagePicker *self, const char *src, const char *tgt)
{
  if (g_str_equal (src, tgt))
    return FALSE;
  g_autofree char *key = g_strdup_printf ("%s-%s", src, tgt);
  if (has_pair (self, key))
    return FALSE;
  g_ptr_array_insert (self->pairs, self->pairs->len - 1, g_steal_pointer (&key));
  return TRUE;
}

gboolean
secateur_language_picker_add_pair (SecateurLanguagePicker *self, const char *src, const char *tgt)
{
  if (self->codes == NULL || !g_strv_contains ((const char *const *) self->codes, src) ||
      !g_strv_contains ((const char *const *) self->codes, tgt) || !add_pair (self, src, tgt))
    return FALSE;
  pairs_changed (self);
  return TRUE;
}

void
secateur_language_picker_clear_pairs (SecateurLanguagePicker *self)
{
  g_ptr_array_set_size (self->pairs, 0);
  g_ptr_array_add (self->pairs, NULL);
  pairs_changed (self);
}

GStrv
secateur_language_picker_get_selected (SecateurLanguagePicker *self)
{
  GStrvBuilder *b = g_strv_builder_new ();
  for (guint i = 0; i < self->checks->len; i++)
    if (gtk_check_button_get_active (self->checks->pdata[i]))
      g_strv_builder_add (b, self->codes[i]);
  GStrv out = g_strv_builder_end (b);
  g_strv_builder_unref (b);
  return out;
}

void
secateur_language_picker_english_pairs (SecateurLanguagePicker *self)
{
  g_auto (GStrv) sel = secateur_language_picker_get_selected (self);
  if (self->codes == NULL || !g_strv_contains ((const char *const *) self->codes, "eng_Latn"))
    return;
  for (guint i = 0; sel[i] != NULL; i++)
    {
      add_pair (self, "eng_Latn", sel[i]);
      add_pair (self, sel[i], "eng_Latn");
    }
  pairs_changed (self);
}

void
secateur_language_picker_all_pairs (SecateurLanguagePicker *self)
{
  g_auto (GStrv) sel = secateur_language_picker_get_selected (self);
  for (guint i = 0; sel[i] != NULL; i++)
    for (guint j = 0; sel[j] != NULL; j++)
      add_pair (self, sel[i], sel[j]);
  pairs_changed (self);
}

const char *const *
secateur_language_picker_get_pairs (SecateurLanguagePicker *self)
{
  return (const char *const *) self->pairs->pdata;
}

void
secateur_language_picker_set_selected (SecateurLanguagePicker *self, const char *code,
                                       gboolean selected)
{
  for (guint i = 0; i < self->checks->len; i++)
    if (g_str_equal (self->codes[i], code))
      gtk_check_button_set_active (self->checks->pdata[i], selected);
}

static gboolean
filter_row (GtkListBoxRow *row, gpointer user_data)
{
  SecateurLanguagePicker *self = user_data;
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));
  if (text == NULL || *text == '\0')
    return TRUE;
  const char *code = g_object_get_data (G_OBJECT (row), "code");
  return code != NULL && secateur_language_matches (code, text);
}

static void
on_search_changed (SecateurLanguagePicker *self)
{
  gtk_list_box_invalidate_filter (self->language_list);
}

void
secateur_language_picker_set_search (SecateurLanguagePicker *self, const char *text)
{
  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), text);
  gtk_list_box_invalidate_filter (self->language_list);
}

guint
secateur_language_picker_count_visible (SecateurLanguagePicker *self)
{
  guint n = 0;
  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->language_list)); row != NULL;
       row = gtk_widget_get_next_sibling (row))
    if (GTK_IS_LIST_BOX_ROW (row) && filter_row (GTK_LIST_BOX_ROW (row), self))
      n++;
  return n;
}

/* Add Pair says why it cannot add the pair shown, rather than doing nothing. */
static void
update_add_button (SecateurLanguagePicker *self)
{
  guint s = gtk_drop_down_get_selected (self->src_dropdown);
  guint t = gtk_drop_down_get_selected (self->tgt_dropdown);
  const char *why = NULL;
  if (self->codes == NULL || s == GTK_INVALID_LIST_POSITION || t == GTK_INVALID_LIST_POSITION)
    why = _ ("Choose a source and a target language");
  else if (s == t)
    why = _ ("Source and target are the same language");
  else
    {
      g_autofree char *key = g_strdup_printf ("%s-%s", self->codes[s], self->codes[t]);
      if (has_pair (self, key))
        why = _ ("This pair is already chosen");
    }
  gtk_widget_set_sensitive (self->add_button, why == NULL);
  gtk_widget_set_tooltip_text (self->add_button, why);
}

static void
on_add_pair_clicked (SecateurLanguagePicker *self)
{
  guint s = gtk_drop_down_get_selected (self->src_dropdown);
  guint t = gtk_drop_down_get_selected (self->tgt_dropdown);
  if (self->codes == NULL || s == GTK_INVALID_LIST_POSITION || t == GTK_INVALID_LIST_POSITION)
    return;
  secateur_language_picker_add_pair (self, self->codes[s], self->codes[t]);
}

void
secateur_language_picker_set_languages (SecateurLanguagePicker *self, const char *const *codes)
{
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->language_list))) != NULL)
    gtk_list_box_remove (self->language_list, child);
  g_ptr_array_set_size (self->checks, 0);
  g_strfreev (self->codes);
  self->codes = g_strdupv ((char **) codes);
  GtkStringList *names = gtk_string_list_new (NULL);
  for (guint i = 0; self->codes != NULL && self->codes[i] != NULL; i++)
    {
      const char *code = self->codes[i];
      g_autofree char *label = g_strdup_printf ("%s (%s)", secateur_language_name (code), code);
      g_autofree char *tip = g_strdup_printf ("%s %s %s", secateur_language_name (code), code,
                                              secateur_language_script (code));
      GtkWidget *row = gtk_list_box_row_new ();
      GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
      GtkWidget *check = gtk_check_button_new_with_label (label);
      GtkWidget *script = gtk_label_new (secateur_language_script (code));
      gtk_widget_add_css_class (script, "dim-label");
      gtk_widget_set_hexpand (script, TRUE);
      gtk_widget_set_halign (script, GTK_ALIGN_END);
      gtk_box_append (GTK_BOX (box), check);
      gtk_box_append (GTK_BOX (box), script);
      gtk_widget_set_margin_start (box, 6);
      gtk_widget_set_margin_end (box, 12);
      gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
      gtk_widget_set_tooltip_text (row, tip);
      g_object_set_data_full (G_OBJECT (row), "code", g_strdup (code), g_free);
      gtk_list_box_append (self->language_list, row);
      g_ptr_array_add (self->checks, check);
      gtk_string_list_append (names, label);
    }
  gtk_drop_down_set_model (self->src_dropdown, G_LIST_MODEL (names));
  GtkStringList *names2 = gtk_string_list_new (NULL);
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (names)); i++)
    gtk_string_list_append (names2, gtk_string_list_get_string (names, i));
  gtk_drop_down_set_model (self->tgt_dropdown, G_LIST_MODEL (names2));
  g_object_unref (names);
  g_object_unref (names2);
  secateur_language_picker_clear_pairs (self);
}

static void
secateur_language_picker_finalize (GObject *object)
{
  SecateurLanguagePicker *self = SECATEUR_LANGUAGE_PICKER (object);
  g_strfreev (self->codes);
  g_ptr_array_unref (self->checks);
  g_ptr_array_unref (self->pairs);
  G_OBJECT_CLASS (secateur_language_picker_parent_class)->finalize (object);
}

static void
secateur_language_picker_class_init (SecateurLanguagePickerClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  G_OBJECT_CLASS (klass)->finalize = secateur_language_picker_finalize;
  gtk_widget_class_set_template_from_resource (
      widget_class, "/io/github/secateur/Secateur/secateur-language-picker.ui");
  gtk_widget_class_bind_template_child (widget_class, SecateurLanguagePicker, search_entry);
  gtk_widget_class_bind_template_child (widget_class, SecateurLanguagePicker, language_list);
  gtk_widget_class_bind_template_child (widget_class, SecateurLanguagePicker, src_dropdown);
  gtk_widget_class_bind_template_child (widget_class, SecateurLanguagePicker, tgt_dropdown);
  gtk_widget_class_bind_template_child (widget_class, SecateurLanguagePicker, add_button);
  gtk_widget_class_bind_template_child (widget_class, SecateurLanguagePicker, pairs_label);
  gtk_widget_class_bind_template_callback (widget_class, on_search_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_add_pair_clicked);
  gtk_widget_class_bind_template_callback (widget_class, update_add_button);
  gtk_widget_class_bind_template_callback (widget_class, secateur_language_picker_english_pairs);
  gtk_widget_class_bind_template_callback (widget_class, secateur_language_picker_all_pairs);
  gtk_widget_class_bind_template_callback (widget_class, secateur_language_picker_clear_pairs);
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
secateur_language_picker_init (SecateurLanguagePicker *self)
{
  self->checks = g_ptr_array_new ();
  self->pairs = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (self->pairs, NULL);
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_list_box_set_filter_func (self->language_list, filter_row, self, NULL);
}
