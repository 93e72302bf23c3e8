/* metrics.h — error metrics of a quantized tensor, from the kernels' qs_errstats sums. */
#ifndef QSCOPE_METRICS_H
#define QSCOPE_METRICS_H

#include <stdint.h>

#include "qscope/err.h"
#include "qscope/kernels.h"

/* Metrics of y ≈ x (e = y - x), NaN inputs left out. */
typedef struct qs_metrics {
    int64_t n;          /* elements counted */
    double mse;         /* Σe²/n */
    double rmse;        /* sqrt(mse) */
    double sqnr_db;     /* 10·log10(Σx²/Σe²); +inf when Σe² = 0, -inf when Σx² = 0 < Σe² */
    double max_abs_err; /* max |e| */
    double mean_err;    /* Σe/n (bias) */
    double cosine;      /* Σxy / sqrt(Σx²·Σy²); 1 when both are all zero, 0 when one is */
    double clip_frac;   /* clipped / n */
    int64_t clipped;    /* elements whose code was clamped */
    int64_t n_nan;      /* NaN inputs left out */
} qs_metrics;

/* Metrics from statistics; n == 0 gives zeros (sqnr_db NaN, cosine NaN). */
void qs_metrics_from_stats(const qs_errstats *st, qs_metrics *m);

/* ---- histogram of a float array (src/quant/hist.c) ---------------------------------- */

/* Histogram of x into `bins` equal bins over [lo, hi] (qs_hist semantics: hi itself in the
 * last bin, outside values in under / over, NaN in nan). When lo and hi are both NaN the
 * range is the min..max of the finite values (widened by ±0.5 when they are equal or there
 * are none). Allocates h->counts (free with qs_stats_hist_free) and fills *h through the
 * kernels' hist (qs_k()->hist). QS_ERR for bins < 1, a bad range or out of memory. */
int qs_stats_hist(const float *x, int64_t n, int bins, double lo, double hi, qs_hist *h,
                  qs_err *err);
/* Frees h->counts and clears it. */
void qs_stats_hist_free(qs_hist *h);

#endif
