/* cmd_lab.c — the PTQ / QAT / LoRA lab commands: `lab train|ptq|qat|sweep|int|lora|qlora|
 * save|load|status`, each returning a JSON object (see the help text for the keys). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "qscope/calib.h"
#include "qscope/cmd.h"
#include "qscope/derive.h"
#include "qscope/io.h"
#include "qscope/kernels.h"
#include "qscope/nn.h"

#include "cmd_priv.h"

#define LAB_DEFAULT_SEED 1

int qs_cmd_lab_gpt(qs_session *s, int argc, char **argv, json_t **out, qs_err *err);  /* cmd_gpt.c */
extern const qs_cmd qs_gpt_subs[];        /* cmd_gpt.c: `lab gpt`'s nested table */

static const qs_cmd *lab_row(void)
{
    return qs_cmd_find("lab");
}

/* ---- small helpers --------------------------------------------------------------------- */

static json_t *darray(const double *v, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(a, qs_json_real(v[i]));
    return a;
}

static json_t *sizes_json(const qs_mlp *m)
{
    json_t *a = json_array();
    for (int l = 0; l <= m->nl; l++) json_array_append_new(a, json_integer(m->size[l]));
    return a;
}

/* Adds loss/acc arrays and their sparklines under prefix ("" or "full_" ...). */
static void curve_json(json_t *o, const char *prefix, const qs_nn_curve *c)
{
    char key[64], spark[1024];
    snprintf(key, sizeof key, "%sloss", prefix);
    json_object_set_new(o, key, darray(c->loss, c->epochs));
    snprintf(key, sizeof key, "%sacc", prefix);
    json_object_set_new(o, key, darray(c->acc, c->epochs));
    qs_nn_sparkline(c->loss, c->epochs, spark, sizeof spark);
    snprintf(key, sizeof key, "%sloss_sparkline", prefix);
    json_object_set_new(o, key, json_string(spark));
    qs_nn_sparkline(c->acc, c->epochs, spark, sizeof spark);
    snprintf(key, sizeof key, "%sacc_sparkline", prefix);
    json_object_set_new(o, key, json_string(spark));
}

static int opt_str(int argc, char **argv, const char *key, const char *const *allowed,
                   const char **v, qs_err *err)
{
    const char *s = qs_arg_kv(argc, argv, key);
    if (!s) return QS_OK;
    for (const char *const *a = allowed; *a; a++)
        if (strcmp(*a, s) == 0) {
            *v = *a;
            return QS_OK;
        }
    char list[256] = "";
    size_t o = 0;
    for (const char *const *a = allowed; *a && o < sizeof list; a++)
        o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", a == allowed ? "" : ", ", *a);
    return qs_err_set(err, "lab: %s='%s' is not one of %s", key, s, list);
}

/* "4" or "2..8" (lab sweep's bits=) */
static int parse_bits(const char *s, int *lo, int *hi, qs_err *err)
{
    long long a, b;
    const char *dots = strstr(s, "..");
    if (dots) {
        char first[32];
        size_t n = (size_t)(dots - s);
        if (n >= sizeof first) n = sizeof first - 1;
        memcpy(first, s, n);
        first[n] = 0;
        if (qs_parse_ll(first, &a) < 0 || qs_parse_ll(dots + 2, &b) < 0)
            return qs_err_set(err, "lab sweep: bits='%s': expected N or A..B", s);
    } else {
        if (qs_parse_ll(s, &a) < 0)
            return qs_err_set(err, "lab sweep: bits='%s': expected N or A..B", s);
        b = a;
    }
    if (a < 2 || b > 8 || a > 8 || b < 2)
        return qs_err_set(err, "lab sweep: bits='%s': weight bits must be within 2..8", s);
    if (a > b)
        return qs_err_set(err, "lab sweep: bits='%s': the range is reversed (write %lld..%lld)",
                          s, b, a);
    *lo = (int)a;
    *hi = (int)b;
    return QS_OK;
}

/* ---- lab state: data and the fp32 model ------------------------------------------------ */

static int ensure_data(qs_lab *lab, const char *name, qs_err *err)
{
    if (lab->data && strcmp(lab->data->name, name) == 0) return QS_OK;
    qs_nn_data *d = NULL;
    if (qs_nn_data_load(name, NULL, &d, err) != QS_OK) return QS_ERR;
    qs_nn_data_free(lab->data);
    lab->data = d;
    return QS_OK;
}

static void default_train(const char *data, qs_nn_train_cfg *c)
{
    int fashion = strcmp(data, "fashion") == 0;
    memset(c, 0, sizeof *c);
    c->epochs = fashion ? 5 : 80;
    c->batch = fashion ? 64 : 32;
    c->lr = 1e-3;
    c->opt = QS_NN_ADAM;
    c->seed = LAB_DEFAULT_SEED;
    c->freeze = -1;
}

/* Trains a new fp32 model into the lab, replacing the old one and its data set on success
 * only: a cancelled `lab train data=fashion` left the digits model paired with Fashion-MNIST,
 * and `lab ptq` then ran its 64 inputs over 784-pixel rows. */
static int lab_train(qs_session *s, qs_lab *lab, const char *data, const int *hidden, int nh,
                     const qs_nn_train_cfg *cfg, qs_err *err)
{
    qs_nn_data *nd = NULL;              /* a newly loaded data set, until training succeeds */
    const qs_nn_data *d = lab->data;
    if (!d || strcmp(d->name, data) != 0) {
        if (qs_nn_data_load(data, NULL, &nd, err) != QS_OK) return QS_ERR;
        d = nd;
    }
    int size[QS_NN_MAX_LAYERS + 1];
    size[0] = d->train.nfeat;
    for (int i = 0; i < nh; i++) size[i + 1] = hidden[i];
    size[nh + 1] = 10;
    qs_mlp *m = qs_mlp_new(nh + 1, size, cfg->seed, err);
    if (!m) {
        qs_nn_data_free(nd);
        return QS_ERR;
    }
    qs_nn_curve c = {0};
    int rc = qs_nn_train(QS_SINK(s), m, &d->train, &d->test, cfg, &c, err);
    if (rc != QS_OK) {
        qs_mlp_free(m);
        qs_nn_curve_fini(&c);
        qs_nn_data_free(nd);
        return rc;
    }
    if (nd) {
        qs_nn_data_free(lab->data);
        lab->data = nd;
    }
    qs_mlp_free(lab->fp32);
    lab->fp32 = m;
    qs_nn_curve_fini(&lab->curve);
    lab->curve = c;
    lab->tcfg = *cfg;
    lab->fp32_acc = c.epochs ? c.acc[c.epochs - 1] : qs_nn_accuracy(m, NULL, &lab->data->test);
    qs_nn_qmodel_free(lab->q);
    lab->q = NULL;
    snprintf(lab->source, sizeof lab->source, "trained");
    return QS_OK;
}

/* ptq/qat/sweep/int/lora train the default model first when there is none. */
static int ensure_trained(qs_session *s, qs_lab *lab, qs_err *err)
{
    if (lab->fp32) return QS_OK;
    qs_nn_train_cfg c;
    const char *data = lab->data ? lab->data->name : "digits";
    default_train(data, &c);
    int hidden[1] = { strcmp(data, "fashion") == 0 ? 256 : 64 };
    return lab_train(s, lab, data, hidden, 1, &c, err);
}

/* ---- lab train ------------------------------------------------------------------------- */

static const char *const data_names[] = { "digits", "fashion", NULL };
static const char *const opt_names[] = { "sgd", "adam", NULL };
static const char *const gran_names[] = { "tensor", "channel", NULL };
static const char *const shift_names[] = { "rot90", "invert", NULL };

static int parse_train(int argc, char **argv, const char *data, qs_nn_train_cfg *c,
                       qs_err *err)
{
    long long v;
    double d;
    const char *opt = "adam";
    default_train(data, c);
    v = c->epochs;
    if (qs_arg_int(argc, argv, "epochs", 1, QS_NN_MAX_EPOCHS, &v, err) != QS_OK) return QS_ERR;
    c->epochs = (int)v;
    v = c->batch;
    if (qs_arg_int(argc, argv, "batch", 1, 4096, &v, err) != QS_OK) return QS_ERR;
    c->batch = (int)v;
    v = LAB_DEFAULT_SEED;
    if (qs_arg_int(argc, argv, "seed", 0, (long long)1 << 62, &v, err) != QS_OK) return QS_ERR;
    c->seed = (uint64_t)v;
    if (opt_str(argc, argv, "opt", opt_names, &opt, err) != QS_OK) return QS_ERR;
    c->opt = strcmp(opt, "sgd") == 0 ? QS_NN_SGD : QS_NN_ADAM;
    c->lr = c->opt == QS_NN_SGD ? 0.05 : 1e-3;
    d = c->lr;
    if (qs_arg_double(argc, argv, "lr", 1e-9, 10.0, &d, err) != QS_OK) return QS_ERR;
    c->lr = d;
    return QS_OK;
}

static int sub_train(qs_session *s, qs_lab *lab, int argc, char **argv, json_t **out,
                     qs_err *err)
{
    /* the words passed this subcommand's specs (lab_subs, qs_cmd_run_sub) */
    const char *data = "digits";
    if (opt_str(argc, argv, "data", data_names, &data, err) != QS_OK) return QS_ERR;
    int hidden[QS_NN_MAX_LAYERS], nh = 0;
    const char *hs = qs_arg_kv(argc, argv, "hidden");
    if (hs) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", hs);
        for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
            long long v;
            if (nh == QS_NN_MAX_LAYERS - 1 || qs_parse_ll(tok, &v) < 0 || v < 1 || v > 4096)
                return qs_err_set(err, "lab train: hidden='%s': expected up to %d widths "
                                  "1..4096 separated by commas", hs, QS_NN_MAX_LAYERS - 1);
            hidden[nh++] = (int)v;
        }
        if (nh == 0) return qs_err_set(err, "lab train: hidden='%s' is empty", hs);
    } else {
        hidden[nh++] = strcmp(data, "fashion") == 0 ? 256 : 64;
    }
    qs_nn_train_cfg c;
    if (parse_train(argc, argv, data, &c, err) != QS_OK) return QS_ERR;
    int rc = lab_train(s, lab, data, hidden, nh, &c, err);
    if (rc != QS_OK) return rc;
    json_t *o = json_object();
    json_object_set_new(o, "data", json_string(lab->data->name));
    json_object_set_new(o, "sizes", sizes_json(lab->fp32));
    json_object_set_new(o, "params", json_integer(qs_mlp_params(lab->fp32)));
    json_object_set_new(o, "train", json_integer(lab->data->train.n));
    json_object_set_new(o, "calib", json_integer(lab->data->calib.n));
    json_object_set_new(o, "test", json_integer(lab->data->test.n));
    json_object_set_new(o, "epochs", json_integer(c.epochs));
    json_object_set_new(o, "batch", json_integer(c.batch));
    json_object_set_new(o, "opt", json_string(c.opt == QS_NN_SGD ? "sgd" : "adam"));
    qs_json_set_real(o, "lr", c.lr);
    json_object_set_new(o, "seed", json_integer((json_int_t)c.seed));
    qs_json_set_real(o, "train_acc", qs_nn_accuracy(lab->fp32, NULL, &lab->data->train));
    qs_json_set_real(o, "fp32_acc", lab->fp32_acc);
    curve_json(o, "", &lab->curve);
    *out = o;
    return QS_OK;
}

/* ---- quantization settings shared by ptq / qat / sweep / int --------------------------- */

static int parse_qcfg(int argc, char **argv, int wbits, qs_nn_qcfg *q, qs_err *err)
{
    long long v;
    const char *gran = "tensor", *cal = "minmax";
    memset(q, 0, sizeof *q);
    q->wbits = wbits;
    v = 8;
    if (qs_arg_int(argc, argv, "abits", 2, 8, &v, err) != QS_OK) return QS_ERR;
    q->abits = (int)v;
    if (opt_str(argc, argv, "gran", gran_names, &gran, err) != QS_OK) return QS_ERR;
    q->wgran = strcmp(gran, "tensor") == 0 ? QS_G_TENSOR : QS_G_CHANNEL;
    const char *cs = qs_arg_kv(argc, argv, "calib");
    if (cs) {
        int k = qs_calib_find(cs);
        if (k < 0 || !(qs_calib_table[k].flags & QS_CALF_LAB)) {
            char list[512];
            size_t o = 0;
            const char *w;
            for (int i = 0; (w = qs_vocab_calib_lab(i, NULL)) && o < sizeof list; i++)
                o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", w);
            return qs_err_set(err, "lab: calib='%s' is not one of %s", cs, list);
        }
        cal = qs_calib_table[k].name;
    }
    q->calib = (qs_calib_kind)qs_calib_find(cal);
    v = 0;
    if (qs_arg_int(argc, argv, "batches", 0, 1 << 20, &v, err) != QS_OK) return QS_ERR;
    q->batches = (int)v;
    q->batch = 32;
    q->pct = 99.99;
    if (qs_arg_double(argc, argv, "pct", 50.0, 100.0, &q->pct, err) != QS_OK) return QS_ERR;
    return QS_OK;
}

static int parse_qat(int argc, char **argv, qs_nn_train_cfg *c, qs_err *err)
{
    long long v;
    double d;
    memset(c, 0, sizeof *c);
    c->epochs = 5;
    c->batch = 32;
    c->opt = QS_NN_ADAM;
    c->seed = LAB_DEFAULT_SEED;
    c->lsq = qs_arg_flag(argc, argv, "lsq");
    v = c->epochs;
    if (qs_arg_int(argc, argv, "epochs", 1, QS_NN_MAX_EPOCHS, &v, err) != QS_OK) return QS_ERR;
    c->epochs = (int)v;
    v = (c->epochs + 1) / 2 + 1;
    if (qs_arg_int(argc, argv, "freeze", -1, QS_NN_MAX_EPOCHS, &v, err) != QS_OK) return QS_ERR;
    c->freeze = (int)v;
    d = 1e-3;
    if (qs_arg_double(argc, argv, "lr", 1e-9, 10.0, &d, err) != QS_OK) return QS_ERR;
    c->lr = d;
    v = LAB_DEFAULT_SEED;
    if (qs_arg_int(argc, argv, "seed", 0, (long long)1 << 62, &v, err) != QS_OK) return QS_ERR;
    c->seed = (uint64_t)v;
    return QS_OK;
}

static json_t *qmodel_layers(const qs_nn_qmodel *q)
{
    json_t *a = json_array();
    for (int l = 0; l < q->m->nl; l++) {
        json_t *r = json_object();
        char name[16];
        snprintf(name, sizeof name, "fc%d", l + 1);
        json_object_set_new(r, "layer", json_string(name));
        int nws = q->cfg.wgran == QS_G_CHANNEL ? q->m->size[l + 1] : 1;
        float lo = q->wscale[l][0], hi = lo;
        for (int j = 1; j < nws; j++) {
            lo = fminf(lo, q->wscale[l][j]);
            hi = fmaxf(hi, q->wscale[l][j]);
        }
        qs_json_set_real(r, "w_scale_min", lo);
        qs_json_set_real(r, "w_scale_max", hi);
        if (q->cfg.abits > 0) {
            qs_json_set_real(r, "a_lo", q->amin[l]);
            qs_json_set_real(r, "a_hi", q->amax[l]);
            qs_json_set_real(r, "a_scale", q->ascale[l]);
            json_object_set_new(r, "a_zp", json_integer(q->azp[l]));
        }
        json_array_append_new(a, r);
    }
    return a;
}

static void qcfg_json(json_t *o, const qs_nn_qcfg *q)
{
    json_object_set_new(o, "bits", json_integer(q->wbits));
    json_object_set_new(o, "abits", json_integer(q->abits));
    json_object_set_new(o, "gran", json_string(q->wgran == QS_G_CHANNEL ? "channel" : "tensor"));
    json_object_set_new(o, "calib", json_string(qs_calib_name(q->calib)));
}

static void set_lab_q(qs_lab *lab, qs_nn_qmodel *q, int qat)
{
    qs_nn_qmodel_free(lab->q);
    lab->q = q;
    lab->q_qat = qat;
}

/* ---- lab ptq / qat --------------------------------------------------------------------- */

static int sub_ptq(qs_session *s, qs_lab *lab, int argc, char **argv, json_t **out,
                   qs_err *err)
{
    /* the words passed this subcommand's specs (lab_subs, qs_cmd_run_sub) */
    long long bits = 8;
    if (qs_arg_int(argc, argv, "bits", 2, 8, &bits, err) != QS_OK) return QS_ERR;
    qs_nn_qcfg qc;
    if (parse_qcfg(argc, argv, (int)bits, &qc, err) != QS_OK) return QS_ERR;
    int rc = ensure_trained(s, lab, err);
    if (rc != QS_OK) return rc;
    qs_nn_qmodel *q = NULL;
    rc = qs_nn_ptq(QS_SINK(s), lab->fp32, &lab->data->calib, &qc, &q, err);
    if (rc != QS_OK) return rc;
    json_t *o = json_object();
    qcfg_json(o, &qc);
    /* the weight grid: symmetric narrow range, -qmax..qmax (qlab.c) */
    json_object_set_new(o, "w_qmin", json_integer(-qs_nn_wqmax(qc.wbits)));
    json_object_set_new(o, "w_qmax", json_integer(qs_nn_wqmax(qc.wbits)));
    json_object_set_new(o, "calib_samples", json_integer(
        qc.batches > 0 && (int64_t)qc.batches * qc.batch < lab->data->calib.n
            ? (int64_t)qc.batches * qc.batch : lab->data->calib.n));
    double acc = qs_nn_accuracy(q->m, q, &lab->data->test);
    qs_json_set_real(o, "fp32_acc", lab->fp32_acc);
    qs_json_set_real(o, "ptq_acc", acc);
    qs_json_set_real(o, "drop", lab->fp32_acc - acc);
    json_object_set_new(o, "layers", qmodel_layers(q));
    set_lab_q(lab, q, 0);
    *out = o;
    return QS_OK;
}

/* PTQ then QAT at one bit width: returns the QAT model and both accuracies. */
static int ptq_qat(qs_session *s, qs_lab *lab, const qs_nn_qcfg *qc, const qs_nn_train_cfg *tc,
                   qs_nn_qmodel **qout, double *ptq_acc, qs_nn_curve *curve, qs_err *err)
{
    qs_nn_qmodel *q = NULL;
    int rc = qs_nn_ptq(QS_SINK(s), lab->fp32, &lab->data->calib, qc, &q, err);
    if (rc != QS_OK) return rc;
    *ptq_acc = qs_nn_accuracy(q->m, q, &lab->data->test);
    rc = qs_nn_qat(QS_SINK(s), q, &lab->data->train, &lab->data->test, tc, curve, err);
    if (rc != QS_OK) {
        qs_nn_qmodel_free(q);
        return rc;
    }
    *qout = q;
    return QS_OK;
}

static int sub_qat(qs_session *s, qs_lab *lab, int argc, char **argv, json_t **out,
                   qs_err *err)
{
    /* the words passed this subcommand's specs (lab_subs, qs_cmd_run_sub) */
    long long bits = 4;
    if (qs_arg_int(argc, argv, "bits", 2, 8, &bits, err) != QS_OK) return QS_ERR;
    qs_nn_qcfg qc;
    qs_nn_train_cfg tc;
    if (parse_qcfg(argc, argv, (int)bits, &qc, err) != QS_OK ||
        parse_qat(argc, argv, &tc, err) != QS_OK)
        return QS_ERR;
    int rc = ensure_trained(s, lab, err);
    if (rc != QS_OK) return rc;
    qs_nn_qmodel *q = NULL;
    qs_nn_curve c = {0};
    double pacc = 0;
    rc = ptq_qat(s, lab, &qc, &tc, &q, &pacc, &c, err);
    if (rc != QS_OK) return rc;
    json_t *o = json_object();
    qcfg_json(o, &qc);
    json_object_set_new(o, "epochs", json_integer(tc.epochs));
    json_object_set_new(o, "freeze", json_integer(tc.freeze));
    json_object_set_new(o, "lsq", json_boolean(tc.lsq));
    qs_json_set_real(o, "lr", tc.lr);
    qs_json_set_real(o, "fp32_acc", lab->fp32_acc);
    qs_json_set_real(o, "ptq_acc", pacc);
    qs_json_set_real(o, "qat_acc", c.epochs ? c.acc[c.epochs - 1] : pacc);
    curve_json(o, "", &c);
    json_object_set_new(o, "layers", qmodel_layers(q));
    qs_nn_curve_fini(&c);
    set_lab_q(lab, q, 1);
    *out = o;
    return QS_OK;
}

/* ---- integer-only inference ------------------------------------------------------------ */

/* Integer predictions of the test set and their agreement with the fake-quant model. */
static int int_eval(const qs_nn_qmodel *q, const qs_nn_set *test, double *int_acc,
                    double *sim_acc, int64_t *agree, qs_nn_imodel **imout, qs_err *err)
{
    qs_nn_imodel *im = NULL;
    uint8_t *pi = malloc((size_t)(test->n ? test->n : 1));
    uint8_t *ps = malloc((size_t)(test->n ? test->n : 1));
    int rc = QS_ERR;
    if (!pi || !ps) {
        qs_err_set(err, "lab int: out of memory");
        goto done;
    }
    if (qs_nn_int_build(q, &im, err) != QS_OK) goto done;
    if (qs_nn_int_predict(im, test->x, test->n, pi, err) != QS_OK) goto done;
    if (qs_nn_predict(q->m, q, test->x, test->n, ps, err) != QS_OK) goto done;
    int64_t ok_i = 0, ok_s = 0, ag = 0;
    for (int64_t i = 0; i < test->n; i++) {
        ok_i += pi[i] == test->y[i];
        ok_s += ps[i] == test->y[i];
        ag += pi[i] == ps[i];
    }
    *int_acc = test->n ? (double)ok_i / test->n : 0;
    *sim_acc = test->n ? (double)ok_s / test->n : 0;
    *agree = ag;
    rc = QS_OK;
    if (imout) {
        *imout = im;
        im = NULL;
    }
done:
    qs_nn_imodel_free(im);
    free(pi);
    free(ps);
    return rc;
}

/* One derivation step; takes the reference to result (a JSON number or string). */
static json_t *step(const char *title, const char *formula, const char *subst,
                    json_t *result, const char *note)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:o, s:s}", "title", title, "formula", formula,
                          "substituted", subst, "result", result, "note", note);
    double v;           /* a number, or "inf" / "nan" as qs_json_real writes them */
    if (qs_json_real_get(result, &v) == 0) qs_json_set_real(j, "value", v);
    return j;
}

/* M = M0·2^-n (M0 a Q31 integer): computes M0 and the shift of M and returns the step the
 * multiplier records itself (qs_requant_multiplier_trace), as JSON; its value is what
 * M0·2^-n really is. Shared by `lab int` and `derive requant`. */
static json_t *fixed_point_step(double M, int32_t *m0, int *sh)
{
    qs_trace tr;
    memset(&tr, 0, sizeof tr);
    qs_requant_multiplier_trace(M, m0, sh, &tr);
    if (tr.n == 0) return json_null();      /* out of memory */
    const qs_step *t = &tr.steps[0];
    json_t *j = step(t->title, t->formula, t->substituted, json_string(t->result), t->note);
    qs_json_set_real(j, "value", t->value);
    qs_trace_fini(&tr);
    return j;
}

/* r = round(acc · M0 / 2^n), half away from zero (qs_requant without zero point or clamp). */
static json_t *rescale_step(int64_t acc, int32_t m0, int sh, int32_t *r)
{
    char sub[256];
    *r = qs_requant((int32_t)acc, m0, sh, 0, INT32_MIN, INT32_MAX);
    snprintf(sub, sizeof sub, "round(%lld · %d / 2^%d)", (long long)acc, m0, 31 + sh);
    return step("rescale", "r = round(acc · M0 / 2^n)", sub, json_integer(*r),
                "64-bit product, then a rounding right shift (half away from zero)");
}

/* gemmlowp's MultiplyByQuantizedMultiplier for a multiplier below 1 (TFLite's default path):
 * SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT, two roundings where qscope's
 * qs_requant makes one; *ok 0 when n - 31 is outside 0..31, which that path cannot shift. */
static int32_t gemmlowp_requant(int32_t acc, int32_t m0, int sh, int *ok)
{
    *ok = sh >= 0 && sh <= 31;
    if (!*ok) return 0;
    int32_t hi;
    if (acc == INT32_MIN && m0 == INT32_MIN) hi = INT32_MAX;
    else {
        int64_t ab = (int64_t)acc * m0;
        int64_t nudge = ab >= 0 ? (1 << 30) : 1 - (1 << 30);
        hi = (int32_t)((ab + nudge) / ((int64_t)1 << 31));     /* truncates toward 0 */
    }
    int32_t mask = (int32_t)(((int64_t)1 << sh) - 1), rem = hi & mask;
    int32_t thr = (mask >> 1) + (hi < 0);
    int32_t q = hi >= 0 ? hi >> sh : -(int32_t)((-(int64_t)hi + mask) >> sh);   /* floor */
    return q + (rem > thr);
}

/* The requantization of one output of fc1 for test sample 0, step by step. */
static json_t *requant_steps(const qs_nn_qmodel *q, const qs_nn_imodel *im,
                             const qs_nn_set *test, json_t *o)
{
    json_t *st = json_array();
    if (im->nl < 2 || test->n == 0) return st;
    int in = im->size[0], out_ = im->size[1];
    uint8_t *xc = malloc((size_t)in);
    int32_t *acc = malloc((size_t)out_ * sizeof(int32_t));
    uint8_t *codes = malloc((size_t)out_);
    if (!xc || !acc || !codes) goto done;
    float s_in = im->in_scale, inv = 1.0f / s_in;
    int32_t zp_in = im->zp[0];
    qs_layout lay = { QS_G_TENSOR, 1, in, 1, 1 };
    qs_qp qp = { &s_in, &inv, &zp_in, 0, im->amax_code, 0, QS_R_HALF_EVEN, 0 };
    qs_k()->quantize(test->x, &lay, &qp, xc);
    qs_k()->gemm_u8s8(1, out_, in, xc, in, zp_in, im->wq[0], in, 0, acc, out_);
    qs_requant_rows(acc, 1, out_, out_, im->bq[0], im->m0[0], im->shift[0], im->zp[1],
                    im->zp[1] > 0 ? im->zp[1] : 0, im->amax_code, codes);
    /* the first output that is not clamped to zero shows every step */
    int j = 0;
    for (int k = 0; k < out_; k++)
        if (codes[k] > im->zp[1]) { j = k; break; }
    float s_w = q->wscale[0][q->cfg.wgran == QS_G_CHANNEL ? j : 0], s_out = q->ascale[1];
    double M = (double)s_in * s_w / s_out;
    int32_t m0 = im->m0[0][j], m0s;
    int sh = im->shift[0][j], shs;
    int64_t a = (int64_t)acc[j] + im->bq[0][j];
    char sub[512];
    json_object_set_new(o, "example_sample", json_integer(0));
    json_object_set_new(o, "example_output", json_integer(j));
    snprintf(sub, sizeof sub, "Σ over %d inputs of (x_q - %d)·w_q[%d,k]", in, zp_in, j);
    json_array_append_new(st, step("accumulate in int32", "acc = Σ (x_q - zp_in)·w_q", sub,
                                   json_integer(acc[j]),
                                   "uint8 inputs × int8 weights, exact integer sums"));
    snprintf(sub, sizeof sub, "round(%.6g / (%.6g · %.6g)) = %d; %d + %d", q->m->b[0][j],
             s_in, s_w, im->bq[0][j], acc[j], im->bq[0][j]);
    json_array_append_new(st, step("add the int32 bias", "acc += round(b / (S_in·S_w))", sub,
                                   json_integer(a),
                                   "the bias is stored at the accumulator's scale"));
    snprintf(sub, sizeof sub, "%.8g · %.8g / %.8g", s_in, s_w, s_out);
    json_array_append_new(st, step("real multiplier", "M = S_in·S_w / S_out", sub,
                                   qs_json_real(M),
                                   q->cfg.wgran == QS_G_CHANNEL
                                   ? "one float per output channel, computed once offline"
                                   : "one float per layer (one scale per weight tensor), "
                                     "computed once offline"));
    json_array_append_new(st, fixed_point_step(M, &m0s, &shs));   /* = the model's m0, sh */
    int32_t r;
    json_array_append_new(st, rescale_step(a, m0, sh, &r));
    snprintf(sub, sizeof sub, "clamp(%d + %d, %d, %d)", r, im->zp[1],
             im->zp[1] > 0 ? im->zp[1] : 0, im->amax_code);
    json_array_append_new(st, step("zero point, clamp (ReLU)", "q = clamp(r + zp_out, zp_out, "
                                   "qmax)", sub, json_integer(codes[j]),
                                   "clamping at the zero point is the ReLU"));
    snprintf(sub, sizeof sub, "(%d - %d) · %.8g", codes[j], im->zp[1], s_out);
    json_array_append_new(st, step("what it means", "y = (q - zp_out) · S_out", sub,
                                   qs_json_real((codes[j] - im->zp[1]) * (double)s_out),
                                   "the real activation the next layer sees"));
done:
    free(xc);
    free(acc);
    free(codes);
    return st;
}

static int sub_int(qs_session *s, qs_lab *lab, int argc, char **argv, json_t **out,
                   qs_err *err)
{
    /* the words passed this subcommand's specs (lab_subs, qs_cmd_run_sub) */
    int rc = ensure_trained(s, lab, err);
    if (rc != QS_OK) return rc;
    /* the last PTQ/QAT model, or a fresh PTQ when settings are given or there is none */
    if (!lab->q || argc > 0) {       /* any of ptq_args: bits abits gran calib batches pct */
        long long bits = 8;
        qs_nn_qcfg qc;
        if (qs_arg_int(argc, argv, "bits", 2, 8, &bits, err) != QS_OK ||
            parse_qcfg(argc, argv, (int)bits, &qc, err) != QS_OK)
            return QS_ERR;
        qs_nn_qmodel *q = NULL;
        rc = qs_nn_ptq(QS_SINK(s), lab->fp32, &lab->data->calib, &qc, &q, err);
        if (rc != QS_OK) return rc;
        set_lab_q(lab, q, 0);
    }
    double iacc, sacc;
    int64_t ag;
    qs_nn_imodel *im = NULL;
    if (int_eval(lab->q, &lab->data->test, &iacc, &sacc, &ag, &im, err) != QS_OK) return QS_ERR;
    json_t *o = json_object();
    json_object_set_new(o, "model", json_string(lab->q_qat ? "qat" : "ptq"));
    qcfg_json(o, &lab->q->cfg);
    qs_json_set_real(o, "fp32_acc", lab->fp32_acc);
    qs_json_set_real(o, "sim_acc", sacc);
    qs_json_set_real(o, "int_acc", iacc);
    qs_json_set_real(o, "int_agree", lab->data->test.n ? (double)ag / lab->data->test.n : 0);
    json_object_set_new(o, "agree", json_integer(ag));
    json_object_set_new(o, "test", json_integer(lab->data->test.n));
    json_t *layers = json_array();
    for (int l = 0; l < im->nl; l++) {
        char name[16];
        snprintf(name, sizeof name, "fc%d", l + 1);
        json_t *r = json_object();
        json_object_set_new(r, "layer", json_string(name));
        json_object_set_new(r, "in_zp", json_integer(im->zp[l]));
        if (l + 1 < im->nl) {
            json_object_set_new(r, "M0", json_integer(im->m0[l][0]));
            json_object_set_new(r, "n", json_integer(31 + im->shift[l][0]));
            qs_json_set_real(r, "M", ldexp((double)im->m0[l][0], -(31 + im->shift[l][0])));
            if (lab->q->cfg.wgran == QS_G_CHANNEL) {
                /* one multiplier per output channel: M0, n and M above are output 0's */
                double lo = INFINITY, hi = -INFINITY;
                for (int j = 0; j < im->size[l + 1]; j++) {
                    double mj = ldexp((double)im->m0[l][j], -(31 + im->shift[l][j]));
                    lo = fmin(lo, mj);
                    hi = fmax(hi, mj);
                }
                qs_json_set_real(r, "M_min", lo);
                qs_json_set_real(r, "M_max", hi);
            }
        } else {
            json_object_set_new(r, "M0", json_null());
            json_object_set_new(r, "n", json_null());
            json_object_set_new(r, "M", json_null());
        }
        json_object_set_new(r, "output", json_string(l + 1 < im->nl ? "uint8 (requantized)"
                                                     : "int32 logits · S_in·S_w, argmax"));
        json_array_append_new(layers, r);
    }
    json_object_set_new(o, "layers", layers);
    json_object_set_new(o, "steps", requant_steps(lab->q, im, &lab->data->test, o));
    qs_nn_imodel_free(im);
    *out = o;
    return QS_OK;
}

/* ---- derive requant: the fixed-point multiplier on its own ------------------------------ */

/* `derive requant [M=m | s_in=S s_w=S s_out=S] [acc=A] [zp=Z] [qmin=Q] [qmax=Q]`: how an
 * int32 accumulator is brought to the next layer's scale with integers only. Without M or
 * scales: the lab's integer model (its last PTQ/QAT model, else W8A8 PTQ), as `lab int`. */
int qs_cmd_derive_requant(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    static const char *const keys[] = { "M", "s_in", "s_w", "s_out", "acc", "zp", "qmin",
                                        "qmax", NULL };
    const qs_cmd *me = qs_cmd_find("derive");
    if (me && qs_arg_check(me, argc - 1, argv + 1, keys, NULL, 0, err) != QS_OK) return QS_ERR;
    int has_m = qs_arg_kv(argc, argv, "M") != NULL;
    int ns = !!qs_arg_kv(argc, argv, "s_in") + !!qs_arg_kv(argc, argv, "s_w") +
             !!qs_arg_kv(argc, argv, "s_out");
    if (!has_m && ns == 0) {
        if (argc > 1)
            return qs_err_set(err, "derive requant: acc=, zp=, qmin= and qmax= need M= or "
                              "s_in= s_w= s_out=");
        int rc = sub_int(s, qs_lab_get(s), 0, NULL, out, err);
        if (rc == QS_OK) json_object_set_new(*out, "source", json_string("lab"));
        return rc;
    }
    if (has_m && ns)
        return qs_err_set(err, "derive requant: give either M= or s_in= s_w= s_out=, not both");
    if (!has_m && ns != 3)
        return qs_err_set(err, "derive requant: s_in=, s_w= and s_out= go together");
    double M = 0, s_in = 0, s_w = 0, s_out = 0;
    if (qs_arg_double(argc, argv, "M", 1e-30, 65536.0, &M, err) != QS_OK ||
        qs_arg_double(argc, argv, "s_in", 1e-30, 1e30, &s_in, err) != QS_OK ||
        qs_arg_double(argc, argv, "s_w", 1e-30, 1e30, &s_w, err) != QS_OK ||
        qs_arg_double(argc, argv, "s_out", 1e-30, 1e30, &s_out, err) != QS_OK)
        return QS_ERR;
    long long acc = 0, zp = 0, qmin = 0, qmax = 255;
    int has_acc = qs_arg_kv(argc, argv, "acc") != NULL;
    if (qs_arg_int(argc, argv, "acc", INT32_MIN, INT32_MAX, &acc, err) != QS_OK ||
        qs_arg_int(argc, argv, "zp", INT32_MIN, INT32_MAX, &zp, err) != QS_OK ||
        qs_arg_int(argc, argv, "qmin", INT32_MIN, INT32_MAX, &qmin, err) != QS_OK ||
        qs_arg_int(argc, argv, "qmax", INT32_MIN, INT32_MAX, &qmax, err) != QS_OK)
        return QS_ERR;
    if (qmin > qmax)
        return qs_err_set(err, "derive requant: qmin=%lld is above qmax=%lld", qmin, qmax);
    char sub[512];
    json_t *o = json_object(), *st = json_array();
    if (!has_m) {
        M = s_in * s_w / s_out;
        if (!(M > 0) || !(M < 65536.0)) {
            json_decref(o);
            json_decref(st);
            return qs_err_set(err, "derive requant: M = s_in·s_w/s_out = %g is outside "
                              "(0, 65536)", M);
        }
        snprintf(sub, sizeof sub, "%.10g · %.10g / %.10g", s_in, s_w, s_out);
        json_array_append_new(st, step("real multiplier", "M = S_in·S_w / S_out", sub,
                                       qs_json_real(M),
                                       "the accumulator's scale over the output's scale"));
    }
    int32_t m0;
    int sh;
    json_array_append_new(st, fixed_point_step(M, &m0, &sh));
    int n = 31 + sh;
    double Mq = ldexp((double)m0, -n);
    snprintf(sub, sizeof sub, "%d · 2^-%d = %.17g", m0, n, Mq);
    json_array_append_new(st, step("what M0·2^-n is", "M0 · 2^-n", sub, qs_json_real(Mq),
                                   "off from M by at most half a unit of 2^-(n): a relative "
                                   "error below 2^-31"));
    qs_json_set_real(o, "M", M);
    json_object_set_new(o, "M0", json_integer(m0));
    json_object_set_new(o, "n", json_integer(n));
    qs_json_set_real(o, "M_fixed", Mq);
    qs_json_set_real(o, "rel_error", (Mq - M) / M);
    if (has_acc) {
        int32_t r;
        json_array_append_new(st, rescale_step(acc, m0, sh, &r));
        int32_t q = qs_requant((int32_t)acc, m0, sh, (int32_t)zp, (int32_t)qmin, (int32_t)qmax);
        double exact = (double)acc * M;
        snprintf(sub, sizeof sub, "%lld · %.10g = %.10g", acc, M, exact);
        json_array_append_new(st, step("compare: the real product", "acc · M", sub,
                                       qs_json_real(exact),
                                       "what floating point would give before rounding"));
        int gok;
        int32_t rg = gemmlowp_requant((int32_t)acc, m0, sh, &gok);
        if (gok) {
            snprintf(sub, sizeof sub, "RoundingDivideByPOT(SRDHM(%lld, %d), %d)", acc, m0, sh);
            json_array_append_new(st, step(
                "compare: gemmlowp's two roundings",
                "RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(acc, M0), n - 31)", sub,
                json_integer(rg),
                rg == r ? "the same as the one rounding above here"
                        : "not the one rounding above: the high multiply rounds acc·M0/2^31 to "
                          "an integer first (its nudge sends negative ties up), the shift "
                          "rounds again"));
            json_object_set_new(o, "r_gemmlowp", json_integer(rg));
        }
        snprintf(sub, sizeof sub, "clamp(%d + %lld, %lld, %lld)", r, zp, qmin, qmax);
        long long rz = (long long)r + zp;
        json_array_append_new(st, step("zero point, clamp", "q = clamp(r + zp, qmin, qmax)",
                                       sub, json_integer(q),
                                       qmin == zp ? "qmin = zp makes the clamp a ReLU"
                                       : rz < qmin || rz > qmax
                                       ? "saturated: r + zp lies outside [qmin, qmax]" : ""));
        json_object_set_new(o, "acc", json_integer(acc));
        json_object_set_new(o, "r", json_integer(r));
        qs_json_set_real(o, "exact", exact);
        json_object_set_new(o, "q", json_integer(q));
        json_object_set_new(o, "zp", json_integer(zp));
        json_object_set_new(o, "qmin", json_integer(qmin));
        json_object_set_new(o, "qmax", json_integer(qmax));
    }
    json_object_set_new(o, "source", json_string("given"));
    json_object_set_new(o, "steps", st);
    *out = o;
    (void)s;
    return QS_OK;
}

/* ---- lab sweep ------------------------------------------------------------------------- */

static int sub_sweep(qs_session *s, qs_lab *lab, int argc, char **argv, json_t **out,
                     qs_err *err)
{
    /* the words passed this subcommand's specs (lab_subs, qs_cmd_run_sub) */
    int lo = 2, hi = 8;
    const char *bs = qs_arg_kv(argc, argv, "bits");
    if (bs && parse_bits(bs, &lo, &hi, err) != QS_OK) return QS_ERR;
    qs_nn_qcfg qc;
    qs_nn_train_cfg tc;
    if (parse_qcfg(argc, argv, lo, &qc, err) != QS_OK || parse_qat(argc, argv, &tc, err) != QS_OK)
        return QS_ERR;
    int rc = ensure_trained(s, lab, err);
    if (rc != QS_OK) return rc;
    json_t *rows = json_array();
    for (int b = lo; b <= hi; b++) {
        char label[32];
        snprintf(label, sizeof label, "sweep W%d: qat", b);
        tc.label = label;
        qc.wbits = b;
        qs_nn_qmodel *q = NULL;
        double pacc = 0, iacc = 0, sacc = 0;
        int64_t ag = 0;
        rc = ptq_qat(s, lab, &qc, &tc, &q, &pacc, NULL, err);
        if (rc == QS_OK) rc = int_eval(q, &lab->data->test, &iacc, &sacc, &ag, NULL, err);
        if (rc != QS_OK) {
            qs_nn_qmodel_free(q);
            json_decref(rows);
            return rc;
        }
        tc.label = NULL;
        json_t *r = json_object();
        json_object_set_new(r, "bits", json_integer(b));
        qs_json_set_real(r, "fp32_acc", lab->fp32_acc);
        qs_json_set_real(r, "ptq_acc", pacc);
        qs_json_set_real(r, "qat_acc", sacc);
        qs_json_set_real(r, "int_acc", iacc);
        qs_json_set_real(r, "int_agree", lab->data->test.n ? (double)ag / lab->data->test.n : 0);
        json_array_append_new(rows, r);
        qs_nn_qmodel_free(q);
    }
    json_t *o = json_object();
    json_object_set_new(o, "data", json_string(lab->data->name));
    json_object_set_new(o, "abits", json_integer(qc.abits));
    json_object_set_new(o, "gran", json_string(qc.wgran == QS_G_CHANNEL ? "channel" : "tensor"));
    json_object_set_new(o, "calib", json_string(qs_calib_name(qc.calib)));
    json_object_set_new(o, "qat_epochs", json_integer(tc.epochs));
    json_object_set_new(o, "rows", rows);
    *out = o;
    return QS_OK;
}

/* ---- LoRA / QLoRA ---------------------------------------------------------------------- */

static int sub_lora(qs_session *s, qs_lab *lab, int argc, char **argv, json_t **out,
                    qs_err *err, int with_qlora)
{
    /* the words passed this subcommand's specs (lab_subs, qs_cmd_run_sub) */
    long long rank = 4, v, epochs = 20;
    const char *shift = "rot90";
    double alpha, lr = 1e-2, full_lr = 1e-3;
    if (qs_arg_int(argc, argv, "rank", 1, 10, &rank, err) != QS_OK) return QS_ERR;
    alpha = 2.0 * (double)rank;
    if (qs_arg_double(argc, argv, "alpha", 1e-6, 1e6, &alpha, err) != QS_OK ||
        qs_arg_double(argc, argv, "lr", 1e-9, 10.0, &lr, err) != QS_OK ||
        qs_arg_double(argc, argv, "full_lr", 1e-9, 10.0, &full_lr, err) != QS_OK ||
        qs_arg_int(argc, argv, "epochs", 1, QS_NN_MAX_EPOCHS, &epochs, err) != QS_OK ||
        opt_str(argc, argv, "shift", shift_names, &shift, err) != QS_OK)
        return QS_ERR;
    v = LAB_DEFAULT_SEED;
    if (qs_arg_int(argc, argv, "seed", 0, (long long)1 << 62, &v, err) != QS_OK) return QS_ERR;
    int rc = ensure_trained(s, lab, err);
    if (rc != QS_OK) return rc;
    /* B·A has rank at most min(d, k): a higher rank adds parameters, not capacity (fc2,
     * 10 outputs, is the smallest unless a hidden width is narrower) */
    int maxr = 1 << 30, maxl = 0;
    for (int l = 0; l < lab->fp32->nl; l++) {
        int d = lab->fp32->size[l + 1], kk = lab->fp32->size[l], mn = d < kk ? d : kk;
        if (mn < maxr) {
            maxr = mn;
            maxl = l;
        }
    }
    if (rank > maxr)
        return qs_err_set(err, "%s: rank=%lld is above %d, the smaller side of fc%d (%d×%d): "
                          "a rank can be at most min(d, k) of every layer",
                          with_qlora ? "lab qlora" : "lab lora", rank, maxr, maxl + 1,
                          lab->fp32->size[maxl + 1], lab->fp32->size[maxl]);
    /* Fashion-MNIST (784 inputs, 55000 samples) defaults to 3 epochs with the adapters at
     * lr 0.002: at 0.01 they diverge there. On digits full fine-tuning gets lr 0.003: the
     * 80-epoch base starts the rotated task at a loss of ~13, and at 0.001 twenty epochs
     * leave it 4-6 points short of where it converges (seeds 1-4) */
    int fashion = strcmp(lab->data->name, "fashion") == 0;
    if (fashion && !qs_arg_kv(argc, argv, "epochs")) epochs = 3;
    if (fashion && !qs_arg_kv(argc, argv, "lr")) lr = 2e-3;
    if (!fashion && !qs_arg_kv(argc, argv, "full_lr")) full_lr = 3e-3;
    qs_nn_train_cfg tc;
    memset(&tc, 0, sizeof tc);
    tc.epochs = (int)epochs;
    tc.batch = fashion ? 64 : 32;
    tc.opt = QS_NN_ADAM;
    tc.freeze = -1;
    tc.seed = (uint64_t)v;
    qs_nn_set tr = {0}, te = {0};
    if (qs_nn_set_shift(&lab->data->train, lab->data->side, shift, &tr, err) != QS_OK)
        return QS_ERR;
    if (qs_nn_set_shift(&lab->data->test, lab->data->side, shift, &te, err) != QS_OK) {
        qs_nn_set_fini(&tr);
        return QS_ERR;
    }
    json_t *o = json_object(), *methods = json_array();
    static const char *const names[] = { "full", "lora", "qlora" };
    int nm = with_qlora ? 3 : 2;
    for (int k = 0; k < nm && rc == QS_OK; k++) {
        qs_nn_ft_result r;
        qs_nn_train_cfg c = tc;
        c.lr = k == 0 ? full_lr : lr;
        rc = qs_nn_finetune(QS_SINK(s), lab->fp32, (qs_nn_ft)k, (int)rank, alpha, &tr, &te, &c, &r, err);
        if (rc != QS_OK) break;
        json_t *row = json_object();
        json_object_set_new(row, "method", json_string(names[k]));
        qs_json_set_real(row, "acc", r.acc);
        json_object_set_new(row, "trainable", json_integer(r.trainable));
        json_object_set_new(row, "frozen", json_integer(r.frozen));
        qs_json_set_real(row, "base_bits", r.base_bits);
        json_object_set_new(row, "weight_bytes", json_integer(r.weight_bytes));
        json_object_set_new(row, "train_bytes", json_integer(r.train_bytes));
        json_array_append_new(methods, row);
        char prefix[16];
        snprintf(prefix, sizeof prefix, "%s_", names[k]);
        curve_json(o, prefix, &r.curve);
        if (k == 2) qs_json_set_real(o, "nf4_rms_error", r.base_err);
        qs_nn_curve_fini(&r.curve);
    }
    double base_acc = qs_nn_accuracy(lab->fp32, NULL, &te);
    qs_nn_set_fini(&tr);
    qs_nn_set_fini(&te);
    if (rc != QS_OK) {
        json_decref(o);
        json_decref(methods);
        return rc;
    }
    json_object_set_new(o, "task", json_string(shift));
    json_object_set_new(o, "rank", json_integer(rank));
    qs_json_set_real(o, "alpha", alpha);
    qs_json_set_real(o, "scaling", alpha / (double)rank);
    json_object_set_new(o, "epochs", json_integer(tc.epochs));
    qs_json_set_real(o, "fp32_acc", lab->fp32_acc);
    qs_json_set_real(o, "base_acc", base_acc);
    json_object_set_new(o, "methods", methods);
    /* the parameter arithmetic: d·k values per weight matrix vs r·(d + k) for B·A */
    json_t *ar = json_array();
    for (int l = 0; l < lab->fp32->nl; l++) {
        int d = lab->fp32->size[l + 1], kk = lab->fp32->size[l];
        char name[16];
        snprintf(name, sizeof name, "fc%d", l + 1);
        json_t *r = json_object();
        json_object_set_new(r, "layer", json_string(name));
        json_object_set_new(r, "d", json_integer(d));
        json_object_set_new(r, "k", json_integer(kk));
        json_object_set_new(r, "full", json_integer((json_int_t)d * kk));
        json_object_set_new(r, "lora", json_integer((json_int_t)rank * (d + kk)));
        qs_json_set_real(r, "fraction", (double)rank * (d + kk) / ((double)d * kk));
        json_array_append_new(ar, r);
    }
    json_object_set_new(o, "param_arithmetic", ar);
    json_object_set_new(o, "example", json_string(
        "W is d×k = 3×3 = 9 values; B (3×1) · A (1×3) = 3·1 + 1·3 = 6 values: "
        "r·(d+k) instead of d·k"));
    *out = o;
    return QS_OK;
}

/* ---- save / load / status -------------------------------------------------------------- */

static int sub_save(qs_session *s, qs_lab *lab, int argc, char **argv, json_t **out,
                    qs_err *err)
{
    int force = 0;
    const char *path = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--force") == 0) force = 1;
        else if (path || strchr(argv[i], '='))
            return qs_err_set(err, "lab save: expected one PATH (usage: lab save PATH "
                              "[--force])");
        else path = argv[i];
    }
    if (!path)
        return qs_err_set(err, "lab save: expected one PATH (usage: lab save PATH [--force])");
    if (qs_cmd_check_path(s, "lab save", path, 1, err) != QS_OK) return QS_ERR;
    if (qs_io_check_target("lab save", path, force, NULL, err) != QS_OK) return QS_ERR;
    int rc = ensure_trained(s, lab, err);
    if (rc != QS_OK) return rc;
    char note[128];
    snprintf(note, sizeof note, "%s, test accuracy %.4f", lab->data ? lab->data->name : "",
             lab->fp32_acc);
    unsigned char *bytes = NULL;
    size_t nbytes = 0;
    if (qs_mlp_serialize(lab->fp32, note, &bytes, &nbytes, err) != QS_OK)
        return qs_err_prefix(err, "lab save");
    rc = qs_io_write_file("lab save", path, bytes, nbytes, force, err);
    free(bytes);
    if (rc != QS_OK) return QS_ERR;
    json_t *o = json_object();
    json_object_set_new(o, "saved", json_string(path));
    json_object_set_new(o, "sizes", sizes_json(lab->fp32));
    json_object_set_new(o, "tensors", json_integer(2 * lab->fp32->nl));
    json_object_set_new(o, "params", json_integer(qs_mlp_params(lab->fp32)));
    *out = o;
    return QS_OK;
}

static int sub_load(qs_session *s, qs_lab *lab, int argc, char **argv, json_t **out,
                    qs_err *err)
{
    (void)s;
    if (argc != 1 || strchr(argv[0], '='))
        return qs_err_set(err, "lab load: expected one PATH (usage: lab load PATH)");
    qs_mlp *m = NULL;
    if (qs_cmd_check_path(s, "lab load", argv[0], 0, err) != QS_OK) return QS_ERR;
    if (qs_mlp_load(argv[0], &m, err) != QS_OK) return qs_err_prefix(err, "lab load");
    const char *data = m->size[0] == 64 ? "digits" : m->size[0] == 784 ? "fashion" : NULL;
    if (!data || m->size[m->nl] != 10) {
        qs_err_set(err, "lab load: %s: a %d-input, %d-output MLP fits neither digits (64 → 10) nor "
                   "fashion (784 → 10)", argv[0], m->size[0], m->size[m->nl]);
        qs_mlp_free(m);
        return QS_ERR;
    }
    if (ensure_data(lab, data, err) != QS_OK) {
        qs_mlp_free(m);
        return QS_ERR;
    }
    qs_mlp_free(lab->fp32);
    lab->fp32 = m;
    qs_nn_curve_fini(&lab->curve);
    default_train(data, &lab->tcfg);
    lab->fp32_acc = qs_nn_accuracy(m, NULL, &lab->data->test);
    set_lab_q(lab, NULL, 0);
    snprintf(lab->source, sizeof lab->source, "%s", argv[0]);
    json_t *o = json_object();
    json_object_set_new(o, "loaded", json_string(argv[0]));
    json_object_set_new(o, "data", json_string(data));
    json_object_set_new(o, "sizes", sizes_json(m));
    json_object_set_new(o, "params", json_integer(qs_mlp_params(m)));
    qs_json_set_real(o, "fp32_acc", lab->fp32_acc);
    *out = o;
    return QS_OK;
}

static int sub_status(qs_session *s, qs_lab *lab, int argc, char **argv, json_t **out,
                      qs_err *err)
{
    (void)s;
    if (argc != 0) return qs_err_set(err, "lab status: takes no arguments");
    json_t *o = json_object();
    json_object_set_new(o, "data", lab->data ? json_string(lab->data->name) : json_null());
    if (lab->data) {
        json_object_set_new(o, "data_path", json_string(lab->data->path));
        json_object_set_new(o, "train", json_integer(lab->data->train.n));
        json_object_set_new(o, "calib", json_integer(lab->data->calib.n));
        json_object_set_new(o, "test", json_integer(lab->data->test.n));
    }
    json_object_set_new(o, "trained", json_boolean(lab->fp32 != NULL));
    if (lab->fp32) {
        json_object_set_new(o, "model", json_string(lab->source));
        json_object_set_new(o, "sizes", sizes_json(lab->fp32));
        json_object_set_new(o, "params", json_integer(qs_mlp_params(lab->fp32)));
        qs_json_set_real(o, "fp32_acc", lab->fp32_acc);
        if (lab->curve.epochs) curve_json(o, "", &lab->curve);
    }
    if (lab->q) {
        char d[64];
        snprintf(d, sizeof d, "%s W%dA%d", lab->q_qat ? "qat" : "ptq", lab->q->cfg.wbits,
                 lab->q->cfg.abits);
        json_object_set_new(o, "quantized", json_string(d));
    } else {
        json_object_set_new(o, "quantized", json_null());
    }
    *out = o;
    return QS_OK;
}

/* ---- dispatch -------------------------------------------------------------------------- */

/* Each subcommand is a row of lab_subs: the session's lab, then the sub_ function. */
#define LAB_SUB(fn, call)                                                                  \
    static int fn(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)          \
    {                                                                                      \
        qs_lab *lab = qs_lab_get(s);                                                       \
        if (!lab) return qs_err_set(err, "lab: out of memory");                            \
        return call;                                                                       \
    }
LAB_SUB(labsub_train, sub_train(s, lab, argc, argv, out, err))
LAB_SUB(labsub_ptq, sub_ptq(s, lab, argc, argv, out, err))
LAB_SUB(labsub_qat, sub_qat(s, lab, argc, argv, out, err))
LAB_SUB(labsub_sweep, sub_sweep(s, lab, argc, argv, out, err))
LAB_SUB(labsub_int, sub_int(s, lab, argc, argv, out, err))
LAB_SUB(labsub_lora, sub_lora(s, lab, argc, argv, out, err, 0))
LAB_SUB(labsub_qlora, sub_lora(s, lab, argc, argv, out, err, 1))
LAB_SUB(labsub_save, sub_save(s, lab, argc, argv, out, err))
LAB_SUB(labsub_load, sub_load(s, lab, argc, argv, out, err))
LAB_SUB(labsub_status, sub_status(s, lab, argc, argv, out, err))

/* ---- argument specs of the subcommands ------------------------------------------------- */

#define A_EPOCHS { QS_ARG_INT, "epochs", "E", 1, QS_NN_MAX_EPOCHS, NULL, NULL, NULL, NULL }
#define A_LR { QS_ARG_REAL, "lr", "LR", 1e-9, 10.0, NULL, NULL, NULL, NULL }
#define A_SEED { QS_ARG_INT, "seed", "S", 0, (double)((long long)1 << 62), "1", NULL, NULL, \
                 NULL }
#define A_QCFG                                                                              \
    { QS_ARG_INT, "abits", "A", 2, 8, "8", NULL, NULL, NULL },                              \
    { QS_ARG_TEXT, "gran", "G", 0, 0, "tensor", NULL, gran_names, NULL },                   \
    { QS_ARG_TEXT, "calib", "CALIB", 0, 0, "minmax", "the calibrator of the activation "    \
      "ranges, the weights always take absmax; movavg averages over the calibration "       \
      "batches",                                                                            \
      NULL, qs_vocab_calib_lab },                                                           \
    { QS_ARG_INT, "batches", "N", 0, 1 << 20, "0", "calibration batches of 32 samples (0: " \
      "the whole calibration set)", NULL, NULL },                                           \
    { QS_ARG_REAL, "pct", "P", 50.0, 100.0, "99.99", "the percentile of calib=percentile",  \
      NULL, NULL }
#define A_BITS(def) { QS_ARG_INT, "bits", "B", 2, 8, def, NULL, NULL, NULL }

static const qs_arg train_args[] = {
    { QS_ARG_TEXT, "data", "D", 0, 0, "digits", NULL, data_names, NULL },
    { QS_ARG_TEXT, "hidden", "H", 0, 0, "64", NULL, NULL, NULL },
    A_EPOCHS, A_LR,
    { QS_ARG_TEXT, "opt", "O", 0, 0, "adam", NULL, opt_names, NULL },
    A_SEED,
    { QS_ARG_INT, "batch", "N", 1, 4096, "32", NULL, NULL, NULL },
    { 0 },
};
static const qs_arg ptq_args[] = { A_BITS("8"), A_QCFG, { 0 } };
static const qs_arg qat_args[] = {
    A_BITS("4"), A_QCFG, A_EPOCHS, A_LR,
    { QS_ARG_INT, "freeze", "E", -1, QS_NN_MAX_EPOCHS, NULL, NULL, NULL, NULL },
    A_SEED, { QS_ARG_FLAG, "lsq", NULL, 0, 0, NULL, "learned step sizes (LSQ)", NULL, NULL }, { 0 },
};
static const qs_arg sweep_args[] = {
    { QS_ARG_TEXT, "bits", "LO..HI", 0, 0, "2..8", NULL, NULL, NULL }, A_QCFG, A_EPOCHS, A_LR,
    { QS_ARG_INT, "freeze", "E", -1, QS_NN_MAX_EPOCHS, NULL, NULL, NULL, NULL },
    A_SEED, { QS_ARG_FLAG, "lsq", NULL, 0, 0, NULL, "learned step sizes (LSQ)", NULL, NULL }, { 0 },
};
static const qs_arg lora_args[] = {
    { QS_ARG_INT, "rank", "R", 1, 10, "4", "adapter rank, at most min(d, k) of every layer "
      "(10, the classes, unless a hidden width is smaller)", NULL, NULL },
    { QS_ARG_REAL, "alpha", "A", 1e-6, 1e6, NULL, NULL, NULL, NULL },
    A_EPOCHS, A_LR,
    { QS_ARG_REAL, "full_lr", "LR", 1e-9, 10.0, NULL, NULL, NULL, NULL },
    { QS_ARG_TEXT, "shift", "S", 0, 0, "rot90", NULL, shift_names, NULL },
    A_SEED, { 0 },
};
static const qs_arg save_args[] = {
    { QS_ARG_POS, "PATH", NULL, 0, 0, NULL, "the safetensors file to write", NULL, NULL },
    { QS_ARG_FLAG, "--force", NULL, 0, 0, NULL, "replace an existing PATH", NULL, NULL },
    { 0 },
};
static const qs_arg load_args[] = {
    { QS_ARG_POS, "PATH", NULL, 0, 0, NULL, "a model written by lab save", NULL, NULL },
    { 0 },
};

/* The nested table: `lab NAME ...` runs row NAME with the words after it. */
static const qs_cmd lab_subs[] = {
    {"train", "lab", "lab train [data=digits|fashion] [hidden=64] [epochs=80] [lr=0.001] "
     "[opt=adam|sgd] [seed=1] [batch=32]", "train the fp32 MLP", NULL, "lab train", NULL, 0,
     QS_CMD_SLOW, labsub_train, train_args, .kinds = QS_RK(QS_R_OBJECT)},
    {"ptq", "lab", "lab ptq [bits=8] [abits=8] [gran=tensor|channel] [calib=CALIB] [pct=99.99] "
     "[batches=N]", "post-training quantization of the fp32 model", NULL, "lab ptq bits=4",
     NULL, 0, QS_CMD_SLOW, labsub_ptq, ptq_args, .kinds = QS_RK(QS_R_TABLE)},
    {"qat", "lab", "lab qat [bits=4] [epochs=5] [lr=0.001] [freeze=E] [lsq] (+ ptq options)",
     "quantization-aware training from the PTQ model", NULL, "lab qat bits=4", NULL, 0,
     QS_CMD_SLOW, labsub_qat, qat_args, .kinds = QS_RK(QS_R_TABLE)},
    {"sweep", "lab", "lab sweep [bits=2..8] [abits=8] (+ qat options)",
     "PTQ, QAT and integer inference at every bit width", NULL, "lab sweep bits=2..8", NULL, 0,
     QS_CMD_SLOW, labsub_sweep, sweep_args, .kinds = QS_RK(QS_R_TABLE)},
    {"int", "lab", "lab int [bits=8 abits=8 ...]",
     "integer-only inference of the last PTQ/QAT model (with ptq options: of a new PTQ "
     "model)", NULL, "lab int", NULL, 0,
     QS_CMD_SLOW, labsub_int, ptq_args, .kinds = QS_RK(QS_R_TRACE)},
    {"lora", "lab", "lab lora [rank=4] [alpha=2r] [epochs=20] [lr=0.01] [full_lr=0.003] "
     "[shift=rot90|invert] [seed=1]", "LoRA fine-tuning on a shifted task", NULL, "lab lora",
     NULL, 0, QS_CMD_SLOW, labsub_lora, lora_args, .kinds = QS_RK(QS_R_TABLE)},
    {"qlora", "lab", "lab qlora [rank=4] ...", "QLoRA fine-tuning (NF4 base)", NULL,
     "lab qlora", NULL, 0, QS_CMD_SLOW, labsub_qlora, lora_args, .kinds = QS_RK(QS_R_TABLE)},
    {"save", "lab", "lab save PATH [--force]", "the fp32 model as safetensors", NULL,
     "lab save mlp.safetensors", NULL, QS_COMPL_FILE, 0, labsub_save, save_args,
     .kinds = QS_RK(QS_R_OBJECT)},
    {"load", "lab", "lab load PATH", "a model saved by lab save", NULL,
     "lab load mlp.safetensors", NULL, QS_COMPL_FILE, 0, labsub_load, load_args,
     .kinds = QS_RK(QS_R_OBJECT)},
    {"status", "lab", "lab status", "what the lab holds", NULL, "lab status", NULL, 0, 0,
     labsub_status, NULL, .kinds = QS_RK(QS_R_OBJECT)},
    {"gpt", "lab", "lab gpt train|load|save|eval|sweep|ptq|generate|qat|lora|qlora|acts|status "
     "[key=value ...]",
     "the GPT lab: a character-level transformer, quantized, fine-tuned and sampled (help lab "
     "gpt SUBCOMMAND shows each one's keys)", NULL, "lab gpt status", NULL, QS_COMPL_NONE,
     QS_CMD_SLOW, qs_cmd_lab_gpt, NULL, qs_gpt_subs,
     .kinds = QS_RK(QS_R_OBJECT) | QS_RK(QS_R_TABLE)},
    {0},
};

/* Every test-set accuracy of a result (a real "acc" or "*_acc", at the top or in a table's
 * rows; not train_acc) gets "<key>_ci95": [lo, hi], its 95% Wilson interval over the n test
 * examples, so a difference inside it reads as the noise it is. */
static void add_ci(json_t *o, long n)
{
    const char *k;
    json_t *v;
    void *tmp;
    json_t *add = json_object();
    json_object_foreach_safe(o, tmp, k, v) {
        size_t kl = strlen(k);
        if (json_is_array(v)) {
            size_t i;
            json_t *r;
            json_array_foreach(v, i, r) if (json_is_object(r)) add_ci(r, n);
            continue;
        }
        if (!json_is_real(v) || strncmp(k, "train_", 6) == 0) continue;
        if (strcmp(k, "acc") != 0 && !(kl > 4 && strcmp(k + kl - 4, "_acc") == 0)) continue;
        double lo, hi;
        char key[128];
        qs_nn_wilson95(json_real_value(v), n, &lo, &hi);
        snprintf(key, sizeof key, "%s_ci95", k);
        json_object_set_new(add, key, json_pack("[f, f]", lo, hi));
    }
    json_object_update(o, add);
    json_decref(add);
}

static int lab_dispatch(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    return qs_cmd_run_sub(lab_row(), s, argc, argv, out, err);
}

static int run_lab(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    int rc = lab_dispatch(s, argc, argv, out, err);
    qs_lab *lab = rc == QS_OK && *out ? qs_lab_get(s) : NULL;
    if (lab && lab->data && lab->data->test.n > 0 && strcmp(argv[0], "status") != 0) {
        json_object_set_new(*out, "test_n", json_integer(lab->data->test.n));
        add_ci(*out, (long)lab->data->test.n);
    }
    return rc;
}

const qs_cmd qs_cmds_lab[] = {
    {"lab", "lab",
     "lab train|ptq|qat|sweep|int|lora|qlora|save|load|status|gpt [key=value ...]",
     "the PTQ vs QAT lab: train an MLP on real data, quantize it, train it quantized, run it "
     "in integers, fine-tune it with LoRA / QLoRA",
     "lab train [data=digits|fashion] [hidden=64] [epochs=80] [lr=0.001] [opt=adam|sgd]\n"
     "          [seed=1] [batch=32]  (sgd: lr=0.05; fashion: hidden=256 epochs=5 batch=64)\n"
     "          -> fp32_acc train_acc loss acc loss_sparkline ...\n"
     "lab ptq [bits=8] [abits=8] [gran=tensor|channel] [calib=CALIB] [pct=99.99]\n"
     "          [batches=N]           -> fp32_acc ptq_acc drop layers\n"
     "lab qat [bits=4] [epochs=5] [lr=0.001] [freeze=E] [lsq] (+ ptq options)\n"
     "                                -> ptq_acc qat_acc loss acc loss_sparkline ...\n"
     "lab sweep [bits=2..8] [abits=8] (+ qat options)\n"
     "                                -> rows: bits fp32_acc ptq_acc qat_acc int_acc int_agree\n"
     "lab int [bits=8 abits=8 ...]    integer-only inference of the last PTQ/QAT model\n"
     "                                -> sim_acc int_acc int_agree steps (requantization)\n"
     "lab lora [rank=4] [alpha=2r] [epochs=20] [lr=0.01] [full_lr=0.003] [shift=rot90|invert]\n"
     "          [seed=1]  (fashion: epochs=3 lr=0.002 full_lr=0.001; the shifted task: train and test\n"
     "          images rotated by 90 degrees or inverted)\n"
     "lab qlora [rank=4] ...          -> base_acc methods (acc trainable weight_bytes ...)\n"
     "                                   param_arithmetic example\n"
     "lab save PATH [--force]         the fp32 model as safetensors (fc1.weight, ...)\n"
     "lab load PATH                   a model saved by lab save\n"
     "lab status                      what the lab holds\n"
     "lab gpt train [steps=1500] [batch=16] [lr=0.003] [warmup=100] [d=64] [layers=4]\n"
     "          [heads=4] [ctx=64] [seed=1] [corpus=datasets/kjv.txt] the GPT lab: a character-level\n"
     "          transformer on the King James Bible -> heldout (nll ppl bpc) baselines\n"
     "          greedy_sample steps_per_s peak_bytes\n"
     "lab gpt load PATH | save PATH [--force] | status   (default: datasets/gpt-kjv.safetensors)\n"
     "lab gpt eval [format=F] [embed] [text=PATH] [chars=N] -> ppl bpc nll top1; quantized\n"
     "          also kld kld_median kld_p99 kld_max (nats, from the fp32 model) top1_agree\n"
     "          dp_correct\n"
     "lab gpt sweep [formats=F,F...] [methods=M,M...|all] [embed] [chars=8192]\n"
     "          -> rows: method format bits_per_weight ppl kld top1_agree (+ the eval keys); methods=\n"
     "          adds rtn/gptq/awq/rotate at int4-g32, int4-g128, int3-g32 (affine), w8a8,\n"
     "          smoothquant, llmint8 (w8a8-token) and rotate fp32 (formats= then fp32,mxfp4,nvfp4)\n"
     "lab gpt ptq method=rtn|gptq|awq|smoothquant|llmint8|w8a8|rotate [bits=4] [group=32]\n"
     "          [sym] [actorder] [damp=0.01] [alpha=0.5] [threshold=6] [seed=1] [grid=20]\n"
     "          [noclip] [calib=2048] [chars=8192] -> method format bits_per_weight ppl kld\n"
     "          top1_agree, baseline{...} (rtn on the same grid, or w8a8) ppl_gain;\n"
     "          awq: awq_ratio_mean awq_clip awq_clip_frac (noclip skips llm-awq's clipping\n"
     "          search); calibration on the held-out characters from 32768 on; rotate\n"
     "          bits=0: the fp32 equivalence check\n"
     "lab gpt generate [prompt=TEXT] [n=200] [formats=fp32,int8-channel,...] [temp=0]\n"
     "          [seed=1] -> generations (format text same_as_first: the count of leading\n"
     "          characters equal to the first)\n"
     "lab gpt qat [bits=3,4] [group=32] [steps=150] -> rows: ptq_ppl qat_ppl\n"
     "lab gpt lora|qlora [rank=8] [alpha=2r] [steps=150] [lr=0.003] [full_lr=0.0005]\n"
     "          -> before/after ppl on both corpora, trainable weight_bytes sample\n"
     "lab gpt acts [chars=8192] [top=5] -> per linear layer: absmax median_channel_absmax\n"
     "          max_median_ratio top_channels channels (every input channel's absmax)\n"
     "Formats F: fp32 int8-channel int4-channel int4-g128-sym int4-g128-affine\n"
     "int4-g32-sym int4-g32-affine int3-g32-sym nf4 nf4-dq q8_0 q6_k q4_k q4_0 fp8-e4m3\n"
     "mxfp4 nvfp4 (these two by name only, or with methods=)\n"
     "w8a8-tensor w8a8-token kv-int8 kv-int4; `embed` also quantizes the tied\n"
     "embedding / output layer (fp32 otherwise).\n"
     "Weights: symmetric narrow range (±(2^(b-1)-1), bits=2 is ternary);\n"
     "activations: affine uint (abits). Accuracies are fractions of the test set\n"
     "(test_n examples); each X_acc has X_acc_ci95, its 95% Wilson interval.\n"
     "The fp32 model is trained on first use with the defaults; the same seed\n"
     "gives the same numbers.",
     "lab sweep bits=2..8", NULL, QS_COMPL_NONE, QS_CMD_SLOW | QS_CMD_READS | QS_CMD_WRITES,
     run_lab, NULL, lab_subs, .kinds = QS_RK(QS_R_TRACE) | QS_RK(QS_R_TABLE) | QS_RK(QS_R_OBJECT)},
    {0},
};
