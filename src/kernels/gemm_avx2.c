/* gemm_avx2.c — AVX2/FMA GEMMs: fp32 sgemm (Goto-style packing, 6x16 FMA micro-kernel) and
 * exact u8×s8→s32 GEMM (operands widened to int16 at packing time, zero points subtracted
 * there, vpmaddwd micro-kernel: no 16-bit saturation, see src/kernels/README.md). Both run
 * the micro-panels of a block on all threads; each C tile is computed by one thread in a
 * fixed k order, so results do not depend on the thread count. */
#include <immintrin.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "kint.h"
#include "vtr.h"

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

/* threads for a GEMM: one up to 2^25 multiply-adds (under 0.5 ms on one core). On an idle
 * machine two threads would save up to half of that; on a loaded one (the norm on a shared
 * 2-core box) the second thread waits for a scheduler slice, measured at 4-8 ms per call,
 * 10-20x slower than one thread. */
static int gemm_threads(int64_t M, int64_t N, int64_t K)
{
    return M * N * K > ((int64_t)1 << 25) ? qs_k_threads() : 1;
}

/* ======================================================================================
 * fp32
 * ====================================================================================== */

/* The micro-kernels' k loops are inline assembly: 12 accumulators, two B vectors and two
 * temporaries are exactly the 16 ymm registers, and GCC's allocator otherwise spills an
 * accumulator (or, for vpmaddwd's extra temporary, half of them) on every iteration. The
 * fp32 loop does two k steps per branch (fewer loop ops; measured +3-5% per core on Zen 3
 * against OpenBLAS in the same process), with one single step for an odd count; the same
 * change to the int8 loop measured 0-8% slower, so it stays at one step. */

/* C[0..6, 0..16] += alpha * Σ_k a[k][r] b[k][c] (a: 6 per k, b: 16 per k); first: C is
 * not read, = instead of += (the first k block when beta is 0) */
static void ukr_s6x16(int64_t kc, const float *a, const float *b, float *c, int64_t ldc,
                      float alpha, int first, int mr, int nr)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int r = 0; r < mr; r++) {          /* the C tile arrives while the k loop runs */
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + r * ldc + NR - 1), _MM_HINT_T0);
    }
    if (kc > 0) {
        int64_t k = kc;
        __asm__ volatile(
            "cmp $2, %[k]\n\t"
            "jb 3f\n\t"
            "1:\n\t"
            "vmovaps (%[b]), %%ymm12\n\t"
            "vmovaps 32(%[b]), %%ymm13\n\t"
            "vbroadcastss (%[a]), %%ymm14\n\t"
            "vbroadcastss 4(%[a]), %%ymm15\n\t"
            "vfmadd231ps %%ymm12, %%ymm14, %[c00]\n\t"
            "vfmadd231ps %%ymm13, %%ymm14, %[c01]\n\t"
            "vfmadd231ps %%ymm12, %%ymm15, %[c10]\n\t"
            "vfmadd231ps %%ymm13, %%ymm15, %[c11]\n\t"
            "vbroadcastss 8(%[a]), %%ymm14\n\t"
            "vbroadcastss 12(%[a]), %%ymm15\n\t"
            "vfmadd231ps %%ymm12, %%ymm14, %[c20]\n\t"
            "vfmadd231ps %%ymm13, %%ymm14, %[c21]\n\t"
            "vfmadd231ps %%ymm12, %%ymm15, %[c30]\n\t"
            "vfmadd231ps %%ymm13, %%ymm15, %[c31]\n\t"
            "vbroadcastss 16(%[a]), %%ymm14\n\t"
            "vbroadcastss 20(%[a]), %%ymm15\n\t"
            "vfmadd231ps %%ymm12, %%ymm14, %[c40]\n\t"
            "vfmadd231ps %%ymm13, %%ymm14, %[c41]\n\t"
            "vfmadd231ps %%ymm12, %%ymm15, %[c50]\n\t"
            "vfmadd231ps %%ymm13, %%ymm15, %[c51]\n\t"
            "vmovaps 64(%[b]), %%ymm12\n\t"
            "vmovaps 96(%[b]), %%ymm13\n\t"
            "vbroadcastss 24(%[a]), %%ymm14\n\t"
            "vbroadcastss 28(%[a]), %%ymm15\n\t"
            "vfmadd231ps %%ymm12, %%ymm14, %[c00]\n\t"
            "vfmadd231ps %%ymm13, %%ymm14, %[c01]\n\t"
            "vfmadd231ps %%ymm12, %%ymm15, %[c10]\n\t"
            "vfmadd231ps %%ymm13, %%ymm15, %[c11]\n\t"
            "vbroadcastss 32(%[a]), %%ymm14\n\t"
            "vbroadcastss 36(%[a]), %%ymm15\n\t"
            "vfmadd231ps %%ymm12, %%ymm14, %[c20]\n\t"
            "vfmadd231ps %%ymm13, %%ymm14, %[c21]\n\t"
            "vfmadd231ps %%ymm12, %%ymm15, %[c30]\n\t"
            "vfmadd231ps %%ymm13, %%ymm15, %[c31]\n\t"
            "vbroadcastss 40(%[a]), %%ymm14\n\t"
            "vbroadcastss 44(%[a]), %%ymm15\n\t"
            "vfmadd231ps %%ymm12, %%ymm14, %[c40]\n\t"
            "vfmadd231ps %%ymm13, %%ymm14, %[c41]\n\t"
            "vfmadd231ps %%ymm12, %%ymm15, %[c50]\n\t"
            "vfmadd231ps %%ymm13, %%ymm15, %[c51]\n\t"
            "add $48, %[a]\n\t"
            "add $128, %[b]\n\t"
            "sub $2, %[k]\n\t"
            "cmp $2, %[k]\n\t"
            "jae 1b\n\t"
            "3:\n\t"
            "test %[k], %[k]\n\t"
            "jz 4f\n\t"
            "vmovaps (%[b]), %%ymm12\n\t"
            "vmovaps 32(%[b]), %%ymm13\n\t"
            "vbroadcastss (%[a]), %%ymm14\n\t"
            "vbroadcastss 4(%[a]), %%ymm15\n\t"
            "vfmadd231ps %%ymm12, %%ymm14, %[c00]\n\t"
            "vfmadd231ps %%ymm13, %%ymm14, %[c01]\n\t"
            "vfmadd231ps %%ymm12, %%ymm15, %[c10]\n\t"
            "vfmadd231ps %%ymm13, %%ymm15, %[c11]\n\t"
            "vbroadcastss 8(%[a]), %%ymm14\n\t"
            "vbroadcastss 12(%[a]), %%ymm15\n\t"
            "vfmadd231ps %%ymm12, %%ymm14, %[c20]\n\t"
            "vfmadd231ps %%ymm13, %%ymm14, %[c21]\n\t"
            "vfmadd231ps %%ymm12, %%ymm15, %[c30]\n\t"
            "vfmadd231ps %%ymm13, %%ymm15, %[c31]\n\t"
            "vbroadcastss 16(%[a]), %%ymm14\n\t"
            "vbroadcastss 20(%[a]), %%ymm15\n\t"
            "vfmadd231ps %%ymm12, %%ymm14, %[c40]\n\t"
            "vfmadd231ps %%ymm13, %%ymm14, %[c41]\n\t"
            "vfmadd231ps %%ymm12, %%ymm15, %[c50]\n\t"
            "vfmadd231ps %%ymm13, %%ymm15, %[c51]\n\t"
            "add $24, %[a]\n\t"
            "add $64, %[b]\n\t"
            "4:\n\t"
            : [a] "+r"(a), [b] "+r"(b), [k] "+r"(k),
              [c00] "+x"(c00), [c01] "+x"(c01), [c10] "+x"(c10), [c11] "+x"(c11),
              [c20] "+x"(c20), [c21] "+x"(c21), [c30] "+x"(c30), [c31] "+x"(c31),
              [c40] "+x"(c40), [c41] "+x"(c41), [c50] "+x"(c50), [c51] "+x"(c51)
            :
            : "xmm12", "xmm13", "xmm14", "xmm15", "cc", "memory");
    }
    __m256 acc[MR][2] = { { c00, c01 }, { c10, c11 }, { c20, c21 }, { c30, c31 },
                          { c40, c41 }, { c50, c51 } };
    __m256 va = _mm256_set1_ps(alpha);
    if (mr == MR && nr == NR) {
        for (int r = 0; r < MR; r++) {
            float *cr = c + r * ldc;
            if (first) {
                _mm256_storeu_ps(cr, _mm256_mul_ps(va, acc[r][0]));
                _mm256_storeu_ps(cr + 8, _mm256_mul_ps(va, acc[r][1]));
            } else {
                _mm256_storeu_ps(cr, _mm256_fmadd_ps(va, acc[r][0], _mm256_loadu_ps(cr)));
                _mm256_storeu_ps(cr + 8, _mm256_fmadd_ps(va, acc[r][1], _mm256_loadu_ps(cr + 8)));
            }
        }
        return;
    }
    float t[MR][NR];
    for (int r = 0; r < MR; r++) {
        _mm256_storeu_ps(t[r], acc[r][0]);
        _mm256_storeu_ps(t[r] + 8, acc[r][1]);
    }
    for (int r = 0; r < mr; r++)
        for (int j = 0; j < nr; j++)
            c[r * ldc + j] = first ? alpha * t[r][j] : fmaf(alpha, t[r][j], c[r * ldc + j]);
}

/* stores lanes 0..5 of v at p (6 floats / int32s) */
static inline void store6(void *p, __m256 v)
{
    _mm_storeu_ps((float *)p, _mm256_castps256_ps128(v));
    _mm_storel_pi((__m64 *)((float *)p + 4), _mm256_extractf128_ps(v, 1));
}

/* packs one MR-row panel of op(A): rows i0..i0+mr, k0..k0+kc, zero padded to MR rows;
 * p[k * MR + r] */
static void pack_sa(int ta, const float *A, int64_t lda, int64_t i0, int mr, int64_t k0,
                    int64_t kc, float *p)
{
    int64_t k = 0;
    if (!ta && mr == MR) {          /* rows contiguous in k: 8x8 transposes (2 rows spare) */
        const float *row[MR];
        for (int r = 0; r < MR; r++) row[r] = A + (i0 + r) * lda + k0;
        for (; k + 8 <= kc; k += 8) {
            __m256 v[8];
            for (int r = 0; r < MR; r++) v[r] = _mm256_loadu_ps(row[r] + k);
            v[6] = v[7] = _mm256_setzero_ps();
            qk_tr8x8(v);
            for (int i = 0; i < 8; i++) store6(p + (k + i) * MR, v[i]);
        }
    }
    for (; k < kc; k++) {
        for (int r = 0; r < mr; r++) {
            int64_t i = i0 + r, kk = k0 + k;
            p[k * MR + r] = ta ? A[kk * lda + i] : A[i * lda + kk];
        }
        for (int r = mr; r < MR; r++) p[k * MR + r] = 0.0f;
    }
}

/* packs one 16-column panel of op(B): columns j0..j0+nr, k0..k0+kc (zero padded) */
static void pack_sb(int tb, const float *B, int64_t ldb, int64_t j0, int nr, int64_t k0,
                    int64_t kc, float *pb)
{
    int64_t k = 0;
    if (tb && nr == NR) {           /* Bᵀ rows contiguous in k: two 8x8 transposes */
        for (; k + 8 <= kc; k += 8)
            for (int h = 0; h < 2; h++) {
                __m256 v[8];
                for (int j = 0; j < 8; j++)
                    v[j] = _mm256_loadu_ps(B + (j0 + h * 8 + j) * ldb + k0 + k);
                qk_tr8x8(v);
                for (int i = 0; i < 8; i++) _mm256_store_ps(pb + (k + i) * NR + h * 8, v[i]);
            }
    }
    for (; k < kc; k++) {
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

/* Packed A is shared by the column slabs without a barrier: block (k block, row block) is
 * packed by the first slab that needs it (state 0 → 1 → 2); a slab that finds it still being
 * packed packs a private copy instead of waiting, so a descheduled thread never holds the
 * others up. The packed bytes are the same whoever packs them, so results do not change.
 * A pass covers at most QK_APACK_MAX packed elements of A (rows_per_pass). */
#define QK_APACK_MAX ((int64_t)1 << 24)

static int64_t rows_per_pass(int64_t M, int64_t K)
{
    int64_t r = QK_APACK_MAX / (K > 0 ? K : 1) / S_MC * S_MC;
    if (r < S_MC) r = S_MC;
    return r < M ? r : M;
}

typedef struct ablk {
    atomic_int *state;      /* per block: 0 not packed, 1 being packed, 2 packed */
    int64_t nblk;           /* blocks */
} ablk;

static int ablk_init(ablk *b, int64_t nblk)
{
    b->nblk = nblk;
    b->state = malloc((size_t)nblk * sizeof *b->state);
    if (!b->state) return 0;
    for (int64_t i = 0; i < nblk; i++) atomic_init(&b->state[i], 0);
    return 1;
}
static void ablk_reset(ablk *b)
{
    for (int64_t i = 0; i < b->nblk; i++) atomic_store_explicit(&b->state[i], 0, memory_order_relaxed);
}
/* 2: use the shared copy; 1: this thread packs the shared copy, then calls ablk_done;
 * 0: another thread is packing it, pack a private copy */
static int ablk_claim(ablk *b, int64_t i)
{
    int st = atomic_load_explicit(&b->state[i], memory_order_acquire);
    if (st == 2) return 2;
    int zero = 0;
    if (st == 0 && atomic_compare_exchange_strong_explicit(&b->state[i], &zero, 1,
                                                           memory_order_acq_rel,
                                                           memory_order_acquire))
        return 1;
    return atomic_load_explicit(&b->state[i], memory_order_acquire) == 2 ? 2 : 0;
}
static void ablk_done(ablk *b, int64_t i)
{
    atomic_store_explicit(&b->state[i], 2, memory_order_release);
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
    /* C = beta·C first (beta 0 does not read C), then every k block adds alpha·A·B; with
     * beta 0 the first k block stores instead (no separate pass over C) */
    int scaled = beta != 1.0f && (beta != 0.0f || K <= 0 || alpha == 0.0f);
    float rest_beta = scaled ? 1.0f : beta;     /* beta for rows the fallback computes */
    if (scaled) {
        #pragma omp parallel for schedule(static) num_threads(nt)
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
    }
    if (K <= 0 || alpha == 0.0f) return;
    /* C is cut into column slabs handed out dynamically; each slab packs its own panels of
     * op(B) and takes packed A blocks (rows m0..m0+mm of a pass; block pc of k holds all its
     * MR-row panels at pa + Mp·pc) from the shared copy (ablk). No barrier inside a call;
     * each C element is summed in the same k order whatever the thread. All scratch is
     * allocated up front, so a failure falls back to the reference path before any work. */
    int64_t slab = slab_width(N, nt);
    int64_t nslab = (N + slab - 1) / slab;
    int64_t mstep = rows_per_pass(M, K);
    int64_t mp_max = (mstep + MR - 1) / MR * MR, nkb = (K + S_KC - 1) / S_KC;
    int64_t nic_max = (mstep + S_MC - 1) / S_MC;
    size_t pb_len = (size_t)(((slab + NR - 1) / NR) * NR * S_KC), ap_len = (size_t)(S_MC * S_KC);
    float *pa = scratch((size_t)(mp_max * K) * sizeof *pa);
    float *tscr = scratch((size_t)nt * (pb_len + ap_len) * sizeof *tscr);
    ablk ab = { NULL, 0 };
    if (!pa || !tscr || !ablk_init(&ab, nkb * nic_max)) {
        free(pa); free(tscr); free(ab.state);
        qk_ref_table.sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, rest_beta, C, ldc);
        return;
    }
    for (int64_t m0 = 0; m0 < M; m0 += mstep) {
        int64_t mm = M - m0 < mstep ? M - m0 : mstep, mpan = (mm + MR - 1) / MR;
        int64_t Mp = mpan * MR, nic = (mm + S_MC - 1) / S_MC;
        ablk_reset(&ab);
        #pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
        for (int64_t sl = 0; sl < nslab; sl++) {
            float *pb = tscr + (size_t)omp_get_thread_num() * (pb_len + ap_len), *ap = pb + pb_len;
            int64_t jc = sl * slab, nc = N - jc < slab ? N - jc : slab;
            int64_t npan = (nc + NR - 1) / NR;
            for (int64_t pc = 0; pc < K; pc += S_KC) {
                int64_t kc = K - pc < S_KC ? K - pc : S_KC;
                for (int64_t jp = 0; jp < npan; jp++) {
                    int nr = nc - jp * NR < NR ? (int)(nc - jp * NR) : NR;
                    pack_sb(tb, B, ldb, jc + jp * NR, nr, pc, kc, pb + jp * NR * kc);
                }
                for (int64_t ic = 0; ic < mm; ic += S_MC) {
                    int64_t mc = mm - ic < S_MC ? mm - ic : S_MC, mcp = (mc + MR - 1) / MR;
                    int64_t bi = pc / S_KC * nic + ic / S_MC;
                    float *pak = pa + Mp * pc + ic * kc;
                    int claim = ablk_claim(&ab, bi);
                    if (claim != 2) {
                        float *dst = claim == 1 ? pak : ap;
                        for (int64_t ip = 0; ip < mcp; ip++) {
                            int mr = mc - ip * MR < MR ? (int)(mc - ip * MR) : MR;
                            pack_sa(ta, A, lda, m0 + ic + ip * MR, mr, pc, kc, dst + ip * MR * kc);
                        }
                        if (claim == 1) ablk_done(&ab, bi);
                        else pak = ap;
                    }
                    for (int64_t jp = 0; jp < npan; jp++)
                        for (int64_t ip = 0; ip < mcp; ip++) {
                            int nr = nc - jp * NR < NR ? (int)(nc - jp * NR) : NR;
                            int mr = mc - ip * MR < MR ? (int)(mc - ip * MR) : MR;
                            ukr_s6x16(kc, pak + ip * MR * kc, pb + jp * NR * kc,
                                      C + (m0 + ic + ip * MR) * ldc + jc + jp * NR, ldc,
                                      alpha, pc == 0 && beta == 0.0f, mr, nr);
                        }
                }
            }
        }
    }
    free(pa); free(tscr); free(ab.state);
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
    for (int r = 0; r < mr; r++) {
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + r * ldc + NR - 1), _MM_HINT_T0);
    }
    if (kp > 0) {
        int64_t k = kp;
        __asm__ volatile(
            "1:\n\t"
            "vmovdqa (%[b]), %%ymm12\n\t"
            "vmovdqa 32(%[b]), %%ymm13\n\t"
            "vpbroadcastd 0(%[a]), %%ymm14\n\t"
            "vpmaddwd %%ymm12, %%ymm14, %%ymm15\n\t"
            "vpaddd %%ymm15, %[c00], %[c00]\n\t"
            "vpmaddwd %%ymm13, %%ymm14, %%ymm14\n\t"
            "vpaddd %%ymm14, %[c01], %[c01]\n\t"
            "vpbroadcastd 4(%[a]), %%ymm14\n\t"
            "vpmaddwd %%ymm12, %%ymm14, %%ymm15\n\t"
            "vpaddd %%ymm15, %[c10], %[c10]\n\t"
            "vpmaddwd %%ymm13, %%ymm14, %%ymm14\n\t"
            "vpaddd %%ymm14, %[c11], %[c11]\n\t"
            "vpbroadcastd 8(%[a]), %%ymm14\n\t"
            "vpmaddwd %%ymm12, %%ymm14, %%ymm15\n\t"
            "vpaddd %%ymm15, %[c20], %[c20]\n\t"
            "vpmaddwd %%ymm13, %%ymm14, %%ymm14\n\t"
            "vpaddd %%ymm14, %[c21], %[c21]\n\t"
            "vpbroadcastd 12(%[a]), %%ymm14\n\t"
            "vpmaddwd %%ymm12, %%ymm14, %%ymm15\n\t"
            "vpaddd %%ymm15, %[c30], %[c30]\n\t"
            "vpmaddwd %%ymm13, %%ymm14, %%ymm14\n\t"
            "vpaddd %%ymm14, %[c31], %[c31]\n\t"
            "vpbroadcastd 16(%[a]), %%ymm14\n\t"
            "vpmaddwd %%ymm12, %%ymm14, %%ymm15\n\t"
            "vpaddd %%ymm15, %[c40], %[c40]\n\t"
            "vpmaddwd %%ymm13, %%ymm14, %%ymm14\n\t"
            "vpaddd %%ymm14, %[c41], %[c41]\n\t"
            "vpbroadcastd 20(%[a]), %%ymm14\n\t"
            "vpmaddwd %%ymm12, %%ymm14, %%ymm15\n\t"
            "vpaddd %%ymm15, %[c50], %[c50]\n\t"
            "vpmaddwd %%ymm13, %%ymm14, %%ymm14\n\t"
            "vpaddd %%ymm14, %[c51], %[c51]\n\t"
            "add $24, %[a]\n\t"
            "add $64, %[b]\n\t"
            "dec %[k]\n\t"
            "jnz 1b\n\t"
            : [a] "+r"(a), [b] "+r"(b), [k] "+r"(k),
              [c00] "+x"(c00), [c01] "+x"(c01), [c10] "+x"(c10), [c11] "+x"(c11),
              [c20] "+x"(c20), [c21] "+x"(c21), [c30] "+x"(c30), [c31] "+x"(c31),
              [c40] "+x"(c40), [c41] "+x"(c41), [c50] "+x"(c50), [c51] "+x"(c51)
            :
            : "xmm12", "xmm13", "xmm14", "xmm15", "cc", "memory");
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

/* one MR-row panel of A (rows i0..i0+mr, k0..k0+kc) as (a[k] - zp, a[k+1] - zp) int16
 * pairs, zero padded to MR rows and to an even k: p[q * MR + r] */
static void pack_ia(const uint8_t *A, int64_t lda, int32_t zp, int64_t i0, int mr, int64_t k0,
                    int64_t kc, int32_t *p)
{
    int64_t kp = (kc + 1) / 2, q = 0;
    if (mr == MR) {                 /* 16 bytes of 6 rows → 8 pairs each, 8x8 transpose */
        const __m256i z = _mm256_set1_epi16((int16_t)zp);
        for (; 2 * q + 16 <= kc; q += 8) {
            __m256 v[8];
            for (int r = 0; r < MR; r++) {
                __m128i b8 = _mm_loadu_si128((const __m128i *)(A + (i0 + r) * lda + k0 + 2 * q));
                v[r] = _mm256_castsi256_ps(_mm256_sub_epi16(_mm256_cvtepu8_epi16(b8), z));
            }
            v[6] = v[7] = _mm256_setzero_ps();
            qk_tr8x8(v);
            for (int i = 0; i < 8; i++) store6(p + (q + i) * MR, v[i]);
        }
    }
    for (; q < kp; q++) {
        for (int r = 0; r < MR; r++) {
            int32_t lo = 0, hi = 0;
            if (r < mr) {
                const uint8_t *row = A + (i0 + r) * lda + k0;
                lo = (int32_t)row[2 * q] - zp;
                hi = 2 * q + 1 < kc ? (int32_t)row[2 * q + 1] - zp : 0;
            }
            p[q * MR + r] = pair16(lo, hi);
        }
    }
}

/* Bt rows (= columns of B) j0..j0+nr → one NR panel of int16 pairs: pb[q * NR + j] */
static void pack_ib(const int8_t *Bt, int64_t ldb, int32_t zp, int64_t j0, int nr, int64_t k0,
                    int64_t kc, int32_t *pb)
{
    int64_t kp = (kc + 1) / 2, q = 0;
    if (nr == NR) {                 /* 16 bytes of 8 rows → 8 pairs each, 8x8 transposes */
        const __m256i z = _mm256_set1_epi16((int16_t)zp);
        for (; 2 * q + 16 <= kc; q += 8)
            for (int h = 0; h < 2; h++) {
                __m256 v[8];
                for (int j = 0; j < 8; j++) {
                    __m128i b8 = _mm_loadu_si128((const __m128i *)(Bt + (j0 + h * 8 + j) * ldb +
                                                                   k0 + 2 * q));
                    v[j] = _mm256_castsi256_ps(_mm256_sub_epi16(_mm256_cvtepi8_epi16(b8), z));
                }
                qk_tr8x8(v);
                for (int i = 0; i < 8; i++)
                    _mm256_store_ps((float *)(pb + (q + i) * NR + h * 8), v[i]);
            }
    }
    for (; q < kp; q++) {
        for (int j = 0; j < NR; j++) {
            int32_t lo = 0, hi = 0;
            if (j < nr) {
                const int8_t *row = Bt + (j0 + j) * ldb + k0;
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
    /* the same structure as sgemm (k blocks of I_KC, kp = kc/2 pairs; block pc of k at
     * pa + Mp·pc/2) */
    int nt = gemm_threads(M, N, K);
    int64_t slab = slab_width(N, nt);
    int64_t nslab = (N + slab - 1) / slab;
    int64_t mstep = rows_per_pass(M, K);
    int64_t mp_max = (mstep + MR - 1) / MR * MR, kpt = (K + I_KC - 1) / I_KC * (I_KC / 2);
    int64_t nkb = (K + I_KC - 1) / I_KC, nic_max = (mstep + I_MC - 1) / I_MC;
    size_t pb_len = (size_t)(((slab + NR - 1) / NR) * NR * (I_KC / 2));
    size_t ap_len = (size_t)(I_MC * (I_KC / 2));
    int32_t *pa = scratch((size_t)(mp_max * kpt) * sizeof *pa);
    int32_t *tscr = scratch((size_t)nt * (pb_len + ap_len) * sizeof *tscr);
    ablk ab = { NULL, 0 };
    if (!pa || !tscr || !ablk_init(&ab, nkb * nic_max)) {
        free(pa); free(tscr); free(ab.state);
        qk_ref_table.gemm_u8s8(M, N, K, A, lda, a_zp, Bt, ldb, b_zp, C, ldc);
        return;
    }
    for (int64_t m0 = 0; m0 < M; m0 += mstep) {
        int64_t mm = M - m0 < mstep ? M - m0 : mstep, mpan = (mm + MR - 1) / MR;
        int64_t Mp = mpan * MR, nic = (mm + I_MC - 1) / I_MC;
        ablk_reset(&ab);
        #pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
        for (int64_t sl = 0; sl < nslab; sl++) {
            int32_t *pb = tscr + (size_t)omp_get_thread_num() * (pb_len + ap_len), *ap = pb + pb_len;
            int64_t jc = sl * slab, nc = N - jc < slab ? N - jc : slab;
            int64_t npan = (nc + NR - 1) / NR;
            for (int64_t pc = 0; pc < K; pc += I_KC) {
                int64_t kc = K - pc < I_KC ? K - pc : I_KC, kp = (kc + 1) / 2;
                for (int64_t jp = 0; jp < npan; jp++) {
                    int nr = nc - jp * NR < NR ? (int)(nc - jp * NR) : NR;
                    pack_ib(Bt, ldb, b_zp, jc + jp * NR, nr, pc, kc, pb + jp * NR * kp);
                }
                for (int64_t ic = 0; ic < mm; ic += I_MC) {
                    int64_t mc = mm - ic < I_MC ? mm - ic : I_MC, mcp = (mc + MR - 1) / MR;
                    int64_t bi = pc / I_KC * nic + ic / I_MC;
                    int32_t *pak = pa + Mp * (pc / 2) + ic * kp;
                    int claim = ablk_claim(&ab, bi);
                    if (claim != 2) {
                        int32_t *dst = claim == 1 ? pak : ap;
                        for (int64_t ip = 0; ip < mcp; ip++) {
                            int mr = mc - ip * MR < MR ? (int)(mc - ip * MR) : MR;
                            pack_ia(A, lda, a_zp, m0 + ic + ip * MR, mr, pc, kc,
                                    dst + ip * MR * kp);
                        }
                        if (claim == 1) ablk_done(&ab, bi);
                        else pak = ap;
                    }
                    for (int64_t jp = 0; jp < npan; jp++)
                        for (int64_t ip = 0; ip < mcp; ip++) {
                            int nr = nc - jp * NR < NR ? (int)(nc - jp * NR) : NR;
                            int mr = mc - ip * MR < MR ? (int)(mc - ip * MR) : MR;
                            ukr_i6x16(kp, pak + ip * MR * kp, pb + jp * NR * kp,
                                      C + (m0 + ic + ip * MR) * ldc + jc + jp * NR, ldc,
                                      pc == 0, mr, nr);
                        }
                }
            }
        }
    }
    free(pa); free(tscr); free(ab.state);
}
