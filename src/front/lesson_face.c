/* lesson_face.c — the lesson player on a terminal or headless: `qscope play [--headless]
 * LESSON...`, `qscope lesson list | check FILE... | play NAME`. Prints a transcript of each
 * step (narration, commands and their results, expectations, quizzes); the library's player
 * (lesson.h) does the work. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qscope/faces.h"
#include "qscope/front.h"
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
    int present;        /* --present: the TUI's presenter mode (a terminal; else headless) */
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

/* Prints narration wrapped to the width, with *emphasis* in bold when colour is on. */
static void print_text(const play_opts *o, const char *text, int pre)
{
    int width = o->ro.width > 100 ? 100 : o->ro.width - 2;
    char *w = pre ? strdup(text) : qs_lesson_wrap(text, width);
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
            fprintf(o->out, "The answer: %s\n", q->answers[0]);
            p->quiz_open = 0;
            return 0;
        }
        if (strcmp(buf, "quit") == 0) return -1;
        if (buf[0] == '\0' || strcmp(buf, "?") == 0 || strcmp(buf, "hint") == 0) {
            fprintf(o->out, "%s\n", q->hint ? q->hint : "(no hint; type 'skip' to see the "
                    "answer)");
            continue;
        }
        if (qs_lesson_answer(p, buf) == 1) {
            fprintf(o->out, "%sRight.%s\n", col(o, C_OK), col(o, C_RESET));
            return 0;
        }
        fprintf(o->out, "%sNot quite.%s", col(o, C_BAD), col(o, C_RESET));
        if (q->hint) fprintf(o->out, " Hint: %s", q->hint);
        fprintf(o->out, "  (type 'skip' to see the answer)\n");
    }
}

/* Plays one lesson file. Returns 0 when every command ran and every expectation held, 1 at
 * the first failure (reported as "qscope: FILE:LINE: ..."), 2 when the file is unusable. */
static int play_one(qs_session *s, const char *name, play_opts *o)
{
    qs_lesson_player p;
    qs_lesson_event ev;
    qs_err err = {{0}};
    int rc, status = 0, quizzes = 0, skip_prompt = 1;
    qs_li_kind prev = QS_LI_HEADING;
    if (qs_lesson_player_open(&p, s, name, &err) != QS_OK) {
        fflush(o->out);
        fprintf(stderr, "qscope: %s\n", err.msg);
        return 2;
    }
    const qs_lesson *l = p.lesson;
    fprintf(o->out, "%s=== %s%s  (%s)\n", col(o, C_BOLD), l->title, col(o, C_RESET),
            l->path);
    if (l->summary) print_text(o, l->summary, 0);
    if (!o->headless)
        fprintf(o->out, "%s(Enter: next step, b: back a step, q: quit; at a quiz type your "
                "answer, '?' for the hint, 'skip' to see it)%s\n", col(o, C_DIM),
                col(o, C_RESET));
    for (;;) {
        /* interactive: wait before each new step */
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
                    fflush(o->out);
                    fprintf(stderr, "qscope: %s\n", err.msg);
                    status = 1;
                    break;
                }
                skip_prompt = 1;
                continue;
            }
        }
        skip_prompt = 0;
        rc = qs_lesson_next(&p, &ev, &err);
        if (rc == QS_LESSON_END) break;
        const qs_lesson_item *it = ev.item;
        if (ev.step_start)
            fprintf(o->out, "\n%s--- step %d/%d ---%s\n", col(o, C_DIM), ev.step + 1,
                    l->nsteps, col(o, C_RESET));
        else if ((it->kind == QS_LI_TEXT || it->kind == QS_LI_QUIZ) && prev != QS_LI_HEADING)
            fputc('\n', o->out);              /* a paragraph starts after a blank line */
        prev = it->kind;
        switch (it->kind) {
        case QS_LI_HEADING:
            fprintf(o->out, "%s## %s%s\n", col(o, C_BOLD), it->text, col(o, C_RESET));
            break;
        case QS_LI_TEXT:
            print_text(o, it->text, it->preformatted);
            break;
        case QS_LI_DIRECTIVE:
            fprintf(o->out, "%s[%s%s%s]%s\n", col(o, C_DIM), it->text, it->arg ? " " : "",
                    it->arg ? it->arg : "", col(o, C_RESET));
            break;
        case QS_LI_CMD:
            fprintf(o->out, "%sqscope> %s%s\n", col(o, C_CMD), ev.line ? ev.line : it->text,
                    col(o, C_RESET));
            if (rc == QS_OK) print_result(o, s, ev.cmd, ev.result);
            break;
        case QS_LI_EXPECT:
            fprintf(o->out, "%sexpect %s %s %s%s  %s%s%s\n", col(o, C_DIM), it->expect.key,
                    qs_op_str(it->expect.op), it->expect.value, col(o, C_RESET),
                    ev.ok ? col(o, C_OK) : col(o, C_BAD), ev.ok ? "ok" : "FAILED",
                    col(o, C_RESET));
            break;
        case QS_LI_QUIZ:
            quizzes++;
            fprintf(o->out, "%squiz:%s %s\n", col(o, C_BOLD), col(o, C_RESET),
                    it->quiz.question);
            if (o->headless) {
                qs_lesson_answer(&p, it->quiz.answers[0]);
                fprintf(o->out, "answer> %s\n", it->quiz.answers[0]);
            } else if (ask_quiz(o, &p, &it->quiz) < 0) {
                goto done;
            }
            break;
        }
        if (rc != QS_OK) {
            fflush(o->out);
            fprintf(stderr, "qscope: %s\n", err.msg);
            status = 1;
            break;
        }
    }
    if (status == 0 && p.step >= l->nsteps)
        fprintf(o->out, "\n%s=== %s: done%s (%d commands, %d expectations met, %d quizzes)\n",
                col(o, C_BOLD), l->name, col(o, C_RESET), p.commands, p.passed, quizzes);
done:
    fflush(o->out);
    qs_lesson_player_fini(&p);
    return status;
}

static int lesson_usage(void)
{
    fprintf(stderr,
            "usage: qscope play [--headless] [--auto[=SECONDS]] LESSON...\n"
            "       qscope play --present LESSON\n"
            "       qscope lesson list\n"
            "       qscope lesson check FILE...\n"
            "       qscope lesson play [--headless] [--auto[=SECONDS]] NAME\n");
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
        json_array_foreach(rows, i, r) {
            const char *t = json_string_value(json_object_get(r, "title"));
            const char *lv = json_string_value(json_object_get(r, "level"));
            if (t)
                printf("%-22s %-13s %s\n", json_string_value(json_object_get(r, "name")),
                       lv ? lv : "", t);
            else
                printf("%-22s %-13s (broken: %s)\n",
                       json_string_value(json_object_get(r, "name")), "",
                       json_string_value(json_object_get(r, "error")));
        }
    }
    json_decref(res);
    return 0;
}

static int do_check(qs_session *s, int argc, char **argv)
{
    int bad = 0;
    if (argc < 1) return lesson_usage();
    for (int i = 0; i < argc; i++) {
        char path[4096];
        qs_lesson *l = NULL;
        qs_err err = {{0}};
        if (qs_lesson_find(argv[i], path, sizeof path, &err) != QS_OK ||
            qs_lesson_load(path, &l, &err) != QS_OK) {
            fprintf(stderr, "qscope: %s\n", err.msg);
            bad = 1;
            continue;
        }
        if (s->json) {
            json_t *o = json_pack("{s:s, s:b, s:i, s:i, s:i, s:i}", "file", path, "ok", 1,
                                  "steps", l->nsteps, "commands",
                                  qs_lesson_count(l, QS_LI_CMD), "expects",
                                  qs_lesson_count(l, QS_LI_EXPECT), "quizzes",
                                  qs_lesson_count(l, QS_LI_QUIZ));
            qs_render_json(stdout, o);
            json_decref(o);
        } else {
            printf("%s: ok (%d steps, %d commands, %d expectations, %d quizzes)\n", path,
                   l->nsteps, qs_lesson_count(l, QS_LI_CMD), qs_lesson_count(l, QS_LI_EXPECT),
                   qs_lesson_count(l, QS_LI_QUIZ));
        }
        qs_lesson_free(l);
    }
    return bad ? 2 : 0;
}

int qs_lesson_main(qs_session *s, int argc, char **argv)
{
    play_opts o;
    int first = 1, status = 0, nfiles = 0;
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
        else if (strcmp(a, "--present") == 0) o.present = 1;
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
    if (!isatty(fileno(o.in)) || !isatty(fileno(o.out))) o.headless = 1;
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
