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
#define vi_dp(acc, a, b) _mm512_dpbusd_epi32((acc), (a), (b))
#define vi_hsum(v) _mm512_reduce_add_epi32(v)
#include "vgemm.h"
