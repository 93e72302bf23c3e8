/* present.c — a lesson on its own: the session it runs on and the view state it starts
 * from, and presenter mode (the narration and the live screen on the whole terminal, no
 * tab bar or key hints, the check lines hidden until k shows them). A lesson plays on a
 * fresh session (its declared state: qscope's defaults, then its own commands), so what the
 * user had loaded, set and scrolled to is neither what the lesson starts from nor lost: it
 * comes back when the lesson is closed. No ncurses calls. */
#include "tui_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The view fields a lesson starts without (their defaults as after start-up). */
static void view_take(qs_tui_model *m, qs_tui_view *v)
{
    v->log_scale = m->log_scale;
    v->channels = m->channels;
    v->chan_scroll = m->chan_scroll;
    v->example = m->example;
    v->has_value = m->has_value;
    v->step = m->step;
    v->dsrc = m->dsrc;
    memcpy(v->mt, m->mt, sizeof v->mt);     /* the traces' results move to the saved view */
    memset(m->mt, 0, sizeof m->mt);
    m->dsrc = QS_DSRC_SCHEME;
    v->elem = m->elem;
    v->value = m->value;
    v->bits_input = m->bits_input;
    v->bits_row = m->bits_row;
    v->bits_cur = m->bits_cur;
    v->bits_view = m->bits_view;
    v->lab_field = m->lab_field;
    memcpy(v->lab_set, m->lab_set, sizeof v->lab_set);
    v->compare = m->compare;
    v->lab = m->lab;
    v->methods = m->methods;
    v->err_methods = m->err_methods;
    memcpy(v->methods_key, m->methods_key, sizeof v->methods_key);
    memcpy(v->methods_for, m->methods_for, sizeof v->methods_for);
    m->methods = NULL;
    m->err_methods = 0;
    m->methods_key[0] = m->methods_for[0] = '\0';
    memcpy(v->compare_key, m->compare_key, sizeof v->compare_key);
    memcpy(v->compare_for, m->compare_for, sizeof v->compare_for);
    m->compare = m->lab = NULL;
    m->log_scale = m->channels = m->chan_scroll = 0;
    m->example = m->has_value = m->step = 0;
    m->elem = -1;
    m->value = 0;
    m->bits_row = QS_FMT_FP32;
    m->bits_cur = 0;
    m->bits_view = QS_BITS_ALL;
    m->output_shown = 0;
    m->compare_key[0] = m->compare_for[0] = '\0';
    qs_tui_bits_set(m, 7.32);
}

static void view_give(qs_tui_model *m, qs_tui_view *v)
{
    json_decref(m->compare);
    json_decref(m->lab);
    json_decref(m->methods);
    m->methods = v->methods;
    m->err_methods = v->err_methods;
    memcpy(m->methods_key, v->methods_key, sizeof m->methods_key);
    memcpy(m->methods_for, v->methods_for, sizeof m->methods_for);
    v->methods = NULL;
    for (int i = 0; i < QS_DSRC_COUNT; i++) qs_tui_mtrace_clear(&m->mt[i]);
    memcpy(m->mt, v->mt, sizeof m->mt);
    memset(v->mt, 0, sizeof v->mt);
    m->dsrc = v->dsrc;
    m->log_scale = v->log_scale;
    m->channels = v->channels;
    m->chan_scroll = v->chan_scroll;
    m->example = v->example;
    m->has_value = v->has_value;
    m->step = v->step;
    m->elem = v->elem;
    m->value = v->value;
    m->bits_row = v->bits_row;
    m->bits_cur = v->bits_cur;
    m->bits_view = v->bits_view;
    m->lab_field = v->lab_field;
    memcpy(m->lab_set, v->lab_set, sizeof v->lab_set);
    m->compare = v->compare;
    m->lab = v->lab;
    memcpy(m->compare_key, v->compare_key, sizeof v->compare_key);
    memcpy(m->compare_for, v->compare_for, sizeof v->compare_for);
    v->compare = v->lab = NULL;
    m->output_shown = 0;
    qs_tui_lab_line(m);
    qs_tui_bits_set(m, v->bits_input);
}

/* A fresh session for the lesson, with the user's display settings. */
static void lesson_session_init(qs_tui_model *m, qs_session *ls)
{
    qs_session_init(ls);
    ls->precision = m->user_s->precision;
    ls->color = m->user_s->color;
    ls->json = m->user_s->json;
    ls->face = m->user_s->face;
}

static void detach(qs_session *s)
{
    s->cancel = NULL;
    s->progress = NULL;
    s->progress_ctx = NULL;
}

void qs_tui_lesson_begin(qs_tui_model *m)
{
    if (m->lesson_s) {          /* another lesson was open: this one starts afresh too */
        qs_tui_lesson_reset(m);
        return;
    }
    qs_session *ls = calloc(1, sizeof *ls);
    if (!ls) return;            /* out of memory: the lesson plays on the user's session */
    m->user_s = m->s;
    lesson_session_init(m, ls);
    m->lesson_s = ls;
    detach(m->user_s);
    m->s = ls;
    view_take(m, &m->saved);
    qs_tui_refresh(m);
}

void qs_tui_lesson_reset(qs_tui_model *m)
{
    if (!m->lesson_s) return;
    qs_session_fini(m->lesson_s);
    lesson_session_init(m, m->lesson_s);
    m->s = m->lesson_s;
}

void qs_tui_lesson_restore(qs_tui_model *m, int refresh)
{
    if (!m->lesson_s) return;
    detach(m->lesson_s);
    qs_session_fini(m->lesson_s);
    free(m->lesson_s);
    m->lesson_s = NULL;
    m->s = m->user_s;
    m->user_s = NULL;
    if (!refresh) {             /* quitting: only what the saved views own */
        json_decref(m->saved.compare);
        json_decref(m->saved.lab);
        json_decref(m->saved.methods);
        m->saved.compare = m->saved.lab = m->saved.methods = NULL;
        for (int i = 0; i < QS_DSRC_COUNT; i++) qs_tui_mtrace_clear(&m->saved.mt[i]);
        return;
    }
    view_give(m, &m->saved);
    qs_tui_refresh(m);
}

int qs_tui_present(qs_tui_model *m, int on)
{
    if (on == m->present) return QS_TUI_REDRAW;
    m->present = on;
    m->help = 0;
    if (on) {
        qs_tui_goto(m, QS_SCR_LESSON);
        m->show_checks = 0;
        m->status[0] = '\0';
    } else {
        qs_tui_status(m, 0, "presenter mode off (P turns it on)");
    }
    return QS_TUI_HANDLED | QS_TUI_REDRAW | QS_TUI_RESIZE;
}
