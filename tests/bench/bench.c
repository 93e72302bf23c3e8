/* bench.c — `make bench`: kernel throughput against the memcpy roofline (ref and the active
 * tier, named in the output and in bench.json's kernel_tier),
 * int8 / fp32 GEMM against OpenBLAS (loaded with dlopen when present, so the library never
 * depends on it), the interactive path on a 16M-element tensor and the commands a TUI scheme
 * key runs on one (tui_scheme_ms_16m). Every figure is the
 * median of several runs; ratios are medians of per-run ratios, each run timing the peer
 * (memcpy, OpenBLAS) right next to the kernel, so a machine whose load changes between runs
 * still gives comparable ratios. Prints a table and writes bench.json (path: argv[1]). */
#include <dlfcn.h>
#include <math.h>
#include <signal.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qscope/cmd.h"
#include "qscope/kernels.h"

/* QSCOPE_BENCH_CPUTIME=1 times with the process CPU clock instead of the wall clock: on a
 * shared, loaded machine, single-threaded runs (QSCOPE_THREADS=1 OPENBLAS_NUM_THREADS=1) then
 * measure the work itself rather than the scheduler (with threads the CPU clock would count
 * OpenMP's spin-waiting, so use it with one thread only) */
static clockid_t g_clock = CLOCK_MONOTONIC;

static double now(void)
{
    struct timespec t;
    clock_gettime(g_clock, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* ---- the JSON output ------------------------------------------------------------------- */
static char json[65536];
static size_t jlen;
static void jput(const char *key, double v)
{
    jlen += (size_t)snprintf(json + jlen, sizeof json - jlen, "%s\n  \"%s\": %.4f",
                             jlen ? "," : "{", key, v);
}

static void jstr(const char *key, const char *v)
{
    jlen += (size_t)snprintf(json + jlen, sizeof json - jlen, "%s\n  \"%s\": \"%s\"",
                             jlen ? "," : "{", key, v);
}

static void jnull(const char *key)
{
    jlen += (size_t)snprintf(json + jlen, sizeof json - jlen, "%s\n  \"%s\": null",
                             jlen ? "," : "{", key);
}

/* ---- workloads --------------------------------------------------------------------------- */

typedef struct wk {
    const qs_kernels *k;
    float *x, *y;
    uint8_t *codes;
    uint16_t *h;
    int64_t n;
    qs_layout l;
    qs_qp qp;
    qs_hist eh;
} wk;

static float g_scale = 0.02f, g_inv = 50.0f;
static int32_t g_zp = 3;
static uint64_t g_counts[256];

static void memcpy_par(void *dst, const void *src, size_t bytes)
{
    int nt = qs_k_threads();
    #pragma omp parallel for schedule(static) num_threads(nt)
    for (int t = 0; t < nt; t++) {
        size_t a = bytes * (size_t)t / (size_t)nt, b = bytes * (size_t)(t + 1) / (size_t)nt;
        memcpy((char *)dst + a, (const char *)src + a, b - a);
    }
}

enum { OP_MEMCPY, OP_QUANT, OP_DEQUANT, OP_FUSED, OP_MINMAX, OP_HIST, OP_F16, OP_COUNT };
static const char *OP_NAME[] = { "memcpy", "quantize", "dequantize", "fused", "minmax",
                                 "histogram", "fp32->fp16" };
static const double OP_BYTES[] = { 8, 5, 5, 9, 4, 4, 6 };   /* bytes touched per element */

static void run_op(wk *w, int op)
{
    float mn, mx;
    qs_errstats st;
    switch (op) {
    case OP_MEMCPY: memcpy_par(w->y, w->x, (size_t)w->n * 4); break;
    case OP_QUANT: w->k->quantize(w->x, &w->l, &w->qp, w->codes); break;
    case OP_DEQUANT: w->k->dequantize(w->codes, &w->l, &w->qp, w->y); break;
    case OP_FUSED:
        memset(g_counts, 0, sizeof g_counts);
        w->eh.under = w->eh.over = w->eh.nan = 0;
        w->k->fakequant(w->x, &w->l, &w->qp, w->y, w->codes, &st, &w->eh);
        break;
    case OP_MINMAX: w->k->minmax(w->x, w->n, &mn, &mx); break;
    case OP_HIST: {
        qs_hist h = { 256, -4.0, 4.0, g_counts, 0, 0, 0 };
        w->k->hist(w->x, w->n, &h);
        break;
    }
    case OP_F16: w->k->f32_to_f16(w->x, w->n, w->h); break;
    }
}

/* one timed run of op on table k */
static double time_once(wk *w, const qs_kernels *k, int op)
{
    w->k = k;
    double t0 = now();
    run_op(w, op);
    return now() - t0;
}

/* reps runs of (memcpy, op on opt, op on ref): median times and median per-run ratios of
 * the op's throughput to memcpy's (bytes as OP_BYTES) */
typedef struct opres {
    double t_opt, t_ref, t_mem;   /* median seconds */
    double r_opt, r_ref;          /* median per-run (op GB/s) / (memcpy GB/s) */
} opres;

static opres time_op(wk *w, const qs_kernels *opt, const qs_kernels *ref, int op, int reps)
{
    double tm[16], to[16], tr[16], ro[16], rr[16];
    double scale = OP_BYTES[op] / OP_BYTES[OP_MEMCPY];
    time_once(w, opt, op);                          /* warm-up */
    for (int r = 0; r < reps; r++) {
        tm[r] = time_once(w, opt, OP_MEMCPY);
        to[r] = time_once(w, opt, op);
        tr[r] = op == OP_MEMCPY ? to[r] : time_once(w, ref, op);
        ro[r] = scale * tm[r] / to[r];
        rr[r] = scale * tm[r] / tr[r];
    }
    opres o = { median(to, reps), median(tr, reps), median(tm, reps), median(ro, reps),
                median(rr, reps) };
    return o;
}

/* ---- GEMM -------------------------------------------------------------------------------- */

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int,
                         const float *, int, float, float *, int);
enum { CblasRowMajor = 101, CblasNoTrans = 111, CblasTrans = 112 };

/* reps interleaved runs of (int8, fp32, OpenBLAS when ob) on one shape: median GOP/s of
 * each (g[0..2]) and median per-run ratios fp32/OB (g[3]) and int8/OB (g[4]). Each timed
 * int8 run follows 5 ms of untimed int8 runs of the same product: an AMX unit left unused
 * for a few ms (here: during the fp32 and OpenBLAS runs) starts again at about half speed
 * and needs 2-4 ms to reach it (1024³ on one core: 550 GOP/s cold, 1450 after 5 ms), and
 * torch_gemm.py's figures, the peer, are of back-to-back calls. */
static void time_gemm(const qs_kernels *k, sgemm_fn ob, int64_t M, int64_t N, int64_t K,
                      int reps, double g[5])
{
    uint8_t *A8 = malloc((size_t)(M * K));
    int8_t *B8 = malloc((size_t)(N * K));
    int32_t *C32 = malloc((size_t)(M * N) * 4);
    float *A = malloc((size_t)(M * K) * 4), *B = malloc((size_t)(N * K) * 4);
    float *C = malloc((size_t)(M * N) * 4);
    for (int64_t i = 0; i < M * K; i++) { A8[i] = (uint8_t)(i * 7); A[i] = (float)(i % 13) * 0.1f; }
    for (int64_t i = 0; i < N * K; i++) { B8[i] = (int8_t)(i * 5); B[i] = (float)(i % 7) * 0.1f; }
    double t[3][16], rf[16], ri[16], ops = 2.0 * (double)M * (double)N * (double)K;
    for (int r = -1; r < reps; r++) {
        for (int which = 0; which < 3; which++) {
            if (which == 2 && !ob) { t[2][r < 0 ? 0 : r] = NAN; continue; }
            if (which == 0)
                for (double w0 = now(); now() - w0 < 5e-3; )
                    k->gemm_u8s8(M, N, K, A8, K, 0, B8, K, 0, C32, N);
            double t0 = now();
            if (which == 0) k->gemm_u8s8(M, N, K, A8, K, 0, B8, K, 0, C32, N);
            else if (which == 1) k->sgemm(0, 1, M, N, K, 1.0f, A, K, B, K, 0.0f, C, N);
            else ob(CblasRowMajor, CblasNoTrans, CblasTrans, (int)M, (int)N, (int)K, 1.0f, A,
                    (int)K, B, (int)K, 0.0f, C, (int)N);
            if (r >= 0) t[which][r] = now() - t0;
        }
        if (r >= 0) { rf[r] = t[2][r] / t[1][r]; ri[r] = t[2][r] / t[0][r]; }
    }
    for (int which = 0; which < 3; which++) g[which] = ops / median(t[which], reps) * 1e-9;
    g[3] = ob ? median(rf, reps) : NAN;
    g[4] = ob ? median(ri, reps) : NAN;
    free(A8); free(B8); free(C32); free(A); free(B); free(C);
}

/* ---- honest peers (issue 18) ------------------------------------------------------------
 * OpenBLAS as installed, and with the core type it should use on this CPU: Debian's 0.3.21
 * does not know newer CPUs and falls back to a generic kernel. OPENBLAS_CORETYPE is read when
 * the library initializes, so the fair peer runs in a child process forked before any
 * OpenMP thread exists: it sets OPENBLAS_CORETYPE, dlopens its own copy, and times one
 * cblas_sgemm per request on the same data, interleaved with the parent's runs. */

/* the OpenBLAS core type for this CPU (names of OpenBLAS's dynamic-arch table), or NULL */
static const char *right_coretype(void)
{
    qs_cpu_bits c;
    qs_cpu_bits_read(&c);
    int v256 = 0;
    unsigned t = qs_k_tiers_of(&c, &v256);
    char vendor[13] = "";
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, cx, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(cx), "=d"(d) : "a"(0), "c"(0));
    memcpy(vendor, &b, 4); memcpy(vendor + 4, &d, 4); memcpy(vendor + 8, &cx, 4);
#endif
    int avx512 = (t >> QS_TIER_AVX512) & 1u, avx2 = (t >> QS_TIER_AVX2) & 1u;
    if (avx512 && (c.l71_eax & (1u << 5))) return "Cooperlake";     /* AVX512-BF16 */
    if (avx512) return "SkylakeX";
    if (avx2 && strcmp(vendor, "AuthenticAMD") == 0) return "Zen";
    if (avx2) return "Haswell";
    return NULL;
}

typedef const char *(*corename_fn)(void);
typedef void (*setthreads_fn)(int);

static void *ob_open(void)
{
    void *lib = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
    return lib ? lib : dlopen("libopenblas.so", RTLD_NOW | RTLD_LOCAL);
}

static void fill_f32(float *A, float *B, int64_t M, int64_t N, int64_t K)
{
    for (int64_t i = 0; i < M * K; i++) A[i] = (float)(i % 13) * 0.1f;
    for (int64_t i = 0; i < N * K; i++) B[i] = (float)(i % 7) * 0.1f;
}

typedef struct fair_peer {
    pid_t pid;
    int to, from;           /* pipes: requests (int64 M, N, K, threads, clock), answers (double) */
    char corename[64];      /* what the child's OpenBLAS reports */
} fair_peer;

static void fair_child(int in, int out, const char *coretype)
{
    setenv("OPENBLAS_CORETYPE", coretype, 1);
    void *lib = ob_open();
    sgemm_fn ob = lib ? (sgemm_fn)(uintptr_t)dlsym(lib, "cblas_sgemm") : NULL;
    corename_fn cn = lib ? (corename_fn)(uintptr_t)dlsym(lib, "openblas_get_corename") : NULL;
    setthreads_fn st = lib ? (setthreads_fn)(uintptr_t)dlsym(lib, "openblas_set_num_threads") : NULL;
    char name[64] = "";
    if (ob && cn) snprintf(name, sizeof name, "%s", cn());
    if (write(out, name, sizeof name) != (ssize_t)sizeof name) _exit(1);
    float *A = NULL, *B = NULL, *C = NULL;
    int64_t q[5], have[3] = { 0, 0, 0 };
    while (read(in, q, sizeof q) == (ssize_t)sizeof q && q[0] > 0) {
        if (q[0] != have[0] || q[1] != have[1] || q[2] != have[2]) {
            free(A); free(B); free(C);
            A = malloc((size_t)(q[0] * q[2]) * 4); B = malloc((size_t)(q[1] * q[2]) * 4);
            C = malloc((size_t)(q[0] * q[1]) * 4);
            if (!A || !B || !C) _exit(1);
            fill_f32(A, B, q[0], q[1], q[2]);
            memcpy(have, q, sizeof have);
        }
        if (st) st((int)q[3]);
        g_clock = q[4] ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC;
        double t0 = now();
        ob(CblasRowMajor, CblasNoTrans, CblasTrans, (int)q[0], (int)q[1], (int)q[2], 1.0f, A,
           (int)q[2], B, (int)q[2], 0.0f, C, (int)q[1]);
        double dt = now() - t0;
        if (write(out, &dt, sizeof dt) != (ssize_t)sizeof dt) _exit(1);
    }
    _exit(0);
}

/* 0 when started (corename filled), -1 when OpenBLAS or the fork is unavailable */
static int fair_start(fair_peer *p, const char *coretype)
{
    int a[2], b[2];
    if (pipe(a) != 0) return -1;
    if (pipe(b) != 0) { close(a[0]); close(a[1]); return -1; }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) { close(a[0]); close(a[1]); close(b[0]); close(b[1]); return -1; }
    if (pid == 0) { close(a[1]); close(b[0]); fair_child(a[0], b[1], coretype); }
    close(a[0]); close(b[1]);
    p->pid = pid; p->to = a[1]; p->from = b[0];
    if (read(p->from, p->corename, sizeof p->corename) != (ssize_t)sizeof p->corename ||
        !p->corename[0]) {
        close(p->to); close(p->from); waitpid(pid, NULL, 0);
        return -1;
    }
    p->corename[sizeof p->corename - 1] = '\0';
    return 0;
}
static double fair_time(fair_peer *p, int64_t M, int64_t N, int64_t K, int threads, int cpu)
{
    int64_t q[5] = { M, N, K, threads, cpu };
    double dt = NAN;
    if (write(p->to, q, sizeof q) != (ssize_t)sizeof q || read(p->from, &dt, sizeof dt) != (ssize_t)sizeof dt)
        return NAN;
    return dt;
}
static void fair_stop(fair_peer *p)
{
    int64_t q[5] = { 0, 0, 0, 0, 0 };
    if (write(p->to, q, sizeof q) < 0) kill(p->pid, SIGTERM);
    close(p->to); close(p->from);
    waitpid(p->pid, NULL, 0);
}

/* QSCOPE_BENCH_TORCH: the `key=value` lines of tests/bench/torch_gemm.py; NAN when absent */
static double torch_val(const char *key)
{
    const char *s = getenv("QSCOPE_BENCH_TORCH");
    size_t kl = strlen(key);
    for (const char *p = s; p && *p; ) {
        if (strncmp(p, key, kl) == 0 && p[kl] == '=') return atof(p + kl + 1);
        p = strchr(p, '\n');
        if (p) p++;
    }
    return NAN;
}

/* the peer table at one thread count: qscope int8 / fp32 (the active tier) next to OpenBLAS
 * as installed and fair, interleaved per run; PyTorch from torch_gemm.py */
static void peer_table(const qs_kernels *k, sgemm_fn ob, setthreads_fn ob_threads,
                       fair_peer *fp, int threads, int cpu)
{
    char thr[8], saved_thr[32] = "";
    const char *st = getenv("QSCOPE_THREADS");
    if (st) snprintf(saved_thr, sizeof saved_thr, "%s", st);
    snprintf(thr, sizeof thr, "%d", threads);
    setenv("QSCOPE_THREADS", thr, 1);
    if (ob_threads) ob_threads(threads);
    clockid_t saved = g_clock;
    g_clock = cpu ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC;
    const char *sfx = threads == 1 ? "" : "_2t";
    printf("\npeers, %d thread%s (%s time): GOP/s (int8) and GFLOP/s (fp32)\n", threads,
           threads == 1 ? ", per core" : "s", cpu ? "process CPU" : "wall-clock");
    printf("%-14s %8s %8s %9s %9s %9s %9s %9s %9s %9s %9s %9s\n", "GEMM", "q int8", "q f32",
           "OB inst", "OB fair", "T int8", "T f32", "f32/OBf", "int8/T", "f32/T", "T vnni",
           "int8/Tv");
    static const int64_t SH[][3] = { { 1024, 1024, 1024 }, { 64, 256, 784 } };
    for (int s = 0; s < 2; s++) {
        int64_t M = SH[s][0], N = SH[s][1], K = SH[s][2];
        int reps = M * N * K > (1 << 28) ? 5 : 15;
        double g[5];
        time_gemm(k, ob, M, N, K, reps, g);
        double tf[16], rf[16], ops = 2.0 * (double)M * (double)N * (double)K, gfair = g[2];
        if (fp) {
            for (int r = 0; r < reps; r++) {
                float *A = malloc((size_t)(M * K) * 4), *B = malloc((size_t)(N * K) * 4);
                float *C = malloc((size_t)(M * N) * 4);
                fill_f32(A, B, M, N, K);
                k->sgemm(0, 1, M, N, K, 1.0f, A, K, B, K, 0.0f, C, N);    /* warm */
                double t0 = now();
                k->sgemm(0, 1, M, N, K, 1.0f, A, K, B, K, 0.0f, C, N);
                double tq = now() - t0;
                tf[r] = fair_time(fp, M, N, K, threads, cpu);
                rf[r] = tf[r] / tq;
                free(A); free(B); free(C);
            }
            gfair = ops / median(tf, reps) * 1e-9;
        }
        double fr = fp ? median(rf, reps) : g[3];
        const char *tag = s == 0 ? "1024" : "mlp";
        char kb[80];
        snprintf(kb, sizeof kb, "torch_int8_linear_gops_%s_%s", tag, threads == 1 ? "1t" : "2t");
        double ti = torch_val(kb);
        snprintf(kb, sizeof kb, "torch_f32_matmul_gflops_%s_%s", tag, threads == 1 ? "1t" : "2t");
        double tm = torch_val(kb);
        snprintf(kb, sizeof kb, "torch_int8_linear_vnni_gops_%s_%s", tag, threads == 1 ? "1t" : "2t");
        double tv = torch_val(kb);      /* oneDNN capped at AVX512-VNNI, where it chose AMX */
        char name[32];
        snprintf(name, sizeof name, "%lldx%lldx%lld", (long long)M, (long long)N, (long long)K);
        printf("%-14s %8.1f %8.1f %9.1f %9.1f %9.1f %9.1f %9.2f %9.2f %9.2f %9.1f %9.2f\n", name,
               g[0], g[1], ob ? g[2] : NAN, ob ? gfair : NAN, ti, tm, ob ? fr : NAN, g[0] / ti,
               g[1] / tm, tv, g[0] / tv);
        snprintf(kb, sizeof kb, "gemm_int8_gops_%s_%s", tag, threads == 1 ? "1t" : "2t"); jput(kb, g[0]);
        snprintf(kb, sizeof kb, "gemm_f32_gflops_%s_%s", tag, threads == 1 ? "1t" : "2t"); jput(kb, g[1]);
        snprintf(kb, sizeof kb, "openblas_sgemm_gflops_%s_%s", tag, threads == 1 ? "1t" : "2t");
        if (ob) jput(kb, g[2]); else jnull(kb);
        snprintf(kb, sizeof kb, "openblas_fair_sgemm_gflops_%s%s", tag, sfx);
        if (ob) jput(kb, gfair); else jnull(kb);
        snprintf(kb, sizeof kb, "gemm_f32_vs_openblas_fair_%s%s", tag, sfx);
        if (ob) jput(kb, fr); else jnull(kb);
        snprintf(kb, sizeof kb, "torch_int8_linear_gops_%s%s", tag, sfx);
        if (ti == ti) jput(kb, ti); else jnull(kb);
        snprintf(kb, sizeof kb, "gemm_int8_vs_torch_%s%s", tag, sfx);
        if (ti == ti) jput(kb, g[0] / ti); else jnull(kb);
        snprintf(kb, sizeof kb, "torch_int8_linear_vnni_gops_%s%s", tag, sfx);
        if (tv == tv) jput(kb, tv); else jnull(kb);
        snprintf(kb, sizeof kb, "gemm_int8_vs_torch_vnni_%s%s", tag, sfx);
        if (tv == tv) jput(kb, g[0] / tv); else jnull(kb);
        snprintf(kb, sizeof kb, "torch_f32_matmul_gflops_%s%s", tag, sfx);
        if (tm == tm) jput(kb, tm); else jnull(kb);
        snprintf(kb, sizeof kb, "gemm_f32_vs_torch_%s%s", tag, sfx);
        if (tm == tm) jput(kb, g[1] / tm); else jnull(kb);
    }
    g_clock = saved;
    if (*saved_thr) setenv("QSCOPE_THREADS", saved_thr, 1);
    else unsetenv("QSCOPE_THREADS");
}

/* One of the TUI's own queries (src/tui/model.c query()): through the command table, not
 * recorded in the history. Returns the milliseconds it took. */
static double tui_query(qs_session *s, const char *line)
{
    char **argv = NULL;
    json_t *out = NULL;
    qs_err err = {{0}};
    double t0 = now();
    int argc = qs_split(line, &argv, &err);
    const qs_cmd *c = argc > 0 ? qs_cmd_find(argv[0]) : NULL;
    if (!c || c->run(s, argc - 1, argv + 1, &out, &err) != QS_OK)
        fprintf(stderr, "bench: %s: %s\n", line, err.msg);
    double ms = (now() - t0) * 1e3;
    json_decref(out);
    qs_split_free(argv);
    return ms;
}

/* A scheme key (+ - s) in the TUI on a 16M-element tensor: the commands refresh_scheme() in
 * src/tui/model.c runs, on one session, as the TUI runs them — `scheme ...` as a user command,
 * then qparams, quant, hist over the plot range at a 120-column terminal's width, derive.
 * The session has shown the tensor once already (as the TUI has when a key is pressed). */
static void tui_scheme_key(void)
{
    static const char *const keys[] = {
        "scheme int7 asym", "scheme int6 asym", "scheme int6 sym", "scheme int7 sym",
        "scheme int8 sym", "scheme uint8 asym",
    };
    qs_session s;
    qs_session_init(&s);
    json_t *o = NULL;
    qs_err err = {{0}};
    if (qs_cmd_run_line(&s, "synth normal n=16777216 seed=1", &o, NULL, &err) != QS_OK) {
        fprintf(stderr, "bench: synth: %s\n", err.msg);
        qs_session_fini(&s);
        return;
    }
    json_decref(o);
    /* the TUI's plot range: the data and zero (min-max clip ranges lie inside), 2% padding */
    float mn, mx;
    qs_k()->minmax(s.tensor->data, s.tensor->n, &mn, &mx);
    double lo = fmin(mn, 0.0), hi = fmax(mx, 0.0), pad = (hi - lo) * 0.02;
    char hist[128];
    snprintf(hist, sizeof hist, "hist bins=116 range=%.9g:%.9g", lo - pad, hi + pad);
    const char *const q[] = { "qparams", "quant", hist, "derive" };
    enum { R = 9 };
    double t[R], part[5][R];
    for (int r = -1; r < R; r++) {
        double t0 = now(), p[5];
        if (r >= 0) {
            if (qs_cmd_run_line(&s, keys[r % 6], &o, NULL, &err) != QS_OK)
                fprintf(stderr, "bench: %s: %s\n", keys[r % 6], err.msg);
            json_decref(o);
        }
        p[0] = (now() - t0) * 1e3;
        for (int i = 0; i < 4; i++) p[i + 1] = tui_query(&s, q[i]);
        if (r >= 0) {
            t[r] = (now() - t0) * 1e3;
            for (int i = 0; i < 5; i++) part[i][r] = p[i];
        }
    }
    double ms = median(t, R);
    printf("TUI scheme key, 16M elements (scheme + qparams + quant + hist + derive): %.2f ms "
           "(%.2f + %.2f + %.2f + %.2f + %.2f)\n\n", ms, median(part[0], R),
           median(part[1], R), median(part[2], R), median(part[3], R), median(part[4], R));
    jput("tui_scheme_ms_16m", ms);
    qs_session_fini(&s);
}

/* Issue 13 item 11: the Error screen's `x` table (compare bits=2..8: minmax, percentile, mse
 * and entropy at 2..8 bits) under a per-channel scheme on a 17,408-value layer ([128, 136],
 * one scale per output channel), and `compare` per-channel int4. Normal values from a seeded
 * generator, each channel with its own spread, as trained weights have. */
static void compare_channel(void)
{
    qs_session s;
    qs_session_init(&s);
    qs_err err = {{0}};
    int64_t shape[2] = { 128, 136 };
    qs_tensor *t = qs_tensor_new("layer.weight", 2, shape, QS_DT_F32, &err);
    if (!t) { fprintf(stderr, "bench: %s\n", err.msg); qs_session_fini(&s); return; }
    uint64_t st = 7;
    for (int64_t i = 0; i < t->n; i++) {
        double u[2];
        for (int k = 0; k < 2; k++) {
            st = st * 6364136223846793005ULL + 1442695040888963407ULL;
            u[k] = ((double)(st >> 11) + 0.5) / 9007199254740992.0;
        }
        double g = sqrt(-2.0 * log(u[0])) * cos(6.283185307179586 * u[1]);
        t->data[i] = (float)(g * 0.02 * (1 + (i / 136) % 7));
    }
    qs_session_set_tensor(&s, t);
    static const char *const what[][2] = {
        { "scheme int8 per-channel", "compare bits=2..8" },
        { "scheme int4 per-channel", "compare" },
    };
    static const char *const key[] = { "tui_compare_channel_ms", "compare_channel_int4_ms" };
    for (int w = 0; w < 2; w++) {
        enum { R = 5 };
        double tm[R];
        json_t *o = NULL;
        if (qs_cmd_run_line(&s, what[w][0], &o, NULL, &err) != QS_OK)
            fprintf(stderr, "bench: %s: %s\n", what[w][0], err.msg);
        json_decref(o);
        for (int r = 0; r < R; r++) tm[r] = tui_query(&s, what[w][1]);
        double ms = median(tm, R);
        printf("%s on a per-channel [128, 136] layer (17,408 values): %.1f ms\n", what[w][1], ms);
        jput(key[w], ms);
    }
    printf("\n");
    qs_session_fini(&s);
}

int main(int argc, char **argv)
{
    if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
        /* an option is never an output path (a `bench --help` once wrote a file "--help") */
        fprintf(stderr, "usage: bench [OUTPUT.json]   (run by `make bench`; writes bench.json "
                        "by default)\n");
        return argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
                   ? 0 : 2;
    }
    const char *out = argc > 1 ? argv[1] : "bench.json";
    char kerr[160];
    if (qs_kernels_check(kerr, sizeof kerr) != 0) {
        fprintf(stderr, "bench: %s\n", kerr);
        return 2;
    }
    /* the fair OpenBLAS peer's process, forked before any OpenMP thread exists */
    const char *want = right_coretype();
    fair_peer fpeer, *fp = NULL;
    if (want && fair_start(&fpeer, want) == 0) fp = &fpeer;
    const qs_kernels *ref = qs_k_ref(), *opt = qs_k();
    int quick = getenv("QSCOPE_BENCH_QUICK") != NULL;
    const char *cpu = getenv("QSCOPE_BENCH_CPUTIME");
    if (cpu && strcmp(cpu, "1") == 0) g_clock = CLOCK_PROCESS_CPUTIME_ID;
    printf("qscope bench: %d threads, kernel tier %s (table \"%s\"), %s time\n\n",
           qs_k_threads(), qs_k_tier_name(qs_k_active_tier()), opt->name,
           g_clock == CLOCK_MONOTONIC ? "wall-clock" : "process CPU");
    jstr("kernel_tier", qs_k_tier_name(qs_k_active_tier()));
    jstr("kernel_table", opt->name);
    /* QSCOPE_BENCH_ONLY=compare: only the per-channel compare figures (printed, no file) */
    const char *only = getenv("QSCOPE_BENCH_ONLY");
    if (only && strcmp(only, "compare") == 0) {
        compare_channel();
        return 0;
    }

    /* ---- memory-bound kernels ---- */
    static const int64_t NS[] = { 1 << 20, 1 << 24, 1 << 26 };
    int64_t nmax = quick ? 1 << 24 : 1 << 26;
    float *x = malloc((size_t)nmax * 4), *y = malloc((size_t)nmax * 4);
    uint8_t *codes = malloc((size_t)nmax);
    uint16_t *h = malloc((size_t)nmax * 2);
    if (!x || !y || !codes || !h) { fprintf(stderr, "bench: out of memory\n"); return 1; }
    srand(1);
    for (int64_t i = 0; i < nmax; i++) {
        float u = ((float)rand() / (float)RAND_MAX + (float)rand() / (float)RAND_MAX - 1.0f);
        x[i] = u * 2.0f;
    }
    memset(y, 0, (size_t)nmax * 4); memset(codes, 0, (size_t)nmax); memset(h, 0, (size_t)nmax * 2);

    char opt_gbs[32];
    snprintf(opt_gbs, sizeof opt_gbs, "%s GB/s", opt->name);
    printf("%-12s %6s %10s %8s %10s %8s %8s\n", "kernel", "n", opt_gbs, "x memcpy",
           "ref GB/s", "x memcpy", "speedup");
    for (int ni = 0; ni < 3; ni++) {
        int64_t n = NS[ni];
        if (n > nmax) break;
        int reps = n >= (1 << 26) ? 3 : n >= (1 << 24) ? 5 : 11;
        wk w = { opt, x, y, codes, h, n, { QS_G_TENSOR, 1, n, 1, 1 },
                 { &g_scale, &g_inv, &g_zp, -128, 127, 0, QS_R_HALF_EVEN, 0 },
                 { 256, -0.02, 0.02, g_counts, 0, 0, 0 } };
        double gbs[OP_COUNT][2], rat[OP_COUNT][2];
        for (int op = 0; op < OP_COUNT; op++) {
            opres o = time_op(&w, opt, ref, op, reps);
            gbs[op][0] = OP_BYTES[op] * (double)n / o.t_opt * 1e-9;
            gbs[op][1] = OP_BYTES[op] * (double)n / o.t_ref * 1e-9;
            rat[op][0] = op == OP_MEMCPY ? 1.0 : o.r_opt;
            rat[op][1] = op == OP_MEMCPY ? 1.0 : o.r_ref;
        }
        const char *tag = ni == 0 ? "1m" : ni == 1 ? "16m" : "64m";
        for (int op = 0; op < OP_COUNT; op++) {
            printf("%-12s %6s %10.2f %8.2f %10.2f %8.2f %8.2f\n", OP_NAME[op], tag, gbs[op][0],
                   rat[op][0], gbs[op][1], rat[op][1], gbs[op][0] / gbs[op][1]);
            static const char *key[] = { "memcpy", "quantize", "dequantize", "fused", "minmax",
                                         "hist", "f16" };
            char kb[64];
            snprintf(kb, sizeof kb, "%s_gbs_%s", key[op], tag);
            jput(kb, gbs[op][0]);
            if (op) {
                snprintf(kb, sizeof kb, "%s_ref_gbs_%s", key[op], tag);
                jput(kb, gbs[op][1]);
                snprintf(kb, sizeof kb, "%s_vs_memcpy_%s", key[op], tag);
                jput(kb, rat[op][0]);
            }
            if (ni == 1 && op <= OP_FUSED) {        /* the headline keys: 16M elements */
                snprintf(kb, sizeof kb, "%s_gbs", key[op]);
                jput(kb, gbs[op][0]);
                if (op) {
                    snprintf(kb, sizeof kb, "%s_vs_memcpy", key[op]);
                    jput(kb, rat[op][0]);
                }
            }
        }
        printf("\n");
    }

    /* ---- the interactive path: new scheme on 16M elements ---- */
    {
        int64_t n = 1 << 24;
        const qs_kernels *k = opt;
        double t[9];
        uint64_t counts[128];
        for (int r = -1; r < 9; r++) {
            double t0 = now();
            float mn, mx;
            k->minmax(x, n, &mn, &mx);                          /* calibrate */
            int bits = 4 + (r & 3), qmin = 0, qmax = (1 << bits) - 1;
            mn = fminf(mn, 0.0f); mx = fmaxf(mx, 0.0f);         /* qparams (PyTorch rule) */
            float scale = fmaxf((mx - mn) / (float)(qmax - qmin), 1.1920929e-07f);
            float inv = 1.0f / scale;
            int zp = qmin - (int)nearbyintf(mn / scale);
            zp = zp < qmin ? qmin : zp > qmax ? qmax : zp;
            qs_layout l = { QS_G_TENSOR, 1, n, 1, 1 };
            qs_qp qp = { &scale, &inv, &zp, qmin, qmax, 0, QS_R_HALF_EVEN, 0 };
            memset(counts, 0, sizeof counts);
            qs_hist eh = { 128, -0.5 * scale, 0.5 * scale, counts, 0, 0, 0 };
            qs_errstats st;
            k->fakequant(x, &l, &qp, NULL, codes, &st, &eh);   /* codes + stats + hist */
            if (r >= 0) t[r] = now() - t0;
        }
        double ms = median(t, 9) * 1e3;
        printf("interactive path, 16M elements (minmax -> qparams -> codes + error stats + "
               "error histogram): %.2f ms\n\n", ms);
        jput("interactive_ms_16m", ms);
    }
    free(x); free(y); free(codes); free(h);

    tui_scheme_key();
    compare_channel();

    /* ---- GEMM ---- */
    void *lib = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!lib) lib = dlopen("libopenblas.so", RTLD_NOW | RTLD_LOCAL);
    sgemm_fn ob = lib ? (sgemm_fn)(uintptr_t)dlsym(lib, "cblas_sgemm") : NULL;
    printf("%-16s %10s %10s %10s %10s %10s %10s\n", "GEMM (MxNxK)", "int8 GOP/s", "f32 GFLOP/s",
           "OpenBLAS", "int8/f32", "f32/OB", "int8/OB");
    static const int64_t SH[][3] = { { 256, 256, 256 }, { 512, 512, 512 },
                                     { 1024, 1024, 1024 }, { 64, 256, 784 } };
    for (int s = 0; s < 4; s++) {
        int64_t M = SH[s][0], N = SH[s][1], K = SH[s][2];
        int reps = M * N * K > (1 << 28) ? 5 : 11;
        double g[5];
        time_gemm(opt, ob, M, N, K, reps, g);
        double gi = g[0], gf = g[1], go = ob ? g[2] : NAN;
        char name[32];
        snprintf(name, sizeof name, "%lldx%lldx%lld", (long long)M, (long long)N, (long long)K);
        printf("%-16s %10.1f %10.1f %10.1f %10.2f %10.2f %10.2f\n", name, gi, gf, go, gi / gf,
               g[3], g[4]);
        const char *tag = s == 0 ? "256" : s == 1 ? "512" : s == 2 ? "1024" : "mlp";
        char kb[64];
        snprintf(kb, sizeof kb, "gemm_int8_gops_%s", tag); jput(kb, gi);
        snprintf(kb, sizeof kb, "gemm_f32_gflops_%s", tag); jput(kb, gf);
        snprintf(kb, sizeof kb, "openblas_sgemm_gflops_%s", tag);
        if (ob) jput(kb, go); else jnull(kb);
        snprintf(kb, sizeof kb, "gemm_f32_vs_openblas_%s", tag);
        if (ob) jput(kb, g[3]); else jnull(kb);
        snprintf(kb, sizeof kb, "gemm_int8_vs_openblas_%s", tag);
        if (ob) jput(kb, g[4]); else jnull(kb);
    }
    if (!ob) printf("(OpenBLAS not found: no peer column)\n");

    /* ---- honest peers: OpenBLAS as installed and with its right core type, PyTorch ---- */
    corename_fn cn = lib ? (corename_fn)(uintptr_t)dlsym(lib, "openblas_get_corename") : NULL;
    setthreads_fn obt = lib ? (setthreads_fn)(uintptr_t)dlsym(lib, "openblas_set_num_threads") : NULL;
    const char *inst = cn ? cn() : NULL;
    if (inst) jstr("openblas_corename", inst); else jnull("openblas_corename");
    if (inst) {
        int same = want && strcasecmp(inst, want) == 0;
        printf("\nOpenBLAS as installed uses core \"%s\"; the right one here is \"%s\"%s\n", inst,
               want ? want : "(unknown CPU)",
               same ? " (the same: fair = installed)"
                    : fp ? "" : " (could not start the fair peer: fair = installed)");
        if (fp && !same)
            printf("fair peer: OPENBLAS_CORETYPE=%s, its OpenBLAS reports core \"%s\"\n", want,
                   fp->corename);
        jstr("openblas_fair_coretype", fp ? fp->corename : inst);
        if (same && fp) { fair_stop(fp); fp = NULL; }
    }
    const char *tv = getenv("QSCOPE_BENCH_TORCH");
    if (!tv || !*tv) printf("PyTorch peer: python3-torch not installed (apt-get install python3-torch): no T columns\n");
    else {
        /* which oneDNN kernel the quantized Linear ran (torch_gemm.py, ONEDNN_VERBOSE) */
        const char *im = strstr(tv, "torch_int8_impl=");
        char impl[64] = "";
        if (im) sscanf(im + 16, "%63[A-Za-z0-9_:.-]", impl);
        if (*impl) {
            printf("PyTorch int8 Linear runs oneDNN's %s%s\n", impl,
                   strstr(impl, "amx") ? " (AMX tiles); T vnni: the same capped at AVX512-VNNI"
                                         " (ONEDNN_MAX_CPU_ISA=AVX512_CORE_VNNI)" : "");
            jstr("torch_int8_impl", impl);
        }
    }
    peer_table(opt, ob, obt, fp, 1, 1);
    peer_table(opt, ob, obt, fp, 2, 0);
    if (fp) fair_stop(fp);
    const char *lab = getenv("QSCOPE_BENCH_LAB_FASHION");
    if (lab && *lab && strspn(lab, "0123456789.") == strlen(lab)) jput("lab_fashion_vs_torch", atof(lab));
    else jstr("lab_fashion_vs_torch", lab && *lab ? lab : "not measured: run through make bench");
    if (lib) dlclose(lib);
    jlen += (size_t)snprintf(json + jlen, sizeof json - jlen, "\n}\n");
    FILE *f = fopen(out, "w");
    if (!f) { perror(out); return 1; }
    fputs(json, f);
    fclose(f);
    printf("\nwrote %s\n", out);
    return 0;
}
