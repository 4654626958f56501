/* test-progress.c: the progress meter's rate, time left and clamping. */
#include "sc-progress.h"

typedef struct {
  int        calls;
  ScProgress last;
} Seen;

static void
record (const ScProgress *p, gpointer user_data)
{
  Seen *seen = user_data;
  seen->calls++;
  seen->last = *p;
}

static void
test_rate_and_eta (void)
{
  Seen seen = { 0 };
  ScProgressMeter meter;

  sc_progress_meter_start (&meter, "calibrate", "sentences", 10, record, &seen);
  sc_progress_meter_update (&meter, 0);
  g_assert_cmpint (seen.calls, ==, 1);
  g_assert_cmpfloat (seen.last.rate, ==, 0);
  g_assert_cmpfloat (seen.last.eta_s, <, 0);

  g_usleep (20000);
  sc_progress_meter_update (&meter, 4);
  g_assert_cmpint (seen.last.done, ==, 4);
  g_assert_cmpint (seen.last.total, ==, 10);
  g_assert_cmpstr (seen.last.stage, ==, "calibrate");
  g_assert_cmpstr (seen.last.unit, ==, "sentences");
  /* 4 units in >= 20 ms: at most 200 per second; 6 left take 1.5x as long as 4 did */
  g_assert_cmpfloat (seen.last.rate, >, 0);
  g_assert_cmpfloat (seen.last.rate, <=, 200);
  g_assert_cmpfloat_with_epsilon (seen.last.eta_s, 6 / seen.last.rate, 1e-9);

  sc_progress_meter_update (&meter, 12);
  g_assert_cmpint (seen.last.done, ==, 10);
  g_assert_cmpfloat (seen.last.eta_s, ==, 0);

  sc_progress_meter_stage (&meter, "translate pruned", "sentences", 0);
  sc_progress_meter_update (&meter, 3);
  g_assert_cmpstr (seen.last.stage, ==, "translate pruned");
  g_assert_cmpint (seen.last.done, ==, 3);
  g_assert_cmpfloat (seen.last.eta_s, <, 0); /* total unknown */
  g_assert_cmpint (seen.calls, ==, 4);
}

static void
test_no_callback (void)
{
  ScProgressMeter meter;

  sc_progress_meter_start (&meter, NULL, NULL, 2, NULL, NULL);
  sc_progress_meter_update (&meter, -5);
  g_assert_cmpint (meter.report.done, ==, 0);
  g_assert_cmpstr (meter.report.stage, ==, "");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/progress/rate-and-eta", test_rate_and_eta);
  g_test_add_func ("/progress/no-callback", test_no_callback);
  return g_test_run ();
}
