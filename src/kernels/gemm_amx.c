/* gemm_amx.c — tier amx (AMX-TILE + AMX-INT8 over the 512-bit vnni tier): the exact
 * u8×s8→s32 GEMM on AMX tiles. vgemm.h's int8 driver (column slabs handed to threads,
 * shared packed A blocks, row and column sums by vpdpbusd, the zero-point corrections added
 * on the last k block's store) with this file's micro-kernel and packers:
 *   - C in 32×32 blocks, four 16×16 int32 accumulator tiles (tmm0..3: rows 0-15 / 16-31 ×
 *     columns 0-15 / 16-31), two A tiles (tmm4, 5) and two B tiles (tmm6, 7), one k step =
 *     64 bytes of k (16 quads): 4 tile loads and 4 tdpbusd;
 *   - A packed per k step as 32 rows × 64 bytes (the two A tiles, 1 KB each, stride 64);
 *   - Bt packed per k step as two B tiles in the "VNNI layout" tdpbusd reads: 16 rows (one
 *     per quad of k) × 16 columns × 4 bytes (a 16×16 transpose of 32-bit words of Bt);
 *   - tails (M, N not multiples of 32, K not a multiple of 64) zero padded in the packed
 *     buffers: a zero u8 times anything adds 0, and the padded rows and columns are not
 *     stored;
 *   - whole 32×32 blocks skip the epilogue: the accumulators start from the zero-point
 *     corrections (first k block; tilezero without zero points) or from C (later k blocks)
 *     and are stored straight into C; partial blocks go through a 32×32 buffer and masked
 *     stores, adding the corrections on the last k block as vgemm.h's kernels do.
 * tdpbusd adds each group of four u8·s8 products (|Σ| < 2^17) into the int32 element with
 * wrap-around and no saturation, so the sum is Σab modulo 2^32 and vgemm.h's algebra
 * (Σ(a-az)(b-bz) = Σab - az·Σb - bz·Σa + K·az·bz, mod 2^32) gives _ref's result bit for
 * bit for every K and zero point.
 * Tile state: each thread loads the configuration before its first tile instruction of a
 * slab and releases the tiles after (VG_I8_SLAB_BEGIN / END). Linux's permission
 * (ARCH_REQ_XCOMP_PERM) is asked by dispatch.c before the tier is offered.
 * Products under AMX_MIN_MACS (1024) multiply-adds go to the vnni kernel (qk_gemm_u8s8_vnni).
 * Built with the vnni flags + -mamx-tile -mamx-int8 (Makefile: *_amx.c). */
#include <immintrin.h>
#include <stdint.h>

#include "kint.h"

#define AMX_MR 32
#define VG_MR AMX_MR
#define VG_VL 16
/* k blocks of 2048 bytes (32 tile steps between C round trips) and shared A blocks of 128
 * rows: at 1024³ on one core 1024-byte blocks or 384 rows were no faster (noisy 2-core VM) */
#define VG_I_KC 2048            /* a multiple of 64: whole k blocks need no padding, so
                                   vgemm.h's offset of block pc (pc/4 words a row) holds */
#define VG_MC (4 * AMX_MR)
/* one thread up to 2^27 multiply-adds: about the time the vnni kernel's 2^25 take (0.2 ms) */
#define VG_THREAD_MACS ((int64_t)1 << 27)
#define VG_I8_KQ(kc) (((kc) + 63) / 64 * 16)    /* quads per row, padded to a tile step */
#define VG_I8GEMM amx_gemm_tiles
#define VG_I8_UKR amx_ukr
#define VG_I8_PACK_A amx_pack_a
#define VG_I8_PACK_B amx_pack_b
#define VG_I8_SLAB_BEGIN() amx_config()
#define VG_I8_SLAB_END() _tile_release()

#define VI __m512i
#define vi_zero() _mm512_setzero_si512()
#define vi_load(p) _mm512_loadu_si512((const void *)(p))
#define vi_loadu(p) _mm512_loadu_si512((const void *)(p))
#define vi_storeu(p, v) _mm512_storeu_si512((void *)(p), (v))
#define vi_set1(x) _mm512_set1_epi32(x)
#define vi_add(a, b) _mm512_add_epi32((a), (b))
#define vi_dp(acc, a, b) _mm512_dpbusd_epi32((acc), (a), (b))
#define vi_hsum(v) _mm512_reduce_add_epi32(v)

/* the GEMM vgemm.h defines (internal: called by qk_gemm_u8s8_amx) and the pieces it calls */
static void amx_gemm_tiles(int64_t M, int64_t N, int64_t K, const uint8_t *A, int64_t lda,
                           int32_t a_zp, const int8_t *Bt, int64_t ldb, int32_t b_zp,
                           int32_t *C, int64_t ldc);
static void amx_ukr(int64_t kq, const int32_t *a, const int32_t *b, int32_t *c, int64_t ldc,
                    int first, int last, const int32_t *rowc, const int32_t *colc, int mr,
                    int nr);
static void amx_pack_a(const uint8_t *A, int64_t lda, int64_t i0, int mr, int64_t k0,
                       int64_t kc, int32_t *p);
static void amx_pack_b(const int8_t *Bt, int64_t ldb, int64_t j0, int nr, int64_t k0,
                       int64_t kc, int32_t *pb);
static void amx_config(void);

#include "vgemm.h"

/* palette 1: every tile 16 rows × 64 bytes (tdpbusd: A 16×64 u8, B 16 quad rows × 16
 * columns, C 16×16 int32) */
static void amx_config(void)
{
    _Alignas(64) struct {
        uint8_t palette, start_row, reserved[14];
        uint16_t colsb[16];
        uint8_t rows[16];
    } cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 8; t++) {
        cfg.colsb[t] = 64;
        cfg.rows[t] = 16;
    }
    /* GCC 12's ldtilecfg asm names 8 bytes of the 64 as its input, tileloadd none: a
     * compiler barrier keeps every store before them */
    __asm__ volatile("" ::: "memory");
    _tile_loadconfig(&cfg);
}

/* the bytes p[0..n) of a 64-byte step (n <= 0: none), zero beyond: a masked load, which
 * reads nothing past n */
static inline __m512i amx_load64(const void *p, int64_t n)
{
    if (n >= 64) return _mm512_loadu_si512(p);
    return n > 0 ? _mm512_maskz_loadu_epi8(((__mmask64)1 << n) - 1, p) : _mm512_setzero_si512();
}

/* A rows i0..i0+mr, k0..k0+kc, per k step s of 64 bytes: 32 rows of 64 bytes at
 * p + s·2048 bytes (rows >= mr and bytes past kc zero) */
static void amx_pack_a(const uint8_t *A, int64_t lda, int64_t i0, int mr, int64_t k0,
                       int64_t kc, int32_t *p)
{
    uint8_t *d = (uint8_t *)p;
    int64_t ks = (kc + 63) / 64;
    for (int r = 0; r < AMX_MR; r++) {
        const uint8_t *row = r < mr ? A + (i0 + r) * lda + k0 : NULL;
        for (int64_t s = 0; s < ks; s++)
            _mm512_storeu_si512((void *)(d + r * 64 + s * 2048),
                                row ? amx_load64(row + s * 64, kc - s * 64)
                                    : _mm512_setzero_si512());
    }
}

/* 16 rows of 16 int32 transposed in place (unpack 32 / 64-bit, then 128-bit lanes); the
 * loops unrolled so that the 32 vectors stay in registers */
static inline __attribute__((always_inline)) void amx_transpose16(__m512i r[16])
{
    __m512i t[16];
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
    }
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        r[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
        r[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
        r[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
        r[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
    }
    /* r[4i + c], 128-bit lane L: rows 4i..4i+3 of column 4L + c */
#pragma GCC unroll 4
    for (int c = 0; c < 4; c++) {
        __m512i u0 = _mm512_shuffle_i32x4(r[c], r[4 + c], 0x44);
        __m512i u1 = _mm512_shuffle_i32x4(r[c], r[4 + c], 0xee);
        __m512i u2 = _mm512_shuffle_i32x4(r[8 + c], r[12 + c], 0x44);
        __m512i u3 = _mm512_shuffle_i32x4(r[8 + c], r[12 + c], 0xee);
        t[c] = _mm512_shuffle_i32x4(u0, u2, 0x88);
        t[4 + c] = _mm512_shuffle_i32x4(u0, u2, 0xdd);
        t[8 + c] = _mm512_shuffle_i32x4(u1, u3, 0x88);
        t[12 + c] = _mm512_shuffle_i32x4(u1, u3, 0xdd);
    }
#pragma GCC unroll 16
    for (int i = 0; i < 16; i++) r[i] = t[i];
}

/* Bt rows j0..j0+nr (columns of B), k0..k0+kc, per k step s: two B tiles at pb + s·512
 * words, tile h holding columns 16h..16h+15: word [q·16 + j] = bytes 4q..4q+3 of the step
 * in column 16h + j (columns >= nr and bytes past kc zero) */
static void amx_pack_b(const int8_t *Bt, int64_t ldb, int64_t j0, int nr, int64_t k0,
                       int64_t kc, int32_t *pb)
{
    int64_t ks = (kc + 63) / 64;
    for (int h = 0; h < 2; h++) {
        int nh = nr - 16 * h;           /* columns of this tile present */
        for (int64_t s = 0; s < ks; s++) {
            int32_t *d = pb + s * 512 + h * 256;
            const int8_t *src = Bt + (j0 + 16 * h) * ldb + k0 + s * 64;
            __m512i r[16];
            if (nh >= 16 && kc - s * 64 >= 64) {
#pragma GCC unroll 16
                for (int j = 0; j < 16; j++) r[j] = _mm512_loadu_si512(src + j * ldb);
            } else {
                for (int j = 0; j < 16; j++)
                    r[j] = j < nh ? amx_load64(src + j * ldb, kc - s * 64)
                                  : _mm512_setzero_si512();
            }
            amx_transpose16(r);
#pragma GCC unroll 16
            for (int q = 0; q < 16; q++) _mm512_storeu_si512((void *)(d + q * 16), r[q]);
        }
    }
}

/* ks tile steps into the accumulators tmm0..3 of a 32-row (two_m) or 16-row block and a
 * 32-column (two_n) or 16-column one: per 64 bytes of k, the A and B tiles it needs and
 * their tdpbusd */
static inline __attribute__((always_inline)) void amx_steps(int64_t ks, const uint8_t *a,
                                                            const uint8_t *b, int two_m,
                                                            int two_n)
{
    for (int64_t s = 0; s < ks; s++) {
        _tile_loadd(4, a + s * 2048, 64);
        _tile_loadd(6, b + s * 2048, 64);
        if (two_n) _tile_loadd(7, b + s * 2048 + 1024, 64);
        if (two_m) _tile_loadd(5, a + s * 2048 + 1024, 64);
        _tile_dpbusd(0, 4, 6);
        if (two_n) _tile_dpbusd(1, 4, 7);
        if (two_m) _tile_dpbusd(2, 5, 6);
        if (two_m && two_n) _tile_dpbusd(3, 5, 7);
    }
}

/* the k loop of a partial block (amx_steps from zero); accumulators stored to t (32×32
 * int32) */
static inline __attribute__((always_inline)) void amx_kloop(int64_t ks, const uint8_t *a,
                                                            const uint8_t *b, int32_t *t,
                                                            int two_m, int two_n)
{
    __asm__ volatile("" ::: "memory");     /* the packed stores before the tile loads */
    _tile_zero(0);
    if (two_n) _tile_zero(1);
    if (two_m) _tile_zero(2);
    if (two_m && two_n) _tile_zero(3);
    amx_steps(ks, a, b, two_m, two_n);
    _tile_stored(0, t, 128);
    if (two_n) _tile_stored(1, t + 16, 128);
    if (two_m) _tile_stored(2, t + 16 * 32, 128);
    if (two_m && two_n) _tile_stored(3, t + 16 * 32 + 16, 128);
}

/* a whole 32×32 block: the accumulators start from the zero-point corrections rowc[r] +
 * colc[j] on the first k block (the sum modulo 2^32 does not depend on which block adds
 * them) or from C on the later ones, and are stored straight into C */
static inline __attribute__((always_inline)) void amx_kloop_c(int64_t ks, const uint8_t *a,
                                                              const uint8_t *b, int32_t *c,
                                                              int64_t ldc, int first,
                                                              const int32_t *rowc,
                                                              const int32_t *colc)
{
    const long ldcb = (long)ldc * 4;
    if (first) {
        uint32_t any = 0;
        for (int i = 0; i < 32; i++) any |= (uint32_t)rowc[i] | (uint32_t)colc[i];
        if (!any) {                         /* no corrections (zero points 0) */
            _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
        } else {
            __m512i c0 = _mm512_loadu_si512(colc), c1 = _mm512_loadu_si512(colc + 16);
            _Alignas(64) int32_t corr[32 * 32];
            for (int r = 0; r < 32; r++) {
                __m512i rc = _mm512_set1_epi32(rowc[r]);
                _mm512_store_si512(corr + r * 32, _mm512_add_epi32(rc, c0));
                _mm512_store_si512(corr + r * 32 + 16, _mm512_add_epi32(rc, c1));
            }
            __asm__ volatile("" ::: "memory");
            _tile_loadd(0, corr, 128);
            _tile_loadd(1, corr + 16, 128);
            _tile_loadd(2, corr + 16 * 32, 128);
            _tile_loadd(3, corr + 16 * 32 + 16, 128);
        }
    } else {
        __asm__ volatile("" ::: "memory");
        _tile_loadd(0, c, ldcb);
        _tile_loadd(1, c + 16, ldcb);
        _tile_loadd(2, c + 16 * ldc, ldcb);
        _tile_loadd(3, c + 16 * ldc + 16, ldcb);
    }
    __asm__ volatile("" ::: "memory");     /* the packed stores before the tile loads */
    amx_steps(ks, a, b, 1, 1);
    _tile_stored(0, c, ldcb);
    _tile_stored(1, c + 16, ldcb);
    _tile_stored(2, c + 16 * ldc, ldcb);
    _tile_stored(3, c + 16 * ldc + 16, ldcb);
}

/* C block [mr × nr] (=|+=) the tiles' sums; on the last k block + rowc[r] + colc[j]
 * (wrapping int32 adds; colc is readable up to a whole 32 columns); whole blocks:
 * amx_kloop_c */
static void amx_ukr(int64_t kq, const int32_t *a, const int32_t *b, int32_t *c, int64_t ldc,
                    int first, int last, const int32_t *rowc, const int32_t *colc, int mr,
                    int nr)
{
    _Alignas(64) int32_t t[32 * 32];
    int64_t ks = kq / 16;
    const uint8_t *ab = (const uint8_t *)a, *bb = (const uint8_t *)b;
    if (mr == 32 && nr == 32) {
        amx_kloop_c(ks, ab, bb, c, ldc, first, rowc, colc);
        return;
    }
    if (mr > 16 && nr > 16) amx_kloop(ks, ab, bb, t, 1, 1);
    else if (mr > 16) amx_kloop(ks, ab, bb, t, 1, 0);
    else if (nr > 16) amx_kloop(ks, ab, bb, t, 0, 1);
    else amx_kloop(ks, ab, bb, t, 0, 0);
    __m512i cc[2] = { vi_zero(), vi_zero() };
    if (last) {
        cc[0] = _mm512_loadu_si512(colc);
        cc[1] = _mm512_loadu_si512(colc + 16);
    }
    __mmask16 mk[2];
    for (int h = 0; h < 2; h++) {
        int n = nr - 16 * h;
        mk[h] = n >= 16 ? (__mmask16)0xffff : n > 0 ? (__mmask16)((1u << n) - 1) : 0;
    }
    for (int r = 0; r < mr; r++) {
        int32_t *cr = c + r * ldc;
        __m512i rc = last ? _mm512_set1_epi32(rowc[r]) : vi_zero();
        for (int h = 0; h < 2 && mk[h]; h++) {
            __m512i x = _mm512_add_epi32(_mm512_load_si512(t + r * 32 + 16 * h),
                                         _mm512_add_epi32(rc, cc[h]));
            if (!first) x = _mm512_add_epi32(x, _mm512_maskz_loadu_epi32(mk[h], cr + 16 * h));
            _mm512_mask_storeu_epi32(cr + 16 * h, mk[h], x);
        }
    }
}

/* below this many multiply-adds the vnni kernel is as fast (both are then mostly set-up:
 * per core, 4×16×16 took the same time on both, 7×33×31 half as long here, 16×16×64 and
 * 1×64×64 a third to a quarter) */
#define AMX_MIN_MACS ((int64_t)1 << 10)

void qk_gemm_u8s8_amx(int64_t M, int64_t N, int64_t K, const uint8_t *A, int64_t lda,
                      int32_t a_zp, const int8_t *Bt, int64_t ldb, int32_t b_zp, int32_t *C,
                      int64_t ldc)
{
    if (M <= 0 || N <= 0) return;
    if (M * N * K < AMX_MIN_MACS) {
        qk_gemm_u8s8_vnni(M, N, K, A, lda, a_zp, Bt, ldb, b_zp, C, ldc);
        return;
    }
    amx_gemm_tiles(M, N, K, A, lda, a_zp, Bt, ldb, b_zp, C, ldc);
}
