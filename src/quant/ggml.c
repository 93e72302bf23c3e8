/* ggml.c — llama.cpp's ggml block formats: type table, dequantization of F32..Q6_K blocks
 * and quantization with ggml's reference rules (quantize_row_*_ref of ggml-quants.c), plus
 * the one-block view the Derive screen and the `blocks` command show. */
#include "qscope/ggml.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "qscope/kernels.h"

/* ==== type table ========================================================================== */

static const qs_ggml_type types[] = {
    {QS_GGML_F32, "F32", 1, 4, QS_DT_F32, 0},
    {QS_GGML_F16, "F16", 1, 2, QS_DT_F16, 0},
    {QS_GGML_Q4_0, "Q4_0", 32, 18, QS_DT_Q4_0, 1},
    {QS_GGML_Q4_1, "Q4_1", 32, 20, QS_DT_Q4_1, 1},
    {4, "Q4_2", 32, 0, QS_DT_COUNT, 0},          /* removed from ggml */
    {5, "Q4_3", 32, 0, QS_DT_COUNT, 0},          /* removed from ggml */
    {QS_GGML_Q5_0, "Q5_0", 32, 22, QS_DT_Q5_0, 1},
    {QS_GGML_Q5_1, "Q5_1", 32, 24, QS_DT_Q5_1, 1},
    {QS_GGML_Q8_0, "Q8_0", 32, 34, QS_DT_Q8_0, 1},
    {QS_GGML_Q8_1, "Q8_1", 32, 36, QS_DT_COUNT, 0},
    {QS_GGML_Q2_K, "Q2_K", 256, 84, QS_DT_Q2_K, 0},
    {QS_GGML_Q3_K, "Q3_K", 256, 110, QS_DT_Q3_K, 0},
    {QS_GGML_Q4_K, "Q4_K", 256, 144, QS_DT_Q4_K, 1},
    {QS_GGML_Q5_K, "Q5_K", 256, 176, QS_DT_Q5_K, 0},
    {QS_GGML_Q6_K, "Q6_K", 256, 210, QS_DT_Q6_K, 1},
    {QS_GGML_Q8_K, "Q8_K", 256, 292, QS_DT_COUNT, 0},
    {16, "IQ2_XXS", 256, 66, QS_DT_COUNT, 0},
    {17, "IQ2_XS", 256, 74, QS_DT_COUNT, 0},
    {18, "IQ3_XXS", 256, 98, QS_DT_COUNT, 0},
    {19, "IQ1_S", 256, 50, QS_DT_COUNT, 0},
    {20, "IQ4_NL", 32, 18, QS_DT_COUNT, 0},
    {21, "IQ3_S", 256, 110, QS_DT_COUNT, 0},
    {22, "IQ2_S", 256, 82, QS_DT_COUNT, 0},
    {23, "IQ4_XS", 256, 136, QS_DT_COUNT, 0},
    {QS_GGML_I8, "I8", 1, 1, QS_DT_I8, 0},
    {QS_GGML_I16, "I16", 1, 2, QS_DT_I16, 0},
    {QS_GGML_I32, "I32", 1, 4, QS_DT_I32, 0},
    {QS_GGML_I64, "I64", 1, 8, QS_DT_I64, 0},
    {QS_GGML_F64, "F64", 1, 8, QS_DT_F64, 0},
    {29, "IQ1_M", 256, 56, QS_DT_COUNT, 0},
    {QS_GGML_BF16, "BF16", 1, 2, QS_DT_BF16, 0},
    {34, "TQ1_0", 256, 54, QS_DT_COUNT, 0},
    {35, "TQ2_0", 256, 66, QS_DT_COUNT, 0},
    {39, "MXFP4", 32, 17, QS_DT_COUNT, 0},
};
#define NTYPES ((int)(sizeof types / sizeof types[0]))

const qs_ggml_type *qs_ggml_type_info(int id)
{
    for (int i = 0; i < NTYPES; i++)
        if (types[i].id == id) return &types[i];
    return NULL;
}

int qs_ggml_type_by_name(const char *name)
{
    if (!name) return -1;
    for (int i = 0; i < NTYPES; i++)
        if (strcasecmp(types[i].name, name) == 0) return types[i].id;
    return -1;
}

int qs_ggml_type_of_dtype(qs_dtype dt)
{
    if (dt < 0 || dt >= QS_DT_COUNT) return -1;
    for (int i = 0; i < NTYPES; i++)
        if (types[i].block > 1 && types[i].dtype == dt) return types[i].id;
    return -1;
}

double qs_ggml_bits_per_weight(int id)
{
    const qs_ggml_type *t = qs_ggml_type_info(id);
    return t && t->bytes ? 8.0 * t->bytes / t->block : 0.0;
}

int qs_ggml_row_bytes(int id, int64_t n, uint64_t *bytes, qs_err *err)
{
    const qs_ggml_type *t = qs_ggml_type_info(id);
    *bytes = 0;
    if (!t || t->bytes == 0) return qs_err_set(err, "ggml type %d has no known block size", id);
    if (n < 0 || n % t->block)
        return qs_err_set(err, "%s: %lld elements are not a whole number of %d-element blocks",
                          t->name, (long long)n, t->block);
    *bytes = (uint64_t)(n / t->block) * (uint64_t)t->bytes;
    return QS_OK;
}

/* ==== scalar helpers ====================================================================== */

uint16_t qs_ggml_fp32_to_fp16(float f)
{
    uint16_t h;
    qs_k()->f32_to_f16(&f, 1, &h);
    return h;
}

float qs_ggml_fp16_to_fp32(uint16_t h)
{
    float f;
    qs_k()->f16_to_f32(&h, 1, &f);
    return f;
}

static uint16_t ld16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static void st16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static float ldh(const uint8_t *p) { return qs_ggml_fp16_to_fp32(ld16(p)); }

/* ggml's nearest_int: round to nearest, ties to even, via the 1.5·2^23 trick. Outside its
 * domain (ggml asserts |f| <= 4194303) NaN gives 0 and large values saturate. */
static int nearest_int(float f)
{
    if (!(fabsf(f) <= 4194303.f)) return f != f ? 0 : f > 0 ? 4194303 : -4194303;
    float val = f + 12582912.f;
    int32_t i;
    memcpy(&i, &val, sizeof i);
    return (i & 0x007fffff) - 0x00400000;
}

/* C's (int8_t)v (truncation toward zero) where ggml relies on it; saturates instead of
 * being undefined outside int8 (only reachable with hostile values). */
static int trunc_i8(float v)
{
    if (!(v > -129.f)) return v != v ? 0 : -128;
    if (v >= 128.f) return 127;
    return (int)v;
}
/* (uint8_t)v for v >= 0 as Q5_1 uses it. */
static int trunc_u8(float v)
{
    if (!(v > -1.f)) return 0;
    if (v >= 256.f) return 255;
    return (int)v;
}

static int imin(int a, int b) { return a < b ? a : b; }
static int imax(int a, int b) { return a > b ? a : b; }

/* Copies a block of n values, NaN -> 0 and ±Inf -> ±FLT_MAX (documented in ggml.h). */
void qs_ggml_sanitize(const float *x, int n, float *out)
{
    for (int i = 0; i < n; i++) {
        float v = x[i];
        out[i] = v != v ? 0.f : v > FLT_MAX ? FLT_MAX : v < -FLT_MAX ? -FLT_MAX : v;
    }
}

/* ==== dequantization ===================================================================== */

static void get_scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m)
{
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
    }
}

/* Decodes one block at b into v (codes, constants, values). The element order and every
 * formula follow dequantize_row_* of ggml-quants.c. */
static void decode_block(int id, const uint8_t *b, qs_ggml_block_view *v)
{
    memset(v, 0, sizeof *v);
    v->id = id;
    const qs_ggml_type *t = qs_ggml_type_info(id);
    v->n = t->block;
    v->nbytes = t->bytes;
    memcpy(v->raw, b, (size_t)t->bytes);
    v->nsub = 1;
    switch (id) {
    case QS_GGML_Q8_0: {
        float d = ldh(b);
        v->d = v->sub_d[0] = d;
        for (int j = 0; j < 32; j++) {
            int q = (int8_t)b[2 + j];
            v->codes[j] = q;
            v->y[j] = (float)q * d;
        }
        break;
    }
    case QS_GGML_Q4_0: case QS_GGML_Q4_1: {
        int one = id == QS_GGML_Q4_1;
        float d = ldh(b), m = one ? ldh(b + 2) : 0.f;
        const uint8_t *qs = b + (one ? 4 : 2);
        v->d = v->sub_d[0] = d;
        v->dmin = v->sub_m[0] = m;
        for (int j = 0; j < 16; j++) {
            int x0 = qs[j] & 0x0F, x1 = qs[j] >> 4;
            v->codes[j] = x0;
            v->codes[j + 16] = x1;
            if (one) {
                v->y[j] = (float)x0 * d + m;
                v->y[j + 16] = (float)x1 * d + m;
            } else {
                v->y[j] = (float)(x0 - 8) * d;
                v->y[j + 16] = (float)(x1 - 8) * d;
            }
        }
        break;
    }
    case QS_GGML_Q5_0: case QS_GGML_Q5_1: {
        int one = id == QS_GGML_Q5_1;
        float d = ldh(b), m = one ? ldh(b + 2) : 0.f;
        const uint8_t *qhp = b + (one ? 4 : 2);
        const uint8_t *qs = qhp + 4;
        uint32_t qh = (uint32_t)qhp[0] | ((uint32_t)qhp[1] << 8) | ((uint32_t)qhp[2] << 16) |
                      ((uint32_t)qhp[3] << 24);
        v->d = v->sub_d[0] = d;
        v->dmin = v->sub_m[0] = m;
        for (int j = 0; j < 16; j++) {
            int xh0 = (int)(((qh >> j) << 4) & 0x10);
            int xh1 = (int)((qh >> (j + 12)) & 0x10);
            int x0 = (qs[j] & 0x0F) | xh0, x1 = (qs[j] >> 4) | xh1;
            v->codes[j] = x0;
            v->codes[j + 16] = x1;
            if (one) {
                v->y[j] = (float)x0 * d + m;
                v->y[j + 16] = (float)x1 * d + m;
            } else {
                v->y[j] = (float)(x0 - 16) * d;
                v->y[j + 16] = (float)(x1 - 16) * d;
            }
        }
        break;
    }
    case QS_GGML_Q2_K: {
        const uint8_t *sc = b, *q = b + 16;
        float d = ldh(b + 80), mn = ldh(b + 82);
        v->d = d;
        v->dmin = mn;
        v->nsub = 16;
        int is = 0, k = 0;
        for (int n = 0; n < 256; n += 128) {
            int shift = 0;
            for (int j = 0; j < 4; j++) {
                for (int half = 0; half < 2; half++) {
                    uint8_t s = sc[is];
                    float dl = d * (float)(s & 0xF), ml = mn * (float)(s >> 4);
                    v->sub_scale[is] = s & 0xF;
                    v->sub_min[is] = s >> 4;
                    v->sub_d[is] = dl;
                    v->sub_m[is] = ml;
                    is++;
                    for (int l = 0; l < 16; l++, k++) {
                        int c = (q[l + 16 * half] >> shift) & 3;
                        v->codes[k] = c;
                        v->y[k] = dl * (float)c - ml;
                    }
                }
                shift += 2;
            }
            q += 32;
        }
        break;
    }
    case QS_GGML_Q3_K: {
        const uint8_t *hm = b, *q = b + 32, *sc = b + 96;
        float d_all = ldh(b + 108);
        v->d = d_all;
        v->nsub = 16;
        int scales[16];
        for (int j = 0; j < 16; j++) {
            int lo = j < 8 ? sc[j] & 0xF : sc[j - 8] >> 4;
            int hi = (sc[8 + j % 4] >> (2 * (j / 4))) & 3;
            scales[j] = (lo | (hi << 4)) - 32;
        }
        int is = 0, k = 0;
        uint8_t m = 1;
        for (int n = 0; n < 256; n += 128) {
            int shift = 0;
            for (int j = 0; j < 4; j++) {
                for (int half = 0; half < 2; half++) {
                    float dl = d_all * (float)scales[is];
                    v->sub_scale[is] = scales[is];
                    v->sub_d[is] = dl;
                    is++;
                    for (int l = 0; l < 16; l++, k++) {
                        int lo2 = (q[l + 16 * half] >> shift) & 3;
                        int high = (hm[l + 16 * half] & m) ? 1 : 0;
                        v->codes[k] = lo2 | (high << 2);
                        v->y[k] = dl * (float)(lo2 - (high ? 0 : 4));
                    }
                }
                shift += 2;
                m = (uint8_t)(m << 1);
            }
            q += 32;
        }
        break;
    }
    case QS_GGML_Q4_K: case QS_GGML_Q5_K: {
        int five = id == QS_GGML_Q5_K;
        float d = ldh(b), mn = ldh(b + 2);
        const uint8_t *sc = b + 4;
        const uint8_t *qh = b + 16;
        const uint8_t *q = b + (five ? 48 : 16);
        v->d = d;
        v->dmin = mn;
        v->nsub = 8;
        int is = 0, k = 0;
        uint8_t u1 = 1, u2 = 2;
        for (int j = 0; j < 256; j += 64) {
            for (int half = 0; half < 2; half++) {
                uint8_t s, m;
                get_scale_min_k4(is, sc, &s, &m);
                float dl = d * (float)s, ml = mn * (float)m;
                v->sub_scale[is] = s;
                v->sub_min[is] = m;
                v->sub_d[is] = dl;
                v->sub_m[is] = ml;
                is++;
                for (int l = 0; l < 32; l++, k++) {
                    int c = half ? q[l] >> 4 : q[l] & 0xF;
                    if (five && (qh[l] & (half ? u2 : u1))) c += 16;
                    v->codes[k] = c;
                    v->y[k] = dl * (float)c - ml;
                }
            }
            q += 32;
            u1 = (uint8_t)(u1 << 2);
            u2 = (uint8_t)(u2 << 2);
        }
        break;
    }
    case QS_GGML_Q6_K: {
        const uint8_t *ql = b, *qh = b + 128;
        const int8_t *sc = (const int8_t *)(b + 192);
        float d = ldh(b + 208);
        v->d = d;
        v->nsub = 16;
        for (int s = 0; s < 16; s++) {
            v->sub_scale[s] = sc[s];
            v->sub_d[s] = d * (float)sc[s];
        }
        for (int n = 0; n < 256; n += 128) {
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int q1 = (ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4);
                int q2 = (ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4);
                int q3 = (ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4);
                int q4 = (ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4);
                v->codes[n + l] = q1;
                v->codes[n + l + 32] = q2;
                v->codes[n + l + 64] = q3;
                v->codes[n + l + 96] = q4;
                /* ggml: d * sc * q, evaluated left to right */
                v->y[n + l] = d * (float)sc[is + 0] * (float)(q1 - 32);
                v->y[n + l + 32] = d * (float)sc[is + 2] * (float)(q2 - 32);
                v->y[n + l + 64] = d * (float)sc[is + 4] * (float)(q3 - 32);
                v->y[n + l + 96] = d * (float)sc[is + 6] * (float)(q4 - 32);
            }
            ql += 64;
            qh += 32;
            sc += 8;
        }
        break;
    }
    default:
        break;
    }
}

int qs_ggml_block_decode(int id, const void *src, qs_ggml_block_view *v, qs_err *err)
{
    const qs_ggml_type *t = qs_ggml_type_info(id);
    if (!t || t->block == 1 || t->dtype == QS_DT_COUNT)
        return qs_err_set(err, "ggml type %s cannot be dequantized by qscope",
                          t ? t->name : "(unknown)");
    decode_block(id, src, v);
    return QS_OK;
}

int qs_ggml_dequantize(int id, const void *src, int64_t n, float *y, qs_err *err)
{
    const qs_ggml_type *t = qs_ggml_type_info(id);
    uint64_t bytes;
    if (!t || t->dtype == QS_DT_COUNT)
        return qs_err_set(err, "ggml type %s (id %d) is not supported (qscope reads F32, F16, "
                          "BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K..Q6_K)",
                          t ? t->name : "unknown", id);
    if (t->block == 1) return qs_err_set(err, "ggml type %s is not a block format", t->name);
    if (qs_ggml_row_bytes(id, n, &bytes, err) != QS_OK) return QS_ERR;
    const uint8_t *p = src;
    int64_t nb = n / t->block;
    qs_ggml_block_view *v = malloc(sizeof *v);
    if (!v) return qs_err_set(err, "%s: out of memory", t->name);
    for (int64_t i = 0; i < nb; i++) {
        decode_block(id, p + (size_t)i * (size_t)t->bytes, v);
        memcpy(y + i * t->block, v->y, (size_t)t->block * sizeof(float));
    }
    free(v);
    return QS_OK;
}

/* ==== quantization (ggml's _ref rules) =================================================== */

static void quant_q8_0(const float *x, uint8_t *b)
{
    float amax = 0.f;
    for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
    const float d = amax / 127.f;
    const float id = d != 0.f ? 1.0f / d : 0.0f;
    st16(b, qs_ggml_fp32_to_fp16(d));
    for (int j = 0; j < 32; j++) {
        float r = roundf(x[j] * id);
        b[2 + j] = (uint8_t)(int8_t)trunc_i8(r);
    }
}

/* Q4_0 / Q5_0: nmax 8 or 16; codes biased by +nmax. */
static void quant_q_0(const float *x, uint8_t *b, int five)
{
    float amax = 0.f, max = 0.f;
    for (int j = 0; j < 32; j++)
        if (amax < fabsf(x[j])) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    const float d = max / (five ? -16.f : -8.f);
    const float id = d != 0.f ? 1.0f / d : 0.0f;
    st16(b, qs_ggml_fp32_to_fp16(d));
    uint32_t qh = 0;
    uint8_t *qs = b + (five ? 6 : 2);
    for (int j = 0; j < 16; j++) {
        float x0 = x[j] * id, x1 = x[16 + j] * id;
        int xi0 = imin(five ? 31 : 15, trunc_i8(x0 + (five ? 16.5f : 8.5f)));
        int xi1 = imin(five ? 31 : 15, trunc_i8(x1 + (five ? 16.5f : 8.5f)));
        xi0 &= 0xff;    /* ggml stores (uint8_t) of the int8 result */
        xi1 &= 0xff;
        qs[j] = (uint8_t)((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
        qh |= ((uint32_t)(xi0 & 0x10) >> 4) << j;
        qh |= ((uint32_t)(xi1 & 0x10) >> 4) << (j + 16);
    }
    if (five)
        for (int k = 0; k < 4; k++) b[2 + k] = (uint8_t)(qh >> (8 * k));
}

/* Q4_1 / Q5_1: d = (max - min)/nmax, codes (x - min)·(1/d) + 0.5 truncated. */
static void quant_q_1(const float *x, uint8_t *b, int five)
{
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < 32; j++) {
        if (x[j] < min) min = x[j];
        if (x[j] > max) max = x[j];
    }
    const float d = (max - min) / (five ? 31.f : 15.f);
    const float id = d != 0.f ? 1.0f / d : 0.0f;
    st16(b, qs_ggml_fp32_to_fp16(d));
    st16(b + 2, qs_ggml_fp32_to_fp16(min));
    uint32_t qh = 0;
    uint8_t *qs = b + (five ? 8 : 4);
    for (int j = 0; j < 16; j++) {
        float x0 = (x[j] - min) * id, x1 = (x[16 + j] - min) * id;
        int xi0, xi1;
        if (five) {
            xi0 = trunc_u8(x0 + 0.5f);
            xi1 = trunc_u8(x1 + 0.5f);
        } else {
            xi0 = imin(15, trunc_i8(x0 + 0.5f)) & 0xff;
            xi1 = imin(15, trunc_i8(x1 + 0.5f)) & 0xff;
        }
        qs[j] = (uint8_t)((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
        qh |= ((uint32_t)(xi0 & 0x10) >> 4) << j;
        qh |= ((uint32_t)(xi1 & 0x10) >> 4) << (j + 16);
    }
    if (five)
        for (int k = 0; k < 4; k++) b[4 + k] = (uint8_t)(qh >> (8 * k));
}

/* ggml make_qkx2_quants: fits scale and min of n values with weights by a search over
 * nstep+1 candidate inverse scales. */
static float make_qkx2_quants(int n, int nmax, const float *x, const float *weights,
                              uint8_t *L, float *the_min, uint8_t *Laux, float rmin,
                              float rdelta, int nstep, int use_mad)
{
    float min = x[0], max = x[0];
    float sum_w = weights[0];
    float sum_x = sum_w * x[0];
    for (int i = 1; i < n; ++i) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        float w = weights[i];
        sum_w += w;
        sum_x += w * x[i];
    }
    if (min > 0) min = 0;
    if (max == min) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        *the_min = -min;
        return 0.f;
    }
    float iscale = nmax / (max - min);
    float scale = 1 / iscale;
    float best_error = 0;
    for (int i = 0; i < n; ++i) {
        int l = nearest_int(iscale * (x[i] - min));
        L[i] = (uint8_t)imax(0, imin(nmax, l));
        float diff = scale * L[i] + min - x[i];
        diff = use_mad ? fabsf(diff) : diff * diff;
        best_error += weights[i] * diff;
    }
    if (nstep < 1) {
        *the_min = -min;
        return scale;
    }
    for (int is = 0; is <= nstep; ++is) {
        iscale = (rmin + rdelta * is + nmax) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; ++i) {
            int l = nearest_int(iscale * (x[i] - min));
            l = imax(0, imin(nmax, l));
            Laux[i] = (uint8_t)l;
            float w = weights[i];
            sum_l += w * l;
            sum_l2 += w * l * l;
            sum_xl += w * l * x[i];
        }
        float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0) {
                this_min = 0;
                this_scale = sum_xl / sum_l2;
            }
            float cur_error = 0;
            for (int i = 0; i < n; ++i) {
                float diff = this_scale * Laux[i] + this_min - x[i];
                diff = use_mad ? fabsf(diff) : diff * diff;
                cur_error += weights[i] * diff;
            }
            if (cur_error < best_error) {
                for (int i = 0; i < n; ++i) L[i] = Laux[i];
                best_error = cur_error;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *the_min = -min;
    return scale;
}

#define GROUP_MAX_EPS 1e-15f

/* ggml make_qx_quants (rmse_type 1, no weights: w = x²), as quantize_row_q6_K_ref uses it. */
static float make_qx_quants(int n, int nmax, const float *x, int8_t *L)
{
    float max = 0, amax = 0;
    for (int i = 0; i < n; ++i) {
        float ax = fabsf(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    if (amax < GROUP_MAX_EPS) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        return 0.f;
    }
    float iscale = -nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; ++i) {
        int l = nearest_int(iscale * x[i]);
        l = imax(-nmax, imin(nmax - 1, l));
        L[i] = (int8_t)(l + nmax);
        float w = x[i] * x[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    float scale = suml2 ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; ++is) {
        if (is == 0) continue;
        iscale = -(nmax + 0.1f * is) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; ++i) {
            int l = nearest_int(iscale * x[i]);
            l = imax(-nmax, imin(nmax - 1, l));
            float w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; ++i) {
                int l = nearest_int(iscale * x[i]);
                L[i] = (int8_t)(nmax + imax(-nmax, imin(nmax - 1, l)));
            }
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

/* quantize_row_q4_K_ref for one super-block. */
static void quant_q4_K(const float *x, uint8_t *b)
{
    uint8_t L[256], Laux[32];
    float weights[32], mins[8], scales[8];
    uint8_t *sc = b + 4, *q = b + 16;
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; ++j) {
        float sum_x2 = 0;
        for (int l = 0; l < 32; ++l) sum_x2 += x[32 * j + l] * x[32 * j + l];
        float av_x = sqrtf(sum_x2 / 32);
        for (int l = 0; l < 32; ++l) weights[l] = av_x + fabsf(x[32 * j + l]);
        scales[j] = make_qkx2_quants(32, 15, x + 32 * j, weights, L + 32 * j, &mins[j], Laux,
                                     -1.f, 0.1f, 20, 0);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    memset(sc, 0, QS_K_SCALE_SIZE);
    for (int j = 0; j < 8; ++j) {
        /* ggml: uint8_t ls = nearest_int(...); then MIN(63, ls) — the uint8 wrap included */
        uint8_t ls = (uint8_t)nearest_int(inv_scale * scales[j]);
        uint8_t lm = (uint8_t)nearest_int(inv_min * mins[j]);
        ls = (uint8_t)imin(63, ls);
        lm = (uint8_t)imin(63, lm);
        if (j < 4) {
            sc[j] = ls;
            sc[j + 4] = lm;
        } else {
            sc[j + 4] = (uint8_t)((ls & 0xF) | ((lm & 0xF) << 4));
            sc[j - 4] |= (uint8_t)((ls >> 4) << 6);
            sc[j - 0] |= (uint8_t)((lm >> 4) << 6);
        }
    }
    st16(b, qs_ggml_fp32_to_fp16(max_scale / 63.f));
    st16(b + 2, qs_ggml_fp32_to_fp16(max_min / 63.f));
    for (int j = 0; j < 8; ++j) {
        uint8_t s, m;
        get_scale_min_k4(j, sc, &s, &m);
        const float d = ldh(b) * s;
        if (!(d != 0.f)) continue;
        const float dm = ldh(b + 2) * m;
        for (int ii = 0; ii < 32; ++ii) {
            int l = nearest_int((x[32 * j + ii] + dm) / d);
            L[32 * j + ii] = (uint8_t)imax(0, imin(15, l));
        }
    }
    for (int j = 0; j < 256; j += 64) {
        for (int l = 0; l < 32; ++l) q[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
        q += 32;
    }
}

/* quantize_row_q6_K_ref for one super-block. */
static void quant_q6_K(const float *x, uint8_t *b)
{
    int8_t L[256];
    float scales[16];
    float max_scale = 0, max_abs_scale = 0;
    for (int ib = 0; ib < 16; ++ib) {
        const float scale = make_qx_quants(16, 32, x + 16 * ib, L + 16 * ib);
        scales[ib] = scale;
        const float abs_scale = fabsf(scale);
        if (abs_scale > max_abs_scale) {
            max_abs_scale = abs_scale;
            max_scale = scale;
        }
    }
    memset(b, 0, sizeof(qs_block_q6_K));
    if (max_abs_scale < GROUP_MAX_EPS) return;     /* all zero (d = +0) */
    float iscale = -128.f / max_scale;
    st16(b + 208, qs_ggml_fp32_to_fp16(1 / iscale));
    int8_t *sc = (int8_t *)(b + 192);
    for (int ib = 0; ib < 16; ++ib) sc[ib] = (int8_t)imin(127, nearest_int(iscale * scales[ib]));
    for (int j = 0; j < 16; ++j) {
        float d = ldh(b + 208) * sc[j];
        if (!(d != 0.f)) continue;
        for (int ii = 0; ii < 16; ++ii) {
            int l = nearest_int(x[16 * j + ii] / d);
            l = imax(-32, imin(31, l));
            L[16 * j + ii] = (int8_t)(l + 32);
        }
    }
    uint8_t *ql = b, *qh = b + 128;
    for (int j = 0; j < 256; j += 128) {
        for (int l = 0; l < 32; ++l) {
            const uint8_t q1 = L[j + l + 0] & 0xF;
            const uint8_t q2 = L[j + l + 32] & 0xF;
            const uint8_t q3 = L[j + l + 64] & 0xF;
            const uint8_t q4 = L[j + l + 96] & 0xF;
            ql[l + 0] = (uint8_t)(q1 | (q3 << 4));
            ql[l + 32] = (uint8_t)(q2 | (q4 << 4));
            qh[l] = (uint8_t)((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) |
                              ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
        }
        ql += 64;
        qh += 32;
    }
}

int qs_ggml_quantize(int id, const float *x, int64_t n, void *dst, qs_err *err)
{
    const qs_ggml_type *t = qs_ggml_type_info(id);
    uint64_t bytes;
    if (!t || !t->can_quantize)
        return qs_err_set(err, "ggml type %s: qscope quantizes Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, "
                          "Q4_K and Q6_K", t ? t->name : "(unknown)");
    if (qs_ggml_row_bytes(id, n, &bytes, err) != QS_OK) return QS_ERR;
    float xs[QS_QK_K];
    uint8_t *out = dst;
    for (int64_t i = 0; i < n / t->block; i++) {
        qs_ggml_sanitize(x + i * t->block, t->block, xs);
        uint8_t *b = out + (size_t)i * (size_t)t->bytes;
        switch (id) {
        case QS_GGML_Q8_0: quant_q8_0(xs, b); break;
        case QS_GGML_Q4_0: quant_q_0(xs, b, 0); break;
        case QS_GGML_Q5_0: quant_q_0(xs, b, 1); break;
        case QS_GGML_Q4_1: quant_q_1(xs, b, 0); break;
        case QS_GGML_Q5_1: quant_q_1(xs, b, 1); break;
        case QS_GGML_Q4_K: quant_q4_K(xs, b); break;
        case QS_GGML_Q6_K: quant_q6_K(xs, b); break;
        default: break;
        }
    }
    return QS_OK;
}

int qs_ggml_fakequant(int id, const float *x, int64_t n, float *y, qs_err *err)
{
    const qs_ggml_type *t = qs_ggml_type_info(id);
    if (!t || !t->can_quantize) return qs_ggml_quantize(id, x, 0, NULL, err);
    if (n < 0) return qs_err_set(err, "%s: negative element count", t->name);
    float xs[QS_QK_K], ys[QS_QK_K];
    uint8_t blk[sizeof(qs_block_q6_K)];
    qs_ggml_block_view *v = malloc(sizeof *v);
    if (!v) return qs_err_set(err, "%s: out of memory", t->name);
    for (int64_t at = 0; at < n; at += t->block) {
        int64_t m = n - at < t->block ? n - at : t->block;
        memcpy(xs, x + at, (size_t)m * sizeof(float));
        for (int64_t j = m; j < t->block; j++) xs[j] = 0.f;      /* pad a short last block */
        qs_ggml_quantize(id, xs, t->block, blk, NULL);
        decode_block(id, blk, v);
        memcpy(ys, v->y, (size_t)t->block * sizeof(float));
        memcpy(y + at, ys, (size_t)m * sizeof(float));
    }
    free(v);
    return QS_OK;
}

int qs_ggml_tensor_errstats(int id, const qs_tensor *t, float *y, qs_errstats *st, qs_err *err)
{
    memset(st, 0, sizeof *st);
    float *buf = y ? y : qs_alloc_aligned((size_t)(t->n ? t->n : 1) * sizeof(float));
    if (!buf) return qs_err_set(err, "%s: out of memory", t->name);
    int64_t row = t->ndim > 0 ? t->shape[t->ndim - 1] : 1;
    int rc = QS_OK;
    for (int64_t at = 0; row > 0 && at < t->n && rc == QS_OK; at += row)
        rc = qs_ggml_fakequant(id, t->data + at, row, buf + at, err);
    if (rc == QS_OK) qs_k()->errstats(t->data, buf, t->n, st, NULL);
    if (!y) qs_free_aligned(buf);
    return rc;
}

/* ==== a tensor as blocks ================================================================== */

/* Elements per row (ggml's blocks never cross a row) and blocks per row. */
static void row_geometry(const qs_ggml_type *gt, const qs_tensor *t, int64_t *row,
                         int64_t *nbr)
{
    *row = t->ndim > 0 ? t->shape[t->ndim - 1] : 1;
    if (*row <= 0) *row = 1;
    *nbr = (*row + gt->block - 1) / gt->block;
}

int64_t qs_ggml_tensor_nblocks(int id, const qs_tensor *t)
{
    const qs_ggml_type *gt = qs_ggml_type_info(id);
    if (!gt || gt->block < 1 || t->n <= 0) return 0;
    int64_t row, nbr;
    row_geometry(gt, t, &row, &nbr);
    return (t->n / row) * nbr;
}

int64_t qs_ggml_block_of(int id, const qs_tensor *t, int64_t e)
{
    const qs_ggml_type *gt = qs_ggml_type_info(id);
    if (!gt || gt->block < 1) return 0;
    int64_t row, nbr;
    row_geometry(gt, t, &row, &nbr);
    return (e / row) * nbr + (e % row) / gt->block;
}

/* Quantizes and decodes block bi (in range) of t into b. */
static int q6k_overflow(const float *x, int m);

static void tensor_block(const qs_ggml_type *gt, const qs_tensor *t, int64_t bi,
                         qs_ggml_tblock *b)
{
    int64_t row, nbr;
    row_geometry(gt, t, &row, &nbr);
    int64_t k = bi % nbr, start = (bi / nbr) * row + k * gt->block;
    int64_t m = row - k * gt->block < gt->block ? row - k * gt->block : gt->block;
    uint8_t blk[sizeof(qs_block_q6_K)];
    b->index = bi;
    b->start = start;
    b->m = (int)m;
    memcpy(b->x, t->data + start, (size_t)m * sizeof(float));
    for (int64_t j = m; j < gt->block; j++) b->x[j] = 0.f;
    qs_ggml_quantize(gt->id, b->x, gt->block, blk, NULL);
    decode_block(gt->id, blk, &b->v);
    b->overflow = 0;
    if (gt->id == QS_GGML_Q6_K) {
        float xs[QS_QK_K];
        qs_ggml_sanitize(b->x, gt->block, xs);
        b->overflow = q6k_overflow(xs, b->m);
    }
    /* saturation: ggml's min(15, ...) / clamps cut an element off at the end of the code
     * range, leaving more than the half step rounding can explain. The codes are chosen with
     * the fp32 constants and decoded with their fp16 roundings (2^-11 relative each), so the
     * half step gets a margin of 2^-8 of the largest value the sub-block can reach. */
    const qs_ggml_block_view *v = &b->v;
    int lo = gt->id == QS_GGML_Q8_0 ? -127 : 0;
    int hi = gt->id == QS_GGML_Q8_0 ? 127 : gt->id == QS_GGML_Q6_K ? 63
             : gt->id == QS_GGML_Q5_0 || gt->id == QS_GGML_Q5_1 ? 31 : 15;
    int per = gt->block / (v->nsub > 0 ? v->nsub : 1);
    b->clipped = 0;
    for (int j = 0; j < b->m; j++) {
        if (v->codes[j] != lo && v->codes[j] != hi) continue;
        double step = fabs((double)v->sub_d[j / per]), off = fabs((double)v->sub_m[j / per]);
        double half = 0.5 * step + (step * (hi > -lo ? hi : -lo) + off) / 256.0;
        if (fabs((double)v->y[j] - (double)b->x[j]) > half) b->clipped++;
    }
}

/* Elements (of the first m of a sanitized Q6_K block) in sub-blocks whose least-squares scale
 * (make_qx_quants) is not finite: its sums of x^3 and x^2 pass FLT_MAX. */
static int q6k_overflow(const float *x, int m)
{
    int8_t L[16];
    int n = 0;
    for (int ib = 0; ib < 16 && 16 * ib < m; ++ib) {
        float sc = make_qx_quants(16, 32, x + 16 * ib, L);
        if (!isfinite(sc)) n += m - 16 * ib < 16 ? m - 16 * ib : 16;
    }
    return n;
}

int64_t qs_ggml_tensor_overflow(int id, const qs_tensor *t)
{
    const qs_ggml_type *gt = qs_ggml_type_info(id);
    if (!gt || id != QS_GGML_Q6_K) return 0;
    int64_t row, nbr, nb = qs_ggml_tensor_nblocks(id, t), n = 0;
    float xs[QS_QK_K];
    row_geometry(gt, t, &row, &nbr);
    for (int64_t bi = 0; bi < nb; bi++) {
        int64_t k = bi % nbr, start = (bi / nbr) * row + k * gt->block;
        int64_t m = row - k * gt->block < gt->block ? row - k * gt->block : gt->block;
        qs_ggml_sanitize(t->data + start, (int)m, xs);
        for (int64_t j = m; j < gt->block; j++) xs[j] = 0.f;
        n += q6k_overflow(xs, (int)m);
    }
    return n;
}

static int check_quantizable(int id, qs_err *err)
{
    const qs_ggml_type *gt = qs_ggml_type_info(id);
    if (gt && gt->can_quantize) return QS_OK;
    return qs_err_set(err, "ggml type %s: qscope quantizes Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K "
                      "and Q6_K", gt ? gt->name : "(unknown)");
}

int qs_ggml_tensor_block(int id, const qs_tensor *t, int64_t bi, qs_ggml_tblock *b,
                         qs_err *err)
{
    if (check_quantizable(id, err) != QS_OK) return QS_ERR;
    const qs_ggml_type *gt = qs_ggml_type_info(id);
    int64_t nb = qs_ggml_tensor_nblocks(id, t);
    if (bi < 0 || bi >= nb)
        return qs_err_set(err, "block=%lld: past the last block (%lld %s blocks of %d)",
                          (long long)bi, (long long)nb, gt->name, gt->block);
    tensor_block(gt, t, bi, b);
    return QS_OK;
}

int qs_ggml_tensor_codes(int id, const qs_tensor *t, float *y, int32_t *codes, float *d,
                         float *dmin, int64_t *clipped, qs_err *err)
{
    if (check_quantizable(id, err) != QS_OK) return QS_ERR;
    const qs_ggml_type *gt = qs_ggml_type_info(id);
    int64_t nb = qs_ggml_tensor_nblocks(id, t);
    qs_ggml_tblock *b = malloc(sizeof *b);
    if (!b) return qs_err_set(err, "%s: out of memory", gt->name);
    if (clipped) *clipped = 0;
    for (int64_t bi = 0; bi < nb; bi++) {
        tensor_block(gt, t, bi, b);
        if (y) memcpy(y + b->start, b->v.y, (size_t)b->m * sizeof(float));
        if (codes)
            for (int j = 0; j < b->m; j++) codes[b->start + j] = b->v.codes[j];
        if (d) d[bi] = b->v.d;
        if (dmin) dmin[bi] = b->v.dmin;
        if (clipped) *clipped += b->clipped;
    }
    free(b);
    return QS_OK;
}

/* ==== byte layouts ======================================================================== */

/* Storage order of ggml-common.h's block structs (block_q4_0 ... block_q6_K). */
static const struct {
    int id;
    struct { int bytes; const char *what; } part[6];
} layouts[] = {
    {QS_GGML_Q8_0, {{2, "d, fp16"}, {32, "32 codes of 8 bits"}}},
    {QS_GGML_Q4_0, {{2, "d, fp16"}, {16, "32 codes of 4 bits"}}},
    {QS_GGML_Q4_1, {{2, "d, fp16"}, {2, "m, fp16"}, {16, "32 codes of 4 bits"}}},
    {QS_GGML_Q5_0, {{2, "d, fp16"}, {4, "the 5th bit of 32 codes"},
                    {16, "their low 4 bits"}}},
    {QS_GGML_Q5_1, {{2, "d, fp16"}, {2, "m, fp16"}, {4, "the 5th bit of 32 codes"},
                    {16, "their low 4 bits"}}},
    {QS_GGML_Q2_K, {{16, "16 scales and 16 mins of 4 bits"}, {64, "256 codes of 2 bits"},
                    {2, "d, fp16"}, {2, "dmin, fp16"}}},
    {QS_GGML_Q3_K, {{32, "the high bit of 256 codes"}, {64, "their low 2 bits"},
                    {12, "16 scales of 6 bits"}, {2, "d, fp16"}}},
    {QS_GGML_Q4_K, {{2, "d, fp16"}, {2, "dmin, fp16"}, {12, "8 scales and 8 mins of 6 bits"},
                    {128, "256 codes of 4 bits"}}},
    {QS_GGML_Q5_K, {{2, "d, fp16"}, {2, "dmin, fp16"}, {12, "8 scales and 8 mins of 6 bits"},
                    {32, "the 5th bit of 256 codes"}, {128, "their low 4 bits"}}},
    {QS_GGML_Q6_K, {{128, "the low 4 bits of 256 codes"}, {64, "their high 2 bits"},
                    {16, "16 scales of 8 bits"}, {2, "d, fp16"}}},
};

const char *qs_ggml_layout(int id, char *buf, size_t n)
{
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++) {
        if (layouts[i].id != id) continue;
        size_t used = 0;
        int total = 0;
        for (int k = 0; k < 6 && layouts[i].part[k].what; k++) {
            total += layouts[i].part[k].bytes;
            int w = snprintf(buf + used, n - used, "%s%d (%s)", k ? " + " : "",
                             layouts[i].part[k].bytes, layouts[i].part[k].what);
            if (w < 0 || (size_t)w >= n - used) return NULL;
            used += (size_t)w;
        }
        int w = snprintf(buf + used, n - used, " = %d bytes", total);
        return w < 0 || (size_t)w >= n - used ? NULL : buf;
    }
    return NULL;
}
