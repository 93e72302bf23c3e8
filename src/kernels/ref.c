/* ref.c — the plain scalar `_ref` kernels that define what every kernel means (the lessons
 * show these), plus the layout helpers, the requantization epilogue and qs_k_threads().
 * Threading and ordered reductions come from drive.c; the one-element rules from kint.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "kint.h"

/* ======================================================================================
 * Layouts
 * ====================================================================================== */

int qs_layout_make(int ndim, const int64_t *shape, qs_gran gran, int axis, int64_t group,
                   qs_layout *out)
{
    qs_layout l = { QS_G_TENSOR, 1, 1, 1, 1 };
    int64_t numel = 1;
    for (int d = 0; d < ndim; d++) numel *= shape[d];
    if (ndim == 0 || gran == QS_G_TENSOR) {
        l.len = numel;
        *out = l;
        return 0;
    }
    if (axis < 0) axis += ndim;
    if (axis < 0 || axis >= ndim) return -1;
    if (gran == QS_G_GROUP && group < 1) return -1;
    l.gran = gran;
    for (int d = 0; d < axis; d++) l.outer *= shape[d];
    l.len = shape[axis];
    for (int d = axis + 1; d < ndim; d++) l.inner *= shape[d];
    l.group = gran == QS_G_GROUP ? group : 1;
    *out = l;
    return 0;
}

int64_t qs_layout_nparams(const qs_layout *l)
{
    switch (l->gran) {
    case QS_G_CHANNEL: return l->len;
    case QS_G_GROUP:   return l->outer * ((l->len + l->group - 1) / l->group) * l->inner;
    default:           return 1;
    }
}

int64_t qs_layout_index(const qs_layout *l, int64_t e)
{
    int64_t o = e / (l->len * l->inner), a = (e / l->inner) % l->len, i = e % l->inner;
    switch (l->gran) {
    case QS_G_CHANNEL: return a;
    case QS_G_GROUP:   return (o * ((l->len + l->group - 1) / l->group) + a / l->group)
                              * l->inner + i;
    default:           return 0;
    }
}

int64_t qs_layout_numel(const qs_layout *l) { return l->outer * l->len * l->inner; }

/* ======================================================================================
 * Threads
 * ====================================================================================== */

int qs_k_threads(void)
{
    const char *s = getenv("QSCOPE_THREADS");
    if (s && *s) {
        long v = strtol(s, NULL, 10);
        if (v >= 1) return v > 1024 ? 1024 : (int)v;
    }
    int n = omp_get_max_threads();
    return n >= 1 ? n : 1;
}

/* ======================================================================================
 * Reductions and histograms
 * ====================================================================================== */

static void minmax_ref(const float *x, int64_t n, float *mn, float *mx)
{
    float lo = *mn, hi = *mx;
    for (int64_t e = 0; e < n; e++) {
        if (x[e] < lo) lo = x[e];       /* NaN compares false: skipped */
        if (x[e] > hi) hi = x[e];
    }
    *mn = lo; *mx = hi;
}
static void minmax_ref_top(const float *x, int64_t n, float *mn, float *mx)
{
    qk_drive_minmax(x, n, mn, mx, minmax_ref);
}

/* min / max of elements [e0, e1) into their parameter sets */
static void minmax_layout_chunk_ref(const float *x, const qs_layout *l, int64_t e0,
                                    int64_t e1, float *mn, float *mx)
{
    for (int64_t e = e0; e < e1;) {
        qk_seg s = qk_segment(l, e, e1);
        for (int64_t j = 0; j < s.n; j++) {
            int64_t p = s.p + j * s.stride;
            float v = x[e + j];
            if (v < mn[p]) mn[p] = v;
            if (v > mx[p]) mx[p] = v;
        }
        e += s.n;
    }
}
static void minmax_layout_ref(const float *x, const qs_layout *l, float *mn, float *mx)
{
    qk_drive_minmax_layout(x, l, mn, mx, minmax_layout_chunk_ref, minmax_ref);
}

static void hist_chunk_ref(const float *x, int64_t n, qs_hist *h)
{
    double sc = qk_hist_scale(h);
    for (int64_t e = 0; e < n; e++) qk_hist_add(h, x[e], sc);
}
static void hist_ref(const float *x, int64_t n, qs_hist *h)
{
    qk_drive_hist(x, n, h, hist_chunk_ref);
}

/* ======================================================================================
 * Quantize, dequantize, fused fake-quant
 * ====================================================================================== */

typedef struct q_ctx {
    const float *x; const qs_layout *l; const qs_qp *qp; uint8_t *codes;
    const uint8_t *cin; float *y;
} q_ctx;

static void quantize_chunk_ref(void *vc, int64_t e0, int64_t e1)
{
    const q_ctx *c = vc;
    const qs_qp *qp = c->qp;
    for (int64_t e = e0; e < e1;) {
        qk_seg s = qk_segment(c->l, e, e1);
        for (int64_t j = 0; j < s.n; j++) {
            int64_t p = s.p + j * s.stride;
            int clip;
            int32_t q = qk_quant1(c->x[e + j], qp->scale[p], qp->inv ? qp->inv[p] : 0.0f,
                                  qp->zp[p], qp, (uint64_t)(e + j), &clip);
            c->codes[e + j] = (uint8_t)q;   /* int8 codes: two's complement byte */
        }
        e += s.n;
    }
}
int32_t qs_k_quant1_ref(float x, float scale, float inv, int32_t zp, const qs_qp *qp,
                        uint64_t e, qs_k_quant1_parts *parts)
{
    qs_k_quant1_parts pt;
    int32_t q = qk_quant1_parts(x, scale, inv, zp, qp, e, &pt);
    if (parts) *parts = pt;
    return q;
}
static void quantize_ref(const float *x, const qs_layout *l, const qs_qp *qp, uint8_t *codes)
{
    q_ctx c = { x, l, qp, codes, NULL, NULL };
    qk_run_range(qs_layout_numel(l), quantize_chunk_ref, &c);
}

static void dequantize_chunk_ref(void *vc, int64_t e0, int64_t e1)
{
    const q_ctx *c = vc;
    int sgn = c->qp->qmin < 0;
    for (int64_t e = e0; e < e1;) {
        qk_seg s = qk_segment(c->l, e, e1);
        for (int64_t j = 0; j < s.n; j++) {
            int64_t p = s.p + j * s.stride;
            int32_t q = sgn ? (int32_t)(int8_t)c->cin[e + j] : (int32_t)c->cin[e + j];
            c->y[e + j] = (float)(q - c->qp->zp[p]) * c->qp->scale[p];
        }
        e += s.n;
    }
}
static void dequantize_ref(const uint8_t *codes, const qs_layout *l, const qs_qp *qp, float *y)
{
    q_ctx c = { NULL, l, qp, NULL, codes, y };
    qk_run_range(qs_layout_numel(l), dequantize_chunk_ref, &c);
}

static void fakequant_chunk_ref(const float *x, const qs_layout *l, const qs_qp *qp, float *y,
                                uint8_t *codes, int64_t e0, int64_t e1, qs_errstats *st,
                                qs_hist *eh)
{
    double sc = eh ? qk_hist_scale(eh) : 0.0;
    for (int64_t e = e0; e < e1;) {
        qk_seg s = qk_segment(l, e, e1);
        for (int64_t j = 0; j < s.n; j++) {
            int64_t p = s.p + j * s.stride;
            float xv = x[e + j];
            int clip;
            int32_t q = qk_quant1(xv, qp->scale[p], qp->inv ? qp->inv[p] : 0.0f, qp->zp[p],
                                  qp, (uint64_t)(e + j), &clip);
            float yv = (float)(q - qp->zp[p]) * qp->scale[p];
            if (codes) codes[e + j] = (uint8_t)q;
            if (y) y[e + j] = yv;
            if (isnan(xv)) { st->n_nan++; continue; }
            st->clipped += clip;
            qk_stats_add(st, xv, yv);
            if (eh) qk_hist_add(eh, (double)yv - (double)xv, sc);
        }
        e += s.n;
    }
}
static void fakequant_ref(const float *x, const qs_layout *l, const qs_qp *qp, float *y,
                          uint8_t *codes, qs_errstats *st, qs_hist *eh)
{
    qk_drive_fakequant(x, l, qp, y, codes, st, eh, fakequant_chunk_ref);
}

static void errstats_chunk_ref(const float *x, const float *y, int64_t e0, int64_t e1,
                               qs_errstats *st, qs_hist *eh)
{
    double sc = eh ? qk_hist_scale(eh) : 0.0;
    for (int64_t e = e0; e < e1; e++) {
        if (isnan(x[e])) { st->n_nan++; continue; }
        qk_stats_add(st, x[e], y[e]);
        if (eh) qk_hist_add(eh, (double)y[e] - (double)x[e], sc);
    }
}
static void errstats_ref(const float *x, const float *y, int64_t n, qs_errstats *st,
                         qs_hist *eh)
{
    qk_drive_errstats(x, y, n, st, eh, errstats_chunk_ref);
}

/* ======================================================================================
 * Float conversions
 * ====================================================================================== */

static uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/* IEEE binary16 from float32, round to nearest even (the F16C rule, NaN made quiet) */
static uint16_t f32_to_f16_1(float f)
{
    uint32_t u = f2u(f), sign = (u >> 16) & 0x8000u, a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
    if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);        /* rounds to inf */
    if (a >= 0x38800000u)                                            /* normal: >= 2^-14 */
        return (uint16_t)(sign | ((a - 0x38000000u + 0xfffu + ((a >> 13) & 1u)) >> 13));
    /* subnormal half: the value in units of 2^-24, rounded to even (exact scaling) */
    return (uint16_t)(sign | (uint32_t)nearbyintf(u2f(a) * 0x1p24f));
}
static float f16_to_f32_1(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, ex = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    if (ex == 0x1f) return u2f(sign | 0x7f800000u | (m ? 0x400000u | (m << 13) : 0));
    if (ex == 0) { float v = (float)m * 0x1p-24f; return sign ? -v : v; }
    return u2f(sign | ((ex + 112u) << 23) | (m << 13));
}
/* bfloat16: (u + 0x7fff + lsb) >> 16, NaN made quiet */
static uint16_t f32_to_bf16_1(float f)
{
    uint32_t u = f2u(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u | 0x00400000u) >> 16);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

typedef struct cv_ctx { const void *in; void *out; } cv_ctx;

static void f32_to_f16_chunk(void *vc, int64_t e0, int64_t e1)
{
    const cv_ctx *c = vc;
    const float *x = c->in; uint16_t *h = c->out;
    for (int64_t e = e0; e < e1; e++) h[e] = f32_to_f16_1(x[e]);
}
static void f16_to_f32_chunk(void *vc, int64_t e0, int64_t e1)
{
    const cv_ctx *c = vc;
    const uint16_t *h = c->in; float *x = c->out;
    for (int64_t e = e0; e < e1; e++) x[e] = f16_to_f32_1(h[e]);
}
static void f32_to_bf16_chunk(void *vc, int64_t e0, int64_t e1)
{
    const cv_ctx *c = vc;
    const float *x = c->in; uint16_t *b = c->out;
    for (int64_t e = e0; e < e1; e++) b[e] = f32_to_bf16_1(x[e]);
}
static void bf16_to_f32_chunk(void *vc, int64_t e0, int64_t e1)
{
    const cv_ctx *c = vc;
    const uint16_t *b = c->in; float *x = c->out;
    for (int64_t e = e0; e < e1; e++) x[e] = u2f((uint32_t)b[e] << 16);
}
static void f32_to_f16_ref(const float *x, int64_t n, uint16_t *h)
{ cv_ctx c = { x, h }; qk_run_range(n, f32_to_f16_chunk, &c); }
static void f16_to_f32_ref(const uint16_t *h, int64_t n, float *x)
{ cv_ctx c = { h, x }; qk_run_range(n, f16_to_f32_chunk, &c); }
static void f32_to_bf16_ref(const float *x, int64_t n, uint16_t *b)
{ cv_ctx c = { x, b }; qk_run_range(n, f32_to_bf16_chunk, &c); }
static void bf16_to_f32_ref(const uint16_t *b, int64_t n, float *x)
{ cv_ctx c = { b, x }; qk_run_range(n, bf16_to_f32_chunk, &c); }

/* ======================================================================================
 * 4-bit codebooks (NF4 / FP4, bitsandbytes blockwise)
 * ====================================================================================== */

/* Encode: per block, absmax = max |x| (NaN ignored); v = x * (1/absmax) (bitsandbytes
 * multiplies by the reciprocal; absmax 0 gives v = 0); code = number of midpoints
 * (t[k]+t[k+1])/2 that v is strictly greater than, so an exact midpoint takes the lower
 * code; NaN gives code 0. */
void qk_cb4_encode_ref(const float *x, int64_t n, int block, const float *table,
                       uint8_t *packed, float *absmax)
{
    float mid[15];
    int sym;
    qk_cb4_mids(table, mid, &sym);
    int64_t nb = (n + block - 1) / block;
    int par = n >= QK_PAR_MIN;
    #pragma omp parallel for schedule(static) num_threads(qs_k_threads()) if (par)
    for (int64_t b = 0; b < nb; b++) {
        int64_t e0 = b * block, e1 = e0 + block < n ? e0 + block : n;
        float am = 0.0f;
        for (int64_t e = e0; e < e1; e++) am = fmaxf(am, fabsf(x[e]));
        absmax[b] = am;
    }
    /* one byte per iteration: elements 2i (high nibble) and 2i+1 (low; zero pad past n) */
    #pragma omp parallel for schedule(static) num_threads(qs_k_threads()) if (par)
    for (int64_t i = 0; i < (n + 1) / 2; i++) {
        int code[2] = { 0, 0 };
        for (int h = 0; h < 2 && 2 * i + h < n; h++) {
            int64_t e = 2 * i + h;
            float am = absmax[e / block];
            float v = x[e] * (am > 0.0f ? 1.0f / am : 0.0f);
            code[h] = qk_cb4_code(v, mid, sym);
        }
        packed[i] = (uint8_t)(code[0] << 4 | code[1]);
    }
}
static void cb4_encode_ref(const float *x, int64_t n, int block, const float *table,
                           uint8_t *packed, float *absmax)
{
    qk_cb4_encode_ref(x, n, block, table, packed, absmax);
}

void qk_cb4_decode_ref(const uint8_t *packed, const float *absmax, int64_t n, int block,
                       const float *table, float *y)
{
    #pragma omp parallel for schedule(static) num_threads(qs_k_threads()) if (n >= QK_PAR_MIN)
    for (int64_t e = 0; e < n; e++) {
        int code = e % 2 == 0 ? packed[e / 2] >> 4 : packed[e / 2] & 0x0f;
        y[e] = table[code] * absmax[e / block];
    }
}
static void cb4_decode_ref(const uint8_t *packed, const float *absmax, int64_t n, int block,
                           const float *table, float *y)
{
    qk_cb4_decode_ref(packed, absmax, n, block, table, y);
}

/* ======================================================================================
 * GEMM
 * ====================================================================================== */

/* C[i,j] = Σ_k (A[i,k] - a_zp)(Bt[j,k] - b_zp), exact in int64, stored as int32 (the result
 * wraps modulo 2^32 only when it does not fit, K > 33025 with extreme values). */
static void gemm_u8s8_ref(int64_t M, int64_t N, int64_t K, const uint8_t *A, int64_t lda,
                          int32_t a_zp, const int8_t *Bt, int64_t ldb, int32_t b_zp, int32_t *C,
                          int64_t ldc)
{
    #pragma omp parallel for schedule(static) num_threads(qs_k_threads()) \
        if (M * N * K >= ((int64_t)1 << 20))
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            int64_t acc = 0;
            for (int64_t k = 0; k < K; k++)
                acc += (int64_t)((int32_t)A[i * lda + k] - a_zp)
                     * (int64_t)((int32_t)Bt[j * ldb + k] - b_zp);
            C[i * ldc + j] = (int32_t)(uint32_t)(uint64_t)acc;
        }
}

/* C = alpha·op(A)·op(B) + beta·C; each dot product summed in k order in float; beta == 0
 * does not read C (BLAS rule). */
static void sgemm_ref(int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha,
                      const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                      float *C, int64_t ldc)
{
    #pragma omp parallel for schedule(static) num_threads(qs_k_threads()) \
        if (M * N * K >= ((int64_t)1 << 20))
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            float acc = 0.0f;
            for (int64_t k = 0; k < K; k++) {
                float a = ta ? A[k * lda + i] : A[i * lda + k];
                float b = tb ? B[j * ldb + k] : B[k * ldb + j];
                acc += a * b;
            }
            float *c = &C[i * ldc + j];
            *c = beta == 0.0f ? alpha * acc : alpha * acc + beta * *c;
        }
}

/* ======================================================================================
 * Requantization (TFLite's fixed-point multiplier; one rounding of the product, see
 * kernels.h)
 * ====================================================================================== */

void qs_requant_multiplier_parts(double m, int32_t *m0, int *shift, qs_requant_parts *parts)
{
    qs_requant_parts pt = { 0.0, 0, 0, 0 };
    if (!(m > 0.0) || !isfinite(m)) {
        *m0 = 0; *shift = 0;
        if (parts) *parts = pt;
        return;
    }
    int ex;
    double q = frexp(m, &ex);               /* m = q · 2^ex, q in [0.5, 1) */
    int64_t qf = (int64_t)llround(q * 2147483648.0);
    pt.frac = q; pt.exp = ex; pt.rounded = qf;
    if (qf == ((int64_t)1 << 31)) { qf /= 2; ex++; pt.renorm = 1; }
    *m0 = (int32_t)qf;
    *shift = -ex;                           /* m = m0 · 2^-(31 + shift) */
    if (parts) *parts = pt;
}

void qs_requant_multiplier(double m, int32_t *m0, int *shift)
{
    qs_requant_multiplier_parts(m, m0, shift, NULL);
}

int32_t qs_requant(int32_t acc, int32_t m0, int shift, int32_t zp, int32_t qmin, int32_t qmax)
{
    int64_t p = (int64_t)acc * m0, r;
    int s = 31 + shift;
    if (s >= 63) r = 0;
    else if (s > 0) {
        int64_t half = (int64_t)1 << (s - 1);
        r = p >= 0 ? (p + half) >> s : -((-p + half) >> s);  /* half away from zero */
    } else {
        int ls = -s;                            /* multiplier >= 2^31: shift left, saturate */
        r = ls >= 32 || p > (INT64_MAX >> ls) || p < -(INT64_MAX >> ls)
            ? (p > 0 ? INT64_MAX / 2 : p < 0 ? -(INT64_MAX / 2) : 0) : p * ((int64_t)1 << ls);
    }
    if (r > INT32_MAX) r = INT32_MAX;
    if (r < INT32_MIN) r = INT32_MIN;
    r += zp;
    return (int32_t)(r < qmin ? qmin : r > qmax ? qmax : r);
}

void qs_requant_rows(const int32_t *C, int64_t M, int64_t N, int64_t ldc, const int32_t *bias,
                     const int32_t *m0, const int *shift, int32_t zp, int32_t qmin,
                     int32_t qmax, uint8_t *out)
{
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            int64_t a = (int64_t)C[i * ldc + j] + (bias ? bias[j] : 0);
            a = a > INT32_MAX ? INT32_MAX : a < INT32_MIN ? INT32_MIN : a;   /* saturate */
            out[i * N + j] = (uint8_t)qs_requant((int32_t)a, m0[j], shift[j], zp, qmin, qmax);
        }
}

/* ======================================================================================
 * The table
 * ====================================================================================== */

const qs_kernels qk_ref_table = {
    .name = "ref",
    .minmax = minmax_ref_top,
    .minmax_layout = minmax_layout_ref,
    .hist = hist_ref,
    .quantize = quantize_ref,
    .dequantize = dequantize_ref,
    .fakequant = fakequant_ref,
    .errstats = errstats_ref,
    .f32_to_f16 = f32_to_f16_ref,
    .f16_to_f32 = f16_to_f32_ref,
    .f32_to_bf16 = f32_to_bf16_ref,
    .bf16_to_f32 = bf16_to_f32_ref,
    .cb4_encode = cb4_encode_ref,
    .cb4_decode = cb4_decode_ref,
    .gemm_u8s8 = gemm_u8s8_ref,
    .sgemm = sgemm_ref,
};
