/* lesson.c — the TUI's Lesson screen model: drives the lesson player (src/lesson) one step
 * at a time, keeps the narration of the current step, answers quizzes and sends each
 * command's result to the live screen drawn beside the narration. A step whose commands are
 * slow (training, big loads) is played in the worker thread, so the gauge moves and Esc
 * cancels. No ncurses calls. */
#include "tui_int.h"

#include <stdlib.h>
#include <string.h>

#include "qscope/lesson.h"

/* One item the player gave out, kept until the main thread shows it. */
typedef struct lesson_ev {
    const qs_lesson_item *item; /* the item (borrowed from the lesson) */
    int rc;                     /* qs_lesson_next's status */
    int step_start;             /* first item of its step */
    json_t *result;             /* CMD: its result (a reference of our own) */
    const qs_cmd *cmd;          /* CMD: the row that ran */
    char msg[1024];             /* EXPECT: the evaluation */
    char err[1024];             /* the error, when rc != QS_OK */
} lesson_ev;

/* The items of one step (or what is left of it). */
typedef struct lesson_batch {
    lesson_ev *ev;              /* the items, in order */
    int n, cap;                 /* count and capacity */
    int end;                    /* 1 when the lesson ended */
    int go_to;                  /* >= 0: qs_lesson_goto(go_to) first (p: back a step) */
    int goto_rc;                /* its status */
    char goto_err[1024];        /* its error */
} lesson_batch;

/* Appends one narration line: kind "heading", "text", "pre", "cmd", "expect", "quiz",
 * "answer", "hint", "error", "note". */
static void log_add(qs_tui_model *m, const char *kind, const char *text, int ok)
{
    json_t *o = json_object();
    json_object_set_new(o, "kind", json_string(kind));
    json_object_set_new(o, "text", json_string(text ? text : ""));
    json_object_set_new(o, "ok", json_boolean(ok));
    json_array_append_new(m->lesson_log, o);
}

static void batch_free(lesson_batch *b)
{
    if (!b) return;
    for (int i = 0; i < b->n; i++) json_decref(b->ev[i].result);
    free(b->ev);
    free(b);
}

/* The step counter and title the screen shows (drawing never reads the player). */
static void lesson_snapshot(qs_tui_model *m)
{
    const qs_lesson_player *p = m->lesson;
    if (!p) return;
    m->lesson_nsteps = p->lesson->nsteps;
    m->lesson_shown = m->lesson_done ? p->lesson->nsteps : p->item > 0 ? p->step + 1 : p->step;
    snprintf(m->lesson_title, sizeof m->lesson_title, "%s", p->lesson->title);
}

void qs_tui_lesson_fini(qs_tui_model *m)
{
    if (m->lesson) {
        qs_lesson_player_fini(m->lesson);
        free(m->lesson);
        m->lesson = NULL;
    }
    qs_tui_lesson_restore(m, 0);
    json_decref(m->lesson_list);
    m->lesson_list = NULL;
    m->highlight[0] = '\0';
}

void qs_tui_lesson_enter(qs_tui_model *m)
{
    if (!m->lesson && !m->lesson_list) m->lesson_list = qs_lesson_list();
    if (!m->lesson)
        qs_tui_status(m, 0, "↓/↑ choose a lesson, Enter opens it (L: by name or number)");
}

void qs_tui_lesson_leave(qs_tui_model *m)
{
    m->highlight[0] = '\0';
}

/* Which screen a directive names ("derive", "bits", "3"): the parser checked it against the
 * same table. */
static int screen_named(const char *name)
{
    return qs_screen_find(name);
}

/* 1 when a command line names a slow command (QS_CMD_SLOW). */
static int slow_line(const char *line)
{
    char word[64] = "";
    if (!line || sscanf(line, "%63s", word) != 1) return 0;
    const qs_cmd *c = qs_cmd_find(word);
    return c && (c->flags & QS_CMD_SLOW);
}

/* 1 when playing from (step, item) to the end of that step runs a slow command. */
static int step_is_slow(const qs_lesson *l, int step, int item)
{
    if (step < 0 || step >= l->nsteps) return 0;
    for (int i = item; i < l->steps[step].nitems; i++)
        if (l->steps[step].items[i].kind == QS_LI_CMD && slow_line(l->steps[step].items[i].text))
            return 1;
    return 0;
}

/* Takes items from the player until the next step begins, a quiz waits, a command is
 * cancelled or the lesson ends. Touches only the player and the session (worker-safe). */
static void collect(qs_lesson_player *p, lesson_batch *b)
{
    int first = 1;
    if (b->go_to >= 0) {
        qs_err err = {{0}};
        b->goto_rc = qs_lesson_goto(p, b->go_to, &err);
        snprintf(b->goto_err, sizeof b->goto_err, "%s", err.msg);
        if (b->goto_rc != QS_OK) return;
    }
    for (;;) {
        qs_lesson_event ev;
        qs_err err = {{0}};
        if (!first && p->item == 0) break;      /* the next item starts a new step */
        int rc = qs_lesson_next(p, &ev, &err);
        if (rc == QS_LESSON_END) {
            b->end = 1;
            break;
        }
        first = 0;
        if (b->n == b->cap) {
            int cap = b->cap ? b->cap * 2 : 16;
            lesson_ev *nv = realloc(b->ev, (size_t)cap * sizeof *nv);
            if (!nv) break;
            b->ev = nv;
            b->cap = cap;
        }
        lesson_ev *e = &b->ev[b->n++];
        e->item = ev.item;
        e->rc = rc;
        e->step_start = ev.step_start;
        e->result = json_incref(ev.result);
        e->cmd = ev.cmd;
        snprintf(e->msg, sizeof e->msg, "%s", ev.msg);
        snprintf(e->err, sizeof e->err, "%s", err.msg);
        if (ev.item->kind == QS_LI_QUIZ || rc == QS_CANCELLED) break;
    }
}

/* Shows a batch: narration, command results on the live screen, expectations, a quiz. */
static int apply(qs_tui_model *m, lesson_batch *b)
{
    int flags = QS_TUI_REDRAW;
    if (b->go_to >= 0) {
        m->highlight[0] = '\0';
        qs_tui_refresh(m);      /* the session was rebuilt from the lesson's start */
        if (b->goto_rc != QS_OK) {
            qs_tui_status(m, 1, "%s", b->goto_err);
            lesson_snapshot(m);
            return flags;
        }
    }
    for (int i = 0; i < b->n; i++) {
        lesson_ev *e = &b->ev[i];
        const qs_lesson_item *it = e->item;
        if (e->step_start) {
            /* a new step: what the status line said about the last one is no longer true */
            m->status[0] = '\0';
            m->status_err = 0;
            json_array_clear(m->lesson_log);
            m->highlight[0] = '\0';  /* a highlight lasts one step */
            m->lesson_done = 0;
            m->lesson_scroll = 0;
        }
        switch (it->kind) {
        case QS_LI_HEADING: log_add(m, "heading", it->text, 1); break;
        case QS_LI_TEXT: log_add(m, it->preformatted ? "pre" : "text", it->text, 1); break;
        case QS_LI_CMD:
            log_add(m, "cmd", it->text, e->rc == QS_OK);
            if (e->rc == QS_OK) qs_tui_route(m, e->cmd, e->result, it->text);
            else log_add(m, "error", e->rc == QS_CANCELLED ? "cancelled (n runs it again from "
                         "the start of the step: p then n)" : e->err, 0);
            break;
        case QS_LI_EXPECT: {
            char line[1200];
            snprintf(line, sizeof line, "%s %s", e->rc == QS_OK ? "✓" : "✗", e->msg);
            log_add(m, "expect", line, e->rc == QS_OK);
            if (e->rc != QS_OK && m->present && !m->show_checks)
                qs_tui_status(m, 1, "a check of this step failed (k shows the checks)");
            break;
        }
        case QS_LI_QUIZ:
            log_add(m, "quiz", it->quiz.question, 1);
            m->lesson_quiz = 1;
            /* in presenter mode the class reads the question first: a answers it (an input
             * line opening by itself would take the scrolling keys). After a step run in the
             * background the learner may be typing in another prompt: that one is kept. */
            if (!m->present && (m->prompt == QS_PR_NONE || m->prompt == QS_PR_ANSWER)) {
                m->prompt = QS_PR_ANSWER;
                flags |= QS_TUI_PROMPT;
            }
            break;
        case QS_LI_DIRECTIVE:
            if (it->text && strcmp(it->text, "screen") == 0) {
                int scr = screen_named(it->arg);
                if (scr >= 0 && scr != QS_SCR_LESSON) m->lesson_live = scr;
            } else if (it->text && strcmp(it->text, "highlight") == 0 && it->arg) {
                /* drawing marks the element when the live screen declares that name (the
                 * parser refused a name no screen declares; qscope/screens.h) */
                if (m->screen == QS_SCR_LESSON)
                    snprintf(m->highlight, sizeof m->highlight, "%s", it->arg);
                qs_tui_status(m, 0, "look at: %s", it->arg);
            }
            break;
        }
    }
    if (b->end) {
        m->lesson_done = 1;
        log_add(m, "note", "— end of the lesson (p goes back, L opens another) —", 1);
    }
    lesson_snapshot(m);
    return flags;
}

static void job_work(qs_tui_model *m)
{
    collect(m->lesson, m->job.data);
}

static int job_done(qs_tui_model *m)
{
    lesson_batch *b = m->job.data;
    qs_tui_status(m, 0, "n / Enter: next step · p: back");   /* apply may say more */
    int f = apply(m, b);
    batch_free(b);
    return f;
}

/* Plays the next step (or goes back to step go_to first when >= 0): in the worker thread
 * when it runs a slow command, else at once. */
static int play(qs_tui_model *m, int go_to)
{
    qs_lesson_player *p = m->lesson;
    if (!p) return QS_TUI_REDRAW;
    if (m->lesson_quiz) {
        qs_tui_status(m, 0, "skipped the quiz");
        m->lesson_quiz = 0;
    }
    lesson_batch *b = calloc(1, sizeof *b);
    if (!b) return QS_TUI_REDRAW;
    b->go_to = go_to;
    /* going back replays the steps before it from the lesson's own start */
    if (go_to >= 0) qs_tui_lesson_reset(m);
    int slow = go_to >= 0 ? 0 : step_is_slow(p->lesson, p->step, p->item);
    for (int s = 0; go_to >= 0 && s <= go_to && s < p->lesson->nsteps; s++)
        slow |= step_is_slow(p->lesson, s, 0);
    if (slow) {
        if (qs_tui_job_start_fn(m, "lesson step", job_work, job_done, b) != QS_OK) {
            batch_free(b);
            return QS_TUI_REDRAW;
        }
        return QS_TUI_REDRAW;
    }
    collect(p, b);
    int f = apply(m, b);
    batch_free(b);
    return f;
}

int qs_tui_lesson_open(qs_tui_model *m, const char *name)
{
    qs_lesson_player *p = calloc(1, sizeof *p);
    qs_err err = {{0}};
    if (!p) return QS_TUI_REDRAW;
    if (qs_lesson_player_open(p, m->s, name, &err) != QS_OK) {
        free(p);
        qs_tui_status(m, 1, "%s", err.msg);
        return QS_TUI_REDRAW;
    }
    /* the sandbox: the TUI does not ask about files; such a lesson is played by `qscope
     * play`, which names them and asks first */
    qs_lesson_use *u = NULL;
    int nu = 0;
    qs_lesson_uses(p->lesson, &u, &nu, &err);
    qs_lesson_uses_free(u, nu);
    if (nu > 0) {
        qs_lesson_player_fini(p);
        free(p);
        qs_tui_status(m, 1, "this lesson uses files outside its folder and the datasets: play "
                      "it with 'qscope play', which asks first");
        return QS_TUI_REDRAW;
    }
    if (m->lesson) {
        qs_lesson_player_fini(m->lesson);
        free(m->lesson);
    }
    /* the lesson plays on a session of its own, from its declared state */
    qs_tui_lesson_begin(m);
    p->s = m->s;
    m->lesson = p;
    m->lesson_quiz = 0;
    m->lesson_done = 0;
    m->lesson_live = QS_SCR_DATA;
    m->highlight[0] = '\0';
    json_array_clear(m->lesson_log);
    lesson_snapshot(m);
    /* nothing runs before the learner has seen the lesson and pressed n for step 1 */
    log_add(m, "heading", p->lesson->title, 1);
    if (p->lesson->summary) log_add(m, "text", p->lesson->summary, 1);
    log_add(m, "note", "— n / Enter starts step 1 —", 1);
    qs_tui_status(m, 0, "%s — n / Enter: first step, p: back", p->lesson->title);
    return QS_TUI_REDRAW;
}

int qs_tui_lesson_answer(qs_tui_model *m, const char *line)
{
    qs_lesson_player *p = m->lesson;
    if (!p) return QS_TUI_REDRAW;
    int r = qs_lesson_answer(p, line);
    if (r == 1) {
        m->lesson_quiz = 0;
        log_add(m, "answer", line, 1);
        qs_tui_status(m, 0, "right! n / Enter goes on");
    } else if (r == 0) {
        const char *hint = p->quiz_item && p->quiz_item->quiz.hint ? p->quiz_item->quiz.hint
                                                                    : "try again (a)";
        log_add(m, "answer", line, 0);
        /* the hint goes into the narration too, wrapped: the status line cuts a long one */
        char buf[1100];
        snprintf(buf, sizeof buf, "not quite: %s", hint);
        log_add(m, "hint", buf, 0);
        qs_tui_status(m, 1, "%s", buf);
    }
    return QS_TUI_REDRAW;
}

int qs_tui_lesson_tick(qs_tui_model *m, long long now_ms)
{
    qs_lesson_player *p = m->lesson;
    if (!p || !m->lesson_auto || m->screen != QS_SCR_LESSON) return 0;
    if (m->lesson_quiz || m->prompt != QS_PR_NONE || m->job.running) return 0;
    if (m->lesson_done) {
        m->lesson_auto = 0;
        return QS_TUI_REDRAW;
    }
    if (m->lesson_due_ms == 0) {
        m->lesson_due_ms = now_ms + qs_lesson_delay_ms(p, p->step);
        return 0;
    }
    if (now_ms < m->lesson_due_ms) return 0;
    int f = play(m, -1);
    /* a step played in the worker: the next tick after it ends sets the new deadline */
    m->lesson_due_ms = m->job.running ? 0 : now_ms + qs_lesson_delay_ms(p, p->step);
    return f;
}

/* o[key] when it is a string, else NULL. */
static const char *js_str(json_t *o, const char *key)
{
    json_t *v = o ? json_object_get(o, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Moves the lesson list's choice by dir rows (a page of them when page), and its first row
 * shown with it so the choice stays in view. */
static void list_move(qs_tui_model *m, json_t *list, int dir, int page)
{
    int n = (int)json_array_size(list), vis = qs_tui_lesson_list_rows(m, n);
    if (n == 0) return;
    m->lesson_sel += dir * (page ? (vis > 1 ? vis - 1 : 1) : 1);
    if (m->lesson_sel >= n) m->lesson_sel = n - 1;
    if (m->lesson_sel < 0) m->lesson_sel = 0;
    if (m->lesson_list_top > m->lesson_sel) m->lesson_list_top = m->lesson_sel;
    if (m->lesson_list_top < m->lesson_sel - vis + 1) m->lesson_list_top = m->lesson_sel - vis + 1;
}

int qs_tui_lesson_key(qs_tui_model *m, int key)
{
    const qs_tui_binding *b = NULL;
    for (const qs_tui_binding *r = qs_tui_bindings; r->act != QA_NONE; r++)
        if (r->screen == QS_SCR_LESSON && r->key == key) b = r;
    if (!b) return 0;
    qs_lesson_player *p = m->lesson;
    json_t *list = json_object_get(m->lesson_list, "lessons");
    switch (b->act) {
    case QA_LESSON_OPEN:
        m->prompt = QS_PR_LESSON;
        return QS_TUI_HANDLED | QS_TUI_PROMPT | QS_TUI_REDRAW;
    case QA_LESSON_NEXT:
        if (!p) {
            /* the list: open the lesson chosen (none listed: ask for a name) */
            const char *name = js_str(json_array_get(list, (size_t)m->lesson_sel), "name");
            if (name) return QS_TUI_HANDLED | qs_tui_lesson_open(m, name);
            m->prompt = QS_PR_LESSON;
            return QS_TUI_HANDLED | QS_TUI_PROMPT | QS_TUI_REDRAW;
        }
        return QS_TUI_HANDLED | play(m, -1);
    case QA_LESSON_PREV: {
        if (!p) return QS_TUI_HANDLED;
        /* the step being shown is the one before p->step (or p->step when mid-step) */
        int shown = p->item > 0 ? p->step : p->step - 1;
        if (m->lesson_done) shown = p->lesson->nsteps - 1;
        m->lesson_quiz = 0;
        m->lesson_done = 0;
        return QS_TUI_HANDLED | play(m, shown > 0 ? shown - 1 : 0);
    }
    case QA_LESSON_AUTO:
        if (!p) {
            qs_tui_status(m, 1, "open a lesson first (L)");
            return QS_TUI_HANDLED | QS_TUI_REDRAW;
        }
        m->lesson_auto = !m->lesson_auto;
        m->lesson_due_ms = 0;       /* the tick sets the first deadline */
        qs_tui_status(m, 0, "auto-play %s", m->lesson_auto ? "on (A stops it)" : "off");
        return QS_TUI_HANDLED | QS_TUI_REDRAW;
    case QA_SCROLL_DOWN:
    case QA_SCROLL_UP:
        if (!p) {
            list_move(m, list, b->act == QA_SCROLL_DOWN ? 1 : -1, key == KEY_NPAGE ||
                      key == KEY_PPAGE);
            return QS_TUI_HANDLED | QS_TUI_REDRAW;
        }
        if (b->act == QA_SCROLL_UP) {
            m->lesson_scroll -= key == KEY_PPAGE ? 10 : 1;
            if (m->lesson_scroll < 0) m->lesson_scroll = 0;
            return QS_TUI_HANDLED | QS_TUI_REDRAW;
        }
        m->lesson_scroll += key == KEY_NPAGE ? 10 : 1;
        if (m->lesson_scroll > qs_tui_lesson_scroll_max(m))
            m->lesson_scroll = qs_tui_lesson_scroll_max(m);
        return QS_TUI_HANDLED | QS_TUI_REDRAW;
    case QA_LESSON_LIVE:
        m->lesson_show_live = !m->lesson_show_live;
        return QS_TUI_HANDLED | QS_TUI_REDRAW;
    case QA_PRESENT:
        return qs_tui_present(m, !m->present);
    case QA_CHECKS:
        if (!m->present) {
            qs_tui_status(m, 0, "check lines are hidden only in presenter mode (P)");
            return QS_TUI_HANDLED | QS_TUI_REDRAW;
        }
        m->show_checks = !m->show_checks;
        qs_tui_status(m, 0, "check lines %s", m->show_checks ? "shown (k hides them)"
                                                              : "hidden (k shows them)");
        return QS_TUI_HANDLED | QS_TUI_REDRAW;
    case QA_LESSON_CLOSE:
        if (!p) {
            qs_tui_status(m, 1, "no lesson is open (L opens one)");
            return QS_TUI_HANDLED | QS_TUI_REDRAW;
        }
        qs_lesson_player_fini(p);
        free(p);
        m->lesson = NULL;
        m->lesson_quiz = m->lesson_done = m->lesson_auto = 0;
        m->highlight[0] = '\0';
        json_array_clear(m->lesson_log);
        qs_tui_lesson_restore(m, 1);
        if (!m->lesson_list) m->lesson_list = qs_lesson_list();
        qs_tui_status(m, 0, "lesson closed: your own tensor, scheme and views are back");
        return QS_TUI_HANDLED | QS_TUI_REDRAW;
    case QA_LESSON_ANSWER:
        if (!p || !p->quiz_open) {
            qs_tui_status(m, 1, "no quiz is waiting");
            return QS_TUI_HANDLED | QS_TUI_REDRAW;
        }
        m->prompt = QS_PR_ANSWER;
        return QS_TUI_HANDLED | QS_TUI_PROMPT | QS_TUI_REDRAW;
    default: return 0;
    }
}
