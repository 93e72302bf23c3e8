/* gemm_vemu512_avx2.c — test-only (qs_k_emulated(0) and (1)): the sources of
 * gemm_avx512.c (fp32, 12x32 tile) and gemm_vnni.c (int8 vpdpbusd, 12x32 tile) with each
 * 512-bit vector as two __m256 halves and vpdpbusd emulated in AVX2 (vemu.h). Same tile,
 * blocking, packing, tails and zero-point algebra as the AVX-512 kernels, so an AVX2-only
 * machine runs everything of them but the instructions themselves. */
#include <immintrin.h>

#include "vemu.h"

#define VG_MR 12
#define VG_VL 16
#define VG_SGEMM qk_sgemm_emu512
#define VF qk_vf2
#define vf_zero() qk_vf2_zero()
#define vf_load(p) qk_vf2_loadu(p)
#define vf_loadu(p) qk_vf2_loadu(p)
#define vf_storeu(p, v) qk_vf2_storeu((p), (v))
#define vf_set1(x) qk_vf2_set1(x)
#define vf_fma(a, b, c) qk_vf2_fma((a), (b), (c))
#define vf_mul(a, b) qk_vf2_mul((a), (b))
#define VG_I8GEMM qk_gemm_u8s8_emuvnni
#define VI qk_vi2
#define vi_zero() qk_vi2_zero()
#define vi_load(p) qk_vi2_loadu(p)
#define vi_loadu(p) qk_vi2_loadu(p)
#define vi_storeu(p, v) qk_vi2_storeu((p), (v))
#define vi_set1(x) qk_vi2_set1(x)
#define vi_add(a, b) qk_vi2_add((a), (b))
#define vi_dp(acc, a, b) qk_vi2_dp((acc), (a), (b))
#define vi_hsum(v) qk_vi2_hsum(v)
#include "vgemm.h"
