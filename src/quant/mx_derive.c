/* mx_derive.c — the `derive` trace of an MX / NVFP4 block (issue 17): block amax, the shared
 * exponent (MX) or the two-level scale (NVFP4), every element's code, and one element through
 * divide, round, decode and error. The numbers are mx.c's own (qs_mx_tensor_block). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/derive.h"
#include "qscope/mx.h"
#include "qscope/numfmt.h"

#define QS_STEPS_SHORT
#include "steps.h"

static void codes_into(char *dst, size_t len, const qs_mx_type *ty, const qs_mx_block *b)
{
    size_t at = 0;
    int hexw = (ty->elem_bits + 3) / 4;
    dst[0] = 0;
    for (int i = 0; i < b->m; i++) {
        char one[16];
        snprintf(one, sizeof one, "%s%0*X", i ? " " : "", hexw, b->codes[i]);
        if (at + strlen(one) + 5 >= len) { snprintf(dst + at, len - at, " …"); return; }
        at += (size_t)snprintf(dst + at, len - at, "%s", one);
    }
}

static void values_into(char *dst, size_t len, const float *v, int n)
{
    size_t at = 0;
    dst[0] = 0;
    for (int i = 0; i < n; i++) {
        char one[40], t[32];
        snprintf(one, sizeof one, "%s%s", i ? " " : "", g(t, v[i]));
        if (at + strlen(one) + 5 >= len) { snprintf(dst + at, len - at, " …"); return; }
        at += (size_t)snprintf(dst + at, len - at, "%s", one);
    }
}

int qs_mx_derive(const qs_tensor *t, const qs_scheme *sc, const qs_derive_opts *o,
                 qs_trace *tr, qs_err *err)
{
    const qs_mx_type *ty = qs_mx_type_info(sc->mx_type);
    if (!ty) return qs_err_set(err, "derive: unknown MX format");
    char a[32], b2[32], c[32];
    int64_t nb = qs_mx_tensor_nblocks(ty->id, t);
    int64_t bi = o->set >= 0 ? o->set : o->has_value ? 0 : qs_mx_block_of(ty->id, t, o->index);
    qs_mx_block *b = malloc(sizeof *b);
    if (!b) return qs_err_set(err, "derive: out of memory");
    if (qs_mx_tensor_block(ty->id, t, bi, b, err) != QS_OK) { free(b); return QS_ERR; }
    int nv = ty->tensor_scale;
    qs_step *st = add(tr, "block", nv ? "blocks of 16 consecutive elements along the last axis"
                                      : "blocks of 32 consecutive elements along the last axis",
                      (double)bi);
    SUB(st, "block %lld: elements %lld..%lld (%d of %d)", (long long)bi, (long long)b->start,
        (long long)(b->start + b->m - 1), b->m, ty->block);
    RES(st, "block %lld of %lld", (long long)bi, (long long)nb);
    NOTE(st, "%s: %d-bit elements + an 8-bit %s scale per %d = %.4g bits per weight%s", ty->name,
         ty->elem_bits, nv ? "E4M3" : "E8M0", ty->block, qs_mx_bits_per_weight(ty->id, 0, 0),
         nv ? " (+ one FP32 per tensor)" : "");
    if (nv) {
        st = add(tr, "tensor scale", "ts = amax_tensor / (448 · 6)  (FP32, one per tensor)",
                 b->tensor_scale);
        SUB(st, "ts = %s / 2688", g(a, b->tensor_amax));
        RES(st, "ts = %s", g(c, b->tensor_scale));
        NOTE(st, "448 = E4M3's largest value, 6 = E2M1's: the largest block scale then fits "
             "E4M3 and the largest element E2M1");
    }
    st = add(tr, "block amax", "amax = max |x_i| over the block", b->amax);
    SUB(st, "max of %d values", b->m);
    RES(st, "amax = %s", g(a, b->amax));
    if (b->special) NOTE(st, "the block holds NaN or ±Inf");
    const qs_numfmt *sf = qs_numfmt_get((qs_fmt_id)ty->scale_fmt);
    if (nv) {
        st = add(tr, "block scale", "s_b = E4M3(amax / 6 / ts)  (round to nearest even)",
                 b->scale_value);
        SUB(st, "s_b = E4M3(%s / 6 / %s) = E4M3(%s)", g(a, b->amax), g(b2, b->tensor_scale),
            g(c, b->scale_in));
        RES(st, "s_b = %s (E4M3 0x%02X)", g(a, b->scale_value), b->scale_code);
        NOTE(st, "an 8-bit float scale: 3 mantissa bits, so the block's largest value lands "
             "near 6 instead of anywhere in a factor of two");
        st = add(tr, "step", "d = s_b · ts", b->step);
        SUB(st, "d = %s · %s", g(a, b->scale_value), g(b2, b->tensor_scale));
        RES(st, "d = %s", g(c, b->step));
    } else if (b->special) {
        st = add(tr, "shared scale", "X = NaN (E8M0 0xFF)", NAN);
        SUB(st, "amax is %s", isnan(b->amax) ? "NaN" : "Inf");
        RES(st, "X = NaN: every element of the block decodes to NaN");
        NOTE(st, "MX v1.0 5.3: a NaN scale makes the whole block NaN");
    } else {
        st = add(tr, "shared exponent", "e = floor(log2(amax)) - emax_elem", b->shared_exp);
        if (b->amax > 0)
            SUB(st, "e = floor(log2(%s)) - %d = %d - %d", g(a, b->amax), ty->emax_elem,
                b->shared_exp_raw + ty->emax_elem, ty->emax_elem);
        else
            SUB(st, "amax = 0: the smallest scale");
        RES(st, "e = %d", b->shared_exp);
        if (b->shared_exp != b->shared_exp_raw)
            NOTE(st, "clamped to E8M0's range -127..127");
        else
            NOTE(st, "emax_elem = %d: the largest exponent of %s (largest value %s), so amax / "
                 "2^e lies in [2^%d, 2^%d)", ty->emax_elem, ty->elem_name,
                 g(a, ty->elem_max), ty->emax_elem, ty->emax_elem + 1);
        st = add(tr, "shared scale", "X = 2^e, stored as E8M0 (e + 127)", b->scale_value);
        SUB(st, "X = 2^%d", b->shared_exp);
        RES(st, "X = %s (E8M0 0x%02X)", g(a, b->scale_value), b->scale_code);
        NOTE(st, "a power of two: dividing by it only shifts exponents, no rounding");
        if (b->amax / b->scale_value > ty->elem_max)
            NOTE(st, "amax / X = %s > %s: values above %s in this block saturate",
                 g(a, b->amax / b->scale_value), g(b2, ty->elem_max),
                 g(c, ty->elem_max * b->scale_value));
    }
    (void)sf;
    st = add(tr, "element codes", nv ? "q_i = E2M1(x_i / d)" : ty->elem_fmt < 0
             ? "q_i = clamp(rne(x_i / X · 64), -127, 127)" : "q_i = element(x_i / X), round to "
             "nearest even, saturating", (double)b->m);
    if (st) codes_into(st->substituted, sizeof st->substituted, ty, b);
    RES(st, "%d codes of %d bits (%s), %d saturated", b->m, ty->elem_bits, ty->elem_name,
        b->clipped);
    /* MXINT8's element value is code · 2^-6 (the implicit scale of MX v1.0 5.3) */
    int mxint = ty->elem_fmt < 0;
    st = add(tr, "dequantized values", nv ? "x̂_i = q_i · d" : mxint ? "x̂_i = q_i · 2^-6 · X"
             : "x̂_i = value(q_i) · X", 0.0);
    if (st) values_into(st->substituted, sizeof st->substituted, b->y, b->m);
    {
        double me = 0.0;
        for (int i = 0; i < b->m; i++) me = fmax(me, fabs((double)b->y[i] - b->x[i]));
        RES(st, "max |x̂ - x| in the block = %s", g(a, me));
        if (st) st->value = me;
    }
    /* one value followed through */
    float x;
    char title[64];
    if (o->has_value) {
        x = (float)o->value;
        snprintf(title, sizeof title, "value");
    } else {
        int j = o->index >= b->start && o->index < b->start + b->m
                ? (int)(o->index - b->start) : 0;
        x = b->x[j];
        snprintf(title, sizeof title, "element %lld", (long long)(b->start + j));
    }
    st = add(tr, title, "x", x);
    RES(st, "x = %s", g(a, x));
    if (o->has_value) NOTE(st, "a typed value under block %lld's scale", (long long)bi);
    double step = nv ? (double)b->step : b->scale_value;
    double v = nv ? (double)(x / b->step) : (double)x / b->scale_value;
    if (!(step > 0)) v = isnan(step) ? NAN : 0.0;
    st = add(tr, "divide", nv ? "v = x / d" : "v = x / X", v);
    SUB(st, "%s / %s", g(a, x), g(b2, step));
    RES(st, "v = %s", g(c, v));
    int sat = 0;
    uint32_t q = qs_mx_elem_encode(ty, isnan(v) ? 0.0 : v, &sat);
    double qv = qs_mx_elem_decode(ty, q);
    st = add(tr, "round", ty->elem_fmt < 0 ? "q = clamp(rne(v · 64), -127, 127)"
             : "q = the nearest element value (ties to even), saturating", (double)q);
    SUB(st, "%s to %s", g(a, v), ty->elem_name);
    if (mxint)      /* the code is the int8; its value carries the implicit 2^-6 */
        RES(st, "q = %d (0x%02X), value q · 2^-6 = %s", (int)(int8_t)(uint8_t)q, q,
            g(b2, qv));
    else            /* the code is a bit pattern of the element format */
        RES(st, "q = 0x%0*X, the %s code of %s", (ty->elem_bits + 3) / 4, q, ty->elem_name,
            g(b2, qv));
    if (sat) NOTE(st, "|v| > %s: saturated to the largest element", g(c, ty->elem_max));
    else if (ty->elem_fmt >= 0) {
        qs_numfields fl;
        qs_numfmt_fields(qs_numfmt_get((qs_fmt_id)ty->elem_fmt), q, NAN, 0, &fl);
        NOTE(st, "sign %d, exponent %s, mantissa %s (%s)", fl.sign, fl.exp_bits, fl.man_bits,
             qs_numclass_name(fl.cls));
    }
    double y = isnan(step) ? NAN : (double)(float)(qv * step);
    st = add(tr, "dequantize", nv ? "x̂ = value(q) · d" : mxint ? "x̂ = q · 2^-6 · X"
             : "x̂ = value(q) · X", y);
    if (mxint) SUB(st, "%d · 2^-6 · %s", (int)(int8_t)(uint8_t)q, g(b2, step));
    else SUB(st, "%s · %s", g(a, qv), g(b2, step));
    RES(st, "x̂ = %s", g(c, y));
    st = add(tr, "error", "e = x̂ - x", y - x);
    SUB(st, "%s - %s", g(a, y), g(b2, x));
    RES(st, "e = %s", g(c, y - x));
    tr->set = (int)bi;
    tr->x = x;
    tr->code = ty->elem_fmt < 0 ? (int64_t)(int8_t)(uint8_t)q : (int64_t)q;
    tr->xhat = y;
    free(b);
    return QS_OK;
}
