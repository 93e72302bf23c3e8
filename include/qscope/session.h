/* session.h — qs_session: all state a face (REPL, TUI, lesson, `-c`) works on. No globals. */
#ifndef QSCOPE_SESSION_H
#define QSCOPE_SESSION_H

#include <signal.h>
#include <stdint.h>

#include "qscope/err.h"
#include "qscope/scheme.h"
#include "qscope/tensor.h"

struct qs_file;         /* io.h */
struct json_t;          /* jansson */
struct qs_lab;          /* nn.h */

/* Progress callback for long work: done of total units; label says what. Returns nonzero to
 * ask for cancellation (the library also polls *cancel). */
typedef int (*qs_progress_fn)(void *ctx, const char *label, double done, double total);

typedef struct qs_session {
    struct qs_file *file;       /* the loaded file, or NULL (synth / values) */
    int tensor_index;           /* index of the current tensor in file, or -1 */
    qs_tensor *tensor;          /* the current tensor (float32 working copy) or NULL */
    qs_scheme scheme;           /* current scheme */
    qs_calib calib;             /* current calibrator */
    struct json_t *last;        /* last successful result (owned), for `expect` */
    struct qs_lab *lab;         /* PTQ/QAT lab state (owned), or NULL */
    qs_progress_fn progress;    /* progress sink set by the face, or NULL */
    void *progress_ctx;         /* its context */
    volatile sig_atomic_t *cancel; /* raised by the face (Ctrl-C, Esc); may be NULL */
    int precision;              /* significant digits in text output (default 6) */
    int json;                   /* faces: print JSON lines instead of text */
    int color;                  /* faces: -1 auto, 0 off, 1 on */
    int source_depth;           /* nesting of `source` */
    char **history;             /* successful command lines (for `save`) */
    int nhistory, caphistory;   /* its length and capacity */
    void *face;                 /* the face's own context (opaque to the library) */
} qs_session;

/* Initialises a session with the default scheme (int8 affine per-tensor, torch convention,
 * minmax calibration) and no tensor. */
void qs_session_init(qs_session *s);
/* Frees everything the session owns. */
void qs_session_fini(qs_session *s);
/* Replaces the current tensor (takes ownership of t). */
void qs_session_set_tensor(qs_session *s, qs_tensor *t);
/* Reports progress; returns QS_CANCELLED when cancellation was asked for, else QS_OK. */
int qs_session_progress(qs_session *s, const char *label, double done, double total);
/* 1 when the cancel flag is raised. */
int qs_session_cancelled(const qs_session *s);
/* Appends a successful command line to the session history (for `save`). */
void qs_session_remember(qs_session *s, const char *line);

#endif
