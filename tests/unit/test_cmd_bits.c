/* test_cmd_bits.c — the `bits` command through the command table: the JSON contract for
 * 7.32, hex patterns, integers, `all`, flip, overflow modes and error messages. */
#include <criterion/criterion.h>

#include <math.h>
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
