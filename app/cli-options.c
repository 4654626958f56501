/* cli-options.c: numeric command-line options parsed and range-checked as
 * GOption reads them (see cli-options.h). Each checked entry becomes a
 * callback entry whose data is the command's table, so the value is
 * refused with a message saying what is wrong before anything runs. */
#include "cli-options.h"

#include <errno.h>
#include <math.h>

struct _ScCliOptions
{
  GOptionEntry *entries;  /* what GOption sees: checked ones as callbacks */
  GOptionEntry *original; /* the command's entries (types and targets) */
  ScCliRange *ranges;     /* [n], per entry; name NULL: not checked */
  guint8 *given;          /* [n] */
  guint n;
};

static void
options_free (gpointer data)
{
  ScCliOptions *o = data;
  g_free (o->entries);
  g_free (o->original);
  g_free (o->ranges);
  g_free (o->given);
  g_free (o);
}

/* "12", "0.5", "1e+30": integers without a fraction, others as %g. */
static char *
number_str (double v)
{
  if (v == floor (v) && fabs (v) < 1e15)
    return g_strdup_printf ("%.0f", v);
  return g_strdup_printf ("%g", v);
}

/* "an integer from 1 to 1024 (or 0: the model's default)" */
static char *
describe (const ScCliRange *r, gboolean integer)
{
  g_autofree char *lo = number_str (r->min), *hi = number_str (r->max);
  GString *s = g_string_new (integer ? "an integer " : "a number ");
  if (r->flags & SC_CLI_ABOVE_MIN)
    g_string_append_printf (s, "above %s", lo);
  else if (isinf (r->max))
    g_string_append_printf (s, "of at least %s", lo);
  else
    g_string_append_printf (s, "from %s", lo);
  if (isinf (r->max))
    ; /* no upper bound */
  else if (r->flags & SC_CLI_BELOW_MAX)
    g_string_append_printf (s, " to below %s", hi);
  else if (r->flags & SC_CLI_ABOVE_MIN)
    g_string_append_printf (s, " and at most %s", hi);
  else
    g_string_append_printf (s, " to %s", hi);
  if (r->zero != NULL)
    g_string_append_printf (s, " (or 0: %s)", r->zero);
  return g_string_free (s, FALSE);
}

static gboolean
in_range (double v, const ScCliRange *r)
{
  if (r->zero != NULL && v == 0.0)
    return TRUE;
  return (r->flags & SC_CLI_ABOVE_MIN ? v > r->min : v >= r->min) &&
         (r->flags & SC_CLI_BELOW_MAX ? v < r->max : v <= r->max);
}

static gboolean
refuse (const char *name, const char *typed, const ScCliRange *r, gboolean integer, GError **error)
{
  g_autofree char *what = describe (r, integer);
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--%s must be %s, not %s", name,
               what, typed);
  return FALSE;
}

gboolean
sc_cli_check_int (const char *name, gint64 value, const ScCliRange *range, GError **error)
{
  if (in_range ((double) value, range))
    return TRUE;
  g_autofree char *typed = g_strdup_printf ("%" G_GINT64_FORMAT, value);
  return refuse (name, typed, range, TRUE, error);
}

static gboolean
on_number (const char *option_name, const char *value, gpointer data, GError **error)
{
  ScCliOptions *o = data;
  guint i;
  for (i = 0; i < o->n; i++)
    {
      const GOptionEntry *e = &o->original[i];
      if (o->ranges[i].name == NULL)
        continue;
      if ((option_name[1] == '-' && g_str_equal (option_name + 2, e->long_name)) ||
          (option_name[1] != '-' && option_name[1] == e->short_name && option_name[2] == '\0'))
        break;
    }
  g_return_val_if_fail (i < o->n, FALSE);
  const GOptionEntry *e = &o->original[i];
  const ScCliRange *r = &o->ranges[i];
  gboolean integer = e->arg != G_OPTION_ARG_DOUBLE;
  double v;
  gint64 n = 0;

  if (integer)
    {
      g_autoptr (GError) local = NULL;
      if (!g_ascii_string_to_signed (value, 10, G_MININT64, G_MAXINT64, &n, &local))
        {
          if (g_error_matches (local, G_NUMBER_PARSER_ERROR, G_NUMBER_PARSER_ERROR_OUT_OF_BOUNDS))
            return refuse (e->long_name, value, r, TRUE, error);
          g_autofree char *quoted = g_strdup_printf ("“%s”", value);
          return refuse (e->long_name, quoted, r, TRUE, error);
        }
      v = (double) n;
    }
  else
    {
      char *end = NULL;
      errno = 0;
      v = g_ascii_strtod (value, &end);
      if (end == value || *end != '\0')
        {
          g_autofree char *quoted = g_strdup_printf ("“%s”", value);
          return refuse (e->long_name, quoted, r, FALSE, error);
        }
      if (errno == ERANGE && fabs (v) > 1.0)
        v = copysign (INFINITY, v); /* beyond double: out of any range */
    }
  if (!isfinite (v) || !in_range (v, r))
    return refuse (e->long_name, value, r, integer, error);

  if (e->arg == G_OPTION_ARG_INT)
    *(int *) e->arg_data = (int) n;
  else if (e->arg == G_OPTION_ARG_INT64)
    *(gint64 *) e->arg_data = n;
  else
    *(double *) e->arg_data = v;
  o->given[i] = 1;
  return TRUE;
}

static ScCliOptions *
options_new (const GOptionEntry *entries, const ScCliRange *ranges)
{
  ScCliOptions *o = g_new0 (ScCliOptions, 1);
  while (entries[o->n].long_name != NULL)
    o->n++;
  o->original = g_memdup2 (entries, sizeof (GOptionEntry) * (o->n + 1));
  o->entries = g_memdup2 (entries, sizeof (GOptionEntry) * (o->n + 1));
  o->ranges = g_new0 (ScCliRange, o->n);
  o->given = g_new0 (guint8, o->n);
  for (const ScCliRange *r = ranges; r != NULL && r->name != NULL; r++)
    {
      guint i = 0;
      while (i < o->n && !g_str_equal (entries[i].long_name, r->name))
        i++;
      g_return_val_if_fail (i < o->n, o);
      GOptionArg a = entries[i].arg;
      g_return_val_if_fail (
          a == G_OPTION_ARG_INT || a == G_OPTION_ARG_INT64 || a == G_OPTION_ARG_DOUBLE, o);
      o->ranges[i] = *r;
      o->entries[i].arg = G_OPTION_ARG_CALLBACK;
      o->entries[i].arg_data = (gpointer) on_number;
    }
  return o;
}

ScCliOptions *
sc_cli_add_main_entries (GOptionContext *ctx, const GOptionEntry *entries, const ScCliRange *ranges)
{
  ScCliOptions *o = options_new (entries, ranges);
  GOptionGroup *group = g_option_group_new (NULL, NULL, NULL, o, options_free);
  g_option_group_add_entries (group, o->entries);
  g_option_context_set_main_group (ctx, group);
  return o;
}

ScCliOptions *
sc_cli_add_group (GOptionContext *ctx, const char *name, const char *description, const char *help,
                  const GOptionEntry *entries, const ScCliRange *ranges)
{
  ScCliOptions *o = options_new (entries, ranges);
  GOptionGroup *group = g_option_group_new (name, description, help, o, options_free);
  g_option_group_add_entries (group, o->entries);
  g_option_context_add_group (ctx, group);
  return o;
}

gboolean
sc_cli_options_given (const ScCliOptions *options, const char *name)
{
  for (guint i = 0; i < options->n; i++)
    if (g_str_equal (options->original[i].long_name, name))
      return options->given[i] != 0;
  g_return_val_if_reached (FALSE);
}
