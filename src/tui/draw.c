/* draw.c — draws the TUI's frame and its six screens from a const model with ncurses:
 * tab bar, body, status bar, bottom line; histograms, bit fields, derivation steps, tables.
 * Drawing never changes the model and never refreshes the terminal (the main loop batches
 * wnoutrefresh and commits with one doupdate). */
#include "tui_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/front.h"
#include "qscope/lesson.h"

/* ==== colours and attributes ============================================================= */

/* Colour pair of each role: foreground, background (-1 = terminal default), extra attrs. */
static const struct {
    short fg, bg;       /* colours */
    attr_t extra;       /* added in colour mode */
    attr_t mono;        /* the monochrome fallback */
} roles[QR_COUNT] = {
    [QR_NORMAL] = {-1, -1, A_NORMAL, A_NORMAL},
    [QR_TITLE] = {COLOR_CYAN, -1, A_BOLD, A_BOLD},
    [QR_TAB] = {-1, -1, A_NORMAL, A_NORMAL},
    [QR_TAB_ON] = {COLOR_BLACK, COLOR_CYAN, A_BOLD, A_REVERSE | A_BOLD},
    [QR_STATUS] = {COLOR_WHITE, COLOR_BLUE, A_NORMAL, A_REVERSE},
    [QR_ERROR] = {COLOR_WHITE, COLOR_RED, A_BOLD, A_REVERSE | A_BOLD},
    [QR_DIM] = {-1, -1, A_DIM, A_DIM},
    [QR_KEY] = {COLOR_YELLOW, -1, A_BOLD, A_BOLD},
    [QR_BAR] = {COLOR_CYAN, -1, A_NORMAL, A_NORMAL},
    [QR_CLIP] = {COLOR_RED, -1, A_BOLD, A_BOLD},
    [QR_ZERO] = {COLOR_YELLOW, -1, A_BOLD, A_BOLD},
    [QR_GRID] = {COLOR_GREEN, -1, A_NORMAL, A_NORMAL},
    [QR_SIGN] = {COLOR_MAGENTA, -1, A_BOLD, A_BOLD | A_UNDERLINE},
    [QR_EXP] = {COLOR_GREEN, -1, A_BOLD, A_UNDERLINE},
    [QR_MANT] = {COLOR_BLUE, -1, A_BOLD, A_NORMAL},
    [QR_CURSOR] = {COLOR_BLACK, COLOR_YELLOW, A_BOLD, A_REVERSE},
    [QR_GOOD] = {COLOR_GREEN, -1, A_BOLD, A_BOLD},
    [QR_HL] = {COLOR_MAGENTA, -1, A_REVERSE | A_BOLD, A_REVERSE | A_BOLD},
};

void qs_tui_colors_init(int color)
{
    if (!color) return;
    start_color();
    use_default_colors();
    for (int i = 1; i < QR_COUNT; i++) init_pair((short)i, roles[i].fg, roles[i].bg);
}

static attr_t A(const qs_tui_model *m, qs_tui_role r)
{
    if (!m->color) return roles[r].mono;
    return COLOR_PAIR(r) | roles[r].extra;
}

/* ==== text helpers ========================================================================= */

/* Display columns of a UTF-8 string (one per code point; our glyphs are all single-width). */
static int cols_of(const char *s)
{
    int n = 0;
    for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* 1 while drawing for a terminal without UTF-8: put() spells our few symbols in ASCII. Set
 * at the start of each frame from the model (a drawing setting, not model state). */
static int ascii_only;

/* ASCII spellings of the symbols the screens use; anything else non-ASCII becomes '?'. */
static const struct {
    const char *u, *a;  /* UTF-8 symbol, ASCII spelling */
} translit[] = {
    {"·", "."}, {"→", "->"}, {"—", "-"}, {"…", "..."}, {"×", "x"}, {"−", "-"}, {"✓", "ok"},
    {"✗", "X"}, {"│", "|"}, {"─", "-"}, {"▶", ">"}, {"◀", "<"}, {"ŷ", "y^"}, {"█", "#"},
    {"░", "-"}, {"▇", "#"}, {"┼", "+"}, {"┊", ":"}, {"┆", "|"}, {"↑", "^"}, {"↓", "v"}, {"←", "<"}, {"≈", "~"},
    {"\xcc\x82", "^"}, /* U+0302 combining circumflex: the library's x̂ becomes x^ */
    {"±", "+/-"}, {"Σ", "sum"}, {"σ", "sigma"}, {"²", "^2"},
};

static void to_ascii(const char *s, char *out, size_t len)
{
    size_t k = 0;
    while (*s && k + 4 < len) {
        if (!((unsigned char)*s & 0x80)) {
            out[k++] = *s++;
            continue;
        }
        size_t n = 1;
        while (((unsigned char)s[n] & 0xC0) == 0x80) n++;
        const char *rep = "?";
        for (size_t i = 0; i < sizeof translit / sizeof translit[0]; i++)
            if (strlen(translit[i].u) == n && memcmp(s, translit[i].u, n) == 0) rep = translit[i].a;
        for (; *rep && k + 4 < len; rep++) out[k++] = *rep;
        s += n;
    }
    out[k] = '\0';
}

/* Writes s at (y, x), at most maxw columns, with attribute a. Returns columns written. */
static int put(WINDOW *w, int y, int x, int maxw, attr_t a, const char *s)
{
    int H, W;
    char ascii[1024];
    if (ascii_only) {
        to_ascii(s, ascii, sizeof ascii);
        s = ascii;
    }
    if (y < 0 || !w) return 0;      /* rows above the window (a dry run passes w = NULL) */
    getmaxyx(w, H, W);
    if (y >= H || x >= W || maxw <= 0) return 0;
    if (x + maxw > W) maxw = W - x;
    const char *p = s;
    int c = 0;
    while (*p && c < maxw) {
        p++;
        while (((unsigned char)*p & 0xC0) == 0x80) p++;
        c++;
    }
    wattr_on(w, a, NULL);
    mvwaddnstr(w, y, x, s, (int)(p - s));
    wattr_off(w, a, NULL);
    return c;
}

static int putf(WINDOW *w, int y, int x, int maxw, attr_t a, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;
static int putf(WINDOW *w, int y, int x, int maxw, attr_t a, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return put(w, y, x, maxw, a, buf);
}

/* ---- a lesson's @highlight ----
 * The names a lesson may highlight and what each marks (man/qscope-lesson.5 lists them):
 *   sign, exponent, mantissa   Bits: the field's bits in every float row, and its header
 *   scale, zero_point          Derive and Data: that number on the scale / zero point line
 *   per_channel                Derive, Data: "(set k of n)" / "(channel 0)" when there are
 *                              several parameter sets; Error: the granularity row
 *   bits_per_param             Error: the bits/param row
 *   steps                      Derive: the steps list; Lab: the `steps` table of `lab int`
 * Any other name marks nothing (the status line still says "look at: NAME"). */

/* 1 when the lesson step highlights `name`. */
static int hl(const qs_tui_model *m, const char *name)
{
    return m->highlight[0] && strcmp(m->highlight, name) == 0;
}

/* Like put(); when on, as a highlighted element: reverse + bold, with a "▶" (ASCII ">") in
 * the column before it (a space left of every element this is used for). */
static int put_hl(const qs_tui_model *m, WINDOW *w, int y, int x, int maxw, attr_t a, int on,
                  const char *s)
{
    if (!on) return put(w, y, x, maxw, a, s);
    if (x > 0) put(w, y, x - 1, 1, A(m, QR_HL), "▶");
    return put(w, y, x, maxw, A(m, QR_HL), s);
}

static void num(char *buf, size_t len, double v)
{
    qs_fmt_num(buf, len, v, 6);
}

/* A value in at most `width` characters: %.{prec}g, with fewer digits when that is wider
 * (1e-40 is 9.9999461e-41 at 9 digits: 13 characters), so a narrow column loses digits
 * rather than the exponent. */
static void fit_g(char *buf, size_t len, double v, int prec, int width)
{
    for (; prec >= 1; prec--) {
        snprintf(buf, len, "%.*g", prec, v);
        if ((int)strlen(buf) <= width) return;
    }
}

static double jd(json_t *o, const char *key, double dflt)
{
    json_t *v = o ? json_object_get(o, key) : NULL;
    if (json_is_array(v)) v = json_array_get(v, 0);
    return json_is_number(v) ? json_number_value(v) : dflt;
}

static const char *js(json_t *o, const char *key)
{
    json_t *v = o ? json_object_get(o, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A scalar JSON value as text. */
static void scalar(json_t *v, char *buf, size_t len)
{
    if (json_is_string(v)) snprintf(buf, len, "%s", json_string_value(v));
    else if (json_is_integer(v)) snprintf(buf, len, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v)) num(buf, len, json_real_value(v));
    else if (json_is_true(v)) snprintf(buf, len, "yes");
    else if (json_is_false(v)) snprintf(buf, len, "no");
    else if (json_is_array(v)) {
        size_t n = json_array_size(v), off = 0;
        buf[0] = '\0';
        for (size_t i = 0; i < n && off + 16 < len; i++) {
            char t[64];
            scalar(json_array_get(v, i), t, sizeof t);
            off += (size_t)snprintf(buf + off, len - off, i ? "×%s" : "%s", t);
        }
    } else snprintf(buf, len, "-");
}

/* Wraps text into the window from row y, width wd; returns the next free row. */
static int wrap(WINDOW *w, int y, int x, int wd, int ymax, attr_t a, const char *text)
{
    const char *p = text;
    while (*p && y < ymax) {
        while (*p == ' ') p++;
        const char *line = p, *brk = NULL;
        int c = 0;
        const char *q = p;
        while (*q && *q != '\n') {
            if (*q == ' ') brk = q;
            if (c >= wd) break;
            q++;
            while (((unsigned char)*q & 0xC0) == 0x80) q++;
            c++;
        }
        const char *end = (*q && *q != '\n' && brk && brk > line) ? brk : q;
        char buf[1024];
        size_t n = (size_t)(end - line) < sizeof buf - 1 ? (size_t)(end - line) : sizeof buf - 1;
        memcpy(buf, line, n);
        buf[n] = '\0';
        put(w, y++, x, wd, a, buf);
        p = end;
        if (*p == '\n') p++;
    }
    return y;
}

/* Narration: like wrap(), with *emphasis* shown in bold (the asterisks are not drawn; an
 * emphasis that crosses a line break continues on the next line). */
static int wrap_emph(const qs_tui_model *m, WINDOW *w, int y, int x, int wd, const char *text)
{
    int bold = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char line[1024];
        if (len >= sizeof line) len = sizeof line - 1;
        memcpy(line, p, len);
        line[len] = '\0';
        int cx = x;
        for (char *seg = line;;) {
            char *star = strchr(seg, '*');
            if (star) *star = '\0';
            cx += put(w, y, cx, x + wd - cx, bold ? A(m, QR_NORMAL) | A_BOLD : A(m, QR_NORMAL), seg);
            if (!star) break;
            bold = !bold;
            seg = star + 1;
        }
        y++;
        p = nl ? nl + 1 : p + strlen(p);
    }
    return y;
}

static const char *const blocks_u[] = {" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
static const char *const blocks_a[] = {" ", ".", ".", ".", "o", "o", "o", "#", "#"};

/* ==== frame ================================================================================ */

static void draw_tabs(const qs_tui_model *m, WINDOW *w)
{
    int W = getmaxx(w);
    wbkgdset(w, ' ' | A(m, QR_TAB));
    werase(w);
    for (int i = 0; i < QS_SCR_COUNT; i++) {
        int x0, x1;
        qs_tui_tab_span(i, &x0, &x1);
        putf(w, 0, x0, x1 - x0 + 1, i == m->screen ? A(m, QR_TAB_ON) : A(m, QR_TAB), " %d %s ",
             i + 1, qs_tui_screens[i].title);
    }
    const char *t = m->t_name;
    int x1, x0;
    qs_tui_tab_span(QS_SCR_COUNT - 1, &x0, &x1);
    int room = W - x1 - 3;
    if (room > 8) {
        char buf[300];
        snprintf(buf, sizeof buf, "qscope · %s", t);
        int c = cols_of(buf);
        if (c > room) c = room;
        put(w, 0, W - c - 1, c, A(m, QR_TITLE), buf);
    }
}

static void draw_status(const qs_tui_model *m, WINDOW *w)
{
    int W = getmaxx(w);
    char right[600];
    wbkgdset(w, ' ' | A(m, QR_STATUS));
    werase(w);
    snprintf(right, sizeof right, " %s%s%s · %s ", m->t_name, m->has_tensor ? " " : "",
             m->t_shape, m->scheme_str);
    int c = 0;
    if (m->job.running) {
        pthread_mutex_t *mu = (pthread_mutex_t *)&m->job.mu;  /* read-only use of the lock */
        pthread_mutex_lock(mu);
        double done = m->job.done_units, total = m->job.total;
        char label[64];
        snprintf(label, sizeof label, "%s", m->job.label);
        pthread_mutex_unlock(mu);
        int gw = 16;
        double f = total > 0 ? done / total : 0;
        if (f < 0) f = 0;
        if (f > 1) f = 1;
        char g[200];
        int k = 0, full = (int)(f * gw);
        for (int i = 0; i < gw; i++) {
            const char *cell = i < full ? (m->utf8 ? "█" : "#") : (m->utf8 ? "░" : "-");
            size_t l = strlen(cell);
            memcpy(g + k, cell, l);
            k += (int)l;
        }
        g[k] = '\0';
        c += putf(w, 0, c, W - c, A(m, QR_STATUS), " %s %s %3.0f%% (Esc cancels) ", label, g,
                  f * 100);
    }
    if (m->status[0]) {
        c += put(w, 0, c, W - c, m->status_err ? A(m, QR_ERROR) : A(m, QR_STATUS), " ");
        c += put(w, 0, c, W - c - 1, m->status_err ? A(m, QR_ERROR) : A(m, QR_STATUS), m->status);
    }
    /* the tensor and scheme on the right when there is room */
    int rc = cols_of(right);
    if (c + 2 + rc <= W) put(w, 0, W - rc, rc, A(m, QR_STATUS) | A_BOLD, right);
}

static void draw_bottom(const qs_tui_model *m, WINDOW *w)
{
    int W = getmaxx(w);
    werase(w);
    if (m->prompt != QS_PR_NONE) return;     /* readline draws the input line */
    /* the screen's keys, whole items only, leaving room for the way out: what does not fit
     * is on the ? screen */
    const char *tail = "  ? help  : cmd  q quit";
    int tc = cols_of(tail);
    if (W < 40) {
        tail = "  ? help  q quit";
        tc = cols_of(tail);
    }
    char hint[256];
    if (ascii_only) to_ascii(qs_tui_screens[m->screen].hint, hint, sizeof hint);
    else snprintf(hint, sizeof hint, "%s", qs_tui_screens[m->screen].hint);
    while (cols_of(hint) + tc >= W) {
        const char *dot = ascii_only ? " . " : " · ";
        char *sep = strstr(hint, dot), *last = NULL;
        while (sep) {
            last = sep;
            sep = strstr(sep + 1, dot);
        }
        if (!last) break;
        *last = '\0';
    }
    int x = put(w, 0, 0, W, A(m, QR_DIM), hint);
    if (x + tc < W) put(w, 0, W - tc, tc, A(m, QR_KEY), tail);
}

/* ==== plots ================================================================================= */

/* Column of value v on a plot [lo, hi] of width wd. */
static int xcol(double v, double lo, double hi, int wd)
{
    if (!(hi > lo)) return 0;
    double f = (v - lo) / (hi - lo);
    int c = (int)floor(f * wd);
    if (c < 0) c = -1;
    if (c >= wd) c = wd;
    return c;
}

/* A histogram {counts, edges} as vertical bars in the rectangle (y0, x0, h, wd); clip range
 * (clo, chi) shaded, zero and the quantization grid marked on the axis line below. */
static void plot_hist(const qs_tui_model *m, WINDOW *w, int y0, int x0, int h, int wd,
                      json_t *hist, int logscale, double clo, double chi, json_t *qp)
{
    json_t *counts = json_object_get(hist, "counts");
    int n = (int)json_array_size(counts);
    if (n == 0 || h < 2 || wd < 8) return;
    double lo = jd(hist, "lo", 0), hi = jd(hist, "hi", 1);
    json_t *edges = json_object_get(hist, "edges");
    if (json_array_size(edges) == (size_t)n + 1) {
        lo = json_number_value(json_array_get(edges, 0));
        hi = json_number_value(json_array_get(edges, (size_t)n));
    }
    const char *const *bl = m->utf8 ? blocks_u : blocks_a;
    double mx = 0;
    for (int i = 0; i < n; i++) {
        double c = (double)json_integer_value(json_array_get(counts, (size_t)i));
        if (logscale) c = log10(1 + c);
        if (c > mx) mx = c;
    }
    int ph = h - 2;     /* bars; then the axis line and the labels */
    enum { MAXW = 1024 };
    int filled[MAXW];   /* rows each column's bar fills (overlays go above) */
    if (wd > MAXW) wd = MAXW;
    for (int col = 0; col < wd; col++) {
        /* the bins that fall into this column (n may differ from wd after a resize) */
        int b0 = (int)((long long)col * n / wd), b1 = (int)((long long)(col + 1) * n / wd);
        if (b1 <= b0) b1 = b0 + 1;
        double c = 0;
        for (int b = b0; b < b1 && b < n; b++)
            c += (double)json_integer_value(json_array_get(counts, (size_t)b));
        if (logscale) c = log10(1 + c);
        double scale = (double)(b1 - b0);
        if (!logscale) c /= scale;
        double eighths = mx > 0 ? c / mx * ph * 8 : 0;
        double xv = lo + (hi - lo) * (col + 0.5) / wd;
        int clipped = isfinite(clo) && isfinite(chi) && (xv < clo || xv > chi);
        attr_t a = clipped ? A(m, QR_CLIP) : A(m, QR_BAR);
        filled[col] = eighths > 0 ? ((int)eighths + 7) / 8 : 0;
        if (filled[col] < 1 && eighths > 0) filled[col] = 1;
        for (int r = 0; r < ph; r++) {
            int level = (int)eighths - r * 8;
            if (level <= 0) {
                if (eighths > 0 && r == 0 && level <= 0) put(w, y0 + ph - 1, x0 + col, 1, a, bl[1]);
                break;
            }
            put(w, y0 + ph - 1 - r, x0 + col, 1, a, bl[level >= 8 ? 8 : level]);
        }
    }
    /* axis: grid ticks, zero and clip markers */
    int ay = y0 + ph;
    for (int col = 0; col < wd; col++) put(w, ay, x0 + col, 1, A(m, QR_DIM), m->utf8 ? "─" : "-");
    double scale = jd(qp, "scale", NAN), zp = jd(qp, "zero_point", NAN);
    double qmin = jd(qp, "qmin", NAN), qmax = jd(qp, "qmax", NAN);
    json_t *book = json_object_get(qp, "codebook");
    char note[200] = "";
    if (json_object_get(qp, "format")) {
        /* a cast to a float format: no uniform grid to draw */
        snprintf(note, sizeof note, "grid: every %s value (not uniform)", js(qp, "format"));
    } else if (json_is_array(book) && scale > 0) {
        /* a codebook (NF4 / FP4): its values times the first block's absmax */
        size_t i;
        json_t *v;
        json_array_foreach(book, i, v) {
            int c = xcol(json_number_value(v) * scale, lo, hi, wd);
            if (c < 0 || c >= wd) continue;
            put(w, ay, x0 + c, 1, A(m, QR_GRID), m->utf8 ? "┼" : "+");
            for (int r = filled[c]; r < ph; r++)
                put(w, y0 + ph - 1 - r, x0 + c, 1, A(m, QR_GRID) | A_DIM, m->utf8 ? "┊" : ":");
        }
        snprintf(note, sizeof note, "grid: %zu code values × absmax %.4g (block 0)",
                 json_array_size(book), scale);
    } else if (scale > 0 && isfinite(zp) && isfinite(qmin) && isfinite(qmax)) {
        double levels = qmax - qmin + 1, colw = (hi - lo) / wd;
        if (scale >= 2 * colw) {
            for (double q = qmin; q <= qmax; q++) {
                int c = xcol((q - zp) * scale, lo, hi, wd);
                if (c < 0 || c >= wd) continue;
                put(w, ay, x0 + c, 1, A(m, QR_GRID), m->utf8 ? "┼" : "+");
                /* coarse grids (a few bits) are drawn over the plot, above the bars */
                if (scale >= 4 * colw)
                    for (int r = filled[c]; r < ph; r++)
                        put(w, y0 + ph - 1 - r, x0 + c, 1, A(m, QR_GRID) | A_DIM,
                            m->utf8 ? "┊" : ":");
            }
            snprintf(note, sizeof note, "grid: %.0f levels, step %.4g", levels, scale);
        } else {
            snprintf(note, sizeof note, "grid: %.0f levels, step %.4g (%.1f per column)", levels,
                     scale, colw / scale);
        }
    }
    int zc = xcol(0, lo, hi, wd);
    if (zc >= 0 && zc < wd) put(w, ay, x0 + zc, 1, A(m, QR_ZERO), "0");
    /* the clip range's ends as lines over the plot */
    for (int e = 0; e < 2; e++) {
        double v = e ? chi : clo;
        if (!isfinite(v)) continue;
        int c = xcol(v, lo, hi, wd);
        if (c < 0 || c >= wd) continue;
        put(w, ay, x0 + c, 1, A(m, QR_CLIP), e ? "]" : "[");
        for (int r = filled[c]; r < ph; r++)
            put(w, y0 + ph - 1 - r, x0 + c, 1, A(m, QR_CLIP), m->utf8 ? "┆" : "|");
    }
    char a[32], b[32];
    num(a, sizeof a, lo);
    num(b, sizeof b, hi);
    put(w, ay + 1, x0, wd, A(m, QR_DIM), a);
    put(w, ay + 1, x0 + wd - cols_of(b), cols_of(b), A(m, QR_DIM), b);
    int nc = cols_of(note);
    if (nc && nc + 2 * 12 < wd) put(w, ay + 1, x0 + (wd - nc) / 2, nc, A(m, QR_GRID), note);
}

/* Cuts buf to `room` columns with "…" as the last one when it is wider (a cut shows). */
static void ellipsize(char *buf, size_t len, int room)
{
    if (room < 2 || cols_of(buf) <= room) return;
    char *p = buf;
    for (int c = 0; *p && c < room - 1; c++) {
        p++;
        while (((unsigned char)*p & 0xC0) == 0x80) p++;
    }
    if ((size_t)(p - buf) + 4 <= len) strcpy(p, "…");
}

/* A table from an array of objects (columns: the first row's scalar keys). mark: the first
 * column's cells drawn highlighted (a lesson's @highlight of the table). */
static int draw_table(const qs_tui_model *m, WINDOW *w, int y, int x, int h, int wd, json_t *rows,
                      int first, int mark)
{
    enum { MAXC = 12 };
    const char *cols[MAXC];
    int cw[MAXC], nc = 0;
    json_t *r0 = json_array_get(rows, 0);
    const char *k;
    json_t *v;
    char buf[128];
    if (!r0 || h < 2) return y;
    json_object_foreach(r0, k, v) {
        if (nc >= MAXC) break;
        if (json_is_object(v) || (json_is_array(v) && json_array_size(v) > 4)) continue;
        cols[nc] = k;
        cw[nc] = cols_of(k);
        nc++;
    }
    size_t n = json_array_size(rows), i;
    json_t *row;
    json_array_foreach(rows, i, row) for (int c = 0; c < nc; c++) {
        scalar(json_object_get(row, cols[c]), buf, sizeof buf);
        if (cols_of(buf) > cw[c]) cw[c] = cols_of(buf);
    }
    int cx = x;
    for (int c = 0; c < nc && cx < x + wd; c++) {
        put(w, y, cx, x + wd - cx, A(m, QR_TITLE), cols[c]);
        cx += cw[c] + 2;
    }
    int yy = y + 1;
    for (i = (size_t)first; i < n && yy < y + h; i++, yy++) {
        row = json_array_get(rows, i);
        cx = x;
        for (int c = 0; c < nc && cx < x + wd; c++) {
            json_t *cell = json_object_get(row, cols[c]);
            scalar(cell, buf, sizeof buf);
            int pad = json_is_number(cell) ? cw[c] - cols_of(buf) : 0;
            ellipsize(buf, sizeof buf, x + wd - cx - pad);
            put(w, yy, cx + pad, x + wd - cx - pad, mark && c == 0 ? A(m, QR_HL) : A(m, QR_NORMAL),
                buf);
            cx += cw[c] + 2;
        }
    }
    return yy;
}

/* A sparkline of an array of numbers. */
static void sparkline(const qs_tui_model *m, WINDOW *w, int y, int x, int wd, json_t *arr)
{
    int n = (int)json_array_size(arr);
    if (n == 0 || wd < 2) return;
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < n; i++) {
        double v = json_number_value(json_array_get(arr, (size_t)i));
        if (v < lo) lo = v;
        if (v > hi) hi = v;
    }
    const char *const *bl = m->utf8 ? blocks_u : blocks_a;
    int cnt = n < wd ? n : wd;
    for (int c = 0; c < cnt; c++) {
        int i = (int)((long long)c * n / cnt);
        double v = json_number_value(json_array_get(arr, (size_t)i));
        int lvl = hi > lo ? 1 + (int)((v - lo) / (hi - lo) * 7.999) : 4;
        put(w, y, x + c, 1, A(m, QR_BAR), bl[lvl]);
    }
}

/* Line charts in braille (2x4 dots per cell) on one canvas of h rows by wd columns: each
 * series is an array of numbers over the full width, all on the range [lo, hi] (NaN: the
 * series' own range). Series drawn later win a shared cell. ASCII terminals get '*'. */
enum { QS_CURVE_MAXW = 256, QS_CURVE_MAXH = 16 };

static void plot_series(const qs_tui_model *m, WINDOW *w, int y, int x, int h, int wd,
                        json_t *arr, double lo, double hi, attr_t a)
{
    int n = (int)json_array_size(arr);
    if (n == 0 || wd < 4 || h < 1) return;
    if (wd > QS_CURVE_MAXW) wd = QS_CURVE_MAXW;
    if (h > QS_CURVE_MAXH) h = QS_CURVE_MAXH;
    if (!isfinite(lo) || !isfinite(hi)) {
        lo = INFINITY;
        hi = -INFINITY;
        for (int i = 0; i < n; i++) {
            double v = json_number_value(json_array_get(arr, (size_t)i));
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
    }
    if (!(hi > lo)) { lo -= 1; hi += 1; }
    static const unsigned char dot[4][2] = {{0x01, 0x08}, {0x02, 0x10}, {0x04, 0x20},
                                             {0x40, 0x80}};
    unsigned char cells[QS_CURVE_MAXH][QS_CURVE_MAXW];
    memset(cells, 0, sizeof cells);
    int px_n = 2 * wd, py_n = 4 * h, prev = -1;
    for (int px = 0; px < px_n; px++) {
        /* linear interpolation between the series' points */
        double tpos = n == 1 ? 0 : (double)px / (px_n - 1) * (n - 1);
        int i0 = (int)tpos;
        if (i0 >= n - 1) i0 = n > 1 ? n - 2 : 0;
        double f = n == 1 ? 0 : tpos - i0;
        double a0 = json_number_value(json_array_get(arr, (size_t)i0));
        double a1 = n == 1 ? a0 : json_number_value(json_array_get(arr, (size_t)i0 + 1));
        double v = a0 + (a1 - a0) * f;
        if (!isfinite(v)) { prev = -1; continue; }
        if (v < lo) v = lo;
        if (v > hi) v = hi;
        int py = py_n - 1 - (int)((v - lo) / (hi - lo) * (py_n - 1) + 0.5);
        int p0 = prev < 0 ? py : prev, p1 = py;
        if (p0 > p1) { int t = p0; p0 = p1; p1 = t; }
        for (int q = p0; q <= p1; q++) cells[q / 4][px / 2] |= dot[q % 4][px % 2];
        prev = py;
    }
    for (int r = 0; r < h; r++)
        for (int c = 0; c < wd; c++) {
            unsigned b = cells[r][c];
            if (!b) continue;
            char u[4] = {(char)0xE2, (char)(0xA0 | (b >> 6)), (char)(0x80 | (b & 0x3F)), 0};
            put(w, y + r, x + c, 1, a, m->utf8 ? u : "*");
        }
}

static void plot_curve(const qs_tui_model *m, WINDOW *w, int y, int x, int h, int wd, json_t *arr)
{
    plot_series(m, w, y, x, h, wd, arr, NAN, NAN, A(m, QR_BAR));
}

/* ==== 1 Data =============================================================================== */

static void draw_channels(const qs_tui_model *m, WINDOW *w, int y0, int h, int W)
{
    if (m->nchan == 0) {
        put(w, y0, 1, W - 2, A(m, QR_DIM), "per-channel view: the tensor needs 2 or more dims");
        return;
    }
    double lo = 0, hi = 0;
    for (int i = 0; i < m->nchan; i++) {
        if (m->chan_min[i] < lo) lo = m->chan_min[i];
        if (m->chan_max[i] > hi) hi = m->chan_max[i];
    }
    if (!(hi > lo)) hi = lo + 1;
    putf(w, y0, 1, W - 2, A(m, QR_TITLE), "%d channels (axis 0) on one axis: a per-tensor "
         "scale must cover the widest", m->nchan);
    int lw = 24, bx = 2 + lw, bw = W - bx - 2;
    for (int r = 0; r < h - 1 && m->chan_scroll + r < m->nchan; r++) {
        int i = m->chan_scroll + r;
        char a[32], b[32];
        fit_g(a, sizeof a, m->chan_min[i], 6, 9);
        fit_g(b, sizeof b, m->chan_max[i], 6, 9);
        putf(w, y0 + 1 + r, 1, lw, A(m, QR_DIM), "%4d %9s %9s", i, a, b);
        int c0 = xcol(m->chan_min[i], lo, hi, bw), c1 = xcol(m->chan_max[i], lo, hi, bw);
        if (c1 >= bw) c1 = bw - 1;
        if (c0 < 0) c0 = 0;
        for (int c = c0; c <= c1; c++) put(w, y0 + 1 + r, bx + c, 1, A(m, QR_BAR), m->utf8 ? "█" : "=");
        int zc = xcol(0, lo, hi, bw);
        if (zc >= 0 && zc < bw && (zc < c0 || zc > c1))
            put(w, y0 + 1 + r, bx + zc, 1, A(m, QR_ZERO), m->utf8 ? "│" : "|");
    }
}

void qs_tui_draw_data(const qs_tui_model *m, WINDOW *w)
{
    int H, W;
    getmaxyx(w, H, W);
    if (!m->has_tensor) {
        put(w, 1, 2, W - 4, A(m, QR_TITLE), "No tensor loaded.");
        put(w, 3, 2, W - 4, A(m, QR_NORMAL), ":load FILE   :synth normal   :values -20 1000");
        return;
    }
    char a[32], b[32], c[32], d[32], e[32];
    int y = 0;
    int x = put(w, y, 1, W - 2, A(m, QR_TITLE), m->t_name);
    putf(w, y, 1 + x, W - 2 - x, A(m, QR_NORMAL), "  %s %s · %lld values%s%s", m->t_dtype,
         m->t_shape, m->t_n, m->t_file[0] ? " · " : "", m->t_file);
    y++;
    json_t *st = m->stats;
    num(a, sizeof a, jd(st, "min", NAN));
    num(b, sizeof b, jd(st, "max", NAN));
    num(c, sizeof c, jd(st, "mean", NAN));
    num(d, sizeof d, jd(st, "std", NAN));
    num(e, sizeof e, jd(st, "absmax", NAN));
    putf(w, y++, 1, W - 2, A(m, QR_NORMAL), "min %s  max %s  mean %s  std %s  absmax %s", a, b,
         c, d, e);
    json_t *pc = json_object_get(st, "percentiles");
    num(a, sizeof a, jd(pc, "p0.01", NAN));
    num(b, sizeof b, jd(pc, "p99.99", NAN));
    putf(w, y++, 1, W - 2, A(m, QR_DIM), "p0.01 %s  p99.99 %s  zeros %lld  NaN %lld  Inf %lld",
         a, b, (long long)jd(st, "zeros", 0), (long long)jd(st, "nan", 0),
         (long long)jd(st, "inf", 0));
    if (m->qparams && json_object_get(m->qparams, "format")) {
        num(b, sizeof b, m->clip_hi);
        putf(w, y++, 1, W - 2, A(m, QR_GRID), "a cast to %s: every value rounds to the nearest "
             "representable one (largest %s)", js(m->qparams, "format"), b);
    } else if (m->qparams && json_object_get(m->qparams, "codebook")) {
        num(a, sizeof a, jd(m->qparams, "scale", NAN));
        putf(w, y++, 1, W - 2, A(m, QR_GRID), "%zu-value codebook × block absmax (block 0: %s) · "
             "%lld blocks of %lld", json_array_size(json_object_get(m->qparams, "codebook")), a,
             (long long)jd(m->qparams, "nparams", 0), (long long)jd(m->qparams, "block", 0));
    } else if (m->qparams) {
        num(a, sizeof a, jd(m->qparams, "scale", NAN));
        num(b, sizeof b, m->clip_lo);
        num(c, sizeof c, m->clip_hi);
        json_t *sa = json_object_get(m->qparams, "scale");
        /* in pieces, so a lesson's @highlight can mark one */
        attr_t g = A(m, QR_GRID);
        char t[160];
        int cx = 1, xe = W - 1;
        snprintf(t, sizeof t, "scale %s", a);
        cx += put_hl(m, w, y, cx, xe - cx, g, hl(m, "scale"), t);
        if (json_array_size(sa) > 1) {
            cx += put(w, y, cx, xe - cx, g, " ");
            cx += put_hl(m, w, y, cx, xe - cx, g, hl(m, "per_channel"), "(channel 0)");
        }
        cx += put(w, y, cx, xe - cx, g, "  ");
        snprintf(t, sizeof t, "zero point %lld", (long long)jd(m->qparams, "zero_point", 0));
        cx += put_hl(m, w, y, cx, xe - cx, g, hl(m, "zero_point"), t);
        snprintf(t, sizeof t, "  clip [%s, %s]  codes %lld..%lld", b, c,
                 (long long)jd(m->qparams, "qmin", 0), (long long)jd(m->qparams, "qmax", 0));
        put(w, y++, cx, xe - cx, g, t);
    } else {
        put(w, y++, 1, W - 2, A(m, QR_DIM), "scale / zero point: the qparams command is not in "
            "this build yet");
    }
    /* the file's tensors, when there are several */
    json_t *list = json_object_get(m->tensors, "tensors");
    int nt = (int)json_array_size(list);
    if (nt > 1) {
        int show = nt < 4 ? nt : 4, cur = m->t_index, first = 0;
        if (cur >= show) first = cur - show + 1;
        for (int i = first; i < first + show && i < nt; i++) {
            json_t *r = json_array_get(list, (size_t)i);
            char shp[96], nm[64];
            scalar(json_object_get(r, "shape"), shp, sizeof shp);
            /* a long name keeps its end (….attention.output.dense.weight and .bias differ
             * only there); dtype names run to 7 characters (F8_E4M3) */
            const char *name = js(r, "name") ? js(r, "name") : "?";
            size_t nl = strlen(name);
            if (nl > 28) snprintf(nm, sizeof nm, "%s%s", m->utf8 ? "…" : "~", name + nl - 27);
            else snprintf(nm, sizeof nm, "%s", name);
            putf(w, y++, 1, W - 2, i == cur ? A(m, QR_KEY) : A(m, QR_DIM),
                 "%s %s%*s %-7s %-14s %lld values", i == cur ? (m->utf8 ? "▶" : ">") : " ",
                 nm, 28 - cols_of(nm), "", js(r, "dtype") ? js(r, "dtype") : "", shp,
                 (long long)jd(r, "n", 0));
        }
        if (nt > show) putf(w, y - 1, W - 16, 15, A(m, QR_DIM), "(%d tensors, t)", nt);
    }
    y++;
    int h = H - y;
    if (m->channels) {
        draw_channels(m, w, y, h, W);
        return;
    }
    putf(w, y - 1, 1, W - 2, A(m, QR_DIM), "histogram%s · [ ] clip range (bars outside it "
         "are clipped) · ┼ grid · 0 zero", m->log_scale ? " (log)" : "");
    if (m->hist) plot_hist(m, w, y, 2, h, W - 4, m->hist, m->log_scale, m->clip_lo, m->clip_hi,
                           m->qparams);
}

/* ==== 2 Derive ============================================================================= */

void qs_tui_draw_derive(const qs_tui_model *m, WINDOW *w)
{
    int H, W;
    getmaxyx(w, H, W);
    int y = 0;
    json_t *qp = m->example ? m->ex_qparams : m->qparams;
    if (m->example)
        putf(w, y++, 1, W - 2, A(m, QR_TITLE), "seed example %d: values %s · uint8 asym · minmax",
             m->example, m->example == 1 ? "0 1000" : "-20 1000");
    else
        putf(w, y++, 1, W - 2, A(m, QR_TITLE), "%s · %s", m->t_name, m->scheme_str);
    if (qp) {
        /* the parameter set the derivation used (per-channel: the followed element's) */
        json_t *sa = json_object_get(qp, "scale"), *za = json_object_get(qp, "zero_point");
        size_t set = 0, nset = json_array_size(sa);
        json_t *sv = json_object_get(m->derive, "set");
        if (json_is_integer(sv) && (size_t)json_integer_value(sv) < nset)
            set = (size_t)json_integer_value(sv);
        char a[32], t[96];
        num(a, sizeof a, nset ? json_number_value(json_array_get(sa, set)) : jd(qp, "scale", NAN));
        long long zp = json_array_size(za) > set ? (long long)json_integer_value(json_array_get(za, set))
                                                 : (long long)jd(qp, "zero_point", 0);
        /* in pieces, so a lesson's @highlight can mark one */
        attr_t g = A(m, QR_GRID);
        int cx = 1, xe = W - 1;
        snprintf(t, sizeof t, "scale %s", a);
        cx += put_hl(m, w, y, cx, xe - cx, g, hl(m, "scale"), t);
        cx += put(w, y, cx, xe - cx, g, "   ");
        snprintf(t, sizeof t, "zero point %lld", zp);
        cx += put_hl(m, w, y, cx, xe - cx, g, hl(m, "zero_point"), t);
        snprintf(t, sizeof t, "   codes %lld..%lld", (long long)jd(qp, "qmin", 0),
                 (long long)jd(qp, "qmax", 0));
        cx += put(w, y, cx, xe - cx, g, t);
        if (nset > 1) {
            cx += put(w, y, cx, xe - cx, g, "   ");
            snprintf(t, sizeof t, "(set %zu of %zu)", set, nset);
            put_hl(m, w, y, cx, xe - cx, g, hl(m, "per_channel"), t);
        }
        y++;
    }
    if (m->has_value) {
        char a[32];
        num(a, sizeof a, (float)m->value);     /* the float32 the steps use: 1e40 is inf */
        if (m->elem >= 0) putf(w, y++, 1, W - 2, A(m, QR_DIM), "following x = %s (element %lld)", a,
                               (long long)m->elem);
        else putf(w, y++, 1, W - 2, A(m, QR_DIM), "following x = %s", a);
    }
    y++;
    json_t *steps = json_object_get(m->derive, "steps");
    int n = (int)json_array_size(steps);
    if (!m->derive || n == 0) {
        if (!qs_cmd_find("derive"))
            wrap(w, y, 2, W - 4, H, A(m, QR_DIM),
                 "The derive command is not in this build yet (the quantization engine, issue 3, "
                 "is landing). Meanwhile the Bits screen (3) and the Data screen (1) work.");
        else
            wrap(w, y, 2, W - 4, H, A(m, QR_DIM), m->has_tensor || m->example
                 ? "No derivation for this tensor (see the status line)."
                 : "No tensor: press e for the seed examples, or :values -20 1000");
        return;
    }
    /* earlier steps one line each; the current one in full; later ones counted */
    int need = 6, room = H - y - need;
    int first = 0;
    if (m->step > room) first = m->step - room;
    /* @highlight steps: the list of steps marked, the marker at the current one */
    int hs = hl(m, "steps");
    if (first > 0)
        putf(w, y++, 2, W - 4, hs ? A(m, QR_HL) : A(m, QR_DIM), "… %d earlier steps", first);
    for (int i = first; i < m->step && y < H - need; i++) {
        json_t *s = json_array_get(steps, (size_t)i);
        char r[64];
        scalar(json_object_get(s, "result"), r, sizeof r);
        putf(w, y++, 2, W - 4, hs ? A(m, QR_HL) : A(m, QR_DIM), "%2d. %s → %s", i + 1,
             js(s, "title") ? js(s, "title") : "", r);
    }
    json_t *s = json_array_get(steps, (size_t)m->step);
    char t[300];
    snprintf(t, sizeof t, "%2d/%d. %s", m->step + 1, n, js(s, "title") ? js(s, "title") : "");
    put_hl(m, w, y++, 2, W - 4, A(m, QR_KEY), hs, t);
    if (js(s, "formula") && *js(s, "formula"))
        y = wrap(w, y, 7, W - 9, H, A(m, QR_NORMAL), js(s, "formula"));
    if (js(s, "substituted") && *js(s, "substituted")) {
        char buf[1100];
        snprintf(buf, sizeof buf, "= %s", js(s, "substituted"));
        y = wrap(w, y, 7, W - 9, H, A(m, QR_NORMAL), buf);
    }
    json_t *r = json_object_get(s, "result");
    if (r) {
        char buf[128];
        scalar(r, buf, sizeof buf);
        putf(w, y++, 7, W - 9, A(m, QR_GOOD), "%s %s", m->utf8 ? "→" : "->", buf);
    }
    if (js(s, "note") && *js(s, "note")) y = wrap(w, y, 7, W - 9, H, A(m, QR_DIM), js(s, "note"));
    if (m->step + 1 < n && y < H)
        putf(w, H - 1, 2, W - 4, A(m, QR_DIM), "%d more step%s: n", n - m->step - 1,
             n - m->step - 1 > 1 ? "s" : "");
}

/* ==== 3 Bits ================================================================================ */

static void draw_bitrow(const qs_tui_model *m, WINDOW *w, int y, int x, const qs_numfields *f,
                        int cursor)
{
    const qs_numfmt *fm = f->fmt;
    int width = fm->width, k = 0, cx = x;
    for (int i = 0; i < width; i++) {
        qs_tui_role r;
        if (fm->is_int) r = (fm->is_signed && i == 0) ? QR_SIGN : QR_MANT;
        else if (i == 0) r = QR_SIGN;
        else if (i <= fm->exp_bits) r = QR_EXP;
        else r = QR_MANT;
        if (!fm->is_int && (i == 1 || i == 1 + fm->exp_bits)) cx++;
        /* a lesson's @highlight of a float field marks its bits (the cursor stays visible) */
        int on = !fm->is_int && ((r == QR_SIGN && hl(m, "sign")) ||
                                 (r == QR_EXP && hl(m, "exponent")) ||
                                 (r == QR_MANT && hl(m, "mantissa")));
        char ch[2] = {f->bits[k++], 0};
        put(w, y, cx++, 1, i == cursor ? A(m, QR_CURSOR) : on ? A(m, QR_HL) : A(m, r), ch);
    }
}

void qs_tui_draw_bits(const qs_tui_model *m, WINDOW *w)
{
    int H, W;
    getmaxyx(w, H, W);
    char a[40], b[40];
    num(a, sizeof a, m->bits_input);
    putf(w, 0, 1, W - 2, A(m, QR_TITLE), "x = %.15g", m->bits_input);
    if (isnan(m->bits_input)) putf(w, 0, 1, W - 2, A(m, QR_TITLE), "x = NaN");
    /* the header in pieces: the field a lesson highlights is marked there too */
    /* below 69 columns (60x16) the stored value takes the hex column's place */
    int nohex = W < 1 + 11 + 35 + 11 + 11, sx = nohex ? 0 : 11;
    put(w, 1, 1, W - 2, A(m, QR_DIM), nohex ? "format    s exponent mantissa                   "
        "stored      error" : "format    s exponent mantissa                   "
        "hex        stored      error");
    if (hl(m, "sign")) put_hl(m, w, 1, 11, 1, 0, 1, "s");
    if (hl(m, "exponent")) put_hl(m, w, 1, 13, 8, 0, 1, "exponent");
    if (hl(m, "mantissa")) put_hl(m, w, 1, 22, 8, 0, 1, "mantissa");
    int y = 2, bx = 11;
    for (int r = 0; r <= QS_FMT_UINT8 && y < H; r++, y++) {
        const qs_numfields *f = &m->bits[r];
        int on = r == m->bits_row;
        put(w, y, 0, 1, A(m, QR_KEY), on ? (m->utf8 ? "▶" : ">") : " ");
        put(w, y, 1, 9, on ? A(m, QR_KEY) : A(m, QR_NORMAL), f->fmt->name);
        draw_bitrow(m, w, y, bx, f, on ? m->bits_cur : -1);
        int hx = bx + 35;
        if (!nohex) put(w, y, hx, 11, A(m, QR_DIM), f->hex);
        if (f->cls == QS_NC_NAN) snprintf(a, sizeof a, "NaN");
        else fit_g(a, sizeof a, f->value, 9, 11);
        put(w, y, hx + sx, 12, A(m, QR_NORMAL), a);
        hx -= 11 - sx;
        if (hx + 23 < W) {
            if (isnan(f->error)) snprintf(b, sizeof b, "%s", qs_numclass_name(f->cls));
            else if (f->error == 0) snprintf(b, sizeof b, "exact");
            else for (int pr = 3; pr >= 1; pr--)     /* fewer digits on a narrow terminal */
                if ((int)snprintf(b, sizeof b, "%+.*g", pr, f->error) <= W - hx - 23) break;
            if (cols_of(b) <= W - hx - 23)     /* whole, or not at all: "+1" for +1.72e-07 */
                put(w, y, hx + 23, W - hx - 23, f->error == 0 ? A(m, QR_GOOD) : A(m, QR_DIM), b);
        }
    }
    /* the scheme's code */
    if (m->have_code && y < H) {
        int on = m->bits_row == QS_TUI_BITS_SCHEME;
        put(w, y, 0, 1, A(m, QR_KEY), on ? (m->utf8 ? "▶" : ">") : " ");
        put(w, y, 1, 9, on ? A(m, QR_KEY) : A(m, QR_GRID), "scheme");
        unsigned c = (unsigned)m->code & ((1u << m->code_bits) - 1);
        for (int i = 0; i < m->code_bits; i++) {
            char ch[2] = {(char)('0' + ((c >> (m->code_bits - 1 - i)) & 1)), 0};
            put(w, y, bx + i, 1, on && i == m->bits_cur ? A(m, QR_CURSOR) : A(m, QR_GRID), ch);
        }
        /* under the other rows' columns: the code where they show hex, then the
         * dequantized value under "stored" and its error under "error" */
        int hx = bx + 35;
        double e = m->code_value - m->bits_input;
        snprintf(a, sizeof a, "code %d", m->code);
        if (!nohex) put(w, y, hx, 11, A(m, QR_GRID), a);
        fit_g(a, sizeof a, m->code_value, 9, 11);
        put(w, y, hx + sx, 12, A(m, QR_NORMAL), a);
        hx -= 11 - sx;
        if (hx + 23 < W) {
            if (e == 0) snprintf(b, sizeof b, "exact");
            else for (int pr = 3; pr >= 1; pr--)
                if ((int)snprintf(b, sizeof b, "%+.*g", pr, e) <= W - hx - 23) break;
            if (cols_of(b) <= W - hx - 23)
                put(w, y, hx + 23, W - hx - 23, e == 0 ? A(m, QR_GOOD) : A(m, QR_DIM), b);
        }
        y++;
    } else if (y < H) {
        put(w, y++, 1, W - 2, A(m, QR_DIM), "scheme: not an integer grid, so no code row "
            "(+/- or :scheme int8 brings it back)");
    }
    /* details of the row under the cursor */
    y++;
    if (m->bits_row <= QS_FMT_UINT8 && y + 3 < H) {
        const qs_numfields *f = &m->bits[m->bits_row];
        const qs_numfmt *fm = f->fmt;
        putf(w, y++, 1, W - 2, A(m, QR_TITLE), "%s — %s", fm->name, fm->title);
        if (!fm->is_int) {
            num(a, sizeof a, f->significand);
            snprintf(a, sizeof a, "%.9g", f->significand);
            char line[256];
            snprintf(line, sizeof line, "sign %d · exponent %s = %d − %d = %d · significand %s "
                     "· value %s%s × 2^%d", f->sign, f->exp_bits, f->exponent, fm->bias,
                     f->exponent_unbiased, a, f->sign ? "−" : "", a, f->exponent_unbiased);
            y = wrap(w, y, 1, W - 2, y + 2 < H - 4 ? y + 2 : y + 1, A(m, QR_NORMAL), line);
        } else {
            putf(w, y++, 1, W - 2, A(m, QR_NORMAL), "code %lld · range %lld..%lld",
                 (long long)f->code, (long long)fm->int_min, (long long)fm->int_max);
        }
        snprintf(a, sizeof a, "%.9g", f->next_down);
        snprintf(b, sizeof b, "%.9g", f->next_up);
        char u[40];
        snprintf(u, sizeof u, "%.6g", f->ulp);
        putf(w, y++, 1, W - 2, A(m, QR_NORMAL), "ULP %s · neighbours %s and %s · %s", u, a, b,
             qs_numclass_name(f->cls));
        char flags[128] = "";
        if (f->status & QS_NF_INEXACT) strcat(flags, "rounded ");
        if (f->status & QS_NF_OVERFLOW) strcat(flags, "overflow ");
        if (f->status & QS_NF_UNDERFLOW) strcat(flags, "underflow ");
        if (f->status & QS_NF_NAN_INPUT) strcat(flags, "NaN-input ");
        num(a, sizeof a, fm->max);
        putf(w, y++, 1, W - 2, A(m, QR_DIM), "max %s%s%s", a, flags[0] ? " · " : "", flags);
    }
    if (H > 0)
        put(w, H - 1, 1, W - 2, A(m, QR_DIM), "sign / exponent / mantissa are coloured; space "
            "flips the bit under the cursor");
}

/* ==== 4 Error =============================================================================== */

void qs_tui_draw_error(const qs_tui_model *m, WINDOW *w)
{
    int H, W;
    getmaxyx(w, H, W);
    json_t *q = m->quant;
    if (!m->has_tensor) {
        put(w, 1, 2, W - 4, A(m, QR_DIM), "No tensor loaded.");
        return;
    }
    if (!q) {
        wrap(w, 1, 2, W - 4, H, A(m, QR_DIM), qs_cmd_find("quant")
             ? "No error metrics for this scheme (see the status line)."
             : "The quant command is not in this build yet (the quantization engine, issue 3, "
               "is landing): the metrics, the error histogram and the comparison table appear "
               "here once it is.");
        return;
    }
    char a[32], b[32], c[32];
    int y = 0;
    num(a, sizeof a, m->clip_lo);
    num(b, sizeof b, m->clip_hi);
    putf(w, y++, 1, W - 2, A(m, QR_TITLE), "clip range [%s, %s]%s", a, b,
         m->clip_manual ? "  (manual — r resets)" : "  (from the calibrator; ←/→ drag)");
    static const struct { const char *key, *label; int pct; } mets[] = {
        {"mse", "MSE", 0}, {"sqnr_db", "SQNR dB", 0}, {"max_abs_err", "max |error|", 0},
        {"mean_err", "mean error", 0}, {"cosine", "cosine", 0}, {"clip_frac", "clipped", 1},
    };
    int mw = 26;
    for (size_t i = 0; i < sizeof mets / sizeof mets[0]; i++) {
        double v = jd(q, mets[i].key, NAN);
        if (mets[i].pct) snprintf(c, sizeof c, "%.4g %%", v * 100);
        else num(c, sizeof c, v);
        putf(w, y + (int)i, 1, mw, A(m, QR_NORMAL), "%-12s %s", mets[i].label, c);
    }
    /* what the scheme costs and how finely it is cut (below the metrics, beside the error
     * histogram's last rows) */
    char t[64];
    int my = y + (int)(sizeof mets / sizeof mets[0]);
    if (json_is_number(json_object_get(q, "bits_per_param"))) {
        snprintf(t, sizeof t, "%-12s %.4g", "bits/param", jd(q, "bits_per_param", NAN));
        put_hl(m, w, my++, 1, mw, A(m, QR_NORMAL), hl(m, "bits_per_param"), t);
    }
    const char *gran = js(m->qparams, "granularity");
    if (gran || json_is_integer(json_object_get(m->qparams, "block"))) {
        if (gran) snprintf(t, sizeof t, "%-12s %s", "granularity", gran);
        else snprintf(t, sizeof t, "%-12s block %lld", "granularity",
                      (long long)jd(m->qparams, "block", 0));
        put_hl(m, w, my, 1, mw, A(m, QR_NORMAL), hl(m, "per_channel"), t);
    }
    /* an error histogram, when the result has one ({counts, edges}) */
    const char *k;
    json_t *v, *eh = NULL;
    json_object_foreach(q, k, v) if (json_is_object(v) && json_object_get(v, "counts")) eh = v;
    int hx = mw + 3, hw = W - hx - 2;
    if (eh && hw > 16) {
        put(w, y, hx, hw, A(m, QR_DIM), "error histogram (ŷ − x)");
        plot_hist(m, w, y + 1, hx, 7, hw, eh, 0, NAN, NAN, NULL);
    }
    y += 8;
    /* compare: SQNR by calibrator × bits (with the 6.02 dB/bit rule), else the raw table */
    json_t *cmp = m->compare, *rows = json_object_get(cmp, "rows");
    if (!json_is_array(rows) || json_array_size(rows) == 0) {
        put(w, y, 1, W - 2, A(m, QR_DIM), qs_cmd_find("compare")
            ? "x: compare calibrators × bit widths 2..8 (SQNR grows about 6.02 dB per bit)"
            : "compare: not in this build yet");
        return;
    }
    json_t *r0 = json_array_get(rows, 0);
    if (!(json_object_get(r0, "calib") && json_object_get(r0, "bits") &&
          json_object_get(r0, "sqnr_db"))) {
        draw_table(m, w, y, 1, H - y, W - 2, rows, 0, 0);
        return;
    }
    enum { MAXCAL = 8 };
    const char *cals[MAXCAL];
    int ncal = 0, bmin = 99, bmax = 0;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) {
        const char *cal = js(r, "calib");
        int nb = (int)jd(r, "bits", 0), seen = 0;
        for (int ci = 0; ci < ncal; ci++) if (cal && !strcmp(cals[ci], cal)) seen = 1;
        if (cal && !seen && ncal < MAXCAL) cals[ncal++] = cal;
        if (nb < bmin) bmin = nb;
        if (nb > bmax) bmax = nb;
    }
    int cw = 8, x0 = 14;
    putf(w, y, 1, W - 2, A(m, QR_TITLE), "SQNR dB");
    for (int nb = bmin; nb <= bmax && x0 + (nb - bmin + 1) * cw < W; nb++)
        putf(w, y, x0 + (nb - bmin) * cw, cw, A(m, QR_TITLE), "%6d b", nb);
    y++;
    double top8 = NAN;
    for (int ci = 0; ci < ncal && y < H; ci++, y++) {
        put(w, y, 1, 12, A(m, QR_NORMAL), cals[ci]);
        json_array_foreach(rows, i, r) {
            const char *cal = js(r, "calib");
            if (!cal || strcmp(cal, cals[ci])) continue;
            int nb = (int)jd(r, "bits", 0);
            double sq = jd(r, "sqnr_db", NAN);
            if (ci == 0 && nb == bmax) top8 = sq;
            if (x0 + (nb - bmin + 1) * cw <= W)
                putf(w, y, x0 + (nb - bmin) * cw, cw, A(m, QR_NORMAL), "%8.2f", sq);
        }
    }
    if (isfinite(top8) && y < H) {
        put(w, y, 1, 12, A(m, QR_DIM), "6.02 dB/bit");
        for (int nb = bmin; nb <= bmax && x0 + (nb - bmin + 1) * cw <= W; nb++)
            putf(w, y, x0 + (nb - bmin) * cw, cw, A(m, QR_DIM), "%8.2f",
                 top8 - 6.02 * (bmax - nb));
        y++;
    }
    if (y < H)
        putf(w, y++, 1, W - 2, A(m, QR_DIM), "last row: %s at %d bits, minus 6.02 dB per bit "
             "removed", cals[0], bmax);
    /* a taller terminal: SQNR against bits as curves, one per calibrator, and the rule */
    int ch = H - y - 3;
    if (ch >= 5 && bmax > bmin && W >= 60) {
        static const qs_tui_role col[] = {QR_BAR, QR_GOOD, QR_KEY, QR_CLIP, QR_ZERO, QR_SIGN,
                                          QR_EXP, QR_MANT};
        double top = 0;
        json_array_foreach(rows, i, r) if (jd(r, "sqnr_db", 0) > top) top = jd(r, "sqnr_db", 0);
        top = ceil(top / 10) * 10;
        if (ch > QS_CURVE_MAXH) ch = QS_CURVE_MAXH;
        int cx = 9, cwd = W - cx - 2;
        y++;
        putf(w, y, 1, 7, A(m, QR_DIM), "%4.0f dB", top);
        putf(w, y + ch - 1, 1, 7, A(m, QR_DIM), "%4d dB", 0);
        json_t *ref = json_array();
        for (int nb = bmin; nb <= bmax; nb++)
            json_array_append_new(ref, json_real(top8 - 6.02 * (bmax - nb)));
        plot_series(m, w, y, cx, ch, cwd, ref, 0, top, A(m, QR_DIM));
        json_decref(ref);
        int lx = 1;
        for (int ci = 0; ci < ncal; ci++) {
            json_t *ser = json_array();
            for (int nb = bmin; nb <= bmax; nb++) {
                double sq = NAN;
                json_array_foreach(rows, i, r) {
                    const char *cal = js(r, "calib");
                    if (cal && !strcmp(cal, cals[ci]) && (int)jd(r, "bits", 0) == nb)
                        sq = jd(r, "sqnr_db", NAN);
                }
                json_array_append_new(ser, json_real(sq));
            }
            plot_series(m, w, y, cx, ch, cwd, ser, 0, top, A(m, col[ci % 8]));
            json_decref(ser);
            lx += putf(w, y + ch + 1, lx, W - lx, A(m, col[ci % 8]), "%s  ", cals[ci]);
        }
        putf(w, y + ch + 1, lx, W - lx, A(m, QR_DIM), "· 6.02 dB/bit   (x: %d..%d bits)",
             bmin, bmax);
    }
}

/* ==== 5 Lab ================================================================================= */

/* Accuracy bars of a sweep: one row per bit width, PTQ against QAT. */
/* Accuracy bars of a sweep: one row per bit width, PTQ against QAT, on an axis from just
 * below the worst accuracy to 100 % (so a one-point difference is visible). */
static int lab_sweep(const qs_tui_model *m, WINDOW *w, int y, int H, int W, json_t *rows)
{
    int bw = (W - 40) / 2;
    if (bw < 6) bw = 6;
    size_t i;
    json_t *r;
    double lo = 1;
    json_array_foreach(rows, i, r) {
        double a = jd(r, "ptq_acc", 1), b = jd(r, "qat_acc", 1);
        if (a < lo) lo = a;
        if (b < lo) lo = b;
    }
    lo = floor(lo * 10 - 0.5) / 10;
    if (lo < 0) lo = 0;
    putf(w, y++, 2, W - 4, A(m, QR_TITLE), "bits   fp32    PTQ  %-*s QAT   (bars: %.0f%%..100%%)",
         bw + 1, "", lo * 100);
    json_array_foreach(rows, i, r) {
        if (y >= H) break;
        double fp = jd(r, "fp32_acc", NAN), ptq = jd(r, "ptq_acc", NAN), qat = jd(r, "qat_acc", NAN);
        putf(w, y, 2, 20, A(m, QR_NORMAL), "%4d  %5.1f%%  %5.1f%%", (int)jd(r, "bits", 0),
             fp * 100, ptq * 100);
        int x = 24;
        int pl = isfinite(ptq) ? (int)((ptq - lo) / (1 - lo) * bw + 0.5) : 0;
        int ql = isfinite(qat) ? (int)((qat - lo) / (1 - lo) * bw + 0.5) : 0;
        for (int c = 0; c < bw; c++)
            put(w, y, x + c, 1, c < pl ? A(m, QR_CLIP) : A(m, QR_DIM), c < pl ? (m->utf8 ? "█" : "#")
                                                                        : (m->utf8 ? "·" : "."));
        x += bw + 1;
        putf(w, y, x, 7, A(m, QR_NORMAL), "%5.1f%%", qat * 100);
        x += 7;
        for (int c = 0; c < bw && x + c < W - 1; c++)
            put(w, y, x + c, 1, c < ql ? A(m, QR_GOOD) : A(m, QR_DIM), c < ql ? (m->utf8 ? "█" : "#")
                                                                        : (m->utf8 ? "·" : "."));
        y++;
    }
    return y;
}

void qs_tui_draw_lab(const qs_tui_model *m, WINDOW *w)
{
    int H, W;
    getmaxyx(w, H, W);
    int y = 0;
    y = wrap(w, y, 1, W - 2, W >= 100 ? 1 : 2, A(m, QR_TITLE), "PTQ vs QAT lab — an MLP on "
             "real data, quantized after training (PTQ) or while training (QAT)");
    if (!qs_cmd_find("lab")) {
        wrap(w, y + 1, 2, W - 4, H, A(m, QR_DIM),
             "The lab commands are not in this build yet (issue 7). When they land, this "
             "screen shows the settings, a progress gauge while training (Esc cancels, the "
             "screens stay usable) and the results with loss / accuracy curves.");
        return;
    }
    /* the settings form, three per row, or two when three do not fit (60 columns) */
    int colw = W >= 100 ? 30 : 24, per = 2 + 3 * colw <= W ? 3 : 2;
    for (int f = 0; f < QS_TUI_LAB_FIELDS; f++) {
        const char *v;
        int used;
        const char *name = qs_tui_lab_field(m, f, &v, &used);
        int row = y + f / per, x = 2 + (f % per) * colw;
        attr_t a = f == m->lab_field ? A(m, QR_CURSOR) : used ? A(m, QR_NORMAL) : A(m, QR_DIM);
        putf(w, row, x, colw - 1, A(m, QR_DIM), "%-7s", name);
        putf(w, row, x + 8, colw - 9, a, "%s %s %s", m->utf8 ? "◀" : "<", v,
             m->utf8 ? "▶" : ">");
    }
    y += (QS_TUI_LAB_FIELDS + per - 1) / per;
    putf(w, y++, 2, W - 4, A(m, QR_KEY), "r runs: %s", m->lab_line);
    y++;
    if (m->job.running) {
        pthread_mutex_t *mu = (pthread_mutex_t *)&m->job.mu;  /* read-only use of the lock */
        pthread_mutex_lock(mu);
        double f = m->job.total > 0 ? m->job.done_units / m->job.total : 0;
        char label[64];
        snprintf(label, sizeof label, "%s", m->job.label);
        pthread_mutex_unlock(mu);
        if (f > 1) f = 1;
        int gw = W - 12;
        putf(w, y++, 2, W - 4, A(m, QR_NORMAL), "%s: %.0f%%", label, f * 100);
        for (int i = 0; i < gw; i++)
            put(w, y, 2 + i, 1, A(m, QR_BAR), i < (int)(f * gw) ? (m->utf8 ? "█" : "#")
                                                              : (m->utf8 ? "░" : "-"));
        y += 2;
        put(w, y, 2, W - 4, A(m, QR_DIM), "Esc cancels; the other screens stay usable.");
        return;
    }
    if (!m->lab) {
        wrap(w, y, 2, W - 4, H, A(m, QR_DIM), "↑/↓ choose a setting, ←/→ change it, r runs. "
             "A sweep trains once, then quantizes after training (PTQ) and while training (QAT) "
             "at every bit width: watch PTQ fall apart at 2-3 bits while QAT holds.");
        return;
    }
    if (qs_tui_draw_gpt(m, w, y)) return;
    json_t *rows = json_object_get(m->lab, "rows");
    if (json_is_array(rows) && json_object_get(json_array_get(rows, 0), "qat_acc")) {
        lab_sweep(m, w, y, H, W, rows);
        return;
    }
    /* scalars, then number arrays as curves, then tables */
    const char *k;
    json_t *v;
    char buf[128];
    int x = 2, cw = 26;
    json_object_foreach(m->lab, k, v) {
        if (y >= H) break;
        if (json_is_object(v) || strstr(k, "sparkline")) continue;
        if (json_is_array(v) && !(json_array_size(v) < 4 && json_is_number(json_array_get(v, 0))))
            continue;   /* short number lists (layer sizes) read best as text */
        scalar(v, buf, sizeof buf);
        if (json_is_real(v) && strstr(k, "acc")) snprintf(buf, sizeof buf, "%.2f%%", json_real_value(v) * 100);
        putf(w, y, x, cw - 1, A(m, QR_NORMAL), "%-10.10s %s", k, buf);
        x += cw;
        if (x + cw > W) { x = 2; y++; }
    }
    if (x != 2) y++;
    json_object_foreach(m->lab, k, v) {
        if (y + 1 >= H) break;
        if (json_is_array(v) && json_array_size(v) >= 4 && json_is_number(json_array_get(v, 0))) {
            char a[32], b[32];
            num(a, sizeof a, json_number_value(json_array_get(v, 0)));
            num(b, sizeof b, json_number_value(json_array_get(v, json_array_size(v) - 1)));
            putf(w, y, 2, 20, A(m, QR_DIM), "%-8.8s %s", k, a);
            put(w, y, W - 12, 11, A(m, QR_DIM), b);
            if (H - y >= 4) {       /* room for a 3-row chart */
                plot_curve(m, w, y, 23, 3, W - 36, v);
                y += 3;
            } else {
                sparkline(m, w, y, 23, W - 36, v);
                y++;
            }
        }
    }
    json_object_foreach(m->lab, k, v) {
        if (y + 2 >= H) break;
        if (json_is_array(v) && json_is_object(json_array_get(v, 0))) {
            /* @highlight steps (or any table's key): its title and first column marked */
            int on = hl(m, k);
            put_hl(m, w, y++, 2, W - 4, A(m, QR_TITLE), on, k);
            y = draw_table(m, w, y, 2, H - y, W - 4, v, 0, on);
        }
    }
}

/* ==== 6 Lesson ============================================================================== */

/* Draws the lesson log into nar (nw columns) from row y and returns the row after it; with
 * nar NULL it draws nothing and returns the same row, which measures the narration. */
static int narration(const qs_tui_model *m, WINDOW *nar, int nw, int y)
{
    const int far = 1 << 20;        /* wrap everything; put() clips to the window */
    if (!nar) y -= far;             /* a dry run: every row is above the window */
    size_t i;
    json_t *it;
    json_array_foreach(m->lesson_log, i, it) {
        const char *kind = js(it, "kind"), *text = js(it, "text");
        int ok = json_is_true(json_object_get(it, "ok"));
        if (!kind || !text) continue;
        if (!strcmp(kind, "heading")) y = wrap(nar, y, 1, nw - 2, far, A(m, QR_KEY), text);
        else if (!strcmp(kind, "text")) {
            char *wr = qs_lesson_wrap(text, nw - 2);
            y = wrap_emph(m, nar, y, 1, nw - 2, wr ? wr : text) + 1;
            free(wr);
        } else if (!strcmp(kind, "pre")) y = wrap(nar, y, 3, nw - 4, far, A(m, QR_DIM), text);
        else if (!strcmp(kind, "cmd")) {
            char buf[600];
            snprintf(buf, sizeof buf, "> %s", text);
            y = wrap(nar, y, 1, nw - 2, far, ok ? A(m, QR_GRID) : A(m, QR_CLIP), buf);
        } else if (!strcmp(kind, "quiz")) {
            char buf[1100];
            snprintf(buf, sizeof buf, "? %s  (a answers)", text);
            y = wrap(nar, y, 1, nw - 2, far, A(m, QR_KEY), buf);
        } else {
            y = wrap(nar, y, 1, nw - 2, far, ok ? A(m, QR_DIM) : A(m, QR_CLIP), text);
        }
    }
    return nar ? y : y + far;
}

/* Narration column width for a terminal cols wide (the live screen takes the rest). */
static int narration_cols(int W)
{
    return W >= 110 ? W * 2 / 5 : W >= 90 ? 40 : W;
}

int qs_tui_lesson_scroll_max(const qs_tui_model *m)
{
    int nh = m->rows - 3 - 3, most = narration(m, NULL, narration_cols(m->cols), 0) - nh;
    return most > 0 ? most : 0;
}

void qs_tui_draw_lesson(const qs_tui_model *m, WINDOW *w)
{
    int H, W;
    getmaxyx(w, H, W);
    if (!m->lesson) {
        put(w, 0, 1, W - 2, A(m, QR_TITLE), "Lessons — L opens one (name or number)");
        json_t *list = json_object_get(m->lesson_list, "lessons");
        if (json_array_size(list) == 0) {
            put(w, 2, 2, W - 4, A(m, QR_DIM), "no lessons found in ./lessons, "
                "$QSCOPE_LESSON_PATH or the installed share/qscope/lessons");
            return;
        }
        draw_table(m, w, 2, 2, H - 2, W - 4, list, 0, 0);
        return;
    }
    /* narration on the left, the live screen the lesson drives on the right; a narrow
     * terminal shows one of them at a time (w switches) */
    int nw = narration_cols(W);
    int live = nw < W;
    if (!live && m->lesson_show_live && m->lesson_live != QS_SCR_LESSON) {
        putf(w, 0, 1, W - 2, A(m, QR_KEY), "lesson: %s — w shows the narration",
             qs_tui_screens[m->lesson_live].title);
        WINDOW *sub = derwin(w, H - 1, W, 1, 0);
        if (sub) {
            qs_tui_screens[m->lesson_live].draw(m, sub);
            delwin(sub);
        }
        return;
    }
    putf(w, 0, 1, nw - 2, A(m, QR_TITLE), "step %d/%d%s · %s", m->lesson_shown,
         m->lesson_nsteps, m->lesson_auto ? " (auto)" : "", m->lesson_title);
    if (!live && m->lesson_live != QS_SCR_LESSON)
        putf(w, H - 1, 1, W - 14, A(m, QR_DIM), "w shows the %s screen this step drives",
             qs_tui_screens[m->lesson_live].title);
    /* the narration scrolls inside its own window (rows 2 .. H-2), never past its end */
    int nh = H - 3;
    WINDOW *nar = nh > 0 ? derwin(w, nh, nw, 2, 0) : NULL;
    if (nar) {
        int top = m->lesson_scroll, most = narration(m, NULL, nw, 0) - nh;
        if (top > most) top = most > 0 ? most : 0;
        int y = narration(m, nar, nw, -top);
        delwin(nar);
        if (y > nh) put(w, H - 1, nw - 12, 11, A(m, QR_KEY), "↓ more");
        if (top > 0) put(w, 1, nw - 12, 11, A(m, QR_KEY), "↑ more");
    }
    if (live && m->lesson_live != QS_SCR_LESSON) {
        for (int r = 0; r < H; r++) put(w, r, nw, 1, A(m, QR_DIM), m->utf8 ? "│" : "|");
        WINDOW *sub = derwin(w, H, W - nw - 1, 0, nw + 1);
        if (sub) {
            qs_tui_screens[m->lesson_live].draw(m, sub);
            delwin(sub);
        }
    }
}

/* ==== overlays ============================================================================== */

static void draw_help(const qs_tui_model *m, WINDOW *w)
{
    int H, W;
    getmaxyx(w, H, W);
    werase(w);
    putf(w, 0, 1, W - 2, A(m, QR_TITLE), "Keys on the %s screen (any key closes this help)",
         qs_tui_screens[m->screen].title);
    /* one column when the list fits the height, else two on a wide terminal */
    int rows = 1;
    for (const qs_tui_binding *b = qs_tui_bindings; b->act != QA_NONE; b++)
        if (b->help && (b->screen == m->screen || b->screen == -1)) rows++;
    int y = 2, col = 0, colw = W >= 120 && rows > H - 2 ? W / 2 : W;
    /* a list that does not fit (60x16) keeps its last row to say so */
    int ylim = colw == W && rows > H - 2 ? H - 1 : H, left = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (const qs_tui_binding *b = qs_tui_bindings; b->act != QA_NONE; b++) {
            if (!b->help) continue;
            if (pass == 0 ? b->screen != m->screen : b->screen != -1) continue;
            if (y >= ylim && colw < W && col == 0) {
                y = 2;
                col++;
            }
            if (y >= ylim) {
                left++;
                continue;
            }
            int x = 1 + col * colw;
            put(w, y, x, 8, A(m, QR_KEY), b->label);
            put(w, y, x + 8, colw - 10, A(m, QR_NORMAL), b->help);
            y++;
        }
        if (pass == 0) y++;
    }
    if (left > 0)
        putf(w, H - 1, 1, W - 2, A(m, QR_DIM), "… %d more key%s (a taller terminal, or man "
             "qscope)", left, left == 1 ? "" : "s");
}

static void draw_output(const qs_tui_model *m, WINDOW *w)
{
    int H, W;
    getmaxyx(w, H, W);
    int top = H / 3, h = H - top;
    for (int r = top; r < H; r++) {
        wmove(w, r, 0);
        wclrtoeol(w);
    }
    for (int c = 0; c < W; c++) put(w, top, c, 1, A(m, QR_DIM), m->utf8 ? "─" : "-");
    put(w, top, 2, W - 4, A(m, QR_TITLE), " output (↑/↓ PgUp/PgDn scroll · o or Esc closes) ");
    const char *p = m->output;
    int line = 0, y = top + 1;
    while (p && *p && y < top + h) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (line >= m->output_scroll) {
            char buf[1024];
            if (len >= sizeof buf) len = sizeof buf - 1;
            memcpy(buf, p, len);
            buf[len] = '\0';
            put(w, y++, 1, W - 2, A(m, QR_NORMAL), buf);
        }
        line++;
        p = nl ? nl + 1 : p + strlen(p);
    }
}

void qs_tui_draw_frame(const qs_tui_model *m, WINDOW *tabs, WINDOW *body, WINDOW *status,
                       WINDOW *bottom)
{
    ascii_only = !m->utf8;
    draw_tabs(m, tabs);
    werase(body);
    if (m->help) draw_help(m, body);
    else {
        qs_tui_screens[m->screen].draw(m, body);
        if (m->output_shown && m->output) draw_output(m, body);
    }
    draw_status(m, status);
    draw_bottom(m, bottom);
}

void qs_tui_draw_too_small(const qs_tui_model *m, WINDOW *w)
{
    ascii_only = !m->utf8;
    int H, W;
    getmaxyx(w, H, W);
    werase(w);
    char buf[128];
    snprintf(buf, sizeof buf, "terminal too small: %dx%d", W, H);
    put(w, H / 2 - 1, 0, W, A(m, QR_KEY), buf);
    snprintf(buf, sizeof buf, "qscope needs at least %dx%d (q quits)", QS_TUI_MIN_COLS,
             QS_TUI_MIN_ROWS);
    put(w, H / 2, 0, W, A(m, QR_NORMAL), buf);
}
