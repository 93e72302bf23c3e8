/* expect.c — `expect KEY OP VALUE [tol=T]`: parse it, look KEY up in a result (dotted paths,
 * indexes, [field=value] selection), compare with tolerance; and quiz answer matching. */
#include "qscope/lesson.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const op_names[] = {"==", "!=", "<", "<=", ">", ">="};

const char *qs_op_str(qs_op op)
{
    return (unsigned)op < sizeof op_names / sizeof op_names[0] ? op_names[op] : "?";
}

void qs_expect_fini(qs_expect *e)
{
    if (!e) return;
    free(e->key);
    free(e->value);
    e->key = e->value = NULL;
}

/* Strict number: the whole string. */
static int parse_num(const char *s, double *v)
{
    char *end;
    if (!s || !*s || isspace((unsigned char)*s)) return -1;
    errno = 0;
    double d = strtod(s, &end);
    if (*end || end == s) return -1;
    *v = d;
    return 0;
}

/* Half a unit of the last digit written: "3.9216" -> 5e-5, "280" -> 0.5, "1.5e3" -> 50.
 * Hex, inf and nan are exact. */
static double written_tol(const char *s)
{
    const char *p = s;
    int dec = 0, exp10 = 0;
    if (*p == '+' || *p == '-') p++;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) return 0;
    if (!isdigit((unsigned char)*p) && *p != '.') return 0;
    while (isdigit((unsigned char)*p)) p++;
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) { p++; dec++; }
    }
    if (*p == 'e' || *p == 'E') exp10 = atoi(p + 1);
    return 0.5 * pow(10.0, exp10 - dec);
}

int qs_expect_parse(const char *text, qs_expect *e, qs_err *err)
{
    char **v = NULL;
    int n, rc = QS_ERR;
    memset(e, 0, sizeof *e);
    /* the key may hold spaces inside brackets (steps[title=multiply by 1/s].value), or be
     * quoted; the rest splits like a command line */
    const char *k = text;
    while (*k == ' ' || *k == '\t') k++;
    const char *ke = k;
    int depth = 0;
    if (*k != '"' && *k != '\'') {
        while (*ke && (depth > 0 || (*ke != ' ' && *ke != '\t'))) {
            depth += *ke == '[' ? 1 : *ke == ']' ? -1 : 0;
            ke++;
        }
    }
    if (ke > k) {
        char *rest = NULL;
        if (asprintf(&rest, "'%.*s' %s", (int)(ke - k), k, ke) < 0)
            return qs_err_set(err, "out of memory");
        if (memchr(k, '\'', (size_t)(ke - k))) {
            free(rest);
            return qs_err_set(err, "expect: a key cannot contain a single quote");
        }
        n = qs_split(rest, &v, err);
        free(rest);
    } else {
        n = qs_split(text, &v, err);
    }
    if (n < 0) return QS_ERR;
    if (n < 3) {
        qs_err_set(err, "expect: usage: expect KEY OP VALUE [tol=T] (OP: == != < <= > >=)");
        goto done;
    }
    if (n > 4) {
        qs_err_set(err, "expect: unexpected '%s' after the value (usage: expect KEY OP "
                   "VALUE [tol=T])", v[4]);
        goto done;
    }
    int op = -1;
    for (int i = 0; i < 6; i++)
        if (strcmp(v[1], op_names[i]) == 0) op = i;
    if (op < 0) {
        qs_err_set(err, "expect: unknown operator '%s' (== != < <= > >=)", v[1]);
        goto done;
    }
    e->op = (qs_op)op;
    e->key = strdup(v[0]);
    e->value = strdup(v[2]);
    if (!e->key || !e->value) { qs_err_set(err, "out of memory"); goto done; }
    e->is_num = parse_num(v[2], &e->num) == 0;
    if (e->op != QS_OP_EQ && e->op != QS_OP_NE && !e->is_num) {
        qs_err_set(err, "expect: '%s' is not a number; %s compares numbers only", v[2],
                   op_names[op]);
        goto done;
    }
    if (e->is_num) e->tol = written_tol(v[2]);
    if (n == 4) {
        const char *t = v[3];
        char buf[64];
        if (strncmp(t, "tol=", 4) != 0) {
            qs_err_set(err, "expect: unexpected '%s' (only tol=T may follow the value)", t);
            goto done;
        }
        snprintf(buf, sizeof buf, "%s", t + 4);
        size_t bl = strlen(buf);
        if (bl && buf[bl - 1] == '%') { e->tol_rel = 1; buf[bl - 1] = '\0'; }
        double tv;
        if (parse_num(buf, &tv) < 0 || !(tv >= 0) || isinf(tv)) {
            qs_err_set(err, "expect: tol=%s is not a non-negative number (e.g. tol=1e-6 or "
                       "tol=1%%)", t + 4);
            goto done;
        }
        if (!e->is_num) {
            qs_err_set(err, "expect: tol= needs a number to compare with, not '%s'", v[2]);
            goto done;
        }
        e->tol = e->tol_rel ? tv / 100.0 : tv;
        e->tol_given = 1;
    }
    rc = QS_OK;
done:
    qs_split_free(v);
    if (rc != QS_OK) qs_expect_fini(e);
    return rc;
}

/* ---- lookup ------------------------------------------------------------------------------ */

/* A number of a result: JSON numbers, and the strings "inf", "-inf" and "nan" that stand for
 * the values JSON cannot hold (qs_json_real). */
static int num_of(json_t *v, double *d)
{
    return qs_json_real_get(v, d);
}

/* Lists an object's keys into buf ("a, b, c"), for "no key" messages. */
static void key_list(json_t *o, char *buf, size_t len)
{
    const char *k;
    json_t *v;
    size_t used = 0;
    buf[0] = '\0';
    json_object_foreach(o, k, v) {
        int w = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", k);
        if (w < 0 || (size_t)w >= len - used) {
            if (len > 4) snprintf(buf + len - 4, 4, "...");
            return;
        }
        used += (size_t)w;
    }
}

json_t *qs_lesson_lookup(json_t *res, const char *key, char *why, size_t whylen)
{
    json_t *cur = res;
    const char *p = key;
    char path[512];
    size_t plen = 0;
    why[0] = '\0';
    path[0] = '\0';
    if (!res) { snprintf(why, whylen, "no result to look in"); return NULL; }
    if (!*p) { snprintf(why, whylen, "empty key"); return NULL; }
    while (*p) {
        if (*p == '.') {
            p++;
            if (!*p || *p == '.' || *p == '[') {
                snprintf(why, whylen, "'%s': empty name after '.'", key);
                return NULL;
            }
        }
        if (*p == '[') {
            const char *close = strchr(p, ']');
            if (!close || close == p + 1) {
                snprintf(why, whylen, "'%s': expected [INDEX] or [FIELD=VALUE]", key);
                return NULL;
            }
            char in[256];
            snprintf(in, sizeof in, "%.*s", (int)(close - p - 1), p + 1);
            if (!json_is_array(cur)) {
                snprintf(why, whylen, "'%s' is not an array", plen ? path : "the result");
                return NULL;
            }
            const char *eq = strchr(in, '=');
            if (!eq) {
                char *end;
                long idx = strtol(in, &end, 10);
                long n = (long)json_array_size(cur);
                if (*end || end == in) {
                    snprintf(why, whylen, "'%s': '[%s]' is not an index", key, in);
                    return NULL;
                }
                if (idx < 0) idx += n;
                if (idx < 0 || idx >= n) {
                    snprintf(why, whylen, "'%s': index %s out of range (%ld values)", key, in,
                             n);
                    return NULL;
                }
                cur = json_array_get(cur, (size_t)idx);
            } else {
                char field[128];
                const char *want = eq + 1;
                double wn;
                int wnum = parse_num(want, &wn) == 0;
                size_t i;
                json_t *row, *found = NULL;
                snprintf(field, sizeof field, "%.*s", (int)(eq - in), in);
                json_array_foreach(cur, i, row) {
                    json_t *f = json_is_object(row) ? json_object_get(row, field) : NULL;
                    double fv;
                    if (!f) continue;
                    if (json_is_string(f) ? strcmp(json_string_value(f), want) == 0
                        : (wnum && num_of(f, &fv) == 0 &&
                           fabs(fv - wn) <= 1e-9 * fmax(1.0, fabs(wn)))) {
                        found = row;
                        break;
                    }
                }
                if (!found) {
                    snprintf(why, whylen, "'%s': no row with %s=%s", key, field, want);
                    return NULL;
                }
                cur = found;
            }
            if (plen < sizeof path - 1)
                plen += (size_t)snprintf(path + plen, sizeof path - plen, "[%s]", in);
            p = close + 1;
            continue;
        }
        /* a name: up to '[' or end; dots split it unless the object has the dotted key */
        size_t lim = strcspn(p, "[");
        if (!json_is_object(cur)) {
            snprintf(why, whylen, "'%s' is not an object (cannot look up '%.*s')",
                     plen ? path : "the result", (int)lim, p);
            return NULL;
        }
        size_t n = lim;
        json_t *v = NULL;
        for (;;) {
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)n, p);
            v = json_object_get(cur, name);
            if (v) break;
            /* shrink to the previous dot */
            while (n > 0 && p[n - 1] != '.') n--;
            if (n == 0) break;
            n--;
        }
        if (!v) {
            char keys[300];
            size_t first = strcspn(p, ".[");
            key_list(cur, keys, sizeof keys);
            snprintf(why, whylen, "no key '%.*s'%s%s (has: %s)", (int)first, p,
                     plen ? " in " : "", plen ? path : "", keys);
            return NULL;
        }
        if (plen < sizeof path - 1)
            plen += (size_t)snprintf(path + plen, sizeof path - plen, "%s%.*s",
                                     plen ? "." : "", (int)n, p);
        cur = v;
        p += n;
    }
    return cur;
}

/* ---- evaluation -------------------------------------------------------------------------- */

/* a in as few digits (10 to 17) as show it within a tenth of the tolerance it is checked to,
 * so a transcript or handout never shows a rounding the check did not make */
static const char *num_str(char *buf, size_t n, double a, double slack)
{
    for (int p = 10; p <= 17; p++) {
        snprintf(buf, n, "%.*g", p, a);
        double r = strtod(buf, NULL);
        if (!isfinite(a) || r == a || fabs(r - a) <= slack * 0.1) break;
    }
    return buf;
}

int qs_expect_eval(json_t *res, const qs_expect *e, char *msg, size_t msglen)
{
    char why[512];
    json_t *v = qs_lesson_lookup(res, e->key, why, sizeof why);
    const char *op = qs_op_str(e->op);
    if (!v) {
        snprintf(msg, msglen, "%s", why);
        return -1;
    }
    if (json_is_array(v)) {
        if (json_array_size(v) != 1) {
            snprintf(msg, msglen, "'%s' is an array of %zu values; pick one with %s[i]",
                     e->key, json_array_size(v), e->key);
            return -1;
        }
        v = json_array_get(v, 0);
    }
    if (json_is_object(v)) {
        snprintf(msg, msglen, "'%s' is an object; name one of its keys (%s.KEY)", e->key,
                 e->key);
        return -1;
    }
    double a;
    if (num_of(v, &a) == 0) {
        int ok;
        if (!e->is_num) {
            snprintf(msg, msglen, "'%s' is a number (%.10g), not '%s'", e->key, a, e->value);
            return -1;
        }
        double b = e->num, tol = e->tol_rel ? e->tol * fabs(b) : e->tol;
        /* a hair of slack for the decimal spelling of binary numbers */
        double slack = tol + 1e-12 * fmax(fabs(a), fabs(b));
        /* NaN equals only NaN (expect x == nan); an infinity only the same infinity */
        int eq = isnan(a) || isnan(b) ? isnan(a) && isnan(b)
                 : isinf(a) || isinf(b) ? a == b : fabs(a - b) <= slack;
        switch (e->op) {
        case QS_OP_EQ: ok = eq; break;
        case QS_OP_NE: ok = !eq; break;
        case QS_OP_LT: ok = a < b; break;
        case QS_OP_LE: ok = a <= b; break;
        case QS_OP_GT: ok = a > b; break;
        default: ok = a >= b; break;
        }
        char as[40];
        num_str(as, sizeof as, a, tol);
        if ((e->op == QS_OP_EQ || e->op == QS_OP_NE) && tol > 0)
            snprintf(msg, msglen, "%s = %s (expected %s %s, tol %g)", e->key, as, op,
                     e->value, tol);
        else
            snprintf(msg, msglen, "%s = %s (expected %s %s)", e->key, as, op, e->value);
        return ok;
    }
    if (json_is_null(v) && !e->is_num) {
        int eq = strcmp(e->value, "null") == 0;
        snprintf(msg, msglen, "%s = null (expected %s %s)", e->key, op, e->value);
        return e->op == QS_OP_EQ ? eq : !eq;
    }
    if (json_is_null(v)) {
        snprintf(msg, msglen, "%s = null (no value; a NaN or an infinity would be the "
                 "string nan or inf), expected %s %s", e->key, op, e->value);
        return e->op == QS_OP_NE ? 1 : (e->op == QS_OP_EQ ? 0 : -1);
    }
    if (json_is_boolean(v)) {
        const char *s = json_is_true(v) ? "true" : "false";
        if (strcmp(e->value, "true") && strcmp(e->value, "false")) {
            snprintf(msg, msglen, "'%s' is %s (a boolean), not comparable with '%s'", e->key,
                     s, e->value);
            return -1;
        }
        int eq = strcmp(s, e->value) == 0;
        snprintf(msg, msglen, "%s = %s (expected %s %s)", e->key, s, op, e->value);
        return e->op == QS_OP_EQ ? eq : e->op == QS_OP_NE ? !eq : -1;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (e->op != QS_OP_EQ && e->op != QS_OP_NE) {
            snprintf(msg, msglen, "'%s' is a string (\"%s\"); %s compares numbers", e->key, s,
                     op);
            return -1;
        }
        int eq = strcmp(s, e->value) == 0;
        snprintf(msg, msglen, "%s = \"%s\" (expected %s \"%s\")", e->key, s, op, e->value);
        return e->op == QS_OP_EQ ? eq : !eq;
    }
    snprintf(msg, msglen, "'%s' has a type expect cannot compare", e->key);
    return -1;
}

/* ---- quizzes ----------------------------------------------------------------------------- */

/* Lower-cases, trims, collapses runs of spaces and drops one final '.'; into a new string. */
static char *normalize(const char *s)
{
    size_t n = strlen(s), o = 0;
    char *r = malloc(n + 1);
    int space = 0;
    if (!r) return NULL;
    for (const char *p = s; *p; p++) {
        if (isspace((unsigned char)*p)) { space = o > 0; continue; }
        if (space) { r[o++] = ' '; space = 0; }
        r[o++] = (char)tolower((unsigned char)*p);
    }
    if (o && r[o - 1] == '.') o--;
    r[o] = '\0';
    return r;
}

int qs_quiz_check(const qs_quiz *q, const char *answer)
{
    int ok = 0;
    if (!q || !answer) return 0;
    char *a = normalize(answer);
    double an = 0;
    if (!a) return 0;
    int anum = parse_num(a, &an) == 0;
    for (int i = 0; i < q->nanswers && !ok; i++) {
        char *b = normalize(q->answers[i]);
        double bn;
        if (!b) break;
        if (strcmp(a, b) == 0) ok = 1;
        else if (anum && parse_num(b, &bn) == 0 && an == bn) ok = 1;
        free(b);
    }
    free(a);
    return ok && *answer ? 1 : 0;
}
