/* strict.c — `lesson check --strict`: plays a lesson headless on a session of its own and
 * checks that every number its narration writes (paragraphs, preformatted blocks, headings,
 * quizzes) is backed, within the precision it is written with, by a number of the same step:
 * an `expect` (its value or the value it checked), a command line, or a result the step's
 * commands printed. A number between braces, {2026}, is exempt (a year, a fact from outside
 * qscope); the braces are not shown. The rules are in man/qscope-lesson.5, STRICT CHECK. */
#include "qscope/lesson.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the exemption marker --------------------------------------------------------------- */

/* A brace pair on one line whose content holds a digit and no brace: "{2026}". */
static const char *mark_end(const char *p)
{
    if (*p != '{') return NULL;
    int digit = 0;
    for (const char *q = p + 1; *q && *q != '\n'; q++) {
        if (*q == '{') return NULL;
        if (*q == '}') return digit ? q : NULL;
        if (isdigit((unsigned char)*q)) digit = 1;
    }
    return NULL;
}

void qs_lesson_unmark(char *s)
{
    if (!s) return;
    char *o = s;
    for (char *p = s; *p; ) {
        const char *e = mark_end(p);
        if (e) {
            size_t n = (size_t)(e - p - 1);
            memmove(o, p + 1, n);
            o += n;
            p = (char *)e + 1;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
}

/* ---- numbers ------------------------------------------------------------------------------ */

typedef struct nums {
    double *v;
    size_t n, cap;
} nums;

static int push(nums *a, double v)
{
    if (a->n == a->cap) {
        size_t c = a->cap ? 2 * a->cap : 256;
        double *nv = realloc(a->v, c * sizeof *nv);
        if (!nv) return -1;
        a->v = nv;
        a->cap = c;
    }
    a->v[a->n++] = v;
    return 0;
}

/* Every number in a string, liberally: digit runs inside words too ("int8" gives 8, "q4_0"
 * 4 and 0), a leading minus when it is not a binary one, "2^-24" also as its value. */
static int backing_from_text(nums *a, const char *s)
{
    for (const char *p = s; *p; ) {
        if (!isdigit((unsigned char)*p)) {
            if (!strncmp(p, "inf", 3) && (p == s || !isalpha((unsigned char)p[-1])) &&
                !isalpha((unsigned char)p[3])) {
                if (push(a, p > s && p[-1] == '-' ? -INFINITY : INFINITY)) return -1;
            }
            p++;
            continue;
        }
        const char *st = p;
        int neg = st > s && (st[-1] == '-') &&
                  (st - 1 == s || !isalnum((unsigned char)st[-2]));
        char *end;
        double v = strtod(p, &end);
        if (end == p) { p++; continue; }
        /* strtod would read "0x.." as hex and "1e" oddly: keep plain decimals */
        if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) end = (char *)p + 1, v = 0;
        if (neg) v = -v;
        if (push(a, v)) return -1;
        p = end;
        if (*p == '^') {
            char *e2;
            double ex = strtod(p + 1, &e2);
            if (e2 != p + 1) {
                if (push(a, pow(v, ex)) || push(a, ex)) return -1;
                p = e2;
            }
        }
    }
    return 0;
}

static int backing_from_json(nums *a, json_t *j)
{
    if (!j) return 0;
    if (json_is_integer(j)) return push(a, (double)json_integer_value(j));
    if (json_is_real(j)) return push(a, json_real_value(j));
    if (json_is_string(j)) return backing_from_text(a, json_string_value(j));
    if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) if (backing_from_json(a, v)) return -1;
        return 0;
    }
    if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v) if (backing_from_json(a, v)) return -1;
    }
    return 0;
}

/* A number written in narration. */
typedef struct wnum {
    double v;           /* its value (a percentage as written: 0.1 for "0.1%") */
    double tol;         /* half a unit of its last digit */
    int sign;           /* written with a sign */
    int pct;            /* followed by % */
    int is_pow;         /* written b^e: backed by its value or by e (the exponent shown) */
    double pexp;        /* e */
    char text[40];      /* as written */
} wnum;

static int word_char(int c) { return isalnum(c) || c == '_' || c >= 0x80; }

/* Reads a narration number at p (p[0] is a digit or a sign before one); returns the
 * character after it and fills w, or NULL when the token is part of a word ("FP32", "70B",
 * "Q4_0", "E4M3", "1st") and no number. */
static const char *read_number(const char *p, wnum *w)
{
    const char *st = p;
    int neg = 0;
    memset(w, 0, sizeof *w);
    if (*p == '-' || *p == '+') { neg = *p == '-'; w->sign = 1; p++; }
    else if (!strncmp(p, "\xe2\x88\x92", 3)) { neg = 1; w->sign = 1; p += 3; }
    char buf[64];
    size_t n = 0;
    int dec = -1, exp10 = 0;
    while (isdigit((unsigned char)*p) && n < 40) buf[n++] = *p++;
    /* thousands: 100,000 */
    while (*p == ',' && isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) &&
           isdigit((unsigned char)p[3]) && !isdigit((unsigned char)p[4]) && n < 40) {
        memcpy(buf + n, p + 1, 3);
        n += 3;
        p += 4;
    }
    if (*p == '.' && isdigit((unsigned char)p[1])) {
        buf[n++] = *p++;
        dec = 0;
        while (isdigit((unsigned char)*p) && n < 50) { buf[n++] = *p++; dec++; }
    }
    if ((*p == 'e' || *p == 'E') &&
        (isdigit((unsigned char)p[1]) ||
         ((p[1] == '-' || p[1] == '+') && isdigit((unsigned char)p[2])))) {
        char *e2;
        exp10 = (int)strtol(p + 1, &e2, 10);
        buf[n++] = 'e';
        int k = snprintf(buf + n, sizeof buf - n, "%d", exp10);
        n += (size_t)(k > 0 ? k : 0);
        p = e2;
    }
    buf[n] = '\0';
    if (word_char((unsigned char)*p)) return NULL;   /* "70B", "8x", "3rd" */
    if (*p == '-' && isalpha((unsigned char)p[1])) return NULL;  /* "8-bit": a name */
    w->v = strtod(buf, NULL);
    w->tol = 0.5 * pow(10.0, -(dec > 0 ? dec : 0) + exp10);
    if (*p == '^') {                                  /* 2^-24: its value, exactly */
        char *e2;
        double ex = strtod(p + 1, &e2);
        if (e2 != p + 1 && !word_char((unsigned char)*e2)) {
            w->is_pow = 1;
            w->pexp = ex;
            w->v = pow(w->v, ex);
            w->tol = 0;
            p = e2;
        }
    }
    if (neg) w->v = -w->v;
    if (*p == '%') { w->pct = 1; p++; }
    else if (!strncmp(p, " point", 6) && !isalpha((unsigned char)p[6 + (p[6] == 's')]))
        w->pct = 1;                                   /* "8 points": percentage points */
    size_t tl = (size_t)(p - st) < sizeof w->text - 1 ? (size_t)(p - st) : sizeof w->text - 1;
    memcpy(w->text, st, tl);
    w->text[tl] = '\0';
    return p;
}

static int close_to(double a, double b, double tol)
{
    if (isinf(a) || isinf(b)) return a == b;
    return fabs(a - b) <= tol + 1e-9 * fmax(fabs(a), fabs(b));
}

static int backed(const nums *a, const wnum *w)
{
    for (size_t i = 0; i < a->n; i++) {
        double b = a->v[i];
        if (close_to(b, w->v, w->tol)) return 1;
        if (w->is_pow && b == w->pexp) return 1;
        if (!w->sign && close_to(-b, w->v, w->tol)) return 1;      /* a magnitude */
        if (w->pct && (close_to(100.0 * b, w->v, w->tol) ||
                       (!w->sign && close_to(-100.0 * b, w->v, w->tol))))
            return 1;
    }
    return 0;
}

/* ---- the check ------------------------------------------------------------------------- */

typedef struct ctx {
    json_t *unbacked;       /* [{line, number, step}] */
    int checked, exempt;
} ctx;

/* Checks the numbers of one narration line against the step's backing. */
static void check_line(ctx *c, const nums *a, const char *line, int ln, int step)
{
    const char *p = line;
    while (*p) {
        const char *e = mark_end(p);
        if (e) {                            /* {…}: exempt */
            for (const char *q = p; q < e; q++)
                if (isdigit((unsigned char)*q) && !isdigit((unsigned char)q[1])) c->exempt++;
            p = e + 1;
            continue;
        }
        unsigned char ch = (unsigned char)*p;
        int start = isdigit(ch) ||
                    ((ch == '-' || ch == '+') && isdigit((unsigned char)p[1])) ||
                    (!strncmp(p, "\xe2\x88\x92", 3) && isdigit((unsigned char)p[3]));
        if (start && p > line) {
            unsigned char pr = (unsigned char)p[-1];
            if (word_char(pr) && !(ch != '-' && ch != '+' && pr >= 0x80 && p - line >= 3 &&
                                   !strncmp(p - 3, "\xe2\x88\x92", 3)))
                start = 0;                  /* inside a word: "FP32", "int8", "x86" */
            else if (pr == '.' && !(p - line >= 2 && p[-2] == '.')) start = 0;
            else if ((ch == '-' || ch == '+') && (pr == ')' || pr == ']')) start = 0;
        }
        if (!start) {
            p++;
            continue;
        }
        wnum w;
        const char *nx = read_number(p, &w);
        if (!nx) {                          /* the rest of a word */
            while (*p && word_char((unsigned char)*p)) p++;
            if (*p == '-' || *p == '+') p++;
            continue;
        }
        c->checked++;
        if (!backed(a, &w)) {
            json_t *o = json_object();
            json_object_set_new(o, "line", json_integer(ln));
            json_object_set_new(o, "step", json_integer(step + 1));
            json_object_set_new(o, "number", json_string(w.text));
            json_array_append_new(c->unbacked, o);
        }
        p = nx;
    }
}

/* Is raw line `s` (of a narration item's span) narration? Blank lines, comments and the
 * step break are not. Returns the text to scan (after "quiz:", "answer:", "hint:", "##"). */
static const char *narration_text(const char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    if (!*s || *s == '\r') return NULL;
    if (s[0] == '#' && s[1] != '#') return NULL;
    if (!strncmp(s, "---", 3)) return NULL;
    if (!strncmp(s, "quiz:", 5)) return s + 5;
    if (!strncmp(s, "answer:", 7)) return s + 7;
    if (!strncmp(s, "hint:", 5)) return s + 5;
    if (s[0] == '#') return s + strspn(s, "#");
    if (s[0] == '\\') return s + 1;
    if (s[0] == '>' || s[0] == '@' || !strncmp(s, "expect", 6)) return NULL;
    return s;
}

static char *slurp(const char *path, qs_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) { qs_err_set(err, "%s: cannot open", path); return NULL; }
    size_t cap = 65536, n = 0;
    char *b = malloc(cap);
    while (b) {
        size_t r = fread(b + n, 1, cap - n - 1, f);
        n += r;
        if (n < cap - 1) break;
        if (cap > (64u << 20)) { free(b); b = NULL; qs_err_set(err, "%s: too large", path);
                                 fclose(f); return NULL; }
        char *nb = realloc(b, cap * 2);
        if (!nb) { free(b); b = NULL; break; }
        b = nb;
        cap *= 2;
    }
    fclose(f);
    if (!b) { qs_err_set(err, "%s: out of memory", path); return NULL; }
    b[n] = '\0';
    return b;
}

/* ---- the collector ------------------------------------------------------------------------ */

struct qs_strict {
    char *path;         /* the file (owned) */
    char *raw;          /* its text, NUL at every newline (owned) */
    char **lines;       /* lines[1..nlines] into raw */
    int nlines;
    int nsteps;
    nums *back;         /* back[step]: the numbers that back the step's narration */
    int oom;
};

void qs_strict_free(qs_strict *st)
{
    if (!st) return;
    if (st->back)
        for (int i = 0; i <= st->nsteps; i++) free(st->back[i].v);
    free(st->back);
    free(st->lines);
    free(st->raw);
    free(st->path);
    free(st);
}

int qs_strict_begin(qs_strict **out, const char *path, const qs_lesson *l, qs_err *err)
{
    *out = NULL;
    qs_strict *st = calloc(1, sizeof *st);
    if (!st) return qs_err_set(err, "lesson check --strict: out of memory");
    st->raw = slurp(path, err);
    if (!st->raw) { free(st); return QS_ERR; }
    /* the raw lines, 1-based */
    size_t nl = 1;
    for (char *p = st->raw; *p; p++) if (*p == '\n') nl++;
    st->lines = calloc(nl + 2, sizeof *st->lines);
    st->nsteps = l->nsteps;
    st->back = calloc((size_t)st->nsteps + 1, sizeof *st->back);
    st->path = strdup(path);
    if (!st->lines || !st->back || !st->path) {
        qs_strict_free(st);
        return qs_err_set(err, "lesson check --strict: out of memory");
    }
    size_t k = 1;
    st->lines[k++] = st->raw;
    for (char *p = st->raw; *p; p++)
        if (*p == '\n') { *p = '\0'; if (k <= nl) st->lines[k++] = p + 1; }
    st->nlines = (int)k - 1;
    *out = st;
    return QS_OK;
}

void qs_strict_event(qs_strict *st, const qs_lesson_player *p, const qs_lesson_event *ev)
{
    if (!st || !ev->item || ev->step < 0 || ev->step > st->nsteps) return;
    nums *a = &st->back[ev->step];
    const qs_lesson_item *it = ev->item;
    if (it->kind == QS_LI_CMD) {
        st->oom |= backing_from_text(a, it->text);
        st->oom |= backing_from_json(a, ev->result);
    } else if (it->kind == QS_LI_EXPECT) {
        st->oom |= backing_from_text(a, it->expect.value);
        char why[256];
        if (p->last)
            st->oom |= backing_from_json(a, qs_lesson_lookup(p->last, it->expect.key, why,
                                                             sizeof why));
    }
}

int qs_strict_finish(qs_strict *st, const qs_lesson *L, json_t **report, qs_err *err)
{
    *report = NULL;
    if (st->oom) return qs_err_set(err, "lesson check --strict: out of memory");
    ctx c = { json_array(), 0, 0 };
    for (int si = 0; si < L->nsteps && si < st->nsteps; si++) {
        const qs_lesson_step *stp = &L->steps[si];
        for (int ii = 0; ii < stp->nitems; ii++) {
            const qs_lesson_item *it = &stp->items[ii];
            if (it->kind != QS_LI_TEXT && it->kind != QS_LI_HEADING &&
                it->kind != QS_LI_QUIZ)
                continue;
            int end = ii + 1 < stp->nitems ? stp->items[ii + 1].line
                      : si + 1 < L->nsteps ? L->steps[si + 1].line : st->nlines + 1;
            if (it->kind == QS_LI_HEADING) end = it->line + 1;
            for (int ln = it->line; ln < end && ln <= st->nlines; ln++) {
                const char *t = narration_text(st->lines[ln]);
                if (t) check_line(&c, &st->back[si], t, ln, si);
            }
        }
    }
    json_t *out = json_object();
    json_object_set_new(out, "file", json_string(st->path));
    json_object_set_new(out, "numbers", json_integer(c.checked));
    json_object_set_new(out, "exempt", json_integer(c.exempt));
    json_object_set_new(out, "unbacked", c.unbacked);
    json_object_set_new(out, "ok", json_boolean(json_array_size(c.unbacked) == 0));
    *report = out;
    return QS_OK;
}

int qs_lesson_strict(const char *path, json_t **report, qs_err *err)
{
    qs_lesson *l = NULL;
    qs_strict *st = NULL;
    *report = NULL;
    if (qs_lesson_load(path, &l, err) != QS_OK) return QS_ERR;
    if (qs_strict_begin(&st, path, l, err) != QS_OK) { qs_lesson_free(l); return QS_ERR; }
    qs_session s;
    qs_session_init(&s);
    qs_lesson_player p;
    qs_lesson_player_init(&p, &s, l);           /* owns l from here */
    qs_lesson_event ev;
    int rc;
    while ((rc = qs_lesson_next(&p, &ev, err)) == QS_OK) {
        qs_strict_event(st, &p, &ev);
        if (ev.item->kind == QS_LI_QUIZ) qs_lesson_answer(&p, ev.item->quiz.answers[0]);
    }
    if (rc == QS_LESSON_END) rc = qs_strict_finish(st, p.lesson, report, err);
    else rc = QS_ERR;                           /* err says which line failed */
    qs_lesson_player_fini(&p);
    qs_session_fini(&s);
    qs_strict_free(st);
    return rc;
}
