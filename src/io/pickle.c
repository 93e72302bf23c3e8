/* pickle.c — a restricted unpickler for PyTorch checkpoints: a stack machine that knows the
 * data opcodes of pickle protocols 0-5 and only the few globals torch needs to rebuild tensors
 * and (ordered) dicts. It never imports or calls anything: every other global is refused by
 * name. Its result is the list of tensors found in the dicts, with dotted names. */
#include "io_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- values ------------------------------------------------------------------------------ */

typedef enum vkind {
    V_NONE, V_BOOL, V_INT, V_FLOAT, V_STR, V_BYTES, V_TUPLE, V_LIST, V_DICT, V_GLOBAL,
    V_STORAGE, V_TENSOR
} vkind;

/* The globals the machine accepts. */
typedef enum gkind {
    G_ORDERED_DICT, G_REBUILD_TENSOR_V2, G_REBUILD_TENSOR, G_REBUILD_PARAMETER,
    G_REBUILD_PARAMETER_STATE, G_STORAGE
} gkind;

typedef struct val val;
struct val {
    vkind k;                /* kind */
    int64_t i;              /* V_INT, V_BOOL */
    const char *s;          /* V_STR / V_BYTES: bytes inside the pickle (not NUL-terminated) */
    size_t slen;            /* their length */
    val **items;            /* V_TUPLE / V_LIST: elements; V_DICT: key, value, key, value... */
    size_t n, cap;          /* used and allocated items */
    gkind g;                /* V_GLOBAL: which one */
    qs_dtype dt;            /* V_GLOBAL storage class / V_STORAGE / V_TENSOR: element type */
    val *storage;           /* V_TENSOR: its storage */
    const char *key;        /* V_STORAGE: the storage key (into the pickle) */
    size_t keylen;          /* its length */
    int64_t numel;          /* V_STORAGE: elements */
    int64_t offset;         /* V_TENSOR: storage offset */
    int ndim;               /* V_TENSOR */
    int64_t *dims;          /* V_TENSOR: shape in [0, 8), stride in [8, 16) (heap) */
};

/* The machine. */
typedef struct vm {
    const uint8_t *p;       /* the pickle */
    size_t len, at;         /* its length, read position */
    const char *path;       /* for messages */
    qs_err *err;            /* where messages go */
    val **all;              /* every value created (freed at the end) */
    size_t nall, capall;
    val **stack;            /* the stack */
    size_t sp, capstack;
    size_t *marks;          /* stack depths at MARK */
    size_t nmarks, capmarks;
    val **memo;             /* memo table */
    size_t nmemo;           /* allocated memo slots */
    size_t memo_next;       /* next MEMOIZE index */
    val none;               /* the shared None */
} vm;

static int fail(vm *m, const char *fmt, const char *detail)
{
    char msg[512];
    snprintf(msg, sizeof msg, fmt, detail);
    return qs_err_set(m->err, "%s: data.pkl byte %zu: %s", m->path, m->at, msg);
}

/* fail() for a limit of io.h: the message names the number the macro holds. */
static int fail_limit(vm *m, const char *fmt, unsigned long long limit)
{
    char d[24];
    snprintf(d, sizeof d, "%llu", limit);
    return fail(m, fmt, d);
}

static val *newval(vm *m, vkind k)
{
    if (m->nall >= QS_IO_PICKLE_VALUES_MAX) {
        fail_limit(m, "more than %s values (limit)", QS_IO_PICKLE_VALUES_MAX);
        return NULL;
    }
    if (m->nall == m->capall) {
        size_t c = m->capall ? m->capall * 2 : 256;
        val **a = realloc(m->all, c * sizeof *a);
        if (!a) {
            fail(m, "out of memory%s", "");
            return NULL;
        }
        m->all = a;
        m->capall = c;
    }
    val *v = calloc(1, sizeof *v);
    if (!v) {
        fail(m, "out of memory%s", "");
        return NULL;
    }
    v->k = k;
    m->all[m->nall++] = v;
    return v;
}

static int add_item(vm *m, val *c, val *x)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4;
        val **a = realloc(c->items, cap * sizeof *a);
        if (!a) return fail(m, "out of memory%s", "");
        c->items = a;
        c->cap = cap;
    }
    c->items[c->n++] = x;
    return QS_OK;
}

static int push(vm *m, val *v)
{
    if (!v) return QS_ERR;
    if (m->sp == m->capstack) {
        if (m->capstack >= QS_IO_PICKLE_VALUES_MAX)
            return fail_limit(m, "the stack holds more than %s items (limit)",
                              QS_IO_PICKLE_VALUES_MAX);
        size_t c = m->capstack ? m->capstack * 2 : 64;
        val **a = realloc(m->stack, c * sizeof *a);
        if (!a) return fail(m, "out of memory%s", "");
        m->stack = a;
        m->capstack = c;
    }
    m->stack[m->sp++] = v;
    return QS_OK;
}

/* The bottom of the current mark frame (stack items above a MARK may not be popped). */
static size_t floor_(const vm *m) { return m->nmarks ? m->marks[m->nmarks - 1] : 0; }

static val *pop(vm *m)
{
    if (m->sp <= floor_(m)) {
        fail(m, "stack underflow%s", "");
        return NULL;
    }
    return m->stack[--m->sp];
}

static val *top(vm *m)
{
    if (m->sp <= floor_(m)) {
        fail(m, "stack underflow%s", "");
        return NULL;
    }
    return m->stack[m->sp - 1];
}

/* Pops everything above the last MARK into a new container of kind k. */
static val *pop_mark(vm *m, vkind k)
{
    if (m->nmarks == 0) {
        fail(m, "no MARK on the stack%s", "");
        return NULL;
    }
    size_t base = m->marks[--m->nmarks];
    val *c = newval(m, k);
    if (!c) return NULL;
    for (size_t i = base; i < m->sp; i++)
        if (add_item(m, c, m->stack[i])) return NULL;
    m->sp = base;
    return c;
}

/* ---- reading the byte stream ------------------------------------------------------------- */

static int need(vm *m, size_t n)
{
    if (n > m->len - m->at) return fail(m, "truncated (an opcode needs more bytes)%s", "");
    return QS_OK;
}
static uint64_t le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}
/* A text line ending in '\n' (protocol 0 arguments): returns its start and length. */
static int line(vm *m, const char **s, size_t *n)
{
    const uint8_t *nl = memchr(m->p + m->at, '\n', m->len - m->at);
    if (!nl) return fail(m, "unterminated text argument%s", "");
    *s = (const char *)m->p + m->at;
    *n = (size_t)(nl - (m->p + m->at));
    m->at += *n + 1;
    return QS_OK;
}

/* ---- globals ----------------------------------------------------------------------------- */

static int streq(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

/* Resolves module.name against the allow-list or refuses it by name. */
static val *global(vm *m, const char *mod, size_t mn, const char *name, size_t nn)
{
    static const struct { const char *name; qs_dtype dt; } storages[] = {
        {"FloatStorage", QS_DT_F32}, {"DoubleStorage", QS_DT_F64},
        {"HalfStorage", QS_DT_F16}, {"BFloat16Storage", QS_DT_BF16},
        {"LongStorage", QS_DT_I64}, {"IntStorage", QS_DT_I32}, {"ShortStorage", QS_DT_I16},
        {"CharStorage", QS_DT_I8}, {"ByteStorage", QS_DT_U8}, {"BoolStorage", QS_DT_BOOL},
        {"UntypedStorage", QS_DT_U8},
    };
    int ok = 0;
    gkind g = G_STORAGE;
    qs_dtype dt = QS_DT_F32;
    if (streq(mod, mn, "collections") && streq(name, nn, "OrderedDict")) {
        ok = 1;
        g = G_ORDERED_DICT;
    } else if (streq(mod, mn, "torch._utils")) {
        if (streq(name, nn, "_rebuild_tensor_v2")) ok = 1, g = G_REBUILD_TENSOR_V2;
        else if (streq(name, nn, "_rebuild_tensor")) ok = 1, g = G_REBUILD_TENSOR;
        else if (streq(name, nn, "_rebuild_parameter")) ok = 1, g = G_REBUILD_PARAMETER;
        else if (streq(name, nn, "_rebuild_parameter_with_state"))
            ok = 1, g = G_REBUILD_PARAMETER_STATE;
    } else if (streq(mod, mn, "torch")) {
        for (size_t i = 0; i < sizeof storages / sizeof storages[0]; i++)
            if (streq(name, nn, storages[i].name)) {
                ok = 1;
                g = G_STORAGE;
                dt = storages[i].dt;
            }
    }
    if (!ok) {
        char qm[QS_IO_QUOTE_LEN], qn[QS_IO_QUOTE_LEN];
        qs_io_quote(qm, mod, mn);
        qs_io_quote(qn, name, nn);
        qs_err_set(m->err, "%s: data.pkl byte %zu: refusing to load global '%s.%s' (only "
                   "torch tensor, storage and OrderedDict globals are allowed; nothing was "
                   "executed)", m->path, m->at, qm, qn);
        return NULL;
    }
    val *v = newval(m, V_GLOBAL);
    if (v) {
        v->g = g;
        v->dt = dt;
    }
    return v;
}

/* ---- REDUCE: the allowed calls ----------------------------------------------------------- */

static int int_tuple(const val *t, int64_t *out, int *n)
{
    if (!t || (t->k != V_TUPLE && t->k != V_LIST) || t->n > QS_MAX_DIMS) return QS_ERR;
    for (size_t i = 0; i < t->n; i++) {
        if (t->items[i]->k != V_INT || t->items[i]->i < 0) return QS_ERR;
        out[i] = t->items[i]->i;
    }
    *n = (int)t->n;
    return QS_OK;
}

static val *reduce(vm *m, val *fn, val *args)
{
    if (fn->k != V_GLOBAL) {
        fail(m, "REDUCE on something that is not an allowed global%s", "");
        return NULL;
    }
    if (args->k != V_TUPLE) {
        fail(m, "REDUCE arguments are not a tuple%s", "");
        return NULL;
    }
    switch (fn->g) {
    case G_ORDERED_DICT:
        if (args->n != 0) {
            fail(m, "collections.OrderedDict with arguments is not supported%s", "");
            return NULL;
        }
        return newval(m, V_DICT);
    case G_REBUILD_TENSOR_V2: case G_REBUILD_TENSOR: {
        size_t want = fn->g == G_REBUILD_TENSOR ? 4 : 6;
        if (args->n < want || args->n > 7 || args->items[0]->k != V_STORAGE ||
            args->items[1]->k != V_INT || args->items[1]->i < 0) {
            fail(m, "_rebuild_tensor arguments are not (storage, offset, size, stride, ...)%s",
                 "");
            return NULL;
        }
        val *t = newval(m, V_TENSOR);
        if (!t) return NULL;
        int nd = 0, ns = 0;
        if (!(t->dims = calloc(2 * QS_MAX_DIMS, sizeof *t->dims))) {
            fail(m, "out of memory%s", "");
            return NULL;
        }
        if (int_tuple(args->items[2], t->dims, &nd) ||
            int_tuple(args->items[3], t->dims + QS_MAX_DIMS, &ns) || nd != ns) {
            fail(m, "tensor size / stride are not matching tuples of at most 8 integers >= "
                 "0%s", "");
            return NULL;
        }
        t->ndim = nd;
        t->storage = args->items[0];
        t->dt = t->storage->dt;
        t->offset = args->items[1]->i;
        return t;
    }
    case G_REBUILD_PARAMETER: case G_REBUILD_PARAMETER_STATE:
        if (args->n < 1 || args->items[0]->k != V_TENSOR) {
            fail(m, "_rebuild_parameter without a tensor%s", "");
            return NULL;
        }
        return args->items[0];
    default:
        fail(m, "a storage class cannot be called%s", "");
        return NULL;
    }
}

/* BINPERSID: ('storage', storage_class, key, location, numel). */
static val *persistent(vm *m, val *pid)
{
    if (pid->k != V_TUPLE || pid->n < 5 || pid->items[0]->k != V_STR ||
        !streq(pid->items[0]->s, pid->items[0]->slen, "storage") ||
        pid->items[1]->k != V_GLOBAL || pid->items[1]->g != G_STORAGE ||
        pid->items[2]->k != V_STR || pid->items[4]->k != V_INT || pid->items[4]->i < 0) {
        fail(m, "persistent id is not ('storage', class, key, location, numel)%s", "");
        return NULL;
    }
    const val *key = pid->items[2];
    if (key->slen == 0 || key->slen > 256 || memchr(key->s, '/', key->slen) ||
        memchr(key->s, 0, key->slen) || streq(key->s, key->slen, "..")) {
        fail(m, "bad storage key%s", "");
        return NULL;
    }
    val *s = newval(m, V_STORAGE);
    if (!s) return NULL;
    s->dt = pid->items[1]->dt;
    s->key = key->s;
    s->keylen = key->slen;
    s->numel = pid->items[4]->i;
    return s;
}

/* ---- the main loop ----------------------------------------------------------------------- */

static int memo_put(vm *m, uint64_t idx, val *v)
{
    if (!v) return QS_ERR;
    if (idx > m->len + 16 || idx > (1u << 24))
        return fail(m, "memo index beyond the pickle's size%s", "");
    if (idx >= m->nmemo) {
        size_t c = m->nmemo ? m->nmemo : 64;
        while (c <= idx) c *= 2;
        val **a = realloc(m->memo, c * sizeof *a);
        if (!a) return fail(m, "out of memory%s", "");
        memset(a + m->nmemo, 0, (c - m->nmemo) * sizeof *a);
        m->memo = a;
        m->nmemo = c;
    }
    m->memo[idx] = v;
    return QS_OK;
}

static val *memo_get(vm *m, uint64_t idx)
{
    if (idx >= m->nmemo || !m->memo[idx]) {
        fail(m, "memo entry that was never stored%s", "");
        return NULL;
    }
    return m->memo[idx];
}

static val *mkint(vm *m, int64_t i)
{
    val *v = newval(m, V_INT);
    if (v) v->i = i;
    return v;
}
static val *mkstr(vm *m, vkind k, size_t n)
{
    if (need(m, n)) return NULL;
    val *v = newval(m, k);
    if (!v) return NULL;
    v->s = (const char *)m->p + m->at;
    v->slen = n;
    m->at += n;
    return v;
}

/* Runs the pickle to STOP; *result is the top of the stack. */
static int run(vm *m, val **result)
{
    for (;;) {
        if (need(m, 1)) return QS_ERR;
        uint8_t op = m->p[m->at++];
        val *a, *b, *c;
        switch (op) {
        case 0x80:                                  /* PROTO */
            if (need(m, 1)) return QS_ERR;
            if (m->p[m->at] > 5) return fail(m, "unknown pickle protocol%s", "");
            m->at++;
            break;
        case 0x95:                                  /* FRAME: a length hint only */
            if (need(m, 8)) return QS_ERR;
            m->at += 8;
            break;
        case '.':                                   /* STOP */
            if (!(*result = pop(m))) return QS_ERR;
            return QS_OK;
        case '(':                                   /* MARK */
            if (m->nmarks == m->capmarks) {
                size_t cp = m->capmarks ? m->capmarks * 2 : 16;
                if (cp > QS_IO_PICKLE_VALUES_MAX) return fail(m, "too many MARKs%s", "");
                size_t *mk = realloc(m->marks, cp * sizeof *mk);
                if (!mk) return fail(m, "out of memory%s", "");
                m->marks = mk;
                m->capmarks = cp;
            }
            m->marks[m->nmarks++] = m->sp;
            break;
        case '0':                                   /* POP */
            if (!pop(m)) return QS_ERR;
            break;
        case '1':                                   /* POP_MARK */
            if (!pop_mark(m, V_TUPLE)) return QS_ERR;
            break;
        case '2':                                   /* DUP */
            if (!(a = top(m)) || push(m, a)) return QS_ERR;
            break;
        case 'N':                                   /* NONE */
            if (push(m, &m->none)) return QS_ERR;
            break;
        case 0x88: case 0x89:                       /* NEWTRUE, NEWFALSE */
            if (!(a = newval(m, V_BOOL))) return QS_ERR;
            a->i = op == 0x88;
            if (push(m, a)) return QS_ERR;
            break;
        case 'J':                                   /* BININT */
            if (need(m, 4)) return QS_ERR;
            a = mkint(m, (int32_t)(uint32_t)le(m->p + m->at, 4));
            m->at += 4;
            if (push(m, a)) return QS_ERR;
            break;
        case 'K':                                   /* BININT1 */
            if (need(m, 1)) return QS_ERR;
            a = mkint(m, m->p[m->at++]);
            if (push(m, a)) return QS_ERR;
            break;
        case 'M':                                   /* BININT2 */
            if (need(m, 2)) return QS_ERR;
            a = mkint(m, (int64_t)le(m->p + m->at, 2));
            m->at += 2;
            if (push(m, a)) return QS_ERR;
            break;
        case 0x8a: {                                /* LONG1 */
            if (need(m, 1)) return QS_ERR;
            size_t n = m->p[m->at++];
            if (n > 8) return fail(m, "integer wider than 64 bits%s", "");
            if (need(m, n)) return QS_ERR;
            uint64_t u = le(m->p + m->at, (int)n);
            if (n > 0 && n < 8 && (m->p[m->at + n - 1] & 0x80)) u |= ~0ULL << (8 * n);
            m->at += n;
            a = mkint(m, (int64_t)u);
            if (push(m, a)) return QS_ERR;
            break;
        }
        case 'I': {                                 /* INT (text) */
            const char *s;
            size_t n;
            char buf[32];
            if (line(m, &s, &n)) return QS_ERR;
            if (n == 0 || n >= sizeof buf) return fail(m, "bad INT%s", "");
            memcpy(buf, s, n);
            buf[n] = '\0';
            long long v;
            char *end;
            errno = 0;
            v = strtoll(buf, &end, 10);
            if (errno || *end || end == buf) return fail(m, "bad INT%s", "");
            if (push(m, mkint(m, v))) return QS_ERR;
            break;
        }
        case 'G':                                   /* BINFLOAT */
            if (need(m, 8)) return QS_ERR;
            if (!(a = newval(m, V_FLOAT))) return QS_ERR;
            m->at += 8;
            if (push(m, a)) return QS_ERR;
            break;
        case 'X': case 0x8c: case 0x8d:             /* BINUNICODE, SHORT_BINUNICODE, ..8 */
        case 'T': case 'U': case 'B': case 'C': case 0x8e: {  /* BINSTRING.., BINBYTES.. */
            int w = (op == 0x8c || op == 'U' || op == 'C') ? 1 : (op == 0x8d || op == 0x8e) ? 8 : 4;
            if (need(m, (size_t)w)) return QS_ERR;
            uint64_t n = le(m->p + m->at, w);
            m->at += (size_t)w;
            if (n > m->len - m->at) return fail(m, "string longer than the pickle%s", "");
            vkind k = (op == 'B' || op == 'C' || op == 0x8e) ? V_BYTES : V_STR;
            if (push(m, mkstr(m, k, (size_t)n))) return QS_ERR;
            break;
        }
        case ')':                                   /* EMPTY_TUPLE */
            if (push(m, newval(m, V_TUPLE))) return QS_ERR;
            break;
        case ']':                                   /* EMPTY_LIST */
            if (push(m, newval(m, V_LIST))) return QS_ERR;
            break;
        case '}':                                   /* EMPTY_DICT */
            if (push(m, newval(m, V_DICT))) return QS_ERR;
            break;
        case 't':                                   /* TUPLE */
            if (push(m, pop_mark(m, V_TUPLE))) return QS_ERR;
            break;
        case 'l':                                   /* LIST */
            if (push(m, pop_mark(m, V_LIST))) return QS_ERR;
            break;
        case 'd':                                   /* DICT */
            if (!(a = pop_mark(m, V_DICT))) return QS_ERR;
            if (a->n % 2) return fail(m, "DICT with an odd number of items%s", "");
            if (push(m, a)) return QS_ERR;
            break;
        case 0x85: case 0x86: case 0x87: {          /* TUPLE1, TUPLE2, TUPLE3 */
            int n = op - 0x84;
            val *it[3];
            for (int i = n - 1; i >= 0; i--)
                if (!(it[i] = pop(m))) return QS_ERR;
            if (!(a = newval(m, V_TUPLE))) return QS_ERR;
            for (int i = 0; i < n; i++)
                if (add_item(m, a, it[i])) return QS_ERR;
            if (push(m, a)) return QS_ERR;
            break;
        }
        case 'a':                                   /* APPEND */
            if (!(b = pop(m)) || !(a = top(m))) return QS_ERR;
            if (a->k != V_LIST) return fail(m, "APPEND to something that is not a list%s", "");
            if (add_item(m, a, b)) return QS_ERR;
            break;
        case 'e': {                                 /* APPENDS */
            if (!(b = pop_mark(m, V_TUPLE)) || !(a = top(m))) return QS_ERR;
            if (a->k != V_LIST) return fail(m, "APPENDS to something that is not a list%s", "");
            for (size_t i = 0; i < b->n; i++)
                if (add_item(m, a, b->items[i])) return QS_ERR;
            break;
        }
        case 's':                                   /* SETITEM */
            if (!(c = pop(m)) || !(b = pop(m)) || !(a = top(m))) return QS_ERR;
            if (a->k != V_DICT) return fail(m, "SETITEM on something that is not a dict%s", "");
            if (add_item(m, a, b) || add_item(m, a, c)) return QS_ERR;
            break;
        case 'u': {                                 /* SETITEMS */
            if (!(b = pop_mark(m, V_TUPLE)) || !(a = top(m))) return QS_ERR;
            if (a->k != V_DICT) return fail(m, "SETITEMS on something that is not a dict%s", "");
            if (b->n % 2) return fail(m, "SETITEMS with an odd number of items%s", "");
            for (size_t i = 0; i < b->n; i++)
                if (add_item(m, a, b->items[i])) return QS_ERR;
            break;
        }
        case 'c': {                                 /* GLOBAL "module\nname\n" */
            const char *mod, *name;
            size_t mn, nn;
            if (line(m, &mod, &mn) || line(m, &name, &nn)) return QS_ERR;
            if (push(m, global(m, mod, mn, name, nn))) return QS_ERR;
            break;
        }
        case 0x93:                                  /* STACK_GLOBAL */
            if (!(b = pop(m)) || !(a = pop(m))) return QS_ERR;
            if (a->k != V_STR || b->k != V_STR)
                return fail(m, "STACK_GLOBAL needs two strings%s", "");
            if (push(m, global(m, a->s, a->slen, b->s, b->slen))) return QS_ERR;
            break;
        case 'R':                                   /* REDUCE */
            if (!(b = pop(m)) || !(a = pop(m))) return QS_ERR;
            if (push(m, reduce(m, a, b))) return QS_ERR;
            break;
        case 'b':                                   /* BUILD: state is ignored (no setstate) */
            if (!pop(m) || !top(m)) return QS_ERR;
            break;
        case 'Q':                                   /* BINPERSID */
            if (!(a = pop(m))) return QS_ERR;
            if (push(m, persistent(m, a))) return QS_ERR;
            break;
        case 'h':                                   /* BINGET */
            if (need(m, 1)) return QS_ERR;
            if (push(m, memo_get(m, m->p[m->at++]))) return QS_ERR;
            break;
        case 'j':                                   /* LONG_BINGET */
            if (need(m, 4)) return QS_ERR;
            m->at += 4;
            if (push(m, memo_get(m, le(m->p + m->at - 4, 4)))) return QS_ERR;
            break;
        case 'q':                                   /* BINPUT */
            if (need(m, 1)) return QS_ERR;
            if (memo_put(m, m->p[m->at++], top(m))) return QS_ERR;
            break;
        case 'r':                                   /* LONG_BINPUT */
            if (need(m, 4)) return QS_ERR;
            m->at += 4;
            if (memo_put(m, le(m->p + m->at - 4, 4), top(m))) return QS_ERR;
            break;
        case 0x94:                                  /* MEMOIZE */
            if (memo_put(m, m->memo_next++, top(m))) return QS_ERR;
            break;
        default: {
            char d[8];
            m->at--;
            snprintf(d, sizeof d, "0x%02x", op);
            return fail(m, "unsupported pickle opcode %s", d);
        }
        }
    }
}

/* ---- collecting tensors ------------------------------------------------------------------ */

typedef struct coll {
    vm *m;                  /* for messages */
    qs_pk_tensor *t;        /* tensors found */
    int n, cap;
    long visits;            /* nodes visited (bounded: shared sub-dicts cannot explode) */
    size_t name_bytes;      /* bytes of the names in t (bounded: a few kB of pickle that
                               reach one long key by a million paths asked for 4 GB) */
} coll;

static int add_tensor(coll *c, const char *name, const val *v)
{
    size_t nl = strlen(name) + 1;
    if (c->n >= QS_IO_PICKLE_TENSORS_MAX)
        return fail_limit(c->m, "more than %s tensors (limit)", QS_IO_PICKLE_TENSORS_MAX);
    if (nl > QS_IO_PICKLE_NAMES_MAX - c->name_bytes)
        return fail_limit(c->m, "the tensor names take more than %s bytes (limit)",
                          QS_IO_PICKLE_NAMES_MAX);
    c->name_bytes += nl;
    if (c->n == c->cap) {
        int cap = c->cap ? c->cap * 2 : 16;
        qs_pk_tensor *a = realloc(c->t, (size_t)cap * sizeof *a);
        if (!a) return fail(c->m, "out of memory%s", "");
        c->t = a;
        c->cap = cap;
    }
    qs_pk_tensor *t = &c->t[c->n];
    memset(t, 0, sizeof *t);
    t->name = strdup(name);
    t->key = strndup(v->storage->key, v->storage->keylen);
    c->n++;
    if (!t->name || !t->key) return fail(c->m, "out of memory%s", "");
    t->dtype = v->dt;
    t->storage_numel = v->storage->numel;
    t->offset = v->offset;
    t->ndim = v->ndim;
    memcpy(t->shape, v->dims, sizeof t->shape);
    memcpy(t->stride, v->dims + QS_MAX_DIMS, sizeof t->stride);
    return QS_OK;
}

/* Walks dicts (and lists / tuples of dicts) collecting tensors named by their key path. */
static int walk(coll *c, const val *v, const char *prefix, int depth)
{
    if (++c->visits > 4000000) return fail(c->m, "the object graph is too large%s", "");
    if (depth > QS_IO_PICKLE_DEPTH_MAX)
        return fail(c->m, "containers nested deeper than %s levels", "32");
    if (v->k == V_TENSOR) return add_tensor(c, prefix[0] ? prefix : "tensor", v);
    if (v->k != V_DICT && v->k != V_LIST && v->k != V_TUPLE) return QS_OK;
    int dict = v->k == V_DICT;
    for (size_t i = 0; i < v->n; i += dict ? 2 : 1) {
        char key[64];
        const char *ks = key;
        size_t kl;
        if (dict) {
            const val *k = v->items[i];
            if (k->k == V_STR) {
                if (memchr(k->s, 0, k->slen)) continue;
                ks = k->s;
                kl = k->slen;
            } else if (k->k == V_INT) {
                kl = (size_t)snprintf(key, sizeof key, "%lld", (long long)k->i);
            } else {
                continue;
            }
        } else {
            kl = (size_t)snprintf(key, sizeof key, "%zu", i);
        }
        size_t pl = strlen(prefix);
        if (pl + kl + 2 > QS_IO_NAME_MAX) return fail(c->m, "a tensor name is too long%s", "");
        char name[QS_IO_NAME_MAX + 2];
        memcpy(name, prefix, pl);
        size_t o = pl;
        if (pl) name[o++] = '.';
        memcpy(name + o, ks, kl);
        name[o + kl] = '\0';
        if (walk(c, v->items[i + (dict ? 1 : 0)], name, depth + 1)) return QS_ERR;
    }
    return QS_OK;
}

/* ---- entry point ------------------------------------------------------------------------- */

int qs_io_pickle_tensors(const uint8_t *buf, size_t len, const char *path, qs_pk_tensor **out,
                         int *n, qs_err *err)
{
    vm m;
    memset(&m, 0, sizeof m);
    m.p = buf;
    m.len = len;
    m.path = path;
    m.err = err;
    m.none.k = V_NONE;
    *out = NULL;
    *n = 0;
    val *result = NULL;
    coll c = {&m, NULL, 0, 0, 0, 0};
    int rc = run(&m, &result);
    if (rc == QS_OK) rc = walk(&c, result, "", 0);
    if (rc == QS_OK) {
        *out = c.t;
        *n = c.n;
    } else {
        qs_io_pickle_free(c.t, c.n);
    }
    for (size_t i = 0; i < m.nall; i++) {
        free(m.all[i]->items);
        free(m.all[i]->dims);
        free(m.all[i]);
    }
    free(m.all);
    free(m.stack);
    free(m.marks);
    free(m.memo);
    return rc;
}

void qs_io_pickle_free(qs_pk_tensor *t, int n)
{
    if (!t) return;
    for (int i = 0; i < n; i++) {
        free(t[i].name);
        free(t[i].key);
    }
    free(t);
}
