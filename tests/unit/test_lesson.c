/* test_lesson.c — Criterion tests of src/lesson: the lesson parser (every construct, errors
 * with their line numbers), `expect` evaluation (each operator, tolerances, paths, missing
 * keys), quiz answer matching, wrapping, the search path and the player on a real session. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qscope/kernels.h"
#include "qscope/lesson.h"

static qs_lesson *parse_ok(const char *text)
{
    qs_lesson *l = NULL;
    qs_err e = {{0}};
    int rc = qs_lesson_parse(text, "t.lesson", &l, &e);
    cr_assert_eq(rc, QS_OK, "parse failed: %s", e.msg);
    cr_assert_not_null(l);
    return l;
}

/* Parses text that must fail; checks the message starts with "t.lesson:LINE: " and contains
 * `needle`. */
static void parse_bad(const char *text, int line, const char *needle)
{
    qs_lesson *l = NULL;
    qs_err e = {{0}};
    char prefix[64];
    int rc = qs_lesson_parse(text, "t.lesson", &l, &e);
    cr_assert_eq(rc, QS_ERR, "expected an error containing '%s'", needle);
    cr_assert_null(l);
    snprintf(prefix, sizeof prefix, "t.lesson:%d: ", line);
    cr_assert(strncmp(e.msg, prefix, strlen(prefix)) == 0, "want prefix '%s', got '%s'",
              prefix, e.msg);
    cr_assert(strstr(e.msg, needle) != NULL, "want '%s' in '%s'", needle, e.msg);
}

/* ---- parser ------------------------------------------------------------------------------ */

static const char FULL[] =
    "# a comment before the title\n"            /* 1 */
    "title: Asymmetric quantization\n"          /* 2 */
    "level: beginner\n"                         /* 3 */
    "delay: 2.5s\n"                             /* 4 */
    "author: A. Teacher\n"                      /* 5 */
    "summary: The seed example.\n"              /* 6 */
    "\n"                                        /* 7 */
    "## A skewed range\n"                       /* 8 */
    "The range is *skewed*:\n"                  /* 9 */
    "it runs from -20 to 1000.\n"               /* 10 */
    "\n"                                        /* 11 */
    "    scale = (max - min) / 255\n"           /* 12 */
    "      = 4.0\n"                             /* 13 */
    "> values -20 1000\n"                       /* 14 */
    "expect n == 2\n"                           /* 15 */
    "expect max >= 999.5 tol=1%\n"              /* 16 */
    "@screen derive\n"                          /* 17 */
    "@highlight zero_point\n"                   /* 18 */
    "# a comment in the body\n"                 /* 19 */
    "---\n"                                     /* 20 */
    "@delay 6s\n"                               /* 21 */
    "quiz: What is the zero point\n"            /* 22 */
    "of this example?\n"                        /* 23 */
    "answer: 5 | five\n"                        /* 24 */
    "answer: +5\n"                              /* 25 */
    "hint: Where does 0.0 land?\n"              /* 26 */
    "\\> not a command\n"                       /* 27 */
    "@pause\n"                                  /* 28 */
    "---\n";                                    /* 29 */

Test(parse, every_construct)
{
    qs_lesson *l = parse_ok(FULL);
    cr_assert_str_eq(l->title, "Asymmetric quantization");
    cr_assert_str_eq(l->level, "beginner");
    cr_assert_str_eq(l->author, "A. Teacher");
    cr_assert_str_eq(l->summary, "The seed example.");
    cr_assert_str_eq(l->name, "t");
    cr_assert_eq(l->delay_ms, 2500);
    cr_assert_eq(l->nsteps, 2);

    const qs_lesson_step *s0 = &l->steps[0];
    cr_assert_eq(s0->nitems, 8);
    cr_assert_eq(s0->delay_ms, 2500);
    cr_assert_eq(s0->line, 8);
    cr_assert_eq(s0->items[0].kind, QS_LI_HEADING);
    cr_assert_str_eq(s0->items[0].text, "A skewed range");
    cr_assert_eq(s0->items[1].kind, QS_LI_TEXT);
    cr_assert_str_eq(s0->items[1].text, "The range is *skewed*: it runs from -20 to 1000.");
    cr_assert_eq(s0->items[1].line, 9);
    cr_assert_eq(s0->items[1].preformatted, 0);
    cr_assert_eq(s0->items[2].kind, QS_LI_TEXT);
    cr_assert_eq(s0->items[2].preformatted, 1);
    cr_assert_str_eq(s0->items[2].text, "scale = (max - min) / 255\n  = 4.0");
    cr_assert_eq(s0->items[3].kind, QS_LI_CMD);
    cr_assert_str_eq(s0->items[3].text, "values -20 1000");
    cr_assert_eq(s0->items[3].line, 14);
    cr_assert_eq(s0->items[4].kind, QS_LI_EXPECT);
    cr_assert_str_eq(s0->items[4].expect.key, "n");
    cr_assert_eq(s0->items[4].expect.op, QS_OP_EQ);
    cr_assert_eq(s0->items[4].expect.num, 2.0);
    cr_assert_eq(s0->items[4].expect.tol_given, 0);
    cr_assert_eq(s0->items[5].expect.op, QS_OP_GE);
    cr_assert_eq(s0->items[5].expect.tol_rel, 1);
    cr_assert_float_eq(s0->items[5].expect.tol, 0.01, 1e-15);
    cr_assert_eq(s0->items[6].kind, QS_LI_DIRECTIVE);
    cr_assert_str_eq(s0->items[6].text, "screen");
    cr_assert_str_eq(s0->items[6].arg, "derive");
    cr_assert_str_eq(s0->items[7].text, "highlight");
    cr_assert_str_eq(s0->items[7].arg, "zero_point");

    const qs_lesson_step *s1 = &l->steps[1];
    cr_assert_eq(s1->delay_ms, 6000);
    cr_assert_eq(s1->nitems, 4);
    cr_assert_eq(s1->items[0].kind, QS_LI_DIRECTIVE);
    cr_assert_str_eq(s1->items[0].text, "delay");
    const qs_lesson_item *q = &s1->items[1];
    cr_assert_eq(q->kind, QS_LI_QUIZ);
    cr_assert_eq(q->line, 22);
    cr_assert_str_eq(q->quiz.question, "What is the zero point of this example?");
    cr_assert_eq(q->quiz.nanswers, 3);
    cr_assert_str_eq(q->quiz.answers[0], "5");
    cr_assert_str_eq(q->quiz.answers[1], "five");
    cr_assert_str_eq(q->quiz.answers[2], "+5");
    cr_assert_null(q->quiz.answers[3]);
    cr_assert_str_eq(q->quiz.hint, "Where does 0.0 land?");
    cr_assert_eq(s1->items[2].kind, QS_LI_TEXT);
    cr_assert_str_eq(s1->items[2].text, "> not a command");
    cr_assert_eq(s1->items[3].kind, QS_LI_DIRECTIVE);
    cr_assert_str_eq(s1->items[3].text, "pause");
    cr_assert_null(s1->items[3].arg);

    cr_assert_eq(qs_lesson_count(l, QS_LI_CMD), 1);
    cr_assert_eq(qs_lesson_count(l, QS_LI_EXPECT), 2);
    cr_assert_eq(qs_lesson_count(l, QS_LI_QUIZ), 1);
    qs_lesson_free(l);
}

Test(parse, defaults_crlf_and_bom)
{
    qs_lesson *l = parse_ok("\xEF\xBB\xBFtitle: T\r\n\r\nJust text.\r\n");
    cr_assert_str_eq(l->title, "T");
    cr_assert_null(l->level);
    cr_assert_eq(l->delay_ms, 4000);
    cr_assert_eq(l->nsteps, 1);
    cr_assert_str_eq(l->steps[0].items[0].text, "Just text.");
    qs_lesson_free(l);
}

Test(parse, last_line_without_newline)
{
    /* trailing spaces on a last line without '\n' once made the parser loop forever */
    qs_lesson *l = parse_ok("title: T\n\nText.  ");
    cr_assert_str_eq(l->steps[0].items[0].text, "Text.");
    qs_lesson_free(l);
}

Test(parse, delays)
{
    qs_lesson *l = parse_ok("title: T\ndelay: 500ms\n\nx\n---\n@delay 3\ny\n");
    cr_assert_eq(l->delay_ms, 500);
    cr_assert_eq(l->steps[0].delay_ms, 500);
    cr_assert_eq(l->steps[1].delay_ms, 3000);
    qs_lesson_free(l);
}

Test(parse, errors_name_their_line)
{
    parse_bad("", 1, "title:");
    parse_bad("Hello\n", 1, "title:");
    parse_bad("title: T\nlevel: x\nfoo: bar\n", 3, "unknown metadata 'foo:'");
    parse_bad("title: T\ntitle: U\n", 2, "given twice");
    parse_bad("title: T\ndelay: soon\n", 2, "not a delay");
    parse_bad("title:\n", 1, "without a value");
    parse_bad("title: T\n\nText.\n> frobnicate 3\n", 4, "unknown command 'frobnicate'");
    parse_bad("title: T\n\n> valeus 1 2\n", 3, "did you mean 'values'");
    parse_bad("title: T\n\n> values 'open\n", 3, "unbalanced single quote");
    parse_bad("title: T\n\n>\n", 3, "empty command");
    parse_bad("title: T\n\n> quit\n", 3, "cannot be used inside a lesson");
    parse_bad("title: T\n\n> lesson list\n", 3, "cannot be used inside a lesson");
    parse_bad("title: T\n\nexpect scale == 4\n", 3, "expect before any command");
    parse_bad("title: T\n\n> values 1\nexpect n =< 4\n", 4, "unknown operator '=<'");
    parse_bad("title: T\n\n> values 1\nexpect n ==\n", 4, "usage");
    parse_bad("title: T\n\n> values 1\nexpect n == 1 2\n", 4, "only tol=T");
    parse_bad("title: T\n\n> values 1\nexpect n == 1 tol=x\n", 4, "not a non-negative");
    parse_bad("title: T\n\n> values 1\nexpect n < abc\n", 4, "compares numbers only");
    parse_bad("title: T\n\n> values 1\nexpect n == 1 extra stuff\n", 4, "unexpected");
    parse_bad("title: T\n\nquiz: Why?\nhint: because\n\nMore.\n", 3, "without an 'answer:'");
    parse_bad("title: T\n\nquiz: Why?\n", 3, "without an 'answer:'");
    parse_bad("title: T\n\nquiz:\n", 3, "quiz without a question");
    parse_bad("title: T\n\nText.\nanswer: 4\n", 4, "outside a quiz");
    parse_bad("title: T\n\nhint: 4\n", 3, "outside a quiz");
    parse_bad("title: T\n\nquiz: Q?\nanswer: a ||\n", 4, "empty answer");
    parse_bad("title: T\n\n@zoom 3\n", 3, "unknown directive '@zoom'");
    parse_bad("title: T\n\n@screen kitchen\n", 3, "unknown screen 'kitchen'");
    parse_bad("title: T\n\n@highlight\n", 3, "@highlight needs");
    parse_bad("title: T\n\n@screen 7\n", 3,
              "@screen: unknown screen '7' (data, derive, bits, error, lab, lesson or 1-6)");
    parse_bad("title: T\n\n## A\n@highlight zero_piont\n", 4,
              "@highlight: unknown element 'zero_piont' (scale, zero_point, per_channel, steps, "
              "activations, sign, exponent, mantissa, bits_per_param)");
    parse_bad("title: T\n\n@highlight Scale\n", 3, "unknown element 'Scale'");
    parse_bad("title: T\n\n@delay later\n", 3, "not a delay");
    parse_bad("title: T\n\n@pause now\n", 3, "takes no argument");
    parse_bad("title: T\n\nA.\n---\n---\nB.\n", 5, "empty step");
    parse_bad("title: T\n\n##\n", 3, "empty heading");
    parse_bad("title: T\n\n---\n", 3, "no steps");
}

Test(parse, load_reports_missing_file)
{
    qs_lesson *l = NULL;
    qs_err e = {{0}};
    cr_assert_eq(qs_lesson_load("/nonexistent/x.lesson", &l, &e), QS_ERR);
    cr_assert(strstr(e.msg, "/nonexistent/x.lesson: ") == e.msg, "%s", e.msg);
}

/* ---- expect ------------------------------------------------------------------------------ */

static json_t *RES;

static void res_init(void)
{
    json_error_t je;
    RES = json_loads("{\"scale\":[4.0],\"zero_point\":[5],\"qmin\":0,\"qmax\":255,"
                     "\"codes\":[0,64,255],\"format\":\"fp32\",\"hex\":\"0x40EA3D71\","
                     "\"exact\":true,\"nothing\":null,\"mse\":0.00123456,"
                     "\"percentiles\":{\"p99\":2.5,\"p99.9\":3.25},"
                     "\"rows\":[{\"bits\":2,\"acc\":0.5,\"name\":\"minmax\"},"
                     "{\"bits\":4,\"acc\":0.93,\"name\":\"mse\"}],"
                     "\"nested\":{\"inner\":{\"v\":[1,[2,3]]}},"
                     "\"steps\":[{\"title\":\"multiply by 1/s\",\"value\":63.75}]}", 0, &je);
    cr_assert_not_null(RES, "%s", je.text);
}

static void res_fini(void)
{
    json_decref(RES);
}

/* Evaluates "KEY OP VALUE [tol=T]" against RES. */
static int ev(const char *text)
{
    qs_expect e;
    qs_err err = {{0}};
    char msg[1024];
    cr_assert_eq(qs_expect_parse(text, &e, &err), QS_OK, "%s: %s", text, err.msg);
    int r = qs_expect_eval(RES, &e, msg, sizeof msg);
    qs_expect_fini(&e);
    return r;
}

TestSuite(expect, .init = res_init, .fini = res_fini);

/* --json writes +Inf, -Inf and NaN as the strings "inf", "-inf", "nan" (issue 15); a result
 * built by qs_json_real round-trips through expect as numbers, each distinct. */
Test(expect, inf_and_nan_results)
{
    json_t *r = json_object();
    qs_json_set_real(r, "pinf", INFINITY);
    qs_json_set_real(r, "ninf", -INFINITY);
    qs_json_set_real(r, "nan", NAN);
    qs_json_set_real(r, "one", 1.0);
    cr_assert_str_eq(json_string_value(json_object_get(r, "pinf")), "inf");
    cr_assert_str_eq(json_string_value(json_object_get(r, "ninf")), "-inf");
    cr_assert_str_eq(json_string_value(json_object_get(r, "nan")), "nan");
    json_t *keep = RES;
    RES = r;
    cr_expect_eq(ev("pinf == inf"), 1);
    cr_expect_eq(ev("pinf == -inf"), 0);
    cr_expect_eq(ev("pinf > 1e308"), 1);
    cr_expect_eq(ev("ninf == -inf"), 1);
    cr_expect_eq(ev("ninf != inf"), 1);
    cr_expect_eq(ev("ninf < -1e308"), 1);
    cr_expect_eq(ev("nan == nan"), 1);
    cr_expect_eq(ev("nan != nan"), 0);
    cr_expect_eq(ev("nan == inf"), 0);
    cr_expect_eq(ev("nan == 0"), 0);
    cr_expect_eq(ev("nan < 1"), 0);
    cr_expect_eq(ev("nan >= 1"), 0);
    cr_expect_eq(ev("one == nan"), 0);
    cr_expect_eq(ev("one == inf"), 0);
    cr_expect_eq(ev("one == 1"), 1);
    RES = keep;
    json_decref(r);
}

Test(expect, operators)
{
    cr_assert_eq(ev("qmax == 255"), 1);
    cr_assert_eq(ev("qmax == 254"), 0);
    cr_assert_eq(ev("qmax != 254"), 1);
    cr_assert_eq(ev("qmax != 255"), 0);
    cr_assert_eq(ev("qmax < 256"), 1);
    cr_assert_eq(ev("qmax < 255"), 0);
    cr_assert_eq(ev("qmax <= 255"), 1);
    cr_assert_eq(ev("qmax <= 254.9"), 0);
    cr_assert_eq(ev("qmax > 254"), 1);
    cr_assert_eq(ev("qmax > 255"), 0);
    cr_assert_eq(ev("qmax >= 255"), 1);
    cr_assert_eq(ev("qmax >= 255.1"), 0);
}

Test(expect, tolerances)
{
    /* default: half a unit of the last digit written */
    cr_assert_eq(ev("mse == 0.00123"), 1);
    cr_assert_eq(ev("mse == 0.001235"), 1);
    cr_assert_eq(ev("mse == 0.0012345"), 0);     /* 0.00123456 is 0.0012346 to 7 places */
    cr_assert_eq(ev("mse == 0.0012346"), 1);
    cr_assert_eq(ev("mse == 1.2e-3"), 1);
    cr_assert_eq(ev("mse == 1.3e-3"), 0);
    cr_assert_eq(ev("qmax == 2.6e2"), 1);        /* 255 rounds to 2.6e2 */
    /* explicit absolute and relative */
    cr_assert_eq(ev("mse == 0.001 tol=0.0003"), 1);
    cr_assert_eq(ev("mse == 0.001 tol=0.0002"), 0);
    cr_assert_eq(ev("qmax == 250 tol=2%"), 1);   /* |255-250| = 5 <= 0.02*250 */
    cr_assert_eq(ev("qmax == 250 tol=1%"), 0);
    cr_assert_eq(ev("qmax == 255 tol=0"), 1);
    cr_assert_eq(ev("mse != 0.0012 tol=0"), 1);
    /* ordering ignores tol */
    cr_assert_eq(ev("qmax < 255 tol=10"), 0);
}

Test(expect, paths)
{
    cr_assert_eq(ev("scale == 4.0"), 1);              /* one-element array */
    cr_assert_eq(ev("zero_point == 5"), 1);
    cr_assert_eq(ev("codes[1] == 64"), 1);
    cr_assert_eq(ev("codes[-1] == 255"), 1);
    cr_assert_eq(ev("codes[0] == 0"), 1);
    cr_assert_eq(ev("percentiles.p99 == 2.5"), 1);
    cr_assert_eq(ev("percentiles.p99.9 == 3.25"), 1); /* a key with a dot in it */
    cr_assert_eq(ev("rows[bits=4].acc > 0.9"), 1);
    cr_assert_eq(ev("rows[name=minmax].acc == 0.5"), 1);
    cr_assert_eq(ev("rows[1].name == mse"), 1);
    cr_assert_eq(ev("nested.inner.v[1][0] == 2"), 1);
    cr_assert_eq(ev("nested.inner.v[-1][-1] == 3"), 1);
    cr_assert_eq(ev("steps[title=multiply by 1/s].value == 63.75"), 1);   /* spaces */
    cr_assert_eq(ev("\"steps[title=multiply by 1/s].value\" == 63.75"), 1); /* quoted */
    cr_assert_eq(ev("steps[title=multiply by 1/s].value == 63.7 tol=0"), 0);
}

Test(expect, missing_and_wrong_types)
{
    cr_assert_eq(ev("scales == 4"), -1);
    cr_assert_eq(ev("codes == 64"), -1);             /* three values: needs an index */
    cr_assert_eq(ev("codes[3] == 1"), -1);
    cr_assert_eq(ev("codes[x] == 1"), -1);
    cr_assert_eq(ev("rows[bits=3].acc == 1"), -1);
    cr_assert_eq(ev("percentiles == 1"), -1);        /* an object */
    cr_assert_eq(ev("percentiles.p50 == 1"), -1);
    cr_assert_eq(ev("qmax.x == 1"), -1);
    cr_assert_eq(ev("qmax == abc"), -1);
    cr_assert_eq(ev("format == 32"), 0);             /* strings compare as written */

    qs_expect e;
    qs_err err = {{0}};
    char msg[1024];
    cr_assert_eq(qs_expect_parse("scales == 4", &e, &err), QS_OK);
    cr_assert_eq(qs_expect_eval(RES, &e, msg, sizeof msg), -1);
    cr_assert(strstr(msg, "no key 'scales'") != NULL, "%s", msg);
    cr_assert(strstr(msg, "scale") != NULL, "%s", msg);
    cr_assert_eq(qs_expect_eval(NULL, &e, msg, sizeof msg), -1);
    qs_expect_fini(&e);
}

Test(expect, strings_booleans_null)
{
    cr_assert_eq(ev("format == fp32"), 1);
    cr_assert_eq(ev("format == \"fp32\""), 1);
    cr_assert_eq(ev("format == FP32"), 0);
    cr_assert_eq(ev("format != fp16"), 1);
    cr_assert_eq(ev("hex == 0x40EA3D71"), 1);
    cr_assert_eq(ev("hex == 0x40ea3d71"), 0);
    cr_assert_eq(ev("exact == true"), 1);
    cr_assert_eq(ev("exact == false"), 0);
    cr_assert_eq(ev("exact != false"), 1);
    cr_assert_eq(ev("nothing == null"), 1);
    cr_assert_eq(ev("nothing != null"), 0);
    cr_assert_eq(ev("nothing == 3"), 0);
}

Test(expect, messages_show_the_value)
{
    qs_expect e;
    qs_err err = {{0}};
    char msg[1024];
    cr_assert_eq(qs_expect_parse("qmax == 254", &e, &err), QS_OK);
    cr_assert_eq(qs_expect_eval(RES, &e, msg, sizeof msg), 0);
    cr_assert(strstr(msg, "qmax = 255") != NULL, "%s", msg);
    qs_expect_fini(&e);
    cr_assert_str_eq(qs_op_str(QS_OP_LE), "<=");
}

/* ---- quizzes and wrapping ---------------------------------------------------------------- */

Test(quiz, matching)
{
    char *answers[] = {"Zero point", "5", "TensorFloat-32", NULL};
    qs_quiz q = {"Q?", answers, 3, NULL};
    cr_assert_eq(qs_quiz_check(&q, "zero point"), 1);
    cr_assert_eq(qs_quiz_check(&q, "  ZERO    Point. "), 1);
    cr_assert_eq(qs_quiz_check(&q, "zeropoint"), 0);
    cr_assert_eq(qs_quiz_check(&q, "5.0"), 1);
    cr_assert_eq(qs_quiz_check(&q, "+5"), 1);
    cr_assert_eq(qs_quiz_check(&q, "6"), 0);
    cr_assert_eq(qs_quiz_check(&q, "tensorfloat-32"), 1);
    cr_assert_eq(qs_quiz_check(&q, ""), 0);
    cr_assert_eq(qs_quiz_check(&q, NULL), 0);
}

Test(wrap, breaks_at_spaces)
{
    char *w = qs_lesson_wrap("aaa bbb ccc ddd", 11);
    cr_assert_str_eq(w, "aaa bbb ccc\nddd");
    free(w);
    w = qs_lesson_wrap("a  verylongwordthatdoesnotfit b", 10);
    cr_assert_str_eq(w, "a\nverylongwordthatdoesnotfit\nb");
    free(w);
    w = qs_lesson_wrap("één twee drie vier", 13);       /* counts characters, not bytes */
    cr_assert_str_eq(w, "één twee drie\nvier");
    free(w);
}

/* ---- search path ------------------------------------------------------------------------- */

Test(find, search_path_and_names)
{
    char dir[] = "/tmp/qs_lesson_testXXXXXX";
    char path[512], found[4096];
    qs_err e = {{0}};
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/07-calibration-test.lesson", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("title: Calibration test\nlevel: intermediate\n\nText.\n", f);
    fclose(f);
    char env[600];
    snprintf(env, sizeof env, "/nonexistent:%s", dir);
    setenv("QSCOPE_LESSON_PATH", env, 1);
    const char *names[] = {"07-calibration-test", "calibration-test", "07-calibration-test.lesson"};
    for (size_t i = 0; i < 3; i++) {
        cr_assert_eq(qs_lesson_find(names[i], found, sizeof found, &e), QS_OK, "%s: %s",
                     names[i], e.msg);
        cr_assert_str_eq(found, path);
    }
    cr_assert_eq(qs_lesson_find(path, found, sizeof found, &e), QS_OK);
    cr_assert_eq(qs_lesson_find("no-such-lesson-here", found, sizeof found, &e), QS_ERR);
    cr_assert(strstr(e.msg, "no-such-lesson-here") != NULL);

    json_t *list = qs_lesson_list();
    json_t *rows = json_object_get(list, "lessons"), *r;
    size_t i;
    int seen = 0;
    json_array_foreach(rows, i, r)
        if (strcmp(json_string_value(json_object_get(r, "name")), "07-calibration-test") == 0) {
            seen = 1;
            cr_assert_str_eq(json_string_value(json_object_get(r, "title")),
                             "Calibration test");
            cr_assert_str_eq(json_string_value(json_object_get(r, "level")), "intermediate");
        }
    cr_assert(seen);
    json_decref(list);
    unsetenv("QSCOPE_LESSON_PATH");
    unlink(path);
    rmdir(dir);
}

Test(find, expand_datasets)
{
    char dir[] = "/tmp/qs_lesson_dataXXXXXX", path[512];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/default.npy", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fclose(f);
    setenv("QSCOPE_DATASETS", dir, 1);
    char *e = qs_lesson_expand("load {datasets}/default.npy; x {datasets}");
    char want[1200];
    snprintf(want, sizeof want, "load %s/default.npy; x %s", dir, dir);
    cr_assert_str_eq(e, want);
    free(e);
    e = qs_lesson_expand("values 1 2");
    cr_assert_str_eq(e, "values 1 2");
    free(e);
    unsetenv("QSCOPE_DATASETS");
    unlink(path);
    rmdir(dir);
}

/* ---- player ------------------------------------------------------------------------------ */

static qs_session S;

static void sess_init(void)
{
    qs_kernels_init();
    qs_session_init(&S);
}

static void sess_fini(void)
{
    qs_session_fini(&S);
}

TestSuite(player, .init = sess_init, .fini = sess_fini);

Test(player, plays_and_checks)
{
    /* values 3 -1 7: max 7, min -1, n 3 — independent of any formula in the code */
    qs_lesson *l = parse_ok("title: P\n\nHello.\n> values 3 -1 7\n> stats\n"
                            "expect max == 7\nexpect min == -1\nexpect n == 3\n---\n"
                            "quiz: Largest value?\nanswer: 7 | seven\nhint: look at max\n");
    qs_lesson_player p;
    qs_lesson_event e;
    qs_err err = {{0}};
    qs_lesson_player_init(&p, &S, l);
    int kinds[] = {QS_LI_TEXT, QS_LI_CMD, QS_LI_CMD, QS_LI_EXPECT, QS_LI_EXPECT, QS_LI_EXPECT,
                   QS_LI_QUIZ};
    for (int i = 0; i < 7; i++) {
        cr_assert_eq(qs_lesson_next(&p, &e, &err), QS_OK, "item %d: %s", i, err.msg);
        cr_assert_eq((int)e.item->kind, kinds[i], "item %d", i);
        cr_assert_eq(e.step_start, i == 0 || i == 6);
        cr_assert_eq(e.step, i == 6);
        if (e.item->kind == QS_LI_CMD || e.item->kind == QS_LI_EXPECT) cr_assert_eq(e.ok, 1);
    }
    cr_assert_eq(qs_lesson_answer(&p, "8"), 0);
    cr_assert_eq(p.quiz_tries, 1);
    cr_assert_eq(qs_lesson_answer(&p, "Seven"), 1);
    cr_assert_eq(qs_lesson_answer(&p, "7"), -1);
    cr_assert_eq(qs_lesson_next(&p, &e, &err), QS_LESSON_END);
    cr_assert_eq(p.passed, 3);
    cr_assert_eq(p.commands, 2);

    /* back to step 1: the commands of step 0 run again; the quiz comes next */
    cr_assert_eq(qs_lesson_goto(&p, 1, &err), QS_OK, "%s", err.msg);
    cr_assert_eq(qs_lesson_next(&p, &e, &err), QS_OK);
    cr_assert_eq(e.item->kind, QS_LI_QUIZ);
    cr_assert_eq(qs_lesson_delay_ms(&p, 0), 4000);
    qs_lesson_player_fini(&p);
}

Test(player, failed_expect_names_file_and_line)
{
    qs_lesson *l = parse_ok("title: F\n\n> values 1 2\n> stats\nexpect max == 3\n");
    qs_lesson_player p;
    qs_lesson_event e;
    qs_err err = {{0}};
    qs_lesson_player_init(&p, &S, l);
    cr_assert_eq(qs_lesson_next(&p, &e, &err), QS_OK);
    cr_assert_eq(qs_lesson_next(&p, &e, &err), QS_OK);
    cr_assert_eq(qs_lesson_next(&p, &e, &err), QS_ERR);
    cr_assert_eq(e.ok, 0);
    cr_assert(strncmp(err.msg, "t.lesson:5: expect max == 3 failed", 34) == 0, "%s", err.msg);
    cr_assert(strstr(err.msg, "max = 2") != NULL, "%s", err.msg);
    cr_assert_eq(p.failed, 1);
    qs_lesson_player_fini(&p);
}

Test(player, failed_command_names_file_and_line)
{
    qs_lesson *l = parse_ok("title: F\n\nText.\n\n> values\n");
    qs_lesson_player p;
    qs_lesson_event e;
    qs_err err = {{0}};
    qs_lesson_player_init(&p, &S, l);
    cr_assert_eq(qs_lesson_next(&p, &e, &err), QS_OK);
    cr_assert_eq(qs_lesson_next(&p, &e, &err), QS_ERR);
    cr_assert(strncmp(err.msg, "t.lesson:5: ", 12) == 0, "%s", err.msg);
    qs_lesson_player_fini(&p);
}

/* ---- the `lesson` command ---------------------------------------------------------------- */

Test(player, lesson_command)
{
    char dir[] = "/tmp/qs_lesson_cmdXXXXXX", path[512], line[700];
    json_t *res = NULL;
    const qs_cmd *c = NULL;
    qs_err err = {{0}};
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/31-cmd-test.lesson", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("title: Cmd test\n\n> values 4 -2\n> stats\nexpect min == -2\n---\n"
          "quiz: Min?\nanswer: -2\n", f);
    fclose(f);

    snprintf(line, sizeof line, "lesson check %s", path);
    cr_assert_eq(qs_cmd_run_line(&S, line, &res, &c, &err), QS_OK, "%s", err.msg);
    cr_assert_str_eq(c->name, "lesson");
    cr_assert_eq(json_integer_value(json_object_get(res, "steps")), 2);
    cr_assert_eq(json_integer_value(json_object_get(res, "commands")), 2);
    cr_assert_eq(json_integer_value(json_object_get(res, "expects")), 1);
    cr_assert_eq(json_integer_value(json_object_get(res, "quizzes")), 1);
    json_decref(res);

    snprintf(line, sizeof line, "lesson play %s", path);
    cr_assert_eq(qs_cmd_run_line(&S, line, &res, &c, &err), QS_OK, "%s", err.msg);
    cr_assert_eq(json_integer_value(json_object_get(res, "expects_passed")), 1);
    cr_assert_eq(json_integer_value(json_object_get(res, "quizzes_answered")), 1);
    json_decref(res);

    /* a wrong number: the command fails naming the file and line */
    f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("title: Cmd test\n\n> values 4 -2\n> stats\nexpect min == -3\n", f);
    fclose(f);
    cr_assert_eq(qs_cmd_run_line(&S, line, &res, &c, &err), QS_ERR);
    char want[600];
    snprintf(want, sizeof want, "%s:5: expect min == -3 failed", path);
    cr_assert(strncmp(err.msg, want, strlen(want)) == 0, "%s", err.msg);

    cr_assert_eq(qs_cmd_run_line(&S, "lesson frobnicate", &res, &c, &err), QS_ERR);
    cr_assert(strstr(err.msg, "unknown subcommand 'frobnicate'") != NULL, "%s", err.msg);
    unlink(path);
    rmdir(dir);
}
