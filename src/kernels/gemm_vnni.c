/* gemm_vnni.c — tier vnni (AVX512-VNNI): the exact u8×s8→s32 GEMM of vgemm.h on 512-bit
 * registers with vpdpbusd (12x32 tile, 4 k per instruction, int32 accumulation with
 * wrap-around and no saturation; zero points applied afterwards modulo 2^32, bit-identical
 * to _ref). Built with -mavx512f -mavx512bw -mavx512vl -mavx512vnni (Makefile: *_vnni.c),
 * called only when CPUID/XCR0 report AVX512-VNNI with the ZMM state enabled. Tested on
 * AVX2-only machines through gemm_vemu512_avx2.c (this source, each __m512i as two __m256i,
 * vpdpbusd emulated with vpmaddwd). */
#include <immintrin.h>

#define VG_MR 12
#define VG_VL 16
#define VG_I8GEMM qk_gemm_u8s8_vnni
#define VI __m512i
#define vi_zero() _mm512_setzero_si512()
#define vi_load(p) _mm512_loadu_si512((const void *)(p))
#define vi_loadu(p) _mm512_loadu_si512((const void *)(p))
#define vi_storeu(p, v) _mm512_storeu_si512((void *)(p), (v))
#define vi_set1(x) _mm512_set1_epi32(x)
#define vi_add(a, b) _mm512_add_epi32((a), (b))
#define vi_dp(acc, a, b) qk_dpbusd512((acc), (a), (b))
#define vi_hsum(v) _mm512_reduce_add_epi32(v)
#ifndef QK_ZEMU
/* vpdpbusd acc += Σ4 u8(a)·s8(b) per int32 lane (AT&T order: b, a, acc — as GCC emits
 * _mm512_dpbusd_epi32(acc, a, b)). Written as asm with the accumulator tied ("+v"): GCC 12
 * copies the accumulator around the builtin and spills half of the 24 on every k step. */
static inline __m512i qk_dpbusd512(__m512i acc, __m512i a, __m512i b)
{
    __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
    return acc;
}
/* The k loop of the micro-kernel in asm (as gemm_avx2.c's): accumulators zmm0..23, B in
 * zmm24/25, the broadcast A quad in zmm26; vpdpbusd in AT&T order (signed B, unsigned
 * A, accumulator), as GCC emits the intrinsic. Written with intrinsics, GCC 12 spills about
 * half of the accumulators on every k step (checked with objdump). Writes the accumulators
 * to acc (row r: acc[r][0], acc[r][1]). */
#define VG_I8_KLOOP(kq, a, b, acc) do {                                                     \
    int64_t k_ = (kq);                                                                      \
    const int32_t *a_ = (a), *b_ = (b);                                                     \
    __asm__ volatile(                                                                       \
        "vpxord %%zmm0, %%zmm0, %%zmm0\n\t"                                                 \
        "vpxord %%zmm1, %%zmm1, %%zmm1\n\t"                                                 \
        "vpxord %%zmm2, %%zmm2, %%zmm2\n\t"                                                 \
        "vpxord %%zmm3, %%zmm3, %%zmm3\n\t"                                                 \
        "vpxord %%zmm4, %%zmm4, %%zmm4\n\t"                                                 \
        "vpxord %%zmm5, %%zmm5, %%zmm5\n\t"                                                 \
        "vpxord %%zmm6, %%zmm6, %%zmm6\n\t"                                                 \
        "vpxord %%zmm7, %%zmm7, %%zmm7\n\t"                                                 \
        "vpxord %%zmm8, %%zmm8, %%zmm8\n\t"                                                 \
        "vpxord %%zmm9, %%zmm9, %%zmm9\n\t"                                                 \
        "vpxord %%zmm10, %%zmm10, %%zmm10\n\t"                                              \
        "vpxord %%zmm11, %%zmm11, %%zmm11\n\t"                                              \
        "vpxord %%zmm12, %%zmm12, %%zmm12\n\t"                                              \
        "vpxord %%zmm13, %%zmm13, %%zmm13\n\t"                                              \
        "vpxord %%zmm14, %%zmm14, %%zmm14\n\t"                                              \
        "vpxord %%zmm15, %%zmm15, %%zmm15\n\t"                                              \
        "vpxord %%zmm16, %%zmm16, %%zmm16\n\t"                                              \
        "vpxord %%zmm17, %%zmm17, %%zmm17\n\t"                                              \
        "vpxord %%zmm18, %%zmm18, %%zmm18\n\t"                                              \
        "vpxord %%zmm19, %%zmm19, %%zmm19\n\t"                                              \
        "vpxord %%zmm20, %%zmm20, %%zmm20\n\t"                                              \
        "vpxord %%zmm21, %%zmm21, %%zmm21\n\t"                                              \
        "vpxord %%zmm22, %%zmm22, %%zmm22\n\t"                                              \
        "vpxord %%zmm23, %%zmm23, %%zmm23\n\t"                                              \
        "test %[k], %[k]\n\t"                                                               \
        "jz 2f\n\t"                                                                         \
        "1:\n\t"                                                                            \
        "vmovdqu64 (%[b]), %%zmm24\n\t"                                                     \
        "vmovdqu64 64(%[b]), %%zmm25\n\t"                                                   \
        "vpbroadcastd 0(%[a]), %%zmm26\n\t"                                                 \
        "vpdpbusd %%zmm24, %%zmm26, %%zmm0\n\t"                                             \
        "vpdpbusd %%zmm25, %%zmm26, %%zmm1\n\t"                                             \
        "vpbroadcastd 4(%[a]), %%zmm26\n\t"                                                 \
        "vpdpbusd %%zmm24, %%zmm26, %%zmm2\n\t"                                             \
        "vpdpbusd %%zmm25, %%zmm26, %%zmm3\n\t"                                             \
        "vpbroadcastd 8(%[a]), %%zmm26\n\t"                                                 \
        "vpdpbusd %%zmm24, %%zmm26, %%zmm4\n\t"                                             \
        "vpdpbusd %%zmm25, %%zmm26, %%zmm5\n\t"                                             \
        "vpbroadcastd 12(%[a]), %%zmm26\n\t"                                                \
        "vpdpbusd %%zmm24, %%zmm26, %%zmm6\n\t"                                             \
        "vpdpbusd %%zmm25, %%zmm26, %%zmm7\n\t"                                             \
        "vpbroadcastd 16(%[a]), %%zmm26\n\t"                                                \
        "vpdpbusd %%zmm24, %%zmm26, %%zmm8\n\t"                                             \
        "vpdpbusd %%zmm25, %%zmm26, %%zmm9\n\t"                                             \
        "vpbroadcastd 20(%[a]), %%zmm26\n\t"                                                \
        "vpdpbusd %%zmm24, %%zmm26, %%zmm10\n\t"                                            \
        "vpdpbusd %%zmm25, %%zmm26, %%zmm11\n\t"                                            \
        "vpbroadcastd 24(%[a]), %%zmm26\n\t"                                                \
        "vpdpbusd %%zmm24, %%zmm26, %%zmm12\n\t"                                            \
        "vpdpbusd %%zmm25, %%zmm26, %%zmm13\n\t"                                            \
        "vpbroadcastd 28(%[a]), %%zmm26\n\t"                                                \
        "vpdpbusd %%zmm24, %%zmm26, %%zmm14\n\t"                                            \
        "vpdpbusd %%zmm25, %%zmm26, %%zmm15\n\t"                                            \
        "vpbroadcastd 32(%[a]), %%zmm26\n\t"                                                \
        "vpdpbusd %%zmm24, %%zmm26, %%zmm16\n\t"                                            \
        "vpdpbusd %%zmm25, %%zmm26, %%zmm17\n\t"                                            \
        "vpbroadcastd 36(%[a]), %%zmm26\n\t"                                                \
        "vpdpbusd %%zmm24, %%zmm26, %%zmm18\n\t"                                            \
        "vpdpbusd %%zmm25, %%zmm26, %%zmm19\n\t"                                            \
        "vpbroadcastd 40(%[a]), %%zmm26\n\t"                                                \
        "vpdpbusd %%zmm24, %%zmm26, %%zmm20\n\t"                                            \
        "vpdpbusd %%zmm25, %%zmm26, %%zmm21\n\t"                                            \
        "vpbroadcastd 44(%[a]), %%zmm26\n\t"                                                \
        "vpdpbusd %%zmm24, %%zmm26, %%zmm22\n\t"                                            \
        "vpdpbusd %%zmm25, %%zmm26, %%zmm23\n\t"                                            \
        "add $48, %[a]\n\t"                                                                 \
        "add $128, %[b]\n\t"                                                                \
        "dec %[k]\n\t"                                                                      \
        "jnz 1b\n\t"                                                                        \
        "2:\n\t"                                                                            \
        "vmovdqu64 %%zmm0, 0(%[acc])\n\t"                                                   \
        "vmovdqu64 %%zmm1, 64(%[acc])\n\t"                                                  \
        "vmovdqu64 %%zmm2, 128(%[acc])\n\t"                                                 \
        "vmovdqu64 %%zmm3, 192(%[acc])\n\t"                                                 \
        "vmovdqu64 %%zmm4, 256(%[acc])\n\t"                                                 \
        "vmovdqu64 %%zmm5, 320(%[acc])\n\t"                                                 \
        "vmovdqu64 %%zmm6, 384(%[acc])\n\t"                                                 \
        "vmovdqu64 %%zmm7, 448(%[acc])\n\t"                                                 \
        "vmovdqu64 %%zmm8, 512(%[acc])\n\t"                                                 \
        "vmovdqu64 %%zmm9, 576(%[acc])\n\t"                                                 \
        "vmovdqu64 %%zmm10, 640(%[acc])\n\t"                                                \
        "vmovdqu64 %%zmm11, 704(%[acc])\n\t"                                                \
        "vmovdqu64 %%zmm12, 768(%[acc])\n\t"                                                \
        "vmovdqu64 %%zmm13, 832(%[acc])\n\t"                                                \
        "vmovdqu64 %%zmm14, 896(%[acc])\n\t"                                                \
        "vmovdqu64 %%zmm15, 960(%[acc])\n\t"                                                \
        "vmovdqu64 %%zmm16, 1024(%[acc])\n\t"                                               \
        "vmovdqu64 %%zmm17, 1088(%[acc])\n\t"                                               \
        "vmovdqu64 %%zmm18, 1152(%[acc])\n\t"                                               \
        "vmovdqu64 %%zmm19, 1216(%[acc])\n\t"                                               \
        "vmovdqu64 %%zmm20, 1280(%[acc])\n\t"                                               \
        "vmovdqu64 %%zmm21, 1344(%[acc])\n\t"                                               \
        "vmovdqu64 %%zmm22, 1408(%[acc])\n\t"                                               \
        "vmovdqu64 %%zmm23, 1472(%[acc])\n\t"                                               \
        : [a] "+r"(a_), [b] "+r"(b_), [k] "+r"(k_)                                          \
        : [acc] "r"(acc)                                                                    \
        : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",           \
          "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16",            \
          "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24",           \
          "xmm25", "xmm26", "cc", "memory");                                                \
} while (0)

#else   /* gemmvnni_zemu_avx2.c: the intrinsic, over zemu.h, and vgemm.h's C k loop */
static inline __m512i qk_dpbusd512(__m512i acc, __m512i a, __m512i b)
{
    return _mm512_dpbusd_epi32(acc, a, b);
}
#endif

#include "vgemm.h"
