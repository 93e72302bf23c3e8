/* calib_histogram.c — the `histogram` calibrator: PyTorch's HistogramObserver as python3-torch
 * 1.13 computes it (torch/ao/quantization/observer.py), for one observation of the parameter
 * set, step for step in the same float widths:
 *
 *  forward():  min_val, max_val = aminmax(x); histogram = torch.histc(x, bins,
 *              min=int(min_val), max=int(max_val)). Note the int(): 1.13 truncates the range
 *              toward zero before taking the histogram, so values outside [int(min),
 *              int(max)] are not counted (data in (-1, 1) gets int(min) == int(max) == 0 and
 *              histc then uses the data's own min and max). histc: equal edges become the
 *              data min / max, then ±1; a value v in [lo, hi] goes to bin
 *              (int64)((v - lo)·bins / (hi - lo)) in float32, the last bin keeping hi.
 *  _non_linear_param_search(): alpha = 0, beta = 1 move by 1e-5 (float64); each step moves
 *              the end whose quantile bin is further (l: first bin with cumsum >= alpha·total,
 *              r: last with cumsum <= beta·total, compared in float32), and evaluates the L2
 *              error of the range [start_bin, end_bin] (_compute_quantization_error: each source
 *              bin spread uniformly over dst_nbins = 2^8 destination bins of width
 *              bin_width·(end-start+1)/256, float32 per bin); it stops at the first increase.
 *              new_min = min_val + bin_width·start_bin, new_max = min_val + bin_width·(end_bin+1)
 *              (float32, bin_width = (max_val - min_val)/bins).
 * The scale and zero point then come from the scheme's convention (torch: _calculate_qparams)
 * on [new_min, new_max]. dst_nbins is 256 whatever the scheme's bit width, as PyTorch's
 * observers only know 8-bit dtypes. NaN and ±Inf are left out (torch would propagate them).
 * The curve is the L2 error of every range the search evaluated. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "calib_priv.h"

#define HIST_DST_NBINS 256      /* 2 ** torch.iinfo(torch.quint8 / qint8).bits */
#define HIST_STEP 1e-5          /* _non_linear_param_search's stepsize */

/* c10::div_floor_floating in float32 (Python's floor division). */
static float div_floor_f(float a, float b)
{
    if (b == 0.0f) return a / b;
    float mod = fmodf(a, b);
    float div = (a - mod) / b;
    if (mod != 0.0f && (b < 0.0f) != (mod < 0.0f)) div -= 1.0f;
    if (div == 0.0f) return copysignf(0.0f, a / b);
    float fl = floorf(div);
    if (div - fl > 0.5f) fl += 1.0f;
    return fl;
}

static float clampf(float v, float lo, float hi) { return v < lo ? lo : v > hi ? hi : v; }

/* _get_norm: density · (end³ - begin³) / 3, float32. */
static float l2norm(float begin, float end, float density)
{
    float norm = (end * end * end - begin * begin * begin) / 3.0f;
    return density * norm;
}

/* _compute_quantization_error(start, end) on the histogram h (float32 counts). */
static double quant_error(const float *h, int nb, float mn, float mx, int start, int end)
{
    double bin_width = ((double)mx - (double)mn) / nb;
    double dst_bin_width = bin_width * (end - start + 1) / HIST_DST_NBINS;
    if (dst_bin_width == 0.0) return 0.0;
    float bw = (float)bin_width, dw = (float)dst_bin_width, half = (float)(dst_bin_width / 2);
    float mhalf = (float)(-dst_bin_width / 2);
    float top = (float)(HIST_DST_NBINS - 1);
    double sum = 0.0;
    for (int i = 0; i < nb; i++) {
        float begin = (float)(i - start) * bw;
        float endv = begin + bw;
        float db = clampf(div_floor_f(begin, dw), 0.0f, top);
        float db_center = (db + 0.5f) * dw;
        float de = clampf(div_floor_f(endv, dw), 0.0f, top);
        float density = h[i] / bw;
        float norm = 0.0f;
        norm += l2norm(begin - db_center, half, density);
        norm += (de - db - 1.0f) * l2norm(mhalf, half, density);
        float de_center = de * dw + half;
        norm += l2norm(mhalf, endv - de_center, density);
        sum += norm;
    }
    return sum;
}

int qs_calib_histogram(qs_calib_set *cs, qs_err *err)
{
    int nb = cs->nb;
    float mn = cs->mn, mx = cs->mx;
    float *h = calloc((size_t)nb, sizeof *h);
    float *csum = malloc((size_t)nb * sizeof *csum);
    if (!h || !csum) {
        free(h);
        free(csum);
        return qs_err_set(err, "calib histogram: out of memory");
    }
    /* forward(): torch.histc(x, bins, min=int(min_val), max=int(max_val)) */
    double elo = trunc((double)mn), ehi = trunc((double)mx);
    if (elo == ehi) { elo = mn; ehi = mx; }
    if (elo == ehi) { elo -= 1.0; ehi += 1.0; }
    float left = (float)elo, right = (float)ehi;
    int64_t counted = 0;
    for (int64_t e = 0; e < cs->n; e++) {
        float v = cs->v[e];
        if (!isfinite(v) || !(v >= left && v <= right)) continue;
        int64_t pos = (int64_t)((v - left) * (float)nb / (right - left));
        if (pos >= nb) pos = nb - 1;
        h[pos] += 1.0f;
        counted++;
    }
    /* _non_linear_param_search() */
    double total = 0.0;
    float run = 0.0f;
    for (int j = 0; j < nb; j++) {
        total += h[j];
        run += h[j];
        csum[j] = run;
    }
    double alpha = 0.0, beta = 1.0, norm_min = INFINITY;
    int start_bin = 0, end_bin = nb - 1, nevals = 0, cap = 0, best = -1;
    double *cx = NULL, *cy = NULL;
    while (alpha < beta) {
        double next_alpha = alpha + HIST_STEP, next_beta = beta - HIST_STEP;
        float lim_a = (float)(next_alpha * total), lim_b = (float)(next_beta * total);
        int l = start_bin, r = end_bin;
        while (l < end_bin && csum[l] < lim_a) l++;
        while (r > start_bin && csum[r] > lim_b) r--;
        int ns = start_bin, ne = end_bin;
        if (l - start_bin > end_bin - r) {
            ns = l;
            alpha = next_alpha;
        } else {
            ne = r;
            beta = next_beta;
        }
        if (ns == start_bin && ne == end_bin) continue;
        double norm = quant_error(h, nb, mn, mx, ns, ne);
        if (cs->cv) {
            if (nevals == cap) {
                int nc = cap ? 2 * cap : 64;
                double *x2 = realloc(cx, (size_t)nc * sizeof *x2);
                if (x2) cx = x2;
                double *y2 = x2 ? realloc(cy, (size_t)nc * sizeof *y2) : NULL;
                if (!x2 || !y2) {
                    free(cx);
                    free(h);
                    free(csum);
                    return qs_err_set(err, "calib histogram: out of memory");
                }
                cy = y2;
                cap = nc;
            }
            float bw = (mx - mn) / (float)nb;
            cx[nevals] = (double)((mn + bw * (float)(ne + 1)) - (mn + bw * (float)ns));
            cy[nevals] = norm;
        }
        nevals++;
        if (norm > norm_min) break;
        norm_min = norm;
        best = nevals - 1;
        start_bin = ns;
        end_bin = ne;
    }
    float bw = (mx - mn) / (float)nb;
    cs->lo = mn + bw * (float)start_bin;
    cs->hi = mn + bw * (float)(end_bin + 1);
    if (cs->cv) {
        cs->cv->n = nevals;
        cs->cv->x = cx;
        cs->cv->y = cy;
        cs->cv->xl = "range";
        cs->cv->yl = "l2";
        cs->cv->best = best;
    }
    int same = trunc((double)mn) == trunc((double)mx);
    snprintf(cs->reason, cs->rlen, "PyTorch 1.13 HistogramObserver: %d-bin histogram of %lld "
             "values in [%g, %g] (%s), L2 search kept bins %d..%d after %d steps: [%g, %g]",
             nb, (long long)counted, (double)left, (double)right,
             same ? "int() of the observed min and max are equal: the data range"
                  : "int() of the observed min and max: values outside are not counted",
             start_bin, end_bin, nevals, cs->lo, cs->hi);
    free(h);
    free(csum);
    return QS_OK;
}
