/* tui.c — placeholder TUI until the ncurses face lands (issue 6). */
#include <stdio.h>

#include "qscope/faces.h"

int qs_tui_main(qs_session *s, const char *file)
{
    (void)s; (void)file;
    fprintf(stderr, "qscope: the TUI is not built yet; use 'qscope repl'\n");
    return 2;
}
