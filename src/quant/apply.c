/* apply.c — applying a scheme to a tensor: integer grids and ggml Q8_0/Q4_0 blocks through
 * qs_k()->fakequant, the other ggml block formats through ggml.c's reference quantizers, float casts (fp16/bf16 kernels, fp8 through numfmt), NF4/FP4 through
 * qs_k()->cb4_encode/decode with bitsandbytes' double quantization of the absmax constants,
 * then error statistics and the error histogram. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/ggml.h"
#include "qscope/mx.h"
#include "qscope/numfmt.h"
#include "qscope/quant.h"

void qs_qstate_fini(qs_qstate *q)
{
    if (!q) return;
    qs_qparams_fini(&q->qp);
    free(q->absmax);
    free(q->absmax_dq);
    free(q->dq_absmax);
    free(q->dq_codes);
    memset(q, 0, sizeof *q);
    q->fmt = -1;
}

void qs_qresult_fini(qs_qresult *r)
{
    if (!r) return;
    free(r->eh_counts);
    r->eh_counts = NULL;
}

/* Integer grids through the fakequant kernel; not ggml's formats. */
static int is_int_kind(const qs_scheme *s)
{
    return (s->kind == QS_Q_INT && s->conv != QS_CONV_GGML) ||
           (s->kind == QS_Q_GGML && qs_scheme_ggml_block(s) < 0);
}

/* The ggml type whose reference quantizer (ggml.c) applies the scheme: Q8_0 and Q4_0 (which
 * also carry qs_qparams, for `qparams` and `derive`) and the block formats; -1 otherwise.
 * One quantizer for `scheme`, `blocks` and `export`, so they cannot disagree. */
static int ggml_apply_id(const qs_scheme *s)
{
    int id = qs_scheme_ggml_block(s);
    if (id >= 0) return id;
    if (s->kind == QS_Q_INT && s->conv == QS_CONV_GGML) return qs_scheme_ggml_id(s);
    return -1;
}

/* Largest finite |x| of each block of `block` consecutive elements (0 when none). */
static int block_absmax(const float *x, int64_t n, int block, float *am, qs_err *err)
{
    qs_layout l;
    int64_t shape[1] = { n };
    qs_layout_make(1, shape, QS_G_GROUP, 0, block, &l);
    int64_t nb = qs_layout_nparams(&l);
    float *mn = malloc((size_t)nb * sizeof *mn), *mx = malloc((size_t)nb * sizeof *mx);
    if (!mn || !mx) { free(mn); free(mx); return qs_err_set(err, "quant: out of memory"); }
    for (int64_t b = 0; b < nb; b++) { mn[b] = INFINITY; mx[b] = -INFINITY; }
    qs_k()->minmax_layout(x, &l, mn, mx);
    for (int64_t b = 0; b < nb; b++) {
        if (isinf(mn[b]) || isinf(mx[b])) {        /* infinities or all NaN: finite only */
            int64_t e0 = b * block, e1 = e0 + block < n ? e0 + block : n, f;
            qs_finite_minmax(x + e0, e1 - e0, &mn[b], &mx[b], &f, NULL, NULL);
        }
        am[b] = fmaxf(fabsf(mn[b]), fabsf(mx[b]));
    }
    free(mn);
    free(mx);
    return QS_OK;
}

int qs_qstate_init(qs_qstate *q, const qs_scheme *sc, const qs_tensor *x, const float *lo,
                   const float *hi, qs_err *err)
{
    memset(q, 0, sizeof *q);
    q->scheme = *sc;
    q->fmt = -1;
    if (x->n <= 0) return qs_err_set(err, "quant: the tensor is empty");
    switch (sc->kind) {
    case QS_Q_FP16: q->fmt = QS_FMT_FP16; return QS_OK;
    case QS_Q_BF16: q->fmt = QS_FMT_BF16; return QS_OK;
    case QS_Q_FP8_E4M3: q->fmt = QS_FMT_E4M3; return QS_OK;
    case QS_Q_FP8_E5M2: q->fmt = QS_FMT_E5M2; return QS_OK;
    case QS_Q_NF4:
    case QS_Q_FP4: {
        q->block = sc->group >= 2 ? sc->group : 64;
        q->nblocks = (x->n + q->block - 1) / q->block;
        if (sc->kind == QS_Q_NF4) {
            memcpy(q->table, qs_nf4_table, sizeof q->table);
            for (int i = 0; i < 16; i++) q->code_of[i] = i;
        } else {
            qs_fp4_sorted(q->table, q->code_of);
        }
        q->absmax = malloc((size_t)q->nblocks * sizeof *q->absmax);
        q->absmax_dq = malloc((size_t)q->nblocks * sizeof *q->absmax_dq);
        if (!q->absmax || !q->absmax_dq) { qs_qstate_fini(q); return qs_err_set(err,
                                                              "quant: out of memory"); }
        if (block_absmax(x->data, x->n, q->block, q->absmax, err) != QS_OK) {
            qs_qstate_fini(q);
            return QS_ERR;
        }
        memcpy(q->absmax_dq, q->absmax, (size_t)q->nblocks * sizeof *q->absmax);
        if (!sc->dq) return QS_OK;
        /* bitsandbytes quantize_4bit(compress_statistics=True): offset = absmax.mean();
         * absmax - offset quantized blockwise (256) with the signed dynamic 8-bit map,
         * multiplying by 1/absmax2 as the kernel does. */
        double sum = 0.0;
        for (int64_t b = 0; b < q->nblocks; b++) sum += q->absmax[b];
        q->dq_offset = (float)(sum / (double)q->nblocks);
        q->dq_nblocks = (q->nblocks + 255) / 256;
        q->dq_absmax = malloc((size_t)q->dq_nblocks * sizeof *q->dq_absmax);
        q->dq_codes = malloc((size_t)q->nblocks);
        if (!q->dq_absmax || !q->dq_codes) { qs_qstate_fini(q); return qs_err_set(err,
                                                                "quant: out of memory"); }
        float map[256];
        qs_dynamic_map(map);
        for (int64_t g = 0; g < q->dq_nblocks; g++) {
            int64_t b0 = g * 256, b1 = b0 + 256 < q->nblocks ? b0 + 256 : q->nblocks;
            float a2 = 0.0f;
            for (int64_t b = b0; b < b1; b++) a2 = fmaxf(a2, fabsf(q->absmax[b] - q->dq_offset));
            q->dq_absmax[g] = a2;
            float r = a2 > 0.0f ? 1.0f / a2 : 0.0f;
            for (int64_t b = b0; b < b1; b++) {
                float c = (q->absmax[b] - q->dq_offset) * r;
                int idx = qs_dynamic_map_index(map, c);
                q->dq_codes[b] = (uint8_t)idx;
                q->absmax_dq[b] = map[idx] * a2 + q->dq_offset;
            }
        }
        return QS_OK;
    }
    case QS_Q_MX:
        q->block = sc->group;
        q->nblocks = qs_mx_tensor_nblocks(sc->mx_type, x);
        return QS_OK;
    case QS_Q_GGML: {
        int id = qs_scheme_ggml_block(sc);
        if (id < 0) break;              /* Q8_0 / Q4_0: the integer path below */
        q->block = qs_ggml_type_info(id)->block;
        q->nblocks = qs_ggml_tensor_nblocks(id, x);
        return QS_OK;
    }
    default:
        break;
    }
    if (!is_int_kind(sc) && ggml_apply_id(sc) < 0)
        return qs_err_set(err, "quant: unsupported scheme kind %d", (int)sc->kind);
    qs_layout l;
    if (qs_scheme_layout(sc, x->ndim, x->shape, &l, err) != QS_OK) return QS_ERR;
    if (sc->kind == QS_Q_GGML || sc->conv == QS_CONV_GGML) {
        /* ggml ignores calibration: each block's own amax (Q8_0) or signed max (Q4_0,
         * the first element with the largest |x|) */
        int rc = qs_qparams_ggml(sc, &l, x->data, x->n, &q->qp, -1, NULL, err);
        if (rc == QS_OK && ggml_apply_id(sc) >= 0) {
            q->block = 32;
            q->nblocks = qs_ggml_tensor_nblocks(ggml_apply_id(sc), x);
        }
        return rc;
    }
    return qs_qparams_compute(sc, &l, lo, hi, NULL, &q->qp, err);
}

int qs_layout_gather(const float *x, const qs_layout *l, float **buf, int64_t **off,
                     qs_err *err)
{
    int64_t n = qs_layout_numel(l), np = qs_layout_nparams(l);
    float *b = malloc((size_t)(n > 0 ? n : 1) * sizeof *b);
    int64_t *o = calloc((size_t)np + 1, sizeof *o), *fill = calloc((size_t)np, sizeof *fill);
    if (!b || !o || !fill) {
        free(b); free(o); free(fill);
        return qs_err_set(err, "out of memory gathering %lld parameter sets", (long long)np);
    }
    for (int64_t e = 0; e < n; e++) o[qs_layout_index(l, e) + 1]++;
    for (int64_t p = 0; p < np; p++) o[p + 1] += o[p];
    for (int64_t e = 0; e < n; e++) {
        int64_t p = qs_layout_index(l, e);
        b[o[p] + fill[p]++] = x[e];
    }
    free(fill);
    *buf = b;
    *off = o;
    return QS_OK;
}

/* ---- application ------------------------------------------------------------------------ */

/* Float casts: y = decode(encode(x)); codes = bit patterns. fp16/bf16 use the kernels; fp8
 * goes through numfmt with a saturating cast (as scaled FP8 recipes and CUDA's
 * __NV_SATFINITE do; E5M2 would otherwise overflow to Inf). *clipped: the values the
 * saturating cast clamped — |x| beyond the format's largest finite value, ±Inf included —
 * the rule MX elements follow (mx.c); fp16/bf16 overflow to Inf is counted by the caller. */
static int apply_float(const qs_qstate *q, const qs_tensor *x, float *y, int32_t *codes,
                       int64_t *clipped, qs_err *err)
{
    *clipped = 0;
    int64_t n = x->n;
    if (q->fmt == QS_FMT_FP16 || q->fmt == QS_FMT_BF16) {
        uint16_t *h = malloc((size_t)n * sizeof *h);
        if (!h) return qs_err_set(err, "quant: out of memory");
        if (q->fmt == QS_FMT_FP16) {
            qs_k()->f32_to_f16(x->data, n, h);
            qs_k()->f16_to_f32(h, n, y);
        } else {
            qs_k()->f32_to_bf16(x->data, n, h);
            qs_k()->bf16_to_f32(h, n, y);
        }
        if (codes) for (int64_t e = 0; e < n; e++) codes[e] = h[e];
        free(h);
        return QS_OK;
    }
    const qs_numfmt *f = qs_numfmt_get((qs_fmt_id)q->fmt);
    if (!f) return qs_err_set(err, "quant: unknown float format");
    /* FP8 / FP6 / FP4 on a large tensor: the exact lookup tables (numfmt.h), built with the
     * same encoder in 2^17 calls; one call per value took 1.5 s on 16M values */
    qs_numfmt_lut *t = n >= ((int64_t)1 << 18) && qs_numfmt_lut_ok(f) ? malloc(sizeof *t)
                                                                      : NULL;
    int64_t clip = 0;
    for (int64_t e = 0; e < n; e++) clip += fabs((double)x->data[e]) > f->max;
    *clipped = clip;
    if (t) {
        qs_numfmt_lut_init(f, QS_OVF_SATURATE, t);
        for (int64_t e = 0; e < n; e++) {
            uint8_t c = qs_numfmt_lut_encode(t, x->data[e]);
            y[e] = t->dec[c];
            if (codes) codes[e] = c;
        }
        free(t);
        return QS_OK;
    }
    for (int64_t e = 0; e < n; e++) {
        uint32_t pat = qs_numfmt_encode(f, (double)x->data[e], QS_OVF_SATURATE, NULL);
        y[e] = (float)qs_numfmt_decode(f, pat);
        if (codes) codes[e] = (int32_t)pat;
    }
    return QS_OK;
}

static int apply_codebook(const qs_qstate *q, const qs_tensor *x, float *y, int32_t *codes,
                          qs_err *err)
{
    int64_t n = x->n;
    uint8_t *packed = malloc((size_t)(n + 1) / 2);
    float *am = malloc((size_t)q->nblocks * sizeof *am);
    float *clean = NULL;
    const float *in = x->data;
    int rc = QS_OK;
    if (!packed || !am) { rc = qs_err_set(err, "quant: out of memory"); goto done; }
    /* ±Inf would make a block's absmax infinite: they saturate to ± the block's finite
     * absmax instead (documented behaviour) */
    for (int64_t e = 0; e < n; e++) {
        if (!isinf(x->data[e])) continue;
        if (!clean) {
            clean = malloc((size_t)n * sizeof *clean);
            if (!clean) { rc = qs_err_set(err, "quant: out of memory"); goto done; }
            memcpy(clean, x->data, (size_t)n * sizeof *clean);
        }
        float a = q->absmax[e / q->block];
        clean[e] = x->data[e] > 0 ? a : -a;
    }
    if (clean) in = clean;
    qs_k()->cb4_encode(in, n, q->block, q->table, packed, am);
    qs_k()->cb4_decode(packed, q->absmax_dq, n, q->block, q->table, y);
    if (codes)
        for (int64_t e = 0; e < n; e++) {
            int k = e % 2 == 0 ? packed[e / 2] >> 4 : packed[e / 2] & 0x0f;
            codes[e] = q->code_of[k];
        }
done:
    free(packed);
    free(am);
    free(clean);
    return rc;
}

int qs_quant_apply(const qs_qstate *q, const qs_tensor *x, float *y, int32_t *codes,
                   qs_qresult *r, qs_err *err)
{
    int64_t n = x->n;
    float *yb = y;
    uint8_t *cb = NULL;
    int rc = QS_OK;
    int want_h = r && r->eh_bins > 0;
    if (r) {
        int bins = r->eh_bins;
        memset(r, 0, sizeof *r);
        r->eh_bins = bins;
    }
    /* integer grids compute y inside the fused pass: no buffer unless the caller wants y */
    if (!yb && !is_int_kind(&q->scheme)) {
        yb = malloc((size_t)n * sizeof *yb);
        if (!yb) return qs_err_set(err, "quant: out of memory");
    }
    if (is_int_kind(&q->scheme)) {
        qs_qp k = qs_qparams_kernel(&q->qp);
        qs_errstats st;
        if (codes) {
            cb = malloc((size_t)n);
            if (!cb) { rc = qs_err_set(err, "quant: out of memory"); goto done; }
        }
        qs_k()->fakequant(x->data, &q->qp.layout, &k, yb, cb, &st, NULL);
        if (r) r->st = st;
        if (codes) {
            int sgn = q->qp.qmin < 0;
            for (int64_t e = 0; e < n; e++)
                codes[e] = sgn ? (int32_t)(int8_t)cb[e] : (int32_t)cb[e];
        }
    } else if (q->scheme.kind == QS_Q_MX) {
        int64_t clipped = 0;
        rc = qs_mx_tensor_codes(q->scheme.mx_type, x, yb, codes, NULL, NULL, &clipped, NULL,
                                err);
        if (rc != QS_OK) goto done;
        if (r) {
            qs_k()->errstats(x->data, yb, n, &r->st, NULL);
            r->st.clipped = clipped;
        }
    } else if (ggml_apply_id(&q->scheme) >= 0) {
        int id = ggml_apply_id(&q->scheme);
        int64_t clipped = 0;
        rc = qs_ggml_tensor_codes(id, x, yb, codes, NULL, NULL, &clipped, err);
        if (rc != QS_OK) goto done;
        if (r) {
            qs_k()->errstats(x->data, yb, n, &r->st, NULL);
            r->st.clipped = clipped;
            r->overflow = qs_ggml_tensor_overflow(id, x);
        }
    } else {
        int64_t sat = 0;
        rc = q->fmt >= 0 ? apply_float(q, x, yb, codes, &sat, err)
                         : apply_codebook(q, x, yb, codes, err);
        if (rc != QS_OK) goto done;
        if (r) {
            qs_k()->errstats(x->data, yb, n, &r->st, NULL);
            r->st.clipped += sat;
            /* a finite value the format cannot hold became ±Inf (fp16's IEEE cast of 70000):
             * it is clipped, with an infinite error — never an exact-looking result */
            int64_t over = 0;
            for (int64_t e = 0; e < n; e++)
                over += isfinite(x->data[e]) && isinf(yb[e]);
            r->st.clipped += over;
        }
    }
    /* a finite x that came back ±Inf or NaN (an fp16 cast past ±65504, a ggml block scale
     * stored as fp16 Inf): counted, so that no face shows the statistics as if clean */
    if (r && yb)
        for (int64_t e = 0; e < n; e++)
            if (isfinite(x->data[e]) && !isfinite(yb[e])) r->nonfinite++;
    if (want_h) {
        double m = r->st.max_abs_e > 0.0 && isfinite(r->st.max_abs_e) ? r->st.max_abs_e : 1.0;
        r->eh_counts = calloc((size_t)r->eh_bins, sizeof *r->eh_counts);
        if (!r->eh_counts) { rc = qs_err_set(err, "quant: out of memory"); goto done; }
        r->eh_lo = -m;
        r->eh_hi = m;
        qs_hist h = { r->eh_bins, -m, m, r->eh_counts, 0, 0, 0 };
        qs_errstats st2;
        /* the range is known only after the first pass: a second one bins e = y - x (an
         * integer grid without y kept recomputes y in the fused pass — the same y, so the
         * same bins as errstats on a stored y; r->st stays the first pass's) */
        if (yb) qs_k()->errstats(x->data, yb, n, &st2, &h);
        else {
            qs_qp k = qs_qparams_kernel(&q->qp);
            qs_k()->fakequant(x->data, &q->qp.layout, &k, NULL, NULL, &st2, &h);
        }
        r->eh_under = h.under;
        r->eh_over = h.over;
    }
done:
    if (yb != y) free(yb);
    free(cb);
    return rc;
}
