/* script.h — the one runner of command lines and scripts, shared by every face (`qscope -c`,
 * script files, the REPL, the TUI's ':' line and its `source`). It splits nothing a face
 * must redo: `quit`/`exit`, `source FILE` (nesting limit, NUL check, CRLF), the command
 * table's dispatch (qs_cmd_run_line: large-tensor conversion, history, s->last), and the
 * face operations a face registers for rows it handles itself (the REPL's step-by-step
 * `lesson play`). Results and errors go to the face through two callbacks; the library
 * prints nothing. */
#ifndef QSCOPE_SCRIPT_H
#define QSCOPE_SCRIPT_H

#include <jansson.h>

#include "qscope/cmd.h"
#include "qscope/session.h"

#define QS_MAX_SOURCE_DEPTH 8   /* nested `source` levels */
#define QS_MAX_SOURCED 1000             /* scripts one top-level command may source in all */
#define QS_MAX_SCRIPT_BYTES (16 << 20)  /* a script is a small text file */

typedef struct qs_script qs_script;

/* A command a face runs itself: `cmd` is its words ("lesson play"); run gets every word of
 * the line and returns QS_OK or QS_ERR (it reports its own errors), or 1 to let the command
 * table's row run the line as usual. */
typedef struct qs_face_op {
    const char *cmd;
    int (*run)(qs_script *r, int argc, char **argv);
} qs_face_op;

struct qs_script {
    qs_session *s;              /* the session commands run on */
    int stop_on_error;          /* 1: a script stops at its first error */
    int errors;                 /* failed lines so far */
    int quit;                   /* set by `quit` / `exit` */
    int lines;                  /* lines read (blank and comment lines included) */
    /* a line ran: its row, its result (the runner's: incref to keep) and the line */
    void (*result)(qs_script *r, const qs_cmd *cmd, json_t *res, const char *line);
    /* a line failed: where is "FILE:LINE" or NULL; rc QS_ERR or QS_CANCELLED */
    void (*error)(qs_script *r, const char *where, const char *msg, int rc);
    const qs_face_op *ops;      /* {0}-terminated, or NULL */
    void *ctx;                  /* the face's */
    int unwinding;              /* a `source` limit was hit: every enclosing script stops
                                   (QS_CANCELLED inside; the top-level `source` fails with
                                   QS_ERR) */
};

/* Runs one command line. Returns QS_OK or the failing status. */
int qs_script_line(qs_script *r, const char *line, const char *where);
/* Runs a script text line by line (name: for FILE:LINE in errors; may be NULL). */
int qs_script_text(qs_script *r, const char *text, const char *name);
/* Runs a script file ("-": standard input). sourced: opened by `source` at `where`. */
int qs_script_file(qs_script *r, const char *path, int sourced, const char *where);

#endif
