/* numline.c — the Derive screen's number line, the picture teachers draw on the board: the
 * float range (observed min and max, 0, the clip range, the followed x) above the integer
 * grid (qmin, the zero point, qmax, the code q of x), on one scale, with x's mapping drawn
 * between them. Every number comes from the library's results (derive, qparams, stats);
 * drawing only places them in columns. */
#include "tui_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "front/front.h"
#include "qscope/result.h"

#define NL_ROWS 6       /* float labels, float axis, mapping, integer axis, labels, summary */
#define NL_MAXW 512

static double jnum0(json_t *o, const char *key, size_t i, double dflt)
{
    json_t *v = o ? json_object_get(o, key) : NULL;
    if (json_is_array(v)) v = json_array_get(v, json_array_size(v) > i ? i : 0);
    return qs_tui_num(v, dflt);
}

/* The results the number line is drawn from: the derivation shown, its parameters and the
 * observed range (a seed example's own, or the session's). */
static json_t *nl_qparams(const qs_tui_model *m)
{
    return m->example ? m->ex_qparams : m->qparams;
}

/* The first step after which the scale and the zero point are both known (-1: the
 * derivation has neither, e.g. a float format or a codebook). */
static int known_step(const qs_tui_model *m)
{
    json_t *steps = json_object_get(m->derive, "steps");
    int sc = -1, zp = -1;
    size_t i;
    json_t *st;
    json_array_foreach(steps, i, st) {
        json_t *t = json_object_get(st, "title");
        if (!json_is_string(t)) continue;
        if (sc < 0 && strcmp(json_string_value(t), "scale") == 0) sc = (int)i;
        if (zp < 0 && strcmp(json_string_value(t), "zero point") == 0) zp = (int)i;
    }
    if (sc < 0) return -1;
    return zp > sc ? zp : sc;
}

int qs_tui_numline_rows(const qs_tui_model *m)
{
    if (m->dsrc != QS_DSRC_SCHEME) return 0;    /* a method's trace: no scale and zero point */
    qs_qparams_view qv;
    if (!m->derive || qs_qparams_view_get(nl_qparams(m), &qv, NULL) != QS_OK) return 0;
    int grid = !qv.format && !qv.has_codebook;  /* a float format or a codebook: none */
    qs_qparams_view_free(&qv);
    if (!grid) return 0;
    if (!json_is_number(json_object_get(m->derive, "code"))) return 0;
    int k = known_step(m);
    return k >= 0 && m->step >= k ? NL_ROWS : 0;
}

/* A row of labels: each placed at its column (shifted left to fit), skipped when it would
 * overlap one placed before it (labels are placed in priority order). */
typedef struct nl_row {
    char used[NL_MAXW];     /* 1: column taken */
    int wd;                 /* columns */
} nl_row;

static int label_free(const nl_row *r, int c, int n)
{
    if (c < 0 || c + n > r->wd) return 0;
    /* the gap of one column keeps neighbours apart */
    for (int k = c > 0 ? c - 1 : c; k < c + n + 1 && k < r->wd; k++)
        if (r->used[k]) return 0;
    return 1;
}

/* shift: how many columns to the right the label may move when its place is taken */
static void label(WINDOW *w, nl_row *r, int y, int x0, int col, int shift, attr_t a,
                  const char *text)
{
    int n = 0;
    for (const char *p = text; *p; p++) n += ((unsigned char)*p & 0xC0) != 0x80;
    int c = col;
    if (c + n > r->wd) c = r->wd - n;
    if (c < 0) c = 0;
    int k = 0;
    while (k <= shift && !label_free(r, c + k, n)) k++;
    if (k > shift) return;
    c += k;
    for (int i = c; i < c + n; i++) r->used[i] = 1;
    qs_tui_put(w, y, x0 + c, n, a, text);
}

static int col_of(double v, double lo, double hi, int wd)
{
    if (!(hi > lo)) return 0;
    int c = (int)floor((v - lo) / (hi - lo) * (wd - 1) + 0.5);
    return c < 0 ? 0 : c >= wd ? wd - 1 : c;
}

int qs_tui_draw_numline(const qs_tui_model *m, WINDOW *w, int y, int x, int wd)
{
    if (qs_tui_numline_rows(m) == 0) return 0;
    json_t *st = m->example ? m->ex_stats : m->stats, *d = m->derive;
    qs_qparams_view qv;
    if (qs_qparams_view_get(nl_qparams(m), &qv, NULL) != QS_OK) return 0;
    /* the parameter set the derivation used (per-channel: the followed element's) */
    size_t set = 0;
    json_t *sv = json_object_get(d, "set");
    if (json_is_integer(sv) && json_integer_value(sv) >= 0) set = (size_t)json_integer_value(sv);
    double s = qs_view_at(qv.scale, qv.nscale, set), zp = qs_view_zp(&qv, set, NAN);
    double qmin = qv.qmin, qmax = qv.qmax;
    double clo = qs_view_at(qv.clip_min, qv.nclip, set);
    double chi = qs_view_at(qv.clip_max, qv.nclip, set);
    qs_qparams_view_free(&qv);
    double dmin = jnum0(st, "min", 0, NAN), dmax = jnum0(st, "max", 0, NAN);
    double xv = jnum0(d, "x", 0, NAN), q = jnum0(d, "code", 0, NAN);
    double xh = jnum0(d, "dequant", 0, NAN), err = jnum0(d, "error", 0, NAN);
    if (!(s > 0) || !isfinite(zp) || !isfinite(qmin) || !isfinite(qmax)) return 0;
    int lw = 6;                     /* "float " / "int   " in front of the axes */
    wd -= lw;
    if (wd > NL_MAXW) wd = NL_MAXW;
    if (wd < 20) return 0;
    int x0 = x + lw;
    /* one scale for both axes: code c sits where its value (c - zp)·s does */
    double glo = (qmin - zp) * s, ghi = (qmax - zp) * s;
    double lo = fmin(0, glo), hi = fmax(0, ghi);
    if (isfinite(dmin)) lo = fmin(lo, dmin);
    if (isfinite(dmax)) hi = fmax(hi, dmax);
    if (isfinite(clo)) lo = fmin(lo, clo);
    if (isfinite(chi)) hi = fmax(hi, chi);
    double span = hi - lo;
    /* x inside a few spans is on the line; farther out it is drawn at the edge with an arrow */
    int x_out = 0;
    if (isfinite(xv) && xv >= lo - 3 * span && xv <= hi + 3 * span) {
        lo = fmin(lo, xv);
        hi = fmax(hi, xv);
    } else if (!isnan(xv)) {
        x_out = xv < lo ? -1 : 1;
    }
    if (!(hi > lo)) { lo -= 1; hi += 1; }
    const int u = m->utf8;
    attr_t dim = qs_tui_attr(m, QR_DIM), key = qs_tui_attr(m, QR_KEY), grid = qs_tui_attr(m, QR_GRID);
    attr_t clip = qs_tui_attr(m, QR_CLIP), zero = qs_tui_attr(m, QR_ZERO);
    char t[256], a[32];
    int yl = y, ya = y + 1, ym = y + 2, yi = y + 3, yb = y + 4;
    qs_tui_put(w, ya, x, lw, dim, "float");
    qs_tui_put(w, yi, x, lw, dim, "int");
    /* the float axis: the clip range drawn heavier */
    for (int c = 0; c < wd; c++) {
        double v = lo + (hi - lo) * c / (wd - 1);
        int in = isfinite(clo) && isfinite(chi) && v >= clo && v <= chi;
        qs_tui_put(w, ya, x0 + c, 1, in ? grid : dim, in ? (u ? "━" : "=") : (u ? "─" : "-"));
    }
    /* the integer axis, with its codes as ticks when they are a few columns apart */
    int g0 = col_of(glo, lo, hi, wd), g1 = col_of(ghi, lo, hi, wd);
    for (int c = g0; c <= g1; c++) qs_tui_put(w, yi, x0 + c, 1, grid, u ? "─" : "-");
    double colw = (hi - lo) / (wd - 1);
    if (s >= 3 * colw)
        for (double c = qmin; c <= qmax; c++)
            qs_tui_put(w, yi, x0 + col_of((c - zp) * s, lo, hi, wd), 1, grid, u ? "┼" : "+");
    nl_row top = {{0}, wd}, bot = {{0}, wd};
    int cx = x_out < 0 ? 0 : x_out > 0 ? wd - 1 : col_of(xv, lo, hi, wd);
    int cq = isfinite(xh) ? col_of(xh, lo, hi, wd) : col_of((q - zp) * s, lo, hi, wd);
    /* markers on the axes */
    int cmin = col_of(dmin, lo, hi, wd), cmax = col_of(dmax, lo, hi, wd), c0 = col_of(0, lo, hi, wd);
    if (isfinite(clo)) qs_tui_put(w, ya, x0 + col_of(clo, lo, hi, wd), 1, clip, "[");
    if (isfinite(chi)) qs_tui_put(w, ya, x0 + col_of(chi, lo, hi, wd), 1, clip, "]");
    if (isfinite(dmin)) qs_tui_put(w, ya, x0 + cmin, 1, dim, "|");
    if (isfinite(dmax)) qs_tui_put(w, ya, x0 + cmax, 1, dim, "|");
    qs_tui_put(w, ya, x0 + c0, 1, zero, "0");
    qs_tui_put(w, yi, x0 + g0, 1, grid, "|");
    qs_tui_put(w, yi, x0 + g1, 1, grid, "|");
    int czp = col_of(0, lo, hi, wd);  /* the zero point is the code of 0.0 */
    qs_tui_put(w, yi, x0 + czp, 1, zero, u ? "◆" : "o");
    /* x and its mapping down to q */
    if (!isnan(xv)) {
        qs_tui_put(w, ya, x0 + cx, 1, key, x_out < 0 ? (u ? "◀" : "<") : x_out > 0 ? (u ? "▶" : ">")
                                                                      : (u ? "●" : "x"));
        if (cq == cx) qs_tui_put(w, ym, x0 + cx, 1, key, u ? "↓" : "v");
        else {
            /* clamped (or rounded a column away): a hook from x over to q */
            int a0 = cx < cq ? cx : cq, a1 = cx < cq ? cq : cx;
            for (int c = a0; c <= a1; c++) qs_tui_put(w, ym, x0 + c, 1, key, u ? "─" : "-");
            qs_tui_put(w, ym, x0 + cx, 1, key, cx < cq ? (u ? "└" : "`") : (u ? "┘" : "'"));
            qs_tui_put(w, ym, x0 + cq, 1, key, u ? "↓" : "v");
        }
        qs_tui_put(w, yi, x0 + cq, 1, key, u ? "●" : "q");
    }
    /* labels, most important first: x and q, then the ends, the zero point */
    if (!isnan(xv)) {
        qs_fmt_num(a, sizeof a, xv, 6);
        /* x on an end of the range says so (following 1000 of [-20, 1000]) */
        const char *is = xv == dmax ? "x = max " : xv == dmin ? "x = min " : "x ";
        snprintf(t, sizeof t, "%s%s", is, a);
        label(w, &top, yl, x0, cx - 1, 0, key, t);
        snprintf(t, sizeof t, "q %.0f", q);
        label(w, &bot, yb, x0, cq - 1, 0, key, t);
    }
    qs_fmt_num(a, sizeof a, dmin, 6);
    snprintf(t, sizeof t, "min %s", a);
    if (isfinite(dmin) && xv != dmin) label(w, &top, yl, x0, cmin, 4, dim, t);
    qs_fmt_num(a, sizeof a, dmax, 6);
    snprintf(t, sizeof t, "max %s", a);
    if (isfinite(dmax) && xv != dmax) label(w, &top, yl, x0, cmax - (int)strlen(t) + 1, 0, dim, t);
    snprintf(t, sizeof t, "qmin %.0f", qmin);
    label(w, &bot, yb, x0, g0, 0, grid, t);
    snprintf(t, sizeof t, "qmax %.0f", qmax);
    label(w, &bot, yb, x0, g1 - (int)strlen(t) + 1, 0, grid, t);
    snprintf(t, sizeof t, "zp %.0f", zp);
    label(w, &bot, yb, x0, czp - 1, 12, zero, t);
    if (isfinite(clo) && isfinite(chi)) {
        char b[32];
        qs_fmt_num(a, sizeof a, clo, 6);
        qs_fmt_num(b, sizeof b, chi, 6);
        snprintf(t, sizeof t, "clip [%s, %s]", a, b);
        label(w, &top, yl, x0, col_of((clo + chi) / 2, lo, hi, wd) - (int)strlen(t) / 2, 8,
              clip, t);
    }
    /* the mapping in one line, numbers from the derivation */
    if (!isnan(xv)) {
        char b[32], c[32], e[32];
        qs_fmt_num(a, sizeof a, xv, 6);
        qs_fmt_num(b, sizeof b, xh, 6);
        qs_fmt_num(c, sizeof c, s, 6);
        qs_fmt_num(e, sizeof e, err, 3);
        snprintf(t, sizeof t, "x = %s %s q = %.0f %s x%s = %s  (scale %s, error %s)", a,
                 u ? "↦" : "->", q, u ? "↦" : "->", u ? "\xcc\x82" : "^", b, c, e);
        qs_tui_put(w, y + 5, x, wd + lw, dim, t);
    }
    return NL_ROWS;
}
