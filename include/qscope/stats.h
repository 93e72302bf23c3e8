/* stats.h — summary statistics of a float array (n, NaN/Inf/zero counts, min, max, mean, std,
 * absmax, percentiles), as the `stats` and `hist` commands show them.
 *
 * Conventions (chosen to match NumPy on the finite values):
 *  - NaN and ±Inf are counted (nan, inf) and left out of every other statistic: min, max,
 *    mean, std, absmax and the percentiles are over the finite values only. With no finite
 *    value they are all NaN.
 *  - std is the population standard deviation (ddof = 0, NumPy's default).
 *  - Sums are in double with Neumaier compensation; std is two-pass (mean first).
 *  - Percentiles use NumPy's default "linear" method: virtual index h = (m-1)·p/100 over the
 *    m sorted finite values, then NumPy's _lerp (a + (b-a)·t, or b - (b-a)·(1-t) when
 *    t >= 0.5). */
#ifndef QSCOPE_STATS_H
#define QSCOPE_STATS_H

#include <stdint.h>

#include "qscope/err.h"

#define QS_STATS_NPCT 7

/* The percentile levels, in percent: 0.01 0.1 1 50 99 99.9 99.99. */
extern const double qs_stats_pct_levels[QS_STATS_NPCT];

typedef struct qs_stats {
    int64_t n;                      /* elements, all of them */
    int64_t finite;                 /* finite elements (the ones the statistics use) */
    int64_t nan;                    /* NaN count */
    int64_t inf;                    /* ±Inf count */
    int64_t zeros;                  /* elements equal to ±0 */
    double min, max;                /* smallest / largest finite value */
    double mean;                    /* mean of the finite values */
    double std;                     /* population std (ddof = 0) of the finite values */
    double absmax;                  /* largest |x| of the finite values */
    double pct[QS_STATS_NPCT];      /* percentiles at qs_stats_pct_levels */
} qs_stats;

/* Computes the statistics of x[0..n). n may be 0 (all value statistics NaN). Needs a
 * temporary copy of the finite values for the percentiles; returns QS_ERR ("out of memory
 * ...") when it cannot be allocated, else QS_OK. */
int qs_stats_compute(const float *x, int64_t n, qs_stats *st, qs_err *err);

/* One percentile p in [0, 100] of x with NumPy's linear method, ignoring NaN and ±Inf (NaN
 * when there is no finite value). Sorts a copy; QS_ERR when out of memory or p out of
 * range. */
int qs_stats_percentile(const float *x, int64_t n, double p, double *out, qs_err *err);

#endif
