/* gemm_avx512.c — tier avx512: the fp32 GEMM of vgemm.h on 512-bit registers (12x32 tile,
 * 24 zmm accumulators, FMA with the A element broadcast). Built with -mavx512f -mavx512bw
 * -mavx512vl (Makefile: *_avx512.c) and called only when CPUID/XCR0 report AVX-512 F/BW/VL
 * with the ZMM state enabled. The micro-kernel is inline assembly (qk_ukr_s, below); the
 * test-only instances (gemm_zemu_avx2.c: this source over zemu.h with QK_ZEMU; and
 * gemm_vemu512_avx2.c: each __m512 as two __m256) run vgemm.h's C micro-kernel, which does
 * the same FMAs in the same order (the packing, blocking and tails are shared).
 */
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

#ifndef QK_ZEMU
#include <stdint.h>
/* The k loops: C[0..R, 0..16·V] of an A panel (R floats per k at a, the next k as bytes on;
 * 48 when packed, 4·lda when Aᵀ is read in place) and a B panel (16·V floats per k at b,
 * then bs bytes on: 128 packed, 4·ldb in place), each accumulator summed with one FMA per k
 * from 0 in k order (vgemm.h's vg_ukr_s, bit for bit). Row r, vector h in zmm(r·V + h); B
 * in zmm24/25; A broadcasts rotating over zmm26..29. The loop runs 4 k per branch and
 * prefetches A 8 k ahead. Then mode 1: C = alpha·acc (vmulps), mode 2: C = fma(alpha, acc,
 * C) (vfmadd213ps: one rounding), both for the whole R x 16·V tile (row stride ldc4 bytes),
 * alpha in zmm31; mode 0: the accumulators go to t (row stride 32 floats) for a partial
 * tile. The narrower tiles serve the edges: a 4-row rest of M (M = 64 is 5·12 + 4) costs a
 * third of a 12-row panel rather than all of it, a 16-column rest of N half. Nothing
 * outside rows < R and columns < 16·V is read. Written with intrinsics GCC keeps the 24
 * accumulators in registers too, but the asm fixes the schedule, and the narrower tiles
 * need no second copy of vgemm.h. */
#define QK_B1(u) "vmovups (%[b]), %%zmm24\n\t"
#define QK_B2(u) QK_B1(u) "vmovups 64(%[b]), %%zmm25\n\t"
#define QK_PF(u) "prefetcht0 (%[a],%[as],8)\n\t"
#define QK_STEP "add %[as], %[a]\n\t" "add %[bs], %[b]\n\t"
/* per row (u: k step, r: row, z: broadcast register, c0/c1: accumulators) */
#define QK_ZERO1(u, r, z, c0) "vpxord %%zmm" #c0 ", %%zmm" #c0 ", %%zmm" #c0 "\n\t"
#define QK_ZERO2(u, r, z, c0, c1) QK_ZERO1(u, r, z, c0) QK_ZERO1(u, r, z, c1)
#define QK_FMA1(u, r, z, c0)                                                                \
    "vbroadcastss 4*" #r "(%[a]), %%zmm" #z "\n\t"                                \
    "vfmadd231ps %%zmm24, %%zmm" #z ", %%zmm" #c0 "\n\t"
#define QK_FMA2(u, r, z, c0, c1) QK_FMA1(u, r, z, c0) \
    "vfmadd231ps %%zmm25, %%zmm" #z ", %%zmm" #c1 "\n\t"
#define QK_SAVE1(u, r, z, c0) "vmovaps %%zmm" #c0 ", 128*" #r "(%[t])\n\t"
#define QK_SAVE2(u, r, z, c0, c1) QK_SAVE1(u, r, z, c0) \
    "vmovaps %%zmm" #c1 ", 128*" #r "+64(%[t])\n\t"
#define QK_FIRST1(u, r, z, c0)                                                              \
    "vmulps %%zmm31, %%zmm" #c0 ", %%zmm" #c0 "\n\t"                                        \
    "vmovups %%zmm" #c0 ", (%[c])\n\t"
#define QK_FIRST2(u, r, z, c0, c1) QK_FIRST1(u, r, z, c0)                                   \
    "vmulps %%zmm31, %%zmm" #c1 ", %%zmm" #c1 "\n\t"                                        \
    "vmovups %%zmm" #c1 ", 64(%[c])\n\t"
#define QK_ACC1(u, r, z, c0)                                                                \
    "vfmadd213ps (%[c]), %%zmm31, %%zmm" #c0 "\n\t"                                         \
    "vmovups %%zmm" #c0 ", (%[c])\n\t"
#define QK_ACC2(u, r, z, c0, c1) QK_ACC1(u, r, z, c0)                                       \
    "vfmadd213ps 64(%[c]), %%zmm31, %%zmm" #c1 "\n\t"                                       \
    "vmovups %%zmm" #c1 ", 64(%[c])\n\t"
#define QK_NEXT1(u, r, z, c0) "add %[ldc], %[c]\n\t"
#define QK_NEXT2(u, r, z, c0, c1) "add %[ldc], %[c]\n\t"
#define QK_FIRSTN1(u, r, z, c0) QK_FIRST1(u, r, z, c0) QK_NEXT1(u, r, z, c0)
#define QK_FIRSTN2(u, r, z, c0, c1) QK_FIRST2(u, r, z, c0, c1) QK_NEXT2(u, r, z, c0, c1)
#define QK_ACCN1(u, r, z, c0) QK_ACC1(u, r, z, c0) QK_NEXT1(u, r, z, c0)
#define QK_ACCN2(u, r, z, c0, c1) QK_ACC2(u, r, z, c0, c1) QK_NEXT2(u, r, z, c0, c1)
/* the rows of each tile: X(u, r, broadcast register, accumulators) */
#define QK_L4x16(X, u) X(u, 0, 26, 0) X(u, 1, 27, 1) X(u, 2, 28, 2) X(u, 3, 29, 3)
#define QK_L4x32(X, u) X(u, 0, 26, 0, 1) X(u, 1, 27, 2, 3) X(u, 2, 28, 4, 5) \
    X(u, 3, 29, 6, 7)
#define QK_L8x16(X, u) X(u, 0, 26, 0) X(u, 1, 27, 1) X(u, 2, 28, 2) X(u, 3, 29, 3) \
    X(u, 4, 26, 4) X(u, 5, 27, 5) X(u, 6, 28, 6) X(u, 7, 29, 7)
#define QK_L8x32(X, u) X(u, 0, 26, 0, 1) X(u, 1, 27, 2, 3) X(u, 2, 28, 4, 5) \
    X(u, 3, 29, 6, 7) X(u, 4, 26, 8, 9) X(u, 5, 27, 10, 11) X(u, 6, 28, 12, 13) \
    X(u, 7, 29, 14, 15)
#define QK_L12x16(X, u) X(u, 0, 26, 0) X(u, 1, 27, 1) X(u, 2, 28, 2) X(u, 3, 29, 3) \
    X(u, 4, 26, 4) X(u, 5, 27, 5) X(u, 6, 28, 6) X(u, 7, 29, 7) X(u, 8, 26, 8) \
    X(u, 9, 27, 9) X(u, 10, 28, 10) X(u, 11, 29, 11)
#define QK_L12x32(X, u) X(u, 0, 26, 0, 1) X(u, 1, 27, 2, 3) X(u, 2, 28, 4, 5) \
    X(u, 3, 29, 6, 7) X(u, 4, 26, 8, 9) X(u, 5, 27, 10, 11) X(u, 6, 28, 12, 13) \
    X(u, 7, 29, 14, 15) X(u, 8, 26, 16, 17) X(u, 9, 27, 18, 19) X(u, 10, 28, 20, 21) \
    X(u, 11, 29, 22, 23)

#define QK_KERNEL(name, L, V)                                                               \
static void name(int64_t k, const float *a, int64_t as, const float *b, int64_t bs,         \
                 float *c, int64_t ldc4, int64_t mode, float *t, float alpha)               \
{                                                                                           \
    __asm__ volatile(                                                                       \
        L(QK_ZERO##V, 0)                                                                    \
        "cmp $4, %[k]\n\t"                                                                  \
        "jb 6f\n\t"                                                                         \
        "1:\n\t"                                                                            \
        QK_B##V(0) QK_PF(0) L(QK_FMA##V, 0) QK_STEP                                         \
        QK_B##V(1) QK_PF(1) L(QK_FMA##V, 1) QK_STEP                                         \
        QK_B##V(2) QK_PF(2) L(QK_FMA##V, 2) QK_STEP                                         \
        QK_B##V(3) QK_PF(3) L(QK_FMA##V, 3) QK_STEP                                         \
        "sub $4, %[k]\n\t"                                                                  \
        "cmp $4, %[k]\n\t"                                                                  \
        "jae 1b\n\t"                                                                        \
        "6:\n\t"                                                                            \
        "test %[k], %[k]\n\t"                                                               \
        "jz 2f\n\t"                                                                         \
        "7:\n\t"                                                                            \
        QK_B##V(0) L(QK_FMA##V, 0) QK_STEP                                                  \
        "dec %[k]\n\t"                                                                      \
        "jnz 7b\n\t"                                                                        \
        "2:\n\t"                                                                            \
        "cmp $1, %[mode]\n\t"                                                               \
        "je 3f\n\t"                                                                         \
        "cmp $2, %[mode]\n\t"                                                               \
        "je 4f\n\t"                                                                         \
        L(QK_SAVE##V, 0)                                                                    \
        "jmp 5f\n\t"                                                                        \
        "3:\n\t"                                                                            \
        "vbroadcastss %[alpha], %%zmm31\n\t"                                                \
        L(QK_FIRSTN##V, 0)                                                                  \
        "jmp 5f\n\t"                                                                        \
        "4:\n\t"                                                                            \
        "vbroadcastss %[alpha], %%zmm31\n\t"                                                \
        L(QK_ACCN##V, 0)                                                                    \
        "5:\n\t"                                                                            \
        : [a] "+r"(a), [b] "+r"(b), [k] "+r"(k), [c] "+r"(c)                                \
        : [ldc] "r"(ldc4), [mode] "r"(mode), [t] "r"(t), [alpha] "m"(alpha),                \
          [as] "r"(as), [bs] "r"(bs)                                                        \
        : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",   \
          "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18",  \
          "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25", "xmm26", "xmm27",  \
          "xmm28", "xmm29", "xmm31", "cc", "memory");                                       \
}
QK_KERNEL(qk_k4x16, QK_L4x16, 1)
QK_KERNEL(qk_k4x32, QK_L4x32, 2)
QK_KERNEL(qk_k8x16, QK_L8x16, 1)
QK_KERNEL(qk_k8x32, QK_L8x32, 2)
QK_KERNEL(qk_k12x16, QK_L12x16, 1)
QK_KERNEL(qk_k12x32, QK_L12x32, 2)

/* C[0..mr, 0..nr] (=|+=) alpha · Σ_k a[k][r] b[k][c]: the smallest of the 4/8/12-row,
 * 16/32-column loops that covers the tile; a partial tile is written from t with masked
 * loads and stores (rows < mr, columns < nr). */
static void qk_ukr_s(int64_t kc, const float *a, int64_t as, const float *b, int64_t bs,
                     float *c, int64_t ldc, float alpha, int first, int mr, int nr)
{
    _Alignas(64) float t[12][32];
    for (int r = 0; r < mr; r++) {          /* the C tile arrives while the k loop runs */
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + r * ldc + nr - 1), _MM_HINT_T0);
    }
    int rows = mr <= 4 ? 4 : mr <= 8 ? 8 : 12, wide = nr > 16;
    int64_t mode = mr == rows && nr == (wide ? 32 : 16) ? (first ? 1 : 2) : 0;
    int64_t ldc4 = ldc * 4;
    switch (rows * 2 + wide) {
    case 8: qk_k4x16(kc, a, 4 * as, b, 4 * bs, c, ldc4, mode, &t[0][0], alpha); break;
    case 9: qk_k4x32(kc, a, 4 * as, b, 4 * bs, c, ldc4, mode, &t[0][0], alpha); break;
    case 16: qk_k8x16(kc, a, 4 * as, b, 4 * bs, c, ldc4, mode, &t[0][0], alpha); break;
    case 17: qk_k8x32(kc, a, 4 * as, b, 4 * bs, c, ldc4, mode, &t[0][0], alpha); break;
    case 24: qk_k12x16(kc, a, 4 * as, b, 4 * bs, c, ldc4, mode, &t[0][0], alpha); break;
    default: qk_k12x32(kc, a, 4 * as, b, 4 * bs, c, ldc4, mode, &t[0][0], alpha); break;
    }
    if (mode) return;
    __m512 va = _mm512_set1_ps(alpha);
    __mmask16 m0 = (__mmask16)(nr >= 16 ? 0xffff : (1u << nr) - 1);
    __mmask16 m1 = (__mmask16)(nr >= 32 ? 0xffff : nr <= 16 ? 0 : (1u << (nr - 16)) - 1);
    /* only the vectors the loop wrote to t are read: the rest of t is stale stack, whose
     * bit patterns (as floats, often denormal) cost a microcode assist per multiply */
    for (int r = 0; r < mr; r++)
        for (int h = 0; h <= wide; h++) {
            float *cr = c + r * ldc + 16 * h;
            __mmask16 m = h ? m1 : m0;
            __m512 x = _mm512_load_ps(t[r] + 16 * h);
            x = first ? _mm512_mul_ps(va, x) : _mm512_fmadd_ps(va, x, _mm512_maskz_loadu_ps(m, cr));
            _mm512_mask_storeu_ps(cr, m, x);
        }
}
#define VG_S_UKR qk_ukr_s
/* the tiles the loops read exactly (rows < R, columns < 16·V): operands given in the
 * packed layout can be used in place for these (vgemm.h's VG_S_DIRECT_*) */
#define VG_S_EXACT_ROWS(mr) ((mr) == 4 || (mr) == 8 || (mr) == 12)
#define VG_S_EXACT_COLS(nr) ((nr) == 16 || (nr) == 32)
#endif

#include "vgemm.h"
