/* err.c — formatting of qs_err messages. */
#include "qscope/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int qs_err_set(qs_err *e, const char *fmt, ...)
{
    if (!e) return QS_ERR;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return QS_ERR;
}

int qs_err_prefix(qs_err *e, const char *prefix)
{
    if (!e || !prefix) return QS_ERR;
    char tmp[sizeof e->msg];
    snprintf(tmp, sizeof tmp, "%s: %s", prefix, e->msg);
    memcpy(e->msg, tmp, sizeof tmp);
    return QS_ERR;
}

void qs_err_clear(qs_err *e)
{
    if (e) e->msg[0] = '\0';
}
