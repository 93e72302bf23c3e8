/* safetensors.c — safetensors loader: u64 header length, JSON header parsed with jansson,
 * every entry's dtype, shape and data_offsets checked against the data section (in range,
 * sizes matching, no overlaps, no holes) before anything is read. */
#include "io_priv.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One tensor's byte range in the data section, for the overlap / hole check. */
typedef struct span {
    uint64_t begin, end;    /* data_offsets [begin, end) */
    int idx;                /* entry index */
} span;

static int span_cmp(const void *a, const void *b)
{
    const span *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

static int st_dtype(const char *s, qs_dtype *dt)
{
    static const struct { const char *name; qs_dtype dt; } names[] = {
        {"F64", QS_DT_F64}, {"F32", QS_DT_F32}, {"F16", QS_DT_F16}, {"BF16", QS_DT_BF16},
        {"I8", QS_DT_I8}, {"U8", QS_DT_U8}, {"I16", QS_DT_I16}, {"U16", QS_DT_U16},
        {"I32", QS_DT_I32}, {"U32", QS_DT_U32}, {"I64", QS_DT_I64}, {"U64", QS_DT_U64},
        {"F8_E4M3", QS_DT_F8_E4M3}, {"F8_E5M2", QS_DT_F8_E5M2}, {"BOOL", QS_DT_BOOL},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i].name) == 0) {
            *dt = names[i].dt;
            return QS_OK;
        }
    return QS_ERR;
}

/* A JSON integer >= 0, else QS_ERR. */
static int get_u64(const json_t *v, uint64_t *out)
{
    if (!json_is_integer(v)) return QS_ERR;
    json_int_t x = json_integer_value(v);
    if (x < 0) return QS_ERR;
    *out = (uint64_t)x;
    return QS_OK;
}

/* Fills e from one header entry {"dtype","shape","data_offsets"}; dsize is the data size. */
static int parse_entry(qs_file *f, const char *q, const json_t *obj, uint64_t dsize,
                       uint64_t data_start, qs_entry *e, span *sp, qs_err *err)
{
    const char *P = f->path;
    if (!json_is_object(obj))
        return qs_err_set(err, "%s: tensor '%s' is not a JSON object", P, q);
    const json_t *jd = json_object_get(obj, "dtype");
    const json_t *js = json_object_get(obj, "shape");
    const json_t *jo = json_object_get(obj, "data_offsets");
    if (!json_is_string(jd)) return qs_err_set(err, "%s: tensor '%s' has no dtype string", P, q);
    if (!json_is_array(js)) return qs_err_set(err, "%s: tensor '%s' has no shape array", P, q);
    if (!json_is_array(jo) || json_array_size(jo) != 2)
        return qs_err_set(err, "%s: tensor '%s' needs data_offsets [begin, end]", P, q);

    if (st_dtype(json_string_value(jd), &e->dtype) != QS_OK) {
        char qd[QS_IO_QUOTE_LEN];
        qs_io_quote(qd, json_string_value(jd), json_string_length(jd));
        return qs_err_set(err, "%s: tensor '%s' has unknown dtype '%s'", P, q, qd);
    }
    size_t nd = json_array_size(js);
    if (nd > QS_MAX_DIMS)
        return qs_err_set(err, "%s: tensor '%s' has %zu dimensions (at most %d are supported)",
                          P, q, nd, QS_MAX_DIMS);
    e->ndim = (int)nd;
    for (size_t i = 0; i < nd; i++) {
        uint64_t d;
        if (get_u64(json_array_get(js, i), &d) != QS_OK)
            return qs_err_set(err, "%s: tensor '%s' shape entry %zu is not an integer >= 0", P,
                              q, i);
        e->shape[i] = (int64_t)d;           /* json_int_t is 64-bit: d <= INT64_MAX */
    }
    char shp[256];
    qs_shape_str(e->ndim, e->shape, shp, sizeof shp);
    size_t sz = qs_dtype_size(e->dtype);
    e->n = qs_shape_numel(e->ndim, e->shape);
    if (e->n < 0 || (uint64_t)e->n > UINT64_MAX / sz)
        return qs_err_set(err, "%s: tensor '%s' shape %s: the element count overflows", P, q,
                          shp);
    e->nbytes = (uint64_t)e->n * sz;

    uint64_t b, en;
    if (get_u64(json_array_get(jo, 0), &b) != QS_OK ||
        get_u64(json_array_get(jo, 1), &en) != QS_OK)
        return qs_err_set(err, "%s: tensor '%s' data_offsets are not integers >= 0", P, q);
    if (en < b)
        return qs_err_set(err, "%s: tensor '%s' data_offsets [%llu, %llu] end before they "
                               "begin", P, q, (unsigned long long)b, (unsigned long long)en);
    if (en > dsize)
        return qs_err_set(err, "%s: tensor '%s' data_offsets [%llu, %llu] exceed the data "
                               "size %llu", P, q, (unsigned long long)b,
                          (unsigned long long)en, (unsigned long long)dsize);
    if (en - b != e->nbytes)
        return qs_err_set(err, "%s: tensor '%s' shape %s of %s needs %llu bytes but "
                               "data_offsets [%llu, %llu] hold %llu", P, q, shp,
                          qs_dtype_name(e->dtype), (unsigned long long)e->nbytes,
                          (unsigned long long)b, (unsigned long long)en,
                          (unsigned long long)(en - b));
    e->offset = data_start + b;
    sp->begin = b;
    sp->end = en;
    return QS_OK;
}

/* __metadata__: an object of string -> string, kept in f->meta. */
static int parse_metadata(qs_file *f, const json_t *m, qs_err *err)
{
    if (!json_is_object(m))
        return qs_err_set(err, "%s: __metadata__ is not a JSON object", f->path);
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)m, k, v) {
        if (!json_is_string(v)) {
            char q[QS_IO_QUOTE_LEN];
            qs_io_quote(q, k, strlen(k));
            return qs_err_set(err, "%s: __metadata__ value of '%s' is not a string", f->path, q);
        }
        if (qs_io_meta_add(f, k, json_string_value(v), err) != QS_OK) return QS_ERR;
    }
    return QS_OK;
}

/* Sorted by begin, the spans must tile [0, dsize) exactly. */
static int check_layout(qs_file *f, span *sp, int n, uint64_t dsize, qs_err *err)
{
    if (n > 1) qsort(sp, (size_t)n, sizeof *sp, span_cmp);
    uint64_t at = 0;
    for (int i = 0; i < n; i++) {
        if (sp[i].begin < at) {
            const span *a = &sp[i - 1], *b = &sp[i];
            char qa[QS_IO_QUOTE_LEN], qb[QS_IO_QUOTE_LEN];
            qs_io_quote(qa, f->entries[a->idx].name, strlen(f->entries[a->idx].name));
            qs_io_quote(qb, f->entries[b->idx].name, strlen(f->entries[b->idx].name));
            return qs_err_set(err, "%s: tensors '%s' data_offsets [%llu, %llu] and '%s' "
                                   "data_offsets [%llu, %llu] overlap", f->path, qa,
                              (unsigned long long)a->begin, (unsigned long long)a->end, qb,
                              (unsigned long long)b->begin, (unsigned long long)b->end);
        }
        if (sp[i].begin > at)
            return qs_err_set(err, "%s: data bytes [%llu, %llu) belong to no tensor (a hole "
                                   "in the data)", f->path, (unsigned long long)at,
                              (unsigned long long)sp[i].begin);
        at = sp[i].end;
    }
    if (at != dsize)
        return qs_err_set(err, "%s: data bytes [%llu, %llu) belong to no tensor (%llu bytes "
                               "after the last tensor)", f->path, (unsigned long long)at,
                          (unsigned long long)dsize, (unsigned long long)(dsize - at));
    return QS_OK;
}

int qs_io_st_open(qs_file *f, qs_err *err)
{
    const char *P = f->path;
    const uint8_t *b = f->map;
    size_t len = f->maplen;
    if (len < 8)
        return qs_err_set(err, "%s: truncated header: the file is %zu bytes, shorter than the "
                               "8-byte header length", P, len);
    uint64_t hlen = qs_io_le64(b);
    if (hlen > QS_IO_ST_HEADER_MAX)
        return qs_err_set(err, "%s: header length %llu exceeds the limit of %u bytes", P,
                          (unsigned long long)hlen, QS_IO_ST_HEADER_MAX);
    if (hlen > len - 8)
        return qs_err_set(err, "%s: header length %llu goes past the end of the file (%zu "
                               "bytes)", P, (unsigned long long)hlen, len);
    if (hlen < 2 || b[8] != '{')
        return qs_err_set(err, "%s: the JSON header does not start with '{'", P);

    json_error_t je;
    json_t *root = json_loadb((const char *)b + 8, (size_t)hlen, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        enum json_error_code code = json_error_code(&je);
        for (char *c = je.text; *c; c++)        /* jansson quotes the input near the error */
            if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
        if (code == json_error_duplicate_key)
            return qs_err_set(err, "%s: duplicate tensor name in the JSON header (byte %d of "
                                   "the header): %s", P, je.position, je.text);
        return qs_err_set(err, "%s: invalid JSON header at byte %d (line %d, column %d): %s",
                          P, je.position, je.line, je.column, je.text);
    }
    int rc = QS_ERR;
    span *sp = NULL;
    if (!json_is_object(root)) {
        qs_err_set(err, "%s: the JSON header is not an object", P);
        goto done;
    }
    uint64_t data_start = 8 + hlen;
    uint64_t dsize = len - data_start;
    size_t count = json_object_size(root);
    const json_t *meta = json_object_get(root, "__metadata__");
    if (meta) count--;
    if (count > (size_t)INT32_MAX) {
        qs_err_set(err, "%s: too many tensors", P);
        goto done;
    }
    f->entries = calloc(count ? count : 1, sizeof *f->entries);
    sp = calloc(count ? count : 1, sizeof *sp);
    if (!f->entries || !sp) {
        qs_err_set(err, "%s: out of memory", P);
        goto done;
    }
    if (meta && parse_metadata(f, meta, err) != QS_OK) goto done;

    const char *key;
    json_t *val;
    json_object_foreach(root, key, val) {
        if (strcmp(key, "__metadata__") == 0) continue;
        char q[QS_IO_QUOTE_LEN];
        qs_io_quote(q, key, strlen(key));
        qs_entry *e = &f->entries[f->n];
        if (!(e->name = strdup(key))) {
            qs_err_set(err, "%s: out of memory", P);
            goto done;
        }
        f->n++;             /* counted now so close frees the name even on error */
        sp[f->n - 1].idx = f->n - 1;
        if (parse_entry(f, q, val, dsize, data_start, e, &sp[f->n - 1], err) != QS_OK)
            goto done;
    }
    if (check_layout(f, sp, f->n, dsize, err) != QS_OK) goto done;
    rc = QS_OK;
done:
    free(sp);
    json_decref(root);
    return rc;
}
