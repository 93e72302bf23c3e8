/* qparams.c — scale and zero point from a clip range under each convention (torch, onnx,
 * trt, ggml), each rule recording its own derivation steps when handed a trace; the codebook
 * tables (NF4, FP4, bitsandbytes' dynamic 8-bit map) and the finite min / max helper. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/derive.h"
#include "qscope/ggml.h"
#include "qscope/quant.h"

#define QS_STEPS_SHORT
#include "steps.h"

/* ---- codebooks -------------------------------------------------------------------------- */

/* bitsandbytes functional.py get_4bit_type("nf4") / csrc kernels.cu dDequantizeNF4 */
const float qs_nf4_table[16] = {
    -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
    -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
    0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
    0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f,
};

/* bitsandbytes get_4bit_type("fp4"): by code, divided by 12 */
const float qs_fp4_table_by_code[16] = {
    0.0f / 12, 0.0625f / 12, 8.0f / 12, 12.0f / 12, 4.0f / 12, 6.0f / 12, 2.0f / 12,
    3.0f / 12, -0.0f / 12, -0.0625f / 12, -8.0f / 12, -12.0f / 12, -4.0f / 12, -6.0f / 12,
    -2.0f / 12, -3.0f / 12,
};

void qs_fp4_sorted(float table[16], int code_of[16])
{
    int idx[16];
    for (int i = 0; i < 16; i++) idx[i] = i;
    /* insertion sort by value; -0 before +0 (code 8 before code 0) */
    for (int i = 1; i < 16; i++) {
        int k = idx[i], j = i - 1;
        float v = qs_fp4_table_by_code[k];
        while (j >= 0) {
            float u = qs_fp4_table_by_code[idx[j]];
            int after = u > v || (u == v && signbit(v) && !signbit(u));
            if (!after) break;
            idx[j + 1] = idx[j];
            j--;
        }
        idx[j + 1] = k;
    }
    for (int i = 0; i < 16; i++) {
        table[i] = qs_fp4_table_by_code[idx[i]];
        code_of[i] = idx[i];
    }
}

/* torch.linspace(start, end, steps) in float32 exactly as PyTorch 1.13's AVX2 CPU kernel
 * computes it (checked against torch in tests/golden/make_quant_golden.py): step =
 * (end - start) / (steps - 1); the first half counts up from start, the second down from end;
 * elements come in pairs of 8-lane vectors whose base is start + step·idx (or end -
 * step·(steps-idx-1)) fused into one FMA, lanes base + lane·step unfused; the tail is scalar
 * with FMA. (bitsandbytes builds its dynamic map with torch.linspace, so the map depends on
 * that kernel by an ulp; this is the x86-64 AVX2 one.) */
static float mad(float a, float b, float c, int fused)
{
    if (fused) return fmaf(a, b, c);
    float p = a * b;
    return p + c;
}
static void linspace_f32(float start, float end, int steps, float *out)
{
    const int V = 8;
    float step = (end - start) / (float)(steps - 1);
    int half = steps / 2, idx = 0;
    while (idx < steps) {
        if (idx + 2 * V <= steps) {
            for (int v = 0; v < 2; v++, idx += V) {
                float base = idx < half ? mad(step, (float)idx, start, 1)
                                        : mad(-step, (float)(steps - idx - 1), end, 1);
                for (int l = 0; l < V; l++) out[idx + l] = mad((float)l, step, base, 0);
            }
        } else {
            out[idx] = idx < half ? mad(step, (float)idx, start, 1)
                                  : mad(-step, (float)(steps - idx - 1), end, 1);
            idx++;
        }
    }
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

void qs_dynamic_map(float map[256])
{
    /* create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8): for i in 0..6,
     * 2^i + 1 boundaries linspace(0.1, 1), their 2^i midpoints times ±10^(i-6); then 0 and
     * 1.0; sorted. additional_items = 2^(7-7) - 1 = 0. */
    int n = 0;
    float b[65], mid;
    for (int i = 0; i < 7; i++) {
        int items = (1 << i) + 1;
        linspace_f32(0.1f, 1.0f, items, b);
        float scale = (float)pow(10.0, -(7 - 1) + i);
        for (int k = 0; k + 1 < items; k++) {
            mid = (b[k] + b[k + 1]) / 2.0f;
            map[n++] = scale * mid;
        }
        for (int k = 0; k + 1 < items; k++) {
            mid = (b[k] + b[k + 1]) / 2.0f;
            map[n++] = -(scale * mid);
        }
    }
    map[n++] = 0.0f;
    map[n++] = 1.0f;
    qsort(map, 256, sizeof map[0], cmp_float);
}

int qs_dynamic_map_index(const float map[256], float v)
{
    /* binary search for the first entry >= v, then pick the nearer neighbour; an exact
     * midpoint goes to the lower entry */
    int lo = 0, hi = 255;
    if (!(v > map[0])) return 0;
    if (v >= map[255]) return 255;
    while (lo + 1 < hi) {
        int m = (lo + hi) / 2;
        if (map[m] < v) lo = m; else hi = m;
    }
    float mid = (map[lo] + map[hi]) * 0.5f;
    return v > mid ? hi : lo;
}

/* ---- finite min / max ------------------------------------------------------------------- */

void qs_finite_minmax(const float *x, int64_t n, float *mn, float *mx, int64_t *nfinite,
                      int64_t *ninf, int64_t *nnan)
{
    float lo = INFINITY, hi = -INFINITY;
    int64_t inf = 0, nan = 0;
    qs_k()->minmax(x, n, &lo, &hi);
    if (isinf(lo) || isinf(hi)) {
        /* infinities (or nothing but NaN): count and recompute over the finite values */
        lo = INFINITY; hi = -INFINITY;
        for (int64_t i = 0; i < n; i++) {
            if (isnan(x[i])) nan++;
            else if (isinf(x[i])) inf++;
            else {
                if (x[i] < lo) lo = x[i];
                if (x[i] > hi) hi = x[i];
            }
        }
    } else if (nnan) {
        /* x != x is NaN (no -ffast-math): a compare-and-add the compiler vectorizes, on the
         * kernels' threads (an exact count), where isnan() per element on one thread cost 4x
         * the minmax pass before it */
        #pragma omp parallel for simd reduction(+ : nan) num_threads(qs_k_threads()) \
            if (n >= ((int64_t)1 << 18))
        for (int64_t i = 0; i < n; i++) nan += x[i] != x[i];
    }
    int64_t fin = n - inf - nan;
    if (fin <= 0) { lo = 0.0f; hi = 0.0f; fin = 0; }
    *mn = lo; *mx = hi;
    if (nfinite) *nfinite = fin;
    if (ninf) *ninf = inf;
    if (nnan) *nnan = nan;
}

/* ---- parameters ------------------------------------------------------------------------- */

void qs_qparams_fini(qs_qparams *qp)
{
    if (!qp) return;
    free(qp->scale);
    free(qp->inv);
    free(qp->zp);
    free(qp->clip_min);
    free(qp->clip_max);
    memset(qp, 0, sizeof *qp);
}

qs_qp qs_qparams_kernel(const qs_qparams *qp)
{
    qs_qp k;
    memset(&k, 0, sizeof k);
    k.scale = qp->scale;
    k.inv = qp->inv;
    k.zp = qp->zp;
    k.qmin = qp->qmin;
    k.qmax = qp->qmax;
    k.divide = qp->divide;
    k.round = qp->scheme.round;
    k.seed = qp->scheme.seed;
    return k;
}

static float fp16_round(float v)
{
    uint16_t h;
    float r;
    qs_k()->f32_to_f16(&v, 1, &h);
    qs_k()->f16_to_f32(&h, 1, &r);
    return r;
}

/* Each convention's rule below computes one parameter set and, handed a trace (tr != NULL),
 * appends the steps that explain it, with the numbers it computed: `derive` shows these
 * steps, so the explanation cannot drift from the computation. tr == NULL costs a branch. */

/* "include zero": torch and onnx widen the clip range [lo, hi] to [mn, mx] around 0. */
static void step_include_zero(qs_trace *tr, float lo, float hi, float mn, float mx)
{
    char a[40], b[40], d[40], e[40];
    qs_step *st = add(tr, "include zero", "min' = min(lo, 0), max' = max(hi, 0)", NAN);
    SUB(st, "min(%s, 0), max(%s, 0)", g(a, lo), g(b, hi));
    RES(st, "[%s, %s]", g(d, mn), g(e, mx));
    NOTE(st, "0 must be exactly representable (zero padding, ReLU zeros)");
}

/* "amax" of a symmetric torch / onnx rule on the widened range [mn, mx]. */
static void step_amax(qs_trace *tr, float mn, float mx, float amax)
{
    char a[40], b[40], d[40];
    qs_step *st = add(tr, "amax", "amax = max(-min', max')", amax);
    SUB(st, "max(%s, %s)", g(a, -mn), g(b, mx));
    RES(st, "amax = %s", g(d, amax));
}

/* "zero point" of a symmetric torch / onnx rule. */
static void step_zp_sym(qs_trace *tr, const qs_scheme *s, int32_t zp)
{
    qs_step *st = add(tr, "zero point", s->is_signed ? "zp = 0"
                      : "zp = 128 (uint8) or (qmin + qmax) / 2", zp);
    SUB(st, "symmetric %s", s->is_signed ? "signed" : "unsigned");
    RES(st, "zp = %d", zp);
    NOTE(st, "symmetric: 0 maps to the code in the middle of the range");
}

/* torch: PyTorch observer _calculate_qparams, float32 throughout */
static void torch_params(const qs_scheme *s, int qmin, int qmax, float lo, float hi,
                         float *scale, float *inv, int32_t *zp, qs_trace *tr)
{
    float mn = fminf(lo, 0.0f), mx = fmaxf(hi, 0.0f);
    float sc, amax = 0.0f, r = 0.0f;
    int32_t z;
    int wide = 0;
    if (s->symmetric) {
        amax = fmaxf(-mn, mx) + 0.0f;   /* + 0: an all-zero range gives +0, not -0 */
        sc = amax / ((float)(qmax - qmin) / 2.0f);
        sc = fmaxf(sc, FLT_EPSILON);
        if (s->is_signed) z = 0;
        else z = (s->bits == 8 && !s->narrow) ? 128 : (qmin + qmax) / 2;
    } else {
        sc = (mx - mn) / (float)(qmax - qmin);
        /* a range wider than float (±3.4e38): torch's float32 mx - mn is inf; the true
         * scale fits in float, so the range is taken in double (never a clamped FLT_MAX) */
        wide = isinf(mx - mn) && isfinite(mx) && isfinite(mn);
        if (wide) sc = (float)(((double)mx - (double)mn) / (double)(qmax - qmin));
        sc = fmaxf(sc, FLT_EPSILON);
        r = nearbyintf(mn / sc);
        long zz = (long)qmin - (long)r;
        z = (int32_t)(zz < qmin ? qmin : zz > qmax ? qmax : zz);
    }
    if (!isfinite(sc)) sc = FLT_MAX;    /* only for ranges beyond float: never NaN */
    *scale = sc;
    *inv = 1.0f / sc;
    *zp = z;
    if (!tr) return;
    char a[40], b[40], d[40], e[40], f[40];
    qs_step *st;
    step_include_zero(tr, lo, hi, mn, mx);
    if (s->symmetric) {
        step_amax(tr, mn, mx, amax);
        st = add(tr, "scale", "s = amax / ((qmax - qmin) / 2)", sc);
        SUB(st, "%s / ((%d - %s) / 2) = %s / %s", g(a, amax), qmax, gp(b, qmin), g(d, amax),
            g(e, ((double)qmax - qmin) / 2.0));
        if (qmin == -128 && qmax == 127 && amax > 0 && isfinite(amax) && sc > FLT_EPSILON) {
            /* where ±amax land, computed as the quantizer does (x·(1/s), or x / s under
             * ONNX), so the sentence is true of this amax: float rounding often leaves +amax
             * at 127.49999 (code 127, no clip), and -amax can reach -127.5 (code -128) */
            int dv = s->conv == QS_CONV_ONNX;
            float vp = dv ? amax / sc : amax * (1.0f / sc);
            float vn = dv ? -amax / sc : -amax * (1.0f / sc);
            float rp = nearbyintf(vp), rn = nearbyintf(vn);
            int cp = rp > 127.0f ? 127 : (int)rp, cn = rn < -128.0f ? -128 : (int)rn;
            NOTE(st, "s = amax/127.5 puts ±amax near ±127.5: here +amax -> %.9g (code %d%s), "
                 "-amax -> %.9g (code %d)%s (hence the -127..127 weight observers)",
                 (double)vp, cp, rp > 127.0f ? ", 128 clipped" : "", (double)vn, cn,
                 cp + cn != 0 ? ": they come back with different sizes"
                              : "; on exactly ±127.5, +amax clips to 127, -amax takes -128");
        }
        RES(st, "s = %s", g(a, sc));
        if (sc == FLT_EPSILON)
            NOTE(st, "the range is (almost) zero: s = max(s, 1.1920929e-07) as PyTorch");
        step_zp_sym(tr, s, z);
        return;
    }
    st = add(tr, "scale", "s = (max' - min') / (qmax - qmin)", sc);
    SUB(st, "(%s - %s) / (%d - %s)", g(a, mx), gp(b, mn), qmax, gp(d, qmin));
    RES(st, "s = %s", g(a, sc));
    if (sc == FLT_EPSILON)
        NOTE(st, "the range is (almost) zero: s = max(s, 1.1920929e-07) as PyTorch");
    else if (wide)
        NOTE(st, "max' - min' overflows float32 (PyTorch's scale would be inf): qscope takes "
             "the range in float64");
    else NOTE(st, "%g steps of %s cover the range", (double)qmax - qmin, g(b, sc));
    st = add(tr, "zero point", "zp = clamp(qmin - round(min' / s), qmin, qmax)", z);
    SUB(st, "%s - round(%s / %s) = %s - %s", gp(a, qmin), gp(b, mn), g(d, sc), gp(e, qmin),
        gp(f, r));
    RES(st, "zp = %d", z);
    NOTE(st, "the code that stands for 0.0; min' maps to qmin");
}

/* onnx: onnxruntime quant_utils.compute_scale_zp (float64 arithmetic, scale stored fp32) */
static void onnx_params(const qs_scheme *s, int qmin, int qmax, float lo, float hi,
                        float *scale, float *inv, int32_t *zp, qs_trace *tr)
{
    float fmn = fminf(lo, 0.0f), fmx = fmaxf(hi, 0.0f);
    float wmn = fmn, wmx = fmx, amax = 0.0f;
    if (s->symmetric) {
        amax = fmaxf(fabsf(fmn), fabsf(fmx));
        fmn = -amax;
        fmx = amax;
    }
    /* numpy: rmax - rmin in float32, then float64 for the division */
    double mn = fmn, dr = (double)(fmx - fmn);
    if (isinf(fmx - fmn) && isfinite(fmx) && isfinite(fmn))
        dr = (double)fmx - (double)fmn;     /* numpy's float32 range overflows: see torch */
    double sc = dr / ((double)qmax - (double)qmin);
    double z = 0.0, t = 0.0;
    float f = 1.0f;
    int tiny = !(sc >= (double)FLT_MIN);    /* scale 1, zero point 0 */
    if (!tiny) {
        if (s->symmetric) z = nearbyint(((double)qmin + (double)qmax) / 2.0);
        else z = nearbyint(t = (double)qmin - mn / sc);
        z = z < qmin ? qmin : z > qmax ? qmax : z;
        f = (float)sc;
        if (!isfinite(f)) f = FLT_MAX;
    }
    *scale = f;
    *inv = 1.0f / f;
    *zp = (int32_t)z;
    if (!tr) return;
    char a[40], b[40], d[40], e[40];
    qs_step *st;
    step_include_zero(tr, lo, hi, wmn, wmx);
    if (s->symmetric) {
        step_amax(tr, wmn, wmx, amax);
        st = add(tr, "scale", "s = 2·amax / (qmax - qmin)", f);
        SUB(st, "2·%s / (%d - %s)", g(a, amax), qmax, gp(b, qmin));
        NOTE(st, "ONNX Runtime: symmetric int uses the narrow range, computed in float64, "
             "stored as float32");
    } else {
        st = add(tr, "scale", "s = (max' - min') / (qmax - qmin)", f);
        SUB(st, "(%s - %s) / (%d - %s)", g(a, wmx), gp(b, wmn), qmax, gp(d, qmin));
        NOTE(st, "ONNX Runtime: float64, stored as float32");
    }
    RES(st, "s = %s", g(a, f));
    if (tiny)
        NOTE(st, "the scale %s is below FLT_MIN: ONNX Runtime uses scale 1 and zero point 0",
             g(b, sc));
    if (s->symmetric) { step_zp_sym(tr, s, (int32_t)z); return; }
    st = add(tr, "zero point", "zp = clamp(round(qmin - min' / s), qmin, qmax)", z);
    if (!tiny) SUB(st, "round(%s - %s / %s) = round(%s)", gp(a, qmin), gp(b, wmn), g(d, f),
                   g(e, t));
    RES(st, "zp = %d", (int32_t)z);
    NOTE(st, "the code that stands for 0.0; min' maps to qmin (ONNX Runtime rounds qmin - "
         "min'/s in float64, half to even)");
}

/* trt: pytorch-quantization tensor_quant: multiplier max_bound / amax in float32 */
static void trt_params(const qs_scheme *s, int qmin, int qmax, float lo, float hi,
                       float *scale, float *inv, int32_t *zp, qs_trace *tr)
{
    (void)qmin;
    float amax = fmaxf(fabsf(lo), fabsf(hi));
    float bound = (float)qmax;
    *zp = 0;
    (void)s;
    if (amax <= 0x1p-24f) {         /* TensorRT: amax <= 2^-24 quantizes to 0, scale 1 */
        *inv = 0.0f;
        *scale = 1.0f;
    } else {
        *inv = bound / amax;
        *scale = amax / bound;
        if (!isfinite(*scale)) *scale = FLT_MAX;
    }
    if (!tr) return;
    char a[40], b[40], d[40];
    qs_step *st = add(tr, "amax", "amax = max(|lo|, |hi|)", amax);
    SUB(st, "max(|%s|, |%s|)", g(a, lo), g(b, hi));
    RES(st, "amax = %s", g(d, amax));
    NOTE(st, "pytorch-quantization (convention=trt) is symmetric only; the range always "
         "contains 0");
    st = add(tr, "multiplier", "m = qmax / amax", *inv);
    SUB(st, "%d / %s", qmax, g(a, amax));
    RES(st, "m = %s", g(b, *inv));
    if (amax <= 0x1p-24f)
        NOTE(st, "amax <= 2^-24 counts as zero: every value quantizes to 0 "
             "(pytorch-quantization's tensor_quant)");
    else NOTE(st, "pytorch-quantization multiplies by qmax/amax; the step is s = amax/qmax = "
              "%s", g(d, *scale));
}

/* ggml Q8_0: d = amax / 127; Q4_0: d = max / -8 (max = the block's largest |x|, sign kept).
 * id = d ? 1/d : 0; dequantize uses d rounded to fp16 (stored that way). A d beyond fp16's
 * range (|d| >= 65520) is stored as ±Inf, as ggml's GGML_FP32_TO_FP16 does: the block then
 * dequantizes to ±Inf (NaN for code 0), and the result says so (qs_qresult.nonfinite).
 * p names the block in the trace. */
static void ggml_params(int q4, float lo, float hi, float smax, float *scale, float *inv,
                        int32_t *zp, int64_t p, qs_trace *tr)
{
    float d, amax = 0.0f;
    if (q4) {
        d = smax / -8.0f;
        *zp = 8;
    } else {
        amax = fmaxf(fabsf(lo), fabsf(hi));
        d = amax / 127.0f;
        *zp = 0;
    }
    *inv = d != 0.0f ? 1.0f / d : 0.0f;
    *scale = fp16_round(d);
    if (!isfinite(*inv)) *inv = 0.0f;
    if (!tr) return;
    char a[40], b[40], c[40];
    qs_step *st;
    if (q4) {
        st = add(tr, "signed max", "m = the x with the largest |x| (sign kept)", smax);
        SUB(st, "largest |x| in block %lld", (long long)p);
        RES(st, "m = %s", g(a, smax));
        NOTE(st, "ggml Q4_0 keeps the sign so that m maps exactly to code 0 (-8)");
        st = add(tr, "scale d", "d = m / -8", d);
        SUB(st, "%s / -8", gp(a, smax));
    } else {
        st = add(tr, "amax", "amax = max(|min|, |max|)", amax);
        SUB(st, "max(|%s|, |%s|)", g(a, lo), g(b, hi));
        RES(st, "amax = %s", g(c, amax));
        st = add(tr, "scale d", "d = amax / 127", d);
        SUB(st, "%s / 127", g(a, amax));
    }
    RES(st, "d = %s", g(b, d));
    st = add(tr, "inverse", "id = d ? 1/d : 0", *inv);
    RES(st, "id = %s", g(a, *inv));
    NOTE(st, "ggml multiplies by the inverse of the fp32 d");
    st = add(tr, "stored d", "d' = fp16(d)", *scale);
    RES(st, "d' = %s", g(a, *scale));
    if (isinf(*scale))
        NOTE(st, "d is beyond fp16's range (65504): the block stores inf, as ggml does, and "
             "every value of the block dequantizes to inf or nan (0 · inf)");
    else NOTE(st, "the block stores d as fp16; dequantization uses d'");
}

int qs_qparams_compute(const qs_scheme *s, const qs_layout *l, const float *lo,
                       const float *hi, const float *signed_max, qs_qparams *qp,
                       qs_err *err)
{
    return qs_qparams_compute_trace(s, l, lo, hi, signed_max, qp, -1, NULL, err);
}

int qs_qparams_compute_trace(const qs_scheme *s, const qs_layout *l, const float *lo,
                             const float *hi, const float *signed_max, qs_qparams *qp,
                             int64_t set, qs_trace *tr, qs_err *err)
{
    memset(qp, 0, sizeof *qp);
    qp->scheme = *s;
    qp->layout = *l;
    int64_t np = qs_layout_nparams(l);
    qp->nparams = np;
    size_t n = (size_t)(np > 0 ? np : 1);
    qp->scale = malloc(n * sizeof *qp->scale);
    qp->inv = malloc(n * sizeof *qp->inv);
    qp->zp = malloc(n * sizeof *qp->zp);
    qp->clip_min = malloc(n * sizeof *qp->clip_min);
    qp->clip_max = malloc(n * sizeof *qp->clip_max);
    if (!qp->scale || !qp->inv || !qp->zp || !qp->clip_min || !qp->clip_max) {
        qs_qparams_fini(qp);
        return qs_err_set(err, "qparams: out of memory for %lld parameter sets",
                          (long long)np);
    }
    qs_scheme_range(s, &qp->qmin, &qp->qmax);
    int ggml = s->kind == QS_Q_GGML || s->conv == QS_CONV_GGML;
    int q4 = ggml && (s->kind == QS_Q_GGML ? s->ggml_type == 2 : s->bits == 4);
    qp->divide = !ggml && s->conv == QS_CONV_ONNX;
    for (int64_t p = 0; p < np; p++) {
        qs_trace *t = p == set ? tr : NULL;     /* only the set followed explains itself */
        float a = lo[p], b = hi[p];
        if (isnan(a) || isinf(a)) a = 0.0f;
        if (isnan(b) || isinf(b)) b = 0.0f;
        if (a > b) { float x = a; a = b; b = x; }
        if (ggml) {
            float sm = signed_max ? signed_max[p] : (fabsf(a) > fabsf(b) ? a : b);
            if (isnan(sm) || isinf(sm)) sm = 0.0f;
            ggml_params(q4, a, b, sm, &qp->scale[p], &qp->inv[p], &qp->zp[p], p, t);
            float am = q4 ? fabsf(sm) : fmaxf(fabsf(a), fabsf(b));
            qp->clip_min[p] = -am;
            qp->clip_max[p] = am;
            continue;
        }
        switch (s->conv) {
        case QS_CONV_ONNX:
            onnx_params(s, qp->qmin, qp->qmax, a, b, &qp->scale[p], &qp->inv[p], &qp->zp[p],
                        t);
            break;
        case QS_CONV_TRT:
            trt_params(s, qp->qmin, qp->qmax, a, b, &qp->scale[p], &qp->inv[p], &qp->zp[p],
                       t);
            break;
        default:
            torch_params(s, qp->qmin, qp->qmax, a, b, &qp->scale[p], &qp->inv[p], &qp->zp[p],
                         t);
            break;
        }
        if (s->conv == QS_CONV_TRT || s->symmetric) {
            float am = fmaxf(fabsf(a), fabsf(b));
            qp->clip_min[p] = s->is_signed || s->conv != QS_CONV_TRT ? -am : 0.0f;
            qp->clip_max[p] = am;
        } else {
            qp->clip_min[p] = fminf(a, 0.0f);
            qp->clip_max[p] = fmaxf(b, 0.0f);
        }
    }
    return QS_OK;
}

int qs_qparams_ggml(const qs_scheme *s, const qs_layout *l, const float *x, int64_t n,
                    qs_qparams *qp, int64_t set, qs_trace *tr, qs_err *err)
{
    int64_t np = qs_layout_nparams(l);
    size_t m = (size_t)(np > 0 ? np : 1);
    float *smax = calloc(m, sizeof *smax), *am = calloc(m, sizeof *am);
    float *mn = malloc(m * sizeof *mn), *mx = malloc(m * sizeof *mx);
    if (!smax || !am || !mn || !mx) {
        free(smax); free(am); free(mn); free(mx);
        memset(qp, 0, sizeof *qp);
        return qs_err_set(err, "qparams: out of memory for %lld blocks", (long long)np);
    }
    for (int64_t p = 0; p < np; p++) { mn[p] = INFINITY; mx[p] = -INFINITY; }
    for (int64_t e = 0; e < n; e++) {
        int64_t p = qs_layout_index(l, e);
        /* as ggml.c's quantizer sees the block: NaN -> 0, ±Inf -> ±FLT_MAX */
        float v;
        qs_ggml_sanitize(&x[e], 1, &v);
        if (x[e] == x[e]) {                         /* the range leaves NaN out */
            if (v < mn[p]) mn[p] = v;
            if (v > mx[p]) mx[p] = v;
        }
        float a = fabsf(v);
        if (a > am[p]) { am[p] = a; smax[p] = v; }
    }
    for (int64_t p = 0; p < np; p++)
        if (mn[p] > mx[p]) mn[p] = mx[p] = 0.0f;    /* nothing but NaN */
    int rc = qs_qparams_compute_trace(s, l, mn, mx, smax, qp, set, tr, err);
    free(smax); free(am); free(mn); free(mx);
    return rc;
}
