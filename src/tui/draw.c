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

#include "front/front.h"
#include "qscope/lesson.h"
#include "qscope/result.h"

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
static int cols_plain(const char *s)
{
    int n = 0;
    for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* Display columns of s as put() draws it: counted on its qs_escape spelling, so a name with
 * control characters (from a file or a lesson) is measured as it is shown. */
static int cols_of(const char *s)
{
    if (!qs_escape_needed(s, 0)) return cols_plain(s);
    char *e = qs_escape(s, 0);
    int n = e ? cols_plain(e) : 0;
    free(e);
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
    {"α", "alpha"}, {"λ", "lambda"}, {"ᵀ", "^T"}, {"⁻", "^-"}, {"¹", "1"}, /* GPTQ, SmoothQuant */
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

static int put_text(WINDOW *w, int y, int x, int maxw, attr_t a, const char *s);

/* Writes s at (y, x), at most maxw columns, with attribute a. Returns columns written. Text
 * cut short ends in "…" ("~" on an ASCII terminal) in its last column, so a cut shows;
 * trailing spaces cut off (a padded field) are not a cut. Every
 * string is drawn as qs_escape spells it (io.h): a control character or a byte that is not
 * UTF-8 in a tensor name, file name or lesson text shows as \x1b, \n, \u009b, \xff and never
 * reaches the terminal or moves the cursor; valid UTF-8 ('·', '∞', box characters) is drawn
 * as it is. cols_of() measures the same spelling. */
static int put(WINDOW *w, int y, int x, int maxw, attr_t a, const char *s)
{
    if (!qs_escape_needed(s, 0)) return put_text(w, y, x, maxw, a, s);
    char *e = qs_escape(s, 0);
    int c = e ? put_text(w, y, x, maxw, a, e) : 0;
    free(e);
    return c;
}

/* put() for text that needs no escape. */
static int put_text(WINDOW *w, int y, int x, int maxw, attr_t a, const char *s)
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
    /* cut text shows it: the last column becomes "…" ("~" in ASCII) when more than spaces
     * (a field's padding) was left out; a one-column cell is only cut */
    int cut = 0;
    if (*p && maxw >= 2) {
        for (const char *q = p; *q && !cut; q++) cut = *q != ' ';
        if (cut) {
            p = s;
            for (c = 0; c < maxw - 1; c++) {
                p++;
                while (((unsigned char)*p & 0xC0) == 0x80) p++;
            }
        }
    }
    wattr_on(w, a, NULL);
    mvwaddnstr(w, y, x, s, (int)(p - s));
    if (cut) {
        waddstr(w, ascii_only ? "~" : "…");
        c++;
    }
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

int qs_tui_put(WINDOW *w, int y, int x, int maxw, attr_t a, const char *s)
{
    return put(w, y, x, maxw, a, s);
}

attr_t qs_tui_attr(const qs_tui_model *m, qs_tui_role r)
{
    return A(m, r);
}

/* What the tab bar and the status bar name: the seed example while the Derive screen (or a
 * lesson's live Derive pane) shows one, else the session's tensor and scheme. */
static int shows_example(const qs_tui_model *m)
{
    return m->example && (m->screen == QS_SCR_DERIVE ||
                          (m->screen == QS_SCR_LESSON && m->lesson_live == QS_SCR_DERIVE));
}

static const char *example_values(const qs_tui_model *m)
{
    return m->example == 1 ? "0 1000" : "-20 1000";
}

/* ---- a lesson's @highlight ----
 * The names a lesson may highlight are the qs_hl constants of qscope/screens.h, and a screen
 * marks one only when its row in qs_screens declares it (so the table `lesson check` reads
 * and the drawing cannot drift: tests/unit/test_tui.c checks every constant is drawn).
 * What each marks (man/qscope-lesson.5 lists them):
 *   sign, exponent, mantissa   Bits: the field's bits in every float row, and its header
 *   scale, zero_point          Derive and Data: that number on the scale / zero point line
 *   per_channel                Derive, Data: "(set k of n)" / "(channel 0)" when there are
 *                              several parameter sets; Error: the granularity row
 *   bits_per_param             Error: the bits/param row
 *   steps                      Derive: the steps list; Lab: the `steps` table of `lab int`
 *   activations                Derive on a GPTQ / SmoothQuant trace: "synthetic activations"
 * A name the screen in view does not declare marks nothing (the status line still says
 * "look at: NAME"). */

/* 1 when the lesson step highlights element h and the screen being drawn declares it (on
 * the Lesson screen the screen drawn is the lesson's live one). */
static int hl(const qs_tui_model *m, qs_hl h)
{
    int drawn = m->screen == QS_SCR_LESSON ? m->lesson_live : m->screen;
    return m->highlight[0] && qs_screen_marks(drawn, h) &&
           strcmp(m->highlight, qs_hl_names[h]) == 0;
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

/* o[key] as a number ("inf", "-inf" and "nan" too: qs_tui_num), or dflt. */
static double jd(json_t *o, const char *key, double dflt)
{
    return qs_tui_num(o ? json_object_get(o, key) : NULL, dflt);
}

static const char *js(json_t *o, const char *key)
{
    json_t *v = o ? json_object_get(o, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The typed view of a `qparams` result (qscope/result.h); 0 (and an empty view, safe to
 * free) when there is none or it does not decode. */
static int qp_view(json_t *qp, qs_qparams_view *v)
{
    return qs_qparams_view_get(qp, v, NULL) == QS_OK;
}

/* A qparams number as an integer to print: 0 when it is NaN (null or absent). */
static long long qp_int(double v)
{
    return isnan(v) ? 0 : (long long)v;
}

/* A scalar JSON value as text (a string as qs_escape spells it: it may come from a file or
 * a lesson, and a table measures and cuts the text it draws). */
static void scalar(json_t *v, char *buf, size_t len)
{
    if (json_is_string(v)) {
        char *e = qs_escape(json_string_value(v), 0);
        snprintf(buf, len, "%s", e ? e : "?");
        free(e);
    } else if (json_is_integer(v)) snprintf(buf, len, "%lld", (long long)json_integer_value(v));
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

static int wrap_text(WINDOW *w, int y, int x, int wd, int ymax, attr_t a, const char *text);
static int wrap_count_text(int wd, const char *text);

/* Wraps text into the window from row y, width wd; returns the next free row. The text is
 * wrapped as qs_escape spells it (newlines kept as line breaks), so a control character
 * from a file or a lesson takes the columns it is drawn in. */
static int wrap(WINDOW *w, int y, int x, int wd, int ymax, attr_t a, const char *text)
{
    if (!qs_escape_needed(text, QS_ESC_KEEP_NL)) return wrap_text(w, y, x, wd, ymax, a, text);
    char *e = qs_escape(text, QS_ESC_KEEP_NL);
    int r = e ? wrap_text(w, y, x, wd, ymax, a, e) : y;
    free(e);
    return r;
}

/* The rows wrap() would take for text at width wd (nothing drawn). */
static int wrap_count(int wd, const char *text)
{
    if (!qs_escape_needed(text, QS_ESC_KEEP_NL)) return wrap_count_text(wd, text);
    char *e = qs_escape(text, QS_ESC_KEEP_NL);
    int r = e ? wrap_count_text(wd, e) : 0;
    free(e);
    return r;
}

/* wrap() for text that needs no escape. */
static int wrap_text(WINDOW *w, int y, int x, int wd, int ymax, attr_t a, const char *text)
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
        /* the last row allowed with text left after it: the rest on it, which put() cuts
         * with "…", so the text does not stop unmarked */
        const char *rest = end;
        while (*rest == ' ' || *rest == '\n') rest++;
        if (y + 1 == ymax && *rest) end = line + strlen(line);
        char buf[1024];
        size_t n = (size_t)(end - line) < sizeof buf - 1 ? (size_t)(end - line) : sizeof buf - 1;
        memcpy(buf, line, n);
        buf[n] = '\0';
        for (char *nl = strchr(buf, '\n'); nl; nl = strchr(nl, '\n')) *nl = ' ';
        put(w, y++, x, wd, a, buf);
        p = end;
        if (*p == '\n') p++;
    }
    return y;
}

/* wrap_count() for text that needs no escape. */
static int wrap_count_text(int wd, const char *text)
{
    int rows = 0;
    const char *p = text;
    while (*p) {
        while (*p == ' ') p++;
        if (!*p) break;
        const char *line = p, *brk = NULL, *q = p;
        int c = 0;
        while (*q && *q != '\n') {
            if (*q == ' ') brk = q;
            if (c >= wd) break;
            q++;
            while (((unsigned char)*q & 0xC0) == 0x80) q++;
            c++;
        }
        p = (*q && *q != '\n' && brk && brk > line) ? brk : q;
        if (*p == '\n') p++;
        rows++;
    }
    return rows;
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
             i + 1, qs_screens[i].title);
    }
    char ex[64];
    snprintf(ex, sizeof ex, "seed example %d", m->example);
    const char *t = shows_example(m) ? ex : m->t_name;
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
    if (shows_example(m))
        snprintf(right, sizeof right, " seed example %d: values %s · uint8 asym/tensor · minmax ",
                 m->example, example_values(m));
    else
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
        /* the one place that says "(Esc cancels)" while a job runs: the status messages
         * set meanwhile ("running 'X' …", "busy: ...") do not repeat it */
        c += putf(w, 0, c, W - c, A(m, QR_STATUS), " %s %s %3.0f%% (Esc cancels) ", label, g,
                  f * 100);
    }
    if (m->status[0]) {
        c += put(w, 0, c, W - c, m->status_err ? A(m, QR_ERROR) : A(m, QR_STATUS), " ");
        c += put(w, 0, c, W - c - 1, m->status_err ? A(m, QR_ERROR) : A(m, QR_STATUS),
                 m->status);
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

/* A histogram (the typed view of a `hist` result, or of one nested in a result) as
 * vertical bars in the rectangle (y0, x0, h, wd); clip range (clo, chi) shaded, zero and the
 * quantization grid marked on the axis line below. */
static void plot_hist_view(const qs_tui_model *m, WINDOW *w, int y0, int x0, int h, int wd,
                           const qs_hist_view *hv, int logscale, double clo, double chi,
                           const qs_qparams_view *qv)
{
    int n = (int)hv->n;
    if (n == 0 || h < 2 || wd < 8) return;
    double lo = hv->edges[0], hi = hv->edges[n];
    const char *const *bl = m->utf8 ? blocks_u : blocks_a;
    double mx = 0;
    for (int i = 0; i < n; i++) {
        double c = (double)hv->counts[i];
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
        for (int b = b0; b < b1 && b < n; b++) c += (double)hv->counts[b];
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
    double scale = qv ? qs_view_at(qv->scale, qv->nscale, 0) : NAN;
    double zp = qv ? qs_view_zp(qv, 0, NAN) : NAN;
    double qmin = qv ? qv->qmin : NAN, qmax = qv ? qv->qmax : NAN;
    char note[200] = "";
    if (qv && qv->format) {
        /* a cast to a float format: no uniform grid to draw */
        snprintf(note, sizeof note, "grid: every %s value (not uniform)", qv->format);
    } else if (qv && qv->has_codebook && scale > 0) {
        /* a codebook (NF4 / FP4): its values times the first block's absmax */
        for (size_t i = 0; i < qv->nbook; i++) {
            int c = xcol(qv->book[i] * scale, lo, hi, wd);
            if (c < 0 || c >= wd) continue;
            put(w, ay, x0 + c, 1, A(m, QR_GRID), m->utf8 ? "┼" : "+");
            for (int r = filled[c]; r < ph; r++)
                put(w, y0 + ph - 1 - r, x0 + c, 1, A(m, QR_GRID) | A_DIM, m->utf8 ? "┊" : ":");
        }
        snprintf(note, sizeof note, "grid: %zu code values × absmax %.4g (block 0)",
                 qv->nbook, scale);
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

/* plot_hist_view of a histogram held as JSON ({counts, edges, ...}); nothing when it does not
 * decode. */
static void plot_hist(const qs_tui_model *m, WINDOW *w, int y0, int x0, int h, int wd,
                      json_t *hist, int logscale, double clo, double chi, json_t *qp)
{
    qs_hist_view hv;
    qs_qparams_view qv;
    if (qs_hist_view_get(hist, &hv, NULL) != QS_OK) return;
    int has_qv = qp_view(qp, &qv);
    plot_hist_view(m, w, y0, x0, h, wd, &hv, logscale, clo, chi, has_qv ? &qv : NULL);
    qs_qparams_view_free(&qv);
    qs_hist_view_free(&hv);
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

static int pct_key(const char *k);
static void acc_str(char *buf, size_t len, json_t *o, const char *key, int with_ci);

/* A table cell as text: accuracies and fractions in % (with the row's 95% interval when it
 * has one), anything else as scalar() spells it. */
static void cell_str(json_t *row, const char *key, char *buf, size_t len)
{
    json_t *v = json_object_get(row, key);
    if (json_is_real(v) && pct_key(key)) acc_str(buf, len, row, key, 1);
    else scalar(v, buf, len);
}

/* A table from an array of objects (columns: the first row's scalar keys), its rows from
 * index `first` on. mark: the first column's cells drawn highlighted (a lesson's @highlight
 * of the table); sel: the row drawn as chosen, with "▶" before it (-1: none). */
static int draw_table(const qs_tui_model *m, WINDOW *w, int y, int x, int h, int wd, json_t *rows,
                      int first, int mark, int sel)
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
        size_t kl = strlen(k);
        if (kl > 5 && !strcmp(k + kl - 5, "_ci95")) continue;   /* shown with its accuracy */
        cols[nc] = k;
        cw[nc] = cols_of(k);
        nc++;
    }
    size_t n = json_array_size(rows), i;
    json_t *row;
    json_array_foreach(rows, i, row) for (int c = 0; c < nc; c++) {
        cell_str(row, cols[c], buf, sizeof buf);
        if (cols_of(buf) > cw[c]) cw[c] = cols_of(buf);
    }
    /* too wide: the columns that matter least go first (from the right), keeping the first
     * one and whatever names an accuracy, an error, a bit width or an SQNR */
    for (;;) {
        int tot = 0;
        for (int c = 0; c < nc; c++) tot += cw[c] + 2;
        if (tot - 2 <= wd || nc <= 1) break;
        int drop = nc - 1;
        for (int c = nc - 1; c >= 1; c--) {
            const char *cn = cols[c];
            if (!(strstr(cn, "acc") || strstr(cn, "err") || strstr(cn, "bits") ||
                  strstr(cn, "sqnr"))) {
                drop = c;
                break;
            }
        }
        for (int c = drop; c + 1 < nc; c++) {
            cols[c] = cols[c + 1];
            cw[c] = cw[c + 1];
        }
        nc--;
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
            cell_str(row, cols[c], buf, sizeof buf);
            int pad = json_is_number(cell) ? cw[c] - cols_of(buf) : 0;
            ellipsize(buf, sizeof buf, x + wd - cx - pad);
            attr_t a = (int)i == sel ? A(m, QR_CURSOR) : mark && c == 0 ? A(m, QR_HL)
                                                                        : A(m, QR_NORMAL);
            put(w, yy, cx + pad, x + wd - cx - pad, a, buf);
            cx += cw[c] + 2;
        }
        if ((int)i == sel && x > 0) put(w, yy, x - 1, 1, A(m, QR_KEY), "▶");
    }
    return yy;
}

/* A sparkline of an array of numbers. */
static void sparkline(const qs_tui_model *m, WINDOW *w, int y, int x, int wd, json_t *arr)
{
    int n = (int)json_array_size(arr);
    if (n == 0 || wd < 2) return;
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < n; i++) {           /* the finite values' range */
        double v = qs_tui_num(json_array_get(arr, (size_t)i), NAN);
        if (!isfinite(v)) continue;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
    }
    const char *const *bl = m->utf8 ? blocks_u : blocks_a;
    int cnt = n < wd ? n : wd;
    for (int c = 0; c < cnt; c++) {
        int i = (int)((long long)c * n / cnt);
        double v = qs_tui_num(json_array_get(arr, (size_t)i), NAN);
        if (!isfinite(v)) {                 /* inf or nan (a diverged loss): a gap */
            put(w, y, x + c, 1, A(m, QR_CLIP), "?");
            continue;
        }
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
        for (int i = 0; i < n; i++) {       /* the finite values' range */
            double v = qs_tui_num(json_array_get(arr, (size_t)i), NAN);
            if (!isfinite(v)) continue;
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
        double a0 = qs_tui_num(json_array_get(arr, (size_t)i0), NAN);
        double a1 = n == 1 ? a0 : qs_tui_num(json_array_get(arr, (size_t)i0 + 1), NAN);
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

/* Per-channel schemes: which axis and why, and a warning when per-channel cannot differ
 * from per-tensor (an axis of size 1, every channel with the same parameters). Returns the
 * next row. */
static int draw_axis_lines(const qs_tui_model *m, WINDOW *w, int y, int W)
{
    qs_qparams_view qv;
    qp_view(m->qparams, &qv);
    if (qv.axis_reason) putf(w, y++, 1, W - 2, A(m, QR_DIM), "per-channel · %s", qv.axis_reason);
    if (qv.warning) putf(w, y++, 1, W - 2, A(m, QR_ERROR), "%s %s", m->utf8 ? "⚠" : "!",
                         qv.warning);
    qs_qparams_view_free(&qv);
    return y;
}

/* A tensor name in at most nw columns: whole when it fits, else its first and last dotted
 * parts around "…" (encoder.layer.3.…output.dense.weight keeps the layer and what it is),
 * else its end. */
static void cut_name(const char *name, int nw, char *out, size_t len, int utf8)
{
    const char *ell = utf8 ? "…" : "~";
    int n = cols_of(name);
    if (n <= nw) {
        snprintf(out, len, "%s", name);
        return;
    }
    /* the dots: a head is name[0..dot], a tail name[dot+1..] */
    enum { MAXD = 64 };
    int dots[MAXD], nd = 0;
    for (int i = 0; name[i] && nd < MAXD; i++) if (name[i] == '.') dots[nd++] = i;
    /* the cut that keeps the most: numbered parts first (layer.3: which layer), then
     * characters */
    int best_h = -1, best_t = -1, best = -1;
    for (int t = 0; t < nd; t++) {          /* tail starts after dots[t] */
        int tl = cols_of(name + dots[t] + 1);
        for (int h = -1; h < t; h++) {      /* head ends with dots[h] (h < 0: none) */
            int hl = h < 0 ? 0 : dots[h] + 1;
            if (hl + 1 + tl > nw) continue;
            int nums = 0;
            for (int c = 0; c <= nd; c++) {  /* part c: between dots[c-1] and dots[c] */
                int a = c ? dots[c - 1] + 1 : 0, e = c < nd ? dots[c] : (int)strlen(name);
                int kept = (c <= h) || (c > t), digits = e > a;
                for (int i = a; i < e; i++) digits &= name[i] >= '0' && name[i] <= '9';
                nums += kept && digits;
            }
            int keep = nums * 1000 + hl + tl;
            if (keep > best) {
                best = keep;
                best_h = h;
                best_t = t;
            }
        }
    }
    if (best > 0) {
        snprintf(out, len, "%.*s%s%s", best_h >= 0 ? dots[best_h] + 1 : 0, name, ell,
                 name + dots[best_t] + 1);
        return;
    }
    /* no dotted cut fits: the end, as many characters as fit */
    const char *p = name;
    for (int skip = n - (nw - 1); skip > 0 && *p; skip--) {
        p++;
        while (((unsigned char)*p & 0xC0) == 0x80) p++;
    }
    snprintf(out, len, "%s%s", ell, p);
}

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
    putf(w, y0, 1, W - 2, A(m, QR_TITLE), "%d channels (axis %d) on one axis: a per-tensor "
         "scale must cover the widest", m->nchan, m->chan_axis);
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
    putf(w, y, 1 + x, W - 2 - x, A(m, QR_NORMAL), "  %s %s · %lld value%s%s%s", m->t_dtype,
         m->t_shape, m->t_n, m->t_n == 1 ? "" : "s", m->t_file[0] ? " · " : "", m->t_file);
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
    if (js(st, "quantized")) {          /* dequantized codes: few values on a grid */
        num(a, sizeof a, jd(st, "grid_step", NAN));
        putf(w, y++, 1, W - 2, A(m, QR_ERROR), "%s already quantized: %lld distinct values on a "
             "grid of step %s (%lld levels)", m->utf8 ? "⚠" : "!", (long long)jd(st, "distinct",
             0), a, (long long)jd(st, "grid_levels", 0));
    }
    qs_qparams_view qv;
    int hq = qp_view(m->qparams, &qv);
    if (hq && qv.format) {
        num(b, sizeof b, m->clip_hi);
        putf(w, y++, 1, W - 2, A(m, QR_GRID), "a cast to %s: every value rounds to the nearest "
             "representable one (largest %s)", qv.format, b);
    } else if (hq && qv.has_codebook) {
        num(a, sizeof a, qs_view_at(qv.scale, qv.nscale, 0));
        putf(w, y++, 1, W - 2, A(m, QR_GRID), "%zu-value codebook × block absmax (block 0: %s) · "
             "%lld blocks of %lld", qv.nbook, a, qv.nparams, qv.block);
    } else if (hq && qv.element) {
        /* a block-float scheme (MX, NVFP4): a scale per block, small-float elements, no zero
         * point or integer code range (the library's qparams say which) */
        char em[32];
        num(a, sizeof a, qs_view_at(qv.scale, qv.nscale, 0));
        num(em, sizeof em, qv.elem_max);
        putf(w, y++, 1, W - 2, A(m, QR_GRID), "elements %s (max %s) × a scale per block of "
             "%lld (block 0: %s) · %lld blocks", qv.element, em, qv.block, a, qv.nparams);
    } else if (hq) {
        num(a, sizeof a, qs_view_at(qv.scale, qv.nscale, 0));
        num(b, sizeof b, m->clip_lo);
        num(c, sizeof c, m->clip_hi);
        /* in pieces, so a lesson's @highlight can mark one */
        attr_t g = A(m, QR_GRID);
        char t[160];
        int cx = 1, xe = W - 1;
        snprintf(t, sizeof t, "scale %s", a);
        cx += put_hl(m, w, y, cx, xe - cx, g, hl(m, QS_HL_SCALE), t);
        if (qv.nscale > 1) {
            cx += put(w, y, cx, xe - cx, g, " ");
            cx += put_hl(m, w, y, cx, xe - cx, g, hl(m, QS_HL_PER_CHANNEL), "(channel 0)");
        }
        cx += put(w, y, cx, xe - cx, g, "  ");
        snprintf(t, sizeof t, "zero point %lld", (long long)qs_view_zp(&qv, 0, 0));
        cx += put_hl(m, w, y, cx, xe - cx, g, hl(m, QS_HL_ZERO_POINT), t);
        snprintf(t, sizeof t, "  clip [%s, %s]  codes %lld..%lld", b, c,
                 qp_int(qv.qmin), qp_int(qv.qmax));
        put(w, y++, cx, xe - cx, g, t);
        y = draw_axis_lines(m, w, y, W);
    } else if (m->scheme_err[0]) {
        putf(w, y++, 1, W - 2, A(m, QR_ERROR), "scheme: %s", m->scheme_err);
    }
    qs_qparams_view_free(&qv);
    /* the file's tensors, when there are several: as many as leave the histogram half the
     * rows, a window around the current one, its position on a line of its own */
    json_t *list = json_object_get(m->tensors, "tensors");
    int nt = (int)json_array_size(list);
    if (nt > 1) {
        int room = (H - y - 2) / 2, show = nt < room ? nt : room, cur = m->t_index, first = 0;
        if (show < 2) show = 2;
        if (show > nt) show = nt;
        if (cur >= show) first = cur - show / 2;
        if (first + show > nt) first = nt - show;
        if (first < 0) first = 0;
        int sw = 5, vw = 1;     /* widths of the shape and count columns */
        for (int i = first; i < first + show; i++) {
            json_t *r = json_array_get(list, (size_t)i);
            char shp[96], cnt[32];
            scalar(json_object_get(r, "shape"), shp, sizeof shp);
            snprintf(cnt, sizeof cnt, "%lld", (long long)jd(r, "n", 0));
            if (cols_of(shp) > sw) sw = cols_of(shp);
            if ((int)strlen(cnt) > vw) vw = (int)strlen(cnt);
        }
        int nw = W - 2 - 19 - sw - vw;     /* "▶ " name " " dtype(7) " " shape " " N " values" */
        int longest = 4;
        for (int i = first; i < first + show; i++) {
            const char *nm = js(json_array_get(list, (size_t)i), "name");
            if (nm && cols_of(nm) > longest) longest = cols_of(nm);
        }
        if (nw > longest) nw = longest;
        if (nw < 12) nw = 12;
        if (show < nt)
            putf(w, y++, 1, W - 2, A(m, QR_DIM), "tensors %d-%d of %d (t / T: next / previous)",
                 first + 1, first + show, nt);
        for (int i = first; i < first + show; i++) {
            json_t *r = json_array_get(list, (size_t)i);
            char shp[96], nm[300];
            scalar(json_object_get(r, "shape"), shp, sizeof shp);
            /* cut as it is shown: a name from a file is drawn escaped */
            char *en = qs_escape(js(r, "name") ? js(r, "name") : "?", 0);
            cut_name(en ? en : "?", nw, nm, sizeof nm, m->utf8);
            free(en);
            putf(w, y++, 1, W - 2, i == cur ? A(m, QR_KEY) : A(m, QR_DIM),
                 "%s %s%*s %-7s %-*s %*lld value%s", i == cur ? (m->utf8 ? "▶" : ">") : " ",
                 nm, nw - cols_of(nm), "", js(r, "dtype") ? js(r, "dtype") : "",
                 sw + (int)strlen(shp) - cols_of(shp), shp, vw, (long long)jd(r, "n", 0),
                 jd(r, "n", 0) == 1 ? "" : "s");
        }
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

/* The header of a method's trace (GPTQ, SmoothQuant): what it is of and that the activations
 * are synthetic, the method's own measurements, whether the trace is still of the current
 * tensor. Every number is the command's result's. Returns the next free row. */
static int derive_method_header(const qs_tui_model *m, WINDOW *w, int H, int W)
{
    const qs_tui_mtrace *t = &m->mt[m->dsrc];
    json_t *r = t->res;
    const char *title = qs_tui_dsrcs[m->dsrc].title;
    int y = 0;
    if (!r) {
        putf(w, y++, 1, W - 2, A(m, QR_TITLE), "%s trace", title);
        return y;
    }
    json_t *mx = json_object_get(r, "matrix");
    char shape[64] = "W", t1[256], a[32], b[32];
    if (json_array_size(mx) == 2)
        snprintf(shape, sizeof shape, "W [%lld × %lld]",
                 (long long)json_integer_value(json_array_get(mx, 0)),
                 (long long)json_integer_value(json_array_get(mx, 1)));
    /* the title in pieces, so a lesson's @highlight can mark the activations */
    int cx = 1, xe = W - 1;
    attr_t ta = A(m, QR_TITLE);
    snprintf(t1, sizeof t1, "%s on %s · ", title, shape);
    cx += put(w, y, cx, xe - cx, ta, t1);
    cx += put_hl(m, w, y, cx, xe - cx, ta, hl(m, QS_HL_ACTIVATIONS), "synthetic activations");
    json_t *steps = json_object_get(r, "steps");
    json_t *st = json_array_get(steps, (size_t)m->step);
    char more[600];
    if (m->dsrc == QS_DSRC_GPTQ) {
        /* where the current step is: the set-up, or the k-th of the traced columns */
        long long parts = (long long)jd(r, "parts", 0), part = (long long)jd(st, "part", 0);
        if (part > 0) snprintf(t1, sizeof t1, " · traced column %lld of %lld", part, parts);
        else snprintf(t1, sizeof t1, " · set-up, then %lld column%s", parts,
                      parts == 1 ? "" : "s");
        snprintf(more, sizeof more, "grid %s · output SQNR on these activations: "
                 "round-to-nearest %.2f dB, GPTQ %.2f dB", js(r, "grid") ? js(r, "grid") : "?",
                 jd(r, "rtn_out_sqnr_db", NAN), jd(r, "gptq_out_sqnr_db", NAN));
    } else {
        char c[32], d[32];
        num(a, sizeof a, jd(r, "alpha", NAN));
        long long ch = (long long)jd(r, "channel", -1);
        int planted = 0;
        json_t *oc = json_object_get(r, "outlier_channels"), *v;
        size_t i;
        json_array_foreach(oc, i, v) planted |= json_integer_value(v) == ch;
        snprintf(t1, sizeof t1, " · α %s · channel %lld", a, ch);
        num(a, sizeof a, jd(r, "absmax_x_before", NAN));
        num(b, sizeof b, jd(r, "absmax_x_after", NAN));
        num(c, sizeof c, jd(r, "absmax_w_before", NAN));
        num(d, sizeof d, jd(r, "absmax_w_after", NAN));
        snprintf(more, sizeof more, "channel %lld is %s · W8A8 output SQNR %.2f dB, smoothed "
                 "%.2f dB · max|X| %s → %s, max|W| %s → %s", ch,
                 planted ? "a planted outlier" : "not a planted outlier",
                 jd(r, "sqnr_w8a8_db", NAN), jd(r, "sqnr_smoothed_db", NAN), a, b, c, d);
    }
    if (cx + cols_of(t1) <= xe) put(w, y++, cx, xe - cx, ta, t1);
    else {                      /* a narrow terminal: where the step is, on its own line */
        y++;
        if (y < H) put(w, y++, 2, W - 4, ta, t1 + strlen(" · "));
    }
    /* what the activations are, in the library's words; then the method's measurements */
    if (js(r, "activations"))
        y = wrap(w, y, 2, W - 4, H, A(m, QR_DIM), js(r, "activations"));
    y = wrap(w, y, 2, W - 4, H, A(m, QR_GRID), more);
    if (strcmp(t->key, m->tensor_key) != 0) {
        snprintf(t1, sizeof t1, "computed on %s before the tensor changed: r runs `%s` again",
                 t->on, t->line);
        y = wrap(w, y, 2, W - 4, H, A(m, QR_ERROR), t1);
    } else if (t->applied) {
        y = wrap(w, y, 2, W - 4, H, A(m, QR_DIM), "the steps are of the weights before "
                 "`apply` replaced them (the tensor now holds the quantized weights)");
    }
    return y;
}

void qs_tui_draw_derive(const qs_tui_model *m, WINDOW *w)
{
    int H, W;
    getmaxyx(w, H, W);
    int y = 0;
    json_t *qp = m->example ? m->ex_qparams : m->qparams;
    json_t *res = qs_tui_derive_result(m);
    if (m->dsrc != QS_DSRC_SCHEME) {
        y = derive_method_header(m, w, H, W);
        qp = NULL;
    } else if (m->example)
        putf(w, y++, 1, W - 2, A(m, QR_TITLE), "seed example %d: values %s · uint8 asym · minmax",
             m->example, example_values(m));
    else
        putf(w, y++, 1, W - 2, A(m, QR_TITLE), "%s · %s", m->t_name, m->scheme_str);
    qs_qparams_view qv;
    if (qp && qp_view(qp, &qv)) {
        /* the parameter set the derivation used (per-channel: the followed element's) */
        size_t set = 0, nset = qv.nscale;
        json_t *sv = json_object_get(m->derive, "set");
        if (json_is_integer(sv) && (size_t)json_integer_value(sv) < nset)
            set = (size_t)json_integer_value(sv);
        char a[32], t[96];
        num(a, sizeof a, qs_view_at(qv.scale, qv.nscale, set));
        long long zp = (long long)qs_view_zp(&qv, set, 0);
        /* in pieces, so a lesson's @highlight can mark one */
        attr_t g = A(m, QR_GRID);
        int cx = 1, xe = W - 1;
        snprintf(t, sizeof t, "scale %s", a);
        cx += put_hl(m, w, y, cx, xe - cx, g, hl(m, QS_HL_SCALE), t);
        cx += put(w, y, cx, xe - cx, g, "   ");
        const char *elem = qv.element;
        if (elem) {
            /* a block-float scheme (MX, NVFP4): no zero point and no integer code range; its
             * elements are a small float format, their largest value as qparams gives it */
            char e[32];
            num(e, sizeof e, qv.elem_max);
            snprintf(t, sizeof t, "elements %s (max %s)", elem, e);
            cx += put(w, y, cx, xe - cx, g, t);
        } else {
            snprintf(t, sizeof t, "zero point %lld", zp);
            cx += put_hl(m, w, y, cx, xe - cx, g, hl(m, QS_HL_ZERO_POINT), t);
            snprintf(t, sizeof t, "   codes %lld..%lld", qp_int(qv.qmin), qp_int(qv.qmax));
            cx += put(w, y, cx, xe - cx, g, t);
        }
        if (nset > 1) {
            cx += put(w, y, cx, xe - cx, g, "   ");
            snprintf(t, sizeof t, "(set %zu of %zu)", set, nset);
            put_hl(m, w, y, cx, xe - cx, g, hl(m, QS_HL_PER_CHANNEL), t);
        }
        y++;
        qs_qparams_view_free(&qv);
    }
    if (m->has_value && m->dsrc == QS_DSRC_SCHEME) {
        char a[32];
        num(a, sizeof a, (float)m->value);     /* the float32 the steps use: 1e40 is inf */
        if (m->elem >= 0) putf(w, y++, 1, W - 2, A(m, QR_DIM), "following x = %s (element %lld)", a,
                               (long long)m->elem);
        else putf(w, y++, 1, W - 2, A(m, QR_DIM), "following x = %s", a);
    }
    y++;
    /* the steps through their typed view (qscope/result.h): none when they do not decode */
    qs_trace_view tv = {0};
    if (qs_trace_view_get(json_object_get(res, "steps"), &tv, NULL) != QS_OK) tv.n = 0;
    int n = (int)tv.n;
    if (m->dsrc != QS_DSRC_SCHEME && n == 0) {
        const qs_tui_dsrc_row *d = &qs_tui_dsrcs[m->dsrc];
        char e[300];
        if (m->job.running) snprintf(e, sizeof e, "running `%s` … (Esc cancels)", m->job.line);
        else snprintf(e, sizeof e, "No %s trace%s: r runs `%s` on the current tensor as W "
                      "(see the status line), m shows the next source", d->title,
                      m->has_tensor ? "" : " (no tensor: load or synth one)",
                      m->mt[m->dsrc].line[0] ? m->mt[m->dsrc].line : d->line);
        wrap(w, y, 2, W - 4, H, A(m, QR_DIM), e);
        qs_trace_view_free(&tv);
        return;
    }
    if (!res || n == 0) {
        if (m->scheme_err[0] && m->has_tensor && !m->example) {
            char e[300];
            snprintf(e, sizeof e, "No derivation for this tensor: %s", m->scheme_err);
            wrap(w, y, 2, W - 4, H, A(m, QR_ERROR), e);
        } else {
            wrap(w, y, 2, W - 4, H, A(m, QR_DIM), m->has_tensor || m->example
                 ? "No derivation for this tensor (see the status line)."
                 : "No tensor: press e for the seed examples, or :values -20 1000");
        }
        qs_trace_view_free(&tv);
        return;
    }
    /* earlier steps one line each (two, with their numbers substituted, when the terminal
     * is tall enough to keep them all); the current one in full; later ones counted; the
     * number line at the bottom once the scale and the zero point are known */
    int nl = qs_tui_numline_rows(m);
    int yend = nl ? H - 2 - nl : H;     /* rows the steps may use */
    int need = 6, room = yend - y - need;
    if (room < 0) room = 0;
    int first = 0, twoline = m->step > 0 && 2 * m->step <= room;
    if (m->step > room) first = m->step - room;
    /* @highlight steps: the list of steps marked, the marker at the current one */
    int hs = hl(m, QS_HL_STEPS);
    if (first > 0)
        putf(w, y++, 2, W - 4, hs ? A(m, QR_HL) : A(m, QR_DIM), "… %d earlier steps", first);
    for (int i = first; i < m->step && y < H - need; i++) {
        const qs_trace_step *s = &tv.steps[i];
        char r[64];
        scalar((json_t *)s->result, r, sizeof r);
        putf(w, y++, 2, W - 4, hs ? A(m, QR_HL) : A(m, QR_DIM), "%2d. %s → %s", i + 1,
             s->title ? s->title : "", r);
        if (twoline && s->substituted && *s->substituted)
            putf(w, y++, 7, W - 9, A(m, QR_DIM), "= %s", s->substituted);
        else if (twoline) y++;
    }
    /* m->step is kept within the steps (model.c); an empty step when it is not */
    static const qs_trace_step none;
    const qs_trace_step *s = m->step >= 0 && m->step < n ? &tv.steps[m->step] : &none;
    char t[300];
    snprintf(t, sizeof t, "%2d/%d. %s", m->step + 1, n, s->title ? s->title : "");
    put_hl(m, w, y++, 2, W - 4, A(m, QR_KEY), hs, t);
    if (s->formula && *s->formula)
        y = wrap(w, y, 7, W - 9, yend, A(m, QR_NORMAL), s->formula);
    if (s->substituted && *s->substituted) {
        char buf[1100];
        snprintf(buf, sizeof buf, "= %s", s->substituted);
        y = wrap(w, y, 7, W - 9, yend, A(m, QR_NORMAL), buf);
    }
    json_t *r = (json_t *)s->result;
    if (r && y < yend) {
        char buf[300], line[310];
        scalar(r, buf, sizeof buf);
        /* wrapped; a result of several parts ("w=… q=… e=…; w=…", a GPTQ column's rows)
         * too long for one line gets a line per part */
        snprintf(line, sizeof line, "%s %s", m->utf8 ? "→" : "->", buf);
        if (cols_of(line) > W - 9)
            for (char *sc = strstr(line, "; "); sc; sc = strstr(sc + 2, "; ")) sc[1] = '\n';
        y = wrap(w, y, 7, W - 9, yend, A(m, QR_GOOD), line);
    }
    if (s->note && *s->note) y = wrap(w, y, 7, W - 9, yend, A(m, QR_DIM), s->note);
    if (nl) qs_tui_draw_numline(m, w, H - 1 - nl, 1, W - 2);
    if (m->step + 1 < n && y < H)
        putf(w, H - 1, 2, W - 4, A(m, QR_DIM), "%d more step%s: n", n - m->step - 1,
             n - m->step - 1 > 1 ? "s" : "");
    qs_trace_view_free(&tv);
}

/* ==== 3 Bits ================================================================================ */

static void draw_bitrow(const qs_tui_model *m, WINDOW *w, int y, int x, const qs_numfields *f,
                        int cursor)
{
    const qs_numfmt *fm = f->fmt;
    int width = fm->width, k = 0, cx = x;
    /* an unsigned float (E8M0, the MX scale) has no sign bit: its bits start under the
     * exponent heading, one column on (the sign's and the gap's) */
    int sb = fm->is_int || fm->is_signed ? 1 : 0;
    if (!fm->is_int && !sb) cx += 2;
    for (int i = 0; i < width; i++) {
        qs_tui_role r;
        int fi = i + 1 - sb;    /* the bit's place in a signed float's layout */
        if (fm->is_int) r = (fm->is_signed && i == 0) ? QR_SIGN : QR_MANT;
        else if (fi == 0) r = QR_SIGN;
        else if (fi <= fm->exp_bits) r = QR_EXP;
        else r = QR_MANT;
        if (!fm->is_int && ((sb && i == 1) || (fi == 1 + fm->exp_bits && i > 0))) cx++;
        /* a lesson's @highlight of a float field marks its bits (the cursor stays visible) */
        int on = !fm->is_int && ((r == QR_SIGN && hl(m, QS_HL_SIGN)) ||
                                 (r == QR_EXP && hl(m, QS_HL_EXPONENT)) ||
                                 (r == QR_MANT && hl(m, QS_HL_MANTISSA)));
        char ch[2] = {f->bits[k++], 0};
        put(w, y, cx++, 1, i == cursor ? A(m, QR_CURSOR) : on ? A(m, QR_HL) : A(m, r), ch);
    }
}

/* A stored value with the digits that show its rounding: enough significant digits to
 * name the stored value in its format (encoding the printed number gives the same pattern,
 * asked of numfmt) and, when it differs from the input, to print differently from it (fp32
 * of 1e-05 is 9.9999997e-06, not 1e-05). */
static void stored_str(char *buf, size_t len, const qs_numfmt *f, double v, double input)
{
    char in[40];
    if (isnan(v)) {
        snprintf(buf, len, "NaN");
        return;
    }
    uint32_t pat = qs_numfmt_encode(f, v, QS_OVF_IEEE, NULL);
    int p0 = 1;     /* whole numbers up to a million keep their digits (448, not 4.5e+02) */
    for (double a = fabs(v); a >= 10 && a < 1e7 && p0 < 7; a /= 10) p0++;
    for (int p = p0; p <= 17; p++) {
        snprintf(buf, len, "%.*g", p, v);
        /* a format without ∞ saturates: 8 is not a name of FP6 E2M3's 7.5 */
        int st = 0;
        if (qs_numfmt_encode(f, strtod(buf, NULL), QS_OVF_IEEE, &st) != pat ||
            (isfinite(v) && (st & QS_NF_OVERFLOW)))
            continue;
        if (v != input && !isnan(input)) {
            snprintf(in, sizeof in, "%.*g", p, input);
            if (strcmp(in, buf) == 0) continue;
        }
        /* a value a few digits spell exactly is shown exactly, as `bits` prints it (FP6's
         * 0.125, not 0.12 beside an error of +0.025) */
        for (int q = p + 1; q <= 7 && isfinite(v); q++) {
            char ex[40];
            snprintf(ex, sizeof ex, "%.*g", q, v);
            if (strtod(ex, NULL) == v) {
                snprintf(buf, len, "%s", ex);
                break;
            }
        }
        return;
    }
}

/* The error column: always a number (0 when the value is stored exactly). */
static void error_str(char *buf, size_t len, double e, int room)
{
    if (isnan(e)) snprintf(buf, len, "nan");
    else if (e == 0) snprintf(buf, len, "0");
    else for (int pr = 3; pr >= 1; pr--)        /* fewer digits on a narrow terminal */
        if ((int)snprintf(buf, len, "%+.*g", pr, e) <= room) break;
}

/* The class column of a row: the float class, or what happened to an integer. */
static const char *class_str(const qs_numfields *f)
{
    if (!f->fmt->is_int) return qs_numclass_name(f->cls);
    if (f->status & QS_NF_NAN_INPUT) return "NaN→0";
    if (f->status & QS_NF_OVERFLOW) return "clamped";
    return "";
}

/* Columns of the Bits screen after the bit fields. Which appear depends on the width, in
 * this order of importance: the stored value, the error, the class, the hex pattern (from 60
 * to 71 columns only one of the first two fits: the stored value when it does, which is what
 * a row is about, else the error; the rows' details below still give the rest). */
typedef struct bits_cols {
    int hex, stored, error, cls;    /* column of each, -1 when left out */
    int sw;                         /* width of the stored column */
} bits_cols;

static bits_cols bits_layout(const qs_tui_model *m, int W, const qs_fmt_id *ids, int n)
{
    bits_cols c = {-1, -1, -1, -1, 0};
    char buf[40];
    for (int i = 0; i < n; i++) {
        const qs_numfields *f = &m->bits[ids[i]];
        if (f->fmt->is_int) snprintf(buf, sizeof buf, "%lld", (long long)f->code);
        else stored_str(buf, sizeof buf, f->fmt, f->value, m->bits_input);
        if ((int)strlen(buf) > c.sw) c.sw = (int)strlen(buf);
    }
    if (c.sw < 6) c.sw = 6;
    int x = 11 + 35, room = W - 1 - x;
    int ew = 10, cw = 9, hw = 11, sw = c.sw + 1;    /* the class ("subnormal") is last */
    int want_s = room >= sw, want_e = room >= ew + (want_s ? sw : 0);
    int want_c = want_s && want_e && room >= ew + sw + cw;
    int want_h = want_c && room >= ew + sw + cw + hw;
    if (want_h) { c.hex = x; x += hw; }
    if (want_s) { c.stored = x; x += sw; }
    if (want_e) { c.error = x; x += ew; }
    if (want_c) c.cls = x;
    return c;
}

void qs_tui_draw_bits(const qs_tui_model *m, WINDOW *w)
{
    int H, W;
    getmaxyx(w, H, W);
    char a[40], b[40];
    putf(w, 0, 1, W - 2, A(m, QR_TITLE), "x = %.15g", m->bits_input);
    if (isnan(m->bits_input)) putf(w, 0, 1, W - 2, A(m, QR_TITLE), "x = NaN");
    /* the row set: every row when the window holds them and the details below; else as
     * many as leave the details their rows (at least 8), scrolled to the cursor, and a line
     * saying what is hidden and that f chooses a smaller set */
    qs_fmt_id ids[QS_TUI_BITS_MAXROWS];
    int n = qs_tui_bits_rows(m->bits_view, ids);
    int legend = m->color ? 1 : 0, detail_rows = 8;
    int avail = H - 3 - legend - detail_rows;      /* x line, header, scheme row */
    int vis = n, first = 0, at = -1;
    if (avail < n) vis = avail - 1 > 8 ? avail - 1 : (n < 8 ? n : 8);
    if (vis > n) vis = n;
    for (int i = 0; i < n; i++) if ((int)ids[i] == m->bits_row) at = i;
    if (at >= vis) first = at - vis + 1;
    bits_cols bc = bits_layout(m, W, ids, n);
    /* the header in pieces: the field a lesson highlights is marked there too */
    put(w, 1, 1, W - 2, A(m, QR_DIM), "format    s exponent mantissa");
    if (bc.hex >= 0) put(w, 1, bc.hex, 11, A(m, QR_DIM), "hex");
    if (bc.stored >= 0) put(w, 1, bc.stored, bc.sw, A(m, QR_DIM), "stored");
    if (bc.error >= 0) put(w, 1, bc.error, 9, A(m, QR_DIM), "error");
    if (bc.cls >= 0) put(w, 1, bc.cls, 10, A(m, QR_DIM), "class");
    if (hl(m, QS_HL_SIGN)) put_hl(m, w, 1, 11, 1, 0, 1, "s");
    if (hl(m, QS_HL_EXPONENT)) put_hl(m, w, 1, 13, 8, 0, 1, "exponent");
    if (hl(m, QS_HL_MANTISSA)) put_hl(m, w, 1, 22, 8, 0, 1, "mantissa");
    int y = 2, bx = 11;
    for (int i = first; i < first + vis && y < H; i++, y++) {
        int r = (int)ids[i];
        const qs_numfields *f = &m->bits[r];
        int on = r == m->bits_row;
        put(w, y, 0, 1, A(m, QR_KEY), on ? (m->utf8 ? "▶" : ">") : " ");
        put(w, y, 1, 9, on ? A(m, QR_KEY) : A(m, QR_NORMAL), f->fmt->name);
        draw_bitrow(m, w, y, bx, f, on ? m->bits_cur : -1);
        if (bc.hex >= 0) put(w, y, bc.hex, 11, A(m, QR_DIM), f->hex);
        if (bc.stored >= 0) {
            if (f->fmt->is_int) snprintf(a, sizeof a, "%lld", (long long)f->code);
            else stored_str(a, sizeof a, f->fmt, f->value, m->bits_input);
            put(w, y, bc.stored, bc.sw, A(m, QR_NORMAL), a);
        }
        if (bc.error >= 0) {
            /* decoded from a pattern (an edited row): no input, its value is what x is */
            double e = f->error;
            if (isnan(e) && !isnan(f->value) && f->value == m->bits_input) e = 0;
            error_str(b, sizeof b, e, 9);
            put(w, y, bc.error, 9, e == 0 ? A(m, QR_GOOD) : A(m, QR_DIM), b);
        }
        if (bc.cls >= 0) put(w, y, bc.cls, W - 1 - bc.cls, A(m, QR_DIM), class_str(f));
    }
    /* what the set hides, and the key that chooses another set */
    if (vis < n && y < H) {
        char more[200] = "";
        size_t off = 0;
        if (first > 0) off += (size_t)snprintf(more, sizeof more, "%s %d above", m->utf8 ? "↑" : "^",
                                               first);
        if (first + vis < n) {
            off += (size_t)snprintf(more + off, sizeof more - off, "%s%s %d more:", off ? " · " : "",
                                    m->utf8 ? "↓" : "v", n - first - vis);
            for (int i = first + vis; i < n && off < sizeof more - 16; i++)
                off += (size_t)snprintf(more + off, sizeof more - off, " %s",
                                        qs_numfmt_get(ids[i])->name);
        }
        putf(w, y++, 1, W - 2, A(m, QR_DIM), "%s · f: %s rows", more,
             qs_tui_bits_set_name((m->bits_view + 1) % QS_BITS_SETS));
    } else if (y < H && H - y - 2 - legend > detail_rows) {
        putf(w, y++, 1, W - 2, A(m, QR_DIM), "rows: %s · f: %s rows", qs_tui_bits_set_name(m->bits_view),
             qs_tui_bits_set_name((m->bits_view + 1) % QS_BITS_SETS));
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
        double e = m->code_value - m->bits_input;
        snprintf(a, sizeof a, "code %d", m->code);
        if (bc.hex >= 0) put(w, y, bc.hex, 11, A(m, QR_GRID), a);
        else if (bx + m->code_bits + 2 + 9 < (bc.stored >= 0 ? bc.stored : bc.error))
            put(w, y, bx + m->code_bits + 2, 9, A(m, QR_GRID), a);
        if (bc.stored >= 0) {
            stored_str(a, sizeof a, qs_numfmt_get(QS_FMT_FP32), m->code_value, m->bits_input);
            put(w, y, bc.stored, bc.sw, A(m, QR_NORMAL), a);
        }
        if (bc.error >= 0) {
            error_str(b, sizeof b, e, 9);
            put(w, y, bc.error, 9, e == 0 ? A(m, QR_GOOD) : A(m, QR_DIM), b);
        }
        y++;
    } else if (y < H && m->code_err[0]) {  /* an integer scheme without a code: why */
        putf(w, y++, 1, W - 2, A(m, QR_DIM), "scheme: no code row: %s", m->code_err);
    } else if (y < H) {
        put(w, y++, 1, W - 2, A(m, QR_DIM), "scheme: not an integer grid, so no code row "
            "(+/- or :scheme int8 brings it back)");
    }
    /* details of the row under the cursor: what its fields mean (numbers from numfmt) */
    y++;
    int ylast = H - (m->color ? 1 : 0);     /* the colour legend's row */
    if (m->bits_row >= 0 && m->bits_row < QS_FMT_COUNT && y + 2 < ylast) {
        const qs_numfields *f = &m->bits[m->bits_row];
        const qs_numfmt *fm = f->fmt;
        char v[40], line[600];
        if (f->fmt->is_int) snprintf(v, sizeof v, "%lld", (long long)f->code);
        else stored_str(v, sizeof v, f->fmt, f->value, m->bits_input);
        putf(w, y++, 1, W - 2, A(m, QR_TITLE), "%s — %s · %s · stored %s", fm->name, fm->title,
             f->hex, v);
        const char *mi = m->utf8 ? "−" : "-";
        if (!fm->is_int && !fm->is_signed) {
            /* E8M0, the MX block scale: no sign, no mantissa, no zero — 2^(field - bias) */
            if (f->cls == QS_NC_NAN && !isnan(f->input) && !(f->status & QS_NF_NAN_INPUT)) {
                if (isinf(f->input) && f->input > 0)
                    snprintf(line, sizeof line, "%s has no ∞: its one special code is NaN, "
                             "exponent %s", fm->name, f->exp_bits);
                else if (f->input > 0)
                    snprintf(line, sizeof line, "%.9g is past 2^127, %s's largest scale: with "
                             "overflow=ieee it is stored as NaN (no ∞), exponent %s",
                             f->input, fm->name, f->exp_bits);
                else
                    snprintf(line, sizeof line, "%s has no sign (a scale is a positive power "
                             "of two): %.9g has no code and is stored as its NaN, exponent %s",
                             fm->name, f->input, f->exp_bits);
            } else if (f->cls != QS_NC_NAN && (f->status & QS_NF_UNDERFLOW))
                snprintf(line, sizeof line, "%s has no zero and no subnormals: %.9g is stored "
                         "as its smallest scale, 2^%s127 (exponent %s), as a block of zeros "
                         "gets", fm->name, f->input, mi, f->exp_bits);
            else if (f->cls == QS_NC_NAN)
                snprintf(line, sizeof line, "exponent %s, all ones, is %s's only NaN; it has no "
                         "sign, no mantissa, no zero and no ∞", f->exp_bits, fm->name);
            else {
                num(a, sizeof a, f->value);
                snprintf(line, sizeof line, "exponent %s = %d %s %d = %d · no sign and no "
                         "mantissa: the value is 2^%d = %s (only powers of two, 2^%s127 … "
                         "2^127: the MX block scale)", f->exp_bits, f->exponent, mi, fm->bias,
                         f->exponent_unbiased, f->exponent_unbiased, a, mi);
            }
            y = wrap(w, y, 1, W - 2, y + 3 < ylast - 2 ? y + 3 : y + 1, A(m, QR_NORMAL), line);
        } else if (!fm->is_int) {
            snprintf(a, sizeof a, "%.9g", f->significand);
            int allzero = f->exponent == 0, allones = f->exponent == (1 << fm->exp_bits) - 1;
            if (f->cls == QS_NC_INF) {
                snprintf(line, sizeof line, "sign %d · exponent %s is all ones and the mantissa "
                         "is 0 → %s∞ (infinity)", f->sign, f->exp_bits, f->sign ? "−" : "+");
            } else if (f->cls == QS_NC_NAN && fm->nan == QS_NAN_IEEE) {
                snprintf(line, sizeof line, "exponent %s is all ones and the mantissa %s is not "
                         "0 → NaN; its first mantissa bit is the quiet bit: %d, a %s NaN",
                         f->exp_bits, f->man_bits, f->man_bits[0] == '1',
                         f->man_bits[0] == '1' ? "quiet" : "signalling");
            } else if (f->cls == QS_NC_NAN) {
                snprintf(line, sizeof line, "%s has no ∞: exponent %s and mantissa %s, all ones, "
                         "is its only NaN pattern (one per sign); every other pattern is a "
                         "number", fm->name, f->exp_bits, f->man_bits);
            } else if (allzero) {
                /* zero and the subnormals: no implicit 1, the smallest exponent */
                snprintf(line, sizeof line, "sign %d · exponent %s is all zeros → %s: the "
                         "exponent is 1 %s bias = 1 %s %d = %d, with no implicit 1 · "
                         "significand 0.%s = %s · value %s%s × 2^%d", f->sign, f->exp_bits,
                         f->cls == QS_NC_ZERO ? "zero (a subnormal with mantissa 0)"
                                              : "subnormal",
                         mi, mi, fm->bias, fm->emin, f->man_bits, a, f->sign ? "−" : "", a,
                         f->exponent_unbiased);
            } else {
                snprintf(line, sizeof line, "sign %d · exponent %s = %d %s %d = %d · "
                         "significand 1.%s (implicit 1) = %s · value %s%s × 2^%d", f->sign,
                         f->exp_bits, f->exponent, mi, fm->bias, f->exponent_unbiased,
                         f->man_bits, a, f->sign ? "−" : "", a, f->exponent_unbiased);
            }
            y = wrap(w, y, 1, W - 2, y + 3 < ylast - 2 ? y + 3 : y + 1, A(m, QR_NORMAL), line);
            if (fm->nan == QS_NAN_NONE && (allones || (f->status & QS_NF_OVERFLOW)) &&
                y < ylast - 2) {
                num(a, sizeof a, fm->max);
                if (fm->ovf_default == QS_OVF_SATURATE)
                    putf(w, y++, 1, W - 2, A(m, QR_DIM), "no ∞, no NaN: every code is a number; "
                         "beyond ±%s values saturate to ±%s", a, a);
                else
                    putf(w, y++, 1, W - 2, A(m, QR_DIM), "no ∞, no NaN: every code is a number");
            } else if (allones && !fm->has_inf && f->cls != QS_NC_NAN && y < ylast - 2)
                putf(w, y++, 1, W - 2, A(m, QR_DIM), "%s has no ∞: an all-ones exponent still "
                     "holds numbers; only mantissa %s is NaN", fm->name, f->man_bits[0] ? "all ones"
                     : "");
        } else {
            putf(w, y++, 1, W - 2, A(m, QR_NORMAL), "code %lld · range %lld..%lld",
                 (long long)f->code, (long long)fm->int_min, (long long)fm->int_max);
        }
        if (y < ylast - 1) {
            /* a format without ∞ has nothing past its largest value (numfmt gives NaN) */
            int fin = f->cls != QS_NC_NAN && f->cls != QS_NC_INF;
            if (isnan(f->next_down) && fin) snprintf(a, sizeof a, "none");
            else snprintf(a, sizeof a, "%.9g", f->next_down);
            if (isnan(f->next_up) && fin) snprintf(b, sizeof b, "none");
            else snprintf(b, sizeof b, "%.9g", f->next_up);
            char u[40], e[40];
            snprintf(u, sizeof u, "%.6g", f->ulp);
            error_str(e, sizeof e, f->error, 12);
            char ulp[300];
            snprintf(ulp, sizeof ulp, "ULP %s · neighbours %s and %s · error %s · %s", u, a, b,
                     e, qs_numclass_name(f->cls));
            /* a second row for it when the max line below still fits */
            y = wrap(w, y, 1, W - 2, y + 2 < ylast ? y + 2 : y + 1, A(m, QR_NORMAL), ulp);
        }
        char flags[128] = "";
        if (f->status & QS_NF_INEXACT) strcat(flags, "rounded ");
        if (f->status & QS_NF_OVERFLOW) strcat(flags, "overflow ");
        if (f->status & QS_NF_UNDERFLOW) strcat(flags, "underflow ");
        if (f->status & QS_NF_NAN_INPUT) strcat(flags, "NaN-input ");
        num(a, sizeof a, fm->max);
        if (y < ylast) putf(w, y++, 1, W - 2, A(m, QR_DIM), "max %s%s%s", a, flags[0] ? " · " : "", flags);
        /* a 4- or 6-bit float's whole grid (decoded by numfmt), when the rows are there: the
         * codes with sign 0, the stored one in brackets */
        if (!fm->is_int && fm->is_signed && fm->storage_bits <= 6 && y < ylast) {
            char grid[700];
            uint32_t half = 1u << (fm->width - 1);
            size_t off = (size_t)snprintf(grid, sizeof grid, "the %u codes with sign 0 (bits all "
                                          "%s lists all %u):", half, fm->name, 2 * half);
            for (uint32_t p = 0; p < half && off < sizeof grid - 24; p++) {
                double cv = qs_numfmt_decode(fm, p);
                int cur = cv == fabs(f->value);
                off += (size_t)snprintf(grid + off, sizeof grid - off, cur ? " [%.9g]" : " %.9g", cv);
            }
            if (wrap_count(W - 2, grid) <= ylast - y)
                y = wrap(w, y, 1, W - 2, ylast, A(m, QR_GRID), grid);
        }
    }
    /* the colour legend only where there are colours */
    if (H > 0 && m->color)
        put(w, H - 1, 1, W - 2, A(m, QR_DIM), "sign / exponent / mantissa are coloured; space "
            "flips the bit under the cursor");
}

/* ==== 4 Error =============================================================================== */

/* One channel's SQNR for sorting (lowest first). */
typedef struct chan_sq {
    int ch;             /* channel */
    double sq;          /* its SQNR in dB */
} chan_sq;

static int chan_sq_cmp(const void *a, const void *b)
{
    double x = ((const chan_sq *)a)->sq, y = ((const chan_sq *)b)->sq;
    return x < y ? -1 : x > y ? 1 : ((const chan_sq *)a)->ch - ((const chan_sq *)b)->ch;
}

/* The per-channel SQNR of a per-channel `quant` in rows y .. y+h-1: a bar per channel, in
 * columns; when they do not all fit, the lowest ones (the channels the scheme serves worst).
 * Returns the row after it. */
static int draw_channel_sqnr(const qs_tui_model *m, WINDOW *w, int y, int h, int W, json_t *pcs)
{
    int n = (int)json_array_size(pcs);
    if (h < 3 || n < 2) return y;
    chan_sq *v = malloc((size_t)n * sizeof *v);
    if (!v) return y;
    double top = 0;
    for (int i = 0; i < n; i++) {
        json_t *r = json_array_get(pcs, (size_t)i);
        v[i].ch = (int)jd(r, "channel", i);
        v[i].sq = jd(r, "sqnr_db", NAN);
        if (isfinite(v[i].sq) && v[i].sq > top) top = v[i].sq;
    }
    int ew = 24, ncol = (W - 2) / ew, nrow = h - 1;
    if (ncol < 1) ncol = 1;
    int cap = ncol * nrow, shown = n < cap ? n : cap;
    qsort(v, (size_t)n, sizeof *v, chan_sq_cmp);
    double lo = INFINITY, hi = -INFINITY;   /* the finite SQNRs (an exact channel's is inf) */
    for (int i = 0; i < n; i++)
        if (isfinite(v[i].sq)) {
            lo = fmin(lo, v[i].sq);
            hi = fmax(hi, v[i].sq);
        }
    if (lo > hi) lo = hi = 0;
    if (shown < n) {
        /* the lowest, shown in channel order */
        chan_sq *low = v;
        int k = shown;
        for (int i = 1; i < k; i++)
            for (int j = i; j > 0 && low[j - 1].ch > low[j].ch; j--) {
                chan_sq t = low[j];
                low[j] = low[j - 1];
                low[j - 1] = t;
            }
        putf(w, y++, 1, W - 2, A(m, QR_TITLE), "SQNR per channel: lowest %d of %d · %.1f to "
             "%.1f dB (bars from %.1f)", shown, n, lo, hi, hi > lo ? lo - (hi - lo) * 0.25 : 0);
    } else {
        for (int i = 1; i < n; i++)     /* channel order */
            for (int j = i; j > 0 && v[j - 1].ch > v[j].ch; j--) {
                chan_sq t = v[j];
                v[j] = v[j - 1];
                v[j - 1] = t;
            }
        putf(w, y++, 1, W - 2, A(m, QR_TITLE), "SQNR per channel: %d channels · %.1f to %.1f dB "
             "(bars from %.1f)", n, lo, hi, hi > lo ? lo - (hi - lo) * 0.25 : 0);
    }
    /* bars from a little below the lowest channel, so the spread shows */
    double base = hi > lo ? lo - (hi - lo) * 0.25 : 0;
    (void)top;
    int rows = (shown + ncol - 1) / ncol;
    for (int i = 0; i < shown; i++) {
        int r = i % rows, c = i / rows, x = 1 + c * ew;
        putf(w, y + r, x, 12, A(m, QR_NORMAL), "%4d %6.1f", v[i].ch, v[i].sq);
        int bl = hi > base && isfinite(v[i].sq)
                 ? (int)((v[i].sq - base) / (hi - base) * (ew - 14) + 0.5)
                 : v[i].sq == INFINITY ? ew - 14 : 0;
        for (int b = 0; b < bl; b++) put(w, y + r, x + 12 + b, 1, A(m, QR_BAR), m->utf8 ? "█" : "#");
    }
    free(v);
    return y + rows + 1;
}

/* The `methods` table in rows y .. H-1: one row per method with its output SQNR, the gain
 * over its baseline and the weight SQNR, as the library computed them; the activations'
 * label last. */
static void draw_methods(const qs_tui_model *m, WINDOW *w, int y, int H, int W)
{
    json_t *mt = m->methods, *rows = json_object_get(mt, "rows");
    if (strcmp(m->methods_key, m->methods_want) && y < H) {
        char sb[600];
        snprintf(sb, sizeof sb, "STALE: computed for %s — m recomputes", m->methods_for);
        put(w, y++, 1, W - 2, A(m, QR_ERROR), sb);
    }
    if (y < H)
        putf(w, y++, 1, W - 2, A(m, QR_TITLE), "methods · weights %s · output SQNR dB on "
             "synthetic activations", js(mt, "grid") ? js(mt, "grid") : "?");
    /* columns: method, what is quantized, SQNR, gain over the baseline, the gain on held-out
     * activations, weight SQNR, then a bar of the SQNR and the note where the width allows */
    int xq = 14, xs = 24, xg = 33, xh = 57, xw = 66, xb = 78, top = 0;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) {
        double sq = jd(r, "out_sqnr_db", 0);     /* an exact method's is inf */
        if (isfinite(sq) && sq > top) top = (int)sq;
    }
    int bw = W - 2 - xb - 1;
    int notes = bw >= 38;                   /* a wide terminal: the notes instead of bars */
    if (notes) bw = 0;
    if (y < H) {
        put(w, y, 1, 12, A(m, QR_DIM), "method");
        put(w, y, xq, 9, A(m, QR_DIM), "quantizes");
        put(w, y, xs, 8, A(m, QR_DIM), "out SQNR");
        put(w, y, xg, 17, A(m, QR_DIM), "gain over");
        put(w, y, xh, 8, A(m, QR_DIM), "held-out");
        if (xw + 11 < W) put(w, y, xw, 11, A(m, QR_DIM), "weight SQNR");
        if (notes) put(w, y, xb, W - xb - 1, A(m, QR_DIM), "note");
        y++;
    }
    json_array_foreach(rows, i, r) {
        if (y >= H - 1) break;
        const char *name = js(r, "method"), *qz = js(r, "quantizes"), *base = js(r, "baseline");
        char c[64];
        put(w, y, 1, 12, A(m, QR_NORMAL), name ? name : "?");
        if (qz && !strcmp(qz, "weights")) snprintf(c, sizeof c, "W%d", (int)jd(r, "bits", 0));
        else snprintf(c, sizeof c, "W%dA%d", (int)jd(r, "bits", 0), (int)jd(r, "bits", 0));
        put(w, y, xq, 9, A(m, QR_DIM), c);
        json_t *sq = json_object_get(r, "out_sqnr_db");
        /* no error at all: the library writes an infinite SQNR as "inf" */
        int exact = json_is_string(sq) && !strcmp(json_string_value(sq), "inf");
        if (exact) {
            put(w, y, xs, 8, A(m, QR_GOOD), "   exact");
            y++;
            continue;
        }
        if (!json_is_number(sq)) {          /* not run: the note says why */
            put(w, y, xs, W - xs - 1, A(m, QR_DIM), js(r, "note") ? js(r, "note") : "not run");
            y++;
            continue;
        }
        double v = json_number_value(sq), g = jd(r, "gain_db", NAN), ws = jd(r, "weight_sqnr_db", NAN);
        putf(w, y, xs, 8, A(m, QR_NORMAL), "%8.2f", v);
        if (base && isfinite(g)) {
            snprintf(c, sizeof c, "%+6.2f %s", g, base);
            put(w, y, xg, xh - xg - 1, g >= 0.005 ? A(m, QR_GOOD) : g <= -0.005 ? A(m, QR_ERROR)
                                                                    : A(m, QR_NORMAL), c);
            /* the same gain on rows no method saw: a calibration-only gain is fitted noise */
            double hg = jd(r, "heldout_gain_db", NAN);
            if (isfinite(hg))
                putf(w, y, xh, 8, hg >= 0.005 ? A(m, QR_GOOD) : hg <= -0.005 ? A(m, QR_ERROR)
                                                                : A(m, QR_NORMAL), "%+7.2f", hg);
        }
        if (isfinite(ws) && xw + 11 < W) putf(w, y, xw, 11, A(m, QR_DIM), "%8.2f", ws);
        if (bw >= 4 && top > 0 && isfinite(v)) {
            int bl = (int)(v / top * bw + 0.5);
            for (int b = 0; b < bl && b < bw; b++)
                put(w, y, xb + b, 1, A(m, QR_BAR), m->utf8 ? "█" : "#");
        }
        if (notes) put(w, y, xb, W - xb - 1, A(m, QR_DIM), js(r, "note") ? js(r, "note") : "");
        y++;
    }
    if (y < H) wrap(w, y, 1, W - 2, H, A(m, QR_DIM), js(mt, "activations") ? js(mt, "activations") : "");
}

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
        if (m->scheme_err[0]) {
            char e[300];
            snprintf(e, sizeof e, "No error metrics for this scheme: %s", m->scheme_err);
            wrap(w, 1, 2, W - 4, H, A(m, QR_ERROR), e);
        } else {
            wrap(w, 1, 2, W - 4, H, A(m, QR_DIM), "No error metrics for this scheme (see the "
                 "status line).");
        }
        return;
    }
    char a[32], b[32], c[32];
    int y = 0;
    num(a, sizeof a, m->clip_lo);
    num(b, sizeof b, m->clip_hi);
    putf(w, y++, 1, W - 2, A(m, QR_TITLE), "clip range [%s, %s]%s", a, b,
         m->clip_manual ? "  (manual — r resets)" : "  (from the calibrator; ←/→ drag)");
    y = draw_axis_lines(m, w, y, W);
    static const struct { const char *key, *label; int pct; } mets[] = {
        {"mse", "MSE", 0}, {"sqnr_db", "SQNR dB", 0}, {"max_abs_err", "max |error|", 0},
        {"mean_err", "mean error", 0}, {"cosine", "cosine", 0}, {"clip_frac", "clipped", 1},
    };
    int mw = 26;
    /* the values measured: 0 when every one was NaN (skipped), and then an MSE of 0 is no
     * exact reconstruction */
    double nq = jd(q, "n", NAN);
    for (size_t i = 0; i < sizeof mets / sizeof mets[0]; i++) {
        double v = jd(q, mets[i].key, NAN);
        int sq = !strcmp(mets[i].key, "sqnr_db");
        if (mets[i].pct) snprintf(c, sizeof c, "%.4g %%", v * 100);
        else if (sq && v == INFINITY && nq != 0)     /* the library's "inf": no error at all */
            snprintf(c, sizeof c, "%s (exact)", m->utf8 ? "∞" : "inf");
        else if (sq && nq == 0) snprintf(c, sizeof c, "nan (n = 0)");
        else num(c, sizeof c, v);
        putf(w, y + (int)i, 1, mw, A(m, QR_NORMAL), "%-12s %s", mets[i].label, c);
    }
    /* what the scheme costs and how finely it is cut (below the metrics, beside the error
     * histogram's last rows) */
    char t[64];
    int my = y + (int)(sizeof mets / sizeof mets[0]);
    if (json_is_number(json_object_get(q, "bits_per_param"))) {
        snprintf(t, sizeof t, "%-12s %.4g", "bits/param", jd(q, "bits_per_param", NAN));
        put_hl(m, w, my++, 1, mw, A(m, QR_NORMAL), hl(m, QS_HL_BITS_PER_PARAM), t);
    }
    qs_qparams_view qv;
    qp_view(m->qparams, &qv);
    const char *gran = qv.granularity;
    if (gran || qv.has_block) {
        if (gran) snprintf(t, sizeof t, "%-12s %s", "granularity", gran);
        else snprintf(t, sizeof t, "%-12s block %lld", "granularity", qv.block);
        put_hl(m, w, my, 1, mw, A(m, QR_NORMAL), hl(m, QS_HL_PER_CHANNEL), t);
    }
    qs_qparams_view_free(&qv);
    /* an error histogram, when the result has one ({counts, edges}) */
    const char *k;
    json_t *v, *eh = NULL;
    json_object_foreach(q, k, v) if (json_is_object(v) && json_object_get(v, "counts")) eh = v;
    /* the height: the error histogram and the per-channel SQNR share what the metrics and
     * the comparison table leave */
    json_t *cmp = m->compare, *rows = json_object_get(cmp, "rows");
    json_t *pcs = json_object_get(q, "per_channel");
    int npc = (int)json_array_size(pcs);
    int has_cmp = (json_is_array(rows) && json_array_size(rows) > 0) ||
                  (m->err_methods && m->methods);
    int extra = H - 9 - (has_cmp ? 11 : 1) - (npc > 1 ? 4 : 0);
    int eh_h = 7 + (extra > 0 ? (npc > 1 ? extra / 3 : extra / 2) : 0);
    if (eh_h > 20) eh_h = 20;
    int hx = mw + 3, hw = W - hx - 2;
    if (nq == 0 && hw > 16) {
        char nv[160] = "no values to measure";
        double sk = jd(q, "nan_skipped", 0);
        if (sk > 0)
            snprintf(nv, sizeof nv, "no finite values to measure: the %.0f NaN value%s skipped",
                     sk, sk == 1 ? " is" : "s are");
        wrap(w, y, hx, hw, y + eh_h, A(m, QR_ERROR), nv);
    } else if (eh && hw > 16) {
        put(w, y, hx, hw, A(m, QR_DIM), "error histogram (ŷ − x)");
        plot_hist(m, w, y + 1, hx, eh_h, hw, eh, 0, NAN, NAN, NULL);
    }
    y += eh_h + 1 > 8 ? eh_h + 1 : 8;
    if (npc > 1) y = draw_channel_sqnr(m, w, y, H - y - (has_cmp ? 11 : 1), W, pcs);
    /* the methods side by side (m), when they were asked for last */
    if (m->err_methods && m->methods) {
        draw_methods(m, w, y, H, W);
        return;
    }
    /* compare: SQNR by calibrator × bits (with the 6.02 dB/bit rule), else the raw table */
    if (!json_is_array(rows) || json_array_size(rows) == 0) {
        put(w, y, 1, W - 2, A(m, QR_DIM),
            "x: calibrators × bits 2..8 (about 6.02 dB per bit) · m: methods (GPTQ, AWQ…)");
        return;
    }
    json_t *r0 = json_array_get(rows, 0);
    int stale = strcmp(m->compare_key, m->state_key) != 0;
    /* the calibrator x bits grid only when every row is a calibrator's (format rows, with
     * no calibrator, and several granularities or conventions read as a table) */
    int grid = json_object_get(r0, "calib") && json_object_get(r0, "bits") &&
               json_object_get(r0, "sqnr_db");
    {
        size_t ri;
        json_t *rr;
        const char *g0 = js(r0, "gran"), *c0 = js(r0, "convention");
        json_array_foreach(rows, ri, rr) {
            const char *cal = js(rr, "calib"), *g = js(rr, "gran"), *cv = js(rr, "convention");
            if (!cal || !strcmp(cal, "-")) grid = 0;
            if ((g0 && g && strcmp(g0, g)) || (c0 && cv && strcmp(c0, cv))) grid = 0;
        }
    }
    if (!grid) {
        if (stale && y < H) {
            char sb[600];
            snprintf(sb, sizeof sb, "STALE: computed for %s — x recomputes", m->compare_for);
            put(w, y++, 1, W - 2, A(m, QR_ERROR), sb);
        }
        draw_table(m, w, y, 1, H - y, W - 2, rows, 0, 0, -1);
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
    /* computed for another tensor or scheme: the numbers stay, marked, until x recomputes */
    if (stale && y < H) {
        char sb[600];
        snprintf(sb, sizeof sb, "STALE: computed for %s — x recomputes", m->compare_for);
        put(w, y++, 1, W - 2, A(m, QR_ERROR), sb);
    }
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
            if (x0 + (nb - bmin + 1) * cw <= W) {
                if (sq == INFINITY)     /* every value reproduced (the library's "inf") */
                    putf(w, y, x0 + (nb - bmin) * cw, cw, stale ? A(m, QR_DIM) : A(m, QR_GOOD),
                         "%8s", "exact");
                else
                    putf(w, y, x0 + (nb - bmin) * cw, cw, stale ? A(m, QR_DIM) : A(m, QR_NORMAL),
                         "%8.2f", sq);
            }
        }
    }
    if (isfinite(top8) && y < H) {
        put(w, y, 1, 12, A(m, QR_DIM), "6.02 dB/bit");
        for (int nb = bmin; nb <= bmax && x0 + (nb - bmin + 1) * cw <= W; nb++)
            putf(w, y, x0 + (nb - bmin) * cw, cw, A(m, QR_DIM), "%8.2f",
                 top8 - 6.02 * (bmax - nb));
        y++;
    }
    if (y < H && isfinite(top8))
        putf(w, y++, 1, W - 2, A(m, QR_DIM), "last row: %s at %d bits, minus 6.02 dB per bit "
             "removed", cals[0], bmax);
    if (js(m->stats, "quantized") && y < H) {   /* why the rule breaks on this tensor */
        double lv = jd(m->stats, "grid_levels", 0);
        int gb = lv > 1 ? (int)ceil(log2(lv)) : 1;
        char note[256];
        snprintf(note, sizeof note, "already quantized (see Data): its values sit on a grid "
                 "of %.0f levels (%d-bit codes), so from %d bits the scheme reproduces them and "
                 "SQNR measures float rounding, not 6.02 dB per bit", lv, gb, gb);
        y = wrap(w, y, 1, W - 2, H, A(m, QR_ERROR), note);
    }
    /* a taller terminal: SQNR against bits as curves, one per calibrator, and the rule */
    int ch = H - y - 3;
    if (ch >= 5 && bmax > bmin && W >= 60) {
        static const qs_tui_role col[] = {QR_BAR, QR_GOOD, QR_KEY, QR_CLIP, QR_ZERO, QR_SIGN,
                                          QR_EXP, QR_MANT};
        double top = 0;
        json_array_foreach(rows, i, r) {
            double sq = jd(r, "sqnr_db", 0);     /* an exact one's is inf */
            if (isfinite(sq) && sq > top) top = sq;
        }
        top = ceil(top / 10) * 10;
        if (ch > QS_CURVE_MAXH) ch = QS_CURVE_MAXH;
        int cx = 9, cwd = W - cx - 2;
        y++;
        putf(w, y, 1, 7, A(m, QR_DIM), "%4.0f dB", top);
        putf(w, y + ch - 1, 1, 7, A(m, QR_DIM), "%4d dB", 0);
        json_t *ref = json_array();
        for (int nb = bmin; nb <= bmax; nb++)
            json_array_append_new(ref, isfinite(top8) ? json_real(top8 - 6.02 * (bmax - nb))
                                                       : json_null());
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
                /* a gap for a nonfinite one (json_real refuses it) */
                json_array_append_new(ser, isfinite(sq) ? json_real(sq) : json_null());
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

/* An accuracy as a percentage with its 95% interval from the result ("97.2% (94.9–98.5)"),
 * or without one when the result has none. */
static void acc_str(char *buf, size_t len, json_t *o, const char *key, int with_ci)
{
    double v = jd(o, key, NAN);
    char ck[96];
    snprintf(ck, sizeof ck, "%s_ci95", key);
    json_t *ci = json_object_get(o, ck);
    if (with_ci && json_array_size(ci) == 2)
        snprintf(buf, len, "%.1f%% (%.1f–%.1f)", v * 100,
                 qs_tui_num(json_array_get(ci, 0), NAN) * 100,
                 qs_tui_num(json_array_get(ci, 1), NAN) * 100);
    else
        snprintf(buf, len, "%.1f%%", v * 100);
}

/* 1 when key names a fraction the Lab shows in % (accuracies, agreement, a fraction). */
static int pct_key(const char *k)
{
    size_t n = strlen(k);
    return !strcmp(k, "acc") || !strcmp(k, "fraction") || (n > 4 && !strcmp(k + n - 4, "_acc")) ||
           (n > 6 && !strcmp(k + n - 6, "_agree"));
}

/* 1 when a is inside b's 95% interval (the difference is within the test set's noise). */
static int in_ci(json_t *o, const char *a, const char *b)
{
    char ck[96];
    snprintf(ck, sizeof ck, "%s_ci95", b);
    json_t *ci = json_object_get(o, ck);
    double v = jd(o, a, NAN);
    return json_array_size(ci) == 2 && v >= qs_tui_num(json_array_get(ci, 0), NAN) &&
           v <= qs_tui_num(json_array_get(ci, 1), NAN);
}

/* Accuracy bars of a sweep: one row per bit width, PTQ against QAT, on an axis from just
 * below the worst accuracy to 100 % (so a one-point difference is visible); "≈" marks an
 * accuracy inside the fp32 model's 95% interval: not different from fp32 on this test set. */
static int lab_sweep(const qs_tui_model *m, WINDOW *w, int y, int H, int W, json_t *rows)
{
    int bw = (W - 44) / 2;
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
    const char *ap = m->utf8 ? "≈" : "~";
    putf(w, y++, 2, W - 4, A(m, QR_TITLE), "bits   fp32     PTQ  %-*s  QAT   (bars: %.0f%%..100%%)",
         bw + 1, "", lo * 100);
    json_array_foreach(rows, i, r) {
        if (y >= H) break;
        double fp = jd(r, "fp32_acc", NAN), ptq = jd(r, "ptq_acc", NAN), qat = jd(r, "qat_acc", NAN);
        putf(w, y, 2, 22, A(m, QR_NORMAL), "%4d  %5.1f%%  %5.1f%%%s", (int)jd(r, "bits", 0),
             fp * 100, ptq * 100, in_ci(r, "ptq_acc", "fp32_acc") ? ap : " ");
        int x = 26;
        int pl = isfinite(ptq) ? (int)((ptq - lo) / (1 - lo) * bw + 0.5) : 0;
        int ql = isfinite(qat) ? (int)((qat - lo) / (1 - lo) * bw + 0.5) : 0;
        for (int c = 0; c < bw; c++)
            put(w, y, x + c, 1, c < pl ? A(m, QR_CLIP) : A(m, QR_DIM), c < pl ? (m->utf8 ? "█" : "#")
                                                                        : (m->utf8 ? "·" : "."));
        x += bw + 1;
        putf(w, y, x, 8, A(m, QR_NORMAL), "%5.1f%%%s", qat * 100,
             in_ci(r, "qat_acc", "fp32_acc") ? ap : " ");
        x += 8;
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
    /* the settings form, three per row, or two when three do not fit (60 columns); the
     * settings the action does not use are dimmed (the cursor skips them) */
    int colw = W >= 100 ? 30 : 25, per = 2 + 3 * colw <= W ? 3 : 2;
    for (int f = 0; f < QS_TUI_LAB_FIELDS; f++) {
        const char *v;
        int used;
        const char *name = qs_tui_lab_field(m, f, &v, &used);
        int row = y + f / per, x = 2 + (f % per) * colw;
        attr_t a = f == m->lab_field ? A(m, QR_CURSOR) : used ? A(m, QR_NORMAL) : A(m, QR_DIM);
        putf(w, row, x, colw - 1, A(m, QR_DIM), "%-7s", name);
        if (used || f == m->lab_field)
            putf(w, row, x + 8, colw - 9, a, "%s %s %s", m->utf8 ? "◀" : "<", v,
                 m->utf8 ? "▶" : ">");
        else
            putf(w, row, x + 8, colw - 9, a, "  %s", v);
    }
    y += (QS_TUI_LAB_FIELDS + per - 1) / per;
    char runs[600];
    snprintf(runs, sizeof runs, "r runs: %s", m->lab_line);
    y = wrap(w, y, 2, W - 4, y + 2, A(m, QR_KEY), runs);  /* the whole command, on 2 rows */
    if (m->job.running) {
        pthread_mutex_t *mu = (pthread_mutex_t *)&m->job.mu;  /* read-only use of the lock */
        pthread_mutex_lock(mu);
        double f = m->job.total > 0 ? m->job.done_units / m->job.total : 0;
        char label[64];
        snprintf(label, sizeof label, "%s", m->job.label);
        pthread_mutex_unlock(mu);
        if (f > 1) f = 1;
        int gw = W - 12;
        y++;
        putf(w, y++, 2, W - 4, A(m, QR_NORMAL), "%s: %.0f%%", label, f * 100);
        for (int i = 0; i < gw; i++)
            put(w, y, 2 + i, 1, A(m, QR_BAR), i < (int)(f * gw) ? (m->utf8 ? "█" : "#")
                                                              : (m->utf8 ? "░" : "-"));
        y += 2;
        put(w, y, 2, W - 4, A(m, QR_DIM), "Esc cancels; the other screens stay usable.");
        return;
    }
    if (!m->lab) {
        wrap(w, y + 1, 2, W - 4, H, A(m, QR_DIM), "↑/↓ choose a setting, ←/→ change it, r runs. "
             "A sweep trains once, then quantizes after training (PTQ) and while training (QAT) "
             "at every bit width: watch PTQ fall apart at 2-3 bits while QAT holds. int runs "
             "the quantized model in integers only; lora and qlora fine-tune it on a shifted "
             "task.");
        return;
    }
    if (qs_tui_draw_gpt(m, w, y)) return;
    /* the test set: how many examples every accuracy is measured on, and what that means */
    long long tn = (long long)jd(m->lab, "test_n", 0);
    json_t *rows = json_object_get(m->lab, "rows");
    int sweep = json_is_array(rows) && json_object_get(json_array_get(rows, 0), "qat_acc");
    if (tn > 0 && y < H) {
        json_t *ci = json_object_get(m->lab, "fp32_acc_ci95");
        if (!ci) ci = json_object_get(json_array_get(rows, 0), "fp32_acc_ci95");
        if (json_array_size(ci) == 2 && sweep)     /* the sweep's rows show no intervals */
            putf(w, y++, 2, W - 4, A(m, QR_DIM), "test set %lld examples, one is %.2f points · "
                 "%s noise (in fp32's 95%% interval)", tn, 100.0 / (double)tn,
                 m->utf8 ? "≈" : "~");
        else if (json_array_size(ci) == 2)
            putf(w, y++, 2, W - 4, A(m, QR_DIM), "test set %lld examples, one is %.2f points · "
                 "(…) 95%% interval · %s noise", tn, 100.0 / (double)tn, m->utf8 ? "≈" : "~");
        else
            putf(w, y++, 2, W - 4, A(m, QR_DIM), "test set %lld examples (one is %.2f points)",
                 tn, 100.0 / (double)tn);
    }
    if (sweep) {
        lab_sweep(m, w, y, H, W, rows);
        return;
    }
    /* scalars (accuracies in % with their intervals), then tables, then curves */
    const char *k;
    json_t *v;
    char buf[160];
    int lw = 0;
    json_object_foreach(m->lab, k, v) {
        if (!json_is_number(v) && !json_is_string(v) && !json_is_boolean(v)) continue;
        if (!strcmp(k, "test_n") || strstr(k, "sparkline")) continue;
        if ((int)strlen(k) > lw) lw = (int)strlen(k);
    }
    int x = 2, cw = lw + 2 + 20;
    json_object_foreach(m->lab, k, v) {
        if (y >= H) break;
        if (!json_is_number(v) && !json_is_string(v) && !json_is_boolean(v)) continue;
        if (!strcmp(k, "test_n") || strstr(k, "sparkline")) continue;
        if (json_is_real(v) && pct_key(k)) {
            acc_str(buf, sizeof buf, m->lab, k, 1);
            if (strcmp(k, "fp32_acc") && in_ci(m->lab, k, "fp32_acc"))
                strcat(buf, m->utf8 ? " ≈" : " ~");
        } else if (json_is_real(v) && !strcmp(k, "drop")) {
            snprintf(buf, sizeof buf, "%+.1f points", json_real_value(v) * 100);
        } else {
            scalar(v, buf, sizeof buf);
        }
        if (json_is_string(v) && lw + 2 + cols_of(buf) > cw - 1) {
            /* a long text (the LoRA example) gets a row of its own */
            if (x != 2) y++;
            if (y >= H) break;
            putf(w, y, 2, W - 4, A(m, QR_NORMAL), "%-*s", lw, k);
            y = wrap(w, y, 4 + lw, W - 6 - lw, H, A(m, QR_NORMAL), buf);
            x = 2;
            continue;
        }
        putf(w, y, x, cw - 1, A(m, QR_NORMAL), "%-*s  %s", lw, k, buf);
        x += cw;
        if (x + cw > W) { x = 2; y++; }
    }
    if (x != 2) y++;
    json_object_foreach(m->lab, k, v) {
        if (y + 2 >= H) break;
        if (json_is_array(v) && json_is_object(json_array_get(v, 0))) {
            /* @highlight steps: the `steps` table's title and first column marked */
            int on = !strcmp(k, "steps") && hl(m, QS_HL_STEPS);
            put_hl(m, w, y++, 2, W - 4, A(m, QR_TITLE), on, k);
            y = draw_table(m, w, y, 2, H - y, W - 4, v, 0, on, -1);
        }
    }
    /* curves: loss and accuracy per epoch, charts when there is room, else sparklines */
    int cl = 0;
    json_object_foreach(m->lab, k, v)
        if (json_is_array(v) && json_array_size(v) >= 4 && (int)strlen(k) > cl) cl = (int)strlen(k);
    json_object_foreach(m->lab, k, v) {
        if (y >= H) break;
        if (json_is_array(v) && json_array_size(v) >= 4 && json_is_number(json_array_get(v, 0))) {
            char a[32], b[32];
            int pc = pct_key(k);
            double v0 = qs_tui_num(json_array_get(v, 0), NAN);
            double v1 = qs_tui_num(json_array_get(v, json_array_size(v) - 1), NAN);
            if (pc) {
                snprintf(a, sizeof a, "%.1f%%", v0 * 100);
                snprintf(b, sizeof b, "%.1f%%", v1 * 100);
            } else {
                num(a, sizeof a, v0);
                num(b, sizeof b, v1);
            }
            int cx = 2 + cl + 1 + 9, cwd = W - cx - 13;
            putf(w, y, 2, cl + 10, A(m, QR_DIM), "%-*s %s", cl, k, a);
            put(w, y, W - 12, 11, A(m, QR_DIM), b);
            if (H - y >= 8 && cwd >= 8) {       /* room for a 3-row chart */
                plot_curve(m, w, y, cx, 3, cwd, v);
                y += 3;
            } else if (cwd >= 4) {
                sparkline(m, w, y, cx, cwd, v);
                y++;
            } else {
                y++;
            }
        }
    }
}

/* ==== 6 Lesson ============================================================================== */

/* Draws the lesson log items [from, to) into nar (nw columns) from row y and returns the
 * row after their last line (a paragraph's blank line after it not counted); with nar NULL
 * it draws nothing and returns the same row, which measures the narration. Presenter mode
 * leaves out the check lines until k shows them. */
static int narration_part(const qs_tui_model *m, WINDOW *nar, int nw, int y, size_t from,
                          size_t to)
{
    const int far = 1 << 20;        /* wrap everything; put() clips to the window */
    if (!nar) y -= far;             /* a dry run: every row is above the window */
    int end = y;                    /* the row after the last drawn line */
    for (size_t i = from; i < to && i < json_array_size(m->lesson_log); i++) {
        json_t *it = json_array_get(m->lesson_log, i);
        const char *kind = js(it, "kind"), *text = js(it, "text");
        int ok = json_is_true(json_object_get(it, "ok"));
        if (!kind || !text) continue;
        if (!strcmp(kind, "expect") && m->present && !m->show_checks) continue;
        if (!strcmp(kind, "heading")) y = wrap(nar, y, 1, nw - 2, far, A(m, QR_KEY), text);
        else if (!strcmp(kind, "text")) {
            /* wrapped as it is shown: escaped (lesson text is untrusted), newlines kept */
            char *e = qs_escape(text, QS_ESC_KEEP_NL);
            char *wr = e ? qs_lesson_wrap(e, nw - 2) : NULL;
            y = wrap_emph(m, nar, y, 1, nw - 2, wr ? wr : e ? e : "");
            free(wr);
            free(e);
            end = y++;
            continue;
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
        end = y;
    }
    return nar ? end : end + far;
}

/* While a quiz waits, it and what followed it (wrong answers, hints) stay in view at the
 * bottom of the narration: the index of that quiz in the log, or the log's length. */
static size_t pinned_from(const qs_tui_model *m)
{
    size_t n = json_array_size(m->lesson_log);
    if (!m->lesson_quiz) return n;
    for (size_t i = n; i-- > 0;) {
        const char *k = js(json_array_get(m->lesson_log, i), "kind");
        if (k && !strcmp(k, "quiz")) return i;
    }
    return n;
}

/* Narration column width for a terminal W wide (the live screen takes the rest): wide
 * terminals keep 80 columns for the live screen, so it is never cut on the right; in
 * presenter mode a narrower terminal shows one pane at a time. */
static int narration_cols(const qs_tui_model *m, int W)
{
    if (W >= 117) {
        int nw = W * 2 / 5;
        return W - nw - 1 < 80 ? W - 81 : nw;
    }
    if (m->present) return W;
    return W >= 90 ? 40 : W;
}

/* The narration's layout in a body H rows high: nw columns, nh rows scrolled, the pinned
 * quiz in the qh rows below them. */
static void lesson_geom(const qs_tui_model *m, int W, int H, int *nw, int *nh, int *qh)
{
    *nw = narration_cols(m, W);
    size_t pf = pinned_from(m), n = json_array_size(m->lesson_log);
    *qh = pf < n ? narration_part(m, NULL, *nw, 0, pf, n) + 1 : 0;
    if (*qh > (H - 3) / 2) *qh = (H - 3) / 2;
    *nh = H - 3 - *qh;
}

/* The lesson list's rows in view in a body H rows high (title, a blank row and the column
 * names above them), n lessons listed: a list that does not fit keeps its last row for
 * "↓ N more". */
static int list_rows(int H, int n)
{
    int vis = H - 3;
    if (n > vis) vis = H - 4;
    return vis > 1 ? vis : 1;
}

int qs_tui_lesson_list_rows(const qs_tui_model *m, int n)
{
    return list_rows(m->present ? m->rows - 1 : m->rows - 3, n);
}

int qs_tui_lesson_scroll_max(const qs_tui_model *m)
{
    int H = m->present ? m->rows - 1 : m->rows - 3, nw, nh, qh;
    lesson_geom(m, m->cols, H, &nw, &nh, &qh);
    int most = narration_part(m, NULL, nw, 0, 0, pinned_from(m)) - nh;
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
        /* the list scrolls: the chosen row stays in view, "↑ N more" / "↓ N more" say
         * what is above and below it */
        int n = (int)json_array_size(list), vis = list_rows(H, n);
        int sel = m->lesson_sel < n ? m->lesson_sel : n - 1, top = m->lesson_list_top;
        if (top > sel) top = sel;
        if (top < sel - vis + 1) top = sel - vis + 1;
        if (top > n - vis) top = n - vis;
        if (top < 0) top = 0;
        draw_table(m, w, 2, 2, vis + 1, W - 4, list, top, 0, sel);
        if (top > 0)
            putf(w, 1, 2, W - 4, A(m, QR_KEY), "↑ %d more", top);
        if (top + vis < n)
            putf(w, 3 + vis, 2, W - 4, A(m, QR_KEY), "↓ %d more (↓/PgDn; Enter opens the "
                 "one marked)", n - top - vis);
        return;
    }
    /* narration on the left, the live screen the lesson drives on the right; a narrow
     * terminal shows one of them at a time (w switches) */
    int nw, nh, qh;
    lesson_geom(m, W, H, &nw, &nh, &qh);
    int live = nw < W;
    if (!live && m->lesson_show_live && m->lesson_live != QS_SCR_LESSON) {
        putf(w, 0, 1, W - 2, A(m, QR_KEY), "lesson: %s — w shows the narration",
             qs_screens[m->lesson_live].title);
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
             qs_screens[m->lesson_live].title);
    /* the narration scrolls inside its own window (rows 2 .. H-2 less a pinned quiz),
     * never past its end */
    size_t pf = pinned_from(m), n = json_array_size(m->lesson_log);
    WINDOW *nar = nh > 0 ? derwin(w, nh, nw, 2, 0) : NULL;
    if (nar) {
        int top = m->lesson_scroll, most = narration_part(m, NULL, nw, 0, 0, pf) - nh;
        if (top > most) top = most > 0 ? most : 0;
        int y = narration_part(m, nar, nw, -top, 0, pf);
        delwin(nar);
        if (y > nh) put(w, qh ? 2 + nh : H - 1, nw - 12, 11, A(m, QR_KEY), "↓ more");
        if (top > 0) put(w, 1, nw - 12, 11, A(m, QR_KEY), "↑ more");
    }
    if (qh > 0) {
        WINDOW *qw = derwin(w, qh, nw, H - 1 - qh, 0);
        if (qw) {
            narration_part(m, qw, nw, 1, pf, n);
            delwin(qw);
        }
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

/* The help's rows (the screen's keys, a blank row, then the global ones) from row 2 to ylim
 * in columns colw wide: the key in kw columns, its description wrapped onto continuation rows
 * (wrapit) or cut with "…". Drawn when w is not NULL (NULL measures). Returns how many keys
 * did not fit. */
static int help_rows(const qs_tui_model *m, WINDOW *w, int ylim, int W, int colw, int kw,
                     int wrapit)
{
    int y = 2, col = 0, left = 0, dw = colw - kw - 2;
    for (int pass = 0; pass < 2; pass++) {
        for (const qs_tui_binding *b = qs_tui_bindings; b->act != QA_NONE; b++) {
            if (!b->help) continue;
            if (pass == 0 ? b->screen != m->screen : b->screen != -1) continue;
            int h = wrapit ? wrap_count(dw, b->help) : 1;
            if (h < 1) h = 1;
            if (left == 0 && y + h > ylim && colw < W && col == 0) {
                y = 2;
                col++;
            }
            if (left > 0 || y + h > ylim) {     /* the rest goes uncounted in order */
                left++;
                continue;
            }
            int x = 1 + col * colw;
            if (w) {
                put(w, y, x, kw, A(m, QR_KEY), b->label);
                if (wrapit) wrap(w, y, x + kw, dw, y + h, A(m, QR_NORMAL), b->help);
                else put(w, y, x + kw, dw, A(m, QR_NORMAL), b->help);
            }
            y += h;
        }
        if (pass == 0) y++;
    }
    return left;
}

static void draw_help(const qs_tui_model *m, WINDOW *w)
{
    int H, W;
    getmaxyx(w, H, W);
    werase(w);
    putf(w, 0, 1, W - 2, A(m, QR_TITLE), "Keys on the %s screen (any key closes this help)",
         qs_screens[m->screen].title);
    /* one column when the list fits the height, else two on a wide terminal; the key column
     * as wide as the widest key shown ("PgDn/PgUp") */
    int rows = 1, kw = 8;
    for (const qs_tui_binding *b = qs_tui_bindings; b->act != QA_NONE; b++)
        if (b->help && (b->screen == m->screen || b->screen == -1)) {
            rows++;
            if (cols_of(b->label) + 2 > kw) kw = cols_of(b->label) + 2;
        }
    int colw = W >= 120 && rows > H - 2 ? W / 2 : W;
    /* descriptions wrap when every key still fits; else each keeps one row, cut with "…",
     * and a list that does not fit (60x16) keeps its last row to say so */
    int wrapit = help_rows(m, NULL, H, W, colw, kw, 1) == 0;
    int ylim = !wrapit && colw == W && rows > H - 2 ? H - 1 : H;
    int left = help_rows(m, w, ylim, W, colw, kw, wrapit);
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

/* Presenter mode's bottom line: the status message only (no key hints, no tensor). */
static void draw_present_bottom(const qs_tui_model *m, WINDOW *w)
{
    werase(w);
    if (m->prompt != QS_PR_NONE) return;     /* readline draws the input line */
    if (m->job.running) {
        pthread_mutex_t *mu = (pthread_mutex_t *)&m->job.mu;  /* read-only use of the lock */
        pthread_mutex_lock(mu);
        double f = m->job.total > 0 ? m->job.done_units / m->job.total : 0;
        pthread_mutex_unlock(mu);
        putf(w, 0, 1, getmaxx(w) - 2, A(m, QR_DIM), "working … %.0f%% (Esc cancels)", f * 100);
    } else if (m->status[0]) {
        put(w, 0, 1, getmaxx(w) - 2, m->status_err ? A(m, QR_ERROR) : A(m, QR_DIM), m->status);
    }
}

void qs_tui_draw_frame(const qs_tui_model *m, WINDOW *tabs, WINDOW *body, WINDOW *status,
                       WINDOW *bottom)
{
    ascii_only = !m->utf8;
    if (tabs) draw_tabs(m, tabs);
    werase(body);
    if (m->help) draw_help(m, body);
    else {
        qs_tui_screens[m->screen].draw(m, body);
        if (m->output_shown && m->output) draw_output(m, body);
    }
    if (status) draw_status(m, status);
    if (m->present && !status) draw_present_bottom(m, bottom);
    else draw_bottom(m, bottom);
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
