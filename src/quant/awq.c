/* awq.c — AWQ on one linear layer: llm-awq's activation-aware scale search (auto_scale.py,
 * _search_module_scale) and its clipping search (auto_clip.py auto_clip_layer), each rounding
 * to nearest with its pseudo_quantize grid (llmq.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/llmq.h"

int qs_awq(const float *X, int n, const float *W, int out, int in, const qs_wq *q, int grid,
           float *Wq, float *s_out, double *losses, double *best_ratio, qs_err *err)
{
    return qs_awq_ex(X, n, W, out, in, q, grid, NULL, NULL, Wq, s_out, losses, best_ratio, err);
}

int qs_awq_ex(const float *X, int n, const float *W, int out, int in, const qs_wq *q, int grid,
              qs_awq_loss_fn loss, void *ctx, float *Wq, float *s_out, double *losses,
              double *best_ratio, qs_err *err)
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
        if (!loss) qs_llmq_out_err(X, n, W, Ws, out, in, &mse, NULL);
        else if ((rc = loss(ctx, Ws, &mse, err)) != QS_OK) goto done;
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

/* llm-awq auto_clip.py auto_clip_layer + apply_clip, on the scaled layer: W' = W·s and
 * X' = X/s (apply_scale divides the captured inputs by the scales before clipping). */
int qs_awq_clip(const float *X, int n, const float *W, int out, int in, const qs_wq *q,
                const float *s, int n_grid, double max_shrink, int n_sample, float *Wq,
                float *max_val, int *nclipped, qs_err *err)
{
    if (n <= 0 || out <= 0 || in <= 0) return qs_err_set(err, "awq clip: empty matrices");
    if (n_grid < 1 || n_sample < 1 || !(max_shrink >= 0.0 && max_shrink < 1.0))
        return qs_err_set(err, "awq clip: n_grid=%d max_shrink=%g n_sample=%d", n_grid,
                          max_shrink, n_sample);
    int gs = q->group > 0 && q->group < in ? q->group : in;
    int ng = (in + gs - 1) / gs;
    /* input_feat[:, 0::n_token // n_sample_token]; a step of 0 (fewer rows than n_sample,
     * where torch would refuse the slice) takes every row */
    int step = n / n_sample > 0 ? n / n_sample : 1;
    int nt = (n + step - 1) / step;
    int nsh = (int)(max_shrink * n_grid);
    if (nsh < 1) nsh = 1;                      /* shrink 0: the unclipped range only */
    double *xs = malloc((size_t)nt * in * sizeof *xs), *w = malloc((size_t)gs * sizeof *w);
    double *cw = malloc((size_t)gs * sizeof *cw), *org = malloc((size_t)nt * sizeof *org);
    float *qw = malloc((size_t)gs * sizeof *qw), *bq = malloc((size_t)gs * sizeof *bq);
    int rc = QS_OK, clipped = 0;
    if (!xs || !w || !cw || !org || !qw || !bq) {
        rc = qs_err_set(err, "awq clip: out of memory");
        goto done;
    }
    for (int t = 0; t < nt; t++)
        for (int j = 0; j < in; j++) {
            float x = X[(size_t)t * step * in + j];
            xs[(size_t)t * in + j] = s ? (double)(x / s[j]) : (double)x;
        }
    for (int o = 0; o < out; o++) {
        for (int g = 0; g < ng; g++) {
            int j0 = g * gs, m = j0 + gs <= in ? gs : in - j0;
            double amax = 0.0;
            for (int j = 0; j < m; j++) {
                float v = W[(size_t)o * in + j0 + j];
                w[j] = s ? (double)(v * s[j0 + j]) : (double)v;
                amax = fmax(amax, fabs(w[j]));
            }
            for (int t = 0; t < nt; t++) {
                double y = 0.0;
                for (int j = 0; j < m; j++) y += xs[(size_t)t * in + j0 + j] * w[j];
                org[t] = y;
            }
            double min_err = 1e9, best = amax;
            int best_i = -1;
            for (int i = 0; i < nsh; i++) {
                double mv = amax * (1.0 - (double)i / n_grid), sc, z;
                for (int j = 0; j < m; j++) cw[j] = w[j] < -mv ? -mv : w[j] > mv ? mv : w[j];
                qs_wq_params(q, cw, m, 1, &sc, &z);
                for (int j = 0; j < m; j++) qw[j] = (float)qs_wq_fake(q, cw[j], sc, z);
                double e = 0.0;
                for (int t = 0; t < nt; t++) {
                    double y = 0.0;
                    for (int j = 0; j < m; j++) y += xs[(size_t)t * in + j0 + j] * qw[j];
                    e += (y - org[t]) * (y - org[t]);
                }
                e /= nt;
                if (e < min_err) {
                    min_err = e;
                    best = mv;
                    best_i = i;
                    memcpy(bq, qw, (size_t)m * sizeof *bq);
                }
            }
            if (best_i < 0) {               /* every error >= 1e9: torch keeps the max */
                double sc, z;
                qs_wq_params(q, w, m, 1, &sc, &z);
                for (int j = 0; j < m; j++) bq[j] = (float)qs_wq_fake(q, w[j], sc, z);
            }
            clipped += best_i > 0;
            if (max_val) max_val[(size_t)o * ng + g] = (float)best;
            for (int j = 0; j < m; j++)
                Wq[(size_t)o * in + j0 + j] = s ? bq[j] / s[j0 + j] : bq[j];
        }
    }
    if (nclipped) *nclipped = clipped;
done:
    free(xs); free(w); free(cw); free(org); free(qw); free(bq);
    return rc;
}
