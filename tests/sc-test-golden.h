/* sc-test-golden.h: reading the inputs of golden cases and comparing
 * float outputs with golden tensors. */
#pragma once

#include "sc-tensor.h"
#include "sc-test-util.h"

#include <math.h>
#include <string.h>

/* Input batch of a case: ids [B,S] and per-row lengths from the mask. */
static inline GArray *
case_inputs (JsonObject *c, int *B, int *S, int **lengths)
{
  int mb, ms;
  GArray *ids = sc_test_int_matrix (json_object_get_array_member (c, "input_ids"), B, S);
  g_autoptr (GArray) mask =
    sc_test_int_matrix (json_object_get_array_member (c, "attention_mask"), &mb, &ms);
  g_assert_cmpint (mb, ==, *B);
  g_assert_cmpint (ms, ==, *S);
  *lengths = g_new0 (int, *B);
  for (int b = 0; b < *B; b++)
    for (int s = 0; s < *S; s++)
      (*lengths)[b] += g_array_index (mask, int, b * *S + s);
  return ids;
}

static inline double
max_abs_diff (const float *a, const ScTensor *gold, gsize n)
{
  g_assert_cmpint (sc_tensor_numel (gold), ==, (gint64) n);
  g_autofree float *g = g_new (float, n);
  sc_tensor_read_f32 (gold, 0, n, g);
  double worst = 0.0;
  for (gsize i = 0; i < n; i++) {
    double d = fabs ((double) a[i] - g[i]);
    if (isnan (d))
      return INFINITY;
    worst = MAX (worst, d);
  }
  return worst;
}


/* A generated sequence against a row of Hugging Face's padded output
 * (finished rows are padded with the pad id 1 after </s>). */
static inline void
assert_same_tokens (const char *what, GArray *seq, const int *gold, int gold_len)
{
  while (gold_len > 0 && gold[gold_len - 1] == 1)
    gold_len--;
  if ((int) seq->len == gold_len && memcmp (seq->data, gold, sizeof (int) * gold_len) == 0)
    return;
  GString *a = g_string_new (NULL), *h = g_string_new (NULL);
  for (guint t = 0; t < seq->len; t++)
    g_string_append_printf (a, "%d ", g_array_index (seq, int, t));
  for (int t = 0; t < gold_len; t++)
    g_string_append_printf (h, "%d ", gold[t]);
  g_error ("%s:\n  secateur: %s\n  HF:       %s", what, a->str, h->str);
}
