/* test_fold.c — BatchNorm folding against PyTorch's fuse_conv_bn_weights and cross-layer
 * equalization against NumPy (tests/golden/fold_ref.txt, made by make_fold.py); slice
 * scaling; the reshape, rescale, fold and equalize commands and their errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "qscope/cmd.h"
#include "qscope/fold.h"
#include "qscope/kernels.h"

#define GOLD "tests/golden/fold_ref.txt"
/* the C code folds in double and rounds once; PyTorch multiplies in float32: a few ulps */
#define FOLD_RTOL 1e-6
#define EQ_RTOL 1e-6

static double *gd(const char *name, int64_t *n)
{
    return golden_line(GOLD, name, n, sizeof(double));
}

static void near(double got, double want, double rtol, const char *what, int64_t i)
{
    cr_expect(fabs(got - want) <= rtol * fmax(1.0, fabs(want)), "%s[%lld]: got %.9g want %.9g",
              what, (long long)i, got, want);
}

Test(fold, bn_matches_torch_fuse_conv_bn_weights)
{
    int64_t nw, nb, n;
    double *w = gd("w", &nw), *b = gd("b", &nb), *g = gd("gamma", &n), *be = gd("beta", &n),
           *m = gd("mean", &n), *v = gd("var", &n), *fw = gd("fold_w", &n), *fb = gd("fold_b", &n);
    int64_t c = nb, k = nw / nb;
    float *x = malloc((size_t)nw * sizeof *x);
    double fac[16], bf[16];
    cr_assert(c <= 16);
    for (int64_t i = 0; i < nw; i++) x[i] = (float)w[i];
    cr_assert_eq(qs_fold_bn(x, c, k, k, b, g, be, m, v, 1e-5, fac, bf), 0);
    for (int64_t i = 0; i < nw; i++) near(x[i], fw[i], FOLD_RTOL, "w_fold", i);
    for (int64_t i = 0; i < c; i++) {
        near(bf[i], fb[i], FOLD_RTOL, "b_fold", i);
        near(fac[i], g[i] / sqrt(v[i] + 1e-5), 1e-12, "factor", i);
    }
    /* a negative variance is refused and nothing changes */
    v[2] = -1;
    float y0 = x[0];
    cr_expect_eq(qs_fold_bn(x, c, k, k, b, g, be, m, v, 1e-5, fac, bf), -1);
    cr_expect_eq(x[0], y0);
    free(x); free(w); free(b); free(g); free(be); free(m); free(v); free(fw); free(fb);
}

Test(fold, bn_with_a_row_stride_leaves_the_rest)
{
    /* 2 rows of 5, fold only the first 3 of each */
    float x[10] = {1, 2, 3, 4, 5, -1, -2, -3, -4, -5};
    double g[2] = {2, 1}, be[2] = {0, 1}, m[2] = {0, 1}, v[2] = {4, 1}, f[2], bf[2];
    cr_assert_eq(qs_fold_bn(x, 2, 3, 5, NULL, g, be, m, v, 0, f, bf), 0);
    float want[10] = {1, 2, 3, 4, 5, -1, -2, -3, -4, -5};
    cr_expect_float_eq(x[0], 1.0f, 0);                  /* 2 / sqrt(4) = 1 */
    cr_expect_float_eq(x[5], -1.0f, 0);                 /* 1 / sqrt(1) = 1 */
    for (int i = 3; i < 5; i++) cr_expect_eq(x[i], want[i]);
    for (int i = 8; i < 10; i++) cr_expect_eq(x[i], want[i]);
    cr_expect_float_eq(bf[1], 0.0, 1e-15);              /* 1 + 1 * (0 - 1) */
}

Test(fold, equalize_matches_nagel_in_numpy)
{
    int64_t np_, nb, n;
    double *pair = gd("pair", &np_), *b1 = gd("b1", &nb), *ep = gd("eq_pair", &n),
           *eb = gd("eq_b1", &n), *es = gd("eq_s", &n), *r1 = gd("eq_r1", &n),
           *r2 = gd("eq_r2", &n);
    int64_t c = nb, len = np_ / nb, k1 = 6;
    float *p = malloc((size_t)np_ * sizeof *p);
    double s[16], a[16], z[16];
    cr_assert(c <= 16);
    for (int64_t i = 0; i < np_; i++) p[i] = (float)pair[i];
    qs_equalize(p, c, k1, len - k1, b1, s, a, z);
    for (int64_t i = 0; i < np_; i++) near(p[i], ep[i], EQ_RTOL, "pair", i);
    for (int64_t i = 0; i < c; i++) {
        near(b1[i], eb[i], 1e-12, "b1", i);
        near(s[i], es[i], 1e-12, "s", i);
        near(a[i], r1[i], 1e-12, "r1", i);
        near(z[i], r2[i], 1e-12, "r2", i);
    }
    free(p); free(pair); free(b1); free(ep); free(eb); free(es); free(r1); free(r2);
}

Test(fold, equalize_keeps_a_dead_channel)
{
    float p[4] = {0, 0, 3, -4};                         /* r1 = 0: s stays 1 */
    double s[1];
    qs_equalize(p, 1, 2, 2, NULL, s, NULL, NULL);
    cr_expect_eq(s[0], 1.0);
    cr_expect_eq(p[2], 3.0f);
    cr_expect_eq(p[3], -4.0f);
}

Test(fold, scale_slices_along_each_axis)
{
    float x[12];
    int64_t shape[3] = {2, 3, 2};
    double f1[3] = {1, 10, 100};
    for (int i = 0; i < 12; i++) x[i] = 1;
    qs_scale_slices(x, 3, shape, 1, f1);
    float want[12] = {1, 1, 10, 10, 100, 100, 1, 1, 10, 10, 100, 100};
    for (int i = 0; i < 12; i++) cr_expect_eq(x[i], want[i], "x[%d] = %g", i, x[i]);
    double f2[2] = {2, 3};
    qs_scale_slices(x, 3, shape, 2, f2);
    cr_expect_eq(x[0], 2.0f);
    cr_expect_eq(x[1], 3.0f);
    cr_expect_eq(x[11], 300.0f);
}

/* ---- the commands -------------------------------------------------------------------- */

static qs_session S;

static void setup(void)
{
    qs_kernels_init();
    qs_session_init(&S);
}

static void teardown(void)
{
    qs_session_fini(&S);
}

TestSuite(fold_cmd, .init = setup, .fini = teardown);

static json_t *run(const char *line)
{
    json_t *out = NULL;
    qs_err err = {{0}};
    int rc = qs_cmd_run_line(&S, line, &out, NULL, &err);
    cr_assert_eq(rc, QS_OK, "'%s' failed: %s", line, err.msg);
    return out;
}

static void fails(const char *line, const char *msg)
{
    json_t *out = NULL;
    qs_err err = {{0}};
    int rc = qs_cmd_run_line(&S, line, &out, NULL, &err);
    cr_expect_neq(rc, QS_OK, "'%s' should fail", line);
    cr_expect(strstr(err.msg, msg) != NULL, "'%s': message '%s' lacks '%s'", line, err.msg, msg);
    json_decref(out);
}

Test(fold_cmd, fold_and_equalize_through_the_table)
{
    json_decref(run("values 0.5 -1 2 0.25 1 -0.5"));
    json_t *r = run("reshape 2x3");
    cr_expect_eq(json_integer_value(json_array_get(json_object_get(r, "shape"), 0)), 2);
    json_decref(r);
    r = run("fold var=0.0001,4 gamma=1,0.5 beta=0.1,0 mean=0.2,-1 bias=0,0.5");
    double f0 = 1 / sqrt(0.0001 + 1e-5);
    cr_expect_float_eq(json_real_value(json_array_get(json_object_get(r, "factor"), 0)), f0, 1e-9);
    cr_expect_float_eq(json_real_value(json_array_get(json_object_get(r, "bias"), 0)),
                       0.1 + f0 * (0 - 0.2), 1e-9);
    cr_expect_float_eq(json_real_value(json_array_get(json_object_get(r, "bias"), 1)),
                       0.5 / sqrt(4 + 1e-5) * 1.5, 1e-9);
    json_decref(r);
    /* the session's tensor is the folded one */
    cr_expect_float_eq(S.tensor->data[2], (float)(2 * f0), 1e-3);
    cr_expect_float_eq(S.tensor->data[5], (float)(-0.5 * 0.5 / sqrt(4 + 1e-5)), 1e-7);
    r = run("equalize split=1");
    /* row 0: r1 = 0.5 f0, r2 = 2 f0 -> s = 0.5; row 1: r1 = 0.25 f1, r2 = f1 -> s = 0.5 */
    cr_expect_float_eq(json_real_value(json_array_get(json_object_get(r, "s"), 0)), 0.5, 1e-6);
    cr_expect_float_eq(json_real_value(json_array_get(json_object_get(r, "s"), 1)), 0.5, 1e-6);
    cr_expect_float_eq(S.tensor->data[0], (float)(0.5 * f0 / 0.5), 1e-3);     /* W1 / s */
    cr_expect_float_eq(S.tensor->data[2], (float)(2 * f0 * 0.5), 1e-3);       /* W2 * s */
    json_decref(r);
    r = run("rescale by=2");
    cr_expect_float_eq(json_real_value(json_object_get(r, "factor")), 2.0, 0);
    json_decref(r);
    r = run("rescale axis=1 by=10 index=-1");
    cr_expect_float_eq(json_real_value(json_array_get(json_object_get(r, "factors"), 2)), 10.0, 0);
    json_decref(r);
}

Test(fold_cmd, errors_name_the_problem)
{
    fails("reshape 2x3", "no tensor");
    json_decref(run("values 1 2 3 4 5 6"));
    fails("reshape 4x2", "holds 8 values, the tensor 6");
    fails("reshape 2xx3", "not a shape");
    fails("reshape 2x", "ends with x");
    fails("fold var=1", "at least 2 dimensions");
    json_decref(run("reshape 2x3"));
    fails("fold gamma=1", "var= is required");
    fails("fold var=1,2,3", "has 3 values; the tensor has 2 channels");
    fails("fold var=-1", "var + eps must be positive");
    fails("fold var=1,x", "not a finite number");
    fails("fold var=1,,2", "empty item");
    fails("fold var=1 colour=2", "colour");
    fails("equalize", "split=K1 is required");
    fails("equalize split=3", "split");
    fails("rescale by=1,2,3", "has 3 factors; axis 0 has 2 slices");
    fails("rescale by=1,2 index=0", "one factor");
    fails("rescale by=2 index=5", "not a slice");
    /* a failed command leaves the tensor as it was */
    cr_expect_eq(S.tensor->ndim, 2);
    cr_expect_eq(S.tensor->data[0], 1.0f);
}
