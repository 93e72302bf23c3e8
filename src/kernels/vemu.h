/* vemu.h — internal to src/kernels: AVX2 emulations used by the test-only instances of
 * vgemm.h (gemm_vemu*_avx2.c). */
#ifndef QSCOPE_VEMU_H
#define QSCOPE_VEMU_H
#include <immintrin.h>
#include <stdint.h>

/* vpdpbusd: acc (int32 lanes) + Σ_{b=0..3} u8(a byte b) · s8(b byte b), wrapping */
static inline __m256i qk_emu_dpbusd(__m256i acc, __m256i a, __m256i b)
{
    __m256i ae = _mm256_and_si256(a, _mm256_set1_epi16(0x00ff));     /* bytes 0, 2: u8 */
    __m256i ao = _mm256_srli_epi16(a, 8);                              /* bytes 1, 3: u8 */
    __m256i be = _mm256_srai_epi16(_mm256_slli_epi16(b, 8), 8);        /* bytes 0, 2: s8 */
    __m256i bo = _mm256_srai_epi16(b, 8);                              /* bytes 1, 3: s8 */
    return _mm256_add_epi32(acc, _mm256_add_epi32(_mm256_madd_epi16(ae, be),
                                                  _mm256_madd_epi16(ao, bo)));
}
static inline int32_t qk_hsum256(__m256i v)
{
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

/* a 512-bit vector as two 256-bit halves (lanes 0..7 in lo, 8..15 in hi) */
typedef struct { __m256 lo, hi; } qk_vf2;
typedef struct { __m256i lo, hi; } qk_vi2;
static inline qk_vf2 qk_vf2_zero(void) { qk_vf2 r = { _mm256_setzero_ps(), _mm256_setzero_ps() }; return r; }
static inline qk_vf2 qk_vf2_loadu(const float *p) { qk_vf2 r = { _mm256_loadu_ps(p), _mm256_loadu_ps(p + 8) }; return r; }
static inline void qk_vf2_storeu(float *p, qk_vf2 v) { _mm256_storeu_ps(p, v.lo); _mm256_storeu_ps(p + 8, v.hi); }
static inline qk_vf2 qk_vf2_set1(float x) { qk_vf2 r = { _mm256_set1_ps(x), _mm256_set1_ps(x) }; return r; }
static inline qk_vf2 qk_vf2_fma(qk_vf2 a, qk_vf2 b, qk_vf2 c)
{ qk_vf2 r = { _mm256_fmadd_ps(a.lo, b.lo, c.lo), _mm256_fmadd_ps(a.hi, b.hi, c.hi) }; return r; }
static inline qk_vf2 qk_vf2_mul(qk_vf2 a, qk_vf2 b)
{ qk_vf2 r = { _mm256_mul_ps(a.lo, b.lo), _mm256_mul_ps(a.hi, b.hi) }; return r; }
static inline qk_vi2 qk_vi2_zero(void) { qk_vi2 r = { _mm256_setzero_si256(), _mm256_setzero_si256() }; return r; }
static inline qk_vi2 qk_vi2_loadu(const void *p)
{ qk_vi2 r = { _mm256_loadu_si256((const __m256i *)p), _mm256_loadu_si256((const __m256i *)p + 1) }; return r; }
static inline void qk_vi2_storeu(void *p, qk_vi2 v)
{ _mm256_storeu_si256((__m256i *)p, v.lo); _mm256_storeu_si256((__m256i *)p + 1, v.hi); }
static inline qk_vi2 qk_vi2_set1(int32_t x) { qk_vi2 r = { _mm256_set1_epi32(x), _mm256_set1_epi32(x) }; return r; }
static inline qk_vi2 qk_vi2_add(qk_vi2 a, qk_vi2 b)
{ qk_vi2 r = { _mm256_add_epi32(a.lo, b.lo), _mm256_add_epi32(a.hi, b.hi) }; return r; }
static inline qk_vi2 qk_vi2_dp(qk_vi2 acc, qk_vi2 a, qk_vi2 b)
{ qk_vi2 r = { qk_emu_dpbusd(acc.lo, a.lo, b.lo), qk_emu_dpbusd(acc.hi, a.hi, b.hi) }; return r; }
static inline int32_t qk_vi2_hsum(qk_vi2 v)
{ return (int32_t)((uint32_t)qk_hsum256(v.lo) + (uint32_t)qk_hsum256(v.hi)); }
#endif
