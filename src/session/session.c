/* session.c — qs_session: defaults, ownership, progress and cancellation. */
#include "qscope/session.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/io.h"
#include "qscope/calib.h"
#include "qscope/quant.h"

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
    for (int i = 0; i < QS_SESSION_NEXT; i++)
        if (s->ext[i].tag && s->ext[i].free_fn) s->ext[i].free_fn(s->ext[i].data);
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
    qs_progress p = qs_session_sink(s);
    return qs_progress_report(&p, label, done, total);
}

qs_progress qs_session_sink(const qs_session *s)
{
    qs_progress p = { s->progress, s->progress_ctx, s->cancel };
    return p;
}

void *qs_session_ext_get(const qs_session *s, const void *tag)
{
    for (int i = 0; i < QS_SESSION_NEXT; i++)
        if (s->ext[i].tag == tag) return s->ext[i].data;
    return NULL;
}

int qs_session_ext_set(qs_session *s, const void *tag, void *data, void (*free_fn)(void *))
{
    int slot = -1;
    for (int i = 0; i < QS_SESSION_NEXT && slot < 0; i++)
        if (s->ext[i].tag == tag) slot = i;
    for (int i = 0; i < QS_SESSION_NEXT && slot < 0; i++)
        if (!s->ext[i].tag) slot = i;
    if (slot < 0) return QS_ERR;
    if (s->ext[slot].tag && s->ext[slot].free_fn && s->ext[slot].data != data)
        s->ext[slot].free_fn(s->ext[slot].data);
    s->ext[slot] = (qs_session_ext){ tag, data, free_fn };
    return QS_OK;
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
