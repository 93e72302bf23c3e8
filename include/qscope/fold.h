/* fold.h — preparing weights before quantization: BatchNorm folding and cross-layer
 * equalization (Nagel et al. 2019, "Data-Free Quantization Through Weight Equalization and
 * Bias Correction"), and per-slice scaling of a tensor. Pure functions over float32 arrays:
 * no session, no I/O. */
#ifndef QSCOPE_FOLD_H
#define QSCOPE_FOLD_H

#include <stdint.h>

/* Folds a BatchNorm that follows a layer with weights w (c rows of k values, row i = output
 * channel i) and bias b (NULL for none, read as 0):
 *     y = gamma * (w·x + b - mean) / sqrt(var + eps) + beta
 * becomes w_fold·x + b_fold with, per channel i, f_i = gamma_i / sqrt(var_i + eps),
 *     w_fold[i, :] = f_i * w[i, :]        b_fold[i] = beta_i + f_i * (b_i - mean_i)
 * computed in double and rounded once to float32. Row i starts at w + i·ld (ld >= k: the
 * other ld - k values of a row are left alone). w is updated in place; factor and
 * b_fold (c entries each) receive f and the folded bias. Returns 0, or -1 when a variance is
 * negative or var + eps is not positive (nothing is changed then). */
int qs_fold_bn(float *w, int64_t c, int64_t k, int64_t ld, const double *b, const double *gamma,
               const double *beta, const double *mean, const double *var, double eps,
               double *factor, double *b_fold);

/* Cross-layer equalization of two layers joined by a ReLU (or any f with f(s·x) = s·f(x)
 * for s > 0). The pair is given side by side: row i of p (c rows of k1 + k2 values) holds
 * output channel i of the first layer (k1 weights, its row of W1) followed by the k2 weights
 * of the second layer that read channel i (column i of W2). With r1_i = max |row i of W1| and
 * r2_i = max |column i of W2|, the scale s_i = sqrt(r1_i / r2_i) gives
 *     W1[i, :] / s_i,   b1_i / s_i,   W2[:, i] * s_i
 * so that both ranges become sqrt(r1_i * r2_i), and the network computes the same function.
 * A channel with r1 or r2 zero keeps s = 1. p is updated in place; b1 (c entries, may be
 * NULL) is divided too; s, r1, r2 (c entries each, may be NULL) receive the scales and the
 * ranges before. */
void qs_equalize(float *p, int64_t c, int64_t k1, int64_t k2, double *b1, double *s,
                 double *r1, double *r2);

/* Multiplies slice j along axis `axis` of a row-major tensor of ndim dims by f[j]
 * (shape[axis] factors). */
void qs_scale_slices(float *x, int ndim, const int64_t *shape, int axis, const double *f);

#endif
