/* test_strict.c — `lesson check --strict` (src/lesson/strict.c, issue 15): a narration
 * number must be backed, within its written precision, by an expect, a command line or a
 * printed result of its own step; {…} exempts a prose number and is not shown. Also the
 * derive note for +amax under PyTorch's 127.5 divisor (inside the range, clamped). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qscope/cmd.h"
#include "qscope/kernels.h"
#include "qscope/lesson.h"

static void init(void) { qs_kernels_init(); }
TestSuite(strict, .init = init);

/* Writes a lesson to a temporary file and runs the strict check; returns the report (NULL
 * when the lesson did not play) and the unbacked numbers joined as "LINE:NUMBER ...". */
static json_t *check(const char *body, char *list, size_t len)
{
    char path[] = "/tmp/qs_strictXXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "title: strict test\n\n%s", body);
    fclose(f);
    json_t *rep = NULL;
    qs_err err = {{0}};
    int rc = qs_lesson_strict(path, &rep, &err);
    unlink(path);
    list[0] = '\0';
    if (rc != QS_OK) return NULL;
    size_t i, used = 0;
    json_t *u;
    json_array_foreach(json_object_get(rep, "unbacked"), i, u) {
        int w = snprintf(list + used, len - used, "%s%lld:%s", used ? " " : "",
                         (long long)json_integer_value(json_object_get(u, "line")),
                         json_string_value(json_object_get(u, "number")));
        if (w > 0) used += (size_t)w;
    }
    return rep;
}

Test(strict, backed_numbers_pass)
{
    char l[512];
    json_t *r = check("## Three values\n"
                      "The values 1, 2 and 3 have a mean of 2.0 and a maximum of 3.\n"
                      "> values 1 2 3\n> stats\nexpect mean == 2\n", l, sizeof l);
    cr_assert_not_null(r);
    cr_expect_str_eq(l, "");
    cr_expect(json_is_true(json_object_get(r, "ok")));
    cr_expect_eq(json_integer_value(json_object_get(r, "numbers")), 5);
    json_decref(r);
}

Test(strict, a_wrong_number_is_named_with_its_line)
{
    char l[512];
    json_t *r = check("The mean is 2.5.\n> values 1 2 3\n> stats\n", l, sizeof l);
    cr_assert_not_null(r);
    cr_expect_str_eq(l, "3:2.5");
    cr_expect(json_is_false(json_object_get(r, "ok")));
    json_decref(r);
}

Test(strict, precision_is_the_written_one)
{
    char l[512];
    /* max 3: "about 3" holds, "3.1" (3.05..3.15) does not, nor "4" */
    json_t *r = check("About 3, not 3.1 and not 4.\n> values 1 2 3\n> stats\n", l, sizeof l);
    cr_expect_str_eq(l, "3:3.1 3:4");
    json_decref(r);
    /* percentages: 0.084% is a fraction of 0.00084; 8 points of 0.08 */
    r = check("0.084% clipped, about 8 points, not 9 points.\n"
              "> values 0.00084 0.08\n> stats\n", l, sizeof l);
    cr_expect_str_eq(l, "3:9");
    json_decref(r);
}

Test(strict, only_the_same_step_backs)
{
    char l[512];
    json_t *r = check("> values 7 8\n> stats\n---\nThe maximum was 8.\n> values 1 2\n> stats\n",
                      l, sizeof l);
    cr_expect_str_eq(l, "6:8");
    json_decref(r);
}

Test(strict, names_and_marks_are_not_checked)
{
    char l[512];
    json_t *r = check("FP32, int8, Q4_0, E4M3, a 70B model, 8-bit weights, {2026} and {288 GB}.\n"
                      "## {1}. A heading\n> values 1\n> stats\n", l, sizeof l);
    cr_expect_str_eq(l, "");
    cr_expect_eq(json_integer_value(json_object_get(r, "exempt")), 3);
    json_decref(r);
    /* quizzes are narration too */
    r = check("> values 5\n> stats\n\nquiz: What is the maximum?\nanswer: 6\nhint: not 7\n", l,
              sizeof l);
    cr_expect_str_eq(l, "7:6 8:7");
    json_decref(r);
}

Test(strict, expect_values_and_commands_back)
{
    char l[512];
    /* 250 from the command line, 64 from the expect, 63.75 from the printed steps */
    json_t *r = check("250 becomes 63.75, then code 64.\n"
                      "> values 0 250 1000\n> scheme uint8 asym\n> derive 250\n"
                      "expect code == 64\n", l, sizeof l);
    cr_expect_str_eq(l, "");
    json_decref(r);
}

Test(strict, a_lesson_that_does_not_play_fails)
{
    char l[512];
    json_t *r = check("> values 1 2 3\n> stats\nexpect mean == 5\n", l, sizeof l);
    cr_expect_null(r);
}

Test(strict, the_marker_is_not_shown)
{
    qs_lesson *les = NULL;
    qs_err err = {{0}};
    cr_assert_eq(qs_lesson_parse("title: t\n\n## {1}. Heading\nIn {2026}, {x} and {a {1} {b}.\n"
                                 "> values 1\nquiz: Year {2026}?\nanswer: {2026} | now\n"
                                 "hint: after {2025}\n", "t", &les, &err), QS_OK, "%s",
                 err.msg);
    const qs_lesson_step *st = &les->steps[0];
    cr_expect_str_eq(st->items[0].text, "1. Heading");
    cr_expect_str_eq(st->items[1].text, "In 2026, {x} and {a 1 {b}.");
    cr_expect_str_eq(st->items[3].quiz.question, "Year 2026?");
    cr_expect_str_eq(st->items[3].quiz.answers[0], "2026");
    cr_expect_str_eq(st->items[3].quiz.hint, "after 2025");
    qs_lesson_free(les);
}

/* derive: +amax under PyTorch's 127.5 divisor lies inside the range; it is clamped because
 * 127.5 rounds to 128 (the note used to say "outside the clip range") */
Test(strict, derive_amax_is_inside_the_range)
{
    qs_session s;
    qs_session_init(&s);
    json_t *o = NULL;
    qs_err err = {{0}};
    cr_assert_eq(qs_cmd_run_line(&s, "values -1000 250 1000", &o, NULL, &err), QS_OK);
    json_decref(o);
    cr_assert_eq(qs_cmd_run_line(&s, "scheme int8 sym", &o, NULL, &err), QS_OK);
    json_decref(o);
    cr_assert_eq(qs_cmd_run_line(&s, "derive index=2", &o, NULL, &err), QS_OK, "%s", err.msg);
    char *d = json_dumps(o, 0);
    cr_expect(strstr(d, "outside the clip range") == NULL, "%s", d);
    cr_expect(strstr(d, "lies inside the range") != NULL, "%s", d);
    free(d);
    json_decref(o);
    cr_assert_eq(qs_cmd_run_line(&s, "derive 2000", &o, NULL, &err), QS_OK, "%s", err.msg);
    d = json_dumps(o, 0);
    cr_expect(strstr(d, "outside the clip range") != NULL, "%s", d);
    free(d);
    json_decref(o);
    qs_session_fini(&s);
}
