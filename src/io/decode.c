/* decode.c — converts stored elements (F64 F32 F16 BF16 F8 ints bool, either byte order) to
 * float32 for the io loaders. */
#include "io_priv.h"

#include <math.h>
#include <string.h>

/* ---- small-float decoders ---------------------------------------------------------------- */

static float bits_to_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* IEEE binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits. */
static float f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    if (exp == 0) {                         /* zero or subnormal: man * 2^-24 */
        float v = (float)man * 0x1p-24f;    /* exact: man < 2^10 */
        return sign ? -v : v;
    }
    if (exp == 31) return bits_to_f32(sign | 0x7f800000u | (man << 13));   /* Inf, NaN */
    return bits_to_f32(sign | ((exp + 112u) << 23) | (man << 13));
}

/* bfloat16 is the top half of a float32. */
static float bf16_to_f32(uint16_t h) { return bits_to_f32((uint32_t)h << 16); }

/* OCP FP8 E4M3 (the "FN" variant): bias 7, no infinities, S.1111.111 is NaN, max 448. */
static float e4m3_to_f32(uint8_t b)
{
    int neg = b & 0x80;
    int exp = (b >> 3) & 0xf;
    int man = b & 0x7;
    float v;
    if (exp == 15 && man == 7) v = NAN;
    else if (exp == 0) v = ldexpf((float)man, -9);             /* subnormal: man/8 * 2^-6 */
    else v = ldexpf((float)(8 + man), exp - 7 - 3);
    return neg ? -v : v;
}

/* OCP FP8 E5M2: the top byte of a binary16 (bias 15, Inf and NaN as in IEEE). */
static float e5m2_to_f32(uint8_t b) { return f16_to_f32((uint16_t)(b << 8)); }

/* ---- loads ------------------------------------------------------------------------------- */

/* Loads an unsigned integer of size bytes (1, 2, 4 or 8) in the given byte order. */
static uint64_t load_u(const uint8_t *p, size_t size, int be)
{
    uint64_t v = 0;
    if (be)
        for (size_t i = 0; i < size; i++) v = (v << 8) | p[i];
    else
        for (size_t i = size; i-- > 0;) v = (v << 8) | p[i];
    return v;
}

static int64_t sign_extend(uint64_t v, size_t size)
{
    if (size == 8) {
        int64_t s;
        memcpy(&s, &v, sizeof s);           /* two's complement, no UB */
        return s;
    }
    uint64_t bit = (uint64_t)1 << (size * 8 - 1);
    return (v & bit) ? (int64_t)(v & (bit - 1)) - (int64_t)bit : (int64_t)v;
}

/* Decodes via a 256-entry table built for this call (1-byte float formats). */
static void decode_lut(const uint8_t *src, qs_dtype dt, int64_t count, float *dst,
                       int64_t stride)
{
    float lut[256];
    for (int b = 0; b < 256; b++)
        lut[b] = dt == QS_DT_F8_E4M3 ? e4m3_to_f32((uint8_t)b) : e5m2_to_f32((uint8_t)b);
    for (int64_t i = 0; i < count; i++) dst[i * stride] = lut[src[i]];
}

int qs_io_decode(const uint8_t *src, qs_dtype dt, int be, int64_t count, float *dst,
                 int64_t stride)
{
    size_t sz = qs_dtype_size(dt);
    if (sz == 0 || dt == QS_DT_TEXT || dt == QS_DT_SYNTH) return QS_ERR;
    if (be && sz == 1) be = 0;
    /* fast paths for the common little-endian cases */
    if (!be) {
        switch (dt) {
        case QS_DT_F32:
            if (stride == 1) {
                if (count > 0) memcpy(dst, src, (size_t)count * sizeof(float));
                return QS_OK;
            }
            break;
        case QS_DT_BF16:
            for (int64_t i = 0; i < count; i++)
                dst[i * stride] = bf16_to_f32(qs_io_le16(src + 2 * i));
            return QS_OK;
        case QS_DT_F16:
            for (int64_t i = 0; i < count; i++)
                dst[i * stride] = f16_to_f32(qs_io_le16(src + 2 * i));
            return QS_OK;
        case QS_DT_F8_E4M3: case QS_DT_F8_E5M2:
            decode_lut(src, dt, count, dst, stride);
            return QS_OK;
        case QS_DT_I8:
            for (int64_t i = 0; i < count; i++) dst[i * stride] = (float)(int8_t)src[i];
            return QS_OK;
        case QS_DT_U8:
            for (int64_t i = 0; i < count; i++) dst[i * stride] = (float)src[i];
            return QS_OK;
        default:
            break;
        }
    }
    for (int64_t i = 0; i < count; i++, src += sz, dst += stride) {
        uint64_t u = load_u(src, sz, be);
        float v;
        switch (dt) {
        case QS_DT_F32: v = bits_to_f32((uint32_t)u); break;
        case QS_DT_F64: { double d; memcpy(&d, &u, sizeof d); v = qs_io_d2f(d); } break;
        case QS_DT_F16: v = f16_to_f32((uint16_t)u); break;
        case QS_DT_BF16: v = bf16_to_f32((uint16_t)u); break;
        case QS_DT_F8_E4M3: v = e4m3_to_f32((uint8_t)u); break;
        case QS_DT_F8_E5M2: v = e5m2_to_f32((uint8_t)u); break;
        case QS_DT_BOOL: v = u ? 1.0f : 0.0f; break;
        case QS_DT_I8: case QS_DT_I16: case QS_DT_I32: case QS_DT_I64:
            v = (float)sign_extend(u, sz);
            break;
        case QS_DT_U8: case QS_DT_U16: case QS_DT_U32: case QS_DT_U64:
            v = (float)u;
            break;
        default: return QS_ERR;
        }
        *dst = v;
    }
    return QS_OK;
}
