/* test_ggml_scheme.c — ggml's block formats as engine schemes (issue 9): `scheme q4_k` and
 * friends, `quant` metrics, `codes`, `qparams`, `derive` on one block and `compare` rows,
 * all checked against the numpy ports of ggml's reference quantizers
 * (tests/golden/make_ggml_scheme.py -> ggml_scheme_x.npy + ggml_scheme_ref.txt). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/cmd.h"
#include "qscope/ggml.h"
#include "golden.h"

#define GOLD "tests/golden/ggml_scheme_ref.txt"
#define XNPY "tests/golden/ggml_scheme_x.npy"
#define N 960                    /* the input is [3, 320] */

static qs_session S;

static void setup(void) { qs_session_init(&S); }
static void teardown(void) { qs_session_fini(&S); }
TestSuite(ggml_scheme, .init = setup, .fini = teardown);

static double *gold_of(const char *what, const char *type, int64_t *n)
{
    char name[64];
    snprintf(name, sizeof name, "%s.%s", what, type);
    return golden_d(GOLD, name, n);
}

static json_t *run(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    json_t *o = NULL;
    qs_err err = {""};
    cr_assert_eq(qs_cmd_run_line(&S, line, &o, NULL, &err), QS_OK, "%s: %s", line, err.msg);
    return o;
}

/* The error message of a command that must fail. */
static void fails(const char *line, const char *want)
{
    json_t *o = NULL;
    qs_err err = {""};
    cr_assert_neq(qs_cmd_run_line(&S, line, &o, NULL, &err), QS_OK, "%s succeeded", line);
    cr_expect(strstr(err.msg, want) != NULL, "%s: '%s' lacks '%s'", line, err.msg, want);
    cr_expect(strchr(err.msg, '\n') == NULL, "one line: %s", err.msg);
    json_decref(o);
}

static double num(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    cr_assert(json_is_number(v), "key %s missing or not a number", k);
    return json_number_value(v);
}

static void load_x(void) { json_decref(run("load " XNPY)); }

static void expect_rel(double got, double want, double tol, const char *what)
{
    cr_expect(fabs(got - want) <= tol * fabs(want) + 1e-300, "%s: %.17g, want %.17g", what,
              got, want);
}

static const char *const types[] = {"q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q4_k", "q6_k"};
#define NTYPES (sizeof types / sizeof types[0])

/* bits per weight from the block structs themselves (sizeof · 8 / elements) */
static double bpw(const char *t)
{
    if (!strcmp(t, "q8_0")) return 8.0 * sizeof(qs_block_q8_0) / QS_QK;
    if (!strcmp(t, "q4_0")) return 8.0 * sizeof(qs_block_q4_0) / QS_QK;
    if (!strcmp(t, "q4_1")) return 8.0 * sizeof(qs_block_q4_1) / QS_QK;
    if (!strcmp(t, "q5_0")) return 8.0 * sizeof(qs_block_q5_0) / QS_QK;
    if (!strcmp(t, "q5_1")) return 8.0 * sizeof(qs_block_q5_1) / QS_QK;
    if (!strcmp(t, "q4_k")) return 8.0 * sizeof(qs_block_q4_K) / QS_QK_K;
    return 8.0 * sizeof(qs_block_q6_K) / QS_QK_K;
}

Test(ggml_scheme, scheme_words_label_bits_and_block)
{
    static const struct { const char *w, *name; int bits, block, sym, qmax; } want[] = {
        {"q4_1", "Q4_1", 4, 32, 0, 15}, {"q5_0", "Q5_0", 5, 32, 1, 31},
        {"q5_1", "Q5_1", 5, 32, 0, 31}, {"q4_k", "Q4_K", 4, 256, 0, 15},
        {"q6_k", "Q6_K", 6, 256, 1, 63},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        json_t *o = run("scheme %s", want[i].w);
        cr_expect_str_eq(json_string_value(json_object_get(o, "label")), want[i].w);
        cr_expect_str_eq(json_string_value(json_object_get(o, "ggml_type")), want[i].name);
        cr_expect_eq(num(o, "bits"), want[i].bits, "%s bits", want[i].w);
        cr_expect_eq(num(o, "block"), want[i].block, "%s block", want[i].w);
        cr_expect_eq(num(o, "qmax"), want[i].qmax, "%s qmax", want[i].w);
        cr_expect_eq(json_is_true(json_object_get(o, "symmetric")), want[i].sym, "%s sym",
                     want[i].w);
        cr_expect_float_eq(num(o, "bits_per_param"), bpw(want[i].w), 1e-12, "%s",
                           want[i].w);
        json_decref(o);
    }
    /* with a tensor: the padded cost of its rows (320 = 1.25 super-blocks) */
    load_x();
    for (size_t i = 0; i < NTYPES; i++) {
        int64_t n;
        double *st = gold_of("stats", types[i], &n);
        json_t *o = run("scheme %s", types[i]);
        cr_expect_float_eq(num(o, "bits_per_param"), st[5], 1e-12, "%s", types[i]);
        cr_expect_eq(num(o, "nparams"), st[6], "%s nparams", types[i]);
        json_decref(o);
        free(st);
    }
    fails("scheme q4_k per-channel", "a ggml block format has fixed blocks of 256");
    fails("scheme q5_1 block=64", "fixed blocks of 32");
}

/* quant under every ggml type: the metric keys equal the numpy reference round trip (Q8_0 and
 * Q4_0 through the engine's own integer path, the others through ggml.c) */
Test(ggml_scheme, quant_metrics_match_numpy)
{
    load_x();
    for (size_t i = 0; i < NTYPES; i++) {
        int64_t n;
        double *st = gold_of("stats", types[i], &n);
        json_decref(run("scheme %s", types[i]));
        json_t *o = run("quant bins=16");
        char what[64];
        static const char *const keys[] = {"mse", "sqnr_db", "max_abs_err", "mean_err",
                                           "cosine"};
        for (int k = 0; k < 5; k++) {
            snprintf(what, sizeof what, "%s %s", types[i], keys[k]);
            expect_rel(num(o, keys[k]), st[k], k == 3 ? 1e-6 : 1e-9, what);
        }
        /* Q4_0's min(15, ...) saturates the one positive extreme of a block whose max is
         * negative (the engine counts it); the ggml.c formats report no clipping */
        if (strcmp(types[i], "q4_0") != 0) cr_expect_eq(num(o, "clip_frac"), 0.0, "%s",
                                                        types[i]);
        cr_expect_eq(num(o, "n"), N);
        cr_expect_float_eq(num(o, "bits_per_param"), st[5], 1e-12, "%s", types[i]);
        json_t *h = json_object_get(o, "err_hist");
        cr_assert(json_is_object(h), "%s: err_hist", types[i]);
        json_t *c = json_object_get(h, "counts");
        cr_assert_eq(json_array_size(c), 16u);
        json_int_t total = 0;
        for (size_t b = 0; b < 16; b++) total += json_integer_value(json_array_get(c, b));
        cr_expect_eq(total, N, "%s: histogram holds every element", types[i]);
        json_decref(o);
        free(st);
    }
}

/* codes: the dequantized values equal numpy's element for element; the codes rebuild them
 * with the block scale of qparams (Q5_0: (q - 16)·d) */
Test(ggml_scheme, codes_and_qparams)
{
    load_x();
    for (size_t i = 2; i < NTYPES; i++) {
        int64_t n;
        double *y = gold_of("y", types[i], &n);
        cr_assert_eq(n, N);
        json_decref(run("scheme %s", types[i]));
        json_t *o = run("codes");
        json_t *dq = json_object_get(o, "dequant"), *cd = json_object_get(o, "codes");
        cr_assert_eq(json_array_size(dq), (size_t)N);
        int bad = 0, maxc = 0;
        for (int e = 0; e < N; e++) {
            if ((float)json_number_value(json_array_get(dq, (size_t)e)) != (float)y[e]) bad++;
            int q = (int)json_integer_value(json_array_get(cd, (size_t)e));
            if (q > maxc) maxc = q;
            cr_expect(q >= 0, "%s: code %d", types[i], q);
        }
        cr_expect_eq(bad, 0, "%s: %d values differ from numpy", types[i], bad);
        cr_expect_lt(maxc, 1 << (types[i][1] - '0'), "%s: code %d too wide", types[i], maxc);
        json_t *q = run("qparams");
        int64_t nd;
        double *d = gold_of("d", types[i], &nd);
        json_t *sc = json_object_get(q, "scale");
        cr_assert_eq(json_array_size(sc), (size_t)nd, "%s: one scale per block", types[i]);
        for (int64_t b = 0; b < nd; b++)
            cr_expect_eq((float)json_number_value(json_array_get(sc, (size_t)b)), (float)d[b],
                         "%s: d of block %lld", types[i], (long long)b);
        cr_expect_eq(num(q, "nparams"), nd);
        cr_expect(json_is_string(json_object_get(q, "reason")));
        if (!strcmp(types[i], "q5_0"))
            for (int e = 0; e < N; e++) {
                int blk = (e / 320) * 10 + (e % 320) / 32;
                int c = (int)json_integer_value(json_array_get(cd, (size_t)e));
                cr_expect_eq((float)(c - 16) * (float)d[blk], (float)y[e], "q5_0 element %d",
                             e);
            }
        json_decref(q);
        json_decref(o);
        free(d);
        free(y);
    }
}

/* derive on a K-quant block: the followed element's code and value equal numpy's, one step
 * per sub-block, the packed bytes and the codes shown */
Test(ggml_scheme, derive_one_block)
{
    load_x();
    int64_t n;
    double *y = gold_of("y", "q4_k", &n);
    json_decref(run("scheme q4_k"));
    /* element 337 = row 1, column 17 (the outlier): block 2 (row 1's first super-block) */
    json_t *o = run("derive index=337");
    cr_expect_eq(num(o, "set"), 2);
    cr_expect_eq((float)num(o, "dequant"), (float)y[337]);
    cr_expect_eq((float)num(o, "x"), 0.5f);
    json_t *steps = json_object_get(o, "steps");
    int subs = 0, packed = 0, codes = 0;
    for (size_t k = 0; k < json_array_size(steps); k++) {
        const char *t = json_string_value(json_object_get(json_array_get(steps, k), "title"));
        subs += strncmp(t, "sub-block ", 10) == 0;
        packed += strcmp(t, "packed bytes") == 0;
        codes += strcmp(t, "codes") == 0;
    }
    cr_expect_eq(subs, 8);
    cr_expect_eq(packed, 1);
    cr_expect_eq(codes, 1);
    json_decref(o);
    /* a padded block: row 0's second super-block holds 64 elements */
    o = run("derive block=1");
    cr_expect_eq((float)num(o, "dequant"), (float)y[256]);
    const char *note = json_string_value(json_object_get(
        json_array_get(json_object_get(o, "steps"), 0), "note"));
    cr_expect(strstr(note, "192 zeros pad") != NULL, "%s", note);
    json_decref(o);
    /* Q6_K: 16 sub-blocks */
    json_decref(run("scheme q6_k"));
    double *y6 = gold_of("y", "q6_k", &n);
    o = run("derive index=700");
    cr_expect_eq((float)num(o, "dequant"), (float)y6[700]);
    json_decref(o);
    fails("derive 0.1", "follow an element");
    fails("derive block=6", "block=6: out of range 0..5");
    free(y);
    free(y6);
}

/* compare: ggml rows in the same table as per-channel int4 and NF4, with the numpy
 * reference SQNR and the bits per weight; 'llm' and the default under a ggml scheme */
Test(ggml_scheme, compare_rows)
{
    load_x();
    json_t *o = run("compare calibs=minmax 'formats=q8_0,q4_0,q4_k,q6_k,int4 sym "
                    "per-channel,nf4'");
    json_t *rows = json_object_get(o, "rows");
    cr_assert_eq(json_array_size(rows), 7u);
    static const char *const want[] = {"q8_0", "q4_0", "q4_k", "q6_k"};
    for (int i = 0; i < 4; i++) {
        json_t *r = json_array_get(rows, (size_t)i + 1);
        int64_t n;
        double *st = gold_of("stats", want[i], &n);
        cr_expect_str_eq(json_string_value(json_object_get(r, "scheme")), want[i]);
        expect_rel(num(r, "sqnr_db"), st[1], 1e-9, want[i]);
        expect_rel(num(r, "mse"), st[0], 1e-9, want[i]);
        cr_expect_float_eq(num(r, "bits_per_param"), st[5], 1e-12, "%s", want[i]);
        cr_expect_str_eq(json_string_value(json_object_get(r, "convention")), "ggml");
        free(st);
    }
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(rows, 5), "scheme")),
                     "int4 sym/channel");
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(rows, 6), "scheme")),
                     "nf4/64");
    json_decref(o);
    /* under a ggml scheme the LLM formats come by default: 13 rows after the calibrators,
     * then the 7 MX / NVFP4 formats (issue 17) */
    json_decref(run("scheme q4_k"));
    o = run("compare calibs=minmax");
    rows = json_object_get(o, "rows");
    cr_assert_eq(json_array_size(rows), 21u);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(rows, 19), "scheme")),
                     "mxfp4/32");
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(rows, 5), "scheme")),
                     "q4_k");
    json_decref(o);
    fails("compare formats=q4_x", "'q4_x' is not a format");
}

Test(ggml_scheme, calib_and_tensor_api)
{
    load_x();
    json_decref(run("scheme q4_k"));
    json_t *o = run("calib minmax");
    cr_expect(strstr(json_string_value(json_object_get(o, "reason")), "ggml block formats") !=
              NULL);
    json_decref(o);
    /* the library hooks agree: block geometry and the values of qs_ggml_tensor_errstats */
    cr_assert_not_null(S.tensor);
    cr_expect_eq(qs_ggml_tensor_nblocks(QS_GGML_Q4_K, S.tensor), 6);
    cr_expect_eq(qs_ggml_tensor_nblocks(QS_GGML_Q5_1, S.tensor), 30);
    cr_expect_eq(qs_ggml_block_of(QS_GGML_Q4_K, S.tensor, 319), 1);
    cr_expect_eq(qs_ggml_block_of(QS_GGML_Q4_K, S.tensor, 320), 2);
    int64_t n;
    double *y = gold_of("y", "q6_k", &n);
    float *a = malloc(N * sizeof *a);
    int32_t *c = malloc(N * sizeof *c);
    qs_err err = {""};
    cr_assert_eq(qs_ggml_tensor_codes(QS_GGML_Q6_K, S.tensor, a, c, NULL, NULL, NULL, &err), QS_OK);
    for (int e = 0; e < N; e++) cr_expect_eq(a[e], (float)y[e], "element %d", e);
    cr_expect_eq(qs_ggml_tensor_codes(QS_GGML_Q2_K, S.tensor, a, c, NULL, NULL, NULL, &err), QS_ERR);
    free(a);
    free(c);
    free(y);
}

/* saturation by hand: a block whose largest |x| is negative, -1.6, and holds +1.6 too. Q5_0:
 * d = -1.6 / -16 = 0.1, 1.6 · 10 + 16.5 = 32.5 -> min(31, 32) = 31 -> 1.5 (one clipped);
 * Q4_0 (the engine's path): d = 0.2, 1.6 · 5 + 8.5 = 16.5 -> 15 -> 1.4 (one clipped). */
Test(ggml_scheme, saturation_counts_as_clipping)
{
    char line[512] = "values -1.6 1.6";
    for (int i = 0; i < 30; i++) strcat(line, " 0");
    json_decref(run("%s", line));
    static const struct { const char *t; double y; } want[] = {{"q5_0", 1.5}, {"q4_0", 1.4}};
    for (int i = 0; i < 2; i++) {
        json_decref(run("scheme %s", want[i].t));
        json_t *o = run("quant");
        cr_expect_eq(num(o, "clipped"), 1, "%s", want[i].t);
        cr_expect_float_eq(num(o, "clip_frac"), 1.0 / 32, 1e-15, "%s", want[i].t);
        json_decref(o);
        o = run("codes 2");
        double y1 = json_number_value(json_array_get(json_object_get(o, "dequant"), 1));
        cr_expect_float_eq(y1, want[i].y, 1e-3, "%s: %g", want[i].t, y1);
        json_decref(o);
    }
    json_decref(run("scheme q4_1"));
    json_t *o = run("quant");
    cr_expect_eq(num(o, "clipped"), 0, "q4_1 spans min..max: nothing saturates");
    json_decref(o);
}
