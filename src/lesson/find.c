/* find.c — resolve a lesson name to a file and list the lessons found, on the lesson search
 * path of paths.h (./lessons, $QSCOPE_LESSON_PATH, the install's share/qscope/lessons). */
#include "qscope/lesson.h"
#include "qscope/paths.h"
#include "qscope/io.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef QSCOPE_DATADIR
#define QSCOPE_DATADIR "/usr/local/share/qscope"
#endif

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

/* 1 when the file name `f` (NN-topic.lesson) matches `name`: "NN-topic", "topic", or a
 * number equal to NN. */
static int name_matches(const char *f, const char *name)
{
    size_t fl = strlen(f) - 7;      /* without .lesson */
    size_t nl = strlen(name);
    if (nl == fl && strncmp(f, name, fl) == 0) return 1;
    size_t digits = strspn(f, "0123456789");
    if (digits && f[digits] == '-') {
        const char *topic = f + digits + 1;
        size_t tl = fl - digits - 1;
        if (nl == tl && strncmp(topic, name, tl) == 0) return 1;
        if (strspn(name, "0123456789") == nl && nl > 0 && atoi(name) == atoi(f)) return 1;
    }
    return 0;
}

int qs_lesson_find(const char *name, char *buf, size_t len, qs_err *err)
{
    qs_search_path sp;
    if (!name || !*name) return qs_err_set(err, "lesson: no lesson name given");
    if (strchr(name, '/') || has_suffix(name, ".lesson")) {
        if (is_file(name)) {
            snprintf(buf, len, "%s", name);
            return QS_OK;
        }
        if (strchr(name, '/')) {
            struct stat st;
            char *q = qs_escape(name, 0);
            int rc = qs_err_set(err, stat(name, &st) != 0 ? "%s: no such lesson file"
                                : S_ISDIR(st.st_mode) ? "%s: a directory, not a lesson file"
                                : "%s: not a regular file (a lesson is a text file)",
                                q ? q : "?");
            free(q);
            return rc;
        }
    }
    qs_search_path_get(QS_PATH_LESSONS, &sp);
    int nd = sp.n;
    const char *const *dirs = sp.dir;
    for (int d = 0; d < nd; d++) {
        DIR *dir = opendir(dirs[d]);
        struct dirent *de;
        char best[512] = "";
        if (!dir) continue;
        while ((de = readdir(dir))) {
            const char *f = de->d_name;
            if (!has_suffix(f, ".lesson") || strlen(f) <= 7) continue;
            if (strcmp(f, name) == 0 || name_matches(f, name)) {
                /* several matches (unlikely): take the smallest name, for determinism */
                if (!best[0] || strcmp(f, best) < 0) snprintf(best, sizeof best, "%s", f);
            }
        }
        closedir(dir);
        if (best[0]) {
            snprintf(buf, len, "%s/%s", dirs[d], best);
            return QS_OK;
        }
    }
    return qs_err_set(err, "lesson '%s' not found in ./lessons, $QSCOPE_LESSON_PATH or %s "
                      "(try 'lesson list')", name, QSCOPE_DATADIR "/lessons");
}

static int cmp_row(const void *a, const void *b)
{
    json_t *const *x = a, *const *y = b;
    return strcmp(json_string_value(json_object_get(*x, "name")),
                  json_string_value(json_object_get(*y, "name")));
}

json_t *qs_lesson_list(void)
{
    qs_search_path sp;
    json_t **rows = NULL;
    size_t n = 0, cap = 0;
    qs_search_path_get(QS_PATH_LESSONS, &sp);
    int nd = sp.n;
    const char *const *dirs = sp.dir;
    for (int d = 0; d < nd; d++) {
        DIR *dir = opendir(dirs[d]);
        struct dirent *de;
        if (!dir) continue;
        while ((de = readdir(dir))) {
            const char *f = de->d_name;
            char path[4096], base[256];
            int dup = 0;
            if (!has_suffix(f, ".lesson") || strlen(f) <= 7 || strlen(f) >= sizeof base)
                continue;
            snprintf(base, sizeof base, "%.*s", (int)(strlen(f) - 7), f);
            for (size_t i = 0; i < n && !dup; i++)
                dup = strcmp(json_string_value(json_object_get(rows[i], "name")), base) == 0;
            if (dup) continue;
            snprintf(path, sizeof path, "%s/%s", dirs[d], f);
            if (!is_file(path)) continue;
            json_t *row = json_object();
            qs_lesson *l = NULL;
            qs_err e = {{0}};
            json_object_set_new(row, "name", json_string(base));
            if (qs_lesson_load(path, &l, &e) == QS_OK) {
                json_object_set_new(row, "title", json_string(l->title));
                json_object_set_new(row, "level", json_string(l->level ? l->level : ""));
                json_object_set_new(row, "steps", json_integer(l->nsteps));
            } else {
                json_object_set_new(row, "error", json_string(e.msg));
            }
            json_object_set_new(row, "path", json_string(path));
            qs_lesson_free(l);
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                json_t **nr = realloc(rows, cap * sizeof *nr);
                if (!nr) { json_decref(row); break; }
                rows = nr;
            }
            rows[n++] = row;
        }
        closedir(dir);
    }
    if (n > 1) qsort(rows, n, sizeof *rows, cmp_row);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(arr, rows[i]);
    free(rows);
    json_t *out = json_object();
    json_object_set_new(out, "lessons", arr);
    if (n == 0) {               /* say where they were looked for */
        char note[1024];
        size_t k = (size_t)snprintf(note, sizeof note, "no lessons found; searched");
        for (int d = 0; d < nd && k < sizeof note; d++)
            k += (size_t)snprintf(note + k, sizeof note - k, "%s %s", d ? "," : "", dirs[d]);
        if (k < sizeof note)
            snprintf(note + k, sizeof note - k, " (QSCOPE_LESSON_PATH adds folders)");
        json_object_set_new(out, "note", json_string(note));
    }
    return out;
}
