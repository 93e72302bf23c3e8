/* sandbox.c — what a lesson's commands may touch: the rule follows from the command table
 * (QS_CMD_WRITES, QS_CMD_READS); reads stay under the lesson's folder and qscope's datasets
 * unless the header declares `files:` and the learner allowed it (see lesson.h). */
#include "qscope/lesson.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The real path of p (symbolic links followed); for a file that does not exist yet, the real
 * path of its folder plus its name. 0 on success. */
static int resolve(const char *p, char *out)
{
    char buf[PATH_MAX];
    if (realpath(p, out)) return 0;
    const char *sl = strrchr(p, '/');
    const char *dir = ".";
    if (sl) {
        size_t n = (size_t)(sl - p);
        if (n >= sizeof buf) return -1;
        memcpy(buf, p, n);
        buf[n] = '\0';
        dir = n ? buf : "/";
    }
    const char *base = sl ? sl + 1 : p;
    if (!strcmp(base, "..") || !strcmp(base, ".")) return -1;
    char rd[PATH_MAX];
    if (!realpath(dir, rd)) return -1;
    size_t rl = strcmp(rd, "/") ? strlen(rd) : 0, bl = strlen(base);
    if (rl + 1 + bl >= PATH_MAX) return -1;
    memcpy(out, rd, rl);
    out[rl] = '/';
    memcpy(out + rl + 1, base, bl + 1);
    return 0;
}

/* 1 when real path r is root or under it. */
static int under(const char *r, const char *root)
{
    size_t n = strlen(root);
    if (n == 0) return 0;
    if (strcmp(root, "/") == 0) return 1;
    return strncmp(r, root, n) == 0 && (r[n] == '\0' || r[n] == '/');
}

/* 1 when path may be read by any lesson: under the lesson's folder or the datasets. */
static int inside(const qs_lesson *l, const char *path)
{
    char r[PATH_MAX], root[PATH_MAX], ds[PATH_MAX];
    if (resolve(path, r) != 0) return 0;
    if (l && l->path) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", l->path);
        char *sl = strrchr(dir, '/');
        if (sl) *sl = '\0';
        else snprintf(dir, sizeof dir, ".");
        if (realpath(dir, root) && under(r, root)) return 1;
    }
    qs_lesson_datasets_dir(ds, sizeof ds);
    if (realpath(ds, root) && under(r, root)) return 1;
    return 0;
}

/* 1 when w is one of the row's keywords (a subcommand or option word, not a path). */
static int keyword(const qs_cmd *c, const char *w)
{
    for (const char *const *k = c->words; k && *k; k++)
        if (strcmp(*k, w) == 0) return 1;
    return 0;
}

int qs_lesson_access(const qs_lesson *l, const char *line, char *path, size_t pathlen)
{
    char **argv = NULL;
    int argc = qs_split(line, &argv, NULL), what = 0;
    if (path && pathlen) path[0] = '\0';
    if (argc <= 0) {
        qs_split_free(argv);
        return 0;
    }
    const qs_cmd *c = qs_cmd_find(argv[0]);
    if (c && (c->flags & (QS_CMD_READS | QS_CMD_WRITES))) {
        /* the words that may name files: positional words that are not keywords; a row
         * that writes counts every one of them, a row that only reads its first */
        for (int i = 1; i < argc && !what; i++) {
            const char *w = argv[i];
            if (strchr(w, '=') || (w[0] == '-' && w[1]) || keyword(c, w)) continue;
            if (c->flags & QS_CMD_WRITES) what = QS_LESSON_FILES_WRITE;
            else if (!inside(l, w)) what = QS_LESSON_FILES_READ;
            if (what && path && pathlen) snprintf(path, pathlen, "%s", w);
            if (!(c->flags & QS_CMD_WRITES)) break;
        }
    }
    qs_split_free(argv);
    return what;
}

void qs_lesson_uses_free(qs_lesson_use *u, int n)
{
    for (int i = 0; u && i < n; i++) {
        free(u[i].cmd);
        free(u[i].path);
    }
    free(u);
}

int qs_lesson_uses(const qs_lesson *l, qs_lesson_use **out, int *n, qs_err *err)
{
    qs_lesson_use *u = NULL;
    int k = 0;
    *out = NULL;
    *n = 0;
    for (int i = 0; i < l->nsteps; i++)
        for (int j = 0; j < l->steps[i].nitems; j++) {
            const qs_lesson_item *it = &l->steps[i].items[j];
            if (it->kind != QS_LI_CMD) continue;
            char *line = qs_lesson_expand(it->text), path[PATH_MAX];
            if (!line) goto oom;
            int what = qs_lesson_access(l, line, path, sizeof path);
            if (!what) {
                free(line);
                continue;
            }
            char w[64] = "";
            sscanf(line, "%63s", w);
            if (!(l->files & what)) {
                qs_lesson_uses_free(u, k);
                free(line);
                if (what == QS_LESSON_FILES_WRITE)
                    return qs_err_set(err, "%s:%d: '%s' writes files (%.200s); a lesson may do "
                                      "that only when its header says 'files: write' and the "
                                      "learner allows it", l->path, it->line, w, path);
                return qs_err_set(err, "%s:%d: '%s' reads %.200s, outside the lesson's folder "
                                  "and qscope's datasets; a lesson may do that only when its "
                                  "header says 'files: read' and the learner allows it",
                                  l->path, it->line, w, path);
            }
            qs_lesson_use *nu = realloc(u, (size_t)(k + 1) * sizeof *nu);
            if (!nu) {
                free(line);
                goto oom;
            }
            u = nu;
            u[k].line = it->line;
            u[k].what = what;
            u[k].cmd = line;
            u[k].path = strdup(path);
            k++;
            if (!u[k - 1].path) goto oom;
        }
    *out = u;
    *n = k;
    return QS_OK;
oom:
    qs_lesson_uses_free(u, k);
    return qs_err_set(err, "%s: out of memory", l->path);
}
