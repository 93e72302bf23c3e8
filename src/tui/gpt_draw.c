/* gpt_draw.c — the Lab screen's GPT view (issue 16): the last `lab gpt sweep` as a table with
 * KL-divergence bars, `lab gpt generate` as the formats' texts side by side, `lab gpt acts`
 * as each layer's max/median channel ratio. It only lays out the JSON the commands returned. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tui_int.h"

/* Text at (y, x) in at most maxw columns, through qs_tui_put (escaped: a generated text or
 * a prompt may hold control characters). */
static void text(WINDOW *w, int y, int x, int maxw, attr_t a, const char *s)
{
    qs_tui_put(w, y, x, maxw, a, s);
}

static double jnum(json_t *o, const char *k)
{
    return qs_tui_num(json_object_get(o, k), NAN);
}

static int draw_sweep(const qs_tui_model *m, WINDOW *w, int y, int H, int W, json_t *rows)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%-17s %6s %9s %10s %7s  KL divergence from fp32 (log scale)",
             "format", "bits", "ppl", "kld", "top1");
    text(w, y++, 2, W - 4, A_BOLD, buf);
    size_t n = json_array_size(rows);
    double lo = 1e-6, hi = 1e-6;
    for (size_t i = 0; i < n; i++) hi = fmax(hi, jnum(json_array_get(rows, i), "kld"));
    int bx = 2 + 55, bw = W - bx - 2;
    for (size_t i = 0; i < n && y < H; i++, y++) {
        json_t *r = json_array_get(rows, i);
        const char *f = json_string_value(json_object_get(r, "format"));
        double kld = jnum(r, "kld");
        snprintf(buf, sizeof buf, "%-17.17s %6.3g %9.4f %10.3g %6.2f%%", f ? f : "?",
                 jnum(r, "bits_per_weight"), jnum(r, "ppl"), kld, 100 * jnum(r, "top1_agree"));
        text(w, y, 2, W - 4, A_NORMAL, buf);
        if (bw > 4 && kld > lo) {
            int k = (int)(bw * log(kld / lo) / log(hi / lo) + 0.5);
            for (int c = 0; c < k && c < bw; c++) text(w, y, bx + c, 3, A_BOLD, m->utf8 ? "█" : "#");
        }
    }
    return y;
}

/* The scrollable part of the view: window w (NULL: only count lines), drawn from row top
 * down to row H - 1, content line k at row top + k - scroll. */
typedef struct view {
    WINDOW *w;
    int top, H, W, scroll;
} view;

/* Content line k of v: text s at column x (nothing when outside the rows shown). */
static void vtext(const view *v, int k, int x, int maxw, attr_t a, const char *s)
{
    int y = v->top + k - v->scroll;
    if (!v->w || y < v->top || y >= v->H) return;
    text(v->w, y, x, maxw, a, s);
}

/* The generations side by side (stacked when a column would be narrower than 22): returns
 * the number of content lines. */
static int draw_gens(const view *v, json_t *gens)
{
    size_t n = json_array_size(gens);
    if (!n) return 0;
    int cols = (int)n, cw = (v->W - 2) / cols;
    if (cw < 22) { cols = 1; cw = v->W - 4; }
    int col = 0, k0 = 0, kmax = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *g = json_array_get(gens, i);
        const char *f = json_string_value(json_object_get(g, "format"));
        const char *t = json_string_value(json_object_get(g, "text"));
        int x = 2 + col * cw, k = cols == 1 ? kmax : k0;
        vtext(v, k++, x, cw - 1, A_BOLD, f ? f : "?");
        /* the text cut into lines of cw - 2 characters; newlines start a new line */
        const char *p = t ? t : "";
        while (*p) {
            char line[512];
            int j = 0;
            while (*p && *p != '\n' && j < cw - 2 && j < (int)sizeof line - 1) line[j++] = *p++;
            if (*p == '\n') p++;
            line[j] = 0;
            vtext(v, k++, x, cw - 1, A_NORMAL, line);
        }
        if (k + (cols == 1) > kmax) kmax = k + (cols == 1);
        if (cols > 1) col++;
    }
    return kmax;
}

/* The channel strip: per linear layer one row, each cell the largest input-channel absmax of
 * the channels it covers as a bar of 8 heights (ASCII: 10 shades) relative to the layer's
 * absmax; the cells holding the layer's top channels are bold. Returns the content lines. */
static int draw_acts(const qs_tui_model *m, const view *v, json_t *layers)
{
    static const char *const bars[] = { " ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
    static const char shades[] = " .:-=+*#%@";
    char buf[256];
    int k = 0, name_w = 16, sw = v->W - 4 - (name_w + 14) - 13;
    if (sw < 8) sw = 8;
    snprintf(buf, sizeof buf, "%-*s %4s %3s %7s %-*.*s %s", name_w, "layer", "in", "c/",
             "max/med", sw, sw, "absmax of each input channel", "top");
    vtext(v, k++, 2, v->W - 4, A_BOLD, buf);
    size_t n = json_array_size(layers);
    for (size_t i = 0; i < n; i++, k++) {
        json_t *l = json_array_get(layers, i), *ch = json_object_get(l, "channels");
        json_t *tops = json_object_get(l, "top_channels");
        const char *name = json_string_value(json_object_get(l, "layer"));
        int in = (int)json_array_size(ch);
        double amax = jnum(l, "absmax"), ratio = jnum(l, "max_median_ratio");
        int per = in > 0 ? (in + sw - 1) / sw : 1, cells = in > 0 ? (in + per - 1) / per : 0;
        snprintf(buf, sizeof buf, "%-*.*s %4d %3d %6.2f×", name_w, name_w, name ? name : "?",
                 (int)jnum(l, "in"), per, ratio);
        vtext(v, k, 2, v->W - 4, ratio >= 4 ? A_BOLD : A_NORMAL, buf);
        int x0 = 2 + name_w + 18;
        for (int c = 0; c < cells; c++) {
            double mx = 0;
            int top = 0;
            for (int j = c * per; j < (c + 1) * per && j < in; j++) {
                mx = fmax(mx, json_number_value(json_array_get(ch, (size_t)j)));
                for (size_t t = 0; t < json_array_size(tops) && t < 3; t++)
                    if ((int)jnum(json_array_get(tops, t), "channel") == j) top = 1;
            }
            double f = amax > 0 ? mx / amax : 0;
            char cell[8];
            if (m->utf8) snprintf(cell, sizeof cell, "%s", bars[(int)ceil(f * 8 - 1e-9) < 0 ? 0 : (int)ceil(f * 8 - 1e-9)]);
            else snprintf(cell, sizeof cell, "%c", shades[(int)ceil(f * 9 - 1e-9) < 0 ? 0 : (int)ceil(f * 9 - 1e-9)]);
            /* maxw counts bytes: a bar is 3 of them in UTF-8 */
            if (x0 + c < v->W - 1)
                vtext(v, k, x0 + c, (int)strlen(cell), top ? A_BOLD | A_REVERSE : A_NORMAL, cell);
        }
        int o = 0;
        buf[0] = 0;
        for (size_t t = 0; t < json_array_size(tops) && t < 3 && o < (int)sizeof buf - 16; t++)
            o += snprintf(buf + o, sizeof buf - (size_t)o, "%d ",
                          (int)jnum(json_array_get(tops, t), "channel"));
        vtext(v, k, x0 + sw + 1, v->W - (x0 + sw + 1) - 1, A_NORMAL, buf);
    }
    return k;
}

/* Which scrollable part m->lab holds: 1 generations, 2 channel strip, 0 neither. */
static int gpt_part(const qs_tui_model *m, json_t **arr)
{
    json_t *o = m->lab, *gens = json_object_get(o, "generations"),
           *layers = json_object_get(o, "layers");
    if (json_object_get(json_array_get(gens, 0), "text")) {
        *arr = gens;
        return 1;
    }
    /* only the lab gpt results: the MLP lab's ptq result has "layers" too */
    if (json_object_get(json_array_get(layers, 0), "max_median_ratio")) {
        *arr = layers;
        return 2;
    }
    return 0;
}

int qs_tui_gpt_lines(const qs_tui_model *m, int W)
{
    json_t *arr = NULL;
    int part = m->lab ? gpt_part(m, &arr) : 0;
    view v = { NULL, 0, 0, W, 0 };
    return part == 1 ? draw_gens(&v, arr) : part == 2 ? draw_acts(m, &v, arr) : 0;
}

int qs_tui_draw_gpt(const qs_tui_model *m, WINDOW *w, int y)
{
    int H, W;
    getmaxyx(w, H, W);
    json_t *o = m->lab;
    if (!o) return 0;
    json_t *rows = json_object_get(o, "rows"), *arr = NULL;
    int sweep = json_is_array(rows) && json_object_get(json_array_get(rows, 0), "format") &&
                json_object_get(json_array_get(rows, 0), "kld");
    int part = gpt_part(m, &arr);
    if (!sweep && !part) return 0;
    const char *model = json_string_value(json_object_get(o, "model"));
    char buf[512];
    snprintf(buf, sizeof buf, "GPT lab — %s", model ? model : "character-level transformer");
    text(w, y++, 2, W - 4, A_BOLD, buf);
    if (sweep) {
        draw_sweep(m, w, y + 1, H, W, rows);
        return 1;
    }
    if (part == 1) {
        const char *p = json_string_value(json_object_get(o, "prompt"));
        snprintf(buf, sizeof buf, "prompt: %s", p ? p : "");
        text(w, y++, 2, W - 4, A_DIM, buf);
    } else {
        snprintf(buf, sizeof buf, "input absmax over %d positions; bar = channel/layer "
                 "absmax; c/: per cell", (int)jnum(o, "rows"));
        text(w, y++, 2, W - 4, A_DIM, buf);
    }
    view v = { w, y + 1, H - 1, W, m->lab_scroll };
    int n = part == 1 ? draw_gens(&v, arr) : draw_acts(m, &v, arr);
    /* where the window stands, when the part does not fit */
    int shown = H - 1 - v.top;
    if (n > shown || v.scroll > 0) {
        int last = v.scroll + shown < n ? v.scroll + shown : n;
        snprintf(buf, sizeof buf, "lines %d-%d of %d · PgDn/PgUp scroll", v.scroll + 1, last, n);
        text(w, H - 1, 2, W - 4, A_DIM, buf);
    }
    return 1;
}
