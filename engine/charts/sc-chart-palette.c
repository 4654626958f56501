/* sc-chart-palette.c: a viridis-like sequential ramp and the Okabe-Ito
 * qualitative colours.
 *
 * The ramp interpolates, in CIELAB, between the ten stops usually published
 * for viridis (van der Walt and Smith, 2015: dark blue-purple to yellow).
 * Their lightness rises from about 16 to 91, and interpolating in CIELAB
 * keeps it rising linearly between stops, so the ramp reads in grey scale
 * and for colour-blind people, on light and dark backgrounds alike. */
#include "sc-chart-palette.h"

#include <math.h>

static const guint32 ramp_stops[] = {
  0x440154, 0x482878, 0x3e4a89, 0x31688e, 0x26828e,
  0x1f9e89, 0x35b779, 0x6dcd59, 0xb4de2c, 0xfde725,
};

/* Okabe and Ito (2008), "Color Universal Design": distinguishable with any
 * colour-vision deficiency. Black is left out (it is the text colour). */
static const guint32 series_light[] = {
  0x0072b2, 0xe69f00, 0x009e73, 0xcc79a7, 0xd55e00, 0x56b4e9, 0xb8a400,
};
/* The same hues, the dark blue lifted so it reads on a dark background. */
static const guint32 series_dark[] = {
  0x3d9be0, 0xe69f00, 0x19c08e, 0xd98bb6, 0xf07a2a, 0x56b4e9, 0xf0e442,
};

/* D65 white point. */
static const double XN = 0.95047, YN = 1.0, ZN = 1.08883;

static double
srgb_to_linear (double c)
{
  return c <= 0.04045 ? c / 12.92 : pow ((c + 0.055) / 1.055, 2.4);
}

static double
linear_to_srgb (double c)
{
  c = c <= 0.0031308 ? 12.92 * c : 1.055 * pow (c, 1 / 2.4) - 0.055;
  return CLAMP (c, 0.0, 1.0);
}

static double
lab_f (double t)
{
  return t > 216.0 / 24389 ? cbrt (t) : (24389.0 / 27 * t + 16) / 116;
}

static double
lab_finv (double f)
{
  return f * f * f > 216.0 / 24389 ? f * f * f : (116 * f - 16) / (24389.0 / 27);
}

static void
rgb_to_lab (const double rgb[3], double lab[3])
{
  double r = srgb_to_linear (rgb[0]), g = srgb_to_linear (rgb[1]), b = srgb_to_linear (rgb[2]);
  double x = 0.4124564 * r + 0.3575761 * g + 0.1804375 * b;
  double y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b;
  double z = 0.0193339 * r + 0.1191920 * g + 0.9503041 * b;
  double fx = lab_f (x / XN), fy = lab_f (y / YN), fz = lab_f (z / ZN);
  lab[0] = 116 * fy - 16;
  lab[1] = 500 * (fx - fy);
  lab[2] = 200 * (fy - fz);
}

static void
lab_to_rgb (const double lab[3], double rgb[3])
{
  double fy = (lab[0] + 16) / 116, fx = fy + lab[1] / 500, fz = fy - lab[2] / 200;
  double x = XN * lab_finv (fx), y = YN * lab_finv (fy), z = ZN * lab_finv (fz);
  rgb[0] = linear_to_srgb (3.2404542 * x - 1.5371385 * y - 0.4985314 * z);
  rgb[1] = linear_to_srgb (-0.9692660 * x + 1.8760108 * y + 0.0415560 * z);
  rgb[2] = linear_to_srgb (0.0556434 * x - 0.2040259 * y + 1.0572252 * z);
}

static void
hex_to_rgb (guint32 hex, double rgb[3])
{
  rgb[0] = ((hex >> 16) & 0xff) / 255.0;
  rgb[1] = ((hex >> 8) & 0xff) / 255.0;
  rgb[2] = (hex & 0xff) / 255.0;
}

/* The exact ramp at t, through CIELAB. */
static void
ramp_exact (double t, double rgb[3])
{
  const int last = G_N_ELEMENTS (ramp_stops) - 1;
  double a[3], b[3], la[3], lb[3], lab[3], pos, f;
  int i;

  pos = t * last;
  i = MIN ((int) floor (pos), last - 1);
  f = pos - i;
  hex_to_rgb (ramp_stops[i], a);
  hex_to_rgb (ramp_stops[i + 1], b);
  rgb_to_lab (a, la);
  rgb_to_lab (b, lb);
  for (int k = 0; k < 3; k++)
    lab[k] = la[k] * (1 - f) + lb[k] * f;
  lab_to_rgb (lab, rgb);
}

/* Sampled once: a live 128 x 12 heatmap would otherwise spend most of its
 * drawing time in pow() and cbrt(). Between samples 1/1024 apart linear
 * interpolation is exact to far below one 8-bit step. */
#define TABLE_SIZE 1025
static float ramp_table[TABLE_SIZE][3];

static void
ramp_table_init (void)
{
  static gsize done = 0;
  if (g_once_init_enter (&done))
    {
      for (int i = 0; i < TABLE_SIZE; i++)
        {
          double rgb[3];
          ramp_exact ((double) i / (TABLE_SIZE - 1), rgb);
          for (int k = 0; k < 3; k++)
            ramp_table[i][k] = (float) rgb[k];
        }
      g_once_init_leave (&done, 1);
    }
}

void
sc_chart_palette (double t, double rgb[3])
{
  double pos, f;
  int i;

  ramp_table_init ();
  if (isnan (t))
    t = 0;
  t = CLAMP (t, 0.0, 1.0);
  pos = t * (TABLE_SIZE - 1);
  i = MIN ((int) pos, TABLE_SIZE - 2);
  f = pos - i;
  for (int k = 0; k < 3; k++)
    rgb[k] = ramp_table[i][k] * (1 - f) + ramp_table[i + 1][k] * f;
}

void
sc_chart_series_colour (int i, gboolean dark, double rgb[3])
{
  const guint32 *set = dark ? series_dark : series_light;
  int n = G_N_ELEMENTS (series_light);
  hex_to_rgb (set[((i % n) + n) % n], rgb);
}

double
sc_chart_lightness (const double rgb[3])
{
  double lab[3];
  rgb_to_lab (rgb, lab);
  return lab[0];
}
