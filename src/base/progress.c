/* progress.c — qs_progress: progress reports and the cancel flag. */
#include "qscope/progress.h"

#include "qscope/err.h"

int qs_progress_cancelled(const qs_progress *p)
{
    return p && p->cancel && *p->cancel;
}

int qs_progress_report(const qs_progress *p, const char *label, double done, double total)
{
    if (!p) return QS_OK;
    if (p->fn && p->fn(p->ctx, label, done, total)) return QS_CANCELLED;
    return qs_progress_cancelled(p) ? QS_CANCELLED : QS_OK;
}
