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
#define vi_dp(acc, a, b) qk_dpbusd256((acc), (a), (b))
#define vi_hsum(v) qk_hsum256_(v)
static inline int32_t qk_hsum256_(__m256i v)
{
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}
/* {vex} vpdpbusd acc += Σ4 u8(a)·s8(b) per int32 lane (AT&T order: b, a, acc — as GCC
 * emits _mm256_dpbusd_avx_epi32(acc, a, b)); the {vex} prefix selects AVX-VNNI, not the
 * AVX512-VNNI EVEX form. asm with the accumulator tied: GCC 12 spills around the builtin. */
static inline __m256i qk_dpbusd256(__m256i acc, __m256i a, __m256i b)
{
    __asm__("%{vex%} vpdpbusd %2, %1, %0" : "+x"(acc) : "x"(a), "x"(b));
    return acc;
}
/* The k loop of the micro-kernel in asm (as gemm_avx2.c's): accumulators ymm0..11, B in
 * ymm12/13, the broadcast A quad in ymm14; vpdpbusd in AT&T order (signed B, unsigned
 * A, accumulator), as GCC emits the intrinsic. Written with intrinsics, GCC 12 spills about
 * half of the accumulators on every k step (checked with objdump). Writes the accumulators
 * to acc (row r: acc[r][0], acc[r][1]). */
#define VG_I8_KLOOP(kq, a, b, acc) do {                                                     \
    int64_t k_ = (kq);                                                                      \
    const int32_t *a_ = (a), *b_ = (b);                                                     \
    __asm__ volatile(                                                                       \
        "vpxor %%ymm0, %%ymm0, %%ymm0\n\t"                                                  \
        "vpxor %%ymm1, %%ymm1, %%ymm1\n\t"                                                  \
        "vpxor %%ymm2, %%ymm2, %%ymm2\n\t"                                                  \
        "vpxor %%ymm3, %%ymm3, %%ymm3\n\t"                                                  \
        "vpxor %%ymm4, %%ymm4, %%ymm4\n\t"                                                  \
        "vpxor %%ymm5, %%ymm5, %%ymm5\n\t"                                                  \
        "vpxor %%ymm6, %%ymm6, %%ymm6\n\t"                                                  \
        "vpxor %%ymm7, %%ymm7, %%ymm7\n\t"                                                  \
        "vpxor %%ymm8, %%ymm8, %%ymm8\n\t"                                                  \
        "vpxor %%ymm9, %%ymm9, %%ymm9\n\t"                                                  \
        "vpxor %%ymm10, %%ymm10, %%ymm10\n\t"                                               \
        "vpxor %%ymm11, %%ymm11, %%ymm11\n\t"                                               \
        "test %[k], %[k]\n\t"                                                               \
        "jz 2f\n\t"                                                                         \
        "1:\n\t"                                                                            \
        "vmovdqu (%[b]), %%ymm12\n\t"                                                       \
        "vmovdqu 32(%[b]), %%ymm13\n\t"                                                     \
        "vpbroadcastd 0(%[a]), %%ymm14\n\t"                                                 \
        "%{vex%} vpdpbusd %%ymm12, %%ymm14, %%ymm0\n\t"                                     \
        "%{vex%} vpdpbusd %%ymm13, %%ymm14, %%ymm1\n\t"                                     \
        "vpbroadcastd 4(%[a]), %%ymm14\n\t"                                                 \
        "%{vex%} vpdpbusd %%ymm12, %%ymm14, %%ymm2\n\t"                                     \
        "%{vex%} vpdpbusd %%ymm13, %%ymm14, %%ymm3\n\t"                                     \
        "vpbroadcastd 8(%[a]), %%ymm14\n\t"                                                 \
        "%{vex%} vpdpbusd %%ymm12, %%ymm14, %%ymm4\n\t"                                     \
        "%{vex%} vpdpbusd %%ymm13, %%ymm14, %%ymm5\n\t"                                     \
        "vpbroadcastd 12(%[a]), %%ymm14\n\t"                                                \
        "%{vex%} vpdpbusd %%ymm12, %%ymm14, %%ymm6\n\t"                                     \
        "%{vex%} vpdpbusd %%ymm13, %%ymm14, %%ymm7\n\t"                                     \
        "vpbroadcastd 16(%[a]), %%ymm14\n\t"                                                \
        "%{vex%} vpdpbusd %%ymm12, %%ymm14, %%ymm8\n\t"                                     \
        "%{vex%} vpdpbusd %%ymm13, %%ymm14, %%ymm9\n\t"                                     \
        "vpbroadcastd 20(%[a]), %%ymm14\n\t"                                                \
        "%{vex%} vpdpbusd %%ymm12, %%ymm14, %%ymm10\n\t"                                    \
        "%{vex%} vpdpbusd %%ymm13, %%ymm14, %%ymm11\n\t"                                    \
        "add $24, %[a]\n\t"                                                                 \
        "add $64, %[b]\n\t"                                                                 \
        "dec %[k]\n\t"                                                                      \
        "jnz 1b\n\t"                                                                        \
        "2:\n\t"                                                                            \
        "vmovdqu %%ymm0, 0(%[acc])\n\t"                                                     \
        "vmovdqu %%ymm1, 32(%[acc])\n\t"                                                    \
        "vmovdqu %%ymm2, 64(%[acc])\n\t"                                                    \
        "vmovdqu %%ymm3, 96(%[acc])\n\t"                                                    \
        "vmovdqu %%ymm4, 128(%[acc])\n\t"                                                   \
        "vmovdqu %%ymm5, 160(%[acc])\n\t"                                                   \
        "vmovdqu %%ymm6, 192(%[acc])\n\t"                                                   \
        "vmovdqu %%ymm7, 224(%[acc])\n\t"                                                   \
        "vmovdqu %%ymm8, 256(%[acc])\n\t"                                                   \
        "vmovdqu %%ymm9, 288(%[acc])\n\t"                                                   \
        "vmovdqu %%ymm10, 320(%[acc])\n\t"                                                  \
        "vmovdqu %%ymm11, 352(%[acc])\n\t"                                                  \
        : [a] "+r"(a_), [b] "+r"(b_), [k] "+r"(k_)                                          \
        : [acc] "r"(acc)                                                                    \
        : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",           \
          "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "cc", "memory");             \
} while (0)

#include "vgemm.h"
