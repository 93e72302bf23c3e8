/* test_nn_ref.c — the lab's PTQ calibration batches and its QAT gradients against PyTorch
 * (tests/golden/make_lab_golden.py → lab_ref.txt): movavg averages the activation min/max
 * over the calibration batches, as an observer called once per forward pass; one QAT
 * forward / backward (fake-quant weights and activations, straight-through estimators,
 * clipped inputs blocked) gives PyTorch autograd's loss and gradients, and with LSQ the step
 * sizes' gradients of torch._fake_quantize_learnable_per_tensor_affine. A cancelled
 * `lab train` on another data set keeps the lab's model and data together. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "nn/nn_priv.h"
#include "qscope/cmd.h"
#include "qscope/nn.h"
#include "qscope/session.h"

#define REF "tests/golden/lab_ref.txt"

static float *ref(const char *name, int64_t want)
{
    int64_t n = 0;
    float *v = golden_line(REF, name, &n, sizeof(float));
    cr_assert_eq(n, want, "%s: %lld values, expected %lld", name, (long long)n,
                 (long long)want);
    return v;
}

/* The golden 8-6-4 MLP and its 10 samples. */
typedef struct fixture {
    qs_mlp *m;
    qs_nn_set set;
} fixture;

static void fixture_make(fixture *f)
{
    qs_err err;
    int size[3] = { 8, 6, 4 };
    f->m = qs_mlp_new(2, size, 0, &err);
    cr_assert_not_null(f->m, "%s", err.msg);
    static const char *const names[4] = { "w0", "b0", "w1", "b1" };
    const int64_t counts[4] = { 48, 6, 24, 4 };
    for (int k = 0; k < 4; k++) {
        float *v = ref(names[k], counts[k]);
        memcpy(k % 2 ? f->m->b[k / 2] : f->m->w[k / 2], v, (size_t)counts[k] * sizeof(float));
        free(v);
    }
    float *x = ref("x", 80), *y = ref("y", 10);
    f->set.n = 10;
    f->set.nfeat = 8;
    f->set.nclass = 4;
    f->set.x = x;
    f->set.y = malloc(10);
    for (int i = 0; i < 10; i++) f->set.y[i] = (uint8_t)y[i];
    free(y);
}

static void fixture_free(fixture *f)
{
    qs_mlp_free(f->m);
    free(f->set.x);
    free(f->set.y);
}

/* calib=movavg: one moving-average update per calibration batch of 4 samples (before the
 * fix, the calibrator cut the whole calibration set into 8 equal pieces of values instead). */
Test(nn_ref, movavg_over_calibration_batches)
{
    fixture f;
    fixture_make(&f);
    qs_err err;
    qs_nn_qcfg qc = { 8, 8, QS_G_TENSOR, QS_CAL_MOVAVG, 99.99, 0, 4 };
    qs_nn_qmodel *q = NULL;
    cr_assert_eq(qs_nn_ptq(NULL, f.m, &f.set, &qc, &q, &err), QS_OK, "%s", err.msg);
    float *want = ref("movavg_range", 4);
    for (int l = 0; l < 2; l++) {
        cr_assert_float_eq(q->amin[l], want[2 * l], 1e-6f, "layer %d min %.9g, torch %.9g", l,
                           q->amin[l], want[2 * l]);
        cr_assert_float_eq(q->amax[l], want[2 * l + 1], 1e-6f, "layer %d max %.9g, torch %.9g",
                           l, q->amax[l], want[2 * l + 1]);
    }
    free(want);
    qs_nn_qmodel_free(q);
    fixture_free(&f);
}

static void check_qat(int bits, qs_gran gran, const char *tag)
{
    fixture f;
    fixture_make(&f);
    qs_err err;
    /* activation ranges from the first calibration batch of 4 samples only */
    qs_nn_qcfg qc = { bits, 8, gran, QS_CAL_MINMAX, 99.99, 1, 4 };
    qs_nn_qmodel *q = NULL;
    cr_assert_eq(qs_nn_ptq(NULL, f.m, &f.set, &qc, &q, &err), QS_OK, "%s", err.msg);
    float *gw[QS_NN_MAX_LAYERS], *gb[QS_NN_MAX_LAYERS];
    for (int l = 0; l < 2; l++) {
        gw[l] = calloc((size_t)f.m->size[l] * f.m->size[l + 1], sizeof(float));
        gb[l] = calloc((size_t)f.m->size[l + 1], sizeof(float));
    }
    double loss = qs_nn_loss_grad(q->m, q, f.set.x, f.set.y, f.set.n, gw, gb);
    char name[64];
    snprintf(name, sizeof name, "%s_loss", tag);
    float *wl = ref(name, 1);
    cr_assert_float_eq(loss, wl[0], 1e-5 * fabs(wl[0]), "%s: loss %.9g, torch %.9g", tag, loss,
                       wl[0]);
    free(wl);
    int blocked = 0;
    for (int l = 0; l < 2; l++) {
        int64_t nw = (int64_t)f.m->size[l] * f.m->size[l + 1];
        snprintf(name, sizeof name, "%s_gw%d", tag, l);
        float *w = ref(name, nw);
        for (int64_t i = 0; i < nw; i++) {
            cr_assert_float_eq(gw[l][i], w[i], 1e-6f + 1e-4f * fabsf(w[i]),
                               "%s: dL/dw%d[%lld] %.9g, torch %.9g", tag, l, (long long)i,
                               gw[l][i], w[i]);
            blocked += w[i] == 0.0f;
        }
        free(w);
        snprintf(name, sizeof name, "%s_gb%d", tag, l);
        float *b = ref(name, f.m->size[l + 1]);
        for (int j = 0; j < f.m->size[l + 1]; j++)
            cr_assert_float_eq(gb[l][j], b[j], 1e-6f + 1e-4f * fabsf(b[j]),
                               "%s: dL/db%d[%d] %.9g, torch %.9g", tag, l, j, gb[l][j], b[j]);
        free(b);
        free(gw[l]);
        free(gb[l]);
    }
    (void)blocked;
    qs_nn_qmodel_free(q);
    fixture_free(&f);
}

Test(nn_ref, qat_gradients_w3_per_tensor)
{
    check_qat(3, QS_G_TENSOR, "qat_w3_tensor");
}

Test(nn_ref, qat_gradients_w4_per_channel)
{
    check_qat(4, QS_G_CHANNEL, "qat_w4_channel");
}

/* LSQ: the gradients of the four step sizes (weights and inputs of both layers) after one
 * forward / backward, against PyTorch's learnable fake quant with LSQ's gradient factor. */
Test(nn_ref, lsq_scale_gradients)
{
    fixture f;
    fixture_make(&f);
    qs_err err;
    qs_nn_qcfg qc = { 3, 8, QS_G_TENSOR, QS_CAL_MINMAX, 99.99, 1, 4 };
    qs_nn_qmodel *q = NULL;
    cr_assert_eq(qs_nn_ptq(NULL, f.m, &f.set, &qc, &q, &err), QS_OK, "%s", err.msg);
    q->lsq = 1;
    nn_net net;
    cr_assert_eq(nn_net_init(&net, q->m, q, NN_TRAIN_W | NN_QUANT | NN_LSQ, 0, 0, 0, 10, &err),
                 QS_OK, "%s", err.msg);
    nn_forward(&net, f.set.x, 10);
    double loss = nn_loss(&net, f.set.y, 10) / 10.0;
    nn_backward(&net, 10);
    float *wl = ref("lsq_w3_loss", 1), *g = ref("lsq_w3_gscale", 4);
    cr_assert_float_eq(loss, wl[0], 1e-5 * fabs(wl[0]), "loss %.9g, torch %.9g", loss, wl[0]);
    float got[4] = { net.L[0].gws[0], net.L[0].gas, net.L[1].gws[0], net.L[1].gas };
    static const char *const what[4] = { "fc1 weight", "fc1 input", "fc2 weight", "fc2 input" };
    /* PyTorch sums the float32 terms in float32, qscope in double */
    for (int k = 0; k < 4; k++)
        cr_assert_float_eq(got[k], g[k], 1e-6f + 1e-3f * fabsf(g[k]),
                           "%s step gradient %.9g, torch %.9g", what[k], got[k], g[k]);
    free(wl);
    free(g);
    nn_net_fini(&net);
    qs_nn_qmodel_free(q);
    fixture_free(&f);
}

/* A cancelled `lab train data=fashion` keeps the digits model with the digits data: it
 * used to keep the model but swap in Fashion-MNIST, and `lab ptq` then ran the 64-input
 * model over 784-pixel rows (ptq_acc 0.098 against fp32_acc 0.972). */
Test(nn_ref, cancelled_train_keeps_model_and_data)
{
    char path[4096];
    if (!qs_nn_find_file(NULL, "train-images-idx3-ubyte", path, sizeof path))
        cr_skip_test("Fashion-MNIST is not installed (make datasets)");
    qs_session s;
    qs_session_init(&s);
    volatile sig_atomic_t cancel = 0;
    s.cancel = &cancel;
    json_t *out = NULL;
    qs_err err;
    cr_assert_eq(qs_cmd_run_line(&s, "lab train epochs=2", &out, NULL, &err), QS_OK, "%s",
                 err.msg);
    json_decref(out);
    out = NULL;
    cancel = 1;
    int rc = qs_cmd_run_line(&s, "lab train data=fashion epochs=1", &out, NULL, &err);
    cr_assert_eq(rc, QS_CANCELLED, "rc %d: %s", rc, err.msg);
    json_decref(out);
    out = NULL;
    cancel = 0;
    qs_lab *lab = qs_lab_get(&s);
    cr_assert_not_null(lab->data);
    cr_assert_str_eq(lab->data->name, "digits");
    cr_assert_eq(lab->fp32->size[0], lab->data->train.nfeat);
    cr_assert_eq(qs_cmd_run_line(&s, "lab ptq bits=8", &out, NULL, &err), QS_OK, "%s",
                 err.msg);
    double fp32 = json_real_value(json_object_get(out, "fp32_acc"));
    double ptq = json_real_value(json_object_get(out, "ptq_acc"));
    cr_assert(fabs(fp32 - ptq) < 0.05, "fp32 %g, ptq %g", fp32, ptq);
    json_decref(out);
    qs_session_fini(&s);
}
