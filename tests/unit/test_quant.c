/* test_quant.c — the quantization engine against independent references: the seeds' hand
 * examples, PyTorch observers and quantize/fake-quantize (tests/golden/torch_minmax.json),
 * ONNX Runtime's compute_scale_zp, ggml Q8_0/Q4_0, bitsandbytes' NF4 and dynamic map
 * (made by tests/golden/make_quant_golden.py), degenerate inputs, casts and metrics. The
 * golden checks run on every kernel table (_ref and AVX2) in the same run. */
#include <criterion/criterion.h>

#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/calib.h"
#include "qscope/metrics.h"
#include "qscope/quant.h"
#include "qscope/synth.h"

#define REL_TOL_METRIC 1e-9     /* metrics vs hand-computed sums */

static json_t *golden(const char *name)
{
    char path[1024];
    const char *top = getenv("QSCOPE_TOP");
    snprintf(path, sizeof path, "%s/tests/golden/%s", top && *top ? top : ".", name);
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    cr_assert_not_null(j, "cannot read %s: %s", path, e.text);
    return j;
}

static float *floats(json_t *a, int64_t *n)
{
    size_t len = json_array_size(a);
    float *v = malloc((len ? len : 1) * sizeof *v);
    for (size_t i = 0; i < len; i++) v[i] = (float)json_number_value(json_array_get(a, i));
    if (n) *n = (int64_t)len;
    return v;
}

static qs_tensor *tensor_of(json_t *shape, json_t *x)
{
    int64_t n;
    float *v = floats(x, &n);
    int64_t sh[QS_MAX_DIMS];
    int nd = (int)json_array_size(shape);
    for (int i = 0; i < nd; i++) sh[i] = json_integer_value(json_array_get(shape, i));
    qs_tensor *t = qs_tensor_new("t", nd, sh, QS_DT_F32, NULL);
    cr_assert_not_null(t);
    cr_assert_eq(t->n, n);
    memcpy(t->data, v, (size_t)n * sizeof *v);
    free(v);
    return t;
}

/* Runs a check on every kernel table: _ref and, when the CPU has it, AVX2. */
static void on_each_kernel(void (*check)(void))
{
    qs_k_force(qs_k_ref());
    check();
    if (qs_k_avx2()) {
        qs_k_force(qs_k_avx2());
        check();
    }
    qs_k_force(NULL);
}

/* Runs the engine: minmax calibration, parameters, fake quant with codes. */
typedef struct run {
    qs_calib_result cal;
    qs_qstate q;
    float *y;
    int32_t *codes;
    qs_qresult r;
} run;

static void run_scheme(const qs_tensor *t, const qs_scheme *sc, qs_calib_kind ck, run *out)
{
    qs_err err = {{0}};
    qs_layout l;
    qs_calib c;
    qs_calib_default(&c);
    c.kind = ck;
    memset(out, 0, sizeof *out);
    cr_assert_eq(qs_scheme_layout(sc, t->ndim, t->shape, &l, &err), QS_OK, "%s", err.msg);
    int ggml = sc->conv == QS_CONV_GGML;
    const float *lo = NULL, *hi = NULL;
    if (sc->kind == QS_Q_INT && !ggml) {
        cr_assert_eq(qs_calib_run(t->data, &l, sc, &c, &out->cal, &err), QS_OK, "%s", err.msg);
        lo = out->cal.lo;
        hi = out->cal.hi;
    }
    cr_assert_eq(qs_qstate_init(&out->q, sc, t, lo, hi, &err), QS_OK, "%s", err.msg);
    out->y = malloc((size_t)t->n * sizeof *out->y);
    out->codes = malloc((size_t)t->n * sizeof *out->codes);
    out->r.eh_bins = 16;
    cr_assert_eq(qs_quant_apply(&out->q, t, out->y, out->codes, &out->r, &err), QS_OK, "%s",
                 err.msg);
}

static void run_fini(run *r)
{
    qs_calib_result_fini(&r->cal);
    qs_qstate_fini(&r->q);
    qs_qresult_fini(&r->r);
    free(r->y);
    free(r->codes);
}

static qs_scheme words(const char *line)
{
    qs_scheme s;
    qs_err err = {{0}};
    char buf[256], *argv[16];
    int argc = 0;
    qs_scheme_default(&s);
    snprintf(buf, sizeof buf, "%s", line);
    for (char *w = strtok(buf, " "); w && argc < 16; w = strtok(NULL, " ")) argv[argc++] = w;
    cr_assert_eq(qs_scheme_parse(&s, argc, argv, &err), QS_OK, "%s: %s", line, err.msg);
    return s;
}

/* ---- the seeds' worked examples (hand-derived) ------------------------------------------ */

Test(seeds, minus20_to_1000_uint8)
{
    float v[] = { -20.0f, 1000.0f };
    qs_tensor *t = qs_tensor_from_values("v", v, 2, NULL);
    qs_scheme s = words("uint8 asym");
    run r;
    run_scheme(t, &s, QS_CAL_MINMAX, &r);
    cr_assert_eq(r.q.qp.scale[0], 4.0f);        /* 1020 / 255 */
    cr_assert_eq(r.q.qp.zp[0], 5);              /* 0 - round(-20 / 4) */
    cr_assert_eq(r.codes[0], 0);
    cr_assert_eq(r.codes[1], 255);
    cr_assert_eq(r.y[0], -20.0f);
    cr_assert_eq(r.y[1], 1000.0f);
    run_fini(&r);
    qs_tensor_free(t);
}

Test(seeds, zero_to_1000_uint8)
{
    float v[] = { 0.0f, 250.0f, 1000.0f };
    qs_tensor *t = qs_tensor_from_values("v", v, 3, NULL);
    qs_scheme s = words("uint8 asym");
    run r;
    run_scheme(t, &s, QS_CAL_MINMAX, &r);
    cr_assert_eq(r.q.qp.scale[0], 1000.0f / 255.0f);
    cr_assert_float_eq(r.q.qp.scale[0], 3.9216, 1e-4);
    cr_assert_eq(r.q.qp.zp[0], 0);
    cr_assert_eq(r.codes[1], 64);               /* 250 / 3.9216 = 63.75 */
    cr_assert_eq(r.codes[2], 255);
    run_fini(&r);
    qs_tensor_free(t);
}

/* ---- PyTorch golden --------------------------------------------------------------------- */

static qs_scheme scheme_of(json_t *c)
{
    qs_scheme s;
    qs_scheme_default(&s);
    s.bits = (int)json_integer_value(json_object_get(c, "bits"));
    s.is_signed = (int)json_integer_value(json_object_get(c, "signed"));
    s.symmetric = (int)json_integer_value(json_object_get(c, "symmetric"));
    s.narrow = (int)json_integer_value(json_object_get(c, "narrow"));
    if (json_integer_value(json_object_get(c, "per_channel"))) {
        s.gran = QS_G_CHANNEL;
        s.axis = (int)json_integer_value(json_object_get(c, "axis"));
    }
    return s;
}

static void torch_body(void)
{
    json_t *g = golden("torch_minmax.json");
    json_t *tensors = json_object_get(g, "tensors"), *cases = json_object_get(g, "cases");
    size_t i;
    json_t *c;
    int ncodes = 0, nper_channel = 0;
    json_array_foreach(cases, i, c) {
        const char *tn = json_string_value(json_object_get(c, "tensor"));
        const char *sn = json_string_value(json_object_get(c, "scheme"));
        json_t *td = json_object_get(tensors, tn);
        qs_tensor *t = tensor_of(json_object_get(td, "shape"), json_object_get(td, "x"));
        qs_scheme s = scheme_of(c);
        run r;
        run_scheme(t, &s, QS_CAL_MINMAX, &r);
        cr_assert_eq(r.q.qp.qmin, json_integer_value(json_object_get(c, "qmin")), "%s %s", tn,
                     sn);
        cr_assert_eq(r.q.qp.qmax, json_integer_value(json_object_get(c, "qmax")), "%s %s", tn,
                     sn);
        json_t *sc = json_object_get(c, "scale"), *zp = json_object_get(c, "zero_point");
        cr_assert_eq((size_t)r.q.qp.nparams, json_array_size(sc), "%s %s", tn, sn);
        for (int64_t p = 0; p < r.q.qp.nparams; p++) {
            float want = (float)json_number_value(json_array_get(sc, (size_t)p));
            cr_assert_eq(r.q.qp.scale[p], want, "%s %s axis %d set %lld: scale %.9g, torch "
                         "%.9g", tn, sn, s.axis, (long long)p, r.q.qp.scale[p], want);
            cr_assert_eq(r.q.qp.zp[p], json_integer_value(json_array_get(zp, (size_t)p)),
                         "%s %s set %lld: zero point", tn, sn, (long long)p);
        }
        json_t *fake = json_object_get(c, "fake"), *codes = json_object_get(c, "codes");
        for (int64_t e = 0; e < t->n; e++) {
            float want = (float)json_number_value(json_array_get(fake, (size_t)e));
            cr_assert_eq(r.y[e], want, "%s %s axis %d element %lld: %.9g vs torch fake quant "
                         "%.9g", tn, sn, s.axis, (long long)e, r.y[e], want);
            if (codes)
                cr_assert_eq(r.codes[e], json_integer_value(json_array_get(codes, (size_t)e)),
                             "%s %s element %lld: code", tn, sn, (long long)e);
        }
        ncodes += codes != NULL;
        nper_channel += s.gran == QS_G_CHANNEL;
        run_fini(&r);
        qs_tensor_free(t);
    }
    cr_assert_gt(ncodes, 20);
    cr_assert_gt(nper_channel, 20);
    json_decref(g);
}
Test(torch, minmax_observers_per_tensor_and_per_channel)
{
    on_each_kernel(torch_body);
}

/* ---- ONNX Runtime golden ---------------------------------------------------------------- */

Test(onnx, compute_scale_zp_and_quantize)
{
    json_t *g = golden("onnx_qparams.json"), *tg = golden("torch_minmax.json");
    json_t *tensors = json_object_get(tg, "tensors");
    size_t i;
    json_t *c;
    json_array_foreach(g, i, c) {
        const char *tn = json_string_value(json_object_get(c, "tensor"));
        json_t *td = json_object_get(tensors, tn);
        qs_tensor *t = tensor_of(json_object_get(td, "shape"), json_object_get(td, "x"));
        qs_scheme s;
        qs_scheme_default(&s);
        s.conv = QS_CONV_ONNX;
        s.is_signed = (int)json_integer_value(json_object_get(c, "signed"));
        s.symmetric = (int)json_integer_value(json_object_get(c, "symmetric"));
        run r;
        run_scheme(t, &s, QS_CAL_MINMAX, &r);
        const char *sn = json_string_value(json_object_get(c, "scheme"));
        cr_assert_eq(r.q.qp.qmin, json_integer_value(json_object_get(c, "qmin")), "%s", sn);
        cr_assert_eq(r.q.qp.scale[0], (float)json_number_value(json_object_get(c, "scale")),
                     "%s %s scale", tn, sn);
        cr_assert_eq(r.q.qp.zp[0], json_integer_value(json_object_get(c, "zero_point")),
                     "%s %s zp", tn, sn);
        json_t *codes = json_object_get(c, "codes");
        for (int64_t e = 0; e < t->n; e++)
            cr_assert_eq(r.codes[e], json_integer_value(json_array_get(codes, (size_t)e)),
                         "%s %s element %lld", tn, sn, (long long)e);
        run_fini(&r);
        qs_tensor_free(t);
    }
    json_decref(g);
    json_decref(tg);
}

/* ---- ggml golden ------------------------------------------------------------------------ */

static void ggml_body(void)
{
    json_t *g = golden("ggml_blocks.json");
    size_t i;
    json_t *c;
    json_array_foreach(g, i, c) {
        int64_t n;
        float *x = floats(json_object_get(c, "x"), &n);
        qs_tensor *t = qs_tensor_from_values("g", x, n, NULL);
        for (int q4 = 0; q4 < 2; q4++) {
            qs_scheme s = words(q4 ? "q4_0" : "q8_0");
            run r;
            run_scheme(t, &s, QS_CAL_MINMAX, &r);
            json_t *codes = json_object_get(c, q4 ? "q4_codes" : "q8_codes");
            json_t *d = json_object_get(c, q4 ? "q4_d" : "q8_d");
            cr_assert_eq((size_t)r.q.qp.nparams, json_array_size(d));
            for (int64_t b = 0; b < r.q.qp.nparams; b++)
                cr_assert_eq(r.q.qp.scale[b], (float)json_number_value(json_array_get(d,
                             (size_t)b)), "block %lld d", (long long)b);
            for (int64_t e = 0; e < n; e++) {
                int32_t want = (int32_t)json_integer_value(json_array_get(codes, (size_t)e));
                cr_assert_eq(r.codes[e], want, "%s %s element %lld",
                             json_string_value(json_object_get(c, "tensor")),
                             q4 ? "q4_0" : "q8_0", (long long)e);
                /* dequantize with the fp16 d */
                float dd = r.q.qp.scale[e / 32];
                cr_assert_eq(r.y[e], (float)(want - (q4 ? 8 : 0)) * dd);
            }
            run_fini(&r);
        }
        qs_tensor_free(t);
        free(x);
    }
    json_decref(g);
}
Test(ggml, q8_0_and_q4_0_blocks)
{
    on_each_kernel(ggml_body);
}

/* ---- bitsandbytes ----------------------------------------------------------------------- */

Test(bnb, dynamic_map_matches_create_dynamic_map)
{
    json_t *g = golden("dynamic_map.json");
    float map[256];
    qs_dynamic_map(map);
    cr_assert_eq(json_array_size(g), 256);
    for (int i = 0; i < 256; i++)
        cr_assert_eq(map[i], (float)json_number_value(json_array_get(g, (size_t)i)),
                     "entry %d: %.9g vs %.9g", i, map[i],
                     json_number_value(json_array_get(g, (size_t)i)));
    json_decref(g);
}

Test(bnb, nf4_table_is_the_published_one)
{
    /* REFERENCE.md / bitsandbytes functional.py */
    cr_assert_eq(qs_nf4_table[0], -1.0f);
    cr_assert_eq(qs_nf4_table[1], -0.6961928009986877f);
    cr_assert_eq(qs_nf4_table[7], 0.0f);
    cr_assert_eq(qs_nf4_table[8], 0.07958029955625534f);
    cr_assert_eq(qs_nf4_table[14], 0.7229568362236023f);
    cr_assert_eq(qs_nf4_table[15], 1.0f);
    for (int i = 0; i < 15; i++) cr_assert_lt(qs_nf4_table[i], qs_nf4_table[i + 1]);
}

static void nf4_body(void)
{
    json_t *g = golden("nf4_blocks.json");
    int64_t n;
    float *x = floats(json_object_get(g, "x"), &n);
    qs_tensor *t = qs_tensor_from_values("w", x, n, NULL);
    qs_scheme s = words("nf4 block=64 dq");
    run r;
    run_scheme(t, &s, QS_CAL_MINMAX, &r);
    const char *hex = json_string_value(json_object_get(g, "codes"));
    cr_assert_eq((int64_t)strlen(hex), n);
    for (int64_t e = 0; e < n; e++) {
        int want = hex[e] <= '9' ? hex[e] - '0' : hex[e] - 'a' + 10;
        cr_assert_eq(r.codes[e], want, "element %lld", (long long)e);
    }
    json_t *am = json_object_get(g, "absmax"), *adq = json_object_get(g, "absmax_dq");
    json_t *dqc = json_object_get(g, "dq_codes");
    cr_assert_eq((size_t)r.q.nblocks, json_array_size(am));
    cr_assert_eq(r.q.dq_nblocks, 2);
    cr_assert_eq(r.q.dq_offset, (float)json_number_value(json_object_get(g, "dq_offset")));
    for (int64_t b = 0; b < r.q.nblocks; b++) {
        cr_assert_eq(r.q.absmax[b], (float)json_number_value(json_array_get(am, (size_t)b)));
        cr_assert_eq(r.q.dq_codes[b], json_integer_value(json_array_get(dqc, (size_t)b)),
                     "block %lld dq code", (long long)b);
        cr_assert_eq(r.q.absmax_dq[b], (float)json_number_value(json_array_get(adq,
                     (size_t)b)), "block %lld", (long long)b);
    }
    /* decoded = table[code] * double-quantized absmax */
    for (int64_t e = 0; e < n; e++)
        cr_assert_eq(r.y[e], qs_nf4_table[r.codes[e]] * r.q.absmax_dq[e / 64]);
    run_fini(&r);
    qs_tensor_free(t);
    free(x);
    json_decref(g);
}
Test(bnb, nf4_blockwise_with_double_quant)
{
    on_each_kernel(nf4_body);
}

Test(bnb, bits_per_parameter)
{
    qs_scheme a = words("nf4 block=64"), b = words("nf4 block=64 dq");
    cr_assert_float_eq(qs_scheme_bits_per_param(&a, 0, 0), 4.5, 1e-12);
    cr_assert_float_eq(qs_scheme_bits_per_param(&b, 0, 0), 4.0 + 0.125 + 32.0 / 16384, 1e-12);
    cr_assert_float_eq(qs_scheme_bits_per_param(&b, 0, 0), 4.127, 5e-4);
}

Test(bnb, fp4_codes_are_bitsandbytes_codes)
{
    /* values that are exactly table entries (absmax 1 in the block) come back as their code */
    float x[16];
    for (int c = 0; c < 16; c++) x[c] = qs_fp4_table_by_code[c];
    x[8] = -0.001f;     /* a small negative: bitsandbytes gives -0 (code 8) */
    x[0] = 0.001f;      /* a small positive: +0 (code 0) */
    qs_tensor *t = qs_tensor_from_values("f", x, 16, NULL);
    qs_scheme s = words("fp4 block=16");
    run r;
    run_scheme(t, &s, QS_CAL_MINMAX, &r);
    for (int c = 0; c < 16; c++) cr_assert_eq(r.codes[c], c, "code %d gave %d", c, r.codes[c]);
    run_fini(&r);
    qs_tensor_free(t);
}

/* ---- degenerate inputs ------------------------------------------------------------------ */

Test(edge, zero_range_all_nan_inf_single)
{
    static const char *const schemes[] = { "uint8 asym", "int8 sym", "int8 asym", "int4 sym",
                                           "int8 sym convention=onnx", "int8 convention=trt",
                                           "q8_0", "q4_0", "nf4", "int8 per-channel" };
    float zeros[4] = { 0, 0, 0, 0 };
    float nans[3] = { NAN, NAN, NAN };
    float single[1] = { -3.5f };
    float infs[5] = { 1.0f, INFINITY, -2.0f, -INFINITY, NAN };
    float huge[3] = { -3e38f, 3e38f, 1.0f };
    float *data[] = { zeros, nans, single, infs, huge };
    int64_t ns[] = { 4, 3, 1, 5, 3 };
    for (size_t k = 0; k < sizeof schemes / sizeof schemes[0]; k++)
        for (int d = 0; d < 5; d++) {
            qs_tensor *t = qs_tensor_from_values("e", data[d], ns[d], NULL);
            qs_scheme s = words(schemes[k]);
            run r;
            run_scheme(t, &s, QS_CAL_MINMAX, &r);
            /* ggml: a block scale beyond fp16 (the ±Inf of data 3 become ±FLT_MAX as in
             * ggml.c's quantizer; data 4 is huge) is stored as inf, as ggml does, and the
             * block dequantizes to inf/NaN: the documented rule, the same as blocks/export */
            int blowup = s.conv == QS_CONV_GGML && (d == 3 || d == 4);
            if (blowup) {
                for (int64_t e = 0; e < t->n; e++)
                    cr_assert(!isfinite(r.y[e]), "%s data %d elem %lld: %g", schemes[k], d,
                              (long long)e, r.y[e]);
                cr_assert(isinf(r.q.qp.scale[0]), "%s data %d: scale %g", schemes[k], d,
                          r.q.qp.scale[0]);
                run_fini(&r);
                qs_tensor_free(t);
                continue;
            }
            for (int64_t p = 0; p < r.q.qp.nparams; p++) {
                cr_assert(isfinite(r.q.qp.scale[p]) && r.q.qp.scale[p] >= 0.0f,
                          "%s data %d: scale %g", schemes[k], d, r.q.qp.scale[p]);
                cr_assert(r.q.qp.zp[p] >= r.q.qp.qmin && r.q.qp.zp[p] <= r.q.qp.qmax);
            }
            for (int64_t e = 0; e < t->n; e++) {
                if (isfinite(t->data[e])) cr_assert(!isnan(r.y[e]), "%s data %d elem %lld",
                                                    schemes[k], d, (long long)e);
                if (isfinite(t->data[e]) && d != 4)
                    cr_assert(isfinite(r.y[e]), "%s data %d elem %lld", schemes[k], d,
                              (long long)e);
            }
            if (d == 2 && s.kind == QS_Q_INT && s.conv == QS_CONV_TORCH && !s.symmetric)
                cr_assert_float_eq(r.y[0], -3.5f, 1e-6);   /* [min(-3.5,0), 0]: exact end */
            run_fini(&r);
            qs_tensor_free(t);
        }
}

Test(edge, torch_zero_range_uses_float_epsilon)
{
    float zeros[3] = { 0, 0, 0 };
    qs_tensor *t = qs_tensor_from_values("z", zeros, 3, NULL);
    qs_scheme s = words("uint8 asym");
    run r;
    run_scheme(t, &s, QS_CAL_MINMAX, &r);
    cr_assert_eq(r.q.qp.scale[0], 1.1920929e-07f);     /* torch.finfo(float32).eps */
    cr_assert_eq(r.q.qp.zp[0], 0);
    run_fini(&r);
    qs_tensor_free(t);
}

Test(edge, infinities_clip_and_nan_maps_to_zero_point)
{
    float v[] = { -1.0f, 1.0f, INFINITY, -INFINITY, NAN };
    qs_tensor *t = qs_tensor_from_values("i", v, 5, NULL);
    qs_scheme s = words("int8 asym");
    run r;
    run_scheme(t, &s, QS_CAL_MINMAX, &r);
    cr_assert_eq(r.q.qp.scale[0], 2.0f / 255.0f);      /* range of the finite values */
    cr_assert_eq(r.codes[2], 127);
    cr_assert_eq(r.codes[3], -128);
    cr_assert_eq(r.codes[4], r.q.qp.zp[0]);
    cr_assert_eq(r.cal.ninf, 2);
    cr_assert_eq(r.cal.nnan, 1);
    cr_assert_eq(r.r.st.n_nan, 1);
    cr_assert_eq(r.r.st.clipped, 2);
    run_fini(&r);
    qs_tensor_free(t);
}

/* ---- conventions, rounding, casts ------------------------------------------------------- */

Test(conventions, trt_multiplier_and_narrow_range)
{
    float v[] = { -2.0f, 0.5f, 1.0f };
    qs_tensor *t = qs_tensor_from_values("t", v, 3, NULL);
    qs_scheme s = words("int8 convention=trt");
    run r;
    run_scheme(t, &s, QS_CAL_MINMAX, &r);
    cr_assert_eq(r.q.qp.qmin, -127);
    cr_assert_eq(r.q.qp.inv[0], 127.0f / 2.0f);        /* 127 / amax */
    cr_assert_eq(r.codes[0], -127);
    cr_assert_eq(r.codes[1], 32);                      /* 31.75 -> 32 */
    cr_assert_eq(r.codes[2], 64);                      /* 63.5 -> 64 (half to even) */
    run_fini(&r);
    qs_tensor_free(t);
}

Test(conventions, onnx_symmetric_uses_127)
{
    float v[] = { -1.27f, 0.5f };
    qs_tensor *t = qs_tensor_from_values("o", v, 2, NULL);
    qs_scheme s = words("int8 sym convention=onnx");
    run r;
    run_scheme(t, &s, QS_CAL_MINMAX, &r);
    cr_assert_eq(r.q.qp.qmin, -127);
    cr_assert_eq(r.q.qp.scale[0], (float)(2.0 * (double)1.27f / 254.0));
    cr_assert_eq(r.codes[0], -127);
    run_fini(&r);
    qs_tensor_free(t);
}

Test(rounding, modes_and_stochastic_is_unbiased)
{
    /* scale 1 (torch uint8 asym over [0, 255]): codes are rounded values */
    float v[] = { 0.0f, 255.0f, 2.5f, 3.5f, 10.5f };
    qs_tensor *t = qs_tensor_from_values("r", v, 5, NULL);
    static const struct { const char *w; int c[3]; } modes[] = {
        {"uint8 asym round=even", {2, 4, 10}}, {"uint8 asym round=away", {3, 4, 11}},
        {"uint8 asym round=up", {3, 4, 11}},
    };
    for (size_t k = 0; k < 3; k++) {
        qs_scheme s = words(modes[k].w);
        run r;
        run_scheme(t, &s, QS_CAL_MINMAX, &r);
        cr_assert_eq(r.q.qp.scale[0], 1.0f);
        for (int j = 0; j < 3; j++) cr_assert_eq(r.codes[2 + j], modes[k].c[j], "%s %d",
                                                 modes[k].w, j);
        run_fini(&r);
    }
    qs_tensor_free(t);
    /* stochastic rounding of 0.3-step values: mean error near 0, same seed same codes */
    int64_t n = 200000;
    float *x = malloc((size_t)n * sizeof *x);
    for (int64_t e = 0; e < n; e++) x[e] = (float)(e % 1000) * 0.0173f - 8.0f;
    qs_tensor *u = qs_tensor_from_values("s", x, n, NULL);
    qs_scheme s1 = words("int4 asym round=stochastic seed=7");     /* minmax: no clipping */
    qs_scheme s0 = words("int4 asym");
    run a, b, c;
    run_scheme(u, &s1, QS_CAL_MINMAX, &a);
    run_scheme(u, &s1, QS_CAL_MINMAX, &b);
    run_scheme(u, &s0, QS_CAL_MINMAX, &c);
    cr_assert_eq(memcmp(a.codes, b.codes, (size_t)n * sizeof *a.codes), 0);
    double bias = a.r.st.sum_e / (double)a.r.st.n, step = a.q.qp.scale[0];
    cr_assert_lt(fabs(bias), 0.01 * step, "stochastic bias %g of a step %g", bias, step);
    cr_assert_gt(a.r.st.sum_e2, c.r.st.sum_e2);    /* more noise than nearest rounding */
    run_fini(&a); run_fini(&b); run_fini(&c);
    qs_tensor_free(u);
    free(x);
}

Test(casts, fp16_bf16_fp8)
{
    float v[] = { 7.32f, 1000.0f, -1e-9f };
    qs_tensor *t = qs_tensor_from_values("c", v, 3, NULL);
    qs_scheme s = words("fp16");
    run r;
    run_scheme(t, &s, QS_CAL_MINMAX, &r);
    cr_assert_eq(r.y[0], 7.3203125f);                  /* REFERENCE.md: 0x4752 */
    cr_assert_eq(r.codes[0], 0x4752);
    run_fini(&r);
    s = words("bf16");
    run_scheme(t, &s, QS_CAL_MINMAX, &r);
    cr_assert_eq(r.y[0], 7.3125f);                     /* 1.110101b·2^2, 7 mantissa bits */
    run_fini(&r);
    s = words("fp8-e4m3");
    run_scheme(t, &s, QS_CAL_MINMAX, &r);
    cr_assert_eq(r.y[0], 7.5f);                        /* 1.111b·2^2: 7.5 is nearer than 7 */
    cr_assert_eq(r.y[1], 448.0f);                      /* saturates at the largest finite */
    run_fini(&r);
    s = words("fp8-e5m2");
    run_scheme(t, &s, QS_CAL_MINMAX, &r);
    cr_assert_eq(r.y[0], 7.0f);
    cr_assert_eq(r.y[1], 1024.0f);
    run_fini(&r);
    qs_tensor_free(t);
}

/* FP8 casts saturate (E5M2 too, unlike `bits`' IEEE default): values past the largest finite
 * value, ±Inf included, are clipped and counted, as fp16's overflow to Inf and MX's saturated
 * elements are. Both paths: the encoder (small tensors) and the lookup tables (>= 2^18). */
Test(casts, fp8_saturation_counts_as_clipped)
{
    float v[] = { 1.0f, 2.0f, 1000.0f, -3.0f, 100000.0f, -INFINITY, 448.0f, 57344.0f };
    qs_tensor *t = qs_tensor_from_values("c", v, 8, NULL);
    qs_scheme s = words("fp8-e4m3");
    run r;
    run_scheme(t, &s, QS_CAL_MINMAX, &r);
    cr_assert_eq(r.y[2], 448.0f);
    cr_assert_eq(r.y[5], -448.0f);
    cr_assert_eq(r.r.st.clipped, 4, "1000, 1e5, -Inf, 57344 exceed 448: %lld",
                 (long long)r.r.st.clipped);
    run_fini(&r);
    s = words("fp8-e5m2");
    run_scheme(t, &s, QS_CAL_MINMAX, &r);
    cr_assert_eq(r.y[4], 57344.0f);
    cr_assert_eq(r.r.st.clipped, 2, "1e5 and -Inf exceed 57344: %lld",
                 (long long)r.r.st.clipped);
    cr_assert_eq(r.r.nonfinite, 0);
    run_fini(&r);
    qs_tensor_free(t);
    /* the lookup-table path */
    int64_t n = (int64_t)1 << 18;
    float *big = calloc((size_t)n, sizeof *big);
    big[0] = 1000.0f;
    big[1] = -500.0f;
    big[2] = 300.0f;
    t = qs_tensor_from_values("big", big, n, NULL);
    s = words("fp8-e4m3");
    run_scheme(t, &s, QS_CAL_MINMAX, &r);
    cr_assert_eq(r.y[0], 448.0f);
    cr_assert_eq(r.r.st.clipped, 2);
    run_fini(&r);
    qs_tensor_free(t);
    free(big);
}

/* ---- metrics ---------------------------------------------------------------------------- */

Test(metrics, from_hand_sums)
{
    /* x = (1, 2, 3), y = (1, 2.5, 2): e = (0, .5, -1) */
    qs_errstats st = { 3, 0, 1, 14.0, 1 + 6.25 + 4, 1 + 5 + 6, -0.5, 1.25, 1.0 };
    qs_metrics m;
    qs_metrics_from_stats(&st, &m);
    cr_assert_float_eq(m.mse, 1.25 / 3, REL_TOL_METRIC);
    cr_assert_float_eq(m.rmse, sqrt(1.25 / 3), REL_TOL_METRIC);
    cr_assert_float_eq(m.sqnr_db, 10 * log10(14.0 / 1.25), REL_TOL_METRIC);
    cr_assert_float_eq(m.mean_err, -0.5 / 3, REL_TOL_METRIC);
    cr_assert_float_eq(m.cosine, 12.0 / sqrt(14.0 * 11.25), REL_TOL_METRIC);
    cr_assert_float_eq(m.clip_frac, 1.0 / 3, REL_TOL_METRIC);
    cr_assert_eq(m.max_abs_err, 1.0);
    qs_errstats z = { 2, 0, 0, 0, 0, 0, 0, 0, 0 };
    qs_metrics_from_stats(&z, &m);
    cr_assert(isinf(m.sqnr_db) && m.sqnr_db > 0);
    cr_assert_eq(m.cosine, 1.0);
}

/* Errors that are not finite, from the kernels' sums (qk_stats_add): the faces print these
 * as they come (quant, codes, compare), so the library must give them. */
Test(metrics, nonfinite_errors)
{
    /* x = (70000, 1), y = (inf, 1): an fp16 cast past 65504; e = (inf, 0) */
    qs_errstats inf = { 2, 0, 1, 70000.0 * 70000 + 1, INFINITY, INFINITY, INFINITY, INFINITY,
                        INFINITY };
    qs_metrics m;
    qs_metrics_from_stats(&inf, &m);
    cr_assert(isinf(m.mse) && m.mse > 0);
    cr_assert(isinf(m.rmse) && m.rmse > 0);
    cr_assert(isinf(m.sqnr_db) && m.sqnr_db < 0);
    cr_assert(isinf(m.max_abs_err) && m.max_abs_err > 0);
    cr_assert(isinf(m.mean_err) && m.mean_err > 0);
    cr_assert(isnan(m.cosine));
    /* x = (70000, 1), y = (nan, 1): a finite value dequantized to NaN (a ggml scale stored as
     * inf times code 0): every error metric is undefined, the cosine too (Σy² is NaN: it
     * said 0, as for orthogonal vectors) */
    qs_errstats nan = { 2, 0, 0, 70000.0 * 70000 + 1, NAN, NAN, NAN, NAN, 0.0 };
    qs_metrics_from_stats(&nan, &m);
    cr_assert(isnan(m.mse) && isnan(m.rmse) && isnan(m.sqnr_db) && isnan(m.max_abs_err));
    cr_assert(isnan(m.mean_err));
    cr_assert(isnan(m.cosine), "cosine %g", m.cosine);
}

Test(metrics, six_db_per_bit)
{
    /* a uniform random tensor over [-1, 1], affine min-max: noise Δ²/12 with Δ = 2/(2^b - 1),
     * so SQNR = 20·log10(2^b - 1): +6.31, 6.16, 6.09, 6.05 dB, tending to 6.02 dB per bit */
    int64_t n = 200000;
    float *x = malloc((size_t)n * sizeof *x);
    qs_rng g;
    qs_rng_seed(&g, 42);
    for (int64_t e = 0; e < n; e++) x[e] = (float)(qs_rng_uniform(&g) * 2.0 - 1.0);
    qs_tensor *t = qs_tensor_from_values("u", x, n, NULL);
    double prev = 0.0;
    for (int b = 4; b <= 8; b++) {
        char w[64];
        snprintf(w, sizeof w, "int%d asym", b);
        qs_scheme s = words(w);
        run r;
        run_scheme(t, &s, QS_CAL_MINMAX, &r);
        qs_metrics m;
        qs_metrics_from_stats(&r.r.st, &m);
        double want = 20.0 * log10(((1 << b) - 1.0) / ((1 << (b - 1)) - 1.0));
        if (b > 4) cr_assert_float_eq(m.sqnr_db - prev, want, 0.03, "bits %d: +%g dB, want "
                                      "%g", b, m.sqnr_db - prev, want);
        cr_assert_float_eq(m.sqnr_db, 20.0 * log10((1 << b) - 1.0), 0.05);
        prev = m.sqnr_db;
        run_fini(&r);
    }
    qs_tensor_free(t);
    free(x);
}

/* ---- scheme words and labels ------------------------------------------------------------ */

Test(scheme, words_and_labels)
{
    static const struct { const char *w, *label; } cases[] = {
        {"uint8 asym", "uint8 asym"},
        {"int8 sym", "int8 sym"},
        {"int8 sym narrow", "int8 sym narrow"},
        {"int4 sym per-channel axis=0", "int4 sym/channel"},
        {"int4 sym per-group size=64", "int4 sym/group64"},
        {"nf4 block=64 dq", "nf4/64+dq"},
        {"fp8-e4m3", "fp8-e4m3"},
        {"int8 sym convention=onnx", "int8 sym onnx"},
        {"int8 round=stochastic seed=3", "int8 asym sr"},
        {"q4_0", "q4_0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        qs_scheme s = words(cases[i].w);
        char buf[64];
        qs_scheme_label(&s, buf, sizeof buf);
        cr_assert_str_eq(buf, cases[i].label, "'%s' gave '%s'", cases[i].w, buf);
    }
    qs_scheme s = words("int8 sym narrow");
    int lo, hi;
    qs_scheme_range(&s, &lo, &hi);
    cr_assert_eq(lo, -127);
    cr_assert_eq(hi, 127);
    qs_err err = {{0}};
    char *bad[] = { (char *)"int9" };
    cr_assert_eq(qs_scheme_parse(&s, 1, bad, &err), QS_ERR);
    cr_assert(strstr(err.msg, "int9"), "%s", err.msg);
    char *bad2[] = { (char *)"convention=tflite" };
    cr_assert_eq(qs_scheme_parse(&s, 1, bad2, &err), QS_ERR);
    cr_assert(strstr(err.msg, "tflite"), "%s", err.msg);
    /* per-group runs along the last axis, per-channel along axis 0 unless axis= says */
    s = words("int4 sym per-group size=32");
    cr_assert_eq(s.axis, -1);
    char *pc[] = { (char *)"per-channel" };
    cr_assert_eq(qs_scheme_parse(&s, 1, pc, &err), QS_OK);
    cr_assert_eq(s.axis, 0);
    s = words("int4 per-group axis=0 size=8");
    cr_assert_eq(s.axis, 0);
    qs_scheme before = s;
    char *bad3[] = { (char *)"int4", (char *)"axis=99" };
    cr_assert_eq(qs_scheme_parse(&s, 2, bad3, &err), QS_ERR);
    cr_assert_eq(memcmp(&before, &s, sizeof s), 0);    /* unchanged on error */
}

Test(ggml, partial_blocks_sizes_1_31_32_33)
{
    /* a short last block is its own block: its largest |x| maps to ±127 (Q8_0) or code 0
     * (Q4_0: m / d = -8), and every code stays in range */
    static const int64_t sizes[] = { 1, 31, 32, 33, 65 };
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        int64_t n = sizes[k];
        float x[65];
        for (int64_t e = 0; e < n; e++) x[e] = (float)((e % 32) + 1) * (e % 2 ? -0.25f : 0.5f);
        qs_tensor *t = qs_tensor_from_values("b", x, n, NULL);
        for (int q4 = 0; q4 < 2; q4++) {
            qs_scheme s = words(q4 ? "q4_0" : "q8_0");
            run r;
            run_scheme(t, &s, QS_CAL_MINMAX, &r);
            cr_assert_eq(r.q.qp.nparams, (n + 31) / 32);
            for (int64_t b = 0; b < r.q.qp.nparams; b++) {
                int64_t e0 = b * 32, e1 = e0 + 32 < n ? e0 + 32 : n, arg = e0;
                for (int64_t e = e0; e < e1; e++) if (fabsf(x[e]) > fabsf(x[arg])) arg = e;
                if (q4) cr_assert_eq(r.codes[arg], 0, "n %lld block %lld", (long long)n,
                                     (long long)b);
                else cr_assert_eq(r.codes[arg], x[arg] > 0 ? 127 : -127, "n %lld block %lld",
                                  (long long)n, (long long)b);
            }
            for (int64_t e = 0; e < n; e++)
                cr_assert(r.codes[e] >= (q4 ? 0 : -127) && r.codes[e] <= (q4 ? 15 : 127));
            run_fini(&r);
        }
        qs_tensor_free(t);
    }
}

/* ---- quant's error histogram without a y buffer ----------------------------------------- */

/* qs_quant_apply on an integer grid without y recomputes y in a second fused pass to bin the
 * error (the range is ± the first pass's max |e|): the same statistics and the same counts as
 * binning a stored y with errstats, on every kernel table, layout, rounding and convention,
 * with clipping, NaN and infinities in the data. */
static void eh_without_y_check(void)
{
    static const char *const schemes[] = {
        "int8 asym", "int4 sym", "uint8 asym per-channel axis=0", "int3 per-group size=7",
        "int8 round=stochastic seed=5", "int8 convention=onnx", "int4 convention=trt",
        "q8_0", "int4 convention=ggml", "uint5 sym per-channel axis=1",
    };
    int64_t shape[2] = {37, 515};
    qs_tensor *t = qs_tensor_new("t", 2, shape, QS_DT_F32, NULL);
    cr_assert_not_null(t);
    qs_rng g;
    qs_rng_seed(&g, 11);
    for (int64_t e = 0; e < t->n; e++) t->data[e] = (float)(qs_rng_normal(&g) * 2.0);
    t->data[5] = NAN;
    t->data[600] = INFINITY;
    t->data[7001] = -INFINITY;
    t->data[9000] = 25.0f;
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        qs_scheme sc = words(schemes[i]);
        for (int ck = 0; ck < 2; ck++) {    /* minmax, then percentile (clips the tails) */
            qs_err err = {{0}};
            qs_layout l;
            qs_calib c;
            qs_calib_result cal;
            qs_qstate q;
            qs_calib_default(&c);
            c.kind = ck ? QS_CAL_PERCENTILE : QS_CAL_MINMAX;
            c.p = 99.0;
            cr_assert_eq(qs_scheme_layout(&sc, t->ndim, t->shape, &l, &err), QS_OK, "%s",
                         err.msg);
            cr_assert_eq(qs_calib_run(t->data, &l, &sc, &c, &cal, &err), QS_OK, "%s", err.msg);
            cr_assert_eq(qs_qstate_init(&q, &sc, t, cal.lo, cal.hi, &err), QS_OK, "%s",
                         err.msg);
            float *y = malloc((size_t)t->n * sizeof *y);
            qs_qresult a, b;
            memset(&a, 0, sizeof a);
            memset(&b, 0, sizeof b);
            a.eh_bins = b.eh_bins = 41;
            cr_assert_eq(qs_quant_apply(&q, t, NULL, NULL, &a, &err), QS_OK, "%s", err.msg);
            cr_assert_eq(qs_quant_apply(&q, t, y, NULL, &b, &err), QS_OK, "%s", err.msg);
            const char *what = schemes[i];
            cr_assert_eq(a.st.n, b.st.n, "%s", what);
            cr_assert_eq(a.st.n_nan, b.st.n_nan, "%s", what);
            cr_assert_eq(a.st.clipped, b.st.clipped, "%s", what);
            cr_assert(memcmp(&a.st.sum_e2, &b.st.sum_e2, sizeof(double)) == 0 &&
                      memcmp(&a.st.sum_xy, &b.st.sum_xy, sizeof(double)) == 0 &&
                      memcmp(&a.st.max_abs_e, &b.st.max_abs_e, sizeof(double)) == 0,
                      "%s: the statistics are the first pass's", what);
            /* ggml ignores calibration (each block's own amax) */
            cr_assert(ck == 0 || sc.conv == QS_CONV_GGML || a.st.clipped > 0,
                      "%s: percentile 99 clips", what);
            cr_assert_eq(a.eh_lo, b.eh_lo, "%s", what);
            cr_assert_eq(a.eh_hi, b.eh_hi, "%s", what);
            cr_assert_eq(a.eh_under, b.eh_under, "%s", what);
            cr_assert_eq(a.eh_over, b.eh_over, "%s", what);
            cr_assert(memcmp(a.eh_counts, b.eh_counts, 41 * sizeof *a.eh_counts) == 0,
                      "%s (%s, %s): error histogram counts differ", what,
                      ck ? "percentile" : "minmax", qs_k()->name);
            uint64_t tot = a.eh_under + a.eh_over;
            for (int k = 0; k < 41; k++) tot += a.eh_counts[k];
            /* ggml blocks holding ±Inf get an fp16 scale of inf (the documented rule, as
             * ggml stores it): their errors are NaN, the histogram's nan count */
            int64_t nan_e = 0;
            for (int64_t e = 0; e < t->n; e++)
                if (!isnan(t->data[e]) && isnan((double)y[e] - (double)t->data[e])) nan_e++;
            cr_assert((sc.conv == QS_CONV_GGML) == (nan_e > 0), "%s: %lld NaN errors", what,
                      (long long)nan_e);
            cr_assert_eq((int64_t)tot + nan_e, a.st.n, "%s: every counted element binned",
                         what);
            qs_qresult_fini(&a);
            qs_qresult_fini(&b);
            free(y);
            qs_qstate_fini(&q);
            qs_calib_result_fini(&cal);
        }
    }
    qs_tensor_free(t);
}

Test(quant, error_histogram_without_y_is_the_stored_y_one)
{
    on_each_kernel(eh_without_y_check);
}

/* qs_finite_minmax's NaN count (a vectorized, threaded compare past 2^18 elements) against a
 * plain isnan() count, with and without infinities, at sizes around the vector widths and past
 * the threading threshold. */
Test(edge, finite_minmax_counts_every_nan)
{
    static const int64_t sizes[] = {1, 7, 8, 9, 31, 32, 33, ((int64_t)1 << 18) + 37};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        int64_t n = sizes[k];
        float *x = malloc((size_t)n * sizeof *x);
        qs_rng g;
        qs_rng_seed(&g, 3 + k);
        for (int64_t e = 0; e < n; e++)
            x[e] = qs_rng_uniform(&g) < 0.1 ? NAN : (float)qs_rng_normal(&g);
        x[n - 1] = NAN;                                 /* the scalar tail */
        for (int inf = 0; inf < 2; inf++) {
            if (inf && n > 2) x[n / 2] = -INFINITY;
            int64_t want = 0, wfin = 0;
            float wlo = INFINITY, whi = -INFINITY;
            for (int64_t e = 0; e < n; e++) {
                if (isnan(x[e])) want++;
                else if (isfinite(x[e])) { wfin++; wlo = fminf(wlo, x[e]); whi = fmaxf(whi, x[e]); }
            }
            float lo, hi;
            int64_t fin, ninf, nnan;
            qs_finite_minmax(x, n, &lo, &hi, &fin, &ninf, &nnan);
            cr_assert_eq(nnan, want, "n=%lld inf=%d: %lld NaN counted, %lld there",
                         (long long)n, inf, (long long)nnan, (long long)want);
            cr_assert_eq(fin, wfin, "n=%lld inf=%d", (long long)n, inf);
            if (wfin) {
                cr_assert_eq(lo, wlo);
                cr_assert_eq(hi, whi);
            }
        }
        free(x);
    }
}

/* ---- axis=auto (issue 13 item 1): the rules of qs_axis_auto ----------------------------- */

static int axis_of(const char *name, int ndim, const int64_t *shape, const char *ff,
                   const char *mf, char *why, size_t len)
{
    qs_axis_src src = {ff, mf};
    return qs_axis_auto(name, ndim, shape, &src, why, len);
}

Test(axis_auto, layouts_from_file_and_name)
{
    char why[200];
    int64_t hwio[4] = {3, 3, 16, 32}, dense[2] = {128, 10}, conv1d[3] = {5, 8, 16};
    int64_t oihw[4] = {32, 16, 3, 3}, dw[4] = {3, 3, 16, 1}, row[1] = {10};
    /* TensorFlow: the file says format tf */
    cr_assert_eq(axis_of("conv/kernel", 4, hwio, "safetensors", "tf", why, sizeof why), 3);
    cr_assert_str_eq(why, "axis 3: TensorFlow HWIO kernel [3, 3, 16, 32]");
    cr_assert_eq(axis_of("dense/kernel", 2, dense, "safetensors", "tf", why, sizeof why), 1);
    cr_assert_str_eq(why, "axis 1: Keras Dense kernel [in, out]");
    cr_assert_eq(axis_of("c1d/kernel", 3, conv1d, "safetensors", "tf", NULL, 0), 2);
    cr_assert_eq(axis_of("dw/depthwise_kernel", 4, dw, "safetensors", "tf", why, sizeof why), 2,
                 "a depthwise kernel's channels are its in axis (%s)", why);
    cr_assert_eq(axis_of("conv/weights", 4, hwio, "safetensors", "flax", NULL, 0), 3);
    /* TensorFlow names in a file that says nothing: kernel, *_filter, ":0" suffixes */
    cr_assert_eq(axis_of("model/conv2d/kernel:0", 4, hwio, "safetensors", NULL, NULL, 0), 3);
    cr_assert_eq(axis_of("conv_filter", 4, hwio, "npy", NULL, NULL, 0), 3);
    cr_assert_eq(axis_of("Dense/KERNEL", 2, dense, NULL, NULL, NULL, 0), 1);
    /* PyTorch and GGUF: output channels first */
    cr_assert_eq(axis_of("conv.weight", 4, oihw, "safetensors", "pt", why, sizeof why), 0);
    cr_assert(strstr(why, "format pt"), "%s", why);
    cr_assert_eq(axis_of("kernel", 4, oihw, "safetensors", "pt", NULL, 0), 0,
                 "the file's own word wins over a name");
    cr_assert_eq(axis_of("layer.weight", 2, dense, "torch", NULL, why, sizeof why), 0);
    cr_assert(strstr(why, "PyTorch checkpoint"), "%s", why);
    cr_assert_eq(axis_of("blk.0.attn_q.weight", 2, dense, "gguf", NULL, why, sizeof why), 0);
    cr_assert(strstr(why, "GGUF"), "%s", why);
    cr_assert_eq(axis_of("kernel", 4, hwio, "gguf", NULL, NULL, 0), 0);
    cr_assert_eq(axis_of("x", 1, row, "safetensors", "tf", why, sizeof why), 0);
    cr_assert_eq(axis_of("values", 2, dense, NULL, NULL, why, sizeof why), 0);
    cr_assert(strstr(why, "axis=N chooses"), "%s", why);
}

/* ---- already-quantized weights (issue 13 item 2): qs_grid_detect ----------------------- */

Test(grid, dequantized_codes_and_ordinary_floats)
{
    enum { N = 4096 };
    float *x = malloc(N * sizeof *x);
    qs_grid g;
    /* int8 codes dequantized with an awkward scale (float rounding in every value) */
    float scale = 0.0123456789f;
    for (int i = 0; i < N; i++) x[i] = (float)((i * 37) % 200 - 100) * scale;
    cr_assert_eq(qs_grid_detect(x, N, &g, NULL), QS_OK);
    cr_assert_eq(g.distinct, 200);
    cr_assert_float_eq(g.step, scale, 1e-9);
    cr_assert_eq(g.levels, 200);
    cr_assert_eq(g.bits, 8);
    cr_assert(qs_grid_quantized(&g));
    char note[400];
    qs_grid_note(&g, note, sizeof note);
    cr_assert(strstr(note, "already quantized: 200 distinct values"), "%s", note);
    /* ±0, NaN and Inf do not count */
    x[0] = -0.0f; x[1] = 0.0f; x[2] = NAN; x[3] = INFINITY;
    cr_assert_eq(qs_grid_detect(x, N, &g, NULL), QS_OK);
    cr_assert_eq(g.finite, N - 2);
    /* low-precision floats over 12 octaves: few distinct values, but the grid they share
     * (2^-13) spans 2^15 levels: not integer codes */
    for (int i = 0; i < N; i++) x[i] = ldexpf(1.0f + (float)(i % 8) / 8.0f, (i / 8) % 12 - 10);
    cr_assert_eq(qs_grid_detect(x, N, &g, NULL), QS_OK);
    cr_assert_eq(g.distinct, 96);
    cr_assert_gt(g.bits, 12);
    cr_assert_not(qs_grid_quantized(&g));
    /* values off any grid: the step is NaN */
    for (int i = 0; i < N; i++) x[i] = (float)(i % 50) + ((i % 50) == 7 ? 0.3f : 0.0f);
    cr_assert_eq(qs_grid_detect(x, N, &g, NULL), QS_OK);
    cr_assert_eq(g.distinct, 50);
    cr_assert(isnan(g.step), "step %g", g.step);
    cr_assert_not(qs_grid_quantized(&g));
    /* ordinary floats: distinct stops at the cap */
    float *y = malloc(100000 * sizeof *y);
    for (int i = 0; i < 100000; i++) y[i] = sinf((float)i * 0.37f) * 0.05f + (float)i * 1e-9f;
    cr_assert_eq(qs_grid_detect(y, 100000, &g, NULL), QS_OK);
    cr_assert(g.more);
    cr_assert_not(qs_grid_quantized(&g));
    /* a few typed values on a grid are not shipped weights */
    float v[4] = {1, 2, 3, 5};
    cr_assert_eq(qs_grid_detect(v, 4, &g, NULL), QS_OK);
    cr_assert_eq(g.distinct, 4);
    cr_assert_float_eq(g.step, 1.0, 0);
    cr_assert_not(qs_grid_quantized(&g));
    free(x);
    free(y);
}
