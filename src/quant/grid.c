/* grid.c — already-quantized weights: a tensor holding few distinct values on a uniform grid
 * (weights shipped as uint8 / int8 codes and dequantized). Its distinct count and grid step
 * explain why a scheme on the same grid reproduces it exactly (SQNR of 150 dB, or infinite,
 * and a 6.02 dB/bit chart that stops meaning anything). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/quant.h"

static int cmp_f(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

static uint32_t hash32(uint32_t u)
{
    u ^= u >> 16;
    u *= 0x7feb352dU;
    u ^= u >> 15;
    u *= 0x846ca68bU;
    u ^= u >> 16;
    return u;
}

int qs_grid_detect(const float *x, int64_t n, qs_grid *g, qs_err *err)
{
    memset(g, 0, sizeof *g);
    g->step = NAN;
    /* distinct finite values (+0 and -0 are one value), counted up to QS_GRID_MAX_DISTINCT
     * in an open-addressing set of bit patterns */
    size_t cap = 2u * QS_GRID_MAX_DISTINCT;
    uint32_t *set = malloc(cap * sizeof *set);
    uint8_t *used = calloc(cap, 1);
    if (!set || !used) {
        free(set);
        free(used);
        return qs_err_set(err, "out of memory for the distinct values of %lld values",
                          (long long)n);
    }
    int64_t d = 0;
    for (int64_t i = 0; i < n; i++) {
        float v = x[i];
        if (!isfinite(v)) continue;
        g->finite++;
        if (v == 0.0f) v = 0.0f;
        uint32_t u;
        memcpy(&u, &v, sizeof u);
        size_t h = hash32(u) & (cap - 1);
        while (used[h] && set[h] != u) h = (h + 1) & (cap - 1);
        if (used[h]) continue;
        if (d == QS_GRID_MAX_DISTINCT) {    /* more than the cap: not a small codebook */
            g->more = 1;
            for (int64_t j = i + 1; j < n; j++) g->finite += isfinite(x[j]) != 0;
            break;
        }
        used[h] = 1;
        set[h] = u;
        d++;
    }
    g->distinct = d;
    if (g->more || d < 2) {
        free(set);
        free(used);
        return QS_OK;
    }
    float *v = malloc((size_t)d * sizeof *v);
    if (!v) {
        free(set);
        free(used);
        return qs_err_set(err, "out of memory for %lld distinct values", (long long)d);
    }
    int64_t k = 0;
    for (size_t h = 0; h < cap; h++)
        if (used[h]) memcpy(&v[k++], &set[h], sizeof(float));
    free(set);
    free(used);
    qsort(v, (size_t)d, sizeof *v, cmp_f);
    /* the smallest gap, refined over the whole span: a grid of step s holds every value at
     * lo + k·s up to float rounding (QS_GRID_TOL of a step) */
    double lo = v[0], hi = v[d - 1], gap = INFINITY;
    for (int64_t i = 1; i < d; i++)
        if ((double)v[i] - (double)v[i - 1] < gap) gap = (double)v[i] - (double)v[i - 1];
    double levels = floor((hi - lo) / gap + 0.5);
    double step = (hi - lo) / levels;
    int on = levels >= 1 && levels < 16777216.0;
    for (int64_t i = 0; i < d && on; i++) {
        double q = ((double)v[i] - lo) / step;
        if (fabs(q - floor(q + 0.5)) > QS_GRID_TOL) on = 0;
    }
    free(v);
    if (on) {
        g->step = step;
        g->levels = (int64_t)levels + 1;
        g->bits = (int)ceil(log2((double)g->levels));
        if (g->bits < 1) g->bits = 1;
    }
    return QS_OK;
}

void qs_grid_note(const qs_grid *g, char *buf, size_t len)
{
    if (!buf || !len) return;
    buf[0] = '\0';
    if (!qs_grid_quantized(g)) return;
    snprintf(buf, len, "already quantized: %lld distinct values on a uniform grid of step %.6g "
             "(%lld levels, %d-bit codes dequantized): a scheme of %d or more bits reproduces "
             "them almost exactly, so its SQNR (100+ dB) measures float rounding, not the "
             "6.02 dB per bit of fresh weights", (long long)g->distinct, g->step,
             (long long)g->levels, g->bits, g->bits);
}

int qs_grid_quantized(const qs_grid *g)
{
    /* a handful of typed-in values is not a shipped weight: the values must repeat */
    return !g->more && g->distinct >= 2 && g->distinct <= QS_GRID_QUANTIZED_MAX &&
           g->finite >= 1024 && g->distinct * 4 <= g->finite && isfinite(g->step) &&
           g->bits <= 12;
}
