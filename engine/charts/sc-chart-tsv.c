/* sc-chart-tsv.c: parsing the TSV tables of sc-plot. */
#include "sc-chart-tsv.h"

#include <math.h>
#include <string.h>

G_DEFINE_QUARK (sc - tsv - error - quark, sc_tsv_error)

void
sc_tsv_table_free (ScTsvTable *table)
{
  if (table == NULL)
    return;
  g_free (table->corner);
  g_strfreev (table->col_labels);
  g_strfreev (table->row_labels);
  g_free (table->values);
  g_free (table);
}

/* A number cell: empty, "nan" or "NA" is missing; anything else must parse
 * whole (C locale, so files read the same everywhere). */
static gboolean
parse_cell (const char *cell, double *out)
{
  g_autofree char *s = g_strstrip (g_strdup (cell));
  char *end = NULL;

  if (*s == '\0' || g_ascii_strcasecmp (s, "nan") == 0 || g_ascii_strcasecmp (s, "na") == 0)
    {
      *out = NAN;
      return TRUE;
    }
  *out = g_ascii_strtod (s, &end);
  return end != s && *end == '\0';
}

ScTsvTable *
sc_tsv_table_parse (const char *text, gboolean has_header, GError **error)
{
  g_autoptr (ScTsvTable) table = g_new0 (ScTsvTable, 1);
  g_auto (GStrv) lines = NULL;
  GPtrArray *row_labels = g_ptr_array_new ();
  GArray *values = g_array_new (FALSE, FALSE, sizeof (double));
  gboolean header_seen = !has_header, ok = TRUE;

  g_return_val_if_fail (text != NULL, NULL);
  lines = g_strsplit (text, "\n", -1);
  table->n_cols = -1;
  for (int ln = 0; ok && lines[ln] != NULL; ln++)
    {
      g_auto (GStrv) cells = NULL;
      char *line = lines[ln];
      gsize len = strlen (line);
      int n;

      if (len > 0 && line[len - 1] == '\r')
        line[--len] = '\0';
      if (len == 0 || line[0] == '#' || strspn (line, " \t") == len)
        continue;
      cells = g_strsplit (line, "\t", -1);
      n = (int) g_strv_length (cells);
      if (!header_seen)
        {
          if (n < 2)
            {
              g_set_error (error, SC_TSV_ERROR, SC_TSV_ERROR_SHAPE,
                           "line %d: the header needs a first cell and at least one column name",
                           ln + 1);
              ok = FALSE;
              break;
            }
          table->corner = g_strstrip (g_strdup (cells[0]));
          table->col_labels = g_new0 (char *, n);
          for (int c = 1; c < n; c++)
            table->col_labels[c - 1] = g_strstrip (g_strdup (cells[c]));
          table->n_cols = n - 1;
          header_seen = TRUE;
          continue;
        }
      if (table->n_cols < 0)
        {
          if (n < 2)
            {
              g_set_error (error, SC_TSV_ERROR, SC_TSV_ERROR_SHAPE,
                           "line %d: a row needs a label and at least one number", ln + 1);
              ok = FALSE;
              break;
            }
          table->n_cols = n - 1;
          table->col_labels = g_new0 (char *, n);
          for (int c = 1; c < n; c++)
            table->col_labels[c - 1] = g_strdup_printf ("%d", c - 1);
        }
      if (n != table->n_cols + 1)
        {
          g_set_error (error, SC_TSV_ERROR, SC_TSV_ERROR_PARSE,
                       "line %d: %d cells, expected %d (tab-separated)", ln + 1, n,
                       table->n_cols + 1);
          ok = FALSE;
          break;
        }
      for (int c = 1; c < n; c++)
        {
          double v;
          if (!parse_cell (cells[c], &v))
            {
              g_set_error (error, SC_TSV_ERROR, SC_TSV_ERROR_PARSE,
                           "line %d, column %d: “%s” is not a number", ln + 1, c + 1, cells[c]);
              ok = FALSE;
              break;
            }
          g_array_append_val (values, v);
        }
      g_ptr_array_add (row_labels, g_strstrip (g_strdup (cells[0])));
    }

  if (ok && (row_labels->len == 0 || table->n_cols <= 0))
    {
      g_set_error (error, SC_TSV_ERROR, SC_TSV_ERROR_SHAPE, "the table has no data rows");
      ok = FALSE;
    }
  g_ptr_array_add (row_labels, NULL);
  table->row_labels = (char **) g_ptr_array_free (row_labels, FALSE);
  table->n_rows = (int) g_strv_length (table->row_labels);
  table->values = (double *) g_array_free (values, FALSE);
  if (table->corner == NULL)
    table->corner = g_strdup ("");
  return ok ? g_steal_pointer (&table) : NULL;
}

ScTsvTable *
sc_tsv_table_load (const char *path, gboolean has_header, GError **error)
{
  g_autofree char *text = NULL;
  g_autoptr (GError) local = NULL;
  ScTsvTable *table;

  if (!g_file_get_contents (path, &text, NULL, error))
    return NULL;
  if (!g_utf8_validate (text, -1, NULL))
    {
      g_set_error (error, SC_TSV_ERROR, SC_TSV_ERROR_PARSE, "%s: not UTF-8 text", path);
      return NULL;
    }
  table = sc_tsv_table_parse (text, has_header, &local);
  if (table == NULL)
    g_set_error (error, local->domain, local->code, "%s: %s", path, local->message);
  return table;
}

gboolean
sc_tsv_table_row_numbers (const ScTsvTable *table, double *out, GError **error)
{
  for (int r = 0; r < table->n_rows; r++)
    {
      if (!parse_cell (table->row_labels[r], &out[r]) || isnan (out[r]))
        {
          g_set_error (error, SC_TSV_ERROR, SC_TSV_ERROR_PARSE,
                       "row %d: x value “%s” is not a number", r + 1, table->row_labels[r]);
          return FALSE;
        }
    }
  return TRUE;
}
