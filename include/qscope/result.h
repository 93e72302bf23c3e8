/* result.h — the kinds of result a command returns, their shape checks, and typed views.
 *
 * A command's result is a JSON object (what --json prints, what lessons `expect`); its row in
 * the command table declares the kinds it may return (`kinds`, a mask of QS_RK(kind)).
 * qs_result_check() says whether a result has the shape its kind promises, and the faces
 * dispatch on qs_result_kind_of() — the declared kind, or, for a row that declares several
 * (`bits`: one value's layout or a table of formats), the first declared kind whose shape
 * the result has. The views decode the kinds whose numbers faces draw into C structs with
 * checked types, so a face reads fields instead of looking keys up. tests/unit/test_result.c
 * runs every command and checks every result against its row's kinds. */
#ifndef QSCOPE_RESULT_H
#define QSCOPE_RESULT_H

#include <jansson.h>
#include <stddef.h>

#include "qscope/err.h"

typedef enum qs_result_kind {
    QS_R_NONE = 0,      /* no result of its own: a face operation (source, quit); also what
                           qs_result_kind_of says of a result that is not an object */
    QS_R_TEXT,          /* {"text": "..."} and nothing else: printed as is */
    QS_R_HELP,          /* {"commands": [{name group usage summary}]} or one command's help
                           {name group usage summary options example help} */
    QS_R_HIST,          /* {counts[n] (integers), edges[n+1], log?, under?, over?, nan?, ...} */
    QS_R_BITS,          /* one value in a number format: {format, hex, sign_bits?, sign?,
                           exponent_bits (string or null), mantissa_bits (string or null), ...} */
    QS_R_TRACE,         /* an object with steps[{title, formula?, substituted?, result?,
                           note?}]: a derivation, printed after the object's other keys */
    QS_R_QPARAMS,       /* {label, scale[], zero_point[], qmin, qmax (null for a float
                           element format), granularity?, ...} */
    QS_R_STATS,         /* {n, min, max, mean, std, absmax, ...}: statistics of a tensor */
    QS_R_TABLE,         /* an object holding at least one array of row objects */
    QS_R_OBJECT,        /* any other object: keys and values (the generic rendering) */
    QS_R_COUNT
} qs_result_kind;

/* The bit of a kind in a row's `kinds` mask. */
#define QS_RK(k) (1u << (k))
#define QS_RK_ALL (((1u << QS_R_COUNT) - 1u) & ~1u)

/* The kind's name ("hist", "bits", ...), "?" out of range. */
const char *qs_result_kind_name(qs_result_kind k);

/* QS_OK when res has the shape kind k promises, else QS_ERR with the first key that is
 * missing or has the wrong type. The generic kinds (TRACE, QPARAMS, STATS, TABLE, OBJECT)
 * also refuse an object that has a special kind's shape (TEXT, HELP, HIST, BITS), so the
 * kind a face dispatches on is never weaker than the shape of the result. */
int qs_result_check(qs_result_kind k, const json_t *res, qs_err *err);

/* The kind to draw res as, given the row's mask: the first kind of the mask (in enum order)
 * whose check passes; QS_R_OBJECT when none does (and res is an object); QS_R_NONE when res
 * is not an object. A mask of QS_RK_ALL classifies by shape alone (a result of no row). */
qs_result_kind qs_result_kind_of(unsigned kinds, const json_t *res);

/* A histogram (QS_R_HIST). The arrays are owned by the view (qs_hist_view_free). */
typedef struct qs_hist_view {
    size_t n;               /* bins */
    long long *counts;      /* n counts */
    double *edges;          /* n + 1 bin edges */
    int log;                /* the bars are on a log scale (key "log") */
    long long under, over, nan; /* values below, above the range, and NaN (0 when absent) */
} qs_hist_view;
int qs_hist_view_get(const json_t *res, qs_hist_view *v, qs_err *err);
void qs_hist_view_free(qs_hist_view *v);

/* One value in a number format (QS_R_BITS). Strings are borrowed from res (NULL when the key
 * is absent or null): valid while res is. */
typedef struct qs_bits_view {
    const char *format, *hex;
    const char *sign_bits;      /* NULL for a format without a sign field text */
    int has_sign;               /* key "sign" present */
    long long sign;             /* its value */
    const char *exponent_bits, *mantissa_bits;  /* NULL for an integer format */
} qs_bits_view;
int qs_bits_view_get(const json_t *res, qs_bits_view *v, qs_err *err);

/* A derivation's steps (the "steps" array of QS_R_TRACE). Strings borrowed from res;
 * `result` is a scalar JSON value (number, string, true/false/null), an array of scalars, or
 * NULL. */
typedef struct qs_trace_step {
    const char *title, *formula, *substituted, *note;
    const json_t *result;
} qs_trace_step;
typedef struct qs_trace_view {
    size_t n;
    qs_trace_step *steps;       /* owned by the view (qs_trace_view_free) */
} qs_trace_view;
/* steps: the array itself (json_object_get(res, "steps")). */
int qs_trace_view_get(const json_t *steps, qs_trace_view *v, qs_err *err);
void qs_trace_view_free(qs_trace_view *v);

/* A scheme's parameters on a tensor (QS_R_QPARAMS). Arrays are owned by the view
 * (qs_qparams_view_free); strings are borrowed from res (NULL when absent). A key that is a
 * single number is read as an array of one; a null entry reads NaN. */
typedef struct qs_qparams_view {
    const char *label, *granularity, *format, *element, *axis_reason, *warning;
    size_t nscale, nzp, nclip;  /* entries of scale, zero_point, clip_min (= clip_max) */
    double *scale, *clip_min, *clip_max;
    long long *zero_point;      /* integers */
    double qmin, qmax;          /* NaN when null (a float element format) or absent */
    double elem_max;            /* the element format's largest value (MX), NaN when absent */
    long long block, nparams;   /* 0 when absent */
    int has_block;              /* key "block" present */
    int has_codebook;           /* key "codebook" present (NF4, FP4) */
    size_t nbook;
    double *book;               /* its values */
} qs_qparams_view;
int qs_qparams_view_get(const json_t *res, qs_qparams_view *v, qs_err *err);
void qs_qparams_view_free(qs_qparams_view *v);
/* Entry i of an array of n, entry 0 when i >= n, NaN when n == 0 (a per-channel parameter of
 * set i; per-tensor parameters have one entry). */
double qs_view_at(const double *a, size_t n, size_t i);
/* The same for the zero points (dflt when there are none). */
double qs_view_zp(const qs_qparams_view *v, size_t i, double dflt);

#endif
