/* test-pickle.c: the restricted unpickler on a real torch.save pickle, on
 * hand-built pickles using every supported opcode, and on hostile input. */
#include "sc-pickle.h"
#include "sc-test-builders.h"

#include <string.h>

/* `archive/data.pkl` of a state dict written by PyTorch 1.13 (Debian's
 * python3-torch), made with:
 *   sd = collections.OrderedDict()
 *   w = torch.arange(6, dtype=torch.float32).reshape(2, 3)
 *   sd['a.weight'] = w
 *   sd['a.bias'] = torch.tensor([1.5, -2.0], dtype=torch.float16)
 *   sd['tied'] = w
 *   sd['b'] = torch.arange(10, dtype=torch.bfloat16)[2:5]
 *   sd['i'] = torch.tensor([1, 2, 3], dtype=torch.int64)
 *   sd._metadata = {'': {'version': 1}}
 *   torch.save(sd, 'pytorch_model.bin')
 */
static const char real_pkl[] =
    "\x80\x02\x63\x63\x6f\x6c\x6c\x65\x63\x74\x69\x6f\x6e\x73\x0a\x4f\x72\x64\x65\x72\x65\x64\x44"
    "\x69"
    "\x63\x74\x0a\x71\x00\x29\x52\x71\x01\x28\x58\x08\x00\x00\x00\x61\x2e\x77\x65\x69\x67\x68\x74"
    "\x71"
    "\x02\x63\x74\x6f\x72\x63\x68\x2e\x5f\x75\x74\x69\x6c\x73\x0a\x5f\x72\x65\x62\x75\x69\x6c\x64"
    "\x5f"
    "\x74\x65\x6e\x73\x6f\x72\x5f\x76\x32\x0a\x71\x03\x28\x28\x58\x07\x00\x00\x00\x73\x74\x6f\x72"
    "\x61"
    "\x67\x65\x71\x04\x63\x74\x6f\x72\x63\x68\x0a\x46\x6c\x6f\x61\x74\x53\x74\x6f\x72\x61\x67\x65"
    "\x0a"
    "\x71\x05\x58\x01\x00\x00\x00\x30\x71\x06\x58\x03\x00\x00\x00\x63\x70\x75\x71\x07\x4b\x06\x74"
    "\x71"
    "\x08\x51\x4b\x00\x4b\x02\x4b\x03\x86\x71\x09\x4b\x03\x4b\x01\x86\x71\x0a\x89\x68\x00\x29\x52"
    "\x71"
    "\x0b\x74\x71\x0c\x52\x71\x0d\x58\x06\x00\x00\x00\x61\x2e\x62\x69\x61\x73\x71\x0e\x68\x03\x28"
    "\x28"
    "\x68\x04\x63\x74\x6f\x72\x63\x68\x0a\x48\x61\x6c\x66\x53\x74\x6f\x72\x61\x67\x65\x0a\x71\x0f"
    "\x58"
    "\x01\x00\x00\x00\x31\x71\x10\x68\x07\x4b\x02\x74\x71\x11\x51\x4b\x00\x4b\x02\x85\x71\x12\x4b"
    "\x01"
    "\x85\x71\x13\x89\x68\x00\x29\x52\x71\x14\x74\x71\x15\x52\x71\x16\x58\x04\x00\x00\x00\x74\x69"
    "\x65"
    "\x64\x71\x17\x68\x0d\x58\x01\x00\x00\x00\x62\x71\x18\x68\x03\x28\x28\x68\x04\x63\x74\x6f\x72"
    "\x63"
    "\x68\x0a\x42\x46\x6c\x6f\x61\x74\x31\x36\x53\x74\x6f\x72\x61\x67\x65\x0a\x71\x19\x58\x01\x00"
    "\x00"
    "\x00\x32\x71\x1a\x68\x07\x4b\x0a\x74\x71\x1b\x51\x4b\x02\x4b\x03\x85\x71\x1c\x4b\x01\x85\x71"
    "\x1d"
    "\x89\x68\x00\x29\x52\x71\x1e\x74\x71\x1f\x52\x71\x20\x58\x01\x00\x00\x00\x69\x71\x21\x68\x03"
    "\x28"
    "\x28\x68\x04\x63\x74\x6f\x72\x63\x68\x0a\x4c\x6f\x6e\x67\x53\x74\x6f\x72\x61\x67\x65\x0a\x71"
    "\x22"
    "\x58\x01\x00\x00\x00\x33\x71\x23\x68\x07\x4b\x03\x74\x71\x24\x51\x4b\x00\x4b\x03\x85\x71\x25"
    "\x4b"
    "\x01\x85\x71\x26\x89\x68\x00\x29\x52\x71\x27\x74\x71\x28\x52\x71\x29\x75\x7d\x71\x2a\x58\x09"
    "\x00"
    "\x00\x00\x5f\x6d\x65\x74\x61\x64\x61\x74\x61\x71\x2b\x7d\x71\x2c\x58\x00\x00\x00\x00\x71\x2d"
    "\x7d"
    "\x71\x2e\x58\x07\x00\x00\x00\x76\x65\x72\x73\x69\x6f\x6e\x71\x2f\x4b\x01\x73\x73\x73\x62\x2e";

/* Builders: tests/sc-test-builders.h */
typedef GByteArray Pk;
#define op(p, o) tb_u8 ((p), (o))
#define raw(p, d, n) tb_raw ((p), (d), (n))
#define u32(p, v) tb_u32 ((p), (v))

static GPtrArray *
load (Pk *p, GError **error)
{
  return sc_pickle_load_state_dict (p->data, p->len, error);
}

static ScPickleTensor *
find (GPtrArray *a, const char *name)
{
  for (guint i = 0; i < a->len; i++)
    if (strcmp (((ScPickleTensor *) a->pdata[i])->name, name) == 0)
      return a->pdata[i];
  return NULL;
}

static void
expect_error (Pk *p, int code, const char *needle)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) a = load (p, &error);

  g_assert_null (a);
  g_assert_error (error, SC_ERROR, code);
  g_test_message ("%s", error->message);
  if (needle && strstr (error->message, needle) == NULL)
    g_error ("message “%s” lacks “%s”", error->message, needle);
}

/* Tests */

static void
test_real (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) a =
      sc_pickle_load_state_dict ((const guint8 *) real_pkl, sizeof real_pkl - 1, &error);
  ScPickleTensor *t;

  g_assert_no_error (error);
  g_assert_cmpuint (sizeof real_pkl - 1, ==, 479);
  g_assert_cmpuint (a->len, ==, 5);
  g_assert_cmpstr (((ScPickleTensor *) a->pdata[0])->name, ==, "a.weight");
  g_assert_cmpstr (((ScPickleTensor *) a->pdata[1])->name, ==, "a.bias");
  g_assert_cmpstr (((ScPickleTensor *) a->pdata[2])->name, ==, "tied");
  g_assert_cmpstr (((ScPickleTensor *) a->pdata[3])->name, ==, "b");
  g_assert_cmpstr (((ScPickleTensor *) a->pdata[4])->name, ==, "i");

  t = find (a, "a.weight");
  g_assert_cmpstr (t->storage_key, ==, "0");
  g_assert_cmpint (t->dtype, ==, SC_DTYPE_F32);
  g_assert_cmpint (t->n_dims, ==, 2);
  g_assert_cmpint (t->shape[0], ==, 2);
  g_assert_cmpint (t->shape[1], ==, 3);
  g_assert_cmpint (t->stride[0], ==, 3);
  g_assert_cmpint (t->stride[1], ==, 1);
  g_assert_cmpint (t->storage_offset, ==, 0);
  g_assert_cmpint (t->storage_numel, ==, 6);

  t = find (a, "a.bias");
  g_assert_cmpstr (t->storage_key, ==, "1");
  g_assert_cmpint (t->dtype, ==, SC_DTYPE_F16);
  g_assert_cmpint (t->n_dims, ==, 1);
  g_assert_cmpint (t->shape[0], ==, 2);
  g_assert_cmpint (t->storage_numel, ==, 2);

  t = find (a, "tied");
  g_assert_cmpstr (t->storage_key, ==, "0");
  g_assert_cmpint (t->shape[1], ==, 3);

  t = find (a, "b");
  g_assert_cmpstr (t->storage_key, ==, "2");
  g_assert_cmpint (t->dtype, ==, SC_DTYPE_BF16);
  g_assert_cmpint (t->storage_offset, ==, 2);
  g_assert_cmpint (t->shape[0], ==, 3);
  g_assert_cmpint (t->storage_numel, ==, 10);

  t = find (a, "i");
  g_assert_cmpint (t->dtype, ==, SC_DTYPE_I64);
}

/* Every prefix of a real pickle fails cleanly; garbage after STOP is ignored. */
static void
test_truncated (void)
{
  for (gsize n = 0; n < sizeof real_pkl - 1; n++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) a = sc_pickle_load_state_dict ((const guint8 *) real_pkl, n, &error);

      g_assert_null (a);
      g_assert_nonnull (error);
      g_assert_true (error->domain == SC_ERROR);
    }
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (GByteArray) p = g_byte_array_new ();
    g_autoptr (GPtrArray) a = NULL;

    raw (p, real_pkl, sizeof real_pkl - 1);
    raw (p, "\xff\xff garbage", 10);
    a = load (p, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (a->len, ==, 5);
  }
}

/* Protocol-4 style framing, STACK_GLOBAL, MEMOIZE, long memo ops, every
 * integer width, BINSTRING keys, _rebuild_parameter, metadata argument,
 * scalars, skipped non-tensors and repeated keys. */
static void
test_opcodes (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GByteArray) p = g_byte_array_new ();
  g_autoptr (GPtrArray) a = NULL;
  const gint64 big_shape[] = { 5000000000LL, 1 }, big_stride[] = { 1, 1 };
  const gint64 shp3[] = { 70000, 3, 300 }, str3[] = { 900, 300, 1 };
  ScPickleTensor *t;

  op (p, 0x80);
  op (p, 4);
  op (p, 0x95);
  raw (p, "\x10\x00\x00\x00\x00\x00\x00\x00", 8);
  short_binunicode (p, "collections");
  op (p, 0x94); /* memo 0 */
  short_binunicode (p, "OrderedDict");
  op (p, 0x94); /* memo 1 */
  op (p, 0x93); /* STACK_GLOBAL */
  op (p, 0x94); /* memo 2 = OrderedDict */
  op (p, ')');
  op (p, 'R');
  op (p, 'r');
  u32 (p, 100000); /* LONG_BINPUT */

  /* "big": LONG1 element count and dims */
  binunicode (p, "big");
  tensor (p, "FloatStorage", "0", 5000000000LL, 0, 2, big_shape, big_stride);
  op (p, 's');

  /* "p": a parameter around an f16 3-d tensor with BININT2/BININT sizes */
  op (p, 'U');
  op (p, 1);
  raw (p, "p", 1); /* SHORT_BINSTRING key */
  global (p, "torch._utils", "_rebuild_parameter");
  op (p, '(');
  tensor (p, "HalfStorage", "1", 70000 * 900, 0, 3, shp3, str3);
  op (p, 0x88); /* requires_grad True */
  op (p, 'j');
  u32 (p, 100000); /* LONG_BINGET the dict ... */
  op (p, '0');     /* ... POP it again */
  op (p, 'h');
  op (p, 2);
  op (p, ')');
  op (p, 'R'); /* OrderedDict() */
  op (p, 't');
  op (p, 'R');
  op (p, 's');

  /* "s": a scalar (empty size), 7 arguments with a metadata dict, BINSTRING key */
  op (p, 'T');
  u32 (p, 1);
  raw (p, "s", 1);
  global (p, "torch._utils", "_rebuild_tensor_v2");
  op (p, '(');
  op (p, '(');
  binunicode (p, "storage");
  global (p, "torch", "BFloat16Storage");
  binunicode (p, "2");
  binunicode (p, "cuda:0");
  pint (p, 4);
  op (p, 't');
  op (p, 'Q');
  pint (p, 3);
  op (p, ')');
  op (p, ')');
  op (p, 0x89);
  op (p, 'N');
  op (p, '}');
  binunicode (p, "k");
  op (p, 'G');
  raw (p, "\x3f\xf0\0\0\0\0\0\0", 8);
  op (p, 's');
  op (p, 't');
  op (p, 'R');
  op (p, 's');

  /* non-tensor values are skipped */
  op (p, '(');
  binunicode (p, "list");
  op (p, ']');
  op (p, '(');
  pint (p, -5);
  pint (p, 1 << 20);
  op (p, 'e');
  op (p, 'N');
  op (p, 'a');
  binunicode (p, "neg");
  op (p, 0x8a);
  op (p, 2);
  op (p, 0x00);
  op (p, 0x80); /* -32768 */
  binunicode (p, "zero");
  op (p, 0x8a);
  op (p, 0);
  binunicode (p, "tup");
  op (p, 0x88);
  op (p, 0x89);
  op (p, 'N');
  op (p, 0x87);
  binunicode (p, "one");
  op (p, 'N');
  op (p, 0x85);
  binunicode (p, "u8");
  op (p, 0x8d);
  raw (p, "\x02\0\0\0\0\0\0\0", 8);
  raw (p, "hi", 2);
  op (p, 'u');
  op (p, '(');
  op (p, 'N');
  op (p, '1'); /* MARK ... POP_MARK */
  /* "big" again: replaces the first value, keeps its position */
  binunicode (p, "big");
  {
    const gint64 sh[] = { 2 }, st[] = { 1 };
    tensor (p, "IntStorage", "3", 2, 0, 1, sh, st);
  }
  op (p, 's');
  op (p, '}');
  op (p, 'b'); /* BUILD with a state dict */
  op (p, '.');

  a = load (p, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (a->len, ==, 3);

  t = a->pdata[0];
  g_assert_cmpstr (t->name, ==, "big");
  g_assert_cmpint (t->dtype, ==, SC_DTYPE_I32);
  g_assert_cmpstr (t->storage_key, ==, "3");
  g_assert_cmpint (t->shape[0], ==, 2);

  t = a->pdata[1];
  g_assert_cmpstr (t->name, ==, "p");
  g_assert_cmpint (t->dtype, ==, SC_DTYPE_F16);
  g_assert_cmpint (t->n_dims, ==, 3);
  g_assert_cmpint (t->shape[0], ==, 70000);
  g_assert_cmpint (t->shape[2], ==, 300);
  g_assert_cmpint (t->stride[0], ==, 900);
  g_assert_cmpint (t->storage_numel, ==, 63000000);

  t = a->pdata[2];
  g_assert_cmpstr (t->name, ==, "s");
  g_assert_cmpint (t->dtype, ==, SC_DTYPE_BF16);
  g_assert_cmpint (t->n_dims, ==, 0);
  g_assert_cmpint (t->storage_offset, ==, 3);
  g_assert_cmpint (t->storage_numel, ==, 4);

  /* The first "big" (LONG1 sizes) on its own */
  g_byte_array_set_size (p, 0);
  op (p, 0x80);
  op (p, 2);
  op (p, '}');
  binunicode (p, "big");
  tensor (p, "FloatStorage", "0", 5000000000LL, 0, 2, big_shape, big_stride);
  op (p, 's');
  op (p, '.');
  g_clear_pointer (&a, g_ptr_array_unref);
  a = load (p, &error);
  g_assert_no_error (error);
  t = a->pdata[0];
  g_assert_cmpint (t->shape[0], ==, 5000000000LL);
  g_assert_cmpint (t->storage_numel, ==, 5000000000LL);
}

static void
test_refused_globals (void)
{
  static const char *const bad[][2] = {
    { "os", "system" },
    { "builtins", "eval" },
    { "__builtin__", "eval" },
    { "posix", "system" },
    { "subprocess", "Popen" },
    { "torch._tensor", "_rebuild_from_type_v2" },
    { "torch", "DoubleStorage" },
    { "torch._utils", "_rebuild_tensor" },
    { "collections", "OrderedDic" },
    { "collections", "OrderedDictX" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GByteArray) p = g_byte_array_new ();
      g_autoptr (GByteArray) q = g_byte_array_new ();
      g_autofree char *needle = g_strdup_printf ("refusing global %s.%s", bad[i][0], bad[i][1]);

      /* GLOBAL */
      op (p, 0x80);
      op (p, 2);
      global (p, bad[i][0], bad[i][1]);
      binunicode (p, "echo pwned");
      op (p, 0x85);
      op (p, 'R');
      op (p, '.');
      expect_error (p, SC_ERROR_UNSUPPORTED, needle);

      /* STACK_GLOBAL */
      op (q, 0x80);
      op (q, 4);
      short_binunicode (q, bad[i][0]);
      short_binunicode (q, bad[i][1]);
      op (q, 0x93);
      binunicode (q, "echo pwned");
      op (q, 0x85);
      op (q, 'R');
      op (q, '.');
      expect_error (q, SC_ERROR_UNSUPPORTED, needle);
    }

  /* A name with a NUL inside is refused too, and printed safely. */
  {
    g_autoptr (GByteArray) p = g_byte_array_new ();
    op (p, 0x80);
    op (p, 2);
    raw (p, "ctorch\nFloatStorage\0x\n", 23);
    op (p, '.');
    expect_error (p, SC_ERROR_UNSUPPORTED, "refusing global torch.FloatStorage?x");
  }
}

static void
test_refused_calls (void)
{
  g_autoptr (GByteArray) p = g_byte_array_new ();

  /* Calling a storage type */
  op (p, 0x80);
  op (p, 2);
  global (p, "torch", "FloatStorage");
  op (p, ')');
  op (p, 'R');
  op (p, '.');
  expect_error (p, SC_ERROR_UNSUPPORTED, "storage type");

  /* Calling a non-global */
  g_byte_array_set_size (p, 0);
  op (p, 0x80);
  op (p, 2);
  op (p, '}');
  op (p, ')');
  op (p, 'R');
  op (p, '.');
  expect_error (p, SC_ERROR_UNSUPPORTED, "REDUCE");

  /* OrderedDict with arguments */
  g_byte_array_set_size (p, 0);
  op (p, 0x80);
  op (p, 2);
  global (p, "collections", "OrderedDict");
  op (p, ']');
  op (p, 0x85);
  op (p, 'R');
  op (p, '.');
  expect_error (p, SC_ERROR_UNSUPPORTED, "OrderedDict");

  /* _rebuild_tensor_v2 with a bad storage */
  g_byte_array_set_size (p, 0);
  op (p, 0x80);
  op (p, 2);
  global (p, "torch._utils", "_rebuild_tensor_v2");
  op (p, '(');
  op (p, 'N');
  pint (p, 0);
  op (p, ')');
  op (p, ')');
  op (p, 0x89);
  op (p, 'N');
  op (p, 't');
  op (p, 'R');
  op (p, '.');
  expect_error (p, SC_ERROR_FORMAT, "storage");

  /* Persistent ids that are not storages */
  g_byte_array_set_size (p, 0);
  op (p, 0x80);
  op (p, 2);
  binunicode (p, "x");
  op (p, 'Q');
  op (p, '.');
  expect_error (p, SC_ERROR_UNSUPPORTED, "persistent id");
  g_byte_array_set_size (p, 0);
  op (p, 0x80);
  op (p, 2);
  op (p, '(');
  binunicode (p, "storage");
  global (p, "collections", "OrderedDict");
  binunicode (p, "0");
  binunicode (p, "cpu");
  pint (p, 1);
  op (p, 't');
  op (p, 'Q');
  op (p, '.');
  expect_error (p, SC_ERROR_UNSUPPORTED, "storage type");
  g_byte_array_set_size (p, 0);
  op (p, 0x80);
  op (p, 2);
  op (p, '(');
  binunicode (p, "storage");
  global (p, "torch", "FloatStorage");
  binunicode (p, "0");
  binunicode (p, "cpu");
  pint (p, -1);
  op (p, 't');
  op (p, 'Q');
  op (p, '.');
  expect_error (p, SC_ERROR_FORMAT, "element count");

  /* Nine dimensions */
  g_byte_array_set_size (p, 0);
  {
    const gint64 sh[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
    op (p, 0x80);
    op (p, 2);
    op (p, '}');
    binunicode (p, "t");
    tensor (p, "FloatStorage", "0", 1, 0, 9, sh, sh);
    op (p, 's');
    op (p, '.');
    expect_error (p, SC_ERROR_UNSUPPORTED, "size");
  }

  /* Negative dimension, stride/size mismatch */
  g_byte_array_set_size (p, 0);
  {
    const gint64 sh[2] = { 2, -1 }, st[2] = { 1, 1 };
    op (p, 0x80);
    op (p, 2);
    op (p, '}');
    binunicode (p, "t");
    tensor (p, "FloatStorage", "0", 1, 0, 2, sh, st);
    op (p, 's');
    op (p, '.');
    expect_error (p, SC_ERROR_UNSUPPORTED, "size");
  }
}

static void
test_bad_structure (void)
{
  g_autoptr (GByteArray) p = g_byte_array_new ();

  /* Unexpected opcodes: NEWOBJ, INST, OBJ, EXT1, DUP, INT (text) */
  static const guint8 ops[] = { 0x81, 'i', 'o', 0x82, '2', 'I', 'S', 'V', 'P', 0xff, 0x00 };
  for (gsize i = 0; i < G_N_ELEMENTS (ops); i++)
    {
      g_autofree char *needle = g_strdup_printf ("opcode 0x%02x at offset 3", ops[i]);
      g_byte_array_set_size (p, 0);
      op (p, 0x80);
      op (p, 2);
      op (p, '}');
      op (p, ops[i]);
      op (p, '.');
      expect_error (p, SC_ERROR_UNSUPPORTED, needle);
    }

  /* Unknown protocol */
  g_byte_array_set_size (p, 0);
  op (p, 0x80);
  op (p, 6);
  op (p, '}');
  op (p, '.');
  expect_error (p, SC_ERROR_UNSUPPORTED, "protocol");

  /* Empty input, no STOP */
  g_byte_array_set_size (p, 0);
  expect_error (p, SC_ERROR_FORMAT, "STOP");
  op (p, 0x80);
  op (p, 2);
  op (p, '}');
  expect_error (p, SC_ERROR_FORMAT, "STOP");

  /* Stack underflow: SETITEM on an empty stack, TUPLE2 of one, STOP with nothing */
  g_byte_array_set_size (p, 0);
  op (p, 0x80);
  op (p, 2);
  op (p, 's');
  op (p, '.');
  expect_error (p, SC_ERROR_FORMAT, "underflow");
  g_byte_array_set_size (p, 0);
  op (p, 0x80);
  op (p, 2);
  op (p, 'N');
  op (p, 0x86);
  op (p, '.');
  expect_error (p, SC_ERROR_FORMAT, "underflow");
  g_byte_array_set_size (p, 0);
  op (p, '.');
  expect_error (p, SC_ERROR_FORMAT, "underflow");
  /* ... items below a mark are out of reach, as in CPython */
  g_byte_array_set_size (p, 0);
  op (p, 0x80);
  op (p, 2);
  op (p, '}');
  op (p, 'N');
  op (p, 'N');
  op (p, '(');
  op (p, 's');
  op (p, '.');
  expect_error (p, SC_ERROR_FORMAT, "underflow");
  g_byte_array_set_size (p, 0);
  op (p, 'N');
  op (p, '(');
  op (p, '0');
  op (p, '0');
  op (p, '0');
  op (p, '.');
  expect_error (p, SC_ERROR_FORMAT, "no mark");
  g_byte_array_set_size (p, 0);
  op (p, 't');
  expect_error (p, SC_ERROR_FORMAT, "no mark");
  g_byte_array_set_size (p, 0);
  op (p, 'q');
  op (p, 0);
  expect_error (p, SC_ERROR_FORMAT, "underflow");

  /* Memo index out of range */
  g_byte_array_set_size (p, 0);
  op (p, 0x80);
  op (p, 2);
  op (p, '}');
  op (p, 'q');
  op (p, 0);
  op (p, 'h');
  op (p, 5);
  op (p, '.');
  expect_error (p, SC_ERROR_FORMAT, "memo key 5");
  g_byte_array_set_size (p, 0);
  op (p, 0x80);
  op (p, 2);
  op (p, '}');
  op (p, 'j');
  u32 (p, 0xffffffffu);
  op (p, '.');
  expect_error (p, SC_ERROR_FORMAT, "memo key 4294967295");

  /* Deeply nested marks */
  g_byte_array_set_size (p, 0);
  op (p, 0x80);
  op (p, 2);
  for (int i = 0; i < 100000; i++)
    op (p, '(');
  op (p, '.');
  expect_error (p, SC_ERROR_FORMAT, "nested too deeply");

  /* A stack past its bound (a million and one pushes) */
  g_byte_array_set_size (p, 0);
  op (p, 0x80);
  op (p, 2);
  for (int i = 0; i < (1 << 20) + 1; i++)
    op (p, 'N');
  op (p, '.');
  expect_error (p, SC_ERROR_FORMAT, "stack too deep");

  /* Deeply nested containers are fine (no recursion) but not a dict */
  g_byte_array_set_size (p, 0);
  op (p, 0x80);
  op (p, 2);
  for (int i = 0; i < 100000; i++)
    {
      op (p, ']');
      if (i > 0)
        op (p, 'a');
    }
  op (p, '.');
  expect_error (p, SC_ERROR_UNSUPPORTED, "not a dict");

  /* A list holding itself (a cycle) is freed without leaking */
  g_byte_array_set_size (p, 0);
  op (p, 0x80);
  op (p, 2);
  op (p, ']');
  op (p, 'q');
  op (p, 0);
  op (p, 'h');
  op (p, 0);
  op (p, 'a');
  op (p, '.');
  expect_error (p, SC_ERROR_UNSUPPORTED, "not a dict");

  /* Strings running past the end, negative BINSTRING length */
  g_byte_array_set_size (p, 0);
  op (p, 'X');
  u32 (p, 0xfffffff0u);
  raw (p, "abc", 3);
  expect_error (p, SC_ERROR_FORMAT, "past the end");
  g_byte_array_set_size (p, 0);
  op (p, 0x8d);
  raw (p, "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
  expect_error (p, SC_ERROR_FORMAT, "past the end");
  g_byte_array_set_size (p, 0);
  op (p, 'T');
  u32 (p, 0x80000001u);
  expect_error (p, SC_ERROR_FORMAT, "negative");
  g_byte_array_set_size (p, 0);
  op (p, 'c');
  raw (p, "os\nsystem", 9);
  expect_error (p, SC_ERROR_FORMAT, "truncated GLOBAL");

  /* Too-wide LONG1 */
  g_byte_array_set_size (p, 0);
  op (p, 0x8a);
  op (p, 9);
  raw (p, "123456789", 9);
  op (p, '.');
  expect_error (p, SC_ERROR_UNSUPPORTED, "too large");

  /* SETITEM / APPEND on the wrong type, odd SETITEMS, BUILD on a list */
  g_byte_array_set_size (p, 0);
  op (p, ']');
  op (p, 'N');
  op (p, 'N');
  op (p, 's');
  op (p, '.');
  expect_error (p, SC_ERROR_FORMAT, "not a dict");
  g_byte_array_set_size (p, 0);
  op (p, '}');
  op (p, 'N');
  op (p, 'a');
  op (p, '.');
  expect_error (p, SC_ERROR_FORMAT, "not a list");
  g_byte_array_set_size (p, 0);
  op (p, '}');
  op (p, '(');
  op (p, 'N');
  op (p, 'u');
  op (p, '.');
  expect_error (p, SC_ERROR_FORMAT, "odd");
  g_byte_array_set_size (p, 0);
  op (p, ']');
  op (p, '}');
  op (p, 'b');
  op (p, '.');
  expect_error (p, SC_ERROR_UNSUPPORTED, "BUILD");

  /* A tensor under a key that is not a string */
  g_byte_array_set_size (p, 0);
  {
    const gint64 sh[] = { 1 };
    op (p, '}');
    pint (p, 7);
    tensor (p, "FloatStorage", "0", 1, 0, 1, sh, sh);
    op (p, 's');
    op (p, '.');
    expect_error (p, SC_ERROR_FORMAT, "key");
  }

  /* The top level is not a dict */
  g_byte_array_set_size (p, 0);
  op (p, 'N');
  op (p, '.');
  expect_error (p, SC_ERROR_UNSUPPORTED, "not a dict");
}

static void
test_empty_dict (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GByteArray) p = g_byte_array_new ();
  g_autoptr (GPtrArray) a = NULL;

  op (p, 0x80);
  op (p, 2);
  op (p, '}');
  op (p, '.');
  a = load (p, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (a->len, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/pickle/real-torch", test_real);
  g_test_add_func ("/pickle/truncated", test_truncated);
  g_test_add_func ("/pickle/opcodes", test_opcodes);
  g_test_add_func ("/pickle/empty-dict", test_empty_dict);
  g_test_add_func ("/pickle/refused-globals", test_refused_globals);
  g_test_add_func ("/pickle/refused-calls", test_refused_calls);
  g_test_add_func ("/pickle/bad-structure", test_bad_structure);

  return g_test_run ();
}
