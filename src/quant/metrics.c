/* metrics.c — MSE, RMSE, SQNR, max / mean error, cosine and clip fraction from the kernels'
 * error statistics. */
#include <math.h>
#include <string.h>

#include "qscope/metrics.h"

void qs_metrics_from_stats(const qs_errstats *st, qs_metrics *m)
{
    memset(m, 0, sizeof *m);
    m->n = st->n;
    m->n_nan = st->n_nan;
    m->clipped = st->clipped;
    if (st->n <= 0) {
        m->sqnr_db = NAN;
        m->cosine = NAN;
        return;
    }
    double n = (double)st->n;
    m->mse = st->sum_e2 / n;
    m->rmse = sqrt(m->mse);
    if (st->sum_e2 > 0.0) m->sqnr_db = 10.0 * log10(st->sum_x2 / st->sum_e2);
    else m->sqnr_db = INFINITY;         /* exact: no noise */
    if (st->sum_x2 == 0.0 && st->sum_e2 > 0.0) m->sqnr_db = -INFINITY;
    m->max_abs_err = st->max_abs_e;
    m->mean_err = st->sum_e / n;
    if (st->sum_x2 > 0.0 && st->sum_y2 > 0.0)
        m->cosine = st->sum_xy / sqrt(st->sum_x2 * st->sum_y2);
    else
        m->cosine = st->sum_x2 == 0.0 && st->sum_y2 == 0.0 ? 1.0 : 0.0;
    /* an error that is NaN (an input of inf cast back to inf: inf - inf; a finite value
     * dequantized to NaN; NaN inputs are skipped, not summed) makes Σe² NaN: the SQNR, the
     * largest error and the cosine are then undefined too, as numpy gives them, not "exact"
     * (the max skips NaN lanes) or 0 (Σy² NaN fails the test above). Errors that are ±inf
     * without a NaN (an fp16 cast of 70000) need no rule: MSE, RMSE and the largest error
     * come out inf, the SQNR -inf, the mean ±inf (NaN when the signs differ), the cosine
     * NaN (inf / inf). */
    if (isnan(st->sum_e2)) m->sqnr_db = m->max_abs_err = m->cosine = NAN;
    m->clip_frac = (double)st->clipped / n;
}
