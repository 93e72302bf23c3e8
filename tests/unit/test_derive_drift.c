/* test_derive_drift.c — the explanation cannot drift from the computation: on many seeded
 * random tensors (odd sizes, 2-D for per-channel, zeros, tiny and huge ranges, NaN and Inf)
 * and every convention, bit width, signedness, symmetry, range, rounding and granularity,
 * the numbers `derive` prints (the scale, multiplier, ggml's d and inverse, the zero point,
 * the code and x̂) read back bit for bit as the parameters and codes the engine itself uses
 * to quantize the tensor (qs_qstate_init + qs_quant_apply, the `quant` / `codes` path); and
 * `derive requant`'s fixed-point step computes the n and M0 it reports. */
#include <criterion/criterion.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/cmd.h"
#include "qscope/derive.h"
#include "qscope/kernels.h"

static uint64_t rng_state;
static uint32_t rnd(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33);
}
static float unif(void) { return (float)(rnd() >> 8) * 0x1p-23f - 1.0f; }   /* [-1, 1) */

/* One random tensor: shape [rows, cols] (rows 1: 1-D), values of a random kind. */
static qs_tensor *random_tensor(void)
{
    int64_t rows = 1 + rnd() % 6, cols = 1 + rnd() % 70;
    int two = rnd() % 2;
    qs_tensor *t = two ? qs_tensor_new("w", 2, (int64_t[]){ rows, cols }, QS_DT_F32, NULL)
                       : qs_tensor_new("w", 1, (int64_t[]){ rows * cols }, QS_DT_F32, NULL);
    cr_assert_not_null(t);
    static const float mags[] = { 1.0f, 1e-3f, 1e4f, 3e-30f, 1e30f, 3e38f, 70000.0f };
    float mag = mags[rnd() % 7], off = rnd() % 3 == 0 ? mag * unif() * 2.0f : 0.0f;
    int kind = rnd() % 8;
    for (int64_t i = 0; i < t->n; i++) {
        float v = mag * unif() + off;
        if (kind == 1) v = fabsf(v);                            /* one-sided */
        if (kind == 2) v = -fabsf(v);
        if (kind == 3) v = 0.0f;                                /* all zero */
        if (kind == 4 && rnd() % 4 == 0) v = 0.0f;
        if (kind == 5 && rnd() % 10 == 0) v = rnd() % 2 ? INFINITY : -INFINITY;
        if (kind == 6 && rnd() % 10 == 0) v = NAN;
        if (kind == 7) v = (float)(int)(v * 8.0f / mag) * 0.25f;   /* ties on a grid */
        t->data[i] = isfinite(v) || isnan(v) || kind == 5 ? v : 0.0f;
    }
    return t;
}

/* A random integer scheme as its words (the parser checks the combination). */
static int random_scheme(const qs_tensor *t, qs_scheme *s, char *words, size_t len)
{
    static const char *const conv[] = { "torch", "onnx", "trt", "ggml" };
    static const char *const rnds[] = { "even", "away", "up", "stochastic" };
    int c = rnd() % 4, bits = 2 + rnd() % 7;
    const char *round = rnds[rnd() % 4];
    char gran[64] = "per-tensor";
    if (c == 3) {               /* ggml: int8 → Q8_0 (round away), int4 → Q4_0 (round up) */
        bits = rnd() % 2 ? 8 : 4;
        round = bits == 8 ? "away" : "up";
    } else if (rnd() % 3 == 0 && t->ndim == 2) {
        snprintf(gran, sizeof gran, "per-channel axis=%u", rnd() % 2);
    } else if (rnd() % 4 == 0) {
        snprintf(gran, sizeof gran, "per-group size=%u", 1 + rnd() % 9);
    }
    snprintf(words, len, "%sint%d %s %s %s convention=%s round=%s seed=%u",
             c == 3 || rnd() % 2 ? "" : "u", bits, rnd() % 2 ? "sym" : "asym",
             rnd() % 3 == 0 ? "narrow" : "full", gran, conv[c], round, rnd() % 3);
    char buf[256], *argv[16];
    int argc = 0;
    snprintf(buf, sizeof buf, "%s", words);
    for (char *w = strtok(buf, " "); w && argc < 16; w = strtok(NULL, " ")) argv[argc++] = w;
    qs_scheme_default(s);
    qs_err err = {{0}};
    return qs_scheme_parse(s, argc, argv, &err) == QS_OK;
}

static const qs_step *find(const qs_trace *tr, const char *title)
{
    for (int i = 0; i < tr->n; i++)
        if (strcmp(tr->steps[i].title, title) == 0) return &tr->steps[i];
    return NULL;
}

/* The number after the last "= " of a step's text, read back as a float. */
static float printed(const qs_step *st, const char *text, const char *what)
{
    const char *eq = strstr(text, "= ");
    cr_assert_not_null(eq, "%s: no '= ' in '%s'", what, text);
    for (const char *n = eq; (n = strstr(n + 1, "= ")) != NULL;) eq = n;
    (void)st;
    return strtof(eq + 2, NULL);
}

/* The printed number equals the engine's float bit for bit (NaN equals NaN). */
#define SAME(got, want, ...)                                                                  \
    cr_assert((got) == (want) || (isnan(got) && isnan(want)) ||                               \
              ((got) == 0 && (want) == 0), __VA_ARGS__)

Test(derive_drift, printed_parameters_are_the_engines, .timeout = 120)
{
    int traced = 0, conv_seen[4] = { 0 };
    rng_state = 20260314;
    for (int it = 0; it < 300; it++) {
        qs_tensor *t = random_tensor();
        for (int k = 0; k < 12; k++) {
            qs_scheme s;
            char words[256];
            if (!random_scheme(t, &s, words, sizeof words)) continue;
            qs_err err = {{0}};
            qs_layout l;
            cr_assert_eq(qs_scheme_layout(&s, t->ndim, t->shape, &l, &err), QS_OK, "%s",
                         err.msg);
            int ggml = s.conv == QS_CONV_GGML;
            qs_calib c;
            qs_calib_default(&c);
            if (!ggml && rnd() % 3 == 0) c.kind = QS_CAL_PERCENTILE;
            /* the engine: calibrate, parameters, codes and values of the whole tensor */
            qs_calib_result cal;
            cr_assert_eq(qs_calib_run(t->data, &l, &s, &c, &cal, &err), QS_OK, "%s", err.msg);
            qs_qstate q;
            cr_assert_eq(qs_qstate_init(&q, &s, t, cal.lo, cal.hi, &err), QS_OK, "%s: %s",
                         words, err.msg);
            float *y = malloc((size_t)t->n * sizeof *y);
            int32_t *codes = malloc((size_t)t->n * sizeof *codes);
            cr_assert(y && codes);
            cr_assert_eq(qs_quant_apply(&q, t, y, codes, NULL, &err), QS_OK, "%s", err.msg);
            /* derive one element */
            int64_t e = rnd() % t->n;
            int64_t p = qs_layout_index(&l, e);
            qs_derive_opts o = { 0, 0.0, e, -1 };
            qs_trace tr;
            cr_assert_eq(qs_derive_cal(t, &s, &c, &cal, &o, &tr, &err), QS_OK, "%s: %s",
                         words, err.msg);
            cr_assert_eq(tr.set, p, "%s: set %d, engine %lld", words, tr.set, (long long)p);
            float sc = q.qp.scale[p], inv = q.qp.inv[p];
            int32_t zp = q.qp.zp[p];
            const qs_step *st;
            if (ggml) {
                st = find(&tr, "stored d");
                cr_assert_not_null(st, "%s: no 'stored d'", words);
                SAME(printed(st, st->result, "d'"), sc, "%s element %lld: printed %s, engine "
                     "d' %.9g", words, (long long)e, st->result, sc);
                SAME((float)st->value, sc, "%s: d' value", words);
                st = find(&tr, "inverse");
                SAME(printed(st, st->result, "id"), inv, "%s element %lld: printed %s, engine "
                     "id %.9g", words, (long long)e, st->result, inv);
            } else if (s.conv == QS_CONV_TRT) {
                st = find(&tr, "multiplier");
                cr_assert_not_null(st, "%s: no 'multiplier'", words);
                SAME(printed(st, st->result, "m"), inv, "%s element %lld: printed %s, engine "
                     "m %.9g", words, (long long)e, st->result, inv);
                SAME((float)st->value, inv, "%s: m value", words);
                if (inv != 0.0f)
                    SAME(printed(st, st->note, "s"), sc, "%s: printed %s, engine s %.9g",
                         words, st->note, sc);
            } else {
                st = find(&tr, "scale");
                cr_assert_not_null(st, "%s: no 'scale'", words);
                SAME(printed(st, st->result, "s"), sc, "%s element %lld: printed %s, engine "
                     "s %.9g", words, (long long)e, st->result, sc);
                SAME((float)st->value, sc, "%s: s value", words);
                st = find(&tr, "zero point");
                cr_assert_not_null(st, "%s: no 'zero point'", words);
                cr_assert_eq((int32_t)printed(st, st->result, "zp"), zp, "%s element %lld: "
                             "printed %s, engine zp %d", words, (long long)e, st->result, zp);
                cr_assert_eq(st->value, (double)zp, "%s: zp value", words);
            }
            /* the value followed: its code and x̂ are the engine's (stochastic rounding draws
             * element 0's number in a one-value trace, so only element 0 there) */
            if (s.round != QS_R_STOCHASTIC || e == 0) {
                cr_assert_eq(tr.code, codes[e], "%s element %lld (%.9g): derive code %lld, "
                             "engine %d", words, (long long)e, t->data[e], (long long)tr.code,
                             codes[e]);
                SAME((float)tr.xhat, y[e], "%s element %lld: x̂ %.9g, engine %.9g", words,
                     (long long)e, tr.xhat, y[e]);
                st = find(&tr, "dequantize");
                cr_assert_not_null(st, "%s: no 'dequantize'", words);
                SAME(printed(st, st->result, "x̂"), y[e], "%s: printed %s, engine %.9g", words,
                     st->result, y[e]);
                if ((st = find(&tr, "clamp")) != NULL)
                    cr_assert_eq(st->value, (double)codes[e], "%s: clamp %s, engine %d",
                                 words, st->result, codes[e]);
                /* the intermediate numbers lead to that code: q' = r + zp clamped (Q4_0:
                 * min(15, (int)(v + 8.5))) */
                const qs_step *qz = find(&tr, "add zero point");
                if (qz && !isnan(t->data[e])) {
                    double q1 = qz->value < q.qp.qmin ? q.qp.qmin
                              : qz->value > q.qp.qmax ? q.qp.qmax : qz->value;
                    cr_assert_eq(q1, (double)codes[e], "%s element %lld (%.9g): the steps give "
                                 "q' = %s, the engine's code is %d", words, (long long)e,
                                 t->data[e], qz->result, codes[e]);
                } else if (!qz && (st = find(&tr, "round")) != NULL) {
                    int q4 = st->value >= 15.0 ? 15 : (int)st->value;
                    cr_assert_eq(q4, codes[e], "%s element %lld: the steps give %s, the "
                                 "engine's code is %d", words, (long long)e, st->substituted,
                                 codes[e]);
                }
            }
            conv_seen[s.conv]++;
            traced++;
            qs_trace_fini(&tr);
            free(y);
            free(codes);
            qs_qstate_fini(&q);
            qs_calib_result_fini(&cal);
        }
        qs_tensor_free(t);
    }
    for (int c = 0; c < 4; c++) cr_assert_gt(conv_seen[c], 100, "convention %d: %d traces", c,
                                            conv_seen[c]);
    cr_assert_gt(traced, 2500);
}

/* ---- derive requant: the fixed-point step says what the multiplier did ------------------ */

static qs_session S;
static void setup(void)
{
    qs_kernels_init();
    qs_session_init(&S);
}
static void teardown(void) { qs_session_fini(&S); }

/* For random multipliers, mantissas next to 1 among them (where round(frac · 2^31) reaches
 * 2^31 and M0 is renormalised), the exponent arithmetic the step prints ("n = 31 - (e)" or
 * "31 - (e + 1)") gives the n it reports and `derive requant` returns, and its M0 is the
 * command's (qs_requant_multiplier's). */
Test(derive_drift, requant_step_is_the_multipliers, .init = setup, .fini = teardown)
{
    rng_state = 77;
    int renormed = 0;
    for (int i = 0; i < 400; i++) {
        double M;
        if (i % 4 == 0)     /* mantissa within 2^-33 of 1 */
            M = ldexp(1.0 - ldexp(1.0 + (rnd() % 8), -40), (int)(rnd() % 20) - 12);
        else M = exp((double)unif() * 12.0) * 0.5;
        char line[128];
        snprintf(line, sizeof line, "derive requant M=%.17g acc=%d", M, (int)(rnd() % 100000));
        json_t *out = NULL;
        qs_err err = {{0}};
        cr_assert_eq(qs_cmd_run_line(&S, line, &out, NULL, &err), QS_OK, "%s: %s", line,
                     err.msg);
        int32_t m0;
        int sh;
        qs_requant_multiplier(M, &m0, &sh);
        cr_assert_eq(json_integer_value(json_object_get(out, "M0")), m0, "%s", line);
        cr_assert_eq(json_integer_value(json_object_get(out, "n")), 31 + sh, "%s", line);
        json_t *st = json_array_get(json_object_get(out, "steps"), 0);
        const char *sub = json_string_value(json_object_get(st, "substituted"));
        const char *res = json_string_value(json_object_get(st, "result"));
        cr_assert(sub && res, "%s: no fixed-point step", line);
        const char *at = strstr(sub, "n = 31 - (");
        cr_assert_not_null(at, "%s: %s", line, sub);
        int e = 0, plus = 0;
        cr_assert_eq(sscanf(at, "n = 31 - (%d + %d)", &e, &plus) >= 1, 1, "%s", sub);
        int pm0 = 0, pn = 0;
        cr_assert_eq(sscanf(res, "M0 = %d, n = %d", &pm0, &pn), 2, "%s", res);
        cr_assert_eq(31 - e - plus, pn, "%s: the step computes n = 31 - (%d) - %d = %d but "
                     "says n = %d", line, e, plus, 31 - e - plus, pn);
        cr_assert_eq(pn, 31 + sh, "%s: %s", line, res);
        cr_assert_eq(pm0, m0, "%s: %s", line, res);
        renormed += plus;
        json_decref(out);
    }
    cr_assert_gt(renormed, 20);
}
