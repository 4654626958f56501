/* sc-progress.c: rate and time left for every job's progress. */
#include "sc-progress.h"

void
sc_progress_meter_start (ScProgressMeter *meter, const char *stage, const char *unit, gint64 total,
                         ScProgressCallback callback, gpointer user_data)
{
  meter->callback = callback;
  meter->user_data = user_data;
  sc_progress_meter_stage (meter, stage, unit, total);
}

void
sc_progress_meter_stage (ScProgressMeter *meter, const char *stage, const char *unit, gint64 total)
{
  meter->report.stage = stage != NULL ? stage : "";
  meter->report.unit = unit != NULL ? unit : "";
  meter->report.done = 0;
  meter->report.total = MAX (total, 0);
  meter->report.rate = 0;
  meter->report.eta_s = -1;
  meter->start_us = g_get_monotonic_time ();
}

void
sc_progress_meter_update (ScProgressMeter *meter, gint64 done)
{
  ScProgress *p = &meter->report;

  done = MAX (done, 0);
  if (p->total > 0)
    done = MIN (done, p->total);
  p->done = done;

  /* Rate over the whole stage: steadier than the last step's, and what an
   * ETA for the rest of the stage needs. */
  double elapsed = (double) (g_get_monotonic_time () - meter->start_us) / G_USEC_PER_SEC;
  p->rate = done > 0 && elapsed > 0 ? (double) done / elapsed : 0;
  if (p->total > 0 && done == p->total)
    p->eta_s = 0;
  else if (p->total > 0 && p->rate > 0)
    p->eta_s = (double) (p->total - done) / p->rate;
  else
    p->eta_s = -1;

  if (meter->callback != NULL)
    meter->callback (p, meter->user_data);
}
