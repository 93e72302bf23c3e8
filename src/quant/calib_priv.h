/* calib_priv.h — what a calibrator function (a row of qscope/calibrators.def) is handed, and
 * the histogram helpers calibrators share (src/quant/calib.c). */
#ifndef QSCOPE_CALIB_PRIV_H
#define QSCOPE_CALIB_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "qscope/calib.h"
#include "qscope/quant.h"

/* A curve a calibrator minimised (kept for one parameter set). */
typedef struct qs_calib_curve {
    int n;              /* points */
    double *x, *y;      /* heap */
    const char *xl, *yl;/* labels */
    int best;           /* chosen index */
} qs_calib_curve;

struct qs_calib_set {
    const float *v;         /* the set's values (NaN / ±Inf included) */
    int64_t n;              /* how many */
    const qs_scheme *sc;    /* the scheme the range is for */
    const qs_calib *c;      /* the settings */
    float mn, mx;           /* observed finite min / max */
    float amax;             /* max(|mn|, |mx|) */
    int64_t nfin;           /* finite values (> 0 unless the row has QS_CALF_NODATA) */
    int nb;                 /* histogram bins: c->bins, or 2048 below 16 */
    float lo, hi;           /* out: the range (preset to mn, mx) */
    qs_calib_curve *cv;     /* out: the curve, or NULL when not wanted */
    char *reason;           /* out: one line, why this range */
    size_t rlen;            /* its size */
};

/* Histogram of |v| over [0, amax] in nb bins (the kernels' hist, folded). -1 out of memory. */
int qs_calib_abs_hist(const float *v, int64_t n, float amax, int nb, double *out);
/* Signed histogram over [lo, hi] in nb bins. -1 out of memory. */
int qs_calib_signed_hist(const float *v, int64_t n, float lo, float hi, int nb, double *out);
/* The range an amax gives: symmetric schemes [-amax, amax]; affine ones the observed range
 * [mn, mx] clipped to ±amax. */
void qs_calib_amax_range(const qs_scheme *sc, float mn, float mx, float amax, float *lo,
                         float *hi);
/* Allocates n points of cv with labels; -1 out of memory. */
int qs_calib_curve_alloc(qs_calib_curve *cv, int n, const char *xl, const char *yl);

#endif
