/* sc-selection.c: fixed-per-layer and global-threshold expert selection.
 * See sc-selection.h. */
#include "sc-selection.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

G_DEFINE_QUARK (sc - select - error - quark, sc_select_error)

void
sc_select_options_init (ScSelectOptions *opt)
{
  *opt = (ScSelectOptions){
    .algo = SC_SELECT_PER_LAYER,
    .ratio = 0.8,
    .enc_weight = 3,
    .dec_weight = 1,
    .min_per_layer = 4,
  };
}

gboolean
sc_select_budget (const ScSelectOptions *opt, int n_layers, int n_enc, int E, ScSelectBudget *out,
                  GError **error)
{
  int n_dec = n_layers - n_enc;
  int total = n_layers * E;
  if (n_layers <= 0 || E <= 0 || n_enc < 0 || n_enc > n_layers)
    {
      g_set_error (error, SC_SELECT_ERROR, SC_SELECT_ERROR_INVALID,
                   "Bad model shape for selection");
      return FALSE;
    }
  if (opt->enc_weight < 1 || opt->dec_weight < 1)
    {
      g_set_error (error, SC_SELECT_ERROR, SC_SELECT_ERROR_INVALID,
                   "Encoder:decoder budget %d:%d: both parts must be at least 1", opt->enc_weight,
                   opt->dec_weight);
      return FALSE;
    }
  double want; /* experts to keep, possibly fractional */
  if (opt->keep_count > 0)
    {
      if (opt->keep_count > total)
        {
          g_set_error (error, SC_SELECT_ERROR, SC_SELECT_ERROR_BUDGET,
                       "Cannot keep %d experts: the model has %d", opt->keep_count, total);
          return FALSE;
        }
      want = opt->keep_count;
    }
  else if (opt->memory_budget > 0)
    {
      if (opt->bytes_per_expert == 0)
        {
          g_set_error (error, SC_SELECT_ERROR, SC_SELECT_ERROR_INVALID,
                       "A memory budget needs the size of one expert in bytes");
          return FALSE;
        }
      if (opt->memory_budget <= opt->dense_bytes)
        {
          g_set_error (error, SC_SELECT_ERROR, SC_SELECT_ERROR_BUDGET,
                       "A memory budget of %.3f GiB is smaller than the dense part of the model "
                       "(%.3f GiB)",
                       opt->memory_budget / 1073741824.0, opt->dense_bytes / 1073741824.0);
          return FALSE;
        }
      want = (double) ((opt->memory_budget - opt->dense_bytes) / opt->bytes_per_expert);
      if (want < 1)
        {
          g_set_error (error, SC_SELECT_ERROR, SC_SELECT_ERROR_BUDGET,
                       "A memory budget of %.3f GiB leaves no room for a single expert "
                       "(%.1f MiB each)",
                       opt->memory_budget / 1073741824.0, opt->bytes_per_expert / 1048576.0);
          return FALSE;
        }
      want = MIN (want, total);
    }
  else
    {
      if (!(opt->ratio >= 0 && opt->ratio < 1))
        {
          g_set_error (error, SC_SELECT_ERROR, SC_SELECT_ERROR_INVALID,
                       "Pruning ratio %g is outside [0, 1)", opt->ratio);
          return FALSE;
        }
      want = total * (1.0 - opt->ratio);
    }

  if (want >= total)
    {
      *out = (ScSelectBudget){ total, n_enc * E, E, E };
      return TRUE;
    }
  int a = opt->enc_weight, b = opt->dec_weight;
  int unit = (int) floor (want / (a * n_enc + b * n_dec) + 1e-9);
  int ke = MIN (E, a * unit), kd = MIN (E, b * unit);
  if (a * unit > E && n_dec > 0)
    kd = MIN (E, (int) floor ((want - (double) n_enc * E) / n_dec + 1e-9));
  else if (b * unit > E && n_enc > 0)
    ke = MIN (E, (int) floor ((want - (double) n_dec * E) / n_enc + 1e-9));
  ke = MAX (ke, 1);
  kd = MAX (kd, 1);
  out->enc_per_layer = ke;
  out->dec_per_layer = kd;
  if (opt->algo == SC_SELECT_THRESHOLD && opt->keep_count > 0)
    {
      /* an explicit count is honoured exactly; its encoder share follows a:b */
      out->keep_total = opt->keep_count;
      out->enc_total =
          (int) floor ((double) opt->keep_count * a * n_enc / (a * n_enc + b * n_dec) + 0.5);
    }
  else
    {
      out->keep_total = n_enc * ke + n_dec * kd;
      out->enc_total = n_enc * ke;
    }
  return TRUE;
}

typedef struct
{
  double v;
  int e;
} Item;

/* Descending value, lower expert id first on ties. */
static int
cmp_item (const void *pa, const void *pb)
{
  const Item *a = pa, *b = pb;
  if (a->v > b->v)
    return -1;
  if (a->v < b->v)
    return 1;
  return (a->e > b->e) - (a->e < b->e);
}

/* items[l*E..]: layer l normalised to sum 1 and sorted. */
static Item *
sorted_layers (const double *m, int L, int E)
{
  Item *items = g_new (Item, (gsize) L * E);
  for (int l = 0; l < L; l++)
    {
      double sum = 0;
      for (int e = 0; e < E; e++)
        sum += m[(gsize) l * E + e];
      for (int e = 0; e < E; e++)
        {
          double v = m[(gsize) l * E + e];
          items[(gsize) l * E + e] = (Item){ sum > 0 ? v / sum : 1.0 / E, e };
        }
      qsort (items + (gsize) l * E, E, sizeof (Item), cmp_item);
    }
  return items;
}

/* The global-threshold algorithm on layers [first, last), marking kept
 * experts in keep[l*E + e]. */
static gboolean
threshold (const Item *items, int first, int last, int E, int count, int min_per_layer,
           guint8 *keep, GError **error)
{
  int nl = last - first;
  if (nl <= 0)
    return TRUE;
  int forced = MIN (min_per_layer, E);
  if ((gint64) forced * nl > count)
    {
      g_set_error (error, SC_SELECT_ERROR, SC_SELECT_ERROR_BUDGET,
                   "Keeping %d experts is fewer than %d per layer over %d layers", count, forced,
                   nl);
      return FALSE;
    }
  if (count > nl * E)
    count = nl * E;
  int selected = 0;
  double *cum = g_new (double, (gsize) nl *E);
  for (int l = first; l < last; l++)
    {
      double c = 0;
      for (int i = 0; i < E; i++)
        {
          const Item *it = &items[(gsize) l * E + i];
          double *cv = &cum[(gsize) (l - first) * E + i];
          if (i < forced)
            {
              keep[(gsize) l * E + it->e] = 1;
              selected++;
              *cv = INFINITY;
            }
          else
            {
              c += it->v;
              *cv = c;
            }
        }
    }
  double t = INFINITY;
  for (int k = 1; k <= 1000; k++)
    {
      double tk = k / 1000.0;
      int n = selected;
      for (gsize i = 0; i < (gsize) nl * E; i++)
        n += cum[i] < tk;
      if (n >= count)
        {
          t = tk;
          break;
        }
    }
  for (int l = first; l < last && selected < count; l++)
    for (int i = 0; i < E && selected < count; i++)
      if (cum[(gsize) (l - first) * E + i] < t)
        {
          keep[(gsize) l * E + items[(gsize) l * E + i].e] = 1;
          selected++;
        }
  g_free (cum);
  return TRUE;
}

static ScSelection *
selection_from_mask (const guint8 *keep, int L, int n_enc, int E)
{
  ScSelection *sel = g_new0 (ScSelection, 1);
  sel->n_layers = L;
  sel->n_encoder_layers = n_enc;
  sel->n_experts = E;
  sel->kept = g_new0 (GArray *, L);
  sel->global_ids = g_array_new (FALSE, FALSE, sizeof (int));
  for (int l = 0; l < L; l++)
    {
      sel->kept[l] = g_array_new (FALSE, FALSE, sizeof (int));
      for (int e = 0; e < E; e++)
        if (keep[(gsize) l * E + e])
          {
            int g = l * E + e;
            g_array_append_val (sel->kept[l], e);
            g_array_append_val (sel->global_ids, g);
          }
    }
  return sel;
}

ScSelection *
sc_select_experts (const double *metrics, int L, int n_enc, int E, const ScSelectOptions *opt,
                   GError **error)
{
  ScSelectBudget b;
  if (!sc_select_budget (opt, L, n_enc, E, &b, error))
    return NULL;
  for (gsize i = 0; i < (gsize) L * E; i++)
    if (!isfinite (metrics[i]) || metrics[i] < 0)
      {
        g_set_error (error, SC_SELECT_ERROR, SC_SELECT_ERROR_INVALID,
                     "Metric of layer %d expert %d is %g; metrics must be finite and >= 0",
                     (int) (i / E), (int) (i % E), metrics[i]);
        return NULL;
      }
  g_autofree Item *items = sorted_layers (metrics, L, E);
  g_autofree guint8 *keep = g_new0 (guint8, (gsize) L * E);
  if (b.keep_total >= L * E)
    {
      memset (keep, 1, (gsize) L * E);
    }
  else if (opt->algo == SC_SELECT_PER_LAYER)
    {
      for (int l = 0; l < L; l++)
        {
          int k = l < n_enc ? b.enc_per_layer : b.dec_per_layer;
          for (int i = 0; i < k; i++)
            keep[(gsize) l * E + items[(gsize) l * E + i].e] = 1;
        }
    }
  else if (opt->separate_enc_dec)
    {
      if (!threshold (items, 0, n_enc, E, b.enc_total, opt->min_per_layer, keep, error) ||
          !threshold (items, n_enc, L, E, b.keep_total - b.enc_total, opt->min_per_layer, keep,
                      error))
        return NULL;
    }
  else
    {
      if (!threshold (items, 0, L, E, b.keep_total, opt->min_per_layer, keep, error))
        return NULL;
    }
  return selection_from_mask (keep, L, n_enc, E);
}

ScSelection *
sc_selection_new_from_ids (const int *ids, int n_ids, int L, int n_enc, int E, GError **error)
{
  g_autofree guint8 *keep = g_new0 (guint8, (gsize) L * E);
  for (int i = 0; i < n_ids; i++)
    {
      if (ids[i] < 0 || ids[i] >= L * E)
        {
          g_set_error (error, SC_SELECT_ERROR, SC_SELECT_ERROR_INVALID,
                       "Expert id %d is out of range (0..%d)", ids[i], L * E - 1);
          return NULL;
        }
      keep[ids[i]] = 1;
    }
  return selection_from_mask (keep, L, n_enc, E);
}

void
sc_selection_free (ScSelection *sel)
{
  if (sel == NULL)
    return;
  for (int l = 0; l < sel->n_layers; l++)
    g_array_unref (sel->kept[l]);
  g_free (sel->kept);
  g_array_unref (sel->global_ids);
  g_free (sel);
}

ScExpertSet *
sc_selection_to_expert_set (const ScSelection *sel)
{
  g_autofree guint8 *keep = g_new0 (guint8, (gsize) sel->n_layers * sel->n_experts + 1);
  for (guint i = 0; i < sel->global_ids->len; i++)
    keep[g_array_index (sel->global_ids, int, i)] = 1;
  return sc_expert_set_new_from_keep (keep, sel->n_layers, sel->n_experts);
}

guint64
sc_selection_bytes (const ScSelection *sel, guint64 bytes_per_expert, guint64 dense_bytes)
{
  return dense_bytes + (guint64) sel->global_ids->len * bytes_per_expert;
}
