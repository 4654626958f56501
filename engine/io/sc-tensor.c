/* sc-tensor.c: dtypes, half-precision conversions and tensor views.
 *
 * The f16/bf16 conversions are bit-exact IEEE 754 with round-to-nearest-even,
 * written with integer operations only so that they do not depend on the
 * compiler's floating-point flags (fast-math, flush-to-zero).
 */
#include "sc-tensor.h"
#include "sc-io-private.h"

#include <string.h>

/* Checkpoint data is little-endian and mapped, never byte-swapped. */
G_STATIC_ASSERT (G_BYTE_ORDER == G_LITTLE_ENDIAN);

G_DEFINE_QUARK (sc - error - quark, sc_error)

gsize
sc_dtype_size (ScDType dtype)
{
  switch (dtype)
    {
    case SC_DTYPE_F32:
      return 4;
    case SC_DTYPE_F16:
      return 2;
    case SC_DTYPE_BF16:
      return 2;
    case SC_DTYPE_I64:
      return 8;
    case SC_DTYPE_I32:
      return 4;
    default:
      return 0;
    }
}

const char *
sc_dtype_name (ScDType dtype)
{
  switch (dtype)
    {
    case SC_DTYPE_F32:
      return "F32";
    case SC_DTYPE_F16:
      return "F16";
    case SC_DTYPE_BF16:
      return "BF16";
    case SC_DTYPE_I64:
      return "I64";
    case SC_DTYPE_I32:
      return "I32";
    default:
      return "?";
    }
}

gboolean
sc_dtype_from_name (const char *name, ScDType *out)
{
  static const struct
  {
    const char *name;
    ScDType dtype;
  } table[] = {
    { "F32", SC_DTYPE_F32 }, { "F16", SC_DTYPE_F16 }, { "BF16", SC_DTYPE_BF16 },
    { "I64", SC_DTYPE_I64 }, { "I32", SC_DTYPE_I32 },
  };

  if (name == NULL)
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (table); i++)
    if (strcmp (name, table[i].name) == 0)
      {
        if (out)
          *out = table[i].dtype;
        return TRUE;
      }
  return FALSE;
}

int64_t
sc_tensor_numel (const ScTensor *t)
{
  int64_t n = 1;

  g_return_val_if_fail (t != NULL, 0);
  for (int i = 0; i < t->n_dims; i++)
    n *= t->shape[i];
  return n;
}

gboolean
sc_shape_checked_size (ScDType dtype, int n_dims, const int64_t *shape, guint64 *numel_out,
                       guint64 *nbytes_out)
{
  guint64 numel = 1, nbytes;

  if (n_dims < 0 || n_dims > SC_TENSOR_MAX_DIMS)
    return FALSE;
  for (int i = 0; i < n_dims; i++)
    {
      if (shape[i] < 0 || !g_uint64_checked_mul (&numel, numel, (guint64) shape[i]))
        return FALSE;
    }
  if (numel > G_MAXINT64 || !g_uint64_checked_mul (&nbytes, numel, sc_dtype_size (dtype)) ||
      nbytes > G_MAXINT64)
    return FALSE;
  if (numel_out)
    *numel_out = numel;
  if (nbytes_out)
    *nbytes_out = nbytes;
  return TRUE;
}

gboolean
sc_json_depth_ok (const char *s, gsize len, guint max_depth, gsize *first_end)
{
  guint depth = 0;
  gboolean in_str = FALSE, closed = FALSE;
  gsize i = 0;

  while (i < len && g_ascii_isspace (s[i]))
    i++;
  /* only an array or object root has an end to report */
  closed = i == len || (s[i] != '{' && s[i] != '[');
  if (first_end != NULL)
    *first_end = len;
  for (; i < len; i++)
    {
      char c = s[i];

      if (in_str)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_str = FALSE;
        }
      else if (c == '"')
        in_str = TRUE;
      else if (c == '{' || c == '[')
        {
          if (++depth > max_depth)
            return FALSE;
        }
      else if ((c == '}' || c == ']') && depth > 0 && --depth == 0 && !closed)
        {
          closed = TRUE;
          if (first_end != NULL)
            *first_end = i + 1;
        }
    }
  return TRUE;
}

void
sc_tensor_free (ScTensor *t)
{
  if (t == NULL)
    return;
  g_free (t->name);
  g_free (t);
}

static inline guint32
f32_bits (float f)
{
  guint32 u;
  memcpy (&u, &f, sizeof u);
  return u;
}

static inline float
f32_from_bits (guint32 u)
{
  float f;
  memcpy (&f, &u, sizeof f);
  return f;
}

float
sc_f16_to_f32 (guint16 h)
{
  guint32 sign = ((guint32) h & 0x8000u) << 16;
  guint32 exp = (h >> 10) & 0x1fu;
  guint32 man = h & 0x3ffu;

  if (exp == 0)
    {
      if (man == 0)
        return f32_from_bits (sign);
      /* Subnormal: value = man * 2^-24; normalise into an f32 normal. */
      exp = 127 - 15 + 1;
      while ((man & 0x400u) == 0)
        {
          man <<= 1;
          exp--;
        }
      man &= 0x3ffu;
      return f32_from_bits (sign | (exp << 23) | (man << 13));
    }
  if (exp == 31)
    return f32_from_bits (sign | 0x7f800000u | (man << 13));
  return f32_from_bits (sign | ((exp + 127 - 15) << 23) | (man << 13));
}

guint16
sc_f32_to_f16 (float f)
{
  guint32 x = f32_bits (f);
  guint32 sign = (x >> 16) & 0x8000u;
  guint32 ax = x & 0x7fffffffu;

  if (ax > 0x7f800000u) /* NaN: keep it quiet and keep the top payload bits */
    return (guint16) (sign | 0x7e00u | ((ax >> 13) & 0x3ffu));
  if (ax >= 0x477ff000u) /* >= 65520 (and inf) rounds to inf */
    return (guint16) (sign | 0x7c00u);
  if (ax >= 0x38800000u) /* >= 2^-14: an f16 normal */
    {
      guint32 r = ax - ((127u - 15u) << 23);
      r += 0xfffu + ((r >> 13) & 1u);
      return (guint16) (sign | (r >> 13));
    }
  if (ax <= 0x33000000u) /* <= 2^-25: rounds to (signed) zero */
    return (guint16) sign;

  /* f16 subnormal: count units of 2^-24 with round-to-nearest-even. */
  {
    guint32 e = ax >> 23;                     /* 102 .. 112 */
    guint32 m = (ax & 0x7fffffu) | 0x800000u; /* value = m * 2^(e - 150) */
    guint32 shift = 126 - e;                  /* 14 .. 24 */
    guint32 q = m >> shift;
    guint32 rem = m & ((1u << shift) - 1);
    guint32 half = 1u << (shift - 1);

    if (rem > half || (rem == half && (q & 1u)))
      q++;
    return (guint16) (sign | q);
  }
}

float
sc_bf16_to_f32 (guint16 h)
{
  return f32_from_bits ((guint32) h << 16);
}

guint16
sc_f32_to_bf16 (float f)
{
  guint32 x = f32_bits (f);

  if ((x & 0x7fffffffu) > 0x7f800000u)
    return (guint16) ((x >> 16) | 0x0040u);
  x += 0x7fffu + ((x >> 16) & 1u);
  return (guint16) (x >> 16);
}

/* Widening f16 weights dominates decoding at batch 1 (every weight is
 * converted for every token), so x86 CPUs with F16C convert 8 at a time.
 * The conversion is exact either way; returns how many were converted. */
#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>

__attribute__ ((target ("avx,f16c"))) static int64_t
f16_to_f32_f16c (const guint8 *p, int64_t n, float *out)
{
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    {
      __m128i h = _mm_loadu_si128 ((const __m128i *) (p + i * 2));
      _mm256_storeu_ps (out + i, _mm256_cvtph_ps (h));
    }
  return i;
}

/* F16C and AVX in CPUID, and the OS saving YMM state (XGETBV), which
 * clang's __builtin_cpu_supports cannot be asked about "f16c". */
static gboolean
cpu_has_f16c (void)
{
  unsigned int a, b, c, d;
  if (!__get_cpuid (1, &a, &b, &c, &d))
    return FALSE;
  if (!(c & bit_F16C) || !(c & bit_AVX) || !(c & bit_OSXSAVE))
    return FALSE;
  unsigned int lo, hi;
  __asm__ ("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (lo & 6) == 6;
}

static int64_t
f16_to_f32_fast (const guint8 *p, int64_t n, float *out)
{
  static int has_f16c = -1;
  if (has_f16c < 0)
    has_f16c = cpu_has_f16c ();
  return has_f16c ? f16_to_f32_f16c (p, n, out) : 0;
}
#else
static int64_t
f16_to_f32_fast (const guint8 *p, int64_t n, float *out)
{
  return 0;
}
#endif

/* An all-ones exponent is NaN or infinity in each float format: one mask
 * per element, no conversion (memcpy: data need not be aligned). */
gboolean
sc_tensor_find_nonfinite (const ScTensor *t, int64_t *index)
{
  int64_t n = sc_tensor_numel (t), i = 0;
  const guint8 *p = t->data;
  if (t->dtype == SC_DTYPE_F32)
    {
      for (guint32 v; i < n; i++)
        {
          memcpy (&v, p + i * 4, 4);
          if ((GUINT32_FROM_LE (v) & 0x7f800000u) == 0x7f800000u)
            break;
        }
    }
  else if (t->dtype == SC_DTYPE_F16 || t->dtype == SC_DTYPE_BF16)
    {
      guint16 mask = t->dtype == SC_DTYPE_F16 ? 0x7c00 : 0x7f80;
      for (guint16 v; i < n; i++)
        {
          memcpy (&v, p + i * 2, 2);
          if ((GUINT16_FROM_LE (v) & mask) == mask)
            break;
        }
    }
  else
    return FALSE;
  if (i == n)
    return FALSE;
  if (index != NULL)
    *index = i;
  return TRUE;
}

void
sc_tensor_read_f32 (const ScTensor *t, int64_t offset, int64_t n, float *out)
{
  const guint8 *p;
  gsize es;

  g_return_if_fail (t != NULL);
  g_return_if_fail (offset >= 0 && n >= 0);
  g_return_if_fail (n == 0 || out != NULL);
  g_return_if_fail (offset <= sc_tensor_numel (t) && n <= sc_tensor_numel (t) - offset);

  es = sc_dtype_size (t->dtype);
  p = (const guint8 *) t->data + (gsize) offset * es;

  /* memcpy everywhere: tensor data inside a file need not be aligned. */
  switch (t->dtype)
    {
    case SC_DTYPE_F32:
      if (n > 0)
        memcpy (out, p, (gsize) n * 4);
      break;
    case SC_DTYPE_F16:
      {
        int64_t i = f16_to_f32_fast (p, n, out);
        for (; i < n; i++)
          {
            guint16 h;
            memcpy (&h, p + i * 2, 2);
            out[i] = sc_f16_to_f32 (GUINT16_FROM_LE (h));
          }
      }
      break;
    case SC_DTYPE_BF16:
      /* bf16 is the top half of an f32: a shift the compiler vectorises. */
      for (int64_t i = 0; i < n; i++)
        {
          guint16 h;
          memcpy (&h, p + i * 2, 2);
          guint32 bits = (guint32) GUINT16_FROM_LE (h) << 16;
          memcpy (out + i, &bits, 4);
        }
      break;
    case SC_DTYPE_I64:
      for (int64_t i = 0; i < n; i++)
        {
          gint64 v;
          memcpy (&v, p + i * 8, 8);
          out[i] = (float) GINT64_FROM_LE (v);
        }
      break;
    case SC_DTYPE_I32:
      for (int64_t i = 0; i < n; i++)
        {
          gint32 v;
          memcpy (&v, p + i * 4, 4);
          out[i] = (float) GINT32_FROM_LE (v);
        }
      break;
    default:
      g_return_if_reached ();
    }
}
