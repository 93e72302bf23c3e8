/* cache.c — the session's cache of calibrations and value histograms (session.h): a few
 * entries of each, keyed by everything they were computed from, least recently used out. */
#include "qscope/session.h"

#include <stdlib.h>
#include <string.h>

#include "qscope/calib.h"
#include "qscope/derive.h"
#include "qscope/kernels.h"
#include "qscope/quant.h"

#define CAL_SLOTS 4             /* calibrations kept (per-tensor and per-channel, two calibs) */
#define CAL_MAX_SETS 65536      /* larger calibrations (per-channel on 1-d data) are not kept */
#define HIST_SLOTS 2            /* value histograms kept */

/* What a calibration was computed from. */
typedef struct cal_key {
    const qs_tensor *t;     /* the tensor ... */
    uint64_t gen;           /* ... and the generation of its values */
    const qs_kernels *k;    /* the kernel table */
    qs_layout l;            /* the layout */
    int ggml;               /* the scheme is a ggml one (signed_max is filled) */
    int any_scheme;         /* minmax: the rest of the scheme does not matter */
    qs_scheme sc;           /* the scheme (compared unless any_scheme) */
    qs_calib c;             /* the calibrator's settings */
} cal_key;

typedef struct cal_slot {
    int used;               /* the slot holds an entry */
    uint64_t tick;          /* last use (LRU) */
    cal_key key;            /* what it was computed from */
    qs_calib_result r;      /* the result (owned) */
} cal_slot;

typedef struct hist_slot {
    int used;               /* the slot holds an entry */
    uint64_t tick;          /* last use (LRU) */
    const qs_tensor *t;     /* the tensor ... */
    uint64_t gen;           /* ... the generation of its values */
    const qs_kernels *k;    /* the kernel table */
    int bins;               /* bins */
    double lo, hi;          /* range */
    uint64_t *counts;       /* bins counts (owned) */
    uint64_t under, over, nan; /* the rest */
} hist_slot;

/* The power of the values (qs_derive_power), kept for derive's noise-model step. */
typedef struct power_slot {
    int used;               /* the slot holds an entry */
    const qs_tensor *t;     /* the tensor ... */
    uint64_t gen;           /* ... the generation of its values */
    double sum_x2;          /* Σx² over the finite values */
    int64_t n;              /* the finite values */
} power_slot;

typedef struct qs_cache {
    uint64_t tick;              /* use counter */
    power_slot power;           /* the current tensor's power */
    cal_slot cal[CAL_SLOTS];    /* calibrations */
    hist_slot hist[HIST_SLOTS]; /* value histograms */
} qs_cache;

/* ---- keys -------------------------------------------------------------------------------- */

/* Field by field (the structs have padding, so no memcmp). */
static int same_scheme(const qs_scheme *a, const qs_scheme *b)
{
    return a->kind == b->kind && a->bits == b->bits && a->is_signed == b->is_signed &&
           a->symmetric == b->symmetric && a->narrow == b->narrow && a->gran == b->gran &&
           a->axis == b->axis && a->group == b->group && a->round == b->round &&
           a->seed == b->seed && a->conv == b->conv && a->dq == b->dq &&
           a->ggml_type == b->ggml_type;
}

static int same_calib(const qs_calib *a, const qs_calib *b)
{
    /* bitwise for the doubles: the same settings, not "equal" ones (NaN never set) */
    return a->kind == b->kind && memcmp(&a->p, &b->p, sizeof a->p) == 0 &&
           a->two_sided == b->two_sided && memcmp(&a->momentum, &b->momentum, sizeof a->momentum) == 0 &&
           a->batch == b->batch && a->bins == b->bins &&
           memcmp(&a->lo, &b->lo, sizeof a->lo) == 0 && memcmp(&a->hi, &b->hi, sizeof a->hi) == 0;
}

static int same_layout(const qs_layout *a, const qs_layout *b)
{
    return a->gran == b->gran && a->outer == b->outer && a->len == b->len &&
           a->inner == b->inner && a->group == b->group;
}

static int same_cal_key(const cal_key *a, const cal_key *b)
{
    return a->t == b->t && a->gen == b->gen && a->k == b->k && same_layout(&a->l, &b->l) &&
           a->ggml == b->ggml && a->any_scheme == b->any_scheme &&
           (a->any_scheme || same_scheme(&a->sc, &b->sc)) && same_calib(&a->c, &b->c);
}

/* ---- copies ------------------------------------------------------------------------------ */

static void *dup_mem(const void *p, size_t n)
{
    if (!p) return NULL;
    void *d = malloc(n > 0 ? n : 1);
    if (d) memcpy(d, p, n);
    return d;
}

/* A deep copy of a calibration result; QS_ERR when memory runs out (*d is then empty). */
static int cal_copy(qs_calib_result *d, const qs_calib_result *r)
{
    size_t ns = (size_t)(r->nparams > 0 ? r->nparams : 1) * sizeof(float);
    size_t nc = (size_t)(r->ncurve > 0 ? r->ncurve : 0) * sizeof(double);
    *d = *r;
    d->lo = dup_mem(r->lo, ns);
    d->hi = dup_mem(r->hi, ns);
    d->obs_min = dup_mem(r->obs_min, ns);
    d->obs_max = dup_mem(r->obs_max, ns);
    d->signed_max = dup_mem(r->signed_max, ns);
    d->curve_x = dup_mem(r->curve_x, nc);
    d->curve_y = dup_mem(r->curve_y, nc);
    if ((r->lo && !d->lo) || (r->hi && !d->hi) || (r->obs_min && !d->obs_min) ||
        (r->obs_max && !d->obs_max) || (r->signed_max && !d->signed_max) ||
        (r->curve_x && !d->curve_x) || (r->curve_y && !d->curve_y)) {
        qs_calib_result_fini(d);
        return QS_ERR;
    }
    return QS_OK;
}

static qs_cache *cache_get(qs_session *s)
{
    if (!s->cache) s->cache = calloc(1, sizeof *s->cache);
    return s->cache;
}

static void cache_clear(qs_cache *c)
{
    if (!c) return;
    for (int i = 0; i < CAL_SLOTS; i++) {
        if (c->cal[i].used) qs_calib_result_fini(&c->cal[i].r);
        memset(&c->cal[i], 0, sizeof c->cal[i]);
    }
    for (int i = 0; i < HIST_SLOTS; i++) {
        free(c->hist[i].counts);
        memset(&c->hist[i], 0, sizeof c->hist[i]);
    }
    memset(&c->power, 0, sizeof c->power);
}

/* qs_session_fini's (declared in session.c, as qs_lab_free is) */
void qs_cache_free(qs_cache *c)
{
    cache_clear(c);
    free(c);
}

void qs_session_touch(qs_session *s)
{
    s->data_gen++;
    cache_clear(s->cache);
}

/* ---- calibrations ------------------------------------------------------------------------ */

int qs_session_calib(qs_session *s, const qs_layout *l, const qs_scheme *sc,
                     const qs_calib *c, qs_calib_result *out, qs_err *err)
{
    memset(out, 0, sizeof *out);
    const qs_tensor *t = s->tensor;
    if (!t) return qs_err_set(err, "calib: no tensor loaded");
    cal_key key;
    memset(&key, 0, sizeof key);
    key.t = t;
    key.gen = s->data_gen;
    key.k = qs_k();
    key.l = *l;
    key.ggml = sc->conv == QS_CONV_GGML || sc->kind == QS_Q_GGML;
    /* calib.c's minmax range is the observed one: the data and the layout decide it */
    key.any_scheme = c->kind == QS_CAL_MINMAX;
    key.sc = *sc;
    key.c = *c;
    qs_cache *cc = cache_get(s);
    if (cc) {
        for (int i = 0; i < CAL_SLOTS; i++) {
            cal_slot *e = &cc->cal[i];
            if (!e->used || !same_cal_key(&e->key, &key)) continue;
            e->tick = ++cc->tick;
            if (cal_copy(out, &e->r) == QS_OK) return QS_OK;
            return qs_err_set(err, "calib: out of memory");
        }
    }
    if (qs_calib_run(t->data, l, sc, c, out, err) != QS_OK) return QS_ERR;
    if (!cc || out->nparams > CAL_MAX_SETS) return QS_OK;
    cal_slot *e = &cc->cal[0];
    for (int i = 1; i < CAL_SLOTS && e->used; i++)
        if (!cc->cal[i].used || cc->cal[i].tick < e->tick) e = &cc->cal[i];
    qs_calib_result keep;
    if (cal_copy(&keep, out) != QS_OK) return QS_OK;   /* not kept: still a good result */
    if (e->used) qs_calib_result_fini(&e->r);
    e->used = 1;
    e->tick = ++cc->tick;
    e->key = key;
    e->r = keep;
    return QS_OK;
}

/* ---- value histograms -------------------------------------------------------------------- */

static void hist_add(qs_hist *h, const hist_slot *e)
{
    for (int i = 0; i < h->bins; i++) h->counts[i] += e->counts[i];
    h->under += e->under;
    h->over += e->over;
    h->nan += e->nan;
}

int qs_session_hist(qs_session *s, qs_hist *h, qs_err *err)
{
    const qs_tensor *t = s->tensor;
    if (!t) return qs_err_set(err, "hist: no tensor loaded");
    const qs_kernels *k = qs_k();
    qs_cache *cc = cache_get(s);
    if (cc) {
        for (int i = 0; i < HIST_SLOTS; i++) {
            hist_slot *e = &cc->hist[i];
            if (!e->used || e->t != t || e->gen != s->data_gen || e->k != k ||
                e->bins != h->bins || memcmp(&e->lo, &h->lo, sizeof h->lo) != 0 ||
                memcmp(&e->hi, &h->hi, sizeof h->hi) != 0)
                continue;
            e->tick = ++cc->tick;
            hist_add(h, e);
            return QS_OK;
        }
    }
    uint64_t *counts = cc ? calloc((size_t)(h->bins > 0 ? h->bins : 1), sizeof *counts) : NULL;
    if (!counts) {                      /* not kept: count straight into h */
        k->hist(t->data, t->n, h);
        return QS_OK;
    }
    qs_hist fresh = {h->bins, h->lo, h->hi, counts, 0, 0, 0};
    k->hist(t->data, t->n, &fresh);
    hist_slot *e = &cc->hist[0];
    for (int i = 1; i < HIST_SLOTS && e->used; i++)
        if (!cc->hist[i].used || cc->hist[i].tick < e->tick) e = &cc->hist[i];
    free(e->counts);
    e->used = 1;
    e->tick = ++cc->tick;
    e->t = t;
    e->gen = s->data_gen;
    e->k = k;
    e->bins = h->bins;
    e->lo = h->lo;
    e->hi = h->hi;
    e->counts = counts;
    e->under = fresh.under;
    e->over = fresh.over;
    e->nan = fresh.nan;
    hist_add(h, e);
    return QS_OK;
}

int qs_session_power(qs_session *s, double *sum_x2, int64_t *n, qs_err *err)
{
    const qs_tensor *t = s->tensor;
    if (!t) return qs_err_set(err, "derive: no tensor loaded");
    qs_cache *cc = cache_get(s);
    if (cc && cc->power.used && cc->power.t == t && cc->power.gen == s->data_gen) {
        *sum_x2 = cc->power.sum_x2;
        *n = cc->power.n;
        return QS_OK;
    }
    qs_derive_power(t->data, t->n, sum_x2, n);
    if (cc) cc->power = (power_slot){1, t, s->data_gen, *sum_x2, *n};
    return QS_OK;
}
