/* repl.c — placeholder REPL until the readline face lands (issue 5): reads stdin lines. */
#include <stdio.h>
#include <unistd.h>

#include "qscope/faces.h"
#include "qscope/front.h"

int qs_repl_main(qs_session *s, const char *file)
{
    qs_runner r = {s, stdout, stderr, 0, 0, 0};
    if (file) {
        char line[4200];
        snprintf(line, sizeof line, "load '%s'", file);
        qs_run_line(&r, line, NULL);
    }
    qs_run_file(&r, "-");
    return r.errors ? 2 : 0;
}
