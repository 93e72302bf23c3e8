/* gemm_vemu256_avx2.c — test-only (qs_k_emulated(2)): gemm_avxvnni.c's source with
 * vpdpbusd emulated in AVX2 (the even and the odd bytes of each 16-bit pair widened, two
 * vpmaddwd: exact, since every u8·s8 product and pair sum fits int32), so the 256-bit VNNI
 * GEMM's packing, blocking, tails and zero-point algebra run on machines without AVX-VNNI. */
#include <immintrin.h>

#define VG_MR 6
#define VG_VL 8
#define VG_I8GEMM qk_gemm_u8s8_emuavxvnni
#define VI __m256i
#define vi_zero() _mm256_setzero_si256()
#define vi_load(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define vi_loadu(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define vi_storeu(p, v) _mm256_storeu_si256((__m256i *)(void *)(p), (v))
#define vi_set1(x) _mm256_set1_epi32(x)
#define vi_add(a, b) _mm256_add_epi32((a), (b))
#define vi_dp(acc, a, b) qk_emu_dpbusd((acc), (a), (b))
#define vi_hsum(v) qk_hsum256(v)
#include "vemu.h"
#include "vgemm.h"
