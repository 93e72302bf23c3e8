/* cmd_quant.c — quantization commands: scheme, calib, qparams, codes, derive, quant, compare,
 * memory (issue 3). Each returns a JSON object whose keys are the documented contract. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/calib.h"
#include "qscope/cmd.h"
#include "qscope/derive.h"
#include "qscope/ggml.h"
#include "qscope/io.h"
#include "qscope/metrics.h"
#include "qscope/mx.h"
#include "qscope/numfmt.h"
#include "qscope/quant.h"

#include "cmd_priv.h"

#define MAX_JSON_ARRAY 65536    /* longest array a command returns (then `truncated`) */
#define MAX_CURVE 512           /* curve points returned (evenly subsampled) */

static int need_tensor(const qs_session *s, const char *cmd, qs_err *err)
{
    if (s->tensor) return QS_OK;
    return qs_err_set(err, "%s: no tensor loaded (try 'values -20 1000', 'synth laplace' or "
                      "'load FILE')", cmd);
}

/* ggml.c's block formats (q4_1 q5_0 q5_1 q4_k q6_k): no qs_qparams, blocks of their own. */
static int is_block(const qs_scheme *sc)
{
    return qs_scheme_ggml_block(sc) >= 0;
}

/* Integer grids with scale / zero point per set (ggml Q8_0 / Q4_0 included). */
static int is_int_scheme(const qs_scheme *sc)
{
    return (sc->kind == QS_Q_INT || sc->kind == QS_Q_GGML) && !is_block(sc);
}

static void nonfinite_into(json_t *o, const qs_scheme *sc, const qs_tensor *t,
                           int64_t nonfinite, const qs_errstats *st);
static void overflow_into(json_t *o, int64_t overflow, int64_t n);

static json_t *farray(const float *v, int64_t n)
{
    json_t *a = json_array();
    for (int64_t i = 0; i < n && i < MAX_JSON_ARRAY; i++)
        json_array_append_new(a, qs_json_real((double)v[i]));
    return a;
}

static json_t *iarray(const int32_t *v, int64_t n)
{
    json_t *a = json_array();
    for (int64_t i = 0; i < n && i < MAX_JSON_ARRAY; i++)
        json_array_append_new(a, json_integer(v[i]));
    return a;
}

/* A scalar when there is one parameter set, else an array. */
static json_t *fvalue(const float *v, int64_t n)
{
    return n == 1 ? qs_json_real((double)v[0]) : farray(v, n);
}

static json_t *scheme_json(const qs_scheme *sc)
{
    char label[96];
    json_t *o = json_object();
    qs_scheme_label(sc, label, sizeof label);
    json_object_set_new(o, "label", json_string(label));
    json_object_set_new(o, "type", json_string(qs_qkind_name(sc)));
    json_object_set_new(o, "bits", json_integer(sc->bits));
    if (is_int_scheme(sc)) {
        int qmin, qmax;
        qs_scheme_range(sc, &qmin, &qmax);
        json_object_set_new(o, "signed", json_boolean(sc->is_signed));
        json_object_set_new(o, "symmetric", json_boolean(qs_scheme_is_symmetric(sc)));
        /* the range in force: trt, and onnx when symmetric, narrow a signed range */
        int full_lo = sc->is_signed ? -(1 << ((sc->bits >= 2 && sc->bits <= 8 ? sc->bits : 8)
                                              - 1)) : 0;
        json_object_set_new(o, "narrow", json_boolean(sc->narrow || qmin > full_lo));
        json_object_set_new(o, "granularity", json_string(qs_gran_name(sc->gran)));
        /* only what the granularity uses (a per-tensor "axis 0 / group 64" says nothing) */
        if (sc->gran != QS_G_TENSOR) json_object_set_new(o, "axis", json_integer(sc->axis));
        if (sc->gran == QS_G_GROUP) json_object_set_new(o, "group", json_integer(sc->group));
        json_object_set_new(o, "qmin", json_integer(qmin));
        json_object_set_new(o, "qmax", json_integer(qmax));
        json_object_set_new(o, "ncodes", json_integer((json_int_t)qmax - qmin + 1));
        json_object_set_new(o, "round", json_string(qs_round_name(sc->round)));
        if (sc->round == QS_R_STOCHASTIC)
            json_object_set_new(o, "seed", json_integer((json_int_t)sc->seed));
        json_object_set_new(o, "convention", json_string(qs_conv_name(sc->conv)));
    } else if (sc->kind == QS_Q_NF4 || sc->kind == QS_Q_FP4) {
        json_object_set_new(o, "block", json_integer(sc->group));
        json_object_set_new(o, "dq", json_boolean(sc->dq));
    } else if (sc->kind == QS_Q_MX) {
        const qs_mx_type *t = qs_mx_type_info(sc->mx_type);
        json_object_set_new(o, "block", json_integer(t->block));
        json_object_set_new(o, "element", json_string(t->elem_name));
        json_object_set_new(o, "scale_format",
                            json_string(qs_numfmt_get((qs_fmt_id)t->scale_fmt)->name));
        json_object_set_new(o, "tensor_scale", json_boolean(t->tensor_scale));
    } else if (is_block(sc)) {
        int qmin, qmax;
        qs_scheme_range(sc, &qmin, &qmax);
        json_object_set_new(o, "ggml_type", json_string(qs_ggml_type_info(sc->ggml_type)->name));
        json_object_set_new(o, "block", json_integer(sc->group));
        json_object_set_new(o, "symmetric", json_boolean(qs_scheme_is_symmetric(sc)));
        json_object_set_new(o, "qmin", json_integer(qmin));
        json_object_set_new(o, "qmax", json_integer(qmax));
        json_object_set_new(o, "convention", json_string("ggml"));
    }
    qs_json_set_real(o, "bits_per_param", qs_scheme_bits_per_param(sc, 0, 0));
    return o;
}

/* Parameter sets of scheme sc on tensor t: the layout's (channels, groups) for integer
 * schemes, the blocks for NF4/FP4 (blockwise over the flattened tensor), else 1; -1 when the
 * scheme does not fit the shape. */
static int64_t scheme_nparams(const qs_scheme *sc, const qs_tensor *t)
{
    if ((sc->kind == QS_Q_NF4 || sc->kind == QS_Q_FP4) && sc->group > 0)
        return (t->n + sc->group - 1) / sc->group;
    qs_layout l;
    if (qs_scheme_layout(sc, t->ndim, t->shape, &l, NULL) != QS_OK) return -1;
    return qs_layout_nparams(&l);
}

/* ---- the shared pipeline: calibrate, compute parameters -------------------------------- */

typedef struct prep {
    qs_layout l;            /* layout of the scheme on the tensor */
    qs_calib_result cal;    /* calibration (integer, non-ggml schemes) */
    int have_cal;           /* cal is filled */
    qs_qstate q;            /* the state to apply */
} prep;

static void prep_fini(prep *p)
{
    if (p->have_cal) qs_calib_result_fini(&p->cal);
    qs_qstate_fini(&p->q);
    memset(p, 0, sizeof *p);
}

/* Calibrates (integer grids) and computes the state that applies sc to t. With a session s
 * (whose current tensor t is) the calibration goes through its cache (qs_session_calib);
 * NULL calibrates afresh (compare's rows, one scheme each). */
static int prepare(qs_session *s, const qs_tensor *t, const qs_scheme *sc, const qs_calib *c,
                   prep *p, qs_err *err)
{
    memset(p, 0, sizeof *p);
    p->q.fmt = -1;
    if (qs_scheme_layout(sc, t->ndim, t->shape, &p->l, err) != QS_OK) return QS_ERR;
    const float *lo = NULL, *hi = NULL;
    int ggml = sc->kind == QS_Q_GGML || sc->conv == QS_CONV_GGML;
    if (is_int_scheme(sc) && !ggml) {
        if ((s ? qs_session_calib(s, &p->l, sc, c, &p->cal, err)
               : qs_calib_run(t->data, &p->l, sc, c, &p->cal, err)) != QS_OK)
            return QS_ERR;
        p->have_cal = 1;
        lo = p->cal.lo;
        hi = p->cal.hi;
    }
    if (qs_qstate_init(&p->q, sc, t, lo, hi, err) != QS_OK) {
        prep_fini(p);
        return QS_ERR;
    }
    return QS_OK;
}

static json_t *curve_json(const qs_calib_result *r)
{
    json_t *o = json_object();
    json_t *x = json_array(), *y = json_array();
    int n = r->ncurve, step = n > MAX_CURVE ? (n + MAX_CURVE - 1) / MAX_CURVE : 1;
    int best_out = -1, k = 0;
    for (int i = 0; i < n; i += step, k++) {
        /* keep the chosen point exactly */
        int j = (r->best >= i && r->best < i + step) ? r->best : i;
        if (j == r->best) best_out = k;
        json_array_append_new(x, qs_json_real(r->curve_x[j]));
        json_array_append_new(y, qs_json_real(r->curve_y[j]));
    }
    json_object_set_new(o, "x_label", json_string(r->curve_x_label ? r->curve_x_label : "x"));
    json_object_set_new(o, "y_label", json_string(r->curve_y_label ? r->curve_y_label : "y"));
    json_object_set_new(o, "x", x);
    json_object_set_new(o, "y", y);
    json_object_set_new(o, "best", json_integer(best_out));
    json_object_set_new(o, "points", json_integer(n));
    return o;
}

/* ---- scheme ----------------------------------------------------------------------------- */

static const char *const scheme_words[] = {
    "int2", "int3", "int4", "int5", "int6", "int7", "int8", "uint2", "uint3", "uint4",
    "uint5", "uint6", "uint7", "uint8", "fp16", "bf16", "fp8-e4m3", "fp8-e5m2", "nf4", "fp4",
    "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q4_k", "q6_k", "mxfp4", "mxfp6_e3m2",
    "mxfp6_e2m3", "mxfp8_e4m3", "mxfp8_e5m2", "mxint8", "nvfp4", "sym", "asym", "narrow", "full", "per-tensor", "per-channel", "per-group",
    "axis=auto", "dq", "no-dq", NULL,
};

static const char *const round_names[] = { "even", "away", "up", "stochastic", NULL };
static const qs_arg scheme_args[] = {
    { QS_ARG_INT, "axis", "A", -8, 7, "auto", NULL, NULL, NULL },
    { QS_ARG_INT, "size", "G", 1, 1 << 20, "64", NULL, NULL, NULL },
    { QS_ARG_INT, "group", "G", 1, 1 << 20, "64", NULL, NULL, NULL },
    { QS_ARG_INT, "block", "B", 1, 1 << 20, "64", NULL, NULL, NULL },
    { QS_ARG_TEXT, "convention", "C", 0, 0, "torch", NULL, NULL, qs_vocab_conv },
    { QS_ARG_TEXT, "conv", "C", 0, 0, NULL, "short for convention=", NULL, qs_vocab_conv },
    { QS_ARG_TEXT, "round", "R", 0, 0, "even", NULL, round_names, NULL },
    { QS_ARG_INT, "seed", "S", 0, 9e18, "0", NULL, NULL, NULL },
    { QS_ARG_INT, "bits", "B", 2, 8, NULL, NULL, NULL, NULL },
    { 0 },
};

static int run_scheme(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    qs_scheme sc = s->scheme;
    if (qs_scheme_parse(&sc, argc, argv, err) != QS_OK) return QS_ERR;
    if (qs_cmd_scheme_words_check("scheme", &sc, argc, argv, err) != QS_OK) return QS_ERR;
    qs_session_resolve_axis(s, &sc);
    if (s->tensor && (sc.kind == QS_Q_INT) && sc.gran != QS_G_TENSOR) {
        qs_layout l;
        if (qs_scheme_layout(&sc, s->tensor->ndim, s->tensor->shape, &l, err) != QS_OK)
            return QS_ERR;
    }
    s->scheme = sc;
    json_t *o = scheme_json(&sc);
    if (is_int_scheme(&sc) && sc.gran == QS_G_CHANNEL && sc.conv != QS_CONV_GGML) {
        char why[200];
        json_object_set_new(o, "axis_auto", json_boolean(sc.axis_auto));
        if (s->tensor) {
            qs_session_axis(s, &sc, why, sizeof why);
            json_object_set_new(o, "axis_reason", json_string(why));
        }
    }
    if (s->tensor) {
        int64_t np = scheme_nparams(&sc, s->tensor);
        if (np >= 0) {
            json_object_set_new(o, "nparams", json_integer(np));
            qs_json_set_real(o, "bits_per_param",
                             qs_scheme_bits_per_param(&sc, s->tensor->n, np));
        }
    }
    *out = o;
    return QS_OK;
}

/* ---- calib ------------------------------------------------------------------------------ */

static const qs_arg calib_args[] = {
    { QS_ARG_WORD, "KIND", NULL, 0, 0, "minmax", "the calibrator", NULL, qs_vocab_calib },
    { QS_ARG_REAL, "p", "P", 0, 100, "99.99", "percentile", NULL, NULL },
    { QS_ARG_FLAG, "two-sided", NULL, 0, 0, NULL, "percentile: clip min and max separately",
      NULL, NULL },
    { QS_ARG_FLAG, "abs", NULL, 0, 0, NULL, "percentile: on |x| (the default)", NULL, NULL },
    { QS_ARG_INT, "bins", "B", 16, 1 << 16, "2048", "histogram bins", NULL, NULL },
    { QS_ARG_INT, "batch", "N", 0, (double)((long long)1 << 40), "0", "movavg: batch size in "
      "elements (0: 8 batches)", NULL, NULL },
    { QS_ARG_REAL, "momentum", "M", 0, 1, "0.01", "movavg: momentum", NULL, NULL },
    { QS_ARG_REAL, "min", "X", -FLT_MAX, FLT_MAX, NULL, "manual: the low end", NULL, NULL },
    { QS_ARG_REAL, "max", "Y", -FLT_MAX, FLT_MAX, NULL, "manual: the high end", NULL, NULL },
    { QS_ARG_REAL, "amax", "A", 0, FLT_MAX, NULL, "manual: the range [-A, A]", NULL, NULL },
    { 0 },
};

#define CALIB_USAGE "calib [KIND] [p=P] [two-sided|abs] [bins=B] [batch=N] [momentum=M] | " \
                    "calib manual min=X max=Y | calib manual amax=A"

/* The manual range: min=/max= (one of them may change a manual range already set) or amax=A
 * ([-A, A]); naming them without a calibrator means manual. */
static int parse_manual(qs_calib *c, int named, int had, int argc, char **argv, qs_err *err)
{
    const char *smin = qs_arg_kv(argc, argv, "min"), *smax = qs_arg_kv(argc, argv, "max");
    const char *samax = qs_arg_kv(argc, argv, "amax");
    if (!smin && !smax && !samax) {
        if (c->kind == QS_CAL_MANUAL && !had)
            return qs_err_set(err, "calib manual: needs min=X max=Y or amax=A (usage: "
                              CALIB_USAGE ")");
        return QS_OK;
    }
    if (named && c->kind != QS_CAL_MANUAL)
        return qs_err_set(err, "calib %s: min=, max= and amax= set a manual range (calib "
                          "manual min=X max=Y)", qs_calib_name(c->kind));
    if (samax && (smin || smax))
        return qs_err_set(err, "amax=%s: give amax= or min=/max=, not both", samax);
    const double big = FLT_MAX;
    if (samax) {
        double a = 0.0;
        if (qs_arg_double(argc, argv, "amax", 0.0, big, &a, err) != QS_OK) return QS_ERR;
        if (!(a > 0.0)) return qs_err_set(err, "amax=%s: must be > 0", samax);
        c->lo = -a;
        c->hi = a;
    } else {
        double lo = c->lo, hi = c->hi;
        if (qs_arg_double(argc, argv, "min", -big, big, &lo, err) != QS_OK) return QS_ERR;
        if (qs_arg_double(argc, argv, "max", -big, big, &hi, err) != QS_OK) return QS_ERR;
        if (!had && (!smin || !smax))
            return qs_err_set(err, "calib manual: %s= missing (calib manual min=X max=Y)",
                              smin ? "max" : "min");
        if (!(lo < hi))
            return qs_err_set(err, "%s=%s: the range [%g, %g] needs min < max",
                              smax ? "max" : "min", smax ? smax : smin, lo, hi);
        c->lo = lo;
        c->hi = hi;
    }
    c->kind = QS_CAL_MANUAL;
    return QS_OK;
}

static int parse_calib(qs_calib *c, int argc, char **argv, qs_err *err)
{
    int named = 0, had = c->kind == QS_CAL_MANUAL && c->lo < c->hi;
    for (int i = 0; i < argc; i++) {
        const char *w = argv[i];
        if (strchr(w, '=')) {
            size_t kl = (size_t)(strchr(w, '=') - w);
            if (!qs_arg_spec(calib_args, w, kl))
                return qs_err_set(err, "calib: unknown option '%.*s' (usage: " CALIB_USAGE ")",
                                  (int)kl, w);
            continue;
        }
        if (!strcmp(w, "two-sided")) c->two_sided = 1;
        else if (!strcmp(w, "abs")) c->two_sided = 0;
        else {
            int k = qs_calib_find(w);
            if (k < 0) {
                char list[512];
                size_t o = 0;
                for (int j = 0; j < QS_CAL_COUNT && o < sizeof list; j++)
                    o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", j ? ", " : "",
                                          qs_calib_table[j].name);
                return qs_err_set(err, "calib: unknown calibrator '%s' (%s)", w, list);
            }
            c->kind = (qs_calib_kind)k;
            named = 1;
        }
    }
    if (parse_manual(c, named, had, argc, argv, err) != QS_OK) return QS_ERR;
    /* with a calibrator named on the line, an option it does not read is refused (`calib
     * minmax p=99` was accepted without a word); alone, `calib p=99.9` sets it for later */
    for (int i = 0; named && i < argc; i++) {
        const char *w = argv[i], *eq = strchr(w, '=');
        char tok[32];
        if (eq) snprintf(tok, sizeof tok, "%.*s=", (int)(eq - w < 30 ? eq - w : 30), w);
        else if (!strcmp(w, "two-sided") || !strcmp(w, "abs")) snprintf(tok, sizeof tok, "%s", w);
        else continue;
        if (!strcmp(tok, "min=") || !strcmp(tok, "max=") || !strcmp(tok, "amax="))
            continue;                   /* parse_manual's */
        const char *opts = qs_calib_table[c->kind].options;
        size_t tl = strlen(tok);
        int found = 0;
        for (const char *q = opts; (q = strstr(q, tok)) && !found; q += tl)
            found = (q == opts || q[-1] == ' ') && (q[tl] == ' ' || q[tl] == '\0');
        if (!found)
            return qs_err_set(err, "calib: '%s' does not apply to %s (%s%s)", w,
                              qs_calib_name(c->kind), *opts ? "it reads: " : "it takes no options",
                              opts);
    }
    long long bins = c->bins, batch = c->batch;
    if (qs_arg_double(argc, argv, "p", 0.0, 100.0, &c->p, err) != QS_OK) return QS_ERR;
    /* amax is the edge where the cumulative histogram reaches p/100: at p=0, the histogram's
     * low end, a range of nothing */
    const char *pv = qs_arg_kv(argc, argv, "p");
    if (pv && !(c->p > 0.0))
        return qs_err_set(err, "calib: p=%s: expected a percentile in (0, 100] (p=0 would clip "
                          "every value to 0)", pv);
    if (qs_arg_int(argc, argv, "bins", 16, 1 << 16, &bins, err) != QS_OK) return QS_ERR;
    if (qs_arg_int(argc, argv, "batch", 0, (long long)1 << 40, &batch, err) != QS_OK)
        return QS_ERR;
    if (qs_arg_double(argc, argv, "momentum", 0.0, 1.0, &c->momentum, err) != QS_OK)
        return QS_ERR;
    c->bins = (int)bins;
    c->batch = (int)(batch > 2147483647LL ? 2147483647LL : batch);
    return QS_OK;
}

static int run_calib(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    qs_calib c = s->calib;
    if (parse_calib(&c, argc, argv, err) != QS_OK) return QS_ERR;
    json_t *o = json_object();
    json_object_set_new(o, "calib", json_string(qs_calib_name(c.kind)));
    if (c.kind == QS_CAL_PERCENTILE) {
        qs_json_set_real(o, "p", c.p);
        json_object_set_new(o, "two_sided", json_boolean(c.two_sided));
    }
    if (c.kind == QS_CAL_MOVAVG) qs_json_set_real(o, "momentum", c.momentum);
    if (c.kind == QS_CAL_MANUAL) {
        qs_json_set_real(o, "min", c.lo);
        qs_json_set_real(o, "max", c.hi);
    }
    if (strstr(qs_calib_table[c.kind].options, "bins="))     /* the calibrators that read it */
        json_object_set_new(o, "bins", json_integer(c.bins));
    if (s->tensor && is_int_scheme(&s->scheme)) {
        qs_layout l;
        qs_calib_result r;
        if (qs_scheme_layout(&s->scheme, s->tensor->ndim, s->tensor->shape, &l, err) != QS_OK ||
            qs_session_calib(s, &l, &s->scheme, &c, &r, err) != QS_OK) {
            json_decref(o);
            return QS_ERR;
        }
        json_object_set_new(o, "clip_min", fvalue(r.lo, r.nparams));
        json_object_set_new(o, "clip_max", fvalue(r.hi, r.nparams));
        json_object_set_new(o, "observed_min", fvalue(r.obs_min, r.nparams));
        json_object_set_new(o, "observed_max", fvalue(r.obs_max, r.nparams));
        json_object_set_new(o, "reason", json_string(r.reason));
        /* a range that leaves most of the tensor outside is faithful to its calibrator but
         * easy to miss: the share is counted and said (outside the range, not yet clipped:
         * a value within half a step of it still rounds onto the grid) */
        {
            const qs_tensor *t = s->tensor;
            int64_t nout = 0, fin = 0;
            for (int64_t e = 0; e < t->n; e++) {
                float v = t->data[e];
                if (!isfinite(v)) continue;
                int64_t pi = qs_layout_index(&l, e);
                fin++;
                nout += v < r.lo[pi] || v > r.hi[pi];
            }
            qs_json_set_real(o, "outside_frac", fin ? (double)nout / (double)fin : 0.0);
            if (fin && nout * 2 > fin) {
                char w[400];
                snprintf(w, sizeof w, "%lld of the %lld finite values lie outside this range%s",
                         (long long)nout, (long long)fin, c.kind == QS_CAL_ENTROPY
                         ? ": entropy's KL is 0 once the clipped histogram is a single "
                           "spike, and the last minimum is kept (as pytorch-quantization's "
                           "_compute_amax_entropy does), so data far from 0 can lose almost "
                           "all of its range" : "");
                json_object_set_new(o, "warning", json_string(w));
            }
        }
        if (r.ninf) json_object_set_new(o, "infinities_ignored", json_integer(r.ninf));
        if (r.nnan) json_object_set_new(o, "nan_ignored", json_integer(r.nnan));
        if (r.ncurve > 0) json_object_set_new(o, "curve", curve_json(&r));
        qs_calib_result_fini(&r);
    } else if (s->tensor && s->scheme.kind == QS_Q_MX) {
        json_object_set_new(o, "reason", json_string("MX and NVFP4 formats do not use a "
                                                     "calibrator: each block's scale comes "
                                                     "from its own amax (NVFP4 also from the "
                                                     "tensor's; see 'derive' or 'qparams')"));
    } else if (s->tensor && is_block(&s->scheme)) {
        json_object_set_new(o, "reason", json_string("ggml block formats do not use a "
                                                     "calibrator: each block fits its own "
                                                     "scales (see 'derive' or 'blocks')"));
    } else if (s->tensor) {
        json_object_set_new(o, "reason", json_string("this scheme does not use a calibrator "
                                                     "(casts and codebooks use the data as "
                                                     "is / blockwise absmax)"));
    }
    s->calib = c;
    *out = o;
    return QS_OK;
}

/* ---- qparams ---------------------------------------------------------------------------- */

/* qparams of a ggml block format: per block its fp16 scale d (and the minimum m of Q4_1 /
 * Q5_1, the scale of the mins dmin of Q4_K), the fixed code offset as zero point, and the
 * range the dequantized values span; the sub-block scales are shown by derive / blocks. */
static int block_qparams(const qs_tensor *t, const qs_scheme *sc, int64_t nb, json_t *o,
                         qs_err *err)
{
    int id = sc->ggml_type, qmin, qmax;
    const qs_ggml_type *gt = qs_ggml_type_info(id);
    float *d = malloc((size_t)(nb > 0 ? nb : 1) * sizeof *d);
    float *dm = malloc((size_t)(nb > 0 ? nb : 1) * sizeof *dm);
    float *y = malloc((size_t)t->n * sizeof *y);
    if (!d || !dm || !y) {
        free(d); free(dm); free(y);
        return qs_err_set(err, "qparams: out of memory");
    }
    if (qs_ggml_tensor_codes(id, t, y, NULL, d, dm, NULL, err) != QS_OK) {
        free(d); free(dm); free(y);
        return QS_ERR;
    }
    float lo, hi;
    int64_t nf;
    qs_finite_minmax(y, t->n, &lo, &hi, &nf, NULL, NULL);
    qs_scheme_range(sc, &qmin, &qmax);
    int off = id == QS_GGML_Q5_0 ? 16 : id == QS_GGML_Q6_K ? 32 : 0;
    json_object_set_new(o, "scale", farray(d, nb));
    json_t *z = json_array();
    for (int64_t b = 0; b < nb && b < MAX_JSON_ARRAY; b++)
        json_array_append_new(z, json_integer(off));
    json_object_set_new(o, "zero_point", z);
    if (!qs_scheme_is_symmetric(sc))
        json_object_set_new(o, id == QS_GGML_Q4_K ? "dmin" : "min", farray(dm, nb));
    json_object_set_new(o, "qmin", json_integer(qmin));
    json_object_set_new(o, "qmax", json_integer(qmax));
    qs_json_set_real(o, "clip_min", lo);
    qs_json_set_real(o, "clip_max", hi);
    json_object_set_new(o, "nparams", json_integer(nb));
    json_object_set_new(o, "block", json_integer(gt->block));
    json_object_set_new(o, "granularity", json_string("per-block"));
    json_object_set_new(o, "convention", json_string("ggml"));
    const char *q;
    switch (id) {
    case QS_GGML_Q4_1: q = "q = min(15, (int)((x - m) · (1/d) + 0.5)); x̂ = q·d + m"; break;
    case QS_GGML_Q5_1: q = "q = min(31, (int)((x - m) · (1/d) + 0.5)); x̂ = q·d + m"; break;
    case QS_GGML_Q5_0: q = "q = min(31, (int)(x · (1/d) + 16.5)); x̂ = (q - 16)·d"; break;
    case QS_GGML_Q4_K: q = "q = clamp(nearest((x + dmin·min_j) / (d·scale_j)), 0, 15); "
                           "x̂ = d·scale_j·q - dmin·min_j"; break;
    default:           q = "q = clamp(nearest(x / (d·scale_j)), -32, 31) + 32; "
                           "x̂ = d·scale_j·(q - 32)"; break;
    }
    json_object_set_new(o, "quantize", json_string(q));
    json_object_set_new(o, "reason", json_string(
        gt->block == 256 ? "ggml K-quant super-blocks of 256 along the last axis: scale is each "
                           "block's fp16 d; its sub-block scales (6 or 8-bit multiples of d) "
                           "are fitted by least squares — see them with 'derive block=N' or "
                           "'blocks'"
                         : "ggml blocks of 32 along the last axis: scale is each block's fp16 "
                           "d from its own range — 'derive block=N' or 'blocks' takes one "
                           "apart"));
    json_object_set_new(o, "clip_range", json_string("the span of the dequantized values"));
    if (nb > MAX_JSON_ARRAY) json_object_set_new(o, "truncated", json_true());
    free(d); free(dm); free(y);
    return QS_OK;
}

/* Per-channel: the axis used and why (axis, axis_auto, axis_reason), and a warning when
 * per-channel cannot differ from per-tensor here: an axis of size 1, or every channel with
 * the same scale and zero point. */
static void channel_axis_json(const qs_session *s, const qs_scheme *sc, const qs_qparams *qp,
                              json_t *o)
{
    char why[200], w[240] = "";
    const qs_tensor *t = s->tensor;
    int ax = qs_session_axis(s, sc, why, sizeof why);
    json_object_set_new(o, "axis", json_integer(ax));
    json_object_set_new(o, "axis_auto", json_boolean(sc->axis_auto));
    json_object_set_new(o, "axis_reason", json_string(why));
    if (t && ax >= 0 && ax < t->ndim && t->shape[ax] == 1) {
        snprintf(w, sizeof w, "axis %d has size 1: one channel, so per-channel is per-tensor "
                 "here (axis=N chooses another axis)", ax);
    } else if (qp->nparams > 1) {
        int same = 1;
        for (int64_t p = 1; p < qp->nparams && same; p++)
            same = qp->scale[p] == qp->scale[0] && qp->zp[p] == qp->zp[0];
        if (same)
            snprintf(w, sizeof w, "all %lld channels along axis %d got the same scale and zero "
                     "point: per-channel gives the same result as per-tensor here",
                     (long long)qp->nparams, ax);
    }
    if (w[0]) json_object_set_new(o, "warning", json_string(w));
}

/* qparams of an MX / NVFP4 scheme: each block's step (X = 2^e, or NVFP4's s_b · ts), the
 * stored scale codes, the shared exponents (MX) and NVFP4's per-tensor scale. */
static int mx_qparams(const qs_tensor *t, const qs_scheme *sc, json_t *o, qs_err *err)
{
    const qs_mx_type *ty = qs_mx_type_info(sc->mx_type);
    int64_t nb = qs_mx_tensor_nblocks(ty->id, t), clipped = 0;
    float *step = malloc((size_t)(nb > 0 ? nb : 1) * sizeof *step), ts = 1.0f;
    uint32_t *sc8 = malloc((size_t)(nb > 0 ? nb : 1) * sizeof *sc8);
    if (!step || !sc8) { free(step); free(sc8); return qs_err_set(err, "qparams: out of memory"); }
    if (qs_mx_tensor_codes(ty->id, t, NULL, NULL, step, sc8, &clipped, &ts, err) != QS_OK) {
        free(step); free(sc8);
        return QS_ERR;
    }
    json_object_set_new(o, "scale", farray(step, nb));
    json_t *z = json_array(), *codes = json_array(), *ex = json_array();
    for (int64_t b = 0; b < nb && b < MAX_JSON_ARRAY; b++) {
        json_array_append_new(z, json_integer(0));
        json_array_append_new(codes, json_integer(sc8[b]));
        if (!ty->tensor_scale)
            json_array_append_new(ex, sc8[b] == 0xFFu ? json_null()
                                                      : json_integer((int)sc8[b] - 127));
    }
    json_object_set_new(o, "zero_point", z);
    json_object_set_new(o, "scale_codes", codes);
    json_object_set_new(o, "scale_format",
                        json_string(qs_numfmt_get((qs_fmt_id)ty->scale_fmt)->name));
    if (ty->tensor_scale) {
        json_decref(ex);
        qs_json_set_real(o, "tensor_scale", ts);
    } else {
        json_object_set_new(o, "shared_exp", ex);
    }
    json_object_set_new(o, "element", json_string(ty->elem_name));
    qs_json_set_real(o, "elem_max", ty->elem_max);
    json_object_set_new(o, "qmin", json_null());
    json_object_set_new(o, "qmax", json_null());
    json_object_set_new(o, "nparams", json_integer(nb));
    json_object_set_new(o, "block", json_integer(ty->block));
    json_object_set_new(o, "granularity", json_string("per-block"));
    json_object_set_new(o, "clipped", json_integer(clipped));
    qs_json_set_real(o, "bits_per_param", qs_mx_bits_per_weight(ty->id, t->n, nb));
    json_object_set_new(o, "quantize", json_string(
        ty->tensor_scale ? "ts = amax_tensor/(448·6); s_b = E4M3(amax_b/6/ts); q = E2M1(x/(s_b·ts)); "
                           "x̂ = q·s_b·ts"
                         : "e = floor(log2(amax_b)) - emax_elem; X = 2^e (E8M0); q = elem(x/X) "
                           "(RNE, saturating); x̂ = q·X"));
    json_object_set_new(o, "reason", json_string(
        ty->tensor_scale ? "NVFP4: blocks of 16 along the last axis; scale is each block's step "
                           "s_b·ts (an E4M3 block scale times the FP32 tensor scale)"
                         : "OCP MX: blocks of 32 along the last axis; scale is each block's "
                           "shared power of two X = 2^e, stored as an E8M0 exponent"));
    if (nb > MAX_JSON_ARRAY) json_object_set_new(o, "truncated", json_true());
    free(step);
    free(sc8);
    return QS_OK;
}

static int run_qparams(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    if (argc > 0) return qs_err_set(err, "qparams: unexpected argument '%s' (qparams takes "
                                    "none: set the scheme with 'scheme' and the calibrator "
                                    "with 'calib')", argv[0]);
    if (need_tensor(s, "qparams", err)) return QS_ERR;
    prep p;
    if (prepare(s, s->tensor, &s->scheme, &s->calib, &p, err) != QS_OK) return QS_ERR;
    const qs_scheme *sc = &s->scheme;
    char label[96];
    qs_scheme_label(sc, label, sizeof label);
    json_t *o = json_object();
    json_object_set_new(o, "label", json_string(label));
    if (is_int_scheme(sc)) {
        const qs_qparams *qp = &p.q.qp;
        json_object_set_new(o, "scale", farray(qp->scale, qp->nparams));
        json_object_set_new(o, "zero_point", iarray(qp->zp, qp->nparams));
        json_object_set_new(o, "qmin", json_integer(qp->qmin));
        json_object_set_new(o, "qmax", json_integer(qp->qmax));
        json_object_set_new(o, "clip_min", fvalue(qp->clip_min, qp->nparams));
        json_object_set_new(o, "clip_max", fvalue(qp->clip_max, qp->nparams));
        json_object_set_new(o, "nparams", json_integer(qp->nparams));
        json_object_set_new(o, "granularity", json_string(qs_gran_name(
            sc->conv == QS_CONV_GGML || sc->kind == QS_Q_GGML ? QS_G_GROUP : sc->gran)));
        json_object_set_new(o, "convention", json_string(qs_conv_name(sc->conv)));
        json_object_set_new(o, "quantize", json_string(
            qp->divide ? "q = clamp(round(x / s) + zp, qmin, qmax)"
                       : sc->conv == QS_CONV_TRT
                             ? "q = clamp(round(x * (qmax / amax)), qmin, qmax)"
                             : "q = clamp(round(x * (1/s)) + zp, qmin, qmax)"));
        if (p.have_cal) {
            json_object_set_new(o, "calib", json_string(qs_calib_name(s->calib.kind)));
            json_object_set_new(o, "reason", json_string(p.cal.reason));
        } else {
            json_object_set_new(o, "reason", json_string("ggml blocks of 32: each block's own "
                                                         "absmax (Q8_0) or signed max (Q4_0)"));
        }
        if (qp->nparams > MAX_JSON_ARRAY) json_object_set_new(o, "truncated", json_true());
        if (sc->gran == QS_G_CHANNEL && sc->conv != QS_CONV_GGML)
            channel_axis_json(s, sc, qp, o);
    } else if (sc->kind == QS_Q_MX) {
        if (mx_qparams(s->tensor, sc, o, err) != QS_OK) {
            json_decref(o);
            prep_fini(&p);
            return QS_ERR;
        }
    } else if (is_block(sc)) {
        if (block_qparams(s->tensor, sc, p.q.nblocks, o, err) != QS_OK) {
            json_decref(o);
            prep_fini(&p);
            return QS_ERR;
        }
    } else if (p.q.fmt < 0) {
        json_object_set_new(o, "scale", farray(p.q.absmax_dq, p.q.nblocks));
        json_t *z = json_array();
        for (int64_t b = 0; b < p.q.nblocks && b < MAX_JSON_ARRAY; b++)
            json_array_append_new(z, json_integer(0));
        json_object_set_new(o, "zero_point", z);
        json_object_set_new(o, "qmin", json_integer(0));
        json_object_set_new(o, "qmax", json_integer(15));
        float amin = INFINITY, amax = 0.0f;
        for (int64_t b = 0; b < p.q.nblocks; b++) amax = fmaxf(amax, p.q.absmax[b]);
        for (int64_t b = 0; b < p.q.nblocks; b++) amin = fminf(amin, p.q.absmax[b]);
        qs_json_set_real(o, "clip_min", -(double)amax);
        qs_json_set_real(o, "clip_max", (double)amax);
        json_object_set_new(o, "absmax", farray(p.q.absmax, p.q.nblocks));
        json_object_set_new(o, "block", json_integer(p.q.block));
        json_object_set_new(o, "nparams", json_integer(p.q.nblocks));
        json_t *tab = json_array();
        for (int i = 0; i < 16; i++)
            json_array_append_new(tab, qs_json_real(sc->kind == QS_Q_NF4 ? qs_nf4_table[i]
                                                    : qs_fp4_table_by_code[i]));
        json_object_set_new(o, "codebook", tab);
        if (sc->dq) {
            json_t *d = json_object();
            qs_json_set_real(d, "offset", p.q.dq_offset);
            json_object_set_new(d, "absmax2", farray(p.q.dq_absmax, p.q.dq_nblocks));
            json_object_set_new(d, "codes", json_integer(p.q.nblocks));
            json_object_set_new(d, "block", json_integer(256));
            json_object_set_new(o, "double_quant", d);
        }
        qs_json_set_real(o, "bits_per_param", qs_scheme_bits_per_param(sc, s->tensor->n,
                                                                       p.q.nblocks));
        json_object_set_new(o, "reason", json_string("blockwise absmax: each block is divided "
                                                     "by its largest |x| and mapped to the "
                                                     "nearest of 16 code values"));
    } else {
        const qs_numfmt *f = qs_numfmt_get((qs_fmt_id)p.q.fmt);
        json_t *one = json_array(), *zero = json_array();
        json_array_append_new(one, json_real(1.0));
        json_array_append_new(zero, json_integer(0));
        json_object_set_new(o, "scale", one);
        json_object_set_new(o, "zero_point", zero);
        json_object_set_new(o, "qmin", json_null());
        json_object_set_new(o, "qmax", json_null());
        qs_json_set_real(o, "clip_min", f ? -f->max : NAN);
        qs_json_set_real(o, "clip_max", f ? f->max : NAN);
        json_object_set_new(o, "format", json_string(f ? f->name : "?"));
        json_object_set_new(o, "reason", json_string(
            "a cast: every value is rounded to the nearest representable number (round to "
            "nearest even; fp8 saturates at the largest finite value); no scale or zero "
            "point"));
    }
    prep_fini(&p);
    *out = o;
    return QS_OK;
}

/* ---- codes ------------------------------------------------------------------------------ */

static const char *const codes_words[] = {"value=", "code=", "channel=", NULL};

/* `codes value=V` / `codes code=Q`: one value's code and dequantized value (or one code's
 * value) under the session's scheme, by the library's own parameters (qs_qparams_code1): what
 * `derive V` ends with, for a face that shows a code without rebuilding the quantizer. */
static int codes_one(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    static const char *const keys[] = {"value", "code", "channel", NULL};
    const qs_cmd *me = qs_cmd_find("codes");
    if (me && qs_arg_check(me, argc, argv, keys, NULL, 0, err) != QS_OK) return QS_ERR;
    const char *sv = qs_arg_kv(argc, argv, "value"), *sq = qs_arg_kv(argc, argv, "code");
    if (sv && sq) return qs_err_set(err, "codes: give value=V or code=Q, not both");
    if (!is_int_scheme(&s->scheme))
        return qs_err_set(err, "codes %s=: the scheme %s has no integer grid with a scale and "
                          "zero point (use 'codes N' for its stored codes)", sv ? "value" :
                          "code", qs_qkind_name(&s->scheme));
    double v = 0.0;
    long long q = 0, ch = 0;
    if (sv && qs_parse_double(sv, &v) != 0)
        return qs_err_set(err, "codes: value=%s is not a number", sv);
    if (qs_arg_int(argc, argv, "code", -2147483647LL, 2147483647LL, &q, err) != QS_OK ||
        qs_arg_int(argc, argv, "channel", 0, (long long)1 << 40, &ch, err) != QS_OK)
        return QS_ERR;
    prep p;
    if (prepare(s, s->tensor, &s->scheme, &s->calib, &p, err) != QS_OK) return QS_ERR;
    const qs_qparams *qp = &p.q.qp;
    if (ch >= qp->nparams) {
        int64_t np = qp->nparams;
        prep_fini(&p);
        return qs_err_set(err, "codes: channel=%lld out of range (the scheme has %lld "
                          "parameter set%s)", ch, (long long)np, np == 1 ? "" : "s");
    }
    json_t *o = json_object();
    char label[96];
    qs_scheme_label(&s->scheme, label, sizeof label);
    json_object_set_new(o, "label", json_string(label));
    if (sv) {
        float x = (float)v, y;
        int32_t c;
        int clipped;
        qs_qparams_code1(qp, ch, x, &c, &y, &clipped);
        qs_json_set_real(o, "x", (double)x);
        json_object_set_new(o, "code", json_integer(c));
        qs_json_set_real(o, "dequant", (double)y);
        json_object_set_new(o, "clipped", json_boolean(clipped));
    } else {
        if (q < qp->qmin || q > qp->qmax) {
            int a = qp->qmin, b = qp->qmax;
            json_decref(o);
            prep_fini(&p);
            return qs_err_set(err, "codes: code=%lld is outside the code range %d..%d", q, a, b);
        }
        json_object_set_new(o, "code", json_integer(q));
        qs_json_set_real(o, "dequant", (double)qs_qparams_dequant1(qp, ch, (int32_t)q));
    }
    json_object_set_new(o, "set", json_integer(ch));
    json_object_set_new(o, "bits", json_integer(s->scheme.bits));
    json_object_set_new(o, "qmin", json_integer(qp->qmin));
    json_object_set_new(o, "qmax", json_integer(qp->qmax));
    prep_fini(&p);
    *out = o;
    return QS_OK;
}

static int run_codes(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    if (qs_arg_kv(argc, argv, "value") || qs_arg_kv(argc, argv, "code") ||
        qs_arg_kv(argc, argv, "channel")) {
        if (need_tensor(s, "codes", err)) return QS_ERR;
        return codes_one(s, argc, argv, out, err);
    }
    if (argc > 1) return qs_err_set(err, "codes: expected at most one argument (usage: "
                                    "codes [N] | codes value=V | codes code=Q)");
    if (need_tensor(s, "codes", err)) return QS_ERR;
    long long want = -1;
    if (argc == 1 && (qs_parse_ll(argv[0], &want) < 0 || want < 0))
        return qs_err_set(err, "codes: N='%s' is not a non-negative integer", argv[0]);
    const qs_tensor *t = s->tensor;
    prep p;
    if (prepare(s, t, &s->scheme, &s->calib, &p, err) != QS_OK) return QS_ERR;
    float *y = malloc((size_t)t->n * sizeof *y);
    int32_t *codes = malloc((size_t)t->n * sizeof *codes);
    if (!y || !codes) {
        free(y); free(codes); prep_fini(&p);
        return qs_err_set(err, "codes: out of memory");
    }
    qs_qresult r;       /* the nonfinite count and the error sums, as quant has them */
    memset(&r, 0, sizeof r);
    if (qs_quant_apply(&p.q, t, y, codes, &r, err) != QS_OK) {
        free(y); free(codes); prep_fini(&p);
        return QS_ERR;
    }
    int64_t shown = want >= 0 ? (want < t->n ? want : t->n) : t->n;
    int trunc = 0;
    if (shown > MAX_JSON_ARRAY) { shown = MAX_JSON_ARRAY; trunc = 1; }
    json_t *o = json_object();
    char label[96];
    qs_scheme_label(&s->scheme, label, sizeof label);
    json_object_set_new(o, "label", json_string(label));
    json_object_set_new(o, "n", json_integer(t->n));
    json_object_set_new(o, "shown", json_integer(shown));
    json_object_set_new(o, "codes", iarray(codes, shown));
    json_object_set_new(o, "dequant", farray(y, shown));
    if (is_block(&s->scheme))
        json_object_set_new(o, "code_meaning", json_string(
            "the integer code each ggml block stores (unsigned, before the -16 / -32 offset "
            "of Q5_0 / Q6_K; Q4_1, Q5_1, Q4_K add their minimum instead)"));
    else if (s->scheme.kind == QS_Q_MX)
        json_object_set_new(o, "code_meaning", json_string(
            s->scheme.mx_type == QS_MX_INT8
                ? "the int8 element code (value = code · 2^-6 · X)"
                : "the element's bit pattern in its format (fp4-e2m1, fp6-..., fp8-...)"));
    else if (!is_int_scheme(&s->scheme))
        json_object_set_new(o, "code_meaning", json_string(
            p.q.fmt >= 0 ? "the bit pattern of each value in the format"
                         : "the 4-bit codebook index bitsandbytes stores"));
    if (trunc) json_object_set_new(o, "truncated", json_true());
    nonfinite_into(o, &s->scheme, t, r.nonfinite, &r.st);
    if (is_block(&s->scheme)) overflow_into(o, r.overflow, t->n);
    qs_qresult_fini(&r);
    free(y);
    free(codes);
    prep_fini(&p);
    *out = o;
    return QS_OK;
}

/* ---- quant ------------------------------------------------------------------------------ */

static void metrics_into(json_t *o, const qs_errstats *st)
{
    qs_metrics m;
    qs_metrics_from_stats(st, &m);
    qs_json_set_real(o, "mse", m.mse);
    qs_json_set_real(o, "rmse", m.rmse);
    qs_json_set_real(o, "sqnr_db", m.sqnr_db);
    qs_json_set_real(o, "max_abs_err", m.max_abs_err);
    qs_json_set_real(o, "mean_err", m.mean_err);
    qs_json_set_real(o, "cosine", m.cosine);
    qs_json_set_real(o, "clip_frac", m.clip_frac);
}

/* Finite inputs that dequantized to ±Inf or NaN: the result says why instead of showing
 * the error metrics as if clean. The metrics themselves are qs_metrics_from_stats': when every
 * error is finite or ±Inf (an fp16 cast of 70000) the error is infinite (MSE, RMSE and the
 * largest error inf, SQNR -inf, the cosine undefined); any NaN error (st's Σe² is NaN) leaves
 * them all undefined. An MX /
 * NVFP4 tensor holding NaN or ±Inf also says what the format did with them (qs_mx_specials_text:
 * MX's NaN block scale is the cause of its NaN values; NVFP4 stores NaN as 0, saturates Inf). */
static void nonfinite_into(json_t *o, const qs_scheme *sc, const qs_tensor *t,
                           int64_t nonfinite, const qs_errstats *st)
{
    qs_mx_specials sp;
    char spec[400] = "";
    memset(&sp, 0, sizeof sp);
    if (sc->kind == QS_Q_MX) {
        qs_mx_tensor_specials(sc->mx_type, t, &sp);
        qs_mx_specials_text(sc->mx_type, &sp, spec, sizeof spec);
    }
    if (nonfinite <= 0) {
        if (spec[0]) json_object_set_new(o, "warning", json_string(spec));
        return;
    }
    int inf_err = !isnan(st->sum_e2);
    json_object_set_new(o, "nonfinite", json_integer(nonfinite));
    int64_t finite = 0;
    for (int64_t e = 0; e < t->n; e++) finite += isfinite(t->data[e]) != 0;
    char w[768], cause[512];
    int ggml = sc->kind == QS_Q_GGML || sc->conv == QS_CONV_GGML;
    if (ggml)
        snprintf(cause, sizeof cause, "a block scale beyond fp16's range (65504) is stored as "
                 "inf, as ggml does");
    else if (sc->kind == QS_Q_FP16)
        snprintf(cause, sizeof cause, "fp16 ends at 65504; larger magnitudes become inf");
    else if (spec[0] && sp.finite_nan >= nonfinite)
        snprintf(cause, sizeof cause, "%s", spec);
    else if (spec[0] && sp.finite_nan > 0)
        snprintf(cause, sizeof cause, "%s; the other %lld exceeded the format's range", spec,
                 (long long)(nonfinite - sp.finite_nan));
    else
        snprintf(cause, sizeof cause, "the format's range was exceeded");
    if (inf_err)
        snprintf(w, sizeof w, "%lld of %lld finite values dequantize to inf: %s; the error is "
                 "infinite (SQNR -inf; the cosine is undefined)", (long long)nonfinite,
                 (long long)finite, cause);
    else
        snprintf(w, sizeof w, "%lld of %lld finite values dequantize to inf or nan: %s; the "
                 "error metrics are undefined", (long long)nonfinite, (long long)finite, cause);
    json_object_set_new(o, "warning", json_string(w));
}

/* ggml's reference quantizer overflowing fp32 (qs_ggml_tensor_overflow): the count, and the
 * reason added to the warning (after nonfinite_into's, when both apply). */
static void overflow_into(json_t *o, int64_t overflow, int64_t n)
{
    if (overflow <= 0) return;
    json_object_set_new(o, "overflow", json_integer(overflow));
    char w[640];
    const char *prev = json_string_value(json_object_get(o, "warning"));
    snprintf(w, sizeof w, "%s%s%lld of %lld values are in Q6_K sub-blocks whose scale overflows "
             "fp32 in ggml's reference quantizer (it sums x^3 times the code, past 3.4e38 once |x| "
             "nears 1e12): ggml stores them with scale 0 or nan, so they dequantize to 0 or "
             "nan", prev ? prev : "", prev ? "; " : "", (long long)overflow, (long long)n);
    json_object_set_new(o, "warning", json_string(w));
}

/* Per-channel metrics: each channel's elements fake-quantized with its own parameters. */
static json_t *per_channel(const qs_tensor *t, const qs_qparams *qp, qs_err *err)
{
    float *buf;
    int64_t *off;
    if (qs_layout_gather(t->data, &qp->layout, &buf, &off, err) != QS_OK) return NULL;
    json_t *rows = json_array();
    for (int64_t c = 0; c < qp->nparams && c < 4096; c++) {
        qs_layout l1;
        int64_t cnt = off[c + 1] - off[c];
        qs_layout_make(0, &cnt, QS_G_TENSOR, 0, 1, &l1);
        l1.len = cnt;
        qs_qp k = qs_qparams_kernel(qp);
        k.scale += c; k.inv += c; k.zp += c;
        qs_errstats st;
        qs_k()->fakequant(buf + off[c], &l1, &k, NULL, NULL, &st, NULL);
        json_t *r = json_object();
        json_object_set_new(r, "channel", json_integer(c));
        qs_json_set_real(r, "scale", qp->scale[c]);
        json_object_set_new(r, "zero_point", json_integer(qp->zp[c]));
        qs_json_set_real(r, "clip_min", qp->clip_min[c]);
        qs_json_set_real(r, "clip_max", qp->clip_max[c]);
        metrics_into(r, &st);
        json_object_del(r, "rmse");
        json_object_del(r, "mean_err");
        json_array_append_new(rows, r);
    }
    free(buf);
    free(off);
    return rows;
}

static int run_quant(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    long long bins = 41;
    static const char *const keys[] = {"bins", NULL};
    const qs_cmd *me = qs_cmd_find("quant");
    if (me && qs_arg_check(me, argc, argv, keys, NULL, 0, err) != QS_OK) return QS_ERR;
    if (qs_arg_int(argc, argv, "bins", 1, 4096, &bins, err) != QS_OK) return QS_ERR;
    if (need_tensor(s, "quant", err)) return QS_ERR;
    const qs_tensor *t = s->tensor;
    prep p;
    if (prepare(s, t, &s->scheme, &s->calib, &p, err) != QS_OK) return QS_ERR;
    qs_qresult r;
    memset(&r, 0, sizeof r);
    r.eh_bins = (int)bins;
    if (qs_quant_apply(&p.q, t, NULL, NULL, &r, err) != QS_OK) {
        prep_fini(&p);
        return QS_ERR;
    }
    json_t *o = json_object();
    char label[96];
    qs_scheme_label(&s->scheme, label, sizeof label);
    json_object_set_new(o, "label", json_string(label));
    if (p.have_cal) json_object_set_new(o, "calib", json_string(qs_calib_name(s->calib.kind)));
    json_object_set_new(o, "n", json_integer(r.st.n));
    metrics_into(o, &r.st);
    json_object_set_new(o, "clipped", json_integer(r.st.clipped));
    if (r.st.n_nan) json_object_set_new(o, "nan_skipped", json_integer(r.st.n_nan));
    nonfinite_into(o, &s->scheme, t, r.nonfinite, &r.st);
    overflow_into(o, r.overflow, t->n);
    int64_t np = is_int_scheme(&s->scheme) ? p.q.qp.nparams : p.q.nblocks;
    qs_json_set_real(o, "bits_per_param", qs_scheme_bits_per_param(&s->scheme, t->n, np));
    json_t *h = json_object(), *cnt = json_array(), *edges = json_array();
    for (int i = 0; i < r.eh_bins; i++) json_array_append_new(cnt, json_integer(
        (json_int_t)r.eh_counts[i]));
    for (int i = 0; i <= r.eh_bins; i++)
        json_array_append_new(edges, qs_json_real(r.eh_lo + (r.eh_hi - r.eh_lo) * i /
                                                  r.eh_bins));
    json_object_set_new(h, "counts", cnt);
    json_object_set_new(h, "edges", edges);
    json_object_set_new(o, "err_hist", h);
    if (is_int_scheme(&s->scheme) && s->scheme.gran == QS_G_CHANNEL &&
        s->scheme.conv != QS_CONV_GGML) {
        json_t *pc = per_channel(t, &p.q.qp, err);
        if (!pc) { json_decref(o); qs_qresult_fini(&r); prep_fini(&p); return QS_ERR; }
        json_object_set_new(o, "per_channel", pc);
    }
    qs_qresult_fini(&r);
    prep_fini(&p);
    *out = o;
    return QS_OK;
}

/* Splits a comma list in place into at most max words. */
static int split_list(char *s, char **w, int max)
{
    int n = 0;
    for (char *tok = strtok(s, ","); tok && n < max; tok = strtok(NULL, ",")) w[n++] = tok;
    return n;
}

/* ---- derive ----------------------------------------------------------------------------- */

static void steps_into(json_t *steps, const qs_trace *tr, const char *prefix)
{
    for (int i = 0; i < tr->n; i++) {
        const qs_step *st = &tr->steps[i];
        char title[128];     /* a set prefix (< 48) and a step title (< 64) */
        snprintf(title, sizeof title, "%s%s", prefix, st->title);
        json_t *j = json_object();
        json_object_set_new(j, "title", json_string(title));
        json_object_set_new(j, "formula", json_string(st->formula));
        json_object_set_new(j, "substituted", json_string(st->substituted));
        json_object_set_new(j, "result", json_string(st->result));
        json_object_set_new(j, "note", json_string(st->note));
        qs_json_set_real(j, "value", st->value);
        json_array_append_new(steps, j);
    }
}

static int run_derive(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    static const char *const keys[] = {"channel", "block", "index", NULL};
    if (argc > 0 && strcmp(argv[0], "requant") == 0)  /* integer requantization (cmd_lab.c) */
        return qs_cmd_derive_requant(s, argc, argv, out, err);
    const qs_cmd *me = qs_cmd_find("derive");
    if (me && qs_arg_check(me, argc, argv, keys, NULL, 1, err) != QS_OK) return QS_ERR;
    if (need_tensor(s, "derive", err)) return QS_ERR;
    qs_derive_opts o = { 0, 0.0, 0, -1 };
    const char *v = qs_arg_pos(argc, argv, 0);
    if (v) {
        if (qs_parse_double(v, &o.value) < 0)
            return qs_err_set(err, "derive: VALUE '%s' is not a number", v);
        o.has_value = 1;
    }
    long long idx = 0;
    if (qs_arg_int(argc, argv, "index", 0, s->tensor->n - 1, &idx, err) != QS_OK)
        return QS_ERR;
    o.index = idx;
    /* channel=C or a list channel=0,3,7 (block= is the same for blocks): one step group each */
    long long sets[64];
    int nsets = 0;
    const char *key = qs_arg_kv(argc, argv, "channel") ? "channel" : "block";
    const char *list = qs_arg_kv(argc, argv, key);
    if (list) {
        char tmp[512], *w[64];
        snprintf(tmp, sizeof tmp, "%s", list);
        int nw = split_list(tmp, w, 64);
        for (int i = 0; i < nw; i++)
            if (qs_parse_ll(w[i], &sets[nsets]) < 0 || sets[nsets] < 0)
                return qs_err_set(err, "%s=%s: '%s' is not a non-negative integer", key, list,
                                  w[i]);
            else nsets++;
        if (nsets == 0) return qs_err_set(err, "%s=: expected a number or a list", key);
        int64_t np = s->scheme.kind == QS_Q_GGML || s->scheme.conv == QS_CONV_GGML ? -1
                     : scheme_nparams(&s->scheme, s->tensor);
        for (int i = 0; i < nsets && np > 0; i++)
            if (sets[i] >= np)
                return qs_err_set(err, "%s=%s: %lld is out of range 0..%lld (the scheme has "
                                  "%lld parameter set%s)", key, list, sets[i],
                                  (long long)np - 1, (long long)np, np > 1 ? "s" : "");
    } else {
        sets[nsets++] = -1;
    }
    /* integer grids: one calibration for every step group, through the session's cache (a
     * failure is left to qs_derive, which reports it as before) */
    qs_calib_result cal;
    const qs_calib_result *have = NULL;
    memset(&cal, 0, sizeof cal);
    if (is_int_scheme(&s->scheme)) {
        qs_layout l;
        qs_calib cm = s->calib;
        qs_err e2 = {{0}};
        if (s->scheme.kind == QS_Q_GGML || s->scheme.conv == QS_CONV_GGML)
            cm.kind = QS_CAL_MINMAX;    /* ggml ignores the calibrator (derive.c) */
        if (qs_scheme_layout(&s->scheme, s->tensor->ndim, s->tensor->shape, &l, &e2) == QS_OK &&
            qs_session_calib(s, &l, &s->scheme, &cm, &cal, &e2) == QS_OK)
            have = &cal;
    }
    {
        qs_err e3 = {{0}};          /* the noise model's P, kept by the session */
        o.has_power = qs_session_power(s, &o.power_sum, &o.power_n, &e3) == QS_OK;
    }
    json_t *res = json_object(), *steps = json_array(), *groups = json_array();
    char label[96];
    qs_scheme_label(&s->scheme, label, sizeof label);
    json_object_set_new(res, "label", json_string(label));
    for (int k = 0; k < nsets; k++) {
        qs_trace tr;
        o.set = sets[k];
        if (qs_derive_cal(s->tensor, &s->scheme, &s->calib, have, &o, &tr, err) != QS_OK) {
            json_decref(res); json_decref(steps); json_decref(groups);
            qs_calib_result_fini(&cal);
            return QS_ERR;
        }
        char prefix[48] = "";
        if (nsets > 1) snprintf(prefix, sizeof prefix, "%s %lld: ", key, sets[k]);
        steps_into(steps, &tr, prefix);
        if (k == 0) {
            qs_json_set_real(res, "x", tr.x);
            json_object_set_new(res, "code", json_integer(tr.code));
            qs_json_set_real(res, "dequant", tr.xhat);
            qs_json_set_real(res, "error", tr.xhat - tr.x);
            /* which parameter set (channel / group / block) was used: only when there are
             * several (a per-tensor "set 0" says nothing) */
            if (scheme_nparams(&s->scheme, s->tensor) > 1)
                json_object_set_new(res, "set", json_integer(tr.set));
        }
        json_t *gj = json_object();
        json_object_set_new(gj, key, json_integer(tr.set));
        qs_json_set_real(gj, "x", tr.x);
        json_object_set_new(gj, "code", json_integer(tr.code));
        qs_json_set_real(gj, "dequant", tr.xhat);
        qs_json_set_real(gj, "error", tr.xhat - tr.x);
        json_array_append_new(groups, gj);
        qs_trace_fini(&tr);
    }
    if (nsets > 1) json_object_set_new(res, "sets", groups);
    else json_decref(groups);
    json_object_set_new(res, "steps", steps);
    qs_calib_result_fini(&cal);
    *out = res;
    return QS_OK;
}

/* ---- compare ---------------------------------------------------------------------------- */

/* The LLM weight formats side by side: ggml's block formats, per-channel int8/int4, per-group
 * int4 and NF4 ("what does Q4_K do to my weights?" in one table). */
#define LLM_FORMATS "q8_0,q6_k,q5_1,q5_0,q4_k,q4_1,q4_0,int8 sym per-channel," \
                    "int4 sym per-channel,int4 sym per-group size=32," \
                    "int4 sym per-group size=128,nf4 block=64,nf4 block=64 dq," \
                    "mxfp8_e4m3,mxfp8_e5m2,mxint8,mxfp6_e3m2,mxfp6_e2m3,mxfp4,nvfp4"

/* Splits one format of formats= into scheme words (copied into buf); returns the count. */
static int format_words(const char *f, char *buf, size_t len, char **w, int max)
{
    int n = 0;
    char *save = NULL;
    snprintf(buf, len, "%s", f);
    for (char *t = strtok_r(buf, " ", &save); t && n < max; t = strtok_r(NULL, " ", &save))
        w[n++] = t;
    return n;
}

/* bits=8 | bits=2..8 | bits=2,4,8 */
static int parse_bits(const char *v, int *bits, int max, qs_err *err)
{
    int n = 0;
    const char *dots = strstr(v, "..");
    if (dots) {
        long a = strtol(v, NULL, 10), b = strtol(dots + 2, NULL, 10);
        if (a < 2 || b > 8 || a > b) return qs_err_set(err, "bits=%s: expected a range within "
                                                       "2..8", v), -1;
        for (long k = a; k <= b && n < max; k++) bits[n++] = (int)k;
        return n;
    }
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%s", v);
    char *w[8];
    int nw = split_list(tmp, w, 8);
    for (int i = 0; i < nw; i++) {
        char *end;
        long b = strtol(w[i], &end, 10);
        if (*end || b < 2 || b > 8) return qs_err_set(err, "bits=%s: '%s' is not 2..8", v,
                                                      w[i]), -1;
        bits[n++] = (int)b;
    }
    return n;
}

static int compare_row(const qs_tensor *t, const qs_scheme *sc, const qs_calib *c,
                       json_t *rows, qs_err *err)
{
    prep p;
    if (prepare(NULL, t, sc, c, &p, err) != QS_OK) return QS_ERR;
    qs_qresult r;
    memset(&r, 0, sizeof r);
    if (qs_quant_apply(&p.q, t, NULL, NULL, &r, err) != QS_OK) { prep_fini(&p); return QS_ERR; }
    char label[96];
    qs_scheme_label(sc, label, sizeof label);
    json_t *o = json_object();
    int isint = is_int_scheme(sc) && sc->conv != QS_CONV_GGML;
    json_object_set_new(o, "scheme", json_string(label));
    json_object_set_new(o, "calib", json_string(isint ? qs_calib_name(c->kind) : "-"));
    json_object_set_new(o, "bits", json_integer(sc->bits));
    /* the real cost (scales included) next to the nominal width: a narrow terminal keeps it */
    int64_t np = is_int_scheme(sc) ? p.q.qp.nparams : p.q.nblocks;
    qs_json_set_real(o, "bits_per_param", qs_scheme_bits_per_param(sc, t->n, np));
    char gran[24];
    snprintf(gran, sizeof gran, "block%d", is_block(sc) || sc->kind == QS_Q_MX ? sc->group
                                                                               : 32);
    json_object_set_new(o, "gran", json_string(
        is_int_scheme(sc) ? (sc->conv == QS_CONV_GGML ? gran : qs_gran_name(sc->gran) + 4)
                          : is_block(sc) || sc->kind == QS_Q_MX ? gran
                          : (p.q.fmt >= 0 ? "cast" : "block")));
    json_object_set_new(o, "convention", json_string(is_int_scheme(sc) || is_block(sc) ?
                                                     qs_conv_name(sc->conv) : "-"));
    qs_metrics m;       /* dequantized ±inf: an infinite error; nan: undefined (nonfinite_into) */
    qs_metrics_from_stats(&r.st, &m);
    qs_json_set_real(o, "sqnr_db", m.sqnr_db);
    /* next to sqnr_db: a narrow terminal shows it before the columns to the right */
    json_object_set_new(o, "db_per_bit", json_null());     /* filled in by run_compare */
    qs_json_set_real(o, "mse", m.mse);
    qs_json_set_real(o, "max_abs_err", m.max_abs_err);
    qs_json_set_real(o, "clip_frac", m.clip_frac);
    qs_json_set_real(o, "cosine", m.cosine);
    if (isint && p.q.qp.nparams >= 1) {
        qs_json_set_real(o, "clip_max", p.q.qp.clip_max[0]);
    }
    json_array_append_new(rows, o);
    qs_qresult_fini(&r);
    prep_fini(&p);
    return QS_OK;
}

static int run_compare(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    static const char *const keys[] = {"bits", "calibs", "gran", "conventions", "formats",
                                       NULL};
    const qs_cmd *me = qs_cmd_find("compare");
    if (me && qs_arg_check(me, argc, argv, keys, NULL, 0, err) != QS_OK) return QS_ERR;
    if (need_tensor(s, "compare", err)) return QS_ERR;
    int bits[8], nbits = 0;
    int cal[8], ncal = 0;
    qs_gran gr[3];
    int ngr = 0;
    qs_conv cv[4];
    int ncv = 0;
    char *fm[32];
    int nfm = 0;
    char fbuf[1024] = "";
    qs_scheme base = s->scheme;
    if (!is_int_scheme(&base) || base.conv == QS_CONV_GGML) qs_scheme_default(&base);
    const char *v;
    if ((v = qs_arg_kv(argc, argv, "bits"))) {
        if ((nbits = parse_bits(v, bits, 8, err)) < 0) return QS_ERR;
    } else bits[nbits++] = base.bits;
    if ((v = qs_arg_kv(argc, argv, "calibs"))) {
        char tmp[256], *w[8];
        snprintf(tmp, sizeof tmp, "%s", v);
        int nw = split_list(tmp, w, 8);
        for (int i = 0; i < nw; i++) {
            int k = qs_calib_find(w[i]);
            if (k < 0) return qs_err_set(err, "calibs=%s: unknown calibrator '%s'", v, w[i]);
            if (k == QS_CAL_MANUAL && !(s->calib.lo < s->calib.hi))
                return qs_err_set(err, "calibs=%s: no manual range yet (set one with calib "
                                  "manual min=X max=Y)", v);
            cal[ncal++] = k;
        }
    } else {
        cal[ncal++] = QS_CAL_MINMAX; cal[ncal++] = QS_CAL_PERCENTILE;
        cal[ncal++] = QS_CAL_MSE; cal[ncal++] = QS_CAL_ENTROPY;
    }
    if ((v = qs_arg_kv(argc, argv, "gran"))) {
        char tmp[128], *w[3];
        snprintf(tmp, sizeof tmp, "%s", v);
        int nw = split_list(tmp, w, 3);
        for (int i = 0; i < nw; i++) {
            const char *g = w[i];
            if (!strncmp(g, "per-", 4)) g += 4;
            if (!strcmp(g, "tensor")) gr[ngr++] = QS_G_TENSOR;
            else if (!strcmp(g, "channel")) gr[ngr++] = QS_G_CHANNEL;
            else if (!strcmp(g, "group")) gr[ngr++] = QS_G_GROUP;
            else return qs_err_set(err, "gran=%s: '%s' is not tensor, channel or group", v,
                                   w[i]);
        }
    } else gr[ngr++] = base.gran;
    if ((v = qs_arg_kv(argc, argv, "conventions"))) {
        char tmp[128], *w[4];
        snprintf(tmp, sizeof tmp, "%s", v);
        int nw = split_list(tmp, w, 4);
        for (int i = 0; i < nw; i++) {
            int c = qs_conv_find(w[i]);
            if (c >= 0 && qs_conv_table[c].compare) {
                cv[ncv++] = (qs_conv)c;
                continue;
            }
            char list[128];
            size_t o = 0;
            int total = 0, n = 0;
            for (int k = 0; k < QS_CONV_COUNT; k++) total += qs_conv_table[k].compare;
            for (int k = 0; k < QS_CONV_COUNT && o < sizeof list; k++)
                if (qs_conv_table[k].compare) {
                    o += (size_t)snprintf(list + o, sizeof list - o, "%s%s",
                                          n == 0 ? "" : n + 1 < total ? ", " : " or ",
                                          qs_conv_table[k].name);
                    n++;
                }
            return qs_err_set(err, "conventions=%s: '%s' is not %s (ggml blocks go in "
                              "formats=q8_0,q4_0)", v, w[i], list);
        }
    } else cv[ncv++] = base.conv;
    /* formats=: a comma list of formats, each one or more scheme words ("int4 sym
     * per-channel" when quoted); "llm" stands for the LLM weight formats, the default when
     * the current scheme is a ggml block format */
    v = qs_arg_kv(argc, argv, "formats");
    if (!v && (qs_scheme_ggml_id(&s->scheme) >= 0 || s->scheme.kind == QS_Q_MX)) v = "llm";
    if (v) {
        char *p = fbuf;
        size_t left = sizeof fbuf;
        char tmp[1024], *w[32];
        snprintf(tmp, sizeof tmp, "%s", v);
        int nw = split_list(tmp, w, 32);
        for (int i = 0; i < nw && left > 1; i++) {
            int n = snprintf(p, left, "%s%s", i ? "," : "", !strcmp(w[i], "llm")
                             ? LLM_FORMATS : w[i]);
            if (n < 0 || (size_t)n >= left) return qs_err_set(err, "formats=%s: too long", v);
            p += n;
            left -= (size_t)n;
        }
        nfm = split_list(fbuf, fm, 32);
        for (int i = 0; i < nfm; i++) {
            qs_scheme t2;
            qs_scheme_default(&t2);
            char wb[128], *fw[8];
            int nf = format_words(fm[i], wb, sizeof wb, fw, 8);
            if (nf == 0 || qs_scheme_parse(&t2, nf, fw, NULL) != QS_OK)
                return qs_err_set(err, "formats=%s: '%s' is not a format (nf4, fp4, fp16, "
                                  "bf16, fp8-e4m3, fp8-e5m2, q8_0, q4_0, q4_1, q5_0, q5_1, "
                                  "q4_k, q6_k, mxfp4, mxfp6_e3m2, mxfp6_e2m3, mxfp8_e4m3, "
                                  "mxfp8_e5m2, mxint8, nvfp4, int2..int8, 'int4 sym "
                                  "per-channel', llm)", v,
                                  fm[i]);
        }
    }
    json_t *rows = json_array();
    int total = nbits * ncal * ngr * ncv + nfm, done = 0;
    for (int g = 0; g < ngr; g++)
        for (int k = 0; k < ncv; k++)
            for (int b = 0; b < nbits; b++)
                for (int c = 0; c < ncal; c++) {
                    qs_scheme sc = base;
                    sc.bits = bits[b];
                    sc.gran = gr[g];
                    sc.conv = cv[k];
                    if (sc.conv == QS_CONV_TRT) sc.symmetric = 1;
                    qs_calib cb = s->calib;
                    cb.kind = (qs_calib_kind)cal[c];
                    int rc = qs_session_progress(s, "compare", done, total);
                    if (rc == QS_OK) rc = compare_row(s->tensor, &sc, &cb, rows, err);
                    if (rc != QS_OK) {
                        if (rc == QS_CANCELLED) qs_err_set(err, "compare: cancelled");
                        json_decref(rows);
                        return rc;
                    }
                    done++;
                }
    /* SQNR gained per added bit within each (granularity, convention, calibrator) series: the
     * 6 dB-per-bit rule, read off the table (rows run bits-major within a series block) */
    if (nbits > 1)
        for (int r = ncal; r < nbits * ncal * ngr * ncv; r++) {
            if ((r / ncal) % nbits == 0) continue;     /* first width of a block */
            json_t *cur = json_array_get(rows, (size_t)r), *prev = json_array_get(rows,
                                                                         (size_t)(r - ncal));
            double a = json_number_value(json_object_get(cur, "sqnr_db"));
            double b = json_number_value(json_object_get(prev, "sqnr_db"));
            double db = (double)(json_integer_value(json_object_get(cur, "bits")) -
                                 json_integer_value(json_object_get(prev, "bits")));
            if (json_is_number(json_object_get(cur, "sqnr_db")) &&
                json_is_number(json_object_get(prev, "sqnr_db")) && db > 0)
                qs_json_set_real(cur, "db_per_bit", (a - b) / db);
        }
    for (int i = 0; i < nfm; i++) {
        qs_scheme sc;
        qs_scheme_default(&sc);
        char wb[128], *fw[8];
        int nf = format_words(fm[i], wb, sizeof wb, fw, 8);
        qs_scheme_parse(&sc, nf, fw, NULL);
        int rc = qs_session_progress(s, "compare", done, total);
        if (rc == QS_OK) rc = compare_row(s->tensor, &sc, &s->calib, rows, err);
        if (rc != QS_OK) {
            if (rc == QS_CANCELLED) qs_err_set(err, "compare: cancelled");
            json_decref(rows);
            return rc;
        }
        done++;
    }
    qs_session_progress(s, "compare", done, total);
    json_t *o = json_object();
    json_object_set_new(o, "n", json_integer(s->tensor->n));
    json_object_set_new(o, "rows", rows);
    qs_grid g;      /* dequantized codes: the 6.02 dB/bit rule does not hold, say why */
    if (qs_grid_detect(s->tensor->data, s->tensor->n, &g, NULL) == QS_OK &&
        qs_grid_quantized(&g)) {
        char note[600];
        size_t nr = json_array_size(rows), k;
        double *db = malloc((nr ? nr : 1) * sizeof *db);
        json_t *r;
        if (db) {       /* the note says which of these rows reproduce the grid */
            json_array_foreach(rows, k, r)
                if (qs_json_real_get(json_object_get(r, "sqnr_db"), &db[k]) < 0) db[k] = NAN;
            qs_cmd_grid_note(&g, db, (int)nr, note, sizeof note);
            json_object_set_new(o, "note", json_string(note));
            free(db);
        }
    }
    *out = o;
    return QS_OK;
}

/* ---- memory ----------------------------------------------------------------------------- */

static int run_memory(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    static const char *const keys[] = {"params", "shape", "lora_frac", NULL};
    const qs_cmd *me = qs_cmd_find("memory");
    if (me && qs_arg_check(me, argc, argv, keys, NULL, 0, err) != QS_OK) return QS_ERR;
    double params = -1.0, lora = 0.01;
    const char *src = "";
    char srcbuf[300];
    const char *v;
    if ((v = qs_arg_kv(argc, argv, "params"))) {
        if (qs_parse_double(v, &params) < 0 || !(params > 0) || !isfinite(params))
            return qs_err_set(err, "params=%s: expected a positive number (e.g. 70e9)", v);
        snprintf(srcbuf, sizeof srcbuf, "params=%.200s", v);
        src = srcbuf;
    } else if ((v = qs_arg_kv(argc, argv, "shape"))) {
        /* sizes are decimal digits (no sign, hex, exponent or inf) joined by x, ',' or '*';
         * every field holds one (no empty field, no separator at an end) */
        params = 1.0;
        const char *p = v;
        for (;;) {
            size_t l = strspn(p, "0123456789");
            double d = 0;
            for (size_t k = 0; k < l; k++) d = d * 10 + (p[k] - '0');
            if (l == 0 || !(d >= 1) || (p[l] && !strchr("x,*", p[l])) ||
                (p[l] && !p[l + 1]))
                return qs_err_set(err, "memory: shape=%s: expected sizes, whole numbers of 1 "
                                  "or more in decimal digits, joined by x (e.g. 4096x4096 or "
                                  "32,4096)", v);
            params *= d;
            if (!p[l]) break;
            p += l + 1;
        }
        if (!isfinite(params))
            return qs_err_set(err, "memory: shape=%s: too many parameters to count", v);
        snprintf(srcbuf, sizeof srcbuf, "shape=%.200s", v);
        src = srcbuf;
    } else if (s->file && s->file->n > 0) {
        params = 0.0;
        for (int i = 0; i < s->file->n; i++) params += (double)s->file->entries[i].n;
        snprintf(srcbuf, sizeof srcbuf, "the %d tensors of %s", s->file->n, s->file->path);
        src = srcbuf;
    } else if (s->tensor) {
        params = (double)s->tensor->n;
        src = "the current tensor";
    } else {
        return qs_err_set(err, "memory: give params=N (e.g. params=70e9) or shape=AxB, or load "
                          "a tensor first");
    }
    if (qs_arg_double(argc, argv, "lora_frac", 0.0, 1.0, &lora, err) != QS_OK) return QS_ERR;
    static const struct { const char *name; double bits; } fmts[] = {
        {"FP32", 32}, {"FP16", 16}, {"BF16", 16}, {"INT8", 8}, {"INT4", 4},
        {"NF4 (block 64)", 4.5}, {"NF4 + double quant", 4.0 + 8.0 / 64 + 32.0 / (64 * 256)},
    };
    json_t *rows = json_array();
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
        json_t *r = json_object();
        double bytes = params * fmts[i].bits / 8.0;
        json_object_set_new(r, "format", json_string(fmts[i].name));
        qs_json_set_real(r, "bits_per_param", fmts[i].bits);
        qs_json_set_real(r, "bytes", bytes);
        qs_json_set_real(r, "gb", bytes / 1e9);
        qs_json_set_real(r, "gib", bytes / 1073741824.0);
        json_array_append_new(rows, r);
    }
    double tp = params * lora;
    struct { const char *m; double w, g, o; } tr[] = {
        {"full fine-tuning (Adam, fp32)", params * 4, params * 4, params * 8},
        {"LoRA (fp16 base, fp32 adapters)", params * 2 + tp * 4, tp * 4, tp * 8},
        {"QLoRA (NF4+DQ base, fp32 adapters)", params * (4.0 + 8.0 / 64 + 32.0 / 16384) / 8 +
         tp * 4, tp * 4, tp * 8},
    };
    json_t *train = json_array();
    for (size_t i = 0; i < sizeof tr / sizeof tr[0]; i++) {
        json_t *r = json_object();
        json_object_set_new(r, "method", json_string(tr[i].m));
        qs_json_set_real(r, "weights_gb", tr[i].w / 1e9);
        qs_json_set_real(r, "grads_gb", tr[i].g / 1e9);
        qs_json_set_real(r, "optimizer_gb", tr[i].o / 1e9);
        qs_json_set_real(r, "total_gb", (tr[i].w + tr[i].g + tr[i].o) / 1e9);
        json_array_append_new(train, r);
    }
    /* the assumptions, as one string so every face shows it whole */
    char as[1800];
    snprintf(as, sizeof as,
             "parameters from %.300s; GB = 10^9 bytes, GiB = 2^30. Model state only (weights; for "
             "training also gradients and optimizer state): activations and their gradients, "
             "KV cache, framework and CUDA overheads are not counted. INT8/INT4 rows count the "
             "codes only (per-group or per-channel scales add a little); the NF4 rows include "
             "their absmax constants (4.5 and 4.127 bits). Full fine-tuning: fp32 weights (4 B) "
             "+ fp32 gradients (4 B) + Adam first and second moments (8 B) = 16 bytes per "
             "parameter (the QLoRA paper's \"more than 780 GB\" for 65B is 12 B per parameter, "
             "what 16-bit weights and gradients with fp32 Adam moments give). LoRA / QLoRA: trainable adapter parameters = %g of the model "
             "(lora_frac), each with fp32 weight, gradient and Adam state (16 B); the base is "
             "frozen (no gradients, no optimizer state), fp16 for LoRA and NF4 + double quant "
             "for QLoRA.", src, lora);
    json_t *o = json_object();
    qs_json_set_real(o, "params", params);
    json_object_set_new(o, "rows", rows);
    json_object_set_new(o, "training", train);
    json_object_set_new(o, "assumptions", json_string(as));
    *out = o;
    return QS_OK;
}

/* ---- the table -------------------------------------------------------------------------- */

static const char *const derive_words[] = {"channel=", "block=", "index=", "requant", "M=",
                                           "s_in=", "s_w=", "s_out=", "acc=", "zp=",
                                           "qmin=", "qmax=", NULL};
static const char *const compare_words[] = {
    "bits=", "calibs=minmax,percentile,mse,entropy", "gran=tensor,channel", "conventions=",
    "formats=nf4,fp4,fp8-e4m3,q8_0,q4_0", "formats=llm", "formats=q8_0,q4_0,q4_k,q6_k",
    NULL,
};
static const char *const memory_words[] = {"params=", "shape=", "lora_frac=", NULL};
static const char *const quant_words[] = {"bins=", NULL};

const qs_cmd qs_cmds_quant[] = {
    {"scheme", "quantize",
     "scheme [TYPE] [bits=N] [sym|asym] [narrow|full] [per-tensor|per-channel|per-group] "
     "[axis=A|auto] [size=G] [block=B] [dq] [convention=C] [round=R] [seed=S]",
     "show or set the quantization scheme (a type word starts from the default scheme; other "
     "words change the current one)",
     "TYPE             int2..int8, uint2..uint8 (integer grid), fp16, bf16 (IEEE casts: "
     "past the largest finite value, inf), fp8-e4m3, fp8-e5m2 (saturating casts: past 448 / "
     "57344 a value becomes ±448 / ±57344 and counts as clipped, as the OCP FP8 spec's "
     "saturating conversion and CUDA's __NV_SATFINITE do; `bits X e5m2` shows the IEEE "
     "encoding, where E5M2 overflows to inf, and `bits X e5m2 overflow=saturate` this "
     "cast), nf4, fp4 (4-bit codebooks, blockwise absmax), q8_0, q4_0, q4_1, "
     "q5_0, q5_1 (ggml blocks of 32), q4_k, q6_k (ggml super-blocks of 256), mxfp8_e4m3, "
     "mxfp8_e5m2, mxfp6_e3m2, mxfp6_e2m3, mxfp4, mxint8 (OCP MX: blocks of 32 sharing an "
     "E8M0 power-of-two scale), nvfp4 (E2M1 in blocks of 16 with an E4M3 scale and an FP32 "
     "tensor scale); the type comes first. A word the format does not take (block= or dq "
     "on an integer scheme, sym on nf4, any word on fp16, q4_1..q6_k or an MX format) and two "
     "words that contradict each other (sym asym) are refused\n"
     "sym | asym       symmetric (zero point fixed) or affine (default asym)\n"
     "narrow | full    narrow range drops the most negative code (int8: -127..127)\n"
     "per-tensor       one scale and zero point (default)\n"
     "bits=N           the bit width of an integer scheme (2..8), every other field kept\n"
     "per-channel      one per index along axis=A (negative counts from the end); default "
     "axis=auto: the output-channel axis the tensor's file and name say. Safetensors "
     "__metadata__ format tf/keras/flax/jax: the last axis (Dense [in, out], HWIO conv "
     "kernels); a TensorFlow name (kernel, *_filter): the last axis; depthwise_kernel: the "
     "input-channel axis; format pt, PyTorch checkpoints, "
     "GGUF (rows = output features), anything else: axis 0. qparams says which and why, "
     "and warns when the axis has size 1 or every channel gets the same parameters\n"
     "per-group        one per size=G consecutive elements along axis=A (default size 64, "
     "last axis)\n"
     "block=B          NF4/FP4 block size (default 64)\n"
     "dq | no-dq       NF4/FP4: double-quantize the absmax constants (8-bit, block 256)\n"
     "convention=C     torch (default), onnx, trt (NVIDIA pytorch-quantization's fake quant: "
     "symmetric, x · 127/amax, codes -127..127 as its narrow_range; TensorRT itself clamps to "
     "-128..127; qscope dequantizes q · amax/127 where it computes q / (127/amax), which can "
     "differ in the last bit), ggml (int8 → Q8_0, int4 → Q4_0, ggml's rounding)\n"
     "conv=C           short for convention=C\n"
     "round=R          even (default, ties to even), away (ties away from zero), up "
     "(floor(x+0.5)), stochastic (floor(x+u), seeded)\n"
     "seed=S           seed of stochastic rounding\n"
     "keys: label type bits signed symmetric narrow (the range in force: trt and onnx sym "
     "int8 are narrow; ONNX Runtime's symmetric int4 keeps -8..7) granularity axis (per-channel, per-group) axis_auto axis_reason "
     "(per-channel) group (per-group) qmin qmax ncodes (qmax - qmin + 1) round convention bits_per_param nparams; q4_1..q6_k: ggml_type block symmetric qmin qmax; MX/NVFP4: block element scale_format tensor_scale",
     "scheme int4 sym per-channel axis=0", scheme_words, 0, 0, run_scheme, scheme_args,
     .kinds = QS_RK(QS_R_OBJECT)},
    {"calib", "quantize", CALIB_USAGE,
     "choose the calibrator (how the clip range is picked) and show the range it picks on "
     "the current tensor, with the curve it minimised",
     "p=P              percentile: the percentile, 0 < P <= 100 (default 99.99)\n"
     "two-sided | abs  percentile: clip min and max separately, or on |x| (the default)\n"
     "bins=B           histogram bins (default 2048); percentile and entropy return a bin "
     "edge, amax·i/bins rounded once to float (pytorch-quantization reads its edge from a "
     "float32 torch.linspace, which can differ by an ulp)\n"
     "batch=N          movavg: batch size in elements (default 8 batches)\n"
     "momentum=M       movavg: momentum (default 0.01)\n"
     "keys: calib clip_min clip_max observed_min observed_max reason outside_frac (the "
     "finite values outside [clip_min, clip_max]; warning past half; quant's clip_frac "
     "counts what the grid clamps) curve{x,y,best}; manual: min max",
     "calib percentile p=99.9", NULL, 0, 0, run_calib, calib_args,
     .kinds = QS_RK(QS_R_OBJECT) | QS_RK(QS_R_TABLE)},
    {"qparams", "quantize", "qparams",
     "scale and zero point of the current scheme and calibrator on the current tensor",
     "keys: scale (array, one per parameter set), zero_point (array), qmin, qmax, clip_min, "
     "clip_max (a number for one parameter set, else arrays), nparams, quantize (the rule), "
     "reason; per-channel: axis, axis_auto, axis_reason (\"axis 3: TensorFlow HWIO "
     "kernel [1, 1, 128, 128]\"), warning (an axis of size 1, or every channel with the "
     "same scale and zero point); NF4/FP4: scale = the block absmax used to decode, absmax, "
     "codebook, "
     "double_quant; casts: scale [1], zero_point [0], format; ggml q4_1..q6_k: scale = each "
     "block's fp16 d, min / dmin, zero_point = the code offset, block; MX / NVFP4: scale = "
     "each block's step (2^e, or s_b·ts), scale_codes (E8M0 / E4M3 patterns), shared_exp "
     "(MX), tensor_scale (NVFP4), element, elem_max, clipped",
     "qparams", NULL, 0, 0, run_qparams, .kinds = QS_RK(QS_R_QPARAMS)},
    {"codes", "quantize", "codes [N] | codes value=V | codes code=Q [channel=C]",
     "the integer codes of the current tensor (row-major) and their dequantized values; one "
     "value's code, or one code's value, under the scheme",
     "N                first N elements (default all, at most 65536)\n"
     "value=V          the code and dequantized value of V (as `derive V` ends)\n"
     "code=Q           the dequantized value of code Q\n"
     "channel=C        the parameter set to use with value= / code= (default 0)\n"
     "keys: codes dequant n shown label; with value=/code=: x code dequant clipped set bits "
     "qmin qmax label",
     "codes 8", codes_words, 0, 0, run_codes, .kinds = QS_RK(QS_R_OBJECT) | QS_RK(QS_R_TABLE)},
    {"derive", "quantize", "derive [VALUE] [channel=C] [block=B] [index=E] | derive requant ...",
     "derivation trace: range, scale, zero point, then one value through scale, rounding, "
     "zero point, clamp, dequantization and error, and on a per-tensor integer grid the "
     "uniform-noise model (s²/12, its SQNR); `derive requant`: an int32 accumulator "
     "requantized with a fixed-point multiplier M = M0·2^-n",
     "VALUE            a value to follow (default: element index=E of the tensor, 0)\n"
     "channel=C        the channel / group whose parameters to use; a list (channel=0,3) "
     "gives one step group per channel\n"
     "block=B          the block to use (NF4/FP4/ggml/MX); a list works too; ggml q4_1..q6_k "
     "show the block's scales, sub-blocks, packed bytes, codes and values; MX / NVFP4 show "
     "the block amax, shared exponent (or E4M3 block scale and FP32 tensor scale), every "
     "element code, and one element (or a typed VALUE under that block's scale)\n"
     "index=E          follow element E of the tensor\n"
     "keys: steps [{title formula substituted result note value}], x code dequant error, set "
     "(per-channel/group/block schemes: the parameter set used), sets [...] for a list\n"
     "derive requant [M=m | s_in=S s_w=S s_out=S] [acc=A] [zp=Z] [qmin=0] [qmax=255]\n"
     "                 M = S_in·S_w/S_out written as M0·2^-n (M0 a Q31 integer), then, with "
     "acc=, r = round(acc·M0/2^n) and q = clamp(r + zp, qmin, qmax); with no M or scales: "
     "the lab's integer model, as `lab int`\n"
     "keys (requant): M M0 n M_fixed rel_error steps source [acc r exact r_gemmlowp q zp qmin "
     "qmax]",
     "derive -20", derive_words, 0, 0, run_derive, .kinds = QS_RK(QS_R_TRACE)},
    {"quant", "quantize", "quant [bins=B]",
     "quantize the current tensor with the current scheme and report the error",
     "bins=B           error histogram bins (default 41)\n"
     "keys: mse rmse sqnr_db max_abs_err mean_err cosine clip_frac clipped n bits_per_param "
     "err_hist{counts,edges} per_channel[...]",
     "quant", quant_words, 0, 0, run_quant, .kinds = QS_RK(QS_R_OBJECT) | QS_RK(QS_R_TABLE)},
    {"compare", "quantize",
     "compare [bits=2..8] [calibs=LIST] [gran=LIST] [conventions=LIST] [formats=LIST]",
     "one table of error metrics across bit widths, calibrators, granularities, conventions "
     "and formats",
     "bits=B           a width, a list (2,4,8) or a range (2..8); default the scheme's\n"
     "calibs=LIST      calibrators, comma-separated: the KIND names of `help calib` (default "
     "minmax,percentile,mse,entropy)\n"
     "gran=LIST        tensor,channel,group (default the scheme's)\n"
     "conventions=LIST torch,onnx,trt (default the scheme's)\n"
     "formats=LIST     extra rows for other formats: nf4,fp4,fp16,bf16,fp8-e4m3,fp8-e5m2,"
     "q8_0,q4_0,q4_1,q5_0,q5_1,q4_k,q6_k,mxfp4,mxfp6_e3m2,mxfp6_e2m3,mxfp8_e4m3,mxfp8_e5m2,"
     "mxint8,nvfp4; a quoted item may hold several scheme words "
     "('formats=q4_k,int4 sym per-channel'); llm = the ggml formats, int8/int4 per-channel, "
     "int4 per-group 32 and 128, nf4 and nf4+dq, the MX formats and nvfp4 (the default under "
     "a ggml or MX scheme)\n"
     "keys: rows [{scheme calib bits bits_per_param gran convention sqnr_db db_per_bit mse "
     "max_abs_err clip_frac cosine clip_max}] (bits_per_param: the real cost with scales, "
     "a padded ggml block included; db_per_bit: SQNR gained per added bit since the "
     "previous width of the same series, about 6.02 for min-max on well-behaved data); note: "
     "present when the tensor is already quantized (few distinct values on a grid): how many "
     "rows reproduce it almost exactly (SQNR 100+ dB or inf), where the 6.02 dB/bit rule does "
     "not hold",
     "compare bits=4 calibs=minmax,percentile,mse,entropy", compare_words, 0, QS_CMD_SLOW,
     run_compare, .kinds = QS_RK(QS_R_TABLE)},
    {"memory", "quantize", "memory [params=N | shape=AxB...] [lora_frac=F]",
     "bytes of a model in each format, and the training memory of full fine-tuning vs LoRA "
     "vs QLoRA",
     "params=N         parameter count (e.g. 70e9)\n"
     "shape=AxB        a tensor shape (4096x4096); default: every tensor of the loaded "
     "file, else the current tensor\n"
     "lora_frac=F      trainable LoRA parameters as a fraction of the model (default 0.01)\n"
     "keys: params rows [{format bits_per_param bytes gb gib}] training [{method weights_gb "
     "grads_gb optimizer_gb total_gb}] assumptions",
     "memory params=70e9", memory_words, 0, 0, run_memory, .kinds = QS_RK(QS_R_TABLE)},
    {0},
};

/* ---- shared with cmd_model.c (cmd_priv.h) ------------------------------------------------ */

void qs_cmd_grid_note(const qs_grid *g, const double *sqnr, int n, char *buf, size_t len)
{
    if (!buf || !len) return;
    buf[0] = '\0';
    if (!qs_grid_quantized(g)) return;
    int o = snprintf(buf, len, "already quantized: %lld distinct values on a uniform grid of "
                     "step %.6g (%lld levels, %d-bit codes dequantized)",
                     (long long)g->distinct, g->step, (long long)g->levels, g->bits);
    if (o < 0 || (size_t)o >= len) return;
    char *p = buf + o;
    size_t left = len - (size_t)o;
    int exact = 0;
    for (int i = 0; i < n; i++) exact += sqnr[i] >= QS_CMD_EXACT_DB;   /* inf counts; NaN not */
    if (n == 0) {
        snprintf(p, left, ": a scheme whose levels fall on this grid reproduces them almost "
                 "exactly, so its SQNR measures float rounding (or is infinite), not the "
                 "6.02 dB per bit of fresh weights; a scheme whose levels miss the grid rounds "
                 "them like any other values");
    } else if (n == 1 && exact && isinf(sqnr[0])) {
        snprintf(p, left, ": this scheme reproduces them exactly (SQNR inf): its levels fall "
                 "on their grid, so the 6.02 dB per bit of fresh weights does not apply");
    } else if (n == 1 && exact) {
        snprintf(p, left, ": this scheme reproduces them almost exactly (SQNR %.1f dB): its "
                 "levels fall on their grid, so the SQNR measures float rounding, not the "
                 "6.02 dB per bit of fresh weights", sqnr[0]);
    } else if (n == 1) {
        snprintf(p, left, ": this scheme does not reproduce them (SQNR %.1f dB): its levels "
                 "do not fall on their grid, so they are rounded like any other values; a "
                 "scheme whose levels do would reproduce them almost exactly", sqnr[0]);
    } else if (exact == n) {
        snprintf(p, left, ": every row reproduces them almost exactly (SQNR %.0f+ dB or inf): "
                 "the levels fall on their grid, so the SQNR measures float rounding and the "
                 "6.02 dB per bit rule does not hold", QS_CMD_EXACT_DB);
    } else if (exact == 0) {
        snprintf(p, left, ": no row reproduces them (every SQNR is below %.0f dB): these "
                 "levels do not fall on their grid, so the values are rounded like any "
                 "others; a scheme whose levels do would reproduce them almost exactly",
                 QS_CMD_EXACT_DB);
    } else {
        snprintf(p, left, ": %d of the %d rows reproduce them almost exactly (SQNR %.0f+ dB "
                 "or inf: their levels fall on the grid, so it measures float rounding and the "
                 "6.02 dB per bit rule does not hold); the other rows round them like any "
                 "other values", exact, n, QS_CMD_EXACT_DB);
    }
}

/* The classes of bare scheme words; two words of one class with different values
 * contradict each other. */
enum { W_SYM, W_RANGE, W_GRAN, W_DQ, W_TYPE, W_NCLASS };

static const struct { const char *w; int cls, val; } scheme_flag_words[] = {
    {"sym", W_SYM, 1}, {"symmetric", W_SYM, 1}, {"asym", W_SYM, 0}, {"affine", W_SYM, 0},
    {"asymmetric", W_SYM, 0}, {"narrow", W_RANGE, 1}, {"full", W_RANGE, 0},
    {"per-tensor", W_GRAN, 0}, {"per-channel", W_GRAN, 1}, {"per-group", W_GRAN, 2},
    {"dq", W_DQ, 1}, {"no-dq", W_DQ, 0},
};

/* What a format takes, for the "does not apply" message; NULL when w applies to sc. The
 * word's key (KEY of KEY=VALUE) or the bare word is looked up. */
static const char *scheme_word_misfit(const qs_scheme *sc, const char *w, int cls)
{
    const char *eq = strchr(w, '=');
    char key[32];
    snprintf(key, sizeof key, "%.*s", eq ? (int)(eq - w) : (int)strlen(w), w);
#define IS(k) (strcmp(key, k) == 0)
    int bare = !eq;
    if (bare && cls == W_TYPE) return NULL;
    switch (sc->kind) {
    case QS_Q_INT:
        if (sc->conv == QS_CONV_GGML) {         /* q8_0, q4_0: ggml's symmetric blocks */
            if ((bare && cls == W_SYM && strcmp(key, "sym") && strcmp(key, "symmetric")) ||
                (bare && (cls == W_GRAN || cls == W_DQ)) || IS("axis") || IS("size") ||
                IS("group") || IS("block") || IS("seed"))
                return "ggml's Q8_0 and Q4_0 are symmetric blocks of 32 along the last axis "
                       "and take only bits=, convention= and ggml's own round=";
            return NULL;
        }
        if (bare && cls == W_DQ)
            return "dq and no-dq are NF4/FP4 options, the double quantization of the block "
                   "absmax";
        if (IS("block"))
            return "block= is the NF4/FP4 block size; an integer scheme's groups are "
                   "per-group size=G";
        if (sc->conv == QS_CONV_TRT && bare && cls == W_SYM &&
            (IS("asym") || IS("affine") || IS("asymmetric")))
            return "convention=trt is symmetric only: TensorRT has no zero point";
        return NULL;
    case QS_Q_NF4: case QS_Q_FP4:
        if ((bare && cls == W_DQ) || IS("block") || IS("size") || IS("group")) return NULL;
        return "a codebook format takes only block=B and dq | no-dq; its codes are fixed "
               "and scaled by each block's absmax";
    case QS_Q_GGML:
        return "a ggml block format fixes its blocks, its codes and its rounding, and takes no "
               "other words";
    case QS_Q_MX:
        return "an MX / NVFP4 format fixes its blocks, its element format and its rounding, "
               "and takes no other words";
    default:
        return "a float format takes no options: every value rounds to the nearest "
               "representable one";
    }
#undef IS
}

int qs_cmd_scheme_words_check(const char *who, const qs_scheme *sc, int argc, char **argv,
                              qs_err *err)
{
    const char *seen[W_NCLASS] = {0};
    int val[W_NCLASS] = {0}, last_type = -1;
    for (int i = 0; i < argc; i++) {
        if (strchr(argv[i], '=')) continue;
        int cls = W_TYPE, v = 0;
        for (size_t k = 0; k < sizeof scheme_flag_words / sizeof scheme_flag_words[0]; k++)
            if (!strcmp(argv[i], scheme_flag_words[k].w)) {
                cls = scheme_flag_words[k].cls;
                v = scheme_flag_words[k].val;
            }
        if (cls == W_TYPE) last_type = i;
        if (seen[cls] && (cls == W_TYPE ? strcmp(seen[cls], argv[i]) != 0 : val[cls] != v))
            return qs_err_set(err, "%s: '%s' and '%s' contradict each other (give one)", who,
                              seen[cls], argv[i]);
        seen[cls] = argv[i];
        val[cls] = v;
    }
    char name[32];
    snprintf(name, sizeof name, "%s", qs_qkind_name(sc));
    if (sc->kind == QS_Q_INT && sc->conv == QS_CONV_GGML)
        snprintf(name, sizeof name, "%s", sc->bits == 8 ? "q8_0" : "q4_0");
    for (int i = 0; i < argc; i++) {
        int cls = W_TYPE;
        for (size_t k = 0; k < sizeof scheme_flag_words / sizeof scheme_flag_words[0]; k++)
            if (!strcmp(argv[i], scheme_flag_words[k].w)) cls = scheme_flag_words[k].cls;
        if (i < last_type && (strchr(argv[i], '=') || cls != W_TYPE))
            return qs_err_set(err, "%s: '%s' comes before the type word '%s', which starts "
                              "from the default scheme (put the type first: %s %s %s)", who,
                              argv[i], argv[last_type], who, argv[last_type], argv[i]);
        const char *why = scheme_word_misfit(sc, argv[i], cls);
        if (why)
            return qs_err_set(err, "%s: '%s' does not apply to %s: %s", who, argv[i], name,
                              why);
    }
    return QS_OK;
}
