/* stats.c — summary statistics and percentiles of float arrays (NumPy's conventions), and
 * the histogram helper behind `hist`. See include/qscope/stats.h for the conventions. */
#include "qscope/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const double qs_stats_pct_levels[QS_STATS_NPCT] = {0.01, 0.1, 1, 50, 99, 99.9, 99.99};

/* ---- compensated sums ----------------------------------------------------------------- */

typedef struct ksum {
    double s;   /* running sum */
    double c;   /* compensation (lost low-order part) */
} ksum;

/* Neumaier's variant of Kahan summation: exact to about one rounding for any input order. */
static void ksum_add(ksum *k, double v)
{
    double t = k->s + v;
    if (fabs(k->s) >= fabs(v)) k->c += (k->s - t) + v;
    else k->c += (v - t) + k->s;
    k->s = t;
}

static double ksum_get(const ksum *k)
{
    return k->s + k->c;
}

/* ---- order statistics ----------------------------------------------------------------- */

static int cmp_float(const void *pa, const void *pb)
{
    float a = *(const float *)pa, b = *(const float *)pb;
    return (a > b) - (a < b);
}

static void swapf(float *a, float *b)
{
    float t = *a;
    *a = *b;
    *b = t;
}

#define SELECT_SMALL 24         /* ranges this short are sorted outright */
#define SELECT_MAX_DEPTH 96     /* beyond this many partitions, sort the range (no O(n^2)) */

/* Rearranges a[lo..hi] (inclusive, no NaN) so that for every rank r in ranks[0..nr) (sorted
 * ascending, all within [lo, hi]) a[r] holds the value a full sort would put there. A
 * quickselect over several ranks at once: median-of-three Hoare partitions, recursing only
 * into sides that still hold wanted ranks. */
static void select_ranks(float *a, int64_t lo, int64_t hi, const int64_t *ranks, int nr,
                         int depth)
{
    while (nr > 0) {
        if (hi - lo < SELECT_SMALL || depth > SELECT_MAX_DEPTH) {
            qsort(a + lo, (size_t)(hi - lo + 1), sizeof *a, cmp_float);
            return;
        }
        int64_t mid = lo + (hi - lo) / 2;
        if (a[mid] < a[lo]) swapf(&a[mid], &a[lo]);
        if (a[hi] < a[lo]) swapf(&a[hi], &a[lo]);
        if (a[hi] < a[mid]) swapf(&a[hi], &a[mid]);
        swapf(&a[lo], &a[mid]);                 /* median of three at a[lo] */
        float p = a[lo];
        int64_t i = lo - 1, j = hi + 1;
        for (;;) {
            do i++; while (a[i] < p);
            do j--; while (a[j] > p);
            if (i >= j) break;
            swapf(&a[i], &a[j]);
        }
        /* a[lo..j] <= p <= a[j+1..hi], lo <= j < hi */
        int nl = 0;
        while (nl < nr && ranks[nl] <= j) nl++;
        depth++;
        if (nl > 0) select_ranks(a, lo, j, ranks, nl, depth);
        ranks += nl;
        nr -= nl;
        lo = j + 1;
    }
}

/* NumPy's _lerp: a + (b-a)·t, or b - (b-a)·(1-t) when t >= 0.5 (exact at both ends). */
static double np_lerp(double a, double b, double t)
{
    double d = b - a;
    return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

/* Copies the finite values of x into a new array; *m receives their count. */
static float *finite_copy(const float *x, int64_t n, int64_t *m)
{
    float *c = malloc((size_t)(n > 0 ? n : 1) * sizeof *c);
    int64_t k = 0;
    if (!c) return NULL;
    for (int64_t i = 0; i < n; i++)
        if (isfinite(x[i])) c[k++] = x[i];
    *m = k;
    return c;
}

/* Percentiles levels[0..np) (percent) of the m finite values in c (reordered). */
static void percentiles(float *c, int64_t m, const double *levels, int np, double *out)
{
    int64_t ranks[2 * QS_STATS_NPCT + 2];
    int64_t pos[QS_STATS_NPCT + 1];
    double gamma[QS_STATS_NPCT + 1];
    int nr = 0;
    if (m == 0) {
        for (int i = 0; i < np; i++) out[i] = NAN;
        return;
    }
    for (int i = 0; i < np; i++) {
        double h = (double)(m - 1) * (levels[i] / 100.0);  /* NumPy: (n-1) * (q/100) */
        double fl = floor(h);
        pos[i] = (int64_t)fl;
        if (pos[i] > m - 1) pos[i] = m - 1;
        gamma[i] = h - fl;
        ranks[nr++] = pos[i];
        ranks[nr++] = pos[i] + 1 < m ? pos[i] + 1 : m - 1;
    }
    /* sort and dedupe the wanted ranks (at most 16: insertion sort) */
    for (int i = 1; i < nr; i++)
        for (int j = i; j > 0 && ranks[j] < ranks[j - 1]; j--) {
            int64_t t = ranks[j];
            ranks[j] = ranks[j - 1];
            ranks[j - 1] = t;
        }
    int u = 0;
    for (int i = 0; i < nr; i++)
        if (u == 0 || ranks[i] != ranks[u - 1]) ranks[u++] = ranks[i];
    select_ranks(c, 0, m - 1, ranks, u, 0);
    for (int i = 0; i < np; i++) {
        int64_t k1 = pos[i] + 1 < m ? pos[i] + 1 : m - 1;
        out[i] = np_lerp((double)c[pos[i]], (double)c[k1], gamma[i]);
    }
}

/* ---- public --------------------------------------------------------------------------- */

int qs_stats_compute(const float *x, int64_t n, qs_stats *st, qs_err *err)
{
    memset(st, 0, sizeof *st);
    st->n = n;
    double mn = INFINITY, mx = -INFINITY;
    ksum sum = {0, 0};
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++) {
        float v = x[i];
        if (isnan(v)) { st->nan++; continue; }
        if (isinf(v)) { st->inf++; continue; }
        if (v == 0) st->zeros++;
        if (v < mn) mn = v;
        if (v > mx) mx = v;
        ksum_add(&sum, v);
        m++;
    }
    st->finite = m;
    if (m == 0) {
        st->min = st->max = st->mean = st->std = st->absmax = NAN;
        for (int i = 0; i < QS_STATS_NPCT; i++) st->pct[i] = NAN;
        return QS_OK;
    }
    st->min = mn;
    st->max = mx;
    st->absmax = fabs(mn) > fabs(mx) ? fabs(mn) : fabs(mx);
    st->mean = ksum_get(&sum) / (double)m;
    ksum sq = {0, 0};
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) continue;
        double d = (double)x[i] - st->mean;
        ksum_add(&sq, d * d);
    }
    st->std = sqrt(ksum_get(&sq) / (double)m);

    int64_t mc = 0;
    float *c = finite_copy(x, n, &mc);
    if (!c)
        return qs_err_set(err, "stats: out of memory for the percentiles of %lld values",
                          (long long)n);
    percentiles(c, mc, qs_stats_pct_levels, QS_STATS_NPCT, st->pct);
    free(c);
    return QS_OK;
}

int qs_stats_percentile(const float *x, int64_t n, double p, double *out, qs_err *err)
{
    if (!(p >= 0 && p <= 100)) return qs_err_set(err, "percentile %g is not in [0, 100]", p);
    int64_t m = 0;
    float *c = finite_copy(x, n, &m);
    if (!c) return qs_err_set(err, "out of memory for the percentile of %lld values",
                              (long long)n);
    percentiles(c, m, &p, 1, out);
    free(c);
    return QS_OK;
}
