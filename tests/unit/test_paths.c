/* test_paths.c — the lesson and data-set search path is one list (paths.h): lesson list
 * (qs_lesson_list), lesson play (qs_lesson_find) and Tab completion (qs_lesson_names) see the
 * same lessons, and $QSCOPE_DATASETS comes first for data sets. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "front/front.h"
#include "qscope/lesson.h"
#include "qscope/paths.h"

Test(paths, one_lesson_path_for_list_find_and_completion)
{
    char dir[] = "/tmp/qscope_paths_XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char f[256];
    snprintf(f, sizeof f, "%s/97-zzpathcheck.lesson", dir);
    FILE *fp = fopen(f, "w");
    cr_assert_not_null(fp);
    fputs("# lesson: path check\n", fp);
    fclose(fp);
    setenv("QSCOPE_LESSON_PATH", dir, 1);

    qs_search_path sp;
    qs_search_path_get(QS_PATH_LESSONS, &sp);
    cr_assert_geq(sp.n, 3);
    cr_assert_str_eq(sp.dir[0], "lessons");
    cr_assert_str_eq(sp.dir[1], dir);
    cr_assert(strstr(sp.dir[sp.n - 1], "/lessons"));
    int exe_rel = 0;
    for (int i = 0; i < sp.n; i++) exe_rel |= strstr(sp.dir[i], "/../share/qscope/lessons") != 0;
    cr_assert(exe_rel, "a relocated install is searched next to the binary");

    char **names = NULL;
    int n = qs_lesson_names("97-zz", &names);
    cr_assert_eq(n, 1, "completion sees it");
    cr_assert_str_eq(names[0], "97-zzpathcheck");
    qs_split_free(names);
    char path[1024];
    qs_err err = {{0}};
    cr_assert_eq(qs_lesson_find("zzpathcheck", path, sizeof path, &err), QS_OK, "%s", err.msg);
    cr_assert_str_eq(path, f);

    unsetenv("QSCOPE_LESSON_PATH");
    cr_assert_eq(qs_lesson_names("97-zz", &names), 0, "gone with the variable");
    qs_split_free(names);
    unlink(f);
    rmdir(dir);
}

Test(paths, datasets_env_first_then_the_tree)
{
    setenv("QSCOPE_DATASETS", "/nonexistent/a:/nonexistent/b", 1);
    qs_search_path sp;
    qs_search_path_get(QS_PATH_DATASETS, &sp);
    cr_assert_geq(sp.n, 4);
    cr_assert_str_eq(sp.dir[0], "/nonexistent/a");
    cr_assert_str_eq(sp.dir[1], "/nonexistent/b");
    cr_assert_str_eq(sp.dir[2], "datasets");
    char buf[1024];
    if (access("datasets/default.npy", R_OK) == 0) {
        cr_assert(qs_search_path_find(&sp, "default.npy", buf, sizeof buf));
        cr_assert_str_eq(buf, "datasets/default.npy");
    }
    cr_assert(!qs_search_path_find(&sp, "no-such-file.npy", buf, sizeof buf));
    unsetenv("QSCOPE_DATASETS");
}
