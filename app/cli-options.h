/* cli-options.h: the numeric options of every secateur-cli command, read
 * and checked in one place. A value that is not a number, NaN, infinite or
 * outside its range is refused while the command line is parsed, with an
 * error naming the option, the value and what is allowed (exit status 2),
 * instead of a usage message, a hang or a crash later. Bounds that depend
 * on the model are checked after loading it with sc_cli_check_int. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  SC_CLI_ABOVE_MIN = 1 << 0, /* min itself is not allowed */
  SC_CLI_BELOW_MAX = 1 << 1, /* max itself is not allowed */
} ScCliRangeFlags;

typedef struct {
  const char     *name;  /* long name of a G_OPTION_ARG_INT, _INT64 or _DOUBLE entry, no "--" */
  double          min;   /* allowed values, inclusive unless flags say otherwise */
  double          max;
  ScCliRangeFlags flags;
  const char     *zero;  /* not NULL: 0 is allowed too and means this ("the model's default") */
} ScCliRange;

/* Largest GiB figure a memory option takes (one PiB: anything more is a typo). */
#define SC_CLI_MAX_GIB 1048576.0
/* Beams and output tokens at most, as config.json may ask for them
 * (sc-config.c); memory then bounds them further (sc_cli_fit_batch). */
#define SC_CLI_MAX_BEAMS 1024
#define SC_CLI_MAX_LEN (1 << 20)
/* Calibration sentences or samples at most: they are drawn (with
 * repetition) and held in memory before the first forward pass. */
#define SC_CLI_MAX_SAMPLES (1 << 20)

typedef struct _ScCliOptions ScCliOptions;

/* Adds `entries` as the main options of ctx. Those named in `ranges`
 * (terminated by { NULL }) are parsed as decimal numbers and checked while
 * the command line is read, then stored where their entry points. The
 * result belongs to ctx. */
ScCliOptions *sc_cli_add_main_entries (GOptionContext *ctx, const GOptionEntry *entries,
                                       const ScCliRange *ranges);
/* The same for a group of options (its name, descriptions as
 * g_option_group_new takes them), added to ctx. */
ScCliOptions *sc_cli_add_group (GOptionContext *ctx, const char *name, const char *description,
                                const char *help, const GOptionEntry *entries,
                                const ScCliRange *ranges);
/* Whether the checked option `name` was on the command line. */
gboolean      sc_cli_options_given (const ScCliOptions *options, const char *name);

/* Whether the integer `value` of --name lies in `range` (range->name is
 * not used), for bounds known only once the model is loaded; else an error
 * in the same words as parsing gives. */
gboolean      sc_cli_check_int        (const char *name, gint64 value, const ScCliRange *range,
                                       GError **error);

G_END_DECLS
