/* sc-test-controller.h: a controller loaded and calibrated, each job run to
 * its end in the test's main loop and asserted to succeed; for the tests
 * whose subject comes after (sweeps, runs, exports, the CLI's twins). */
#pragma once

#include "sc-test-async.h"
#include "secateur-controller.h"

/* Loads the model folder `dir` into `c`. */
static inline void
sc_test_controller_load (SecateurController *c, const char *dir, ScTestWait *w)
{
  g_autoptr (GError) error = NULL;
  secateur_controller_load_async (c, dir, NULL, sc_test_got_result, w);
  g_autoptr (GAsyncResult) r = sc_test_wait_result (w);
  g_assert_true (secateur_controller_load_finish (c, r, &error));
  g_assert_no_error (error);
}

/* Makes `pairs` (NULL-terminated) c's directions and calibrates them,
 * teacher-forced, on `size` sentences of `corpus` (SC_CORPUS_UDHR or
 * SC_CORPUS_DEFAULT) drawn proportionally, `batch` per batch (0: default). */
static inline void
sc_test_controller_calibrate (SecateurController *c, const char *const *pairs, ScCorpusKind corpus,
                              int size, int batch, ScTestWait *w)
{
  g_autoptr (GError) error = NULL;
  secateur_controller_set_directions (c, pairs);
  SecateurCalibrateRequest req = {
    { corpus, NULL }, SC_SAMPLE_PROPORTIONAL, size, SC_CALIBRATE_TEACHER_FORCED, batch
  };
  secateur_controller_calibrate_async (c, &req, NULL, sc_test_got_result, w);
  g_autoptr (GAsyncResult) r = sc_test_wait_result (w);
  g_assert_true (secateur_controller_calibrate_finish (c, r, &error));
  g_assert_no_error (error);
}
