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

/* issue 15: `scheme q8_0` / `scheme q4_0` round exact ties as ggml's quantize_row_q8_0_ref
 * (roundf: away from zero) and quantize_row_q4_0_ref ((int8_t)(x·id + 8.5f): half up around
 * the offset). Values from the issue, checked against ggml's rule by hand: q8_0 of
 * 127 0.5 1.5 2.5 -124.5 has d = 1, codes 127 1 2 3 -125 (half-to-even gave 0 2 2 -124). */
static int64_t ival(json_t *a, size_t i) { return json_integer_value(json_array_get(a, i)); }
static double dval(json_t *a, size_t i) { return json_number_value(json_array_get(a, i)); }

Test(ggml_scheme, ties_round_as_ggml)
{
    json_decref(run("values 127 0.5 1.5 2.5 -124.5"));
    json_decref(run("scheme q8_0"));
    json_t *o = run("codes");
    static const int q8[] = {127, 1, 2, 3, -125};
    for (int i = 0; i < 5; i++)
        cr_expect_eq(ival(json_object_get(o, "codes"), (size_t)i), q8[i], "q8_0 code %d", i);
    json_decref(o);
    /* derive explains ggml's rule and now gives its result too (it said roundf, then 0) */
    for (int i = 0; i < 5; i++) {
        o = run("derive index=%d", i);
        cr_expect_eq(json_integer_value(json_object_get(o, "code")), q8[i], "derive q8_0 %d", i);
        json_decref(o);
    }
    json_decref(run("values -8 -7.5 -5.5 0.5 2.5"));
    json_decref(run("scheme q4_0"));
    o = run("codes");
    static const double x4[] = {-8, -7, -5, 1, 3};     /* d = -8/-8 = 1 */
    for (int i = 0; i < 5; i++)
        cr_expect_eq(dval(json_object_get(o, "dequant"), (size_t)i), x4[i], "q4_0 x̂ %d", i);
    json_decref(o);
    for (int i = 0; i < 5; i++) {
        o = run("derive index=%d", i);
        cr_expect_eq(json_number_value(json_object_get(o, "dequant")), x4[i], "derive q4_0 %d", i);
        json_decref(o);
    }
    /* the summary names the rule; no other round= under ggml */
    o = run("scheme q8_0");
    cr_expect_str_eq(json_string_value(json_object_get(o, "round")), "away");
    json_decref(o);
    o = run("scheme q4_0");
    cr_expect_str_eq(json_string_value(json_object_get(o, "round")), "up");
    json_decref(o);
    fails("scheme q8_0 round=even", "rounds as ggml does");
}

/* One quantizer: on a tensor full of exact ties (k/2 · d) and odd row lengths, the codes and
 * values of `scheme q8_0|q4_0; codes` equal those of `blocks` block by block (ggml.c). */
Test(ggml_scheme, scheme_codes_equal_blocks_codes)
{
    static const char *const ty[] = {"q8_0", "q4_0"};
    char line[4096];
    int len = snprintf(line, sizeof line, "values");
    for (int i = 0; i < 96; i++)        /* three blocks; amax 127 (q8_0: d = 1) */
        len += snprintf(line + len, sizeof line - (size_t)len, " %g",
                        i % 32 == 0 ? 127.0 : ((i * 37) % 253 - 126) / 2.0);
    json_decref(run("%s", line));
    for (int k = 0; k < 2; k++) {
        json_decref(run("scheme %s", ty[k]));
        json_t *c = run("codes");
        json_t *codes = json_object_get(c, "codes"), *deq = json_object_get(c, "dequant");
        for (int b = 0; b < 3; b++) {
            json_t *bl = run("blocks %s block=%d", ty[k], b);
            json_t *bc = json_object_get(bl, "codes"), *bv = json_object_get(bl, "values");
            for (int j = 0; j < 32; j++) {
                cr_assert_eq(ival(codes, (size_t)(32 * b + j)), ival(bc, (size_t)j),
                             "%s block %d elem %d", ty[k], b, j);
                cr_assert_eq(dval(deq, (size_t)(32 * b + j)), dval(bv, (size_t)j),
                             "%s block %d elem %d", ty[k], b, j);
            }
            json_decref(bl);
        }
        json_decref(c);
    }
}

/* A block scale too large for fp16: one rule everywhere (stored as inf, as ggml does), and
 * the result says so instead of clean-looking metrics (sqnr 0 beside cosine 0.999996; q4_k
 * max_abs_err 0 over NaN values). */
Test(ggml_scheme, fp16_scale_overflow_is_inf_and_reported)
{
    json_decref(run("values 1e30 -2e30 3"));
    /* q6_k is not in the list: its weights x² overflow float in make_qx_quants (as in ggml)
     * and the block comes out all zero, reported as an overflow (q6k_scale_overflow...) */
    for (size_t k = 0; k + 1 < sizeof types / sizeof types[0]; k++) {
        json_decref(run("scheme %s", types[k]));
        json_t *q = run("quant");
        cr_expect_eq(json_integer_value(json_object_get(q, "nonfinite")), 3, "%s", types[k]);
        cr_expect(json_is_string(json_object_get(q, "warning")), "%s: warning", types[k]);
        static const char *const m[] = {"sqnr_db", "max_abs_err", "mse", "cosine"};
        for (int i = 0; i < 4; i++)
            cr_expect_str_eq(json_string_value(json_object_get(q, m[i])), "nan", "%s %s",
                             types[k], m[i]);
        json_decref(q);
        json_t *c = run("codes");
        json_t *dq = json_object_get(c, "dequant");
        for (size_t i = 0; i < 3; i++)
            cr_expect(json_is_string(json_array_get(dq, i)), "%s x̂[%zu] not finite", types[k], i);
        json_decref(c);
        json_t *bl = run("blocks %s", types[k]);
        cr_expect(json_integer_value(json_object_get(bl, "nonfinite")) > 0, "blocks %s",
                  types[k]);
        json_decref(bl);
        json_t *dv = run("derive index=1");
        char *dd = json_dumps(dv, 0);
        cr_expect(strstr(dd, "beyond fp16's range") != NULL, "derive %s says why", types[k]);
        free(dd);
        json_decref(dv);
    }
    json_decref(run("scheme q8_0"));
    json_t *qp = run("qparams");
    cr_expect_str_eq(json_string_value(json_array_get(json_object_get(qp, "scale"), 0)), "inf");
    json_decref(qp);
    json_t *b = run("blocks q8_0");
    cr_expect_str_eq(json_string_value(json_object_get(b, "d")), "inf");
    json_t *v = json_object_get(b, "values");
    cr_expect_str_eq(json_string_value(json_array_get(v, 0)), "inf");
    cr_expect_str_eq(json_string_value(json_array_get(v, 1)), "-inf");
    cr_expect_str_eq(json_string_value(json_array_get(v, 2)), "nan");
    json_decref(b);
    json_t *d = run("derive index=0");
    char *dump = json_dumps(d, 0);
    cr_expect(strstr(dump, "beyond fp16's range") != NULL, "derive says why");
    free(dump);
    json_decref(d);
}

/* Q6_K's least-squares scale overflows fp32 once |x| nears 1e12 (Σ x³ · code past FLT_MAX): the
 * sub-block is stored as 0 (ggml's reference quantizer does the same), and `quant`, `codes`
 * and qs_ggml_tensor_overflow say so (only for the sub-blocks concerned). */
Test(ggml_scheme, q6k_scale_overflow_is_reported)
{
    json_decref(run("values 1e30 -2e30 3"));
    json_decref(run("scheme q6_k"));
    json_t *q = run("quant");
    cr_expect_eq(json_integer_value(json_object_get(q, "overflow")), 3);
    cr_expect(json_is_string(json_object_get(q, "warning")), "warning");
    json_decref(q);
    json_t *c = run("codes");
    cr_expect_eq(json_integer_value(json_object_get(c, "overflow")), 3);
    json_t *dq = json_object_get(c, "dequant");
    for (size_t i = 0; i < 3; i++)      /* what the warning says: stored as 0 */
        cr_expect_eq(dval(dq, i), 0.0, "x̂[%zu]", i);
    json_decref(c);
    json_t *bl = run("blocks q6_k");
    cr_expect_eq(json_integer_value(json_object_get(bl, "overflow")), 3);
    cr_expect(json_is_string(json_object_get(bl, "warning")), "blocks: warning");
    json_decref(bl);
    json_decref(run("values 1 -2 3"));
    json_t *ok = run("quant");
    cr_expect(json_object_get(ok, "overflow") == NULL, "ordinary values: no overflow");
    json_decref(ok);
    /* one hostile sub-block among ordinary ones: only its 16 values count */
    float v[256];
    for (int i = 0; i < 256; i++) v[i] = i < 16 ? 1e13f * (i % 2 ? 1 : -1) : 0.01f * (i % 7);
    qs_err err = {""};
    qs_tensor *t = qs_tensor_from_values("t", v, 256, &err);
    cr_assert(t != NULL, "%s", err.msg);
    cr_expect_eq(qs_ggml_tensor_overflow(QS_GGML_Q6_K, t), 16);
    cr_expect_eq(qs_ggml_tensor_overflow(QS_GGML_Q4_0, t), 0, "only Q6_K's arithmetic");
    for (int i = 0; i < 256; i++) v[i] = 1e11f * (float)(i % 3);     /* 16 · x³ · 32 < 3.4e38 */
    qs_tensor *u = qs_tensor_from_values("u", v, 256, &err);
    cr_assert(u != NULL, "%s", err.msg);
    cr_expect_eq(qs_ggml_tensor_overflow(QS_GGML_Q6_K, u), 0);
    qs_tensor_free(t);
    qs_tensor_free(u);
}

/* `blocks`: the layout's parts add up to the type's bytes; the element-0 trace of a K-quant
 * says what it computes (Q6_K: step × (code - 32), not "step × code - 0"), checked by
 * evaluating the printed formula and comparing it with the printed value. */
Test(ggml_scheme, blocks_layout_and_trace_evaluate)
{
    const int ids[] = {QS_GGML_Q8_0, QS_GGML_Q4_0, QS_GGML_Q4_1, QS_GGML_Q5_0, QS_GGML_Q5_1,
                       QS_GGML_Q2_K, QS_GGML_Q3_K, QS_GGML_Q4_K, QS_GGML_Q5_K, QS_GGML_Q6_K};
    for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
        char buf[256];
        const char *lay = qs_ggml_layout(ids[k], buf, sizeof buf);
        cr_assert(lay != NULL, "layout of type %d", ids[k]);
        int sum = 0, total = -1;
        const char *p = lay;
        for (;;) {
            sum += atoi(p);
            const char *plus = strstr(p, " + ");
            if (!plus) break;
            p = plus + 3;
        }
        const char *eq = strstr(lay, " = ");
        cr_assert(eq != NULL, "%s", lay);
        total = atoi(eq + 3);
        cr_expect_eq(sum, qs_ggml_type_info(ids[k])->bytes, "%s", lay);
        cr_expect_eq(total, qs_ggml_type_info(ids[k])->bytes, "%s", lay);
    }
    cr_expect_null(qs_ggml_layout(QS_GGML_F32, (char[256]){0}, 256));

    json_decref(run("synth laplace n=1024 seed=1"));
    const char *kq[] = {"q4_k", "q6_k"};
    for (int k = 0; k < 2; k++) {
        json_t *b = run("blocks %s", kq[k]);
        cr_expect_eq(json_integer_value(json_object_get(b, "nsub")), k ? 16 : 8);
        cr_expect_eq(json_integer_value(json_object_get(b, "sub_elements")), k ? 16 : 32);
        json_t *st = json_array_get(json_object_get(b, "steps"), 1);
        const char *f = json_string_value(json_object_get(st, "substituted"));
        cr_assert(f != NULL);
        double step, off, y = json_number_value(json_array_get(json_object_get(b, "values"), 0));
        int c, sub, code0 = (int)json_integer_value(json_array_get(json_object_get(b, "codes"), 0));
        double got;
        if (sscanf(f, "%lf × (code - %d) (code %d)", &step, &sub, &c) == 3) got = step * (c - sub);
        else {
            cr_assert_eq(sscanf(f, "%lf × code - %lf (code %d)", &step, &off, &c), 3, "%s", f);
            got = step * c - off;
        }
        cr_expect_eq(c, code0, "%s", f);
        cr_expect(fabs(got - y) <= 1e-6 * fmax(1, fabs(y)), "%s: %s evaluates to %g, value %g",
                  kq[k], f, got, y);
        json_decref(b);
    }
}
