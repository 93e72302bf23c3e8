/* gguf.c — GGUF v2/v3 loader (llama.cpp's model files): header, metadata key/values rendered
 * as text, tensor infos with ggml types, alignment and offsets checked against the mapping.
 * Every count and length read from the file is bounded by the bytes that remain. */
#include "io_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/ggml.h"

#define GGUF_DEFAULT_ALIGNMENT 32
#define META_TEXT_MAX 240           /* characters of a rendered metadata value */
#define ARRAY_SHOWN 8               /* array elements shown in a rendered value */

/* GGUF value types. */
enum {
    GT_U8 = 0, GT_I8, GT_U16, GT_I16, GT_U32, GT_I32, GT_F32, GT_BOOL, GT_STRING, GT_ARRAY,
    GT_U64, GT_I64, GT_F64, GT_COUNT
};
static const char *const gt_names[GT_COUNT] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32",
                                               "bool", "string", "array", "u64", "i64", "f64"};
static const int gt_size[GT_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

/* A cursor over the mapping. */
typedef struct rd {
    const uint8_t *p;       /* the file */
    size_t len;             /* its length */
    size_t at;              /* read position */
    const char *path;       /* for messages */
} rd;

static int need(rd *r, uint64_t n, const char *what, qs_err *err)
{
    if (n > r->len - r->at)
        return qs_err_set(err, "%s: truncated: %s needs %llu bytes at offset %zu but the file "
                          "has %zu", r->path, what, (unsigned long long)n, r->at, r->len);
    return QS_OK;
}
static int u32(rd *r, uint32_t *v, const char *what, qs_err *err)
{
    if (need(r, 4, what, err)) return QS_ERR;
    *v = qs_io_le32(r->p + r->at);
    r->at += 4;
    return QS_OK;
}
static int u64(rd *r, uint64_t *v, const char *what, qs_err *err)
{
    if (need(r, 8, what, err)) return QS_ERR;
    *v = qs_io_le64(r->p + r->at);
    r->at += 8;
    return QS_OK;
}
/* A string: u64 length + bytes. *s points into the mapping (not NUL-terminated). */
static int str(rd *r, const char **s, uint64_t *n, const char *what, qs_err *err)
{
    size_t start = r->at;
    if (u64(r, n, what, err)) return QS_ERR;
    if (*n > r->len - r->at)
        return qs_err_set(err, "%s: %s at offset %zu has length %llu, past the end of the "
                          "file (%zu bytes)", r->path, what, start, (unsigned long long)*n,
                          r->len);
    *s = (const char *)r->p + r->at;
    r->at += (size_t)*n;
    return QS_OK;
}

/* ---- rendering metadata values as text ------------------------------------------------- */

/* A growing text buffer capped at META_TEXT_MAX characters (then "..."). */
typedef struct txt {
    char b[META_TEXT_MAX + 8];  /* text */
    size_t n;                   /* length */
    int full;                   /* 1 once the cap was hit */
} txt;

static void put(txt *t, const char *s, size_t len)
{
    for (size_t i = 0; i < len && !t->full; i++) {
        unsigned char c = (unsigned char)s[i];
        if (t->n >= META_TEXT_MAX) {
            if ((c & 0xc0) == 0x80) {       /* cut inside a UTF-8 sequence: drop its start */
                while (t->n > 0 && ((unsigned char)t->b[t->n - 1] & 0xc0) == 0x80) t->n--;
                if (t->n > 0 && (unsigned char)t->b[t->n - 1] >= 0xc0) t->n--;
            }
            memcpy(t->b + t->n, "...", 4);
            t->n += 3;
            t->full = 1;
            return;
        }
        if (c == 0) {           /* the one byte a C string cannot hold: its escape's text */
            memcpy(t->b + t->n, "\\x00", 4);
            t->n += 4;
            continue;
        }
        t->b[t->n++] = (char)c; /* controls stay: faces escape them (qs_escape) */
    }
    t->b[t->n] = '\0';
}
static void puts_(txt *t, const char *s) { put(t, s, strlen(s)); }

/* Reads (and when t != NULL renders) one value of type ty. depth counts array nesting. */
static int value(rd *r, uint32_t ty, txt *t, int depth, const char *key, qs_err *err)
{
    char nb[64];
    if (ty >= GT_COUNT)
        return qs_err_set(err, "%s: key '%s' has unknown value type %u (expected 0..12)",
                          r->path, key, ty);
    if (ty == GT_STRING) {
        const char *s;
        uint64_t n;
        if (str(r, &s, &n, "a string value", err)) return QS_ERR;
        if (t) put(t, s, (size_t)n);
        return QS_OK;
    }
    if (ty == GT_ARRAY) {
        if (depth >= QS_IO_GGUF_NEST_MAX)
            return qs_err_set(err, "%s: key '%s' nests arrays deeper than %d levels", r->path,
                              key, QS_IO_GGUF_NEST_MAX);
        uint32_t et;
        uint64_t count;
        if (u32(r, &et, "an array type", err) || u64(r, &count, "an array length", err))
            return QS_ERR;
        if (et >= GT_COUNT)
            return qs_err_set(err, "%s: key '%s' is an array of unknown type %u", r->path, key,
                              et);
        /* each element takes at least this many bytes, so the count is bounded by the file */
        uint64_t min = et == GT_STRING ? 8 : et == GT_ARRAY ? 12 : (uint64_t)gt_size[et];
        if (count > (r->len - r->at) / min)
            return qs_err_set(err, "%s: key '%s' array of %llu %s elements does not fit in "
                              "the %zu bytes left in the file", r->path, key,
                              (unsigned long long)count, gt_names[et], r->len - r->at);
        if (t) {
            snprintf(nb, sizeof nb, "[%llu %s] ", (unsigned long long)count, gt_names[et]);
            puts_(t, nb);
        }
        if (et != GT_STRING && et != GT_ARRAY && count > ARRAY_SHOWN) {
            for (uint64_t i = 0; i < ARRAY_SHOWN; i++) {      /* render the first few... */
                if (t && i) puts_(t, ", ");
                if (value(r, et, t, depth + 1, key, err)) return QS_ERR;
            }
            if (t) puts_(t, ", ...");
            r->at += (size_t)((count - ARRAY_SHOWN) * min);   /* ...skip the rest (checked) */
            return QS_OK;
        }
        for (uint64_t i = 0; i < count; i++) {
            txt *tt = (t && i < ARRAY_SHOWN) ? t : NULL;
            if (tt && i) puts_(tt, ", ");
            if (t && i == ARRAY_SHOWN) puts_(t, ", ...");
            if (value(r, et, tt, depth + 1, key, err)) return QS_ERR;
        }
        return QS_OK;
    }
    if (need(r, (uint64_t)gt_size[ty], "a value", err)) return QS_ERR;
    const uint8_t *p = r->p + r->at;
    r->at += (size_t)gt_size[ty];
    if (!t) return QS_OK;
    switch (ty) {
    case GT_U8: snprintf(nb, sizeof nb, "%u", p[0]); break;
    case GT_I8: snprintf(nb, sizeof nb, "%d", (int8_t)p[0]); break;
    case GT_U16: snprintf(nb, sizeof nb, "%u", qs_io_le16(p)); break;
    case GT_I16: snprintf(nb, sizeof nb, "%d", (int16_t)qs_io_le16(p)); break;
    case GT_U32: snprintf(nb, sizeof nb, "%u", qs_io_le32(p)); break;
    case GT_I32: snprintf(nb, sizeof nb, "%d", (int32_t)qs_io_le32(p)); break;
    case GT_U64: snprintf(nb, sizeof nb, "%llu", (unsigned long long)qs_io_le64(p)); break;
    case GT_I64: snprintf(nb, sizeof nb, "%lld", (long long)(int64_t)qs_io_le64(p)); break;
    case GT_BOOL: snprintf(nb, sizeof nb, "%s", p[0] ? "true" : "false"); break;
    case GT_F32: {
        uint32_t u = qs_io_le32(p);
        float f;
        memcpy(&f, &u, sizeof f);
        snprintf(nb, sizeof nb, "%.9g", (double)f);
        break;
    }
    default: {
        uint64_t u = qs_io_le64(p);
        double d;
        memcpy(&d, &u, sizeof d);
        snprintf(nb, sizeof nb, "%.17g", d);
        break;
    }
    }
    puts_(t, nb);
    return QS_OK;
}

/* ---- names ----------------------------------------------------------------------------- */

/* 1 when s[0..n) is well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF). */
static int utf8_ok(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k = (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : 0;
        if (k == 0 || i + k >= n) return 0;
        uint32_t cp = k == 1 ? c & 0x1f : k == 2 ? c & 0x0f : c & 0x07;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80) return 0;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += k + 1;
    }
    return 1;
}

/* A key or tensor name as a new C string; rejects NUL bytes, invalid UTF-8 and over-long
 * names. */
static char *dup_name(rd *r, const char *s, uint64_t n, const char *what, qs_err *err)
{
    if (n > QS_IO_NAME_MAX) {
        qs_err_set(err, "%s: %s of %llu bytes is longer than the limit of %d", r->path, what,
                   (unsigned long long)n, QS_IO_NAME_MAX);
        return NULL;
    }
    if (memchr(s, 0, (size_t)n)) {
        char q[QS_IO_QUOTE_LEN];
        qs_io_quote(q, s, (size_t)n);
        qs_err_set(err, "%s: %s '%s' contains a NUL byte", r->path, what, q);
        return NULL;
    }
    if (!utf8_ok((const unsigned char *)s, (size_t)n)) {
        char q[QS_IO_QUOTE_LEN];
        qs_io_quote(q, s, (size_t)n);
        for (char *c = q; *c; c++)              /* keep the message itself valid UTF-8 */
            if ((unsigned char)*c >= 0x80) *c = '?';
        qs_err_set(err, "%s: %s '%s' is not valid UTF-8", r->path, what, q);
        return NULL;
    }
    char *c = malloc((size_t)n + 1);
    if (!c) {
        qs_err_set(err, "%s: out of memory", r->path);
        return NULL;
    }
    memcpy(c, s, (size_t)n);
    c[n] = '\0';
    return c;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Fails naming the first duplicate among names[0..n). */
static int check_unique(const char *path, char **names, size_t n, const char *what,
                        qs_err *err)
{
    if (n < 2) return QS_OK;
    char **s = malloc(n * sizeof *s);
    if (!s) return qs_err_set(err, "%s: out of memory", path);
    memcpy(s, names, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_str);
    int rc = QS_OK;
    for (size_t i = 1; i < n; i++)
        if (strcmp(s[i - 1], s[i]) == 0) {
            char q[QS_IO_QUOTE_LEN];
            qs_io_quote(q, s[i], strlen(s[i]));
            rc = qs_err_set(err, "%s: duplicate %s '%s'", path, what, q);
            break;
        }
    free(s);
    return rc;
}

/* ---- the loader ------------------------------------------------------------------------ */

/* Tensor byte ranges relative to the data section, for the overlap check. */
typedef struct trange {
    uint64_t begin, end;    /* [begin, end) */
    int idx;                /* entry */
} trange;

static int trange_cmp(const void *a, const void *b)
{
    const trange *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

int qs_io_gguf_open(qs_file *f, qs_err *err)
{
    rd r = {f->map, f->maplen, 0, f->path};
    const char *P = f->path;
    char **keys = NULL;
    size_t nkeys = 0;
    trange *tr = NULL;
    int rc = QS_ERR;
    uint32_t version;
    uint64_t n_tensors, n_kv;

    if (r.len < 4 || memcmp(r.p, "GGUF", 4) != 0)
        return qs_err_set(err, "%s: not a GGUF file (no 'GGUF' magic)", P);
    r.at = 4;
    if (u32(&r, &version, "the version", err)) return QS_ERR;
    if (version != 2 && version != 3) {
        uint32_t sw = __builtin_bswap32(version);
        if (sw == 2 || sw == 3)
            return qs_err_set(err, "%s: big-endian GGUF (version %u byte-swapped) is not "
                              "supported; convert it to little-endian", P, sw);
        if (version == 1)
            return qs_err_set(err, "%s: GGUF version 1 is obsolete (qscope reads versions 2 "
                              "and 3)", P);
        return qs_err_set(err, "%s: unsupported GGUF version %u (qscope reads 2 and 3)", P,
                          version);
    }
    if (u64(&r, &n_tensors, "the tensor count", err) || u64(&r, &n_kv, "the key count", err))
        return QS_ERR;
    /* a tensor info takes >= 24 bytes and a key/value >= 13: counts bounded by the file */
    if (n_tensors > (r.len - r.at) / 24 || n_tensors > INT32_MAX)
        return qs_err_set(err, "%s: tensor count %llu cannot fit in the file (%zu bytes)", P,
                          (unsigned long long)n_tensors, r.len);
    if (n_kv > (r.len - r.at) / 13)
        return qs_err_set(err, "%s: key/value count %llu cannot fit in the file (%zu bytes)",
                          P, (unsigned long long)n_kv, r.len);

    char vb[32];
    snprintf(vb, sizeof vb, "%u", version);
    if (qs_io_meta_add(f, "gguf.version", vb, err)) return QS_ERR;

    uint64_t alignment = GGUF_DEFAULT_ALIGNMENT;
    keys = calloc(n_kv ? (size_t)n_kv : 1, sizeof *keys);
    if (!keys) return qs_err_set(err, "%s: out of memory", P);
    txt *t = malloc(sizeof *t);
    if (!t) {
        free(keys);
        return qs_err_set(err, "%s: out of memory", P);
    }
    for (uint64_t i = 0; i < n_kv; i++) {
        const char *ks;
        uint64_t kn;
        uint32_t ty;
        if (str(&r, &ks, &kn, "a metadata key", err)) goto done;
        char *key = dup_name(&r, ks, kn, "metadata key", err);
        if (!key) goto done;
        keys[nkeys++] = key;
        char q[QS_IO_QUOTE_LEN];
        qs_io_quote(q, key, strlen(key));
        if (u32(&r, &ty, "a value type", err)) goto done;
        size_t vstart = r.at;
        t->n = 0;
        t->full = 0;
        t->b[0] = '\0';
        if (value(&r, ty, t, 0, q, err)) goto done;
        if (strcmp(key, "general.alignment") == 0) {
            if (ty != GT_U32) {
                qs_err_set(err, "%s: general.alignment must be a u32, not %s", P,
                           ty < GT_COUNT ? gt_names[ty] : "?");
                goto done;
            }
            alignment = qs_io_le32(r.p + vstart);
            if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
                qs_err_set(err, "%s: general.alignment %llu is not a power of two", P,
                           (unsigned long long)alignment);
                goto done;
            }
        }
        /* bytes that are not UTF-8 become \xNN with every other name (qs_file_open) */
        if (qs_io_meta_add(f, key, t->b, err)) goto done;
    }
    if (check_unique(P, keys, nkeys, "metadata key", err)) goto done;

    f->entries = calloc(n_tensors ? (size_t)n_tensors : 1, sizeof *f->entries);
    tr = calloc(n_tensors ? (size_t)n_tensors : 1, sizeof *tr);
    if (!f->entries || !tr) {
        qs_err_set(err, "%s: out of memory", P);
        goto done;
    }
    for (uint64_t i = 0; i < n_tensors; i++) {
        const char *ns;
        uint64_t nn;
        uint32_t nd, type;
        uint64_t off;
        qs_entry *e = &f->entries[f->n];
        if (str(&r, &ns, &nn, "a tensor name", err)) goto done;
        if (!(e->name = dup_name(&r, ns, nn, "tensor name", err))) goto done;
        f->n++;
        char q[QS_IO_QUOTE_LEN];
        qs_io_quote(q, e->name, strlen(e->name));
        if (u32(&r, &nd, "a tensor's dimension count", err)) goto done;
        if (nd > QS_MAX_DIMS) {
            qs_err_set(err, "%s: tensor '%s' has %u dimensions (at most %d are supported)", P,
                       q, nd, QS_MAX_DIMS);
            goto done;
        }
        uint64_t ne[QS_MAX_DIMS];
        for (uint32_t d = 0; d < nd; d++) {
            if (u64(&r, &ne[d], "a tensor dimension", err)) goto done;
            if (ne[d] > INT64_MAX) {
                qs_err_set(err, "%s: tensor '%s' dimension %u is %llu (too large)", P, q, d,
                           (unsigned long long)ne[d]);
                goto done;
            }
        }
        if (u32(&r, &type, "a tensor type", err) || u64(&r, &off, "a tensor offset", err))
            goto done;
        /* ggml's ne[0] is the fastest-varying dim: C order is the reverse */
        e->ndim = (int)nd;
        for (uint32_t d = 0; d < nd; d++) e->shape[nd - 1 - d] = (int64_t)ne[d];
        e->n = qs_shape_numel(e->ndim, e->shape);
        char shp[256];
        qs_shape_str(e->ndim, e->shape, shp, sizeof shp);
        if (e->n < 0) {
            qs_err_set(err, "%s: tensor '%s' shape %s: the element count overflows", P, q, shp);
            goto done;
        }
        const qs_ggml_type *gt = qs_ggml_type_info((int)type);
        if (!gt || gt->bytes == 0) {
            qs_err_set(err, "%s: tensor '%s' has unknown ggml type %u", P, q, type);
            goto done;
        }
        e->dtype = gt->dtype;
        if (gt->dtype == QS_DT_COUNT) e->type_name = gt->name;
        if (nd > 0 && ne[0] % (uint64_t)gt->block != 0) {
            qs_err_set(err, "%s: tensor '%s' of type %s has rows of %llu elements, not a "
                       "multiple of its %d-element blocks", P, q, gt->name,
                       (unsigned long long)ne[0], gt->block);
            goto done;
        }
        if (e->n % gt->block != 0) {
            qs_err_set(err, "%s: tensor '%s' of type %s has %lld elements, not a whole number "
                       "of blocks", P, q, gt->name, (long long)e->n);
            goto done;
        }
        uint64_t nblocks = (uint64_t)e->n / (uint64_t)gt->block;
        if (nblocks > UINT64_MAX / (uint64_t)gt->bytes) {
            qs_err_set(err, "%s: tensor '%s' shape %s: the byte count overflows", P, q, shp);
            goto done;
        }
        e->nbytes = nblocks * (uint64_t)gt->bytes;
        if (off % alignment != 0) {
            qs_err_set(err, "%s: tensor '%s' offset %llu is not a multiple of the alignment "
                       "%llu", P, q, (unsigned long long)off, (unsigned long long)alignment);
            goto done;
        }
        e->offset = off;           /* relative for now; made absolute below */
        tr[f->n - 1] = (trange){off, 0, f->n - 1};
    }
    {
        char **names = malloc((size_t)(f->n ? f->n : 1) * sizeof *names);
        if (!names) {
            qs_err_set(err, "%s: out of memory", P);
            goto done;
        }
        for (int i = 0; i < f->n; i++) names[i] = f->entries[i].name;
        int u = check_unique(P, names, (size_t)f->n, "tensor name", err);
        free(names);
        if (u) goto done;
    }
    /* the data section starts at the next multiple of the alignment */
    uint64_t data_start = ((uint64_t)r.at + alignment - 1) / alignment * alignment;
    if (data_start < r.at) {
        qs_err_set(err, "%s: alignment %llu overflows", P, (unsigned long long)alignment);
        goto done;
    }
    uint64_t dsize = data_start <= r.len ? r.len - data_start : 0;
    if (f->n > 0 && data_start > r.len) {
        qs_err_set(err, "%s: truncated: the data section would start at byte %llu but the "
                   "file has %zu", P, (unsigned long long)data_start, r.len);
        goto done;
    }
    for (int i = 0; i < f->n; i++) {
        qs_entry *e = &f->entries[i];
        char q[QS_IO_QUOTE_LEN];
        qs_io_quote(q, e->name, strlen(e->name));
        if (e->offset > dsize || e->nbytes > dsize - e->offset) {
            qs_err_set(err, "%s: tensor '%s' data [%llu, +%llu) goes past the end of the data "
                       "section (%llu bytes)", P, q, (unsigned long long)e->offset,
                       (unsigned long long)e->nbytes, (unsigned long long)dsize);
            goto done;
        }
        tr[i].end = e->offset + e->nbytes;
        e->offset += data_start;
    }
    if (f->n > 1) qsort(tr, (size_t)f->n, sizeof *tr, trange_cmp);
    for (int i = 1; i < f->n; i++)
        if (tr[i].begin < tr[i - 1].end) {
            char qa[QS_IO_QUOTE_LEN], qb[QS_IO_QUOTE_LEN];
            const char *na = f->entries[tr[i - 1].idx].name, *nb = f->entries[tr[i].idx].name;
            qs_io_quote(qa, na, strlen(na));
            qs_io_quote(qb, nb, strlen(nb));
            qs_err_set(err, "%s: tensors '%s' and '%s' overlap in the data section", P, qa, qb);
            goto done;
        }
    rc = QS_OK;
done:
    free(t);
    for (size_t i = 0; i < nkeys; i++) free(keys[i]);
    free(keys);
    free(tr);
    return rc;
}
