/* wq.c — the integer weight grid the LLM methods share (GPTQ's Quantizer and llm-awq's
 * pseudo_quantize_tensor), round-to-nearest of a matrix, output error and kurtosis (llmq.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/llmq.h"

/* round half to even, as torch.round */
static double rne(double v)
{
    return nearbyint(v);    /* the default rounding mode: ties to even */
}

void qs_wq_params(const qs_wq *q, const double *x, int n, int stride, double *scale,
                  double *zero)
{
    int maxq = (1 << q->bits) - 1;
    double mn = INFINITY, mx = -INFINITY;
    for (int i = 0; i < n; i++) {
        double v = x[(size_t)i * (size_t)stride];
        if (v < mn) mn = v;
        if (v > mx) mx = v;
    }
    if (n <= 0) mn = mx = 0.0;
    if (q->style == 1) {                       /* llm-awq pseudo_quantize_tensor */
        if (q->sym) {
            double a = fmax(fabs(mn), fabs(mx));
            if (a < 1e-5) a = 1e-5;
            *scale = a / ((1 << (q->bits - 1)) - 1);
            *zero = 0.0;
        } else {
            double r = mx - mn;
            if (r < 1e-5) r = 1e-5;
            *scale = r / maxq;
            double z = -rne(mn / *scale);
            *zero = z < 0 ? 0 : z > maxq ? maxq : z;
        }
        return;
    }
    /* GPTQ Quantizer.find_params (weight=True, perchannel) */
    if (mn > 0) mn = 0;
    if (mx < 0) mx = 0;
    if (q->sym) {
        double a = fmax(fabs(mn), mx);
        mx = a;
        if (mn < 0) mn = -a;
    }
    if (mn == 0 && mx == 0) { mn = -1; mx = 1; }
    *scale = (mx - mn) / maxq;
    *zero = q->sym ? (maxq + 1) / 2.0 : rne(-mn / *scale);
}

double qs_wq_fake(const qs_wq *q, double x, double scale, double zero)
{
    if (q->style == 1 && q->sym) {
        double lo = -(double)(1 << (q->bits - 1)), hi = (double)((1 << (q->bits - 1)) - 1);
        double c = rne(x / scale);
        c = c < lo ? lo : c > hi ? hi : c;
        return c * scale;
    }
    double maxq = (double)((1 << q->bits) - 1);
    double c = rne(x / scale) + zero;
    c = c < 0 ? 0 : c > maxq ? maxq : c;
    return scale * (c - zero);
}

int qs_wq_rtn(const qs_wq *q, const float *W, int out, int in, float *Wq, qs_err *err)
{
    if (out <= 0 || in <= 0 || q->bits < 2 || q->bits > 8)
        return qs_err_set(err, "rtn: bad sizes or bits");
    int g = q->group > 0 ? q->group : in;
    double *row = malloc((size_t)in * sizeof *row);
    if (!row) return qs_err_set(err, "rtn: out of memory");
    for (int r = 0; r < out; r++) {
        for (int j = 0; j < in; j++) row[j] = W[(size_t)r * in + j];
        for (int j0 = 0; j0 < in; j0 += g) {
            int m = j0 + g <= in ? g : in - j0;
            double sc, z;
            qs_wq_params(q, row + j0, m, 1, &sc, &z);
            for (int j = j0; j < j0 + m; j++)
                Wq[(size_t)r * in + j] = (float)qs_wq_fake(q, row[j], sc, z);
        }
    }
    free(row);
    return QS_OK;
}

void qs_llmq_out_err(const float *X, int n, const float *W, const float *Wq, int out, int in,
                     double *mse, double *sqnr_db)
{
    double se = 0.0, sy = 0.0;
    for (int t = 0; t < n; t++) {
        const float *x = X + (size_t)t * in;
        for (int o = 0; o < out; o++) {
            const float *w = W + (size_t)o * in, *wq = Wq + (size_t)o * in;
            double y = 0.0, yq = 0.0;
            for (int j = 0; j < in; j++) {
                y += (double)x[j] * w[j];
                yq += (double)x[j] * wq[j];
            }
            se += (y - yq) * (y - yq);
            sy += y * y;
        }
    }
    double cnt = (double)n * out;
    if (mse) *mse = cnt > 0 ? se / cnt : NAN;
    if (sqnr_db) *sqnr_db = se > 0 ? 10.0 * log10(sy / se) : INFINITY;
}

void qs_llmq_kurtosis(const float *v, int64_t n, double *kurt, double *absmax)
{
    double s = 0.0, am = 0.0;
    for (int64_t i = 0; i < n; i++) { s += v[i]; am = fmax(am, fabs((double)v[i])); }
    double mu = n > 0 ? s / (double)n : 0.0, m2 = 0.0, m4 = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double d = v[i] - mu, d2 = d * d;
        m2 += d2;
        m4 += d2 * d2;
    }
    if (n > 0) { m2 /= (double)n; m4 /= (double)n; }
    if (kurt) *kurt = m2 > 0 ? m4 / (m2 * m2) : NAN;
    if (absmax) *absmax = am;
}

void qs_llmq_y_err(const float *X, int n, const float *W, int out, int in, const float *Y,
                   double *mse, double *sqnr_db)
{
    double se = 0.0, sy = 0.0;
    for (int t = 0; t < n; t++)
        for (int o = 0; o < out; o++) {
            double y = 0.0;
            for (int j = 0; j < in; j++) y += (double)X[(size_t)t * in + j] * W[(size_t)o * in + j];
            double e = Y[(size_t)t * out + o] - y;
            se += e * e;
            sy += y * y;
        }
    double cnt = (double)n * out;
    if (mse) *mse = cnt > 0 ? se / cnt : NAN;
    if (sqnr_db) *sqnr_db = se > 0 ? 10.0 * log10(sy / se) : INFINITY;
}
