/* sc-sampler.c: calibration sampling across directions (MBS proportions,
 * uniform, one language, chosen pairs). See sc-sampler.h. */
#include "sc-sampler.h"
#include "sc-corpus.h"
#include "sc-json-file.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

G_DEFINE_QUARK (sc - sampler - error - quark, sc_sampler_error)

struct _ScShareTable
{
  GHashTable *shares; /* char* -> double* (normalised) */
};

void
sc_share_table_free (ScShareTable *table)
{
  if (table == NULL)
    return;
  g_hash_table_unref (table->shares);
  g_free (table);
}

ScShareTable *
sc_share_table_parse (const char *data, gssize len, const char *name, GError **error)
{
  g_return_val_if_fail (data != NULL, NULL);
  if (name == NULL)
    name = "share table";
  if (len < 0)
    len = strlen (data);
  if (!g_utf8_validate_len (data, len, NULL))
    {
      g_set_error (error, SC_SAMPLER_ERROR, SC_SAMPLER_ERROR_PARSE, "%s: invalid UTF-8", name);
      return NULL;
    }
  g_autofree char *copy = g_strndup (data, len);
  g_auto (GStrv) lines = g_strsplit (copy, "\n", -1);
  g_autoptr (GHashTable) h = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  double sum = 0;
  for (guint i = 0; lines[i]; i++)
    {
      char *line = g_strstrip (lines[i]);
      if (line[0] == '\0' || line[0] == '#')
        continue;
      g_auto (GStrv) f = g_strsplit_set (line, " \t", -1);
      const char *fields[3] = { NULL, NULL, NULL };
      guint nf = 0;
      for (guint k = 0; f[k]; k++)
        if (f[k][0] != '\0')
          {
            if (nf < 3)
              fields[nf] = f[k];
            nf++;
          }
      char *end = NULL;
      double v = nf == 2 ? g_ascii_strtod (fields[1], &end) : NAN;
      if (nf != 2 || end == fields[1] || *end != '\0' || !isfinite (v) || v < 0)
        {
          g_set_error (error, SC_SAMPLER_ERROR, SC_SAMPLER_ERROR_PARSE,
                       "%s line %u: expected “code<TAB>share” with a non-negative number", name,
                       i + 1);
          return NULL;
        }
      if (g_hash_table_contains (h, fields[0]))
        {
          g_set_error (error, SC_SAMPLER_ERROR, SC_SAMPLER_ERROR_PARSE,
                       "%s line %u: language %s listed twice", name, i + 1, fields[0]);
          return NULL;
        }
      g_hash_table_insert (h, g_strdup (fields[0]), g_memdup2 (&v, sizeof v));
      sum += v;
    }
  if (g_hash_table_size (h) == 0 || !(sum > 0))
    {
      g_set_error (error, SC_SAMPLER_ERROR, SC_SAMPLER_ERROR_PARSE,
                   "%s: no languages with a positive share", name);
      return NULL;
    }
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, h);
  while (g_hash_table_iter_next (&it, &k, &v))
    *(double *) v /= sum;
  ScShareTable *t = g_new0 (ScShareTable, 1);
  t->shares = g_steal_pointer (&h);
  return t;
}

ScShareTable *
sc_share_table_load (const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  /* a model folder's own table is not ours: read it guarded */
  if (!sc_file_read_small (path, SC_JSON_CONFIG_MAX_BYTES, &data, &len, error))
    return NULL;
  return sc_share_table_parse (data, len, path, error);
}

ScShareTable *
sc_share_table_load_default (GError **error)
{
  return sc_share_table_load_named ("nllb-200", error);
}

ScShareTable *
sc_share_table_load_for_model (const char *model_dir, GError **error)
{
  g_autofree char *own =
      model_dir ? g_build_filename (model_dir, "language-shares.tsv", NULL) : NULL;
  if (own != NULL && g_file_test (own, G_FILE_TEST_EXISTS))
    return sc_share_table_load (own, error);
  return sc_share_table_load_default (error);
}

ScShareTable *
sc_share_table_load_named (const char *name, GError **error)
{
  g_autofree char *rel = g_strdup_printf ("language-shares/%s.tsv", name);
  g_autofree char *path = sc_corpus_find_data (rel);
  if (path == NULL)
    {
      g_set_error (error, SC_SAMPLER_ERROR, SC_SAMPLER_ERROR_INVALID,
                   "The language-share table %s was not found (set SECATEUR_DATA_DIR)", rel);
      return NULL;
    }
  return sc_share_table_load (path, error);
}

gboolean
sc_share_table_lookup (const ScShareTable *table, const char *lang, double *share)
{
  g_return_val_if_fail (table != NULL, FALSE);
  double *v = lang ? g_hash_table_lookup (table->shares, lang) : NULL;
  if (v == NULL)
    return FALSE;
  if (share)
    *share = *v;
  return TRUE;
}

guint
sc_share_table_size (const ScShareTable *table)
{
  return table ? g_hash_table_size (table->shares) : 0;
}

/* ---- apportionment ---- */

typedef struct
{
  guint index;
  double frac;
} Remainder;

static int
cmp_remainder (const void *a, const void *b)
{
  const Remainder *x = a, *y = b;
  if (x->frac != y->frac)
    return x->frac > y->frac ? -1 : 1;
  return x->index < y->index ? -1 : (x->index > y->index);
}

/* Split `total` over n units with weights w (>= 0) by largest remainder.
 * With min_one (requires total >= n) every unit gets at least 1: units whose
 * quota is below 1 are fixed at 1 and the rest re-apportioned. */
static void
apportion (const double *w, guint n, guint total, gboolean min_one, guint *out)
{
  g_autofree gboolean *fixed = g_new0 (gboolean, n);
  g_autofree double *q = g_new0 (double, n);
  memset (out, 0, n * sizeof (guint));
  for (;;)
    {
      guint n_fixed = 0, n_active = 0;
      double W = 0;
      for (guint i = 0; i < n; i++)
        {
          if (fixed[i])
            {
              n_fixed++;
            }
          else
            {
              n_active++;
              W += w[i];
            }
        }
      if (n_active == 0)
        return;
      guint R = total - n_fixed;
      gboolean changed = FALSE;
      for (guint i = 0; i < n; i++)
        {
          if (fixed[i])
            continue;
          q[i] = W > 0 ? (double) R * w[i] / W : (double) R / n_active;
          if (min_one && q[i] < 1.0)
            {
              fixed[i] = TRUE;
              out[i] = 1;
              changed = TRUE;
            }
        }
      if (changed)
        continue;
      g_autofree Remainder *rem = g_new0 (Remainder, n_active);
      guint used = 0, k = 0;
      for (guint i = 0; i < n; i++)
        {
          if (fixed[i])
            continue;
          double f = floor (q[i]);
          out[i] = (guint) f;
          used += out[i];
          rem[k].index = i;
          rem[k].frac = q[i] - f;
          k++;
        }
      qsort (rem, n_active, sizeof (Remainder), cmp_remainder);
      for (guint j = 0; used < R; j = (j + 1) % n_active, used++)
        out[rem[j].index]++;
      return;
    }
}

/* ---- sampling ---- */

void
sc_sample_free (ScSample *s)
{
  if (s == NULL)
    return;
  g_free (s->counts);
  if (s->picks)
    g_array_unref (s->picks);
  g_strfreev (s->languages);
  g_free (s->language_counts);
  g_free (s);
}

static const char *
dir_tgt (const ScSampleDirection *d)
{
  return d->tgt && *d->tgt ? d->tgt : d->src;
}

static char *
dir_key (const ScSampleDirection *d)
{
  if (strcmp (dir_tgt (d), d->src) == 0)
    return g_strdup (d->src);
  return g_strconcat (d->src, "-", d->tgt, NULL);
}

/* Draw `count` items of [0, n) for one direction: partial Fisher-Yates,
 * starting a new permutation after each full pass. */
static void
draw_items (GArray *picks, guint direction, guint count, guint n, guint32 seed)
{
  guint32 seeds[2] = { seed, direction };
  GRand *rand = g_rand_new_with_seed_array (seeds, 2);
  guint *perm = g_new (guint, n);
  guint done = 0;
  while (done < count)
    {
      for (guint i = 0; i < n; i++)
        perm[i] = i;
      guint take = MIN (count - done, n);
      for (guint i = 0; i < take; i++)
        {
          guint j = i + (guint) g_rand_int_range (rand, 0, (gint32) (n - i));
          guint t = perm[i];
          perm[i] = perm[j];
          perm[j] = t;
          ScSamplePick p = { direction, perm[i] };
          g_array_append_val (picks, p);
        }
      done += take;
    }
  g_free (perm);
  g_rand_free (rand);
}

ScSample *
sc_sample_directions (const ScSampleDirection *dirs, guint n_dirs, const ScSamplerOptions *opts,
                      GError **error)
{
  g_return_val_if_fail (opts != NULL, NULL);
  if (dirs == NULL || n_dirs == 0)
    {
      g_set_error (error, SC_SAMPLER_ERROR, SC_SAMPLER_ERROR_INVALID,
                   "No directions to sample from");
      return NULL;
    }
  if (opts->n_samples == 0)
    {
      g_set_error (error, SC_SAMPLER_ERROR, SC_SAMPLER_ERROR_INVALID,
                   "The number of calibration samples must be positive");
      return NULL;
    }
  for (guint i = 0; i < n_dirs; i++)
    {
      if (dirs[i].src == NULL || dirs[i].src[0] == '\0')
        {
          g_set_error (error, SC_SAMPLER_ERROR, SC_SAMPLER_ERROR_INVALID,
                       "Direction %u has no source language", i);
          return NULL;
        }
      if (dirs[i].n_items == 0 || dirs[i].n_items > G_MAXINT32)
        {
          g_autofree char *key = dir_key (&dirs[i]);
          g_set_error (error, SC_SAMPLER_ERROR, SC_SAMPLER_ERROR_INVALID,
                       "Direction %s has %s corpus items", key,
                       dirs[i].n_items == 0 ? "no" : "too many");
          return NULL;
        }
    }

  g_autofree double *w = g_new0 (double, n_dirs);
  g_autofree gboolean *eligible = g_new0 (gboolean, n_dirs);
  gboolean min_one = FALSE;

  switch (opts->mode)
    {
    case SC_SAMPLE_PROPORTIONAL:
      if (opts->shares == NULL)
        {
          g_set_error (error, SC_SAMPLER_ERROR, SC_SAMPLER_ERROR_INVALID,
                       "Proportional sampling needs a language-share table");
          return NULL;
        }
      if (opts->n_samples < n_dirs)
        {
          g_set_error (error, SC_SAMPLER_ERROR, SC_SAMPLER_ERROR_INVALID,
                       "%u samples are fewer than the %u directions; proportional sampling gives "
                       "every direction at least one",
                       opts->n_samples, n_dirs);
          return NULL;
        }
      for (guint i = 0; i < n_dirs; i++)
        {
          double a, b;
          const char *missing = NULL;
          if (!sc_share_table_lookup (opts->shares, dirs[i].src, &a))
            missing = dirs[i].src;
          else if (!sc_share_table_lookup (opts->shares, dir_tgt (&dirs[i]), &b))
            missing = dir_tgt (&dirs[i]);
          if (missing)
            {
              g_set_error (error, SC_SAMPLER_ERROR, SC_SAMPLER_ERROR_LANGUAGE,
                           "Language %s is not in the language-share table", missing);
              return NULL;
            }
          w[i] = MIN (a, b);
          eligible[i] = TRUE;
        }
      min_one = TRUE;
      break;
    case SC_SAMPLE_UNIFORM:
      for (guint i = 0; i < n_dirs; i++)
        {
          w[i] = 1;
          eligible[i] = TRUE;
        }
      break;
    case SC_SAMPLE_SINGLE:
      {
        if (opts->language == NULL || opts->language[0] == '\0')
          {
            g_set_error (error, SC_SAMPLER_ERROR, SC_SAMPLER_ERROR_INVALID,
                         "Single-language sampling needs a language");
            return NULL;
          }
        gboolean any = FALSE;
        for (guint i = 0; i < n_dirs; i++)
          any |= eligible[i] = strcmp (dirs[i].src, opts->language) == 0;
        if (!any)
          for (guint i = 0; i < n_dirs; i++)
            any |= eligible[i] = strcmp (dir_tgt (&dirs[i]), opts->language) == 0;
        if (!any)
          {
            g_set_error (error, SC_SAMPLER_ERROR, SC_SAMPLER_ERROR_LANGUAGE,
                         "No direction has %s as its source or target language", opts->language);
            return NULL;
          }
        for (guint i = 0; i < n_dirs; i++)
          w[i] = eligible[i] ? 1 : 0;
        break;
      }
    case SC_SAMPLE_PAIRS:
      {
        if (opts->pairs == NULL || opts->pairs[0] == NULL)
          {
            g_set_error (error, SC_SAMPLER_ERROR, SC_SAMPLER_ERROR_INVALID,
                         "Pair sampling needs at least one pair");
            return NULL;
          }
        for (guint p = 0; opts->pairs[p]; p++)
          {
            gboolean found = FALSE;
            for (guint i = 0; i < n_dirs; i++)
              {
                g_autofree char *key = dir_key (&dirs[i]);
                if (strcmp (key, opts->pairs[p]) == 0)
                  {
                    eligible[i] = TRUE;
                    found = TRUE;
                  }
              }
            if (!found)
              {
                g_set_error (error, SC_SAMPLER_ERROR, SC_SAMPLER_ERROR_LANGUAGE,
                             "Pair %s is not among the directions", opts->pairs[p]);
                return NULL;
              }
          }
        for (guint i = 0; i < n_dirs; i++)
          w[i] = eligible[i] ? 1 : 0;
        break;
      }
    default:
      g_set_error (error, SC_SAMPLER_ERROR, SC_SAMPLER_ERROR_INVALID, "Unknown sampling mode %d",
                   (int) opts->mode);
      return NULL;
    }

  /* Apportion over the eligible directions only. */
  g_autofree guint *idx = g_new0 (guint, n_dirs);
  g_autofree double *ew = g_new0 (double, n_dirs);
  guint ne = 0;
  for (guint i = 0; i < n_dirs; i++)
    if (eligible[i])
      {
        idx[ne] = i;
        ew[ne] = w[i];
        ne++;
      }
  g_autofree guint *ec = g_new0 (guint, ne);
  apportion (ew, ne, opts->n_samples, min_one, ec);

  ScSample *s = g_new0 (ScSample, 1);
  s->n_directions = n_dirs;
  s->counts = g_new0 (guint, n_dirs);
  for (guint k = 0; k < ne; k++)
    s->counts[idx[k]] = ec[k];
  s->picks = g_array_sized_new (FALSE, FALSE, sizeof (ScSamplePick), opts->n_samples);
  for (guint i = 0; i < n_dirs; i++)
    if (s->counts[i] > 0)
      draw_items (s->picks, i, s->counts[i], dirs[i].n_items, opts->seed);

  /* Languages in first-seen order, with their pick counts. */
  GPtrArray *langs = g_ptr_array_new ();
  GArray *lc = g_array_new (FALSE, TRUE, sizeof (guint));
  for (guint i = 0; i < n_dirs; i++)
    {
      const char *sides[2] = { dirs[i].src, dir_tgt (&dirs[i]) };
      for (guint side = 0; side < 2; side++)
        {
          if (side == 1 && strcmp (sides[0], sides[1]) == 0)
            break;
          guint j;
          for (j = 0; j < langs->len; j++)
            if (strcmp (langs->pdata[j], sides[side]) == 0)
              break;
          if (j == langs->len)
            {
              g_ptr_array_add (langs, g_strdup (sides[side]));
              g_array_set_size (lc, langs->len);
            }
          g_array_index (lc, guint, j) += s->counts[i];
        }
    }
  g_ptr_array_add (langs, NULL);
  s->languages = (char **) g_ptr_array_free (langs, FALSE);
  s->language_counts = (guint *) g_array_free (lc, FALSE);
  return s;
}

guint
sc_sample_language_count (const ScSample *sample, const char *lang)
{
  g_return_val_if_fail (sample != NULL, 0);
  for (guint i = 0; sample->languages[i]; i++)
    if (g_strcmp0 (sample->languages[i], lang) == 0)
      return sample->language_counts[i];
  return 0;
}

char *
sc_sample_describe (const ScSample *sample, const ScSampleDirection *dirs)
{
  g_return_val_if_fail (sample != NULL && dirs != NULL, NULL);
  GString *out = g_string_new (NULL);
  guint used = 0;
  for (guint i = 0; i < sample->n_directions; i++)
    used += sample->counts[i] > 0;
  g_string_append_printf (out, "%u samples from %u of %u directions\nper language:\n",
                          sample->picks->len, used, sample->n_directions);
  for (guint i = 0; sample->languages[i]; i++)
    g_string_append_printf (out, "  %-10s %u\n", sample->languages[i], sample->language_counts[i]);
  g_string_append (out, "per direction:\n");
  for (guint i = 0; i < sample->n_directions; i++)
    {
      if (sample->counts[i] == 0)
        continue;
      g_autofree char *key = dir_key (&dirs[i]);
      g_string_append_printf (out, "  %-19s %u of %u\n", key, sample->counts[i], dirs[i].n_items);
    }
  return g_string_free (out, FALSE);
}
