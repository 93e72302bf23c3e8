/* test_script.c — the library's one runner (qscope/script.h), which `qscope -c`, script files,
 * the REPL and the TUI's `source` all go through: long lines (the TUI's old runner cut them at
 * 4095 bytes), NUL bytes refused, CRLF, the nesting limit of `source`, quit, face operations,
 * and qs_cmd_query running without recording. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qscope/script.h"

typedef struct seen {
    int results, errors;
    char last_err[1200];
    json_t *last;
} seen;

static void on_result(qs_script *r, const qs_cmd *cmd, json_t *res, const char *line)
{
    seen *s = r->ctx;
    (void)cmd; (void)line;
    s->results++;
    json_decref(s->last);
    s->last = json_incref(res);
}

static void on_error(qs_script *r, const char *where, const char *msg, int rc)
{
    seen *s = r->ctx;
    (void)rc;
    s->errors++;
    snprintf(s->last_err, sizeof s->last_err, "%s: %s", where ? where : "-", msg);
}

static char *tmpfile_with(const char *data, size_t len)
{
    char *path = strdup("/tmp/qscope_script_XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, data, len), (ssize_t)len);
    close(fd);
    return path;
}

Test(script, long_lines_nul_crlf_and_quit)
{
    qs_session s;
    qs_session_init(&s);
    seen v = {0};
    qs_script r = { .s = &s, .stop_on_error = 1, .result = on_result, .error = on_error,
                    .ctx = &v };
    /* a 5600-byte line: 1400 values */
    size_t cap = 16 + 6 * 1400;
    char *line = malloc(cap), *p = line;
    cr_assert_not_null(line);
    p += sprintf(p, "values");
    for (int i = 0; i < 1400; i++) p += sprintf(p, " %d.5", i % 10);
    cr_assert_gt(strlen(line), 4096);
    char *text = malloc(strlen(line) + 64);
    cr_assert_not_null(text);
    sprintf(text, "%s\r\nstats\nquit\nstats\n", line);
    char *path = tmpfile_with(text, strlen(text));
    cr_assert_eq(qs_script_file(&r, path, 0, NULL), QS_OK, "%s", v.last_err);
    cr_assert_eq(v.errors, 0);
    cr_assert_eq(v.results, 2, "values and stats ran, nothing after quit");
    cr_assert(r.quit);
    cr_assert_eq(json_integer_value(json_object_get(v.last, "n")), 1400);
    unlink(path);
    free(path);
    /* NUL bytes: refused as a whole */
    static const char nul[] = "stats\n\0values 1\n";
    path = tmpfile_with(nul, sizeof nul - 1);
    qs_script r2 = r;
    r2.quit = 0;
    cr_assert_eq(qs_script_file(&r2, path, 0, NULL), QS_ERR);
    cr_assert(strstr(v.last_err, "contains NUL bytes"), "%s", v.last_err);
    unlink(path);
    free(path);
    free(line);
    free(text);
    json_decref(v.last);
    qs_session_fini(&s);
}

Test(script, source_nesting_limit_and_where)
{
    qs_session s;
    qs_session_init(&s);
    seen v = {0};
    qs_script r = { .s = &s, .stop_on_error = 1, .result = on_result, .error = on_error,
                    .ctx = &v };
    char *self = strdup("/tmp/qscope_self_XXXXXX");
    int fd = mkstemp(self);
    cr_assert_geq(fd, 0);
    dprintf(fd, "# sources itself\nsource %s\n", self);
    close(fd);
    char line[200];
    snprintf(line, sizeof line, "source %s", self);
    cr_assert_eq(qs_script_line(&r, line, NULL), QS_ERR);
    cr_assert(strstr(v.last_err, "nested too deeply"), "%s", v.last_err);
    char where[128];
    snprintf(where, sizeof where, "%s:2: ", self);
    cr_assert(strstr(v.last_err, where), "the error names FILE:LINE: %s", v.last_err);
    cr_assert_eq(s.source_depth, 0);
    unlink(self);
    free(self);
    json_decref(v.last);
    qs_session_fini(&s);
}

static int op_calls;
static int op_play(qs_script *r, int argc, char **argv)
{
    (void)r; (void)argv;
    if (argc < 3) return 1;
    op_calls++;
    return QS_OK;
}

Test(script, face_operations_and_unrecorded_queries)
{
    qs_session s;
    qs_session_init(&s);
    seen v = {0};
    static const qs_face_op ops[] = { { "lesson play", op_play }, { 0 } };
    qs_script r = { .s = &s, .result = on_result, .error = on_error, .ops = ops, .ctx = &v };
    cr_assert_eq(qs_script_line(&r, "lesson play 01", NULL), QS_OK);
    cr_assert_eq(op_calls, 1, "the face ran it");
    cr_assert_eq(s.nhistory, 1);
    cr_assert_eq(qs_script_line(&r, "lesson play", NULL), QS_ERR, "the row's own usage error");
    cr_assert(strstr(v.last_err, "lesson play"), "%s", v.last_err);
    cr_assert_eq(op_calls, 1);
    /* a query runs the row but records nothing */
    json_t *out = NULL;
    qs_err err = {{0}};
    cr_assert_eq(qs_script_line(&r, "values 1 2 3", NULL), QS_OK);
    int nh = s.nhistory;
    json_t *last = s.last;
    cr_assert_eq(qs_cmd_query(&s, "stats", &out, NULL, &err), QS_OK, "%s", err.msg);
    cr_assert_eq(json_integer_value(json_object_get(out, "n")), 3);
    cr_assert_eq(s.nhistory, nh);
    cr_assert_eq(s.last, last);
    json_decref(out);
    json_decref(v.last);
    qs_session_fini(&s);
}
