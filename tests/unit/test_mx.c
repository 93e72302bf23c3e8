/* test_mx.c — OCP MX v1.0 formats and NVFP4 (issue 17): every code of FP8/FP6/FP4/E8M0/MXINT8
 * decodes to the value of the spec tables, encode inverts decode, and whole tensors quantize
 * to the codes, shared exponents and values of an independent numpy implementation
 * (tests/golden/make_mx_golden.py -> mx_ref.txt); then the commands on the same tensor. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/cmd.h"
#include "qscope/mx.h"
#include "qscope/numfmt.h"
#include "qscope/quant.h"
#include "golden.h"

#define GOLD "tests/golden/mx_ref.txt"
#define ROWS 6
#define COLS 80

static qs_session S;

static void setup(void) { qs_session_init(&S); }
static void teardown(void) { qs_session_fini(&S); }
TestSuite(mx, .init = setup, .fini = teardown);

static int same(double a, double b)
{
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    return a == b && signbit(a) == signbit(b);
}

static qs_tensor *golden_x(void)
{
    int64_t n;
    float *x = golden_f(GOLD, "x", &n);
    cr_assert_eq(n, ROWS * COLS);
    int64_t shape[2] = { ROWS, COLS };
    qs_err err = {""};
    qs_tensor *t = qs_tensor_new("x", 2, shape, QS_DT_F32, &err);
    cr_assert_not_null(t, "%s", err.msg);
    memcpy(t->data, x, sizeof(float) * (size_t)n);
    free(x);
    return t;
}

static json_t *run(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    json_t *o = NULL;
    qs_err err = {""};
    cr_assert_eq(qs_cmd_run_line(&S, line, &o, NULL, &err), QS_OK, "%s: %s", line, err.msg);
    return o;
}

Test(mx, every_code_decodes_to_the_spec_value)
{
    static const struct { const char *fmt, *line; } f[] = {
        {"fp8-e4m3", "table_fp8-e4m3"}, {"fp8-e5m2", "table_fp8-e5m2"},
        {"fp6-e3m2", "table_fp6-e3m2"}, {"fp6-e2m3", "table_fp6-e2m3"},
        {"fp4-e2m1", "table_fp4-e2m1"}, {"e8m0", "table_e8m0"},
    };
    for (size_t k = 0; k < sizeof f / sizeof f[0]; k++) {
        const qs_numfmt *nf = qs_numfmt_find(f[k].fmt);
        cr_assert_not_null(nf, "%s", f[k].fmt);
        int64_t n;
        double *v = golden_d(GOLD, f[k].line, &n);
        cr_assert_eq(n, (int64_t)1 << nf->storage_bits, "%s", f[k].fmt);
        for (int64_t c = 0; c < n; c++) {
            double d = qs_numfmt_decode(nf, (uint32_t)c);
            cr_expect(same(d, v[c]), "%s code 0x%llx: %.17g, spec %.17g", f[k].fmt,
                      (long long)c, d, v[c]);
            /* encode inverts decode on every number (NaN codes aside) */
            if (!isnan(v[c]))
                cr_expect_eq(qs_numfmt_encode(nf, v[c], QS_OVF_DEFAULT, NULL), (uint32_t)c,
                             "%s: encode(%.17g)", f[k].fmt, v[c]);
        }
        free(v);
    }
    /* MXINT8 elements: two's complement with an implicit 2^-6 */
    const qs_mx_type *i8 = qs_mx_type_info(QS_MX_INT8);
    int64_t n;
    double *v = golden_d(GOLD, "table_mxint8", &n);
    cr_assert_eq(n, 256);
    for (int c = 0; c < 256; c++) cr_expect_eq(qs_mx_elem_decode(i8, (uint32_t)c), v[c]);
    free(v);
}

Test(mx, special_values)
{
    const qs_numfmt *e8 = qs_numfmt_find("e8m0"), *f4 = qs_numfmt_find("fp4-e2m1");
    cr_assert(isnan(qs_numfmt_decode(e8, 0xFF)));
    cr_expect_eq(qs_numfmt_class(e8, 0xFF), QS_NC_NAN);
    cr_expect_eq(qs_numfmt_encode(e8, 3.0, QS_OVF_DEFAULT, NULL), 128u + 1u); /* 4 = 2^2 */
    cr_expect_eq(qs_numfmt_encode(e8, 2.9, QS_OVF_DEFAULT, NULL), 128u);      /* 2 */
    /* no zero: 0 and tiny values alike give the smallest scale 2^-127 (what an MX block of
     * zeros gets), flagged as underflow */
    int st8 = 0;
    cr_expect_eq(qs_numfmt_encode(e8, 0.0, QS_OVF_DEFAULT, &st8), 0x00u);
    cr_expect(st8 & QS_NF_UNDERFLOW);
    cr_expect_eq(qs_numfmt_encode(e8, -0.0, QS_OVF_DEFAULT, NULL), 0x00u);
    cr_expect_eq(qs_numfmt_encode(e8, 1e-300, QS_OVF_SATURATE, NULL), 0x00u);
    cr_expect_eq(qs_numfmt_encode(e8, 1e-300, QS_OVF_IEEE, NULL), 0x00u);
    /* no sign, no Inf: negatives, +Inf and NaN are NaN in every mode */
    cr_expect_eq(qs_numfmt_encode(e8, -2.0, QS_OVF_DEFAULT, NULL), 0xFFu);
    cr_expect_eq(qs_numfmt_encode(e8, INFINITY, QS_OVF_DEFAULT, NULL), 0xFFu);
    cr_expect_eq(qs_numfmt_encode(e8, INFINITY, QS_OVF_SATURATE, NULL), 0xFFu);
    cr_expect_eq(qs_numfmt_encode(e8, NAN, QS_OVF_SATURATE, NULL), 0xFFu);
    /* finite overflow: saturate (the default) to 2^127, or NaN with QS_OVF_IEEE */
    cr_expect_eq(qs_numfmt_encode(e8, 1e300, QS_OVF_DEFAULT, NULL), 0xFEu);
    cr_expect_eq(qs_numfmt_encode(e8, 1e300, QS_OVF_SATURATE, NULL), 0xFEu);
    cr_expect_eq(qs_numfmt_encode(e8, 1e300, QS_OVF_IEEE, NULL), 0xFFu);
    /* FP4 / FP6 have no Inf or NaN: overflow saturates whatever the mode */
    int st = 0;
    cr_expect_eq(qs_numfmt_encode(f4, INFINITY, QS_OVF_IEEE, &st), 0x7u);
    cr_expect(st & QS_NF_OVERFLOW);
    cr_expect_eq(qs_numfmt_encode(f4, -7.0, QS_OVF_DEFAULT, NULL), 0xFu);
    cr_expect_eq(qs_numfmt_encode(f4, 5.0, QS_OVF_DEFAULT, NULL), 0x6u);  /* tie 4|6 -> even */
    cr_expect_eq(qs_numfmt_encode(f4, 0.25, QS_OVF_DEFAULT, NULL), 0x0u); /* tie 0|0.5 */
    cr_expect_eq(qs_numfmt_class(f4, 0x7), QS_NC_NORMAL);
    int end = 0;
    qs_numfmt_next_up(f4, 0x7, &end);
    cr_expect(end, "6 is the top of E2M1");
}

/* codes, shared exponents and values of every MX format against the numpy reference */
Test(mx, tensors_match_the_reference)
{
    static const char *names[] = {"mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e3m2", "mxfp6_e2m3",
                                  "mxfp4", "mxint8"};
    qs_tensor *t = golden_x();
    float y[ROWS * COLS];
    int32_t codes[ROWS * COLS];
    for (int k = 0; k < 6; k++) {
        int id = qs_mx_find(names[k]);
        cr_assert_geq(id, 0, "%s", names[k]);
        int64_t nb = qs_mx_tensor_nblocks(id, t);
        cr_assert_eq(nb, ROWS * 3, "two blocks of 32 and one of 16 per row");
        float step[ROWS * 3];
        uint32_t sc[ROWS * 3];
        qs_err err = {""};
        cr_assert_eq(qs_mx_tensor_codes(id, t, y, codes, step, sc, NULL, NULL, &err), QS_OK);
        char nm[64];
        int64_t n;
        snprintf(nm, sizeof nm, "%s_exp", names[k]);
        double *ex = golden_d(GOLD, nm, &n);
        cr_assert_eq(n, nb);
        for (int64_t b = 0; b < nb; b++) {
            cr_expect_eq((int)sc[b] - 127, (int)ex[b], "%s block %lld", names[k], (long long)b);
            cr_expect_eq((double)step[b], ldexp(1.0, (int)ex[b]));
        }
        snprintf(nm, sizeof nm, "%s_codes", names[k]);
        double *gc = golden_d(GOLD, nm, &n);
        snprintf(nm, sizeof nm, "%s_y", names[k]);
        float *gy = golden_f(GOLD, nm, &n);
        cr_assert_eq(n, ROWS * COLS);
        int bad = 0;
        for (int64_t i = 0; i < n; i++) {
            if (codes[i] != (int32_t)gc[i] || !same(y[i], gy[i])) {
                if (bad++ < 5)
                    cr_expect_fail("%s element %lld: code %d y %.9g, reference %d %.9g",
                                   names[k], (long long)i, codes[i], (double)y[i],
                                   (int)gc[i], (double)gy[i]);
            }
        }
        cr_expect_eq(bad, 0, "%s: %d elements differ", names[k], bad);
        free(ex); free(gc); free(gy);
    }
    qs_tensor_free(t);
}

Test(mx, nvfp4_matches_the_reference)
{
    qs_tensor *t = golden_x();
    int id = qs_mx_find("nvfp4");
    int64_t nb = qs_mx_tensor_nblocks(id, t), n;
    cr_assert_eq(nb, ROWS * 5);
    float y[ROWS * COLS], step[ROWS * 5], ts;
    int32_t codes[ROWS * COLS];
    uint32_t sc[ROWS * 5];
    qs_err err = {""};
    cr_assert_eq(qs_mx_tensor_codes(id, t, y, codes, step, sc, NULL, &ts, &err), QS_OK);
    float *gts = golden_f(GOLD, "nvfp4_ts", &n);
    cr_expect_eq(ts, gts[0]);
    double *gsc = golden_d(GOLD, "nvfp4_scale_codes", &n);
    cr_assert_eq(n, nb);
    for (int64_t b = 0; b < nb; b++) cr_expect_eq(sc[b], (uint32_t)gsc[b], "block %lld",
                                                 (long long)b);
    double *gc = golden_d(GOLD, "nvfp4_codes", &n);
    float *gy = golden_f(GOLD, "nvfp4_y", &n);
    for (int64_t i = 0; i < n; i++) {
        cr_expect_eq(codes[i], (int32_t)gc[i], "element %lld", (long long)i);
        cr_expect(same(y[i], gy[i]), "element %lld: %.9g vs %.9g", (long long)i,
                  (double)y[i], (double)gy[i]);
    }
    free(gts); free(gsc); free(gc); free(gy);
    qs_tensor_free(t);
}

Test(mx, nan_scale_makes_the_block_nan)
{
    float v[40];
    for (int i = 0; i < 40; i++) v[i] = 0.1f * (float)(i - 20);
    v[3] = INFINITY;
    qs_err err = {""};
    qs_tensor *t = qs_tensor_from_values("v", v, 40, &err);
    cr_assert_not_null(t);
    float y[40];
    uint32_t sc[2];
    cr_assert_eq(qs_mx_tensor_codes(QS_MX_FP4_E2M1, t, y, NULL, NULL, sc, NULL, NULL, &err),
                 QS_OK);
    cr_expect_eq(sc[0], 0xFFu);
    for (int i = 0; i < 32; i++) cr_expect(isnan(y[i]), "element %d of the NaN block", i);
    cr_expect_neq(sc[1], 0xFFu);
    for (int i = 32; i < 40; i++) cr_expect(!isnan(y[i]));
    qs_tensor_free(t);
}

/* NaN / Inf: MX blocks holding them get the NaN scale, and the warning says that is why their
 * finite values decode to NaN (not "the range was exceeded"); NVFP4 (no NaN anywhere) stores
 * NaN as 0 and saturates Inf, and says so, counting Inf as clipped. */
Test(mx, nan_inf_are_reported_with_their_cause)
{
    float v[64];
    for (int i = 0; i < 64; i++) v[i] = -1.0f + 2.0f * (float)i / 63.0f;
    v[3] = NAN;
    v[40] = INFINITY;
    qs_err err = {""};
    qs_tensor *t = qs_tensor_from_values("v", v, 64, &err);
    qs_mx_specials sp;
    qs_mx_tensor_specials(QS_MX_FP4_E2M1, t, &sp);
    cr_expect_eq(sp.nan, 1);
    cr_expect_eq(sp.inf, 1);
    cr_expect_eq(sp.blocks, 2);
    cr_expect_eq(sp.finite_nan, 62);
    char buf[512];
    cr_assert(qs_mx_specials_text(QS_MX_FP4_E2M1, &sp, buf, sizeof buf));
    cr_expect(strstr(buf, "NaN scale (E8M0 0xFF)"), "%s", buf);
    qs_session_set_tensor(&S, t);
    json_decref(run("scheme mxfp4"));
    json_t *o = run("quant");
    const char *w = json_string_value(json_object_get(o, "warning"));
    cr_assert_not_null(w);
    cr_expect(strstr(w, "62 of 62 finite values"), "%s", w);
    cr_expect(strstr(w, "NaN scale (E8M0 0xFF)"), "%s", w);
    cr_expect(!strstr(w, "range was exceeded"), "%s", w);
    json_decref(o);
    /* NVFP4 */
    json_decref(run("scheme nvfp4"));
    o = run("quant");
    w = json_string_value(json_object_get(o, "warning"));
    cr_assert_not_null(w, "nvfp4 with NaN and Inf must warn");
    cr_expect(strstr(w, "stores NaN as code 0"), "%s", w);
    cr_expect(strstr(w, "saturates ±Inf"), "%s", w);
    cr_expect_eq(json_integer_value(json_object_get(o, "clipped")), 1, "the Inf is clipped");
    cr_expect_eq(json_integer_value(json_object_get(o, "nan_skipped")), 1);
    json_decref(o);
    /* a clean tensor: no warning */
    json_decref(run("values 1 2 3"));
    o = run("quant");
    cr_expect_null(json_object_get(o, "warning"));
    json_decref(o);
}

Test(mx, commands)
{
    qs_session_set_tensor(&S, golden_x());
    json_t *o = run("scheme mxfp4");
    /* 4.25 for whole blocks; rows of 80 end in a short block that still pays a scale */
    cr_expect_float_eq(qs_scheme_bits_per_param(&S.scheme, 0, 0), 4.25, 1e-12);
    cr_expect_float_eq(qs_scheme_bits_per_param(&S.scheme, 3200, 100), 4.25, 1e-12);
    cr_expect_float_eq(json_number_value(json_object_get(o, "bits_per_param")),
                       4.0 + 8.0 * 18 / 480, 1e-12);
    json_decref(o);
    o = run("scheme nvfp4");
    cr_expect_float_eq(qs_scheme_bits_per_param(&S.scheme, 0, 0), 4.5, 1e-12);
    json_decref(o);
    o = run("scheme nvfp4");
    /* 4 bits + 8 per block of 16 + 32 per tensor: 30 blocks over 480 values */
    cr_expect_float_eq(json_number_value(json_object_get(o, "bits_per_param")),
                       4.0 + 8.0 * 30 / 480 + 32.0 / 480, 1e-12);
    json_decref(o);
    /* derive of block 4 (row 1, elements 112..143) follows the reference */
    run("scheme mxfp6_e2m3");
    o = run("derive block=4");
    int64_t n;
    double *ex = golden_d(GOLD, "mxfp6_e2m3_exp", &n);
    double *gc = golden_d(GOLD, "mxfp6_e2m3_codes", &n);
    cr_expect_eq(json_integer_value(json_object_get(o, "code")), (json_int_t)gc[112]);
    json_t *steps = json_object_get(o, "steps");
    int found = 0;
    for (size_t i = 0; i < json_array_size(steps); i++) {
        json_t *st = json_array_get(steps, i);
        if (!strcmp(json_string_value(json_object_get(st, "title")), "shared exponent")) {
            cr_expect_eq(json_number_value(json_object_get(st, "value")), ex[4]);
            found = 1;
        }
    }
    cr_expect(found, "a shared exponent step");
    free(ex); free(gc);
    json_decref(o);
    /* bits all lists every code of a 6-bit format */
    o = run("bits all fp6-e3m2");
    json_t *c = json_object_get(o, "codes");
    cr_assert_eq(json_array_size(c), 64);
    double *tab = golden_d(GOLD, "table_fp6-e3m2", &n);
    for (int i = 0; i < 64; i++)
        cr_expect_eq(json_number_value(json_object_get(json_array_get(c, (size_t)i), "value")),
                     tab[i]);
    free(tab);
    json_decref(o);
    /* compare formats=llm carries the MX rows with their true cost */
    o = run("compare formats=llm");
    json_t *rows = json_object_get(o, "rows");
    int seen = 0;
    for (size_t i = 0; i < json_array_size(rows); i++) {
        json_t *r = json_array_get(rows, i);
        const char *sc = json_string_value(json_object_get(r, "scheme"));
        double b = json_number_value(json_object_get(r, "bits_per_param"));
        if (!strcmp(sc, "mxfp4/32")) { cr_expect_float_eq(b, 4.0 + 8.0 * 18 / 480, 1e-12); seen++; }
        if (!strcmp(sc, "nvfp4/16")) seen++;
    }
    cr_expect_eq(seen, 2);
    json_decref(o);
    /* the block is part of the format */
    json_t *bad = NULL;
    qs_err err = {""};
    cr_expect_neq(qs_cmd_run_line(&S, "scheme mxfp4 block=16", &bad, NULL, &err), QS_OK);
    cr_expect(strstr(err.msg, "blocks of 32") != NULL, "%s", err.msg);
    json_decref(bad);
}
