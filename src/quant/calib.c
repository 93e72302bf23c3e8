/* calib.c — calibrators (minmax, moving average, percentile, MSE search, TensorRT entropy,
 * ACIQ, manual): the clip range per parameter set and the curve each one minimised; the
 * driver that runs a row of the calibrator table (calib_table.c) on every parameter set. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calib_priv.h"

const char *qs_calib_name(qs_calib_kind k)
{
    return (unsigned)k < QS_CAL_COUNT ? qs_calib_table[k].name : "?";
}

int qs_calib_find(const char *name)
{
    for (int i = 0; i < QS_CAL_COUNT; i++)
        if (strcmp(name, qs_calib_table[i].name) == 0) return i;
    if (strcmp(name, "kl") == 0) return QS_CAL_ENTROPY;
    return -1;
}

void qs_calib_default(qs_calib *c)
{
    memset(c, 0, sizeof *c);
    c->kind = QS_CAL_MINMAX;
    c->p = 99.99;
    c->momentum = 0.01;
    c->bins = 2048;
}

void qs_calib_result_fini(qs_calib_result *r)
{
    if (!r) return;
    free(r->lo);
    free(r->hi);
    free(r->obs_min);
    free(r->obs_max);
    free(r->signed_max);
    free(r->curve_x);
    free(r->curve_y);
    memset(r, 0, sizeof *r);
}

/* ---- numpy's pairwise summation (float64), so sums match np.sum bit for bit ------------ */

static double pairwise_sum(const double *a, int64_t n)
{
    if (n < 8) {
        double res = 0.0;
        for (int64_t i = 0; i < n; i++) res += a[i];
        return res;
    }
    if (n <= 128) {
        double r[8];
        int64_t i;
        for (int j = 0; j < 8; j++) r[j] = a[j];
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++) r[j] += a[i + j];
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) res += a[i];
        return res;
    }
    int64_t n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
}

/* ---- histogram rules (NVIDIA pytorch-quantization calib/histogram.py) --------------------- */

/* pairwise_sum of the dense array a[lo .. lo+n) that is zero except at the sorted positions
 * pos[0..m) (all inside the range) holding val[0..m): the same additions in the same order
 * minus the ones of +0.0, which change nothing (x + 0.0 == x for every x but -0.0, and no
 * partial sum here is -0.0: the values are nonzero and x + (-x) rounds to +0.0). */
static double sparse_pairwise(const int *pos, const double *val, int m, int64_t lo, int64_t n)
{
    if (m == 0) return 0.0;
    if (n < 8) {
        double res = 0.0;
        for (int k = 0; k < m; k++) res += val[k];
        return res;
    }
    if (n <= 128) {
        double r[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
        int64_t body = n - (n % 8);
        int k = 0;
        for (; k < m && pos[k] - lo < body; k++) r[(pos[k] - lo) % 8] += val[k];
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; k < m; k++) res += val[k];
        return res;
    }
    int64_t n2 = n / 2;
    n2 -= n2 % 8;
    int k = 0;
    while (k < m && pos[k] < lo + n2) k++;
    return sparse_pairwise(pos, val, k, lo, n2) +
           sparse_pairwise(pos + k, val + k, m - k, lo + n2, n - n2);
}

/* The KL divergence of TensorRT's rule for one candidate i, visiting only the nonzero bins
 * (nz[0..m): the nonzero positions below i; bins as modified): equal bit for bit to the dense
 * loop of qs_calib_entropy_hist when the counts are non-negative. tail_sum is Σ bins[i..nb);
 * total is Σ bins when the counts are integers (their sum then exact), else -1.
 * Scratch arrays hold m + 1 entries (pv, qv, tv, pp) and `levels` (gsum, gcnt). */
static double entropy_sparse_one(const double *bins, const int *nz, int m, int i, int levels,
                                 double tail_sum, double total, double *pv, double *qv,
                                 double *tv, int *pp, double *gsum, int *gcnt)
{
    for (int g = 0; g < levels; g++) { gsum[g] = 0.0; gcnt[g] = 0; }
    for (int k = 0; k < m; k++) {
        int g = (int)(((int64_t)nz[k] * levels) / i);
        pp[k] = g;                      /* the bin's group, kept for the next loop */
        gsum[g] += bins[nz[k]];
        gcnt[g]++;
    }
    for (int k = 0; k < m; k++) {
        qv[k] = gsum[pp[k]] / gcnt[pp[k]];
        pv[k] = bins[nz[k]];
    }
    /* p[i-1] += the tail; the caller made sure bin i-1 is nonzero or the tail is 0 */
    if (m > 0 && nz[m - 1] == i - 1) pv[m - 1] += tail_sum;
    /* integer counts: every partial sum of P is an integer below 2^53, so exact in any order */
    double sp = total >= 0.0 ? total : sparse_pairwise(nz, pv, m, 0, i);
    double sq = sparse_pairwise(nz, qv, m, 0, i);
    if (!(sp > 0.0) || !(sq > 0.0)) return INFINITY;
    int t = 0;
    for (int k = 0; k < m; k++) {
        double pj = pv[k] / sp, qj = qv[k] / sq, e;
        if (pj > 0.0 && qj > 0.0) e = pj * log(pj / qj);
        else if (pj == 0.0) continue;     /* a zero term: left out as the dense sum adds +0 */
        else e = INFINITY;
        pp[t] = nz[k];
        tv[t++] = e;
    }
    return sparse_pairwise(pp, tv, t, 0, i);
}

int qs_calib_entropy_hist(const double *bins_in, int nb, int levels, int start_bin, double *kl)
{
    if (nb < 2 || levels < 1) return nb;
    if (start_bin < 1) start_bin = 1;
    if (start_bin > nb) start_bin = nb;
    double *bins = malloc((size_t)nb * sizeof *bins);
    double *p = malloc((size_t)nb * sizeof *p);
    double *q = malloc((size_t)nb * sizeof *q);
    double *gsum = malloc((size_t)levels * sizeof *gsum);
    int *gcnt = malloc((size_t)levels * sizeof *gcnt);
    double *tail = malloc((size_t)(nb + 1) * sizeof *tail);
    int *nz = malloc((size_t)(nb + 1) * sizeof *nz), *pp = malloc((size_t)(nb + 1) * sizeof *pp);
    double *tv = malloc((size_t)(nb + 1) * sizeof *tv);
    double *nzv = malloc((size_t)(nb + 1) * sizeof *nzv);
    double *suf = malloc((size_t)(nb + 1) * sizeof *suf);
    int best = nb;
    if (!bins || !p || !q || !gsum || !gcnt || !tail || !nz || !pp || !tv || !nzv || !suf)
        goto done;
    memcpy(bins, bins_in, (size_t)nb * sizeof *bins);
    bins[0] = bins[1];
    /* The sparse path (a histogram of a few hundred values has mostly empty bins): only the
     * nonzero bins take part in the sums, and a candidate i whose last bin is empty while
     * counts lie beyond it has P > 0 where Q = 0, so KL = +inf without computing it. Both
     * give the dense loop's numbers exactly; it needs non-negative finite counts. */
    int sparse = 1, m_all = 0;
    double total = 0.0;
    for (int j = 0; j < nb; j++) {
        if (!(bins[j] >= 0.0) || !isfinite(bins[j])) sparse = 0;
        if (total >= 0.0) total = bins[j] == floor(bins[j]) ? total + bins[j] : -1.0;
        if (bins[j] != 0.0) { nzv[m_all] = bins[j]; nz[m_all++] = j; }
    }
    if (!(total < 9007199254740992.0)) total = -1.0;     /* 2^53: beyond it, not exact */
    /* integer counts: the tails Σ bins[nz[k]..] exactly, from the top */
    suf[m_all] = 0.0;
    for (int k = m_all - 1; k >= 0 && total >= 0.0; k--) suf[k] = suf[k + 1] + nzv[k];
    double best_kl = INFINITY;
    int have = 0, m = 0;
    for (int i = start_bin; i <= nb; i++) {
        double d;
        if (sparse) {
            while (m < m_all && nz[m] < i) m++;
            int beyond = m < m_all;     /* nonzero counts in bins[i..nb) */
            if (beyond && bins[i - 1] == 0.0) d = INFINITY;
            else {
                double ts = !beyond ? 0.0 : total >= 0.0 ? suf[m]
                            : sparse_pairwise(nz + m, nzv + m, m_all - m, i, nb - i);
                d = entropy_sparse_one(bins, nz, m, i, levels, ts, total, p, q, tv, pp, gsum,
                                       gcnt);
            }
        } else {
            for (int g = 0; g < levels; g++) { gsum[g] = 0.0; gcnt[g] = 0; }
            for (int j = 0; j < i; j++) {
                if (bins[j] == 0.0) continue;
                int g = (int)(((int64_t)j * levels) / i);
                gsum[g] += bins[j];
                gcnt[g]++;
            }
            for (int j = 0; j < i; j++) {
                int g = (int)(((int64_t)j * levels) / i);
                q[j] = bins[j] != 0.0 ? gsum[g] / gcnt[g] : 0.0;
                p[j] = bins[j];
            }
            p[i - 1] += i < nb ? pairwise_sum(bins + i, nb - i) : 0.0;
            double sp = pairwise_sum(p, i), sq = pairwise_sum(q, i);
            /* scipy.stats.entropy: pk/sum, qk/sum, sum of rel_entr */
            if (!(sp > 0.0) || !(sq > 0.0)) d = INFINITY;
            else {
                for (int j = 0; j < i; j++) {
                    double pj = p[j] / sp, qj = q[j] / sq;
                    if (pj > 0.0 && qj > 0.0) tail[j] = pj * log(pj / qj);
                    else if (pj == 0.0) tail[j] = 0.0;
                    else tail[j] = INFINITY;
                }
                d = pairwise_sum(tail, i);
            }
        }
        if (kl) kl[i - start_bin] = d;
        if (!have || d <= best_kl) {        /* <=: the last i with the minimum */
            best = i;
            best_kl = d;
            have = 1;
        }
    }
done:
    free(bins); free(p); free(q); free(gsum); free(gcnt); free(tail); free(nz); free(pp);
    free(tv); free(nzv); free(suf);
    return best;
}

int qs_calib_percentile_hist(const double *bins, int nb, double pct)
{
    double total = 0.0;
    for (int j = 0; j < nb; j++) total += bins[j];
    if (!(total > 0.0)) return 0;
    double target = pct / 100.0, cum = 0.0;
    /* np.cumsum(hist / total) then searchsorted (side left): first cdf >= target */
    for (int j = 0; j < nb; j++) {
        cum += bins[j] / total;
        if (cum >= target) return j;
    }
    return nb;
}

/* Standard normal survival function Q(a) and density. */
static double gauss_clip_mse(double a)
{
    double Q = 0.5 * erfc(a / sqrt(2.0));
    double phi = exp(-0.5 * a * a) / sqrt(2.0 * M_PI);
    return 2.0 * ((1.0 + a * a) * Q - a * phi);
}

double qs_calib_aciq_alpha(int laplace, int bits, int npts, double *alpha, double *mse)
{
    /* E(a) = clipping noise + a²/(3·4^bits) (uniform rounding noise over 2a in 2^bits
     * steps); minimised on a fine grid then refined by golden-section search. */
    double q = 3.0 * pow(4.0, bits);
    double best_a = 1.0, best = INFINITY;
    int fine = 4000;
    for (int k = 0; k <= fine; k++) {
        double a = 0.5 + 15.5 * k / fine;
        double e = (laplace ? 2.0 * exp(-a) : gauss_clip_mse(a)) + a * a / q;
        if (e < best) { best = e; best_a = a; }
    }
    double lo = best_a - 15.5 / fine, hi = best_a + 15.5 / fine;
    for (int it = 0; it < 60; it++) {
        double m1 = lo + (hi - lo) * 0.381966, m2 = hi - (hi - lo) * 0.381966;
        double e1 = (laplace ? 2.0 * exp(-m1) : gauss_clip_mse(m1)) + m1 * m1 / q;
        double e2 = (laplace ? 2.0 * exp(-m2) : gauss_clip_mse(m2)) + m2 * m2 / q;
        if (e1 < e2) hi = m2; else lo = m1;
    }
    best_a = 0.5 * (lo + hi);
    for (int k = 0; alpha && mse && k < npts; k++) {
        double a = 0.5 + 15.5 * k / (npts > 1 ? npts - 1 : 1);
        alpha[k] = a;
        mse[k] = (laplace ? 2.0 * exp(-a) : gauss_clip_mse(a)) + a * a / q;
    }
    return best_a;
}

/* ---- helpers shared by the calibrators (calib_priv.h) ---------------------------------- */

int qs_calib_abs_hist(const float *v, int64_t n, float amax, int nb, double *out)
{
    /* a signed kernel histogram over [-amax, amax] with 2·nb bins, folded: bin nb+j and
     * nb-1-j both hold |x| in bin j */
    uint64_t *c = calloc((size_t)nb * 2, sizeof *c);
    if (!c) return -1;
    qs_hist h = { 2 * nb, -(double)amax, (double)amax, c, 0, 0, 0 };
    qs_k()->hist(v, n, &h);
    for (int j = 0; j < nb; j++) out[j] = (double)c[nb + j] + (double)c[nb - 1 - j];
    free(c);
    return 0;
}

int qs_calib_signed_hist(const float *v, int64_t n, float lo, float hi, int nb, double *out)
{
    uint64_t *c = calloc((size_t)nb, sizeof *c);
    if (!c) return -1;
    qs_hist h = { nb, (double)lo, (double)hi, c, 0, 0, 0 };
    qs_k()->hist(v, n, &h);
    for (int j = 0; j < nb; j++) out[j] = (double)c[j];
    free(c);
    return 0;
}

void qs_calib_amax_range(const qs_scheme *sc, float mn, float mx, float amax, float *lo,
                         float *hi)
{
    if (qs_scheme_is_symmetric(sc)) {
        *lo = -amax;
        *hi = amax;
    } else {
        /* the observed ends clamped into [-amax, amax]: both of them (data that all lies
         * above amax, as a constant tensor under a percentile, gave lo > hi) */
        *lo = fminf(fmaxf(mn, -amax), amax);
        *hi = fmaxf(fminf(mx, amax), -amax);
    }
}

int qs_calib_curve_alloc(qs_calib_curve *cv, int n, const char *xl, const char *yl)
{
    cv->x = malloc((size_t)(n > 0 ? n : 1) * sizeof *cv->x);
    cv->y = malloc((size_t)(n > 0 ? n : 1) * sizeof *cv->y);
    cv->n = n;
    cv->xl = xl;
    cv->yl = yl;
    cv->best = -1;
    return cv->x && cv->y ? 0 : -1;
}

#define abs_hist qs_calib_abs_hist
#define signed_hist qs_calib_signed_hist
#define amax_range qs_calib_amax_range
#define curve_alloc qs_calib_curve_alloc

/* Candidates evaluated per call of hist_mse (bounded so that batch · bins floats stay small). */
#define MSE_BATCH_ELEMS 65536

/* MSE of quantizing bin centres (weighted by counts) with the scheme over each candidate
 * range [lo[k], hi[k]], k < nc, into mse[k]. The caller passes only the bins that hold counts
 * (nb of them, in ascending order): an empty bin adds 0 · e² = +0.0 to the sum, which
 * changes nothing. The candidates are laid out as the rows of an [nc, nb] tensor quantized
 * per channel in one kernel call (each row with its own parameters: the same arithmetic per
 * element as one per-tensor call per candidate), and four rows' sums are accumulated side by
 * side (each still in bin order), so the numbers are those of one candidate at a time.
 * xb, yb and codes hold nc · (nb rounded up to a multiple of 8) elements. */
static void hist_mse(const qs_scheme *sc, const double *centers_d, const float *centers,
                     const double *counts, int nb, const float *lo, const float *hi, int nc,
                     float *xb, float *yb, uint8_t *codes, double total, double *mse)
{
    if (nb <= 0) {
        for (int k = 0; k < nc; k++) mse[k] = 0.0;
        return;
    }
    /* rows padded to a multiple of 8 with copies of the last centre (no scalar tail in the
     * kernel; the padding takes no part in the sums) */
    int nr = (nb + 7) / 8 * 8;
    qs_layout l;
    int64_t shape[2] = { nc, nr };
    qs_layout_make(2, shape, QS_G_CHANNEL, 0, 1, &l);
    qs_qparams qp;
    qs_scheme s1 = *sc;
    s1.gran = QS_G_CHANNEL;
    s1.axis = 0;
    if (s1.conv == QS_CONV_GGML) s1.conv = QS_CONV_TORCH;   /* blocks: judge by amax */
    if (s1.round == QS_R_STOCHASTIC) s1.round = QS_R_HALF_EVEN;
    if (qs_qparams_compute(&s1, &l, lo, hi, NULL, &qp, NULL) != QS_OK) {
        for (int k = 0; k < nc; k++) mse[k] = INFINITY;
        return;
    }
    for (int k = 0; k < nc; k++) {
        float *row = xb + (size_t)k * nr;
        memcpy(row, centers, (size_t)nb * sizeof *xb);
        for (int j = nb; j < nr; j++) row[j] = centers[nb - 1];
    }
    qs_qp kp = qs_qparams_kernel(&qp);
    /* quantize then dequantize: by definition (kernels/ref.c) the y of fakequant, whose
     * error statistics are not needed here; codes of at most 8 bits fit the byte */
    qs_k()->quantize(xb, &l, &kp, codes);
    qs_k()->dequantize(codes, &l, &kp, yb);
    qs_qparams_fini(&qp);
    int k = 0;
    for (; k + 8 <= nc; k += 8) {
        const float *y0 = yb + (size_t)k * nr, *y1 = y0 + nr, *y2 = y1 + nr, *y3 = y2 + nr;
        const float *y4 = y3 + nr, *y5 = y4 + nr, *y6 = y5 + nr, *y7 = y6 + nr;
        double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0, a4 = 0.0, a5 = 0.0, a6 = 0.0, a7 = 0.0;
        for (int j = 0; j < nb; j++) {
            double c = centers_d[j], w = counts[j];
            double e0 = (double)y0[j] - c, e1 = (double)y1[j] - c, e2 = (double)y2[j] - c;
            double e3 = (double)y3[j] - c, e4 = (double)y4[j] - c, e5 = (double)y5[j] - c;
            double e6 = (double)y6[j] - c, e7 = (double)y7[j] - c;
            a0 += w * e0 * e0; a1 += w * e1 * e1; a2 += w * e2 * e2; a3 += w * e3 * e3;
            a4 += w * e4 * e4; a5 += w * e5 * e5; a6 += w * e6 * e6; a7 += w * e7 * e7;
        }
        double a[8] = {a0, a1, a2, a3, a4, a5, a6, a7};
        for (int r = 0; r < 8; r++) mse[k + r] = total > 0.0 ? a[r] / total : 0.0;
    }
    for (; k < nc; k++) {
        const float *y0 = yb + (size_t)k * nr;
        double acc = 0.0;
        for (int j = 0; j < nb; j++) {
            double e = (double)y0[j] - centers_d[j];
            acc += counts[j] * e * e;
        }
        mse[k] = total > 0.0 ? acc / total : 0.0;
    }
}

/* ---- the calibrators (rows of qscope/calibrators.def) ---------------------------------- */

int qs_calib_manual(qs_calib_set *cs, qs_err *err)
{
    const qs_calib *c = cs->c;
    if (!(fabs(c->lo) <= FLT_MAX && fabs(c->hi) <= FLT_MAX && c->lo < c->hi))
        return qs_err_set(err, "calib manual: the range [%g, %g] is not min < max (calib "
                          "manual min=X max=Y, or amax=A)", c->lo, c->hi);
    cs->lo = (float)c->lo;
    cs->hi = (float)c->hi;
    if (qs_scheme_is_symmetric(cs->sc)) {
        float am = fmaxf(-cs->lo, cs->hi);
        cs->lo = -am;
        cs->hi = am;
    }
    snprintf(cs->reason, cs->rlen, "manual: the range [%g, %g] set by hand (observed [%g, %g])",
             cs->lo, cs->hi, cs->mn, cs->mx);
    return QS_OK;
}

int qs_calib_minmax(qs_calib_set *cs, qs_err *err)
{
    (void)err;
    snprintf(cs->reason, cs->rlen, "min-max: the observed range [%g, %g]", cs->mn, cs->mx);
    return QS_OK;
}

int qs_calib_movavg(qs_calib_set *cs, qs_err *err)
{
    const float *v = cs->v;
    int64_t n = cs->n;
    const qs_calib *c = cs->c;
    qs_calib_curve *cv = cs->cv;
    int64_t batch = c->batch > 0 ? c->batch : (n + 7) / 8;
    int64_t nbatch = (n + batch - 1) / batch;
    float m = (float)c->momentum, rmin = INFINITY, rmax = -INFINITY;
    int first = 1;
    if (cv && curve_alloc(cv, (int)(nbatch < 100000 ? nbatch : 100000), "batch",
                          "running_max") < 0)
        return qs_err_set(err, "calib: out of memory");
    for (int64_t b = 0; b < nbatch; b++) {
        int64_t e0 = b * batch, cnt = e0 + batch <= n ? batch : n - e0;
        float bmin = INFINITY, bmax = -INFINITY;
        qs_k()->minmax(v + e0, cnt, &bmin, &bmax);
        if (isinf(bmin) || isinf(bmax)) {
            int64_t f;
            qs_finite_minmax(v + e0, cnt, &bmin, &bmax, &f, NULL, NULL);
            if (f == 0) goto point;
        }
        if (first) { rmin = bmin; rmax = bmax; first = 0; }
        else {
            rmin = rmin + m * (bmin - rmin);
            rmax = rmax + m * (bmax - rmax);
        }
    point:
        if (cv && b < cv->n) { cv->x[b] = (double)b; cv->y[b] = rmax; }
    }
    if (first) { rmin = cs->mn; rmax = cs->mx; }
    cs->lo = rmin;
    cs->hi = rmax;
    if (cv) cv->best = cv->n - 1;
    snprintf(cs->reason, cs->rlen, "moving average of %lld batch min/max (momentum %g, first "
             "batch initialises): [%g, %g]", (long long)nbatch, c->momentum, rmin, rmax);
    return QS_OK;
}

int qs_calib_percentile(qs_calib_set *cs, qs_err *err)
{
    const float *v = cs->v;
    int64_t n = cs->n;
    const qs_scheme *sc = cs->sc;
    const qs_calib *c = cs->c;
    float mn = cs->mn, mx = cs->mx, amax = cs->amax;
    float *lo = &cs->lo, *hi = &cs->hi;
    int nb = cs->nb;
    qs_calib_curve *cv = cs->cv;
    int want_curve = cv != NULL;
    char *reason = cs->reason;
    size_t rlen = cs->rlen;
    double *h = malloc((size_t)nb * sizeof *h);
    if (!h) return qs_err_set(err, "calib: out of memory");
    if (c->two_sided) {
        if (signed_hist(v, n, mn, mx, nb, h) < 0) { free(h); return qs_err_set(err,
                                                        "calib: out of memory"); }
        int ih = qs_calib_percentile_hist(h, nb, c->p);
        double *r = malloc((size_t)nb * sizeof *r);
        if (!r) { free(h); return qs_err_set(err, "calib: out of memory"); }
        for (int j = 0; j < nb; j++) r[j] = h[nb - 1 - j];
        int il = qs_calib_percentile_hist(r, nb, c->p);
        free(r);
        double w = ((double)mx - (double)mn) / nb;
        *hi = (float)((double)mn + w * ih);
        *lo = (float)((double)mn + w * (nb - il));
        if (*hi > mx) *hi = mx;
        if (*lo < mn) *lo = mn;
        if (*lo > *hi) { float t = *lo; *lo = *hi; *hi = t; }
        if (want_curve) {
            if (curve_alloc(cv, nb, "x", "cdf") < 0) { free(h); return qs_err_set(err,
                                                           "calib: out of memory"); }
            double tot = 0.0, cum = 0.0;
            for (int j = 0; j < nb; j++) tot += h[j];
            for (int j = 0; j < nb; j++) {
                cum += h[j];
                cv->x[j] = (double)mn + w * (j + 1);
                cv->y[j] = tot > 0 ? cum / tot : 0.0;
            }
            cv->best = ih > 0 ? ih - 1 : 0;
        }
        snprintf(reason, rlen, "two-sided %g%% percentile of x: [%g, %g] (observed [%g, "
                 "%g])", c->p, *lo, *hi, mn, mx);
    } else {
        if (abs_hist(v, n, amax, nb, h) < 0) { free(h); return qs_err_set(err,
                                                    "calib: out of memory"); }
        int idx = qs_calib_percentile_hist(h, nb, c->p);
        float a = (float)((double)amax * idx / nb);
        amax_range(sc, mn, mx, a, lo, hi);
        if (want_curve) {
            if (curve_alloc(cv, nb, "amax", "cdf") < 0) { free(h); return qs_err_set(err,
                                                          "calib: out of memory"); }
            double tot = 0.0, cum = 0.0;
            for (int j = 0; j < nb; j++) tot += h[j];
            for (int j = 0; j < nb; j++) {
                cum += h[j];
                cv->x[j] = (double)amax * (j + 1) / nb;
                cv->y[j] = tot > 0 ? cum / tot : 0.0;
            }
            cv->best = idx > 0 ? idx - 1 : 0;
        }
        snprintf(reason, rlen, "%g%% of |x| lies below bin %d of %d: amax %g of %g (as "
                 "pytorch-quantization's HistogramCalibrator: the lower edge of that bin)",
                 c->p, idx, nb, a, amax);
    }
    free(h);
    return QS_OK;
}

int qs_calib_mse(qs_calib_set *cs, qs_err *err)
{
    const float *v = cs->v;
    int64_t n = cs->n;
    const qs_scheme *sc = cs->sc;
    float mn = cs->mn, mx = cs->mx, amax = cs->amax;
    float *lo = &cs->lo, *hi = &cs->hi;
    int nb = cs->nb;
    qs_calib_curve *cv = cs->cv;
    int want_curve = cv != NULL;
    char *reason = cs->reason;
    size_t rlen = cs->rlen;
    int start = nb >= 2048 ? 128 : nb / 16;
    int ncand = nb - start + 1;
    double *h = malloc((size_t)nb * sizeof *h), *cd = malloc((size_t)nb * sizeof *cd);
    float *cf = malloc((size_t)nb * sizeof *cf);
    double *xs = malloc((size_t)ncand * sizeof *xs), *ys = malloc((size_t)ncand * sizeof *ys);
    float *cl = malloc((size_t)ncand * sizeof *cl), *cu = malloc((size_t)ncand * sizeof *cu);
    int nb8 = (nb + 7) / 8 * 8, batch = MSE_BATCH_ELEMS / nb8;
    if (batch < 1) batch = 1;
    if (batch > ncand) batch = ncand;
    float *xb = malloc((size_t)batch * (size_t)nb8 * sizeof *xb);
    float *yb = malloc((size_t)batch * (size_t)nb8 * sizeof *yb);
    uint8_t *qb = malloc((size_t)batch * (size_t)nb8);
    int rc = QS_OK;
    if (!h || !cd || !cf || !xs || !ys || !cl || !cu || !xb || !yb || !qb) {
        rc = qs_err_set(err, "calib: out of memory");
        goto mse_done;
    }
    if (mx == mn) { *lo = mn; *hi = mx; snprintf(reason, rlen, "constant data"); goto
                    mse_done; }
    if (signed_hist(v, n, mn, mx, nb, h) < 0) { rc = qs_err_set(err, "calib: out of "
                                                                "memory"); goto mse_done; }
    double w = ((double)mx - (double)mn) / nb, total = 0.0;
    int nnz = 0;            /* the bins holding counts, compacted (see hist_mse) */
    for (int j = 0; j < nb; j++) {
        double c0 = (double)mn + w * (j + 0.5);
        total += h[j];
        if (h[j] == 0.0) continue;
        cf[nnz] = (float)c0;
        cd[nnz] = cf[nnz];
        h[nnz++] = h[j];
    }
    for (int k = 0; k < ncand; k++) {
        /* candidates: |x| bin centres from bin `start`, then amax itself */
        float a = k < ncand - 1 ? (float)((double)amax * (start + k + 0.5) / nb) : amax;
        amax_range(sc, mn, mx, a, &cl[k], &cu[k]);
        xs[k] = a;
    }
    for (int k = 0; k < ncand; k += batch) {
        int nc = ncand - k < batch ? ncand - k : batch;
        hist_mse(sc, cd, cf, h, nnz, cl + k, cu + k, nc, xb, yb, qb, total, ys + k);
    }
    int best = 0;
    for (int k = 1; k < ncand; k++)
        if (ys[k] < ys[best]) best = k;     /* first minimum: smallest amax of equals */
    amax_range(sc, mn, mx, (float)xs[best], lo, hi);
    snprintf(reason, rlen, "amax %g minimises the histogram-weighted squared error %.4g "
             "(min-max amax %g gives %.4g)", xs[best], ys[best], amax, ys[ncand - 1]);
    if (want_curve) {
        cv->n = ncand; cv->x = xs; cv->y = ys; cv->xl = "amax"; cv->yl = "mse";
        cv->best = best;
        xs = ys = NULL;
    }
mse_done:
    free(h); free(cd); free(cf); free(xs); free(ys); free(cl); free(cu); free(xb); free(yb);
    free(qb);
    return rc;
}

int qs_calib_entropy(qs_calib_set *cs, qs_err *err)
{
    const float *v = cs->v;
    int64_t n = cs->n;
    const qs_scheme *sc = cs->sc;
    float mn = cs->mn, mx = cs->mx, amax = cs->amax;
    float *lo = &cs->lo, *hi = &cs->hi;
    int nb = cs->nb;
    qs_calib_curve *cv = cs->cv;
    int want_curve = cv != NULL;
    char *reason = cs->reason;
    size_t rlen = cs->rlen;
    int start = nb >= 2048 ? 128 : nb / 16;
    if (start < 1) start = 1;
    int ncand = nb - start + 1;
    double *h = malloc((size_t)nb * sizeof *h), *kl = malloc((size_t)ncand * sizeof *kl);
    if (!h || !kl) { free(h); free(kl); return qs_err_set(err, "calib: out of memory"); }
    if (abs_hist(v, n, amax, nb, h) < 0) { free(h); free(kl); return qs_err_set(err,
                                                 "calib: out of memory"); }
    int uns = mn >= 0.0f && !qs_scheme_is_symmetric(sc);
    int bits = sc->kind == QS_Q_INT ? sc->bits : 8;
    int levels = 1 << (bits - 1 + uns);
    int i = qs_calib_entropy_hist(h, nb, levels, start, kl);
    float a = (float)((double)amax * i / nb);
    amax_range(sc, mn, mx, a, lo, hi);
    snprintf(reason, rlen, "KL(P||Q) with %d levels is smallest at bin %d of %d: amax %g "
             "of %g (entropy, the calibrator TensorRT documents as preferred, as "
             "pytorch-quantization computes it)", levels, i, nb, a, amax);
    if (want_curve) {
        if (curve_alloc(cv, ncand, "amax", "kl") < 0) { free(h); free(kl);
            return qs_err_set(err, "calib: out of memory"); }
        for (int k = 0; k < ncand; k++) {
            cv->x[k] = (double)amax * (start + k) / nb;
            cv->y[k] = kl[k];
        }
        cv->best = i - start;
    }
    free(h);
    free(kl);
    return QS_OK;
}

int qs_calib_aciq(qs_calib_set *cs, qs_err *err)
{
    const float *v = cs->v;
    int64_t n = cs->n;
    const qs_scheme *sc = cs->sc;
    const qs_calib *c = cs->c;
    float mn = cs->mn, mx = cs->mx;
    float *lo = &cs->lo, *hi = &cs->hi;
    qs_calib_curve *cv = cs->cv;
    int want_curve = cv != NULL;
    char *reason = cs->reason;
    size_t rlen = cs->rlen;
    int lap = c->kind == QS_CAL_ACIQ_LAPLACE;
    double s1 = 0.0, s2 = 0.0, sa = 0.0;
    int64_t cnt = 0;
    for (int64_t e = 0; e < n; e++) if (isfinite(v[e])) { s1 += v[e]; cnt++; }
    double mu = cnt ? s1 / (double)cnt : 0.0;
    for (int64_t e = 0; e < n; e++) if (isfinite(v[e])) {
        double d = v[e] - mu;
        s2 += d * d;
        sa += fabs(d);
    }
    double unit = lap ? (cnt ? sa / (double)cnt : 0.0) : (cnt ? sqrt(s2 / (double)cnt) : 0.0);
    int bits = sc->kind == QS_Q_INT ? sc->bits : 8;
    int npts = want_curve ? 256 : 0;
    if (want_curve && curve_alloc(cv, npts, "alpha", "mse") < 0)
        return qs_err_set(err, "calib: out of memory");
    double a = qs_calib_aciq_alpha(lap, bits, npts, want_curve ? cv->x : NULL,
                                   want_curve ? cv->y : NULL);
    if (want_curve) {
        for (int k = 0; k < npts; k++) { cv->x[k] *= unit; cv->y[k] *= unit * unit; }
        cv->best = 0;
        for (int k = 1; k < npts; k++) if (cv->y[k] < cv->y[cv->best]) cv->best = k;
    }
    double alpha = a * unit;
    float l = (float)fmax((double)mn, mu - alpha), u = (float)fmin((double)mx, mu + alpha);
    if (l > u) { l = mn; u = mx; }
    if (qs_scheme_is_symmetric(sc)) { float am = fmaxf(fabsf(l), fabsf(u)); l = -am; u = am; }
    *lo = l;
    *hi = u;
    snprintf(reason, rlen, "%s fit (%s %.4g, mean %.4g): optimal clip %.3f%s at %d bits "
             "→ [%g, %g]", lap ? "Laplace" : "Gaussian", lap ? "b" : "sigma", unit, mu, a,
             lap ? "b" : "σ", bits, *lo, *hi);
    return QS_OK;
}

/* ---- one parameter set ------------------------------------------------------------------ */

static int calib_one(const float *v, int64_t n, const qs_scheme *sc, const qs_calib *c,
                     float *lo, float *hi, float *omin, float *omax,
                     int64_t *ninf, int64_t *nnan, qs_calib_curve *cv, char *reason,
                     size_t rlen, qs_err *err)
{
    if ((unsigned)c->kind >= QS_CAL_COUNT)
        return qs_err_set(err, "calib: unknown calibrator %d", (int)c->kind);
    const qs_calib_desc *d = &qs_calib_table[c->kind];
    qs_calib_set cs = { .v = v, .n = n, .sc = sc, .c = c, .cv = cv, .reason = reason,
                        .rlen = rlen };
    qs_finite_minmax(v, n, &cs.mn, &cs.mx, &cs.nfin, ninf, nnan);
    *omin = cs.mn;
    *omax = cs.mx;
    cs.lo = cs.mn;
    cs.hi = cs.mx;
    cs.amax = fmaxf(fabsf(cs.mn), fabsf(cs.mx));
    cs.nb = c->bins >= 16 ? c->bins : 2048;
    int rc = QS_OK;
    if (cs.nfin == 0 && !(d->flags & QS_CALF_NODATA))
        snprintf(reason, rlen, "no finite values: range [0, 0]");
    else
        rc = d->run(&cs, err);
    *lo = cs.lo;
    *hi = cs.hi;
    return rc;
}

/* ---- the driver ------------------------------------------------------------------------- */

int qs_calib_run(const float *x, const qs_layout *l, const qs_scheme *sc, const qs_calib *c,
                 qs_calib_result *out, qs_err *err)
{
    memset(out, 0, sizeof *out);
    out->kind = c->kind;
    out->best = -1;
    int64_t np = qs_layout_nparams(l), n = qs_layout_numel(l);
    size_t ns = (size_t)(np > 0 ? np : 1);
    out->nparams = np;
    out->lo = malloc(ns * sizeof *out->lo);
    out->hi = malloc(ns * sizeof *out->hi);
    out->obs_min = malloc(ns * sizeof *out->obs_min);
    out->obs_max = malloc(ns * sizeof *out->obs_max);
    out->signed_max = calloc(ns, sizeof *out->signed_max);
    float *buf = NULL;
    int64_t *off = NULL;
    int rc = QS_OK;
    if (!out->lo || !out->hi || !out->obs_min || !out->obs_max || !out->signed_max) {
        rc = qs_err_set(err, "calib: out of memory");
        goto done;
    }
    if (n == 0) {
        rc = qs_err_set(err, "the tensor is empty: no values to calibrate on");
        goto done;
    }
    if (np > 1024 && (unsigned)c->kind < QS_CAL_COUNT &&
        (qs_calib_table[c->kind].flags & QS_CALF_SEARCH)) {
        rc = qs_err_set(err, "calib %s: %lld parameter sets is too many for a histogram "
                        "search each (at most 1024; use minmax or percentile per group)",
                        qs_calib_name(c->kind), (long long)np);
        goto done;
    }
    /* signed max per set (first element with the largest |x|): ggml Q4_0's d */
    if (sc->conv == QS_CONV_GGML || sc->kind == QS_Q_GGML) {
        float *am = calloc(ns, sizeof *am);
        if (!am) { rc = qs_err_set(err, "calib: out of memory"); goto done; }
        for (int64_t e = 0; e < n; e++) {
            int64_t p = np > 1 ? qs_layout_index(l, e) : 0;
            float a = fabsf(x[e]);
            if (isfinite(a) && a > am[p]) { am[p] = a; out->signed_max[p] = x[e]; }
        }
        free(am);
    }
    qs_calib_curve cv;
    memset(&cv, 0, sizeof cv);
    cv.best = -1;
    if (np == 1) {
        rc = calib_one(x, n, sc, c, &out->lo[0], &out->hi[0], &out->obs_min[0],
                       &out->obs_max[0], &out->ninf, &out->nnan, &cv, out->reason,
                       sizeof out->reason, err);
    } else {
        /* gather each set's elements (in element order) and calibrate them one by one */
        if (qs_layout_gather(x, l, &buf, &off, err) != QS_OK) { rc = QS_ERR; goto done; }
        /* the histogram searches (QS_CALF_SEARCH) take most of the time: their sets run on
         * the kernel threads, each set alone, so the numbers do not depend on the threads */
        int heavy = (unsigned)c->kind < QS_CAL_COUNT &&
                    (qs_calib_table[c->kind].flags & QS_CALF_SEARCH);
        int64_t fail_p = np, ninf = 0, nnan = 0;
        qs_err first = {{0}};
        #pragma omp parallel for schedule(dynamic, 4) num_threads(qs_k_threads()) \
            if (heavy && np > 1) reduction(+:ninf, nnan)
        for (int64_t p = 0; p < np; p++) {
            int64_t ni = 0, nn = 0;
            char why[200];
            qs_err e1 = {{0}};
            int r1 = calib_one(buf + off[p], off[p + 1] - off[p], sc, c, &out->lo[p],
                               &out->hi[p], &out->obs_min[p], &out->obs_max[p], &ni, &nn,
                               p == 0 ? &cv : NULL, why, sizeof why, &e1);
            ninf += ni;
            nnan += nn;
            if (r1 != QS_OK) {
                #pragma omp critical(qs_calib_fail)
                if (p < fail_p) {       /* the first failing set's message, as serially */
                    fail_p = p;
                    first = e1;
                }
            }
            if (p == 0) snprintf(out->reason, sizeof out->reason, "%s: set 0: %.200s",
                                 qs_calib_name(c->kind), why);
        }
        out->ninf += ninf;
        out->nnan += nnan;
        if (fail_p < np) {
            if (err) *err = first;
            rc = QS_ERR;
        }
        if (rc == QS_OK && np > 1) {
            size_t k = strlen(out->reason);
            snprintf(out->reason + k, sizeof out->reason - k, " (each of %lld sets "
                     "calibrated alone)", (long long)np);
        }
    }
    out->ncurve = cv.n;
    out->curve_x = cv.x;
    out->curve_y = cv.y;
    out->curve_x_label = cv.xl;
    out->curve_y_label = cv.yl;
    out->best = cv.best;
done:
    free(buf);
    free(off);
    if (rc != QS_OK) qs_calib_result_fini(out);
    return rc;
}
