/* ggml_imatrix.c — llama.cpp's importance-matrix quantization (issue 17): the imatrix (per
 * input column mean of x² over calibration rows, as llama-imatrix collects it) and the
 * weighted quantizers llama.cpp runs when `llama-quantize --imatrix` hands them
 * quant_weights: quantize_row_q4_0_impl (make_qx_quants with weights qw·sqrt(σ² + x²)),
 * quantize_row_q4_K_impl (make_qkx3_quants per 32, make_qp_quants for the 6-bit scales and
 * mins) and quantize_row_q6_K_impl (make_qx_quants weighted by qw). Ported from
 * ggml/src/ggml-quants.c in float32 with the same operation order; without weights the
 * reference quantizers of ggml.c run instead, as llama.cpp does. Blocks are packed as ggml
 * stores them and decoded by qs_ggml_dequantize. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/ggml.h"
#include "qscope/imatrix.h"

#define GROUP_MAX_EPS 1e-15f

static int nearest_int(float f)
{
    if (!(fabsf(f) <= 4194303.f)) return f != f ? 0 : f > 0 ? 4194303 : -4194303;
    float val = f + 12582912.f;
    int32_t i;
    memcpy(&i, &val, sizeof i);
    return (i & 0x007fffff) - 0x00400000;
}

static int imin(int a, int b) { return a < b ? a : b; }
static int imax(int a, int b) { return a > b ? a : b; }

static void st16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

int qs_imatrix_from_acts(const float *X, int64_t n, int in, float *imat, qs_err *err)
{
    if (n <= 0 || in <= 0) return qs_err_set(err, "imatrix: no activations");
    for (int j = 0; j < in; j++) {
        double s = 0.0;
        for (int64_t t = 0; t < n; t++) s += (double)X[t * in + j] * X[t * in + j];
        imat[j] = (float)(s / (double)n);
    }
    return QS_OK;
}

/* make_qx_quants with rmse_type 1 and weights qw (ggml-quants.c) */
static float make_qx_quants_w(int n, int nmax, const float *x, int8_t *L, const float *qw)
{
    float max = 0, amax = 0;
    for (int i = 0; i < n; ++i) {
        float ax = fabsf(x[i]);
        if (ax > amax) { amax = ax; max = x[i]; }
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
        float w = qw[i];
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
            float w = qw[i];
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

/* make_qkx3_quants (use_mad false) */
static float make_qkx3_quants(int n, int nmax, const float *x, const float *weights, uint8_t *L,
                              float *the_min, uint8_t *Laux, float rmin, float rdelta, int nstep)
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
    if (max <= min) {
        memset(L, 0, (size_t)n);
        *the_min = -min;
        return 0.f;
    }
    float iscale = nmax / (max - min);
    float scale = 1 / iscale;
    float best_mad = 0;
    for (int i = 0; i < n; ++i) {
        int l = nearest_int(iscale * (x[i] - min));
        L[i] = (uint8_t)imax(0, imin(nmax, l));
        float diff = scale * L[i] + min - x[i];
        diff = diff * diff;
        best_mad += weights[i] * diff;
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
            float mad = 0;
            for (int i = 0; i < n; ++i) {
                float diff = this_scale * Laux[i] + this_min - x[i];
                diff = diff * diff;
                mad += weights[i] * diff;
            }
            if (mad < best_mad) {
                for (int i = 0; i < n; ++i) L[i] = Laux[i];
                best_mad = mad;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *the_min = -min;
    return scale;
}

/* make_qp_quants: the sub-block scales (or mins) x[0..n) on a grid 0..nmax, weighted */
static float make_qp_quants(int n, int nmax, const float *x, uint8_t *L, const float *qw)
{
    float max = 0;
    for (int i = 0; i < n; ++i) max = fmaxf(max, x[i]);
    if (max < GROUP_MAX_EPS) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        return 0.f;
    }
    float iscale = nmax / max;
    for (int i = 0; i < n; ++i) L[i] = (uint8_t)nearest_int(iscale * x[i]);
    float scale = 1 / iscale;
    float best_mse = 0;
    for (int i = 0; i < n; ++i) {
        float diff = x[i] - scale * L[i];
        best_mse += qw[i] * diff * diff;
    }
    for (int is = -4; is <= 4; ++is) {
        if (is == 0) continue;
        float iscale_is = (0.1f * is + nmax) / max;
        float scale_is = 1 / iscale_is;
        float mse = 0;
        for (int i = 0; i < n; ++i) {
            int l = imin(nmax, nearest_int(iscale_is * x[i]));
            float diff = x[i] - scale_is * l;
            mse += qw[i] * diff * diff;
        }
        if (mse < best_mse) {
            best_mse = mse;
            iscale = iscale_is;
        }
    }
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; ++i) {
        int l = imin(nmax, nearest_int(iscale * x[i]));
        L[i] = (uint8_t)l;
        sumlx += qw[i] * x[i] * l;
        suml2 += qw[i] * l * l;
    }
    for (int itry = 0; itry < 5; ++itry) {
        int n_changed = 0;
        for (int i = 0; i < n; ++i) {
            float w = qw[i];
            float slx = sumlx - w * x[i] * L[i];
            float sl2 = suml2 - w * L[i] * L[i];
            if (slx > 0 && sl2 > 0) {
                int new_l = imin(nmax, nearest_int(x[i] * sl2 / slx));
                if (new_l != L[i]) {
                    slx += w * x[i] * new_l;
                    sl2 += w * new_l * new_l;
                    if (slx * slx * suml2 > sumlx * sumlx * sl2) {
                        L[i] = (uint8_t)new_l;
                        sumlx = slx;
                        suml2 = sl2;
                        ++n_changed;
                    }
                }
            }
        }
        if (!n_changed) break;
    }
    return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

/* quantize_row_q4_0_impl for one row of n (a multiple of 32) */
static void row_q4_0(const float *x, int64_t n, const float *qwr, uint8_t *out)
{
    float weight[32];
    int8_t L[32];
    float sum_x2 = 0;
    for (int64_t j = 0; j < n; ++j) sum_x2 += x[j] * x[j];
    float sigma2 = sum_x2 / n;
    for (int64_t ib = 0; ib < n / 32; ++ib) {
        const float *xb = x + 32 * ib, *qw = qwr + 32 * ib;
        uint8_t *b = out + 18 * ib;
        for (int j = 0; j < 32; ++j) weight[j] = qw[j] * sqrtf(sigma2 + xb[j] * xb[j]);
        float d = make_qx_quants_w(32, 8, xb, L, weight);
        st16(b, qs_ggml_fp32_to_fp16(d));
        for (int j = 0; j < 16; ++j) b[2 + j] = (uint8_t)(L[j] | (L[j + 16] << 4));
    }
}

/* quantize_row_q4_K_impl for one row */
static void row_q4_K(const float *x, int64_t n, const float *qwr, uint8_t *out)
{
    uint8_t L[256], Laux[32], Ls[8], Lm[8];
    float weights[32], sw[8], mins[8], scales[8];
    for (int64_t i = 0; i < n / 256; i++, x += 256) {
        uint8_t *b = out + 144 * i, *sc = b + 4, *q = b + 16;
        float sum_x2 = 0;
        for (int l = 0; l < 256; ++l) sum_x2 += x[l] * x[l];
        float sigma2 = 2 * sum_x2 / 256;
        for (int j = 0; j < 8; ++j) {
            const float *qw = qwr + 256 * i + 32 * j;
            for (int l = 0; l < 32; ++l) weights[l] = qw[l] * sqrtf(sigma2 + x[32 * j + l] * x[32 * j + l]);
            float sumw = 0;
            for (int l = 0; l < 32; ++l) sumw += weights[l];
            sw[j] = sumw;
            scales[j] = make_qkx3_quants(32, 15, x + 32 * j, weights, L + 32 * j, &mins[j], Laux,
                                         -0.9f, 0.05f, 36);
        }
        float d_block = make_qp_quants(8, 63, scales, Ls, sw);
        float m_block = make_qp_quants(8, 63, mins, Lm, sw);
        memset(sc, 0, 12);
        for (int j = 0; j < 8; ++j) {
            uint8_t ls = Ls[j], lm = Lm[j];
            if (j < 4) {
                sc[j] = ls;
                sc[j + 4] = lm;
            } else {
                sc[j + 4] = (uint8_t)((ls & 0xF) | ((lm & 0xF) << 4));
                sc[j - 4] |= (uint8_t)((ls >> 4) << 6);
                sc[j - 0] |= (uint8_t)((lm >> 4) << 6);
            }
        }
        st16(b, qs_ggml_fp32_to_fp16(d_block));
        st16(b + 2, qs_ggml_fp32_to_fp16(m_block));
        float dd = qs_ggml_fp16_to_fp32(qs_ggml_fp32_to_fp16(d_block));
        float dm0 = qs_ggml_fp16_to_fp32(qs_ggml_fp32_to_fp16(m_block));
        for (int j = 0; j < 8; ++j) {
            const float d = dd * Ls[j];
            if (!(d != 0.f)) continue;
            const float dm = dm0 * Lm[j];
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
}

/* quantize_row_q6_K_impl for one row (make_qx_quants weighted by qw itself) */
static void row_q6_K(const float *x, int64_t n, const float *qwr, uint8_t *out)
{
    int8_t L[256];
    float scales[16];
    for (int64_t i = 0; i < n / 256; i++, x += 256) {
        uint8_t *b = out + 210 * i;
        float max_scale = 0, max_abs_scale = 0;
        for (int ib = 0; ib < 16; ++ib) {
            float scale = make_qx_quants_w(16, 32, x + 16 * ib, L + 16 * ib, qwr + 256 * i + 16 * ib);
            scales[ib] = scale;
            if (fabsf(scale) > max_abs_scale) {
                max_abs_scale = fabsf(scale);
                max_scale = scale;
            }
        }
        memset(b, 0, 210);
        if (max_abs_scale < GROUP_MAX_EPS) continue;
        float iscale = -128.f / max_scale;
        st16(b + 208, qs_ggml_fp32_to_fp16(1 / iscale));
        int8_t *sc = (int8_t *)(b + 192);
        for (int ib = 0; ib < 16; ++ib) sc[ib] = (int8_t)imin(127, nearest_int(iscale * scales[ib]));
        float dd = qs_ggml_fp16_to_fp32(qs_ggml_fp32_to_fp16(1 / iscale));
        for (int j = 0; j < 16; ++j) {
            float d = dd * sc[j];
            if (!(d != 0.f)) continue;
            for (int ii = 0; ii < 16; ++ii) {
                int l = nearest_int(x[16 * j + ii] / d);
                L[16 * j + ii] = (int8_t)(imax(-32, imin(31, l)) + 32);
            }
        }
        uint8_t *ql = b, *qh = b + 128;
        for (int j = 0; j < 256; j += 128) {
            for (int l = 0; l < 32; ++l) {
                const uint8_t q1 = L[j + l + 0] & 0xF, q2 = L[j + l + 32] & 0xF;
                const uint8_t q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
                ql[l + 0] = (uint8_t)(q1 | (q3 << 4));
                ql[l + 32] = (uint8_t)(q2 | (q4 << 4));
                qh[l] = (uint8_t)((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) |
                                  ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
            }
            ql += 64;
            qh += 32;
        }
    }
}

int qs_ggml_quantize_imatrix(int id, const float *W, int64_t rows, int64_t n_per_row,
                             const float *qw, float *y, qs_err *err)
{
    const qs_ggml_type *t = qs_ggml_type_info(id);
    if (!t || (id != QS_GGML_Q4_0 && id != QS_GGML_Q4_K && id != QS_GGML_Q6_K))
        return qs_err_set(err, "imatrix: the weighted quantizers here are Q4_0, Q4_K and Q6_K");
    if (n_per_row <= 0 || n_per_row % t->block)
        return qs_err_set(err, "imatrix: rows of %lld are not whole %s blocks of %d (llama.cpp "
                          "needs them too)", (long long)n_per_row, t->name, t->block);
    for (int64_t i = 0; i < rows * n_per_row; i++)
        if (!isfinite(W[i])) return qs_err_set(err, "imatrix: the weights hold NaN or Inf");
    uint64_t bytes;
    if (qs_ggml_row_bytes(id, n_per_row, &bytes, err) != QS_OK) return QS_ERR;
    uint8_t *buf = malloc(bytes);
    if (!buf) return qs_err_set(err, "imatrix: out of memory");
    int rc = QS_OK;
    for (int64_t r = 0; r < rows && rc == QS_OK; r++) {
        const float *x = W + r * n_per_row;
        if (!qw) rc = qs_ggml_quantize(id, x, n_per_row, buf, err);
        else if (id == QS_GGML_Q4_0) row_q4_0(x, n_per_row, qw, buf);
        else if (id == QS_GGML_Q4_K) row_q4_K(x, n_per_row, qw, buf);
        else row_q6_K(x, n_per_row, qw, buf);
        if (rc == QS_OK) rc = qs_ggml_dequantize(id, buf, n_per_row, y + r * n_per_row, err);
    }
    free(buf);
    return rc;
}
