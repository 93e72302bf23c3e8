/* test_derive.c — derivation traces: the seeds' examples step by step, FBGEMM's tie where
 * multiplying by 1/s differs from dividing, NF4's ties to the lower code, ggml Q4_0, casts,
 * per-channel traces, and the trace's code agreeing with the kernels. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "qscope/derive.h"

static qs_scheme words(const char *line)
{
    qs_scheme s;
    qs_err err = {{0}};
    char buf[256], *argv[16];
    int argc = 0;
    qs_scheme_default(&s);
    snprintf(buf, sizeof buf, "%s", line);
    for (char *w = strtok(buf, " "); w && argc < 16; w = strtok(NULL, " ")) argv[argc++] = w;
    cr_assert_eq(qs_scheme_parse(&s, argc, argv, &err), QS_OK, "%s", err.msg);
    return s;
}

static const qs_step *step(const qs_trace *tr, const char *title)
{
    for (int i = 0; i < tr->n; i++)
        if (strcmp(tr->steps[i].title, title) == 0) return &tr->steps[i];
    cr_assert_fail("no step '%s'", title);
    return NULL;
}

static void trace(const float *v, int64_t n, const char *scheme, int has, double value,
                  int64_t set, qs_trace *tr)
{
    qs_tensor *t = qs_tensor_from_values("v", v, n, NULL);
    qs_scheme s = words(scheme);
    qs_calib c;
    qs_calib_default(&c);
    qs_derive_opts o = { has, value, 0, set };
    qs_err err = {{0}};
    cr_assert_eq(qs_derive(t, &s, &c, &o, tr, &err), QS_OK, "%s", err.msg);
    qs_tensor_free(t);
}

Test(derive, seed_minus20_1000)
{
    float v[] = { -20.0f, 1000.0f };
    qs_trace tr;
    trace(v, 2, "uint8 asym", 1, -20.0, -1, &tr);
    cr_assert_eq(step(&tr, "scale")->value, 4.0);
    cr_assert_str_eq(step(&tr, "scale")->result, "s = 4");
    cr_assert_eq(step(&tr, "zero point")->value, 5.0);
    cr_assert_str_eq(step(&tr, "zero point")->result, "zp = 5");
    cr_assert_eq(step(&tr, "multiply by 1/s")->value, -5.0);
    cr_assert_eq(tr.code, 0);
    cr_assert_eq(tr.xhat, -20.0);
    static const char *const order[] = { "observed range", "clip range", "include zero",
                                         "scale", "zero point", "multiply by 1/s", "round",
                                         "add zero point", "clamp", "dequantize", "error",
                                         "noise model" };
    cr_assert_eq(tr.n, 12);
    /* the uniform-noise model: s²/12 = 16/12 against P = (20² + 1000²) / 2 */
    cr_assert_float_eq(step(&tr, "noise model")->value, 10.0 * log10(500200.0 / (16.0 / 12.0)),
                       1e-9);
    cr_assert(strstr(step(&tr, "noise model")->substituted, "4² / 12 = 1.33333"), "%s",
              step(&tr, "noise model")->substituted);
    for (int i = 0; i < tr.n; i++) {
        cr_assert_str_eq(tr.steps[i].title, order[i]);
        cr_assert(tr.steps[i].formula[0] && tr.steps[i].result[0], "step %d empty", i);
    }
    qs_trace_fini(&tr);
    trace(v, 2, "uint8 asym", 1, 1000.0, -1, &tr);
    cr_assert_eq(tr.code, 255);
    qs_trace_fini(&tr);
}

Test(derive, seed_0_1000_250)
{
    float v[] = { 0.0f, 1000.0f };
    qs_trace tr;
    trace(v, 2, "uint8 asym", 1, 250.0, -1, &tr);
    cr_assert_float_eq(step(&tr, "scale")->value, 1000.0 / 255.0, 1e-6);
    cr_assert_eq(step(&tr, "multiply by 1/s")->value, 63.75);
    cr_assert_eq(tr.code, 64);
    cr_assert_float_eq(tr.xhat, 64 * 1000.0 / 255.0, 1e-4);
    qs_trace_fini(&tr);
}

Test(derive, fbgemm_inverse_multiply_tie)
{
    /* REFERENCE.md: scale 0.00214854861, x 0.273939937: x·(1/s) = 127.5 → 128, x/s =
     * 127.499992 → 127. Find a uint8 range [0, M] whose torch scale is exactly that float. */
    const float s = 0.00214854861f;
    float m = s * 255.0f;
    for (int k = 0; k < 64 && m / 255.0f != s; k++)
        m = nextafterf(m, m / 255.0f < s ? INFINITY : 0.0f);
    cr_assert_eq(m / 255.0f, s);
    float v[] = { 0.0f, m };
    qs_trace tr;
    trace(v, 2, "uint8 asym", 1, 0.273939937, -1, &tr);
    const qs_step *mul = step(&tr, "multiply by 1/s");
    cr_assert_eq(mul->value, 127.5);
    cr_assert(strstr(mul->note, "dividing would give"), "note: %s", mul->note);
    cr_assert_eq(tr.code, 128);                 /* 127.5 ties to even: 128 */
    qs_trace_fini(&tr);
}

Test(derive, nf4_midpoint_goes_to_the_lower_code)
{
    float mid = (0.0f + 0.07958029955625534f) * 0.5f;
    float v[] = { 1.0f, mid, nextafterf(mid, 1.0f), -1.0f };
    qs_trace tr;
    trace(v, 4, "nf4 block=4", 1, (double)mid, 0, &tr);
    cr_assert_eq(tr.code, 7);                   /* 0.0 */
    cr_assert_eq(tr.xhat, 0.0);
    qs_trace_fini(&tr);
    trace(v, 4, "nf4 block=4", 1, (double)nextafterf(mid, 1.0f), 0, &tr);
    cr_assert_eq(tr.code, 8);
    cr_assert_eq(tr.xhat, (double)0.07958029955625534f);
    cr_assert_eq(step(&tr, "block absmax")->value, 1.0);
    qs_trace_fini(&tr);
}

Test(derive, nf4_double_quant_steps)
{
    float v[600];
    for (int i = 0; i < 600; i++) v[i] = (float)((i * 37) % 101) / 101.0f - 0.5f;
    qs_trace tr;
    trace(v, 600, "nf4 block=64 dq", 0, 0, -1, &tr);
    step(&tr, "double quant: offset");
    step(&tr, "double quant: absmax'");
    cr_assert(strstr(step(&tr, "double quant: absmax'")->note, "4.1"), "%s",
              step(&tr, "double quant: absmax'")->note);
    qs_trace_fini(&tr);
}

Test(derive, ggml_q4_0_block)
{
    float v[32];
    for (int i = 0; i < 32; i++) v[i] = (float)(i - 10) * 0.25f;   /* -2.5 .. 5.25 */
    qs_trace tr;
    trace(v, 32, "q4_0", 0, 0, -1, &tr);
    /* ggml: max = 5.25 (largest |x|, sign kept), d = 5.25 / -8 = -0.65625, x = -2.5:
     * -2.5 · (1/d) + 8.5 = 3.8095 + 8.5 = 12.31 → q = 12 */
    cr_assert_eq(step(&tr, "signed max")->value, 5.25);
    cr_assert_eq(step(&tr, "scale d")->value, -0.65625);
    cr_assert_eq(tr.code, 12);
    cr_assert_eq(tr.xhat, (12 - 8) * -0.65625);
    qs_trace_fini(&tr);
}

/* MXINT8: an element's value is code · 2^-6 · X; the trace writes that, and keeps the code
 * (an integer) apart from its value */
Test(derive, mxint8_code_and_value)
{
    float v[32];
    for (int i = 0; i < 32; i++) v[i] = (float)(i - 16) / 16.0f;    /* -1 .. 0.9375: X = 1 */
    v[0] = -3.5f;                                                    /* amax 3.5: X = 2 */
    qs_trace tr;
    trace(v, 32, "mxint8", 1, 0.15625 * 2, -1, &tr);     /* 0.3125 / 2 · 64 = 10 */
    cr_assert_eq(step(&tr, "shared scale")->value, 2.0);
    cr_assert_eq(tr.code, 10);
    cr_assert_eq(tr.xhat, 0.3125);
    cr_assert_str_eq(step(&tr, "dequantized values")->formula, "x̂_i = q_i · 2^-6 · X");
    cr_assert_str_eq(step(&tr, "round")->result, "q = 10 (0x0A), value q · 2^-6 = 0.15625");
    cr_assert_str_eq(step(&tr, "dequantize")->formula, "x̂ = q · 2^-6 · X");
    cr_assert_str_eq(step(&tr, "dequantize")->substituted, "10 · 2^-6 · 2");
    /* the dequantized values of the block agree with the formula: q_i · 2^-6 · X */
    cr_assert(strstr(step(&tr, "dequantized values")->substituted, "-3.5 "), "%s",
              step(&tr, "dequantized values")->substituted);
    qs_trace_fini(&tr);
    /* an FP element: the code is a bit pattern of the element format, not its value */
    trace(v, 32, "mxfp4", 1, 0.75, -1, &tr);
    cr_assert(strstr(step(&tr, "round")->result, "the fp4-e2m1 code of"), "%s",
              step(&tr, "round")->result);
    qs_trace_fini(&tr);
}

Test(derive, cast_fp16_732)
{
    float v[] = { 7.32f };
    qs_trace tr;
    trace(v, 1, "fp16", 0, 0, -1, &tr);
    cr_assert_eq(tr.code, 0x4752);              /* REFERENCE.md */
    cr_assert_eq(tr.xhat, 7.3203125);
    cr_assert(strstr(step(&tr, "fp32 value")->substituted, "0x40EA3D71"), "%s",
              step(&tr, "fp32 value")->substituted);
    qs_trace_fini(&tr);
}

Test(derive, per_channel_uses_that_channel)
{
    /* [2, 2]: channel 0 = (1, -1), channel 1 = (10, -10); int8 sym: s = amax / 127.5 */
    float v[] = { 1, -1, 10, -10 };
    qs_tensor *t = qs_tensor_new("w", 2, (int64_t[]){ 2, 2 }, QS_DT_F32, NULL);
    memcpy(t->data, v, sizeof v);
    qs_scheme s = words("int8 sym per-channel axis=0");
    qs_calib c;
    qs_calib_default(&c);
    qs_derive_opts o = { 1, 5.0, 0, 1 };
    qs_trace tr;
    qs_err err = {{0}};
    cr_assert_eq(qs_derive(t, &s, &c, &o, &tr, &err), QS_OK, "%s", err.msg);
    cr_assert_eq(step(&tr, "scale")->value, (double)(10.0f / 127.5f));
    cr_assert_eq(tr.set, 1);
    cr_assert_eq(tr.code, 64);                  /* 5 · 12.75 = 63.75 */
    qs_trace_fini(&tr);
    o.set = 2;
    cr_assert_eq(qs_derive(t, &s, &c, &o, &tr, &err), QS_ERR);
    cr_assert(strstr(err.msg, "out of range"), "%s", err.msg);
    qs_tensor_free(t);
}

Test(derive, clipped_value_is_noted)
{
    float v[] = { -1.0f, 1.0f };
    qs_trace tr;
    trace(v, 2, "int8 sym", 1, 2.0, -1, &tr);   /* beyond amax: 255 → 127 */
    cr_assert_eq(tr.code, 127);
    cr_assert(strstr(step(&tr, "clamp")->note, "clipped"), "%s", step(&tr, "clamp")->note);
    cr_assert(strstr(step(&tr, "scale")->note, "127.5"), "%s", step(&tr, "scale")->note);
    qs_trace_fini(&tr);
}

/* A NaN value has no code: the trace says what qscope stores (the zero point) and what
 * PyTorch stores (qmin), and no step claims a division, a clamp or a rounding-error bound
 * that does not apply to NaN. */
Test(derive, nan_value_is_explained)
{
    float v[] = { NAN, 1.0f, -1.0f, 0.5f };
    qs_trace tr;
    trace(v, 4, "int8", 1, NAN, -1, &tr);
    cr_assert_eq(tr.code, -1, "qscope stores the zero point (-1 here)");
    const qs_step *m = step(&tr, "multiply by 1/s"), *c = step(&tr, "clamp"),
                  *e = step(&tr, "error");
    cr_assert(strstr(m->note, "dividing would give") == NULL, "%s", m->note);
    cr_assert(strstr(c->note, "NaN has no code") != NULL, "%s", c->note);
    cr_assert(strstr(c->note, "qmin") != NULL, "%s", c->note);
    cr_assert(strstr(e->note, "rounding error") == NULL, "%s", e->note);
    cr_assert(strstr(e->note, "n_nan") != NULL, "%s", e->note);
    qs_trace_fini(&tr);
}
