/* synth.c — seeded, machine-independent synthetic distributions (see include/qscope/synth.h
 * for the exact algorithms; tests/golden/make_synth.py re-implements them in Python). */
#include "qscope/synth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* ---- generator ------------------------------------------------------------------------ */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void qs_rng_seed(qs_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
    r->has_spare = 0;
    r->spare = 0;
}

uint64_t qs_rng_u64(qs_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double qs_rng_uniform(qs_rng *r)
{
    return ((double)(qs_rng_u64(r) >> 11) + 0.5) * 0x1p-53;
}

/* a point (u, v) uniform in the open unit disk without its centre; returns s = u² + v² */
static double polar_point(qs_rng *r, double *u, double *v)
{
    double s;
    do {
        *u = 2.0 * qs_rng_uniform(r) - 1.0;
        *v = 2.0 * qs_rng_uniform(r) - 1.0;
        s = *u * *u + *v * *v;
    } while (!(s < 1.0 && s > 0.0));
    return s;
}

double qs_rng_normal(qs_rng *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u, v;
    double s = polar_point(r, &u, &v);
    double f = sqrt(-2.0 * qs_synth_log(s) / s);
    r->spare = v * f;
    r->has_spare = 1;
    return u * f;
}

/* ---- log and exp from basic operations ------------------------------------------------ */

static const double LN2_HI = 6.93147180369123816490e-01;   /* fdlibm: low 32 bits zero */
static const double LN2_LO = 1.90821492927058770002e-10;
static const double INV_LN2 = 1.44269504088896338700e+00;
static const double SQRT2 = 1.41421356237309514547e+00;

double qs_synth_log(double x)
{
    if (isnan(x) || x < 0) return NAN;
    if (x == 0) return -INFINITY;
    if (isinf(x)) return x;
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    int k = 0;
    if ((b >> 52) == 0) {               /* subnormal: scale into the normal range */
        x *= 0x1p54;
        k = -54;
        memcpy(&b, &x, sizeof b);
    }
    k += (int)(b >> 52) - 1023;
    b = (b & UINT64_C(0x000FFFFFFFFFFFFF)) | UINT64_C(0x3FF0000000000000);
    double m;
    memcpy(&m, &b, sizeof m);           /* x = m · 2^k, m in [1, 2) */
    if (m > SQRT2) {
        m = m * 0.5;
        k += 1;
    }
    /* log(m) = 2·atanh(f), f = (m-1)/(m+1), |f| <= 0.1716: series in s = f² to s^12 */
    double f = (m - 1.0) / (m + 1.0);
    double s = f * f;
    double p = 1.0 / 25.0;
    p = p * s + 1.0 / 23.0;
    p = p * s + 1.0 / 21.0;
    p = p * s + 1.0 / 19.0;
    p = p * s + 1.0 / 17.0;
    p = p * s + 1.0 / 15.0;
    p = p * s + 1.0 / 13.0;
    p = p * s + 1.0 / 11.0;
    p = p * s + 1.0 / 9.0;
    p = p * s + 1.0 / 7.0;
    p = p * s + 1.0 / 5.0;
    p = p * s + 1.0 / 3.0;
    double lm = 2.0 * f + 2.0 * f * s * p;
    return (double)k * LN2_HI + ((double)k * LN2_LO + lm);
}

double qs_synth_exp(double x)
{
    if (isnan(x)) return x;
    if (x > 709.8) return INFINITY;
    if (x < -745.2) return 0.0;
    double kd = floor(x * INV_LN2 + 0.5);
    int k = (int)kd;
    double r = (x - kd * LN2_HI) - kd * LN2_LO;     /* |r| <= ~0.347 */
    /* Taylor series to r^14 / 14! */
    double p = 1.0 / 87178291200.0;
    p = p * r + 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    return ldexp(p, k);
}

/* ---- the distribution table ----------------------------------------------------------- */

enum { D_NORMAL, D_UNIFORM, D_LAPLACE, D_STUDENT, D_LOGNORMAL, D_BIMODAL, D_OUTLIERS,
       D_RELU, D_COUNT };

static const qs_synth_dist dists[D_COUNT] = {
    [D_NORMAL] = {"normal", "Gaussian N(mean, std²)", 2,
                  {{"mean", 0, QS_SP_ANY, "centre"}, {"std", 1, QS_SP_POS, "standard deviation"}}},
    [D_UNIFORM] = {"uniform", "uniform on [lo, hi)", 2,
                   {{"lo", -1, QS_SP_ANY, "lower end"}, {"hi", 1, QS_SP_ANY, "upper end (> lo)"}}},
    [D_LAPLACE] = {"laplace", "Laplace (double exponential): heavier tails than a normal", 2,
                   {{"loc", 0, QS_SP_ANY, "centre"},
                    {"b", 1, QS_SP_POS, "scale (std = b·sqrt 2)"}}},
    [D_STUDENT] = {"student-t", "Student's t: heavy tails, fewer degrees of freedom = heavier",
                   3, {{"df", 3, QS_SP_POS, "degrees of freedom"},
                       {"loc", 0, QS_SP_ANY, "centre"}, {"scale", 1, QS_SP_POS, "scale"}}},
    [D_LOGNORMAL] = {"lognormal", "log-normal: exp of a normal, positive and skewed", 2,
                     {{"mu", 0, QS_SP_ANY, "mean of the log"},
                      {"sigma", 1, QS_SP_POS, "std of the log"}}},
    [D_BIMODAL] = {"bimodal", "mixture of two normals", 5,
                   {{"mean1", -2, QS_SP_ANY, "centre of the first mode"},
                    {"std1", 0.5, QS_SP_POS, "std of the first mode"},
                    {"mean2", 2, QS_SP_ANY, "centre of the second mode"},
                    {"std2", 0.5, QS_SP_POS, "std of the second mode"},
                    {"weight", 0.5, QS_SP_UNIT, "probability of the first mode"}}},
    [D_OUTLIERS] = {"outliers", "normal with a fraction of outliers scale times wider", 4,
                    {{"mean", 0, QS_SP_ANY, "centre"}, {"std", 1, QS_SP_POS, "std of the bulk"},
                     {"frac", 0.01, QS_SP_UNIT, "fraction of outliers"},
                     {"scale", 10, QS_SP_POS, "outlier std / bulk std"}}},
    [D_RELU] = {"relu", "ReLU of a normal: max(0, N(mean, std²)), half zeros", 2,
                {{"mean", 0, QS_SP_ANY, "centre before the ReLU"},
                 {"std", 1, QS_SP_POS, "std before the ReLU"}}},
};

const char *const qs_synth_names[] = {
    "normal", "uniform", "laplace", "student-t", "lognormal", "bimodal", "outliers", "relu",
    NULL,
};

const qs_synth_dist *qs_synth_dists(int *n)
{
    if (n) *n = D_COUNT;
    return dists;
}

const qs_synth_dist *qs_synth_find(const char *name)
{
    if (!name) return NULL;
    for (int i = 0; i < D_COUNT; i++)
        if (strcasecmp(name, dists[i].name) == 0) return &dists[i];
    if (strcasecmp(name, "log-normal") == 0) return &dists[D_LOGNORMAL];
    if (strcasecmp(name, "t") == 0 || strcasecmp(name, "studentt") == 0
        || strcasecmp(name, "student_t") == 0)
        return &dists[D_STUDENT];
    return NULL;
}

int qs_synth_param_index(const qs_synth_dist *d, const char *key)
{
    for (int i = 0; i < d->np; i++)
        if (strcmp(key, d->p[i].name) == 0) return i;
    return -1;
}

void qs_synth_params_init(qs_synth_params *p)
{
    memset(p, 0, sizeof *p);
}

static void param_list(const qs_synth_dist *d, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; i < d->np && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off, i ? " %s" : "%s", d->p[i].name);
}

int qs_synth_params_set(const qs_synth_dist *d, qs_synth_params *p, const char *key, double v,
                        qs_err *err)
{
    int i = qs_synth_param_index(d, key);
    if (i < 0) {
        char list[128];
        param_list(d, list, sizeof list);
        return qs_err_set(err, "synth: %s has no parameter '%s' (parameters: %s)", d->name, key,
                          list);
    }
    if (!isfinite(v)) return qs_err_set(err, "synth: %s=%g must be a finite number", key, v);
    if (d->p[i].range == QS_SP_POS && !(v > 0))
        return qs_err_set(err, "synth: %s=%g must be > 0", key, v);
    if (d->p[i].range == QS_SP_UNIT && !(v >= 0 && v <= 1))
        return qs_err_set(err, "synth: %s=%g must be in [0, 1]", key, v);
    p->v[i] = v;
    p->set |= 1u << i;
    return QS_OK;
}

/* the values of all of d's parameters (given or default) */
static void resolve(const qs_synth_dist *d, const qs_synth_params *p, double *v)
{
    for (int i = 0; i < d->np; i++)
        v[i] = (p && (p->set & (1u << i))) ? p->v[i] : d->p[i].def;
}

/* ---- sampling ------------------------------------------------------------------------- */

static double sample(int id, const double *a, qs_rng *r)
{
    double u, v, c, z;
    switch (id) {
    case D_NORMAL:
        return a[0] + a[1] * qs_rng_normal(r);
    case D_UNIFORM:
        return a[0] + (a[1] - a[0]) * qs_rng_uniform(r);
    case D_LAPLACE:
        u = qs_rng_uniform(r) - 0.5;
        if (u < 0) return a[0] + a[1] * qs_synth_log(1.0 + 2.0 * u);
        return a[0] - a[1] * qs_synth_log(1.0 - 2.0 * u);
    case D_STUDENT: {
        double w = polar_point(r, &u, &v);
        double t = u * sqrt(a[0] * (qs_synth_exp((-2.0 / a[0]) * qs_synth_log(w)) - 1.0) / w);
        return a[1] + a[2] * t;
    }
    case D_LOGNORMAL:
        return qs_synth_exp(a[0] + a[1] * qs_rng_normal(r));
    case D_BIMODAL:
        c = qs_rng_uniform(r);
        z = qs_rng_normal(r);
        return c < a[4] ? a[0] + a[1] * z : a[2] + a[3] * z;
    case D_OUTLIERS:
        c = qs_rng_uniform(r);
        z = qs_rng_normal(r);
        return a[0] + a[1] * z * (c < a[2] ? a[3] : 1.0);
    case D_RELU:
        z = a[0] + a[1] * qs_rng_normal(r);
        return z > 0 ? z : 0.0;
    }
    return NAN;
}

void qs_synth_fill(const qs_synth_dist *d, const qs_synth_params *p, qs_rng *r, float *out,
                   int64_t n)
{
    double a[QS_SYNTH_MAXP];
    int id = (int)(d - dists);
    resolve(d, p, a);
    for (int64_t i = 0; i < n; i++) out[i] = (float)sample(id, a, r);
}

int qs_synth(const char *dist, int64_t n, uint64_t seed, const qs_synth_params *p,
             qs_tensor **out, qs_err *err)
{
    return qs_synth_progress(dist, n, seed, p, NULL, out, err);
}

int qs_synth_progress(const char *dist, int64_t n, uint64_t seed, const qs_synth_params *p,
                      const qs_progress *prog, qs_tensor **out, qs_err *err)
{
    const qs_synth_dist *d = qs_synth_find(dist);
    if (!d) {
        char list[160];
        size_t off = 0;
        list[0] = '\0';
        for (int i = 0; i < D_COUNT && off < sizeof list; i++)
            off += (size_t)snprintf(list + off, sizeof list - off, i ? " %s" : "%s",
                                    dists[i].name);
        return qs_err_set(err, "synth: unknown distribution '%s' (known: %s)",
                          dist ? dist : "", list);
    }
    if (n < 0) return qs_err_set(err, "synth: n=%lld must be >= 0", (long long)n);
    double a[QS_SYNTH_MAXP];
    resolve(d, p, a);
    for (int i = 0; i < d->np; i++) {
        qs_synth_params chk;
        qs_synth_params_init(&chk);
        if (qs_synth_params_set(d, &chk, d->p[i].name, a[i], err) != QS_OK) return QS_ERR;
    }
    if (d == &dists[D_UNIFORM] && !(a[0] < a[1]))
        return qs_err_set(err, "synth: uniform needs lo < hi (lo=%g, hi=%g)", a[0], a[1]);

    char name[256];
    size_t off = (size_t)snprintf(name, sizeof name, "%s(", d->name);
    for (int i = 0; i < d->np && off < sizeof name; i++)
        off += (size_t)snprintf(name + off, sizeof name - off, "%s%s=%g", i ? "," : "",
                                d->p[i].name, a[i]);
    if (off < sizeof name) snprintf(name + off, sizeof name - off, ")");

    int64_t shape[1] = {n};
    qs_tensor *t = qs_tensor_new(name, 1, shape, QS_DT_SYNTH, err);
    if (!t) return qs_err_prefix(err, "synth");
    qs_rng r;
    qs_rng_seed(&r, seed);
    qs_synth_params full;
    qs_synth_params_init(&full);
    memcpy(full.v, a, sizeof a);
    full.set = (1u << d->np) - 1u;
    /* in steps of 2^20 values from the one generator (the same numbers as one call), with
     * progress and cancel between them */
    const int64_t step = (int64_t)1 << 20;
    int64_t nonfinite = 0;          /* float32 overflow: refused, as `values 1e400` is */
    for (int64_t i = 0; i < n; i += step) {
        int64_t m = n - i < step ? n - i : step;
        if (n > step && qs_progress_report(prog, "synth", (double)i, (double)n) != QS_OK) {
            qs_tensor_free(t);
            qs_err_set(err, "synth: cancelled after %lld of %lld values", (long long)i,
                       (long long)n);
            return QS_CANCELLED;
        }
        qs_synth_fill(d, &full, &r, t->data + i, m);
        for (int64_t k = i; k < i + m; k++) nonfinite += !isfinite(t->data[k]);
    }
    if (n > step) qs_progress_report(prog, "synth", (double)n, (double)n);
    if (nonfinite) {
        qs_tensor_free(t);
        return qs_err_set(err, "synth: %s gives %lld of %lld values beyond float32's largest "
                               "(3.40282e+38), which would be infinities; use smaller parameters",
                          name, (long long)nonfinite, (long long)n);
    }
    *out = t;
    return QS_OK;
}

int qs_synth_cmd(const char *dist, int64_t n, uint64_t seed, int argc, char **argv,
                 qs_tensor **out, qs_err *err)
{
    return qs_synth_cmd_progress(dist, n, seed, argc, argv, NULL, out, err);
}

int qs_synth_cmd_progress(const char *dist, int64_t n, uint64_t seed, int argc, char **argv,
                          const qs_progress *prog, qs_tensor **out, qs_err *err)
{
    const qs_synth_dist *d = qs_synth_find(dist);
    if (!d) return qs_synth_progress(dist, n, seed, NULL, prog, out, err);  /* names it */
    qs_synth_params p;
    qs_synth_params_init(&p);
    for (int i = 0; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        if (!eq) continue;
        char key[64];
        size_t kl = (size_t)(eq - argv[i]);
        if (kl == 0 || kl >= sizeof key)
            return qs_err_set(err, "synth: '%s' is not a param=value word", argv[i]);
        memcpy(key, argv[i], kl);
        key[kl] = '\0';
        if (strcmp(key, "n") == 0 || strcmp(key, "seed") == 0) continue;
        if (qs_synth_param_index(d, key) < 0)
            return qs_synth_params_set(d, &p, key, 0, err);        /* names the key */
        const char *val = eq + 1;
        char *end = NULL;
        double v = strtod(val, &end);
        if (!*val || *end || !isfinite(v))
            return qs_err_set(err, "synth: %s='%s' is not a finite number", key, val);
        if (qs_synth_params_set(d, &p, key, v, err) != QS_OK) return QS_ERR;
    }
    return qs_synth_progress(dist, n, seed, &p, prog, out, err);
}
