/* cmd_methods.c — `methods`: the LLM-era quantization methods side by side on the current
 * tensor as a weight matrix W [rows × in] (issue 17), one row each, measured the same way on
 * the same synthetic calibration activations (llm_acts.h):
 *   weight-only, on one grid (intB, groups of G, asym unless sym): rtn (GPTQ's quantizer),
 *   gptq, awq (against its own round-to-nearest on llm-awq's grid), rotate (randomized
 *   Hadamard, rtn, rotated back);
 *   weights and activations in int8: w8a8 (per-token / per-row absmax), smoothquant (α),
 *   llmint8 (outlier columns in floating point).
 * Each row's output SQNR is 10·log10(Σy² / Σe²) of X·Wᵀ on the activations, the number the
 * single-method commands report for the same keys (gptq_out_sqnr_db, awq_out_sqnr_db,
 * sqnr_w8a8_db, sqnr_smoothed_db, sqnr_llmint8_db). The TUI's Error screen draws the table. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/cmd.h"
#include "qscope/llmq.h"

#include "llm_acts.h"

extern const qs_cmd qs_cmds_methods[];

/* multiply-adds of one output evaluation (n · rows · in) the command accepts: a table runs
 * about 30 of them (AWQ's grid of 20, GPTQ's Hessian, the rest); at the limit (a 1024 × 1024
 * matrix with 256 rows of activations) a table takes about 20 s of one core */
#define METHODS_MAX_MACS 3e8

/* weight-space SQNR of Wq against W */
static double w_sqnr(const float *W, const float *Wq, size_t nw)
{
    double p = 0.0, e = 0.0;
    for (size_t i = 0; i < nw; i++) {
        double d = (double)Wq[i] - W[i];
        e += d * d;
        p += (double)W[i] * W[i];
    }
    return e > 0 ? 10.0 * log10(p / e) : INFINITY;
}

static void grid_text(const qs_wq *q, int in, char *buf, size_t len)
{
    if (q->group > 0 && q->group < in)
        snprintf(buf, len, "int%d %s per-group %d", q->bits, q->sym ? "sym" : "asym", q->group);
    else
        snprintf(buf, len, "int%d %s per-row", q->bits, q->sym ? "sym" : "asym");
}

/* key: v, or null where it does not apply (NaN); infinities as qs_json_set_real writes them */
static void set_or_null(json_t *o, const char *key, double v)
{
    if (isnan(v)) json_object_set_new(o, key, json_null());
    else qs_json_set_real(o, key, v);
}

/* A row of the table. sqnr NAN: the method did not run (note says why); NaN entries are
 * null. */
static json_t *row(const char *method, const char *quantizes, const char *grid, int bits,
                   double mse, double sqnr, double wsq, const char *base, double base_sqnr,
                   const char *note)
{
    json_t *r = json_object();
    json_object_set_new(r, "method", json_string(method));
    json_object_set_new(r, "bits", json_integer(bits));
    set_or_null(r, "out_sqnr_db", sqnr);
    set_or_null(r, "gain_db", base && isfinite(sqnr) && isfinite(base_sqnr)
                                       ? sqnr - base_sqnr : NAN);
    json_object_set_new(r, "baseline", base ? json_string(base) : json_null());
    set_or_null(r, "weight_sqnr_db", wsq);
    set_or_null(r, "out_mse", mse);
    set_or_null(r, "baseline_sqnr_db", base ? base_sqnr : NAN);
    json_object_set_new(r, "quantizes", json_string(quantizes));
    json_object_set_new(r, "grid", json_string(grid));
    json_object_set_new(r, "note", json_string(note ? note : ""));
    json_object_set_new(r, "heldout_sqnr_db", json_null());     /* row_heldout sets them */
    json_object_set_new(r, "heldout_gain_db", json_null());
    return r;
}

/* the row's output SQNR on the held-out rows, and its gain over the baseline's there */
static void row_heldout(json_t *r, double hsq, double hbase)
{
    set_or_null(r, "heldout_sqnr_db", hsq);
    set_or_null(r, "heldout_gain_db", isfinite(hsq) && isfinite(hbase) ? hsq - hbase : NAN);
}

static int is_pow2(int n)
{
    return n > 0 && (n & (n - 1)) == 0;
}

static int run_methods(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    const qs_cmd *me = &qs_cmds_methods[0];
    if (qs_args_check(me, argc, argv, err) != QS_OK) return QS_ERR;
    if (qs_need_tensor(s, "methods", err) != QS_OK) return QS_ERR;
    const qs_tensor *t = s->tensor;
    int64_t in64 = t->ndim > 0 ? t->shape[t->ndim - 1] : 1, out64 = in64 > 0 ? t->n / in64 : 0;
    if (in64 < 1 || out64 < 1 || in64 > 65536 || out64 > 1 << 24)
        return qs_err_set(err, "methods: the tensor is not a usable [rows × in] matrix");
    int in = (int)in64, nout = (int)out64;
    const float *W = t->data;
    for (int64_t i = 0; i < t->n; i++)
        if (!isfinite(W[i]))
            return qs_err_set(err, "methods: the tensor holds NaN or Inf (element %lld)",
                              (long long)i);
    long long bits = 4, group = 128;
    double alpha = 0.5, thr = 6.0;
    if (qs_arg_int(argc, argv, "bits", 2, 8, &bits, err) != QS_OK ||
        qs_arg_int(argc, argv, "group", 0, 1 << 20, &group, err) != QS_OK ||
        qs_arg_double(argc, argv, "alpha", 0.0, 1.0, &alpha, err) != QS_OK ||
        qs_arg_double(argc, argv, "threshold", 0.0, 1e30, &thr, err) != QS_OK)
        return qs_err_prefix(err, "methods");
    int sym = qs_arg_flag(argc, argv, "sym");
    /* the calibration rows, checked before they are built */
    long long n_req = 256;
    if (qs_arg_kv(argc, argv, "n") && qs_arg_int(argc, argv, "n", 1, 1 << 16, &n_req, err))
        return qs_err_prefix(err, "methods");
    double macs = (double)n_req * nout * in;
    if (macs > METHODS_MAX_MACS)
        return qs_err_set(err, "methods: n × rows × in = %lld × %d × %d = %.3g multiply-adds "
                          "per evaluation, and the table runs about 30: at most 3·10^8 (fewer "
                          "rows n=, or the single-method commands one at a time)", n_req, nout,
                          in, macs);

    float *X = NULL;
    int n = 0, k = 0, chan[64];
    char label[200];
    if (qs_llm_acts(argc, argv, in, &X, &n, chan, &k, label, sizeof label, err) != QS_OK)
        return QS_ERR;
    long long seed = 1;
    double oscale = 20.0;
    qs_arg_int(argc, argv, "seed", 0, (long long)1 << 62, &seed, err);
    qs_arg_double(argc, argv, "oscale", 0.0, 1e6, &oscale, err);
    float *Xh = qs_llm_heldout(X, n, in, (uint64_t)seed, chan, k, oscale);
    json_t *rr;                         /* the row just appended */
    double hsq, hbase = NAN, hbase8 = NAN;
    size_t nw = (size_t)nout * in, nx = (size_t)n * in;
    float *Q = malloc(nw * sizeof *Q), *R = malloc(nw * sizeof *R), *Y = NULL;
    float *T = malloc((nw > nx ? nw : nx) * sizeof *T), *T2 = malloc(nx * sizeof *T2);
    float *d = malloc((size_t)in * sizeof *d), *sc = malloc((size_t)in * sizeof *sc);
    uint8_t *keep = malloc((size_t)in);
    Y = malloc((size_t)n * nout * sizeof *Y);
    json_t *rows = json_array(), *o = NULL;
    int rc = QS_ERR, step = 0;
    const int nsteps = 7;
    char gl[64], note[200];
    double mse, sq, base_sq, base8 = NAN;
    if (!Q || !R || !T || !T2 || !d || !sc || !keep || !Y || !Xh) {
        qs_err_set(err, "methods: out of memory");
        goto done;
    }
#define STEP(name)                                                                            \
    do {                                                                                      \
        int prc_ = qs_session_progress(s, "methods: " name, step++, nsteps);                 \
        if (prc_ != QS_OK) {                                                                  \
            rc = prc_;                                                                        \
            qs_err_set(err, "methods: cancelled");                                            \
            goto done;                                                                        \
        }                                                                                     \
    } while (0)

    /* rtn: GPTQ's quantizer (style 0), the baseline of gptq and rotate */
    STEP("rtn");
    qs_wq q0 = {(int)bits, sym, (int)group, 0};
    grid_text(&q0, in, gl, sizeof gl);
    if (qs_wq_rtn(&q0, W, nout, in, R, err) != QS_OK) goto done;
    qs_llmq_out_err(X, n, W, R, nout, in, &mse, &base_sq);
    json_array_append_new(rows, rr = row("rtn", "weights", gl, (int)bits, mse, base_sq,
                                         w_sqnr(W, R, nw), NULL, NAN, "round to nearest"));
    qs_llmq_out_err(Xh, n, W, R, nout, in, NULL, &hbase);
    row_heldout(rr, hbase, NAN);

    /* gptq, within the gptq command's size limit */
    STEP("gptq");
    if ((double)in * in * (nout + 64.0) > 2e10 || in > 8192) {
        snprintf(note, sizeof note, "not run: %d × %d is beyond gptq's limit (in² · rows at "
                 "most 2·10^10)", nout, in);
        json_array_append_new(rows, row("gptq", "weights", gl, (int)bits, NAN, NAN, NAN, "rtn",
                                        base_sq, note));
    } else {
        qs_gptq_opts go;
        qs_gptq_defaults(&go);
        go.q = q0;
        go.blocksize = 128;
        if (qs_gptq(X, n, W, nout, in, &go, Q, NULL, err) != QS_OK) goto done;
        qs_llmq_out_err(X, n, W, Q, nout, in, &mse, &sq);
        snprintf(note, sizeof note, "damp %g, blocks of %d", go.percdamp, go.blocksize);
        json_array_append_new(rows, rr = row("gptq", "weights", gl, (int)bits, mse, sq,
                                             w_sqnr(W, Q, nw), "rtn", base_sq, note));
        qs_llmq_out_err(Xh, n, W, Q, nout, in, NULL, &hsq);
        row_heldout(rr, hsq, hbase);
    }

    /* awq on llm-awq's grid (style 1), against round-to-nearest on that grid */
    STEP("awq");
    {
        qs_wq q1 = {(int)bits, sym, (int)group, 1};
        enum { GRID = 20 };
        double losses[GRID], ratio = 0, sq1;
        int nclip = 0;
        float *asc = malloc((size_t)in * sizeof *asc);
        if (!asc) { qs_err_set(err, "methods: out of memory"); goto done; }
        if (qs_wq_rtn(&q1, W, nout, in, T, err) != QS_OK ||
            qs_awq(X, n, W, nout, in, &q1, GRID, Q, asc, losses, &ratio, err) != QS_OK ||
            /* then llm-awq's clipping search, as the awq command does */
            qs_awq_clip(X, n, W, nout, in, &q1, asc, 20, 0.5, 512, Q, NULL, &nclip, err) != QS_OK) {
            free(asc);
            goto done;
        }
        free(asc);
        qs_llmq_out_err(X, n, W, T, nout, in, NULL, &sq1);
        qs_llmq_out_err(X, n, W, Q, nout, in, &mse, &sq);
        snprintf(note, sizeof note, "best α %.2f of a grid of %d, %d ranges clipped", ratio, GRID,
                 nclip);
        json_array_append_new(rows, rr = row("awq", "weights", gl, (int)bits, mse, sq,
                                             w_sqnr(W, Q, nw), "rtn (llm-awq grid)", sq1, note));
        double hb1;
        qs_llmq_out_err(Xh, n, W, T, nout, in, NULL, &hb1);
        qs_llmq_out_err(Xh, n, W, Q, nout, in, NULL, &hsq);
        row_heldout(rr, hsq, hb1);
    }

    /* rotate: W·Q rounded to nearest on the rtn grid, rotated back (X·Q · (W·Q)̂ᵀ) */
    STEP("rotate");
    if (!is_pow2(in)) {
        snprintf(note, sizeof note, "not run: rows of %d are not a power of two (Hadamard)", in);
        json_array_append_new(rows, row("rotate", "weights", gl, (int)bits, NAN, NAN, NAN, "rtn",
                                        base_sq, note));
    } else {
        qs_rot_signs(1, in, d);
        memcpy(T, W, nw * sizeof *T);
        if (qs_rot_apply(T, nout, in, d, err) != QS_OK ||
            qs_wq_rtn(&q0, T, nout, in, Q, err) != QS_OK ||
            qs_rot_unapply(Q, nout, in, d, err) != QS_OK)
            goto done;
        qs_llmq_out_err(X, n, W, Q, nout, in, &mse, &sq);
        json_array_append_new(rows, rr = row("rotate", "weights", gl, (int)bits, mse, sq,
                                             w_sqnr(W, Q, nw), "rtn", base_sq,
                                             "randomized Hadamard (seed 1), then rtn"));
        qs_llmq_out_err(Xh, n, W, Q, nout, in, NULL, &hsq);
        row_heldout(rr, hsq, hbase);
    }

    /* W8A8: int8 absmax per token and per output row */
    STEP("w8a8");
    if (qs_w8a8(X, n, W, nout, in, 0, Y, err) != QS_OK) goto done;
    qs_llmq_y_err(X, n, W, nout, in, Y, &mse, &base8);
    json_array_append_new(rows, rr = row("w8a8", "weights+activations",
                                         "int8 absmax per token / per row", 8, mse, base8, NAN,
                                         NULL, NAN, "plain W8A8"));
    if (qs_w8a8(Xh, n, W, nout, in, 0, Y, err) != QS_OK) goto done;
    qs_llmq_y_err(Xh, n, W, nout, in, Y, NULL, &hbase8);
    row_heldout(rr, hbase8, NAN);

    /* smoothquant: (X/s)·(W·s)ᵀ through the same W8A8 */
    STEP("smoothquant");
    if (qs_smooth_scales(X, n, W, nout, in, alpha, sc, NULL, NULL, err) != QS_OK) goto done;
    for (int r = 0; r < n; r++)
        for (int j = 0; j < in; j++) T2[(size_t)r * in + j] = X[(size_t)r * in + j] / sc[j];
    for (int r = 0; r < nout; r++)
        for (int j = 0; j < in; j++) T[(size_t)r * in + j] = W[(size_t)r * in + j] * sc[j];
    if (qs_w8a8(T2, n, T, nout, in, 0, Y, err) != QS_OK) goto done;
    qs_llmq_y_err(X, n, W, nout, in, Y, &mse, &sq);
    snprintf(note, sizeof note, "migration strength α %g", alpha);
    json_array_append_new(rows, rr = row("smoothquant", "weights+activations",
                                         "int8 absmax per token / per row", 8, mse, sq, NAN,
                                         "w8a8", base8, note));
    /* the scales from the calibration rows, applied to the held-out ones */
    for (int r = 0; r < n; r++)
        for (int j = 0; j < in; j++) T2[(size_t)r * in + j] = Xh[(size_t)r * in + j] / sc[j];
    if (qs_w8a8(T2, n, T, nout, in, 0, Y, err) != QS_OK) goto done;
    qs_llmq_y_err(Xh, n, W, nout, in, Y, NULL, &hsq);
    row_heldout(rr, hsq, hbase8);

    /* llmint8: outlier columns in floating point */
    STEP("llmint8");
    {
        int nk = 0;
        if (qs_llmint8(X, n, W, nout, in, thr, Y, keep, &nk, err) != QS_OK) goto done;
        qs_llmq_y_err(X, n, W, nout, in, Y, &mse, &sq);
        double bpw = ((double)(in - nk) * 8.0 + nk * 16.0) / in + 32.0 / in;
        snprintf(note, sizeof note, "%d of %d columns in fp16 (|x| ≥ %g), %.3g bits/weight",
                 nk, in, thr, bpw);
        json_array_append_new(rows, rr = row("llmint8", "weights+activations",
                                             "int8 vector-wise + fp outlier columns", 8, mse, sq,
                                             NAN, "w8a8", base8, note));
        /* the outlier columns are chosen at run time, from the held-out rows themselves */
        if (qs_llmint8(Xh, n, W, nout, in, thr, Y, keep, &nk, err) != QS_OK) goto done;
        qs_llmq_y_err(Xh, n, W, nout, in, Y, NULL, &hsq);
        row_heldout(rr, hsq, hbase8);
    }
    qs_session_progress(s, "methods", nsteps, nsteps);
#undef STEP

    o = json_object();
    json_object_set_new(o, "rows", rows);
    rows = NULL;
    json_object_set_new(o, "columns", json_pack("[s,s,s,s,s,s,s]", "method", "bits",
                                                "out_sqnr_db", "gain_db", "heldout_sqnr_db",
                                                "heldout_gain_db", "baseline"));
    json_object_set_new(o, "shape", json_pack("[i, i]", nout, in));
    json_object_set_new(o, "grid", json_string(gl));
    json_object_set_new(o, "activations", json_string(label));
    json_t *oc = json_array();
    for (int i = 0; i < k && i < 64; i++) json_array_append_new(oc, json_integer(chan[i]));
    json_object_set_new(o, "outlier_channels", oc);
    json_object_set_new(o, "measure", json_string(
        "output SQNR = 10·log10(Σy² / Σe²) of X·Wᵀ over the activations' rows (out_mse: the "
        "mean of e²); gain_db = out_sqnr_db − the baseline's; weight_sqnr_db compares the "
        "quantized weights with W (weight-only rows); heldout_sqnr_db / heldout_gain_db: the "
        "same on n fresh rows of the same distribution (the seed's held-out stream, the same "
        "planted channels) that no method saw — a gain only on the calibration rows is "
        "fitted noise"));
    *out = o;
    rc = QS_OK;
done:
    json_decref(rows);
    free(X); free(Xh); free(Q); free(R); free(T); free(T2); free(d); free(sc); free(keep);
    free(Y);
    return rc;
}

static const char *const methods_words[] = {"bits=", "group=", "sym", "alpha=", "threshold=",
                                            "n=", "outliers=", "oscale=", "seed=", NULL};

static const qs_arg methods_args[] = {
    { QS_ARG_INT, "bits", "B", 2, 8, "4", NULL, NULL, NULL },
    { QS_ARG_INT, "group", "G", 0, 1 << 20, "128", NULL, NULL, NULL },
    { QS_ARG_FLAG, "sym", NULL, 0, 0, NULL, NULL, NULL, NULL },
    { QS_ARG_REAL, "alpha", "A", 0, 1, "0.5", NULL, NULL, NULL },
    { QS_ARG_REAL, "threshold", "T", 0, 1e30, "6", NULL, NULL, NULL },
    { QS_ARG_INT, "n", "N", 1, 1 << 16, "256", NULL, NULL, NULL },
    { QS_ARG_INT, "outliers", "K", 0, 64, "4", NULL, NULL, NULL },
    { QS_ARG_REAL, "oscale", "S", 0, 1e6, "20", NULL, NULL, NULL },
    { QS_ARG_INT, "seed", "S", 0, 4611686018427387904.0, "1", NULL, NULL, NULL },
    { 0 },
};

const qs_cmd qs_cmds_methods[] = {
    {"methods", "methods",
     "methods [bits=B] [group=G] [sym] [alpha=A] [threshold=T] [n=N] [outliers=K] [oscale=S] "
     "[seed=S]",
     "the methods side by side on the current tensor as W with synthetic activations: "
     "output SQNR of rtn, gptq, awq, rotate, w8a8, smoothquant, llmint8",
     "bits=B, group=G  the weight-only rows' grid: intB, G columns per scale (default int4 "
     "asym, groups of 128; 0 = per row); sym for symmetric\n"
     "alpha=A          smoothquant's migration strength (default 0.5)\n"
     "threshold=T      llmint8's outlier threshold (default 6.0)\n"
     "n=N              calibration rows of the synthetic activations (default 256)\n"
     "outliers=K       planted outlier channels (default 4), oscale=S their factor (20)\n"
     "seed=S           seed of the activations (default 1)\n"
     "each row as its own command computes it (gptq, awq, rotate, smoothquant, llmint8); "
     "n × rows × in at most 3·10^8 (a 1024 × 1024 tensor at n=256)\n"
     "keys: rows[method quantizes grid bits out_mse out_sqnr_db weight_sqnr_db baseline "
     "baseline_sqnr_db gain_db heldout_sqnr_db heldout_gain_db note] shape grid activations "
     "outlier_channels measure",
     "methods bits=4 group=128", methods_words, 0, QS_CMD_SLOW, run_methods, methods_args,
     .kinds = QS_RK(QS_R_TABLE)},
    {0},
};
