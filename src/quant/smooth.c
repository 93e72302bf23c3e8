/* smooth.c — SmoothQuant's per-input-channel migration scales and a W8A8 simulation of a
 * linear layer (llmq.h). Following smoothquant/smooth.py: act_scales are the calibration
 * max |X_j|, weight scales max |W_j| over the output rows, s = (a^α / w^(1-α)) clamped. */
#include <math.h>
#include <stdlib.h>

#include "qscope/kernels.h"
#include "qscope/llmq.h"
#include "steps.h"

int qs_smooth_scales(const float *X, int n, const float *W, int out, int in, double alpha,
                     float *s, float *amax_x, float *amax_w, qs_err *err)
{
    if (n <= 0 || out <= 0 || in <= 0) return qs_err_set(err, "smoothquant: empty matrices");
    if (!(alpha >= 0.0 && alpha <= 1.0))
        return qs_err_set(err, "smoothquant: alpha=%g is not in [0, 1]", alpha);
    for (int j = 0; j < in; j++) {
        double ax = 0.0, aw = 0.0;
        for (int t = 0; t < n; t++) ax = fmax(ax, fabs((double)X[(size_t)t * in + j]));
        for (int o = 0; o < out; o++) aw = fmax(aw, fabs((double)W[(size_t)o * in + j]));
        if (amax_x) amax_x[j] = (float)ax;
        if (amax_w) amax_w[j] = (float)aw;
        double v = pow(ax, alpha) / pow(fmax(aw, 1e-5), 1.0 - alpha);
        s[j] = (float)fmax(v, 1e-5);
    }
    return QS_OK;
}

/* symmetric int8 absmax code of v with step sc (0 when sc is 0) */
static int q8(double v, double sc)
{
    if (!(sc > 0)) return 0;
    double c = nearbyint(v / sc);
    return (int)(c > 127 ? 127 : c < -127 ? -127 : c);
}

int qs_w8a8(const float *X, int n, const float *W, int out, int in, int act_per_tensor,
            float *Y, qs_err *err)
{
    /* X's int8 codes are stored + 128 as uint8 with zero point 128: the int8 GEMM kernel
     * (u8 × s8 → s32, exact) then computes Σ qx·qw */
    uint8_t *qx = malloc((size_t)n * in);
    int8_t *qw = malloc((size_t)out * in);
    int32_t *acc = malloc((size_t)n * out * sizeof *acc);
    double *sx = malloc((size_t)n * sizeof *sx), *sw = malloc((size_t)out * sizeof *sw);
    if (!qx || !qw || !acc || !sx || !sw) {
        free(qx); free(qw); free(acc); free(sx); free(sw);
        return qs_err_set(err, "w8a8: out of memory");
    }
    double at = 0.0;
    for (int64_t i = 0; i < (int64_t)n * in; i++) at = fmax(at, fabs((double)X[i]));
    for (int t = 0; t < n; t++) {
        double a = 0.0;
        for (int j = 0; j < in; j++) a = fmax(a, fabs((double)X[(size_t)t * in + j]));
        sx[t] = (act_per_tensor ? at : a) / 127.0;
        for (int j = 0; j < in; j++)
            qx[(size_t)t * in + j] = (uint8_t)(q8(X[(size_t)t * in + j], sx[t]) + 128);
    }
    for (int o = 0; o < out; o++) {
        double a = 0.0;
        for (int j = 0; j < in; j++) a = fmax(a, fabs((double)W[(size_t)o * in + j]));
        sw[o] = a / 127.0;
        for (int j = 0; j < in; j++) qw[(size_t)o * in + j] = (int8_t)q8(W[(size_t)o * in + j], sw[o]);
    }
    qs_k()->gemm_u8s8(n, out, in, qx, in, 128, qw, in, 0, acc, out);
    for (int t = 0; t < n; t++)
        for (int o = 0; o < out; o++)
            Y[(size_t)t * out + o] = (float)((double)acc[(size_t)t * out + o] * sx[t] * sw[o]);
    free(qx); free(qw); free(acc); free(sx); free(sw);
    return QS_OK;
}

void qs_smooth_trace(double a, double w, double s, int j, double alpha, int n, int out,
                     int planted, qs_trace *tr)
{
    char b1[32], b2[32], b3[32];
    qs_step *st = qs_steps_add(tr, "activation max", "a_j = max_t |X_tj|", a);
    STEP_SUB(st, "channel %d over %d calibration rows", j, n);
    STEP_RES(st, "a_%d = %s", j, qs_steps_g(b1, a));
    STEP_NOTE(st, "%s", planted ? "a planted outlier channel" : "an ordinary channel");
    st = qs_steps_add(tr, "weight max", "w_j = max_o |W_oj| (at least 1e-5)", w);
    STEP_SUB(st, "column %d over %d output rows", j, out);
    STEP_RES(st, "w_%d = %s", j, qs_steps_g(b1, w));
    st = qs_steps_add(tr, "smoothing factor", "s_j = a_j^α / w_j^(1-α)", s);
    STEP_SUB(st, "s_%d = %s^%g / %s^%g", j, qs_steps_g(b1, a), alpha,
             qs_steps_g(b2, fmax(w, 1e-5)), 1 - alpha);
    STEP_RES(st, "s_%d = %s", j, qs_steps_g(b3, s));
    STEP_NOTE(st, "α = %g moves that share of the channel's range from X to W", alpha);
    st = qs_steps_add(tr, "after", "X_tj / s_j and W_oj · s_j (the product is unchanged)",
                      a / s);
    STEP_SUB(st, "max |X_%d| = %s / %s", j, qs_steps_g(b1, a), qs_steps_g(b2, s));
    STEP_RES(st, "max |X_%d| = %s, max |W_%d| = %s", j, qs_steps_g(b1, a / s), j,
             qs_steps_g(b2, w * s));
    if (alpha == 0.5) STEP_NOTE(st, "with α = 0.5 both become sqrt(a_j · w_j) = %s",
                                qs_steps_g(b3, sqrt(a * w)));
}
