/* quant_avx512.c — tier avx512 (and vnni): quantize, dequantize and the fused fake-quant +
 * statistics + error-histogram pass on 512-bit registers, and the avx512 / vnni dispatch
 * tables. Everything else of those tables (minmax, histograms, errstats, codebooks, and the
 * fused pass's driver, histogram counter increments, edge fixes, max rescans and short runs)
 * is quant_avx2.c's code, included into this file with QK_W512 and so compiled again with
 * the AVX-512 flags; there its fakequant_run calls this file's fq_blocks (zmm blocks).
 *
 * The same float operations in the same order as kint.h's scalar rules and quant_avx2.c
 * (vmulps / vdivps, vrndscaleps with the four roundings, clamp in float, vcvttps2dq, + zp),
 * so codes and dequantized values are bit-identical with `_ref`; tails are masked (no scalar
 * remainder). Statistics: float lanes of 16, each summing 4 terms per group of 64 elements,
 * folded into the double accumulators (within QS_K_SUM_RTOL, as quant_avx2.c's 8 terms).
 * Only AVX-512 F/BW/VL instructions (no DQ: float and/or go through the integer forms).
 *
 * Built with -mavx512f -mavx512bw -mavx512vl (Makefile: *_avx512.c). quant_zemu_avx2.c
 * compiles this same source with QK_ZEMU and zemu.h (a scalar emulation of the AVX-512
 * intrinsics used here, test-only), so an AVX2-only machine runs it against `_ref`. */
#ifndef QK_ZEMU
#include <immintrin.h>
#define QZ(n) n##_avx512
#else
#define QZ(n) n##_zemu
#endif

#define QK_W512 1
/* quant_avx2.c's kernels that only its own tables use (its quantize, fused pass and
 * conversions) are not used here */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "quant_avx2.c"
#pragma GCC diagnostic pop

/* parameters of one run as 16-lane vectors */
typedef struct qv16 {
    __m512 sm, scale;       /* scale (divide) or inv (multiply); step */
    __m512i zp;             /* zero points */
    __m512 lo, hi;          /* float clamp range [qmin-zp-1, qmax-zp+1] */
    __m512 cl, ch;          /* qmin-zp, qmax-zp */
} qv16;

AI __m512 w_set1(float x) { return _mm512_set1_ps(x); }

/* the parameter vectors of run s at offset j (stride 1: lanes m only; others 0) */
AI void qv16_load(qv16 *v, const qs_qp *qp, const qk_seg *s, int64_t j, __mmask16 m,
                  __m512i qmin, __m512i qmax)
{
    const float *smp = qp->divide ? qp->scale : qp->inv;
    if (s->stride == 0) {
        v->sm = _mm512_set1_ps(smp[s->p]);
        v->scale = _mm512_set1_ps(qp->scale[s->p]);
        v->zp = _mm512_set1_epi32(qp->zp[s->p]);
    } else {
        v->sm = _mm512_maskz_loadu_ps(m, smp + s->p + j);
        v->scale = _mm512_maskz_loadu_ps(m, qp->scale + s->p + j);
        v->zp = _mm512_maskz_loadu_epi32(m, qp->zp + s->p + j);
    }
    const __m512i one = _mm512_set1_epi32(1);
    v->cl = _mm512_cvtepi32_ps(_mm512_sub_epi32(qmin, v->zp));
    v->ch = _mm512_cvtepi32_ps(_mm512_sub_epi32(qmax, v->zp));
    v->lo = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_sub_epi32(qmin, v->zp), one));
    v->hi = _mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_sub_epi32(qmax, v->zp), one));
}

/* stochastic numbers of elements e..e+15 (kint.h qk_uniform) */
AI __m512 uniform16(uint64_t seed, uint64_t e)
{
    if ((e >> 32) != ((e + 15) >> 32)) {         /* crosses a 2^32 boundary: scalar */
        float u[16];
        for (int j = 0; j < 16; j++) u[j] = qk_uniform(seed, e + (uint64_t)j);
        return _mm512_loadu_ps(u);
    }
    __m512i k = _mm512_add_epi32(_mm512_set1_epi32((int32_t)(uint32_t)e),
                                 _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                                                   13, 14, 15));
    __m512i h = _mm512_add_epi32(_mm512_mullo_epi32(k, _mm512_set1_epi32((int32_t)0x9E3779B1u)),
                                 _mm512_set1_epi32((int32_t)qk_seed_word(seed, e)));
    h = _mm512_xor_si512(h, _mm512_srli_epi32(h, 16));
    h = _mm512_mullo_epi32(h, _mm512_set1_epi32((int32_t)0x85EBCA6Bu));
    h = _mm512_xor_si512(h, _mm512_srli_epi32(h, 13));
    h = _mm512_mullo_epi32(h, _mm512_set1_epi32((int32_t)0xC2B2AE35u));
    h = _mm512_xor_si512(h, _mm512_srli_epi32(h, 16));
    return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(h, 8)), _mm512_set1_ps(0x1p-24f));
}

/* codes of 16 elements (NaN lanes: zp); *clip: clipped lanes; *nanm: NaN lanes. fc: the code
 * range around zp is exact in float (quant8_fc's shortcut), else quant8's integer clamp. */
AI __m512i quant16(const qv16 *c, __m512i qmin, __m512i qmax, __m512 x, uint64_t seed,
                   uint64_t e, __mmask16 *clip, __mmask16 *nanm, const int fc, const int rv,
                   const int dv)
{
    __m512 v = dv ? _mm512_div_ps(x, c->sm) : _mm512_mul_ps(x, c->sm);
    __m512 r;
    if (rv == 1) {                      /* half away from zero */
        __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        __m512 d = _mm512_sub_ps(v, t);                          /* exact fraction */
        __mmask16 ge = _mm512_cmp_ps_mask(_mm512_abs_ps(d), w_set1(0.5f), _CMP_GE_OQ);
        __m512i sgn = _mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32(INT32_MIN));
        __m512 one = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(w_set1(1.0f)), sgn));
        r = _mm512_mask_add_ps(t, ge, t, one);
    } else if (rv == 2) {               /* half up */
        r = _mm512_roundscale_ps(_mm512_add_ps(v, w_set1(0.5f)),
                                 _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    } else if (rv == 3) {               /* stochastic */
        r = _mm512_roundscale_ps(_mm512_add_ps(v, uniform16(seed, e)),
                                 _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    } else {
        r = _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    }
    __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
    *nanm = nan;
    __m512i q;
    if (fc) {
        /* r is integral (or ±inf): it clips exactly when r < qmin-zp or r > qmax-zp; NaN
         * compares false */
        *clip = _mm512_cmp_ps_mask(r, c->cl, _CMP_LT_OQ) | _mm512_cmp_ps_mask(r, c->ch, _CMP_GT_OQ);
        r = _mm512_min_ps(_mm512_max_ps(r, c->cl), c->ch);
        q = _mm512_add_epi32(_mm512_cvttps_epi32(r), c->zp);
    } else {
        r = _mm512_min_ps(_mm512_max_ps(r, c->lo), c->hi);     /* NaN → lo; replaced below */
        q = _mm512_add_epi32(_mm512_cvttps_epi32(r), c->zp);
        __mmask16 out = _mm512_cmpgt_epi32_mask(qmin, q) | _mm512_cmpgt_epi32_mask(q, qmax);
        *clip = (__mmask16)(out & ~nan);
        q = _mm512_min_epi32(_mm512_max_epi32(q, qmin), qmax);
    }
    return _mm512_mask_mov_epi32(q, nan, c->zp);
}

/* 16 codes (low bytes of the int32 lanes) → 16 bytes; stream: non-temporal (16-aligned) */
AI void store_codes16(uint8_t *dst, __m512i q, int stream)
{
    __m128i b = _mm512_cvtepi32_epi8(q);
    if (stream) _mm_stream_si128((__m128i *)dst, b);
    else _mm_storeu_si128((__m128i *)dst, b);
}
AI void store_ps16(float *dst, __m512 v, int stream)
{
    if (stream) {
        store_ps8(dst, _mm512_castps512_ps256(v), 1);
        store_ps8(dst + 8, _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)), 1);
    } else {
        _mm512_storeu_ps(dst, v);
    }
}
AI __mmask16 tmask(int64_t n) { return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1u); }

/* ======================================================================================
 * quantize / dequantize
 * ====================================================================================== */

AI void quantize_run16(const q_ctx *c, int64_t e0, int64_t e1, const int fc, const int rv,
                       const int dv)
{
    const qs_qp *qp = c->qp;
    const __m512i qmin = _mm512_set1_epi32(qp->qmin), qmax = _mm512_set1_epi32(qp->qmax);
    const uint64_t seed = qp->seed;
    const int stream = c->stream;
    __mmask16 clip, nanm;
    qv16 v;
    for (int64_t e = e0; e < e1;) {
        qk_seg s = qk_segment(c->l, e, e1);
        const float *x = c->x + e;
        uint8_t *o = c->codes + e;
        uint64_t ue = (uint64_t)e;
        int64_t j = 0;
        if (s.stride == 0) {            /* one parameter set: hoisted out of the loop */
            qv16_load(&v, qp, &s, 0, 0xffff, qmin, qmax);
            for (; j + 64 <= s.n; j += 64) {
                _mm_prefetch((const char *)(x + j + QK_PF), _MM_HINT_T0);
                _mm_prefetch((const char *)(x + j + QK_PF + 16), _MM_HINT_T0);
                _mm_prefetch((const char *)(x + j + QK_PF + 32), _MM_HINT_T0);
                _mm_prefetch((const char *)(x + j + QK_PF + 48), _MM_HINT_T0);
                for (int u = 0; u < 4; u++)
                    store_codes16(o + j + 16 * u,
                                  quant16(&v, qmin, qmax, _mm512_loadu_ps(x + j + 16 * u), seed,
                                          ue + (uint64_t)(j + 16 * u), &clip, &nanm, fc, rv, dv),
                                  stream);
            }
            for (; j < s.n; j += 16) {
                __mmask16 m = tmask(s.n - j);
                __m512i q = quant16(&v, qmin, qmax, _mm512_maskz_loadu_ps(m, x + j), seed,
                                    ue + (uint64_t)j, &clip, &nanm, fc, rv, dv);
                _mm_mask_storeu_epi8(o + j, m, _mm512_cvtepi32_epi8(q));
            }
        } else {
            for (; j < s.n; j += 16) {
                __mmask16 m = tmask(s.n - j);
                qv16_load(&v, qp, &s, j, m, qmin, qmax);
                __m512i q = quant16(&v, qmin, qmax, _mm512_maskz_loadu_ps(m, x + j), seed,
                                    ue + (uint64_t)j, &clip, &nanm, fc, rv, dv);
                _mm_mask_storeu_epi8(o + j, m, _mm512_cvtepi32_epi8(q));
            }
        }
        e += s.n;
    }
    if (stream) _mm_sfence();
}
AI void quantize_run16_fc(const q_ctx *c, int64_t e0, int64_t e1, const int rv, const int dv)
{
    quantize_run16(c, e0, e1, 1, rv, dv);
}
AI void quantize_run16_gen(const q_ctx *c, int64_t e0, int64_t e1, const int rv, const int dv)
{
    quantize_run16(c, e0, e1, 0, rv, dv);
}
/* fc for every parameter set (per-channel zero points usually share the code range) */
static int fc_all(const qs_layout *l, const qs_qp *qp)
{
    int64_t np = qs_layout_nparams(l);
    for (int64_t p = 0; p < np; p++)
        if (!fc_ok(qp, p)) return 0;
    return 1;
}
typedef struct q16_ctx {
    q_ctx c;
    int fc;
} q16_ctx;
static void quantize_chunk16(void *vc, int64_t e0, int64_t e1)
{
    const q16_ctx *c = vc;
    if (c->fc) QK_VARIANT(c->c.qp, quantize_run16_fc, &c->c, e0, e1);
    else QK_VARIANT(c->c.qp, quantize_run16_gen, &c->c, e0, e1);
}
static void QZ(quantize)(const float *x, const qs_layout *l, const qs_qp *qp, uint8_t *codes)
{
    int64_t n = qs_layout_numel(l);
    q16_ctx c = { { x, l, qp, codes, NULL, NULL,
                    l->gran == QS_G_TENSOR && n >= QK_NT_MIN && ((uintptr_t)codes & 15) == 0 },
                  fc_all(l, qp) };
    qk_run_range(n, quantize_chunk16, &c);
}

static void dequantize_chunk16(void *vc, int64_t e0, int64_t e1)
{
    const q_ctx *c = vc;
    const qs_qp *qp = c->qp;
    int sgn = qp->qmin < 0;
    const __m512i qmin = _mm512_set1_epi32(qp->qmin), qmax = _mm512_set1_epi32(qp->qmax);
    qv16 v;
    memset(&v, 0, sizeof v);
    for (int64_t e = e0; e < e1;) {
        qk_seg s = qk_segment(c->l, e, e1);
        if (s.stride == 0) qv16_load(&v, qp, &s, 0, 0xffff, qmin, qmax);
        for (int64_t j = 0; j < s.n; j += 16) {
            __mmask16 m = tmask(s.n - j);
            if (s.stride) qv16_load(&v, qp, &s, j, m, qmin, qmax);
            __m128i b = _mm_maskz_loadu_epi8(m, c->cin + e + j);
            __m512i q = sgn ? _mm512_cvtepi8_epi32(b) : _mm512_cvtepu8_epi32(b);
            __m512 y = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(q, v.zp)), v.scale);
            if (m == 0xffff) store_ps16(c->y + e + j, y, c->stream);
            else _mm512_mask_storeu_ps(c->y + e + j, m, y);
        }
        e += s.n;
    }
    if (c->stream) _mm_sfence();
}
static void QZ(dequantize)(const uint8_t *codes, const qs_layout *l, const qs_qp *qp, float *y)
{
    int64_t n = qs_layout_numel(l);
    q_ctx c = { NULL, l, qp, NULL, codes, y,
                l->gran == QS_G_TENSOR && n >= QK_NT_MIN && ((uintptr_t)y & 15) == 0 };
    qk_run_range(n, dequantize_chunk16, &c);
}

/* ======================================================================================
 * The fused pass: quant_avx2.c's structure (blocks of QB elements under one parameter set:
 * quantize pass, statistics pass with the histogram's counter indices, counter increments)
 * with the first two passes on 16 lanes.
 * ====================================================================================== */

/* 16 float lanes added into 4 double lanes */
AI __m256d fold16(__m256d acc, __m512 s)
{
    __m512d d = _mm512_add_pd(
        _mm512_cvtps_pd(_mm512_castps512_ps256(s)),
        _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(s), 1))));
    return _mm256_add_pd(acc, _mm256_add_pd(_mm512_castpd512_pd256(d),
                                            _mm512_extractf64x4_pd(d, 1)));
}
/* float statistics and counter indices of a block (fq_stats_f on 16 lanes; the same
 * rules: groups of 64 elements, edge groups and possible new maxima redone in double by
 * quant_avx2.c's fq_bin_fix and fq_max_rescan) */
AI void fq_stats_f16(sacc *a, const hbin *hb, const float *x, const float *yb, uint32_t *ib,
                     const uint32_t *pend, const int clean)
{
    __m512 mx = _mm512_setzero_ps();
    __m512 fsc = _mm512_set1_ps(0.0f), fc = fsc, ftlo = fsc, fthi = fsc, fthr = fsc, fl = fsc;
    if (hb) {
        fsc = _mm512_set1_ps(_mm256_cvtss_f32(hb->fsc));
        fc = _mm512_set1_ps(_mm256_cvtss_f32(hb->fc));
        ftlo = _mm512_set1_ps(_mm256_cvtss_f32(hb->ftlo));
        fthi = _mm512_set1_ps(_mm256_cvtss_f32(hb->fthi));
        fthr = _mm512_set1_ps(_mm256_cvtss_f32(hb->fthr));
        fl = _mm512_setr_ps(8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);
    }
    const __m512 eight = _mm512_set1_ps(8.0f);
    unsigned nr = 0;                    /* groups of 64 with a lane near a bin edge */
    int64_t nnan = 0;
    __m512d sd = _mm512_castps_pd(_mm512_setzero_ps());   /* Σe in double, as fq_stats_f */
    for (int g = 0; g < QB; g += 64) {
        __m512 x2 = _mm512_setzero_ps(), y2 = x2, xy = x2, e2 = x2;
        __mmask16 near = 0;
        for (int b = g; b < g + 64; b += 16) {
            if (pend) {         /* the previous block's increments, as in fq_stats_f */
                hbin_inc8(hb->t, pend + b);
                hbin_inc8(hb->t, pend + b + 8);
            }
            __m512 xv = _mm512_loadu_ps(x + b), yv = _mm512_load_ps(yb + b);
            if (!clean) {
                __mmask16 nanm = _mm512_cmp_ps_mask(xv, xv, _CMP_UNORD_Q);
                xv = _mm512_maskz_mov_ps((__mmask16)~nanm, xv);
                yv = _mm512_maskz_mov_ps((__mmask16)~nanm, yv);
                nnan += __builtin_popcount(nanm);
            }
            __m512 e = _mm512_sub_ps(yv, xv);
            x2 = _mm512_fmadd_ps(xv, xv, x2);
            y2 = _mm512_fmadd_ps(yv, yv, y2);
            xy = _mm512_fmadd_ps(xv, yv, xy);
            sd = _mm512_add_pd(sd, _mm512_add_pd(
                _mm512_cvtps_pd(_mm512_castps512_ps256(e)),
                _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1)))));
            e2 = _mm512_fmadd_ps(e, e, e2);
            mx = _mm512_max_ps(_mm512_abs_ps(e), mx);
            if (hb) {
                /* vmaxps / vminps return the second operand for NaN: NaN t stays NaN */
                __m512 t = _mm512_fmadd_ps(e, fsc, fc);
                t = _mm512_min_ps(fthi, _mm512_max_ps(ftlo, t));
                __m512 r = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
                near |= _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_sub_ps(t, r)), fthr, _CMP_NLT_UQ);
                _mm512_store_si512((void *)(ib + b), _mm512_cvttps_epi32(_mm512_fmadd_ps(r, eight, fl)));
            }
        }
        if (near) nr |= 1u << (g / 64);
        a->x2 = fold16(a->x2, x2);
        a->y2 = fold16(a->y2, y2);
        a->xy = fold16(a->xy, xy);
        a->e2 = fold16(a->e2, e2);
    }
    a->e = _mm256_add_pd(a->e, _mm256_add_pd(_mm512_castpd512_pd256(sd),
                                             _mm512_extractf64x4_pd(sd, 1)));
    if (nnan) a->nan = _mm256_sub_epi32(a->nan, _mm256_setr_epi32((int32_t)nnan, 0, 0, 0, 0, 0, 0, 0));
    float m = _mm512_reduce_max_ps(mx);
    if (m > 0.0f && m >= a->mthr) fq_max_rescan(a, x, yb);
    if (nr) fq_bin_fix(hb, x, yb, ib, nr);
}

/* one block; returns whether its increments are pending (fq_block's rule) */
AI int fq_block16(const qv16 *v, __m512i qmin, __m512i qmax, sacc *a, hbin *hb,
                  const float *x, float *y, uint8_t *codes, int64_t e, uint64_t seed,
                  int stream, float *yb, uint32_t *ib, const uint32_t *pend, int fstat,
                  const int fc, const int rv, const int dv)
{
    __mmask16 anynan = 0;
    int64_t clips = 0;
    for (int b = 0; b < QB; b += 16) {
        __mmask16 clip, nanm;
        /* the hardware prefetcher alone left the 16M-element pass at 1.9 ns per element on
         * one core of the Xeon (1.0 with the data in cache); 4 KB ahead: 1.14 */
        _mm_prefetch((const char *)(x + e + b + QK_PF), _MM_HINT_T0);
        __m512 xv = _mm512_loadu_ps(x + e + b);
        __m512i q = quant16(v, qmin, qmax, xv, seed, (uint64_t)(e + b), &clip, &nanm, fc, rv, dv);
        __m512 yv = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(q, v->zp)), v->scale);
        _mm512_store_ps(yb + b, yv);
        if (y) store_ps16(y + e + b, yv, stream);
        if (codes) store_codes16(codes + e + b, q, stream);
        clips += __builtin_popcount(clip);
        anynan |= nanm;
    }
    a->clip = _mm256_sub_epi32(a->clip, _mm256_setr_epi32((int32_t)clips, 0, 0, 0, 0, 0, 0, 0));
    if (!fstat || (hb && !hb->fok)) {
        if (!anynan) fq_stats(a, hb, x + e, yb, ib, 1);
        else fq_stats(a, hb, x + e, yb, ib, 0);
        if (hb) hbin_add_idx(hb, ib);
        return 0;
    }
    if (!hb) pend = NULL;
    if (!anynan) fq_stats_f16(a, hb, x + e, yb, ib, pend, 1);
    else fq_stats_f16(a, hb, x + e, yb, ib, pend, 0);
    return hb != NULL;
}

/* the whole blocks of a run (quant_avx2.c's fakequant_run calls this in place of its AVX2
 * fq_blocks: runs shorter than QB, the per-element parameter runs and histograms too large
 * for the private tables take that file's AVX2 route) */
AI int64_t fq_blocks(const qv *v, __m256i qmin, __m256i qmax, sacc *a, hbin *hb,
                     const float *x, float *y, uint8_t *codes, int64_t e, int64_t s_n,
                     const qs_qp *qp, int64_t p, uint64_t seed, int stream, float *yb,
                     uint32_t *ib, int fstat, const int rv, const int dv)
{
    (void)v; (void)qmin; (void)qmax;
    if (s_n < QB) return 0;
    const __m512i qmin16 = _mm512_set1_epi32(qp->qmin), qmax16 = _mm512_set1_epi32(qp->qmax);
    qk_seg s = { s_n, p, 0 };
    qv16 v16;
    qv16_load(&v16, qp, &s, 0, 0xffff, qmin16, qmax16);
    int64_t j = 0;
    const uint32_t *pend = NULL;        /* two index buffers in turn, as in quant_avx2.c */
    int cur = 0;
    if (fc_ok(qp, p))
        for (; j + QB <= s_n; j += QB, cur ^= 1)
            pend = fq_block16(&v16, qmin16, qmax16, a, hb, x, y, codes, e + j, seed, stream,
                              yb, ib + cur * QB, pend, fstat, 1, rv, dv) ? ib + cur * QB : NULL;
    else
        for (; j + QB <= s_n; j += QB, cur ^= 1)
            pend = fq_block16(&v16, qmin16, qmax16, a, hb, x, y, codes, e + j, seed, stream,
                              yb, ib + cur * QB, pend, fstat, 0, rv, dv) ? ib + cur * QB : NULL;
    if (pend) hbin_add_idx(hb, pend);
    return j;
}

/* ======================================================================================
 * Tables
 * ====================================================================================== */

/* fakequant_avx2 here is quant_avx2.c's driver compiled in this file: its blocks are
 * fq_blocks above (zmm) */
#define QK_W512_TABLE(nm, qz, dqz, cv, gi, sg) {                                           \
    .name = nm, .minmax = minmax_avx2_top, .minmax_layout = minmax_layout_avx2,         \
    .hist = hist_avx2, .quantize = qz, .dequantize = dqz, .fakequant = fakequant_avx2,  \
    .errstats = errstats_avx2,                                                          \
    .f32_to_f16 = qk_f32_to_f16_##cv, .f16_to_f32 = qk_f16_to_f32_##cv,                 \
    .f32_to_bf16 = qk_f32_to_bf16_##cv, .bf16_to_f32 = qk_bf16_to_f32_##cv,             \
    .cb4_encode = cb4_encode_avx2, .cb4_decode = cb4_decode_avx2,                       \
    .gemm_u8s8 = gi, .sgemm = sg }
#ifndef QK_ZEMU
const qs_kernels qk_avx512_table = QK_W512_TABLE("avx512", quantize_avx512, dequantize_avx512,
                                                 avx512, qk_gemm_u8s8_avx2, qk_sgemm_avx512);
const qs_kernels qk_vnni_table = QK_W512_TABLE("vnni", quantize_avx512, dequantize_avx512,
                                               avx512, qk_gemm_u8s8_vnni, qk_sgemm_avx512);
/* the vnni table with the int8 GEMM on AMX tiles (gemm_amx.c); the fp32 sgemm stays avx512's
 * (bit-identical to avx2's) */
const qs_kernels qk_amx_table = QK_W512_TABLE("amx", quantize_avx512, dequantize_avx512,
                                              avx512, qk_gemm_u8s8_amx, qk_sgemm_avx512);
#else
/* test-only (qs_k_emulated(3), (4), (5)): the avx512, vnni and amx tables with every AVX-512 source
 * (this file, cvt_avx512.c, gemm_avx512.c, gemm_vnni.c without its asm k loop) compiled
 * over zemu.h's scalar emulation of the intrinsics */
const qs_kernels qk_zemu_tables[3] = {
    QK_W512_TABLE("avx512-zemu", quantize_zemu, dequantize_zemu, zemu, qk_gemm_u8s8_avx2,
                  qk_sgemm_zemu),
    QK_W512_TABLE("vnni-zemu", quantize_zemu, dequantize_zemu, zemu, qk_gemm_u8s8_vnni_zemu,
                  qk_sgemm_zemu),
    /* + gemm_amx.c over zemu.h and amxemu.h (gemmamx_zemu_avx2.c) */
    QK_W512_TABLE("amx-zemu", quantize_zemu, dequantize_zemu, zemu, qk_gemm_u8s8_amx_zemu,
                  qk_sgemm_zemu),
};
#endif
