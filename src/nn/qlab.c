/* qlab.c — quantizing the lab's MLP: post-training quantization (weight scales from absmax,
 * activation ranges from the engine's calibrators), quantization-aware training, and the
 * integer-only model (u8 × s8 → s32 GEMM, int32 bias, fixed-point requantization). */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_priv.h"
#include "qscope/calib.h"
#include "qscope/kernels.h"
#include "qscope/quant.h"
#include "qscope/tensor.h"

#define NN_SCALE_MIN 1.1920929e-07f     /* PyTorch's smallest scale */
#define NN_BIAS_QMAX (1 << 24)          /* bias codes (as the fake-quant pass clamps them) */

int qs_nn_wqmax(int bits)
{
    return (1 << (bits - 1)) - 1;
}

/* The engine's scheme for the lab's activations: unsigned affine, PyTorch convention. */
static void act_scheme(int bits, qs_scheme *sc)
{
    memset(sc, 0, sizeof *sc);
    sc->kind = QS_Q_INT;
    sc->bits = bits;
    sc->is_signed = 0;
    sc->symmetric = 0;
    sc->gran = QS_G_TENSOR;
    sc->round = QS_R_HALF_EVEN;
    sc->conv = QS_CONV_TORCH;
}

int qs_nn_affine_params(float lo, float hi, int bits, float *scale, int32_t *zp)
{
    qs_scheme sc;
    qs_qparams qp;
    qs_layout lay = { QS_G_TENSOR, 1, 1, 1, 1 };
    act_scheme(bits, &sc);
    memset(&qp, 0, sizeof qp);
    if (qs_qparams_compute(&sc, &lay, &lo, &hi, NULL, &qp, NULL) != QS_OK) return QS_ERR;
    *scale = qp.scale[0];
    *zp = qp.zp[0];
    qs_qparams_fini(&qp);
    return QS_OK;
}

void qs_nn_qmodel_free(qs_nn_qmodel *q)
{
    if (!q) return;
    qs_mlp_free(q->m);
    for (int l = 0; l < QS_NN_MAX_LAYERS; l++) free(q->wscale[l]);
    free(q);
}

void qs_nn_qmodel_weight_scales(qs_nn_qmodel *q)
{
    int qmax = qs_nn_wqmax(q->cfg.wbits);
    for (int l = 0; l < q->m->nl; l++) {
        int out = q->m->size[l + 1], in = q->m->size[l];
        if (q->cfg.wgran == QS_G_CHANNEL) {
            int64_t shape[2] = { out, in };
            qs_layout lay;
            float *mn = malloc((size_t)out * 2 * sizeof(float));
            if (!mn) continue;
            qs_layout_make(2, shape, QS_G_CHANNEL, 0, 0, &lay);
            qs_k()->minmax_layout(q->m->w[l], &lay, mn, mn + out);
            for (int j = 0; j < out; j++)
                q->wscale[l][j] = fmaxf(fmaxf(fabsf(mn[j]), fabsf(mn[out + j])) / (float)qmax,
                                        NN_SCALE_MIN);
            free(mn);
        } else {
            float mn, mx;
            qs_k()->minmax(q->m->w[l], (int64_t)out * in, &mn, &mx);
            q->wscale[l][0] = fmaxf(fmaxf(fabsf(mn), fabsf(mx)) / (float)qmax, NN_SCALE_MIN);
        }
    }
}

/* The activation range of x[0..n) under the configured calibrator (engine calib.h), for an
 * unsigned affine grid of `bits`. x holds the calibration batches one after the other, each
 * of `batch` values (the last may be shorter): movavg averages their min/max batch by batch,
 * as a PyTorch observer called once per forward pass. */
static int act_range(const float *x, int64_t n, int batch, const qs_nn_qcfg *cfg, float *lo,
                     float *hi, qs_err *err)
{
    qs_scheme sc;
    act_scheme(cfg->abits, &sc);
    qs_calib c;
    qs_calib_default(&c);
    c.kind = cfg->calib;
    if (cfg->pct > 0) c.p = cfg->pct;
    c.batch = batch;
    qs_layout lay = { QS_G_TENSOR, 1, n, 1, 1 };
    qs_calib_result r;
    memset(&r, 0, sizeof r);
    if (qs_calib_run(x, &lay, &sc, &c, &r, err) != QS_OK) return QS_ERR;
    *lo = r.lo[0];
    *hi = r.hi[0];
    qs_calib_result_fini(&r);
    return QS_OK;
}

int qs_nn_ptq(const qs_progress *pr, const qs_mlp *m, const qs_nn_set *calib,
              const qs_nn_qcfg *cfg, qs_nn_qmodel **out, qs_err *err)
{
    if (cfg->wbits < 2 || cfg->wbits > 8)
        return qs_err_set(err, "ptq: bits=%d out of range 2..8", cfg->wbits);
    if (cfg->abits != 0 && (cfg->abits < 2 || cfg->abits > 8))
        return qs_err_set(err, "ptq: abits=%d out of range 2..8", cfg->abits);
    if (calib->n == 0) return qs_err_set(err, "ptq: the calibration set is empty");
    qs_nn_qmodel *q = calloc(1, sizeof *q);
    float *buf[QS_NN_MAX_LAYERS] = {0};
    nn_net net;
    int net_ok = 0, rc = QS_ERR;
    if (!q) return qs_err_set(err, "ptq: out of memory");
    q->cfg = *cfg;
    q->m = qs_mlp_clone(m, err);
    if (!q->m) goto done;
    for (int l = 0; l < m->nl; l++) {
        q->wscale[l] = malloc((size_t)(cfg->wgran == QS_G_CHANNEL ? m->size[l + 1] : 1) *
                              sizeof(float));
        if (!q->wscale[l]) {
            qs_err_set(err, "ptq: out of memory");
            goto done;
        }
    }
    qs_nn_qmodel_weight_scales(q);
    if (cfg->abits > 0) {
        int bs = cfg->batch > 0 ? cfg->batch : 32;
        int64_t nb = (calib->n + bs - 1) / bs;
        if (cfg->batches > 0 && cfg->batches < nb) nb = cfg->batches;
        int64_t ncal = nb * bs < calib->n ? nb * bs : calib->n;
        /* fp32 forward over the calibration batches, keeping every layer's input */
        if (nn_net_init(&net, q->m, NULL, 0, 0, 0, 0, bs, err) != QS_OK) goto done;
        net_ok = 1;
        for (int l = 0; l < m->nl; l++) {
            buf[l] = qs_alloc_aligned((size_t)ncal * m->size[l] * sizeof(float));
            if (!buf[l]) {
                qs_err_set(err, "ptq: out of memory");
                goto done;
            }
        }
        for (int64_t b = 0; b < nb; b++) {
            int64_t i0 = b * bs, B = ncal - i0 < bs ? ncal - i0 : bs;
            nn_forward(&net, calib->x + i0 * calib->nfeat, B);
            for (int l = 0; l < m->nl; l++)
                memcpy(buf[l] + i0 * m->size[l], net.L[l].xin,
                       (size_t)(B * m->size[l]) * sizeof(float));
            if (nn_progress(pr, "calibrate", (double)(b + 1), (double)nb) != QS_OK) {
                rc = QS_CANCELLED;
                qs_err_set(err, "ptq: cancelled during calibration");
                goto done;
            }
        }
        for (int l = 0; l < m->nl; l++) {
            if (act_range(buf[l], ncal * m->size[l], bs * m->size[l], cfg, &q->amin[l],
                          &q->amax[l], err) != QS_OK)
                goto done;
            if (qs_nn_affine_params(q->amin[l], q->amax[l], cfg->abits, &q->ascale[l],
                                    &q->azp[l]) != QS_OK) {
                qs_err_set(err, "ptq: out of memory");
                goto done;
            }
        }
    }
    *out = q;
    q = NULL;
    rc = QS_OK;
done:
    if (net_ok) nn_net_fini(&net);
    for (int l = 0; l < QS_NN_MAX_LAYERS; l++) qs_free_aligned(buf[l]);
    qs_nn_qmodel_free(q);
    return rc;
}

int qs_nn_qat(const qs_progress *pr, qs_nn_qmodel *q, const qs_nn_set *train,
              const qs_nn_set *test, const qs_nn_train_cfg *cfg, qs_nn_curve *curve, qs_err *err)
{
    nn_net net;
    int flags = NN_TRAIN_W | NN_QUANT | (cfg->lsq ? NN_LSQ : 0);
    q->lsq = cfg->lsq;
    if (nn_net_init(&net, q->m, q, flags, 0, 0, cfg->seed, cfg->batch, err) != QS_OK)
        return QS_ERR;
    net.observe = q->cfg.abits > 0;
    int rc = nn_fit(pr, &net, train, test, cfg, curve, "qat", err);
    nn_net_fini(&net);
    /* the scales of the final weights (the last step changed the weights after the last
     * forward pass computed them) */
    if (!q->lsq) qs_nn_qmodel_weight_scales(q);
    return rc;
}

/* ======================================================================================
 * Integer-only model
 * ====================================================================================== */

void qs_nn_imodel_free(qs_nn_imodel *im)
{
    if (!im) return;
    for (int l = 0; l < QS_NN_MAX_LAYERS; l++) {
        free(im->wq[l]);
        free(im->bq[l]);
        free(im->m0[l]);
        free(im->shift[l]);
        free(im->oscale[l]);
    }
    free(im);
}

int qs_nn_int_build(const qs_nn_qmodel *q, qs_nn_imodel **out, qs_err *err)
{
    const qs_mlp *m = q->m;
    if (q->cfg.abits < 2)
        return qs_err_set(err, "int: integer-only inference needs quantized activations "
                          "(abits=2..8)");
    qs_nn_imodel *im = calloc(1, sizeof *im);
    if (!im) return qs_err_set(err, "int: out of memory");
    im->nl = m->nl;
    memcpy(im->size, m->size, sizeof im->size);
    im->amax_code = (1 << q->cfg.abits) - 1;
    im->in_scale = q->ascale[0];
    for (int l = 0; l < m->nl; l++) im->zp[l] = q->azp[l];
    int wqmax = qs_nn_wqmax(q->cfg.wbits);
    for (int l = 0; l < m->nl; l++) {
        int out_ = m->size[l + 1], in = m->size[l], nws = q->cfg.wgran == QS_G_CHANNEL ? out_ : 1;
        im->wq[l] = malloc((size_t)out_ * in);
        im->bq[l] = malloc((size_t)out_ * sizeof(int32_t));
        im->m0[l] = malloc((size_t)out_ * sizeof(int32_t));
        im->shift[l] = malloc((size_t)out_ * sizeof(int));
        im->oscale[l] = malloc((size_t)out_ * sizeof(float));
        float *inv = malloc((size_t)nws * sizeof(float));
        int32_t *zp0 = calloc((size_t)nws, sizeof(int32_t));
        if (!im->wq[l] || !im->bq[l] || !im->m0[l] || !im->shift[l] || !im->oscale[l] || !inv ||
            !zp0) {
            free(inv);
            free(zp0);
            qs_nn_imodel_free(im);
            return qs_err_set(err, "int: out of memory");
        }
        /* weight codes through the quantize kernel, exactly as the fake-quant pass made them */
        for (int j = 0; j < nws; j++) inv[j] = 1.0f / q->wscale[l][j];
        int64_t shape[2] = { out_, in };
        qs_layout lay;
        qs_layout_make(2, shape, nws == 1 ? QS_G_TENSOR : QS_G_CHANNEL, 0, 0, &lay);
        qs_qp qp = { q->wscale[l], inv, zp0, -wqmax, wqmax, 0, QS_R_HALF_EVEN, 0 };
        qs_k()->quantize(m->w[l], &lay, &qp, (uint8_t *)im->wq[l]);
        free(inv);
        free(zp0);
        double sin = q->ascale[l];
        for (int j = 0; j < out_; j++) {
            /* the bias grid S_in·S_w and its rounding exactly as the fake-quant pass has
             * them (float32 product, multiply by the inverse, half to even) */
            float sb = fmaxf(q->ascale[l] * q->wscale[l][nws == 1 ? 0 : j], FLT_MIN);
            double sw = q->wscale[l][nws == 1 ? 0 : j], sacc = sin * sw;
            double bq = nearbyintf(m->b[l][j] * (1.0f / sb));
            im->bq[l][j] = (int32_t)(bq > NN_BIAS_QMAX ? NN_BIAS_QMAX
                                     : bq < -NN_BIAS_QMAX ? -NN_BIAS_QMAX : bq);
            im->oscale[l][j] = (float)sacc;
            if (l + 1 < m->nl)
                qs_requant_multiplier(sacc / q->ascale[l + 1], &im->m0[l][j], &im->shift[l][j]);
            else
                im->m0[l][j] = 0, im->shift[l][j] = 0;
        }
    }
    *out = im;
    return QS_OK;
}

int qs_nn_int_predict(const qs_nn_imodel *im, const float *x, int64_t n, uint8_t *pred,
                      qs_err *err)
{
    int maxw = 1;
    for (int l = 0; l <= im->nl; l++)
        if (im->size[l] > maxw) maxw = im->size[l];
    const int64_t bs = 256;
    uint8_t *a = malloc((size_t)bs * maxw), *b = malloc((size_t)bs * maxw);
    int32_t *acc = malloc((size_t)bs * maxw * sizeof(int32_t));
    if (!a || !b || !acc) {
        free(a); free(b); free(acc);
        return qs_err_set(err, "int: out of memory");
    }
    const qs_kernels *k = qs_k();
    for (int64_t i0 = 0; i0 < n; i0 += bs) {
        int64_t B = n - i0 < bs ? n - i0 : bs, in0 = im->size[0];
        /* quantize the input once: the only float step before the logits */
        float s = im->in_scale, inv = 1.0f / s;
        int32_t zp = im->zp[0];
        qs_layout lay = { QS_G_TENSOR, 1, B * in0, 1, 1 };
        qs_qp qp = { &s, &inv, &zp, 0, im->amax_code, 0, QS_R_HALF_EVEN, 0 };
        k->quantize(x + i0 * in0, &lay, &qp, a);
        for (int l = 0; l < im->nl; l++) {
            int in = im->size[l], out_ = im->size[l + 1];
            k->gemm_u8s8(B, out_, in, a, in, im->zp[l], im->wq[l], in, 0, acc, out_);
            if (l + 1 < im->nl) {
                /* requantize into the next layer's uint8 input; clamping at its zero point
                 * is the ReLU */
                int32_t z = im->zp[l + 1];
                qs_requant_rows(acc, B, out_, out_, im->bq[l], im->m0[l], im->shift[l], z,
                                z > 0 ? z : 0, im->amax_code, b);
                uint8_t *t = a; a = b; b = t;
            } else {
                for (int64_t i = 0; i < B; i++) {
                    int best = 0;
                    double bv = -INFINITY;
                    for (int j = 0; j < out_; j++) {
                        double v = ((double)acc[i * out_ + j] + im->bq[l][j]) * im->oscale[l][j];
                        if (v > bv) { bv = v; best = j; }
                    }
                    pred[i0 + i] = (uint8_t)best;
                }
            }
        }
    }
    free(a); free(b); free(acc);
    return QS_OK;
}
