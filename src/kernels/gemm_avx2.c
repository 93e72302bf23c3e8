/* gemm_avx2.c — AVX2/FMA GEMMs: fp32 sgemm (Goto-style packing, 6x16 FMA micro-kernel) and
 * exact u8×s8→s32 GEMM (operands widened to int16 at packing time, zero points subtracted
 * there, vpmaddwd micro-kernel: no 16-bit saturation, see src/kernels/README.md). Both run
 * the micro-panels of a block on all threads; each C tile is computed by one thread in a
 * fixed k order, so results do not depend on the thread count. */
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "kint.h"

#define MR 6
#define NR 16
#define S_KC 256            /* fp32: k block (B micro-panel 16 KB, in L1) */
#define S_MC 144            /* fp32: rows of A per block (144 KB, in L2) */
#define S_NC 3072           /* fp32: columns of B per block (3 MB, in L3) */
#define I_KC 512            /* int8: k block (256 pairs; B micro-panel 16 KB) */
#define I_MC 144
#define I_NC 3072

/* 64-byte aligned scratch (size rounded up to a multiple of 64, as C11 asks) */
static void *scratch(size_t bytes)
{
    return aligned_alloc(64, (bytes + 63) / 64 * 64);
}

/* columns per slab: about 4 slabs per thread (dynamic balance), a multiple of NR, at most
 * the L3-sized block */
static int64_t slab_width(int64_t N, int nt)
{
    int64_t w = (N + 4 * nt - 1) / (4 * nt);
    w = (w + NR - 1) / NR * NR;
    if (w < 2 * NR) w = 2 * NR;
    return w > S_NC ? S_NC : w;
}

static int gemm_threads(int64_t M, int64_t N, int64_t K)
{
    return M * N * K >= ((int64_t)1 << 18) ? qs_k_threads() : 1;
}

/* ======================================================================================
 * fp32
 * ====================================================================================== */

/* C[0..6, 0..16] += alpha * Σ_k a[k][r] b[k][c] (a: 6 per k, b: 16 per k) */
static void ukr_s6x16(int64_t kc, const float *a, const float *b, float *c, int64_t ldc,
                      float alpha, int mr, int nr)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int64_t k = 0; k < kc; k++) {
        __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
        __m256 a0 = _mm256_broadcast_ss(a), a1 = _mm256_broadcast_ss(a + 1);
        c00 = _mm256_fmadd_ps(a0, b0, c00); c01 = _mm256_fmadd_ps(a0, b1, c01);
        c10 = _mm256_fmadd_ps(a1, b0, c10); c11 = _mm256_fmadd_ps(a1, b1, c11);
        a0 = _mm256_broadcast_ss(a + 2); a1 = _mm256_broadcast_ss(a + 3);
        c20 = _mm256_fmadd_ps(a0, b0, c20); c21 = _mm256_fmadd_ps(a0, b1, c21);
        c30 = _mm256_fmadd_ps(a1, b0, c30); c31 = _mm256_fmadd_ps(a1, b1, c31);
        a0 = _mm256_broadcast_ss(a + 4); a1 = _mm256_broadcast_ss(a + 5);
        c40 = _mm256_fmadd_ps(a0, b0, c40); c41 = _mm256_fmadd_ps(a0, b1, c41);
        c50 = _mm256_fmadd_ps(a1, b0, c50); c51 = _mm256_fmadd_ps(a1, b1, c51);
        a += MR; b += NR;
    }
    __m256 acc[MR][2] = { { c00, c01 }, { c10, c11 }, { c20, c21 }, { c30, c31 },
                          { c40, c41 }, { c50, c51 } };
    __m256 va = _mm256_set1_ps(alpha);
    if (mr == MR && nr == NR) {
        for (int r = 0; r < MR; r++) {
            float *cr = c + r * ldc;
            _mm256_storeu_ps(cr, _mm256_fmadd_ps(va, acc[r][0], _mm256_loadu_ps(cr)));
            _mm256_storeu_ps(cr + 8, _mm256_fmadd_ps(va, acc[r][1], _mm256_loadu_ps(cr + 8)));
        }
        return;
    }
    float t[MR][NR];
    for (int r = 0; r < MR; r++) {
        _mm256_storeu_ps(t[r], acc[r][0]);
        _mm256_storeu_ps(t[r] + 8, acc[r][1]);
    }
    for (int r = 0; r < mr; r++)
        for (int j = 0; j < nr; j++) c[r * ldc + j] += alpha * t[r][j];
}

/* packs rows i0..i0+mc of op(A), k0..k0+kc, into 6-row panels (zero padded) */
static void pack_sa(int ta, const float *A, int64_t lda, int64_t i0, int64_t mc, int64_t k0,
                    int64_t kc, float *pa)
{
    for (int64_t ip = 0; ip < mc; ip += MR) {
        int mr = mc - ip < MR ? (int)(mc - ip) : MR;
        float *p = pa + ip * kc;
        for (int64_t k = 0; k < kc; k++) {
            for (int r = 0; r < mr; r++) {
                int64_t i = i0 + ip + r, kk = k0 + k;
                p[k * MR + r] = ta ? A[kk * lda + i] : A[i * lda + kk];
            }
            for (int r = mr; r < MR; r++) p[k * MR + r] = 0.0f;
        }
    }
}

/* packs one 16-column panel of op(B): columns j0..j0+nr, k0..k0+kc (zero padded) */
static void pack_sb(int tb, const float *B, int64_t ldb, int64_t j0, int nr, int64_t k0,
                    int64_t kc, float *pb)
{
    for (int64_t k = 0; k < kc; k++) {
        float *p = pb + k * NR;
        int64_t kk = k0 + k;
        if (!tb && nr == NR) {
            memcpy(p, B + kk * ldb + j0, NR * sizeof *p);
            continue;
        }
        for (int j = 0; j < nr; j++) p[j] = tb ? B[(j0 + j) * ldb + kk] : B[kk * ldb + j0 + j];
        for (int j = nr; j < NR; j++) p[j] = 0.0f;
    }
}

void qk_sgemm_avx2(int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha,
                   const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                   float *C, int64_t ldc);
void qk_sgemm_avx2(int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha,
                   const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                   float *C, int64_t ldc)
{
    if (M <= 0 || N <= 0) return;
    int nt = gemm_threads(M, N, K);
    /* C = beta·C first (beta 0 does not read C), then every k block adds alpha·A·B */
    if (beta != 1.0f) {
        #pragma omp parallel for schedule(static) num_threads(nt)
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
    }
    if (K <= 0 || alpha == 0.0f) return;
    /* C is cut into column slabs handed out dynamically; each slab runs the whole blocked
     * algorithm on its own scratch (no barriers, so a descheduled thread costs no more than
     * its own slab) and each C element is summed in the same k order whatever the thread */
    int64_t slab = slab_width(N, nt);
    int64_t nslab = (N + slab - 1) / slab;
    int fail = 0;
    #pragma omp parallel num_threads(nt)
    {
        int64_t mc_max = M < S_MC ? M : S_MC;
        float *pb = scratch((size_t)(((slab + NR - 1) / NR) * NR * S_KC) * sizeof *pb);
        float *pa = scratch((size_t)(((mc_max + MR - 1) / MR) * MR * S_KC) * sizeof *pa);
        if (!pb || !pa) {
            #pragma omp atomic write
            fail = 1;
        }
        #pragma omp barrier
        int anyfail;
        #pragma omp atomic read
        anyfail = fail;
        #pragma omp for schedule(dynamic, 1)
        for (int64_t sl = 0; sl < nslab; sl++) {
            if (anyfail) continue;
            int64_t jc = sl * slab, nc = N - jc < slab ? N - jc : slab;
            int64_t npan = (nc + NR - 1) / NR;
            for (int64_t pc = 0; pc < K; pc += S_KC) {
                int64_t kc = K - pc < S_KC ? K - pc : S_KC;
                for (int64_t jp = 0; jp < npan; jp++) {
                    int nr = nc - jp * NR < NR ? (int)(nc - jp * NR) : NR;
                    pack_sb(tb, B, ldb, jc + jp * NR, nr, pc, kc, pb + jp * NR * kc);
                }
                for (int64_t ic = 0; ic < M; ic += S_MC) {
                    int64_t mc = M - ic < S_MC ? M - ic : S_MC, mpan = (mc + MR - 1) / MR;
                    pack_sa(ta, A, lda, ic, mc, pc, kc, pa);
                    for (int64_t jp = 0; jp < npan; jp++)
                        for (int64_t ip = 0; ip < mpan; ip++) {
                            int nr = nc - jp * NR < NR ? (int)(nc - jp * NR) : NR;
                            int mr = mc - ip * MR < MR ? (int)(mc - ip * MR) : MR;
                            ukr_s6x16(kc, pa + ip * MR * kc, pb + jp * NR * kc,
                                      C + (ic + ip * MR) * ldc + jc + jp * NR, ldc, alpha, mr, nr);
                        }
                }
            }
        }
        free(pb);
        free(pa);
    }
    if (fail)   /* a thread lacked scratch: nothing was computed; the reference path */
        qk_ref_table.sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, 1.0f, C, ldc);
}

/* ======================================================================================
 * int8: u8 (A) × s8 (Bt) → s32, exact
 * ====================================================================================== */

/* C tile += Σ_pairs madd(a pair, b pairs); a: MR int32 (two int16) per k pair, b: NR per pair */
static void ukr_i6x16(int64_t kp, const int32_t *a, const int32_t *b, int32_t *c, int64_t ldc,
                      int first, int mr, int nr)
{
    __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256i c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int64_t k = 0; k < kp; k++) {
        __m256i b0 = _mm256_load_si256((const __m256i *)b);
        __m256i b1 = _mm256_load_si256((const __m256i *)(b + 8));
        __m256i a0 = _mm256_set1_epi32(a[0]), a1 = _mm256_set1_epi32(a[1]);
        c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(a0, b0));
        c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(a0, b1));
        c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(a1, b0));
        c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(a1, b1));
        a0 = _mm256_set1_epi32(a[2]); a1 = _mm256_set1_epi32(a[3]);
        c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(a0, b0));
        c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(a0, b1));
        c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(a1, b0));
        c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(a1, b1));
        a0 = _mm256_set1_epi32(a[4]); a1 = _mm256_set1_epi32(a[5]);
        c40 = _mm256_add_epi32(c40, _mm256_madd_epi16(a0, b0));
        c41 = _mm256_add_epi32(c41, _mm256_madd_epi16(a0, b1));
        c50 = _mm256_add_epi32(c50, _mm256_madd_epi16(a1, b0));
        c51 = _mm256_add_epi32(c51, _mm256_madd_epi16(a1, b1));
        a += MR; b += NR;
    }
    __m256i acc[MR][2] = { { c00, c01 }, { c10, c11 }, { c20, c21 }, { c30, c31 },
                           { c40, c41 }, { c50, c51 } };
    if (mr == MR && nr == NR) {
        for (int r = 0; r < MR; r++) {
            __m256i *cr = (__m256i *)(c + r * ldc);
            if (first) {
                _mm256_storeu_si256(cr, acc[r][0]);
                _mm256_storeu_si256(cr + 1, acc[r][1]);
            } else {
                _mm256_storeu_si256(cr, _mm256_add_epi32(acc[r][0], _mm256_loadu_si256(cr)));
                _mm256_storeu_si256(cr + 1, _mm256_add_epi32(acc[r][1], _mm256_loadu_si256(cr + 1)));
            }
        }
        return;
    }
    int32_t t[MR][NR];
    for (int r = 0; r < MR; r++) {
        _mm256_storeu_si256((__m256i *)t[r], acc[r][0]);
        _mm256_storeu_si256((__m256i *)(t[r] + 8), acc[r][1]);
    }
    for (int r = 0; r < mr; r++)
        for (int j = 0; j < nr; j++)
            c[r * ldc + j] = first ? t[r][j]
                                   : (int32_t)((uint32_t)c[r * ldc + j] + (uint32_t)t[r][j]);
}

static inline int32_t pair16(int32_t lo, int32_t hi)
{
    return (int32_t)(((uint32_t)(uint16_t)(int16_t)hi << 16) | (uint16_t)(int16_t)lo);
}

/* A rows i0..i0+mc, k0..k0+kc → MR-row panels of (a[k] - zp, a[k+1] - zp) int16 pairs */
static void pack_ia(const uint8_t *A, int64_t lda, int32_t zp, int64_t i0, int64_t mc,
                    int64_t k0, int64_t kc, int32_t *pa)
{
    int64_t kp = (kc + 1) / 2;
    for (int64_t ip = 0; ip < mc; ip += MR) {
        int mr = mc - ip < MR ? (int)(mc - ip) : MR;
        int32_t *p = pa + ip * kp;
        for (int r = 0; r < MR; r++) {
            const uint8_t *row = r < mr ? A + (i0 + ip + r) * lda + k0 : NULL;
            for (int64_t q = 0; q < kp; q++) {
                int32_t lo = 0, hi = 0;
                if (row) {
                    lo = (int32_t)row[2 * q] - zp;
                    hi = 2 * q + 1 < kc ? (int32_t)row[2 * q + 1] - zp : 0;
                }
                p[q * MR + r] = pair16(lo, hi);
            }
        }
    }
}

/* Bt rows (= columns of B) j0..j0+nr → one NR panel of int16 pairs */
static void pack_ib(const int8_t *Bt, int64_t ldb, int32_t zp, int64_t j0, int nr, int64_t k0,
                    int64_t kc, int32_t *pb)
{
    int64_t kp = (kc + 1) / 2;
    for (int j = 0; j < NR; j++) {
        const int8_t *row = j < nr ? Bt + (j0 + j) * ldb + k0 : NULL;
        for (int64_t q = 0; q < kp; q++) {
            int32_t lo = 0, hi = 0;
            if (row) {
                lo = (int32_t)row[2 * q] - zp;
                hi = 2 * q + 1 < kc ? (int32_t)row[2 * q + 1] - zp : 0;
            }
            pb[q * NR + j] = pair16(lo, hi);
        }
    }
}

void qk_gemm_u8s8_avx2(int64_t M, int64_t N, int64_t K, const uint8_t *A, int64_t lda,
                       int32_t a_zp, const int8_t *Bt, int64_t ldb, int32_t b_zp, int32_t *C,
                       int64_t ldc);
void qk_gemm_u8s8_avx2(int64_t M, int64_t N, int64_t K, const uint8_t *A, int64_t lda,
                       int32_t a_zp, const int8_t *Bt, int64_t ldb, int32_t b_zp, int32_t *C,
                       int64_t ldc)
{
    if (M <= 0 || N <= 0) return;
    /* zero points outside the 8-bit ranges would not fit int16 after subtraction */
    if (K <= 0 || a_zp < 0 || a_zp > 255 || b_zp < -128 || b_zp > 127) {
        qk_ref_table.gemm_u8s8(M, N, K, A, lda, a_zp, Bt, ldb, b_zp, C, ldc);
        return;
    }
    int nt = gemm_threads(M, N, K);
    int64_t slab = slab_width(N, nt);
    int64_t nslab = (N + slab - 1) / slab;
    int fail = 0;
    #pragma omp parallel num_threads(nt)
    {
        int64_t mc_max = M < I_MC ? M : I_MC, kp_max = I_KC / 2;
        int32_t *pb = scratch((size_t)(((slab + NR - 1) / NR) * NR * kp_max) * sizeof *pb);
        int32_t *pa = scratch((size_t)(((mc_max + MR - 1) / MR) * MR * kp_max) * sizeof *pa);
        if (!pb || !pa) {
            #pragma omp atomic write
            fail = 1;
        }
        #pragma omp barrier
        int anyfail;
        #pragma omp atomic read
        anyfail = fail;
        #pragma omp for schedule(dynamic, 1)
        for (int64_t sl = 0; sl < nslab; sl++) {
            if (anyfail) continue;
            int64_t jc = sl * slab, nc = N - jc < slab ? N - jc : slab;
            int64_t npan = (nc + NR - 1) / NR;
            for (int64_t pc = 0; pc < K; pc += I_KC) {
                int64_t kc = K - pc < I_KC ? K - pc : I_KC, kp = (kc + 1) / 2;
                for (int64_t jp = 0; jp < npan; jp++) {
                    int nr = nc - jp * NR < NR ? (int)(nc - jp * NR) : NR;
                    pack_ib(Bt, ldb, b_zp, jc + jp * NR, nr, pc, kc, pb + jp * NR * kp);
                }
                for (int64_t ic = 0; ic < M; ic += I_MC) {
                    int64_t mc = M - ic < I_MC ? M - ic : I_MC, mpan = (mc + MR - 1) / MR;
                    pack_ia(A, lda, a_zp, ic, mc, pc, kc, pa);
                    for (int64_t jp = 0; jp < npan; jp++)
                        for (int64_t ip = 0; ip < mpan; ip++) {
                            int nr = nc - jp * NR < NR ? (int)(nc - jp * NR) : NR;
                            int mr = mc - ip * MR < MR ? (int)(mc - ip * MR) : MR;
                            ukr_i6x16(kp, pa + ip * MR * kp, pb + jp * NR * kp,
                                      C + (ic + ip * MR) * ldc + jc + jp * NR, ldc, pc == 0,
                                      mr, nr);
                        }
                }
            }
        }
        free(pb);
        free(pa);
    }
    if (fail)   /* a thread lacked scratch: nothing was computed; the reference path */
        qk_ref_table.gemm_u8s8(M, N, K, A, lda, a_zp, Bt, ldb, b_zp, C, ldc);
}
