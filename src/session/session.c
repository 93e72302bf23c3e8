/* session.c — qs_session: defaults, ownership, progress and cancellation. */
#include "qscope/session.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/io.h"
#include "qscope/calib.h"
#include "qscope/quant.h"

void qs_lab_free(struct qs_lab *lab);   /* nn/lab.c */
void qs_cache_free(struct qs_cache *c); /* session/cache.c */

void qs_session_init(qs_session *s)
{
    memset(s, 0, sizeof *s);
    s->tensor_index = -1;
    qs_scheme_default(&s->scheme);     /* the engine's defaults (quant.h): one definition */
    qs_calib_default(&s->calib);
    s->precision = 6;
    s->color = -1;
}

void qs_session_fini(qs_session *s)
{
    qs_file_close(s->file);
    qs_tensor_free(s->tensor);
    json_decref(s->last);
    qs_lab_free(s->lab);
    for (int i = 0; i < s->nhistory; i++) free(s->history[i]);
    free(s->history);
    qs_cache_free(s->cache);
    memset(s, 0, sizeof *s);
    s->tensor_index = -1;
}

void qs_session_set_tensor(qs_session *s, qs_tensor *t)
{
    qs_session_touch(s);
    if (s->tensor == t) return;
    qs_tensor_free(s->tensor);
    s->tensor = t;
}

int qs_session_cancelled(const qs_session *s)
{
    return s->cancel && *s->cancel;
}

int qs_session_progress(qs_session *s, const char *label, double done, double total)
{
    if (s->progress && s->progress(s->progress_ctx, label, done, total)) return QS_CANCELLED;
    return qs_session_cancelled(s) ? QS_CANCELLED : QS_OK;
}

void qs_session_remember(qs_session *s, const char *line)
{
    if (s->nhistory + 1 > s->caphistory) {
        int cap = s->caphistory ? s->caphistory * 2 : 16;
        char **h = realloc(s->history, (size_t)cap * sizeof *h);
        if (!h) return;
        s->history = h;
        s->caphistory = cap;
    }
    char *d = strdup(line);
    if (d) s->history[s->nhistory++] = d;
}
