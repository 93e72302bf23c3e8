/* test_calib.c — calibrators: TensorRT's entropy and percentile rules against the numpy/scipy
 * copies in tests/golden/trt_calib.json, ACIQ's published clipping constants, PyTorch's moving
 * average by hand, per-channel ranges, and the 4-bit Laplace ordering (percentile, MSE and
 * entropy beat min-max). */
#include <criterion/criterion.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/calib.h"
#include "qscope/metrics.h"
#include "qscope/quant.h"
#include "qscope/synth.h"

#define KL_REL_TOL 1e-12        /* KL curve vs numpy (same pairwise sums; log may differ) */
#define ACIQ_TOL 0.02           /* alpha vs the constants published with ACIQ (2 decimals) */

static json_t *golden(const char *name)
{
    char path[1024];
    const char *top = getenv("QSCOPE_TOP");
    snprintf(path, sizeof path, "%s/tests/golden/%s", top && *top ? top : ".", name);
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    cr_assert_not_null(j, "cannot read %s: %s", path, e.text);
    return j;
}

static double *hist_of(json_t *g, int k, int *nb)
{
    json_t *h = json_array_get(json_object_get(g, "hists"), (size_t)k);
    *nb = (int)json_array_size(h);
    double *b = malloc((size_t)*nb * sizeof *b);
    for (int j = 0; j < *nb; j++) b[j] = (double)json_integer_value(json_array_get(h, (size_t)j));
    return b;
}

Test(trt, entropy_matches_compute_amax_entropy)
{
    json_t *g = golden("trt_calib.json");
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(g, "entropy"), i, c) {
        int nb;
        double *b = hist_of(g, (int)json_integer_value(json_object_get(c, "hist")), &nb);
        int levels = (int)json_integer_value(json_object_get(c, "levels"));
        double *kl = malloc((size_t)(nb - 128 + 1) * sizeof *kl);
        double *copy = malloc((size_t)nb * sizeof *copy);
        memcpy(copy, b, (size_t)nb * sizeof *b);
        int idx = qs_calib_entropy_hist(b, nb, levels, 128, kl);
        cr_assert_eq(memcmp(copy, b, (size_t)nb * sizeof *b), 0, "input modified");
        cr_assert_eq(idx, json_integer_value(json_object_get(c, "index")), "%s %d bits: bin %d",
                     json_string_value(json_object_get(c, "case")),
                     (int)json_integer_value(json_object_get(c, "bits")), idx);
        json_t *want = json_object_get(c, "kl");
        for (int k = 0; k <= nb - 128; k++) {
            json_t *w = json_array_get(want, (size_t)k);
            if (json_is_null(w)) cr_assert(isinf(kl[k]), "candidate %d should be inf", k);
            else cr_assert_float_eq(kl[k], json_number_value(w),
                                    KL_REL_TOL * fmax(1.0, fabs(json_number_value(w))),
                                    "candidate %d", k);
        }
        free(kl);
        free(copy);
        free(b);
    }
    json_decref(g);
}

Test(trt, percentile_index)
{
    json_t *g = golden("trt_calib.json");
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(g, "percentile"), i, c) {
        int nb;
        double *b = hist_of(g, (int)json_integer_value(json_object_get(c, "hist")), &nb);
        double p = json_number_value(json_object_get(c, "p"));
        cr_assert_eq(qs_calib_percentile_hist(b, nb, p),
                     json_integer_value(json_object_get(c, "index")), "%s p=%g",
                     json_string_value(json_object_get(c, "case")), p);
        free(b);
    }
    json_decref(g);
}

Test(aciq, published_constants)
{
    /* Banner et al. (ACIQ) code: alpha_laplace {2: 2.83, 3: 3.89, 4: 5.03, 8: 9.89},
     * alpha_gaus {2: 1.71, 3: 2.15, 4: 2.55, 8: 3.92} */
    cr_assert_float_eq(qs_calib_aciq_alpha(1, 2, 0, NULL, NULL), 2.83, ACIQ_TOL);
    cr_assert_float_eq(qs_calib_aciq_alpha(1, 3, 0, NULL, NULL), 3.89, ACIQ_TOL);
    cr_assert_float_eq(qs_calib_aciq_alpha(1, 4, 0, NULL, NULL), 5.03, ACIQ_TOL);
    cr_assert_float_eq(qs_calib_aciq_alpha(1, 8, 0, NULL, NULL), 9.89, ACIQ_TOL);
    cr_assert_float_eq(qs_calib_aciq_alpha(0, 2, 0, NULL, NULL), 1.71, ACIQ_TOL);
    cr_assert_float_eq(qs_calib_aciq_alpha(0, 3, 0, NULL, NULL), 2.15, ACIQ_TOL);
    cr_assert_float_eq(qs_calib_aciq_alpha(0, 4, 0, NULL, NULL), 2.55, ACIQ_TOL);
    cr_assert_float_eq(qs_calib_aciq_alpha(0, 8, 0, NULL, NULL), 3.92, ACIQ_TOL);
}

static void calib1(const float *x, int64_t n, const char *scheme, qs_calib *c,
                   qs_calib_result *r)
{
    qs_scheme s;
    qs_scheme_default(&s);
    char buf[128], *argv[8];
    int argc = 0;
    snprintf(buf, sizeof buf, "%s", scheme);
    for (char *w = strtok(buf, " "); w; w = strtok(NULL, " ")) argv[argc++] = w;
    qs_err err = {{0}};
    cr_assert_eq(qs_scheme_parse(&s, argc, argv, &err), QS_OK);
    qs_layout l;
    qs_layout_make(0, &n, QS_G_TENSOR, 0, 1, &l);
    l.len = n;
    cr_assert_eq(qs_calib_run(x, &l, &s, c, r, &err), QS_OK, "%s", err.msg);
}

Test(movavg, pytorch_moving_average_by_hand)
{
    /* batches of 2: (0,10) (-1,20) (5,5) */
    float x[] = { 0, 10, -1, 20, 5, 5 };
    qs_calib c;
    qs_calib_default(&c);
    c.kind = QS_CAL_MOVAVG;
    c.batch = 2;
    qs_calib_result r;
    calib1(x, 6, "int8 asym", &c, &r);
    /* min: 0 → 0 + 0.01·(-1 - 0) = -0.01 → -0.01 + 0.01·(5 + 0.01) = 0.0401
     * max: 10 → 10 + 0.01·(20 - 10) = 10.1 → 10.1 + 0.01·(5 - 10.1) = 10.049 */
    cr_assert_float_eq(r.lo[0], 0.0401, 1e-6);
    cr_assert_float_eq(r.hi[0], 10.049, 1e-5);
    cr_assert_eq(r.ncurve, 3);
    qs_calib_result_fini(&r);
}

Test(percentile, two_sided_and_abs)
{
    /* 10000 values 0..9999 scaled to [-1, 1]; 99% two-sided keeps about [-0.98, 0.98] */
    int64_t n = 10001;
    float *x = malloc((size_t)n * sizeof *x);
    for (int64_t e = 0; e < n; e++) x[e] = (float)e / 5000.0f - 1.0f;
    qs_calib c;
    qs_calib_default(&c);
    c.kind = QS_CAL_PERCENTILE;
    c.p = 99.0;
    c.two_sided = 1;
    qs_calib_result r;
    calib1(x, n, "int8 asym", &c, &r);
    cr_assert_float_eq(r.hi[0], 0.98, 2.0 / 2048 + 1e-6);
    cr_assert_float_eq(r.lo[0], -0.98, 2.0 / 2048 + 1e-6);
    qs_calib_result_fini(&r);
    c.two_sided = 0;
    calib1(x, n, "int8 sym", &c, &r);       /* 99% of |x| lies below 0.99 */
    cr_assert_float_eq(r.hi[0], 0.99, 1.0 / 2048 + 1e-6);
    cr_assert_eq(r.lo[0], -r.hi[0]);
    qs_calib_result_fini(&r);
    free(x);
}

Test(calib, per_channel_ranges_and_infinities)
{
    /* [3, 4]: channel 0 = 0..3, channel 1 = -5, inf, 1, 2, channel 2 = nan only */
    float v[12] = { 0, 1, 2, 3, -5, INFINITY, 1, 2, NAN, NAN, NAN, NAN };
    int64_t shape[2] = { 3, 4 };
    qs_layout l;
    cr_assert_eq(qs_layout_make(2, shape, QS_G_CHANNEL, 0, 1, &l), 0);
    qs_scheme s;
    qs_scheme_default(&s);
    s.gran = QS_G_CHANNEL;
    qs_calib c;
    qs_calib_default(&c);
    qs_calib_result r;
    qs_err err = {{0}};
    cr_assert_eq(qs_calib_run(v, &l, &s, &c, &r, &err), QS_OK);
    cr_assert_eq(r.nparams, 3);
    cr_assert_eq(r.lo[0], 0.0f);
    cr_assert_eq(r.hi[0], 3.0f);
    cr_assert_eq(r.lo[1], -5.0f);
    cr_assert_eq(r.hi[1], 2.0f);
    cr_assert_eq(r.lo[2], 0.0f);
    cr_assert_eq(r.hi[2], 0.0f);
    cr_assert_eq(r.ninf, 1);
    cr_assert_eq(r.nnan, 4);
    qs_calib_result_fini(&r);
}

Test(calib, an_isolated_outlier)
{
    /* one outlier at 100 among 20000 N(0,1) values.
     * MSE at 4 bits clips it (the step it would cost is worse than clipping one value); at
     * 8 bits it keeps most of it. TensorRT's entropy keeps it: every candidate below 100 folds
     * the outlier into a bin where Q is 0 (the bins between the bulk and the candidate are
     * empty), so KL(P||Q) is infinite for all of them (TensorRT's own behaviour). */
    int64_t n = 20000;
    float *x = malloc((size_t)n * sizeof *x);
    qs_rng g;
    qs_rng_seed(&g, 5);
    for (int64_t e = 0; e < n; e++) x[e] = (float)qs_rng_normal(&g);
    x[17] = 100.0f;
    qs_calib c;
    qs_calib_default(&c);
    qs_calib_result r;
    c.kind = QS_CAL_MSE;
    calib1(x, n, "int4 sym", &c, &r);
    cr_assert_lt(r.hi[0], 20.0f, "mse at 4 bits kept the outlier: %g", r.hi[0]);
    cr_assert_gt(r.hi[0], 2.0f);
    cr_assert_gt(r.ncurve, 1000);
    cr_assert(r.best >= 0 && r.best < r.ncurve);
    qs_calib_result_fini(&r);
    calib1(x, n, "int8 sym", &c, &r);
    cr_assert_gt(r.hi[0], 50.0f, "mse at 8 bits: %g", r.hi[0]);
    qs_calib_result_fini(&r);
    c.kind = QS_CAL_ENTROPY;
    calib1(x, n, "int8 sym", &c, &r);
    cr_assert_eq(r.hi[0], 100.0f);
    cr_assert_eq(r.best, r.ncurve - 1);
    for (int k = 0; k + 1 < r.ncurve; k++) cr_assert(isinf(r.curve_y[k]), "candidate %d", k);
    qs_calib_result_fini(&r);
    free(x);
}

Test(calib, laplace_4bit_clipping_beats_minmax)
{
    /* Laplace(0, 1) by inverse CDF from the seeded generator */
    int64_t n = 100000;
    qs_tensor *t;
    int64_t shape[1] = { n };
    t = qs_tensor_new("lap", 1, shape, QS_DT_F32, NULL);
    qs_rng g;
    qs_rng_seed(&g, 11);
    for (int64_t e = 0; e < n; e++) {
        double u = qs_rng_uniform(&g) - 0.5;
        t->data[e] = (float)(u < 0 ? log(1 + 2 * u) : -log(1 - 2 * u));
    }
    qs_scheme s;
    qs_scheme_default(&s);
    s.bits = 4;
    s.symmetric = 1;
    static const qs_calib_kind kinds[] = { QS_CAL_MINMAX, QS_CAL_PERCENTILE, QS_CAL_MSE,
                                           QS_CAL_ENTROPY, QS_CAL_ACIQ_LAPLACE };
    double sqnr[5];
    for (int k = 0; k < 5; k++) {
        qs_calib c;
        qs_calib_default(&c);
        c.kind = kinds[k];
        qs_layout l;
        qs_calib_result r;
        qs_qstate q;
        qs_qresult res;
        qs_err err = {{0}};
        memset(&res, 0, sizeof res);
        cr_assert_eq(qs_scheme_layout(&s, 1, t->shape, &l, &err), QS_OK);
        cr_assert_eq(qs_calib_run(t->data, &l, &s, &c, &r, &err), QS_OK);
        cr_assert_eq(qs_qstate_init(&q, &s, t, r.lo, r.hi, &err), QS_OK);
        cr_assert_eq(qs_quant_apply(&q, t, NULL, NULL, &res, &err), QS_OK);
        qs_metrics m;
        qs_metrics_from_stats(&res.st, &m);
        sqnr[k] = m.sqnr_db;
        qs_qstate_fini(&q);
        qs_calib_result_fini(&r);
    }
    for (int k = 1; k < 5; k++)
        cr_assert_gt(sqnr[k], sqnr[0] + 1.0, "%s %.2f dB vs minmax %.2f dB",
                     qs_calib_name(kinds[k]), sqnr[k], sqnr[0]);
    qs_tensor_free(t);
}

/* ---- issue 13 item 11: the sparse entropy search gives the dense loop's numbers --------- */

/* numpy's pairwise summation, as calib.c (the dense loop below is the one calib.c ran before
 * it learnt to skip empty bins: kept here as the reference) */
static double pw(const double *a, int64_t n)
{
    if (n < 8) { double r = 0.0; for (int64_t i = 0; i < n; i++) r += a[i]; return r; }
    if (n <= 128) {
        double r[8];
        int64_t i;
        for (int j = 0; j < 8; j++) r[j] = a[j];
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++) r[j] += a[i + j];
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) res += a[i];
        return res;
    }
    int64_t n2 = n / 2;
    n2 -= n2 % 8;
    return pw(a, n2) + pw(a + n2, n - n2);
}

static int dense_entropy(const double *in, int nb, int levels, int start, double *kl)
{
    double *b = malloc((size_t)nb * sizeof *b), *p = malloc((size_t)nb * sizeof *p);
    double *q = malloc((size_t)nb * sizeof *q), *t = malloc((size_t)nb * sizeof *t);
    double *gs = malloc((size_t)levels * sizeof *gs);
    int *gc = malloc((size_t)levels * sizeof *gc), best = nb, have = 0;
    double bk = INFINITY;
    memcpy(b, in, (size_t)nb * sizeof *b);
    b[0] = b[1];
    for (int i = start; i <= nb; i++) {
        for (int g = 0; g < levels; g++) { gs[g] = 0.0; gc[g] = 0; }
        for (int j = 0; j < i; j++)
            if (b[j] != 0.0) { gs[(int64_t)j * levels / i] += b[j]; gc[(int64_t)j * levels / i]++; }
        for (int j = 0; j < i; j++) {
            int g = (int)((int64_t)j * levels / i);
            q[j] = b[j] != 0.0 ? gs[g] / gc[g] : 0.0;
            p[j] = b[j];
        }
        p[i - 1] += i < nb ? pw(b + i, nb - i) : 0.0;
        double sp = pw(p, i), sq = pw(q, i), d;
        if (!(sp > 0.0) || !(sq > 0.0)) d = INFINITY;
        else {
            for (int j = 0; j < i; j++) {
                double pj = p[j] / sp, qj = q[j] / sq;
                t[j] = pj > 0.0 && qj > 0.0 ? pj * log(pj / qj) : pj == 0.0 ? 0.0 : INFINITY;
            }
            d = pw(t, i);
        }
        kl[i - start] = d;
        if (!have || d <= bk) { best = i; bk = d; have = 1; }
    }
    free(b); free(p); free(q); free(t); free(gs); free(gc);
    return best;
}

Test(trt, entropy_sparse_equals_dense)
{
    /* histograms of a few hundred values in 2048 bins (per-channel weights), integer and
     * fractional counts, with and without empty bins at the top */
    uint64_t st = 12345;
    for (int c = 0; c < 24; c++) {
        int nb = c % 3 == 0 ? 2048 : c % 3 == 1 ? 512 : 300, levels = 1 << (1 + c % 7);
        int start = nb >= 2048 ? 128 : nb / 16;
        double *b = calloc((size_t)nb, sizeof *b);
        int nval = 20 + 40 * c;
        for (int k = 0; k < nval; k++) {
            st = st * 6364136223846793005ULL + 1442695040888963407ULL;
            double u = (double)(st >> 11) / 9007199254740992.0;
            int j = (int)(u * u * nb);          /* crowded near 0, as |x| of weights */
            b[j < nb ? j : nb - 1] += c % 4 == 3 ? 0.37 + u : 1.0;
        }
        if (c % 5 == 0) b[nb - 1] += 1.0;       /* amax in the last bin */
        double *k1 = malloc((size_t)(nb - start + 1) * sizeof *k1);
        double *k2 = malloc((size_t)(nb - start + 1) * sizeof *k2);
        int i1 = qs_calib_entropy_hist(b, nb, levels, start, k1);
        int i2 = dense_entropy(b, nb, levels, start, k2);
        cr_assert_eq(i1, i2, "case %d: bin %d, dense loop %d", c, i1, i2);
        for (int k = 0; k <= nb - start; k++)
            cr_assert(memcmp(&k1[k], &k2[k], sizeof(double)) == 0,
                      "case %d candidate %d: %.17g vs dense %.17g", c, k, k1[k], k2[k]);
        free(b); free(k1); free(k2);
    }
}
