/* test_kernels.c — Criterion tests of src/kernels: every kernel of every dispatch table
 * (ref and every tier the CPU has, plus the emulated AVX-512/VNNI GEMMs) against the reference rules written out here and
 * against each other: codes and integer results bit-identical, float sums within
 * QS_K_SUM_RTOL, results identical for 1 thread and all threads. */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "qscope/kernels.h"

#define SGEMM_RTOL 1e-5     /* |C - C_double| <= SGEMM_RTOL * (Σ|a||b| + |beta·C0|) */

static const int64_t SIZES[] = { 0, 1, 7, 31, 32, 33, 1000003 };
#define NSIZES ((int)(sizeof SIZES / sizeof SIZES[0]))
static const qs_round ROUNDS[] = { QS_R_HALF_EVEN, QS_R_HALF_AWAY, QS_R_HALF_UP,
                                   QS_R_STOCHASTIC };

/* The tables to test: ref, then every tier this CPU supports (avx2, avx512, vnni, amx), then the
 * test-only emulated instances of the AVX-512 / VNNI GEMMs (their source with AVX2
 * emulations of the wide vectors and vpdpbusd, see src/kernels/vgemm.h), which run here even
 * when the CPU lacks those tiers (gemm_tables). Tiers the CPU lacks are skipped (Test(kernels, tiers)
 * prints which). */
#define QT_MAX 16
/* t[(*n)++] = k, never past QT_MAX (ref, 5 tiers, vnni256, 2 zemu, 3 emulated, amx-zemu: 13) */
static void qt_add(const qs_kernels *t[QT_MAX], int *n, const qs_kernels *k)
{
    if (*n >= QT_MAX) {
        fprintf(stderr, "test_kernels: more than QT_MAX = %d tables\n", QT_MAX);
        abort();
    }
    t[(*n)++] = k;
}
static int tables(const qs_kernels *t[QT_MAX])
{
    int n = 0;
    t[n++] = qs_k_ref();
    for (int tier = QS_TIER_AVX2; tier < QS_TIER_N; tier++) {
        const qs_kernels *k = qs_k_tier((qs_tier)tier);
        if (k) qt_add(t, &n, k);
    }
    /* the AVX-VNNI (ymm) int8 GEMM, natively, where the vnni tier is the 512-bit one */
    const qs_kernels *v256 = qs_k_vnni256_native();
    if (v256 && v256 != qs_k_tier(QS_TIER_VNNI)) qt_add(t, &n, v256);
    /* the avx512 and vnni tables' own sources over zemu.h's scalar emulation of the
     * intrinsics: every kernel, where the CPU cannot run the real ones (slow, so sizes
     * above ZEMU_MAX are left to the native tables: is_zemu) */
    /* QSCOPE_TEST_ZEMU=1 runs them where the CPU has the real tiers too, as an AVX2-only
     * machine (CI's Zen 3) will: an AVX-512 machine then checks them against the hardware's
     * tables and _ref in one run */
    const char *ze = getenv("QSCOPE_TEST_ZEMU");
    int all = ze && strcmp(ze, "1") == 0;
    for (int i = 3; i < 5; i++) {
        const qs_kernels *k = qs_k_emulated(i);
        if (k && (all || !qs_k_tier(i == 3 ? QS_TIER_AVX512 : QS_TIER_VNNI))) qt_add(t, &n, k);
    }
    return n;
}
static int is_zemu(const qs_kernels *k) { return strstr(k->name, "zemu") != NULL; }
/* the emulated tables run every case up to this size (their multi-chunk, threaded and
 * streaming paths: thread_independence, large_tensor_stream); quantize_large's 32 cases of
 * 1M elements are left to the native tables, minutes under ASan otherwise */
#define ZEMU_MAX ((int64_t)1 << 18)
/* tables() plus the emulated AVX-512 / VNNI GEMMs (their other entries are the avx2 ones) */
static int gemm_tables(const qs_kernels *t[QT_MAX])
{
    int n = tables(t);
    for (int i = 0; i < 3; i++) {
        const qs_kernels *k = qs_k_emulated(i);
        if (k) qt_add(t, &n, k);
    }
    /* gemm_amx.c over zemu.h + amxemu.h: its GEMM only (the rest is vnni-zemu's), run even
     * where the CPU has AMX, so the emulation is checked against the hardware's results */
    const qs_kernels *amx = qs_k_emulated(5);
    if (amx) qt_add(t, &n, amx);
    return n;
}

/* ---- data -------------------------------------------------------------------------------- */

static uint64_t rng_state;
static uint32_t rnd(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng_state >> 33);
}
static float frnd(void) { return (float)rnd() / 2147483648.0f; }   /* [0, 1) */

/* n values: a mix of normal-ish values, exact ties k + 0.5 (times 0.05), zeros, large
 * values, and (when specials) NaN and ±Inf; returned pointer is offset by one float from the
 * allocation (unaligned); free with free(p - 1). */
static float *make_data(int64_t n, int specials, uint64_t seed)
{
    rng_state = seed;
    float *p = (float *)malloc((size_t)(n + 1) * sizeof *p) + 1;
    for (int64_t i = 0; i < n; i++) {
        uint32_t r = rnd() % 100;
        float v;
        if (r < 70) v = (frnd() + frnd() + frnd() - 1.5f) * 2.0f;
        else if (r < 85) v = ((float)(int)(rnd() % 41) - 20.0f + 0.5f) * 0.05f;
        else if (r < 90) v = 0.0f;
        else if (r < 95) v = (frnd() - 0.5f) * 40.0f;
        else v = (frnd() - 0.5f) * 1e-3f;
        if (specials && r == 99) {
            uint32_t s = rnd() % 3;
            v = s == 0 ? NAN : s == 1 ? INFINITY : -INFINITY;
        }
        p[i] = v;
    }
    return p;
}

static int same_bits_f(const float *a, const float *b, int64_t n)
{
    return n == 0 || memcmp(a, b, (size_t)n * sizeof *a) == 0;
}

static void check_sum(double a, double b, double scale, const char *what, const char *tab)
{
    double tol = QS_K_SUM_RTOL * fmax(fmax(fabs(a), fabs(b)), scale);
    if (isnan(a) || isnan(b)) { cr_assert(isnan(a) && isnan(b), "%s %s NaN", tab, what); return; }
    if (isinf(a) || isinf(b)) { cr_assert_eq(a, b, "%s %s inf", tab, what); return; }
    cr_assert(fabs(a - b) <= tol, "%s %s: %.17g vs %.17g", tab, what, a, b);
}

static void check_stats(const qs_errstats *a, const qs_errstats *b, const char *tab)
{
    cr_assert_eq(a->n, b->n, "%s n %lld vs %lld", tab, (long long)a->n, (long long)b->n);
    cr_assert_eq(a->n_nan, b->n_nan, "%s n_nan", tab);
    cr_assert_eq(a->clipped, b->clipped, "%s clipped %lld vs %lld", tab,
                 (long long)a->clipped, (long long)b->clipped);
    check_sum(a->sum_x2, b->sum_x2, 0, "sum_x2", tab);
    check_sum(a->sum_y2, b->sum_y2, 0, "sum_y2", tab);
    check_sum(a->sum_xy, b->sum_xy, fmax(a->sum_x2, a->sum_y2), "sum_xy", tab);
    /* the bias is a signed sum: tolerance relative to the size of its terms */
    check_sum(a->sum_e, b->sum_e, sqrt(a->sum_e2 * (double)(a->n + 1)), "sum_e", tab);
    check_sum(a->sum_e2, b->sum_e2, 0, "sum_e2", tab);
    cr_assert(a->max_abs_e == b->max_abs_e || (isnan(a->max_abs_e) && isnan(b->max_abs_e)),
              "%s max_abs_e %g vs %g", tab, a->max_abs_e, b->max_abs_e);
}

static void check_hist(const qs_hist *a, const qs_hist *b, const char *tab)
{
    cr_assert_eq(a->under, b->under, "%s under", tab);
    cr_assert_eq(a->over, b->over, "%s over", tab);
    cr_assert_eq(a->nan, b->nan, "%s nan", tab);
    cr_assert(memcmp(a->counts, b->counts, (size_t)a->bins * sizeof *a->counts) == 0,
              "%s hist counts differ", tab);
}

/* ---- the reference rules, written out independently of the library ------------------- */

static float t_round(float v, qs_round m, float u)
{
    switch (m) {
    case QS_R_HALF_AWAY: return roundf(v);
    case QS_R_HALF_UP:   return floorf(v + 0.5f);
    case QS_R_STOCHASTIC: return floorf(v + u);
    default:             return nearbyintf(v);
    }
}
/* PyTorch's quantize_val, with the rounding mode swapped; computed in double after the
 * float rounding so huge values clamp without overflow. NaN → zp. */
static int t_quant(float x, float scale, float inv, int zp, const qs_qp *qp, int *clip)
{
    *clip = 0;
    if (isnan(x)) return zp;
    float v = qp->divide ? x / scale : x * inv;
    if (qp->round == QS_R_STOCHASTIC) {     /* floor(v + u), u in [0,1): floor(v) or +1 */
        double q = floor((double)v) + zp;
        *clip = q < qp->qmin || q > qp->qmax + (v == floorf(v) ? 0 : 1) ;
        return -999;                        /* not checked exactly (u is internal) */
    }
    double q = (double)t_round(v, qp->round, 0.0f) + zp;
    *clip = q < qp->qmin || q > qp->qmax;
    return q < qp->qmin ? qp->qmin : q > qp->qmax ? qp->qmax : (int)q;
}

/* ---- parameter sets -------------------------------------------------------------------- */

typedef struct params {
    float *scale, *inv;
    int32_t *zp;
    qs_qp qp;
} params;

/* affine parameters from per-set min/max (PyTorch's rule), for the given grid */
static void make_params(const qs_kernels *k, const float *x, const qs_layout *l, int bits,
                        int is_signed, int divide, qs_round rm, params *p)
{
    int64_t np = qs_layout_nparams(l);
    float *mn = malloc((size_t)np * sizeof *mn), *mx = malloc((size_t)np * sizeof *mx);
    k->minmax_layout(x, l, mn, mx);
    int qmin = is_signed ? -(1 << (bits - 1)) : 0, qmax = is_signed ? (1 << (bits - 1)) - 1
                                                                 : (1 << bits) - 1;
    p->scale = malloc((size_t)np * sizeof *p->scale);
    p->inv = malloc((size_t)np * sizeof *p->inv);
    p->zp = malloc((size_t)np * sizeof *p->zp);
    for (int64_t i = 0; i < np; i++) {
        float lo = isfinite(mn[i]) ? fminf(mn[i], 0.0f) : -8.0f;
        float hi = isfinite(mx[i]) ? fmaxf(mx[i], 0.0f) : 8.0f;
        float s = fmaxf((hi - lo) / (float)(qmax - qmin), 1.1920929e-07f);
        p->scale[i] = s;
        p->inv[i] = 1.0f / s;
        int z = qmin - (int)nearbyintf(lo / s);
        p->zp[i] = z < qmin ? qmin : z > qmax ? qmax : z;
    }
    qs_qp qp = { p->scale, p->inv, p->zp, qmin, qmax, divide, rm, 12345 };
    p->qp = qp;
    free(mn); free(mx);
}
static void free_params(params *p) { free(p->scale); free(p->inv); free(p->zp); }

/* the layouts a tensor of n elements is viewed under */
typedef struct lcase { const char *name; qs_layout l; } lcase;
static int layouts_for(int64_t n, lcase *out)
{
    int c = 0;
    qs_layout t = { QS_G_TENSOR, 1, n, 1, 1 };
    out[c++] = (lcase){ "tensor", t };
    if (n == 0) return c;
    /* find a factorisation n = a * b * c when possible */
    int64_t f1 = 1, f2 = n, f3 = 1;
    for (int64_t d = 2; d * d <= n && d < 50; d++) if (n % d == 0) { f1 = d; f2 = n / d; break; }
    for (int64_t d = 2; d * d <= f2 && d < 50; d++) if (f2 % d == 0) { f3 = d; f2 /= d; break; }
    int64_t shape[3] = { f1, f2, f3 };
    static const char *names[] = { "channel axis 0", "channel axis 1", "channel axis 2" };
    for (int ax = 0; ax < 3; ax++) {
        qs_layout l;
        qs_layout_make(3, shape, QS_G_CHANNEL, ax, 0, &l);
        out[c++] = (lcase){ names[ax], l };
    }
    qs_layout g;
    qs_layout_make(3, shape, QS_G_GROUP, 2, 3, &g);       /* last axis, inner 1 */
    out[c++] = (lcase){ "group last axis", g };
    qs_layout_make(3, shape, QS_G_GROUP, 1, 32, &g);      /* middle axis, inner > 1 */
    out[c++] = (lcase){ "group middle axis", g };
    int64_t flat[2] = { 1, n };
    qs_layout_make(2, flat, QS_G_GROUP, -1, 64, &g);      /* blocks of 64 */
    out[c++] = (lcase){ "group 64", g };
    return c;
}

/* ---- tests ------------------------------------------------------------------------------- */

Test(kernels, layout)
{
    int64_t shape[3] = { 4, 5, 6 };
    qs_layout l;
    cr_assert_eq(qs_layout_make(3, shape, QS_G_CHANNEL, 1, 0, &l), 0);
    cr_assert_eq(l.outer, 4); cr_assert_eq(l.len, 5); cr_assert_eq(l.inner, 6);
    cr_assert_eq(qs_layout_nparams(&l), 5);
    cr_assert_eq(qs_layout_index(&l, 6 * 3 + 2), 3);
    cr_assert_eq(qs_layout_make(3, shape, QS_G_GROUP, -1, 4, &l), 0);
    cr_assert_eq(qs_layout_nparams(&l), 4 * 5 * 2);
    cr_assert_eq(qs_layout_index(&l, 5), 1);
    cr_assert_eq(qs_layout_make(3, shape, QS_G_CHANNEL, 3, 0, &l), -1);
    cr_assert_eq(qs_layout_make(3, shape, QS_G_GROUP, 0, 0, &l), -1);
    cr_assert_eq(qs_layout_make(0, shape, QS_G_CHANNEL, 0, 0, &l), 0);
    cr_assert_eq(qs_layout_numel(&l), 1);
}

Test(kernels, dispatch)
{
    const qs_kernels *t[QT_MAX];
    int nt = tables(t);
    cr_assert_str_eq(qs_k_ref()->name, "ref");
    if (nt >= 2) cr_assert_str_eq(t[1]->name, "avx2");
    qs_k_force(qs_k_ref());
    cr_assert_eq(qs_k(), qs_k_ref());
    qs_k_force(NULL);
    cr_assert_not_null(qs_k());
}

/* which tiers this run tests and which it skips (the CPU lacks them); the emulated GEMMs of
 * the AVX-512 / VNNI tiers run everywhere AVX2 does */
Test(kernels, tiers)
{
    qs_cpu_bits c;
    qs_cpu_bits_read(&c);
    int v256 = 0;
    unsigned set = qs_k_tiers_of(&c, &v256);
    char tested[128] = "", skipped[128] = "";
    for (int tier = 0; tier < QS_TIER_N; tier++) {
        const qs_kernels *k = qs_k_tier((qs_tier)tier);
        cr_assert_eq(k != NULL, (set >> tier) & 1u, "tier %s", qs_k_tier_name((qs_tier)tier));
        char *dst = k ? tested : skipped;
        strcat(dst, " ");
        strcat(dst, k ? k->name : qs_k_tier_name((qs_tier)tier));
    }
    cr_assert(set & 1u);
    const qs_kernels *t[QT_MAX];
    int nt = gemm_tables(t);
    char emu[128] = "";
    for (int i = 0; i < nt; i++)
        if (strstr(t[i]->name, "emulated") || is_zemu(t[i])) {
            strcat(emu, " ");
            strcat(emu, t[i]->name);
        }
    const qs_kernels *nat256 = qs_k_vnni256_native();
    if (nat256 && nat256 != qs_k_tier(QS_TIER_VNNI)) strcat(tested, " vnni256(native AVX-VNNI)");
    fprintf(stderr, "kernel tiers tested:%s; skipped (this CPU lacks them):%s; emulated "
            "instances tested:%s\n", tested, *skipped ? skipped : " none", *emu ? emu : " none");
    /* the active table is the best tier unless QSCOPE_KERNELS says otherwise */
    const char *env = getenv("QSCOPE_KERNELS");
    if (!env || !*env)
        cr_assert_eq(qs_k(), qs_k_tier((qs_tier)qs_k_tier_choose(set, NULL, NULL, 0)));
}

/* the tier choice from synthetic CPUID / XCR0 words: every CPU family the tiers name */
#define L1_AVX2 ((1u << 12) | (1u << 27) | (1u << 28) | (1u << 29))    /* FMA OSXSAVE AVX F16C */
#define L7_AVX2 (1u << 5)
#define L7_512 ((1u << 16) | (1u << 30) | (1u << 31))                  /* F BW VL */
#define XCR_YMM 0x7u
#define XCR_ZMM 0xE7u
static unsigned tiers(uint32_t l1, uint32_t l7b, uint32_t l7c, uint32_t l71a, uint32_t xcr0,
                      int *v256)
{
    qs_cpu_bits c = { l1, l7b, l7c, 0, l71a, xcr0 };
    return qs_k_tiers_of(&c, v256);
}
#define T(x) (1u << (x))
Test(kernels, tier_select_synthetic)
{
    int v = -1;
    const unsigned R = T(QS_TIER_REF), A2 = T(QS_TIER_AVX2), A5 = T(QS_TIER_AVX512),
                   VN = T(QS_TIER_VNNI);
    cr_assert_eq(tiers(0, 0, 0, 0, 0, &v), R);
    /* Zen 3: AVX2 + FMA + F16C, YMM state */
    cr_assert_eq(tiers(L1_AVX2, L7_AVX2, 0, 0, XCR_YMM, &v), R | A2);
    cr_assert_eq(v, 0);
    /* each missing piece of the avx2 tier */
    cr_assert_eq(tiers(L1_AVX2 & ~(1u << 29), L7_AVX2, 0, 0, XCR_YMM, NULL), R);   /* no F16C */
    cr_assert_eq(tiers(L1_AVX2 & ~(1u << 12), L7_AVX2, 0, 0, XCR_YMM, NULL), R);   /* no FMA */
    cr_assert_eq(tiers(L1_AVX2, 0, 0, 0, XCR_YMM, NULL), R);                        /* no AVX2 */
    cr_assert_eq(tiers(L1_AVX2, L7_AVX2, 0, 0, 0x3, NULL), R);        /* OS: no YMM state */
    /* Skylake-X / Zen 4 without VNNI bit: AVX-512 F/BW/VL and the ZMM state */
    cr_assert_eq(tiers(L1_AVX2, L7_AVX2 | L7_512, 0, 0, XCR_ZMM, &v), R | A2 | A5);
    /* the OS does not save ZMM state (XCR0 bits 5-7 clear, or one of them) */
    cr_assert_eq(tiers(L1_AVX2, L7_AVX2 | L7_512, 0, 0, XCR_YMM, NULL), R | A2);
    cr_assert_eq(tiers(L1_AVX2, L7_AVX2 | L7_512, 0, 0, XCR_ZMM & ~0x80u, NULL), R | A2);
    cr_assert_eq(tiers(L1_AVX2, L7_AVX2 | L7_512, 0, 0, XCR_ZMM & ~0x20u, NULL), R | A2);
    /* AVX-512F without BW (Knights Landing) or without VL */
    cr_assert_eq(tiers(L1_AVX2, L7_AVX2 | (1u << 16) | (1u << 31), 0, 0, XCR_ZMM, NULL), R | A2);
    cr_assert_eq(tiers(L1_AVX2, L7_AVX2 | (1u << 16) | (1u << 30), 0, 0, XCR_ZMM, NULL), R | A2);
    /* Cascade Lake / Ice Lake / Sapphire Rapids / Zen 4: AVX512-VNNI (leaf 7 ECX bit 11) */
    cr_assert_eq(tiers(L1_AVX2, L7_AVX2 | L7_512, 1u << 11, 1u << 4, XCR_ZMM, &v), R | A2 | A5 | VN);
    cr_assert_eq(v, 0);                 /* 512-bit VNNI preferred over AVX-VNNI */
    /* Alder Lake: AVX-VNNI (leaf 7.1 EAX bit 4) without AVX-512 → 256-bit vnni */
    cr_assert_eq(tiers(L1_AVX2, L7_AVX2, 0, 1u << 4, XCR_YMM, &v), R | A2 | VN);
    cr_assert_eq(v, 1);
    /* AVX512-VNNI reported but ZMM state off, no AVX-VNNI: no vnni */
    cr_assert_eq(tiers(L1_AVX2, L7_AVX2 | L7_512, 1u << 11, 0, XCR_YMM, &v), R | A2);
    /* AVX-VNNI without the avx2 tier (no F16C): no vnni */
    cr_assert_eq(tiers(L1_AVX2 & ~(1u << 29), L7_AVX2, 0, 1u << 4, XCR_YMM, NULL), R);

    /* choosing: the best by default, a named tier when supported, refusal otherwise */
    char err[160];
    cr_assert_eq(qs_k_tier_choose(R | A2, NULL, err, sizeof err), QS_TIER_AVX2);
    cr_assert_eq(qs_k_tier_choose(R | A2, "", err, sizeof err), QS_TIER_AVX2);
    cr_assert_eq(qs_k_tier_choose(R | A2 | A5 | VN, NULL, err, sizeof err), QS_TIER_VNNI);
    cr_assert_eq(qs_k_tier_choose(R | A2 | VN, NULL, err, sizeof err), QS_TIER_VNNI);
    cr_assert_eq(qs_k_tier_choose(R, NULL, err, sizeof err), QS_TIER_REF);
    cr_assert_eq(qs_k_tier_choose(R | A2 | A5 | VN, "avx2", err, sizeof err), QS_TIER_AVX2);
    cr_assert_eq(qs_k_tier_choose(R | A2 | A5 | VN, "avx512", err, sizeof err), QS_TIER_AVX512);
    cr_assert_eq(qs_k_tier_choose(R, "ref", err, sizeof err), QS_TIER_REF);
    cr_assert_eq(qs_k_tier_choose(R | A2, "avx512", err, sizeof err), -1);
    cr_assert_str_eq(err, "QSCOPE_KERNELS=avx512: this CPU lacks the avx512 tier (it supports: "
                     "ref avx2)");
    cr_assert_eq(qs_k_tier_choose(R | A2 | VN, "avx512", err, sizeof err), -1);
    cr_assert_eq(qs_k_tier_choose(R | A2 | A5, "vnni", err, sizeof err), -1);
    cr_assert_eq(qs_k_tier_choose(R | A2, "AVX2", err, sizeof err), -1);
    cr_assert_str_eq(err, "QSCOPE_KERNELS=AVX2: unknown tier (ref, avx2, avx512, vnni or amx)");
    /* amx: the best where present, refused where not */
    const unsigned AX = T(QS_TIER_AMX);
    cr_assert_eq(qs_k_tier_choose(R | A2 | A5 | VN | AX, NULL, err, sizeof err), QS_TIER_AMX);
    cr_assert_eq(qs_k_tier_choose(R | A2 | A5 | VN | AX, "vnni", err, sizeof err), QS_TIER_VNNI);
    cr_assert_eq(qs_k_tier_choose(R | A2 | A5 | VN, "amx", err, sizeof err), -1);
    cr_assert_str_eq(err, "QSCOPE_KERNELS=amx: this CPU lacks the amx tier (it supports: "
                     "ref avx2 avx512 vnni)");
    for (int t = 0; t < QS_TIER_N; t++)
        cr_assert_eq(qs_k_tier_parse(qs_k_tier_name((qs_tier)t)), t);
}

/* QSCOPE_KERNELS picks the table in this process too (an AVX-512 machine can run the avx2
 * path), and a tier the CPU lacks leaves the library on the best one while
 * qs_kernels_check reports it */
Test(kernels, tier_env)
{
    char err[160];
    setenv("QSCOPE_KERNELS", "ref", 1);
    qs_k_force(NULL);
    cr_assert_eq(qs_k(), qs_k_ref());
    cr_assert_eq(qs_kernels_check(err, sizeof err), 0);
    cr_assert_eq(qs_k_active_tier(), QS_TIER_REF);
    for (int tier = QS_TIER_AVX2; tier < QS_TIER_N; tier++) {
        setenv("QSCOPE_KERNELS", qs_k_tier_name((qs_tier)tier), 1);
        qs_k_force(NULL);
        const qs_kernels *k = qs_k_tier((qs_tier)tier);
        if (k) {
            cr_assert_eq(qs_k(), k);
            cr_assert_eq(qs_k_active_tier(), tier);
            cr_assert_eq(qs_kernels_check(err, sizeof err), 0);
        } else {
            cr_assert_eq(qs_kernels_check(err, sizeof err), -1);
            cr_assert(strstr(err, "lacks") != NULL, "%s", err);
            cr_assert_not_null(qs_k());
        }
    }
    unsetenv("QSCOPE_KERNELS");
    qs_k_force(NULL);
}

Test(kernels, quantize_known_values)
{
    const qs_kernels *t[QT_MAX];
    int nt = tables(t);
    for (int ti = 0; ti < nt; ti++) {
        /* FBGEMM: multiplying by 1/scale gives 127.5 -> 128 -> clipped to 127; dividing
         * gives 127.499992 -> 127 (not clipped) */
        float x = 0.273939937f, scale = 0.00214854861f, inv = 1.0f / scale;
        int32_t zp = 0;
        qs_layout l = { QS_G_TENSOR, 1, 1, 1, 1 };
        qs_qp qp = { &scale, &inv, &zp, -128, 127, 0, QS_R_HALF_EVEN, 0 };
        uint8_t c;
        qs_errstats st;
        t[ti]->quantize(&x, &l, &qp, &c);
        cr_assert_eq((int8_t)c, 127);
        t[ti]->fakequant(&x, &l, &qp, NULL, NULL, &st, NULL);
        cr_assert_eq(st.clipped, 1);
        qp.divide = 1;
        t[ti]->fakequant(&x, &l, &qp, NULL, &c, &st, NULL);
        cr_assert_eq((int8_t)c, 127);
        cr_assert_eq(st.clipped, 0);
        /* [-20, 1000] -> uint8: scale 4, zp 5 (the seed example), 8 values + tail */
        float xs[9] = { -20.0f, 1000.0f, 250.0f, 2.0f, -2.0f, 6.0f, 1e30f, NAN, -INFINITY };
        float s4 = 4.0f, i4 = 0.25f;
        int32_t z5 = 5;
        qs_qp qu = { &s4, &i4, &z5, 0, 255, 0, QS_R_HALF_EVEN, 0 };
        uint8_t cs[9];
        uint8_t want[9] = { 0, 255, 67 /* 62.5 -> 62 */, 5 /* 0.5 -> 0 */, 5 /* -0.5 -> -0 */,
                            7 /* 1.5 -> 2 */, 255, 5, 0 };
        l.len = 9;
        t[ti]->quantize(xs, &l, &qu, cs);
        cr_assert(memcmp(cs, want, 9) == 0, "%s", t[ti]->name);
        qu.round = QS_R_HALF_AWAY;
        t[ti]->quantize(xs, &l, &qu, cs);
        cr_assert_eq(cs[2], 68); cr_assert_eq(cs[3], 6); cr_assert_eq(cs[4], 4);
        qu.round = QS_R_HALF_UP;
        t[ti]->quantize(xs, &l, &qu, cs);
        cr_assert_eq(cs[2], 68); cr_assert_eq(cs[3], 6); cr_assert_eq(cs[4], 5);
        qs_k_force(t[ti]);
        cr_assert_eq(qs_k(), t[ti]);
        qs_k_force(NULL);
    }
}

/* quantize / dequantize / fakequant over every layout, grid, rounding and both tables */
static void run_quant_case(const float *x, const qs_layout *l, int bits, int is_signed,
                           int divide, qs_round rm, int check_rule, const char *lname)
{
    const qs_kernels *t[QT_MAX];
    int nt = tables(t);
    int64_t n = qs_layout_numel(l);
    params p;
    make_params(t[0], x, l, bits, is_signed, divide, rm, &p);
    uint8_t *c0 = malloc((size_t)n + 2), *c1 = malloc((size_t)n + 2);
    float *y0 = malloc((size_t)(n + 1) * sizeof *y0), *y1 = malloc((size_t)(n + 1) * sizeof *y1);
    float *d0 = malloc((size_t)(n + 1) * sizeof *d0);
    uint64_t h0c[64], h1c[64];
    qs_hist h0 = { 64, -0.2, 0.2, h0c, 0, 0, 0 }, h1 = h0;
    h1.counts = h1c;
    qs_errstats s0, s1;
    char tag[160];

    /* ref: the codes follow the rule written out in this file */
    memset(h0c, 0, sizeof h0c);
    t[0]->quantize(x, l, &p.qp, c0 + 1);
    if (check_rule) {
        int64_t step = n > 5000 ? 97 : 1;
        for (int64_t e = 0; e < n; e += step) {
            int64_t pi = qs_layout_index(l, e);
            int clip, q = t_quant(x[e], p.scale[pi], p.inv[pi], p.zp[pi], &p.qp, &clip);
            int got = is_signed ? (int8_t)c0[1 + e] : c0[1 + e];
            if (rm != QS_R_STOCHASTIC)
                cr_assert_eq(got, q, "%s e=%lld x=%.9g: %d vs %d", lname, (long long)e, x[e],
                             got, q);
            else
                cr_assert(got >= p.qp.qmin && got <= p.qp.qmax);
        }
    }
    t[0]->fakequant(x, l, &p.qp, y0 + 1, c1 + 1, &s0, &h0);
    cr_assert(n == 0 || memcmp(c0 + 1, c1 + 1, (size_t)n) == 0, "%s: fakequant codes", lname);
    t[0]->dequantize(c0 + 1, l, &p.qp, d0 + 1);
    cr_assert(same_bits_f(d0 + 1, y0 + 1, n), "%s: fakequant y != dequantize", lname);
    cr_assert_eq(s0.n + s0.n_nan, n);
    {
        /* the error histogram counts every element once but the NaN inputs (left out, as
         * from the statistics): NaN errors in nan, e = y - x below -0.2 in under, above 0.2
         * in over (recounted here from y and x), the rest in the bins */
        uint64_t in_bins = 0, nan = 0, under = 0, over = 0, xnan = 0;
        for (int j = 0; j < 64; j++) in_bins += h0c[j];
        for (int64_t e = 0; e < n; e++) {
            if (isnan(x[e])) { xnan++; continue; }
            float err = y0[1 + e] - x[e];
            if (isnan(err)) nan++;
            else if (err < -0.2) under++;
            else if (err > 0.2) over++;
        }
        cr_assert_eq(in_bins + h0.under + h0.over + h0.nan, (uint64_t)n - xnan,
                     "%s: hist total %llu of %lld", lname,
                     (unsigned long long)(in_bins + h0.under + h0.over + h0.nan), (long long)n);
        cr_assert_eq(h0.nan, nan, "%s: hist nan", lname);
        cr_assert_eq(h0.under, under, "%s: hist under", lname);
        cr_assert_eq(h0.over, over, "%s: hist over", lname);
    }

    for (int ti = 1; ti < nt; ti++) {
        if (is_zemu(t[ti]) && n > ZEMU_MAX) continue;
        snprintf(tag, sizeof tag, "%s %s bits %d %s div %d round %d n %lld", t[ti]->name,
                 lname, bits, is_signed ? "s" : "u", divide, (int)rm, (long long)n);
        memset(h1c, 0, sizeof h1c);
        h1.under = h1.over = h1.nan = 0;
        t[ti]->quantize(x, l, &p.qp, c1 + 1);
        cr_assert(n == 0 || memcmp(c0 + 1, c1 + 1, (size_t)n) == 0, "%s: codes differ", tag);
        memset(c1, 0xAA, (size_t)n + 2);
        t[ti]->fakequant(x, l, &p.qp, y1 + 1, c1 + 1, &s1, &h1);
        cr_assert(n == 0 || memcmp(c0 + 1, c1 + 1, (size_t)n) == 0, "%s: fq codes", tag);
        cr_assert_eq(c1[0], 0xAA, "%s: wrote before codes", tag);
        cr_assert_eq(c1[n + 1], 0xAA, "%s: wrote past codes", tag);
        cr_assert(same_bits_f(y0 + 1, y1 + 1, n), "%s: y differs", tag);
        check_stats(&s0, &s1, tag);
        check_hist(&h0, &h1, tag);
        t[ti]->dequantize(c0 + 1, l, &p.qp, y1 + 1);
        cr_assert(same_bits_f(d0 + 1, y1 + 1, n), "%s: dequantize differs", tag);
        /* without y / codes / histogram */
        t[ti]->fakequant(x, l, &p.qp, NULL, NULL, &s1, NULL);
        check_stats(&s0, &s1, tag);
    }
    free(c0); free(c1); free(y0); free(y1); free(d0);
    free_params(&p);
}

Test(kernels, quantize_small, .timeout = 60)
{
    lcase lc[8];
    for (int si = 0; si < NSIZES - 1; si++) {
        int64_t n = SIZES[si];
        float *x = make_data(n, 1, 7 + (uint64_t)n);
        int nl = layouts_for(n, lc);
        for (int li = 0; li < nl; li++)
            for (int bits = 2; bits <= 8; bits++)
                for (int sg = 0; sg < 2; sg++)
                    for (int dv = 0; dv < 2; dv++)
                        for (int r = 0; r < 4; r++)
                            run_quant_case(x, &lc[li].l, bits, sg, dv, ROUNDS[r], 1, lc[li].name);
        free(x - 1);
    }
}

Test(kernels, quantize_shapes, .timeout = 60)
{
    /* shapes where channel / group runs are long, short and cross the chunk boundary */
    static const int64_t shapes[][3] = { { 3, 5, 67 }, { 7, 100, 1 }, { 40, 9, 3 },
                                         { 2, 70000, 1 }, { 1, 3, 70001 } };
    lcase lc[8];
    for (int s = 0; s < 5; s++) {
        int64_t n = shapes[s][0] * shapes[s][1] * shapes[s][2];
        float *x = make_data(n, 1, 99 + (uint64_t)s);
        int nl = 0;
        for (int ax = 0; ax < 3; ax++) {
            qs_layout_make(3, shapes[s], QS_G_CHANNEL, ax, 0, &lc[nl].l);
            lc[nl++].name = "channel";
        }
        qs_layout_make(3, shapes[s], QS_G_GROUP, 1, 16, &lc[nl].l); lc[nl++].name = "group ax1";
        qs_layout_make(3, shapes[s], QS_G_GROUP, 0, 2, &lc[nl].l); lc[nl++].name = "group ax0";
        for (int li = 0; li < nl; li++)
            for (int r = 0; r < 4; r++)
                run_quant_case(x, &lc[li].l, r % 2 ? 8 : 4, r < 2, r == 3, ROUNDS[r], 1,
                               lc[li].name);
        free(x - 1);
    }
}

Test(kernels, quantize_large, .timeout = 120)
{
    int64_t n = SIZES[NSIZES - 1];
    float *x = make_data(n, 1, 4242);
    lcase lc[8];
    int nl = layouts_for(n, lc);
    for (int li = 0; li < nl; li++)
        for (int r = 0; r < 4; r++)
            run_quant_case(x, &lc[li].l, r == 1 ? 4 : 8, r != 2, r == 1, ROUNDS[r], r == 0,
                           lc[li].name);
    free(x - 1);
}

/* every table: 1 thread and all threads give identical results (stats bit-identical) */
Test(kernels, thread_independence, .timeout = 60)
{
    const qs_kernels *t[QT_MAX];
    int nt = tables(t);
    int64_t n = 3000017;
    float *x = make_data(n, 1, 5);
    qs_layout l = { QS_G_TENSOR, 1, n, 1, 1 };
    qs_layout lg;
    int64_t shp[2] = { 1, n };
    qs_layout_make(2, shp, QS_G_GROUP, 1, 64, &lg);
    params p;
    make_params(t[0], x, &l, 8, 1, 0, QS_R_STOCHASTIC, &p);
    uint8_t *c1 = malloc((size_t)n), *c2 = malloc((size_t)n);
    float *y1 = malloc((size_t)n * sizeof *y1), *y2 = malloc((size_t)n * sizeof *y2);
    int64_t np = qs_layout_nparams(&lg);
    float *m1 = malloc((size_t)np * 2 * sizeof *m1), *m2 = malloc((size_t)np * 2 * sizeof *m2);
    uint64_t hc1[100], hc2[100];
    int all = omp_get_max_threads();
    for (int ti = 0; ti < nt; ti++) {
        qs_errstats s1, s2;
        qs_hist h1 = { 100, -0.1, 0.1, hc1, 0, 0, 0 }, h2 = { 100, -0.1, 0.1, hc2, 0, 0, 0 };
        memset(hc1, 0, sizeof hc1); memset(hc2, 0, sizeof hc2);
        float mn1, mx1, mn2, mx2;
        omp_set_num_threads(1);
        t[ti]->fakequant(x, &l, &p.qp, y1, c1, &s1, &h1);
        t[ti]->minmax(x, n, &mn1, &mx1);
        t[ti]->minmax_layout(x, &lg, m1, m1 + np);
        omp_set_num_threads(all > 1 ? all : 2);
        t[ti]->fakequant(x, &l, &p.qp, y2, c2, &s2, &h2);
        t[ti]->minmax(x, n, &mn2, &mx2);
        t[ti]->minmax_layout(x, &lg, m2, m2 + np);
        omp_set_num_threads(all);
        cr_assert(memcmp(c1, c2, (size_t)n) == 0, "%s codes", t[ti]->name);
        cr_assert(same_bits_f(y1, y2, n), "%s y", t[ti]->name);
        cr_assert(memcmp(&s1, &s2, sizeof s1) == 0, "%s stats not bit-identical", t[ti]->name);
        check_hist(&h1, &h2, t[ti]->name);
        cr_assert(mn1 == mn2 && mx1 == mx2);
        for (int64_t i = 0; i < 2 * np; i++) cr_assert(m1[i] == m2[i]);
    }
    /* stochastic rounding is unbiased on average */
    double bias = 0;
    int64_t cnt = 0;
    for (int64_t e = 0; e < n; e++)
        if (isfinite(x[e]) && fabsf(x[e]) < 1.0f) { bias += (double)y1[e] - x[e]; cnt++; }
    cr_assert(fabs(bias / (double)cnt) < 0.05 * p.scale[0], "stochastic bias %g", bias / (double)cnt);
    free(c1); free(c2); free(y1); free(y2); free(m1); free(m2);
    free_params(&p);
    free(x - 1);
}

/* zero points far outside the code range (|qmin - zp| >= 2^23: the optimized table's general
 * clamp, not the float-range one): the same codes, clip counts and statistics as ref */
Test(kernels, extreme_zero_points)
{
    const qs_kernels *t[QT_MAX];
    int nt = tables(t);
    int64_t n = 5000;
    float *x = make_data(n, 1, 55);
    qs_layout l = { QS_G_TENSOR, 1, n, 1, 1 };
    static const int32_t zps[] = { 1 << 23, -(1 << 23), (1 << 24) + 3, -(1 << 26), 100000 };
    for (int zi = 0; zi < 5; zi++) {
        float sc = 0.01f, inv = 100.0f;
        int32_t zp = zps[zi];
        qs_qp qp = { &sc, &inv, &zp, -128, 127, 0, QS_R_HALF_EVEN, 0 };
        uint8_t *c[QT_MAX];
        qs_errstats st[QT_MAX];
        for (int ti = 0; ti < nt; ti++) c[ti] = malloc((size_t)n);
        for (int ti = 0; ti < nt; ti++) t[ti]->fakequant(x, &l, &qp, NULL, c[ti], &st[ti], NULL);
        for (int ti = 1; ti < nt; ti++) {
            cr_assert(memcmp(c[0], c[ti], (size_t)n) == 0, "zp %d: codes", zp);
            check_stats(&st[0], &st[ti], "extreme zp");
        }
        for (int ti = 0; ti < nt; ti++) free(c[ti]);
    }
    free(x - 1);
}

/* per-tensor outputs past 4M elements take the optimized table's streaming-store path
 * (16-byte aligned y and codes, as malloc gives): same codes, y, stats and histogram as ref */
Test(kernels, large_tensor_stream, .timeout = 120)
{
    const qs_kernels *t[QT_MAX];
    int nt = tables(t);
    int64_t n = ((int64_t)1 << 22) + 45;
    float *x = make_data(n, 1, 777);
    qs_layout l = { QS_G_TENSOR, 1, n, 1, 1 };
    uint8_t *c[QT_MAX];
    float *y[QT_MAX];
    for (int ti = 0; ti < nt; ti++) { c[ti] = malloc((size_t)n); y[ti] = malloc((size_t)n * sizeof(float)); }
    uint8_t *q1 = malloc((size_t)n);
    uint64_t hc[QT_MAX][200];
    for (int r = 0; r < 4; r++) {
        params p;
        make_params(t[0], x, &l, r == 2 ? 4 : 8, r % 2, r == 3, ROUNDS[r], &p);
        qs_errstats s[QT_MAX];
        qs_hist h[QT_MAX];
        for (int ti = 0; ti < nt; ti++) {
            if (is_zemu(t[ti]) && r > 0) continue;  /* emulated: the streaming path once */
            memset(hc[ti], 0, sizeof hc[ti]);
            h[ti] = (qs_hist){ 200, -0.6 * p.scale[0], 0.6 * p.scale[0], hc[ti], 0, 0, 0 };
            t[ti]->fakequant(x, &l, &p.qp, y[ti], c[ti], &s[ti], &h[ti]);
        }
        for (int ti = 1; ti < nt; ti++) {
            if (is_zemu(t[ti]) && r > 0) continue;
            cr_assert(memcmp(c[0], c[ti], (size_t)n) == 0, "round %d: fq codes", r);
            cr_assert(same_bits_f(y[0], y[ti], n), "round %d: y", r);
            check_stats(&s[0], &s[ti], t[ti]->name);
            check_hist(&h[0], &h[ti], t[ti]->name);
            t[ti]->quantize(x, &l, &p.qp, q1);
            cr_assert(memcmp(c[0], q1, (size_t)n) == 0, "round %d: quantize codes", r);
            t[0]->dequantize(c[0], &l, &p.qp, y[0]);
            t[ti]->dequantize(c[0], &l, &p.qp, y[ti]);
            cr_assert(same_bits_f(y[0], y[ti], n), "round %d: dequantize", r);
        }
        free_params(&p);
    }
    for (int ti = 0; ti < nt; ti++) { free(c[ti]); free(y[ti]); }
    free(q1);
    free(x - 1);
}

/* the test's own histogram bin of a double value, numpy.histogram's rule written out as a
 * search: edges as np.linspace(lo, hi, bins + 1) computes them (i·step + lo, hi last), bin i
 * holds edge_i <= v < edge_i+1, the last bin hi too; -1 under, -2 over, -3 NaN */
static int64_t t_bin(double v, const qs_hist *h)
{
    if (isnan(v)) return -3;
    if (v < h->lo) return -1;
    if (v > h->hi) return -2;
    if (!(h->hi > h->lo)) return 0;
    volatile double step = (h->hi - h->lo) / (double)h->bins;
    int64_t lo = 0, hi = h->bins - 1;          /* the largest i < bins with edge_i <= v */
    while (lo < hi) {
        int64_t mid = (lo + hi + 1) / 2;
        volatile double ip = (double)mid * step;
        double edge = ip + h->lo;
        if (edge <= v) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

/* The optimized fused pass sums in float per 64 elements and bins errors in float, falling
 * back to double near a bin edge; its maximum |e| stays exact. Errors placed exactly on the
 * bin edges of many ranges, and one and two float steps off them, plus clipped values whose
 * error float cannot hold (1e30 next to a small y), NaN, ±Inf and subnormals: histograms
 * identical to ref and to the rule written out here, max |e| identical, sums within
 * QS_K_SUM_RTOL of sums computed here. */
Test(kernels, fused_edges, .timeout = 60)
{
    const qs_kernels *t[QT_MAX];
    int nt = tables(t);
    const int64_t n = 40000;
    static const struct { int bins; double lo, hi; } R[] = {
        { 256, -0.005, 0.005 }, { 128, -0.00499, 0.00499 }, { 10, -0.003, 0.007 },
        { 1000, -0.006, 0.004 }, { 16384, -0.005, 0.005 }, { 7, -2.0, 0.5 },
        { 64, -1e3, 1e3 }, { 3, 0.001, 0.002 }, { 200, -0.0031, -0.0001 } };
    const int nr = (int)(sizeof R / sizeof R[0]);
    float *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * sizeof *y);
    float sc = 0.01f, inv = 100.0f;
    int32_t zp = 0;
    qs_qp qp = { &sc, &inv, &zp, -128, 127, 0, QS_R_HALF_EVEN, 0 };
    qs_layout l = { QS_G_TENSOR, 1, n, 1, 1 };
    uint64_t *c[QT_MAX], *mine = malloc(16384 * sizeof *mine);
    for (int ti = 0; ti < nt; ti++) c[ti] = malloc(16384 * sizeof *c[ti]);
    for (int r = 0; r < nr; r++) {
        rng_state = 1000 + (uint64_t)r;
        double w = (R[r].hi - R[r].lo) / R[r].bins;
        for (int64_t i = 0; i < n; i++) {
            uint32_t k = rnd() % 100;
            float v;
            if (k < 85) {           /* y = q·sc, e = y - x on an edge, ±0..2 float steps */
                int q = (int)(rnd() % 241) - 120;
                double edge = R[r].lo + w * (double)(rnd() % (uint32_t)(R[r].bins + 1));
                v = (float)((double)((float)q * sc) - edge);
                int steps = (int)(rnd() % 5) - 2;
                for (; steps > 0; steps--) v = nextafterf(v, INFINITY);
                for (; steps < 0; steps++) v = nextafterf(v, -INFINITY);
            } else if (k < 90) {
                static const float big[] = { 1e30f, -1e30f, 3e38f, -3e38f, 5.0f, -7.5f,
                                             1.2800001f, -1.2850001f };
                v = big[rnd() % 8];
            } else if (k < 93) {
                v = (rnd() % 2 ? 1.0f : -1.0f) * 1e-40f * (float)(rnd() % 100);
            } else if (k < 95) {
                v = k == 93 ? NAN : (rnd() % 2 ? INFINITY : -INFINITY);
            } else {
                v = (frnd() - 0.5f) * 2.0f;
            }
            x[i] = v;
        }
        qs_errstats s[QT_MAX];
        qs_hist h[QT_MAX];
        for (int ti = 0; ti < nt; ti++) {
            memset(c[ti], 0, 16384 * sizeof *c[ti]);
            h[ti] = (qs_hist){ R[r].bins, R[r].lo, R[r].hi, c[ti], 0, 0, 0 };
            t[ti]->fakequant(x, &l, &qp, y, NULL, &s[ti], &h[ti]);
        }
        /* the rule written out: bins, max |e| and sums from x and y in double */
        qs_hist hm = { R[r].bins, R[r].lo, R[r].hi, mine, 0, 0, 0 };
        memset(mine, 0, 16384 * sizeof *mine);
        double sx2 = 0, sy2 = 0, sxy = 0, se = 0, se2 = 0, mx = 0;
        int64_t cnt = 0;
        for (int64_t i = 0; i < n; i++) {
            if (isnan(x[i])) continue;
            double xd = x[i], yd = y[i], e = yd - xd;
            int64_t b = t_bin(e, &hm);
            if (b >= 0) mine[b]++;
            else if (b == -1) hm.under++;
            else if (b == -2) hm.over++;
            else hm.nan++;
            if (fabs(e) > mx) mx = fabs(e);
            sx2 += xd * xd; sy2 += yd * yd; sxy += xd * yd; se += e; se2 += e * e;
            cnt++;
        }
        char tg[96];
        for (int ti = 0; ti < nt; ti++) {
            snprintf(tg, sizeof tg, "fused_edges %s range %d", t[ti]->name, r);
            check_hist(&hm, &h[ti], tg);
            cr_assert_eq(s[ti].n, cnt, "%s n", tg);
            cr_assert(s[ti].max_abs_e == mx, "%s max_abs_e %.17g vs %.17g", tg,
                      s[ti].max_abs_e, mx);
        }
        if (r == 0) {
            /* finite copy: sums against the direct double sums */
            for (int64_t i = 0; i < n; i++) if (!isfinite(x[i]) || fabsf(x[i]) > 1e3f) x[i] = 0.75f;
            sx2 = sy2 = sxy = se = se2 = 0;
            for (int ti = 0; ti < nt; ti++) {
                t[ti]->fakequant(x, &l, &qp, y, NULL, &s[ti], NULL);
                if (ti == 0)
                    for (int64_t i = 0; i < n; i++) {
                        double xd = x[i], yd = y[i], e = yd - xd;
                        sx2 += xd * xd; sy2 += yd * yd; sxy += xd * yd; se += e; se2 += e * e;
                    }
                snprintf(tg, sizeof tg, "fused_edges sums %s", t[ti]->name);
                check_sum(s[ti].sum_x2, sx2, 0, "sum_x2", tg);
                check_sum(s[ti].sum_y2, sy2, 0, "sum_y2", tg);
                check_sum(s[ti].sum_xy, sxy, fmax(sx2, sy2), "sum_xy", tg);
                check_sum(s[ti].sum_e, se, sqrt(se2 * (double)(n + 1)), "sum_e", tg);
                check_sum(s[ti].sum_e2, se2, 0, "sum_e2", tg);
            }
        }
    }
    /* two errors float cannot tell apart (3e7 - 1.28 and 3e7 - 1.27 both round to 29999998)
     * in blocks far apart: the later, larger one is the maximum */
    for (int64_t i = 0; i < n; i++) x[i] = 0.001f * (float)(i % 7);
    x[100] = -3e7f;
    x[30000] = 3e7f;
    double want = 3e7 - (double)(127 * sc);
    for (int ti = 0; ti < nt; ti++) {
        qs_errstats st;
        t[ti]->fakequant(x, &l, &qp, NULL, NULL, &st, NULL);
        cr_assert(st.max_abs_e == want, "%s max_abs_e %.17g vs %.17g", t[ti]->name,
                  st.max_abs_e, want);
    }
    /* squares beyond float (|x| >= 2^64) and below it (all |x| ~ 1e-25, where float squares
     * underflow): sums as in double */
    for (int cs = 0; cs < 2; cs++) {
        float s2 = cs == 0 ? 1e18f : 1e-26f, i2 = 1.0f / s2;
        qs_qp q2 = { &s2, &i2, &zp, -128, 127, 0, QS_R_HALF_EVEN, 0 };
        rng_state = 77 + (uint64_t)cs;
        for (int64_t i = 0; i < n; i++) x[i] = (frnd() - 0.5f) * 200.0f * s2;
        double sx2 = 0, sy2 = 0, sxy = 0, se = 0, se2 = 0;
        char tg[96];
        for (int ti = 0; ti < nt; ti++) {
            qs_errstats st;
            t[ti]->fakequant(x, &l, &q2, y, NULL, &st, NULL);
            if (ti == 0)
                for (int64_t i = 0; i < n; i++) {
                    double xd = x[i], yd = y[i], e = yd - xd;
                    sx2 += xd * xd; sy2 += yd * yd; sxy += xd * yd; se += e; se2 += e * e;
                }
            snprintf(tg, sizeof tg, "fused_edges scale %g %s", (double)s2, t[ti]->name);
            cr_assert(isfinite(st.sum_x2) && sx2 > 0 && st.sum_e2 > 0, "%s", tg);
            check_sum(st.sum_x2, sx2, 0, "sum_x2", tg);
            check_sum(st.sum_y2, sy2, 0, "sum_y2", tg);
            check_sum(st.sum_xy, sxy, fmax(sx2, sy2), "sum_xy", tg);
            check_sum(st.sum_e, se, sqrt(se2 * (double)(n + 1)), "sum_e", tg);
            check_sum(st.sum_e2, se2, 0, "sum_e2", tg);
        }
    }
    for (int ti = 0; ti < nt; ti++) free(c[ti]);
    free(mine); free(x); free(y);
}

/* histogram ranges for both of the optimized table's classifications (bins/(hi-lo) >= 1 and
 * < 1, empty and reversed ranges), with values exactly at and next to the edges, NaN, ±Inf:
 * hist and the error histogram of errstats count exactly as ref */
Test(kernels, hist_ranges, .timeout = 60)
{
    const qs_kernels *t[QT_MAX];
    int nt = tables(t);
    static const struct { int bins; double lo, hi; } R[] = {
        { 37, -2.0, 3.0 }, { 10, -100.0, 100.0 }, { 4, 0.0, 1.0 }, { 8, -1e-3, 1e-3 },
        { 3, 0.5, 0.5 }, { 5, 1.0, -1.0 }, { 1, -0.25, 0.25 }, { 256, -4.0, 4.0 },
        /* 0 on or next to numpy's edges (edge 1 of the first is 1.4e-17) */
        { 3, -0.1, 0.2 }, { 40, -6.0, 6.0 }, { 30, -29.0, 29.75 }, { 2, -0.3, 0.3 } };
    int nr = (int)(sizeof R / sizeof R[0]);
    int64_t n = 20000;
    float *x = make_data(n, 1, 31), *y = make_data(n, 1, 32);
    for (int r = 0; r < nr; r++) {
        /* edges: lo, hi, their float neighbours, bin boundaries */
        for (int64_t i = 0; i < 400; i++) {
            float lo = (float)R[r].lo, hi = (float)R[r].hi;
            float w = (hi - lo) / (float)R[r].bins;
            float v = i % 6 == 0 ? lo : i % 6 == 1 ? hi : i % 6 == 2 ? nextafterf(lo, -INFINITY)
                    : i % 6 == 3 ? nextafterf(hi, INFINITY) : lo + w * (float)(i % 17);
            x[i * 37 % n] = v;
            y[i * 53 % n] = 0.0f;
        }
        /* zeros and the smallest subnormals, in runs (whole vectors) and alone */
        for (int64_t i = 0; i < 600; i++)
            x[(i * 41 + 7) % n] = i % 5 == 0 ? 0x1p-149f : i % 5 == 1 ? -0x1p-149f
                                : i % 5 == 2 ? -0.0f : 0.0f;
        for (int64_t i = 1000; i < 1064; i++) x[i] = 0.0f;
        uint64_t c0[256], c1[256];
        qs_hist h0 = { R[r].bins, R[r].lo, R[r].hi, c0, 0, 0, 0 };
        memset(c0, 0, sizeof c0);
        t[0]->hist(x, n, &h0);
        {
            uint64_t w[256] = { 0 };
            for (int64_t i = 0; i < n; i++) {
                int64_t b = t_bin(x[i], &h0);
                if (b >= 0) w[b]++;
            }
            for (int b = 0; b < R[r].bins && R[r].hi > R[r].lo; b++)
                cr_assert_eq(c0[b], w[b], "hist_ranges r=%d bin %d: ref %llu, numpy's rule %llu",
                             r, b, (unsigned long long)c0[b], (unsigned long long)w[b]);
        }
        qs_hist e0 = h0, e1;
        uint64_t ec0[256], ec1[256];
        memset(ec0, 0, sizeof ec0);
        e0.counts = ec0; e0.under = e0.over = e0.nan = 0;
        qs_errstats s0, s1;
        t[0]->errstats(x, y, n, &s0, &e0);
        for (int ti = 1; ti < nt; ti++) {
            qs_hist h1 = { R[r].bins, R[r].lo, R[r].hi, c1, 0, 0, 0 };
            memset(c1, 0, sizeof c1);
            t[ti]->hist(x, n, &h1);
            char tg[64];
            snprintf(tg, sizeof tg, "hist_ranges hist r=%d", r);
            check_hist(&h0, &h1, tg);
            e1 = h1;
            memset(ec1, 0, sizeof ec1);
            e1.counts = ec1; e1.under = e1.over = e1.nan = 0;
            t[ti]->errstats(x, y, n, &s1, &e1);
            check_hist(&e0, &e1, "hist_ranges errstats");
        }
    }
    free(x - 1); free(y - 1);
}

/* Values on a grid that meets the edges of a range whose step is not a binary fraction:
 * the product (v - lo)·bins/(hi - lo) puts some of the values that sit exactly on an edge in
 * the bin below it; numpy.histogram checks against its edges. The counts of k/8 for k =
 * -232..238 in 30 bins over [-29, 29.75] are numpy's (1.24: np.histogram(np.arange(-232,
 * 239)/8, bins=30, range=(-29, 29.75))); every table's hist and error histogram (errors
 * y - x with y = 0) must give them, and the rule written out above must too. */
Test(kernels, hist_numpy_grid, .timeout = 60)
{
    static const uint64_t np_counts[30] = { 16, 16, 15, 16, 16, 15, 16, 16, 15, 16,
                                            16, 15, 16, 16, 15, 16, 16, 15, 16, 16,
                                            15, 16, 16, 15, 16, 16, 15, 16, 16, 16 };
    const qs_kernels *t[QT_MAX];
    int nt = tables(t);
    /* the values in a scrambled order, 16 times over (the vector paths see every lane and
     * block position), plus one misaligned copy */
    int64_t nv = 471, n = 16 * nv + 3;
    float *buf = malloc((size_t)(n + 1) * sizeof *buf), *x = buf + 1;
    float *y = calloc((size_t)n, sizeof *y), *xn = malloc((size_t)n * sizeof *xn);
    for (int64_t i = 0; i < n; i++) {
        int64_t k = (i * 97) % nv;
        x[i] = (float)(k - 232) / 8.0f;
        xn[i] = -x[i];                  /* errors y - x = -x: the same values */
    }
    qs_hist want = { 30, -29.0, 29.75, NULL, 0, 0, 0 };
    uint64_t w[30] = { 0 };
    int64_t moved = 0;                  /* values the product alone would misplace */
    for (int64_t i = 0; i < n; i++) {
        int64_t b = t_bin(x[i], &want);
        cr_assert(b >= 0);
        w[b]++;
        int64_t p = (int64_t)((x[i] + 29.0) * (30.0 / 58.75));
        moved += (p > 29 ? 29 : p) != b;
    }
    cr_assert_gt(moved, 0, "the grid does not exercise the edge check");
    /* the first 16·471 values are 16 copies: numpy's counts times 16, + the 3 extra */
    uint64_t extra[30] = { 0 };
    for (int64_t i = 16 * nv; i < n; i++) extra[t_bin(x[i], &want)]++;
    for (int b = 0; b < 30; b++)
        cr_assert_eq(w[b], 16 * np_counts[b] + extra[b], "rule vs numpy, bin %d", b);
    for (int ti = 0; ti < nt; ti++) {
        uint64_t c[30] = { 0 }, ec[30] = { 0 };
        qs_hist h = { 30, -29.0, 29.75, c, 0, 0, 0 }, eh = { 30, -29.0, 29.75, ec, 0, 0, 0 };
        t[ti]->hist(x, n, &h);
        qs_errstats st;
        t[ti]->errstats(xn, y, n, &st, &eh);
        /* the fused pass: a scale so large that every code is 0, so y = 0 and e = -xn = x */
        uint64_t fc[30] = { 0 };
        qs_hist fh = { 30, -29.0, 29.75, fc, 0, 0, 0 };
        float sc = 1e6f, inv = 1e-6f;
        int32_t zp = 0;
        qs_layout l = { QS_G_TENSOR, 1, n, 1, 1 };
        qs_qp qp = { &sc, &inv, &zp, -128, 127, 0, QS_R_HALF_EVEN, 0 };
        t[ti]->fakequant(xn, &l, &qp, NULL, NULL, &st, &fh);
        for (int b = 0; b < 30; b++) {
            cr_assert_eq(c[b], w[b], "%s hist bin %d: %llu, numpy's rule %llu", t[ti]->name, b,
                         (unsigned long long)c[b], (unsigned long long)w[b]);
            cr_assert_eq(ec[b], w[b], "%s error histogram bin %d", t[ti]->name, b);
            cr_assert_eq(fc[b], w[b], "%s fused pass's histogram bin %d", t[ti]->name, b);
        }
        cr_assert(h.under == 0 && h.over == 0 && eh.under == 0 && eh.over == 0 &&
                  fh.under == 0 && fh.over == 0);
    }
    free(buf); free(y); free(xn);
}

/* The bias Σe = Σ(y - x) is a signed sum whose terms cancel: bounded relative to Σ|e| alone,
 * a mean error moved in its 5th digit (float lanes). Without clipping (and with nearest
 * rounding) every e = y - x is exact in float, so the optimized tables' Σe must match the
 * sum in long double here to double accuracy, 1e-12 of Σ|e|. */
Test(kernels, sum_e_double, .timeout = 60)
{
    const qs_kernels *t[QT_MAX];
    int nt = tables(t);
    int64_t n = 300007;
    float *x = make_data(n, 0, 77);
    qs_layout l = { QS_G_TENSOR, 1, n, 1, 1 };
    for (int bits = 4; bits <= 8; bits += 3) {
        params p;
        make_params(t[0], x, &l, bits, 1, 0, QS_R_HALF_EVEN, &p);
        float *y = malloc((size_t)n * sizeof *y);
        qs_errstats st;
        t[0]->fakequant(x, &l, &p.qp, y, NULL, &st, NULL);
        cr_assert_eq(st.clipped, 0, "the case must not clip");
        long double se = 0.0L, sa = 0.0L;
        for (int64_t i = 0; i < n; i++) {
            se += (long double)y[i] - (long double)x[i];
            sa += fabsl((long double)y[i] - (long double)x[i]);
        }
        for (int ti = 0; ti < nt; ti++) {
            t[ti]->fakequant(x, &l, &p.qp, NULL, NULL, &st, NULL);
            cr_assert(fabsl((long double)st.sum_e - se) <= 1e-12L * sa,
                      "%s bits=%d: sum_e %.17g, long double %.17Lg (Σ|e| %.6Lg)", t[ti]->name,
                      bits, st.sum_e, se, sa);
        }
        free(y);
        free_params(&p);
    }
    free(x - 1);
}

Test(kernels, minmax_and_hist, .timeout = 60)
{
    const qs_kernels *t[QT_MAX];
    int nt = tables(t);
    lcase lc[8];
    for (int si = 0; si < NSIZES; si++) {
        int64_t n = SIZES[si];
        float *x = make_data(n, 1, 11 + (uint64_t)n);
        /* the rule: min / max ignoring NaN */
        float wmn = INFINITY, wmx = -INFINITY;
        for (int64_t e = 0; e < n; e++) { if (x[e] < wmn) wmn = x[e]; if (x[e] > wmx) wmx = x[e]; }
        int nl = layouts_for(n, lc);
        for (int ti = 0; ti < nt; ti++) {
            float mn, mx;
            t[ti]->minmax(x, n, &mn, &mx);
            cr_assert(mn == wmn && mx == wmx, "%s minmax n=%lld", t[ti]->name, (long long)n);
            for (int li = 0; li < nl; li++) {
                int64_t np = qs_layout_nparams(&lc[li].l);
                float *a = malloc((size_t)np * 2 * sizeof *a), *b = malloc((size_t)np * 2 * sizeof *b);
                for (int64_t i = 0; i < np; i++) { b[i] = INFINITY; b[np + i] = -INFINITY; }
                for (int64_t e = 0; e < n; e++) {
                    int64_t i = qs_layout_index(&lc[li].l, e);
                    if (x[e] < b[i]) b[i] = x[e];
                    if (x[e] > b[np + i]) b[np + i] = x[e];
                }
                t[ti]->minmax_layout(x, &lc[li].l, a, a + np);
                for (int64_t i = 0; i < 2 * np; i++)
                    cr_assert(a[i] == b[i], "%s minmax_layout %s n=%lld p=%lld", t[ti]->name,
                              lc[li].name, (long long)n, (long long)i);
                free(a); free(b);
            }
            /* histogram: the rule, closed last bin; hist adds (no clear) */
            uint64_t c[37] = { 0 }, w[37] = { 0 };
            qs_hist h = { 37, -2.0, 3.0, c, 5, 0, 0 };
            uint64_t wu = 5, wo = 0, wn = 0;
            for (int64_t e = 0; e < n; e++) {
                double v = x[e];
                if (isnan(v)) wn++;
                else if (v < -2.0) wu++;
                else if (v > 3.0) wo++;
                else w[t_bin(v, &h)]++;
            }
            t[ti]->hist(x, n, &h);
            cr_assert(h.under == wu && h.over == wo && h.nan == wn, "%s hist oob", t[ti]->name);
            cr_assert(memcmp(c, w, sizeof c) == 0, "%s hist n=%lld", t[ti]->name, (long long)n);
        }
        free(x - 1);
    }
    /* hi itself falls in the last bin; all-NaN minmax */
    for (int ti = 0; ti < nt; ti++) {
        float v[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 }, mn, mx, nn[3] = { NAN, NAN, NAN };
        uint64_t c[4] = { 0 };
        qs_hist h = { 4, 0.0, 1.0, c, 0, 0, 0 };
        t[ti]->hist(v, 9, &h);
        cr_assert_eq(c[3], 9);
        t[ti]->minmax(nn, 3, &mn, &mx);
        cr_assert(isinf(mn) && mn > 0 && isinf(mx) && mx < 0);
    }
}

Test(kernels, errstats)
{
    const qs_kernels *t[QT_MAX];
    int nt = tables(t);
    for (int si = 0; si < NSIZES; si++) {
        int64_t n = SIZES[si];
        float *x = make_data(n, 1, 3 + (uint64_t)n), *y = make_data(n, 1, 4 + (uint64_t)n);
        uint64_t c0[50], c1[50];
        qs_hist h0 = { 50, -1, 1, c0, 0, 0, 0 };
        qs_errstats s0, s1;
        memset(c0, 0, sizeof c0);
        t[0]->errstats(x, y, n, &s0, &h0);
        cr_assert_eq(s0.clipped, 0);
        cr_assert_eq(s0.n + s0.n_nan, n);
        for (int ti = 1; ti < nt; ti++) {
            qs_hist h1 = { 50, -1, 1, c1, 0, 0, 0 };
            memset(c1, 0, sizeof c1);
            t[ti]->errstats(x, y, n, &s1, &h1);
            check_stats(&s0, &s1, "errstats");
            check_hist(&h0, &h1, "errstats");
        }
        /* finite data: compare with a direct double computation */
        for (int64_t e = 0; e < n; e++) { if (!isfinite(x[e])) x[e] = 0.5f; if (!isfinite(y[e])) y[e] = -0.25f; }
        double sx2 = 0, se = 0, se2 = 0, mx = 0;
        for (int64_t e = 0; e < n; e++) {
            double d = (double)y[e] - x[e];
            sx2 += (double)x[e] * x[e]; se += d; se2 += d * d; mx = fmax(mx, fabs(d));
        }
        for (int ti = 0; ti < nt; ti++) {
            t[ti]->errstats(x, y, n, &s1, NULL);
            check_sum(s1.sum_x2, sx2, 0, "sum_x2 direct", t[ti]->name);
            check_sum(s1.sum_e2, se2, 0, "sum_e2 direct", t[ti]->name);
            check_sum(s1.sum_e, se, sqrt(se2 * (double)(n + 1)), "sum_e direct", t[ti]->name);
            cr_assert_eq(s1.max_abs_e, mx);
        }
        free(x - 1); free(y - 1);
    }
}

static uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

Test(kernels, fp16_bf16, .timeout = 60)
{
    const qs_kernels *t[QT_MAX];
    int nt = tables(t);
    /* every half → float; every half's float → half round-trips */
    uint16_t *h = malloc(65536 * 2 + 2), *h2 = malloc(65536 * 2 + 2);
    float *f0 = malloc(65537 * 4), *f1 = malloc(65537 * 4);
    for (int i = 0; i < 65536; i++) h[i + 1] = (uint16_t)i;
    t[0]->f16_to_f32(h + 1, 65536, f0 + 1);
    cr_assert_eq(f2u(f0[1 + 0x4752]), f2u(7.3203125f));
    cr_assert_eq(f0[1 + 0x3c00], 1.0f);
    cr_assert_eq(f0[1 + 0x0001], 0x1p-24f);
    cr_assert_eq(f0[1 + 0x7c00], INFINITY);
    for (int ti = 0; ti < nt; ti++) {
        t[ti]->f16_to_f32(h + 1, 65536, f1 + 1);
        cr_assert(same_bits_f(f0 + 1, f1 + 1, 65536), "%s f16->f32", t[ti]->name);
        t[ti]->f32_to_f16(f1 + 1, 65536, h2 + 1);
        for (int i = 0; i < 65536; i++) {
            int nan = (i & 0x7c00) == 0x7c00 && (i & 0x3ff);
            if (nan) cr_assert_eq(h2[i + 1], i | 0x200);
            else cr_assert_eq(h2[i + 1], i, "%s half %04x -> %04x", t[ti]->name, i, h2[i + 1]);
        }
    }
    free(h); free(h2); free(f0); free(f1);
    /* random float bit patterns, exact halfway cases and specials */
    for (int si = 0; si < NSIZES; si++) {
        int64_t n = SIZES[si];
        float *x = malloc((size_t)(n + 1) * 4);
        uint16_t *a = malloc((size_t)(n + 1) * 2), *b = malloc((size_t)(n + 1) * 2);
        float *ya = malloc((size_t)(n + 1) * 4), *yb = malloc((size_t)(n + 1) * 4);
        rng_state = 77;
        for (int64_t e = 0; e < n; e++) {
            uint32_t r = rnd() ^ (rnd() << 16);
            if (e % 4 == 1) r = (r & 0xffffe000u) | 0x1000u;        /* f16 tie */
            if (e % 4 == 2) r = (r & 0xffff0000u) | 0x8000u;        /* bf16 tie */
            if (e % 4 == 3) r = (r & 0x87ffffffu) | 0x38000000u;    /* near f16 range */
            x[e + 1] = u2f(r);
        }
        if (n > 5) { x[1] = NAN; x[2] = INFINITY; x[3] = -INFINITY; x[4] = 65520.0f; x[5] = 65519.99f; }
        t[0]->f32_to_f16(x + 1, n, a + 1);
        t[0]->f32_to_bf16(x + 1, n, b + 1);
        for (int64_t e = 0; e < n; e++) {       /* the bf16 formula from REFERENCE.md */
            uint32_t u = f2u(x[e + 1]);
            uint16_t want = (u & 0x7fffffffu) > 0x7f800000u ? (uint16_t)((u | 0x400000u) >> 16)
                          : (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
            cr_assert_eq(b[e + 1], want);
        }
        if (n > 5) { cr_assert_eq(a[4], 0x7c00); cr_assert_eq(a[5], 0x7bff); }
        for (int ti = 1; ti < nt; ti++) {
            uint16_t *c = malloc((size_t)(n + 1) * 2);
            t[ti]->f32_to_f16(x + 1, n, c + 1);
            cr_assert(n == 0 || memcmp(a + 1, c + 1, (size_t)n * 2) == 0, "%s f32->f16", t[ti]->name);
            t[ti]->f32_to_bf16(x + 1, n, c + 1);
            cr_assert(n == 0 || memcmp(b + 1, c + 1, (size_t)n * 2) == 0, "%s f32->bf16", t[ti]->name);
            t[0]->bf16_to_f32(b + 1, n, ya + 1);
            t[ti]->bf16_to_f32(b + 1, n, yb + 1);
            cr_assert(same_bits_f(ya + 1, yb + 1, n), "%s bf16->f32", t[ti]->name);
            t[0]->f16_to_f32(a + 1, n, ya + 1);
            t[ti]->f16_to_f32(a + 1, n, yb + 1);
            cr_assert(same_bits_f(ya + 1, yb + 1, n), "%s f16->f32", t[ti]->name);
            free(c);
        }
        free(x); free(a); free(b); free(ya); free(yb);
    }
}

static const float NF4[16] = {
    -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
    -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
    0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
    0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f };

Test(kernels, cb4, .timeout = 60)
{
    const qs_kernels *t[QT_MAX];
    int nt = tables(t);
    static const int blocks[] = { 64, 7, 32, 256 };
    for (int si = 0; si < NSIZES; si++)
        for (int bi = 0; bi < 4; bi++) {
            int64_t n = SIZES[si];
            int block = blocks[bi];
            int64_t nb = (n + block - 1) / block, nby = (n + 1) / 2;
            float *x = make_data(n, 0, 21 + (uint64_t)n);
            if (n > 40) { x[3] = NAN; for (int e = 64; e < 128 && e < n; e++) x[e] = 0.0f; }
            uint8_t *p0 = malloc((size_t)nby + 1), *p1 = malloc((size_t)nby + 1);
            float *a0 = malloc((size_t)nb * 4 + 4), *a1 = malloc((size_t)nb * 4 + 4);
            float *y0 = malloc((size_t)n * 4 + 4), *y1 = malloc((size_t)n * 4 + 4);
            t[0]->cb4_encode(x, n, block, NF4, p0, a0);
            /* the rule: nearest entry, midpoint → lower */
            for (int64_t e = 0; e < n; e += (n > 5000 ? 13 : 1)) {
                float am = a0[e / block];
                float v = x[e] * (am > 0 ? 1.0f / am : 0.0f);
                int best = 0;
                for (int k = 1; k < 16; k++) if (v > (NF4[k - 1] + NF4[k]) * 0.5f) best = k;
                int got = e % 2 == 0 ? p0[e / 2] >> 4 : p0[e / 2] & 15;
                cr_assert_eq(got, best, "cb4 e=%lld", (long long)e);
            }
            if (n % 2 == 1) cr_assert_eq(p0[n / 2] & 15, 0, "pad nibble");
            t[0]->cb4_decode(p0, a0, n, block, NF4, y0);
            for (int ti = 1; ti < nt; ti++) {
                t[ti]->cb4_encode(x, n, block, NF4, p1, a1);
                cr_assert(nby == 0 || memcmp(p0, p1, (size_t)nby) == 0, "%s cb4 codes n=%lld block=%d", t[ti]->name, (long long)n, block);
                cr_assert(same_bits_f(a0, a1, nb), "%s cb4 absmax", t[ti]->name);
                t[ti]->cb4_decode(p0, a0, n, block, NF4, y1);
                cr_assert(same_bits_f(y0, y1, n), "%s cb4 decode", t[ti]->name);
            }
            free(x - 1); free(p0); free(p1); free(a0); free(a1); free(y0); free(y1);
        }
}

/* bitsandbytes' FP4: dQuantizeFP4 written out (its tree of > against its decimal pivots, the
 * sign from x < 0), then the sorted-table index the kernels store for that code. Values on
 * and around every pivot, zeros of both signs, NaN, the extremes: every table gives it. */
static int t_bnb_fp4(float x)
{
    int sign = x < 0 ? 8 : 0;
    x = fabsf(x);
    if (x > 0.29166667f)
        return (x > 0.583333f ? (x > 0.8333333f ? 3 : 2) : (x > 0.4166667f ? 5 : 4)) + sign;
    if (x > 0.0859375f) return (x > 0.20833333f ? 7 : 6) + sign;
    return (x > 0.00260417f ? 1 : 0) + sign;
}
Test(kernels, cb4_fp4_bitsandbytes, .timeout = 60)
{
    /* the table sorted as qparams.c sorts it (-0 before +0), and its codes */
    static const float by_code[16] = {
        0.0f / 12, 0.0625f / 12, 8.0f / 12, 12.0f / 12, 4.0f / 12, 6.0f / 12, 2.0f / 12,
        3.0f / 12, -0.0f / 12, -0.0625f / 12, -8.0f / 12, -12.0f / 12, -4.0f / 12, -6.0f / 12,
        -2.0f / 12, -3.0f / 12 };
    static const int order[16] = { 11, 10, 13, 12, 15, 14, 9, 8, 0, 1, 6, 7, 4, 5, 2, 3 };
    float table[16];
    for (int i = 0; i < 16; i++) table[i] = by_code[order[i]];
    static const float piv[7] = { 0.00260417f, 0.0859375f, 0.20833333f, 0.29166667f,
                                  0.4166667f, 0.583333f, 0.8333333f };
    const qs_kernels *t[QT_MAX];
    int nt = tables(t);
    /* blocks of 64 led by 1.0 (absmax 1: v = x); the rest: pivots and neighbours ±, 0, -0 */
    int64_t n = 64 * 40;
    float *x = malloc((size_t)n * sizeof *x);
    int64_t k = 0;
    for (int64_t e = 0; e < n; e++) {
        if (e % 64 == 0) { x[e] = e % 128 == 0 ? 1.0f : -1.0f; continue; }
        float p = piv[k % 7], v;
        int off = (int)(k / 7 % 9) - 4;                 /* -4..4 ulps */
        v = p;
        for (int i = 0; i < (off < 0 ? -off : off); i++) v = nextafterf(v, off < 0 ? 0.0f : 2.0f);
        if (k % 11 == 3) v = 0.0f;
        if (k % 13 == 5) v = -0.0f;
        if (k % 17 == 7) v = NAN;
        x[e] = k % 2 ? -v : v;
        k++;
    }
    uint8_t *p = malloc((size_t)n / 2);
    float am[40];
    for (int ti = 0; ti < nt; ti++) {
        t[ti]->cb4_encode(x, n, 64, table, p, am);
        for (int64_t e = 0; e < n; e++) {
            int idx = e % 2 == 0 ? p[e / 2] >> 4 : p[e / 2] & 15;
            int want = t_bnb_fp4(isnan(x[e]) ? x[e] : x[e] / 1.0f);
            cr_assert_eq(order[idx], want, "%s x=%.9g: code %d, bitsandbytes %d", t[ti]->name,
                         (double)x[e], order[idx], want);
        }
    }
    free(x); free(p);
}

/* ---- GEMM -------------------------------------------------------------------------------- */

/* every table of gemm_tables() whose name contains `only` (NULL: all) against the int64 sum
 * truncated to int32 (_ref's rule), on unaligned pointers with padded rows */
static void check_gemm_u8s8_some(const char *only, int64_t M, int64_t N, int64_t K, int extreme,
                                 int32_t azp, int32_t bzp)
{
    const qs_kernels *t[QT_MAX];
    int nt = gemm_tables(t);
    int64_t lda = K + 3, ldb = K + 1, ldc = N + 2;
    uint8_t *A = malloc((size_t)(M * lda) + 1);
    int8_t *B = malloc((size_t)(N * ldb) + 1);
    int32_t *C = malloc((size_t)(M * ldc) * 4 + 4), *want = malloc((size_t)(M * N) * 4);
    rng_state = (uint64_t)(M * 31 + N * 7 + K);
    for (int64_t i = 0; i < M * lda; i++) A[i + 1] = extreme ? 255 : (uint8_t)rnd();
    for (int64_t i = 0; i < N * ldb; i++) B[i + 1] = extreme ? -128 : (int8_t)rnd();
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            int64_t acc = 0;
            for (int64_t k = 0; k < K; k++)
                acc += ((int64_t)A[1 + i * lda + k] - azp) * ((int64_t)B[1 + j * ldb + k] - bzp);
            want[i * N + j] = (int32_t)acc;
        }
    for (int ti = 0; ti < nt; ti++) {
        if (only && !strstr(t[ti]->name, only)) continue;
        for (int64_t i = 0; i < M * ldc; i++) C[i + 1] = 0x5a5a5a5a;
        t[ti]->gemm_u8s8(M, N, K, A + 1, lda, azp, B + 1, ldb, bzp, C + 1, ldc);
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < ldc; j++) {
                if (j >= N) { cr_assert_eq(C[1 + i * ldc + j], 0x5a5a5a5a); continue; }
                cr_assert_eq(C[1 + i * ldc + j], want[i * N + j], "%s gemm_u8s8 %lldx%lldx%lld [%lld,%lld]",
                             t[ti]->name, (long long)M, (long long)N, (long long)K, (long long)i, (long long)j);
            }
    }
    free(A); free(B); free(C); free(want);
}
static void check_gemm_u8s8(int64_t M, int64_t N, int64_t K, int extreme, int32_t azp, int32_t bzp)
{
    check_gemm_u8s8_some(NULL, M, N, K, extreme, azp, bzp);
}

Test(kernels, gemm_u8s8, .timeout = 60)
{
    check_gemm_u8s8(1, 1, 1, 0, 0, 0);
    check_gemm_u8s8(7, 33, 31, 0, 3, 0);
    check_gemm_u8s8(13, 17, 1001, 0, 128, -2);
    check_gemm_u8s8(150, 70, 600, 0, 7, 0);    /* more than one M, K block */
    check_gemm_u8s8(5, 19, 4099, 1, 0, 0);     /* 255 × -128 pairs: vpmaddubsw would saturate */
    check_gemm_u8s8(3, 3, 33000, 1, 0, 0);     /* |C| ≈ 1.08e9: still fits int32 */
    check_gemm_u8s8(64, 256, 784, 0, 0, 0);    /* the MLP layer shape */
    check_gemm_u8s8(2100, 3, 8200, 0, 9, 1);   /* A packed in two passes of rows */
    check_gemm_u8s8(300, 200, 600, 0, 5, -1);  /* threaded: slabs share packed A blocks */
    check_gemm_u8s8(3, 35, 70001, 1, 0, 127);  /* 255·(-255) sums past int32: wraps as _ref */
    check_gemm_u8s8(26, 65, 515, 1, 255, -128); /* extreme zero points, tails of 12x32 tiles */
    check_gemm_u8s8(25, 97, 2051, 0, 77, 5);   /* k blocks of 512 bytes + a partial quad */
}

/* the amx tier's tiles (gemm_amx.c): 32×32 C blocks of four 16×16 tiles, k steps of 64
 * bytes, k blocks of 2048 bytes; every tail of each (a block with only its first row or
 * column tile, K one byte past a step or a block), with zero points */
Test(kernels, gemm_u8s8_tiles, .timeout = 60)
{
    check_gemm_u8s8(16, 16, 64, 0, 3, -1);     /* one tile of each, one k step */
    check_gemm_u8s8(17, 15, 65, 0, 128, 0);    /* a second row tile of one row, one byte of k */
    check_gemm_u8s8(15, 17, 63, 0, 0, 7);      /* a second column tile of one column */
    check_gemm_u8s8(33, 47, 127, 1, 255, -128); /* 32 + 1 rows, 32 + 15 columns */
    check_gemm_u8s8(31, 33, 2048, 0, 9, 2);    /* one whole k block */
    check_gemm_u8s8(40, 50, 2049, 0, 77, -3);  /* a k block + one byte */
    check_gemm_u8s8(49, 40, 300, 0, 4, -2);    /* 32 + 17 rows: the 17th in the second tile */
    check_gemm_u8s8(1, 200, 4160, 0, 1, 1);    /* one row (a 16-row tile of 15 zero rows) */
    check_gemm_u8s8(129, 2, 700, 0, 200, 100); /* more rows than a shared A block (128) */
    check_gemm_u8s8(97, 70, 4163, 0, 5, -1);   /* threaded, three k blocks */
    check_gemm_u8s8(64, 64, 4200, 0, 0, 0);    /* whole 32×32 blocks over k blocks, no zp */
    check_gemm_u8s8(32, 32, 6000, 1, 0, 127);  /* one whole block, 255·(-255) over 3 blocks */
    check_gemm_u8s8(4, 16, 16, 0, 2, 2);       /* at the amx tier's vnni threshold (1024) */
    /* threaded: the amx tier runs products above 2^27 multiply-adds on all threads (the
     * real table where the CPU has AMX, and the emulated one) */
    check_gemm_u8s8_some("amx", 530, 300, 900, 0, 6, -2);
}

/* n bytes ending right before a PROT_NONE page (a read past them faults); *map / *maplen
 * for munmap */
static void *guarded(size_t n, void **map, size_t *maplen)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE), body = (n + pg - 1) / pg * pg;
    *maplen = body + pg;
    char *m = mmap(NULL, *maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert(m != MAP_FAILED);
    cr_assert_eq(mprotect(m + body, pg, PROT_NONE), 0);
    *map = m;
    return m + body - n;
}

/* the GEMMs read nothing past A and Bt: both tight (lda = ldb = K) and ending right before
 * an inaccessible page, with tails in every dimension (the amx packers' 64-byte k steps
 * and 16-column tiles: a whole-step load on a k tail or a row past M or N would fault; N a
 * multiple of 16 puts Bt's last row in a whole tile) */
Test(kernels, gemm_u8s8_guard, .timeout = 60)
{
    static const int64_t SH[][3] = { { 33, 47, 127 }, { 17, 15, 65 }, { 5, 19, 100 },
                                     { 40, 50, 2049 }, { 3, 3, 1 }, { 20, 32, 100 },
                                     { 9, 48, 65 } };
    const qs_kernels *t[QT_MAX];
    int nt = gemm_tables(t);
    for (size_t s = 0; s < sizeof SH / sizeof *SH; s++) {
        int64_t M = SH[s][0], N = SH[s][1], K = SH[s][2];
        void *ma, *mb;
        size_t la, lb;
        uint8_t *A = guarded((size_t)(M * K), &ma, &la);
        int8_t *B = guarded((size_t)(N * K), &mb, &lb);
        int32_t *C = malloc((size_t)(M * N) * 4), *want = malloc((size_t)(M * N) * 4);
        rng_state = (uint64_t)(M * 131 + N * 17 + K);
        for (int64_t i = 0; i < M * K; i++) A[i] = (uint8_t)rnd();
        for (int64_t i = 0; i < N * K; i++) B[i] = (int8_t)rnd();
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                int64_t acc = 0;
                for (int64_t k = 0; k < K; k++)
                    acc += ((int64_t)A[i * K + k] - 3) * ((int64_t)B[j * K + k] + 1);
                want[i * N + j] = (int32_t)acc;
            }
        for (int ti = 0; ti < nt; ti++) {
            memset(C, 0x5a, (size_t)(M * N) * 4);
            t[ti]->gemm_u8s8(M, N, K, A, K, 3, B, K, -1, C, N);
            for (int64_t i = 0; i < M * N; i++)
                cr_assert_eq(C[i], want[i], "%s gemm_u8s8 %lldx%lldx%lld [%lld]", t[ti]->name,
                             (long long)M, (long long)N, (long long)K, (long long)i);
        }
        munmap(ma, la); munmap(mb, lb);
        free(C); free(want);
    }
}

/* Every table's sgemm against a double reference (within SGEMM_RTOL: _ref, one plain loop,
 * is the definition); the optimized ones (avx2's 6x16 tile, avx512's 12x32, their emulated
 * instances) also bit for bit against the first: each C element is summed over the same k
 * blocks in k order with FMA and added to C the same way, whatever the tile, so a trained
 * model, a perplexity or a lesson's expect does not depend on the CPU (a k block of 128
 * against 256 moved the GPT lab's SmoothQuant perplexity by 8e-5; a tail rounding alpha·t
 * apart fails too). Returns how many tables were compared bit for bit. */
static int check_sgemm(int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha, float beta)
{
    const qs_kernels *t[QT_MAX];
    int nt = gemm_tables(t);
    int64_t ar = ta ? K : M, ac = ta ? M : K, br = tb ? N : K, bc = tb ? K : N;
    int64_t lda = ac + 1, ldb = bc + 2, ldc = N + 3;
    float *A = malloc((size_t)(ar * lda + 1) * 4), *B = malloc((size_t)(br * ldb + 1) * 4);
    float *C0 = malloc((size_t)(M * ldc + 1) * 4), *C = malloc((size_t)(M * ldc + 1) * 4);
    float *C1 = malloc((size_t)(M * ldc + 1) * 4);      /* the first optimized table's C */
    const qs_kernels *first = NULL;
    int compared = 0;
    rng_state = (uint64_t)(M + N * 3 + K * 5 + ta * 7 + tb * 11);
    for (int64_t i = 0; i < ar * lda; i++) A[i + 1] = frnd() - 0.5f;
    for (int64_t i = 0; i < br * ldb; i++) B[i + 1] = frnd() - 0.5f;
    for (int64_t i = 0; i < M * ldc; i++) C0[i + 1] = beta == 0.0f ? NAN : frnd();
    /* the double reference and its tolerance, once */
    double *want = malloc((size_t)(M * N + 1) * sizeof *want);
    double *tol = malloc((size_t)(M * N + 1) * sizeof *tol);
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double sum = 0, mag = 0;
            for (int64_t k = 0; k < K; k++) {
                double a = ta ? A[1 + k * lda + i] : A[1 + i * lda + k];
                double b = tb ? B[1 + j * ldb + k] : B[1 + k * ldb + j];
                sum += a * b; mag += fabs(a * b);
            }
            double c0 = C0[1 + i * ldc + j];
            want[i * N + j] = alpha * sum + (beta == 0.0f ? 0.0 : beta * c0);
            tol[i * N + j] = SGEMM_RTOL * (fabs(alpha) * mag + (beta == 0.0f ? 0.0 : fabs(beta * c0))) + 1e-30;
        }
    for (int ti = 0; ti < nt; ti++) {
        int seen = 0;                   /* tables sharing one sgemm: tested once */
        for (int tj = 0; tj < ti; tj++) seen |= t[tj]->sgemm == t[ti]->sgemm;
        if (seen) continue;
        memcpy(C, C0, (size_t)(M * ldc + 1) * 4);
        t[ti]->sgemm(ta, tb, M, N, K, alpha, A + 1, lda, B + 1, ldb, beta, C + 1, ldc);
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++)
                cr_assert(fabs(C[1 + i * ldc + j] - want[i * N + j]) <= tol[i * N + j],
                          "%s sgemm ta=%d tb=%d %lldx%lldx%lld [%lld,%lld]: %g vs %g", t[ti]->name,
                          ta, tb, (long long)M, (long long)N, (long long)K, (long long)i,
                          (long long)j, C[1 + i * ldc + j], want[i * N + j]);
        for (int64_t i = 0; i < M; i++)         /* padding columns untouched */
            for (int64_t j = N; j < ldc; j++)
                cr_assert(same_bits_f(&C[1 + i * ldc + j], &C0[1 + i * ldc + j], 1));
        if (t[ti] == qs_k_ref()) continue;
        if (!first) {
            first = t[ti];
            memcpy(C1, C, (size_t)(M * ldc + 1) * 4);
            continue;
        }
        compared++;
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++)
                cr_assert(same_bits_f(&C[1 + i * ldc + j], &C1[1 + i * ldc + j], 1),
                          "%s sgemm differs from %s: ta=%d tb=%d %lldx%lldx%lld alpha %g beta %g"
                          " [%lld,%lld]: %.9g vs %.9g", t[ti]->name, first->name, ta, tb,
                          (long long)M, (long long)N, (long long)K, alpha, beta, (long long)i,
                          (long long)j, C[1 + i * ldc + j], C1[1 + i * ldc + j]);
    }
    free(want); free(tol);
    free(A); free(B); free(C0); free(C); free(C1);
    return compared;
}

Test(kernels, sgemm, .timeout = 240)   /* a hang guard: minutes under ASan on a busy machine */
{
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            check_sgemm(ta, tb, 1, 1, 1, 1.0f, 0.0f);
            check_sgemm(ta, tb, 7, 33, 31, 1.0f, 0.0f);
            check_sgemm(ta, tb, 13, 17, 300, 0.5f, 1.0f);
            check_sgemm(ta, tb, 150, 45, 257, -1.0f, 0.25f);
            check_sgemm(ta, tb, 64, 256, 784, 1.0f, 0.0f);
            check_sgemm(ta, tb, 20, 48, 600, 0.7f, 0.0f);  /* whole 8-row, 16-column edges */
            check_sgemm(ta, tb, 16, 80, 300, -1.5f, 1.0f); /* whole 4-row edges */
        }
    check_sgemm(0, 0, 5, 5, 0, 1.0f, 2.0f);
    check_sgemm(0, 1, 2100, 3, 8200, 1.0f, 0.5f);     /* A packed in two passes of rows */
    check_sgemm(1, 0, 2100, 3, 8200, 1.0f, 0.0f);     /* the same, beta 0 (C starts NaN) */
    check_sgemm(0, 1, 20, 20, 20, 0.0f, 0.0f);        /* alpha 0, beta 0: C = 0 */
    check_sgemm(0, 1, 300, 200, 600, 1.0f, 0.0f);     /* threaded: slabs share packed A */
    check_sgemm(1, 0, 300, 200, 600, 0.5f, 1.0f);
    check_sgemm(0, 1, 25, 97, 131, 1.0f, 0.0f);      /* tails of 12x32 tiles, k blocks */
    check_sgemm(1, 1, 37, 33, 129, 2.0f, -1.0f);
    check_sgemm(0, 1, 13, 1100, 300, 1.0f, 0.0f);    /* one thread, two slabs share packed A */
}

/* check_sgemm's bit-for-bit comparison of the optimized tables on shapes of its own (the
 * sgemm test's shapes are compared too): k blocks, alpha on tails, two slabs */
Test(kernels, sgemm_tiers_identical, .timeout = 240)
{
    int compared = 0;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            compared += check_sgemm(ta, tb, 29, 67, 600, 1.0f, 0.0f);   /* 3 k blocks */
            compared += check_sgemm(ta, tb, 13, 35, 513, 0.7f, 1.0f);   /* alpha on tails */
            compared += check_sgemm(ta, tb, 7, 33, 257, -1.5f, 0.25f);
        }
    compared += check_sgemm(1, 0, 13, 1100, 300, 0.5f, 1.0f);           /* two slabs, one thread */
    cr_assert(compared > 0, "no second optimized sgemm to compare");   /* the emulated 12x32 at least */
}

/* ---- requantization ---------------------------------------------------------------------- */

Test(kernels, requant)
{
    static const double ms[] = { 0.5, 0.25, 0.1, 0.0039215686, 1e-4, 0.999999, 3.0517578125e-5,
                                 0.7071067811865476 };
    rng_state = 9;
    for (int mi = 0; mi < 8; mi++) {
        int32_t m0; int shift;
        qs_requant_multiplier(ms[mi], &m0, &shift);
        cr_assert(m0 >= (1 << 30) && m0 <= INT32_MAX);
        double back = (double)m0 * ldexp(1.0, -(31 + shift));
        cr_assert(fabs(back - ms[mi]) <= ms[mi] * 1e-9, "multiplier %g -> %g", ms[mi], back);
        for (int it = 0; it < 20000; it++) {
            int32_t acc = (int32_t)(rnd() ^ (rnd() << 16));
            if (it % 3 == 0) acc = (int32_t)(rnd() % 100001) - 50000;
            if (it < 4) acc = it == 0 ? INT32_MIN : it == 1 ? INT32_MAX : it == 2 ? 0 : -1;
            long double exact = (long double)acc * m0 / powl(2.0L, 31 + shift);
            long double r = exact >= 0 ? floorl(exact + 0.5L) : -floorl(-exact + 0.5L);
            long double q = r + 3;
            int32_t want = q < 0 ? 0 : q > 255 ? 255 : (int32_t)q;
            cr_assert_eq(qs_requant(acc, m0, shift, 3, 0, 255), want,
                         "requant acc=%d m=%g", acc, ms[mi]);
            q = r - 128;
            want = q < -128 ? -128 : q > 127 ? 127 : (int32_t)q;
            cr_assert_eq(qs_requant(acc, m0, shift, -128, -128, 127), want);
        }
    }
    /* the epilogue over rows: bias + per-column multipliers */
    int32_t C[2 * 3] = { 100, -50, 1000, 7, 8, 9 }, bias[3] = { 1, 2, 3 }, m0[3];
    int sh[3];
    qs_requant_multiplier(0.5, &m0[0], &sh[0]);
    qs_requant_multiplier(0.25, &m0[1], &sh[1]);
    qs_requant_multiplier(0.01, &m0[2], &sh[2]);
    uint8_t out[6];
    qs_requant_rows(C, 2, 3, 3, bias, m0, sh, 10, 0, 255, out);
    cr_assert_eq(out[0], 61);   /* 101 * 0.5 = 50.5 -> 51 (+10) */
    cr_assert_eq(out[1], 0);    /* -48 * 0.25 = -12 + 10 = -2 -> 0 */
    cr_assert_eq(out[2], 20);   /* 1003 * 0.01 = 10.03 -> 10 */
    cr_assert_eq(out[3], 14);   /* 8 * 0.5 = 4 */
    cr_assert_eq(out[4], 13);   /* 10 * 0.25 = 2.5 -> 3 (away from zero) */
}
