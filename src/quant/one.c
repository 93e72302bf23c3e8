/* one.c — one value through a scheme's integer parameters: its code and dequantized value, by
 * the kernels with the parameters as computed (TensorRT's multiplier 127/amax, ONNX's
 * division, PyTorch's 1/scale). `derive` ends its trace with it and `codes value=` hands it
 * to the faces, so no face rebuilds a quantizer from printed numbers. Handed a trace, it
 * explains the value with the `_ref` rule's own intermediate numbers (qs_k_quant1_ref). */
#include <float.h>
#include <math.h>

#include "qscope/derive.h"
#include "qscope/ggml.h"
#include "qscope/quant.h"

#define QS_STEPS_SHORT
#include "steps.h"

/* A one-element view of parameter set p. */
static qs_qp one_set(const qs_qparams *qp, int64_t p, qs_layout *l1)
{
    int64_t one = 1;
    qs_layout_make(0, &one, QS_G_TENSOR, 0, 1, l1);
    l1->len = 1;
    qs_qp k = qs_qparams_kernel(qp);
    k.scale += p;
    if (k.inv) k.inv += p;
    k.zp += p;
    return k;
}

/* ggml's quantizers (ggml.c, the engine's path for Q8_0 / Q4_0) read NaN as 0 and ±Inf as
 * ±FLT_MAX (qs_ggml_sanitize); one value goes the same way. */
static int is_ggml(const qs_scheme *s) { return s->kind == QS_Q_GGML || s->conv == QS_CONV_GGML; }
static float ggml_reads(float x)
{
    qs_ggml_sanitize(&x, 1, &x);
    return x;
}

void qs_qparams_code1(const qs_qparams *qp, int64_t p, float x, int32_t *code, float *xhat,
                      int *clipped)
{
    if (is_ggml(&qp->scheme)) x = ggml_reads(x);
    qs_layout l1;
    qs_qp k = one_set(qp, p, &l1);
    uint8_t c = 0;
    float y = 0.0f;
    qs_errstats st;
    qs_k()->fakequant(&x, &l1, &k, &y, &c, &st, NULL);
    if (code) *code = qp->qmin < 0 ? (int32_t)(int8_t)c : (int32_t)c;
    if (xhat) *xhat = y;
    if (clipped) *clipped = st.clipped > 0;
}

float qs_qparams_dequant1(const qs_qparams *qp, int64_t p, int32_t code)
{
    qs_layout l1;
    qs_qp k = one_set(qp, p, &l1);
    if (code < qp->qmin) code = qp->qmin;
    if (code > qp->qmax) code = qp->qmax;
    uint8_t c = (uint8_t)(code & 0xff);
    float y = 0.0f;
    qs_k()->dequantize(&c, &l1, &k, &y);
    return y;
}

/* ---- the explanation -------------------------------------------------------------------- */

static const char *round_rule(qs_round r)
{
    switch (r) {
    case QS_R_HALF_AWAY: return "round half away from zero";
    case QS_R_HALF_UP: return "floor(v + 0.5)";
    case QS_R_STOCHASTIC: return "floor(v + u), u uniform in [0,1)";
    default: return "round half to even (nearbyint)";
    }
}

void qs_qparams_code1_trace(const qs_qparams *qp, int64_t p, float x, int64_t elem,
                            int32_t *code, float *xhat, int *clipped, qs_trace *tr)
{
    int32_t c;
    float y;
    int clip;
    if (qp->scheme.round == QS_R_STOCHASTIC && elem > 0 && !is_ggml(&qp->scheme)) {
        /* element elem's random number: a one-element kernel call would draw element 0's.
         * The _ref rule at elem is the kernels' (test_kernels checks their codes agree) */
        qs_qp k1 = qs_qparams_kernel(qp);
        qs_k_quant1_parts pt;
        c = qs_k_quant1_ref(x, qp->scale[p], qp->inv[p], qp->zp[p], &k1, (uint64_t)elem, &pt);
        y = qs_qparams_dequant1(qp, p, c);
        clip = pt.clipped;
    } else {
        qs_qparams_code1(qp, p, x, &c, &y, &clip); /* the dispatched kernel: the answer */
        elem = 0;
    }
    if (code) *code = c;
    if (xhat) *xhat = y;
    if (clipped) *clipped = clip;
    if (!tr) return;

    /* the same value through the `_ref` rule, as element elem (the stochastic number the
     * answer above used: element 0's for a one-element kernel call) */
    const qs_scheme *sc = &qp->scheme;
    int ggml = is_ggml(sc);
    int q4 = ggml && (sc->kind == QS_Q_GGML ? sc->ggml_type == 2 : sc->bits == 4);
    int trt = !ggml && sc->conv == QS_CONV_TRT;
    qs_qp k = qs_qparams_kernel(qp);
    float s = qp->scale[p], inv = qp->inv[p];
    int32_t zp = qp->zp[p];
    int qmin = qp->qmin, qmax = qp->qmax;
    char a[40], b[40], d[40], e[40], f[40];
    qs_step *st;
    if (ggml && !isfinite(x)) {
        float xg = ggml_reads(x);
        st = add(tr, "as ggml reads it", "NaN → 0, ±inf → ±3.4028235e+38", xg);
        SUB(st, "%s", g(a, x));
        RES(st, "x = %s", g(b, xg));
        NOTE(st, "qscope's ggml quantizer (ggml.c) sanitizes a block before quantizing it");
        x = xg;
    }
    qs_k_quant1_parts rp;
    qs_k_quant1_ref(x, s, inv, zp, &k, (uint64_t)elem, &rp);
    float v = rp.v, r = rp.r;
    if (qp->divide) {
        st = add(tr, "divide", "v = x / s", v);
        SUB(st, "%s / %s", gp(a, x), g(b, s));
        RES(st, "v = %s", g(d, v));
        NOTE(st, "ONNX Runtime divides (numpy: x / scale)");
    } else {
        if (trt) {
            st = add(tr, "multiply", "v = x · m", v);
            SUB(st, "%s · %s", gp(a, x), g(b, inv));
        } else if (ggml) {
            st = add(tr, "multiply", "v = x · id", v);
            SUB(st, "%s · %s", gp(a, x), g(b, inv));
        } else {
            st = add(tr, "multiply by 1/s", "v = x · (1/s)", v);
            SUB(st, "%s · (1/%s) = %s · %s", gp(a, x), g(b, s), gp(d, x), g(e, inv));
        }
        RES(st, "v = %s", g(a, v));
        if (!ggml && !trt) {
            /* what dividing would give, through the same rule */
            qs_qp kd = k;
            kd.divide = 1;
            qs_k_quant1_parts dp;
            qs_k_quant1_ref(x, s, inv, zp, &kd, (uint64_t)elem, &dp);
            if (isnan(x))
                NOTE(st, "NaN times anything is NaN: no division or product gives it a code");
            else if (dp.r != r)
                NOTE(st, "dividing would give %s, which rounds to %s instead: PyTorch and "
                     "FBGEMM multiply by the float32 inverse", g(b, dp.v), g(d, dp.r));
            else
                NOTE(st, "PyTorch and FBGEMM multiply by the float32 inverse 1/s (x / s = %s)",
                     g(b, dp.v));
        }
    }
    if (q4) {
        float t85 = v + 8.5f;
        st = add(tr, "round", "q = min(15, (int)(v + 8.5))", t85);
        SUB(st, "(int)(%s + 8.5) = (int)%s", gp(a, v), g(b, t85));
        RES(st, "q = %d", c);
        NOTE(st, "ggml Q4_0 truncates v + 8.5, i.e. rounds half up around the offset 8");
    } else {
        st = add(tr, "round", ggml ? "r = roundf(v)" : "r = round(v)", r);
        SUB(st, "%s of %s", round_rule(sc->round), g(a, v));
        RES(st, "r = %s", g(b, r));
        if (sc->round == QS_R_STOCHASTIC)
            NOTE(st, "stochastic: u = %s (element %lld's number from seed %llu), so v rounds "
                 "up with probability v - floor(v) = %s", g(d, rp.u), (long long)elem,
                 (unsigned long long)sc->seed, g(e, v - floorf(v)));
        else if (fabsf(v - truncf(v)) == 0.5f)
            NOTE(st, "a tie: %s", round_rule(sc->round));
        float rz = r + (float)zp;
        st = add(tr, "add zero point", "q' = r + zp", rz);
        SUB(st, "%s + %s", g(a, r), gp(b, zp));
        RES(st, "q' = %s", g(d, rz));
        st = add(tr, "clamp", "q = clamp(q', qmin, qmax)", c);
        SUB(st, "clamp(%s, %d, %d)", g(a, rz), qmin, qmax);
        RES(st, "q = %d", c);
        if (isnan(x))
            NOTE(st, "NaN has no code: qscope stores the zero point (it dequantizes to 0) and "
                 "leaves the value out of the error statistics; PyTorch's quantize_per_tensor "
                 "stores qmin there (on x86, NaN converts to the smallest int32, which saturates "
                 "to qmin), so it dequantizes to (qmin - zp)·s");
        else if (clip) NOTE(st, "clipped: %s lies outside [%d, %d]", g(b, rz), qmin, qmax);
    }
    if (rp.q != c)
        NOTE(st, "the dispatched kernel gives %d, the _ref rule %d", c, rp.q);
    st = add(tr, "dequantize", ggml ? (q4 ? "x̂ = (q - 8) · d'" : "x̂ = q · d'")
                                     : "x̂ = (q - zp) · s", y);
    if (ggml) {
        if (q4) snprintf(f, sizeof f, "(%d - 8)", c);
        else snprintf(f, sizeof f, "%d", c);
        SUB(st, "%s · %s", f, g(a, s));
    } else SUB(st, "(%d - %s) · %s", c, gp(a, zp), g(b, s));
    RES(st, "x̂ = %s", g(d, y));
    if (trt) NOTE(st, "pytorch-quantization computes q / m; that can differ from q · s in the "
                  "last bit");
    double errv = (double)y - (double)x;
    float cmin = qp->clip_min[p], cmax = qp->clip_max[p];
    st = add(tr, "error", "e = x̂ - x", errv);
    SUB(st, "%s - %s", g(a, y), gp(b, x));
    RES(st, "e = %.6g", errv);
    if (isnan(x))
        NOTE(st, "no error is defined for NaN: the statistics count it apart (n_nan)");
    else if (!isfinite(y) && isfinite(x))
        NOTE(st, "not a number: the scale %s is not finite", g(a, s));
    else if (clip && fabsf(x) <= fmaxf(fabsf(cmin), fabsf(cmax)) && x >= cmin && x <= cmax)
        NOTE(st, "clipping error: the value lies inside the range [%s, %s], but x/s rounds "
             "one code past the grid's end (+amax / s = %g with PyTorch's divisor %g) and is "
             "clamped", g(a, cmin), g(b, cmax), (double)cmax * inv,
             ((double)qmax - qmin) / 2.0);
    else if (clip) NOTE(st, "clipping error: the value lies outside the clip range");
    else NOTE(st, "rounding error: |e| <= s/2 = %s inside the range", g(a, s / 2.0f));
}
