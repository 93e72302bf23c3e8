/* test_zemu.c — src/kernels/zemu.h (the scalar emulation of AVX-512 intrinsics behind the
 * "avx512-zemu" / "vnni-zemu" test tables) checked against this CPU's own instructions:
 * every emulated operation that has a 256-bit AVX2/FMA/F16C twin with the same per-lane
 * definition is run on 16 lanes of awkward values (NaN with payloads, ±0, ±Inf, ties, the
 * int32 limits, denormals, huge values) and compared bit for bit, lanes 0-7 and 8-15,
 * with that twin on each half. So the emulation's reading of min/max operand order, NaN
 * handling, rounding, truncation, compare predicates and integer wrap-around is the
 * hardware's, not only the SDM's as written in zemu.h. vpdpbusd (no AVX2 twin) is compared
 * with vemu.h's independent vpmaddwd emulation, masked loads and stores with guard bytes.
 * Built with the AVX2 flags (Makefile); skipped on a CPU without AVX2/FMA/F16C. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kernels/zemu.h"
#include "kernels/vemu.h"

static int have_avx2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#define NEED_AVX2() do { if (!have_avx2()) cr_skip_test("no AVX2/FMA on this CPU"); } while (0)

static float fbits(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static uint32_t ubits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

/* awkward floats: 16 per row, several rows */
#define NROWS 6
static float vals[NROWS][16];
static void init_vals(void)
{
    const float v[NROWS * 16] = {
        0.0f, -0.0f, 1.0f, -1.0f, 0.5f, -0.5f, 1.5f, -1.5f,
        2.5f, -2.5f, 0.49999997f, -0.49999997f, 8388608.5f, -8388607.5f, 1e-45f, -1e-45f,
        INFINITY, -INFINITY, FLT_MAX, -FLT_MAX, 2147483648.0f, -2147483648.0f, 2147483520.0f,
        -2147483904.0f, 3e9f, -3e9f, 1.17549435e-38f, 5.877472e-39f, 126.5f, 127.5f,
        -128.5f, 255.49998f,
        0.1f, -0.1f, 0.3f, 7.0f, -7.0f, 65504.0f, 65520.0f, 1e-8f, 6e-8f, 3e-5f, 1e30f,
        -1e30f, 33.3f, -33.7f, 1024.25f, 0.75f,
        -0.75f, 3.5f, -3.5f, 4.5f, 1e10f, -1e10f, 16777217.0f, 0.0f, 2.0f, -2.0f, 0.25f,
        -0.25f, 9.75f, 100.5f, -100.5f, 12345.678f,
    };
    memcpy(vals, v, 4 * 16 * sizeof(float));
    /* NaNs: quiet and signalling, both signs, payloads */
    const uint32_t nan[16] = { 0x7fc00000u, 0xffc00000u, 0x7f800001u, 0xff800001u,
                               0x7fc12345u, 0x7fa00000u, 0xffffffffu, 0x7fffffffu,
                               0x7fc00000u, 0xffc00000u, 0x7f800001u, 0xff800001u,
                               0x7fc12345u, 0x7fa00000u, 0xffffffffu, 0x7fffffffu };
    for (int i = 0; i < 16; i++) vals[4][i] = fbits(nan[i]);
    for (int i = 0; i < 16; i++) vals[5][i] = i % 2 ? -vals[0][i] : vals[1][15 - i];
}
static zv zload(const float *p) { return _mm512_loadu_ps(p); }

/* a zv and two ymm halves equal bit for bit */
static void same32(zv z, __m256i lo, __m256i hi, const char *what, int row)
{
    uint32_t a[16], b[16];
    memcpy(a, z.u32, sizeof a);
    _mm256_storeu_si256((__m256i *)b, lo);
    _mm256_storeu_si256((__m256i *)(b + 8), hi);
    for (int i = 0; i < 16; i++)
        cr_assert_eq(a[i], b[i], "%s row %d lane %d: emulated %08x, this CPU %08x", what, row,
                     i, a[i], b[i]);
}
static void samef(zv z, __m256 lo, __m256 hi, const char *what, int row)
{
    same32(z, _mm256_castps_si256(lo), _mm256_castps_si256(hi), what, row);
}
#define LO(p) _mm256_loadu_ps(p)
#define HI(p) _mm256_loadu_ps((p) + 8)

/* every pair of rows (a, b), also a row against itself shifted */
#define FOR_PAIRS(a, b, ri, rj)                                                              \
    for (int ri = 0; ri < NROWS; ri++)                                                       \
        for (int rj = 0; rj < NROWS; rj++)                                                   \
            for (const float *a = vals[ri], *b = vals[rj]; a; a = NULL)

Test(zemu, float_arith_min_max)
{
    NEED_AVX2();
    init_vals();
    FOR_PAIRS(a, b, ri, rj) {
        zv za = zload(a), zb = zload(b);
        int r = ri * NROWS + rj;
        samef(_mm512_add_ps(za, zb), _mm256_add_ps(LO(a), LO(b)), _mm256_add_ps(HI(a), HI(b)), "add", r);
        samef(_mm512_sub_ps(za, zb), _mm256_sub_ps(LO(a), LO(b)), _mm256_sub_ps(HI(a), HI(b)), "sub", r);
        samef(_mm512_mul_ps(za, zb), _mm256_mul_ps(LO(a), LO(b)), _mm256_mul_ps(HI(a), HI(b)), "mul", r);
        samef(_mm512_div_ps(za, zb), _mm256_div_ps(LO(a), LO(b)), _mm256_div_ps(HI(a), HI(b)), "div", r);
        samef(_mm512_min_ps(za, zb), _mm256_min_ps(LO(a), LO(b)), _mm256_min_ps(HI(a), HI(b)), "min", r);
        samef(_mm512_max_ps(za, zb), _mm256_max_ps(LO(a), LO(b)), _mm256_max_ps(HI(a), HI(b)), "max", r);
        for (int rk = 0; rk < NROWS; rk++) {
            const float *c = vals[rk];
            samef(_mm512_fmadd_ps(za, zb, zload(c)), _mm256_fmadd_ps(LO(a), LO(b), LO(c)),
                  _mm256_fmadd_ps(HI(a), HI(b), HI(c)), "fmadd", r * NROWS + rk);
        }
        /* masked add: the selected lanes as add, the others src */
        __mmask16 m = (__mmask16)(0x5a3c ^ (r * 0x111));
        zv ma = _mm512_mask_add_ps(zb, m, za, zb), add = _mm512_add_ps(za, zb);
        for (int i = 0; i < 16; i++)
            cr_assert_eq(ma.u32[i], (m >> i & 1) ? add.u32[i] : zb.u32[i], "mask_add lane %d", i);
    }
}

/* vcmpps: all 32 predicates */
#define CMP_CASE(P)                                                                          \
    case P: {                                                                                \
        unsigned lo = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(LO(a), LO(b), P));           \
        unsigned hi = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(HI(a), HI(b), P));           \
        native = lo | hi << 8;                                                               \
        break;                                                                               \
    }
Test(zemu, compare_predicates)
{
    NEED_AVX2();
    init_vals();
    FOR_PAIRS(a, b, ri, rj) {
        for (int p = 0; p < 32; p++) {
            unsigned native = 0;
            switch (p) {
            CMP_CASE(0) CMP_CASE(1) CMP_CASE(2) CMP_CASE(3) CMP_CASE(4) CMP_CASE(5)
            CMP_CASE(6) CMP_CASE(7) CMP_CASE(8) CMP_CASE(9) CMP_CASE(10) CMP_CASE(11)
            CMP_CASE(12) CMP_CASE(13) CMP_CASE(14) CMP_CASE(15) CMP_CASE(16) CMP_CASE(17)
            CMP_CASE(18) CMP_CASE(19) CMP_CASE(20) CMP_CASE(21) CMP_CASE(22) CMP_CASE(23)
            CMP_CASE(24) CMP_CASE(25) CMP_CASE(26) CMP_CASE(27) CMP_CASE(28) CMP_CASE(29)
            CMP_CASE(30) CMP_CASE(31)
            }
            unsigned emu = _mm512_cmp_ps_mask(zload(a), zload(b), p);
            cr_assert_eq(emu, native, "predicate %d rows %d,%d: emulated %04x, this CPU %04x",
                         p, ri, rj, emu, native);
        }
    }
}

Test(zemu, rounding_and_conversions)
{
    NEED_AVX2();
    init_vals();
    for (int r = 0; r < NROWS; r++) {
        const float *a = vals[r];
        zv z = zload(a);
#define RND(M) samef(_mm512_roundscale_ps(z, M | _MM_FROUND_NO_EXC),                         \
                     _mm256_round_ps(LO(a), M | _MM_FROUND_NO_EXC),                           \
                     _mm256_round_ps(HI(a), M | _MM_FROUND_NO_EXC), "roundscale " #M, r)
        RND(_MM_FROUND_TO_NEAREST_INT);
        RND(_MM_FROUND_TO_NEG_INF);
        RND(_MM_FROUND_TO_POS_INF);
        RND(_MM_FROUND_TO_ZERO);
#undef RND
        same32(_mm512_cvttps_epi32(z), _mm256_cvttps_epi32(LO(a)), _mm256_cvttps_epi32(HI(a)),
               "cvttps_epi32", r);
        zv abs = _mm512_abs_ps(z);
        for (int i = 0; i < 16; i++)
            cr_assert_eq(abs.u32[i], ubits(a[i]) & 0x7fffffffu, "abs lane %d", i);
        /* int32 → float of the bit patterns (every integer, rounding included) */
        __m256i ilo = _mm256_castps_si256(LO(a)), ihi = _mm256_castps_si256(HI(a));
        samef(_mm512_cvtepi32_ps(z), _mm256_cvtepi32_ps(ilo), _mm256_cvtepi32_ps(ihi),
              "cvtepi32_ps", r);
        /* float → double, each half */
        for (int h = 0; h < 2; h++) {
            zv d = _mm512_cvtps_pd(h ? HI(a) : LO(a));
            double n[8];
            _mm256_storeu_pd(n, _mm256_cvtps_pd(_mm_loadu_ps(a + 8 * h)));
            _mm256_storeu_pd(n + 4, _mm256_cvtps_pd(_mm_loadu_ps(a + 8 * h + 4)));
            cr_assert(memcmp(d.d, n, sizeof n) == 0, "cvtps_pd row %d half %d", r, h);
        }
        /* fp16 both ways (zemu uses F16C per half; checked round trip against the scalar
         * twin of each lane) */
        __m256i h = _mm512_cvtps_ph(z, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        uint16_t hv[16];
        _mm256_storeu_si256((__m256i *)hv, h);
        for (int i = 0; i < 16; i++) {
            uint16_t one = (uint16_t)_mm_extract_epi16(
                _mm_cvtps_ph(_mm_set_ss(a[i]), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), 0);
            cr_assert_eq(hv[i], one, "cvtps_ph lane %d", i);
        }
        zv back = _mm512_cvtph_ps(h);
        for (int i = 0; i < 16; i++)
            cr_assert_eq(back.u32[i], ubits(_mm_cvtss_f32(_mm_cvtph_ps(_mm_set1_epi16((short)hv[i])))),
                         "cvtph_ps lane %d", i);
    }
}

/* vrndscaleps with imm8[2] = 0 rounds by imm8[1:0] whatever MXCSR.RC says (SDM, ROUNDPS /
 * VRNDSCALEPS: "imm8[2] = 0: rounding mode from imm8[1:0]"), while the arithmetic and
 * vcvtdq2ps follow MXCSR.RC: the emulation must do both, under every MXCSR rounding mode */
Test(zemu, rounding_modes_of_mxcsr)
{
    NEED_AVX2();
    init_vals();
    const unsigned csr = _mm_getcsr();
    static const unsigned rc[4] = { _MM_ROUND_NEAREST, _MM_ROUND_DOWN, _MM_ROUND_UP,
                                    _MM_ROUND_TOWARD_ZERO };
    for (int m = 0; m < 4; m++) {
        _mm_setcsr((csr & ~0x6000u) | rc[m]);
        for (int r = 0; r < NROWS; r++) {
            const float *a = vals[r], *b = vals[(r + 1) % NROWS];
            zv z = zload(a), y = zload(b);
            char what[64];
#define RND(M) snprintf(what, sizeof what, "roundscale " #M " under MXCSR.RC %d", m);          \
               samef(_mm512_roundscale_ps(z, M | _MM_FROUND_NO_EXC),                         \
                     _mm256_round_ps(LO(a), M | _MM_FROUND_NO_EXC),                           \
                     _mm256_round_ps(HI(a), M | _MM_FROUND_NO_EXC), what, r)
            RND(_MM_FROUND_TO_NEAREST_INT);
            RND(_MM_FROUND_TO_NEG_INF);
            RND(_MM_FROUND_TO_POS_INF);
            RND(_MM_FROUND_TO_ZERO);
#undef RND
            snprintf(what, sizeof what, "add / mul / div / fma under MXCSR.RC %d", m);
            samef(_mm512_add_ps(z, y), _mm256_add_ps(LO(a), LO(b)), _mm256_add_ps(HI(a), HI(b)),
                  what, r);
            samef(_mm512_mul_ps(z, y), _mm256_mul_ps(LO(a), LO(b)), _mm256_mul_ps(HI(a), HI(b)),
                  what, r);
            samef(_mm512_div_ps(z, y), _mm256_div_ps(LO(a), LO(b)), _mm256_div_ps(HI(a), HI(b)),
                  what, r);
            samef(_mm512_fmadd_ps(z, y, z), _mm256_fmadd_ps(LO(a), LO(b), LO(a)),
                  _mm256_fmadd_ps(HI(a), HI(b), HI(a)), what, r);
            __m256i ilo = _mm256_castps_si256(LO(a)), ihi = _mm256_castps_si256(HI(a));
            samef(_mm512_cvtepi32_ps(z), _mm256_cvtepi32_ps(ilo), _mm256_cvtepi32_ps(ihi),
                  "cvtepi32_ps under MXCSR.RC", r);
        }
    }
    _mm_setcsr(csr);
}

/* _mm512_reduce_max_ps: GCC's header sequence (halves, quarters, pair swaps), rebuilt here
 * from this CPU's 256/128-bit vmaxps, on rows with NaNs and signed zeros in every position */
Test(zemu, reduce_max_sequence)
{
    NEED_AVX2();
    init_vals();
    for (int r = 0; r < NROWS; r++)
        for (int rot = 0; rot < 16; rot++) {
            float a[16];
            for (int i = 0; i < 16; i++) a[i] = vals[r][(i + rot) % 16];
            if (rot & 1) a[rot] = fbits(0x7fc00001u);              /* a NaN at lane rot */
            __m256 t3 = _mm256_max_ps(HI(a), LO(a));
            __m128 t6 = _mm_max_ps(_mm256_extractf128_ps(t3, 1), _mm256_castps256_ps128(t3));
            __m128 t8 = _mm_max_ps(t6, _mm_shuffle_ps(t6, t6, _MM_SHUFFLE(1, 0, 3, 2)));
            __m128 t10 = _mm_max_ps(t8, _mm_shuffle_ps(t8, t8, _MM_SHUFFLE(0, 1, 0, 1)));
            float emu = _mm512_reduce_max_ps(zload(a));
            cr_assert_eq(ubits(emu), ubits(_mm_cvtss_f32(t10)),
                         "reduce_max row %d rotation %d: emulated %08x, header sequence %08x", r,
                         rot, ubits(emu), ubits(_mm_cvtss_f32(t10)));
        }
}

Test(zemu, integer_ops)
{
    NEED_AVX2();
    init_vals();
    FOR_PAIRS(a, b, ri, rj) {
        zv za = zload(a), zb = zload(b);
        __m256i al = _mm256_castps_si256(LO(a)), ah = _mm256_castps_si256(HI(a));
        __m256i bl = _mm256_castps_si256(LO(b)), bh = _mm256_castps_si256(HI(b));
        int r = ri * NROWS + rj;
        same32(_mm512_add_epi32(za, zb), _mm256_add_epi32(al, bl), _mm256_add_epi32(ah, bh), "add_epi32", r);
        same32(_mm512_sub_epi32(za, zb), _mm256_sub_epi32(al, bl), _mm256_sub_epi32(ah, bh), "sub_epi32", r);
        same32(_mm512_mullo_epi32(za, zb), _mm256_mullo_epi32(al, bl), _mm256_mullo_epi32(ah, bh), "mullo", r);
        same32(_mm512_min_epi32(za, zb), _mm256_min_epi32(al, bl), _mm256_min_epi32(ah, bh), "min_epi32", r);
        same32(_mm512_max_epi32(za, zb), _mm256_max_epi32(al, bl), _mm256_max_epi32(ah, bh), "max_epi32", r);
        same32(_mm512_and_si512(za, zb), _mm256_and_si256(al, bl), _mm256_and_si256(ah, bh), "and", r);
        same32(_mm512_or_si512(za, zb), _mm256_or_si256(al, bl), _mm256_or_si256(ah, bh), "or", r);
        same32(_mm512_xor_si512(za, zb), _mm256_xor_si256(al, bl), _mm256_xor_si256(ah, bh), "xor", r);
        unsigned gt = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(al, bl))) |
                      (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(ah, bh))) << 8;
        cr_assert_eq((unsigned)_mm512_cmpgt_epi32_mask(za, zb), gt, "cmpgt rows %d,%d", ri, rj);
        /* vpdpbusd against vemu.h's vpmaddwd form */
        same32(_mm512_dpbusd_epi32(zb, za, zload(vals[(ri + 1) % NROWS])),
               qk_emu_dpbusd(bl, al, _mm256_castps_si256(LO(vals[(ri + 1) % NROWS]))),
               qk_emu_dpbusd(bh, ah, _mm256_castps_si256(HI(vals[(ri + 1) % NROWS]))),
               "dpbusd", r);
    }
    for (int r = 0; r < NROWS; r++) {
        const float *a = vals[r];
        zv z = zload(a);
        __m256i lo = _mm256_castps_si256(LO(a)), hi = _mm256_castps_si256(HI(a));
#define SH(N) do {                                                                           \
        same32(_mm512_srli_epi32(z, N), _mm256_srli_epi32(lo, N), _mm256_srli_epi32(hi, N),    \
               "srli " #N, r);                                                               \
        same32(_mm512_slli_epi32(z, N), _mm256_slli_epi32(lo, N), _mm256_slli_epi32(hi, N),    \
               "slli " #N, r); } while (0)
        SH(0); SH(1); SH(8); SH(13); SH(16); SH(31); SH(32); SH(40);
#undef SH
        uint32_t s = 0;
        for (int i = 0; i < 16; i++) s += ubits(a[i]);
        cr_assert_eq((uint32_t)_mm512_reduce_add_epi32(z), s, "reduce_add row %d", r);
        /* vpmovdb / vpmovdw: truncation; vpmovzx/sx */
        uint8_t b8[16];
        uint16_t b16[16];
        _mm_storeu_si128((__m128i *)b8, _mm512_cvtepi32_epi8(z));
        _mm256_storeu_si256((__m256i *)b16, _mm512_cvtepi32_epi16(z));
        for (int i = 0; i < 16; i++) {
            cr_assert_eq(b8[i], (uint8_t)ubits(a[i]), "cvtepi32_epi8 lane %d", i);
            cr_assert_eq(b16[i], (uint16_t)ubits(a[i]), "cvtepi32_epi16 lane %d", i);
        }
        __m128i bytes = _mm_loadu_si128((const __m128i *)a);
        same32(_mm512_cvtepi8_epi32(bytes), _mm256_cvtepi8_epi32(bytes),
               _mm256_cvtepi8_epi32(_mm_srli_si128(bytes, 8)), "cvtepi8_epi32", r);
        same32(_mm512_cvtepu8_epi32(bytes), _mm256_cvtepu8_epi32(bytes),
               _mm256_cvtepu8_epi32(_mm_srli_si128(bytes, 8)), "cvtepu8_epi32", r);
        __m256i words = _mm256_loadu_si256((const __m256i *)a);
        same32(_mm512_cvtepu16_epi32(words), _mm256_cvtepu16_epi32(_mm256_castsi256_si128(words)),
               _mm256_cvtepu16_epi32(_mm256_extracti128_si256(words, 1)), "cvtepu16_epi32", r);
    }
}

/* masked loads read and masked stores write exactly the selected lanes */
Test(zemu, masked_memory)
{
    NEED_AVX2();
    for (unsigned m = 0; m < 0x10000; m += 0x0123) {
        float src[16], dst[18];
        for (int i = 0; i < 16; i++) src[i] = (float)(i + 1);
        zv z = _mm512_maskz_loadu_ps((__mmask16)m, src);
        for (int i = 0; i < 16; i++)
            cr_assert_eq(z.f[i], (m >> i & 1) ? src[i] : 0.0f, "maskz_loadu_ps %04x lane %d", m, i);
        for (int i = 0; i < 18; i++) dst[i] = -1.0f;
        _mm512_mask_storeu_ps(dst + 1, (__mmask16)m, z);
        cr_assert(dst[0] == -1.0f && dst[17] == -1.0f, "mask_storeu_ps wrote outside");
        for (int i = 0; i < 16; i++)
            cr_assert_eq(dst[i + 1], (m >> i & 1) ? src[i] : -1.0f, "mask_storeu_ps lane %d", i);
        uint8_t b[18], bs[16];
        for (int i = 0; i < 16; i++) bs[i] = (uint8_t)(0x80 + i);
        memset(b, 0xee, sizeof b);
        __m128i v = _mm_maskz_loadu_epi8((__mmask16)m, bs);
        _mm_mask_storeu_epi8(b + 1, (__mmask16)m, v);
        cr_assert(b[0] == 0xee && b[17] == 0xee, "mask_storeu_epi8 wrote outside");
        for (int i = 0; i < 16; i++)
            cr_assert_eq(b[i + 1], (m >> i & 1) ? bs[i] : 0xee, "epi8 lane %d", i);
        uint16_t w[18], ws[16];
        for (int i = 0; i < 16; i++) ws[i] = (uint16_t)(0x8000 + i);
        for (int i = 0; i < 18; i++) w[i] = 0xeeee;
        _mm256_mask_storeu_epi16(w + 1, (__mmask16)m, _mm256_maskz_loadu_epi16((__mmask16)m, ws));
        cr_assert(w[0] == 0xeeee && w[17] == 0xeeee, "mask_storeu_epi16 wrote outside");
        for (int i = 0; i < 16; i++)
            cr_assert_eq(w[i + 1], (m >> i & 1) ? ws[i] : 0xeeee, "epi16 lane %d", i);
    }
}
