/* sc-chart-output.c: charts to PNG and SVG files. Both write to a temporary
 * file beside the target and rename it, so a reader never sees half a file
 * and a failure leaves nothing behind. */
#include "sc-chart-output.h"

#include <cairo-svg.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <unistd.h>

typedef struct
{
  int fd;        /* -1: only count */
  int err;       /* errno of the first failed write */
  guint64 bytes; /* written (or counted) */
} Sink;

static cairo_status_t
sink_write (void *closure, const unsigned char *data, unsigned int length)
{
  Sink *sink = closure;
  sink->bytes += length;
  if (sink->fd < 0)
    return CAIRO_STATUS_SUCCESS;
  while (length > 0)
    {
      ssize_t n = write (sink->fd, data, length);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          sink->err = n < 0 ? errno : EIO;
          return CAIRO_STATUS_WRITE_ERROR;
        }
      data += n;
      length -= (unsigned int) n;
    }
  return CAIRO_STATUS_SUCCESS;
}

/* Opens path.XXXXXX beside path. */
static char *
open_temp (const char *path, int *fd, GError **error)
{
  char *tmp = g_strconcat (path, ".XXXXXX", NULL);
  *fd = g_mkstemp_full (tmp, O_WRONLY, 0644);
  if (*fd < 0)
    {
      int saved = errno;
      g_autofree char *dir = g_path_get_dirname (path);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   "Cannot write a chart in “%s”: %s", dir, g_strerror (saved));
      g_free (tmp);
      return NULL;
    }
  return tmp;
}

/* Closes the temporary file and renames it over path, or removes it when
 * anything failed before. */
static gboolean
finish_temp (char *tmp, const char *path, int fd, Sink *sink, cairo_status_t status, GError **error)
{
  gboolean ok = TRUE;

  if (sink->err != 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (sink->err),
                   "Cannot write the chart “%s”: %s", path, g_strerror (sink->err));
      ok = FALSE;
    }
  else if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "Cannot draw the chart “%s”: %s", path,
                   cairo_status_to_string (status));
      ok = FALSE;
    }
  if (ok && fsync (fd) != 0 && errno != EINVAL)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   "Cannot write the chart “%s”: %s", path, g_strerror (saved));
      ok = FALSE;
    }
  if (close (fd) != 0 && ok)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   "Cannot write the chart “%s”: %s", path, g_strerror (saved));
      ok = FALSE;
    }
  if (ok && g_rename (tmp, path) != 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   "Cannot rename “%s” to “%s”: %s", tmp, path, g_strerror (saved));
      ok = FALSE;
    }
  if (!ok)
    g_unlink (tmp);
  g_free (tmp);
  return ok;
}

static gboolean
check_args (const char *path, double width, double height, ScChartDrawFunc draw, GError **error)
{
  if (path == NULL || *path == '\0' || draw == NULL)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "No file or chart to write");
      return FALSE;
    }
  if (!(width >= 1 && height >= 1 && width <= 32767 && height <= 32767))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                   "Chart size %g x %g is out of range (1 to 32767 pixels)", width, height);
      return FALSE;
    }
  return TRUE;
}

/* Draws the chart on a fresh context over `surface`; the context's status. */
static cairo_status_t
draw_on (cairo_surface_t *surface, double width, double height, ScChartDrawFunc draw,
         gconstpointer data)
{
  cairo_t *cr = cairo_create (surface);
  draw (cr, width, height, data);
  cairo_status_t status = cairo_status (cr);
  cairo_destroy (cr);
  return status;
}

gboolean
sc_chart_write_png (const char *path, int width, int height, ScChartDrawFunc draw,
                    gconstpointer data, GError **error)
{
  cairo_surface_t *surface;
  cairo_status_t status;
  Sink sink = { -1, 0, 0 };
  char *tmp;

  if (!check_args (path, width, height, draw, error))
    return FALSE;
  tmp = open_temp (path, &sink.fd, error);
  if (tmp == NULL)
    return FALSE;
  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  status = draw_on (surface, width, height, draw, data);
  cairo_surface_flush (surface);
  if (status == CAIRO_STATUS_SUCCESS)
    status = cairo_surface_write_to_png_stream (surface, sink_write, &sink);
  cairo_surface_destroy (surface);
  return finish_temp (tmp, path, sink.fd, &sink, status, error);
}

gboolean
sc_chart_write_svg (const char *path, double width, double height, ScChartDrawFunc draw,
                    gconstpointer data, GError **error)
{
  cairo_surface_t *surface;
  cairo_status_t status;
  Sink sink = { -1, 0, 0 };
  char *tmp;

  if (!check_args (path, width, height, draw, error))
    return FALSE;
  tmp = open_temp (path, &sink.fd, error);
  if (tmp == NULL)
    return FALSE;
  surface = cairo_svg_surface_create_for_stream (sink_write, &sink, width, height);
  status = draw_on (surface, width, height, draw, data);
  /* SVG output is written when the surface finishes. */
  cairo_surface_finish (surface);
  if (status == CAIRO_STATUS_SUCCESS)
    status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);
  return finish_temp (tmp, path, sink.fd, &sink, status, error);
}

/* The chart drawn into a counting sink: the bytes the file would have. */
static gboolean
count_bytes (gboolean svg, double width, double height, ScChartDrawFunc draw, gconstpointer data,
             guint64 *bytes, GError **error)
{
  Sink sink = { -1, 0, 0 };
  if (!check_args ("-", width, height, draw, error))
    return FALSE;
  cairo_surface_t *surface =
      svg ? cairo_svg_surface_create_for_stream (sink_write, &sink, width, height)
          : cairo_image_surface_create (CAIRO_FORMAT_ARGB32, (int) width, (int) height);
  cairo_status_t status = draw_on (surface, width, height, draw, data);
  if (svg)
    cairo_surface_finish (surface);
  else
    cairo_surface_flush (surface);
  if (status == CAIRO_STATUS_SUCCESS)
    status = svg ? cairo_surface_status (surface)
                 : cairo_surface_write_to_png_stream (surface, sink_write, &sink);
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "Cannot draw the chart: %s",
                   cairo_status_to_string (status));
      return FALSE;
    }
  *bytes = sink.bytes;
  return TRUE;
}

gboolean
sc_chart_png_bytes (int width, int height, ScChartDrawFunc draw, gconstpointer data, guint64 *bytes,
                    GError **error)
{
  return count_bytes (FALSE, width, height, draw, data, bytes, error);
}

gboolean
sc_chart_svg_bytes (double width, double height, ScChartDrawFunc draw, gconstpointer data,
                    guint64 *bytes, GError **error)
{
  return count_bytes (TRUE, width, height, draw, data, bytes, error);
}
