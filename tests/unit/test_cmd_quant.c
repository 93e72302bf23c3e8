/* test_cmd_quant.c — the quantization commands through the command table: JSON contract keys,
 * REFERENCE.md's numbers (the seeds' examples, Llama 2 70B memory), the 4-bit Laplace compare
 * table, and a failed command leaving the session as it was. */
#include <criterion/criterion.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/cmd.h"
#include "qscope/kernels.h"
#include "qscope/quant.h"

static qs_session S;

static void setup(void)
{
    qs_kernels_init();
    qs_session_init(&S);
}
static void teardown(void) { qs_session_fini(&S); }

TestSuite(cmd_quant, .init = setup, .fini = teardown);

/* Runs a line that must succeed and returns its result (owned by the caller). */
static json_t *ok(const char *line)
{
    json_t *out = NULL;
    qs_err err = {{0}};
    int rc = qs_cmd_run_line(&S, line, &out, NULL, &err);
    cr_assert_eq(rc, QS_OK, "'%s' failed: %s", line, err.msg);
    return out;
}

static void must_fail(const char *line, const char *msg_part)
{
    json_t *out = NULL;
    qs_err err = {{0}};
    cr_assert_neq(qs_cmd_run_line(&S, line, &out, NULL, &err), QS_OK, "'%s' succeeded", line);
    cr_assert_null(out);
    cr_assert(strstr(err.msg, msg_part), "'%s': message '%s' lacks '%s'", line, err.msg,
              msg_part);
    cr_assert_null(strchr(err.msg, '\n'), "one line: %s", err.msg);
}

static double num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    cr_assert_not_null(v, "no key %s", key);
    if (json_is_array(v)) v = json_array_get(v, 0);
    return json_number_value(v);
}

Test(cmd_quant, seed_example_contract_keys)
{
    json_decref(ok("values -20 1000"));
    json_decref(ok("scheme uint8 asym"));
    json_decref(ok("calib minmax"));
    json_t *q = ok("qparams");
    cr_assert(json_is_array(json_object_get(q, "scale")));
    cr_assert(json_is_array(json_object_get(q, "zero_point")));
    cr_assert_eq(num(q, "scale"), 4.0);
    cr_assert_eq(num(q, "zero_point"), 5.0);
    cr_assert_eq(num(q, "qmin"), 0.0);
    cr_assert_eq(num(q, "qmax"), 255.0);
    cr_assert_eq(num(q, "clip_min"), -20.0);
    cr_assert_eq(num(q, "clip_max"), 1000.0);
    json_decref(q);
    json_t *d = ok("derive -20");
    json_t *steps = json_object_get(d, "steps");
    cr_assert_gt(json_array_size(steps), 8);
    size_t i;
    json_t *st;
    json_array_foreach(steps, i, st)
        for (const char *const *k = (const char *const[]){ "title", "formula", "substituted",
                                                            "result", NULL }; *k; k++)
            cr_assert(json_is_string(json_object_get(st, *k)), "step %zu lacks %s", i, *k);
    json_decref(d);
    json_t *c = ok("codes");
    cr_assert_eq(json_integer_value(json_array_get(json_object_get(c, "codes"), 0)), 0);
    cr_assert_eq(json_integer_value(json_array_get(json_object_get(c, "codes"), 1)), 255);
    cr_assert_eq(json_array_size(json_object_get(c, "dequant")), 2);
    json_decref(c);
    json_t *m = ok("quant");
    for (const char *const *k = (const char *const[]){ "mse", "sqnr_db", "max_abs_err",
                                                        "mean_err", "cosine", "clip_frac",
                                                        NULL }; *k; k++)
        cr_assert_not_null(json_object_get(m, *k), "quant lacks %s", *k);
    json_decref(m);
}

Test(cmd_quant, codes_first_n)
{
    json_decref(ok("values 0 250 1000"));
    json_decref(ok("scheme uint8 asym"));
    json_t *c = ok("codes 2");
    json_t *a = json_object_get(c, "codes");
    cr_assert_eq(json_array_size(a), 2);
    cr_assert_eq(json_integer_value(json_array_get(a, 1)), 64);
    json_decref(c);
}

Test(cmd_quant, memory_llama2_70b)
{
    json_t *o = ok("memory params=70e9");
    json_t *rows = json_object_get(o, "rows");
    static const double gb[] = { 280, 140, 140, 70, 35, 39.375 };
    for (size_t i = 0; i < 6; i++)
        cr_assert_float_eq(num(json_array_get(rows, i), "gb"), gb[i], 1e-9, "row %zu", i);
    /* NF4 + DQ: 70e9 · (4 + 8/64 + 32/16384) / 8 bytes */
    cr_assert_float_eq(num(json_array_get(rows, 6), "gb"), 70.0 * 4.126953125 / 8.0, 1e-9);
    json_t *tr = json_object_get(o, "training");
    cr_assert_float_eq(num(json_array_get(tr, 0), "total_gb"), 70.0 * 16, 1e-6);
    cr_assert(strstr(json_string_value(json_object_get(o, "assumptions")), "16 bytes per "
                     "parameter"));
    json_decref(o);
}

Test(cmd_quant, compare_laplace_4bit)
{
    json_decref(ok("synth laplace n=50000 seed=9"));
    json_decref(ok("scheme int4 sym"));
    json_t *o = ok("compare bits=4 calibs=minmax,percentile,mse,entropy");
    json_t *rows = json_object_get(o, "rows");
    cr_assert_eq(json_array_size(rows), 4);
    double mm = num(json_array_get(rows, 0), "sqnr_db");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(rows, 0), "calib")),
                     "minmax");
    for (size_t i = 1; i < 4; i++)
        cr_assert_gt(num(json_array_get(rows, i), "sqnr_db"), mm, "row %zu", i);
    json_decref(o);
    o = ok("compare bits=2..8 calibs=minmax");
    cr_assert_eq(json_array_size(json_object_get(o, "rows")), 7);
    json_decref(o);
}

Test(cmd_quant, failures_leave_the_session_unchanged)
{
    json_decref(ok("values 1 2 3"));
    json_decref(ok("scheme int4 sym per-channel"));
    json_decref(ok("calib percentile p=99.9"));
    qs_scheme before = S.scheme;
    qs_calib cbefore = S.calib;
    must_fail("scheme int4 convention=nope", "convention=nope");
    must_fail("scheme per-channel axis=3", "axis 3 out of range for shape [3]");
    must_fail("calib bogus", "bogus");
    must_fail("calib percentile p=101", "p=101");
    must_fail("derive channel=7", "out of range");
    must_fail("compare bits=9", "bits=9");
    must_fail("memory params=-1", "params=-1");
    must_fail("codes x", "codes");
    cr_assert_eq(memcmp(&before, &S.scheme, sizeof before), 0);
    cr_assert_eq(memcmp(&cbefore, &S.calib, sizeof cbefore), 0);
    char label[64];
    qs_scheme_label(&S.scheme, label, sizeof label);
    cr_assert_str_eq(label, "int4 sym/channel");
}

Test(cmd_quant, no_tensor_message)
{
    must_fail("qparams", "no tensor");
    must_fail("quant", "no tensor");
    json_t *o = ok("scheme int8 sym");     /* works without a tensor */
    cr_assert_str_eq(json_string_value(json_object_get(o, "label")), "int8 sym");
    json_decref(o);
}

Test(cmd_quant, compare_db_per_bit)
{
    /* uniform data, affine min-max: SQNR = 20·log10(2^b - 1), so bit 7 adds 6.09 dB and
     * bit 8 adds 6.05 dB */
    json_decref(ok("synth uniform n=200000 seed=4"));
    json_decref(ok("scheme int8 asym"));
    json_t *o = ok("compare bits=6..8 calibs=minmax");
    json_t *rows = json_object_get(o, "rows");
    cr_assert(json_is_null(json_object_get(json_array_get(rows, 0), "db_per_bit")));
    cr_assert_float_eq(num(json_array_get(rows, 1), "db_per_bit"), 20 * log10(127.0 / 63.0),
                       0.05);
    cr_assert_float_eq(num(json_array_get(rows, 2), "db_per_bit"), 20 * log10(255.0 / 127.0),
                       0.05);
    json_decref(o);
}

/* calib manual against PyTorch observers whose min_val/max_val were set to the same range by
 * hand (tests/golden/make_manual_golden.py): scales (float32), zero points, every code. */
Test(cmd_quant, calib_manual_matches_torch)
{
    const char *top = getenv("QSCOPE_TOP");
    char path[512];
    snprintf(path, sizeof path, "%s/tests/golden/manual_clip.json", top && *top ? top : ".");
    json_error_t je;
    json_t *g = json_load_file(path, 0, &je);
    cr_assert_not_null(g, "%s: %s", path, je.text);
    char line[600];
    snprintf(line, sizeof line, "load %s/tests/golden/%s", top && *top ? top : ".",
             json_string_value(json_object_get(g, "tensor")));
    json_decref(ok(line));
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(g, "cases"), i, c) {
        const char *sw = json_string_value(json_object_get(c, "scheme"));
        const char *cw = json_string_value(json_object_get(c, "calib"));
        snprintf(line, sizeof line, "scheme %s", sw);
        json_decref(ok(line));
        snprintf(line, sizeof line, "calib manual %s", cw);
        json_t *cal = ok(line);
        cr_assert_str_eq(json_string_value(json_object_get(cal, "calib")), "manual");
        json_decref(cal);
        json_t *q = ok("qparams");
        json_t *gs = json_object_get(c, "scale"), *gz = json_object_get(c, "zero_point");
        json_t *sc = json_object_get(q, "scale"), *zp = json_object_get(q, "zero_point");
        cr_assert_eq(json_array_size(sc), json_array_size(gs), "case %zu: sets", i);
        for (size_t k = 0; k < json_array_size(gs); k++) {
            float want = (float)json_number_value(json_array_get(gs, k));
            float got = (float)json_number_value(json_array_get(sc, k));
            cr_assert_eq(got, want, "case %zu (%s; %s) set %zu: scale %.9g, torch %.9g", i, sw,
                         cw, k, got, want);
            cr_assert_eq(json_integer_value(json_array_get(zp, k)),
                         json_integer_value(json_array_get(gz, k)), "case %zu: zero point", i);
        }
        json_decref(q);
        json_t *cd = ok("codes");
        json_t *gc = json_object_get(c, "codes"), *codes = json_object_get(cd, "codes");
        cr_assert_eq(json_array_size(codes), json_array_size(gc));
        for (size_t k = 0; k < json_array_size(gc); k++)
            cr_assert_eq(json_integer_value(json_array_get(codes, k)),
                         json_integer_value(json_array_get(gc, k)),
                         "case %zu (%s; %s): code %zu", i, sw, cw, k);
        json_decref(cd);
    }
    json_decref(g);
}

/* The seeds' uint8 example with a hand-picked range: [-10, 500] gives scale 510/255 = 2 and
 * zero point 0 - round(-10/2) = 5; 1 sits at 0.5 + 5 and rounds half to even (5). */
Test(cmd_quant, calib_manual_by_hand)
{
    json_decref(ok("values -20 -10 0 1 250 500 1000"));
    json_decref(ok("scheme uint8 asym"));
    json_decref(ok("calib manual min=-10 max=500"));
    json_t *q = ok("qparams");
    cr_assert_eq(num(q, "scale"), 2.0);
    cr_assert_eq(num(q, "zero_point"), 5.0);
    cr_assert_eq(num(q, "clip_min"), -10.0);
    cr_assert_eq(num(q, "clip_max"), 500.0);
    json_decref(q);
    json_t *cd = ok("codes");
    static const int want[] = {0, 0, 5, 5, 130, 255, 255};
    for (size_t k = 0; k < 7; k++)
        cr_assert_eq(json_integer_value(json_array_get(json_object_get(cd, "codes"), k)),
                     want[k], "code %zu", k);
    json_decref(cd);
    /* max= alone moves one end of the manual range; `calib manual` keeps it */
    json_decref(ok("calib max=1010"));
    json_decref(ok("calib manual"));
    q = ok("qparams");
    cr_assert_eq(num(q, "scale"), 4.0);
    json_decref(q);
    /* the derivation names the calibrator and shows the clip */
    json_t *d = ok("derive 1000");
    char *dump = json_dumps(json_object_get(d, "steps"), 0);
    cr_assert(dump && strstr(dump, "manual"), "derive names the calibrator: %s", dump);
    free(dump);
    json_decref(d);
    json_decref(ok("calib minmax"));
    q = ok("qparams");
    cr_assert_eq(num(q, "clip_max"), 1000.0);
    json_decref(q);
}

Test(cmd_quant, calib_manual_errors_keep_the_calibrator)
{
    json_decref(ok("values 1 2 3"));
    json_decref(ok("calib percentile p=99.9"));
    qs_calib before = S.calib;
    must_fail("calib manual", "min=X max=Y");
    must_fail("calib manual min=2 max=1", "min < max");
    must_fail("calib manual min=-1", "max= missing");
    must_fail("calib manual amax=0", "amax=0");
    must_fail("calib manual amax=-3", "amax=-3");
    must_fail("calib manual amax=1 min=0", "amax=1");
    must_fail("calib mse max=3", "calib mse");
    /* an option the named calibrator does not read (was accepted without a word) */
    must_fail("calib minmax p=99", "'p=99' does not apply to minmax (it takes no options)");
    must_fail("calib mse two-sided", "'two-sided' does not apply to mse (it reads: bins=)");
    must_fail("calib manual min=-1e40 max=1", "min=-1e40");
    must_fail("calib manual min=x max=1", "min=x");
    must_fail("compare calibs=minmax,manual", "calibs=minmax,manual");
    cr_assert_eq(memcmp(&before, &S.calib, sizeof before), 0);
}

/* derive names its parameter set only when there are several; NF4 counts its blocks
 * (100 values in blocks of 64: 2 blocks; element 70 is in block 1). */
Test(cmd_quant, derive_set_and_block_counts)
{
    json_decref(ok("synth normal n=100 seed=4"));
    json_t *d = ok("derive");
    cr_assert_null(json_object_get(d, "set"), "per-tensor: no 'set'");
    json_decref(d);
    json_t *sc = ok("scheme nf4 block=64");
    cr_assert_eq(json_integer_value(json_object_get(sc, "nparams")), 2);
    json_decref(sc);
    d = ok("derive index=70");
    cr_assert_eq(json_integer_value(json_object_get(d, "set")), 1);
    json_decref(d);
    must_fail("compare formats=nf4,bogus", "formats=nf4,bogus");
    must_fail("derive block=2", "block=2");         /* blocks 0 and 1 */
    must_fail("qparams extra", "'extra'");
}

/* scheme shows axis and group only where the granularity uses them. */
Test(cmd_quant, scheme_keys_follow_the_granularity)
{
    json_t *o = ok("scheme int8 sym");
    cr_assert_null(json_object_get(o, "axis"));
    cr_assert_null(json_object_get(o, "group"));
    json_decref(o);
    o = ok("scheme int4 per-channel axis=1");
    cr_assert_eq(json_integer_value(json_object_get(o, "axis")), 1);
    cr_assert_null(json_object_get(o, "group"));
    json_decref(o);
    o = ok("scheme int4 per-group size=32");
    cr_assert_eq(json_integer_value(json_object_get(o, "group")), 32);
    cr_assert_not_null(json_object_get(o, "axis"));
    json_decref(o);
}

/* ---- derive requant ------------------------------------------------------------------------ */

/* M0 and n found independently: the smallest n with M·2^n >= 2^30, M0 = round(M·2^n) (one
 * carry when the rounding reaches 2^31); r = acc·M0·2^-n rounded half away from zero in
 * long double (acc·M0 < 2^62 is exact in its 64-bit significand). */
/* gemmlowp's two roundings, next to qscope's one: the values a Python port of gemmlowp's
 * SaturatingRoundingDoublingHighMul + RoundingDivideByPOT (int32 semantics) gives, from a
 * review: a product rounded twice (154103.4595 -> 154104), negative ties sent up by the
 * nudge (-1.5 -> -1), and a case where both agree */
Test(cmd_quant, derive_requant_shows_gemmlowp)
{
    static const struct { const char *args; long long r, rg; } C[] = {
        { "M=0.39148919931342546 acc=393634", 154103, 154104 },
        { "M=0.5 acc=-3 zp=128", -2, -1 },
        { "M=0.75 acc=-2", -2, -1 },
        { "M=0.25 acc=-6", -2, -2 },
    };
    for (size_t i = 0; i < sizeof C / sizeof C[0]; i++) {
        char line[128];
        snprintf(line, sizeof line, "derive requant %s", C[i].args);
        json_t *o = ok(line);
        cr_assert_eq((long long)num(o, "r"), C[i].r, "%s: r", line);
        cr_assert_eq((long long)num(o, "r_gemmlowp"), C[i].rg, "%s: r_gemmlowp", line);
        json_decref(o);
    }
}

Test(cmd_quant, derive_requant_matches_an_independent_fixed_point)
{
    uint64_t st = 0x9e3779b97f4a7c15ull;
    for (int t = 0; t < 300; t++) {
        st ^= st << 13; st ^= st >> 7; st ^= st << 17;
        double M = ldexp(0.5 + (double)(st >> 11) * 0x1p-54, -(int)(st % 20) - 1);
        long long acc = (long long)(int32_t)(st >> 20) / (1 + (long long)(st % 1000));
        int zp = (int)(st % 7), qmin = zp, qmax = 255;
        char line[256];
        snprintf(line, sizeof line, "derive requant M=%.17g acc=%lld zp=%d qmin=%d qmax=%d", M,
                 acc, zp, qmin, qmax);
        json_t *o = ok(line);
        int n = 0;
        while (ldexp(M, n) < 0x1p30) n++;
        long long m0 = llround(ldexp(M, n));
        if (m0 == (1ll << 31)) { m0 >>= 1; n--; }
        cr_assert_eq((long long)num(o, "M0"), m0, "%s: M0", line);
        cr_assert_eq((int)num(o, "n"), n, "%s: n", line);
        long long r = (long long)roundl(ldexpl((long double)acc * (long double)m0, -n));
        long long q = (long long)r + zp;
        q = q < qmin ? qmin : q > qmax ? qmax : q;
        cr_assert_eq((long long)num(o, "r"), r, "%s: r", line);
        cr_assert_eq((long long)num(o, "q"), q, "%s: q", line);
        cr_assert_leq(fabs(num(o, "rel_error")), 0x1p-31, "%s", line);
        cr_assert(fabs(num(o, "exact") - (double)acc * M) <= 1e-9 * fabs((double)acc * M) + 1e-12);
        cr_assert_geq(json_array_size(json_object_get(o, "steps")), 4);
        json_decref(o);
    }
    /* from the three scales: M = S_in·S_w/S_out */
    json_t *o = ok("derive requant s_in=0.5 s_w=0.25 s_out=4");
    cr_assert_float_eq(num(o, "M"), 0.03125, 0);
    cr_assert_eq((long long)num(o, "M0"), 1ll << 30);
    cr_assert_eq((int)num(o, "n"), 35);
    json_decref(o);
    /* the clamp's note says what happened: a ReLU only when qmin = zp, else saturation */
    const char *cases[][2] = {
        {"derive requant M=1 acc=-65280 zp=0 qmin=-32768 qmax=32767", "saturated"},
        {"derive requant M=0.5 acc=-10 zp=0 qmin=0 qmax=255", "ReLU"},
        {"derive requant M=0.5 acc=10 zp=3 qmin=0 qmax=255", ""}};
    for (int k = 0; k < 3; k++) {
        o = ok(cases[k][0]);
        json_t *sts = json_object_get(o, "steps");
        const char *note = json_string_value(json_object_get(
            json_array_get(sts, json_array_size(sts) - 1), "note"));
        cr_assert(note != NULL);
        if (*cases[k][1]) cr_expect(strstr(note, cases[k][1]) != NULL, "%s: %s", cases[k][0], note);
        else cr_expect_str_eq(note, "", "%s", cases[k][0]);
        json_decref(o);
    }
    o = ok("derive requant M=1 acc=-65280 zp=0 qmin=-32768 qmax=32767");
    cr_expect_eq((long long)num(o, "q"), -32768);
    json_decref(o);
    must_fail("derive requant acc=5", "need M=");
    must_fail("derive requant M=0.1 s_in=1 s_w=1 s_out=2", "not both");
    must_fail("derive requant s_in=1 s_w=2", "go together");
    must_fail("derive requant M=0.1 acc=99999999999", "acc");
    must_fail("derive requant M=0.1 qmin=9 qmax=3", "qmin=9");
}

/* ---- the session's cache (session.h) never shows a stale value ---------------------------
 * After every change of tensor, values, scheme, calibrator or kernel table, each query on the
 * long-lived session S (whose cache the previous queries filled) gives exactly what a fresh
 * session gives after replaying the same changes. */

static const char *const CACHE_QUERIES[] = {
    "qparams", "quant", "quant bins=7", "hist bins=50 range=-4:4", "hist bins=50 range=-3:4",
    "hist bins=50 range=-3:5", "hist bins=51 range=-3:5", "hist bins=50", "derive",
    "derive index=3", "calib", "codes 16", "qparams", NULL,
};

/* Runs line on session s: the result, or NULL with the message in err. */
static json_t *run_on(qs_session *s, const char *line, qs_err *err)
{
    json_t *out = NULL;
    qs_err_clear(err);
    if (qs_cmd_run_line(s, line, &out, NULL, err) != QS_OK) return NULL;
    return out;
}

/* A state line: a command, or !ref / !opt to force the kernel table. */
static void apply_line(qs_session *s, const char *line)
{
    if (strcmp(line, "!ref") == 0) { qs_k_force(qs_k_ref()); return; }
    if (strcmp(line, "!opt") == 0) { qs_k_force(qs_k_avx2()); return; }
    qs_err err;
    json_t *o = run_on(s, line, &err);
    cr_assert_not_null(o, "'%s' failed: %s", line, err.msg);
    json_decref(o);
}

/* Each query on S against a session that replayed lines[0..n) and has nothing cached. */
static void queries_match_fresh(const char *const *lines, int n)
{
    qs_session f;
    qs_session_init(&f);
    for (int i = 0; i < n; i++)
        if (lines[i][0] != '!') apply_line(&f, lines[i]);
    for (const char *const *q = CACHE_QUERIES; *q; q++) {
        qs_err ea, eb;
        json_t *a = run_on(&S, *q, &ea);
        qs_session_touch(&f);           /* nothing cached: as computed by a new session */
        json_t *b = run_on(&f, *q, &eb);
        if (!a || !b) {
            cr_assert(!a && !b, "after '%s': '%s' %s only on the fresh session (%s%s)",
                      lines[n - 1], *q, a ? "fails" : "succeeds", ea.msg, eb.msg);
            cr_assert_str_eq(ea.msg, eb.msg, "after '%s': '%s'", lines[n - 1], *q);
            continue;
        }
        if (!json_equal(a, b)) {
            char *ja = json_dumps(a, JSON_COMPACT), *jb = json_dumps(b, JSON_COMPACT);
            cr_assert_fail("after '%s': '%s' differs from a fresh session's:\n%.600s\n%.600s",
                           lines[n - 1], *q, ja, jb);
        }
        json_decref(a);
        json_decref(b);
    }
    qs_session_fini(&f);
}

Test(cmd_quant, cache_never_shows_a_stale_value)
{
    const char *top = getenv("QSCOPE_TOP");
    char load[600];
    snprintf(load, sizeof load, "load %s/datasets/default.npy", top && *top ? top : ".");
    const char *const lines[] = {
        "synth normal n=5000 seed=1",
        "scheme int4 asym", "scheme int8 sym", "scheme uint8 asym",   /* minmax: one range */
        "calib percentile p=99.9", "scheme int4 sym", "calib percentile p=99",
        "calib mse", "scheme int6 asym", "calib entropy", "scheme int3 asym",
        "calib manual min=-1 max=2", "scheme int8 sym", "calib manual max=3",
        "calib minmax",
        "synth normal n=5000 seed=2",       /* the same size and scheme: new values only */
        "synth normal n=5000 seed=3", "synth normal n=5000 seed=2",   /* a freed tensor's */
        "synth laplace n=5000 seed=2",                                /* address again */
        "!ref", "scheme int5 asym", "calib percentile", "!opt", "calib minmax",
        "values -20 1000 250 3",
        "scheme int4 per-group size=32",    /* the layout of ggml's blocks, without ... */
        "scheme int4 convention=ggml",      /* ... Q4_0's signed maxima */
        "scheme q8_0", "scheme nf4", "scheme fp8-e4m3",
        "scheme int8 round=stochastic seed=3", "scheme int8 convention=onnx",
        "scheme int8 convention=trt",
        load,
        "scheme int8 sym per-channel axis=0", "scheme int8 sym per-tensor",
        "scheme int8 sym per-channel axis=1", "calib percentile",
        "scheme int4 per-channel axis=0", "scheme int4 per-group size=16",
        "use default", "calib minmax", "values -20 1000 250 3", "scheme int8",
    };
    int n = (int)(sizeof lines / sizeof lines[0]);
    if (!qs_k_avx2()) cr_log_warn("no AVX2 table: !opt keeps the reference one");
    for (int i = 0; i < n; i++) {
        if (strcmp(lines[i], "!opt") == 0 && !qs_k_avx2()) continue;
        apply_line(&S, lines[i]);
        queries_match_fresh(lines, i + 1);
    }
    qs_k_force(NULL);
}

/* Values changed in place (s->tensor->data) are new values once qs_session_touch says so: the
 * new maximum shows in every result, as in a session that never saw the old values. */
Test(cmd_quant, cache_forgets_values_edited_in_place)
{
    const char *const lines[] = {"synth normal n=5000 seed=7", "scheme int8 asym"};
    for (int i = 0; i < 2; i++) apply_line(&S, lines[i]);
    queries_match_fresh(lines, 2);          /* everything cached for the old values */
    json_t *before = ok("qparams");
    S.tensor->data[17] = 40.0f;
    qs_session_touch(&S);
    json_t *after = ok("qparams");
    cr_assert_eq(num(after, "clip_max"), 40.0, "the edit shows: clip_max %g",
                 num(after, "clip_max"));
    cr_assert_neq(num(before, "scale"), num(after, "scale"));
    json_decref(before);
    json_decref(after);
    /* the fresh session gets the same edit */
    qs_session f;
    qs_session_init(&f);
    for (int i = 0; i < 2; i++) apply_line(&f, lines[i]);
    f.tensor->data[17] = 40.0f;
    qs_session_touch(&f);
    for (int round = 0; round < 2; round++) {
        for (const char *const *q = CACHE_QUERIES; *q; q++) {
            qs_err ea, eb;
            json_t *a = run_on(&S, *q, &ea), *b = run_on(&f, *q, &eb);
            cr_assert(a && b, "'%s': %s%s", *q, ea.msg, eb.msg);
            cr_assert(json_equal(a, b), "'%s' after edit %d differs from a fresh session's",
                      *q, round + 1);
            json_decref(a);
            json_decref(b);
        }
        /* a tensor set again (here the same one, edited) is new too */
        S.tensor->data[18] = -50.0f;
        qs_session_set_tensor(&S, S.tensor);
        f.tensor->data[18] = -50.0f;
        qs_session_touch(&f);
    }
    qs_session_fini(&f);
}

/* derive's noise-model step takes P = mean(x²) over the finite values from the session, which
 * keeps it per tensor and generation: it must follow values changed in place (touch), and
 * equal the uncached formula. */
static double noise_db(void)
{
    json_t *o = ok("derive");
    json_t *steps = json_object_get(o, "steps");
    double v = NAN;
    for (size_t i = 0; i < json_array_size(steps); i++) {
        json_t *st = json_array_get(steps, i);
        if (!strcmp(json_string_value(json_object_get(st, "title")), "noise model"))
            v = json_number_value(json_object_get(st, "value"));
    }
    json_decref(o);
    return v;
}
Test(cmd_quant, derive_power_cached_per_generation)
{
    json_decref(ok("values 1 2 3 inf"));
    json_decref(ok("scheme int8 sym"));
    json_decref(ok("calib manual amax=4"));
    double s = 4.0 / 127.5, want = 10.0 * log10(((1.0 + 4.0 + 9.0) / 3.0) / (s * s / 12.0));
    double a = noise_db(), b = noise_db();
    cr_expect(fabs(a - want) < 1e-4, "P over the finite values: %.9g, want %.9g", a, want);
    cr_expect_eq(a, b, "the kept P gives other digits: %.17g %.17g", a, b);
    S.tensor->data[0] = 5.0f;               /* changed in place: the kept P is stale */
    qs_session_touch(&S);
    want = 10.0 * log10(((25.0 + 4.0 + 9.0) / 3.0) / (s * s / 12.0));
    a = noise_db();
    cr_expect(fabs(a - want) < 1e-4, "after touch: %.9g, want %.9g", a, want);
}

/* a calibrated range that clips most of the tensor says so (entropy on data far from 0 keeps
 * almost none of it, faithfully); an ordinary one reports its small clipped share */
Test(cmd_quant, calib_says_when_it_clips_most_values)
{
    qs_session s;
    qs_session_init(&s);
    json_t *o = NULL;
    qs_err err = {{0}};
    cr_assert_eq(qs_cmd_run_line(&s, "synth uniform lo=0.5 hi=3.5 n=20000", &o, NULL, &err),
                 QS_OK, "%s", err.msg);
    json_decref(o);
    cr_assert_eq(qs_cmd_run_line(&s, "calib entropy", &o, NULL, &err), QS_OK, "%s", err.msg);
    double f = json_number_value(json_object_get(o, "outside_frac"));
    const char *w = json_string_value(json_object_get(o, "warning"));
    cr_assert_gt(f, 0.5, "outside_frac %g", f);
    cr_assert(w && strstr(w, "lie outside this range") && strstr(w, "single spike"), "%s",
              w ? w : "-");
    json_decref(o);
    cr_assert_eq(qs_cmd_run_line(&s, "synth normal n=20000", &o, NULL, &err), QS_OK, "%s",
                 err.msg);
    json_decref(o);
    cr_assert_eq(qs_cmd_run_line(&s, "calib percentile p=99", &o, NULL, &err), QS_OK, "%s",
                 err.msg);
    f = json_number_value(json_object_get(o, "outside_frac"));
    cr_assert(f > 0.001 && f < 0.02, "percentile 99 clips about 1 %%: %g", f);
    cr_assert_null(json_object_get(o, "warning"));
    json_decref(o);
    qs_session_fini(&s);
}

/* ONNX Runtime's symmetric range table (quant_utils.py ONNX_INT_TYPE_SYMMETRIC_RANGE) holds
 * INT8 -127..127 but no INT4: its symmetric int4 keeps -8..7, scale 2·amax/15, zero point
 * round(-0.5) = 0 (compute_scale_zp) */
Test(cmd_quant, onnx_symmetric_int4_keeps_minus_8)
{
    qs_session s;
    qs_session_init(&s);
    json_t *o = NULL;
    qs_err err = {{0}};
    cr_assert_eq(qs_cmd_run_line(&s, "values -1 -0.5 0.3 1", &o, NULL, &err), QS_OK);
    json_decref(o);
    cr_assert_eq(qs_cmd_run_line(&s, "scheme int4 sym convention=onnx", &o, NULL, &err), QS_OK,
                 "%s", err.msg);
    cr_assert_eq(json_integer_value(json_object_get(o, "qmin")), -8);
    cr_assert_eq(json_integer_value(json_object_get(o, "qmax")), 7);
    json_decref(o);
    cr_assert_eq(qs_cmd_run_line(&s, "qparams", &o, NULL, &err), QS_OK, "%s", err.msg);
    double sc = json_number_value(json_array_get(json_object_get(o, "scale"), 0));
    cr_assert_float_eq(sc, (double)(2.0f / 15.0f), 1e-7, "scale %.9g", sc);
    cr_assert_eq(json_integer_value(json_array_get(json_object_get(o, "zero_point"), 0)), 0);
    json_decref(o);
    cr_assert_eq(qs_cmd_run_line(&s, "scheme int8 sym convention=onnx", &o, NULL, &err), QS_OK);
    cr_assert_eq(json_integer_value(json_object_get(o, "qmin")), -127, "int8 stays narrow");
    json_decref(o);
    qs_session_fini(&s);
}

/* an asymmetric scheme's range from a percentile amax clamps both observed ends into
 * [-amax, amax]: on a constant tensor (every value just above the edge amax lands on) the
 * range was inverted, clip_min 2 > clip_max 1.99902 */
Test(cmd_quant, percentile_range_is_never_inverted)
{
    qs_session s;
    qs_session_init(&s);
    json_t *o = NULL;
    qs_err err = {{0}};
    cr_assert_eq(qs_cmd_run_line(&s, "values 2 2 2 2", &o, NULL, &err), QS_OK);
    json_decref(o);
    cr_assert_eq(qs_cmd_run_line(&s, "calib percentile", &o, NULL, &err), QS_OK, "%s", err.msg);
    double lo = json_number_value(json_array_get(json_object_get(o, "clip_min"), 0));
    double hi = json_number_value(json_array_get(json_object_get(o, "clip_max"), 0));
    if (!json_is_array(json_object_get(o, "clip_min"))) {
        lo = json_number_value(json_object_get(o, "clip_min"));
        hi = json_number_value(json_object_get(o, "clip_max"));
    }
    cr_assert_leq(lo, hi, "clip range [%g, %g]", lo, hi);
    cr_assert_lt(hi, 2.0, "the percentile's edge stays below the value");
    json_decref(o);
    qs_session_fini(&s);
}
