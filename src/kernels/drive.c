/* drive.c — the threading drivers shared by every kernel table: split work into fixed
 * chunks (QK_CHUNK elements), run them on qs_k_threads() OpenMP threads, and combine
 * partial results in chunk order so that results never depend on the thread count. When a
 * scratch allocation fails the driver falls back to the calling thread (same results). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "kint.h"

static int64_t nchunks(int64_t n) { return (n + QK_CHUNK - 1) / QK_CHUNK; }

static int use_threads(int64_t n)
{
    return n >= QK_PAR_MIN && qs_k_threads() > 1;
}

void qk_stats_merge(qs_errstats *into, const qs_errstats *from)
{
    into->n += from->n;
    into->n_nan += from->n_nan;
    into->clipped += from->clipped;
    into->sum_x2 += from->sum_x2;
    into->sum_y2 += from->sum_y2;
    into->sum_xy += from->sum_xy;
    into->sum_e += from->sum_e;
    into->sum_e2 += from->sum_e2;
    if (from->max_abs_e > into->max_abs_e) into->max_abs_e = from->max_abs_e;
}

void qk_run_range(int64_t n, qk_range_fn fn, void *ctx)
{
    if (n <= 0) return;
    if (!use_threads(n)) { fn(ctx, 0, n); return; }
    int64_t nc = nchunks(n);
    #pragma omp parallel for schedule(dynamic, 1) num_threads(qs_k_threads())
    for (int64_t c = 0; c < nc; c++) {
        int64_t e1 = (c + 1) * QK_CHUNK;
        fn(ctx, c * QK_CHUNK, e1 < n ? e1 : n);
    }
}

void qk_drive_minmax(const float *x, int64_t n, float *mn, float *mx, qk_minmax_fn fn)
{
    *mn = INFINITY; *mx = -INFINITY;
    if (n <= 0) return;
    if (!use_threads(n)) { fn(x, n, mn, mx); return; }
    int64_t nc = nchunks(n);
    float *part = malloc((size_t)nc * 2 * sizeof *part);
    if (!part) { fn(x, n, mn, mx); return; }
    #pragma omp parallel for schedule(dynamic, 1) num_threads(qs_k_threads())
    for (int64_t c = 0; c < nc; c++) {
        int64_t e1 = (c + 1) * QK_CHUNK;
        part[2 * c] = INFINITY; part[2 * c + 1] = -INFINITY;
        fn(x + c * QK_CHUNK, (e1 < n ? e1 : n) - c * QK_CHUNK, &part[2 * c], &part[2 * c + 1]);
    }
    for (int64_t c = 0; c < nc; c++) {
        if (part[2 * c] < *mn) *mn = part[2 * c];
        if (part[2 * c + 1] > *mx) *mx = part[2 * c + 1];
    }
    free(part);
}

void qk_drive_minmax_layout(const float *x, const qs_layout *l, float *mn, float *mx,
                            qk_minmax_layout_fn fn, qk_minmax_fn tensor_fn)
{
    int64_t n = qs_layout_numel(l), np = qs_layout_nparams(l);
    if (l->gran == QS_G_TENSOR) { qk_drive_minmax(x, n, mn, mx, tensor_fn); return; }
    for (int64_t p = 0; p < np; p++) { mn[p] = INFINITY; mx[p] = -INFINITY; }
    if (n <= 0) return;
    int nt = qs_k_threads();
    float *priv = NULL;
    if (use_threads(n)) priv = malloc((size_t)nt * (size_t)np * 2 * sizeof *priv);
    if (!priv) { fn(x, l, 0, n, mn, mx); return; }
    int64_t nc = nchunks(n);
    #pragma omp parallel num_threads(nt)
    {
        int t = omp_get_thread_num(), nth = omp_get_num_threads();
        float *pmn = priv + (size_t)t * (size_t)np * 2, *pmx = pmn + np;
        for (int64_t p = 0; p < np; p++) { pmn[p] = INFINITY; pmx[p] = -INFINITY; }
        int64_t c0 = nc * t / nth, c1 = nc * (t + 1) / nth;
        int64_t e0 = c0 * QK_CHUNK, e1 = c1 * QK_CHUNK < n ? c1 * QK_CHUNK : n;
        if (e0 < e1) fn(x, l, e0, e1, pmn, pmx);
        #pragma omp barrier
        /* combine: each thread owns a slice of the parameters */
        int64_t p0 = np * t / nth, p1 = np * (t + 1) / nth;
        for (int u = 0; u < nth; u++) {
            const float *umn = priv + (size_t)u * (size_t)np * 2, *umx = umn + np;
            for (int64_t p = p0; p < p1; p++) {
                if (umn[p] < mn[p]) mn[p] = umn[p];
                if (umx[p] > mx[p]) mx[p] = umx[p];
            }
        }
    }
    free(priv);
}

/* adds the private histogram `from` into `into` */
static void hist_merge(qs_hist *into, const qs_hist *from)
{
    for (int b = 0; b < into->bins; b++) into->counts[b] += from->counts[b];
    into->under += from->under;
    into->over += from->over;
    into->nan += from->nan;
}

/* nt private copies of h's shape, counts zeroed; NULL when out of memory */
static qs_hist *hist_private(const qs_hist *h, int nt)
{
    qs_hist *ph = calloc((size_t)nt, sizeof *ph);
    uint64_t *counts = calloc((size_t)nt * (size_t)(h->bins > 0 ? h->bins : 1),
                              sizeof *counts);
    if (!ph || !counts) { free(ph); free(counts); return NULL; }
    for (int t = 0; t < nt; t++) {
        ph[t] = *h;
        ph[t].counts = counts + (size_t)t * (size_t)(h->bins > 0 ? h->bins : 1);
        ph[t].under = ph[t].over = ph[t].nan = 0;
    }
    return ph;
}
static void hist_private_free(qs_hist *ph)
{
    if (ph) { free(ph[0].counts); free(ph); }
}

void qk_drive_hist(const float *x, int64_t n, qs_hist *h, qk_hist_fn fn)
{
    if (n <= 0) return;
    int nt = qs_k_threads();
    qs_hist *ph = use_threads(n) ? hist_private(h, nt) : NULL;
    if (!ph) { fn(x, n, h); return; }
    int64_t nc = nchunks(n);
    #pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
    for (int64_t c = 0; c < nc; c++) {
        int64_t e1 = (c + 1) * QK_CHUNK;
        fn(x + c * QK_CHUNK, (e1 < n ? e1 : n) - c * QK_CHUNK, &ph[omp_get_thread_num()]);
    }
    for (int t = 0; t < nt; t++) hist_merge(h, &ph[t]);
    hist_private_free(ph);
}

/* The shared skeleton of fakequant and errstats: chunk c's statistics go to part[c] and are
 * added in chunk order; the error histogram goes to per-thread private copies. */
typedef struct fq_job {
    const float *x; const qs_layout *l; const qs_qp *qp; float *y; uint8_t *codes;
    const float *yin;   /* errstats: the given approximation */
    qk_fq_fn fq; qk_es_fn es;
} fq_job;

static void fq_chunk(const fq_job *j, int64_t e0, int64_t e1, qs_errstats *st, qs_hist *eh)
{
    memset(st, 0, sizeof *st);
    if (j->fq) j->fq(j->x, j->l, j->qp, j->y, j->codes, e0, e1, st, eh);
    else j->es(j->x, j->yin, e0, e1, st, eh);
}

static void drive_stats(const fq_job *j, int64_t n, qs_errstats *st, qs_hist *eh)
{
    memset(st, 0, sizeof *st);
    if (n <= 0) return;
    int64_t nc = nchunks(n);
    int nt = qs_k_threads();
    qs_errstats *part = use_threads(n) ? malloc((size_t)nc * sizeof *part) : NULL;
    qs_hist *ph = part && eh ? hist_private(eh, nt) : NULL;
    if (!part || (eh && !ph)) {
        /* serial: the same chunks, merged in the same order */
        qs_errstats cs;
        for (int64_t c = 0; c < nc; c++) {
            int64_t e1 = (c + 1) * QK_CHUNK;
            fq_chunk(j, c * QK_CHUNK, e1 < n ? e1 : n, &cs, eh);
            qk_stats_merge(st, &cs);
        }
        free(part);
        hist_private_free(ph);
        return;
    }
    #pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
    for (int64_t c = 0; c < nc; c++) {
        int64_t e1 = (c + 1) * QK_CHUNK;
        fq_chunk(j, c * QK_CHUNK, e1 < n ? e1 : n, &part[c],
                 ph ? &ph[omp_get_thread_num()] : NULL);
    }
    for (int64_t c = 0; c < nc; c++) qk_stats_merge(st, &part[c]);
    if (ph) for (int t = 0; t < nt; t++) hist_merge(eh, &ph[t]);
    free(part);
    hist_private_free(ph);
}

void qk_drive_fakequant(const float *x, const qs_layout *l, const qs_qp *qp, float *y,
                        uint8_t *codes, qs_errstats *st, qs_hist *eh, qk_fq_fn fn)
{
    fq_job j = { x, l, qp, y, codes, NULL, fn, NULL };
    drive_stats(&j, qs_layout_numel(l), st, eh);
}

void qk_drive_errstats(const float *x, const float *y, int64_t n, qs_errstats *st,
                       qs_hist *eh, qk_es_fn fn)
{
    fq_job j = { x, NULL, NULL, NULL, NULL, y, NULL, fn };
    drive_stats(&j, n, st, eh);
}
