/* cli-project.c: `--project DIR`, the project folder the application
 * reads (engine/jobs/sc-project.h), for calibrate, evaluate, select and
 * export. */
#include "cli-commands.h"

#include <stdio.h>

ScProject *
sc_cli_open_project (const char *command, const char *dir, const char *model_dir)
{
  g_autoptr (GError) error = NULL;
  ScProject *project = sc_project_open (dir, model_dir, &error);
  if (project == NULL)
    fprintf (stderr, "secateur-cli %s: %s\n", command, error->message);
  return project;
}
