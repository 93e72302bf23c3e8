/* progress.c — the progress bar long commands draw on a terminal: bar, percent, elapsed time
 * and ETA on one line of stderr, throttled, erased when the command ends. */
#include "front/front.h"

#include <langinfo.h>
#include <math.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void qs_progress_bar_start(qs_progress_bar *b, FILE *f, volatile sig_atomic_t *cancel)
{
    memset(b, 0, sizeof *b);
    b->f = f;
    b->cancel = cancel;
    b->t0 = b->t_phase = now_s();
    b->width = 80;
    b->enabled = f && isatty(fileno(f));
    if (b->enabled) {
        struct winsize ws;
        if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20) b->width = ws.ws_col;
        const char *cs = nl_langinfo(CODESET);
        b->utf8 = cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
    }
}

double qs_progress_eta(double done, double total, double elapsed)
{
    if (!(total > 0) || !(done > 0) || !(elapsed >= 0) || !isfinite(done) || !isfinite(total))
        return -1;
    if (done >= total) return 0;
    return elapsed * (total - done) / done;
}

void qs_progress_fmt_time(char *buf, size_t len, double t)
{
    if (!(t >= 0) || !isfinite(t)) {
        snprintf(buf, len, "?");
    } else if (t < 10) {
        snprintf(buf, len, "%.1fs", t);
    } else if (t < 60) {
        snprintf(buf, len, "%.0fs", floor(t));
    } else if (t < 3600) {
        long s = (long)t;
        snprintf(buf, len, "%ldm%02lds", s / 60, s % 60);
    } else {
        long m = (long)(t / 60);
        snprintf(buf, len, "%ldh%02ldm", m / 60, m % 60);
    }
}

/* Appends a string to buf[*at..len) (truncating). */
static void put(char *buf, size_t len, size_t *at, const char *s)
{
    size_t k = strlen(s);
    if (*at + 1 >= len) return;
    if (k > len - 1 - *at) k = len - 1 - *at;
    memcpy(buf + *at, s, k);
    *at += k;
    buf[*at] = '\0';
}

char *qs_progress_format(char *buf, size_t len, const char *label, double done, double total,
                         double elapsed, double eta, int width, int utf8)
{
    char tail[96], el[32], et[32], lab[40];
    size_t at = 0;
    if (!buf || len == 0) return buf;
    buf[0] = '\0';
    /* The label, cut to a third of the line at most, on a UTF-8 character boundary. */
    int maxlab = width / 3 < 36 ? width / 3 : 36, cps = 0;
    const unsigned char *l = (const unsigned char *)(label ? label : "");
    size_t lb = 0;
    while (*l && cps < maxlab) {
        size_t k = *l >= 0xF0 ? 4 : *l >= 0xE0 ? 3 : *l >= 0xC0 ? 2 : 1, j;
        if (lb + k >= sizeof lab) break;
        for (j = 0; j < k && l[j]; j++) lab[lb + j] = (char)l[j];
        lb += j;
        l += j;
        cps++;
    }
    lab[lb] = '\0';
    qs_progress_fmt_time(el, sizeof el, elapsed);
    if (total > 0 && isfinite(total)) {
        double frac = done / total;
        if (!(frac >= 0)) frac = 0;
        if (frac > 1) frac = 1;
        if (eta >= 0) qs_progress_fmt_time(et, sizeof et, eta);
        else snprintf(et, sizeof et, "?");
        snprintf(tail, sizeof tail, " %3d%%  %s  ETA %s", (int)floor(frac * 100), el, et);
        /* bar cells: what is left of the line after "LABEL [" "] " and the tail */
        int cells = width - 1 - (int)strlen(lab) - (lab[0] ? 1 : 0) - 2 - (int)strlen(tail);
        if (cells > 40) cells = 40;
        put(buf, len, &at, lab);
        if (lab[0] && cells >= 5) put(buf, len, &at, " ");
        if (cells >= 5) {
            /* eighths of a cell with Unicode blocks, whole cells with '#' */
            static const char *const eighths[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
            int units = (int)floor(frac * cells * (utf8 ? 8 : 1));
            int full = utf8 ? units / 8 : units, part = utf8 ? units % 8 : 0;
            put(buf, len, &at, "[");
            for (int i = 0; i < cells; i++) {
                if (i < full) put(buf, len, &at, utf8 ? "█" : "#");
                else if (i == full && part) put(buf, len, &at, eighths[part]);
                else put(buf, len, &at, utf8 ? " " : ".");
            }
            put(buf, len, &at, "]");
        }
        put(buf, len, &at, tail);
    } else {
        char d[32];
        qs_fmt_num(d, sizeof d, done, 6);
        snprintf(tail, sizeof tail, "%s%s  %s", lab[0] ? " " : "", d, el);
        put(buf, len, &at, lab);
        put(buf, len, &at, tail);
    }
    return buf;
}

int qs_progress_bar_update(void *bar, const char *label, double done, double total)
{
    qs_progress_bar *b = bar;
    if (!b) return 0;
    int stop = b->cancel && *b->cancel;
    double t = now_s();
    const char *lab = label ? label : "";
    /* a new phase (another label, or progress going backwards) restarts the ETA clock */
    if (strncmp(lab, b->label, sizeof b->label - 1) != 0 || done < b->last_done) {
        snprintf(b->label, sizeof b->label, "%s", lab);
        b->t_phase = t;
    }
    b->last_done = done;
    if (!b->enabled || stop) return stop;
    if (t - b->t0 < QS_PROGRESS_DELAY) return 0;
    int final = total > 0 && done >= total;
    if (b->last_draw > 0 && t - b->last_draw < QS_PROGRESS_INTERVAL && !final) return 0;
    char line[512];
    double el = t - b->t_phase;
    qs_progress_format(line, sizeof line, b->label, done, total, t - b->t0,
                       qs_progress_eta(done, total, el), b->width, b->utf8);
    fprintf(b->f, "\r%s\033[K", line);
    fflush(b->f);
    b->shown = 1;
    b->last_draw = t;
    return 0;
}

void qs_progress_bar_finish(qs_progress_bar *b)
{
    if (!b || !b->shown) return;
    fputs("\r\033[K", b->f);
    fflush(b->f);
    b->shown = 0;
}
