/* err.h — error reporting for the qscope library: a status code plus a one-line message. */
#ifndef QSCOPE_ERR_H
#define QSCOPE_ERR_H

/* Status codes returned by library functions. */
enum {
    QS_OK = 0,          /* success */
    QS_ERR = -1,        /* user or data error; the qs_err holds a one-line message */
    QS_CANCELLED = -2   /* long work stopped because the cancel flag was raised */
};

/* A one-line, human-readable error message. The library fills it; the front end shows it.
 * Messages name the file, the argument or the line and the problem, without a trailing
 * newline and without the "qscope: " prefix (the front end adds that). */
typedef struct qs_err {
    char msg[1024];     /* NUL-terminated message; empty when no error */
} qs_err;

/* Formats a message into e (when e is not NULL) and returns QS_ERR, so callers can write
 * `return qs_err_set(err, "%s: truncated header", path);`. */
int qs_err_set(qs_err *e, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Prepends "prefix: " to an existing message (used to add a file name). Returns QS_ERR. */
int qs_err_prefix(qs_err *e, const char *prefix);

/* Clears the message. */
void qs_err_clear(qs_err *e);

#endif
