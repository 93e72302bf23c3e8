/* derive.c — derivation traces: every step from the observed range to one value's code and
 * back, with the formula, this tensor's numbers and a note. Integer grids: derive collects
 * the steps the computing functions record themselves — the convention's parameter rule
 * (qparams.c, qs_qparams_compute_trace) and the one-value rule (one.c,
 * qs_qparams_code1_trace: the kernels' `_ref` rule, checked against the dispatched kernel) —
 * and adds the observed and clip ranges and the noise model. Codebooks, casts and ggml block
 * formats show the kernels' (cb4, casts) and ggml.c's own numbers. */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/derive.h"
#include "qscope/ggml.h"
#include "qscope/mx.h"
#include "qscope/numfmt.h"

#define QS_STEPS_SHORT
#include "steps.h"

void qs_trace_fini(qs_trace *tr)
{
    if (!tr) return;
    free(tr->steps);
    memset(tr, 0, sizeof *tr);
}

/* ---- integer grids ---------------------------------------------------------------------- */

void qs_derive_power(const float *x, int64_t n, double *sum_x2, int64_t *n_finite)
{
    double sx2 = 0.0;
    int64_t nf = 0;
    for (int64_t i = 0; i < n; i++)
        if (isfinite(x[i])) {
            sx2 += (double)x[i] * x[i];
            nf++;
        }
    *sum_x2 = sx2;
    *n_finite = nf;
}

static int derive_int(const qs_tensor *t, const qs_scheme *sc, const qs_calib *c,
                      const qs_calib_result *given, const qs_derive_opts *o, qs_trace *tr,
                      qs_err *err)
{
    char a[40], b[40];
    qs_layout l;
    qs_calib_result cal;
    qs_qparams qp;
    int ggml = sc->kind == QS_Q_GGML || sc->conv == QS_CONV_GGML;
    if (qs_scheme_layout(sc, t->ndim, t->shape, &l, err) != QS_OK) return QS_ERR;
    int64_t np = qs_layout_nparams(&l), p;
    if (o->set >= np)
        return qs_err_set(err, "derive: channel/block %lld out of range (the scheme has "
                          "%lld parameter set%s)", (long long)o->set, (long long)np,
                          np == 1 ? "" : "s");
    p = o->set >= 0 ? o->set : o->has_value ? 0 : qs_layout_index(&l, o->index);
    qs_calib cm = *c;
    if (ggml) cm.kind = QS_CAL_MINMAX;
    /* the caller's calibration when it is this one (borrowed: `own` says whether to free) */
    int own = !(given && given->kind == cm.kind && given->nparams == np);
    if (!own) cal = *given;
    else if (qs_calib_run(t->data, &l, sc, &cm, &cal, err) != QS_OK) return QS_ERR;
    float x = o->has_value ? (float)o->value : t->data[o->index];
    tr->set = (int)p;
    tr->x = x;
    const char *where = np > 1 ? (ggml ? "block" : sc->gran == QS_G_CHANNEL ? "channel"
                                                                              : "group")
                               : "tensor";
    qs_step *st;

    /* 1. the observed range */
    st = add(tr, "observed range", "min = min(x), max = max(x)", NAN);
    if (np > 1) SUB(st, "over the values of %s %lld", where, (long long)p);
    else SUB(st, "over the %lld values of the tensor", (long long)t->n);
    RES(st, "min = %s, max = %s", g(a, cal.obs_min[p]), g(b, cal.obs_max[p]));
    if (cal.ninf || cal.nnan)
        NOTE(st, "%lld infinite and %lld NaN values are left out of the range%s",
             (long long)cal.ninf, (long long)cal.nnan,
             ggml && cal.ninf ? "; ggml's d reads ±inf as ±3.4028235e+38 (ggml itself: "
                                "inf)" : "");
    /* 2. the clip range, then the convention's own steps (qparams.c) */
    int rc;
    if (ggml) {
        rc = qs_qparams_ggml(sc, &l, t->data, t->n, &qp, p, tr, err);
    } else {
        st = add(tr, "clip range", "[lo, hi] = calibrator(x)", NAN);
        SUB(st, "%s", qs_calib_name(c->kind));
        RES(st, "[%s, %s]", g(a, cal.lo[p]), g(b, cal.hi[p]));
        NOTE(st, "%s", np > 1 ? "each parameter set is calibrated on its own values"
                              : cal.reason);
        rc = qs_qparams_compute_trace(sc, &l, cal.lo, cal.hi, NULL, &qp, p, tr, err);
    }
    if (own) qs_calib_result_fini(&cal);
    if (rc != QS_OK) return QS_ERR;

    /* 3. the value, by the function that quantizes one value (one.c) */
    int32_t code;
    float y, s = qp.scale[p];
    qs_qparams_code1_trace(&qp, p, x, o->has_value ? 0 : o->index, &code, &y, NULL, tr);
    /* the uniform-noise model against the tensor's power (per-tensor integer grids) */
    double sx2 = 0.0;
    int64_t nf = 0;
    if (!ggml && np == 1 && isfinite(s) && s > 0) {
        if (o->has_power) {             /* the caller's (the session keeps them) */
            sx2 = o->power_sum;
            nf = o->power_n;
        } else qs_derive_power(t->data, t->n, &sx2, &nf);
    }
    if (nf > 0) {                       /* (no finite value: no power, no step) */
        double msq = (double)s * s / 12.0, pw = sx2 / (double)nf;
        double snr = 10.0 * log10(pw / msq);        /* P = 0 (all zeros): -inf dB */
        st = add(tr, "noise model", "mse ≈ s²/12, SQNR ≈ 10·log10(P / (s²/12)), P = mean(x²)",
                 snr);
        SUB(st, "%s² / 12 = %.6g; 10·log10(%.6g / %.6g)", g(a, s), msq, pw, msq);
        RES(st, "SQNR ≈ %.4g dB", snr);
        NOTE(st, "uniform rounding noise, clipping left out; one more bit halves s: "
             "+10·log10(4) = %.2f dB; a full-scale sine (P = A²/2, not A²/3): "
             "+10·log10(3/2) = %.2f dB", 10.0 * log10(4.0), 10.0 * log10(1.5));
    }
    tr->code = code;
    tr->xhat = y;
    qs_qparams_fini(&qp);
    return QS_OK;
}

/* ---- codebooks -------------------------------------------------------------------------- */

static int derive_codebook(const qs_tensor *t, const qs_scheme *sc, const qs_derive_opts *o,
                           qs_trace *tr, qs_err *err)
{
    char a[40], b[40], d[40], e[40];
    qs_qstate q;
    if (qs_qstate_init(&q, sc, t, NULL, NULL, err) != QS_OK) return QS_ERR;
    int64_t blk = o->set >= 0 ? o->set : o->has_value ? 0 : o->index / q.block;
    if (blk >= q.nblocks) {
        int64_t nb = q.nblocks;
        qs_qstate_fini(&q);
        return qs_err_set(err, "derive: block %lld out of range (%lld blocks)", (long long)blk,
                          (long long)nb);
    }
    float x = o->has_value ? (float)o->value : t->data[o->index];
    float am = q.absmax[blk], amd = q.absmax_dq[blk];
    tr->set = (int)blk;
    tr->x = x;
    const char *nm = sc->kind == QS_Q_NF4 ? "NF4" : "FP4";
    qs_step *st;
    st = add(tr, "block absmax", "absmax = max |x| over the block", am);
    SUB(st, "block %lld: elements %lld..%lld", (long long)blk, (long long)(blk * q.block),
        (long long)((blk + 1) * q.block < t->n ? (blk + 1) * q.block - 1 : t->n - 1));
    RES(st, "absmax = %s", g(a, am));
    NOTE(st, "%s stores one fp32 absmax per %d values (blockwise, bitsandbytes)", nm, q.block);
    if (o->has_value && fabsf(x) > am)
        NOTE(st, "the typed value is larger than the block's absmax: it saturates to ±1");
    /* the encode of one value with this block's absmax, through the codebook kernel: a
     * two-element block [x, ±absmax] keeps the absmax */
    float pair[2] = { x, am }, out[2], am2;
    uint8_t packed;
    if (fabsf(x) > am) pair[1] = 0.0f;
    qs_k()->cb4_encode(pair, 2, 2, q.table, &packed, &am2);
    int k = packed >> 4;
    float nv = x * (am2 > 0.0f ? 1.0f / am2 : 0.0f);
    st = add(tr, "normalize", "n = x · (1/absmax)", nv);
    SUB(st, "%s · (1/%s)", gp(a, x), g(b, am2));
    RES(st, "n = %s", g(d, nv));
    NOTE(st, "every value of the block now lies in [-1, 1]");
    st = add(tr, "nearest code", "code = nearest table entry to n (midpoints: ties to the lower)",
             q.code_of[k]);
    if (k > 0 && k < 15) {
        float lo = q.table[k - 1], hi = q.table[k + 1];
        float ml = (lo + q.table[k]) * 0.5f, mh = (q.table[k] + hi) * 0.5f;
        SUB(st, "%s > midpoint %s and <= midpoint %s", g(a, nv), g(b, ml), g(d, mh));
    } else if (k == 0) {
        SUB(st, "%s <= midpoint %s", g(a, nv), g(b, (q.table[0] + q.table[1]) * 0.5f));
    } else {
        SUB(st, "%s > midpoint %s", g(a, nv), g(b, (q.table[14] + q.table[15]) * 0.5f));
    }
    RES(st, "code %d = %s", q.code_of[k], g(a, q.table[k]));
    NOTE(st, "%s", sc->kind == QS_Q_NF4
         ? "NF4's 16 values are quantiles of a normal distribution, denser near 0"
         : "FP4 E2M1 values (bitsandbytes' table, divided by 12)");
    if (sc->dq) {
        st = add(tr, "double quant: offset", "offset = mean(absmax) over all blocks",
                 q.dq_offset);
        SUB(st, "mean of %lld block absmax values", (long long)q.nblocks);
        RES(st, "offset = %s", g(a, q.dq_offset));
        NOTE(st, "QLoRA quantizes the absmax constants themselves (after removing their mean)");
        int64_t g2 = blk / 256;
        float c = am - q.dq_offset;
        st = add(tr, "double quant: absmax2", "absmax2 = max |absmax - offset| over 256 blocks",
                 q.dq_absmax[g2]);
        SUB(st, "group %lld of 256 absmax constants", (long long)g2);
        RES(st, "absmax2 = %s", g(a, q.dq_absmax[g2]));
        float map[256];
        qs_dynamic_map(map);
        int c8 = q.dq_codes[blk];
        st = add(tr, "double quant: 8-bit code", "c8 = nearest(dynamic_map, (absmax - offset) / "
                 "absmax2)", c8);
        SUB(st, "(%s - %s) / %s = %s", g(a, am), g(b, q.dq_offset), g(d, q.dq_absmax[g2]),
            g(e, q.dq_absmax[g2] > 0 ? c / q.dq_absmax[g2] : 0.0f));
        RES(st, "c8 = %d (map value %s)", c8, g(a, map[c8]));
        NOTE(st, "bitsandbytes' dynamic 8-bit map (create_dynamic_map, signed)");
        st = add(tr, "double quant: absmax'", "absmax' = map[c8] · absmax2 + offset", amd);
        SUB(st, "%s · %s + %s", g(a, map[c8]), g(b, q.dq_absmax[g2]), g(d, q.dq_offset));
        RES(st, "absmax' = %s", g(e, amd));
        NOTE(st, "bits per weight: 4 + 8/%d + 32/(%d·256) = %.4f instead of 4 + 32/%d = %.4f",
             q.block, q.block, 4.0 + 8.0 / q.block + 32.0 / (q.block * 256.0), q.block,
             4.0 + 32.0 / q.block);
    }
    /* dequantize through the decode kernel with the block's (double-quantized) absmax */
    float amu = amd;
    qs_k()->cb4_decode(&packed, &amu, 1, 2, q.table, out);
    st = add(tr, "dequantize", sc->dq ? "x̂ = table[code] · absmax'" : "x̂ = table[code] · absmax",
             out[0]);
    SUB(st, "%s · %s", g(a, q.table[k]), g(b, amu));
    RES(st, "x̂ = %s", g(d, out[0]));
    double errv = (double)out[0] - (double)x;
    st = add(tr, "error", "e = x̂ - x", errv);
    SUB(st, "%s - %s", g(a, out[0]), gp(b, x));
    RES(st, "e = %.6g", errv);
    tr->code = q.code_of[k];
    tr->xhat = out[0];
    qs_qstate_fini(&q);
    return QS_OK;
}

/* ---- float casts ------------------------------------------------------------------------ */

static int derive_cast(const qs_tensor *t, const qs_scheme *sc, const qs_derive_opts *o,
                       qs_trace *tr, qs_err *err)
{
    char a[40], b[40];
    qs_fmt_id id = sc->kind == QS_Q_FP16 ? QS_FMT_FP16 : sc->kind == QS_Q_BF16 ? QS_FMT_BF16
                 : sc->kind == QS_Q_FP8_E4M3 ? QS_FMT_E4M3 : QS_FMT_E5M2;
    const qs_numfmt *f = qs_numfmt_get(id), *f32 = qs_numfmt_get(QS_FMT_FP32);
    if (!f || !f32) return qs_err_set(err, "derive: number formats unavailable");
    float x = o->has_value ? (float)o->value : t->data[o->index];
    tr->x = x;
    tr->set = 0;
    qs_numfields in, out;
    qs_numfmt_fields_of(f32, x, QS_OVF_DEFAULT, &in);
    qs_step *st = add(tr, "fp32 value", "x = (-1)^s · 1.m · 2^(e - 127)", x);
    SUB(st, "%s: sign %d, exponent %s (%d), mantissa %s", in.hex, in.sign, in.exp_bits,
        in.exponent, in.man_bits);
    RES(st, "x = %s", g(a, x));
    /* the value through the same conversion the quantizer uses */
    qs_tensor one = { (char *)"x", 1, { 1 }, 1, QS_DT_F32, &x };
    qs_qstate q;
    float y;
    int32_t code;
    if (qs_qstate_init(&q, sc, &one, NULL, NULL, err) != QS_OK) return QS_ERR;
    if (qs_quant_apply(&q, &one, &y, &code, NULL, err) != QS_OK) { qs_qstate_fini(&q);
                                                                   return QS_ERR; }
    qs_qstate_fini(&q);
    qs_numfmt_fields(f, (uint32_t)code, x, 0, &out);
    st = add(tr, "round to format", "x̂ = round_nearest_even(x) in the format", y);
    SUB(st, "%s: %d exponent bits (bias %d), %d mantissa bits", f->name, f->exp_bits, f->bias,
        f->man_bits);
    RES(st, "%s = %s", out.hex, g(b, y));
    NOTE(st, "%s; spacing here (ulp) %g%s", f->title, out.ulp,
         (id == QS_FMT_E4M3 || id == QS_FMT_E5M2) && fabs((double)x) > f->max
             ? "; beyond the largest finite value: saturated" : "");
    double errv = (double)y - (double)x;
    st = add(tr, "error", "e = x̂ - x", errv);
    SUB(st, "%s - %s", g(a, y), gp(b, x));
    RES(st, "e = %.6g", errv);
    NOTE(st, "relative error %.3g (at most 2^-%d for normal numbers)",
         x != 0.0f ? fabs(errv / (double)x) : 0.0, f->man_bits + 1);
    tr->code = code;
    tr->xhat = y;
    return QS_OK;
}

/* ---- ggml block formats (q4_1 q5_0 q5_1 q4_k q6_k) ---------------------------------------- */

/* Appends "v0 v1 v2 ..." to dst (len) until it is full; the rest becomes " …". */
static void list_into(char *dst, size_t len, const float *fv, const int *iv, int n)
{
    size_t at = 0;
    dst[0] = 0;
    for (int i = 0; i < n; i++) {
        char one[40];
        if (fv) g(one, fv[i]);
        else snprintf(one, sizeof one, "%d", iv[i]);
        size_t k = strlen(one) + (i ? 1 : 0);
        if (at + k + 5 >= len) { snprintf(dst + at, len - at, " …"); return; }
        snprintf(dst + at, len - at, "%s%s", i ? " " : "", one);
        at += k;
    }
}

/* The sub-block of element j of a block (Q4_K: 8 of 32, Q6_K: 16 of 16, else 1). */
static int ggml_sub(int id, int j)
{
    return id == QS_GGML_Q4_K ? j / 32 : id == QS_GGML_Q6_K ? j / 16 : 0;
}

static int derive_ggml(const qs_tensor *t, const qs_scheme *sc, const qs_derive_opts *o,
                       qs_trace *tr, qs_err *err)
{
    int id = qs_scheme_ggml_block(sc);
    const qs_ggml_type *gt = qs_ggml_type_info(id);
    const char *nm = gt->name;
    char a[40], b[40], c[40], e[40];
    if (o->has_value)
        return qs_err_set(err, "derive %s: a %s block fits its scales to its own values, so a "
                          "typed-in value has no block (follow an element: derive index=I or "
                          "block=B)", qs_qkind_name(sc), nm);
    int64_t nb = qs_ggml_tensor_nblocks(id, t);
    int64_t bi = o->set >= 0 ? o->set : qs_ggml_block_of(id, t, o->index);
    if (bi >= nb)
        return qs_err_set(err, "block=%lld: out of range 0..%lld (%s blocks of %d along the "
                          "last axis)", (long long)bi, (long long)nb - 1, nm, gt->block);
    qs_ggml_tblock *bl = malloc(sizeof *bl);
    if (!bl) return qs_err_set(err, "derive: out of memory");
    if (qs_ggml_tensor_block(id, t, bi, bl, err) != QS_OK) { free(bl); return QS_ERR; }
    const qs_ggml_block_view *v = &bl->v;
    /* the element followed: index when it lies in the block, else the block's first */
    int j = o->index >= bl->start && o->index < bl->start + bl->m
            ? (int)(o->index - bl->start) : 0;
    int one = id == QS_GGML_Q4_1 || id == QS_GGML_Q5_1;
    int qmax = (1 << sc->bits) - 1;
    qs_step *st = add(tr, "block", "blocks of n consecutive elements along the last axis, a "
                      "row's short last block padded with zeros", (double)bi);
    SUB(st, "block %lld: elements %lld..%lld (%d of %d real)", (long long)bi,
        (long long)bl->start, (long long)(bl->start + bl->m - 1), bl->m, gt->block);
    RES(st, "block %lld of %lld", (long long)bi, (long long)nb);
    if (bl->m < gt->block)
        NOTE(st, "%d zeros pad this row's last block (ggml needs rows of whole blocks): the "
             "block still costs %d bytes", gt->block - bl->m, gt->bytes);
    else
        NOTE(st, "%s: %d bytes per %d weights = %.4g bits per weight, scales included", nm,
             gt->bytes, gt->block, qs_ggml_bits_per_weight(id));
    /* the block's constants, from the values as ggml.c's quantizer reads them */
    float xs[QS_QK_K];
    qs_ggml_sanitize(bl->x, gt->block, xs);
    float mn = xs[0], mx = xs[0], smax = 0.f;
    for (int i = 0; i < gt->block; i++) {
        mn = fminf(mn, xs[i]);
        mx = fmaxf(mx, xs[i]);
        if (fabsf(xs[i]) > fabsf(smax)) smax = xs[i];
    }
    switch (id) {
    case QS_GGML_Q4_1: case QS_GGML_Q5_1:
        st = add(tr, "scale and minimum", one && qmax == 15 ? "d = (max - min) / 15, m = min, "
                 "both stored as fp16" : "d = (max - min) / 31, m = min, both stored as fp16",
                 v->d);
        SUB(st, "d = (%s - %s) / %d", g(a, mx), gp(b, mn), qmax);
        RES(st, "d = %s, m = %s", g(c, v->d), g(e, v->dmin));
        NOTE(st, "affine: the smallest value maps to code 0; codes (int)((x - m)·(1/d) + 0.5)");
        break;
    case QS_GGML_Q5_0:
        st = add(tr, "scale", "d = max / -16 (max = the largest |x| keeping its sign), fp16",
                 v->d);
        SUB(st, "d = %s / -16", g(a, smax));
        RES(st, "d = %s", g(b, v->d));
        NOTE(st, "keeping the sign maps max exactly to code 0 (-16); the other end gets 15");
        break;
    case QS_GGML_Q4_K:
        st = add(tr, "super-block scales", "d = max_j scale_j / 63, dmin = max_j min_j / 63, "
                 "both fp16", v->d);
        SUB(st, "8 sub-blocks of 32 fitted by make_qkx2_quants (weighted least squares)");
        RES(st, "d = %s, dmin = %s", g(a, v->d), g(b, v->dmin));
        NOTE(st, "each sub-block's scale and min are stored as 6-bit multiples of d and dmin");
        break;
    default:    /* Q6_K */
        st = add(tr, "super-block scale", "d = max_j |scale_j| / 128 (sign kept), fp16", v->d);
        SUB(st, "16 sub-blocks of 16 fitted by make_qx_quants (weighted least squares)");
        RES(st, "d = %s", g(a, v->d));
        NOTE(st, "each sub-block's scale is stored as an 8-bit signed multiple of d");
        break;
    }
    for (int k = 0; k < v->nsub && v->nsub > 1; k++) {
        int per = gt->block / v->nsub;
        char title[64];
        snprintf(title, sizeof title, "sub-block %d", k);
        st = add(tr, title, id == QS_GGML_Q4_K ? "step = d · scale_j, offset = dmin · min_j"
                                               : "step = d · scale_j", v->sub_d[k]);
        if (id == QS_GGML_Q4_K) {
            SUB(st, "step = %s · %d, offset = %s · %d", g(a, v->d), v->sub_scale[k],
                g(b, v->dmin), v->sub_min[k]);
            RES(st, "step %s, offset %s", g(c, v->sub_d[k]), g(e, v->sub_m[k]));
        } else {
            SUB(st, "step = %s · %d", g(a, v->d), v->sub_scale[k]);
            RES(st, "step %s", g(c, v->sub_d[k]));
        }
        NOTE(st, "elements %d..%d of the block", k * per, k * per + per - 1);
    }
    /* the bytes, codes and values */
    st = add(tr, "packed bytes", id == QS_GGML_Q4_K || id == QS_GGML_Q6_K
             ? "the super-block as stored: fp16 d (dmin), packed sub-block scales, then the "
               "code nibbles (qs[l] = q[l] | q[l+32] << 4 per 64)"
             : "the block as stored: fp16 d (m), 5th bits (Q5), then nibbles qs[j] = q[j] | "
               "q[j+16] << 4", (double)v->nbytes);
    {
        size_t at = 0;
        for (int i = 0; i < v->nbytes && st; i++) {
            if (at + 8 >= sizeof st->substituted) {
                snprintf(st->substituted + at, sizeof st->substituted - at, " …");
                break;
            }
            at += (size_t)snprintf(st->substituted + at, sizeof st->substituted - at, "%s%02x",
                                   i ? " " : "", v->raw[i]);
        }
    }
    RES(st, "%d bytes", v->nbytes);
    NOTE(st, "'blocks %s block=%lld' shows every byte", qs_qkind_name(sc), (long long)bi);
    st = add(tr, "codes", "unsigned codes as stored", (double)gt->block);
    if (st) list_into(st->substituted, sizeof st->substituted, NULL, v->codes, bl->m);
    RES(st, "%d codes of %d bits (0..%d)", bl->m, sc->bits, qmax);
    st = add(tr, "dequantized values", id == QS_GGML_Q5_0 ? "x̂ = (q - 16) · d" : one
             ? "x̂ = q · d + m" : id == QS_GGML_Q4_K ? "x̂ = step_j · q - offset_j"
             : "x̂ = d · scale_j · (q - 32)", 0.0);
    if (st) list_into(st->substituted, sizeof st->substituted, v->y, NULL, bl->m);
    {
        double me = 0.0;
        for (int i = 0; i < bl->m; i++) me = fmax(me, fabs((double)v->y[i] - bl->x[i]));
        RES(st, "max |x̂ - x| in the block = %s", g(a, me));
        if (st) st->value = me;
    }
    /* one element followed through */
    int k = ggml_sub(id, j), q = v->codes[j];
    float x = bl->x[j], y = v->y[j], d = v->sub_d[k];
    char title[64];
    snprintf(title, sizeof title, "element %lld", (long long)(bl->start + j));
    st = add(tr, title, "x", x);
    SUB(st, "element %d of block %lld", j, (long long)bi);
    RES(st, "x = %s", g(a, x));
    if (v->nsub > 1) NOTE(st, "in sub-block %d", k);
    switch (id) {
    case QS_GGML_Q4_1: case QS_GGML_Q5_1:
        st = add(tr, "quantize", "q = min(qmax, (int)((x - m) · (1/d) + 0.5))", q);
        SUB(st, "(int)((%s - %s) · (1/%s) + 0.5)", g(a, x), gp(b, v->dmin), g(c, v->d));
        NOTE(st, "truncation after + 0.5: round half up");
        break;
    case QS_GGML_Q5_0:
        st = add(tr, "quantize", "q = min(31, (int)(x · (1/d) + 16.5))", q);
        SUB(st, "(int)(%s · (1/%s) + 16.5)", g(a, x), gp(b, v->d));
        NOTE(st, "truncation of v + 16.5: round half up around the offset 16");
        break;
    case QS_GGML_Q4_K:
        st = add(tr, "quantize", "q = clamp(nearest((x + offset_j) / step_j), 0, 15)", q);
        SUB(st, "nearest((%s + %s) / %s)", g(a, x), g(b, v->sub_m[k]), g(c, d));
        NOTE(st, "nearest_int: ties to even");
        break;
    default:
        st = add(tr, "quantize", "q = clamp(nearest(x / (d · scale_j)), -32, 31) + 32", q);
        SUB(st, "nearest(%s / %s) + 32", g(a, x), gp(b, d));
        NOTE(st, "nearest_int: ties to even; stored with the offset 32");
        break;
    }
    RES(st, "q = %d", q);
    st = add(tr, "dequantize", id == QS_GGML_Q5_0 ? "x̂ = (q - 16) · d" : one ? "x̂ = q · d + m"
             : id == QS_GGML_Q4_K ? "x̂ = step_j · q - offset_j" : "x̂ = d · scale_j · (q - 32)",
             y);
    if (id == QS_GGML_Q5_0) SUB(st, "(%d - 16) · %s", q, g(a, v->d));
    else if (one) SUB(st, "%d · %s + %s", q, g(a, v->d), gp(b, v->dmin));
    else if (id == QS_GGML_Q4_K) SUB(st, "%s · %d - %s", g(a, d), q, gp(b, v->sub_m[k]));
    else SUB(st, "%s · %d · (%d - 32)", g(a, v->d), v->sub_scale[k], q);
    RES(st, "x̂ = %s", g(c, y));
    if (!isfinite(y) && isfinite(x))
        NOTE(st, "a scale or minimum beyond fp16's range (65504) is stored as inf, as ggml "
             "does: the block dequantizes to inf or nan");
    st = add(tr, "error", "e = x̂ - x", (double)y - x);
    SUB(st, "%s - %s", g(a, y), gp(b, x));
    RES(st, "e = %s", g(c, (double)y - x));
    tr->set = (int)bi;
    tr->x = x;
    tr->code = q;
    tr->xhat = y;
    free(bl);
    return QS_OK;
}

int qs_derive(const qs_tensor *t, const qs_scheme *sc, const qs_calib *c,
              const qs_derive_opts *o, qs_trace *tr, qs_err *err)
{
    return qs_derive_cal(t, sc, c, NULL, o, tr, err);
}

int qs_derive_cal(const qs_tensor *t, const qs_scheme *sc, const qs_calib *c,
                  const qs_calib_result *cal, const qs_derive_opts *o, qs_trace *tr,
                  qs_err *err)
{
    memset(tr, 0, sizeof *tr);
    if (!t || t->n <= 0) return qs_err_set(err, "derive: the tensor is empty");
    if (!o->has_value && (o->index < 0 || o->index >= t->n))
        return qs_err_set(err, "derive: index=%lld out of range 0..%lld", (long long)o->index,
                          (long long)t->n - 1);
    int rc;
    switch (sc->kind) {
    case QS_Q_NF4: case QS_Q_FP4: rc = derive_codebook(t, sc, o, tr, err); break;
    case QS_Q_FP16: case QS_Q_BF16: case QS_Q_FP8_E4M3: case QS_Q_FP8_E5M2:
        rc = derive_cast(t, sc, o, tr, err);
        break;
    case QS_Q_MX: rc = qs_mx_derive(t, sc, o, tr, err); break;
    case QS_Q_GGML:
        if (qs_scheme_ggml_block(sc) >= 0) { rc = derive_ggml(t, sc, o, tr, err); break; }
        rc = derive_int(t, sc, c, cal, o, tr, err);
        break;
    default: rc = derive_int(t, sc, c, cal, o, tr, err); break;
    }
    if (rc == QS_OK && tr->n == 0) rc = qs_err_set(err, "derive: out of memory");
    if (rc != QS_OK) qs_trace_fini(tr);
    return rc;
}
