/* cmd_axis.c — axis=auto in a session: the output-channel axis of the current tensor from its
 * file (format, safetensors __metadata__ "format") and name (qs_axis_auto), written into a
 * scheme that says axis=auto before a command uses it. */
#include <stdio.h>
#include <string.h>

#include "qscope/cmd.h"
#include "qscope/io.h"
#include "qscope/quant.h"

/* What the session knows of where a tensor came from (from_file: it is one of s->file's). */
static qs_axis_src source_of(const qs_session *s, int from_file)
{
    qs_axis_src src = {NULL, NULL};
    if (!s->file || !from_file) return src;     /* synth / values / typed */
    src.file_format = s->file->format;
    for (int i = 0; i < s->file->nmeta; i++)
        if (s->file->meta[i].key && !strcmp(s->file->meta[i].key, "format"))
            src.meta_format = s->file->meta[i].value;
    return src;
}

int qs_session_axis(const qs_session *s, const qs_scheme *sc, char *why, size_t len)
{
    return qs_session_axis_of(s, s->tensor, s->tensor_index >= 0, sc, why, len);
}

int qs_session_axis_of(const qs_session *s, const qs_tensor *t, int from_file,
                       const qs_scheme *sc, char *why, size_t len)
{
    if (why && len) why[0] = '\0';
    if (!t) return sc->axis;
    if (!sc->axis_auto) {
        int ax = sc->axis < 0 ? sc->axis + t->ndim : sc->axis;
        if (why && len) snprintf(why, len, "axis %d: given with axis=%d", ax, sc->axis);
        return ax;
    }
    qs_axis_src src = source_of(s, from_file);
    return qs_axis_auto(t->name, t->ndim, t->shape, &src, why, len);
}

void qs_session_resolve_axis(const qs_session *s, qs_scheme *sc)
{
    if (!s->tensor || !sc->axis_auto || sc->kind != QS_Q_INT || sc->gran == QS_G_GROUP ||
        sc->conv == QS_CONV_GGML)
        return;
    sc->axis = qs_session_axis(s, sc, NULL, 0);
}
