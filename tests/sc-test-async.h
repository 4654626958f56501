/* sc-test-async.h: waiting for one GAsyncResult in a test's main loop. */
#pragma once

#include <gio/gio.h>

typedef struct
{
  GMainLoop    *loop;
  GAsyncResult *result;
} ScTestWait;

/* GAsyncReadyCallback: keeps the result and stops the loop. */
static inline void
sc_test_got_result (GObject *source, GAsyncResult *result, gpointer data)
{
  ScTestWait *w = data;
  w->result = g_object_ref (result);
  g_main_loop_quit (w->loop);
}

/* Runs the loop until a result arrives; the caller owns it. */
static inline GAsyncResult *
sc_test_wait_result (ScTestWait *w)
{
  g_main_loop_run (w->loop);
  return g_steal_pointer (&w->result);
}
