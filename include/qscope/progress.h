/* progress.h — how long work reports progress and learns it should stop (base layer). The
 * engine takes a `const qs_progress *` (NULL: no reporting, never cancelled); a session hands
 * out its face's sink with qs_session_sink. */
#ifndef QSCOPE_PROGRESS_H
#define QSCOPE_PROGRESS_H

#include <signal.h>

/* Progress callback for long work: done of total units; label says what. Returns nonzero to
 * ask for cancellation (the library also polls *cancel). */
typedef int (*qs_progress_fn)(void *ctx, const char *label, double done, double total);

typedef struct qs_progress {
    qs_progress_fn fn;              /* progress sink, or NULL */
    void *ctx;                      /* its context */
    volatile sig_atomic_t *cancel;  /* raised by a face (Ctrl-C, Esc), or NULL */
} qs_progress;

/* Reports done of total to p->fn; QS_CANCELLED (err.h) when the sink asks to stop or
 * *p->cancel is raised, else QS_OK. p may be NULL (QS_OK). */
int qs_progress_report(const qs_progress *p, const char *label, double done, double total);
/* 1 when p's cancel flag is raised (0 for NULL). */
int qs_progress_cancelled(const qs_progress *p);

#endif
