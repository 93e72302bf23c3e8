/* test_cmd_bits.c — the `bits` command through the command table: the JSON contract for
 * 7.32, hex patterns, integers, `all`, flip, overflow modes and error messages. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "qscope/cmd.h"
#include "qscope/numfmt.h"

static qs_session S;

static void setup(void)
{
    qs_session_init(&S);
}

static void teardown(void)
{
    qs_session_fini(&S);
}

TestSuite(cmd_bits, .init = setup, .fini = teardown);

static json_t *run(const char *line)
{
    json_t *out = NULL;
    qs_err err = {{0}};
    int rc = qs_cmd_run_line(&S, line, &out, NULL, &err);
    cr_assert_eq(rc, QS_OK, "'%s' failed: %s", line, err.msg);
    cr_assert_not_null(out);
    return out;
}

static void fails(const char *line, const char *needle)
{
    json_t *out = NULL;
    qs_err err = {{0}};
    cr_assert_eq(qs_cmd_run_line(&S, line, &out, NULL, &err), QS_ERR, "'%s' should fail", line);
    cr_assert_null(out);
    cr_assert(strstr(err.msg, needle), "'%s': message '%s' lacks '%s'", line, err.msg, needle);
}

static const char *str(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    cr_assert(json_is_string(v), "key %s is not a string", k);
    return json_string_value(v);
}

static long long integer(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    cr_assert(json_is_integer(v), "key %s is not an integer", k);
    return json_integer_value(v);
}

static double real(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    cr_assert(json_is_number(v), "key %s is not a number", k);
    return json_number_value(v);
}

Test(cmd_bits, example_7_32_fp32)
{
    json_t *o = run("bits 7.32 fp32");
    cr_assert_str_eq(str(o, "format"), "fp32");
    cr_assert_str_eq(str(o, "hex"), "0x40EA3D71");
    cr_assert_eq(integer(o, "sign"), 0);
    cr_assert_eq(integer(o, "exponent"), 129);
    cr_assert_eq(integer(o, "exponent_unbiased"), 2);
    cr_assert_str_eq(str(o, "exponent_bits"), "10000001");
    cr_assert_str_eq(str(o, "mantissa_bits"), "11010100011110101110001");
    cr_assert_eq(real(o, "value"), 7.320000171661377);
    cr_assert(fabs(real(o, "error") - 1.7166137666890791e-07) < 1e-21);
    cr_assert(fabs(real(o, "significand") - 1.83) < 1e-7);
    cr_assert_eq(real(o, "input"), 7.32);
    cr_assert_str_eq(str(o, "class"), "normal");
    cr_assert_str_eq(str(o, "stored"), "7.320000171661377");
    cr_assert(json_is_false(json_object_get(o, "overflow")));
    json_decref(o);
    /* the default format is fp32, and the format name is case-insensitive */
    o = run("bits 7.32");
    cr_assert_str_eq(str(o, "hex"), "0x40EA3D71");
    json_decref(o);
    o = run("bits 7.32 FP16");
    cr_assert_str_eq(str(o, "hex"), "0x4752");
    cr_assert_eq(real(o, "value"), 7.3203125);
    cr_assert_str_eq(str(o, "stored"), "7.3203125");
    json_decref(o);
}

Test(cmd_bits, hex_patterns)
{
    json_t *o = run("bits 0x40EA3D71 fp32");
    cr_assert_eq(real(o, "value"), 7.320000171661377);
    cr_assert(json_is_null(json_object_get(o, "input")));
    cr_assert(json_is_null(json_object_get(o, "error")));
    json_decref(o);
    o = run("bits 0x7C00 fp16");
    cr_assert_str_eq(str(o, "class"), "inf");
    cr_assert_str_eq(str(o, "value"), "inf");      /* JSON: +Inf as the string "inf" */
    cr_assert_str_eq(str(o, "stored"), "inf");
    cr_assert_eq(real(o, "next_down"), 65504.0);
    json_decref(o);
    o = run("bits 0x7f e4m3");
    cr_assert_str_eq(str(o, "class"), "nan");
    json_decref(o);
    o = run("bits 0x01 fp8-e4m3");
    cr_assert_eq(real(o, "value"), 0x1p-9);
    cr_assert_str_eq(str(o, "class"), "subnormal");
    cr_assert_eq(integer(o, "exponent_unbiased"), -6);
    json_decref(o);
    /* a hex float is a value, not a pattern */
    o = run("bits 0x1p-9 e4m3");
    cr_assert_str_eq(str(o, "hex"), "0x01");
    json_decref(o);
}

Test(cmd_bits, integers)
{
    json_t *o = run("bits -7.32 int8");
    cr_assert_eq(integer(o, "code"), -7);
    cr_assert_str_eq(str(o, "bits"), "11111001");
    cr_assert_str_eq(str(o, "hex"), "0xF9");
    cr_assert_eq(integer(o, "sign"), 1);
    cr_assert(json_is_null(json_object_get(o, "exponent")));
    cr_assert(fabs(real(o, "error") - 0.32) < 1e-12);
    json_decref(o);
    o = run("bits 300 uint8");
    cr_assert_eq(integer(o, "code"), 255);
    cr_assert(json_is_true(json_object_get(o, "overflow")));
    json_decref(o);
    o = run("bits 0x8 int4");
    cr_assert_eq(integer(o, "code"), -8);
    json_decref(o);
}

Test(cmd_bits, all_flip_overflow)
{
    json_t *o = run("bits 7.32 all");
    json_t *a = json_object_get(o, "formats");
    cr_assert_eq(json_array_size(a), QS_FMT_COUNT);
    cr_assert_str_eq(str(json_array_get(a, 1), "format"), "fp16");
    cr_assert_str_eq(str(json_array_get(a, 1), "hex"), "0x4752");
    json_decref(o);
    o = run("bits 7.32 fp32 flip=31");
    cr_assert_str_eq(str(o, "hex"), "0xC0EA3D71");
    cr_assert_eq(integer(o, "flipped"), 31);
    json_decref(o);
    o = run("bits 500 e4m3");
    cr_assert_eq(real(o, "value"), 448.0);
    cr_assert(json_is_true(json_object_get(o, "overflow")));
    json_decref(o);
    o = run("bits 500 e4m3 overflow=ieee");
    cr_assert_str_eq(str(o, "class"), "nan");
    json_decref(o);
    o = run("bits 1e6 fp16 overflow=saturate");
    cr_assert_eq(real(o, "value"), 65504.0);
    json_decref(o);
}

Test(cmd_bits, errors)
{
    fails("bits abc", "bits: 'abc' is not a number or 0xHEX");
    fails("bits", "bits: expected a value");
    fails("bits 1 fp64", "unknown format 'fp64'");
    fails("bits 0x10000 fp16", "does not fit in fp16");
    fails("bits 0x40EA3D71 tf32", "low 13 bits must be 0");
    fails("bits 0x12 all", "needs one format");
    fails("bits 1 fp32 flip=32", "flip");
    fails("bits 1 fp32 overflow=maybe", "overflow=maybe");
    fails("bits 1 fp32 extra", "unexpected argument 'extra'");
    fails("bits 1 fp32 nope=1", "unknown option 'nope'");
}

/* inputs a format has no code for: NaN in fp4 / fp6 / int8, E8M0's zero, sign, Inf and
 * overflow, overflow=ieee in fp4: the result says what was stored and why */
Test(cmd_bits, special_inputs_are_explained)
{
    static const char *const no_nan[] = {"fp4-e2m1", "fp6-e3m2", "fp6-e2m3", "int8", "uint4"};
    for (size_t i = 0; i < sizeof no_nan / sizeof *no_nan; i++) {
        char line[64];
        snprintf(line, sizeof line, "bits nan %s", no_nan[i]);
        json_t *o = run(line);
        cr_expect_str_eq(str(o, "class"), "zero");
        cr_expect(strstr(str(o, "note"), "no NaN code"), "%s: %s", line, str(o, "note"));
        json_decref(o);
    }
    json_t *o = run("bits nan fp16");           /* fp16 has NaN: nothing to explain */
    cr_expect_null(json_object_get(o, "note"));
    json_decref(o);
    o = run("bits nan all");
    cr_expect(strstr(str(o, "note"), "fp4-e2m1"), "%s", str(o, "note"));
    json_decref(o);
    /* E8M0: 0 and tiny alike store 2^-127 (no zero) */
    o = run("bits 0 e8m0");
    cr_expect_str_eq(str(o, "hex"), "0x00");
    cr_expect(strstr(str(o, "note"), "no zero"), "%s", str(o, "note"));
    json_decref(o);
    o = run("bits 1e-300 e8m0");
    cr_expect_str_eq(str(o, "hex"), "0x00");
    json_decref(o);
    /* no Inf: +Inf is NaN in both modes; finite overflow saturates by default, NaN in ieee */
    o = run("bits inf e8m0");
    cr_expect_str_eq(str(o, "hex"), "0xFF");
    cr_expect_str_eq(str(o, "class"), "nan");
    cr_expect(strstr(str(o, "note"), "no Inf"), "%s", str(o, "note"));
    json_decref(o);
    o = run("bits 1e39 e8m0");
    cr_expect_str_eq(str(o, "hex"), "0xFE");
    cr_expect(strstr(str(o, "note"), "saturated"), "%s", str(o, "note"));
    json_decref(o);
    o = run("bits 1e39 e8m0 overflow=ieee");
    cr_expect_str_eq(str(o, "hex"), "0xFF");
    json_decref(o);
    o = run("bits -2 e8m0");
    cr_expect_str_eq(str(o, "hex"), "0xFF");
    cr_expect(strstr(str(o, "note"), "no sign"), "%s", str(o, "note"));
    json_decref(o);
    o = run("bits 3 e8m0");                     /* an ordinary value: no note */
    cr_expect_null(json_object_get(o, "note"));
    json_decref(o);
    /* fp4 has no Inf: overflow=ieee saturates, and says so */
    o = run("bits 7 fp4-e2m1 overflow=ieee");
    cr_expect_str_eq(str(o, "hex"), "0x7");
    cr_expect(strstr(str(o, "note"), "no Inf"), "%s", str(o, "note"));
    json_decref(o);
    /* a signed hex is not a bit pattern: refused, while a hex float stays a number */
    fails("bits -0x3C00 fp16", "0xBC00");
    fails("bits +0x3C00 fp16", "has no sign");
    o = run("bits -0x1p-9 fp16");
    cr_expect_str_eq(str(o, "hex"), "0x9800");
    json_decref(o);
}

Test(cmd_bits, table_row)
{
    const qs_cmd *c = qs_cmd_find("bits");
    cr_assert_not_null(c);
    cr_assert(c->usage && c->summary && c->help && c->example && c->words);
    /* the completion words start with exactly the format names */
    const char *const *names = qs_numfmt_names();
    int i = 0;
    for (; names[i]; i++) cr_assert_str_eq(c->words[i], names[i]);
    cr_assert_str_eq(c->words[i], "all");
    /* the example runs as is */
    json_decref(run(c->example));
}
