/* test_repl.c — the REPL's terminal-free parts: completion candidates (commands, keywords,
 * files, tensors, lessons), the prompt and scheme label, the history file location and the
 * progress bar's arithmetic and layout. Expected values are written out by hand; the tensor
 * names of tests/fixtures/mlp.safetensors were read with Python's json module. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "front/front.h"
#include "qscope/io.h"

#define FIXTURE "tests/fixtures/mlp.safetensors"

static qs_session S;

static void setup(void)
{
    qs_session_init(&S);
}

static void teardown(void)
{
    qs_session_fini(&S);
}

TestSuite(complete, .init = setup, .fini = teardown);

static int has(const qs_completion *c, const char *w)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->words[i], w) == 0) return 1;
    return 0;
}

/* Completes at the end of line. */
static int complete(const char *line, qs_completion *c)
{
    int n = qs_complete(&S, line, (int)strlen(line), c);
    cr_assert_geq(n, 0, "qs_complete(%s) failed", line);
    cr_assert_eq(n, c->n);
    cr_assert_null(c->words[n], "candidates are NULL-terminated");
    return n;
}

static void all_start_with(const qs_completion *c, const char *prefix)
{
    for (int i = 0; i < c->n; i++)
        cr_assert(strncmp(c->words[i], prefix, strlen(prefix)) == 0, "%s does not start with %s",
                  c->words[i], prefix);
}

static void sorted_unique(const qs_completion *c)
{
    for (int i = 1; i < c->n; i++)
        cr_assert_lt(strcmp(c->words[i - 1], c->words[i]), 0, "%s before %s", c->words[i - 1],
                     c->words[i]);
}

Test(complete, empty_line_offers_every_command)
{
    qs_completion c;
    int n = complete("", &c);
    cr_assert_eq(n, qs_cmd_count(), "one candidate per table row");
    cr_assert(has(&c, "help") && has(&c, "load") && has(&c, "quit"));
    cr_assert_eq(c.argi, 0);
    cr_assert_eq(c.start, 0);
    cr_assert_null(c.cmd);
    cr_assert_eq(c.files, 0);
    sorted_unique(&c);
    qs_completion_fini(&c);
}

Test(complete, command_prefix)
{
    qs_completion c;
    complete("sta", &c);
    cr_assert(has(&c, "stats"));
    cr_assert(!has(&c, "synth"));
    all_start_with(&c, "sta");
    qs_completion_fini(&c);
    complete("  he", &c);
    cr_assert(has(&c, "help"));
    cr_assert_eq(c.start, 2, "the word starts after the blanks");
    qs_completion_fini(&c);
    cr_assert_eq(complete("zzz", &c), 0);
    qs_completion_fini(&c);
}

Test(complete, scheme_is_reached_from_sch)
{
    qs_completion c;
    if (!qs_cmd_find("scheme")) cr_skip_test("no scheme command in the table yet");
    complete("sch", &c);
    cr_assert(has(&c, "scheme"));
    all_start_with(&c, "sch");
    qs_completion_fini(&c);
}

Test(complete, completes_in_the_middle_of_a_line)
{
    qs_completion c;
    /* point after "st" in "st hist": only the text before the point counts */
    int n = qs_complete(&S, "st hist", 2, &c);
    cr_assert_geq(n, 1);
    cr_assert(has(&c, "stats"));
    cr_assert_eq(c.argi, 0);
    qs_completion_fini(&c);
}

Test(complete, help_takes_command_names)
{
    qs_completion c;
    complete("help sy", &c);
    cr_assert(has(&c, "synth"));
    all_start_with(&c, "sy");
    cr_assert_eq(c.argi, 1);
    cr_assert_not_null(c.cmd);
    cr_assert_str_eq(c.cmd->name, "help");
    cr_assert_eq(c.start, 5);
    qs_completion_fini(&c);
    /* only the first argument */
    cr_assert_eq(complete("help synth sy", &c), 0);
    qs_completion_fini(&c);
}

Test(complete, keywords_of_a_command)
{
    qs_completion c;
    const qs_cmd *sy = qs_cmd_find("synth");
    cr_assert_not_null(sy);
    cr_assert_not_null(sy->args, "synth's specs list its distributions");
    complete("synth ", &c);
    const char *w;
    for (int i = 0; (w = qs_arg_choice_at(&sy->args[0], i, NULL)); i++)
        cr_assert(has(&c, w), "%s", w);
    cr_assert(has(&c, "normal") && has(&c, "laplace"));
    qs_completion_fini(&c);
    complete("synth lap", &c);
    cr_assert_eq(c.n, 1);
    cr_assert_str_eq(c.words[0], "laplace");
    qs_completion_fini(&c);
}

Test(complete, keywords_already_on_the_line_are_not_offered_again)
{
    qs_completion c;
    complete("set ", &c);
    cr_assert(has(&c, "json") && has(&c, "color") && has(&c, "precision"));
    qs_completion_fini(&c);
    complete("set json ", &c);
    cr_assert(has(&c, "on") && has(&c, "off"));
    cr_assert(!has(&c, "json"));
    qs_completion_fini(&c);
    complete("set json o", &c);
    cr_assert_eq(c.n, 2);
    cr_assert_str_eq(c.words[0], "off");
    cr_assert_str_eq(c.words[1], "on");
    qs_completion_fini(&c);
}

Test(complete, file_paths_after_load_source_save)
{
    qs_completion c;
    complete("load ", &c);
    cr_assert_eq(c.files, 1);
    qs_completion_fini(&c);
    complete("source tests/", &c);
    cr_assert_eq(c.files, 1);
    cr_assert_eq(c.start, 7);
    qs_completion_fini(&c);
    complete("save x", &c);
    cr_assert_eq(c.files, 1);
    qs_completion_fini(&c);
    complete("stats ", &c);
    cr_assert_eq(c.files, 0, "stats takes no file");
    qs_completion_fini(&c);
    complete("load 'my dir/a", &c);
    cr_assert_eq(c.files, 1);
    cr_assert_eq(c.start, 5, "a quoted word starts at its quote");
    cr_assert_eq(c.argi, 1);
    qs_completion_fini(&c);
}

Test(complete, tensor_names_of_the_file_after_load_file)
{
    qs_completion c;
    complete("load " FIXTURE " ", &c);
    cr_assert_eq(c.n, 4, "mlp.safetensors holds 4 tensors");
    cr_assert_str_eq(c.words[0], "fc1.bias");
    cr_assert_str_eq(c.words[1], "fc1.weight");
    cr_assert_str_eq(c.words[2], "fc2.bias");
    cr_assert_str_eq(c.words[3], "fc2.weight");
    cr_assert_eq(c.files, 0, "the second argument is not a file");
    qs_completion_fini(&c);
    complete("load '" FIXTURE "' fc2.w", &c);
    cr_assert_eq(c.n, 1);
    cr_assert_str_eq(c.words[0], "fc2.weight");
    qs_completion_fini(&c);
    cr_assert_eq(complete("load tests/fixtures/no-such-file.npy ", &c), 0);
    qs_completion_fini(&c);
}

Test(complete, tensor_names_after_use_come_from_the_session)
{
    qs_completion c;
    qs_err err = {{0}};
    cr_assert_eq(complete("use ", &c), 0, "no file loaded: no names");
    qs_completion_fini(&c);
    cr_assert_eq(qs_file_open(FIXTURE, &S.file, &err), QS_OK, "%s", err.msg);
    complete("use fc1", &c);
    cr_assert_eq(c.n, 2);
    cr_assert_str_eq(c.words[0], "fc1.bias");
    cr_assert_str_eq(c.words[1], "fc1.weight");
    qs_completion_fini(&c);
    complete("use ", &c);
    cr_assert_eq(c.n, 4);
    qs_completion_fini(&c);
}

Test(complete, after_a_semicolon_a_new_command_starts)
{
    qs_completion c;
    complete("stats; hi", &c);
    cr_assert(has(&c, "hist"));
    cr_assert_eq(c.argi, 0);
    cr_assert_eq(c.start, 7);
    qs_completion_fini(&c);
    complete("values 1 ';' ; he", &c);
    cr_assert(has(&c, "help"));
    qs_completion_fini(&c);
    /* a quoted ';' does not start a command */
    complete("help 'x;st", &c);
    cr_assert_eq(c.argi, 1);
    qs_completion_fini(&c);
}

Test(complete, nothing_inside_a_comment)
{
    qs_completion c;
    cr_assert_eq(complete("stats # he", &c), 0);
    qs_completion_fini(&c);
    cr_assert_eq(complete("# sta", &c), 0);
    qs_completion_fini(&c);
}

Test(complete, argument_hint_is_the_rest_of_the_usage)
{
    const qs_cmd *h = qs_cmd_find("hist");
    cr_assert_not_null(h);
    cr_assert_eq(strncmp(h->usage, "hist ", 5), 0);
    const char *want = h->usage + 5;
    cr_assert_str_eq(qs_complete_hint("hist ", 5), want);
    cr_assert_str_eq(qs_complete_hint("  hist   ", 9), want, "blanks around the word");
    cr_assert_str_eq(qs_complete_hint("stats; hist ", 12), want, "after a ';'");
    cr_assert_str_eq(qs_complete_hint("hist bins=3", 5), want, "only the text before the point");
    cr_assert_null(qs_complete_hint("hist", 4), "no blank after the word yet");
    cr_assert_null(qs_complete_hint("hist b", 6), "an argument is being typed");
    cr_assert_null(qs_complete_hint("hist '", 6));
    cr_assert_null(qs_complete_hint("hist bins=3 ", 12), "only right after the command word");
    cr_assert_null(qs_complete_hint("stats ", 6), "stats takes no arguments");
    cr_assert_null(qs_complete_hint("bogus ", 6));
    cr_assert_null(qs_complete_hint("# hist ", 7));
    cr_assert_null(qs_complete_hint("", 0));
    cr_assert_null(qs_complete_hint(NULL, 0));
    /* a row of a nested table: its own usage after its command words */
    const qs_cmd *gpt = qs_cmd_sub(qs_cmd_find("lab"), "gpt");
    const qs_cmd *ptq = qs_cmd_sub(gpt, "ptq");
    cr_assert_not_null(ptq);
    cr_assert_str_eq(qs_complete_hint("lab gpt ptq ", 12), ptq->usage + strlen("lab gpt ptq "));
    cr_assert_str_eq(qs_complete_hint("lab gpt ", 8), gpt->usage + strlen("lab gpt "));
    cr_assert_null(qs_complete_hint("lab gpt nope ", 13));
    cr_assert_null(qs_complete_hint("lab gpt ptq bits=3 ", 19), "only right after the words");
}

Test(complete, unknown_command_has_no_argument_candidates)
{
    qs_completion c;
    cr_assert_eq(complete("bogus ", &c), 0);
    cr_assert_null(c.cmd);
    cr_assert_eq(c.argi, 1);
    qs_completion_fini(&c);
}

/* ---- lessons ------------------------------------------------------------------------------ */

static char lesson_dir[64];

static void make_lessons(void)
{
    snprintf(lesson_dir, sizeof lesson_dir, "/tmp/qs-test-lessons-%d", (int)getpid());
    mkdir(lesson_dir, 0700);
    const char *files[] = {"01-why.lesson", "02-floats.lesson", "notes.txt", ".hidden.lesson",
                           "a.lesson.bak"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s/%s", lesson_dir, files[i]);
        FILE *f = fopen(p, "w");
        cr_assert_not_null(f);
        fputs("title: t\n", f);
        fclose(f);
    }
    setenv("QSCOPE_LESSON_PATH", lesson_dir, 1);
    setup();
}

static void remove_lessons(void)
{
    const char *files[] = {"01-why.lesson", "02-floats.lesson", "notes.txt", ".hidden.lesson",
                           "a.lesson.bak"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s/%s", lesson_dir, files[i]);
        unlink(p);
    }
    rmdir(lesson_dir);
    teardown();
}

Test(lessons, names_from_the_search_path, .init = make_lessons, .fini = remove_lessons)
{
    char **v = NULL;
    int n = qs_lesson_names("0", &v);
    cr_assert_geq(n, 2);
    int why = 0, floats = 0;
    for (int i = 0; i < n; i++) {
        cr_assert(v[i][0] == '0', "prefix honoured: %s", v[i]);
        cr_assert_null(strstr(v[i], ".lesson"), "extension removed: %s", v[i]);
        why += strcmp(v[i], "01-why") == 0;
        floats += strcmp(v[i], "02-floats") == 0;
    }
    cr_assert_eq(why, 1, "found once even if listed twice");
    cr_assert_eq(floats, 1);
    qs_split_free(v);
    n = qs_lesson_names("notes", &v);
    cr_assert_eq(n, 0, "only *.lesson files");
    qs_split_free(v);
    n = qs_lesson_names(".hid", &v);
    cr_assert_eq(n, 0, "hidden files are skipped");
    qs_split_free(v);
}

Test(lessons, lesson_command_completes_subcommands_and_names, .init = make_lessons,
     .fini = remove_lessons)
{
    qs_completion c;
    if (!qs_cmd_find("lesson")) cr_skip_test("no lesson command in the table yet");
    complete("lesson play 02", &c);
    cr_assert(has(&c, "02-floats"));
    qs_completion_fini(&c);
    complete("lesson pl", &c);
    cr_assert(has(&c, "play"));
    qs_completion_fini(&c);
}

/* ---- prompt (the scheme label is the engine's qs_scheme_label) ------------------------- */

Test(prompt, shows_tensor_and_scheme)
{
    char b[512];
    qs_err err = {{0}};
    float v[3] = {0, 250, 1000};
    qs_session_init(&S);
    qs_repl_prompt(&S, 0, 1, b, sizeof b);
    cr_assert_str_eq(b, "qscope [- · int8 asym] > ");
    qs_repl_prompt(&S, 0, 0, b, sizeof b);
    cr_assert_str_eq(b, "qscope [- | int8 asym] > ");
    qs_session_set_tensor(&S, qs_tensor_from_values("fc1.weight", v, 3, &err));
    S.scheme.symmetric = 1;
    S.scheme.gran = QS_G_CHANNEL;
    qs_repl_prompt(&S, 0, 1, b, sizeof b);
    cr_assert_str_eq(b, "qscope [fc1.weight · int8 sym/channel] > ", "the issue's example");
    qs_repl_prompt(&S, 1, 1, b, sizeof b);
    cr_assert(strstr(b, "\001\033[") != NULL, "colour codes are marked for readline");
    cr_assert(strstr(b, "fc1.weight") != NULL);
    int open = 0, close = 0;
    for (const char *p = b; *p; p++) {
        open += *p == '\001';
        close += *p == '\002';
        if (*p == '\033') cr_assert_lt(close, open, "every escape is inside \\001..\\002");
    }
    cr_assert_eq(open, close);
    qs_session_fini(&S);
}

Test(prompt, long_names_are_shortened_in_the_middle)
{
    char b[512];
    qs_err err = {{0}};
    float v[1] = {1};
    const char *name = "model.layers.31.self_attn.q_proj.weight_scale_inv";    /* 49 chars */
    qs_session_init(&S);
    qs_session_set_tensor(&S, qs_tensor_from_values(name, v, 1, &err));
    qs_repl_prompt(&S, 0, 0, b, sizeof b);
    /* 32 characters: 15 of the head, '~', 16 of the tail */
    cr_assert_str_eq(b, "qscope [model.layers.31~weight_scale_inv | int8 asym] > ");
    qs_session_fini(&S);
}

/* ---- history file ------------------------------------------------------------------------ */

Test(history, override_then_xdg_then_home)
{
    char *p;
    char dir[96];
    snprintf(dir, sizeof dir, "/tmp/qs-test-xdg-%d", (int)getpid());
    setenv("QSCOPE_HISTFILE", "/tmp/some/where/h", 1);
    setenv("XDG_STATE_HOME", dir, 1);
    setenv("HOME", "/home/nobody", 1);
    p = qs_history_path();
    cr_assert_str_eq(p, "/tmp/some/where/h");
    free(p);
    unsetenv("QSCOPE_HISTFILE");
    p = qs_history_path();
    char want[160];
    snprintf(want, sizeof want, "%s/qscope/history", dir);
    cr_assert_str_eq(p, want);
    free(p);
    struct stat st;
    snprintf(want, sizeof want, "%s/qscope", dir);
    cr_assert_eq(stat(want, &st), 0, "the directory is created");
    cr_assert(S_ISDIR(st.st_mode));
    rmdir(want);
    rmdir(dir);
    setenv("XDG_STATE_HOME", "relative/dir", 1);
    p = qs_history_path();
    cr_assert_str_eq(p, "/home/nobody/.qscope_history", "a relative XDG_STATE_HOME is ignored");
    free(p);
    unsetenv("XDG_STATE_HOME");
    p = qs_history_path();
    cr_assert_str_eq(p, "/home/nobody/.qscope_history");
    free(p);
    unsetenv("HOME");
    cr_assert_null(qs_history_path());
}

/* ---- progress bar --------------------------------------------------------------------------- */

Test(progress, eta_from_the_rate_so_far)
{
    cr_assert_float_eq(qs_progress_eta(25, 100, 10), 30.0, 1e-12, "a quarter in 10 s");
    cr_assert_float_eq(qs_progress_eta(3, 4, 6), 2.0, 1e-12);
    cr_assert_float_eq(qs_progress_eta(100, 100, 7), 0.0, 1e-12);
    cr_assert_eq(qs_progress_eta(0, 100, 5), -1, "nothing done: unknown");
    cr_assert_eq(qs_progress_eta(5, 0, 5), -1, "no total: unknown");
}

Test(progress, time_formats)
{
    char b[32];
    qs_progress_fmt_time(b, sizeof b, 0.42);
    cr_assert_str_eq(b, "0.4s");
    qs_progress_fmt_time(b, sizeof b, 12.7);
    cr_assert_str_eq(b, "12s");
    qs_progress_fmt_time(b, sizeof b, 185);
    cr_assert_str_eq(b, "3m05s");
    qs_progress_fmt_time(b, sizeof b, 7440);
    cr_assert_str_eq(b, "2h04m");
    qs_progress_fmt_time(b, sizeof b, -1);
    cr_assert_str_eq(b, "?");
}

Test(progress, ascii_bar_layout)
{
    char b[256];
    /* width 60, one column spare: "train " (6) + "[" + 32 cells + "]" + " 25%  10s  ETA 30s"
     * (19) = 59; a quarter of 32 cells is 8 */
    qs_progress_format(b, sizeof b, "train", 25, 100, 10, 30, 60, 0);
    cr_assert_str_eq(b, "train [########........................]  25%  10s  ETA 30s");
    cr_assert_leq((int)strlen(b), 59);
}

Test(progress, unicode_bar_uses_eighths)
{
    char b[256];
    /* 10 cells at 45%: 4.5 cells = 4 full blocks and a half block; the line is
     * 1 spare + "[" + 10 + "]" + " 45%  1.0s  ETA 1.2s" (21) = 34 columns */
    qs_progress_format(b, sizeof b, "", 45, 100, 1, 1.2, 1 + 2 + 10 + 21, 1);
    cr_assert_str_eq(b, "[████▌     ]  45%  1.0s  ETA 1.2s");
}

Test(progress, unknown_total_and_narrow_terminals)
{
    char b[256];
    qs_progress_format(b, sizeof b, "reading", 1234, 0, 2.5, -1, 80, 0);
    cr_assert_str_eq(b, "reading 1234  2.5s");
    qs_progress_format(b, sizeof b, "x", 50, 100, 1, -1, 20, 0);
    cr_assert_str_eq(b, "x  50%  1.0s  ETA ?", "no room for a bar: numbers only (%s)", b);
}

Test(progress, long_labels_are_cut_on_a_character)
{
    char b[256];
    /* width 30: the label keeps 10 characters (a third); é is 2 bytes */
    qs_progress_format(b, sizeof b, "ééééééééééééé", 1, 0, 1, -1, 30, 1);
    cr_assert_str_eq(b, "éééééééééé 1  1.0s");
    /* the label buffer holds 39 bytes: 13 three-byte characters, never a torn one */
    qs_progress_format(b, sizeof b, "€€€€€€€€€€€€€€€€€€€€", 1, 0, 1, -1, 200, 1);
    cr_assert_str_eq(b, "€€€€€€€€€€€€€ 1  1.0s");
}

Test(progress, updates_ask_to_stop_when_cancelled)
{
    qs_progress_bar bar;
    volatile sig_atomic_t cancel = 0;
    FILE *f = tmpfile();
    cr_assert_not_null(f);
    qs_progress_bar_start(&bar, f, &cancel);
    cr_assert_eq(bar.enabled, 0, "a file is not a terminal");
    cr_assert_eq(qs_progress_bar_update(&bar, "work", 1, 10), 0);
    cancel = 1;
    cr_assert_neq(qs_progress_bar_update(&bar, "work", 2, 10), 0);
    qs_progress_bar_finish(&bar);
    cr_assert_eq(ftell(f), 0, "nothing drawn off a terminal");
    fclose(f);
}

Test(progress, session_progress_reports_cancel)
{
    qs_progress_bar bar;
    volatile sig_atomic_t cancel = 0;
    qs_session_init(&S);
    qs_progress_bar_start(&bar, NULL, &cancel);
    S.progress = qs_progress_bar_update;
    S.progress_ctx = &bar;
    S.cancel = &cancel;
    cr_assert_eq(qs_session_progress(&S, "x", 1, 2), QS_OK);
    cancel = 1;
    cr_assert_eq(qs_session_progress(&S, "x", 2, 2), QS_CANCELLED);
    S.progress = NULL;
    S.cancel = NULL;
    qs_session_fini(&S);
}
