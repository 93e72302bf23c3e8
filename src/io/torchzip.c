/* torchzip.c — PyTorch zip checkpoints (torch.save since 1.6: ARCHIVE/data.pkl plus one
 * ARCHIVE/data/KEY entry per storage), opened with libzip over the mapping. data.pkl runs on
 * the restricted unpickler (pickle.c), which never executes code; tensors are gathered from
 * their storages with every offset and stride checked against the storage's size. */
#include "io_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#define PKL_MAX (64u << 20)         /* bytes of data.pkl */
#define INFLATE_RATIO_MAX 1100      /* deflate cannot expand more than ~1032x */

/* Per-file state (f->priv). */
typedef struct torch_priv {
    zip_t *zip;             /* the archive, over f->map */
    char *prefix;           /* "ARCHIVE/" (the directory holding data.pkl) */
    qs_pk_tensor *t;        /* one per entry, same order */
    int n;                  /* count */
} torch_priv;

static void torch_free(void *p)
{
    torch_priv *tp = p;
    if (!tp) return;
    if (tp->zip) zip_discard(tp->zip);
    free(tp->prefix);
    qs_io_pickle_free(tp->t, tp->n);
    free(tp);
}

/* 1 when a stored (uncompressed) entry claims another size than the bytes it stores: its
 * claim cannot be believed (a 300-byte checkpoint listed a 4 GB tensor). */
static int stored_size_lies(const zip_stat_t *st)
{
    return (st->valid & ZIP_STAT_COMP_METHOD) && (st->valid & ZIP_STAT_COMP_SIZE) &&
           (st->valid & ZIP_STAT_SIZE) && st->comp_method == ZIP_CM_STORE &&
           st->comp_size != st->size;
}

/* Reads entry idx into a new buffer: the whole entry, which must be at most max bytes, or
 * with prefix set its first max bytes. */
static int read_entry(const qs_file *f, zip_t *z, zip_int64_t idx, uint64_t max, int prefix,
                      uint8_t **out, uint64_t *len, const char *what, qs_err *err)
{
    zip_stat_t st;
    *out = NULL;
    if (zip_stat_index(z, (zip_uint64_t)idx, 0, &st) != 0 ||
        !(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_COMP_SIZE))
        return qs_err_set(err, "%s: cannot read the zip entry of %s", f->path, what);
    if (st.size > max && !prefix)
        return qs_err_set(err, "%s: %s is %llu bytes (limit %llu)", f->path, what,
                          (unsigned long long)st.size, (unsigned long long)max);
    if (stored_size_lies(&st))
        return qs_err_set(err, "%s: %s claims %llu bytes but stores %llu (a damaged archive)",
                          f->path, what, (unsigned long long)st.size,
                          (unsigned long long)st.comp_size);
    if (st.comp_size > f->maplen ||
        (st.valid & ZIP_STAT_COMP_METHOD && st.comp_method != ZIP_CM_STORE &&
         st.size / INFLATE_RATIO_MAX > st.comp_size))
        return qs_err_set(err, "%s: %s claims %llu bytes from %llu compressed (not a real "
                          "archive)", f->path, what, (unsigned long long)st.size,
                          (unsigned long long)st.comp_size);
    uint64_t size = st.size < max ? st.size : max;     /* bytes to read */
    uint8_t *b = malloc(size ? (size_t)size : 1);
    if (!b) return qs_err_set(err, "%s: out of memory reading %s", f->path, what);
    zip_file_t *zf = zip_fopen_index(z, (zip_uint64_t)idx, 0);
    if (!zf) {
        free(b);
        return qs_err_set(err, "%s: cannot open %s in the zip: %s", f->path, what,
                          zip_strerror(z));
    }
    uint64_t got = 0;
    while (got < size) {
        zip_int64_t r = zip_fread(zf, b + got, size - got);
        if (r <= 0) break;
        got += (uint64_t)r;
    }
    int ok = got == size;
    char zmsg[200];
    snprintf(zmsg, sizeof zmsg, "%s", ok ? "" : zip_file_strerror(zf));
    zip_fclose(zf);
    if (!ok) {
        free(b);
        for (char *c = zmsg; *c; c++)
            if ((unsigned char)*c < 0x20) *c = '?';
        return qs_err_set(err, "%s: %s is damaged in the zip (%s)", f->path, what, zmsg);
    }
    *out = b;
    *len = got;
    return QS_OK;
}

/* The last element offset a tensor touches (offset + Σ (size-1)·stride), or -1 on overflow. */
static int64_t extent(const qs_pk_tensor *t)
{
    int64_t hi = t->offset;
    for (int d = 0; d < t->ndim; d++) {
        if (t->shape[d] == 0) return t->offset;
        int64_t s;
        if (__builtin_mul_overflow(t->shape[d] - 1, t->stride[d], &s) ||
            __builtin_add_overflow(hi, s, &hi))
            return -1;
    }
    return hi;
}

static int torch_read(const qs_file *f, int idx, float *dst, qs_err *err)
{
    const torch_priv *tp = f->priv;
    const qs_pk_tensor *t = &tp->t[idx];
    const qs_entry *e = &f->entries[idx];
    char q[QS_IO_QUOTE_LEN];
    qs_io_quote(q, e->name, strlen(e->name));
    if (e->n == 0) return QS_OK;
    size_t sz = qs_dtype_size(t->dtype);
    size_t plen = strlen(tp->prefix);
    char *zname = malloc(plen + 5 + strlen(t->key) + 1);
    if (!zname) return qs_err_set(err, "%s: out of memory", f->path);
    sprintf(zname, "%sdata/%s", tp->prefix, t->key);
    zip_int64_t zi = zip_name_locate(tp->zip, zname, 0);
    free(zname);
    if (zi < 0)
        return qs_err_set(err, "%s: tensor '%s': its storage is missing from the archive",
                          f->path, q);
    char what[160];
    snprintf(what, sizeof what, "the storage of tensor '%s'", q);
    uint8_t *data;
    uint64_t len;
    /* the storage holds storage_numel elements; nothing beyond that is read */
    uint64_t want = (uint64_t)t->storage_numel * sz;
    if (read_entry(f, tp->zip, zi, want, 1, &data, &len, what, err)) return QS_ERR;
    if (len < want) {
        free(data);
        return qs_err_set(err, "%s: %s has %llu bytes, fewer than its %lld elements need",
                          f->path, what, (unsigned long long)len, (long long)t->storage_numel);
    }
    /* gather in C order, innermost runs decoded at once when contiguous */
    int nd = t->ndim;
    int64_t inner = nd ? t->shape[nd - 1] : 1;
    int64_t istride = nd ? t->stride[nd - 1] : 1;
    int64_t idxs[QS_MAX_DIMS] = {0};
    int64_t base = t->offset;
    for (int64_t k = 0; k < e->n; k += inner) {
        if (istride == 1 || inner == 1)
            qs_io_decode(data + (size_t)base * sz, t->dtype, 0, inner, dst + k, 1);
        else
            for (int64_t j = 0; j < inner; j++)
                qs_io_decode(data + (size_t)(base + j * istride) * sz, t->dtype, 0, 1,
                             dst + k + j, 1);
        for (int d = nd - 2; d >= 0; d--) {
            idxs[d]++;
            base += t->stride[d];
            if (idxs[d] < t->shape[d]) break;
            base -= idxs[d] * t->stride[d];
            idxs[d] = 0;
        }
    }
    free(data);
    return QS_OK;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int qs_io_torch_open(qs_file *f, qs_err *err)
{
    const char *P = f->path;
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(f->map, f->maplen, 0, &ze);
    if (!src) {
        zip_error_fini(&ze);
        return qs_err_set(err, "%s: out of memory", P);
    }
    zip_t *z = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
    if (!z) {
        char zm[200];
        snprintf(zm, sizeof zm, "%s", zip_error_strerror(&ze));
        zip_source_free(src);
        zip_error_fini(&ze);
        for (char *c = zm; *c; c++)
            if ((unsigned char)*c < 0x20) *c = '?';
        return qs_err_set(err, "%s: not a readable zip archive (%s)", P, zm);
    }
    zip_error_fini(&ze);
    torch_priv *tp = calloc(1, sizeof *tp);
    if (!tp) {
        zip_discard(z);
        return qs_err_set(err, "%s: out of memory", P);
    }
    tp->zip = z;
    f->priv = tp;
    f->priv_free = torch_free;

    /* find ARCHIVE/data.pkl (the archive directory is named after the file by torch) */
    zip_int64_t nent = zip_get_num_entries(z, 0), pkl = -1;
    for (zip_int64_t i = 0; i < nent && pkl < 0; i++) {
        const char *name = zip_get_name(z, (zip_uint64_t)i, ZIP_FL_ENC_RAW);
        if (!name) continue;
        size_t n = strlen(name);
        if (n >= 8 && strcmp(name + n - 8, "data.pkl") == 0 &&
            (n == 8 || name[n - 9] == '/')) {
            const char *slash = strchr(name, '/');
            if (slash && slash != name + n - 9) continue;      /* only ARCHIVE/data.pkl */
            pkl = i;
            if (!(tp->prefix = strndup(name, n - 8))) return qs_err_set(err, "%s: out of memory", P);
        }
    }
    if (pkl < 0)
        return qs_err_set(err, "%s: a zip file without data.pkl: not a PyTorch checkpoint", P);

    /* byteorder (torch >= 2.1 writes it): only little-endian storages are read */
    {
        char *bo = malloc(strlen(tp->prefix) + 10);
        if (!bo) return qs_err_set(err, "%s: out of memory", P);
        sprintf(bo, "%sbyteorder", tp->prefix);
        zip_int64_t bi = zip_name_locate(z, bo, 0);
        free(bo);
        if (bi >= 0) {
            uint8_t *b;
            uint64_t bl;
            if (read_entry(f, z, bi, 16, 0, &b, &bl, "byteorder", err)) return QS_ERR;
            int little = bl == 6 && memcmp(b, "little", 6) == 0;
            free(b);
            if (!little)
                return qs_err_set(err, "%s: big-endian torch storages are not supported", P);
        }
    }

    uint8_t *pk;
    uint64_t pklen;
    if (read_entry(f, z, pkl, PKL_MAX, 0, &pk, &pklen, "data.pkl", err)) return QS_ERR;
    int rc = qs_io_pickle_tensors(pk, (size_t)pklen, P, &tp->t, &tp->n, err);
    free(pk);
    if (rc != QS_OK) return QS_ERR;

    f->entries = calloc(tp->n ? (size_t)tp->n : 1, sizeof *f->entries);
    if (!f->entries) return qs_err_set(err, "%s: out of memory", P);
    for (int i = 0; i < tp->n; i++) {
        const qs_pk_tensor *t = &tp->t[i];
        qs_entry *e = &f->entries[i];
        char q[QS_IO_QUOTE_LEN];
        qs_io_quote(q, t->name, strlen(t->name));
        if (!(e->name = strdup(t->name))) return qs_err_set(err, "%s: out of memory", P);
        f->n++;
        e->dtype = t->dtype;
        e->ndim = t->ndim;
        memcpy(e->shape, t->shape, sizeof e->shape);
        e->n = qs_shape_numel(t->ndim, t->shape);
        size_t sz = qs_dtype_size(t->dtype);
        if (e->n < 0 || (uint64_t)e->n > UINT64_MAX / sz)
            return qs_err_set(err, "%s: tensor '%s': the element count overflows", P, q);
        e->nbytes = (uint64_t)e->n * sz;
        if ((uint64_t)t->storage_numel > UINT64_MAX / sz)
            return qs_err_set(err, "%s: tensor '%s': storage size overflows", P, q);
        /* a view that repeats stored elements (stride 0, overlapping strides) must not make a
         * small file demand gigabytes: bounded against its storage (QS_IO_VIEW_EXPAND_MAX) */
        if ((uint64_t)e->n > (uint64_t)QS_IO_VIEW_FREE &&
            (uint64_t)e->n / QS_IO_VIEW_EXPAND_MAX > (uint64_t)t->storage_numel)
            return qs_err_set(err, "%s: tensor '%s' views %lld stored elements as %lld (a stride-0 "
                              "or overlapping view); qscope reads views of at most %d times "
                              "their storage once over %d elements", P, q,
                              (long long)t->storage_numel, (long long)e->n,
                              QS_IO_VIEW_EXPAND_MAX, QS_IO_VIEW_FREE);
        if (e->n > 0) {
            int64_t hi = extent(t);
            if (hi < 0 || hi >= t->storage_numel)
                return qs_err_set(err, "%s: tensor '%s' reads element %lld of a storage of %lld "
                                  "elements", P, q, (long long)hi, (long long)t->storage_numel);
        }
        /* the storage entry must exist and be as large as the pickle says */
        char *zname = malloc(strlen(tp->prefix) + 6 + strlen(t->key));
        if (!zname) return qs_err_set(err, "%s: out of memory", P);
        sprintf(zname, "%sdata/%s", tp->prefix, t->key);
        zip_stat_t st;
        int found = zip_stat(z, zname, 0, &st) == 0 && (st.valid & ZIP_STAT_SIZE);
        free(zname);
        if (!found)
            return qs_err_set(err, "%s: tensor '%s': its storage is missing from the archive",
                              P, q);
        if (stored_size_lies(&st))
            return qs_err_set(err, "%s: tensor '%s': its storage claims %llu bytes but stores "
                              "%llu (a damaged archive)", P, q, (unsigned long long)st.size,
                              (unsigned long long)st.comp_size);
        if (st.size < (uint64_t)t->storage_numel * sz)
            return qs_err_set(err, "%s: tensor '%s': its storage has %llu bytes, fewer than "
                              "its %lld elements need", P, q,
                              (unsigned long long)st.size, (long long)t->storage_numel);
    }
    /* duplicate names can come from nested dicts whose keys contain '.' */
    if (f->n > 1) {
        const char **names = malloc((size_t)f->n * sizeof *names);
        if (!names) return qs_err_set(err, "%s: out of memory", P);
        for (int i = 0; i < f->n; i++) names[i] = f->entries[i].name;
        qsort(names, (size_t)f->n, sizeof *names, cmp_name);
        const char *dup = NULL;
        for (int i = 1; i < f->n && !dup; i++)
            if (strcmp(names[i - 1], names[i]) == 0) dup = names[i];
        char q[QS_IO_QUOTE_LEN];
        if (dup) qs_io_quote(q, dup, strlen(dup));
        free(names);
        if (dup) return qs_err_set(err, "%s: two tensors are both named '%s'", P, q);
    }
    f->read = torch_read;
    return QS_OK;
}
