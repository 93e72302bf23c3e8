/* result.c — result kinds: names, shape checks, the kind a face draws, typed views. */
#include "qscope/result.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/cmd.h"

static const char *const kind_names[] = {
    "none", "text", "help", "hist", "bits", "trace", "qparams", "stats", "table", "object",
};
static_assert(sizeof kind_names / sizeof kind_names[0] == QS_R_COUNT,
              "kind_names needs one name per qs_result_kind");
static_assert(QS_R_COUNT <= 32, "a row's kinds mask is an unsigned of 32 bits");

const char *qs_result_kind_name(qs_result_kind k)
{
    return k >= 0 && k < QS_R_COUNT ? kind_names[k] : "?";
}

/* The special shapes, in the order a face tells them apart: TEXT, HELP, HIST, BITS, else
 * OBJECT (the generic kinds). Presence of keys only; the checks below add the types. */
static qs_result_kind shape_of(const json_t *res)
{
    const json_t *t = json_object_get(res, "text");
    if (json_is_string(t) && json_object_size(res) == 1) return QS_R_TEXT;
    if (json_is_array(json_object_get(res, "commands")) ||
        (json_object_get(res, "help") && json_object_get(res, "usage")))
        return QS_R_HELP;
    if (json_object_get(res, "counts") && json_object_get(res, "edges")) return QS_R_HIST;
    if (json_object_get(res, "exponent_bits") && json_object_get(res, "hex")) return QS_R_BITS;
    return QS_R_OBJECT;
}

/* The key k of o is absent, or of the type `ok` accepts. */
static int opt_str(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return !v || json_is_string(v);
}

static int str_or_null(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return !v || json_is_string(v) || json_is_null(v);
}

static int opt_int(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return !v || json_is_integer(v);
}

static int is_scalar(const json_t *v)
{
    return json_is_string(v) || json_is_number(v) || json_is_boolean(v) || json_is_null(v);
}

static int scalar_array(const json_t *a)
{
    size_t i;
    const json_t *x;
    if (!json_is_array(a)) return 0;
    json_array_foreach(a, i, x) if (!is_scalar(x)) return 0;
    return 1;
}

static int num_array(const json_t *a)
{
    size_t i;
    const json_t *x;
    if (!json_is_array(a)) return 0;
    json_array_foreach(a, i, x) if (!json_is_number(x)) return 0;
    return 1;
}

static int int_or_null(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_integer(v) || json_is_null(v);
}

static int int_or_null_opt(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return !v || json_is_integer(v) || json_is_null(v);
}

/* A number (NaN and infinities are the strings "nan", "inf", "-inf": qs_json_real), or
 * null. */
static int num_or_null(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    double d;
    return qs_json_real_get(v, &d) == 0 || json_is_null(v);
}

int qs_hist_view_get(const json_t *res, qs_hist_view *v, qs_err *err)
{
    memset(v, 0, sizeof *v);
    const json_t *counts = json_object_get(res, "counts"), *edges = json_object_get(res, "edges");
    if (!json_is_array(counts)) return qs_err_set(err, "hist: 'counts' is not an array");
    size_t n = json_array_size(counts);
    if (!num_array(edges) || json_array_size(edges) != n + 1)
        return qs_err_set(err, "hist: 'edges' is not %zu numbers", n + 1);
    const json_t *lg = json_object_get(res, "log");
    if (lg && !json_is_boolean(lg)) return qs_err_set(err, "hist: 'log' is not true/false");
    if (!opt_int(res, "under") || !opt_int(res, "over") || !opt_int(res, "nan"))
        return qs_err_set(err, "hist: 'under', 'over' or 'nan' is not an integer");
    v->counts = malloc((n ? n : 1) * sizeof *v->counts);
    v->edges = malloc((n + 1) * sizeof *v->edges);
    if (!v->counts || !v->edges) {
        qs_hist_view_free(v);
        return qs_err_set(err, "hist: out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *c = json_array_get(counts, i);
        if (!json_is_integer(c)) {
            qs_hist_view_free(v);
            return qs_err_set(err, "hist: count %zu is not an integer", i);
        }
        v->counts[i] = json_integer_value(c);
    }
    for (size_t i = 0; i <= n; i++) v->edges[i] = json_number_value(json_array_get(edges, i));
    v->n = n;
    v->log = json_is_true(lg);
    v->under = json_integer_value(json_object_get(res, "under"));
    v->over = json_integer_value(json_object_get(res, "over"));
    v->nan = json_integer_value(json_object_get(res, "nan"));
    return QS_OK;
}

void qs_hist_view_free(qs_hist_view *v)
{
    free(v->counts);
    free(v->edges);
    memset(v, 0, sizeof *v);
}

int qs_bits_view_get(const json_t *res, qs_bits_view *v, qs_err *err)
{
    memset(v, 0, sizeof *v);
    if (!json_is_string(json_object_get(res, "hex")))
        return qs_err_set(err, "bits: 'hex' is not a string");
    if (!opt_str(res, "format")) return qs_err_set(err, "bits: 'format' is not a string");
    if (!str_or_null(res, "sign_bits") || !str_or_null(res, "exponent_bits") ||
        !str_or_null(res, "mantissa_bits"))
        return qs_err_set(err, "bits: a '*_bits' field is not a string or null");
    if (!opt_int(res, "sign")) return qs_err_set(err, "bits: 'sign' is not an integer");
    v->format = json_string_value(json_object_get(res, "format"));
    v->hex = json_string_value(json_object_get(res, "hex"));
    v->sign_bits = json_string_value(json_object_get(res, "sign_bits"));
    v->has_sign = json_object_get(res, "sign") != NULL;
    v->sign = json_integer_value(json_object_get(res, "sign"));
    v->exponent_bits = json_string_value(json_object_get(res, "exponent_bits"));
    v->mantissa_bits = json_string_value(json_object_get(res, "mantissa_bits"));
    return QS_OK;
}

int qs_trace_view_get(const json_t *steps, qs_trace_view *v, qs_err *err)
{
    memset(v, 0, sizeof *v);
    if (!json_is_array(steps)) return qs_err_set(err, "trace: 'steps' is not an array");
    size_t n = json_array_size(steps);
    v->steps = calloc(n ? n : 1, sizeof *v->steps);
    if (!v->steps) return qs_err_set(err, "trace: out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *st = json_array_get(steps, i);
        const json_t *r = json_object_get(st, "result");
        if (!json_is_object(st) || !opt_str(st, "title") || !opt_str(st, "formula") ||
            !opt_str(st, "substituted") || !opt_str(st, "note") ||
            (r && !is_scalar(r) && !scalar_array(r))) {
            qs_trace_view_free(v);
            return qs_err_set(err, "trace: step %zu is not {title formula substituted result "
                              "note} with strings and a scalar (or scalars) result", i + 1);
        }
        qs_trace_step *s = &v->steps[i];
        s->title = json_string_value(json_object_get(st, "title"));
        s->formula = json_string_value(json_object_get(st, "formula"));
        s->substituted = json_string_value(json_object_get(st, "substituted"));
        s->note = json_string_value(json_object_get(st, "note"));
        s->result = r;
    }
    v->n = n;
    return QS_OK;
}

void qs_trace_view_free(qs_trace_view *v)
{
    free(v->steps);
    memset(v, 0, sizeof *v);
}

/* A number or an array of numbers ("inf", "-inf", "nan" as qs_json_real writes them; nulls
 * read as NaN) into a new array; *n entries. */
static int nums(const json_t *v, double **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!v) return 0;
    size_t k = json_is_array(v) ? json_array_size(v) : 1;
    double d;
    if (!json_is_array(v) && qs_json_real_get(v, &d) < 0 && !json_is_null(v)) return -1;
    double *a = malloc((k ? k : 1) * sizeof *a);
    if (!a) return -1;
    for (size_t i = 0; i < k; i++) {
        const json_t *x = json_is_array(v) ? json_array_get(v, i) : v;
        a[i] = NAN;
        if (qs_json_real_get(x, &a[i]) < 0 && !json_is_null(x)) {
            free(a);
            return -1;
        }
    }
    *out = a;
    *n = k;
    return 0;
}

double qs_view_at(const double *a, size_t n, size_t i)
{
    return n == 0 ? NAN : a[i < n ? i : 0];
}

double qs_view_zp(const qs_qparams_view *v, size_t i, double dflt)
{
    return v->nzp == 0 ? dflt : (double)v->zero_point[i < v->nzp ? i : 0];
}

/* An integer or an array of integers into a new array; *n entries. */
static int ints(const json_t *v, long long **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!v) return 0;
    size_t k = json_is_array(v) ? json_array_size(v) : 1;
    long long *a = malloc((k ? k : 1) * sizeof *a);
    if (!a) return -1;
    for (size_t i = 0; i < k; i++) {
        const json_t *x = json_is_array(v) ? json_array_get(v, i) : v;
        if (!json_is_integer(x)) {
            free(a);
            return -1;
        }
        a[i] = json_integer_value(x);
    }
    *out = a;
    *n = k;
    return 0;
}

int qs_qparams_view_get(const json_t *res, qs_qparams_view *v, qs_err *err)
{
    memset(v, 0, sizeof *v);
    v->qmin = v->qmax = v->elem_max = NAN;
    if (!json_is_object(res)) return qs_err_set(err, "qparams: not an object");
    size_t nmax;
    double emv = NAN;
    const json_t *em = json_object_get(res, "elem_max"), *cb = json_object_get(res, "codebook");
    if (!opt_str(res, "label") || !opt_str(res, "granularity") || !opt_str(res, "format") ||
        !opt_str(res, "element") || !opt_str(res, "axis_reason") || !opt_str(res, "warning") ||
        !int_or_null_opt(res, "qmin") || !int_or_null_opt(res, "qmax") ||
        !opt_int(res, "block") || !opt_int(res, "nparams") ||
        (em && qs_json_real_get(em, &emv) < 0 && !json_is_null(em)) ||
        (cb && !json_is_array(cb)))
        goto bad;
    if (nums(json_object_get(res, "scale"), &v->scale, &v->nscale) ||
        ints(json_object_get(res, "zero_point"), &v->zero_point, &v->nzp) ||
        nums(json_object_get(res, "clip_min"), &v->clip_min, &v->nclip) ||
        nums(json_object_get(res, "clip_max"), &v->clip_max, &nmax) || nmax != v->nclip ||
        nums(cb, &v->book, &v->nbook))
        goto bad;
    v->label = json_string_value(json_object_get(res, "label"));
    v->granularity = json_string_value(json_object_get(res, "granularity"));
    v->format = json_string_value(json_object_get(res, "format"));
    v->element = json_string_value(json_object_get(res, "element"));
    v->axis_reason = json_string_value(json_object_get(res, "axis_reason"));
    v->warning = json_string_value(json_object_get(res, "warning"));
    const json_t *x;
    if (json_is_integer(x = json_object_get(res, "qmin"))) v->qmin = (double)json_integer_value(x);
    if (json_is_integer(x = json_object_get(res, "qmax"))) v->qmax = (double)json_integer_value(x);
    if (em && qs_json_real_get(em, &emv) == 0) v->elem_max = emv;
    v->has_block = json_object_get(res, "block") != NULL;
    v->block = json_integer_value(json_object_get(res, "block"));
    v->nparams = json_integer_value(json_object_get(res, "nparams"));
    v->has_codebook = cb != NULL;
    return QS_OK;
bad:
    qs_qparams_view_free(v);
    return qs_err_set(err, "qparams: a key of the wrong type (scale, clip_min, clip_max, "
                      "codebook: numbers; zero_point, block, nparams: integers; qmin, qmax: "
                      "integers or null; label, granularity, format, element, axis_reason, "
                      "warning: strings)");
}

void qs_qparams_view_free(qs_qparams_view *v)
{
    free(v->scale);
    free(v->zero_point);
    free(v->clip_min);
    free(v->clip_max);
    free(v->book);
    memset(v, 0, sizeof *v);
    v->qmin = v->qmax = v->elem_max = NAN;
}

static int help_ok(const json_t *res)
{
    const json_t *cmds = json_object_get(res, "commands");
    if (json_is_array(cmds)) {
        size_t i;
        const json_t *c;
        json_array_foreach(cmds, i, c) {
            if (!json_is_string(json_object_get(c, "group")) ||
                !json_is_string(json_object_get(c, "usage")) ||
                !json_is_string(json_object_get(c, "summary")))
                return 0;
        }
        return 1;
    }
    return json_is_string(json_object_get(res, "usage")) &&
           json_is_string(json_object_get(res, "summary")) && opt_str(res, "options") &&
           opt_str(res, "example");
}

static int has_row_array(const json_t *res)
{
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)res, k, v) {
        if (!json_is_array(v) || json_array_size(v) == 0) continue;
        size_t i;
        const json_t *x;
        int all = 1;
        json_array_foreach(v, i, x) if (!json_is_object(x)) all = 0;
        if (all) return 1;
    }
    return 0;
}

int qs_result_check(qs_result_kind k, const json_t *res, qs_err *err)
{
    const char *name = qs_result_kind_name(k);
    if (!json_is_object(res)) return qs_err_set(err, "%s: the result is not an object", name);
    qs_result_kind shape = shape_of(res);
    int special = k == QS_R_TEXT || k == QS_R_HELP || k == QS_R_HIST || k == QS_R_BITS;
    if (special ? shape != k : shape != QS_R_OBJECT)
        return qs_err_set(err, "%s: the result has the shape of '%s'", name,
                          qs_result_kind_name(shape));
    /* a "steps" array is drawn as a derivation: only TRACE promises one */
    if (!special && k != QS_R_TRACE && json_is_array(json_object_get(res, "steps")))
        return qs_err_set(err, "%s: the result has a 'steps' array (a trace)", name);
    switch (k) {
    case QS_R_TEXT:
        return QS_OK;
    case QS_R_HELP:
        return help_ok(res) ? QS_OK
                            : qs_err_set(err, "help: not a command list or one command's help");
    case QS_R_HIST: {
        qs_hist_view v;
        if (qs_hist_view_get(res, &v, err)) return QS_ERR;
        qs_hist_view_free(&v);
        return QS_OK;
    }
    case QS_R_BITS: {
        qs_bits_view v;
        return qs_bits_view_get(res, &v, err);
    }
    case QS_R_TRACE: {
        qs_trace_view v;
        if (qs_trace_view_get(json_object_get(res, "steps"), &v, err)) return QS_ERR;
        qs_trace_view_free(&v);
        return QS_OK;
    }
    case QS_R_QPARAMS: {
        /* qmin and qmax are null for a float element format (fp8, MX) */
        if (!json_is_string(json_object_get(res, "label")) ||
            !num_array(json_object_get(res, "scale")) ||
            !num_array(json_object_get(res, "zero_point")) || !int_or_null(res, "qmin") ||
            !int_or_null(res, "qmax"))
            return qs_err_set(err, "qparams: not {label scale[] zero_point[] qmin qmax}");
        qs_qparams_view v;
        if (qs_qparams_view_get(res, &v, err)) return QS_ERR;
        qs_qparams_view_free(&v);
        return QS_OK;
    }
    case QS_R_STATS:
        if (!json_is_integer(json_object_get(res, "n")) || !num_or_null(res, "min") ||
            !num_or_null(res, "max") || !num_or_null(res, "mean") || !num_or_null(res, "std"))
            return qs_err_set(err, "stats: not {n min max mean std}");
        return QS_OK;
    case QS_R_TABLE:
        return has_row_array(res) ? QS_OK
                                  : qs_err_set(err, "table: no array of row objects");
    case QS_R_OBJECT:
        return QS_OK;
    default:
        return qs_err_set(err, "result kind %d unknown", (int)k);
    }
}

qs_result_kind qs_result_kind_of(unsigned kinds, const json_t *res)
{
    if (!json_is_object(res)) return QS_R_NONE;
    for (int k = 1; k < QS_R_COUNT; k++)
        if ((kinds & QS_RK(k)) && qs_result_check((qs_result_kind)k, res, NULL) == QS_OK)
            return (qs_result_kind)k;
    return QS_R_OBJECT;
}
