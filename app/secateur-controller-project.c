/* secateur-controller-project.c: the controller's project (sc-project.h),
 * the folder that keeps the user's work on the open model. Opening a model
 * opens (or creates) its project under the project root, opening a
 * project folder opens its model; either restores the statistics with
 * their runs, the quality sweeps, the prune settings and the directions.
 * Every finished job and every settings change is saved; settings changes
 * are written after a short pause, so that a slider drag is one write. */
#include "secateur-controller-private.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

/* A slider drag changes the settings many times a second. */
#define SAVE_DELAY_MS 400

void
controller_project_load_clear (ControllerProjectLoad *pl)
{
  g_clear_pointer (&pl->root, g_free);
  g_clear_pointer (&pl->project, sc_project_free);
  g_clear_pointer (&pl->stats, sc_stats_free);
  g_clear_pointer (&pl->sweeps, g_ptr_array_unref);
  g_clear_pointer (&pl->capture, sc_capture_free);
  g_clear_pointer (&pl->note, g_free);
}

/* statistics.capture beside the project's statistics.json */
static char *
project_capture_path (ScProject *project)
{
  g_autofree char *stats = sc_project_stats_path (project);
  return sc_capture_path_for_stats (stats);
}

gboolean
controller_project_load_prepare (ControllerProjectLoad *pl, const char *dir, char **model_dir,
                                 GError **error)
{
  if (!sc_project_is_project (dir))
    {
      *model_dir = g_strdup (dir);
      return TRUE;
    }
  /* a project folder: its model, which must be the one it was made on */
  pl->project = sc_project_open (dir, NULL, error);
  if (pl->project == NULL)
    return FALSE;
  *model_dir = g_strdup (sc_project_get_model_dir (pl->project));
  return TRUE;
}

void
controller_project_load_open (ControllerProjectLoad *pl, ScModel *model)
{
  g_autoptr (GError) error = NULL;
  if (pl->project == NULL && pl->root != NULL && sc_model_get_moe_shape (model)->n_experts > 0)
    {
      const char *dir = sc_model_get_dir (model);
      g_autofree char *fp = sc_model_fingerprint (dir, &error);
      g_autofree char *name = fp ? sc_project_default_dir (dir, fp) : NULL;
      g_autofree char *base = name ? g_path_get_basename (name) : NULL;
      g_autofree char *path = base ? g_build_filename (pl->root, base, NULL) : NULL;
      pl->project = path ? sc_project_open (path, dir, &error) : NULL;
    }
  if (pl->project != NULL && sc_project_has_stats (pl->project))
    pl->stats = sc_project_load_stats (pl->project, sc_model_get_moe_shape (model), &error);
  if (pl->project != NULL && error == NULL)
    pl->sweeps = sc_project_load_sweeps (pl->project, &error);
  if (pl->stats != NULL && error == NULL)
    {
      /* merging's router inputs; without them merging asks for a calibration */
      g_autofree char *path = project_capture_path (pl->project);
      g_autoptr (GError) cap_error = NULL;
      if (g_file_test (path, G_FILE_TEST_EXISTS) &&
          (pl->capture = sc_capture_load (path, &cap_error)) == NULL)
        g_message ("%s", cap_error->message);
    }
  if (error != NULL)
    {
      /* the model opens; its work is not restored and not overwritten */
      pl->note = g_strdup_printf (_ ("The project could not be opened: %s"), error->message);
      g_clear_pointer (&pl->project, sc_project_free);
      g_clear_pointer (&pl->stats, sc_stats_free);
      g_clear_pointer (&pl->sweeps, g_ptr_array_unref);
      g_clear_pointer (&pl->capture, sc_capture_free);
    }
}

static gboolean
save_settings_now (gpointer data)
{
  SecateurController *self = data;
  self->project_save_id = 0;
  if (self->project == NULL)
    return G_SOURCE_REMOVE;
  g_autoptr (GError) error = NULL;
  if (!sc_project_set_prune (self->project, secateur_prune_settings_peek (self->prune_settings),
                             (const char *const *) self->directions, &error))
    g_message ("%s", error->message);
  return G_SOURCE_REMOVE;
}

static void
schedule_settings_save (SecateurController *self)
{
  if (self->project == NULL || self->project_restoring)
    return;
  if (self->project_save_id != 0)
    g_source_remove (self->project_save_id);
  self->project_save_id = g_timeout_add (SAVE_DELAY_MS, save_settings_now, self);
}

void
controller_project_flush (SecateurController *self)
{
  if (self->project_save_id == 0)
    return;
  g_source_remove (self->project_save_id);
  save_settings_now (self);
}

void
controller_project_loaded (SecateurController *self, ControllerProjectLoad *pl)
{
  controller_project_flush (self);
  g_clear_pointer (&self->project, sc_project_free);
  g_clear_pointer (&self->project_note, g_free);
  self->project_note = g_steal_pointer (&pl->note);
  if (!self->project_connected)
    {
      g_signal_connect_swapped (self->prune_settings, "changed",
                                G_CALLBACK (schedule_settings_save), self);
      self->project_connected = TRUE;
    }
  if (pl->project == NULL)
    return;
  self->project = g_steal_pointer (&pl->project);
  self->project_restoring = TRUE;
  if (pl->stats != NULL)
    {
      g_clear_pointer (&self->stats, sc_stats_free);
      self->stats = g_steal_pointer (&pl->stats);
      g_clear_pointer (&self->capture, sc_capture_free);
      self->capture = g_steal_pointer (&pl->capture);
    }
  ScPruneSettings settings;
  g_auto (GStrv) directions = NULL;
  if (sc_project_get_prune (self->project, &settings, &directions))
    secateur_prune_settings_set (self->prune_settings, &settings);
  if (directions != NULL)
    secateur_controller_set_directions (self, (const char *const *) directions);
  if (pl->sweeps != NULL)
    controller_restore_sweeps (self, pl->sweeps);
  self->project_restoring = FALSE;
}

void
controller_project_directions_changed (SecateurController *self)
{
  schedule_settings_save (self);
}

void
controller_project_save_stats (SecateurController *self)
{
  g_autoptr (GError) error = NULL;
  if (self->project == NULL || self->stats == NULL)
    return;
  if (!sc_project_save_stats (self->project, self->stats, &error))
    {
      g_message ("%s", error->message);
      return;
    }
  /* the capture the statistics were gathered with, or none: an older one
   * samples other text */
  g_autofree char *capture = project_capture_path (self->project);
  if (self->capture != NULL ? !sc_capture_save (self->capture, capture, &error)
                            : g_unlink (capture) != 0 && errno != ENOENT)
    g_message ("%s: %s", capture, error ? error->message : g_strerror (errno));
}

void
controller_project_add_sweep (SecateurController *self, const ScSweepJobResult *sweep)
{
  g_autoptr (GError) error = NULL;
  if (self->project != NULL && !sc_project_add_sweep (self->project, sweep, NULL, &error))
    g_message ("%s", error->message);
}

void
controller_restore_sweeps (SecateurController *self, GPtrArray *sweeps)
{
  /* every run of the project, the newest shown */
  while (sweeps->len > 0)
    g_ptr_array_add (self->runs, g_ptr_array_steal_index (sweeps, 0));
  if (self->runs->len > 0)
    self->current_run = self->runs->len - 1;
}

void
controller_project_add_export (SecateurController *self, const char *folder,
                               const char *const *directions, const ScPruneSettings *s,
                               const char *dtype)
{
  if (self->project == NULL)
    return;
  g_autoptr (JsonObject) o = sc_prune_settings_to_json (s);
  json_object_set_string_member (o, "dtype", dtype ? dtype : "as stored");
  g_autoptr (GError) error = NULL;
  if (!sc_project_add_export (self->project, folder, directions, o, &error))
    g_message ("%s", error->message);
}

void
controller_project_clear (SecateurController *self)
{
  controller_project_flush (self);
  if (self->project_connected)
    g_signal_handlers_disconnect_by_data (self->prune_settings, self);
  g_clear_pointer (&self->project, sc_project_free);
  g_clear_pointer (&self->project_note, g_free);
  g_clear_pointer (&self->project_root, g_free);
}

void
secateur_controller_set_project_root (SecateurController *self, const char *root)
{
  g_free (self->project_root);
  self->project_root = g_strdup (root);
}

char *
secateur_controller_default_project_root (void)
{
  return g_build_filename (g_get_user_data_dir (), "secateur", "projects", NULL);
}

const char *
secateur_controller_get_project_dir (SecateurController *self)
{
  return self->project ? sc_project_get_dir (self->project) : NULL;
}

const char *
secateur_controller_get_project_note (SecateurController *self)
{
  return self->project_note;
}
