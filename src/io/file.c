/* file.c — qs_file: opens a tensor file (mmap, format detection by magic then extension),
 * finds tensors by name, converts one tensor to float32, closes. */
#include "io_priv.h"

#include "qscope/ggml.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- small helpers shared by the loaders ------------------------------------------------- */

void qs_io_quote(char *out, const char *s, size_t len)
{
    const size_t max = 80;
    size_t n = len < max ? len : max;
    if (n < len)        /* back off to the start of a UTF-8 sequence */
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80) n--;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        out[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (n < len) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

char *qs_io_stem(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t len = (dot && dot != base) ? (size_t)(dot - base) : strlen(base);
    char *s = malloc(len + 1);
    if (!s) return NULL;
    memcpy(s, base, len);
    s[len] = '\0';
    return s;
}

int qs_io_meta_add(qs_file *f, const char *key, const char *value, qs_err *err)
{
    qs_meta *m = realloc(f->meta, ((size_t)f->nmeta + 1) * sizeof *m);
    if (!m) return qs_err_set(err, "%s: out of memory", f->path);
    f->meta = m;
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        return qs_err_set(err, "%s: out of memory", f->path);
    }
    m[f->nmeta].key = k;
    m[f->nmeta].value = v;
    f->nmeta++;
    return QS_OK;
}

/* The extension of path after the last '.' of its last component, or "". */
static const char *extension(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    return (dot && dot != base) ? dot + 1 : "";
}

/* 1 when the first bytes look like text: no NUL and no control bytes but whitespace. */
static int looks_like_text(const uint8_t *p, size_t len)
{
    size_t n = len < 4096 ? len : 4096;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c == 0x7f || (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' &&
                          c != '\v'))
            return 0;
    }
    return 1;
}

/* 1 when the bytes start like a safetensors file: a sane LE u64 length, then '{'. */
static int looks_like_safetensors(const uint8_t *p, size_t len)
{
    if (len < 10 || p[8] != '{') return 0;
    uint64_t n = qs_io_le64(p);
    return n >= 2 && n <= QS_IO_ST_HEADER_MAX;
}

/* 1 when path names a sharded-checkpoint index ("*.safetensors.index.json"). */
static int is_index_json(const char *path)
{
    static const char suffix[] = ".safetensors.index.json";
    size_t n = strlen(path), k = sizeof suffix - 1;
    return n >= k && strcasecmp(path + n - k, suffix) == 0;
}

/* The directory part of path ("." when there is none), newly allocated. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    if (slash == path) return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

/* ---- open / close ------------------------------------------------------------------------ */

/* Replaces *s by its qs_utf8_fix form when it is not valid UTF-8. */
static int fix_one(char **s)
{
    if (!*s || qs_utf8_valid(*s, strlen(*s))) return 0;
    char *t = qs_utf8_fix(*s, strlen(*s));
    if (!t) return -1;
    free(*s);
    *s = t;
    return 0;
}

/* Names, metadata and the path as results show them are valid UTF-8: a byte that is not
 * (a Latin-1 file name, a GGUF or torch key) becomes the text \xNN, the same way on every
 * load, so the name reaches results, JSON and exported files, and an exported file loads
 * back with the same names. Loaders read tensors by index and offset, never by name. */
static int fix_utf8(qs_file *f, qs_err *err)
{
    int bad = fix_one(&f->path);
    for (int i = 0; i < f->n && !bad; i++) bad = fix_one(&f->entries[i].name);
    for (int i = 0; i < f->nmeta && !bad; i++)
        bad = fix_one(&f->meta[i].key) || fix_one(&f->meta[i].value);
    return bad ? qs_err_set(err, "out of memory") : QS_OK;
}

/* Fills a new qs_file for the bytes buf[0..len) named path; owns_map says whether close
 * must munmap them. On failure the caller keeps ownership of buf. */
static int open_buffer(const char *path, const uint8_t *buf, size_t len, int owns_map,
                       volatile sig_atomic_t *cancel, qs_file **out, qs_err *err)
{
    if (len == 0) return qs_err_set(err, "%s: empty file", path);
    qs_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path))) {
        free(f);
        return qs_err_set(err, "%s: out of memory", path);
    }
    f->cancel = cancel;
    f->map = buf;
    f->maplen = len;
    const char *ext = extension(path);
    int rc;
    if (len >= 6 && memcmp(buf, "\x93NUMPY", 6) == 0) {
        f->format = "npy";
        rc = qs_io_npy_open(f, err);
    } else if (looks_like_safetensors(buf, len)) {
        f->format = "safetensors";
        rc = qs_io_st_open(f, err);
    } else if (strcasecmp(ext, "npy") == 0) {
        f->format = "npy";
        rc = qs_io_npy_open(f, err);                /* reports the bad magic */
    } else if (strcasecmp(ext, "safetensors") == 0) {
        f->format = "safetensors";
        rc = qs_io_st_open(f, err);                 /* reports the bad header */
    } else if (len >= 4 && memcmp(buf, "GGUF", 4) == 0) {
        f->format = "gguf";
        rc = qs_io_gguf_open(f, err);
    } else if (len >= 4 && (memcmp(buf, "PK\x03\x04", 4) == 0 ||
                            memcmp(buf, "PK\x05\x06", 4) == 0)) {
        f->format = "torch";
        rc = qs_io_torch_open(f, err);
    } else if (len >= 2 && buf[0] == 0x80 && buf[1] >= 2 && buf[1] <= 5) {
        rc = qs_err_set(err, "%s: a legacy (non-zip) PyTorch checkpoint: not supported; "
                             "re-save it with torch >= 1.6 (torch.save writes zip files)", path);
    } else if (is_index_json(path)) {
        f->format = "safetensors-sharded";
        char *dir = dir_of(path);
        rc = dir ? qs_io_shards_open(f, dir, err) : qs_err_set(err, "%s: out of memory", path);
        free(dir);
    } else if (strcasecmp(ext, "gguf") == 0) {
        f->format = "gguf";
        rc = qs_io_gguf_open(f, err);               /* reports the bad magic */
    } else if (strcasecmp(ext, "pt") == 0 || strcasecmp(ext, "pth") == 0 ||
               strcasecmp(ext, "ckpt") == 0) {
        rc = qs_err_set(err, "%s: not a zip PyTorch checkpoint (legacy or unknown formats are "
                             "not supported)", path);
    } else if (strcasecmp(ext, "txt") == 0 || strcasecmp(ext, "csv") == 0 ||
               strcasecmp(ext, "tsv") == 0 || looks_like_text(buf, len)) {
        f->format = "text";
        rc = qs_io_text_open(f, err);
    } else {
        rc = qs_err_set(err, "%s: unrecognised format (expected .npy, .safetensors, .gguf, a PyTorch zip checkpoint or numbers "
                             "as text)", path);
    }
    f->cancel = NULL;
    if (rc != QS_OK) {
        f->map = NULL;                              /* the caller still owns buf */
        qs_file_close(f);
        return rc == QS_CANCELLED ? QS_CANCELLED : QS_ERR;
    }
    if (fix_utf8(f, err) != QS_OK) {
        f->map = NULL;
        qs_file_close(f);
        return QS_ERR;
    }
    if (f->format && strcmp(f->format, "text") == 0) {
        /* text values were parsed into text_values; the bytes are no longer needed */
        if (owns_map) munmap((void *)(uintptr_t)buf, len);
        f->map = NULL;
        f->maplen = 0;
        owns_map = 0;
    }
    f->owns_map = owns_map;
    *out = f;
    return QS_OK;
}

/* A folder: its model.safetensors.index.json (sharded), else its only model file. */
static int open_dir(const char *path, volatile sig_atomic_t *cancel, qs_file **out,
                    qs_err *err)
{
    static const char *const names[] = {"model.safetensors.index.json", "model.safetensors",
                                        "pytorch_model.bin", "diffusion_pytorch_model.safetensors"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t n = strlen(path) + strlen(names[i]) + 2;
        char *p = malloc(n);
        if (!p) return qs_err_set(err, "%s: out of memory", path);
        snprintf(p, n, "%s%s%s", path, path[0] && path[strlen(path) - 1] == '/' ? "" : "/",
                 names[i]);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
            int rc = qs_file_open_cancel(p, cancel, out, err);
            free(p);
            return rc;
        }
        free(p);
    }
    return qs_err_set(err, "%s: is a directory without model.safetensors.index.json, "
                      "model.safetensors or pytorch_model.bin", path);
}

int qs_file_open(const char *path, qs_file **out, qs_err *err)
{
    return qs_file_open_cancel(path, NULL, out, err);
}

int qs_file_open_cancel(const char *path, volatile sig_atomic_t *cancel, qs_file **out,
                        qs_err *err)
{
    if (out) *out = NULL;
    if (!path || !out) return qs_err_set(err, "qs_file_open: no path");
    /* only regular files (and folders, for sharded models) are opened: a FIFO or a device
     * is refused before open() could block on it or a read could never end */
    char eb[128];
    struct stat st;
    if (stat(path, &st) != 0) return qs_err_set(err, "%s: %s", path, strerror_r(errno, eb, sizeof eb));
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
        return qs_err_set(err, "%s: not a regular file (a FIFO, device or socket is not read)",
                          path);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return qs_err_set(err, "%s: %s", path, strerror_r(errno, eb, sizeof eb));
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return qs_err_set(err, "%s: %s", path, strerror_r(e, eb, sizeof eb));
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return open_dir(path, cancel, out, err);
    }
    if (!S_ISREG(st.st_mode)) {         /* replaced after the stat above */
        close(fd);
        return qs_err_set(err, "%s: not a regular file (a FIFO, device or socket is not read)",
                          path);
    }
    if (st.st_size == 0) {
        close(fd);
        return qs_err_set(err, "%s: empty file", path);
    }
    if ((uint64_t)st.st_size > SIZE_MAX) {
        close(fd);
        return qs_err_set(err, "%s: file too large to map", path);
    }
    size_t len = (size_t)st.st_size;
    void *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (m == MAP_FAILED)
        return qs_err_set(err, "%s: cannot map the file: %s", path,
                          strerror_r(e, eb, sizeof eb));
    int orc = open_buffer(path, m, len, 1, cancel, out, err);
    if (orc != QS_OK) {
        munmap(m, len);
        return orc;
    }
    return QS_OK;
}

int qs_file_open_mem(const char *name, const void *buf, size_t len, qs_file **out,
                     qs_err *err)
{
    if (out) *out = NULL;
    if (!out || (!buf && len)) return qs_err_set(err, "qs_file_open_mem: no buffer");
    return open_buffer(name ? name : "(memory)", buf, len, 0, NULL, out, err);
}

void qs_file_close(qs_file *f)
{
    if (!f) return;
    if (f->owns_map && f->map) munmap((void *)(uintptr_t)f->map, f->maplen);
    for (int i = 0; i < f->n; i++) free(f->entries[i].name);
    free(f->entries);
    for (int i = 0; i < f->nmeta; i++) {
        free(f->meta[i].key);
        free(f->meta[i].value);
    }
    free(f->meta);
    free(f->text_values);
    if (f->priv_free) f->priv_free(f->priv);
    else free(f->priv);
    free(f->path);
    free(f);
}

/* ---- find / read ------------------------------------------------------------------------- */

int qs_file_find(const qs_file *f, const char *name)
{
    if (!f || !name) return -1;
    for (int i = 0; i < f->n; i++)
        if (f->entries[i].name && strcmp(f->entries[i].name, name) == 0) return i;
    return -1;
}

/* Decodes a Fortran-order (column-major) entry into C order: each run along dim 0 is
 * contiguous in the file and strided by the product of the other dims in t->data. */
static int decode_fortran(const qs_entry *e, const uint8_t *src, float *dst)
{
    size_t sz = qs_dtype_size(e->dtype);
    int64_t cstride[QS_MAX_DIMS];
    int64_t s = 1;
    for (int d = e->ndim - 1; d >= 0; d--) {
        cstride[d] = s;
        s *= e->shape[d];
    }
    int64_t run = e->shape[0];
    if (run == 0 || e->n == 0) return QS_OK;
    int64_t idx[QS_MAX_DIMS] = {0};     /* indices of dims 1..ndim-1 */
    int64_t base = 0;                   /* C-order offset of (0, idx[1], idx[2], ...) */
    for (int64_t k = 0; k < e->n; k += run) {
        if (qs_io_decode(src + (size_t)k * sz, e->dtype, e->big_endian, run, dst + base,
                         cstride[0]) != QS_OK)
            return QS_ERR;
        for (int d = 1; d < e->ndim; d++) {   /* next column: dim 1 varies fastest */
            idx[d]++;
            base += cstride[d];
            if (idx[d] < e->shape[d]) break;
            base -= idx[d] * cstride[d];
            idx[d] = 0;
        }
    }
    return QS_OK;
}

/* Asks the kernel to read a big tensor's pages ahead (a hint; errors are ignored). */
static void advise_willneed(const qs_file *f, const qs_entry *e)
{
    long page = sysconf(_SC_PAGESIZE);
    if (!f->owns_map || e->nbytes < (1u << 20) || page <= 0) return;
    uintptr_t a = (uintptr_t)(f->map + e->offset) & ~((uintptr_t)page - 1);
    uintptr_t end = (uintptr_t)(f->map + e->offset + e->nbytes);
    madvise((void *)a, end - a, MADV_WILLNEED);
}

int qs_file_read(const qs_file *f, int idx, qs_tensor **out, qs_err *err)
{
    if (out) *out = NULL;
    if (!f || !out) return qs_err_set(err, "qs_file_read: no file");
    if (idx < 0 || idx >= f->n)
        return qs_err_set(err, "%s: no tensor number %d (the file has %d)", f->path, idx, f->n);
    const qs_entry *e = &f->entries[idx];
    qs_tensor *t = qs_tensor_new(e->name, e->ndim, e->shape, e->dtype, err);
    if (!t) return qs_err_prefix(err, f->path);
    int rc = QS_OK;
    int gid = qs_ggml_type_of_dtype(e->dtype);
    if (e->type_name) {
        char q[QS_IO_QUOTE_LEN];
        qs_io_quote(q, e->name, strlen(e->name));
        qs_tensor_free(t);
        return qs_err_set(err, "%s: tensor '%s' has type %s, which qscope cannot dequantize "
                          "(it reads F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K..Q6_K)",
                          f->path, q, e->type_name);
    }
    if (f->read) {
        rc = f->read(f, idx, t->data, err);
        if (rc != QS_OK) {
            qs_tensor_free(t);
            return rc;
        }
    } else if (gid >= 0) {
        if (!f->map || e->offset > f->maplen || e->nbytes > f->maplen - e->offset)
            rc = QS_ERR;
        else
            rc = qs_ggml_dequantize(gid, f->map + e->offset, e->n, t->data, NULL);
    } else if (e->dtype == QS_DT_TEXT) {
        if (!f->text_values && e->n > 0) rc = QS_ERR;
        else if (e->n > 0) memcpy(t->data, f->text_values, (size_t)e->n * sizeof(float));
    } else {
        size_t sz = qs_dtype_size(e->dtype);
        if (sz == 0 || !f->map || e->offset > f->maplen || e->nbytes > f->maplen - e->offset ||
            (uint64_t)e->n > e->nbytes / sz) {
            rc = QS_ERR;
        } else {
            advise_willneed(f, e);
            if (e->fortran && e->ndim > 1)
                rc = decode_fortran(e, f->map + e->offset, t->data);
            else
                rc = qs_io_decode(f->map + e->offset, e->dtype, e->big_endian, e->n, t->data,
                                  1);
        }
    }
    if (rc != QS_OK) {
        char q[QS_IO_QUOTE_LEN];
        qs_io_quote(q, e->name, strlen(e->name));
        qs_tensor_free(t);
        return qs_err_set(err, "%s: tensor '%s' cannot be converted from %s", f->path, q,
                          qs_dtype_name(e->dtype));
    }
    *out = t;
    return QS_OK;
}
