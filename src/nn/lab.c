/* lab.c — the lab's session state (struct qs_lab: data set, trained model, last quantized
 * model) and text sparklines of its curves. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/gpt.h"
#include "qscope/nn.h"

qs_lab *qs_lab_get(qs_session *s)
{
    if (!s->lab) s->lab = calloc(1, sizeof *s->lab);
    return s->lab;
}

void qs_lab_free(qs_lab *lab)
{
    if (!lab) return;
    qs_nn_data_free(lab->data);
    qs_mlp_free(lab->fp32);
    qs_nn_curve_fini(&lab->curve);
    qs_nn_qmodel_free(lab->q);
    qs_gpt_lab_free(lab->gpt);
    free(lab);
}

void qs_nn_sparkline(const double *v, int n, char *buf, size_t len)
{
    static const char *const bars[8] = { "\u2581", "\u2582", "\u2583", "\u2584",
                                         "\u2585", "\u2586", "\u2587", "\u2588" };
    double lo = INFINITY, hi = -INFINITY;
    size_t o = 0;
    if (len) buf[0] = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i])) {
            lo = fmin(lo, v[i]);
            hi = fmax(hi, v[i]);
        }
    for (int i = 0; i < n && o + 4 < len; i++) {
        int k = 0;
        if (isfinite(v[i]) && hi > lo) k = (int)((v[i] - lo) / (hi - lo) * 7.0 + 0.5);
        memcpy(buf + o, bars[k], 3);
        o += 3;
        buf[o] = 0;
    }
}
