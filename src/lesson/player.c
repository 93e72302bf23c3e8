/* player.c — plays a lesson one item at a time on a session: runs its commands, checks its
 * expectations, opens its quizzes; the faces (headless, REPL, TUI) drive it and show events. */
#include "qscope/lesson.h"
#include "qscope/paths.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


void qs_lesson_datasets_dir(char *buf, size_t len)
{
    /* the first folder of the data-set search path (paths.h) holding the bundled data */
    const char *dir = NULL;
    qs_search_path sp;
    char probe[PATH_MAX + 64];
    qs_search_path_get(QS_PATH_DATASETS, &sp);
    for (int i = 0; i < sp.n && !dir; i++) {
        snprintf(probe, sizeof probe, "%s/default.npy", sp.dir[i]);
        if (access(probe, R_OK) == 0) dir = sp.dir[i];
    }
    if (!dir) dir = sp.dir[sp.n - 1];
    snprintf(buf, len, "%s", dir);
}

char *qs_lesson_expand(const char *line)
{
    static const char tok[] = "{datasets}";
    char dir[PATH_MAX + 64];
    if (!strstr(line, tok)) return strdup(line);
    qs_lesson_datasets_dir(dir, sizeof dir);
    size_t dl = strlen(dir), tl = sizeof tok - 1, n = 0;
    for (const char *p = strstr(line, tok); p; p = strstr(p + tl, tok)) n++;
    char *out = malloc(strlen(line) + n * dl + 1), *o = out;
    if (!out) return NULL;
    for (const char *p = line; *p; ) {
        if (strncmp(p, tok, tl) == 0) {
            memcpy(o, dir, dl);
            o += dl;
            p += tl;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return out;
}

void qs_lesson_player_init(qs_lesson_player *p, qs_session *s, qs_lesson *l)
{
    memset(p, 0, sizeof *p);
    p->lesson = l;
    p->s = s;
}

int qs_lesson_player_open(qs_lesson_player *p, qs_session *s, const char *name, qs_err *err)
{
    char path[4096];
    qs_lesson *l = NULL;
    memset(p, 0, sizeof *p);
    if (qs_lesson_find(name, path, sizeof path, err) != QS_OK) return QS_ERR;
    if (qs_lesson_load(path, &l, err) != QS_OK) return QS_ERR;
    /* a lesson whose commands need more than its header declares is refused whole */
    qs_lesson_use *u = NULL;
    int nu = 0;
    if (qs_lesson_uses(l, &u, &nu, err) != QS_OK) {
        qs_lesson_free(l);
        return QS_ERR;
    }
    qs_lesson_uses_free(u, nu);
    qs_lesson_player_init(p, s, l);
    return QS_OK;
}

void qs_lesson_player_fini(qs_lesson_player *p)
{
    if (!p) return;
    qs_lesson_free(p->lesson);
    json_decref(p->last);
    free(p->line);
    memset(p, 0, sizeof *p);
}

/* Runs a command item; keeps its result as the player's last. */
static int run_cmd(qs_lesson_player *p, const qs_lesson_item *it, qs_lesson_event *ev,
                   qs_err *err)
{
    json_t *res = NULL;
    const qs_cmd *cmd = NULL;
    qs_err e = {{0}};
    free(p->line);
    p->line = qs_lesson_expand(it->text);
    if (!p->line) return qs_err_set(err, "%s:%d: out of memory", p->lesson->path, it->line);
    /* the sandbox, checked again as the command runs (the files may have changed) */
    char path[PATH_MAX];
    int what = qs_lesson_access(p->lesson, p->line, path, sizeof path);
    if (what && (!(p->lesson->files & what) || !p->files_ok)) {
        p->failed++;
        if (ev) ev->line = p->line;
        return qs_err_set(err, "%s:%d: refused: this command %s %.200s and the lesson %s",
                          p->lesson->path, it->line,
                          what == QS_LESSON_FILES_WRITE ? "writes" : "reads", path,
                          !(p->lesson->files & what) ? "does not declare it in its header "
                          "('files:')" : "was not allowed to use files");
    }
    /* and at the point of access: the commands that open or write a named file ask the
     * session's sandbox (qs_cmd_check_path), whatever the line looked like */
    char lroot[PATH_MAX], droot[PATH_MAX];
    qs_lesson_sandbox_roots(p->lesson, lroot, droot);
    qs_sandbox sb = {p->files_ok ? p->lesson->files : 0,
                     {lroot[0] ? lroot : NULL, droot[0] ? droot : NULL}};
    const qs_sandbox *outer = p->s->sandbox;
    p->s->sandbox = &sb;
    int rc = qs_cmd_run_line(p->s, p->line, &res, &cmd, &e);
    p->s->sandbox = outer;
    if (ev) {
        ev->cmd = cmd;
        ev->line = p->line;
    }
    if (rc != QS_OK) {
        p->failed++;
        qs_err_set(err, "%s:%d: %s", p->lesson->path, it->line,
                   e.msg[0] ? e.msg : "cancelled");
        return rc;
    }
    p->commands++;
    json_decref(p->last);
    p->last = res ? res : json_object();
    if (ev) {
        ev->result = p->last;
        ev->ok = 1;
    }
    return QS_OK;
}

int qs_lesson_next(qs_lesson_player *p, qs_lesson_event *ev, qs_err *err)
{
    const qs_lesson *l = p->lesson;
    memset(ev, 0, sizeof *ev);
    if (!l || p->step >= l->nsteps) return QS_LESSON_END;
    const qs_lesson_step *st = &l->steps[p->step];
    const qs_lesson_item *it = &st->items[p->item];
    ev->item = it;
    ev->step = p->step;
    ev->step_start = p->item == 0;
    if (++p->item >= st->nitems) {
        p->step++;
        p->item = 0;
    }
    p->quiz_open = 0;
    switch (it->kind) {
    case QS_LI_CMD:
        return run_cmd(p, it, ev, err);
    case QS_LI_EXPECT: {
        int r = qs_expect_eval(p->last, &it->expect, ev->msg, sizeof ev->msg);
        if (r == 1) {
            ev->ok = 1;
            p->passed++;
            return QS_OK;
        }
        p->failed++;
        qs_err_set(err, "%s:%d: expect %s %s %s failed: %s", l->path, it->line,
                   it->expect.key, qs_op_str(it->expect.op), it->expect.value, ev->msg);
        return QS_ERR;
    }
    case QS_LI_QUIZ:
        p->quiz_open = 1;
        p->quiz_tries = 0;
        p->quiz_item = it;
        return QS_OK;
    default:
        return QS_OK;
    }
}

const qs_lesson_item *qs_lesson_peek(const qs_lesson_player *p)
{
    const qs_lesson *l = p->lesson;
    if (!l || p->step >= l->nsteps || p->item >= l->steps[p->step].nitems) return NULL;
    return &l->steps[p->step].items[p->item];
}

int qs_lesson_answer(qs_lesson_player *p, const char *answer)
{
    if (!p->quiz_open || !p->quiz_item) return -1;
    if (qs_quiz_check(&p->quiz_item->quiz, answer)) {
        p->quiz_open = 0;
        return 1;
    }
    p->quiz_tries++;
    return 0;
}

int qs_lesson_goto(qs_lesson_player *p, int step, qs_err *err)
{
    const qs_lesson *l = p->lesson;
    if (!l) return qs_err_set(err, "no lesson");
    if (step < 0) step = 0;
    if (step > l->nsteps) step = l->nsteps;
    json_decref(p->last);
    p->last = NULL;
    p->quiz_open = 0;
    p->step = 0;
    p->item = 0;
    for (int i = 0; i < step; i++)
        for (int j = 0; j < l->steps[i].nitems; j++)
            if (l->steps[i].items[j].kind == QS_LI_CMD) {
                int rc = run_cmd(p, &l->steps[i].items[j], NULL, err);
                if (rc != QS_OK) return rc;
            }
    p->step = step;
    return QS_OK;
}

int qs_lesson_delay_ms(const qs_lesson_player *p, int step)
{
    const qs_lesson *l = p->lesson;
    if (!l) return 0;
    if (step < 0 || step >= l->nsteps) return l->delay_ms;
    return l->steps[step].delay_ms;
}
