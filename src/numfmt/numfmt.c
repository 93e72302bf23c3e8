/* numfmt.c — number formats: the descriptor table, exact encode / decode, bit fields.
 *
 * Float encoding works on the bits of the input double: |x| = M * 2^E with M a 53-bit
 * integer; the quantum of the target binade (or of the subnormal range) is 2^Q and the
 * stored magnitude is round_half_even(M * 2^(E-Q)) added to the binade's exponent field
 * shifted up. A mantissa that rounds up to 2^(m+1) carries into the exponent field by
 * itself, and one that carries out of the largest binade lands on the Inf pattern (or past
 * the largest finite pattern), which is exactly IEEE's overflow rule for round to nearest
 * even. Only integer arithmetic and exact ldexp are used, so results are the same on every
 * machine and independent of the FPU rounding mode. */
#include "qscope/numfmt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- the table ------------------------------------------------------------------------ */

static const qs_numfmt fmts[QS_FMT_COUNT] = {
    [QS_FMT_FP32] = {QS_FMT_FP32, "fp32", "float32", "IEEE 754 binary32 (single)",
                     32, 32, 0, 0, 1, 8, 23, 127, 1, QS_NAN_IEEE, QS_OVF_IEEE, -126, 127,
                     0x1.fffffep127, 0x1p-126, 0x1p-149, 0, 0},
    [QS_FMT_FP16] = {QS_FMT_FP16, "fp16", "float16", "IEEE 754 binary16 (half)",
                     16, 16, 0, 0, 1, 5, 10, 15, 1, QS_NAN_IEEE, QS_OVF_IEEE, -14, 15,
                     65504.0, 0x1p-14, 0x1p-24, 0, 0},
    [QS_FMT_BF16] = {QS_FMT_BF16, "bf16", "bfloat16", "bfloat16 (FP32 exponent, 7-bit mantissa)",
                     16, 16, 0, 0, 1, 8, 7, 127, 1, QS_NAN_IEEE, QS_OVF_IEEE, -126, 127,
                     0x1.fep127, 0x1p-126, 0x1p-133, 0, 0},
    [QS_FMT_TF32] = {QS_FMT_TF32, "tf32", NULL,
                     "NVIDIA TensorFloat-32 (1/8/10 in 32-bit storage, low 13 bits zero)",
                     32, 19, 13, 0, 1, 8, 10, 127, 1, QS_NAN_IEEE, QS_OVF_IEEE, -126, 127,
                     0x1.ffcp127, 0x1p-126, 0x1p-136, 0, 0},
    /* OCP 8-bit floating point spec (v1.0) E4M3: bias 7, no Inf, S.1111.111 is NaN, largest
     * finite S.1111.110 = 448. OCP leaves overflow to the conversion: saturating (to ±448)
     * or not (to NaN). Default here: saturating, as CUDA's __NV_SATFINITE and most
     * quantization toolkits do; QS_OVF_IEEE gives the non-saturating NaN. */
    [QS_FMT_E4M3] = {QS_FMT_E4M3, "fp8-e4m3", "e4m3", "OCP FP8 E4M3 (no Inf, max 448)",
                     8, 8, 0, 0, 1, 4, 3, 7, 0, QS_NAN_ALLONES, QS_OVF_SATURATE, -6, 8,
                     448.0, 0x1p-6, 0x1p-9, 0, 0},
    /* OCP E5M2 follows IEEE 754 conventions: Inf, NaNs, overflow to Inf by default. */
    [QS_FMT_E5M2] = {QS_FMT_E5M2, "fp8-e5m2", "e5m2", "OCP FP8 E5M2 (IEEE-like, max 57344)",
                     8, 8, 0, 0, 1, 5, 2, 15, 1, QS_NAN_IEEE, QS_OVF_IEEE, -14, 15,
                     57344.0, 0x1p-14, 0x1p-16, 0, 0},
    [QS_FMT_INT8] = {QS_FMT_INT8, "int8", "i8", "8-bit two's complement integer",
                     8, 8, 0, 1, 1, 0, 0, 0, 0, QS_NAN_NONE, QS_OVF_SATURATE, 0, 0,
                     127.0, 0, 0, -128, 127},
    [QS_FMT_UINT8] = {QS_FMT_UINT8, "uint8", "u8", "8-bit unsigned integer",
                      8, 8, 0, 1, 0, 0, 0, 0, 0, QS_NAN_NONE, QS_OVF_SATURATE, 0, 0,
                      255.0, 0, 0, 0, 255},
    [QS_FMT_INT4] = {QS_FMT_INT4, "int4", "i4", "4-bit two's complement integer",
                     4, 4, 0, 1, 1, 0, 0, 0, 0, QS_NAN_NONE, QS_OVF_SATURATE, 0, 0,
                     7.0, 0, 0, -8, 7},
    [QS_FMT_UINT4] = {QS_FMT_UINT4, "uint4", "u4", "4-bit unsigned integer",
                      4, 4, 0, 1, 0, 0, 0, 0, 0, QS_NAN_NONE, QS_OVF_SATURATE, 0, 0,
                      15.0, 0, 0, 0, 15},
    /* OCP Microscaling Formats (MX) v1.0, section 5.3: FP6 and FP4 have no Inf and no NaN
     * (every code is a number, the all-ones exponent holds normal numbers) and conversions
     * clamp to the largest normal (saturating; there is nothing else to overflow to). */
    [QS_FMT_E3M2] = {QS_FMT_E3M2, "fp6-e3m2", "e3m2", "OCP MX FP6 E3M2 (no Inf/NaN, max 28)",
                     6, 6, 0, 0, 1, 3, 2, 3, 0, QS_NAN_NONE, QS_OVF_SATURATE, -2, 4,
                     28.0, 0x1p-2, 0x1p-4, 0, 0},
    [QS_FMT_E2M3] = {QS_FMT_E2M3, "fp6-e2m3", "e2m3", "OCP MX FP6 E2M3 (no Inf/NaN, max 7.5)",
                     6, 6, 0, 0, 1, 2, 3, 1, 0, QS_NAN_NONE, QS_OVF_SATURATE, 0, 2,
                     7.5, 1.0, 0x1p-3, 0, 0},
    [QS_FMT_E2M1] = {QS_FMT_E2M1, "fp4-e2m1", "e2m1", "OCP MX FP4 E2M1 (no Inf/NaN, max 6)",
                     4, 4, 0, 0, 1, 2, 1, 1, 0, QS_NAN_NONE, QS_OVF_SATURATE, 0, 2,
                     6.0, 1.0, 0.5, 0, 0},
    /* MX section 5.4: the shared scale E8M0 — an unsigned biased exponent (bias 127), no
     * sign, no mantissa, no zero, no Inf; 0xFF is NaN; 2^-127 (0x00) .. 2^127 (0xFE). */
    [QS_FMT_E8M0] = {QS_FMT_E8M0, "e8m0", "ue8m0",
                     "OCP MX E8M0 scale (unsigned powers of two 2^-127..2^127, 0xFF NaN)",
                     8, 8, 0, 0, 0, 8, 0, 127, 0, QS_NAN_ALLONES, QS_OVF_SATURATE, -127, 127,
                     0x1p127, 0x1p-127, 0x1p-127, 0, 0},
};

static const char *const fmt_names[QS_FMT_COUNT + 1] = {
    "fp32", "fp16", "bf16", "tf32", "fp8-e4m3", "fp8-e5m2", "int8", "uint8", "int4", "uint4",
    "fp6-e3m2", "fp6-e2m3", "fp4-e2m1", "e8m0", NULL,
};

const qs_numfmt *qs_numfmt_get(qs_fmt_id id)
{
    return ((int)id >= 0 && id < QS_FMT_COUNT) ? &fmts[id] : NULL;
}

const qs_numfmt *qs_numfmt_find(const char *name)
{
    if (!name) return NULL;
    for (int i = 0; i < QS_FMT_COUNT; i++) {
        if (strcasecmp(name, fmts[i].name) == 0) return &fmts[i];
        if (fmts[i].alias && strcasecmp(name, fmts[i].alias) == 0) return &fmts[i];
    }
    return NULL;
}

const char *const *qs_numfmt_names(void)
{
    return fmt_names;
}

const char *qs_numclass_name(qs_numclass c)
{
    switch (c) {
    case QS_NC_ZERO: return "zero";
    case QS_NC_SUBNORMAL: return "subnormal";
    case QS_NC_NORMAL: return "normal";
    case QS_NC_INF: return "inf";
    case QS_NC_NAN: return "nan";
    }
    return "?";
}

/* ---- bit helpers ---------------------------------------------------------------------- */

static uint32_t storage_mask(const qs_numfmt *f)
{
    return f->storage_bits >= 32 ? 0xFFFFFFFFu : ((1u << f->storage_bits) - 1u);
}

/* storage word -> the `width` value bits, right-aligned */
static uint32_t to_val(const qs_numfmt *f, uint32_t p)
{
    return (p & storage_mask(f)) >> f->pad_bits;
}

static uint32_t from_val(const qs_numfmt *f, uint32_t v)
{
    return v << f->pad_bits;
}

static uint32_t exp_all(const qs_numfmt *f)
{
    return (1u << f->exp_bits) - 1u;
}

static uint32_t man_mask(const qs_numfmt *f)
{
    return (1u << f->man_bits) - 1u;
}

static uint32_t sign_bit(const qs_numfmt *f)
{
    return 1u << (f->width - 1);
}

/* largest finite magnitude pattern (value bits without sign) */
static uint32_t max_mag(const qs_numfmt *f)
{
    if (f->nan == QS_NAN_NONE) return (exp_all(f) << f->man_bits) | man_mask(f); /* FP6/FP4 */
    if (f->nan == QS_NAN_ALLONES) return (exp_all(f) << f->man_bits) | (man_mask(f) - 1u);
    return (exp_all(f) << f->man_bits) - 1u;
}

static uint32_t inf_mag(const qs_numfmt *f)
{
    return exp_all(f) << f->man_bits;
}

static uint32_t qnan_mag(const qs_numfmt *f)
{
    if (f->nan == QS_NAN_ALLONES) return (exp_all(f) << f->man_bits) | man_mask(f);
    return inf_mag(f) | (1u << (f->man_bits - 1));
}

static int is_nan_mag(const qs_numfmt *f, uint32_t mag)
{
    uint32_t e = mag >> f->man_bits, m = mag & man_mask(f);
    if (f->nan == QS_NAN_NONE) return 0;
    if (f->nan == QS_NAN_ALLONES) return e == exp_all(f) && m == man_mask(f);
    return e == exp_all(f) && m != 0;
}

static int is_inf_mag(const qs_numfmt *f, uint32_t mag)
{
    return f->has_inf && mag == inf_mag(f);
}

static int clz64(uint64_t x)
{
#if defined(__GNUC__)
    return x ? __builtin_clzll(x) : 64;
#else
    int n = 0;
    if (!x) return 64;
    while (!(x & (UINT64_C(1) << 63))) { x <<= 1; n++; }
    return n;
#endif
}

static double dbl_from_bits(uint64_t b)
{
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

static uint64_t dbl_bits(double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    return b;
}

/* ---- floats --------------------------------------------------------------------------- */

static uint32_t overflow_mag(const qs_numfmt *f, qs_ovf ovf)
{
    if (ovf == QS_OVF_SATURATE || (!f->has_inf && f->nan == QS_NAN_NONE)) return max_mag(f);
    return f->has_inf ? inf_mag(f) : qnan_mag(f);
}

static uint32_t enc_float(const qs_numfmt *f, double x, qs_ovf ovf, int *st)
{
    uint64_t db = dbl_bits(x);
    uint32_t sbit = (db >> 63) ? sign_bit(f) : 0u;
    const int m = f->man_bits;

    if (isnan(x)) {
        *st |= QS_NF_NAN_INPUT;
        if (f->nan == QS_NAN_NONE) {      /* FP6 / FP4 have no NaN: +0, as integers store 0 */
            *st |= QS_NF_INEXACT;
            return 0u;
        }
        if (f->nan == QS_NAN_IEEE) {
            uint32_t payload = (uint32_t)((db & ((UINT64_C(1) << 52) - 1)) >> (52 - m));
            return sbit | inf_mag(f) | payload | (1u << (m - 1));
        }
        return sbit | qnan_mag(f);
    }
    if (isinf(x)) {
        uint32_t mag = overflow_mag(f, ovf);
        if (!is_inf_mag(f, mag)) *st |= QS_NF_OVERFLOW | QS_NF_INEXACT;
        return sbit | mag;
    }
    if (x == 0) return sbit;

    uint64_t M = db & ((UINT64_C(1) << 52) - 1);
    int be = (int)((db >> 52) & 0x7FF);
    int E;
    if (be == 0) {
        E = -1074;
    } else {
        M |= UINT64_C(1) << 52;
        E = be - 1075;
    }
    int e = E + 63 - clz64(M);            /* floor(log2 |x|) */
    if (e > f->emax) {
        *st |= QS_NF_OVERFLOW | QS_NF_INEXACT;
        return sbit | overflow_mag(f, ovf);
    }
    int eb = e < f->emin ? f->emin : e;   /* binade used for the quantum */
    int shift = E - (eb - m);             /* |x| / quantum = M * 2^shift */
    uint64_t q;
    int inexact = 0;
    if (shift >= 0) {
        q = M << shift;                   /* exact; q < 2^(m+1) */
    } else if (-shift > 54) {
        q = 0;                            /* |x| < quantum/2: rounds to zero */
        inexact = 1;
    } else {
        int s = -shift;
        uint64_t rem = M & ((UINT64_C(1) << s) - 1);
        uint64_t half = UINT64_C(1) << (s - 1);
        q = M >> s;
        if (rem > half || (rem == half && (q & 1))) q++;
        inexact = rem != 0;
    }
    uint64_t mag = ((uint64_t)(eb - f->emin) << m) + q;
    if (mag > max_mag(f)) {
        *st |= QS_NF_OVERFLOW | QS_NF_INEXACT;
        return sbit | overflow_mag(f, ovf);
    }
    if (inexact) {
        *st |= QS_NF_INEXACT;
        if ((mag >> m) == 0) *st |= QS_NF_UNDERFLOW;   /* result zero or subnormal */
    }
    return sbit | (uint32_t)mag;
}

static double dec_float(const qs_numfmt *f, uint32_t v)
{
    const int m = f->man_bits;
    int neg = (v & sign_bit(f)) != 0;
    uint32_t mag = v & (sign_bit(f) - 1u);
    uint32_t ef = mag >> m, mf = mag & man_mask(f);
    double r;
    if (is_nan_mag(f, mag)) {
        uint64_t b = (UINT64_C(0x7FF) << 52) | (UINT64_C(1) << 51)
                     | ((uint64_t)mf << (52 - m));
        if (neg) b |= UINT64_C(1) << 63;
        return dbl_from_bits(b);
    }
    if (is_inf_mag(f, mag)) return neg ? -INFINITY : INFINITY;
    if (ef == 0)
        r = ldexp((double)mf, f->emin - m);
    else
        r = ldexp((double)((1u << m) | mf), (int)ef - f->bias - m);
    return neg ? -r : r;
}

/* ---- integers ------------------------------------------------------------------------- */

/* round half to even for |x| < 2^52 (floor and the subtraction are exact) */
static double rne(double x)
{
    double fl = floor(x);
    double d = x - fl;
    if (d > 0.5) return fl + 1;
    if (d < 0.5) return fl;
    return (fmod(fl, 2.0) != 0) ? fl + 1 : fl;
}

static uint32_t enc_int(const qs_numfmt *f, double x, int *st)
{
    int64_t code;
    if (isnan(x)) {
        *st |= QS_NF_NAN_INPUT | QS_NF_INEXACT;
        code = 0;
    } else if (x > 1e15 || x < -1e15) {
        code = x > 0 ? f->int_max : f->int_min;
        *st |= QS_NF_OVERFLOW | QS_NF_INEXACT;
    } else {
        double r = rne(x);
        if (r != x) *st |= QS_NF_INEXACT;
        code = (int64_t)r;
        if (code > f->int_max) { code = f->int_max; *st |= QS_NF_OVERFLOW | QS_NF_INEXACT; }
        if (code < f->int_min) { code = f->int_min; *st |= QS_NF_OVERFLOW | QS_NF_INEXACT; }
    }
    return (uint32_t)((uint64_t)code & storage_mask(f));
}

int64_t qs_numfmt_int_code(const qs_numfmt *f, uint32_t pattern)
{
    if (!f->is_int) return 0;
    uint32_t v = pattern & storage_mask(f);
    if (f->is_signed && (v & sign_bit(f))) return (int64_t)v - ((int64_t)1 << f->width);
    return (int64_t)v;
}

/* ---- E8M0 ----------------------------------------------------------------------------- */

/* E8M0 is the one unsigned float: all 8 bits are the exponent field. */
static int is_e8m0(const qs_numfmt *f)
{
    return !f->is_int && !f->is_signed;
}

/* Nearest power of two in value (the midpoint 1.5·2^k goes up). E8M0 has no zero, no sign
 * and no Inf; its one special code is NaN (0xFF). The rules:
 *   NaN, +Inf, and negative non-zero values (no sign bit)          -> NaN 0xFF
 *   ±0 and positive values below 2^-127 (no zero, no subnormals)   -> 0x00 = 2^-127, underflow
 *     (the scale qscope's MX blocks of zeros get, and PyTorch's float8_e8m0fnu cast of 0)
 *   finite values rounding past 2^127 -> 0xFE = 2^127 (saturate, the default) or NaN
 *     (QS_OVF_IEEE: the format has no Inf to overflow to). */
static uint32_t enc_e8m0(double x, qs_ovf ovf, int *st)
{
    if (isnan(x)) { *st |= QS_NF_NAN_INPUT; return 0xFFu; }
    if (x == 0) { *st |= QS_NF_UNDERFLOW | QS_NF_INEXACT; return 0x00u; }
    if (x < 0) { *st |= QS_NF_INEXACT; return 0xFFu; }
    if (isinf(x)) { *st |= QS_NF_OVERFLOW | QS_NF_INEXACT; return 0xFFu; }
    int k;
    double fr = frexp(x, &k);             /* x = fr·2^k, fr in [0.5, 1) */
    int e = k - 1;                        /* floor(log2 x) */
    double m = fr * 2.0;                  /* x / 2^e in [1, 2), exact */
    if (m != 1.0) *st |= QS_NF_INEXACT;
    if (m >= 1.5) e++;
    if (e > 127) {
        *st |= QS_NF_OVERFLOW | QS_NF_INEXACT;
        return ovf == QS_OVF_IEEE ? 0xFFu : 0xFEu;
    }
    if (e < -127) { *st |= QS_NF_UNDERFLOW | QS_NF_INEXACT; e = -127; }
    return (uint32_t)(e + 127);
}

static double dec_e8m0(uint32_t p)
{
    p &= 0xFFu;
    return p == 0xFFu ? NAN : ldexp(1.0, (int)p - 127);
}

static uint32_t step_e8m0(uint32_t p, int up, int *at_end)
{
    p &= 0xFFu;
    int end = p == 0xFFu || (up ? p == 0xFEu : p == 0u);
    if (at_end) *at_end = end;
    return end ? p : (up ? p + 1u : p - 1u);
}

/* ---- public API ----------------------------------------------------------------------- */

uint32_t qs_numfmt_encode(const qs_numfmt *f, double x, qs_ovf ovf, int *status)
{
    int st = 0;
    uint32_t p;
    if (ovf == QS_OVF_DEFAULT) ovf = f->ovf_default;
    if (is_e8m0(f))
        p = enc_e8m0(x, ovf, &st);
    else if (f->is_int)
        p = enc_int(f, x, &st);
    else
        p = from_val(f, enc_float(f, x, ovf, &st));
    if (status) *status = st;
    return p;
}

double qs_numfmt_decode(const qs_numfmt *f, uint32_t pattern)
{
    if (f->is_int) return (double)qs_numfmt_int_code(f, pattern);
    if (is_e8m0(f)) return dec_e8m0(pattern);
    return dec_float(f, to_val(f, pattern));
}

double qs_numfmt_round(const qs_numfmt *f, double x, qs_ovf ovf)
{
    return qs_numfmt_decode(f, qs_numfmt_encode(f, x, ovf, NULL));
}

int qs_numfmt_valid(const qs_numfmt *f, uint32_t pattern)
{
    if (pattern & ~storage_mask(f)) return 0;
    if (f->pad_bits && (pattern & ((1u << f->pad_bits) - 1u))) return 0;
    return 1;
}

qs_numclass qs_numfmt_class(const qs_numfmt *f, uint32_t pattern)
{
    if (f->is_int) return qs_numfmt_int_code(f, pattern) == 0 ? QS_NC_ZERO : QS_NC_NORMAL;
    if (is_e8m0(f)) return (pattern & 0xFFu) == 0xFFu ? QS_NC_NAN : QS_NC_NORMAL;
    uint32_t mag = to_val(f, pattern) & (sign_bit(f) - 1u);
    if (is_nan_mag(f, mag)) return QS_NC_NAN;
    if (is_inf_mag(f, mag)) return QS_NC_INF;
    if (mag == 0) return QS_NC_ZERO;
    if ((mag >> f->man_bits) == 0) return QS_NC_SUBNORMAL;
    return QS_NC_NORMAL;
}

/* Steps a float pattern's magnitude one step away from zero (dir > 0) or toward zero.
 * up: the direction along the real line. */
static uint32_t float_step(const qs_numfmt *f, uint32_t pattern, int up, int *at_end)
{
    uint32_t v = to_val(f, pattern);
    uint32_t sb = sign_bit(f);
    int neg = (v & sb) != 0;
    uint32_t mag = v & (sb - 1u);
    int end = 0;
    if (is_nan_mag(f, mag)) {
        end = 1;
    } else if (mag == 0) {
        v = up ? 1u : (sb | 1u);                       /* ±0 -> ±min subnormal */
    } else if (neg == !up) {                            /* away from zero */
        if (is_inf_mag(f, mag)) end = 1;
        else if (mag == max_mag(f)) {
            if (f->has_inf) v = (neg ? sb : 0u) | inf_mag(f);
            else end = 1;
        } else {
            v = (neg ? sb : 0u) | (mag + 1u);
        }
    } else {                                            /* toward zero */
        if (is_inf_mag(f, mag)) v = (neg ? sb : 0u) | max_mag(f);
        else v = (neg ? sb : 0u) | (mag - 1u);          /* ±min subnormal -> ±0 */
    }
    if (at_end) *at_end = end;
    return end ? pattern : from_val(f, v);
}

static uint32_t int_step(const qs_numfmt *f, uint32_t pattern, int up, int *at_end)
{
    int64_t c = qs_numfmt_int_code(f, pattern);
    int end = up ? c >= f->int_max : c <= f->int_min;
    if (at_end) *at_end = end;
    if (end) return pattern & storage_mask(f);
    c += up ? 1 : -1;
    return (uint32_t)((uint64_t)c & storage_mask(f));
}

uint32_t qs_numfmt_next_up(const qs_numfmt *f, uint32_t pattern, int *at_end)
{
    if (is_e8m0(f)) return step_e8m0(pattern, 1, at_end);
    return f->is_int ? int_step(f, pattern, 1, at_end) : float_step(f, pattern, 1, at_end);
}

uint32_t qs_numfmt_next_down(const qs_numfmt *f, uint32_t pattern, int *at_end)
{
    if (is_e8m0(f)) return step_e8m0(pattern, 0, at_end);
    return f->is_int ? int_step(f, pattern, 0, at_end) : float_step(f, pattern, 0, at_end);
}

uint32_t qs_numfmt_flip(const qs_numfmt *f, uint32_t pattern, int k)
{
    if (k < 0 || k >= f->width) return pattern;
    return pattern ^ (1u << (k + f->pad_bits));
}

static void bitstr(char *dst, uint32_t v, int nbits)
{
    for (int i = 0; i < nbits; i++) dst[i] = (v >> (nbits - 1 - i)) & 1u ? '1' : '0';
    dst[nbits] = '\0';
}

void qs_numfmt_fields(const qs_numfmt *f, uint32_t pattern, double input, int status,
                      qs_numfields *out)
{
    memset(out, 0, sizeof *out);
    pattern &= storage_mask(f);
    out->fmt = f;
    out->pattern = pattern;
    out->input = input;
    out->status = status;
    snprintf(out->hex, sizeof out->hex, "0x%0*X", (f->storage_bits + 3) / 4, pattern);
    uint32_t v = to_val(f, pattern);
    bitstr(out->bits, v, f->width);
    out->cls = qs_numfmt_class(f, pattern);
    out->value = qs_numfmt_decode(f, pattern);
    out->error = isnan(input) ? NAN : out->value - input;

    int end = 0;
    uint32_t up = qs_numfmt_next_up(f, pattern, &end);
    out->next_up = end ? NAN : qs_numfmt_decode(f, up);
    uint32_t dn = qs_numfmt_next_down(f, pattern, &end);
    out->next_down = end ? NAN : qs_numfmt_decode(f, dn);

    if (f->is_int) {
        out->code = qs_numfmt_int_code(f, pattern);
        out->sign = out->code < 0;
        out->implicit_bit = 0;
        out->significand = (double)(out->code < 0 ? -out->code : out->code);
        out->ulp = 1.0;
        return;
    }
    const int m = f->man_bits;
    uint32_t ef = (v >> m) & exp_all(f), mf = v & man_mask(f);
    if (is_e8m0(f)) {                     /* no sign, no mantissa: 2^(field - 127) */
        out->sign = 0;
        bitstr(out->exp_bits, ef, 8);
        out->exponent = (int)ef;
        out->exponent_unbiased = (int)ef - f->bias;
        out->implicit_bit = out->cls == QS_NC_NORMAL;
        out->significand = out->cls == QS_NC_NAN ? NAN : 1.0;
        out->ulp = out->cls == QS_NC_NAN ? NAN : out->value;
        return;
    }
    out->sign = (v & sign_bit(f)) != 0;
    bitstr(out->exp_bits, ef, f->exp_bits);
    bitstr(out->man_bits, mf, m);
    out->exponent = (int)ef;
    out->exponent_unbiased = ef == 0 ? f->emin : (int)ef - f->bias;
    out->implicit_bit = out->cls == QS_NC_NORMAL;
    if (out->cls == QS_NC_INF || out->cls == QS_NC_NAN) {
        out->significand = NAN;
        out->ulp = NAN;
    } else {
        out->significand = ldexp((double)((uint32_t)out->implicit_bit << m | mf), -m);
        out->ulp = ldexp(1.0, out->exponent_unbiased - m);
    }
}

void qs_numfmt_fields_of(const qs_numfmt *f, double x, qs_ovf ovf, qs_numfields *out)
{
    int st = 0;
    uint32_t p = qs_numfmt_encode(f, x, ovf, &st);
    qs_numfmt_fields(f, p, x, st, out);
}

/* ---- lookup tables for the narrow floats (numfmt.h) --------------------------------------- */

int qs_numfmt_lut_ok(const qs_numfmt *f)
{
    return f && !f->is_int && f->storage_bits <= 8 && f->man_bits >= 1 && f->man_bits <= 6 &&
           f->exp_bits >= 2 && f->pad_bits == 0;
}

void qs_numfmt_lut_init(const qs_numfmt *f, qs_ovf ovf, qs_numfmt_lut *t)
{
    for (uint32_t hi = 0; hi < 65536; hi++)
        for (int low = 0; low < 2; low++) {
            uint32_t u = hi << 16 | (uint32_t)low;
            float x;
            memcpy(&x, &u, sizeof x);
            t->enc[low][hi] = (uint8_t)qs_numfmt_encode(f, (double)x, ovf, NULL);
        }
    for (uint32_t c = 0; c < 256; c++)
        t->dec[c] = c < (1u << f->storage_bits) ? (float)qs_numfmt_decode(f, c) : 0.0f;
}
