/* paths.h — where qscope looks for its lessons and data sets: the one search path every
 * command and face uses (lesson list / play / Tab completion, the lab's data sets, the
 * bundled default tensor, a lesson's {datasets}). Base layer: reads the environment and
 * /proc/self/exe, nothing else. */
#ifndef QSCOPE_PATHS_H
#define QSCOPE_PATHS_H

#include <stddef.h>

typedef enum qs_path_kind {
    QS_PATH_LESSONS,    /* ./lessons, $QSCOPE_LESSON_PATH (':'-separated), the binary's
                           ../share/qscope/lessons, QSCOPE_DATADIR/lessons */
    QS_PATH_DATASETS    /* $QSCOPE_DATASETS (':'-separated), ./datasets, the binary's
                           ../datasets and ../share/qscope/datasets, QSCOPE_DATADIR/datasets */
} qs_path_kind;

#define QS_PATH_MAX_DIRS 32

typedef struct qs_search_path {
    int n;                              /* directories, in search order */
    const char *dir[QS_PATH_MAX_DIRS];  /* each (pointers into buf or constants) */
    char buf[8192];                     /* storage */
} qs_search_path;

/* Fills p with the directories for kind, in the order above (empty entries skipped; a
 * relocated or DESTDIR-staged install is found through the binary's own location). */
void qs_search_path_get(qs_path_kind kind, qs_search_path *p);
/* The first dir/name (name may hold a '/') that is readable, in buf; 1 found, 0 not. */
int qs_search_path_find(const qs_search_path *p, const char *name, char *buf, size_t len);

#endif
