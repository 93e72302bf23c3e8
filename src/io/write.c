/* write.c — the one way qscope writes a file (export, save, lab save): every target is
 * written to a temporary file in its own folder, fsync'ed, then moved into place with one
 * rename (or link, when nothing may be replaced), so a full disk or a kill never leaves a
 * half-written target. A target that is a symbolic link (even a dangling one) or not a
 * regular file is refused; an existing one is replaced only with force. Several targets (an
 * .npy and its .json) are committed together or not at all. Also the safetensors serializer
 * every writer of that format shares. */
#include "qscope/io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

/* Temp files: ".<base>.qscope-<pid>-XXXXXX" next to the target. The names of the ones being
 * written are kept so a signal handler can remove them (qs_io_write_cleanup); this small
 * table is the writer's only state. */
#define TMP_TAG ".qscope-"
#define MAX_INFLIGHT 8
#define TMP_NAME_MAX 4352
static char inflight[MAX_INFLIGHT][TMP_NAME_MAX];
static volatile sig_atomic_t inflight_used[MAX_INFLIGHT];

static int track(const char *tmp)
{
    for (int i = 0; i < MAX_INFLIGHT; i++)
        if (!inflight_used[i]) {
            snprintf(inflight[i], sizeof inflight[i], "%s", tmp);
            inflight_used[i] = 1;
            return i;
        }
    return -1;
}

static void untrack(int slot)
{
    if (slot >= 0) inflight_used[slot] = 0;
}

void qs_io_write_cleanup(void)
{
    for (int i = 0; i < MAX_INFLIGHT; i++)
        if (inflight_used[i]) {
            unlink(inflight[i]);        /* async-signal-safe */
            inflight_used[i] = 0;
        }
}

int qs_io_check_regular(const char *who, const char *path, qs_err *err)
{
    struct stat st;
    const char *w = who ? who : "", *sep = who ? ": " : "";
    if (stat(path, &st) != 0) return qs_err_set(err, "%s%s%s: %s", w, sep, path, strerror(errno));
    if (S_ISDIR(st.st_mode)) return qs_err_set(err, "%s%s%s: is a folder", w, sep, path);
    if (!S_ISREG(st.st_mode))
        return qs_err_set(err, "%s%s%s: not a regular file (a FIFO, device or socket is not "
                          "read)", w, sep, path);
    return QS_OK;
}

/* Splits path into its folder ("." when none) and base name. */
static void split_path(const char *path, char *dir, size_t dl, const char **base)
{
    const char *sl = strrchr(path, '/');
    if (!sl) {
        snprintf(dir, dl, ".");
        *base = path;
    } else if (sl == path) {
        snprintf(dir, dl, "/");
        *base = sl + 1;
    } else {
        snprintf(dir, dl, "%.*s", (int)(sl - path), path);
        *base = sl + 1;
    }
}

/* Removes temp files of our own pattern for this target left by a qscope that is gone (a
 * SIGKILL, a power cut): ".<base>.qscope-<pid>-XXXXXX" owned by us, whose pid is not alive. */
static void remove_stale(const char *path)
{
    char dir[4096];
    const char *base;
    split_path(path, dir, sizeof dir, &base);
    size_t bl = strlen(base);
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *n = e->d_name;
        if (n[0] != '.' || strncmp(n + 1, base, bl) != 0 ||
            strncmp(n + 1 + bl, TMP_TAG, sizeof TMP_TAG - 1) != 0)
            continue;
        const char *q = n + 1 + bl + sizeof TMP_TAG - 1;
        char *end;
        long pid = strtol(q, &end, 10);
        if (end == q || *end != '-' || strlen(end + 1) != 6 || pid <= 0) continue;
        if (pid == (long)getpid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;  /* still running */
        char full[4096 + 512];
        if (snprintf(full, sizeof full, "%s/%s", dir, n) >= (int)sizeof full) continue;
        struct stat st;
        if (lstat(full, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == getuid())
            unlink(full);
    }
    closedir(d);
}

int qs_io_check_target(const char *who, const char *path, int force, int *exists,
                       qs_err *err)
{
    struct stat st;
    int ex_local;
    if (!exists) exists = &ex_local;
    *exists = 0;
    if (!*path) return qs_err_set(err, "%s: empty file name", who);
    if (path[strlen(path) - 1] == '/')
        return qs_err_set(err, "%s: %s is a folder name, not a file", who, path);
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT) return QS_OK;
        return qs_err_set(err, "%s: %s: %s", who, path, strerror(errno));
    }
    if (S_ISLNK(st.st_mode))
        return qs_err_set(err, "%s: %s is a symbolic link (qscope never writes through one; "
                          "give the real file name)", who, path);
    if (!S_ISREG(st.st_mode))
        return qs_err_set(err, "%s: %s exists and is not a regular file", who, path);
    *exists = 1;
    if (!force)
        return qs_err_set(err, "%s: %s already exists (add --force to replace it)", who, path);
    return QS_OK;
}

/* Writes data to a new temp file next to path; returns its name (heap) or NULL. */
static char *write_temp(const char *who, const char *path, const void *data, size_t len,
                        int *slot, qs_err *err)
{
    char dir[4096];
    const char *base;
    split_path(path, dir, sizeof dir, &base);
    size_t n = strlen(dir) + strlen(base) + 64;
    char *tmp = malloc(n);
    if (!tmp) {
        qs_err_set(err, "%s: out of memory", who);
        return NULL;
    }
    snprintf(tmp, n, "%s/.%s%s%ld-XXXXXX", dir, base, TMP_TAG, (long)getpid());
    int fd = mkstemp(tmp);
    if (fd < 0) {
        qs_err_set(err, "%s: %s: cannot create a temporary file in %s: %s", who, path, dir,
                   strerror(errno));
        free(tmp);
        return NULL;
    }
    *slot = strlen(tmp) < TMP_NAME_MAX ? track(tmp) : -1;
    const char *p = data;
    size_t at = 0;
    while (at < len) {
        ssize_t w = write(fd, p + at, len - at);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        at += (size_t)w;
    }
    int ok = at == len && fsync(fd) == 0;
    int e = errno;
    if (ok) fchmod(fd, 0644);           /* as before: the umask is not consulted */
    if (close(fd) != 0) ok = 0;
    if (!ok) {
        qs_err_set(err, "%s: %s: write failed: %s", who, path, strerror(e ? e : EIO));
        unlink(tmp);
        untrack(*slot);
        *slot = -1;
        free(tmp);
        return NULL;
    }
    return tmp;
}

/* fsyncs the folder of path so the rename itself survives a crash (best effort). */
static void sync_dir(const char *path)
{
    char dir[4096];
    const char *base;
    split_path(path, dir, sizeof dir, &base);
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int qs_io_write_files(const char *who, const qs_io_out *files, int n, int force, qs_err *err)
{
    char *tmp[QS_IO_WRITE_MAX] = {0}, *keep[QS_IO_WRITE_MAX] = {0};
    int slot[QS_IO_WRITE_MAX], exists[QS_IO_WRITE_MAX], done[QS_IO_WRITE_MAX] = {0};
    int rc = QS_ERR;
    if (n < 1 || n > QS_IO_WRITE_MAX) return qs_err_set(err, "%s: bad file count", who);
    for (int i = 0; i < n; i++) slot[i] = -1;
    for (int i = 0; i < n; i++)
        if (qs_io_check_target(who, files[i].path, force, &exists[i], err) != QS_OK) return QS_ERR;
    for (int i = 0; i < n; i++) remove_stale(files[i].path);
    for (int i = 0; i < n; i++)
        if (!(tmp[i] = write_temp(who, files[i].path, files[i].data, files[i].len, &slot[i],
                                  err)))
            goto undo;
    /* commit: with several targets, keep a hard link to each old file first, so a failure
     * half-way puts the old files back */
    for (int i = 0; i < n; i++) {
        if (exists[i] && n > 1) {
            size_t l = strlen(tmp[i]) + 8;
            keep[i] = malloc(l);
            if (!keep[i]) { qs_err_set(err, "%s: out of memory", who); goto undo; }
            snprintf(keep[i], l, "%s.old", tmp[i]);
            if (link(files[i].path, keep[i]) != 0) {
                qs_err_set(err, "%s: %s: %s", who, files[i].path, strerror(errno));
                free(keep[i]);
                keep[i] = NULL;
                goto undo;
            }
        }
    }
    for (int i = 0; i < n; i++) {
        int r;
        if (force) {
            /* rename replaces a symbolic link itself, never its target; check again */
            int ex;
            if (qs_io_check_target(who, files[i].path, 1, &ex, err) != QS_OK) goto undo;
            r = rename(tmp[i], files[i].path);
        } else {
            r = link(tmp[i], files[i].path);    /* fails when the target appeared */
            if (r == 0) unlink(tmp[i]);
        }
        if (r != 0) {
            if (errno == EEXIST)
                qs_err_set(err, "%s: %s already exists (add --force to replace it)", who,
                           files[i].path);
            else
                qs_err_set(err, "%s: %s: %s", who, files[i].path, strerror(errno));
            goto undo;
        }
        free(tmp[i]);
        tmp[i] = NULL;
        done[i] = 1;
    }
    for (int i = 0; i < n; i++) sync_dir(files[i].path);
    rc = QS_OK;
undo:
    for (int i = 0; i < n; i++) {
        if (rc != QS_OK && done[i]) {
            if (keep[i]) rename(keep[i], files[i].path);    /* the old file back */
            else unlink(files[i].path);                     /* it did not exist */
        } else if (keep[i]) {
            unlink(keep[i]);
        }
        if (tmp[i]) unlink(tmp[i]);
        free(tmp[i]);
        free(keep[i]);
        untrack(slot[i]);
    }
    return rc;
}

int qs_io_write_file(const char *who, const char *path, const void *data, size_t len,
                     int force, qs_err *err)
{
    qs_io_out o = {path, data, len};
    return qs_io_write_files(who, &o, 1, force, err);
}

/* ---- safetensors ------------------------------------------------------------------------- */

static const struct { const char *name; int size; } st_types[] = {
    {"F32", 4}, {"I32", 4}, {"U32", 4}, {"F16", 2}, {"BF16", 2}, {"I16", 2}, {"U16", 2},
    {"I8", 1}, {"U8", 1}, {"F64", 8}, {"I64", 8}, {NULL, 0},
};

int qs_io_st_build(const qs_io_st_tensor *t, int n, const struct json_t *meta,
                   unsigned char **out, size_t *outlen, qs_err *err)
{
    json_t *h = json_object();
    uint64_t at = 0;
    *out = NULL;
    *outlen = 0;
    if (!h) return qs_err_set(err, "out of memory");
    if (meta) json_object_set_new(h, "__metadata__", json_deep_copy(meta));
    for (int i = 0; i < n; i++) {
        int size = 0;
        for (int k = 0; st_types[k].name; k++)
            if (strcmp(st_types[k].name, t[i].dtype) == 0) size = st_types[k].size;
        uint64_t count = 1;
        json_t *shape = json_array();
        for (int d = 0; d < t[i].ndim; d++) {
            count *= (uint64_t)t[i].shape[d];
            json_array_append_new(shape, json_integer(t[i].shape[d]));
        }
        if (!size || !qs_utf8_valid(t[i].name, strlen(t[i].name)) ||
            json_object_get(h, t[i].name)) {
            json_decref(shape);
            json_decref(h);
            return qs_err_set(err, !size ? "safetensors: unknown dtype %s"
                              : "safetensors: tensor name is not UTF-8 or given twice (%s)",
                              !size ? t[i].dtype : "");
        }
        uint64_t bytes = count * (uint64_t)size;
        json_object_set_new(h, t[i].name,
                            json_pack("{s:s, s:o, s:[I,I]}", "dtype", t[i].dtype, "shape",
                                      shape, "data_offsets", (json_int_t)at,
                                      (json_int_t)(at + bytes)));
        at += bytes;
    }
    char *hs = qs_json_escape_controls(json_dumps(h, JSON_COMPACT | JSON_PRESERVE_ORDER));
    json_decref(h);
    if (!hs) return qs_err_set(err, "out of memory");
    size_t hl = strlen(hs), padded = (hl + 7) / 8 * 8;
    size_t total = 8 + padded + (size_t)at;
    unsigned char *b = malloc(total ? total : 1);
    if (!b) {
        free(hs);
        return qs_err_set(err, "out of memory");
    }
    for (int k = 0; k < 8; k++) b[k] = (unsigned char)((uint64_t)padded >> (8 * k));
    memcpy(b + 8, hs, hl);
    memset(b + 8 + hl, ' ', padded - hl);
    free(hs);
    size_t o = 8 + padded;
    for (int i = 0; i < n; i++) {
        int size = 0;
        for (int k = 0; st_types[k].name; k++)
            if (strcmp(st_types[k].name, t[i].dtype) == 0) size = st_types[k].size;
        uint64_t count = 1;
        for (int d = 0; d < t[i].ndim; d++) count *= (uint64_t)t[i].shape[d];
        const unsigned char *src = t[i].data;
        size_t nb = (size_t)(count * (uint64_t)size);
        const uint16_t probe = 1;
        if (size == 1 || *(const unsigned char *)&probe == 1) {
            if (nb) memcpy(b + o, src, nb);          /* host order is little-endian */
        } else {
            for (size_t e = 0; e < nb; e += (size_t)size)
                for (int k = 0; k < size; k++) b[o + e + (size_t)k] = src[e + (size_t)(size - 1 - k)];
        }
        o += nb;
    }
    *out = b;
    *outlen = total;
    return QS_OK;
}
