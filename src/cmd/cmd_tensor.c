/* cmd_tensor.c — commands that reshape or rescale the current tensor, and prepare weights
 * for quantization: reshape, rescale, fold (BatchNorm folding), equalize (cross-layer
 * equalization). The arithmetic is fold.c's; each command replaces the current tensor with
 * the transformed copy (leaving the loaded file, as `values` and `synth` do). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/cmd.h"
#include "qscope/fold.h"
#include "qscope/io.h"

#define MAX_LIST 65536

/* Parses "a,b,c" into a new array of doubles (finite only). Returns the count, or -1 with err
 * set naming the argument. */
static int parse_list(const char *cmd, const char *key, const char *text, double **out,
                      qs_err *err)
{
    int n = 1, k = 0;
    for (const char *p = text; *p; p++) n += *p == ',';
    if (n > MAX_LIST) {
        qs_err_set(err, "%s: %s= has more than %d values", cmd, key, MAX_LIST);
        return -1;
    }
    double *v = malloc((size_t)n * sizeof *v);
    char *copy = strdup(text);
    if (!v || !copy) {
        free(v);
        free(copy);
        qs_err_set(err, "%s: out of memory", cmd);
        return -1;
    }
    char *save = NULL;
    for (char *tok = copy; ; tok = NULL) {
        char *w = strtok_r(tok, ",", &save);
        if (!w) break;
        if (qs_parse_double(w, &v[k]) < 0 || !isfinite(v[k])) {
            qs_err_set(err, "%s: %s=: '%s' is not a finite number", cmd, key, w);
            free(v);
            free(copy);
            return -1;
        }
        k++;
    }
    free(copy);
    if (k != n) {
        free(v);
        qs_err_set(err, "%s: %s=%s: an empty item in the list", cmd, key, text);
        return -1;
    }
    *out = v;
    return n;
}

/* A per-channel list of c values: key=LIST with c entries, or one entry for every channel;
 * def (when key is absent and def is finite) fills it. NULL with err on a bad list. */
static double *channel_list(const char *cmd, int argc, char **argv, const char *key,
                            int64_t c, double def, qs_err *err)
{
    const char *text = qs_arg_kv(argc, argv, key);
    double *v = NULL, *one = NULL;
    if (!text) {
        if (!isfinite(def)) {
            qs_err_set(err, "%s: %s= is required (one value per channel, comma-separated)", cmd,
                       key);
            return NULL;
        }
        v = malloc((size_t)c * sizeof *v);
        if (!v) { qs_err_set(err, "%s: out of memory", cmd); return NULL; }
        for (int64_t i = 0; i < c; i++) v[i] = def;
        return v;
    }
    int n = parse_list(cmd, key, text, &one, err);
    if (n < 0) return NULL;
    if (n != 1 && n != c) {
        qs_err_set(err, "%s: %s= has %d values; the tensor has %lld channels (give %lld, or "
                   "one for all)", cmd, key, n, (long long)c, (long long)c);
        free(one);
        return NULL;
    }
    if (n == c) return one;
    v = calloc((size_t)c, sizeof *v);
    if (!v) { free(one); qs_err_set(err, "%s: out of memory", cmd); return NULL; }
    for (int64_t i = 0; i < c; i++) v[i] = one[0];
    free(one);
    return v;
}

/* A working copy of the current tensor, renamed "NAME (what)". */
static qs_tensor *working_copy(qs_session *s, const char *cmd, const char *what, qs_err *err)
{
    if (qs_need_tensor(s, cmd, err) != QS_OK) return NULL;
    qs_tensor *t = qs_tensor_clone(s->tensor, err);
    if (!t) return NULL;
    size_t len = strlen(t->name) + strlen(what) + 4;
    char *name = malloc(len);
    if (!name) {
        qs_tensor_free(t);
        qs_err_set(err, "%s: out of memory", cmd);
        return NULL;
    }
    if (strstr(t->name, what)) snprintf(name, len, "%s", t->name);
    else snprintf(name, len, "%s (%s)", t->name, what);
    free(t->name);
    t->name = name;
    return t;
}

/* Makes t the current tensor, leaving the loaded file (as `values` does). */
static void install(qs_session *s, qs_tensor *t)
{
    qs_file_close(s->file);
    s->file = NULL;
    s->tensor_index = -1;
    qs_session_set_tensor(s, t);
}

static json_t *shape_of(const qs_tensor *t)
{
    json_t *a = json_array();
    for (int i = 0; i < t->ndim; i++) json_array_append_new(a, json_integer(t->shape[i]));
    return a;
}

static json_t *reals(const double *v, int64_t n)
{
    json_t *a = json_array();
    for (int64_t i = 0; i < n; i++) json_array_append_new(a, qs_json_real(v[i]));
    return a;
}

/* Largest |x| of each of the c rows of length ld, over columns [from, from + k). */
static void row_absmax(const float *x, int64_t c, int64_t ld, int64_t from, int64_t k,
                       double *out)
{
    for (int64_t i = 0; i < c; i++) {
        double m = 0;
        for (int64_t j = from; j < from + k; j++) m = fmax(m, fabs((double)x[i * ld + j]));
        out[i] = m;
    }
}

/* max / min of the nonzero entries (1 when fewer than two are nonzero). */
static double spread(const double *v, int64_t n)
{
    double lo = INFINITY, hi = 0;
    for (int64_t i = 0; i < n; i++)
        if (v[i] > 0) { lo = fmin(lo, v[i]); hi = fmax(hi, v[i]); }
    return hi > 0 && isfinite(lo) ? hi / lo : 1.0;
}

/* ---- reshape -------------------------------------------------------------------------- */

static int run_reshape(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    int64_t shape[QS_MAX_DIMS];
    int nd = 0;
    if (argc != 1) return qs_err_set(err, "reshape: usage: reshape AxB[xC...] (e.g. reshape "
                                     "8x64)");
    const char *p = argv[0];
    while (*p) {
        char *end;
        long long d = strtoll(p, &end, 10);
        if (end == p || d < 1 || nd == QS_MAX_DIMS)
            return qs_err_set(err, "reshape: '%s' is not a shape like 8x64 (1 to %d positive "
                              "sizes)", argv[0], QS_MAX_DIMS);
        shape[nd++] = d;
        p = end;
        if (*p == 'x' || *p == 'X') {
            p++;
            if (!*p) return qs_err_set(err, "reshape: '%s' ends with x", argv[0]);
        } else if (*p) {
            return qs_err_set(err, "reshape: '%s' is not a shape like 8x64", argv[0]);
        }
    }
    if (qs_need_tensor(s, "reshape", err) != QS_OK) return QS_ERR;
    int64_t n = qs_shape_numel(nd, shape);
    if (n != s->tensor->n)
        return qs_err_set(err, "reshape: %s holds %lld values, the tensor %lld", argv[0],
                          (long long)n, (long long)s->tensor->n);
    qs_tensor *t = qs_tensor_clone(s->tensor, err);
    if (!t) return QS_ERR;
    t->ndim = nd;
    memcpy(t->shape, shape, sizeof shape[0] * (size_t)nd);
    install(s, t);
    *out = json_pack("{s:s, s:o, s:I}", "tensor", t->name, "shape", shape_of(t), "n",
                     (json_int_t)t->n);
    return QS_OK;
}

/* ---- rescale -------------------------------------------------------------------------- */

static int run_rescale(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    static const char *const keys[] = {"axis", "by", "index", NULL};
    long long axis = 0;
    double *f = NULL, *by = NULL;
    int nby, rc = QS_ERR;
    const qs_cmd *c = qs_cmd_find("rescale");
    if (qs_arg_check(c, argc, argv, keys, NULL, 0, err)) return QS_ERR;
    if (qs_need_tensor(s, "rescale", err) != QS_OK) return QS_ERR;
    int nd = s->tensor->ndim < 1 ? 1 : s->tensor->ndim;
    if (qs_arg_int(argc, argv, "axis", -nd, nd - 1, &axis, err)) return QS_ERR;
    if (axis < 0) axis += nd;
    const char *bytext = qs_arg_kv(argc, argv, "by"), *idx = qs_arg_kv(argc, argv, "index");
    if (!bytext) return qs_err_set(err, "rescale: by= is required (one factor per slice, or "
                                   "one factor with index=LIST)");
    int64_t shape1[1] = {s->tensor->n};
    const int64_t *shape = s->tensor->ndim ? s->tensor->shape : shape1;
    int64_t dim = shape[axis];
    if ((nby = parse_list("rescale", "by", bytext, &by, err)) < 0) return QS_ERR;
    f = malloc((size_t)dim * sizeof *f);
    if (!f) { qs_err_set(err, "rescale: out of memory"); goto done; }
    if (idx) {
        double *ix = NULL;
        int ni = parse_list("rescale", "index", idx, &ix, err);
        if (ni < 0) goto done;
        if (nby != 1) {
            free(ix);
            qs_err_set(err, "rescale: with index= give one factor (by=F)");
            goto done;
        }
        for (int64_t j = 0; j < dim; j++) f[j] = 1.0;
        for (int i = 0; i < ni; i++) {
            double j = ix[i] < 0 ? ix[i] + (double)dim : ix[i];
            if (j != floor(j) || j < 0 || j >= (double)dim) {
                qs_err_set(err, "rescale: index %g is not a slice of axis %lld (0..%lld)", ix[i],
                           axis, (long long)dim - 1);
                free(ix);
                goto done;
            }
            f[(int64_t)j] = by[0];
        }
        free(ix);
    } else if (nby == dim) {
        memcpy(f, by, (size_t)dim * sizeof *f);
    } else if (nby == 1) {
        for (int64_t j = 0; j < dim; j++) f[j] = by[0];     /* the whole tensor */
    } else {
        qs_err_set(err, "rescale: by= has %d factors; axis %lld has %lld slices (or give one "
                   "factor with index=LIST)", nby, axis, (long long)dim);
        goto done;
    }
    qs_tensor *t = working_copy(s, "rescale", "rescaled", err);
    if (!t) goto done;
    qs_scale_slices(t->data, nd, shape, (int)axis, f);
    install(s, t);
    if (nby == 1 && !idx)                   /* one factor for the whole tensor */
        *out = json_pack("{s:s, s:o, s:o}", "tensor", t->name, "shape", shape_of(t), "factor",
                         qs_json_real(by[0]));
    else
        *out = json_pack("{s:s, s:o, s:I, s:o}", "tensor", t->name, "shape", shape_of(t),
                         "axis", (json_int_t)axis, "factors", reals(f, dim));
    rc = QS_OK;
done:
    free(f);
    free(by);
    return rc;
}

/* ---- fold ----------------------------------------------------------------------------- */

/* Channels (rows) of the current tensor and the row length: axis 0 against the rest. */
static int rows_of(qs_session *s, const char *cmd, int64_t *c, int64_t *ld, qs_err *err)
{
    if (qs_need_tensor(s, cmd, err) != QS_OK) return QS_ERR;
    if (s->tensor->ndim < 2)
        return qs_err_set(err, "%s: needs a tensor of at least 2 dimensions, axis 0 the "
                          "output channels (try 'reshape AxB')", cmd);
    *c = s->tensor->shape[0];
    *ld = s->tensor->n / *c;
    return QS_OK;
}

static int run_fold(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    static const char *const keys[] = {"gamma", "beta", "mean", "var", "bias", "eps", "split",
                                       NULL};
    int64_t c = 0, ld = 1;
    long long split = 0;
    double eps = 1e-5;
    double *gamma = NULL, *beta = NULL, *mean = NULL, *var = NULL, *bias = NULL;
    double *fac = NULL, *bf = NULL, *before = NULL, *after = NULL;
    int rc = QS_ERR;
    if (qs_arg_check(qs_cmd_find("fold"), argc, argv, keys, NULL, 0, err)) return QS_ERR;
    if (rows_of(s, "fold", &c, &ld, err)) return QS_ERR;
    if (qs_arg_double(argc, argv, "eps", 0, 1, &eps, err) ||
        qs_arg_int(argc, argv, "split", 1, ld, &split, err))
        return QS_ERR;
    int64_t k = split ? split : ld;
    if (!(gamma = channel_list("fold", argc, argv, "gamma", c, 1.0, err)) ||
        !(beta = channel_list("fold", argc, argv, "beta", c, 0.0, err)) ||
        !(mean = channel_list("fold", argc, argv, "mean", c, 0.0, err)) ||
        !(var = channel_list("fold", argc, argv, "var", c, NAN, err)) ||
        !(bias = channel_list("fold", argc, argv, "bias", c, 0.0, err)))
        goto done;
    fac = calloc((size_t)c, sizeof *fac);
    bf = calloc((size_t)c, sizeof *bf);
    before = calloc((size_t)c, sizeof *before);
    after = calloc((size_t)c, sizeof *after);
    if (!fac || !bf || !before || !after) { qs_err_set(err, "fold: out of memory"); goto done; }
    qs_tensor *t = working_copy(s, "fold", "folded", err);
    if (!t) goto done;
    row_absmax(t->data, c, ld, 0, k, before);
    if (qs_fold_bn(t->data, c, k, ld, bias, gamma, beta, mean, var, eps, fac, bf) != 0) {
        qs_tensor_free(t);
        qs_err_set(err, "fold: var + eps must be positive for every channel");
        goto done;
    }
    row_absmax(t->data, c, ld, 0, k, after);
    json_t *rows = json_array();
    for (int64_t i = 0; i < c; i++)
        json_array_append_new(rows, json_pack("{s:I, s:o, s:o, s:o, s:o}", "channel",
                                              (json_int_t)i, "factor", qs_json_real(fac[i]),
                                              "bias", qs_json_real(bf[i]), "absmax_before",
                                              qs_json_real(before[i]), "absmax_after",
                                              qs_json_real(after[i])));
    install(s, t);
    *out = json_pack("{s:s, s:o, s:I, s:I, s:o, s:o, s:o, s:o, s:o}", "tensor", t->name,
                     "shape", shape_of(t), "channels", (json_int_t)c, "folded_per_channel",
                     (json_int_t)k, "eps", qs_json_real(eps), "factor", reals(fac, c), "bias",
                     reals(bf, c), "spread_before", qs_json_real(spread(before, c)),
                     "spread_after", qs_json_real(spread(after, c)));
    json_object_set_new(*out, "rows", rows);
    json_object_set_new(*out, "formula", json_string(
        "w_fold[i,:] = gamma_i / sqrt(var_i + eps) * w[i,:]; "
        "b_fold[i] = beta_i + gamma_i / sqrt(var_i + eps) * (bias_i - mean_i)"));
    rc = QS_OK;
done:
    free(gamma); free(beta); free(mean); free(var); free(bias);
    free(fac); free(bf); free(before); free(after);
    return rc;
}

/* ---- equalize ------------------------------------------------------------------------- */

static int run_equalize(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    static const char *const keys[] = {"split", "bias", NULL};
    int64_t c = 0, ld = 1;
    long long k1 = 0;
    double *bias = NULL, *sc = NULL, *r1 = NULL, *r2 = NULL, *a1 = NULL, *a2 = NULL;
    int rc = QS_ERR;
    if (qs_arg_check(qs_cmd_find("equalize"), argc, argv, keys, NULL, 0, err)) return QS_ERR;
    if (rows_of(s, "equalize", &c, &ld, err)) return QS_ERR;
    if (!qs_arg_kv(argc, argv, "split"))
        return qs_err_set(err, "equalize: split=K1 is required: each row holds K1 weights of "
                          "the first layer, then the second layer's weights for that channel");
    if (ld < 2) return qs_err_set(err, "equalize: rows of %lld values cannot hold two layers",
                                  (long long)ld);
    if (qs_arg_int(argc, argv, "split", 1, ld - 1, &k1, err)) return QS_ERR;
    if (!(bias = channel_list("equalize", argc, argv, "bias", c, 0.0, err))) goto done;
    sc = calloc((size_t)c, sizeof *sc);
    r1 = calloc((size_t)c, sizeof *r1);
    r2 = calloc((size_t)c, sizeof *r2);
    a1 = calloc((size_t)c, sizeof *a1);
    a2 = calloc((size_t)c, sizeof *a2);
    if (!sc || !r1 || !r2 || !a1 || !a2) { qs_err_set(err, "equalize: out of memory"); goto done; }
    qs_tensor *t = working_copy(s, "equalize", "equalized", err);
    if (!t) goto done;
    qs_equalize(t->data, c, k1, ld - k1, bias, sc, r1, r2);
    row_absmax(t->data, c, ld, 0, k1, a1);
    row_absmax(t->data, c, ld, k1, ld - k1, a2);
    json_t *rows = json_array();
    for (int64_t i = 0; i < c; i++)
        json_array_append_new(rows, json_pack("{s:I, s:o, s:o, s:o, s:o, s:o}", "channel",
                                              (json_int_t)i, "s", qs_json_real(sc[i]),
                                              "r1", qs_json_real(r1[i]), "r2",
                                              qs_json_real(r2[i]), "r1_after",
                                              qs_json_real(a1[i]), "r2_after",
                                              qs_json_real(a2[i])));
    install(s, t);
    *out = json_pack("{s:s, s:o, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o}", "tensor", t->name,
                     "shape", shape_of(t), "channels", (json_int_t)c, "k1", (json_int_t)k1,
                     "k2", (json_int_t)(ld - k1), "s", reals(sc, c), "spread1_before",
                     qs_json_real(spread(r1, c)), "spread1_after", qs_json_real(spread(a1, c)),
                     "spread2_before", qs_json_real(spread(r2, c)), "spread2_after",
                     qs_json_real(spread(a2, c)));
    json_object_set_new(*out, "bias", reals(bias, c));
    json_object_set_new(*out, "rows", rows);
    json_object_set_new(*out, "formula", json_string(
        "s_i = sqrt(r1_i / r2_i); W1[i,:] / s_i, b1_i / s_i, W2[:,i] * s_i; "
        "both ranges become sqrt(r1_i * r2_i)"));
    rc = QS_OK;
done:
    free(bias); free(sc); free(r1); free(r2); free(a1); free(a2);
    return rc;
}

static const char *const fold_words[] = {"gamma=", "beta=", "mean=", "var=", "bias=", "eps=",
                                         "split=", NULL};
static const char *const equalize_words[] = {"split=", "bias=", NULL};
static const char *const rescale_words[] = {"axis=", "by=", "index=", NULL};

const qs_cmd qs_cmds_tensor[] = {
    {"reshape", "data", "reshape AxB[xC...]",
     "give the current tensor another shape with the same number of values (row-major)",
     "AxB  the sizes, e.g. 8x64 (a synth or values tensor is 1-d)",
     "reshape 64x64", NULL, 0, 0, run_reshape, .kinds = QS_RK(QS_R_OBJECT)},
    {"rescale", "data", "rescale by=LIST [axis=A] | rescale by=F index=LIST [axis=A]",
     "multiply each slice along an axis by its own factor (e.g. give the rows of a matrix "
     "different ranges)",
     "by=LIST     one factor per slice of axis A, comma-separated; one factor scales "
     "the whole tensor\n"
     "by=F index=LIST  factor F for the slices listed, 1 for the others\n"
     "axis=A      the axis (default 0; negative counts from the end)\n"
     "keys: tensor shape axis factors (one factor for all: tensor shape factor)",
     "rescale axis=0 by=20 index=3", rescale_words, 0, 0, run_rescale, .kinds = QS_RK(QS_R_OBJECT)},
    {"fold", "model", "fold var=LIST [gamma=LIST] [beta=LIST] [mean=LIST] [bias=LIST] [eps=E] "
     "[split=K]",
     "fold a BatchNorm into the weights before it: w·gamma/sqrt(var+eps) per output channel "
     "(axis 0), and the folded bias",
     "var=LIST    the BatchNorm's running variance per channel (comma-separated; one value "
     "for all)\n"
     "gamma=LIST  its scale (default 1); beta=LIST its shift (default 0)\n"
     "mean=LIST   its running mean (default 0); bias=LIST the layer's bias (default 0)\n"
     "eps=E       added to var (default 1e-5, PyTorch's BatchNorm default)\n"
     "split=K     fold only the first K values of each row (the first layer of a pair laid "
     "side by side for equalize)\n"
     "keys: tensor shape channels factor bias spread_before spread_after rows[{channel "
     "factor bias absmax_before absmax_after}] formula",
     "fold var=0.25 gamma=1.5 beta=0.1", fold_words, 0, 0, run_fold,
     .kinds = QS_RK(QS_R_TABLE) | QS_RK(QS_R_OBJECT)},
    {"equalize", "model", "equalize split=K1 [bias=LIST]",
     "cross-layer equalization (Nagel et al. 2019) of two layers joined by a ReLU, laid side "
     "by side: row i = output channel i of layer 1 (K1 weights), then layer 2's weights that "
     "read channel i",
     "split=K1    how many values of each row belong to layer 1\n"
     "bias=LIST   layer 1's bias (divided by s too)\n"
     "keys: tensor shape channels k1 k2 s bias spread1_before spread1_after spread2_before "
     "spread2_after rows[{channel s r1 r2 r1_after r2_after}] formula",
     "equalize split=32", equalize_words, 0, 0, run_equalize,
     .kinds = QS_RK(QS_R_TABLE) | QS_RK(QS_R_OBJECT)},
    {0},
};
