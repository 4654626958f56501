/* sc-progress.h: the one progress report every long job gives (calibrate,
 * evaluate, sweep, sparsify, export). Rate and time left are worked out
 * here, once, so the application and the CLI show the same numbers. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  const char *stage;  /* what runs now, e.g. "calibrate", "translate pruned"; never NULL */
  const char *unit;   /* what is counted, e.g. "sentences", "layers"; never NULL */
  gint64      done;
  gint64      total;  /* 0 when unknown */
  double      rate;   /* units per second over the stage so far, 0 until one unit is done */
  double      eta_s;  /* seconds left in the stage, < 0 while unknown */
} ScProgress;

typedef void (*ScProgressCallback) (const ScProgress *progress, gpointer user_data);

/* Turns "done of total" into reports with rate and ETA; one per stage. */
typedef struct {
  ScProgress         report;
  gint64             start_us;
  ScProgressCallback callback;
  gpointer           user_data;
} ScProgressMeter;

/* callback may be NULL (nothing is reported). stage and unit must outlive the meter. */
void     sc_progress_meter_start  (ScProgressMeter *meter, const char *stage, const char *unit,
                                   gint64 total, ScProgressCallback callback, gpointer user_data);
/* Reports `done` units (clamped to total when known). */
void     sc_progress_meter_update (ScProgressMeter *meter, gint64 done);
/* The same meter, same callback, a new stage from zero. */
void     sc_progress_meter_stage  (ScProgressMeter *meter, const char *stage, const char *unit,
                                   gint64 total);

G_END_DECLS
