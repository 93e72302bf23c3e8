/* front.h — shared by the faces (REPL, TUI, lesson player, `qscope -c`): rendering a command
 * result as terminal text or JSON, and running scripts line by line. Not part of the library:
 * these functions print. */
#ifndef QSCOPE_FRONT_H
#define QSCOPE_FRONT_H

#include <stdio.h>

#include <jansson.h>

#include "qscope/cmd.h"
#include "qscope/session.h"

/* How text is rendered. */
typedef struct qs_render_opts {
    int color;      /* 1: ANSI colours */
    int utf8;       /* 1: Unicode block elements, else ASCII */
    int precision;  /* significant digits */
    int width;      /* terminal width (columns) */
} qs_render_opts;

/* Options for stdout: colour when a terminal, NO_COLOR unset and s->color allows; UTF-8 by
 * locale; width from the terminal or COLUMNS (80 default). */
void qs_render_opts_for(const qs_session *s, FILE *f, qs_render_opts *o);
/* Renders a result as aligned text. cmd may be NULL. Every string and key passes qs_escape
 * first (io.h): names and metadata from files never reach the terminal raw. */
void qs_render_text(FILE *f, const qs_cmd *cmd, json_t *res, const qs_render_opts *o);
/* Renders into a malloc'd string (the TUI's output pane). */
char *qs_render_text_str(const qs_cmd *cmd, json_t *res, const qs_render_opts *o);
/* Prints s through qs_escape(s, flags) (io.h): the way a text face prints any string that
 * came from a file or a lesson. */
void qs_fput_escaped(FILE *f, const char *s, int flags);
/* One JSON object per line. */
void qs_render_json(FILE *f, json_t *res);
/* Formats a double with `precision` significant digits ("nan"/"inf" spelled out). */
void qs_fmt_num(char *buf, size_t len, double v, int precision);

/* Where script output goes and how. */
typedef struct qs_runner {
    qs_session *s;      /* the session commands run on */
    FILE *out;          /* results */
    FILE *errf;         /* one-line errors */
    int stop_on_error;  /* 1: stop at the first error (scripts); 0: go on (REPL) */
    int errors;         /* count of failed commands */
    int quit;           /* set by `quit` */
    void (*before_output)(void *ctx); /* called before a result or an error is printed (the
                                         REPL erases its progress bar), or NULL */
    void *before_ctx;   /* its argument */
    const struct qs_face_op *ops; /* commands the face runs itself (script.h), or NULL */
} qs_runner;

/* The library's runner (qscope/script.h: quit, source, the command table, face operations)
 * with results rendered on r->out and errors on r->errf. */

/* Runs one line. `where` prefixes errors (e.g. "script.qs:3"), may be NULL. Returns QS_OK or
 * the command's status. */
int qs_run_line(qs_runner *r, const char *line, const char *where);
/* Runs a whole script text; name is used in errors as NAME:LINE. */
int qs_run_text(qs_runner *r, const char *text, const char *name);
/* Runs a script file; errors as FILE:LINE: message. */
int qs_run_file(qs_runner *r, const char *path);

/* ---- progress bar (src/front/progress.c) ------------------------------------------------ */

/* A one-line progress bar with elapsed time and ETA, drawn on a terminal (stderr) while a
 * long command runs. Plug it into the session: s->progress = qs_progress_bar_update,
 * s->progress_ctx = &bar. Nothing is drawn when the stream is not a terminal, nor during the
 * first QS_PROGRESS_DELAY seconds (fast commands never flash a bar); redraws are throttled
 * to one every QS_PROGRESS_INTERVAL seconds. */
#define QS_PROGRESS_DELAY 0.25
#define QS_PROGRESS_INTERVAL 0.1

typedef struct qs_progress_bar {
    FILE *f;                        /* where the bar is drawn (stderr) */
    int enabled;                    /* 1 when f is a terminal */
    int utf8;                       /* 1: Unicode block elements, else '#' */
    int width;                      /* terminal columns */
    double t0;                      /* start of the command (monotonic seconds) */
    double t_phase;                 /* start of the current phase (label) */
    double last_draw;               /* when the bar was last drawn, or 0 */
    double last_done;               /* progress at the previous update */
    char label[64];                 /* label of the current phase */
    int shown;                      /* 1 while a bar is on the screen */
    volatile sig_atomic_t *cancel;  /* when nonzero, updates ask the work to stop; or NULL */
} qs_progress_bar;

/* Starts a bar for one command: records the start time and probes whether f is a terminal
 * (and its width and UTF-8 locale). cancel may be NULL. */
void qs_progress_bar_start(qs_progress_bar *b, FILE *f, volatile sig_atomic_t *cancel);
/* A qs_progress_fn: bar is a qs_progress_bar *. Draws (throttled) and returns nonzero when
 * *cancel is raised. total <= 0 means unknown (no bar, no ETA: a count and elapsed time). */
int qs_progress_bar_update(void *bar, const char *label, double done, double total);
/* Erases the bar if one is shown. Safe to call when nothing was drawn. */
void qs_progress_bar_finish(qs_progress_bar *b);
/* Estimated seconds left from the fraction done so far, or -1 when unknown (nothing done
 * yet, or total unknown). */
double qs_progress_eta(double done, double total, double elapsed);
/* Formats a duration as "0.4s", "12s", "3m05s", "2h04m" into buf. */
void qs_progress_fmt_time(char *buf, size_t len, double seconds);
/* Formats the bar line (no escape sequences, no newline) to fit `width` columns:
 * "LABEL [#####     ]  47%  4.2s  ETA 4.7s". Returns buf. Pure: the unit tests use it. */
char *qs_progress_format(char *buf, size_t len, const char *label, double done, double total,
                         double elapsed, double eta, int width, int utf8);

/* ---- completion and prompt (src/front/complete.c), shared by the REPL and the TUI's ':' line */

/* What can be typed at a point of a command line. */
typedef struct qs_completion {
    int start;                  /* byte offset of the word being completed (its first char,
                                   an opening quote included); it ends at the point */
    int argi;                   /* which word: 0 = the command name, 1.. = its arguments */
    const qs_cmd *cmd;          /* the command whose argument it is, or NULL */
    int files;                  /* 1: file paths fit here too (the face lists them) */
    char **words;               /* sorted, unique candidates, NULL-terminated (owned) */
    int n;                      /* number of candidates */
} qs_completion;

/* Completes the word of `line` that ends at byte `point` (only the command after the last
 * unquoted ';' counts). Candidates are every string that may replace line[start..point),
 * unquoted: command names for the first word and after `help`; the command's keywords
 * (qs_cmd.words, never one already on the line); tensor names after `use` (the session's
 * file) and after `load FILE` (FILE's own list); lesson names for `lesson`. Nothing inside a
 * '#' comment. Returns the candidate count, or -1 when out of memory. Free with
 * qs_completion_fini. Pure: reads the session and the file system, never the terminal. */
int qs_complete(const qs_session *s, const char *line, int point, qs_completion *c);
void qs_completion_fini(qs_completion *c);
/* The argument hint to show after the cursor: when line[0..point) ends with a known command
 * word and blanks and nothing else (after the last unquoted ';'), the rest of that command's
 * usage line, e.g. "[bins=B] [range=LO:HI] [log]" after "hist "; NULL otherwise (and for
 * commands that take no arguments). Points into the command table. */
const char *qs_complete_hint(const char *line, int point);
/* Lesson names (file names without ".lesson") found on the lesson search path (paths.h, the
 * one `lesson list` uses), sorted and unique, that
 * start with prefix. Returns the count and a NULL-terminated array (free with
 * qs_split_free), or -1 when out of memory. */
int qs_lesson_names(const char *prefix, char ***out);
/* The REPL prompt "qscope [TENSOR · SCHEME] > " ("qscope [- · SCHEME] > " with no tensor;
 * SCHEME is qs_scheme_label's, e.g. "int8 sym/channel";
 * '|' instead of '·' without UTF-8). With color, the escape sequences are wrapped in
 * readline's \001 \002 markers. Long tensor names are shortened in the middle. */
void qs_repl_prompt(const qs_session *s, int color, int utf8, char *buf, size_t len);
/* The history file: $QSCOPE_HISTFILE when set; else $XDG_STATE_HOME/qscope/history when
 * XDG_STATE_HOME is set (the directory is created, mode 0700); else ~/.qscope_history.
 * Returns a malloc'd path, or NULL when no location is known (no HOME). */
char *qs_history_path(void);
/* Most lines the history keeps (stifle_history and the file). */
#define QS_HISTORY_MAX 1000

#endif
