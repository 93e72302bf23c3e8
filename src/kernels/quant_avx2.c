/* quant_avx2.c — AVX2/FMA/F16C versions of the elementwise and reduction kernels (minmax,
 * histogram, quantize, dequantize, fused fake-quant + statistics + error histogram,
 * errstats, fp16/bf16 conversions, 4-bit codebooks) and the optimized dispatch table.
 * Every vector step uses the same float operations in the same order as kint.h's scalar
 * rules, so codes are bit-identical with `_ref`; tails run the scalar rules themselves.
 * Built with -mavx2 -mfma -mf16c (Makefile: *_avx2.c); only called after CPUID said yes. */
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kint.h"

/* software prefetch distance of quantize and histogram, in floats (4 KB): one core's hardware
 * prefetcher alone leaves quantize about a fifth slower on tensors that live in DRAM (minmax
 * and the compute-bound fused pass gain nothing from it) */
#define QK_PF 1024

/* GEMMs live in gemm_avx2.c */
void qk_gemm_u8s8_avx2(int64_t M, int64_t N, int64_t K, const uint8_t *A, int64_t lda,
                       int32_t a_zp, const int8_t *Bt, int64_t ldb, int32_t b_zp, int32_t *C,
                       int64_t ldc);
void qk_sgemm_avx2(int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha,
                   const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                   float *C, int64_t ldc);

/* ======================================================================================
 * minmax
 * ====================================================================================== */

static inline float hmin8(__m256 v)
{
    __m128 m = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_min_ps(m, _mm_movehl_ps(m, m));
    m = _mm_min_ss(m, _mm_shuffle_ps(m, m, 1));
    return _mm_cvtss_f32(m);
}
static inline float hmax8(__m256 v)
{
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
    return _mm_cvtss_f32(m);
}

/* min/max of x[0..n) folded into *mn and *mx; NaN skipped (x is the first operand of
 * vminps/vmaxps, which return the second operand when either is NaN) */
static void minmax_avx2(const float *x, int64_t n, float *mn, float *mx)
{
    __m256 lo0 = _mm256_set1_ps(INFINITY), lo1 = lo0, lo2 = lo0, lo3 = lo0;
    __m256 hi0 = _mm256_set1_ps(-INFINITY), hi1 = hi0, hi2 = hi0, hi3 = hi0;
    int64_t e = 0;
    for (; e + 32 <= n; e += 32) {
        __m256 a = _mm256_loadu_ps(x + e), b = _mm256_loadu_ps(x + e + 8);
        __m256 c = _mm256_loadu_ps(x + e + 16), d = _mm256_loadu_ps(x + e + 24);
        lo0 = _mm256_min_ps(a, lo0); hi0 = _mm256_max_ps(a, hi0);
        lo1 = _mm256_min_ps(b, lo1); hi1 = _mm256_max_ps(b, hi1);
        lo2 = _mm256_min_ps(c, lo2); hi2 = _mm256_max_ps(c, hi2);
        lo3 = _mm256_min_ps(d, lo3); hi3 = _mm256_max_ps(d, hi3);
    }
    for (; e + 8 <= n; e += 8) {
        __m256 a = _mm256_loadu_ps(x + e);
        lo0 = _mm256_min_ps(a, lo0); hi0 = _mm256_max_ps(a, hi0);
    }
    float l = hmin8(_mm256_min_ps(_mm256_min_ps(lo0, lo1), _mm256_min_ps(lo2, lo3)));
    float h = hmax8(_mm256_max_ps(_mm256_max_ps(hi0, hi1), _mm256_max_ps(hi2, hi3)));
    for (; e < n; e++) {
        if (x[e] < l) l = x[e];
        if (x[e] > h) h = x[e];
    }
    if (l < *mn) *mn = l;
    if (h > *mx) *mx = h;
}
static void minmax_avx2_top(const float *x, int64_t n, float *mn, float *mx)
{
    qk_drive_minmax(x, n, mn, mx, minmax_avx2);
}

static void minmax_layout_chunk_avx2(const float *x, const qs_layout *l, int64_t e0,
                                     int64_t e1, float *mn, float *mx)
{
    for (int64_t e = e0; e < e1;) {
        qk_seg s = qk_segment(l, e, e1);
        const float *xs = x + e;
        if (s.stride == 0) {
            minmax_avx2(xs, s.n, &mn[s.p], &mx[s.p]);
        } else {
            float *pmn = mn + s.p, *pmx = mx + s.p;
            int64_t j = 0;
            for (; j + 8 <= s.n; j += 8) {
                __m256 v = _mm256_loadu_ps(xs + j);
                _mm256_storeu_ps(pmn + j, _mm256_min_ps(v, _mm256_loadu_ps(pmn + j)));
                _mm256_storeu_ps(pmx + j, _mm256_max_ps(v, _mm256_loadu_ps(pmx + j)));
            }
            for (; j < s.n; j++) {
                if (xs[j] < pmn[j]) pmn[j] = xs[j];
                if (xs[j] > pmx[j]) pmx[j] = xs[j];
            }
        }
        e += s.n;
    }
}
static void minmax_layout_avx2(const float *x, const qs_layout *l, float *mn, float *mx)
{
    qk_drive_minmax_layout(x, l, mn, mx, minmax_layout_chunk_avx2, minmax_avx2);
}

/* ======================================================================================
 * Histograms: bin indices computed 4 doubles at a time with kint.h's qk_bin arithmetic,
 * counted in HB_W interleaved private uint32 tables (lane j of every 8 values counts in
 * table j: independent increment chains, no store-forwarding stall when neighbours share a
 * bin) with extra slots for under / over / NaN, then added into the caller's histogram.
 * ====================================================================================== */

#define AI static inline __attribute__((always_inline))
#define HB_MAX 16384             /* larger histograms count straight into h (scalar) */
#define HB_W 8                   /* interleaved tables */
#define HB_BLOCK ((int64_t)1 << 30)   /* values per flush (uint32 counters) */

typedef struct hbin {
    __m256d lo, hi, sc;          /* range and bins/(hi-lo) */
    __m256d lastd, m1, d_over, d_nan;   /* bins-1, -1 (under), bins (over), bins+1 (NaN) */
    __m256i one, slotmax, lanes; /* 1, bins+2 (the NaN slot), table numbers 0..7 */
    int fast;                    /* sc >= 1, range finite: the cheaper classification */
    int bins;                    /* bins of the histogram */
    uint32_t *t;                 /* HB_W tables of (bins + 3) slots: slot s of table j at
                                    t[s * HB_W + j]; slot 0 under, 1..bins the bins,
                                    bins+1 over, bins+2 NaN */
    int64_t zfix;                /* values counted as 0.0 that are not data (skipped NaN x
                                    lanes), removed at flush */
    __m256 fsc, fc;              /* float bin rule (fok): t = fma(e, fsc, fc) ≈
                                    (e - lo)·sc - 0.5 */
    __m256 ftlo, fthi;           /* t clamped to [-1, bins] */
    __m256 fthr;                 /* 0.5 - δ: t + 0.5 is at least δ from an integer when
                                    |t - round(t)| < fthr (else the double rule) */
    __m256 flanes;               /* 8 + table numbers: counter index = 8·round(t) + flanes */
    int fok;                     /* the float rule applies to this range (fbin_ok) */
    __m256 eps;                  /* |t - round(t)| <= eps (t in float): v may sit on an edge,
                                    where the product can err by an ulp (hbin_idx8 asks
                                    qk_bin) */
    double lo_s, hi_s, sc_s;     /* lo, hi, sc for qk_bin */
    uint32_t zslot;              /* qk_bin's slot of 0.0 */
    __m256i zslotv;              /* zslot in every lane */
} hbin;

/* Float bins of the fused pass (fq_stats_f): t = fma(e_f, (float)sc, (float)(-lo·sc - 0.5))
 * with e_f = fl32(y - x) differs from the reference's (e - lo)·sc - 0.5 by at most
 * 4u·(bins + 2 + m) + 2^-31 while t stays in [-1, bins] (u = 2^-24, m = max(|lo|, |hi|)·sc:
 * e_f, the two constants and the fma each round once relative to quantities bounded by
 * these), and a t clamped to -1 or bins is on the right side of lo / hi while 3u·m < 0.5.
 * So with δ twice that bound, round(t) (nearest) is qk_bin's bin (-1 under, bins over)
 * whenever |t - round(t)| < 0.5 - δ; the few values nearer an edge (about 2δ of them: 4e-4
 * for 256 bins over ±max|e|) and NaN are binned again with the double rule. */
static int fbin_ok(hbin *b, const qs_hist *h, double sc)
{
    double m = fmax(fabs(h->lo), fabs(h->hi)) * sc;
    if (!(isfinite(h->lo) && isfinite(h->hi) && sc > 0x1p-100 && sc < 0x1p100 &&
          m <= 0x1p20))
        return 0;
    double delta = 8.0 * 0x1p-24 * ((double)h->bins + 2.0 + m) + 0x1p-30;
    b->fsc = _mm256_set1_ps((float)sc);
    b->fc = _mm256_set1_ps((float)(-h->lo * sc - 0.5));
    b->ftlo = _mm256_set1_ps(-1.0f);
    b->fthi = _mm256_set1_ps((float)h->bins);
    b->fthr = _mm256_set1_ps((float)(0.5 - delta));
    b->flanes = _mm256_setr_ps(8, 9, 10, 11, 12, 13, 14, 15);
    return 1;
}

/* slot of v by qk_bin: 0 under, 1..bins the bins, bins+1 over, bins+2 NaN */
static uint32_t hbin_slot(const hbin *b, double v)
{
    int64_t r = qk_bin(v, b->lo_s, b->hi_s, b->sc_s, b->bins);
    return r >= 0 ? (uint32_t)r + 1 : r == -1 ? 0 : r == -2 ? (uint32_t)b->bins + 1
                                                              : (uint32_t)b->bins + 2;
}

static int hbin_init(hbin *b, const qs_hist *h)
{
    b->t = NULL;
    if (h->bins > HB_MAX || h->bins < 1) return 0;
    double sc = qk_hist_scale(h);
    b->lo = _mm256_set1_pd(h->lo); b->hi = _mm256_set1_pd(h->hi); b->sc = _mm256_set1_pd(sc);
    b->bins = h->bins;
    b->lastd = _mm256_set1_pd(h->bins - 1);
    b->m1 = _mm256_set1_pd(-1.0);
    b->d_over = _mm256_set1_pd(h->bins);
    b->d_nan = _mm256_set1_pd(h->bins + 1);
    b->one = _mm256_set1_epi32(1);
    b->slotmax = _mm256_set1_epi32(h->bins + 2);
    b->lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    b->fast = sc >= 1.0 && isfinite(sc) && isfinite(h->lo) && isfinite(h->hi);
    b->zfix = 0;
    b->fok = fbin_ok(b, h, sc);
    /* t = (v - lo)·sc and numpy's edges i·step + lo are each within 3 ulps of exact, in units
     * of a bin at most 2^-53·(3|t| + 2·bins + m + 1) from each other (m = max|lo|, |hi| in
     * bins); eight times that, plus t's rounding to float (|t| <= bins + 1 in range), is eps.
     * A range where that is not small: every value to qk_bin */
    double m = fmax(fabs(h->lo), fabs(h->hi)) * sc;
    double eps = 8.0 * 0x1p-53 * (5.0 * (double)h->bins + m + 4.0) +
                 0x1p-23 * ((double)h->bins + 2.0);
    b->eps = _mm256_set1_ps(isfinite(eps) && eps < 0.125 ? (float)eps : INFINITY);
    b->lo_s = h->lo; b->hi_s = h->hi; b->sc_s = sc;
    b->zslot = hbin_slot(b, 0.0);
    b->zslotv = _mm256_set1_epi32((int32_t)b->zslot);
    b->t = calloc((size_t)HB_W * (size_t)(h->bins + 3), sizeof *b->t);
    return b->t != NULL;
}

/* bin numbers of 4 values, -1 under, bins over; NaN: INT32_MIN (fast) or bins+1. Both
 * reproduce qk_bin exactly:
 * - general: t = min((v-lo)·sc, bins-1), then the under / over / NaN lanes are replaced;
 * - fast (sc >= 1): v < lo exactly when t = (v-lo)·sc < 0 (v - lo is exact-signed and
 *   nonzero for v != lo, and |t| >= |v - lo| cannot underflow to -0), so
 *   floor(max(-1, min(bins-1, t))) gives under and the bins; vminpd / vmaxpd return their
 *   second operand when it is NaN, so NaN stays NaN and converts to INT32_MIN. */
AI __m128i hbin_bin4(const hbin *b, __m256d v, __m128 *tf)
{
    __m256d t = _mm256_mul_pd(_mm256_sub_pd(v, b->lo), b->sc);
    *tf = _mm256_cvtpd_ps(t);
    if (b->fast) {
        t = _mm256_max_pd(b->m1, _mm256_min_pd(b->lastd, t));
        t = _mm256_round_pd(t, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
        t = _mm256_blendv_pd(t, b->d_over, _mm256_cmp_pd(v, b->hi, _CMP_GT_OQ));
    } else {
        t = _mm256_min_pd(t, b->lastd);     /* precedence as in qk_bin: NaN, under, over */
        t = _mm256_blendv_pd(t, b->d_over, _mm256_cmp_pd(v, b->hi, _CMP_GT_OQ));
        t = _mm256_blendv_pd(t, b->m1, _mm256_cmp_pd(v, b->lo, _CMP_LT_OQ));
        t = _mm256_blendv_pd(t, b->d_nan, _mm256_cmp_pd(v, v, _CMP_UNORD_Q));
    }
    return _mm256_cvttpd_epi32(t);
}
/* the lanes of 8 values near an edge: slots (not yet counter indices) by qk_bin */
static __attribute__((noinline)) __m256i hbin_fix8(const hbin *b, __m256i i, __m256d v0,
                                                 __m256d v1, int mask)
{
    _Alignas(32) double v[8];
    _Alignas(32) uint32_t s[8];
    _mm256_store_pd(v, v0);
    _mm256_store_pd(v + 4, v1);
    _mm256_store_si256((__m256i *)s, i);
    for (int k = 0; k < 8; k++)
        if (mask >> k & 1) s[k] = v[k] == 0.0 ? b->zslot : hbin_slot(b, v[k]);
    return _mm256_load_si256((const __m256i *)s);
}
/* counter indices (slot * HB_W + lane) of 8 values (v0: lanes 0-3, v1: lanes 4-7); the
 * unsigned min sends INT32_MIN + 1 to the NaN slot */
AI __m256i hbin_idx8(const hbin *b, __m256d v0, __m256d v1)
{
    __m128 t0, t1;
    __m256i i = _mm256_set_m128i(hbin_bin4(b, v1, &t1), hbin_bin4(b, v0, &t0));
    i = _mm256_min_epu32(_mm256_add_epi32(i, b->one), b->slotmax);
    /* near an edge: t within eps of a nonzero integer (t = 0 is v = lo: bin 0); NaN t (NaN
     * v) and infinite t (far outside) compare false */
    __m256 t = _mm256_set_m128(t1, t0);
    __m256 d = _mm256_sub_ps(t, _mm256_round_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    __m256 nm = _mm256_and_ps(_mm256_cmp_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), d), b->eps,
                                            _CMP_LE_OQ),
                              _mm256_cmp_ps(t, _mm256_setzero_ps(), _CMP_NEQ_UQ));
    int near = _mm256_movemask_ps(nm);
    if (__builtin_expect(near != 0, 0)) {
        /* zeros (sparse tensors, exact errors) on an edge: their slot, known, in vector */
        const __m256d zero = _mm256_setzero_pd();
        __m256d z0 = _mm256_cmp_pd(v0, zero, _CMP_EQ_OQ), z1 = _mm256_cmp_pd(v1, zero, _CMP_EQ_OQ);
        int zm = _mm256_movemask_pd(z0) | _mm256_movemask_pd(z1) << 4;
        if (zm) {
            /* all-ones lanes are NaN with the sign bit set, which the conversion keeps */
            __m256 zf = _mm256_set_m128(_mm256_cvtpd_ps(z1), _mm256_cvtpd_ps(z0));
            i = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(i),
                                                     _mm256_castsi256_ps(b->zslotv), zf));
            near &= ~zm;
        }
        if (near) i = hbin_fix8(b, i, v0, v1, near);
    }
    return _mm256_add_epi32(_mm256_slli_epi32(i, 3), b->lanes);
}
/* counts 8 values (v0: lanes 0-3, v1: lanes 4-7) */
AI void hbin_count8(hbin *b, __m256d v0, __m256d v1)
{
    uint32_t idx[8];
    _mm256_storeu_si256((__m256i *)idx, hbin_idx8(b, v0, v1));
    uint32_t *t = b->t;
    t[idx[0]]++; t[idx[1]]++; t[idx[2]]++; t[idx[3]]++;
    t[idx[4]]++; t[idx[5]]++; t[idx[6]]++; t[idx[7]]++;
}
static void hbin_flush(hbin *b, qs_hist *h)
{
    const uint32_t *t = b->t;
    int zs = b->zfix ? (int)b->zslot : -1;     /* slot of 0.0 */
    for (int s = 0; s < b->bins + 3; s++) {
        uint64_t c = 0;
        for (int j = 0; j < HB_W; j++) c += t[(size_t)s * HB_W + (size_t)j];
        if (s == zs) c -= (uint64_t)b->zfix;
        if (s == 0) h->under += c;
        else if (s <= b->bins) h->counts[s - 1] += c;
        else if (s == b->bins + 1) h->over += c;
        else h->nan += c;
    }
    free(b->t);
    b->t = NULL;
}

/* Blocks of QB values are binned in two steps: counter indices of the whole block into a
 * buffer (vector), then the increments (scalar, indices read two at a time), which keeps the
 * vector and the load/store work in separate loops. */
#define QB 512
AI void hbin_inc8(uint32_t *t, const uint32_t *ib)
{
    uint64_t i01, i23, i45, i67;
    memcpy(&i01, ib, 8); memcpy(&i23, ib + 2, 8);
    memcpy(&i45, ib + 4, 8); memcpy(&i67, ib + 6, 8);
    t[(uint32_t)i01]++; t[i01 >> 32]++; t[(uint32_t)i23]++; t[i23 >> 32]++;
    t[(uint32_t)i45]++; t[i45 >> 32]++; t[(uint32_t)i67]++; t[i67 >> 32]++;
}
AI void hbin_add_idx(hbin *b, const uint32_t *ib)
{
    for (int i = 0; i < QB; i += 8) hbin_inc8(b->t, ib + i);
}

static void hist_chunk_avx2(const float *x, int64_t n, qs_hist *h)
{
    hbin b;
    _Alignas(32) uint32_t ib[QB];
    int64_t e = 0;
    while (n - e >= 8 && hbin_init(&b, h)) {
        int64_t end = n - e < HB_BLOCK ? n : e + HB_BLOCK;
        for (; e + QB <= end; e += QB) {
            for (int i = 0; i < QB; i += 8) {
                if (i % 16 == 0) _mm_prefetch((const char *)(x + e + i + QK_PF), _MM_HINT_T0);
                __m256 v = _mm256_loadu_ps(x + e + i);
                _mm256_store_si256((__m256i *)(ib + i),
                                   hbin_idx8(&b, _mm256_cvtps_pd(_mm256_castps256_ps128(v)),
                                             _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1))));
            }
            hbin_add_idx(&b, ib);
        }
        for (; e + 8 <= end; e += 8) {
            __m256 v = _mm256_loadu_ps(x + e);
            hbin_count8(&b, _mm256_cvtps_pd(_mm256_castps256_ps128(v)),
                        _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
        }
        hbin_flush(&b, h);
    }
    double sc = qk_hist_scale(h);
    for (; e < n; e++) qk_hist_add(h, x[e], sc);
}
static void hist_avx2(const float *x, int64_t n, qs_hist *h)
{
    qk_drive_hist(x, n, h, hist_chunk_avx2);
}

/* ======================================================================================
 * Quantization core: 8 elements → 8 int32 codes, the clip mask and the NaN mask. The
 * rounding mode (rv: 0 half-even, 1 half-away, 2 half-up, 3 stochastic) and divide (dv)
 * are compile-time constants in every loop: each kernel is instantiated 8 times (QK_VARIANT).
 * ====================================================================================== */

/* Large per-tensor outputs are written with non-temporal stores (as glibc's memcpy does
 * beyond its threshold): they would not stay in cache anyway, and skipping the read for
 * ownership saves a fifth of the traffic of quantize. */
#define QK_NT_MIN ((int64_t)1 << 22)

/* parameters of one run, as vectors */
typedef struct qv {
    __m256 sm;          /* scale (divide) or inv (multiply) */
    __m256 scale;       /* step, for dequantization */
    __m256i zp;         /* zero points */
    __m256 lo, hi;      /* float clamp range [qmin-zp-1, qmax-zp+1] */
    __m256 cl, ch;      /* qmin-zp, qmax-zp: the code range around zp (quant8_fc) */
} qv;

/* rounding variant of qp (kint.h qk_round: unknown modes round half to even) */
static int round_variant(const qs_qp *qp)
{
    switch (qp->round) {
    case QS_R_HALF_AWAY: return 1;
    case QS_R_HALF_UP: return 2;
    case QS_R_STOCHASTIC: return 3;
    default: return 0;
    }
}
/* calls FN(args..., rv, dv) with constant rv and dv for qp (quant_zemu_avx2.c defines its
 * own, with rv and dv at run time: one instance instead of eight) */
#ifndef QK_VARIANT
#define QK_VARIANT(qp, FN, ...) do {                                                      \
    switch (round_variant(qp) * 2 + ((qp)->divide ? 1 : 0)) {                              \
    case 0: FN(__VA_ARGS__, 0, 0); break;                                                 \
    case 1: FN(__VA_ARGS__, 0, 1); break;                                                 \
    case 2: FN(__VA_ARGS__, 1, 0); break;                                                 \
    case 3: FN(__VA_ARGS__, 1, 1); break;                                                 \
    case 4: FN(__VA_ARGS__, 2, 0); break;                                                 \
    case 5: FN(__VA_ARGS__, 2, 1); break;                                                 \
    case 6: FN(__VA_ARGS__, 3, 0); break;                                                 \
    default: FN(__VA_ARGS__, 3, 1); break;                                                \
    } } while (0)
#endif

/* stochastic numbers of elements e..e+7 (kint.h qk_uniform, 8 lanes) */
AI __m256 uniform8(uint64_t seed, uint64_t e)
{
    if ((e >> 32) != ((e + 7) >> 32)) {          /* crosses a 2^32 boundary: scalar */
        float u[8];
        for (int j = 0; j < 8; j++) u[j] = qk_uniform(seed, e + (uint64_t)j);
        return _mm256_loadu_ps(u);
    }
    __m256i k = _mm256_add_epi32(_mm256_set1_epi32((int32_t)(uint32_t)e),
                                 _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    __m256i h = _mm256_add_epi32(_mm256_mullo_epi32(k, _mm256_set1_epi32((int32_t)0x9E3779B1u)),
                                 _mm256_set1_epi32((int32_t)qk_seed_word(seed, e)));
    h = _mm256_xor_si256(h, _mm256_srli_epi32(h, 16));
    h = _mm256_mullo_epi32(h, _mm256_set1_epi32((int32_t)0x85EBCA6Bu));
    h = _mm256_xor_si256(h, _mm256_srli_epi32(h, 13));
    h = _mm256_mullo_epi32(h, _mm256_set1_epi32((int32_t)0xC2B2AE35u));
    h = _mm256_xor_si256(h, _mm256_srli_epi32(h, 16));
    return _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(h, 8)), _mm256_set1_ps(0x1p-24f));
}

/* the parameter vectors of run s at offset j: broadcast (stride 0) or loaded (stride 1) */
AI void qv_load(qv *v, const qs_qp *qp, const qk_seg *s, int64_t j, __m256i qmin, __m256i qmax)
{
    const float *smp = qp->divide ? qp->scale : qp->inv;
    if (s->stride == 0) {
        v->sm = _mm256_set1_ps(smp[s->p]);
        v->scale = _mm256_set1_ps(qp->scale[s->p]);
        v->zp = _mm256_set1_epi32(qp->zp[s->p]);
    } else {
        v->sm = _mm256_loadu_ps(smp + s->p + j);
        v->scale = _mm256_loadu_ps(qp->scale + s->p + j);
        v->zp = _mm256_loadu_si256((const __m256i *)(qp->zp + s->p + j));
    }
    v->lo = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_sub_epi32(qmin, v->zp),
                                                _mm256_set1_epi32(1)));
    v->hi = _mm256_cvtepi32_ps(_mm256_add_epi32(_mm256_sub_epi32(qmax, v->zp),
                                                _mm256_set1_epi32(1)));
    v->cl = _mm256_cvtepi32_ps(_mm256_sub_epi32(qmin, v->zp));
    v->ch = _mm256_cvtepi32_ps(_mm256_sub_epi32(qmax, v->zp));
}

/* codes of 8 elements (NaN lanes: zp); *clip: lanes clipped (all ones); *nanm: NaN lanes */
AI __m256i quant8(const qv *c, __m256i qmin, __m256i qmax, __m256 x, uint64_t seed,
                  uint64_t e, __m256i *clip, __m256 *nanm, const int rv, const int dv)
{
    __m256 v = dv ? _mm256_div_ps(x, c->sm) : _mm256_mul_ps(x, c->sm);
    __m256 r;
    if (rv == 1) {                      /* half away from zero */
        __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        __m256 d = _mm256_sub_ps(v, t);                         /* exact fraction */
        __m256 sgn = _mm256_and_ps(v, _mm256_set1_ps(-0.0f));
        __m256 ge = _mm256_cmp_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), d),
                                  _mm256_set1_ps(0.5f), _CMP_GE_OQ);
        r = _mm256_add_ps(t, _mm256_and_ps(ge, _mm256_or_ps(_mm256_set1_ps(1.0f), sgn)));
    } else if (rv == 2) {               /* half up */
        r = _mm256_round_ps(_mm256_add_ps(v, _mm256_set1_ps(0.5f)),
                            _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    } else if (rv == 3) {               /* stochastic */
        r = _mm256_round_ps(_mm256_add_ps(v, uniform8(seed, e)),
                            _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    } else {
        r = _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    }
    /* clamp in float to [qmin-zp-1, qmax-zp+1] (NaN → lo; replaced below) */
    r = _mm256_min_ps(_mm256_max_ps(r, c->lo), c->hi);
    __m256i q = _mm256_add_epi32(_mm256_cvttps_epi32(r), c->zp);
    __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
    __m256i out = _mm256_or_si256(_mm256_cmpgt_epi32(qmin, q), _mm256_cmpgt_epi32(q, qmax));
    *clip = _mm256_andnot_si256(_mm256_castps_si256(nan), out);
    *nanm = nan;
    q = _mm256_min_epi32(_mm256_max_epi32(q, qmin), qmax);
    return _mm256_blendv_epi8(q, c->zp, _mm256_castps_si256(nan));
}

/* quant8 for codes ranges exactly representable in float (|qmin-zp|, |qmax-zp| < 2^24, see
 * qv_fc_ok): the same codes and clip mask with three fewer operations */
AI __m256i quant8_fc(const qv *c, __m256i qmin, __m256i qmax, __m256 x, uint64_t seed,
                  uint64_t e, __m256i *clip, __m256 *nanm, const int rv, const int dv)
{
    __m256 v = dv ? _mm256_div_ps(x, c->sm) : _mm256_mul_ps(x, c->sm);
    __m256 r;
    if (rv == 1) {                      /* half away from zero */
        __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        __m256 d = _mm256_sub_ps(v, t);                         /* exact fraction */
        __m256 sgn = _mm256_and_ps(v, _mm256_set1_ps(-0.0f));
        __m256 ge = _mm256_cmp_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), d),
                                  _mm256_set1_ps(0.5f), _CMP_GE_OQ);
        r = _mm256_add_ps(t, _mm256_and_ps(ge, _mm256_or_ps(_mm256_set1_ps(1.0f), sgn)));
    } else if (rv == 2) {               /* half up */
        r = _mm256_round_ps(_mm256_add_ps(v, _mm256_set1_ps(0.5f)),
                            _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    } else if (rv == 3) {               /* stochastic */
        r = _mm256_round_ps(_mm256_add_ps(v, uniform8(seed, e)),
                            _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    } else {
        r = _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    }
    /* r is integral (or ±inf): it clips exactly when r < qmin-zp or r > qmax-zp, and the
     * clamp to that range is the clamped code; NaN compares false (not clipped) */
    (void)qmin; (void)qmax;
    *clip = _mm256_castps_si256(_mm256_or_ps(_mm256_cmp_ps(r, c->cl, _CMP_LT_OQ),
                                             _mm256_cmp_ps(r, c->ch, _CMP_GT_OQ)));
    r = _mm256_min_ps(_mm256_max_ps(r, c->cl), c->ch);
    __m256i q = _mm256_add_epi32(_mm256_cvttps_epi32(r), c->zp);
    __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
    *nanm = nan;
    return _mm256_blendv_epi8(q, c->zp, _mm256_castps_si256(nan));
}

/* low bytes of 8 int32 lanes → 8 bytes */
AI void store_codes8(uint8_t *dst, __m256i q)
{
    const __m256i sh = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                        -1, -1, 0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1,
                                        -1, -1, -1, -1);
    __m256i b = _mm256_shuffle_epi8(q, sh);
    b = _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 1, 1, 1, 1, 1));
    _mm_storel_epi64((__m128i *)dst, _mm256_castsi256_si128(b));
}
/* low bytes of 4×8 int32 lanes → 32 bytes in element order (masked to 8 bits, so the
 * unsigned packs never saturate) */
AI __m256i pack_codes32(__m256i q0, __m256i q1, __m256i q2, __m256i q3)
{
    const __m256i m = _mm256_set1_epi32(0xff);
    __m256i a = _mm256_packus_epi32(_mm256_and_si256(q0, m), _mm256_and_si256(q1, m));
    __m256i b = _mm256_packus_epi32(_mm256_and_si256(q2, m), _mm256_and_si256(q3, m));
    /* 32-bit groups: q0[0-3] q1[0-3] q2[0-3] q3[0-3] | q0[4-7] q1[4-7] q2[4-7] q3[4-7] */
    return _mm256_permutevar8x32_epi32(_mm256_packus_epi16(a, b),
                                       _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}
AI void store32(uint8_t *dst, __m256i v, int stream)
{
    if (stream) {
        _mm_stream_si128((__m128i *)dst, _mm256_castsi256_si128(v));
        _mm_stream_si128((__m128i *)(dst + 16), _mm256_extracti128_si256(v, 1));
    } else {
        _mm256_storeu_si256((__m256i *)dst, v);
    }
}
AI void store_ps8(float *dst, __m256 v, int stream)
{
    if (stream) {
        _mm_stream_ps(dst, _mm256_castps256_ps128(v));
        _mm_stream_ps(dst + 4, _mm256_extractf128_ps(v, 1));
    } else {
        _mm256_storeu_ps(dst, v);
    }
}

/* ======================================================================================
 * quantize / dequantize
 * ====================================================================================== */

typedef struct q_ctx {
    const float *x;         /* quantize: input */
    const qs_layout *l;     /* parameter layout */
    const qs_qp *qp;        /* parameters */
    uint8_t *codes;         /* quantize: output */
    const uint8_t *cin;     /* dequantize: input codes */
    float *y;               /* dequantize: output */
    int stream;             /* non-temporal stores of codes / y (16-byte aligned, per tensor) */
} q_ctx;

AI void quantize_run(const q_ctx *c, int64_t e0, int64_t e1, const int rv, const int dv)
{
    const qs_qp *qp = c->qp;
    const __m256i qmin = _mm256_set1_epi32(qp->qmin), qmax = _mm256_set1_epi32(qp->qmax);
    const uint64_t seed = qp->seed;
    const int stream = c->stream;
    __m256i clip;
    __m256 nanm;
    qv v;
    for (int64_t e = e0; e < e1;) {
        qk_seg s = qk_segment(c->l, e, e1);
        const float *x = c->x + e;
        uint8_t *o = c->codes + e;
        uint64_t ue = (uint64_t)e;
        int64_t j = 0;
        if (s.stride == 0) {            /* one parameter set: hoisted out of the loop */
            qv_load(&v, qp, &s, 0, qmin, qmax);
            for (; j + 32 <= s.n; j += 32) {
                _mm_prefetch((const char *)(x + j + QK_PF), _MM_HINT_T0);
                _mm_prefetch((const char *)(x + j + QK_PF + 16), _MM_HINT_T0);
                __m256i q0 = quant8(&v, qmin, qmax, _mm256_loadu_ps(x + j), seed, ue + (uint64_t)j,
                                    &clip, &nanm, rv, dv);
                __m256i q1 = quant8(&v, qmin, qmax, _mm256_loadu_ps(x + j + 8), seed,
                                    ue + (uint64_t)j + 8, &clip, &nanm, rv, dv);
                __m256i q2 = quant8(&v, qmin, qmax, _mm256_loadu_ps(x + j + 16), seed,
                                    ue + (uint64_t)j + 16, &clip, &nanm, rv, dv);
                __m256i q3 = quant8(&v, qmin, qmax, _mm256_loadu_ps(x + j + 24), seed,
                                    ue + (uint64_t)j + 24, &clip, &nanm, rv, dv);
                store32(o + j, pack_codes32(q0, q1, q2, q3), stream);
            }
            for (; j + 8 <= s.n; j += 8)
                store_codes8(o + j, quant8(&v, qmin, qmax, _mm256_loadu_ps(x + j), seed,
                                           ue + (uint64_t)j, &clip, &nanm, rv, dv));
        } else {
            for (; j + 8 <= s.n; j += 8) {
                qv_load(&v, qp, &s, j, qmin, qmax);
                store_codes8(o + j, quant8(&v, qmin, qmax, _mm256_loadu_ps(x + j), seed,
                                           ue + (uint64_t)j, &clip, &nanm, rv, dv));
            }
        }
        for (; j < s.n; j++) {
            int64_t p = s.p + j * s.stride;
            int cl;
            o[j] = (uint8_t)qk_quant1(x[j], qp->scale[p], qp->inv ? qp->inv[p] : 0.0f,
                                      qp->zp[p], qp, ue + (uint64_t)j, &cl);
        }
        e += s.n;
    }
    if (stream) _mm_sfence();
}
static void quantize_chunk_avx2(void *vc, int64_t e0, int64_t e1)
{
    const q_ctx *c = vc;
    QK_VARIANT(c->qp, quantize_run, c, e0, e1);
}
static void quantize_avx2(const float *x, const qs_layout *l, const qs_qp *qp, uint8_t *codes)
{
    int64_t n = qs_layout_numel(l);
    q_ctx c = { x, l, qp, codes, NULL, NULL,
                l->gran == QS_G_TENSOR && n >= QK_NT_MIN && ((uintptr_t)codes & 15) == 0 };
    qk_run_range(n, quantize_chunk_avx2, &c);
}

static void dequantize_chunk_avx2(void *vc, int64_t e0, int64_t e1)
{
    const q_ctx *c = vc;
    const qs_qp *qp = c->qp;
    int sgn = qp->qmin < 0;
    const __m256i qmin = _mm256_set1_epi32(qp->qmin), qmax = _mm256_set1_epi32(qp->qmax);
    qv v;
    v.sm = v.scale = v.lo = v.hi = _mm256_setzero_ps();
    v.zp = _mm256_setzero_si256();
    for (int64_t e = e0; e < e1;) {
        qk_seg s = qk_segment(c->l, e, e1);
        int64_t j = 0;
        if (s.stride == 0) qv_load(&v, qp, &s, 0, qmin, qmax);
        for (; j + 8 <= s.n; j += 8) {
            if (s.stride) qv_load(&v, qp, &s, j, qmin, qmax);
            __m128i b = _mm_loadl_epi64((const __m128i *)(c->cin + e + j));
            __m256i q = sgn ? _mm256_cvtepi8_epi32(b) : _mm256_cvtepu8_epi32(b);
            store_ps8(c->y + e + j,
                      _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(q, v.zp)), v.scale),
                      c->stream);
        }
        for (; j < s.n; j++) {
            int64_t p = s.p + j * s.stride;
            int32_t q = sgn ? (int32_t)(int8_t)c->cin[e + j] : (int32_t)c->cin[e + j];
            c->y[e + j] = (float)(q - qp->zp[p]) * qp->scale[p];
        }
        e += s.n;
    }
    if (c->stream) _mm_sfence();
}
static void dequantize_avx2(const uint8_t *codes, const qs_layout *l, const qs_qp *qp, float *y)
{
    int64_t n = qs_layout_numel(l);
    q_ctx c = { NULL, l, qp, NULL, codes, y,
                l->gran == QS_G_TENSOR && n >= QK_NT_MIN && ((uintptr_t)y & 15) == 0 };
    qk_run_range(n, dequantize_chunk_avx2, &c);
}

/* ======================================================================================
 * Fused fake-quant + statistics + error histogram
 * ====================================================================================== */

/* double accumulators of one chunk (4 lanes each) */
typedef struct sacc {
    __m256d x2, y2, xy, e, e2, mx;   /* Σx², Σy², Σxy, Σe, Σe², max|e| */
    __m256i nan, clip;               /* per-lane counts, negative (mask lanes subtracted) */
    float mthr;                      /* fq_stats_f: a block whose float max |e| is below this
                                        cannot raise mx (0: not known yet) */
} sacc;

AI void sacc_init(sacc *a)
{
    a->x2 = a->y2 = a->xy = a->e = a->e2 = a->mx = _mm256_setzero_pd();
    a->nan = a->clip = _mm256_setzero_si256();
    a->mthr = 0.0f;
}

/* 4 (x, y) pairs with NaN-x lanes already zeroed; returns e for the histogram */
AI __m256d sacc_add4(sacc *a, __m256d x, __m256d y)
{
    __m256d e = _mm256_sub_pd(y, x);
    a->x2 = _mm256_fmadd_pd(x, x, a->x2);
    a->y2 = _mm256_fmadd_pd(y, y, a->y2);
    a->xy = _mm256_fmadd_pd(x, y, a->xy);
    a->e = _mm256_add_pd(a->e, e);
    a->e2 = _mm256_fmadd_pd(e, e, a->e2);
    a->mx = _mm256_max_pd(_mm256_andnot_pd(_mm256_set1_pd(-0.0), e), a->mx);  /* NaN e: kept */
    return e;
}

static inline double hsum4(__m256d v)
{
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}
static inline int64_t hcount8(__m256i v)       /* minus the sum of 8 int32 lanes */
{
    int32_t t[8];
    _mm256_storeu_si256((__m256i *)t, v);
    int64_t s = 0;
    for (int k = 0; k < 8; k++) s -= t[k];
    return s;
}

/* adds the vector part's statistics (count elements, NaN included) into st */
static void sacc_flush(const sacc *a, qs_errstats *st, int64_t count)
{
    qs_errstats v = { 0 };
    v.n_nan = hcount8(a->nan);
    v.n = count - v.n_nan;
    v.clipped = hcount8(a->clip);
    v.sum_x2 = hsum4(a->x2); v.sum_y2 = hsum4(a->y2); v.sum_xy = hsum4(a->xy);
    v.sum_e = hsum4(a->e); v.sum_e2 = hsum4(a->e2);
    __m128d m = _mm_max_pd(_mm256_castpd256_pd128(a->mx), _mm256_extractf128_pd(a->mx, 1));
    v.max_abs_e = _mm_cvtsd_f64(_mm_max_sd(m, _mm_unpackhi_pd(m, m)));
    qk_stats_merge(st, &v);
}

/* statistics (and histogram) of 8 pairs; nanm: lanes to skip (x NaN). Skipped lanes are
 * zeroed, so they add nothing to the sums and fall in the histogram bin of 0.0, from which
 * hbin_flush removes them (zfix). */
AI void stats8(sacc *a, hbin *hb, __m256 x, __m256 y, __m256 nanm)
{
    x = _mm256_andnot_ps(nanm, x);
    y = _mm256_andnot_ps(nanm, y);
    a->nan = _mm256_add_epi32(a->nan, _mm256_castps_si256(nanm));
    __m256d e0 = sacc_add4(a, _mm256_cvtps_pd(_mm256_castps256_ps128(x)),
                           _mm256_cvtps_pd(_mm256_castps256_ps128(y)));
    __m256d e1 = sacc_add4(a, _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1)),
                           _mm256_cvtps_pd(_mm256_extractf128_ps(y, 1)));
    if (hb) hbin_count8(hb, e0, e1);
}

/* one vector of the fused pass: y, clip count, statistics, error histogram (eh without
 * hb: histogram too large for the private tables, counted scalar); returns the codes */
AI __m256i fq8(const qv *v, __m256i qmin, __m256i qmax, sacc *a, hbin *hb, qs_hist *eh,
               double sc, const float *x, float *y, int64_t e, uint64_t seed, int stream,
               const int rv, const int dv)
{
    __m256i clip;
    __m256 nanm;
    __m256 xv = _mm256_loadu_ps(x + e);
    __m256i q = quant8(v, qmin, qmax, xv, seed, (uint64_t)e, &clip, &nanm, rv, dv);
    __m256 yv = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(q, v->zp)), v->scale);
    if (y) store_ps8(y + e, yv, stream);
    a->clip = _mm256_add_epi32(a->clip, clip);
    stats8(a, hb, xv, yv, nanm);
    if (eh && !hb) {
        float xs[8], ys[8];
        _mm256_storeu_ps(xs, xv); _mm256_storeu_ps(ys, yv);
        for (int k = 0; k < 8; k++)
            if (!isnan(xs[k])) qk_hist_add(eh, (double)ys[k] - (double)xs[k], sc);
    }
    return q;
}

/* a block of QB elements under one parameter set, in three passes over L1-resident data
 * (fewer live registers than one fused loop): quantize (codes, y, clip and NaN counts; y
 * also kept in yb), statistics with the histogram's counter indices into ib, then the
 * counter increments */
/* the statistics pass of a block: x from memory, y from yb; clean: the block has no NaN x
 * (no masking needed) */
AI void fq_stats(sacc *a, hbin *hb, const float *x, const float *yb, uint32_t *ib,
                 const int clean)
{
    for (int b = 0; b < QB; b += 8) {
        __m256 xv = _mm256_loadu_ps(x + b), yv = _mm256_load_ps(yb + b);
        if (!clean) {
            __m256 nanm = _mm256_cmp_ps(xv, xv, _CMP_UNORD_Q);
            xv = _mm256_andnot_ps(nanm, xv);
            yv = _mm256_andnot_ps(nanm, yv);
            a->nan = _mm256_add_epi32(a->nan, _mm256_castps_si256(nanm));
        }
        __m256d e0 = sacc_add4(a, _mm256_cvtps_pd(_mm256_castps256_ps128(xv)),
                               _mm256_cvtps_pd(_mm256_castps256_ps128(yv)));
        __m256d e1 = sacc_add4(a, _mm256_cvtps_pd(_mm256_extractf128_ps(xv, 1)),
                               _mm256_cvtps_pd(_mm256_extractf128_ps(yv, 1)));
        if (hb) _mm256_store_si256((__m256i *)(ib + b), hbin_idx8(hb, e0, e1));
    }
}

/* The statistics pass of a block in float (the default): per 64 elements each of the 8
 * lanes sums 8 terms with fma in float, then the lanes are added into the double
 * accumulators. Σe is the exception: errors of both signs cancel, so a bound relative to
 * Σ|e| says little about Σe (a mean error moved in its 5th digit); each e_f goes into
 * double as it comes. e_f = fl32(y - x) is within u|e| of the double e, so each sum is within
 * 10u·Σ|terms| < 6e-7 of the double one (QS_K_SUM_RTOL = 1e-6; see README). The maximum stays
 * exact: fl32 is monotone, so a block can raise the double max D only when its float
 * maximum reaches the float just below fl32(D) (one step more for a double-rounded e); such
 * blocks are scanned again in double (fq_max_rescan), which after the first blocks is rare.
 * Histogram counter indices go to ib by the float rule (fbin_ok); lanes near a bin edge
 * are flagged per 8 and binned again with the double rule. */
static float fq_mthr(double d)
{
    float f = (float)d;
    return f > 0.0f ? nextafterf(f, 0.0f) : 0.0f;
}
static __attribute__((noinline)) void fq_max_rescan(sacc *a, const float *x, const float *yb)
{
    const __m256d absm = _mm256_set1_pd(-0.0);
    __m256d m = a->mx;
    for (int b = 0; b < QB; b += 8) {
        __m256 xv = _mm256_loadu_ps(x + b), yv = _mm256_load_ps(yb + b);
        __m256 nanm = _mm256_cmp_ps(xv, xv, _CMP_UNORD_Q);
        xv = _mm256_andnot_ps(nanm, xv);
        yv = _mm256_andnot_ps(nanm, yv);
        __m256d e0 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(yv)),
                                   _mm256_cvtps_pd(_mm256_castps256_ps128(xv)));
        __m256d e1 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(yv, 1)),
                                   _mm256_cvtps_pd(_mm256_extractf128_ps(xv, 1)));
        m = _mm256_max_pd(_mm256_andnot_pd(absm, e0), m);     /* NaN e: kept */
        m = _mm256_max_pd(_mm256_andnot_pd(absm, e1), m);
    }
    a->mx = m;
    __m128d h = _mm_max_pd(_mm256_castpd256_pd128(m), _mm256_extractf128_pd(m, 1));
    a->mthr = fq_mthr(_mm_cvtsd_f64(_mm_max_sd(h, _mm_unpackhi_pd(h, h))));
}
/* the groups of 64 whose bit in nr is set: counter indices again by the double rule */
static __attribute__((noinline)) void fq_bin_fix(const hbin *hb, const float *x,
                                                 const float *yb, uint32_t *ib, unsigned nr)
{
    for (int k = 0; k < QB / 8; k++) {
        if (!(nr >> (k / 8) & 1)) continue;
        __m256 xv = _mm256_loadu_ps(x + 8 * k), yv = _mm256_load_ps(yb + 8 * k);
        __m256 nanm = _mm256_cmp_ps(xv, xv, _CMP_UNORD_Q);
        xv = _mm256_andnot_ps(nanm, xv);
        yv = _mm256_andnot_ps(nanm, yv);
        __m256d e0 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(yv)),
                                   _mm256_cvtps_pd(_mm256_castps256_ps128(xv)));
        __m256d e1 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(yv, 1)),
                                   _mm256_cvtps_pd(_mm256_extractf128_ps(xv, 1)));
        _mm256_store_si256((__m256i *)(ib + 8 * k), hbin_idx8(hb, e0, e1));
    }
}
/* 8 float lanes added into 4 double lanes */
AI __m256d fold8(__m256d acc, __m256 s)
{
    return _mm256_add_pd(acc, _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(s)),
                                            _mm256_cvtps_pd(_mm256_extractf128_ps(s, 1))));
}
AI void fq_stats_f(sacc *a, const hbin *hb, const float *x, const float *yb, uint32_t *ib,
                   const uint32_t *pend, const int clean)
{
    const __m256 absm = _mm256_set1_ps(-0.0f);
    const __m256 eight = _mm256_set1_ps(8.0f);
    __m256 mx = _mm256_setzero_ps();
    __m256d sd = _mm256_setzero_pd();   /* Σe in double: its terms cancel (see above) */
    unsigned nr = 0;                /* groups of 64 with a lane near a bin edge */
    for (int g = 0; g < QB; g += 64) {
        __m256 x2 = _mm256_setzero_ps(), y2 = x2, xy = x2, e2 = x2, near = x2;
        for (int b = g; b < g + 64; b += 8) {
            if (pend) hbin_inc8(hb->t, pend + b);  /* scalar stores beside the vector work */
            __m256 xv = _mm256_loadu_ps(x + b), yv = _mm256_load_ps(yb + b);
            if (!clean) {
                __m256 nanm = _mm256_cmp_ps(xv, xv, _CMP_UNORD_Q);
                xv = _mm256_andnot_ps(nanm, xv);
                yv = _mm256_andnot_ps(nanm, yv);
                a->nan = _mm256_add_epi32(a->nan, _mm256_castps_si256(nanm));
            }
            __m256 e = _mm256_sub_ps(yv, xv);
            x2 = _mm256_fmadd_ps(xv, xv, x2);
            y2 = _mm256_fmadd_ps(yv, yv, y2);
            xy = _mm256_fmadd_ps(xv, yv, xy);
            sd = _mm256_add_pd(sd, _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(e)),
                                                 _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1))));
            e2 = _mm256_fmadd_ps(e, e, e2);
            mx = _mm256_max_ps(_mm256_andnot_ps(absm, e), mx);      /* NaN e: kept */
            if (hb) {
                /* vmaxps / vminps return the second operand for NaN: NaN t stays NaN */
                __m256 t = _mm256_fmadd_ps(e, hb->fsc, hb->fc);
                t = _mm256_min_ps(hb->fthi, _mm256_max_ps(hb->ftlo, t));
                __m256 r = _mm256_round_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
                __m256 d = _mm256_andnot_ps(absm, _mm256_sub_ps(t, r));
                near = _mm256_or_ps(near, _mm256_cmp_ps(d, hb->fthr, _CMP_NLT_UQ));
                _mm256_store_si256((__m256i *)(ib + b),
                                   _mm256_cvttps_epi32(_mm256_fmadd_ps(r, eight, hb->flanes)));
            }
        }
        if (hb && !_mm256_testz_ps(near, near)) nr |= 1u << (g / 64);
        a->x2 = fold8(a->x2, x2);
        a->y2 = fold8(a->y2, y2);
        a->xy = fold8(a->xy, xy);
        a->e2 = fold8(a->e2, e2);
    }
    a->e = _mm256_add_pd(a->e, sd);
    float m = hmax8(mx);
    if (m > 0.0f && m >= a->mthr) fq_max_rescan(a, x, yb);
    if (nr) fq_bin_fix(hb, x, yb, ib, nr);
}

/* one block; returns whether its counter increments are still to do (ib pending: the float
 * statistics pass of the next block does them, interleaved with its vector work, or the
 * caller after the last block); pend: the previous block's pending indices or NULL */
AI int fq_block(const qv *v, __m256i qmin, __m256i qmax, sacc *a, hbin *hb,
                const float *x, float *y, uint8_t *codes, int64_t e, uint64_t seed,
                int stream, float *yb, uint32_t *ib, const uint32_t *pend, int fstat,
                const int fc, const int rv, const int dv)
{
    __m256 anynan = _mm256_setzero_ps();
    __m256i clips = _mm256_setzero_si256();     /* local: a->clip would go through memory */
    if (!hb || !fstat || !hb->fok) pend = NULL;     /* (never set then: nothing pending) */
    for (int b = 0; b < QB; b += 32) {
        __m256i q[4];
        _mm_prefetch((const char *)(x + e + b + QK_PF), _MM_HINT_T0);     /* 2 lines of 64 B */
        _mm_prefetch((const char *)(x + e + b + QK_PF + 16), _MM_HINT_T0);
        _Pragma("GCC unroll 4")
        for (int u = 0; u < 4; u++) {
            __m256i clip;
            __m256 nanm;
            __m256 xv = _mm256_loadu_ps(x + e + b + 8 * u);
            q[u] = fc ? quant8_fc(v, qmin, qmax, xv, seed, (uint64_t)(e + b + 8 * u), &clip,
                                  &nanm, rv, dv)
                      : quant8(v, qmin, qmax, xv, seed, (uint64_t)(e + b + 8 * u), &clip,
                               &nanm, rv, dv);
            __m256 yv = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(q[u], v->zp)),
                                      v->scale);
            _mm256_store_ps(yb + b + 8 * u, yv);
            if (y) store_ps8(y + e + b + 8 * u, yv, stream);
            clips = _mm256_add_epi32(clips, clip);
            anynan = _mm256_or_ps(anynan, nanm);
        }
        if (codes) store32(codes + e + b, pack_codes32(q[0], q[1], q[2], q[3]), stream);
    }
    a->clip = _mm256_add_epi32(a->clip, clips);
    if (!fstat || (hb && !hb->fok)) {
        if (_mm256_movemask_ps(anynan) == 0) fq_stats(a, hb, x + e, yb, ib, 1);
        else fq_stats(a, hb, x + e, yb, ib, 0);
        if (hb) hbin_add_idx(hb, ib);
        return 0;
    }
    if (_mm256_movemask_ps(anynan) == 0) fq_stats_f(a, hb, x + e, yb, ib, pend, 1);
    else fq_stats_f(a, hb, x + e, yb, ib, pend, 0);
    return hb != NULL;
}

/* The whole blocks of QB elements of a run of s_n elements under parameter set p starting at
 * element e; returns the elements done. quant_avx512.c, which includes this file, defines
 * its own (zmm) version: there fakequant_run below is its fused pass. */
/* whether parameter set p's code range around zp is exact in float (quant8_fc applies) */
static int fc_ok(const qs_qp *qp, int64_t p)
{
    int64_t zl = (int64_t)qp->qmin - qp->zp[p], zh = (int64_t)qp->qmax - qp->zp[p];
    return zl > -(1 << 23) && zl < (1 << 23) && zh > -(1 << 23) && zh < (1 << 23);
}
#ifndef QK_W512
/* ib: two index buffers of QB, used in turn, so that a block's increments can wait for the
 * next block's statistics pass */
AI int64_t fq_blocks(const qv *v, __m256i qmin, __m256i qmax, sacc *a, hbin *hb,
                     const float *x, float *y, uint8_t *codes, int64_t e, int64_t s_n,
                     const qs_qp *qp, int64_t p, uint64_t seed, int stream, float *yb,
                     uint32_t *ib, int fstat, const int rv, const int dv)
{
    int64_t j = 0;
    const uint32_t *pend = NULL;
    int cur = 0;
    if (fc_ok(qp, p))
        for (; j + QB <= s_n; j += QB, cur ^= 1)
            pend = fq_block(v, qmin, qmax, a, hb, x, y, codes, e + j, seed, stream, yb,
                            ib + cur * QB, pend, fstat, 1, rv, dv) ? ib + cur * QB : NULL;
    else
        for (; j + QB <= s_n; j += QB, cur ^= 1)
            pend = fq_block(v, qmin, qmax, a, hb, x, y, codes, e + j, seed, stream, yb,
                            ib + cur * QB, pend, fstat, 0, rv, dv) ? ib + cur * QB : NULL;
    if (pend) hbin_add_idx(hb, pend);
    return j;
}
#else
AI int64_t fq_blocks(const qv *v, __m256i qmin, __m256i qmax, sacc *a, hbin *hb,
                     const float *x, float *y, uint8_t *codes, int64_t e, int64_t s_n,
                     const qs_qp *qp, int64_t p, uint64_t seed, int stream, float *yb,
                     uint32_t *ib, int fstat, const int rv, const int dv);
#endif

AI void fakequant_run(const float *x, const qs_layout *l, const qs_qp *qp, float *y,
                      uint8_t *codes, int64_t e0, int64_t e1, qs_errstats *st, qs_hist *eh,
                      int fstat, const int rv, const int dv)
{
    const __m256i qmin = _mm256_set1_epi32(qp->qmin), qmax = _mm256_set1_epi32(qp->qmax);
    const uint64_t seed = qp->seed;
    const int stream = l->gran == QS_G_TENSOR && qs_layout_numel(l) >= QK_NT_MIN &&
                       ((uintptr_t)y & 15) == 0 && ((uintptr_t)codes & 15) == 0;
    _Alignas(64) float yb[QB];
    _Alignas(64) uint32_t ib[2 * QB];  /* two buffers (fq_blocks) */
    sacc a;
    sacc_init(&a);
    hbin hb;
    hbin *hp = eh && hbin_init(&hb, eh) ? &hb : NULL;
    double sc = eh ? qk_hist_scale(eh) : 0.0;
    qv v;
    int64_t vec = 0;                    /* elements done by the vector loop */
    for (int64_t e = e0; e < e1;) {
        qk_seg s = qk_segment(l, e, e1);
        int64_t j = 0;
        if (s.stride == 0) {            /* one parameter set: hoisted out of the loop */
            qv_load(&v, qp, &s, 0, qmin, qmax);
            if (hp || !eh)
                j = fq_blocks(&v, qmin, qmax, &a, hp, x, y, codes, e, s.n, qp, s.p, seed,
                              stream, yb, ib, fstat, rv, dv);
            for (; j + 8 <= s.n; j += 8) {
                __m256i q = fq8(&v, qmin, qmax, &a, hp, eh, sc, x, y, e + j, seed, stream, rv, dv);
                if (codes) store_codes8(codes + e + j, q);
            }
        } else {
            for (; j + 8 <= s.n; j += 8) {
                qv_load(&v, qp, &s, j, qmin, qmax);
                __m256i q = fq8(&v, qmin, qmax, &a, hp, eh, sc, x, y, e + j, seed, stream, rv, dv);
                if (codes) store_codes8(codes + e + j, q);
            }
        }
        vec += j;
        for (; j < s.n; j++) {          /* scalar tail: the reference rules */
            int64_t p = s.p + j * s.stride;
            float xv = x[e + j];
            int cl;
            int32_t q = qk_quant1(xv, qp->scale[p], qp->inv ? qp->inv[p] : 0.0f, qp->zp[p],
                                  qp, (uint64_t)(e + j), &cl);
            float yv = (float)(q - qp->zp[p]) * qp->scale[p];
            if (codes) codes[e + j] = (uint8_t)q;
            if (y) y[e + j] = yv;
            if (isnan(xv)) { st->n_nan++; continue; }
            st->clipped += cl;
            qk_stats_add(st, xv, yv);
            if (eh) qk_hist_add(eh, (double)yv - (double)xv, sc);
        }
        e += s.n;
    }
    if (stream) _mm_sfence();
    sacc_flush(&a, st, vec);
    if (hp) {
        hb.zfix = hcount8(a.nan);
        hbin_flush(&hb, eh);
    }
}
static void fakequant_chunk_avx2(const float *x, const qs_layout *l, const qs_qp *qp, float *y,
                                 uint8_t *codes, int64_t e0, int64_t e1, qs_errstats *st,
                                 qs_hist *eh)
{
    QK_VARIANT(qp, fakequant_run, x, l, qp, y, codes, e0, e1, st, eh, 1);
    /* float lanes overflow past |x| ~ 1.8e19 and lose digits to underflow when a chunk's
     * sums are tiny: then the chunk's statistics again in double (codes, y and histogram
     * are already right) */
    const double tiny = 0x1p-100;
    if (!(isfinite(st->sum_x2) && isfinite(st->sum_y2) && isfinite(st->sum_xy) &&
          isfinite(st->sum_e) && isfinite(st->sum_e2)) ||
        (st->sum_x2 > 0.0 && st->sum_x2 < tiny) || (st->sum_y2 > 0.0 && st->sum_y2 < tiny) ||
        (st->sum_e2 > 0.0 && st->sum_e2 < tiny)) {
        memset(st, 0, sizeof *st);
        QK_VARIANT(qp, fakequant_run, x, l, qp, NULL, NULL, e0, e1, st, NULL, 0);
    }
}
static void fakequant_avx2(const float *x, const qs_layout *l, const qs_qp *qp, float *y,
                           uint8_t *codes, qs_errstats *st, qs_hist *eh)
{
    qk_drive_fakequant(x, l, qp, y, codes, st, eh, fakequant_chunk_avx2);
}

static void errstats_chunk_avx2(const float *x, const float *y, int64_t e0, int64_t e1,
                                qs_errstats *st, qs_hist *eh)
{
    sacc a;
    sacc_init(&a);
    hbin hb;
    int use_hb = eh && hbin_init(&hb, eh);
    double sc = eh ? qk_hist_scale(eh) : 0.0;
    int64_t e = e0;
    if (!eh || use_hb) {
        for (; e + 8 <= e1; e += 8) {
            __m256 xv = _mm256_loadu_ps(x + e), yv = _mm256_loadu_ps(y + e);
            stats8(&a, use_hb ? &hb : NULL, xv, yv, _mm256_cmp_ps(xv, xv, _CMP_UNORD_Q));
        }
    }
    sacc_flush(&a, st, e - e0);
    if (use_hb) {
        hb.zfix = hcount8(a.nan);
        hbin_flush(&hb, eh);
    }
    for (; e < e1; e++) {
        if (isnan(x[e])) { st->n_nan++; continue; }
        qk_stats_add(st, x[e], y[e]);
        if (eh) qk_hist_add(eh, (double)y[e] - (double)x[e], sc);
    }
}
static void errstats_avx2(const float *x, const float *y, int64_t n, qs_errstats *st,
                          qs_hist *eh)
{
    qk_drive_errstats(x, y, n, st, eh, errstats_chunk_avx2);
}

/* ======================================================================================
 * fp16 (F16C) and bf16 conversions
 * ====================================================================================== */

typedef struct cv_ctx {
    const void *in;         /* source array */
    void *out;              /* destination array */
} cv_ctx;

static inline __m128i f16_from8(__m256 v)
{
    /* vcvtps2ph quiets NaN keeping the top payload bits: the reference rule */
    return _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

static void f32_to_f16_chunk(void *vc, int64_t e0, int64_t e1)
{
    const cv_ctx *c = vc;
    const float *x = c->in; uint16_t *h = c->out;
    int64_t e = e0;
    for (; e + 8 <= e1; e += 8) _mm_storeu_si128((__m128i *)(h + e), f16_from8(_mm256_loadu_ps(x + e)));
    if (e < e1) {
        float t[8] = { 0 }; uint16_t o[8];
        memcpy(t, x + e, (size_t)(e1 - e) * sizeof *t);
        _mm_storeu_si128((__m128i *)o, f16_from8(_mm256_loadu_ps(t)));
        memcpy(h + e, o, (size_t)(e1 - e) * sizeof *o);
    }
}
static void f16_to_f32_chunk(void *vc, int64_t e0, int64_t e1)
{
    const cv_ctx *c = vc;
    const uint16_t *h = c->in; float *x = c->out;
    int64_t e = e0;
    for (; e + 8 <= e1; e += 8)
        _mm256_storeu_ps(x + e, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + e))));
    if (e < e1) {
        uint16_t t[8] = { 0 }; float o[8];
        memcpy(t, h + e, (size_t)(e1 - e) * sizeof *t);
        _mm256_storeu_ps(o, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)t)));
        memcpy(x + e, o, (size_t)(e1 - e) * sizeof *o);
    }
}

static inline __m128i bf16_from8(__m256 v)
{
    __m256i u = _mm256_castps_si256(v);
    __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
    __m256i r = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7fff)), lsb), 16);
    __m256i qn = _mm256_srli_epi32(_mm256_or_si256(u, _mm256_set1_epi32(0x00400000)), 16);
    __m256i isnan = _mm256_cmpgt_epi32(_mm256_and_si256(u, _mm256_set1_epi32(0x7fffffff)),
                                       _mm256_set1_epi32(0x7f800000));
    r = _mm256_blendv_epi8(r, qn, isnan);
    __m256i p = _mm256_packus_epi32(r, r);          /* lanes: 0-3 0-3 | 4-7 4-7 */
    return _mm256_castsi256_si128(_mm256_permute4x64_epi64(p, 0x08));
}
static void f32_to_bf16_chunk(void *vc, int64_t e0, int64_t e1)
{
    const cv_ctx *c = vc;
    const float *x = c->in; uint16_t *b = c->out;
    int64_t e = e0;
    for (; e + 8 <= e1; e += 8) _mm_storeu_si128((__m128i *)(b + e), bf16_from8(_mm256_loadu_ps(x + e)));
    if (e < e1) {
        float t[8] = { 0 }; uint16_t o[8];
        memcpy(t, x + e, (size_t)(e1 - e) * sizeof *t);
        _mm_storeu_si128((__m128i *)o, bf16_from8(_mm256_loadu_ps(t)));
        memcpy(b + e, o, (size_t)(e1 - e) * sizeof *o);
    }
}
static void bf16_to_f32_chunk(void *vc, int64_t e0, int64_t e1)
{
    const cv_ctx *c = vc;
    const uint16_t *b = c->in; float *x = c->out;
    int64_t e = e0;
    for (; e + 8 <= e1; e += 8) {
        __m256i u = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(b + e)));
        _mm256_storeu_si256((__m256i *)(x + e), _mm256_slli_epi32(u, 16));
    }
    for (; e < e1; e++) {
        uint32_t u = (uint32_t)b[e] << 16;
        memcpy(&x[e], &u, 4);
    }
}
static void f32_to_f16_avx2(const float *x, int64_t n, uint16_t *h)
{ cv_ctx c = { x, h }; qk_run_range(n, f32_to_f16_chunk, &c); }
static void f16_to_f32_avx2(const uint16_t *h, int64_t n, float *x)
{ cv_ctx c = { h, x }; qk_run_range(n, f16_to_f32_chunk, &c); }
static void f32_to_bf16_avx2(const float *x, int64_t n, uint16_t *b)
{ cv_ctx c = { x, b }; qk_run_range(n, f32_to_bf16_chunk, &c); }
static void bf16_to_f32_avx2(const uint16_t *b, int64_t n, float *x)
{ cv_ctx c = { b, x }; qk_run_range(n, bf16_to_f32_chunk, &c); }

/* ======================================================================================
 * 4-bit codebooks
 * ====================================================================================== */

/* Encode: absmax per block by vector max of |x| (NaN ignored as in fmaxf), codes by
 * counting the midpoints v exceeds (15 compares), nibbles packed in pairs. */
static void cb4_encode_avx2(const float *x, int64_t n, int block, const float *table,
                            uint8_t *packed, float *absmax)
{
    if (block % 2 != 0 || block < 8) {          /* odd blocks share bytes: reference path */
        qk_cb4_encode_ref(x, n, block, table, packed, absmax);
        return;
    }
    float mid[15];
    int sym;
    qk_cb4_mids(table, mid, &sym);      /* kint.h: bitsandbytes FP4's sign rule */
    int64_t nb = (n + block - 1) / block;
    #pragma omp parallel for schedule(static) num_threads(qs_k_threads()) if (n >= QK_PAR_MIN)
    for (int64_t b = 0; b < nb; b++) {
        int64_t e0 = b * block, e1 = e0 + block < n ? e0 + block : n, e;
        __m256 am8 = _mm256_setzero_ps();
        const __m256 absm = _mm256_set1_ps(-0.0f);
        for (e = e0; e + 8 <= e1; e += 8)   /* |x| first: a NaN lane keeps am8 */
            am8 = _mm256_max_ps(_mm256_andnot_ps(absm, _mm256_loadu_ps(x + e)), am8);
        float am = hmax8(am8);
        for (; e < e1; e++) am = fmaxf(am, fabsf(x[e]));
        absmax[b] = am;
        float inv = am > 0.0f ? 1.0f / am : 0.0f;
        __m256 vinv = _mm256_set1_ps(inv);
        for (e = e0; e + 8 <= e1; e += 8) {
            __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + e), vinv);
            __m256i code = _mm256_setzero_si256();
            if (sym) {              /* |v| against the positive midpoints; 7 - c or 8 + c */
                __m256 a = _mm256_andnot_ps(absm, v);
                for (int k = 8; k < 15; k++)
                    code = _mm256_sub_epi32(code, _mm256_castps_si256(
                               _mm256_cmp_ps(a, _mm256_set1_ps(mid[k]), _CMP_GT_OQ)));
                __m256 neg = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ);
                code = _mm256_castps_si256(_mm256_blendv_ps(
                    _mm256_castsi256_ps(_mm256_add_epi32(code, _mm256_set1_epi32(8))),
                    _mm256_castsi256_ps(_mm256_sub_epi32(_mm256_set1_epi32(7), code)), neg));
            } else {
                for (int k = 0; k < 15; k++)
                    code = _mm256_sub_epi32(code, _mm256_castps_si256(
                               _mm256_cmp_ps(v, _mm256_set1_ps(mid[k]), _CMP_GT_OQ)));
            }
            /* pairs (2i, 2i+1) → (c0 << 4) | c1 in the low byte of each 64-bit lane */
            __m256i hiq = _mm256_slli_epi64(code, 4);               /* even lane << 4 */
            __m256i lo = _mm256_srli_epi64(code, 32);               /* odd lane */
            __m256i by = _mm256_or_si256(hiq, lo);
            const __m256i sh = _mm256_setr_epi8(0, 8, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                                -1, -1, -1, -1, 0, 8, -1, -1, -1, -1, -1, -1,
                                                -1, -1, -1, -1, -1, -1, -1, -1);
            by = _mm256_shuffle_epi8(by, sh);
            uint16_t w0 = (uint16_t)_mm256_extract_epi16(by, 0), w1 = (uint16_t)_mm256_extract_epi16(by, 8);
            memcpy(packed + e / 2, &w0, 2);
            memcpy(packed + e / 2 + 2, &w1, 2);
        }
        for (; e < e1; e += 2) {
            int c0 = 0, c1 = 0;
            c0 = qk_cb4_code(x[e] * inv, mid, sym);
            if (e + 1 < e1) c1 = qk_cb4_code(x[e + 1] * inv, mid, sym);
            packed[e / 2] = (uint8_t)(c0 << 4 | c1);
        }
    }
}

/* Decode: 16-entry table lookup as two 8-entry permutes selected by bit 3. */
static void cb4_decode_avx2(const uint8_t *packed, const float *absmax, int64_t n, int block,
                            const float *table, float *y)
{
    if (block % 8 != 0) { qk_cb4_decode_ref(packed, absmax, n, block, table, y); return; }
    const __m256 t0 = _mm256_loadu_ps(table), t1 = _mm256_loadu_ps(table + 8);
    int64_t n8 = n / 8 * 8;
    #pragma omp parallel for schedule(static) num_threads(qs_k_threads()) if (n >= QK_PAR_MIN)
    for (int64_t e = 0; e < n8; e += 8) {
        uint32_t w;
        memcpy(&w, packed + e / 2, 4);
        /* element 2i: high nibble of byte i; 2i+1: low nibble */
        __m256i bytes = _mm256_set1_epi32((int32_t)w);
        __m256i shifts = _mm256_setr_epi32(4, 0, 12, 8, 20, 16, 28, 24);
        __m256i code = _mm256_and_si256(_mm256_srlv_epi32(bytes, shifts), _mm256_set1_epi32(15));
        __m256 v0 = _mm256_permutevar8x32_ps(t0, code), v1 = _mm256_permutevar8x32_ps(t1, code);
        __m256 sel = _mm256_castsi256_ps(_mm256_slli_epi32(code, 28));
        __m256 v = _mm256_blendv_ps(v0, v1, sel);
        _mm256_storeu_ps(y + e, _mm256_mul_ps(v, _mm256_set1_ps(absmax[e / block])));
    }
    for (int64_t e = n8; e < n; e++) {
        int code = e % 2 == 0 ? packed[e / 2] >> 4 : packed[e / 2] & 0x0f;
        y[e] = table[code] * absmax[e / block];
    }
}

#ifndef QK_W512   /* quant_avx512.c includes this file for its helpers and has its own tables */
/* ======================================================================================
 * The table
 * ====================================================================================== */

const qs_kernels qk_avx2_table = {
    .name = "avx2",
    .minmax = minmax_avx2_top,
    .minmax_layout = minmax_layout_avx2,
    .hist = hist_avx2,
    .quantize = quantize_avx2,
    .dequantize = dequantize_avx2,
    .fakequant = fakequant_avx2,
    .errstats = errstats_avx2,
    .f32_to_f16 = f32_to_f16_avx2,
    .f16_to_f32 = f16_to_f32_avx2,
    .f32_to_bf16 = f32_to_bf16_avx2,
    .bf16_to_f32 = bf16_to_f32_avx2,
    .cb4_encode = cb4_encode_avx2,
    .cb4_decode = cb4_decode_avx2,
    .gemm_u8s8 = qk_gemm_u8s8_avx2,
    .sgemm = qk_sgemm_avx2,
};

/* ======================================================================================
 * The avx512 and vnni tables are quant_avx512.c's (this file's element kernels compiled
 * again with the AVX-512 flags, quantize and the fused pass widened). The vnni256 table
 * (AVX-VNNI without AVX-512) is the avx2 one with the 256-bit vpdpbusd GEMM; see README.md
 * "Tiers" for what each entry of each table runs.
 * ====================================================================================== */

const qs_kernels qk_vnni256_table = {
    .name = "vnni256",
    .minmax = minmax_avx2_top,
    .minmax_layout = minmax_layout_avx2,
    .hist = hist_avx2,
    .quantize = quantize_avx2,
    .dequantize = dequantize_avx2,
    .fakequant = fakequant_avx2,
    .errstats = errstats_avx2,
    .f32_to_f16 = f32_to_f16_avx2,
    .f16_to_f32 = f16_to_f32_avx2,
    .f32_to_bf16 = f32_to_bf16_avx2,
    .bf16_to_f32 = bf16_to_f32_avx2,
    .cb4_encode = cb4_encode_avx2,
    .cb4_decode = cb4_decode_avx2,
    .gemm_u8s8 = qk_gemm_u8s8_avxvnni,
    .sgemm = qk_sgemm_avx2,
};

/* test-only (qs_k_emulated): the avx2 table with the wide GEMMs' emulated instances */
#define QK_EMU_TABLE(nm, gi, sg) {                                                     \
    .name = nm, .minmax = minmax_avx2_top, .minmax_layout = minmax_layout_avx2,         \
    .hist = hist_avx2, .quantize = quantize_avx2, .dequantize = dequantize_avx2,        \
    .fakequant = fakequant_avx2, .errstats = errstats_avx2,                             \
    .f32_to_f16 = f32_to_f16_avx2, .f16_to_f32 = f16_to_f32_avx2,                       \
    .f32_to_bf16 = f32_to_bf16_avx2, .bf16_to_f32 = bf16_to_f32_avx2,                   \
    .cb4_encode = cb4_encode_avx2, .cb4_decode = cb4_decode_avx2,                       \
    .gemm_u8s8 = gi, .sgemm = sg }
const qs_kernels qk_emu_tables[3] = {
    QK_EMU_TABLE("avx512-emulated", qk_gemm_u8s8_avx2, qk_sgemm_emu512),
    QK_EMU_TABLE("vnni-emulated", qk_gemm_u8s8_emuvnni, qk_sgemm_emu512),
    QK_EMU_TABLE("vnni256-emulated", qk_gemm_u8s8_emuavxvnni, qk_sgemm_avx2),
};
#endif /* QK_W512 */
