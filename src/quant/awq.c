/* awq.c — AWQ's activation-aware scale search on one linear layer (llm-awq auto_scale.py,
 * _search_module_scale), then round-to-nearest with its pseudo_quantize grid (llmq.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/llmq.h"

int qs_awq(const float *X, int n, const float *W, int out, int in, const qs_wq *q, int grid,
           float *Wq, float *s_out, double *losses, double *best_ratio, qs_err *err)
{
    if (n <= 0 || out <= 0 || in <= 0) return qs_err_set(err, "awq: empty matrices");
    if (grid < 1) return qs_err_set(err, "awq: grid=%d", grid);
    size_t nw = (size_t)out * in;
    double *xm = malloc((size_t)in * sizeof *xm);
    float *s = malloc((size_t)in * sizeof *s), *Ws = malloc(nw * sizeof *Ws);
    float *best = malloc(nw * sizeof *best), *bs = malloc((size_t)in * sizeof *bs);
    int rc = QS_OK;
    if (!xm || !s || !Ws || !best || !bs) { rc = qs_err_set(err, "awq: out of memory"); goto done; }
    /* x_max = mean |x| per input channel (get_act_scale) */
    for (int j = 0; j < in; j++) {
        double a = 0.0;
        for (int t = 0; t < n; t++) a += fabs((double)X[(size_t)t * in + j]);
        xm[j] = a / n;
    }
    double best_err = INFINITY, br = -1.0;
    for (int k = 0; k < grid; k++) {
        double ratio = (double)k / grid, mx = 0.0, mn = INFINITY;
        for (int j = 0; j < in; j++) {
            double v = pow(xm[j], ratio);
            if (v < 1e-4) v = 1e-4;
            s[j] = (float)v;
            mx = fmax(mx, s[j]);
            mn = fmin(mn, s[j]);
        }
        double nrm = sqrt(mx * mn);
        for (int j = 0; j < in; j++) s[j] = (float)(s[j] / nrm);
        /* Q(W·s) / s */
        for (int o = 0; o < out; o++)
            for (int j = 0; j < in; j++) Ws[(size_t)o * in + j] = W[(size_t)o * in + j] * s[j];
        if ((rc = qs_wq_rtn(q, Ws, out, in, Ws, err)) != QS_OK) goto done;
        for (int o = 0; o < out; o++)
            for (int j = 0; j < in; j++) Ws[(size_t)o * in + j] = Ws[(size_t)o * in + j] / s[j];
        double mse;
        qs_llmq_out_err(X, n, W, Ws, out, in, &mse, NULL);
        if (losses) losses[k] = mse;
        if (mse < best_err) {
            best_err = mse;
            br = ratio;
            memcpy(best, Ws, nw * sizeof *best);
            memcpy(bs, s, (size_t)in * sizeof *bs);
        }
    }
    if (br < 0) { rc = qs_err_set(err, "awq: no finite loss on the grid"); goto done; }
    memcpy(Wq, best, nw * sizeof *Wq);
    if (s_out) memcpy(s_out, bs, (size_t)in * sizeof *bs);
    if (best_ratio) *best_ratio = br;
done:
    free(xm); free(s); free(Ws); free(best); free(bs);
    return rc;
}
