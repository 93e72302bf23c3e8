/* numfmt.h — number formats (FP32 FP16 BF16 TF32 FP8 E4M3/E5M2, INT8/UINT8/INT4/UINT4):
 * a descriptor table, exact encode (round to nearest even) and decode, and the bit fields
 * the lessons and the `bits` command show.
 *
 * A bit pattern is a uint32_t holding the format's storage word, right-aligned: FP16 uses
 * bits 0..15, INT4 bits 0..3 (two's complement in 4 bits), TF32 uses the 32-bit storage of
 * NVIDIA's TensorFloat-32 (the FP32 layout with the low 13 mantissa bits zero).
 *
 * Encoding starts from a double and rounds once, so encode(x) is the correctly rounded value
 * of x (no double rounding). Everything here is pure computation: no state, no allocation. */
#ifndef QSCOPE_NUMFMT_H
#define QSCOPE_NUMFMT_H

#include <stdint.h>
#include <string.h>

/* The formats, in table order. */
typedef enum qs_fmt_id {
    QS_FMT_FP32 = 0,    /* IEEE 754 binary32 */
    QS_FMT_FP16,        /* IEEE 754 binary16 */
    QS_FMT_BF16,        /* bfloat16: FP32's exponent, 7 mantissa bits */
    QS_FMT_TF32,        /* NVIDIA TensorFloat-32: 1/8/10 in 32-bit storage */
    QS_FMT_E4M3,        /* OCP FP8 E4M3 (E4M3FN): no infinities, one NaN per sign */
    QS_FMT_E5M2,        /* OCP FP8 E5M2: IEEE-like, has Inf and NaNs */
    QS_FMT_INT8,        /* two's complement -128..127 */
    QS_FMT_UINT8,       /* 0..255 */
    QS_FMT_INT4,        /* two's complement -8..7 */
    QS_FMT_UINT4,       /* 0..15 */
    /* OCP Microscaling (MX) v1.0 element and scale formats (issue 17) */
    QS_FMT_E3M2,        /* FP6 E3M2: bias 3, no Inf or NaN, max 28 */
    QS_FMT_E2M3,        /* FP6 E2M3: bias 1, no Inf or NaN, max 7.5 */
    QS_FMT_E2M1,        /* FP4 E2M1: bias 1, no Inf or NaN, max 6 */
    QS_FMT_E8M0,        /* E8M0 scale: unsigned, 2^(e-127), 0xFF = NaN, no zero */
    QS_FMT_COUNT
} qs_fmt_id;

/* How NaN is spelled in a float format. */
typedef enum qs_nan_style {
    QS_NAN_NONE = 0,    /* no NaN: integer formats, FP6 and FP4 (every code is a number) */
    QS_NAN_IEEE,        /* exponent all ones and mantissa != 0 (quiet bit = mantissa MSB) */
    QS_NAN_ALLONES      /* only exponent and mantissa all ones (S.1111.111 in E4M3) */
} qs_nan_style;

/* What encoding does with a finite value beyond the largest finite one (and with ±Inf in a
 * format without infinities). */
typedef enum qs_ovf {
    QS_OVF_DEFAULT = 0, /* the format's own default (qs_numfmt.ovf_default) */
    QS_OVF_SATURATE,    /* clamp to ±max finite (OCP "saturating" / CUDA __NV_SATFINITE);
                           ±Inf also goes to ±max */
    QS_OVF_IEEE         /* IEEE: ±Inf when the format has it, else NaN (OCP E4M3 in
                           non-saturating mode) */
} qs_ovf;

/* Descriptor of one format. Float fields are meaningful only when !is_int and vice versa. */
typedef struct qs_numfmt {
    qs_fmt_id id;           /* its id */
    const char *name;       /* canonical name: "fp32", "fp8-e4m3", "int4", ... */
    const char *alias;      /* other accepted name ("e4m3") or NULL */
    const char *title;      /* one line: "IEEE 754 binary16 (half)" */
    int storage_bits;       /* bits of the storage word (TF32: 32) */
    int width;              /* bits that carry the value (TF32: 19) */
    int pad_bits;           /* always-zero low bits of the storage (TF32: 13, else 0) */
    int is_int;             /* 1: integer format */
    int is_signed;          /* 1: has a sign (floats always) */
    int exp_bits;           /* exponent field width (0 for integers) */
    int man_bits;           /* stored mantissa (fraction) width (0 for integers) */
    int bias;               /* exponent bias */
    int has_inf;            /* 1: has ±Inf */
    qs_nan_style nan;       /* how NaN is encoded */
    qs_ovf ovf_default;     /* overflow behaviour of QS_OVF_DEFAULT (never QS_OVF_DEFAULT) */
    int emin;               /* smallest normal unbiased exponent, 1 - bias */
    int emax;               /* largest finite unbiased exponent */
    double max;             /* largest finite value */
    double min_normal;      /* smallest positive normal (floats) */
    double min_subnormal;   /* smallest positive subnormal (floats) */
    int64_t int_min;        /* integers: smallest code */
    int64_t int_max;        /* integers: largest code */
} qs_numfmt;

/* Classes of a stored value. */
typedef enum qs_numclass {
    QS_NC_ZERO = 0,     /* ±0 (integer 0) */
    QS_NC_SUBNORMAL,    /* exponent field 0, mantissa != 0 */
    QS_NC_NORMAL,       /* finite non-zero normal number (any non-zero integer) */
    QS_NC_INF,          /* ±Inf */
    QS_NC_NAN           /* NaN */
} qs_numclass;

/* Status bits an encode may report. */
enum {
    QS_NF_INEXACT = 1 << 0,     /* the stored value differs from the input */
    QS_NF_OVERFLOW = 1 << 1,    /* |input| beyond the range: saturated, Inf or NaN */
    QS_NF_UNDERFLOW = 1 << 2,   /* non-zero input stored as zero or as an inexact subnormal */
    QS_NF_NAN_INPUT = 1 << 3    /* input was NaN (integers store 0) */
};

/* Everything the `bits` command and the TUI show about one stored value. */
typedef struct qs_numfields {
    const qs_numfmt *fmt;   /* the format */
    uint32_t pattern;       /* storage word */
    char hex[12];           /* "0x40EA3D71": storage word, storage_bits/4 upper-case digits */
    char bits[36];          /* the `width` value bits, MSB first ("0100..."; TF32: 19) */
    int sign;               /* sign bit (integers: 1 when negative) */
    char exp_bits[12];      /* exponent field, MSB first ("10000001"); "" for integers */
    int exponent;           /* biased exponent field (129 for 7.32 in FP32) */
    int exponent_unbiased;  /* value's exponent: field - bias, or emin for zero/subnormal */
    char man_bits[28];      /* mantissa field, MSB first; "" for integers */
    int implicit_bit;       /* 1 for normal numbers, 0 for zero/subnormal/Inf/NaN */
    double significand;     /* implicit.mantissa as a number (1.83 for 7.32), |value| /
                               2^exponent_unbiased; NaN for Inf/NaN; integers: |code| */
    double value;           /* the exact stored value (integers: the code) */
    double input;           /* the value that was encoded, NaN when decoded from a pattern */
    double error;           /* value - input (0 when exact, NaN when there is no input) */
    double next_up;         /* the next representable value above (+Inf / NaN at the top) */
    double next_down;       /* the next representable value below */
    double ulp;             /* 2^(exponent_unbiased - man_bits): the spacing of the binade
                               holding value (integers: 1; NaN for Inf/NaN) */
    qs_numclass cls;        /* class */
    int64_t code;           /* integers: the integer the pattern holds */
    int status;             /* QS_NF_* bits of the encode (0 when decoded from a pattern) */
} qs_numfields;

/* The descriptor of a format id, or NULL when out of range. */
const qs_numfmt *qs_numfmt_get(qs_fmt_id id);
/* Looks a format up by name, case-insensitively: fp32 fp16 bf16 tf32 fp8-e4m3 (e4m3)
 * fp8-e5m2 (e5m2) int8 uint8 int4 uint4. NULL when unknown. */
const qs_numfmt *qs_numfmt_find(const char *name);
/* The canonical names, NULL-terminated, in table order (for completion and help). */
const char *const *qs_numfmt_names(void);
/* A class as a word: "zero", "subnormal", "normal", "inf", "nan". */
const char *qs_numclass_name(qs_numclass c);

/* Encodes x with round-to-nearest-even. Floats: subnormals kept, signed zero kept, NaN gives
 * a quiet NaN (IEEE formats keep the sign and the top payload bits, like F16C; E4M3 gives
 * S.1111.111), overflow follows ovf (QS_OVF_DEFAULT: the format's ovf_default — saturate for
 * E4M3, FP6, FP4 and E8M0, IEEE for FP32 FP16 BF16 TF32 E5M2). FP6 / FP4 have neither Inf nor NaN: overflow saturates in every
 * mode and NaN stores +0. E8M0 (no zero, sign or Inf; NaN 0xFF): nearest power of two; ±0 and
 * values below 2^-127 give 0x00 (2^-127), NaN, +Inf and negatives NaN, values past 2^127 0xFE
 * (saturate, its default) or NaN (QS_OVF_IEEE). Integers: round half to even, then saturate
 * to [int_min, int_max]; NaN stores 0. *status (may be NULL) receives QS_NF_* bits. */
uint32_t qs_numfmt_encode(const qs_numfmt *f, double x, qs_ovf ovf, int *status);
/* The exact value of a pattern (bits outside the storage word and TF32's pad bits are
 * ignored). NaN patterns give a NaN double of the same sign. */
double qs_numfmt_decode(const qs_numfmt *f, uint32_t pattern);
/* decode(encode(x)): x rounded to the format. */
double qs_numfmt_round(const qs_numfmt *f, double x, qs_ovf ovf);
/* 1 when pattern is a storage word of the format (no bits above storage_bits, TF32's pad
 * bits zero), else 0. */
int qs_numfmt_valid(const qs_numfmt *f, uint32_t pattern);
/* Class of a pattern. */
qs_numclass qs_numfmt_class(const qs_numfmt *f, uint32_t pattern);
/* The pattern of the next representable value above / below pattern's value, in the order
 * of the real line (-0 and +0 both step to ±min_subnormal). At the top: +Inf when the format
 * has it, else the pattern itself is returned and *at_end (may be NULL) is set to 1. NaN and
 * the infinities in their own direction return themselves with *at_end = 1. */
uint32_t qs_numfmt_next_up(const qs_numfmt *f, uint32_t pattern, int *at_end);
uint32_t qs_numfmt_next_down(const qs_numfmt *f, uint32_t pattern, int *at_end);
/* Flips value bit k (0 = least significant of the `width` value bits, width-1 = the sign /
 * top bit). For TF32 bit k is storage bit k + 13. k outside [0, width) returns pattern. */
uint32_t qs_numfmt_flip(const qs_numfmt *f, uint32_t pattern, int k);
/* The integer code a pattern holds (sign-extended for signed integers). Floats: 0. */
int64_t qs_numfmt_int_code(const qs_numfmt *f, uint32_t pattern);

/* Lookup tables for the narrow floats (FP8 E4M3/E5M2, FP6 E3M2/E2M3, FP4 E2M1: at most 6
 * stored mantissa bits in at most 8): every rounding boundary of such a format (a midpoint
 * between neighbours, the overflow threshold) has at most 7 significant bits and is a
 * float32 normal, so its float32 pattern has zero low 16 bits. qs_numfmt_encode of a float32
 * x therefore depends only on x's top 16 bits and on whether its low 16 bits are zero: two
 * tables of 65536 codes, built with qs_numfmt_encode itself, and the 2^bits decoded values
 * reproduce encode and decode exactly (checked in test_numfmt). */
typedef struct qs_numfmt_lut {
    uint8_t enc[2][65536];      /* [low 16 bits nonzero][top 16 bits]: the code */
    float dec[256];             /* the value of each code (qs_numfmt_decode, as float) */
} qs_numfmt_lut;
/* 1 when f is such a format (the tables apply), else 0. */
int qs_numfmt_lut_ok(const qs_numfmt *f);
/* Builds t for f under ovf (QS_OVF_DEFAULT: f's own); f must pass qs_numfmt_lut_ok. */
void qs_numfmt_lut_init(const qs_numfmt *f, qs_ovf ovf, qs_numfmt_lut *t);
/* qs_numfmt_encode(f, x, ovf) through the tables. */
static inline uint8_t qs_numfmt_lut_encode(const qs_numfmt_lut *t, float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return t->enc[(u & 0xffffu) != 0][u >> 16];
}

/* Fills *out with the fields of a stored pattern; input is the value that was encoded (NaN
 * when there is none) and status the encode's QS_NF_* bits (0 when none). */
void qs_numfmt_fields(const qs_numfmt *f, uint32_t pattern, double input, int status,
                      qs_numfields *out);
/* Encodes x (as qs_numfmt_encode) and fills *out. */
void qs_numfmt_fields_of(const qs_numfmt *f, double x, qs_ovf ovf, qs_numfields *out);

#endif
