/* paths.c — the lesson and data-set search path (paths.h), written once. */
#include "qscope/paths.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef QSCOPE_DATADIR
#define QSCOPE_DATADIR "/usr/local/share/qscope"
#endif

static void add(qs_search_path *p, size_t *used, const char *s, size_t len)
{
    if (!len || p->n >= QS_PATH_MAX_DIRS || *used + len + 1 > sizeof p->buf) return;
    memcpy(p->buf + *used, s, len);
    p->buf[*used + len] = '\0';
    p->dir[p->n++] = p->buf + *used;
    *used += len + 1;
}

static void add_list(qs_search_path *p, size_t *used, const char *env)
{
    for (const char *s = env; s && *s;) {
        size_t k = strcspn(s, ":");
        add(p, used, s, k);
        s += k;
        if (*s == ':') s++;
    }
}

void qs_search_path_get(qs_path_kind kind, qs_search_path *p)
{
    size_t used = 0;
    char exe[4096], tmp[4200];
    int lessons = kind == QS_PATH_LESSONS;
    p->n = 0;
    if (lessons) {
        add(p, &used, "lessons", 7);
        add_list(p, &used, getenv("QSCOPE_LESSON_PATH"));
    } else {
        add_list(p, &used, getenv("QSCOPE_DATASETS"));
        add(p, &used, "datasets", 8);
    }
    ssize_t r = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char *sl = r > 0 ? (exe[r] = '\0', strrchr(exe, '/')) : NULL;
    if (sl) {
        int k;
        *sl = '\0';
        if (!lessons) {
            k = snprintf(tmp, sizeof tmp, "%s/../datasets", exe);
            if (k > 0 && (size_t)k < sizeof tmp) add(p, &used, tmp, (size_t)k);
        }
        k = snprintf(tmp, sizeof tmp, "%s/../share/qscope/%s", exe,
                     lessons ? "lessons" : "datasets");
        if (k > 0 && (size_t)k < sizeof tmp) add(p, &used, tmp, (size_t)k);
    }
    const char *last = lessons ? QSCOPE_DATADIR "/lessons" : QSCOPE_DATADIR "/datasets";
    add(p, &used, last, strlen(last));
}

int qs_search_path_find(const qs_search_path *p, const char *name, char *buf, size_t len)
{
    for (int i = 0; i < p->n; i++) {
        int k = snprintf(buf, len, "%s/%s", p->dir[i], name);
        if (k > 0 && (size_t)k < len && access(buf, R_OK) == 0) return 1;
    }
    return 0;
}
