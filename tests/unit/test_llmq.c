/* test_llmq.c — the LLM-era methods of issue 17 (llmq.h) against numpy ports of the original
 * algorithms (tests/golden/make_llmq_golden.py -> llmq_ref.txt) on a 16 × 64 heavy-tailed
 * weight with 48 calibration rows holding three planted outlier channels and a dead one:
 * rotation, round-to-nearest, GPTQ (four configurations: groups, act-order, sym/asym, lazy
 * batch widths), AWQ's scale and clipping searches, SmoothQuant scales and W8A8, LLM.int8(). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/llmq.h"
#include "golden.h"

#define GOLD "tests/golden/llmq_ref.txt"
#define OUT 16
#define IN 64
#define NX 48
#define TOL_REL 1e-5        /* float32 stores of float64 results computed in another order */

static float *W, *X;

static void setup(void)
{
    int64_t n;
    W = golden_f(GOLD, "W", &n);
    cr_assert_eq(n, OUT * IN);
    X = golden_f(GOLD, "X", &n);
    cr_assert_eq(n, NX * IN);
}
static void teardown(void) { free(W); free(X); }
TestSuite(llmq, .init = setup, .fini = teardown);

/* every element within TOL_REL of the reference (relative to the matrix's largest entry) */
static void expect_close(const char *what, const float *got, const char *line, int64_t n)
{
    int64_t m;
    float *ref = golden_f(GOLD, line, &m);
    cr_assert_eq(m, n, "%s: %lld values, reference %lld", what, (long long)n, (long long)m);
    double big = 0.0;
    for (int64_t i = 0; i < n; i++) big = fmax(big, fabs((double)ref[i]));
    int bad = 0;
    for (int64_t i = 0; i < n; i++)
        if (fabs((double)got[i] - ref[i]) > TOL_REL * big && bad++ < 5)
            cr_expect_fail("%s[%lld] = %.9g, reference %.9g", what, (long long)i,
                           (double)got[i], (double)ref[i]);
    cr_expect_eq(bad, 0, "%s: %d of %lld differ", what, bad, (long long)n);
    free(ref);
}

static double gold1(const char *line)
{
    int64_t n;
    double *v = golden_d(GOLD, line, &n), r = v[0];
    free(v);
    return r;
}

Test(llmq, rotation_matches_and_preserves_products)
{
    float d[IN], Wr[OUT * IN], Xr[NX * IN];
    qs_err err = {""};
    qs_rot_signs(7, IN, d);
    expect_close("signs", d, "rot_signs", IN);
    memcpy(Wr, W, sizeof Wr);
    cr_assert_eq(qs_rot_apply(Wr, OUT, IN, d, &err), QS_OK);
    expect_close("rotated W", Wr, "rot_W", OUT * IN);
    /* the same rotation of X leaves X·Wᵀ unchanged (fp32) */
    memcpy(Xr, X, sizeof Xr);
    cr_assert_eq(qs_rot_apply(Xr, NX, IN, d, &err), QS_OK);
    double mse, sqnr;
    /* compare X·Wᵀ with Xr·Wrᵀ: feed Xr and the difference through out_err */
    double worst = 0.0;
    for (int t = 0; t < NX; t++)
        for (int o = 0; o < OUT; o++) {
            double a = 0, b = 0;
            for (int j = 0; j < IN; j++) {
                a += (double)X[t * IN + j] * W[o * IN + j];
                b += (double)Xr[t * IN + j] * Wr[o * IN + j];
            }
            worst = fmax(worst, fabs(a - b));
        }
    cr_expect_lt(worst, 1e-4, "rotation changed an output by %g", worst);
    /* unapply inverts apply */
    cr_assert_eq(qs_rot_unapply(Wr, OUT, IN, d, &err), QS_OK);
    for (int i = 0; i < OUT * IN; i++) cr_expect_float_eq(Wr[i], W[i], 1e-6);
    /* the outlier weight is spread: lower kurtosis and absmax, higher 4-bit SQNR */
    double k0, a0, k1, a1;
    qs_llmq_kurtosis(W, OUT * IN, &k0, &a0);
    memcpy(Wr, W, sizeof Wr);
    qs_rot_apply(Wr, OUT, IN, d, &err);
    qs_llmq_kurtosis(Wr, OUT * IN, &k1, &a1);
    cr_expect_lt(k1, k0);
    cr_expect_lt(a1, a0);
    qs_wq q = {4, 1, 0, 0};
    float Q0[OUT * IN], Q1[OUT * IN], I[IN * IN];
    qs_wq_rtn(&q, W, OUT, IN, Q0, &err);
    qs_wq_rtn(&q, Wr, OUT, IN, Q1, &err);
    memset(I, 0, sizeof I);
    for (int j = 0; j < IN; j++) I[j * IN + j] = 1.0f;
    double s0, s1;
    qs_llmq_out_err(I, IN, W, Q0, OUT, IN, &mse, &s0);     /* X = I: weight-space SQNR */
    qs_llmq_out_err(I, IN, Wr, Q1, OUT, IN, &mse, &s1);
    cr_expect_gt(s1, s0, "4-bit SQNR %g dB rotated vs %g dB plain", s1, s0);
    cr_expect_neq(qs_rot_apply(Wr, OUT, 48, d, &err), QS_OK, "48 is not a power of two");
    (void)sqnr;
}

Test(llmq, rtn_and_gptq_match_the_reference)
{
    float Q[OUT * IN];
    qs_err err = {""};
    qs_wq q = {4, 0, 16, 0};
    cr_assert_eq(qs_wq_rtn(&q, W, OUT, IN, Q, &err), QS_OK);
    expect_close("rtn", Q, "rtn_g16_b4", OUT * IN);
    static const struct { const char *name; int bits, sym, group, bs, act; } c[] = {
        {"gptq_a", 4, 0, 0, 128, 0}, {"gptq_b", 3, 0, 16, 32, 1},
        {"gptq_c", 4, 1, 32, 16, 0}, {"gptq_d", 3, 1, 0, 8, 1},
    };
    for (size_t k = 0; k < sizeof c / sizeof c[0]; k++) {
        qs_gptq_opts o;
        qs_gptq_defaults(&o);
        o.q.bits = c[k].bits;
        o.q.sym = c[k].sym;
        o.q.group = c[k].group;
        o.blocksize = c[k].bs;
        o.actorder = c[k].act;
        double loss;
        cr_assert_eq(qs_gptq(X, NX, W, OUT, IN, &o, Q, &loss, &err), QS_OK, "%s", err.msg);
        expect_close(c[k].name, Q, c[k].name, OUT * IN);
        char ln[32];
        snprintf(ln, sizeof ln, "%s_loss", c[k].name);
        cr_expect_float_eq(loss, gold1(ln), 1e-9 * fmax(1.0, loss), "%s loss", c[k].name);
        /* GPTQ's point: a lower output error than round-to-nearest on the same grid */
        float R[OUT * IN];
        qs_wq rq = o.q;
        qs_wq_rtn(&rq, W, OUT, IN, R, &err);
        double eg, er;
        qs_llmq_out_err(X, NX, W, Q, OUT, IN, &eg, NULL);
        qs_llmq_out_err(X, NX, W, R, OUT, IN, &er, NULL);
        cr_expect_lt(eg, er, "%s: output mse %g, rtn %g", c[k].name, eg, er);
    }
}

Test(llmq, gptq_trace_records_the_first_columns)
{
    float Q[OUT * IN];
    qs_err err = {""};
    qs_trace tr;
    memset(&tr, 0, sizeof tr);
    qs_gptq_opts o;
    qs_gptq_defaults(&o);
    o.trace = &tr;
    o.trace_cols = 2;
    cr_assert_eq(qs_gptq(X, NX, W, OUT, IN, &o, Q, NULL, &err), QS_OK);
    int cols = 0;
    for (int i = 0; i < tr.n; i++) {
        const qs_step *st = &tr.steps[i];
        /* a column's steps (quantize, update) carry its place among the traced columns; the
         * set-up steps (Hessian, dampening, inverse factor) none */
        if (!strncmp(st->title, "column ", 7)) cr_expect_eq(st->part, ++cols, "%s", st->title);
        else if (!strncmp(st->title, "update after column ", 20))
            cr_expect_eq(st->part, cols, "%s", st->title);
        else cr_expect_eq(st->part, 0, "%s", st->title);
    }
    cr_expect_eq(cols, 2);
    qs_trace_fini(&tr);
}

Test(llmq, awq_matches_the_reference)
{
    float Q[OUT * IN], s[IN];
    double losses[20], ratio;
    qs_err err = {""};
    qs_wq q = {4, 0, 32, 1};
    cr_assert_eq(qs_awq(X, NX, W, OUT, IN, &q, 20, Q, s, losses, &ratio, &err), QS_OK);
    cr_expect_eq(ratio, gold1("awq_ratio"));
    int64_t n;
    double *gl = golden_d(GOLD, "awq_losses", &n);
    cr_assert_eq(n, 20);
    for (int k = 0; k < 20; k++)
        cr_expect_float_eq(losses[k], gl[k], 1e-6 * gl[k], "loss %d: %g vs %g", k, losses[k],
                           gl[k]);
    free(gl);
    expect_close("awq", Q, "awq_W", OUT * IN);
    cr_expect_lt(losses[(int)(ratio * 20 + 0.5)], losses[0], "AWQ beats plain RTN here");
}

typedef struct loss_ctx { int calls; const float *X; const float *W; } loss_ctx;
static int layer_loss(void *c, const float *Wq, double *loss, qs_err *err)
{
    (void)err;
    loss_ctx *l = c;
    l->calls++;
    qs_llmq_out_err(l->X, NX, l->W, Wq, OUT, IN, loss, NULL);
    return QS_OK;
}
static int flat_loss(void *c, const float *Wq, double *loss, qs_err *err)
{
    (void)Wq; (void)err;
    ((loss_ctx *)c)->calls++;
    *loss = 1.0;
    return QS_OK;
}

/* qs_awq_ex: a loss callback sees every candidate; the layer's own output error reproduces
 * qs_awq, a flat loss keeps the first ratio (0: plain round-to-nearest) */
Test(llmq, awq_loss_callback)
{
    float Q[OUT * IN], Q2[OUT * IN], R[OUT * IN];
    double ratio, r2;
    qs_err err = {""};
    qs_wq q = {4, 0, 32, 1};
    loss_ctx c = { 0, X, W };
    cr_assert_eq(qs_awq(X, NX, W, OUT, IN, &q, 20, Q, NULL, NULL, &ratio, &err), QS_OK);
    cr_assert_eq(qs_awq_ex(X, NX, W, OUT, IN, &q, 20, layer_loss, &c, Q2, NULL, NULL, &r2, &err),
                 QS_OK);
    cr_expect_eq(c.calls, 20);
    cr_expect_eq(r2, ratio);
    cr_expect_eq(memcmp(Q, Q2, sizeof Q), 0);
    c.calls = 0;
    cr_assert_eq(qs_awq_ex(X, NX, W, OUT, IN, &q, 20, flat_loss, &c, Q2, NULL, NULL, &r2, &err),
                 QS_OK);
    cr_expect_eq(c.calls, 20);
    cr_expect_eq(r2, 0.0);
    cr_assert_eq(qs_wq_rtn(&q, W, OUT, IN, R, &err), QS_OK);
    cr_expect_eq(memcmp(R, Q2, sizeof R), 0);
}

/* llm-awq's auto_clip after the scale search (int4 g32, every row) and on an unscaled layer
 * (int3 g16, every 4th row: 48 // n_sample 10): the quantized weights, the chosen ranges and
 * how many ranges shrank */
Test(llmq, awq_clip_matches_the_reference)
{
    float Q[OUT * IN], C[OUT * IN], s[IN], mv[OUT * 4], ones[IN];
    double losses[20], ratio;
    int nc = -1;
    qs_err err = {""};
    qs_wq q = {4, 0, 32, 1};
    cr_assert_eq(qs_awq(X, NX, W, OUT, IN, &q, 20, Q, s, losses, &ratio, &err), QS_OK);
    cr_assert_eq(qs_awq_clip(X, NX, W, OUT, IN, &q, s, 20, 0.5, 512, C, mv, &nc, &err), QS_OK,
                 "%s", err.msg);
    expect_close("awq clip", C, "awq_clip_W", OUT * IN);
    expect_close("awq clip max", mv, "awq_clip_max", OUT * 2);
    cr_expect_eq(nc, (int)gold1("awq_clip_n"));
    cr_expect_gt(nc, 0, "some ranges shrink here");
    double e_scale, e_clip;
    qs_llmq_out_err(X, NX, W, Q, OUT, IN, &e_scale, NULL);
    qs_llmq_out_err(X, NX, W, C, OUT, IN, &e_clip, NULL);
    cr_expect_lt(e_clip, e_scale, "clipping lowers the output error: %g vs %g", e_clip, e_scale);
    for (int j = 0; j < IN; j++) ones[j] = 1.0f;
    qs_wq q3 = {3, 0, 16, 1};
    cr_assert_eq(qs_awq_clip(X, NX, W, OUT, IN, &q3, NULL, 20, 0.5, 10, C, mv, &nc, &err), QS_OK);
    expect_close("awq clip3", C, "awq_clip3_W", OUT * IN);
    expect_close("awq clip3 max", mv, "awq_clip3_max", OUT * 4);
    cr_expect_eq(nc, (int)gold1("awq_clip3_n"));
    /* s = ones is the same as no scaling */
    float C1[OUT * IN];
    cr_assert_eq(qs_awq_clip(X, NX, W, OUT, IN, &q3, ones, 20, 0.5, 10, C1, NULL, NULL, &err),
                 QS_OK);
    cr_expect_eq(memcmp(C, C1, sizeof C), 0);
    cr_expect_eq(qs_awq_clip(X, NX, W, OUT, IN, &q3, NULL, 20, 1.0, 10, C, NULL, NULL, &err),
                 QS_ERR, "max_shrink 1 would clamp to zero");
}

Test(llmq, smoothquant_and_llmint8_match_the_reference)
{
    float s[IN], Y[NX * OUT], Xs[NX * IN], Ws[OUT * IN];
    uint8_t keep[IN];
    int nk = 0;
    qs_err err = {""};
    cr_assert_eq(qs_smooth_scales(X, NX, W, OUT, IN, 0.5, s, NULL, NULL, &err), QS_OK);
    expect_close("smooth s", s, "smooth_s", IN);
    cr_assert_eq(qs_w8a8(X, NX, W, OUT, IN, 0, Y, &err), QS_OK);
    expect_close("w8a8", Y, "w8a8_plain", NX * OUT);
    cr_assert_eq(qs_w8a8(X, NX, W, OUT, IN, 1, Y, &err), QS_OK);
    expect_close("w8a8 per-tensor", Y, "w8a8_tensor", NX * OUT);
    for (int t = 0; t < NX; t++)
        for (int j = 0; j < IN; j++) Xs[t * IN + j] = X[t * IN + j] / s[j];
    for (int o = 0; o < OUT; o++)
        for (int j = 0; j < IN; j++) Ws[o * IN + j] = W[o * IN + j] * s[j];
    cr_assert_eq(qs_w8a8(Xs, NX, Ws, OUT, IN, 0, Y, &err), QS_OK);
    expect_close("w8a8 smoothed", Y, "w8a8_smooth", NX * OUT);
    cr_assert_eq(qs_llmint8(X, NX, W, OUT, IN, 6.0, Y, keep, &nk, &err), QS_OK);
    expect_close("llm.int8", Y, "llmint8_Y", NX * OUT);
    int64_t n;
    double *gk = golden_d(GOLD, "llmint8_keep", &n);
    int want = 0;
    for (int j = 0; j < IN; j++) {
        cr_expect_eq(keep[j], (uint8_t)gk[j], "column %d", j);
        want += gk[j] > 0;
    }
    cr_expect_eq(nk, want);
    cr_expect_eq(nk, 3, "the three planted outlier channels");
    free(gk);
}
