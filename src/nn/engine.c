/* engine.c — the training engine of the lab: forward and backward passes of an MLP on the
 * fp32 GEMM kernel, with optional fake quantization (clipped STE, LSQ step sizes) and LoRA
 * adapters; softmax cross-entropy; SGD with momentum and Adam; the epoch loop. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "nn_priv.h"
#include "qscope/kernels.h"
#include "qscope/tensor.h"

#define NN_SCALE_MIN 1.1920929e-07f     /* smallest step size (PyTorch's eps) */
#define NN_OBS_MOMENTUM 0.01f           /* moving-average observer (PyTorch) */
#define NN_STE_SLACK 1.0001f            /* |x - y| <= slack · s/2: the value was not clipped */
#define NN_BIAS_QMAX (1 << 24)          /* bias codes: exact in float32 */

/* ======================================================================================
 * Set-up
 * ====================================================================================== */

static float *falloc(int64_t n)
{
    float *p = qs_alloc_aligned((size_t)(n > 0 ? n : 1) * sizeof(float));
    if (p) memset(p, 0, (size_t)(n > 0 ? n : 1) * sizeof(float));
    return p;
}

static void add_param(nn_net *net, float *v, float *g, int64_t n, float lo)
{
    nn_param *p = &net->p[net->np++];
    p->v = v;
    p->g = g;
    p->n = n;
    p->lo = lo;
    p->m1 = falloc(n);
    p->m2 = falloc(n);
}

int nn_net_init(nn_net *net, qs_mlp *m, qs_nn_qmodel *q, int flags, int rank, double alpha,
                uint64_t seed, int maxb, qs_err *err)
{
    memset(net, 0, sizeof *net);
    net->nl = m->nl;
    net->maxb = maxb;
    net->flags = flags;
    net->q = (flags & NN_QUANT) ? q : NULL;
    nn_rng rng = { seed ^ 0x10a7a5eedull };
    int maxw = 1;
    for (int l = 0; l <= m->nl; l++)
        if (m->size[l] > maxw) maxw = m->size[l];
    net->dx = falloc((int64_t)maxb * maxw);
    net->prob = falloc((int64_t)maxb * m->size[m->nl]);
    int ok = net->dx && net->prob;
    for (int l = 0; l < m->nl && ok; l++) {
        nn_layer *L = &net->L[l];
        L->in = m->size[l];
        L->out = m->size[l + 1];
        int64_t nw = (int64_t)L->in * L->out;
        L->w = m->w[l];
        L->b = m->b[l];
        L->xin = falloc((int64_t)maxb * L->in);
        L->z = falloc((int64_t)maxb * L->out);
        L->dz = falloc((int64_t)maxb * L->out);
        L->dweff = falloc(nw);
        L->gb = falloc(L->out);
        ok = L->xin && L->z && L->dz && L->dweff && L->gb;
        if (!ok) break;
        L->weff = L->w;
        if (flags & NN_TRAIN_LORA) {
            L->rank = rank;
            L->lscale = (float)(alpha / rank);
            L->la = falloc((int64_t)rank * L->in);
            L->lb = falloc((int64_t)L->out * rank);
            L->gla = falloc((int64_t)rank * L->in);
            L->glb = falloc((int64_t)L->out * rank);
            L->weff = falloc(nw);
            ok = L->la && L->lb && L->gla && L->glb && L->weff;
            if (!ok) break;
            double sd = 1.0 / sqrt((double)L->in);
            for (int64_t i = 0; i < (int64_t)rank * L->in; i++)
                L->la[i] = (float)(nn_rng_normal(&rng) * sd);
        }
        L->wfq = L->weff;
        L->xq = L->xin;
        if (net->q) {
            L->wq = 1;
            L->wqmax = qs_nn_wqmax(q->cfg.wbits);
            L->nws = q->cfg.wgran == QS_G_CHANNEL ? L->out : 1;
            L->ws = q->wscale[l];
            L->wsinv = falloc(L->nws);
            L->wzp = calloc((size_t)L->nws, sizeof *L->wzp);
            L->gws = falloc(L->nws);
            L->wfq = falloc(nw);
            ok = L->wsinv && L->wzp && L->gws && L->wfq;
            if (!ok) break;
            if (q->cfg.abits > 0) {
                L->aq = 1;
                L->aqmax = (1 << q->cfg.abits) - 1;
                L->xq = falloc((int64_t)maxb * L->in);
                L->bfq = falloc(L->out);
                L->bs = falloc(L->out);
                L->bsinv = falloc(L->out);
                L->bzp = calloc((size_t)L->out, sizeof *L->bzp);
                ok = L->xq && L->bfq && L->bs && L->bsinv && L->bzp;
            }
        }
    }
    if (!ok) {
        nn_net_fini(net);
        return qs_err_set(err, "lab: out of memory for the network");
    }
    /* trainable arrays */
    for (int l = 0; l < m->nl; l++) {
        nn_layer *L = &net->L[l];
        if (flags & NN_TRAIN_W) {
            add_param(net, L->w, L->dweff, (int64_t)L->in * L->out, -FLT_MAX);
            add_param(net, L->b, L->gb, L->out, -FLT_MAX);
        }
        if (flags & NN_TRAIN_LORA) {
            add_param(net, L->la, L->gla, (int64_t)L->rank * L->in, -FLT_MAX);
            add_param(net, L->lb, L->glb, (int64_t)L->out * L->rank, -FLT_MAX);
        }
        if ((flags & NN_LSQ) && net->q) {
            add_param(net, L->ws, L->gws, L->nws, NN_SCALE_MIN);
            if (L->aq) {
                add_param(net, &net->q->ascale[l], &L->gas, 1, NN_SCALE_MIN);
                net->aparam[l] = &net->q->ascale[l];
            }
        }
    }
    for (int i = 0; i < net->np; i++)
        if (!net->p[i].m1 || !net->p[i].m2) {
            nn_net_fini(net);
            return qs_err_set(err, "lab: out of memory for the optimizer state");
        }
    return QS_OK;
}

void nn_net_fini(nn_net *net)
{
    for (int l = 0; l < QS_NN_MAX_LAYERS; l++) {
        nn_layer *L = &net->L[l];
        if (L->xq != L->xin) qs_free_aligned(L->xq);
        if (L->wfq != L->weff) qs_free_aligned(L->wfq);
        if (L->weff != L->w) qs_free_aligned(L->weff);
        qs_free_aligned(L->xin);
        qs_free_aligned(L->z);
        qs_free_aligned(L->dz);
        qs_free_aligned(L->dweff);
        qs_free_aligned(L->gb);
        qs_free_aligned(L->la);
        qs_free_aligned(L->lb);
        qs_free_aligned(L->gla);
        qs_free_aligned(L->glb);
        qs_free_aligned(L->wsinv);
        qs_free_aligned(L->bfq);
        qs_free_aligned(L->bs);
        qs_free_aligned(L->bsinv);
        free(L->bzp);
        qs_free_aligned(L->gws);
        free(L->wzp);
    }
    for (int i = 0; i < net->np; i++) {
        qs_free_aligned(net->p[i].m1);
        qs_free_aligned(net->p[i].m2);
    }
    qs_free_aligned(net->dx);
    qs_free_aligned(net->prob);
    memset(net, 0, sizeof *net);
}

/* ======================================================================================
 * Quantizers
 * ====================================================================================== */

/* Weight scales from the effective weights' absmax (per row or per tensor). */
static void weight_scales(nn_layer *L)
{
    float mn[1], mx[1];
    if (L->nws == 1) {
        qs_k()->minmax(L->weff, (int64_t)L->in * L->out, mn, mx);
        float a = fmaxf(fabsf(mn[0]), fabsf(mx[0]));
        L->ws[0] = fmaxf(a / (float)L->wqmax, NN_SCALE_MIN);
    } else {
        int64_t shape[2] = { L->out, L->in };
        qs_layout lay;
        float *cmn = L->gws, *cmx = L->wsinv;   /* scratch: both are rewritten below */
        qs_layout_make(2, shape, QS_G_CHANNEL, 0, 0, &lay);
        qs_k()->minmax_layout(L->weff, &lay, cmn, cmx);
        for (int j = 0; j < L->out; j++) {
            float a = fmaxf(fabsf(cmn[j]), fabsf(cmx[j]));
            L->ws[j] = fmaxf(a / (float)L->wqmax, NN_SCALE_MIN);
        }
        memset(L->gws, 0, (size_t)L->nws * sizeof(float));
    }
}

static void fq_weights(nn_net *net, nn_layer *L)
{
    /* while training, the scales follow the weights (a minmax weight observer on every
     * forward pass, as PyTorch's FakeQuantize); in evaluation nets they are read only */
    if (!net->q->lsq && (net->flags & NN_TRAIN_W)) weight_scales(L);
    for (int j = 0; j < L->nws; j++) L->wsinv[j] = 1.0f / L->ws[j];
    int64_t shape[2] = { L->out, L->in };
    qs_layout lay;
    qs_layout_make(2, shape, L->nws == 1 ? QS_G_TENSOR : QS_G_CHANNEL, 0, 0, &lay);
    qs_qp qp = { L->ws, L->wsinv, L->wzp, -L->wqmax, L->wqmax, 0, QS_R_HALF_EVEN, 0 };
    qs_errstats st;
    qs_k()->fakequant(L->weff, &lay, &qp, L->wfq, NULL, &st, NULL);
}

static void fq_acts(nn_net *net, int l, int64_t B)
{
    nn_layer *L = &net->L[l];
    qs_nn_qmodel *q = net->q;
    int64_t n = B * L->in;
    if (net->observe && !q->lsq) {
        float mn, mx;
        qs_k()->minmax(L->xin, n, &mn, &mx);
        q->amin[l] += NN_OBS_MOMENTUM * (mn - q->amin[l]);
        q->amax[l] += NN_OBS_MOMENTUM * (mx - q->amax[l]);
        /* out of memory keeps the previous parameters */
        (void)qs_nn_affine_params(q->amin[l], q->amax[l], q->cfg.abits, &q->ascale[l],
                                  &q->azp[l]);
    }
    float inv = 1.0f / q->ascale[l];
    qs_layout lay = { QS_G_TENSOR, 1, n, 1, 1 };
    qs_qp qp = { &q->ascale[l], &inv, &q->azp[l], 0, L->aqmax, 0, QS_R_HALF_EVEN, 0 };
    qs_errstats st;
    qs_k()->fakequant(L->xin, &lay, &qp, L->xq, NULL, &st, NULL);
}

/* The bias on the accumulator grid S_in·S_w (what the integer model adds as int32). The
 * codes can exceed 8 bits, so this uses the plain kernel, whose codes are int32 inside. */
static void fq_bias(nn_net *net, int l)
{
    nn_layer *L = &net->L[l];
    for (int j = 0; j < L->out; j++) {
        L->bs[j] = fmaxf(net->q->ascale[l] * L->ws[L->nws == 1 ? 0 : j], FLT_MIN);
        L->bsinv[j] = 1.0f / L->bs[j];
    }
    int64_t shape[1] = { L->out };
    qs_layout lay;
    qs_layout_make(1, shape, QS_G_CHANNEL, 0, 0, &lay);
    qs_qp qp = { L->bs, L->bsinv, L->bzp, -NN_BIAS_QMAX, NN_BIAS_QMAX, 0, QS_R_HALF_EVEN, 0 };
    qs_errstats st;
    qs_k_ref()->fakequant(L->b, &lay, &qp, L->bfq, NULL, &st, NULL);
}

/* ======================================================================================
 * Forward / loss / backward
 * ====================================================================================== */

void nn_forward(nn_net *net, const float *x, int64_t B)
{
    const qs_kernels *k = qs_k();
    memcpy(net->L[0].xin, x, (size_t)(B * net->L[0].in) * sizeof(float));
    for (int l = 0; l < net->nl; l++) {
        nn_layer *L = &net->L[l];
        if (L->rank) {      /* weff = W0 + (alpha/r)·B·A */
            memcpy(L->weff, L->w, (size_t)L->in * L->out * sizeof(float));
            k->sgemm(0, 0, L->out, L->in, L->rank, L->lscale, L->lb, L->rank, L->la, L->in,
                     1.0f, L->weff, L->in);
        }
        if (L->wq) fq_weights(net, L);
        const float *bias = L->b;
        if (L->aq) {
            fq_acts(net, l, B);
            if (L->wq) {
                fq_bias(net, l);
                bias = L->bfq;
            }
        }
        k->sgemm(0, 1, B, L->out, L->in, 1.0f, L->xq, L->in, L->wfq, L->in, 0.0f, L->z,
                 L->out);
        for (int64_t i = 0; i < B; i++) {
            float *z = L->z + i * L->out;
            for (int j = 0; j < L->out; j++) z[j] += bias[j];
        }
        if (l + 1 < net->nl) {          /* ReLU into the next layer's input */
            float *h = net->L[l + 1].xin;
            for (int64_t i = 0; i < B * L->out; i++) h[i] = L->z[i] > 0.0f ? L->z[i] : 0.0f;
        }
    }
}

double nn_loss(nn_net *net, const uint8_t *y, int64_t B)
{
    nn_layer *L = &net->L[net->nl - 1];
    int C = L->out;
    double loss = 0.0;
    for (int64_t i = 0; i < B; i++) {
        const float *z = L->z + i * C;
        float *dz = L->dz + i * C;
        float mx = z[0];
        for (int c = 1; c < C; c++) mx = fmaxf(mx, z[c]);
        double sum = 0.0;
        for (int c = 0; c < C; c++) {
            double e = exp((double)(z[c] - mx));
            dz[c] = (float)e;               /* keep e^(z - max) for the softmax */
            sum += e;
        }
        loss += log(sum) + mx - z[y[i]];
        double inv = 1.0 / sum, invb = 1.0 / (double)B;
        for (int c = 0; c < C; c++) dz[c] = (float)((dz[c] * inv - (c == y[i])) * invb);
    }
    return loss;
}

/* STE for a fake-quantized array: g *= pass-mask; returns Σ g_in · dy/ds for LSQ
 * (dy/ds = (y - x)/s where not clipped, (code - zp) = y/s where clipped). The mask follows
 * PyTorch's FakeQuantize: the gradient passes where qmin <= zp + round(x/s) <= qmax, i.e.
 * where the rounding error is at most half a step. */
static double ste(const float *x, const float *y, float *g, int64_t n, float s)
{
    double ds = 0.0;
    float half = 0.5f * s * NN_STE_SLACK, inv = 1.0f / s;
    for (int64_t i = 0; i < n; i++) {
        float e = y[i] - x[i];
        if (fabsf(e) <= half) {
            ds += (double)g[i] * e * inv;
        } else {
            ds += (double)g[i] * y[i] * inv;
            g[i] = 0.0f;
        }
    }
    return ds;
}

void nn_backward(nn_net *net, int64_t B)
{
    const qs_kernels *k = qs_k();
    int lsq = (net->flags & NN_LSQ) && net->q;
    for (int l = net->nl - 1; l >= 0; l--) {
        nn_layer *L = &net->L[l];
        /* bias */
        memset(L->gb, 0, (size_t)L->out * sizeof(float));
        for (int64_t i = 0; i < B; i++)
            for (int j = 0; j < L->out; j++) L->gb[j] += L->dz[i * L->out + j];
        /* gradient w.r.t. the GEMM's weights, then the STE back to weff */
        k->sgemm(1, 0, L->out, L->in, B, 1.0f, L->dz, L->out, L->xq, L->in, 0.0f, L->dweff,
                 L->in);
        /* gradient w.r.t. the GEMM's input (needed below layer 0, or for LSQ there) */
        int need_dx = l > 0 || (lsq && L->aq);
        if (need_dx)
            k->sgemm(0, 0, B, L->in, L->out, 1.0f, L->dz, L->out, L->wfq, L->in, 0.0f,
                     net->dx, L->in);
        if (L->wq) {
            for (int j = 0; j < L->nws; j++) {
                int64_t per = (int64_t)L->in * L->out / L->nws;
                double ds = ste(L->weff + j * per, L->wfq + j * per, L->dweff + j * per, per,
                                L->ws[j]);
                L->gws[j] = (float)(ds / sqrt((double)per * L->wqmax));
            }
        }
        if (L->rank) {      /* dB = s·dW·Aᵀ, dA = s·Bᵀ·dW */
            k->sgemm(0, 1, L->out, L->rank, L->in, L->lscale, L->dweff, L->in, L->la, L->in,
                     0.0f, L->glb, L->rank);
            k->sgemm(1, 0, L->rank, L->in, L->out, L->lscale, L->lb, L->rank, L->dweff,
                     L->in, 0.0f, L->gla, L->in);
        }
        if (!need_dx) continue;
        if (L->aq) {
            double ds = ste(L->xin, L->xq, net->dx, B * L->in, net->q->ascale[l]);
            int qp = L->aqmax - net->q->azp[l];
            L->gas = (float)(ds / sqrt((double)L->in * (qp > 0 ? qp : 1)));
        }
        if (l == 0) break;
        /* ReLU */
        nn_layer *P = &net->L[l - 1];
        for (int64_t i = 0; i < B * L->in; i++)
            P->dz[i] = P->z[i] > 0.0f ? net->dx[i] : 0.0f;
    }
}

void nn_step(nn_net *net, qs_nn_opt opt, double lr)
{
    net->step++;
    /* PyTorch's Adam: step = lr/(1-b1^t) · m / (sqrt(v)/sqrt(1-b2^t) + eps), in float32 */
    const float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
    const float a = (float)(lr / (1.0 - pow(0.9, (double)net->step)));
    const float ic2 = (float)(1.0 / sqrt(1.0 - pow(0.999, (double)net->step)));
    const float lrf = (float)lr;
    for (int i = 0; i < net->np; i++) {
        nn_param *p = &net->p[i];
        float *restrict v = p->v, *restrict m1 = p->m1, *restrict m2 = p->m2;
        const float *restrict g = p->g;
        if (opt == QS_NN_ADAM) {
            int64_t e = 0;
#if defined(__SSE2__)
            /* the same float32 operations, four at a time (SSE2 is baseline on x86-64;
             * sqrt and division are correctly rounded, so results equal the scalar loop) */
            const __m128 vb1 = _mm_set1_ps(b1), vb2 = _mm_set1_ps(b2);
            const __m128 vc1 = _mm_set1_ps(1.0f - b1), vc2 = _mm_set1_ps(1.0f - b2);
            const __m128 va = _mm_set1_ps(a), vic2 = _mm_set1_ps(ic2), veps = _mm_set1_ps(eps);
            for (; e + 4 <= p->n; e += 4) {
                __m128 gg = _mm_loadu_ps(g + e);
                __m128 m = _mm_add_ps(_mm_mul_ps(vb1, _mm_loadu_ps(m1 + e)), _mm_mul_ps(vc1, gg));
                __m128 q = _mm_add_ps(_mm_mul_ps(vb2, _mm_loadu_ps(m2 + e)),
                                      _mm_mul_ps(_mm_mul_ps(vc2, gg), gg));
                __m128 d = _mm_add_ps(_mm_mul_ps(_mm_sqrt_ps(q), vic2), veps);
                __m128 w = _mm_sub_ps(_mm_loadu_ps(v + e), _mm_div_ps(_mm_mul_ps(va, m), d));
                _mm_storeu_ps(m1 + e, m);
                _mm_storeu_ps(m2 + e, q);
                _mm_storeu_ps(v + e, w);
            }
#endif
            for (; e < p->n; e++) {
                m1[e] = b1 * m1[e] + (1.0f - b1) * g[e];
                m2[e] = b2 * m2[e] + (1.0f - b2) * g[e] * g[e];
                v[e] -= a * m1[e] / (sqrtf(m2[e]) * ic2 + eps);
            }
        } else {
            for (int64_t e = 0; e < p->n; e++) {
                m1[e] = 0.9f * m1[e] + g[e];
                v[e] -= lrf * m1[e];
            }
        }
        if (p->lo > -FLT_MAX)
            for (int64_t e = 0; e < p->n; e++)
                if (v[e] < p->lo) v[e] = p->lo;
    }
}

/* ======================================================================================
 * Evaluation and the epoch loop
 * ====================================================================================== */

void nn_predict(nn_net *net, const float *x, int64_t n, uint8_t *pred)
{
    int obs = net->observe;
    net->observe = 0;
    const nn_layer *L = &net->L[net->nl - 1];
    int in = net->L[0].in;
    for (int64_t i0 = 0; i0 < n; i0 += net->maxb) {
        int64_t B = n - i0 < net->maxb ? n - i0 : net->maxb;
        nn_forward(net, x + i0 * in, B);
        for (int64_t i = 0; i < B; i++)
            pred[i0 + i] = (uint8_t)nn_argmax(L->z + i * L->out, L->out);
    }
    net->observe = obs;
}

double nn_accuracy(nn_net *net, const qs_nn_set *s)
{
    if (s->n == 0) return 0.0;
    uint8_t *pred = malloc((size_t)s->n);
    if (!pred) return NAN;
    nn_predict(net, s->x, s->n, pred);
    int64_t ok = 0;
    for (int64_t i = 0; i < s->n; i++) ok += pred[i] == s->y[i];
    free(pred);
    return (double)ok / (double)s->n;
}

void qs_nn_curve_fini(qs_nn_curve *c)
{
    if (!c) return;
    free(c->loss);
    free(c->acc);
    memset(c, 0, sizeof *c);
}

int nn_fit(const qs_progress *pr, nn_net *net, const qs_nn_set *tr,
           const qs_nn_set *te, const qs_nn_train_cfg *cfg, qs_nn_curve *curve, const char *label,
           qs_err *err)
{
    if (cfg->label) label = cfg->label;
    int64_t n = tr->n, bs = cfg->batch < net->maxb ? cfg->batch : net->maxb;
    int64_t nb = (n + bs - 1) / bs;
    int64_t *idx = malloc((size_t)(n > 0 ? n : 1) * sizeof *idx);
    float *xb = qs_alloc_aligned((size_t)bs * tr->nfeat * sizeof(float));
    uint8_t *yb = malloc((size_t)bs);
    int rc = QS_ERR;
    int oom = !idx || !xb || !yb;
    if (curve) {
        qs_nn_curve_fini(curve);
        curve->loss = calloc((size_t)(cfg->epochs > 0 ? cfg->epochs : 1), sizeof(double));
        curve->acc = calloc((size_t)(cfg->epochs > 0 ? cfg->epochs : 1), sizeof(double));
        oom |= !curve->loss || !curve->acc;
    }
    if (oom) {
        qs_err_set(err, "%s: out of memory", label);
        goto done;
    }
    for (int64_t i = 0; i < n; i++) idx[i] = i;
    nn_rng rng = { cfg->seed };
    for (int ep = 0; ep < cfg->epochs; ep++) {
        if (net->q && cfg->freeze >= 0 && ep >= cfg->freeze) net->observe = 0;
        nn_shuffle(&rng, idx, n);
        double loss = 0.0;
        for (int64_t b = 0; b < nb; b++) {
            int64_t i0 = b * bs, B = n - i0 < bs ? n - i0 : bs;
            for (int64_t i = 0; i < B; i++) {
                memcpy(xb + i * tr->nfeat, tr->x + idx[i0 + i] * tr->nfeat,
                       (size_t)tr->nfeat * sizeof(float));
                yb[i] = tr->y[idx[i0 + i]];
            }
            nn_forward(net, xb, B);
            loss += nn_loss(net, yb, B);
            nn_backward(net, B);
            nn_step(net, cfg->opt, cfg->lr);
            if (nn_progress(pr, label, (double)ep * nb + b + 1,
                                    (double)cfg->epochs * nb) != QS_OK) {
                rc = QS_CANCELLED;
                qs_err_set(err, "%s: cancelled in epoch %d", label, ep + 1);
                goto done;
            }
        }
        if (curve) {
            curve->loss[ep] = n ? loss / (double)n : 0.0;
            curve->acc[ep] = nn_accuracy(net, te);
            curve->epochs = ep + 1;
        }
    }
    rc = QS_OK;
done:
    free(idx);
    qs_free_aligned(xb);
    free(yb);
    return rc;
}
