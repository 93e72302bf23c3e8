/* cmd_llm.c — the LLM-era method commands (issue 17) on the current tensor as a weight matrix
 * W [rows × in] (in = the last dimension): `rotate`, `smoothquant`, `llmint8`, `gptq`, `awq`.
 * The methods that need calibration activations build them here: a seeded N(0, 1) matrix
 * X [n × in] with K planted outlier channels scaled by S — labelled as synthetic in every
 * result, since a loaded weight file carries no activations. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/cmd.h"
#include "qscope/ggml.h"
#include "qscope/imatrix.h"
#include "qscope/llmq.h"
#include "qscope/synth.h"
#include "llm_acts.h"

extern const qs_cmd qs_cmds_llm[];

static const qs_cmd *row_of(const char *name)
{
    return qs_cmd_find(name);
}

/* ---- the weight view and the synthetic activations ------------------------------------- */

typedef struct wview {
    const float *W;     /* the current tensor's data */
    int out, in;        /* rows and row length */
} wview;

static int weight_view(qs_session *s, const char *cmd, wview *v, qs_err *err)
{
    if (qs_need_tensor(s, cmd, err) != QS_OK) return QS_ERR;
    const qs_tensor *t = s->tensor;
    int64_t in = t->ndim > 0 ? t->shape[t->ndim - 1] : 1, out = in > 0 ? t->n / in : 0;
    if (in < 1 || out < 1 || in > 65536 || out > 1 << 24)
        return qs_err_set(err, "%s: the tensor is not a usable [rows × in] matrix", cmd);
    v->W = t->data;
    v->out = (int)out;
    v->in = (int)in;
    for (int64_t i = 0; i < t->n; i++)
        if (!isfinite(t->data[i]))
            return qs_err_set(err, "%s: the tensor holds NaN or Inf (element %lld)", cmd,
                              (long long)i);
    return QS_OK;
}

typedef struct acts {
    float *X;           /* [n × in] */
    int n;              /* rows */
    int k;              /* planted outlier channels */
    double scale;       /* their multiplier */
    uint64_t seed;      /* seed */
    int chan[64];       /* the planted channels (first 64) */
    char label[200];    /* what they are, for the result */
} acts;


static int make_acts(int argc, char **argv, int in, int def_k, acts *a, qs_err *err)
{
    long long n = 256, k = def_k, seed = 1;
    a->scale = 20.0;
    if (qs_arg_int(argc, argv, "n", 1, 1 << 16, &n, err) != QS_OK ||
        qs_arg_int(argc, argv, "outliers", 0, in < 64 ? in : 64, &k, err) != QS_OK ||
        qs_arg_double(argc, argv, "oscale", 0.0, 1e6, &a->scale, err) != QS_OK ||
        qs_arg_int(argc, argv, "seed", 0, (long long)1 << 62, &seed, err) != QS_OK)
        return QS_ERR;
    if (k > in) k = in;     /* the default 4 on a narrower matrix: every column planted */
    if ((double)n * in > 5e7) return qs_err_set(err, "n=%lld: %lld × %d activations are too "
                                                "many (at most 5·10^7)", n, n, in);
    a->n = (int)n;
    a->k = (int)k;
    a->seed = (uint64_t)seed;
    a->X = malloc((size_t)n * in * sizeof *a->X);
    if (!a->X) return qs_err_set(err, "out of memory for %lld × %d activations", n, in);
    qs_rng r;
    qs_rng_seed(&r, a->seed);
    for (int64_t i = 0; i < n * in; i++) a->X[i] = (float)qs_rng_normal(&r);
    /* distinct planted channels: a seeded partial shuffle */
    int *idx = malloc((size_t)in * sizeof *idx);
    if (!idx) { free(a->X); a->X = NULL; return qs_err_set(err, "out of memory"); }
    for (int j = 0; j < in; j++) idx[j] = j;
    for (int i = 0; i < a->k; i++) {
        int j = i + (int)(qs_rng_u64(&r) % (uint64_t)(in - i));
        int t = idx[i]; idx[i] = idx[j]; idx[j] = t;
        a->chan[i] = idx[i];
        for (int t2 = 0; t2 < a->n; t2++) a->X[(size_t)t2 * in + idx[i]] *= (float)a->scale;
    }
    free(idx);
    snprintf(a->label, sizeof a->label, "synthetic activations: %d rows of N(0,1) with %d planted "
             "outlier channel%s ×%g (seed %llu) — not a model's activations", a->n, a->k,
             a->k == 1 ? "" : "s", a->scale, (unsigned long long)a->seed);
    return QS_OK;
}

/* Held-out activations: n fresh rows of the same distribution (N(0, 1) from seed S's
 * held-out stream, the same planted channels scaled the same way). A method fitted to the
 * calibration rows (GPTQ's Hessian, AWQ's scales, SmoothQuant's maxima) is scored on rows it
 * has not seen: on the calibration rows alone a gain can be fitted sampling noise. */
float *qs_llm_heldout(const float *X, int n, int in, uint64_t seed, const int *chan, int k,
                      double scale)
{
    (void)X;
    float *H = malloc((size_t)n * in * sizeof *H);
    if (!H) return NULL;
    qs_rng r;
    qs_rng_seed(&r, seed ^ 0x9e3779b97f4a7c15ULL);
    for (int64_t i = 0; i < (int64_t)n * in; i++) H[i] = (float)qs_rng_normal(&r);
    for (int i = 0; i < k && i < 64; i++)
        for (int t = 0; t < n; t++) H[(size_t)t * in + chan[i]] *= (float)scale;
    return H;
}
static float *heldout_of(const acts *a, int in)
{
    return qs_llm_heldout(a->X, a->n, in, a->seed, a->chan, a->k, a->scale);
}
#define HELDOUT_NOTE "; heldout_*: the same on n fresh rows of the same distribution (the " \
    "seed's held-out stream, the same planted channels) that the method never saw"

static void acts_into(json_t *o, const acts *a)
{
    json_object_set_new(o, "activations", json_string(a->label));
    json_t *c = json_array();
    for (int i = 0; i < a->k && i < 64; i++) json_array_append_new(c, json_integer(a->chan[i]));
    json_object_set_new(o, "outlier_channels", c);
}

static json_t *steps_json(const qs_trace *tr)
{
    json_t *steps = json_array();
    for (int i = 0; i < tr->n; i++) {
        const qs_step *st = &tr->steps[i];
        json_t *j = json_object();
        json_object_set_new(j, "title", json_string(st->title));
        json_object_set_new(j, "formula", json_string(st->formula));
        json_object_set_new(j, "substituted", json_string(st->substituted));
        json_object_set_new(j, "result", json_string(st->result));
        json_object_set_new(j, "note", json_string(st->note));
        qs_json_set_real(j, "value", st->value);
        if (st->part > 0) json_object_set_new(j, "part", json_integer(st->part));
        json_array_append_new(steps, j);
    }
    return steps;
}

/* output SQNR of Y against the fp32 X·Wᵀ */
static double y_sqnr(const float *X, int n, const float *W, int out, int in, const float *Y)
{
    double sq;
    qs_llmq_y_err(X, n, W, out, in, Y, NULL, &sq);
    return sq;
}

static int parse_grid(int argc, char **argv, qs_wq *q, int def_bits, int def_group, qs_err *err)
{
    long long bits = def_bits, group = def_group;
    if (qs_arg_int(argc, argv, "bits", 2, 8, &bits, err) != QS_OK ||
        qs_arg_int(argc, argv, "group", 0, 1 << 20, &group, err) != QS_OK)
        return QS_ERR;
    q->bits = (int)bits;
    q->group = (int)group;
    q->sym = qs_arg_flag(argc, argv, "sym");
    return QS_OK;
}

static void grid_label(const qs_wq *q, int in, char *buf, size_t len)
{
    if (q->group > 0 && q->group >= in)
        snprintf(buf, len, "int%d %s per-row (group %d covers the row of %d)", q->bits,
                 q->sym ? "sym" : "asym", q->group, in);
    else if (q->group > 0) snprintf(buf, len, "int%d %s per-group %d", q->bits, q->sym ? "sym" : "asym",
                               q->group);
    else snprintf(buf, len, "int%d %s per-row", q->bits, q->sym ? "sym" : "asym");
}

/* ---- rotate ---------------------------------------------------------------------------- */

static int run_rotate(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    static const char *const keys[] = {"seed", "bits", NULL}, *const flags[] = {"apply", NULL};
    if (qs_arg_check(row_of("rotate"), argc, argv, keys, flags, 0, err) != QS_OK) return QS_ERR;
    wview v;
    if (weight_view(s, "rotate", &v, err) != QS_OK) return QS_ERR;
    long long seed = 1, bits = 4;
    if (qs_arg_int(argc, argv, "seed", 0, (long long)1 << 62, &seed, err) != QS_OK ||
        qs_arg_int(argc, argv, "bits", 2, 8, &bits, err) != QS_OK)
        return QS_ERR;
    size_t nw = (size_t)v.out * v.in;
    float *d = malloc((size_t)v.in * sizeof *d), *Wr = malloc(nw * sizeof *Wr);
    float *Q = malloc(nw * sizeof *Q), *X = NULL;
    int rc = QS_ERR;
    if (!d || !Wr || !Q) { qs_err_set(err, "rotate: out of memory"); goto done; }
    qs_rot_signs((uint64_t)seed, v.in, d);
    memcpy(Wr, v.W, nw * sizeof *Wr);
    if (qs_rot_apply(Wr, v.out, v.in, d, err) != QS_OK) goto done;
    double k0, a0, k1, a1, e0 = 0, e1 = 0, p = 0;
    qs_llmq_kurtosis(v.W, (int64_t)nw, &k0, &a0);
    qs_llmq_kurtosis(Wr, (int64_t)nw, &k1, &a1);
    qs_wq q = {(int)bits, 1, 0, 0};
    /* weight-space SQNR at `bits` (sym per row); the rotation is orthogonal, so the error
     * measured on the rotated weights is the error of the rotated-back weights */
    qs_wq_rtn(&q, v.W, v.out, v.in, Q, err);
    for (size_t i = 0; i < nw; i++) { e0 += ((double)Q[i] - v.W[i]) * ((double)Q[i] - v.W[i]);
                                      p += (double)v.W[i] * v.W[i]; }
    qs_wq_rtn(&q, Wr, v.out, v.in, Q, err);
    for (size_t i = 0; i < nw; i++) e1 += ((double)Q[i] - Wr[i]) * ((double)Q[i] - Wr[i]);
    /* fp32 check: 16 seeded rows X, (XQ)(WQ)ᵀ against XWᵀ */
    int nx = 16;
    X = malloc((size_t)nx * v.in * sizeof *X);
    if (!X) { qs_err_set(err, "rotate: out of memory"); goto done; }
    qs_rng r;
    qs_rng_seed(&r, (uint64_t)seed + 1);
    for (size_t i = 0; i < (size_t)nx * v.in; i++) X[i] = (float)qs_rng_normal(&r);
    double worst = 0.0, big = 0.0;
    int orow = v.out < 64 ? v.out : 64;
    float *Xr = malloc((size_t)nx * v.in * sizeof *Xr);
    if (!Xr) { qs_err_set(err, "rotate: out of memory"); goto done; }
    memcpy(Xr, X, (size_t)nx * v.in * sizeof *Xr);
    qs_rot_apply(Xr, nx, v.in, d, err);
    for (int t = 0; t < nx; t++)
        for (int o = 0; o < orow; o++) {
            float y = 0.0f, yr = 0.0f;     /* fp32 accumulations, as a model would run */
            for (int j = 0; j < v.in; j++) {
                y += X[(size_t)t * v.in + j] * v.W[(size_t)o * v.in + j];
                yr += Xr[(size_t)t * v.in + j] * Wr[(size_t)o * v.in + j];
            }
            worst = fmax(worst, fabs((double)y - yr));
            big = fmax(big, fabs((double)y));
        }
    free(Xr);
    json_t *o = json_object();
    json_object_set_new(o, "rows", json_integer(v.out));
    json_object_set_new(o, "in", json_integer(v.in));
    json_object_set_new(o, "seed", json_integer(seed));
    json_object_set_new(o, "transform", json_string(
        "W·Q with Q = diag(±1 signs of the seed) · H / sqrt(in) (Walsh-Hadamard): orthogonal, "
        "so (X·Q)·(W·Q)ᵀ = X·Wᵀ"));
    qs_json_set_real(o, "kurtosis_before", k0);
    qs_json_set_real(o, "kurtosis_after", k1);
    qs_json_set_real(o, "absmax_before", a0);
    qs_json_set_real(o, "absmax_after", a1);
    char gl[64];
    grid_label(&q, v.in, gl, sizeof gl);
    json_object_set_new(o, "grid", json_string(gl));
    qs_json_set_real(o, "sqnr_before_db", e0 > 0 ? 10 * log10(p / e0) : INFINITY);
    qs_json_set_real(o, "sqnr_after_db", e1 > 0 ? 10 * log10(p / e1) : INFINITY);
    qs_json_set_real(o, "sqnr_gain_db", e0 > 0 && e1 > 0 ? 10 * log10(e0 / e1) : NAN);
    qs_json_set_real(o, "fp32_max_output_change", worst);
    qs_json_set_real(o, "fp32_output_scale", big);
    json_object_set_new(o, "kurtosis", json_string("Pearson: E[(x-μ)^4]/σ^4, 3 for a Gaussian"));
    if (qs_arg_flag(argc, argv, "apply")) {
        memcpy(s->tensor->data, Wr, nw * sizeof *Wr);
        qs_session_touch(s);
        json_object_set_new(o, "applied", json_string("the current tensor now holds W·Q "
                                                      "('hist' shows the new distribution)"));
    }
    *out = o;
    rc = QS_OK;
done:
    free(d); free(Wr); free(Q); free(X);
    return rc;
}

/* ---- smoothquant ------------------------------------------------------------------------- */

static int run_smoothquant(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    static const char *const keys[] = {"alpha", "channel", "act", "n", "outliers", "oscale",
                                       "seed", NULL};
    if (qs_arg_check(row_of("smoothquant"), argc, argv, keys, NULL, 0, err) != QS_OK)
        return QS_ERR;
    wview v;
    if (weight_view(s, "smoothquant", &v, err) != QS_OK) return QS_ERR;
    double alpha = 0.5;
    long long ch = -1;
    if (qs_arg_double(argc, argv, "alpha", 0.0, 1.0, &alpha, err) != QS_OK ||
        qs_arg_int(argc, argv, "channel", 0, v.in - 1, &ch, err) != QS_OK)
        return QS_ERR;
    const char *act = qs_arg_kv(argc, argv, "act");
    int per_tensor = 0;
    if (act && strcmp(act, "per-token") && strcmp(act, "per-tensor"))
        return qs_err_set(err, "act=%s: expected per-token or per-tensor", act);
    if (act && !strcmp(act, "per-tensor")) per_tensor = 1;
    acts a;
    memset(&a, 0, sizeof a);
    if (make_acts(argc, argv, v.in, 4, &a, err) != QS_OK) return QS_ERR;
    size_t nw = (size_t)v.out * v.in, nx = (size_t)a.n * v.in;
    float *sc = malloc((size_t)v.in * sizeof *sc), *ax = malloc((size_t)v.in * sizeof *ax);
    float *aw = malloc((size_t)v.in * sizeof *aw), *Xs = malloc(nx * sizeof *Xs);
    float *Ws = malloc(nw * sizeof *Ws), *Y = malloc((size_t)a.n * v.out * sizeof *Y);
    int rc = QS_ERR;
    if (!sc || !ax || !aw || !Xs || !Ws || !Y) { qs_err_set(err, "smoothquant: out of memory");
                                                 goto done; }
    if (qs_smooth_scales(a.X, a.n, v.W, v.out, v.in, alpha, sc, ax, aw, err) != QS_OK) goto done;
    for (int t = 0; t < a.n; t++)
        for (int j = 0; j < v.in; j++) Xs[(size_t)t * v.in + j] = a.X[(size_t)t * v.in + j] / sc[j];
    for (int o2 = 0; o2 < v.out; o2++)
        for (int j = 0; j < v.in; j++) Ws[(size_t)o2 * v.in + j] = v.W[(size_t)o2 * v.in + j] * sc[j];
    if (qs_w8a8(a.X, a.n, v.W, v.out, v.in, per_tensor, Y, err) != QS_OK) goto done;
    double s_plain = y_sqnr(a.X, a.n, v.W, v.out, v.in, Y);
    if (qs_w8a8(Xs, a.n, Ws, v.out, v.in, per_tensor, Y, err) != QS_OK) goto done;
    double s_smooth = y_sqnr(a.X, a.n, v.W, v.out, v.in, Y);
    double mx0 = 0, mx1 = 0, mw0 = 0, mw1 = 0;
    for (size_t i = 0; i < nx; i++) { mx0 = fmax(mx0, fabs((double)a.X[i])); mx1 = fmax(mx1, fabs((double)Xs[i])); }
    for (size_t i = 0; i < nw; i++) { mw0 = fmax(mw0, fabs((double)v.W[i])); mw1 = fmax(mw1, fabs((double)Ws[i])); }
    json_t *o = json_object();
    acts_into(o, &a);
    json_object_set_new(o, "matrix", json_pack("[ii]", v.out, v.in));
    qs_json_set_real(o, "alpha", alpha);
    json_object_set_new(o, "w8a8", json_string(per_tensor
        ? "int8 absmax per tensor for X, per output row for W"
        : "int8 absmax per token (row of X), per output row for W"));
    qs_json_set_real(o, "sqnr_w8a8_db", s_plain);
    qs_json_set_real(o, "sqnr_smoothed_db", s_smooth);
    qs_json_set_real(o, "absmax_x_before", mx0);
    qs_json_set_real(o, "absmax_x_after", mx1);
    qs_json_set_real(o, "absmax_w_before", mw0);
    qs_json_set_real(o, "absmax_w_after", mw1);
    /* the channel the trace follows: the given one, else the first planted outlier */
    int j = ch >= 0 ? (int)ch : a.k > 0 ? a.chan[0] : 0;
    int planted = 0;
    for (int i = 0; i < a.k; i++) planted |= a.chan[i] == j;
    qs_trace tr;
    memset(&tr, 0, sizeof tr);
    qs_smooth_trace(ax[j], aw[j], sc[j], j, alpha, a.n, v.out, planted, &tr);
    json_object_set_new(o, "channel", json_integer(j));
    json_object_set_new(o, "steps", steps_json(&tr));
    qs_trace_fini(&tr);
    *out = o;
    rc = QS_OK;
done:
    free(a.X); free(sc); free(ax); free(aw); free(Xs); free(Ws); free(Y);
    return rc;
}

/* ---- llmint8 ------------------------------------------------------------------------------ */

static int run_llmint8(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    static const char *const keys[] = {"threshold", "n", "outliers", "oscale", "seed", NULL};
    if (qs_arg_check(row_of("llmint8"), argc, argv, keys, NULL, 0, err) != QS_OK)
        return QS_ERR;
    wview v;
    if (weight_view(s, "llmint8", &v, err) != QS_OK) return QS_ERR;
    double thr = 6.0;
    if (qs_arg_double(argc, argv, "threshold", 0.0, 1e30, &thr, err) != QS_OK) return QS_ERR;
    acts a;
    memset(&a, 0, sizeof a);
    if (make_acts(argc, argv, v.in, 4, &a, err) != QS_OK) return QS_ERR;
    float *Y = malloc((size_t)a.n * v.out * sizeof *Y);
    uint8_t *keep = malloc((size_t)v.in);
    int rc = QS_ERR, nk = 0;
    if (!Y || !keep) { qs_err_set(err, "llmint8: out of memory"); goto done; }
    if (qs_w8a8(a.X, a.n, v.W, v.out, v.in, 0, Y, err) != QS_OK) goto done;
    double s8 = y_sqnr(a.X, a.n, v.W, v.out, v.in, Y);
    if (qs_llmint8(a.X, a.n, v.W, v.out, v.in, thr, Y, keep, &nk, err) != QS_OK) goto done;
    double sm = y_sqnr(a.X, a.n, v.W, v.out, v.in, Y);
    json_t *o = json_object();
    acts_into(o, &a);
    qs_json_set_real(o, "threshold", thr);
    json_object_set_new(o, "kept_columns", json_integer(nk));
    qs_json_set_real(o, "kept_fraction", (double)nk / v.in);
    json_t *kc = json_array();
    for (int j = 0, c = 0; j < v.in && c < 64; j++)
        if (keep[j]) { json_array_append_new(kc, json_integer(j)); c++; }
    json_object_set_new(o, "kept", kc);
    /* cost of the weights: int8 columns + fp16 outlier columns + an fp32 scale per row */
    double bpw = ((double)(v.in - nk) * 8.0 + nk * 16.0) / v.in + 32.0 / v.in;
    qs_json_set_real(o, "bits_per_weight", bpw);
    json_object_set_new(o, "columns", json_integer(v.in));
    /* plain vector-wise int8 on the same matrix: 8 bits plus the same fp32 scale per row */
    qs_json_set_real(o, "bits_per_weight_int8", 8.0 + 32.0 / v.in);
    json_object_set_new(o, "cost", json_string(
        "kept columns stored in fp16 (16 bits), the rest int8, plus one fp32 scale per output "
        "row; the outlier product runs in floating point (fp32 here)"));
    qs_json_set_real(o, "sqnr_int8_db", s8);
    qs_json_set_real(o, "sqnr_llmint8_db", sm);
    json_object_set_new(o, "int8", json_string("vector-wise: int8 absmax per row of X and per "
                                               "output row of W"));
    *out = o;
    rc = QS_OK;
done:
    free(a.X); free(Y); free(keep);
    return rc;
}

/* ---- gptq --------------------------------------------------------------------------------- */

static int run_gptq(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    static const char *const keys[] = {"bits", "group", "damp", "blocksize", "trace", "n",
                                       "outliers", "oscale", "seed", NULL};
    static const char *const flags[] = {"sym", "actorder", "apply", NULL};
    if (qs_arg_check(row_of("gptq"), argc, argv, keys, flags, 0, err) != QS_OK) return QS_ERR;
    wview v;
    if (weight_view(s, "gptq", &v, err) != QS_OK) return QS_ERR;
    qs_gptq_opts go;
    qs_gptq_defaults(&go);
    long long bs = 128, tc = 2;
    if (parse_grid(argc, argv, &go.q, 4, 128, err) != QS_OK ||
        qs_arg_double(argc, argv, "damp", 0.0, 10.0, &go.percdamp, err) != QS_OK ||
        qs_arg_int(argc, argv, "blocksize", 1, 4096, &bs, err) != QS_OK ||
        qs_arg_int(argc, argv, "trace", 0, 16, &tc, err) != QS_OK)
        return QS_ERR;
    if ((double)v.in * v.in * (v.out + 64.0) > 2e10 || v.in > 8192)
        return qs_err_set(err, "gptq: a %d × %d matrix is too large for this demonstration "
                          "(in² · rows at most 2·10^10)", v.out, v.in);
    go.blocksize = (int)bs;
    go.actorder = qs_arg_flag(argc, argv, "actorder");
    go.trace_cols = (int)tc;
    acts a;
    memset(&a, 0, sizeof a);
    if (make_acts(argc, argv, v.in, 4, &a, err) != QS_OK) return QS_ERR;
    size_t nw = (size_t)v.out * v.in;
    float *Q = malloc(nw * sizeof *Q), *R = malloc(nw * sizeof *R);
    qs_trace tr;
    memset(&tr, 0, sizeof tr);
    go.trace = tc > 0 ? &tr : NULL;
    int rc = QS_ERR;
    double loss = 0, eg, er, sg, sr;
    if (!Q || !R) { qs_err_set(err, "gptq: out of memory"); goto done; }
    if (qs_gptq(a.X, a.n, v.W, v.out, v.in, &go, Q, &loss, err) != QS_OK) goto done;
    if (qs_wq_rtn(&go.q, v.W, v.out, v.in, R, err) != QS_OK) goto done;
    qs_llmq_out_err(a.X, a.n, v.W, Q, v.out, v.in, &eg, &sg);
    qs_llmq_out_err(a.X, a.n, v.W, R, v.out, v.in, &er, &sr);
    double hg = NAN, hr = NAN;
    float *H = heldout_of(&a, v.in);
    if (!H) { qs_err_set(err, "gptq: out of memory"); goto done; }
    qs_llmq_out_err(H, a.n, v.W, Q, v.out, v.in, NULL, &hg);
    qs_llmq_out_err(H, a.n, v.W, R, v.out, v.in, NULL, &hr);
    free(H);
    json_t *o = json_object();
    acts_into(o, &a);
    json_object_set_new(o, "matrix", json_pack("[ii]", v.out, v.in));
    char gl[64];
    grid_label(&go.q, v.in, gl, sizeof gl);
    json_object_set_new(o, "grid", json_string(gl));
    qs_json_set_real(o, "damp", go.percdamp);
    json_object_set_new(o, "blocksize", json_integer(go.blocksize));
    json_object_set_new(o, "actorder", json_boolean(go.actorder));
    qs_json_set_real(o, "rtn_out_mse", er);
    qs_json_set_real(o, "gptq_out_mse", eg);
    qs_json_set_real(o, "rtn_out_sqnr_db", sr);
    qs_json_set_real(o, "gptq_out_sqnr_db", sg);
    qs_json_set_real(o, "heldout_rtn_out_sqnr_db", hr);
    qs_json_set_real(o, "heldout_gptq_out_sqnr_db", hg);
    qs_json_set_real(o, "gptq_loss", loss);
    json_object_set_new(o, "measure", json_string(
        "output error of X·Wᵀ on the calibration activations (mean square over rows × "
        "outputs); RTN = the same grid rounded to nearest" HELDOUT_NOTE));
    if (tc > 0) {
        /* the columns traced (parts): the first trace=C, or all when the matrix is narrower */
        json_object_set_new(o, "parts", json_integer(tc < v.in ? tc : v.in));
        json_object_set_new(o, "steps", steps_json(&tr));
    }
    if (qs_arg_flag(argc, argv, "apply")) {
        memcpy(s->tensor->data, Q, nw * sizeof *Q);
        qs_session_touch(s);
        json_object_set_new(o, "applied", json_string("the current tensor now holds the GPTQ "
                                                      "weights (dequantized)"));
    }
    *out = o;
    rc = QS_OK;
done:
    qs_trace_fini(&tr);
    free(a.X); free(Q); free(R);
    return rc;
}

/* ---- awq ---------------------------------------------------------------------------------- */

static int run_awq(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    static const char *const keys[] = {"bits", "group", "grid", "n", "outliers", "oscale",
                                       "seed", NULL};
    static const char *const flags[] = {"sym", "apply", "noclip", NULL};
    if (qs_arg_check(row_of("awq"), argc, argv, keys, flags, 0, err) != QS_OK) return QS_ERR;
    wview v;
    if (weight_view(s, "awq", &v, err) != QS_OK) return QS_ERR;
    qs_wq q = {4, 0, 128, 1};
    long long grid = 20;
    if (parse_grid(argc, argv, &q, 4, 128, err) != QS_OK ||
        qs_arg_int(argc, argv, "grid", 1, 100, &grid, err) != QS_OK)
        return QS_ERR;
    q.style = 1;
    acts a;
    memset(&a, 0, sizeof a);
    if (make_acts(argc, argv, v.in, 4, &a, err) != QS_OK) return QS_ERR;
    size_t nw = (size_t)v.out * v.in;
    float *Q = malloc(nw * sizeof *Q), *sc = malloc((size_t)v.in * sizeof *sc);
    double *losses = malloc((size_t)grid * sizeof *losses), ratio = 0, sa, sr, ma, ss;
    int rc = QS_ERR, clip = !qs_arg_flag(argc, argv, "noclip"), nclip = 0;
    int gs = q.group > 0 && q.group < v.in ? q.group : v.in;
    if (!Q || !sc || !losses) { qs_err_set(err, "awq: out of memory"); goto done; }
    if (qs_awq(a.X, a.n, v.W, v.out, v.in, &q, (int)grid, Q, sc, losses, &ratio, err) != QS_OK)
        goto done;
    qs_llmq_out_err(a.X, a.n, v.W, Q, v.out, v.in, NULL, &ss);
    /* llm-awq's clipping search on the scaled layer (n_grid 20, max_shrink 0.5, 512 rows) */
    if (clip && qs_awq_clip(a.X, a.n, v.W, v.out, v.in, &q, sc, 20, 0.5, 512, Q, NULL, &nclip,
                            err) != QS_OK)
        goto done;
    qs_llmq_out_err(a.X, a.n, v.W, Q, v.out, v.in, &ma, &sa);
    json_t *o = json_object();
    acts_into(o, &a);
    char gl[64];
    grid_label(&q, v.in, gl, sizeof gl);
    json_object_set_new(o, "grid", json_string(gl));
    qs_json_set_real(o, "best_ratio", ratio);
    qs_json_set_real(o, "rtn_out_mse", losses[0]);
    qs_json_set_real(o, "scale_out_mse", losses[(int)lround(ratio * (double)grid)]);
    qs_json_set_real(o, "scale_out_sqnr_db", ss);
    json_object_set_new(o, "clip", json_boolean(clip));
    if (clip) {
        json_object_set_new(o, "clipped_ranges", json_integer(nclip));
        json_object_set_new(o, "ranges", json_integer((long long)v.out * ((v.in + gs - 1) / gs)));
    }
    qs_json_set_real(o, "awq_out_mse", ma);
    sr = NAN;
    {
        float *R = malloc(nw * sizeof *R);
        if (R && qs_wq_rtn(&q, v.W, v.out, v.in, R, err) == QS_OK)
            qs_llmq_out_err(a.X, a.n, v.W, R, v.out, v.in, NULL, &sr);
        free(R);
    }
    qs_json_set_real(o, "rtn_out_sqnr_db", sr);
    qs_json_set_real(o, "awq_out_sqnr_db", sa);
    {
        double hr = NAN, ha = NAN;
        float *H = heldout_of(&a, v.in), *R = malloc(nw * sizeof *R);
        if (H && R && qs_wq_rtn(&q, v.W, v.out, v.in, R, err) == QS_OK) {
            qs_llmq_out_err(H, a.n, v.W, R, v.out, v.in, NULL, &hr);
            qs_llmq_out_err(H, a.n, v.W, Q, v.out, v.in, NULL, &ha);
        }
        free(H); free(R);
        qs_json_set_real(o, "heldout_rtn_out_sqnr_db", hr);
        qs_json_set_real(o, "heldout_awq_out_sqnr_db", ha);
    }
    json_t *cx = json_array(), *cy = json_array();
    for (int k = 0; k < grid; k++) {
        json_array_append_new(cx, qs_json_real((double)k / (double)grid));
        json_array_append_new(cy, qs_json_real(losses[k]));
    }
    json_t *curve = json_object();
    json_object_set_new(curve, "x_label", json_string("ratio α"));
    json_object_set_new(curve, "y_label", json_string("output mse"));
    json_object_set_new(curve, "x", cx);
    json_object_set_new(curve, "y", cy);
    json_object_set_new(curve, "best", json_integer(lround(ratio * (double)grid)));
    json_object_set_new(curve, "points", json_integer(grid));
    json_object_set_new(o, "curve", curve);
    double smin = INFINITY, smax = 0;
    for (int j = 0; j < v.in; j++) { smin = fmin(smin, sc[j]); smax = fmax(smax, sc[j]); }
    qs_json_set_real(o, "scale_min", smin);
    qs_json_set_real(o, "scale_max", smax);
    json_object_set_new(o, "rule", json_string(
        "s_j = mean_t |X_tj|^α, normalised by sqrt(max s · min s); W·s rounded to nearest "
        "(llm-awq pseudo_quantize), then divided by s; α from a grid of 20 in [0, 1) by the "
        "output mse; α = 0 is plain round-to-nearest. Then (unless noclip) llm-awq's clipping "
        "search: each row's group range of W·s shrunk to max|w|·(1 - i/20), i = 0..9, the "
        "one with the least mse of the group's output on X/s kept" HELDOUT_NOTE));
    if (qs_arg_flag(argc, argv, "apply")) {
        memcpy(s->tensor->data, Q, nw * sizeof *Q);
        qs_session_touch(s);
        json_object_set_new(o, "applied", json_string("the current tensor now holds the AWQ "
                                                      "weights (dequantized)"));
    }
    *out = o;
    rc = QS_OK;
done:
    free(a.X); free(Q); free(sc); free(losses);
    return rc;
}

/* ---- imatrix ------------------------------------------------------------------------------ */

static int run_imatrix(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    static const char *const keys[] = {"type", "n", "outliers", "oscale", "seed", NULL};
    static const char *const flags[] = {"apply", NULL};
    if (qs_arg_check(row_of("imatrix"), argc, argv, keys, flags, 0, err) != QS_OK)
        return QS_ERR;
    wview v;
    if (weight_view(s, "imatrix", &v, err) != QS_OK) return QS_ERR;
    const char *ty = qs_arg_kv(argc, argv, "type");
    int id = ty ? qs_ggml_type_by_name(ty) : QS_GGML_Q4_K;
    if (id != QS_GGML_Q4_0 && id != QS_GGML_Q4_K && id != QS_GGML_Q6_K)
        return qs_err_set(err, "type=%s: expected q4_0, q4_k or q6_k", ty ? ty : "?");
    const qs_ggml_type *gt = qs_ggml_type_info(id);
    if (v.in % gt->block)
        return qs_err_set(err, "imatrix: rows of %d are not whole %s blocks of %d (llama.cpp "
                          "needs that too; try type=q4_0 for rows of 32·k)", v.in, gt->name,
                          gt->block);
    acts a;
    memset(&a, 0, sizeof a);
    if (make_acts(argc, argv, v.in, 4, &a, err) != QS_OK) return QS_ERR;
    size_t nw = (size_t)v.out * v.in;
    float *im = malloc((size_t)v.in * sizeof *im), *Y0 = malloc(nw * sizeof *Y0);
    float *Y1 = malloc(nw * sizeof *Y1);
    int rc = QS_ERR;
    if (!im || !Y0 || !Y1) { qs_err_set(err, "imatrix: out of memory"); goto done; }
    if (qs_imatrix_from_acts(a.X, a.n, v.in, im, err) != QS_OK ||
        qs_ggml_quantize_imatrix(id, v.W, v.out, v.in, NULL, Y0, err) != QS_OK ||
        qs_ggml_quantize_imatrix(id, v.W, v.out, v.in, im, Y1, err) != QS_OK)
        goto done;
    double m0, m1, s0, s1, w0 = 0, w1 = 0;
    qs_llmq_out_err(a.X, a.n, v.W, Y0, v.out, v.in, &m0, &s0);
    qs_llmq_out_err(a.X, a.n, v.W, Y1, v.out, v.in, &m1, &s1);
    for (size_t i = 0; i < nw; i++) {
        double d0 = (double)Y0[i] - v.W[i], d1 = (double)Y1[i] - v.W[i];
        w0 += im[i % (size_t)v.in] * d0 * d0;
        w1 += im[i % (size_t)v.in] * d1 * d1;
    }
    json_t *o = json_object();
    acts_into(o, &a);
    json_object_set_new(o, "type", json_string(gt->name));
    double imin_ = INFINITY, imax_ = 0;
    for (int j = 0; j < v.in; j++) { imin_ = fmin(imin_, im[j]); imax_ = fmax(imax_, im[j]); }
    qs_json_set_real(o, "imatrix_min", imin_);
    qs_json_set_real(o, "imatrix_max", imax_);
    qs_json_set_real(o, "weighted_err_ref", w0);
    qs_json_set_real(o, "weighted_err_imatrix", w1);
    qs_json_set_real(o, "out_mse_ref", m0);
    qs_json_set_real(o, "out_mse_imatrix", m1);
    qs_json_set_real(o, "out_sqnr_ref_db", s0);
    qs_json_set_real(o, "out_sqnr_imatrix_db", s1);
    json_object_set_new(o, "rule", json_string(
        "imatrix_j = mean_t X_tj² (llama-imatrix); with it llama.cpp's quantize_row_*_impl "
        "search scales that minimise Σ_j w_j·(x̂_j - x_j)² with w_j = imatrix_j·sqrt(σ² + x_j²) "
        "(Q4_0, Q4_K) or imatrix_j (Q6_K); 'ref' is the quantizer without it"));
    if (qs_arg_flag(argc, argv, "apply")) {
        memcpy(s->tensor->data, Y1, nw * sizeof *Y1);
        qs_session_touch(s);
        json_object_set_new(o, "applied", json_string("the current tensor now holds the "
                                                      "imatrix-quantized weights"));
    }
    *out = o;
    rc = QS_OK;
done:
    free(a.X); free(im); free(Y0); free(Y1);
    return rc;
}

/* ---- the table ---------------------------------------------------------------------------- */

static const char *const rotate_words[] = {"seed=", "bits=", "apply", NULL};
static const char *const sq_words[] = {"alpha=", "channel=", "act=per-token", "act=per-tensor",
                                       "n=", "outliers=", "oscale=", "seed=", NULL};
static const char *const li_words[] = {"threshold=", "n=", "outliers=", "oscale=", "seed=",
                                       NULL};
static const char *const gptq_words[] = {"bits=", "group=", "sym", "actorder", "damp=",
                                         "blocksize=", "trace=", "apply", "n=", "outliers=",
                                         "oscale=", "seed=", NULL};
static const char *const im_words[] = {"type=q4_0", "type=q4_k", "type=q6_k", "apply", "n=",
                                       "outliers=", "oscale=", "seed=", NULL};
static const char *const awq_words[] = {"bits=", "group=", "grid=", "sym", "noclip", "apply", "n=",
                                        "outliers=", "oscale=", "seed=", NULL};

#define ACT_HELP \
    "n=N              calibration rows of the synthetic activations (default 256)\n" \
    "outliers=K       planted outlier channels (default 4), oscale=S their factor (20)\n" \
    "seed=S           seed of the activations (default 1)\n"

const qs_cmd qs_cmds_llm[] = {
    {"rotate", "methods", "rotate [seed=S] [bits=B] [apply]",
     "randomized Hadamard rotation of the current tensor's rows (QuaRot-style): kurtosis, "
     "absmax and B-bit SQNR before and after",
     "seed=S           the ±1 signs (default 1)\n"
     "bits=B           the grid the SQNR is measured on: intB sym per row (default 4)\n"
     "apply            replace the current tensor with W·Q (then 'hist' shows it)\n"
     "needs rows whose length (the last dimension) is a power of two\n"
     "keys: rows in seed kurtosis_before kurtosis_after absmax_before absmax_after grid "
     "sqnr_before_db sqnr_after_db sqnr_gain_db fp32_max_output_change fp32_output_scale",
     "rotate seed=1 bits=4", rotate_words, 0, 0, run_rotate,
     .kinds = QS_RK(QS_R_OBJECT) | QS_RK(QS_R_TABLE)},
    {"smoothquant", "methods",
     "smoothquant [alpha=A] [channel=J] [act=per-token|per-tensor] [n=N] [outliers=K] "
     "[oscale=S] [seed=S]",
     "SmoothQuant on the current tensor as W with synthetic activations: W8A8 output SQNR "
     "with and without smoothing, one channel's factor step by step",
     "alpha=A          migration strength (default 0.5)\n"
     "channel=J        the channel the steps follow (default the first planted outlier)\n"
     "act=...          activation grid: per-token (default) or per-tensor int8 absmax\n"
     ACT_HELP
     "keys: activations outlier_channels matrix alpha w8a8 sqnr_w8a8_db sqnr_smoothed_db "
     "absmax_x_before absmax_x_after absmax_w_before absmax_w_after channel steps",
     "smoothquant alpha=0.5", sq_words, 0, 0, run_smoothquant,
     .kinds = QS_RK(QS_R_TRACE) | QS_RK(QS_R_TABLE) | QS_RK(QS_R_OBJECT)},
    {"llmint8", "methods", "llmint8 [threshold=T] [n=N] [outliers=K] [oscale=S] [seed=S]",
     "LLM.int8() mixed-precision decomposition on the current tensor as W: columns kept in "
     "floating point, their cost, output SQNR against plain int8",
     "threshold=T      an input column with any |x| >= T is kept (default 6.0)\n"
     ACT_HELP
     "keys: activations outlier_channels threshold kept_columns kept_fraction kept "
     "bits_per_weight columns bits_per_weight_int8 sqnr_int8_db sqnr_llmint8_db",
     "llmint8 threshold=6", li_words, 0, 0, run_llmint8,
     .kinds = QS_RK(QS_R_OBJECT) | QS_RK(QS_R_TABLE)},
    {"gptq", "methods",
     "gptq [bits=B] [group=G] [sym] [actorder] [damp=D] [blocksize=K] [trace=C] [apply] "
     "[n=N] [outliers=K] [oscale=S] [seed=S]",
     "GPTQ of the current tensor as W [rows × in] on synthetic calibration activations: "
     "output error against round-to-nearest, and the first columns step by step",
     "bits=B           grid width (default 4); group=G columns per scale (default 128, 0 = "
     "per row); sym for a symmetric grid (default asym)\n"
     "actorder         quantize columns in order of decreasing H_jj\n"
     "damp=D           dampening percdamp (default 0.01)\n"
     "blocksize=K      lazy batch width (default 128)\n"
     "trace=C          columns shown step by step (default 2, 0 = none)\n"
     "apply            replace the current tensor with the GPTQ weights\n"
     ACT_HELP
     "keys: activations outlier_channels matrix grid damp blocksize actorder rtn_out_mse "
     "gptq_out_mse rtn_out_sqnr_db gptq_out_sqnr_db heldout_rtn_out_sqnr_db "
     "heldout_gptq_out_sqnr_db gptq_loss parts steps (a column's "
     "steps carry part: its place among the traced columns)",
     "gptq bits=4 group=128 trace=2", gptq_words, 0, QS_CMD_SLOW, run_gptq,
     .kinds = QS_RK(QS_R_TRACE) | QS_RK(QS_R_TABLE) | QS_RK(QS_R_OBJECT)},
    {"awq", "methods",
     "awq [bits=B] [group=G] [grid=K] [sym] [noclip] [apply] [n=N] [outliers=K] [oscale=S] "
     "[seed=S]",
     "AWQ (llm-awq: activation-aware scale search, then clipping search) on the current "
     "tensor as W with synthetic activations: the loss curve over α, the chosen α, output "
     "error against round-to-nearest",
     "bits=B, group=G  grid (default int4 asym, groups of 128); sym for symmetric\n"
     "grid=K           α in {0, 1/K, ..., (K-1)/K} (default 20)\n"
     "noclip           skip the clipping search (auto_clip: per row and group the range\n"
     "                 max|w|·(1 - i/20), i = 0..9, with the least output error on every\n"
     "                 n/512-th row; on by default, as in llm-awq)\n"
     "apply            replace the current tensor with the AWQ weights\n"
     ACT_HELP
     "keys: activations outlier_channels grid best_ratio rtn_out_mse scale_out_mse "
     "scale_out_sqnr_db clip clipped_ranges ranges awq_out_mse rtn_out_sqnr_db "
     "awq_out_sqnr_db heldout_rtn_out_sqnr_db heldout_awq_out_sqnr_db curve{x,y,best} "
     "scale_min scale_max rule",
     "awq bits=4 group=128", awq_words, 0, QS_CMD_SLOW, run_awq,
     .kinds = QS_RK(QS_R_TRACE) | QS_RK(QS_R_TABLE) | QS_RK(QS_R_OBJECT)},
    {"imatrix", "methods",
     "imatrix [type=q4_0|q4_k|q6_k] [apply] [n=N] [outliers=K] [oscale=S] [seed=S]",
     "llama.cpp's importance matrix from synthetic activations and its weighted ggml "
     "quantizers on the current tensor: error with and without it",
     "type=T           q4_k (default), q4_0 or q6_k; rows must be whole blocks (256 for "
     "the K-quants, 32 for q4_0)\n"
     "apply            replace the current tensor with the imatrix-quantized weights\n"
     ACT_HELP
     "keys: activations outlier_channels type imatrix_min imatrix_max weighted_err_ref "
     "weighted_err_imatrix out_mse_ref out_mse_imatrix out_sqnr_ref_db out_sqnr_imatrix_db "
     "rule",
     "imatrix type=q4_0", im_words, 0, QS_CMD_SLOW, run_imatrix,
     .kinds = QS_RK(QS_R_OBJECT) | QS_RK(QS_R_TABLE)},
    {0},
};

/* ---- for cmd_methods.c --------------------------------------------------------------------- */

int qs_llm_acts(int argc, char **argv, int in, float **X, int *n, int *chan, int *k,
                char *label, size_t len, qs_err *err)
{
    acts a;
    memset(&a, 0, sizeof a);
    if (make_acts(argc, argv, in, 4, &a, err) != QS_OK) return QS_ERR;
    *X = a.X;
    *n = a.n;
    *k = a.k;
    for (int i = 0; i < a.k && i < 64; i++) chan[i] = a.chan[i];
    snprintf(label, len, "%s", a.label);
    return QS_OK;
}
