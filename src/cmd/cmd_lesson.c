/* cmd_lesson.c — the `lesson` command (list | check FILE... | play NAME) as a row of the
 * command table, so the REPL, the TUI's ':' line and `qscope -c` all have it (issue 8). */
#include "qscope/cmd.h"

#include <string.h>

#include "qscope/lesson.h"

/* Summary of a parsed lesson: {file, name, title, level, steps, commands, expects, quizzes}. */
static json_t *summary(const qs_lesson *l)
{
    json_t *o = json_object();
    json_object_set_new(o, "file", json_string(l->path));
    json_object_set_new(o, "name", json_string(l->name));
    json_object_set_new(o, "title", json_string(l->title));
    json_object_set_new(o, "level", json_string(l->level ? l->level : ""));
    json_object_set_new(o, "steps", json_integer(l->nsteps));
    json_object_set_new(o, "commands", json_integer(qs_lesson_count(l, QS_LI_CMD)));
    json_object_set_new(o, "expects", json_integer(qs_lesson_count(l, QS_LI_EXPECT)));
    json_object_set_new(o, "quizzes", json_integer(qs_lesson_count(l, QS_LI_QUIZ)));
    return o;
}

/* --strict: the numbers of the narration (strict.c); fails naming every unbacked number. */
static int strict_into(json_t *o, const char *path, qs_err *err)
{
    json_t *rep = NULL;
    if (qs_lesson_strict(path, &rep, err) != QS_OK) return QS_ERR;
    json_t *ub = json_object_get(rep, "unbacked");
    if (json_array_size(ub) > 0) {
        size_t i, used = 0;
        json_t *u;
        char list[900];
        list[0] = '\0';
        json_array_foreach(ub, i, u) {
            int w = snprintf(list + used, sizeof list - used, "%s%lld '%s'", i ? ", " : "",
                             (long long)json_integer_value(json_object_get(u, "line")),
                             json_string_value(json_object_get(u, "number")));
            if (w < 0 || (size_t)w >= sizeof list - used) { list[used] = '\0'; break; }
            used += (size_t)w;
        }
        qs_err_set(err, "%s: %zu number%s of the narration not backed by an expect or a "
                   "printed result of the same step (mark a prose number as {2026}): "
                   "line %s", path, json_array_size(ub), json_array_size(ub) == 1 ? "" : "s",
                   list);
        json_decref(rep);
        return QS_ERR;
    }
    json_object_set_new(o, "strict_numbers", json_incref(json_object_get(rep, "numbers")));
    json_object_set_new(o, "strict_exempt", json_incref(json_object_get(rep, "exempt")));
    json_decref(rep);
    return QS_OK;
}

static int lesson_check(int argc, char **argv, json_t **out, qs_err *err)
{
    json_t *rows = json_array();
    int strict = argc > 0 && strcmp(argv[0], "--strict") == 0;
    if (strict) { argc--; argv++; }
    if (argc < 1) {
        json_decref(rows);
        return qs_err_set(err, "lesson check: usage: lesson check [--strict] FILE...");
    }
    for (int i = 0; i < argc; i++) {
        char path[4096];
        qs_lesson *l = NULL;
        qs_lesson_use *u = NULL;
        int nu = 0;
        if (qs_lesson_find(argv[i], path, sizeof path, err) != QS_OK ||
            qs_lesson_load(path, &l, err) != QS_OK ||
            qs_lesson_uses(l, &u, &nu, err) != QS_OK) {     /* the sandbox: see lesson.h */
            qs_lesson_free(l);
            json_decref(rows);
            return QS_ERR;
        }
        json_t *o = summary(l);
        if (strict && strict_into(o, path, err) != QS_OK) {
            json_decref(o);
            json_decref(rows);
            qs_lesson_free(l);
            return QS_ERR;
        }
        json_object_set_new(o, "ok", json_true());
        json_t *fa = json_array();      /* commands the player asks the learner about */
        for (int k = 0; k < nu; k++)
            json_array_append_new(fa, json_pack("{s:i, s:s, s:s, s:s}", "line", u[k].line,
                                                "access", u[k].what == QS_LESSON_FILES_WRITE
                                                ? "write" : "read", "path", u[k].path,
                                                "command", u[k].cmd));
        json_object_set_new(o, "files", fa);
        qs_lesson_uses_free(u, nu);
        json_array_append_new(rows, o);
        qs_lesson_free(l);
    }
    if (argc == 1) {
        *out = json_incref(json_array_get(rows, 0));
        json_decref(rows);
    } else {
        *out = json_object();
        json_object_set_new(*out, "checked", rows);
    }
    return QS_OK;
}

/* Plays a whole lesson on the session without a learner (quizzes answered from the file).
 * Faces that can interact (the REPL, the TUI) handle `lesson play` themselves with the
 * player API of lesson.h; this is the fallback for `qscope -c` and scripts. */
static int lesson_play(qs_session *s, const char *name, json_t **out, qs_err *err)
{
    qs_lesson_player p;
    qs_lesson_event ev;
    int rc, quizzes = 0;
    if (qs_lesson_player_open(&p, s, name, err) != QS_OK) return QS_ERR;
    /* no learner to ask: a lesson that uses files beyond the sandbox is refused here */
    qs_lesson_use *u = NULL;
    int nu = 0;
    qs_lesson_uses(p.lesson, &u, &nu, err);
    qs_lesson_uses_free(u, nu);
    if (nu > 0) {
        qs_err_set(err, "lesson play: %s uses files outside its folder and qscope's datasets "
                   "(see 'lesson check'); play it with 'qscope play', which asks first, or "
                   "'qscope play --headless --allow-files'", p.lesson->path);
        qs_lesson_player_fini(&p);
        return QS_ERR;
    }
    while ((rc = qs_lesson_next(&p, &ev, err)) == QS_OK) {
        if (ev.item->kind == QS_LI_QUIZ) {
            qs_lesson_answer(&p, ev.item->quiz.answers[0]);
            quizzes++;
        }
    }
    if (rc != QS_LESSON_END) {
        qs_lesson_player_fini(&p);
        return rc;
    }
    json_t *o = summary(p.lesson);
    json_object_set_new(o, "played", json_true());
    json_object_set_new(o, "expects_passed", json_integer(p.passed));
    json_object_set_new(o, "commands_run", json_integer(p.commands));
    json_object_set_new(o, "quizzes_answered", json_integer(quizzes));
    qs_lesson_player_fini(&p);
    *out = o;
    return QS_OK;
}

static int run_lesson(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    const char *sub = argc > 0 ? argv[0] : "list";
    if (strcmp(sub, "list") == 0) {
        if (argc > 1) return qs_err_set(err, "lesson list: takes no argument");
        *out = qs_lesson_list();
        return QS_OK;
    }
    if (strcmp(sub, "check") == 0) return lesson_check(argc - 1, argv + 1, out, err);
    if (strcmp(sub, "play") == 0) {
        if (argc != 2) return qs_err_set(err, "lesson play: usage: lesson play NAME");
        return lesson_play(s, argv[1], out, err);
    }
    return qs_err_set(err, "lesson: unknown subcommand '%s' (list, play NAME, check "
                      "[--strict] FILE...)",
                      sub);
}

static const char *const lesson_words[] = {"list", "play", "check", "--strict", NULL};

const qs_cmd qs_cmds_lesson[] = {
    {"lesson", "lessons", "lesson list | play NAME | check [--strict] FILE...",
     "list the lessons, play one, or check lesson files for mistakes",
     "list           the lessons on the search path: name, title, level, steps\n"
     "play NAME      play a lesson (a number, a name or a file); in the REPL step by step\n"
     "check FILE...  check lesson files: syntax and commands, errors as FILE:LINE\n"
     "check --strict FILE...\n"
     "               also play each one headless and check that every number of its\n"
     "               narration is backed by an expect or a printed result of its step\n"
     "               (numbers written as {2026} are exempt; see qscope-lesson(5))",
     "lesson list", lesson_words, QS_COMPL_LESSON, QS_CMD_SLOW | QS_CMD_READS, run_lesson,
     .kinds = QS_RK(QS_R_TABLE) | QS_RK(QS_R_OBJECT)},
    {0},
};
