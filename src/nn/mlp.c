/* mlp.c — the lab's MLP: creation with seeded torch-style initialisation, copies, fp32
 * training and evaluation entry points, and safetensors save / load. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_priv.h"
#include "qscope/io.h"
#include "qscope/tensor.h"

qs_mlp *qs_mlp_new(int nl, const int *size, uint64_t seed, qs_err *err)
{
    if (nl < 1 || nl > QS_NN_MAX_LAYERS) {
        qs_err_set(err, "mlp: %d layers (1..%d)", nl, QS_NN_MAX_LAYERS);
        return NULL;
    }
    for (int l = 0; l <= nl; l++)
        if (size[l] < 1 || size[l] > 65536) {
            qs_err_set(err, "mlp: layer width %d out of range 1..65536", size[l]);
            return NULL;
        }
    qs_mlp *m = calloc(1, sizeof *m);
    if (!m) {
        qs_err_set(err, "mlp: out of memory");
        return NULL;
    }
    m->nl = nl;
    memcpy(m->size, size, (size_t)(nl + 1) * sizeof *size);
    nn_rng r = { seed };
    for (int l = 0; l < nl; l++) {
        int64_t nw = (int64_t)size[l] * size[l + 1];
        m->w[l] = qs_alloc_aligned((size_t)nw * sizeof(float));
        m->b[l] = qs_alloc_aligned((size_t)size[l + 1] * sizeof(float));
        if (!m->w[l] || !m->b[l]) {
            qs_mlp_free(m);
            qs_err_set(err, "mlp: out of memory");
            return NULL;
        }
        double bound = 1.0 / sqrt((double)size[l]);   /* torch.nn.Linear's default */
        for (int64_t i = 0; i < nw; i++)
            m->w[l][i] = (float)((2.0 * nn_rng_unif(&r) - 1.0) * bound);
        for (int j = 0; j < size[l + 1]; j++)
            m->b[l][j] = (float)((2.0 * nn_rng_unif(&r) - 1.0) * bound);
    }
    return m;
}

qs_mlp *qs_mlp_clone(const qs_mlp *m, qs_err *err)
{
    qs_mlp *c = qs_mlp_new(m->nl, m->size, 0, err);
    if (!c) return NULL;
    for (int l = 0; l < m->nl; l++) {
        memcpy(c->w[l], m->w[l], (size_t)m->size[l] * m->size[l + 1] * sizeof(float));
        memcpy(c->b[l], m->b[l], (size_t)m->size[l + 1] * sizeof(float));
    }
    return c;
}

void qs_mlp_free(qs_mlp *m)
{
    if (!m) return;
    for (int l = 0; l < QS_NN_MAX_LAYERS; l++) {
        qs_free_aligned(m->w[l]);
        qs_free_aligned(m->b[l]);
    }
    free(m);
}

int64_t qs_mlp_params(const qs_mlp *m)
{
    int64_t n = 0;
    for (int l = 0; l < m->nl; l++) n += (int64_t)m->size[l] * m->size[l + 1] + m->size[l + 1];
    return n;
}

/* ---- training / evaluation entry points ----------------------------------------------- */

int qs_nn_train(const qs_progress *pr, qs_mlp *m, const qs_nn_set *train,
                const qs_nn_set *test, const qs_nn_train_cfg *cfg, qs_nn_curve *curve, qs_err *err)
{
    nn_net net;
    if (train->nfeat != m->size[0])
        return qs_err_set(err, "train: the data has %d features, the model %d inputs",
                          train->nfeat, m->size[0]);
    if (nn_net_init(&net, m, NULL, NN_TRAIN_W, 0, 0, cfg->seed, cfg->batch, err) != QS_OK)
        return QS_ERR;
    int rc = nn_fit(pr, &net, train, test, cfg, curve, "train", err);
    nn_net_fini(&net);
    return rc;
}

int qs_nn_predict(const qs_mlp *m, const qs_nn_qmodel *q, const float *x, int64_t n,
                  uint8_t *pred, qs_err *err)
{
    nn_net net;
    /* an evaluation net (no NN_TRAIN_W, observe = 0) only reads the weights and q */
    if (nn_net_init(&net, (qs_mlp *)m, (qs_nn_qmodel *)q, q ? NN_QUANT : 0, 0, 0, 0, 256,
                    err) != QS_OK)
        return QS_ERR;
    nn_predict(&net, x, n, pred);
    nn_net_fini(&net);
    return QS_OK;
}

double qs_nn_accuracy(const qs_mlp *m, const qs_nn_qmodel *q, const qs_nn_set *set)
{
    uint8_t *pred = malloc((size_t)(set->n > 0 ? set->n : 1));
    if (!pred || qs_nn_predict(m, q, set->x, set->n, pred, NULL) != QS_OK) {
        free(pred);
        return NAN;
    }
    int64_t ok = 0;
    for (int64_t i = 0; i < set->n; i++) ok += pred[i] == set->y[i];
    free(pred);
    return set->n ? (double)ok / (double)set->n : 0.0;
}

double qs_nn_loss_grad(const qs_mlp *m, qs_nn_qmodel *q, const float *x, const uint8_t *y,
                       int64_t n, float **gw, float **gb)
{
    nn_net net;
    /* the net does not step, so m's weights are only read */
    if (nn_net_init(&net, (qs_mlp *)m, q, NN_TRAIN_W | (q ? NN_QUANT : 0), 0, 0, 0, (int)n,
                    NULL) != QS_OK)
        return NAN;
    nn_forward(&net, x, n);
    double loss = nn_loss(&net, y, n) / (double)n;
    nn_backward(&net, n);
    for (int l = 0; l < m->nl; l++) {
        memcpy(gw[l], net.L[l].dweff, (size_t)m->size[l] * m->size[l + 1] * sizeof(float));
        memcpy(gb[l], net.L[l].gb, (size_t)m->size[l + 1] * sizeof(float));
    }
    nn_net_fini(&net);
    return loss;
}

/* ---- safetensors ----------------------------------------------------------------------- */

int qs_mlp_serialize(const qs_mlp *m, const char *note, unsigned char **out, size_t *len,
                     qs_err *err)
{
    json_t *meta = json_object();
    char sizes[256] = "", names[2 * QS_NN_MAX_LAYERS][32];
    int64_t shapes[2 * QS_NN_MAX_LAYERS][2];
    qs_io_st_tensor t[2 * QS_NN_MAX_LAYERS];
    size_t o = 0;
    for (int l = 0; l <= m->nl; l++)
        o += (size_t)snprintf(sizes + o, sizeof sizes - o, "%s%d", l ? "," : "", m->size[l]);
    json_object_set_new(meta, "format", json_string("qscope-mlp"));
    json_object_set_new(meta, "sizes", json_string(sizes));
    json_object_set_new(meta, "note", json_string(note ? note : ""));
    for (int l = 0; l < m->nl; l++) {
        snprintf(names[2 * l], sizeof names[0], "fc%d.weight", l + 1);
        snprintf(names[2 * l + 1], sizeof names[0], "fc%d.bias", l + 1);
        shapes[2 * l][0] = m->size[l + 1];
        shapes[2 * l][1] = m->size[l];
        shapes[2 * l + 1][0] = m->size[l + 1];
        t[2 * l] = (qs_io_st_tensor){names[2 * l], "F32", 2, shapes[2 * l], m->w[l]};
        t[2 * l + 1] = (qs_io_st_tensor){names[2 * l + 1], "F32", 1, shapes[2 * l + 1], m->b[l]};
    }
    int rc = qs_io_st_build(t, 2 * m->nl, meta, out, len, err);
    json_decref(meta);
    return rc;
}

int qs_mlp_save(const qs_mlp *m, const char *path, const char *note, qs_err *err)
{
    unsigned char *b = NULL;
    size_t n = 0;
    if (qs_mlp_serialize(m, note, &b, &n, err) != QS_OK) return qs_err_prefix(err, "lab save");
    int rc = qs_io_write_file("lab save", path, b, n, 1, err);
    free(b);
    return rc;
}

int qs_mlp_load(const char *path, qs_mlp **out, qs_err *err)
{
    qs_file *f = NULL;
    qs_tensor *tw[QS_NN_MAX_LAYERS] = {0}, *tb[QS_NN_MAX_LAYERS] = {0};
    qs_mlp *m = NULL;
    int nl = 0, size[QS_NN_MAX_LAYERS + 1], rc = QS_ERR;
    char name[32];
    if (qs_file_open(path, &f, err) != QS_OK) return QS_ERR;
    for (nl = 0; nl < QS_NN_MAX_LAYERS; nl++) {
        snprintf(name, sizeof name, "fc%d.weight", nl + 1);
        int iw = qs_file_find(f, name);
        if (iw < 0) break;
        snprintf(name, sizeof name, "fc%d.bias", nl + 1);
        int ib = qs_file_find(f, name);
        if (ib < 0) {
            qs_err_set(err, "%s: fc%d.weight has no fc%d.bias", path, nl + 1, nl + 1);
            goto done;
        }
        if (qs_file_read(f, iw, &tw[nl], err) != QS_OK ||
            qs_file_read(f, ib, &tb[nl], err) != QS_OK)
            goto done;
        const qs_tensor *w = tw[nl], *b = tb[nl];
        if (w->ndim != 2 || b->ndim != 1 || b->shape[0] != w->shape[0] ||
            w->shape[0] > 65536 || w->shape[1] > 65536 ||
            (nl > 0 && w->shape[1] != size[nl])) {
            qs_err_set(err, "%s: fc%d.weight / fc%d.bias shapes do not chain into an MLP",
                       path, nl + 1, nl + 1);
            goto done;
        }
        size[nl] = (int)w->shape[1];
        size[nl + 1] = (int)w->shape[0];
    }
    if (nl == 0) {
        qs_err_set(err, "%s: no fc1.weight tensor (not a qscope MLP)", path);
        goto done;
    }
    m = qs_mlp_new(nl, size, 0, err);
    if (!m) goto done;
    for (int l = 0; l < nl; l++) {
        memcpy(m->w[l], tw[l]->data, (size_t)tw[l]->n * sizeof(float));
        memcpy(m->b[l], tb[l]->data, (size_t)tb[l]->n * sizeof(float));
    }
    *out = m;
    rc = QS_OK;
done:
    for (int l = 0; l < QS_NN_MAX_LAYERS; l++) {
        qs_tensor_free(tw[l]);
        qs_tensor_free(tb[l]);
    }
    qs_file_close(f);
    return rc;
}

void qs_nn_wilson95(double p, long n, double *lo, double *hi)
{
    const double z = 1.959963984540054;     /* the 97.5% quantile of the standard normal */
    if (n < 1 || !(p >= 0 && p <= 1)) {
        *lo = 0;
        *hi = 1;
        return;
    }
    double z2n = z * z / (double)n;
    double centre = (p + z2n / 2) / (1 + z2n);
    double half = z / (1 + z2n) * sqrt(p * (1 - p) / (double)n + z2n / (4 * (double)n));
    *lo = centre - half > 0 ? centre - half : 0;
    *hi = centre + half < 1 ? centre + half : 1;
}
