/* test_synth.c — synthetic distributions: determinism, golden values from an independent
 * Python implementation (tests/golden/synth_*.txt), moments, log/exp accuracy, errors. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/synth.h"

#define N_MOMENTS 400000    /* sample size for the moment checks */
#define K_SIGMA 5.0         /* moment tolerance in standard errors */
#define LOGEXP_RTOL 4e-16   /* qs_synth_log / exp vs libm, relative */

static qs_tensor *make(const char *dist, int64_t n, uint64_t seed, const char *const *kv)
{
    qs_err err = {{0}};
    qs_tensor *t = NULL;
    int argc = 0;
    char *argv[8];
    for (; kv && kv[argc]; argc++) argv[argc] = (char *)kv[argc];
    int rc = qs_synth_cmd(dist, n, seed, argc, argv, &t, &err);
    cr_assert_eq(rc, QS_OK, "synth %s: %s", dist, err.msg);
    cr_assert_not_null(t);
    cr_assert_eq(t->n, n);
    return t;
}

/* ---- golden values -------------------------------------------------------------------- */

static FILE *open_golden(const char *name)
{
    char path[1024];
    const char *top = getenv("QSCOPE_TOP");
    snprintf(path, sizeof path, "%s/tests/golden/%s", top ? top : ".", name);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot open %s (run from the repository top or set QSCOPE_TOP)",
                       path);
    return f;
}

static void check_golden(const char *dist)
{
    char fname[128], line[512], dname[64] = "", params[512] = "";
    unsigned long long seed = 0;
    long n = -1;
    snprintf(fname, sizeof fname, "synth_%s.txt", dist);
    FILE *f = open_golden(fname);
    while (n < 0 && fgets(line, sizeof line, f)) {
        if (line[0] == '#') continue;
        if (sscanf(line, "dist %63s", dname) == 1) continue;
        if (sscanf(line, "seed %llu", &seed) == 1) continue;
        if (strncmp(line, "params ", 7) == 0) {
            snprintf(params, sizeof params, "%s", line + 7);
            continue;
        }
        if (sscanf(line, "n %ld", &n) == 1) continue;
    }
    cr_assert_str_eq(dname, dist);
    cr_assert(n > 0, "%s: no 'n' line", fname);

    const qs_synth_dist *d = qs_synth_find(dist);
    cr_assert_not_null(d);
    qs_synth_params p;
    qs_synth_params_init(&p);
    qs_err err = {{0}};
    for (char *tok = strtok(params, " \n"); tok; tok = strtok(NULL, " \n")) {
        char *eq = strchr(tok, '=');
        cr_assert_not_null(eq, "%s: bad param '%s'", fname, tok);
        *eq = '\0';
        cr_assert_eq(qs_synth_params_set(d, &p, tok, strtod(eq + 1, NULL), &err), QS_OK, "%s",
                     err.msg);
    }
    qs_tensor *t = NULL;
    cr_assert_eq(qs_synth(dist, n, (uint64_t)seed, &p, &t, &err), QS_OK, "%s", err.msg);
    for (long i = 0; i < n; i++) {
        unsigned int want;
        cr_assert(fgets(line, sizeof line, f), "%s: only %ld values", fname, i);
        cr_assert_eq(sscanf(line, "%x", &want), 1);
        uint32_t got;
        memcpy(&got, &t->data[i], sizeof got);
        cr_assert_eq(got, want, "%s value %ld: C 0x%08x (%.9g) vs Python 0x%08x", dist, i, got,
                     t->data[i], want);
    }
    fclose(f);
    qs_tensor_free(t);
}

Test(synth, golden_normal) { check_golden("normal"); }
Test(synth, golden_uniform) { check_golden("uniform"); }
Test(synth, golden_laplace) { check_golden("laplace"); }
Test(synth, golden_student_t) { check_golden("student-t"); }
Test(synth, golden_lognormal) { check_golden("lognormal"); }
Test(synth, golden_bimodal) { check_golden("bimodal"); }
Test(synth, golden_outliers) { check_golden("outliers"); }
Test(synth, golden_relu) { check_golden("relu"); }

/* ---- determinism ---------------------------------------------------------------------- */

Test(synth, same_seed_same_numbers)
{
    for (const char *const *nm = qs_synth_names; *nm; nm++) {
        qs_tensor *a = make(*nm, 1000, 42, NULL), *b = make(*nm, 1000, 42, NULL);
        qs_tensor *c = make(*nm, 1000, 43, NULL);
        cr_assert(memcmp(a->data, b->data, 1000 * sizeof(float)) == 0, "%s", *nm);
        cr_assert(memcmp(a->data, c->data, 1000 * sizeof(float)) != 0, "%s", *nm);
        /* a shorter run is a prefix of a longer one */
        qs_tensor *d = make(*nm, 10, 42, NULL);
        cr_assert(memcmp(a->data, d->data, 10 * sizeof(float)) == 0, "%s", *nm);
        qs_tensor_free(a);
        qs_tensor_free(b);
        qs_tensor_free(c);
        qs_tensor_free(d);
    }
}

Test(synth, rng_reference_and_uniform_range)
{
    /* splitmix64 from 0: first output 0xE220A8397B1DCDAF (Vigna's reference code) */
    qs_rng r;
    qs_rng_seed(&r, 0);
    cr_assert_eq(r.s[0], 0xE220A8397B1DCDAFull);
    for (int i = 0; i < 100000; i++) {
        double u = qs_rng_uniform(&r);
        cr_assert(u > 0 && u < 1);
    }
}

/* ---- moments -------------------------------------------------------------------------- */

typedef struct mom {
    double mean, var, zero_frac;
} mom;

static mom moments(const qs_tensor *t)
{
    double s = 0, z = 0;
    for (int64_t i = 0; i < t->n; i++) {
        s += t->data[i];
        z += t->data[i] == 0;
    }
    double m = s / (double)t->n, v = 0;
    for (int64_t i = 0; i < t->n; i++) v += ((double)t->data[i] - m) * ((double)t->data[i] - m);
    return (mom){m, v / (double)t->n, z / (double)t->n};
}

/* mean within K_SIGMA standard errors; variance within rel_var (relative) */
static void check_moments(const char *dist, const char *const *kv, double mean, double var,
                          double rel_var)
{
    qs_tensor *t = make(dist, N_MOMENTS, 2024, kv);
    mom m = moments(t);
    double se = sqrt(var / N_MOMENTS);
    cr_assert(fabs(m.mean - mean) < K_SIGMA * se, "%s mean %.6g, expected %.6g (se %.3g)",
              dist, m.mean, mean, se);
    cr_assert(fabs(m.var - var) < rel_var * var, "%s var %.6g, expected %.6g", dist, m.var, var);
    qs_tensor_free(t);
}

Test(synth, moments)
{
    const double PI = 3.14159265358979323846;
    check_moments("normal", (const char *const[]){"mean=3", "std=2", NULL}, 3, 4, 0.02);
    check_moments("uniform", (const char *const[]){"lo=-1", "hi=3", NULL}, 1, 16.0 / 12, 0.02);
    check_moments("laplace", (const char *const[]){"loc=1", "b=0.5", NULL}, 1, 2 * 0.25, 0.03);
    /* t with df=6: variance df/(df-2) = 1.5 (finite 4th moment, so the check is stable) */
    check_moments("student-t", (const char *const[]){"df=6", NULL}, 0, 1.5, 0.08);
    /* lognormal: mean exp(mu + s²/2), var (exp(s²) - 1) exp(2mu + s²) */
    double s2 = 0.25;
    check_moments("lognormal", (const char *const[]){"mu=0", "sigma=0.5", NULL}, exp(s2 / 2),
                  (exp(s2) - 1) * exp(s2), 0.05);
    /* bimodal, w = 0.3: mean w m1 + (1-w) m2; var = E[var] + var of the means */
    double w = 0.3, m1 = -2, m2 = 3, v1 = 0.25, v2 = 1;
    double bm = w * m1 + (1 - w) * m2;
    double bv = w * (v1 + m1 * m1) + (1 - w) * (v2 + m2 * m2) - bm * bm;
    check_moments("bimodal", (const char *const[]){"mean1=-2", "std1=0.5", "mean2=3", "std2=1",
                                                   "weight=0.3", NULL}, bm, bv, 0.02);
    check_moments("outliers", (const char *const[]){"frac=0.02", "scale=10", NULL}, 0,
                  0.98 + 0.02 * 100, 0.06);
    /* ReLU of N(0,1): mean 1/sqrt(2 pi), E[x²] = 1/2 */
    double rm = 1 / sqrt(2 * PI);
    check_moments("relu", NULL, rm, 0.5 - rm * rm, 0.02);
    qs_tensor *t = make("relu", N_MOMENTS, 5, NULL);
    mom m = moments(t);
    cr_assert(fabs(m.zero_frac - 0.5) < K_SIGMA * 0.5 / sqrt(N_MOMENTS), "zeros %g", m.zero_frac);
    qs_tensor_free(t);
}

Test(synth, normal_tails)
{
    /* P(|z| > 3) = 0.0026998: checks the shape, not just two moments */
    qs_tensor *t = make("normal", N_MOMENTS, 77, NULL);
    int64_t k = 0;
    for (int64_t i = 0; i < t->n; i++) k += fabsf(t->data[i]) > 3;
    double p = 0.0026998, se = sqrt(p * (1 - p) / N_MOMENTS);
    cr_assert(fabs((double)k / N_MOMENTS - p) < K_SIGMA * se, "tail %g", (double)k / N_MOMENTS);
    qs_tensor_free(t);
}

/* ---- log / exp ------------------------------------------------------------------------ */

Test(synth, log_exp_accuracy)
{
    qs_rng r;
    qs_rng_seed(&r, 9);
    for (int i = 0; i < 200000; i++) {
        double x = ldexp(1 + qs_rng_uniform(&r), (int)(qs_rng_u64(&r) % 2000) - 1000);
        double want = log(x), got = qs_synth_log(x);
        cr_assert(fabs(got - want) <= LOGEXP_RTOL * fabs(want) + 1e-300, "log(%.17g): %.17g vs "
                  "%.17g", x, got, want);
        double y = (qs_rng_uniform(&r) - 0.5) * 1400;
        double we = exp(y), ge = qs_synth_exp(y);
        cr_assert(fabs(ge - we) <= 4 * LOGEXP_RTOL * we, "exp(%.17g): %.17g vs %.17g", y, ge, we);
    }
    cr_assert_eq(qs_synth_log(1.0), 0.0);
    cr_assert_eq(qs_synth_exp(0.0), 1.0);
    cr_assert(fabs(qs_synth_log(0x1p-1070) - log(0x1p-1070)) < 1e-12);   /* subnormal */
    cr_assert(isinf(qs_synth_log(0.0)) && qs_synth_log(0.0) < 0);
    cr_assert(isnan(qs_synth_log(-1.0)));
    cr_assert(isinf(qs_synth_exp(1000)));
    cr_assert_eq(qs_synth_exp(-1000), 0.0);
}

/* ---- tables and errors ---------------------------------------------------------------- */

Test(synth, names_and_params)
{
    int n = 0;
    const qs_synth_dist *d = qs_synth_dists(&n);
    int k = 0;
    for (; qs_synth_names[k]; k++) {
        cr_assert_str_eq(d[k].name, qs_synth_names[k]);
        cr_assert_eq(qs_synth_find(qs_synth_names[k]), &d[k]);
        for (int i = 0; i < d[k].np; i++)
            cr_assert_eq(qs_synth_param_index(&d[k], d[k].p[i].name), i);
    }
    cr_assert_eq(k, n);
    cr_assert_eq(k, 8);
    cr_assert_eq(qs_synth_find("Log-Normal"), qs_synth_find("lognormal"));
    cr_assert_eq(qs_synth_find("LAPLACE"), qs_synth_find("laplace"));
    cr_assert_null(qs_synth_find("cauchy"));
}

static void expect_error(const char *dist, long long n, const char *const *kv, const char *needle)
{
    qs_err err = {{0}};
    qs_tensor *t = NULL;
    int argc = 0;
    char *argv[8];
    for (; kv && kv[argc]; argc++) argv[argc] = (char *)kv[argc];
    cr_assert_eq(qs_synth_cmd(dist, n, 1, argc, argv, &t, &err), QS_ERR, "%s should fail", dist);
    cr_assert_null(t);
    cr_assert(strstr(err.msg, needle), "message '%s' lacks '%s'", err.msg, needle);
}

Test(synth, errors)
{
    expect_error("cauchy", 10, NULL, "unknown distribution 'cauchy'");
    expect_error("laplace", 10, (const char *const[]){"std=1", NULL}, "no parameter 'std'");
    expect_error("laplace", 10, (const char *const[]){"std=1", NULL}, "loc b");
    expect_error("laplace", 10, (const char *const[]){"b=-1", NULL}, "b=-1 must be > 0");
    expect_error("laplace", 10, (const char *const[]){"b=abc", NULL}, "b='abc'");
    expect_error("outliers", 10, (const char *const[]){"frac=2", NULL}, "frac=2 must be in");
    expect_error("uniform", 10, (const char *const[]){"lo=2", "hi=1", NULL}, "lo < hi");
    expect_error("normal", -1, NULL, "n=-1");
    /* n= and seed= words and the positional are accepted and ignored */
    qs_tensor *t = make("laplace", 5, 3, (const char *const[]){"laplace", "n=5", "seed=3",
                                                               "b=0.5", NULL});
    cr_assert_str_eq(t->name, "laplace(loc=0,b=0.5)");
    cr_assert_eq(t->src_dtype, QS_DT_SYNTH);
    qs_tensor_free(t);
    t = make("normal", 0, 1, NULL);
    cr_assert_eq(t->n, 0);
    qs_tensor_free(t);
}

/* issue 15: `help synth` documents every distribution with every parameter and its default,
 * from the descriptor table (it used to point to a DIST list that did not exist). */
#include "qscope/cmd.h"
Test(synth, help_lists_every_parameter)
{
    const qs_cmd *c = qs_cmd_find("synth");
    cr_assert_not_null(c);
    int n;
    const qs_synth_dist *d = qs_synth_dists(&n);
    for (int i = 0; i < n; i++) {
        char line[256];
        int off = snprintf(line, sizeof line, "  %s ", d[i].name);
        const char *at = strstr(c->help, line);
        cr_assert_not_null(at, "help synth lacks %s", d[i].name);
        const char *eol = strchr(at, '\n');
        for (int k = 0; k < d[i].np; k++) {
            char want[64];
            snprintf(want, sizeof want, " %s=%g", d[i].p[k].name, d[i].p[k].def);
            const char *f = strstr(at, want);
            cr_expect(f && (!eol || f < eol), "help synth, %s: lacks '%s'", d[i].name, want);
        }
        (void)off;
    }
}

/* parameters whose values overflow float32 are refused (they once gave a tensor of infinities
 * with exit 0), naming how many values overflowed */
Test(synth, float32_overflow_refused)
{
    static const char *const cases[][2] = {
        {"normal", "mean=1e39"}, {"lognormal", "sigma=80"}, {"uniform", "hi=1e300"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        qs_tensor *t = NULL;
        qs_err err = {""};
        char arg[32];
        snprintf(arg, sizeof arg, "%s", cases[i][1]);
        char *argv[] = {arg};
        cr_expect_eq(qs_synth_cmd(cases[i][0], 1000, 1, 1, argv, &t, &err), QS_ERR, "%s %s",
                     cases[i][0], cases[i][1]);
        cr_expect_null(t);
        cr_expect(strstr(err.msg, "beyond float32's largest") != NULL, "%s", err.msg);
        qs_tensor_free(t);
    }
    qs_tensor *t = NULL;
    qs_err err = {""};
    char arg[] = "mean=1e30";               /* large but finite: accepted */
    char *argv[] = {arg};
    cr_assert_eq(qs_synth_cmd("normal", 100, 1, 1, argv, &t, &err), QS_OK, "%s", err.msg);
    qs_tensor_free(t);
}
