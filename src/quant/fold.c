/* fold.c — weight preparation before quantization: BatchNorm folding, cross-layer
 * equalization and per-slice scaling (see fold.h for the formulas). */
#include "qscope/fold.h"

#include <math.h>
#include <stddef.h>

int qs_fold_bn(float *w, int64_t c, int64_t k, int64_t ld, const double *b, const double *gamma,
               const double *beta, const double *mean, const double *var, double eps,
               double *factor, double *b_fold)
{
    for (int64_t i = 0; i < c; i++)
        if (!(var[i] >= 0) || !(var[i] + eps > 0)) return -1;
    for (int64_t i = 0; i < c; i++) {
        double f = gamma[i] / sqrt(var[i] + eps);
        float *row = w + i * ld;
        for (int64_t j = 0; j < k; j++) row[j] = (float)(f * (double)row[j]);
        factor[i] = f;
        b_fold[i] = beta[i] + f * ((b ? b[i] : 0.0) - mean[i]);
    }
    return 0;
}

void qs_equalize(float *p, int64_t c, int64_t k1, int64_t k2, double *b1, double *s,
                 double *r1, double *r2)
{
    for (int64_t i = 0; i < c; i++) {
        float *row = p + i * (k1 + k2);
        double a = 0, z = 0;
        for (int64_t j = 0; j < k1; j++) a = fmax(a, fabs((double)row[j]));
        for (int64_t j = k1; j < k1 + k2; j++) z = fmax(z, fabs((double)row[j]));
        double si = a > 0 && z > 0 ? sqrt(a / z) : 1.0;
        for (int64_t j = 0; j < k1; j++) row[j] = (float)((double)row[j] / si);
        for (int64_t j = k1; j < k1 + k2; j++) row[j] = (float)((double)row[j] * si);
        if (b1) b1[i] /= si;
        if (s) s[i] = si;
        if (r1) r1[i] = a;
        if (r2) r2[i] = z;
    }
}

void qs_scale_slices(float *x, int ndim, const int64_t *shape, int axis, const double *f)
{
    int64_t outer = 1, inner = 1, n = shape[axis];
    for (int d = 0; d < axis; d++) outer *= shape[d];
    for (int d = axis + 1; d < ndim; d++) inner *= shape[d];
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < n; j++) {
            float *q = x + (o * n + j) * inner;
            for (int64_t t = 0; t < inner; t++) q[t] = (float)(f[j] * (double)q[t]);
        }
}
