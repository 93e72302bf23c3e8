/* faces.h — entry points of the three faces, called by main.c. Each returns the process
 * exit status (0 ok, 1 a failed expectation or lesson, 2 a bad command or bad input). */
#ifndef QSCOPE_FACES_H
#define QSCOPE_FACES_H

#include "qscope/session.h"

/* `qscope repl [FILE]`: the readline REPL (line by line without a terminal). */
int qs_repl_main(qs_session *s, const char *file);
/* `qscope [FILE]` on a terminal: the ncurses TUI, on FILE or the bundled default. */
int qs_tui_main(qs_session *s, const char *file);
/* `qscope play --present LESSON` on a terminal: the TUI's Lesson screen in presenter mode on
 * that lesson (it plays on a session of its own). */
int qs_tui_present_lesson(qs_session *s, const char *lesson);
/* `qscope play [--headless] FILE...` and `qscope lesson check|list ...`. argv[0] is "play"
 * or "lesson". */
int qs_lesson_main(qs_session *s, int argc, char **argv);

#endif
