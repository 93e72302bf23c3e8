/* test_imatrix.c — llama.cpp's importance-matrix quantizers (issue 17): Q4_0, Q4_K and Q6_K
 * with quant_weights bit-equal to a float32 numpy port of ggml-quants.c's *_impl functions
 * (tests/golden/make_imatrix_golden.py -> imatrix_ref.txt) on a [4 × 256] heavy-tailed weight
 * whose 64 calibration rows hold three loud channels; the imatrix from activations; and the
 * point of it: the importance-weighted error drops against the reference quantizers. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/ggml.h"
#include "qscope/imatrix.h"
#include "golden.h"

#define GOLD "tests/golden/imatrix_ref.txt"
#define ROWS 4
#define COLS 256

static double weighted_err(const float *W, const float *Y, const float *imat)
{
    double e = 0.0;
    for (int r = 0; r < ROWS; r++)
        for (int j = 0; j < COLS; j++) {
            double d = (double)Y[r * COLS + j] - W[r * COLS + j];
            e += imat[j] * d * d;
        }
    return e;
}

Test(imatrix, weighted_quantizers_match_llama_cpp)
{
    int64_t n;
    float *W = golden_f(GOLD, "W", &n);
    cr_assert_eq(n, ROWS * COLS);
    float *imat = golden_f(GOLD, "imatrix", &n);
    cr_assert_eq(n, COLS);
    static const struct { const char *name; int id; } t[] = {
        {"q4_0", QS_GGML_Q4_0}, {"q4_k", QS_GGML_Q4_K}, {"q6_k", QS_GGML_Q6_K},
    };
    float y[ROWS * COLS], y0[ROWS * COLS];
    for (size_t k = 0; k < 3; k++) {
        qs_err err = {""};
        cr_assert_eq(qs_ggml_quantize_imatrix(t[k].id, W, ROWS, COLS, imat, y, &err), QS_OK,
                     "%s: %s", t[k].name, err.msg);
        float *ref = golden_f(GOLD, t[k].name, &n);
        cr_assert_eq(n, ROWS * COLS);
        int bad = 0;
        for (int i = 0; i < ROWS * COLS; i++)
            if (y[i] != ref[i] && bad++ < 5)
                cr_expect_fail("%s[%d] = %.9g, llama.cpp port %.9g", t[k].name, i, (double)y[i],
                               (double)ref[i]);
        cr_expect_eq(bad, 0, "%s: %d values differ", t[k].name, bad);
        free(ref);
        /* without an imatrix: the reference quantizer, as llama.cpp */
        cr_assert_eq(qs_ggml_quantize_imatrix(t[k].id, W, ROWS, COLS, NULL, y0, &err), QS_OK);
        float y1[ROWS * COLS];
        cr_assert_eq(qs_ggml_fakequant(t[k].id, W, ROWS * COLS, y1, &err), QS_OK);
        cr_expect_eq(memcmp(y0, y1, sizeof y0), 0, "%s without weights", t[k].name);
        /* the importance-weighted error is what the imatrix search lowers */
        double ew = weighted_err(W, y, imat), e0 = weighted_err(W, y0, imat);
        cr_expect_lt(ew, e0, "%s: weighted error %g with the imatrix, %g without", t[k].name,
                     ew, e0);
    }
    qs_err err = {""};
    cr_expect_neq(qs_ggml_quantize_imatrix(QS_GGML_Q4_K, W, 8, 128, imat, y, &err), QS_OK,
                  "rows of 128 are not Q4_K super-blocks");
    free(W);
    free(imat);
}

Test(imatrix, from_activations)
{
    float X[3 * 2] = {1, 2, -3, 0, 2, 4};
    float m[2];
    qs_err err = {""};
    cr_assert_eq(qs_imatrix_from_acts(X, 3, 2, m, &err), QS_OK);
    cr_expect_float_eq(m[0], (1 + 9 + 4) / 3.0f, 1e-6);
    cr_expect_float_eq(m[1], (4 + 0 + 16) / 3.0f, 1e-6);
}
