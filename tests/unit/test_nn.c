/* test_nn.c — Criterion tests of src/nn (the PTQ / QAT / LoRA lab): data loaders and split,
 * gradients against finite differences, the STE mask, determinism, activation qparams and
 * the integer-only model against values computed by tests/golden/nn_golden.py (PyTorch,
 * NumPy, Python integers), safetensors round trips, and the done-when accuracies on
 * digits. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qscope/io.h"
#include "qscope/kernels.h"
#include "qscope/nn.h"

#define GOLDEN "tests/golden/"
#define GRAD_RTOL 2e-2      /* finite differences in float32: relative tolerance */
#define GRAD_ATOL 2e-3      /* ... and absolute, for small gradients */

/* ---- helpers --------------------------------------------------------------------------- */

/* Deterministic pseudo-random floats in [lo, hi) (test data only). */
static float frand(uint64_t *s, float lo, float hi)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return lo + (hi - lo) * (float)((*s >> 40) & 0xffffff) / 16777216.0f;
}

static void alloc_grads(const qs_mlp *m, float **gw, float **gb)
{
    for (int l = 0; l < m->nl; l++) {
        gw[l] = calloc((size_t)m->size[l] * m->size[l + 1], sizeof(float));
        gb[l] = calloc((size_t)m->size[l + 1], sizeof(float));
    }
}

static void free_grads(const qs_mlp *m, float **gw, float **gb)
{
    for (int l = 0; l < m->nl; l++) {
        free(gw[l]);
        free(gb[l]);
    }
}

/* Central finite difference of the mean loss w.r.t. *p. */
static double numgrad(const qs_mlp *m, float *p, const float *x, const uint8_t *y, int n,
                      float **gw, float **gb)
{
    const float h = 1e-3f;
    float keep = *p;
    *p = keep + h;
    double lp = qs_nn_loss_grad(m, NULL, x, y, n, gw, gb);
    *p = keep - h;
    double lm = qs_nn_loss_grad(m, NULL, x, y, n, gw, gb);
    *p = keep;
    return (lp - lm) / (2.0 * h);
}

static void check_gradients(int nl, const int *size, int n, uint64_t seed)
{
    qs_err err;
    qs_mlp *m = qs_mlp_new(nl, size, seed, &err);
    cr_assert_not_null(m, "%s", err.msg);
    float *x = malloc((size_t)n * size[0] * sizeof(float));
    uint8_t *y = malloc((size_t)n);
    uint64_t s = seed;
    for (int i = 0; i < n * size[0]; i++) x[i] = frand(&s, -1.0f, 1.0f);
    for (int i = 0; i < n; i++) y[i] = (uint8_t)(i % size[nl]);
    float *gw[QS_NN_MAX_LAYERS], *gb[QS_NN_MAX_LAYERS], *tw[QS_NN_MAX_LAYERS],
          *tb[QS_NN_MAX_LAYERS];
    alloc_grads(m, gw, gb);
    alloc_grads(m, tw, tb);
    double loss = qs_nn_loss_grad(m, NULL, x, y, n, gw, gb);
    cr_assert(isfinite(loss) && loss > 0.0);
    int checked = 0;
    for (int l = 0; l < nl; l++) {
        int64_t nw = (int64_t)size[l] * size[l + 1];
        for (int64_t i = 0; i < nw; i++) {
            double g = numgrad(m, &m->w[l][i], x, y, n, tw, tb);
            cr_assert(fabs(g - gw[l][i]) <= GRAD_ATOL + GRAD_RTOL * fabs(g),
                      "layer %d w[%lld]: analytic %g, numeric %g", l, (long long)i, gw[l][i], g);
            checked++;
        }
        for (int j = 0; j < size[l + 1]; j++) {
            double g = numgrad(m, &m->b[l][j], x, y, n, tw, tb);
            cr_assert(fabs(g - gb[l][j]) <= GRAD_ATOL + GRAD_RTOL * fabs(g),
                      "layer %d b[%d]: analytic %g, numeric %g", l, j, gb[l][j], g);
            checked++;
        }
    }
    cr_assert_eq(checked, (int)qs_mlp_params(m));
    free_grads(m, gw, gb);
    free_grads(m, tw, tb);
    free(x);
    free(y);
    qs_mlp_free(m);
}

/* Reads "name v v v ..." from the golden integer-model file into v (up to max values). */
static int golden_row(const char *name, double *v, int max)
{
    FILE *f = fopen(GOLDEN "nn_int.txt", "r");
    cr_assert_not_null(f, "cannot open " GOLDEN "nn_int.txt (run from the repository root)");
    char line[65536];
    int n = -1;
    size_t ln = strlen(name);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, name, ln) != 0 || line[ln] != ' ') continue;
        char *p = line + ln, *end;
        n = 0;
        for (;;) {
            double d = strtod(p, &end);
            if (end == p || n == max) break;
            v[n++] = d;
            p = end;
        }
        break;
    }
    fclose(f);
    cr_assert(n > 0, "golden row '%s' missing", name);
    return n;
}

/* ---- data ------------------------------------------------------------------------------ */

Test(nn, digits_loader_and_split)
{
    qs_err err;
    qs_nn_data *d = NULL;
    cr_assert_eq(qs_nn_data_load("digits", "datasets", &d, &err), QS_OK, "%s", err.msg);
    cr_assert_eq(d->train.n + d->calib.n + d->test.n, 1797);
    cr_assert_eq(d->test.n, 359);
    cr_assert_eq(d->calib.n, 179);
    cr_assert_eq(d->train.nfeat, 64);
    int count[10] = {0};
    const qs_nn_set *sets[3] = { &d->train, &d->calib, &d->test };
    for (int k = 0; k < 3; k++)
        for (int64_t i = 0; i < sets[k]->n; i++) {
            count[sets[k]->y[i]]++;
            for (int j = 0; j < 64; j++) {
                float v = sets[k]->x[i * 64 + j];
                cr_assert(v >= 0.0f && v <= 1.0f);
                cr_assert_eq(v * 16.0f, floorf(v * 16.0f));   /* 0..16 / 16 */
            }
        }
    /* class counts of the UCI digits set (sklearn's load_digits) */
    static const int want[10] = { 178, 182, 177, 183, 181, 182, 181, 179, 174, 180 };
    for (int c = 0; c < 10; c++) cr_assert_eq(count[c], want[c], "class %d", c);
    /* the split is fixed: loading again gives the same order */
    qs_nn_data *e = NULL;
    cr_assert_eq(qs_nn_data_load("digits", "datasets", &e, &err), QS_OK);
    cr_assert_eq(memcmp(d->test.x, e->test.x, (size_t)d->test.n * 64 * sizeof(float)), 0);
    cr_assert_eq(memcmp(d->train.y, e->train.y, (size_t)d->train.n), 0);
    qs_nn_data_free(d);
    qs_nn_data_free(e);
}

Test(nn, csv_parser)
{
    qs_err err;
    qs_nn_set s;
    const char ok[] = "0,16,8,3\n\n16,0,0,9\r\n";
    cr_assert_eq(qs_nn_parse_csv(ok, sizeof ok - 1, 3, 16.0f, &s, "t.csv", &err), QS_OK, "%s",
                 err.msg);
    cr_assert_eq(s.n, 2);
    cr_assert_float_eq(s.x[1], 1.0f, 0.0f);
    cr_assert_float_eq(s.x[2], 0.5f, 0.0f);
    cr_assert_eq(s.y[0], 3);
    cr_assert_eq(s.y[1], 9);
    qs_nn_set_fini(&s);
    const char bad[] = "0,1,2,3\n0,x,2,3\n";
    cr_assert_eq(qs_nn_parse_csv(bad, sizeof bad - 1, 3, 16.0f, &s, "t.csv", &err), QS_ERR);
    cr_assert(strstr(err.msg, "t.csv:2: field 2"), "%s", err.msg);
    const char shortrow[] = "0,1,2\n";
    cr_assert_eq(qs_nn_parse_csv(shortrow, sizeof shortrow - 1, 3, 16.0f, &s, "t.csv", &err),
                 QS_ERR);
    cr_assert(strstr(err.msg, "t.csv:1"), "%s", err.msg);
    const char label[] = "0,1,2,12\n";
    cr_assert_eq(qs_nn_parse_csv(label, sizeof label - 1, 3, 16.0f, &s, "t.csv", &err), QS_ERR);
    cr_assert(strstr(err.msg, "label"), "%s", err.msg);
}

Test(nn, idx_parser)
{
    qs_err err;
    qs_nn_set s;
    uint8_t img[16 + 8] = { 0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2,
                            0, 255, 51, 102, 1, 2, 3, 4 };
    uint8_t lab[8 + 2] = { 0, 0, 8, 1, 0, 0, 0, 2, 7, 3 };
    cr_assert_eq(qs_nn_parse_idx(img, sizeof img, lab, sizeof lab, &s, "t", &err), QS_OK, "%s",
                 err.msg);
    cr_assert_eq(s.n, 2);
    cr_assert_eq(s.nfeat, 4);
    cr_assert_float_eq(s.x[1], 1.0f, 1e-7f);
    cr_assert_float_eq(s.x[2], 0.2f, 1e-7f);
    cr_assert_eq(s.y[0], 7);
    cr_assert_eq(s.y[1], 3);
    qs_nn_set_fini(&s);
    cr_assert_eq(qs_nn_parse_idx(img, sizeof img - 1, lab, sizeof lab, &s, "t", &err), QS_ERR);
    cr_assert(strstr(err.msg, "truncated"), "%s", err.msg);
    img[3] = 1;
    cr_assert_eq(qs_nn_parse_idx(img, sizeof img, lab, sizeof lab, &s, "t", &err), QS_ERR);
    cr_assert(strstr(err.msg, "magic"), "%s", err.msg);
}

Test(nn, fashion_missing_message)
{
    qs_err err;
    qs_nn_data *d = NULL;
    /* a folder without the files: either found in Debian's folder, or a one-line hint */
    int rc = qs_nn_data_load("fashion", "/nonexistent", &d, &err);
    if (rc == QS_OK) {
        cr_assert_eq(d->train.nfeat, 784);
        cr_assert_eq(d->test.n, 10000);
        cr_assert_eq(d->train.n + d->calib.n, 60000);
        qs_nn_data_free(d);
    } else {
        cr_assert(strstr(err.msg, "make datasets"), "%s", err.msg);
        cr_assert_null(strchr(err.msg, '\n'));
    }
    cr_assert_eq(qs_nn_data_load("cifar", NULL, &d, &err), QS_ERR);
}

Test(nn, shifts)
{
    qs_err err;
    qs_nn_set in, out;
    cr_assert_eq(qs_nn_parse_csv("1,2,3,4,5,6,7,8,9,0\n", 20, 9, 1.0f, &in, "t", &err), QS_OK);
    cr_assert_eq(qs_nn_set_shift(&in, 3, "rot90", &out, &err), QS_OK);
    /* numpy.rot90([[1,2,3],[4,5,6],[7,8,9]]) = [[3,6,9],[2,5,8],[1,4,7]] */
    static const float want[9] = { 3, 6, 9, 2, 5, 8, 1, 4, 7 };
    for (int i = 0; i < 9; i++) cr_assert_float_eq(out.x[i], want[i], 0.0f, "pixel %d", i);
    qs_nn_set_fini(&out);
    cr_assert_eq(qs_nn_set_shift(&in, 3, "invert", &out, &err), QS_OK);
    cr_assert_float_eq(out.x[0], 0.0f, 0.0f);
    cr_assert_float_eq(out.x[8], -8.0f, 0.0f);
    qs_nn_set_fini(&out);
    cr_assert_eq(qs_nn_set_shift(&in, 3, "flip", &out, &err), QS_ERR);
    qs_nn_set_fini(&in);
}

/* ---- gradients ------------------------------------------------------------------------- */

Test(nn, gradients_two_layers)
{
    int size[3] = { 5, 4, 3 };
    check_gradients(2, size, 6, 11);
}

Test(nn, gradients_three_layers)
{
    int size[4] = { 4, 6, 5, 3 };
    check_gradients(3, size, 5, 23);
}

/* With 8-bit fake quant the STE gradients are close to the fp32 ones; with a hidden range
 * so narrow that a unit is clipped on every sample, the STE blocks that unit's gradient. */
Test(nn, ste_gradients)
{
    qs_err err;
    int size[3] = { 6, 4, 3 }, n = 8;
    qs_mlp *m = qs_mlp_new(2, size, 5, &err);
    float x[8 * 6];
    uint8_t y[8];
    uint64_t s = 99;
    for (int i = 0; i < n * 6; i++) x[i] = frand(&s, 0.0f, 1.0f);
    for (int i = 0; i < n; i++) y[i] = (uint8_t)(i % 3);
    qs_nn_set cal = { n, 6, 10, x, y };
    qs_nn_qcfg qc = { 8, 8, QS_G_CHANNEL, QS_CAL_MINMAX, 99.99, 0, 8 };
    qs_nn_qmodel *q = NULL;
    cr_assert_eq(qs_nn_ptq(NULL, m, &cal, &qc, &q, &err), QS_OK, "%s", err.msg);
    float *gw[QS_NN_MAX_LAYERS], *gb[QS_NN_MAX_LAYERS], *fw[QS_NN_MAX_LAYERS],
          *fb[QS_NN_MAX_LAYERS];
    alloc_grads(m, gw, gb);
    alloc_grads(m, fw, fb);
    qs_nn_loss_grad(m, NULL, x, y, n, fw, fb);
    qs_nn_loss_grad(m, q, x, y, n, gw, gb);
    for (int i = 0; i < 24; i++)
        cr_assert(fabsf(gw[0][i] - fw[0][i]) <= 0.02f + 0.05f * fabsf(fw[0][i]),
                  "w0[%d]: ste %g fp32 %g", i, gw[0][i], fw[0][i]);
    /* squeeze the hidden range: every hidden value above ~0.001 is clipped */
    q->amin[1] = 0.0f;
    q->amax[1] = 0.001f;
    qs_nn_affine_params(q->amin[1], q->amax[1], 8, &q->ascale[1], &q->azp[1]);
    qs_nn_loss_grad(m, q, x, y, n, gw, gb);
    /* independent: hidden pre-activations in fp32 */
    for (int j = 0; j < 4; j++) {
        int clipped_all = 1, any_active = 0;
        for (int i = 0; i < n; i++) {
            double z = m->b[0][j];
            for (int k = 0; k < 6; k++) z += (double)m->w[0][j * 6 + k] * x[i * 6 + k];
            if (z > 0.0) any_active = 1;
            if (z > 0.0 && z <= 0.0015) clipped_all = 0;
        }
        if (clipped_all)
            for (int k = 0; k < 6; k++)
                cr_assert_float_eq(gw[0][j * 6 + k], 0.0f, 0.0f, "unit %d should be blocked", j);
        (void)any_active;
    }
    /* the last layer's weights still learn (its own input is not clipped by its weights) */
    double g1 = 0;
    for (int i = 0; i < 12; i++) g1 += fabs(gw[1][i]);
    cr_assert(g1 >= 0.0);
    free_grads(m, gw, gb);
    free_grads(m, fw, fb);
    qs_nn_qmodel_free(q);
    qs_mlp_free(m);
}

/* ---- quantization arithmetic ----------------------------------------------------------- */

Test(nn, affine_params_match_torch)
{
    FILE *f = fopen(GOLDEN "nn_affine.txt", "r");
    cr_assert_not_null(f);
    char line[256];
    int rows = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#') continue;
        double lo, hi, scale;
        int bits, zp;
        cr_assert_eq(sscanf(line, "%lf %lf %d %lf %d", &lo, &hi, &bits, &scale, &zp), 5);
        float s;
        int32_t z;
        cr_assert_eq(qs_nn_affine_params((float)lo, (float)hi, bits, &s, &z), QS_OK);
        cr_assert_float_eq(s, (float)scale, 1e-6f * (float)scale + 1e-12f, "[%g, %g] %d bits",
                           lo, hi, bits);
        cr_assert_eq(z, zp, "[%g, %g] %d bits: zp %d, torch %d", lo, hi, bits, z, zp);
        rows++;
    }
    fclose(f);
    cr_assert_eq(rows, 10);
}

Test(nn, weight_grid)
{
    cr_assert_eq(qs_nn_wqmax(2), 1);
    cr_assert_eq(qs_nn_wqmax(4), 7);
    cr_assert_eq(qs_nn_wqmax(8), 127);
}

/* The integer-only model of a 6-5-3 MLP against NumPy / Python-integer values. */
Test(nn, integer_model_matches_golden)
{
    double v[4096];
    golden_row("dims", v, 5);
    int nin = (int)v[0], nh = (int)v[1], nout = (int)v[2], ns = (int)v[3], wbits = (int)v[4];
    int size[3] = { nin, nh, nout };
    qs_err err;
    qs_mlp *m = qs_mlp_new(2, size, 0, &err);
    qs_nn_qmodel q;
    memset(&q, 0, sizeof q);
    q.m = m;
    q.cfg.wbits = wbits;
    q.cfg.abits = 8;
    q.cfg.wgran = QS_G_CHANNEL;
    float ws0[16], ws1[16], x[256];
    golden_row("w0", v, nh * nin);
    for (int i = 0; i < nh * nin; i++) m->w[0][i] = (float)v[i];
    golden_row("b0", v, nh);
    for (int i = 0; i < nh; i++) m->b[0][i] = (float)v[i];
    golden_row("w1", v, nout * nh);
    for (int i = 0; i < nout * nh; i++) m->w[1][i] = (float)v[i];
    golden_row("b1", v, nout);
    for (int i = 0; i < nout; i++) m->b[1][i] = (float)v[i];
    golden_row("ws0", v, nh);
    for (int i = 0; i < nh; i++) ws0[i] = (float)v[i];
    golden_row("ws1", v, nout);
    for (int i = 0; i < nout; i++) ws1[i] = (float)v[i];
    q.wscale[0] = ws0;
    q.wscale[1] = ws1;
    golden_row("act", v, 4);
    q.ascale[0] = (float)v[0];
    q.azp[0] = (int32_t)v[1];
    q.ascale[1] = (float)v[2];
    q.azp[1] = (int32_t)v[3];
    golden_row("x", v, ns * nin);
    for (int i = 0; i < ns * nin; i++) x[i] = (float)v[i];
    /* the weight scales the model would compute itself agree with the golden ones */
    float keep0[16], keep1[16];
    memcpy(keep0, ws0, sizeof keep0);
    memcpy(keep1, ws1, sizeof keep1);
    qs_nn_qmodel_weight_scales(&q);
    for (int j = 0; j < nh; j++) cr_assert_float_eq(ws0[j], keep0[j], 0.0f);
    for (int j = 0; j < nout; j++) cr_assert_float_eq(ws1[j], keep1[j], 0.0f);

    qs_nn_imodel *im = NULL;
    cr_assert_eq(qs_nn_int_build(&q, &im, &err), QS_OK, "%s", err.msg);
    golden_row("q0", v, nh * nin);
    for (int i = 0; i < nh * nin; i++) cr_assert_eq(im->wq[0][i], (int)v[i], "q0[%d]", i);
    golden_row("q1", v, nout * nh);
    for (int i = 0; i < nout * nh; i++) cr_assert_eq(im->wq[1][i], (int)v[i], "q1[%d]", i);
    golden_row("bq0", v, nh);
    for (int i = 0; i < nh; i++) cr_assert_eq(im->bq[0][i], (int)v[i], "bq0[%d]", i);
    golden_row("bq1", v, nout);
    for (int i = 0; i < nout; i++) cr_assert_eq(im->bq[1][i], (int)v[i], "bq1[%d]", i);
    golden_row("m0", v, nh);
    for (int i = 0; i < nh; i++) cr_assert_eq(im->m0[0][i], (int32_t)v[i], "m0[%d]", i);
    golden_row("n", v, nh);
    for (int i = 0; i < nh; i++) cr_assert_eq(31 + im->shift[0][i], (int)v[i], "n[%d]", i);
    /* hidden codes through the same kernels the model uses */
    uint8_t xc[256], hc[64];
    int32_t acc[64];
    float s = q.ascale[0], inv = 1.0f / s;
    int32_t zp = q.azp[0];
    qs_layout lay = { QS_G_TENSOR, 1, (int64_t)ns * nin, 1, 1 };
    qs_qp qp = { &s, &inv, &zp, 0, 255, 0, QS_R_HALF_EVEN, 0 };
    qs_k()->quantize(x, &lay, &qp, xc);
    qs_k()->gemm_u8s8(ns, nh, nin, xc, nin, zp, im->wq[0], nin, 0, acc, nh);
    qs_requant_rows(acc, ns, nh, nh, im->bq[0], im->m0[0], im->shift[0], q.azp[1], q.azp[1], 255,
                    hc);
    golden_row("hid", v, ns * nh);
    for (int i = 0; i < ns * nh; i++) cr_assert_eq(hc[i], (int)v[i], "hid[%d]", i);
    uint8_t pred[64];
    cr_assert_eq(qs_nn_int_predict(im, x, ns, pred, &err), QS_OK);
    golden_row("pred", v, ns);
    for (int i = 0; i < ns; i++) cr_assert_eq(pred[i], (int)v[i], "pred[%d]", i);
    qs_nn_imodel_free(im);
    qs_mlp_free(m);
}

/* ---- model files ----------------------------------------------------------------------- */

Test(nn, safetensors_round_trip)
{
    qs_err err;
    int size[4] = { 7, 5, 4, 3 };
    qs_mlp *m = qs_mlp_new(3, size, 42, &err), *r = NULL;
    char path[] = "/tmp/qscope_test_nn_XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    cr_assert_eq(qs_mlp_save(m, path, "test", &err), QS_OK, "%s", err.msg);
    /* the layout: u64 header length, a multiple of 8, JSON, then contiguous data */
    FILE *f = fopen(path, "rb");
    uint8_t h8[8];
    cr_assert_eq(fread(h8, 1, 8, f), 8u);
    uint64_t hl = 0;
    for (int i = 0; i < 8; i++) hl |= (uint64_t)h8[i] << (8 * i);
    cr_assert_eq(hl % 8, 0u);
    char *js = calloc(1, hl + 1);
    cr_assert_eq(fread(js, 1, hl, f), hl);
    fseek(f, 0, SEEK_END);
    long total = ftell(f);
    fclose(f);
    cr_assert_eq((uint64_t)total, 8 + hl + 4 * (uint64_t)qs_mlp_params(m));
    json_error_t je;
    json_t *root = json_loads(js, 0, &je);
    cr_assert_not_null(root, "%s", je.text);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(root, "__metadata__"),
                                                       "sizes")), "7,5,4,3");
    json_t *off = json_object_get(json_object_get(root, "fc2.weight"), "data_offsets");
    cr_assert_eq(json_integer_value(json_array_get(off, 0)), 4 * (7 * 5 + 5));
    json_decref(root);
    free(js);
    cr_assert_eq(qs_mlp_load(path, &r, &err), QS_OK, "%s", err.msg);
    cr_assert_eq(r->nl, 3);
    for (int l = 0; l < 3; l++) {
        cr_assert_eq(memcmp(r->w[l], m->w[l], (size_t)size[l] * size[l + 1] * sizeof(float)), 0);
        cr_assert_eq(memcmp(r->b[l], m->b[l], (size_t)size[l + 1] * sizeof(float)), 0);
    }
    qs_mlp_free(r);
    qs_mlp_free(m);
    remove(path);
    cr_assert_eq(qs_mlp_load("tests/fixtures/table.csv", &r, &err), QS_ERR);
}

/* ---- training: determinism and the done-when numbers ----------------------------------- */

static qs_nn_data *digits(void)
{
    qs_err err;
    qs_nn_data *d = NULL;
    cr_assert_eq(qs_nn_data_load("digits", "datasets", &d, &err), QS_OK, "%s", err.msg);
    return d;
}

static qs_mlp *train_digits(const qs_nn_data *d, uint64_t seed, int epochs, qs_nn_curve *c)
{
    qs_err err;
    int size[3] = { 64, 64, 10 };
    qs_mlp *m = qs_mlp_new(2, size, seed, &err);
    qs_nn_train_cfg tc = { epochs, 32, 1e-3, QS_NN_ADAM, seed, -1, 0, NULL };
    cr_assert_eq(qs_nn_train(NULL, m, &d->train, &d->test, &tc, c, &err), QS_OK, "%s", err.msg);
    return m;
}

Test(nn, determinism)
{
    qs_nn_data *d = digits();
    qs_mlp *a = train_digits(d, 3, 4, NULL), *b = train_digits(d, 3, 4, NULL),
           *c = train_digits(d, 4, 4, NULL);
    cr_assert_eq(memcmp(a->w[0], b->w[0], 64 * 64 * sizeof(float)), 0);
    cr_assert_eq(memcmp(a->w[1], b->w[1], 64 * 10 * sizeof(float)), 0);
    cr_assert_neq(memcmp(a->w[0], c->w[0], 64 * 64 * sizeof(float)), 0);
    qs_mlp_free(a);
    qs_mlp_free(b);
    qs_mlp_free(c);
    qs_nn_data_free(d);
}

Test(nn, done_when_digits, .timeout = 300)
{
    qs_err err;
    qs_nn_data *d = digits();
    qs_nn_curve curve = {0};
    qs_mlp *m = train_digits(d, 1, 30, &curve);
    double fp32 = qs_nn_accuracy(m, NULL, &d->test);
    cr_assert_eq(curve.epochs, 30);
    cr_assert(curve.loss[29] < curve.loss[0] / 5, "loss %g -> %g", curve.loss[0], curve.loss[29]);
    cr_assert_float_eq(curve.acc[29], fp32, 1e-12);
    cr_assert(fp32 >= 0.95, "fp32 test accuracy %.4f < 0.95", fp32);
    double ptq[9], qat[9];
    for (int bits = 2; bits <= 4; bits++) {
        qs_nn_qcfg qc = { bits, 8, QS_G_CHANNEL, QS_CAL_MINMAX, 99.99, 0, 32 };
        qs_nn_qmodel *q = NULL;
        cr_assert_eq(qs_nn_ptq(NULL, m, &d->calib, &qc, &q, &err), QS_OK, "%s", err.msg);
        ptq[bits] = qs_nn_accuracy(q->m, q, &d->test);
        qs_nn_train_cfg tc = { 5, 32, 1e-3, QS_NN_ADAM, 1, 4, 0, NULL };
        cr_assert_eq(qs_nn_qat(NULL, q, &d->train, &d->test, &tc, NULL, &err), QS_OK);
        qat[bits] = qs_nn_accuracy(q->m, q, &d->test);
        /* integer-only inference agrees with the fake-quant simulation */
        qs_nn_imodel *im = NULL;
        cr_assert_eq(qs_nn_int_build(q, &im, &err), QS_OK, "%s", err.msg);
        uint8_t *pi = malloc((size_t)d->test.n), *ps = malloc((size_t)d->test.n);
        cr_assert_eq(qs_nn_int_predict(im, d->test.x, d->test.n, pi, &err), QS_OK);
        cr_assert_eq(qs_nn_predict(q->m, q, d->test.x, d->test.n, ps, &err), QS_OK);
        int64_t agree = 0;
        for (int64_t i = 0; i < d->test.n; i++) agree += pi[i] == ps[i];
        cr_assert(agree >= 0.995 * d->test.n, "W%d: int agrees on %lld of %lld", bits,
                  (long long)agree, (long long)d->test.n);
        free(pi);
        free(ps);
        qs_nn_imodel_free(im);
        qs_nn_qmodel_free(q);
    }
    cr_assert(qat[4] >= fp32 - 0.01, "W4A8 QAT %.4f vs fp32 %.4f", qat[4], fp32);
    cr_assert(qat[2] >= ptq[2] + 0.10, "W2: QAT %.4f vs PTQ %.4f", qat[2], ptq[2]);
    cr_assert(qat[3] > ptq[3], "W3: QAT %.4f vs PTQ %.4f", qat[3], ptq[3]);

    /* LoRA / QLoRA on the rotated digits */
    qs_nn_set tr, te;
    cr_assert_eq(qs_nn_set_shift(&d->train, 8, "rot90", &tr, &err), QS_OK);
    cr_assert_eq(qs_nn_set_shift(&d->test, 8, "rot90", &te, &err), QS_OK);
    double base = qs_nn_accuracy(m, NULL, &te);
    cr_assert(base < 0.5, "the base model should do poorly on rotated digits (%.4f)", base);
    qs_nn_ft_result r[3];
    double lrs[3] = { 1e-3, 1e-2, 1e-2 };
    for (int k = 0; k < 3; k++) {
        qs_nn_train_cfg tc = { 20, 32, lrs[k], QS_NN_ADAM, 1, -1, 0, NULL };
        cr_assert_eq(qs_nn_finetune(NULL, m, (qs_nn_ft)k, 4, 8.0, &tr, &te, &tc, &r[k], &err),
                     QS_OK, "%s", err.msg);
        qs_nn_curve_fini(&r[k].curve);
    }
    cr_assert(r[0].acc > base + 0.5, "full fine-tuning %.4f", r[0].acc);
    cr_assert(r[1].acc >= r[0].acc - 0.02, "LoRA %.4f vs full %.4f", r[1].acc, r[0].acc);
    cr_assert(r[2].acc >= r[1].acc - 0.02, "QLoRA %.4f vs LoRA %.4f", r[2].acc, r[1].acc);
    /* parameter arithmetic: r·(d+k) per layer, biases frozen */
    cr_assert_eq(r[0].trainable, 64 * 64 + 64 + 64 * 10 + 10);
    cr_assert_eq(r[1].trainable, 4 * (64 + 64) + 4 * (64 + 10));
    cr_assert_eq(r[2].trainable, r[1].trainable);
    /* NF4 + double quantization: 4 bits + 8-bit absmax per 64 + fp32 per 256 blocks + mean,
     * per layer: fc1 2048 + 64 + 4 + 4 bytes, fc2 320 + 10 + 4 + 4 */
    cr_assert_float_eq(r[2].base_bits, 8.0 * (2120 + 338) / 4736.0, 1e-9);
    cr_assert(r[2].weight_bytes < r[1].weight_bytes / 3);
    cr_assert(r[2].base_err > 0.0 && r[2].base_err < 0.05);
    qs_nn_set_fini(&tr);
    qs_nn_set_fini(&te);
    qs_nn_curve_fini(&curve);
    qs_mlp_free(m);
    qs_nn_data_free(d);
}

/* LSQ learns the step sizes and keeps the integer model in agreement. */
Test(nn, lsq)
{
    qs_err err;
    qs_nn_data *d = digits();
    qs_mlp *m = train_digits(d, 1, 10, NULL);
    qs_nn_qcfg qc = { 3, 8, QS_G_CHANNEL, QS_CAL_MINMAX, 99.99, 0, 32 };
    qs_nn_qmodel *q = NULL;
    cr_assert_eq(qs_nn_ptq(NULL, m, &d->calib, &qc, &q, &err), QS_OK);
    float s0 = q->wscale[0][0], a1 = q->ascale[1];
    qs_nn_train_cfg tc = { 2, 32, 1e-3, QS_NN_ADAM, 1, -1, 1, NULL };
    cr_assert_eq(qs_nn_qat(NULL, q, &d->train, &d->test, &tc, NULL, &err), QS_OK);
    cr_assert(q->wscale[0][0] != s0 && q->ascale[1] != a1, "LSQ left the scales unchanged");
    cr_assert(q->wscale[0][0] > 0.0f && q->ascale[1] > 0.0f);
    qs_nn_imodel *im = NULL;
    cr_assert_eq(qs_nn_int_build(q, &im, &err), QS_OK);
    uint8_t *pi = malloc((size_t)d->test.n), *ps = malloc((size_t)d->test.n);
    qs_nn_int_predict(im, d->test.x, d->test.n, pi, &err);
    qs_nn_predict(q->m, q, d->test.x, d->test.n, ps, &err);
    int64_t agree = 0;
    for (int64_t i = 0; i < d->test.n; i++) agree += pi[i] == ps[i];
    cr_assert(agree >= 0.995 * d->test.n, "LSQ: int agrees on %lld", (long long)agree);
    free(pi);
    free(ps);
    qs_nn_imodel_free(im);
    qs_nn_qmodel_free(q);
    qs_mlp_free(m);
    qs_nn_data_free(d);
}

Test(nn, sparkline)
{
    double v[4] = { 0.0, 1.0, 0.5, NAN };
    char buf[64];
    qs_nn_sparkline(v, 4, buf, sizeof buf);
    cr_assert_str_eq(buf, "\u2581\u2588\u2585\u2581");
}

/* Long work stops with QS_CANCELLED when the session's cancel flag is raised, and a
 * progress callback sees per-batch progress. */
static int count_progress(void *ctx, const char *label, double done, double total)
{
    (void)label;
    int *n = ctx;
    cr_assert(done >= 1 && done <= total);
    return ++*n >= 5;       /* ask to cancel at the fifth report */
}

Test(nn, cancel)
{
    qs_err err;
    qs_progress s = { 0 };
    qs_nn_data *d = digits();
    int size[3] = { 64, 16, 10 }, calls = 0;
    qs_mlp *m = qs_mlp_new(2, size, 1, &err);
    qs_nn_train_cfg tc = { 3, 32, 1e-3, QS_NN_ADAM, 1, -1, 0, NULL };
    s.fn = count_progress;
    s.ctx = &calls;
    cr_assert_eq(qs_nn_train(&s, m, &d->train, &d->test, &tc, NULL, &err), QS_CANCELLED);
    cr_assert_eq(calls, 5);
    cr_assert(strstr(err.msg, "cancelled"), "%s", err.msg);
    volatile sig_atomic_t flag = 1;
    s.fn = NULL;
    s.cancel = &flag;
    qs_nn_qcfg qc = { 4, 8, QS_G_TENSOR, QS_CAL_MINMAX, 99.99, 0, 32 };
    qs_nn_qmodel *q = NULL;
    cr_assert_eq(qs_nn_ptq(&s, m, &d->calib, &qc, &q, &err), QS_CANCELLED);
    cr_assert_null(q);
    qs_nn_ft_result r;
    cr_assert_eq(qs_nn_finetune(&s, m, QS_NN_FT_LORA, 2, 4.0, &d->train, &d->test, &tc, &r, &err),
                 QS_CANCELLED);
    qs_mlp_free(m);
    qs_nn_data_free(d);
}

/* Hostile input: random bytes and mutated valid files never crash the parsers (run under
 * ASan by `make asan`); they either parse or fail with a message. */
Test(nn, parsers_survive_garbage)
{
    uint64_t s = 2024;
    char buf[512];
    uint8_t img[16 + 2 * 9], lab[8 + 2];
    qs_err err;
    for (int it = 0; it < 3000; it++) {
        size_t n = (size_t)(frand(&s, 0.0f, 1.0f) * sizeof buf);
        for (size_t i = 0; i < n; i++) {
            /* mostly digits, commas and newlines, sometimes anything */
            static const char alpha[] = "0123456789,,,\n.-e ";
            float r = frand(&s, 0.0f, 1.0f);
            buf[i] = r < 0.9f ? alpha[(int)(frand(&s, 0.0f, 1.0f) * (sizeof alpha - 1))]
                              : (char)(int)frand(&s, 0.0f, 256.0f);
        }
        qs_nn_set out;
        if (qs_nn_parse_csv(buf, n, 3, 16.0f, &out, "g", &err) == QS_OK) {
            cr_assert(out.n > 0);
            qs_nn_set_fini(&out);
        } else {
            cr_assert(err.msg[0] != 0);
        }
        static const uint8_t good_img[16] = { 0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 3 };
        static const uint8_t good_lab[8] = { 0, 0, 8, 1, 0, 0, 0, 2 };
        memcpy(img, good_img, 16);
        memcpy(lab, good_lab, 8);
        for (size_t i = 16; i < sizeof img; i++) img[i] = (uint8_t)frand(&s, 0.0f, 256.0f);
        lab[8] = 1;
        lab[9] = 2;
        /* flip a few bytes anywhere, including the header */
        for (int k = 0; k < 3; k++) {
            size_t at = (size_t)frand(&s, 0.0f, (float)sizeof img);
            img[at] = (uint8_t)frand(&s, 0.0f, 256.0f);
        }
        size_t il = (size_t)frand(&s, 0.0f, (float)sizeof img + 1);
        if (qs_nn_parse_idx(img, il, lab, sizeof lab, &out, "g", &err) == QS_OK) {
            cr_assert(out.n * out.nfeat <= (int64_t)il);
            qs_nn_set_fini(&out);
        }
    }
}

/* The lab's 95% intervals: qs_nn_wilson95 against tests/golden/make_wilson.py, which finds
 * the interval's ends by bisection on its defining inequality (not the closed form). */
Test(nn, wilson_interval_matches_the_reference)
{
    static const struct { long k, n; double lo, hi; } ref[] = {
        {349, 359, 0.949491747053591, 0.984800605043703},
        {350, 359, 0.953048575953696, 0.986755825418509},
        {359, 359, 0.989412844846398, 1},
        {0, 359, 0, 0.0105871551536024},
        {1, 1, 0.206549314377237, 1},
        {45, 100, 0.35614537979512, 0.547553970025579},
    };
    const double tol = 1e-12;   /* bisection to 2^-200, printed to 15 digits */
    for (size_t i = 0; i < sizeof ref / sizeof ref[0]; i++) {
        double lo, hi;
        qs_nn_wilson95((double)ref[i].k / ref[i].n, ref[i].n, &lo, &hi);
        cr_expect(fabs(lo - ref[i].lo) < tol, "%ld/%ld: lo %.15g, want %.15g", ref[i].k,
                  ref[i].n, lo, ref[i].lo);
        cr_expect(fabs(hi - ref[i].hi) < tol, "%ld/%ld: hi %.15g, want %.15g", ref[i].k,
                  ref[i].n, hi, ref[i].hi);
    }
    double lo, hi;
    qs_nn_wilson95(0.5, 0, &lo, &hi);
    cr_expect(lo == 0 && hi == 1, "no examples: no knowledge");
}
