/* sandbox.c — what a lesson's commands may touch: the rule follows from the command table
 * (QS_CMD_WRITES, QS_CMD_READS); reads stay under the lesson's folder and qscope's datasets
 * unless the header declares `files:` and the learner allowed it (see lesson.h). */
#include "qscope/lesson.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 1 when path may be read by any lesson: under the lesson's folder or the datasets. */
/* The real paths of the folders any lesson may read: its own, the datasets. */
static void roots(const qs_lesson *l, char *lroot, char *droot)
{
    char dir[PATH_MAX], ds[PATH_MAX];
    lroot[0] = droot[0] = '\0';
    if (l && l->path) {
        snprintf(dir, sizeof dir, "%s", l->path);
        char *sl = strrchr(dir, '/');
        if (sl) *sl = '\0';
        else snprintf(dir, sizeof dir, ".");
        if (!realpath(dir, lroot)) lroot[0] = '\0';
    }
    qs_lesson_datasets_dir(ds, sizeof ds);
    if (!realpath(ds, droot)) droot[0] = '\0';
}

/* 1 when path may be read by any lesson: under the lesson's folder or the datasets. */
static int inside(const qs_lesson *l, const char *path)
{
    char lr[PATH_MAX], dr[PATH_MAX];
    roots(l, lr, dr);
    return (lr[0] && qs_path_under(path, lr)) || (dr[0] && qs_path_under(path, dr));
}

void qs_lesson_sandbox_roots(const qs_lesson *l, char *lroot, char *droot)
{
    roots(l, lroot, droot);
}

/* 1 when w is one of the row's keywords (a subcommand or option word, not a path): its
 * words, and in a nested table the subcommands' names, words, flags and word choices. */
static int keyword(const qs_cmd *c, const char *w)
{
    for (const char *const *k = c->words; k && *k; k++)
        if (strcmp(*k, w) == 0) return 1;
    for (const qs_arg *a = c->args; a && a->type != QS_ARG_END; a++) {
        if (a->type == QS_ARG_FLAG && strcmp(a->name, w) == 0) return 1;
        if (a->type == QS_ARG_WORD) {
            const char *v;
            for (int i = 0; (v = qs_arg_choice_at(a, i, NULL)); i++)
                if (strcmp(v, w) == 0) return 1;
        }
    }
    for (const qs_cmd *sub = c->subs; sub && sub->name; sub++)
        if (strcmp(sub->name, w) == 0 || keyword(sub, w)) return 1;
    return 0;
}

/* 1 when key is an option of the row (or of one of its subcommands) whose value is a file
 * to read (a TEXT option with the metavariable PATH: lab gpt's text= and corpus=) */
static int path_option(const qs_cmd *c, const char *key, size_t klen)
{
    for (const qs_arg *a = c->args; a && a->type != QS_ARG_END; a++)
        if (a->type == QS_ARG_TEXT && a->meta && strcmp(a->meta, "PATH") == 0 &&
            strlen(a->name) == klen && strncmp(a->name, key, klen) == 0)
            return 1;
    for (const qs_cmd *sub = c->subs; sub && sub->name; sub++)
        if (path_option(sub, key, klen)) return 1;
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
        /* a row whose usage lists subcommands ("lab train|ptq|...") takes keywords; an
         * option "--x" may take a keyword value; every other positional word may be a
         * file: a row that writes counts each of them, a row that only reads its first */
        const char *u = c->usage ? strchr(c->usage, ' ') : NULL;
        size_t ul = u ? strcspn(u + 1, " ") : 0;
        int has_sub = u && (memchr(u + 1, '|', ul) != NULL || strstr(c->usage, " | "));
        for (int i = 1; i < argc && !what; i++) {
            const char *w = argv[i], *eq = strchr(w, '=');
            if (eq) {               /* key=value: a file only for a PATH option (text=) */
                if (path_option(c, w, (size_t)(eq - w)) && !inside(l, eq + 1)) {
                    what = QS_LESSON_FILES_READ;
                    if (path && pathlen) snprintf(path, pathlen, "%s", eq + 1);
                }
                continue;
            }
            if (w[0] == '-' && w[1]) {
                if (w[1] == '-' && i + 1 < argc && keyword(c, argv[i + 1])) i++;
                continue;
            }
            /* a row with subcommands: its keywords are subcommands and flags ("lab qat
             * lsq"); a file named like one is still refused where it is written
             * (qs_cmd_check_path) */
            if (has_sub && keyword(c, w)) continue;
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
            char w[64] = "", sub[64] = "";
            sscanf(line, "%63s %63s", w, sub);
            if (!(l->files & what)) {
                qs_lesson_uses_free(u, k);
                free(line);
                /* a row with subcommands (lab) that can write: the subcommand named may only
                 * read (lab load), so the message says what the row can do */
                const qs_cmd *c = qs_cmd_find(w);
                if (what == QS_LESSON_FILES_WRITE && c && c->subs && qs_cmd_sub(c, sub))
                    return qs_err_set(err, "%s:%d: '%s %s' names a file (%.200s) and '%s' can "
                                      "write files; a lesson may run it only when its header "
                                      "says 'files: write' and the learner allows it",
                                      l->path, it->line, w, sub, path, w);
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
