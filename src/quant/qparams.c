/* qparams.c — scale and zero point from a clip range under each convention (torch, onnx,
 * trt, ggml), the codebook tables (NF4, FP4, bitsandbytes' dynamic 8-bit map) and the finite
 * min / max helper. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/quant.h"

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

/* torch: PyTorch observer _calculate_qparams, float32 throughout */
static void torch_params(const qs_scheme *s, int qmin, int qmax, float lo, float hi,
                         float *scale, float *inv, int32_t *zp)
{
    float mn = fminf(lo, 0.0f), mx = fmaxf(hi, 0.0f);
    float sc;
    int32_t z;
    if (s->symmetric) {
        float amax = fmaxf(-mn, mx);
        sc = amax / ((float)(qmax - qmin) / 2.0f);
        sc = fmaxf(sc, FLT_EPSILON);
        if (s->is_signed) z = 0;
        else z = (s->bits == 8 && !s->narrow) ? 128 : (qmin + qmax) / 2;
    } else {
        sc = (mx - mn) / (float)(qmax - qmin);
        /* a range wider than float (±3.4e38): torch's float32 mx - mn is inf; the true
         * scale fits in float, so the range is taken in double (never a clamped FLT_MAX) */
        if (isinf(mx - mn) && isfinite(mx) && isfinite(mn))
            sc = (float)(((double)mx - (double)mn) / (double)(qmax - qmin));
        sc = fmaxf(sc, FLT_EPSILON);
        float r = nearbyintf(mn / sc);
        long zz = (long)qmin - (long)r;
        z = (int32_t)(zz < qmin ? qmin : zz > qmax ? qmax : zz);
    }
    if (!isfinite(sc)) sc = FLT_MAX;    /* only for ranges beyond float: never NaN */
    *scale = sc;
    *inv = 1.0f / sc;
    *zp = z;
}

/* onnx: onnxruntime quant_utils.compute_scale_zp (float64 arithmetic, scale stored fp32) */
static void onnx_params(const qs_scheme *s, int qmin, int qmax, float lo, float hi,
                        float *scale, float *inv, int32_t *zp)
{
    float fmn = fminf(lo, 0.0f), fmx = fmaxf(hi, 0.0f);
    if (s->symmetric) {
        float amax = fmaxf(fabsf(fmn), fabsf(fmx));
        fmn = -amax;
        fmx = amax;
    }
    /* numpy: rmax - rmin in float32, then float64 for the division */
    double mn = fmn, dr = (double)(fmx - fmn);
    if (isinf(fmx - fmn) && isfinite(fmx) && isfinite(fmn))
        dr = (double)fmx - (double)fmn;     /* numpy's float32 range overflows: see torch */
    double sc = dr / ((double)qmax - (double)qmin);
    double z;
    if (!(sc >= (double)FLT_MIN)) {
        *scale = 1.0f;
        *inv = 1.0f;
        *zp = 0;
        return;
    }
    if (s->symmetric) z = nearbyint(((double)qmin + (double)qmax) / 2.0);
    else z = nearbyint((double)qmin - mn / sc);
    z = z < qmin ? qmin : z > qmax ? qmax : z;
    float f = (float)sc;
    if (!isfinite(f)) f = FLT_MAX;
    *scale = f;
    *inv = 1.0f / f;
    *zp = (int32_t)z;
}

/* trt: pytorch-quantization tensor_quant: multiplier max_bound / amax in float32 */
static void trt_params(const qs_scheme *s, int qmin, int qmax, float lo, float hi,
                       float *scale, float *inv, int32_t *zp)
{
    (void)qmin;
    float amax = fmaxf(fabsf(lo), fabsf(hi));
    float bound = (float)qmax;
    *zp = 0;
    (void)s;
    if (amax <= 0x1p-24f) {         /* TensorRT: amax <= 2^-24 quantizes to 0, scale 1 */
        *inv = 0.0f;
        *scale = 1.0f;
        return;
    }
    *inv = bound / amax;
    *scale = amax / bound;
    if (!isfinite(*scale)) *scale = FLT_MAX;
}

/* ggml Q8_0: d = amax / 127; Q4_0: d = max / -8 (max = the block's largest |x|, sign kept).
 * id = d ? 1/d : 0; dequantize uses d rounded to fp16 (stored that way). A d beyond fp16's
 * range (|d| >= 65520) is stored as ±Inf, as ggml's GGML_FP32_TO_FP16 does: the block then
 * dequantizes to ±Inf (NaN for code 0), and the result says so (qs_qresult.nonfinite). */
static void ggml_params(int q4, float lo, float hi, float smax, float *scale, float *inv,
                        int32_t *zp)
{
    float d;
    if (q4) {
        d = smax / -8.0f;
        *zp = 8;
    } else {
        float amax = fmaxf(fabsf(lo), fabsf(hi));
        d = amax / 127.0f;
        *zp = 0;
    }
    *inv = d != 0.0f ? 1.0f / d : 0.0f;
    *scale = fp16_round(d);
    if (!isfinite(*inv)) *inv = 0.0f;
}

int qs_qparams_compute(const qs_scheme *s, const qs_layout *l, const float *lo,
                       const float *hi, const float *signed_max, qs_qparams *qp,
                       qs_err *err)
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
        float a = lo[p], b = hi[p];
        if (isnan(a) || isinf(a)) a = 0.0f;
        if (isnan(b) || isinf(b)) b = 0.0f;
        if (a > b) { float t = a; a = b; b = t; }
        if (ggml) {
            float sm = signed_max ? signed_max[p] : (fabsf(a) > fabsf(b) ? a : b);
            if (isnan(sm) || isinf(sm)) sm = 0.0f;
            ggml_params(q4, a, b, sm, &qp->scale[p], &qp->inv[p], &qp->zp[p]);
            float am = q4 ? fabsf(sm) : fmaxf(fabsf(a), fabsf(b));
            qp->clip_min[p] = -am;
            qp->clip_max[p] = am;
            continue;
        }
        switch (s->conv) {
        case QS_CONV_ONNX:
            onnx_params(s, qp->qmin, qp->qmax, a, b, &qp->scale[p], &qp->inv[p], &qp->zp[p]);
            break;
        case QS_CONV_TRT:
            trt_params(s, qp->qmin, qp->qmax, a, b, &qp->scale[p], &qp->inv[p], &qp->zp[p]);
            break;
        default:
            torch_params(s, qp->qmin, qp->qmax, a, b, &qp->scale[p], &qp->inv[p], &qp->zp[p]);
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
