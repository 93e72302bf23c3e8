/* render.c — renders command results (JSON objects) as terminal text: aligned key/value
 * lists, tables for arrays of objects, histograms as bars, bit layouts, derivation traces. */
#include "front/front.h"
#include "qscope/io.h"
#include "qscope/result.h"

#include <langinfo.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define C_RESET "\033[0m"
#define C_BOLD "\033[1m"
#define C_DIM "\033[2m"
#define C_SIGN "\033[35m"
#define C_EXP "\033[32m"
#define C_MANT "\033[34m"
#define C_ERR "\033[31m"

void qs_render_opts_for(const qs_session *s, FILE *f, qs_render_opts *o)
{
    int tty = isatty(fileno(f));
    const char *nc = getenv("NO_COLOR");
    memset(o, 0, sizeof *o);
    o->color = s && s->color >= 0 ? s->color : (tty && !(nc && *nc));
    const char *cs = nl_langinfo(CODESET);
    o->utf8 = cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
    o->precision = s && s->precision > 0 ? s->precision : 6;
    o->width = 80;
    struct winsize ws;
    if (tty && ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) o->width = ws.ws_col;
    else if (getenv("COLUMNS")) {
        int c = atoi(getenv("COLUMNS"));
        if (c > 20 && c < 1000) o->width = c;
    }
}

void qs_fmt_num(char *buf, size_t len, double v, int precision)
{
    if (isnan(v)) snprintf(buf, len, "nan");
    else if (isinf(v)) snprintf(buf, len, v > 0 ? "inf" : "-inf");
    else if (v == floor(v) && fabs(v) < 1e15) snprintf(buf, len, "%.0f", v);
    /* a large number keeps its digits (36110839844, not 3.61108e+10): the integer part is
     * more than the precision asked for, never less */
    else if (fabs(v) >= pow(10.0, precision) && fabs(v) < 1e15) snprintf(buf, len, "%.0f", v);
    else snprintf(buf, len, "%.*g", precision, v);
}

/* Text of a scalar JSON value. */
static void scalar_str(json_t *v, char *buf, size_t len, int prec)
{
    switch (json_typeof(v)) {
    case JSON_STRING: snprintf(buf, len, "%s", json_string_value(v)); break;
    case JSON_INTEGER: snprintf(buf, len, "%lld", (long long)json_integer_value(v)); break;
    case JSON_REAL: qs_fmt_num(buf, len, json_real_value(v), prec); break;
    case JSON_TRUE: snprintf(buf, len, "yes"); break;
    case JSON_FALSE: snprintf(buf, len, "no"); break;
    case JSON_NULL: snprintf(buf, len, "-"); break;
    default: snprintf(buf, len, "…"); break;
    }
}

/* Display width of a UTF-8 string (counts code points; good enough for our output). */
static int dwidth(const char *s)
{
    int w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) w++;
    return w;
}

/* Display width of the first len bytes of s. */
static int dwidth_n(const char *s, int len)
{
    int w = 0;
    for (int i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) w++;
    return w;
}

static void pad(FILE *f, int n)
{
    for (int i = 0; i < n; i++) fputc(' ', f);
}

static int is_scalar(json_t *v)
{
    return !json_is_object(v) && !json_is_array(v);
}

/* An array of scalars printed compactly on one line of at most `room` columns (at least
 * one item): "[a, b, c, … (N in all)]". */
static void num_list(FILE *f, json_t *a, int prec, int room)
{
    size_t n = json_array_size(a), i;
    char buf[64], tail[48];
    int col = 1;
    fputc('[', f);
    for (i = 0; i < n; i++) {
        scalar_str(json_array_get(a, i), buf, sizeof buf, prec);
        int w = (int)strlen(buf) + (i ? 2 : 0);
        int tw = i + 1 < n ? snprintf(tail, sizeof tail, ", … (%zu in all)", n) : 0;
        if (i > 0 && col + w + tw + 1 > room) break;
        fprintf(f, i ? ", %s" : "%s", buf);
        col += w;
    }
    if (i < n) fprintf(f, ", … (%zu in all)", n);
    fputc(']', f);
}

/* The levels of a sparkline: eight block heights, or ASCII. */
static const char *spark_level(double frac, int utf8)
{
    static const char *const u[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    static const char *const a[] = {"_", ".", "-", ":", "=", "+", "*", "#"};
    int k = (int)lround(frac * 7);     /* the top level for the maximum only */
    if (k < 0) k = 0;
    if (k > 7) k = 7;
    return utf8 ? u[k] : a[k];
}

/* A long series as one line: values resampled to at most `room` columns (maximum of each
 * column's share), each drawn by its height between the series' min and max; a zero
 * count stays blank so empty histogram bins show. */
static void sparkline(FILE *f, json_t *a, int room, int counts, int utf8)
{
    size_t n = json_array_size(a);
    if (room < 8) room = 8;
    size_t cols = n < (size_t)room ? n : (size_t)room;
    double mn = INFINITY, mx = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double v = json_number_value(json_array_get(a, i));
        if (!isfinite(v)) continue;
        if (v < mn) mn = v;
        if (v > mx) mx = v;
    }
    if (counts) mn = 0;
    for (size_t c = 0; c < cols; c++) {
        size_t b = c * n / cols, e = (c + 1) * n / cols;
        double v = -INFINITY;
        for (size_t i = b; i < e; i++) {
            double x = json_number_value(json_array_get(a, i));
            if (isfinite(x) && x > v) v = x;
        }
        if (!isfinite(v) || (counts && v <= 0)) fputc(' ', f);
        else fputs(spark_level(mx > mn ? (v - mn) / (mx - mn) : 1.0, utf8), f);
    }
}

static int is_number_array(json_t *a, size_t min_len)
{
    size_t i;
    json_t *v;
    if (!json_is_array(a) || json_array_size(a) < min_len) return 0;
    json_array_foreach(a, i, v) if (!json_is_number(v)) return 0;
    return 1;
}

static int all_scalars(json_t *a)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) if (!is_scalar(v)) return 0;
    return 1;
}

static int all_objects(json_t *a)
{
    size_t i;
    json_t *v;
    if (json_array_size(a) == 0) return 0;
    json_array_foreach(a, i, v) if (!json_is_object(v)) return 0;
    return 1;
}

static void wrap(FILE *f, const char *text, int indent, int width);

/* 1 when key names an accuracy's 95% interval (X_ci95). */
static int is_ci95(const char *key)
{
    size_t kl = key ? strlen(key) : 0;
    return kl > 5 && strcmp(key + kl - 5, "_ci95") == 0;
}

/* Text of one table cell: a scalar; a short array under a key naming a shape as "A×B" (an
 * empty one "scalar"), a 95% interval (X_ci95) as "[lo, hi]", any other short array as
 * "a, b, c" (an interval printed as "0.95×0.98" read as a product). */
static void cell_str(json_t *cell, const char *key, char *buf, size_t len, int prec)
{
    size_t kl = key ? strlen(key) : 0;
    int shape = kl >= 5 && strcmp(key + kl - 5, "shape") == 0;
    int ci = is_ci95(key);
    if (!cell) {
        buf[0] = '\0';
    } else if (json_is_array(cell)) {
        char *p = buf;
        size_t left = len, j;
        json_t *x;
        p[0] = '\0';
        if (ci && left > 2) {
            *p++ = '[';
            *p = '\0';
            left--;
        }
        json_array_foreach(cell, j, x) {
            char t[64];
            scalar_str(x, t, sizeof t, prec);
            int m = snprintf(p, left, "%s%s", !j ? "" : shape ? "×" : ", ", t);
            if (m < 0 || (size_t)m >= left) break;
            p += m;
            left -= (size_t)m;
        }
        if (ci && left > 1) snprintf(p, left, "]");
        if (shape && json_array_size(cell) == 0) snprintf(buf, len, "scalar");
    } else {
        scalar_str(cell, buf, len, prec);
    }
}

/* The value of column k in the first row that has it (rows may differ in their keys). */
static json_t *col_first(json_t *rows, const char *k)
{
    size_t i;
    json_t *row, *v;
    json_array_foreach(rows, i, row)
        if ((v = json_object_get(row, k))) return v;
    return NULL;
}

/* A table from an array of objects: columns are the keys of the rows, the first row's first
 * (a key only some rows have, such as generate's same_as_first, leaves the others' cells
 * empty); scalars only, short scalar arrays shown inline (cell_str), a column whose first
 * value is a list or an object named under the table. Too wide for o->width: one blank
 * between columns, then accuracies' 95% intervals (X_ci95) are left out, then columns that
 * hold the same value in every row move to a note under the table, then columns are left
 * out from the right (named in the note). */
static void table(FILE *f, json_t *rows, const qs_render_opts *o, int indent, json_t *pref)
{
    enum { MAXC = 24 };
    const char *cols[MAXC];
    int w[MAXC], keep[MAXC], same[MAXC], text[MAXC], nc = 0, cutw = -1;
    json_t *first = json_array_get(rows, 0);
    const char *k;
    json_t *v, *row;
    char buf[256], fbuf[256];
    size_t i, nrows = json_array_size(rows);
    /* the result's "columns" (pref), when it names them, come first and in its order: the
     * columns left out when the table is too wide are the others */
    const char *order[2 * MAXC];
    int no = 0;
    for (size_t j = 0; j < json_array_size(pref) && no < MAXC; j++) {
        const char *pk = json_string_value(json_array_get(pref, j));
        if (pk && col_first(rows, pk)) order[no++] = pk;
    }
    json_array_foreach(rows, i, row) {
        json_object_foreach(row, k, v) {
            int dup = 0;
            for (int j = 0; j < no && !dup; j++) dup = strcmp(order[j], k) == 0;
            if (!dup && no < 2 * MAXC) order[no++] = k;
        }
    }
    char nested[256] = "";          /* keys whose values a table cell cannot hold */
    size_t nn = 0;
    for (int j = 0; j < no; j++) {
        k = order[j];
        v = col_first(rows, k);
        if (nc >= MAXC) break;
        if (json_is_object(v) || (json_is_array(v) && !(all_scalars(v) &&
                                                        json_array_size(v) <= 8))) {
            if (nn < sizeof nested)
                nn += (size_t)snprintf(nested + nn, sizeof nested - nn, " %s", k);
            continue;
        }
        cols[nc] = k;
        w[nc] = dwidth(k);
        keep[nc] = 1;
        same[nc] = nrows > 1;
        text[nc] = 1;
        nc++;
    }
    for (int c = 0; c < nc; c++) {
        cell_str(json_object_get(first, cols[c]), cols[c], fbuf, sizeof fbuf, o->precision);
        json_array_foreach(rows, i, row) {
            cell_str(json_object_get(row, cols[c]), cols[c], buf, sizeof buf, o->precision);
            int dw = dwidth(buf);
            if (dw > w[c]) w[c] = dw;
            if (strcmp(buf, fbuf) != 0) same[c] = 0;
            if (!json_is_string(json_object_get(row, cols[c]))) text[c] = 0;
        }
    }
    int gap = 2, total = indent;
    for (int c = 0; c < nc; c++) total += w[c] + (c ? gap : 0);
    int nsame = 0, ncut = 0;
    /* an accuracy's 95% interval (X_ci95) is the first to give way: X itself stays */
    for (int c = nc - 1; c > 0 && total > o->width; c--) {
        if (keep[c] && is_ci95(cols[c])) {
            keep[c] = 0;
            same[c] = 0;
            total -= w[c] + gap;
            ncut++;
        }
    }
    if (total > o->width) {
        int nk = 0;
        for (int c = 0; c < nc; c++) nk += keep[c];
        gap = 1;
        total -= nk - 1;
    }
    for (int c = 1; c < nc && total > o->width; c++)
        if (same[c]) {
            keep[c] = 0;
            total -= w[c] + gap;
            nsame++;
        }
    /* the last column holds text (generated text, a label) and 12 columns of it fit: it is
     * cut to the width, with "…", rather than left out */
    for (int c = nc - 1; c > 0 && total > o->width; c--)
        if (keep[c]) {
            if (text[c] && !same[c] && total - w[c] + 12 <= o->width) {
                w[c] -= total - o->width;
                total = o->width;
                cutw = c;
                break;
            }
            keep[c] = 0;
            same[c] = 0;
            total -= w[c] + gap;
            ncut++;
        }
    int last = 0;
    for (int c = 0; c < nc; c++) if (keep[c]) last = c;
    pad(f, indent);
    for (int c = 0; c < nc; c++) {
        if (!keep[c]) continue;
        fprintf(f, "%s%s%s", o->color ? C_BOLD : "", cols[c], o->color ? C_RESET : "");
        if (c < last) pad(f, w[c] - dwidth(cols[c]) + gap);
    }
    fputc('\n', f);
    json_array_foreach(rows, i, row) {
        pad(f, indent);
        for (int c = 0; c < nc; c++) {
            if (!keep[c]) continue;
            json_t *cell = json_object_get(row, cols[c]);
            cell_str(cell, cols[c], buf, sizeof buf, o->precision);
            if (c == cutw && dwidth(buf) > w[c]) {     /* cut at w - 1 columns, then "…" */
                int b = 0;
                for (int col = 0; buf[b] && col < w[c] - 1; b++)
                    if (((unsigned char)buf[b + 1] & 0xC0) != 0x80) col++;
                snprintf(buf + b, sizeof buf - (size_t)b, "…");
            }
            int right = json_is_number(cell) || json_is_null(cell);  /* "-": no number */
            int dw = dwidth(buf);
            if (right) pad(f, w[c] - dw);
            fputs(buf, f);
            if (c < last) pad(f, (right ? 0 : w[c] - dw) + gap);
        }
        fputc('\n', f);
    }
    char note[2048];
    size_t nl = 0;
    if (nsame) {
        nl = (size_t)snprintf(note, sizeof note, "every row:");
        for (int c = 0; c < nc && nl < sizeof note; c++)
            if (!keep[c] && same[c]) {
                cell_str(json_object_get(first, cols[c]), cols[c], buf, sizeof buf, o->precision);
                nl += (size_t)snprintf(note + nl, sizeof note - nl, " %s %s%s", cols[c], buf,
                                       --nsame ? "," : "");
            }
        pad(f, indent);
        wrap(f, note, indent, o->width);
    }
    if (ncut) {
        nl = (size_t)snprintf(note, sizeof note, "too wide to show:");
        for (int c = 0; c < nc && nl < sizeof note; c++)
            if (!keep[c] && !same[c])
                nl += (size_t)snprintf(note + nl, sizeof note - nl, " %s", cols[c]);
        if (nl < sizeof note)
            snprintf(note + nl, sizeof note - nl, " (--json or 'set json on' has them)");
        pad(f, indent);
        wrap(f, note, indent, o->width);
    }
    if (cutw >= 0) {
        snprintf(note, sizeof note, "%s cut to the width (--json or 'set json on' has it all)",
                 cols[cutw]);
        pad(f, indent);
        wrap(f, note, indent, o->width);
    }
    if (nn) {       /* lab gpt acts' top_channels once vanished without a word */
        snprintf(note, sizeof note, "not in the table:%s (lists in each row; --json or 'set "
                 "json on' has them)", nested);
        pad(f, indent);
        wrap(f, note, indent, o->width);
    }
}

/* Histogram bars (a QS_R_HIST result). */
static void histogram(FILE *f, const qs_hist_view *h, const qs_render_opts *o)
{
    size_t n = h->n;
    int logscale = h->log;
    double mx = 0;
    char lo[32], hi[32];
    for (size_t i = 0; i < n; i++) {
        double c = (double)h->counts[i];
        if (logscale) c = log10(1 + c);
        if (c > mx) mx = c;
    }
    int barw = o->width - 34;
    if (barw < 10) barw = 10;
    static const char *const eighths[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
    for (size_t i = 0; i < n; i++) {
        long long c = h->counts[i];
        double v = logscale ? log10(1 + (double)c) : (double)c;
        double len = mx > 0 ? v / mx * barw : 0;
        qs_fmt_num(lo, sizeof lo, h->edges[i], 4);
        qs_fmt_num(hi, sizeof hi, h->edges[i + 1], 4);
        fprintf(f, "%10s … %-10s %8lld", lo, hi, c);
        int full = (int)len, part = o->utf8 ? (int)((len - full) * 8) : 0;
        if (full > 0 || part > 0) fputc(' ', f);       /* no trailing blank on empty bins */
        for (int k = 0; k < full; k++) fputs(o->utf8 ? "█" : "#", f);
        if (part > 0) fputs(eighths[part], f);
        fputc('\n', f);
    }
    if (logscale) fputs("(bar lengths on a log scale: log10(1 + count))\n", f);
    long long u = h->under, ov = h->over, nn = h->nan;
    if (u || ov || nn) fprintf(f, "below range %lld, above range %lld, NaN %lld\n", u, ov, nn);
}

/* Bit layout of a number format (a QS_R_BITS result). */
static void bits_layout(FILE *f, const qs_bits_view *b, const qs_render_opts *o)
{
    const char *sg = b->sign_bits, *ex = b->exponent_bits, *ma = b->mantissa_bits;
    const char *fmt = b->format, *hex = b->hex;
    fprintf(f, "%s%s%s  %s\n", o->color ? C_BOLD : "", fmt ? fmt : "?", o->color ? C_RESET : "",
            hex ? hex : "");
    if (ex && ma && !sg) {      /* unsigned float (E8M0): exponent bits only */
        fprintf(f, "  %s%s%s\n  exp\n", o->color ? C_EXP : "", ex, o->color ? C_RESET : "");
    } else if (ex && ma) {
        fprintf(f, "  %s%s%s %s%s%s %s%s%s\n", o->color ? C_SIGN : "",
                sg ? sg : (b->sign ? "1" : "0"), o->color ? C_RESET : "",
                o->color ? C_EXP : "", ex, o->color ? C_RESET : "", o->color ? C_MANT : "", ma,
                o->color ? C_RESET : "");
        fprintf(f, "  %-*s %-*s %s\n", sg ? (int)strlen(sg) : 1, "s", (int)strlen(ex), "exp",
                "mantissa");
    }
}

static void object(FILE *f, json_t *obj, const qs_render_opts *o, int indent);

static void wrap(FILE *f, const char *text, int indent, int width);
static void value_line(FILE *f, const char *k, json_t *v, int kw, const qs_render_opts *o,
                       int indent);

/* A nested histogram {counts, edges} on one line: "[lo … hi] ▁▃█▃▁ (N bins)". */
static int hist_line(FILE *f, json_t *v, int col, const qs_render_opts *o)
{
    json_t *counts = json_object_get(v, "counts"), *edges = json_object_get(v, "edges");
    size_t n = json_array_size(counts);
    if (!is_number_array(counts, 1) || !is_number_array(edges, n + 1)) return 0;
    char lo[32], hi[32], tail[48];
    qs_fmt_num(lo, sizeof lo, json_number_value(json_array_get(edges, 0)), 4);
    qs_fmt_num(hi, sizeof hi, json_number_value(json_array_get(edges, n)), 4);
    int tw = snprintf(tail, sizeof tail, " (%zu bins)", n);
    fprintf(f, "[%s … %s] ", lo, hi);
    sparkline(f, counts, o->width - col - dwidth(lo) - dwidth(hi) - 6 - tw, 1, o->utf8);
    fprintf(f, "%s\n", tail);
    return 1;
}

/* A nested curve {x, y, ...} with long x and y: x as its range, y as a sparkline, the other
 * keys as usual. */
static int curve_lines(FILE *f, json_t *v, const qs_render_opts *o, int indent)
{
    json_t *x = json_object_get(v, "x"), *y = json_object_get(v, "y");
    size_t n = json_array_size(x);
    if (!is_number_array(x, 17) || !is_number_array(y, n) || json_array_size(y) != n)
        return 0;
    const char *k;
    json_t *e;
    int kw = 0;
    json_object_foreach(v, k, e) if (dwidth(k) > kw) kw = dwidth(k);
    json_object_foreach(v, k, e) {
        if (e != x && e != y) continue;
        char a[32], b[32];
        pad(f, indent);
        fprintf(f, "%s%s%s", o->color ? C_DIM : "", k, o->color ? C_RESET : "");
        pad(f, kw - dwidth(k) + 2);
        double mn = INFINITY, mx = -INFINITY;
        for (size_t i = 0; i < n; i++) {
            double d = json_number_value(json_array_get(e, i));
            if (d < mn) mn = d;
            if (d > mx) mx = d;
        }
        qs_fmt_num(a, sizeof a, e == x ? json_number_value(json_array_get(x, 0)) : mn, 4);
        qs_fmt_num(b, sizeof b, e == x ? json_number_value(json_array_get(x, n - 1)) : mx, 4);
        if (e == x) fprintf(f, "%s … %s\n", a, b);
        else {
            fprintf(f, "[%s … %s] ", a, b);
            sparkline(f, y, o->width - indent - kw - 2 - dwidth(a) - dwidth(b) - 6, 0, o->utf8);
            fputc('\n', f);
        }
    }
    json_object_foreach(v, k, e) {
        if (e == x || e == y) continue;
        value_line(f, k, e, kw, o, indent);
    }
    return 1;
}

static void value_line(FILE *f, const char *k, json_t *v, int kw, const qs_render_opts *o,
                       int indent)
{
    char buf[512];
    int col = indent + kw + 2;
    pad(f, indent);
    fprintf(f, "%s%s%s", o->color ? C_DIM : "", k, o->color ? C_RESET : "");
    if (json_is_object(v) || (json_is_array(v) && all_objects(v))) {
        if (json_is_object(v) && is_number_array(json_object_get(v, "counts"), 1) &&
            is_number_array(json_object_get(v, "edges"), 2)) {
            pad(f, kw - dwidth(k) + 2);
            if (hist_line(f, v, col, o)) return;
        }
        fputc('\n', f);        /* the nested lines follow, indented (no trailing blanks) */
        if (json_is_array(v)) table(f, v, o, indent + 2, NULL);
        else if (!curve_lines(f, v, o, indent + 2)) object(f, v, o, indent + 2);
        return;
    }
    pad(f, kw - dwidth(k) + 2);
    if (json_is_string(v) && dwidth(json_string_value(v)) > o->width - col) {
        wrap(f, json_string_value(v), col, o->width);  /* long text: wrapped, never cut */
    } else if (is_scalar(v)) {
        scalar_str(v, buf, sizeof buf, o->precision);
        fprintf(f, "%s\n", buf);
    } else if (json_is_array(v) && all_scalars(v)) {
        num_list(f, v, o->precision, o->width - col);
        fputc('\n', f);
    } else if (json_is_array(v) && all_objects(v)) {
        fputc('\n', f);
        table(f, v, o, indent + 2, NULL);
    } else if (json_is_object(v)) {
        fputc('\n', f);
        object(f, v, o, indent + 2);
    } else {
        char *s = qs_json_escape_controls(json_dumps(v, JSON_COMPACT));
        fprintf(f, "%s\n", s ? s : "");
        free(s);
    }
}

static void object(FILE *f, json_t *obj, const qs_render_opts *o, int indent)
{
    const char *k;
    json_t *v;
    int kw = 0;
    json_object_foreach(obj, k, v) if (dwidth(k) > kw) kw = dwidth(k);
    json_object_foreach(obj, k, v) value_line(f, k, v, kw, o, indent);
}

/* Derivation trace: the steps of a QS_R_TRACE result. */
static void steps(FILE *f, const qs_trace_view *tv, const qs_render_opts *o)
{
    for (size_t i = 0; i < tv->n; i++) {
        const qs_trace_step *st = &tv->steps[i];
        const char *t = st->title, *fo = st->formula, *su = st->substituted, *no = st->note;
        json_t *r = (json_t *)st->result;
        char rb[128] = "";
        if (r) scalar_str(r, rb, sizeof rb, o->precision);
        fprintf(f, "%s%2zu. %s%s\n", o->color ? C_BOLD : "", i + 1, t ? t : "",
                o->color ? C_RESET : "");
        /* long lines wrap under their first word, within the width */
        if (fo && *fo) { fputs("    ", f); wrap(f, fo, 4, o->width); }
        if (su && *su) { fputs("    = ", f); wrap(f, su, 6, o->width); }
        if (r && !(json_is_string(r) && su && strstr(su, rb))) fprintf(f, "    → %s\n", rb);
        if (no && *no) {
            fprintf(f, "    %s", o->color ? C_DIM : "");
            wrap(f, no, 4, o->width);
            if (o->color) fputs(C_RESET, f);
        }
    }
}

/* Prints text word-wrapped between column `indent` (already reached) and `width`. */
static void wrap(FILE *f, const char *text, int indent, int width)
{
    int col = indent, avail = width - indent < 20 ? 20 : width - indent;
    const char *p = text ? text : "";
    while (*p) {
        while (*p == ' ') p++;
        const char *e = p;
        while (*e && *e != ' ') e++;
        int wl = (int)(e - p), ww = dwidth_n(p, wl);     /* bytes, display columns */
        if (col > indent && col + 1 + ww > indent + avail) {
            fputc('\n', f);
            pad(f, indent);
            col = indent;
        } else if (col > indent) {
            fputc(' ', f);
            col++;
        }
        /* a word longer than a whole line (a hex dump) is cut at the width */
        while (ww > avail && col == indent) {
            int cut = 0;                /* the bytes of its first avail characters */
            for (int k = 0; k < avail; k++)
                do cut++; while (((unsigned char)p[cut] & 0xC0) == 0x80);
            fwrite(p, 1, (size_t)cut, f);
            fputc('\n', f);
            pad(f, indent);
            p += cut;
            wl -= cut;
            ww -= avail;
        }
        fwrite(p, 1, (size_t)wl, f);
        col += ww;
        p = e;
    }
    fputc('\n', f);
}

/* A usage line word-wrapped at width: from column col (already reached), continuing at
 * column indent, never breaking inside [...] (an option with its value list stays whole). */
static void wrap_usage(FILE *f, const char *u, int col, int indent, int width)
{
    int first = 1;                      /* the first word goes where col is, no blank */
    const char *p = u ? u : "";
    while (*p) {
        while (*p == ' ') p++;
        if (!*p) break;
        const char *e = p;
        int depth = 0;
        for (; *e && (*e != ' ' || depth > 0); e++) {
            if (*e == '[') depth++;
            else if (*e == ']' && depth > 0) depth--;
        }
        int wl = dwidth_n(p, (int)(e - p));
        if (wl > width - indent && memchr(p, ' ', (size_t)(e - p))) {
            /* an [option] wider than a whole line (a terminal of 40 columns) breaks at its
             * blanks after all */
            e = p;
            while (*e && *e != ' ') e++;
            wl = dwidth_n(p, (int)(e - p));
        }
        /* "| another form": the whole alternative moves to a new line when that keeps it
         * together ("| bits all FORMAT", not "| bits all" / "FORMAT") */
        int need = wl;
        if (e - p == 1 && *p == '|') {
            const char *n = strstr(e, " | ");
            int aw = dwidth_n(p, n ? (int)(n - p) : (int)strlen(p));
            if (aw <= width - indent) need = aw;
        }
        if (!first && col + 1 + need > width && col > indent) {
            fputc('\n', f);
            pad(f, indent);
            col = indent;
        } else if (!first) {
            fputc(' ', f);
            col++;
        }
        first = 0;
        fwrite(p, 1, (size_t)(e - p), f);
        col += wl;
        p = e;
    }
    fputc('\n', f);
}

static void help_list(FILE *f, json_t *cmds, const qs_render_opts *o)
{
    size_t i;
    json_t *c;
    const char *group = NULL;
    int uw = 0;
    json_array_foreach(cmds, i, c) {
        int w = dwidth(json_string_value(json_object_get(c, "usage")));
        if (w > uw && w < 36) uw = w;
    }
    json_array_foreach(cmds, i, c) {
        const char *g = json_string_value(json_object_get(c, "group"));
        if (!group || strcmp(g, group) != 0) {
            fprintf(f, "%s%s%s:\n", o->color ? C_BOLD : "", g, o->color ? C_RESET : "");
            group = g;
        }
        const char *u = json_string_value(json_object_get(c, "usage"));
        int w = dwidth(u);
        /* the summary in its column at uw + 4; on a narrow terminal under the usage line */
        int narrow = o->width - (uw + 4) < 24, sc = narrow ? 6 : uw + 4;
        if (narrow || w > uw) {         /* a usage line of its own */
            fputs("  ", f);
            wrap_usage(f, u, 2, 4, o->width);
            pad(f, sc);
        } else {
            fprintf(f, "  %s", u);
            pad(f, uw - w + 2);
        }
        wrap(f, json_string_value(json_object_get(c, "summary")), sc, o->width);
    }
    fputc('\n', f);
    wrap(f, "'help COMMAND' shows a command's options and an example.", 0, o->width);
}

static void help_one(FILE *f, json_t *res, const qs_render_opts *o)
{
    const char *usage = json_string_value(json_object_get(res, "usage"));
    const char *sum = json_string_value(json_object_get(res, "summary"));
    const char *opt = json_string_value(json_object_get(res, "options"));
    const char *ex = json_string_value(json_object_get(res, "example"));
    fprintf(f, "%susage:%s ", o->color ? C_BOLD : "", o->color ? C_RESET : "");
    wrap_usage(f, usage, 7, 7, o->width);     /* continued under the command word */
    fputs("  ", f);
    wrap(f, sum, 2, o->width);
    char *joined = NULL;
    if (opt && *opt && (joined = strdup(opt))) {
        /* a line that starts with blanks continues the option above it, except the rows of a
         * table an option's line announces with a final ':' (synth's distributions) */
        char *w = joined;
        int table = 0;
        for (const char *r = opt; *r; r++) {
            if (*r == '\n' && r[1] == ' ' && (table || (r > opt && r[-1] == ':'))) {
                table = 1;
                *w++ = *r;
            } else if (*r == '\n' && r[1] == ' ') {
                *w++ = ' ';
                while (r[1] == ' ') r++;
            } else {
                if (*r == '\n') table = 0;
                *w++ = *r;
            }
        }
        *w = '\0';
        opt = joined;
        fprintf(f, "%soptions:%s\n", o->color ? C_BOLD : "", o->color ? C_RESET : "");
        for (const char *p = opt; *p;) {
            const char *nl = strchr(p, '\n');
            int len = nl ? (int)(nl - p) : (int)strlen(p);
            /* "NAME   description": a long description wraps under its own first column */
            const char *gap = strstr(p, "  ");
            /* a name column wider than half the line ("lab train [data=...] ... [batch=32]")
             * cannot hang its description: the whole line wraps under a hanging indent */
            const char *d = gap && gap < p + len ? gap : NULL;  /* its description */
            while (d && *d == ' ') d++;
            int dc = d ? 2 + dwidth_n(p, (int)(d - p)) : 0;    /* its column, blanks included */
            if (d && dc >= o->width / 2) d = NULL;
            if (d && dwidth_n(p, len) + 2 > o->width) {
                char *text = strndup(d, (size_t)(len - (d - p)));
                fprintf(f, "  %.*s", (int)(d - p), p);
                wrap(f, text, dc, o->width);
                free(text);
            } else if (dwidth_n(p, len) + 2 > o->width) {
                char *text = strndup(p, (size_t)len);     /* "keys: ...": hanging indent */
                fputs("  ", f);
                wrap(f, text, 4, o->width);
                free(text);
            } else {
                fprintf(f, "  %.*s\n", len, p);
            }
            p += len + (nl ? 1 : 0);
        }
    }
    free(joined);
    if (ex && *ex) fprintf(f, "%sexample:%s\n  %s\n", o->color ? C_BOLD : "",
                           o->color ? C_RESET : "", ex);
}

/* A copy of v whose strings and keys passed qs_escape (control characters and bytes that are
 * not UTF-8 made visible): names and metadata come from files. */
static json_t *escaped(json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING: {
        const char *s = json_string_value(v);
        if (!qs_escape_needed(s, 0)) return json_incref(v);
        char *e = qs_escape(s, 0);
        json_t *r = json_string(e ? e : "?");
        free(e);
        return r ? r : json_string("?");
    }
    case JSON_ARRAY: {
        json_t *a = json_array();
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) json_array_append_new(a, escaped(x));
        return a;
    }
    case JSON_OBJECT: {
        json_t *o = json_object();
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) {
            char *e = qs_escape_needed(k, 0) ? qs_escape(k, 0) : NULL;
            json_object_set_new(o, e ? e : k, escaped(x));
            free(e);
        }
        return o;
    }
    default:
        return json_incref(v);
    }
}

static void render_text(FILE *f, qs_result_kind kind, json_t *res, const qs_render_opts *o);

void qs_render_text(FILE *f, const qs_cmd *cmd, json_t *res, const qs_render_opts *o)
{
    if (!res) return;
    /* the kind the row declares (a result of no row: the kind its shape has) */
    qs_result_kind kind = qs_result_kind_of(cmd ? cmd->kinds : QS_RK_ALL, res);
    /* help describes the command table (ours, multi-line); everything else may hold names */
    if (kind == QS_R_HELP) {
        render_text(f, kind, res, o);
        return;
    }
    json_t *e = escaped(res);
    render_text(f, kind, e, o);
    json_decref(e);
}

void qs_fput_escaped(FILE *f, const char *s, int flags)
{
    if (!s) return;
    if (!qs_escape_needed(s, flags)) {
        fputs(s, f);
        return;
    }
    char *e = qs_escape(s, flags);
    if (e) fputs(e, f);
    free(e);
}

/* Draws a result by its kind; the generic rendering (QS_R_OBJECT and the kinds drawn as
 * keys and values: TRACE, QPARAMS, STATS, TABLE) follows the special kinds. */
static void render_text(FILE *f, qs_result_kind kind, json_t *res, const qs_render_opts *o)
{
    if (!res) return;
    if (!json_is_object(res)) {
        char *s = qs_json_escape_controls(json_dumps(res, JSON_ENCODE_ANY));
        fprintf(f, "%s\n", s ? s : "");
        free(s);
        return;
    }
    json_t *t;
    switch (kind) {
    case QS_R_TEXT:
        fprintf(f, "%s\n", json_string_value(json_object_get(res, "text")));
        return;
    case QS_R_HELP:
        if ((t = json_object_get(res, "commands")) && json_is_array(t)) help_list(f, t, o);
        else help_one(f, res, o);
        return;
    case QS_R_HIST: {
        qs_hist_view h;
        if (qs_hist_view_get(res, &h, NULL) == QS_OK) {
            histogram(f, &h, o);
            qs_hist_view_free(&h);
            return;
        }
        break;
    }
    case QS_R_BITS: {           /* the layout, then the value's keys */
        qs_bits_view b;
        if (qs_bits_view_get(res, &b, NULL) == QS_OK) bits_layout(f, &b, o);
        break;
    }
    default:
        break;
    }
    /* generic: scalars and small values first, then "steps" and tables */
    const char *k;
    json_t *v;
    int kw = 0;
    json_object_foreach(res, k, v) {
        if (strcmp(k, "steps") == 0 && json_is_array(v)) continue;     /* drawn last */
        if (dwidth(k) > kw) kw = dwidth(k);
    }
    /* a number format's neighbours: enough digits that value, next_up and next_down differ
     * (7.32 in fp32: 7.3200002, 7.3200006, 7.3199997 — at 6 digits all three read 7.32) */
    qs_render_opts near = *o;
    json_t *nv = json_object_get(res, "value"), *nu = json_object_get(res, "next_up"),
           *nd = json_object_get(res, "next_down");
    if (json_is_number(nv) && json_is_number(nu) && json_is_number(nd)) {
        char a[64], b[64], c[64];
        for (; near.precision < 17; near.precision++) {
            qs_fmt_num(a, sizeof a, json_number_value(nv), near.precision);
            qs_fmt_num(b, sizeof b, json_number_value(nu), near.precision);
            qs_fmt_num(c, sizeof c, json_number_value(nd), near.precision);
            if (strcmp(a, b) && strcmp(a, c) && strcmp(b, c)) break;
        }
    }
    json_object_foreach(res, k, v) {
        /* a trace's steps come last; a count named steps (lab gpt train) is a plain value */
        if (strcmp(k, "steps") == 0 && json_is_array(v)) continue;
        /* the rows' column order: it orders the table below, it is not a value */
        if (strcmp(k, "columns") == 0 && json_is_array(v) && json_object_get(res, "rows"))
            continue;
        if (json_is_array(v) && all_objects(v)) {
            fprintf(f, "%s%s:%s\n", o->color ? C_BOLD : "", k, o->color ? C_RESET : "");
            table(f, v, o, 2, strcmp(k, "rows") == 0 ? json_object_get(res, "columns") : NULL);
        } else {
            int nb = v == nv || v == nu || v == nd;
            value_line(f, k, v, kw, nb ? &near : o, 0);
        }
    }
    /* a derivation's steps last (QS_R_TRACE; its check guarantees they decode) */
    qs_trace_view tv;
    if ((t = json_object_get(res, "steps")) && json_is_array(t) &&
        qs_trace_view_get(t, &tv, NULL) == QS_OK) {
        steps(f, &tv, o);
        qs_trace_view_free(&tv);
    }
}

char *qs_render_text_str(const qs_cmd *cmd, json_t *res, const qs_render_opts *o)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    qs_render_text(f, cmd, res, o);
    fclose(f);
    return buf;
}

void qs_render_json(FILE *f, json_t *res)
{
    if (!res) return;
    char *s = qs_json_escape_controls(json_dumps(res, JSON_COMPACT | JSON_ENCODE_ANY));
    if (s) fprintf(f, "%s\n", s);
    free(s);
    fflush(f);
}
