/* cmd_model.c — model-file commands (issue 9): `report` (per-layer error of a scheme over
 * every tensor of the loaded file, worst first), `export` (the quantized tensor written as
 * safetensors, .npy + JSON or GGUF, atomically) and `blocks` (one ggml block taken apart:
 * scales, mins, packed bytes, codes, dequantized values). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "qscope/calib.h"
#include "qscope/cmd.h"
#include "qscope/ggml.h"
#include "qscope/io.h"
#include "qscope/kernels.h"
#include "qscope/metrics.h"
#include "qscope/quant.h"

#include "cmd_priv.h"

/* ==== measuring one tensor under a scheme ================================================= */

/* What `report` and `blocks` quantize with: a ggml block type handled by ggml.c (ggml >= 0),
 * or a scheme of the quantization engine. */
typedef struct qspec {
    int ggml;               /* ggml type id, or -1 */
    qs_scheme scheme;       /* the engine's scheme when ggml < 0 */
    char label[96];         /* for output */
} qspec;

/* Parses scheme words: a lone ggml type name ("q4_k", "Q6_K", "q5_1") selects ggml.c's
 * reference quantizer; anything else goes to qs_scheme_parse over the session's scheme. */
static int qspec_parse(const char *who, const qs_session *s, int argc, char **argv, qspec *q,
                       qs_err *err)
{
    memset(q, 0, sizeof *q);
    q->ggml = -1;
    q->scheme = s->scheme;
    if (argc == 1) {
        int id = qs_ggml_type_by_name(argv[0]);
        const qs_ggml_type *t = qs_ggml_type_info(id);
        if (t && t->can_quantize) {
            q->ggml = id;
            snprintf(q->label, sizeof q->label, "%s (ggml, %.4g bits/weight)", t->name,
                     qs_ggml_bits_per_weight(id));
            return QS_OK;
        }
    }
    if (argc > 0 && (qs_scheme_parse(&q->scheme, argc, argv, err) != QS_OK ||
                     qs_cmd_scheme_words_check(who, &q->scheme, argc, argv, err) != QS_OK))
        return QS_ERR;
    qs_scheme_label(&q->scheme, q->label, sizeof q->label);
    return QS_OK;
}

/* Error statistics of t under q (and bits per parameter). */
static int measure(const qspec *q, const qs_tensor *t, qs_errstats *st, double *bits,
                   qs_err *err)
{
    memset(st, 0, sizeof *st);
    if (q->ggml >= 0) {
        *bits = qs_ggml_bits_per_weight(q->ggml);
        return qs_ggml_tensor_errstats(q->ggml, t, NULL, st, err);
    }
    const qs_scheme *sc = &q->scheme;
    qs_layout l;
    qs_calib_result cal;
    qs_qstate qstate;
    qs_calib c;
    int have_cal = 0, rc = QS_ERR;
    memset(&cal, 0, sizeof cal);
    memset(&qstate, 0, sizeof qstate);
    qstate.fmt = -1;
    qs_calib_default(&c);
    if (qs_scheme_layout(sc, t->ndim, t->shape, &l, err) != QS_OK) return QS_ERR;
    int is_int = sc->kind == QS_Q_INT || sc->kind == QS_Q_GGML;
    int ggml = sc->kind == QS_Q_GGML || sc->conv == QS_CONV_GGML;
    const float *lo = NULL, *hi = NULL;
    if (is_int && !ggml) {
        if (qs_calib_run(t->data, &l, sc, &c, &cal, err) != QS_OK) return QS_ERR;
        have_cal = 1;
        lo = cal.lo;
        hi = cal.hi;
    }
    if (qs_qstate_init(&qstate, sc, t, lo, hi, err) != QS_OK) goto done;
    qs_qresult r;
    memset(&r, 0, sizeof r);
    if (qs_quant_apply(&qstate, t, NULL, NULL, &r, err) != QS_OK) goto done;
    *st = r.st;
    qs_qresult_fini(&r);
    *bits = qs_scheme_bits_per_param(sc, t->n, is_int ? qstate.qp.nparams : qstate.nblocks);
    rc = QS_OK;
done:
    qs_qstate_fini(&qstate);
    if (have_cal) qs_calib_result_fini(&cal);
    return rc;
}

static json_t *shape_json(int ndim, const int64_t *shape)
{
    json_t *a = json_array();
    for (int i = 0; i < ndim; i++) json_array_append_new(a, json_integer(shape[i]));
    return a;
}

/* ==== report ============================================================================== */

/* A row's SQNR as qs_json_real wrote it: a number, or "inf" for a tensor reproduced exactly
 * (the best), or "nan" (no measure: sorted after every number) */
static double sort_key(json_t *row)
{
    double v;
    if (qs_json_real_get(json_object_get(row, "sqnr_db"), &v) < 0) return NAN;
    return v;
}

/* worst (lowest SQNR) first, an exact tensor (inf) after every finite one, NaN last; ties in
 * file order */
static int row_cmp(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    double kx = sort_key(x), ky = sort_key(y);
    if (isnan(kx) != isnan(ky)) return isnan(kx) ? 1 : -1;
    if (!isnan(kx) && kx != ky) return kx < ky ? -1 : 1;
    return (int)(json_integer_value(json_object_get(x, "index")) -
                 json_integer_value(json_object_get(y, "index")));
}

static json_t *report_row(int idx, const qs_tensor *t, const qs_errstats *st, double bits)
{
    qs_metrics m;
    qs_metrics_from_stats(st, &m);
    json_t *r = json_object();
    json_object_set_new(r, "tensor", json_string(t->name));
    json_object_set_new(r, "dtype", json_string(qs_dtype_name(t->src_dtype)));
    json_object_set_new(r, "shape", shape_json(t->ndim, t->shape));
    json_object_set_new(r, "n", json_integer(t->n));
    qs_json_set_real(r, "sqnr_db", m.sqnr_db);
    qs_json_set_real(r, "mse", m.mse);
    qs_json_set_real(r, "max_abs_err", m.max_abs_err);
    qs_json_set_real(r, "cosine", m.cosine);
    qs_json_set_real(r, "bits", bits);
    json_object_set_new(r, "index", json_integer(idx));
    return r;
}

static int run_report(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    qspec q;
    if (!s->file && !s->tensor)
        return qs_err_set(err, "report: nothing loaded (try 'load model.safetensors' first)");
    if (qspec_parse("report", s, argc, argv, &q, err) != QS_OK) return QS_ERR;
    json_t *rows = json_array(), *skipped = json_array(), *notes = json_array();
    int ntensors = s->file ? s->file->n : 1, rc = QS_OK;
    double sum_x2 = 0, sum_e2 = 0;
    int64_t total = 0;
    /* progress by elements (a file of one big tensor moved from 0 to 100 % at its end), and a
     * cancel check before each tensor's read and its measurement */
    double elems = 0.0, done = 0.0;
    for (int i = 0; i < ntensors; i++) elems += s->file ? (double)s->file->entries[i].n : 1.0;
    if (elems <= 0.0) elems = 1.0;
    for (int i = 0; i < ntensors && rc == QS_OK; i++) {
        qs_tensor *t = NULL;
        qs_err e2 = {""};
        double w = s->file ? (double)s->file->entries[i].n : 1.0;
        if ((rc = qs_session_progress(s, "report", done, elems)) != QS_OK) break;
        done += w;
        if (s->file) {
            if (qs_file_read(s->file, i, &t, &e2) != QS_OK) {
                json_t *k = json_object();
                json_object_set_new(k, "tensor", json_string(s->file->entries[i].name));
                json_object_set_new(k, "reason", json_string(e2.msg));
                json_array_append_new(skipped, k);
                continue;
            }
        }
        const qs_tensor *x = t ? t : s->tensor;
        qs_errstats st;
        double bits = 0;
        if (x->n == 0) {
            qs_tensor_free(t);
            continue;
        }
        if ((rc = qs_session_progress(s, "report", done - w / 2.0, elems)) != QS_OK) {
            qs_tensor_free(t);
            break;
        }
        qspec qt = q;       /* axis=auto: each tensor's own channel axis */
        if (qt.ggml < 0 && qt.scheme.axis_auto && qt.scheme.kind == QS_Q_INT &&
            qt.scheme.gran == QS_G_CHANNEL && qt.scheme.conv != QS_CONV_GGML)
            qt.scheme.axis = qs_session_axis_of(s, x, t != NULL, &qt.scheme, NULL, 0);
        if (measure(&qt, x, &st, &bits, &e2) != QS_OK) {
            json_t *k = json_object();
            json_object_set_new(k, "tensor", json_string(x->name));
            json_object_set_new(k, "reason", json_string(e2.msg));
            json_array_append_new(skipped, k);
        } else {
            json_t *row = report_row(i, x, &st, bits);
            double m_db = NAN;
            qs_json_real_get(json_object_get(row, "sqnr_db"), &m_db);
            qs_grid g;      /* dequantized codes: say whether this scheme reproduces them */
            if (qs_grid_detect(x->data, x->n, &g, NULL) == QS_OK && qs_grid_quantized(&g)) {
                char note[900], why[600], tag[64];
                snprintf(tag, sizeof tag, "%d-bit", g.bits);
                json_object_set_new(row, "grid", json_string(tag));
                qs_cmd_grid_note(&g, &m_db, 1, why, sizeof why);
                snprintf(note, sizeof note, "%s: %s", x->name, why);
                json_array_append_new(notes, json_string(note));
            } else {
                json_object_set_new(row, "grid", json_null());
            }
            json_array_append_new(rows, row);
            sum_x2 += st.sum_x2;
            sum_e2 += st.sum_e2;
            total += st.n;
        }
        qs_tensor_free(t);
        rc = qs_session_progress(s, "report", done, elems);
    }
    if (rc != QS_OK) {
        json_decref(rows);
        json_decref(skipped);
        json_decref(notes);
        qs_err_set(err, "report: cancelled");
        return QS_CANCELLED;
    }
    /* worst (lowest SQNR) first */
    size_t n = json_array_size(rows);
    json_t **v = malloc((n ? n : 1) * sizeof *v);
    if (!v) {
        json_decref(rows);
        json_decref(skipped);
        json_decref(notes);
        return qs_err_set(err, "report: out of memory");
    }
    for (size_t i = 0; i < n; i++) v[i] = json_incref(json_array_get(rows, i));
    qsort(v, n, sizeof *v, row_cmp);
    json_t *sorted = json_array();
    for (size_t i = 0; i < n; i++) {
        json_object_del(v[i], "index");
        json_array_append_new(sorted, v[i]);
    }
    free(v);
    json_decref(rows);
    json_t *o = json_object();
    if (s->file) json_object_set_new(o, "file", json_string(s->file->path));
    json_object_set_new(o, "scheme", json_string(q.label));
    json_object_set_new(o, "n_tensors", json_integer((json_int_t)n));
    json_object_set_new(o, "n_params", json_integer(total));
    qs_json_set_real(o, "overall_sqnr_db", sum_e2 > 0 ? 10 * log10(sum_x2 / sum_e2)
                     : (double)INFINITY);
    if (n > 0) {        /* the lowest SQNR (NaN rows sort last: never while one has a number) */
        json_t *w = json_array_get(sorted, 0);
        json_object_set(o, "worst", json_object_get(w, "tensor"));
    }
    json_object_set_new(o, "rows", sorted);
    if (json_array_size(skipped)) json_object_set_new(o, "skipped", skipped);
    else json_decref(skipped);
    /* one text (the faces wrap it): the already-quantized tensors and why */
    size_t nl = 0, k;
    json_t *it;
    json_array_foreach(notes, k, it) nl += strlen(json_string_value(it)) + 2;
    char *all = nl ? malloc(nl + 1) : NULL;
    if (all) {
        all[0] = '\0';
        json_array_foreach(notes, k, it) {
            if (k) strcat(all, "; ");
            strcat(all, json_string_value(it));
        }
        json_object_set_new(o, "note", json_string(all));
        free(all);
    }
    json_decref(notes);
    *out = o;
    return QS_OK;
}

/* ==== export ============================================================================== */

/* A growing byte buffer. */
typedef struct buf {
    uint8_t *p;             /* bytes */
    size_t n, cap;          /* used, allocated */
    int oom;                /* 1 after a failed allocation */
} buf;

static void put(buf *b, const void *d, size_t n)
{
    if (b->oom) return;
    if (b->n + n > b->cap) {
        size_t c = b->cap ? b->cap : 4096;
        while (c < b->n + n) c *= 2;
        uint8_t *p = realloc(b->p, c);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = c;
    }
    if (n) memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void put_u32(buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(b, x, 4);
}
static void put_u64(buf *b, uint64_t v)
{
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}
static void put_str(buf *b, const char *s)
{
    put_u64(b, strlen(s));
    put(b, s, strlen(s));
}
static void pad(buf *b, size_t align, uint8_t byte)
{
    while (b->n % align) put(b, &byte, 1);
}

/* The quantized current tensor under an integer scheme: codes, scales, zero points. */
typedef struct qexport {
    qs_qstate q;            /* the applied state */
    qs_calib_result cal;    /* calibration */
    int have_cal;           /* cal filled */
    int32_t *codes;         /* n codes */
    int qmin, qmax;         /* code range */
    int axis;               /* the axis this tensor was quantized along (axis=auto resolved) */
} qexport;

static void qexport_fini(qexport *x)
{
    qs_qstate_fini(&x->q);
    if (x->have_cal) qs_calib_result_fini(&x->cal);
    free(x->codes);
}

/* "export: tensor 'NAME': " before an engine message (a bad axis for one tensor of --all,
 * say), so the message says which command and which tensor. Returns QS_ERR. */
static int tensor_fail(qs_err *err, const char *name)
{
    char *q = qs_escape(name, 0);
    char pre[300];
    snprintf(pre, sizeof pre, "export: tensor '%.200s%s'", q ? q : "",
             q && strlen(q) > 200 ? "..." : "");
    free(q);
    return qs_err_prefix(err, pre);
}

static int quantize_int(const qs_session *s, const qs_tensor *t, qexport *x, qs_err *err)
{
    qs_scheme own = s->scheme;      /* axis=auto: each tensor's own channel axis */
    if (own.axis_auto && own.kind == QS_Q_INT && own.gran == QS_G_CHANNEL &&
        own.conv != QS_CONV_GGML)
        own.axis = qs_session_axis_of(s, t, t != s->tensor || s->tensor_index >= 0, &own,
                                      NULL, 0);
    const qs_scheme *sc = &own;
    memset(x, 0, sizeof *x);
    x->q.fmt = -1;
    x->axis = sc->axis;
    if (sc->kind != QS_Q_INT || sc->conv == QS_CONV_GGML) {
        char label[96];
        qs_scheme_label(sc, label, sizeof label);
        return qs_err_set(err, "export: safetensors and npy take an integer scheme (the "
                          "current one is %s; try 'scheme int8 sym' or --format gguf)", label);
    }
    qs_layout l;
    if (qs_scheme_layout(sc, t->ndim, t->shape, &l, err) != QS_OK)
        return tensor_fail(err, t->name);
    if (qs_calib_run(t->data, &l, sc, &s->calib, &x->cal, err) != QS_OK)
        return tensor_fail(err, t->name);
    x->have_cal = 1;
    if (qs_qstate_init(&x->q, sc, t, x->cal.lo, x->cal.hi, err) != QS_OK)
        return tensor_fail(err, t->name);
    x->codes = malloc((size_t)(t->n ? t->n : 1) * sizeof *x->codes);
    if (!x->codes) return qs_err_set(err, "export: out of memory");
    if (qs_quant_apply(&x->q, t, NULL, x->codes, NULL, err) != QS_OK)
        return tensor_fail(err, t->name);
    x->qmin = x->q.qp.qmin;
    x->qmax = x->q.qp.qmax;
    return QS_OK;
}

/* axis for scheme_meta: each tensor has its own, under the key NAME.axis (export --all) */
#define META_AXIS_EACH INT_MIN

/* The scheme as JSON key/values (safetensors __metadata__ wants strings: asstr). source
 * names the one tensor exported (NULL for a whole file); axis is the one it was quantized
 * along (axis=auto resolved), or META_AXIS_EACH. */
static json_t *scheme_meta(const qs_session *s, const char *source, int axis, int qmin,
                           int qmax, int64_t nparams, int asstr)
{
    const qs_scheme *sc = &s->scheme;
    char label[96], b[64];
    qs_scheme_label(sc, label, sizeof label);
    json_t *m = json_object();
#define SETI(k, v) (asstr ? (snprintf(b, sizeof b, "%lld", (long long)(v)), \
                             json_object_set_new(m, k, json_string(b)))     \
                          : json_object_set_new(m, k, json_integer(v)))
    json_object_set_new(m, "format", json_string("qscope quantized tensor"));
    if (source) json_object_set_new(m, "source_tensor", json_string(source));
    json_object_set_new(m, "scheme", json_string(label));
    json_object_set_new(m, "type", json_string(qs_qkind_name(sc)));
    SETI("bits", sc->bits);
    int sym = qs_scheme_is_symmetric(sc);
    json_object_set_new(m, "symmetric", asstr ? json_string(sym ? "true" : "false")
                                              : json_boolean(sym));
    json_object_set_new(m, "granularity", json_string(qs_gran_name(sc->gran)));
    if (axis == META_AXIS_EACH)
        json_object_set_new(m, "axis", json_string("per tensor: see NAME.axis"));
    else
        SETI("axis", axis);
    SETI("group", sc->group);
    json_object_set_new(m, "convention", json_string(qs_conv_name(sc->conv)));
    json_object_set_new(m, "rounding", json_string(qs_round_name(sc->round)));
    SETI("qmin", qmin);
    SETI("qmax", qmax);
    if (nparams >= 0) SETI("nparams", nparams);
    json_object_set_new(m, "dequantize", json_string("x = (code - zero_point[p]) * scale[p], "
                        "p = parameter set of the element (granularity, axis, group)"));
#undef SETI
    return m;
}

/* One quantized tensor ready to be written. */
typedef struct xitem {
    char *name;             /* tensor name (owned) */
    int ndim;               /* dims */
    int64_t shape[QS_MAX_DIMS]; /* shape */
    int64_t n;              /* elements */
    uint8_t *codes;         /* n code bytes (int8 or uint8) */
    int64_t np;             /* parameter sets */
    float *scale;           /* np scales */
    int32_t *zp;            /* np zero points */
    int qmin, qmax;         /* code range */
    int axis;               /* the axis it was quantized along */
} xitem;

static void xitems_free(xitem *it, int n)
{
    for (int i = 0; i < n; i++) {
        free(it[i].name);
        free(it[i].codes);
        free(it[i].scale);
        free(it[i].zp);
    }
    free(it);
}

/* Quantizes t into *it. */
static int xitem_make(const qs_session *s, const qs_tensor *t, xitem *it, qs_err *err)
{
    qexport x;
    memset(it, 0, sizeof *it);
    if (t->n == 0 && s->scheme.kind == QS_Q_INT && s->scheme.conv != QS_CONV_GGML) {
        /* an empty tensor (an unused buffer of a checkpoint) has no values to calibrate on
         * and none to store: its codes keep the shape, with no scale or zero point (export
         * --all stopped at it) */
        it->name = strdup(t->name);
        it->ndim = t->ndim;
        memcpy(it->shape, t->shape, sizeof it->shape);
        qs_scheme_range(&s->scheme, &it->qmin, &it->qmax);
        it->axis = s->scheme.axis;
        it->codes = malloc(1);
        it->scale = malloc(sizeof *it->scale);
        it->zp = malloc(sizeof *it->zp);
        if (!it->name || !it->codes || !it->scale || !it->zp)
            return qs_err_set(err, "export: out of memory");
        return QS_OK;
    }
    int rc = quantize_int(s, t, &x, err);
    if (rc == QS_OK) {
        it->name = strdup(t->name);
        it->ndim = t->ndim;
        memcpy(it->shape, t->shape, sizeof it->shape);
        it->n = t->n;
        it->np = x.q.qp.nparams;
        it->qmin = x.qmin;
        it->qmax = x.qmax;
        it->axis = x.axis;
        it->codes = malloc((size_t)(t->n ? t->n : 1));
        it->scale = malloc((size_t)(it->np ? it->np : 1) * sizeof *it->scale);
        it->zp = malloc((size_t)(it->np ? it->np : 1) * sizeof *it->zp);
        if (!it->name || !it->codes || !it->scale || !it->zp) {
            rc = qs_err_set(err, "export: out of memory");
        } else {
            for (int64_t i = 0; i < t->n; i++) it->codes[i] = (uint8_t)(x.codes[i] & 0xff);
            memcpy(it->scale, x.q.qp.scale, (size_t)it->np * sizeof *it->scale);
            memcpy(it->zp, x.q.qp.zp, (size_t)it->np * sizeof *it->zp);
        }
    }
    qexport_fini(&x);
    return rc;
}

/* The tensors to export: the current one, or with all every tensor of the loaded file. */
static int collect(qs_session *s, int all, xitem **out, int *nout, qs_err *err)
{
    int n = all && s->file ? s->file->n : 1;
    xitem *it = calloc((size_t)n, sizeof *it);
    if (!it) return qs_err_set(err, "export: out of memory");
    int k = 0, rc = QS_OK;
    for (int i = 0; i < n && rc == QS_OK; i++) {
        qs_tensor *t = NULL;
        if (all && s->file && qs_file_read(s->file, i, &t, err) != QS_OK) {
            rc = QS_ERR;
            break;
        }
        rc = xitem_make(s, t ? t : s->tensor, &it[k], err);
        k++;                        /* it[k-1] is freed below even when it failed half-way */
        qs_tensor_free(t);
        if (rc == QS_OK && n > 1 && qs_session_progress(s, "export", i + 1, n) != QS_OK)
            rc = qs_err_set(err, "export: cancelled");
    }
    if (rc != QS_OK) {
        xitems_free(it, k);
        return rc;
    }
    *out = it;
    *nout = k;
    return QS_OK;
}

static int export_safetensors(qs_session *s, const char *path, int force, int all, json_t *o,
                              qs_err *err)
{
    xitem *it = NULL;
    int n = 0;
    if (collect(s, all, &it, &n, err) != QS_OK) return QS_ERR;
    /* three tensors per item: NAME (codes), NAME.scale, NAME.zero_point (names of any
     * length: a long name never looks like another) */
    qs_io_st_tensor *t = calloc((size_t)n * 3, sizeof *t);
    char **names = calloc((size_t)n * 3, sizeof *names);
    int64_t *npv = calloc((size_t)n, sizeof *npv);
    json_t *list = json_array();
    unsigned char *bytes = NULL;
    size_t len = 0;
    int rc = QS_OK;
    if (!t || !names || !npv) rc = qs_err_set(err, "export: out of memory");
    for (int i = 0; i < n && rc == QS_OK; i++) {
        npv[i] = it[i].np;
        if (asprintf(&names[3 * i + 1], "%s.scale", it[i].name) < 0 ||
            asprintf(&names[3 * i + 2], "%s.zero_point", it[i].name) < 0) {
            names[3 * i + 1] = names[3 * i + 2] = NULL;
            rc = qs_err_set(err, "export: out of memory");
            break;
        }
        names[3 * i] = it[i].name;
        t[3 * i] = (qs_io_st_tensor){it[i].name, it[i].qmin < 0 ? "I8" : "U8", it[i].ndim,
                                     it[i].shape, it[i].codes};
        t[3 * i + 1] = (qs_io_st_tensor){names[3 * i + 1], "F32", 1, &npv[i], it[i].scale};
        t[3 * i + 2] = (qs_io_st_tensor){names[3 * i + 2], "I32", 1, &npv[i], it[i].zp};
    }
    /* a name taken twice (a file holding both "w" and "w.scale", say) */
    for (int i = 0; i < 3 * n && rc == QS_OK; i++) {
        if (json_array_size(list) == (size_t)i) json_array_append_new(list, json_string(names[i]));
        for (int j = 0; j < i; j++)
            if (strcmp(names[i], names[j]) == 0) {
                char *q = qs_escape(names[i], 0);
                rc = qs_err_set(err, "export: two tensors would both be named '%.200s%s'",
                                q ? q : "", q && strlen(q) > 200 ? "..." : "");
                free(q);
                break;
            }
    }
    if (rc == QS_OK) {
        /* with --all each tensor may have its own axis (axis=auto reads it off the shape
         * and name): one NAME.axis key per tensor, never one axis for all */
        int each = all && s->scheme.gran != QS_G_TENSOR;
        json_t *meta = scheme_meta(s, all ? NULL : it[0].name,
                                   each ? META_AXIS_EACH : it[0].axis, it[0].qmin, it[0].qmax,
                                   all ? -1 : it[0].np, 1);
        for (int i = 0; each && i < n && rc == QS_OK; i++) {
            char *key = NULL, v[32];
            if (asprintf(&key, "%s.axis", it[i].name) < 0) {
                rc = qs_err_set(err, "export: out of memory");
                break;
            }
            snprintf(v, sizeof v, "%d", it[i].axis);
            json_object_set_new(meta, key, json_string(v));
            free(key);
        }
        if (rc == QS_OK && qs_io_st_build(t, 3 * n, meta, &bytes, &len, err) != QS_OK)
            rc = qs_err_prefix(err, "export");
        json_decref(meta);
    }
    if (rc == QS_OK) rc = qs_io_write_file("export", path, bytes, len, force, err);
    if (rc == QS_OK) {
        uint64_t hl = 0;
        for (int k = 0; k < 8; k++) hl |= (uint64_t)bytes[k] << (8 * k);
        json_object_set_new(o, "tensors", list);
        list = NULL;
        json_object_set_new(o, "dtype", json_string(it[0].qmin < 0 ? "I8" : "U8"));
        if (!all) json_object_set_new(o, "nparams", json_integer(it[0].np));
        json_object_set_new(o, "header_bytes", json_integer((json_int_t)hl));
        json_object_set_new(o, "bytes", json_integer((json_int_t)len));
    }
    for (int i = 0; names && i < n; i++) {
        free(names[3 * i + 1]);
        free(names[3 * i + 2]);
    }
    free(names);
    free(t);
    free(npv);
    free(bytes);
    json_decref(list);
    xitems_free(it, n);
    return rc;
}

static int export_npy(qs_session *s, const char *path, int force, json_t *o, qs_err *err)
{
    qexport x;
    if (quantize_int(s, s->tensor, &x, err) != QS_OK) {
        qexport_fini(&x);
        return QS_ERR;
    }
    const qs_tensor *t = s->tensor;
    char dict[512], shp[300] = "";
    size_t k = 0;
    for (int i = 0; i < t->ndim; i++)
        k += (size_t)snprintf(shp + k, sizeof shp - k, "%lld%s", (long long)t->shape[i],
                              t->ndim == 1 ? "," : i + 1 < t->ndim ? ", " : "");
    int dl = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': "
                      "(%s), }", x.qmin < 0 ? "|i1" : "|u1", shp);
    buf b = {0};
    put(&b, "\x93NUMPY\x01\x00", 8);
    size_t total = 10 + (size_t)dl + 1, hl = (total + 63) / 64 * 64 - 10;
    uint8_t h2[2] = {(uint8_t)hl, (uint8_t)(hl >> 8)};
    put(&b, h2, 2);
    put(&b, dict, (size_t)dl);
    while (b.n < 10 + hl - 1) put(&b, " ", 1);
    put(&b, "\n", 1);
    for (int64_t i = 0; i < t->n; i++) {
        uint8_t c = (uint8_t)(x.codes[i] & 0xff);
        put(&b, &c, 1);
    }
    /* the side file: PATH.json with the scheme and its parameters */
    json_t *side = scheme_meta(s, t->name, x.axis, x.qmin, x.qmax, x.q.qp.nparams, 0);
    json_object_set_new(side, "shape", shape_json(t->ndim, t->shape));
    json_object_set_new(side, "dtype", json_string(x.qmin < 0 ? "int8" : "uint8"));
    json_t *sc = json_array(), *zp = json_array();
    for (int64_t p = 0; p < x.q.qp.nparams; p++) {
        json_array_append_new(sc, qs_json_real((double)x.q.qp.scale[p]));
        json_array_append_new(zp, json_integer(x.q.qp.zp[p]));
    }
    json_object_set_new(side, "scale", sc);
    json_object_set_new(side, "zero_point", zp);
    char *js = qs_json_escape_controls(
        json_dumps(side, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9)));
    json_decref(side);
    buf jb = {0};
    if (js) {
        put(&jb, js, strlen(js));
        put(&jb, "\n", 1);
    }
    free(js);
    size_t pl = strlen(path) + 6;
    char *jpath = malloc(pl);
    int rc = QS_ERR;
    if (!js || !jpath || b.oom || jb.oom) {
        qs_err_set(err, "export: out of memory");
    } else {
        snprintf(jpath, pl, "%s.json", path);
        if (qs_io_check_target("export", jpath, force, NULL, err) == QS_OK) {
            qs_io_out pair[2] = {{path, b.p, b.n}, {jpath, jb.p, jb.n}};
            rc = qs_io_write_files("export", pair, 2, force, err);
        }
    }
    if (rc == QS_OK) {
        json_object_set_new(o, "side_file", json_string(jpath));
        json_object_set_new(o, "dtype", json_string(x.qmin < 0 ? "int8" : "uint8"));
        json_object_set_new(o, "nparams", json_integer(x.q.qp.nparams));
        json_object_set_new(o, "bytes", json_integer((json_int_t)b.n));
    }
    free(jpath);
    free(b.p);
    free(jb.p);
    qexport_fini(&x);
    return rc;
}

static void gguf_kv_str(buf *b, const char *k, const char *v)
{
    put_str(b, k);
    put_u32(b, 8);
    put_str(b, v);
}
static void gguf_kv_u32(buf *b, const char *k, uint32_t v)
{
    put_str(b, k);
    put_u32(b, 4);
    put_u32(b, v);
}

/* One GGUF tensor: its ggml type and data bytes. */
typedef struct gitem {
    char *name;             /* tensor name (owned) */
    int ndim;               /* dims */
    int64_t shape[QS_MAX_DIMS]; /* C-order shape */
    int type;               /* ggml type id (the block type, or F32 when rows do not fit) */
    uint8_t *data;          /* bytes (owned) */
    uint64_t nbytes;        /* their count */
    int64_t nonfinite;      /* finite values whose block dequantizes to inf or nan */
    int64_t overflow;       /* values in sub-blocks whose scale overflowed fp32 (Q6_K) */
} gitem;

/* GGUF tensor names are shorter than this many bytes (the GGUF spec; ggml's loader refuses
 * a name of GGML_MAX_NAME = 64 bytes or more) */
#define GGUF_NAME_MAX 64

/* QS_OK when name fits in a GGUF file, else the error naming it: names are never shortened,
 * so what is written loads back under the same name. */
static int gguf_name_check(const char *name, qs_err *err)
{
    size_t len = strlen(name);
    if (len < GGUF_NAME_MAX) return QS_OK;
    char *q = qs_escape(name, 0);
    qs_err_set(err, "export: GGUF tensor names must be shorter than %d bytes (ggml refuses "
               "longer ones); '%.200s%s' has %zu bytes", GGUF_NAME_MAX, q ? q : "",
               q && strlen(q) > 200 ? "..." : "", len);
    free(q);
    return QS_ERR;
}

/* Quantizes t with block type id into *g; with fallback (--all), 1-d tensors (biases, norms,
 * whatever their length), scalars and tensors whose rows are not whole blocks are kept as
 * F32, as llama.cpp's quantizer keeps every tensor of fewer than 2 dimensions. */
static int gitem_make(const qs_tensor *t, int id, int fallback, gitem *g, qs_err *err)
{
    const qs_ggml_type *gt = qs_ggml_type_info(id);
    int64_t row = t->ndim ? t->shape[t->ndim - 1] : 1;
    memset(g, 0, sizeof *g);
    if (gguf_name_check(t->name, err) != QS_OK) return QS_ERR;
    if (t->ndim > 4)
        return qs_err_set(err, "export: GGUF tensors have at most 4 dimensions ('%s' has %d)",
                          t->name, t->ndim);
    int fits = t->ndim > 0 && t->n > 0 && row % gt->block == 0 && (!fallback || t->ndim >= 2);
    if (!fits && !fallback)
        return qs_err_set(err, "export: %s blocks need rows (the last dimension) that are a "
                          "multiple of %d; '%s' has rows of %lld", gt->name, gt->block,
                          t->name, (long long)row);
    g->type = fits ? id : QS_GGML_F32;
    g->ndim = t->ndim ? t->ndim : 1;
    if (t->ndim) memcpy(g->shape, t->shape, sizeof g->shape);
    else g->shape[0] = 1;
    if (fits) {
        if (qs_ggml_row_bytes(id, t->n, &g->nbytes, err) != QS_OK) return QS_ERR;
    } else {
        g->nbytes = (uint64_t)t->n * 4;
    }
    g->name = strdup(t->name);
    g->data = malloc(g->nbytes ? (size_t)g->nbytes : 1);
    if (!g->name || !g->data) return qs_err_set(err, "export: out of memory");
    if (!fits) {
        memcpy(g->data, t->data, (size_t)g->nbytes);   /* little-endian float32 */
        return QS_OK;
    }
    if (qs_ggml_quantize(id, t->data, t->n, g->data, err) != QS_OK) return QS_ERR;
    /* what the file holds, read back: a d past fp16 is stored as inf, as ggml does */
    float *y = malloc((size_t)t->n * sizeof *y);
    if (!y) return qs_err_set(err, "export: out of memory");
    if (qs_ggml_dequantize(id, g->data, t->n, y, err) != QS_OK) {
        free(y);
        return QS_ERR;
    }
    for (int64_t e = 0; e < t->n; e++)
        if (isfinite(t->data[e]) && !isfinite(y[e])) g->nonfinite++;
    free(y);
    g->overflow = qs_ggml_tensor_overflow(id, t);
    return QS_OK;
}

static int export_gguf(qs_session *s, const char *path, int force, int all, const char *type,
                       json_t *o, qs_err *err)
{
    int id;
    if (type) {
        id = qs_ggml_type_by_name(type);
        const qs_ggml_type *gt = qs_ggml_type_info(id);
        if (!gt || !gt->can_quantize)
            return qs_err_set(err, "export: --type %s: expected q8_0, q4_0, q4_1, q5_0, q5_1, "
                              "q4_k or q6_k", type);
    } else {
        const qs_scheme *sc = &s->scheme;
        int ggml = sc->kind == QS_Q_GGML || sc->conv == QS_CONV_GGML;
        id = qs_scheme_ggml_block(sc) >= 0 ? sc->ggml_type
             : ggml && sc->ggml_type == QS_GGML_Q4_0 ? QS_GGML_Q4_0 : QS_GGML_Q8_0;
    }
    const qs_ggml_type *gt = qs_ggml_type_info(id);
    int n = all && s->file ? s->file->n : 1, k = 0, rc = QS_OK;
    gitem *g = calloc((size_t)n, sizeof *g);
    if (!g) return qs_err_set(err, "export: out of memory");
    /* every name first: a long one is refused before any tensor is quantized */
    for (int i = 0; i < n && rc == QS_OK; i++)
        rc = gguf_name_check(all && s->file ? s->file->entries[i].name : s->tensor->name, err);
    for (int i = 0; i < n && rc == QS_OK; i++) {
        qs_tensor *t = NULL;
        if (all && s->file && qs_file_read(s->file, i, &t, err) != QS_OK) {
            rc = QS_ERR;
            break;
        }
        k++;
        rc = gitem_make(t ? t : s->tensor, id, all, &g[i], err);
        qs_tensor_free(t);
        for (int j = 0; j < i && rc == QS_OK; j++)
            if (!strcmp(g[j].name, g[i].name))
                rc = qs_err_set(err, "export: two tensors are both named '%s'", g[i].name);
        if (rc == QS_OK && n > 1 && qs_session_progress(s, "export", i + 1, n) != QS_OK)
            rc = qs_err_set(err, "export: cancelled");
    }
    buf b = {0};
    size_t data_at = 0;
    int nq = 0;
    if (rc == QS_OK) {
        char label[96];
        snprintf(label, sizeof label, "%s (ggml reference quantizer)", gt->name);
        put(&b, "GGUF", 4);
        put_u32(&b, 3);
        put_u64(&b, (uint64_t)n);   /* tensors */
        put_u64(&b, 4);             /* key/values */
        gguf_kv_str(&b, "general.architecture", "qscope");
        gguf_kv_str(&b, "general.name", all && s->file ? s->file->path : g[0].name);
        gguf_kv_u32(&b, "general.alignment", 32);
        gguf_kv_str(&b, "qscope.scheme", label);
        uint64_t off = 0;
        for (int i = 0; i < n; i++) {
            put_str(&b, g[i].name);
            put_u32(&b, (uint32_t)g[i].ndim);
            for (int d = g[i].ndim - 1; d >= 0; d--) put_u64(&b, (uint64_t)g[i].shape[d]);
            put_u32(&b, (uint32_t)g[i].type);
            put_u64(&b, off);       /* relative to the data section, aligned */
            off += (g[i].nbytes + 31) / 32 * 32;
            nq += g[i].type == id;
        }
        pad(&b, 32, 0);
        data_at = b.n;
        for (int i = 0; i < n; i++) {
            put(&b, g[i].data, (size_t)g[i].nbytes);
            pad(&b, 32, 0);
        }
        if (b.oom) rc = qs_err_set(err, "export: out of memory");
    }
    if (rc == QS_OK) {
        rc = qs_io_write_file("export", path, b.p, b.n, force, err);
    }
    if (rc == QS_OK) {
        json_object_set_new(o, "type", json_string(gt->name));
        qs_json_set_real(o, "bits_per_weight", qs_ggml_bits_per_weight(id));
        json_object_set_new(o, "n_tensors", json_integer(n));
        json_object_set_new(o, "n_quantized", json_integer(nq));
        json_object_set_new(o, "data_offset", json_integer((json_int_t)data_at));
        json_object_set_new(o, "bytes", json_integer((json_int_t)b.n));
        int64_t nf = 0, ov = 0;
        for (int i = 0; i < n; i++) {
            nf += g[i].nonfinite;
            ov += g[i].overflow;
        }
        char w[640];
        int wl = 0;
        w[0] = '\0';
        if (nf) {
            json_object_set_new(o, "nonfinite", json_integer(nf));
            wl = snprintf(w, sizeof w, "%lld finite values are stored as inf or nan: a block "
                          "scale beyond fp16's range (65504) is stored as inf, as ggml does",
                          (long long)nf);
        }
        if (ov) {
            json_object_set_new(o, "overflow", json_integer(ov));
            snprintf(w + wl, sizeof w - (size_t)wl, "%s%lld values are in Q6_K sub-blocks "
                     "whose scale overflows fp32 in ggml's reference quantizer (it sums x^3 "
                     "times the code, past 3.4e38 once |x| nears 1e12): they are stored "
                     "with scale 0 or nan", wl ? "; " : "", (long long)ov);
        }
        if (w[0]) json_object_set_new(o, "warning", json_string(w));
    }
    for (int i = 0; i < k; i++) {
        free(g[i].name);
        free(g[i].data);
    }
    free(g);
    free(b.p);
    return rc;
}

/* 1 when path plus suffix names an existing regular file: one the writer replaces (with
 * --force; it refuses links and anything else). */
static int existing_file(const char *path, const char *suffix)
{
    char *p = NULL;
    int r = 0;
    qs_err e;
    if (asprintf(&p, "%s%s", path, suffix) < 0) return 0;
    qs_io_check_target("export", p, 1, &r, &e);     /* the writer's own test */
    free(p);
    return r;
}

static int run_export(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    const char *path = NULL, *format = NULL, *type = NULL;
    int force = 0, all = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--force")) force = 1;
        else if (!strcmp(argv[i], "--all")) all = 1;
        else if (!strcmp(argv[i], "--format") && i + 1 < argc) format = argv[++i];
        else if (!strncmp(argv[i], "--format=", 9)) format = argv[i] + 9;
        else if (!strcmp(argv[i], "--type") && i + 1 < argc) type = argv[++i];
        else if (!strncmp(argv[i], "--type=", 7)) type = argv[i] + 7;
        else if (argv[i][0] == '-' && argv[i][1] == '-')
            return qs_err_set(err, "export: unknown option '%s' (usage: export PATH [--format "
                              "safetensors|npy|gguf] [--type q8_0|q4_0|...] [--force])",
                              argv[i]);
        else if (!path) path = argv[i];
        else return qs_err_set(err, "export: unexpected argument '%s'", argv[i]);
    }
    if (!path) return qs_err_set(err, "export: expected a path (usage: export PATH [--format "
                                 "safetensors|npy|gguf] [--force])");
    if (qs_need_tensor(s, "export", err)) return QS_ERR;
    if (!format) {
        const char *dot = strrchr(path, '.');
        const char *sl = strrchr(path, '/');
        if (dot && (!sl || dot > sl)) format = dot + 1;
        if (!format || (strcasecmp(format, "safetensors") && strcasecmp(format, "npy") &&
                        strcasecmp(format, "gguf")))
            return qs_err_set(err, "export: %s: cannot tell the format from the extension "
                              "(add --format safetensors|npy|gguf)", path);
    }
    if (all && !s->file)
        return qs_err_set(err, "export: --all needs a loaded file ('load PATH' first)");
    if (type && strcasecmp(format, "gguf"))
        return qs_err_set(err, "export: --type only applies to --format gguf");
    if (qs_cmd_check_path(s, "export", path, 1, err) != QS_OK) return QS_ERR;
    if (qs_io_check_target("export", path, force, NULL, err) != QS_OK) return QS_ERR;
    /* said before the write: afterwards the file exists either way */
    int replaced = existing_file(path, "") ||
                   (!strcasecmp(format, "npy") && existing_file(path, ".json"));
    json_t *o = json_object();
    json_object_set_new(o, "path", json_string(path));
    json_object_set_new(o, "tensor", json_string(s->tensor->name));
    int rc;
    if (!strcasecmp(format, "safetensors"))
        rc = export_safetensors(s, path, force, all, o, err);
    else if (!strcasecmp(format, "npy") && all)
        rc = qs_err_set(err, "export: --all writes safetensors or gguf (one .npy holds one "
                        "tensor)");
    else if (!strcasecmp(format, "npy")) rc = export_npy(s, path, force, o, err);
    else if (!strcasecmp(format, "gguf")) rc = export_gguf(s, path, force, all, type, o, err);
    else rc = qs_err_set(err, "export: --format %s: expected safetensors, npy or gguf", format);
    if (rc != QS_OK) {
        json_decref(o);
        return QS_ERR;
    }
    json_object_set_new(o, "format", json_string(format));
    json_object_set_new(o, "replaced", json_boolean(replaced));
    *out = o;
    return QS_OK;
}

/* ==== ggml: the block formats next to the engine's schemes ================================ */

static int run_ggml(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    static const char *const defaults[] = {
        "q8_0", "q6_k", "q5_1", "q5_0", "q4_k", "q4_1", "q4_0",
        "int8 sym per-channel", "int4 sym per-channel", "int4 sym per-group size=32 axis=-1",
        "int4 sym per-group size=128 axis=-1", "nf4 block=64", "nf4 block=64 dq",
    };
    if (qs_need_tensor(s, "ggml", err)) return QS_ERR;
    const qs_tensor *t = s->tensor;
    int n = argc > 0 ? argc : (int)(sizeof defaults / sizeof defaults[0]);
    json_t *rows = json_array();
    for (int i = 0; i < n; i++) {
        char words[128], *w[8], *save = NULL;
        snprintf(words, sizeof words, "%s", argc > 0 ? argv[i] : defaults[i]);
        int nw = 0;
        for (char *tok = strtok_r(words, " ", &save); tok && nw < 8;
             tok = strtok_r(NULL, " ", &save))
            w[nw++] = tok;
        qspec q;
        qs_errstats st;
        double bits = 0;
        if (qspec_parse("ggml", s, nw, w, &q, err) != QS_OK ||
            measure(&q, t, &st, &bits, err) != QS_OK) {
            json_decref(rows);
            return QS_ERR;
        }
        qs_metrics m;
        qs_metrics_from_stats(&st, &m);
        json_t *r = json_object();
        json_object_set_new(r, "format", json_string(argc > 0 ? argv[i] : defaults[i]));
        json_object_set_new(r, "kind", json_string(q.ggml >= 0 ? "ggml block" : "engine"));
        qs_json_set_real(r, "bits", bits);
        qs_json_set_real(r, "sqnr_db", m.sqnr_db);
        qs_json_set_real(r, "mse", m.mse);
        qs_json_set_real(r, "max_abs_err", m.max_abs_err);
        json_array_append_new(rows, r);
        if (qs_session_progress(s, "ggml", i + 1, n) != QS_OK) {
            json_decref(rows);
            qs_err_set(err, "ggml: cancelled");
            return QS_CANCELLED;
        }
    }
    json_t *o = json_object();
    json_object_set_new(o, "tensor", json_string(t->name));
    json_object_set_new(o, "n", json_integer(t->n));
    json_object_set_new(o, "rows", rows);
    *out = o;
    return QS_OK;
}

/* ==== blocks ============================================================================== */

static json_t *step(const char *title, const char *formula, const char *subst,
                    const char *result, const char *note)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s}", "title", title, "formula", formula,
                     "substituted", subst, "result", result, "note", note ? note : "");
}

static int run_blocks(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    static const char *const keys[] = {"block", NULL};
    const qs_cmd *me = qs_cmd_find("blocks");
    if (me && qs_arg_check(me, argc, argv, keys, NULL, 1, err) != QS_OK) return QS_ERR;
    long long bi = 0;
    if (qs_arg_int(argc, argv, "block", 0, INT64_MAX, &bi, err) != QS_OK) return QS_ERR;
    if (qs_need_tensor(s, "blocks", err)) return QS_ERR;
    const char *tn = qs_arg_pos(argc, argv, 0);
    const qs_tensor *t = s->tensor;
    const qs_entry *e = (s->file && s->tensor_index >= 0 && s->tensor_index < s->file->n)
                        ? &s->file->entries[s->tensor_index] : NULL;
    int stored = qs_ggml_type_of_dtype(e ? e->dtype : QS_DT_COUNT);
    int id;
    if (tn) {
        id = qs_ggml_type_by_name(tn);
        const qs_ggml_type *gt = qs_ggml_type_info(id);
        if (!gt || gt->block == 1 || gt->dtype == QS_DT_COUNT)
            return qs_err_set(err, "blocks: '%s' is not a ggml block type (q8_0 q4_0 q4_1 q5_0 "
                              "q5_1 q2_k q3_k q4_k q5_k q6_k)", tn);
    } else {
        id = stored >= 0 ? stored : QS_GGML_Q8_0;
    }
    const qs_ggml_type *gt = qs_ggml_type_info(id);
    /* the stored block itself (a GGUF tensor of this type) or the tensor quantized here */
    int from_file = stored == id && !s->file->read && s->file->map;
    if (!from_file && !gt->can_quantize)
        return qs_err_set(err, "blocks: qscope reads %s but does not quantize to it (try q4_k, "
                          "q6_k, q8_0, q4_0, q4_1, q5_0 or q5_1)", gt->name);
    /* a stored tensor's blocks are contiguous; one quantized here runs along its rows (a
     * row's short last block padded), as `quant` and `derive` under 'scheme q4_k' do */
    int64_t nblocks = from_file ? (t->n + gt->block - 1) / gt->block
                                : qs_ggml_tensor_nblocks(id, t);
    if (bi >= nblocks)
        return qs_err_set(err, "blocks: block=%lld is past the last block (%lld blocks of %d)",
                          bi, (long long)nblocks, gt->block);
    qs_ggml_tblock *tb = malloc(sizeof *tb);
    if (!tb) return qs_err_set(err, "blocks: out of memory");
    qs_ggml_block_view *v = &tb->v;
    const float *x = tb->x;
    int m;
    if (from_file) {
        int64_t start = bi * gt->block;
        m = (int)(t->n - start < gt->block ? t->n - start : gt->block);
        memcpy(tb->x, t->data + start, (size_t)m * sizeof(float));
        if (qs_ggml_block_decode(id, s->file->map + e->offset + (size_t)bi * (size_t)gt->bytes,
                                 v, err) != QS_OK) {
            free(tb);
            return QS_ERR;
        }
    } else {
        if (qs_ggml_tensor_block(id, t, bi, tb, err) != QS_OK) {
            free(tb);
            return QS_ERR;
        }
        m = tb->m;
    }
    const uint8_t *raw = v->raw;
    json_t *o = json_object();
    json_object_set_new(o, "tensor", json_string(t->name));
    json_object_set_new(o, "type", json_string(gt->name));
    json_object_set_new(o, "block", json_integer(bi));
    json_object_set_new(o, "blocks", json_integer(nblocks));
    json_object_set_new(o, "source", json_string(from_file ? "stored in the file"
                                                            : "quantized by qscope"));
    json_object_set_new(o, "elements", json_integer(gt->block));
    json_object_set_new(o, "bytes", json_integer(gt->bytes));
    qs_json_set_real(o, "bits_per_weight", qs_ggml_bits_per_weight(id));
    char lay[256];
    if (qs_ggml_layout(id, lay, sizeof lay)) json_object_set_new(o, "layout", json_string(lay));
    if (v->nsub > 1) {
        json_object_set_new(o, "nsub", json_integer(v->nsub));
        json_object_set_new(o, "sub_elements", json_integer(gt->block / v->nsub));
    }
    qs_json_set_real(o, "d", v->d);
    if (v->dmin != 0.f || id == QS_GGML_Q4_1 || id == QS_GGML_Q5_1 || v->nsub == 8 ||
        id == QS_GGML_Q2_K)
        qs_json_set_real(o, "dmin", v->dmin);
    char hex[2 * sizeof v->raw + 1];
    for (int i = 0; i < gt->bytes; i++) snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    json_object_set_new(o, "raw", json_string(hex));
    if (v->nsub > 1) {
        json_t *subs = json_array();
        for (int j = 0; j < v->nsub; j++) {
            json_t *r = json_object();
            json_object_set_new(r, "sub", json_integer(j));
            json_object_set_new(r, "scale", json_integer(v->sub_scale[j]));
            if (id == QS_GGML_Q2_K || id == QS_GGML_Q4_K || id == QS_GGML_Q5_K)
                json_object_set_new(r, "min", json_integer(v->sub_min[j]));
            qs_json_set_real(r, "step", v->sub_d[j]);
            qs_json_set_real(r, "offset", v->sub_m[j]);
            json_array_append_new(subs, r);
        }
        json_object_set_new(o, "subblocks", subs);
    }
    json_t *codes = json_array(), *vals = json_array(), *orig = json_array();
    double maxe = 0;
    int64_t nonfinite = 0;
    for (int j = 0; j < gt->block; j++) {
        json_array_append_new(codes, json_integer(v->codes[j]));
        json_array_append_new(vals, qs_json_real(v->y[j]));
        if (!isfinite(v->y[j]) && (j >= m || isfinite(x[j]))) nonfinite++;
        if (j < m) {
            json_array_append_new(orig, qs_json_real(x[j]));
            double d = fabs((double)v->y[j] - x[j]);
            if (d > maxe || d != d) maxe = d != d || maxe != maxe ? NAN : d;
        }
    }
    json_object_set_new(o, "codes", codes);
    json_object_set_new(o, "values", vals);
    if (nonfinite) {    /* the same rule and words as `quant` (a scale past fp16: inf) */
        json_object_set_new(o, "nonfinite", json_integer(nonfinite));
        json_object_set_new(o, "warning", json_string(
            "a scale beyond fp16's range (65504) is stored as inf, as ggml does: the block "
            "dequantizes to inf or nan"));
    }
    if (!from_file && tb->overflow) {
        char w[512];
        const char *prev = json_string_value(json_object_get(o, "warning"));
        json_object_set_new(o, "overflow", json_integer(tb->overflow));
        snprintf(w, sizeof w, "%s%s%d values are in sub-blocks whose scale overflows fp32 in "
                 "ggml's reference quantizer (it sums x^3 times the code, past 3.4e38 once |x| "
                 "nears 1e12): ggml stores them with scale 0 or nan", prev ? prev : "",
                 prev ? "; " : "", tb->overflow);
        json_object_set_new(o, "warning", json_string(w));
    }
    if (!from_file) {
        json_object_set_new(o, "x", orig);
        qs_json_set_real(o, "max_abs_err", maxe);
    } else {
        json_decref(orig);
    }
    /* a short derivation of element 0 */
    json_t *steps = json_array();
    char f1[160], f2[200], f3[64];
    int c0 = v->codes[0];
    switch (id) {
    case QS_GGML_Q8_0:
        json_array_append_new(steps, step("scale", "d = amax / 127, stored as fp16",
                                          "d", (snprintf(f3, sizeof f3, "%.9g", (double)v->d),
                                                f3), "roundf: ties away from zero"));
        snprintf(f2, sizeof f2, "%d × %.9g", c0, (double)v->d);
        break;
    case QS_GGML_Q4_0: case QS_GGML_Q5_0:
        snprintf(f1, sizeof f1, "d = max / %s (max = the largest |x| keeping its sign)",
                 id == QS_GGML_Q4_0 ? "-8" : "-16");
        snprintf(f3, sizeof f3, "%.9g", (double)v->d);
        json_array_append_new(steps, step("scale", f1, "d (fp16)", f3,
                                          id == QS_GGML_Q4_0
                                          ? "codes: (int)(x/d + 8.5), at most 15"
                                          : "codes: (int)(x/d + 16.5), at most 31"));
        snprintf(f2, sizeof f2, "(%d - %d) × %.9g", c0, id == QS_GGML_Q4_0 ? 8 : 16,
                 (double)v->d);
        break;
    case QS_GGML_Q4_1: case QS_GGML_Q5_1:
        snprintf(f3, sizeof f3, "%.9g", (double)v->d);
        json_array_append_new(steps, step("scale and minimum", "d = (max - min) / 15 (31), "
                                          "m = min", "d (fp16)", f3, NULL));
        snprintf(f2, sizeof f2, "%d × %.9g + %.9g", c0, (double)v->d, (double)v->dmin);
        break;
    default:
        snprintf(f1, sizeof f1, "sub-block step = d × scale_j%s", v->nsub == 8 || id == QS_GGML_Q2_K
                 ? ", offset = dmin × min_j" : "");
        snprintf(f3, sizeof f3, "%.9g", (double)v->sub_d[0]);
        json_array_append_new(steps, step("sub-block 0", f1, "step_0", f3,
                                          "super-block constants d, dmin are fp16; the "
                                          "sub-block scales are 4, 6 or 8-bit integers"));
        /* Q3_K and Q6_K store codes with an offset (4, 32) and have no min; the others
         * subtract the sub-block's offset dmin × min_j */
        if (id == QS_GGML_Q3_K || id == QS_GGML_Q6_K)
            snprintf(f2, sizeof f2, "%.9g × (code - %d) (code %d)", (double)v->sub_d[0],
                     id == QS_GGML_Q3_K ? 4 : 32, c0);
        else
            snprintf(f2, sizeof f2, "%.9g × code - %.9g (code %d)", (double)v->sub_d[0],
                     (double)v->sub_m[0], c0);
        break;
    }
    snprintf(f3, sizeof f3, "%.9g", (double)v->y[0]);
    json_array_append_new(steps, step("element 0", "x̂ = dequantize(code)", f2, f3, NULL));
    json_object_set_new(o, "steps", steps);
    free(tb);
    *out = o;
    return QS_OK;
}

static const char *const block_words[] = {"q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q2_k",
                                          "q3_k", "q4_k", "q5_k", "q6_k", "block=", NULL};
static const char *const report_words[] = {"q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q4_k",
                                           "q6_k", "int8", "int4", "nf4", "fp8-e4m3", "sym",
                                           "per-channel", "per-group", NULL};
static const char *const export_words[] = {"--format", "safetensors", "npy", "gguf",
                                           "--type", "--all", "--force", NULL};

const qs_cmd qs_cmds_model[] = {
    {"report", "model", "report [SCHEME WORDS...]",
     "per-layer error of a scheme over every tensor of the loaded file, worst first",
     "SCHEME WORDS  as for 'scheme' (default: the current scheme), or a ggml type alone:\n"
     "              q8_0 q4_0 q4_1 q5_0 q5_1 q4_k q6_k (ggml's reference quantizers)\n"
     "rows: tensor, dtype, shape, n, sqnr_db, mse, max_abs_err, cosine, bits, grid (the "
     "code width of an already-quantized tensor: few distinct values on a uniform grid, "
     "else null); note: for such a tensor, whether this scheme reproduces it almost exactly "
     "(SQNR 100+ dB or inf, off the 6.02 dB/bit chart) or rounds it like other values; rows "
     "run worst (lowest SQNR) first, an exact tensor (inf) after the finite ones, NaN last",
     "report q4_k", report_words, 0, QS_CMD_SLOW, run_report, .kinds = QS_RK(QS_R_TABLE)},
    {"export", "model",
     "export PATH [--format safetensors|npy|gguf] [--type T] [--all] [--force]",
     "write the current tensor (or --all: every tensor of the file) quantized, atomically",
     "PATH           the file (format from the extension unless --format)\n"
     "--format F     safetensors: I8/U8 codes + NAME.scale + NAME.zero_point + __metadata__;\n"
     "               npy: codes, with the scheme and parameters in PATH.json;\n"
     "               gguf: ggml blocks (the current scheme's ggml type, else Q8_0); tensor\n"
     "               names must be shorter than 64 bytes (never shortened)\n"
     "--type T       gguf block type: q8_0 q4_0 q4_1 q5_0 q5_1 q4_k q6_k\n"
     "--all          every tensor of the loaded file, each along its own axis (safetensors\n"
     "               __metadata__ gives it as NAME.axis); gguf keeps 1-D tensors (biases,\n"
     "               norms) and tensors whose rows are not whole blocks as F32\n"
     "--force        replace an existing file (never done without it)",
     "export /tmp/w_int8.safetensors --force", export_words, QS_COMPL_FILE, QS_CMD_WRITES, run_export,
     .kinds = QS_RK(QS_R_OBJECT) | QS_RK(QS_R_TABLE)},
    {"ggml", "model", "ggml ['SCHEME WORDS'...]",
     "error and bits per weight of ggml's block formats next to per-channel int8/int4, "
     "per-group int4 and NF4 on the current tensor",
     "'SCHEME WORDS'  one row per argument: a ggml type (q8_0 q4_0 q4_1 q5_0 q5_1 q4_k q6_k)\n"
     "                or quoted scheme words ('int4 sym per-group size=32 axis=-1');\n"
     "                default: the ggml types, int8/int4 per-channel, int4 per-group 32 and\n"
     "                128, nf4 with and without double quantization\n"
     "rows: format, kind, bits, sqnr_db, mse, max_abs_err (blocks along the last axis)",
     "ggml", report_words, 0, QS_CMD_SLOW, run_ggml, .kinds = QS_RK(QS_R_TABLE)},
    {"blocks", "model", "blocks [TYPE] [block=N]",
     "one ggml block taken apart: scales, mins, packed bytes, codes, dequantized values",
     "TYPE     q8_0 q4_0 q4_1 q5_0 q5_1 q4_k q6_k (default: the stored type of a GGUF "
     "tensor, else q8_0); q2_k q3_k q5_k for stored tensors\n"
     "block=N  which block (default 0)\n"
     "keys: tensor type block blocks source elements bytes bits_per_weight layout (the "
     "block's bytes part by part, in storage order) nsub sub_elements (K-quants) d dmin raw "
     "subblocks [{sub scale min step offset}] codes values x max_abs_err steps",
     "blocks q4_k block=0", block_words, 0, 0, run_blocks, .kinds = QS_RK(QS_R_TRACE)},
    {0},
};
