/* gemm_avx512.c — tier avx512: the fp32 GEMM of vgemm.h on 512-bit registers (12x32 tile,
 * 24 zmm accumulators, FMA with the A element broadcast). Built with -mavx512f -mavx512bw
 * -mavx512vl (Makefile: *_avx512.c) and called only when CPUID/XCR0 report AVX-512 F/BW/VL
 * with the ZMM state enabled. Tested on AVX2-only machines through the emulated instance
 * (gemm_vemu512_avx2.c: the same source with each __m512 as two __m256). */
#include <immintrin.h>

#define VG_MR 12
#define VG_VL 16
#define VG_SGEMM qk_sgemm_avx512
#define VF __m512
#define vf_zero() _mm512_setzero_ps()
#define vf_load(p) _mm512_loadu_ps(p)
#define vf_loadu(p) _mm512_loadu_ps(p)
#define vf_storeu(p, v) _mm512_storeu_ps((p), (v))
#define vf_set1(x) _mm512_set1_ps(x)
#define vf_fma(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define vf_mul(a, b) _mm512_mul_ps((a), (b))
#include "vgemm.h"
