/* zemu.h — test-only, internal to src/kernels: a scalar emulation of the AVX-512 intrinsics
 * that the avx512 / vnni sources use (quant_avx512.c, cvt_avx512.c, gemm_avx512.c and
 * gemm_vnni.c without its asm k loop), so that their own source — masks, tails, lane
 * layouts, packing — runs and is compared with `_ref` on a machine without AVX-512 (the
 * *_zemu_avx2.c instances behind qs_k_emulated(3) and (4)). Each function follows the
 * operation of the Intel Intrinsics Guide / SDM for its instruction, lane by lane:
 *   vminps / vmaxps: SRC1 < SRC2 ? SRC1 : SRC2 (resp. >), so NaN or equal operands give SRC2;
 *   vcvttps2dq: NaN and out-of-range give 0x80000000; vrndscaleps with scale 0: the
 *   rounding of imm8[1:0] (nearest even, down, up, toward zero) whatever MXCSR.RC says,
 *   while the arithmetic and vcvtdq2ps follow MXCSR as the instructions do; vpmovdb /
 *   vpmovdw truncate;
 *   vpdpbusd adds four u8·s8 products into each int32 lane, wrapping; masked loads read
 *   only the selected lanes (no fault, no ASan report past the end), masked stores write
 *   only those; aligned loads and stores abort on a misaligned address.
 * vcvtps2ph / vcvtph2ps run F16C's 256-bit instructions on each half (the same per-lane
 * operation). Include before any source that uses the intrinsics; built with the AVX2 flags.
 * Slow (a call and a lane loop per operation): sizes in tests are chosen for it. */
#ifndef QSCOPE_ZEMU_H
#define QSCOPE_ZEMU_H
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef union zv {
    float f[16];
    double d[8];
    int32_t i32[16];
    uint32_t u32[16];
    int16_t i16[32];
    int8_t i8[64];
    uint8_t u8[64];
} zv;

/* not inlined: inlined, the emulated fused pass took minutes to compile under ASan */
#define ZI static __attribute__((noinline, unused))
#define ZL(i) for (int i = 0; i < 16; i++)
#define ZM(m, i) (((unsigned)(m) >> (i)) & 1u)

ZI void z_aligned(const void *p) { if ((uintptr_t)p & 63) abort(); }

ZI zv z_setzero_ps(void) { zv r; memset(&r, 0, sizeof r); return r; }
ZI zv z_setzero_si512(void) { return z_setzero_ps(); }
ZI zv z_set1_ps(float x) { zv r; ZL(i) r.f[i] = x; return r; }
ZI zv z_set1_epi32(int32_t x) { zv r; ZL(i) r.i32[i] = x; return r; }
ZI zv z_setr_ps(float a0, float a1, float a2, float a3, float a4, float a5, float a6, float a7,
                float a8, float a9, float a10, float a11, float a12, float a13, float a14,
                float a15)
{
    zv r = { { a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15 } };
    return r;
}
ZI zv z_setr_epi32(int32_t a0, int32_t a1, int32_t a2, int32_t a3, int32_t a4, int32_t a5,
                   int32_t a6, int32_t a7, int32_t a8, int32_t a9, int32_t a10, int32_t a11,
                   int32_t a12, int32_t a13, int32_t a14, int32_t a15)
{
    int32_t t[16] = { a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15 };
    zv r;
    memcpy(r.i32, t, sizeof t);
    return r;
}

/* loads and stores */
ZI zv z_loadu_ps(const void *p) { zv r; memcpy(&r, p, 64); return r; }
ZI zv z_loadu_si512(const void *p) { return z_loadu_ps(p); }
ZI zv z_load_ps(const void *p) { z_aligned(p); return z_loadu_ps(p); }
ZI void z_storeu_ps(void *p, zv v) { memcpy(p, &v, 64); }
ZI void z_storeu_si512(void *p, zv v) { memcpy(p, &v, 64); }
ZI void z_store_ps(void *p, zv v) { z_aligned(p); memcpy(p, &v, 64); }
ZI void z_store_si512(void *p, zv v) { z_aligned(p); memcpy(p, &v, 64); }
ZI zv z_maskz_loadu_ps(__mmask16 m, const void *p)
{
    zv r = z_setzero_ps();
    const char *c = p;
    ZL(i) if (ZM(m, i)) memcpy(&r.f[i], c + 4 * i, 4);
    return r;
}
ZI zv z_maskz_loadu_epi32(__mmask16 m, const void *p) { return z_maskz_loadu_ps(m, p); }
ZI void z_mask_storeu_ps(void *p, __mmask16 m, zv v)
{
    char *c = p;
    ZL(i) if (ZM(m, i)) memcpy(c + 4 * i, &v.f[i], 4);
}
ZI void z_mask_storeu_epi32(void *p, __mmask16 m, zv v) { z_mask_storeu_ps(p, m, v); }
/* 128-bit / 256-bit masked byte and word forms (AVX512BW+VL) */
ZI __m128i z_maskz_loadu_epi8(__mmask16 m, const void *p)
{
    uint8_t t[16] = { 0 };
    const uint8_t *c = p;
    ZL(i) if (ZM(m, i)) t[i] = c[i];
    return _mm_loadu_si128((const __m128i *)t);
}
ZI void z_mask_storeu_epi8(void *p, __mmask16 m, __m128i v)
{
    uint8_t t[16], *c = p;
    _mm_storeu_si128((__m128i *)t, v);
    ZL(i) if (ZM(m, i)) c[i] = t[i];
}
ZI __m256i z_maskz_loadu_epi16(__mmask16 m, const void *p)
{
    uint16_t t[16] = { 0 };
    const char *c = p;
    ZL(i) if (ZM(m, i)) memcpy(&t[i], c + 2 * i, 2);
    return _mm256_loadu_si256((const __m256i *)t);
}
ZI void z_mask_storeu_epi16(void *p, __mmask16 m, __m256i v)
{
    uint16_t t[16];
    char *c = p;
    _mm256_storeu_si256((__m256i *)t, v);
    ZL(i) if (ZM(m, i)) memcpy(c + 2 * i, &t[i], 2);
}

/* casts (bit patterns kept) and 256-bit halves */
ZI zv z_castps_si512(zv v) { return v; }
ZI zv z_castsi512_ps(zv v) { return v; }
ZI zv z_castps_pd(zv v) { return v; }
ZI __m256 z_castps512_ps256(zv v) { return _mm256_loadu_ps(v.f); }
ZI __m256d z_castpd512_pd256(zv v) { return _mm256_loadu_pd(v.d); }
ZI __m256d z_extractf64x4_pd(zv v, int imm) { return _mm256_loadu_pd(v.d + 4 * (imm & 1)); }

/* float arithmetic */
ZI zv z_add_ps(zv a, zv b) { ZL(i) a.f[i] = a.f[i] + b.f[i]; return a; }
ZI zv z_sub_ps(zv a, zv b) { ZL(i) a.f[i] = a.f[i] - b.f[i]; return a; }
ZI zv z_mul_ps(zv a, zv b) { ZL(i) a.f[i] = a.f[i] * b.f[i]; return a; }
ZI zv z_div_ps(zv a, zv b) { ZL(i) a.f[i] = a.f[i] / b.f[i]; return a; }
ZI zv z_fmadd_ps(zv a, zv b, zv c) { ZL(i) a.f[i] = fmaf(a.f[i], b.f[i], c.f[i]); return a; }
ZI zv z_mask_add_ps(zv src, __mmask16 m, zv a, zv b)
{
    ZL(i) if (ZM(m, i)) src.f[i] = a.f[i] + b.f[i];
    return src;
}
ZI zv z_min_ps(zv a, zv b) { ZL(i) a.f[i] = a.f[i] < b.f[i] ? a.f[i] : b.f[i]; return a; }
ZI zv z_max_ps(zv a, zv b) { ZL(i) a.f[i] = a.f[i] > b.f[i] ? a.f[i] : b.f[i]; return a; }
ZI zv z_abs_ps(zv a) { ZL(i) a.u32[i] &= 0x7fffffffu; return a; }
ZI zv z_maskz_mov_ps(__mmask16 m, zv a) { ZL(i) if (!ZM(m, i)) a.u32[i] = 0; return a; }
/* nearest, ties to even, whatever MXCSR.RC says (vrndscaleps with imm8[2] = 0 takes the
 * rounding from imm8[1:0]; nearbyintf would follow MXCSR). floorf/ceilf/truncf and the
 * exact x - t do not depend on the rounding mode. NaN comes back quiet, as from hardware. */
ZI float z_rne(float x)
{
    if (isnan(x)) return x + x;
    if (!(fabsf(x) < 8388608.0f)) return x;          /* integral already, or ±Inf */
    float t = truncf(x), d = fabsf(x - t);
    if (d > 0.5f || (d == 0.5f && fmodf(t, 2.0f) != 0.0f)) t += copysignf(1.0f, x);
    return copysignf(t, x);
}
ZI zv z_roundscale_ps(zv a, int imm)
{
    if (imm & 0xf4) abort();            /* scale 0 and imm8's own rounding only */
    ZL(i) {
        float x = a.f[i];
        switch (imm & 3) {
        case 0: a.f[i] = z_rne(x); break;           /* nearest even, not MXCSR's mode */
        case 1: a.f[i] = floorf(x); break;
        case 2: a.f[i] = ceilf(x); break;
        default: a.f[i] = truncf(x); break;
        }
    }
    return a;
}
/* _mm512_reduce_max_ps is a sequence, not an instruction: GCC 12's avx512fintrin.h takes
 * vmaxps of the upper and lower 256-bit halves, then of the 128-bit halves, then of lanes
 * {2,3,0,1} and {1,0,1,0}, each max returning its second operand on NaN or equality; the
 * same tree here, so NaN and ±0 lanes give what the header's code gives */
ZI float z_max1(float a, float b) { return a > b ? a : b; }
ZI float z_reduce_max_ps(zv a)
{
    float t3[8], t6[4], t8[4];
    for (int j = 0; j < 8; j++) t3[j] = z_max1(a.f[8 + j], a.f[j]);
    for (int j = 0; j < 4; j++) t6[j] = z_max1(t3[4 + j], t3[j]);
    for (int j = 0; j < 4; j++) t8[j] = z_max1(t6[j], t6[j ^ 2]);
    return z_max1(t8[0], t8[1]);
}
/* vcmpps predicates (imm8[3:0]; bit 4 only changes which NaNs signal) */
ZI __mmask16 z_cmp_ps_mask(zv a, zv b, int p)
{
    unsigned m = 0;
    ZL(i) {
        float x = a.f[i], y = b.f[i];
        int u = isnan(x) || isnan(y), lt = x < y, eq = x == y, gt = x > y, r;
        switch (p & 15) {
        case 0: r = !u && eq; break;        case 1: r = !u && lt; break;
        case 2: r = !u && (lt || eq); break; case 3: r = u; break;
        case 4: r = u || !eq; break;        case 5: r = u || !lt; break;
        case 6: r = u || !(lt || eq); break; case 7: r = !u; break;
        case 8: r = u || eq; break;         case 9: r = u || lt; break;
        case 10: r = u || !gt; break;       case 11: r = 0; break;
        case 12: r = !u && !eq; break;      case 13: r = !u && (gt || eq); break;
        case 14: r = !u && gt; break;       default: r = 1; break;
        }
        m |= (unsigned)r << i;
    }
    return (__mmask16)m;
}

/* double */
ZI zv z_add_pd(zv a, zv b) { for (int i = 0; i < 8; i++) a.d[i] = a.d[i] + b.d[i]; return a; }
ZI zv z_cvtps_pd(__m256 v)
{
    float t[8];
    zv r;
    _mm256_storeu_ps(t, v);
    for (int i = 0; i < 8; i++) r.d[i] = (double)t[i];
    return r;
}

/* conversions */
ZI zv z_cvtepi32_ps(zv a) { ZL(i) a.f[i] = (float)a.i32[i]; return a; }
ZI zv z_cvttps_epi32(zv a)
{
    ZL(i) {
        float x = a.f[i];
        a.i32[i] = isnan(x) || x >= 2147483648.0f || x < -2147483648.0f ? INT32_MIN
                                                                          : (int32_t)x;
    }
    return a;
}
ZI __m128i z_cvtepi32_epi8(zv a)
{
    uint8_t t[16];
    ZL(i) t[i] = (uint8_t)a.u32[i];
    return _mm_loadu_si128((const __m128i *)t);
}
ZI __m256i z_cvtepi32_epi16(zv a)
{
    uint16_t t[16];
    ZL(i) t[i] = (uint16_t)a.u32[i];
    return _mm256_loadu_si256((const __m256i *)t);
}
ZI zv z_cvtepi8_epi32(__m128i v)
{
    int8_t t[16];
    zv r;
    _mm_storeu_si128((__m128i *)t, v);
    ZL(i) r.i32[i] = t[i];
    return r;
}
ZI zv z_cvtepu8_epi32(__m128i v)
{
    uint8_t t[16];
    zv r;
    _mm_storeu_si128((__m128i *)t, v);
    ZL(i) r.i32[i] = t[i];
    return r;
}
ZI zv z_cvtepu16_epi32(__m256i v)
{
    uint16_t t[16];
    zv r;
    _mm256_storeu_si256((__m256i *)t, v);
    ZL(i) r.i32[i] = t[i];
    return r;
}
ZI __m256i z_cvtps_ph(zv a, int imm)
{
    if (imm != (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)) abort();
    __m128i lo = _mm256_cvtps_ph(_mm256_loadu_ps(a.f), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m128i hi = _mm256_cvtps_ph(_mm256_loadu_ps(a.f + 8), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    return _mm256_set_m128i(hi, lo);
}
ZI zv z_cvtph_ps(__m256i v)
{
    zv r;
    _mm256_storeu_ps(r.f, _mm256_cvtph_ps(_mm256_castsi256_si128(v)));
    _mm256_storeu_ps(r.f + 8, _mm256_cvtph_ps(_mm256_extracti128_si256(v, 1)));
    return r;
}

/* integer */
ZI zv z_add_epi32(zv a, zv b) { ZL(i) a.u32[i] += b.u32[i]; return a; }
ZI zv z_sub_epi32(zv a, zv b) { ZL(i) a.u32[i] -= b.u32[i]; return a; }
ZI zv z_mullo_epi32(zv a, zv b) { ZL(i) a.u32[i] *= b.u32[i]; return a; }
ZI zv z_and_si512(zv a, zv b) { ZL(i) a.u32[i] &= b.u32[i]; return a; }
ZI zv z_or_si512(zv a, zv b) { ZL(i) a.u32[i] |= b.u32[i]; return a; }
ZI zv z_xor_si512(zv a, zv b) { ZL(i) a.u32[i] ^= b.u32[i]; return a; }
ZI zv z_srli_epi32(zv a, unsigned n) { ZL(i) a.u32[i] = n > 31 ? 0 : a.u32[i] >> n; return a; }
ZI zv z_slli_epi32(zv a, unsigned n) { ZL(i) a.u32[i] = n > 31 ? 0 : a.u32[i] << n; return a; }
ZI zv z_min_epi32(zv a, zv b) { ZL(i) a.i32[i] = a.i32[i] < b.i32[i] ? a.i32[i] : b.i32[i]; return a; }
ZI zv z_max_epi32(zv a, zv b) { ZL(i) a.i32[i] = a.i32[i] > b.i32[i] ? a.i32[i] : b.i32[i]; return a; }
ZI __mmask16 z_cmpgt_epi32_mask(zv a, zv b)
{
    unsigned m = 0;
    ZL(i) m |= (unsigned)(a.i32[i] > b.i32[i]) << i;
    return (__mmask16)m;
}
ZI zv z_mask_mov_epi32(zv src, __mmask16 m, zv a)
{
    ZL(i) if (ZM(m, i)) src.i32[i] = a.i32[i];
    return src;
}
ZI int32_t z_reduce_add_epi32(zv a)
{
    uint32_t s = 0;
    ZL(i) s += a.u32[i];
    return (int32_t)s;
}
/* vpunpck{l,h}{dq,qdq}: per 128-bit lane, the low (high) two dwords (one qword) of a and b
 * interleaved, a's first */
ZI zv z_unpacklo_epi32(zv a, zv b)
{
    zv r;
    for (int l = 0; l < 4; l++)
        for (int i = 0; i < 2; i++) {
            r.u32[4 * l + 2 * i] = a.u32[4 * l + i];
            r.u32[4 * l + 2 * i + 1] = b.u32[4 * l + i];
        }
    return r;
}
ZI zv z_unpackhi_epi32(zv a, zv b)
{
    zv r;
    for (int l = 0; l < 4; l++)
        for (int i = 0; i < 2; i++) {
            r.u32[4 * l + 2 * i] = a.u32[4 * l + 2 + i];
            r.u32[4 * l + 2 * i + 1] = b.u32[4 * l + 2 + i];
        }
    return r;
}
ZI zv z_unpacklo_epi64(zv a, zv b)
{
    zv r;
    for (int l = 0; l < 4; l++) {
        memcpy(&r.u32[4 * l], &a.u32[4 * l], 8);
        memcpy(&r.u32[4 * l + 2], &b.u32[4 * l], 8);
    }
    return r;
}
ZI zv z_unpackhi_epi64(zv a, zv b)
{
    zv r;
    for (int l = 0; l < 4; l++) {
        memcpy(&r.u32[4 * l], &a.u32[4 * l + 2], 8);
        memcpy(&r.u32[4 * l + 2], &b.u32[4 * l + 2], 8);
    }
    return r;
}
/* vshufi32x4: 128-bit lanes 0, 1 of the result from a (imm8[1:0], [3:2]), 2, 3 from b
 * (imm8[5:4], [7:6]) */
ZI zv z_shuffle_i32x4(zv a, zv b, int imm)
{
    zv r;
    for (int l = 0; l < 4; l++)
        memcpy(&r.u32[4 * l], &(l < 2 ? a : b).u32[4 * ((imm >> (2 * l)) & 3)], 16);
    return r;
}
/* 512-bit masked byte load (AVX512BW): only the bytes of set mask bits are read */
ZI zv z512_maskz_loadu_epi8(__mmask64 m, const void *p)
{
    zv r = z_setzero_si512();
    const uint8_t *c = p;
    for (int i = 0; i < 64; i++)
        if ((m >> i) & 1u) r.u8[i] = c[i];
    return r;
}
ZI zv z_load_si512(const void *p) { z_aligned(p); return z_loadu_ps(p); }
/* vpdpbusd: each int32 lane of acc plus the four products u8(a byte) · s8(b byte), wrapping */
ZI zv z_dpbusd_epi32(zv acc, zv a, zv b)
{
    ZL(i) {
        int32_t s = 0;
        for (int k = 0; k < 4; k++) s += (int32_t)a.u8[4 * i + k] * (int32_t)b.i8[4 * i + k];
        acc.u32[i] += (uint32_t)s;
    }
    return acc;
}

/* the intrinsics' names (aliases), after <immintrin.h> */
#define __m512 zv
#define __m512i zv
#define __m512d zv
#undef _mm512_abs_ps
#define _mm512_abs_ps z_abs_ps
#undef _mm512_add_epi32
#define _mm512_add_epi32 z_add_epi32
#undef _mm512_add_pd
#define _mm512_add_pd z_add_pd
#undef _mm512_add_ps
#define _mm512_add_ps z_add_ps
#undef _mm512_and_si512
#define _mm512_and_si512 z_and_si512
#undef _mm512_castpd512_pd256
#define _mm512_castpd512_pd256 z_castpd512_pd256
#undef _mm512_castps512_ps256
#define _mm512_castps512_ps256 z_castps512_ps256
#undef _mm512_castps_pd
#define _mm512_castps_pd z_castps_pd
#undef _mm512_castps_si512
#define _mm512_castps_si512 z_castps_si512
#undef _mm512_castsi512_ps
#define _mm512_castsi512_ps z_castsi512_ps
#undef _mm512_cmp_ps_mask
#define _mm512_cmp_ps_mask z_cmp_ps_mask
#undef _mm512_cmpgt_epi32_mask
#define _mm512_cmpgt_epi32_mask z_cmpgt_epi32_mask
#undef _mm512_cvtepi32_epi16
#define _mm512_cvtepi32_epi16 z_cvtepi32_epi16
#undef _mm512_cvtepi32_epi8
#define _mm512_cvtepi32_epi8 z_cvtepi32_epi8
#undef _mm512_cvtepi32_ps
#define _mm512_cvtepi32_ps z_cvtepi32_ps
#undef _mm512_cvtepi8_epi32
#define _mm512_cvtepi8_epi32 z_cvtepi8_epi32
#undef _mm512_cvtepu16_epi32
#define _mm512_cvtepu16_epi32 z_cvtepu16_epi32
#undef _mm512_cvtepu8_epi32
#define _mm512_cvtepu8_epi32 z_cvtepu8_epi32
#undef _mm512_cvtph_ps
#define _mm512_cvtph_ps z_cvtph_ps
#undef _mm512_cvtps_pd
#define _mm512_cvtps_pd z_cvtps_pd
#undef _mm512_cvtps_ph
#define _mm512_cvtps_ph z_cvtps_ph
#undef _mm512_cvttps_epi32
#define _mm512_cvttps_epi32 z_cvttps_epi32
#undef _mm512_div_ps
#define _mm512_div_ps z_div_ps
#undef _mm512_dpbusd_epi32
#define _mm512_dpbusd_epi32 z_dpbusd_epi32
#undef _mm512_extractf64x4_pd
#define _mm512_extractf64x4_pd z_extractf64x4_pd
#undef _mm512_fmadd_ps
#define _mm512_fmadd_ps z_fmadd_ps
#undef _mm512_load_ps
#define _mm512_load_ps z_load_ps
#undef _mm512_loadu_ps
#define _mm512_loadu_ps z_loadu_ps
#undef _mm512_loadu_si512
#define _mm512_loadu_si512 z_loadu_si512
#undef _mm512_mask_add_ps
#define _mm512_mask_add_ps z_mask_add_ps
#undef _mm512_mask_mov_epi32
#define _mm512_mask_mov_epi32 z_mask_mov_epi32
#undef _mm256_mask_storeu_epi16
#define _mm256_mask_storeu_epi16 z_mask_storeu_epi16
#undef _mm512_mask_storeu_epi32
#define _mm512_mask_storeu_epi32 z_mask_storeu_epi32
#undef _mm_mask_storeu_epi8
#define _mm_mask_storeu_epi8 z_mask_storeu_epi8
#undef _mm512_mask_storeu_ps
#define _mm512_mask_storeu_ps z_mask_storeu_ps
#undef _mm256_maskz_loadu_epi16
#define _mm256_maskz_loadu_epi16 z_maskz_loadu_epi16
#undef _mm512_maskz_loadu_epi32
#define _mm512_maskz_loadu_epi32 z_maskz_loadu_epi32
#undef _mm_maskz_loadu_epi8
#define _mm_maskz_loadu_epi8 z_maskz_loadu_epi8
#undef _mm512_maskz_loadu_ps
#define _mm512_maskz_loadu_ps z_maskz_loadu_ps
#undef _mm512_maskz_mov_ps
#define _mm512_maskz_mov_ps z_maskz_mov_ps
#undef _mm512_max_epi32
#define _mm512_max_epi32 z_max_epi32
#undef _mm512_max_ps
#define _mm512_max_ps z_max_ps
#undef _mm512_min_epi32
#define _mm512_min_epi32 z_min_epi32
#undef _mm512_min_ps
#define _mm512_min_ps z_min_ps
#undef _mm512_mul_ps
#define _mm512_mul_ps z_mul_ps
#undef _mm512_mullo_epi32
#define _mm512_mullo_epi32 z_mullo_epi32
#undef _mm512_or_si512
#define _mm512_or_si512 z_or_si512
#undef _mm512_reduce_add_epi32
#define _mm512_reduce_add_epi32 z_reduce_add_epi32
#undef _mm512_reduce_max_ps
#define _mm512_reduce_max_ps z_reduce_max_ps
#undef _mm512_roundscale_ps
#define _mm512_roundscale_ps z_roundscale_ps
#undef _mm512_set1_epi32
#define _mm512_set1_epi32 z_set1_epi32
#undef _mm512_set1_ps
#define _mm512_set1_ps z_set1_ps
#undef _mm512_setr_epi32
#define _mm512_setr_epi32 z_setr_epi32
#undef _mm512_setr_ps
#define _mm512_setr_ps z_setr_ps
#undef _mm512_setzero_ps
#define _mm512_setzero_ps z_setzero_ps
#undef _mm512_setzero_si512
#define _mm512_setzero_si512 z_setzero_si512
#undef _mm512_slli_epi32
#define _mm512_slli_epi32 z_slli_epi32
#undef _mm512_srli_epi32
#define _mm512_srli_epi32 z_srli_epi32
#undef _mm512_store_ps
#define _mm512_store_ps z_store_ps
#undef _mm512_store_si512
#define _mm512_store_si512 z_store_si512
#undef _mm512_storeu_ps
#define _mm512_storeu_ps z_storeu_ps
#undef _mm512_storeu_si512
#define _mm512_storeu_si512 z_storeu_si512
#undef _mm512_sub_epi32
#define _mm512_sub_epi32 z_sub_epi32
#undef _mm512_sub_ps
#define _mm512_sub_ps z_sub_ps
#undef _mm512_xor_si512
#define _mm512_xor_si512 z_xor_si512
#undef _mm512_unpacklo_epi32
#define _mm512_unpacklo_epi32 z_unpacklo_epi32
#undef _mm512_unpackhi_epi32
#define _mm512_unpackhi_epi32 z_unpackhi_epi32
#undef _mm512_unpacklo_epi64
#define _mm512_unpacklo_epi64 z_unpacklo_epi64
#undef _mm512_unpackhi_epi64
#define _mm512_unpackhi_epi64 z_unpackhi_epi64
#undef _mm512_shuffle_i32x4
#define _mm512_shuffle_i32x4 z_shuffle_i32x4
#undef _mm512_maskz_loadu_epi8
#define _mm512_maskz_loadu_epi8 z512_maskz_loadu_epi8
#undef _mm512_load_si512
#define _mm512_load_si512 z_load_si512
#endif
