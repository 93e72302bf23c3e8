/* vgemm.h — internal to src/kernels: the wide-vector GEMMs written once over a small set of
 * vector macros and instantiated per instruction set:
 *   gemm_avx512.c     sgemm on __m512 (12x32 tile)                            tier avx512
 *   gemm_vnni.c       u8s8 GEMM on __m512 with vpdpbusd (AVX512-VNNI)          tier vnni
 *   gemm_avxvnni.c    u8s8 GEMM on __m256 with vpdpbusd (AVX-VNNI)             tier vnni (256)
 *   gemm_amx.c        u8s8 GEMM on AMX tiles (its own micro-kernel and packers) tier amx
 *   gemm_vemu*_avx2.c the same code with AVX2 emulations of the 512-bit vectors and of
 *                     vpdpbusd: test-only tables (qs_k_emulated), so the packing, blocking,
 *                     tails and zero-point algebra of the kernels that an AVX2-only machine
 *                     cannot execute are run and compared with _ref there.
 * The structure mirrors gemm_avx2.c (Goto-style, column slabs handed out dynamically, packed
 * A blocks shared without a barrier, each C element summed by one thread in a fixed k order).
 *
 * Exact int8 with vpdpbusd: A (u8) and Bt (s8) are packed raw, 4 consecutive k per 32-bit
 * lane; vpdpbusd adds the four u8·s8 products (each |p| <= 32640) to the int32 lane with
 * wrap-around, no saturation (that is vpdpbusds). The zero points are applied afterwards:
 *   Σ(a-az)(b-bz) = Σab - az·Σb - bz·Σa + K·az·bz,
 * all in arithmetic modulo 2^32, which is what _ref's int64 sum truncated to int32 is; so the
 * result is bit-identical to _ref for every K and every zero point.
 *
 * Instantiation macros (define before including):
 *   VG_MR, VG_VL            rows of the tile; int32/float lanes per vector (tile NR = 2·VL)
 *   VG_SGEMM                name of the sgemm to define (optional), with
 *     VF, vf_zero(), vf_load(p), vf_loadu(p), vf_storeu(p, v), vf_set1(x), vf_fma(a, b, c)
 *     (a·b + c), vf_mul(a, b), and optionally VG_S_UKR, a micro-kernel with vg_ukr_s's
 *     signature and results (gemm_avx512.c's asm; the emulated instances use vg_ukr_s)
 *   VG_I8GEMM               name of the u8s8 GEMM to define (optional), with (optional)
 *     VG_I8_KLOOP(kq, a, b, acc) an asm k loop writing the accumulators to acc, and
 *     VI, vi_zero(), vi_load(p), vi_loadu(p), vi_storeu(p, v), vi_set1(x), vi_add(a, b),
 *     vi_dp(acc, u8s, s8s) (vpdpbusd), vi_hsum(v) (sum of the int32 lanes, wrapping)
 *   VG_I8_UKR, VG_I8_PACK_A, VG_I8_PACK_B (optional, together): a micro-kernel and packers
 *     of the same signatures as vg_ukr_i, vg_pack_ia, vg_pack_ib below, declared by the
 *     includer, in place of those (gemm_amx.c: AMX tiles; VG_MR may then be any multiple of
 *     4), with VG_I8_KQ(kc) (32-bit words per packed row or column of a k block: default
 *     (kc+3)/4; VG_I8_KQ(VG_I_KC) must be VG_I_KC/4), VG_I_KC and VG_MC (block sizes)
 *     and VG_I8_SLAB_BEGIN() / VG_I8_SLAB_END() (run by the thread around each column slab
 *     it takes: the tile configuration);
 *   VG_THREAD_MACS          products up to this many multiply-adds run on one thread
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "kint.h"
#include "vtr.h"

#define VG_NR (2 * VG_VL)
/* the tile's rows spelled out: the accumulators are named variables (an array indexed in a
 * loop is kept in memory by GCC, which stores every accumulator on each k step) */
#if VG_MR == 12
#define VG_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#elif VG_MR == 6
#define VG_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
#elif defined(VG_I8_UKR) && !defined(VG_SGEMM)
/* the includer's own micro-kernel: no row macro */
#else
#error "VG_MR must be 6 or 12"
#endif
/* fp32 k block: gemm_avx2.c's S_KC, so that every table sums each C element over the same
 * k blocks in the same order and the fp32 GEMM is bit-identical across tiers (a lesson's
 * perplexity must not depend on the CPU; test_kernels' sgemm_tiers_identical). B
 * micro-panel 256·NR·4 bytes: 32 KB at NR 32. */
#define VG_S_KC 256
#ifndef VG_I_KC
#define VG_I_KC 512             /* int8 k block in bytes (a multiple of 4): 128 quads */
#endif
#ifndef VG_MC
#define VG_MC (12 * VG_MR)      /* rows of A per block */
#endif
#define VG_NC 3072              /* int8: columns per slab at most */
#define VG_S_NC 1024            /* fp32: columns per slab at most; its packed B (1 MB) stays in
                                 * L2 while the micro-kernel runs along it (see VG_SGEMM) */
#define VG_APACK_MAX ((int64_t)1 << 24)

static void *vg_scratch(size_t bytes)
{
    return aligned_alloc(64, (bytes + 63) / 64 * 64);
}

static int64_t vg_slab_width(int64_t N, int nt, int64_t nc_max)
{
    int64_t w = (N + 4 * nt - 1) / (4 * nt);
    w = (w + VG_NR - 1) / VG_NR * VG_NR;
    if (w < 2 * VG_NR) w = 2 * VG_NR;
    return w > nc_max ? nc_max : w;
}

/* one thread up to 2^25 multiply-adds, as gemm_avx2.c (a second thread on a loaded machine
 * waits for a scheduler slice longer than the product takes); VG_THREAD_MACS overrides */
#ifndef VG_THREAD_MACS
#define VG_THREAD_MACS ((int64_t)1 << 25)
#endif
static int vg_threads(int64_t M, int64_t N, int64_t K)
{
    return M * N * K > VG_THREAD_MACS ? qs_k_threads() : 1;
}

static int64_t vg_rows_per_pass(int64_t M, int64_t K)
{
    int64_t r = VG_APACK_MAX / (K > 0 ? K : 1) / VG_MC * VG_MC;
    if (r < VG_MC) r = VG_MC;
    return r < M ? r : M;
}

/* shared packed-A blocks: 0 not packed, 1 being packed, 2 packed (see gemm_avx2.c) */
typedef struct vg_ablk {
    atomic_int *state;
    int64_t nblk;
} vg_ablk;

static int vg_ablk_init(vg_ablk *b, int64_t nblk)
{
    b->nblk = nblk;
    b->state = malloc((size_t)(nblk > 0 ? nblk : 1) * sizeof *b->state);
    if (!b->state) return 0;
    for (int64_t i = 0; i < nblk; i++) atomic_init(&b->state[i], 0);
    return 1;
}
static void vg_ablk_reset(vg_ablk *b)
{
    for (int64_t i = 0; i < b->nblk; i++)
        atomic_store_explicit(&b->state[i], 0, memory_order_relaxed);
}
static int vg_ablk_claim(vg_ablk *b, int64_t i)
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
static void vg_ablk_done(vg_ablk *b, int64_t i)
{
    atomic_store_explicit(&b->state[i], 2, memory_order_release);
}

#ifdef VG_SGEMM
/* ======================================================================================
 * fp32
 * ====================================================================================== */

#ifndef VG_S_UKR
/* C[0..mr, 0..nr] (=|+=) alpha · Σ_k a[k][r] b[k][c]; a: MR floats per k, b: NR per k */
#define VG_S_UKR vg_ukr_s
static void vg_ukr_s(int64_t kc, const float *a, int64_t as, const float *b, int64_t bs,
                     float *c, int64_t ldc, float alpha, int first, int mr, int nr)
{
#define VG_SDECL(r) VF c##r##_0 = vf_zero(), c##r##_1 = vf_zero();
#define VG_SSTEP(r) { VF av = vf_set1(a[r]); c##r##_0 = vf_fma(av, b0, c##r##_0); \
                      c##r##_1 = vf_fma(av, b1, c##r##_1); }
#define VG_SSAVE(r) acc[r][0] = c##r##_0; acc[r][1] = c##r##_1;
    VG_ROWS(VG_SDECL)
    for (int r = 0; r < mr; r++) {
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + r * ldc + VG_NR - 1), _MM_HINT_T0);
    }
    for (int64_t k = 0; k < kc; k++) {
        VF b0 = vf_load(b), b1 = vf_load(b + VG_VL);
        VG_ROWS(VG_SSTEP)
        a += as;
        b += bs;
    }
    VF acc[VG_MR][2];
    VG_ROWS(VG_SSAVE)
    VF va = vf_set1(alpha);
    if (mr == VG_MR && nr == VG_NR) {
#pragma GCC unroll 16
        for (int r = 0; r < VG_MR; r++) {
            float *cr = c + r * ldc;
            if (first) {
                vf_storeu(cr, vf_mul(va, acc[r][0]));
                vf_storeu(cr + VG_VL, vf_mul(va, acc[r][1]));
            } else {
                vf_storeu(cr, vf_fma(va, acc[r][0], vf_loadu(cr)));
                vf_storeu(cr + VG_VL, vf_fma(va, acc[r][1], vf_loadu(cr + VG_VL)));
            }
        }
        return;
    }
    float t[VG_MR][VG_NR];
    for (int r = 0; r < VG_MR; r++) {
        vf_storeu(t[r], acc[r][0]);
        vf_storeu(t[r] + VG_VL, acc[r][1]);
    }
    for (int r = 0; r < mr; r++)
        for (int j = 0; j < nr; j++)
            c[r * ldc + j] = first ? alpha * t[r][j] : fmaf(alpha, t[r][j], c[r * ldc + j]);
}
#endif

/* Packing: 8x8 transposes on ymm (AVX2, which every instance's flags include: the real
 * tier, the vemu and zemu test instances), so an operand whose rows run along k (A as
 * given, B given transposed, the common case) costs about a quarter cycle per element
 * rather than one scalar store each (at 64x256x784 scalar packing of Bᵀ took a third of
 * the time). */
#if VG_MR % 4 != 0
#error "vgemm.h's fp32 packing needs VG_MR a multiple of 4"
#endif

/* rows[0..n) (n <= 8; the rest zero), each contiguous in k, columns k..k+8 transposed:
 * p[i * stride + 0..w) = (rows[0..w)[k + i]) for i < 8; w is 8 or 4 */
static inline __attribute__((always_inline)) void
vg_tr_rows(const float *const *rows, int n, int64_t k, float *p, int64_t stride, int w)
{
    __m256 v[8];
#pragma GCC unroll 8
    for (int j = 0; j < 8; j++) v[j] = j < n ? _mm256_loadu_ps(rows[j] + k) : _mm256_setzero_ps();
    qk_tr8x8(v);
    if (w == 8) {
#pragma GCC unroll 8
        for (int i = 0; i < 8; i++) _mm256_storeu_ps(p + i * stride, v[i]);
    } else {
#pragma GCC unroll 8
        for (int i = 0; i < 8; i++) _mm_storeu_ps(p + i * stride, _mm256_castps256_ps128(v[i]));
    }
}

/* the first n (may be <= 0) of 4 / 8 floats at p, zeros after: vmaskmovps reads only the
 * selected lanes (no access past the end of a matrix) */
static inline __attribute__((always_inline)) __m128 vg_load4(const float *p, int n)
{
    __m128i lane = _mm_setr_epi32(0, 1, 2, 3);
    return _mm_maskload_ps(p, _mm_cmpgt_epi32(_mm_set1_epi32(n), lane));
}
static inline __attribute__((always_inline)) __m256 vg_load8(const float *p, int n)
{
    __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_maskload_ps(p, _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lane));
}

/* one MR-row panel of op(A): p[k * MR + r], zero padded to MR rows */
static void vg_pack_sa(int ta, const float *A, int64_t lda, int64_t i0, int mr, int64_t k0,
                       int64_t kc, float *p)
{
    int64_t k = 0;
    if (ta) {                   /* Aᵀ given: the MR values of one k are contiguous */
        const float *src = A + k0 * lda + i0;
        if (mr == VG_MR)
            for (; k < kc; k++, src += lda) {
#pragma GCC unroll 8
                for (int r = 0; r < VG_MR; r += 4)
                    _mm_storeu_ps(p + k * VG_MR + r, _mm_loadu_ps(src + r));
            }
        for (; k < kc; k++, src += lda)
            for (int r = 0; r < VG_MR; r += 4)
                _mm_storeu_ps(p + k * VG_MR + r, r + 4 <= mr ? _mm_loadu_ps(src + r)
                                                             : vg_load4(src + r, mr - r));
        return;
    }
    const float *rows[VG_MR];
    for (int r = 0; r < VG_MR; r++) rows[r] = A + (i0 + (r < mr ? r : 0)) * lda + k0;
    if (mr == VG_MR)            /* constant row counts: the transposes stay in registers */
        for (; k + 8 <= kc; k += 8) {
#pragma GCC unroll 8
            for (int g = 0; g < VG_MR; g += 8)
                vg_tr_rows(rows + g, VG_MR - g >= 8 ? 8 : 4, k, p + k * VG_MR + g, VG_MR,
                           VG_MR - g >= 8 ? 8 : 4);
        }
    for (; k + 8 <= kc; k += 8)
        for (int g = 0; g < VG_MR; g += 8) {
            int n = mr - g < 0 ? 0 : mr - g > 8 ? 8 : mr - g;
            vg_tr_rows(rows + g, n, k, p + k * VG_MR + g, VG_MR, VG_MR - g >= 8 ? 8 : 4);
        }
    for (; k < kc; k++)
        for (int r = 0; r < VG_MR; r++) p[k * VG_MR + r] = r < mr ? rows[r][k] : 0.0f;
}

/* one NR-column panel of op(B): pb[k * NR + j], zero padded to NR columns */
static void vg_pack_sb(int tb, const float *B, int64_t ldb, int64_t j0, int nr, int64_t k0,
                       int64_t kc, float *pb)
{
    if (!tb) {
        for (int64_t k = 0; k < kc; k++) {
            float *p = pb + k * VG_NR;
            const float *src = B + (k0 + k) * ldb + j0;
            if (nr == VG_NR) {
                vf_storeu(p, vf_loadu(src));
                vf_storeu(p + VG_VL, vf_loadu(src + VG_VL));
                continue;
            }
            for (int j = 0; j < VG_NR; j += 8)
                _mm256_storeu_ps(p + j, j + 8 <= nr ? _mm256_loadu_ps(src + j)
                                                    : vg_load8(src + j, nr - j));
        }
        return;
    }
    const float *rows[VG_NR];
    for (int j = 0; j < VG_NR; j++) rows[j] = B + (j0 + (j < nr ? j : 0)) * ldb + k0;
    int64_t k = 0;
    if (nr == VG_NR)
        for (; k + 8 <= kc; k += 8) {
#pragma GCC unroll 8
            for (int g = 0; g < VG_NR; g += 8)
                vg_tr_rows(rows + g, 8, k, pb + k * VG_NR + g, VG_NR, 8);
        }
    for (; k + 8 <= kc; k += 8)
        for (int g = 0; g < VG_NR; g += 8) {
            int n = nr - g < 0 ? 0 : nr - g > 8 ? 8 : nr - g;
            vg_tr_rows(rows + g, n, k, pb + k * VG_NR + g, VG_NR, 8);
        }
    for (; k < kc; k++)
        for (int j = 0; j < VG_NR; j++) pb[k * VG_NR + j] = j < nr ? rows[j][k] : 0.0f;
}

/* the tiles the micro-kernel reads exactly: an operand already in the packed layout (Aᵀ,
 * B as given) is read in place for these (direct_a, direct_b) */
#ifndef VG_S_EXACT_ROWS
#define VG_S_EXACT_ROWS(mr) ((mr) == VG_MR)
#define VG_S_EXACT_COLS(nr) ((nr) == VG_NR)
#endif

/* one call's shape and scratch, for the column slabs */
typedef struct vg_sjob {
    int ta, tb, share_a, direct_a, direct_b;
    int64_t N, K, lda, ldb, ldc, slab, m0, mm, Mp, nic;
    float alpha, beta;
    const float *A, *B;
    float *C, *pa;
    vg_ablk *ab;
} vg_sjob;

/* columns jc.. of slab sl over rows m0..m0+mm of a pass, every k block; pb and ap are the
 * thread's packed B panels and private A block */
static void vg_s_slab(const vg_sjob *J, int64_t sl, float *pb, float *ap)
{
    int64_t jc = sl * J->slab, nc = J->N - jc < J->slab ? J->N - jc : J->slab;
    int64_t npan = (nc + VG_NR - 1) / VG_NR, K = J->K, mm = J->mm, ldc = J->ldc;
    for (int64_t pc = 0; pc < K; pc += VG_S_KC) {
        int64_t kc = K - pc < VG_S_KC ? K - pc : VG_S_KC;
        for (int64_t jp = 0; jp < npan; jp++) {
            int nr = nc - jp * VG_NR < VG_NR ? (int)(nc - jp * VG_NR) : VG_NR;
            if (J->direct_b && VG_S_EXACT_COLS(nr)) continue;
            vg_pack_sb(J->tb, J->B, J->ldb, jc + jp * VG_NR, nr, pc, kc, pb + jp * VG_NR * kc);
        }
        for (int64_t ic = 0; ic < mm; ic += VG_MC) {
            int64_t mc = mm - ic < VG_MC ? mm - ic : VG_MC;
            int64_t mcp = (mc + VG_MR - 1) / VG_MR;
            int64_t bi = pc / VG_S_KC * J->nic + ic / VG_MC;
            float *pak = J->share_a ? J->pa + J->Mp * pc + ic * kc : ap;
            int claim = J->share_a ? vg_ablk_claim(J->ab, bi) : 0;
            if (J->direct_a) {          /* only the panels read inexactly are packed */
                for (int64_t ip = 0; ip < mcp; ip++) {
                    int mr = mc - ip * VG_MR < VG_MR ? (int)(mc - ip * VG_MR) : VG_MR;
                    if (!VG_S_EXACT_ROWS(mr))
                        vg_pack_sa(J->ta, J->A, J->lda, J->m0 + ic + ip * VG_MR, mr, pc, kc,
                                   ap + ip * VG_MR * kc);
                }
            } else if (claim != 2) {
                float *dst = claim == 1 ? pak : ap;
                for (int64_t ip = 0; ip < mcp; ip++) {
                    int mr = mc - ip * VG_MR < VG_MR ? (int)(mc - ip * VG_MR) : VG_MR;
                    vg_pack_sa(J->ta, J->A, J->lda, J->m0 + ic + ip * VG_MR, mr, pc, kc,
                               dst + ip * VG_MR * kc);
                }
                if (claim == 1) vg_ablk_done(J->ab, bi);
                else pak = ap;
            }
            /* one A micro-panel (MR·256 floats: 12 KB) stays in L1 while the slab's B
             * panels stream from L2 past it; the other way round the 32 KB B micro-panel
             * shared L1 with the A panels streaming through and ran about 4% slower at
             * 1024³ on Sapphire Rapids */
            for (int64_t ip = 0; ip < mcp; ip++)
                for (int64_t jp = 0; jp < npan; jp++) {
                    int nr = nc - jp * VG_NR < VG_NR ? (int)(nc - jp * VG_NR) : VG_NR;
                    int mr = mc - ip * VG_MR < VG_MR ? (int)(mc - ip * VG_MR) : VG_MR;
                    int da = J->direct_a && VG_S_EXACT_ROWS(mr);
                    int db = J->direct_b && VG_S_EXACT_COLS(nr);
                    int64_t i0 = J->m0 + ic + ip * VG_MR, j0 = jc + jp * VG_NR;
                    VG_S_UKR(kc, da ? J->A + pc * J->lda + i0 : pak + ip * VG_MR * kc,
                             da ? J->lda : VG_MR,
                             db ? J->B + pc * J->ldb + j0 : pb + jp * VG_NR * kc,
                             db ? J->ldb : VG_NR, J->C + i0 * ldc + j0, ldc, J->alpha,
                             pc == 0 && J->beta == 0.0f, mr, nr);
                }
        }
    }
}

/* scratch of a one-thread call that fits here lives on the stack (32 KB): a small product
 * (the GPT lab's 64x64x16 attention scores) spent a third of its time in malloc/free */
#define VG_S_STACK 8192

void VG_SGEMM(int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
              int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc)
{
    if (M <= 0 || N <= 0) return;
    int nt = vg_threads(M, N, K);
    int scaled = beta != 1.0f && (beta != 0.0f || K <= 0 || alpha == 0.0f);
    float rest_beta = scaled ? 1.0f : beta;
    if (scaled) {
        #pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++)
                C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
    }
    if (K <= 0 || alpha == 0.0f) return;
    /* one thread: no balance to keep, so slabs as wide as L2 allows (1024³: one slab, each
     * A block packed once into L2 and used across all of N; ~+3% against four slabs
     * re-reading a 4 MB packed A) */
    int64_t slab = nt == 1 ? (N + VG_NR - 1) / VG_NR * VG_NR : vg_slab_width(N, nt, VG_S_NC);
    if (slab > VG_S_NC) slab = VG_S_NC;
    int64_t nslab = (N + slab - 1) / slab;
    int64_t mstep = vg_rows_per_pass(M, K);
    int64_t mp_max = (mstep + VG_MR - 1) / VG_MR * VG_MR, nkb = (K + VG_S_KC - 1) / VG_S_KC;
    int64_t nic_max = (mstep + VG_MC - 1) / VG_MC;
    /* per thread: the slab's B panels and a private A block, sized to the problem, each a
     * multiple of 16 floats (64-byte aligned parts) */
    int64_t kc_max = K < VG_S_KC ? K : VG_S_KC;
    size_t pb_len = (size_t)(((slab + VG_NR - 1) / VG_NR) * VG_NR * kc_max);
    size_t ap_len = (size_t)(((mp_max < VG_MC ? mp_max : VG_MC) * kc_max + 15) / 16 * 16);
    /* one slab: nobody shares the packed A, so each block is packed into the thread's own
     * L2-sized buffer (ap) instead of a copy of all of A (256x64x1024 with Aᵀ spent a
     * quarter of its time writing that 1 MB copy) */
    /* Aᵀ / B are read in place (packing them would cost about as much as the product) where
     * a panel of them meets at most two panels of the other operand, or in a product that is
     * small both ways (the GPT lab's 64x16x64 attention products); at 256x784x64 packing
     * both still pays (~3%) */
    int direct_a = ta && (N <= 2 * VG_NR || (K <= 64 && M <= 64));
    int direct_b = !tb && (M <= 2 * VG_MR || (K <= 64 && N <= 64));
    int share_a = nslab > 1 && !direct_a;
    _Alignas(64) float small[VG_S_STACK];
    int on_stack = nt == 1 && !share_a && pb_len + ap_len <= VG_S_STACK;
    float *pa = share_a ? vg_scratch((size_t)(mp_max * K) * sizeof *pa) : NULL;
    float *tscr = on_stack ? small : vg_scratch((size_t)nt * (pb_len + ap_len) * sizeof *tscr);
    vg_ablk ab = { NULL, 0 };
    if ((share_a && !pa) || !tscr || (share_a && !vg_ablk_init(&ab, nkb * nic_max))) {
        free(pa); if (!on_stack) free(tscr); free(ab.state);
        qk_ref_table.sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, rest_beta, C, ldc);
        return;
    }
    vg_sjob J = { ta, tb, share_a, direct_a, direct_b, N, K, lda, ldb, ldc, slab, 0, 0, 0, 0,
                  alpha, beta, A, B, C, pa, &ab };
    for (int64_t m0 = 0; m0 < M; m0 += mstep) {
        int64_t mm = M - m0 < mstep ? M - m0 : mstep, mpan = (mm + VG_MR - 1) / VG_MR;
        J.m0 = m0; J.mm = mm; J.Mp = mpan * VG_MR; J.nic = (mm + VG_MC - 1) / VG_MC;
        vg_ablk_reset(&ab);
        if (nt == 1) {          /* no parallel region (its set-up is felt at small sizes) */
            for (int64_t sl = 0; sl < nslab; sl++) vg_s_slab(&J, sl, tscr, tscr + pb_len);
            continue;
        }
        #pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
        for (int64_t sl = 0; sl < nslab; sl++) {
            float *pb = tscr + (size_t)omp_get_thread_num() * (pb_len + ap_len);
            vg_s_slab(&J, sl, pb, pb + pb_len);
        }
    }
    free(pa); if (!on_stack) free(tscr); free(ab.state);
}
#endif /* VG_SGEMM */

#ifdef VG_I8GEMM
/* ======================================================================================
 * int8: u8 (A) × s8 (Bt) → s32 with vpdpbusd, exact modulo 2^32 (as _ref)
 * ====================================================================================== */

#ifndef VG_I8_UKR
#define VG_I8_UKR vg_ukr_i
#define VG_I8_PACK_A vg_pack_ia
#define VG_I8_PACK_B vg_pack_ib
#define VG_I8_OWN_UKR 1
#endif
#ifndef VG_I8_KQ
#define VG_I8_KQ(kc) (((kc) + 3) / 4)
#endif
#ifndef VG_I8_SLAB_BEGIN
#define VG_I8_SLAB_BEGIN() ((void)0)
#define VG_I8_SLAB_END() ((void)0)
#endif

#ifdef VG_I8_OWN_UKR
/* C tile (=|+=) Σ_quads dpbusd(a quad, b quads); on the last k block adds the zero-point
 * corrections rowc[r] + colc[j]. Wrapping int32 adds throughout (scalar: uint32). */
static void vg_ukr_i(int64_t kq, const int32_t *a, const int32_t *b, int32_t *c, int64_t ldc,
                     int first, int last, const int32_t *rowc, const int32_t *colc, int mr,
                     int nr)
{
#define VG_IDECL(r) VI c##r##_0 = vi_zero(), c##r##_1 = vi_zero();
#define VG_ISTEP(r) { VI av = vi_set1(a[r]); c##r##_0 = vi_dp(c##r##_0, av, b0); \
                      c##r##_1 = vi_dp(c##r##_1, av, b1); }
#define VG_ISAVE(r) acc[r][0] = c##r##_0; acc[r][1] = c##r##_1;
    for (int r = 0; r < mr; r++) {
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + r * ldc + VG_NR - 1), _MM_HINT_T0);
    }
    VI acc[VG_MR][2];
#ifdef VG_I8_KLOOP
    VG_I8_KLOOP(kq, a, b, acc);
#else
    VG_ROWS(VG_IDECL)
    for (int64_t k = 0; k < kq; k++) {
        VI b0 = vi_load(b), b1 = vi_load(b + VG_VL);
        VG_ROWS(VG_ISTEP)
        a += VG_MR;
        b += VG_NR;
    }
    VG_ROWS(VG_ISAVE)
#endif
    if (mr == VG_MR && nr == VG_NR) {
        VI cc0 = last ? vi_loadu(colc) : vi_zero(), cc1 = last ? vi_loadu(colc + VG_VL) : vi_zero();
#pragma GCC unroll 16
        for (int r = 0; r < VG_MR; r++) {
            int32_t *cr = c + r * ldc;
            VI x0 = acc[r][0], x1 = acc[r][1];
            if (last) {
                VI rc = vi_set1(rowc[r]);
                x0 = vi_add(x0, vi_add(rc, cc0));
                x1 = vi_add(x1, vi_add(rc, cc1));
            }
            if (!first) {
                x0 = vi_add(x0, vi_loadu(cr));
                x1 = vi_add(x1, vi_loadu(cr + VG_VL));
            }
            vi_storeu(cr, x0);
            vi_storeu(cr + VG_VL, x1);
        }
        return;
    }
    int32_t t[VG_MR][VG_NR];
    for (int r = 0; r < VG_MR; r++) {
        vi_storeu(t[r], acc[r][0]);
        vi_storeu(t[r] + VG_VL, acc[r][1]);
    }
    for (int r = 0; r < mr; r++)
        for (int j = 0; j < nr; j++) {
            uint32_t v = (uint32_t)t[r][j];
            if (last) v += (uint32_t)rowc[r] + (uint32_t)colc[j];
            if (!first) v += (uint32_t)c[r * ldc + j];
            c[r * ldc + j] = (int32_t)v;
        }
}

#endif /* VG_I8_OWN_UKR */

/* 4 bytes p[0..n) (n <= 4; none when n <= 0) as one 32-bit lane, zero padded: for the
 * last, partial quad of a row only (GCC makes the memcpy of n bytes a byte loop, and the
 * 4-byte load of bytes just stored misses store forwarding: packing every quad this way took
 * 37 % of a 1024³ vnni GEMM) */
static inline int32_t vg_quad(const void *p, int64_t n)
{
    uint8_t q[4] = { 0, 0, 0, 0 };
    if (n > 0) memcpy(q, p, (size_t)(n < 4 ? n : 4));
    int32_t v;
    memcpy(&v, q, 4);
    return v;
}

#ifdef VG_I8_OWN_UKR
/* one MR-row panel of A, raw bytes in quads: p[q * MR + r], zero padded (rows and k) */
static void vg_pack_ia(const uint8_t *A, int64_t lda, int64_t i0, int mr, int64_t k0,
                       int64_t kc, int32_t *p)
{
    int64_t kq = (kc + 3) / 4;
    for (int r = 0; r < VG_MR; r++) {
        if (r >= mr) {
            for (int64_t q = 0; q < kq; q++) p[q * VG_MR + r] = 0;
            continue;
        }
        const uint8_t *row = A + (i0 + r) * lda + k0;
        int64_t q = 0;
        for (; 4 * q + 4 <= kc; q++) memcpy(&p[q * VG_MR + r], row + 4 * q, 4);
        for (; q < kq; q++) p[q * VG_MR + r] = vg_quad(row + 4 * q, kc - 4 * q);
    }
}

/* one NR-column panel (rows j0..j0+nr of Bt), raw bytes in quads: pb[q * NR + j] */
static void vg_pack_ib(const int8_t *Bt, int64_t ldb, int64_t j0, int nr, int64_t k0,
                       int64_t kc, int32_t *pb)
{
    int64_t kq = (kc + 3) / 4;
    for (int j = 0; j < VG_NR; j++) {
        if (j >= nr) {
            for (int64_t q = 0; q < kq; q++) pb[q * VG_NR + j] = 0;
            continue;
        }
        const int8_t *row = Bt + (j0 + j) * ldb + k0;
        int64_t q = 0;
        for (; 4 * q + 4 <= kc; q++) memcpy(&pb[q * VG_NR + j], row + 4 * q, 4);
        for (; q < kq; q++) pb[q * VG_NR + j] = vg_quad(row + 4 * q, kc - 4 * q);
    }
}
#endif /* VG_I8_OWN_UKR */

/* Σ of n bytes (u8 when !is_signed, else s8), modulo 2^32: vpdpbusd against ones */
static uint32_t vg_bytesum(const void *p, int64_t n, int is_signed)
{
    const uint8_t *b = p;
    VI ones = vi_set1(0x01010101), acc = vi_zero();
    int64_t k = 0, step = 4 * VG_VL;
    for (; k + step <= n; k += step) {
        VI v = vi_loadu((const int32_t *)(const void *)(b + k));
        acc = is_signed ? vi_dp(acc, ones, v) : vi_dp(acc, v, ones);
    }
    uint32_t s = (uint32_t)vi_hsum(acc);
    for (; k < n; k++) s += is_signed ? (uint32_t)(int32_t)(int8_t)b[k] : (uint32_t)b[k];
    return s;
}

void VG_I8GEMM(int64_t M, int64_t N, int64_t K, const uint8_t *A, int64_t lda, int32_t a_zp,
               const int8_t *Bt, int64_t ldb, int32_t b_zp, int32_t *C, int64_t ldc)
{
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        qk_ref_table.gemm_u8s8(M, N, K, A, lda, a_zp, Bt, ldb, b_zp, C, ldc);
        return;
    }
    int nt = vg_threads(M, N, K);
    int64_t slab = vg_slab_width(N, nt, VG_NC);
    int64_t nslab = (N + slab - 1) / slab;
    int64_t mstep = vg_rows_per_pass(M, K);
    int64_t mp_max = (mstep + VG_MR - 1) / VG_MR * VG_MR;
    int64_t kqt = (K + VG_I_KC - 1) / VG_I_KC * (VG_I_KC / 4);   /* >= Σ VG_I8_KQ(kc) */
    int64_t nkb = (K + VG_I_KC - 1) / VG_I_KC, nic_max = (mstep + VG_MC - 1) / VG_MC;
    size_t pb_len = (size_t)(((slab + VG_NR - 1) / VG_NR) * VG_NR * (VG_I_KC / 4));
    size_t ap_len = (size_t)(VG_MC * (VG_I_KC / 4));
    int32_t *pa = vg_scratch((size_t)(mp_max * kqt) * sizeof *pa);
    int32_t *tscr = vg_scratch((size_t)nt * (pb_len + ap_len) * sizeof *tscr);
    /* zero-point corrections: rowc[i] = -bz·Σ_k a[i,k]; colc[j] = -az·Σ_k b[j,k] + K·az·bz
     * (mod 2^32), padded to a whole tile so the vector epilogue may read past N */
    int32_t *rowc = vg_scratch((size_t)(M + VG_MR) * sizeof *rowc);
    int32_t *colc = vg_scratch((size_t)(N + VG_NR) * sizeof *colc);
    vg_ablk ab = { NULL, 0 };
    if (!pa || !tscr || !rowc || !colc || !vg_ablk_init(&ab, nkb * nic_max)) {
        free(pa); free(tscr); free(rowc); free(colc); free(ab.state);
        qk_ref_table.gemm_u8s8(M, N, K, A, lda, a_zp, Bt, ldb, b_zp, C, ldc);
        return;
    }
    const uint32_t az = (uint32_t)a_zp, bz = (uint32_t)b_zp;
    const uint32_t kab = (uint32_t)(uint64_t)K * az * bz;
    #pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t i = 0; i < M; i++)
        rowc[i] = b_zp ? (int32_t)(0u - bz * vg_bytesum(A + i * lda, K, 0)) : 0;
    #pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t j = 0; j < N; j++)
        colc[j] = (int32_t)((a_zp ? 0u - az * vg_bytesum(Bt + j * ldb, K, 1) : 0u) + kab);
    for (int64_t i = M; i < M + VG_MR; i++) rowc[i] = 0;
    for (int64_t j = N; j < N + VG_NR; j++) colc[j] = 0;
    for (int64_t m0 = 0; m0 < M; m0 += mstep) {
        int64_t mm = M - m0 < mstep ? M - m0 : mstep, mpan = (mm + VG_MR - 1) / VG_MR;
        int64_t Mp = mpan * VG_MR, nic = (mm + VG_MC - 1) / VG_MC;
        vg_ablk_reset(&ab);
        #pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
        for (int64_t sl = 0; sl < nslab; sl++) {
            int32_t *pb = tscr + (size_t)omp_get_thread_num() * (pb_len + ap_len), *ap = pb + pb_len;
            int64_t jc = sl * slab, nc = N - jc < slab ? N - jc : slab;
            int64_t npan = (nc + VG_NR - 1) / VG_NR;
            VG_I8_SLAB_BEGIN();
            for (int64_t pc = 0; pc < K; pc += VG_I_KC) {
                int64_t kc = K - pc < VG_I_KC ? K - pc : VG_I_KC, kq = VG_I8_KQ(kc);
                int last = pc + kc >= K;
                for (int64_t jp = 0; jp < npan; jp++) {
                    int nr = nc - jp * VG_NR < VG_NR ? (int)(nc - jp * VG_NR) : VG_NR;
                    VG_I8_PACK_B(Bt, ldb, jc + jp * VG_NR, nr, pc, kc, pb + jp * VG_NR * kq);
                }
                for (int64_t ic = 0; ic < mm; ic += VG_MC) {
                    int64_t mc = mm - ic < VG_MC ? mm - ic : VG_MC;
                    int64_t mcp = (mc + VG_MR - 1) / VG_MR;
                    int64_t bi = pc / VG_I_KC * nic + ic / VG_MC;
                    int32_t *pak = pa + Mp * (pc / 4) + ic * kq;
                    int claim = vg_ablk_claim(&ab, bi);
                    if (claim != 2) {
                        int32_t *dst = claim == 1 ? pak : ap;
                        for (int64_t ip = 0; ip < mcp; ip++) {
                            int mr = mc - ip * VG_MR < VG_MR ? (int)(mc - ip * VG_MR) : VG_MR;
                            VG_I8_PACK_A(A, lda, m0 + ic + ip * VG_MR, mr, pc, kc,
                                         dst + ip * VG_MR * kq);
                        }
                        if (claim == 1) vg_ablk_done(&ab, bi);
                        else pak = ap;
                    }
                    for (int64_t jp = 0; jp < npan; jp++)
                        for (int64_t ip = 0; ip < mcp; ip++) {
                            int nr = nc - jp * VG_NR < VG_NR ? (int)(nc - jp * VG_NR) : VG_NR;
                            int mr = mc - ip * VG_MR < VG_MR ? (int)(mc - ip * VG_MR) : VG_MR;
                            int64_t i0 = m0 + ic + ip * VG_MR, j0 = jc + jp * VG_NR;
                            VG_I8_UKR(kq, pak + ip * VG_MR * kq, pb + jp * VG_NR * kq,
                                      C + i0 * ldc + j0, ldc, pc == 0, last, rowc + i0,
                                      colc + j0, mr, nr);
                        }
                }
            }
            VG_I8_SLAB_END();
        }
    }
    free(pa); free(tscr); free(rowc); free(colc); free(ab.state);
}
#endif /* VG_I8GEMM */
