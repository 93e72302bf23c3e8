/* data.c — the lab's data sets: UCI digits (gzip CSV) and Fashion-MNIST (gzip IDX) read via
 * zlib, the fixed seeded train / calibration / test split, and the shifted tasks (rotated or
 * inverted images) used by the LoRA experiments. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "nn_priv.h"
#include "qscope/tensor.h"

#ifndef QSCOPE_DATADIR
#define QSCOPE_DATADIR "/usr/local/share/qscope"
#endif

#define NN_FILE_MAX ((size_t)256 << 20)  /* largest data file read (decompressed bytes) */
#define NN_FASHION_DEB "/usr/share/datasets/fashion-mnist"

int nn_set_alloc(qs_nn_set *s, int64_t n, int nfeat, int nclass, qs_err *err)
{
    memset(s, 0, sizeof *s);
    s->x = qs_alloc_aligned((size_t)(n > 0 ? n : 1) * (size_t)nfeat * sizeof(float));
    s->y = malloc((size_t)(n > 0 ? n : 1));
    if (!s->x || !s->y) {
        qs_nn_set_fini(s);
        return qs_err_set(err, "data: out of memory for %lld samples", (long long)n);
    }
    s->n = n;
    s->nfeat = nfeat;
    s->nclass = nclass;
    return QS_OK;
}

void qs_nn_set_fini(qs_nn_set *s)
{
    if (!s) return;
    qs_free_aligned(s->x);
    free(s->y);
    memset(s, 0, sizeof *s);
}

void nn_set_gather(const qs_nn_set *src, const int64_t *idx, int64_t n, qs_nn_set *dst)
{
    for (int64_t i = 0; i < n; i++) {
        memcpy(dst->x + i * src->nfeat, src->x + idx[i] * src->nfeat,
               (size_t)src->nfeat * sizeof(float));
        dst->y[i] = src->y[idx[i]];
    }
}

/* Reads a whole file through zlib (gzip or plain) into a new NUL-terminated buffer. */
static int read_gz(const char *path, uint8_t **buf, size_t *len, qs_err *err)
{
    gzFile g = gzopen(path, "rb");
    if (!g) return qs_err_set(err, "%s: cannot open", path);
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = malloc(cap + 1);
    int rc = QS_ERR;
    if (!b) { qs_err_set(err, "%s: out of memory", path); goto done; }
    for (;;) {
        if (n == cap) {
            if (cap >= NN_FILE_MAX) {
                qs_err_set(err, "%s: larger than %zu MB decompressed", path, NN_FILE_MAX >> 20);
                goto done;
            }
            uint8_t *nb = realloc(b, cap * 2 + 1);
            if (!nb) { qs_err_set(err, "%s: out of memory", path); goto done; }
            b = nb;
            cap *= 2;
        }
        int r = gzread(g, b + n, (unsigned)(cap - n));
        if (r < 0) {
            int e;
            qs_err_set(err, "%s: %s", path, gzerror(g, &e));
            goto done;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    b[n] = 0;
    *buf = b;
    *len = n;
    b = NULL;
    rc = QS_OK;
done:
    free(b);
    gzclose(g);
    return rc;
}

int qs_nn_parse_csv(const char *text, size_t len, int nfeat, float scale, qs_nn_set *out,
                    const char *name, qs_err *err)
{
    /* count rows (non-empty lines) first */
    int64_t rows = 0;
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && text[j] != '\n') j++;
        size_t k = i;
        while (k < j && (text[k] == ' ' || text[k] == '\r' || text[k] == '\t')) k++;
        if (k < j) rows++;
        i = j + 1;
    }
    if (rows == 0) return qs_err_set(err, "%s: no data rows", name);
    if (nn_set_alloc(out, rows, nfeat, 10, err) != QS_OK) return QS_ERR;
    int64_t r = 0;
    int line = 0;
    for (size_t i = 0; i < len;) {
        size_t j = i;
        line++;
        while (j < len && text[j] != '\n') j++;
        size_t k = i;
        while (k < j && (text[k] == ' ' || text[k] == '\r' || text[k] == '\t')) k++;
        if (k == j) { i = j + 1; continue; }
        const char *p = text + i;
        for (int c = 0; c <= nfeat; c++) {
            char tok[64];
            size_t t = 0;
            while (p < text + j && *p != ',' && t < sizeof tok - 1) tok[t++] = *p++;
            tok[t] = 0;
            char *end;
            double v = strtod(tok, &end);
            while (*end == ' ' || *end == '\r') end++;
            if (t == 0 || *end || !(v >= 0.0 && v <= 255.0)) {
                qs_nn_set_fini(out);
                return qs_err_set(err, "%s:%d: field %d: expected a number 0..255, got '%s'",
                                  name, line, c + 1, tok);
            }
            if (c < nfeat) {
                out->x[r * nfeat + c] = (float)v / scale;
            } else {
                if (v != (int)v || v > 9) {
                    qs_nn_set_fini(out);
                    return qs_err_set(err, "%s:%d: label '%s' is not a class 0..9", name,
                                      line, tok);
                }
                out->y[r] = (uint8_t)v;
            }
            if (c < nfeat) {
                if (p >= text + j || *p != ',') {
                    qs_nn_set_fini(out);
                    return qs_err_set(err, "%s:%d: expected %d fields, found %d", name, line,
                                      nfeat + 1, c + 1);
                }
                p++;
            }
        }
        if (p < text + j && *p != '\r') {
            qs_nn_set_fini(out);
            return qs_err_set(err, "%s:%d: more than %d fields", name, line, nfeat + 1);
        }
        r++;
        i = j + 1;
    }
    return QS_OK;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int qs_nn_parse_idx(const uint8_t *img, size_t ilen, const uint8_t *lab, size_t llen,
                    qs_nn_set *out, const char *name, qs_err *err)
{
    if (ilen < 16 || be32(img) != 0x00000803)
        return qs_err_set(err, "%s: not an IDX images file (magic 0x00000803)", name);
    if (llen < 8 || be32(lab) != 0x00000801)
        return qs_err_set(err, "%s: not an IDX labels file (magic 0x00000801)", name);
    uint64_t n = be32(img + 4), h = be32(img + 8), w = be32(img + 12);
    if (be32(lab + 4) != n)
        return qs_err_set(err, "%s: %llu images but %u labels", name, (unsigned long long)n,
                          be32(lab + 4));
    if (h == 0 || w == 0 || h * w > 65536 || n > (1u << 24))
        return qs_err_set(err, "%s: implausible IDX dimensions %llux%llux%llu", name,
                          (unsigned long long)n, (unsigned long long)h, (unsigned long long)w);
    if (16 + n * h * w > ilen || 8 + n > llen)
        return qs_err_set(err, "%s: truncated IDX data", name);
    if (nn_set_alloc(out, (int64_t)n, (int)(h * w), 10, err) != QS_OK) return QS_ERR;
    for (uint64_t i = 0; i < n * h * w; i++) out->x[i] = img[16 + i] * (1.0f / 255.0f);
    for (uint64_t i = 0; i < n; i++) {
        if (lab[8 + i] > 9) {
            qs_nn_set_fini(out);
            return qs_err_set(err, "%s: label %u of sample %llu is not a class 0..9", name,
                              lab[8 + i], (unsigned long long)i);
        }
        out->y[i] = lab[8 + i];
    }
    return QS_OK;
}

/* First existing file among dir/base and dir/base.gz for each candidate directory. */
int nn_find_file(const char *dir, const char *base, char *path, size_t len)
{
    const char *sfx[] = { "", ".gz" };
    const char *env = getenv("QSCOPE_DATASETS");
    char exe[PATH_MAX], d1[PATH_MAX + 32], d2[PATH_MAX + 32];
    d1[0] = d2[0] = 0;
    ssize_t r = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (r > 0) {
        exe[r] = 0;
        char *sl = strrchr(exe, '/');
        if (sl) {
            *sl = 0;
            snprintf(d1, sizeof d1, "%s/../datasets", exe);
            snprintf(d2, sizeof d2, "%s/../share/qscope/datasets", exe);
        }
    }
    const char *dirs[] = { dir, env, "datasets", d1, d2, QSCOPE_DATADIR "/datasets",
                           NN_FASHION_DEB };
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        if (!dirs[i] || !dirs[i][0]) continue;
        for (int k = 0; k < 2; k++) {
            snprintf(path, len, "%s/%s%s", dirs[i], base, sfx[k]);
            if (access(path, R_OK) == 0) return 1;
        }
    }
    return 0;
}

/* Splits `all` into the three parts: a fixed shuffle, then test, calibration, train. */
static int split(qs_nn_set *all, int64_t ntest, int64_t ncal, qs_nn_data *d, qs_err *err)
{
    int64_t n = all->n, ntr = n - ntest - ncal;
    int64_t *idx = malloc((size_t)n * sizeof *idx);
    if (!idx) return qs_err_set(err, "data: out of memory");
    for (int64_t i = 0; i < n; i++) idx[i] = i;
    nn_rng r = { NN_SPLIT_SEED };
    nn_shuffle(&r, idx, n);
    int rc = QS_ERR;
    if (ntest > 0) {
        if (nn_set_alloc(&d->test, ntest, all->nfeat, 10, err) != QS_OK) goto done;
        nn_set_gather(all, idx, ntest, &d->test);
    }
    if (nn_set_alloc(&d->calib, ncal, all->nfeat, 10, err) != QS_OK) goto done;
    nn_set_gather(all, idx + ntest, ncal, &d->calib);
    if (nn_set_alloc(&d->train, ntr, all->nfeat, 10, err) != QS_OK) goto done;
    nn_set_gather(all, idx + ntest + ncal, ntr, &d->train);
    rc = QS_OK;
done:
    free(idx);
    return rc;
}

static int load_digits(const char *dir, qs_nn_data *d, qs_err *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    qs_nn_set all = {0};
    if (!nn_find_file(dir, "digits.csv", d->path, sizeof d->path))
        return qs_err_set(err, "digits: datasets/digits.csv.gz not found (set QSCOPE_DATASETS "
                          "to the folder that holds it)");
    if (read_gz(d->path, &buf, &len, err) != QS_OK) return QS_ERR;
    int rc = qs_nn_parse_csv((const char *)buf, len, 64, 16.0f, &all, d->path, err);
    free(buf);
    if (rc != QS_OK) return QS_ERR;
    if (all.n < 100) {
        qs_nn_set_fini(&all);
        return qs_err_set(err, "%s: only %lld rows (expected 1797)", d->path, (long long)all.n);
    }
    int64_t ntest = all.n / 5, ncal = all.n / 10;
    rc = split(&all, ntest, ncal, d, err);
    qs_nn_set_fini(&all);
    d->side = 8;
    return rc;
}

static int load_idx_pair(const char *dir, const char *img, const char *lab, qs_nn_set *out,
                         char *path, size_t plen, qs_err *err)
{
    char ip[PATH_MAX], lp[PATH_MAX];
    if (!nn_find_file(dir, img, ip, sizeof ip) || !nn_find_file(dir, lab, lp, sizeof lp))
        return qs_err_set(err, "fashion: Fashion-MNIST not found; install it with 'make "
                          "datasets' (Debian package dataset-fashion-mnist) or set "
                          "QSCOPE_DATASETS to a folder with the four *-ubyte.gz files");
    uint8_t *ib = NULL, *lb = NULL;
    size_t il = 0, ll = 0;
    int rc = QS_ERR;
    if (read_gz(ip, &ib, &il, err) != QS_OK) goto done;
    if (read_gz(lp, &lb, &ll, err) != QS_OK) goto done;
    rc = qs_nn_parse_idx(ib, il, lb, ll, out, ip, err);
    size_t n = strlen(ip) < plen - 1 ? strlen(ip) : plen - 1;
    memcpy(path, ip, n);
    path[n] = 0;
done:
    free(ib);
    free(lb);
    return rc;
}

static int load_fashion(const char *dir, qs_nn_data *d, qs_err *err)
{
    qs_nn_set tr = {0};
    if (load_idx_pair(dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", &d->test,
                      d->path, sizeof d->path, err) != QS_OK)
        return QS_ERR;
    if (load_idx_pair(dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", &tr,
                      d->path, sizeof d->path, err) != QS_OK)
        return QS_ERR;
    int64_t ncal = tr.n / 12;
    int rc = split(&tr, 0, ncal, d, err);
    qs_nn_set_fini(&tr);
    char *sl = strrchr(d->path, '/');
    if (sl) *sl = 0;
    d->side = 28;
    return rc;
}

int qs_nn_data_load(const char *name, const char *dir, qs_nn_data **out, qs_err *err)
{
    qs_nn_data *d = calloc(1, sizeof *d);
    if (!d) return qs_err_set(err, "data: out of memory");
    int rc;
    if (strcmp(name, "digits") == 0) rc = load_digits(dir, d, err);
    else if (strcmp(name, "fashion") == 0) rc = load_fashion(dir, d, err);
    else rc = qs_err_set(err, "data: unknown data set '%s' (digits or fashion)", name);
    if (rc != QS_OK) {
        qs_nn_data_free(d);
        return QS_ERR;
    }
    snprintf(d->name, sizeof d->name, "%s", name);
    *out = d;
    return QS_OK;
}

void qs_nn_data_free(qs_nn_data *d)
{
    if (!d) return;
    qs_nn_set_fini(&d->train);
    qs_nn_set_fini(&d->calib);
    qs_nn_set_fini(&d->test);
    free(d);
}

int qs_nn_set_shift(const qs_nn_set *in, int side, const char *shift, qs_nn_set *out,
                    qs_err *err)
{
    int rot = strcmp(shift, "rot90") == 0, inv = strcmp(shift, "invert") == 0;
    if (!rot && !inv && strcmp(shift, "none") != 0)
        return qs_err_set(err, "shift: unknown shift '%s' (rot90, invert or none)", shift);
    if (rot && side * side != in->nfeat)
        return qs_err_set(err, "shift: rot90 needs square images (%d features)", in->nfeat);
    if (nn_set_alloc(out, in->n, in->nfeat, in->nclass, err) != QS_OK) return QS_ERR;
    memcpy(out->y, in->y, (size_t)in->n);
    for (int64_t i = 0; i < in->n; i++) {
        const float *s = in->x + i * in->nfeat;
        float *d = out->x + i * in->nfeat;
        if (rot) {
            /* numpy.rot90(img, 1): out[r][c] = img[c][side-1-r] */
            for (int r = 0; r < side; r++)
                for (int c = 0; c < side; c++) d[r * side + c] = s[c * side + side - 1 - r];
        } else if (inv) {
            for (int k = 0; k < in->nfeat; k++) d[k] = 1.0f - s[k];
        } else {
            memcpy(d, s, (size_t)in->nfeat * sizeof(float));
        }
    }
    return QS_OK;
}
