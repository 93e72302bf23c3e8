/* gpt_draw.c — the Lab screen's GPT view (issue 16): the last `lab gpt sweep` as a table with
 * KL-divergence bars, `lab gpt generate` as the formats' texts side by side, `lab gpt acts`
 * as each layer's max/median channel ratio. It only lays out the JSON the commands returned. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tui_int.h"

static void text(WINDOW *w, int y, int x, int maxw, attr_t a, const char *s)
{
    int H, W;
    getmaxyx(w, H, W);
    if (y < 0 || y >= H || x >= W || maxw <= 0) return;
    if (x + maxw > W) maxw = W - x;
    wattrset(w, a);
    mvwaddnstr(w, y, x, s, maxw);
    wattrset(w, A_NORMAL);
}

static double jnum(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
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
            for (int c = 0; c < k && c < bw; c++) text(w, y, bx + c, 1, A_BOLD, m->utf8 ? "█" : "#");
        }
    }
    return y;
}

static int draw_gens(const qs_tui_model *m, WINDOW *w, int y, int H, int W, json_t *gens)
{
    (void)m;
    size_t n = json_array_size(gens);
    if (!n) return y;
    int cols = (int)n, cw = (W - 2) / cols;
    if (cw < 22) { cols = 1; cw = W - 4; }
    int y0 = y, col = 0, ymax = y;
    for (size_t i = 0; i < n; i++) {
        json_t *g = json_array_get(gens, i);
        const char *f = json_string_value(json_object_get(g, "format"));
        const char *t = json_string_value(json_object_get(g, "text"));
        int x = 2 + col * cw, yy = cols == 1 ? ymax : y0;
        char head[64];
        snprintf(head, sizeof head, "%s", f ? f : "?");
        text(w, yy++, x, cw - 1, A_BOLD, head);
        /* the text cut into lines of cw - 2 characters; newlines start a new line */
        const char *p = t ? t : "";
        while (*p && yy < H) {
            char line[512];
            int k = 0;
            while (*p && *p != '\n' && k < cw - 2 && k < (int)sizeof line - 1) line[k++] = *p++;
            if (*p == '\n') p++;
            line[k] = 0;
            text(w, yy++, x, cw - 1, A_NORMAL, line);
        }
        if (yy > ymax) ymax = yy + (cols == 1);
        if (cols > 1) col++;
    }
    return ymax;
}

static int draw_acts(const qs_tui_model *m, WINDOW *w, int y, int H, int W, json_t *layers)
{
    char buf[256];
    text(w, y++, 2, W - 4, A_BOLD, "layer                  in    absmax  max/median  top channels");
    size_t n = json_array_size(layers);
    for (size_t i = 0; i < n && y < H; i++, y++) {
        json_t *l = json_array_get(layers, i);
        const char *name = json_string_value(json_object_get(l, "layer"));
        int o = snprintf(buf, sizeof buf, "%-20.20s %4d %9.3g %11.3g  ", name ? name : "?",
                         (int)jnum(l, "in"), jnum(l, "absmax"), jnum(l, "max_median_ratio"));
        json_t *tops = json_object_get(l, "top_channels");
        for (size_t k = 0; k < json_array_size(tops) && o < (int)sizeof buf - 16; k++)
            o += snprintf(buf + o, sizeof buf - (size_t)o, "%d ",
                          (int)jnum(json_array_get(tops, k), "channel"));
        text(w, y, 2, W - 4, A_NORMAL, buf);
    }
    (void)m;
    return y;
}

int qs_tui_draw_gpt(const qs_tui_model *m, WINDOW *w, int y)
{
    int H, W;
    getmaxyx(w, H, W);
    json_t *o = m->lab;
    if (!o) return 0;
    json_t *rows = json_object_get(o, "rows");
    json_t *gens = json_object_get(o, "generations");
    json_t *layers = json_object_get(o, "layers");
    int sweep = json_is_array(rows) && json_object_get(json_array_get(rows, 0), "format") &&
                json_object_get(json_array_get(rows, 0), "kld");
    /* only the lab gpt results: the MLP lab's ptq result has "layers" too */
    if (!json_object_get(json_array_get(gens, 0), "text")) gens = NULL;
    if (!json_object_get(json_array_get(layers, 0), "max_median_ratio")) layers = NULL;
    if (!sweep && !gens && !layers) return 0;
    const char *model = json_string_value(json_object_get(o, "model"));
    char buf[512];
    snprintf(buf, sizeof buf, "GPT lab — %s", model ? model : "character-level transformer");
    text(w, y++, 2, W - 4, A_BOLD, buf);
    if (sweep) draw_sweep(m, w, y + 1, H, W, rows);
    else if (gens) {
        const char *p = json_string_value(json_object_get(o, "prompt"));
        snprintf(buf, sizeof buf, "prompt: %s", p ? p : "");
        text(w, y++, 2, W - 4, A_DIM, buf);
        draw_gens(m, w, y + 1, H, W, gens);
    } else {
        draw_acts(m, w, y + 1, H, W, layers);
    }
    return 1;
}
