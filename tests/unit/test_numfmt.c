/* test_numfmt.c — number formats: exhaustive FP16/BF16/FP8 round trips, FP32->FP16 against
 * the F16C instruction, BF16 against ggml's rounding formula, brute-force nearest checks,
 * the 7.32 example, integers, next/flip and the descriptor table. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "qscope/numfmt.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_X86 1
#endif

#define N_RANDOM 4000000    /* random FP32 inputs per comparison */
#define N_TIES   1000000    /* constructed halfway cases */

static const qs_numfmt *F(qs_fmt_id id)
{
    return qs_numfmt_get(id);
}

static uint32_t f2u(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float u2f(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* test-local PRNG (splitmix64), independent of src/synth */
static uint64_t sm_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* ---- the lesson example --------------------------------------------------------------- */

Test(numfmt, example_7_32_fp32)
{
    qs_numfields fl;
    qs_numfmt_fields_of(F(QS_FMT_FP32), 7.32, QS_OVF_DEFAULT, &fl);
    cr_assert_eq(fl.pattern, 0x40EA3D71u);
    cr_assert_str_eq(fl.hex, "0x40EA3D71");
    cr_assert_eq(fl.sign, 0);
    cr_assert_str_eq(fl.exp_bits, "10000001");
    cr_assert_eq(fl.exponent, 129);
    cr_assert_eq(fl.exponent_unbiased, 2);
    cr_assert_str_eq(fl.man_bits, "11010100011110101110001");
    cr_assert_str_eq(fl.bits, "01000000111010100011110101110001");
    cr_assert_eq(fl.implicit_bit, 1);
    cr_assert(fabs(fl.significand - 1.83) < 1e-7, "significand %.17g", fl.significand);
    cr_assert_eq(fl.value, 7.320000171661377);
    cr_assert_eq(fl.value, (double)7.32f);
    cr_assert_eq(fl.error, (double)7.32f - 7.32, "error %.17g", fl.error);   /* exact */
    cr_assert(fabs(fl.error - 1.7166137666890791e-07) < 1e-22, "error %.17g", fl.error);
    cr_assert_eq(fl.cls, QS_NC_NORMAL);
    cr_assert_eq(fl.ulp, 0x1p-21);
    cr_assert_eq(fl.next_up, (double)nextafterf(7.32f, INFINITY));
    cr_assert_eq(fl.next_down, (double)nextafterf(7.32f, -INFINITY));
}

Test(numfmt, example_7_32_fp16_bf16_tf32)
{
    qs_numfields fl;
    qs_numfmt_fields_of(F(QS_FMT_FP16), 7.32, QS_OVF_DEFAULT, &fl);
    cr_assert_eq(fl.pattern, 0x4752u);
    cr_assert_str_eq(fl.hex, "0x4752");
    cr_assert_eq(fl.value, 7.3203125);
    cr_assert_eq(fl.exponent, 17);
    cr_assert_eq(fl.exponent_unbiased, 2);
    cr_assert_str_eq(fl.man_bits, "1101010010");
    /* bf16: 7.32f = 0x40EA3D71, low half 0x3D71 < 0x8000 -> truncates to 0x40EA = 7.3125 */
    cr_assert_eq(qs_numfmt_encode(F(QS_FMT_BF16), 7.32, QS_OVF_DEFAULT, NULL), 0x40EAu);
    cr_assert_eq(qs_numfmt_round(F(QS_FMT_BF16), 7.32, QS_OVF_DEFAULT), 7.3125);
    /* tf32: the fp32 pattern rounded to 10 mantissa bits, low 13 bits zero */
    qs_numfmt_fields_of(F(QS_FMT_TF32), 7.32, QS_OVF_DEFAULT, &fl);
    cr_assert_eq(fl.pattern, 0x40EA4000u);
    cr_assert_str_eq(fl.hex, "0x40EA4000");
    cr_assert_eq(strlen(fl.bits), 19);
    cr_assert_eq(fl.value, 7.3203125);
}

/* ---- exhaustive round trips ----------------------------------------------------------- */

static void roundtrip_all(const qs_numfmt *f)
{
    uint32_t n = 1u << f->width;
    for (uint32_t v = 0; v < n; v++) {
        uint32_t p = v << f->pad_bits;
        double x = qs_numfmt_decode(f, p);
        uint32_t back = qs_numfmt_encode(f, x, QS_OVF_IEEE, NULL);
        if (isnan(x)) {
            cr_assert_eq(qs_numfmt_class(f, p), QS_NC_NAN, "%s 0x%X", f->name, p);
            cr_assert_eq(qs_numfmt_class(f, back), QS_NC_NAN, "%s 0x%X -> 0x%X", f->name, p,
                         back);
            cr_assert_eq(back >> (f->storage_bits - 1), p >> (f->storage_bits - 1),
                         "%s NaN sign 0x%X", f->name, p);
        } else {
            cr_assert_eq(back, p, "%s 0x%X decodes to %.17g, re-encodes to 0x%X", f->name, p,
                         x, back);
        }
    }
}

Test(numfmt, fp16_every_pattern_roundtrips) { roundtrip_all(F(QS_FMT_FP16)); }
Test(numfmt, bf16_every_pattern_roundtrips) { roundtrip_all(F(QS_FMT_BF16)); }
Test(numfmt, e4m3_every_pattern_roundtrips) { roundtrip_all(F(QS_FMT_E4M3)); }
Test(numfmt, e5m2_every_pattern_roundtrips) { roundtrip_all(F(QS_FMT_E5M2)); }
Test(numfmt, tf32_every_pattern_roundtrips) { roundtrip_all(F(QS_FMT_TF32)); }

Test(numfmt, fp16_decode_matches_float_widening)
{
    /* independent decode: the half as float via F16C where available, else by formula */
    const qs_numfmt *f = F(QS_FMT_FP16);
    for (uint32_t h = 0; h < 65536; h++) {
        uint32_t s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
        double ref;
        if (e == 0) ref = ldexp((double)m, -24);
        else if (e == 31) ref = m ? NAN : INFINITY;
        else ref = ldexp((double)(1024 + m), (int)e - 25);
        if (s) ref = -ref;
        double got = qs_numfmt_decode(f, h);
        if (isnan(ref)) cr_assert(isnan(got), "0x%X", h);
        else cr_assert_eq(got, ref, "0x%X: %.17g vs %.17g", h, got, ref);
    }
}

/* ---- FP32 -> FP16 against the F16C instruction ---------------------------------------- */

#ifdef HAVE_X86
__attribute__((target("f16c"))) static uint16_t f16c_cvt(float x)
{
    __m128 v = _mm_set_ss(x);
    __m128i h = _mm_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    return (uint16_t)_mm_extract_epi16(h, 0);
}
#endif

static void check_f16c(float x)
{
#ifdef HAVE_X86
    uint32_t want = f16c_cvt(x);
    uint32_t got = qs_numfmt_encode(F(QS_FMT_FP16), (double)x, QS_OVF_IEEE, NULL);
    cr_assert_eq(got, want, "fp32 0x%08X (%.9g): got 0x%04X, F16C 0x%04X", f2u(x), x, got,
                 want);
#else
    (void)x;
#endif
}

Test(numfmt, fp32_to_fp16_matches_f16c)
{
#ifdef HAVE_X86
    if (!__builtin_cpu_supports("f16c")) {
        cr_skip_test("CPU has no F16C");
    }
    uint64_t s = 12345;
    /* fully random bit patterns: every class, NaN payloads, both signs */
    for (int i = 0; i < N_RANDOM; i++) check_f16c(u2f((uint32_t)sm_next(&s)));
    /* random values in and around the half range: exponents -30..17 */
    for (int i = 0; i < N_RANDOM; i++) {
        uint32_t r = (uint32_t)sm_next(&s);
        uint32_t e = 127 - 30 + (r >> 24) % 48;
        check_f16c(u2f((r & 0x80000000u) | (e << 23) | (r & 0x7FFFFFu)));
    }
    /* exact halfway cases between neighbouring halves, and one float ulp either side */
    for (int i = 0; i < N_TIES; i++) {
        uint32_t h = (uint32_t)sm_next(&s) & 0x7BFFu;            /* finite, not max */
        float a = (float)qs_numfmt_decode(F(QS_FMT_FP16), h);
        float b = (float)qs_numfmt_decode(F(QS_FMT_FP16), h + 1);
        float mid = (float)(((double)a + (double)b) / 2);        /* exact in float */
        cr_assert_eq((double)mid, ((double)a + (double)b) / 2);
        check_f16c(mid);
        check_f16c(-mid);
        check_f16c(nextafterf(mid, INFINITY));
        check_f16c(nextafterf(mid, -INFINITY));
    }
    /* edges: zeros, subnormal boundaries, overflow threshold, infinities, NaNs */
    const float edges[] = {0.0f, -0.0f, 0x1p-24f, 0x1p-25f, 0x1.000002p-25f, 0x1.8p-25f,
                           0x1p-26f, 0x1.ff8p-15f, 0x1p-14f, 0x1.ffcp-15f, 65504.0f, 65519.0f,
                           65520.0f, 65535.0f, 65536.0f, 1e30f, INFINITY, -INFINITY, NAN,
                           -NAN, u2f(0x7F800001u), u2f(0xFFC12345u), u2f(0x7FBFFFFFu),
                           0x1p-149f, 0x1.fffffep127f, 1.0f, 1.00048828125f,
                           1.000732421875f};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        check_f16c(edges[i]);
        check_f16c(-edges[i]);
    }
    /* every float in [2^-26, 2^-13] with a stride: the whole subnormal range of fp16 */
    for (uint32_t u = f2u(0x1p-26f); u <= f2u(0x1p-13f); u += 97) check_f16c(u2f(u));
    /* and [60000, 70000] densely: the overflow boundary */
    for (uint32_t u = f2u(60000.0f); u <= f2u(70000.0f); u += 7) check_f16c(u2f(u));
#else
    cr_skip_test("not x86");
#endif
}

/* ---- BF16 and TF32 against the bit formulas ------------------------------------------- */

/* REFERENCE.md (ggml): fp32->bf16 = (u + 0x7fff + ((u >> 16) & 1)) >> 16, NaN kept quiet */
static uint32_t bf16_formula(uint32_t u)
{
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (u >> 16) | 64;
    return (u + 0x7FFFu + ((u >> 16) & 1)) >> 16;
}

/* tf32 = fp32 rounded to 10 mantissa bits (same RNE carry trick), NaN kept quiet */
static uint32_t tf32_formula(uint32_t u)
{
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (u | 0x00400000u) & ~0x1FFFu;
    return (u + 0xFFFu + ((u >> 13) & 1)) & ~0x1FFFu;
}

Test(numfmt, bf16_and_tf32_match_formula)
{
    uint64_t s = 777;
    for (int i = 0; i < N_RANDOM; i++) {
        uint32_t u = (uint32_t)sm_next(&s);
        if (i < 65536 * 8) u = (u & 0xFFFF0000u) | ((i & 7) == 0 ? 0x8000u : (i & 7) == 1
                                                    ? 0x7FFFu : (i & 7) == 2 ? 0x8001u
                                                    : (u & 0xFFFFu));
        double x = (double)u2f(u);
        uint32_t b = qs_numfmt_encode(F(QS_FMT_BF16), x, QS_OVF_IEEE, NULL);
        cr_assert_eq(b, bf16_formula(u), "fp32 0x%08X: bf16 0x%04X vs formula 0x%04X", u, b,
                     bf16_formula(u));
        uint32_t t = qs_numfmt_encode(F(QS_FMT_TF32), x, QS_OVF_IEEE, NULL);
        cr_assert_eq(t, tf32_formula(u), "fp32 0x%08X: tf32 0x%08X vs formula 0x%08X", u, t,
                     tf32_formula(u));
    }
}

Test(numfmt, fp32_encode_matches_cast)
{
    /* a double rounded to fp32 by the compiler's (double)->(float) cast: RNE on x86-64 */
    uint64_t s = 99;
    for (int i = 0; i < N_RANDOM / 4; i++) {
        uint64_t r = sm_next(&s);
        double x;
        uint64_t b = (r & 0x800FFFFFFFFFFFFFull) | ((uint64_t)(1023 - 160 + (r >> 52) % 330)
                                                     << 52);
        memcpy(&x, &b, sizeof x);
        float want = (float)x;
        uint32_t got = qs_numfmt_encode(F(QS_FMT_FP32), x, QS_OVF_IEEE, NULL);
        cr_assert_eq(got, f2u(want), "%.17g: 0x%08X vs cast 0x%08X", x, got, f2u(want));
    }
}

/* ---- FP8 ------------------------------------------------------------------------------ */

Test(numfmt, fp8_hand_values)
{
    const qs_numfmt *e4 = F(QS_FMT_E4M3), *e5 = F(QS_FMT_E5M2);
    cr_assert_eq(qs_numfmt_decode(e4, 0x7E), 448.0);
    cr_assert_eq(qs_numfmt_decode(e4, 0xFE), -448.0);
    cr_assert(isnan(qs_numfmt_decode(e4, 0x7F)));
    cr_assert(isnan(qs_numfmt_decode(e4, 0xFF)));
    cr_assert_eq(qs_numfmt_decode(e4, 0x78), 256.0);      /* S.1111.000 is a number */
    cr_assert_eq(qs_numfmt_decode(e4, 0x01), 0x1p-9);
    cr_assert_eq(qs_numfmt_decode(e4, 0x08), 0x1p-6);
    cr_assert_eq(qs_numfmt_decode(e4, 0x38), 1.0);
    cr_assert_eq(qs_numfmt_decode(e5, 0x7B), 57344.0);
    cr_assert_eq(qs_numfmt_decode(e5, 0x7C), INFINITY);
    cr_assert_eq(qs_numfmt_decode(e5, 0xFC), -INFINITY);
    cr_assert(isnan(qs_numfmt_decode(e5, 0x7D)));
    cr_assert_eq(qs_numfmt_decode(e5, 0x01), 0x1p-16);
    cr_assert_eq(qs_numfmt_decode(e5, 0x04), 0x1p-14);
    cr_assert_eq(qs_numfmt_decode(e5, 0x3C), 1.0);
    cr_assert_eq(e4->max, 448.0);
    cr_assert_eq(e5->max, 57344.0);
    cr_assert_eq(e4->min_subnormal, 0x1p-9);
    cr_assert_eq(e5->min_subnormal, 0x1p-16);

    /* overflow: E4M3 saturates by default, NaN when non-saturating; 464 is the tie
     * between 448 (mantissa 110, even) and the missing 480, so it stays 448 */
    int st = 0;
    cr_assert_eq(qs_numfmt_encode(e4, 500, QS_OVF_DEFAULT, &st), 0x7E);
    cr_assert(st & QS_NF_OVERFLOW);
    cr_assert_eq(qs_numfmt_encode(e4, -1e9, QS_OVF_DEFAULT, NULL), 0xFE);
    cr_assert_eq(qs_numfmt_encode(e4, INFINITY, QS_OVF_DEFAULT, NULL), 0x7E);
    cr_assert_eq(qs_numfmt_encode(e4, 500, QS_OVF_IEEE, NULL), 0x7F);
    cr_assert_eq(qs_numfmt_encode(e4, 464, QS_OVF_IEEE, NULL), 0x7E);
    cr_assert_eq(qs_numfmt_encode(e4, 464.0001, QS_OVF_IEEE, NULL), 0x7F);
    cr_assert_eq(qs_numfmt_encode(e4, INFINITY, QS_OVF_IEEE, NULL), 0x7F);
    cr_assert_eq(qs_numfmt_encode(e4, NAN, QS_OVF_DEFAULT, NULL), 0x7F);
    /* E5M2 overflows to Inf by default: 61440 is the tie 57344 / 65536 (odd) -> Inf */
    cr_assert_eq(qs_numfmt_encode(e5, 61439, QS_OVF_DEFAULT, NULL), 0x7B);
    cr_assert_eq(qs_numfmt_encode(e5, 61440, QS_OVF_DEFAULT, NULL), 0x7C);
    cr_assert_eq(qs_numfmt_encode(e5, 61440, QS_OVF_SATURATE, NULL), 0x7B);
    cr_assert_eq(qs_numfmt_encode(e5, -INFINITY, QS_OVF_DEFAULT, NULL), 0xFC);
    /* underflow: half the smallest subnormal is a tie to 0 (even); a bit more -> 1 */
    cr_assert_eq(qs_numfmt_encode(e4, 0x1p-10, QS_OVF_DEFAULT, &st), 0x00);
    cr_assert(st & QS_NF_UNDERFLOW);
    cr_assert_eq(qs_numfmt_encode(e4, 0x1.01p-10, QS_OVF_DEFAULT, NULL), 0x01);
    cr_assert_eq(qs_numfmt_encode(e4, 0x1.8p-9, QS_OVF_DEFAULT, NULL), 0x02);  /* 1.5 -> 2 */
    cr_assert_eq(qs_numfmt_encode(e5, 0x1p-17, QS_OVF_DEFAULT, NULL), 0x00);
    cr_assert_eq(qs_numfmt_encode(e5, -0x1.8p-16, QS_OVF_DEFAULT, NULL), 0x82);
    cr_assert_eq(qs_numfmt_encode(e4, -0.0, QS_OVF_DEFAULT, NULL), 0x80);
}

/* Nearest finite value by brute force over all patterns, ties to the even pattern. */
static uint32_t nearest_brute(const qs_numfmt *f, double x)
{
    uint32_t best = 0;
    double bd = INFINITY;
    for (uint32_t p = 0; p < (1u << f->width); p++) {
        double v = qs_numfmt_decode(f, p);
        if (!isfinite(v)) continue;
        double d = fabs(v - x);
        if (d < bd || (d == bd && (best & 1) && !(p & 1)) || (d == bd && v == 0 && signbit(x)
                                                             == signbit(v))) {
            bd = d;
            best = p;
        }
    }
    return best;
}

Test(numfmt, fp8_encode_is_nearest)
{
    uint64_t s = 4242;
    const qs_numfmt *fs[2] = {F(QS_FMT_E4M3), F(QS_FMT_E5M2)};
    for (int k = 0; k < 2; k++) {
        const qs_numfmt *f = fs[k];
        for (int i = 0; i < 20000; i++) {
            uint64_t r = sm_next(&s);
            /* log-uniform magnitudes over the whole range, plus exact midpoints */
            double mag = ldexp(1.0 + (double)(r >> 11) * 0x1p-53,
                               (int)((r & 63) % (unsigned)(f->emax - f->emin + 6)) + f->emin - 4);
            if (i % 4 == 0) {
                uint32_t p = (uint32_t)(r >> 32) & 0x7F;
                double a = qs_numfmt_decode(f, p), b = qs_numfmt_decode(f, p + 1);
                if (!isfinite(a) || !isfinite(b)) continue;
                mag = (a + b) / 2;
            }
            if (mag > f->max) continue;
            double x = (r >> 7) & 1 ? -mag : mag;
            uint32_t got = qs_numfmt_encode(f, x, QS_OVF_SATURATE, NULL);
            uint32_t want = nearest_brute(f, x);
            cr_assert_eq(got, want, "%s %.17g: 0x%02X vs brute 0x%02X", f->name, x, got, want);
        }
    }
}

/* ---- integers ------------------------------------------------------------------------- */

Test(numfmt, integers)
{
    const qs_numfmt *i8 = F(QS_FMT_INT8), *u8 = F(QS_FMT_UINT8), *i4 = F(QS_FMT_INT4),
                    *u4 = F(QS_FMT_UINT4);
    int st = 0;
    cr_assert_eq(qs_numfmt_encode(i8, 2.5, QS_OVF_DEFAULT, NULL), 2);
    cr_assert_eq(qs_numfmt_encode(i8, 3.5, QS_OVF_DEFAULT, NULL), 4);
    cr_assert_eq(qs_numfmt_encode(i8, -2.5, QS_OVF_DEFAULT, NULL), 0xFE);
    cr_assert_eq(qs_numfmt_encode(i8, -7.32, QS_OVF_DEFAULT, NULL), 0xF9);
    cr_assert_eq(qs_numfmt_encode(i8, 127.5, QS_OVF_DEFAULT, &st), 0x7F);
    cr_assert(st & QS_NF_OVERFLOW);
    cr_assert_eq(qs_numfmt_encode(i8, 127.49, QS_OVF_DEFAULT, &st), 0x7F);
    cr_assert(!(st & QS_NF_OVERFLOW));
    cr_assert_eq(qs_numfmt_encode(i8, -128.5, QS_OVF_DEFAULT, NULL), 0x80);   /* -128 even */
    cr_assert_eq(qs_numfmt_encode(i8, -129.5, QS_OVF_DEFAULT, NULL), 0x80);
    cr_assert_eq(qs_numfmt_encode(i8, 1e300, QS_OVF_DEFAULT, NULL), 0x7F);
    cr_assert_eq(qs_numfmt_encode(i8, -INFINITY, QS_OVF_DEFAULT, NULL), 0x80);
    cr_assert_eq(qs_numfmt_encode(i8, NAN, QS_OVF_DEFAULT, &st), 0);
    cr_assert(st & QS_NF_NAN_INPUT);
    cr_assert_eq(qs_numfmt_encode(u8, 250, QS_OVF_DEFAULT, NULL), 250);
    cr_assert_eq(qs_numfmt_encode(u8, 255.5, QS_OVF_DEFAULT, NULL), 255);
    cr_assert_eq(qs_numfmt_encode(u8, -3, QS_OVF_DEFAULT, NULL), 0);
    cr_assert_eq(qs_numfmt_encode(u8, 64.5, QS_OVF_DEFAULT, NULL), 64);
    cr_assert_eq(qs_numfmt_encode(i4, -8.4, QS_OVF_DEFAULT, NULL), 0x8);
    cr_assert_eq(qs_numfmt_encode(i4, 7.7, QS_OVF_DEFAULT, NULL), 0x7);
    cr_assert_eq(qs_numfmt_encode(i4, -1, QS_OVF_DEFAULT, NULL), 0xF);
    cr_assert_eq(qs_numfmt_encode(u4, 16, QS_OVF_DEFAULT, NULL), 0xF);
    cr_assert_eq(qs_numfmt_decode(i4, 0x8), -8.0);
    cr_assert_eq(qs_numfmt_decode(i4, 0xF), -1.0);
    cr_assert_eq(qs_numfmt_decode(u4, 0xF), 15.0);
    cr_assert_eq(qs_numfmt_decode(i8, 0x80), -128.0);
    cr_assert_eq(qs_numfmt_int_code(i8, 0xF9), -7);
    for (int k = 0; k < 4; k++) {
        const qs_numfmt *f = F((qs_fmt_id)(QS_FMT_INT8 + k));
        for (uint32_t p = 0; p < (1u << f->width); p++)
            cr_assert_eq(qs_numfmt_encode(f, qs_numfmt_decode(f, p), QS_OVF_DEFAULT, NULL), p);
    }
    qs_numfields fl;
    qs_numfmt_fields_of(i8, -7.32, QS_OVF_DEFAULT, &fl);
    cr_assert_eq(fl.code, -7);
    cr_assert_str_eq(fl.bits, "11111001");
    cr_assert_str_eq(fl.hex, "0xF9");
    cr_assert_eq(fl.sign, 1);
    cr_assert(fabs(fl.error - 0.32) < 1e-12);
    qs_numfmt_fields_of(i4, 3, QS_OVF_DEFAULT, &fl);
    cr_assert_str_eq(fl.hex, "0x3");
    cr_assert_str_eq(fl.bits, "0011");
}

/* ---- fields, next, flip, names -------------------------------------------------------- */

Test(numfmt, fields_subnormal_and_specials)
{
    qs_numfields fl;
    qs_numfmt_fields(F(QS_FMT_FP16), 0x0003, NAN, 0, &fl);
    cr_assert_eq(fl.cls, QS_NC_SUBNORMAL);
    cr_assert_eq(fl.exponent, 0);
    cr_assert_eq(fl.exponent_unbiased, -14);
    cr_assert_eq(fl.implicit_bit, 0);
    cr_assert_eq(fl.value, 3 * 0x1p-24);
    cr_assert_eq(fl.significand, 3 * 0x1p-10);
    cr_assert_eq(fl.ulp, 0x1p-24);
    cr_assert(isnan(fl.error));
    cr_assert(isnan(fl.input));
    qs_numfmt_fields(F(QS_FMT_FP16), 0x7C00, NAN, 0, &fl);
    cr_assert_eq(fl.cls, QS_NC_INF);
    cr_assert_eq(fl.next_down, 65504.0);
    cr_assert(isnan(fl.next_up));
    qs_numfmt_fields(F(QS_FMT_FP16), 0xFE00, NAN, 0, &fl);
    cr_assert_eq(fl.cls, QS_NC_NAN);
    cr_assert_eq(fl.sign, 1);
    qs_numfmt_fields(F(QS_FMT_E4M3), 0x7E, NAN, 0, &fl);
    cr_assert(isnan(fl.next_up), "E4M3 has nothing above 448");
    cr_assert_eq(fl.next_down, 416.0);
    cr_assert_eq(fl.ulp, 32.0);
    qs_numfmt_fields_of(F(QS_FMT_FP16), 1e6, QS_OVF_DEFAULT, &fl);
    cr_assert_eq(fl.cls, QS_NC_INF);
    cr_assert(fl.status & QS_NF_OVERFLOW);
}

Test(numfmt, next_up_down_fp16_all)
{
    const qs_numfmt *f = F(QS_FMT_FP16);
    for (uint32_t p = 0; p < 65536; p++) {
        double v = qs_numfmt_decode(f, p);
        if (isnan(v)) continue;
        int end = 0;
        uint32_t u = qs_numfmt_next_up(f, p, &end);
        if (v == INFINITY) { cr_assert(end); continue; }
        cr_assert(!end);
        double w = qs_numfmt_decode(f, u);
        cr_assert(w > v, "0x%04X", p);
        /* nothing representable strictly between: midpoint rounds to one of the two */
        double mid = v + (w - v) / 2;
        if (isfinite(mid) && isfinite(w)) {
            double r = qs_numfmt_round(f, mid, QS_OVF_IEEE);
            cr_assert(r == v || r == w, "0x%04X", p);
        }
        uint32_t d = qs_numfmt_next_down(f, u, NULL);
        if (v != 0) cr_assert_eq(d, p, "down(up(0x%04X)) = 0x%04X", p, d);
    }
    /* fp32 agrees with nextafterf */
    float xs[] = {1.0f, -1.0f, 0x1p-149f, -0x1p-149f, 0x1p-126f, 3.4e38f, 0.0f};
    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
        uint32_t p = f2u(xs[i]);
        cr_assert_eq(qs_numfmt_decode(F(QS_FMT_FP32), qs_numfmt_next_up(F(QS_FMT_FP32), p, NULL)),
                     (double)nextafterf(xs[i], INFINITY));
        cr_assert_eq(qs_numfmt_decode(F(QS_FMT_FP32),
                                      qs_numfmt_next_down(F(QS_FMT_FP32), p, NULL)),
                     (double)nextafterf(xs[i], -INFINITY));
    }
}

Test(numfmt, flip_bits)
{
    const qs_numfmt *f32 = F(QS_FMT_FP32), *t32 = F(QS_FMT_TF32), *i4 = F(QS_FMT_INT4);
    cr_assert_eq(qs_numfmt_flip(f32, 0x40EA3D71u, 31), 0xC0EA3D71u);
    cr_assert_eq(qs_numfmt_flip(f32, 0x40EA3D71u, 0), 0x40EA3D70u);
    cr_assert_eq(qs_numfmt_flip(f32, 0x40EA3D71u, 32), 0x40EA3D71u);
    cr_assert_eq(qs_numfmt_flip(f32, 0x40EA3D71u, -1), 0x40EA3D71u);
    cr_assert_eq(qs_numfmt_flip(t32, 0x40EA4000u, 18), 0xC0EA4000u);
    cr_assert_eq(qs_numfmt_flip(t32, 0x40EA4000u, 0), 0x40EA6000u);
    cr_assert_eq(qs_numfmt_flip(i4, 0x7, 3), 0xF);
    cr_assert_eq(qs_numfmt_flip(i4, 0x7, 4), 0x7);
    cr_assert(qs_numfmt_valid(t32, 0x40EA4000u));
    cr_assert(!qs_numfmt_valid(t32, 0x40EA3D71u));
    cr_assert(!qs_numfmt_valid(F(QS_FMT_FP16), 0x10000u));
    cr_assert(qs_numfmt_valid(F(QS_FMT_FP16), 0xFFFFu));
}

Test(numfmt, names_and_table)
{
    cr_assert_eq(qs_numfmt_find("FP32"), F(QS_FMT_FP32));
    cr_assert_eq(qs_numfmt_find("Fp8-E4m3"), F(QS_FMT_E4M3));
    cr_assert_eq(qs_numfmt_find("e4m3"), F(QS_FMT_E4M3));
    cr_assert_eq(qs_numfmt_find("E5M2"), F(QS_FMT_E5M2));
    cr_assert_eq(qs_numfmt_find("uint4"), F(QS_FMT_UINT4));
    cr_assert_null(qs_numfmt_find("fp64"));
    cr_assert_null(qs_numfmt_find(""));
    cr_assert_null(qs_numfmt_find(NULL));
    cr_assert_null(qs_numfmt_get(QS_FMT_COUNT));
    const char *const *names = qs_numfmt_names();
    int n = 0;
    for (; names[n]; n++) {
        const qs_numfmt *f = qs_numfmt_find(names[n]);
        cr_assert_not_null(f, "%s", names[n]);
        cr_assert_eq((int)f->id, n);
        cr_assert_eq(f->storage_bits, f->width + f->pad_bits);
        if (!f->is_int && !f->is_signed) {     /* E8M0: exponent only, no zero */
            cr_assert_eq(f->width, f->exp_bits, "%s", f->name);
            cr_assert_eq(f->emin, -f->bias);
            cr_assert_eq(qs_numfmt_decode(f, 0), f->min_normal);
            cr_assert_eq(qs_numfmt_decode(f, 0xFE), f->max);
        } else if (!f->is_int) {
            cr_assert_eq(f->width, 1 + f->exp_bits + f->man_bits, "%s", f->name);
            cr_assert_eq(f->emin, 1 - f->bias);
            /* the table's max and min values agree with the decoder */
            uint32_t top = qs_numfmt_encode(f, INFINITY, QS_OVF_SATURATE, NULL);
            cr_assert_eq(qs_numfmt_decode(f, top), f->max, "%s", f->name);
            cr_assert_eq(qs_numfmt_decode(f, 1u << f->pad_bits), f->min_subnormal, "%s",
                         f->name);
            cr_assert_eq(qs_numfmt_decode(f, (1u << f->man_bits) << f->pad_bits),
                         f->min_normal, "%s", f->name);
            /* no Inf: E4M3 gives the top code to NaN; FP6 / FP4 have neither (MX 5.3) */
            cr_assert_eq(f->max, ldexp(2.0 - ldexp(1.0, -f->man_bits)
                                           - (f->nan == QS_NAN_ALLONES ? ldexp(1.0, -f->man_bits)
                                                                       : 0),
                                       f->emax), "%s", f->name);
        } else {
            cr_assert_eq(f->max, (double)f->int_max);
        }
    }
    cr_assert_eq(n, QS_FMT_COUNT);
    cr_assert_str_eq(qs_numclass_name(QS_NC_SUBNORMAL), "subnormal");
}

/* ---- lookup tables of the narrow floats (numfmt.h) ------------------------------------------ */

/* qs_numfmt_lut_encode against qs_numfmt_encode: every top-16-bit pattern with low bits 0, 1,
 * 0x7FFF, 0x8000 and 0xFFFF (the sides of each boundary the tables claim), then random
 * patterns; decoded values against qs_numfmt_decode. The tables are built by the encoder, so
 * what this checks is the claim that nothing below bit 16 matters beyond "zero or not". */
Test(numfmt, narrow_float_tables_match_the_encoder)
{
    static const qs_fmt_id ids[] = { QS_FMT_E4M3, QS_FMT_E5M2, QS_FMT_E3M2, QS_FMT_E2M3,
                                     QS_FMT_E2M1 };
    static const uint32_t lows[] = { 0, 1, 0x7FFF, 0x8000, 0xFFFF };
    static qs_numfmt_lut t;
    for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
        const qs_numfmt *f = F(ids[k]);
        cr_assert(qs_numfmt_lut_ok(f), "%s", f->name);
        for (int o = 0; o < 2; o++) {
            qs_ovf ovf = o ? QS_OVF_SATURATE : QS_OVF_DEFAULT;
            qs_numfmt_lut_init(f, ovf, &t);
            uint64_t bad = 0;
            for (uint32_t hi = 0; hi < 65536; hi++)
                for (size_t j = 0; j < sizeof lows / sizeof lows[0]; j++) {
                    float x = u2f(hi << 16 | lows[j]);
                    bad += qs_numfmt_lut_encode(&t, x) != qs_numfmt_encode(f, x, ovf, NULL);
                }
            uint32_t r = 12345u + (uint32_t)k;
            for (int i = 0; i < 1000000; i++) {
                r = r * 1664525u + 1013904223u;
                float x = u2f(r);
                bad += qs_numfmt_lut_encode(&t, x) != qs_numfmt_encode(f, x, ovf, NULL);
            }
            cr_expect_eq(bad, 0, "%s: %llu codes differ from the encoder", f->name,
                         (unsigned long long)bad);
        }
        for (uint32_t c = 0; c < (1u << f->storage_bits); c++) {
            float d = (float)qs_numfmt_decode(f, c);
            cr_expect(memcmp(&d, &t.dec[c], sizeof d) == 0, "%s: dec[%u]", f->name, c);
        }
    }
    static const qs_fmt_id no[] = { QS_FMT_FP32, QS_FMT_FP16, QS_FMT_BF16, QS_FMT_TF32,
                                    QS_FMT_E8M0, QS_FMT_INT8, QS_FMT_UINT4 };
    for (size_t k = 0; k < sizeof no / sizeof no[0]; k++)
        cr_expect(!qs_numfmt_lut_ok(F(no[k])), "%s takes the tables", F(no[k])->name);
}
