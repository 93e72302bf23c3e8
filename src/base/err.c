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
    size_t pl = strlen(prefix);
    if (pl > sizeof tmp - 3) pl = sizeof tmp - 3;
    memcpy(tmp, prefix, pl);
    tmp[pl] = ':';
    tmp[pl + 1] = ' ';
    size_t ml = strnlen(e->msg, sizeof e->msg);
    if (ml > sizeof tmp - pl - 3) ml = sizeof tmp - pl - 3;
    memcpy(tmp + pl + 2, e->msg, ml);
    tmp[pl + 2 + ml] = '\0';
    memcpy(e->msg, tmp, sizeof tmp);
    return QS_ERR;
}

void qs_err_clear(qs_err *e)
{
    if (e) e->msg[0] = '\0';
}
