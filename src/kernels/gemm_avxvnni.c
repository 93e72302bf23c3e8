/* gemm_avxvnni.c — tier vnni where only AVX-VNNI exists (256-bit vpdpbusd, VEX encoded; e.g.
 * Alder Lake without AVX-512): the exact u8×s8→s32 GEMM of vgemm.h with a 6x16 tile. Built
 * with -mavx2 -mfma -mf16c -mavxvnni (Makefile: *_avxvnni.c), called only when CPUID leaf
 * 7.1 EAX bit 4 and AVX2 are present. Tested on machines without it through
 * gemm_vemu256_avx2.c (this source with vpdpbusd emulated by vpmaddwd). */
#include <immintrin.h>

#define VG_MR 6
#define VG_VL 8
#define VG_I8GEMM qk_gemm_u8s8_avxvnni
#define VI __m256i
#define vi_zero() _mm256_setzero_si256()
#define vi_load(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define vi_loadu(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define vi_storeu(p, v) _mm256_storeu_si256((__m256i *)(void *)(p), (v))
#define vi_set1(x) _mm256_set1_epi32(x)
#define vi_add(a, b) _mm256_add_epi32((a), (b))
#define vi_dp(acc, a, b) _mm256_dpbusd_avx_epi32((acc), (a), (b))
#define vi_hsum(v) qk_hsum256_(v)
static inline int32_t qk_hsum256_(__m256i v)
{
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}
#include "vgemm.h"
