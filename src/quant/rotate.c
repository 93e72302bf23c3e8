/* rotate.c — randomized Hadamard rotation (QuaRot / SpinQuant style): seeded ±1 signs, then
 * the fast Walsh-Hadamard transform normalised by 1/√n, applied to the rows of a matrix
 * (llmq.h). Orthogonal, so rotating X and W by the same Q leaves X·Wᵀ unchanged while it
 * spreads a few large weights over all of a row's entries. */
#include <math.h>
#include <stdlib.h>

#include "qscope/llmq.h"

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void qs_rot_signs(uint64_t seed, int n, float *d)
{
    uint64_t s = seed;
    for (int i = 0; i < n; i++) d[i] = (splitmix64(&s) >> 63) ? -1.0f : 1.0f;
}

static int pow2(int n)
{
    return n > 0 && (n & (n - 1)) == 0;
}

/* in-place unnormalised FWHT of v[0..n), in double */
static void fwht(double *v, int n)
{
    for (int h = 1; h < n; h *= 2)
        for (int i = 0; i < n; i += 2 * h)
            for (int j = i; j < i + h; j++) {
                double a = v[j], b = v[j + h];
                v[j] = a + b;
                v[j + h] = a - b;
            }
}

static int rot(float *M, int rows, int n, const float *d, int inverse, qs_err *err)
{
    if (!pow2(n))
        return qs_err_set(err, "rotate: the rows have %d entries; the Walsh-Hadamard transform "
                          "needs a power of two", n);
    double *v = malloc((size_t)n * sizeof *v), r = 1.0 / sqrt((double)n);
    if (!v) return qs_err_set(err, "rotate: out of memory");
    for (int i = 0; i < rows; i++) {
        float *m = M + (size_t)i * n;
        for (int j = 0; j < n; j++) v[j] = inverse ? (double)m[j] : (double)m[j] * d[j];
        fwht(v, n);
        for (int j = 0; j < n; j++) m[j] = (float)(inverse ? v[j] * r * d[j] : v[j] * r);
    }
    free(v);
    return QS_OK;
}

int qs_rot_apply(float *M, int rows, int n, const float *d, qs_err *err)
{
    return rot(M, rows, n, d, 0, err);
}

int qs_rot_unapply(float *M, int rows, int n, const float *d, qs_err *err)
{
    return rot(M, rows, n, d, 1, err);
}
