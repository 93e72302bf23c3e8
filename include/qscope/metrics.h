/* metrics.h — error metrics of a quantized tensor, from the kernels' qs_errstats sums. */
#ifndef QSCOPE_METRICS_H
#define QSCOPE_METRICS_H

#include <stdint.h>

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

#endif
