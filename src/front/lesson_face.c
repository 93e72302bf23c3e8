/* lesson_face.c — the lesson player on a terminal or headless: `qscope play [--headless]
 * LESSON...`, `qscope lesson list | check [--strict] FILE... | play NAME`. Prints a transcript of each
 * step (narration, commands and their results, expectations, quizzes); the library's player
 * (lesson.h) does the work. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "front/faces.h"
#include "front/front.h"
#include "front/html.h"
#include "qscope/io.h"
#include "qscope/lesson.h"

#ifndef QSCOPE_DATADIR
#define QSCOPE_DATADIR "/usr/local/share/qscope"
#endif

#define C_BOLD "\033[1m"
#define C_DIM "\033[2m"
#define C_OK "\033[32m"
#define C_BAD "\033[31m"
#define C_CMD "\033[36m"
#define C_RESET "\033[0m"

/* How a lesson is played. */
typedef struct play_opts {
    int headless;       /* 1: no learner; quizzes answered from the file */
    int auto_ms;        /* interactive: >= 0 advance steps after this delay (auto-play) */
    int allow_files;    /* --allow-files: headless play may use the files the header declares */
    int present;        /* --present: the TUI's presenter mode (a terminal; else headless) */
    int strict;         /* --strict: also check the narration's numbers (strict.c) */
    FILE *out;          /* transcript */
    FILE *in;           /* the learner's input (interactive) */
    qs_render_opts ro;  /* rendering of results */
} play_opts;

/* Ctrl-C during a standalone interactive play (the REPL brings its own flag and handler). */
static volatile sig_atomic_t lesson_cancel;

static void on_sigint(int sig)
{
    (void)sig;
    lesson_cancel = 1;
}

static const char *col(const play_opts *o, const char *c)
{
    return o->ro.color ? c : "";
}

/* Lesson text and messages are untrusted: every string from the file is printed escaped. */
static void esc(const play_opts *o, const char *s)
{
    qs_fput_escaped(o->out, s, 0);
}

static void err_line(const play_opts *o, const char *msg)
{
    fflush(o->out);
    fputs("qscope: ", stderr);
    qs_fput_escaped(stderr, msg, 0);
    fputc('\n', stderr);
}

/* Prints narration wrapped to the width, with *emphasis* in bold when colour is on. */
static void print_text(const play_opts *o, const char *text, int pre)
{
    int width = o->ro.width > 100 ? 100 : o->ro.width - 2;
    char *raw = pre ? strdup(text) : qs_lesson_wrap(text, width);
    char *w = raw ? qs_escape(raw, QS_ESC_KEEP_NL) : NULL;
    free(raw);
    if (!w) return;
    if (pre) {
        for (char *line = w; line; ) {
            char *nl = strchr(line, '\n');
            if (nl) *nl = '\0';
            fprintf(o->out, "    %s\n", line);
            line = nl ? nl + 1 : NULL;
        }
    } else if (!o->ro.color) {
        fprintf(o->out, "%s\n", w);
    } else {
        int on = 0;
        for (const char *p = w; *p; p++) {
            /* an emphasis marker opens before a word character and closes after one */
            if (*p == '*' && !on && p[1] && p[1] != ' ' && p[1] != '*' && strchr(p + 1, '*')) {
                fputs(C_BOLD, o->out);
                on = 1;
            } else if (*p == '*' && on) {
                fputs(C_RESET, o->out);
                on = 0;
            } else {
                fputc(*p, o->out);
            }
        }
        if (on) fputs(C_RESET, o->out);
        fputc('\n', o->out);
    }
    free(w);
}

static void print_result(const play_opts *o, qs_session *s, const qs_cmd *cmd, json_t *res)
{
    if (!res) return;
    if (s->json) qs_render_json(o->out, res);
    else qs_render_text(o->out, cmd, res, &o->ro);
}

/* Reads one line from the learner; NULL at end of input. Strips the newline. With
 * timeout_ms >= 0, returns "" when nothing was typed in time. */
static char *read_line(const play_opts *o, char *buf, size_t len, int timeout_ms)
{
    fflush(o->out);
    if (timeout_ms >= 0) {
        struct pollfd pf = {fileno(o->in), POLLIN, 0};
        int r = poll(&pf, 1, timeout_ms);
        if (r < 0) return NULL;                 /* interrupted (Ctrl-C): stop */
        if (r == 0) {
            buf[0] = '\0';
            fputc('\n', o->out);
            return buf;
        }
    }
    if (!fgets(buf, (int)len, o->in)) {
        clearerr(o->in);                        /* EOF or Ctrl-C: stop; the REPL reads on */
        return NULL;
    }
    buf[strcspn(buf, "\r\n")] = '\0';
    return buf;
}

/* Asks a quiz until it is answered right (or skipped). Returns 0, or -1 to quit. */
static int ask_quiz(const play_opts *o, qs_lesson_player *p, const qs_quiz *q)
{
    char buf[512];
    for (;;) {
        fprintf(o->out, "%sanswer>%s ", col(o, C_BOLD), col(o, C_RESET));
        if (!read_line(o, buf, sizeof buf, -1)) return -1;
        if (strcmp(buf, "skip") == 0) {
            fputs("The answer: ", o->out);
            esc(o, q->answers[0]);
            fputc('\n', o->out);
            p->quiz_open = 0;
            return 0;
        }
        if (strcmp(buf, "quit") == 0) return -1;
        if (buf[0] == '\0' || strcmp(buf, "?") == 0 || strcmp(buf, "hint") == 0) {
            esc(o, q->hint ? q->hint : "(no hint; type 'skip' to see the answer)");
            fputc('\n', o->out);
            continue;
        }
        if (qs_lesson_answer(p, buf) == 1) {
            fprintf(o->out, "%sRight.%s\n", col(o, C_OK), col(o, C_RESET));
            return 0;
        }
        fprintf(o->out, "%sNot quite.%s", col(o, C_BAD), col(o, C_RESET));
        if (q->hint) {
            fputs(" Hint: ", o->out);
            esc(o, q->hint);
        }
        fprintf(o->out, "  (type 'skip' to see the answer)\n");
    }
}

/* Names the commands of a lesson that use files beyond its folder and the datasets and asks
 * the learner (interactive) or checks --allow-files (headless). 0: go on (p->files_ok set
 * when there were such commands), 2: refused. */
static int ask_files(const play_opts *o, qs_lesson_player *p)
{
    qs_lesson_use *u = NULL;
    int n = 0;
    qs_err err = {{0}};
    if (qs_lesson_uses(p->lesson, &u, &n, &err) != QS_OK) {
        err_line(o, err.msg);
        return 2;
    }
    if (n == 0) return 0;
    FILE *f = o->headless ? stderr : o->out;
    fflush(o->out);
    fprintf(f, "%sThis lesson asks to use files outside its folder and qscope's datasets:%s\n",
            o->headless ? "qscope: " : col(o, C_BAD), o->headless ? "" : col(o, C_RESET));
    for (int i = 0; i < n; i++) {
        fprintf(f, "  line %d: %s ", u[i].line,
                u[i].what == QS_LESSON_FILES_WRITE ? "writes" : "reads");
        qs_fput_escaped(f, u[i].path, 0);
        fputs("   (", f);
        qs_fput_escaped(f, u[i].cmd, 0);
        fputs(")\n", f);
    }
    int ok = 0;
    if (o->headless) {
        ok = o->allow_files;
        if (!ok) fprintf(stderr, "qscope: refused: play it with --allow-files to let it\n");
    } else {
        char buf[64];
        fprintf(o->out, "Allow it? [y/N] ");
        if (read_line(o, buf, sizeof buf, -1)) ok = strcmp(buf, "y") == 0 || strcmp(buf, "yes") == 0;
        if (!ok) fprintf(o->out, "Not allowed: the lesson is not played.\n");
    }
    qs_lesson_uses_free(u, n);
    if (!ok) return 2;
    p->files_ok = 1;
    return 0;
}

/* Plays one lesson file. Returns 0 when every command ran and every expectation held, 1 at
 * the first failure (reported as "qscope: FILE:LINE: ..."), 2 when the file is unusable or
 * its use of files was refused. Interactive: nothing runs before the learner has seen the
 * title and pressed Enter for the first step; each command is printed before it runs. */
/* --strict (strict.c): every unbacked narration number as FILE:LINE; 1 when any. */
static int strict_report(const char *path, json_t *rep)
{
    size_t i;
    json_t *u, *ub = json_object_get(rep, "unbacked");
    json_array_foreach(ub, i, u)
        fprintf(stderr, "qscope: %s:%lld: %s is not backed by an expect or a printed result "
                "of step %lld (mark a prose number as {2026})\n", path,
                (long long)json_integer_value(json_object_get(u, "line")),
                json_string_value(json_object_get(u, "number")),
                (long long)json_integer_value(json_object_get(u, "step")));
    return json_array_size(ub) > 0;
}

static int strict_check(const char *path)
{
    json_t *rep = NULL;
    qs_err err = {{0}};
    if (qs_lesson_strict(path, &rep, &err) != QS_OK) {
        fprintf(stderr, "qscope: %s\n", err.msg);
        return 1;
    }
    int bad = strict_report(path, rep);
    json_decref(rep);
    return bad;
}

/* play --strict: the collector's verdict after a face played the lesson to its end. */
static int strict_after(qs_strict *st, const qs_lesson *l)
{
    json_t *rep = NULL;
    qs_err err = {{0}};
    if (qs_strict_finish(st, l, &rep, &err) != QS_OK) {
        fprintf(stderr, "qscope: %s\n", err.msg);
        return 1;
    }
    int bad = strict_report(l->path, rep);
    json_decref(rep);
    return bad;
}

static int play_one(qs_session *s, const char *name, play_opts *o)
{
    qs_lesson_player p;
    qs_lesson_event ev;
    qs_err err = {{0}};
    int rc, status = 0, quizzes = 0, skip_prompt = 0;
    qs_li_kind prev = QS_LI_HEADING;
    if (qs_lesson_player_open(&p, s, name, &err) != QS_OK) {
        err_line(o, err.msg);
        return 2;
    }
    const qs_lesson *l = p.lesson;
    qs_strict *st = NULL;
    if (o->strict && qs_strict_begin(&st, l->path, l, &err) != QS_OK) {
        err_line(o, err.msg);
        qs_lesson_player_fini(&p);
        return 2;
    }
    fprintf(o->out, "%s=== ", col(o, C_BOLD));
    esc(o, l->title);
    fprintf(o->out, "%s  (", col(o, C_RESET));
    esc(o, l->path);
    fputs(")\n", o->out);
    if (l->summary) print_text(o, l->summary, 0);
    if (ask_files(o, &p) != 0) {
        qs_strict_free(st);
        qs_lesson_player_fini(&p);
        return 2;
    }
    if (!o->headless)
        fprintf(o->out, "%s(Enter: next step, b: back a step, q: quit; at a quiz type your "
                "answer, '?' for the hint, 'skip' to see it)%s\n", col(o, C_DIM),
                col(o, C_RESET));
    for (;;) {
        /* interactive: wait before each new step, the first one too */
        if (!o->headless && p.step < l->nsteps && p.item == 0 && !skip_prompt) {
            char buf[64];
            int delay = o->auto_ms >= 0 ? (o->auto_ms ? o->auto_ms
                                                      : qs_lesson_delay_ms(&p, p.step)) : -1;
            fprintf(o->out, "%s-- [Enter] next step %d/%d --%s ", col(o, C_DIM), p.step + 1,
                    l->nsteps, col(o, C_RESET));
            if (!read_line(o, buf, sizeof buf, delay)) {
                fputc('\n', o->out);
                break;
            }
            if (strcmp(buf, "q") == 0) break;
            if (strcmp(buf, "b") == 0 && p.step > 0) {
                int back = p.step >= 2 ? p.step - 2 : 0;
                if (qs_lesson_goto(&p, back, &err) != QS_OK) {
                    err_line(o, err.msg);
                    status = 1;
                    break;
                }
                skip_prompt = 1;
                continue;
            }
        }
        skip_prompt = 0;
        /* show a step's start and a command before anything runs */
        const qs_lesson_item *next = qs_lesson_peek(&p);
        if (!next) break;
        if (p.item == 0)
            fprintf(o->out, "\n%s--- step %d/%d ---%s\n", col(o, C_DIM), p.step + 1,
                    l->nsteps, col(o, C_RESET));
        else if ((next->kind == QS_LI_TEXT || next->kind == QS_LI_QUIZ) &&
                 prev != QS_LI_HEADING)
            fputc('\n', o->out);              /* a paragraph starts after a blank line */
        if (next->kind == QS_LI_CMD) {
            char *line = qs_lesson_expand(next->text);
            fprintf(o->out, "%sqscope> ", col(o, C_CMD));
            esc(o, line ? line : next->text);
            fprintf(o->out, "%s\n", col(o, C_RESET));
            free(line);
            fflush(o->out);
        }
        rc = qs_lesson_next(&p, &ev, &err);
        if (rc == QS_LESSON_END) break;
        qs_strict_event(st, &p, &ev);
        const qs_lesson_item *it = ev.item;
        prev = it->kind;
        switch (it->kind) {
        case QS_LI_HEADING:
            fprintf(o->out, "%s## ", col(o, C_BOLD));
            esc(o, it->text);
            fprintf(o->out, "%s\n", col(o, C_RESET));
            break;
        case QS_LI_TEXT:
            print_text(o, it->text, it->preformatted);
            break;
        case QS_LI_DIRECTIVE:
            fprintf(o->out, "%s[", col(o, C_DIM));
            esc(o, it->text);
            if (it->arg) {
                fputc(' ', o->out);
                esc(o, it->arg);
            }
            fprintf(o->out, "]%s\n", col(o, C_RESET));
            break;
        case QS_LI_CMD:
            if (rc == QS_OK) print_result(o, s, ev.cmd, ev.result);
            break;
        case QS_LI_EXPECT:
            fprintf(o->out, "%sexpect ", col(o, C_DIM));
            esc(o, it->expect.key);
            fprintf(o->out, " %s ", qs_op_str(it->expect.op));
            esc(o, it->expect.value);
            fprintf(o->out, "%s  %s%s%s\n", col(o, C_RESET), ev.ok ? col(o, C_OK) : col(o, C_BAD),
                    ev.ok ? "ok" : "FAILED", col(o, C_RESET));
            break;
        case QS_LI_QUIZ:
            quizzes++;
            fprintf(o->out, "%squiz:%s ", col(o, C_BOLD), col(o, C_RESET));
            esc(o, it->quiz.question);
            fputc('\n', o->out);
            if (o->headless) {
                qs_lesson_answer(&p, it->quiz.answers[0]);
                fputs("answer> ", o->out);
                esc(o, it->quiz.answers[0]);
                fputc('\n', o->out);
            } else if (ask_quiz(o, &p, &it->quiz) < 0) {
                goto done;
            }
            break;
        }
        if (rc != QS_OK) {
            err_line(o, err.msg);
            status = 1;
            break;
        }
    }
    if (status == 0 && p.step >= l->nsteps) {
        fprintf(o->out, "\n%s=== ", col(o, C_BOLD));
        esc(o, l->name);
        fprintf(o->out, ": done%s (%d commands, %d expectations met, %d quizzes)\n",
                col(o, C_RESET), p.commands, p.passed, quizzes);
        fflush(o->out);
        if (st && strict_after(st, l)) status = 1;
    }
done:
    fflush(o->out);
    qs_strict_free(st);
    qs_lesson_player_fini(&p);
    return status;
}

/* `play --html LESSON`: plays the lesson headless and writes its handout to stdout. The page
 * is built in memory and written only when every command ran and every expectation held, so
 * a failed play leaves no half page behind. Returns 0, 1 (a failure, reported on stderr as
 * "qscope: FILE:LINE: ...") or 2 (an unusable file). */
static int play_html(qs_session *s, const char *name, int strict)
{
    qs_lesson_player p;
    qs_lesson_event ev;
    qs_err err = {{0}};
    qs_html_doc d;
    char *buf = NULL;
    size_t len = 0;
    int rc, status = 0, quizzes = 0;
    if (qs_lesson_player_open(&p, s, name, &err) != QS_OK) {
        fprintf(stderr, "qscope: %s\n", err.msg);
        return 2;
    }
    qs_strict *st = NULL;
    if (strict && qs_strict_begin(&st, p.lesson->path, p.lesson, &err) != QS_OK) {
        fprintf(stderr, "qscope: %s\n", err.msg);
        qs_lesson_player_fini(&p);
        return 2;
    }
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        fprintf(stderr, "qscope: out of memory\n");
        qs_strict_free(st);
        qs_lesson_player_fini(&p);
        return 2;
    }
    qs_html_begin(&d, f, p.lesson);
    while ((rc = qs_lesson_next(&p, &ev, &err)) != QS_LESSON_END) {
        qs_html_event(&d, &ev);
        qs_strict_event(st, &p, &ev);
        if (ev.item->kind == QS_LI_QUIZ) {
            quizzes++;
            qs_lesson_answer(&p, ev.item->quiz.answers[0]);
        }
        if (rc != QS_OK) {
            fprintf(stderr, "qscope: %s\n", err.msg);
            status = 1;
            break;
        }
    }
    qs_html_end(&d, p.lesson, p.commands, p.passed, quizzes);
    if (fclose(f) != 0 || !buf) status = status ? status : 2;
    if (status == 0 && st && strict_after(st, p.lesson)) status = 1;
    qs_strict_free(st);
    if (status == 0) {
        fwrite(buf, 1, len, stdout);
        if (fflush(stdout) != 0 || ferror(stdout)) {
            fprintf(stderr, "qscope: --html: writing the page failed\n");
            status = 2;
        }
    }
    free(buf);
    qs_lesson_player_fini(&p);
    return status;
}

static int lesson_usage(void)
{
    fprintf(stderr,
            "usage: qscope play [--headless [--strict]] [--allow-files] [--auto[=SECONDS]] LESSON...\n"
            "       qscope play --html [--strict] LESSON > handout.html\n"
            "       qscope play --present LESSON\n"
            "       qscope lesson list\n"
            "       qscope lesson check [--strict] FILE...\n"
            "       qscope lesson play [--headless] [--allow-files] [--auto[=SECONDS]] NAME\n");
    return 2;
}

static int do_list(qs_session *s)
{
    json_t *res = qs_lesson_list();
    if (s->json) {
        qs_render_json(stdout, res);
    } else {
        json_t *rows = json_object_get(res, "lessons");
        size_t i;
        json_t *r;
        if (json_array_size(rows) == 0)
            printf("no lessons found in ./lessons, $QSCOPE_LESSON_PATH or %s/lessons\n",
                   QSCOPE_DATADIR);
        int nw = 22;            /* the name column: as wide as the longest name */
        json_array_foreach(rows, i, r) {
            char *en = qs_escape(json_string_value(json_object_get(r, "name")), 0);
            int l = en ? (int)strlen(en) : 0;      /* printf pads by bytes too */
            if (l > nw && l < 80) nw = l;
            free(en);
        }
        json_array_foreach(rows, i, r) {
            /* names, titles and levels come from lesson files: escaped */
            const char *t = json_string_value(json_object_get(r, "title"));
            const char *lv = json_string_value(json_object_get(r, "level"));
            char *en = qs_escape(json_string_value(json_object_get(r, "name")), 0);
            char *el = qs_escape(lv ? lv : "", 0);
            char *et = qs_escape(t ? t : json_string_value(json_object_get(r, "error")), 0);
            if (t)
                printf("%-*s %-13s %s\n", nw, en ? en : "", el ? el : "", et ? et : "");
            else
                printf("%-*s %-13s (broken: %s)\n", nw, en ? en : "", "", et ? et : "");
            free(en);
            free(el);
            free(et);
        }
    }
    json_decref(res);
    return 0;
}

static int do_check(qs_session *s, int argc, char **argv)
{
    int bad = 0, strict = argc > 0 && strcmp(argv[0], "--strict") == 0;
    if (strict) { argc--; argv++; }
    if (argc < 1) return lesson_usage();
    for (int i = 0; i < argc; i++) {
        char path[4096];
        qs_lesson *l = NULL;
        qs_err err = {{0}};
        qs_lesson_use *u = NULL;
        int nu = 0;
        if (qs_lesson_find(argv[i], path, sizeof path, &err) != QS_OK ||
            qs_lesson_load(path, &l, &err) != QS_OK ||
            qs_lesson_uses(l, &u, &nu, &err) != QS_OK) {
            fputs("qscope: ", stderr);
            qs_fput_escaped(stderr, err.msg, 0);
            fputc('\n', stderr);
            qs_lesson_free(l);
            bad = 2;
            continue;
        }
        if (strict && strict_check(path)) {
            if (!bad) bad = 1;
            qs_lesson_uses_free(u, nu);
            qs_lesson_free(l);
            continue;
        }
        if (s->json) {
            json_t *o = json_pack("{s:s, s:b, s:i, s:i, s:i, s:i}", "file", path, "ok", 1,
                                  "steps", l->nsteps, "commands",
                                  qs_lesson_count(l, QS_LI_CMD), "expects",
                                  qs_lesson_count(l, QS_LI_EXPECT), "quizzes",
                                  qs_lesson_count(l, QS_LI_QUIZ));
            json_t *fa = json_array();
            for (int k = 0; k < nu; k++)
                json_array_append_new(fa, json_pack("{s:i, s:s, s:s, s:s}", "line", u[k].line,
                                                    "access", u[k].what == QS_LESSON_FILES_WRITE
                                                    ? "write" : "read", "path", u[k].path,
                                                    "command", u[k].cmd));
            json_object_set_new(o, "files", fa);
            qs_render_json(stdout, o);
            json_decref(o);
        } else {
            qs_fput_escaped(stdout, path, 0);
            printf(": ok (%d steps, %d commands, %d expectations, %d quizzes)\n",
                   l->nsteps, qs_lesson_count(l, QS_LI_CMD), qs_lesson_count(l, QS_LI_EXPECT),
                   qs_lesson_count(l, QS_LI_QUIZ));
            for (int k = 0; k < nu; k++) {
                printf("  uses files (the player asks first): line %d %s ", u[k].line,
                       u[k].what == QS_LESSON_FILES_WRITE ? "writes" : "reads");
                qs_fput_escaped(stdout, u[k].path, 0);
                fputc('\n', stdout);
            }
        }
        qs_lesson_uses_free(u, nu);
        qs_lesson_free(l);
    }
    return bad;
}

int qs_lesson_main(qs_session *s, int argc, char **argv)
{
    play_opts o;
    int first = 1, status = 0, nfiles = 0, html = 0;
    memset(&o, 0, sizeof o);
    o.out = stdout;
    o.in = stdin;
    o.auto_ms = -1;
    if (argc < 1) return lesson_usage();
    if (strcmp(argv[0], "lesson") == 0) {
        if (argc < 2) return lesson_usage();
        if (strcmp(argv[1], "list") == 0) return argc == 2 ? do_list(s) : lesson_usage();
        if (strcmp(argv[1], "check") == 0) return do_check(s, argc - 2, argv + 2);
        if (strcmp(argv[1], "play") != 0) {
            fprintf(stderr, "qscope: lesson: unknown subcommand '%s' (list, check, play)\n",
                    argv[1]);
            return 2;
        }
        first = 2;
    } else if (strcmp(argv[0], "play") != 0) {
        return lesson_usage();
    }
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--headless") == 0) o.headless = 1;
        else if (strcmp(a, "--html") == 0) html = 1;
        else if (strcmp(a, "--allow-files") == 0) o.allow_files = 1;
        else if (strcmp(a, "--present") == 0) o.present = 1;
        else if (strcmp(a, "--strict") == 0) o.strict = 1;
        else if (strcmp(a, "--auto") == 0) o.auto_ms = 0;
        else if (strncmp(a, "--auto=", 7) == 0) {
            double sec;
            if (qs_parse_double(a + 7, &sec) < 0 || !(sec >= 0) || sec > 3600) {
                fprintf(stderr, "qscope: %s: expected seconds (e.g. --auto=4)\n", a);
                return 2;
            }
            o.auto_ms = (int)(sec * 1000 + 0.5);
            if (o.auto_ms == 0) o.auto_ms = 1;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "qscope: unknown option '%s' for play\n", a);
            return lesson_usage();
        } else nfiles++;
    }
    if (nfiles == 0) return lesson_usage();
    if (html) {
        if (nfiles != 1 || o.auto_ms >= 0) {
            fprintf(stderr, "qscope: --html writes one page: give exactly one LESSON (and no "
                    "--auto)\n");
            return 2;
        }
        for (int i = first; i < argc; i++)
            if (!(argv[i][0] == '-' && argv[i][1])) return play_html(s, argv[i], o.strict);
    }
    if (!isatty(fileno(o.in)) || !isatty(fileno(o.out))) o.headless = 1;
    if (o.strict && !o.headless) {
        fprintf(stderr, "qscope: --strict checks a headless play: add --headless (or --html)\n");
        return 2;
    }
    if (o.present && !o.headless) {
        /* presenter mode is the TUI's: one lesson, from the shell (not inside the REPL) */
        if (nfiles != 1 || o.auto_ms >= 0) {
            fprintf(stderr, "qscope: --present plays one lesson (A in the TUI auto-plays it)\n");
            return 2;
        }
        if (s->cancel) {
            fprintf(stderr, "qscope: --present opens the TUI: run 'qscope play --present "
                    "NAME' from the shell, or P on the TUI's Lesson screen\n");
            return 2;
        }
        for (int i = first; i < argc; i++)
            if (!(argv[i][0] == '-' && argv[i][1])) return qs_tui_present_lesson(s, argv[i]);
    }
    qs_render_opts_for(s, o.out, &o.ro);
    /* interactive and on our own: Ctrl-C cancels a long command or leaves the lesson */
    struct sigaction sa, old;
    int own = !o.headless && !s->cancel;
    if (own) {
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_sigint;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &old);       /* no SA_RESTART: a waiting read returns */
        lesson_cancel = 0;
        s->cancel = &lesson_cancel;
    }
    for (int i = first; i < argc && status == 0; i++) {
        if (argv[i][0] == '-' && argv[i][1]) continue;
        status = play_one(s, argv[i], &o);
    }
    if (own) {
        sigaction(SIGINT, &old, NULL);
        s->cancel = NULL;
    }
    return status;
}
