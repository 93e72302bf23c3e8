/* cmd_bits.c — commands on number formats: bits (issue 2).
 *
 * `bits VALUE|0xHEX [FORMAT|all] [overflow=saturate|ieee] [flip=K]`
 * Result (one format): an object with the keys
 *   format title input hex bits sign sign_bits exponent exponent_unbiased exponent_bits
 *   mantissa_bits implicit_bit significand value error next_up next_down ulp class stored
 *   overflow underflow [code] [flipped] [note]
 * `note`: what the format did with an input it has no code for (NaN in fp6 / fp4 / integers,
 * E8M0's zero, sign, Inf and overflow, overflow=ieee in fp6 / fp4).
 * `stored` is `value` as text, the shortest decimal that reads back exactly (or inf/nan).
 * `exponent` is the biased field (129 for 7.32 in fp32), `value` the exact stored value,
 * `error` = value - input. Integer formats give `code` and its two's-complement `bits`, with
 * the exponent keys null. Doubles that are NaN/Inf are null (JSON has neither).
 * `all`: {"input", "formats": [{format hex bits value stored error class}, ...]}. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "qscope/cmd.h"
#include "qscope/numfmt.h"

extern const qs_cmd qs_cmds_bits[];

/* Completion words: the format names (kept equal to qs_numfmt_names() by test_cmd_bits) plus
 * `all` and the option keys. */
static const char *const bits_words[] = {
    "fp32", "fp16", "bf16", "tf32", "fp8-e4m3", "fp8-e5m2", "int8", "uint8", "int4", "uint4",
    "fp6-e3m2", "fp6-e2m3", "fp4-e2m1", "e8m0", "all", "overflow=", "flip=", NULL,
};

/* 1 when s is "0x" followed by 1..8 hex digits (a bit pattern, not a hex float) */
static int is_hex_pattern(const char *s, uint32_t *out)
{
    if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || !s[2]) return 0;
    uint32_t v = 0;
    size_t i = 2;
    for (; s[i]; i++) {
        int c = (unsigned char)s[i];
        if (!isxdigit(c) || i >= 10) return 0;
        v = v << 4 | (uint32_t)(isdigit(c) ? c - '0' : tolower(c) - 'a' + 10);
    }
    *out = v;
    return 1;
}

/* The shortest decimal that reads back as exactly v ("7.320000171661377"), or "inf", "-inf",
 * "nan": the stored value as text, so renderers need not guess a precision. */
static void shortest(double v, char *buf, size_t len)
{
    if (isnan(v)) {
        snprintf(buf, len, "nan");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, len, v > 0 ? "inf" : "-inf");
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) return;
    }
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* What the format did with an input it has no code for (NaN in a format without NaN, E8M0's
 * missing zero / sign / Inf, overflow=ieee in a format without Inf): one sentence into buf,
 * or "" when there is nothing to say. ovf: the mode asked for (QS_OVF_DEFAULT: none). */
static void input_note(const qs_numfmt *f, double x, int status, qs_ovf ovf, char *buf,
                       size_t len)
{
    int e8m0 = !f->is_int && !f->is_signed;
    buf[0] = 0;
    if (isnan(x)) {
        if (f->is_int || f->nan == QS_NAN_NONE)
            snprintf(buf, len, "the input is NaN, and %s has no NaN code: qscope stores NaN as "
                     "0 (so the class reads zero)", f->name);
        return;
    }
    if (e8m0) {
        if (x == 0 || (x > 0 && (status & QS_NF_UNDERFLOW)))
            snprintf(buf, len, "E8M0 has no zero: 0 and values below 2^-127 store the smallest "
                     "scale, 2^-127 (0x00)");
        else if (x < 0)
            snprintf(buf, len, "E8M0 has no sign bit: a negative value has no code and stores "
                     "NaN (0xFF)");
        else if (isinf(x))
            snprintf(buf, len, "E8M0 has no Inf: its only special code is NaN (0xFF), which "
                     "+Inf stores in either overflow mode");
        else if (status & QS_NF_OVERFLOW)
            snprintf(buf, len, "past 2^127, E8M0's largest scale: %s", ovf == QS_OVF_IEEE
                     ? "overflow=ieee gives NaN (0xFF), E8M0 having no Inf (the default, "
                       "saturate, gives 0xFE = 2^127)"
                     : "saturated to 0xFE = 2^127 (overflow=ieee gives NaN, E8M0 having no "
                       "Inf)");
        return;
    }
    if (ovf == QS_OVF_IEEE && (status & QS_NF_OVERFLOW) && !f->is_int && f->nan == QS_NAN_NONE)
        snprintf(buf, len, "%s has no Inf and no NaN: overflow=ieee saturates to ±%g like "
                 "overflow=saturate", f->name, f->max);
}

static json_t *fields_json(const qs_numfields *fl, int has_input)
{
    const qs_numfmt *f = fl->fmt;
    json_t *o = json_object();
    json_object_set_new(o, "format", json_string(f->name));
    json_object_set_new(o, "title", json_string(f->title));
    if (has_input) qs_json_set_real(o, "input", fl->input);
    else json_object_set_new(o, "input", json_null());
    json_object_set_new(o, "hex", json_string(fl->hex));
    json_object_set_new(o, "bits", json_string(fl->bits));
    json_object_set_new(o, "sign", json_integer(fl->sign));
    if (f->is_int) {
        json_object_set_new(o, "sign_bits", str_or_null(f->is_signed ? (fl->sign ? "1" : "0")
                                                                     : NULL));
        json_object_set_new(o, "exponent", json_null());
        json_object_set_new(o, "exponent_unbiased", json_null());
        json_object_set_new(o, "exponent_bits", json_null());
        json_object_set_new(o, "mantissa_bits", json_null());
        json_object_set_new(o, "code", json_integer((json_int_t)fl->code));
    } else {
        /* E8M0 (the MX scale) has no sign bit */
        json_object_set_new(o, "sign_bits", f->is_signed ? json_string(fl->sign ? "1" : "0")
                                                         : json_null());
        json_object_set_new(o, "exponent", json_integer(fl->exponent));
        json_object_set_new(o, "exponent_unbiased", json_integer(fl->exponent_unbiased));
        json_object_set_new(o, "exponent_bits", json_string(fl->exp_bits));
        json_object_set_new(o, "mantissa_bits", json_string(fl->man_bits));
        json_object_set_new(o, "implicit_bit", json_integer(fl->implicit_bit));
        qs_json_set_real(o, "significand", fl->significand);
    }
    qs_json_set_real(o, "value", fl->value);
    if (has_input) qs_json_set_real(o, "error", fl->error);
    else json_object_set_new(o, "error", json_null());
    qs_json_set_real(o, "next_up", fl->next_up);
    qs_json_set_real(o, "next_down", fl->next_down);
    qs_json_set_real(o, "ulp", fl->ulp);
    json_object_set_new(o, "class", json_string(qs_numclass_name(fl->cls)));
    char buf[40];
    shortest(fl->value, buf, sizeof buf);
    json_object_set_new(o, "stored", json_string(buf));
    json_object_set_new(o, "overflow", json_boolean(fl->status & QS_NF_OVERFLOW));
    json_object_set_new(o, "underflow", json_boolean(fl->status & QS_NF_UNDERFLOW));
    if (f->is_int) {        /* the format itself: its grid */
        json_object_set_new(o, "int_min", json_integer((json_int_t)f->int_min));
        json_object_set_new(o, "int_max", json_integer((json_int_t)f->int_max));
        json_object_set_new(o, "ncodes", json_integer((json_int_t)(f->int_max - f->int_min + 1)));
    } else {                /* the format itself: field widths, bias and range */
        json_object_set_new(o, "width", json_integer(f->width));
        json_object_set_new(o, "storage_bits", json_integer(f->storage_bits));
        json_object_set_new(o, "exp_width", json_integer(f->exp_bits));
        json_object_set_new(o, "man_width", json_integer(f->man_bits));
        json_object_set_new(o, "bias", json_integer(f->bias));
        qs_json_set_real(o, "max_finite", f->max);
        qs_json_set_real(o, "min_normal", f->min_normal);
        qs_json_set_real(o, "min_subnormal", f->min_subnormal);
    }
    return o;
}

static json_t *all_formats(double x, qs_ovf ovf)
{
    json_t *o = json_object(), *arr = json_array();
    qs_json_set_real(o, "input", x);
    for (int i = 0; i < QS_FMT_COUNT; i++) {
        qs_numfields fl;
        qs_numfmt_fields_of(qs_numfmt_get((qs_fmt_id)i), x, ovf, &fl);
        json_t *r = json_object();
        json_object_set_new(r, "format", json_string(fl.fmt->name));
        json_object_set_new(r, "hex", json_string(fl.hex));
        json_object_set_new(r, "bits", json_string(fl.bits));
        qs_json_set_real(r, "value", fl.value);
        char buf[40];
        shortest(fl.value, buf, sizeof buf);
        json_object_set_new(r, "stored", json_string(buf));
        qs_json_set_real(r, "error", fl.error);
        json_object_set_new(r, "class", json_string(qs_numclass_name(fl.cls)));
        json_array_append_new(arr, r);
    }
    json_object_set_new(o, "formats", arr);
    if (isnan(x))
        json_object_set_new(o, "note", json_string(
            "the input is NaN: int8 uint8 int4 uint4 fp6-e3m2 fp6-e2m3 fp4-e2m1 have no NaN "
            "code, and qscope stores NaN as 0 in them (class zero)"));
    return o;
}

/* `bits all FORMAT`: every code of a format of at most 8 bits, in code order. */
static json_t *code_table(const qs_numfmt *f)
{
    json_t *o = json_object(), *arr = json_array();
    uint32_t n = 1u << f->storage_bits;
    json_object_set_new(o, "format", json_string(f->name));
    json_object_set_new(o, "title", json_string(f->title));
    json_object_set_new(o, "count", json_integer(n));
    for (uint32_t p = 0; p < n; p++) {
        qs_numfields fl;
        qs_numfmt_fields(f, p, NAN, 0, &fl);
        json_t *r = json_object();
        json_object_set_new(r, "hex", json_string(fl.hex));
        json_object_set_new(r, "bits", json_string(fl.bits));
        qs_json_set_real(r, "value", fl.value);
        char buf[40];
        shortest(fl.value, buf, sizeof buf);
        json_object_set_new(r, "stored", json_string(buf));
        json_object_set_new(r, "class", json_string(qs_numclass_name(fl.cls)));
        json_array_append_new(arr, r);
    }
    json_object_set_new(o, "codes", arr);
    return o;
}

static int run_bits(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    static const char *const keys[] = {"overflow", "flip", NULL};
    (void)s;
    if (qs_arg_check(&qs_cmds_bits[0], argc, argv, keys, NULL, 2, err)) return QS_ERR;
    const char *vs = qs_arg_pos(argc, argv, 0);
    const char *fs = qs_arg_pos(argc, argv, 1);
    if (!vs) return qs_err_set(err, "bits: expected a value or a 0xHEX pattern (usage: %s)",
                               qs_cmds_bits[0].usage);

    if (strcasecmp(vs, "all") == 0) {          /* bits all FORMAT: the whole code table */
        const qs_numfmt *tf = fs ? qs_numfmt_find(fs) : NULL;
        if (!tf) return qs_err_set(err, "bits all: expected a format of at most 8 bits (bits "
                                   "all fp4-e2m1)%s%s", fs ? ", not " : "", fs ? fs : "");
        if (tf->storage_bits > 8)
            return qs_err_set(err, "bits all %s: %d-bit codes are too many to list (formats "
                              "of at most 8 bits)", tf->name, tf->storage_bits);
        if (argc > 2) return qs_err_set(err, "bits all %s: no options", tf->name);
        *out = code_table(tf);
        return QS_OK;
    }
    int all = fs && strcasecmp(fs, "all") == 0;
    const qs_numfmt *f = qs_numfmt_get(QS_FMT_FP32);
    if (fs && !all && !(f = qs_numfmt_find(fs))) {
        char list[160];
        size_t off = 0;
        for (const char *const *n = qs_numfmt_names(); *n && off < sizeof list; n++)
            off += (size_t)snprintf(list + off, sizeof list - off, "%s ", *n);
        return qs_err_set(err, "bits: unknown format '%s' (formats: %sall)", fs, list);
    }

    qs_ovf ovf = QS_OVF_DEFAULT;
    const char *ov = qs_arg_kv(argc, argv, "overflow");
    if (ov) {
        if (strcasecmp(ov, "saturate") == 0 || strcasecmp(ov, "sat") == 0) ovf = QS_OVF_SATURATE;
        else if (strcasecmp(ov, "ieee") == 0 || strcasecmp(ov, "nosat") == 0) ovf = QS_OVF_IEEE;
        else return qs_err_set(err, "bits: overflow=%s: expected saturate or ieee", ov);
    }
    long long flip = -1;
    if (qs_arg_kv(argc, argv, "flip")) {
        if (all) return qs_err_set(err, "bits: flip=K needs one format, not 'all'");
        if (qs_arg_int(argc, argv, "flip", 0, f->width - 1, &flip, err))
            return qs_err_prefix(err, "bits");
    }

    uint32_t pattern;
    double x = NAN;
    int has_input = 0;
    if (is_hex_pattern(vs, &pattern)) {
        if (all) return qs_err_set(err, "bits: a 0xHEX pattern needs one format, not 'all'");
        if (!qs_numfmt_valid(f, pattern)) {
            if (f->pad_bits && !((uint64_t)pattern >> f->storage_bits))
                return qs_err_set(err, "bits: %s is not a %s pattern (its low %d bits must be 0)",
                                  vs, f->name, f->pad_bits);
            return qs_err_set(err, "bits: %s does not fit in %s (%d bits)", vs, f->name,
                              f->storage_bits);
        }
    } else if ((vs[0] == '-' || vs[0] == '+') && is_hex_pattern(vs + 1, &pattern)) {
        /* strtod would read -0x3C00 as the number -15360 while 0x3C00 is a bit pattern */
        char hint[96] = "";
        if (vs[0] == '+')
            snprintf(hint, sizeof hint, " (write %.12s)", vs + 1);
        else if (!all && !f->is_int && f->is_signed && qs_numfmt_valid(f, pattern))
            snprintf(hint, sizeof hint, " (the negative of %.12s in %s is 0x%X)", vs + 1,
                     f->name, pattern | (1u << (f->storage_bits - 1)));
        return qs_err_set(err, "bits: %s: a 0xHEX bit pattern has no sign; set the sign bit "
                          "in the pattern%s, or give a number (a decimal, or a hex float "
                          "such as -0x1p-9)", vs, hint);
    } else if (qs_parse_double(vs, &x) == 0) {
        has_input = 1;
    } else {
        return qs_err_set(err, "bits: '%s' is not a number or 0xHEX", vs);
    }

    if (all) {
        *out = all_formats(x, ovf);
        return QS_OK;
    }
    qs_numfields fl;
    int st = 0;
    if (has_input) pattern = qs_numfmt_encode(f, x, ovf, &st);
    if (flip >= 0) {
        pattern = qs_numfmt_flip(f, pattern, (int)flip);
        has_input = 0;          /* the flipped pattern no longer encodes the input */
        st = 0;
    }
    qs_numfmt_fields(f, pattern, has_input ? x : NAN, st, &fl);
    json_t *o = fields_json(&fl, has_input);
    if (has_input) {
        char note[256];
        input_note(f, x, st, ovf, note, sizeof note);
        if (note[0]) json_object_set_new(o, "note", json_string(note));
    }
    if (flip >= 0) {
        json_object_set_new(o, "flipped", json_integer(flip));
        if (!isnan(x)) qs_json_set_real(o, "input", x);
    }
    *out = o;
    return QS_OK;
}

const qs_cmd qs_cmds_bits[] = {
    {"bits", "formats", "bits VALUE|0xHEX [FORMAT|all] [overflow=saturate|ieee] [flip=K] | "
     "bits all FORMAT",
     "show how a number is stored in a format: sign, exponent, mantissa, stored value, error",
     "VALUE     a number (7.32, -1e-8, inf, nan, 0x1p-9) to encode with round-to-nearest-even; "
     "formats without a NaN code (fp6, fp4, the integers) store nan as 0, and a `note` key "
     "says so (it also explains e8m0's and overflow=ieee's special cases)\n"
     "0xHEX     a bit pattern of FORMAT to decode (e.g. 0x40EA3D71); unsigned: -0x3C00 is "
     "refused (set the sign bit: 0xBC00 in fp16), a hex float with an exponent (-0x1p-9) is a "
     "number\n"
     "FORMAT    fp32 (default) fp16 bf16 tf32 fp8-e4m3 (e4m3) fp8-e5m2 (e5m2) int8 uint8 "
     "int4 uint4, and the OCP MX formats fp6-e3m2 (e3m2) fp6-e2m3 (e2m3) fp4-e2m1 (e2m1) "
     "e8m0 (the MX shared scale: 2^(e-127), no zero, sign or Inf, 0xFF NaN; 0 and values "
     "below 2^-127 store 0x00 = 2^-127, NaN, Inf and negatives store NaN, values past 2^127 "
     "saturate to 0xFE)\n"
     "all       VALUE in every format, one row each\n"
     "all FORMAT  every code of a format of at most 8 bits (keys: format title count "
     "codes[{hex bits value stored class}])\n"
     "overflow=saturate|ieee  out-of-range values: clamp to the largest finite value, or "
     "Inf (NaN in e4m3 and e8m0, which have no Inf); fp6 and fp4 have neither Inf nor NaN and "
     "saturate in both modes, the integers always saturate. Default saturate for fp8-e4m3, "
     "fp6, fp4, e8m0 and the integers, ieee for fp32 fp16 bf16 tf32 fp8-e5m2 (`scheme "
     "fp8-e5m2` casts tensors saturating)\n"

     "flip=K    flip bit K (0 = least significant) of the stored pattern and show the result",
     "bits 7.32 fp32", bits_words, 0, 0, run_bits, .kinds = QS_RK(QS_R_BITS) | QS_RK(QS_R_TABLE)},
    {0},
};
