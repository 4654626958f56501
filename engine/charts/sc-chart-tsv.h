/* sc-chart-tsv.h: the tab-separated tables that bench scripts hand to
 * sc-plot: a header row of column names, then rows of a label (or x value)
 * and numbers; an empty cell is a missing value. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SC_TSV_ERROR (sc_tsv_error_quark ())
GQuark sc_tsv_error_quark (void);

typedef enum {
  SC_TSV_ERROR_PARSE, /* a cell is not a number, a row has the wrong width */
  SC_TSV_ERROR_SHAPE, /* no data, or not the shape the chart needs */
} ScTsvError;

typedef struct {
  int n_rows, n_cols;  /* numbers: rows x columns (without header and first column) */
  char *corner;        /* first cell of the header row */
  char **col_labels;   /* n_cols header cells after the first (NULL-terminated) */
  char **row_labels;   /* n_rows first cells of the rows (NULL-terminated) */
  double *values;      /* n_rows * n_cols, row-major; NAN = empty cell */
} ScTsvTable;

/* has_header FALSE: every line is a data row (col_labels are "0", "1"..).
 * Lines starting with '#' and blank lines are skipped. */
ScTsvTable *sc_tsv_table_parse (const char *text, gboolean has_header, GError **error);
ScTsvTable *sc_tsv_table_load  (const char *path, gboolean has_header, GError **error);
void        sc_tsv_table_free  (ScTsvTable *table);
/* The row labels as numbers (a curve's x column); FALSE with an error
 * naming the first that is not one. */
gboolean    sc_tsv_table_row_numbers (const ScTsvTable *table, double *out, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScTsvTable, sc_tsv_table_free)

G_END_DECLS
