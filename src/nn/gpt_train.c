/* gpt_train.c — training of the GPT lab's model: AdamW over windows sampled from a corpus,
 * full training, QAT (per-group fake-quantized linear weights, straight-through estimator),
 * LoRA and QLoRA (NF4 + double-quantized frozen base) adapters. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpt_priv.h"
#include "nn_priv.h"
#include "qscope/kernels.h"
#include "qscope/quant.h"
#include "qscope/tensor.h"

void qs_gpt_train_res_fini(qs_gpt_train_res *r)
{
    free(r->loss);
    memset(r, 0, sizeof *r);
}

static float *falloc(int64_t n, int64_t *bytes)
{
    float *p = qs_alloc_aligned((size_t)(n > 0 ? n : 1) * sizeof(float));
    if (p) memset(p, 0, (size_t)(n > 0 ? n : 1) * sizeof(float));
    *bytes += n * 4;
    return p;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* AdamW on v[0..n) (betas 0.9 / 0.95, eps 1e-8), decay applied when wd > 0. */
static void adamw(float *v, const float *g, float *m1, float *m2, int64_t n, double lr,
                  double wd, int64_t t, float gscale)
{
    const double b1 = 0.9, b2 = 0.95;
    float c1 = (float)(1.0 / (1.0 - pow(b1, (double)t))), c2 = (float)(1.0 / (1.0 - pow(b2, (double)t)));
    float flr = (float)lr, fwd = (float)(lr * wd);
    for (int64_t i = 0; i < n; i++) {
        float gi = g[i] * gscale;
        m1[i] = 0.9f * m1[i] + 0.1f * gi;
        m2[i] = 0.95f * m2[i] + 0.05f * gi * gi;
        float mh = m1[i] * c1, vh = m2[i] * c2;
        v[i] -= flr * mh / (sqrtf(vh) + 1e-8f) + fwd * v[i];
    }
}

static double lr_at(const qs_gpt_train_cfg *c, int step)
{
    if (c->warmup > 0 && step < c->warmup) return c->lr * (step + 1) / c->warmup;
    int span = c->steps - c->warmup;
    double t = span > 0 ? (double)(step - c->warmup) / span : 1.0;
    if (t > 1) t = 1;
    return c->lr * (0.1 + 0.9 * 0.5 * (1.0 + cos(3.141592653589793 * t)));
}

/* Quantizes the linear weights of dst (copied from src) with words (QAT / QLoRA base). */
static int quant_linears(qs_gpt *dst, const qs_gpt *src, const char *words, double *bits,
                         qs_err *err)
{
    memcpy(dst->p, src->p, (size_t)src->n * sizeof(float));
    return qs_gpt_quantize(dst, words, 0, bits, err);
}

/* The LoRA adapters: per block, A [r, in] and B [out, r] for qkv, proj, fc1, fc2. */
typedef struct lora {
    int r;
    float s;                            /* alpha / r */
    float *A[4 * QS_GPT_MAX_LAYERS], *Bm[4 * QS_GPT_MAX_LAYERS];
    float *gA[4 * QS_GPT_MAX_LAYERS], *gB[4 * QS_GPT_MAX_LAYERS];
    int64_t n;                          /* adapter parameters */
} lora;

/* W = W0 + s·B·A for every adapted linear of wm (W0 from base). */
static void lora_merge(const lora *lo, const qs_gpt *base, qs_gpt *wm, int nlin)
{
    for (int i = 0; i < nlin; i++) {
        qs_gpt_linear L0, L;
        qs_gpt_linear_get(base, i, &L0);
        qs_gpt_linear_get(wm, i, &L);
        memcpy(L.W, L0.W, (size_t)L.out * L.in * sizeof(float));
        qs_k()->sgemm(0, 0, L.out, L.in, lo->r, lo->s, lo->Bm[i], lo->r, lo->A[i], L.in, 1.0f,
                      L.W, L.in);
    }
}

int qs_gpt_train(qs_session *s, qs_gpt *m, const uint8_t *tok, int64_t ntok,
                 const qs_gpt_train_cfg *cfg, qs_gpt_train_res *res, qs_err *err)
{
    memset(res, 0, sizeof *res);
    int T = m->c.ctx, B = cfg->batch;
    if (ntok < T + 1)
        return qs_err_set(err, "gpt train: the corpus has %lld characters, fewer than one "
                          "window of %d + 1", (long long)ntok, T);
    if (cfg->steps < 1 || B < 1)
        return qs_err_set(err, "gpt train: steps and batch must be at least 1");
    double t0 = now_s();
    int64_t bytes = m->n * 4;
    int lora_mode = cfg->mode == QS_GPT_LORA || cfg->mode == QS_GPT_QLORA;
    int nlin = 4 * m->c.layers;
    gpt_buf b;
    if (gpt_buf_init(&b, &m->c, B, T, 1, err) != QS_OK) return QS_ERR;
    bytes += b.bytes;
    float *g = falloc(m->n, &bytes);
    uint8_t *win = malloc((size_t)B * T);
    qs_gpt *wm = NULL, *base = NULL;
    float *m1 = NULL, *m2 = NULL, *ad = NULL, *gad = NULL;
    lora lo;
    memset(&lo, 0, sizeof lo);
    int rc = QS_ERR;
    res->loss = calloc((size_t)cfg->steps, sizeof(double));
    if (!g || !win || !res->loss) {
        qs_err_set(err, "gpt train: out of memory");
        goto done;
    }
    nn_rng rng = { cfg->seed ^ 0x7261696eull };
    double base_bits = 32;
    if (cfg->mode == QS_GPT_FULL) {
        wm = m;
    } else {
        wm = qs_gpt_clone(m, err);
        if (!wm) goto done;
        bytes += m->n * 4;
    }
    if (cfg->mode == QS_GPT_QLORA) {
        base = qs_gpt_clone(m, err);
        if (!base) goto done;
        bytes += m->n * 4;
        if (quant_linears(base, m, "nf4 dq", &base_bits, err) != QS_OK) goto done;
    } else if (lora_mode) {
        base = m;
    }
    int64_t ntrain = m->n;
    if (lora_mode) {
        if (cfg->rank < 1 || cfg->rank > m->c.d)
            {
                qs_err_set(err, "gpt lora: rank=%d is outside 1..%d", cfg->rank, m->c.d);
                goto done;
            }
        lo.r = cfg->rank;
        lo.s = (float)(cfg->alpha / cfg->rank);
        for (int i = 0; i < nlin; i++) {
            qs_gpt_linear L;
            qs_gpt_linear_get(m, i, &L);
            lo.n += (int64_t)lo.r * (L.in + L.out);
        }
        ad = falloc(lo.n, &bytes);
        gad = falloc(lo.n, &bytes);
        if (!ad || !gad) {
            qs_err_set(err, "gpt train: out of memory");
            goto done;
        }
        nn_rng lr_ = { cfg->seed ^ 0x10a7a5eedull };
        float *p = ad, *gp = gad;
        for (int i = 0; i < nlin; i++) {
            qs_gpt_linear L;
            qs_gpt_linear_get(m, i, &L);
            lo.A[i] = p; lo.gA[i] = gp;
            p += (int64_t)lo.r * L.in; gp += (int64_t)lo.r * L.in;
            lo.Bm[i] = p; lo.gB[i] = gp;
            p += (int64_t)lo.r * L.out; gp += (int64_t)lo.r * L.out;
            /* A ~ N(0, 1/in) as the MLP lab; B = 0 so training starts at the base model */
            double sd = 1.0 / sqrt((double)L.in);
            for (int64_t j = 0; j < (int64_t)lo.r * L.in; j++)
                lo.A[i][j] = (float)(nn_rng_normal(&lr_) * sd);
        }
        ntrain = lo.n;
    }
    m1 = falloc(ntrain, &bytes);
    m2 = falloc(ntrain, &bytes);
    if (!m1 || !m2) {
        qs_err_set(err, "gpt train: out of memory");
        goto done;
    }
    int64_t woff[4 + 4 * QS_GPT_MAX_LAYERS], wlen[4 + 4 * QS_GPT_MAX_LAYERS];
    int nw = gpt_weight_ranges(m, woff, wlen, 4 + 4 * QS_GPT_MAX_LAYERS);
    char qwords[64];
    snprintf(qwords, sizeof qwords, "int%d sym per-group size=%d", cfg->qbits, cfg->qgroup);
    res->trainable = ntrain;
    const char *label = cfg->label ? cfg->label : "gpt train";
    int step = 0;
    for (; step < cfg->steps; step++) {
        for (int bi = 0; bi < B; bi++) {
            int64_t st = (int64_t)(nn_rng_next(&rng) % (uint64_t)(ntok - T + 1));
            memcpy(win + (int64_t)bi * T, tok + st, (size_t)T);
        }
        if (cfg->mode == QS_GPT_QAT &&
            quant_linears(wm, m, qwords, NULL, err) != QS_OK)
            goto done;
        if (lora_mode) lora_merge(&lo, base, wm, nlin);
        gpt_forward(wm, NULL, win, &b, NULL, NULL);
        double loss = gpt_loss(&b, win);
        res->loss[step] = loss;
        qs_gpt_ptrs gp;
        memset(g, 0, (size_t)m->n * sizeof(float));
        qs_gpt_map(&m->c, g, &gp);
        gpt_backward(wm, win, &b, &gp);
        double lr = lr_at(cfg, step);
        if (lora_mode) {
            for (int i = 0; i < nlin; i++) {
                qs_gpt_linear L, LG;
                qs_gpt_linear_get(m, i, &L);
                /* the gradient of linear i's weight sits where the weight sits in m->p */
                float *dW = g + (L.W - m->p);
                (void)LG;
                qs_k()->sgemm(1, 0, lo.r, L.in, L.out, lo.s, lo.Bm[i], lo.r, dW, L.in, 0.0f,
                              lo.gA[i], L.in);
                qs_k()->sgemm(0, 1, L.out, lo.r, L.in, lo.s, dW, L.in, lo.A[i], L.in, 0.0f,
                              lo.gB[i], lo.r);
            }
        }
        float *gg = lora_mode ? gad : g;
        double nrm = 0;
        for (int64_t i = 0; i < ntrain; i++) nrm += (double)gg[i] * gg[i];
        nrm = sqrt(nrm);
        float gs = cfg->clip > 0 && nrm > cfg->clip ? (float)(cfg->clip / nrm) : 1.0f;
        if (lora_mode) {
            adamw(ad, gad, m1, m2, lo.n, lr, 0.0, step + 1, gs);
        } else {
            /* weight decay on the 2-D weights only (nanoGPT) */
            int64_t pos = 0;
            for (int k = 0; k <= nw; k++) {
                int64_t end = k < nw ? woff[k] : m->n;
                if (end > pos) adamw(m->p + pos, g + pos, m1 + pos, m2 + pos, end - pos, lr, 0.0,
                                     step + 1, gs);
                if (k < nw) {
                    adamw(m->p + woff[k], g + woff[k], m1 + woff[k], m2 + woff[k], wlen[k], lr,
                          cfg->wd, step + 1, gs);
                    pos = woff[k] + wlen[k];
                }
            }
        }
        if (!isfinite(loss)) {
            qs_err_set(err, "gpt train: the loss became %g at step %d (lower lr=)", loss, step + 1);
            goto done;
        }
        if (nn_progress(s, label, step + 1, cfg->steps) != QS_OK) {
            step++;
            rc = QS_CANCELLED;
            break;
        }
    }
    res->steps = step;
    if (lora_mode) {
        lora_merge(&lo, base, wm, nlin);
        memcpy(m->p, wm->p, (size_t)m->n * sizeof(float));
    }
    /* stored weights: fp32, or the NF4 base of the linears + fp32 rest + adapters */
    if (cfg->mode == QS_GPT_QLORA) {
        int64_t nlw = 0;
        for (int i = 0; i < nlin; i++) {
            qs_gpt_linear L;
            qs_gpt_linear_get(m, i, &L);
            nlw += (int64_t)L.in * L.out;
        }
        res->weight_bytes = (int64_t)llround(nlw * base_bits / 8.0) + (m->n - nlw) * 4 + lo.n * 4;
    } else {
        res->weight_bytes = m->n * 4 + (lora_mode ? lo.n * 4 : 0);
    }
    if (rc != QS_CANCELLED) rc = QS_OK;
    else qs_err_set(err, "%s: cancelled after %d of %d steps", label, step, cfg->steps);
done:
    res->peak_bytes = bytes;
    res->seconds = now_s() - t0;
    if (wm && wm != m) qs_gpt_free(wm);
    if (base && base != m) qs_gpt_free(base);
    qs_free_aligned(g);
    qs_free_aligned(m1);
    qs_free_aligned(m2);
    qs_free_aligned(ad);
    qs_free_aligned(gad);
    free(win);
    gpt_buf_fini(&b);
    return rc;
}
