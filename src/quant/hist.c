/* hist.c — qs_stats_hist: the histogram of a float array through the kernels' hist (engine
 * layer: it needs the kernel table; the statistics in base/stats.c do not). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/metrics.h"

int qs_stats_hist(const float *x, int64_t n, int bins, double lo, double hi, qs_hist *h,
                  qs_err *err)
{
    memset(h, 0, sizeof *h);
    if (bins < 1) return qs_err_set(err, "hist: bins=%d must be at least 1", bins);
    if (isnan(lo) && isnan(hi)) {
        double mn = INFINITY, mx = -INFINITY;
        for (int64_t i = 0; i < n; i++) {
            if (!isfinite(x[i])) continue;
            if (x[i] < mn) mn = x[i];
            if (x[i] > mx) mx = x[i];
        }
        if (!(mx >= mn)) mn = mx = 0;
        lo = mn;
        hi = mx;
        if (!(hi > lo)) { lo -= 0.5; hi += 0.5; }
    }
    if (!(isfinite(lo) && isfinite(hi) && hi > lo))
        return qs_err_set(err, "hist: range %g:%g must be finite with LO < HI", lo, hi);
    h->counts = calloc((size_t)bins, sizeof *h->counts);
    if (!h->counts) return qs_err_set(err, "hist: out of memory for %d bins", bins);
    h->bins = bins;
    h->lo = lo;
    h->hi = hi;
    qs_k()->hist(x, n, h);
    return QS_OK;
}

void qs_stats_hist_free(qs_hist *h)
{
    if (!h) return;
    free(h->counts);
    memset(h, 0, sizeof *h);
}
