/* cvt_avx512.c — tier avx512: fp16 / bf16 conversions on 512-bit registers, masked loads
 * and stores for the tails (no scalar remainder). fp16 uses vcvtps2ph / vcvtph2ps (the F16C
 * rule of the reference: nearest even, overflow to ±Inf, NaN quieted keeping the top payload
 * bits). bf16 encode keeps the integer rounding of the reference, (u + 0x7fff + lsb) >> 16
 * with NaN quieted: AVX512-BF16's vcvtneps2bf16 is NOT used, because it flushes denormal
 * inputs and outputs to zero regardless of MXCSR, which would change codes of tiny values.
 * Built with -mavx512f -mavx512bw -mavx512vl (Makefile: *_avx512.c). */
#include <immintrin.h>

#include "kint.h"

typedef struct cv_ctx {
    const void *in;
    void *out;
} cv_ctx;

static inline __mmask16 tail_mask(int64_t n) { return (__mmask16)((1u << n) - 1u); }

static void f32_to_f16_chunk(void *vc, int64_t e0, int64_t e1)
{
    const cv_ctx *c = vc;
    const float *x = c->in; uint16_t *h = c->out;
    for (int64_t e = e0; e < e1; e += 16) {
        __mmask16 m = e1 - e >= 16 ? (__mmask16)0xffff : tail_mask(e1 - e);
        __m512 v = _mm512_maskz_loadu_ps(m, x + e);
        __m256i r = _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm256_mask_storeu_epi16(h + e, m, r);
    }
}
static void f16_to_f32_chunk(void *vc, int64_t e0, int64_t e1)
{
    const cv_ctx *c = vc;
    const uint16_t *h = c->in; float *x = c->out;
    for (int64_t e = e0; e < e1; e += 16) {
        __mmask16 m = e1 - e >= 16 ? (__mmask16)0xffff : tail_mask(e1 - e);
        __m256i v = _mm256_maskz_loadu_epi16(m, h + e);
        _mm512_mask_storeu_ps(x + e, m, _mm512_cvtph_ps(v));
    }
}
static void f32_to_bf16_chunk(void *vc, int64_t e0, int64_t e1)
{
    const cv_ctx *c = vc;
    const float *x = c->in; uint16_t *b = c->out;
    const __m512i one = _mm512_set1_epi32(1), bias = _mm512_set1_epi32(0x7fff);
    const __m512i quiet = _mm512_set1_epi32(0x00400000), absm = _mm512_set1_epi32(0x7fffffff);
    const __m512i inf = _mm512_set1_epi32(0x7f800000);
    for (int64_t e = e0; e < e1; e += 16) {
        __mmask16 m = e1 - e >= 16 ? (__mmask16)0xffff : tail_mask(e1 - e);
        __m512i u = _mm512_maskz_loadu_epi32(m, x + e);
        __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), one);
        __m512i r = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(u, bias), lsb), 16);
        __m512i qn = _mm512_srli_epi32(_mm512_or_si512(u, quiet), 16);
        __mmask16 isnan = _mm512_cmpgt_epi32_mask(_mm512_and_si512(u, absm), inf);
        r = _mm512_mask_mov_epi32(r, isnan, qn);
        _mm256_mask_storeu_epi16(b + e, m, _mm512_cvtepi32_epi16(r));
    }
}
static void bf16_to_f32_chunk(void *vc, int64_t e0, int64_t e1)
{
    const cv_ctx *c = vc;
    const uint16_t *b = c->in; float *x = c->out;
    for (int64_t e = e0; e < e1; e += 16) {
        __mmask16 m = e1 - e >= 16 ? (__mmask16)0xffff : tail_mask(e1 - e);
        __m512i u = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, b + e));
        _mm512_mask_storeu_epi32(x + e, m, _mm512_slli_epi32(u, 16));
    }
}

void qk_f32_to_f16_avx512(const float *x, int64_t n, uint16_t *h)
{ cv_ctx c = { x, h }; qk_run_range(n, f32_to_f16_chunk, &c); }
void qk_f16_to_f32_avx512(const uint16_t *h, int64_t n, float *x)
{ cv_ctx c = { h, x }; qk_run_range(n, f16_to_f32_chunk, &c); }
void qk_f32_to_bf16_avx512(const float *x, int64_t n, uint16_t *b)
{ cv_ctx c = { x, b }; qk_run_range(n, f32_to_bf16_chunk, &c); }
void qk_bf16_to_f32_avx512(const uint16_t *b, int64_t n, float *x)
{ cv_ctx c = { b, x }; qk_run_range(n, bf16_to_f32_chunk, &c); }
