/* html.c — a lesson handout as one self-contained HTML page (`qscope play --html`): the
 * narration, every command with its result (the text rendering of render.c, plus SVG figures
 * for histograms and curves), the expectations with the values found, and the quizzes with
 * their answers folded in <details>. Inline CSS and SVG: the page loads nothing. Everything
 * that comes from the lesson or from a result passes qs_html_escape. */
#include "front/html.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "front/front.h"
#include "qscope/io.h"
#include "qscope/result.h"

/* ---- escaping ------------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not one; *cpo receives
 * its code point. */
static int utf8_len(const unsigned char *s, unsigned *cpo)
{
    unsigned c = s[0];
    int n;
    unsigned cp;
    *cpo = c;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) { n = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 4; cp = c & 0x07; }
    else return 0;
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;                                   /* overlong, out of range, surrogate */
    *cpo = cp;
    return n;
}

/* One character (or sequence) of s escaped; returns the bytes consumed. */
static int esc_one(FILE *f, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    switch (*u) {
    case '&': fputs("&amp;", f); return 1;
    case '<': fputs("&lt;", f); return 1;
    case '>': fputs("&gt;", f); return 1;
    case '"': fputs("&quot;", f); return 1;
    case '\'': fputs("&#39;", f); return 1;
    case '\n': case '\t': fputc(*u, f); return 1;
    default: break;
    }
    if (*u < 0x20 || *u == 0x7F) { fputs("\xEF\xBF\xBD", f); return 1; }
    unsigned cp;
    int n = utf8_len(u, &cp);
    if (n == 0) { fputs("\xEF\xBF\xBD", f); return 1; }
    /* what the text faces escape (C1 controls, the bidirectional formatting characters that
     * can make text read as other text: qs_escape_cp) becomes U+FFFD, as C0 controls do */
    if (n > 1 && qs_escape_cp(cp)) {
        fputs("\xEF\xBF\xBD", f);
        return n;
    }
    fwrite(s, 1, (size_t)n, f);
    return n;
}

void qs_html_escape(FILE *f, const char *s)
{
    if (!s) return;
    while (*s) s += esc_one(f, s);
}

void qs_html_narration(FILE *f, const char *s)
{
    int on = 0;
    if (!s) return;
    while (*s) {
        /* the terminal faces' rule: a marker opens before a word character when another
         * follows, and the next one closes */
        if (*s == '*' && !on && s[1] && s[1] != ' ' && s[1] != '*' && strchr(s + 1, '*')) {
            fputs("<strong>", f);
            on = 1;
            s++;
        } else if (*s == '*' && on) {
            fputs("</strong>", f);
            on = 0;
            s++;
        } else {
            s += esc_one(f, s);
        }
    }
    if (on) fputs("</strong>", f);
}

/* ---- page ----------------------------------------------------------------------------- */

static const char *css =
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:58rem;"
    "margin:2rem auto;padding:0 1rem;color:#1d232b;background:#fff;line-height:1.5}"
    "h1{font-size:1.7rem;margin-bottom:.2rem}"
    ".meta{color:#5b6570;margin-top:0}"
    "section{border-top:1px solid #d6dbe0;padding-top:.6rem;margin-top:1.4rem}"
    "h2{font-size:1.25rem}"
    ".stepno{color:#8a939c;font-weight:normal;font-size:.9rem;margin-right:.4rem}"
    "pre{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,monospace;font-size:.8rem;"
    "overflow-x:auto;white-space:pre}"
    "pre.formula{background:#f4f6f8;padding:.5rem .8rem;border-radius:4px}"
    ".cmd{font-family:ui-monospace,'DejaVu Sans Mono',monospace;background:#1d232b;"
    "color:#e6edf3;padding:.35rem .7rem;border-radius:4px 4px 0 0;margin-top:1rem}"
    ".cmd .prompt{color:#7ee0c3}"
    "pre.out{background:#f4f6f8;margin-top:0;padding:.5rem .7rem;border-radius:0 0 4px 4px}"
    "figure{margin:.4rem 0 1rem}figcaption{font-size:.8rem;color:#5b6570}"
    "svg{max-width:100%;height:auto;background:#fbfcfd;border:1px solid #e1e5e9}"
    "ul.checks{list-style:none;padding-left:0;font-size:.85rem}"
    "ul.checks li{font-family:ui-monospace,monospace}"
    ".ok{color:#17803d}.bad{color:#b42318}"
    ".quiz{background:#fff8e6;border-left:4px solid #e3a008;padding:.5rem .8rem;"
    "margin:1rem 0}"
    ".quiz summary{cursor:pointer;color:#8a5a00}"
    "footer{margin-top:2rem;color:#5b6570;font-size:.85rem;border-top:1px solid #d6dbe0}"
    "@media print{details{display:block}.cmd{color:#000;background:#eee}}";

void qs_html_begin(qs_html_doc *d, FILE *f, const qs_lesson *l)
{
    memset(d, 0, sizeof *d);
    d->f = f;
    d->precision = 6;
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'; img-src data:\">\n<title>", f);
    qs_html_escape(f, l->title);
    fputs("</title>\n<style>", f);
    fputs(css, f);
    fputs("</style>\n</head>\n<body>\n<header>\n<h1>", f);
    qs_html_escape(f, l->title);
    fputs("</h1>\n<p class=\"meta\">qscope lesson <code>", f);
    qs_html_escape(f, l->name);
    fputs("</code>", f);
    if (l->level) {
        fputs(" &middot; ", f);
        qs_html_escape(f, l->level);
    }
    if (l->author) {
        fputs(" &middot; ", f);
        qs_html_escape(f, l->author);
    }
    fputs("</p>\n", f);
    if (l->summary) {
        fputs("<p class=\"summary\">", f);
        qs_html_narration(f, l->summary);
        fputs("</p>\n", f);
    }
    fputs("</header>\n<main>\n", f);
}

static void close_checks(qs_html_doc *d)
{
    if (d->in_checks) fputs("</ul>\n", d->f);
    d->in_checks = 0;
}

static void close_step(qs_html_doc *d)
{
    close_checks(d);
    if (d->in_step) fputs("</section>\n", d->f);
    d->in_step = 0;
}

void qs_html_event(qs_html_doc *d, const qs_lesson_event *ev)
{
    FILE *f = d->f;
    const qs_lesson_item *it = ev->item;
    if (ev->step_start || !d->in_step) {
        close_step(d);
        fprintf(f, "<section id=\"step-%d\">\n", ev->step + 1);
        d->in_step = 1;
        if (it->kind != QS_LI_HEADING) fprintf(f, "<h2><span class=\"stepno\">%d</span></h2>\n",
                                              ev->step + 1);
    }
    if (it->kind != QS_LI_EXPECT) close_checks(d);
    switch (it->kind) {
    case QS_LI_HEADING:
        fprintf(f, "<h2><span class=\"stepno\">%d</span>", ev->step + 1);
        qs_html_escape(f, it->text);
        fputs("</h2>\n", f);
        break;
    case QS_LI_TEXT:
        if (it->preformatted) {
            fputs("<pre class=\"formula\">", f);
            qs_html_escape(f, it->text);
            fputs("</pre>\n", f);
        } else {
            fputs("<p>", f);
            qs_html_narration(f, it->text);
            fputs("</p>\n", f);
        }
        break;
    case QS_LI_DIRECTIVE:
        break;                                      /* TUI directions: not for paper */
    case QS_LI_CMD:
        fputs("<div class=\"cmd\"><span class=\"prompt\">qscope&gt;</span> <code>", f);
        qs_html_escape(f, ev->line ? ev->line : it->text);
        fputs("</code></div>\n", f);
        if (ev->ok && ev->result) qs_html_result(d, ev->cmd, ev->result);
        else if (!ev->ok) fputs("<pre class=\"out bad\">(the command failed)</pre>\n", f);
        break;
    case QS_LI_EXPECT:
        if (!d->in_checks) fputs("<ul class=\"checks\">\n", f);
        d->in_checks = 1;
        fprintf(f, "<li class=\"expect %s\" data-line=\"%d\"><span class=\"mark\">%s</span> "
                "<code>expect ", ev->ok ? "ok" : "bad", it->line,
                ev->ok ? "&#10003;" : "&#10007;");
        qs_html_escape(f, it->expect.key);
        fputc(' ', f);
        qs_html_escape(f, qs_op_str(it->expect.op));        /* < and > become entities */
        fputc(' ', f);
        qs_html_escape(f, it->expect.value);
        fputs("</code> &mdash; <span class=\"got\">", f);
        qs_html_escape(f, ev->msg);
        fputs("</span></li>\n", f);
        break;
    case QS_LI_QUIZ:
        fputs("<div class=\"quiz\"><p><strong>Quiz:</strong> ", f);
        qs_html_narration(f, it->quiz.question);
        fputs("</p>\n<details><summary>Answer</summary><p class=\"answer\">", f);
        qs_html_escape(f, it->quiz.answers[0]);
        fputs("</p>", f);
        if (it->quiz.hint) {
            fputs("<p class=\"hint\">Hint: ", f);
            qs_html_narration(f, it->quiz.hint);
            fputs("</p>", f);
        }
        fputs("</details></div>\n", f);
        break;
    }
}

void qs_html_end(qs_html_doc *d, const qs_lesson *l, int commands, int passed, int quizzes)
{
    close_step(d);
    fprintf(d->f, "</main>\n<footer><p>Played by qscope: %d commands, %d expectations met, "
            "%d quizzes, %d figures. Every number above was computed by the command shown "
            "with it.</p></footer>\n</body>\n</html>\n", commands, passed, quizzes, d->nsvg);
    (void)l;
}

/* ---- figures -------------------------------------------------------------------------- */

#define SVG_W 640
#define SVG_H 220
#define PAD_L 64
#define PAD_R 16
#define PAD_T 16
#define PAD_B 40

static const char *palette[] = {"#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed",
                                "#0891b2", "#be185d", "#4b5563"};

/* A number of a result: a JSON number, or the strings "inf", "-inf" and "nan" that stand for
 * the values JSON cannot hold (qs_json_real); null reads as NaN. -1 for anything else. */
static int num_val(json_t *v, double *d)
{
    if (json_is_null(v)) {
        *d = NAN;
        return 0;
    }
    return qs_json_real_get(v, d);
}

/* An array of at least min numbers (the points that are not finite are left out when
 * drawn: series_add) */
static int num_array(json_t *a, size_t min)
{
    size_t i;
    json_t *v;
    double d;
    if (!json_is_array(a) || json_array_size(a) < min) return 0;
    json_array_foreach(a, i, v) if (num_val(v, &d) < 0) return 0;
    return 1;
}

static double num_at(json_t *a, size_t i)
{
    double d;
    return num_val(json_array_get(a, i), &d) == 0 ? d : NAN;
}

static void fmt(char *buf, size_t len, double v)
{
    qs_fmt_num(buf, len, v, 4);
}

static void svg_open(qs_html_doc *d, const char *kind, const char *title)
{
    d->nsvg++;
    fprintf(d->f, "<figure class=\"%s\"><svg xmlns=\"http://www.w3.org/2000/svg\" "
            "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\"><title>", kind,
            SVG_W, SVG_H, SVG_W, SVG_H);
    qs_html_escape(d->f, title);
    fputs("</title>\n", d->f);
}

static void svg_close(qs_html_doc *d, const char *caption)
{
    fputs("</svg><figcaption>", d->f);
    qs_html_escape(d->f, caption);
    fputs("</figcaption></figure>\n", d->f);
}

/* Axis frame with the x range [x0, x1], the y range [y0, y1] and labels. */
static void svg_axes(qs_html_doc *d, double x0, double x1, double y0, double y1,
                     const char *xl, const char *yl)
{
    FILE *f = d->f;
    char a[32], b[32];
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
            "stroke=\"#9aa3ad\"/>\n", PAD_L, PAD_T, SVG_W - PAD_L - PAD_R,
            SVG_H - PAD_T - PAD_B);
    fmt(a, sizeof a, x0);
    fmt(b, sizeof b, x1);
    fprintf(f, "<g font-family=\"sans-serif\" font-size=\"11\" fill=\"#374151\">"
            "<text x=\"%d\" y=\"%d\">%s</text>", PAD_L, SVG_H - PAD_B + 14, a);
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>", SVG_W - PAD_R,
            SVG_H - PAD_B + 14, b);
    fmt(a, sizeof a, y0);
    fmt(b, sizeof b, y1);
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>", PAD_L - 4,
            SVG_H - PAD_B, a);
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>", PAD_L - 4,
            PAD_T + 10, b);
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">", (SVG_W + PAD_L) / 2,
            SVG_H - 8);
    qs_html_escape(f, xl);
    fprintf(f, "</text><text x=\"14\" y=\"%d\" transform=\"rotate(-90 14 %d)\" "
            "text-anchor=\"middle\">", (SVG_H - PAD_B + PAD_T) / 2, (SVG_H - PAD_B + PAD_T) / 2);
    qs_html_escape(f, yl);
    fputs("</text></g>\n", f);
}

/* A histogram as bars: n counts (NaN for a missing one), n + 1 edges. */
static void svg_hist(qs_html_doc *d, size_t n, const double *counts, const double *edges,
                     int logscale, const char *name)
{
    double top = 0, total = 0;
    for (size_t i = 0; i < n; i++) {
        double c = counts[i];
        if (!(c >= 0)) c = 0;
        total += c;
        if (logscale) c = log10(1 + c);
        if (c > top) top = c;
    }
    double lo = edges[0], hi = edges[n];
    if (!isfinite(lo) || !isfinite(hi)) return;
    char title[160];
    snprintf(title, sizeof title, "%s: %zu bins%s", name, n, logscale ? " (log counts)" : "");
    svg_open(d, "hist", title);
    double pw = SVG_W - PAD_L - PAD_R, ph = SVG_H - PAD_T - PAD_B, bw = pw / (double)n;
    fputs("<g fill=\"#2563eb\">", d->f);
    for (size_t i = 0; i < n; i++) {
        double c = counts[i];
        if (!(c > 0) || top <= 0) continue;
        if (logscale) c = log10(1 + c);
        double hgt = c / top * ph;
        if (hgt < 0.5) hgt = 0.5;                   /* a non-empty bin stays visible */
        fprintf(d->f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"/>",
                PAD_L + i * bw, PAD_T + ph - hgt, bw > 1.5 ? bw - 0.5 : bw, hgt);
    }
    fputs("</g>\n", d->f);
    double ytop = logscale ? pow(10, top) - 1 : top;
    svg_axes(d, lo, hi, 0, ytop, strstr(name, "err") ? "error" : "value",
             logscale ? "count (log)" : "count");
    char cap[200], a[32];
    fmt(a, sizeof a, total);
    snprintf(cap, sizeof cap, "%s: %s values in %zu bins", name, a, n);
    svg_close(d, cap);
}

/* A result of kind QS_R_HIST, through its typed view. */
static void svg_hist_view(qs_html_doc *d, const qs_hist_view *h, const char *name)
{
    double *c = malloc(h->n * sizeof *c);
    if (!c) return;
    for (size_t i = 0; i < h->n; i++) c[i] = (double)h->counts[i];
    svg_hist(d, h->n, c, h->edges, h->log, name);
    free(c);
}

/* A histogram nested in a result ({counts, edges[, log]} as the value of a key: calib's and
 * quant's): numbers or nulls, n >= 1. */
static void svg_hist_nested(qs_html_doc *d, json_t *h, const char *name)
{
    json_t *counts = json_object_get(h, "counts"), *edges = json_object_get(h, "edges");
    size_t n = json_array_size(counts);
    double *c = malloc(n * sizeof *c), *e = malloc((n + 1) * sizeof *e);
    if (c && e) {
        for (size_t i = 0; i < n; i++) c[i] = num_at(counts, i);
        for (size_t i = 0; i <= n; i++) e[i] = num_at(edges, i);
        svg_hist(d, n, c, e, json_is_true(json_object_get(h, "log")), name);
    }
    free(c);
    free(e);
}

/* A series of points for a line chart. */
typedef struct series {
    char name[96];
    double *x, *y;
    int n, cap;
} series;

static void series_add(series *s, double x, double y)
{
    if (!isfinite(x) || !isfinite(y)) return;
    if (s->n == s->cap) {
        int nc = s->cap ? s->cap * 2 : 16;
        double *nx = realloc(s->x, (size_t)nc * sizeof *nx);
        if (!nx) return;
        s->x = nx;
        double *ny = realloc(s->y, (size_t)nc * sizeof *ny);
        if (!ny) return;
        s->y = ny;
        s->cap = nc;
    }
    s->x[s->n] = x;
    s->y[s->n] = y;
    s->n++;
}

/* Line chart of ns series; best_x (NAN for none) draws a marker line. */
static void svg_lines(qs_html_doc *d, series *ss, int ns, const char *title, const char *xl,
                      const char *yl, double best_x)
{
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    int pts = 0;
    for (int k = 0; k < ns; k++)
        for (int i = 0; i < ss[k].n; i++) {
            x0 = fmin(x0, ss[k].x[i]);
            x1 = fmax(x1, ss[k].x[i]);
            y0 = fmin(y0, ss[k].y[i]);
            y1 = fmax(y1, ss[k].y[i]);
            pts++;
        }
    if (pts == 0) return;
    if (x1 == x0) { x0 -= 0.5; x1 += 0.5; }
    if (y1 == y0) { y0 -= 0.5; y1 += 0.5; }
    double pw = SVG_W - PAD_L - PAD_R, ph = SVG_H - PAD_T - PAD_B;
    svg_open(d, "curve", title);
    svg_axes(d, x0, x1, y0, y1, xl, yl);
    for (int k = 0; k < ns; k++) {
        const char *c = palette[k % (int)(sizeof palette / sizeof *palette)];
        if (ss[k].n == 0) continue;
        fprintf(d->f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\" points=\"", c);
        for (int i = 0; i < ss[k].n; i++)
            fprintf(d->f, "%s%.2f,%.2f", i ? " " : "", PAD_L + (ss[k].x[i] - x0) / (x1 - x0) * pw,
                    PAD_T + ph - (ss[k].y[i] - y0) / (y1 - y0) * ph);
        fputs("\"/>\n", d->f);
        if (ss[k].n <= 12)
            for (int i = 0; i < ss[k].n; i++)
                fprintf(d->f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"2.5\" fill=\"%s\"/>",
                        PAD_L + (ss[k].x[i] - x0) / (x1 - x0) * pw,
                        PAD_T + ph - (ss[k].y[i] - y0) / (y1 - y0) * ph, c);
        if (ns > 1) {
            fprintf(d->f, "<text x=\"%d\" y=\"%d\" font-family=\"sans-serif\" font-size=\"11\" "
                    "fill=\"%s\">", PAD_L + 6, PAD_T + 14 + 13 * k, c);
            qs_html_escape(d->f, ss[k].name);
            fputs("</text>\n", d->f);
        }
    }
    if (isfinite(best_x) && best_x >= x0 && best_x <= x1)
        fprintf(d->f, "<line x1=\"%.2f\" x2=\"%.2f\" y1=\"%d\" y2=\"%d\" stroke=\"#dc2626\" "
                "stroke-dasharray=\"4 3\"/>\n", PAD_L + (best_x - x0) / (x1 - x0) * pw,
                PAD_L + (best_x - x0) / (x1 - x0) * pw, PAD_T, SVG_H - PAD_B);
    char cap[256];
    snprintf(cap, sizeof cap, "%s against %s", yl, xl);
    svg_close(d, cap);
}

/* A curve object {x, y[, x_label, y_label, best]}. */
static void svg_curve(qs_html_doc *d, json_t *c, const char *name)
{
    json_t *x = json_object_get(c, "x"), *y = json_object_get(c, "y");
    size_t n = json_array_size(x);
    series s;
    memset(&s, 0, sizeof s);
    for (size_t i = 0; i < n; i++) series_add(&s, num_at(x, i), num_at(y, i));
    const char *xl = json_string_value(json_object_get(c, "x_label"));
    const char *yl = json_string_value(json_object_get(c, "y_label"));
    json_t *best = json_object_get(c, "best");
    double bx = NAN;
    if (json_is_integer(best) && json_integer_value(best) >= 0 &&
        (size_t)json_integer_value(best) < n)
        bx = num_at(x, (size_t)json_integer_value(best));
    snprintf(s.name, sizeof s.name, "%s", name);
    svg_lines(d, &s, 1, name, xl ? xl : "x", yl ? yl : "y", bx);
    free(s.x);
    free(s.y);
}

/* An array with a "NAME_sparkline" sibling (training curves): y against the epoch. */
static void svg_epochs(qs_html_doc *d, json_t *a, const char *name)
{
    series s;
    memset(&s, 0, sizeof s);
    for (size_t i = 0; i < json_array_size(a); i++) series_add(&s, (double)(i + 1), num_at(a, i));
    snprintf(s.name, sizeof s.name, "%s", name);
    svg_lines(d, &s, 1, name, "epoch", name, NAN);
    free(s.x);
    free(s.y);
}

/* Rows with "bits" and "sqnr_db" over two or more widths: SQNR against bits, one line per
 * series (the scheme without its width, the calibrator, granularity and convention). */
static void svg_bits_table(qs_html_doc *d, json_t *rows)
{
    enum { MAXS = 8 };
    series ss[MAXS];
    int ns = 0;
    size_t i;
    json_t *r;
    double bmin = INFINITY, bmax = -INFINITY;
    memset(ss, 0, sizeof ss);
    json_array_foreach(rows, i, r) {
        json_t *b = json_object_get(r, "bits"), *q = json_object_get(r, "sqnr_db");
        if (!json_is_number(b) || !json_is_number(q)) continue;
        double bv = json_number_value(b);
        bmin = fmin(bmin, bv);
        bmax = fmax(bmax, bv);
        char key[96] = "";
        const char *sch = json_string_value(json_object_get(r, "scheme"));
        const char *fields[] = {"calib", "gran", "convention"};
        if (sch) {                                  /* "int4 asym" -> "int asym" */
            size_t k = 0;
            for (const char *p = sch; *p && k + 1 < sizeof key; p++) {
                if (p - sch < 6 && *p >= '0' && *p <= '9' &&
                    (strncmp(sch, "int", 3) == 0 || strncmp(sch, "uint", 4) == 0))
                    continue;
                key[k++] = *p;
            }
            key[k] = '\0';
        }
        for (int f = 0; f < 3; f++) {
            const char *v = json_string_value(json_object_get(r, fields[f]));
            if (v && strlen(key) + strlen(v) + 2 < sizeof key) {
                strcat(key, key[0] ? " " : "");
                strcat(key, v);
            }
        }
        int k;
        for (k = 0; k < ns; k++) if (strcmp(ss[k].name, key) == 0) break;
        if (k == ns) {
            if (ns == MAXS) continue;
            snprintf(ss[ns++].name, sizeof ss[0].name, "%s", key);
        }
        series_add(&ss[k], bv, json_number_value(q));
    }
    if (bmax > bmin) svg_lines(d, ss, ns, "SQNR by bit width", "bits", "SQNR (dB)", NAN);
    for (int k = 0; k < ns; k++) {
        free(ss[k].x);
        free(ss[k].y);
    }
}

/* The figures of one object (a result, or an object nested in it, depth <= 2). A result
 * of kind QS_R_HIST is drawn by qs_html_result; nested histograms are values of keys. */
static void figures(qs_html_doc *d, json_t *obj, const char *name, int depth)
{
    const char *k;
    json_t *v;
    json_t *counts = json_object_get(obj, "counts"), *edges = json_object_get(obj, "edges");
    if (depth > 0 && num_array(counts, 1) && num_array(edges, json_array_size(counts) + 1)) {
        svg_hist_nested(d, obj, name);
        return;
    }
    json_t *x = json_object_get(obj, "x"), *y = json_object_get(obj, "y");
    if (num_array(x, 2) && num_array(y, 2) && json_array_size(x) == json_array_size(y)) {
        svg_curve(d, obj, name);
        return;
    }
    json_object_foreach(obj, k, v) {
        char sib[128];
        snprintf(sib, sizeof sib, "%s_sparkline", k);
        if (num_array(v, 2) && json_object_get(obj, sib)) svg_epochs(d, v, k);
        else if (json_is_object(v) && depth < 2) figures(d, v, k, depth + 1);
        else if (json_is_array(v) && strcmp(k, "rows") == 0) svg_bits_table(d, v);
    }
}

void qs_html_result(qs_html_doc *d, const qs_cmd *cmd, json_t *res)
{
    qs_render_opts o = {0, 1, d->precision > 0 ? d->precision : 6, 100};
    char *text = qs_render_text_str(cmd, res, &o);
    if (text) {
        size_t n = strlen(text);
        while (n && text[n - 1] == '\n') text[--n] = '\0';
        fputs("<pre class=\"out\">", d->f);
        qs_html_escape(d->f, text);
        fputs("</pre>\n", d->f);
        free(text);
    }
    const char *name = cmd ? cmd->name : "result";
    qs_hist_view h;
    switch (qs_result_kind_of(cmd ? cmd->kinds : QS_RK_ALL, res)) {
    case QS_R_NONE:
        return;
    case QS_R_HIST:
        if (qs_hist_view_get(res, &h, NULL) == QS_OK) {
            int drawn = h.n >= 1;
            if (drawn) svg_hist_view(d, &h, name);
            qs_hist_view_free(&h);
            if (drawn) return;
        }
        break;
    default:
        break;
    }
    figures(d, res, name, 0);
}
