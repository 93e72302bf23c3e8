/* kint.h — internal to src/kernels: the chunking and threading drivers shared by the `_ref`
 * and AVX2 tables, the element walker over a qs_layout, the scalar one-element rules
 * (quantize, stochastic random number, histogram bin) that every variant must reproduce. */
#ifndef QSCOPE_KINT_H
#define QSCOPE_KINT_H

#include <math.h>
#include <stdint.h>

#include "qscope/kernels.h"

/* Fixed chunk of elements: the unit of threading and of the ordered reductions. Results do
 * not depend on the thread count because chunk boundaries never move. */
#define QK_CHUNK    ((int64_t)1 << 16)
/* Below this many elements a kernel runs on the calling thread. */
#define QK_PAR_MIN  ((int64_t)1 << 18)

/* ---- segments: runs of elements whose parameter index is constant or contiguous ---------- */

/* A run of n elements starting at element e: element e+j uses parameter set p + j*stride
 * (stride 0: one set for the run; stride 1: consecutive sets). */
typedef struct qk_seg {
    int64_t n;          /* elements in the run (>= 1) */
    int64_t p;          /* parameter index of the first element */
    int stride;         /* 0 or 1 */
} qk_seg;

/* The longest run starting at e and ending no later than end (e < end). */
static inline qk_seg qk_segment(const qs_layout *l, int64_t e, int64_t end)
{
    qk_seg s;
    int64_t left = end - e;
    if (l->gran == QS_G_TENSOR) {
        s.n = left; s.p = 0; s.stride = 0;
        return s;
    }
    int64_t inner = l->inner, len = l->len;
    int64_t o = e / (len * inner), a = (e / inner) % len, i = e % inner;
    if (l->gran == QS_G_CHANNEL) {
        if (inner == 1) { s.n = len - a; s.p = a; s.stride = 1; }
        else            { s.n = inner - i; s.p = a; s.stride = 0; }
    } else {
        int64_t ng = (len + l->group - 1) / l->group, g = a / l->group;
        if (inner == 1) {
            int64_t gend = (g + 1) * l->group < len ? (g + 1) * l->group : len;
            s.n = gend - a; s.p = o * ng + g; s.stride = 0;
        } else {
            s.n = inner - i; s.p = (o * ng + g) * inner + i; s.stride = 1;
        }
    }
    if (s.n > left) s.n = left;
    return s;
}

/* ---- one-element rules ------------------------------------------------------------------- */

/* Counter-based uniform number in [0,1) for stochastic rounding of element e: a 32-bit
 * mix (murmur3 finalizer) of the element index and the seed; 24 bits, so exact in float.
 * Built from 32-bit multiplies so the AVX2 path computes the same bits 8 lanes at a time. */
static inline uint32_t qk_seed_word(uint64_t seed, uint64_t e)
{
    uint32_t s = (uint32_t)seed ^ ((uint32_t)(seed >> 32) * 0x85EBCA77u)
               ^ ((uint32_t)(e >> 32) * 0xC2B2AE3Du);
    s ^= s >> 15; s *= 0x2C1B3C6Du; s ^= s >> 12;
    return s;
}
static inline uint32_t qk_mix(uint32_t k, uint32_t sw)
{
    uint32_t h = k * 0x9E3779B1u + sw;
    h ^= h >> 16; h *= 0x85EBCA6Bu; h ^= h >> 13; h *= 0xC2B2AE35u; h ^= h >> 16;
    return h;
}
static inline float qk_uniform(uint64_t seed, uint64_t e)
{
    return (float)(qk_mix((uint32_t)e, qk_seed_word(seed, e)) >> 8) * 0x1p-24f;
}

/* Rounds v to an integral float by mode (u: the stochastic number of this element). */
static inline float qk_round(float v, qs_round mode, float u)
{
    switch (mode) {
    case QS_R_HALF_AWAY: return roundf(v);
    case QS_R_HALF_UP:   return floorf(v + 0.5f);
    case QS_R_STOCHASTIC: return floorf(v + u);
    default:             return nearbyintf(v);
    }
}

/* The code of x under (scale, inv, zp): v = x/scale or x*inv, rounded, clamped in float
 * to [qmin-zp-1, qmax-zp+1] (so the int conversion cannot overflow and clipping stays
 * visible), + zp, clamped to [qmin, qmax]. *clip set to 1 when the unclamped code was out
 * of range. NaN gives zp (not clipped). qk_quant1_parts also keeps v, u and the rounded v
 * (qs_k_quant1_ref hands them to `derive`); qk_quant1 is the kernels' form. */
static inline int32_t qk_quant1_parts(float x, float scale, float inv, int32_t zp,
                                      const qs_qp *qp, uint64_t e, qs_k_quant1_parts *pt)
{
    float v = qp->divide ? x / scale : x * inv;
    float u = qp->round == QS_R_STOCHASTIC ? qk_uniform(qp->seed, e) : 0.0f;
    float r = qk_round(v, qp->round, u);
    pt->v = v; pt->u = u; pt->r = r;
    if (isnan(x)) { pt->clipped = 0; return pt->q = zp; }
    float lo = (float)(qp->qmin - zp - 1), hi = (float)(qp->qmax - zp + 1);
    r = r < lo ? lo : r;
    r = r > hi ? hi : r;
    int32_t q = (int32_t)r + zp;
    pt->clipped = q < qp->qmin || q > qp->qmax;
    return pt->q = q < qp->qmin ? qp->qmin : q > qp->qmax ? qp->qmax : q;
}
static inline int32_t qk_quant1(float x, float scale, float inv, int32_t zp, const qs_qp *qp,
                                uint64_t e, int *clip)
{
    qs_k_quant1_parts pt;
    int32_t q = qk_quant1_parts(x, scale, inv, zp, qp, e, &pt);
    *clip = pt.clipped;
    return q;
}

/* Edge i of a histogram of bins over [lo, hi] as np.linspace(lo, hi, bins + 1) computes it:
 * i·step + lo with step = (hi - lo)/bins, each operation rounded (no fma: -std=c11 does not
 * contract), and hi itself for the last. */
static inline double qk_edge(int64_t i, double lo, double hi, int bins)
{
    return i >= bins ? hi : (double)i * ((hi - lo) / (double)bins) + lo;
}
/* Histogram bin of v (double): -1 under, -2 over, -3 NaN, else 0..bins-1. sc = bins/(hi-lo).
 * numpy.histogram's rule: bin i holds edge_i <= v < edge_i+1 (the last one hi too). The
 * product (v - lo)·sc, numpy's first guess as well, can land on the wrong side of an edge v
 * sits on or within an ulp of (-29, 18, 29.75 in 30 bins put 18 below the edge 18), so it is
 * checked against the two edges, as numpy does. */
static inline int64_t qk_bin(double v, double lo, double hi, double sc, int bins)
{
    if (v != v) return -3;
    if (v < lo) return -1;
    if (v > hi) return -2;
    int64_t b = (int64_t)((v - lo) * sc);
    if (b >= bins) b = bins - 1;
    if (sc > 0.0) {
        if (b > 0 && v < qk_edge(b, lo, hi, bins)) b--;
        else if (b < bins - 1 && v >= qk_edge(b + 1, lo, hi, bins)) b++;
    }
    return b;
}
static inline double qk_hist_scale(const qs_hist *h)
{
    return h->hi > h->lo ? (double)h->bins / (h->hi - h->lo) : 0.0;
}
static inline void qk_hist_add(qs_hist *h, double v, double sc)
{
    int64_t b = qk_bin(v, h->lo, h->hi, sc, h->bins);
    if (b >= 0) h->counts[b]++;
    else if (b == -1) h->under++;
    else if (b == -2) h->over++;
    else h->nan++;
}

/* 4-bit codebooks (sorted tables of 16 values, mid[k] = (table[k] + table[k+1]) / 2). A table
 * symmetric about 0 (table[15 - k] = -table[k]: bitsandbytes' FP4, -0 before +0) encodes as
 * bitsandbytes' dQuantizeFP4 does: the sign from x < 0, |x| against the positive midpoints
 * with >, so a tie goes to the smaller magnitude and 0 (or NaN) to +0. Other tables (NF4,
 * whose dQuantizeNF4 compares x itself) count the midpoints x exceeds. */
static inline int qk_cb4_symmetric(const float *table)
{
    for (int k = 0; k < 8; k++)
        if (table[15 - k] != -table[k]) return 0;
    return 1;
}
/* mid[] of a table, and whether it is symmetric. bitsandbytes' FP4 table gets the pivots its
 * dQuantizeFP4 writes as decimal literals, which are 1 to 14 ulps from the exact midpoints
 * (0.00260417f is 14 ulps above 1/384): values between them get bitsandbytes' codes. */
static inline void qk_cb4_mids(const float *table, float mid[15], int *sym)
{
    static const float fp4[8] = { 0.0f, 0.0625f / 12, 2.0f / 12, 3.0f / 12, 4.0f / 12,
                                  6.0f / 12, 8.0f / 12, 12.0f / 12 };
    static const float piv[7] = { 0.00260417f, 0.0859375f, 0.20833333f, 0.29166667f,
                                  0.4166667f, 0.583333f, 0.8333333f };
    for (int k = 0; k < 15; k++) mid[k] = (table[k] + table[k + 1]) * 0.5f;
    *sym = qk_cb4_symmetric(table);
    int bnb = *sym;
    for (int k = 0; k < 8 && bnb; k++) bnb = table[8 + k] == fp4[k];
    for (int k = 0; k < 7 && bnb; k++) {
        mid[8 + k] = piv[k];
        mid[6 - k] = -piv[k];
    }
}
static inline int qk_cb4_code(float v, const float *mid, int sym)
{
    int c = 0;
    if (sym) {
        float a = fabsf(v);
        for (int k = 8; k < 15; k++) c += a > mid[k];
        return v < 0.0f ? 7 - c : 8 + c;
    }
    for (int k = 0; k < 15; k++) c += v > mid[k];
    return c;
}

/* errstats of one element pair (x not NaN) */
static inline void qk_stats_add(qs_errstats *st, float x, float y)
{
    double dx = x, dy = y, e = dy - dx;
    st->n++;
    st->sum_x2 += dx * dx;
    st->sum_y2 += dy * dy;
    st->sum_xy += dx * dy;
    st->sum_e += e;
    st->sum_e2 += e * e;
    if (fabs(e) > st->max_abs_e) st->max_abs_e = fabs(e);
}
void qk_stats_merge(qs_errstats *into, const qs_errstats *from);

/* ---- drivers: split into fixed chunks, run on all threads, combine in chunk order --------
 * Each takes the per-chunk worker of one table (ref or avx2). */

/* elementwise over [0, n): fn(ctx, e0, e1) */
typedef void (*qk_range_fn)(void *ctx, int64_t e0, int64_t e1);
void qk_run_range(int64_t n, qk_range_fn fn, void *ctx);

/* minmax over chunks */
typedef void (*qk_minmax_fn)(const float *x, int64_t n, float *mn, float *mx);
void qk_drive_minmax(const float *x, int64_t n, float *mn, float *mx, qk_minmax_fn fn);

/* minmax_layout: fn(x, l, e0, e1, mn, mx) updates mn/mx (nparams each) */
typedef void (*qk_minmax_layout_fn)(const float *x, const qs_layout *l, int64_t e0,
                                    int64_t e1, float *mn, float *mx);
void qk_drive_minmax_layout(const float *x, const qs_layout *l, float *mn, float *mx,
                            qk_minmax_layout_fn fn, qk_minmax_fn tensor_fn);

/* histogram: fn adds x[0..n) into h (h->counts private to the caller's thread) */
typedef void (*qk_hist_fn)(const float *x, int64_t n, qs_hist *h);
void qk_drive_hist(const float *x, int64_t n, qs_hist *h, qk_hist_fn fn);

/* fakequant / errstats: fn processes [e0, e1) into st (cleared) and eh (private) */
typedef void (*qk_fq_fn)(const float *x, const qs_layout *l, const qs_qp *qp, float *y,
                         uint8_t *codes, int64_t e0, int64_t e1, qs_errstats *st,
                         qs_hist *eh);
void qk_drive_fakequant(const float *x, const qs_layout *l, const qs_qp *qp, float *y,
                        uint8_t *codes, qs_errstats *st, qs_hist *eh, qk_fq_fn fn);
typedef void (*qk_es_fn)(const float *x, const float *y, int64_t e0, int64_t e1,
                         qs_errstats *st, qs_hist *eh);
void qk_drive_errstats(const float *x, const float *y, int64_t n, qs_errstats *st,
                       qs_hist *eh, qk_es_fn fn);

/* The tables. */
extern const qs_kernels qk_ref_table;
#if defined(__x86_64__) || defined(__i386__)
extern const qs_kernels qk_avx2_table;
extern const qs_kernels qk_avx512_table;      /* quant_avx512.c: the AVX-512 entries */
extern const qs_kernels qk_vnni_table;        /* avx512 + 512-bit vpdpbusd int8 GEMM */
extern const qs_kernels qk_vnni256_table;     /* avx2 + 256-bit AVX-VNNI int8 GEMM */
extern const qs_kernels qk_amx_table;         /* vnni + AMX tile int8 GEMM (gemm_amx.c) */
extern const qs_kernels qk_emu_tables[3];     /* test-only: see qs_k_emulated */
extern const qs_kernels qk_zemu_tables[3];    /* test-only: quant_zemu_avx2.c */

/* the wide GEMMs (vgemm.h instantiated by gemm_avx512.c, gemm_vnni.c, gemm_avxvnni.c and,
 * emulated with AVX2, gemm_vemu_avx2.c) and the AVX-512 conversions */
typedef void (*qk_sgemm_fn)(int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha,
                            const float *A, int64_t lda, const float *B, int64_t ldb,
                            float beta, float *C, int64_t ldc);
typedef void (*qk_i8gemm_fn)(int64_t M, int64_t N, int64_t K, const uint8_t *A, int64_t lda,
                             int32_t a_zp, const int8_t *Bt, int64_t ldb, int32_t b_zp,
                             int32_t *C, int64_t ldc);
void qk_sgemm_avx512(int, int, int64_t, int64_t, int64_t, float, const float *, int64_t,
                     const float *, int64_t, float, float *, int64_t);
void qk_sgemm_emu512(int, int, int64_t, int64_t, int64_t, float, const float *, int64_t,
                     const float *, int64_t, float, float *, int64_t);
void qk_gemm_u8s8_vnni(int64_t, int64_t, int64_t, const uint8_t *, int64_t, int32_t,
                       const int8_t *, int64_t, int32_t, int32_t *, int64_t);
void qk_gemm_u8s8_amx(int64_t, int64_t, int64_t, const uint8_t *, int64_t, int32_t,
                      const int8_t *, int64_t, int32_t, int32_t *, int64_t);
void qk_gemm_u8s8_avxvnni(int64_t, int64_t, int64_t, const uint8_t *, int64_t, int32_t,
                          const int8_t *, int64_t, int32_t, int32_t *, int64_t);
void qk_gemm_u8s8_emuvnni(int64_t, int64_t, int64_t, const uint8_t *, int64_t, int32_t,
                          const int8_t *, int64_t, int32_t, int32_t *, int64_t);
void qk_gemm_u8s8_emuavxvnni(int64_t, int64_t, int64_t, const uint8_t *, int64_t, int32_t,
                             const int8_t *, int64_t, int32_t, int32_t *, int64_t);
void qk_f32_to_f16_avx512(const float *x, int64_t n, uint16_t *h);
void qk_f16_to_f32_avx512(const uint16_t *h, int64_t n, float *x);
void qk_bf16_to_f32_avx512(const uint16_t *b, int64_t n, float *x);
void qk_f32_to_bf16_avx512(const float *x, int64_t n, uint16_t *b);
/* test-only: the same sources over zemu.h (*_zemu_avx2.c) */
void qk_sgemm_zemu(int, int, int64_t, int64_t, int64_t, float, const float *, int64_t,
                   const float *, int64_t, float, float *, int64_t);
void qk_gemm_u8s8_amx_zemu(int64_t, int64_t, int64_t, const uint8_t *, int64_t, int32_t,
                           const int8_t *, int64_t, int32_t, int32_t *, int64_t);
void qk_gemm_u8s8_vnni_zemu(int64_t, int64_t, int64_t, const uint8_t *, int64_t, int32_t,
                            const int8_t *, int64_t, int32_t, int32_t *, int64_t);
void qk_f32_to_f16_zemu(const float *x, int64_t n, uint16_t *h);
void qk_f16_to_f32_zemu(const uint16_t *h, int64_t n, float *x);
void qk_bf16_to_f32_zemu(const uint16_t *b, int64_t n, float *x);
void qk_f32_to_bf16_zemu(const float *x, int64_t n, uint16_t *b);
#endif

/* reference pieces reused as scalar fallbacks by the optimized table */
void qk_cb4_encode_ref(const float *x, int64_t n, int block, const float *table,
                       uint8_t *packed, float *absmax);
void qk_cb4_decode_ref(const uint8_t *packed, const float *absmax, int64_t n, int block,
                       const float *table, float *y);

#endif
