/* secateur-language-picker.h: a searchable list of the model's languages
 * (NLLB code, English name, script) with multi-selection, explicit
 * src -> tgt pairs and presets that turn the selection into pairs. Emits
 * `changed` when the pairs change. Template children
 * (secateur-language-picker.ui): search_entry, src_dropdown, tgt_dropdown,
 * add_button (insensitive, with a tooltip saying why, for a pair it cannot
 * add), pairs_label (the pairs by language name) and language_list (last,
 * without a scrolled window of its own: the page scrolls). */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define SECATEUR_TYPE_LANGUAGE_PICKER (secateur_language_picker_get_type ())
G_DECLARE_FINAL_TYPE (SecateurLanguagePicker, secateur_language_picker, SECATEUR,
                      LANGUAGE_PICKER, GtkBox)

void       secateur_language_picker_set_languages (SecateurLanguagePicker *self,
                                                   const char *const *codes);
void       secateur_language_picker_set_selected  (SecateurLanguagePicker *self,
                                                   const char *code, gboolean selected);
/* Selected languages, in the model's order; g_strfreev. */
GStrv      secateur_language_picker_get_selected  (SecateurLanguagePicker *self);
gboolean   secateur_language_picker_add_pair      (SecateurLanguagePicker *self,
                                                   const char *src, const char *tgt);
void       secateur_language_picker_clear_pairs   (SecateurLanguagePicker *self);
/* Presets: English <-> every selected language; every ordered pair among
 * the selected languages. */
void       secateur_language_picker_english_pairs (SecateurLanguagePicker *self);
void       secateur_language_picker_all_pairs     (SecateurLanguagePicker *self);
/* "src-tgt" pairs; owned by the picker. */
const char *const *secateur_language_picker_get_pairs (SecateurLanguagePicker *self);
/* Languages shown after the search filter (for tests). */
guint      secateur_language_picker_count_visible (SecateurLanguagePicker *self);
void       secateur_language_picker_set_search    (SecateurLanguagePicker *self,
                                                   const char *text);

G_END_DECLS
