/* npy.c — NumPy .npy loader (format 1.0, 2.0, 3.0): a strict parser for the header's
 * Python-literal dict {'descr': ..., 'fortran_order': ..., 'shape': (...)}, checked against
 * the file size before anything is read. */
#include "io_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Cursor over the header dict; every read is checked against end. */
typedef struct lexer {
    const char *start;      /* first byte of the dict text (for column numbers) */
    const char *p;          /* next byte to read */
    const char *end;        /* one past the last byte */
    char msg[160];          /* what went wrong, without the file name */
} lexer;

/* The parsed header. */
typedef struct npy_header {
    char descr[16];                 /* e.g. "<f4" */
    int fortran;                    /* fortran_order */
    int ndim;                       /* number of dims */
    int64_t shape[QS_MAX_DIMS];     /* dims */
} npy_header;

static int lex_fail(lexer *L, const char *what)
{
    snprintf(L->msg, sizeof L->msg, "%s at column %ld", what, (long)(L->p - L->start) + 1);
    return QS_ERR;
}

static void skip_ws(lexer *L)
{
    while (L->p < L->end && (*L->p == ' ' || *L->p == '\t' || *L->p == '\n' || *L->p == '\r'))
        L->p++;
}

static int peek(const lexer *L) { return L->p < L->end ? (unsigned char)*L->p : -1; }

/* Consumes c or fails naming it. */
static int expect(lexer *L, char c)
{
    if (peek(L) != (unsigned char)c) {
        char what[32];
        snprintf(what, sizeof what, "expected '%c'", c);
        return lex_fail(L, what);
    }
    L->p++;
    return QS_OK;
}

/* A Python string literal in single or double quotes, without escapes, of < cap bytes. */
static int parse_str(lexer *L, char *out, size_t cap)
{
    int q = peek(L);
    if (q != '\'' && q != '"') return lex_fail(L, "expected a quoted string");
    L->p++;
    size_t n = 0;
    while (L->p < L->end && *L->p != q) {
        if (*L->p == '\\') return lex_fail(L, "escapes in strings are not supported");
        if (n + 1 >= cap) return lex_fail(L, "string too long");
        out[n++] = *L->p++;
    }
    if (L->p >= L->end) return lex_fail(L, "unterminated string");
    L->p++;
    out[n] = '\0';
    return QS_OK;
}

/* 1 when the next bytes are the word w, not followed by an identifier character. */
static int match_word(lexer *L, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(L->end - L->p) < n || memcmp(L->p, w, n) != 0) return 0;
    if (L->p + n < L->end) {
        char c = L->p[n];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '_')
            return 0;
    }
    L->p += n;
    return 1;
}

/* A non-negative decimal integer (Python 2 files may add an 'L'), with overflow check. */
static int parse_dim(lexer *L, int64_t *v)
{
    if (peek(L) < '0' || peek(L) > '9') return lex_fail(L, "expected a dimension");
    int64_t x = 0;
    while (peek(L) >= '0' && peek(L) <= '9') {
        int d = *L->p - '0';
        if (x > (INT64_MAX - d) / 10) return lex_fail(L, "dimension too large");
        x = x * 10 + d;
        L->p++;
    }
    if (peek(L) == 'L' || peek(L) == 'l') L->p++;
    *v = x;
    return QS_OK;
}

/* '(' [dim (',' dim)* [',']] ')' */
static int parse_shape(lexer *L, npy_header *h)
{
    if (expect(L, '(') != QS_OK) return QS_ERR;
    skip_ws(L);
    h->ndim = 0;
    int comma = 0;
    while (peek(L) != ')') {
        if (h->ndim == QS_MAX_DIMS) return lex_fail(L, "more than 8 dimensions");
        if (parse_dim(L, &h->shape[h->ndim]) != QS_OK) return QS_ERR;
        h->ndim++;
        skip_ws(L);
        comma = peek(L) == ',';
        if (comma) {
            L->p++;
            skip_ws(L);
        } else if (peek(L) != ')') {
            return lex_fail(L, "expected ',' or ')' in the shape");
        }
    }
    /* Python's (3) is the number 3, not a tuple: numpy refuses it as a shape */
    if (h->ndim == 1 && !comma)
        return lex_fail(L, "a one-dimensional shape needs its comma, as in (3,)");
    L->p++;
    return QS_OK;
}

/* The whole dict, then only whitespace. Each of the three keys exactly once. */
static int parse_dict(lexer *L, npy_header *h)
{
    int have_descr = 0, have_fortran = 0, have_shape = 0;
    skip_ws(L);
    if (expect(L, '{') != QS_OK) return QS_ERR;
    skip_ws(L);
    while (peek(L) != '}') {
        char key[32];
        if (parse_str(L, key, sizeof key) != QS_OK) return QS_ERR;
        skip_ws(L);
        if (expect(L, ':') != QS_OK) return QS_ERR;
        skip_ws(L);
        int *seen;
        if (strcmp(key, "descr") == 0) {
            seen = &have_descr;
            if (peek(L) == '[') return lex_fail(L, "structured dtypes are not supported");
            if (parse_str(L, h->descr, sizeof h->descr) != QS_OK) return QS_ERR;
        } else if (strcmp(key, "fortran_order") == 0) {
            seen = &have_fortran;
            if (match_word(L, "True")) h->fortran = 1;
            else if (match_word(L, "False")) h->fortran = 0;
            else return lex_fail(L, "fortran_order must be True or False");
        } else if (strcmp(key, "shape") == 0) {
            seen = &have_shape;
            if (parse_shape(L, h) != QS_OK) return QS_ERR;
        } else {
            char q[QS_IO_QUOTE_LEN], what[128];
            qs_io_quote(q, key, strlen(key));
            snprintf(what, sizeof what, "unknown key '%s'", q);
            return lex_fail(L, what);
        }
        if (*seen) {
            char what[80];
            snprintf(what, sizeof what, "duplicate key '%s'", key);   /* one of the three */
            return lex_fail(L, what);
        }
        *seen = 1;
        skip_ws(L);
        if (peek(L) == ',') {
            L->p++;
            skip_ws(L);
        } else if (peek(L) != '}') {
            return lex_fail(L, "expected ',' or '}'");
        }
    }
    L->p++;
    skip_ws(L);
    if (L->p != L->end) return lex_fail(L, "unexpected text after the dict");
    const char *missing = !have_descr ? "descr" : !have_fortran ? "fortran_order"
                        : !have_shape ? "shape" : NULL;
    if (missing) {
        snprintf(L->msg, sizeof L->msg, "missing key '%s'", missing);
        return QS_ERR;
    }
    return QS_OK;
}

/* Maps a descr like "<f4" to a dtype and byte order. */
static int descr_dtype(const char *d, qs_dtype *dt, int *be)
{
    static const struct { const char *code; qs_dtype dt; } codes[] = {
        {"f4", QS_DT_F32}, {"f8", QS_DT_F64}, {"f2", QS_DT_F16}, {"i1", QS_DT_I8},
        {"u1", QS_DT_U8},  {"i2", QS_DT_I16}, {"u2", QS_DT_U16}, {"i4", QS_DT_I32},
        {"u4", QS_DT_U32}, {"i8", QS_DT_I64}, {"u8", QS_DT_U64}, {"b1", QS_DT_BOOL},
    };
    char order = d[0];
    if (order != '<' && order != '>' && order != '|') return QS_ERR;
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        if (strcmp(d + 1, codes[i].code) != 0) continue;
        size_t sz = qs_dtype_size(codes[i].dt);
        if (order == '|' && sz != 1) return QS_ERR;     /* '|' is only for single bytes */
        *dt = codes[i].dt;
        *be = order == '>' && sz > 1;
        return QS_OK;
    }
    return QS_ERR;
}

int qs_io_npy_open(qs_file *f, qs_err *err)
{
    const uint8_t *b = f->map;
    size_t len = f->maplen;
    const char *P = f->path;
    if (len < 10)
        return qs_err_set(err, "%s: truncated header: the file is %zu bytes, shorter than "
                               "the 10-byte .npy preamble", P, len);
    if (memcmp(b, "\x93NUMPY", 6) != 0)
        return qs_err_set(err, "%s: bad magic: not a NumPy .npy file (it should start with "
                               "\\x93NUMPY)", P);
    int major = b[6], minor = b[7];
    if (major < 1 || major > 3 || minor != 0)
        return qs_err_set(err, "%s: unsupported .npy format version %d.%d", P, major, minor);
    size_t hstart = major == 1 ? 10 : 12;
    if (len < hstart)
        return qs_err_set(err, "%s: truncated header: the file is %zu bytes", P, len);
    uint64_t hlen = major == 1 ? qs_io_le16(b + 8) : qs_io_le32(b + 8);
    if (hlen > QS_IO_NPY_HEADER_MAX)
        return qs_err_set(err, "%s: header length %llu exceeds the limit of %u bytes", P,
                          (unsigned long long)hlen, QS_IO_NPY_HEADER_MAX);
    if (hlen > len - hstart)
        return qs_err_set(err, "%s: truncated header: header length %llu goes past the end "
                               "of the file (%zu bytes)", P, (unsigned long long)hlen, len);

    npy_header h;
    memset(&h, 0, sizeof h);
    lexer L = {(const char *)b + hstart, (const char *)b + hstart, (const char *)b + hstart + hlen,
               ""};
    if (parse_dict(&L, &h) != QS_OK)
        return qs_err_set(err, "%s: bad .npy header dict: %s", P, L.msg);

    qs_dtype dt;
    int be;
    if (descr_dtype(h.descr, &dt, &be) != QS_OK) {
        char q[QS_IO_QUOTE_LEN];
        qs_io_quote(q, h.descr, strlen(h.descr));
        return qs_err_set(err, "%s: unsupported dtype '%s'", P, q);
    }
    char shp[256];
    qs_shape_str(h.ndim, h.shape, shp, sizeof shp);
    int64_t n = qs_shape_numel(h.ndim, h.shape);
    size_t sz = qs_dtype_size(dt);
    if (n < 0 || (uint64_t)n > UINT64_MAX / sz)
        return qs_err_set(err, "%s: shape %s: the element count overflows", P, shp);
    uint64_t need = (uint64_t)n * sz;
    size_t data_off = hstart + (size_t)hlen;
    size_t have = len - data_off;
    if (need > have)
        return qs_err_set(err, "%s: truncated data: shape %s of %s needs %llu bytes, the "
                               "file has %zu", P, shp, h.descr, (unsigned long long)need, have);
    if (need < have)
        return qs_err_set(err, "%s: %zu bytes of data, but shape %s of %s needs %llu", P, have,
                          shp, h.descr, (unsigned long long)need);

    f->entries = calloc(1, sizeof *f->entries);
    if (!f->entries) return qs_err_set(err, "%s: out of memory", P);
    qs_entry *e = &f->entries[0];
    f->n = 1;
    if (!(e->name = qs_io_stem(P))) return qs_err_set(err, "%s: out of memory", P);
    e->dtype = dt;
    e->ndim = h.ndim;
    memcpy(e->shape, h.shape, sizeof e->shape);
    e->n = n;
    e->nbytes = need;
    e->offset = data_off;
    e->fortran = h.fortran;
    e->big_endian = be;

    char ver[8];
    snprintf(ver, sizeof ver, "%d.%d", major, minor);
    if (qs_io_meta_add(f, "npy_version", ver, err) != QS_OK ||
        qs_io_meta_add(f, "descr", h.descr, err) != QS_OK ||
        qs_io_meta_add(f, "fortran_order", h.fortran ? "True" : "False", err) != QS_OK)
        return QS_ERR;
    return QS_OK;
}
