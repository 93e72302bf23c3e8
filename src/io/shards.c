/* shards.c — sharded safetensors checkpoints (Hugging Face `model.safetensors.index.json`:
 * {"metadata": {...}, "weight_map": {tensor: shard file}}): one tensor list across the shards,
 * built from each shard's header; a shard is opened (mapped) again only while one of its
 * tensors is read. Shard names must be plain file names in the index's folder. */
#include "io_priv.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* Per-file state (f->priv). */
typedef struct shards_priv {
    char *dir;              /* folder of the index */
    char **files;           /* shard file names (owned) */
    int nfiles;             /* count */
} shards_priv;

static void shards_free(void *p)
{
    shards_priv *sp = p;
    if (!sp) return;
    for (int i = 0; i < sp->nfiles; i++) free(sp->files[i]);
    free(sp->files);
    free(sp->dir);
    free(sp);
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static int shards_read(const qs_file *f, int idx, float *dst, qs_err *err)
{
    const shards_priv *sp = f->priv;
    const qs_entry *e = &f->entries[idx];
    char *path = join(sp->dir, sp->files[e->shard]);
    if (!path) return qs_err_set(err, "%s: out of memory", f->path);
    qs_file *s = NULL;
    qs_tensor *t = NULL;
    int rc = qs_file_open(path, &s, err);
    if (rc == QS_OK) {
        int j = qs_file_find(s, e->name);
        char q[QS_IO_QUOTE_LEN];
        qs_io_quote(q, e->name, strlen(e->name));
        if (j < 0 || s->entries[j].dtype != e->dtype || s->entries[j].n != e->n)
            rc = qs_err_set(err, "%s: tensor '%s' changed since the checkpoint was opened",
                            path, q);
        else if ((rc = qs_file_read(s, j, &t, err)) == QS_OK && e->n > 0)
            memcpy(dst, t->data, (size_t)e->n * sizeof(float));
    }
    qs_tensor_free(t);
    qs_file_close(s);
    free(path);
    return rc;
}

int qs_file_nshards(const qs_file *f)
{
    return f && f->priv && f->priv_free == shards_free ? ((const shards_priv *)f->priv)->nfiles
                                                        : 0;
}

char *qs_file_shard_path(const qs_file *f, int i)
{
    if (i < 0 || i >= qs_file_nshards(f)) return NULL;
    const shards_priv *sp = f->priv;
    return join(sp->dir, sp->files[i]);
}

/* A shard name must be a plain file name: no '/', not "." or "..", no control bytes. */
static int plain_name(const char *s)
{
    if (!s[0] || strcmp(s, ".") == 0 || strcmp(s, "..") == 0 || strchr(s, '/')) return 0;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if (*c < 0x20 || *c == 0x7f) return 0;
    return strlen(s) <= 255;
}

int qs_io_shards_open(qs_file *f, const char *dir, qs_err *err)
{
    const char *P = f->path;
    if (f->maplen > QS_IO_INDEX_MAX)
        return qs_err_set(err, "%s: index of %zu bytes exceeds the limit of %u", P, f->maplen,
                          QS_IO_INDEX_MAX);
    json_error_t je;
    json_t *root = json_loadb((const char *)f->map, f->maplen, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        for (char *c = je.text; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
        return qs_err_set(err, "%s: invalid JSON at line %d, column %d: %s", P, je.line,
                          je.column, je.text);
    }
    int rc = QS_ERR;
    shards_priv *sp = calloc(1, sizeof *sp);
    if (!sp || !(sp->dir = strdup(dir))) {
        free(sp);
        qs_err_set(err, "%s: out of memory", P);
        goto done;
    }
    f->priv = sp;
    f->priv_free = shards_free;
    json_t *wm = json_object_get(root, "weight_map");
    if (!json_is_object(root) || !json_is_object(wm)) {
        qs_err_set(err, "%s: no \"weight_map\" object (expected {\"metadata\": {...}, "
                   "\"weight_map\": {tensor: file}})", P);
        goto done;
    }
    json_t *meta = json_object_get(root, "metadata");
    if (json_is_object(meta)) {
        const char *k;
        json_t *v;
        json_object_foreach(meta, k, v) {
            char buf[64];
            const char *s = NULL;
            if (json_is_string(v)) s = json_string_value(v);
            else if (json_is_integer(v))
                snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v)), s = buf;
            if (s && qs_io_meta_add(f, k, s, err)) goto done;
        }
    }
    size_t count = json_object_size(wm);
    if (count > INT32_MAX) {
        qs_err_set(err, "%s: too many tensors", P);
        goto done;
    }
    f->entries = calloc(count ? count : 1, sizeof *f->entries);
    int *which = calloc(count ? count : 1, sizeof *which);
    if (!f->entries || !which) {
        free(which);
        qs_err_set(err, "%s: out of memory", P);
        goto done;
    }
    /* pass 1: names and their shard indices */
    const char *name;
    json_t *file;
    int bad = 0;
    json_t *seen = json_object();           /* shard file name -> its index */
    json_object_foreach(wm, name, file) {
        char q[QS_IO_QUOTE_LEN];
        qs_io_quote(q, name, strlen(name));
        if (!json_is_string(file) || !plain_name(json_string_value(file)) ||
            strlen(json_string_value(file)) != json_string_length(file)) {
            qs_err_set(err, "%s: tensor '%s' maps to something that is not a shard file name "
                       "in the same folder", P, q);
            bad = 1;
            break;
        }
        const char *fn = json_string_value(file);
        /* the shard's index, from a hash of the names seen so far (linear in all) */
        json_t *known = json_object_get(seen, fn);
        int s = known ? (int)json_integer_value(known) : sp->nfiles;
        if ((f->n & 4095) == 0 && f->cancel && *f->cancel) {
            qs_err_set(err, "%s: cancelled", P);
            bad = 2;
            break;
        }
        if (s == sp->nfiles) {
            if (sp->nfiles >= QS_IO_SHARDS_MAX) {
                qs_err_set(err, "%s: more than %d shard files", P, QS_IO_SHARDS_MAX);
                bad = 1;
                break;
            }
            char **a = realloc(sp->files, ((size_t)sp->nfiles + 1) * sizeof *a);
            if (!a || !(a[sp->nfiles] = strdup(fn))) {
                if (a) sp->files = a;
                qs_err_set(err, "%s: out of memory", P);
                bad = 1;
                break;
            }
            sp->files = a;
            json_object_set_new(seen, fn, json_integer(sp->nfiles));
            sp->nfiles++;
        }
        if (!(f->entries[f->n].name = strdup(name))) {
            qs_err_set(err, "%s: out of memory", P);
            bad = 1;
            break;
        }
        which[f->n] = s;
        f->entries[f->n].shard = s;
        f->n++;
    }
    json_decref(seen);
    /* the tensors of each shard, in index order: order[first[s] .. first[s+1]) */
    int *first = calloc((size_t)sp->nfiles + 2, sizeof *first);
    int *order = calloc(f->n ? (size_t)f->n : 1, sizeof *order);
    if (!bad && (!first || !order)) {
        qs_err_set(err, "%s: out of memory", P);
        bad = 1;
    }
    if (!bad) {
        for (int i = 0; i < f->n; i++) first[which[i] + 1]++;
        for (int s2 = 0; s2 < sp->nfiles; s2++) first[s2 + 1] += first[s2];
        int *at = calloc((size_t)sp->nfiles + 1, sizeof *at);
        if (!at) {
            qs_err_set(err, "%s: out of memory", P);
            bad = 1;
        } else {
            for (int i = 0; i < f->n; i++) order[first[which[i]] + at[which[i]]++] = i;
            free(at);
        }
    }
    /* pass 2: each shard's header gives the dtypes and shapes of its tensors */
    for (int s = 0; s < sp->nfiles && !bad; s++) {
        char *path = join(dir, sp->files[s]);
        qs_file *sh = NULL;
        if (!path) {
            qs_err_set(err, "%s: out of memory", P);
            bad = 1;
            break;
        }
        struct stat st;
        size_t pl = strlen(path);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
            (pl >= 5 && strcasecmp(path + pl - 5, ".json") == 0)) {
            /* any case: "x.safetensors.index.JSON" naming itself opened itself as an
             * index again and again until the stack overflowed */
            qs_err_set(err, "%s: shard %s is missing or not a regular safetensors file", P,
                       path);
            bad = 1;
        } else if (qs_file_open(path, &sh, err) != QS_OK) {
            bad = 1;
        } else if (strcmp(sh->format, "safetensors") != 0) {
            qs_err_set(err, "%s: shard %s is %s, not safetensors", P, path, sh->format);
            bad = 1;
        } else {
            /* the shard's own names, hashed: each tensor of the index is found at once */
            json_t *pos = json_object();
            for (int j = 0; j < sh->n && pos; j++)
                json_object_set_new_nocheck(pos, sh->entries[j].name, json_integer(j));
            for (int k = first[s]; k < first[s + 1] && !bad; k++) {
                int i = order[k];
                qs_entry *e = &f->entries[i];
                json_t *jp = pos ? json_object_get(pos, e->name) : NULL;
                int j = jp ? (int)json_integer_value(jp) : -1;
                if ((k & 4095) == 0 && f->cancel && *f->cancel) {
                    qs_err_set(err, "%s: cancelled", P);
                    bad = 2;
                    break;
                }
                if (j < 0) {
                    char q[QS_IO_QUOTE_LEN];
                    qs_io_quote(q, e->name, strlen(e->name));
                    qs_err_set(err, "%s: tensor '%s' is not in its shard %s", P, q, path);
                    bad = 1;
                    break;
                }
                const qs_entry *x = &sh->entries[j];
                e->dtype = x->dtype;
                e->ndim = x->ndim;
                memcpy(e->shape, x->shape, sizeof e->shape);
                e->n = x->n;
                e->nbytes = x->nbytes;
                e->offset = x->offset;
            }
            json_decref(pos);
        }
        qs_file_close(sh);
        free(path);
    }
    free(which);
    free(first);
    free(order);
    if (bad == 2) {
        rc = QS_CANCELLED;
        goto done;
    }
    if (bad) goto done;
    char nb[32];
    snprintf(nb, sizeof nb, "%d", sp->nfiles);
    if (qs_io_meta_add(f, "shards", nb, err)) goto done;
    f->read = shards_read;
    rc = QS_OK;
done:
    json_decref(root);
    return rc;
}
