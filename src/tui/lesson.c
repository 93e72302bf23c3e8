/* lesson.c — the TUI's Lesson screen model: drives the lesson player (src/lesson) one step
 * at a time, keeps the narration of the current step, answers quizzes and sends each
 * command's result to the live screen drawn beside the narration. No ncurses calls. */
#include "tui_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "qscope/lesson.h"

#define ESC 27

/* Appends one narration line: kind "heading", "text", "cmd", "expect", "quiz", "note". */
static void log_add(qs_tui_model *m, const char *kind, const char *text, int ok)
{
    json_t *o = json_object();
    json_object_set_new(o, "kind", json_string(kind));
    json_object_set_new(o, "text", json_string(text ? text : ""));
    json_object_set_new(o, "ok", json_boolean(ok));
    json_array_append_new(m->lesson_log, o);
}

void qs_tui_lesson_fini(qs_tui_model *m)
{
    if (m->lesson) {
        qs_lesson_player_fini(m->lesson);
        free(m->lesson);
        m->lesson = NULL;
    }
    json_decref(m->lesson_list);
    m->lesson_list = NULL;
}

void qs_tui_lesson_enter(qs_tui_model *m)
{
    if (!m->lesson && !m->lesson_list) m->lesson_list = qs_lesson_list();
    if (!m->lesson)
        qs_tui_status(m, 0, "L opens a lesson (name or number), then n / Enter steps through it");
}

/* Which screen a directive names ("derive", "bits", "3"). */
static int screen_named(const char *name)
{
    if (!name) return -1;
    for (int i = 0; i < QS_SCR_COUNT; i++)
        if (strcasecmp(name, qs_tui_screens[i].title) == 0) return i;
    if (name[0] >= '1' && name[0] <= '6' && name[1] == '\0') return name[0] - '1';
    return -1;
}

/* Plays items until the next step begins, a quiz waits, or the lesson ends. */
static int play_step(qs_tui_model *m)
{
    qs_lesson_player *p = m->lesson;
    int first = 1;
    if (!p) return QS_TUI_REDRAW;
    if (m->lesson_quiz) {
        qs_tui_status(m, 0, "a quiz waits: a answers it (n again skips it)");
        m->lesson_quiz = 0;
    }
    for (;;) {
        qs_lesson_event ev;
        qs_err err = {{0}};
        if (!first && p->item == 0) break;      /* the next item starts a new step */
        int rc = qs_lesson_next(p, &ev, &err);
        if (rc == QS_LESSON_END) {
            m->lesson_done = 1;
            log_add(m, "note", "— end of the lesson (p goes back, L opens another) —", 1);
            break;
        }
        if (ev.step_start) {
            json_array_clear(m->lesson_log);
            m->lesson_done = 0;
            m->lesson_scroll = 0;
        }
        first = 0;
        const qs_lesson_item *it = ev.item;
        switch (it->kind) {
        case QS_LI_HEADING: log_add(m, "heading", it->text, 1); break;
        case QS_LI_TEXT: log_add(m, it->preformatted ? "pre" : "text", it->text, 1); break;
        case QS_LI_CMD:
            log_add(m, "cmd", it->text, rc == QS_OK);
            if (rc == QS_OK) qs_tui_route(m, ev.cmd, ev.result, it->text);
            else log_add(m, "error", err.msg, 0);
            break;
        case QS_LI_EXPECT: {
            char line[1200];
            snprintf(line, sizeof line, "%s %s", rc == QS_OK ? "✓" : "✗", ev.msg);
            log_add(m, "expect", line, rc == QS_OK);
            break;
        }
        case QS_LI_QUIZ:
            log_add(m, "quiz", it->quiz.question, 1);
            m->lesson_quiz = 1;
            m->prompt = QS_PR_ANSWER;
            return QS_TUI_REDRAW | QS_TUI_PROMPT;
        case QS_LI_DIRECTIVE:
            if (it->text && strcmp(it->text, "screen") == 0) {
                int scr = screen_named(it->arg);
                if (scr >= 0 && scr != QS_SCR_LESSON) m->lesson_live = scr;
            } else if (it->text && strcmp(it->text, "highlight") == 0 && it->arg) {
                qs_tui_status(m, 0, "look at: %s", it->arg);
            }
            break;
        }
    }
    return QS_TUI_REDRAW;
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
    if (m->lesson) {
        qs_lesson_player_fini(m->lesson);
        free(m->lesson);
    }
    m->lesson = p;
    m->lesson_quiz = 0;
    m->lesson_done = 0;
    m->lesson_live = QS_SCR_DATA;
    json_array_clear(m->lesson_log);
    qs_tui_status(m, 0, "%s — n / Enter: next step, p: back", p->lesson->title);
    return play_step(m);
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
        qs_tui_status(m, 1, "not quite: %s", hint);
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
    int f = play_step(m);
    m->lesson_due_ms = now_ms + qs_lesson_delay_ms(p, p->step);
    return f;
}

int qs_tui_lesson_key(qs_tui_model *m, int key)
{
    const qs_tui_binding *b = NULL;
    for (const qs_tui_binding *r = qs_tui_bindings; r->act != QA_NONE; r++)
        if (r->screen == QS_SCR_LESSON && r->key == key) b = r;
    if (!b) return 0;
    qs_lesson_player *p = m->lesson;
    switch (b->act) {
    case QA_LESSON_OPEN:
        m->prompt = QS_PR_LESSON;
        return QS_TUI_HANDLED | QS_TUI_PROMPT | QS_TUI_REDRAW;
    case QA_LESSON_NEXT:
        if (!p) {
            m->prompt = QS_PR_LESSON;
            return QS_TUI_HANDLED | QS_TUI_PROMPT | QS_TUI_REDRAW;
        }
        return QS_TUI_HANDLED | play_step(m);
    case QA_LESSON_PREV: {
        if (!p) return QS_TUI_HANDLED;
        /* the step being shown is the one before p->step (or p->step when mid-step) */
        int shown = p->item > 0 ? p->step : p->step - 1;
        if (m->lesson_done) shown = p->lesson->nsteps - 1;
        int target = shown > 0 ? shown - 1 : 0;
        qs_err err = {{0}};
        if (qs_lesson_goto(p, target, &err) != QS_OK) {
            qs_tui_status(m, 1, "%s", err.msg);
            return QS_TUI_HANDLED | QS_TUI_REDRAW;
        }
        qs_tui_refresh(m);
        m->lesson_quiz = 0;
        m->lesson_done = 0;
        return QS_TUI_HANDLED | play_step(m);
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
        m->lesson_scroll += key == KEY_NPAGE ? 10 : 1;
        if (m->lesson_scroll > 200) m->lesson_scroll = 200;
        return QS_TUI_HANDLED | QS_TUI_REDRAW;
    case QA_SCROLL_UP:
        m->lesson_scroll -= key == KEY_PPAGE ? 10 : 1;
        if (m->lesson_scroll < 0) m->lesson_scroll = 0;
        return QS_TUI_HANDLED | QS_TUI_REDRAW;
    case QA_LESSON_LIVE:
        m->lesson_show_live = !m->lesson_show_live;
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
