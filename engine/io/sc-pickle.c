/* sc-pickle.c: a restricted unpickler for torch.save state dicts.
 *
 * A small stack machine over the opcodes that pickle protocol 2 (and the
 * framing of 4) emits for a dict of tensors. It never imports or calls
 * anything: GLOBAL and STACK_GLOBAL resolve only a whitelist of names to
 * tags, and REDUCE only "calls" those tags by building plain records
 * (a dict, a tensor record). Persistent ids become storage records that
 * name an entry of the zip archive.
 *
 * Why one file of about 950 lines: every opcode works on the same bounded
 * stack, memo and arena, and the bounds below are checked in one reading.
 *
 * Safety: every read is checked against the buffer; the stack, the mark
 * stack, the memo and the number of objects are bounded; nothing recurses.
 * Every object lives in one arena that is freed in one pass, so shared
 * references (BINGET) and cycles (a list appended to itself) cost nothing.
 */
#include "sc-pickle.h"
#include "sc-io-private.h"

#include <string.h>

#define MAX_STACK (1u << 20)
#define MAX_MARKS 64u
#define MAX_MEMO (1u << 22)
#define MAX_OBJECTS (1u << 24)
#define MAX_KEY_LEN 4096u

typedef enum
{
  PV_NONE,
  PV_BOOL,
  PV_INT,
  PV_FLOAT,
  PV_STR,
  PV_TUPLE,
  PV_LIST,
  PV_DICT,
  PV_GLOBAL,
  PV_STORAGE,
  PV_TENSOR,
} PvKind;

typedef enum
{
  GL_ORDERED_DICT,
  GL_REBUILD_TENSOR_V2,
  GL_REBUILD_PARAMETER,
  GL_STORAGE,
} GlobalKind;

typedef struct
{
  PvKind kind;
  union
  {
    gint64 i; /* PV_BOOL, PV_INT */
    double f; /* PV_FLOAT */
    struct
    {
      char *s;
      gsize len;
    } str;            /* PV_STR (NUL-terminated copy) */
    GPtrArray *items; /* PV_TUPLE, PV_LIST (borrowed) */
    struct
    {
      GPtrArray *keys, *values;
    } dict; /* PV_DICT (borrowed) */
    struct
    {
      GlobalKind kind;
      ScDType dtype;
    } global; /* PV_GLOBAL */
    struct
    {
      ScDType dtype;
      char *key;
      gint64 numel;
    } storage;
    ScPickleTensor *tensor; /* PV_TENSOR (owned, name NULL) */
  };
} PVal;

typedef struct
{
  const guint8 *buf;
  gsize len;
  gsize pos;
  gsize op_pos; /* offset of the opcode being run */
  guint8 op;
  GPtrArray *arena; /* every PVal, owned */
  GPtrArray *stack; /* borrowed */
  GArray *marks;    /* guint stack positions */
  GHashTable *memo; /* guint -> PVal*, borrowed */
} Unpickler;

void
sc_pickle_tensor_free (ScPickleTensor *t)
{
  if (t == NULL)
    return;
  g_free (t->name);
  g_free (t->storage_key);
  g_free (t);
}

static void
pval_free (PVal *v)
{
  switch (v->kind)
    {
    case PV_STR:
      g_free (v->str.s);
      break;
    case PV_TUPLE:
    case PV_LIST:
      g_ptr_array_unref (v->items);
      break;
    case PV_DICT:
      g_ptr_array_unref (v->dict.keys);
      g_ptr_array_unref (v->dict.values);
      break;
    case PV_STORAGE:
      g_free (v->storage.key);
      break;
    case PV_TENSOR:
      sc_pickle_tensor_free (v->tensor);
      break;
    default:
      break;
    }
  g_free (v);
}

/* A short, printable rendering of attacker-controlled bytes for messages. */
static char *
printable (const char *s, gsize len)
{
  GString *out = g_string_new (NULL);

  for (gsize i = 0; i < len && i < 80; i++)
    g_string_append_c (out, g_ascii_isprint (s[i]) ? s[i] : '?');
  if (len > 80)
    g_string_append (out, "…");
  return g_string_free (out, FALSE);
}

static gboolean fail (Unpickler *u, GError **error, int code, const char *fmt, ...)
    G_GNUC_PRINTF (4, 5);

static gboolean
fail (Unpickler *u, GError **error, int code, const char *fmt, ...)
{
  g_autofree char *msg = NULL;
  va_list ap;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, SC_ERROR, code, "pickle: %s (opcode 0x%02x at offset %" G_GSIZE_FORMAT ")",
               msg, u->op, u->op_pos);
  return FALSE;
}

static PVal *
new_val (Unpickler *u, PvKind kind, GError **error)
{
  PVal *v;

  if (u->arena->len >= MAX_OBJECTS)
    {
      fail (u, error, SC_ERROR_FORMAT, "too many objects");
      return NULL;
    }
  v = g_new0 (PVal, 1);
  v->kind = kind;
  switch (kind)
    {
    case PV_TUPLE:
    case PV_LIST:
      v->items = g_ptr_array_new ();
      break;
    case PV_DICT:
      v->dict.keys = g_ptr_array_new ();
      v->dict.values = g_ptr_array_new ();
      break;
    default:
      break;
    }
  g_ptr_array_add (u->arena, v);
  return v;
}

static gboolean
need (Unpickler *u, gsize n, GError **error)
{
  if (n > u->len - u->pos)
    return fail (u, error, SC_ERROR_FORMAT,
                 "truncated: %" G_GSIZE_FORMAT " bytes needed, %" G_GSIZE_FORMAT " left", n,
                 u->len - u->pos);
  return TRUE;
}

static guint
frame_base (Unpickler *u)
{
  return u->marks->len ? g_array_index (u->marks, guint, u->marks->len - 1) : 0;
}

static gboolean
push (Unpickler *u, PVal *v, GError **error)
{
  if (v == NULL)
    return FALSE;
  if (u->stack->len >= MAX_STACK)
    return fail (u, error, SC_ERROR_FORMAT, "stack too deep");
  g_ptr_array_add (u->stack, v);
  return TRUE;
}

static PVal *
pop (Unpickler *u, GError **error)
{
  if (u->stack->len <= frame_base (u))
    {
      fail (u, error, SC_ERROR_FORMAT, "stack underflow");
      return NULL;
    }
  return g_ptr_array_steal_index (u->stack, u->stack->len - 1);
}

static PVal *
top (Unpickler *u, GError **error)
{
  if (u->stack->len <= frame_base (u))
    {
      fail (u, error, SC_ERROR_FORMAT, "stack underflow");
      return NULL;
    }
  return u->stack->pdata[u->stack->len - 1];
}

/* Pops the last mark; *out_base is where the items above it start. */
static gboolean
pop_mark (Unpickler *u, guint *out_base, GError **error)
{
  if (u->marks->len == 0)
    return fail (u, error, SC_ERROR_FORMAT, "no mark on the stack");
  *out_base = g_array_index (u->marks, guint, u->marks->len - 1);
  g_array_set_size (u->marks, u->marks->len - 1);
  return TRUE;
}

static PVal *
new_str (Unpickler *u, const guint8 *p, gsize n, GError **error)
{
  PVal *v = new_val (u, PV_STR, error);

  if (v == NULL)
    return NULL;
  v->str.s = g_malloc (n + 1);
  memcpy (v->str.s, p, n);
  v->str.s[n] = '\0';
  v->str.len = n;
  return v;
}

static PVal *
new_int (Unpickler *u, PvKind kind, gint64 i, GError **error)
{
  PVal *v = new_val (u, kind, error);

  if (v)
    v->i = i;
  return v;
}

static gboolean
read_string (Unpickler *u, gsize len_bytes, gboolean is_signed, GError **error)
{
  guint64 n;
  const guint8 *p;

  if (!need (u, len_bytes, error))
    return FALSE;
  p = u->buf + u->pos;
  switch (len_bytes)
    {
    case 1:
      n = p[0];
      break;
    case 4:
      n = sc_read_u32le (p);
      if (is_signed && (n & 0x80000000u))
        return fail (u, error, SC_ERROR_FORMAT, "negative string length");
      break;
    default:
      n = sc_read_u64le (p);
      break;
    }
  u->pos += len_bytes;
  if (n > u->len - u->pos)
    return fail (u, error, SC_ERROR_FORMAT,
                 "string of %" G_GUINT64_FORMAT " bytes runs past the end", n);
  p = u->buf + u->pos;
  u->pos += n;
  return push (u, new_str (u, p, (gsize) n, error), error);
}

/* Resolve a global against the whitelist, or refuse it. */
static PVal *
resolve_global (Unpickler *u, const char *mod, gsize mod_len, const char *name, gsize name_len,
                GError **error)
{
  static const struct
  {
    const char *mod, *name;
    GlobalKind kind;
    ScDType dtype;
  } allowed[] = {
    { "collections", "OrderedDict", GL_ORDERED_DICT, 0 },
    { "torch._utils", "_rebuild_tensor_v2", GL_REBUILD_TENSOR_V2, 0 },
    { "torch._utils", "_rebuild_parameter", GL_REBUILD_PARAMETER, 0 },
    { "torch", "FloatStorage", GL_STORAGE, SC_DTYPE_F32 },
    { "torch", "HalfStorage", GL_STORAGE, SC_DTYPE_F16 },
    { "torch", "BFloat16Storage", GL_STORAGE, SC_DTYPE_BF16 },
    { "torch", "LongStorage", GL_STORAGE, SC_DTYPE_I64 },
    { "torch", "IntStorage", GL_STORAGE, SC_DTYPE_I32 },
  };
  g_autofree char *pm = NULL, *pn = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (allowed); i++)
    if (strlen (allowed[i].mod) == mod_len && memcmp (allowed[i].mod, mod, mod_len) == 0 &&
        strlen (allowed[i].name) == name_len && memcmp (allowed[i].name, name, name_len) == 0)
      {
        PVal *v = new_val (u, PV_GLOBAL, error);
        if (v)
          {
            v->global.kind = allowed[i].kind;
            v->global.dtype = allowed[i].dtype;
          }
        return v;
      }

  pm = printable (mod, mod_len);
  pn = printable (name, name_len);
  fail (u, error, SC_ERROR_UNSUPPORTED, "refusing global %s.%s", pm, pn);
  return NULL;
}

static gboolean
op_global (Unpickler *u, GError **error)
{
  const guint8 *mod, *name, *nl;
  gsize mod_len, name_len;

  mod = u->buf + u->pos;
  nl = memchr (mod, '\n', u->len - u->pos);
  if (nl == NULL)
    return fail (u, error, SC_ERROR_FORMAT, "truncated GLOBAL");
  mod_len = (gsize) (nl - mod);
  u->pos += mod_len + 1;
  name = u->buf + u->pos;
  nl = memchr (name, '\n', u->len - u->pos);
  if (nl == NULL)
    return fail (u, error, SC_ERROR_FORMAT, "truncated GLOBAL");
  name_len = (gsize) (nl - name);
  u->pos += name_len + 1;
  return push (
      u, resolve_global (u, (const char *) mod, mod_len, (const char *) name, name_len, error),
      error);
}

static gboolean
op_stack_global (Unpickler *u, GError **error)
{
  PVal *name, *mod;

  if (!(name = pop (u, error)) || !(mod = pop (u, error)))
    return FALSE;
  if (name->kind != PV_STR || mod->kind != PV_STR)
    return fail (u, error, SC_ERROR_FORMAT, "STACK_GLOBAL needs two strings");
  return push (u, resolve_global (u, mod->str.s, mod->str.len, name->str.s, name->str.len, error),
               error);
}

static gboolean
get_int (PVal *v, gint64 *out)
{
  if (v == NULL || (v->kind != PV_INT && v->kind != PV_BOOL))
    return FALSE;
  *out = v->i;
  return TRUE;
}

/* A key or name: a string without NUL bytes, valid UTF-8. */
static gboolean
is_name (PVal *v)
{
  return v != NULL && v->kind == PV_STR && v->str.len > 0 && v->str.len <= MAX_KEY_LEN &&
         strlen (v->str.s) == v->str.len && g_utf8_validate (v->str.s, (gssize) v->str.len, NULL);
}

static gboolean
op_binpersid (Unpickler *u, GError **error)
{
  PVal *pid, *v, *tag, *type, *key;
  gint64 numel;

  if (!(pid = pop (u, error)))
    return FALSE;
  if (pid->kind != PV_TUPLE || pid->items->len != 5)
    return fail (u, error, SC_ERROR_UNSUPPORTED,
                 "persistent id is not a ('storage', type, key, location, numel) tuple");
  tag = pid->items->pdata[0];
  type = pid->items->pdata[1];
  key = pid->items->pdata[2];
  if (tag->kind != PV_STR || strcmp (tag->str.s, "storage") != 0 || tag->str.len != 7)
    return fail (u, error, SC_ERROR_UNSUPPORTED, "persistent id is not a storage");
  if (type->kind != PV_GLOBAL || type->global.kind != GL_STORAGE)
    return fail (u, error, SC_ERROR_UNSUPPORTED, "persistent id has no storage type");
  if (!is_name (key))
    return fail (u, error, SC_ERROR_FORMAT, "persistent id has an invalid storage key");
  if (!get_int (pid->items->pdata[4], &numel) || numel < 0)
    return fail (u, error, SC_ERROR_FORMAT, "persistent id has an invalid element count");

  if (!(v = new_val (u, PV_STORAGE, error)))
    return FALSE;
  v->storage.dtype = type->global.dtype;
  v->storage.key = g_strdup (key->str.s);
  v->storage.numel = numel;
  return push (u, v, error);
}

static gboolean
int_tuple (PVal *v, int *n, int64_t *out)
{
  if (v == NULL || v->kind != PV_TUPLE || v->items->len > SC_TENSOR_MAX_DIMS)
    return FALSE;
  for (guint i = 0; i < v->items->len; i++)
    {
      gint64 x;
      if (!get_int (v->items->pdata[i], &x) || x < 0)
        return FALSE;
      out[i] = x;
    }
  *n = (int) v->items->len;
  return TRUE;
}

static gboolean
rebuild_tensor (Unpickler *u, PVal *args, GError **error)
{
  PVal *storage, *v;
  ScPickleTensor *t;
  gint64 offset;
  int n_dims = 0, n_strides = 0;
  int64_t shape[SC_TENSOR_MAX_DIMS], stride[SC_TENSOR_MAX_DIMS];

  if (args->items->len != 6 && args->items->len != 7)
    return fail (u, error, SC_ERROR_FORMAT, "_rebuild_tensor_v2 takes 6 or 7 arguments, not %u",
                 args->items->len);
  storage = args->items->pdata[0];
  if (storage->kind != PV_STORAGE)
    return fail (u, error, SC_ERROR_FORMAT, "_rebuild_tensor_v2: first argument is not a storage");
  if (!get_int (args->items->pdata[1], &offset) || offset < 0)
    return fail (u, error, SC_ERROR_FORMAT, "_rebuild_tensor_v2: invalid storage offset");
  if (!int_tuple (args->items->pdata[2], &n_dims, shape))
    return fail (u, error, SC_ERROR_UNSUPPORTED,
                 "_rebuild_tensor_v2: size is not a tuple of at most %d non-negative integers",
                 SC_TENSOR_MAX_DIMS);
  if (!int_tuple (args->items->pdata[3], &n_strides, stride) || n_strides != n_dims)
    return fail (u, error, SC_ERROR_FORMAT, "_rebuild_tensor_v2: stride does not match size");

  if (!(v = new_val (u, PV_TENSOR, error)))
    return FALSE;
  t = v->tensor = g_new0 (ScPickleTensor, 1);
  t->storage_key = g_strdup (storage->storage.key);
  t->dtype = storage->storage.dtype;
  t->storage_offset = offset;
  t->n_dims = n_dims;
  memcpy (t->shape, shape, sizeof shape);
  memcpy (t->stride, stride, sizeof stride);
  t->storage_numel = storage->storage.numel;
  return push (u, v, error);
}

static gboolean
op_reduce (Unpickler *u, GError **error)
{
  PVal *args, *func, *v;

  if (!(args = pop (u, error)) || !(func = pop (u, error)))
    return FALSE;
  if (func->kind != PV_GLOBAL)
    return fail (u, error, SC_ERROR_UNSUPPORTED, "REDUCE on something that is not a global");
  if (args->kind != PV_TUPLE)
    return fail (u, error, SC_ERROR_FORMAT, "REDUCE arguments are not a tuple");

  switch (func->global.kind)
    {
    case GL_ORDERED_DICT:
      if (args->items->len != 0)
        return fail (u, error, SC_ERROR_UNSUPPORTED, "OrderedDict called with arguments");
      return push (u, new_val (u, PV_DICT, error), error);

    case GL_REBUILD_TENSOR_V2:
      return rebuild_tensor (u, args, error);

    case GL_REBUILD_PARAMETER:
      if (args->items->len != 3 || ((PVal *) args->items->pdata[0])->kind != PV_TENSOR)
        return fail (u, error, SC_ERROR_FORMAT, "_rebuild_parameter needs (tensor, bool, hooks)");
      v = args->items->pdata[0];
      return push (u, v, error);

    case GL_STORAGE:
    default:
      return fail (u, error, SC_ERROR_UNSUPPORTED, "refusing to call a storage type");
    }
}

/* The object just below the items of a popped mark (the dict of SETITEMS). */
static PVal *
below (Unpickler *u, guint base, GError **error)
{
  if (base <= frame_base (u))
    {
      fail (u, error, SC_ERROR_FORMAT, "stack underflow");
      return NULL;
    }
  return u->stack->pdata[base - 1];
}

static gboolean
make_tuple (Unpickler *u, guint n, GError **error)
{
  PVal *t;

  if (u->stack->len - frame_base (u) < n)
    return fail (u, error, SC_ERROR_FORMAT, "stack underflow");
  if (!(t = new_val (u, PV_TUPLE, error)))
    return FALSE;
  for (guint i = u->stack->len - n; i < u->stack->len; i++)
    g_ptr_array_add (t->items, u->stack->pdata[i]);
  g_ptr_array_set_size (u->stack, u->stack->len - n);
  return push (u, t, error);
}

static gboolean
dict_set (Unpickler *u, PVal *dict, PVal *key, PVal *value, GError **error)
{
  if (dict->kind != PV_DICT)
    return fail (u, error, SC_ERROR_FORMAT, "SETITEM on something that is not a dict");
  g_ptr_array_add (dict->dict.keys, key);
  g_ptr_array_add (dict->dict.values, value);
  return TRUE;
}

static gboolean
run (Unpickler *u, PVal **result, GError **error)
{
  while (u->pos < u->len)
    {
      guint base;
      PVal *a, *b, *c;
      gint64 i;

      u->op_pos = u->pos;
      u->op = u->buf[u->pos++];

      switch (u->op)
        {
        case 0x80: /* PROTO */
          if (!need (u, 1, error))
            return FALSE;
          if (u->buf[u->pos] > 5)
            return fail (u, error, SC_ERROR_UNSUPPORTED, "pickle protocol %u", u->buf[u->pos]);
          u->pos++;
          break;

        case 0x95: /* FRAME: the framed opcodes follow inline */
          if (!need (u, 8, error))
            return FALSE;
          u->pos += 8;
          break;

        case '}': /* EMPTY_DICT */
          if (!push (u, new_val (u, PV_DICT, error), error))
            return FALSE;
          break;

        case ']': /* EMPTY_LIST */
          if (!push (u, new_val (u, PV_LIST, error), error))
            return FALSE;
          break;

        case ')': /* EMPTY_TUPLE */
          if (!push (u, new_val (u, PV_TUPLE, error), error))
            return FALSE;
          break;

        case '(': /* MARK */
          if (u->marks->len >= MAX_MARKS)
            return fail (u, error, SC_ERROR_FORMAT, "marks nested too deeply");
          g_array_append_val (u->marks, u->stack->len);
          break;

        case 't': /* TUPLE */
          if (!pop_mark (u, &base, error))
            return FALSE;
          if (!(a = new_val (u, PV_TUPLE, error)))
            return FALSE;
          for (guint k = base; k < u->stack->len; k++)
            g_ptr_array_add (a->items, u->stack->pdata[k]);
          g_ptr_array_set_size (u->stack, base);
          if (!push (u, a, error))
            return FALSE;
          break;

        case 0x85: /* TUPLE1 */
        case 0x86: /* TUPLE2 */
        case 0x87: /* TUPLE3 */
          if (!make_tuple (u, (guint) (u->op - 0x84), error))
            return FALSE;
          break;

        case '0': /* POP */
          if (u->stack->len > frame_base (u))
            g_ptr_array_set_size (u->stack, u->stack->len - 1);
          else if (!pop_mark (u, &base, error))
            return FALSE;
          break;

        case '1': /* POP_MARK */
          if (!pop_mark (u, &base, error))
            return FALSE;
          g_ptr_array_set_size (u->stack, base);
          break;

        case 'q':  /* BINPUT */
        case 'r':  /* LONG_BINPUT */
        case 0x94: /* MEMOIZE */
          {
            guint key;

            if (u->op == 'q')
              {
                if (!need (u, 1, error))
                  return FALSE;
                key = u->buf[u->pos++];
              }
            else if (u->op == 'r')
              {
                if (!need (u, 4, error))
                  return FALSE;
                key = sc_read_u32le (u->buf + u->pos);
                u->pos += 4;
              }
            else
              key = g_hash_table_size (u->memo);
            if (!(a = top (u, error)))
              return FALSE;
            if (g_hash_table_size (u->memo) >= MAX_MEMO &&
                !g_hash_table_contains (u->memo, GUINT_TO_POINTER (key)))
              return fail (u, error, SC_ERROR_FORMAT, "memo too large");
            g_hash_table_insert (u->memo, GUINT_TO_POINTER (key), a);
          }
          break;

        case 'h': /* BINGET */
        case 'j': /* LONG_BINGET */
          {
            guint key;

            if (u->op == 'h')
              {
                if (!need (u, 1, error))
                  return FALSE;
                key = u->buf[u->pos++];
              }
            else
              {
                if (!need (u, 4, error))
                  return FALSE;
                key = sc_read_u32le (u->buf + u->pos);
                u->pos += 4;
              }
            a = g_hash_table_lookup (u->memo, GUINT_TO_POINTER (key));
            if (a == NULL)
              return fail (u, error, SC_ERROR_FORMAT, "memo key %u is not defined", key);
            if (!push (u, a, error))
              return FALSE;
          }
          break;

        case 'J': /* BININT */
          if (!need (u, 4, error))
            return FALSE;
          i = (gint32) sc_read_u32le (u->buf + u->pos);
          u->pos += 4;
          if (!push (u, new_int (u, PV_INT, i, error), error))
            return FALSE;
          break;

        case 'K': /* BININT1 */
          if (!need (u, 1, error))
            return FALSE;
          i = u->buf[u->pos++];
          if (!push (u, new_int (u, PV_INT, i, error), error))
            return FALSE;
          break;

        case 'M': /* BININT2 */
          if (!need (u, 2, error))
            return FALSE;
          i = sc_read_u16le (u->buf + u->pos);
          u->pos += 2;
          if (!push (u, new_int (u, PV_INT, i, error), error))
            return FALSE;
          break;

        case 0x8a: /* LONG1: little-endian two's complement */
          {
            guint n;
            guint64 x = 0;

            if (!need (u, 1, error))
              return FALSE;
            n = u->buf[u->pos++];
            if (!need (u, n, error))
              return FALSE;
            if (n > 8)
              return fail (u, error, SC_ERROR_UNSUPPORTED, "integer of %u bytes is too large", n);
            for (guint k = 0; k < n; k++)
              x |= (guint64) u->buf[u->pos + k] << (8 * k);
            if (n > 0 && n < 8 && (u->buf[u->pos + n - 1] & 0x80))
              x |= ~(guint64) 0 << (8 * n);
            u->pos += n;
            if (!push (u, new_int (u, PV_INT, (gint64) x, error), error))
              return FALSE;
          }
          break;

        case 'G': /* BINFLOAT: big-endian double */
          {
            guint64 x = 0;
            double d;

            if (!need (u, 8, error))
              return FALSE;
            for (guint k = 0; k < 8; k++)
              x = (x << 8) | u->buf[u->pos + k];
            u->pos += 8;
            memcpy (&d, &x, 8);
            if (!(a = new_val (u, PV_FLOAT, error)))
              return FALSE;
            a->f = d;
            if (!push (u, a, error))
              return FALSE;
          }
          break;

        case 0x88: /* NEWTRUE */
        case 0x89: /* NEWFALSE */
          if (!push (u, new_int (u, PV_BOOL, u->op == 0x88, error), error))
            return FALSE;
          break;

        case 'N': /* NONE */
          if (!push (u, new_val (u, PV_NONE, error), error))
            return FALSE;
          break;

        case 0x8c: /* SHORT_BINUNICODE */
        case 'U':  /* SHORT_BINSTRING */
          if (!read_string (u, 1, FALSE, error))
            return FALSE;
          break;

        case 'X': /* BINUNICODE */
          if (!read_string (u, 4, FALSE, error))
            return FALSE;
          break;

        case 'T': /* BINSTRING */
          if (!read_string (u, 4, TRUE, error))
            return FALSE;
          break;

        case 0x8d: /* BINUNICODE8 */
          if (!read_string (u, 8, FALSE, error))
            return FALSE;
          break;

        case 'c': /* GLOBAL */
          if (!op_global (u, error))
            return FALSE;
          break;

        case 0x93: /* STACK_GLOBAL */
          if (!op_stack_global (u, error))
            return FALSE;
          break;

        case 'Q': /* BINPERSID */
          if (!op_binpersid (u, error))
            return FALSE;
          break;

        case 'R': /* REDUCE */
          if (!op_reduce (u, error))
            return FALSE;
          break;

        case 'b': /* BUILD: only an OrderedDict's attribute state, ignored */
          if (!(a = pop (u, error)) || !(b = top (u, error)))
            return FALSE;
          if (b->kind != PV_DICT)
            return fail (u, error, SC_ERROR_UNSUPPORTED, "BUILD on something that is not a dict");
          break;

        case 's': /* SETITEM */
          if (!(c = pop (u, error)) || !(b = pop (u, error)) || !(a = top (u, error)))
            return FALSE;
          if (!dict_set (u, a, b, c, error))
            return FALSE;
          break;

        case 'u': /* SETITEMS */
          if (!pop_mark (u, &base, error))
            return FALSE;
          if ((u->stack->len - base) % 2 != 0)
            return fail (u, error, SC_ERROR_FORMAT, "SETITEMS with an odd number of items");
          if (!(a = below (u, base, error)))
            return FALSE;
          for (guint k = base; k < u->stack->len; k += 2)
            if (!dict_set (u, a, u->stack->pdata[k], u->stack->pdata[k + 1], error))
              return FALSE;
          g_ptr_array_set_size (u->stack, base);
          break;

        case 'a': /* APPEND */
          if (!(b = pop (u, error)) || !(a = top (u, error)))
            return FALSE;
          if (a->kind != PV_LIST)
            return fail (u, error, SC_ERROR_FORMAT, "APPEND on something that is not a list");
          g_ptr_array_add (a->items, b);
          break;

        case 'e': /* APPENDS */
          if (!pop_mark (u, &base, error))
            return FALSE;
          if (!(a = below (u, base, error)))
            return FALSE;
          if (a->kind != PV_LIST)
            return fail (u, error, SC_ERROR_FORMAT, "APPENDS on something that is not a list");
          for (guint k = base; k < u->stack->len; k++)
            g_ptr_array_add (a->items, u->stack->pdata[k]);
          g_ptr_array_set_size (u->stack, base);
          break;

        case '.': /* STOP */
          if (!(a = top (u, error)))
            return FALSE;
          *result = a;
          return TRUE;

        default:
          return fail (u, error, SC_ERROR_UNSUPPORTED, "unsupported opcode");
        }
    }

  g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
               "pickle: truncated: no STOP opcode in %" G_GSIZE_FORMAT " bytes", u->len);
  return FALSE;
}

GPtrArray *
sc_pickle_load_state_dict (const guint8 *data, gsize len, GError **error)
{
  g_autoptr (GPtrArray) out = NULL;
  g_autoptr (GHashTable) by_name = NULL;
  Unpickler u = { 0 };
  PVal *result = NULL;
  gboolean ok;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  u.buf = data;
  u.len = len;
  u.arena = g_ptr_array_new_with_free_func ((GDestroyNotify) pval_free);
  u.stack = g_ptr_array_new ();
  u.marks = g_array_new (FALSE, FALSE, sizeof (guint));
  u.memo = g_hash_table_new (g_direct_hash, g_direct_equal);

  ok = run (&u, &result, error);
  if (ok && result->kind != PV_DICT)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_UNSUPPORTED,
                   "pickle: the top-level object is not a dict of tensors");
      ok = FALSE;
    }

  if (ok)
    {
      out = g_ptr_array_new_with_free_func ((GDestroyNotify) sc_pickle_tensor_free);
      by_name = g_hash_table_new (g_str_hash, g_str_equal);
      for (guint k = 0; k < result->dict.keys->len; k++)
        {
          PVal *key = result->dict.keys->pdata[k];
          PVal *value = result->dict.values->pdata[k];
          ScPickleTensor *t;
          gpointer idx;

          if (value->kind != PV_TENSOR)
            continue; /* not a tensor (e.g. a nested dict): skipped */
          if (!is_name (key))
            {
              g_set_error (error, SC_ERROR, SC_ERROR_FORMAT,
                           "pickle: a tensor's key is not a valid name");
              ok = FALSE;
              break;
            }
          t = g_memdup2 (value->tensor, sizeof *t);
          t->name = g_strdup (key->str.s);
          t->storage_key = g_strdup (value->tensor->storage_key);
          /* A repeated key replaces the earlier value in place, as a dict does. */
          if (g_hash_table_lookup_extended (by_name, t->name, NULL, &idx))
            {
              guint at = GPOINTER_TO_UINT (idx);
              ScPickleTensor *old = out->pdata[at];

              g_hash_table_replace (by_name, t->name, idx);
              out->pdata[at] = t;
              sc_pickle_tensor_free (old);
            }
          else
            {
              g_hash_table_insert (by_name, t->name, GUINT_TO_POINTER (out->len));
              g_ptr_array_add (out, t);
            }
        }
    }

  /* The by_name keys borrow names from `out`: drop it first. */
  g_clear_pointer (&by_name, g_hash_table_unref);
  g_hash_table_unref (u.memo);
  g_array_unref (u.marks);
  g_ptr_array_unref (u.stack);
  g_ptr_array_unref (u.arena);
  return ok ? g_steal_pointer (&out) : NULL;
}
