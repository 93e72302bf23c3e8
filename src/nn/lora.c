/* lora.c — fine-tuning the lab's MLP on a shifted task three ways: all weights, LoRA adapters
 * (W0 + (alpha/r)·B·A) and QLoRA (the frozen W0 stored as NF4 with double-quantized absmax
 * constants, adapters in fp32). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_priv.h"
#include "qscope/kernels.h"
#include "qscope/quant.h"
#include "qscope/tensor.h"

#define NF4_BLOCK 64        /* weights per absmax constant (bitsandbytes default) */
#define DQ_BLOCK 256        /* absmax constants per second-level scale */

/* Stores w[0..n) as NF4 with double quantization and writes the dequantized weights into y.
 * Returns the stored bytes (packed codes + 8-bit absmax codes + fp32 second-level scales +
 * the fp32 mean), or -1 when out of memory. */
static int64_t nf4_dq_roundtrip(const float *w, int64_t n, float *y)
{
    int64_t nb = (n + NF4_BLOCK - 1) / NF4_BLOCK, n2 = (nb + DQ_BLOCK - 1) / DQ_BLOCK;
    uint8_t *packed = malloc((size_t)(n + 1) / 2);
    float *absmax = malloc((size_t)nb * sizeof(float));
    float map[256];
    if (!packed || !absmax) {
        free(packed);
        free(absmax);
        return -1;
    }
    const qs_kernels *k = qs_k();
    k->cb4_encode(w, n, NF4_BLOCK, qs_nf4_table, packed, absmax);
    /* double quantization (bitsandbytes): subtract the mean, then 8-bit dynamic-map codes in
     * blocks of 256 constants, each block with its own fp32 absmax */
    double mean = 0.0;
    for (int64_t b = 0; b < nb; b++) mean += absmax[b];
    mean /= (double)nb;
    qs_dynamic_map(map);
    for (int64_t b2 = 0; b2 < n2; b2++) {
        int64_t e0 = b2 * DQ_BLOCK, e1 = e0 + DQ_BLOCK < nb ? e0 + DQ_BLOCK : nb;
        float s2 = 0.0f;
        for (int64_t e = e0; e < e1; e++) s2 = fmaxf(s2, fabsf(absmax[e] - (float)mean));
        for (int64_t e = e0; e < e1; e++) {
            float v = s2 > 0.0f ? (absmax[e] - (float)mean) / s2 : 0.0f;
            absmax[e] = map[qs_dynamic_map_index(map, v)] * s2 + (float)mean;
        }
    }
    k->cb4_decode(packed, absmax, n, NF4_BLOCK, qs_nf4_table, y);
    free(packed);
    free(absmax);
    return (n + 1) / 2 + nb + 4 * n2 + 4;
}

int qs_nn_finetune(const qs_progress *pr, const qs_mlp *base, qs_nn_ft kind, int rank,
                   double alpha, const qs_nn_set *train, const qs_nn_set *test,
                   const qs_nn_train_cfg *cfg,
                   qs_nn_ft_result *res, qs_err *err)
{
    memset(res, 0, sizeof *res);
    if (kind != QS_NN_FT_FULL && (rank < 1 || rank > 1024))
        return qs_err_set(err, "lora: rank=%d out of range 1..1024", rank);
    qs_mlp *m = qs_mlp_clone(base, err);
    if (!m) return QS_ERR;
    int64_t params = qs_mlp_params(m), weights = 0, biases = 0;
    for (int l = 0; l < m->nl; l++) {
        weights += (int64_t)m->size[l] * m->size[l + 1];
        biases += m->size[l + 1];
    }
    int rc = QS_ERR;
    res->base_bits = 32.0;
    if (kind == QS_NN_FT_QLORA) {
        int64_t bytes = 0;
        double se = 0.0;
        for (int l = 0; l < m->nl; l++) {
            int64_t n = (int64_t)m->size[l] * m->size[l + 1];
            int64_t b = nf4_dq_roundtrip(base->w[l], n, m->w[l]);
            if (b < 0) {
                qs_err_set(err, "qlora: out of memory");
                goto done;
            }
            bytes += b;
            for (int64_t i = 0; i < n; i++) {
                double e = (double)m->w[l][i] - base->w[l][i];
                se += e * e;
            }
        }
        res->base_bits = 8.0 * (double)bytes / (double)weights;
        res->base_err = sqrt(se / (double)weights);
        res->weight_bytes = bytes + 4 * biases;
    } else {
        res->weight_bytes = 4 * params;
    }
    nn_net net;
    int flags = kind == QS_NN_FT_FULL ? NN_TRAIN_W : NN_TRAIN_LORA;
    if (nn_net_init(&net, m, NULL, flags, rank, alpha, cfg->seed, cfg->batch, err) != QS_OK)
        goto done;
    for (int i = 0; i < net.np; i++) res->trainable += net.p[i].n;
    res->frozen = params - (kind == QS_NN_FT_FULL ? params : 0);
    if (kind != QS_NN_FT_FULL) res->weight_bytes += 4 * res->trainable;
    res->train_bytes = 12 * res->trainable;   /* gradient + two Adam moments, fp32 */
    const char *label = kind == QS_NN_FT_FULL ? "full fine-tune" : kind == QS_NN_FT_LORA
                                                                       ? "lora" : "qlora";
    rc = nn_fit(pr, &net, train, test, cfg, &res->curve, label, err);
    if (rc == QS_OK) res->acc = nn_accuracy(&net, test);
    nn_net_fini(&net);
done:
    qs_mlp_free(m);
    if (rc != QS_OK) qs_nn_curve_fini(&res->curve);
    return rc;
}
