/* mx.c — OCP Microscaling (MX v1.0) block formats and NVIDIA NVFP4: the format table, element
 * encode / decode (through numfmt's exact round-to-nearest-even), and quantizing a tensor
 * block by block along its rows (see mx.h for the rules). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/mx.h"
#include "qscope/numfmt.h"

static const qs_mx_type types[QS_MX_COUNT] = {
    {QS_MX_FP8_E4M3, "mxfp8_e4m3", "OCP MXFP8: FP8 E4M3 elements, blocks of 32, E8M0 scale",
     32, QS_FMT_E4M3, "fp8-e4m3", 8, 8, 448.0, QS_FMT_E8M0, 0},
    {QS_MX_FP8_E5M2, "mxfp8_e5m2", "OCP MXFP8: FP8 E5M2 elements, blocks of 32, E8M0 scale",
     32, QS_FMT_E5M2, "fp8-e5m2", 8, 15, 57344.0, QS_FMT_E8M0, 0},
    {QS_MX_FP6_E3M2, "mxfp6_e3m2", "OCP MXFP6: FP6 E3M2 elements, blocks of 32, E8M0 scale",
     32, QS_FMT_E3M2, "fp6-e3m2", 6, 4, 28.0, QS_FMT_E8M0, 0},
    {QS_MX_FP6_E2M3, "mxfp6_e2m3", "OCP MXFP6: FP6 E2M3 elements, blocks of 32, E8M0 scale",
     32, QS_FMT_E2M3, "fp6-e2m3", 6, 2, 7.5, QS_FMT_E8M0, 0},
    {QS_MX_FP4_E2M1, "mxfp4", "OCP MXFP4: FP4 E2M1 elements, blocks of 32, E8M0 scale",
     32, QS_FMT_E2M1, "fp4-e2m1", 4, 2, 6.0, QS_FMT_E8M0, 0},
    {QS_MX_INT8, "mxint8", "OCP MXINT8: int8 elements (implicit 2^-6), blocks of 32, E8M0 "
     "scale", 32, -1, "int8", 8, 0, 127.0 / 64.0, QS_FMT_E8M0, 0},
    {QS_MX_NVFP4, "nvfp4", "NVIDIA NVFP4: FP4 E2M1 elements, blocks of 16, E4M3 scale, FP32 "
     "tensor scale", 16, QS_FMT_E2M1, "fp4-e2m1", 4, 2, 6.0, QS_FMT_E4M3, 1},
};

const qs_mx_type *qs_mx_type_info(int id)
{
    return id >= 0 && id < QS_MX_COUNT ? &types[id] : NULL;
}

int qs_mx_find(const char *name)
{
    if (!name) return -1;
    for (int i = 0; i < QS_MX_COUNT; i++)
        if (strcmp(name, types[i].name) == 0) return i;
    return -1;
}

double qs_mx_bits_per_weight(int id, int64_t n, int64_t nblocks)
{
    const qs_mx_type *t = qs_mx_type_info(id);
    if (!t) return NAN;
    int sbits = 8;      /* E8M0 and E4M3 are both 8 bits */
    if (n <= 0 || nblocks <= 0) return t->elem_bits + (double)sbits / t->block;
    double b = t->elem_bits + (double)sbits * (double)nblocks / (double)n;
    if (t->tensor_scale) b += 32.0 / (double)n;
    return b;
}

/* ---- elements ----------------------------------------------------------------------------- */

/* round half to even of |v| < 2^52 */
static double rne(double v)
{
    double fl = floor(v), d = v - fl;
    if (d > 0.5) return fl + 1;
    if (d < 0.5) return fl;
    return fmod(fl, 2.0) != 0 ? fl + 1 : fl;
}

uint32_t qs_mx_elem_encode(const qs_mx_type *t, double v, int *sat)
{
    int s = fabs(v) > t->elem_max;
    if (sat) *sat = s;
    if (t->elem_fmt < 0) {                     /* MXINT8: code = rne(v · 64), ±127 */
        double c = isnan(v) ? 0.0 : v > 2.0 ? 128.0 : v < -2.0 ? -128.0 : rne(v * 64.0);
        if (c > 127) c = 127;
        if (c < -127) c = -127;
        return (uint32_t)((int32_t)c) & 0xFFu;
    }
    return qs_numfmt_encode(qs_numfmt_get((qs_fmt_id)t->elem_fmt), v, QS_OVF_SATURATE, NULL);
}

double qs_mx_elem_decode(const qs_mx_type *t, uint32_t code)
{
    if (t->elem_fmt < 0) return (double)(int8_t)(uint8_t)code / 64.0;
    return qs_numfmt_decode(qs_numfmt_get((qs_fmt_id)t->elem_fmt), code);
}

/* ---- blocks ------------------------------------------------------------------------------- */

static int64_t row_len(const qs_tensor *t)
{
    return t->ndim > 0 ? t->shape[t->ndim - 1] : 1;
}

int64_t qs_mx_tensor_nblocks(int id, const qs_tensor *t)
{
    const qs_mx_type *ty = qs_mx_type_info(id);
    int64_t L = row_len(t);
    if (!ty || L <= 0 || t->n <= 0) return 0;
    return (t->n / L) * ((L + ty->block - 1) / ty->block);
}

int64_t qs_mx_block_of(int id, const qs_tensor *t, int64_t e)
{
    const qs_mx_type *ty = qs_mx_type_info(id);
    int64_t L = row_len(t), nbr = (L + ty->block - 1) / ty->block;
    return (e / L) * nbr + (e % L) / ty->block;
}

/* Largest finite |x| of the tensor (NVFP4's per-tensor amax). */
static float tensor_amax(const qs_tensor *t)
{
    float a = 0.0f;
    for (int64_t i = 0; i < t->n; i++) {
        float v = fabsf(t->data[i]);
        if (isfinite(v) && v > a) a = v;
    }
    return a;
}

/* An element's code through the exact lookup tables (numfmt.h) when v is a float32 (always,
 * but for values past float32's range and NaN, which take the encoder); lut NULL: the
 * encoder. */
static uint32_t elem_encode(const qs_mx_type *ty, const qs_numfmt_lut *lut, double v, int *sat)
{
    float vf = (float)v;
    if (!lut || (double)vf != v) return qs_mx_elem_encode(ty, v, sat);
    *sat = fabs(v) > ty->elem_max;
    return qs_numfmt_lut_encode(lut, vf);
}
static double elem_decode(const qs_mx_type *ty, const qs_numfmt_lut *lut, uint32_t code)
{
    return lut ? (double)lut->dec[code & 0xFFu] : qs_mx_elem_decode(ty, code);
}

/* Quantizes the m values x of one block into b (x, m and the index fields set by the caller);
 * lut: the element format's tables, or NULL. */
static void quant_block(const qs_mx_type *ty, float ts, const qs_numfmt_lut *lut, qs_mx_block *b)
{
    double amax = 0.0;
    b->special = 0;
    b->clipped = 0;
    for (int i = 0; i < b->m; i++) {
        double a = fabs((double)b->x[i]);
        if (!isfinite(a)) b->special = 1;
        if (a > amax || isnan(a)) amax = isnan(amax) ? amax : a;
    }
    b->amax = amax;
    if (ty->tensor_scale) {                        /* NVFP4 */
        const qs_numfmt *e4 = qs_numfmt_get(QS_FMT_E4M3);
        float bam = 0.0f;
        for (int i = 0; i < b->m; i++)
            if (isfinite(b->x[i]) && fabsf(b->x[i]) > bam) bam = fabsf(b->x[i]);
        b->tensor_scale = ts;
        b->scale_in = ts > 0.0f ? bam / 6.0f / ts : 0.0f;
        b->scale_code = qs_numfmt_encode(e4, (double)b->scale_in, QS_OVF_SATURATE, NULL);
        b->scale_value = qs_numfmt_decode(e4, b->scale_code);
        b->step = (float)b->scale_value * ts;
        b->shared_exp = b->shared_exp_raw = 0;
        for (int i = 0; i < b->m; i++) {
            float x = b->x[i];
            if (isnan(x)) x = 0.0f;                 /* NaN stores 0 (E2M1 has no NaN) */
            float v = b->step > 0.0f ? x / b->step : 0.0f;
            int sat = 0;
            b->codes[i] = elem_encode(ty, lut, (double)v, &sat);
            b->clipped += sat;                      /* ±Inf saturates too: clipped */
            b->y[i] = (float)(elem_decode(ty, lut, b->codes[i]) * (double)b->step);
        }
        return;
    }
    if (b->special) {                              /* NaN scale: the whole block is NaN */
        b->shared_exp = b->shared_exp_raw = 128;
        b->scale_code = 0xFFu;
        b->scale_value = NAN;
        b->step = NAN;
        for (int i = 0; i < b->m; i++) { b->codes[i] = 0; b->y[i] = NAN; }
        return;
    }
    int e;
    if (amax > 0.0) {
        int k;
        frexp(amax, &k);
        e = (k - 1) - ty->emax_elem;               /* floor(log2 amax) - emax_elem */
    } else {
        e = -127 - 1;                              /* no magnitude: the smallest scale */
    }
    b->shared_exp_raw = amax > 0.0 ? e : -127;
    if (e < -127) e = -127;
    if (e > 127) e = 127;                          /* unreachable from float32 inputs */
    b->shared_exp = e;
    b->scale_code = (uint32_t)(e + 127);
    b->scale_value = ldexp(1.0, e);
    b->step = (float)b->scale_value;               /* 2^-127 is a float32 subnormal: exact */
    for (int i = 0; i < b->m; i++) {
        double v = (double)b->x[i] / b->scale_value;   /* exact: a power of two */
        int sat = 0;
        b->codes[i] = elem_encode(ty, lut, v, &sat);
        b->clipped += sat;
        b->y[i] = (float)(elem_decode(ty, lut, b->codes[i]) * b->scale_value);
    }
}

static void block_bounds(const qs_mx_type *ty, const qs_tensor *t, int64_t bi, qs_mx_block *b)
{
    int64_t L = row_len(t), nbr = (L + ty->block - 1) / ty->block;
    int64_t r = bi / nbr, k = bi % nbr;
    b->index = bi;
    b->start = r * L + k * ty->block;
    b->m = (int)(L - k * ty->block < ty->block ? L - k * ty->block : ty->block);
    memset(b->x, 0, sizeof b->x);
    memcpy(b->x, t->data + b->start, (size_t)b->m * sizeof(float));
}

static float nvfp4_ts(const qs_tensor *t, float *amax)
{
    float a = tensor_amax(t);
    if (amax) *amax = a;
    return a / (448.0f * 6.0f);
}

int qs_mx_tensor_block(int id, const qs_tensor *t, int64_t bi, qs_mx_block *b, qs_err *err)
{
    const qs_mx_type *ty = qs_mx_type_info(id);
    if (!ty) return qs_err_set(err, "mx: unknown format %d", id);
    int64_t nb = qs_mx_tensor_nblocks(id, t);
    if (bi < 0 || bi >= nb)
        return qs_err_set(err, "block=%lld: out of range 0..%lld (%s blocks of %d along the "
                          "last axis)", (long long)bi, (long long)nb - 1, ty->name, ty->block);
    memset(b, 0, sizeof *b);
    float am = 0.0f, ts = ty->tensor_scale ? nvfp4_ts(t, &am) : 1.0f;
    block_bounds(ty, t, bi, b);
    quant_block(ty, ts, NULL, b);
    b->tensor_amax = am;
    b->tensor_scale = ts;
    return QS_OK;
}

int qs_mx_tensor_codes(int id, const qs_tensor *t, float *y, int32_t *codes, float *scales,
                       uint32_t *scale_codes, int64_t *clipped, float *tensor_scale,
                       qs_err *err)
{
    const qs_mx_type *ty = qs_mx_type_info(id);
    if (!ty) return qs_err_set(err, "mx: unknown format %d", id);
    int64_t nb = qs_mx_tensor_nblocks(id, t), clip = 0;
    float ts = ty->tensor_scale ? nvfp4_ts(t, NULL) : 1.0f;
    qs_mx_block *b = malloc(sizeof *b);
    if (!b) return qs_err_set(err, "mx: out of memory");
    /* a large tensor: the element format's exact tables (2^17 encoder calls to build; one
     * call per value took 2 s on 16M values) */
    const qs_numfmt *ef = ty->elem_fmt >= 0 ? qs_numfmt_get((qs_fmt_id)ty->elem_fmt) : NULL;
    qs_numfmt_lut *lut = t->n >= ((int64_t)1 << 18) && qs_numfmt_lut_ok(ef) ? malloc(sizeof *lut)
                                                                           : NULL;
    if (lut) qs_numfmt_lut_init(ef, QS_OVF_SATURATE, lut);
    for (int64_t bi = 0; bi < nb; bi++) {
        block_bounds(ty, t, bi, b);
        quant_block(ty, ts, lut, b);
        clip += b->clipped;
        for (int i = 0; i < b->m; i++) {
            if (y) y[b->start + i] = b->y[i];
            if (codes) codes[b->start + i] = ty->elem_fmt < 0
                                                 ? (int32_t)(int8_t)(uint8_t)b->codes[i]
                                                 : (int32_t)b->codes[i];
        }
        if (scales) scales[bi] = b->step;
        if (scale_codes) scale_codes[bi] = b->scale_code;
    }
    free(b);
    free(lut);
    if (clipped) *clipped = clip;
    if (tensor_scale) *tensor_scale = ts;
    return QS_OK;
}

/* ---- NaN and Inf ---------------------------------------------------------------------------- */

void qs_mx_tensor_specials(int id, const qs_tensor *t, qs_mx_specials *sp)
{
    const qs_mx_type *ty = qs_mx_type_info(id);
    memset(sp, 0, sizeof *sp);
    if (!ty) return;
    int64_t L = row_len(t), nb = qs_mx_tensor_nblocks(id, t);
    for (int64_t bi = 0; bi < nb; bi++) {
        int64_t nbr = (L + ty->block - 1) / ty->block, r = bi / nbr, k = bi % nbr;
        int64_t e0 = r * L + k * ty->block;
        int64_t e1 = e0 + (L - k * ty->block < ty->block ? L - k * ty->block : ty->block);
        int64_t nn = 0, ni = 0;
        for (int64_t e = e0; e < e1; e++) {
            nn += isnan(t->data[e]) != 0;
            ni += isinf(t->data[e]) != 0;
        }
        sp->nan += nn;
        sp->inf += ni;
        if ((nn || ni) && !ty->tensor_scale) {
            sp->blocks++;
            sp->finite_nan += (e1 - e0) - nn - ni;
        }
    }
}

int qs_mx_specials_text(int id, const qs_mx_specials *sp, char *buf, size_t len)
{
    const qs_mx_type *ty = qs_mx_type_info(id);
    if (len) buf[0] = 0;
    if (!ty || (sp->nan == 0 && sp->inf == 0)) return 0;
    char what[64];
    if (sp->nan && sp->inf)
        snprintf(what, sizeof what, "%lld NaN and %lld ±Inf", (long long)sp->nan,
                 (long long)sp->inf);
    else
        snprintf(what, sizeof what, "%lld %s", (long long)(sp->nan + sp->inf),
                 sp->nan ? "NaN" : "±Inf");
    if (ty->tensor_scale)       /* NVFP4: E2M1 and the E4M3 scale have no code for them */
        snprintf(buf, len, "the tensor holds %s; E2M1 has no NaN or Inf code: qscope leaves "
                 "them out of the tensor and block amax, stores NaN as code 0 (it "
                 "dequantizes to 0; the metrics skip it) and saturates ±Inf to ±6 · d "
                 "(counted as clipped)", what);
    else
        snprintf(buf, len, "the tensor holds %s: qscope gives the %lld block%s of %d holding "
                 "them the NaN scale (E8M0 0xFF), and a NaN scale makes every value of its "
                 "block NaN (OCP MX v1.0), so all %lld finite value%s in %s decode to NaN",
                 what, (long long)sp->blocks,
                 sp->blocks == 1 ? "" : "s", ty->block,
                 (long long)sp->finite_nan, sp->finite_nan == 1 ? "" : "s",
                 sp->blocks == 1 ? "it" : "them");
    return 1;
}
