/* session.h — qs_session: all state a face (REPL, TUI, lesson, `-c`) works on. No globals. */
#ifndef QSCOPE_SESSION_H
#define QSCOPE_SESSION_H

#include <signal.h>
#include <stdint.h>

#include "qscope/calib.h"
#include "qscope/err.h"
#include "qscope/kernels.h"
#include "qscope/progress.h"
#include "qscope/scheme.h"
#include "qscope/tensor.h"

struct qs_file;         /* io.h */
struct json_t;          /* jansson */
struct qs_lab;          /* nn.h */
struct qs_cache;        /* session/cache.c: results kept between commands */

/* State an upper module keeps on the session (the lab's data set and models, ...): found by
 * the address of a tag the module owns, freed with free_fn by qs_session_fini. */
typedef struct qs_session_ext {
    const void *tag;            /* the owner's tag, or NULL for a free slot */
    void *data;                 /* owned */
    void (*free_fn)(void *);    /* frees data */
} qs_session_ext;
#define QS_SESSION_NEXT 8

/* What a lesson's command may touch while it runs (lesson.h's sandbox): commands that write
 * or read a named file ask qs_cmd_check_path, which consults it. */
enum {
    QS_SANDBOX_READ = 1 << 0,   /* may read files outside the roots */
    QS_SANDBOX_WRITE = 1 << 1   /* may write files */
};
typedef struct qs_sandbox {
    int allow;                  /* granted: QS_SANDBOX_READ | QS_SANDBOX_WRITE */
    const char *roots[2];       /* real paths any read may use: the lesson's folder, the
                                   datasets (NULL when unknown) */
} qs_sandbox;

typedef struct qs_session {
    struct qs_file *file;       /* the loaded file, or NULL (synth / values) */
    int tensor_index;           /* index of the current tensor in file, or -1 */
    qs_tensor *tensor;          /* the current tensor (float32 working copy) or NULL */
    qs_scheme scheme;           /* current scheme */
    qs_calib calib;             /* current calibrator */
    struct json_t *last;        /* last successful result (owned), for `expect` */
    qs_session_ext ext[QS_SESSION_NEXT]; /* modules' own state (owned): qs_session_ext_get */
    qs_progress_fn progress;    /* progress sink set by the face, or NULL */
    void *progress_ctx;         /* its context */
    volatile sig_atomic_t *cancel; /* raised by the face (Ctrl-C, Esc); may be NULL */
    int precision;              /* significant digits in text output (default 6) */
    int json;                   /* faces: print JSON lines instead of text */
    int color;                  /* faces: -1 auto, 0 off, 1 on */
    int source_depth;           /* nesting of `source` */
    int source_count;           /* scripts sourced since the last top-level `source` */
    const qs_sandbox *sandbox;  /* set while a lesson's command runs, else NULL */
    char **history;             /* successful command lines (for `save`) */
    int nhistory, caphistory;   /* its length and capacity */
    void *face;                 /* the face's own context (opaque to the library) */
    uint64_t data_gen;          /* bumped whenever the current tensor's values may change */
    struct qs_cache *cache;     /* calibrations and histograms of the current tensor (owned) */
} qs_session;

/* Initialises a session with the default scheme (int8 affine per-tensor, torch convention,
 * minmax calibration) and no tensor. */
void qs_session_init(qs_session *s);
/* Frees everything the session owns. */
void qs_session_fini(qs_session *s);
/* Replaces the current tensor (takes ownership of t) and forgets what was computed from the
 * old one (see qs_session_touch). */
void qs_session_set_tensor(qs_session *s, qs_tensor *t);
/* Reports progress; returns QS_CANCELLED when cancellation was asked for, else QS_OK. */
int qs_session_progress(qs_session *s, const char *label, double done, double total);
/* 1 when the cancel flag is raised. */
int qs_session_cancelled(const qs_session *s);
/* The progress sink the face set on s (progress, progress_ctx, cancel), for the engine's long
 * work (qs_nn_train and friends take a const qs_progress *). */
qs_progress qs_session_sink(const qs_session *s);
/* The same as a pointer to a compound literal, for a call's argument list. */
#define QS_SINK(s) (&(qs_progress){ (s)->progress, (s)->progress_ctx, (s)->cancel })
/* The data kept under tag, or NULL. */
void *qs_session_ext_get(const qs_session *s, const void *tag);
/* Keeps data under tag (replacing and freeing what was there); the session frees it with
 * free_fn. QS_ERR when all QS_SESSION_NEXT slots are taken (data is then not kept). */
int qs_session_ext_set(qs_session *s, const void *tag, void *data, void (*free_fn)(void *));
/* The session's lab (nn.h), created on first use (NULL only when out of memory). */
struct qs_lab *qs_lab_get(qs_session *s);
/* Appends a successful command line to the session history (for `save`). */
void qs_session_remember(qs_session *s, const char *line);

/* ---- results kept between commands -----------------------------------------------------
 * A scheme key in the TUI runs qparams, quant, hist and derive one after another; each needs
 * the same calibration and the TUI's value histogram does not change with the scheme. The
 * session keeps the latest few calibrations and value histograms of its current tensor and
 * hands out copies. An entry is reused only when everything it was computed from is the
 * same: the tensor's values (s->tensor, s->data_gen), the kernel table (qs_k()), the layout,
 * the calibrator's settings and the scheme — all of it, except under the minmax calibrator,
 * whose range depends on the data, the layout and whether the scheme is a ggml one only.
 * The power of the values (derive's noise model) is kept the same way.
 * Nothing else is cached: every other number is computed afresh by each command. A session
 * is used by one thread at a time (the TUI runs no command while its worker does). */

/* Call after changing the current tensor's values in place (writing s->tensor->data): bumps
 * s->data_gen and drops every cached result computed from the old values.
 * qs_session_set_tensor does this itself. */
void qs_session_touch(qs_session *s);
/* qs_calib_run of the current tensor laid out by l under sc and c, or a copy of the same
 * calibration computed before. *out is the caller's (qs_calib_result_fini). QS_ERR when there
 * is no tensor or the calibration fails (err says why; *out is then empty). */
int qs_session_calib(qs_session *s, const qs_layout *l, const qs_scheme *sc,
                     const qs_calib *c, qs_calib_result *out, qs_err *err);
/* Adds the counts of the current tensor's values into h (qs_k()->hist; h->counts, under,
 * over and nan cleared by the caller), or the same counts taken before with the same bins
 * and range. QS_ERR when there is no tensor or memory runs out. */
int qs_session_hist(qs_session *s, qs_hist *h, qs_err *err);
/* qs_derive_power of the current tensor (Σx² and the count of its finite values, for derive's
 * noise-model step), or the same pair computed before from the same values. QS_ERR when there
 * is no tensor. */
int qs_session_power(qs_session *s, double *sum_x2, int64_t *n, qs_err *err);
#endif
