/* test_sec.c — Criterion tests of issue 19's defences: the escape function (C0, C1, DEL,
 * bytes that are not UTF-8), the UTF-8 fix at load, the atomic writer (no replace without
 * force, no write through a symbolic link, a pair committed together or not at all, stale temp
 * files removed), the REPL prompt and the lesson sandbox's classification of command lines. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qscope/cmd.h"
#include "front/front.h"
#include "qscope/io.h"
#include "qscope/lesson.h"

static char dir[PATH_MAX];

static void mkscratch(void)
{
    snprintf(dir, sizeof dir, "/tmp/qscope_sec_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void rmscratch(void)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

/* ---- escaping ------------------------------------------------------------------------------ */

Test(escape, c0_c1_del_and_bad_bytes_become_visible)
{
    static const struct { const char *in, *out; } cases[] = {
        {"plain.weight", "plain.weight"},
        {"a\x1b[2Jb", "a\\x1b[2Jb"},
        {"row\nfake", "row\\nfake"},
        {"t\tab\r", "t\\tab\\r"},
        {"del\x7f", "del\\x7f"},
        {"c1\xc2\x9b" "31m", "c1\\u009b31m"},           /* U+009B CSI, as UTF-8 */
        {"caf\xe9", "caf\\xe9"},                        /* Latin-1: not UTF-8 */
        {"\xc0\xaf", "\\xc0\\xaf"},                     /* overlong '/' */
        {"\xed\xa0\x80", "\\xed\\xa0\\x80"},            /* a surrogate */
        {"caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x98\x80"},
        {"\xc2\xa0nbsp", "\xc2\xa0nbsp"},               /* U+00A0 is printable */
        {"\xe2\x80\xaegnp.exe", "\\u202egnp.exe"},       /* RLO: shows as "exe.png" */
        /* isolates, RLM */
        {"a\xe2\x81\xa6" "b\xe2\x81\xa9\xe2\x80\x8f", "a\\u2066b\\u2069\\u200f"},
        {"\xe2\x80\x8d\xe2\x80\x94", "\xe2\x80\x8d\xe2\x80\x94"},   /* ZWJ, em dash: kept */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *e = qs_escape(cases[i].in, 0);
        cr_assert_str_eq(e, cases[i].out, "case %zu", i);
        cr_assert_eq(qs_escape_needed(cases[i].in, 0), strcmp(cases[i].in, cases[i].out) != 0);
        free(e);
    }
    char *e = qs_escape("line1\nline2\x1b", QS_ESC_KEEP_NL);
    cr_assert_str_eq(e, "line1\nline2\\x1b");
    free(e);
}

Test(escape, utf8_fix_keeps_valid_text_and_marks_bad_bytes)
{
    char *f = qs_utf8_fix("caf\xe9\x1b", 5);
    cr_assert_str_eq(f, "caf\\xe9\x1b", "only bytes that are not UTF-8 change at load");
    cr_assert(qs_utf8_valid(f, strlen(f)));
    free(f);
    cr_assert(!qs_utf8_valid("\xff", 1));
    cr_assert(qs_utf8_valid("\xe2\x86\x92", 3));
}

Test(escape, a_latin1_file_name_loads_as_a_valid_utf8_name)
{
    mkscratch();
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/caf\xe9.txt", dir);
    put(path, "1 2 3\n");
    qs_file *f = NULL;
    qs_err err = {{0}};
    cr_assert_eq(qs_file_open(path, &f, &err), QS_OK, "%s", err.msg);
    cr_assert_str_eq(f->entries[0].name, "caf\\xe9");
    cr_assert(qs_utf8_valid(f->path, strlen(f->path)));
    qs_file_close(f);
    rmscratch();
}

Test(escape, the_repl_prompt_shows_a_hostile_name_escaped)
{
    qs_session s;
    qs_err err = {{0}};
    float v[1] = {1};
    qs_session_init(&s);
    qs_session_set_tensor(&s, qs_tensor_from_values("w\x1b]0;pwn\x07", v, 1, &err));
    char buf[512];
    qs_repl_prompt(&s, 0, 1, buf, sizeof buf);
    cr_assert_null(strchr(buf, '\x1b'), "raw ESC in the prompt: %s", buf);
    cr_assert_null(strchr(buf, '\x07'));
    cr_assert_not_null(strstr(buf, "w\\x1b]0;pwn\\x07"), "%s", buf);
    qs_session_fini(&s);
}

/* ---- the atomic writer ---------------------------------------------------------------------- */

Test(writer, never_replaces_without_force_and_never_through_a_link)
{
    mkscratch();
    char p[PATH_MAX + 32], l[PATH_MAX + 32], d[PATH_MAX + 32], t[PATH_MAX + 32];
    qs_err err = {{0}};
    snprintf(p, sizeof p, "%s/out.bin", dir);
    cr_assert_eq(qs_io_write_file("export", p, "new", 3, 0, &err), QS_OK, "%s", err.msg);
    cr_assert_str_eq(slurp(p), "new");
    cr_assert_eq(qs_io_write_file("export", p, "two", 3, 0, &err), QS_ERR);
    cr_assert_not_null(strstr(err.msg, "already exists (add --force"), "%s", err.msg);
    cr_assert_str_eq(slurp(p), "new", "the old file is untouched");
    cr_assert_eq(qs_io_write_file("export", p, "two", 3, 1, &err), QS_OK, "%s", err.msg);
    cr_assert_str_eq(slurp(p), "two");
    /* a link to a file: neither the link nor its target is written, even with force */
    snprintf(t, sizeof t, "%s/target", dir);
    snprintf(l, sizeof l, "%s/link", dir);
    put(t, "keep");
    cr_assert_eq(symlink(t, l), 0);
    cr_assert_eq(qs_io_write_file("save", l, "evil", 4, 1, &err), QS_ERR);
    cr_assert_not_null(strstr(err.msg, "symbolic link"), "%s", err.msg);
    cr_assert_str_eq(slurp(t), "keep");
    /* a dangling link: its target is never created */
    snprintf(d, sizeof d, "%s/dangling", dir);
    snprintf(t, sizeof t, "%s/created_by_link", dir);
    cr_assert_eq(symlink(t, d), 0);
    cr_assert_eq(qs_io_write_file("lab save", d, "evil", 4, 0, &err), QS_ERR);
    cr_assert_eq(qs_io_write_file("lab save", d, "evil", 4, 1, &err), QS_ERR);
    cr_assert_eq(access(t, F_OK), -1, "the dangling link's target was created");
    /* no temp file is left behind */
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -q qscope-", dir);
    cr_assert_neq(system(cmd), 0, "a temp file was left");
    rmscratch();
}

Test(writer, a_pair_is_committed_together_or_not_at_all)
{
    mkscratch();
    char a[PATH_MAX + 32], b[PATH_MAX + 32];
    qs_err err = {{0}};
    snprintf(a, sizeof a, "%s/w.npy", dir);
    snprintf(b, sizeof b, "%s/w.npy.json", dir);
    put(a, "old npy");
    cr_assert_eq(mkdir(b, 0755), 0);    /* the second target cannot be replaced */
    qs_io_out pair[2] = {{a, "new npy", 7}, {b, "{}", 2}};
    cr_assert_eq(qs_io_write_files("export", pair, 2, 1, &err), QS_ERR);
    cr_assert_str_eq(slurp(a), "old npy", "the .npy was replaced though its .json failed");
    rmdir(b);
    /* without force and no old files: neither is left when the second fails */
    unlink(a);
    put(b, "{\"old\":1}");
    cr_assert_eq(qs_io_write_files("export", pair, 2, 0, &err), QS_ERR);
    cr_assert_eq(access(a, F_OK), -1, "the .npy was created though its .json failed");
    cr_assert_eq(qs_io_write_files("export", pair, 2, 1, &err), QS_OK, "%s", err.msg);
    cr_assert_str_eq(slurp(a), "new npy");
    cr_assert_str_eq(slurp(b), "{}");
    rmscratch();
}

Test(writer, stale_temp_files_of_a_dead_qscope_are_removed)
{
    mkscratch();
    char p[PATH_MAX + 32], stale[PATH_MAX + 64], live[PATH_MAX + 64], other[PATH_MAX + 64];
    qs_err err = {{0}};
    snprintf(p, sizeof p, "%s/m.safetensors", dir);
    /* pid 2^22+1 is above Linux's pid_max default range: no such process */
    snprintf(stale, sizeof stale, "%s/.m.safetensors.qscope-4194305-a1b2c3", dir);
    snprintf(live, sizeof live, "%s/.m.safetensors.qscope-%ld-zzzzzz", dir, (long)getppid());
    snprintf(other, sizeof other, "%s/.m.safetensors.keep-4194305-a1b2c3", dir);
    put(stale, "20 MB of a killed export");
    put(live, "another qscope's export in progress");
    put(other, "not ours");
    cr_assert_eq(qs_io_write_file("export", p, "x", 1, 0, &err), QS_OK, "%s", err.msg);
    cr_assert_eq(access(stale, F_OK), -1, "the stale temp file is still there");
    cr_assert_eq(access(live, F_OK), 0, "a live process's temp file was removed");
    cr_assert_eq(access(other, F_OK), 0);
    rmscratch();
}

/* ---- the lesson sandbox -------------------------------------------------------------------- */

Test(sandbox, commands_are_classified_from_the_table)
{
    mkscratch();
    char lp[PATH_MAX + 32], inside[PATH_MAX + 32], line[PATH_MAX * 2], link[PATH_MAX + 32];
    snprintf(lp, sizeof lp, "%s/les/x.lesson", dir);
    snprintf(inside, sizeof inside, "%s/les", dir);
    cr_assert_eq(mkdir(inside, 0755), 0);
    put(lp, "title: t\n\n> values 1\n");
    qs_lesson *l = NULL;
    qs_err err = {{0}};
    cr_assert_eq(qs_lesson_load(lp, &l, &err), QS_OK, "%s", err.msg);
    char path[PATH_MAX];
    cr_assert_eq(qs_lesson_access(l, "values 1 2 3", path, sizeof path), 0);
    cr_assert_eq(qs_lesson_access(l, "lab ptq bits=4", path, sizeof path), 0);
    cr_assert_eq(qs_lesson_access(l, "export out.npy", path, sizeof path),
                 QS_LESSON_FILES_WRITE);
    cr_assert_str_eq(path, "out.npy");
    cr_assert_eq(qs_lesson_access(l, "export --force --format npy x", path, sizeof path),
                 QS_LESSON_FILES_WRITE);
    cr_assert_eq(qs_lesson_access(l, "save s.qs", path, sizeof path), QS_LESSON_FILES_WRITE);
    cr_assert_eq(qs_lesson_access(l, "lab save m.safetensors --force", path, sizeof path),
                 QS_LESSON_FILES_WRITE);
    /* a file named like a keyword is still a file (lab's keywords are its subcommands and
     * flags: "lab save digits" is refused where it writes, see the next test) */
    cr_assert_eq(qs_lesson_access(l, "export npy --format safetensors --force", path,
                                  sizeof path), QS_LESSON_FILES_WRITE);
    cr_assert_str_eq(path, "npy");
    cr_assert_eq(qs_lesson_access(l, "lab train data=digits", path, sizeof path), 0);
    cr_assert_eq(qs_lesson_access(l, "load /etc/passwd", path, sizeof path),
                 QS_LESSON_FILES_READ);
    snprintf(line, sizeof line, "load %s/les/data.npy", dir);
    cr_assert_eq(qs_lesson_access(l, line, path, sizeof path), 0, "its own folder");
    snprintf(line, sizeof line, "load %s/les/../outside.npy", dir);
    cr_assert_eq(qs_lesson_access(l, line, path, sizeof path), QS_LESSON_FILES_READ);
    /* a link in the lesson's folder that points outside it is outside */
    snprintf(link, sizeof link, "%s/les/link.npy", dir);
    cr_assert_eq(symlink("/etc/hostname", link), 0);
    snprintf(line, sizeof line, "load %s", link);
    cr_assert_eq(qs_lesson_access(l, line, path, sizeof path), QS_LESSON_FILES_READ);
    qs_lesson_free(l);
    rmscratch();
}

Test(sandbox, an_undeclared_write_refuses_the_lesson_and_runs_nothing)
{
    qs_lesson *l = NULL;
    qs_err err = {{0}};
    cr_assert_eq(qs_lesson_parse("title: t\n\n> values 1 2\n> save /tmp/qscope_sec_never\n",
                                 "t.lesson", &l, &err), QS_OK, "%s", err.msg);
    qs_lesson_use *u = NULL;
    int n = 0;
    cr_assert_eq(qs_lesson_uses(l, &u, &n, &err), QS_ERR);
    cr_assert_not_null(strstr(err.msg, "t.lesson:4: 'save' writes files"), "%s", err.msg);
    /* played anyway (a face that skips the check): the player refuses the command itself */
    qs_session s;
    qs_session_init(&s);
    qs_lesson_player p;
    qs_lesson_player_init(&p, &s, l);
    qs_lesson_event ev;
    cr_assert_eq(qs_lesson_next(&p, &ev, &err), QS_OK, "%s", err.msg);
    cr_assert_eq(qs_lesson_next(&p, &ev, &err), QS_ERR);
    cr_assert_not_null(strstr(err.msg, "refused"), "%s", err.msg);
    cr_assert_eq(access("/tmp/qscope_sec_never", F_OK), -1);
    qs_lesson_player_fini(&p);
    qs_session_fini(&s);
}

Test(sandbox, a_declared_write_runs_only_once_allowed)
{
    qs_lesson *l = NULL;
    qs_err err = {{0}};
    char text[PATH_MAX + 128], path[PATH_MAX + 32];
    mkscratch();
    snprintf(path, sizeof path, "%s/out.qs", dir);
    snprintf(text, sizeof text, "title: t\nfiles: write\n\n> values 1 2\n> save %s\n", path);
    cr_assert_eq(qs_lesson_parse(text, "t.lesson", &l, &err), QS_OK, "%s", err.msg);
    qs_lesson_use *u = NULL;
    int n = 0;
    cr_assert_eq(qs_lesson_uses(l, &u, &n, &err), QS_OK, "%s", err.msg);
    cr_assert_eq(n, 1);
    cr_assert_eq(u[0].line, 5);
    cr_assert_eq(u[0].what, QS_LESSON_FILES_WRITE);
    cr_assert_str_eq(u[0].path, path);
    qs_lesson_uses_free(u, n);
    qs_session s;
    qs_session_init(&s);
    qs_lesson_player p;
    qs_lesson_player_init(&p, &s, l);
    qs_lesson_event ev;
    cr_assert_eq(qs_lesson_next(&p, &ev, &err), QS_OK);
    cr_assert_eq(qs_lesson_next(&p, &ev, &err), QS_ERR, "not allowed yet");
    cr_assert_eq(access(path, F_OK), -1);
    qs_lesson_goto(&p, 0, &err);
    p.files_ok = 1;
    cr_assert_eq(qs_lesson_next(&p, &ev, &err), QS_OK);
    cr_assert_eq(qs_lesson_next(&p, &ev, &err), QS_OK, "%s", err.msg);
    cr_assert_eq(access(path, F_OK), 0);
    qs_lesson_player_fini(&p);
    qs_session_fini(&s);
    rmscratch();
}

Test(sandbox, commands_check_the_session_sandbox_where_they_touch_files)
{
    mkscratch();
    qs_session s;
    qs_err err = {{0}};
    char root[PATH_MAX], line[PATH_MAX * 2], out[PATH_MAX + 32];
    cr_assert_not_null(realpath(dir, root));
    qs_session_init(&s);
    qs_sandbox sb = {0, {root, NULL}};
    s.sandbox = &sb;
    json_t *res = NULL;
    snprintf(out, sizeof out, "%s/w.npy", dir);
    snprintf(line, sizeof line, "values 1 2 3");
    cr_assert_eq(qs_cmd_run_line(&s, line, &res, NULL, &err), QS_OK, "%s", err.msg);
    json_decref(res);
    snprintf(line, sizeof line, "export %s", out);
    cr_assert_eq(qs_cmd_run_line(&s, line, &res, NULL, &err), QS_ERR);
    cr_assert_not_null(strstr(err.msg, "export: refused"), "%s", err.msg);
    snprintf(line, sizeof line, "save %s/s.qs", dir);
    cr_assert_eq(qs_cmd_run_line(&s, line, &res, NULL, &err), QS_ERR);
    cr_assert_not_null(strstr(err.msg, "save: refused"), "%s", err.msg);
    cr_assert_eq(qs_cmd_run_line(&s, "lab save digits", &res, NULL, &err), QS_ERR);
    cr_assert_not_null(strstr(err.msg, "lab save: refused"), "%s", err.msg);
    cr_assert_eq(qs_cmd_run_line(&s, "load /etc/hostname", &res, NULL, &err), QS_ERR);
    cr_assert_not_null(strstr(err.msg, "load: refused"), "%s", err.msg);
    cr_assert_eq(access(out, F_OK), -1);
    sb.allow = QS_SANDBOX_WRITE | QS_SANDBOX_READ;
    snprintf(line, sizeof line, "export %s", out);
    cr_assert_eq(qs_cmd_run_line(&s, line, &res, NULL, &err), QS_OK, "%s", err.msg);
    json_decref(res);
    cr_assert_eq(access(out, F_OK), 0);
    s.sandbox = NULL;
    qs_session_fini(&s);
    rmscratch();
}

/* ---- bounded and cancellable loads; a killed write -------------------------------------- */

Test(loads, a_sharded_index_open_stops_when_cancelled)
{
    volatile sig_atomic_t cancel = 1;
    qs_file *f = NULL;
    qs_err err = {{0}};
    const char *shards = "tests/fixtures/shards";     /* tests run from the top folder */
    cr_assert_eq(qs_file_open_cancel(shards, &cancel, &f, &err), QS_CANCELLED, "%s",
                 err.msg);
    cr_assert_null(f);
    cancel = 0;
    cr_assert_eq(qs_file_open_cancel(shards, &cancel, &f, &err), QS_OK, "%s", err.msg);
    cr_assert_eq(f->n, 3);
    qs_file_close(f);
}

static void on_xfsz(int sig)
{
    (void)sig;
    qs_io_write_cleanup();      /* what the faces' SIGINT / SIGTERM handlers do */
    _exit(3);
}

Test(writer, a_write_killed_half_way_leaves_no_temp_file)
{
    mkscratch();
    char p[PATH_MAX + 32], cmd[PATH_MAX + 64];
    snprintf(p, sizeof p, "%s/big.safetensors", dir);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        /* a file size limit makes the kernel signal the writer half-way (SIGXFSZ), as a
         * Ctrl-C or a kill would arrive */
        struct rlimit rl = {65536, 65536};
        signal(SIGXFSZ, on_xfsz);
        setrlimit(RLIMIT_FSIZE, &rl);
        size_t n = 1 << 20;
        char *buf = calloc(1, n);
        qs_err err = {{0}};
        qs_io_write_file("export", p, buf, n, 0, &err);
        _exit(0);               /* not reached: the signal comes first */
    }
    int st = 0;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 3, "the writer was not signalled (%d)", st);
    snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -q .", dir);
    cr_assert_neq(system(cmd), 0, "a temp file or a partial target was left");
    rmscratch();
}
