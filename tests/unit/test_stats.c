/* test_stats.c — statistics against NumPy (tests/golden/stats_*.txt from make_stats.py),
 * percentile edge cases, selection vs full sort, and the histogram helper. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/metrics.h"
#include "qscope/stats.h"

#define STATS_RTOL 1e-6     /* float32 precision: 2^-23 is 1.2e-7; allow a few ulp */
#define STATS_ATOL 1e-30    /* for expected values that are exactly 0 */

static float u2f(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* ---- golden cases --------------------------------------------------------------------- */

typedef struct golden {
    char key[32][16];   /* expected keys */
    double val[32];     /* their values */
    int nexp;           /* how many */
    float *x;           /* the input */
    int64_t n;          /* its length */
} golden;

static void load_golden(const char *name, golden *g)
{
    char path[1024], line[256];
    const char *top = getenv("QSCOPE_TOP");
    snprintf(path, sizeof path, "%s/tests/golden/stats_%s.txt", top ? top : ".", name);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot open %s (run from the repository top or set QSCOPE_TOP)",
                       path);
    memset(g, 0, sizeof *g);
    long n = -1;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#') continue;
        if (sscanf(line, "values %ld", &n) == 1) break;
        cr_assert(g->nexp < 32);
        cr_assert_eq(sscanf(line, "expect %15s %lf", g->key[g->nexp], &g->val[g->nexp]), 2,
                     "%s: bad line '%s'", path, line);
        g->nexp++;
    }
    cr_assert(n >= 0, "%s: no 'values' line", path);
    g->n = n;
    g->x = malloc((size_t)(n > 0 ? n : 1) * sizeof *g->x);
    for (long i = 0; i < n; i++) {
        unsigned int b;
        cr_assert(fgets(line, sizeof line, f) && sscanf(line, "%x", &b) == 1, "%s: value %ld",
                  path, i);
        g->x[i] = u2f(b);
    }
    fclose(f);
}

static double stat_of(const qs_stats *st, const char *key, int *found)
{
    *found = 1;
    if (!strcmp(key, "n")) return (double)st->n;
    if (!strcmp(key, "finite")) return (double)st->finite;
    if (!strcmp(key, "nan")) return (double)st->nan;
    if (!strcmp(key, "inf")) return (double)st->inf;
    if (!strcmp(key, "zeros")) return (double)st->zeros;
    if (!strcmp(key, "min")) return st->min;
    if (!strcmp(key, "max")) return st->max;
    if (!strcmp(key, "mean")) return st->mean;
    if (!strcmp(key, "std")) return st->std;
    if (!strcmp(key, "absmax")) return st->absmax;
    for (int i = 0; i < QS_STATS_NPCT; i++) {
        char k[16];
        snprintf(k, sizeof k, "p%g", qs_stats_pct_levels[i]);
        if (!strcmp(key, k)) return st->pct[i];
    }
    *found = 0;
    return NAN;
}

static void check_case(const char *name)
{
    golden g;
    qs_stats st;
    qs_err err = {{0}};
    load_golden(name, &g);
    cr_assert_eq(qs_stats_compute(g.x, g.n, &st, &err), QS_OK, "%s", err.msg);
    int seen = 0;
    for (int i = 0; i < g.nexp; i++) {
        int found;
        double got = stat_of(&st, g.key[i], &found), want = g.val[i];
        cr_assert(found, "%s: unknown key %s", name, g.key[i]);
        cr_assert(fabs(got - want) <= STATS_RTOL * fabs(want) + STATS_ATOL,
                  "%s: %s = %.17g, NumPy %.17g", name, g.key[i], got, want);
        seen++;
    }
    cr_assert(seen >= 5, "%s: too few expectations", name);
    if (st.finite == 0) {
        cr_assert(isnan(st.mean) && isnan(st.min) && isnan(st.pct[3]), "%s", name);
    }
    free(g.x);
}

Test(stats, numpy_classroom) { check_case("classroom"); }
Test(stats, numpy_single) { check_case("single"); }
Test(stats, numpy_normal) { check_case("normal"); }
Test(stats, numpy_laplace_offset) { check_case("laplace_offset"); }
Test(stats, numpy_relu) { check_case("relu"); }
Test(stats, numpy_specials) { check_case("specials"); }
Test(stats, numpy_codes) { check_case("codes"); }
Test(stats, numpy_all_nan) { check_case("all_nan"); }

/* ---- hand cases and selection --------------------------------------------------------- */

Test(stats, empty_and_hand_values)
{
    qs_stats st;
    qs_err err = {{0}};
    cr_assert_eq(qs_stats_compute(NULL, 0, &st, &err), QS_OK);
    cr_assert_eq(st.n, 0);
    cr_assert(isnan(st.mean) && isnan(st.std) && isnan(st.pct[0]));
    float x[] = {1, 2, 3, 4};
    cr_assert_eq(qs_stats_compute(x, 4, &st, &err), QS_OK);
    cr_assert_eq(st.mean, 2.5);
    cr_assert_eq(st.std, sqrt(1.25));                 /* ddof = 0 */
    cr_assert_eq(st.pct[3], 2.5);                     /* median */
    double p;
    cr_assert_eq(qs_stats_percentile(x, 4, 25, &p, &err), QS_OK);
    cr_assert_eq(p, 1.75);                            /* h = 3·0.25 = 0.75 */
    cr_assert_eq(qs_stats_percentile(x, 4, 100, &p, &err), QS_OK);
    cr_assert_eq(p, 4.0);
    cr_assert_eq(qs_stats_percentile(x, 4, 0, &p, &err), QS_OK);
    cr_assert_eq(p, 1.0);
    cr_assert_eq(qs_stats_percentile(x, 4, 101, &p, &err), QS_ERR);
    cr_assert(strstr(err.msg, "101"));
}

static int cmpf(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

Test(stats, selection_matches_full_sort)
{
    /* sizes around the small-range cutoff and large, with heavy duplication */
    const int64_t sizes[] = {1, 2, 3, 23, 24, 25, 31, 32, 33, 1000, 100003};
    uint64_t s = 1;
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        int64_t n = sizes[k];
        float *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * sizeof *y);
        for (int64_t i = 0; i < n; i++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            x[i] = (k & 1) ? (float)((s >> 33) % 7) : (float)(int64_t)(s >> 20) * 1e-9f;
        }
        memcpy(y, x, (size_t)n * sizeof *y);
        qsort(y, (size_t)n, sizeof *y, cmpf);
        qs_stats st;
        cr_assert_eq(qs_stats_compute(x, n, &st, NULL), QS_OK);
        for (int i = 0; i < QS_STATS_NPCT; i++) {
            double h = (double)(n - 1) * (qs_stats_pct_levels[i] / 100.0);
            int64_t lo = (int64_t)floor(h), hi = lo + 1 < n ? lo + 1 : n - 1;
            double t = h - floor(h), a = y[lo], b = y[hi];
            double want = t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
            cr_assert_eq(st.pct[i], want, "n=%lld p%g: %.17g vs %.17g", (long long)n,
                         qs_stats_pct_levels[i], st.pct[i], want);
        }
        cr_assert_eq(st.min, y[0]);
        cr_assert_eq(st.max, y[n - 1]);
        free(x);
        free(y);
    }
}

/* ---- histogram ------------------------------------------------------------------------ */

Test(stats, hist_default_range_and_counts)
{
    float x[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, NAN, INFINITY, -INFINITY};
    qs_hist h;
    qs_err err = {{0}};
    cr_assert_eq(qs_stats_hist(x, 14, 5, NAN, NAN, &h, &err), QS_OK, "%s", err.msg);
    cr_assert_eq(h.lo, 0.0);
    cr_assert_eq(h.hi, 10.0);
    cr_assert_eq(h.bins, 5);
    /* bins of width 2: [0,2) [2,4) [4,6) [6,8) [8,10]; 10 falls into the last bin */
    const uint64_t want[5] = {2, 2, 2, 2, 3};
    for (int i = 0; i < 5; i++) cr_assert_eq(h.counts[i], want[i], "bin %d: %llu", i,
                                             (unsigned long long)h.counts[i]);
    cr_assert_eq(h.nan, 1);
    cr_assert_eq(h.under, 1);
    cr_assert_eq(h.over, 1);
    qs_stats_hist_free(&h);
    cr_assert_null(h.counts);

    cr_assert_eq(qs_stats_hist(x, 11, 4, 2.0, 6.0, &h, &err), QS_OK);
    cr_assert_eq(h.under, 2);       /* 0, 1 */
    cr_assert_eq(h.over, 4);        /* 7, 8, 9, 10 */
    cr_assert_eq(h.counts[0] + h.counts[1] + h.counts[2] + h.counts[3], 5);   /* 2..6 */
    qs_stats_hist_free(&h);

    float c[] = {3, 3, 3};          /* degenerate range widens to [2.5, 3.5] */
    cr_assert_eq(qs_stats_hist(c, 3, 2, NAN, NAN, &h, &err), QS_OK);
    cr_assert_eq(h.lo, 2.5);
    cr_assert_eq(h.hi, 3.5);
    cr_assert_eq(h.counts[1], 3);
    qs_stats_hist_free(&h);

    cr_assert_eq(qs_stats_hist(c, 3, 0, NAN, NAN, &h, &err), QS_ERR);
    cr_assert(strstr(err.msg, "bins=0"));
    cr_assert_eq(qs_stats_hist(c, 3, 4, 5.0, 1.0, &h, &err), QS_ERR);
    cr_assert(strstr(err.msg, "LO < HI"));
}
